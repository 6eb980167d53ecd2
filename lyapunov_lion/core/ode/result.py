"""The result of `solve_lion_ode`: `OdeLionResult` (trajectory, scipy-style status) and its
`OdeReport` (what the integrators did), built from an `OdeRun` by `build_result` after the guards
of `diagnostics` have judged it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import LionKError
from .diagnostics import OdeDiagnostics, diagnose, run_guards
from .run import OdeRun, SolveOptions

if TYPE_CHECKING:
    from .problem import LionProblem

__all__ = ["OdeReport", "OdeLionResult", "build_result"]


@dataclass
class OdeReport:
    """What the integrator did. Per-coordinate arrays have length d.

    ``sliding_time[i]``: total time coordinate i spent sliding on a kink of ∇K (Filippov mode;
    None for plain methods). ``final_mode[i]``: ``"sliding@kink j"`` or ``"region r"``.
    ``on_boundary_end[i]``: λx_i on the boundary of dom K* (separable K, within tol_dom).
    ``n_switches_observed``: Filippov: the number of mode switches; implicit: changes of the set
    of set-valued coordinates between accepted steps; plain methods: changes of the ∇K branch of
    m̃_i between consecutive solver knots (on a jumping ∇K this counts chattering).

    Implicit mode only: ``order`` (extrapolation depth), ``n_rejected`` steps, ``n_low_order``
    (steps accepted on the first-order estimate, see `implicit`),
    ``n_set_valued_steps`` (accepted steps in which some substep had m̃ on a non-smooth set of K,
    i.e. ∂K(m̃) not a singleton), ``sliding_time[i]`` (time coordinate i spent on such a set),
    ``sliding_sets`` (time per set of coordinates, e.g. "(0, 1)" for the ℓ∞ surface
    |m̃_0| = |m̃_1|), ``n_projections``/``max_projection`` (returns to dom K*, see `implicit`).

    Filippov mode only: ``n_polynomial_steps``, inner steps whose gaps were read off their
    interpolating polynomial (∇f affine, see `filippov._StepGaps`) instead of evaluated.
    """

    method: str
    inner_method: str | None
    nfev: int
    njev: int
    n_grad: int
    n_steps: int
    min_step: float
    n_events: int
    n_sliding_entries: int
    sliding_time: np.ndarray | None
    final_mode: list[str] | None
    on_boundary_end: np.ndarray | None
    n_switches_observed: int
    wall_time: float
    jacobian: str
    events: list[tuple[Any, ...]] = field(default_factory=list)
    order: int | None = None
    n_rejected: int = 0
    n_low_order: int = 0
    n_set_valued_steps: int = 0
    sliding_sets: dict[tuple[int, ...], float] | None = None
    n_projections: int = 0
    max_projection: float = 0.0
    n_switch_steps: int = 0
    n_switch_rejected: int = 0
    n_polynomial_steps: int = 0
    fallback: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            if isinstance(v, np.ndarray):
                v = v.tolist()
            out[k] = v
        out["events"] = [list(e) for e in self.events[:50]]
        if self.sliding_sets is not None:
            out["sliding_sets"] = {str(k): v for k, v in self.sliding_sets.items()}
        return out


@dataclass
class OdeLionResult:
    """An ODE trajectory, in the spirit of scipy's ``OdeResult`` (time on axis 0 as in
    `DiscreteResult`): ``t`` (n,), ``x`` and ``m`` (n, d); ``sol(t)`` the dense output of the
    stacked state (x, m) (shape (2d,) or (2d, k)); ``state(t)`` → (x, m).

    Matrix K (``event_shape`` = (a, b)): ``x``, ``m`` and ``state(t)`` have shape (n, a, b) /
    (k, a, b); ``sol(t)`` stays flat (2ab, k) over (vec X, vec M) in row-major order, and the
    per-coordinate report arrays (``sliding_time``, ``final_mode``) index the entries of vec X."""

    t: np.ndarray
    x: np.ndarray
    m: np.ndarray
    sol: Any
    nfev: int
    njev: int
    status: int
    message: str
    report: OdeReport
    diagnostics: OdeDiagnostics
    guards: dict[str, dict[str, Any]]
    params: dict[str, Any]
    event_shape: tuple[int, ...] | None = None

    @property
    def success(self) -> bool:
        """scipy's convention: status 0 (reached t_final) or 1 (a terminal event) is a success."""
        return self.status >= 0

    def state(self, t: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if self.sol is None:
            raise LionKError("no dense output available for this run")
        z = np.asarray(self.sol(t))
        d = z.shape[0] // 2
        x, m = z[:d].T, z[d:].T
        if self.event_shape is not None:
            x = x.reshape(x.shape[:-1] + self.event_shape)
            m = m.reshape(m.shape[:-1] + self.event_shape)
        return x, m


_EXTRA = (
    "order",
    "n_rejected",
    "n_low_order",
    "n_set_valued_steps",
    "sliding_sets",
    "n_projections",
    "max_projection",
    "n_switch_steps",
    "n_switch_rejected",
    "n_polynomial_steps",
)


def build_result(
    prob: LionProblem,
    run: OdeRun,
    opts: SolveOptions,
    t_final: float,
    wall: float,
    event_shape: tuple[int, ...] | None = None,
    fallback: str | None = None,
) -> OdeLionResult:
    """Sample the run on ``opts.t_eval`` (else its knots), run the diagnostics and guards, and
    assemble the result; a guard violation turns the status into −1 and is named in the message."""
    d = prob.d
    t_out, Z = run.t, run.z
    if opts.t_eval is not None and run.sol is not None:
        t_out = np.asarray(opts.t_eval, dtype=float)
        t_out = t_out[t_out <= run.t[-1]]
        Z = np.asarray(run.sol(t_out)).reshape(2 * d, -1)
    X, M = Z[:d].T.copy(), Z[d:].T.copy()
    U = run.selection(t_out, Z).T
    diag = diagnose(
        prob.K,
        t_out,
        X,
        M,
        U,
        prob.grad,
        prob.f,
        lam=prob.lam,
        alpha=prob.alpha,
        gamma=prob.gamma,
        eps=prob.eps,
        rtol=opts.rtol,
        atol=opts.atol,
    )
    guards = run_guards(diag, X, M, prob.lam)
    c, message = run.counters, run.message
    on_bd = None
    if prob.K.separable and hasattr(prob.K, "dom_bounds"):
        lo, hi = prob.K.dom_bounds()
        lx = prob.lam * X[-1]
        on_bd = (np.abs(lx - hi) <= diag.tol_dom) | (np.abs(lx - lo) <= diag.tol_dom)
    n_sw = len(run.events)
    if not prob.K.differentiable and run.method in (
        "RK23",
        "RK45",
        "DOP853",
        "Radau",
        "BDF",
        "LSODA",
    ):
        lab = np.sign(run.selection(run.t, run.z))
        n_sw = int(np.sum(lab[:, 1:] != lab[:, :-1]))
        message += (
            f"; naive integration of a jumping ∇K: {n_sw} branch switches between knots, "
            f"min step {c['min_step']:.3g} (not a Filippov solution)"
        )
    jac = run.extra.get("jacobian") or (
        "none (explicit RK on smooth segments; ∇²f "
        + ("exact" if prob.hess_exact else "by central differences")
        + " in the equivalent control)"
        if run.method.startswith("filippov")
        else "none (implicit substeps linearise ∇f with ∇²f "
        + (
            "exact, constant"
            if prob.hess_constant
            else "exact"
            if prob.hess_exact
            else "by central differences"
        )
        + ")"
    )
    report = OdeReport(
        method=run.method,
        inner_method=run.extra.get("inner_method"),
        nfev=int(c["nfev"]),
        njev=int(c["njev"]),
        n_grad=int(c["n_grad"]),
        n_steps=int(run.t.size - 1),
        min_step=float(c["min_step"]),
        n_events=len(run.events),
        n_sliding_entries=int(run.extra.get("n_sliding_entries", 0)),
        sliding_time=run.sliding_time,
        final_mode=run.final_mode,
        on_boundary_end=on_bd,
        n_switches_observed=n_sw,
        wall_time=wall,
        jacobian=jac,
        events=run.events,
        fallback=fallback,
        **{k: run.extra[k] for k in _EXTRA if k in run.extra},
    )
    failed = [f"{k}: {v['detail']}" for k, v in guards.items() if not v["ok"]]
    status = -1 if failed else run.status
    if failed:
        message = f"{message}; guard violation(s): " + "; ".join(failed)
    if event_shape is not None:
        X, M = X.reshape((-1,) + event_shape), M.reshape((-1,) + event_shape)
    return OdeLionResult(
        t=t_out,
        x=X,
        m=M,
        sol=run.sol,
        nfev=int(c["nfev"]),
        njev=int(c["njev"]),
        status=int(status),
        message=message,
        report=report,
        diagnostics=diag,
        guards=guards,
        event_shape=event_shape,
        params={
            "lam": prob.lam,
            "alpha": prob.alpha,
            "gamma": prob.gamma,
            "eps": prob.eps,
            "t_final": t_final,
            "rtol": opts.rtol,
            "atol": opts.atol,
            "K": prob.K.name,
        },
    )
