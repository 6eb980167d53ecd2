"""Benchmark: the step time of `LionK` per K, as a ratio to lion-pytorch's foreach Lion.

Vector K: every catalog K on 10⁶ and 10⁷ float32 parameters, as one tensor and as 100 tensors
of equal size, one thread. For each K, a LionK step and a step of the reference
(``lion_pytorch.foreach.Lion``, same lr, betas, weight decay, same tensors) alternate
``--repeat`` times (4× at 10⁶) after one warm-up step each (states allocated); the ratio is the
median of the per-pair ratios t_K/t_ref, so load on a shared machine hits both sides of each pair
alike.

Matrix K: nuclear with the exact polar factor (SVD), with Newton–Schulz (5 steps, Muon's
coefficients; the measured relative distance to the polar factor is printed), and
``torch.optim.Muon`` (torch's Newton–Schulz Muon, ``nesterov=False``; it runs Newton–Schulz in
bfloat16, slow on CPUs without bf16 matrix units), on one 256×256 and one 1024×1024 float32
matrix, 3 interleaved rounds after a warm-up step; ratios to the exact-SVD LionK step.

Usage::

    python benchmarks/bench_torch_step.py            # 10⁶ and 10⁷, 256² and 1024²
    python benchmarks/bench_torch_step.py --quick    # 10⁶ and 256² only
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
from lion_pytorch.foreach import Lion as LionForeach

from lyapunov_lion.core.kfunc import available_K
from lyapunov_lion.torch import LionK
from lyapunov_lion.torch.rules import newton_schulz, polar_distance

RESULTS = Path(__file__).resolve().parent / "results"
LR, WD, BETAS = 1e-4, 0.1, (0.9, 0.99)


def _params(n: int, n_tensors: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    ps = []
    for _ in range(n_tensors):
        p = torch.nn.Parameter(torch.randn(n // n_tensors, generator=gen) * 0.05)
        p.grad = torch.randn(n // n_tensors, generator=gen)
        ps.append(p)
    return ps


def _timed(opt) -> float:
    """Seconds of one ``opt.step()``."""
    t0 = time.perf_counter()
    opt.step()
    return time.perf_counter() - t0


def bench_vector(n: int, n_tensors: int, names: list[str], repeat: int) -> list[dict]:
    ps = _params(n, n_tensors)
    rows = []
    for name in names:
        ref = LionForeach(ps, lr=LR, betas=BETAS, weight_decay=WD)
        opt = LionK(ps, lr=LR, betas=BETAS, weight_decay=WD, K=name)
        ref.step()  # warm-up: allocates the states
        opt.step()
        pairs = [(_timed(ref), _timed(opt)) for _ in range(repeat)]
        ratio = statistics.median(tk / tr for tr, tk in pairs)
        t = statistics.median(tk for _, tk in pairs)
        tref = statistics.median(tr for tr, _ in pairs)
        rows.append(
            {
                "n": n,
                "tensors": n_tensors,
                "K": name,
                "ms": 1e3 * t,
                "ref_ms": 1e3 * tref,
                "ratio": ratio,
            }
        )
        print(
            f"  n={n:.0e} tensors={n_tensors:3d} K={name:13s} {1e3 * t:9.2f} ms  "
            f"lion-pytorch foreach {1e3 * tref:8.2f} ms  ratio {ratio:6.2f}",
            flush=True,
        )
        del ref, opt
    return rows


def bench_matrix(side: int, repeat: int) -> list[dict]:
    gen = torch.Generator().manual_seed(0)
    W0 = torch.randn(side, side, generator=gen) / side**0.5
    G = torch.randn(side, side, generator=gen)
    variants = {
        "LionK nuclear exact (SVD)": lambda p: LionK([p], lr=LR, weight_decay=WD, K="nuclear"),
        "LionK nuclear Newton–Schulz": lambda p: LionK(
            [p], lr=LR, weight_decay=WD, K="nuclear", polar="newton_schulz", ns_check_every=10**9
        ),
        "torch.optim.Muon": lambda p: torch.optim.Muon(
            [p], lr=LR, weight_decay=WD, momentum=BETAS[0], nesterov=False
        ),
    }
    opts = {}
    for label, make in variants.items():
        p = torch.nn.Parameter(W0.clone())
        p.grad = G
        opts[label] = make(p)
        opts[label].step()  # warm-up
    times = {label: [] for label in opts}
    for _ in range(repeat):  # interleaved rounds
        for label, opt in opts.items():
            times[label].append(_timed(opt))
    exact = times["LionK nuclear exact (SVD)"]
    rows = []
    for label, ts in times.items():
        t = statistics.median(ts)
        ratio = statistics.median(a / b for a, b in zip(ts, exact, strict=True))
        rows.append({"side": side, "variant": label, "ms": 1e3 * t, "ratio_to_exact": ratio})
        print(
            f"  {side}×{side} {label:30s} {1e3 * t:9.2f} ms  ratio to exact {ratio:5.2f}",
            flush=True,
        )
    dist = polar_distance(G, newton_schulz(G))
    print(f"  {side}×{side} Newton–Schulz (5 steps) relative distance to UVᵀ: {dist:.3f}")
    rows.append({"side": side, "variant": "NS distance to polar factor", "value": dist})
    return rows


def table(vec: list[dict], mat: list[dict]) -> str:
    sizes = sorted({(r["n"], r["tensors"]) for r in vec})
    head = "| K | " + " | ".join(f"{n:.0e} × {k}" for n, k in sizes) + " |"
    lines = [head, "|---|" + "---:|" * len(sizes)]
    for name in dict.fromkeys(r["K"] for r in vec):
        cells = {(r["n"], r["tensors"]): r for r in vec if r["K"] == name}
        lines.append(
            f"| {name} | "
            + " | ".join(f"{cells[s]['ratio']:.2f} ({cells[s]['ms']:.3g} ms)" for s in sizes)
            + " |"
        )
    refs = {
        s: statistics.median(r["ref_ms"] for r in vec if (r["n"], r["tensors"]) == s) for s in sizes
    }
    lines.append(
        "| *lion-pytorch foreach (median)* | "
        + " | ".join(f"1 ({refs[s]:.3g} ms)" for s in sizes)
        + " |"
    )
    lines += ["", "| matrix | variant | step (ms) | ratio to exact |", "|---|---|---:|---:|"]
    for r in mat:
        if "ms" in r:
            lines.append(
                f"| {r['side']}² | {r['variant']} | {r['ms']:.3g} | {r['ratio_to_exact']:.2f} |"
            )
        else:
            lines.append(
                f"| {r['side']}² | NS relative distance ‖NS − UVᵀ‖_F/‖UVᵀ‖_F | {r['value']:.3f} | |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="10⁶ parameters and 256² only")
    ap.add_argument("--repeat", type=int, default=9, help="timed step pairs per K (median)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    names = [n for n, cls in available_K().items() if cls.event_ndim == 1]
    sizes = [10**6] if args.quick else [10**6, 10**7]
    vec = []
    for n in sizes:
        for k in (1, 100):
            vec += bench_vector(n, k, names, args.repeat * (4 if n <= 10**6 else 1))
    mat = []
    for side in [256] if args.quick else [256, 1024]:
        mat += bench_matrix(side, 3)
    md = table(vec, mat)
    print(md)
    out = args.out or RESULTS / ("torch_step_quick.json" if args.quick else "torch_step.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "command": " ".join(["python", "benchmarks/bench_torch_step.py"] + (argv or sys.argv[1:])),
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "loadavg": os.getloadavg(),
        },
        "vector": vec,
        "matrix": mat,
        "table": md,
    }
    out.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out}")
    l1 = [r for r in vec if r["K"] == "l1" and r["n"] == max(sizes)]
    return 0 if all(r["ratio"] <= 1.0 for r in l1) else 1


if __name__ == "__main__":
    sys.exit(main())
