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

import sympy as sp

from .dual_ball import DualBall
from .limits import SymbolicFailure
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
        return replace(work, report=replace(rep, induced=_constraint(rep.conjugate, work)))
    if work.conj_expr is not None:
        return replace(work, report=replace(rep, induced=_penalty(work)))
    return work


def _constraint(ball: DualBall, work: Work) -> dict:
    """λx ∈ C: ‖x‖_* ≤ 1/λ."""
    xs, ys = work.variables, ball.ys
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


def _penalty(work: Work) -> dict:
    """+ (1/λ)K*(λx) of a quadratic K, factored."""
    xs, Kc = work.variables, work.conj_expr
    ys = sp.symbols(" ".join(f"y{i}" for i in range(1, len(xs) + 1)), real=True)
    lam = sp.Symbol("lambda", positive=True)
    induced = sp.factor(Kc.xreplace({y: lam * v for y, v in zip(ys, xs, strict=False)}) / lam)
    return {"kind": "penalty", "text": f"+ {induced}", "latex": "+ " + sp.latex(induced)}
