"""The same sliding window as voxsegBenchInference, written in plain PyTorch (eager, optional
autocast), timed on the same GPU in the same run. MONAI's sliding_window_inference is timed too
when MONAI can be imported. Usage: torch_sliding_window.py NET.pt VOLUME.npy [roi] [sw_batch]"""
import sys, time
import numpy as np
import torch


def gaussian(roi, sigma_scale, device):
    m = None
    for i, n in enumerate(roi):
        x = torch.arange(-(n - 1) / 2.0, (n - 1) / 2.0 + 1, dtype=torch.float, device=device)
        x = torch.exp(x ** 2 / (-2 * (sigma_scale * n) ** 2))
        m = x if i == 0 else m.unsqueeze(-1) * x[(None,) * i]
    return torch.clamp(m, min=max(m.min().item(), 1e-3))


def starts(size, roi, overlap):
    interval = roi if roi == size else max(int(roi * (1 - overlap)), 1)
    d = 0
    while d * interval + roi < size:
        d += 1
    return [min(i * interval, size - roi) for i in range(d + 1)]


def sliding_window(net, x, roi, overlap, sw_batch, dtype):
    w = gaussian(roi, 0.125, x.device)
    windows = [(a, b, c) for a in starts(x.shape[2], roi[0], overlap) for b in starts(x.shape[3], roi[1], overlap)
               for c in starts(x.shape[4], roi[2], overlap)]
    out = count = None
    for i in range(0, len(windows), sw_batch):
        group = windows[i:i + sw_batch]
        batch = torch.cat([x[:, :, a:a + roi[0], b:b + roi[1], c:c + roi[2]] for a, b, c in group])
        with torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
            pred = net(batch).float()
        if out is None:
            out = torch.zeros((1, pred.shape[1]) + x.shape[2:], device=x.device)
            count = torch.zeros((1, 1) + x.shape[2:], device=x.device)
        for j, (a, b, c) in enumerate(group):
            out[:, :, a:a + roi[0], b:b + roi[1], c:c + roi[2]] += pred[j] * w
            count[:, :, a:a + roi[0], b:b + roi[1], c:c + roi[2]] += w
    return out / count, len(windows)


def timed(f):
    f()  # warm-up
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    r = f()
    torch.cuda.synchronize()
    return r, time.perf_counter() - t0


def main():
    net_path, vol_path = sys.argv[1], sys.argv[2]
    roi = (int(sys.argv[3]),) * 3 if len(sys.argv) > 3 else (96, 96, 96)
    sw_batch = int(sys.argv[4]) if len(sys.argv) > 4 else 4
    dev = torch.device("cuda")
    net = torch.jit.load(net_path, map_location=dev).eval()
    vol = np.load(vol_path).astype(np.float32)
    x = torch.from_numpy(vol.reshape((1, 1) + vol.shape[-3:])).to(dev)
    try:
        from monai.inferers import sliding_window_inference
    except Exception:
        sliding_window_inference = None
    print(f"torch {torch.__version__} on {torch.cuda.get_device_name(0)}; MONAI: {'yes' if sliding_window_inference else 'not importable'}")
    print(f"{'implementation':<22} {'precision':<9} {'overlap':>7} {'windows':>8} {'seconds':>8} {'windows/s':>10}")
    with torch.inference_mode():
        for dtype, name in ((torch.float32, "float32"), (torch.float32, "tf32"), (torch.float16, "float16"),
                            (torch.bfloat16, "bfloat16")):
            torch.backends.cudnn.allow_tf32 = name == "tf32"
            torch.backends.cuda.matmul.allow_tf32 = name == "tf32"
            for overlap in (0.25, 0.5):
                (y, n), s = timed(lambda: sliding_window(net, x, roi, overlap, sw_batch, dtype))
                print(f"{'pytorch eager':<22} {name:<9} {overlap:>7.2f} {n:>8} {s:>8.3f} {n / s:>10.2f}")
                if sliding_window_inference is not None and dtype == torch.float32:
                    _, s = timed(lambda: sliding_window_inference(x, roi, sw_batch, net, overlap=overlap, mode="gaussian"))
                    print(f"{'monai':<22} {name:<9} {overlap:>7.2f} {n:>8} {s:>8.3f} {n / s:>10.2f}")


if __name__ == "__main__":
    main()
