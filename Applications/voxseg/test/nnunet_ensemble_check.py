"""cli.segment_nnunet_ensemble's check: the ensemble's probabilities (NIfTI, x, y, z, 1, K) are the float32 mean of
each configuration's, as nnU-Net's average_probabilities computes it ((a + b) / 2), and its labels are their argmax
(numpy's: the first of equal largest). Writes that argmax as WANT, on A_LABELS' header, for `voxseg evaluate`, and
compares it with ENSEMBLE_LABELS when given.
With --windows, the ensemble's report.json counts as many sliding-window positions as the other report.json
(a 3d_lowres + 3d_cascade_fullres ensemble runs 3d_lowres once: as many as the cascade alone, which runs it too).
usage: nnunet_ensemble_check.py A_PROBS B_PROBS ENSEMBLE_PROBS A_LABELS WANT [ENSEMBLE_LABELS]
                                [--windows ENSEMBLE_REPORT OTHER_REPORT]"""
import json
import sys

import nibabel
import numpy as np

args = sys.argv[1:]
if "--windows" in args:
    at = args.index("--windows")
    windows = [json.load(open(f))["sliding_window"]["windows"] for f in args[at + 1:at + 3]]
    assert windows[0] == windows[1], f"the ensemble ran {windows[0]} windows, not {windows[1]}"
    del args[at:at + 3]
sys.argv[1:] = args
a, b, e = (np.asanyarray(nibabel.load(f).dataobj) for f in sys.argv[1:4])
assert a.dtype == np.float32 and a.shape == b.shape == e.shape, (a.dtype, a.shape, b.shape, e.shape)
mean = a.copy()
mean += b
mean /= np.float32(2)
assert np.array_equal(e, mean), f"ensemble probabilities differ from the mean by up to {np.abs(e - mean).max()}"
assert not np.array_equal(a, b), "the two configurations gave the same probabilities"
labels = nibabel.load(sys.argv[4])
want = e[:, :, :, 0, :].argmax(-1).astype(np.uint8)
nibabel.save(nibabel.Nifti1Image(want, labels.affine, labels.header), sys.argv[5])
if len(sys.argv) > 6:
    got = np.asanyarray(nibabel.load(sys.argv[6]).dataobj)
    assert np.array_equal(got, want), f"{int((got != want).sum())} labels are not the argmax of the mean"
changed = int((want != np.asanyarray(labels.dataobj)).sum())
print(f"ensemble = mean of {a.shape[-1]} probability channels; {changed} voxels labelled otherwise than the first")
