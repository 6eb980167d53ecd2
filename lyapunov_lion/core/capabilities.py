"""What a K may offer beyond the `KFunction` interface: typed, runtime-checkable capabilities.

Code that needs more of K than ∇K, K* and the metadata asks with ``isinstance(K, Capability)``,
never with K's name or with attributes hung on functions:

* `KStructure` (the ODE integrators, `core.ode.problem`): ``gradient_model()`` → a
  `PiecewiseGradK` (separable K with k'(v) = slope·v + level_r between kinks where ∇K jumps; None
  otherwise) and ``hessian(v)`` → ∇²K(v) as a (d, d) matrix where ∇K is differentiable (None
  where it is not). Every `KFunction` has both (the defaults return None).
* `ProxConj`: ``prox_conj(v, t)`` = argmin_y K*(y)/t + ½‖y − v‖² in closed form.
* `NonsmoothCoordinates`: ``nonsmooth_coordinates(w, tiny)`` → boolean (d,), the coordinates
  taking part in a non-smooth set of K within ``tiny`` of w.
* `ExpressionBacked`: a K built from a verified expression (``lionk verify``): its ``expression``
  (the text of k) and its ``report``.

    >>> from lyapunov_lion.core.catalog import L1, L2
    >>> isinstance(L1(), KStructure), isinstance(L1(), ProxConj), isinstance(L2(), ProxConj)
    (True, True, False)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from .piecewise import PiecewiseGradK

__all__ = ["ExpressionBacked", "KStructure", "NonsmoothCoordinates", "ProxConj"]


@runtime_checkable
class KStructure(Protocol):
    """Optional structure of K for the ODE integrators (see the module doc)."""

    def gradient_model(self) -> PiecewiseGradK | None: ...

    def hessian(self, v: Any) -> NDArray[np.float64] | None: ...


@runtime_checkable
class ProxConj(Protocol):
    """prox_{K*/t}(v) = argmin_y K*(y)/t + ½‖y − v‖² in closed form (l1, deadzone, l1_plus_sq)."""

    def prox_conj(self, v: Any, t: Any) -> NDArray[np.float64]: ...


@runtime_checkable
class NonsmoothCoordinates(Protocol):
    """The coordinates of w in a non-smooth set of K, within ``tiny`` (l2, lp, linf, nuclear)."""

    def nonsmooth_coordinates(self, w: Any, tiny: float) -> NDArray[np.bool_]: ...


@runtime_checkable
class ExpressionBacked(Protocol):
    """A K generated from a verified expression: ``expression`` is the text of k(x)."""

    expression: str
    report: Any
