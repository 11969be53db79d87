#!/usr/bin/env python3
"""Writes a synthetic CT-like int16 NIfTI of a chosen size for speed and memory benchmarks.

An elliptic body (soft tissue ~40 HU with noise) in air (-1000 HU, so nothing is cropped away), two
brighter organs (~100 and ~160 HU) inside. Spacing defaults to the fixture model's target spacing
(z 2.5 mm, y/x 0.9 mm) so that no resampling shrinks the problem.

    /usr/bin/python3 make_large_case.py out.nii.gz --shape 512 512 200 [--spacing 0.9 0.9 2.5]
"""
import argparse

import nibabel as nib
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--shape", type=int, nargs=3, default=[512, 512, 200], metavar=("X", "Y", "Z"))
    ap.add_argument("--spacing", type=float, nargs=3, default=[0.9, 0.9, 2.5], metavar=("X", "Y", "Z"))
    a = ap.parse_args()
    nx, ny, nz = a.shape
    rng = np.random.default_rng(7)
    x = (np.arange(nx) - nx / 2) / (nx / 2)
    y = (np.arange(ny) - ny / 2) / (ny / 2)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    vol = np.empty((nx, ny, nz), dtype=np.int16)
    for k in range(nz):
        t = k / max(nz - 1, 1)
        s = np.full((nx, ny), -1000.0)
        s[(xx / 0.85) ** 2 + (yy / 0.65) ** 2 < 1] = 40
        s[((xx - 0.3) / 0.25) ** 2 + ((yy + 0.1 * np.sin(6 * t)) / 0.2) ** 2 < 1] = 100
        s[((xx + 0.35) / 0.15) ** 2 + ((yy - 0.2) / 0.15) ** 2 < 0.5 + 0.5 * np.cos(4 * t) ** 2] = 160
        vol[:, :, k] = np.round(s + rng.normal(0, 10, size=s.shape)).astype(np.int16)
    img = nib.Nifti1Image(vol, np.diag([a.spacing[0], a.spacing[1], a.spacing[2], 1.0]))
    nib.save(img, a.out)
    print(f"{a.out}: {nx}x{ny}x{nz}, spacing {a.spacing}")


if __name__ == "__main__":
    main()
