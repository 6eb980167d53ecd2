"""Stage 5 of the pipeline, the induced problem: what Lion-K with weight decay λ solves.

Spec §4: Lion-K minimises f(x) + (1/λ)K*(λx).

* separable K: (1/λ)Σ_i k*(λx_i), classified as a constraint (dom k* ≠ R, k* constant on it),
  a regulariser (dom k* = R) or both (`scalar_conjugate.induced_problem`);
* a norm, K* = δ_C: the constraint λx ∈ C, i.e. ‖x‖_* ≤ 1/λ (r/λ for r·‖·‖ of a named norm);
* a quadratic K: the penalty (1/λ)K*(λx) in closed form.

Nothing for a K that is not convex or whose K* is not handled. Imports no later stage.
"""

from __future__ import annotations

from dataclasses import replace

from .limits import SymbolicFailure
from .nd_conjugate import induced_constraint, induced_penalty
from .record import FAILED
from .scalar_conjugate import induced_problem
from .state import Work


def induce(work: Work) -> Work:
    """``work`` with the induced problem (text, LaTeX, kind) in its report."""
    rep = work.report
    if rep.convex == FAILED:
        return work
    if work.separable:
        try:
            induced = induced_problem(rep.conjugate)
        except SymbolicFailure as exc:  # pragma: no cover - induced_problem uses cheap sympy calls
            return replace(
                work, report=replace(rep, failures=(*rep.failures, f"induced problem: {exc}"))
            )
        return replace(work, report=replace(rep, induced=induced))
    if rep.kind == "norm":
        induced = induced_constraint(rep.conjugate, work.variables)
    elif work.conj_expr is not None:
        induced = induced_penalty(work.conj_expr, work.variables)
    else:
        return work  # K* not handled: no induced problem
    return replace(work, report=replace(rep, induced=induced))
