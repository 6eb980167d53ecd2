"""The catalog of K of spec §6, registered by name.

Names are those of K itself (``l1`` is Lion). Each class states K, ∇K, K* and the induced term
``(1/λ)K*(λx)``; the tests check every conjugate against a brute-force numerical supremum and the
inequalities of the paper's Lemma 2.1.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

from .kfunc import DOMAIN_TOL, KFunction, NormBallK, Param, SeparableK, format_number, register_K
from .piecewise import PiecewiseGradK
from .xp import Array, Namespace, array_namespace

_ITERS = 100


# --------------------------------------------------------------------------------------------
# Euclidean projections used by the norm-type K
# --------------------------------------------------------------------------------------------
def project_simplex(v: Any, radius: float = 1.0) -> NDArray[np.float64]:
    """Euclidean projection of each row of ``v`` onto {z ≥ 0, Σz = radius} (sort-based, exact)."""
    v = np.asarray(v, dtype=float)
    s = -np.sort(-v, axis=-1)
    css = np.cumsum(s, axis=-1) - radius
    j = np.arange(1, v.shape[-1] + 1)
    rho = np.sum(s - css / j > 0, axis=-1, keepdims=True)
    theta = np.take_along_axis(css, rho - 1, axis=-1) / rho
    return np.asarray(np.maximum(v - theta, 0.0), dtype=np.float64)


def project_l1_ball(y: Any, radius: float = 1.0) -> NDArray[np.float64]:
    """Euclidean projection onto {‖z‖₁ ≤ radius}: identity inside, simplex projection of |y|
    outside."""
    y = np.asarray(y, dtype=float)
    inside = np.sum(np.abs(y), axis=-1, keepdims=True) <= radius
    return np.asarray(
        np.where(inside, y, np.sign(y) * project_simplex(np.abs(y), radius)), dtype=np.float64
    )


_EPS = float(np.finfo(float).eps)
_MAX_ITER = 200


def _scaled_norm(
    v: NDArray[np.float64], r: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(‖v‖_r, m) over the last axis (v ≥ 0): ‖v‖_r = m·(Σ(v/m)^r)^{1/r}, m = max v (1 if v = 0),
    so v^r never overflows or underflows."""
    m = np.max(v, axis=-1, keepdims=True)
    m = np.where(m > 0, m, 1.0)
    return m * np.sum((v / m) ** r, axis=-1, keepdims=True) ** (1 / r), m


def _newton_down(
    v: NDArray[np.float64], step: Callable[[NDArray[np.float64]], NDArray[np.float64]], q: float
) -> NDArray[np.float64]:
    """Newton iterates v ← clip(v − step(v), 0, v) from an upper bound of the root of a convex
    increasing function: monotone decrease, stopped at a relative change ≤ 4ε."""
    from ..errors import NumericalFailure

    for _ in range(_MAX_ITER):
        v_new = np.clip(v - step(v), 0.0, v)
        done = np.abs(v_new - v) <= 4 * _EPS * v
        v = v_new
        if np.all(done):
            return v
    raise NumericalFailure(
        f"power_root: the Newton iteration (exponent {q:g}) did not converge in {_MAX_ITER} steps"
    )


def _power_root_closed(
    a: NDArray[np.float64], c: Any, q: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]] | None:
    """`power_root` for q ∈ {3/2, 2, 3} in closed form; None for another q or where a term
    overflows (then Newton runs)."""
    if q not in (1.5, 2.0, 3.0):
        return None
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if q == 2.0:
            s = a / (1 + c)
            inv = np.broadcast_to(1 / (1 + c), np.shape(s))
        elif q == 3.0:
            s = 2 * a / (1 + np.sqrt(1 + 4 * c * a))
            inv = 1 / (1 + 2 * c * s)
        else:
            u = np.where(a > 0, 2 * a / (c + np.sqrt(c * c + 4 * a)), 0.0)
            s = u * u
            inv = np.where(u > 0, u / (u + 0.5 * c), 0.0)
    if not (np.all(np.isfinite(s)) and np.all(np.isfinite(inv))):
        return None
    return np.asarray(s, dtype=np.float64), np.asarray(inv, dtype=np.float64)


def power_root(
    a: NDArray[np.float64], c: Any, q: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(s, 1/φ'(s)) with s ≥ 0 the root of φ(s) = s + c·s^{q−1} − a = 0 (elementwise; a ≥ 0, c ≥ 0
    broadcast against a, q > 1; the root lies in [0, a]).

    Newton on a convex increasing form of the equation, started at an upper bound of the root,
    decreases monotonically to it (it never leaves the bracket [0, start]; the iterate is clipped
    to it against rounding), stopped at a relative change ≤ 4ε:

    * q ≥ 2: φ is convex; s₀ = min(a, (a/c)^{1/(q−1)}) (each term alone bounds the root).
    * q < 2: φ'(s) = 1 + c(q−1)s^{q−2} is unbounded at s = 0 (φ concave), so solve in
      u = s^{q−1}: ψ(u) = u^r + c·u − a, r = 1/(q−1) > 1, convex; u₀ = min(a^{q−1}, a/c). One
      Newton step on φ in s (where s > 0) then removes the r-fold amplification of u's rounding.

    1/φ'(s) is returned as 1/(1 + c(q−1)s^{q−2}) (q ≥ 2) or s^{2−q}/(s^{2−q} + c(q−1)) (q < 2, 0
    at s = 0). Two users: the inner equation of `project_lq_ball` (c = μq) and the prox of
    `PowerP` (s + t·s^{p−1} = |v|, c = t, q = p).

        >>> s, _ = power_root(np.array([2.0]), 1.0, 1.5)    # s + √s = 2
        >>> float(s[0])
        1.0

    The exponents of the default lp (q = 3) and power_p (q = 1.5), and q = 2, have a closed form
    (a quadratic, in s or in u = √s, solved without cancellation), used where it is finite:

    * q = 2: s = a/(1 + c);
    * q = 3: s + c·s² = a, s = 2a/(1 + √(1 + 4ca));
    * q = 3/2: u² + c·u = a, u = 2a/(c + √(c² + 4a)), s = u².
    """
    closed = _power_root_closed(a, c, q)
    if closed is not None:
        return closed
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if q >= 2:

            def step(v: NDArray[np.float64]) -> NDArray[np.float64]:
                vq2 = v ** (q - 2)
                return np.asarray((v + c * vq2 * v - a) / (1 + c * (q - 1) * vq2))

            s = _newton_down(
                np.minimum(a, np.where(c > 0, (a / c) ** (1 / (q - 1)), np.inf)), step, q
            )
            inv = 1 / (1 + c * (q - 1) * s ** (q - 2))
        else:
            r = 1 / (q - 1)

            def step(v: NDArray[np.float64]) -> NDArray[np.float64]:
                vr1 = v ** (r - 1)
                dpsi = r * vr1 + c  # 0 only at v = 0 with c = 0: root 0
                return np.where(dpsi > 0, (vr1 * v + c * v - a) / dpsi, 0.0)

            s = _newton_down(np.minimum(a ** (q - 1), np.where(c > 0, a / c, np.inf)), step, q) ** r
            pos = s > 0
            sp = np.where(pos, s, 1.0)
            s2q = sp ** (2 - q)  # φ(s) = s + c·s/s^{2−q} − a
            polish = sp - (sp + c * sp / s2q - a) / (1 + c * (q - 1) / s2q)
            s = np.where(pos, np.clip(polish, 0.0, a), 0.0)
            s2q = s ** (2 - q)
            inv = np.where(s2q > 0, s2q / (s2q + c * (q - 1)), 0.0)
    return np.asarray(s, dtype=np.float64), np.asarray(inv, dtype=np.float64)


def project_lq_ball(y: Any, q: float) -> NDArray[np.float64]:
    """Euclidean projection onto {‖z‖_q ≤ 1}, 1 < q < ∞, of each row (last axis) of ``y``.

    KKT: z_i = sign(y_i) s_i with s + μq s^{q−1} = |y_i| (inner equation, see `power_root`) and
    Σ s^q = 1 (μ > 0 outside the ball; rows inside are returned unchanged). The multiplier solves
    h(μ) = ‖s(μ)‖_q^{1−q} − 1 = 0: h is increasing, h(0) < 0, and asymptotically linear in μ
    (s ≈ (a/(μq))^{1/(q−1)}; exactly linear for q = 2), so safeguarded Newton from μ = 0 takes
    ≲ 10 steps, with

        dh/dμ = (q − 1) q ‖s‖_q^{1−2q} Σ s^{2q−2}/φ'(s)     (from ds/dμ = −q s^{q−1}/φ'(s))

    inside the bracket [0, ‖a‖_p/q] (1/p + 1/q = 1: at μq = ‖a‖_p, s ≤ (a/(μq))^{1/(q−1)} gives
    Σs^q ≤ 1), bisection whenever the Newton point leaves the bracket. Stopped when |h| is at its
    rounding floor 16(q − 1)ε, μ changes by ≤ 4ε relative, or the bracket is 4ε-narrow; all rows
    iterate together (vectorised). Norms are evaluated scaled by the largest entry (no overflow).
    Accuracy: ‖z‖_q − 1 and the KKT residual ~1e-15 for q ≥ 1.1; as q → 1 the map μ ↦ s is
    ill-conditioned (measured ‖z‖_q − 1 ≤ 5e-14 at q = 1.01, |y| up to 1e8).
    """
    from ..errors import NumericalFailure

    y = np.asarray(y, dtype=float)
    a = np.abs(y)
    nq, _ = _scaled_norm(a, q)
    outside = nq > 1
    if not np.any(outside):
        return np.asarray(y.copy(), dtype=np.float64)
    lo = np.zeros_like(nq)
    hi = np.where(outside, _scaled_norm(a, q / (q - 1))[0] / q, 0.0)
    mu = lo.copy()
    active = outside.copy()
    h_floor = 16 * (q - 1) * _EPS  # s, hence N = ‖s‖_q, carries a few ε; h ≈ (1 − q)δN/N
    for _ in range(_MAX_ITER):
        s, inv = power_root(a, mu * q, q)
        N, ms = _scaled_norm(s, q)
        sig, nu = s / ms, N / ms  # σ ≤ 1, 1 ≤ ν ≤ d^{1/q}: no overflow below
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            h = np.expm1((1 - q) * np.log(N))  # accurate near 0 even as q → 1
            dh = (
                (q - 1)
                * q
                * nu ** (1 - 2 * q)
                / ms
                * np.sum(sig ** (2 * q - 2) * inv, axis=-1, keepdims=True)
            )
            newton = mu - h / dh
        lo = np.where(active & (h < 0), mu, lo)
        hi = np.where(active & (h >= 0), mu, hi)
        ok = np.isfinite(newton) & (newton >= lo) & (newton <= hi)
        mu_new = np.where(ok, newton, 0.5 * (lo + hi))
        conv = (
            (np.abs(h) <= h_floor)
            | (np.abs(mu_new - mu) <= 4 * _EPS * mu_new)
            | (hi - lo <= 4 * _EPS * hi)
        )
        mu = np.where(active, mu_new, mu)
        active = active & ~conv
        if not np.any(active):
            break
    else:
        raise NumericalFailure(
            f"project_lq_ball: the multiplier iteration (q = {q:g}) did not "
            f"converge in {_MAX_ITER} steps"
        )
    s, _ = power_root(a, mu * q, q)
    return np.asarray(np.where(outside, np.sign(y) * s, y), dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Norms: K* is the indicator of the dual unit ball
# --------------------------------------------------------------------------------------------
def _unit_scaled(x: Array, xp: Namespace) -> Array:
    """(x/m, m) with m = max_i |x_i| (1 where x = 0), so ‖x‖ = m‖x/m‖ never under/overflows."""
    m = xp.max(xp.abs(x), axis=-1, keepdims=True)
    m = xp.where(m > 0, m, xp.ones_like(m))
    return x / m, m


@register_K
class L1(SeparableK):
    """K(x) = ‖x‖₁, ∇K = sign (sign(0) = 0): Lion. K* = δ{‖y‖_∞ ≤ 1}."""

    name = "l1"
    formula, formula_latex = "‖x‖₁", r"\|x\|_1"
    grad_formula = "sign(x)"
    conj_formula, conj_latex = "δ{‖y‖_∞ ≤ 1}", r"\delta\{\|y\|_\infty \le 1\}"
    induced, induced_latex = "s.t. ‖x‖_∞ ≤ 1/λ", r"\text{s.t. } \|x\|_\infty \le 1/\lambda"
    induced_numeric = "‖x‖_∞ ≤ {r}"
    homogeneous = True

    def gradient_model(self) -> PiecewiseGradK | None:
        return PiecewiseGradK(np.array([0.0]), np.array([-1.0, 1.0]))

    def prox_conj(self, v: Any, t: Any) -> NDArray[np.float64]:
        """prox_{tK*}(v) = clip(v, −1, 1) (K* the indicator of the box)."""
        return np.asarray(np.clip(np.asarray(v, dtype=float), -1.0, 1.0), dtype=np.float64)

    def dom_bounds(self) -> tuple[float, float]:
        return -1.0, 1.0

    def k(self, x: Array, xp: Namespace) -> Array:
        return xp.abs(x)

    def dk(self, x: Array, xp: Namespace) -> Array:
        return xp.sign(x)

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.zeros_like(y)

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.zeros_like(y)

    def prox(self, v: Any, t: Any) -> NDArray[np.float64]:
        v = np.asarray(v, dtype=float)
        return np.asarray(np.sign(v) * np.maximum(np.abs(v) - t, 0.0), dtype=np.float64)


@register_K
class L2(NormBallK):
    """K(x) = ‖x‖₂, ∇K = x/‖x‖₂ (0 at 0). K* = δ{‖y‖₂ ≤ 1}."""

    euclidean_dual_ball = True  # K* = δ{‖y‖₂ ≤ 1}: the ODE's implicit mode solves a trust region
    name = "l2"
    formula, formula_latex = "‖x‖₂", r"\|x\|_2"
    grad_formula = "x/‖x‖₂"
    conj_formula, conj_latex = "δ{‖y‖₂ ≤ 1}", r"\delta\{\|y\|_2 \le 1\}"
    induced, induced_latex = "s.t. ‖x‖₂ ≤ 1/λ", r"\text{s.t. } \|x\|_2 \le 1/\lambda"
    induced_numeric = "‖x‖₂ ≤ {r}"

    def K(self, x: Array) -> Array:
        xp = array_namespace(x)
        xs, m = _unit_scaled(x, xp)
        return m[..., 0] * xp.sqrt(xp.sum(xs * xs, axis=-1))

    def nonsmooth_coordinates(self, w: Any, tiny: float) -> NDArray[np.bool_]:
        """For the implicit ODE mode: ∂K(w) is set-valued only at w = 0 (all coordinates)."""
        w = np.asarray(w, dtype=float)
        return np.full(w.size, w.size > 0 and float(np.max(np.abs(w))) <= tiny)

    def grad(self, x: Array) -> Array:
        xp = array_namespace(x)
        xs, _ = _unit_scaled(x, xp)  # ∇K is 0-homogeneous: scale first (no under/overflow)
        n = xp.sqrt(xp.sum(xs * xs, axis=-1, keepdims=True))
        return xs / xp.where(n > 0, n, xp.ones_like(n))

    def dual_norm(self, y: Any) -> NDArray[np.float64]:
        return np.asarray(np.linalg.norm(y, axis=-1), dtype=np.float64)

    def project_dom_conj(self, y: Any) -> NDArray[np.float64]:
        y = np.asarray(y, dtype=float)
        return np.asarray(
            y / np.maximum(1.0, np.linalg.norm(y, axis=-1, keepdims=True)), dtype=np.float64
        )


@register_K
class Lp(NormBallK):
    """K(x) = ‖x‖_p (1 < p < ∞), ∇K = sign(x)|x|^{p−1}/‖x‖_p^{p−1}.

    K* = δ{‖y‖_q ≤ 1}, 1/p + 1/q = 1.
    """

    name = "lp"
    p = Param("p", 1.5, lower=1.0, help="norm exponent, 1 < p < ∞ (use l1 / linf for the ends)")
    formula, formula_latex = "‖x‖_p, p = {p}", r"\|x\|_{{{p}}}"
    grad_formula = "sign(x)|x|^(p−1)/‖x‖_p^(p−1)"
    conj_formula, conj_latex = "δ{{‖y‖_q ≤ 1}}, q = {q}", r"\delta\{{\|y\|_{{{q}}} \le 1\}}"
    induced, induced_latex = (
        "s.t. ‖x‖_q ≤ 1/λ, q = {q}",
        r"\text{{s.t. }} \|x\|_{{{q}}} \le 1/\lambda",
    )
    induced_numeric = "‖x‖_{q} ≤ {r}"

    @property
    def q(self) -> float:
        return self.p / (self.p - 1)

    def K(self, x: Array) -> Array:
        xp = array_namespace(x)
        xs, m = _unit_scaled(x, xp)
        return m[..., 0] * xp.sum(xp.abs(xs) ** self.p, axis=-1) ** (1 / self.p)

    def nonsmooth_coordinates(self, w: Any, tiny: float) -> NDArray[np.bool_]:
        """For the implicit ODE mode: ∂K(w) is set-valued only at w = 0 (all coordinates)."""
        w = np.asarray(w, dtype=float)
        return np.full(w.size, w.size > 0 and float(np.max(np.abs(w))) <= tiny)

    def grad(self, x: Array) -> Array:
        xp = array_namespace(x)
        xs, _ = _unit_scaled(x, xp)  # ∇K is 0-homogeneous: scale first (no under/overflow)
        a = xp.abs(xs) ** (self.p - 1)
        n = xp.sum(xp.abs(xs) ** self.p, axis=-1, keepdims=True) ** ((self.p - 1) / self.p)
        return xp.sign(xs) * a / xp.where(n > 0, n, xp.ones_like(n))

    def dual_norm(self, y: Any) -> NDArray[np.float64]:
        return np.asarray(np.sum(np.abs(y) ** self.q, axis=-1) ** (1 / self.q), dtype=np.float64)

    def project_dom_conj(self, y: Any) -> NDArray[np.float64]:
        return project_lq_ball(y, self.q)


@register_K
class Linf(NormBallK):
    """K(x) = ‖x‖_∞, ∇K = sign(x_i*) e_i*, i* the first argmax |x_i|. K* = δ{‖y‖₁ ≤ 1}."""

    name = "linf"
    formula, formula_latex = "‖x‖_∞", r"\|x\|_\infty"
    grad_formula = "sign(x_i*) e_i*, i* = argmax |x_i|"
    conj_formula, conj_latex = "δ{‖y‖₁ ≤ 1}", r"\delta\{\|y\|_1 \le 1\}"
    induced, induced_latex = "s.t. ‖x‖₁ ≤ 1/λ", r"\text{s.t. } \|x\|_1 \le 1/\lambda"
    induced_numeric = "‖x‖₁ ≤ {r}"

    def K(self, x: Array) -> Array:
        xp = array_namespace(x)
        return xp.max(xp.abs(x), axis=-1)

    def nonsmooth_coordinates(self, w: Any, tiny: float) -> NDArray[np.bool_]:
        """For the implicit ODE mode: the coordinates tied at max|w_i| (within ``tiny``) when
        there are ≥ 2 of them (switching surfaces |w_i| = |w_j|); all when ‖w‖∞ ≤ tiny."""
        w = np.asarray(w, dtype=float)
        big = float(np.max(np.abs(w))) if w.size else 0.0
        if big <= tiny:
            return np.ones(w.size, bool)
        tie = np.abs(w) >= big - tiny
        return tie if tie.sum() >= 2 else np.zeros(w.size, bool)

    def face_branch(self, w: Any, tiny: float) -> NDArray[np.float64]:
        """sign(w_i) on the coordinates attaining max|w| (∇K = sign(w_i*)e_i*), 0 elsewhere."""
        w = np.asarray(w, dtype=float)
        if not w.size:
            return np.zeros(0, np.int64)
        big = float(np.max(np.abs(w)))
        return np.where(np.abs(w) >= big - tiny, np.sign(w), 0).astype(np.int64)

    def grad(self, x: Array) -> Array:
        xp = array_namespace(x)
        i = xp.argmax(xp.abs(x), axis=-1, keepdims=True)
        onehot = xp.arange(x.shape[-1]) == i
        return xp.sign(x) * xp.astype(onehot, x.dtype)

    def dual_norm(self, y: Any) -> NDArray[np.float64]:
        return np.asarray(np.sum(np.abs(y), axis=-1), dtype=np.float64)

    def project_dom_conj(self, y: Any) -> NDArray[np.float64]:
        return project_l1_ball(y)


@register_K
class Nuclear(NormBallK):
    """K(X) = ‖X‖_tr = Σσ_i(X), ∇K = U Vᵀ over σ_i > 0 (Muon's K). K* = δ{‖Y‖_op ≤ 1}."""

    name = "nuclear"
    event_ndim = 2
    formula, formula_latex = "‖X‖_tr (sum of singular values)", r"\|X\|_{\mathrm{tr}}"
    grad_formula = "U Vᵀ (X = U Σ Vᵀ, σ > 0)"
    conj_formula, conj_latex = "δ{‖Y‖_op ≤ 1}", r"\delta\{\|Y\|_{\mathrm{op}} \le 1\}"
    induced, induced_latex = "s.t. ‖X‖_op ≤ 1/λ", r"\text{s.t. } \|X\|_{\mathrm{op}} \le 1/\lambda"
    induced_numeric = "‖X‖_op ≤ {r}"
    separable = False

    def K(self, x: Array) -> Array:
        xp = array_namespace(x)
        return xp.sum(xp.linalg.svdvals(x), axis=-1)

    def grad(self, x: Array) -> Array:
        xp = array_namespace(x)
        u, s, vh = xp.linalg.svd(x, full_matrices=False)
        tol = xp.max(s, axis=-1, keepdims=True) * max(x.shape[-2:]) * xp.finfo(x.dtype).eps
        keep = xp.astype(s > tol, x.dtype)
        return (u * keep[..., None, :]) @ vh

    def dual_norm(self, y: Any) -> NDArray[np.float64]:
        return np.linalg.svd(np.asarray(y, dtype=float), compute_uv=False)[..., 0]

    def project_dom_conj(self, y: Any) -> NDArray[np.float64]:
        u, s, vh = np.linalg.svd(np.asarray(y, dtype=float), full_matrices=False)
        return np.asarray((u * np.minimum(s, 1.0)[..., None, :]) @ vh, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# Smooth and mixed separable K
# --------------------------------------------------------------------------------------------
@register_K
class SqL2(SeparableK):
    """K(x) = ½‖x‖², ∇K = x, K* = ½‖y‖²: momentum SGD with L2 regularisation (λ/2)‖x‖²."""

    name = "sq_l2"
    formula, formula_latex = "½‖x‖²", r"\tfrac12\|x\|_2^2"
    grad_formula = "x"
    conj_formula, conj_latex = "½‖y‖²", r"\tfrac12\|y\|_2^2"
    induced, induced_latex = "+ (λ/2)‖x‖²", r"+\tfrac{\lambda}{2}\|x\|_2^2"
    induced_numeric = "+ ({lam}/2)‖x‖²"
    induced_kind = "regularizer"
    differentiable = True

    def hessian(self, v: Any) -> NDArray[np.float64] | None:
        v = np.asarray(v, dtype=float)
        return np.diag(np.ones_like(v))

    def k(self, x: Array, xp: Namespace) -> Array:
        return 0.5 * x * x

    def dk(self, x: Array, xp: Namespace) -> Array:
        return x

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return 0.5 * y * y

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return y

    def prox(self, v: Any, t: Any) -> NDArray[np.float64]:
        return np.asarray(np.asarray(v, dtype=float) / (1 + t), dtype=np.float64)


@register_K
class PowerP(SeparableK):
    """K(x) = Σ|x_i|^p/p (p > 1), ∇K = sign(x)|x|^{p−1}, K* = Σ|y_i|^q/q."""

    name = "power_p"
    p = Param("p", 1.5, lower=1.0, help="exponent p > 1 (the paper's Lion-ℓp range is 1 < p ≤ 2)")
    formula, formula_latex = "Σ|x_i|^p/p, p = {p}", r"\tfrac{{1}}{{{p}}}\sum_i |x_i|^{{{p}}}"
    grad_formula = "sign(x)|x|^(p−1)"
    conj_formula, conj_latex = "Σ|y_i|^q/q, q = {q}", r"\tfrac{{1}}{{{q}}}\sum_i |y_i|^{{{q}}}"
    induced = "+ (λ^(q−1)/q)‖x‖_q^q, q = {q}"
    induced_latex = r"+\tfrac{{\lambda^{{q-1}}}}{{q}}\|x\|_q^q,\ q = {q}"
    induced_numeric = "+ (λ^(q−1)/q)‖x‖_q^q with q = {q}, λ = {lam}"
    induced_kind = "regularizer"
    differentiable = True

    @property
    def q(self) -> float:
        return self.p / (self.p - 1)

    @property
    def lipschitz_grad(self) -> bool:
        """∇K = sign(x)|x|^{p−1} is locally Lipschitz iff p ≥ 2 (slope ∞ at 0 for p < 2)."""
        return self.p >= 2

    def hessian(self, v: Any) -> NDArray[np.float64] | None:
        """diag((p − 1)|v|^(p−2)) for p ≥ 2 (unbounded at 0 for p < 2: None)."""
        if self.p < 2:
            return None
        v = np.asarray(v, dtype=float)
        return np.diag((self.p - 1) * np.abs(v) ** (self.p - 2))

    def k(self, x: Array, xp: Namespace) -> Array:
        return xp.abs(x) ** self.p / self.p

    def dk(self, x: Array, xp: Namespace) -> Array:
        return xp.sign(x) * xp.abs(x) ** (self.p - 1)

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.abs(y) ** self.q / self.q

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.sign(y) * np.abs(y) ** (self.q - 1)

    def prox(self, v: Any, t: Any) -> NDArray[np.float64]:
        """prox_{tK}(v) = sign(v)·s with s + t·s^{p−1} = |v| (`power_root`, Newton, a few steps
        where the generic prox bisects ~50 times)."""
        v = np.asarray(v, dtype=np.float64)
        s, _ = power_root(np.abs(v), np.asarray(t, dtype=np.float64), self.p)
        return np.asarray(np.sign(v) * s, dtype=np.float64)


@register_K
class Huber(SeparableK):
    """K = Σ h_δ(x_i), h_δ(x) = x²/2 (|x| ≤ δ), δ|x| − δ²/2 else; ∇K = clip(x, −δ, δ);
    K* = Σ y_i²/2 + δ{‖y‖_∞ ≤ δ} (optax's 'refined' Lion)."""

    name = "huber"
    delta = Param("delta", 1.0, lower=0.0, help="Huber threshold δ > 0")
    formula, formula_latex = "Σ h_δ(x_i), δ = {delta}", r"\sum_i h_{{{delta}}}(x_i)"
    grad_formula = "clip(x, −δ, δ)"
    conj_formula = "Σ y_i²/2 + δ{{‖y‖_∞ ≤ {delta}}}"
    conj_latex = r"\tfrac12\|y\|_2^2 + \delta\{{\|y\|_\infty \le {delta}\}}"
    induced = "s.t. ‖x‖_∞ ≤ δ/λ, + (λ/2)‖x‖², δ = {delta}"
    induced_latex = (
        r"\text{{s.t. }} \|x\|_\infty \le {delta}/\lambda,\ +\tfrac{{\lambda}}{{2}}\|x\|_2^2"
    )
    induced_numeric = "‖x‖_∞ ≤ δ/λ = {radius} and + ({lam}/2)‖x‖²"
    induced_kind = "constraint+regularizer"
    differentiable = True

    def describe_induced(self, lam: float) -> str:
        if lam <= 0:
            return super().describe_induced(lam)
        return self._fill(
            self.induced_numeric, radius=format_number(self.delta / lam), lam=f"{lam:g}"
        )

    def dom_bounds(self) -> tuple[float, float]:
        return -self.delta, self.delta

    def hessian(self, v: Any) -> NDArray[np.float64] | None:
        v = np.asarray(v, dtype=float)
        return np.diag((np.abs(v) < self.delta).astype(float))

    def k(self, x: Array, xp: Namespace) -> Array:
        a = xp.abs(x)
        return xp.where(a <= self.delta, 0.5 * x * x, self.delta * a - 0.5 * self.delta**2)

    def dk(self, x: Array, xp: Namespace) -> Array:
        return xp.clip(x, -self.delta, self.delta)

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return 0.5 * y * y

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return y


@register_K
class Relativistic(SeparableK):
    """K = Σ √(1 + x_i²), ∇K = x/√(1+x²), K* = −Σ√(1 − y_i²) + δ{‖y‖_∞ ≤ 1}."""

    name = "relativistic"
    formula, formula_latex = "Σ √(1 + x_i²)", r"\sum_i \sqrt{1 + x_i^2}"
    grad_formula = "x/√(1+x²)"
    conj_formula = "−Σ√(1 − y_i²) + δ{‖y‖_∞ ≤ 1}"
    conj_latex = r"-\sum_i\sqrt{1-y_i^2} + \delta\{\|y\|_\infty \le 1\}"
    induced = "s.t. ‖x‖_∞ ≤ 1/λ, + barrier −(1/λ)Σ√(1 − λ²x_i²)"
    induced_latex = (
        r"\text{s.t. } \|x\|_\infty \le 1/\lambda,\ -\tfrac1\lambda\sum_i\sqrt{1-\lambda^2x_i^2}"
    )
    induced_numeric = "‖x‖_∞ ≤ {r} and barrier −(1/λ)Σ√(1 − λ²x_i²), λ = {lam}"
    induced_kind = "constraint+regularizer"
    differentiable = True

    def dom_bounds(self) -> tuple[float, float]:
        return -1.0, 1.0

    def hessian(self, v: Any) -> NDArray[np.float64] | None:
        v = np.asarray(v, dtype=float)
        return np.diag((1 + v * v) ** -1.5)

    def k(self, x: Array, xp: Namespace) -> Array:
        return xp.sqrt(1 + x * x)

    def dk(self, x: Array, xp: Namespace) -> Array:
        return x / xp.sqrt(1 + x * x)

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return -np.sqrt(np.maximum(1 - y * y, 0.0))

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return y / np.sqrt(1 - y * y)


@register_K
class LogCosh(SeparableK):
    """K = Σ log cosh x_i, ∇K = tanh x, K*(y) = Σ [(1+y)log(1+y) + (1−y)log(1−y)]/2 on |y| ≤ 1
    (optax's 'smooth' Lion at unit temperature)."""

    name = "logcosh"
    formula, formula_latex = "Σ log cosh x_i", r"\sum_i \log\cosh x_i"
    grad_formula = "tanh(x)"
    conj_formula = "Σ [(1+y_i)log(1+y_i) + (1−y_i)log(1−y_i)]/2 + δ{‖y‖_∞ ≤ 1}"
    conj_latex = (
        r"\sum_i \tfrac{1+y_i}{2}\log(1+y_i) + \tfrac{1-y_i}{2}\log(1-y_i)"
        r" + \delta\{\|y\|_\infty\le1\}"
    )
    induced = "s.t. ‖x‖_∞ ≤ 1/λ, + entropy barrier (1/λ)Σ[(1±λx_i)/2 log(1±λx_i)]"
    induced_latex = (
        r"\text{s.t. } \|x\|_\infty \le 1/\lambda,\ +\tfrac1\lambda\sum_i"
        r"\tfrac{1\pm\lambda x_i}{2}\log(1\pm\lambda x_i)"
    )
    induced_numeric = "‖x‖_∞ ≤ {r} and entropy barrier (1/λ)Σ[(1±λx_i)/2·log(1±λx_i)], λ = {lam}"
    induced_kind = "constraint+regularizer"
    differentiable = True

    def dom_bounds(self) -> tuple[float, float]:
        return -1.0, 1.0

    def hessian(self, v: Any) -> NDArray[np.float64] | None:
        v = np.asarray(v, dtype=float)
        return np.diag(1 - np.tanh(v) ** 2)

    def k(self, x: Array, xp: Namespace) -> Array:
        a = xp.abs(x)
        return a + xp.log1p(xp.exp(-2 * a)) - float(np.log(2.0))

    def dk(self, x: Array, xp: Namespace) -> Array:
        return xp.tanh(x)

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(
            0.5 * (special.xlogy(1 + y, 1 + y) + special.xlogy(1 - y, 1 - y)), dtype=np.float64
        )

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.arctanh(y)


@register_K
class Deadzone(SeparableK):
    """K = Σ max(|x_i| − e, 0), ∇K = sign(x)·1{|x| > e}, K* = e‖y‖₁ + δ{‖y‖_∞ ≤ 1}."""

    name = "deadzone"
    e = Param("e", 0.1, lower=0.0, lower_inclusive=True, help="dead-zone half-width e ≥ 0")
    formula, formula_latex = "Σ max(|x_i| − e, 0), e = {e}", r"\sum_i (|x_i| - {e})_+"
    grad_formula = "sign(x)·1{{|x| > e}}"
    conj_formula = "e‖y‖₁ + δ{{‖y‖_∞ ≤ 1}}, e = {e}"
    conj_latex = r"{e}\|y\|_1 + \delta\{{\|y\|_\infty \le 1\}}"
    induced = "s.t. ‖x‖_∞ ≤ 1/λ, + e‖x‖₁ (sparsity), e = {e}"
    induced_latex = r"\text{{s.t. }} \|x\|_\infty \le 1/\lambda,\ + {e}\|x\|_1"
    induced_numeric = "‖x‖_∞ ≤ {r} and + {e}‖x‖₁"
    induced_kind = "constraint+regularizer"
    homogeneous = False

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.homogeneous = self.e == 0  # type: ignore[misc]  # per instance: e = 0 is ‖·‖₁

    def gradient_model(self) -> PiecewiseGradK | None:
        if self.e == 0:
            return PiecewiseGradK(np.array([0.0]), np.array([-1.0, 1.0]))
        return PiecewiseGradK(np.array([-self.e, self.e]), np.array([-1.0, 0.0, 1.0]))

    def prox_conj(self, v: Any, t: Any) -> NDArray[np.float64]:
        """prox_{tK*}(v) = clip(soft(v, t·e), −1, 1)."""
        v = np.asarray(v, dtype=float)
        return np.asarray(
            np.clip(np.sign(v) * np.maximum(np.abs(v) - t * self.e, 0.0), -1.0, 1.0),
            dtype=np.float64,
        )

    def dom_bounds(self) -> tuple[float, float]:
        return -1.0, 1.0

    def k(self, x: Array, xp: Namespace) -> Array:
        return xp.clip(xp.abs(x) - self.e, 0.0, None)

    def dk(self, x: Array, xp: Namespace) -> Array:
        return xp.sign(x) * xp.astype(xp.abs(x) > self.e, x.dtype)

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.e * np.abs(y)

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.e * np.sign(y)


@register_K
class L1PlusSq(SeparableK):
    """K = ‖x‖₁ + ½‖x‖², ∇K = sign(x) + x, K*(y) = ½Σ(|y_i| − 1)₊² (a soft box)."""

    name = "l1_plus_sq"
    formula, formula_latex = "‖x‖₁ + ½‖x‖²", r"\|x\|_1 + \tfrac12\|x\|_2^2"
    grad_formula = "sign(x) + x"
    conj_formula, conj_latex = "½Σ(|y_i| − 1)₊²", r"\tfrac12\sum_i(|y_i|-1)_+^2"
    induced = "+ (λ/2)Σ(|x_i| − 1/λ)₊² (soft box)"
    induced_latex = r"+\tfrac{\lambda}{2}\sum_i(|x_i|-1/\lambda)_+^2"
    induced_numeric = "+ ({lam}/2)Σ(|x_i| − {r})₊² (soft box of radius {r})"
    induced_kind = "regularizer"

    def gradient_model(self) -> PiecewiseGradK | None:
        return PiecewiseGradK(np.array([0.0]), np.array([-1.0, 1.0]), 1.0)

    def prox_conj(self, v: Any, t: Any) -> NDArray[np.float64]:
        """prox_{tK*}(v) = v if |v| ≤ 1, else sign(v)(t + |v|)/(1 + t)."""
        v = np.asarray(v, dtype=float)
        return np.asarray(
            np.where(np.abs(v) <= 1, v, np.sign(v) * (t + np.abs(v)) / (1 + t)), dtype=np.float64
        )

    def k(self, x: Array, xp: Namespace) -> Array:
        return xp.abs(x) + 0.5 * x * x

    def dk(self, x: Array, xp: Namespace) -> Array:
        return xp.sign(x) + x

    def kconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(0.5 * np.maximum(np.abs(y) - 1, 0.0) ** 2, dtype=np.float64)

    def dkconj(self, y: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(np.sign(y) * np.maximum(np.abs(y) - 1, 0.0), dtype=np.float64)

    def prox(self, v: Any, t: Any) -> NDArray[np.float64]:
        v = np.asarray(v, dtype=float)
        return np.asarray(np.sign(v) * np.maximum(np.abs(v) - t, 0.0) / (1 + t), dtype=np.float64)


@register_K
class LogSumExp(KFunction):
    """K = log Σ e^{x_i}, ∇K = softmax(x), K* = Σ y_i log y_i + δ{y ∈ simplex}.

    K is not even: the library convention (EMA of +g, subtract ∇K) is Lion-K with K(−·).
    """

    name = "logsumexp"
    formula, formula_latex = "log Σ e^{x_i}", r"\log\sum_i e^{x_i}"
    grad_formula = "softmax(x)"
    conj_formula = "Σ y_i log y_i + δ{y ∈ simplex}"
    conj_latex = r"\sum_i y_i\log y_i + \delta\{y\in\Delta\}"
    induced = "s.t. λx ∈ simplex (x ≥ 0, Σx_i = 1/λ), + Σ x_i log(λx_i)"
    induced_latex = r"\text{s.t. } \lambda x\in\Delta,\ +\sum_i x_i\log(\lambda x_i)"
    induced_numeric = "x ≥ 0, Σx_i = {r} and + Σ x_i log({lam}·x_i)"
    induced_kind = "constraint+regularizer"
    differentiable = True
    even = False

    def hessian(self, v: Any) -> NDArray[np.float64] | None:
        """diag(s) − s sᵀ, s = softmax(v)."""
        s = np.asarray(self.grad(np.asarray(v, dtype=float)))
        return np.diag(s) - np.outer(s, s)

    def K(self, x: Array) -> Array:
        xp = array_namespace(x)
        mx = xp.max(x, axis=-1, keepdims=True)
        return xp.log(xp.sum(xp.exp(x - mx), axis=-1)) + mx[..., 0]

    def grad(self, x: Array) -> Array:
        xp = array_namespace(x)
        e = xp.exp(x - xp.max(x, axis=-1, keepdims=True))
        return e / xp.sum(e, axis=-1, keepdims=True)

    def conj(self, y: Any) -> NDArray[np.float64]:
        """Σ p_i log p_i at p = P_simplex(y) if ‖y − p‖ ≤ DOMAIN_TOL (as `in_dom_conj`), else
        +inf."""
        y = np.asarray(y, dtype=float)
        p = project_simplex(y)
        inside = np.linalg.norm(y - p, axis=-1) <= DOMAIN_TOL
        return np.where(inside, np.sum(special.xlogy(p, p), axis=-1), np.inf)

    def conj_grad(self, y: Any) -> NDArray[np.float64]:
        with np.errstate(divide="ignore"):
            return np.asarray(
                1 + np.log(np.maximum(np.asarray(y, dtype=float), 0.0)), dtype=np.float64
            )

    def project_dom_conj(self, y: Any) -> NDArray[np.float64]:
        return project_simplex(y)

    def dist_dom_conj(self, y: Any) -> NDArray[np.float64]:
        y = np.asarray(y, dtype=float)
        return np.asarray(np.linalg.norm(y - project_simplex(y), axis=-1), dtype=np.float64)

    def prox(self, v: Any, t: Any) -> NDArray[np.float64]:
        """prox_{tK}(v) = v − t·p with p = softmax(v − t·p), solved in closed form up to a scalar:
        p_i = ω(log t + v_i − μ)/t (ω the Wright omega function, ω(z) = W(e^z)), μ chosen by
        bisection so that Σ p_i = 1. Bracket: at μ = max v − t the largest term alone is
        ω(t + log t)/t = 1; at μ = max v − t/d + log d every term is ≤ 1/d."""
        v = np.asarray(v, dtype=float)
        t = np.broadcast_to(np.asarray(t, dtype=float), v.shape)[..., :1]
        d = v.shape[-1]
        log_t = np.log(t)
        v_max = np.max(v, axis=-1, keepdims=True)
        lo, hi = v_max - t, v_max - t / d + np.log(d)
        for _ in range(_ITERS * 2):
            mu = 0.5 * (lo + hi)
            too_big = np.sum(special.wrightomega(log_t + v - mu).real, axis=-1, keepdims=True) > t
            lo, hi = np.where(too_big, mu, lo), np.where(too_big, hi, mu)
            if np.all(hi - lo <= 2 * np.finfo(float).eps * np.maximum(1.0, np.abs(mu))):
                break
        p = special.wrightomega(log_t + v - 0.5 * (lo + hi)).real
        return np.asarray(v - t * p / np.sum(p, axis=-1, keepdims=True), dtype=np.float64)
