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

import numpy as np
import sympy as sp

from ..errors import LionKError
from .dual_ball import Y2, numeric_ball, polyhedral_ball, quadratic_ball
from .kstructure import ae_diff, grad_selection_nd, numpy_fn, samples
from .limits import Budget, SymbolicFailure
from .numeric import NumericalConjugate, numerical_conjugate
from .record import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport, weakest
from .scalar_conjugate import SymbolicConjugate, describe_grad, interval_latex
from .scalar_conjugate import conjugate as scalar_conjugate
from .state import Work
from .symbols import X


def derive_conjugate(work: Work, budget: Budget) -> Work:
    """``work`` with ∇K, K*, dom K* and ∇K* in its report (nothing when K is not convex)."""
    if work.report.convex == FAILED:
        return work
    if work.separable:
        return replace(work, report=_separable(work.report, budget))
    return _nonseparable(work)


def _separable(rep: VerifyReport, budget: Budget) -> VerifyReport:
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
    return replace(
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


def _nonseparable(work: Work) -> Work:
    rep, xs, forms = work.report, work.variables, work.forms
    K = rep.expr
    grad = {
        "text": (
            "a_j*, j* = argmax_j a_jᵀx over the linear pieces"
            if forms is not None
            else str([ae_diff(K, v) for v in xs])
        ),
        "kinks": [],
    }
    rep = replace(rep, grad=grad)
    if work.homogeneity == FAILED:
        if work.quadratic is not None:
            return _quadratic(replace(work, report=rep))
        return replace(work, report=_general(rep, xs, forms, work.quad))
    return replace(work, report=_norm(rep, work))


def _norm(rep: VerifyReport, work: Work) -> VerifyReport:
    """K sublinear ⇒ K* = δ_C, C = {y : yᵀx ≤ K(x) ∀x} = {‖y‖_* ≤ 1}."""
    xs, forms, quad = work.variables, work.forms, work.quad
    n = len(xs)
    ys = Y2 if n == 2 else sp.symbols(" ".join(f"y{i}" for i in range(1, n + 1)), real=True)
    if forms is not None:
        ball = polyhedral_ball(forms, xs, ys)
        how = f"K = max_j a_jᵀx over {len(forms)} exact linear pieces; C = conv{{a_j}}"
    elif quad is not None:
        ball = quadratic_ball(quad[0], quad[1], ys)
        how = "K = c√(xᵀAx), A ≻ 0 (leading minors > 0): C = {yᵀA⁻¹y ≤ c²} by Cauchy–Schwarz"
    elif n == 2:
        ball = numeric_ball(numpy_fn(rep.expr, xs), ys)
        how = "gauge of C from 4096 points of the unit sphere of K (no closed form recognised)"
    else:
        raise LionKError(
            "only polyhedral and quadratic-form K are handled in more than 2 variables"
        )
    dstat = PROVEN if ball.method == "symbolic" else CHECKED
    derivation = Statement(
        "K* = δ_C",
        f"K sublinear ⇒ K* = δ_C, C = {{y : yᵀx ≤ K(x) ∀x}} = {{‖y‖_* ≤ 1}}, ‖y‖_* = {ball.text_}",
        weakest([dstat, work.homogeneity or PROVEN, rep.convex]),
        how,
    )
    conj = {
        "text": f"δ{{{ball.text_} ≤ 1}}",
        "latex": r"\delta\{" + ball.latex_ + r" \le 1\}",
        "domain_text": f"{{y : {ball.text_} ≤ 1}}",
        "domain_latex": r"\{y : " + ball.latex_ + r" \le 1\}",
    }
    return replace(
        rep,
        kind="norm",
        method=ball.method,
        conjugate=ball,
        derivation=(*rep.derivation, derivation),
        conj=conj,
        conj_grad={"text": "0 (0 lies in the normal cone of C at every y ∈ C)"},
    )


def _quadratic(work: Work) -> Work:
    """K = ½xᵀAx + bᵀx + c, A ≻ 0: K*(y) = ½(y − b)ᵀA⁻¹(y − b) − c on all of Rⁿ, ∇K*(y) =
    A⁻¹(y − b) (the maximiser of yᵀx − K(x) solves Ax + b = y); PROVEN by sympy checking the
    Fenchel–Young equality K*(∇K(x)) = ∇K(x)ᵀx − K(x) identically."""
    rep, xs = work.report, work.variables
    A, b, c = work.quadratic  # type: ignore[misc]
    K, n = rep.expr, len(xs)
    ys = sp.Matrix(sp.symbols(" ".join(f"y{i}" for i in range(1, n + 1)), real=True))
    Ainv = A.inv()
    Kc = sp.expand((ys - b).T * Ainv * (ys - b) / 2)[0, 0] - c
    gradK = sp.Matrix([sp.diff(K, v) for v in xs])
    identity = sp.simplify(
        Kc.xreplace(dict(zip(ys, gradK, strict=False))) - (gradK.T * sp.Matrix(xs))[0, 0] + K
    )
    status = PROVEN if identity == 0 else FAILED
    conj = {
        "text": f"{Kc} on R^{n}",
        "latex": sp.latex(Kc),
        "domain_text": f"R^{n}",
        "domain_latex": r"\mathbb{R}^{" + str(n) + "}",
    }
    derivation = Statement(
        "K* of a quadratic K",
        f"K = ½xᵀAx + bᵀx + c, A = {A.tolist()} ≻ 0 ⇒ K*(y) = ½(y − b)ᵀA⁻¹(y − b) − c = {Kc}",
        status,
        "sympy: K*(∇K(x)) − (∇K(x)ᵀx − K(x)) simplifies to 0 (Fenchel–Young equality; the "
        "supremum of the strictly concave yᵀx − K(x) is attained at Ax + b = y)",
    )
    report = replace(
        rep,
        conj=conj,
        conj_grad={"text": str(list(Ainv * (ys - b)))},
        derivation=(*rep.derivation, derivation),
        method="symbolic",
        notes=(
            *rep.notes,
            "quadratic K: K* in closed form; simulate takes it as a separable or norm K "
            "only (no K is built for simulate)",
        ),
    )
    return replace(work, report=report, conj_expr=Kc)


def _general(rep: VerifyReport, xs, forms, quad) -> VerifyReport:
    """K* of a convex K neither separable nor homogeneous: known on the range of ∇K only."""
    n = len(xs)
    X_ = samples(n, 200, 6)
    GX = grad_selection_nd(rep.expr, xs, forms, quad)(X_)
    conj_vals = np.sum(GX * X_, axis=-1) - numpy_fn(rep.expr, xs)(X_)
    conj = {
        "text": "not handled yet: K is not positively homogeneous and not separable; "
        f"numerically K*(∇K(x)) = ∇K(x)ᵀx − K(x) on {len(X_)} points of the range of ∇K",
        "latex": r"K^*(\nabla K(x)) = \nabla K(x)^\top x - K(x)",
        "domain_text": "not determined (contains the range of ∇K)",
        "domain_latex": "",
    }
    derivation = Statement(
        "conjugate",
        "closed form of K* and dom K*",
        SKIPPED,
        "not handled yet for a non-separable, non-homogeneous K; numerical fallback: "
        "K* known on "
        f"the range of ∇K only (values from {len(X_)} points, range "
        f"[{np.nanmin(conj_vals):.4g}, {np.nanmax(conj_vals):.4g}])",
    )
    return replace(
        rep,
        conj=conj,
        derivation=(*rep.derivation, derivation),
        method="none",
        notes=(
            *rep.notes,
            "non-separable K that is not positively homogeneous: convexity certified, "
            "K* and the induced problem not handled yet (no K is built for simulate)",
        ),
    )
