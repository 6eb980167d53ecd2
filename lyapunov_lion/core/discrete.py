"""Discrete Lion-K (spec §2): one pure step function per convention, and a batched runner.

Paper convention (momentum accumulates −∇f, the update adds ∇K)::

    m̃_{t+1} = β1 m_t − (1 − β1) g_t
    x_{t+1} = x_t + η (∇K(m̃_{t+1}) − λ x_t)          (explicit decay)
            = (x_t + η ∇K(m̃_{t+1})) / (1 + ηλ)       (implicit decay)
    m_{t+1} = β2 m_t − (1 − β2) g_t

Library convention (google/automl, lion-pytorch, optax, Keras; m_lib = −m)::

    c = β1 m + (1 − β1) g;   x ← x − η(∇K(c) + λx);   m ← β2 m + (1 − β2) g

For an even K (odd ∇K) both produce bit-identical iterates; for a K that is not even (logsumexp)
the library convention is Lion-K with K(−·). ``lam`` is the canonical decoupled weight decay
(multiplied by the learning rate, applied to the old x), whose fixed-point set is
``(1/λ)·dom K*`` — e.g. the box ‖x‖_∞ ≤ 1/λ for Lion.

Every step function is written against the input's array namespace (numpy, torch, ...), so it runs
on any array-API backend; all hyper-parameters broadcast against the batch axes of ``x``.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import LionKError
from .jit import check_backend, clip_bounds, grad_kind
from .jit import kernel as jit_kernel
from .kfunc import KFunction
from .xp import Array, FloatArray, Namespace, array_namespace

DECAYS = ("explicit", "implicit")
CONVENTIONS = ("paper", "library")


def lion_k_step(
    K: KFunction,
    x: Array,
    m: Array,
    g: Array,
    lr: Array,
    beta1: Array,
    beta2: Array,
    lam: Array,
    decay: str = "explicit",
) -> tuple[Array, Array, Array]:
    """One paper-convention Lion-K step; returns ``(x_next, m_next, m_tilde)``.

    ``m_tilde`` = β1 m − (1 − β1) g is the look-ahead at which ∇K was evaluated.
    """
    m_tilde = beta1 * m - (1 - beta1) * g
    u = K.grad(m_tilde)
    x_next = x + lr * (u - lam * x) if decay == "explicit" else (x + lr * u) / (1 + lr * lam)
    m_next = beta2 * m - (1 - beta2) * g
    return x_next, m_next, m_tilde


def lion_k_step_library(
    K: KFunction,
    x: Array,
    m_lib: Array,
    g: Array,
    lr: Array,
    beta1: Array,
    beta2: Array,
    lam: Array,
    decay: str = "explicit",
) -> tuple[Array, Array, Array]:
    """One library-convention step (EMA of +g, subtract ∇K); returns ``(x_next, m_lib_next, c)``."""
    c = beta1 * m_lib + (1 - beta1) * g
    u = K.grad(c)
    x_next = x - lr * (u + lam * x) if decay == "explicit" else (x - lr * u) / (1 + lr * lam)
    m_next = beta2 * m_lib + (1 - beta2) * g
    return x_next, m_next, c


@dataclass
class LionKConfig:
    """Hyper-parameters of a discrete run. Scalars, or arrays over the batch (one value per run)."""

    lr: Any = 1e-3
    beta1: Any = 0.9
    beta2: Any = 0.99
    lam: Any = 0.0
    decay: str = "explicit"
    convention: str = "paper"

    def validate(self) -> None:
        """Raise `LionKError` for values outside the algorithm's domain."""
        rules: dict[str, tuple[Callable[[NDArray[np.float64]], NDArray[np.bool_]], str]] = {
            "lr": (lambda a: a > 0, "the learning rate must be > 0"),
            "beta1": (lambda a: (a >= 0) & (a < 1), "beta1 must lie in [0, 1)"),
            "beta2": (lambda a: (a >= 0) & (a < 1), "beta2 must lie in [0, 1)"),
            "lam": (lambda a: a >= 0, "the weight decay lam must be ≥ 0"),
        }
        for name, (ok, msg) in rules.items():
            value = getattr(self, name)
            try:
                arr = np.asarray(value, dtype=float)
            except (TypeError, ValueError):
                raise LionKError(f"{name}={value!r}: not a number or an array of numbers") from None
            if not np.all(np.isfinite(arr)) or not np.all(ok(arr)):
                raise LionKError(f"{name}={value!r}: {msg}")
        if self.decay not in DECAYS:
            raise LionKError(f"decay={self.decay!r}: choose one of {', '.join(DECAYS)}")
        if self.convention not in CONVENTIONS:
            raise LionKError(
                f"convention={self.convention!r}: choose one of {', '.join(CONVENTIONS)}"
            )


@dataclass
class DiscreteResult:
    """A discrete Lion-K trajectory, in the spirit of scipy's ``OdeResult``.

    Arrays are stacked on a leading time axis. ``x[k]``, ``m[k]`` are the state after
    ``steps_saved[k]`` steps (paper convention: m accumulates −∇f whatever the run's convention);
    ``m_tilde[t]`` = m̃_{t+1}, the look-ahead used by step t (only when every step is saved).
    ``status``: 0 finished, -1 non-finite values, -2 diverged; ``failed_step`` is where it
    happened.
    """

    x: Any
    m: Any
    m_tilde: Any | None
    steps_saved: np.ndarray
    config: LionKConfig
    K: KFunction
    status: int = 0
    message: str = "finished"
    failed_step: int | None = None
    nfev: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status == 0


def _as_param(value: ArrayLike, x: Array, K: KFunction) -> Array:
    """A hyper-parameter as a scalar or an array shaped (batch..., 1[, 1]) in x's dtype."""
    xp = array_namespace(x)
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return xp.asarray(float(arr), dtype=x.dtype)
    batch_ndim = x.ndim - K.event_ndim
    if arr.ndim > batch_ndim:
        raise LionKError(
            f"a hyper-parameter array of shape {arr.shape} has more axes than the "
            f"batch of x {tuple(x.shape[:batch_ndim])}"
        )
    return xp.asarray(arr.reshape(arr.shape + (1,) * K.event_ndim), dtype=x.dtype)


BLOCK_BYTES = 1 << 18
"""Bytes per array in one block of the in-place numpy step. The x, m, g blocks and three scratch
blocks (1.5 MiB) stay in the L2/L3 caches while a block's ~11 ufuncs run over them, so a step
moves x, m, g through DRAM about once; 256 KiB was the fastest of 64 KiB … 8 MiB at d = 10⁶
(1 MiB L2, 32 MiB L3): smaller blocks pay numpy's per-call overhead more often."""


def _fused_grad(K: KFunction) -> Callable[[FloatArray, FloatArray], object] | None:
    """``kernel(v, out)`` writing ∇K(v) into ``out`` with the one numpy ufunc that ``K.grad``
    applies (so the same numbers), for the catalog K whose ∇K is one ufunc; None otherwise."""
    from .catalog import L1, Huber, LogCosh

    if type(K) is L1:
        return lambda v, out: np.sign(v, out=out)
    if type(K) is Huber:
        lo, hi = -K.delta, K.delta
        return lambda v, out: np.clip(v, lo, hi, out=out)
    if type(K) is LogCosh:
        return lambda v, out: np.tanh(v, out=out)
    return None


def _identity_grad(K: KFunction) -> bool:
    """True for K = ½‖x‖² (∇K is the identity: ∇K(m̃) is m̃ itself, no copy)."""
    from .catalog import SqL2

    return type(K) is SqL2


def _step_constants(p: dict[str, Array]) -> tuple[Array, ...]:
    """(β1, 1 − β1, η, λ, β2, 1 − β2, 1 + ηλ) from the hyper-parameters ``p`` (x's dtype), each
    rounded once as `lion_k_step` rounds them."""
    return (
        p["beta1"],
        1 - p["beta1"],
        p["lr"],
        p["lam"],
        p["beta2"],
        1 - p["beta2"],
        1 + p["lr"] * p["lam"],
    )


_EXPAND_MAX = 1 << 20
"""Arrays up to this many entries get per-run hyper-parameters broadcast to their full shape."""


_Block: TypeAlias = tuple[
    slice, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, tuple[Array, ...]
]
"""One block of `LionKStepper`: (cut, x, m, m̃, scratch, ∇K buffer, hyper-parameters)."""


class LionKStepper:
    """Discrete Lion-K on numpy arrays in place: preallocated state, cache-sized blocks.

    ``step(g)`` advances the state ``x``, ``m`` (``m`` is m_lib = −m in the library convention)
    by one step with gradient ``g``. Each block of ``BLOCK_BYTES`` per array runs the operations
    of `lion_k_step` / `lion_k_step_library` in their order, every product, sum and ∇K rounded
    once as there (paper convention, explicit decay)::

        m̃ ← β1·m;  s ← (1 − β1)·g;  m̃ ← m̃ − s;  u ← ∇K(m̃);
        s ← λ·x;   s ← u − s;  s ← η·s;  x ← x + s;  m ← β2·m;  s ← (1 − β2)·g;  m ← m − s

    so the iterates are bit-identical to the pure step functions (elementwise operations do not
    depend on how the array is cut into blocks), while the temporaries stay in cache and DRAM
    sees about 5 passes per step (read x, m, g; write x, m). ∇K is one in-place ufunc for l1
    (sign), huber (clip), logcosh (tanh), none for sq_l2 (identity); other separable K call
    ``K.grad`` per block, other K per block of whole rows (batch entries).
    ``keep_m_tilde``: keep the look-ahead m̃ of the last step in ``m_tilde`` (full array).
    ``backend="numba"`` (opt-in, K = l1, huber, sq_l2): the same operations per entry as ONE
    compiled loop (`lyapunov_lion.core.jit`), one pass over memory per step, same iterates.
    Use `eligible` first: numpy floating arrays whose ∇K keeps shape and dtype.
    """

    def __init__(
        self,
        K: KFunction,
        x0: ArrayLike,
        m0: ArrayLike | None = None,
        *,
        config: LionKConfig,
        keep_m_tilde: bool = False,
        block_bytes: int = BLOCK_BYTES,
        backend: str = "numpy",
    ) -> None:
        check_backend(backend, K)
        self.K = K
        self.backend = backend
        self._x: FloatArray = np.array(x0, order="C", copy=True)
        dt = self._x.dtype
        self.library = config.convention == "library"
        self.implicit = config.decay == "implicit"
        m = np.zeros_like(self._x) if m0 is None else np.array(m0, dtype=dt, order="C", copy=True)
        self._m = np.negative(m, out=m) if self.library else m
        p = {k: _as_param(getattr(config, k), self._x, K) for k in ("lr", "beta1", "beta2", "lam")}
        self.keep_m_tilde = keep_m_tilde
        self._m_tilde: FloatArray | None = np.empty_like(self._x) if keep_m_tilde else None
        self._kernel = _fused_grad(K)
        self._identity = _identity_grad(K)
        self._small = False
        if backend == "numba":
            self._setup_jit(p)
            return

        if any(v.ndim for v in p.values()) and self._x.size <= _EXPAND_MAX:
            # per-run values broadcast once to x's shape: a ufunc over contiguous operands runs
            # ~4× faster than one broadcasting a (n, 1) column over short rows
            p = {k: np.ascontiguousarray(np.broadcast_to(v, self._x.shape)) for k, v in p.items()}
        consts = _step_constants(p)

        event = self._x.shape[self._x.ndim - K.event_ndim :]
        n_event = max(int(np.prod(event, dtype=np.int64)), 1)
        rows = self._x.size // n_event
        per_block = max(1, block_bytes // dt.itemsize)
        elementwise = self._kernel is not None or self._identity or getattr(K, "separable", False)
        full = [np.ndim(c) == 0 or np.shape(c) == self._x.shape for c in consts]
        self._small = self._x.size <= per_block
        if self._small:
            self._setup_small(consts)
            return
        if elementwise and all(full):
            self._view: tuple[int, ...] = (self._x.size,)
            flat = [c if np.ndim(c) == 0 else c.reshape(-1) for c in consts]
            cuts = [
                (
                    slice(i, i + per_block),
                    [c if np.ndim(c) == 0 else c[i : i + per_block] for c in flat],
                )
                for i in range(0, self._x.size, per_block)
            ]
        else:  # blocks of whole rows; per-run hyper-parameters cut with them
            self._view = (rows,) + tuple(event)
            batch = self._x.shape[: self._x.ndim - K.event_ndim]
            ones = (1,) * K.event_ndim
            shaped = [
                c
                if np.ndim(c) == 0
                else c.reshape(self._view)
                if np.shape(c) == self._x.shape
                else np.ascontiguousarray(np.broadcast_to(c, batch + ones)).reshape((rows,) + ones)
                for c in consts
            ]
            step_rows = max(1, per_block // n_event)
            cuts = [
                (
                    slice(i, i + step_rows),
                    [c if np.ndim(c) == 0 else c[i : i + step_rows] for c in shaped],
                )
                for i in range(0, rows, step_rows)
            ]
        xv, mv = self._x.reshape(self._view), self._m.reshape(self._view)
        mtv = None if self._m_tilde is None else self._m_tilde.reshape(self._view)
        biggest = max(xv[c].size for c, _ in cuts)
        scratch = [np.empty(biggest, dtype=dt) for _ in range(3)]
        self._blocks: list[_Block] = []
        for cut, block_consts in cuts:
            xb = xv[cut]
            s1, s2, s3 = (a[: xb.size].reshape(xb.shape) for a in scratch)
            mt = s1 if mtv is None else mtv[cut]
            u = mt if self._identity else s3  # not in place: numpy's sign(v, out=v) is ~10× slower
            self._blocks.append((cut, xb, mv[cut], mt, s2, u, tuple(block_consts)))

    def _setup_jit(self, p: dict[str, Array]) -> None:
        """``backend="numba"``: one compiled pass per step (`lyapunov_lion.core.jit`) over 2-D
        views (rows, n): one row when every hyper-parameter is a scalar, else one row per run
        with its own (β1, 1 − β1, η, λ, β2, 1 − β2, 1 + ηλ) in ``P``."""
        x, K = self._x, self.K
        consts = _step_constants(p)
        batch = x.shape[: x.ndim - K.event_ndim]
        rows = int(np.prod(batch, dtype=np.int64)) if any(np.ndim(c) for c in consts) else 1
        self._view = (rows, x.size // rows)
        ones = (1,) * K.event_ndim
        self._P = np.stack(
            [np.broadcast_to(np.asarray(c), batch + ones).reshape(-1)[:rows] for c in consts],
            axis=1,
        ).astype(x.dtype)
        kind = grad_kind(K)
        assert kind is not None  # check_backend refused the others
        self._jit = jit_kernel(kind, self.library, self.implicit, self.keep_m_tilde)
        self._jit_view = (
            x.reshape(self._view),
            self._m.reshape(self._view),
            np.empty((1, 1), dtype=x.dtype)
            if self._m_tilde is None
            else self._m_tilde.reshape(self._view),
        )
        dt = x.dtype
        self._jit_consts = (*clip_bounds(K, dt), dt.type(1), dt.type(0))

    def _setup_small(self, consts: tuple[Array, ...]) -> None:
        """One block (the whole state is smaller than a block): m̃ and the new m come from ONE
        product β·m, ONE product (1 − β)·g and ONE difference over a stacked pair (β1, β2),
        (1 − β1, 1 − β2) — the same scalar operations in 3 numpy calls instead of 6 (small
        arrays are dispatch-bound). The pair lives in two buffers used in turn (no overlap)."""
        b1, c1, lr, lam, b2, c2, den = consts
        x, dt = self._x, self._x.dtype

        def pair(a: Array, b: Array) -> FloatArray:
            if np.ndim(a) == 0:
                return np.array([a, b], dtype=dt).reshape((2,) + (1,) * x.ndim)
            return np.stack([a, b])

        self._B, self._C, self._consts = pair(b1, b2), pair(c1, c2), (lr, lam, den)
        bufs = [np.zeros((3,) + x.shape, dtype=dt) for _ in range(2)]  # (m̃, m, x), in turn
        bufs[0][1], bufs[0][2] = self._m, x
        self._packs = [(z, z[:2], z[0], z[1], z[2]) for z in bufs]
        self._R, self._S, self._U = (
            np.empty((2,) + x.shape, dtype=dt),
            np.empty_like(x),
            np.empty_like(x),
        )

    @property
    def x(self) -> FloatArray:
        """The parameters."""
        return self._packs[0][4] if self._small else self._x

    @property
    def m(self) -> FloatArray:
        """The momentum state (m_lib = −m in the library convention)."""
        return self._packs[0][3] if self._small else self._m

    @property
    def m_tilde(self) -> FloatArray | None:
        """The look-ahead of the last step (None when not kept)."""
        return self._packs[0][2] if self._small else self._m_tilde

    @property
    def packed(self) -> FloatArray | None:
        """One-block states only: the contiguous (m̃, m, x) of the last step, shape ``(3, *x.shape)``
        (saved with one copy)."""
        return self._packs[0][0] if self._small else None

    @staticmethod
    def eligible(K: KFunction, x0: Array, m0: Array | None, config: LionKConfig) -> bool:
        """True when the in-place path applies: numpy floating x0 (m0 of the same shape and
        dtype, or None) and a ∇K that returns arrays of the input's shape and dtype."""
        if type(x0) is not np.ndarray or not np.issubdtype(x0.dtype, np.floating):
            return False
        if x0.ndim < K.event_ndim or x0.size == 0:
            return False
        if m0 is not None and (
            type(m0) is not np.ndarray or m0.dtype != x0.dtype or m0.shape != x0.shape
        ):
            return False
        if _fused_grad(K) is not None or _identity_grad(K):
            return True
        probe = np.zeros(x0.shape[x0.ndim - K.event_ndim :], dtype=x0.dtype)
        try:
            u = K.grad(probe)
        except Exception:  # noqa: BLE001 - let the generic path raise the real error
            return False
        return type(u) is np.ndarray and u.dtype == x0.dtype and u.shape == probe.shape

    trusted: FloatArray | None = None
    """A gradient buffer known to be contiguous, of x's shape and dtype and apart from the state
    (run_discrete's ``out=`` buffer): `step` skips its checks for it."""

    def step(self, g: Array) -> None:
        """One Lion-K step with gradient ``g`` (shape and dtype of x; cast and copied if not)."""
        if g is self.trusted:
            if self._small:
                self._step_small(g)  # type: ignore[arg-type]  # g is trusted: not None
                return
        else:
            g = self._checked(g)
        if self._small:
            self._step_small(g)
            return
        if self.backend == "numba":
            xv, mv, mtv = self._jit_view
            self._jit(xv, mv, g.reshape(self._view), mtv, self._P, *self._jit_consts)
            return
        self._step_blocks(g)

    def _checked(self, g: ArrayLike) -> FloatArray:
        x = self.x
        if type(g) is not np.ndarray or g.dtype != x.dtype or g.shape != x.shape:
            g = np.ascontiguousarray(np.broadcast_to(np.asarray(g, dtype=x.dtype), x.shape))
        elif (
            not g.flags.c_contiguous or np.may_share_memory(g, x) or np.may_share_memory(g, self.m)
        ):
            g = np.array(g, order="C")  # x and m are overwritten before g is used up
        return g

    def _step_blocks(self, g: FloatArray) -> None:
        """`step` block by block (the state is larger than one block)."""
        gv = g.reshape(self._view)
        kernel, identity, grad = self._kernel, self._identity, self.K.grad
        sub_or_add = np.add if self.library else np.subtract  # m̃ and m: β·m ∓ (1 − β)·g
        mul, implicit, library = np.multiply, self.implicit, self.library
        for cut, xb, mb, mt, s, u, (b1, c1, lr, lam, b2, c2, den) in self._blocks:
            gb = gv[cut]
            mul(mb, b1, out=mt)
            mul(gb, c1, out=s)
            sub_or_add(mt, s, out=mt)
            if kernel is not None:
                kernel(mt, u)
            elif not identity:
                u = grad(mt)
            _update_x(xb, u, s, lr, lam, den, implicit, library, xb)
            mul(mb, b2, out=mb)
            mul(gb, c2, out=s)
            sub_or_add(mb, s, out=mb)

    def advance(
        self,
        grad_f: Callable[..., Array],
        t0: int,
        t1: int,
        store: _Store,
        save_every: int,
        last: int,
        out: FloatArray | None = None,
    ) -> None:
        """Steps t0+1 … t1 with gradients ``grad_f(x)`` (``grad_f(x, out=out)`` when ``out`` is
        given), saving the state into ``store`` after every step divisible by ``save_every``
        and after step ``last`` (the run's final step). One-block states run a loop with everything
        bound to locals (small arrays are dispatch-bound: Python overhead per step is as large as
        the ufuncs')."""
        if not (self._small and isinstance(store, _Packed)):
            _advance(self, grad_f, t0, t1, store, save_every, last, out)
            return
        B, C, R, U, S = self._B, self._C, self._R, self._U, self._S
        lr, lam, den = self._consts
        kernel, identity, Kgrad = self._kernel, self._identity, self.K.grad
        mul, combine = np.multiply, (np.add if self.library else np.subtract)
        implicit, library, checked = self.implicit, self.library, self._checked
        copyto, T, saved = np.copyto, store.T, store.saved
        cur, nxt = self._packs
        for t in range(t0 + 1, t1 + 1):
            (_, _, _, m, x), (Z, pair, mt, _, x_next) = cur, nxt
            g = grad_f(x, out=out) if out is not None else checked(grad_f(x))
            mul(B, m, out=pair)  # (β1·m, β2·m)
            mul(C, g, out=R)  # ((1 − β1)·g, (1 − β2)·g)
            combine(pair, R, out=pair)  # (m̃, m) = β·m − (1 − β)·g  (library: +)
            if kernel is not None:
                kernel(mt, U)
                u = U
            else:
                u = mt if identity else Kgrad(mt)
            _update_x(x, u, S, lr, lam, den, implicit, library, x_next)
            cur, nxt = nxt, cur
            if t % save_every == 0 or t == last:
                copyto(T[len(saved)], Z)
                saved.append(t)
        self._packs = [cur, nxt]

    def _step_small(self, g: FloatArray) -> None:
        """`step` for one block: the operations of the blocked step, m̃ and m as one pair."""
        (_, _, _, m, x), (_, pair, mt, _, x_next) = self._packs
        lr, lam, den = self._consts
        s, mul = self._S, np.multiply
        mul(self._B, m, out=pair)  # (β1·m, β2·m)
        mul(self._C, g, out=self._R)  # ((1 − β1)·g, (1 − β2)·g)
        if self.library:
            np.add(pair, self._R, out=pair)  # (c, m_lib): β·m_lib + (1 − β)·g
        else:
            np.subtract(pair, self._R, out=pair)  # (m̃, m): β·m − (1 − β)·g
        if self._kernel is not None:
            u = self._U
            self._kernel(mt, u)
        else:
            u = mt if self._identity else self.K.grad(mt)
        _update_x(x, u, s, lr, lam, den, self.implicit, self.library, x_next)
        self._packs.reverse()


_Store: TypeAlias = "_Packed | _Preallocated | _Listed"
"""Where a run saves its states (`run_discrete` picks one)."""


def _update_x(
    x: FloatArray,
    u: FloatArray,
    s: FloatArray,
    lr: Array,
    lam: Array,
    den: Array,
    implicit: bool,
    library: bool,
    out: FloatArray,
) -> None:
    """out ← x + η(u − λx), x − η(u + λx) (explicit) or (x ± η·u)/(1 + ηλ) (implicit), in the
    operation order of `lion_k_step` (``s``: scratch of x's shape; ``out`` may be x)."""
    mul = np.multiply
    if implicit:
        mul(u, lr, out=s)
        (np.subtract if library else np.add)(x, s, out=out)
        np.divide(out, den, out=out)
    elif library:
        mul(x, lam, out=s)
        np.add(u, s, out=s)
        mul(s, lr, out=s)
        np.subtract(x, s, out=out)
    else:
        mul(x, lam, out=s)
        np.subtract(u, s, out=s)
        mul(s, lr, out=s)
        np.add(x, s, out=out)


def _advance(
    state: LionKStepper | _PureStepper,
    grad_f: Callable[..., Array],
    t0: int,
    t1: int,
    store: _Store,
    save_every: int,
    last: int,
    out: FloatArray | None = None,
) -> None:
    """`LionKStepper.advance` for any stepper: one `step` call per step."""
    record_m_tilde = save_every == 1 and not isinstance(store, _Packed)
    for t in range(t0 + 1, t1 + 1):
        x = state.x
        state.step(grad_f(x) if out is None else grad_f(x, out=out))
        if record_m_tilde:  # never for a _Packed store (it keeps m̃ in its packs)
            store.save_m_tilde(state.m_tilde, t - 1)  # type: ignore[union-attr]
        if t % save_every == 0 or t == last:
            store.save(state, t)  # type: ignore[arg-type]  # _Packed: only with a LionKStepper


class _PureStepper:
    """The pure step functions behind the `LionKStepper` interface (any array-API namespace)."""

    def __init__(
        self, K: KFunction, x0: Array, m0: Array | None = None, *, config: LionKConfig
    ) -> None:
        xp = array_namespace(x0)
        self.K, self.decay, self.x = K, config.decay, x0
        self.library = config.convention == "library"
        m = xp.zeros_like(x0) if m0 is None else m0
        self.m = -m if self.library else m  # the state is kept as m_lib = −m internally
        self.params = {
            k: _as_param(getattr(config, k), x0, K) for k in ("lr", "beta1", "beta2", "lam")
        }
        self._step = lion_k_step_library if self.library else lion_k_step
        self.m_tilde: Array | None = None

    def step(self, g: Array) -> None:
        self.x, self.m, self.m_tilde = self._step(
            self.K, self.x, self.m, g, decay=self.decay, **self.params
        )


def _takes_out(fn: Callable[..., Any]) -> bool:
    """Whether ``fn`` accepts an ``out=`` keyword (then gradients are written into a buffer)."""
    import inspect

    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def trajectory_bytes(x0: Array, steps: int, save_every: int = 1) -> int:
    """Bytes `run_discrete` allocates for the saved states: x and m at every ``save_every``-th
    step (and m̃ at every step when ``save_every == 1``)."""
    x0 = np.asarray(x0) if not hasattr(x0, "dtype") else x0
    itemsize = np.dtype(str(x0.dtype).split(".")[-1]).itemsize
    slots = 1 + -(-steps // save_every)
    arrays = 2 * slots + (steps if save_every == 1 else 0)
    return int(arrays) * int(np.prod(x0.shape, dtype=np.int64)) * itemsize


def format_bytes(n: float) -> str:
    """``n`` bytes as a short human string (``1.5 GB``)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} PB"  # pragma: no cover


def run_discrete(
    K: KFunction,
    grad_f: Callable[..., Array],
    x0: Array,
    m0: Array | None = None,
    *,
    config: LionKConfig,
    steps: int,
    save_every: int = 1,
    divergence_threshold: float = 1e10,
    check_every: int = 50,
    callback: Callable[[int], None] | None = None,
    first_step: int = 0,
    backend: str = "numpy",
) -> DiscreteResult:
    """Run ``steps`` Lion-K steps from ``(x0, m0)`` for a whole batch at once.

    ``x0`` has shape ``(*batch, *event)``; hyper-parameters in ``config`` are scalars or arrays of
    shape ``batch`` (e.g. 1,000 values of ``lam``), so many runs are one array computation.
    ``grad_f(x)`` returns ∇f at a batch of points; when it accepts ``out=`` (e.g.
    `Objective.grad`) the gradient is written into one preallocated buffer. ``grad_f`` must not
    keep references to its argument: on numpy the state is updated in place (`LionKStepper`,
    bit-identical to `lion_k_step`); other array-API backends (torch, ...) use the pure step
    functions. The run stops early, with a non-zero status, at the first check (every
    ``check_every`` steps) that finds a non-finite value or ``max|x| > divergence_threshold``.
    ``callback(step)`` is called at each check (progress). Only the saved states are stored
    (x, m every ``save_every`` steps; m̃ too when every step is saved): `trajectory_bytes`.
    ``first_step``: the number of the step before ``x0`` when the run continues another one
    (`lyapunov_lion.core.streaming`): ``steps_saved``, ``failed_step``, the message and the
    callback count from it (the states saved are the same).
    ``backend``: ``"numpy"`` (the default) or ``"numba"``, one compiled pass per step for
    K = l1, huber, sq_l2 on numpy arrays (`lyapunov_lion.core.jit`; bit-identical iterates).
    """
    config.validate()
    for name, v in (("steps", steps), ("save_every", save_every), ("check_every", check_every)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise LionKError(f"{name}={v!r}: must be a positive integer")
    if isinstance(first_step, bool) or not isinstance(first_step, numbers.Integral):
        raise LionKError(f"first_step={first_step!r}: must be an integer")
    xp = array_namespace(x0)
    save_all = save_every == 1
    check_backend(backend, K)
    fast = LionKStepper.eligible(K, x0, m0, config)
    if backend != "numpy" and not fast:
        raise LionKError(
            f"backend={backend!r} runs on numpy floating arrays x0 (and m0 of the same shape "
            "and dtype); use the default backend numpy"
        )
    state: LionKStepper | _PureStepper
    store: _Store
    if fast:
        state = LionKStepper(K, x0, m0, config=config, keep_m_tilde=save_all, backend=backend)
        store = (_Packed if state.packed is not None else _Preallocated)(state.x, steps, save_every)
    else:
        state = _PureStepper(K, x0, m0, config=config)
        store = _Listed(xp)
    store.save(state, 0)
    out = np.empty_like(state.x) if fast and _takes_out(grad_f) else None
    if isinstance(state, LionKStepper):
        if out is not None:
            state.trusted = out
        advance = state.advance
    else:
        advance = functools.partial(_advance, state)
    status, message, failed = 0, "finished", None
    for t0 in range(0, steps, check_every):  # run to the next check, then check
        t = min(t0 + check_every, steps)
        advance(grad_f, t0, t, store, save_every, steps, out=out)
        if callback is not None:
            callback(t + first_step)
        x, m = state.x, state.m
        finite = bool(xp.all(xp.isfinite(x)) and xp.all(xp.isfinite(m)))
        big = float(xp.max(xp.abs(x))) if finite and x.size else 0.0
        if not finite:
            status, message = -1, f"non-finite x or m by step {t + first_step}"
        elif big > divergence_threshold:
            status = -2
            message = (
                f"diverged: max|x| = {big:.3g} > {divergence_threshold:.3g} by step "
                f"{t + first_step}; lower the learning rate"
            )
        if status != 0:
            failed = t
            if store.saved[-1] != failed:  # keep the failing state in the trajectory
                store.save(state, failed)
            break
    X, M, MT = store.arrays(save_all, failed if failed is not None else steps)
    if state.library:
        M = -M
        MT = -MT if MT is not None else None
    saved = store.saved
    return DiscreteResult(
        x=X,
        m=M,
        m_tilde=MT,
        steps_saved=np.asarray(saved) + first_step,
        config=config,
        K=K,
        status=status,
        message=message,
        failed_step=None if failed is None else failed + first_step,
        nfev=(failed or steps) if save_all else saved[-1],
    )


class _Listed:
    """Saved states of a pure-function run: lists of the (fresh) arrays, stacked at the end."""

    def __init__(self, xp: Namespace) -> None:
        self.xp = xp
        self.xs: list[Any] = []
        self.ms: list[Any] = []
        self.mts: list[Any] = []
        self.saved: list[int] = []

    def save(self, state: LionKStepper | _PureStepper, step: int) -> None:
        self.xs.append(state.x)
        self.ms.append(state.m)
        self.saved.append(step)

    def save_m_tilde(self, mt: Array, t: int) -> None:
        self.mts.append(mt)

    def arrays(self, save_all: bool, done: int) -> tuple[Array, Array, Array | None]:
        xp = self.xp
        return xp.stack(self.xs), xp.stack(self.ms), xp.stack(self.mts) if save_all else None


class _Preallocated:
    """Saved states of an in-place run: copies into arrays allocated once for the whole run."""

    def __init__(self, x: FloatArray, steps: int, save_every: int) -> None:
        slots = 2 + -(-steps // save_every)  # x0, the saves, a failing state between saves
        self.X = _allocate((slots,) + x.shape, x, steps, save_every)
        self.M = _allocate(self.X.shape, x, steps, save_every)
        self.MT = _allocate((steps,) + x.shape, x, steps, save_every) if save_every == 1 else None
        self.saved: list[int] = []

    def save(self, state: LionKStepper | _PureStepper, step: int) -> None:
        k = len(self.saved)
        np.copyto(self.X[k], state.x)
        np.copyto(self.M[k], state.m)
        self.saved.append(step)

    def save_m_tilde(self, mt: Array, t: int) -> None:
        assert self.MT is not None  # allocated when save_every == 1, the only caller
        np.copyto(self.MT[t], mt)

    def arrays(self, save_all: bool, done: int) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        k = len(self.saved)
        return self.X[:k], self.M[:k], self.MT[:done] if save_all and self.MT is not None else None


class _Packed:
    """Saved states of a one-block in-place run: (m̃, m, x) of a step are contiguous in the
    stepper (`LionKStepper.packed`), so one copy per saved step stores all three."""

    def __init__(self, x: FloatArray, steps: int, save_every: int) -> None:
        slots = 2 + -(-steps // save_every)  # x0, the saves, a failing state between saves
        self.T = _allocate((slots, 3) + x.shape, x, steps, save_every)
        self.saved: list[int] = []

    def save(self, state: LionKStepper, step: int) -> None:
        np.copyto(self.T[len(self.saved)], state.packed)  # type: ignore[arg-type]  # one block
        self.saved.append(step)

    def arrays(self, save_all: bool, done: int) -> tuple[FloatArray, FloatArray, FloatArray | None]:
        T = self.T[: len(self.saved)]
        MT = np.ascontiguousarray(T[1:, 0]) if save_all else None
        return np.ascontiguousarray(T[:, 2]), np.ascontiguousarray(T[:, 1]), MT


def _allocate(shape: tuple[int, ...], x: FloatArray, steps: int, save_every: int) -> FloatArray:
    """np.empty for the trajectory, or a one-line `LionKError` saying how much memory it needs."""
    try:
        return np.empty(shape, dtype=x.dtype)
    except MemoryError:
        need = format_bytes(trajectory_bytes(x, steps, save_every))
        raise LionKError(
            f"steps={steps} with save_every={save_every}: storing the trajectory "
            f"needs {need} of memory; save fewer states (a larger save_every) or "
            "run fewer steps"
        ) from None
