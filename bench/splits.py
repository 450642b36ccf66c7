"""Writes the split of every dataset once: bench/results/splits/NAME.csv with columns row,fold.

An existing split file is kept (so every system and every rerun uses the same folds); delete
bench/results/splits/ to regenerate. The assignment is deterministic anyway (seed 42)."""
import csv
import os
import sys

import common


def main():
    os.makedirs(common.SPLITS, exist_ok=True)
    for name in common.DATASETS:
        path = common.split_path(name)
        rows = common.load(name)
        if os.path.exists(path):
            split = common.read_split(name)
            if len(split) != len(rows):
                sys.exit(f"{path}: {len(split)} rows but the dataset has {len(rows)}; delete it to regenerate")
            state = "kept"
        else:
            split = common.make_split(name, rows)
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["row", "fold"])
                for i, fold in enumerate(split):
                    w.writerow([i, fold])
            state = "written"
        sizes = {}
        for fold in split:
            sizes[fold] = sizes.get(fold, 0) + 1
        print(f"  {name}: {len(rows)} rows, {state} {path} ({', '.join(f'{k}: {v}' for k, v in sorted(sizes.items()))})")


if __name__ == "__main__":
    main()
