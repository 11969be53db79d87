"""How far PyTorch itself moves the fixture networks' outputs under CUDA autocast (run.sh, issue [9]).

voxsegDeviceCheck compares voxseg's CUDA sliding window in float16/bfloat16 autocast with its CPU float32
result. This runs the same TorchScript networks on the same images with plain PyTorch, tile by tile (the
parity cases' 24x32x16 window, zero padding, no blending), on the CPU in float32 and on the GPU in each
precision, and prints the same two numbers: max |diff| / max |CPU output| and the share of voxels whose
argmax agrees. Where PyTorch's own autocast gives the same numbers, they belong to the precision and the
network, not to voxseg's engine.
    python3 Testing/Device/autocast_reference.py .device-data [--device cuda]
"""
import argparse
import pathlib

import numpy as np
import torch


def tiled(net, x, roi, device, dtype):
    """Runs every roi tile of x (1, C, D, H, W), zero-padded up to whole tiles; float32 output on the host."""
    shape = x.shape[2:]
    padded = [-(-s // r) * r for s, r in zip(shape, roi)]
    xp = torch.zeros((1, x.shape[1], *padded))
    xp[:, :, :shape[0], :shape[1], :shape[2]] = x
    out = None
    for a in range(0, padded[0], roi[0]):
        for b in range(0, padded[1], roi[1]):
            for c in range(0, padded[2], roi[2]):
                t = xp[:, :, a:a + roi[0], b:b + roi[1], c:c + roi[2]].to(device)
                if dtype == torch.float32:
                    y = net(t).float().cpu()
                else:
                    with torch.autocast(device.type, dtype=dtype):
                        y = net(t).float().cpu()
                if out is None:
                    out = torch.zeros((1, y.shape[1], *padded))
                out[:, :, a:a + roi[0], b:b + roi[1], c:c + roi[2]] = y
    return out[:, :, :shape[0], :shape[1], :shape[2]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--roi", default="24,32,16")
    args = ap.parse_args()
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    roi = [int(v) for v in args.roi.split(",")]
    dev = torch.device(args.device)
    monai = pathlib.Path(args.data) / "monai"
    precisions = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    print(f"torch {torch.__version__}; PyTorch eager, {'x'.join(map(str, roi))} tiles, {dev} autocast against "
          f"CPU float32")
    print(f"{'network':<10} {'image':<6} {'precision':<9} {'rel. diff':>10} {'argmax ok':>10}")
    with torch.inference_mode():
        for name in ("unet", "segresnet"):
            cpu_net = torch.jit.load(str(monai / f"net_{name}.pt"), map_location="cpu").eval()
            dev_net = torch.jit.load(str(monai / f"net_{name}.pt"), map_location=dev).eval()
            for image in ("a", "b", "c"):
                x = torch.from_numpy(np.load(monai / f"img_{image}.npy"))
                ref = tiled(cpu_net, x, roi, torch.device("cpu"), torch.float32)
                for p, dtype in precisions.items():
                    if dev.type == "cpu" and p != "float32":
                        continue
                    out = tiled(dev_net, x, roi, dev, dtype)
                    rel = float((out - ref).abs().max() / ref.abs().max())
                    agree = float((out.argmax(1) == ref.argmax(1)).double().mean()) * 100
                    print(f"{name:<10} img_{image:<2} {p:<9} {rel:>10.2e} {agree:>9.3f}%", flush=True)


if __name__ == "__main__":
    main()
