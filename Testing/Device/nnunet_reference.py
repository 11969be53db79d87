"""nnU-Net v2's own predictor on the volume that voxsegDeviceNnUNet segments (issue [9]: the large volume end to
end against nnU-Net's predictor, same GPU, same run).

nnU-Net is not installed on the GPU machine and nothing can be installed there, so prepare.sh carries the
sources of nnunetv2 and of the pure-Python packages it imports (dynamic_network_architectures, acvl_utils,
batchgenerators, batchgeneratorsv2) in .device-data/peers when PEERS= names a folder holding their clones.
Packages that nnunetv2 imports at module level but that this path never calls (SimpleITK, nibabel, blosc2 and
the like: file readers and writers, the training cache) become stand-ins that raise when used.

  nnunet_reference.py make FOLDER [--roi 128] [--stages 6] [--classes 3] [--seed 0] [--spacing 1]
      an nnU-Net trained-model folder (plans.json, dataset.json, fold_0/checkpoint_final.pth) for the default
      3d_fullres network (PlainConvUNet, 32..320 features, 1 mm spacing, z-score normalization), built by
      nnU-Net's get_network_from_plans and initialized with its He initialization, seeded; --spacing 1.5 makes
      both tools resample the 1 mm array to the model's grid and the logits back (order 3, then order 1)
  nnunet_reference.py predict FOLDER --volume 600x512x512 [--device cuda] [--reps 2] [--tta 0]
      [--labels-out F] [--labels-ref F]
      nnUNetPredictor (step 0.5, Gaussian, everything on the device) built from the folder without the search
      for the trainer class (manual_initialization with the network of get_network_from_plans, as
      initialize_from_trained_model_folder builds it) and given the volume as an array with spacing 1,1,1:
      predict_single_npy_array (preprocessing, sliding window, export to labels) timed, every run; then its
      three steps timed one by one, as that function runs them
  nnunet_reference.py host FOLDER --volume 600x512x512 [--threads 1] [--labels-ref F]
      nnU-Net's work on the host alone, on the CPU, no network: DefaultPreprocessor.run_case_npy on the array
      (crop_to_nonzero, normalization, resampling to the model's grid), then
      convert_predicted_logits_to_segmentation_with_correct_shape on float16 logits made from the synthetic
      volume of the model's grid, bit for bit those of voxsegBenchNnUNetHost --labels-out (its export-back
      labels, compared with --labels-ref)
"""
import argparse
import importlib
import importlib.abc
import importlib.machinery
import json
import os
import pathlib
import sys
import time
import types

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
STANDINS = ("SimpleITK", "nibabel", "blosc2", "cc3d", "graphviz", "dicom2nifti", "imagecodecs", "yacs",
            "fft_conv_pytorch", "connected_components_3d")


class _UnavailableType(type):
    def __getattr__(cls, name):  # blosc2.ndarray.NDArray in a type annotation, say
        if name.startswith("__"):
            raise AttributeError(name)
        return _unavailable(f"{cls.__qualname__}.{name}")


def _unavailable(qualname):
    def refuse(*a, **k):
        raise RuntimeError(f"{qualname} is not available here (stand-in module)")

    return _UnavailableType(qualname.split(".")[-1], (), {"__qualname__": qualname, "__init__": refuse,
                                                          "__init_subclass__": classmethod(lambda c, **k: None)})


class _Missing(types.ModuleType):
    """A package nnunetv2 imports but this path never uses: any use raises."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return _unavailable(f"{self.__name__}.{name}")


class _StandInFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname, path, target=None):
        if fullname.split(".")[0] in STANDINS:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        m = _Missing(spec.name)
        m.__path__ = []
        return m

    def exec_module(self, module):
        pass


def setup_imports():
    peers = pathlib.Path(os.environ.get("NNUNET_PEERS", HERE.parent.parent / ".device-data" / "peers"))
    for d in ("nnUNet", "dynamic-network-architectures", "acvl_utils", "batchgenerators", "batchgeneratorsv2"):
        if (peers / d).is_dir():
            sys.path.insert(0, str(peers / d))
    sys.meta_path.append(_StandInFinder())  # last: a package that is installed is found first
    for v in ("nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"):
        os.environ.setdefault(v, "/tmp/nnunet-unused")
    import torch
    if not hasattr(torch, "_dynamo"):  # LibTorch 1.13's Python (the SMOKE run here): nnunetv2 imports a name
        dyn = types.ModuleType("torch._dynamo")
        dyn.OptimizedModule = type("OptimizedModule", (), {})
        sys.modules["torch._dynamo"] = dyn
        torch._dynamo = dyn


def plans_and_dataset(roi, stages, classes, spacing=1.0):
    feats = [min(32 * 2 ** i, 320) for i in range(stages)]
    cfg = {
        "data_identifier": "nnUNetPlans_3d_fullres", "preprocessor_name": "DefaultPreprocessor", "batch_size": 2,
        "patch_size": [roi] * 3, "median_image_size_in_voxels": [512.0, 512.0, 512.0], "spacing": [spacing] * 3,
        "normalization_schemes": ["ZScoreNormalization"], "use_mask_for_norm": [False],
        "resampling_fn_data": "resample_data_or_seg_to_shape", "resampling_fn_seg": "resample_data_or_seg_to_shape",
        "resampling_fn_data_kwargs": {"is_seg": False, "order": 3, "order_z": 0, "force_separate_z": None},
        "resampling_fn_seg_kwargs": {"is_seg": True, "order": 1, "order_z": 0, "force_separate_z": None},
        "resampling_fn_probabilities": "resample_data_or_seg_to_shape",
        "resampling_fn_probabilities_kwargs": {"is_seg": False, "order": 1, "order_z": 0, "force_separate_z": None},
        "architecture": {
            "network_class_name": "dynamic_network_architectures.architectures.unet.PlainConvUNet",
            "arch_kwargs": {
                "n_stages": stages, "features_per_stage": feats, "conv_op": "torch.nn.modules.conv.Conv3d",
                "kernel_sizes": [[3, 3, 3]] * stages, "strides": [[1, 1, 1]] + [[2, 2, 2]] * (stages - 1),
                "n_conv_per_stage": [2] * stages, "n_conv_per_stage_decoder": [2] * (stages - 1), "conv_bias": True,
                "norm_op": "torch.nn.modules.instancenorm.InstanceNorm3d",
                "norm_op_kwargs": {"eps": 1e-05, "affine": True}, "dropout_op": None, "dropout_op_kwargs": None,
                "nonlin": "torch.nn.LeakyReLU", "nonlin_kwargs": {"inplace": True}},
            "_kw_requires_import": ["conv_op", "norm_op", "dropout_op", "nonlin"]},
        "batch_dice": False}
    plans = {
        "dataset_name": "Dataset991_Synthetic", "plans_name": "nnUNetPlans",
        "original_median_spacing_after_transp": [1.0, 1.0, 1.0], "original_median_shape_after_transp": [512, 512, 512],
        "image_reader_writer": "SimpleITKIO", "transpose_forward": [0, 1, 2], "transpose_backward": [0, 1, 2],
        "configurations": {"3d_fullres": cfg}, "experiment_planner_used": "ExperimentPlanner",
        "label_manager": "LabelManager",
        "foreground_intensity_properties_per_channel": {"0": {
            "max": 2.5, "mean": 0.0, "median": 0.0, "min": -2.5, "percentile_00_5": -2.0, "percentile_99_5": 2.0,
            "std": 1.0}}}
    labels = {"background": 0, **{f"class{k}": k for k in range(1, classes)}}
    dataset = {"channel_names": {"0": "MRI"}, "labels": labels, "numTraining": 1, "file_ending": ".nii.gz",
               "name": "Synthetic", "description": "random weights, for timing (Testing/Device/nnunet_reference.py)"}
    return plans, dataset


def network(plans, dataset):
    from nnunetv2.utilities.get_network_from_plans import get_network_from_plans
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
    pm = PlansManager(plans)
    cm = pm.get_configuration("3d_fullres")
    lm = pm.get_label_manager(dataset)
    net = get_network_from_plans(cm.network_arch_class_name, cm.network_arch_init_kwargs,
                                 cm.network_arch_init_kwargs_req_import, len(dataset["channel_names"]),
                                 lm.num_segmentation_heads, allow_init=True, deep_supervision=False)
    return net, pm, cm


def make(a):
    import torch
    folder = pathlib.Path(a.folder)
    (folder / "fold_0").mkdir(parents=True, exist_ok=True)
    plans, dataset = plans_and_dataset(a.roi, a.stages, a.classes, a.spacing)
    torch.manual_seed(a.seed)
    net, _, _ = network(plans, dataset)  # nnU-Net's InitWeights_He through the network's initialize
    (folder / "plans.json").write_text(json.dumps(plans, indent=2))
    (folder / "dataset.json").write_text(json.dumps(dataset, indent=2))
    torch.save({"network_weights": net.state_dict(), "optimizer_state": None, "grad_scaler_state": None,
                "logging": {}, "_best_ema": None, "current_epoch": 1,
                "init_args": {"plans": plans, "configuration": "3d_fullres", "fold": 0, "dataset_json": dataset},
                "trainer_name": "nnUNetTrainer", "inference_allowed_mirroring_axes": (0, 1, 2)},
               folder / "fold_0" / "checkpoint_final.pth")
    print(f"made {folder}: {sum(p.numel() for p in net.parameters())} parameters")


def predict(a):
    import numpy as np
    import torch
    from nnunetv2.inference.predict_from_raw_data import nnUNetPredictor
    from nnunetv2.inference.data_iterators import PreprocessAdapterFromNpy
    from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape
    from synthetic import synthetic
    folder = pathlib.Path(a.folder)
    dev = torch.device(a.device)
    plans = json.loads((folder / "plans.json").read_text())
    dataset = json.loads((folder / "dataset.json").read_text())
    ckpt = torch.load(folder / "fold_0" / "checkpoint_final.pth", map_location="cpu", weights_only=False)
    net, pm, cm = network(plans, dataset)
    p = nnUNetPredictor(tile_step_size=0.5, use_gaussian=True, use_mirroring=bool(a.tta),
                        perform_everything_on_device=True, device=dev, verbose=False, allow_tqdm=False)
    p.manual_initialization(net, pm, cm, [ckpt["network_weights"]], dataset, ckpt["trainer_name"],
                            ckpt["inference_allowed_mirroring_axes"])
    shape = tuple(int(s) for s in a.volume.split("x"))
    img = synthetic(shape)[None]  # (c, z, y, x)
    props = {"spacing": [1.0, 1.0, 1.0]}
    sync = (lambda: torch.cuda.synchronize()) if dev.type == "cuda" else (lambda: None)
    print(f"nnU-Net {getattr(sys.modules.get('nnunetv2'), '__file__', '?')}, torch {torch.__version__}, "
          f"device {dev}, volume {a.volume}, tta {a.tta}, cudnn benchmark {torch.backends.cudnn.benchmark}")
    print(f"{'run':<13} {'rep':>4} {'seconds':>8} {'preprocess':>10} {'predict':>8} {'export':>7}")
    seg = None
    for rep in range(a.reps + 1):
        t = time.perf_counter()
        seg = p.predict_single_npy_array(img, props, None, None, False)
        sync()
        print(f"{'nnunet':<13} {rep:>4} {time.perf_counter() - t:>8.2f} {'-':>10} {'-':>8} {'-':>7}", flush=True)
    # the same three steps as predict_single_npy_array, one by one
    t0 = time.perf_counter()
    ppa = PreprocessAdapterFromNpy([img], [None], [props], [None], p.plans_manager, p.dataset_json,
                                   p.configuration_manager, num_threads_in_multithreaded=1, verbose=False)
    dct = next(ppa)
    t1 = time.perf_counter()
    logits = p.predict_logits_from_preprocessed_data(dct["data"]).cpu()
    sync()
    t2 = time.perf_counter()
    seg2 = convert_predicted_logits_to_segmentation_with_correct_shape(
        logits, p.plans_manager, p.configuration_manager, p.label_manager, dct["data_properties"],
        return_probabilities=False)
    t3 = time.perf_counter()
    print(f"{'nnunet-steps':<13} {a.reps + 1:>4} {t3 - t0:>8.2f} {t1 - t0:>10.2f} {t2 - t1:>8.2f} {t3 - t2:>7.2f}")
    seg = np.asarray(seg).astype(np.uint8)
    same_runs = int((np.asarray(seg2).astype(np.uint8) == seg).sum())
    print(f"labels: the step-by-step run agrees with predict_single_npy_array in {same_runs} of {seg.size} voxels")
    if a.labels_out:
        seg.tofile(a.labels_out)
    if a.labels_ref:
        compare_labels(seg, a.labels_ref)


def compare_labels(seg, path):
    """Prints how many voxels of nnU-Net's labels differ from voxseg's (uint8, z y x, in `path`)."""
    ref = np.fromfile(path, dtype=np.uint8)
    if ref.size != seg.size:
        print(f"labels: {path} has {ref.size} voxels, not {seg.size}")
        return
    differ = int((ref != seg.reshape(-1)).sum())
    print(f"labels: {differ} of {seg.size} voxels differ from {path} "
          f"({100.0 * (seg.size - differ) / seg.size:.4f}% equal); label counts nnU-Net "
          f"{np.bincount(seg.reshape(-1), minlength=3).tolist()}, reference {np.bincount(ref, minlength=3).tolist()}")


def logits_of(volume, classes):
    """voxsegBenchNnUNetHost's logits, bit for bit: channel k is -|v - level_k| * 3 in float32, as float16."""
    out = np.empty((classes,) + volume.shape, np.float16)
    for k in range(classes):
        level = np.float32(-2) + np.float32(4) * np.float32(k) / np.float32(max(classes - 1, 1))
        out[k] = (-np.abs(volume - level) * np.float32(3)).astype(np.float16)
    return out


def host(a):
    """nnU-Net's host work alone (no network) on the CPU, for voxsegBenchNnUNetHost's side-by-side."""
    import torch
    from nnunetv2.preprocessing.preprocessors.default_preprocessor import DefaultPreprocessor
    from nnunetv2.inference.export_prediction import convert_predicted_logits_to_segmentation_with_correct_shape
    from nnunetv2.utilities.plans_handling.plans_handler import PlansManager
    from synthetic import synthetic
    torch.set_num_threads(a.threads)
    folder = pathlib.Path(a.folder)
    pm = PlansManager(json.loads((folder / "plans.json").read_text()))
    cm = pm.get_configuration("3d_fullres")
    dataset = json.loads((folder / "dataset.json").read_text())
    lm = pm.get_label_manager(dataset)
    shape = tuple(int(s) for s in a.volume.split("x"))
    img = synthetic(shape)[None]
    print(f"nnU-Net {getattr(sys.modules.get('nnunetv2'), '__file__', '?')}, torch {torch.__version__} "
          f"({a.threads} threads), volume {a.volume} at 1 mm, model at {cm.spacing} mm, CPU, no network")
    t = time.perf_counter()
    data, _, props = DefaultPreprocessor(verbose=False).run_case_npy(img, None, {"spacing": [1.0, 1.0, 1.0]}, pm, cm,
                                                                     dataset)
    t_pre = time.perf_counter() - t
    net = tuple(data.shape[1:])
    logits = torch.from_numpy(logits_of(synthetic(net), len(dataset["labels"])))
    t = time.perf_counter()
    seg = convert_predicted_logits_to_segmentation_with_correct_shape(logits, pm, cm, lm, props,
                                                                      return_probabilities=False)
    t_exp = time.perf_counter() - t
    seg = np.asarray(seg).astype(np.uint8)
    print(f"nnunet-host preprocess {t_pre:.2f} s (crop_to_nonzero, normalization, resampling to "
          f"{'x'.join(map(str, net))}), export {t_exp:.2f} s, both {t_pre + t_exp:.2f} s")
    if a.labels_ref:
        compare_labels(seg, a.labels_ref)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("folder")
    m.add_argument("--roi", type=int, default=128)
    m.add_argument("--stages", type=int, default=6)
    m.add_argument("--classes", type=int, default=3)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--spacing", type=float, default=1.0,
                   help="the configuration's spacing in mm (the arrays are at 1 mm: another value resamples them)")
    p = sub.add_parser("predict")
    p.add_argument("folder")
    p.add_argument("--volume", default="600x512x512")
    p.add_argument("--device", default="cuda")
    p.add_argument("--reps", type=int, default=2)
    p.add_argument("--tta", type=int, default=0)
    p.add_argument("--labels-out")
    p.add_argument("--labels-ref")
    h = sub.add_parser("host")
    h.add_argument("folder")
    h.add_argument("--volume", default="600x512x512")
    h.add_argument("--threads", type=int, default=1)
    h.add_argument("--labels-ref")
    a = ap.parse_args()
    setup_imports()
    {"make": make, "predict": predict, "host": host}[a.cmd](a)


if __name__ == "__main__":
    main()
