"""Stage 3 of the pipeline, convexity: is K convex? (Lion-K needs a convex K.)

* separable k on its smooth pieces (`scalar_convexity`): k'' ≥ 0 on every piece, continuity and
  k'(b−) ≤ k'(b+) at every breakpoint, proven by sympy or checked at 50 digits / on samples; a
  failure comes with a counterexample (a, b, θ = 1/2). Without pieces (or past the time budget)
  second differences on a grid (CHECKED or FAILED);
* K in x1, x2, …: PROVEN by structure (sums and non-negative multiples of convex terms, Max of
  convex, |affine|, √(positive semidefinite quadratic form), log Σ exp(affine)) or by a positive
  semidefinite Hessian (principal minors ≥ 0, sympy) on a smooth K; else CHECKED by midpoint
  convexity on seeded random pairs, FAILED with a counterexample (`kstructure`).

A K that is not convex gets a note; the later stages then derive nothing for it.

Imports no later stage.
"""

from __future__ import annotations

from dataclasses import replace

from .kstructure import convex_by_structure, hessian_psd, numeric_convexity_nd, numpy_fn
from .limits import Budget, SymbolicFailure
from .record import FAILED, PROVEN, Statement, VerifyReport
from .scalar_convexity import check_convexity, numeric_convexity
from .state import Work


def decide_convexity(work: Work, budget: Budget) -> Work:
    """``work`` with the convexity statements and status of K in its report."""
    rep = work.report
    if not work.separable:
        return replace(work, report=_convexity_nd(work, budget))
    failures, notes = list(rep.failures), list(rep.notes)
    if rep.pieces is not None:
        try:
            conv = check_convexity(rep.pieces, budget)
        except SymbolicFailure as exc:
            failures.append(f"convexity: {exc}")
            conv = numeric_convexity(rep.expr)
    else:
        conv = numeric_convexity(rep.expr)
    if conv.status == FAILED:
        notes.append(
            "k is not convex: no conjugate, induced problem or Lyapunov certificate "
            "(Lion-K needs a convex K)"
        )
    report = replace(
        rep,
        convex=conv.status,
        statements=(*rep.statements, *conv.statements),
        failures=tuple(failures),
        notes=tuple(notes),
    )
    return replace(work, report=report)


def _convexity_nd(work: Work, budget: Budget) -> VerifyReport:
    rep, xs = work.report, work.variables
    K = rep.expr
    if convex_by_structure(K, xs):
        cst = Statement(
            "convexity",
            "K is convex",
            PROVEN,
            "by structure: sums and non-negative "
            "multiples of convex terms, Max of convex, |affine|, √(PSD quadratic "
            "form), log Σ exp(affine)",
        )
    elif hessian_psd(K, xs, budget):
        cst = Statement("convexity", "∇²K(x) ⪰ 0 (all principal minors ≥ 0)", PROVEN, "sympy")
    else:
        cst = numeric_convexity_nd(numpy_fn(K, xs), len(xs))
    rep = replace(rep, statements=(*rep.statements, cst), convex=cst.status)
    if cst.status == FAILED:
        rep = replace(
            rep,
            notes=(
                *rep.notes,
                "K is not convex: no conjugate, induced problem or Lyapunov certificate",
            ),
        )
    return rep
