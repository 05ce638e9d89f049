#!/usr/bin/env python3
"""A careful NumPy peer of LayerAnalysis.compute: every per-head and per-layer field of METRICS.md, vectorised.

Same layer as LayerBenchmark: H = 8 heads, float32 inputs, FULL n = 1024 and CAUSAL n = 512, d = dv = 64,
tau = 1/sqrt(d); everything after the float32 logits in float64, as headwatch computes it. Careful means the
algorithms headwatch uses where they change the cost: the FULL spectrum from the d x d core of
E = (tau Q) Kc^T (QR of tau Q and of the centred keys, values-only SVD of the core), the CAUSAL spectrum from
the eigenvalues of E E^T, key coherence from an SVD of the centred keys, pairwise energy correlation and
Jensen-Shannon divergence over the visible entries only. Prints the mean wall and CPU time of one layer in
ms; run it beside `LayerTiming` (same shapes) with OPENBLAS_NUM_THREADS set as for the Java side.

    python3 benchmarks/numpy_careful.py [--repeat R] [--shape full-1024|causal-512]
"""
import argparse
import time

import numpy as np

HEADS, D = 8, 64
EPS32 = 2.0 ** -23


def xlogx(x):
    out = np.zeros_like(x)
    np.multiply(x, np.log(x, where=x > 0, out=np.full_like(x, -np.inf)), out=out, where=x > 0)
    return out


def coherence(k, eps):
    m = k.shape[0]
    if m < 2:
        return np.nan
    kc = k - k.mean(axis=0)
    u, s, _ = np.linalg.svd(kc, full_matrices=False)
    r = int((s > s[0] * max(m, k.shape[1]) * eps).sum()) if s[0] > 0 else 0
    if r == 0:
        return np.nan
    return m / r * (u[:, :r] ** 2).sum(axis=1).max()


def head(q, k, v, causal):
    n, d = q.shape
    tau = np.float32(1 / np.sqrt(d))
    s = ((q * tau) @ k.T).astype(np.float64)
    visible = np.tril(np.ones((n, n), dtype=bool)) if causal else None
    counts = np.arange(1, n + 1, dtype=np.float64)[:, None] if causal else float(n)
    if causal:
        s = np.where(visible, s, 0.0)
    mean = s.sum(axis=1, keepdims=True) / counts
    e = s - mean
    if causal:
        e[~visible] = 0.0
    out = {"maxLogit": (np.where(visible, s, -np.inf) if causal else s).max()}
    sum_abs = np.abs(s).sum(axis=1)
    row_sum = (e.astype(np.float32)).sum(axis=1, dtype=np.float64)
    out["zeroSumResidual"] = np.max(np.where(sum_abs > 0, np.abs(row_sum) / np.where(sum_abs > 0, sum_abs, 1), 0))
    e2 = e * e
    out["energyRms"] = np.sqrt(e2.sum() / (n * (n + 1) / 2 if causal else n * n))
    w = np.arange(n, 0, -1, dtype=np.float64) if causal else np.full(n, float(n))
    c = e2.sum(axis=0) / w
    share = c / c.sum()
    out["participation"] = 1 / (share ** 2).sum() / n
    out["maxKeyShare"] = share.max()
    shifted = np.where(visible, s, -np.inf) if causal else s
    a = np.exp(shifted - shifted.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    plogp = xlogx(a).sum(axis=1)
    lens = np.arange(1, n + 1) if causal else np.full(n, n)
    rows = lens >= 2
    out["entropy"] = np.mean(-plogp[rows] / np.log(lens[rows]))
    col = a.sum(axis=0)
    seen = w >= n / 2
    alpha = np.where(seen, col / w, -np.inf)
    out["sinkMax"] = alpha.max()
    out["sinkPosition"] = int(alpha.argmax())
    out["firstKeyMass"] = col[0] / n
    if causal:
        sigma = np.sqrt(np.maximum(np.linalg.eigvalsh(e @ e.T), 0))[::-1]
    else:
        kc = k.astype(np.float64) - k.mean(axis=0, dtype=np.float64)
        rq = np.linalg.qr(tau * q.astype(np.float64), mode="r")
        rk = np.linalg.qr(kc, mode="r")
        sigma = np.linalg.svd(rq @ rk.T, compute_uv=False)
    total = sigma.sum()
    p = sigma[sigma > 0] / total
    out["effectiveRank"] = np.exp(-(p * np.log(p)).sum())
    out["stableRank"] = (sigma ** 2).sum() / sigma[0] ** 2
    out["topEnergy"] = sigma[0] ** 2 / (sigma ** 2).sum()
    out["numericalRank"] = int((sigma > sigma[0] * max(n, d) * EPS32).sum())
    k64 = k.astype(np.float64)
    out["keyCoherence"] = coherence(k64, EPS32)
    out["keyCoherenceNoFirst"] = coherence(k64[1:], EPS32)
    if not causal:
        v64 = v.astype(np.float64)
        vc = v64 - v64.mean(axis=0)
        kc = k64 - k64.mean(axis=0)
        oc = (a.astype(np.float32) @ vc.astype(np.float32)).astype(np.float64)
        lin = (tau * q.astype(np.float64)) @ (kc.T @ vc / n)
        out["linearGap"] = ((oc - lin) ** 2).sum() / (oc ** 2).sum()
    return out, a, e, plogp, rows


def layer(qs, ks, vs, causal):
    heads = [head(q, k, v, causal) for q, k, v in zip(qs, ks, vs)]
    h = len(heads)
    norms = [np.sqrt((e * e).sum()) for _, _, e, _, _ in heads]
    corr = np.eye(h)
    jsd = np.zeros((h, h))
    for i in range(h):
        for j in range(i + 1, h):
            _, ai, ei, pi, rows = heads[i]
            _, aj, ej, pj, _ = heads[j]
            corr[i, j] = corr[j, i] = (ei * ej).sum() / (norms[i] * norms[j])
            m = xlogx(0.5 * (ai + aj)).sum(axis=1)
            jsd[i, j] = jsd[j, i] = np.maximum(0.5 * (pi + pj) - m, 0)[rows].mean()
    return [x[0] for x in heads], corr, jsd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--shape", choices=("full-1024", "causal-512"))
    args = parser.parse_args()
    rng = np.random.default_rng(42)
    for name, n, causal in (("full-1024", 1024, False), ("causal-512", 512, True)):
        if args.shape and args.shape != name:
            continue
        qs, ks, vs = ([rng.standard_normal((n, D)).astype(np.float32) for _ in range(HEADS)] for _ in range(3))
        layer(qs, ks, vs, causal)  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.repeat):
            layer(qs, ks, vs, causal)
        ms = (time.perf_counter() - t0) / args.repeat * 1e3
        cpu = (time.process_time() - c0) / args.repeat * 1e3
        print(f"{name:11s} {'every field, careful':26s} {ms:10.1f} ms per layer of {HEADS} heads (CPU {cpu:.1f} ms)")


if __name__ == "__main__":
    main()
