#!/usr/bin/env python3
"""Checks a batch of newly written corpus sentences and appends it to a split of data/.

Usage:
  python3 scripts/corpus/batch.py build  DRAFT.txt PREFIX BATCH.csv  # number a draft into a batch
  python3 scripts/corpus/batch.py check  BATCH.csv PREFIX        # a writer's self-check
  python3 scripts/corpus/batch.py append BATCH.csv PREFIX train|test

A draft has one sentence per line, `stance|sentiment|topic|register|text`; lines starting with `#`
(an article's title, say) and blank lines are skipped. `build` numbers the sentences PREFIX-0001, ...
in order and writes the CSV. `check` reports every problem (schema, labels, ids, repeats and near-repeats within the batch, near
copies of the corpus and of the seed articles in ../shared/seeds when present) and exits non-zero
if there is one. `append` drops the rows that repeat or nearly copy the corpus (exact texts
anywhere; near copies of the other split, so that no test sentence nearly copies a training one),
reports what it dropped, and appends the rest. The near-copy rule is the one tests/corpus.rs
applies: word 4-gram Jaccard > 0.5 after masking capitalized words and numbers, for lines with at
least six ordinary words. Standard library only.
"""
import collections
import csv
import glob
import os
import re
import sys

HEADER = ["id", "text", "stance", "sentiment", "topic", "register"]
STANCES = {"accusatory", "conciliatory", "conditional", "neutral"}
SENTIMENTS = {"negative", "neutral", "positive"}
TOPICS = {
    "diplomacy", "military", "trade", "territorial", "energy", "human-rights", "migration",
    "finance", "cyber", "humanitarian", "sanctions", "elections", "prisoners", "arms-control",
    "terrorism", "climate", "health", "space-tech", "media", "summits", "espionage",
}
REGISTERS = {"reported", "narration", "quote", "dateline", "headline", "long", "fragment", "question"}
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
SPLITS = {"train": os.path.join(ROOT, "data", "train.csv"), "test": os.path.join(ROOT, "data", "test.csv")}


def words(text):
    return [w for w in re.split(r"[^\w']+", text) if w]


def shingles(text, n=4):
    masked = ["X" if w[0].isupper() or w[0].isdigit() else w.lower() for w in words(text)]
    return {tuple(masked[i:i + n]) for i in range(len(masked) - n + 1)}


def ordinary_words(text):
    return sum(1 for w in re.split(r"[^A-Za-z]+", text) if len(w) >= 2 and w.islower())


def normalized(text):
    return " ".join(text.split()).lower()


class NearIndex:
    """Finds rows whose masked word n-gram sets overlap a query by Jaccard > 0.5."""

    def __init__(self, texts, n=4):
        self.n = n
        self.sets = [shingles(t, n) for t in texts]
        self.index = collections.defaultdict(list)
        for i, s in enumerate(self.sets):
            for g in s:
                self.index[g].append(i)

    def matches(self, text, threshold=0.5):
        query = shingles(text, self.n)
        if len(query) < 4 or ordinary_words(text) < 6:
            return []
        shared = collections.Counter()
        for g in query:
            for i in self.index.get(g, ()):
                shared[i] += 1
        found = []
        for i, common in shared.items():
            jaccard = common / (len(query) + len(self.sets[i]) - common)
            if jaccard > threshold:
                found.append((i, jaccard))
        return found


def read_rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        rows = []
        for number, record in enumerate(reader, start=2):
            rows.append((number, record))
    return header, rows


def corpus():
    texts = {}
    for split, path in SPLITS.items():
        with open(path, encoding="utf-8", newline="") as f:
            texts[split] = [(r["id"], r["text"]) for r in csv.DictReader(f)]
    return texts


def seed_sentences():
    sentences = []
    for path in sorted(glob.glob(os.path.join(ROOT, "..", "shared", "seeds", "*.txt"))):
        with open(path, encoding="utf-8") as f:
            sentences += [s for s in re.split(r"(?<=[.!?])\s+", f.read()) if len(words(s)) >= 6]
    return sentences


def check(path, prefix):
    """Returns (problems, overlaps). Problems (schema, a text twice in the batch, closeness to a
    seed article) stop an append; overlaps (near-repeats in the batch, texts or near copies of the
    corpus) are what `append` drops row by row."""
    problems, overlaps = [], []
    header, rows = read_rows(path)
    if header != HEADER:
        problems.append(f"{path}:1: header must be {','.join(HEADER)}, found {header}")
    ids, texts = set(), {}
    good = []
    for number, record in rows:
        where = f"{path}:{number}"
        if len(record) != 6:
            problems.append(f"{where}: {len(record)} fields, expected 6 (quote texts that hold commas)")
            continue
        rid, text, stance, sentiment, topic, register = record
        if not re.fullmatch(re.escape(prefix) + r"-\d{4}", rid):
            problems.append(f"{where}: id {rid!r} is not {prefix}-NNNN")
        if rid in ids:
            problems.append(f"{where}: duplicate id {rid}")
        ids.add(rid)
        if not text.strip():
            problems.append(f"{where}: empty text")
        if stance not in STANCES:
            problems.append(f"{where}: stance {stance!r} not one of {sorted(STANCES)}")
        if sentiment not in SENTIMENTS:
            problems.append(f"{where}: sentiment {sentiment!r} not one of {sorted(SENTIMENTS)}")
        if topic not in TOPICS:
            problems.append(f"{where}: topic {topic!r} not one of {sorted(TOPICS)}")
        if register not in REGISTERS:
            problems.append(f"{where}: register {register!r} not one of {sorted(REGISTERS)}")
        key = normalized(text)
        if key in texts:
            problems.append(f"{where}: same text as line {texts[key]}")
        texts.setdefault(key, number)
        good.append((number, rid, text, stance, sentiment))
    within = NearIndex([t for _, _, t, _, _ in good], n=3)
    for k, (number, rid, text, _, _) in enumerate(good):
        for i, j in within.matches(text):
            if i > k:
                overlaps.append(f"{path}:{number}: near-repeat of line {good[i][0]} in the batch (trigram Jaccard {j:.2f})")
    existing = corpus()
    exact = {normalized(t): rid for split in existing.values() for rid, t in split}
    for number, rid, text, _, _ in good:
        if normalized(text) in exact:
            overlaps.append(f"{path}:{number}: text already in the corpus as {exact[normalized(text)]}")
    for split, rows_of_split in existing.items():
        index = NearIndex([t for _, t in rows_of_split])
        for number, rid, text, _, _ in good:
            for i, j in index.matches(text):
                overlaps.append(f"{path}:{number}: near copy of {split} row {rows_of_split[i][0]} (Jaccard {j:.2f}): {rows_of_split[i][1]}")
    seeds = seed_sentences()
    if seeds:
        seed_index = NearIndex(seeds, n=3)
        for number, rid, text, _, _ in good:
            query = shingles(text, 3)
            for i, _ in seed_index.matches(text, threshold=0.0):
                overlap = len(query & seed_index.sets[i]) / max(1, len(query))
                if overlap > 0.5:
                    problems.append(f"{path}:{number}: shares {overlap:.0%} of its word trigrams with a seed-article sentence")
    counts = collections.Counter(s for _, _, _, s, _ in good)
    sentiments = collections.Counter(s for _, _, _, _, s in good)
    print(f"{path}: {len(rows)} rows; stance {dict(counts)}; sentiment {dict(sentiments)}")
    return problems, overlaps


def append(path, prefix, split):
    # Schema problems stop the append; overlaps with the corpus are dropped row by row below.
    problems, _ = check(path, prefix)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    existing = corpus()
    other = "test" if split == "train" else "train"
    exact = {normalized(t) for s in existing.values() for _, t in s}
    other_index = NearIndex([t for _, t in existing[other]])
    _, rows = read_rows(path)
    kept, dropped = [], []
    for number, record in rows:
        text = record[1]
        if normalized(text) in exact:
            dropped.append(f"line {number} ({record[0]}): text already in the corpus")
        elif other_index.matches(text):
            dropped.append(f"line {number} ({record[0]}): near copy of a {other} sentence")
        else:
            exact.add(normalized(text))
            kept.append(record)
    with open(SPLITS[split], "a", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerows(kept)
    for d in dropped:
        print("dropped", d)
    print(f"appended {len(kept)} of {len(rows)} rows to {SPLITS[split]}")


def build(draft, prefix, out):
    records, problems = [], []
    with open(draft, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split("|", 4)
            if len(parts) != 5:
                problems.append(f"{draft}:{number}: expected stance|sentiment|topic|register|text")
                continue
            stance, sentiment, topic, register, text = (p.strip() for p in parts)
            records.append([f"{prefix}-{len(records) + 1:04d}", text, stance, sentiment, topic, register])
    if problems:
        print("\n".join(problems), file=sys.stderr)
        sys.exit(1)
    with open(out, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(records)
    print(f"wrote {len(records)} rows to {out}")


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "build":
        build(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    if len(sys.argv) == 4 and sys.argv[1] == "check":
        problems, overlaps = check(sys.argv[2], sys.argv[3])
        problems += overlaps
        for p in problems:
            print(p)
        print(f"{len(problems)} problems")
        sys.exit(1 if problems else 0)
    if len(sys.argv) == 5 and sys.argv[1] == "append" and sys.argv[4] in SPLITS:
        append(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main()
