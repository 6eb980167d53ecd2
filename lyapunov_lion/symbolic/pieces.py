"""Stage 2 of the pipeline, pieces: the structure of K that the later stages work on.

* separable k: its smooth pieces between breakpoints (`piecewise.split_pieces`); a failure is
  named in the report and the later stages fall back to numerics;
* K in x1, x2, …: positive homogeneity K(tx) = tK(x), t > 0 (PROVEN when sympy simplifies
  K(tx) − tK(x) to 0 for a positive symbol t, after taking t out of Max/Min; CHECKED on samples
  otherwise; a K that is not homogeneous is classified so, not failed), the exact linear pieces
  of a polyhedral K = max_j a_jᵀx, and the quadratic forms c√(xᵀAx) and ½xᵀAx + bᵀx + c
  (`kstructure`).

Imports no later stage.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy as sp

from .kstructure import (
    RTOL,
    linear_forms,
    numpy_fn,
    pull_t,
    quadratic_K,
    quadratic_norm,
    samples,
)
from .limits import Budget, SymbolicFailure, time_limit_enforced
from .piecewise import split_pieces
from .record import CHECKED, FAILED, PROVEN, Statement
from .state import Work
from .symbols import X


def split(work: Work, budget: Budget) -> Work:
    """``work`` with the pieces of k (separable) or the structure of K (non-separable)."""
    if not work.separable:
        return _structure(work, budget)
    rep = work.report
    failures, notes = list(rep.failures), list(rep.notes)
    if not time_limit_enforced():
        notes.append("time limit not enforced (not on the main thread of a POSIX process)")
    pk = None
    try:
        pk = split_pieces(rep.expr, X, budget)
    except SymbolicFailure as exc:
        failures.append(f"splitting k into smooth pieces: {exc}")
    k = dict(
        rep.k, pieces_text=[f"{p.expr} on {p.interval_text()}" for p in pk.pieces] if pk else []
    )
    report = replace(rep, k=k, pieces=pk, failures=tuple(failures), notes=tuple(notes))
    return replace(work, report=report)


def _structure(work: Work, budget: Budget) -> Work:
    rep, xs = work.report, work.variables
    K = rep.expr
    kf = numpy_fn(K, xs)
    S = samples(len(xs), 500)
    t = sp.Symbol("t", positive=True)
    diff = budget.try_call(
        "homogeneity",
        lambda: sp.simplify(pull_t(K.xreplace({v: t * v for v in xs}), t) - t * K),
        default=None,
    )
    ts = np.array([0.1, 0.5, 2.0, 7.0])
    hv = np.abs(kf(ts[:, None, None] * S) - ts[:, None] * kf(S))
    h_ok = np.all(hv <= RTOL * (1 + np.abs(ts[:, None] * kf(S))))
    hstat = PROVEN if diff == 0 else (CHECKED if h_ok else FAILED)
    if hstat == FAILED:  # a classification, not a failure of K: the general path follows
        hst = Statement(
            "positive homogeneity",
            "K is not positively homogeneous: K(tx) ≠ tK(x) for some t > 0",
            CHECKED,
            "on samples, t ∈ {0.1, 0.5, 2, 7}",
            n_samples=hv.size,
        )
    else:
        hst = Statement(
            "positive homogeneity",
            "K(tx) = tK(x) for t > 0",
            hstat,
            "" if hstat == PROVEN else "on samples, t ∈ {0.1, 0.5, 2, 7}",
            n_samples=None if hstat == PROVEN else hv.size,
            max_violation=None if hstat == PROVEN else float(hv.max()),
        )
    return replace(
        work,
        report=replace(rep, statements=(*rep.statements, hst)),
        homogeneity=hstat,
        forms=linear_forms(K, xs),
        quad=quadratic_norm(K, xs),
        quadratic=quadratic_K(K, xs) if hstat == FAILED else None,
    )
