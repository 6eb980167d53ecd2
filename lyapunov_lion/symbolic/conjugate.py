"""Stage 4 of the pipeline, gradient and conjugate: ∂K (or ∇K) and K* with its domain.

* separable k: ∂k (kinks give segments) and k* with dom k* and ∇k* through the inverse of the
  subdifferential (`scalar_conjugate`); when that fails or runs out of time, a numerical k*
  (brute-force supremum, domain ends from the limits of k', `numeric`), named in the report;
* a norm (K convex and positively homogeneous): K* = δ_C with C = ∂K(0) the dual ball
  (`dual_ball`), exactly for polyhedral and quadratic-form K, numerically in 2-D otherwise;
* a quadratic K = ½xᵀAx + bᵀx + c, A ≻ 0: K*(y) = ½(y − b)ᵀA⁻¹(y − b) − c, PROVEN by sympy
  checking the Fenchel–Young equality K*(∇K(x)) = ∇K(x)ᵀx − K(x) identically;
* any other convex K: K* only on the range of ∇K (numerically); its domain and closed form are
  *not handled yet* (a SKIPPED statement says so).

Nothing is derived for a K that is not convex. Imports no later stage.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from .limits import Budget, SymbolicFailure
from .nd_conjugate import conjugate_nd
from .numeric import NumericalConjugate, numerical_conjugate
from .record import FAILED
from .scalar_conjugate import SymbolicConjugate, describe_grad, interval_latex
from .scalar_conjugate import conjugate as scalar_conjugate
from .state import Work
from .symbols import X


def derive_conjugate(work: Work, budget: Budget) -> Work:
    """``work`` with ∇K, K*, dom K* and ∇K* in its report (nothing when K is not convex)."""
    if work.report.convex == FAILED:
        return work
    if not work.separable:
        return conjugate_nd(work)
    rep = work.report
    expr, pk = rep.expr, rep.pieces
    failures, notes = list(rep.failures), list(rep.notes)
    conj: SymbolicConjugate | NumericalConjugate | None = None
    if pk is not None:
        try:
            conj = scalar_conjugate(pk, budget)
        except SymbolicFailure as exc:
            failures.append(f"conjugate: {exc}")
    if conj is None:
        conj = numerical_conjugate(expr, budget, notes)
        notes.append(
            "k* is numerical: values by brute-force supremum inside the domain, +∞ "
            "outside; statements relying on it are CHECKED, not PROVEN"
        )
    grad = None
    if pk is not None:
        try:
            grad = describe_grad(pk, budget)
        except SymbolicFailure as exc:
            failures.append(f"gradient description: {exc}")
    else:
        grad = {"text": str(sp.diff(expr, X)), "kinks": [], "latex": sp.latex(sp.diff(expr, X))}
    # the same order of evaluation as the steps of the pipeline: k* text, then induced problem
    conj_d = {
        "text": conj.text(),
        "latex": conj.latex(),
        "domain_text": conj.domain_text,
        "domain": [str(conj.ymin), str(conj.ymax)],
        "closed": [conj.lo_closed, conj.hi_closed],
        "domain_latex": interval_latex(conj),
    }
    conj_grad = {"text": conj.grad_text()}
    derivation = tuple(getattr(conj, "statements", []))  # k*'s text may add rewritings
    report = replace(
        rep,
        method=conj.method,
        derivation=(*rep.derivation, *derivation),
        grad=grad,
        conj=conj_d,
        conj_grad=conj_grad,
        failures=tuple(failures),
        notes=tuple(notes),
        conjugate=conj,
    )
    return replace(work, report=report)
