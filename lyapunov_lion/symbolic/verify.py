"""`verify`: derive and certify the Lion-K data of a separable K(x) = Σ_i k(x_i) given as text.

Pipeline (each step under the time budget of `limits.Budget`; a failing step is named in the
report and the rest falls back to numerics):

1. parse ``k`` with the safe parser `core.expr.parse_expression` (never ``eval``), in ``x`` only;
2. split k into smooth pieces (`piecewise`), decide convexity (`convexity`), with a
   counterexample when k is not convex (then nothing else is derived);
3. ∂k (kinks give segments), k* with its domain and ∇k* (`conjugate`), the induced problem
   (1/λ)Σ k*(λx_i);
4. the Lyapunov certificate of spec §4 for this K: (i) monotonicity of ∇K, (ii) the mixed
   inequality (∇K(x) − y)(x − ∇K*(y)) ≥ 0 on dom K* (Lemma 2.1), (iii) Fenchel–Young
   K(x) + K*(y) − xᵀy ≥ 0 with equality at y = ∇K(x); these make Δ ≥ 0 (hence dH/dt ≤ 0) for
   εγ ≤ 1, λ > 0;
5. an independent numerical check of k*: brute-force sup_x (yx − k(x)) inside dom k*, linear
   growth of that sup (rate dist(y, dom k*)) outside.
6. (`certificates`) (iv) the identity dH/dt = −Δ of spec §4, proved by sympy once per process
   (K-independent, `identity`), worded for this K (differentiable or a.e.); (v)/(v′) the spec §5
   inequality of the implicit scheme and its explicit variant, checked on batched runs of the K
   built from the report (`discrete_check`).

Separable K: every statement about K is the statement about k summed over coordinates
(K(x) = Σk(x_i), K*(y) = Σk*(y_i), ∇K = (k'(x_i))_i), so it is certified on the scalar k.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import sympy as sp
from sympy.calculus.accumulationbounds import AccumBounds

from ..core.expr import parse_expression
from ..errors import LionKError
from .certificates import attach_certificates
from .conjugate import SymbolicConjugate, conjugate, induced_problem, interval_text
from .convexity import ConvexityResult, check_convexity, numeric, one_sided
from .kbuild import K_from_report
from .limits import Budget, SymbolicFailure, limited, time_limit_enforced
from .numeric import NumericalConjugate, growth_rate, sup_conjugate
from .piecewise import PiecewiseScalar, sign_of, split_pieces
from .report import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport, weakest
from .symbols import X

N_SAMPLES = 41
"""Sample points per axis of the numerical checks (x and y grids: 41 × ~45 pairs)."""
RTOL_CHECK = 1e-9
"""Relative tolerance of the numerical checks, on the sum of magnitudes of the terms: the
derived formulas are evaluated in float64 (rounding ~1e-15 relative) and inverse functions such
as atanh, y^(1/3) near the domain ends lose at most a few digits; a wrong formula gives O(1)."""
RTOL_SUP = 1e-8
"""Tolerance of k* against the brute-force supremum (grid + 80 golden-section steps: the
maximiser is bracketed to ~1e-16 relative, the value to rounding of y·x − k(x) with |x| ≤ 1e3)."""


# ------------------------------------------------------------------------------------------
# input
# ------------------------------------------------------------------------------------------
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


# ------------------------------------------------------------------------------------------
# numerical helpers
# ------------------------------------------------------------------------------------------
def _grad_selection(pk: PiecewiseScalar | None, expr: sp.Expr):
    """x ↦ a selection of ∂k(x): the piece derivative inside pieces, the element of least
    magnitude of [k'(b−), k'(b+)] at a breakpoint b."""
    if pk is None:
        return numeric(sp.diff(expr, X), X)
    parts = [(float(p.lo), float(p.hi), numeric(sp.diff(p.expr, X), X)) for p in pk.pieces]

    def g(x):
        x = np.asarray(x, dtype=float)
        out = np.full(x.shape, np.nan)
        for lo, hi, f in parts:
            m = (x > lo) & (x < hi)
            if np.any(m):
                out[m] = f(x[m])
        for (_, b, fl), (_, _, fr) in zip(parts[:-1], parts[1:], strict=False):
            m = x == b
            if np.any(m):
                gl = float(fl(np.array([b - 1e-12]))[0])
                gr = float(fr(np.array([b + 1e-12]))[0])
                out[m] = np.clip(0.0, gl, gr)
        return out

    return g


def _inside_samples(conj, n: int = N_SAMPLES) -> np.ndarray:
    lo, hi = float(conj.ymin), float(conj.ymax)
    if lo == hi:
        return np.array([lo])
    if np.isfinite(lo) and np.isfinite(hi):
        ys = lo + (hi - lo) * np.arange(1, n + 1) / (n + 1)
    elif np.isfinite(lo):
        ys = lo + np.logspace(-3, 1.5, n)
    elif np.isfinite(hi):
        ys = hi - np.logspace(-3, 1.5, n)
    else:
        ys = np.sinh(np.linspace(-3.0, 3.0, n))
    extra = [float(k.c) for k in getattr(conj, "kinks", [])]
    return np.unique(np.concatenate([ys, np.asarray(extra, dtype=float)]))


def _outside_samples(conj) -> np.ndarray:
    lo, hi = float(conj.ymin), float(conj.ymax)
    w = hi - lo if np.isfinite(hi - lo) and hi > lo else 1.0
    out = []
    if np.isfinite(hi):
        out += [hi + 0.5 * w, hi + 2 * w]
    if np.isfinite(lo):
        out += [lo - 0.5 * w, lo - 2 * w]
    return np.asarray(out, dtype=float)


def _x_samples(pk: PiecewiseScalar | None) -> np.ndarray:
    xs = np.sinh(np.linspace(-3.5, 3.5, N_SAMPLES))
    if pk is not None:
        xs = np.concatenate([xs, [float(b) for b in pk.breakpoints]])
    return np.unique(xs)


def _numeric_convexity(expr: sp.Expr) -> ConvexityResult:
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


def _numerical_conjugate(expr: sp.Expr, budget: Budget, notes: list) -> NumericalConjugate:
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


# ------------------------------------------------------------------------------------------
# the certificate
# ------------------------------------------------------------------------------------------
def _lyapunov(conv: ConvexityResult, conj, kf, g, xs) -> list[Statement]:
    ys = _inside_samples(conj)
    h = np.asarray(conj.grad(ys), dtype=float)
    ok_y = np.isfinite(h)
    ys, h = ys[ok_y], h[ok_y]
    gx = g(xs)
    out = []
    # (i) monotonicity of ∇K
    A, B = np.meshgrid(xs, xs, indexing="ij")
    GA, GB = np.meshgrid(gx, gx, indexing="ij")
    mono = (GA - GB) * (A - B)
    v1 = float(max(0.0, -np.min(mono)))
    proof = {PROVEN: PROVEN, CHECKED: CHECKED}.get(conv.status, FAILED)
    out.append(
        Statement(
            "(i) monotonicity of ∇K",
            "(∇K(x) − ∇K(y))ᵀ(x − y) ≥ 0",
            proof if v1 == 0 else FAILED,
            "subgradients of a convex function are monotone (convexity "
            f"{conv.status}); numerically on pairs",
            n_samples=mono.size,
            max_violation=v1,
        )
    )
    # (ii) mixed inequality
    Xg, Yg = np.meshgrid(xs, ys, indexing="ij")
    Gg, Hg = np.meshgrid(gx, h, indexing="ij")
    mixed = (Gg - Yg) * (Xg - Hg)
    scale = 1 + np.abs(Gg * Xg) + np.abs(Gg * Hg) + np.abs(Yg * Xg) + np.abs(Yg * Hg)
    v2 = float(max(0.0, -np.min(mixed, initial=np.inf)))  # no y: k* = δ{c}
    bad2 = np.any(mixed < -RTOL_CHECK * scale)
    # (ii) uses ∇k* only: the inverse of k' and its rewritten forms, not the form of k*
    inv = weakest(
        s.status for s in getattr(conj, "statements", []) if not s.name.startswith("simplified k*")
    )
    if getattr(conj, "method", "") != "symbolic":
        inv = CHECKED
    status2 = FAILED if bad2 else weakest([proof, inv])
    out.append(
        Statement(
            "(ii) mixed inequality (Lemma 2.1)",
            "(∇K(x) − y)ᵀ(x − ∇K*(y)) ≥ 0 for y ∈ dom K*",
            status2,
            "∇k*(y) ∈ ∂k*(y) ⟺ y ∈ ∂k(∇k*(y)) (Fenchel–Young equality), then monotonicity "
            f"of ∂k; proof uses convexity ({conv.status}) and the inverse x(y) of k' ({inv}); "
            "numerically on x × y samples",
            n_samples=mixed.size,
            max_violation=v2,
        )
    )
    # (iii) Fenchel–Young; a symbolic k* in 40-digit arithmetic (its closed form may cancel)
    precise = {"precise": True} if getattr(conj, "method", "") == "symbolic" else {}
    ks = conj(ys, **precise)
    kx = kf(xs)
    Kx, Ks = np.meshgrid(kx, ks, indexing="ij")
    fy = Kx + Ks - Xg * Yg
    # gaps are judged relative to the size of the terms (k(x) can reach 1e300: x**1000)
    size3 = 1 + np.abs(Kx) + np.abs(Ks) + np.abs(Xg * Yg)
    v3 = float(max(0.0, -np.min(fy, initial=np.inf)))
    inside = np.asarray(conj.in_domain(gx))
    eq = kx[inside] + conj(gx[inside], **precise) - xs[inside] * gx[inside]
    size_eq = 1 + np.abs(kx[inside]) + np.abs(xs[inside] * gx[inside])
    v_eq = float(np.max(np.abs(eq))) if eq.size else 0.0
    rel3 = float(np.max(np.maximum(-fy, 0.0) / size3, initial=0.0))
    rel_eq = float(np.max(np.abs(eq) / size_eq, initial=0.0))
    bad3 = np.any(fy < -RTOL_CHECK * size3) or np.any(np.abs(eq) > RTOL_CHECK * size_eq)
    out.append(
        Statement(
            "(iii) Fenchel–Young",
            "K(x) + K*(y) − xᵀy ≥ 0, = 0 at y = ∇K(x)",
            FAILED if bad3 else CHECKED,
            f"inequality on x × y samples (largest violation relative to 1 + |K(x)| + |K*(y)| "
            f"+ |xᵀy|: {rel3:.2g}); equality at y = k'(x) on {eq.size} points (largest |gap| "
            f"{v_eq:.3g}, relative to 1 + |K(x)| + |xᵀ∇K(x)|: {rel_eq:.2g}); a violation is a "
            f"relative one above {RTOL_CHECK:g}",
            n_samples=fy.size + eq.size,
            max_violation=max(v3, v_eq),
        )
    )
    cond = weakest([out[0].status, out[1].status])
    out.append(
        Statement(
            "Lyapunov descent",
            "Δ ≥ 0, hence dH/dt = −Δ ≤ 0 (spec §4), for εγ ≤ 1 and λ > 0",
            cond,
            "Δ is a non-negative combination of the terms of (i) and (ii) when εγ ≤ 1 "
            "(coefficients (γ+λ)/(1+ελ) ≥ 0 and (1−εγ)/(ε(1+ελ)) ≥ 0); H ≥ F by (iii)",
        )
    )
    return out


def _independent(conj, kf) -> list[Statement]:
    ys = _inside_samples(conj)
    # the search radius must contain the maximiser x = ∇k*(y) (k = x·asinh(x) − √(1 + x²) has
    # ∇k*(10) = sinh(10) ≈ 1.1e4)
    with np.errstate(all="ignore"):
        reach = np.abs(np.asarray(conj.grad(ys), dtype=float))
    if conj.method != "symbolic":
        # the fallback k* is a supremum itself (|x| ≤ 1e6): compare where its maximiser is
        # well inside the search radius
        ys, R = ys[np.isfinite(reach) & (reach <= 5e3)], 1e4
    else:
        finite = reach[np.isfinite(reach)]
        R = float(min(max(1e4, 2 * finite.max()) if finite.size else 1e4, 1e8))
    if ys.size == 0:  # fallback k* whose maximisers all lie beyond |x| = 5e3 (k = 1000 + x)
        st = [
            Statement(
                "k* vs brute-force sup",
                "k*(y) = sup_x (yx − k(x)) inside dom k*",
                SKIPPED,
                "no sample y whose maximiser lies well inside the search radius "
                "(the fallback k* is itself a brute-force supremum)",
            )
        ]
    else:
        ref = sup_conjugate(kf, ys, R=R)
        val = conj(ys, precise=True) if conj.method == "symbolic" else conj(ys)
        err = np.abs(val - ref)
        tol = RTOL_SUP * (1 + np.abs(val) + np.abs(ys))
        ok = np.isfinite(val) & np.isfinite(ref)
        st = [
            Statement(
                "k* vs brute-force sup",
                f"k*(y) = sup_(|x|≤{R:.3g}) (yx − k(x)) inside dom k*",
                CHECKED if (np.all(ok) and np.all(err <= tol)) else FAILED,
                "grid + golden section"
                + ("" if conj.method == "symbolic" else " (the fallback k* is itself numerical)"),
                n_samples=int(ys.size),
                max_violation=float(np.max(np.where(ok, err, np.inf))),
            )
        ]
    yo = _outside_samples(conj)
    if yo.size:
        rate = growth_rate(kf, yo)
        lo, hi = float(conj.ymin), float(conj.ymax)
        dist = np.maximum(lo - yo, 0) + np.maximum(yo - hi, 0)
        # the supremum over |x| ≤ R grows like dist·R (k'(x) → the domain ends); 10 % slack
        # covers a slowly converging k'
        good = rate >= 0.9 * dist
        st.append(
            Statement(
                "k* = +∞ outside dom k*",
                "sup_{|x|≤R}(yx − k(x)) grows linearly in R",
                CHECKED if np.all(good) else FAILED,
                "rates "
                + ", ".join(
                    f"{r:.3g} at y = {y:g} (dist {d:g})"
                    for r, y, d in zip(rate, yo, dist, strict=False)
                ),
                n_samples=int(yo.size),
                max_violation=float(np.max(np.maximum(0.9 * dist - rate, 0))),
            )
        )
    return st


def _describe_grad(pk: PiecewiseScalar, budget: Budget) -> dict:
    parts, kinks = [], []
    for p in pk.pieces:
        parts.append(f"{sp.simplify(sp.diff(p.expr, X))} on {p.interval_text()}")
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


def _interval_latex(conj) -> str:
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


# ------------------------------------------------------------------------------------------
# the entry point
# ------------------------------------------------------------------------------------------
def verify(
    text_or_expr, *, timeout: float = 20.0, per_call: float | None = None, certify: bool = True
) -> VerifyReport:
    """Derive k*, ∇k*, dom k* and the induced problem of K(x) = Σ_i k(x_i) and certify the
    Lyapunov conditions of spec §4 (see the module docstring).

    ``certify``: also add (iv) the sympy proof of dH/dt = −Δ and (v)/(v′) the numerical check of
    the discrete inequality on the K built from the report (`certificates.attach_certificates`);
    False leaves that to the caller (e.g. to run (v) on a catalog K).

    ``text_or_expr``: k as text in ``x`` (parsed safely, never evaluated) or a sympy expression
    in one symbol. ``timeout``: total seconds for the symbolic steps (``per_call``: per sympy call,
    default timeout/2); past it the failing step is named and a numerical conjugate is used.
    Raises `LionKError` for text outside the grammar or a k that is not finite on R.
    """
    t0 = time.monotonic()
    text, expr = _parse(text_or_expr)
    _check_finite(expr)
    budget = Budget(timeout, per_call if per_call is not None else timeout / 2)
    failures, notes = [], []
    if not time_limit_enforced():
        notes.append("time limit not enforced (not on the main thread of a POSIX process)")
    pk = None
    try:
        pk = split_pieces(expr, X, budget)
    except SymbolicFailure as exc:
        failures.append(f"splitting k into smooth pieces: {exc}")
    kd = {
        "text": str(expr),
        "latex": sp.latex(expr),
        "pieces_text": [f"{p.expr} on {p.interval_text()}" for p in pk.pieces] if pk else [],
    }
    if pk is not None:
        try:
            conv = check_convexity(pk, budget)
        except SymbolicFailure as exc:
            failures.append(f"convexity: {exc}")
            conv = _numeric_convexity(expr)
    else:
        conv = _numeric_convexity(expr)
    common = {"text": text, "k": kd, "convex": conv.status, "expr": expr, "pieces": pk}
    if conv.status == FAILED:
        notes.append(
            "k is not convex: no conjugate, induced problem or Lyapunov certificate "
            "(Lion-K needs a convex K)"
        )
        rep = VerifyReport(
            **common,
            method="none",
            statements=tuple(conv.statements),
            lyapunov=(
                Statement("Lyapunov certificate", "needs a convex K", SKIPPED, "k is not convex"),
            ),
            failures=tuple(failures),
            notes=tuple(notes),
        )
        return _finish(rep, t0, certify)
    conj: SymbolicConjugate | NumericalConjugate | None = None
    if pk is not None:
        try:
            conj = conjugate(pk, budget)
        except SymbolicFailure as exc:
            failures.append(f"conjugate: {exc}")
    if conj is None:
        conj = _numerical_conjugate(expr, budget, notes)
        notes.append(
            "k* is numerical: values by brute-force supremum inside the domain, +∞ "
            "outside; statements relying on it are CHECKED, not PROVEN"
        )
    grad = None
    if pk is not None:
        try:
            grad = _describe_grad(pk, budget)
        except SymbolicFailure as exc:
            failures.append(f"gradient description: {exc}")
    else:
        grad = {"text": str(sp.diff(expr, X)), "kinks": [], "latex": sp.latex(sp.diff(expr, X))}
    # the same order of evaluation as the steps of the pipeline: k* text, then induced problem
    conj_d = {
        "text": conj.text(),
        "latex": conj.latex(),
        "domain_text": conj.domain_text,
        "domain": [str(conj.ymin), str(conj.ymax)],
        "closed": [conj.lo_closed, conj.hi_closed],
        "domain_latex": _interval_latex(conj),
    }
    conj_grad = {"text": conj.grad_text()}
    derivation = tuple(getattr(conj, "statements", []))
    induced = None
    try:
        induced = induced_problem(conj)
    except SymbolicFailure as exc:  # pragma: no cover - induced_problem uses cheap sympy calls
        failures.append(f"induced problem: {exc}")
    kf = numeric(expr, X)
    xs = _x_samples(pk)
    g = _grad_selection(pk, expr)
    rep = VerifyReport(
        **common,
        method=conj.method,
        statements=tuple(conv.statements),
        derivation=derivation,
        grad=grad,
        conj=conj_d,
        conj_grad=conj_grad,
        induced=induced,
        lyapunov=tuple(_lyapunov(conv, conj, kf, g, xs)),
        numerical_checks=tuple(_independent(conj, kf)),
        failures=tuple(failures),
        notes=tuple(notes),
        conjugate=conj,
    )
    return _finish(rep, t0, certify)


def _finish(rep: VerifyReport, t0: float, certify: bool) -> VerifyReport:
    """``rep`` with (iv), (v), (v′) when ``certify`` and ``seconds`` since ``t0``."""
    if certify:
        rep = attach_certificates(rep, build_K=K_from_report)
    return replace(rep, seconds=time.monotonic() - t0)


# ------------------------------------------------------------------------------------------
# the catalog, written as expressions
# ------------------------------------------------------------------------------------------
CATALOG_EXPRESSIONS: tuple[tuple[str, dict, str], ...] = (
    ("l1", {}, "Abs(x)"),
    ("sq_l2", {}, "x**2/2"),
    ("huber", {"delta": 1.0}, "Piecewise((x**2/2, Abs(x) <= 1), (Abs(x) - 1/2, True))"),
    ("huber", {"delta": 0.5}, "(x**2 - Max(Abs(x) - 1/2, 0)**2)/2"),
    ("relativistic", {}, "sqrt(1 + x**2)"),
    ("logcosh", {}, "log(cosh(x))"),
    ("deadzone", {"e": 0.1}, "Max(Abs(x) - 1/10, 0)"),
    ("l1_plus_sq", {}, "Abs(x) + x**2/2"),
    ("power_p", {"p": 1.5}, "Abs(x)**1.5/1.5"),
    ("power_p", {"p": 4.0}, "Abs(x)**4/4"),
)
"""(catalog name, parameters, k as an expression) for every separable K of the catalog."""


@dataclass
class CatalogRow:
    name: str
    params: dict
    expr: str
    ok: bool
    max_abs_diff: float
    n_points: int
    domain_agrees: bool
    seconds: float
    report: VerifyReport | None = field(repr=False, default=None)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "params": self.params,
            "expr": self.expr,
            "ok": self.ok,
            "max_abs_diff": self.max_abs_diff,
            "n_points": self.n_points,
            "domain_agrees": self.domain_agrees,
            "seconds": self.seconds,
            "verify_status": self.report.status if self.report else None,
        }


@dataclass
class CatalogReport:
    rows: list[CatalogRow]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "rows": [r.to_dict() for r in self.rows]}

    def to_text(self) -> str:
        """A table: whole cells (columns as wide as their longest entry), yes/no for booleans."""
        head = ("K", "params", "k(x)", "ok", "max|Δk*|", "points", "dom", "status", "s")
        rows = [head] + [
            (
                r.name,
                ",".join(f"{k}={v:g}" for k, v in r.params.items()) or "-",
                r.expr,
                "yes" if r.ok else "NO",
                f"{r.max_abs_diff:.2e}",
                str(r.n_points),
                "yes" if r.domain_agrees else "NO",
                r.report.status if r.report else "-",
                f"{r.seconds:.2f}",
            )
            for r in self.rows
        ]
        widths = [max(len(row[c]) for row in rows) for c in range(len(head))]
        right = {4, 5, 8}
        return (
            "\n".join(
                "  ".join(
                    cell.rjust(w) if c in right else cell.ljust(w)
                    for c, (cell, w) in enumerate(zip(row, widths, strict=False))
                ).rstrip()
                for row in rows
            )
            + "\n"
        )


def verify_catalog(timeout: float = 20.0) -> CatalogReport:
    """Run `verify` on every separable catalog K written as an expression and compare the
    symbolic k* with the catalog's ``K.conj`` on a grid inside dom k*, on its ends and outside
    (both must be +inf there); agreement within 1e-10·(1 + |k*|) (float64 evaluation of two
    different closed forms)."""
    from ..core.kfunc import SeparableK, make_K

    rows = []
    for name, params, text in CATALOG_EXPRESSIONS:
        rep = verify(text, timeout=timeout)
        K = make_K(name, **params)
        assert isinstance(K, SeparableK)  # every row of CATALOG_EXPRESSIONS is separable
        conj = rep.conjugate
        lo, hi = K.dom_bounds()
        dom_ok = (
            conj is not None
            and float(conj.ymin) == lo
            and float(conj.ymax) == hi
            and (conj.lo_closed or not np.isfinite(lo))
            and (conj.hi_closed or not np.isfinite(hi))
        )
        ys = (
            np.concatenate(
                [
                    _inside_samples(conj, 101),
                    _outside_samples(conj),
                    [v for v in (lo, hi) if np.isfinite(v)],
                ]
            )
            if conj
            else np.zeros(0)
        )
        mine = conj(ys) if conj else np.zeros(0)
        ref = np.asarray(K.conj(ys[:, None]), dtype=float)
        both_inf = np.isinf(mine) & np.isinf(ref)
        finite = np.isfinite(mine) & np.isfinite(ref)
        with np.errstate(invalid="ignore"):
            diff = np.where(finite, np.abs(mine - ref), np.where(both_inf, 0.0, np.inf))
        ok_pts = diff <= 1e-10 * (1 + np.where(finite, np.abs(ref), 0.0))
        rows.append(
            CatalogRow(
                name,
                params,
                text,
                bool(rep.ok and dom_ok and np.all(ok_pts)),
                float(np.max(diff)) if diff.size else float("nan"),
                int(ys.size),
                bool(dom_ok),
                rep.seconds,
                rep,
            )
        )
    return CatalogReport(rows)
