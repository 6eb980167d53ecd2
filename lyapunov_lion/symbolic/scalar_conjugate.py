"""Symbolic convex conjugate of a convex scalar k given as smooth pieces.

Method (symbolic convex analysis: the conjugate through the inverse of the subdifferential,
∂k* = (∂k)⁻¹):

* a smooth piece (a, b) of k with k'' ≢ 0 maps onto the open y-interval (k'(a+), k'(b−)); there
  x(y) = (k')⁻¹(y) (``solve`` on the piece, the root chosen by checking it on sample points, then
  confirmed symbolically when sympy can: PROVEN, else CHECKED) and k*(y) = y·x(y) − k(x(y)),
  ∇k*(y) = x(y);
* a kink of k at b (k'(b−) < k'(b+)) maps onto the segment [k'(b−), k'(b+)] where k* is affine:
  k*(y) = b·y − k(b), ∇k* = b;
* an affine piece (a, b) of k with slope c is a kink of k*: k*(c) = c·x − k(x) for any x of the
  piece and ∂k*(c) = [a, b];
* dom k* is the closure of the range of ∂k: from lim_{x→−∞} k'(x) to lim_{x→+∞} k'(x). An end is
  closed when it is attained (an affine end piece) or when the limit of k* there is finite (its
  value is that limit: k* is closed, so continuous along its domain); k* = +∞ outside.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import numpy as np
import sympy as sp

from .limits import Budget, SymbolicFailure, limited
from .piecewise import PiecewiseScalar, sign_of, test_point
from .record import CHECKED, PROVEN, Statement, weakest
from .scalar_convexity import numeric, one_sided
from .symbols import X

Y = sp.Symbol("y", real=True)
LAM = sp.Symbol("λ", positive=True)
XI = sp.Symbol("x_i", real=True)
_LATEX_NAMES = {LAM: r"\lambda"}


@dataclass
class ConjPiece:
    """k*(y) = ``expr`` and ∇k*(y) = ``grad`` for y in [lo, hi] (a piece of dom k*)."""

    lo: sp.Expr
    hi: sp.Expr
    expr: sp.Expr
    grad: sp.Expr
    origin: str
    inverse: str = PROVEN  # how x(y) = (k')⁻¹(y) was confirmed


@dataclass
class ConjKink:
    """A kink of k* at y = ``c`` (from an affine piece of k): k*(c) = value, ∂k*(c) = [xlo, xhi]."""

    c: sp.Expr
    value: sp.Expr
    xlo: sp.Expr
    xhi: sp.Expr


def _fmt(v) -> str:
    return "∞" if v == sp.oo else ("−∞" if v == -sp.oo else str(v))


def interval_text(lo, hi, lo_closed=True, hi_closed=True) -> str:
    if lo == hi:
        return "{" + _fmt(lo) + "}"
    a = "[" if lo_closed and lo != -sp.oo else "("
    b = "]" if hi_closed and hi != sp.oo else ")"
    return f"{a}{_fmt(lo)}, {_fmt(hi)}{b}"


def _sample_y(lo, hi, n=5) -> list[float]:
    if lo == -sp.oo and hi == sp.oo:
        return [-7.3, -1.1, 0.3, 2.9, 11.0][:n]
    if hi == sp.oo:
        return [float(lo) + v for v in (0.07, 0.6, 1.3, 4.1, 17.0)][:n]
    if lo == -sp.oo:
        return [float(hi) - v for v in (0.07, 0.6, 1.3, 4.1, 17.0)][:n]
    a, b = float(lo), float(hi)
    return [a + (b - a) * s for s in (0.013, 0.29, 0.5, 0.77, 0.987)][:n]


def _simplify(e: sp.Expr, budget: Budget, sign: int = 0) -> sp.Expr:
    """Simplify with the sign of y known (sign = ±1) and after rewriting hyperbolics in exp."""
    t = sp.Symbol("t", positive=True)
    work = e.subs(Y, sign * t) if sign else e
    best = work
    for cand in (work, work.rewrite(sp.exp)):
        s = budget.try_call("simplify k*", sp.simplify, cand, default=None)
        if (
            s is not None
            and sp.count_ops(s) < sp.count_ops(best)
            or best.has(sp.cosh, sp.tanh)
            and s is not None
            and not s.has(sp.cosh, sp.tanh)
        ):
            best = s
    return best.subs(t, sign * Y) if sign else best


def _range_sign(lo, hi) -> int:
    if lo != -sp.oo and sign_of(lo) >= 0:
        return 1
    if hi != sp.oo and sign_of(hi) <= 0:
        return -1
    return 0


def _check_candidate(cand, d, x, lo, hi, ylo, yhi) -> bool:
    f_c = numeric(cand, Y)
    ys = np.array(_sample_y(ylo, yhi))
    xs = f_c(ys)
    if not np.all(np.isfinite(xs)):
        return False
    a = -np.inf if lo == -sp.oo else float(lo)
    b = np.inf if hi == sp.oo else float(hi)
    tol = 1e-9 * (1 + np.abs(xs))
    if np.any(xs < a - tol) or np.any(xs > b + tol):
        return False
    dv = numeric(d, x)(xs)
    return bool(np.all(np.abs(dv - ys) <= 1e-8 * (1 + np.abs(ys))))


def _realify(c: sp.Expr, budget: Budget) -> sp.Expr:
    """Rewrite a real root written with complex constants ((−1)^(1/3), I) in real form."""
    if c.has(sp.I) or any(a.base == -1 for a in c.atoms(sp.Pow)):
        r = budget.try_call(
            "real form of the inverse", lambda: sp.simplify(sp.expand_complex(c)), default=None
        )
        if r is not None and not r.has(sp.I):
            return r
    return c


def _confirm(cand, d, x, sign, budget) -> str:
    t = sp.Symbol("t", positive=True)
    r = d.subs(x, cand) - Y
    if sign:
        r = r.subs(Y, sign * t)
    for form in (r, r.rewrite(sp.exp)):
        s = budget.try_call("confirm inverse", sp.simplify, form, default=None)
        if s is not None and s == 0:
            return PROVEN
    return CHECKED


def _exp_form(e: sp.Expr, x: sp.Symbol) -> sp.Expr:
    """Powers a^u(x) with a positive number base a written as exp(u(x)·log a): exact, and then
    k'(x) = c·exp(c·x) (c = log a) inverts to log(y/c)/c and k(x(y)) = exp(log(y/c)) = y/c
    cancels (k = (π/2)^x: k*(y) = (y/c)(log(y/c) − 1))."""
    return e.replace(
        lambda a: a.is_Pow and a.base.is_number and a.base.is_positive and a.exp.has(x),
        lambda a: sp.exp(a.exp * sp.log(a.base)),
    )


def _peel(d: sp.Expr, x: sp.Symbol, rhs: sp.Expr) -> list[sp.Expr] | None:
    """Candidate solutions x of d(x) = rhs found by undoing the operations of d from the
    outside in, while x occurs in one argument only: u + c → rhs − c, c·u → rhs/c, u^n (n a
    number) → ±rhs^(1/n) and −(−rhs)^(1/n) (the real odd root of a negative rhs), exp(u) →
    log(rhs), log(u) → exp(rhs). None for any other form (the caller then uses ``solve``).
    Candidates are not assumed right: the caller keeps only those that pass the numerical check
    k'(x(y)) = y inside the piece."""
    cands = [rhs]
    while d != x:
        if d.is_Add or d.is_Mul:
            inner = [a for a in d.args if a.has(x)]
            if len(inner) != 1:
                return None
            rest = d.func(*[a for a in d.args if not a.has(x)])
            cands = [c - rest if d.is_Add else c / rest for c in cands]
            d = inner[0]
        elif d.is_Pow and not d.exp.has(x) and d.exp.is_number and d.exp != 0:
            r = 1 / d.exp
            cands = [v for c in cands for v in (c**r, -(c**r), -((-c) ** r))]
            d = d.base
        elif isinstance(d, sp.exp):
            cands = [sp.log(c) for c in cands]
            d = d.args[0]
        elif isinstance(d, sp.log):
            cands = [sp.exp(c) for c in cands]
            d = d.args[0]
        else:
            return None
        if len(cands) > 9:
            return None
    return cands


def invert(d: sp.Expr, x: sp.Symbol, lo, hi, ylo, yhi, budget: Budget):
    """Solve k'(x) = y for x in (lo, hi), y in (ylo, yhi): a list of (ylo, yhi, x(y), status).

    First ``solve(k'(x) = y)`` with y real; if no root passes the numerical check (real, inside
    the piece, k'(x(y)) = y at sample y), the y-range is split at 0 and solved with y = ±t,
    t > 0 (this gives the real branch of odd roots, e.g. x³ = y)."""
    sign = _range_sign(ylo, yhi)
    attempts = [(ylo, yhi, sign)]
    attempts_split = [(ylo, sp.Integer(0), -1), (sp.Integer(0), yhi, 1)] if sign == 0 else []
    # the cheap inversion (`_peel`) on both plans first: ``solve`` of 1000·x⁹⁹⁹ = y builds all
    # 999 complex roots and exhausts the time budget
    for use_solve, plan in (
        (False, attempts),
        (False, attempts_split),
        (True, attempts),
        (True, attempts_split),
    ):
        found = []
        for a, b, s in plan:
            t = sp.Symbol("t", positive=True)
            rhs = s * t if s else Y
            sols = (
                budget.try_call("invert k' (solve)", sp.solve, sp.Eq(d, rhs), x, default=None)
                if use_solve
                else _peel(d, x, rhs)
            )
            if not sols:
                break
            sols = [_realify(c, budget).subs(t, s * Y) if s else c for c in sols]
            ok = [c for c in sols if _check_candidate(c, d, x, lo, hi, a, b)]
            if not ok:
                break
            ok.sort(key=sp.count_ops)
            found.append((a, b, ok[0], _confirm(ok[0], d, x, s, budget)))
        else:
            if found:
                return found
    raise SymbolicFailure(
        "inverse of k'",
        f"no closed-form inverse of k'(x) = {d} on "
        f"{interval_text(lo, hi, False, False)} was found by sympy",
    )


@dataclass
class SymbolicConjugate:
    """k* as pieces on dom k* = [ymin, ymax] (ends closed or open), +∞ outside."""

    pieces: list[ConjPiece]
    kinks: list[ConjKink]
    ymin: sp.Expr
    ymax: sp.Expr
    lo_closed: bool
    hi_closed: bool
    value_lo: sp.Expr | None = None
    value_hi: sp.Expr | None = None
    statements: list[Statement] = field(default_factory=list)
    method: str = "symbolic"

    # -- structure --------------------------------------------------------------------------
    @property
    def domain_text(self) -> str:
        return interval_text(self.ymin, self.ymax, self.lo_closed, self.hi_closed)

    @property
    def bounded_domain(self) -> bool:
        return self.ymin != -sp.oo or self.ymax != sp.oo

    @property
    def constant_on_domain(self) -> bool:
        return all(not p.expr.has(Y) for p in self.pieces)

    def in_domain(self, y) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        lo, hi = float(self.ymin), float(self.ymax)
        ok_lo = y >= lo if self.lo_closed else y > lo
        ok_hi = y <= hi if self.hi_closed else y < hi
        return ok_lo & ok_hi

    def piecewise(self) -> sp.Expr:
        """k*(y) as one sympy Piecewise (``oo`` outside the domain)."""
        if not self.pieces:
            return sp.Piecewise((self.kinks[0].value, sp.Eq(Y, self.ymin)), (sp.oo, True))
        args = []
        for i, p in enumerate(self.pieces):
            lo_rel = (p.lo <= Y) if (i > 0 or self.lo_closed) else (p.lo < Y)
            last = i == len(self.pieces) - 1
            hi_rel = (p.hi >= Y) if (not last or self.hi_closed) else (p.hi > Y)
            conds = [c for c, inf in ((lo_rel, p.lo == -sp.oo), (hi_rel, p.hi == sp.oo)) if not inf]
            args.append((p.expr, sp.And(*conds) if conds else sp.true))
        if self.bounded_domain:
            args.append((sp.oo, True))
        return args[0][0] if len(args) == 1 else sp.Piecewise(*args)

    def text(self) -> str:
        if not self.pieces:
            return f"{self.kinks[0].value} at y = {self.ymin}, +∞ elsewhere"
        parts = []
        for p in self.pieces:
            parts.append(f"{p.expr} on {interval_text(p.lo, p.hi)}")
        for end, val, closed in (
            (self.ymin, self.value_lo, self.lo_closed),
            (self.ymax, self.value_hi, self.hi_closed),
        ):
            if closed and val is not None and end not in (-sp.oo, sp.oo):
                parts.append(f"k*({end}) = {val}")
        if self.bounded_domain:
            parts.append(f"+∞ outside {self.domain_text}")
        return "; ".join(parts)

    def grad_text(self) -> str:
        parts = [f"{p.grad} on {interval_text(p.lo, p.hi, False, False)}" for p in self.pieces]
        parts += [f"∂k*({k.c}) = {interval_text(k.xlo, k.xhi)}" for k in self.kinks]
        return "; ".join(parts)

    def latex(self) -> str:
        return sp.latex(self.piecewise())

    # -- numerics ---------------------------------------------------------------------------
    def _on_pieces(self, y, attr: str, fill: float, precise: bool = False):
        """Evaluate ``piece.<attr>`` (sympy in Y) on the points of ``y`` in each piece's
        interval; ``fill`` elsewhere. ``precise``: in 40-digit arithmetic (mpmath), rounded to
        float at the end, so that a closed form that cancels (y + √(y² + 4) for y → −∞) is still
        exact to float64."""
        out = np.full(y.shape, fill)
        for p in self.pieces:
            m = (y >= float(p.lo)) & (y <= float(p.hi))
            if np.any(m):
                out[m] = (
                    _precise(getattr(p, attr), y[m])
                    if precise
                    else numeric(getattr(p, attr), Y)(y[m])
                )
        return out

    def __call__(self, y, precise: bool = False):
        """k*(y) elementwise (float array), +inf outside dom k*; ``precise``: evaluated in
        40-digit arithmetic (for the checks of `verify`)."""
        y = np.asarray(y, dtype=float)
        out = self._on_pieces(y, "expr", np.inf, precise)
        for k in self.kinks:
            out[y == float(k.c)] = float(k.value)
        for end, val, closed in (
            (self.ymin, self.value_lo, self.lo_closed),
            (self.ymax, self.value_hi, self.hi_closed),
        ):
            if closed and val is not None and end not in (-sp.oo, sp.oo):
                out[y == float(end)] = float(val)
        return np.where(self.in_domain(y), out, np.inf)

    def grad(self, y):
        """A selection of ∂k*(y) on dom k* (the element of least magnitude at kinks of k*);
        NaN outside dom k*, ±inf at a closed end where ∂k* is empty."""
        y = np.asarray(y, dtype=float)
        out = self._on_pieces(y, "grad", np.nan)
        for k in self.kinks:
            out[y == float(k.c)] = float(np.clip(0.0, float(k.xlo), float(k.xhi)))
        return np.where(self.in_domain(y), out, np.nan)


def _finite_number(v: sp.Expr) -> bool:
    """A constant sympy cannot classify (is_finite None, e.g. tan(tanh(1))) that evaluates to a
    finite real number."""
    if not (v.is_number and v.is_finite is None):
        return False
    try:
        return bool(np.isfinite(float(v)))
    except (TypeError, ValueError, OverflowError):
        return False


def _precise(e: sp.Expr, y: np.ndarray) -> np.ndarray:
    """``e`` at the points ``y`` in 40-digit arithmetic (mpmath), as floats (NaN where it is not
    real or not defined)."""
    import mpmath

    f = sp.lambdify(Y, e, modules="mpmath")
    out = np.empty(y.shape)
    with mpmath.workdps(40):
        for i, v in enumerate(y):
            try:
                r = f(mpmath.mpf(float(v)))
                out[i] = (
                    float(mpmath.re(r)) if abs(mpmath.im(r)) <= 1e-30 * (1 + abs(r)) else np.nan
                )
            except (ValueError, ZeroDivisionError, TypeError, OverflowError):
                out[i] = np.nan
    return out


def _limit_numerically(e: sp.Expr, end: sp.Expr, direction: int) -> sp.Expr:
    """lim_{y → end} e(y) from the side ``direction`` (+1: from above), estimated in 50-digit
    arithmetic at y = end + direction·h for h = 10⁻¹⁵, 10⁻³⁰, 10⁻⁴⁵: a finite limit is returned
    as the last value rounded to 12 significant digits (nsimplified, so that 1e-43 reads 0) when
    the last two estimates agree to 1e-12; otherwise ∞ (the end is open). Used only when sympy's
    ``limit`` raises (e.g. NotImplementedError in its series expansion of (π/2)^y terms)."""
    import mpmath

    f = sp.lambdify(Y, e, modules="mpmath")
    values = []
    with mpmath.workdps(50):
        for k in (15, 30, 45):
            try:
                r = f(mpmath.mpf(sp.Float(end, 50)) + direction * mpmath.mpf(10) ** (-k))
            except (ValueError, ZeroDivisionError, TypeError, OverflowError):
                return sp.oo
            if abs(mpmath.im(r)) > 1e-30 * (1 + abs(r)) or not mpmath.isfinite(r):
                return sp.oo
            values.append(float(mpmath.re(r)))
    a, b = values[-2:]
    if abs(b - a) > 1e-12 * (1 + abs(b)):
        return sp.oo
    return sp.nsimplify(sp.Float(b, 15), tolerance=1e-12 * (1 + abs(b)), rational=True)


def _root_of_fraction(e: sp.Expr) -> bool:
    """True when ``e`` has a root (non-integer power) of a non-polynomial in y: a shorter form
    exists (√(−1/(y² − 1)) = 1/√(1 − y²))."""
    return any(not p.exp.is_Integer and not p.base.is_polynomial(Y) for p in e.atoms(sp.Pow))


def _log_of_polynomial(e: sp.Expr) -> bool:
    """True when ``e`` has the log of a polynomial of degree ≥ 2 in y (log(1 − y²))."""
    return any(a.args[0].is_polynomial(Y) and sp.degree(a.args[0], Y) >= 2 for a in e.atoms(sp.log))


def _nicer_piece(
    e, xy, a, b, budget: Budget, stmts: list, k_piece=None, x=None
) -> tuple[sp.Expr, sp.Expr]:
    """k* and ∇k* on (a, b) in a recognisable form (`nicer.nicer`; for k* that `nicer` leaves
    as it is, the Fenchel–Young form y·∇k*(y) − k(∇k*(y)), `nicer.fenchel_form`), with a
    statement saying how each rewritten form was confirmed equal to the derived one."""
    from .nicer import RTOL_NICER, _agree, _quick, _rewrite_positive, fenchel_form, nicer

    grad, st_grad = nicer(xy, Y, a, b, budget)
    conj, st_conj, how = e, None, {}
    if k_piece is not None:  # the Fenchel–Young form first: stable and usually the shortest
        conj, st_conj = fenchel_form(e, k_piece, x, grad, Y, a, b, budget)
        how["k*"] = "equal at 15 points in 40-digit arithmetic to 1e-25 relative"
        if st_conj is not None:  # then the logarithm/root rewrites of that (short) form
            shorter, st2 = nicer(conj, Y, a, b, budget)
            if st2 is not None:
                conj, st_conj = shorter, weakest([st_conj, st2])
    if st_conj is not None and _log_of_polynomial(conj):
        # log(1 − y²) → log(1 − y) + log(1 + y): exact near y = ±1, where 1 − y² loses digits
        split = _quick(budget, 1.0, _rewrite_positive, conj, Y, a, b)
        if split is not None and split != conj and _agree(conj, split, Y, a, b):
            conj = split
    if st_conj is None or _root_of_fraction(conj):
        # only then the (expensive) simplification of the derived form, kept when it is
        # confirmed (√(1 + x²): −√(1 − y²), not y²/√(1 − y²) − √(−1/(y² − 1)))
        simple = _simplify(e, budget, _range_sign(a, b))
        other, st_other = nicer(simple, Y, a, b, budget)
        if st_conj is None or st_other is not None:
            e, conj, st_conj = simple, other, st_other
            how.pop("k*", None)
    for what, v, w, st in (("k*", e, conj, st_conj), ("∇k*", xy, grad, st_grad)):
        if st is not None:
            stmts.append(
                Statement(
                    f"simplified {what} on {interval_text(a, b, False, False)}",
                    f"{v} = {w}",
                    st,
                    ""
                    if st == PROVEN
                    else how.get(what, f"equal at 23 points to {RTOL_NICER:g} relative")
                    + ", not simplified to 0 by sympy",
                    n_samples=None if st == PROVEN else 23,
                )
            )
    return conj, grad


def conjugate(k: PiecewiseScalar, budget: Budget) -> SymbolicConjugate:
    """k* of a convex piecewise k (see the module docstring)."""
    x = k.x
    segs: list[tuple[Any, ...]] = []  # ("smooth", piece, d, L, R) | ("affine", piece, c)
    stmts: list[Statement] = []
    k = replace(k, pieces=tuple(replace(p, expr=_exp_form(p.expr, x)) for p in k.pieces))
    for p in k.pieces:
        d = budget.try_call("k'", sp.simplify, sp.diff(p.expr, x), default=sp.diff(p.expr, x))
        d = _exp_form(d, x)  # simplify may fold c·a^x back into log(a^(a^x))
        if not d.has(x):
            segs.append(("affine", p, d))
            continue
        L = (
            budget.call("lim k' at −∞", sp.limit, d, x, -sp.oo)
            if p.lo == -sp.oo
            else one_sided(d, x, p.lo, "+", budget)
        )
        R = (
            budget.call("lim k' at +∞", sp.limit, d, x, sp.oo)
            if p.hi == sp.oo
            else one_sided(d, x, p.hi, "-", budget)
        )
        if not (L.is_extended_real and R.is_extended_real):
            raise SymbolicFailure(
                "range of k'", f"limits of k' = {d} on {p.interval_text()} are not real: {L}, {R}"
            )
        segs.append(("smooth", p, d, L, R))
    pieces: list[ConjPiece] = []
    kinks: list[ConjKink] = []

    def slope_right(s):
        return s[2] if s[0] == "affine" else s[4]

    def slope_left(s):
        return s[2] if s[0] == "affine" else s[3]

    for i, s in enumerate(segs):
        p = s[1]
        if s[0] == "affine":
            t0 = test_point(p.lo, p.hi)
            val = sp.simplify(s[2] * t0 - p.expr.subs(x, t0))
            kinks.append(ConjKink(s[2], val, p.lo, p.hi))
        else:
            _, p, d, L, R = s
            for a, b, xy, status in invert(d, x, p.lo, p.hi, L, R, budget):
                e, xy = _nicer_piece(
                    Y * xy - p.expr.subs(x, xy), xy, a, b, budget, stmts, p.expr, x
                )
                pieces.append(
                    ConjPiece(a, b, e, xy, f"smooth piece {p.interval_text()} of k", status)
                )
                stmts.append(
                    Statement(
                        f"inverse of k' on {p.interval_text()}",
                        f"x(y) = {xy} solves k'(x) = y for y in "
                        f"{interval_text(a, b, False, False)}",
                        status,
                        ""
                        if status == PROVEN
                        else "confirmed numerically at 5 points, not symbolically",
                        n_samples=None if status == PROVEN else 5,
                    )
                )
        if i + 1 < len(segs):
            b = p.hi
            left, right = slope_right(s), slope_left(segs[i + 1])
            if sign_of(right - left) > 0:
                kb = k.value_at(b)
                pieces.append(
                    ConjPiece(left, right, sp.expand(b * Y - kb), b, f"kink of k at x = {b}")
                )
    ymin, ymax = slope_left(segs[0]), slope_right(segs[-1])
    pieces.sort(key=lambda q: float(q.lo) if q.lo != -sp.oo else -np.inf)
    conj = SymbolicConjugate(pieces, kinks, ymin, ymax, True, True, statements=stmts)
    # ends of the domain
    for side in ("lo", "hi"):
        end = ymin if side == "lo" else ymax
        seg = segs[0] if side == "lo" else segs[-1]
        if end in (-sp.oo, sp.oo):
            setattr(conj, f"{side}_closed", False)
            continue
        if seg[0] == "affine":
            val = kinks[0 if side == "lo" else -1].value
        else:
            piece = pieces[0] if side == "lo" else pieces[-1]
            direction = "+" if side == "lo" else "-"
            val = budget.try_call(
                f"limit of k* at {end}", sp.limit, piece.expr, Y, end, direction, default=None
            )
            if val is None:  # sympy's series machinery gave up: approach the end numerically
                val = _limit_numerically(piece.expr, end, 1 if side == "lo" else -1)
            val = _simplify(val, budget) if val.is_finite else val
        closed = bool(val.is_finite) or _finite_number(val)
        setattr(conj, f"{side}_closed", closed)
        setattr(conj, f"value_{side}", val if closed else None)
    return conj


# ------------------------------------------------------------------------------------------
# the induced problem (1/λ) Σ k*(λ x_i)
# ------------------------------------------------------------------------------------------
class _SympyEnds:
    """View of a numerical conjugate with its domain ends as exact (nsimplified) sympy numbers."""

    def __init__(self, conj):
        self._c = conj
        self.method = conj.method
        self.lo_closed, self.hi_closed = conj.lo_closed, conj.hi_closed
        self.ymin, self.ymax = (
            sp.nsimplify(v, rational=True) if np.isfinite(v) else (sp.oo if v > 0 else -sp.oo)
            for v in (conj.ymin, conj.ymax)
        )


def induced_problem(conj, lam: float | None = None) -> dict:
    """Classify and describe the term (1/λ)Σ_i k*(λx_i) Lion-K adds to f (spec §4).

    ``kind``: "constraint" (dom k* ≠ R, k* constant on it), "regularizer" (dom k* = R) or
    "constraint+regularizer"; ``text`` / ``latex`` in words, e.g. "s.t. ‖x‖_∞ ≤ 1/λ".
    With ``lam`` given, λ is replaced by that number (its shortest decimal, exactly), e.g.
    "s.t. ‖x‖_∞ ≤ 2/3" at λ = 1.5."""
    L = LAM if lam is None else sp.Rational(repr(float(lam)))
    constraint = conj.bounded_domain
    regular = not conj.constant_on_domain
    if conj.method != "symbolic":
        conj = _SympyEnds(conj)
    kind = "+".join(k for k, on in (("constraint", constraint), ("regularizer", regular)) if on)
    texts, latexes = [], []
    if constraint:
        lo, hi = conj.ymin, conj.ymax
        le_lo = "≤" if conj.lo_closed else "<"
        le_hi = "≤" if conj.hi_closed else "<"
        if lo == hi:
            texts.append(f"s.t. x_i = {hi / L} for all i")
            latexes.append(r"\text{s.t. } x_i = " + sp.latex(hi / L, symbol_names=_LATEX_NAMES))
        elif (
            lo != -sp.oo
            and hi != sp.oo
            and sp.simplify(lo + hi) == 0
            and conj.lo_closed == conj.hi_closed
        ):
            texts.append(f"s.t. ‖x‖_∞ {le_hi} {hi / L}")
            latexes.append(
                r"\text{s.t. } \|x\|_\infty "
                + (r"\le " if conj.hi_closed else "< ")
                + sp.latex(hi / L, symbol_names=_LATEX_NAMES)
            )
        else:
            parts, lparts = [], []
            if lo != -sp.oo:
                parts.append(f"x_i ≥ {lo / L}" if le_lo == "≤" else f"x_i > {lo / L}")
                lparts.append(
                    r"x_i "
                    + (r"\ge " if conj.lo_closed else "> ")
                    + sp.latex(lo / L, symbol_names=_LATEX_NAMES)
                )
            if hi != sp.oo:
                parts.append(f"x_i {le_hi} {hi / L}")
                lparts.append(
                    r"x_i "
                    + (r"\le " if conj.hi_closed else "< ")
                    + sp.latex(hi / L, symbol_names=_LATEX_NAMES)
                )
            texts.append("s.t. " + " and ".join(parts) + " for all i")
            latexes.append(r"\text{s.t. } " + r",\ ".join(lparts) + r"\ \forall i")
    if regular and hasattr(conj, "pieces") and conj.method == "symbolic":
        phis = [sp.simplify(p.expr.subs(Y, L * XI) / L) for p in conj.pieces]
        mirrored = (
            len(phis) == 2
            and conj.pieces[0].hi == 0
            and conj.pieces[1].lo == 0
            and sp.simplify(phis[0] - phis[1].subs(XI, -XI)) == 0
        )
        if len(conj.pieces) == 1 and sp.simplify(phis[0] / XI**2).has(XI) is False:
            c = sp.simplify(phis[0] / XI**2)
            texts.append(f"+ ({c})‖x‖²")
            latexes.append("+ " + sp.latex(c, symbol_names=_LATEX_NAMES) + r"\|x\|_2^2")
        elif mirrored:
            phi = phis[1].subs(XI, sp.Abs(XI))
            texts.append(f"+ Σ_i φ(x_i), φ(x_i) = (1/λ)k*(λx_i) = {phi}")
            latexes.append(r"+ \sum_i " + sp.latex(phi, symbol_names=_LATEX_NAMES))
        else:
            args = []
            for p, f in zip(conj.pieces, phis, strict=False):
                conds = [
                    c
                    for c, inf in (
                        (p.lo / L <= XI, p.lo == -sp.oo),
                        (p.hi / L >= XI, p.hi == sp.oo),
                    )
                    if not inf
                ]
                args.append((f, sp.And(*conds) if conds else sp.true))
            phi = args[0][0] if len(args) == 1 else sp.Piecewise(*args)
            texts.append(f"+ Σ_i φ(x_i), φ(x_i) = (1/λ)k*(λx_i) = {phi}")
            latexes.append(
                r"+ \sum_i \varphi(x_i),\ \varphi(x_i) = "
                + sp.latex(phi, symbol_names=_LATEX_NAMES)
            )
    elif regular:
        texts.append("+ (1/λ) Σ_i k*(λx_i) (k* known numerically only)")
        latexes.append(r"+ \tfrac1\lambda\sum_i k^*(\lambda x_i)")
    if not texts:
        texts, latexes = ["(no induced term: k* ≡ 0 on R)"], [""]
    return {"kind": kind, "text": ", ".join(texts), "latex": r",\ ".join(latexes)}


SIMPLIFY_GRAD_SECONDS = 1.5
"""CPU seconds allowed to the cosmetic simplification of k' (outside the verification budget, as
the other optional rewrites: a spent budget must not cost the report its Gradient section)."""


@lru_cache(maxsize=256)
def shorter(d: sp.Expr) -> sp.Expr:
    """``sp.simplify(d)`` when it has strictly fewer operations (`sp.count_ops`) than ``d``, else
    ``d``: sinh/cosh → tanh is kept, but a tie such as (π/2)^x·log(π/2) →
    log((π/2)^((π/2)^x)) is not taken. A time-out or an error of sympy keeps ``d``. The Gradient
    section prints it and `kbuild` compiles it (tanh(x) stays finite where sinh/cosh overflow);
    cached, so the two share one simplification."""
    try:
        s = limited("simplify k'", SIMPLIFY_GRAD_SECONDS, sp.simplify, d)
    except (SymbolicFailure, ValueError, TypeError, NotImplementedError, RecursionError):
        return d
    return s if sp.count_ops(s) < sp.count_ops(d) else d


def describe_grad(pk: PiecewiseScalar, budget: Budget) -> dict:
    """k' piece by piece (text and LaTeX) and the kinks: at a breakpoint b with k'(b−) < k'(b+),
    ∂k(b) = [k'(b−), k'(b+)]."""
    parts, kinks = [], []
    for p in pk.pieces:
        parts.append(f"{shorter(sp.diff(p.expr, X))} on {p.interval_text()}")
    for left, right in zip(pk.pieces[:-1], pk.pieces[1:], strict=False):
        b = left.hi
        dl = one_sided(sp.diff(left.expr, X), X, b, "-", budget)
        dr = one_sided(sp.diff(right.expr, X), X, b, "+", budget)
        if sign_of(dr - dl) > 0:
            kinks.append((str(b), interval_text(dl, dr)))
    args = []
    for p in pk.pieces:
        conds = [c for c, inf in ((p.lo < X, p.lo == -sp.oo), (p.hi > X, p.hi == sp.oo)) if not inf]
        args.append((sp.diff(p.expr, X), sp.And(*conds) if conds else sp.true))
    latex = sp.latex(args[0][0] if len(args) == 1 else sp.Piecewise(*args))
    return {"text": "; ".join(parts), "kinks": kinks, "latex": latex}


def interval_latex(conj) -> str:
    ends = [
        v
        if isinstance(v, sp.Basic)
        else (sp.nsimplify(v, rational=True) if np.isfinite(v) else (sp.oo if v > 0 else -sp.oo))
        for v in (conj.ymin, conj.ymax)
    ]
    if ends[0] == ends[1]:
        return sp.latex(sp.FiniteSet(ends[0]))
    return sp.latex(
        sp.Interval(ends[0], ends[1], left_open=not conj.lo_closed, right_open=not conj.hi_closed)
    )
