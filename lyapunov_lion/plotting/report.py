"""The figure of one `lionk simulate` run, drawn from its `SimulationReport`."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..core.lyapunov import phase1_bound
from .simulation import figure_simulation
from .style import save_figure


def plot_simulation_report(report, path: str | Path) -> Path:
    """Draw the trajectory (with the constraint set), the phase-1 distance against its bound
    (1 − ηλ)^t·dist0 (or (1 + ηλ)^−t·dist0 for implicit decay) and f, H_d against the step, then
    save to ``path`` (PNG or PDF by extension)."""
    s, d = report.spec, report.diagnostics
    steps = np.asarray(report.result.steps_saved)
    dist = np.asarray(d.dist)
    # at the saved steps (every step, or every k-th with --keep-every)
    bound = phase1_bound(dist[0], s.lr, s.lam, int(steps[-1]), s.decay)[steps]
    x0 = ", ".join(f"{v:g}" for v in report.x0)
    fig = figure_simulation(
        {f"Lion-K, x₀ = ({x0})": np.asarray(report.result.x)},
        steps,
        dist,
        bound,
        np.asarray(d.f),
        np.asarray(d.H_d),
        f=report.objective.f,
        K=report.K,
        lam=s.lam,
        optimum=None if report.reference is None else report.reference.x,
        phase1_exit=report.phase1_exit_step,
        title=(
            f"f(x) = {report.objective.formula};  η = {s.lr:g}, β = ({s.beta1:g}, {s.beta2:g}), "
            f"{s.decay} decay, {s.steps} steps"
        ),
        bound_label="(1 − ηλ)^t·dist₀" if s.decay == "explicit" else "(1 + ηλ)^−t·dist₀",
        trajectory_panel=_matrix_panel(
            report, {"Lion-K": (steps, np.asarray(report.result.x))}, "step t"
        ),
    )
    return save_figure(fig, path)


def plot_ode_report(report, path: str | Path, discrete=None) -> Path:
    """The ODE trajectory (and the discrete iterates, for ``--mode both``) with the constraint set,
    dist(λx(t), dom K*) against e^{−λt}·dist0, and f, H against time t."""
    from ..core.lyapunov import phase1_bound_continuous

    r, d, c = report.result, report.result.diagnostics, report.coefficients
    lam = report.spec.lam
    paths = {"ODE x(t)": np.asarray(r.x)}
    runs = {"ODE": (np.asarray(r.t), np.asarray(r.x))}
    if discrete is not None:
        paths[f"discrete, η = {discrete.spec.lr:g}"] = np.asarray(discrete.result.x)
        steps = np.asarray(discrete.result.steps_saved)
        runs[f"discrete, η = {discrete.spec.lr:g}"] = (
            steps * discrete.spec.lr,
            np.asarray(discrete.result.x),
        )
    fig = figure_simulation(
        paths,
        np.asarray(d.t),
        np.asarray(d.dist),
        phase1_bound_continuous(float(np.asarray(d.dist)[0]), lam, np.asarray(d.t)),
        np.asarray(d.f),
        np.asarray(d.H),
        f=report.objective.f,
        K=report.K,
        lam=lam,
        optimum=None if report.reference is None else report.reference.x,
        phase1_exit=d.phase1_exit_time,
        time_label="time t",
        title=(
            f"f(x) = {report.objective.formula};  ODE α = {c['alpha']:g}, γ = {c['gamma']:g}, "
            f"ε = {c['eps']:g} ({r.report.method})"
        ),
        bound_label="e^(−λt)·dist₀",
        trajectory_panel=_matrix_panel(report, runs, "time t"),
    )
    return save_figure(fig, path)


def _matrix_panel(report, runs, time_label):
    """Panel (a) for a matrix K: singular values against 1/λ (None for a vector K)."""
    summary = report.matrix_summary() if hasattr(report, "matrix_summary") else None
    if summary is None:
        return None
    from .matrix import singular_value_panel

    return singular_value_panel(
        runs,
        tuple(summary["shape"]),
        report.spec.lam,
        summary.get("singular_values_optimum"),
        time_label,
    )
