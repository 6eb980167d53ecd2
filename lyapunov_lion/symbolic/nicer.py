"""Rewrite a derived k*(y) (or ∇k*(y)) on one piece (lo, hi) of dom k* into a recognisable form.

sympy's inverse-function route leaves forms such as ``y·log(−(y+1)/(y−1))/2 − log(…)`` for the
conjugate of log cosh. On a piece (lo, hi) every linear factor ``y − a`` with a ∉ (lo, hi) has a
constant sign s there, so it can be replaced by ``s·P`` with P a *positive* dummy symbol; for
positive symbols sympy splits logarithms and powers exactly (log(P₁/P₂) = log P₁ − log P₂,
√(P₁P₂) = √P₁√P₂), after which the terms are collected by logarithm and the dummies substituted
back (P = s·(y − a), e.g. 1 + y and 1 − y). Example results:

* log cosh:   ((1 + y) log(1 + y) + (1 − y) log(1 − y)) / 2,  ∇k* = atanh(y)
* √(1 + x²):  −√(1 − y²)

A candidate is accepted only if it agrees with the original at sample points of the piece to
1e-12·(1 + |value|) (both are closed forms of the same function evaluated in float64) and is not
longer; otherwise the original is kept. The agreement is then the statement returned (CHECKED);
PROVEN when sympy also simplifies the difference to 0.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .limits import Budget
from .record import CHECKED, PROVEN

RTOL_NICER = 1e-12
"""Agreement required between the original and the rewritten form at the sample points."""


def _samples(lo, hi, n: int = 23) -> np.ndarray:
    if lo == -sp.oo and hi == sp.oo:
        return np.sinh(np.linspace(-4, 4, n))
    if lo == -sp.oo:
        return float(hi) - np.logspace(-3, 2, n)
    if hi == sp.oo:
        return float(lo) + np.logspace(-3, 2, n)
    a, b = float(lo), float(hi)
    return a + (b - a) * (np.arange(1, n + 1) / (n + 1))


def _agree(a: sp.Expr, b: sp.Expr, y: sp.Symbol, lo, hi) -> bool:
    from .scalar_convexity import numeric

    ys = _samples(lo, hi)
    va, vb = numeric(a, y)(ys), numeric(b, y)(ys)
    ok = np.isfinite(va)
    if not np.any(ok) or np.any(ok != np.isfinite(vb)):
        return False
    return bool(np.all(np.abs(va[ok] - vb[ok]) <= RTOL_NICER * (1 + np.abs(va[ok]))))


def _linear_factors(e: sp.Expr, y: sp.Symbol, lo, hi) -> dict:
    """{y − a (as it appears): (sign s on (lo, hi), positive dummy P = s·(y − a))}."""
    out = {}
    for add in e.atoms(sp.Add):
        poly = add.as_poly(y)
        if poly is None or poly.degree() != 1:
            continue
        root = sp.solve(add, y)[0]
        if not root.is_real or (root <= lo or root >= hi) not in (True, sp.true):
            continue
        t = (
            (lo + hi) / 2
            if (lo != -sp.oo and hi != sp.oo)
            else (
                hi - 1
                if lo == -sp.oo and hi != sp.oo
                else (lo + 1 if hi == sp.oo and lo != -sp.oo else sp.Integer(0))
            )
        )
        s = 1 if add.subs(y, t) > 0 else -1
        out[add] = (s, sp.Dummy("P", positive=True))
    return out


def _rewrite_positive(e: sp.Expr, y: sp.Symbol, lo, hi) -> sp.Expr:
    f = sp.factor(e, deep=True)
    facs = _linear_factors(f, y, lo, hi)
    if not facs:
        return e
    sub = {add: s * P for add, (s, P) in facs.items()}
    back = {P: s * add for add, (s, P) in facs.items()}
    w = sp.expand_log(sp.powsimp(f.xreplace(sub), force=False), force=False)
    w = sp.expand(w)
    logs = sorted(w.atoms(sp.log), key=sp.default_sort_key)
    if logs:
        w = sp.collect(w, logs, evaluate=True)
        terms = []
        for term in sp.Add.make_args(w):
            c, rest = term.as_independent(*logs)
            c = sp.factor(c)
            c = sp.factor(c, deep=True).xreplace(sub) if c.has(y) else c
            terms.append(c * rest)
        w = sp.Add(*terms)
    out = w.xreplace(back)
    # √(1 − y)·√(1 + y) → √(1 − y²) (and the same for exponent −1/2)
    return out.replace(lambda n: n.is_Mul, _merge_roots)


def _merge_roots(n: sp.Mul) -> sp.Expr:
    """Π √b_i → √(Π b_i) inside one product (valid: every b_i is positive on the piece)."""
    for ex in (sp.Rational(1, 2), sp.Rational(-1, 2)):
        roots = [a for a in n.args if a.is_Pow and a.exp == ex]
        if len(roots) >= 2:
            rest = [a for a in n.args if a not in roots]
            n = sp.Mul(*rest) * sp.Pow(sp.expand(sp.Mul(*[a.base for a in roots])), ex)
            if not n.is_Mul:
                return n
    return n


_NAMED = (sp.atanh, sp.asinh)


def _named(e: sp.Expr, y: sp.Symbol, lo, hi, budget: Budget) -> sp.Expr | None:
    """atanh(r(y)) / asinh(r(y)) when e is that function written with logs: first the cheap
    route — sinh(e) (tanh(e)) rewritten with exp, radicals removed from denominators, expanded
    and factored, a rational function r of y (log(y/2 + √(y² + 4)/2) → asinh(y/2)) — then
    sympy's simplify of the difference (at most 1 s each)."""
    cheap = _named_cheap(e, y, lo, hi, budget)
    if cheap is not None:
        return cheap
    for fn in _NAMED:
        ref = fn(y)
        ratio = budget.try_call(
            "nicer form (named)",
            sp.simplify,
            _rewrite_positive(e - ref.rewrite(sp.log), y, lo, hi),
            default=None,
        )
        if ratio == 0:
            return ref
    # asinh(r(y)) / atanh(r(y)) with r rational: sinh(e) (tanh(e)) simplifies to r (at most
    # 1 s of the budget each)
    for fn, inv in ((sp.asinh, sp.sinh), (sp.atanh, sp.tanh)):
        r = _quick(budget, 1.0, sp.simplify, inv(e))
        if r is not None and r.is_rational_function(y) and _agree(e, fn(r), y, lo, hi):
            return fn(r)
    return None


def _named_cheap(e: sp.Expr, y: sp.Symbol, lo, hi, budget: Budget) -> sp.Expr | None:
    """asinh(r) / atanh(r) with r = sinh(e) / tanh(e) a rational function of y after
    `_radical_free` (at most 1 s each). Exact: sinh and tanh are injective on R, so sinh(e) = r
    with e real on (lo, hi) (checked at the sample points) gives e = asinh(r)."""
    for fn, inv in ((sp.asinh, sp.sinh), (sp.atanh, sp.tanh)):
        r = _quick(budget, 1.0, _radical_free, inv(e))
        if r is not None and r.is_rational_function(y) and _agree(e, fn(r), y, lo, hi):
            return fn(r)
    return None


def _radical_free(e: sp.Expr) -> sp.Expr:
    """e rewritten with exp, denominators rationalised, expanded and factored (cheap: no
    simplify); sinh(log(y/2 + √(y² + 4)/2)) → y/2."""
    return sp.factor(sp.expand(sp.radsimp(sp.expand(e.rewrite(sp.exp)))))


def _plain_logs(e: sp.Expr, y: sp.Symbol) -> bool:
    """True when every logarithm in ``e`` is of a monomial c·yⁿ and every power of y has an
    integer exponent (log(y/c)/c, y·log(y) − y): nothing to split, and no asinh(r) =
    log(r + √(r² + 1)) or atanh(r) = ½log((1 + r)/(1 − r)) to recognise (their arguments are
    sums), so `nicer` would only spend time or trade log(y) for asinh((y² − 1)/(2y))."""
    logs = e.atoms(sp.log)
    return (
        bool(logs)
        and all(a.args[0].is_polynomial(y) and len(sp.Add.make_args(a.args[0])) == 1 for a in logs)
        and all(p.exp.is_Integer for p in e.atoms(sp.Pow) if p.base.has(y))
    )


def nicer(e: sp.Expr, y: sp.Symbol, lo, hi, budget: Budget) -> tuple[sp.Expr, str | None]:
    """A shorter, recognisable form of ``e`` on (lo, hi) and how it was confirmed.

    Returns ``(e, None)`` unchanged when no candidate is shorter and numerically equal (see the
    module docstring); otherwise ``(candidate, PROVEN | CHECKED)``.
    """
    if not e.has(y) or not e.has(sp.log, sp.Pow) or _plain_logs(e, y):
        return e, None
    if e.has(sp.log):
        cheap = _named_cheap(e, y, lo, hi, budget)
        if cheap is not None:  # proven by construction (see `_named_cheap`)
            return cheap, PROVEN
    cands = []
    named = _named(e, y, lo, hi, budget) if e.has(sp.log) else None
    if named is not None:
        cands.append(named)
    c = budget.try_call("nicer form", _rewrite_positive, e, y, lo, hi, default=None)
    if c is not None:
        cands.append(c)
    best, status = e, None
    for c in cands:
        if c == e or c.has(sp.Dummy) or sp.count_ops(c) > sp.count_ops(e) + 2:
            continue
        if not _agree(e, c, y, lo, hi):
            continue
        zero = budget.try_call(
            "nicer form (confirm)",
            lambda c=c: (
                sp.simplify(_rewrite_positive(e - c.rewrite(sp.log), y, lo, hi)) == 0
                or sp.simplify(
                    _rewrite_positive(e, y, lo, hi)
                    - _rewrite_positive(c.rewrite(sp.log), y, lo, hi)
                )
                == 0
            ),
            default=False,
        )
        best, status = c, (PROVEN if zero else CHECKED)
        break
    return best, status


# inverse pairs f(g(a)) = a on the set where the outer function is the inverse of the inner one;
# the numerical agreement test of `fenchel_form` rejects a rewrite used outside that set
_INVERSE_PAIRS = (
    (sp.asinh, sp.sinh),
    (sp.atanh, sp.tanh),
    (sp.atan, sp.tan),
    (sp.log, sp.exp),
    (sp.sinh, sp.asinh),
    (sp.tanh, sp.atanh),
    (sp.tan, sp.atan),
    (sp.exp, sp.log),
)


def _quick(budget: Budget, seconds: float, fn, *args):
    """``fn(*args)`` within ``seconds`` (and the budget left), None on a time-out or a sympy
    error: an optional rewrite never costs the derivation more than ``seconds``."""
    from .limits import SymbolicFailure, limited

    try:
        return limited("nicer form", min(seconds, budget.left() - 0.5), fn, *args)
    except (
        SymbolicFailure,
        ValueError,
        TypeError,
        NotImplementedError,
        ZeroDivisionError,
        AttributeError,
        RecursionError,
        ArithmeticError,
    ):
        return None


def _cancel_inverses(e: sp.Expr) -> sp.Expr:
    for outer, inner in _INVERSE_PAIRS:
        e = e.replace(
            lambda a, o=outer, i=inner: isinstance(a, o) and isinstance(a.args[0], i),
            lambda a: a.args[0].args[0],
        )
    return e


def _agree_mp(a: sp.Expr, b: sp.Expr, y: sp.Symbol, lo, hi, digits: int = 40) -> bool:
    """a = b at the sample points of (lo, hi), both evaluated with `digits` significant digits
    (mpmath), to 1e-25 relative: rounding of neither form can decide the comparison."""
    import mpmath

    fa, fb = (sp.lambdify(y, e, modules="mpmath") for e in (a, b))
    with mpmath.workdps(digits):
        for v in _samples(lo, hi, 15):
            try:
                va, vb = fa(mpmath.mpf(float(v))), fb(mpmath.mpf(float(v)))
            except (ValueError, ZeroDivisionError, OverflowError, TypeError):
                return False
            if not (mpmath.isfinite(va) and mpmath.isfinite(vb)) or mpmath.im(va) or mpmath.im(vb):
                return False
            if abs(va - vb) > mpmath.mpf(10) ** -25 * (1 + abs(va)):
                return False
    return True


def fenchel_form(
    e: sp.Expr, k_piece: sp.Expr, x: sp.Symbol, w: sp.Expr, y: sp.Symbol, lo, hi, budget: Budget
) -> tuple[sp.Expr, str | None]:
    """k*(y) = y·w(y) − k(w(y)) with w = ∇k*(y) (Fenchel–Young equality), with inverse
    compositions cancelled (asinh(sinh(y)) = y, atan(tan(y)) = y on (−π/2, π/2), ...) and the
    logarithms split: often a short, numerically stable form (cosh → y·asinh(y) − √(1 + y²),
    x·atan(x) − log(1 + x²)/2 → −log(cos(y))). Accepted when it equals ``e`` at sample points in
    40-digit arithmetic (CHECKED) and is shorter; PROVEN when sympy also simplifies the
    difference to 0. Returns ``(e, None)`` when no shorter equal form is found."""
    if budget.left() < 1 or sp.count_ops(e) <= 6:
        return e, None
    base = _cancel_inverses(y * w - k_piece.subs(x, w))
    cands = [base]
    simple = _quick(budget, 1.5, sp.simplify, base)
    if simple is not None:
        cands += [_cancel_inverses(simple), sp.expand_log(_cancel_inverses(simple), force=True)]
    if base.has(sp.tan, sp.cos, sp.sin):
        c = _quick(budget, 1.5, sp.trigsimp, base)
        if c is not None:
            cands.append(sp.expand_log(_cancel_inverses(c), force=True))
    best, status = e, None
    for c in sorted(set(cands), key=sp.count_ops):
        if c.has(sp.I, sp.Dummy) or sp.count_ops(c) >= sp.count_ops(best):
            continue
        if not _agree_mp(e, c, y, lo, hi):
            continue
        zero = bool(_quick(budget, 1.5, lambda c=c: sp.simplify(e - c) == 0))
        best, status = c, (PROVEN if zero else CHECKED)
        break
    return best, status
