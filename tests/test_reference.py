"""Reference optimum of F = f + (1/λ)K*(λx): Moreau prox identity, closed forms, independent
constrained solves with scipy on explicit formulas of F, the stationarity score, and Lion itself."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize

from lyapunov_lion.core.discrete import LionKConfig, run_discrete
from lyapunov_lion.core.kfunc import make_K
from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.core.reference import (
    ReferenceSolution,
    constrained_optimum,
    induced_term,
    prox_induced,
    stationarity_score,
)
from lyapunov_lion.errors import LionKError

A_ANISO = np.array([[3.0, 1.0], [1.0, 2.0]])
C_ANISO = np.array([1.5, -1.0])


def aniso():
    return make_objective("quadratic", A=A_ANISO, c=C_ANISO)


# ---------------------------------------------------------------------------------------------
# Explicit induced terms h(x) = (1/λ)K*(λx), written here from spec §6 independently of the
# catalog: (smooth part h_s, bounds on x or None, extra constraints for SLSQP, split |x| flag).
# ---------------------------------------------------------------------------------------------
def explicit_problem(name, params, lam):
    r = 1.0 / lam
    box = (-r, r)
    if name == "l1":
        return dict(h=lambda x: 0.0, bounds=box)
    if name == "l2":
        return dict(h=lambda x: 0.0, cons=[{"type": "ineq", "fun": lambda x: r * r - x @ x}])
    if name == "lp":
        q = params["p"] / (params["p"] - 1)
        return dict(
            h=lambda x: 0.0, cons=[{"type": "ineq", "fun": lambda x: r**q - np.sum(np.abs(x) ** q)}]
        )
    if name == "linf":
        return dict(h=lambda x: 0.0, l1_ball=r)
    if name == "sq_l2":
        return dict(h=lambda x: lam / 2 * x @ x)
    if name == "power_p":
        q = params["p"] / (params["p"] - 1)
        return dict(h=lambda x: lam ** (q - 1) / q * np.sum(np.abs(x) ** q))
    if name == "huber":
        d = params["delta"]
        return dict(h=lambda x: lam / 2 * x @ x, bounds=(-d / lam, d / lam))
    if name == "relativistic":
        return dict(
            h=lambda x: -r * np.sum(np.sqrt(np.maximum(1 - (lam * x) ** 2, 0.0))), bounds=box
        )
    if name == "logcosh":

        def h(x):
            u = np.clip(lam * x, -1.0, 1.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = np.where(u > -1, (1 + u) * np.log1p(u), 0.0) + np.where(
                    u < 1, (1 - u) * np.log1p(-u), 0.0
                )
            return r * 0.5 * np.sum(t)

        return dict(h=h, bounds=box)
    if name == "logsumexp":

        def h(x):
            xc = np.maximum(x, 1e-300)
            return float(np.sum(np.where(x > 0, xc * np.log(lam * xc), 0.0)))

        return dict(h=h, bounds=(0.0, r), cons=[{"type": "eq", "fun": lambda x: np.sum(x) - r}])
    if name == "deadzone":
        return dict(h=lambda x: 0.0, bounds=box, l1_weight=params["e"])
    if name == "l1_plus_sq":
        return dict(h=lambda x: lam / 2 * np.sum(np.maximum(np.abs(x) - r, 0.0) ** 2))
    raise KeyError(name)


def independent_solve(obj, name, params, lam, x0):
    """Minimise f + h with scipy on the explicit formula (SLSQP; |x| terms by x = p − n)."""
    prob = explicit_problem(name, params, lam)
    d = obj.dim
    if "l1_ball" in prob or "l1_weight" in prob:
        # x = p − n with p, n ≥ 0 makes ‖x‖₁ = Σ(p + n) at the optimum: smooth problem
        w = prob.get("l1_weight", 0.0)
        lo, hi = prob.get("bounds", (-np.inf, np.inf))
        fun = lambda z: float(obj.f(z[:d] - z[d:])) + w * np.sum(z)  # noqa: E731
        jac = lambda z: np.concatenate([obj.grad(z[:d] - z[d:]), -obj.grad(z[:d] - z[d:])]) + w  # noqa: E731
        cons = []
        if "l1_ball" in prob:
            cons = [{"type": "ineq", "fun": lambda z, r=prob["l1_ball"]: r - np.sum(z)}]
        z0 = np.concatenate([np.maximum(x0, 0), np.maximum(-x0, 0)])
        res = optimize.minimize(
            fun,
            z0,
            jac=jac,
            method="SLSQP",
            bounds=[(0, hi)] * (2 * d) if np.isfinite(hi) else [(0, None)] * (2 * d),
            constraints=cons,
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        return res.x[:d] - res.x[d:], res
    bounds = [prob["bounds"]] * d if "bounds" in prob else None
    fun = lambda x: float(obj.f(x)) + prob["h"](x)  # noqa: E731
    res = optimize.minimize(
        fun,
        x0,
        method="SLSQP",
        bounds=bounds,
        constraints=prob.get("cons", []),
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    return res.x, res


K_CASES = [
    ("l1", {}),
    ("l2", {}),
    ("linf", {}),
    ("lp", {"p": 1.5}),
    ("sq_l2", {}),
    ("power_p", {"p": 1.5}),
    ("huber", {"delta": 0.5}),
    ("relativistic", {}),
    ("logcosh", {}),
    ("logsumexp", {}),
    ("deadzone", {"e": 0.1}),
    ("l1_plus_sq", {}),
]
IDS = [n for n, _ in K_CASES]


# ---------------------------------------------------------------------------------------------
# the Moreau identity for prox_{th}
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, params", K_CASES, ids=IDS)
def test_prox_of_induced_term_matches_direct_minimisation(name, params):
    # prox_{th}(v) = v − t·K.prox(v/t, 1/(tλ)) [derived in reference.py] against an SLSQP solve of
    # argmin_u h(u) + ‖u − v‖²/(2t) on the explicit h: both strongly convex, SLSQP with ftol 1e-15
    # reaches ‖u − u*‖ ≲ 1e-7, so 1e-6 separates a right identity from a wrong one (a wrong
    # scaling of t or λ moves the prox by ≥ 1e-2 at these v).
    K = make_K(name, **params)
    rng = np.random.default_rng(0)
    for lam, t in [(0.7, 0.4), (1.5, 2.0)]:
        prob = explicit_problem(name, params, lam)
        for v in rng.uniform(-2, 2, size=(3, 2)):
            u = prox_induced(K, lam, v, t)

            def fun(z, prob=prob, v=v, t=t):
                return prob["h"](z) + np.sum((z - v) ** 2) / (2 * t)

            if "l1_ball" in prob or "l1_weight" in prob:
                w = prob.get("l1_weight", 0.0)
                lo, hi = prob.get("bounds", (None, None))

                def g(z, w=w, v=v, t=t):
                    return w * np.sum(z) + np.sum((z[:2] - z[2:] - v) ** 2) / (2 * t)

                cons = (
                    [{"type": "ineq", "fun": lambda z, r=prob["l1_ball"]: r - np.sum(z)}]
                    if "l1_ball" in prob
                    else []
                )
                res = optimize.minimize(
                    g,
                    np.zeros(4),
                    method="SLSQP",
                    bounds=[(0, hi)] * 4,
                    constraints=cons,
                    options={"ftol": 1e-15, "maxiter": 1000},
                )
                ref = res.x[:2] - res.x[2:]
            else:
                bounds = [prob["bounds"]] * 2 if "bounds" in prob else None
                x0 = np.full(2, 0.5 / lam) if name == "logsumexp" else np.zeros(2)
                res = optimize.minimize(
                    fun,
                    x0,
                    method="SLSQP",
                    bounds=bounds,
                    constraints=prob.get("cons", []),
                    options={"ftol": 1e-15, "maxiter": 1000},
                )
                ref = res.x
            np.testing.assert_allclose(u, ref, atol=1e-6, err_msg=f"{name} λ={lam} t={t} v={v}")


@pytest.mark.parametrize("name", ["sq_l2", "power_p", "relativistic", "logcosh", "huber"])
def test_prox_optimality_condition(name):
    # u = prox_{th}(v) ⇔ (v − u)/t ∈ ∂h(u) = ∂K*(λu); for these K, K* is differentiable at interior
    # points, so (v − u)/t = ∇K*(λu). Prox by bisection is exact to ~1e-15, and ∇K* has slope
    # ≤ 1/(1 − |λu|²)^{3/2} ≈ 10 at these points: 1e-10 absolute.
    K = make_K(name)
    lam, t = 1.3, 0.6
    v = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.45]])
    u = prox_induced(K, lam, v, t)
    assert np.all(np.abs(lam * u) < 0.95)  # interior, where ∇K* is finite
    np.testing.assert_allclose((v - u) / t, K.conj_grad(lam * u), atol=1e-10)


def test_prox_closed_forms():
    v = np.array([[2.0, -0.3], [-5.0, 0.9]])
    lam, t = 1.5, 0.7
    # l1: h = indicator of the box ‖x‖_∞ ≤ 1/λ → clip, whatever t
    np.testing.assert_allclose(
        prox_induced(make_K("l1"), lam, v, t), np.clip(v, -1 / lam, 1 / lam), rtol=0, atol=1e-15
    )
    # sq_l2: h = (λ/2)‖x‖² → v/(1 + tλ)
    np.testing.assert_allclose(
        prox_induced(make_K("sq_l2"), lam, v, t), v / (1 + t * lam), rtol=1e-15
    )
    # l2: radial projection onto the ball of radius 1/λ
    n = np.linalg.norm(v, axis=-1, keepdims=True)
    np.testing.assert_allclose(
        prox_induced(make_K("l2"), lam, v, t), v * np.minimum(1, 1 / (lam * n)), rtol=1e-14
    )
    # λ = 0: h ≡ 0, identity
    np.testing.assert_array_equal(prox_induced(make_K("l1"), 0.0, v, t), v)


# ---------------------------------------------------------------------------------------------
# golden optima on the paper's toy problem
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "lam, x1", [(1.5, 2 / 3), (0.5, 1.5), (2 / 3, 1.5), (1.0, 1.0), (4.0, 0.25)]
)
def test_toy_lion_optimum_is_box_projection(lam, x1):
    sol = constrained_optimum("toy", "l1", lam)
    assert isinstance(sol, ReferenceSolution)
    assert sol.converged and sol.method == "closed form prox"
    # the box projection of (1.5, 0) is computed by one clip: exact up to rounding of 1/λ
    np.testing.assert_allclose(sol.x, [x1, 0.0], rtol=1e-15, atol=1e-15)
    assert sol.f == pytest.approx(max(1.5 - 1 / lam, 0.0) ** 2, rel=1e-14, abs=1e-15)
    assert sol.f == sol.F  # K* = 0 inside the box
    assert abs(sol.kkt) <= 1e-14  # ‖∇f‖₁ + λxᵀ∇f = 0 at the KKT point


def test_toy_lion_prox_grad_agrees_with_closed_form():
    for lam in (0.3, 1.5, 3.0):
        a = constrained_optimum("toy", "l1", lam, method="prox_grad")
        b = constrained_optimum("toy", "l1", lam)
        assert a.method == "proximal gradient" and a.converged
        np.testing.assert_allclose(a.x, b.x, atol=1e-12)


@settings(max_examples=25, derandomize=True, deadline=None)
@given(
    c=st.lists(st.floats(-3, 3), min_size=3, max_size=3),
    lam=st.floats(0.2, 3.0),
    a=st.floats(0.3, 3.0),
    name=st.sampled_from(["l1", "l2", "linf", "huber", "sq_l2", "deadzone", "relativistic"]),
)
def test_closed_form_is_the_proximal_gradient_fixed_point(c, lam, a, name):
    # f = a‖x − c‖²: the one-prox closed form must be the limit of the iterative solver (which
    # only uses prox_{th} at other steps t and ∇f); both to 1e-12 steps, agreement 1e-9
    obj = make_objective("quadratic", A=2 * a, c=c)
    cf = constrained_optimum(obj, name, lam)
    pg = constrained_optimum(obj, name, lam, method="prox_grad")
    assert cf.converged and pg.converged
    assert cf.method == "closed form prox"
    np.testing.assert_allclose(cf.x, pg.x, atol=1e-9)
    if name == "l1":  # and it is the clip of c onto the box
        np.testing.assert_allclose(cf.x, np.clip(c, -1 / lam, 1 / lam), atol=1e-15)


def test_linf_is_projection_onto_l1_ball():
    # f = ‖x − c‖² (A = 2I), c = (1.5, 1), λ = 1: project c onto {‖x‖₁ ≤ 1} by hand: shift both
    # coordinates by θ = (1.5 + 1 − 1)/2 = 0.75 → (0.75, 0.25)
    obj = make_objective("quadratic", A=2.0, c=[1.5, 1.0])
    sol = constrained_optimum(obj, "linf", 1.0)
    assert sol.converged and sol.method == "closed form prox"
    np.testing.assert_allclose(sol.x, [0.75, 0.25], atol=1e-14)
    # toy: (1.5, 0) onto the l1 ball of radius 1/λ = 2/3 → (2/3, 0)
    np.testing.assert_allclose(constrained_optimum("toy", "linf", 1.5).x, [2 / 3, 0.0], atol=1e-14)


def test_l2_is_projection_onto_l2_ball():
    obj = make_objective("quadratic", A=2.0, c=[1.5, 1.0])
    c = np.array([1.5, 1.0])
    for lam in (0.5, 1.0, 2.0):
        sol = constrained_optimum(obj, "l2", lam)
        np.testing.assert_allclose(sol.x, c * min(1.0, 1 / (lam * np.linalg.norm(c))), rtol=1e-14)


def test_sq_l2_hand_solution():
    # ∇f + λx = 0 with ∇f = 2(x − c): x = c/(1 + λ/2)
    for lam in (0.5, 1.5):
        sol = constrained_optimum("toy", "sq_l2", lam)
        np.testing.assert_allclose(sol.x, [1.5 / (1 + lam / 2), 0.0], rtol=1e-15)
        pg = constrained_optimum("toy", "sq_l2", lam, method="prox_grad")
        np.testing.assert_allclose(pg.x, sol.x, atol=1e-12)
    # anisotropic: A(x − c) + λx = 0 → x = (A + λI)⁻¹ A c; prox-grad stops at step ≤ 1e-12, and
    # with condition number ≤ 4 the distance to x* is ≤ 1e-11
    sol = constrained_optimum(aniso(), "sq_l2", 0.8)
    exact = np.linalg.solve(A_ANISO + 0.8 * np.eye(2), A_ANISO @ C_ANISO)
    np.testing.assert_allclose(sol.x, exact, atol=1e-11)


@pytest.mark.parametrize("name, params", K_CASES, ids=IDS)
def test_matches_independent_scipy_solve_toy(name, params):
    # SLSQP on the explicit F (ftol 1e-15) vs the closed-form prox: F is 2-strongly convex, so an
    # F-gap of 1e-14 means ‖x − x*‖ ≤ 1e-7; 1e-6 leaves margin while any formula error of the
    # induced term (a factor λ, a sign) moves x* by ≥ 1e-2 here.
    obj = make_objective("toy")
    K = make_K(name, **params)
    for lam in (0.5, 1.5):
        sol = constrained_optimum(obj, K, lam)
        x0 = np.array([0.5 / lam, 0.5 / lam]) if name == "logsumexp" else np.zeros(2)
        ref, _ = independent_solve(obj, name, params, lam, x0)
        # logsumexp's K.prox is the generic L-BFGS fallback (~1e-10 accurate): residual floor
        assert sol.converged or name == "logsumexp", sol.message
        np.testing.assert_allclose(sol.x, ref, atol=1e-6, err_msg=f"{name} λ={lam}")


FAST_ANISO = [
    c for c in K_CASES if c[0] not in ("lp",)
]  # lp's projection is slow (nested bisection)


@pytest.mark.parametrize("name, params", FAST_ANISO, ids=[n for n, _ in FAST_ANISO])
def test_matches_independent_scipy_solve_anisotropic(name, params):
    # the proximal-gradient path (no closed form): same 1e-6 argument, F is λ_min(A) ≈ 1.38
    # strongly convex
    obj = aniso()
    K = make_K(name, **params)
    lam = 1.2
    tol = 1e-10 if name == "logsumexp" else 1e-12  # generic L-BFGS prox of logsumexp: ~1e-11
    sol = constrained_optimum(obj, K, lam, tol=tol)
    assert sol.converged, sol.message
    assert sol.method == "proximal gradient"
    x0 = np.array([0.5 / lam, 0.5 / lam]) if name == "logsumexp" else np.zeros(2)
    ref, res = independent_solve(obj, name, params, lam, x0)
    np.testing.assert_allclose(sol.x, ref, atol=1e-6, err_msg=f"{name}: scipy says {res.message}")
    # and the reference is at least as good as scipy's point on the explicit F
    prob = explicit_problem(name, params, lam)
    F_explicit = (
        float(obj.f(sol.x)) + prob["h"](sol.x) + prob.get("l1_weight", 0) * np.abs(sol.x).sum()
    )
    assert pytest.approx(F_explicit, abs=1e-12) == sol.F
    # SLSQP may end outside the constraint by its own tolerance (l2: ‖λx‖ − 1 = 6e-11 with scipy
    # 1.17), where F is lower than anywhere feasible: compare with its projection onto the set
    ref = K.project_dom_conj(lam * ref) / lam
    F_ref = float(obj.f(ref)) + prob["h"](ref) + prob.get("l1_weight", 0) * np.abs(ref).sum()
    assert F_ref + 1e-12 >= sol.F


# ---------------------------------------------------------------------------------------------
# the stationarity score
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, params", [c for c in K_CASES if c[0] != "lp"], ids=[n for n, _ in K_CASES if n != "lp"]
)
def test_kkt_score_zero_at_solution_positive_elsewhere(name, params):
    obj = aniso()
    K = make_K(name, **params)
    lam = 1.2
    sol = constrained_optimum(obj, K, lam, tol=1e-10 if name == "logsumexp" else 1e-12)
    # at the optimum S = 0 up to the solver's accuracy: S is Lipschitz in x near x* with
    # constant ≲ ‖∇²f‖·(‖x‖ + 1) ≈ 10, and ‖x − x*‖ ≲ 1e-11 → 1e-9 (logsumexp: its prox leaves
    # Σλx − 1 ≈ 1e-11 and S is not shift-invariant off the simplex, measured −1.4e-10 → 1e-9)
    assert abs(sol.kkt) <= 1e-9
    # Fenchel–Young: S ≥ 0 on the whole domain, and > 0 at non-stationary points
    rng = np.random.default_rng(3)
    if name == "logsumexp":
        pts = rng.dirichlet([1.0, 1.0], size=200) / lam
    elif name in ("l2",):
        pts = rng.uniform(-1, 1, size=(200, 2)) / (lam * np.sqrt(2))
    elif name == "linf":
        pts = rng.uniform(-0.5, 0.5, size=(200, 2)) / lam
    else:
        pts = rng.uniform(-0.99, 0.99, size=(200, 2)) / lam
    S = stationarity_score(obj, K, lam, pts)
    far = np.linalg.norm(pts - sol.x, axis=-1) > 1e-3
    assert np.all(S >= -1e-12)  # rounding of a sum of O(1) terms
    assert np.all(S[far] > 0)


def test_kkt_score_is_spec_formula_for_lion_and_infinite_outside():
    obj = aniso()
    lam = 1.2
    x = np.array([[0.3, -0.5], [0.8, 0.1]])
    g = obj.grad(x)
    np.testing.assert_allclose(
        stationarity_score(obj, make_K("l1"), lam, x),
        np.abs(g).sum(-1) + lam * np.sum(x * g, -1),
        rtol=1e-15,
    )
    assert np.isinf(stationarity_score(obj, make_K("l1"), lam, np.array([2.0, 0.0])))
    # λ = 0: the gradient norm
    assert stationarity_score(obj, make_K("l1"), 0.0, x[0]) == pytest.approx(np.linalg.norm(g[0]))


def test_induced_term_values():
    x = np.array([[0.3, -0.5], [2.0, 0.0]])
    np.testing.assert_array_equal(induced_term(make_K("l1"), 1.0, x), [0.0, np.inf])
    np.testing.assert_allclose(induced_term(make_K("sq_l2"), 2.0, x), (x**2).sum(-1), rtol=1e-15)


# ---------------------------------------------------------------------------------------------
# logistic regression, λ = 0, non-convex f, failures
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lam", [0.5, 2.0])
def test_logistic_l1_matches_bounded_lbfgs(lam):
    obj = make_objective("logistic", n=200, d=5, seed=0)
    sol = constrained_optimum(obj, "l1", lam)
    assert sol.converged, sol.message
    res = optimize.minimize(
        lambda x: float(obj.f(x)),
        np.zeros(5),
        jac=obj.grad,
        method="L-BFGS-B",
        bounds=[(-1 / lam, 1 / lam)] * 5,
        options={"ftol": 0, "gtol": 1e-12, "maxiter": 10_000},
    )
    # f is strongly convex on the box (XᵀDX/n ≻ 0 for n ≫ d) with μ ≈ 0.1: projected-gradient
    # 1e-12 at scipy's point gives ‖x − x*‖ ≲ 1e-10; compare at 1e-7
    np.testing.assert_allclose(sol.x, res.x, atol=1e-7)
    assert sol.f <= float(obj.f(res.x)) + 1e-14
    assert np.max(np.abs(sol.x)) <= 1 / lam + 1e-15  # feasible
    assert np.any(np.isclose(np.abs(sol.x), 1 / lam))  # the constraint is active at these λ


def test_unconstrained_lambda_zero():
    r = constrained_optimum("rosenbrock", "l1", 0.0)
    assert r.converged and r.method.startswith("unconstrained")
    np.testing.assert_allclose(r.x, [1.0, 1.0], atol=1e-9)  # ill-conditioned (κ ≈ 2500): 1e-9
    lg = make_objective("logistic")
    s = constrained_optimum(lg, "l1", 0.0)
    assert s.converged and s.kkt <= 1e-10  # ‖∇f‖ at the unconstrained minimiser
    t = constrained_optimum("toy", "l1", 0.0)
    np.testing.assert_array_equal(t.x, [1.5, 0.0])


def test_rosenbrock_box_optimum_is_stationary():
    # non-convex f: a stationary point of F; for λ = 2 the box [−½, ½]² cuts off (1, 1) and the
    # constrained minimiser is (½, ¼) (x1 on the face, x2 = x1² interior)
    sol = constrained_optimum("rosenbrock", "l1", 2.0)
    assert sol.converged
    np.testing.assert_allclose(sol.x, [0.5, 0.25], atol=1e-10)
    assert abs(sol.kkt) < 1e-9


def test_stochastic_objective_is_solved_exactly():
    from lyapunov_lion.core.objectives import StochasticGradient

    noisy = StochasticGradient(make_objective("logistic"), sigma=1.0, seed=0)
    a = constrained_optimum(noisy, "l1", 0.5)
    b = constrained_optimum("logistic", "l1", 0.5)
    assert a.converged
    np.testing.assert_array_equal(a.x, b.x)  # same deterministic computation


def test_non_convergence_is_reported():
    sol = constrained_optimum("logistic", "l1", 0.5, max_iter=3)
    assert not sol.converged
    assert "NOT converged" in sol.message and sol.iterations == 3
    assert sol.residual > 1e-12


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        (dict(lam=-1.0), "lam"),
        (dict(lam=np.nan), "lam"),
        (dict(lam=1.0, method="newton"), "method"),
        (dict(lam=1.0, tol=0.0), "tol"),
    ],
)
def test_bad_arguments(kwargs, fragment):
    with pytest.raises(LionKError, match=fragment):
        constrained_optimum("toy", "l1", **kwargs)


def test_errors_for_unsupported_requests():
    with pytest.raises(LionKError, match="no closed form"):
        constrained_optimum(aniso(), "l1", 1.0, method="closed_form")
    with pytest.raises(LionKError, match="matrices"):
        constrained_optimum("toy", "nuclear", 1.0)
    with pytest.raises(LionKError, match="x0 must have shape"):
        constrained_optimum(aniso(), "l1", 1.0, x0=np.zeros(3))


# ---------------------------------------------------------------------------------------------
# Lion itself ends at the reference
# ---------------------------------------------------------------------------------------------
def test_lion_run_reaches_the_reference_optimum():
    # Lion (spec §2) with lr = 1e-3 from the toy's default start; after phase 1 and 2 its iterates
    # oscillate within O(lr) of the constrained optimum (sign steps of size lr): 5·lr tolerance.
    toy = make_objective("toy")
    lam, lr = 1.5, 1e-3
    res = run_discrete(
        make_K("l1"),
        toy.grad,
        toy.default_x0[None, :],
        config=LionKConfig(lr=lr, lam=lam),
        steps=6000,
        save_every=6000,
    )
    assert res.success
    ref = constrained_optimum(toy, "l1", lam)
    np.testing.assert_allclose(res.x[-1, 0], ref.x, atol=5 * lr)
