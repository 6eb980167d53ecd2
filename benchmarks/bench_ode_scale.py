"""The event-driven ODE integrator against the dimension d (issue 8 acceptance, "Scale").

Random convex quadratics f = ½(x − c)ᵀA(x − c), A = Q·diag(geomspace(1, 10, d))·Qᵀ (Q Haar
orthogonal), c ~ N(0, 1.5²) (about half of the coordinates of the optimum end on the faces of the
box ‖x‖_∞ ≤ 1, the rest slide at m̃_i = 0), K = l1, λ = 1, α = γ = 1, ε = 0.1, x0 = m0 = 0,
t_final = 20, rtol 1e-6 (atol 1e-9), default method. For each d and seed it records success, the
integrator(s) used, nfev, the number of switching events, wall and CPU time, the 1-minute load
average of the machine at the end of the run (2 cores, shared), and the error
‖x(20) − x*‖_∞ against the reference optimum x* of min f s.t. ‖x‖_∞ ≤ 1 (proximal gradient to
1e-12, `core.reference.constrained_optimum`).

    .venv/bin/python benchmarks/bench_ode_scale.py [--dims 1,10,50,100,1000] [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the machine is shared: one BLAS thread
os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402

from lyapunov_lion.core.objectives import make_objective  # noqa: E402
from lyapunov_lion.core.ode import solve_lion_ode  # noqa: E402
from lyapunov_lion.core.reference import constrained_optimum  # noqa: E402

PARAMS = dict(lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)
T_FINAL, RTOL, ATOL, TOL = 20.0, 1e-6, 1e-9, 1e-6


def random_quadratic(d: int, seed: int):
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    A = (Q * np.geomspace(1.0, 10.0, d)) @ Q.T
    return make_objective("quadratic", A=0.5 * (A + A.T), c=rng.normal(0.0, 1.5, d))


def run_one(d: int, seed: int, max_time: float | None = None) -> dict:
    obj = random_quadratic(d, seed)
    ref = constrained_optimum(obj, "l1", PARAMS["lam"])
    t0, c0 = time.perf_counter(), time.process_time()
    r = solve_lion_ode(
        "l1",
        obj,
        np.zeros(d),
        np.zeros(d),
        t_final=T_FINAL,
        rtol=RTOL,
        atol=ATOL,
        max_time=max_time,
        **PARAMS,
    )
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    err = float(np.max(np.abs(r.x[-1] - ref.x)))
    return {
        "d": d,
        "seed": seed,
        "success": bool(r.success),
        "pass": bool(r.success) and err <= TOL,
        "method": r.report.method,
        "nfev": r.report.nfev,
        "n_events": r.report.n_events,
        "wall": wall,
        "cpu": cpu,
        "load": os.getloadavg()[0],
        "n_polynomial_steps": r.report.n_polynomial_steps,
        "error": err,
        "t_reached": float(r.t[-1]),
        "n_box": int(np.sum(np.abs(ref.x) >= 1 - 1e-9)),
        "message": r.message,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", default="1,10,50,100")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--max-time", type=float, default=None)
    ap.add_argument("--json", default=None)
    a = ap.parse_args(argv)
    rows = []
    print(
        f"{'d':>5} {'seed':>4} {'status':<6} {'method':<10} {'nfev':>8} {'events':>7} "
        f"{'wall s':>8} {'cpu s':>8} {'load':>5} {'error':>9} {'#box':>5}"
    )
    for d in (int(v) for v in a.dims.split(",")):
        for seed in range(a.seeds):
            row = run_one(d, seed, a.max_time)
            rows.append(row)
            print(
                f"{d:>5} {seed:>4} {'ok' if row['pass'] else 'FAIL':<6} {row['method'][:10]:<10} "
                f"{row['nfev']:>8} {row['n_events']:>7} {row['wall']:>8.2f} {row['cpu']:>8.2f} "
                f"{row['load']:>5.1f} {row['error']:>9.2e} "
                f"{row['n_box']:>5}" + ("" if row["pass"] else "  " + row["message"][:160]),
                flush=True,
            )
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0 if all(r["pass"] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
