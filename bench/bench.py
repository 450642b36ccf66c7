"""The benchmark driver behind bench/run: stancekit against scikit-learn and fastText on the
public datasets in ../shared/datasets, same folds, same machine, same run.

For every dataset and system it
  1. trains on each training fold and scores the held-out fold (10-fold CV on mr, cr, subj,
     mpqa with the folds of bench/results/splits/; the official split on ibm-claim-stance; a
     claim-grouped split on emergent). The first fold of every system runs alone and is the
     one timed (wall, CPU, peak memory); the other folds then run two at a time;
  2. predicts a large CSV of sentences (bench/results/predict-input.csv) end to end with the
     model of the first fold, pinned to one core and then to two (stancekit: --jobs 1 / 2),
     one run at a time.
It prints one table and writes it with all raw numbers to bench/results/.
"""
import argparse
import concurrent.futures as futures
import csv
import datetime
import importlib.metadata
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time

import common

HERE = os.path.dirname(os.path.abspath(__file__))
PYTHON = sys.executable


# --------------------------------------------------------------------------- systems

class System:
    """One configuration of one tool. `matched` names the stancekit system a peer is compared to."""

    def __init__(self, key, label, kind, args, matched=None):
        self.key, self.label, self.kind, self.args, self.matched = key, label, kind, args, matched

    def train_command(self, data, model):
        if self.kind == "stancekit":
            return [STANCEKIT, "train", "--data", data, "--label-column", "label",
                    "--output", model, "--quiet", *self.args]
        script = os.path.join(HERE, "sk.py" if self.kind == "sklearn" else "ft.py")
        return [PYTHON, script, "train", "--data", data, "--model", model, *self.args]

    def predict_command(self, data, model, output, cores):
        """End-to-end prediction of a CSV with a `text` column; writes to `output`."""
        if self.kind == "stancekit":
            return [STANCEKIT, "predict", "--jobs", str(cores), "--model", model,
                    "--format", "jsonl", data], output
        script = os.path.join(HERE, "sk.py" if self.kind == "sklearn" else "ft.py")
        return [PYTHON, script, "predict", "--model", model, "--data", data, "--output", output], None

    def model_name(self, fold):
        suffix = {"stancekit": "json", "sklearn": "pkl", "fasttext": "bin"}[self.kind]
        return f"{self.key}-fold-{fold}.{suffix}"


SYSTEMS = [
    System("stancekit", "stancekit (defaults, alpha 1)", "stancekit", []),
    System("stancekit-a0.1", "stancekit --alpha 0.1", "stancekit", ["--alpha", "0.1"]),
    System("sklearn-C1", "sklearn TF-IDF+LR C=1", "sklearn", ["--C", "1"], matched="stancekit"),
    System("sklearn-C10", "sklearn TF-IDF+LR C=10", "sklearn", ["--C", "10"], matched="stancekit-a0.1"),
    System("fasttext", "fastText (defaults)", "fasttext", [], matched="stancekit"),
    System("fasttext-ng2", "fastText wordNgrams 2", "fasttext", ["--word-ngrams", "2"], matched="stancekit"),
]
STANCEKIT = None


# --------------------------------------------------------------------------- running

# scikit-learn's lbfgs calls BLAS through numpy/scipy. With OpenBLAS's default of one thread per
# core, its threads spin against each other and against any other load on a 2-core machine (a
# 2,000-row fit took 11 s instead of 0.2 s here), so every process runs BLAS single-threaded.
# stancekit trains one head on one thread; fastText keeps its own default (12 threads).
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")


def timed(command, stdout_path=None, pin=None):
    """Runs `command` under /usr/bin/time; returns wall s, CPU s (user + sys), peak RSS MB."""
    fd, time_file = tempfile.mkstemp(suffix=".time")
    os.close(fd)
    prefix = ["/usr/bin/time", "-f", "%e %U %S %M", "-o", time_file]
    if pin:
        prefix += ["taskset", "-c", pin]
    stdout = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    try:
        result = subprocess.run(prefix + command, stdout=stdout, stderr=subprocess.PIPE, env=ENV)
    finally:
        if stdout_path:
            stdout.close()
    with open(time_file) as f:
        last = f.read().strip().splitlines()[-1]
    os.unlink(time_file)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n"
                           + result.stderr.decode(errors="replace")[-2000:])
    wall, user, system, rss = last.split()
    return {"wall": float(wall), "cpu": float(user) + float(system), "peak_mb": int(rss) / 1024}


def score(system, model, test_csv, workdir):
    if system.kind == "stancekit":
        out = subprocess.run([STANCEKIT, "eval", "--model", model, "--data", test_csv, "--format", "json"],
                             check=True, capture_output=True, env=ENV)
        head = json.loads(out.stdout)["heads"]["label"]
        return head["accuracy"], head["macro_avg"]["f1"]
    predictions = os.path.join(workdir, os.path.basename(model) + ".pred")
    command, _ = system.predict_command(test_csv, model, predictions, 1)
    subprocess.run(command, check=True, capture_output=True, env=ENV)
    with open(predictions, encoding="utf-8") as f:
        predicted = [line.rstrip("\n") for line in f]
    gold = [r["label"] for r in common.read_csv(test_csv)]
    os.unlink(predictions)
    return common.metrics(gold, predicted)


def run_fold(system, fold, workdir, keep_model):
    train_csv = os.path.join(workdir, f"fold-{fold}-train.csv")
    test_csv = os.path.join(workdir, f"fold-{fold}-test.csv")
    model = os.path.join(workdir, system.model_name(fold))
    timing = timed(system.train_command(train_csv, model))
    accuracy, macro_f1 = score(system, model, test_csv, workdir)
    if not keep_model:
        os.unlink(model)
    return {"fold": fold, "accuracy": accuracy, "macro_f1": macro_f1, "train": timing}


def log(message):
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    load = "%.1f" % os.getloadavg()[0]
    print(f"[{stamp} load {load}] {message}", file=sys.stderr, flush=True)


def bench_dataset(name, systems, predict_input, n_predict, parallel, first_fold_only=False):
    rows = common.load(name)
    split = common.read_split(name)
    evaluations = common.evaluations(split)
    if first_fold_only:
        evaluations = evaluations[:1]
    result = {"rows": len(rows), "protocol": common.DATASETS[name][0], "systems": {}}
    with tempfile.TemporaryDirectory(prefix=f"stancekit-bench-{name}-") as workdir:
        for fold, train, test in evaluations:
            # The training rows in a fixed shuffled order: the source files are sorted by label
            # (mr: all pos, then all neg), and fastText's SGD, which reads its file in order,
            # scores 50 % on mr when trained on sorted rows. Every system gets the same file.
            train = train[:]
            random.Random(f"{common.SEED}-{name}-{fold}").shuffle(train)
            common.write_text_label(os.path.join(workdir, f"fold-{fold}-train.csv"), rows, train)
            common.write_text_label(os.path.join(workdir, f"fold-{fold}-test.csv"), rows, test)
        first = evaluations[0][0]
        folds = {s.key: [] for s in systems}
        # The timed fold: alone, one system after the other.
        for system in systems:
            log(f"{name}: {system.key} fold {first} (timed, alone)")
            folds[system.key].append(run_fold(system, first, workdir, keep_model=True))
            r = folds[system.key][-1]
            log(f"{name}: {system.key} fold {first}: acc {r['accuracy']:.4f}, "
                f"train {r['train']['wall']:.2f} s, {r['train']['peak_mb']:.0f} MB")
        # The other folds, `parallel` at a time (they give accuracy only).
        rest = [(s, fold) for s in systems for fold, _, _ in evaluations[1:]]
        if rest:
            log(f"{name}: {len(rest)} more fold runs, {parallel} at a time")
            with futures.ThreadPoolExecutor(max_workers=parallel) as pool:
                jobs = {pool.submit(run_fold, s, fold, workdir, False): (s, fold) for s, fold in rest}
                for job in futures.as_completed(jobs):
                    s, fold = jobs[job]
                    folds[s.key].append(job.result())
        # Throughput: first-fold models on the large file, pinned, one run at a time.
        for system in systems:
            model = os.path.join(workdir, system.model_name(first))
            throughput = {}
            outputs = {}
            for cores, pin in ((1, "0"), (2, "0,1")):
                output = os.path.join(workdir, f"{system.key}-predict-{cores}.out")
                command, stdout_path = system.predict_command(predict_input, model, output, cores)
                t = timed(command, stdout_path=stdout_path, pin=pin)
                t["sentences_per_s"] = n_predict / t["wall"]
                throughput[f"{cores}_core"] = t
                outputs[cores] = output
            same = _same_file(outputs[1], outputs[2])
            for path in outputs.values():
                os.unlink(path)
            log(f"{name}: {system.key} predict {n_predict} sentences: "
                f"{throughput['1_core']['sentences_per_s']:.0f}/s on 1 core, "
                f"{throughput['2_core']['sentences_per_s']:.0f}/s on 2 (outputs identical: {same})")
            fold_results = sorted(folds[system.key], key=lambda r: str(r["fold"]).zfill(4))
            accuracies = [r["accuracy"] for r in fold_results]
            f1s = [r["macro_f1"] for r in fold_results]
            result["systems"][system.key] = {
                "label": system.label,
                "folds": fold_results,
                "accuracy_mean": _mean(accuracies),
                "accuracy_sd": _sd(accuracies),
                "macro_f1_mean": _mean(f1s),
                "train_timed_fold": folds[system.key][0]["train"],
                "predict": throughput,
                "predict_outputs_identical_1_vs_2_cores": same,
            }
    return result


def _same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


def _mean(values):
    return sum(values) / len(values)


def _sd(values):
    if len(values) < 2:
        return None
    m = _mean(values)
    return (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5


# --------------------------------------------------------------------------- inputs

def make_predict_input(path, n):
    """n sentences: the texts of all six datasets, shuffled (seed 42) and cycled."""
    pool = []
    for name in common.DATASETS:
        pool += [r["text"] for r in common.load(name)]
    rng = random.Random(common.SEED)
    texts = []
    while len(texts) < n:
        batch = pool[:]
        rng.shuffle(batch)
        texts += batch
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id", "text"])
        for i, text in enumerate(texts[:n]):
            w.writerow([i + 1, text])
    return len(pool)


def machine():
    def first(path, key):
        try:
            with open(path) as f:
                for line in f:
                    if line.startswith(key):
                        return line.split(":", 1)[1].strip()
        except OSError:
            return None

    def out(command):
        try:
            return subprocess.run(command, capture_output=True, text=True, cwd=common.ROOT).stdout.strip()
        except OSError:
            return None

    mem_kb = first("/proc/meminfo", "MemTotal")
    return {
        "nproc": os.cpu_count(),
        "cpu": first("/proc/cpuinfo", "model name"),
        "memory_gib": round(int(mem_kb.split()[0]) / 1024 / 1024, 1) if mem_kb else None,
        "kernel": platform.release(),
        "rustc": out(["rustc", "--version"]),
        "python": platform.python_version(),
        "scikit-learn": importlib.metadata.version("scikit-learn"),
        "fasttext": _version("fasttext") or _version("fasttext-wheel"),
        "numpy": importlib.metadata.version("numpy"),
        "scipy": importlib.metadata.version("scipy"),
        "stancekit": out([STANCEKIT, "--version"]),
        "stancekit_sha256": out(["sha256sum", STANCEKIT]).split()[0],
        "git": out(["git", "describe", "--always", "--dirty"]),
        "git_modified": out(["git", "status", "--short", "--untracked-files=no"]),
    }


def _version(package):
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


# --------------------------------------------------------------------------- table

def table(results):
    head = ["dataset", "system", "accuracy %", "macro-F1 %", "published %", "train s (wall)",
            "train CPU s", "train peak MB", "predict sent/s 1 core", "2 cores", "2c/1c",
            "predict peak MB", "stancekit/peer: vs", "train time", "train mem",
            "sent/s 1c", "sent/s 2c", "accuracy Δ pts"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for name, d in results["datasets"].items():
        published = common.DATASETS[name][1]
        for key, s in d["systems"].items():
            acc = 100 * s["accuracy_mean"]
            acc_cell = f"{acc:.2f}" + (f" ± {100 * s['accuracy_sd']:.2f}" if s["accuracy_sd"] is not None else "")
            t = s["train_timed_fold"]
            p1, p2 = s["predict"]["1_core"], s["predict"]["2_core"]
            row = [name, key, acc_cell, f"{100 * s['macro_f1_mean']:.2f}",
                   f"{published:.1f}" if published else "—",
                   f"{t['wall']:.2f}", f"{t['cpu']:.2f}", f"{t['peak_mb']:.0f}",
                   f"{p1['sentences_per_s']:,.0f}", f"{p2['sentences_per_s']:,.0f}",
                   f"{p2['sentences_per_s'] / p1['sentences_per_s']:.2f}",
                   f"{max(p1['peak_mb'], p2['peak_mb']):.0f}"]
            matched = next(x.matched for x in SYSTEMS if x.key == key)
            if matched and matched in d["systems"]:
                m = d["systems"][matched]
                mt, m1, m2 = m["train_timed_fold"], m["predict"]["1_core"], m["predict"]["2_core"]
                row += [matched,
                        f"{mt['wall'] / t['wall']:.2f}×",
                        f"{mt['peak_mb'] / t['peak_mb']:.2f}×",
                        f"{m1['sentences_per_s'] / p1['sentences_per_s']:.2f}×",
                        f"{m2['sentences_per_s'] / p2['sentences_per_s']:.2f}×",
                        f"{100 * (m['accuracy_mean'] - s['accuracy_mean']):+.2f}"]
            else:
                row += [""] * 6
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def header(results):
    m = results["machine"]
    lines = [
        f"stancekit benchmark, {results['started']} to {results['finished']} ({results['minutes']:.1f} min)",
        f"machine: {m['nproc']} cores, {m['cpu']}, {m['memory_gib']} GiB; load average at start "
        f"{results['load_start']}, at end {results['load_end']}",
        f"versions: {m['stancekit']} (git {m['git']}, binary sha256 {m.get('stancekit_sha256', '?')[:12]}), {m['rustc']}, Python {m['python']}, "
        f"scikit-learn {m['scikit-learn']}, fasttext {m['fasttext']}, numpy {m['numpy']}, scipy {m['scipy']}",
        f"tracked files changed since that commit: {' '.join(l.split()[-1] for l in (m['git_modified'] or '').splitlines()) or 'none'}",
        f"predict input: {results['predict_rows']:,} sentences (the {results['predict_pool']:,} texts of all "
        f"datasets, shuffled and cycled), end to end: process start, model load, read, label, write",
    ]
    if results.get("first_fold_only"):
        lines.append("ACCURACY IS THE FIRST FOLD ONLY (--first-fold-only): a timing run, not the 10-fold protocol")
    return "\n".join(lines)


NOTES = """Notes: accuracy and macro-F1 are means over the 10 folds (± sample SD of fold accuracy) for mr,
cr, subj, mpqa, and the single test split for ibm-claim-stance and emergent. "train" is the first fold
(or the split's training set) trained alone: wall and CPU seconds and peak RSS of the whole training
process (read CSV, fit, write model). Predict is the first-fold model on the predict input, pinned with
taskset to core 0 (1 core) or cores 0,1 (2 cores); stancekit gets --jobs 1 / --jobs 2, the peers run
their ordinary single-process predict both times. BLAS runs single-threaded
(OPENBLAS_NUM_THREADS=1) in every process; fastText trains with its default 12 threads. Ratios are stancekit/peer against the stancekit row
named in "vs" (same regularization for scikit-learn: C = 1/alpha): train time and memory < 1 and
sent/s > 1 favour stancekit; accuracy Δ = stancekit − peer in points."""


def main():
    global STANCEKIT
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stancekit", required=True, help="the stancekit binary (release build)")
    p.add_argument("--datasets", nargs="+", default=list(common.DATASETS), choices=list(common.DATASETS))
    p.add_argument("--systems", nargs="+", default=[s.key for s in SYSTEMS], choices=[s.key for s in SYSTEMS])
    p.add_argument("--predict-rows", type=int, default=100_000)
    p.add_argument("--parallel", type=int, default=2, help="untimed folds run this many at a time")
    p.add_argument("--first-fold-only", action="store_true",
                   help="only the timed first fold and the predict runs (timing check; the accuracy "
                        "columns are then one fold, not the protocol)")
    p.add_argument("--output", default=os.path.join(common.RESULTS, "results.json"))
    a = p.parse_args()
    STANCEKIT = os.path.abspath(a.stancekit)
    systems = [s for s in SYSTEMS if s.key in a.systems]

    started = time.time()
    results = {"started": datetime.datetime.now().isoformat(timespec="seconds"),
               "first_fold_only": a.first_fold_only,
               "load_start": "%.2f %.2f %.2f" % os.getloadavg()}
    print("splits:", file=sys.stderr)
    subprocess.run([PYTHON, os.path.join(HERE, "splits.py")], check=True, stdout=sys.stderr)
    predict_input = os.path.join(common.RESULTS, "predict-input.csv")
    results["predict_pool"] = make_predict_input(predict_input, a.predict_rows)
    results["predict_rows"] = a.predict_rows
    results["machine"] = machine()
    results["systems"] = {s.key: {"label": s.label, "kind": s.kind, "args": s.args} for s in systems}
    results["datasets"] = {}
    for name in a.datasets:
        results["datasets"][name] = bench_dataset(name, systems, predict_input, a.predict_rows, a.parallel,
                                                  a.first_fold_only)
    results["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    results["minutes"] = (time.time() - started) / 60
    results["load_end"] = "%.2f %.2f %.2f" % os.getloadavg()

    text = header(results) + "\n\n" + table(results) + "\n\n" + NOTES + "\n"
    os.makedirs(os.path.dirname(a.output), exist_ok=True)
    with open(a.output, "w") as f:
        json.dump(results, f, indent=2)
    with open(os.path.join(os.path.dirname(a.output), "table.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
