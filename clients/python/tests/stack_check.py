#!/usr/bin/env python3
"""Checks the client against a running stack (run by Tests/GeneratorSvcTests/PythonClientTests):

1. a generate call whose connection is dropped at its first sampler step is retried with the
   same request id and gets the one run's result (never a second run);
2. the same request id again returns the stored result (from_store) with identical PNG bytes;
3. an invalid request raises ServiceError with code INVALID_ARGUMENT naming the field;
4. cancel(run_id) ends a long run with CANCELLED;
5. the progress callback saw step events.

Prints one JSON line with what it saw; exits non-zero on the first failed check.
"""
import argparse
import hashlib
import json
import os
import sys
import threading
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from latentmesh import MeshClient, ServiceError  # noqa: E402


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--steps", type=int, default=200)
    args = ap.parse_args()
    out = {}
    request_id = f"py-retry-{uuid.uuid4()}"
    with MeshClient(client_name="stack_check.py") as mesh:
        seen = {"steps": 0, "queued": 0, "dropped": False}

        def drop_once(p):
            if p.stage == "queued":
                seen["queued"] += 1
            if p.stage == "step":
                seen["steps"] += 1
                if not seen["dropped"]:
                    seen["dropped"] = True
                    mesh._drop_connection_for_testing()

        first = mesh.generate(["a red dress"], n=1, steps=args.steps, guidance=2.0, seed=3, model=args.model,
                              request_id=request_id, timeout=300, on_progress=drop_once)
        check(seen["dropped"], "the connection was dropped during the run")
        check(mesh.reconnects >= 1, "the client reconnected after the drop")
        check(len(first.images) == 1, "one image after the retry")
        check(first.request_id == request_id, "the reply names our request id")
        out.update(request_id=request_id, run_id=first.run_id, first_from_store=first.from_store,
                   reconnects=mesh.reconnects, steps_seen=seen["steps"], queued_updates=seen["queued"])

        again = mesh.generate(["a red dress"], n=1, steps=args.steps, guidance=2.0, seed=3, model=args.model,
                              request_id=request_id, timeout=120)
        check(again.from_store, "a repeated request id is answered from the store")
        check(again.run_id == first.run_id, "the same run answers the repeat")
        check(again.images[0].png == first.images[0].png, "identical PNG bytes from the store")
        out["png_sha256"] = hashlib.sha256(first.images[0].png).hexdigest()

        try:
            mesh.generate(["a red dress"], steps=5000, model=args.model, timeout=60)
            check(False, "steps=5000 must be refused")
        except ServiceError as e:
            check(e.code == "INVALID_ARGUMENT" and e.field == "steps", f"INVALID_ARGUMENT on steps, got {e}")
            check("1...1000" in e.message, f"the limit is named: {e.message}")
            out["invalid"] = {"code": e.code, "field": e.field, "message": e.message}

        long_run = f"py-cancel-{uuid.uuid4()}"
        canceller = MeshClient(client_name="stack_check.py-cancel")
        fired = threading.Event()

        def cancel_at_step(p):
            if p.stage == "step" and not fired.is_set():
                fired.set()
                canceller.cancel(long_run, reason="stack_check")

        try:
            mesh.generate(["a blue sneaker"], steps=1000, model=args.model, run_id=long_run, timeout=300,
                          on_progress=cancel_at_step)
            check(False, "a cancelled run must not succeed")
        except ServiceError as e:
            check(e.code == "CANCELLED", f"CANCELLED after cancel(run_id), got {e}")
            check(e.run_id == long_run, "the error names the cancelled run")
            out["cancelled"] = e.code
        canceller.close()
    print(json.dumps(out))


if __name__ == "__main__":
    main()
