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

from ..core.kfunc import KFunction
from .discrete_check import with_discrete
from .identity import with_identity
from .nd_checks import conditions_nd
from .record import FAILED, SKIPPED, Statement, VerifyReport
from .scalar_checks import _grad_selection, _independent, _lyapunov, _x_samples
from .scalar_convexity import ConvexityResult, numeric
from .state import Work
from .symbols import X


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
    return with_discrete(with_identity(rep), K, source, build_K)


def certify(
    work: Work,
    build_K: Callable[[VerifyReport], KFunction] | None = None,
    *,
    discrete: bool = True,
) -> Work:
    """``work`` with (i)–(iii), the descent statement and the independent checks of K*; with
    ``discrete`` also (iv), (v), (v′) as `attach_certificates` adds them: (v)/(v′) run on the
    catalog K the input named, else on ``build_K(report)``, the builder the front door injects
    (the pipeline never imports the layer that builds K)."""
    rep = work.report
    if rep.convex == FAILED:
        why = "k is not convex" if work.separable else "K is not convex"
        rep = replace(
            rep, lyapunov=(Statement("Lyapunov certificate", "needs a convex K", SKIPPED, why),)
        )
    elif work.separable:
        kf = numeric(rep.expr, X)
        g = _grad_selection(rep.pieces, rep.expr)
        rep = replace(
            rep,
            lyapunov=tuple(
                _lyapunov(ConvexityResult(rep.convex), rep.conjugate, kf, g, _x_samples(rep.pieces))
            ),
            numerical_checks=tuple(_independent(rep.conjugate, kf)),
        )
    else:
        rep = conditions_nd(work)
    if discrete:
        cat = work.catalog
        K, source = (cat.K, f"the catalog K {cat.label()}") if cat is not None else (None, None)
        rep = attach_certificates(rep, K, source, build_K)
    return replace(work, report=rep)


__all__ = ["Statement", "attach_certificates", "certify"]
