"""Stage 6 of the pipeline, certificates: the Lyapunov conditions of spec §4 and §5 for this K.

* (i) monotonicity of ∇K, (ii) the mixed inequality (Lemma 2.1), (iii) Fenchel–Young, and the
  descent statement Δ ≥ 0 they imply for εγ ≤ 1, λ > 0 (`scalar_checks` for a separable K,
  `nd_checks` for K in x1, x2, …), with the independent numerical checks of K*;
* (iv) the Lyapunov identity dH/dt = −Δ of spec §4, proved by sympy (`identity`), worded for this
  K (differentiable or not, dom K* = R^d or not); it is inserted before "Lyapunov descent", whose
  status then also depends on it;
* (v) the spec §5 inequality (implicit decay) and (v′) its explicit-decay variant, checked
  numerically on a built K (`discrete_check`): the catalog K when the input was a catalog name,
  else the K built from the report (`kbuild.K_from_report`); SKIPPED with the reason when no K
  can be built (K not convex, a failed statement, conjugate not handled).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import sympy as sp

from ..core.expr import lambdify_numpy
from ..core.kfunc import KFunction
from ..errors import LionKError
from .discrete_check import discrete_statements
from .identity import identity_statement, prove_dHdt_identity
from .kstructure import grad_selection_nd, numpy_fn
from .nd_checks import general_checks, norm_checks, quadratic_checks
from .record import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport, weakest
from .scalar_checks import _grad_selection, _independent, _lyapunov, _x_samples
from .scalar_convexity import ConvexityResult, numeric
from .state import Work
from .symbols import X

_NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign, sp.Heaviside)


def _expression_smoothness(expr) -> bool | None:
    """True for a composition of functions smooth on all of R^d (no Abs/Max/Min/Piecewise/sign/
    Heaviside, only integer powers, no log/sqrt that could meet 0); None (not decided) otherwise."""
    if expr is None or expr.has(*_NONSMOOTH):
        return None
    for p in expr.atoms(sp.Pow):
        if not (p.exp.is_Integer and (p.exp >= 0 or p.base.is_positive)):
            return None
    if any(not a.args[0].is_positive for a in expr.atoms(sp.log)):
        return None
    return True


def _smoothness(rep: VerifyReport) -> tuple[bool | None, str, bool | None]:
    """(K differentiable?, where it is not, dom K* ≠ R^d?) from what the report derived."""
    if rep.kind == "norm":
        return False, "a norm has a kink at 0", True
    if rep.kind != "separable":
        return _expression_smoothness(rep.expr), "", None
    kinks = (rep.grad or {}).get("kinks") or []
    conj = rep.conjugate
    constrained = None
    if conj is not None:
        constrained = bool(np.isfinite(float(conj.ymin)) or np.isfinite(float(conj.ymax)))
    if rep.pieces is None:
        return None, "smooth pieces not found", constrained
    if kinks:
        return False, "kinks of k at x = " + ", ".join(str(b) for b, _ in kinks), constrained
    return True, "", constrained


def _with_identity(rep: VerifyReport) -> VerifyReport:
    """A copy of ``rep`` with (iv) in ``lyapunov`` (before "Lyapunov descent", whose status then
    also depends on it) and the H, c, Δ formulas; ``rep`` and its statements are not changed."""
    diff, where, constrained = _smoothness(rep)
    st = identity_statement(diff, where, constrained)
    lyapunov = list(rep.lyapunov)
    names = [s.name for s in lyapunov]
    if "Lyapunov descent" in names:
        i = names.index("Lyapunov descent")
        descent = lyapunov[i]
        lyapunov[i : i + 1] = [
            st,
            replace(
                descent,
                status=weakest([descent.status, st.status]),
                detail=descent.detail + "; dH/dt = −Δ by (iv)",
            ),
        ]
    else:
        lyapunov.append(st)
    return replace(
        rep, lyapunov=tuple(lyapunov), lyapunov_formulas=prove_dHdt_identity().formulas()
    )


def _build_K(
    rep: VerifyReport, build_K: Callable[[VerifyReport], KFunction] | None
) -> tuple[KFunction | None, str]:
    if rep.convex == FAILED:
        return None, "K is not convex"
    if rep.kind == "nonseparable":
        return None, (
            "no K object: the conjugate of a non-separable K that is not positively "
            "homogeneous is not handled yet"
        )
    if not rep.ok:
        bad = next(s for s in rep._all() if s.status == FAILED)
        return None, f"no verified K to run: {bad.name} FAILED"
    if build_K is None:
        return None, "no K builder given"
    try:
        return build_K(rep), ""
    except LionKError as exc:
        return None, f"no K object: {exc}"


def attach_certificates(
    rep: VerifyReport,
    K: KFunction | None = None,
    source: str | None = None,
    build_K: Callable[[VerifyReport], KFunction] | None = None,
) -> VerifyReport:
    """A new report: ``rep`` with (iv), (v) and (v′) added (``rep`` itself is not changed).

    ``K``: the K to run for (v)/(v′); else ``build_K(rep)`` (the caller's builder, e.g.
    `kbuild.K_from_report`: this stage never imports the layer that builds K); ``source`` names
    it in the report."""
    rep = _with_identity(rep)
    why = ""
    if K is None:
        K, why = _build_K(rep, build_K)
        source = source or (
            "the K built from the expression (kbuild)"
            + (", K* numerical" if rep.method == "numerical" else "")
        )
    return replace(rep, discrete=tuple(discrete_statements(K, source or "the given K", why)))


def certify(
    work: Work,
    build_K: Callable[[VerifyReport], KFunction] | None = None,
    *,
    discrete: bool = True,
) -> Work:
    """``work`` with (i)–(iii), the descent statement and the independent checks of K*; with
    ``discrete`` also (iv), (v), (v′) (`attach_certificates`: on the catalog K the input named,
    else on ``build_K(report)``, the builder the front door injects: the pipeline never imports
    the layer that builds K)."""
    report = _lyapunov_conditions(work)
    if discrete and work.catalog is not None:
        report = attach_certificates(
            report, K=work.catalog.K, source=f"the catalog K {work.catalog.label()}"
        )
    elif discrete:
        report = attach_certificates(report, build_K=build_K)
    return replace(work, report=report)


def _lyapunov_conditions(work: Work) -> VerifyReport:
    """The report with (i)–(iii), the descent statement and the numerical checks of K*."""
    rep = work.report
    if rep.convex == FAILED:
        why = "k is not convex" if work.separable else "K is not convex"
        return replace(
            rep, lyapunov=(Statement("Lyapunov certificate", "needs a convex K", SKIPPED, why),)
        )
    if work.separable:
        kf = numeric(rep.expr, X)
        xs = _x_samples(rep.pieces)
        g = _grad_selection(rep.pieces, rep.expr)
        conv = ConvexityResult(rep.convex)
        return replace(
            rep,
            lyapunov=tuple(_lyapunov(conv, rep.conjugate, kf, g, xs)),
            numerical_checks=tuple(_independent(rep.conjugate, kf)),
        )
    variables = work.variables
    n = len(variables)
    g = grad_selection_nd(rep.expr, variables, work.forms, work.quad)
    if rep.kind == "norm":
        ball = rep.conjugate
        dstat = PROVEN if ball.method == "symbolic" else CHECKED
        checks, lyapunov = norm_checks(
            numpy_fn(rep.expr, variables), g, ball, n, dstat, work.homogeneity, rep.convex
        )
        return replace(rep, numerical_checks=checks, lyapunov=lyapunov)
    if work.conj_expr is not None:
        ys = sp.symbols(" ".join(f"y{i}" for i in range(1, n + 1)), real=True)
        kc = lambdify_numpy(work.conj_expr, tuple(ys))
        status = rep.derivation[-1].status
        return replace(
            rep, lyapunov=quadratic_checks(numpy_fn(rep.expr, variables), g, kc, n, status)
        )
    return replace(rep, lyapunov=general_checks(g, n, rep.convex))


__all__ = ["Statement", "attach_certificates", "certify"]
