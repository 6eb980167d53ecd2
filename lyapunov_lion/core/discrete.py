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

import numbers
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from ..errors import LionKError
from .kfunc import KFunction
from .xp import array_namespace

DECAYS = ("explicit", "implicit")
CONVENTIONS = ("paper", "library")


def lion_k_step(K: KFunction, x, m, g, lr, beta1, beta2, lam, decay: str = "explicit"):
    """One paper-convention Lion-K step; returns ``(x_next, m_next, m_tilde)``.

    ``m_tilde`` = β1 m − (1 − β1) g is the look-ahead at which ∇K was evaluated.
    """
    m_tilde = beta1 * m - (1 - beta1) * g
    u = K.grad(m_tilde)
    if decay == "explicit":
        x_next = x + lr * (u - lam * x)
    else:
        x_next = (x + lr * u) / (1 + lr * lam)
    m_next = beta2 * m - (1 - beta2) * g
    return x_next, m_next, m_tilde


def lion_k_step_library(K: KFunction, x, m_lib, g, lr, beta1, beta2, lam, decay: str = "explicit"):
    """One library-convention step (EMA of +g, subtract ∇K); returns ``(x_next, m_lib_next, c)``."""
    c = beta1 * m_lib + (1 - beta1) * g
    u = K.grad(c)
    if decay == "explicit":
        x_next = x - lr * (u + lam * x)
    else:
        x_next = (x - lr * u) / (1 + lr * lam)
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
        rules = {
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
            raise LionKError(f"convention={self.convention!r}: choose one of {', '.join(CONVENTIONS)}")


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
    extra: dict = field(default_factory=dict)

    @property
    def success(self) -> bool:
        return self.status == 0


def _as_param(value, x, K: KFunction):
    """A hyper-parameter as a scalar or an array shaped (batch..., 1[, 1]) in x's dtype."""
    xp = array_namespace(x)
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        return xp.asarray(float(arr), dtype=x.dtype)
    batch_ndim = x.ndim - K.event_ndim
    if arr.ndim > batch_ndim:
        raise LionKError(f"a hyper-parameter array of shape {arr.shape} has more axes than the "
                         f"batch of x {tuple(x.shape[:batch_ndim])}")
    return xp.asarray(arr.reshape(arr.shape + (1,) * K.event_ndim), dtype=x.dtype)


def run_discrete(K: KFunction, grad_f: Callable, x0, m0=None, *, config: LionKConfig,
                 steps: int, save_every: int = 1, divergence_threshold: float = 1e10,
                 check_every: int = 50, callback: Callable[[int], None] | None = None
                 ) -> DiscreteResult:
    """Run ``steps`` Lion-K steps from ``(x0, m0)`` for a whole batch at once.

    ``x0`` has shape ``(*batch, *event)``; hyper-parameters in ``config`` are scalars or arrays of
    shape ``batch`` (e.g. 1,000 values of ``lam``), so many runs are one array computation.
    ``grad_f(x)`` returns ∇f at a batch of points. The run stops early, with a non-zero status,
    at the first check (every ``check_every`` steps) that finds a non-finite value or
    ``max|x| > divergence_threshold``. ``callback(step)`` is called at each check (progress).
    """
    config.validate()
    for name, v in (("steps", steps), ("save_every", save_every), ("check_every", check_every)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
            raise LionKError(f"{name}={v!r}: must be a positive integer")
    xp = array_namespace(x0)
    x = x0
    m = xp.zeros_like(x0) if m0 is None else m0
    params = {k: _as_param(getattr(config, k), x, K) for k in ("lr", "beta1", "beta2", "lam")}
    library = config.convention == "library"
    step = lion_k_step_library if library else lion_k_step
    if library:
        m = -m  # the state is kept as m_lib = −m internally
    save_all = save_every == 1
    xs, ms, mts, saved = [x], [m], [], [0]
    status, message, failed = 0, "finished", None
    for t in range(steps):
        x, m, mt = step(K, x, m, grad_f(x), decay=config.decay, **params)
        if save_all:
            mts.append(mt)
        if (t + 1) % save_every == 0 or t + 1 == steps:
            xs.append(x)
            ms.append(m)
            saved.append(t + 1)
        if (t + 1) % check_every == 0 or t + 1 == steps:
            if callback is not None:
                callback(t + 1)
            finite = bool(xp.all(xp.isfinite(x)) and xp.all(xp.isfinite(m)))
            big = float(xp.max(xp.abs(x))) if finite and x.size else 0.0
            if not finite:
                status, message = -1, f"non-finite x or m by step {t + 1}"
            elif big > divergence_threshold:
                status = -2
                message = (f"diverged: max|x| = {big:.3g} > {divergence_threshold:.3g} by step "
                           f"{t + 1}; lower the learning rate")
            if status != 0:
                failed = t + 1
                if saved[-1] != failed:  # keep the failing state in the trajectory
                    xs.append(x)
                    ms.append(m)
                    saved.append(failed)
                break
    X, M = xp.stack(xs), xp.stack(ms)
    MT = xp.stack(mts) if save_all and mts else None
    if library:
        M = -M
        MT = -MT if MT is not None else None
    return DiscreteResult(x=X, m=M, m_tilde=MT, steps_saved=np.asarray(saved), config=config,
                          K=K, status=status, message=message, failed_step=failed,
                          nfev=len(mts) if save_all else saved[-1])
