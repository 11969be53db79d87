"""check_gltf_space.py <lps.gltf> <ras.gltf>: the two files of one render, --mesh-space lps and ras, hold the same
meshes turned (x, y, z) -> (-x, -y, z): each POSITION accessor's bounds match so, to 1e-3 mm."""
import json
import sys


def bounds(path):
    g = json.load(open(path))
    out = []
    for mesh in g["meshes"]:
        for primitive in mesh["primitives"]:
            a = g["accessors"][primitive["attributes"]["POSITION"]]
            out.append((a["min"], a["max"]))
    return out


lps, ras = bounds(sys.argv[1]), bounds(sys.argv[2])
assert lps and len(lps) == len(ras), (len(lps), len(ras))
for (lo, hi), (rlo, rhi) in zip(lps, ras):
    want_lo, want_hi = [-hi[0], -hi[1], lo[2]], [-lo[0], -lo[1], hi[2]]
    assert all(abs(a - b) < 1e-3 for a, b in zip(rlo + rhi, want_lo + want_hi)), (lo, hi, rlo, rhi)
    assert lo != rlo, "the RAS file holds the LPS coordinates"
print(f"{len(lps)} meshes, RAS = LPS turned")
