"""`solve_lion_ode`: integrate the continuous-time Lion-K ODE (spec §3) and check the result.

    ṁ = −α∇f(x) − γm,   m̃ = m − ε(α∇f(x) + γm),   ẋ = ∇K(m̃) − λx,   α, γ, λ > 0, ε ≥ 0

Methods:

* ``"filippov"`` (default for l1, deadzone, l1_plus_sq when ε > 0): event-driven integration with
  switching surfaces m̃_i = kink and a sliding mode (equivalent control), see `filippov`.
  Converges to the Filippov solution at the order of the inner Runge–Kutta method (DOP853).
* ``"implicit"`` (default for every other K whose ∇K jumps — linf, l2, lp, user K with a prox —
  and for l1, deadzone, l1_plus_sq when ε = 0): backward-Euler substeps that resolve
  s ∈ ∂K(m̃_{n+1}) with K.prox, extrapolated to order ``order`` (default 4) with step-size
  control, see `implicit`.
* a scipy method name (``"Radau"``, ``"BDF"``, ``"LSODA"``, ``"RK45"``, ``"DOP853"``, ``"RK23"``):
  plain integration. ``"auto"`` for a differentiable K picks Radau with the analytic Jacobian,
  when the problem is stiff (ρ(J(z0))·t_final > `STIFF_THRESHOLD`; else DOP853),

      ∂(ẋ, ṁ)/∂(x, m) = [[−εα D∇²f − λI, (1 − εγ) D], [−α∇²f, −γI]],   D = ∇²K(m̃)

  when ∇²K and an exact ∇²f are known, else DOP853. A plain method on a K with a discontinuous
  ∇K triggers a `TheoryWarning` (it chatters across m̃_i = 0; implicit methods also build a
  finite-difference Jacobian across the jump) and the guards judge its output.

After every solve the guards of `diagnostics` run; any violation sets ``success = False`` and the
message names it.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ...errors import LionKError, NumericalFailure, TheoryWarning
from ..kfunc import KFunction, make_K
from .diagnostics import OdeDiagnostics, diagnose, run_guards
from .filippov import integrate_filippov, selection_along
from .implicit import integrate_implicit
from .matrix import FlatMatrixK, flatten_objective
from .model import hess_K, piecewise_model, resolve_hessian
from .plain import PLAIN_METHODS, integrate_plain

__all__ = ["OdeReport", "OdeLionResult", "solve_lion_ode", "METHODS"]

METHODS = ("auto", "filippov", "implicit") + PLAIN_METHODS


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
    final_mode: list | None
    on_boundary_end: np.ndarray | None
    n_switches_observed: int
    wall_time: float
    jacobian: str
    events: list = field(default_factory=list)
    order: int | None = None
    n_rejected: int = 0
    n_low_order: int = 0
    n_set_valued_steps: int = 0
    sliding_sets: dict | None = None
    n_projections: int = 0
    max_projection: float = 0.0
    n_switch_steps: int = 0
    n_switch_rejected: int = 0

    def to_dict(self) -> dict:
        out = {}
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
    guards: dict
    params: dict
    event_shape: tuple | None = None

    @property
    def success(self) -> bool:
        return self.status == 0

    def state(self, t):
        if self.sol is None:
            raise LionKError("no dense output available for this run")
        z = np.asarray(self.sol(t))
        d = z.shape[0] // 2
        x, m = z[:d].T, z[d:].T
        if self.event_shape is not None:
            x = x.reshape(x.shape[:-1] + self.event_shape)
            m = m.reshape(m.shape[:-1] + self.event_shape)
        return x, m


class _Problem:
    def __init__(self, objective_or_grad, f=None, hess=None):
        if hasattr(objective_or_grad, "grad") and callable(objective_or_grad.grad):
            obj = objective_or_grad
            self.grad, self.f = obj.grad, (f if f is not None else obj.f)
            self.hess = resolve_hessian(obj, hess)
        elif callable(objective_or_grad):
            self.grad, self.f = objective_or_grad, f
            self.hess = resolve_hessian(None, hess, allow_fd=False)
            if self.hess is None:
                from .model import fd_hessian
                self.hess = fd_hessian(objective_or_grad)
        else:
            raise LionKError("objective_or_grad must be an Objective or a callable ∇f")
        self.hess_exact = not getattr(self.hess, "finite_difference", False)


def _check_params(lam, alpha, gamma, eps, t_final):
    for name, v, ok in (("lam", lam, lam > 0), ("alpha", alpha, alpha > 0),
                        ("gamma", gamma, gamma > 0), ("eps", eps, eps >= 0),
                        ("t_final", t_final, t_final > 0)):
        if not np.isfinite(v) or not ok:
            raise LionKError(f"{name}={v!r}: need lam, alpha, gamma, t_final > 0 and eps ≥ 0")
    if eps * gamma > 1:
        warnings.warn(f"εγ = {eps * gamma:g} > 1: the second term of Δ can be negative and H need "
                      "not decrease (spec §4 needs εγ ≤ 1)", TheoryWarning, stacklevel=3)


def _smooth_jac(K, prob, lam, alpha, gamma, eps, d):
    hK = hess_K(K)
    if hK is None or prob.hess is None or not prob.hess_exact:
        return None

    def jac(t, z):
        x, m = z[:d], z[d:]
        g = np.asarray(prob.grad(x), dtype=float)
        Hf = prob.hess(x)
        mt = (1 - eps * gamma) * m - eps * alpha * g
        D = hK(mt)
        J = np.empty((2 * d, 2 * d))
        J[:d, :d] = -eps * alpha * D @ Hf - lam * np.eye(d)
        J[:d, d:] = (1 - eps * gamma) * D
        J[d:, :d] = -alpha * Hf
        J[d:, d:] = -gamma * np.eye(d)
        return J
    return jac


STIFF_THRESHOLD = 500.0
"""`auto` on a smooth K uses Radau when ρ(J(z0))·t_final exceeds this (else DOP853): an explicit
method needs ≳ ρ·T/3.3 steps for stability alone, Radau pays ~5× per step for its linear algebra."""


def _stiff(jac, z0, t_final) -> bool:
    rho = float(np.max(np.abs(np.linalg.eigvals(jac(0.0, z0)))))
    return rho * t_final > STIFF_THRESHOLD


def _choose_method(K, method, pw, jac, eps, z0=None, t_final=None):
    if method not in METHODS:
        raise LionKError(f"method={method!r}: choose one of {', '.join(METHODS)}")
    if method == "auto":
        if K.differentiable:
            return ("Radau" if jac is not None and _stiff(jac, z0, t_final) else "DOP853")
        if pw is not None and eps > 0:
            return "filippov"
        return "implicit"
    if method == "filippov" and pw is None:
        raise LionKError(f"method='filippov' covers K = l1, deadzone, l1_plus_sq, not {K.name}; "
                         "use method='implicit' (or 'auto')")
    if method in PLAIN_METHODS and not K.differentiable:
        extra = (" and builds a finite-difference Jacobian across the jump (wrong near the "
                 "switching surface)" if method in ("Radau", "BDF", "LSODA") else "")
        warnings.warn(f"method={method} on K={K.name}: ∇K is discontinuous on m̃_i = kink, the "
                      f"integrator chatters there{extra}; use method='auto' (filippov or "
                      "implicit) for the Filippov solution", TheoryWarning, stacklevel=3)
    return method


def _n_switches(K, pw, t, Z, prob, alpha, gamma, eps, d):
    X, M = Z[:d].T, Z[d:].T
    G = np.asarray(prob.grad(X), dtype=float)
    MT = M - eps * (alpha * G + gamma * M)
    if pw is not None:
        lab = pw.region(MT)
    else:
        lab = np.sign(np.asarray(K.grad(MT)))
    return int(np.sum(lab[1:] != lab[:-1])), MT


def solve_lion_ode(K, objective_or_grad, x0, m0=None, *, lam, alpha, gamma, eps, t_final,
                   method: str = "auto", rtol: float = 1e-8, atol=1e-10, t_eval=None,
                   f: Callable | None = None, hess=None, inner_method: str = "DOP853",
                   max_events: int = 10_000, max_nfev: int | None = None,
                   max_time: float | None = None, first_step=None, order: int = 4
                   ) -> OdeLionResult:
    """Integrate the Lion-K ODE from (x0, m0) (m0 = 0 by default) on [0, t_final].

    ``K``: a `KFunction` or a name. ``objective_or_grad``: an `Objective` (f, ∇f; ∇²f from
    ``hess``, the objective, or central differences) or a callable ∇f (then pass ``f`` for H).
    ``rtol``/``atol``: the integrator's tolerances (Filippov mode: of the inner RK method on each
    smooth segment; event times are found to machine precision; implicit mode: of the
    extrapolation error estimate). ``t_eval``: output times (else the solver's knots; the
    implicit mode steps onto them exactly). ``order``: extrapolation depth of the implicit mode
    (2, 3 or 4). Caps: ``max_events`` (Filippov), ``max_nfev`` (∇f evaluations in the implicit
    mode) and ``max_time`` (all).
    Matrix K (``event_ndim = 2``, e.g. ``nuclear``): ``x0``/``m0`` of shape (a, b); ∇f (callable
    or the objective's ``grad``), ``f`` and ``hess`` act on matrices (``hess``: (ab)×(ab) in the
    row-major vec basis, or from the objective); the ODE is integrated on vec(X) through
    `matrix.FlatMatrixK` (an isometry, so H, Δ, dist and the guards are those of the matrix
    problem) and ``x``, ``m`` come back with shape (n, a, b). ``auto`` → implicit (∂‖·‖_tr is
    resolved per substep by the projection onto the operator-norm ball, i.e. singular-value
    clipping; `matrix.FrobeniusQuadratic` is the reference f = ½‖X − C‖²_F).
    Returns `OdeLionResult` with ``report``, ``diagnostics``, ``guards``.
    """
    K = make_K(K) if isinstance(K, str) else K
    if not isinstance(K, KFunction) or K.event_ndim not in (1, 2):
        raise LionKError("solve_lion_ode needs a KFunction with event_ndim 1 (vector) or 2 (matrix)")
    lam, alpha, gamma, eps, t_final = (float(v) for v in (lam, alpha, gamma, eps, t_final))
    _check_params(lam, alpha, gamma, eps, t_final)
    x0 = np.asarray(x0, dtype=float)
    m0 = np.zeros_like(x0) if m0 is None else np.asarray(m0, dtype=float)
    if m0.shape != x0.shape:
        raise LionKError(f"m0 has shape {m0.shape}, x0 has {x0.shape}")
    event_shape = None
    if K.event_ndim == 2:  # integrate on vec(X) (row-major), see `matrix`
        if x0.ndim != 2:
            raise LionKError(f"K={K.name} acts on matrices: x0 must have shape (a, b), got "
                             f"{x0.shape}")
        event_shape = x0.shape
        K = FlatMatrixK(K, event_shape)
        objective_or_grad = flatten_objective(objective_or_grad, event_shape, f, hess)
        f, hess = None, None
    elif x0.ndim > 1:
        raise LionKError(f"K={K.name} acts on vectors: x0 must be 1-D, got shape {x0.shape}")
    x0, m0 = x0.reshape(-1), m0.reshape(-1)
    d = x0.size
    prob = _Problem(objective_or_grad, f, hess)
    pw = piecewise_model(K)
    jac = _smooth_jac(K, prob, lam, alpha, gamma, eps, d) if K.differentiable else None
    chosen = _choose_method(K, method, pw, jac, eps, np.concatenate([x0, m0]), t_final)
    z0 = np.concatenate([x0, m0])
    start = time.perf_counter()
    if chosen == "filippov":
        run = integrate_filippov(pw, prob.grad, prob.hess, z0, t_final, lam=lam, alpha=alpha,
                                 gamma=gamma, eps=eps, rtol=rtol, atol=atol,
                                 inner_method=inner_method, max_events=max_events,
                                 max_nfev=max_nfev, max_time=max_time, first_step=first_step)
        knots_t, knots_z, sol = run.t, run.z, run.sol
        nfev, njev, status, message = run.nfev, 0, run.status, run.message
        n_grad, min_step = run.n_grad, run.min_step
        jac_kind = "none (explicit RK on smooth segments; ∇²f " + (
            "exact" if prob.hess_exact else "by central differences") + " in the equivalent control)"
    elif chosen == "implicit":
        const = bool(getattr(prob.hess, "constant", False))
        run = integrate_implicit(K, prob.grad, prob.hess, z0, t_final, lam=lam, alpha=alpha,
                                 gamma=gamma, eps=eps, rtol=rtol, atol=atol, order=order,
                                 hess_constant=const, t_eval=t_eval, first_step=first_step,
                                 max_nfev=max_nfev, max_time=max_time)
        knots_t, knots_z, sol = run.t, run.z, run.sol
        nfev, njev, status, message = run.n_grad, run.n_hess, run.status, run.message
        n_grad, min_step = run.n_grad, run.min_step
        jac_kind = "none (implicit substeps linearise ∇f with ∇²f " + (
            "exact, constant" if const else "exact" if prob.hess_exact
            else "by central differences") + ")"
    else:
        def fun(t, z):
            x, m = z[:d], z[d:]
            g = np.asarray(prob.grad(x), dtype=float)
            mdot = -alpha * g - gamma * m
            return np.concatenate([np.asarray(K.grad(m + eps * mdot)) - lam * x, mdot])
        use_jac = jac if chosen in ("Radau", "BDF", "LSODA") else None
        run = integrate_plain(chosen, fun, z0, t_final, rtol=rtol, atol=atol, jac=use_jac,
                              max_nfev=max_nfev, max_time=max_time, first_step=first_step)
        knots_t, knots_z, sol = run.t, run.z, run.sol
        nfev, njev, status, message = run.nfev, run.njev, run.status, run.message
        n_grad, min_step = run.nfev + run.njev * (0 if use_jac is not None else 2 * d), run.min_step
        jac_kind = ("analytic" if use_jac is not None else
                    "finite differences" if chosen in ("Radau", "BDF", "LSODA") else "none")
    wall = time.perf_counter() - start

    knot_idx = None
    if chosen == "implicit" and t_eval is not None:
        t_req = np.asarray(t_eval, dtype=float)
        t_req = t_req[t_req <= knots_t[-1]]
        knot_idx = np.clip(np.searchsorted(knots_t, t_req), 0, knots_t.size - 1)
        knot_idx = np.where(np.abs(knots_t[knot_idx] - t_req) <= 1e-12 * max(1.0, t_final),
                            knot_idx, -1)
        if np.any(knot_idx < 0):  # a requested time that is not a knot (should not happen)
            raise NumericalFailure("implicit mode: an output time is not a knot")
        t_out, Z = knots_t[knot_idx], knots_z[:, knot_idx]
    elif t_eval is not None and sol is not None:
        t_out = np.asarray(t_eval, dtype=float)
        t_out = t_out[t_out <= knots_t[-1]]
        Z = np.asarray(sol(t_out)).reshape(2 * d, -1)
    else:
        t_out, Z = knots_t, knots_z
    X, M = Z[:d].T.copy(), Z[d:].T.copy()

    if chosen == "filippov":
        U = selection_along(run, t_out, Z).T
    elif chosen == "implicit":
        U = (run.S if knot_idx is None else run.S[:, knot_idx]).T
    else:
        G = np.asarray(prob.grad(X), dtype=float)
        U = np.asarray(K.grad(M - eps * (alpha * G + gamma * M)))
    diag = diagnose(K, t_out, X, M, U, prob.grad, prob.f, lam=lam, alpha=alpha, gamma=gamma,
                    eps=eps, rtol=rtol, atol=atol)
    guards = run_guards(diag, X, M, lam)

    if chosen == "filippov":
        n_sw = len(run.events)
        slide = np.zeros(d)
        for (a, b, mode) in run.segments:
            slide += (b - a) * mode.sliding
        final_mode = [run.final_mode.label(i) for i in range(d)]
        n_entries = sum(1 for e in run.events if e[3].startswith("sliding"))
        events = run.events
    elif chosen == "implicit":
        n_sw, slide, events = len(run.events), run.sliding_time, run.events
        pat = run.final_pattern if run.final_pattern is not None else np.zeros(d, bool)
        final_mode = ["set-valued" if p_ else "single-valued" for p_ in pat]
        n_entries = sum(1 for e in run.events if e[3] != "single-valued")
    else:
        slide, final_mode, n_entries, events = None, None, 0, []
        n_sw, _ = _n_switches(K, pw, knots_t, knots_z, prob, alpha, gamma, eps, d)
    on_bd = None
    if K.separable and hasattr(K, "dom_bounds"):
        lo, hi = K.dom_bounds()
        lx = lam * X[-1]
        on_bd = (np.abs(lx - hi) <= diag.tol_dom) | (np.abs(lx - lo) <= diag.tol_dom)
    extra = {}
    if chosen == "implicit":
        extra = dict(order=run.order, n_rejected=run.n_rejected, n_low_order=run.n_low_order,
                     n_set_valued_steps=run.n_set_valued_steps, sliding_sets=run.sliding_sets,
                     n_projections=run.n_projections, max_projection=run.max_projection,
                     n_switch_steps=run.n_switch_steps, n_switch_rejected=run.n_switch_rejected)
    report = OdeReport(method=chosen, inner_method=inner_method if chosen == "filippov" else None,
                       nfev=int(nfev), njev=int(njev), n_grad=int(n_grad),
                       n_steps=int(knots_t.size - 1), min_step=float(min_step),
                       n_events=len(events), n_sliding_entries=n_entries, sliding_time=slide,
                       final_mode=final_mode, on_boundary_end=on_bd, n_switches_observed=n_sw,
                       wall_time=wall, jacobian=jac_kind, events=events, **extra)

    if chosen in PLAIN_METHODS and not K.differentiable:
        message += (f"; naive integration of a jumping ∇K: {n_sw} branch switches between knots, "
                    f"min step {min_step:.3g} (not a Filippov solution)")
    failed = [f"{k}: {v['detail']}" for k, v in guards.items() if not v["ok"]]
    if status == 0 and failed:
        status = 1
    if failed:
        message = f"{message}; guard violation(s): " + "; ".join(failed)
    if status != 0 and not failed and status > 0:
        status = 0
    if event_shape is not None:
        X, M = X.reshape((-1,) + event_shape), M.reshape((-1,) + event_shape)
    return OdeLionResult(t=t_out, x=X, m=M, sol=sol, nfev=int(nfev), njev=int(njev),
                         status=int(status), message=message, report=report, diagnostics=diag,
                         guards=guards, event_shape=event_shape,
                         params={"lam": lam, "alpha": alpha, "gamma": gamma, "eps": eps,
                                 "t_final": t_final, "rtol": rtol, "atol": atol, "K": K.name})
