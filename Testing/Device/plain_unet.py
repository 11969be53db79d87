"""nnU-Net's default 3d_fullres network shape (dynamic_network_architectures' PlainConvUNet: 6 stages,
32..320 features, 2 convolutions per stage, InstanceNorm + LeakyReLU, transposed convolutions,
deep supervision off), seeded random weights, and the same sliding window written in plain PyTorch
(eager, autocast) for the comparison with voxsegDeviceBench in one run on one GPU.

  plain_unet.py make OUT.pt [--stages 6] [--classes 3] [--roi 128]
      traces the network (as nnU-Net users export it) into a TorchScript file
  plain_unet.py bench NET.pt [--volume 256x256x256] [--roi 128] [--precisions float32,float16,bfloat16]
      [--sw-batches 1,2,4] [--device cuda] [--reps 2]
      the eager module (weights from NET.pt) over the same windows as voxseg's nnU-Net tiling:
      windows/s, and the network alone (forward calls in a loop) for the engine's share; the result
      (float32 logits, or with --labels the argmax) is brought to the host as voxseg's engine does
"""
import argparse
import contextlib
import math
import time

import torch
from torch import nn

from synthetic import synthetic as synthetic_volume


class ConvBlock(nn.Sequential):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv = nn.Conv3d(cin, cout, 3, stride, 1)
        self.norm = nn.InstanceNorm3d(cout, eps=1e-5, affine=True)
        self.nonlin = nn.LeakyReLU(0.01, inplace=True)


def stacked(cin, cout, stride):
    return nn.Sequential(ConvBlock(cin, cout, stride), ConvBlock(cout, cout, 1))


class PlainConvUNet(nn.Module):
    def __init__(self, stages=6, base=32, cap=320, classes=3, cin=1):
        super().__init__()
        feats = [min(base * 2 ** i, cap) for i in range(stages)]
        self.encoder = nn.ModuleList(
            [stacked(cin if i == 0 else feats[i - 1], feats[i], 1 if i == 0 else 2) for i in range(stages)])
        self.up = nn.ModuleList([nn.ConvTranspose3d(feats[i + 1], feats[i], 2, 2) for i in reversed(range(stages - 1))])
        self.decoder = nn.ModuleList([stacked(2 * feats[i], feats[i], 1) for i in reversed(range(stages - 1))])
        self.head = nn.Conv3d(feats[0], classes, 1)

    def forward(self, x):
        skips = []
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.up, self.decoder):
            x = dec(torch.cat([up(x), skips.pop()], 1))
        return self.head(x)


def he_init(m):  # nnU-Net's InitWeights_He(1e-2)
    if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
        nn.init.kaiming_normal_(m.weight, a=1e-2)
        if m.bias is not None:
            nn.init.zeros_(m.bias)


def starts(size, tile, step=0.5):  # nnU-Net's compute_steps_for_sliding_window, one axis
    n = int(math.ceil((size - tile) / (tile * step))) + 1
    if n == 1:
        return [0]
    return [int(round((size - tile) / (n - 1) * i)) for i in range(n)]


def gaussian(tile, device, sigma_scale=0.125):
    m = None
    for i, n in enumerate(tile):
        c = torch.arange(n, dtype=torch.float32, device=device) - (n - 1) / 2.0
        g = torch.exp(-c ** 2 / (2 * (sigma_scale * n) ** 2))
        m = g if i == 0 else m.unsqueeze(-1) * g[(None,) * i]
    m = m / m.max()
    return torch.clamp(m, min=m[m > 0].min().item())


def autocast(device, dtype):
    if dtype == torch.float32:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


def sliding_window(net, x, tile, batch, dtype, labels=False):
    """nnU-Net-style loop: Gaussian-weighted float32 accumulators on the device, autocast forward."""
    w = gaussian(tile, x.device)
    wins = [(a, b, c) for a in starts(x.shape[2], tile[0]) for b in starts(x.shape[3], tile[1])
            for c in starts(x.shape[4], tile[2])]
    out = count = None
    for i in range(0, len(wins), batch):
        group = wins[i:i + batch]
        xb = torch.cat([x[:, :, a:a + tile[0], b:b + tile[1], c:c + tile[2]] for a, b, c in group])
        with autocast(x.device, dtype):
            pred = net(xb).float()
        if out is None:
            out = torch.zeros((pred.shape[1],) + tuple(x.shape[2:]), device=x.device)
            count = torch.zeros(tuple(x.shape[2:]), device=x.device)
        pred *= w
        for j, (a, b, c) in enumerate(group):
            out[:, a:a + tile[0], b:b + tile[1], c:c + tile[2]] += pred[j]
            count[a:a + tile[0], b:b + tile[1], c:c + tile[2]] += w
    out /= count
    return (out.argmax(0).to(torch.uint8) if labels else out).cpu(), len(wins)


def synthetic(shape, device):  # voxsegDeviceBench's volume, bit for bit (synthetic.py)
    return torch.from_numpy(synthetic_volume(shape))[None, None].to(device)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(args):
    dev = torch.device(args.device)
    ts = torch.jit.load(args.network, map_location="cpu")
    sd = ts.state_dict()
    stages = len({k.split(".")[1] for k in sd if k.startswith("encoder.")})
    net = PlainConvUNet(stages=stages, classes=sd["head.weight"].shape[0])
    net.load_state_dict(sd)
    net = net.to(dev).eval()
    torch.backends.cudnn.benchmark = True
    shape = tuple(int(v) for v in args.volume.split("x"))
    x = synthetic(shape, dev)
    tile = (args.roi,) * 3
    name = torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu"
    print(f"torch {torch.__version__} on {name}; eager PlainConvUNet ({stages} stages), volume {args.volume}, "
          f"nnU-Net tiling step 0.5, cudnn benchmark on")
    print(f"{'precision':<9} {'batch':>5} {'windows':>7} {'seconds':>8} {'windows/s':>10} {'net-only w/s':>12}")
    types = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    with torch.inference_mode():
        for p in args.precisions.split(","):
            torch.backends.cudnn.allow_tf32 = False
            torch.backends.cuda.matmul.allow_tf32 = False
            for b in (int(v) for v in args.sw_batches.split(",")):
                best, n = 1e30, 0
                for rep in range(args.reps + 1):  # the first run warms up
                    t0 = time.perf_counter()
                    _, n = sliding_window(net, x, tile, b, types[p], args.labels)
                    sync(dev)
                    if rep > 0 or args.reps == 0:
                        best = min(best, time.perf_counter() - t0)
                if args.no_network_only:
                    print(f"{p:<9} {b:>5} {n:>7} {best:>8.2f} {n / best:>10.2f} {'-':>12}", flush=True)
                    continue
                xb = torch.randn((b, 1) + tile, device=dev)

                def only():
                    for _ in range(0, n, b):
                        with autocast(dev, types[p]):
                            net(xb).float()
                    sync(dev)
                only()
                t0 = time.perf_counter()
                only()
                s = time.perf_counter() - t0
                print(f"{p:<9} {b:>5} {n:>7} {best:>8.2f} {n / best:>10.2f} {n / s:>12.2f}", flush=True)


def make(args):
    torch.manual_seed(0)
    net = PlainConvUNet(stages=args.stages, classes=args.classes).eval()
    net.apply(he_init)
    # Traced on a smaller window (the graph has no size in it; InstanceNorm needs more than one voxel at the
    # bottom): a 128^3 forward pass on the CPU would take most of a minute.
    size = min(args.roi, 64)
    with torch.no_grad():
        traced = torch.jit.trace(net, torch.randn(1, 1, size, size, size))
    traced.save(args.out)
    print(f"wrote {args.out}: {sum(p.numel() for p in net.parameters()):,} parameters")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("make")
    m.add_argument("out")
    m.add_argument("--stages", type=int, default=6)
    m.add_argument("--classes", type=int, default=3)
    m.add_argument("--roi", type=int, default=128)
    b = sub.add_parser("bench")
    b.add_argument("network")
    b.add_argument("--volume", default="256x256x256")
    b.add_argument("--roi", type=int, default=128)
    b.add_argument("--precisions", default="float32,float16,bfloat16")
    b.add_argument("--sw-batches", default="1,2,4")
    b.add_argument("--device", default="cuda")
    b.add_argument("--reps", type=int, default=2)
    b.add_argument("--labels", action="store_true", help="labels (argmax on the device) to the host, not logits")
    b.add_argument("--no-network-only", action="store_true")
    args = ap.parse_args()
    make(args) if args.cmd == "make" else bench(args)


if __name__ == "__main__":
    main()
