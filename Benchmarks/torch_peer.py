#!/usr/bin/env python3
"""PyTorch peer of `mesh-bench compute`: the same reference ViT training step, eager mode.

32x32x3 images, patch 4 -> 64 tokens, linear patch embedding + learned position embedding,
6 pre-norm blocks (width 192, 3 heads, GELU MLP 4x), final LayerNorm, linear head back to
patch pixels, MSE against the input patches, batch 64, AdamW.

With --dit: the reference DiT step of `mesh-bench generator` instead (issue 9 §8): batch 64
latents 8x8x8 (patch 1, 64 tokens), width 256, depth 6, 4 heads, MLP 4x GELU, LayerNorm without
affine + adaLN-Zero from c = timestep MLP(256 sinusoidal) + Linear(mean of 16 text tokens of dim
384), cross-attention (LayerNorm, q from tokens, k/v from text, output projection), final adaLN +
Linear to 8 channels, velocity MSE, AdamW (0.9, 0.95).

Usage: python3 Benchmarks/torch_peer.py [--dit] [--threads 2] [--steps 7] [--warmup 2] [--batch 64]
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


class DiTBlock(nn.Module):
    def __init__(self, d, heads, ctx):
        super().__init__()
        self.heads = heads
        self.norm1 = nn.LayerNorm(d, eps=1e-6, elementwise_affine=False)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.norm_cross = nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(ctx, 2 * d)
        self.cproj = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d, eps=1e-6, elementwise_affine=False)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)
        self.ada = nn.Linear(d, 6 * d)
        nn.init.zeros_(self.ada.weight); nn.init.zeros_(self.ada.bias)

    def heads_(self, x):
        b, t, d = x.shape
        return x.reshape(b, t, self.heads, d // self.heads).transpose(1, 2)

    def forward(self, x, c, ctx, mask):
        b, t, d = x.shape
        s1, c1, g1, s2, c2, g2 = self.ada(F.silu(c)).unsqueeze(1).chunk(6, dim=2)
        q, k, v = self.qkv(self.norm1(x) * (1 + c1) + s1).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        x = x + g1 * self.proj(F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, d))
        kk, vv = self.kv(ctx).chunk(2, dim=2)
        a = F.scaled_dot_product_attention(self.heads_(self.q(self.norm_cross(x))), self.heads_(kk), self.heads_(vv), attn_mask=mask)
        x = x + self.cproj(a.transpose(1, 2).reshape(b, t, d))
        return x + g2 * self.fc2(F.gelu(self.fc1(self.norm2(x) * (1 + c2) + s2)))


class ReferenceDiT(nn.Module):
    T, C, D, DEPTH, HEADS, S, E, F = 64, 8, 256, 6, 4, 16, 384, 256

    def __init__(self):
        super().__init__()
        d = self.D
        self.in_proj = nn.Linear(self.C, d)
        self.pos = nn.Parameter(torch.randn(1, self.T, d) * 0.02)
        self.t1, self.t2 = nn.Linear(self.F, d), nn.Linear(d, d)
        self.text_pool = nn.Linear(self.E, d)
        self.blocks = nn.ModuleList([DiTBlock(d, self.HEADS, self.E) for _ in range(self.DEPTH)])
        self.final_norm = nn.LayerNorm(d, eps=1e-6, elementwise_affine=False)
        self.final_ada = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, self.C)
        for m in (self.final_ada, self.out):
            nn.init.zeros_(m.weight); nn.init.zeros_(m.bias)

    def forward(self, x, t, ctx, pad):
        half = self.F // 2
        freqs = torch.exp(-torch.log(torch.tensor(10000.0)) * torch.arange(half) / half)
        args = (t * 1000)[:, None] * freqs[None]
        temb = self.t2(F.silu(self.t1(torch.cat([args.cos(), args.sin()], dim=1))))
        m = pad[:, :, None]
        c = temb + self.text_pool((ctx * m).sum(1) / m.sum(1))
        mask = pad[:, None, None, :] > 0
        h = self.in_proj(x) + self.pos
        for blk in self.blocks:
            h = blk(h, c, ctx, mask)
        shift, scale = self.final_ada(F.silu(c)).unsqueeze(1).chunk(2, dim=2)
        return self.out(self.final_norm(h) * (1 + scale) + shift)


def dit_step_flops(b):
    B, T, S, D, E, C, Fd = b, 64, 16, 256, 384, 8, 256
    n = B * T
    per = 8 * n * D * D + 4 * B * T * T * D + 16 * n * D * D + 4 * n * D * D + 4 * B * S * E * D + 4 * B * T * S * D + 12 * B * D * D
    outer = 4 * n * C * D + 2 * B * (Fd * D + D * D) + 2 * B * E * D + 4 * B * D * D
    return 3 * (6 * per + outer)


def run_dit(a, gemm):
    model = ReferenceDiT()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0)
    x0, eps = torch.randn(a.batch, 64, 8), torch.randn(a.batch, 64, 8)
    t = torch.rand(a.batch)
    xt = (1 - t)[:, None, None] * x0 + t[:, None, None] * eps
    target = eps - x0
    ctx, pad = torch.randn(a.batch, 16, 384), torch.ones(a.batch, 16)
    times = []
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        loss = F.mse_loss(model(xt, t, ctx, pad), target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if s >= a.warmup:
            times.append(time.perf_counter() - t0)
    ms = statistics.median(times) * 1000
    gflops = dit_step_flops(a.batch) / (ms / 1000) / 1e9
    params = sum(p.numel() for p in model.parameters())
    print(f"reference DiT ({params} parameters) step (torch eager): {ms:.1f} ms median "
          f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}), {gflops:.1f} GFLOP/s, {gflops / gemm:.3f} of torch sgemm(1024)")
    print(json.dumps({"dit_step_ms": round(ms, 1), "dit_step_ms_min": round(min(times) * 1000, 1),
                      "dit_step_ms_max": round(max(times) * 1000, 1), "dit_step_gflops": round(gflops, 1),
                      "dit_step_mfu_vs_torch_sgemm": round(gflops / gemm, 3), "dit_parameters": params,
                      "torch_sgemm_gflops_1024": round(gemm, 1), "threads": a.threads, "batch": a.batch}))


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
    ap.add_argument("--dit", action="store_true", help="the reference DiT step of mesh-bench generator")
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
    if a.dit:
        return run_dit(a, gemm)

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
