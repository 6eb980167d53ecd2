"""The dual ball C = ∂K(0) of a sublinear K in x1, …, xn (a helper of the pipeline).

K convex and positively homogeneous is the support function of C = {y : yᵀx ≤ K(x) ∀x}, so
K* = δ_C; for a norm, C is the dual unit ball {‖y‖_* ≤ 1}. Exactly for two families:

* polyhedral K = max_j a_jᵀx: C = conv{a_j} (2-D: exact convex hull); ‖y‖_* is the gauge
  max_f n_fᵀy / b_f over the facets n_fᵀy ≤ b_f of C (0 interior);
* K = c·√(xᵀAx), A ≻ 0: C = {y : yᵀA⁻¹y ≤ c²}, ‖y‖_* = √(yᵀA⁻¹y)/c (Cauchy–Schwarz in the
  A-metric); A = I gives ℓ2;

other sublinear K in 2-D: ‖y‖_* = max over 4096 directions u of yᵀu/K(u) (numerical).
"""

from __future__ import annotations

import itertools

import numpy as np
import sympy as sp

from ..core.catalog import project_l1_ball
from ..errors import LionKError
from .kstructure import numpy_fn


def hull_2d(points):
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


def project_polygon(Y, V):
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
            numpy_fn(dual_norm_expr, ys) if dual_norm_expr is not None else None
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
            return project_polygon(Y, self.vertices)
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


Y2 = sp.symbols("y1 y2", real=True)


def polyhedral_ball(forms, xs, ys) -> DualBall:
    n = len(xs)
    pts = list(dict.fromkeys(tuple(a) for a in forms))
    V = hull_2d(pts) if n == 2 else pts
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
    V = hull_2d(pts)
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


def quadratic_ball(c, A, ys) -> DualBall:
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


def numeric_ball(kf, ys) -> DualBall:
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
