#!/usr/bin/env python3
"""The straightforward NumPy way to get a layer's energy-field spectra: form E, call a dense SVD per head.

Same layer as LayerBenchmark: H = 8 heads, float32, FULL n = 1024 and CAUSAL n = 512, d = 64,
tau = 1/sqrt(d). Prints the mean wall time of one layer (all heads) in milliseconds for the SVD with singular values
only (the fair comparison), and with --with-uv also for numpy.linalg.svd's default (with U and V).

    python3 benchmarks/numpy_reference.py [--repeat R] [--shape full-1024|causal-512] [--with-uv]
"""
import argparse
import time

import numpy as np

HEADS, D = 8, 64


def layer(qs, ks, causal, compute_uv):
    n = qs[0].shape[0]
    visible = np.tril(np.ones((n, n), dtype=bool)) if causal else np.ones((n, n), dtype=bool)
    counts = visible.sum(axis=1, keepdims=True)
    out = []
    for q, k in zip(qs, ks):
        s = (q @ k.T) / np.sqrt(D).astype(q.dtype)
        s = np.where(visible, s, 0)
        e = np.where(visible, s - s.sum(axis=1, keepdims=True) / counts, 0).astype(q.dtype)
        out.append(np.linalg.svd(e, compute_uv=compute_uv))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", choices=("full-1024", "causal-512"))
    parser.add_argument("--with-uv", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    for name, n, causal in (("full-1024", 1024, False), ("causal-512", 512, True)):
        if args.shape and args.shape != name:
            continue
        qs = [rng.standard_normal((n, D)).astype(np.float32) for _ in range(HEADS)]
        ks = [rng.standard_normal((n, D)).astype(np.float32) for _ in range(HEADS)]
        for uv in (False, True) if args.with_uv else (False,):
            layer(qs, ks, causal, uv)  # warm-up
            t0 = time.perf_counter()
            for _ in range(args.repeat):
                layer(qs, ks, causal, uv)
            ms = (time.perf_counter() - t0) / args.repeat * 1e3
            label = "svd(E) with U, V" if uv else "svd(E, compute_uv=False)"
            print(f"{name:11s} {label:26s} {ms:10.1f} ms per layer of {HEADS} heads")


if __name__ == "__main__":
    main()
