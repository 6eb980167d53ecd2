"""The default-settings regression grid of `lionk simulate --mode both` (issue 8 acceptance).

Every vector catalog K × λ ∈ {0.5, 1.5, 3} × three objectives (the toy; the 3-D coupled quadratic
0.5*(x1-1)**2 + (x2+0.5)**2 + 0.25*(x3-3)**2 + 0.4*x2*x3 from x0 = (2, 0, −1); ``quadratic --dim
5``), all other settings the CLI defaults (lr 1e-3, β1 0.9, β2 0.99, 10 000 steps → α = γ = 10, ε =
0.01, t_final = 10). Each run goes through the same use cases as the CLI (`simulate_ode`,
`simulate`, `compare`) and records: the ODE status, the integrator(s) used, nfev, wall and CPU time
of the ODE solve, the 1-minute load average (2 shared cores), and ‖x_ODE(T) − x_discrete(T)‖₂. A
run passes when the ODE succeeds and that distance is ≤ 5e-3.

    .venv/bin/python benchmarks/bench_ode_grid.py [--K l1,linf] [--lam 1.5] [--json FILE]
    .venv/bin/python benchmarks/bench_ode_grid.py --table benchmarks/results/ode_grid.json

(``--table``: print the K × case markdown table of docs/ode.md from a saved run.)
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # the machine is shared: one BLAS thread
os.environ.setdefault("OMP_NUM_THREADS", "1")

from lyapunov_lion.core.kfunc import available_K, make_K  # noqa: E402
from lyapunov_lion.errors import TheoryWarning  # noqa: E402
from lyapunov_lion.simulate import SimulationSpec, simulate  # noqa: E402
from lyapunov_lion.simulate_ode import OdeOptions, compare, simulate_ode  # noqa: E402

CASES = {
    "toy": dict(objective="toy"),
    "quad3": dict(
        objective="0.5*(x1-1)**2 + (x2+0.5)**2 + 0.25*(x3-3)**2 + 0.4*x2*x3", x0="2,0,-1"
    ),
    "quad5": dict(objective="quadratic", objective_params={"dim": 5}),
}
LAMS = (0.5, 1.5, 3.0)
TOL = 5e-3


def vector_catalog() -> list[str]:
    return [n for n in available_K() if make_K(n).event_ndim == 1]


def spec_for(K, lam, case) -> SimulationSpec:
    kw = dict(CASES[case])
    if "x0" in kw:
        kw["x0"] = [float(v) for v in kw["x0"].split(",")]
    return SimulationSpec(K=K, lam=lam, **kw)


def run_case(K, lam, case) -> dict:
    spec = spec_for(K, lam, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        t0, c0 = time.perf_counter(), time.process_time()
        ode = simulate_ode(spec, OdeOptions())
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        disc = simulate(spec)
    cmp = compare(disc, ode)
    r = ode.result
    ok = bool(r.success) and cmp["final_distance"] <= TOL
    return {
        "K": K,
        "lam": lam,
        "case": case,
        "success": bool(r.success),
        "pass": ok,
        "method": r.report.method,
        "nfev": int(r.report.nfev),
        "wall": wall,
        "cpu": cpu,
        "load": os.getloadavg()[0],
        "final_distance": cmp["final_distance"],
        "message": r.message,
    }


def markdown_table(rows) -> str:
    """K × (case, λ): 'ok' or 'FAIL', nfev, ODE wall time in seconds."""
    cols = [(c, lam) for c in CASES for lam in LAMS]
    by = {(r["K"], r["case"], r["lam"]): r for r in rows}
    head = "| K | " + " | ".join(f"{c} λ={lam:g}" for c, lam in cols) + " |"
    lines = [head, "|---" * (len(cols) + 1) + "|"]
    for K in dict.fromkeys(r["K"] for r in rows):
        cells = []
        for c, lam in cols:
            r = by.get((K, c, lam))
            cells.append(
                "–"
                if r is None
                else f"{'ok' if r['pass'] else 'FAIL'} {r['nfev']} / {r['wall']:.1f}s"
            )
        lines.append(f"| {K} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--K", default=None, help="comma-separated K names (default: all vector K)")
    ap.add_argument("--lam", default=None, help="comma-separated λ (default: 0.5,1.5,3)")
    ap.add_argument("--case", default=None, help="comma-separated cases (toy,quad3,quad5)")
    ap.add_argument("--json", default=None, help="write the rows to this JSON file")
    ap.add_argument("--table", default=None, help="print the markdown table of a saved JSON run")
    a = ap.parse_args(argv)
    if a.table:
        print(markdown_table(json.loads(Path(a.table).read_text())))
        return 0
    Ks = a.K.split(",") if a.K else vector_catalog()
    lams = [float(v) for v in a.lam.split(",")] if a.lam else LAMS
    cases = a.case.split(",") if a.case else list(CASES)
    rows = []
    print(
        f"{'K':<13} {'λ':>4} {'case':<6} {'status':<7} {'method':<22} {'nfev':>7} "
        f"{'wall s':>7} {'cpu s':>7} {'load':>5} {'‖Δx(T)‖':>9}"
    )
    for K in Ks:
        for lam in lams:
            for case in cases:
                row = run_case(K, lam, case)
                rows.append(row)
                print(
                    f"{K:<13} {lam:>4g} {case:<6} {'ok' if row['pass'] else 'FAIL':<7} "
                    f"{row['method']:<22} {row['nfev']:>7} {row['wall']:>7.2f} "
                    f"{row['cpu']:>7.2f} {row['load']:>5.1f} "
                    f"{row['final_distance']:>9.2e}"
                    + ("" if row["pass"] else "  " + row["message"][:150]),
                    flush=True,
                )
    n_ok = sum(r["pass"] for r in rows)
    print(f"\n{n_ok}/{len(rows)} runs pass (ODE success and ‖x_ODE(T) − x_disc(T)‖ ≤ {TOL:g})")
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return 0 if n_ok == len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
