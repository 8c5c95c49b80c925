"""sklearn peers of pctr's FTRL logistic regression (bench/learners.ts runs this with /usr/bin/python3).

quality TRAIN.csr TEST.csr      SGDClassifier(log_loss) and LogisticRegression (saga) on pctr's hashed features,
                                regularization chosen on the last rows of TRAIN, then refit on all of TRAIN
throughput TRAIN.csr            one SGD epoch over a pre-hashed sparse matrix, median of --repeats runs
e2e RAW.tsv                     sklearn's own end to end on a Criteo TSV: parse, FeatureHasher, SGD
Prints one JSON object on stdout. examples_per_s counts CPU seconds of this process (one core).
"""
import argparse
import gzip
import json
import operator
import statistics
import sys
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction import FeatureHasher
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.metrics import log_loss, roc_auc_score

warnings.filterwarnings("ignore", category=ConvergenceWarning)

# Regularization grids; each model keeps the value with the best logloss on the last rows of the
# training split (time order), then refits on the whole training split. pctr's FTRL is tuned the same way.
SGD_ALPHAS = [1e-5, 1e-4, 1e-3, 3e-3, 1e-2]
LR_CS = [0.01, 0.03, 0.1, 0.3, 1.0]


def logistic_regression(c):
    """sklearn's L2 LogisticRegression with the 'saga' solver (also the LR stage of xgb_gbdt.py's GBDT+LR).

    Not liblinear: on the zoo's 900k-row generated file (2^20 hashed columns, C = 1) liblinear ran over
    15 min. saga minimizes the same objective (liblinear also penalizes the intercept) in ~2.5 min there
    (one thread, 100 epochs: sklearn's default max_iter), within 0.0001 AUC of lbfgs after 1000
    iterations (~3 min on two threads) and at a lower training objective; on the samples its AUC is
    within 0.002 of liblinear's at every C of the grid. SGDClassifier (alpha = 1 / (C n)) was faster but
    0.012 AUC weaker on the generated file. saga converges well on 0/1 features like these.
    """
    return LogisticRegression(C=c, solver="saga", max_iter=100, tol=1e-4, random_state=1)


MODELS = {
    "sklearn_sgd": ("alpha", SGD_ALPHAS, lambda a: SGDClassifier(loss="log_loss", alpha=a, max_iter=1000, tol=1e-3, random_state=1)),
    "sklearn_lr": ("C", LR_CS, logistic_regression),
}


def read_csr(path):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw[:8].tobytes() != b"PCTRCSR1":
        sys.exit(f"{path} is not a pctr CSR file")
    rows, nnz, bits = (int(v) for v in raw[8:20].view(np.uint32))
    at = 24
    offsets = raw[at : at + 4 * (rows + 1)].view(np.int32)
    at += 4 * (rows + 1)
    indices = raw[at : at + 4 * nnz].view(np.int32)
    at += 4 * nnz
    labels = raw[at : at + rows].astype(np.int64)
    x = sp.csr_matrix((np.ones(nnz, dtype=np.float64), indices, offsets), shape=(rows, 1 << bits))
    return x, labels


def scores(model, x, y):
    p = model.predict_proba(x)[:, 1]
    return {"auc": roc_auc_score(y, p), "logloss": log_loss(y, p, labels=[0, 1])}


def quality(args):
    xtr, ytr = read_csr(args.train)
    xte, yte = read_csr(args.test)
    cut = int(xtr.shape[0] * (1 - args.valid_fraction))
    out = {}
    for name, (param, grid, make) in MODELS.items():
        if args.c is not None and name != "sklearn_lr":
            continue
        if args.c is not None:
            best = args.c
        else:
            valid = {v: scores(make(v).fit(xtr[:cut], ytr[:cut]), xtr[cut:], ytr[cut:])["logloss"] for v in grid}
            best = min(grid, key=lambda v: valid[v])
        model = make(best)
        t0, c0 = time.perf_counter(), time.process_time()
        model.fit(xtr, ytr)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        out[name] = {**scores(model, xte, yte), param: best, "fit_seconds": seconds, "examples_per_s": xtr.shape[0] / cpu, "score100_ms": score100_ms(model, xte)}
    return out


def score100_ms(model, x, repeats=1000):
    """Median milliseconds of predict_proba on 100 test rows (the zoo benchmark's scoring time)."""
    rows = x[:100]
    for _ in range(50):
        model.predict_proba(rows)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        model.predict_proba(rows)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def timed(fn, repeats):
    """Median wall and CPU seconds of `repeats` runs (CPU time: the share of one core actually used)."""
    walls, cpus = [], []
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def throughput(args):
    x, y = read_csr(args.train)
    wall, cpu = timed(lambda: SGDClassifier(loss="log_loss", alpha=1e-5, random_state=1).partial_fit(x, y, classes=[0, 1]), args.repeats)
    return {"rows": x.shape[0], "seconds": wall, "cpu_seconds": cpu, "examples_per_s": x.shape[0] / cpu}


def criteo_rows(path, chunk):
    """Raw rows as `field=value` string tokens (counts as their text), the plain FeatureHasher input."""
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    names = [f"{i}=" for i in range(1, 40)]
    tokens, labels = [], []
    with opener(path, "rt") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 40:
                continue
            labels.append(int(parts[0]))
            tokens.append(list(map(operator.add, names, parts[1:])))
            if len(labels) == chunk:
                yield tokens, labels
                tokens, labels = [], []
    if labels:
        yield tokens, labels


def e2e(args):
    rows = 0

    def run():
        nonlocal rows
        hasher = FeatureHasher(n_features=1 << args.bits, input_type="string", alternate_sign=False)
        model = SGDClassifier(loss="log_loss", alpha=1e-5, random_state=1)
        rows = 0
        for tokens, labels in criteo_rows(args.raw, 100_000):
            model.partial_fit(hasher.transform(tokens), labels, classes=[0, 1])
            rows += len(labels)

    wall, cpu = timed(run, args.repeats)
    return {"rows": rows, "seconds": wall, "cpu_seconds": cpu, "examples_per_s": rows / cpu}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("train")
    q.add_argument("test")
    q.add_argument("--valid-fraction", type=float, default=1 / 9)
    q.add_argument("--c", type=float, default=None, help="LogisticRegression only, with this C instead of the grid (large files)")
    t = sub.add_parser("throughput")
    t.add_argument("train")
    t.add_argument("--repeats", type=int, default=3)
    e = sub.add_parser("e2e")
    e.add_argument("raw")
    e.add_argument("--bits", type=int, default=20)
    e.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    result = {"quality": quality, "throughput": throughput, "e2e": e2e}[args.cmd](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
