"""The conjugate of a convex K(x1, …, xn) and its induced problem (a helper of the `conjugate`
and `induced` stages; it imports no stage).

* a norm (K convex and positively homogeneous, *sublinear*): K is the support function of
  C = ∂K(0) = {y : yᵀx ≤ K(x) ∀x}, so K* = δ_C (`dual_ball`) and Lion-K with weight decay λ
  solves min f(x) s.t. λx ∈ C, i.e. ‖x‖_* ≤ 1/λ;
* a quadratic K = ½xᵀAx + bᵀx + c, A ≻ 0: K*(y) = ½(y − b)ᵀA⁻¹(y − b) − c in closed form
  (x1² + x1x2 + x2² → (y1² − y1y2 + y2²)/3), the induced term the penalty (1/λ)K*(λx);
* any other convex K (e.g. log(exp(x1) + exp(x2))): K* only on the range of ∇K
  (K*(∇K(x)) = ∇K(x)ᵀx − K(x), Fenchel–Young equality, numerically); its domain and closed form
  are *not handled yet* (a SKIPPED statement says so).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import sympy as sp

from ..errors import LionKError
from .dual_ball import Y2, DualBall, numeric_ball, polyhedral_ball, quadratic_ball
from .kstructure import ae_diff, grad_selection_nd, numpy_fn, samples, y_symbols
from .record import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport, weakest
from .state import Work


def conjugate_nd(work: Work) -> Work:
    """``work`` with ∇K, K* and ∇K* of a convex K in x1, x2, … (module docstring)."""
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
    ys = Y2 if n == 2 else y_symbols(n)
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
    ys = sp.Matrix(y_symbols(n))
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


def induced_constraint(ball: DualBall, xs) -> dict:
    """λx ∈ C: ‖x‖_* ≤ 1/λ (r/λ for r·‖·‖ of a named norm), text and LaTeX."""
    ys = ball.ys
    named = ball.name in ("l1", "l2", "linf")
    xn = ball.text_.replace("y", "x") if named else f"‖x‖_* ({ball.text_.replace('y', 'x')})"
    if named:
        lat = ball.latex_.replace(r"\|y\|", r"\|x\|")
    elif ball.expr is not None:
        lat = sp.latex(ball.expr.xreplace(dict(zip(ys, xs, strict=False))))
    else:
        lat = r"\max_{K(u)=1} x^\top u"
    r = "1/λ" if ball.scale == 1 else f"{sp.nsimplify(ball.scale)}/λ"
    rl = (
        r"\frac{1}{\lambda}"
        if ball.scale == 1
        else sp.latex(sp.nsimplify(ball.scale) / sp.Symbol("lambda"))
    )
    if named:
        return {
            "kind": "constraint",
            "text": f"s.t. {xn} ≤ {r}",
            "latex": r"\text{s.t. } " + lat + r" \le " + rl,
        }
    return {
        "kind": "constraint",
        "text": f"s.t. {xn} ≤ 1/λ",
        "latex": r"\text{s.t. } " + lat + r" \le \frac{1}{\lambda}",
    }


def induced_penalty(Kc: sp.Expr, xs) -> dict:
    """+ (1/λ)K*(λx) of K* = ``Kc`` in y1, …, yn (a quadratic K), factored."""
    ys = y_symbols(len(xs))
    lam = sp.Symbol("lambda", positive=True)
    induced = sp.factor(Kc.xreplace({y: lam * v for y, v in zip(ys, xs, strict=False)}) / lam)
    return {"kind": "penalty", "text": f"+ {induced}", "latex": "+ " + sp.latex(induced)}
