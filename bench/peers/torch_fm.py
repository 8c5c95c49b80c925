"""PyTorch peers of pctr's FM and FFM (bench/zoo/fm.ts runs this with /usr/bin/python3).

train TRAIN.csr TEST.csr --model fm|ffm [hyperparameters]
    Trains on pctr's hashed features (the CSR files bench/lib/hashed-csr.ts writes: every row holds
    one token per field in field order, the bias token last) with the same model and update rule as
    pctr: a linear term over every token, factor interactions among the non-bias tokens, sparse
    embeddings and torch.optim.Adagrad (w -= lr*g/(sqrt(G)+eps)) on the mean logloss of each
    mini-batch, plus l2*w added to the gradient of each embedding row the batch touches (the
    gradient of (l2/2)*||w||^2 over those rows), as pctr applies it.
    FFM rows are (token, field) pairs, row = token*(fields-1) + field, as in pctr.
Prints one JSON object: auc, logloss, train_s (wall), cpu_s, examples_per_s (training examples per
CPU second of this process: one core), score100_ms / score100_p99_ms (forward pass on 100 test rows).
"""
import argparse
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.metrics import log_loss, roc_auc_score


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
    labels = raw[at : at + rows].astype(np.float32)
    width = nnz // rows if rows else 0
    if rows == 0 or not np.array_equal(offsets, np.arange(rows + 1, dtype=np.int64) * width):
        sys.exit(f"{path}: rows must all hold one token per field")
    return torch.from_numpy(indices.astype(np.int64).reshape(rows, width)), torch.from_numpy(labels), bits


class Factorization(torch.nn.Module):
    def __init__(self, kind, buckets, fields, dim, init, scale):
        super().__init__()
        self.kind = kind
        self.per = fields - 1
        self.linear = torch.nn.Embedding(buckets, 1, sparse=True)
        torch.nn.init.zeros_(self.linear.weight)
        rows = buckets if kind == "fm" else buckets * self.per
        self.factors = torch.nn.Embedding(rows, dim, sparse=True)
        if init == "normal":
            torch.nn.init.normal_(self.factors.weight, 0.0, scale)
        elif init == "uniform":
            torch.nn.init.uniform_(self.factors.weight, -scale, scale)
        else:
            torch.nn.init.zeros_(self.factors.weight)
        iu, ju = torch.triu_indices(self.per, self.per, 1)
        self.register_buffer("iu", iu)
        self.register_buffer("ju", ju)

    def factor_rows(self, x):
        """Factor table rows a batch reads: per token for FM; per (token, other field) pair for FFM."""
        tokens = x[:, : self.per]
        if self.kind == "fm":
            return tokens, None
        return tokens[:, self.iu] * self.per + self.ju, tokens[:, self.ju] * self.per + self.iu

    def forward(self, x):
        logit = self.linear(x).sum(dim=(1, 2))
        a, b = self.factor_rows(x)
        if self.kind == "fm":
            v = self.factors(a)
            s = v.sum(dim=1)
            return logit + 0.5 * (s * s - (v * v).sum(dim=1)).sum(dim=1)
        return logit + (self.factors(a) * self.factors(b)).sum(dim=(1, 2))


def add_l2(weight, l2):
    """Adds l2*w to the sparse gradient of every row the batch touched, once per row."""
    if l2 > 0 and weight.grad is not None:
        grad = weight.grad.coalesce()
        grad._values().add_(weight.detach()[grad._indices()[0]], alpha=l2)
        weight.grad = grad


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr, bits = read_csr(args.train)
    xte, yte, _ = read_csr(args.test)
    model = Factorization(args.model, 1 << bits, xtr.shape[1], args.dim, args.init, args.init_scale)
    opt = torch.optim.Adagrad(model.parameters(), lr=args.lr, initial_accumulator_value=args.initial_accumulator, eps=1e-10)
    n = xtr.shape[0]
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        order = torch.randperm(n) if args.shuffle else torch.arange(n)
        for start in range(0, n, args.batch_size):
            idx = order[start : start + args.batch_size]
            x, y = xtr[idx], ytr[idx]
            opt.zero_grad()
            F.binary_cross_entropy_with_logits(model(x), y).backward()
            add_l2(model.factors.weight, args.l2)
            add_l2(model.linear.weight, args.l2_linear)
            opt.step()
    train_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    with torch.no_grad():
        p = torch.sigmoid(torch.cat([model(xte[i : i + 8192]) for i in range(0, xte.shape[0], 8192)])).numpy().astype(np.float64)
        batch = xte[:100]
        times = []
        for _ in range(args.score_repeats):
            t = time.perf_counter()
            model(batch)
            times.append((time.perf_counter() - t) * 1000)
    p = np.clip(p, 1e-7, 1 - 1e-7)
    y = yte.numpy()
    return {
        "auc": roc_auc_score(y, p),
        "logloss": log_loss(y, p, labels=[0, 1]),
        "train_s": train_s,
        "cpu_s": cpu_s,
        "examples_per_s": n * args.epochs / cpu_s,
        "score100_ms": float(np.percentile(times, 50)),
        "score100_p99_ms": float(np.percentile(times, 99)),
        "threads": args.threads,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("train")
    t.add_argument("test")
    t.add_argument("--model", choices=["fm", "ffm"], required=True)
    t.add_argument("--dim", type=int, default=8)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--l2", type=float, default=1e-5)
    t.add_argument("--l2-linear", type=float, default=0.0)
    t.add_argument("--initial-accumulator", type=float, default=0.0)
    t.add_argument("--init", choices=["normal", "uniform", "zero"], default="normal")
    t.add_argument("--init-scale", type=float, default=0.01)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--batch-size", type=int, default=256)
    t.add_argument("--shuffle", type=int, default=0)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--score-repeats", type=int, default=200)
    args = parser.parse_args()
    print(json.dumps(train(args)))


if __name__ == "__main__":
    main()
