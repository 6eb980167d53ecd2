"""Add statements (iv) and (v)/(v′) to a copy of a `VerifyReport` (every report of `verify`).

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

from ..core.kfunc import KFunction
from ..errors import LionKError
from .discrete_check import discrete_statements
from .identity import identity_statement, prove_dHdt_identity
from .report import FAILED, Statement, VerifyReport, weakest

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


__all__ = ["Statement", "attach_certificates"]
