"""What the ODE integrators need to know about K and f beyond the `KFunction` / `Objective` API.

* `PiecewiseGradK` (`core.piecewise`): a separable K whose scalar derivative is
  ``k'(v) = slope·v + level_r`` between consecutive kinks (a jump at each kink).
* `piecewise_model(K)`, `hess_K(K)`: K's own ``gradient_model()`` / ``hessian`` (the
  `problem.KStructure` protocol; l1: kink 0, levels −1, 1; l1_plus_sq: the same, slope 1;
  deadzone: kinks ±e, levels −1, 0, 1), or None.
* `resolve_hessian(objective, hess)`: ∇²f as a callable ``x -> (d, d)``, from the user, the
  objective's ``hess`` method, or central differences of ∇f.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import LionKError
from ..capabilities import KStructure
from ..kfunc import KFunction
from ..piecewise import PiecewiseGradK

__all__ = [
    "Hessian",
    "PiecewiseGradK",
    "piecewise_model",
    "hess_K",
    "resolve_hessian",
    "fd_hessian",
]


def piecewise_model(K: KFunction) -> PiecewiseGradK | None:
    """K's `PiecewiseGradK` (``K.gradient_model()``), or None when K has none."""
    return K.gradient_model() if isinstance(K, KStructure) else None


def hess_K(K: KFunction) -> Callable[[Any], Any] | None:
    """∇²K as ``v -> (d, d)`` (``K.hessian``) when K provides it, else None."""
    if not isinstance(K, KStructure) or K.hessian(np.full(1, 0.5)) is None:
        return None
    return K.hessian


@dataclass(frozen=True)
class Hessian:
    """∇²f as a callable ``x -> (d, d)`` with what the integrators need to know about it:
    ``constant`` (∇²f does not depend on x) and ``finite_difference`` (central differences of ∇f,
    not exact)."""

    fn: Callable[[Any], Any]
    constant: bool = False
    finite_difference: bool = False

    def __call__(self, x: Any) -> Any:
        return self.fn(x)


def fd_hessian(grad: Callable[[Any], Any]) -> Hessian:
    """∇²f by central differences of ∇f, step h_j = ε_mach^{1/3}·max(1, |x_j|), symmetrised.

    Error O(h²) + O(ε_mach/h) ≈ 1e-10 relative for smooth f; costs 2d gradient calls.
    """

    def hess(x: Any) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=np.float64)
        d = x.size
        h = np.cbrt(np.finfo(float).eps) * np.maximum(1.0, np.abs(x))
        pts = np.concatenate([x + np.diag(h), x - np.diag(h)])  # one batched gradient call
        g = np.asarray(grad(pts), dtype=np.float64)
        H = (g[:d] - g[d:]) / (2 * h[:, None])
        return np.asarray(0.5 * (H + H.T), dtype=np.float64)

    return Hessian(hess, finite_difference=True)


def resolve_hessian(objective: Any, hess: Any = None, allow_fd: bool = True) -> Hessian | None:
    """∇²f as ``x -> (d, d)``: ``hess`` if given; ``objective.hess`` (exact: all built-in
    objectives); a constant ``objective.A`` (quadratic); else central differences of
    ``objective.grad`` (if ``allow_fd``) or None. The `Hessian` says ``constant = True`` when
    ∇²f is constant (a matrix ``hess``, or ``objective.hess_constant``)."""
    if hess is not None:
        if not callable(hess):
            A = np.asarray(hess, dtype=float)
            if A.ndim != 2 or A.shape[0] != A.shape[1]:
                raise LionKError(f"hess must be a callable or a square matrix, got shape {A.shape}")
            return Hessian(lambda x: A, constant=True)
        return Hessian(lambda x: np.asarray(hess(np.asarray(x)), dtype=float))
    if callable(getattr(objective, "hess", None)):
        return Hessian(
            lambda x: np.asarray(objective.hess(np.asarray(x)), dtype=float),
            constant=bool(getattr(objective, "hess_constant", False)),
        )
    if allow_fd and hasattr(objective, "grad"):
        return fd_hessian(objective.grad)
    return None
