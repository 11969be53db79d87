#!/usr/bin/env python3
"""Writes a reference / prediction label-map pair for the evaluation benchmark (Documentation/performance.md).

10 organ-like ellipsoids (labels 1..10) in a 512x512x300 grid at 0.8 x 0.8 x 1.5 mm; the prediction
moves, scales and roughens each of them a little. Seeded, so every run makes the same pair.

    /usr/bin/python3 make_pair.py ref.nii.gz pred.nii.gz [--shape 512 512 300]
"""
import argparse

import nibabel as nib
import numpy as np


def ellipsoids(shape, params, rng, noise):
    x, y, z = np.ogrid[: shape[0], : shape[1], : shape[2]]
    vol = np.zeros(shape, dtype=np.uint8)
    for label, (c, r) in enumerate(params, start=1):
        d = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2
        if noise:
            d = d + rng.normal(0, noise, size=d.shape)
        vol[d < 1] = label
    return vol


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("reference")
    ap.add_argument("prediction")
    ap.add_argument("--shape", type=int, nargs=3, default=[512, 512, 300])
    a = ap.parse_args()
    shape = tuple(a.shape)
    rng = np.random.default_rng(11)
    params = []
    for _ in range(10):
        c = [rng.uniform(0.25, 0.75) * s for s in shape]
        r = [rng.uniform(0.04, 0.12) * s for s in shape]
        params.append((c, r))
    moved = [([ci + rng.normal(0, 3) for ci in c], [ri * rng.uniform(0.9, 1.1) for ri in r]) for c, r in params]
    affine = np.diag([0.8, 0.8, 1.5, 1.0])
    nib.save(nib.Nifti1Image(ellipsoids(shape, params, rng, 0.0), affine), a.reference)
    nib.save(nib.Nifti1Image(ellipsoids(shape, moved, rng, 0.05), affine), a.prediction)
    print(f"{a.reference}, {a.prediction}: {shape}, 10 labels")


if __name__ == "__main__":
    main()
