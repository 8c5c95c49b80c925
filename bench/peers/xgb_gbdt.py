"""xgboost peers of pctr's GBDT and GBDT+LR (bench/zoo/gbdt.ts runs this with /usr/bin/python3).

gbdt TRAIN.mat VALID.mat TEST.mat [params]
    xgboost `hist` (grow_policy=lossguide, nthread=2) on the feature matrices pctr's GBDT trains on
    (numeric columns, categorical count and out-of-fold click rate), early stopping on VALID.
gbdt-lr TRAIN.mat VALID.mat LR.mat LR.csr TEST.mat TEST.csr [params] [--lr-c C]
    He et al. 2014 with the same split as pctr's GBDT+LR: xgboost trees on TRAIN (early stopping on
    VALID), their leaves on the LR rows one-hot encoded (plus pctr's hashed raw features from the
    .csr files), then sklearn LogisticRegression with sklearn_lr.py's solver (saga: liblinear
    took over 15 min on the generated file's rows; see logistic_regression there).

A .mat file is "PCTRMAT1", u32 rows, u32 cols, f32 values column-major [cols][rows] (NaN missing),
u8 labels[rows], all little-endian; .csr files are bench/lib/hashed-csr.ts's. Prints one JSON object:
auc, logloss, train_s (wall, DMatrix construction included), train_cpu_s, trees, rounds,
score100_ms (median in-place prediction of 100 rows).
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np
import scipy.sparse as sp
import xgboost as xgb
from sklearn.metrics import log_loss, roc_auc_score
from sklearn_lr import logistic_regression


def read_mat(path):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw[:8].tobytes() != b"PCTRMAT1":
        sys.exit(f"{path} is not a pctr feature matrix")
    rows, cols = (int(v) for v in raw[8:16].view(np.uint32))
    values = raw[16 : 16 + 4 * rows * cols].view(np.float32).reshape(cols, rows)
    labels = raw[16 + 4 * rows * cols : 16 + 4 * rows * cols + rows].astype(np.float32)
    return np.ascontiguousarray(values.T), labels


def read_csr(path):
    raw = np.fromfile(path, dtype=np.uint8)
    if raw[:8].tobytes() != b"PCTRCSR1":
        sys.exit(f"{path} is not a pctr CSR file")
    rows, nnz, bits = (int(v) for v in raw[8:20].view(np.uint32))
    at = 24
    offsets = raw[at : at + 4 * (rows + 1)].view(np.int32)
    at += 4 * (rows + 1)
    indices = raw[at : at + 4 * nnz].view(np.int32)
    return sp.csr_matrix((np.ones(nnz, dtype=np.float64), indices, offsets), shape=(rows, 1 << bits))


def booster_params(args, base_score):
    return {
        "objective": "binary:logistic",
        "eval_metric": "logloss",
        "tree_method": "hist",
        "grow_policy": "lossguide",
        "max_leaves": args.max_leaves,
        "max_depth": args.max_depth,
        "max_bin": args.max_bin,
        "eta": args.eta,
        "lambda": args.reg_lambda,
        "gamma": args.gamma,
        "min_child_weight": args.min_child_weight,
        "base_score": base_score,
        "nthread": args.threads,
        "seed": args.seed,
    }


def train_trees(args, x_train, y_train, x_valid, y_valid):
    """Wall and CPU seconds from the numpy matrix to the trained booster, as pctr's train_s counts."""
    base_score = float(np.clip(y_train.mean(), 1e-6, 1 - 1e-6))
    t0, c0 = time.perf_counter(), time.process_time()
    dtrain = xgb.DMatrix(x_train, label=y_train, nthread=args.threads)
    evals, stop = [], None
    if x_valid.shape[0] > 0 and args.early_stopping > 0:
        evals = [(xgb.DMatrix(x_valid, label=y_valid, nthread=args.threads), "valid")]
        stop = args.early_stopping
    booster = xgb.train(booster_params(args, base_score), dtrain, num_boost_round=args.trees, evals=evals, early_stopping_rounds=stop, verbose_eval=False)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    trees = booster.best_iteration + 1 if stop else booster.num_boosted_rounds()
    return booster, trees, seconds, cpu


def score100_ms(predict, x, repeats=300):
    batch = np.ascontiguousarray(x[:100])
    for _ in range(20):
        predict(batch)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        predict(batch)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def metrics(y, p):
    return {"auc": roc_auc_score(y, p), "logloss": log_loss(y, p, labels=[0, 1])}


def gbdt(args):
    x_train, y_train = read_mat(args.train)
    x_valid, y_valid = read_mat(args.valid)
    x_test, y_test = read_mat(args.test)
    booster, trees, seconds, cpu = train_trees(args, x_train, y_train, x_valid, y_valid)
    rng = (0, trees)
    p = booster.inplace_predict(x_test, iteration_range=rng)
    ms = score100_ms(lambda b: booster.inplace_predict(b, iteration_range=rng), x_test)
    return {**metrics(y_test, p), "train_s": seconds, "train_cpu_s": cpu, "trees": trees, "rounds": booster.num_boosted_rounds(), "score100_ms": ms}


def leaf_features(booster, trees, x, offsets):
    """One-hot leaf of every tree: column offsets[t] + leaf id (xgboost node ids, dense per tree)."""
    leaves = booster.predict(xgb.DMatrix(x), pred_leaf=True, iteration_range=(0, trees)).astype(np.int64).reshape(x.shape[0], trees)
    cols = (leaves + offsets[:trees]).ravel()
    rows = np.repeat(np.arange(x.shape[0]), trees)
    return sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(x.shape[0], int(offsets[trees])))


def gbdt_lr(args):
    x_train, y_train = read_mat(args.train)
    x_valid, y_valid = read_mat(args.valid)
    x_lr, y_lr = read_mat(args.lr)
    x_test, y_test = read_mat(args.test)
    booster, trees, tree_seconds, tree_cpu = train_trees(args, x_train, y_train, x_valid, y_valid)
    t0, c0 = time.perf_counter(), time.process_time()
    # Node ids are dense per tree (0 .. nodes − 1): one line per node in the text dump.
    node_counts = [tree.count("\n") + (0 if tree.endswith("\n") else 1) for tree in booster.get_dump()]
    offsets = np.concatenate([[0], np.cumsum(node_counts)])
    parts_lr = [leaf_features(booster, trees, x_lr, offsets)]
    parts_test = [leaf_features(booster, trees, x_test, offsets)]
    if args.lr_csr:
        parts_lr.append(read_csr(args.lr_csr))
        parts_test.append(read_csr(args.test_csr))
    z_lr = sp.hstack(parts_lr).tocsr()
    z_test = sp.hstack(parts_test).tocsr()
    leaf_seconds, leaf_cpu = time.perf_counter() - t0, time.process_time() - c0
    # C chosen by logloss on the last ninth of the LR rows (time order, not timed), then refit on all of them.
    cut = int(z_lr.shape[0] * 8 / 9)
    valid = {c: log_loss(y_lr[cut:], logistic_regression(c).fit(z_lr[:cut], y_lr[:cut]).predict_proba(z_lr[cut:])[:, 1], labels=[0, 1]) for c in args.lr_c}
    best = min(args.lr_c, key=lambda c: valid[c])
    t0, c0 = time.perf_counter(), time.process_time()
    lr = logistic_regression(best).fit(z_lr, y_lr)
    seconds = tree_seconds + leaf_seconds + time.perf_counter() - t0
    cpu = tree_cpu + leaf_cpu + time.process_time() - c0
    p = lr.predict_proba(z_test)[:, 1]
    raw100 = parts_test[1][:100] if len(parts_test) > 1 else None

    def score(x):
        z = leaf_features(booster, trees, x, offsets)
        lr.predict_proba(z if raw100 is None else sp.hstack([z, raw100]).tocsr())

    # Leaves through a DMatrix, one-hot, then the LR (the raw rows' hashing is not timed).
    ms = score100_ms(score, x_test, repeats=100)
    return {**metrics(y_test, p), "train_s": seconds, "train_cpu_s": cpu, "trees": trees, "rounds": booster.num_boosted_rounds(), "lr_c": best, "score100_ms": ms}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("gbdt")
    g.add_argument("train")
    g.add_argument("valid")
    g.add_argument("test")
    l = sub.add_parser("gbdt-lr")
    l.add_argument("train")
    l.add_argument("valid")
    l.add_argument("lr")
    l.add_argument("test")
    l.add_argument("--lr-csr")
    l.add_argument("--test-csr")
    l.add_argument("--lr-c", type=float, nargs="+", default=[0.01, 0.03, 0.1, 0.3, 1.0])
    for p in (g, l):
        p.add_argument("--trees", type=int, default=100)
        p.add_argument("--eta", type=float, default=0.1)
        p.add_argument("--max-leaves", type=int, default=31)
        p.add_argument("--max-depth", type=int, default=0)
        p.add_argument("--max-bin", type=int, default=255)
        p.add_argument("--reg-lambda", type=float, default=1.0)
        p.add_argument("--gamma", type=float, default=0.0)
        p.add_argument("--min-child-weight", type=float, default=1.0)
        p.add_argument("--early-stopping", type=int, default=10)
        p.add_argument("--threads", type=int, default=2)
        p.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    result = gbdt(args) if args.cmd == "gbdt" else gbdt_lr(args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
