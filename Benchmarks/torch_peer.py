#!/usr/bin/env python3
"""PyTorch peer of `mesh-bench compute`: the same reference ViT training step, eager mode.

32x32x3 images, patch 4 -> 64 tokens, linear patch embedding + learned position embedding,
6 pre-norm blocks (width 192, 3 heads, GELU MLP 4x), final LayerNorm, linear head back to
patch pixels, MSE against the input patches, batch 64, AdamW.

Usage: python3 Benchmarks/torch_peer.py [--threads 2] [--steps 7] [--warmup 2] [--batch 64]
Prints human-readable lines, then one JSON object as the last stdout line.
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PATCH, TOKENS, WIDTH, DEPTH, HEADS = 4, 64, 192, 6, 3


class Block(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(a)
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class ReferenceViT(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(3 * PATCH * PATCH, WIDTH)
        self.pos = nn.Parameter(torch.randn(1, TOKENS, WIDTH) * 0.02)
        self.blocks = nn.ModuleList([Block(WIDTH, HEADS) for _ in range(DEPTH)])
        self.norm = nn.LayerNorm(WIDTH)
        self.head = nn.Linear(WIDTH, 3 * PATCH * PATCH)

    def forward(self, p):
        h = self.embed(p) + self.pos
        for blk in self.blocks:
            h = blk(h)
        return self.head(self.norm(h))


def patchify(x, p):
    b, c, h, w = x.shape
    return x.reshape(b, c, h // p, p, w // p, p).permute(0, 2, 4, 1, 3, 5).reshape(b, (h // p) * (w // p), c * p * p)


def step_flops(batch):
    n, d, t = batch * TOKENS, WIDTH, TOKENS
    per_layer = 24 * n * d * d + 4 * batch * t * t * d
    return 3 * (DEPTH * per_layer + 4 * n * 48 * d)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=7)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    n = 1024
    x, y = torch.randn(n, n), torch.randn(n, n)
    for _ in range(2):
        torch.mm(x, y)
    ts = []
    for _ in range(5):
        t0 = time.perf_counter(); torch.mm(x, y); ts.append(time.perf_counter() - t0)
    gemm = 2 * n ** 3 / statistics.median(ts) / 1e9
    print(f"torch {torch.__version__}, threads={torch.get_num_threads()}, sgemm n=1024: {gemm:.1f} GFLOPS")

    model = ReferenceViT()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    target = patchify(torch.rand(a.batch, 3, 32, 32) * 2 - 1, PATCH).contiguous()
    times = []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        loss = F.mse_loss(model(target), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    gflops = step_flops(a.batch) / (ms / 1000) / 1e9
    print(f"reference ViT step (torch eager): {ms:.1f} ms median, {gflops:.1f} GFLOP/s, "
          f"{gflops / gemm:.3f} of torch sgemm(1024)")
    print(json.dumps({"vit_step_ms": round(ms, 1), "vit_step_gflops": round(gflops, 1),
                      "torch_sgemm_gflops_1024": round(gemm, 1), "threads": a.threads, "batch": a.batch}))


if __name__ == "__main__":
    main()
