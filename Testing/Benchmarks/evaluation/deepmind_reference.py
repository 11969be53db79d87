#!/usr/bin/env python3
"""Times google-deepmind/surface-distance on a pair (the peer tool, fetched outside the project, on
PYTHONPATH): per label, compute_surface_distances + Dice, average distances, HD100/HD95, surface
overlap and surface Dice at 1 and 2 mm; prints the seconds and the metrics as JSON lines.

    PYTHONPATH=<surface-distance checkout> /usr/bin/python3 deepmind_reference.py ref.nii.gz pred.nii.gz
"""
import json
import sys
import time

import nibabel as nib
import numpy as np
import surface_distance as sd


def main():
    ref_img, pred_img = nib.load(sys.argv[1]), nib.load(sys.argv[2])
    ref, pred = np.asanyarray(ref_img.dataobj), np.asanyarray(pred_img.dataobj)
    spacing = tuple(float(z) for z in ref_img.header.get_zooms()[:3])
    labels = sorted((set(np.unique(ref)) | set(np.unique(pred))) - {0})
    t0 = time.perf_counter()
    out = {}
    for label in labels:
        g, p = ref == label, pred == label
        d = sd.compute_surface_distances(g, p, spacing)
        out[int(label)] = {
            "dice": sd.compute_dice_coefficient(g, p),
            "asd": sd.compute_average_surface_distance(d),
            "hd100": sd.compute_robust_hausdorff(d, 100),
            "hd95": sd.compute_robust_hausdorff(d, 95),
            "overlap1": sd.compute_surface_overlap_at_tolerance(d, 1),
            "nsd1": sd.compute_surface_dice_at_tolerance(d, 1),
            "nsd2": sd.compute_surface_dice_at_tolerance(d, 2),
        }
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "labels": len(labels)}))
    for k, v in out.items():
        print(json.dumps({"label": k, **{m: (x if not isinstance(x, tuple) else list(x)) for m, x in v.items()}}))


if __name__ == "__main__":
    main()
