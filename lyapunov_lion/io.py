"""Writing simulation results to disk (``lionk simulate --save FILE.npz``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from .errors import LionKError


def save_trajectory(report, path: str | Path) -> Path:
    """Write the trajectory of a `SimulationReport` as ``.npz``.

    Arrays: ``x``, ``m`` of shape (steps+1, d) (paper convention: m accumulates −∇f), ``step``
    (steps+1,), ``f``, ``H`` (the discrete Lyapunov function H_d, +inf before phase 1 for
    indicator-type K*), ``dist`` (distance of λx to dom K*), ``kkt``; ``summary`` holds the
    JSON summary as a string.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise LionKError(f"--save {path}: the trajectory file must end in .npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    d = report.diagnostics
    np.savez(
        path,
        x=np.asarray(report.result.x),
        m=np.asarray(report.result.m),
        step=np.asarray(report.result.steps_saved),
        f=np.asarray(d.f),
        H=np.asarray(d.H_d),
        dist=np.asarray(d.dist),
        kkt=np.asarray(d.kkt),
        summary=np.asarray(json.dumps(report.summary_dict(), ensure_ascii=False)),
    )
    return path


def save_ode_trajectory(report, path: str | Path, discrete=None) -> Path:
    """Write an ODE run as ``.npz``: ``t``, ``x``, ``m`` (n, d), ``H``, ``dist``, and ``summary``;
    with the discrete `SimulationReport` of ``--mode both`` also ``discrete_x``, ``discrete_m``,
    ``discrete_step``, ``discrete_f``, ``discrete_H`` (the arrays of `save_trajectory`)."""
    path = Path(path)
    if path.suffix != ".npz":
        raise LionKError(f"--save {path}: the trajectory file must end in .npz")
    path.parent.mkdir(parents=True, exist_ok=True)
    r, d = report.result, report.result.diagnostics
    extra: dict[str, Any] = {}
    if discrete is not None:
        dd = discrete.diagnostics
        extra = {
            "discrete_x": np.asarray(discrete.result.x),
            "discrete_m": np.asarray(discrete.result.m),
            "discrete_step": np.asarray(discrete.result.steps_saved),
            "discrete_f": np.asarray(dd.f),
            "discrete_H": np.asarray(dd.H_d),
        }
    np.savez(
        path,
        t=np.asarray(r.t),
        x=np.asarray(r.x),
        m=np.asarray(r.m),
        H=np.asarray(d.H if d.H is not None else np.full(r.t.shape, np.nan)),
        dist=np.asarray(d.dist),
        **extra,
        summary=np.asarray(json.dumps(report.summary_dict(), ensure_ascii=False, default=str)),
    )
    return path
