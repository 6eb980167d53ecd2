"""A plain scipy integration (``RK45``, ``DOP853``, ``Radau``, ``BDF``, ``LSODA``, ``RK23``) with
budgets: the solver's step loop is run here (as `scipy.integrate.solve_ivp` does) so that an
evaluation cap ``max_nfev`` or a wall-time cap ``max_time`` stops it with its partial solution
instead of running unbounded (a naive integrator on a discontinuous ∇K can take millions of steps).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.integrate import BDF, DOP853, LSODA, RK23, RK45, OdeSolution, Radau

from ...errors import LionKError

__all__ = ["PLAIN_METHODS", "PlainRun", "integrate_plain"]

METHODS = {"RK23": RK23, "RK45": RK45, "DOP853": DOP853, "Radau": Radau, "BDF": BDF,
           "LSODA": LSODA}
PLAIN_METHODS = tuple(METHODS)


@dataclass
class PlainRun:
    t: np.ndarray
    z: np.ndarray
    sol: OdeSolution | None
    nfev: int
    njev: int
    nlu: int
    status: int
    message: str
    min_step: float


def integrate_plain(method: str, fun, z0, t_final: float, *, rtol, atol, jac=None,
                    max_nfev: int | None = None, max_time: float | None = None,
                    first_step=None) -> PlainRun:
    """Integrate ``z' = fun(t, z)`` on [0, t_final] with scipy's ``method``; stop at the caps."""
    if method not in METHODS:
        raise LionKError(f"method={method!r}: choose one of {', '.join(METHODS)}, 'filippov' or 'auto'")
    kw = {"rtol": rtol, "atol": atol}
    if first_step is not None:
        kw["first_step"] = first_step
    if jac is not None and method in ("Radau", "BDF", "LSODA"):
        kw["jac"] = jac
    solver = METHODS[method](fun, 0.0, np.asarray(z0, dtype=float), t_final, **kw)
    ts, zs, interps = [0.0], [np.asarray(z0, dtype=float)], []
    start = time.perf_counter()
    status, message = None, ""
    while status is None:
        msg = solver.step()
        if solver.status == "failed":
            status, message = -1, f"{method} failed at t={solver.t:.6g}: {msg}"
            break
        interps.append(solver.dense_output())
        ts.append(solver.t)
        zs.append(solver.y.copy())
        if solver.status == "finished":
            status, message = 0, f"{method} reached t_final"
        elif max_nfev is not None and solver.nfev >= max_nfev:
            status, message = -1, f"{method}: nfev cap {max_nfev} reached at t={solver.t:.6g}"
        elif max_time is not None and time.perf_counter() - start > max_time:
            status, message = -1, f"{method}: time cap {max_time:g}s reached at t={solver.t:.6g}"
    t = np.asarray(ts)
    sol = OdeSolution(t, interps) if interps else None
    steps = np.diff(t)
    return PlainRun(t=t, z=np.stack(zs, axis=1), sol=sol, nfev=solver.nfev, njev=solver.njev,
                    nlu=solver.nlu, status=status, message=message,
                    min_step=float(steps.min()) if steps.size else np.inf)
