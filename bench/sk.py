"""scikit-learn peer: TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2) +
LogisticRegression(solver="lbfgs", C=C). Everything else is scikit-learn's default, except
max_iter=1000 so that no fold stops unconverged (C=10 can need more than the default 100).

  sk.py train   --data TRAIN.csv --C C --model OUT.pkl
  sk.py predict --model MODEL.pkl --data IN.csv --output LABELS.txt   (one label per line)

Both read CSV with a `text` (and for train a `label`) column with the standard csv module.
"""
import argparse
import csv
import pickle
import sys
import time


def read(path, with_labels):
    texts, labels = [], []
    with open(path, newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            texts.append(row["text"])
            if with_labels:
                labels.append(row["label"])
    return texts, labels


def main():
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["train", "predict"])
    p.add_argument("--data", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--C", type=float, default=1.0)
    p.add_argument("--output")
    a = p.parse_args()

    start = time.perf_counter()
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    if a.command == "train":
        texts, labels = read(a.data, True)
        model = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
            LogisticRegression(solver="lbfgs", C=a.C, max_iter=1000),
        )
        fit_start = time.perf_counter()
        model.fit(texts, labels)
        fit = time.perf_counter() - fit_start
        with open(a.model, "wb") as f:
            pickle.dump(model, f, protocol=pickle.HIGHEST_PROTOCOL)
        lr = model[-1]
        print(f"features {len(model[0].vocabulary_)}, iterations {int(max(lr.n_iter_))}, "
              f"fit {fit:.3f} s, total {time.perf_counter() - start:.3f} s", file=sys.stderr)
    else:
        with open(a.model, "rb") as f:
            model = pickle.load(f)
        texts, _ = read(a.data, False)
        labels = model.predict(texts)
        with open(a.output, "w", encoding="utf-8") as f:
            f.write("\n".join(labels))
            f.write("\n")


if __name__ == "__main__":
    main()
