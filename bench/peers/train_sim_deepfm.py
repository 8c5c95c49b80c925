"""Trains a small DeepFM in PyTorch on the simulator's served features and exports it to ONNX: the
initial champion of the embedded end-to-end test, a model from "an earlier deployment" that the loop
must replace (bench/zoo/sim-onnx-fixture.ts runs this with /usr/bin/python3; `npm test` then needs
no Python).

INPUTS.json  {"bits": B, "ids": [[token ids per field] per row], "labels": [0/1 per row], "score_rows": K}
             (pctr's encoded request features of simulated impressions, as the feature spec feeds them)
--out DIR    writes DIR/deepfm.onnx (input ids int64 [n, fields], output prob float32 [n]) and
             DIR/pytorch-scores.json {"scores": [...]}: PyTorch's scores of the first K rows

DeepFM (Guo et al. 2017): logit = bias + first-order weights of the tokens + FM second order over the
field embeddings + an MLP over the embeddings. Adam on the log loss, seeded.
"""
import argparse
import json
import math
import os

import numpy as np
import torch


class DeepFm(torch.nn.Module):
    def __init__(self, buckets, fields, dim, hidden, base_rate):
        super().__init__()
        self.embedding = torch.nn.Embedding(buckets, dim)
        self.first = torch.nn.Embedding(buckets, 1)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(fields * dim, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
        self.bias = torch.nn.Parameter(torch.tensor([math.log(base_rate / (1 - base_rate))]))
        torch.nn.init.normal_(self.embedding.weight, 0.0, 0.01)
        torch.nn.init.zeros_(self.first.weight)

    def forward(self, ids):
        e = self.embedding(ids)
        s = e.sum(dim=1)
        fm = 0.5 * (s * s - (e * e).sum(dim=1)).sum(dim=1)
        first = self.first(ids).sum(dim=(1, 2))
        deep = self.mlp(e.flatten(1)).squeeze(1)
        return torch.sigmoid(self.bias + first + fm + deep)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--dim", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=32)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    with open(args.inputs) as f:
        data = json.load(f)
    ids = torch.tensor(data["ids"], dtype=torch.int64)
    labels = torch.tensor(data["labels"], dtype=torch.float32)
    model = DeepFm(1 << data["bits"], ids.shape[1], args.dim, args.hidden, float(labels.mean()))
    dense = [p for n, p in model.named_parameters() if n not in ("embedding.weight", "first.weight")]
    opt = torch.optim.Adam([{"params": dense, "lr": 0.003}, {"params": [model.embedding.weight, model.first.weight], "lr": 0.01}])
    loss_fn = torch.nn.BCELoss()
    n = ids.shape[0]
    for _ in range(args.epochs):
        order = torch.randperm(n)
        for start in range(0, n, 256):
            batch = order[start:start + 256]
            opt.zero_grad()
            loss = loss_fn(model(ids[batch]), labels[batch])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        probs = model(ids).numpy()
        train_loss = float(loss_fn(torch.tensor(probs), labels))
        scores = probs[: data["score_rows"]].astype(np.float32)
    path = os.path.join(args.out, "deepfm.onnx")
    torch.onnx.export(model, (ids[:2],), path, input_names=["ids"], output_names=["prob"], dynamic_axes={"ids": {0: "batch"}, "prob": {0: "batch"}}, opset_version=13)
    with open(os.path.join(args.out, "pytorch-scores.json"), "w") as f:
        json.dump({"torch": torch.__version__, "scores": [float(x) for x in scores]}, f)
    print(json.dumps({"onnx": path, "rows": n, "bytes": os.path.getsize(path), "train_logloss": train_loss, "mean_prob": float(probs.mean()), "ctr": float(labels.mean())}))


if __name__ == "__main__":
    main()
