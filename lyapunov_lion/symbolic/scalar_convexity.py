"""Convexity of a scalar k given as smooth pieces (see `piecewise`).

k is convex on R iff (a) k'' ≥ 0 on every piece, (b) k is continuous at every breakpoint b
(left limit = k(b) = right limit) and (c) k'(b−) ≤ k'(b+) at every breakpoint.

(a) is proven, in order, by sympy's assumptions (``k''(x(t)).is_nonnegative`` with x(t) a map
of a positive symbol t onto the piece: a + t, b − t, a + (b − a)t/(1 + t)), or by
``solveset(k'' < 0)`` on the piece returning the empty set; otherwise k'' is sampled (CHECKED).
(b), (c) are decided exactly when sympy can, else at 50 digits.

A failure comes with a counterexample to the definition: points a, b and θ = 1/2 with
k((a + b)/2) > (k(a) + k(b))/2, the gap evaluated exactly (rational) or to 50 digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy as sp

from .limits import Budget, SymbolicFailure
from .piecewise import Piece, PiecewiseScalar, sign_of, test_point
from .record import CHECKED, FAILED, PROVEN, Statement, weakest
from .symbols import X

N_SAMPLES = 2001
"""Points per piece when k'' ≥ 0 is checked numerically."""


@dataclass
class ConvexityResult:
    status: str
    statements: list[Statement] = field(default_factory=list)
    counterexample: dict | None = None


def sample_points(lo, hi, n: int) -> np.ndarray:
    """n float points strictly inside (lo, hi): linear on a bounded interval, geometric
    (1e-6 … 1e3 from the end) on a half-line, sinh-spaced (|x| ≤ ~1.5e3) on R."""
    if lo == -sp.oo and hi == sp.oo:
        return np.sinh(np.linspace(-8.0, 8.0, n))
    if hi == sp.oo:
        return float(lo) + np.logspace(-6, 3, n)
    if lo == -sp.oo:
        return float(hi) - np.logspace(-6, 3, n)[::-1]
    a, b = float(lo), float(hi)
    return a + (b - a) * (np.arange(1, n + 1) / (n + 1))


def _heaviside(a: np.ndarray, h0: float = 0.5) -> np.ndarray:
    return np.heaviside(np.real(a), h0)  # real part: the complex retry of `numeric`


def _dirac(a: np.ndarray, *order: int) -> np.ndarray:
    return np.zeros(np.shape(a))  # 0 off a null set: derivatives of sign/Heaviside a.e.


def _select(condlist: list, choicelist: list, default: float = np.nan) -> np.ndarray:
    """``numpy.select`` (the first true condition picks its choice) as a chain of ``where``, last
    condition first: the same values, ~10× faster on the small arrays of an ODE step (np.select
    broadcasts every argument to a common shape first: 110 µs for a 2-vector and 4 pieces)."""
    out = np.asarray(default)
    for cond, choice in zip(reversed(condlist), reversed(choicelist), strict=True):
        out = np.where(cond, choice, out)
    return out


_NUMERIC_MODULES = [
    {"Heaviside": _heaviside, "DiracDelta": _dirac, "select": _select},
    "numpy",
    "scipy",
]
"""Heaviside and DiracDelta as numpy functions: without them sympy's printer rewrites Heaviside
into a Piecewise and calls ``as_set`` on its conditions, seconds to minutes per expression.
``select`` (a Piecewise) as `_select`."""


@lru_cache(maxsize=256)
def numeric(expr: sp.Expr, x: sp.Symbol):
    """Vectorised float evaluation of ``expr(x)`` (NaN where undefined or not real); scipy
    supplies the special functions numpy lacks (LambertW in the conjugate of exp(x²)).
    Cached per (expr, x): a verification evaluates the same k, k', k'' many times."""
    fn = sp.lambdify(x, expr, modules=_NUMERIC_MODULES)
    retry = expr.has(sp.Pow, sp.log)

    def real_or_nan(out: np.ndarray) -> np.ndarray:
        real = np.abs(out.imag) <= 1e-12 * (1 + np.abs(out.real))
        return np.where(real, out.real, np.nan)

    def f(v):
        v = np.asarray(v, dtype=float)
        with np.errstate(all="ignore"):
            out = np.broadcast_to(np.asarray(fn(v)), v.shape)
            complex_out = out.dtype.kind == "c"
            out = out.astype(complex if complex_out else float)
            bad = ~np.isfinite(out)
            if retry and np.any(bad):
                # real values through complex intermediates, e.g. (−y)^(1/3) written as y^(1/3)
                again = np.broadcast_to(np.asarray(fn(v[bad] + 0j)), out[bad].shape)
                out[bad] = again if complex_out else real_or_nan(again.astype(complex))
        # a real evaluation is real where finite; a complex one is real where Im ≈ 0
        return real_or_nan(out) if complex_out else out

    return f


def _positive_map(lo, hi, t):
    if lo == -sp.oo and hi == sp.oo:
        return None
    if hi == sp.oo:
        return lo + t
    if lo == -sp.oo:
        return hi - t
    return lo + (hi - lo) * t / (1 + t)


def prove_nonnegative(e: sp.Expr, x: sp.Symbol, lo, hi, budget: Budget) -> bool:
    """True when sympy proves e(x) ≥ 0 for all x in (lo, hi)."""
    t = sp.Symbol("t", positive=True)
    xt = _positive_map(lo, hi, t)
    cand = e if xt is None else e.subs(x, xt)
    if cand.is_nonnegative:
        return True
    s = budget.try_call("prove k'' ≥ 0 (simplify)", sp.simplify, cand, default=None)
    if s is not None and s.is_nonnegative:
        return True
    bad = budget.try_call(
        "prove k'' ≥ 0 (solveset)", sp.solveset, e < 0, x, sp.Interval.open(lo, hi), default=None
    )
    if bad != sp.EmptySet:
        return False
    # solveset's empty set is not trusted blindly: sympy 1.12 returns it for sin(x) < 0 on
    # (−∞, 0) (periodic inequalities on unbounded intervals). A sampled negative value refutes it.
    vals = numeric(e, x)(sample_points(lo, hi, N_SAMPLES))
    finite = vals[np.isfinite(vals)]
    return not np.any(finite < -1e-12 * max(1.0, float(np.max(np.abs(finite), initial=0.0))))


def _dyadic(v: float) -> sp.Rational:
    return sp.Rational(int(round(v * 2**20)), 2**20)


def counterexample(k: PiecewiseScalar, c: sp.Expr, budget: Budget) -> dict | None:
    """Search a, b = c ∓ h (and one-sided variants), θ = 1/2, h = 2^0 … 2^-30, with
    k((a+b)/2) − (k(a) + k(b))/2 > 0, evaluated exactly or at 50 digits."""
    x = k.x

    def kv(p):
        return k.expr.subs(x, p)

    for j in range(31):
        h = sp.Rational(1, 2**j)
        for a, b in ((c - h, c + h), (c, c + 2 * h), (c - 2 * h, c)):
            m = (a + b) / 2
            gap = kv(m) - (kv(a) + kv(b)) / 2
            exact = gap.is_Rational
            val = gap if exact else sp.N(gap, 50)
            if val.is_real and val > (0 if exact else sp.Float(10) ** -40):
                return {
                    "a": str(a),
                    "b": str(b),
                    "theta": "1/2",
                    "k(θa+(1−θ)b)": str(sp.N(kv(m), 15)),
                    "θk(a)+(1−θ)k(b)": str(sp.N((kv(a) + kv(b)) / 2, 15)),
                    "gap": float(val),
                    "arithmetic": "exact rational" if exact else "50 digits",
                }
    return None


def _piece_statement(k: PiecewiseScalar, p: Piece, budget: Budget):
    x = k.x
    d2 = budget.try_call(
        "k''", lambda: sp.simplify(sp.diff(p.expr, x, 2)), default=sp.diff(p.expr, x, 2)
    )
    name = f"k'' ≥ 0 on {p.interval_text()}"
    claim = f"k''(x) = {d2}"
    if d2 == 0:
        return Statement(name, claim, PROVEN, "k is affine on this piece"), None
    if prove_nonnegative(d2, x, p.lo, p.hi, budget):
        return Statement(name, claim, PROVEN), None
    # look for a point with k'' < 0: solveset, then samples
    bad = budget.try_call(
        "k'' < 0 (solveset)", sp.solveset, d2 < 0, x, sp.Interval.open(p.lo, p.hi), default=None
    )
    cands = []
    if isinstance(bad, sp.Interval):
        cands.append(test_point(bad.start, bad.end))
    elif isinstance(bad, sp.Union):
        cands += [test_point(s.start, s.end) for s in bad.args if isinstance(s, sp.Interval)]
    xs = sample_points(p.lo, p.hi, N_SAMPLES)
    vals = numeric(d2, x)(xs)
    finite = np.isfinite(vals)
    if np.any(finite & (vals < 0)):
        cands.append(_dyadic(float(xs[np.nanargmin(np.where(finite, vals, np.nan))])))
        # float64 is meaningless where k'' is huge (cos(1000**(-x)) at x = −50): also the
        # negative samples nearest x = 0
        neg = np.flatnonzero(finite & (vals < 0))
        cands += [_dyadic(float(xs[i])) for i in neg[np.argsort(np.abs(xs[neg]))][:5]]
    for c in cands:
        if sign_of(d2.subs(x, c)) < 0:
            ce = counterexample(k, c, budget)
            return Statement(name, claim, FAILED, f"k''({c}) < 0", counterexample=ce), ce
    scale = float(np.nanmax(np.abs(vals))) if np.any(finite) else 0.0
    worst = float(max(0.0, -np.nanmin(vals))) if np.any(finite) else float("nan")
    # tolerance: rounding of the lambdified k'' (a few ulps of its magnitude)
    if np.any(finite) and np.isfinite(scale) and worst <= 1e-12 * max(1.0, scale):
        return Statement(
            name,
            claim,
            CHECKED,
            "not proven symbolically",
            n_samples=int(finite.sum()),
            max_violation=worst,
        ), None
    return Statement(
        name,
        claim,
        FAILED,
        "k'' could not be evaluated or is negative",
        n_samples=int(finite.sum()),
        max_violation=worst,
    ), None


def one_sided(e: sp.Expr, x: sp.Symbol, b, direction: str, budget: Budget) -> sp.Expr:
    """lim_{x→b∓} e(x): substitution when finite, else sympy's limit."""
    v = e.subs(x, b)
    if v.is_finite:
        return v
    return budget.call("one-sided limit", sp.limit, e, x, b, direction)


def check_convexity(k: PiecewiseScalar, budget: Budget) -> ConvexityResult:
    """Decide convexity of k on R (see the module docstring)."""
    x = k.x
    stmts, ce = [], None
    for p in k.pieces:
        st, c = _piece_statement(k, p, budget)
        stmts.append(st)
        ce = ce or c
    for left, right in zip(k.pieces[:-1], k.pieces[1:], strict=False):
        b = left.hi
        vl = one_sided(left.expr, x, b, "-", budget)
        vr = one_sided(right.expr, x, b, "+", budget)
        vb = k.value_at(b)
        jumps = [sign_of(vl - vb), sign_of(vr - vb)]
        exact = all(sp.simplify(v - vb) == 0 for v in (vl, vr)) if not any(jumps) else False
        name = f"continuity at x = {b}"
        claim = f"k({b}−) = {vl}, k({b}) = {vb}, k({b}+) = {vr}"
        if any(jumps):
            c = counterexample(k, b, budget)
            ce = ce or c
            stmts.append(Statement(name, claim, FAILED, "k jumps", counterexample=c))
        else:
            stmts.append(
                Statement(
                    name, claim, PROVEN if exact else CHECKED, "" if exact else "equal to 50 digits"
                )
            )
        dl = one_sided(sp.diff(left.expr, x), x, b, "-", budget)
        dr = one_sided(sp.diff(right.expr, x), x, b, "+", budget)
        s = sign_of(dr - dl)
        name = f"k'({b}−) ≤ k'({b}+)"
        claim = f"k'({b}−) = {dl}, k'({b}+) = {dr}"
        if s < 0:
            c = counterexample(k, b, budget)
            ce = ce or c
            stmts.append(Statement(name, claim, FAILED, "concave kink", counterexample=c))
        else:
            exact = (dr - dl).is_nonnegative is True or sp.simplify(dr - dl).is_nonnegative is True
            stmts.append(
                Statement(
                    name,
                    claim,
                    PROVEN if exact else CHECKED,
                    "" if exact else "decided at 50 digits",
                )
            )
    status = weakest(s.status for s in stmts)
    if status == FAILED and ce is None:
        raise SymbolicFailure(
            "convexity counterexample",
            "k is not convex but no counterexample was found near the failing point",
        )
    return ConvexityResult(status, stmts, ce)


def numeric_convexity(expr: sp.Expr) -> ConvexityResult:
    """Second differences k(x−h) − 2k(x) + k(x+h) ≥ 0 on a grid (CHECKED or FAILED)."""
    f = numeric(expr, X)
    xs = np.sinh(np.linspace(-6, 6, 801))
    worst, n, ce = 0.0, 0, None
    for h in (1e-3, 1e-1, 1.0):
        a, m, b = f(xs - h), f(xs), f(xs + h)
        d2 = a - 2 * m + b
        tol = 1e-12 * (np.abs(a) + 2 * np.abs(m) + np.abs(b))
        ok = np.isfinite(d2)
        n += int(ok.sum())
        viol = np.where(ok, -(d2 + tol), -np.inf)
        i = int(np.argmax(viol))
        if viol[i] > 0 and ce is None:
            ce = {
                "a": f"{xs[i] - h:.17g}",
                "b": f"{xs[i] + h:.17g}",
                "theta": "1/2",
                "gap": float(-d2[i] / 2),
                "arithmetic": "float64",
            }
        worst = max(worst, float(max(0.0, -np.min(np.where(ok, d2, np.inf)))))
    st = Statement(
        "convexity (numerical)",
        "k(x−h) − 2k(x) + k(x+h) ≥ 0",
        FAILED if ce else CHECKED,
        "symbolic convexity check unavailable",
        n_samples=n,
        max_violation=worst,
        counterexample=ce,
    )
    return ConvexityResult(st.status, [st], ce)
