"""The set-valued step of the implicit Lion-K integrator: solve s ∈ ∂K(a − B s).

With B symmetric positive semi-definite, s ∈ ∂K(w) ⇔ w ∈ ∂K*(s), so w = a − Bs gives
0 ∈ ∂K*(s) + Bs − a, i.e. s is the unique minimiser (B ≻ 0) of the strongly convex problem

    s = argmin_s  K*(s) + ½ sᵀBs − aᵀs.                                               (∗)

* ``B = b·I`` (b > 0): s = prox_{K*/b}(a/b) = (a − prox_{bK}(a))/b (Moreau's identity
  prox_{τK*}(y) = y − τ prox_{K/τ}(y/τ) with τ = 1/b, y = a/b). For a norm K, K* is the indicator
  of the dual unit ball and this is the Euclidean projection s = P_ball(a/b); `prox_conj` uses
  such closed forms where it can, because the Moreau form cancels catastrophically when b is
  small (b ~ αεh²: an error ε_mach·|a|/b in s).
* ``K = l2``, general B = QΛQᵀ: (∗) is a trust-region subproblem, s = (B + μI)⁻¹a with the
  smallest μ ≥ 0 giving ‖s‖₂ ≤ 1 (a monotone scalar equation in μ, solved by bracketing).
* otherwise: accelerated proximal gradient (FISTA with adaptive restart) on (∗), step 1/λ_max(B),
  prox_{tK*}(v) = v − t·prox_{K/t}(v/t); linear convergence with rate 1 − √(λ_min/λ_max).
  Stopped when the gradient mapping L‖y − s⁺‖∞ (it bounds the error left in m̃ = a − Bs) is
  ≤ 1e-13(‖a‖∞ + L·max(1, ‖s‖∞)); failure raises `NumericalFailure` (the step is then retried
  with a smaller h).
* ``B = 0``: s = ∇K(a) (any element of ∂K(a)).

`set_valued_pattern` says which coordinates of w = m̃ sit on a non-smooth set of K (where ∂K(w)
is not a singleton), for the integrator's report; `face_signature` labels the smooth piece of ∂K
that w lies on (the pattern plus the branch of a single-valued ∇K), so that the integrator can see
a switch between two substeps even when no substep lands on the non-smooth set.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize

from ...errors import NumericalFailure
from ..kfunc import KFunction
from .matrix import is_norm_ball

__all__ = ["resolve_selection", "set_valued_pattern", "face_signature", "prox_conj"]

_FISTA_MAX_ITER = 20_000


def prox_conj(K: KFunction, v: ArrayLike, t: float) -> NDArray[np.float64]:
    """prox_{tK*}(v) = argmin_s K*(s) + ‖s − v‖²/(2t).

    Closed forms without cancellation where K* is simple: a norm K (P_ball(v), the Euclidean
    projection onto the dual unit ball), K's own ``prox_conj(v, t)`` when it has one (l1:
    clip(v, −1, 1); deadzone: clip(soft(v, t·e), −1, 1); l1_plus_sq: v if |v| ≤ 1, else
    sign(v)(t + |v|)/(1 + t)); otherwise Moreau's identity
    v − t·prox_{K/t}(v/t) (which loses ~ε_mach·|v| absolute accuracy).
    """
    v = np.asarray(v, dtype=float)
    if is_norm_ball(K):  # also a matrix norm through `FlatMatrixK` (nuclear: clip σ at 1)
        return np.asarray(K.project_dom_conj(v), dtype=float)
    own = getattr(K, "prox_conj", None)  # a closed form K provides (l1, deadzone, l1_plus_sq)
    if own is not None:
        return np.asarray(own(v, t), dtype=float)
    return v - t * np.asarray(K.prox(v / t, 1.0 / t), dtype=float)


def _isotropic(B: NDArray[np.float64], rel: float = 1e-13) -> float | None:
    """b when B = b·I up to ``rel`` (relative to max |B_ij|), else None."""
    b = float(np.mean(np.diag(B)))
    scale = max(float(np.max(np.abs(B))), 1e-300)
    if np.max(np.abs(B - b * np.eye(B.shape[0]))) <= rel * scale:
        return b
    return None


def _l2_trust_region(a: NDArray[np.float64], B: NDArray[np.float64]) -> NDArray[np.float64]:
    """argmin_{‖s‖₂ ≤ 1} ½sᵀBs − aᵀs for B ⪰ 0: s = (B + μI)⁻¹a, μ ≥ 0 minimal."""
    lam, Q = np.linalg.eigh(B)
    lam = np.maximum(lam, 0.0)
    ah = Q.T @ a

    def norm2(mu: float) -> float:
        with np.errstate(divide="ignore", invalid="ignore"):
            return float(np.sum(np.where(ah == 0, 0.0, ah / (lam + mu)) ** 2))

    if norm2(0.0) <= 1.0:  # interior (or flat along null(B) with a ⊥ null(B)): μ = 0
        with np.errstate(divide="ignore", invalid="ignore"):
            s_in: NDArray[np.float64] = Q @ np.where(ah == 0, 0.0, ah / lam)
            return s_in
    hi = float(np.linalg.norm(a))  # ‖s(μ)‖ ≤ ‖a‖/μ = 1 at μ = ‖a‖; ‖s(μ)‖ decreases in μ
    lo = hi
    while norm2(lo) <= 1.0 and lo > 1e-300:  # bracket: ‖s(lo)‖ > 1 (finite, lo > 0)
        lo *= 0.5
    if lo <= 1e-300:
        lo = 0.0
    mu = optimize.brentq(
        lambda m: norm2(m) - 1.0, lo, hi, xtol=1e-16 * hi, rtol=4 * np.finfo(float).eps, maxiter=500
    )
    s: NDArray[np.float64] = Q @ (ah / (lam + mu))  # mu: a float from scipy (untyped)
    n = np.linalg.norm(s)
    return s / n if n > 1.0 else s


def _fista(
    K: KFunction,
    a: NDArray[np.float64],
    B: NDArray[np.float64],
    s0: NDArray[np.float64],
    L: float | None = None,
) -> tuple[NDArray[np.float64], int]:
    L = float(np.linalg.eigvalsh(B)[-1]) if L is None else L
    t = 1.0 / L
    s = np.asarray(K.project_dom_conj(s0), dtype=float) if is_norm_ball(K) else s0.copy()
    y, theta = s.copy(), 1.0
    for it in range(_FISTA_MAX_ITER):
        s_new = prox_conj(K, y - t * (B @ y - a), t)
        # gradient mapping L(y − s_new): bounds the error it leaves in m̃ = a − Bs (‖B‖ ≤ L);
        # s itself is ill-determined (ε_mach·|a|/L) when L is tiny, m̃ and x = x̂ + ρs are not
        res = L * float(np.max(np.abs(s_new - y)))
        if res <= 1e-13 * (float(np.max(np.abs(a))) + L * max(1.0, float(np.max(np.abs(s_new))))):
            return s_new, it + 1
        # gradient-based restart (O'Donoghue–Candès): drop momentum when it points uphill
        if np.dot(y - s_new, s_new - s) > 0:
            theta = 1.0
            y = s_new.copy()
        else:
            theta_new = 0.5 * (1 + np.sqrt(1 + 4 * theta * theta))
            y = s_new + ((theta - 1) / theta_new) * (s_new - s)
            theta = theta_new
        s = s_new
    raise NumericalFailure(
        f"FISTA for s ∈ ∂K(a − Bs) did not converge in {_FISTA_MAX_ITER} "
        f"iterations (residual {res:.3g}, cond(B) = "
        f"{np.linalg.cond(B):.3g})"
    )


def resolve_selection(
    K: KFunction,
    a: ArrayLike,
    B: ArrayLike,
    s0: ArrayLike | None = None,
    L: float | None = None,
    b: float | None = None,
) -> tuple[NDArray[np.float64], int]:
    """The s with s ∈ ∂K(a − Bs) (B symmetric PSD, shape (d, d)); returns (s, iterations).

    See the module doc for the formulas. ``s0`` warm-starts the iterative branch; ``L`` = λ_max(B)
    and ``b`` (B = bI, or None when B is not isotropic) when the caller knows them (a constant
    ∇²f: no eigenvalue computation per call).
    """
    a = np.asarray(a, dtype=float)
    B = np.asarray(B, dtype=float)
    if not np.any(B):
        return np.asarray(K.grad(a), dtype=float), 0
    b = _isotropic(B) if b is None else b
    if b is not None and b > 0:
        return prox_conj(K, a / b, 1.0 / b), 0
    if getattr(K, "euclidean_dual_ball", False):  # K* = indicator of the Euclidean ball (l2)
        return _l2_trust_region(a, B), 0
    s0 = np.asarray(K.grad(a), dtype=float) if s0 is None else np.asarray(s0, dtype=float)
    return _fista(K, a, B, s0, L)


def set_valued_pattern(
    K: KFunction, w: ArrayLike, s: NDArray[np.float64], tiny: float
) -> NDArray[np.bool_]:
    """Boolean (d,): coordinate i takes part in a non-smooth set of K at w = m̃.

    K's own ``nonsmooth_coordinates(w, tiny)`` when it has one — l2, lp: all coordinates when
    ‖w‖∞ ≤ tiny (∂K(0) is the dual ball), none otherwise; linf: the coordinates attaining max|w_i|
    within ``tiny`` when there are ≥ 2 of them (the switching surfaces |w_i| = |w_j|), all when ‖w‖∞
    ≤ tiny; nuclear (through `FlatMatrixK`): all entries when the smallest of the min(a, b) singular
    values of mat(w) is ≤ tiny (∂‖W‖_tr is the singleton UVᵀ exactly when W has full rank
    min(a, b)). A K with a piecewise model of ∇K (``gradient_model``: l1, deadzone, l1_plus_sq,
    verified K): |w_i − kink| ≤ tiny. A differentiable K: none (∂K is a singleton everywhere, even
    where ∇K is not Lipschitz and s and ∇K(w) differ by more than rounding). Otherwise: all
    coordinates when the selection s differs from the single-valued formula ∇K(w) by more than
    1e-8·(1 + ‖s‖∞).
    """
    w = np.asarray(w, dtype=float)
    d = w.size
    if K.differentiable:
        return np.zeros(d, dtype=bool)
    own = getattr(K, "nonsmooth_coordinates", None)  # l2, lp, linf, nuclear (FlatMatrixK)
    if own is not None:
        return np.asarray(own(w, tiny), dtype=bool)
    from .model import piecewise_model

    pw = piecewise_model(K)
    if pw is not None:
        near: NDArray[np.bool_] = np.min(np.abs(w[:, None] - pw.kinks[None, :]), axis=1) <= tiny
        return near
    g = np.asarray(K.grad(w), dtype=float)
    return np.full(d, float(np.max(np.abs(g - s))) > 1e-8 * (1 + float(np.max(np.abs(s)))))


def face_signature(
    K: KFunction, w: ArrayLike, s: NDArray[np.float64], tiny: float
) -> NDArray[np.int64]:
    """Integer (d,): a label of the piece of ∂K that w = m̃ lies on; equal labels at two points
    mean that ∂K is given by the same smooth formula (or the same face of a set-valued ∂K) there.

    Coordinate i is labelled −(2 + j) when it is set-valued (`set_valued_pattern`) at kink j of a
    separable piecewise K (j = 0 for other K), otherwise by its branch: the region index
    #{j : c_j < w_i} (separable piecewise K: l1, deadzone, l1_plus_sq) or sign(w_i) on the
    coordinates attaining max|w| (linf, where ∇K = sign(w_i*)e_{i*}), 0 otherwise (∇K continuous
    off the non-smooth set: l2, lp, nuclear; user K: only the set-valued pattern is seen).
    """
    w = np.asarray(w, dtype=float)
    pat = set_valued_pattern(K, w, s, tiny)
    branch = np.zeros(w.size, dtype=np.int64)
    setv = np.full(w.size, -2, dtype=np.int64)
    own = getattr(K, "face_branch", None)  # linf: sign(w_i) on the coordinates attaining max|w|
    if own is not None:
        branch = np.asarray(own(w, tiny), dtype=np.int64)
    else:
        from .model import piecewise_model

        pw = piecewise_model(K)
        if pw is not None:
            branch = np.asarray(pw.region(w), dtype=np.int64)
            setv = -2 - np.argmin(np.abs(w[:, None] - pw.kinks[None, :]), axis=1)
    return np.where(pat, setv, branch)
