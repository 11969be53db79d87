"""zeroed_nrrd.py <in.nrrd> <out.nrrd>: the input's header (grid, type) with every voxel 0, raw-encoded.

A label map with no label on a real DICOM series' grid, for the tests of outputs that need at least one label.
"""
import sys

TYPE_BYTES = {"uchar": 1, "unsigned char": 1, "uint8": 1, "char": 1, "signed char": 1, "int8": 1,
              "short": 2, "ushort": 2, "unsigned short": 2, "int16": 2, "uint16": 2,
              "int": 4, "uint": 4, "unsigned int": 4, "int32": 4, "uint32": 4, "float": 4, "double": 8}

header = open(sys.argv[1], "rb").read().split(b"\n\n")[0].decode("ascii").split("\n")
fields = dict(line.split(": ", 1) for line in header[1:] if ": " in line and not line.startswith("#"))
count = 1
for size in fields["sizes"].split():
    count *= int(size)
lines = [line if not line.startswith("encoding:") else "encoding: raw" for line in header]
with open(sys.argv[2], "wb") as out:
    out.write(("\n".join(lines) + "\n\n").encode("ascii"))
    out.write(bytes(count * TYPE_BYTES[fields["type"]]))
