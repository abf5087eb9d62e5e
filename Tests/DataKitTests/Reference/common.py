"""Shared helpers for the reference scripts: locating model files, a tiny PNG decoder, IDX reading.

numpy + the standard library only, so the references stay independent of the Swift code.
"""
import gzip
import importlib.util
import os
import struct
import zlib

import numpy as np

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def models_dir():
    return os.environ.get("MESH_MODELS_DIR") or os.path.join(REPO, ".latentmesh", "models")


def skimage_data_dir():
    """skimage/data of the `scikit-image` wheel (installed --no-deps by scripts/bootstrap), found
    without importing skimage."""
    spec = importlib.util.find_spec("skimage")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("scikit-image is not installed; run scripts/bootstrap")
    return os.path.join(os.path.dirname(spec.origin), "data")


def read_png_rgba(path):
    """Decodes a non-interlaced 8-bit PNG (gray, RGB, palette, gray+alpha, RGBA) to uint8 [H, W, 4]."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, plte, trns = 8, b"", None, None
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0, f"{path}: depth {depth}, interlace {interlace} unsupported"
        elif kind == b"PLTE":
            plte = np.frombuffer(body, np.uint8).reshape(-1, 3)
        elif kind == b"tRNS":
            trns = np.frombuffer(body, np.uint8)
        elif kind == b"IDAT":
            idat += body
    ch = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = np.frombuffer(zlib.decompress(idat), np.uint8)
    stride = w * ch
    rows = np.zeros((h, stride), np.int32)
    prev = np.zeros(stride, np.int32)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)].astype(np.int32)
        cur = np.zeros(stride, np.int32)
        if f in (0, 2):
            cur = (line + (prev if f == 2 else 0)) & 255
        else:
            for x in range(stride):
                a = cur[x - ch] if x >= ch else 0
                b = prev[x]
                c = prev[x - ch] if x >= ch else 0
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if (pa <= pb and pa <= pc) else (b if pb <= pc else c)
                cur[x] = (line[x] + pred) & 255
        rows[y] = cur
        prev = cur
    px = rows.reshape(h, w, ch).astype(np.uint8)
    if ctype == 3:
        idx = px[..., 0]
        alpha = np.full(256, 255, np.uint8)
        if trns is not None:
            alpha[:len(trns)] = trns
        return np.concatenate([plte[idx], alpha[idx][..., None]], -1)
    if ctype == 0:
        return np.concatenate([px, px, px, np.full_like(px, 255)], -1)
    if ctype == 4:
        return np.concatenate([px[..., :1]] * 3 + [px[..., 1:]], -1)
    if ctype == 2:
        return np.concatenate([px, np.full(px.shape[:2] + (1,), 255, np.uint8)], -1)
    return px


def rgba_on_white(rgba):
    """Float RGB in [0, 1], alpha composited on white. [H, W, 3]"""
    a = rgba.astype(np.float32) / 255
    return a[..., :3] * a[..., 3:] + (1 - a[..., 3:])


def read_idx_gz(path):
    data = gzip.open(path, "rb").read()
    nd = data[3]
    dims = struct.unpack(">" + "I" * nd, data[4:4 + 4 * nd])
    return np.frombuffer(data[4 + 4 * nd:], np.uint8).reshape(dims)


def triangle_weights(n_in, n_out):
    """Antialiased bilinear resampling matrix [n_out, n_in]: triangle filter whose radius is
    max(1, n_in / n_out) source pixels, rows normalised."""
    scale = n_in / n_out
    support = max(scale, 1.0)
    m = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        center = (o + 0.5) * scale
        lo = max(0, int(np.floor(center - support)))
        hi = min(n_in, int(np.ceil(center + support)))
        for i in range(lo, hi):
            m[o, i] = max(0.0, 1 - abs((i + 0.5 - center) / support))
        s = m[o].sum()
        if s > 0:
            m[o] /= s
        else:
            m[o, min(n_in - 1, int(center))] = 1
    return m


def resize(img, size):
    """[H, W, C] float -> [size, size, C] with the separable triangle filter."""
    h, w, _ = img.shape
    my, mx = triangle_weights(h, size), triangle_weights(w, size)
    return np.einsum("oh,hwc,pw->opc", my, img.astype(np.float64), mx).astype(np.float32)
