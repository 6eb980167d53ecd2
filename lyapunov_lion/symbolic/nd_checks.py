"""Statements (i)–(iii) of spec §4 for a non-separable K(x1, …, xn) (a helper of the
`certificates` stage; it imports no stage).

* a norm (K sublinear, K* = δ_C, ∇K* = 0 ∈ N_C(y)): (ii) becomes K(x) − yᵀx ≥ 0 (Euler:
  ∇K(x)ᵀx = K(x)), (iii) equality at y = ∇K(x) ∈ C; both PROVEN from homogeneity and the
  definition of C, and checked on samples; K* = 0 on C and +∞ outside are checked on samples;
* a quadratic K = ½xᵀAx + bᵀx + c, A ≻ 0: (i), (ii) from A ≻ 0, (iii) on samples;
* any other convex K: (i) on samples; (ii), (iii) SKIPPED (K* not handled yet).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..core.expr import lambdify_numpy
from .kstructure import RTOL, grad_selection_nd, numpy_fn, samples, y_symbols
from .record import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport, weakest
from .state import Work


def norm_checks(
    kf, g, ball, n, dstat, hstat, cstat
) -> tuple[tuple[Statement, ...], tuple[Statement, ...]]:
    """(numerical checks of K* = δ_C, (i)–(iii) and the descent statement) for a norm K."""
    X = samples(n, 300, 3)
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
    U = np.stack([np.cos(th), np.sin(th)], -1) if n == 2 else samples(n, 4000, 5)
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


def quadratic_checks(kf, g, kc, n: int, status: str) -> tuple[Statement, ...]:
    """(i)–(iii) for K = ½xᵀAx + bᵀx + c, A ≻ 0, with K* = ``kc`` (numpy, in y1..yn):
    ∇K(x) − ∇K(y) = A(x − y) and (∇K(x) − y)ᵀ(x − ∇K*(y)) = (Ax + b − y)ᵀA⁻¹(Ax + b − y) ≥ 0
    (``status``: how K* was established), Fenchel–Young on seeded samples."""
    X = samples(n, 200, 6)
    GX = g(X)
    Y = X[np.random.default_rng(5).permutation(len(X))]
    kcY = kc(*np.moveaxis(Y, -1, 0))
    KX, XY = kf(X), X @ Y.T
    fy = KX[:, None] + kcY[None, :] - XY
    eq = KX + kc(*np.moveaxis(GX, -1, 0)) - np.sum(GX * X, axis=-1)
    # gaps are judged relative to the size of their terms, as for a separable K (scalar_checks)
    size3 = 1 + np.abs(KX)[:, None] + np.abs(kcY)[None, :] + np.abs(XY)
    scale = 1 + np.abs(KX) + np.abs(np.sum(GX * X, axis=-1))
    rel3 = float(np.max(np.maximum(-fy, 0.0) / size3, initial=0.0))
    rel_eq = float(np.max(np.abs(eq) / scale, initial=0.0))
    mono = np.sum((GX - g(Y)) * (X - Y), axis=-1)
    return (
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
            CHECKED if rel3 <= RTOL and rel_eq <= RTOL else FAILED,
            f"inequality on {fy.size} pairs (largest violation relative to 1 + |K(x)| + |K*(y)| "
            f"+ |xᵀy|: {rel3:.2g}); equality at y = ∇K(x) on {len(X)} points (largest |gap| "
            f"{float(np.abs(eq).max()):.3g}, relative to 1 + |K(x)| + |xᵀ∇K(x)|: {rel_eq:.2g}); "
            f"a violation is a relative one above {RTOL:g}",
            n_samples=fy.size + len(X),
            max_violation=float(max(0.0, -fy.min(), np.abs(eq).max())),
        ),
    )


def general_checks(g, n: int, convex: str) -> tuple[Statement, ...]:
    """(i) on seeded pairs for a convex K that is neither separable nor positively homogeneous
    (``convex``: the status of its convexity); (ii), (iii) need K* in closed form: SKIPPED."""
    X = samples(n, 200, 6)
    GX = g(X)
    A = X[np.random.default_rng(7).permutation(len(X))]
    mono = np.sum((GX - g(A)) * (X - A), axis=-1)
    return (
        Statement(
            "(i) monotonicity of ∇K",
            "(∇K(x) − ∇K(y))ᵀ(x − y) ≥ 0",
            convex if mono.min() >= -RTOL * (1 + np.abs(X).max()) else FAILED,
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


def conditions_nd(work: Work) -> VerifyReport:
    """The report of a convex K in x1, x2, … with (i)–(iii) and the descent statement (norm:
    also the checks of K* = δ_C), as the conjugate stage classified K (norm, quadratic, other)."""
    rep, xs = work.report, work.variables
    n = len(xs)
    g = grad_selection_nd(rep.expr, xs, work.forms, work.quad)
    if rep.kind == "norm":
        ball = rep.conjugate
        dstat = PROVEN if ball.method == "symbolic" else CHECKED
        checks, lyapunov = norm_checks(
            numpy_fn(rep.expr, xs), g, ball, n, dstat, work.homogeneity, rep.convex
        )
        return replace(rep, numerical_checks=checks, lyapunov=lyapunov)
    if work.conj_expr is not None:
        ys = y_symbols(n)
        kc = lambdify_numpy(work.conj_expr, tuple(ys))
        status = rep.derivation[-1].status
        return replace(rep, lyapunov=quadratic_checks(numpy_fn(rep.expr, xs), g, kc, n, status))
    return replace(rep, lyapunov=general_checks(g, n, rep.convex))
