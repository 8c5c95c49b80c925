"""Exports a small DeepFM from PyTorch to ONNX, with PyTorch's scores on fixed inputs: the test fixture
of pctr's ONNX scorer (bench/zoo/onnx-fixture.ts runs this with /usr/bin/python3; `npm test` then
needs no Python).

INPUTS.json  {"bits": B, "ids": [[token ids per field] per row], "values": [[numeric inputs] per row]}
             (pctr's encoded features of the fixture rows, as its feature spec feeds them)
--out DIR    writes DIR/deepfm.onnx (inputs ids int64 [n, fields], values float32 [n, numeric];
             output prob float32 [n]) and DIR/pytorch-scores.json {"scores": [...]} (float32 values)

DeepFM (Guo et al. 2017): logit = bias + sum of first-order weights of the tokens + w.values
+ FM second order over the field embeddings + an MLP over [embeddings, values]. Weights are seeded
draws with a spread wide enough that scores vary across the fixture rows.
"""
import argparse
import json
import os

import numpy as np
import torch


class DeepFm(torch.nn.Module):
    def __init__(self, buckets, fields, numeric, dim=4, hidden=16):
        super().__init__()
        self.embedding = torch.nn.Embedding(buckets, dim)
        self.first = torch.nn.Embedding(buckets, 1)
        self.numeric = torch.nn.Linear(numeric, 1)
        self.mlp = torch.nn.Sequential(torch.nn.Linear(fields * dim + numeric, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))
        for p in self.parameters():
            torch.nn.init.normal_(p, 0.0, 0.3)

    def forward(self, ids, values):
        e = self.embedding(ids)
        s = e.sum(dim=1)
        fm = 0.5 * (s * s - (e * e).sum(dim=1)).sum(dim=1)
        first = self.first(ids).sum(dim=(1, 2)) + self.numeric(values).squeeze(1)
        deep = self.mlp(torch.cat([e.flatten(1), values], dim=1)).squeeze(1)
        return torch.sigmoid(first + fm + deep)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    with open(args.inputs) as f:
        data = json.load(f)
    ids = torch.tensor(data["ids"], dtype=torch.int64)
    values = torch.tensor(data["values"], dtype=torch.float32)
    model = DeepFm(1 << data["bits"], ids.shape[1], values.shape[1]).eval()
    with torch.no_grad():
        scores = model(ids, values).numpy().astype(np.float32)
    path = os.path.join(args.out, "deepfm.onnx")
    torch.onnx.export(
        model, (ids[:2], values[:2]), path, input_names=["ids", "values"], output_names=["prob"],
        dynamic_axes={"ids": {0: "batch"}, "values": {0: "batch"}, "prob": {0: "batch"}}, opset_version=13,
    )
    with open(os.path.join(args.out, "pytorch-scores.json"), "w") as f:
        json.dump({"torch": torch.__version__, "scores": [float(x) for x in scores]}, f)
    print(json.dumps({"onnx": path, "rows": len(scores), "bytes": os.path.getsize(path)}))


if __name__ == "__main__":
    main()
