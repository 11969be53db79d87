"""Lays out a dataset's nnU-Net results folder as nnUNetv2_find_best_configuration leaves it, for the
command-line tests of `segment --nnunet <results folder>`: RESULTS/Dataset990_Phantom/ with the fixture's
3d_fullres folder (links to its files), a 2d folder (made before by voxsegNnUNet2dFolder in that folder), the ensemble's
postprocessing.json (keep the largest component of the foreground) and inference_information.json whose paths are
those of another machine (/data/nnUNet_results/...), as when results are copied.
usage: make_nnunet_results.py RESULTS FIXTURE_3D_FULLRES [single] [missing] [nopp]
  single: the 3d_fullres alone was best; missing: the ensemble names a 3d_lowres that is not there;
  nopp: no postprocessing.json beside the (absent) postprocessing.pkl"""
import json
import os
import sys

results, fixture = sys.argv[1], sys.argv[2]
variants = set(sys.argv[3:])
d = os.path.join(results, "Dataset990_Phantom")
os.makedirs(d, exist_ok=True)
full = os.path.join(d, "nnUNetTrainer__nnUNetPlans__3d_fullres")  # a folder of links: the fixture stays untouched
os.makedirs(full, exist_ok=True)
for f in ("plans.json", "dataset.json", "fold_0", "fold_1"):
    os.path.lexists(os.path.join(full, f)) or os.symlink(os.path.join(fixture, f), os.path.join(full, f))
second = "3d_lowres" if "missing" in variants else "2d"
models = [{"configuration": "3d_fullres", "trainer": "nnUNetTrainer", "plans_identifier": "nnUNetPlans"}]
if "single" in variants:
    source = "nnUNetTrainer__nnUNetPlans__3d_fullres/crossval_results_folds_0"
else:
    models.append({"configuration": second, "trainer": "nnUNetTrainer", "plans_identifier": "nnUNetPlans"})
    source = f"ensembles/ensemble___nnUNetTrainer__nnUNetPlans__3d_fullres___nnUNetTrainer__nnUNetPlans__{second}___0"
if "nopp" not in variants:
    os.makedirs(os.path.join(d, source), exist_ok=True)
    with open(os.path.join(d, source, "postprocessing.json"), "w") as f:
        json.dump({"input_folder": {"foreground_mean": {"Dice": 0.5}}, "postprocessed": {"foreground_mean": {"Dice": 0.6}},
                   "postprocessing_fns": ["remove_all_but_largest_component_from_segmentation"],
                   "postprocessing_kwargs": [{"labels_or_regions": [1, 2]}]}, f, indent=4)
elsewhere = "/data/nnUNet_results/Dataset990_Phantom/"
info = {"folds": [0], "dataset_name_or_id": "990", "considered_models": models, "ensembling_allowed": True,
        "all_results": {}, "best_model_or_ensemble": {
            "result_on_crossval_pre_pp": 0.8125, "result_on_crossval_post_pp": 0.875,
            "postprocessing_file": elsewhere + source + "/postprocessing.pkl",
            "some_plans_file": elsewhere + source + "/plans.json", "selected_model_or_models": models}}
with open(os.path.join(d, "inference_information.json"), "w") as f:
    json.dump(info, f, indent=4, sort_keys=True)
print(d)
