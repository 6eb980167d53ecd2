"""Long discrete runs in bounded memory: every k-th state kept, diagnostics in the same pass.

A run of N steps is computed as consecutive chunks of at most ``chunk`` steps (`run_chunks`),
each a `run_discrete` with every step saved that starts from the last state of the one before,
so the iterates are bit-identical to one run (a step reads only (x, m) and the gradient oracle,
which is called in the same order). Each chunk is diagnosed with `diagnose_discrete` while it is
in memory and then dropped; `ThinnedRun` keeps the states of the steps divisible by
``keep_every`` (and the last step) and merges the chunks' diagnostics into the numbers that
`diagnose_discrete` gives for the whole run:

* phase 1: the first step with dist(λx_t, dom K*) ≤ tol; the bound dist_0·(1 − ηλ)^t
  (explicit) or dist_0·(1 + ηλ)^{−t} with the run's dist_0 and global t, held at every step,
  and max_t dist_t/bound_t;
* monotonicity of the scheme's H_d from the step after which λx stays in dom K* (up to
  ``dom_atol``) for good: the count restarts after every step outside;
* the per-step Lyapunov inequalities: counts add up, the largest slack and its step are kept.

Memory: one chunk of full diagnostics (``chunk`` steps) plus the kept states. One run (x0 a
vector, no batch axis).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import LionKError
from .discrete import DiscreteResult, LionKConfig, run_discrete
from .kfunc import KFunction
from .lyapunov import (
    DiscreteDiagnostics,
    InequalityCheck,
    MonotonicityReport,
    diagnose_discrete,
    monotonicity,
    phase1_exit,
)

CHUNK_BYTES = 1 << 26
"""Memory of one chunk's trajectory and diagnostics (see `chunk_steps`): 64 MiB."""
BYTES_PER_STEP_AND_COORDINATE = 160
"""Peak memory of a diagnosed every-step run per step and parameter coordinate: the saved x, m,
m̃ (24 B in float64) and the vectorised diagnostics' temporaries over the whole trajectory (f,
H_d, Δ, ∇f, λx, ...). Measured with tracemalloc: 150 B for the toy problem at 20 000 and
100 000 steps."""
KEPT_BYTES_PER_STATE_AND_COORDINATE = 32
"""Bytes per kept state and coordinate: x and m (float64), and the copy made when the kept
pieces are joined at the end."""
KEPT_BYTES_PER_STATE = 96
"""Bytes per kept state besides x and m: its step, f, H_d, H'_d, dist and KKT score (8 B each),
and their joined copies."""


def _kept_state_bytes(dim: int) -> int:
    return dim * KEPT_BYTES_PER_STATE_AND_COORDINATE + KEPT_BYTES_PER_STATE


def chunk_steps(dim: int) -> int:
    """Steps per chunk: `CHUNK_BYTES` of every-step diagnostics, between 100 and 100,000."""
    return int(min(100_000, max(100, CHUNK_BYTES // (BYTES_PER_STEP_AND_COORDINATE * dim))))


def thinned_bytes(steps: int, dim: int, keep_every: int) -> int:
    """Peak memory of a thinned run: the kept states and one chunk."""
    kept = steps // keep_every + 2
    chunk = min(chunk_steps(dim), steps) + 1
    return kept * _kept_state_bytes(dim) + chunk * dim * BYTES_PER_STEP_AND_COORDINATE


def keep_every_for(steps: int, dim: int, available: int) -> int | None:
    """The smallest ``keep_every`` whose thinned run fits in ``available`` bytes (None if even
    keeping only the last state does not fit)."""
    room = available - (min(chunk_steps(dim), steps) + 1) * dim * BYTES_PER_STEP_AND_COORDINATE
    per_state = _kept_state_bytes(dim)
    if room < 3 * per_state:
        return None
    return max(1, math.ceil(steps / (room // per_state - 2)))


def run_chunks(
    K: KFunction,
    grad_f: Callable[..., Any],
    x0: Any,
    *,
    config: LionKConfig,
    steps: int,
    chunk: int,
    callback: Callable[[int], None] | None = None,
    backend: str = "numpy",
) -> Iterator[DiscreteResult]:
    """`run_discrete` results of at most ``chunk`` steps each (every step saved), the next one
    starting from the last state of the one before; ``steps_saved`` count from the run's start.
    Stops after a chunk that failed (its ``status`` is not 0). ``backend``: `run_discrete`'s."""
    x, m, done = x0, None, 0
    while done < steps:
        n = min(chunk, steps - done)
        res = run_discrete(
            K,
            grad_f,
            x,
            m,
            config=config,
            steps=n,
            callback=callback,
            first_step=done,
            backend=backend,
        )
        yield res
        if not res.success:
            return
        x, m = np.array(res.x[-1]), np.array(res.m[-1])
        done += n


@dataclass
class _Merged:
    """Running totals of one inequality check over the chunks."""

    check: InequalityCheck
    n_checked: int = 0
    n_skipped_boundary: int = 0
    n_violations: int = 0
    max_violation: float = float("nan")
    max_violation_step: int = -1

    def add(self, c: InequalityCheck, offset: int) -> None:
        self.n_checked += int(c.n_checked)
        self.n_skipped_boundary += int(c.n_skipped_boundary)
        self.n_violations += int(c.n_violations)
        # the first step of the largest slack, as np.argmax over the whole run
        if int(c.n_checked) > 0 and (
            self.max_violation_step < 0 or float(c.max_violation) > self.max_violation
        ):
            self.max_violation = float(c.max_violation)
            self.max_violation_step = int(c.max_violation_step) + offset

    def result(self) -> InequalityCheck:
        return replace(
            self.check,
            slack=np.empty(0),
            n_checked=np.asarray(self.n_checked),
            n_skipped_boundary=np.asarray(self.n_skipped_boundary),
            n_violations=np.asarray(self.n_violations),
            max_violation=np.asarray(self.max_violation),
            max_violation_step=np.asarray(self.max_violation_step),
        )


_TOLERANCES: dict[str, float] = {
    name: p.default
    for name, p in inspect.signature(diagnose_discrete).parameters.items()
    if p.kind is p.KEYWORD_ONLY
}
"""`diagnose_discrete`'s tolerances and their defaults (tol, dom_atol, mono_rtol, bound_rtol,
bound_atol, rtol): a thinned run merges with the same values it diagnoses with."""


class ThinnedRun:
    """Collects the chunks of one run (`run_chunks`): `add` diagnoses a chunk, keeps the states
    of the steps divisible by ``keep_every`` and of step ``last``, and merges the diagnostics;
    `result` and `diagnostics` then describe the whole run with only the kept states (series
    ``f``, ``H_d``, ``dist``, ``kkt`` at the kept steps; ``Delta``, ``w_sq`` and the slacks
    empty). ``tolerances``: keywords of `diagnose_discrete` (its defaults otherwise)."""

    def __init__(
        self,
        f: Callable[..., Any],
        grad_f: Callable[..., Any],
        *,
        keep_every: int,
        last: int,
        L: float | None = None,
        **tolerances: float,
    ) -> None:
        if isinstance(keep_every, bool) or not isinstance(keep_every, int) or keep_every < 1:
            raise LionKError(f"keep_every={keep_every!r}: must be a positive integer")
        unknown = set(tolerances) - set(_TOLERANCES)
        if unknown:
            raise LionKError(f"unknown tolerance {', '.join(sorted(unknown))}")
        self.f, self.grad_f, self.L = f, grad_f, L
        self.keep_every, self.last = keep_every, last
        self.tolerances = {**_TOLERANCES, **tolerances}
        t = self.tolerances
        self.tol, self.dom_atol, self.mono_rtol = t["tol"], t["dom_atol"], t["mono_rtol"]
        self.bound_rtol, self.bound_atol = t["bound_rtol"], t["bound_atol"]
        names = ("x", "m", "step", "f", "H", "dist", "kkt")
        self._kept: dict[str, list[np.ndarray]] = {k: [] for k in names}
        self._kept_H_exp: list[np.ndarray] = []
        self._first: DiscreteDiagnostics | None = None
        self._last_result: DiscreteResult | None = None
        self._exit = -1
        self._held, self._max_ratio = True, -np.inf
        self._mono: dict[str, Any] = {}
        self._reset_mono()
        self._ineq: dict[str, _Merged] = {}
        self._notes: list[str] = []

    def _reset_mono(self) -> None:
        self._mono = {"n_checked": 0, "n_nonfinite": 0, "n_increases": 0, "first": -1}
        self._mono["max_increase"] = -np.inf

    def diagnose(self, res: DiscreteResult) -> DiscreteDiagnostics:
        """`diagnose_discrete` of one chunk with this collector's tolerances."""
        return diagnose_discrete(res, self.f, self.grad_f, L=self.L, **self.tolerances)

    def add(self, res: DiscreteResult, d: DiscreteDiagnostics) -> None:
        """Merge one chunk (``d`` = `diagnose` of ``res``); chunks in order, each starting at
        the last state of the one before."""
        if np.ndim(d.dist) != 1:
            raise LionKError("a thinned run diagnoses one run (x0 a vector, no batch axis)")
        steps = np.asarray(res.steps_saved)
        first = 0 if self._first is None else 1  # state 0 of a later chunk was kept already
        if self._first is None:
            self._first = d
        offset = int(steps[0])
        dist = np.asarray(d.dist, dtype=float)
        self._phase1(steps[first:], dist[first:])
        self._monotonicity(d, dist, offset)
        for key in ("spec_inequality", "explicit_inequality"):
            check = getattr(d, key)
            if check is not None:
                self._ineq.setdefault(key, _Merged(check)).add(check, offset)
        self._notes += [n for n in d.notes if n not in self._notes]
        keep = np.flatnonzero((steps % self.keep_every == 0) | (steps == self.last))
        keep = keep[keep >= first]
        for name, series in (
            ("x", res.x),
            ("m", res.m),
            ("step", steps),
            ("f", d.f),
            ("H", d.H_d),
            ("dist", dist),
            ("kkt", d.kkt),
        ):
            self._kept[name].append(np.array(np.asarray(series)[keep]))
        if d.H_d_explicit is not None:
            self._kept_H_exp.append(np.array(np.asarray(d.H_d_explicit)[keep]))
        self._last_result = res

    def _phase1(self, steps: np.ndarray, dist: np.ndarray) -> None:
        assert self._first is not None
        if self._exit < 0:
            local = phase1_exit(dist, self.tol)
            if local is not None:
                self._exit = int(steps[local])
        d0 = self._first
        rate = np.asarray(d0.lr) * np.asarray(d0.lam)
        factor = (1 - rate) if d0.decay == "explicit" else 1 / (1 + rate)
        bound = float(np.asarray(d0.dist)[0]) * factor**steps
        limit = bound * (1 + self.bound_rtol) + self.bound_atol
        self._held = self._held and bool(np.all(dist <= limit))
        if dist.size:  # np.maximum: a NaN ratio stays NaN, as in the whole-run max
            self._max_ratio = float(np.maximum(self._max_ratio, np.max(dist / limit)))

    def _monotonicity(self, d: DiscreteDiagnostics, dist: np.ndarray, offset: int) -> None:
        H = np.asarray(d.H_d if d.H_d_explicit is None else d.H_d_explicit, dtype=float)
        outside = np.flatnonzero(~(dist <= self.dom_atol))
        start = 0
        if outside.size:
            self._reset_mono()
            start = int(outside[-1]) + 1
        if start > H.shape[0] - 2:
            return
        rep = monotonicity(H, start=start, rtol=self.mono_rtol)
        mono = self._mono
        mono["n_checked"] += rep.n_checked
        mono["n_nonfinite"] += rep.n_nonfinite
        mono["n_increases"] += rep.n_increases
        if rep.n_checked:
            mono["max_increase"] = max(mono["max_increase"], rep.max_increase)
        if mono["first"] < 0 and rep.first_increase_step is not None:
            mono["first"] = rep.first_increase_step + offset

    def _joined(self, name: str) -> np.ndarray:
        return np.concatenate(self._kept[name])

    def result(self) -> DiscreteResult:
        """The run with the kept states only (``steps_saved``: their step numbers)."""
        last = self._last_result
        if last is None:
            raise LionKError("no chunk was added")
        return replace(
            last,
            x=self._joined("x"),
            m=self._joined("m"),
            m_tilde=None,
            steps_saved=self._joined("step"),
            nfev=int(np.asarray(last.steps_saved)[-1]),
        )

    def diagnostics(self) -> DiscreteDiagnostics:
        """The merged diagnostics (summary fields as `diagnose_discrete` of the whole run)."""
        d = self._first
        if d is None:
            raise LionKError("no chunk was added")
        mono = self._mono
        n = mono["n_checked"]
        report = MonotonicityReport(
            monotone=mono["n_increases"] == 0,
            max_increase=float(mono["max_increase"]) if n else float("nan"),
            n_increases=mono["n_increases"],
            first_increase_step=None if mono["first"] < 0 else mono["first"],
            rtol=self.mono_rtol,
            n_checked=n,
            n_nonfinite=mono["n_nonfinite"],
        )
        ineq = {k: m.result() for k, m in self._ineq.items()}
        return replace(
            d,
            steps=self._joined("step"),
            f=self._joined("f"),
            H_d=self._joined("H"),
            Delta=np.empty(0),
            w_sq=np.empty(0),
            dist=self._joined("dist"),
            kkt=self._joined("kkt"),
            phase1_exit=np.asarray(self._exit),
            phase1_bound_held=np.asarray(self._held),
            phase1_max_ratio=np.asarray(self._max_ratio),
            monotonicity=report,
            spec_inequality=ineq.get("spec_inequality"),
            explicit_inequality=ineq.get("explicit_inequality"),
            H_d_explicit=np.concatenate(self._kept_H_exp) if self._kept_H_exp else None,
            notes=list(self._notes),
        )
