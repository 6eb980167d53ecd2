"""A plain scipy integration (``RK45``, ``DOP853``, ``Radau``, ``BDF``, ``LSODA``, ``RK23``) with
budgets: the solver's step loop is run here (as `scipy.integrate.solve_ivp` does) so that an
evaluation cap ``max_nfev`` or a wall-time cap ``max_time`` stops it with its partial solution
instead of running unbounded (a naive integrator on a discontinuous ∇K can take millions of steps).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.integrate import BDF, DOP853, LSODA, RK23, RK45, OdeSolution, Radau

from ...errors import LionKError

if TYPE_CHECKING:
    from .problem import LionProblem
    from .run import OdeRun, SolveOptions

Field: TypeAlias = Callable[[float, NDArray[np.float64]], NDArray[np.float64]]
"""A right-hand side ``(t, z) -> ż`` (or its Jacobian ``(t, z) -> ∂ż/∂z``) in scipy's form."""

__all__ = ["PLAIN_METHODS", "PlainRun", "integrate_plain", "PlainIntegrator", "smooth_jacobian"]

METHODS = {"RK23": RK23, "RK45": RK45, "DOP853": DOP853, "Radau": Radau, "BDF": BDF, "LSODA": LSODA}
PLAIN_METHODS = tuple(METHODS)


@dataclass
class PlainRun:
    t: NDArray[np.float64]
    z: NDArray[np.float64]
    sol: OdeSolution | None
    nfev: int
    njev: int
    nlu: int
    status: int
    message: str
    min_step: float


def integrate_plain(
    method: str,
    fun: Field,
    z0: ArrayLike,
    t_final: float,
    *,
    rtol: float,
    atol: ArrayLike,
    jac: Field | None = None,
    max_nfev: int | None = None,
    max_time: float | None = None,
    first_step: float | None = None,
    t0: float = 0.0,
    progress: Callable[[float], None] | None = None,
) -> PlainRun:
    """Integrate ``z' = fun(t, z)`` on [0, t_final] with scipy's ``method``; stop at the caps."""
    if method not in METHODS:
        raise LionKError(
            f"method={method!r}: choose one of {', '.join(METHODS)}, 'filippov' or 'auto'"
        )
    kw: dict[str, Any] = {"rtol": rtol, "atol": atol}
    if first_step is not None:
        kw["first_step"] = first_step
    if jac is not None and method in ("Radau", "BDF", "LSODA"):
        kw["jac"] = jac
    solver = METHODS[method](fun, t0, np.asarray(z0, dtype=float), t_final, **kw)
    ts: list[float] = [t0]
    zs: list[NDArray[np.float64]] = [np.asarray(z0, dtype=float)]
    interps: list[Any] = []
    start = time.perf_counter()
    status: int | None = None
    message = ""
    while status is None:
        msg = solver.step()
        if solver.status == "failed":
            status, message = -1, f"{method} failed at t={solver.t:.6g}: {msg}"
            break
        interps.append(solver.dense_output())
        ts.append(solver.t)
        zs.append(solver.y.copy())
        if progress is not None:
            progress(float(solver.t))
        if solver.status == "finished":
            status, message = 0, f"{method} reached t_final"
        elif max_nfev is not None and solver.nfev >= max_nfev:
            status, message = -1, f"{method}: nfev cap {max_nfev} reached at t={solver.t:.6g}"
        elif max_time is not None and time.perf_counter() - start > max_time:
            status, message = -1, f"{method}: time cap {max_time:g}s reached at t={solver.t:.6g}"
    t = np.asarray(ts)
    sol = OdeSolution(t, interps) if interps else None
    steps = np.diff(t)
    return PlainRun(
        t=t,
        z=np.stack(zs, axis=1),
        sol=sol,
        nfev=solver.nfev,
        njev=solver.njev,
        nlu=solver.nlu,
        status=status,
        message=message,
        min_step=float(steps.min()) if steps.size else np.inf,
    )


def smooth_jacobian(prob: LionProblem) -> Field | None:
    """The analytic Jacobian of (ẋ, ṁ) when ∇²K (K's `hessian`) and an exact ∇²f are known:

    ∂(ẋ, ṁ)/∂(x, m) = [[−εα D∇²f − λI, (1 − εγ) D], [−α∇²f, −γI]],   D = ∇²K(m̃)
    """
    from .problem import hessian_of

    if not prob.hess_exact or hessian_of(prob.K, np.zeros(prob.d)) is None:
        return None
    d, lam, alpha, gamma, eps = prob.d, prob.lam, prob.alpha, prob.gamma, prob.eps

    def jac(t: float, z: NDArray[np.float64]) -> NDArray[np.float64]:
        x, m = z[:d], z[d:]
        g = np.asarray(prob.grad(x), dtype=float)
        Hf = prob.hess(x)
        D = prob.K.hessian(m - eps * (alpha * g + gamma * m))
        J = np.empty((2 * d, 2 * d))
        J[:d, :d] = -eps * alpha * D @ Hf - lam * np.eye(d)
        J[:d, d:] = (1 - eps * gamma) * D
        J[d:, :d] = -alpha * Hf
        J[d:, d:] = -gamma * np.eye(d)
        return J

    return jac


class _FieldSelection:
    def __init__(self, prob: LionProblem) -> None:
        self.prob = prob

    def __call__(self, t: ArrayLike, Z: NDArray[np.float64]) -> NDArray[np.float64]:
        p, d = self.prob, self.prob.d
        X, M = Z[:d].T, Z[d:].T
        return np.asarray(p.K.grad(p.mtilde(X, M))).T


class PlainIntegrator:
    """A scipy method on the single-valued field ∇K(m̃) (Radau/BDF/LSODA with the analytic
    Jacobian when `smooth_jacobian` has one). Right for a differentiable K only."""

    scheme = "DOP853"

    def __init__(self, scheme: str | None = None) -> None:
        self.scheme = scheme or self.scheme
        if self.scheme not in METHODS:
            raise LionKError(f"method={self.scheme!r}: choose one of {', '.join(METHODS)}")
        self.name = self.scheme

    @staticmethod
    def applicable(prob: LionProblem) -> bool:
        return bool(prob.K.differentiable)

    def run(
        self, prob: LionProblem, t0: float, z0: ArrayLike, t_final: float, opts: SolveOptions
    ) -> OdeRun:
        from .run import OdeRun

        jac = smooth_jacobian(prob) if self.scheme in ("Radau", "BDF", "LSODA") else None
        r = integrate_plain(
            self.scheme,
            prob.field,
            z0,
            t_final,
            rtol=opts.rtol,
            atol=opts.atol,
            jac=jac,
            max_nfev=opts.max_nfev,
            max_time=opts.max_time,
            first_step=opts.first_step,
            t0=t0,
            progress=opts.progress,
        )
        fd = self.scheme in ("Radau", "BDF", "LSODA") and jac is None
        return OdeRun(
            method=self.name,
            t=r.t,
            z=r.z,
            sol=r.sol,
            status=r.status,
            message=r.message,
            selection=_FieldSelection(prob),
            counters={
                "nfev": r.nfev,
                "njev": r.njev,
                "n_grad": r.nfev + r.njev * (2 * prob.d if fd else 0),
                "n_steps": r.t.size - 1,
                "min_step": r.min_step,
            },
            extra={
                "jacobian": "analytic"
                if jac is not None
                else "finite differences"
                if fd
                else "none"
            },
        )
