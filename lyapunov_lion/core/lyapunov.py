"""Lyapunov and phase diagnostics of Lion-K (spec §4 continuous time, §5 discrete time).

Everything here is numpy, batched over leading axes: a point ``x`` has shape
``(*batch, *event)`` (event = the last ``K.event_ndim`` axes), reduced quantities (``f(x)``, H,
Δ, ...) have shape ``batch``. Hyper-parameters (``lam``, ``alpha``, ``lr``, ``beta1`` ...) are
scalars or arrays broadcastable against ``batch`` (one value per run); they are expanded over the
event axes internally. The objective is passed as values (``fx = f(x)``, ``gx = ∇f(x)``), so the
module does not depend on how f is built.

Continuous time (ODE of spec §3, ``m̃ = m − ε(α∇f + γm)``, ``ẋ = ∇K(m̃) − λx``)::

    F(x)    = α f(x) + (γ/λ) K*(λx)
    H(x, m) = α f(x) + (γ/λ) K*(λx) + c·(K*(λx) + K(m) − λ mᵀx),   c = (1 − εγ)/(1 + ελ)
    dH/dt   = −Δ,
    Δ = ((γ+λ)/(1+ελ))·(∇K(m̃) − λx)ᵀ(m̃ − ∇K*(λx)) + ((1−εγ)/(ε(1+ελ)))·(∇K(m̃) − ∇K(m))ᵀ(m̃ − m)

The identity was re-derived by hand for this module (coefficients of m, m̃ and ∇K*(λx) in
dH/dt + Δ cancel; see the report in the tests) and is checked numerically in
``tests/test_lyapunov.py``. The second term is evaluated as ``c·(∇K(m) − ∇K(m̃))ᵀ(α∇f + γm)``,
which is the same number for ε > 0 and its limit 0 at ε = 0 (no 0/0).

Discrete time (spec §5, implicit decay ``x_{t+1} = (x_t + η∇K(m̃_{t+1}))/(1 + ηλ)``)::

    H_d(x, m) = f(x) + (1/λ) K*(λx) + a·(K*(λx) + K(m) − λ mᵀx),  a = ηβ1/((1−β2) + ηλ(1−β1))
    H_d(t+1) − H_d(t) ≤ −η Δ_t + (L η²/2)‖w_t‖²,                  w_t = ∇K(m̃_{t+1}) − λx_{t+1}

a theorem when f is L-smooth, 0 ≤ β1 ≤ β2 < 1 and λx_t ∈ dom K* (proof: descent lemma for f,
convexity of K* at λx_{t+1}, and ``m_{t+1} = (1−θ)m_t + θ m̃_{t+1}`` with θ = (1−β2)/(1−β1) ≤ 1
so that K(m_{t+1}) ≤ (1−θ)K(m_t) + θK(m̃_{t+1})). For the explicit scheme the same proof goes
through with ``a' = ηβ1/((1−β2) + ηλ(β2−β1))``, ``w̄_t = ∇K(m̃_{t+1}) − λx_t = (x_{t+1}−x_t)/η``
and ``Δ'_t = ((1−β2+ηλβ2)/(1−β2+ηλ(β2−β1)))·w̄_tᵀ(m̃_{t+1} − ∇K*(λx_{t+1}))
+ (a'θ/η)·B_K(m_t, m̃_{t+1})`` [derived here]; select it with ``decay="explicit"``.

Phase 1: ``dist(λx_t, dom K*)`` is bounded by ``e^{−λt}``·dist_0 (ODE), ``(1−ηλ)^t``·dist_0
(explicit, ηλ ≤ 1) and ``(1+ηλ)^{−t}``·dist_0 (implicit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ..errors import LionKError
from .kfunc import DOMAIN_TOL, KFunction
from .serialize import to_jsonable
from .xp import FloatArray

if TYPE_CHECKING:
    from .discrete import DiscreteResult

__all__ = [
    "fenchel_young_gap",
    "lyapunov_F",
    "lyapunov_H",
    "lyapunov_c",
    "lyapunov_Delta",
    "lyapunov_Delta_terms",
    "ode_rhs",
    "discrete_a",
    "discrete_H",
    "discrete_Delta",
    "discrete_Delta_terms",
    "discrete_w",
    "kkt_score",
    "phase1_exit",
    "phase1_bound",
    "phase1_bound_continuous",
    "MonotonicityReport",
    "monotonicity",
    "InequalityCheck",
    "DiscreteDiagnostics",
    "diagnose_discrete",
    "SPEC_INEQUALITY",
    "EXPLICIT_INEQUALITY",
]

SPEC_INEQUALITY = (
    "spec §5: H_d(t+1) − H_d(t) ≤ −ηΔ_t + (Lη²/2)‖w_t‖², a = ηβ1/((1−β2)+ηλ(1−β1)), "
    "w_t = ∇K(m̃_{t+1}) − λx_{t+1}; a theorem for the implicit-decay scheme with "
    "β1 ≤ β2, f L-smooth, λx_t ∈ dom K*"
)
EXPLICIT_INEQUALITY = (
    "explicit-decay variant [derived here]: H'_d(t+1) − H'_d(t) ≤ −ηΔ'_t + "
    "(Lη²/2)‖w̄_t‖², a' = ηβ1/((1−β2)+ηλ(β2−β1)), w̄_t = ∇K(m̃_{t+1}) − λx_t; a "
    "theorem for the explicit scheme with β1 ≤ β2, ηλ < 1, f L-smooth, "
    "λx_t ∈ dom K*"
)


# ------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------
def _float_dtype(*arrays: ArrayLike) -> np.dtype[Any]:
    dt = np.result_type(*[np.asarray(a).dtype for a in arrays])
    return dt if np.issubdtype(dt, np.floating) else np.dtype(float)


def _ev(K: KFunction, p: ArrayLike, dtype: DTypeLike | None = None) -> NDArray[Any]:
    """A hyper-parameter shaped ``batch`` → shaped ``(*batch, 1, ...)`` for event-wise use."""
    arr = np.asarray(p) if dtype is None else np.asarray(p, dtype=dtype)
    return arr.reshape(arr.shape + (1,) * K.event_ndim) if arr.ndim else arr


def _red(p: ArrayLike, dtype: DTypeLike | None = None) -> NDArray[Any]:
    """A hyper-parameter for use with reduced (batch-shaped) quantities."""
    return np.asarray(p) if dtype is None else np.asarray(p, dtype=dtype)


def _inner(K: KFunction, a: ArrayLike, b: ArrayLike) -> FloatArray:
    """Inner product over the event axes of K (last axis, or last two for matrix K)."""
    # a numpy scalar (not an array) when there is no batch axis
    s: FloatArray = np.sum(np.asarray(a) * np.asarray(b), axis=tuple(range(-K.event_ndim, 0)))
    return s


def _check_lam(lam: ArrayLike) -> None:
    if np.any(np.asarray(lam) <= 0):
        raise LionKError(
            f"lam={lam!r}: the Lyapunov functions of Lion-K need weight decay lam > 0 "
            "(they contain (1/lam)K*(lam x))"
        )


def fenchel_young_gap(K: KFunction, x: ArrayLike, m: ArrayLike, lam: ArrayLike) -> FloatArray:
    """FY(x, m) = K*(λx) + K(m) − λ mᵀx  (≥ 0 by Fenchel–Young; +inf if λx ∉ dom K*)."""
    x = np.asarray(x)
    dt = _float_dtype(x, m)
    lx = _ev(K, lam, dt) * x
    gap: FloatArray = K.conj(lx) + np.asarray(K.K(np.asarray(m))) - _inner(K, m, lx)
    return gap


# ------------------------------------------------------------------------------------------
# continuous time (spec §4)
# ------------------------------------------------------------------------------------------
def lyapunov_c(lam: ArrayLike, gamma: ArrayLike, eps: ArrayLike) -> FloatArray:
    """c = (1 − εγ)/(1 + ελ), the weight of the Fenchel–Young gap in H."""
    c: FloatArray = (1 - np.asarray(eps) * np.asarray(gamma)) / (
        1 + np.asarray(eps) * np.asarray(lam)
    )
    return c


def lyapunov_F(
    K: KFunction,
    fx: ArrayLike,
    x: ArrayLike,
    lam: ArrayLike,
    alpha: ArrayLike,
    gamma: ArrayLike,
) -> FloatArray:
    """F(x) = α f(x) + (γ/λ) K*(λx)  (+inf when λx ∉ dom K*)."""
    _check_lam(lam)
    dt = _float_dtype(x)
    F: FloatArray = _red(alpha, dt) * np.asarray(fx) + _red(gamma, dt) / _red(lam, dt) * K.conj(
        _ev(K, lam, dt) * np.asarray(x)
    )
    return F


def lyapunov_H(
    K: KFunction,
    fx: ArrayLike,
    x: ArrayLike,
    m: ArrayLike,
    lam: ArrayLike,
    alpha: ArrayLike,
    gamma: ArrayLike,
    eps: ArrayLike,
) -> FloatArray:
    """H = α f(x) + (γ/λ)K*(λx) + c·(K*(λx) + K(m) − λmᵀx), c = (1 − εγ)/(1 + ελ).

    Evaluated as ``α f + (γ/λ + c) K*(λx) + c (K(m) − λmᵀx)`` (γ/λ + c = (γ+λ)/(λ(1+ελ)) > 0), so
    that H = +inf, not NaN, outside dom K* even when c = 0.
    """
    _check_lam(lam)
    x, m = np.asarray(x), np.asarray(m)
    dt = _float_dtype(x, m)
    lamr, c = _red(lam, dt), lyapunov_c(lam, gamma, eps)
    lx = _ev(K, lam, dt) * x
    H: FloatArray = (
        _red(alpha, dt) * np.asarray(fx)
        + (_red(gamma, dt) / lamr + c) * K.conj(lx)
        + c * (np.asarray(K.K(m)) - _inner(K, m, lx))
    )
    return H


def ode_rhs(
    K: KFunction,
    x: ArrayLike,
    m: ArrayLike,
    gx: ArrayLike,
    lam: ArrayLike,
    alpha: ArrayLike,
    gamma: ArrayLike,
    eps: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """The Lion-K ODE: ṁ = −α∇f − γm, m̃ = m + εṁ, ẋ = ∇K(m̃) − λx; returns ``(ẋ, ṁ)``."""
    x, m, gx = np.asarray(x), np.asarray(m), np.asarray(gx)
    dt = _float_dtype(x, m, gx)
    mdot = -_ev(K, alpha, dt) * gx - _ev(K, gamma, dt) * m
    m_tilde = m + _ev(K, eps, dt) * mdot
    xdot = np.asarray(K.grad(m_tilde)) - _ev(K, lam, dt) * x
    return xdot, mdot


def lyapunov_Delta_terms(
    K: KFunction,
    x: ArrayLike,
    m: ArrayLike,
    gx: ArrayLike,
    lam: ArrayLike,
    alpha: ArrayLike,
    gamma: ArrayLike,
    eps: ArrayLike,
) -> tuple[FloatArray, FloatArray]:
    """The two terms of Δ (spec §4), each ≥ 0 when εγ ≤ 1 (Lemma 2.1):

    term1 = ((γ+λ)/(1+ελ)) (∇K(m̃) − λx)ᵀ(m̃ − ∇K*(λx)),
    term2 = ((1−εγ)/(ε(1+ελ))) (∇K(m̃) − ∇K(m))ᵀ(m̃ − m) = c (∇K(m) − ∇K(m̃))ᵀ(α∇f + γm),

    with m̃ = m − ε(α∇f + γm); the second form is used (exact for ε > 0, the limit 0 at ε = 0).
    term1 is NaN where λx ∉ dom K* (Δ is not defined there).
    """
    _check_lam(lam)
    x, m, gx = np.asarray(x), np.asarray(m), np.asarray(gx)
    dt = _float_dtype(x, m, gx)
    lam_e, eps_e = _ev(K, lam, dt), _ev(K, eps, dt)
    d = _ev(K, alpha, dt) * gx + _ev(K, gamma, dt) * m
    m_tilde = m - eps_e * d
    u = np.asarray(K.grad(m_tilde))
    lx = lam_e * x
    with np.errstate(invalid="ignore"):
        v = np.asarray(K.conj_grad(lx))
        lamr, epsr, gamr = _red(lam, dt), _red(eps, dt), _red(gamma, dt)
        t1 = (gamr + lamr) / (1 + epsr * lamr) * _inner(K, u - lx, m_tilde - v)
    t1 = np.where(K.in_dom_conj(lx), t1, np.nan)
    t2 = lyapunov_c(lam, gamma, eps) * _inner(K, np.asarray(K.grad(m)) - u, d)
    return t1, t2


def lyapunov_Delta(
    K: KFunction,
    x: ArrayLike,
    m: ArrayLike,
    gx: ArrayLike,
    lam: ArrayLike,
    alpha: ArrayLike,
    gamma: ArrayLike,
    eps: ArrayLike,
) -> FloatArray:
    """Δ(x, m) = term1 + term2 of `lyapunov_Delta_terms`; dH/dt = −Δ along the ODE (K
    differentiable).

    At ε = 0: Δ = (γ+λ)(∇K(m) − λx)ᵀ(m − ∇K*(λx)).
    """
    t1, t2 = lyapunov_Delta_terms(K, x, m, gx, lam, alpha, gamma, eps)
    return t1 + t2


# ------------------------------------------------------------------------------------------
# discrete time (spec §5)
# ------------------------------------------------------------------------------------------
def _check_decay(decay: str) -> None:
    if decay not in ("implicit", "explicit"):
        raise LionKError(f"decay={decay!r}: choose 'implicit' or 'explicit'")


def discrete_a(
    lr: ArrayLike, beta1: ArrayLike, beta2: ArrayLike, lam: ArrayLike, decay: str = "implicit"
) -> FloatArray:
    """a = ηβ1/((1−β2) + ηλ(1−β1)) (implicit, spec §5); a' = ηβ1/((1−β2) + ηλ(β2−β1)) (explicit)."""
    _check_decay(decay)
    lr, b1, b2, lam = (np.asarray(v) for v in (lr, beta1, beta2, lam))
    mix = (1 - b1) if decay == "implicit" else (b2 - b1)
    a: FloatArray = lr * b1 / ((1 - b2) + lr * lam * mix)
    return a


def discrete_H(
    K: KFunction,
    fx: ArrayLike,
    x: ArrayLike,
    m: ArrayLike,
    lr: ArrayLike,
    beta1: ArrayLike,
    beta2: ArrayLike,
    lam: ArrayLike,
    decay: str = "implicit",
) -> FloatArray:
    """H_d = f(x) + (1/λ)K*(λx) + a(K*(λx) + K(m) − λmᵀx), a = `discrete_a` (spec §5 for implicit).

    Evaluated as ``f + (1/λ + a)K*(λx) + a(K(m) − λmᵀx)`` so that it is +inf (not NaN) outside
    dom K* when a = 0 (β1 = 0).
    """
    _check_lam(lam)
    x, m = np.asarray(x), np.asarray(m)
    dt = _float_dtype(x, m)
    a = discrete_a(lr, beta1, beta2, lam, decay)
    lx = _ev(K, lam, dt) * x
    H: FloatArray = (
        np.asarray(fx)
        + (1 / _red(lam, dt) + a) * K.conj(lx)
        + a * (np.asarray(K.K(m)) - _inner(K, m, lx))
    )
    return H


def discrete_w(
    K: KFunction, x_next: ArrayLike, m_tilde_next: ArrayLike, lam: ArrayLike
) -> FloatArray:
    """w_t = ∇K(m̃_{t+1}) − λx_{t+1}  (implicit scheme: x_{t+1} − x_t = η w_t)."""
    x_next = np.asarray(x_next)
    w: FloatArray = (
        np.asarray(K.grad(np.asarray(m_tilde_next))) - _ev(K, lam, _float_dtype(x_next)) * x_next
    )
    return w


def discrete_Delta_terms(
    K: KFunction,
    x_next: ArrayLike,
    m: ArrayLike,
    m_tilde_next: ArrayLike,
    lr: ArrayLike,
    beta1: ArrayLike,
    beta2: ArrayLike,
    lam: ArrayLike,
    decay: str = "implicit",
    x: ArrayLike | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The two terms of Δ_t.

    Implicit (spec §5), with D = 1−β2+ηλ(1−β1), u = ∇K(m̃_{t+1}), v = ∇K*(λx_{t+1})::

        term1 = ((1−β2+ηλ)/D) (u − λx_{t+1})ᵀ(m̃_{t+1} − v)
        term2 = (β1(1−β2)/((1−β1)D)) · [K(m_t) − K(m̃_{t+1}) − uᵀ(m_t − m̃_{t+1})]

    Explicit [derived here], with D' = 1−β2+ηλ(β2−β1) and ``x`` = x_t (required)::

        term1 = ((1−β2+ηλβ2)/D') (u − λx_t)ᵀ(m̃_{t+1} − v)
        term2 = (β1(1−β2)/((1−β1)D')) · [same Bregman divergence]

    term1 ≥ 0 by Lemma 2.1 (explicit: when ηλ < 1), term2 ≥ 0 by convexity of K (β1 < 1).
    term1 is NaN where λx_{t+1} ∉ dom K*.
    """
    _check_lam(lam)
    _check_decay(decay)
    x_next, m, mt = np.asarray(x_next), np.asarray(m), np.asarray(m_tilde_next)
    dt = _float_dtype(x_next, m, mt)
    lr_, b1, b2, lamr = (_red(v, dt) for v in (lr, beta1, beta2, lam))
    lam_e = _ev(K, lam, dt)
    u = np.asarray(K.grad(mt))
    lxn = lam_e * x_next
    if decay == "implicit":
        den = 1 - b2 + lr_ * lamr * (1 - b1)
        c1 = (1 - b2 + lr_ * lamr) / den
        w = u - lxn
    else:
        if x is None:
            raise LionKError("discrete_Delta_terms(decay='explicit') needs x = x_t")
        den = 1 - b2 + lr_ * lamr * (b2 - b1)
        c1 = (1 - b2 + lr_ * lamr * b2) / den
        w = u - lam_e * np.asarray(x)
    with np.errstate(invalid="ignore"):
        v = np.asarray(K.conj_grad(lxn))
        t1 = c1 * _inner(K, w, mt - v)
    t1 = np.where(K.in_dom_conj(lxn), t1, np.nan)
    bregman = np.asarray(K.K(m)) - np.asarray(K.K(mt)) - _inner(K, u, m - mt)
    t2 = b1 * (1 - b2) / ((1 - b1) * den) * bregman
    return t1, t2


def discrete_Delta(
    K: KFunction,
    x_next: ArrayLike,
    m: ArrayLike,
    m_tilde_next: ArrayLike,
    lr: ArrayLike,
    beta1: ArrayLike,
    beta2: ArrayLike,
    lam: ArrayLike,
    decay: str = "implicit",
    x: ArrayLike | None = None,
) -> FloatArray:
    """Δ_t = term1 + term2 of `discrete_Delta_terms` (spec §5 for the implicit scheme)."""
    t1, t2 = discrete_Delta_terms(K, x_next, m, m_tilde_next, lr, beta1, beta2, lam, decay, x)
    return t1 + t2


# ------------------------------------------------------------------------------------------
# stationarity and phase 1
# ------------------------------------------------------------------------------------------
def kkt_score(K: KFunction, x: ArrayLike, gx: ArrayLike, lam: ArrayLike) -> FloatArray:
    """S(x) = K(−∇f) + K*(λx) + λxᵀ∇f  (Fenchel–Young gap of the pair (λx, −∇f)).

    S ≥ 0, and S = 0 exactly when −∇f(x) ∈ ∂K*(λx), i.e. at stationary points of
    f + (1/λ)K*(λx). For Lion (K = ‖·‖₁) inside the box it is ‖∇f‖₁ + λxᵀ∇f; +inf outside dom K*.
    """
    x, gx = np.asarray(x), np.asarray(gx)
    lx = _ev(K, lam, _float_dtype(x, gx)) * x
    return np.asarray(K.K(-gx)) + K.conj(lx) + _inner(K, lx, gx)


def phase1_exit(dist: ArrayLike, tol: float = DOMAIN_TOL) -> int | NDArray[np.intp] | None:
    """First index t (time on axis 0) with dist[t] ≤ tol.

    1-D ``dist``: an int, or None if it never happens. ``dist`` of shape ``(T, *batch)``: an int
    array of shape ``batch`` with −1 for runs that never enter.
    """
    dist = np.asarray(dist)
    inside = dist <= tol
    first = np.where(inside.any(axis=0), np.argmax(inside, axis=0), -1)
    if dist.ndim == 1:
        return None if first < 0 else int(first)
    return first


def phase1_bound(
    dist0: ArrayLike, lr: ArrayLike, lam: ArrayLike, steps: int, decay: str = "explicit"
) -> NDArray[Any]:
    """dist_0·(1 − ηλ)^t (explicit, valid for ηλ ≤ 1) or dist_0·(1 + ηλ)^{−t} (implicit),
    t = 0..steps.

    Returns shape ``(steps + 1, *broadcast(dist0, lr, lam))``.
    """
    _check_decay(decay)
    rate = np.asarray(lr) * np.asarray(lam)
    factor = (1 - rate) if decay == "explicit" else 1 / (1 + rate)
    t = np.arange(steps + 1).reshape((-1,) + (1,) * np.ndim(factor * np.asarray(dist0)))
    bound: NDArray[Any] = np.asarray(dist0) * factor**t
    return bound


def phase1_bound_continuous(dist0: ArrayLike, lam: ArrayLike, t: ArrayLike) -> FloatArray:
    """dist_0·e^{−λt}, the ODE's phase-1 bound (spec §4)."""
    bound: FloatArray = np.asarray(dist0) * np.exp(-np.asarray(lam) * np.asarray(t))
    return bound


# ------------------------------------------------------------------------------------------
# monotonicity
# ------------------------------------------------------------------------------------------
@dataclass
class MonotonicityReport:
    """Is H non-increasing from index ``start`` on (time on axis 0)?

    An increase at step t is H[t+1] − H[t] > rtol·max(|H[t]|, |H[t+1]|) + atol. Fields are
    scalars for one run, arrays of shape ``batch`` for a batch (``first_increase_step`` −1 /
    None: no increase). ``n_checked`` counts the pairs compared (both values finite);
    ``n_nonfinite`` the pairs skipped because a value is ±inf/NaN.
    """

    monotone: Any
    max_increase: Any
    n_increases: Any
    first_increase_step: Any
    rtol: float
    atol: float = 0.0
    n_checked: Any = 0
    n_nonfinite: Any = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            k: to_jsonable(getattr(self, k))
            for k in (
                "monotone",
                "max_increase",
                "n_increases",
                "first_increase_step",
                "rtol",
                "atol",
                "n_checked",
                "n_nonfinite",
            )
        }


def monotonicity(
    H: ArrayLike, start: ArrayLike | None = 0, rtol: float = 1e-12, atol: float = 0.0
) -> MonotonicityReport:
    """Check H[t+1] ≤ H[t] for t ≥ start (``start`` a scalar or an int array over the batch; −1 or
    None = skip the run). ``max_increase`` is max_t (H[t+1] − H[t]) over the checked steps (≤ 0 when
    monotone, NaN if nothing was checked)."""
    H = np.asarray(H, dtype=float)
    if H.shape[0] < 2:
        raise LionKError("monotonicity needs at least two values of H")
    start = np.asarray(-1 if start is None else start)
    t = np.arange(H.shape[0] - 1).reshape((-1,) + (1,) * (H.ndim - 1))
    a, b = H[:-1], H[1:]
    finite = np.isfinite(a) & np.isfinite(b)
    active = (t >= start) & (start >= 0)
    checked = active & finite
    with np.errstate(invalid="ignore"):
        inc = np.where(checked, b - a, -np.inf)
        tol = rtol * np.maximum(np.abs(a), np.abs(b)) + atol
        bad = checked & (inc > tol)
    n_checked = checked.sum(axis=0)
    max_inc = np.where(n_checked > 0, inc.max(axis=0), np.nan)
    first = np.where(bad.any(axis=0), np.argmax(bad, axis=0), -1)
    rep = MonotonicityReport(
        monotone=~bad.any(axis=0),
        max_increase=max_inc,
        n_increases=bad.sum(axis=0),
        first_increase_step=first,
        rtol=rtol,
        atol=atol,
        n_checked=n_checked,
        n_nonfinite=(active & ~finite).sum(axis=0),
    )
    if H.ndim == 1:
        rep.monotone, rep.max_increase = bool(rep.monotone), float(rep.max_increase)
        rep.n_increases, rep.n_checked = int(rep.n_increases), int(rep.n_checked)
        rep.n_nonfinite = int(rep.n_nonfinite)
        rep.first_increase_step = None if first < 0 else int(first)
    return rep


# ------------------------------------------------------------------------------------------
# diagnostics of a discrete run
# ------------------------------------------------------------------------------------------
@dataclass
class InequalityCheck:
    """Per-step check of ``H(t+1) − H(t) ≤ −ηΔ_t + (Lη²/2)‖w_t‖²`` along a run.

    ``slack[t]`` = H(t+1) − H(t) + ηΔ_t − (Lη²/2)‖w_t‖² (≤ 0 when the inequality holds), shape
    (T−1, *batch), NaN where not checked. A step is checked when H(t), H(t+1) are finite and
    dist(λx_t, dom K*), dist(λx_{t+1}, dom K*) ≤ ``dom_atol`` (rounding); steps with a finite H
    only thanks to the membership tolerance DOMAIN_TOL (λx strictly outside dom K*, where K* is
    extended by clipping and the theorem's hypothesis fails) are counted in
    ``n_skipped_boundary``. A step violates when slack > rtol·scale_t, scale_t the sum of
    magnitudes of the terms (rounding level). ``max_violation`` is the largest slack (negative:
    the smallest margin).
    ``theorem`` says whether the inequality is a proven statement for this run's settings.
    Per-run fields have shape ``batch``; ``max_violation_step`` is −1 when nothing was checked.
    """

    statement: str
    scheme: str
    theorem: bool
    why_not_theorem: str
    slack: np.ndarray
    n_checked: np.ndarray
    n_skipped_boundary: np.ndarray
    n_violations: np.ndarray
    max_violation: np.ndarray
    max_violation_step: np.ndarray
    rtol: float

    def to_dict(self, series: bool = False) -> dict[str, Any]:
        d = {
            k: to_jsonable(getattr(self, k))
            for k in (
                "statement",
                "scheme",
                "theorem",
                "why_not_theorem",
                "n_checked",
                "n_skipped_boundary",
                "n_violations",
                "max_violation",
                "max_violation_step",
                "rtol",
            )
        }
        if series:
            d["slack"] = to_jsonable(self.slack)
        return d


def _inequality(
    H: NDArray[Any],
    Delta: NDArray[Any],
    wsq: NDArray[Any],
    scale: NDArray[Any],
    valid: NDArray[np.bool_],
    lr: ArrayLike,
    L: float,
    rtol: float,
    statement: str,
    scheme: str,
    theorem: bool,
    why: str,
) -> InequalityCheck:
    lr, L = np.asarray(lr, dtype=float), float(L)
    with np.errstate(invalid="ignore"):
        slack = H[1:] - H[:-1] + lr * Delta - 0.5 * L * lr**2 * wsq
    finite = np.isfinite(slack)
    checked = finite & valid
    slack = np.where(checked, slack, np.nan)
    with np.errstate(invalid="ignore"):
        bad = checked & (slack > rtol * scale)
    masked = np.where(checked, slack, -np.inf)
    n_checked = checked.sum(axis=0)
    return InequalityCheck(
        statement=statement,
        scheme=scheme,
        theorem=theorem,
        why_not_theorem=why,
        slack=slack,
        n_checked=n_checked,
        n_skipped_boundary=(finite & ~valid).sum(axis=0),
        n_violations=bad.sum(axis=0),
        max_violation=np.where(n_checked > 0, masked.max(axis=0), np.nan),
        max_violation_step=np.where(n_checked > 0, np.argmax(masked, axis=0), -1),
        rtol=rtol,
    )


@dataclass
class DiscreteDiagnostics:
    """Lyapunov and phase diagnostics of a discrete Lion-K run (see `diagnose_discrete`).

    Time series have time on axis 0 then the batch: ``f``, ``H_d``, ``dist``, ``kkt`` shape
    (T, *batch); ``Delta``, ``w_sq`` shape (T−1, *batch) (index t: step x_t → x_{t+1}).
    ``H_d``, ``Delta`` and ``w_sq`` are those of spec §5 (coefficient a, w_t = ∇K(m̃) − λx_{t+1})
    whatever the scheme. Per-run fields have shape ``batch``: ``phase1_exit`` (−1 = never),
    ``phase1_bound_held``, ``phase1_max_ratio`` (max_t dist_t/(bound_t(1 + rtol) + atol), ≤ 1
    exactly when the bound holds), ``monotonicity`` (of the scheme's Lyapunov function — H_d for
    implicit decay, ``H_d_explicit`` for explicit decay — from the step after which dist(λx, dom K*)
    ≤ dom_atol for good). ``spec_inequality`` is the spec §5 check (None without L);
    ``explicit_inequality`` the derived explicit-scheme statement (explicit runs only, None without
    L).
    """

    K: str
    decay: str
    convention: str
    lr: Any
    beta1: Any
    beta2: Any
    lam: Any
    L: float | None
    steps: np.ndarray
    f: np.ndarray
    H_d: np.ndarray
    Delta: np.ndarray
    w_sq: np.ndarray
    dist: np.ndarray
    kkt: np.ndarray
    phase1_tol: float
    phase1_exit: np.ndarray
    phase1_bound_applies: bool
    phase1_bound_held: np.ndarray
    phase1_max_ratio: np.ndarray
    monotonicity: MonotonicityReport
    spec_inequality: InequalityCheck | None
    explicit_inequality: InequalityCheck | None = None
    H_d_explicit: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self, series: bool = True) -> dict[str, Any]:
        """JSON-ready dict (lists; non-finite numbers, e.g. H_d = +inf before phase 1, → null)."""
        d = {
            k: to_jsonable(getattr(self, k))
            for k in (
                "K",
                "decay",
                "convention",
                "lr",
                "beta1",
                "beta2",
                "lam",
                "L",
                "phase1_tol",
                "phase1_exit",
                "phase1_bound_applies",
                "phase1_bound_held",
                "phase1_max_ratio",
                "notes",
            )
        }
        d["monotonicity"] = self.monotonicity.to_dict()
        d["spec_inequality"] = (
            None if self.spec_inequality is None else self.spec_inequality.to_dict(series)
        )
        d["explicit_inequality"] = (
            None if self.explicit_inequality is None else self.explicit_inequality.to_dict(series)
        )
        if series:
            for k in ("steps", "f", "H_d", "Delta", "w_sq", "dist", "kkt", "H_d_explicit"):
                d[k] = to_jsonable(getattr(self, k))
        return d


def diagnose_discrete(
    result: DiscreteResult,
    f: Callable[[Any], Any],
    grad_f: Callable[[Any], Any],
    L: float | None = None,
    *,
    tol: float = DOMAIN_TOL,
    rtol: float = 1e-11,
    dom_atol: float = 1e-12,
    mono_rtol: float = 1e-12,
    bound_rtol: float = 1e-12,
    bound_atol: float = 1e-12,
) -> DiscreteDiagnostics:
    """Lyapunov and phase diagnostics of a `DiscreteResult` (every step saved; paper convention).

    For each run of the batch: f_t, H_d(x_t, m_t), Δ_t, ‖w_t‖², dist(λx_t, dom K*), the phase-1
    exit (first t with dist ≤ ``tol``), whether dist_t ≤ bound_t·(1 + bound_rtol) + bound_atol with
    the discrete phase-1 bound of the run's scheme, the KKT score S(x_t), the monotonicity of the
    scheme's H_d once λx stays in dom K*, and — given the smoothness constant ``L`` of f — the spec
    §5 inequality per step (a theorem only for the implicit scheme with β1 ≤ β2; evaluated for both
    schemes) and, for explicit runs, the derived explicit-scheme inequality. A step violates an
    inequality when its slack exceeds ``rtol`` times the sum of magnitudes of the terms (rounding);
    only steps with dist(λx_t), dist(λx_{t+1}) ≤ ``dom_atol`` are checked (see `InequalityCheck`).

    Tolerances: ``rtol = 1e-11`` covers the rounding of sums of O(d) terms of relative error eps
    (d up to ~10⁴); ``dom_atol = 1e-12`` covers the rounding of λx on the boundary of dom K* and the
    ~1e-13 accuracy of the ℓq-ball projection.
    """
    K: KFunction = result.K
    cfg = result.config
    if result.m_tilde is None:
        raise LionKError("diagnose_discrete needs every step (run_discrete with save_every=1)")
    if cfg.convention == "library" and not K.even:
        raise LionKError(
            f"K={K.name} is not even: a library-convention run is Lion-K with K(−·); "
            "diagnose a paper-convention run instead"
        )
    lam = np.asarray(cfg.lam, dtype=float)
    _check_lam(lam)
    X, M, MT = (np.asarray(a) for a in (result.x, result.m, result.m_tilde))
    if MT.shape[0] != X.shape[0] - 1:
        raise LionKError("result.m_tilde must hold one look-ahead per step (T−1 of them)")
    lr, b1, b2 = (np.asarray(getattr(cfg, k), dtype=float) for k in ("lr", "beta1", "beta2"))
    decay = cfg.decay
    notes: list[str] = []
    if result.status != 0:
        notes.append(f"run stopped early: {result.message}")

    fx = np.asarray(f(X))
    lam_e = _ev(K, lam, _float_dtype(X))
    dist = np.asarray(K.dist_dom_conj(lam_e * X))
    kkt = kkt_score(K, X, np.asarray(grad_f(X)), lam)

    H = discrete_H(K, fx, X, M, lr, b1, b2, lam, "implicit")
    t1, t2 = discrete_Delta_terms(K, X[1:], M[:-1], MT, lr, b1, b2, lam, "implicit")
    Delta = t1 + t2
    w = discrete_w(K, X[1:], MT, lam)
    wsq = np.sum(w * w, axis=tuple(range(-K.event_ndim, 0)))

    # phase 1
    exit_ = phase1_exit(dist, tol)
    exit_arr = np.asarray(exit_ if exit_ is not None else -1)
    rate = lr * lam
    applies = bool(decay == "implicit" or np.all(rate <= 1))
    if not applies:
        notes.append("explicit scheme with ηλ > 1: the phase-1 bound (1−ηλ)^t is not a theorem")
    bound = phase1_bound(dist[0], lr, lam, X.shape[0] - 1, decay)
    held = np.all(dist <= bound * (1 + bound_rtol) + bound_atol, axis=0)
    max_ratio = (dist / (bound * (1 + bound_rtol) + bound_atol)).max(axis=0)

    # Monotonicity of the scheme's own Lyapunov function (H_d for implicit decay, the derived
    # H'_d for explicit decay), from the step after which λx stays inside dom K* up to rounding
    # (dist ≤ dom_atol): where λx is outside only by the membership tolerance the theorem's
    # hypothesis fails and H may rise by ~dist.
    H_exp = discrete_H(K, fx, X, M, lr, b1, b2, lam, "explicit") if decay == "explicit" else None
    inside_tail = np.flip(np.logical_and.accumulate(np.flip(dist <= dom_atol, 0), 0), 0)
    settled = np.where(inside_tail.any(axis=0), np.argmax(inside_tail, axis=0), -1)
    mono = monotonicity(H if H_exp is None else H_exp, settled, rtol=mono_rtol)

    # inequalities
    spec_check = explicit_check = None
    scheme_ok = bool(np.all(b1 <= b2))
    if L is not None:
        a = discrete_a(lr, b1, b2, lam, "implicit")
        mag = (
            np.abs(fx)
            + (1 / lam + a) * np.abs(K.conj(lam_e * X))
            + a * (np.abs(np.asarray(K.K(M))) + np.abs(_inner(K, M, lam_e * X)))
        )
        scale = mag[1:] + mag[:-1] + lr * (np.abs(t1) + np.abs(t2)) + 0.5 * L * lr**2 * wsq
        theorem = decay == "implicit" and scheme_ok
        why = (
            ""
            if theorem
            else "; ".join(
                s
                for s, bad in (
                    ("explicit-decay scheme", decay != "implicit"),
                    ("beta1 > beta2", not scheme_ok),
                )
                if bad
            )
        )
        inside = dist <= dom_atol
        valid = inside[1:] & inside[:-1]
        spec_check = _inequality(
            H, Delta, wsq, scale, valid, lr, L, rtol, SPEC_INEQUALITY, decay, theorem, why
        )
        if decay == "explicit":
            e1, e2 = discrete_Delta_terms(
                K, X[1:], M[:-1], MT, lr, b1, b2, lam, "explicit", x=X[:-1]
            )
            wb = (X[1:] - X[:-1]) / _ev(K, lr, _float_dtype(X))
            wbsq = np.sum(wb * wb, axis=tuple(range(-K.event_ndim, 0)))
            a2 = discrete_a(lr, b1, b2, lam, "explicit")
            mag2 = (
                np.abs(fx)
                + (1 / lam + a2) * np.abs(K.conj(lam_e * X))
                + a2 * (np.abs(np.asarray(K.K(M))) + np.abs(_inner(K, M, lam_e * X)))
            )
            scale2 = mag2[1:] + mag2[:-1] + lr * (np.abs(e1) + np.abs(e2)) + 0.5 * L * lr**2 * wbsq
            th2 = scheme_ok and bool(np.all(rate < 1))
            why2 = "" if th2 else "beta1 > beta2 or ηλ ≥ 1"
            assert H_exp is not None  # computed above for decay == "explicit"
            explicit_check = _inequality(
                H_exp,
                e1 + e2,
                wbsq,
                scale2,
                valid,
                lr,
                L,
                rtol,
                EXPLICIT_INEQUALITY,
                decay,
                th2,
                why2,
            )

    def _p(v: ArrayLike) -> float | NDArray[Any]:
        v = np.asarray(v)
        return float(v) if v.ndim == 0 else v

    return DiscreteDiagnostics(
        K=K.name,
        decay=decay,
        convention=cfg.convention,
        lr=_p(lr),
        beta1=_p(b1),
        beta2=_p(b2),
        lam=_p(lam),
        L=None if L is None else float(L),
        steps=np.asarray(result.steps_saved),
        f=fx,
        H_d=H,
        Delta=Delta,
        w_sq=wsq,
        dist=dist,
        kkt=kkt,
        phase1_tol=tol,
        phase1_exit=exit_arr,
        phase1_bound_applies=applies,
        phase1_bound_held=held,
        phase1_max_ratio=max_ratio,
        monotonicity=mono,
        spec_inequality=spec_check,
        explicit_inequality=explicit_check,
        H_d_explicit=H_exp,
        notes=notes,
    )
