"""PyTorch peer of pctr's DCN-v2 (bench/zoo/deep.ts runs this with /usr/bin/python3).

train TRAIN.csr TEST.csr [hyperparameters] [--onnx-out FILE]
    Trains on pctr's hashed features (the CSR files bench/lib/hashed-csr.ts writes: one token per
    field in field order, the bias token last) the same network with the same update rule as pctr's
    `dcn` learner: field embeddings (normal(0, init_scale)) side by side as x0; cross layers
    x_{l+1} = x0 * (W x_l + b) + x_l, W full rank (cross_rank 0) or U V^T; an MLP with ReLU; a linear
    output. Weights start uniform(+-1/sqrt(fan_in)), biases at zero, as in pctr. Mean logloss per
    mini-batch, rows in file order, torch.optim.SparseAdam on the embeddings and torch.optim.Adam on
    the rest, one learning rate. With --onnx-out the trained network (token ids [n, fields] int64 ->
    click probability [n]) is exported to ONNX, for pctr's ONNX scorer to serve.
Prints one JSON object: auc, logloss, train_s (wall), cpu_s, examples_per_s (per CPU second of this
process), score100_ms / score100_p99_ms (forward pass on 100 test rows), threads.
"""
import argparse
import json
import math
import time

import numpy as np
import torch
from sklearn.metrics import log_loss, roc_auc_score

from torch_fm import read_csr


def uniform_fan_in(linear):
    bound = 1.0 / math.sqrt(linear.in_features)
    torch.nn.init.uniform_(linear.weight, -bound, bound)
    if linear.bias is not None:
        torch.nn.init.zeros_(linear.bias)
    return linear


class CrossLayer(torch.nn.Module):
    def __init__(self, d, rank):
        super().__init__()
        if rank == 0:
            self.w = uniform_fan_in(torch.nn.Linear(d, d))
            self.v = None
        else:
            self.v = uniform_fan_in(torch.nn.Linear(d, rank, bias=False))
            self.w = uniform_fan_in(torch.nn.Linear(rank, d))

    def forward(self, x0, x):
        u = self.w(x if self.v is None else self.v(x))
        return x0 * u + x


class Dcn(torch.nn.Module):
    def __init__(self, buckets, fields, dim, cross_layers, cross_rank, hidden, init_scale):
        super().__init__()
        self.fields = fields
        self.embedding = torch.nn.Embedding(buckets, dim, sparse=True)
        torch.nn.init.normal_(self.embedding.weight, 0.0, init_scale)
        d = fields * dim
        self.cross = torch.nn.ModuleList([CrossLayer(d, cross_rank) for _ in range(cross_layers)])
        layers, width = [], d
        for h in hidden:
            layers += [uniform_fan_in(torch.nn.Linear(width, h)), torch.nn.ReLU()]
            width = h
        layers.append(uniform_fan_in(torch.nn.Linear(width, 1)))
        self.mlp = torch.nn.Sequential(*layers)

    def logits(self, ids):
        x0 = self.embedding(ids).flatten(1)
        x = x0
        for layer in self.cross:
            x = layer(x0, x)
        return self.mlp(x).squeeze(1)

    def forward(self, ids):
        return torch.sigmoid(self.logits(ids))


def predict(model, x, batch=8192):
    with torch.no_grad():
        return torch.cat([model(x[i : i + batch]) for i in range(0, x.shape[0], batch)]).numpy()


def score_times(model, x, repeats=2000):
    rows = x[:100].clone()
    times = []
    with torch.no_grad():
        for _ in range(100):
            model(rows)
        for _ in range(repeats):
            t = time.perf_counter()
            model(rows)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return times[len(times) // 2], times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)]


def train(args):
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    xtr, ytr, bits = read_csr(args.train)
    xte, yte, _ = read_csr(args.test)
    # The bias token (last) is the output layer's bias here, as in pctr: the network reads the fields only.
    fields = xtr.shape[1] - 1
    xtr, xte = xtr[:, :fields].contiguous(), xte[:, :fields].contiguous()
    hidden = [int(h) for h in args.hidden.split(",") if h.strip()]
    model = Dcn(1 << bits, fields, args.embedding_dim, args.cross_layers, args.cross_rank, hidden, args.init_scale)
    sparse = torch.optim.SparseAdam([model.embedding.weight], lr=args.lr)
    dense = torch.optim.Adam([p for n, p in model.named_parameters() if n != "embedding.weight"], lr=args.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss()
    n = xtr.shape[0]
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(args.epochs):
        for s in range(0, n, args.batch_size):
            sparse.zero_grad()
            dense.zero_grad()
            loss = loss_fn(model.logits(xtr[s : s + args.batch_size]), ytr[s : s + args.batch_size])
            loss.backward()
            sparse.step()
            dense.step()
    train_s, cpu_s = time.perf_counter() - t0, time.process_time() - c0
    model.eval()
    p = predict(model, xte)
    y = yte.numpy()
    p50, p99 = score_times(model, xte)
    out = {
        "auc": roc_auc_score(y, p),
        "logloss": log_loss(y, np.clip(p, 1e-7, 1 - 1e-7), labels=[0, 1]),
        "train_s": train_s,
        "cpu_s": cpu_s,
        "examples_per_s": n * args.epochs / cpu_s,
        "score100_ms": p50,
        "score100_p99_ms": p99,
        "threads": args.threads,
    }
    if args.onnx_out:
        torch.onnx.export(
            model, (xte[:4].clone(),), args.onnx_out, input_names=["ids"], output_names=["prob"],
            dynamic_axes={"ids": {0: "batch"}, "prob": {0: "batch"}}, opset_version=13,
        )
        out["onnx"] = args.onnx_out
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("train")
    t.add_argument("train")
    t.add_argument("test")
    t.add_argument("--embedding-dim", type=int, default=8)
    t.add_argument("--cross-layers", type=int, default=2)
    t.add_argument("--cross-rank", type=int, default=16)
    t.add_argument("--hidden", default="64,32")
    t.add_argument("--batch-size", type=int, default=512)
    t.add_argument("--lr", type=float, default=1e-3)
    t.add_argument("--init-scale", type=float, default=0.01)
    t.add_argument("--epochs", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--onnx-out", default="")
    args = parser.parse_args()
    print(json.dumps(train(args)))


if __name__ == "__main__":
    main()
