"""Filippov (event-driven, sliding mode) vs plain scipy integration on Lion's discontinuous ODE.

Problem (the acceptance case of the ODE simulator): f = ½(x1 − 2)² + ½(x2 − 0.3)², K = l1,
λ = 1, α = γ = 1, ε = 0.1, x0 = m0 = 0, t_final = 20; the Filippov solution ends at the box
optimum (1, 0.3) up to 2e-9 (x1 = 1 − e^{−t}·const on the face). For each rtol (atol = 1e-3·rtol)
it runs ``solve_lion_ode`` with method = filippov, RK45 and LSODA (sign(m̃) plugged into scipy;
capped at --max-nfev evaluations and --max-time seconds) and records the error ‖x(T) − (1, 0.3)‖_∞
(or at the time reached), the wall time, nfev and the ratios to the Filippov run.

    .venv/bin/python benchmarks/bench_ode_sliding.py [--max-nfev 200000] [--max-time 20]
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

OPT = np.array([1.0, 0.3])
PARAMS = dict(lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)


def run_one(method, rtol, max_nfev, max_time):
    obj = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.3])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        t0 = time.perf_counter()
        r = solve_lion_ode(
            "l1",
            obj,
            [0.0, 0.0],
            [0.0, 0.0],
            t_final=20.0,
            method=method,
            rtol=rtol,
            atol=1e-3 * rtol,
            max_nfev=max_nfev,
            max_time=max_time,
            **PARAMS,
        )
        wall = time.perf_counter() - t0
    return {
        "method": method,
        "rtol": rtol,
        "atol": 1e-3 * rtol,
        "t_reached": float(r.t[-1]),
        "error": float(np.max(np.abs(r.x[-1] - OPT))),
        "time_s": wall,
        "nfev": r.nfev,
        "n_steps": r.report.n_steps,
        "min_step": r.report.min_step,
        "switches": r.report.n_switches_observed,
        "success": r.success,
        "message": r.message,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-nfev", type=int, default=200_000)
    ap.add_argument("--max-time", type=float, default=20.0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "ode_sliding.json"))
    a = ap.parse_args(argv)
    rows = []
    for rtol in (1e-3, 1e-6):
        base = run_one("filippov", rtol, None, None)
        rows.append(base)
        for method in ("RK45", "LSODA"):
            row = run_one(method, rtol, a.max_nfev, a.max_time)
            row["time_ratio_vs_filippov"] = row["time_s"] / base["time_s"]
            row["nfev_ratio_vs_filippov"] = row["nfev"] / base["nfev"]
            row["error_ratio_vs_filippov"] = row["error"] / max(base["error"], 1e-300)
            rows.append(row)
    print(
        f"{'method':9s} {'rtol':>6s} {'t_reached':>9s} {'error':>9s} {'time s':>8s} {'nfev':>8s} "
        f"{'switch':>7s} {'t/filip':>8s} {'nfev/fil':>9s} ok"
    )
    for r in rows:
        print(
            f"{r['method']:9s} {r['rtol']:6.0e} {r['t_reached']:9.3f} {r['error']:9.2e} "
            f"{r['time_s']:8.3f} {r['nfev']:8d} {r['switches']:7d} "
            f"{r.get('time_ratio_vs_filippov', 1):8.1f} {r.get('nfev_ratio_vs_filippov', 1):9.1f}"
            f" {r['success']}"
        )
    write_record(
        a.out,
        benchmark="ode_sliding",
        problem=__doc__.split("\n\n")[1],
        caps={
            "max_nfev": a.max_nfev,
            "max_time_s": a.max_time,
            "applies_to": "RK45 and LSODA runs only",
        },
        rows=rows,
    )
    filippov_ok = all(
        r["success"] and r["error"] < 1e-6
        for r in rows
        if r["method"] == "filippov" and r["rtol"] <= 1e-6
    )
    return 0 if filippov_ok else 1


if __name__ == "__main__":
    sys.exit(main())
