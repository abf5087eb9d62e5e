#!/usr/bin/env python3
"""Generates images with LatentMesh's generator-svc and writes one PNG per image.

    MESH_AMQP_URL=amqp://user:pass@127.0.0.1:5672/%2f \\
      clients/python/examples/generate.py "a red dress" "a blue sneaker" -n 4 -o out/

Each PNG carries its prompt, seed, steps, guidance, sampler, model, tokenizer and commit in
tEXt chunks. The last stdout line is a JSON summary (run id, request id, from_store, files).
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from latentmesh import MeshClient, MeshError, ServiceError  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("prompts", nargs="+", help="one or more prompts")
    ap.add_argument("-o", "--out-dir", default="out", help="folder for the PNGs (created)")
    ap.add_argument("-n", "--n", type=int, default=1, help="images per prompt (1..16)")
    ap.add_argument("--steps", type=int, default=28, help="sampler steps (1..1000)")
    ap.add_argument("--guidance", type=float, default=3.0, help="classifier-free guidance (0..20)")
    ap.add_argument("--seed", type=int, default=0, help="image j of every prompt uses seed + j")
    ap.add_argument("--model", default="", help="registered generator (default generator-default)")
    ap.add_argument("--sampler", default="euler", choices=["euler", "heun"])
    ap.add_argument("--priority", type=int, default=0, help="0..9; > 0 jumps the queue")
    ap.add_argument("--request-id", default=None, help="idempotency key: the same id returns the stored result")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds for the whole call")
    ap.add_argument("--amqp", default=None, help="broker URL (default $MESH_AMQP_URL)")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args()

    def progress(p):
        if args.quiet:
            return
        if p.stage == "queued":
            print(f"[queued] {p.message}", file=sys.stderr, flush=True)
        elif p.stage == "step":
            print(f"[step {p.step}/{p.total}] {p.items_per_s:.2f} it/s", file=sys.stderr, flush=True)
        else:
            print(f"[{p.status}] {p.message}".rstrip(), file=sys.stderr, flush=True)

    try:
        with MeshClient(args.amqp, client_name="generate.py") as mesh:
            result = mesh.generate(args.prompts, n=args.n, steps=args.steps, guidance=args.guidance, seed=args.seed,
                                   model=args.model, sampler=args.sampler, priority=args.priority,
                                   request_id=args.request_id, timeout=args.timeout, on_progress=progress)
    except ServiceError as e:
        print(f"error: {e.code} field={e.field or '-'}: {e.message}", file=sys.stderr)
        return 2
    except MeshError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    os.makedirs(args.out_dir, exist_ok=True)
    files = []
    for im in result.images:
        path = os.path.join(args.out_dir, f"p{im.prompt_index:02d}-s{im.sample:02d}-seed{im.seed}.png")
        with open(path, "wb") as f:
            f.write(im.png)
        files.append(path)
    print(json.dumps({"run_id": result.run_id, "request_id": result.request_id, "from_store": result.from_store,
                      "worker": result.worker, "model": result.model, "seconds": result.seconds, "files": files}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
