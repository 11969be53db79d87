#!/usr/bin/env python3
"""Cross-check of `voxseg evaluate --instances` against an independent lesion-wise implementation
(scipy.ndimage.label with 26-connectivity, one-to-one matching at IoU > 0.5, PQ = SQ x RQ), on seeded
synthetic cases with several blobs per label (missed, shifted, resized and spurious lesions).
Needs Debian's python3-numpy, python3-scipy, python3-nibabel.

    /usr/bin/python3 Testing/Benchmarks/evaluation/instances_crosscheck.py build/bin/voxseg /tmp/inst
"""
import json
import math
import os
import subprocess
import sys

import nibabel as nib
import numpy as np
from scipy import ndimage


def blobs(shape, centers, radii):
    z, y, x = np.indices(shape)
    m = np.zeros(shape, bool)
    for c, r in zip(centers, radii):
        m |= (x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2 < r * r
    return m


def reference_metrics(ref, pred, label):
    s = np.ones((3, 3, 3))
    rl, nr = ndimage.label(ref == label, s)
    pl, npd = ndimage.label(pred == label, s)
    pairs = []
    for i in range(1, nr + 1):
        a = rl == i
        for j in np.unique(pl[a]):
            if j == 0:
                continue
            b = pl == j
            inter = np.logical_and(a, b).sum()
            iou = inter / np.logical_or(a, b).sum()
            if iou > 0.5:
                pairs.append((iou, 2 * inter / (a.sum() + b.sum())))
    tp, fp, fn = len(pairs), npd - len(pairs), nr - len(pairs)
    sq = float(np.mean([p[0] for p in pairs])) if tp else 0.0
    rq = tp / (tp + 0.5 * fp + 0.5 * fn) if (tp + fp + fn) else float("nan")
    return dict(tp=tp, fp=fp, fn=fn, sq=sq, rq=rq, pq=sq * rq, dice=sorted(p[1] for p in pairs))


def main():
    voxseg, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    rng = np.random.default_rng(7)
    shape = (40, 64, 64)
    worst, counts_equal, totals = 0.0, True, [0, 0, 0]
    for case in range(8):
        ref = np.zeros(shape, np.uint8)
        pred = ref.copy()
        for label in (1, 2):
            n = rng.integers(3, 7)
            cs = [(rng.integers(6, 58), rng.integers(6, 58), rng.integers(5, 35)) for _ in range(n)]
            rs = [int(rng.integers(2, 6)) for _ in range(n)]
            ref[blobs(shape, cs, rs) & (ref == 0)] = label
            keep = [i for i in range(n) if rng.random() > 0.25]
            pc = [(cs[i][0] + rng.integers(-1, 2), cs[i][1] + rng.integers(-1, 2), cs[i][2]) for i in keep]
            pr = [max(1, rs[i] + int(rng.integers(-1, 2))) for i in keep]
            for _ in range(rng.integers(0, 3)):
                pc.append((rng.integers(6, 58), rng.integers(6, 58), rng.integers(5, 35)))
                pr.append(int(rng.integers(2, 4)))
            pred[blobs(shape, pc, pr) & (pred == 0)] = label
        aff = np.diag([0.9, 0.9, 1.5, 1])
        rp, pp, out = f"{work}/ref_{case}.nii.gz", f"{work}/pred_{case}.nii.gz", f"{work}/out_{case}"
        nib.save(nib.Nifti1Image(ref.transpose(2, 1, 0).copy(), aff), rp)
        nib.save(nib.Nifti1Image(pred.transpose(2, 1, 0).copy(), aff), pp)
        os.makedirs(out, exist_ok=True)
        subprocess.run([voxseg, "-q", "evaluate", pp, rp, "--instances", "--no-plots", "--force", "-o", out],
                       check=True, stdout=subprocess.DEVNULL)
        labels = json.load(open(f"{out}/metrics.json"))["cases"][0]["labels"]
        for label in (1, 2):
            r = reference_metrics(ref, pred, label)
            ours = [x for x in labels if x["label"] == label][0]["instances"]
            for i, k in enumerate(("tp", "fp", "fn")):
                totals[i] += r[k]
                counts_equal &= ours[k] == r[k]
            for k in ("sq", "rq", "pq"):
                a, b = float(ours[k]), r[k]
                if not (math.isnan(a) and math.isnan(b)):
                    worst = max(worst, abs(a - b) / max(abs(b), 1e-12))
            dice = sorted(x["dice"] if isinstance(x, dict) else x for x in ours["lesion_dice"])
            counts_equal &= len(dice) == len(r["dice"])
            for a, b in zip(dice, r["dice"]):
                worst = max(worst, abs(a - b) / b)
    print(f"16 (case, label) pairs, TP {totals[0]} FP {totals[1]} FN {totals[2]}: counts equal: {counts_equal}; "
          f"worst relative difference of SQ, RQ, PQ and per-lesion Dice: {worst:.2e}")
    return 0 if counts_equal and worst < 1e-12 else 1


if __name__ == "__main__":
    sys.exit(main())
