"""The types every integrator shares: `SolveOptions` in, `OdeRun` out (scipy's status codes).

An integrator is a class with a ``name``, ``applicable(problem) -> bool`` and
``run(problem, t0, z0, t_final, options) -> OdeRun`` (see `solve.INTEGRATORS`); the driver
`solve_lion_ode` may chain two runs with `OdeRun.then` when the first cannot continue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray

if TYPE_CHECKING:
    from .problem import LionProblem

__all__ = ["SolveOptions", "OdeRun", "PiecewiseDense", "Integrator"]

Dense: TypeAlias = Callable[[ArrayLike], NDArray[np.float64]]
"""Dense output ``sol(t)`` → (2d,) for a scalar t, (2d, k) for k times."""
Selection: TypeAlias = Callable[[ArrayLike, NDArray[np.float64]], NDArray[np.float64]]
"""``selection(t, Z)`` → the ∇K selection (d, k) used at the times t (k,) and states Z (2d, k)."""


@dataclass(frozen=True)
class SolveOptions:
    """Tolerances and budgets common to all integrators (each uses the ones that apply)."""

    rtol: float = 1e-8
    atol: Any = 1e-10
    t_eval: ArrayLike | None = None
    first_step: float | None = None
    max_events: int = 10_000
    max_nfev: int | None = None
    max_time: float | None = None
    order: int = 4
    inner_method: str = "DOP853"
    progress: Callable[[float], None] | None = None
    """Called with t after every accepted step (a progress bar; never changes the solution)."""


@dataclass
class OdeRun:
    """One integrator's output on [t[0], t[-1]]: knots ``t`` (n,), states ``z`` (2d, n), dense
    output ``sol(t)`` → (2d,) / (2d, k), ``selection(t, Z)`` → the ∇K selection (d, k) it used,
    ``counters`` (nfev, njev, n_grad, n_steps, min_step, …), ``events`` (t, coordinate, kind,
    new mode), ``status`` (scipy: −1 failure, 0 reached t_final, 1 terminated by an event) and
    ``message``. ``sliding_time``/``final_mode`` per coordinate when the integrator knows them,
    ``extra`` integrator-specific counters for the report."""

    method: str
    t: NDArray[np.float64]
    z: NDArray[np.float64]
    sol: Dense | None
    status: int
    message: str
    counters: dict[str, Any]
    selection: Selection
    events: list[tuple[Any, ...]] = field(default_factory=list)
    sliding_time: NDArray[np.float64] | None = None
    final_mode: list[str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def then(self, other: OdeRun) -> OdeRun:
        """This run followed by ``other`` (which starts where this one stopped)."""
        t_switch = float(self.t[-1])
        keep = self.t < t_switch
        counters = {
            k: (
                min(v, other.counters.get(k, v))
                if k == "min_step"
                else v + other.counters.get(k, 0)
            )
            for k, v in self.counters.items()
        }
        for k, v in other.counters.items():
            counters.setdefault(k, v)
        slide = None
        if self.sliding_time is not None and other.sliding_time is not None:
            slide = self.sliding_time + other.sliding_time
        parts = [(self, t_switch), (other, np.inf)]
        return OdeRun(
            method=f"{self.method} → {other.method} at t={t_switch:.6g}",
            t=np.concatenate([self.t[keep], other.t]),
            z=np.concatenate([self.z[:, keep], other.z], axis=1),
            sol=PiecewiseDense([(r.sol, end) for r, end in parts]),
            status=other.status,
            message=f"{self.message}; continued with {other.method}: {other.message}",
            counters=counters,
            selection=_PiecewiseSelection(parts),
            events=self.events + other.events,
            sliding_time=slide,
            final_mode=other.final_mode,
            extra={**self.extra, **other.extra},
        )


class Integrator(Protocol):
    """What the driver asks of an integrator (module doc)."""

    name: str

    @staticmethod
    def applicable(prob: LionProblem) -> bool: ...

    def run(
        self,
        prob: LionProblem,
        t0: float,
        z0: NDArray[np.float64],
        t_final: float,
        opts: SolveOptions,
    ) -> OdeRun: ...


class PiecewiseDense:
    """Dense output made of pieces ``[(sol, t_end), ...]`` (piece k covers t ≤ t_end_k)."""

    def __init__(self, pieces: list[tuple[Dense | None, float]]) -> None:
        self.pieces = pieces
        self.ends = np.array([e for _, e in pieces])

    def __call__(self, t: ArrayLike) -> NDArray[np.float64]:
        t = np.asarray(t, dtype=float)
        tt = np.atleast_1d(t)
        idx = np.minimum(np.searchsorted(self.ends, tt, side="left"), len(self.pieces) - 1)
        out: NDArray[np.float64] | None = None
        for k in np.unique(idx):
            vals = np.asarray(self.pieces[k][0](tt[idx == k])).reshape(-1, int(np.sum(idx == k)))
            if out is None:
                out = np.empty((vals.shape[0], tt.size))
            out[:, idx == k] = vals
        # out is still None only for an empty t (no piece evaluated), which returns None as before
        return out[:, 0] if t.ndim == 0 else out  # type: ignore[index, return-value]


class _PiecewiseSelection:
    def __init__(self, parts: list[tuple[OdeRun, float]]) -> None:
        self.parts = parts
        self.ends = np.array([e for _, e in parts])

    def __call__(self, t: ArrayLike, Z: ArrayLike) -> NDArray[np.float64]:
        t = np.atleast_1d(np.asarray(t, dtype=float))
        Z = np.asarray(Z, dtype=float).reshape(-1, t.size)
        idx = np.minimum(np.searchsorted(self.ends, t, side="left"), len(self.parts) - 1)
        out = np.empty((Z.shape[0] // 2, t.size))
        for k in np.unique(idx):
            out[:, idx == k] = self.parts[k][0].selection(t[idx == k], Z[:, idx == k])
        return out
