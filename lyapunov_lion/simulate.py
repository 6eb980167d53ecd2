"""Use case: simulate Lion-K on an objective and diagnose the run against the theory.

``simulate(SimulationSpec(...))`` builds K and the objective by name, checks the theory's
conditions (warning, not refusing, when a guarantee no longer holds), runs discrete Lion-K, and
returns a `SimulationReport` with the trajectory, the Lyapunov/phase diagnostics and, for the
problem Lion-K solves, min f(x) + (1/λ)K*(λx), the reference optimum. The report renders itself
as text (`summary_text`) or as a JSON-ready dict (`summary_dict`). The CLI is a thin layer on top.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core.discrete import DiscreteResult, LionKConfig, format_bytes, run_discrete
from .core.kfunc import KFunction, make_K
from .core.lyapunov import DiscreteDiagnostics, diagnose_discrete
from .core.objectives import Objective, StochasticGradient, make_objective
from .core.reference import ReferenceSolution, constrained_optimum
from .core.streaming import (
    BYTES_PER_STEP_AND_COORDINATE,
    ThinnedRun,
    chunk_steps,
    keep_every_for,
    run_chunks,
    thinned_bytes,
)
from .errors import LionKError, NumericalFailure, TheoryWarning


@dataclass
class SimulationSpec:
    """Everything that defines one simulation; defaults are the CLI's defaults."""

    K: str | KFunction = "l1"
    K_params: dict[str, float] = field(default_factory=dict)
    lam: float = 1.5
    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.99
    steps: int = 10_000
    x0: Any = None
    objective: str | Objective = "toy"
    objective_params: dict[str, Any] = field(default_factory=dict)
    noise: float = 0.0
    seed: int = 0
    decay: str = "explicit"
    convention: str = "paper"
    keep_every: int = 1
    """Keep the state of every ``keep_every``-th step (and of the last): > 1 runs in chunks with
    the diagnostics merged in the same pass (`lyapunov_lion.core.streaming`)."""
    series: bool = True
    """Keep the per-step trajectory and diagnostics series (for saving or plotting). False: only
    what `SimulationReport.summary_text` / `summary_dict` show — with ``keep_every == 1`` the run
    streams in chunks (`lyapunov_lion.core.streaming`), keeps its first and last states, and the
    summary numbers are those of the whole run, in bounded memory (`kept_every`)."""
    backend: str = "numpy"
    """The discrete step's backend (`run_discrete`): numpy, or numba (opt-in, bit-identical)."""


@dataclass
class SimulationReport:
    """The outcome of `simulate`: inputs, trajectory, diagnostics, reference optimum, warnings."""

    spec: SimulationSpec
    K: KFunction
    objective: Objective
    x0: np.ndarray
    result: DiscreteResult
    diagnostics: DiscreteDiagnostics
    reference: ReferenceSolution | None
    theory_warnings: list[str]

    @property
    def x_final(self) -> np.ndarray:
        return np.asarray(self.result.x[-1])

    @property
    def phase1_exit_step(self) -> int | None:
        """First step with λx in dom K* (0: already inside at the start), None if never."""
        step = int(np.asarray(self.diagnostics.phase1_exit))
        return None if step < 0 else step

    @property
    def inequality(self):
        """The per-step Lyapunov inequality that is a theorem for this run's scheme (or None)."""
        d = self.diagnostics
        return d.explicit_inequality if d.explicit_inequality is not None else d.spec_inequality

    @property
    def f_final(self) -> float:
        return float(self.objective.f(self.x_final))

    def summary_dict(self) -> dict[str, Any]:
        """The JSON summary (keys documented in the README)."""
        d = self.diagnostics
        out: dict[str, Any] = {
            "K": self.K.name,
            "K_params": dict(self.K.param_values),
            "K_formula": self.K.info()["K"],
            "K_conj": self.K.info()["K_conj"],
            "lam": self.spec.lam,
            "constraint": self.K.describe_induced(self.spec.lam),
            "induced": self.K.info()["induced"],
            "induced_kind": self.K.induced_kind,
            "objective": self.objective.name,
            "objective_formula": self.objective.formula,
            "config": {
                "lr": self.spec.lr,
                "beta1": self.spec.beta1,
                "beta2": self.spec.beta2,
                "steps": self.spec.steps,
                "decay": self.spec.decay,
                "convention": self.spec.convention,
                "noise": self.spec.noise,
                "seed": self.spec.seed,
                "x0": self.x0.tolist(),
                "mode": "discrete",
                "keep_every": self.spec.keep_every,
                "states_kept": int(np.asarray(self.result.steps_saved).size),
            },
            "final": {
                "x": self.x_final.tolist(),
                "f": self.f_final,
                "kkt": _finite_or_none(np.asarray(d.kkt)[-1]),
            },
            "inequality": None if self.inequality is None else self.inequality.to_dict(),
            "phase1_exit_step": self.phase1_exit_step,
            "lyapunov": {
                "monotone": (bool(d.monotonicity.monotone) if d.monotonicity.n_checked else None),
                "max_increase": _finite_or_none(d.monotonicity.max_increase),
                "n_checked": int(d.monotonicity.n_checked),
            },
            "diagnostics": d.to_dict(series=False),
            "warnings": list(self.theory_warnings),
        }
        if self.reference is not None:
            ref = self.reference
            out["optimum"] = {
                "x": np.asarray(ref.x).tolist(),
                "f": float(ref.f),
                "method": ref.method,
                "converged": bool(ref.converged),
                "message": ref.message,
                "distance": float(np.linalg.norm(self.x_final - ref.x)),
            }
        matrix = self.matrix_summary()
        if matrix is not None:
            out["matrix"] = matrix
        return out

    def matrix_summary(self) -> dict[str, Any] | None:
        """For a matrix K: singular values of the end point, the optimum and C (see
        `matrix_problem.matrix_summary`); None for a vector K."""
        if getattr(self.K, "event_shape", None) is None:
            return None
        from .matrix_problem import matrix_summary

        return matrix_summary(self.K, self.spec.lam, self.x_final, self.objective, self.reference)

    def summary_text(self) -> str:
        """A human summary: the K, its conjugate, the problem solved, phases, final point."""
        K, s, d = self.K, self.spec, self.diagnostics
        info = K.info()
        fmt = format_vector
        lines = [
            f"Lion-K with K = {info['K']} ({K.name}),  ∇K = {info['grad_K']},  "
            f"K* = {info['K_conj']}",
            f"solves   min f(x) {info['induced']}   →  "
            f"at λ = {s.lam:g}: {K.describe_induced(s.lam)}",
            f"objective: {self.objective.name}: f(x) = {self.objective.formula}",
            f"run: {s.steps} steps, lr {s.lr:g}, β1 {s.beta1:g}, β2 {s.beta2:g}, {s.decay} decay, "
            f"{s.convention} convention, x0 = {fmt(self.x0)}"
            + (f", gradient noise σ = {s.noise:g} (seed {s.seed})" if s.noise else ""),
        ]
        if s.keep_every > 1:
            lines.append(
                f"kept: the states at the steps divisible by {s.keep_every} and at the last "
                f"({np.asarray(self.result.steps_saved).size} of {s.steps + 1}); the "
                "diagnostics below cover every step"
            )
        exit_step, rate = (
            self.phase1_exit_step,
            ("(1 − ηλ)^t" if s.decay == "explicit" else "(1 + ηλ)^−t"),
        )
        if exit_step is None:
            lines.append("phase 1: λx did NOT reach dom K* within the run")
        elif exit_step == 0:
            lines.append("phase 1: λx0 already in dom K* (no phase 1)")
        else:
            held = bool(np.asarray(d.phase1_bound_held))
            lines.append(
                f"phase 1: λx entered dom K* at step {exit_step}; distance bound "
                f"{rate}·dist0 {'held' if held else 'VIOLATED'} "
                f"(max dist/bound = {float(np.asarray(d.phase1_max_ratio)):.3g})"
            )
        mono = d.monotonicity
        if exit_step is None:
            lines.append("phase 2: not reached")
        elif not mono.n_checked:
            lines.append("phase 2: H_d not checked (no step after phase 1)")
        elif mono.monotone:
            lines.append(f"phase 2: H_d non-increasing after phase 1: yes ({mono.n_checked} steps)")
        else:
            lines.append(
                f"phase 2: H_d non-increasing after phase 1: no — {mono.n_increases} of "
                f"{mono.n_checked} steps increase it, by at most {mono.max_increase:.3g} "
                f"(first at step {mono.first_increase_step}); the discrete theory allows "
                "increases up to (Lη²/2)‖w_t‖² per step"
            )
        if self.inequality is not None and exit_step is not None:
            lines.append(_bound_line(self.inequality))
        kkt = float(np.asarray(d.kkt)[-1])
        lines.append(
            f"final: x = {fmt(self.x_final)},  f = {self.f_final:.6g},  KKT score = "
            + (f"{kkt:.3g}" if np.isfinite(kkt) else "undefined (λx not in dom K*)")
        )
        if self.reference is not None:
            ref = self.reference
            dist = float(np.linalg.norm(self.x_final - ref.x))
            lines.append(
                f"optimum of the induced problem ({ref.method}): x* = {fmt(ref.x)},  "
                f"f(x*) = {float(ref.f):.6g},  ‖x − x*‖ = {dist:.3g}"
            )
            if not ref.converged:
                lines.append(
                    f"warning: the reference optimum is NOT converged ({ref.message}); "
                    "x* and f(x*) are approximate"
                )
        if getattr(self.K, "event_shape", None) is not None:
            from .matrix_problem import matrix_lines

            lines += matrix_lines(self.matrix_summary())
        for w in self.theory_warnings:
            lines.append(f"warning: {w}")
        return "\n".join(lines)


def _finite_or_none(v) -> float | None:
    """A finite float, or None (JSON null) for ±inf/NaN (e.g. the KKT score outside dom K*)."""
    v = float(np.asarray(v))
    return v if np.isfinite(v) else None


def format_vector(v) -> str:
    """``(a, b, …)`` with 6 significant digits, at most 8 entries."""
    v = np.asarray(v, dtype=float).ravel()
    body = ", ".join(f"{x:.6g}" for x in v[:8])
    return f"({body}{', …' if v.size > 8 else ''})"


def _bound_line(check) -> str:
    n_bad, n = int(np.asarray(check.n_violations)), int(np.asarray(check.n_checked))
    where = (
        ""
        if n_bad == 0
        else f" (largest {float(np.asarray(check.max_violation)):.3g} at "
        f"step {int(np.asarray(check.max_violation_step))})"
    )
    kind = "theorem" if check.theorem else f"not a theorem here: {check.why_not_theorem}"
    return (
        f"Lyapunov inequality H(t+1) − H(t) ≤ −ηΔ_t + (Lη²/2)‖w_t‖² ({check.scheme} scheme, "
        f"{kind}): {n_bad} violations in {n} checked steps{where}"
    )


def theory_warnings(spec: SimulationSpec, K: KFunction) -> list[str]:
    """Settings that run but void a guarantee of the theory, each as one sentence."""
    out = []
    if spec.beta1 > spec.beta2:
        out.append(
            f"beta1 = {spec.beta1:g} > beta2 = {spec.beta2:g}: the discrete Lyapunov bound "
            "(spec §5) assumes beta1 ≤ beta2 and no longer holds"
        )
    if spec.decay == "explicit" and spec.lr * spec.lam > 1:
        out.append(
            f"lr·lam = {spec.lr * spec.lam:g} > 1: the explicit phase-1 bound "
            "(1 − ηλ)^t no longer holds (use --decay implicit or a smaller lr)"
        )
    if spec.noise > 0:
        out.append(
            f"stochastic gradients (σ = {spec.noise:g}): the Lyapunov decrease holds only "
            "up to a noise floor of order sup‖w‖·σ"
        )
    if spec.convention == "library" and not K.even:
        out.append(f"K = {K.name} is not even: the library convention runs Lion-K with K(−·)")
    return out


def initial_point(spec: SimulationSpec, objective: Objective) -> np.ndarray:
    """x0 from the spec (or the objective's default), checked against the objective's dimension."""
    if spec.x0 is None:
        x0 = np.asarray(objective.default_x0, dtype=float)
    else:
        try:
            x0 = np.asarray(spec.x0, dtype=float)
        except (TypeError, ValueError):
            raise LionKError(
                f"x0={spec.x0!r} is not a list of numbers; write e.g. --x0 -1.5,2.5"
            ) from None
    if x0.ndim != 1 or x0.size == 0 or not np.all(np.isfinite(x0)):
        raise LionKError(
            f"x0={spec.x0!r} must be a non-empty list of finite numbers, e.g. -1.5,2.5"
        )
    if objective.dim is not None and x0.size != objective.dim:
        raise LionKError(
            f"x0 has {x0.size} entries but the objective {objective.name!r} is "
            f"{objective.dim}-dimensional; give {objective.dim} numbers"
        )
    return x0


def build_problem(spec: SimulationSpec) -> tuple[KFunction, Objective, np.ndarray]:
    """(K, objective, x0) of a spec: names resolved, parameters and dimensions checked."""
    K = spec.K if isinstance(spec.K, KFunction) else make_K(spec.K, **spec.K_params)
    if K.event_ndim == 2:  # a matrix K: Lion-K on vec X (see `matrix_problem`)
        from .matrix_problem import build_matrix_problem

        return build_matrix_problem(K, spec.objective, spec.objective_params, spec.x0, spec.seed)
    if K.event_ndim != 1:
        raise LionKError(f"K={K.name} has event_ndim {K.event_ndim}: simulate needs 1 or 2")
    objective = (
        spec.objective
        if isinstance(spec.objective, Objective)
        else make_objective(spec.objective, **spec.objective_params)
    )
    x0 = initial_point(spec, objective)
    k_dim = getattr(K, "dim", None)
    if k_dim is not None and not getattr(K, "separable", True) and k_dim != x0.size:
        raise LionKError(
            f"dimension mismatch: K = {K.name} is defined on R^{k_dim} but the "
            f"objective and x0 live in R^{x0.size}; give a K in {x0.size} variables "
            f"or --dim {k_dim}"
        )
    return K, objective, x0


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable), None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(steps: int, dim: int, available: int | None = None, keep_every: int = 1) -> None:
    """Refuse (one-line `LionKError`) a run whose kept states and diagnostics would not fit in
    memory: with ``keep_every == 1`` every step is kept with its diagnostics; with a larger
    ``keep_every`` one chunk of them and the kept states (`thinned_bytes`). The message says
    which ``--keep-every`` would fit."""
    dim = max(dim, 1)
    if keep_every == 1:
        need = (steps + 1) * dim * BYTES_PER_STEP_AND_COORDINATE
    else:
        need = thinned_bytes(steps, dim, keep_every)
    available = available_memory() if available is None else available
    if available is None or need <= available:
        return
    k = keep_every_for(steps, dim, available)
    fewer = available // (dim * BYTES_PER_STEP_AND_COORDINATE)
    fix = (
        f"keep the states of fewer steps with --keep-every {k} or more (the diagnostics still "
        f"cover every step), or run at most about {fewer:,} steps"
        if k is not None
        else f"use fewer coordinates (dimension {dim})"
    )
    what = "trajectory and its diagnostics" if keep_every == 1 else "kept states and one chunk"
    raise LionKError(
        f"--steps {steps} would need about {format_bytes(need)} of memory for the {what}; "
        f"{format_bytes(available)} is available: {fix}"
    )


def simulate(
    spec: SimulationSpec, progress: Callable[[int], None] | None = None
) -> SimulationReport:
    """Run discrete Lion-K as ``spec`` says and diagnose it; raise `NumericalFailure` on
    NaN/divergence.

    A ``spec.steps`` whose kept states and diagnostics would not fit in memory is refused
    (`check_memory`) before anything runs. ``spec.keep_every`` > 1 keeps every k-th state and
    the last; the diagnostics still cover every step (computed chunk by chunk in the same
    pass). ``spec.series=False`` keeps only what the summary shows (`kept_every`)."""
    K, objective, x0 = build_problem(spec)
    config = LionKConfig(
        lr=spec.lr,
        beta1=spec.beta1,
        beta2=spec.beta2,
        lam=spec.lam,
        decay=spec.decay,
        convention=spec.convention,
    )
    config.validate()
    if not spec.lam > 0:
        raise LionKError(
            f"lam = {spec.lam:g}: give a weight decay lam > 0; without it Lion-K "
            "solves no constrained problem and its Lyapunov function (1/λ)K*(λx) is "
            "undefined"
        )
    keep_every = kept_every(spec)
    check_memory(spec.steps, x0.size, keep_every=keep_every)
    if spec.noise < 0:
        raise LionKError(f"noise={spec.noise:g}: the gradient noise level must be ≥ 0")
    with np.errstate(all="ignore"):
        f0 = float(np.asarray(objective.f(x0)))
    if not np.isfinite(f0):
        raise NumericalFailure(
            f"f(x) = {f0:g} at step 0 (x = {format_vector(x0)}): the objective "
            "is not finite there; choose another --x0 or objective"
        )
    notes = theory_warnings(spec, K)
    for w in notes:
        warnings.warn(w, TheoryWarning, stacklevel=2)
    oracle = StochasticGradient(objective, spec.noise, spec.seed) if spec.noise > 0 else objective
    if keep_every == 1:
        result = run_discrete(
            K,
            oracle.grad,
            x0,
            config=config,
            steps=spec.steps,
            callback=progress,
            backend=spec.backend,
        )
        if not result.success:
            raise NumericalFailure(f"the run failed: {result.message}")
        diagnostics = diagnose_discrete(result, objective.f, objective.grad, L=objective.lipschitz)
        check_finite_run(result, diagnostics)
    else:
        result, diagnostics = _run_thinned(
            spec, K, objective, oracle, x0, config, progress, keep_every
        )
    # warm start at the run's last point: converged means a small proximal-gradient residual
    # there, whatever the start, and ill-conditioned f (exp(100 x)) are solved in few iterations
    reference = constrained_optimum(
        objective,
        K,
        spec.lam,
        x0=np.asarray(result.x[-1])[0] if np.ndim(result.x[-1]) > 1 else result.x[-1],
    )
    check_finite_reference(reference)
    return SimulationReport(spec, K, objective, x0, result, diagnostics, reference, notes)


def _keep_every(spec: SimulationSpec) -> int:
    k = spec.keep_every
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise LionKError(f"keep_every={k!r}: must be a positive integer")
    return k


def kept_every(spec: SimulationSpec) -> int:
    """Every how many steps the run keeps a state: ``spec.keep_every``, or ``spec.steps`` (the
    first and last states only) for a summary-only run (``series=False``, ``keep_every == 1``)."""
    k = _keep_every(spec)
    if k == 1 and not spec.series:
        steps = spec.steps
        return steps if isinstance(steps, int) and not isinstance(steps, bool) and steps > 1 else 1
    return k


def _run_thinned(spec, K, objective, oracle, x0, config, progress, keep_every):
    """The run in chunks (`run_chunks`), each diagnosed and checked while in memory, every
    ``keep_every``-th state kept (`ThinnedRun`)."""
    thinned = ThinnedRun(
        objective.f,
        objective.grad,
        keep_every=keep_every,
        last=spec.steps,
        L=objective.lipschitz,
    )
    for chunk in run_chunks(
        K,
        oracle.grad,
        x0,
        config=config,
        steps=spec.steps,
        chunk=chunk_steps(x0.size),
        callback=progress,
        backend=spec.backend,
    ):
        if not chunk.success:
            raise NumericalFailure(f"the run failed: {chunk.message}")
        diagnostics = thinned.diagnose(chunk)
        check_finite_run(chunk, diagnostics)
        thinned.add(chunk, diagnostics)
    return thinned.result(), thinned.diagnostics()


def _first_bad(values) -> int | None:
    """Index (axis 0) of the first non-finite entry, None if all are finite."""
    bad = ~np.isfinite(np.asarray(values, dtype=float))
    bad = bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad
    return int(np.argmax(bad)) if bad.any() else None


def check_finite_run(result: DiscreteResult, d: DiscreteDiagnostics) -> None:
    """`NumericalFailure` naming the step and the quantity when f(x_t), the KKT score after
    phase 1 or H_d (NaN at any step; ±inf once λx is in dom K*) is not finite: a NaN is never
    reported as a number nor counted as "monotone"."""
    steps = np.asarray(result.steps_saved)
    t = _first_bad(d.f)
    if t is not None:
        raise NumericalFailure(
            f"f(x) = {float(np.asarray(d.f)[t]):g} at step {steps[t]} (x = "
            f"{format_vector(np.asarray(result.x)[t])}): the objective is not "
            "finite there; choose another --x0 or objective"
        )
    exit_step = int(np.asarray(d.phase1_exit))
    for name, series, from_step in (
        ("H_d", d.H_d, exit_step if exit_step >= 0 else None),
        ("the KKT score", d.kkt, exit_step if exit_step >= 0 else None),
    ):
        values = np.asarray(series, dtype=float)
        nan_at = _first_bad(np.where(np.isnan(values), np.nan, 0.0))
        if nan_at is None and from_step is not None:
            nan_at = _first_bad(values[from_step:])
            nan_at = None if nan_at is None else nan_at + from_step
        if nan_at is not None:
            raise NumericalFailure(
                f"{name} = {values[nan_at]:g} at step {steps[nan_at]}: the "
                "Lyapunov diagnostics are not finite (overflow in K, K* or "
                "1/λ); use a larger --lam or a smaller --lr"
            )


def check_finite_reference(ref: ReferenceSolution) -> None:
    """`NumericalFailure` when the reference optimum is not finite (e.g. f unbounded below)."""
    if not (np.all(np.isfinite(np.asarray(ref.x, dtype=float))) and np.isfinite(float(ref.f))):
        raise NumericalFailure(
            f"the reference optimum of the induced problem is not finite "
            f"(f(x*) = {float(ref.f):g} by {ref.method}): the problem is "
            "unbounded below or undefined; choose an objective bounded below "
            "on the constraint set"
        )
