"""Implicit (extrapolated Moreau–Jean) mode vs plain scipy integration for K = l2 and K = linf.

Problems: f = ½‖x − c‖², λ = α = γ = 1, ε = 0.1, x0 = m0 = 0, T = 5, with
  * l2,   c = (2, 0.3): reference x(T) by DOP853 at rtol 1e-13 (m̃ stays ≥ 0.2 away from 0, where
    ∇K = m̃/‖m̃‖ is smooth, so the reference is legitimate);
  * linf, c = (1, 0.6): the optimum (0.7, 0.3) lies inside an edge of the ℓ1 ball and the solution
    slides on |m̃1| = |m̃2| from t ≈ 0.875; reference: the 2-D identity ‖v‖∞ = ½‖Rv‖₁,
    R = [[1, 1], [1, −1]], maps the system to Lion (K = l1) in x'' = Rx, solved by the event-driven
    Filippov mode at rtol 1e-12.
For rtol ∈ {1e-4, 1e-8} (atol = 1e-2·rtol) it runs method = implicit, RK45 and LSODA (plain
runs capped at --max-nfev ∇f evaluations and --max-time seconds) and records the error
‖x(T) − x_ref(T)‖_∞ (or at the time reached), wall time, nfev and the ratios to the implicit run.
Second table: the exact ∇²f the objectives now provide vs central differences (acceptance case
of the Filippov mode, and Radau with the analytic Jacobian vs DOP853 for a smooth K).

    .venv/bin/python benchmarks/bench_ode_norms.py [--max-nfev 200000] [--max-time 20]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
from _record import write_record

from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.core.ode import solve_lion_ode
from lyapunov_lion.errors import TheoryWarning

PARAMS = dict(lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)
T = 5.0
R = np.array([[1.0, 1.0], [1.0, -1.0]])
CASES = {"l2": [2.0, 0.3], "linf": [1.0, 0.6]}


def reference(K, c):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        if K == "l2":
            obj = make_objective("quadratic", A=np.eye(2), c=c)
            r = solve_lion_ode(
                "l2", obj, [0.0, 0.0], t_final=T, method="DOP853", rtol=1e-13, atol=1e-15, **PARAMS
            )
            return r.x[-1]
        obj = make_objective("quadratic", A=np.eye(2), c=R @ np.asarray(c))
        r = solve_lion_ode("l1", obj, [0.0, 0.0], t_final=T, rtol=1e-12, atol=1e-14, **PARAMS)
        return R @ r.x[-1] / 2


def run_one(K, c, xref, method, rtol, max_nfev, max_time):
    obj = make_objective("quadratic", A=np.eye(2), c=c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        t0 = time.perf_counter()
        r = solve_lion_ode(
            K,
            obj,
            [0.0, 0.0],
            t_final=T,
            method=method,
            rtol=rtol,
            atol=1e-2 * rtol,
            max_nfev=max_nfev,
            max_time=max_time,
            **PARAMS,
        )
        wall = time.perf_counter() - t0
    rep = r.report
    row = {
        "K": K,
        "method": method,
        "rtol": rtol,
        "t_reached": float(r.t[-1]),
        "error": float(np.max(np.abs(r.x[-1] - xref))),
        "time_s": wall,
        "nfev": r.nfev,
        "n_steps": rep.n_steps,
        "min_step": rep.min_step,
        "success": r.success,
        "message": r.message,
    }
    if method == "implicit":
        row.update(
            n_rejected=rep.n_rejected,
            n_low_order=rep.n_low_order,
            n_set_valued_steps=rep.n_set_valued_steps,
            sliding_sets={str(k): v for k, v in (rep.sliding_sets or {}).items()},
        )
    else:
        row["switches"] = rep.n_switches_observed
    return row


def hessian_rows():
    """Exact ∇²f (objective.hess) vs central differences (a bare ∇f callable)."""
    rows = []
    expr = make_objective("0.5*(x1 - 2)**2 + 0.5*(x2 - 0.3)**2")
    cases = [
        ("l1 filippov (acceptance)", "l1", "auto"),
        ("relativistic", "relativistic", "auto"),
        ("linf implicit", "linf", "auto"),
    ]
    for label, K, method in cases:
        for kind in ("exact", "fd"):
            args = (expr,) if kind == "exact" else (expr.grad,)
            kw = {} if kind == "exact" else {"f": expr.f}
            best = np.inf
            for _ in range(3):
                t0 = time.perf_counter()
                r = solve_lion_ode(
                    K, *args, [0.0, 0.0], t_final=20.0, method=method, **kw, **PARAMS
                )
                best = min(best, time.perf_counter() - t0)
            rows.append(
                {
                    "case": label,
                    "hessian": kind,
                    "method": r.report.method,
                    "jacobian": r.report.jacobian,
                    "time_s": best,
                    "nfev": r.nfev,
                    "n_grad": r.report.n_grad,
                    "success": r.success,
                    "x_final": r.x[-1].tolist(),
                }
            )
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-nfev", type=int, default=200_000)
    ap.add_argument("--max-time", type=float, default=20.0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "ode_norms.json"))
    a = ap.parse_args(argv)
    rows = []
    for K, c in CASES.items():
        xref = reference(K, c)
        for rtol in (1e-4, 1e-8):
            base = run_one(K, c, xref, "implicit", rtol, None, None)
            rows.append(base)
            for method in ("RK45", "LSODA"):
                row = run_one(K, c, xref, method, rtol, a.max_nfev, a.max_time)
                row["time_ratio_vs_implicit"] = row["time_s"] / base["time_s"]
                row["nfev_ratio_vs_implicit"] = row["nfev"] / base["nfev"]
                rows.append(row)
    print(
        f"{'K':5s} {'method':9s} {'rtol':>6s} {'t_reach':>7s} {'error':>9s} {'time s':>7s} "
        f"{'nfev':>7s} {'steps':>6s} {'t/impl':>7s} {'nfev/impl':>9s} ok"
    )
    for r in rows:
        print(
            f"{r['K']:5s} {r['method']:9s} {r['rtol']:6.0e} {r['t_reached']:7.3f} "
            f"{r['error']:9.2e} {r['time_s']:7.3f} {r['nfev']:7d} {r['n_steps']:6d} "
            f"{r.get('time_ratio_vs_implicit', 1):7.1f} {r.get('nfev_ratio_vs_implicit', 1):9.1f}"
            f" {r['success']}"
        )
    hrows = hessian_rows()
    print(f"\n{'case':26s} {'hessian':7s} {'method':9s} {'time s':>7s} {'nfev':>6s} {'n_grad':>7s}")
    for r in hrows:
        print(
            f"{r['case']:26s} {r['hessian']:7s} {r['method']:9s} {r['time_s']:7.3f} "
            f"{r['nfev']:6d} {r['n_grad']:7d}"
        )
    write_record(
        a.out,
        benchmark="ode_norms",
        problem=__doc__.split("\n\n")[1],
        caps={
            "max_nfev": a.max_nfev,
            "max_time_s": a.max_time,
            "applies_to": "RK45 and LSODA runs only",
        },
        rows=rows,
        hessian_rows=hrows,
    )
    ok = all(
        r["success"] and r["error"] <= 2 * r["rtol"] for r in rows if r["method"] == "implicit"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
