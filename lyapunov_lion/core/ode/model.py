"""What the ODE integrators need to know about K and f beyond the `KFunction` / `Objective` API.

* `PiecewiseGradK`: a separable K whose scalar derivative is ``k'(v) = slope·v + level_r`` on the
  open interval r between consecutive kinks ``c_0 < c_1 < ...`` (a jump at each kink). At a kink
  c_j the subdifferential is ``[level_j, level_{j+1}] + slope·c_j``. Covered: ``l1`` (kink 0,
  levels −1, 1), ``l1_plus_sq`` (same, slope 1), ``deadzone`` (kinks ±e, levels −1, 0, 1).
* `hess_K(K)`: ∇²K(v) for the smooth catalog K (a diagonal for separable K), or None.
* `resolve_hessian(objective, hess)`: ∇²f as a callable ``x -> (d, d)``, from the user, the
  objective (a ``hess`` method or a constant matrix ``A``), or central differences of ∇f.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ...errors import LionKError
from ..kfunc import KFunction

__all__ = ["PiecewiseGradK", "piecewise_model", "hess_K", "resolve_hessian", "fd_hessian"]


@dataclass(frozen=True)
class PiecewiseGradK:
    """k'(v) = slope·v + levels[r] for v in region r = #{j : c_j < v}; kinks c_0 < c_1 < ..."""

    kinks: np.ndarray
    levels: np.ndarray
    slope: float = 0.0

    def region(self, v):
        """Region index of each v (a value exactly on a kink counts in the region below it)."""
        return np.searchsorted(self.kinks, np.asarray(v), side="left")

    def branch(self, v, r):
        """The smooth branch of region r, extended past its ends: slope·v + levels[r]."""
        return self.slope * np.asarray(v) + self.levels[np.asarray(r)]

    def interval(self, j):
        """The subdifferential at kink j: (lo, hi) = (levels[j], levels[j+1]) + slope·c_j."""
        j = np.asarray(j)
        s = self.slope * self.kinks[j]
        return self.levels[j] + s, self.levels[j + 1] + s


def piecewise_model(K: KFunction) -> PiecewiseGradK | None:
    """The `PiecewiseGradK` description of K, or None when K is not one of the covered ones."""
    name = getattr(K, "name", "")
    if name == "l1":
        return PiecewiseGradK(np.array([0.0]), np.array([-1.0, 1.0]))
    if name == "l1_plus_sq":
        return PiecewiseGradK(np.array([0.0]), np.array([-1.0, 1.0]), 1.0)
    if name == "deadzone":
        e = float(K.e)
        if e == 0:
            return PiecewiseGradK(np.array([0.0]), np.array([-1.0, 1.0]))
        return PiecewiseGradK(np.array([-e, e]), np.array([-1.0, 0.0, 1.0]))
    return None


def hess_K(K: KFunction) -> Callable | None:
    """∇²K as ``v -> (d, d)`` for the smooth catalog K; None when not available.

    sq_l2: I; huber: diag(1{|v| < δ}) (∇K is Lipschitz, ∇²K jumps: an a.e. derivative);
    relativistic: diag((1+v²)^{-3/2}); logcosh: diag(1 − tanh²v); power_p with p ≥ 2:
    diag((p−1)|v|^{p−2}) (unbounded at 0 for p < 2: None); logsumexp: diag(s) − s sᵀ, s = softmax.
    """
    name = getattr(K, "name", "")
    diag = {
        "sq_l2": lambda v: np.ones_like(v),
        "huber": lambda v: (np.abs(v) < K.delta).astype(float),
        "relativistic": lambda v: (1 + v * v) ** -1.5,
        "logcosh": lambda v: 1 - np.tanh(v) ** 2,
    }
    if name == "power_p" and K.p >= 2:
        diag["power_p"] = lambda v: (K.p - 1) * np.abs(v) ** (K.p - 2)
    if name in diag:
        fn = diag[name]
        return lambda v: np.diag(fn(np.asarray(v, dtype=float)))
    if name == "logsumexp":
        def h(v):
            s = np.asarray(K.grad(np.asarray(v, dtype=float)))
            return np.diag(s) - np.outer(s, s)
        return h
    return None


def fd_hessian(grad: Callable) -> Callable:
    """∇²f by central differences of ∇f, step h_j = ε_mach^{1/3}·max(1, |x_j|), symmetrised.

    Error O(h²) + O(ε_mach/h) ≈ 1e-10 relative for smooth f; costs 2d gradient calls.
    """
    def hess(x):
        x = np.asarray(x, dtype=float)
        d = x.size
        h = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
        pts = np.concatenate([x + np.diag(h), x - np.diag(h)])  # one batched gradient call
        g = np.asarray(grad(pts), dtype=float)
        H = (g[:d] - g[d:]) / (2 * h[:, None])
        return 0.5 * (H + H.T)
    hess.finite_difference = True
    return hess


def resolve_hessian(objective, hess=None, allow_fd: bool = True) -> Callable | None:
    """∇²f as ``x -> (d, d)``: ``hess`` if given; ``objective.hess`` (exact: all built-in
    objectives); a constant ``objective.A`` (quadratic); else central differences of
    ``objective.grad`` (if ``allow_fd``) or None. The callable carries ``constant = True`` when
    ∇²f is constant (a matrix ``hess``, or ``objective.hess_constant``)."""
    if hess is not None:
        if not callable(hess):
            A = np.asarray(hess, dtype=float)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise LionKError(f"hess must be a callable or a square matrix, got shape {A.shape}")
            fn = lambda x: A  # noqa: E731
            fn.constant = True
            return fn
        return lambda x: np.asarray(hess(np.asarray(x)), dtype=float)
    if callable(getattr(objective, "hess", None)):
        fn = lambda x: np.asarray(objective.hess(np.asarray(x)), dtype=float)  # noqa: E731
        fn.constant = bool(getattr(objective, "hess_constant", False))
        return fn
    A = getattr(objective, "A", None)
    if A is not None and type(objective).__name__ == "Quadratic":
        A = np.asarray(A, dtype=float)
        fn = lambda x: A  # noqa: E731
        fn.constant = True
        return fn
    if allow_fd and hasattr(objective, "grad"):
        return fd_hessian(objective.grad)
    return None
