#!/usr/bin/env python3
"""The project's own corpus with the usual Python choices, for the model card's comparison.

Trains scikit-learn (TF-IDF word 1-2-grams + LogisticRegression, C = 10, the shipped model's
alpha 0.1) and fastText (supervised, 25 epochs, word bigrams) on data/train.csv and scores them on
data/test.csv, per head. Run after bench/run has made the virtual environment:

    bench/.venv/bin/python bench/corpus.py
"""
import csv
import os
import tempfile

import fasttext
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def load(name):
    with open(os.path.join(ROOT, "data", name), encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def scores(truth, predicted):
    return f"accuracy {accuracy_score(truth, predicted):.3f}  macro-F1 {f1_score(truth, predicted, average='macro'):.3f}"


def main():
    train, test = load("train.csv"), load("test.csv")
    for head in ["stance", "sentiment"]:
        labels, truth = [r[head] for r in train], [r[head] for r in test]
        vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        x_train = vectorizer.fit_transform([r["text"] for r in train])
        x_test = vectorizer.transform([r["text"] for r in test])
        model = LogisticRegression(C=10, max_iter=3000).fit(x_train, labels)
        print(f"{head:<10} scikit-learn  {scores(truth, model.predict(x_test))}")

        # fastText reads one "__label__X text" line per example.
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "train.txt")
            with open(path, "w", encoding="utf-8") as handle:
                for r in train:
                    handle.write(f"__label__{r[head]} {' '.join(r['text'].lower().split())}\n")
            model = fasttext.train_supervised(path, epoch=25, wordNgrams=2, lr=0.5, verbose=0, seed=1, thread=1)
        predicted, _ = model.predict([" ".join(r["text"].lower().split()) for r in test], k=1)
        print(f"{head:<10} fastText      {scores(truth, [p[0].removeprefix('__label__') for p in predicted])}")


if __name__ == "__main__":
    main()
