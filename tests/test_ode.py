"""Tests of the continuous-time Lion-K simulator (lyapunov_lion.core.ode)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from lyapunov_lion.core.discrete import lion_k_step
from lyapunov_lion.core.kfunc import make_K
from lyapunov_lion.core.lyapunov import lyapunov_Delta, lyapunov_H, ode_rhs
from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.core.ode import (
    continuous_from_discrete,
    discrete_from_continuous,
    run_guards,
    solve_lion_ode,
)
from lyapunov_lion.core.ode.diagnostics import OdeDiagnostics
from lyapunov_lion.errors import LionKError, TheoryWarning
from lyapunov_lion.reproduce.convergence import ode_md_orders

ACC = dict(lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)


@pytest.fixture(scope="module")
def quad():
    """f = ½(x1 − 2)² + ½(x2 − 0.3)²: box optimum (1, 0.3) for λ = 1."""
    return make_objective("quadratic", A=np.eye(2), c=[2.0, 0.3])


@pytest.fixture(scope="module")
def acceptance(quad):
    return solve_lion_ode("l1", quad, [0.0, 0.0], [0.0, 0.0], t_final=20.0, **ACC)


# ------------------------------------------------------------------------------------------
# Filippov mode
# ------------------------------------------------------------------------------------------
def test_acceptance_filippov_reaches_box_optimum(acceptance):
    r = acceptance
    assert r.success, r.message
    assert r.report.method == "filippov"
    # x1 → 1 like 1 − e^{−t} on the face (≈ 2e-9 at t = 20), x2 → 0.3 like e^{−10t} while sliding
    assert np.max(np.abs(r.x[-1] - [1.0, 0.3])) < 1e-6
    # coordinate 2 slides on m̃2 = 0 from its first hit on; coordinate 1 never slides
    assert r.report.final_mode == ["region1", "sliding@kink0"]
    assert r.report.sliding_time[0] == 0.0
    assert r.report.sliding_time[1] > 19.0
    assert r.report.n_sliding_entries == 1
    assert list(r.report.on_boundary_end) == [True, False]
    # the KKT score ‖∇f‖₁ + λxᵀ∇f at the end is of the size of the remaining distance
    assert 0 <= r.diagnostics.kkt_final < 1e-6


def test_acceptance_sliding_matches_closed_form(acceptance):
    """On m̃2 = 0.9 m2 − 0.1(x2 − 0.3) = 0 the ODE gives ẋ2 = −10(x2 − 0.3) exactly."""
    r = acceptance
    ts = r.report.events[0][0]
    xs, _ = r.state(ts)
    t = np.linspace(ts + 0.1, 3.0, 7)
    x, m = r.state(t)
    exact = 0.3 + (xs[1] - 0.3) * np.exp(-10 * (t - ts))
    # rtol 1e-8 of the inner DOP853, errors ~1e-9 absolute
    np.testing.assert_allclose(x[:, 1], exact, atol=1e-8)
    # the constraint m̃2 = 0 holds along the sliding segment to the solver accuracy
    mt2 = 0.9 * m[:, 1] - 0.1 * (x[:, 1] - 0.3)
    assert np.max(np.abs(mt2)) < 1e-9
    # H is non-increasing (guard) and the equivalent control stays inside [−1, 1]
    assert r.guards["monotone_H"]["ok"]


@pytest.mark.parametrize(
    "K, optimum",
    [
        (make_K("deadzone", e=0.1), [1.0, 0.2]),  # min ½(x−c)² + 0.1|x| on the box
        (make_K("l1_plus_sq"), [1.5, 0.3]),  # ½(x1−2)² + ½(x1−1)² → 1.5
    ],
)
def test_filippov_other_kinked_K(quad, K, optimum):
    r = solve_lion_ode(K, quad, [0.0, 0.0], t_final=20.0, **ACC)
    assert r.success, r.message
    assert np.max(np.abs(r.x[-1] - optimum)) < 1e-6
    assert r.report.final_mode[1].startswith("sliding")


def test_filippov_coupled_hessian_kkt():
    """Non-diagonal ∇²f couples the equivalent control; the end point must be the box-QP optimum."""
    A = np.array([[2.0, 0.5], [0.5, 1.0]])
    c = np.array([2.0, 0.2])
    obj = make_objective("quadratic", A=A, c=c)
    r = solve_lion_ode("l1", obj, [0.0, 0.0], t_final=30.0, **ACC)
    assert r.success, r.message
    # reference: projected gradient on the box [−1, 1]², step 1/L, run to a fixed point
    x = np.zeros(2)
    for _ in range(5000):
        x = np.clip(x - (A @ (x - c)) / 2.5, -1, 1)
    assert np.max(np.abs(r.x[-1] - x)) < 1e-6


def test_filippov_exact_and_fd_hessian_agree(quad):
    """An expression objective now gives its exact ∇²f (sympy); a bare ∇f callable falls back to
    central differences (error ~1e-10) in the equivalent control. Both reach the optimum."""
    expr = make_objective("0.5*(x1 - 2)**2 + 0.5*(x2 - 0.3)**2")
    r = solve_lion_ode("l1", expr, [0.0, 0.0], t_final=20.0, **ACC)
    assert r.success, r.message
    assert "exact" in r.report.jacobian
    assert np.max(np.abs(r.x[-1] - [1.0, 0.3])) < 1e-6
    r2 = solve_lion_ode("l1", expr.grad, [0.0, 0.0], f=expr.f, t_final=20.0, **ACC)
    assert r2.success, r2.message
    assert "central differences" in r2.report.jacobian
    assert np.max(np.abs(r2.x[-1] - [1.0, 0.3])) < 1e-6


def test_phase1_from_outside_the_box(quad):
    x0 = np.array([3.0, -2.0])
    # x1 = 1 + 2e^{−t} approaches the face from outside: inside (≤ DOMAIN_TOL) only after ~21.5
    r = solve_lion_ode("l1", quad, x0, t_final=25.0, **ACC)
    assert r.success, r.message
    d = r.diagnostics
    assert d.dist[0] == pytest.approx(np.hypot(2.0, 1.0))
    # dist ≤ e^{−λt} dist0 (+ rounding); phase 1 ends before the bound reaches DOMAIN_TOL
    assert np.all(d.dist <= d.dist[0] * np.exp(-d.t) + 1e-12)
    assert d.phase1_exit_time is not None
    assert 0 < d.phase1_exit_time <= np.log(d.dist[0] / 1e-9) + 1e-6


def test_eps_zero_zeno_hands_over_to_implicit(quad):
    """With ε = 0 the switches of an interior coordinate accumulate (Zeno): the event-driven mode
    stops there, says so, and the driver continues with the implicit mode from that point, which
    passes the accumulation and ends at the box optimum (1, 0.3)."""
    r = solve_lion_ode(
        "l1",
        quad,
        [0.0, 0.0],
        t_final=20.0,
        lam=1.0,
        alpha=1.0,
        gamma=1.0,
        eps=0.0,
        method="filippov",
    )
    assert r.success, r.message
    assert r.report.method.startswith("filippov → implicit at t=")
    assert "Zeno" in r.report.fallback and "continued with the implicit" in r.report.fallback
    np.testing.assert_allclose(r.x[-1], [1.0, 0.3], rtol=0, atol=1e-6)


# ------------------------------------------------------------------------------------------
# smooth K
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["relativistic", "huber", "logcosh", "sq_l2"])
def test_smooth_dH_dt_equals_minus_Delta(quad, name):
    K = make_K(name)
    p = dict(lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)
    x0, m0 = np.array([0.5, -0.5]), np.array([0.2, -0.1])
    r = solve_lion_ode(K, quad, x0, m0, t_final=5.0, method="DOP853", rtol=1e-12, atol=1e-14, **p)
    assert r.success, r.message
    t = np.linspace(0.05, 4.9, 60)
    h = 2e-4

    def H_at(tt):
        x, m = r.state(tt)
        return lyapunov_H(K, quad.f(x), x, m, **p)

    # 4th-order central difference: truncation h⁴H⁽⁵⁾/30 ≲ 1e-10, rounding ε|H|/h ≈ 1e-12,
    # dense-output error (rtol 1e-12) / h ≈ 5e-9: all far below the 1e-6 asked
    dH = (-H_at(t + 2 * h) + 8 * H_at(t + h) - 8 * H_at(t - h) + H_at(t - 2 * h)) / (12 * h)
    x, m = r.state(t)
    Delta = lyapunov_Delta(K, x, m, quad.grad(x), **p)
    assert np.max(np.abs(dH + Delta) / np.maximum(1, np.abs(Delta))) <= 1e-6
    assert r.guards["monotone_H"]["ok"]
    assert np.all(np.diff(r.diagnostics.H) <= 1e-12)  # H non-increasing on the knots


def test_auto_radau_matches_dop853(quad):
    """auto = Radau with the analytic Jacobian on a stiff problem (K = sq_l2, ∇²f = diag(1, 4000):
    ρ(J) ≈ εα·4000 = 400, ρ·T = 2000 > 500), DOP853 on the non-stiff one (ρ·T ≈ 10); same
    solution as DOP853 to the tolerances."""
    K = make_K("sq_l2")
    stiff = make_objective("quadratic", A=np.diag([1.0, 4000.0]), c=[2.0, 0.3])
    kw = dict(t_final=5.0, rtol=1e-10, atol=1e-12, **ACC)
    a = solve_lion_ode(K, stiff, [0.5, -0.5], **kw)
    b = solve_lion_ode(K, stiff, [0.5, -0.5], method="DOP853", **kw)
    assert a.report.method == "Radau" and a.report.jacobian == "analytic"
    assert a.success and b.success
    np.testing.assert_allclose(a.x[-1], b.x[-1], atol=1e-8)
    assert solve_lion_ode(K, quad, [0.5, -0.5], **kw).report.method == "DOP853"


def test_auto_takes_the_implicit_integrator_where_grad_K_is_not_lipschitz(quad):
    """power_p, p < 2: ∇K = sign(m̃)|m̃|^{p−1} has an infinite slope at 0, where the optimum's
    m̃ lies on a coordinate with x*_i = 0. DOP853 needed 69,638 steps for the toy problem at λ = 1.5
    (t ∈ [0, 10]); auto now takes the implicit integrator: 454 and 562 steps here (p = 1.2, 1.5),
    1,088 on the toy problem. ∂K is a singleton, so no step may count as set-valued. p ≥ 2 stays
    on DOP853."""
    from lyapunov_lion.core.reference import constrained_optimum

    f = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.0])  # x*_2 = 0, where ∇K is steep
    for p in (1.2, 1.5):
        K = make_K("power_p", p=p)
        r = solve_lion_ode(K, f, [0.5, -0.5], t_final=40.0, **ACC)
        assert r.success and r.report.method == "implicit", (p, r.report.method)
        assert r.report.n_steps < 5000 and r.report.n_set_valued_steps == 0
        x_star = constrained_optimum(f, K, ACC["lam"]).x
        # measured ‖x(40) − x*‖ = 3.4e-14 and 7.9e-13 (x* from the exact prox)
        assert np.linalg.norm(r.x[-1] - x_star) <= 1e-10
    K4 = make_K("power_p", p=4.0)
    assert solve_lion_ode(K4, f, [0.5, -0.5], t_final=5.0, **ACC).report.method == "DOP853"


def test_analytic_jacobian_matches_finite_differences(quad):
    from lyapunov_lion.core.ode.plain import smooth_jacobian
    from lyapunov_lion.core.ode.problem import build_problem

    K = make_K("logcosh")
    jac = smooth_jacobian(build_problem(K, quad, 2, lam=1.0, alpha=1.0, gamma=1.0, eps=0.1))

    def fun(z):
        xd, md = ode_rhs(K, z[:2], z[2:], quad.grad(z[:2]), 1.0, 1.0, 1.0, 0.1)
        return np.concatenate([xd, md])

    z = np.array([0.3, -0.2, 0.5, 0.1])
    h = 1e-6
    J = np.stack([(fun(z + h * e) - fun(z - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(jac(0.0, z), J, atol=1e-8)  # central-difference error ~h²


# ------------------------------------------------------------------------------------------
# guards and method choice
# ------------------------------------------------------------------------------------------
def test_guard_rejects_plain_radau_on_sign(quad):
    with pytest.warns(TheoryWarning, match="finite-difference Jacobian"):
        r = solve_lion_ode(
            "l1",
            quad,
            [0.0, 0.0],
            t_final=20.0,
            method="Radau",
            rtol=1e-3,
            atol=1e-6,
            max_nfev=50_000,
            **ACC,
        )
    # scipy's Radau accepts the run but ends far outside the box ‖x‖_∞ ≤ 1
    assert np.max(np.abs(r.x[-1])) > 1.1
    assert not r.success
    assert "invariance" in r.message


def _fake_diag(t, dist, H):
    return OdeDiagnostics(
        t=t,
        H=H,
        Delta=np.zeros_like(t),
        dist=dist,
        f=None,
        phase1_exit_time=0.0,
        phase1_exit_index=0,
        kkt_final=0.0,
        tol_dom=1e-8,
        tol_H=1e-8,
    )


def test_guards_on_fabricated_results():
    t = np.linspace(0, 1, 11)
    X = np.zeros((11, 2))
    good = run_guards(_fake_diag(t, np.zeros(11), -t), X, X, 1.0)
    assert all(g["ok"] for g in good.values())
    dist = np.zeros(11)
    dist[5] = 1e-3  # leaves dom K* after entering it
    bad = run_guards(_fake_diag(t, dist, -t), X, X, 1.0)
    assert not bad["invariance"]["ok"] and not bad["phase1"]["ok"]
    H = -t.copy()
    H[7] += 0.5  # an increase of H in phase 2
    assert not run_guards(_fake_diag(t, np.zeros(11), H), X, X, 1.0)["monotone_H"]["ok"]


def test_method_choice(quad):
    assert solve_lion_ode("l2", quad, [0.0, 0.0], t_final=1.0, **ACC).report.method == "implicit"
    assert (
        solve_lion_ode(
            "l1", quad, [0.0, 0.0], t_final=1.0, lam=1.0, alpha=1.0, gamma=1.0, eps=0.0
        ).report.method
        == "implicit"
    )
    with pytest.raises(LionKError, match="implicit"):
        solve_lion_ode("linf", quad, [0.0, 0.0], t_final=1.0, method="filippov", **ACC)
    with pytest.raises(LionKError, match="filippov"):
        solve_lion_ode("huber", quad, [0.0, 0.0], t_final=1.0, method="filippov", **ACC)
    with pytest.warns(TheoryWarning, match="chatters"):
        solve_lion_ode("l1", quad, [0.0, 0.0], t_final=0.5, method="RK45", **ACC)
    with pytest.raises(LionKError):
        solve_lion_ode("l1", quad, [0.0, 0.0], t_final=1.0, lam=0.0, alpha=1, gamma=1, eps=0.1)


# ------------------------------------------------------------------------------------------
# coefficient map and the discrete limit
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lr, b1, b2", [(1e-3, 0.9, 0.99), (0.05, 0.0, 0.5), (0.1, 0.95, 0.9)])
def test_coefficient_round_trip(lr, b1, b2):
    c = continuous_from_discrete(lr, b1, b2)
    assert c["alpha"] == c["gamma"]
    assert c["eps"] * c["gamma"] == pytest.approx(1 - b1, rel=1e-14)
    back = discrete_from_continuous(c["alpha"], c["gamma"], c["eps"], lr)
    assert back["beta1"] == pytest.approx(b1, abs=1e-14)
    assert back["beta2"] == pytest.approx(b2, abs=1e-14)


def test_inverse_map_needs_alpha_equal_gamma():
    with pytest.raises(LionKError, match="α = γ"):
        discrete_from_continuous(1.0, 2.0, 0.1, 1e-2)


@pytest.mark.parametrize("name", ["l1", "relativistic", "huber"])
def test_eta_times_field_is_one_discrete_step(name):
    K = make_K(name)
    rng = np.random.default_rng(0)
    x, m, g = rng.standard_normal((3, 50, 4))
    lr, b1, b2, lam = 0.01, 0.9, 0.99, 0.7
    c = continuous_from_discrete(lr, b1, b2)
    xd, md = ode_rhs(K, x, m, g, lam, c["alpha"], c["gamma"], c["eps"])
    x1, m1, _ = lion_k_step(K, x, m, g, lr, b1, b2, lam, decay="explicit")
    # the two sides are the same algebra in a different order: rounding only (|values| ~ 1)
    np.testing.assert_allclose(x + lr * xd, x1, rtol=0, atol=1e-14)
    np.testing.assert_allclose(m + lr * md, m1, rtol=0, atol=1e-14)


def measure_discrete_order(name, etas=(0.02, 0.01, 0.005, 0.0025, 0.00125), T=3.0):
    """Slope of log sup_k |x_k − x(kη)| against log η (α = γ = λ = 1, ε = 0.1, the quad problem),
    measured by the convergence reproduction's `ode_md_orders` (the report quotes the same run)."""
    r = ode_md_orders((name,), etas, T)[name]
    return r["order"], r["sup"]


@pytest.mark.parametrize("name, lo, hi", [("relativistic", 0.95, 1.05), ("l1", 0.75, 1.25)])
def test_discrete_converges_to_ode(name, lo, hi):
    """Explicit Euler-type scheme: first order for smooth K; for l1 the discrete iterates chatter
    around the sliding surface with amplitude O(η), so the sup error is still O(η) (measured
    0.9–1.0, see docs/ode.md)."""
    order, errs = measure_discrete_order(name)
    assert np.all(np.diff(errs) < 0)
    assert lo <= order <= hi, (order, errs)


# ------------------------------------------------------------------------------------------
# implicit mode (linf, l2, lp, ε = 0): backward-Euler substeps resolving s ∈ ∂K(m̃) + extrapolation
# ------------------------------------------------------------------------------------------
R45 = np.array([[1.0, 1.0], [1.0, -1.0]])  # in 2-D, ‖v‖∞ = ½‖R v‖₁


def _l1_ball_projection(c):
    """Euclidean projection onto {‖x‖₁ ≤ 1} by sorting (Duchi et al.), independent of the
    package."""
    a = np.abs(c)
    if a.sum() <= 1:
        return np.array(c, dtype=float)
    u = np.sort(a)[::-1]
    css = np.cumsum(u)
    k = np.nonzero(u - (css - 1) / np.arange(1, a.size + 1) > 0)[0][-1]
    theta = (css[k] - 1) / (k + 1)
    return np.sign(c) * np.maximum(a - theta, 0)


def _linf_reference(c, T, rtol=1e-12):
    """x(T) for K = linf, f = ½‖x − c‖², from an independent route: with x'' = Rx, m'' = Rm,
    c'' = Rc the 2-D linf ODE is exactly Lion (K = l1) on f'' = ½‖x'' − c''‖² (since
    ∇‖·‖∞(v) = ½Rᵀsign(Rv) and RᵀR = 2I), integrated by the event-driven Filippov mode."""
    obj = make_objective("quadratic", A=np.eye(2), c=R45 @ np.asarray(c, float))
    r = solve_lion_ode("l1", obj, [0.0, 0.0], t_final=T, rtol=rtol, atol=1e-2 * rtol, **ACC)
    assert r.success, r.message
    return R45 @ r.x[-1] / 2, r


@pytest.mark.parametrize(
    "K, c, optimum, face",
    [
        ("l2", [2.0, 0.3], np.array([2.0, 0.3]) / np.hypot(2.0, 0.3), None),
        ("linf", [2.0, 0.3], _l1_ball_projection(np.array([2.0, 0.3])), False),  # vertex (1, 0)
        ("linf", [1.0, 0.6], _l1_ball_projection(np.array([1.0, 0.6])), True),  # face (0.7, 0.3)
    ],
)
def test_implicit_reaches_dual_ball_projection(K, c, optimum, face):
    """f = ½‖x − c‖², λ = 1, c outside the ball: the optimum of min f s.t. ‖x‖_* ≤ 1 is the
    Euclidean projection of c (ℓ2 ball for l2, ℓ1 ball for linf). Tolerance: the measured global
    error at fixed T is ≤ 0.6·rtol (docs/ode.md) and the transient decays like e^{−t}
    (e^{−30} ≈ 1e-13), so 1e-7 at rtol 1e-8 leaves a 10× margin."""
    obj = make_objective("quadratic", A=np.eye(2), c=c)
    r = solve_lion_ode(K, obj, [0.0, 0.0], t_final=30.0, rtol=1e-8, atol=1e-10, **ACC)
    assert r.success, r.message
    assert r.report.method == "implicit" and r.report.order == 4
    assert np.max(np.abs(r.x[-1] - optimum)) < 1e-7
    assert all(g["ok"] for g in r.guards.values())
    if face is None:  # l2 with c outside: m̃ → c − x ≠ 0, ∇K single-valued throughout
        assert r.report.n_set_valued_steps == 0
    elif face:  # the optimum is interior to an edge: c − x* = (0.3, 0.3), |m̃1| = |m̃2|
        assert r.report.final_mode == ["set-valued", "set-valued"]
        assert set(r.report.sliding_sets) == {(0, 1)}
    else:  # a vertex of the ℓ1 ball: argmax |m̃_i| unique, no sliding
        assert r.report.final_mode == ["single-valued", "single-valued"]


def _l2_reference(c, T):
    """l2 with m̃ bounded away from 0 is a smooth ODE: DOP853 at rtol 1e-13 is a valid reference."""
    obj = make_objective("quadratic", A=np.eye(2), c=c)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        r = solve_lion_ode(
            "l2", obj, [0.0, 0.0], t_final=T, method="DOP853", rtol=1e-13, atol=1e-15, **ACC
        )
    mt = 0.9 * r.m - 0.1 * (r.x - c)
    assert np.min(np.linalg.norm(mt, axis=1)) > 0.1  # smooth region: the reference is legitimate
    return r.x[-1]


@pytest.mark.parametrize("K, c", [("l2", [2.0, 0.3]), ("linf", [1.0, 0.6])])
def test_implicit_error_is_proportional_to_rtol(K, c):
    """Against independent references at T = 5: error ≤ 2·rtol (measured ≤ 0.54·rtol) and the slope
    of log error vs log rtol is ≈ 1 (measured 0.89–0.91): tolerance proportionality. Cost: a
    100× tighter rtol costs ≈ 100^{1/4} ≈ 3.2× more ∇f evaluations (order 4), far from the 100×
    of a first-order method; asserted < 10×."""
    T = 5.0
    ref = _l2_reference(c, T) if K == "l2" else _linf_reference(c, T)[0]
    obj = make_objective("quadratic", A=np.eye(2), c=c)
    rtols, errs, nfev = [1e-4, 1e-6, 1e-8], [], []
    for rtol in rtols:
        r = solve_lion_ode(K, obj, [0.0, 0.0], t_final=T, rtol=rtol, atol=1e-2 * rtol, **ACC)
        assert r.success, r.message
        errs.append(np.max(np.abs(r.x[-1] - ref)))
        nfev.append(r.nfev)
    assert all(e <= 2 * rt for e, rt in zip(errs, rtols, strict=True)), errs
    slope = np.polyfit(np.log(rtols), np.log(errs), 1)[0]
    assert 0.8 <= slope <= 1.1, (slope, errs)
    assert nfev[1] / nfev[0] < 10 and nfev[2] / nfev[1] < 10, nfev


def test_implicit_linf_sliding_time_matches_filippov_entry():
    """The rotated-Lion reference enters sliding (|m̃1| = |m̃2|) at an event time t_s; the implicit
    mode flags the tie set from then on. Resolution: one substep of the step containing the entry
    (≲ 1e-3 at rtol 1e-8, measured 4e-4)."""
    T = 5.0
    _, ref = _linf_reference([1.0, 0.6], T)
    t_s = [e[0] for e in ref.report.events if e[3].startswith("sliding")][-1]
    obj = make_objective("quadratic", A=np.eye(2), c=[1.0, 0.6])
    r = solve_lion_ode("linf", obj, [0.0, 0.0], t_final=T, rtol=1e-8, atol=1e-10, **ACC)
    assert abs(r.report.sliding_sets[(0, 1)] - (T - t_s)) < 2e-3
    np.testing.assert_allclose(r.report.sliding_time, T - t_s, atol=2e-3)


@pytest.mark.parametrize("K", ["l2", "linf"])
def test_implicit_phase1_and_guards_from_outside(K):
    """Start far outside the ball: dist(λx, dom K*) ≤ e^{−λt}dist0 (+ tol_dom) along the run, λx
    stays inside after entry, H non-increasing in phase 2 (the guards), and the run succeeds."""
    obj = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.3])
    r = solve_lion_ode(K, obj, [3.0, -2.0], t_final=25.0, rtol=1e-8, atol=1e-10, **ACC)
    assert r.success, r.message
    d = r.diagnostics
    assert np.all(d.dist <= d.dist[0] * np.exp(-d.t) + d.tol_dom)
    assert d.phase1_exit_time is not None
    assert r.guards["invariance"]["ok"] and r.guards["monotone_H"]["ok"]


@pytest.mark.parametrize("K, optimum", [("l1", [1.0, 0.3]), ("linf", [1.0, 0.0])])
def test_implicit_eps_zero(quad, K, optimum):
    """ε = 0: the event-driven mode stops at the Zeno point of the interior coordinate; the
    implicit substep (q = αh/(1+hγ) > 0 still couples s into m̃_{n+1}) passes it and lands on the
    second-order sliding set {m2 = 0, x2 = 0.3}. `auto` picks it."""
    r = solve_lion_ode(
        K,
        quad,
        [0.0, 0.0],
        t_final=30.0,
        rtol=1e-8,
        atol=1e-10,
        lam=1.0,
        alpha=1.0,
        gamma=1.0,
        eps=0.0,
    )
    assert r.report.method == "implicit"
    assert r.success, r.message
    assert np.max(np.abs(r.x[-1] - optimum)) < 1e-7
    if K == "l1":
        assert r.report.final_mode == ["single-valued", "set-valued"]


def test_implicit_matches_filippov_on_l1(quad):
    """Two independent algorithms for Lion's Filippov solution agree to the tolerances."""
    a = solve_lion_ode("l1", quad, [0.0, 0.0], t_final=5.0, rtol=1e-10, atol=1e-12, **ACC)
    b = solve_lion_ode(
        "l1", quad, [0.0, 0.0], t_final=5.0, method="implicit", rtol=1e-8, atol=1e-10, **ACC
    )
    assert b.success, b.message
    assert np.max(np.abs(a.x[-1] - b.x[-1])) < 1e-7  # measured 7e-9


@pytest.mark.parametrize("K, c", [("linf", [1.0, 1.0]), ("l2", [2.0, 0.2])])
def test_implicit_anisotropic_hessian(K, c):
    """∇²f ≠ bI: the inclusion s ∈ ∂K(a − Bs) is solved by FISTA (linf) or the trust-region
    equation (l2). End point vs the package's proximal-gradient reference (independent code
    path)."""
    from lyapunov_lion.core.reference import constrained_optimum

    obj = make_objective("quadratic", A=np.array([[2.0, 0.5], [0.5, 1.0]]), c=c)
    r = solve_lion_ode(K, obj, [0.0, 0.0], t_final=30.0, rtol=1e-8, atol=1e-10, **ACC)
    assert r.success, r.message
    ref = constrained_optimum(obj, K, 1.0)
    assert np.max(np.abs(r.x[-1] - ref.x)) < 1e-7


def test_implicit_nonquadratic_uses_exact_hessian():
    """Logistic loss with linf: Newton passes on the linearised inclusion with the exact ∇²f."""
    from lyapunov_lion.core.reference import constrained_optimum

    obj = make_objective("logistic", n=50, d=3)
    r = solve_lion_ode("linf", obj, np.zeros(3), t_final=30.0, rtol=1e-7, atol=1e-9, **ACC)
    assert r.success, r.message
    assert "exact" in r.report.jacobian and r.report.njev > 0
    ref = constrained_optimum(obj, "linf", 1.0)
    assert np.max(np.abs(r.x[-1] - ref.x)) < 1e-6


def test_implicit_t_eval_lands_on_knots(quad):
    t_eval = np.linspace(0, 2.0, 11)
    r = solve_lion_ode("linf", quad, [0.0, 0.0], t_final=2.0, t_eval=t_eval, **ACC)
    np.testing.assert_array_equal(r.t, t_eval)
    full = solve_lion_ode("linf", quad, [0.0, 0.0], t_final=1.0, **ACC)
    assert np.max(np.abs(r.x[5] - full.x[-1])) < 1e-7  # same solution at t = 1 (rtol 1e-8)


def _l3_ball_projection_2d(c):
    """Projection of c (> 0, outside) onto {‖z‖₃ ≤ 1} in 2-D, independent of the package: on the
    arc z = (s, (1 − s³)^{1/3}) the stationarity condition of ½‖z − c‖² in s is solved by brentq."""
    from scipy import optimize

    g = lambda s: (1 - s**3) ** (1 / 3)  # noqa: E731
    dg = lambda s: -(s**2) * (1 - s**3) ** (-2 / 3)  # noqa: E731
    s1 = optimize.brentq(
        lambda s: (s - c[0]) + (g(s) - c[1]) * dg(s),
        1e-12,
        1 - 1e-12,
        xtol=1e-16,
        rtol=4 * np.finfo(float).eps,
    )
    return np.array([s1, g(s1)])


def test_implicit_lp_reaches_lq_ball_projection():
    """K = ℓ_{1.5} (dual ℓ3 ball), f = ½‖x − c‖², c = (2, 0.3) outside: the end point is the
    projection of c onto ‖x‖₃ ≤ 1/λ = 1. m̃ → c − x* stays away from 0, where ∇K is smooth.
    Tolerance as for l2/linf above (≤ 0.6·rtol + e^{−30}): 1e-7 at rtol 1e-8; measured 4e-14.
    Cheap now that `project_lq_ball` is a safeguarded Newton solve (≈ 1 s instead of minutes)."""
    c = np.array([2.0, 0.3])
    obj = make_objective("quadratic", A=np.eye(2), c=c)
    r = solve_lion_ode(
        make_K("lp", p=1.5), obj, [0.0, 0.0], t_final=30.0, rtol=1e-8, atol=1e-10, **ACC
    )
    assert r.success, r.message
    assert r.report.method == "implicit" and r.report.n_set_valued_steps == 0
    x_star = _l3_ball_projection_2d(c)
    assert np.max(np.abs(r.x[-1] - x_star)) < 1e-7
    assert all(g["ok"] for g in r.guards.values())


@pytest.mark.parametrize("rtol", [1e-6, 1e-8])
def test_implicit_trajectory_through_switches_matches_filippov(rtol):
    """Lion (l1) on f = ½‖x − (2, 0.4)‖², ε = 0.1: coordinate 2 crosses m̃2 = 0 at t = 0.8524 and
    enters sliding at t = 0.8754 (event-driven reference at rtol 1e-12, error ≲ 1e-11). The
    implicit knots in [0.8, 1.2] (knots, not the piecewise-linear dense output, whose O(H²)
    interpolation error is not controlled by rtol) must match it to 10·rtol: the global error on
    smooth stretches is ≤ 0.6·rtol (docs/ode.md table) and each of the two switches adds at most
    ≈ rtol (a step across a switch is accepted only when H·|Δs| is within tolerance); measured
    ≤ 4.8·rtol at rtol 1e-6 … 1e-10. Before the switch control: 7.4e-5 and 2.9e-5 (74·rtol and
    2900·rtol) right after the crossing, where a switch inside the first substep of every
    extrapolation sequence was invisible to the error estimate."""
    obj = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.4])
    ref = solve_lion_ode(
        "l1", obj, [0.0, 0.0], t_final=1.2, method="filippov", rtol=1e-12, atol=1e-14, **ACC
    )
    r = solve_lion_ode(
        "l1", obj, [0.0, 0.0], t_final=1.2, method="implicit", rtol=rtol, atol=1e-2 * rtol, **ACC
    )
    assert r.success and ref.success
    sel = r.t >= 0.8
    err = np.max(np.abs(r.x[sel] - ref.state(r.t[sel])[0]))
    assert err <= 10 * rtol, err


def test_implicit_switch_control_counts_and_face_signature():
    """The controller sees both switches of the problem above (crossing of m̃2 = 0 at 0.8524,
    sliding entry at 0.8754) and rejects steps across them (`n_switch_rejected`); the face labels
    separate the two sides of a kink, the kink itself and (linf) the argmax sign."""
    from lyapunov_lion.core.ode.implicit import integrate_implicit
    from lyapunov_lion.core.ode.inclusion import face_signature

    obj = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.4])
    run = integrate_implicit(
        make_K("l1"),
        obj.grad,
        obj.hess,
        np.zeros(4),
        1.2,
        rtol=1e-8,
        atol=1e-10,
        hess_constant=True,
        **ACC,
    )
    assert run.status == 0 and run.n_switch_steps >= 2 and run.n_switch_rejected >= 2
    l1, linf = make_K("l1"), make_K("linf")
    s = np.zeros(2)
    labels = [tuple(face_signature(l1, np.array([v, 1.0]), s, 1e-12)) for v in (-0.5, 0.0, 0.5)]
    assert len(set(labels)) == 3 and labels[1][0] < 0 and labels[0][1] == labels[2][1]
    a = face_signature(linf, np.array([1.0, 0.5]), s, 1e-12)
    b = face_signature(linf, np.array([-1.0, 0.5]), s, 1e-12)
    tie = face_signature(linf, np.array([1.0, -1.0]), s, 1e-12)
    assert not np.array_equal(a, b) and np.all(tie < -1) and not np.array_equal(a, tie)


if __name__ == "__main__":  # prints the measured orders quoted in docs/ode.md
    for name in ("relativistic", "sq_l2", "l1"):
        order, errs = measure_discrete_order(name)
        print(f"{name:14s} order {order:.3f}  sup errors {[f'{e:.3g}' for e in errs]}")


@pytest.mark.parametrize(
    ("K", "method"), [("l1", "filippov"), ("linf", "implicit"), ("sq_l2", "DOP853")]
)
def test_progress_reports_every_accepted_step_and_changes_nothing(quad, K, method):
    """``progress(t)`` sees non-decreasing times ending at t_final, at least one per accepted
    step (knot), and the solution is bit-identical with and without it."""
    seen: list[float] = []
    kw = dict(t_final=3.0, method=method, **ACC)
    a = solve_lion_ode(K, quad, [0.5, -0.5], **kw)
    b = solve_lion_ode(K, quad, [0.5, -0.5], progress=seen.append, **kw)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.t, b.t)
    assert seen[-1] == 3.0 and np.all(np.diff(seen) >= 0)
    assert len(seen) >= b.report.n_steps >= 10
