"""The coefficient map between discrete Lion-K (spec §2) and its ODE (spec §3).

With step η and time t = k·η, one explicit-decay discrete step equals η times the ODE's vector
field at the current state (exactly, not to first order)::

    α = γ = (1 − β2)/η,   ε = η(1 − β1)/(1 − β2)   (so εγ = 1 − β1)

because m_{k+1} − m_k = −(1−β2)(g + m) = η(−αg − γm), m̃_{k+1} = β1 m − (1−β1)g = m − ε(αg + γm)
and x_{k+1} − x_k = η(∇K(m̃_{k+1}) − λx_k). The inverse needs α = γ (the discrete scheme has one
EMA rate for m): β2 = 1 − αη, β1 = 1 − εγ.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ...errors import LionKError

__all__ = ["continuous_from_discrete", "discrete_from_continuous"]


def _finite(name: str, v: Any) -> NDArray[np.float64]:
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise LionKError(f"{name}={v!r} is not a number") from None
    if not np.all(np.isfinite(a)):
        raise LionKError(f"{name}={v!r} must be finite")
    return a


def continuous_from_discrete(lr: Any, beta1: Any, beta2: Any) -> dict[str, Any]:
    """(η, β1, β2) → {alpha, gamma, eps}: α = γ = (1 − β2)/η, ε = η(1 − β1)/(1 − β2).

    Needs η > 0, 0 ≤ β1 ≤ 1 and 0 ≤ β2 < 1. Arrays broadcast (one value per run).

    >>> c = continuous_from_discrete(0.01, 0.9, 0.99)  # Lion's defaults at η = 0.01
    >>> round(c["alpha"], 12), round(c["gamma"], 12), round(c["eps"], 12)
    (1.0, 1.0, 0.1)
    """
    lr, b1, b2 = _finite("lr", lr), _finite("beta1", beta1), _finite("beta2", beta2)
    if np.any(lr <= 0):
        raise LionKError(f"lr={lr!r}: the learning rate must be > 0")
    if np.any((b1 < 0) | (b1 > 1)):
        raise LionKError(f"beta1={beta1!r} must lie in [0, 1]")
    if np.any((b2 < 0) | (b2 >= 1)):
        raise LionKError(f"beta2={beta2!r} must lie in [0, 1) (β2 = 1 gives α = γ = 0)")
    alpha = (1 - b2) / lr
    eps = lr * (1 - b1) / (1 - b2)
    out = {"alpha": alpha, "gamma": alpha.copy(), "eps": eps}
    return {k: (float(v) if v.ndim == 0 else v) for k, v in out.items()}


def discrete_from_continuous(alpha: Any, gamma: Any, eps: Any, lr: Any) -> dict[str, Any]:
    """(α, γ, ε, η) → {lr, beta1, beta2}: β2 = 1 − αη, β1 = 1 − εγ.

    Requires α = γ (relative tolerance 1e-12: the discrete scheme has a single momentum rate), and
    the result to be a valid discrete scheme: 0 ≤ β1 ≤ 1 (εγ ≤ 1) and 0 ≤ β2 < 1 (αη ≤ 1).

    >>> discrete_from_continuous(1.0, 1.0, 0.1, 0.01)
    {'lr': 0.01, 'beta1': 0.9, 'beta2': 0.99}
    """
    a, g, e, lr = (
        _finite(n, v) for n, v in (("alpha", alpha), ("gamma", gamma), ("eps", eps), ("lr", lr))
    )
    if np.any(lr <= 0) or np.any(a <= 0) or np.any(e < 0):
        raise LionKError("need lr > 0, alpha = gamma > 0 and eps ≥ 0")
    if not np.allclose(a, g, rtol=1e-12, atol=0):
        raise LionKError(
            f"alpha={alpha!r} ≠ gamma={gamma!r}: the discrete scheme matches the ODE "
            "only when α = γ (one EMA rate 1 − β2 = αη drives both terms of ṁ)"
        )
    b2, b1 = 1 - a * lr, 1 - e * g
    if np.any(b2 < 0):
        raise LionKError(f"alpha*lr = {a * lr!r} > 1 gives beta2 < 0: use a smaller lr")
    if np.any((b1 < 0) | (b1 > 1)):
        raise LionKError(
            f"eps*gamma = {e * g!r} outside [0, 1] gives beta1 = 1 − εγ outside [0, 1]"
        )
    out = {"lr": lr, "beta1": b1, "beta2": b2}
    return {k: (float(v) if v.ndim == 0 else v) for k, v in out.items()}
