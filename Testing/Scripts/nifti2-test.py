"""NIfTI-2 input against nibabel (the reference reader): files nibabel writes as NIfTI-2 (gzip and
plain, little- and big-endian, oblique sform and qform, int16 and float32, with an extension) go
through `voxseg convert` to NIfTI-1; nibabel reads the result: the same voxels, and the written affine
within 1e-4 (the NIfTI-1 twin's output has that twin's own header fields). A NIfTI-2 dimension beyond NIfTI-1's 16 bits is refused (exit 3).
Usage: nifti2-test.py <voxseg> <work folder>"""
import os
import subprocess
import sys

try:
    import nibabel as nib
    import numpy as np
except ImportError as e:
    print(f"skipped: {e} (Debian's python3-nibabel, installed by Testing/Scripts/setup-debian.sh)")
    sys.exit(77)

voxseg, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
rng = np.random.default_rng(3)
theta = 0.3
oblique = np.array([[np.cos(theta) * 0.8, -np.sin(theta) * 0.9, 0, -91.25],
                    [np.sin(theta) * 0.8, np.cos(theta) * 0.9, 0, 120.5],
                    [0, 0, 2.5, -33.0], [0, 0, 0, 1]])
flipped = np.array([[-1.2, 0, 0, 60.0], [0, 0, 1.1, -20.0], [0, -3.0, 0, 15.0], [0, 0, 0, 1]])
cases = [
    ("int16_sform_gz", rng.integers(-1000, 2000, (7, 9, 5)).astype(np.int16), flipped, "<", ".nii.gz", "sform"),
    ("int16_oblique_gz", rng.integers(-1000, 2000, (7, 9, 5)).astype(np.int16), oblique, "<", ".nii.gz", "both"),
    ("float32_qform_plain", rng.standard_normal((6, 5, 8)).astype(np.float32), flipped, "<", ".nii", "qform"),
    ("int16_bigendian_gz", rng.integers(0, 300, (5, 6, 7)).astype(np.int16), oblique, ">", ".nii.gz", "both"),
]
failures = 0


def run(*args):
    return subprocess.run([voxseg, "-q", *args], capture_output=True, text=True)


for name, data, affine, order, ext, form in cases:
    images = {}
    for kind, cls in (("n2", nib.Nifti2Image), ("n1", nib.Nifti1Image)):
        hdr = cls.header_class(endianness=order)
        hdr.set_data_dtype(data.dtype)
        img = cls(data, affine, hdr)  # as nibabel saves by default: sform (code 2), pixdim from the affine
        if form in ("qform", "both"):
            img.set_qform(affine, code=1)
        if form == "qform":
            img.set_sform(None, code=0)
        if kind == "n2":
            img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"voxseg test extension\0\0\0"))
        path = os.path.join(work, f"{name}_{kind}{ext}")
        nib.save(img, path)
        out = os.path.join(work, f"{name}_{kind}_out.nii.gz")
        r = run("convert", path, out, "--force")
        if r.returncode != 0:
            print(f"FAIL {name} {kind}: exit {r.returncode}: {r.stderr.strip()}")
            failures += 1
            continue
        images[kind] = nib.load(out)
    if len(images) < 2:
        continue
    two, one = images["n2"], images["n1"]
    same_voxels = np.array_equal(np.asanyarray(two.dataobj), data) and two.get_data_dtype() == data.dtype.newbyteorder("=")
    # The NIfTI-1 twin's output keeps that input's header fields (as nibabel reads them, a qform alone can be 8e-4
    # off the affine: float32 quaternion); the NIfTI-2 file's output states the grid voxseg read.
    twin_diff = np.abs(one.affine - nib.load(os.path.join(work, f"{name}_n1{ext}")).affine).max()
    truth_diff = np.abs(two.affine - affine).max()
    ok = same_voxels and twin_diff == 0 and truth_diff < 1e-4
    print(f"{'ok  ' if ok else 'FAIL'} {name}: voxels {'equal' if same_voxels else 'DIFFER'}, NIfTI-2 output vs the "
          f"written affine {truth_diff:.1e}, NIfTI-1 twin's output vs its input {twin_diff:.1e}")
    failures += not ok

# the voxel limit applies before the file is copied
r = run("convert", os.path.join(work, "int16_sform_gz_n2.nii.gz"), os.path.join(work, "limited.nii.gz"), "--max-voxels", "100")
ok = r.returncode == 3 and "NIfTI-2 header claims 315 voxels, more than the limit of 100" in r.stderr
print(f"{'ok  ' if ok else 'FAIL'} --max-voxels 100: exit {r.returncode}: {r.stderr.strip()}")
failures += not ok

# beyond NIfTI-1's 16-bit dimensions: a clear refusal, exit 3, no output
big = nib.Nifti2Image(np.zeros((40000, 1, 1), np.uint8), np.eye(4))
path = os.path.join(work, "wide_n2.nii")
nib.save(big, path)
out = os.path.join(work, "wide_out.nii.gz")
r = run("convert", path, out, "--force")
ok = r.returncode == 3 and "dim = 40000 does not fit NIfTI-1" in r.stderr and not os.path.exists(out)
print(f"{'ok  ' if ok else 'FAIL'} 40000-voxel axis refused: exit {r.returncode}: {r.stderr.strip()}")
failures += not ok
# a scratch copy left by a process of this host killed with SIGKILL (its pid no longer runs) is removed by
# the next read; the copy of this read is gone after it; a live process's copy, another host's copy and a
# name whose "pid" is no pid are kept
import re
import socket
scratch = os.path.join(work, "scratch")
os.makedirs(scratch, exist_ok=True)
for f in os.listdir(scratch):
    os.remove(os.path.join(scratch, f))
gone = subprocess.Popen(["true"])
gone.wait()
host = re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"
stale = f"voxseg-nifti2-{host}-{gone.pid}-Ab12Cd.nii"
kept = [f"voxseg-nifti2-{host}-{os.getpid()}-Ef34Gh.nii", f"voxseg-nifti2-other.node-{gone.pid}-Ij56Kl.nii",
        f"voxseg-nifti2-{host}-99999999999999999999-Mn78Op.nii"]
for f in [stale] + kept:
    open(os.path.join(scratch, f), "wb").close()
r = subprocess.run([voxseg, "-q", "convert", os.path.join(work, "int16_sform_gz_n2.nii.gz"),
                    os.path.join(work, "swept.nii.gz"), "--force"], capture_output=True, text=True,
                   env=dict(os.environ, TMPDIR=scratch))
left = sorted(os.listdir(scratch))
ok = r.returncode == 0 and left == sorted(kept)
print(f"{'ok  ' if ok else 'FAIL'} stale scratch copy of this host removed, others kept: exit {r.returncode} "
      f"{r.stderr.strip()}, left {left}")
failures += not ok
sys.exit(1 if failures else 0)
