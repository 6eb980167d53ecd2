"""Benchmark: one batched Lion run over many weight decays λ versus a Python loop of runs.

Problem (the paper's Fig. 1 toy): f(x) = (x1 − 1.5)² + x2², ∇f = 2(x − c), x0 = (−1.5, 2.5),
Lion (K = l1), lr 1e-3, β = (0.9, 0.99), explicit decoupled decay; ``--n-lam`` values of λ
evenly spaced in [0.1, 3], ``--steps`` steps each. Variants, all in this process:

* ``batched_run_discrete``: ONE ``run_discrete`` call, x0 of shape (n_lam, 2), lam of shape
  (n_lam,);
* ``batched_run_discrete_numba``: the same call with ``backend="numba"`` (the opt-in compiled
  step; compile time printed and recorded apart; skipped without numba);
* ``loop_run_discrete``: a Python loop of n_lam ``run_discrete`` calls, each with x0 of shape (2,);
* ``loop_numpy_steps``: a Python loop of n_lam runs written as plain per-step numpy on shape (2,)
  (no ``run_discrete`` overhead: no checks, no saving, no namespace dispatch);
* ``loop_python_floats``: the same runs on Python floats, one coordinate at a time (no numpy
  call overhead at all: the cheapest per-run loop there is in pure Python);
* ``batched_numpy_steps``: the per-step numpy loop on the whole (n_lam, 2) batch (the floor of
  ``run_discrete``'s batched cost among numpy programs);
* ``batched_fused_c``: the same run as ONE compiled C loop (gcc -O2 -ffp-contract=off, loaded
  with ctypes; skipped without a compiler): the fused floor, no per-step dispatch at all.

All variants perform the same IEEE-754 double operations in the same order, so their final
points must agree EXACTLY with the batched run's; the script checks this and fails otherwise.
It also checks the converged loss against the exact constrained loss ((1.5 − 1/λ)₊)².

Results are printed and written as JSON (times, ratios, machine information) plus a markdown
table. Usage::

    python benchmarks/bench_batched_lambda.py                 # 1000 λ × 5000 steps
    python benchmarks/bench_batched_lambda.py --quick         # 50 λ × 500 steps, seconds
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from lyapunov_lion import LionKConfig, make_K, make_objective, run_discrete

C = (1.5, 0.0)
X0 = (-1.5, 2.5)
BETA1, BETA2 = 0.9, 0.99
RESULTS = Path(__file__).resolve().parent / "results"


def grad_f(x):
    """∇f(x) = 2(x − c) on a batch of points."""
    return 2 * (x - np.asarray(C))


# ------------------------------------------------------------------------------------------
# the variants; each returns the final points, shape (n_lam, 2)
# ------------------------------------------------------------------------------------------
TOY = make_objective("toy")
"""The toolkit's built-in toy objective: its gradient 2(x − c) is written into run_discrete's
preallocated buffer (``out=``), the same two IEEE operations as `grad_f`."""


def batched_run_discrete(lams, steps, lr, backend="numpy"):
    x0 = np.tile(np.asarray(X0), (len(lams), 1))
    res = run_discrete(
        make_K("l1"),
        TOY.grad,
        x0,
        steps=steps,
        save_every=steps,
        config=LionKConfig(lr=lr, lam=lams, beta1=BETA1, beta2=BETA2),
        backend=backend,
    )
    if not res.success:
        raise RuntimeError(res.message)
    return res.x[-1]


def batched_run_discrete_numba(lams, steps, lr):
    """The same ONE call with ``backend="numba"`` (the opt-in compiled step; compiled before
    the timing by a 2-step warm-up run, whose time `main` records apart)."""
    return batched_run_discrete(lams, steps, lr, backend="numba")


def loop_run_discrete(lams, steps, lr, progress=None):
    K = make_K("l1")
    out = np.empty((len(lams), 2))
    for i, lam in enumerate(lams):
        res = run_discrete(
            K,
            grad_f,
            np.asarray(X0),
            steps=steps,
            save_every=steps,
            config=LionKConfig(lr=lr, lam=float(lam), beta1=BETA1, beta2=BETA2),
        )
        if not res.success:
            raise RuntimeError(res.message)
        out[i] = res.x[-1]
        if progress:
            progress(i + 1)
    return out


def _numpy_steps(x, lam, steps, lr):
    """Lion per step in plain numpy, the operation order of lion_k_step:
    m̃ = β1 m − (1 − β1) g;  x ← x + η(sign(m̃) − λx);  m ← β2 m − (1 − β2) g."""
    c = np.asarray(C)
    m = np.zeros_like(x)
    for _ in range(steps):
        g = 2 * (x - c)
        mt = BETA1 * m - (1 - BETA1) * g
        x = x + lr * (np.sign(mt) - lam * x)
        m = BETA2 * m - (1 - BETA2) * g
    return x


def loop_numpy_steps(lams, steps, lr, progress=None):
    out = np.empty((len(lams), 2))
    for i, lam in enumerate(lams):
        out[i] = _numpy_steps(np.asarray(X0), float(lam), steps, lr)
        if progress:
            progress(i + 1)
    return out


def _sign(v: float) -> float:
    return 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)


def loop_python_floats(lams, steps, lr, progress=None):
    """The same update on Python floats (IEEE doubles), one coordinate at a time."""
    out = np.empty((len(lams), 2))
    a1, a2 = 1 - BETA1, 1 - BETA2
    for i, lam in enumerate(lams):
        lam = float(lam)
        x1, x2 = X0
        m1 = m2 = 0.0
        for _ in range(steps):
            g1, g2 = 2 * (x1 - C[0]), 2 * (x2 - C[1])
            t1, t2 = BETA1 * m1 - a1 * g1, BETA1 * m2 - a1 * g2
            x1 = x1 + lr * (_sign(t1) - lam * x1)
            x2 = x2 + lr * (_sign(t2) - lam * x2)
            m1, m2 = BETA2 * m1 - a2 * g1, BETA2 * m2 - a2 * g2
        out[i] = (x1, x2)
        if progress:
            progress(i + 1)
    return out


def batched_numpy_steps(lams, steps, lr):
    x0 = np.tile(np.asarray(X0), (len(lams), 1))
    return _numpy_steps(x0, np.asarray(lams)[:, None], steps, lr)


CALLS_PER_STEP = 10
"""numpy ufunc calls per step of `run_discrete`'s one-block path on this problem: 2 for the toy
gradient (x − c, then ·2, into a buffer), 3 for m̃ and m as one stacked pair (β·m, (1 − β)·g,
difference), 1 for sign, 4 for x (λx, u − λx, η·(...), x + ...)."""


def dispatch_floor(n_lam, steps, calls=CALLS_PER_STEP):
    """CPU seconds of ``calls`` bare ``np.multiply(a, s, out=a)`` per step on a (n_lam, 2)
    float64 array for ``steps`` steps: what any numpy program making that many calls per step
    costs at least (no gradient logic, no checks; a multiply by 1.0 keeps the values)."""
    a, one, mul = np.ones((n_lam, 2)), np.float64(1.0), np.multiply
    t0 = time.process_time()
    for _ in range(steps):
        for _ in range(calls):
            mul(a, one, out=a)
    return time.process_time() - t0


def step_breakdown(lams, lr, number=2000):
    """CPU µs of each numpy call of `run_discrete`'s one-block step on this problem, timed one by
    one on the run's own operands (the stepper's buffers, per-run λ broadcast as in the run):
    where a batched step's time goes."""
    from lyapunov_lion.core.discrete import LionKStepper

    x0 = np.tile(np.asarray(X0), (len(lams), 1))
    cfg = LionKConfig(lr=lr, lam=lams, beta1=BETA1, beta2=BETA2)
    st = LionKStepper(make_K("l1"), x0, config=cfg)
    (_, _, _, m, x), (_, pair, mt, _, _) = st._packs
    lr_, lam, _ = st._consts
    B, C, R, U, S = st._B, st._C, st._R, st._U, st._S
    out = np.empty_like(x)
    g = TOY.grad(x, out=out)
    calls = {
        "gradient 2(x − c) into a buffer (2 calls)": lambda: TOY.grad(x, out=out),
        "(β1·m, β2·m), shape (2, n, 2)": lambda: np.multiply(B, m, out=pair),
        "((1−β1)·g, (1−β2)·g)": lambda: np.multiply(C, g, out=R),
        "(m̃, m) = difference": lambda: np.subtract(pair, R, out=pair),
        "sign(m̃)": lambda: np.sign(mt, out=U),
        "λ·x (per-run λ)": lambda: np.multiply(x, lam, out=S),
        "u − λx": lambda: np.subtract(U, S, out=S),
        "η·(…)": lambda: np.multiply(S, lr_, out=S),
        "x + …": lambda: np.add(x, S, out=S),
    }
    out_us = {}
    for name, fn in calls.items():
        t0 = time.process_time()
        for _ in range(number):
            fn()
        out_us[name] = (time.process_time() - t0) / number * 1e6
    return out_us


FUSED_C = r"""
/* The whole batched run in one C loop: the update of _numpy_steps, each operation rounded once
   in IEEE double (compiled with -ffp-contract=off: no FMA), so the final points are
   bit-identical. */
void lion_batched(double *x, double *m, const double *lam, long n, long steps, double lr,
                  double b1, double a1, double b2, double a2, double c0, double c1) {
    for (long i = 0; i < n; i++) {
        for (int j = 0; j < 2; j++) {
            double xi = x[2 * i + j], mi = m[2 * i + j], c = j ? c1 : c0, li = lam[i];
            for (long t = 0; t < steps; t++) {
                double g = 2 * (xi - c);
                double mt = b1 * mi - a1 * g;
                double s = mt > 0 ? 1.0 : (mt < 0 ? -1.0 : (mt == mt ? 0.0 : mt));
                xi = xi + lr * (s - li * xi);
                mi = b2 * mi - a2 * g;
            }
            x[2 * i + j] = xi;
            m[2 * i + j] = mi;
        }
    }
}
"""


def _compile_fused():
    """The fused C loop as a ctypes function (gcc -O2 -ffp-contract=off), or None without gcc."""
    import ctypes
    import shutil
    import subprocess
    import tempfile

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        return None
    tmp = Path(tempfile.mkdtemp(prefix="lionk-bench-"))
    (tmp / "fused.c").write_text(FUSED_C)
    subprocess.run(
        [
            cc,
            "-O2",
            "-ffp-contract=off",
            "-shared",
            "-fPIC",
            "-o",
            str(tmp / "fused.so"),
            str(tmp / "fused.c"),
        ],
        check=True,
    )
    fn = ctypes.CDLL(str(tmp / "fused.so")).lion_batched
    arr = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    fn.argtypes = [arr, arr, arr, ctypes.c_long, ctypes.c_long] + [ctypes.c_double] * 7
    fn.restype = None
    return fn


def batched_fused_c(lams, steps, lr):
    """The floor: the same run as one compiled loop (no numpy dispatch, no allocation)."""
    fn = _compile_fused.cached if hasattr(_compile_fused, "cached") else _compile_fused()
    _compile_fused.cached = fn
    if fn is None:
        raise RuntimeError("no C compiler (gcc/cc): skip batched_fused_c")
    x = np.ascontiguousarray(np.tile(np.asarray(X0), (len(lams), 1)))
    m = np.zeros_like(x)
    fn(
        x,
        m,
        np.ascontiguousarray(lams, dtype=np.float64),
        len(lams),
        steps,
        lr,
        BETA1,
        1 - BETA1,
        BETA2,
        1 - BETA2,
        C[0],
        C[1],
    )
    return x


# ------------------------------------------------------------------------------------------
def machine_info() -> dict:
    blas = None
    try:
        cfg = np.show_config(mode="dicts")
        b = cfg.get("Build Dependencies", {}).get("blas", {})
        blas = f"{b.get('name')} {b.get('version')}".strip()
    except Exception:  # pragma: no cover - depends on the numpy build
        pass
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        affinity = None
    env = {
        k: os.environ.get(k)
        for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE")
    }
    return {
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": blas,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "cpu_affinity": affinity,
        "loadavg_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "env": env,
    }


def timed(fn, *args, **kw):
    t0 = time.perf_counter()
    c0 = time.process_time()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t0, time.process_time() - c0


def _progress(name, total):
    step = max(1, total // 10)
    t0 = time.perf_counter()

    def report(done):
        if done % step == 0 or done == total:
            print(
                f"  {name}: {done}/{total} runs, {time.perf_counter() - t0:.1f} s",
                file=sys.stderr,
                flush=True,
            )

    return report


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-lam", type=int, default=1000, help="number of λ values in [0.1, 3]")
    ap.add_argument("--steps", type=int, default=5000, help="Lion steps per run")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument(
        "--repeat", type=int, default=3, help="repetitions of the batched variants (min kept)"
    )
    ap.add_argument("--quick", action="store_true", help="50 λ × 500 steps (a smoke run)")
    ap.add_argument("--skip", nargs="*", default=[], help="variants to skip")
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON output (default benchmarks/results/batched_lambda[_quick].json)",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.n_lam, args.steps = 50, 500
    out_path = args.out or RESULTS / (
        "batched_lambda_quick.json" if args.quick else "batched_lambda.json"
    )
    lams = np.linspace(0.1, 3.0, args.n_lam)
    info = machine_info()
    print(
        f"{args.n_lam} λ in [0.1, 3] × {args.steps} steps, lr {args.lr:g}; numpy {info['numpy']}, "
        f"{info['cpu_count']} CPUs (affinity {info['cpu_affinity']}), "
        f"load {info['loadavg_at_start']}",
        flush=True,
    )

    timings, finals = {}, {}
    batched = [
        ("batched_run_discrete", batched_run_discrete),
        ("batched_run_discrete_numba", batched_run_discrete_numba),
        ("batched_numpy_steps", batched_numpy_steps),
        ("batched_fused_c", batched_fused_c),
    ]
    loops = [
        ("loop_run_discrete", loop_run_discrete),
        ("loop_numpy_steps", loop_numpy_steps),
        ("loop_python_floats", loop_python_floats),
    ]
    from lyapunov_lion.core.jit import numba_available

    if not numba_available():
        args.skip.append("batched_run_discrete_numba")
    compile_s = None
    if "batched_run_discrete_numba" not in args.skip:
        t0 = time.perf_counter()
        batched_run_discrete_numba(lams[:2], 2, args.lr)
        compile_s = time.perf_counter() - t0
        print(f"numba compile + 2-step warm-up {compile_s:.2f} s (not in the timings)", flush=True)
    for name, fn in batched:
        if name in args.skip:
            continue
        runs = [timed(fn, lams, args.steps, args.lr) for _ in range(max(1, args.repeat))]
        finals[name] = runs[0][0]
        timings[name] = {
            "wall_s": min(r[1] for r in runs),
            "cpu_s": min(r[2] for r in runs),
            "wall_s_all": [r[1] for r in runs],
        }
        print(f"{name:24s} {timings[name]['wall_s']:10.3f} s", flush=True)
    for name, fn in loops:
        if name in args.skip:
            continue
        progress = None if args.quick else _progress(name, args.n_lam)
        final, wall, cpu = timed(fn, lams, args.steps, args.lr, progress=progress)
        finals[name] = final
        timings[name] = {"wall_s": wall, "cpu_s": cpu}
        print(f"{name:24s} {wall:10.3f} s", flush=True)

    floor_cpu = min(dispatch_floor(args.n_lam, args.steps) for _ in range(max(1, args.repeat)))
    per_call_us = floor_cpu / (args.steps * CALLS_PER_STEP) * 1e6
    dispatch = {
        "calls_per_step": CALLS_PER_STEP,
        "cpu_s": floor_cpu,
        "us_per_call": per_call_us,
    }
    print(
        f"{'numpy dispatch floor':24s} {floor_cpu:10.3f} s CPU ({CALLS_PER_STEP} ufunc calls per "
        f"step on ({args.n_lam}, 2) arrays: {per_call_us:.2f} µs per call)",
        flush=True,
    )
    breakdown = step_breakdown(lams, args.lr)
    dispatch["step_breakdown_us"] = breakdown
    for name, us in breakdown.items():
        print(f"  {name:40s} {us:7.2f} µs", flush=True)
    print(f"  {'sum':40s} {sum(breakdown.values()):7.2f} µs per step", flush=True)
    if "batched_fused_c" in timings:
        fused_step_us = timings["batched_fused_c"]["cpu_s"] / args.steps * 1e6
        dispatch["fused_us_per_step"] = fused_step_us
        dispatch["calls_within_2x_fused"] = 2 * fused_step_us / per_call_us
        print(
            f"fused C step {fused_step_us:.2f} µs: 2× the fused floor leaves room for "
            f"{dispatch['calls_within_2x_fused']:.1f} ufunc calls per step",
            flush=True,
        )

    ref_name = "batched_run_discrete" if "batched_run_discrete" in finals else next(iter(finals))
    ref = finals[ref_name]
    agree = {
        n: {"exact": bool(np.array_equal(f, ref)), "max_abs_diff": float(np.max(np.abs(f - ref)))}
        for n, f in finals.items()
    }
    # sanity of the answer: converged loss vs the exact constrained loss ((1.5 − 1/λ)₊)²
    loss = np.sum((ref - np.asarray(C)) ** 2, axis=-1)
    exact = np.maximum(1.5 - 1 / lams, 0.0) ** 2
    loss_err = float(np.max(np.abs(loss - exact)))

    base = timings.get("batched_run_discrete", {}).get("wall_s")
    ratios = {n: t["wall_s"] / base for n, t in timings.items()} if base else {}
    record = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(
            [
                "python benchmarks/bench_batched_lambda.py",
                *(argv if argv is not None else sys.argv[1:]),
            ]
        ),
        "problem": {
            "f": "(x1 - 1.5)^2 + x2^2",
            "x0": X0,
            "K": "l1",
            "lr": args.lr,
            "beta1": BETA1,
            "beta2": BETA2,
            "decay": "explicit",
            "n_lam": args.n_lam,
            "lam_range": [0.1, 3.0],
            "steps": args.steps,
        },
        "timings": timings,
        "numba_compile_seconds": compile_s,
        "numpy_dispatch_floor": dispatch,
        "ratio_to_batched_run_discrete": ratios,
        "final_points_agree_with": ref_name,
        "agreement": agree,
        "max_abs_loss_error_vs_exact_constrained_loss": loss_err,
        "machine": info,
    }
    record["machine"]["loadavg_at_end"] = (
        list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    )

    lines = [
        "| variant | wall time (s) | CPU time (s) | × batched | final points equal |",
        "|---|---:|---:|---:|:---:|",
    ]
    for n, t in timings.items():
        r = f"{ratios[n]:.1f}" if ratios else "–"
        same = "exact" if agree[n]["exact"] else f"NO ({agree[n]['max_abs_diff']:.2g})"
        lines.append(f"| `{n}` | {t['wall_s']:.3f} | {t['cpu_s']:.3f} | {r} | {same} |")
    table = "\n".join(lines)
    record["markdown_table"] = table
    print()
    print(table)
    print(
        f"\nmax |f(x_final) − ((1.5 − 1/λ)₊)²| over λ: {loss_err:.2e} "
        f"(small only once the runs have converged: not in --quick)"
    )
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {out_path}")
    if not all(a["exact"] for a in agree.values()):
        print("ERROR: the variants' final points do not agree exactly", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
