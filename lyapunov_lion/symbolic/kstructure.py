"""Structure of a non-separable K(x1, …, xn) (a helper of the pipeline; it imports no stage).

* polyhedral K = max_j a_jᵀx (built from |affine|, Max, sums, non-negative multiples): the exact
  list of a_j (`linear_forms`);
* K = c·√(xᵀAx), A ≻ 0 (`quadratic_norm`); K = ½xᵀAx + bᵀx + c, A ≻ 0 (`quadratic_K`);
* convexity by structure (sums and non-negative multiples of convex terms, Max of convex,
  |affine|, √(positive semidefinite quadratic form), log Σ exp(affine)), by a positive
  semidefinite Hessian (principal minors ≥ 0, sympy), or midpoint convexity on seeded samples;
* numpy evaluation of K and of a subgradient selection ∇K, seeded samples of Rⁿ.
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ..core.expr import lambdify_numpy
from .limits import Budget
from .record import CHECKED, FAILED, Statement

MAX_FORMS = 4096
"""Most linear pieces a polyhedral K may expand to."""
N_PAIRS = 4000
"""Random pairs of the numerical convexity / monotonicity checks."""
RTOL = 1e-9
"""Relative tolerance of the numerical checks (float64 rounding of a few operations, ~1e-15,
amplified at most by the size of the samples, |x| ≤ ~50)."""


def is_affine(e, xs) -> bool:
    p = e.as_poly(*xs) if e.has(*xs) else None
    return (not e.has(*xs)) or (p is not None and p.total_degree() <= 1)


def linear_forms(e, xs):
    """[a_j] with e = max_j a_jᵀx exactly, or None when e is not of that form."""
    if not e.has(*xs):
        return None if e != 0 else [tuple(sp.Integer(0) for _ in xs)]
    if is_affine(e, xs):
        p = e.as_poly(*xs)
        if p.coeff_monomial(1) != 0:
            return None
        return [tuple(p.coeff_monomial(v) for v in xs)]
    if isinstance(e, sp.Abs) and is_affine(e.args[0], xs):
        a = linear_forms(e.args[0], xs)
        return None if a is None else [a[0], tuple(-c for c in a[0])]
    if isinstance(e, sp.Max):
        out = []
        for arg in e.args:
            f = linear_forms(arg, xs)
            if f is None:
                return None
            out += f
        return list(dict.fromkeys(out))
    if isinstance(e, sp.Add):
        out = [tuple(sp.Integer(0) for _ in xs)]
        for arg in e.args:
            f = linear_forms(arg, xs)
            if f is None or len(out) * len(f) > MAX_FORMS:
                return None
            out = list(
                dict.fromkeys(
                    tuple(a + b for a, b in zip(u, v, strict=False)) for u in out for v in f
                )
            )
        return out
    if isinstance(e, sp.Mul):
        c, rest = e.as_independent(*xs)
        if c.is_nonnegative and rest != e:
            f = linear_forms(rest, xs)
            return None if f is None else [tuple(c * a for a in u) for u in f]
    return None


def quadratic_norm(e, xs):
    """(c, A) with e = c·√(xᵀAx), A symmetric positive definite (sympy-proven), else None."""
    c, rest = e.as_independent(*xs)
    if not (isinstance(rest, sp.Pow) and rest.exp == sp.Rational(1, 2)) or not c.is_positive:
        return None
    p = sp.expand(rest.base).as_poly(*xs)
    if p is None or not p.is_homogeneous or p.total_degree() != 2:
        return None
    A = sp.Matrix(len(xs), len(xs), lambda i, j: sp.diff(rest.base, xs[i], xs[j]) / 2)
    if all(A[:k, :k].det().is_positive for k in range(1, len(xs) + 1)):
        return c, A
    return None


def convex_by_structure(e, xs) -> bool:
    if is_affine(e, xs):
        return True
    if isinstance(e, sp.Abs):
        return is_affine(e.args[0], xs)
    if isinstance(e, (sp.Add, sp.Max)):
        return all(convex_by_structure(a, xs) for a in e.args)
    if isinstance(e, sp.Mul):
        c, rest = e.as_independent(*xs)
        return bool(c.is_nonnegative) and rest != e and convex_by_structure(rest, xs)
    if isinstance(e, sp.Pow) and e.exp == sp.Rational(1, 2):
        return quadratic_norm(e, xs) is not None
    if isinstance(e, sp.log) and isinstance(e.args[0], sp.Add):
        return all(isinstance(a, sp.exp) and is_affine(a.args[0], xs) for a in e.args[0].args)
    return False


def hessian_psd(e, xs, budget: Budget) -> bool:
    if e.has(sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign, sp.Heaviside):
        return False
    H = sp.hessian(e, xs)
    n = len(xs)
    for k in range(1, n + 1):
        for idx in itertools.combinations(range(n), k):
            m = budget.try_call(
                "Hessian minor",
                lambda idx=idx: sp.simplify(H.extract(list(idx), list(idx)).det()),
                default=None,
            )
            if m is None or not (m == 0 or m.is_nonnegative):
                return False
    return True


def pull_t(e, t):
    """Take the positive factor t out of Max/Min whose arguments all carry it."""

    def f(node):
        args = [sp.simplify(a / t) for a in node.args]
        return t * node.func(*args) if all(not a.has(t) for a in args) else node

    return e.replace(lambda n: isinstance(n, (sp.Max, sp.Min)), f)


def numpy_fn(expr, xs):
    raw = lambdify_numpy(expr, xs)

    def f(X):
        X = np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            return np.asarray(raw(*np.moveaxis(X, -1, 0)), dtype=float)

    return f


def ae_diff(expr: sp.Expr, v: sp.Symbol) -> sp.Expr:
    """∂expr/∂v almost everywhere: sign/Heaviside differentiate to DiracDelta, which is 0 off a
    null set (the gradient selection of a.e.-differentiable K)."""
    return sp.diff(expr, v).replace(lambda a: isinstance(a, sp.DiracDelta), lambda a: sp.S.Zero)


def grad_selection_nd(expr, xs, forms, quad):
    """A subgradient selection ∇K(x): a_{j*}, j* = argmax a_jᵀx (polyhedral); Ax·c/√(xᵀAx)
    (quadratic; 0 at 0); the lambdified sympy gradient otherwise (0 where it is undefined)."""
    if forms is not None:
        F = np.array([[float(c) for c in a] for a in forms])

        def g(X):
            X = np.asarray(X, dtype=float)
            return F[np.argmax(X @ F.T, axis=-1)]

        return g
    if quad is not None:
        c, A = float(quad[0]), np.array(quad[1].tolist(), dtype=float)

        def g(X):
            X = np.asarray(X, dtype=float)
            AX = X @ A
            n = np.sqrt(np.sum(X * AX, axis=-1, keepdims=True))
            return c * AX / np.where(n > 0, n, 1.0)

        return g
    # sign/Heaviside differentiate to DiracDelta: 0 almost everywhere (a subgradient selection)
    parts = [numpy_fn(ae_diff(expr, v), xs) for v in xs]

    def g(X):
        out = np.stack([p(X) * np.ones(np.shape(X)[:-1]) for p in parts], axis=-1)
        return np.where(np.isfinite(out), out, 0.0)

    return g


def samples(n: int, m: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)) * np.exp(rng.uniform(-3, 3, (m, 1)))
    return np.concatenate([X, np.eye(n), -np.eye(n), np.zeros((1, n))])


def quadratic_K(K, xs):
    """(A, b, c) with K = ½xᵀAx + bᵀx + c and A ≻ 0 (leading principal minors > 0), else None."""
    try:
        poly = sp.Poly(K, *xs)
    except (sp.PolynomialError, sp.GeneratorsNeeded):
        return None
    if poly.total_degree() != 2:
        return None
    A = sp.hessian(K, xs)
    if A.free_symbols or not all(A[:k, :k].det() > 0 for k in range(1, len(xs) + 1)):
        return None
    zero = {v: 0 for v in xs}
    b = sp.Matrix([sp.diff(K, v).subs(zero) for v in xs])
    return A, b, K.subs(zero)


def numeric_convexity_nd(kf, n: int) -> Statement:
    rng = np.random.default_rng(1)
    A0 = samples(n, N_PAIRS, 2)
    # plus mirrored pairs: b = a with coordinate j negated, so the midpoint has x_j = 0 exactly
    # (a K that jumps on a coordinate hyperplane, cos(sign(x2)), is caught there)
    flips = np.ones((n, n)) - 2 * np.eye(n)
    M = A0[: min(len(A0), 200)]
    A = np.concatenate([A0, np.repeat(M, n, axis=0)])
    Bm = np.concatenate([A0[rng.permutation(len(A0))], (M[:, None, :] * flips).reshape(-1, n)])
    lhs, ka, kb = kf((A + Bm) / 2), kf(A), kf(Bm)
    gap = lhs - (ka + kb) / 2
    tol = RTOL * (1 + np.abs(lhs) + np.abs(ka) + np.abs(kb))
    i = int(np.argmax(gap - tol))
    if gap[i] > tol[i]:
        return Statement(
            "convexity (numerical)",
            "K((a+b)/2) ≤ (K(a)+K(b))/2",
            FAILED,
            "midpoint convexity violated",
            n_samples=len(A),
            max_violation=float(gap[i]),
            counterexample={
                "a": A[i].tolist(),
                "b": Bm[i].tolist(),
                "theta": "1/2",
                "gap": float(gap[i]),
                "arithmetic": "float64",
            },
        )
    return Statement(
        "convexity (numerical)",
        "K((a+b)/2) ≤ (K(a)+K(b))/2",
        CHECKED,
        "not proven symbolically (no structure rule, Hessian not proven PSD)",
        n_samples=len(A),
        max_violation=float(max(0.0, gap.max())),
    )


def y_symbols(n: int) -> tuple[sp.Symbol, ...]:
    """y1, …, yn (real): the variables of K*(y) for K in x1, …, xn (n ≥ 2)."""
    return tuple(sp.symbols(" ".join(f"y{i}" for i in range(1, n + 1)), real=True))
