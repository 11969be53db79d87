#!/usr/bin/env python3
"""Writes an nnU-Net v2 model folder with a K-class head for memory benchmarks.

The fixture model's folder (plans.json, dataset.json, fold_0/checkpoint_final.pth) is taken as is,
except that every segmentation head gets K output channels with seeded random weights and
dataset.json lists K labels. Nothing here is committed data: run it into an ignored folder.

    /usr/bin/python3 make_wide_model.py <fixture model folder> <output folder> [--classes 105]
"""
import argparse
import json
import os

import torch  # Debian's python3-torch


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--classes", type=int, default=105)
    a = ap.parse_args()
    k = a.classes
    dataset = json.load(open(os.path.join(a.model, "dataset.json")))
    dataset["labels"] = {"background": 0, **{f"structure_{i}": i for i in range(1, k)}}
    cp = torch.load(os.path.join(a.model, "fold_0", "checkpoint_final.pth"), map_location="cpu")
    g = torch.Generator().manual_seed(1234)
    weights = cp["network_weights"]
    for name in list(weights):
        if ".seg_layers." not in name:
            continue
        w = weights[name]
        shape = (k,) + tuple(w.shape[1:])
        weights[name] = torch.randn(shape, generator=g) * (0.5 if name.endswith("weight") else 0.1)
    if isinstance(cp.get("init_args"), dict) and "dataset_json" in cp["init_args"]:
        cp["init_args"]["dataset_json"] = dataset  # nnU-Net's predictor reads the configuration from here
    os.makedirs(os.path.join(a.out, "fold_0"), exist_ok=True)
    with open(os.path.join(a.out, "dataset.json"), "w") as f:
        json.dump(dataset, f, indent=1)
    with open(os.path.join(a.model, "plans.json")) as src, open(os.path.join(a.out, "plans.json"), "w") as dst:
        dst.write(src.read())
    torch.save(cp, os.path.join(a.out, "fold_0", "checkpoint_final.pth"))
    print(f"{a.out}: {k} classes")


if __name__ == "__main__":
    main()
