"""`LionProblem`: what every integrator is given — K, ∇f (f, ∇²f), λ, α, γ, ε — and what it may
ask of K through the optional `KStructure` protocol.

    ṁ = −α∇f(x) − γm,   m̃ = m − ε(α∇f(x) + γm),   ẋ = ∇K(m̃) − λx

`KStructure` (runtime-checkable): a K that knows where its gradient jumps says so by
``gradient_model()`` → a `PiecewiseGradK` (separable K with k'(v) = slope·v + level_r between
kinks; None otherwise) and gives ``hessian(v)`` → ∇²K(v) as a (d, d) matrix where ∇K is
differentiable (None when it is not). Catalog K implement it, a K verified by `lionk verify`
fills it from its report; integrators never look at K's name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import LionKError
from ..capabilities import KStructure
from .model import PiecewiseGradK, fd_hessian, resolve_hessian

__all__ = ["KStructure", "LionProblem", "build_problem", "piecewise_of", "hessian_of"]


def piecewise_of(K: object) -> PiecewiseGradK | None:
    """K's piecewise model of ∇K, when K provides one."""
    return K.gradient_model() if isinstance(K, KStructure) else None


def hessian_of(K: object, v: Any) -> NDArray[np.float64] | None:
    """∇²K(v) when K provides it there, else None."""
    return K.hessian(v) if isinstance(K, KStructure) else None


@dataclass
class LionProblem:
    """The ODE to integrate (d = dim x); ``hess`` is ∇²f as ``x -> (d, d)``, ``hess_exact``
    False for central differences, ``hess_constant`` True when ∇²f does not depend on x;
    ``pw`` K's piecewise model of ∇K (None when K has none)."""

    K: Any
    grad: Callable[[Any], Any]
    f: Callable[[Any], Any] | None
    hess: Callable[[Any], Any]
    hess_exact: bool
    hess_constant: bool
    lam: float
    alpha: float
    gamma: float
    eps: float
    d: int
    pw: PiecewiseGradK | None

    @property
    def affine_grad(self) -> bool:
        """∇f is affine (an exact, constant ∇²f)."""
        return self.hess_constant and self.hess_exact

    def mtilde(self, X: NDArray[np.float64], M: NDArray[np.float64]) -> NDArray[np.float64]:
        """m̃ = m − ε(α∇f(x) + γm) (batch on the leading axis)."""
        G = np.asarray(self.grad(X), dtype=np.float64)
        return M - self.eps * (self.alpha * G + self.gamma * M)

    def field(self, t: float, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """(ẋ, ṁ) with the single-valued formula ∇K(m̃) (plain integration)."""
        d = self.d
        x, m = z[:d], z[d:]
        g = np.asarray(self.grad(x), dtype=np.float64)
        mdot = -self.alpha * g - self.gamma * m
        return np.concatenate([np.asarray(self.K.grad(m + self.eps * mdot)) - self.lam * x, mdot])


def build_problem(
    K: Any,
    objective_or_grad: Any,
    d: int,
    *,
    lam: float,
    alpha: float,
    gamma: float,
    eps: float,
    f: Callable[[Any], Any] | None = None,
    hess: Any = None,
) -> LionProblem:
    """The `LionProblem` for an `Objective` (f, ∇f; ∇²f from ``hess``, the objective, or central
    differences) or a callable ∇f (then ``f`` for H)."""
    if hasattr(objective_or_grad, "grad") and callable(objective_or_grad.grad):
        obj = objective_or_grad
        grad, f = obj.grad, (f if f is not None else obj.f)
        H = resolve_hessian(obj, hess) or fd_hessian(obj.grad)
    elif callable(objective_or_grad):
        grad = objective_or_grad
        H = resolve_hessian(None, hess, allow_fd=False) or fd_hessian(objective_or_grad)
    else:
        raise LionKError("objective_or_grad must be an Objective or a callable ∇f")
    return LionProblem(
        K=K,
        grad=grad,
        f=f,
        hess=H,
        hess_exact=not H.finite_difference,
        hess_constant=H.constant,
        lam=lam,
        alpha=alpha,
        gamma=gamma,
        eps=eps,
        d=d,
        pw=piecewise_of(K),
    )
