"""NIfTI outputs keep the input's placement fields: every NIfTI file `voxseg segment` and `voxseg convert` write on a
NIfTI input's grid has the input's qform and sform (codes, quaternion, offsets, srow rows), pixdim[0..3] and spatial
units, so nibabel (which reads the sform) and ITK (which may read the qform) place each output exactly where they
place the input. Cases, made with nibabel from a fixture image: qform and sform 60 mm apart (voxseg warns and names
the form it reads), oblique forms that agree, a header in metres, and one with neither form. Other formats state the
grid voxseg read; a header in metres is read in mm with the origin scaled too.
Usage: nifti-placement-test.py <voxseg> <work folder> <nnU-Net model folder> <input image> [<TorchScript model>
<its input image>]"""
import json
import os
import shutil
import subprocess
import sys

try:
    import nibabel as nib
    import numpy as np
except ImportError as e:
    print(f"skipped: {e} (Debian's python3-nibabel, installed by Testing/Scripts/setup-debian.sh)")
    sys.exit(77)

voxseg, work, nnunet, image = sys.argv[1:5]
torchscript = sys.argv[5:7]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
FIELDS = ["qform_code", "sform_code", "quatern_b", "quatern_c", "quatern_d", "qoffset_x", "qoffset_y", "qoffset_z",
          "srow_x", "srow_y", "srow_z"]
failures = 0


def check(ok, what):
    global failures
    print(f"{'ok  ' if ok else 'FAIL'} {what}")
    failures += not ok


def run(*args):
    return subprocess.run([voxseg, *args], capture_output=True, text=True)


def placement(header):
    fields = {k: np.asarray(header[k]).tolist() for k in FIELDS}
    fields["pixdim0-3"] = np.asarray(header["pixdim"][:4]).tolist()
    fields["space_units"] = int(header["xyzt_units"]) & 7
    return fields


def lps_grid(path):
    info = json.loads(run("info", "--json", path).stdout)["volume"]
    return np.array(info["spacing"]), np.array(info["origin"])


theta = 0.4
oblique = np.array([[np.cos(theta) * 0.95, -np.sin(theta) * 0.95, 0, -27.1],
                    [np.sin(theta) * 0.95, np.cos(theta) * 0.95, 0, -22.4],
                    [0, 0, 3.0, -30.5], [0, 0, 0, 1]])
shifted = oblique.copy()
shifted[0, 3] += 60.0


def make(name, source):
    src = nib.load(source)
    data = np.asanyarray(src.dataobj)
    img = nib.Nifti1Image(data, None, src.header.copy())
    if name == "disagree":  # nibabel, FSL and FreeSurfer read the sform; ITK 5.2 the qform (sform code 2)
        img.set_qform(oblique, code=1)
        img.set_sform(shifted, code=2)
    elif name == "oblique":
        img.set_qform(oblique, code=1)
        img.set_sform(oblique, code=2)
    elif name == "metres":
        metres = np.diag([1e-3, 1e-3, 1e-3, 1.0]) @ oblique
        img.set_qform(metres, code=1)
        img.set_sform(metres, code=1)
        img.header.set_xyzt_units("meter", "sec")
    elif name == "noforms":
        img.set_qform(np.diag([0.95, 0.95, 3.0, 1.0]), code=0)
        img.set_sform(np.diag([0.95, 0.95, 3.0, 1.0]), code=0)
    path = os.path.join(work, f"{name}.nii.gz")
    nib.save(img, path)
    return path


def compare_outputs(case, source, outputs):
    want = placement(nib.load(source).header)
    src_affine = nib.load(source).affine
    for out in outputs:
        img = nib.load(out)
        got = placement(img.header)
        same = got == want
        check(same and np.array_equal(img.affine, src_affine) and img.shape[:3] == nib.load(source).shape[:3],
              f"{case}: {os.path.relpath(out, work)} has the input's placement fields"
              + ("" if same else f" (got {got}, want {want})"))


models = [("nnunet", ["--nnunet", nnunet, "--folds", "0", "--disable-tta"], image)]
if len(torchscript) == 2 and os.path.exists(torchscript[0]):
    models.append(("torchscript", ["-m", torchscript[0]], torchscript[1]))
for kind, model, source in models:
    for case in ("disagree", "oblique", "metres", "noforms"):
        folder = os.path.join(work, kind, case)
        os.makedirs(folder)
        path = make(case, source)
        shutil.move(path, os.path.join(folder, "in.nii.gz"))
        path = os.path.join(folder, "in.nii.gz")
        r = run("segment", *model, "-i", path, "-o", os.path.join(folder, "labels.nii.gz"), "--save-probabilities",
                os.path.join(folder, "p.nii.gz"), "--split", os.path.join(folder, "masks"), "--instances",
                os.path.join(folder, "instances.nii"), "--remap", "1:7")
        if r.returncode != 0:
            check(False, f"{kind} {case}: segment exit {r.returncode}: {r.stderr.strip()}")
            continue
        outputs = [os.path.join(folder, f) for f in ("labels.nii.gz", "p.nii.gz", "instances.nii")]
        outputs += sorted(os.path.join(folder, "masks", f) for f in os.listdir(os.path.join(folder, "masks")))
        compare_outputs(f"{kind} {case}", path, outputs)
        if case == "disagree":
            warned = "place the voxels up to 60 mm apart; voxseg reads the qform, as ITK 5.2 does" in r.stderr
            check(warned, f"{kind} {case}: the warning names the gap and the form read: {r.stderr.strip()[:300]}")
        if kind != "nnunet":
            continue
        # convert: plain NIfTI keeps the fields; NRRD states the grid voxseg read, in mm
        plain, nrrd = os.path.join(folder, "c.nii"), os.path.join(folder, "c.nrrd")
        r1, r2 = run("-q", "convert", path, plain), run("-q", "convert", path, nrrd)
        check(r1.returncode == 0 and r2.returncode == 0, f"{case}: convert exit {r1.returncode} {r2.returncode}")
        if r1.returncode == 0:
            compare_outputs(case, path, [plain])
        if r2.returncode == 0 and case == "metres":
            # the affine in mm, RAS -> LPS: origin and spacing both scaled
            mm = nib.load(path).affine * np.array([[1e3], [1e3], [1e3], [1]])
            want_origin = mm[:3, 3] * np.array([-1, -1, 1])
            want_spacing = np.linalg.norm(mm[:3, :3], axis=0)
            spacing, origin = lps_grid(nrrd)
            check(np.abs(origin - want_origin).max() < 1e-3 and np.abs(spacing - want_spacing).max() < 1e-5,
                  f"metres: read in mm, origin {origin} (want {want_origin}), spacing {spacing}")
sys.exit(1 if failures else 0)
