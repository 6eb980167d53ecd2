"""`solve_lion_ode`: integrate the continuous-time Lion-K ODE (spec §3) and check the result.

    ṁ = −α∇f(x) − γm,   m̃ = m − ε(α∇f(x) + γm),   ẋ = ∇K(m̃) − λx,   α, γ, λ > 0, ε ≥ 0

Integrators (one interface, `run.OdeRun` out; ``method=`` a name below or an integrator class):

* ``"filippov"`` (`filippov.FilippovIntegrator`; default for a K with a piecewise model of ∇K —
  l1, deadzone, l1_plus_sq, a verified separable K with kinks — when ε > 0): event-driven
  integration with switching surfaces m̃_i = kink and sliding modes (equivalent control).
* ``"implicit"`` (`implicit.ImplicitIntegrator`; default for every other K whose ∇K jumps — linf,
  l2, lp, nuclear, user K with a prox — and for the former at ε = 0): backward-Euler substeps that
  resolve s ∈ ∂K(m̃_{n+1}) with K's prox, extrapolated to order ``order`` with step-size control.
* a scipy method name (``"Radau"``, ``"BDF"``, ``"LSODA"``, ``"RK45"``, ``"DOP853"``, ``"RK23"``;
  `plain.PlainIntegrator`). ``"auto"`` for a differentiable K: Radau with the analytic Jacobian
  when the problem is stiff (ρ(J(z0))·t_final > `STIFF_THRESHOLD`), else DOP853; but the implicit
  integrator when ∇K is continuous and not Lipschitz (``K.lipschitz_grad is False``: power_p with
  p < 2, a verified K with a steep k' such as |x|^1.5), where explicit steps shrink to ~1e-4. A
  plain method on a K with a discontinuous ∇K triggers a `TheoryWarning` and the guards judge its
  output.

**Fallback.** When the chosen integrator stops with a failure before t_final (not a budget cap),
the driver continues with the implicit integrator from the point it reached (which handles any
∂K, including accumulating switches); the report's ``method`` and ``fallback`` say so.

After every solve the guards of `diagnostics` run; any violation sets ``status = −1`` (scipy's
codes: −1 failure, 0 reached t_final, 1 a terminal event) and the message names it.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import LionKError, TheoryWarning
from ..kfunc import KFunction, make_K
from .filippov import FilippovIntegrator
from .implicit import ImplicitIntegrator
from .matrix import FlatMatrixK, flatten_objective
from .plain import PLAIN_METHODS, PlainIntegrator, smooth_jacobian
from .problem import LionProblem, build_problem
from .result import OdeLionResult, OdeReport, build_result
from .run import Integrator, OdeRun, SolveOptions

if TYPE_CHECKING:
    from ..objectives import Objective

__all__ = [
    "OdeReport",
    "OdeLionResult",
    "solve_lion_ode",
    "METHODS",
    "INTEGRATORS",
    "choose_integrator",
]

INTEGRATORS: dict[str, type[Integrator]] = {
    "filippov": FilippovIntegrator,
    "implicit": ImplicitIntegrator,
    **{name: type(name, (PlainIntegrator,), {"scheme": name}) for name in PLAIN_METHODS},
}
METHODS = ("auto",) + tuple(INTEGRATORS)

STIFF_THRESHOLD = 500.0
"""`auto` on a smooth K uses Radau when ρ(J(z0))·t_final exceeds this (else DOP853): an explicit
method needs ≳ ρ·T/3.3 steps for stability alone, Radau pays ~5× per step for its linear algebra."""


def _check_params(
    lam: float, alpha: float, gamma: float, eps: float, t_final: float
) -> dict[str, float]:
    vals = {
        k: float(v)
        for k, v in (
            ("lam", lam),
            ("alpha", alpha),
            ("gamma", gamma),
            ("eps", eps),
            ("t_final", t_final),
        )
    }
    for key, v in vals.items():
        if not np.isfinite(v) or not (v >= 0 if key == "eps" else v > 0):
            raise LionKError(f"{key}={v!r}: need lam, alpha, gamma, t_final > 0 and eps ≥ 0")
    if vals["eps"] * vals["gamma"] > 1:
        warnings.warn(
            f"εγ = {vals['eps'] * vals['gamma']:g} > 1: the second term of Δ can be "
            "negative and H need not decrease (spec §4 needs εγ ≤ 1)",
            TheoryWarning,
            stacklevel=3,
        )
    return vals


def choose_integrator(
    prob: LionProblem, method: str | type[Integrator], z0: NDArray[np.float64], t_final: float
) -> Integrator:
    """The integrator instance for ``method`` (a name or an integrator class); ``"auto"``: see
    the module doc."""
    if isinstance(method, type):
        return method()
    if method not in METHODS:
        raise LionKError(f"method={method!r}: choose one of {', '.join(METHODS)}")
    if method == "auto":
        if prob.K.differentiable and prob.K.lipschitz_grad is not False:
            jac = smooth_jacobian(prob)
            stiff = (
                jac is not None
                and float(np.max(np.abs(np.linalg.eigvals(jac(0.0, z0))))) * t_final
                > STIFF_THRESHOLD
            )
            return INTEGRATORS["Radau" if stiff else "DOP853"]()
        method = "filippov" if prob.pw is not None and prob.eps > 0 else "implicit"
    integ = INTEGRATORS[method]()
    if not integ.applicable(prob) and method == "filippov":
        raise LionKError(
            f"method='filippov' needs a K with a piecewise model of ∇K (l1, "
            f"deadzone, l1_plus_sq, a verified separable K), not {prob.K.name}; use "
            "method='implicit' (or 'auto')"
        )
    if not integ.applicable(prob):
        extra = (
            " and builds a finite-difference Jacobian across the jump (wrong near the "
            "switching surface)"
            if method in ("Radau", "BDF", "LSODA")
            else ""
        )
        warnings.warn(
            f"method={method} on K={prob.K.name}: ∇K is discontinuous on m̃_i = kink, "
            f"the integrator chatters there{extra}; use method='auto' (filippov or "
            "implicit) for the Filippov solution",
            TheoryWarning,
            stacklevel=3,
        )
    return integ


def _as_vector_problem(
    K: KFunction | str,
    objective_or_grad: Any,
    x0: ArrayLike,
    m0: ArrayLike | None,
    f: Callable[[Any], Any] | None,
    hess: Any,
) -> tuple[
    KFunction,
    Any,
    NDArray[np.float64],
    NDArray[np.float64],
    Callable[[Any], Any] | None,
    Any,
    tuple[int, ...] | None,
]:
    """K built, x0/m0 as float arrays; a matrix K is integrated on vec(X) (see `matrix`)."""
    K = make_K(K) if isinstance(K, str) else K
    if not isinstance(K, KFunction) or K.event_ndim not in (1, 2):
        raise LionKError(
            "solve_lion_ode needs a KFunction with event_ndim 1 (vector) or 2 (matrix)"
        )
    x0 = np.asarray(x0, dtype=float)
    m0 = np.zeros_like(x0) if m0 is None else np.asarray(m0, dtype=float)
    if m0.shape != x0.shape:
        raise LionKError(f"m0 has shape {m0.shape}, x0 has {x0.shape}")
    if K.event_ndim == 1:
        if x0.ndim > 1:
            raise LionKError(f"K={K.name} acts on vectors: x0 must be 1-D, got shape {x0.shape}")
        return K, objective_or_grad, x0.reshape(-1), m0.reshape(-1), f, hess, None
    if x0.ndim != 2:
        raise LionKError(f"K={K.name} acts on matrices: x0 must have shape (a, b), got {x0.shape}")
    return (
        FlatMatrixK(K, x0.shape),
        flatten_objective(objective_or_grad, x0.shape, f, hess),
        x0.reshape(-1),
        m0.reshape(-1),
        None,
        None,
        x0.shape,
    )


def solve_lion_ode(
    K: KFunction | str,
    objective_or_grad: Objective | Callable[[Any], Any],
    x0: ArrayLike,
    m0: ArrayLike | None = None,
    *,
    lam: float,
    alpha: float,
    gamma: float,
    eps: float,
    t_final: float,
    method: str | type[Integrator] = "auto",
    rtol: float = 1e-8,
    atol: ArrayLike = 1e-10,
    t_eval: ArrayLike | None = None,
    f: Callable[[Any], Any] | None = None,
    hess: Any = None,
    inner_method: str = "DOP853",
    max_events: int = 10_000,
    max_nfev: int | None = None,
    max_time: float | None = None,
    first_step: float | None = None,
    order: int = 4,
    progress: Callable[[float], None] | None = None,
) -> OdeLionResult:
    """Integrate the Lion-K ODE from (x0, m0) (m0 = 0 by default) on [0, t_final].

    ``K``: a `KFunction` or a name. ``objective_or_grad``: an `Objective` (f, ∇f; ∇²f from
    ``hess``, the objective, or central differences) or a callable ∇f (then pass ``f`` for H).
    ``method``: ``"auto"``, an integrator name or class (module doc). ``rtol``/``atol``: the
    integrator's tolerances (Filippov: of the inner RK method on each smooth segment, events to
    machine precision; implicit: of the extrapolation error estimate). ``t_eval``: output times
    (else the knots). ``order``: extrapolation depth of the implicit mode (2, 3 or 4). Caps:
    ``max_events`` (Filippov), ``max_nfev`` and ``max_time``. ``progress``: called with t after
    every accepted step (for a progress bar; the solution does not depend on it). A matrix K
    (``event_ndim = 2``, e.g. nuclear) takes x0 of shape (a, b) and is integrated on vec(X)
    (`matrix.FlatMatrixK`); ``x``, ``m`` come back with shape (n, a, b). Returns `OdeLionResult`.
    """
    K, obj, x0, m0, f, hess, shape = _as_vector_problem(K, objective_or_grad, x0, m0, f, hess)
    params = _check_params(lam, alpha, gamma, eps, t_final)
    t_final = params.pop("t_final")
    prob = build_problem(K, obj, x0.size, f=f, hess=hess, **params)
    opts = SolveOptions(
        rtol=rtol,
        atol=atol,
        t_eval=t_eval,
        first_step=first_step,
        max_events=max_events,
        max_nfev=max_nfev,
        max_time=max_time,
        order=order,
        inner_method=inner_method,
        progress=progress,
    )
    z0 = np.concatenate([x0, m0])
    integ = choose_integrator(prob, method, z0, t_final)
    start = time.perf_counter()
    run = integ.run(prob, 0.0, z0, t_final, opts)
    fallback = None
    if (
        run.status < 0
        and run.t[-1] < t_final
        and not _budget_stop(run)
        and not isinstance(integ, ImplicitIntegrator)
    ):
        fallback = (
            f"{run.method} stopped at t={run.t[-1]:.6g} ({run.message}); continued with "
            "the implicit integrator"
        )
        run = run.then(
            ImplicitIntegrator().run(prob, float(run.t[-1]), run.z[:, -1], t_final, opts)
        )
    return build_result(prob, run, opts, t_final, time.perf_counter() - start, shape, fallback)


def _budget_stop(run: OdeRun) -> bool:
    return any(w in run.message for w in ("nfev cap", "time cap"))
