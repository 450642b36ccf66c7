"""Shared helpers of the benchmark: dataset loading, the fixed splits, metrics.

Every system reads the same rows and the same split file (bench/results/splits/NAME.csv,
written once by splits.py), so all systems are scored on identical folds.
"""
import csv
import hashlib
import os
import random

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS_DIR = os.environ.get("STANCEKIT_DATASETS", os.path.join(ROOT, "..", "shared", "datasets"))
RESULTS = os.path.join(ROOT, "bench", "results")
SPLITS = os.path.join(RESULTS, "splits")

CV_FOLDS = 10
SEED = 42

# name -> (protocol, published accuracy in %, where the published number comes from)
DATASETS = {
    "mr": ("10-fold CV", 79.4, "NBSVM-bi, Wang & Manning 2012 (via Kim 2014)"),
    "cr": ("10-fold CV", 81.8, "NBSVM-bi, Wang & Manning 2012 (via Kim 2014)"),
    "subj": ("10-fold CV", 93.2, "NBSVM-bi, Wang & Manning 2012 (via Kim 2014)"),
    "mpqa": ("10-fold CV", 86.3, "NBSVM-bi, Wang & Manning 2012 (via Kim 2014)"),
    "ibm-claim-stance": ("official train/test", None, "none given in its README"),
    "emergent": ("claim-grouped 80/20", 73.0, "LR about 73 %, Ferreira & Vlachos 2016 (uses the claim too; their own split)"),
}


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load(name):
    """The rows of a dataset as a list of dicts with at least text and label, in a fixed order
    (ibm-claim-stance: train.csv rows, then test.csv rows)."""
    folder = os.path.join(DATASETS_DIR, name)
    if name == "ibm-claim-stance":
        rows = []
        for part in ("train", "test"):
            for r in read_csv(os.path.join(folder, part + ".csv")):
                r["_part"] = part
                rows.append(r)
        return rows
    return read_csv(os.path.join(folder, "all.csv"))


def make_split(name, rows):
    """Fold of every row: 0..9 for the CV datasets (stratified by label, shuffled with SEED),
    'train' / 'test' for the single-split ones."""
    protocol = DATASETS[name][0]
    if protocol == "10-fold CV":
        rng = random.Random(SEED)
        by_label = {}
        for i, r in enumerate(rows):
            by_label.setdefault(r["label"], []).append(i)
        fold = [None] * len(rows)
        position = 0  # continues across labels so fold sizes differ by at most one
        for label in sorted(by_label):
            indices = by_label[label]
            rng.shuffle(indices)
            for i in indices:
                fold[i] = str(position % CV_FOLDS)
                position += 1
        return fold
    if name == "ibm-claim-stance":
        return [r["_part"] for r in rows]
    if name == "emergent":
        # A claim goes to test when the first 8 hex digits of SHA-256(claim_id) are 0 mod 5:
        # about 20 % of the 300 claims, no claim on both sides, no randomness involved.
        def test_claim(claim_id):
            return int(hashlib.sha256(claim_id.encode()).hexdigest()[:8], 16) % 5 == 0
        return ["test" if test_claim(r["claim_id"]) else "train" for r in rows]
    raise ValueError(name)


def split_path(name):
    return os.path.join(SPLITS, name + ".csv")


def read_split(name):
    with open(split_path(name), newline="") as f:
        return [r["fold"] for r in csv.DictReader(f)]


def evaluations(split):
    """The (train indices, test indices) pairs of a split, in fold order."""
    if "test" in split:
        train = [i for i, f in enumerate(split) if f == "train"]
        test = [i for i, f in enumerate(split) if f == "test"]
        return [("test", train, test)]
    folds = sorted(set(split), key=int)
    return [
        (k, [i for i, f in enumerate(split) if f != k], [i for i, f in enumerate(split) if f == k])
        for k in folds
    ]


def write_text_label(path, rows, indices):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i in indices:
            w.writerow([rows[i]["text"], rows[i]["label"]])


def metrics(gold, predicted):
    """Accuracy and macro-F1 (scikit-learn's definition: mean of per-class F1 over the classes
    in gold or predicted; an undefined F1 counts as 0)."""
    n = len(gold)
    accuracy = sum(g == p for g, p in zip(gold, predicted)) / n
    f1s = []
    for c in sorted(set(gold) | set(predicted)):
        tp = sum(g == c and p == c for g, p in zip(gold, predicted))
        fp = sum(g != c and p == c for g, p in zip(gold, predicted))
        fn = sum(g == c and p != c for g, p in zip(gold, predicted))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return accuracy, sum(f1s) / len(f1s)
