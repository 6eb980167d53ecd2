"""The K catalog (spec §6) against convex analysis, independent numerics and the paper's Lemma 2.1.

Every test taking ``catalog_K`` runs for every registered K, its parameter variants (conftest) and
vector dimensions 1, 2, 5 (nuclear: 3x2 matrices). Points come from fixed seeds. dom K* is
described here *independently* of the implementation (``_DOM``), so the samplers of feasible /
boundary / outside points do not use ``project_dom_conj``.

Tolerances. Unless stated otherwise an identity is checked to ``RTOL * scale`` where ``scale``
is the size of the terms that cancel: every quantity is a handful of float64 operations on
numbers of size ``scale``, so rounding is a few ulps (eps = 2.2e-16) times the number of terms
(≤ 6 here); ``1e-12`` leaves a safety factor of ~100.
"""

from __future__ import annotations

import json
import zlib

import array_api_strict as xps
import numpy as np
import pytest
from scipy import optimize, special

from lyapunov_lion.core import kfunc
from lyapunov_lion.core.kfunc import DOMAIN_TOL, SeparableK, available_K, make_K, register_K
from lyapunov_lion.errors import LionKError

RTOL = 1e-12  # rounding of a few float64 operations (see module docstring)

# --------------------------------------------------------------------------------------------
# dom K*, described independently of the implementation
# --------------------------------------------------------------------------------------------
# ("ball", gauge): dom K* = {gauge(y) <= 1}, a symmetric convex body around 0;
# ("all", None): K* finite everywhere; ("simplex", None): the probability simplex.
_DOM = {
    "l1": ("ball", lambda y, c: np.max(np.abs(y), axis=-1)),
    "relativistic": ("ball", lambda y, c: np.max(np.abs(y), axis=-1)),
    "logcosh": ("ball", lambda y, c: np.max(np.abs(y), axis=-1)),
    "deadzone": ("ball", lambda y, c: np.max(np.abs(y), axis=-1)),
    "huber": ("ball", lambda y, c: np.max(np.abs(y), axis=-1) / c.params.get("delta", 1.0)),
    "l2": ("ball", lambda y, c: np.sqrt(np.sum(y * y, axis=-1))),
    "lp": ("ball", lambda y, c: _lq_norm(y, c.params.get("p", 1.5))),
    "linf": ("ball", lambda y, c: np.sum(np.abs(y), axis=-1)),
    "nuclear": ("ball", lambda y, c: np.linalg.norm(y, ord=2, axis=(-2, -1))),
    "sq_l2": ("all", None),
    "power_p": ("all", None),
    "l1_plus_sq": ("all", None),
    "logsumexp": ("simplex", None),
}
# K* is a barrier: ∇K* is infinite on the boundary of dom K* (use interior points there).
_BARRIER = {"relativistic", "logcosh", "logsumexp"}


def _lq_norm(y, p):
    q = p / (p - 1)
    return np.sum(np.abs(y) ** q, axis=-1) ** (1 / q)


def _kind(case):
    return _DOM[case.name][0]


def _gauge(case, y):
    return _DOM[case.name][1](y, case)


def _bshape(case, n):
    return (n,) + (1,) * len(case.shape)


def sample_x(case, rng, n=24):
    """Random points of three scales plus special ones (0, zeros, |x| ties, points on kinks)."""
    x = rng.standard_normal((n,) + case.shape) * rng.choice([0.3, 1.0, 3.0], size=_bshape(case, n))
    special_pts = [np.zeros(case.shape), np.ones(case.shape)]
    alt = np.ones(case.shape)
    alt.flat[::2] = -1.0  # |x_i| all tied (linf), alternating signs
    special_pts.append(alt)
    for c in (case.params.get("e"), case.params.get("delta")):
        if c:
            special_pts.append(c * alt)  # exactly on the kink of deadzone / huber
    if len(case.shape) == 1 and case.shape[0] > 1:
        z = rng.standard_normal(case.shape)
        z[0] = 0.0  # a zero coordinate (kink of l1-type K)
        special_pts.append(z)
    if len(case.shape) == 2:
        special_pts.append(
            np.outer(rng.standard_normal(case.shape[0]), rng.standard_normal(case.shape[1]))
        )
    return np.concatenate([x, np.stack(special_pts)])


def sample_dom(case, rng, n=16, where="interior", s_max=0.9):
    """Points of dom K*: 'interior' (gauge ≤ s_max), 'boundary' (gauge = 1) or 'outside'."""
    kind = _kind(case)
    if kind == "all":
        if where == "outside":
            raise ValueError("dom K* is the whole space")
        return 2.0 * rng.standard_normal((n,) + case.shape)
    if kind == "simplex":
        d = case.shape[-1]
        if where == "outside":
            y = 2.0 * rng.standard_normal((n, d))
            return y[np.abs(y.sum(-1) - 1) > 0.1] if d > 1 else y[np.abs(y[:, 0] - 1) > 0.1]
        p = rng.dirichlet(np.ones(d), size=n)
        if where == "boundary":
            if d > 1:
                p[np.arange(n), rng.integers(0, d, n)] = 0.0
            return p / p.sum(-1, keepdims=True)
        c = np.full(d, 1.0 / d)
        return c + rng.uniform(0, s_max, (n, 1)) * (p - c)
    z = rng.standard_normal((n,) + case.shape)
    unit = z / _gauge(case, z).reshape(_bshape(case, n))
    if where == "boundary":
        return unit
    if where == "outside":
        return unit * rng.uniform(1.2, 3.0, _bshape(case, n))
    return unit * rng.uniform(0, s_max, _bshape(case, n))


def dot(a, b, case):
    axes = tuple(range(-len(case.shape), 0))
    return np.sum(a * b, axis=axes)


def away_from_kinks(case, x, margin=0.05):
    """Mask of points whose distance to every kink of ∇K exceeds ``margin``."""
    axes = tuple(range(1, x.ndim))
    name, a = case.name, np.abs(x)
    ok = np.ones(len(x), bool)
    if len(case.shape) == 1:
        ok &= np.min(a, axis=-1) > margin  # kinks of l1, l1_plus_sq, deadzone; 0 of lp/power_p
        for c in (case.params.get("e"), case.params.get("delta")):
            if c is not None:
                ok &= np.min(np.abs(a - c), axis=-1) > margin
        if name == "linf" and case.shape[0] > 1:
            top2 = np.sort(a, axis=-1)[:, -2:]
            ok &= top2[:, 1] - top2[:, 0] > margin
    else:
        ok &= np.linalg.svd(x, compute_uv=False)[:, -1] > margin
    ok &= np.max(a, axis=axes) < 10
    return ok


@pytest.fixture
def rng(request):
    """A generator seeded by the test id, so every case has its own fixed points."""
    return np.random.default_rng(zlib.crc32(request.node.name.encode()))


# --------------------------------------------------------------------------------------------
# 1. Fenchel–Young
# --------------------------------------------------------------------------------------------
def test_fenchel_young(catalog_K, rng):
    """K(x) + K*(y) ≥ xᵀy on dom K*, with equality at y = ∇K(x) ∈ dom K*."""
    case, K = catalog_K, catalog_K.K
    x = sample_x(case, rng)
    wheres = ("interior", "boundary") if _kind(case) != "all" else ("interior",)
    for where in wheres:
        y = sample_dom(case, rng, len(x), where)
        gap = K.K(x) + K.conj(y) - dot(x, y, case)
        scale = np.abs(K.K(x)) + np.abs(K.conj(y)) + np.abs(dot(x, y, case))
        assert np.all(np.isfinite(gap)), where
        assert np.all(gap >= -RTOL * (1 + scale)), (where, gap.min())
    g = np.asarray(K.grad(x))
    assert np.all(np.asarray(K.dist_dom_conj(g)) <= DOMAIN_TOL)
    assert np.all(K.in_dom_conj(g))
    gap = K.K(x) + K.conj(g) - dot(x, g, case)
    scale = np.abs(K.K(x)) + np.abs(K.conj(g)) + np.abs(dot(x, g, case))
    np.testing.assert_array_less(np.abs(gap), RTOL * (1 + scale))


# --------------------------------------------------------------------------------------------
# 2. Lemma 2.1
# --------------------------------------------------------------------------------------------
def test_lemma21_monotone_gradient(catalog_K, rng):
    """(∇K(x) − ∇K(y))ᵀ(x − y) ≥ 0 for all pairs (∇K monotone), incl. kinks and ties."""
    case, K = catalog_K, catalog_K.K
    x = sample_x(case, rng)
    y = x[rng.permutation(len(x))]
    val = dot(np.asarray(K.grad(x)) - np.asarray(K.grad(y)), x - y, case)
    scale = dot(np.abs(K.grad(x)) + np.abs(K.grad(y)), np.abs(x) + np.abs(y), case)
    assert np.all(val >= -RTOL * (1 + scale)), val.min()


def test_lemma21_mixed_inequality(catalog_K, rng):
    """(∇K(x) − y)ᵀ(x − ∇K*(y)) ≥ 0 for y ∈ dom K* (interior for barrier K*, where ∇K* is
    finite)."""
    case, K = catalog_K, catalog_K.K
    x = sample_x(case, rng)
    wheres = ["interior"]
    if _kind(case) != "all" and case.name not in _BARRIER:
        wheres.append("boundary")
    for where in wheres:
        y = sample_dom(case, rng, len(x), where)
        gy = np.asarray(K.conj_grad(y))
        assert np.all(np.isfinite(gy)), where
        val = dot(np.asarray(K.grad(x)) - y, x - gy, case)
        scale = dot(np.abs(K.grad(x)) + np.abs(y), np.abs(x) + np.abs(gy), case)
        assert np.all(val >= -RTOL * (1 + scale)), (where, val.min())


# --------------------------------------------------------------------------------------------
# 3. K* against a brute-force supremum
# --------------------------------------------------------------------------------------------
def _scalar_sup(K, y, bound):
    """sup_{|z| ≤ bound} (y z − k(z)) for a separable K and every entry of ``y`` at once.

    Golden-section search (the objective is concave in z), 160 steps: the bracket shrinks by
    0.618^160 ≈ 1e-33 relative, i.e. to a few ulps of z, so the value is exact up to rounding even
    when the maximiser is a kink of k (deadzone). Returns (values, maximisers), shaped like y.
    """
    y = np.asarray(y, dtype=float)

    def f(z):
        return y * z - np.asarray(K.K(z[..., None]))

    a, b = np.full(y.shape, -bound), np.full(y.shape, bound)
    r = (np.sqrt(5) - 1) / 2
    c, d = b - r * (b - a), a + r * (b - a)
    fc, fd = f(c), f(d)
    for _ in range(160):
        left = fc >= fd  # maximiser in [a, d]
        a, b = np.where(left, a, c), np.where(left, d, b)
        c_new, d_new = b - r * (b - a), a + r * (b - a)
        c, d = np.where(left, c_new, d), np.where(left, c, d_new)
        fc, fd = np.where(left, f(c), fd), np.where(left, fc, f(d))
    z = 0.5 * (a + b)
    return f(z), z


def _sup_ball(K, y, shape, R, rng, starts=3):
    """sup_{‖z‖₂ ≤ R} (yᵀz − K(z)) (R = inf: unconstrained), by BFGS / SLSQP from several starts."""

    def negobj(zf):
        z = zf.reshape(shape)
        return float(K.K(z)) - float(np.sum(y * z))

    def jac(zf):
        return (np.asarray(K.grad(zf.reshape(shape)), dtype=float) - y).ravel()

    rand = [rng.standard_normal(y.size) for _ in range(starts - 1)]
    if np.isinf(R):
        x0s = [np.zeros(y.size)] + rand
    else:  # start inside the ball: along y, and along random directions
        x0s = [0.999 * R * d / np.linalg.norm(d) for d in [y.ravel()] + rand]
    cons = {"type": "ineq", "fun": lambda zf: R * R - zf @ zf, "jac": lambda zf: -2 * zf}
    best = -np.inf
    for x0 in x0s:
        if np.isinf(R):
            res = optimize.minimize(negobj, x0, jac=jac, method="BFGS", options={"gtol": 1e-11})
        else:
            res = optimize.minimize(
                negobj,
                x0,
                jac=jac,
                method="SLSQP",
                constraints=[cons],
                options={"ftol": 1e-14, "maxiter": 500},
            )
            if res.x @ res.x > R * R * (1 + 1e-9):  # infeasible answer: not a valid lower bound
                continue
        best = max(best, -negobj(res.x))
    return best


def test_conj_matches_bruteforce_sup(catalog_K, rng):
    """K*(y) = sup_z (yᵀz − K(z)) at random y inside dom K*.

    Separable K: K* = Σ k*(y_i), each a 1-D concave maximisation over [−50, 50] by golden
    section (the maximiser ∇k*(y_i) lies well inside: |y| ≤ 0.9 on bounded domains, |y| ≲ 8 on R);
    the value is exact up to rounding of y z − k(z): tolerance 1e-12·(1 + Σ|y_i z_i| + |K*|).
    Other K: BFGS from 3 starts (0 and two random) with gtol 1e-11; for the norms K* = 0 on the
    ball, for logsumexp the objective is strongly concave transversally to 1: tolerance 1e-9.
    """
    case, K = catalog_K, catalog_K.K
    y = sample_dom(case, rng, 4 if not K.separable else 16, "interior")
    conj = np.asarray(K.conj(y))
    assert np.all(np.isfinite(conj))
    if K.separable:
        vals, z = _scalar_sup(K, y, 50.0)
        assert np.all(np.abs(z) < 49), "maximiser at the bracket edge"
        brute = vals.sum(-1)
        tol = 1e-12 * (1 + np.sum(np.abs(y * z), -1) + np.abs(conj))
    else:
        brute = np.array([_sup_ball(K, yi, case.shape, np.inf, rng) for yi in y])
        tol = 1e-9 * (1 + np.abs(conj))
    assert np.all(brute <= conj + tol)  # Fenchel–Young: no z beats K*
    assert np.all(brute >= conj - tol), brute - conj  # and the optimiser reaches it


def test_conj_infinite_outside_domain(catalog_K, rng):
    """Outside dom K*: conj = +inf, and sup over a ball of radius R grows linearly in R.

    With P the projection onto C = dom K*, yᵀz − K(z) ≤ K*(Py) + (y − Py)ᵀz, so the sup over a
    ball grows at most like R·dist(y, C) (dist in the dual norm of the ball's norm); along the
    normal direction the rate is attained. We check the measured rate
    (S(R2) − S(R1))/(R2 − R1) against dist within 1% (the O(1/R) curvature terms of
    relativistic/logsumexp at R1 = 10 are below 1e-3 of the rate), and that it is > 0: K* is +inf.
    Separable K use the box ‖z‖_∞ ≤ R (rate = ‖y − clip(y)‖₁), others the Euclidean ball.
    """
    case, K = catalog_K, catalog_K.K
    if _kind(case) == "all":
        y = 1e3 * rng.standard_normal((8,) + case.shape)  # far out: still finite, dist 0
        assert np.all(np.isfinite(K.conj(y)))
        assert np.all(np.asarray(K.dist_dom_conj(y)) == 0)
        return
    y = sample_dom(case, rng, 3, "outside")
    conj = np.asarray(K.conj(y))
    assert np.all(np.isposinf(conj))
    R1, R2 = 10.0, 100.0
    if K.separable:
        # box of radius R; the independent dom description gives the l1 distance to the box
        r = case.params.get("delta", 1.0) if case.name == "huber" else 1.0
        dist = np.sum(np.maximum(np.abs(y) - r, 0), -1)
        S1 = _scalar_sup(K, y, R1)[0].sum(-1)
        S2 = _scalar_sup(K, y, R2)[0].sum(-1)
    else:
        dist = np.asarray(K.dist_dom_conj(y))
        S1 = np.array([_sup_ball(K, yi, case.shape, R1, rng, starts=4) for yi in y])
        S2 = np.array([_sup_ball(K, yi, case.shape, R2, rng, starts=4) for yi in y])
    rate = (S2 - S1) / (R2 - R1)
    assert np.all(dist > 0.05)
    np.testing.assert_allclose(rate, dist, rtol=1e-2)


# --------------------------------------------------------------------------------------------
# 4. ∇K* is a subgradient of K*
# --------------------------------------------------------------------------------------------
def test_conj_grad_is_subgradient(catalog_K, rng):
    """∇K*(y) ∈ ∂K*(y) for y ∈ dom K* (interior for barrier K*, where ∇K* is finite):
    K*(y') ≥ K*(y) + ∇K*(y)ᵀ(y' − y) for y' in dom K*, far and near, and the Fenchel–Young
    equality K(∇K*(y)) + K*(y) = yᵀ∇K*(y) (⟺ y ∈ ∂K(∇K*(y)) ⟺ ∇K*(y) ∈ ∂K*(y))."""
    case, K = catalog_K, catalog_K.K
    kind = _kind(case)
    y = sample_dom(case, rng, 32, "interior")
    if case.name not in _BARRIER and kind != "all":
        y = np.concatenate([y, sample_dom(case, rng, 16, "boundary")])
    gy = np.asarray(K.conj_grad(y))
    assert np.all(np.isfinite(gy))
    # first order: sensitive to any error of ∇K*, unlike the inequality with y' far from y
    gap = np.asarray(K.K(gy)) + np.asarray(K.conj(y)) - dot(y, gy, case)
    scale = np.abs(K.K(gy)) + np.abs(K.conj(y)) + dot(np.abs(y), np.abs(gy), case)
    np.testing.assert_array_less(np.abs(gap), RTOL * (1 + scale))

    step = 1e-3 * rng.standard_normal(y.shape)  # y' = y + step: the linear term dominates
    if kind == "simplex":
        step -= step.mean(-1, keepdims=True)  # stay in the affine hull of the simplex
    near = y + step
    ok = np.asarray(K.in_dom_conj(near))
    assert ok.sum() >= 8
    pairs = [(y, gy, sample_dom(case, rng, len(y), "interior")), (y[ok], gy[ok], near[ok])]
    if kind != "all":
        pairs.append((y, gy, sample_dom(case, rng, len(y), "boundary")))
    for y1, g1, y2 in pairs:
        c1, c2 = np.asarray(K.conj(y1)), np.asarray(K.conj(y2))
        lin = c1 + dot(g1, y2 - y1, case)
        scale = np.abs(c1) + np.abs(c2) + dot(np.abs(g1), np.abs(y2) + np.abs(y1), case)
        assert np.all(c2 >= lin - RTOL * (1 + scale)), (c2 - lin).min()


# --------------------------------------------------------------------------------------------
# 5. ∇K against finite differences
# --------------------------------------------------------------------------------------------
def test_grad_matches_finite_differences(catalog_K, rng):
    """∇K = central differences (h = 1e-6) at points ≥ 0.05 away from every kink.

    Error: truncation h²/6·|K'''| (|K'''| ≤ ~25 at |x_i| ≥ 0.05 for p = 1.5) plus rounding
    ~eps·|K|/h = 2.2e-10·|K|; the bound 1e-8·(1 + |K|) covers both (measured ≤ 4e-10·(1 + |K|)).
    """
    case, K = catalog_K, catalog_K.K
    x = sample_x(case, rng, 48)
    x = x[away_from_kinks(case, x)]
    assert len(x) >= 8
    h, n = 1e-6, int(np.prod(case.shape))
    eye = np.eye(n).reshape((n,) + case.shape)
    xp_, xm_ = x[:, None] + h * eye, x[:, None] - h * eye
    fd = ((K.K(xp_) - K.K(xm_)) / (2 * h)).reshape(x.shape)
    tol = 1e-8 * (1 + np.abs(K.K(x))).reshape(_bshape(case, len(x)))
    assert np.all(np.abs(fd - np.asarray(K.grad(x))) <= tol)


def test_homogeneous_K_scale_invariance(catalog_K, rng):
    """Norm-type K: K(cx) = cK(x) and ∇K(cx) = ∇K(x) even at c = 1e±150 (no under/overflow:
    ∇K(x) ≠ 0 must stay on the dual unit sphere for every x ≠ 0)."""
    case, K = catalog_K, catalog_K.K
    x = sample_x(case, rng, 16)[:16]
    measured = all(
        np.allclose(K.K(c * x), c * np.asarray(K.K(x)), rtol=1e-12, atol=0) for c in (0.5, 2.0)
    )
    # the metadata flag is right (in dimension 1 logsumexp is x ↦ x: homogeneous by accident)
    if case.shape != (1,):
        assert K.homogeneous == measured and K.info()["homogeneous"] == measured
    if not K.homogeneous:
        return
    for c in (1e-150, 1e150):
        np.testing.assert_allclose(K.K(c * x) / c, K.K(x), rtol=1e-13)
        np.testing.assert_allclose(K.grad(c * x), K.grad(x), rtol=0, atol=1e-13)


# --------------------------------------------------------------------------------------------
# 6. Projection onto dom K* and the distance
# --------------------------------------------------------------------------------------------
def test_project_dom_conj(catalog_K, rng):
    """P is idempotent, lands in dom K*, beats feasible points, and (y − Py)ᵀ(z − Py) ≤ 0.

    The lq projection is a nested bisection accurate to ~1e-13; other projections are closed
    forms. Tolerance 1e-11·scale on the variational inequality and idempotence.
    """
    case, K = catalog_K, catalog_K.K
    kind = _kind(case)
    y = 3 * rng.standard_normal((24,) + case.shape)
    if kind != "all":
        y = np.concatenate(
            [y, sample_dom(case, rng, 8, "outside"), sample_dom(case, rng, 8, "interior")]
        )
    py = np.asarray(K.project_dom_conj(y))
    np.testing.assert_allclose(K.project_dom_conj(py), py, rtol=0, atol=1e-11)
    assert np.all(np.asarray(K.dist_dom_conj(py)) <= DOMAIN_TOL)
    if kind == "ball":
        assert np.all(_gauge(case, py) <= 1 + 1e-12)
    elif kind == "simplex":
        assert np.all(py >= 0) and np.allclose(py.sum(-1), 1, atol=1e-12)
    else:
        np.testing.assert_array_equal(py, y)
        return
    for where in ("interior", "boundary"):
        z = sample_dom(case, rng, len(y), where)
        d_py = np.sqrt(dot(y - py, y - py, case))
        d_z = np.sqrt(dot(y - z, y - z, case))
        assert np.all(d_py <= d_z + 1e-12 * (1 + d_z))
        vi = dot(y - py, z - py, case)
        scale = np.sqrt(dot(y - py, y - py, case) * dot(z - py, z - py, case))
        assert np.all(vi <= 1e-11 * (1 + scale)), vi.max()


def test_dist_dom_conj(catalog_K, rng):
    """dist_dom_conj(y) = ‖y − Py‖, and 0 at feasible points (interior and boundary)."""
    case, K = catalog_K, catalog_K.K
    y = 3 * rng.standard_normal((24,) + case.shape)
    diff = y - np.asarray(K.project_dom_conj(y))
    np.testing.assert_allclose(
        K.dist_dom_conj(y), np.sqrt(dot(diff, diff, case)), rtol=1e-14, atol=0
    )
    wheres = ("interior",) if _kind(case) == "all" else ("interior", "boundary")
    for where in wheres:
        assert np.all(np.asarray(K.dist_dom_conj(sample_dom(case, rng, 16, where))) <= 1e-12)


def test_membership_is_one_notion(catalog_K, rng):
    """conj(y) < inf ⟺ in_dom_conj(y) ⟺ dist_dom_conj(y) ≤ DOMAIN_TOL, also within 1e-9 of the
    boundary.

    Points are placed at distance δ ∈ {0.5, 2}·DOMAIN_TOL along the outward normal of a boundary
    point (y = Pz + δ(z − Pz)/‖z − Pz‖, whose projection is Pz): the membership test must say
    "inside" exactly when δ ≤ DOMAIN_TOL, and conj must agree with it.
    """
    case, K = catalog_K, catalog_K.K
    if _kind(case) == "all":
        y = 10 * rng.standard_normal((16,) + case.shape)
        assert np.all(K.in_dom_conj(y)) and np.all(np.isfinite(K.conj(y)))
        return
    z = sample_dom(case, rng, 16, "outside")
    pz = np.asarray(K.project_dom_conj(z))
    nrm = (z - pz) / np.sqrt(dot(z - pz, z - pz, case)).reshape(_bshape(case, len(z)))
    for frac, inside in ((0.5, True), (2.0, False)):
        y = pz + frac * DOMAIN_TOL * nrm
        np.testing.assert_allclose(K.dist_dom_conj(y), frac * DOMAIN_TOL, rtol=1e-3)
        assert np.all(np.asarray(K.in_dom_conj(y)) == inside), frac
        assert np.all(np.isfinite(K.conj(y)) == inside), frac


# --------------------------------------------------------------------------------------------
# 7. prox
# --------------------------------------------------------------------------------------------
def _prox_obj(K, u, v, t, case):
    """K(u) + ‖u − v‖²/(2t) per point (t: a scalar or one value per point)."""
    return np.asarray(K.K(u)) + dot(u - v, u - v, case) / (2 * np.reshape(t, -1))


@pytest.mark.parametrize("p", [1.05, 1.2, 1.5, 1.9, 2.0, 3.0, 5.0])
def test_power_p_prox_solves_its_equation_to_rounding(p):
    """u = prox_{tK}(v) for K = Σ|x|^p/p solves u + t·sign(u)|u|^{p−1} = v to a few ulps of v, over
    twelve decades of v and t: measured ≤ 6.5e-16·|v|, asserted ≤ 4ε·|v|. Where u = 0 for v ≠ 0,
    the root must be below the smallest double: u ≤ (|v|/t)^{1/(p−1)} (drop u from the equation).
    The generic bisection prox stopped at an absolute 4ε and missed tiny roots by factors ~20."""
    rng = np.random.default_rng(7)
    K = make_K("power_p", p=p)
    v = rng.standard_normal((2000, 3)) * 10.0 ** rng.uniform(-8, 8, (2000, 3))
    t = 10.0 ** rng.uniform(-6, 6, (2000, 1)) * np.ones((1, 3))
    u = K.prox(v, t)
    assert u.dtype == np.float64 and np.all(np.sign(u) * np.sign(v) >= 0)
    residual = np.abs(u + t * np.asarray(K.grad(u)) - v)
    zero = (u == 0) & (v != 0)
    assert np.all(residual[~zero] <= 4 * np.finfo(float).eps * np.abs(v[~zero]))
    with np.errstate(divide="ignore"):
        log_bound = (np.log(np.abs(v[zero])) - np.log(t[zero])) / (p - 1)
    assert np.all(log_bound < np.log(np.finfo(float).tiny))


@pytest.mark.parametrize("q", [1.5, 2.0, 3.0])
def test_power_root_closed_forms_agree_with_newton(q, monkeypatch):
    """The closed forms of s + c·s^{q−1} = a (q = 3/2, 2, 3: the default lp and power_p) against
    the Newton iteration, over 24 decades of a and c: both solve the equation to ≤ 1e-15·a
    (measured 6.6e-16) and agree to ≤ 2e-15 relative (measured 9.2e-16), and so does 1/φ'(s)."""
    from lyapunov_lion.core import catalog

    rng = np.random.default_rng(1)
    a = np.abs(rng.standard_normal(20000)) * 10.0 ** rng.uniform(-12, 12, 20000)
    c = 10.0 ** rng.uniform(-12, 12, 20000)
    s1, inv1 = catalog.power_root(a, c, q)
    monkeypatch.setattr(catalog, "_power_root_closed", lambda *args: None)
    s2, inv2 = catalog.power_root(a, c, q)
    for s in (s1, s2):
        assert np.all(np.abs(s + c * s ** (q - 1) - a) <= 1e-15 * a)
    np.testing.assert_allclose(s1, s2, rtol=2e-15, atol=0)
    np.testing.assert_allclose(inv1, inv2, rtol=2e-15, atol=0)
    zero = catalog.power_root(np.zeros(3), np.array([0.0, 1.0, 2.0]), q)
    assert np.array_equal(zero[0], np.zeros(3))


def _bisection_prox(K, v, t):
    """The reference: plain bisection on φ(u) = u + t·k'(u) − v to a 2ε-wide bracket."""
    g = np.asarray(K.grad(v))
    lo, hi = np.minimum(v, v - t * g), np.maximum(v, v - t * g)
    for _ in range(2000):
        mid = 0.5 * (lo + hi)
        up = mid + t * np.asarray(K.grad(mid)) - v > 0
        lo, hi = np.where(up, lo, mid), np.where(up, mid, hi)
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("name", ["relativistic", "logcosh"])
def test_generic_prox_matches_bisection_with_few_evaluations(name):
    """`SeparableK.prox` (`monotone_root`: Illinois, then bisection) agrees with plain bisection
    to 8ε·max(1, |u|) (measured ≤ 3.6e-15) and, on these smooth k, needs ≤ 40 evaluations of k'
    per 2-vector (measured median 6–7, max 24–40; bisection alone: median 45)."""
    K = make_K(name)
    rng = np.random.default_rng(0)
    v = rng.standard_normal((100, 2)) * 10.0 ** rng.uniform(-6, 4, (100, 2))
    t = 10.0 ** rng.uniform(-4, 4, (100, 1))
    u = K.prox(v, t)
    ref = _bisection_prox(K, v, t)
    assert np.all(np.abs(u - ref) <= 8 * np.finfo(float).eps * np.maximum(1.0, np.abs(ref)))
    calls = []
    dk = K.dk
    K.dk = lambda x, xp: (calls.append(1), dk(x, xp))[1]
    counts = []
    for i in range(100):
        calls.clear()
        K.prox(v[i], t[i])
        counts.append(len(calls))
    assert max(counts) <= 40 and np.median(counts) <= 12, (np.median(counts), max(counts))


def test_prox_optimality(catalog_K, rng):
    """u = prox_{tK}(v): s = (v − u)/t ∈ ∂K(u) (⟺ Fenchel–Young equality K(u) + K*(s) = sᵀu),
    and no random perturbation nor a numerical minimiser does better."""
    case, K = catalog_K, catalog_K.K
    n = 12
    v = 2 * rng.standard_normal((n,) + case.shape)
    t = rng.choice([0.3, 1.0, 3.0], size=_bshape(case, n))
    u = np.asarray(K.prox(v, t))
    s = (v - u) / t
    gap = K.K(u) + K.conj(s) - dot(s, u, case)
    scale = np.abs(K.K(u)) + np.abs(K.conj(s)) + np.abs(dot(s, u, case))
    # measured ≤ 9e-16·(1 + scale) over the catalog (the gap is quadratic in the error of u)
    assert np.all(np.abs(gap) <= RTOL * (1 + scale)), gap
    # First order where K is differentiable at u: ∇K(u) = s. (The gap above is ≥ 0 and 0 at the
    # prox, hence only quadratic in the error of u.) Solvers are exact to a few ulps of v/t:
    # measured ≤ 5e-15·(1 + |v/t|).
    smooth = away_from_kinks(case, u, margin=1e-6)
    res = np.abs(np.asarray(K.grad(u[smooth])) - s[smooth])
    assert np.all(res <= 1e-12 * (1 + np.abs(v / t)[smooth])), res.max()
    f_u = _prox_obj(K, u, v, t, case)
    for eps in (1e-4, 1e-1):
        w = u + eps * rng.standard_normal(u.shape)
        assert np.all(f_u <= _prox_obj(K, w, v, t, case) + 1e-13 * (1 + np.abs(f_u)))
    for i in range(3):  # a direct numerical minimiser (Nelder–Mead works at kinks too)
        ti = float(t.ravel()[i])
        res = optimize.minimize(
            lambda uf, vi=v[i], ti=ti: _prox_obj(K, uf.reshape(case.shape), vi, ti, case).item(),
            v[i].ravel(),
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 4000},
        )
        assert f_u[i] <= res.fun + 1e-12 * (1 + abs(res.fun))


def _prox_conj_independent(case, K, w, t):
    """prox_{K*/t}(w) = argmin_y K*(y)/t + ½‖y − w‖², computed without K.prox."""
    kind = _kind(case)
    if K.separable:
        lo, hi = -np.inf, np.inf
        if kind == "ball":
            r = case.params.get("delta", 1.0) if case.name == "huber" else 1.0
            lo, hi = -r, r
        out = np.empty_like(w)
        for idx in np.ndindex(w.shape):  # 1-D strongly convex problems, bounded Brent
            wi, ti = w[idx], float(t[idx[0]])
            a, b = max(lo, -abs(wi) - 1), min(hi, abs(wi) + 1)  # even K*, minimal at 0: |y*| ≤ |w|
            res = optimize.minimize_scalar(
                lambda yy, ti=ti, wi=wi: float(K.conj(np.array([yy]))) / ti + 0.5 * (yy - wi) ** 2,
                bounds=(a, b),
                method="bounded",
                options={"xatol": 1e-12},
            )
            out[idx] = res.x
        return out
    if case.name == "l2":
        return w / np.maximum(1, np.linalg.norm(w, axis=-1, keepdims=True))
    if case.name == "nuclear":  # polar decomposition W = Q H, then clip the spectrum of H
        out = np.empty_like(w)
        for i, wi in enumerate(w):
            q, hmat = _polar(wi)
            lam, vec = np.linalg.eigh(hmat)
            out[i] = q @ (vec * np.minimum(lam, 1.0)) @ vec.T
        return out
    if case.name == "linf":  # projection onto the l1 ball: soft threshold, level by bisection
        a = np.abs(w)
        lo, hi = np.zeros(len(w)), a.max(-1)
        for _ in range(200):
            th = 0.5 * (lo + hi)
            big = np.maximum(a - th[:, None], 0).sum(-1) > 1
            lo, hi = np.where(big, th, lo), np.where(big, hi, th)
        th = np.where(a.sum(-1) <= 1, 0.0, hi)
        return np.sign(w) * np.maximum(a - th[:, None], 0)
    if case.name == "lp":  # projection onto the lq ball by SLSQP
        q = 1 / (1 - 1 / case.params.get("p", 1.5))
        out = np.empty_like(w)
        for i, wi in enumerate(w):
            if np.sum(np.abs(wi) ** q) <= 1:
                out[i] = wi
                continue
            cons = {"type": "ineq", "fun": lambda yy: 1 - np.sum(np.abs(yy) ** q)}
            res = optimize.minimize(
                lambda yy, wi=wi: 0.5 * np.sum((yy - wi) ** 2),
                wi / np.sum(np.abs(wi) ** q) ** (1 / q),
                method="SLSQP",
                constraints=[cons],
                options={"ftol": 1e-15, "maxiter": 500},
            )
            out[i] = res.x
        return out
    if case.name == "logsumexp":
        # KKT: (1 + log y_i)/t + y_i − w_i + μ = 0  ⇒  y_i = ω(log t + t(w_i − μ) − 1)/t (Wright ω),
        # with μ chosen by bisection so that Σ y_i = 1 (Σ y is decreasing in μ).
        tt = t.reshape(-1, 1)

        def y_of(mu):
            return special.wrightomega(np.log(tt) + tt * (w - mu) - 1).real / tt

        lo, hi = w.min(-1, keepdims=True) - 50, w.max(-1, keepdims=True) + 50
        for _ in range(200):
            mu = 0.5 * (lo + hi)
            big = y_of(mu).sum(-1, keepdims=True) > 1
            lo, hi = np.where(big, mu, lo), np.where(big, hi, mu)
        return y_of(0.5 * (lo + hi))
    raise KeyError(f"no independent prox of K* for {case.name}")


def _polar(a):
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    return u @ vh, (vh.T * s) @ vh


def test_moreau_decomposition(catalog_K, rng):
    """v = prox_{tK}(v) + t·prox_{K*/t}(v/t), the second term computed independently.

    The 1-D Brent solutions are accurate to ~sqrt(eps·|f|) ≈ 1e-8 (the objective is flat to
    second order at its minimum), hence the tolerance 1e-7·(1 + t·|w|) for separable K; the
    closed forms / 200-step bisections / SLSQP(ftol 1e-15) are accurate to ~1e-9.
    """
    case, K = catalog_K, catalog_K.K
    n = 4 if K.separable or case.name == "lp" else 12
    v = 2 * rng.standard_normal((n,) + case.shape)
    t = rng.choice([0.3, 1.0, 3.0], size=n)
    tb = t.reshape(_bshape(case, n))
    u = np.asarray(K.prox(v, tb))
    y = _prox_conj_independent(case, K, v / tb, t)
    np.testing.assert_allclose(u + tb * y, v, rtol=0, atol=1e-7 * (1 + np.max(np.abs(v))))


# --------------------------------------------------------------------------------------------
# 8. Backends and dtypes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_array_api_strict_and_dtypes(catalog_K, rng, dtype):
    """K.K and K.grad on array_api_strict arrays return array_api_strict arrays of the input
    dtype, equal to the numpy result (array_api_strict wraps numpy: same kernels, so bitwise);
    float32 agrees with float64 to float32 rounding (a few eps32 = 1.2e-7 relative)."""
    case, K = catalog_K, catalog_K.K
    x = sample_x(case, rng, 32)
    x = x[away_from_kinks(case, x, margin=1e-3)].astype(dtype)
    xa = xps.asarray(x)
    for fn in (K.K, K.grad):
        out_np, out_xa = fn(x), fn(xa)
        assert type(out_xa).__module__.startswith("array_api_strict")
        assert out_xa.dtype == getattr(xps, dtype)
        assert out_np.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(np.asarray(out_xa), out_np)
        if dtype == "float32":
            ref = np.asarray(fn(x.astype(np.float64)))
            np.testing.assert_allclose(out_np, ref, rtol=2e-5, atol=2e-5 * np.max(np.abs(ref)))


# --------------------------------------------------------------------------------------------
# 9. Registry: user K, errors
# --------------------------------------------------------------------------------------------
def test_user_defined_K(monkeypatch, rng):
    """A new separable K (k(x) = x⁴/4, k*(y) = ¾|y|^{4/3}) registers and gets the whole
    interface."""
    monkeypatch.setattr(kfunc, "_REGISTRY", dict(kfunc._REGISTRY))  # restored after the test

    @register_K
    class Quartic(SeparableK):
        name = "quartic_user"
        formula, conj_formula = "Σ x_i⁴/4", "Σ ¾|y_i|^(4/3)"
        induced, induced_latex = (
            "+ (3/4)λ^(1/3) Σ|x_i|^(4/3)",
            r"+\tfrac34\lambda^{1/3}\sum|x_i|^{4/3}",
        )
        induced_kind = "regularizer"
        differentiable = True

        def k(self, x, xp):
            return x**4 / 4

        def dk(self, x, xp):
            return x**3

        def kconj(self, y):
            return 0.75 * np.abs(y) ** (4 / 3)

        def dkconj(self, y):
            return np.sign(y) * np.abs(y) ** (1 / 3)

    assert "quartic_user" in available_K()
    K = make_K("quartic_user")
    assert isinstance(K, Quartic)
    x = rng.standard_normal((10, 3))
    g = np.asarray(K.grad(x))
    np.testing.assert_allclose(g, x**3, rtol=1e-15)
    np.testing.assert_allclose(K.K(x) + K.conj(g), np.sum(x * g, -1), rtol=1e-12)  # Fenchel–Young
    u = K.prox(x, 0.5)
    np.testing.assert_allclose(u + 0.5 * u**3, x, rtol=0, atol=1e-13)  # prox optimality
    assert K.info()["K"] == "Σ x_i⁴/4"
    assert np.all(np.asarray(K.dist_dom_conj(1e3 * x)) == 0)
    out = K.grad(xps.asarray(x))
    assert type(out).__module__.startswith("array_api_strict")


def test_unknown_name_lists_valid_ones():
    with pytest.raises(LionKError) as exc:
        make_K("lion_l3")
    msg = str(exc.value)
    assert "\n" not in msg and "lion_l3" in msg
    for name in available_K():
        assert name in msg


def test_make_K_passes_instances_through():
    K = make_K("huber", delta=0.5)
    assert make_K(K) is K
    with pytest.raises(LionKError, match="already built"):
        make_K(K, delta=2.0)  # silently ignoring the parameter would be wrong


@pytest.mark.parametrize(
    "name, params, needle",
    [
        ("lp", {"p": 0.5}, "p"),
        ("lp", {"p": 1.0}, "p"),
        ("lp", {"p": float("inf")}, "p"),
        ("lp", {"p": "abc"}, "p"),
        ("huber", {"delta": -1}, "delta"),
        ("huber", {"delta": float("nan")}, "delta"),
        ("huber", {"eps": 1.0}, "eps"),
        ("deadzone", {"e": -0.1}, "e"),
        ("power_p", {"p": 1.0}, "p"),
        ("l1", {"p": 2}, "p"),
    ],
)
def test_bad_parameters(name, params, needle):
    """Bad parameters raise LionKError with a one-line message naming K and the parameter."""
    with pytest.raises(LionKError) as exc:
        make_K(name, **params)
    msg = str(exc.value)
    assert "\n" not in msg and f"K={name}" in msg and needle in msg


# --------------------------------------------------------------------------------------------
# 10. Metadata
# --------------------------------------------------------------------------------------------
def test_info_metadata(catalog_K):
    K = catalog_K.K
    info = K.info()
    for key in ("K", "K_conj", "induced", "induced_latex"):
        assert isinstance(info[key], str) and info[key].strip(), key
    json.dumps(info)
    for lam in (0.5, 1.5):
        text = K.describe_induced(lam)
        assert text and "{" not in text and "}" not in text, text
    assert info["name"] == catalog_K.name and info["params"] == {
        **info["params"],
        **catalog_K.params,
    }


def test_describe_induced_numbers():
    assert make_K("l1").describe_induced(1.5) == "‖x‖_∞ ≤ 2/3"
    assert make_K("linf").describe_induced(1.5) == "‖x‖₁ ≤ 2/3"
    assert make_K("l2").describe_induced(0.5) == "‖x‖₂ ≤ 2"
    assert "no weight decay" in make_K("l1").describe_induced(0.0)
