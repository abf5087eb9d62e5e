#!/usr/bin/env python3
"""Latency of GET /health while other clients hold connections open.

usage: Benchmarks/ops_probe.py PORT [--idle N] [--drip] [--reps R] [--timeout S]

Opens N idle TCP connections to 127.0.0.1:PORT (connected, nothing sent) and optionally one
slow-drip request (one header byte per 0.5 s), then times R sequential `GET /health`
requests, each on a new connection with a timeout. Prints one JSON object: the median, min
and max latency in milliseconds and how many probes timed out.
"""
import argparse
import json
import socket
import statistics
import threading
import time


def health(port, timeout):
    t0 = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
        ok = data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n", 1)[0]
        return (time.monotonic() - t0) * 1000, ok
    except OSError:
        return None, False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("port", type=int)
    ap.add_argument("--idle", type=int, default=20)
    ap.add_argument("--drip", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=10.0)
    a = ap.parse_args()
    idle = [socket.create_connection(("127.0.0.1", a.port)) for _ in range(a.idle)]
    stop = threading.Event()
    if a.drip:
        def drip():
            s = socket.create_connection(("127.0.0.1", a.port))
            for b in b"GET /metrics HTTP/1.1\r\nHost: slow\r\nX-Slow: " + b"a" * 10_000:
                if stop.is_set():
                    break
                try:
                    s.send(bytes([b]))
                except OSError:
                    break
                time.sleep(0.5)
            s.close()
        threading.Thread(target=drip, daemon=True).start()
    time.sleep(0.3)
    lat, timeouts = [], 0
    for _ in range(a.reps):
        ms, ok = health(a.port, a.timeout)
        if ms is None or not ok:
            timeouts += 1
        else:
            lat.append(ms)
    stop.set()
    for s in idle:
        s.close()
    print(json.dumps({
        "idle_connections": a.idle, "drip": a.drip, "reps": a.reps, "timeout_s": a.timeout,
        "answered": len(lat), "timed_out": timeouts,
        "median_ms": round(statistics.median(lat), 2) if lat else None,
        "min_ms": round(min(lat), 2) if lat else None, "max_ms": round(max(lat), 2) if lat else None,
    }))


if __name__ == "__main__":
    main()
