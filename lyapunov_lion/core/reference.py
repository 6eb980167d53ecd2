"""The exact solution of the problem Lion-K solves, as a reference for runs and figures.

With weight decay λ > 0, Lion-K minimises (spec §4)

    F(x) = f(x) + h(x),   h(x) = (1/λ) K*(λx).

The prox of h comes from ``K.prox`` by the Moreau identity [derived here]: the conjugate of h is
h*(y) = sup_u yᵀu − (1/λ)K*(λu) = (1/λ) sup_w yᵀw − K*(w) = K(y)/λ  (w = λu, K closed convex), and
Moreau's decomposition v = prox_{th}(v) + t·prox_{h*/t}(v/t) gives

    prox_{th}(v) = v − t · prox_{K/(tλ)}(v/t) = v − t · K.prox(v/t, 1/(tλ)).

Solvers (``method`` of the result):

* ``"closed form prox"`` — f = a‖x − c‖² + const (isotropic quadratic): F = a‖x − c‖² + h, so
  x* = prox_{h/(2a)}(c), one prox (x* = c when λ = 0);
* ``"proximal gradient"`` — FISTA with backtracking (Beck–Teboulle) and gradient-based adaptive
  restart (O'Donoghue–Candès), x⁺ = prox_{th}(y − t∇f(y)); the step starts at 1/L when L is
  known. Stops when ‖x⁺ − y‖ ≤ tol·max(1, ‖x⁺‖);
* ``"unconstrained (BFGS + gradient polish)"`` — λ = 0: scipy BFGS, then the same accelerated
  loop with h = 0 to reach ``tol``.

For convex f these find the global minimiser; for non-convex f (rosenbrock, some expressions) a
stationary point of F. ``converged`` is decided at the returned point by the proximal-gradient
residual r = ‖x − prox_{th}(x − t∇f(x))‖ / max(1, ‖x‖) ≤ max(tol, 1e-14) — zero exactly at
stationary points of F — and ``kkt`` reports the stationarity score

    S(x) = K(−∇f(x)) + K*(λx) + λ xᵀ∇f(x)   ≥ 0,

the Fenchel–Young gap of the pair (−∇f(x), λx): S = 0 exactly when −∇f(x) ∈ ∂K*(λx), i.e.
0 ∈ ∇f(x) + ∂h(x) (stationarity of F); S = +∞ when λx ∉ dom K*. For K = ‖·‖₁ inside the box it is
the spec's ‖∇f‖₁ + λxᵀ∇f. For λ = 0, ``kkt`` is ‖∇f(x)‖₂.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from ..errors import LionKError
from .kfunc import KFunction, make_K
from .lyapunov import kkt_score
from .objectives import Objective, StochasticGradient, make_objective

_RESIDUAL_FLOOR = 1e-14  # below this the relative residual is rounding noise of float64


@dataclass
class ReferenceSolution:
    """The reference optimum of F = f + (1/λ)K*(λx) and how it was obtained.

    ``x`` the point, ``f`` = f(x), ``F`` = F(x), ``kkt`` the stationarity score S(x) (module
    docstring), ``residual`` the relative proximal-gradient residual, ``converged`` whether
    residual ≤ max(tol, 1e-14), ``iterations``, ``method``, ``message``.
    """

    x: NDArray[np.float64]
    f: float
    F: float
    iterations: int
    converged: bool
    method: str
    kkt: float
    residual: float = math.nan
    message: str = ""
    lam: float = 0.0
    K: Any = None
    extra: dict[str, Any] = field(default_factory=dict)


def induced_term(K: KFunction, lam: float, x: ArrayLike) -> NDArray[np.float64]:
    """h(x) = (1/λ) K*(λx) (+inf outside (1/λ)·dom K*); 0 when λ = 0."""
    if lam == 0:
        return np.zeros(np.shape(x)[:-1])
    return np.asarray(K.conj(lam * np.asarray(x, dtype=float))) / lam


def prox_induced(K: KFunction, lam: float, v: ArrayLike, t: float) -> NDArray[np.float64]:
    """prox_{th}(v) for h(x) = (1/λ)K*(λx):  v − t·prox_{K/(tλ)}(v/t) = v − t·K.prox(v/t, 1/(tλ)).

    (Moreau decomposition with h* = K/λ; see the module docstring.) λ = 0 gives the identity.
    """
    v = np.asarray(v, dtype=float)
    if lam == 0:
        return v.copy()
    try:
        return v - t * np.asarray(K.prox(v / t, 1.0 / (t * lam)), dtype=float)
    except NotImplementedError as exc:
        raise LionKError(
            f"K={K.name} has no prox, which the reference solver needs: {exc}"
        ) from None


def stationarity_score(
    objective: Objective, K: KFunction, lam: float, x: ArrayLike
) -> NDArray[np.float64]:
    """S(x) = K(−∇f(x)) + K*(λx) + λ xᵀ∇f(x) ≥ 0 (Fenchel–Young); ‖∇f(x)‖₂ when λ = 0.

    Zero exactly at stationary points of F = f + (1/λ)K*(λx); +inf when λx ∉ dom K*. Batched
    over the leading axes of x.
    """
    x = np.asarray(x, dtype=float)
    g = np.asarray(objective.grad(x), dtype=float)
    if lam == 0:
        norm: NDArray[np.float64] = np.linalg.norm(g, axis=-1)
        return norm
    with np.errstate(invalid="ignore"):
        return np.asarray(kkt_score(K, x, g, lam), dtype=float)


def _value_F(
    objective: Objective, K: KFunction, lam: float, x: NDArray[np.float64]
) -> tuple[float, float]:
    fx = float(objective.f(x))
    return fx, fx + float(induced_term(K, lam, x))


def _residual(
    objective: Objective, K: KFunction, lam: float, x: NDArray[np.float64], t: float
) -> float:
    """‖x − prox_{th}(x − t∇f(x))‖ / max(1, ‖x‖)  (0 exactly at stationary points of F)."""
    g = np.asarray(objective.grad(x), dtype=float)
    xp = prox_induced(K, lam, x - t * g, t)
    return float(np.linalg.norm(x - xp) / max(1.0, float(np.linalg.norm(x))))


def _accelerated_prox_grad(
    objective: Objective,
    K: KFunction,
    lam: float,
    x0: NDArray[np.float64],
    tol: float,
    max_iter: int,
) -> tuple[NDArray[np.float64], int, float, bool, str]:
    """FISTA with backtracking and gradient restart. Returns (x, iterations, t, stopped,
    message)."""
    L = objective.lipschitz
    t = 1.0 / L if L else 1.0
    x = prox_induced(K, lam, x0, t)  # a feasible start (λx ∈ dom K*)
    y, theta = x.copy(), 1.0
    restarts = backtracks = 0
    for k in range(1, max_iter + 1):
        fy = float(objective.f(y))
        gy = np.asarray(objective.grad(y), dtype=float)
        if not (np.isfinite(fy) and np.all(np.isfinite(gy))):
            return x, k, t, False, f"non-finite f or ∇f at iteration {k}"
        while True:
            x_new = prox_induced(K, lam, y - t * gy, t)
            d = x_new - y
            f_new = float(objective.f(x_new))
            model = fy + float(gy @ d) + float(d @ d) / (2 * t)
            # accept up to rounding of the values compared (10 ulps of |f|)
            if f_new <= model + 10 * np.finfo(float).eps * max(abs(fy), abs(f_new), 1.0):
                break
            t *= 0.5
            backtracks += 1
            if t < 1e-300:
                return x, k, t, False, "backtracking step underflowed (∇f not locally Lipschitz?)"
        scale = max(1.0, float(np.linalg.norm(x_new)))
        if float(np.linalg.norm(d)) <= tol * scale:
            return (
                x_new,
                k,
                t,
                True,
                (
                    f"stopped: step ≤ tol after {k} iterations "
                    f"({restarts} restarts, {backtracks} backtracks)"
                ),
            )
        if float(d @ (x_new - x)) < 0:  # (y − x⁺)ᵀ(x⁺ − x) > 0: momentum points uphill
            theta, y = 1.0, x_new.copy()
            restarts += 1
        else:
            theta_new = 0.5 * (1 + math.sqrt(1 + 4 * theta * theta))
            y = x_new + ((theta - 1) / theta_new) * (x_new - x)
            theta = theta_new
        x = x_new
    return (
        x,
        max_iter,
        t,
        False,
        (f"max_iter={max_iter} reached ({restarts} restarts, {backtracks} backtracks)"),
    )


def constrained_optimum(
    objective: Objective | str,
    K: KFunction | str,
    lam: float,
    x0: ArrayLike | None = None,
    tol: float = 1e-12,
    max_iter: int = 100_000,
    method: str = "auto",
) -> ReferenceSolution:
    """argmin_x F(x) = f(x) + (1/λ) K*(λx), the problem Lion-K with weight decay λ solves.

    ``objective``: an `Objective` or a spec for `make_objective` (a `StochasticGradient` is
    unwrapped: the reference uses the exact gradient); ``K``: a `KFunction` or a
    registered name; ``lam`` ≥ 0 (0: unconstrained min f). ``method``: ``"auto"`` (closed form for
    isotropic quadratics, else proximal gradient), ``"closed_form"`` or ``"prox_grad"``. See the
    module docstring for the algorithms, ``converged`` and ``kkt``. Non-convergence is reported in
    the result (``converged=False`` and ``message``), never raised or hidden.
    """
    objective = make_objective(objective)
    if isinstance(objective, StochasticGradient):
        objective = objective.obj  # the reference uses the exact gradient
    K = make_K(K) if isinstance(K, str) else K
    if not isinstance(K, KFunction):
        raise LionKError(f"K must be a KFunction or a registered name, got {type(K).__name__}")
    if K.event_ndim != 1:
        raise LionKError(f"K={K.name} acts on matrices; the reference solver handles vector K only")
    lam = float(lam)
    if not (np.isfinite(lam) and lam >= 0):
        raise LionKError(f"lam={lam}: the weight decay must be a finite number ≥ 0")
    if not (tol > 0 and int(max_iter) >= 1):
        raise LionKError(f"need tol > 0 and max_iter ≥ 1, got tol={tol}, max_iter={max_iter}")
    if method not in ("auto", "closed_form", "prox_grad"):
        raise LionKError(f"method={method!r}: choose auto, closed_form or prox_grad")
    x0 = np.array(objective.default_x0 if x0 is None else x0, dtype=float)
    if objective.dim is not None and x0.shape != (objective.dim,):
        raise LionKError(f"x0 must have shape ({objective.dim},), got {x0.shape}")
    iso = objective.isotropic_quadratic()
    if method == "closed_form" and iso is None:
        raise LionKError(
            f"objective {objective.name!r} is not an isotropic quadratic "
            "a‖x − c‖²: no closed form; use method='prox_grad'"
        )
    rtol = max(tol, _RESIDUAL_FLOOR)
    extra: dict[str, Any] = {}

    if iso is not None and method != "prox_grad":
        a, c = iso
        t = 1.0 / (2.0 * a)
        x = prox_induced(K, lam, c, t)  # x* = prox_{h/(2a)}(c)
        # check at another step (t/2) so the residual is not the identity defining x
        t_check, iterations, how = t / 2, 1, "closed form prox"
        message = f"x* = prox_(h/(2a))(c) with a = {a:g}"
    elif lam == 0:
        res = optimize.minimize(
            lambda z: float(objective.f(z)),
            x0,
            jac=lambda z: np.asarray(objective.grad(z), dtype=float),
            method="BFGS",
            options={"gtol": 1e-10, "maxiter": int(max_iter)},
        )
        extra["bfgs"] = {"message": res.message, "nit": int(res.nit), "success": bool(res.success)}
        x, it2, t_check, stopped, msg = _accelerated_prox_grad(
            objective, K, 0.0, np.asarray(res.x, dtype=float), tol, max(1, int(max_iter) - res.nit)
        )
        iterations, how = int(res.nit) + it2, "unconstrained (BFGS + gradient polish)"
        message = f"BFGS: {res.message}; polish: {msg}"
    else:
        x, iterations, t_check, stopped, message = _accelerated_prox_grad(
            objective, K, lam, x0, tol, int(max_iter)
        )
        how = "proximal gradient"

    with np.errstate(all="ignore"):
        fx, Fx = _value_F(objective, K, lam, x)
        residual = _residual(objective, K, lam, x, t_check)
        kkt = float(stationarity_score(objective, K, lam, x))
    finite = bool(np.all(np.isfinite(x)) and np.isfinite(Fx) and np.isfinite(residual))
    converged = finite and residual <= rtol
    if not converged:
        message += (
            f"; NOT converged: residual {residual:.3g} > {rtol:.3g}"
            if finite
            else "; NOT converged: non-finite x, F or residual"
        )
    return ReferenceSolution(
        x=x,
        f=fx,
        F=Fx,
        iterations=int(iterations),
        converged=converged,
        method=how,
        kkt=kkt,
        residual=residual,
        message=message,
        lam=lam,
        K=K,
        extra=extra,
    )
