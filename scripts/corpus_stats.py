#!/usr/bin/env python3
"""Prints Markdown tables of the corpus counts (per split, label, topic and register) for docs/DATA.md.

Usage: python3 scripts/corpus_stats.py [data/train.csv data/test.csv]
Standard library only.
"""
import collections
import csv
import statistics
import sys

paths = sys.argv[1:] or ["data/train.csv", "data/test.csv"]
splits = {path: list(csv.DictReader(open(path, encoding="utf-8"))) for path in paths}


def table(title, key, values=None):
    counts = {p: collections.Counter(key(r) for r in rows) for p, rows in splits.items()}
    keys = values or sorted(set().union(*counts.values()), key=lambda k: -sum(c[k] for c in counts.values()))
    print(f"\n| {title} | " + " | ".join(splits) + " | all |")
    print("|---|" + "---:|" * (len(splits) + 1))
    for k in keys:
        cells = [counts[p][k] for p in splits]
        print(f"| {k} | " + " | ".join(map(str, cells)) + f" | {sum(cells)} |")


print("| split | sentences | median words | min | max |")
print("|---|---:|---:|---:|---:|")
for path, rows in splits.items():
    lengths = [len(r["text"].split()) for r in rows]
    print(f"| {path} | {len(rows)} | {statistics.median(lengths):g} | {min(lengths)} | {max(lengths)} |")
table("stance", lambda r: r["stance"])
table("sentiment", lambda r: r["sentiment"])
table("stance / sentiment", lambda r: f"{r['stance']} / {r['sentiment']}")
table("topic", lambda r: r["topic"])
table("register", lambda r: r["register"])
