"""Parameter groups that give every K the step size of Lion: K ← s·K per tensor.

Different K take steps of very different sizes: Lion's sign(c) moves every entry by η, while
K = ‖x‖_p has ‖∇K‖_q = 1, so at p = 2 a tensor of n entries moves by η in total (η/√n per
entry). Comparing K at one learning rate then compares step sizes, not directions. Here each
tensor x of n entries gets K_s = s·K with s chosen so that a *flat* momentum (all |c_i| equal,
full rank) gives an update of Frobenius norm √n, as Lion's sign step::

    l1 and other separable K   s = 1 / sup|k'|   (1 for l1, logcosh; 1/δ for huber: clip(c/δ, ±1))
    lp (vector K, flattened)   s = n^{1 − 1/p}   (a flat c gives ∇K_s = sign(c))
    nuclear on an m×k matrix   s = √max(m, k)    (‖U Vᵀ‖_F = √min(m, k))

Lion-K with K_s, step η and decay λ is exactly Lion-K with K, step sη and decay λ/s
(x ← x(1 − ηλ) − ηs∇K(c)), so it is implemented as one parameter group per tensor with
``lr = s·η`` and ``weight_decay = λ/s``: the optimizer and the monitor need no change, the decay
rate ηλ is the same for every K, and the constraint of a tensor is K's set with radius s/λ (for
lp: (mean |x_i|^q)^{1/q} ≤ 1/λ, which tends to Lion's box as p → 1).

``nuclear`` is applied as Muon applies its map: to tensors with two or more dimensions (a conv
kernel is the matrix (out, in·kh·kw)); vectors (biases, LayerNorm) get ``vector_K`` (Lion).
"""

from __future__ import annotations

import math
from typing import Any

from ..core.catalog import Lp, Nuclear
from ..core.kfunc import NormBallK, SeparableK
from ..errors import LionKError
from .rules import K_from_spec


def lion_scale(K: Any, shape: tuple[int, ...]) -> float:
    """The factor s of the module docstring for K on a tensor of ``shape``."""
    n = math.prod(shape) if shape else 1
    if isinstance(K, Nuclear):
        m, k = as_matrix_shape(shape)
        return math.sqrt(max(m, k))
    if isinstance(K, SeparableK):
        _, hi = K.dom_bounds()
        if not (math.isfinite(hi) and hi > 0):
            raise LionKError(f"K={K.name}: k' is unbounded, no Lion-matched scale exists")
        return 1.0 / hi
    if isinstance(K, NormBallK):  # l2, lp, linf: ‖∇K‖_dual = 1
        p = 2.0 if K.name == "l2" else K.param_values["p"] if isinstance(K, Lp) else math.inf
        return float(n ** (1 - 1 / p))
    raise LionKError(f"K={K.name}: no Lion-matched scale is defined for it")


def as_matrix_shape(shape: tuple[int, ...]) -> tuple[int, int]:
    """(rows, cols) of the matrix nuclear sees (`rules.as_matrix`) for a tensor of ``shape``."""
    if not shape:
        return 1, 1
    return shape[0], math.prod(shape[1:])


def lion_scaled_groups(
    named_params: Any, K: Any, lr: float, weight_decay: float, vector_K: Any = "l1"
) -> list[dict[str, Any]]:
    """One group per tensor: ``{"params": [p], "K", "lr": s·lr, "weight_decay": λ/s, "name",
    "scale": s}`` (module docstring). ``named_params``: ``model.named_parameters()``."""
    K = K_from_spec(K)
    groups = []
    for name, p in named_params:
        Kt = K_from_spec(vector_K) if isinstance(K, Nuclear) and p.ndim < 2 else K
        s = lion_scale(Kt, tuple(p.shape))
        groups.append(
            {
                "params": [p],
                "K": Kt,
                "lr": lr * s,
                "weight_decay": weight_decay / s,
                "name": name,
                "scale": s,
            }
        )
    return groups


__all__ = ["as_matrix_shape", "lion_scale", "lion_scaled_groups"]
