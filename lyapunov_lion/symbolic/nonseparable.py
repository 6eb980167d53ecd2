"""Non-separable K(x1, x2, …): positively homogeneous convex K (norms) and a convexity-only path.

For K convex and positively homogeneous (K(tx) = tK(x), t > 0: *sublinear*), K is the support
function of C = ∂K(0) = {y : yᵀx ≤ K(x) ∀x}, so K* = δ_C and Lion-K with weight decay λ solves
min f(x) s.t. λx ∈ C; when K is a norm, C is the dual unit ball and the constraint is
‖x‖_* ≤ 1/λ. Steps of `verify_nonseparable`:

1. parse K in x1, x2, … (safe parser), check it is finite on samples;
2. homogeneity: PROVEN when sympy simplifies K(tx) − tK(x) to 0 for a positive symbol t (after
   taking t out of Max/Min), CHECKED on samples otherwise;
3. convexity: PROVEN by structure (sums and non-negative multiples of convex terms, Max of convex,
   |affine|, √(positive semidefinite quadratic form), log Σ exp(affine)) or by a positive
   semidefinite Hessian (principal minors ≥ 0, sympy) on a smooth K; else CHECKED by midpoint
   convexity on seeded random pairs, FAILED with a counterexample;
4. C and the dual norm, exactly for two families:
   * polyhedral K = max_j a_jᵀx (built from |affine|, Max, sums, non-negative multiples): the list
     of a_j is expanded exactly and C = conv{a_j} (2-D: exact convex hull); ‖y‖_* is the gauge
     max_f n_fᵀy / b_f over the facets n_fᵀy ≤ b_f of C (0 interior);
   * K = c·√(xᵀAx), A ≻ 0: C = {y : yᵀA⁻¹y ≤ c²}, ‖y‖_* = √(yᵀA⁻¹y)/c (Cauchy–Schwarz in the
     A-metric); A = I gives ℓ2;
   other sublinear K in 2-D: ‖y‖_* = max over 4096 directions u of yᵀu/K(u) (CHECKED);
5. the Lyapunov statements of spec §4 specialised to K* = δ_C (∇K* = 0 ∈ N_C(y)): (ii) becomes
   K(x) − yᵀx ≥ 0 (Euler: ∇K(x)ᵀx = K(x)), (iii) equality at y = ∇K(x) ∈ C; both PROVEN from
   homogeneity and the definition of C, and checked on samples.

A quadratic K = ½xᵀAx + bᵀx + c with A ≻ 0 gets K*(y) = ½(y − b)ᵀA⁻¹(y − b) − c in closed form
(x1² + x1x2 + x2² → (y1² − y1y2 + y2²)/3). Any other convex K that is not homogeneous (e.g.
log(exp(x1) + exp(x2))) gets its convexity certified and
K* only on the range of ∇K (K*(∇K(x)) = ∇K(x)ᵀx − K(x), Fenchel–Young equality, numerically);
its domain and closed form are *not handled yet* (a SKIPPED statement says so).
"""

from __future__ import annotations

import itertools
import time
from dataclasses import replace

import numpy as np
import sympy as sp

from ..core.catalog import project_l1_ball
from ..core.expr import lambdify_numpy, parse_expression
from ..core.kfunc import NormBallK
from ..errors import LionKError
from .certificates import attach_certificates
from .limits import Budget
from .report import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport, weakest

MAX_FORMS = 4096
"""Most linear pieces a polyhedral K may expand to."""
N_PAIRS = 4000
"""Random pairs of the numerical convexity / monotonicity checks."""
RTOL = 1e-9
"""Relative tolerance of the numerical checks (float64 rounding of a few operations, ~1e-15,
amplified at most by the size of the samples, |x| ≤ ~50)."""


# ------------------------------------------------------------------------------------------
# structure
# ------------------------------------------------------------------------------------------
def _is_affine(e, xs) -> bool:
    p = e.as_poly(*xs) if e.has(*xs) else None
    return (not e.has(*xs)) or (p is not None and p.total_degree() <= 1)


def _linear_forms(e, xs):
    """[a_j] with e = max_j a_jᵀx exactly, or None when e is not of that form."""
    if not e.has(*xs):
        return None if e != 0 else [tuple(sp.Integer(0) for _ in xs)]
    if _is_affine(e, xs):
        p = e.as_poly(*xs)
        if p.coeff_monomial(1) != 0:
            return None
        return [tuple(p.coeff_monomial(v) for v in xs)]
    if isinstance(e, sp.Abs) and _is_affine(e.args[0], xs):
        a = _linear_forms(e.args[0], xs)
        return None if a is None else [a[0], tuple(-c for c in a[0])]
    if isinstance(e, sp.Max):
        out = []
        for arg in e.args:
            f = _linear_forms(arg, xs)
            if f is None:
                return None
            out += f
        return list(dict.fromkeys(out))
    if isinstance(e, sp.Add):
        out = [tuple(sp.Integer(0) for _ in xs)]
        for arg in e.args:
            f = _linear_forms(arg, xs)
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
            f = _linear_forms(rest, xs)
            return None if f is None else [tuple(c * a for a in u) for u in f]
    return None


def _quadratic(e, xs):
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


def _convex_by_structure(e, xs) -> bool:
    if _is_affine(e, xs):
        return True
    if isinstance(e, sp.Abs):
        return _is_affine(e.args[0], xs)
    if isinstance(e, (sp.Add, sp.Max)):
        return all(_convex_by_structure(a, xs) for a in e.args)
    if isinstance(e, sp.Mul):
        c, rest = e.as_independent(*xs)
        return bool(c.is_nonnegative) and rest != e and _convex_by_structure(rest, xs)
    if isinstance(e, sp.Pow) and e.exp == sp.Rational(1, 2):
        return _quadratic(e, xs) is not None
    if isinstance(e, sp.log) and isinstance(e.args[0], sp.Add):
        return all(isinstance(a, sp.exp) and _is_affine(a.args[0], xs) for a in e.args[0].args)
    return False


def _hessian_psd(e, xs, budget: Budget) -> bool:
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


def _pull_t(e, t):
    """Take the positive factor t out of Max/Min whose arguments all carry it."""

    def f(node):
        args = [sp.simplify(a / t) for a in node.args]
        return t * node.func(*args) if all(not a.has(t) for a in args) else node

    return e.replace(lambda n: isinstance(n, (sp.Max, sp.Min)), f)


# ------------------------------------------------------------------------------------------
# numerics
# ------------------------------------------------------------------------------------------
def _fn(expr, xs):
    raw = lambdify_numpy(expr, xs)

    def f(X):
        X = np.asarray(X, dtype=float)
        with np.errstate(all="ignore"):
            return np.asarray(raw(*np.moveaxis(X, -1, 0)), dtype=float)

    return f


def _ae_diff(expr: sp.Expr, v: sp.Symbol) -> sp.Expr:
    """∂expr/∂v almost everywhere: sign/Heaviside differentiate to DiracDelta, which is 0 off a
    null set (the gradient selection of a.e.-differentiable K)."""
    return sp.diff(expr, v).replace(lambda a: isinstance(a, sp.DiracDelta), lambda a: sp.S.Zero)


def _grad_fn(expr, xs, forms, quad):
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
    parts = [_fn(_ae_diff(expr, v), xs) for v in xs]

    def g(X):
        out = np.stack([p(X) * np.ones(np.shape(X)[:-1]) for p in parts], axis=-1)
        return np.where(np.isfinite(out), out, 0.0)

    return g


def _samples(n: int, m: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n)) * np.exp(rng.uniform(-3, 3, (m, 1)))
    return np.concatenate([X, np.eye(n), -np.eye(n), np.zeros((1, n))])


def _hull_2d(points):
    """Exact convex hull (counter-clockwise vertices) of rational 2-D points (monotone chain)."""
    pts = sorted(set(points), key=lambda p: (p[0], p[1]))
    if len(pts) <= 2:
        return pts

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower, upper = [], []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return lower[:-1] + upper[:-1]


def _project_polygon(Y, V):
    """Euclidean projection of the rows of Y onto the convex polygon with ccw vertices V."""
    Y = np.asarray(Y, dtype=float)
    E0, E1 = V, np.roll(V, -1, axis=0)
    d = E1 - E0
    nrm = np.stack([d[:, 1], -d[:, 0]], axis=-1)  # outward normals of a ccw polygon
    inside = np.all(np.einsum("...ek,ek->...e", Y[..., None, :] - E0, nrm) <= 0, axis=-1)
    t = np.clip(np.einsum("...ek,ek->...e", Y[..., None, :] - E0, d) / np.sum(d * d, -1), 0, 1)
    P = E0 + t[..., None] * d
    j = np.argmin(np.sum((Y[..., None, :] - P) ** 2, axis=-1), axis=-1)
    best = np.take_along_axis(P, j[..., None, None], axis=-2)[..., 0, :]
    return np.where(inside[..., None], Y, best)


# ------------------------------------------------------------------------------------------
# the dual ball
# ------------------------------------------------------------------------------------------
class DualBall:
    """C = ∂K(0) = {y : yᵀx ≤ K(x) ∀x} of a sublinear K: K* = δ_C (0 on C, +∞ outside)."""

    def __init__(
        self,
        kind,
        dual_norm_expr,
        ys,
        name,
        text,
        latex,
        vertices=None,
        B=None,
        scale=1.0,
        numeric_gauge=None,
    ):
        self.kind, self.expr, self.ys = kind, dual_norm_expr, ys
        self.name, self.text_, self.latex_ = name, text, latex
        self.vertices, self.B, self.scale = vertices, B, scale
        self._gauge = numeric_gauge or (
            _fn(dual_norm_expr, ys) if dual_norm_expr is not None else None
        )
        self.method = "symbolic" if numeric_gauge is None else "numerical"

    def gauge(self, Y):
        """‖y‖_* = inf{s ≥ 0 : y ∈ sC}."""
        return self._gauge(Y)

    def __call__(self, Y):
        return np.where(self.gauge(Y) <= 1 + 1e-12, 0.0, np.inf)

    def project(self, Y):
        """Euclidean projection onto C (box, Euclidean/ellipsoidal ball, ℓ1 ball, polygon)."""
        Y = np.asarray(Y, dtype=float)
        if self.name == "linf":
            return np.clip(Y, -self.scale, self.scale)
        if self.name == "l2":
            return Y / np.maximum(1.0, np.linalg.norm(Y, axis=-1, keepdims=True) / self.scale)
        if self.name == "l1":
            return self.scale * project_l1_ball(Y / self.scale)
        if self.vertices is not None and self.vertices.shape[-1] == 2:
            return _project_polygon(Y, self.vertices)
        if self.B is not None:  # ellipsoid {yᵀBy ≤ 1}: z = (I + μB)⁻¹y, bisection on μ
            lam, Q = np.linalg.eigh(self.B)
            w = Y @ Q
            out = np.sum(lam * w * w, axis=-1, keepdims=True) > 1
            lo, hi = np.zeros(out.shape), np.ones(out.shape)
            for _ in range(200):
                if np.all(np.sum(lam * (w / (1 + hi * lam)) ** 2, -1, keepdims=True) <= 1):
                    break
                hi = 2 * hi
            for _ in range(200):
                mid = 0.5 * (lo + hi)
                big = np.sum(lam * (w / (1 + mid * lam)) ** 2, -1, keepdims=True) > 1
                lo, hi = np.where(big, mid, lo), np.where(big, hi, mid)
            return np.where(out, (w / (1 + hi * lam)) @ Q.T, Y)
        raise NotImplementedError("no projection onto a numerically known dual ball")


_Y2 = sp.symbols("y1 y2", real=True)


def _polyhedral_ball(forms, xs, ys) -> DualBall:
    n = len(xs)
    pts = list(dict.fromkeys(tuple(a) for a in forms))
    V = _hull_2d(pts) if n == 2 else pts
    shapes = (
        (
            "linf",
            list(itertools.product((1, -1), repeat=n)),
            "‖y‖_∞",
            r"\|y\|_\infty",
            sp.Max(*[sp.Abs(y) for y in ys]),
        ),
        (
            "l1",
            [tuple(sg * (i == j) for j in range(n)) for i in range(n) for sg in (1, -1)],
            "‖y‖₁",
            r"\|y\|_1",
            sp.Add(*[sp.Abs(y) for y in ys]),
        ),
    )
    s = max(abs(c) for p in V for c in p)
    for name, shape, sym, lat, nrm in shapes:
        if s > 0 and set(V) == {tuple(s * c for c in v) for v in shape}:
            return DualBall(
                "polyhedral",
                nrm / s,
                ys,
                name,
                sym,
                lat,
                scale=float(s),
                vertices=np.array([[float(c) for c in v] for v in V]) if n == 2 else None,
            )
    if n != 2:
        raise LionKError(
            "a polyhedral K in more than 2 variables is recognised only as a "
            "multiple of ‖x‖₁ or ‖x‖_∞"
        )
    V = _hull_2d(pts)
    terms = []
    for p, q in zip(V, V[1:] + V[:1], strict=False):
        nvec = (q[1] - p[1], p[0] - q[0])  # outward normal of the ccw edge p → q
        b = nvec[0] * p[0] + nvec[1] * p[1]
        if not b > 0:
            raise LionKError(
                "the unit ball of K* does not contain 0 in its interior (K is not a "
                "norm); only norms are handled in 2-D"
            )
        terms.append((nvec[0] * ys[0] + nvec[1] * ys[1]) / b)
    nrm = sp.Max(*terms)
    return DualBall(
        "polyhedral",
        nrm,
        ys,
        "polygon",
        f"max_f n_fᵀy/b_f = {nrm}",
        sp.latex(nrm),
        vertices=np.array([[float(c) for c in v] for v in V]),
    )


def _quadratic_ball(c, A, ys) -> DualBall:
    Ainv = A.inv()
    q = sp.sqrt(sp.expand((sp.Matrix([ys]) * Ainv * sp.Matrix(ys))[0])) / c
    if A[0, 0] * sp.eye(A.shape[0]) == A:
        s = c * sp.sqrt(A[0, 0])
        return DualBall("quadratic", q, ys, "l2", "‖y‖₂", r"\|y\|_2", scale=float(s))
    return DualBall(
        "quadratic",
        q,
        ys,
        "ellipsoid",
        f"√(yᵀA⁻¹y)/c = {q}",
        sp.latex(q),
        B=np.array((Ainv / c**2).tolist(), dtype=float),
    )


def _numeric_ball(kf, ys) -> DualBall:
    th = np.linspace(0, 2 * np.pi, 4096, endpoint=False)
    U = np.stack([np.cos(th), np.sin(th)], axis=-1)
    B = U / kf(U)[:, None]  # the boundary of the unit ball of K

    def ratio(Y, t):
        u = np.stack([np.cos(t), np.sin(t)], axis=-1)
        return np.sum(Y * u, axis=-1) / kf(u)

    def gauge(Y):
        """max over the grid, then 60 golden-section steps on the neighbouring bracket (the
        grid alone under-estimates by O(Δθ²) ≈ 1e-6 relative)."""
        Y = np.asarray(Y, dtype=float)
        vals = Y @ B.T
        j = np.argmax(vals, axis=-1)
        a, b = th[j] - 2 * np.pi / 4096, th[j] + 2 * np.pi / 4096
        gr = (np.sqrt(5.0) - 1) / 2
        for _ in range(60):
            c, d = b - gr * (b - a), a + gr * (b - a)
            left = ratio(Y, c) > ratio(Y, d)
            a, b = np.where(left, a, c), np.where(left, d, b)
        return np.maximum(
            np.take_along_axis(vals, j[..., None], -1)[..., 0], ratio(Y, 0.5 * (a + b))
        )

    return DualBall(
        "numerical",
        None,
        ys,
        "numerical",
        "max_{K(u)=1} yᵀu (4096 directions)",
        r"\max_{K(u)=1} y^\top u",
        numeric_gauge=gauge,
    )


# ------------------------------------------------------------------------------------------
# the entry point
# ------------------------------------------------------------------------------------------
def _numeric_convexity(kf, n) -> Statement:
    rng = np.random.default_rng(1)
    A0 = _samples(n, N_PAIRS, 2)
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


def verify_nonseparable(text: str, *, timeout: float = 20.0, certify: bool = True) -> VerifyReport:
    """Verify a non-separable K given in x1, x2, … (see the module docstring).

    Returns a `VerifyReport` with ``kind`` "norm" (sublinear K: K* = δ_C, dual norm, induced
    constraint) or "nonseparable" (convexity only; conjugate not handled yet). ``certify``: add
    (iv) and (v)/(v′) (`certificates.attach_certificates`), as `verify`."""
    t0 = time.monotonic()
    parsed = parse_expression(text)
    xs, K = parsed.variables, parsed.expr
    n = len(xs)
    if n < 2:
        raise LionKError(
            "verify_nonseparable takes K in x1, x2, …; for a separable K write its "
            "scalar k in x and use verify"
        )
    budget = Budget(timeout, timeout / 2)
    kf = _fn(K, xs)
    S = _samples(n, 500)
    if not np.all(np.isfinite(kf(S))):
        raise LionKError(f"K(x) = {K} is not finite and real on all of R^{n}")
    rep = VerifyReport(
        text=text,
        k={"text": str(K), "latex": sp.latex(K), "pieces_text": []},
        convex=SKIPPED,
        method="none",
        expr=K,
        kind="nonseparable",
    )
    # homogeneity
    t = sp.Symbol("t", positive=True)
    diff = budget.try_call(
        "homogeneity",
        lambda: sp.simplify(_pull_t(K.xreplace({v: t * v for v in xs}), t) - t * K),
        default=None,
    )
    ts = np.array([0.1, 0.5, 2.0, 7.0])
    hv = np.abs(kf(ts[:, None, None] * S) - ts[:, None] * kf(S))
    h_ok = np.all(hv <= RTOL * (1 + np.abs(ts[:, None] * kf(S))))
    hstat = PROVEN if diff == 0 else (CHECKED if h_ok else FAILED)
    if hstat == FAILED:  # a classification, not a failure of K: the general path follows
        hst = Statement(
            "positive homogeneity",
            "K is not positively homogeneous: K(tx) ≠ tK(x) for some t > 0",
            CHECKED,
            "on samples, t ∈ {0.1, 0.5, 2, 7}",
            n_samples=hv.size,
        )
    else:
        hst = Statement(
            "positive homogeneity",
            "K(tx) = tK(x) for t > 0",
            hstat,
            "" if hstat == PROVEN else "on samples, t ∈ {0.1, 0.5, 2, 7}",
            n_samples=None if hstat == PROVEN else hv.size,
            max_violation=None if hstat == PROVEN else float(hv.max()),
        )
    # convexity
    if _convex_by_structure(K, xs):
        cst = Statement(
            "convexity",
            "K is convex",
            PROVEN,
            "by structure: sums and non-negative "
            "multiples of convex terms, Max of convex, |affine|, √(PSD quadratic "
            "form), log Σ exp(affine)",
        )
    elif _hessian_psd(K, xs, budget):
        cst = Statement("convexity", "∇²K(x) ⪰ 0 (all principal minors ≥ 0)", PROVEN, "sympy")
    else:
        cst = _numeric_convexity(kf, n)
    rep = replace(rep, statements=(hst, cst), convex=cst.status)
    if cst.status == FAILED:
        rep = replace(
            rep,
            notes=("K is not convex: no conjugate, induced problem or Lyapunov certificate",),
            lyapunov=(
                Statement("Lyapunov certificate", "needs a convex K", SKIPPED, "K is not convex"),
            ),
        )
        return _finish(rep, t0, certify)
    forms = _linear_forms(K, xs)
    quad = _quadratic(K, xs)
    g = _grad_fn(K, xs, forms, quad)
    grad = {
        "text": (
            "a_j*, j* = argmax_j a_jᵀx over the linear pieces"
            if forms is not None
            else str([_ae_diff(K, v) for v in xs])
        ),
        "kinks": [],
    }
    rep = replace(rep, grad=grad)
    if hstat == FAILED:
        if _quadratic_K(K, xs) is not None:
            return _finish(_quadratic_conjugate(rep, K, xs, kf, g, n), t0, certify)
        return _finish(_general(rep, kf, g, n), t0, certify)
    ys = _Y2 if n == 2 else sp.symbols(" ".join(f"y{i}" for i in range(1, n + 1)), real=True)
    if forms is not None:
        ball = _polyhedral_ball(forms, xs, ys)
        how = f"K = max_j a_jᵀx over {len(forms)} exact linear pieces; C = conv{{a_j}}"
    elif quad is not None:
        ball = _quadratic_ball(quad[0], quad[1], ys)
        how = "K = c√(xᵀAx), A ≻ 0 (leading minors > 0): C = {yᵀA⁻¹y ≤ c²} by Cauchy–Schwarz"
    elif n == 2:
        ball = _numeric_ball(kf, ys)
        how = "gauge of C from 4096 points of the unit sphere of K (no closed form recognised)"
    else:
        raise LionKError(
            "only polyhedral and quadratic-form K are handled in more than 2 variables"
        )
    dstat = PROVEN if ball.method == "symbolic" else CHECKED
    derivation = Statement(
        "K* = δ_C",
        f"K sublinear ⇒ K* = δ_C, C = {{y : yᵀx ≤ K(x) ∀x}} = {{‖y‖_* ≤ 1}}, ‖y‖_* = {ball.text_}",
        weakest([dstat, hstat, cst.status]),
        how,
    )
    conj = {
        "text": f"δ{{{ball.text_} ≤ 1}}",
        "latex": r"\delta\{" + ball.latex_ + r" \le 1\}",
        "domain_text": f"{{y : {ball.text_} ≤ 1}}",
        "domain_latex": r"\{y : " + ball.latex_ + r" \le 1\}",
    }
    named = ball.name in ("l1", "l2", "linf")
    xn = ball.text_.replace("y", "x") if named else f"‖x‖_* ({ball.text_.replace('y', 'x')})"
    if named:
        lat = ball.latex_.replace(r"\|y\|", r"\|x\|")
    elif ball.expr is not None:
        lat = sp.latex(ball.expr.xreplace(dict(zip(ys, xs, strict=False))))
    else:
        lat = r"\max_{K(u)=1} x^\top u"
    r = "1/λ" if ball.scale == 1 else f"{sp.nsimplify(ball.scale)}/λ"
    rl = (
        r"\frac{1}{\lambda}"
        if ball.scale == 1
        else sp.latex(sp.nsimplify(ball.scale) / sp.Symbol("lambda"))
    )
    if ball.name in ("l1", "l2", "linf"):
        induced = {
            "kind": "constraint",
            "text": f"s.t. {xn} ≤ {r}",
            "latex": r"\text{s.t. } " + lat + r" \le " + rl,
        }
    else:
        induced = {
            "kind": "constraint",
            "text": f"s.t. {xn} ≤ 1/λ",
            "latex": r"\text{s.t. } " + lat + r" \le \frac{1}{\lambda}",
        }
    numerical_checks, lyapunov = _norm_checks(kf, g, ball, n, dstat, hstat, cst.status)
    rep = replace(
        rep,
        kind="norm",
        method=ball.method,
        conjugate=ball,
        derivation=(derivation,),
        conj=conj,
        conj_grad={"text": "0 (0 lies in the normal cone of C at every y ∈ C)"},
        induced=induced,
        numerical_checks=numerical_checks,
        lyapunov=lyapunov,
    )
    return _finish(rep, t0, certify)


def _finish(rep: VerifyReport, t0: float, certify: bool) -> VerifyReport:
    """``rep`` with (iv), (v), (v′) when ``certify`` and ``seconds`` since ``t0``."""
    if certify:
        rep = attach_certificates(rep, build_K=K_from_norm_report)
    return replace(rep, seconds=time.monotonic() - t0)


def _norm_checks(
    kf, g, ball, n, dstat, hstat, cstat
) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
    """(numerical checks of K* = δ_C, (i)–(iii) and the descent statement) for a norm K."""
    X = _samples(n, 300, 3)
    rng = np.random.default_rng(4)
    Yr = rng.standard_normal((300, n))
    gy = ball.gauge(Yr)
    Yin = Yr / gy[:, None] * rng.uniform(0.05, 1.0, (300, 1))
    Yin = np.concatenate([Yin, Yr / gy[:, None]])  # on the boundary too
    Yout = Yr / gy[:, None] * 1.2
    KX = kf(X)
    GX = g(X)
    scale = 1 + np.abs(KX)[:, None] + np.abs(X @ Yin.T)
    gap = KX[:, None] - X @ Yin.T  # K(x) − yᵀx ≥ 0 on C
    v2 = float(max(0.0, -(gap / scale).min()))
    ok2 = v2 <= RTOL
    # outside C: some x on the unit sphere of K has yᵀx > K(x) (then K*(y) = +∞ by homogeneity)
    th = np.linspace(0, 2 * np.pi, 2048, endpoint=False)
    U = np.stack([np.cos(th), np.sin(th)], -1) if n == 2 else _samples(n, 4000, 5)
    out_ok = np.all(np.max(Yout @ U.T - kf(U), axis=-1) > 0)
    eq = KX - np.sum(GX * X, axis=-1)
    in_c = ball.gauge(GX) <= 1 + 1e-9
    v_eq = float(np.max(np.abs(eq) / (1 + np.abs(KX))))
    A = X[rng.permutation(len(X))]
    mono = np.sum((GX - g(A)) * (X - A), axis=-1)
    v1 = float(max(0.0, -mono.min()))
    checks = (
        Statement(
            "K* = 0 on C",
            "sup_x (yᵀx − K(x)) = 0 for ‖y‖_* ≤ 1 (K(x) − yᵀx ≥ 0)",
            CHECKED if ok2 else FAILED,
            "x × y samples, y inside and on the boundary of C",
            n_samples=gap.size,
            max_violation=v2,
        ),
        Statement(
            "K* = +∞ outside C",
            "for ‖y‖_* = 1.2 some u has yᵀu > K(u)",
            CHECKED if out_ok else FAILED,
            "then sup_t (t yᵀu − tK(u)) = +∞",
            n_samples=len(Yout),
        ),
    )
    proof = weakest([hstat, cstat, dstat])
    lyapunov = [
        Statement(
            "(i) monotonicity of ∇K",
            "(∇K(x) − ∇K(y))ᵀ(x − y) ≥ 0",
            weakest([cstat]) if v1 <= RTOL * (1 + np.abs(X).max()) else FAILED,
            f"convexity ({cstat}); numerically on pairs",
            n_samples=len(X),
            max_violation=v1,
        ),
        Statement(
            "(ii) mixed inequality (Lemma 2.1)",
            "(∇K(x) − y)ᵀ(x − ∇K*(y)) = K(x) − yᵀx ≥ 0 for y ∈ C (∇K* = 0, Euler ∇K(x)ᵀx = K(x))",
            proof if ok2 else FAILED,
            "definition of C; numerically on x × y samples",
            n_samples=gap.size,
            max_violation=v2,
        ),
        Statement(
            "(iii) Fenchel–Young",
            "K(x) + K*(y) − xᵀy ≥ 0, = 0 at y = ∇K(x) ∈ C",
            CHECKED if (ok2 and v_eq <= RTOL and np.all(in_c)) else FAILED,
            f"inequality as (ii); equality on {len(X)} points (largest |gap| {v_eq:.3g}), "
            "∇K(x) ∈ C checked",
            n_samples=gap.size + len(X),
            max_violation=max(v2, v_eq),
        ),
    ]
    cond = weakest([lyapunov[0].status, lyapunov[1].status])
    descent = Statement(
        "Lyapunov descent",
        "Δ ≥ 0, hence dH/dt = −Δ ≤ 0 (spec §4), for εγ ≤ 1 and λ > 0",
        cond,
        "Δ is a non-negative combination of the terms of (i) and (ii) when εγ ≤ 1; H ≥ F by (iii)",
    )
    return checks, (*lyapunov, descent)


def _quadratic_K(K, xs):
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


def _quadratic_conjugate(rep: VerifyReport, K, xs, kf, g, n) -> VerifyReport:
    """K = ½xᵀAx + bᵀx + c, A ≻ 0: K*(y) = ½(y − b)ᵀA⁻¹(y − b) − c on all of Rⁿ, ∇K*(y) =
    A⁻¹(y − b) (the maximiser of yᵀx − K(x) solves Ax + b = y); PROVEN by sympy checking the
    Fenchel–Young equality K*(∇K(x)) = ∇K(x)ᵀx − K(x) identically; (i)–(iii) on samples."""
    A, b, c = _quadratic_K(K, xs)
    ys = sp.Matrix(sp.symbols(" ".join(f"y{i}" for i in range(1, n + 1)), real=True))
    Ainv = A.inv()
    Kc = sp.expand((ys - b).T * Ainv * (ys - b) / 2)[0, 0] - c
    gradK = sp.Matrix([sp.diff(K, v) for v in xs])
    identity = sp.simplify(
        Kc.xreplace(dict(zip(ys, gradK, strict=False))) - (gradK.T * sp.Matrix(xs))[0, 0] + K
    )
    status = PROVEN if identity == 0 else FAILED
    lam = sp.Symbol("lambda", positive=True)
    induced = sp.factor(Kc.xreplace({y: lam * v for y, v in zip(ys, xs, strict=False)}) / lam)
    conj = {
        "text": f"{Kc} on R^{n}",
        "latex": sp.latex(Kc),
        "domain_text": f"R^{n}",
        "domain_latex": r"\mathbb{R}^{" + str(n) + "}",
    }
    derivation = Statement(
        "K* of a quadratic K",
        f"K = ½xᵀAx + bᵀx + c, A = {A.tolist()} ≻ 0 ⇒ K*(y) = ½(y − b)ᵀA⁻¹(y − b) − c = {Kc}",
        status,
        "sympy: K*(∇K(x)) − (∇K(x)ᵀx − K(x)) simplifies to 0 (Fenchel–Young equality; the "
        "supremum of the strictly concave yᵀx − K(x) is attained at Ax + b = y)",
    )
    kc = lambdify_numpy(Kc, tuple(ys))
    X = _samples(n, 200, 6)
    GX = g(X)
    Y = X[np.random.default_rng(5).permutation(len(X))]
    kcY = kc(*np.moveaxis(Y, -1, 0))
    fy = kf(X)[:, None] + kcY[None, :] - X @ Y.T
    eq = kf(X) + kc(*np.moveaxis(GX, -1, 0)) - np.sum(GX * X, axis=-1)
    scale = 1 + np.abs(kf(X)) + np.abs(np.sum(GX * X, axis=-1))
    mono = np.sum((GX - g(Y)) * (X - Y), axis=-1)
    lyapunov = (
        Statement(
            "(i) monotonicity of ∇K",
            "(∇K(x) − ∇K(y))ᵀ(x − y) ≥ 0",
            status if mono.min() >= -RTOL * (1 + np.abs(X).max()) else FAILED,
            "∇K(x) − ∇K(y) = A(x − y), A ≻ 0; numerically on pairs",
            n_samples=len(X),
            max_violation=float(max(0.0, -mono.min())),
        ),
        Statement(
            "(ii) mixed inequality (Lemma 2.1)",
            "(∇K(x) − y)ᵀ(x − ∇K*(y)) ≥ 0",
            status,
            "= (Ax + b − y)ᵀA⁻¹(Ax + b − y) ≥ 0 since A⁻¹ ≻ 0 (∇K*(y) = A⁻¹(y − b))",
        ),
        Statement(
            "(iii) Fenchel–Young",
            "K(x) + K*(y) − xᵀy ≥ 0, = 0 at y = ∇K(x)",
            CHECKED
            if fy.min() >= -RTOL * (1 + np.abs(fy).max()) and np.all(np.abs(eq) <= RTOL * scale)
            else FAILED,
            f"on {fy.size} pairs and {len(X)} points",
            n_samples=fy.size + len(X),
            max_violation=float(max(0.0, -fy.min(), np.abs(eq).max())),
        ),
    )
    return replace(
        rep,
        conj=conj,
        conj_grad={"text": str(list(Ainv * (ys - b)))},
        derivation=(*rep.derivation, derivation),
        induced={"kind": "penalty", "text": f"+ {induced}", "latex": "+ " + sp.latex(induced)},
        lyapunov=lyapunov,
        method="symbolic",
        notes=(
            *rep.notes,
            "quadratic K: K* in closed form; simulate takes it as a separable or norm K "
            "only (no K is built for simulate)",
        ),
    )


def _general(rep: VerifyReport, kf, g, n) -> VerifyReport:
    X = _samples(n, 200, 6)
    GX = g(X)
    conj_vals = np.sum(GX * X, axis=-1) - kf(X)
    conj = {
        "text": "not handled yet: K is not positively homogeneous and not separable; "
        f"numerically K*(∇K(x)) = ∇K(x)ᵀx − K(x) on {len(X)} points of the range of ∇K",
        "latex": r"K^*(\nabla K(x)) = \nabla K(x)^\top x - K(x)",
        "domain_text": "not determined (contains the range of ∇K)",
        "domain_latex": "",
    }
    derivation = Statement(
        "conjugate",
        "closed form of K* and dom K*",
        SKIPPED,
        "not handled yet for a non-separable, non-homogeneous K; numerical fallback: "
        "K* known on "
        f"the range of ∇K only (values from {len(X)} points, range "
        f"[{np.nanmin(conj_vals):.4g}, {np.nanmax(conj_vals):.4g}])",
    )
    A = X[np.random.default_rng(7).permutation(len(X))]
    mono = np.sum((GX - g(A)) * (X - A), axis=-1)
    lyapunov = (
        Statement(
            "(i) monotonicity of ∇K",
            "(∇K(x) − ∇K(y))ᵀ(x − y) ≥ 0",
            rep.convex if mono.min() >= -RTOL * (1 + np.abs(X).max()) else FAILED,
            "convexity; numerically on pairs",
            n_samples=len(X),
            max_violation=float(max(0.0, -mono.min())),
        ),
        Statement(
            "(ii), (iii), induced problem",
            "need K* in closed form",
            SKIPPED,
            "not handled yet for a non-separable, non-homogeneous K",
        ),
    )
    return replace(
        rep,
        conj=conj,
        derivation=(*rep.derivation, derivation),
        lyapunov=lyapunov,
        method="none",
        notes=(
            *rep.notes,
            "non-separable K that is not positively homogeneous: convexity certified, "
            "K* and the induced problem not handled yet (no K is built for simulate)",
        ),
    )


# ------------------------------------------------------------------------------------------
# the K
# ------------------------------------------------------------------------------------------
class NormFromExpression(NormBallK):
    """A sublinear K given as an expression in x1..xn: K* = δ_C (see the module docstring).
    Numpy only (the functions come from sympy's numpy printer)."""

    name = "expr"
    separable = False
    _norm_text: str  # these are set by `K_from_norm_report` on the generated class / instance
    _radius: float
    _lip: float
    dim: int

    def K(self, x):
        x = np.asarray(x)
        return self._k(x).astype(x.dtype if x.dtype.kind == "f" else float, copy=False)

    def grad(self, x):
        x = np.asarray(x)
        return self._g(x).astype(x.dtype if x.dtype.kind == "f" else float, copy=False)

    def dual_norm(self, y):
        return self.ball.gauge(y)

    def project_dom_conj(self, y):
        return self.ball.project(y)

    def describe_induced(self, lam: float) -> str:
        """‖x‖_* ≤ r with r = s/λ (s the radius of C in its recognised norm, else 1)."""
        if lam <= 0:
            return super().describe_induced(lam)
        from ..core.kfunc import format_number

        return f"{self._norm_text} ≤ {format_number(self._radius / lam)}"

    def dual_lipschitz(self, n: int) -> float:
        """max ‖u‖_*/‖u‖₂ over 4096 directions (2-D) or the named norm's bound, ×1.01 margin."""
        return self._lip


def K_from_norm_report(rep: VerifyReport) -> NormBallK:
    """The `NormBallK` of a verified sublinear K; `LionKError` when not available."""
    if rep.convex == FAILED or not rep.ok:
        bad = next((s for s in rep._all() if s.status == FAILED), None)
        raise LionKError(
            f"cannot build K from {rep.text!r}: "
            + (f"{bad.name} FAILED ({bad.claim})" if bad else "verification failed")
        )
    if rep.kind != "norm":
        raise LionKError(
            f"cannot build K from {rep.text!r}: the conjugate of a non-separable, "
            "non-homogeneous K is not handled yet"
        )
    if rep.grad is None or rep.conj is None or rep.induced is None:
        raise LionKError(
            f"cannot build K from {rep.text!r}: K*, ∇K or the induced problem is missing"
        )
    ball = rep.conjugate
    if ball.method != "symbolic" and ball.vertices is None:
        raise LionKError(
            f"cannot build K from {rep.text!r}: the dual ball is known numerically "
            "only (no projection onto it)"
        )
    xs = sorted(rep.expr.free_symbols, key=lambda s: int(s.name[1:]))
    n = int(xs[-1].name[1:])
    xs = [sp.Symbol(f"x{i}", real=True) for i in range(1, n + 1)]
    forms, quad = _linear_forms(rep.expr, xs), _quadratic(rep.expr, xs)
    attrs = {
        "formula": str(rep.expr),
        "formula_latex": rep.k["latex"],
        "grad_formula": rep.grad["text"],
        "conj_formula": rep.conj["text"],
        "conj_latex": rep.conj["latex"],
        "induced": rep.induced["text"],
        "induced_latex": rep.induced["latex"],
        "induced_kind": "constraint",
        "differentiable": False,  # a norm has a kink at 0
        "even": _even(rep.expr, xs),
    }
    K = type("NormFromExpression", (NormFromExpression,), attrs)()
    K.report, K.ball, K.dim = rep, ball, n
    K.expression = (rep.catalog or {}).get("expression", rep.text)
    K._k, K._g = _fn(rep.expr, xs), _grad_fn(rep.expr, xs, forms, quad)
    named = ball.name in ("l1", "l2", "linf")
    K._radius = ball.scale if named else 1.0
    K._norm_text = rep.induced["text"].removeprefix("s.t. ").rsplit(" ≤ ", 1)[0]
    U = _samples(n, 4000, 8)
    U = U[np.linalg.norm(U, axis=-1) > 0]
    K._lip = 1.01 * float(np.max(ball.gauge(U) / np.linalg.norm(U, axis=-1)))
    return K


def _even(expr, xs) -> bool:
    """K(−x) = K(x): sympy, else on samples (only decides a convention warning)."""
    if sp.simplify(expr.xreplace({v: -v for v in xs}) - expr) == 0:
        return True
    f = _fn(expr, xs)
    S = _samples(len(xs), 200, 9)
    return bool(np.all(np.abs(f(S) - f(-S)) <= 1e-12 * (1 + np.abs(f(S)))))
