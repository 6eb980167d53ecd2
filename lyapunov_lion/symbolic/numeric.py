"""Numerical side of the verifier: brute-force suprema, growth outside dom k*, and the
numerical conjugate used when the symbolic derivation fails.

``sup_x (y·x − k(x))`` is computed for a batch of y at once: a sinh-spaced grid of x on
[−R, R] (dense near 0, |x| up to R), the best grid point per y, then 80 vectorised golden-section
steps on the bracket of its two neighbours (y·x − k(x) is concave, so the bracket holds the
maximiser when it lies inside the grid). For y outside dom k* the supremum over [−R, R] grows
linearly in R at the rate dist(y, dom k*); `growth_rate` measures it between two radii.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp
from sympy.calculus.accumulationbounds import AccumBounds

from ..errors import LionKError
from .limits import Budget, SymbolicFailure, limited
from .record import CHECKED, Statement
from .scalar_convexity import numeric
from .symbols import X

_GOLD = (np.sqrt(5.0) - 1) / 2


def _grid(R: float, n: int) -> np.ndarray:
    s = np.arcsinh(R)
    return np.sinh(np.linspace(-s, s, n))


def sup_conjugate(k: Callable, y, R: float = 1e4, n: int = 4001) -> np.ndarray:
    """max_{|x| ≤ R} (y·x − k(x)) for each entry of y (grid + golden section, see module doc)."""
    y = np.asarray(y, dtype=float)
    flat = y.reshape(-1)
    xs = _grid(R, n)
    with np.errstate(all="ignore"):
        kx = np.asarray(k(xs), dtype=float)
        kx = np.where(np.isnan(kx), np.inf, kx)
        vals = flat[:, None] * xs[None, :] - kx[None, :]
    j = np.argmax(vals, axis=1)
    lo = xs[np.maximum(j - 1, 0)]
    hi = xs[np.minimum(j + 1, n - 1)]
    best = vals[np.arange(flat.size), j]

    def phi(x):
        with np.errstate(all="ignore"):
            v = flat * x - np.asarray(k(x), dtype=float)
        return np.where(np.isnan(v), -np.inf, v)

    a, b = lo, hi
    c, d = b - _GOLD * (b - a), a + _GOLD * (b - a)
    fc, fd = phi(c), phi(d)
    for _ in range(80):
        left = fc > fd  # the maximiser lies in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        c, d = b - _GOLD * (b - a), a + _GOLD * (b - a)
        fc, fd = phi(c), phi(d)
    best = np.maximum(best, np.maximum(fc, fd))
    return best.reshape(y.shape)


def growth_rate(k: Callable, y, R2: float = 1e4) -> np.ndarray:
    """(s(R2) − s(R1))/(R2 − R1), R1 = R2/10, with s(R) = max_{|x| ≤ R}(y·x − k(x)): ≈ dist(y,
    dom k*) for y outside the domain (the supremum is +∞), ≈ 0 inside.

    R2 is lowered (1e4, 1e3, 500, 100) until k(±R2) is finite in float64: a naive closed form
    such as log(cosh(x)) overflows past |x| ≈ 710, which would cap the supremum."""
    for R in (R2, 1e3, 500.0, 100.0):
        with np.errstate(all="ignore"):
            ends = np.asarray(k(np.array([-R, R])), dtype=float)
        if np.all(np.isfinite(ends)):
            R2 = R
            break
    R1 = R2 / 10
    return (sup_conjugate(k, y, R2) - sup_conjugate(k, y, R1)) / (R2 - R1)


class NumericalConjugate:
    """k* by numerical suprema inside an interval domain, +inf outside (fallback).

    ``ymin``/``ymax`` are the limits of k' at ∓∞ (symbolic when sympy found them, else estimated
    at x = ∓1e6), ``lo_closed``/``hi_closed`` whether the supremum at the end stays bounded as
    the search radius grows. ``method = 'numerical'``.
    """

    method = "numerical"

    def __init__(
        self,
        k: Callable,
        dk: Callable,
        ymin: float,
        ymax: float,
        lo_closed: bool,
        hi_closed: bool,
        source: str,
    ):
        self.k, self.dk = k, dk
        self.ymin, self.ymax = float(ymin), float(ymax)
        self.lo_closed, self.hi_closed = lo_closed, hi_closed
        self.source = source
        self.statements: list[Any] = []  # `record.Statement`s of the derivation

    @property
    def bounded_domain(self) -> bool:
        return np.isfinite(self.ymin) or np.isfinite(self.ymax)

    @property
    def constant_on_domain(self) -> bool:
        if not (np.isfinite(self.ymin) and np.isfinite(self.ymax)):
            return False
        ys = np.linspace(self.ymin, self.ymax, 9)[1:-1]
        v = self(ys)
        return bool(np.ptp(v) <= 1e-8 * (1 + np.max(np.abs(v))))

    @property
    def domain_text(self) -> str:
        a = "[" if self.lo_closed and np.isfinite(self.ymin) else "("
        b = "]" if self.hi_closed and np.isfinite(self.ymax) else ")"

        def f(v):
            return "∞" if v == np.inf else ("−∞" if v == -np.inf else f"{v:.6g}")

        return f"{a}{f(self.ymin)}, {f(self.ymax)}{b} ({self.source})"

    def in_domain(self, y) -> np.ndarray:
        y = np.asarray(y, dtype=float)
        ok_lo = y >= self.ymin if self.lo_closed else y > self.ymin
        ok_hi = y <= self.ymax if self.hi_closed else y < self.ymax
        return ok_lo & ok_hi

    def __call__(self, y):
        y = np.asarray(y, dtype=float)
        inside = self.in_domain(y)
        out = np.full(y.shape, np.inf)
        if np.any(inside):
            out[inside] = sup_conjugate(self.k, y[inside], R=1e6, n=8001)
        return out

    def grad(self, y):
        """∇k*(y) = argmax_x (y·x − k(x)) by bisection on k'(x) = y (x in [−1e6, 1e6])."""
        y = np.asarray(y, dtype=float)
        lo, hi = np.full(y.shape, -1e6), np.full(y.shape, 1e6)
        for _ in range(100):
            mid = 0.5 * (lo + hi)
            with np.errstate(all="ignore"):
                dv = np.asarray(self.dk(mid), dtype=float)
            # k' overflowing to NaN at large |x| (e.g. sinh/cosh): k' is non-decreasing and
            # y lies inside its range, so the root is on the side of 0
            up = np.where(np.isnan(dv), mid > 0, dv > y)
            hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
        return np.where(self.in_domain(y), 0.5 * (lo + hi), np.nan)

    def text(self) -> str:
        return f"sup_x (y·x − k(x)) computed numerically on dom k* = {self.domain_text}, +∞ outside"

    def grad_text(self) -> str:
        return "argmax_x (y·x − k(x)) computed numerically (bisection on k'(x) = y)"

    def latex(self) -> str:
        return r"\sup_x\,(yx - k(x))"


def _far_values(d: sp.Expr, dk, xs: np.ndarray) -> np.ndarray:
    """k'(xs) in float64; where that is not finite (exp(1e3)·Heaviside(…) = inf·0), k' is
    re-evaluated from the sympy expression at 30 digits, at most 0.5 s a point (±inf beyond
    float range; left nan when not a real number or too slow)."""
    with np.errstate(all="ignore"):
        vals = np.asarray(dk(xs), dtype=float).copy()

    def at(x: float) -> complex:
        return complex(sp.N(d.subs(X, sp.Float(x, 30)), 30))

    for i in np.flatnonzero(~np.isfinite(vals)):
        try:  # cos(1000**(1e6)) would need a million digits: 0.5 s per point at most
            v = limited("k' at large |x| (30 digits)", 0.5, at, float(xs[i]))
        except (SymbolicFailure, TypeError, ValueError, OverflowError):
            continue
        if v.imag == 0 and not math.isnan(v.real):
            vals[i] = v.real  # float() of a value beyond 1.8e308 is ±inf
    return vals


def _beyond_float(value: sp.Expr) -> bool:
    """True when the constant ``value`` is a number larger than 1e300 in magnitude (30 digits);
    False when it is not a number (nan, zoo, an unevaluated form)."""
    try:
        return abs(complex(sp.N(value, 30))) > 1e300
    except (TypeError, ValueError):
        return False


def numerical_conjugate(expr: sp.Expr, budget: Budget, notes: list) -> NumericalConjugate:
    kf = numeric(expr, X)
    d = sp.diff(expr, X)
    dk = numeric(d, X)
    ends, source = [], "ends = limits of k' (sympy)"
    for end in (-sp.oo, sp.oo):
        v = None
        if budget.left() > 0.5:
            # sympy's limit may also raise (MRV of Min(x, exp(x)), comparisons with zoo)
            try:
                v = budget.try_call("lim k' (fallback)", sp.limit, d, X, end)
            except SymbolicFailure:  # the budget ran out: estimate the end numerically
                v = None
        if v is not None and not (v.is_extended_real and v.is_number and not v.has(AccumBounds)):
            v = None  # oo*sign(AccumBounds(...)): not a value
        if v is None:
            sgn = 1 if end == sp.oo else -1
            vals = _far_values(d, dk, np.array([1e2, 1e3, 1e4, 1e6]) * sgn)
            finite = vals[np.isfinite(vals)]
            source = "ends estimated from k' at |x| ≤ 1e6"
            steps = np.abs(np.diff(vals))  # k' monotone: growth per decade of |x|
            if finite.size < vals.size and np.all(np.isinf(vals[~np.isfinite(vals)])):
                v = sgn * np.inf  # k' overflows: it grows without bound (k convex, k' monotone)
            elif finite.size == vals.size and steps[-1] > 0.5 * steps[1] + 1e-9 * (
                1 + abs(vals[-1])
            ):
                # the growth of k' from 1e4 to 1e6 does not die out (log x, √x, x): unbounded
                v = sgn * np.inf
            elif finite.size:
                v = float(finite[-1])
            elif _beyond_float(d.subs(X, 100 * sgn)):
                v = sgn * np.inf  # k' beyond float range already at |x| = 100 (x**1000)
            else:
                raise LionKError("cannot determine dom k*: k' is not finite at large |x|")
        ends.append(float(v))
    closed = []
    for e in ends:
        if not np.isfinite(e):
            closed.append(False)
            continue
        s1, s2 = sup_conjugate(kf, np.array([e]), 1e4), sup_conjugate(kf, np.array([e]), 1e5)
        closed.append(bool(abs(s2 - s1)[0] <= 1e-6 * (1 + abs(s1[0]))))
    notes.append(
        "numerical conjugate: closedness of the domain ends decided by the growth of the "
        "supremum between |x| ≤ 1e4 and 1e5"
    )
    conj = NumericalConjugate(kf, dk, ends[0], ends[1], closed[0], closed[1], source)
    conj.statements = [
        Statement(
            "numerical conjugate",
            f"dom k* = {conj.domain_text}",
            CHECKED,
            "values by brute-force supremum (|x| ≤ 1e6)",
        )
    ]
    return conj
