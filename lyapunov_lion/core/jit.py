"""Opt-in fused Lion-K step compiled by numba (``backend="numba"``; the ``[jit]`` extra).

Nothing here imports numba until a kernel is asked for: the default path is numpy
(`lyapunov_lion.core.discrete.LionKStepper`) and importing the core never loads numba.

One kernel call runs a whole step in ONE pass over memory, entry by entry (paper convention,
explicit decay; β1, 1 − β1, η, λ, β2, 1 − β2 in x's dtype)::

    m̃ = β1·m − (1 − β1)·g;   x ← x + η·(∇K(m̃) − λ·x);   m ← β2·m − (1 − β2)·g

with every product, sum and ∇K rounded once, in the order of `lion_k_step` (numba compiles
without fast-math, so LLVM neither contracts a product and a sum into an FMA nor reassociates):
the iterates are bit-identical to the numpy path. ∇K is fused only where it is exact on any
machine: sign (K = l1: numpy's ``sign``, 0 for ±0, NaN kept), clip to [−δ, δ] (K = huber,
NaN kept) and the identity (K = sq_l2). tanh (logcosh) is left to numpy: numpy's SIMD tanh and
libm's may differ in the last bit, depending on the CPU.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any, cast

import numpy as np

from ..errors import LionKError
from .kfunc import KFunction

BACKENDS = ("numpy", "numba")
"""Backends of the in-place discrete step: numpy (the default, exact) or numba (opt-in)."""

_Kernel = Callable[..., None]
_KERNELS: dict[tuple[str, bool, bool, bool], _Kernel] = {}


def grad_kind(K: KFunction) -> str | None:
    """The fused ∇K of ``K``: ``"sign"`` (l1), ``"clip"`` (huber), ``"identity"`` (sq_l2),
    or None when the numba step does not cover K."""
    from .catalog import L1, Huber, SqL2

    kinds: dict[type, str] = {L1: "sign", Huber: "clip", SqL2: "identity"}
    return kinds.get(type(K))


def numba_available() -> bool:
    """Whether numba can be imported (installed by ``pip install lyapunov_lion[jit]``)."""
    return importlib.util.find_spec("numba") is not None


def check_backend(backend: str, K: KFunction | None = None) -> None:
    """`LionKError` (one line) for an unknown backend, numba missing, or a K it does not fuse."""
    if backend not in BACKENDS:
        raise LionKError(f"backend={backend!r}: choose one of {', '.join(BACKENDS)}")
    if backend == "numpy":
        return
    if not numba_available():
        raise LionKError(
            "backend='numba' needs numba: pip install 'lyapunov_lion[jit]' (or use the "
            "default backend numpy)"
        )
    if K is not None and grad_kind(K) is None:
        raise LionKError(
            f"backend='numba' fuses ∇K for K = l1, huber, sq_l2 only, not {K.name}; "
            "use the default backend numpy"
        )


def kernel(kind: str, library: bool, implicit: bool, keep_m_tilde: bool) -> _Kernel:
    """The compiled step ``f(x, m, g, mt, P, lo, hi, one, zero)`` for one ∇K and convention.

    ``x, m, g, mt``: 2-D (rows, n) C-contiguous views of the state, the gradient and the
    look-ahead buffer (written only when ``keep_m_tilde``); ``P``: (1 or rows, 7) hyper-
    parameters (β1, 1 − β1, η, λ, β2, 1 − β2, 1 + ηλ) per row; ``lo, hi``: the clip bounds;
    ``one, zero``: 1 and 0 in x's dtype (so float32 stays float32). Compiled on first use
    for each dtype (`compile_seconds` measures it)."""
    key = (kind, library, implicit, keep_m_tilde)
    if key not in _KERNELS:
        _KERNELS[key] = _build(*key)
    return _KERNELS[key]


def _build(kind: str, library: bool, implicit: bool, keep_m_tilde: bool) -> _Kernel:
    """Compile-time constants (closure variables) select the branches: numba freezes them, so
    each variant is one straight loop that LLVM vectorises."""
    import numba

    sign, clip = kind == "sign", kind == "clip"

    def step(
        x: Any, m: Any, g: Any, mt_out: Any, P: Any, lo: Any, hi: Any, one: Any, zero: Any
    ) -> None:
        rows, n = x.shape
        for r in range(rows):
            p = P[r] if P.shape[0] > 1 else P[0]
            b1, c1, lr, lam, b2, c2, den = p[0], p[1], p[2], p[3], p[4], p[5], p[6]
            xr, mr, gr = x[r], m[r], g[r]
            for i in range(n):
                mi, gi, xi = mr[i], gr[i], xr[i]
                t1 = mi * b1
                t2 = gi * c1
                mt = t1 + t2 if library else t1 - t2
                if keep_m_tilde:
                    mt_out[r, i] = mt
                if sign:  # numpy's sign: ±1, 0 for ±0, NaN kept
                    u = one if mt > zero else (-one if mt < zero else (zero if mt == zero else mt))
                elif clip:  # numpy's clip: NaN kept, ±0 kept
                    u = lo if mt < lo else (hi if mt > hi else mt)
                else:
                    u = mt
                if implicit:
                    s = u * lr
                    xi = (xi - s if library else xi + s) / den
                elif library:
                    s = xi * lam
                    s = u + s
                    s = s * lr
                    xi = xi - s
                else:
                    s = xi * lam
                    s = u - s
                    s = s * lr
                    xi = xi + s
                xr[i] = xi
                t1 = mi * b2
                t2 = gi * c2
                mr[i] = t1 + t2 if library else t1 - t2

    return cast(_Kernel, numba.njit(nogil=True, fastmath=False, boundscheck=False)(step))


def clip_bounds(K: KFunction, dtype: np.dtype[Any]) -> tuple[Any, Any]:
    """(lo, hi) of the fused clip in ``dtype`` (−δ, δ for huber; unused ±1 otherwise), cast as
    numpy casts the Python floats of ``np.clip(v, -δ, δ, out=v)``."""
    delta = float(getattr(K, "delta", 1.0))
    return dtype.type(-delta), dtype.type(delta)


def compile_seconds(kind: str, dtype: str, library: bool = False, implicit: bool = False) -> float:
    """Seconds to compile (and run once on 4 entries) the kernel for ``kind`` and ``dtype``
    in this process (0 if it was compiled before): the one-off cost of ``backend="numba"``."""
    import time

    dt = np.dtype(dtype)
    t0 = time.perf_counter()
    f = kernel(kind, library, implicit, False)
    z = np.zeros((1, 4), dtype=dt)
    P = np.ones((1, 7), dtype=dt)
    f(z, z.copy(), z.copy(), z, P, dt.type(-1), dt.type(1), dt.type(1), dt.type(0))
    return time.perf_counter() - t0
