#!/usr/bin/env python3
"""Writes N made-up articles into a directory, for timing `predict` and `report` on many files.

Each article is a headline, a dateline and 6 to 10 paragraphs drawn (with a fixed seed) from the
hand-written articles of tests/fixtures/attribution, so every sentence is one written for this
project. The files are for measurements only: do not commit them.

    scripts/generate-articles.py /tmp/articles 10000 [--seed 7]
"""
import argparse
import pathlib
import random

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCES = ROOT / "tests" / "fixtures" / "attribution"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=pathlib.Path)
    parser.add_argument("count", type=int)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    headlines, datelines, paragraphs = [], [], []
    for path in sorted(SOURCES.glob("*.txt")):
        blocks = [b.strip() for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
        headlines.append(blocks[0])
        first = blocks[1]
        # "CITY, Month D. /Wire/. First sentence ..." -> the dateline and the rest.
        marker = "/Wire/."
        if marker in first:
            dateline, rest = first.split(marker, 1)
            datelines.append(dateline + marker)
            paragraphs.append(rest.strip())
        else:
            paragraphs.append(first)
        paragraphs.extend(blocks[2:])

    rng = random.Random(args.seed)
    args.directory.mkdir(parents=True, exist_ok=True)
    width = len(str(args.count))
    for i in range(args.count):
        body = rng.sample(paragraphs, rng.randint(6, 10))
        text = rng.choice(headlines) + "\n\n" + rng.choice(datelines) + " " + "\n\n".join(body) + "\n"
        (args.directory / f"article-{i:0{width}d}.txt").write_text(text, encoding="utf-8")
    print(f"wrote {args.count} articles to {args.directory}")


if __name__ == "__main__":
    main()
