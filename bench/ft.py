"""fastText peer: fasttext.train_supervised with its defaults (lr 0.1, dim 100, epoch 5,
wordNgrams 1, minCount 1, loss softmax, 12 threads), or with --word-ngrams 2.

fastText wants whitespace-separated tokens, so texts are lowercased and punctuation is split
off words (the preprocessing of fastText's own tutorial); the other systems get the raw text.

  ft.py train   --data TRAIN.csv [--word-ngrams 2] --model OUT.bin
  ft.py predict --model MODEL.bin --data IN.csv --output LABELS.txt   (one label per line)
"""
import argparse
import csv
import os
import re
import sys
import tempfile
import time

TOKEN = re.compile(r"\w+(?:'\w+)?|[^\w\s]")


def clean(text):
    return " ".join(TOKEN.findall(text.lower()))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["train", "predict"])
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--word-ngrams", type=int, default=1)
    p.add_argument("--output")
    a = p.parse_args()

    start = time.perf_counter()
    import fasttext

    if a.command == "train":
        fd, path = tempfile.mkstemp(suffix=".txt")
        with os.fdopen(fd, "w", encoding="utf-8") as out, open(a.data, newline="", encoding="utf-8") as f:
            for row in csv.DictReader(f):
                out.write(f"__label__{row['label']} {clean(row['text'])}\n")
        fit_start = time.perf_counter()
        model = fasttext.train_supervised(path, wordNgrams=a.word_ngrams, verbose=0)
        fit = time.perf_counter() - fit_start
        os.unlink(path)
        model.save_model(a.model)
        print(f"words {len(model.words)}, fit {fit:.3f} s, total {time.perf_counter() - start:.3f} s",
              file=sys.stderr)
    else:
        model = fasttext.load_model(a.model)
        with open(a.data, newline="", encoding="utf-8") as f:
            texts = [clean(row["text"]) for row in csv.DictReader(f)]
        labels, _ = model.predict(texts, k=1)
        with open(a.output, "w", encoding="utf-8") as f:
            for label in labels:
                f.write(label[0][len("__label__"):])
                f.write("\n")


if __name__ == "__main__":
    main()
