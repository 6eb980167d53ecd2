"""Reading the input of `verify` (a helper of the `parse` stage; it imports no stage).

`classify` tells the three kinds of input apart: a catalog name (``huber:delta=0.5``, ``linf``:
its expression form with exact parameters, `catalog_input`), k in the single variable x (a
separable K(x) = Σ_i k(x_i)) or K in x1, x2, … (non-separable). `read_k` / `read_K` parse the
text with the safe parser `core.expr.parse_expression` (never ``eval``) and refuse a K that is
not finite and real on all of Rⁿ: for k, poles and domains are found symbolically over the whole
line when sympy can, then sampled; for K in x1, x2, … on seeded samples.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from ..core.expr import parse_expression
from ..errors import LionKError
from .catalog_input import CatalogInput, parse_catalog_name, unknown_input_hint
from .kstructure import numpy_fn, samples
from .limits import SymbolicFailure, limited
from .scalar_convexity import numeric
from .symbols import X

SEPARABLE, NONSEPARABLE = "separable", "nonseparable"
"""The two kinds of input the stages handle (a norm is found among non-separable K later)."""


def classify(text_or_expr: str | sp.Expr) -> tuple[str, str | sp.Expr, CatalogInput | None]:
    """(kind, the expression to read, the catalog entry or None) of an input: a catalog name
    gives its expression form; else k in x (or a sympy expression, or no variable) is
    SEPARABLE and K in other variables NONSEPARABLE. `LionKError` (one line, listing the catalog
    names) for a text that is neither a valid expression nor a catalog name."""
    cat = parse_catalog_name(text_or_expr) if isinstance(text_or_expr, str) else None
    if cat is not None:
        return (NONSEPARABLE if cat.kind == "norm" else SEPARABLE), cat.expression, cat
    try:
        names = parse_expression(text_or_expr).names if isinstance(text_or_expr, str) else ()
    except LionKError as exc:
        raise LionKError(f"{exc}; {unknown_input_hint()}") from None
    kind = NONSEPARABLE if len(names) >= 1 and names != ("x",) else SEPARABLE
    return kind, text_or_expr, None


def read_k(text_or_expr: str | sp.Expr) -> tuple[str, sp.Expr]:
    """(text, k in the symbol `symbols.X`) of a separable k, finite and real on R."""
    text, expr = _parse(text_or_expr)
    _check_finite(expr)
    return text, expr


def read_K(text: str) -> tuple[tuple[sp.Symbol, ...], sp.Expr]:
    """(x1, …, xn; K) of a non-separable K, n ≥ 2, finite and real on seeded samples of Rⁿ."""
    parsed = parse_expression(text)
    xs, K = parsed.variables, parsed.expr
    n = len(xs)
    if n < 2:
        raise LionKError(
            "verify_nonseparable takes K in x1, x2, …; for a separable K write its "
            "scalar k in x and use verify"
        )
    if not np.all(np.isfinite(numpy_fn(K, xs)(samples(n, 500)))):
        raise LionKError(f"K(x) = {K} is not finite and real on all of R^{n}")
    return tuple(xs), K


def _parse(text_or_expr) -> tuple[str, sp.Expr]:
    if isinstance(text_or_expr, str):
        parsed = parse_expression(text_or_expr)
        names = parsed.names
        if names not in ((), ("x",)):
            raise LionKError(
                "verify takes the scalar k of a separable K(x) = Σ_i k(x_i), written "
                f"in the single variable x (got variables {', '.join(names)}); for a "
                "non-separable K in x1, x2 use verify_nonseparable"
            )
        expr = parsed.expr
        if names == ("x",) and parsed.variables[0] != X:
            expr = expr.xreplace({parsed.variables[0]: X})
        return text_or_expr, expr
    if isinstance(text_or_expr, sp.Expr):
        free = sorted(text_or_expr.free_symbols, key=str)
        if len(free) > 1:
            raise LionKError(
                "verify takes an expression in one variable x (the scalar k of a "
                f"separable K); got symbols {', '.join(map(str, free))}"
            )
        expr = text_or_expr.xreplace({free[0]: X}) if free else text_or_expr
        return str(text_or_expr), expr
    raise LionKError(
        f"verify takes a string or a sympy expression, got {type(text_or_expr).__name__}"
    )


def _undefined_set(expr: sp.Expr) -> sp.Set:
    """The points of R where k is undefined or infinite (poles, log/sqrt/power domains, tan),
    found symbolically over the whole line (`sympy.calculus.util.continuous_domain`; Piecewise
    piece by piece on its condition set). sign/Heaviside are bounded and defined where their
    argument is, so they are replaced by sin of it. Raises NotImplementedError when sympy
    cannot decide."""
    from sympy.calculus.util import continuous_domain

    e = expr.replace(lambda a: isinstance(a, (sp.sign, sp.Heaviside)), lambda a: sp.sin(a.args[0]))
    if not e.has(sp.Piecewise):
        dom = continuous_domain(e, X, sp.S.Reals)
        if isinstance(dom, sp.Complement) and dom.args[0] == sp.S.Reals:
            return dom.args[1]
        return sp.Complement(sp.S.Reals, dom)
    e = sp.piecewise_fold(e)
    if not isinstance(e, sp.Piecewise):
        raise NotImplementedError("nested Piecewise")
    bad, covered = sp.S.EmptySet, sp.S.EmptySet
    for piece, cond in e.args:
        where = sp.Complement(sp.Intersection(cond.as_set(), sp.S.Reals), covered)
        bad = sp.Union(bad, sp.Intersection(where, _undefined_set(piece)))
        covered = sp.Union(covered, where)
    return sp.Union(bad, sp.Complement(sp.S.Reals, covered))


def set_text(s: sp.Set) -> str:
    """A subset of R in words: ``x = 50π + 200πn (n an integer)`` for an ImageSet over the
    integers, ``x ≥ 100`` / ``1 < x < 2`` for intervals, ``x = 1, 2`` for finite sets, parts of
    a union joined by ``; or``."""
    if isinstance(s, sp.Union):
        return "; or ".join(set_text(a) for a in s.args)
    if isinstance(s, sp.FiniteSet):
        return "x = " + ", ".join(str(v) for v in s)
    if isinstance(s, sp.Interval):
        lt, le = ("<", ">") if s.left_open else ("≤", "≥")
        hi = "" if s.end == sp.oo else f" {'<' if s.right_open else '≤'} {s.end}"
        if s.start == -sp.oo:
            return f"x{hi}" if hi else "every x"
        return f"{s.start} {lt} x{hi}" if hi else f"x {le} {s.start}"
    if isinstance(s, sp.ImageSet) and len(s.lamda.variables) == 1:
        n = sp.Symbol("n", integer=True)
        body = sp.expand(s.lamda.expr.xreplace({s.lamda.variables[0]: n}))
        dom = "an integer" if s.base_sets[0] == sp.S.Integers else f"in {s.base_sets[0]}"
        return f"x = {body} (n {dom})"
    return str(s)


def _check_finite(expr: sp.Expr, budget_s: float = 5.0) -> None:
    """`LionKError` unless k is finite and real on all of R: poles and domains found
    symbolically over the whole line when sympy can (`_undefined_set`), then — also for what
    sympy simplified away, e.g. the 0/0 of x/Piecewise((x, x < 1), (1, True)) — sampled on
    [−50, 50], where a float64 overflow is re-evaluated with mpmath (exp(x²) is finite, only too
    large for a float)."""
    try:
        bad = limited("domain of k", budget_s, _undefined_set, expr)
    except (SymbolicFailure, NotImplementedError, TypeError, ValueError, RecursionError):
        bad = None
    if bad is not None and not bad.is_empty:
        shown = set_text(bad)
        raise LionKError(
            f"k(x) = {expr} is not finite and real at {shown[:100]}"
            f"{'...' if len(shown) > 100 else ''} (undefined or infinite there, found "
            "symbolically); Lion-K needs a finite convex k: R → R"
        )
    xs = np.concatenate([np.linspace(-50, 50, 1001), [0.0]])
    with np.errstate(all="ignore"):
        v = numeric(expr, X)(xs)
    bad_x = xs[~np.isfinite(v)]
    if bad_x.size:
        import mpmath

        f_mp = sp.lambdify(X, expr, modules="mpmath")
        with mpmath.workdps(30):
            for b in bad_x:
                try:
                    val = f_mp(mpmath.mpf(float(b)))
                    finite = mpmath.isfinite(val) and not mpmath.im(val)
                except (ValueError, ZeroDivisionError, TypeError, OverflowError):
                    finite = False
                if not finite:
                    raise LionKError(
                        f"k(x) = {expr} is not finite and real on all of R (e.g. at "
                        f"x = {b:g}); Lion-K needs a finite convex k: R → R"
                    )
