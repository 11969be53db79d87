#!/usr/bin/env python3
"""Compares voxseg's metrics.json (deepmind preset) with deepmind_reference.py's JSON lines, label by
label, and prints the largest relative difference per metric. Exit 1 when any exceeds 1e-9.

    python3 compare.py deepmind.jsonl metrics.json
"""
import json
import math
import sys

PAIRS = {  # DeepMind script field -> voxseg deepmind-preset fields
    "dice": ["dice"],
    "asd": ["average_surface_distance_gt_to_pred", "average_surface_distance_pred_to_gt"],
    "hd100": ["robust_hausdorff_100"],
    "hd95": ["robust_hausdorff_95"],
    "overlap1": ["surface_overlap_gt_at_1mm", "surface_overlap_pred_at_1mm"],
    "nsd1": ["surface_dice_at_1mm"],
    "nsd2": ["surface_dice_at_2mm"],
}


def main():
    with open(sys.argv[1]) as f:
        lines = [json.loads(x) for x in f if x.strip()]
    peer = {x["label"]: x for x in lines[1:]}
    with open(sys.argv[2]) as f:
        ours = {x["label"]: x["deepmind"] for x in json.load(f)["cases"][0]["labels"]}
    if set(peer) != set(ours):
        print(f"labels differ: DeepMind {sorted(peer)} voxseg {sorted(ours)}")
        return 1
    worst = {}
    for label, row in peer.items():
        for field, names in PAIRS.items():
            values = row[field] if isinstance(row[field], list) else [row[field]]
            for v, name in zip(values, names):
                w = ours[label][name]
                w = float(w) if isinstance(w, str) else w
                if math.isinf(v) or math.isnan(v):
                    d = 0.0 if (math.isinf(v) and v == w) or (math.isnan(v) and math.isnan(w)) else math.inf
                else:
                    d = abs(v - w) / max(abs(v), 1e-12)
                worst[name] = max(worst.get(name, 0.0), d)
    for name, d in worst.items():
        print(f"  {name:40s} max relative difference {d:.2e}")
    bad = [n for n, d in worst.items() if d > 1e-9]
    print(f"{len(peer)} labels, {len(worst)} metrics: " + ("EQUAL within 1e-9" if not bad else f"DIFFER: {bad}"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
