"""The synthetic input volume of the GPU checks, bit for bit as Testing/Device/Synthetic.h makes it for
voxsegDeviceBench and voxsegDeviceNnUNet: float32 tables of sin(0.05 x), cos(0.07 y), sin(0.03 z + 0.5) and
0.5 sin(0.011 i), then sx[x] + cy[y] sz[z] + diag[z + y + x], summed in float32 in that order."""
import numpy as np


def synthetic(shape):
    """(z, y, x) float32."""
    z, y, x = shape
    table = lambda f, n: f(np.arange(n, dtype=np.float64)).astype(np.float32)
    sx = table(lambda i: np.sin(0.05 * i), x)
    cy = table(lambda i: np.cos(0.07 * i), y)
    sz = table(lambda i: np.sin(0.03 * i + 0.5), z)
    diag = table(lambda i: 0.5 * np.sin(0.011 * i), z + y + x)
    rows = np.lib.stride_tricks.sliding_window_view(diag, x)  # rows[k] = diag[k : k + x]
    out = np.empty((z, y, x), np.float32)
    for k in range(z):  # a plane at a time: no index array of the whole volume
        out[k] = (sx[None, :] + (sz[k] * cy)[:, None]) + rows[k:k + y]
    return out
