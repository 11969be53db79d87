"""check_gltf_names.py <file.gltf>: prints the names of the meshes, of the nodes holding a mesh (as their mesh's
index orders them) and of the meshes' materials, each list on one line."""
import json
import sys

g = json.load(open(sys.argv[1]))
meshes = g["meshes"]
nodes = sorted((n["mesh"], n.get("name")) for n in g["nodes"] if "mesh" in n)
print("meshes", ",".join(m.get("name", "") for m in meshes))
print("nodes", ",".join(name or "" for _, name in nodes))
print("materials", ",".join(g["materials"][p["material"]].get("name", "") for m in meshes for p in m["primitives"]))
