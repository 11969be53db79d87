"""check_postprocessing_pickle.py <postprocessing.pkl> <postprocessing.json> [kinds]

The .pkl voxseg writes beside --determine-postprocessing's .json must load as nnU-Net's load_pickle loads its own
(a tuple (functions, kwargs)), name nnU-Net's function, and hold the .json's steps: the foreground as a list of labels,
a region as a tuple, a label as a number. nnU-Net itself is not needed: its function is looked up by name only. kinds: the expected type of each step's
labels_or_regions, e.g. "list,number" (list, tuple or number).
"""
import json
import pickle
import sys

MODULE = "nnunetv2.postprocessing.remove_connected_components"
NAME = "remove_all_but_largest_component_from_segmentation"


class Function:
    pass


class Loader(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) != (MODULE, NAME):
            raise pickle.UnpicklingError(f"unexpected global {module}.{name}")
        return Function


with open(sys.argv[1], "rb") as f:
    fns, kwargs = Loader(f).load()
with open(sys.argv[2]) as f:
    written = json.load(f)
assert isinstance(fns, list) and isinstance(kwargs, list), (type(fns), type(kwargs))
assert fns == [Function] * len(written["postprocessing_fns"]), fns
assert len(kwargs) == len(written["postprocessing_kwargs"]), kwargs
kinds = sys.argv[3].split(",") if len(sys.argv) > 3 and sys.argv[3] else []
assert not kinds or len(kinds) == len(kwargs), (kinds, kwargs)
for i, (k, j) in enumerate(zip(kwargs, written["postprocessing_kwargs"])):
    assert list(k) == ["labels_or_regions"], k
    got, want = k["labels_or_regions"], j["labels_or_regions"]
    kind = "list" if type(got) is list else "tuple" if type(got) is tuple else "number" if type(got) is int else "?"
    assert kind != "?", got
    assert (list(got) if kind != "number" else got) == want, (got, want)
    assert not kinds or kinds[i] == kind, (i, kinds[i], got)
print(f"{sys.argv[1]}: {len(fns)} step(s), as {sys.argv[2]}: {kwargs}")
