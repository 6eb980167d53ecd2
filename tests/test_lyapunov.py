"""Tests of the Lyapunov and phase diagnostics (spec §4 continuous time, §5 discrete time).

What is checked, and why each tolerance is what it is:

1. Fenchel–Young: H ≥ F at random states, with equality when λx = ∇K(m) (every catalog K);
2. the [derived] identity dH/dt = −Δ (differentiable K), dH/dt by an 8th-order central difference
   along (ẋ, ṁ), for several (α, γ, ε, λ) including ε = 0, εγ < 1, εγ = 1 and εγ > 1, on three
   objectives (isotropic quadratic, anisotropic quadratic, log-sum-exp); a deliberately wrong c is
   shown to fail the same check;
3. Δ ≥ 0 (both terms) when εγ ≤ 1 for every catalog K, and a state with Δ < 0 (H increasing)
   when εγ > 1;
4. discrete phase 1: dist(λx_t, dom K*) ≤ (1−ηλ)^t dist_0 (explicit) / (1+ηλ)^{−t} dist_0
   (implicit) for every K with a proper dom K*, equality in a case where it is tight, invariance;
5. the spec §5 inequality on implicit runs with β1 ≤ β2 (a theorem: no violation beyond rounding),
   its failure for the explicit scheme and for β1 > β2 (not theorems), and the explicit-scheme
   statement derived in ``lyapunov.py`` (no violation);
6. the KKT score on the toy problem of the paper's Fig. 1 and at constructed stationary points;
   H_d monotone after phase 1 up to the O(η²) slack along Lion runs;
7. consistency of the discrete and continuous objects under the §3 parameter map, the helpers,
   JSON output and input validation.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from lyapunov_lion import LionKConfig, make_K, run_discrete
from lyapunov_lion.core.discrete import lion_k_step
from lyapunov_lion.core.kfunc import DOMAIN_TOL
from lyapunov_lion.core.lyapunov import (
    diagnose_discrete,
    discrete_a,
    discrete_Delta,
    discrete_H,
    discrete_w,
    fenchel_young_gap,
    kkt_score,
    lyapunov_c,
    lyapunov_Delta,
    lyapunov_Delta_terms,
    lyapunov_F,
    lyapunov_H,
    monotonicity,
    ode_rhs,
    phase1_bound,
    phase1_bound_continuous,
    phase1_exit,
)
from lyapunov_lion.errors import LionKError

EPS = np.finfo(float).eps

# --------------------------------------------------------------------------------------------
# objectives, written inline: f reduces the last axis, grad_f keeps x's shape; L = smoothness
# --------------------------------------------------------------------------------------------
_R = np.random.default_rng(1234)
_Q = np.linalg.qr(_R.standard_normal((3, 3)))[0]
_A3 = _Q @ np.diag([0.5, 2.0, 5.0]) @ _Q.T  # anisotropic SPD, L = 5
_B3 = np.array([0.7, -1.2, 2.0])
_C3 = _R.standard_normal((4, 3))  # log-sum-exp f(x) = lse(Cx + e)
_E3 = _R.standard_normal(4)


class Objective:
    def __init__(self, name, f, grad, L):
        self.name, self.f, self.grad, self.L = name, f, grad, L

    def __repr__(self):
        return self.name


def _quad(A, b):
    return (lambda x: 0.5 * np.einsum("...i,ij,...j->...", x - b, A, x - b), lambda x: (x - b) @ A)


def _lse_obj(C, e):
    def f(x):
        z = x @ C.T + e
        mx = z.max(-1, keepdims=True)
        return np.log(np.exp(z - mx).sum(-1)) + mx[..., 0]

    def grad(x):
        z = x @ C.T + e
        p = np.exp(z - z.max(-1, keepdims=True))
        return (p / p.sum(-1, keepdims=True)) @ C

    # Hessian Cᵀ(diag p − ppᵀ)C ⪯ ½‖C‖₂² I (the middle matrix has eigenvalues ≤ 1/2)
    return f, grad, 0.5 * np.linalg.norm(C, 2) ** 2


def objectives_3d():
    iso = _quad(1.5 * np.eye(3), _B3)
    aniso = _quad(_A3, _B3)
    lse = _lse_obj(_C3, _E3)
    return [
        Objective("iso_quad", *iso, 1.5),
        Objective("aniso_quad", *aniso, 5.0),
        Objective("logsumexp_f", *lse),
    ]


OBJ3 = objectives_3d()

# the paper's Fig. 1 toy problem f(x) = (x1 − 1.5)² + x2², L = 2
TOY_C = np.array([1.5, 0.0])


def toy_f(x):
    return np.sum((x - TOY_C) ** 2, axis=-1)


def toy_grad(x):
    return 2 * (x - TOY_C)


# --------------------------------------------------------------------------------------------
# state sampling
# --------------------------------------------------------------------------------------------
def interior_dom_point(K, z):
    """y = 0.9·P(z) + 0.1·P(0): a convex combination of points of dom K*, in its relative interior
    (P(0) = 0 for the symmetric domains, the simplex centre for logsumexp)."""
    return 0.9 * K.project_dom_conj(z) + 0.1 * K.project_dom_conj(np.zeros_like(z))


def rand_state(K, shape, n, rng, lam=0.7):
    z = 2.0 * rng.standard_normal((n,) + shape)
    x = interior_dom_point(K, z) / lam
    m = 1.5 * rng.standard_normal((n,) + shape)
    g = rng.standard_normal((n,) + shape)
    return x, m, g


# ============================================================================================
# 1. Fenchel–Young: H ≥ F
# ============================================================================================
def test_H_ge_F_every_K(catalog_K):
    """H − F = c·(K*(λx) + K(m) − λmᵀx) ≥ 0 for c ≥ 0 (εγ ≤ 1), and H = F when λx = ∇K(m)."""
    K, rng = catalog_K.K, np.random.default_rng(0)
    lam, alpha, gamma = 0.7, 1.3, 2.0
    x, m, _ = rand_state(K, catalog_K.shape, 64, rng, lam)
    fx = rng.standard_normal(64)
    for eps in (0.0, 0.1, 0.5):  # εγ = 0, 0.2, 1
        H = lyapunov_H(K, fx, x, m, lam, alpha, gamma, eps)
        F = lyapunov_F(K, fx, x, lam, alpha, gamma)
        FY = fenchel_young_gap(K, x, m, lam)
        # rounding of FY: a few eps times the magnitude of its terms
        scale = (
            np.abs(K.K(m))
            + np.abs(np.sum((lam * x * m).reshape(64, -1), -1))
            + np.abs(K.conj(lam * x))
        )
        assert np.all(-1e-12 * (1 + scale) <= FY)
        assert np.all(-1e-12 * (1 + scale + np.abs(F)) <= H - F)
        np.testing.assert_allclose(
            H - F, lyapunov_c(lam, gamma, eps) * FY, atol=1e-12 * (1 + scale.max())
        )
    # Fenchel–Young equality at λx = ∇K(m) (the range of ∇K lies in dom K*)
    x_eq = np.asarray(K.grad(m)) / lam
    FY = fenchel_young_gap(K, x_eq, m, lam)
    scale = np.abs(K.K(m)) + np.abs(np.sum((m * K.grad(m)).reshape(64, -1), -1))
    np.testing.assert_array_less(np.abs(FY), 1e-11 * (1 + scale))
    # outside dom K*: F = H = +inf (not NaN), also when c = 0 (εγ = 1)
    if (
        np.isfinite(K.dist_dom_conj(1e3 * np.ones(catalog_K.shape)))
        and K.dist_dom_conj(1e3 * np.ones(catalog_K.shape)) > 0
    ):
        xo = 1e3 * np.ones((2,) + catalog_K.shape) / lam
        assert np.all(np.isposinf(lyapunov_H(K, np.zeros(2), xo, m[:2], lam, alpha, gamma, 0.5)))
        assert np.all(np.isposinf(lyapunov_F(K, np.zeros(2), xo, lam, alpha, gamma)))


# ============================================================================================
# 2. dH/dt = −Δ along the ODE (differentiable K)
# ============================================================================================
FD8 = (4 / 5, -1 / 5, 4 / 105, -1 / 280)  # central-difference weights for f'(0), order h⁸


def directional_derivative(fun, h):
    """Σ_k c_k (fun(k h) − fun(−k h))/h, the 8th-order central difference of s ↦ fun(s) at 0."""
    return sum(c * (fun(k * h) - fun(-k * h)) for k, c in zip(range(1, 5), FD8, strict=True)) / h


SMOOTH_K = [
    ("sq_l2", {}),
    ("huber", {"delta": 1.0}),
    ("huber", {"delta": 0.5}),
    ("relativistic", {}),
    ("logcosh", {}),
    ("power_p", {"p": 1.5}),
    ("power_p", {"p": 4.0}),
    ("logsumexp", {}),
]
# (α, γ, ε, λ): ε = 0, εγ < 1, εγ = 1 (c = 0) and εγ > 1 (c < 0) — the identity is algebraic
ODE_PARAMS = [
    (1.0, 1.0, 0.0, 0.5),
    (2.0, 0.5, 0.3, 1.0),
    (0.5, 3.0, 0.2, 2.0),
    (1.0, 2.0, 0.5, 0.3),
    (1.5, 2.0, 0.9, 0.8),
]


def smooth_state(K, n, rng, lam, d=3):
    """States away from the kinks of the second derivatives (FD needs smoothness on the stencil):
    |m_i| ≥ 0.3 (power_p at 0) and |m_i| ∉ [0.8δ, 1.2δ] (huber at ±δ), λx inside dom K* with
    margin ≥ 0.2, |λx_i| ≥ 0.1. The stencil moves each coordinate by ≤ 4h·speed = 4e-3."""
    sgn = lambda: rng.choice([-1.0, 1.0], size=(n, d))  # noqa: E731
    m = sgn() * rng.uniform(0.3, 2.0, size=(n, d))
    if K.name == "huber":
        a = np.abs(m)
        m = np.where((a > 0.8 * K.delta) & (a < 1.2 * K.delta), m * 1.5 * K.delta / a, m)
    if K.name == "logsumexp":
        y = rng.dirichlet(np.ones(d) * 4, size=n) * 0.7 + 0.3 / d  # λx in the open simplex
    elif K.name == "huber":
        y = sgn() * rng.uniform(0.1, 0.8, size=(n, d)) * K.delta
    else:
        y = sgn() * rng.uniform(0.1, 0.8, size=(n, d))
    g = rng.standard_normal((n, d))  # not used for the value; ∇f comes from the objective
    return y / lam, m, g


@pytest.mark.parametrize("obj", OBJ3, ids=repr)
@pytest.mark.parametrize("params", ODE_PARAMS, ids=lambda p: "a{}g{}e{}l{}".format(*p))
@pytest.mark.parametrize(
    "kname,kparams", SMOOTH_K, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_dHdt_equals_minus_Delta(kname, kparams, params, obj):
    """dH/dt = −Δ, with dH/dt the derivative of s ↦ H(x + sẋ, m + sṁ) at s = 0 (chain rule).

    Tolerance: the 8th-order stencil's truncation error h⁸|H⁽⁹⁾|/630 is < 1e-15 here; its rounding
    error is ≤ Σ|c_k|·2·eps·S/h ≈ 4.2·eps·S/h, with S the sum of magnitudes of the terms of H.
    We allow 1e3·eps·S/h (≈ 2e-10·S for h = 1e-3), > 200× the rounding bound, while any wrong
    coefficient in c or Δ gives an O(|Δ|) = O(1) error (see `test_dHdt_detects_wrong_c`).
    """
    K = make_K(kname, **kparams)
    alpha, gamma, eps, lam = params
    rng = np.random.default_rng(7)
    x, m, _ = smooth_state(K, 40, rng, lam)
    fd, minus_delta, S = _fd_dHdt(K, obj, x, m, lam, alpha, gamma, eps)
    assert np.all(np.isfinite(fd))
    err = np.abs(fd - minus_delta)
    tol = 1e3 * EPS * S
    assert np.all(err <= tol), f"max err {err.max():.3g}, tol {tol[np.argmax(err)]:.3g}"


def _fd_dHdt(K, obj, x, m, lam, alpha, gamma, eps, c_override=None):
    g = obj.grad(x)
    xdot, mdot = ode_rhs(K, x, m, g, lam, alpha, gamma, eps)
    speed = max(1.0, np.abs(xdot).max(), np.abs(mdot).max())
    h = 1e-3 / speed

    def H_along(s):
        xs, ms = x + s * xdot, m + s * mdot
        H = lyapunov_H(K, obj.f(xs), xs, ms, lam, alpha, gamma, eps)
        if c_override is not None:
            H = H + (c_override - lyapunov_c(lam, gamma, eps)) * fenchel_young_gap(K, xs, ms, lam)
        return H

    fd = directional_derivative(H_along, h)
    c = lyapunov_c(lam, gamma, eps)
    S = (
        alpha * np.abs(obj.f(x))
        + (gamma / lam + abs(c)) * np.abs(K.conj(lam * x))
        + abs(c) * (np.abs(K.K(m)) + np.abs(np.sum(lam * m * x, -1)))
    ) / h
    return fd, -lyapunov_Delta(K, x, m, g, lam, alpha, gamma, eps), S


def test_dHdt_detects_wrong_c():
    """The check above can fail: with c = 1 − εγ (the 1/(1 + ελ) dropped) the mismatch is O(1)."""
    K, obj = make_K("logcosh"), OBJ3[1]
    alpha, gamma, eps, lam = 2.0, 0.5, 0.3, 1.0
    x, m, _ = smooth_state(K, 40, np.random.default_rng(7), lam)
    fd, md, S = _fd_dHdt(K, obj, x, m, lam, alpha, gamma, eps, c_override=1 - eps * gamma)
    assert np.max(np.abs(fd - md) / (1e3 * EPS * S)) > 1e4


def test_Delta_eps_zero_limit():
    """At ε = 0: Δ = (γ+λ)(∇K(m) − λx)ᵀ(m − ∇K*(λx)); and Δ(ε) → Δ(0) linearly as ε → 0."""
    K, rng = make_K("logcosh"), np.random.default_rng(3)
    lam, alpha, gamma = 0.8, 1.2, 0.7
    x, m, g = rand_state(K, (4,), 16, rng, lam)
    d0 = lyapunov_Delta(K, x, m, g, lam, alpha, gamma, 0.0)
    ref = (gamma + lam) * np.sum((np.tanh(m) - lam * x) * (m - np.arctanh(lam * x)), -1)
    np.testing.assert_allclose(d0, ref, rtol=1e-13)
    errs = [
        np.max(np.abs(lyapunov_Delta(K, x, m, g, lam, alpha, gamma, e) - d0)) for e in (1e-4, 1e-5)
    ]
    assert 5 < errs[0] / errs[1] < 20  # first order in ε
    # the direct formula (1−εγ)/(ε(1+ελ))·(∇K(m̃) − ∇K(m))ᵀ(m̃ − m) agrees with the stored form
    eps = 0.3
    mt = m - eps * (alpha * g + gamma * m)
    direct = (
        (1 - eps * gamma)
        / (eps * (1 + eps * lam))
        * np.sum((np.tanh(mt) - np.tanh(m)) * (mt - m), -1)
    )
    np.testing.assert_allclose(
        lyapunov_Delta_terms(K, x, m, g, lam, alpha, gamma, eps)[1], direct, rtol=1e-12, atol=1e-14
    )


# ============================================================================================
# 3. Δ ≥ 0 when εγ ≤ 1; a counterexample when εγ > 1
# ============================================================================================
def test_Delta_nonnegative_every_K(catalog_K):
    """Both terms ≥ 0 (Lemma 2.1) for εγ ∈ {0, 0.3, 1}, also for non-differentiable K."""
    K, rng = catalog_K.K, np.random.default_rng(11)
    lam, alpha, gamma = 0.9, 1.1, 1.5
    x, m, g = rand_state(K, catalog_K.shape, 128, rng, lam)
    for eps in (0.0, 0.2, 1 / 1.5):
        t1, t2 = lyapunov_Delta_terms(K, x, m, g, lam, alpha, gamma, eps)
        # rounding of inner products of O(1) vectors (sizes ≤ a few units): 1e-12 absolute
        assert np.all(np.isfinite(t1)) and np.all(np.isfinite(t2))
        assert t1.min() >= -1e-12 and t2.min() >= -1e-12, (t1.min(), t2.min())


@pytest.mark.parametrize("kname", ["sq_l2", "logcosh", "relativistic"])
def test_Delta_negative_when_eps_gamma_gt_1(kname):
    """εγ > 1: at λx = ∇K(m̃) the first term vanishes and the second is < 0, so Δ < 0 and H
    increases (checked by finite differences) — the hypothesis εγ ≤ 1 cannot be dropped."""
    K, obj, rng = make_K(kname), OBJ3[1], np.random.default_rng(5)
    alpha, gamma, eps, lam = 1.0, 2.0, 0.8, 0.7  # εγ = 1.6
    x = rng.uniform(0.1, 0.7, (20, 3)) * rng.choice([-1, 1], (20, 3)) / lam
    # choose m so that m̃ = (1 − εγ)m − εα∇f(x) equals ∇K*(λx), i.e. λx = ∇K(m̃): term1 = 0
    m = (K.conj_grad(lam * x) + eps * alpha * obj.grad(x)) / (1 - eps * gamma)
    t1, t2 = lyapunov_Delta_terms(K, x, m, obj.grad(x), lam, alpha, gamma, eps)
    assert np.max(np.abs(t1)) < 1e-10
    assert np.all(t2 < -1e-3)
    fd, md, S = _fd_dHdt(K, obj, x, m, lam, alpha, gamma, eps)
    assert np.all(fd > 1e-3) and np.all(np.abs(fd - md) <= 1e3 * EPS * S)


# ============================================================================================
# 4. discrete phase 1
# ============================================================================================
PHASE1_K = [
    ("l1", {}),
    ("l2", {}),
    ("lp", {"p": 1.5}),
    ("lp", {"p": 3.0}),
    ("linf", {}),
    ("huber", {"delta": 0.5}),
    ("relativistic", {}),
    ("logcosh", {}),
    ("deadzone", {"e": 0.1}),
    ("logsumexp", {}),
    ("nuclear", {}),
]


def _phase1_run(K, decay, rng, steps=150):
    shape = (3, 2) if K.event_ndim == 2 else (4,)
    B = 12
    lam = rng.uniform(0.3, 3.0, B)
    if decay == "explicit":
        lr = rng.uniform(0.05, 1.0, B) / lam
        lr[0] = 1.0 / lam[0]  # ηλ = 1 (bound 0 after one step)
    else:
        lr = rng.uniform(0.05, 3.0, B) / lam
    x0 = 6.0 * rng.standard_normal((B,) + shape) / lam.reshape((B,) + (1,) * len(shape))
    x0[-2:] = interior_dom_point(K, rng.standard_normal((2,) + shape)) / lam[-2:].reshape(
        (2,) + (1,) * len(shape)
    )  # two runs start inside: invariance
    b = 3.0 * rng.standard_normal(shape)
    grad = lambda x: x - b  # noqa: E731
    res = run_discrete(
        K,
        grad,
        x0,
        config=LionKConfig(lr=lr, beta1=0.9, beta2=0.99, lam=lam, decay=decay),
        steps=steps,
    )
    return res, lam, lr, b


@pytest.mark.parametrize("decay", ["explicit", "implicit"])
@pytest.mark.parametrize(
    "kname,kparams", PHASE1_K, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_discrete_phase1_bound(kname, kparams, decay):
    """dist_t ≤ (1−ηλ)^t dist_0 (explicit, ηλ ≤ 1) or (1+ηλ)^{−t} dist_0 (implicit), and once
    λx_t ∈ dom K* it stays. Tolerance: rtol 1e-12 (rounding of λx and of the projection) + atol
    1e-12 (ℓq-ball projection is accurate to ~1e-13)."""
    K, rng = make_K(kname, **kparams), np.random.default_rng(2)
    res, lam, lr, b = _phase1_run(K, decay, rng)
    f = lambda x: 0.5 * np.sum(((x - b) ** 2).reshape(x.shape[: x.ndim - K.event_ndim] + (-1,)), -1)  # noqa
    d = diagnose_discrete(res, f, lambda x: x - b)
    assert np.all(d.dist[0, :-2] > 0.5) and np.all(d.dist[0, -2:] <= 1e-12)  # rounding of P
    bound = phase1_bound(d.dist[0], lr, lam, d.dist.shape[0] - 1, decay)
    assert np.all(d.dist <= bound * (1 + 1e-12) + 1e-12)
    assert np.all(d.phase1_bound_held) and np.all(d.phase1_max_ratio <= 1 + 1e-9)
    # invariance: after the first entry (dist ≤ DOMAIN_TOL) every later iterate stays inside
    exit_ = d.phase1_exit
    assert np.all(exit_ >= 0)
    t = np.arange(d.dist.shape[0])[:, None]
    assert np.all(np.where(t >= exit_, d.dist, 0.0) <= DOMAIN_TOL)
    assert np.all(exit_[-2:] == 0)


@pytest.mark.parametrize("decay", ["explicit", "implicit"])
def test_discrete_phase1_bound_is_tight(decay):
    """1-D Lion pushed outward (f = ½(x − 100)², so ∇K(m̃) = +1 always): λx_t − 1 follows the
    bound exactly, so the bound and `phase1_bound` are sharp, not merely valid (rtol 1e-8:
    the subtraction λx − 1 loses ~t·eps absolute, dist ≥ 1e-6 here)."""
    K, lam, lr = make_K("l1"), 0.5, 0.6
    res = run_discrete(
        K,
        lambda x: x - 100.0,
        np.array([[10.0]]),
        config=LionKConfig(lr=lr, beta1=0.9, beta2=0.99, lam=lam, decay=decay),
        steps=40,
    )
    dist = K.dist_dom_conj(lam * np.asarray(res.x))
    np.testing.assert_allclose(dist, phase1_bound(dist[0], lr, lam, 40, decay), rtol=1e-8)


def test_phase1_bound_continuous_limit():
    """(1 ∓ ηλ)^{±t/η} → e^{−λt} as η → 0, with error O(η): the discrete bounds tend to the
    ODE's."""
    lam, T, d0 = 1.3, 2.0, 0.7
    errs = []
    for lr in (1e-2, 1e-3):
        n = int(round(T / lr))
        for decay in ("explicit", "implicit"):
            errs.append(
                abs(phase1_bound(d0, lr, lam, n, decay)[-1] - phase1_bound_continuous(d0, lam, T))
            )
    assert max(errs[2:]) < 2e-3 * d0 and 5 < errs[0] / errs[2] < 20


# ============================================================================================
# 5. the spec §5 inequality
# ============================================================================================
INEQ_K = [
    ("l1", {}),
    ("l2", {}),
    ("linf", {}),
    ("sq_l2", {}),
    ("huber", {"delta": 1.0}),
    ("logcosh", {}),
    ("relativistic", {}),
    ("deadzone", {"e": 0.1}),
]
BETAS_OK = [(0.9, 0.99), (0.5, 0.5), (0.0, 0.9), (0.95, 0.999)]


def _ineq_run(K, obj, decay, beta1, beta2, rng, steps=300, B=12):
    lam = rng.uniform(0.3, 2.0, B)
    lr = rng.uniform(0.01, 0.3, B)
    x0 = rng.uniform(-3, 3, (B, 3))
    m0 = rng.standard_normal((B, 3))
    res = run_discrete(
        K,
        obj.grad,
        x0,
        m0,
        config=LionKConfig(lr=lr, beta1=beta1, beta2=beta2, lam=lam, decay=decay),
        steps=steps,
    )
    return diagnose_discrete(res, obj.f, obj.grad, L=obj.L)


@pytest.mark.parametrize("obj", OBJ3[1:], ids=repr)
@pytest.mark.parametrize(
    "kname,kparams", INEQ_K, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_spec_inequality_implicit(kname, kparams, obj):
    """Implicit scheme, β1 ≤ β2, f L-smooth: H_d(t+1) − H_d(t) ≤ −ηΔ_t + (Lη²/2)‖w_t‖² at every
    checked step. Rounding allowance rtol = 1e-11 × (sum of magnitudes of the terms): d = 3, so
    the true rounding is ~1e-15 relative; every real violation measured (explicit scheme, β1 > β2)
    is ≥ 1e-3 absolute."""
    K, rng = make_K(kname, **kparams), np.random.default_rng(21)
    for beta1, beta2 in BETAS_OK:
        d = _ineq_run(K, obj, "implicit", beta1, beta2, rng)
        s = d.spec_inequality
        assert s.theorem and s.scheme == "implicit"
        # not vacuous: phase 1 (to dist ≤ 1e-12) takes ~log(dist_0/1e-12)/(ηλ) steps, measured
        # ≥ 57% of the 3,600 steps are checked; require 30%
        assert s.n_checked.sum() >= 0.3 * s.slack.size
        assert s.n_violations.sum() == 0, (beta1, beta2, np.nanmax(s.slack))
        # Δ_t ≥ 0 along the run where λx_{t+1} ∈ dom K* (Lemma 2.1, convexity of K). Allowance:
        # 1e-12 rounding, plus C1·‖m̃ − v‖·dist for a λx_{t+1} outside the set by dist ≤ 1e-12
        # (C1 ≤ 10, ‖m̃‖ ≤ 100 here; measured: −7.4e-12 at dist = 8.3e-13 for l1)
        dist = d.dist[1:]
        inside = dist <= 1e-12
        assert np.all(np.where(inside, d.Delta, 0.0) >= -1e-12 - 1e3 * dist)


@pytest.mark.parametrize("kname", ["l1", "linf", "deadzone"])
def test_spec_inequality_fails_for_explicit_scheme(kname):
    """The spec §5 statement is not a theorem for the explicit-decay scheme: measured violations
    (β = (0.9, 0.99), ηλ ≤ 0.6, anisotropic quadratic) up to 0.16 (l1), 5e-3 (linf), 3e-3
    (deadzone); 5e-8 for l2; none seen for sq_l2/huber/logcosh/relativistic.
    `diagnose_discrete` labels it so, and
    the explicit-scheme statement derived in lyapunov.py (a' = ηβ1/((1−β2)+ηλ(β2−β1)),
    w̄ = ∇K(m̃) − λx_t) holds at every step."""
    K, rng = make_K(kname), np.random.default_rng(22)
    d = _ineq_run(K, OBJ3[1], "explicit", 0.9, 0.99, rng)
    s, e = d.spec_inequality, d.explicit_inequality
    assert not s.theorem and "explicit" in s.why_not_theorem
    assert s.n_violations.sum() > 0 and np.nanmax(s.slack) > 1e-3
    assert e.theorem and e.n_violations.sum() == 0 and e.n_checked.sum() >= 0.5 * e.slack.size


@pytest.mark.parametrize(
    "kname,kparams", INEQ_K, ids=lambda v: str(v) if isinstance(v, str) else ""
)
def test_explicit_scheme_inequality(kname, kparams):
    """The derived explicit-scheme statement holds for every K of the list and β1 ≤ β2."""
    K, rng = make_K(kname, **kparams), np.random.default_rng(23)
    for beta1, beta2 in BETAS_OK:
        d = _ineq_run(K, OBJ3[2], "explicit", beta1, beta2, rng, steps=200, B=8)
        e = d.explicit_inequality
        assert e.n_violations.sum() == 0, (beta1, beta2, np.nanmax(e.slack))


@pytest.mark.parametrize("decay", ["implicit", "explicit"])
def test_spec_inequality_needs_beta1_le_beta2(decay):
    """β1 > β2 breaks the convexity step (m_{t+1} is no longer between m_t and m̃_{t+1}): real
    violations (≥ 1e-2) appear and the check is labelled as not a theorem."""
    K, rng = make_K("l1"), np.random.default_rng(24)
    d = _ineq_run(K, OBJ3[1], decay, 0.95, 0.9, rng)
    checks = [d.spec_inequality] + ([d.explicit_inequality] if decay == "explicit" else [])
    for s in checks:
        assert not s.theorem and np.nanmax(s.slack) > 1e-2


# ============================================================================================
# 6. KKT score; Lion on the toy problem
# ============================================================================================
def test_kkt_score_toy_problem():
    """f = (x1 − 1.5)² + x2², λ = 1.5: the Lion optimum is x* = (2/3, 0), S(x*) = 0 to rounding
    (S = 5/3 − 1.5·(2/3)·(5/3), a few eps); S > 0 at every other feasible point of a grid,
    S = ‖∇f‖₁ + λxᵀ∇f inside the box and +inf outside it."""
    K, lam = make_K("l1"), 1.5
    xs = np.array([2 / 3, 0.0])
    assert abs(kkt_score(K, xs, toy_grad(xs), lam)) < 1e-14
    g1 = np.linspace(-2 / 3, 2 / 3, 41)
    X = np.stack(np.meshgrid(g1, g1), -1).reshape(-1, 2)
    X = X[np.linalg.norm(X - xs, axis=-1) > 1e-9]
    S = kkt_score(K, X, toy_grad(X), lam)
    np.testing.assert_allclose(
        S, np.abs(toy_grad(X)).sum(-1) + lam * np.sum(X * toy_grad(X), -1), atol=1e-14
    )
    assert S.min() > 1e-3  # grid spacing 1/30: the closest point has S = 2|x2| + 3x2² ≈ 0.067
    assert np.isposinf(kkt_score(K, np.array([1.0, 0.0]), toy_grad(np.array([1.0, 0.0])), lam))


def test_kkt_score_zero_at_stationary_points(catalog_K):
    """For f = ½‖x − b‖² with b = x + v, v ∈ ∂K*(λx): −∇f(x) = v, x is stationary for
    f + (1/λ)K*(λx), and S(x) = K(v) + K*(λx) − vᵀλx = 0 (Fenchel–Young equality); S ≥ 0 at
    random feasible points (S is a Fenchel–Young gap)."""
    K, rng, lam = catalog_K.K, np.random.default_rng(4), 1.3
    x, _, g = rand_state(K, catalog_K.shape, 32, rng, lam)
    v = np.asarray(K.conj_grad(lam * x))
    S0 = kkt_score(K, x, -v, lam)  # ∇f(x) = x − b = −v
    scale = (
        np.abs(K.K(v)) + np.abs(np.sum((v * lam * x).reshape(32, -1), -1)) + np.abs(K.conj(lam * x))
    )
    np.testing.assert_array_less(np.abs(S0), 1e-12 * (1 + scale))
    S = kkt_score(K, x, g, lam)
    assert np.all(-1e-12 * (1 + scale) <= S)


def test_kkt_score_sq_l2_closed_form():
    """K = ½‖·‖²: S = ½‖∇f + λx‖² (zero iff ∇(f + (λ/2)‖x‖²) = 0)."""
    K, rng = make_K("sq_l2"), np.random.default_rng(6)
    x, g = rng.standard_normal((2, 10, 4))
    np.testing.assert_allclose(
        kkt_score(K, x, g, 0.7), 0.5 * np.sum((g + 0.7 * x) ** 2, -1), rtol=1e-12
    )


@pytest.mark.parametrize("decay", ["implicit", "explicit"])
def test_lion_toy_H_monotone_after_phase1(decay):
    """Lion (β = (0.9, 0.99), λ = 1.5) on the toy problem from inside and outside the box:
    after phase 1 H_d rises by at most (Lη²/2)·max‖w_t‖² per step (theorem for the implicit
    scheme since Δ ≥ 0; for the explicit scheme the derived H'_d obeys the same bound with w̄).
    Measured (η = 0.01, 2,000 steps): max increase of H_d ≈ 7e-5–1e-4 against a bound of
    2.3e-4–3.5e-3; the iterates reach x* = (2/3, 0) up to O(η) and S → O(η)."""
    K, lam, lr, L = make_K("l1"), 1.5, 0.01, 2.0
    x0 = np.array([[-2.0, 2.0], [3.0, -1.0], [0.1, 0.2], [0.5, 0.5]])
    res = run_discrete(
        K,
        toy_grad,
        x0,
        config=LionKConfig(lr=lr, beta1=0.9, beta2=0.99, lam=lam, decay=decay),
        steps=2000,
    )
    d = diagnose_discrete(res, toy_f, toy_grad, L=L)
    assert np.all(d.phase1_exit >= 0) and np.all(d.phase1_exit[2:] == 0)
    t = np.arange(d.w_sq.shape[0])[:, None]
    after = t >= d.phase1_exit
    if decay == "implicit":
        H, wsq = d.H_d, d.w_sq
    else:
        H = d.H_d_explicit
        wsq = np.sum(np.diff(np.asarray(res.x), axis=0) ** 2, -1) / lr**2
    with np.errstate(invalid="ignore"):  # inf − inf before phase 1 (masked out)
        inc = np.where(after, np.diff(H, axis=0), -np.inf).max(axis=0)
    bound = 0.5 * L * lr**2 * np.where(after, wsq, 0).max(axis=0)
    assert np.all(inc <= bound * (1 + 1e-9))
    assert np.all(d.monotonicity.max_increase <= 2e-4)  # O(η²) with η = 0.01 (measured ≤ 1e-4)
    assert not np.all(d.monotonicity.monotone)  # Lion does chatter: increases happen
    np.testing.assert_allclose(res.x[-1][:, 0], 2 / 3, atol=1e-9)
    np.testing.assert_array_less(np.abs(res.x[-1][:, 1]), 2 * lr)
    np.testing.assert_array_less(d.kkt[-1], 2 * lr)
    assert np.all(np.isfinite(d.kkt[-1]))


# ============================================================================================
# 7. consistency, helpers, output, validation
# ============================================================================================
def test_discrete_matches_continuous_under_parameter_map():
    """With α = γ = (1−β2)/η, ε = η(1−β1)/(1−β2) (spec §3): H/α = H_d (a = c/α), η·(ẋ, ṁ)
    is exactly one explicit step, and term1 of Δ/α → term1 of Δ_t as η → 0."""
    K, rng = make_K("logcosh"), np.random.default_rng(8)
    lr, b1, b2, lam = 0.01, 0.9, 0.99, 0.8
    alpha = gamma = (1 - b2) / lr
    eps = lr * (1 - b1) / (1 - b2)
    x, m, g = rand_state(K, (5,), 10, rng, lam)
    fx = rng.standard_normal(10)
    np.testing.assert_allclose(
        lyapunov_H(K, fx, x, m, lam, alpha, gamma, eps) / alpha,
        discrete_H(K, fx, x, m, lr, b1, b2, lam),
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        lyapunov_c(lam, gamma, eps) / alpha, discrete_a(lr, b1, b2, lam), rtol=1e-13
    )
    xdot, mdot = ode_rhs(K, x, m, g, lam, alpha, gamma, eps)
    xn, mn, mt = lion_k_step(K, x, m, g, lr, b1, b2, lam, decay="explicit")
    np.testing.assert_allclose(x + lr * xdot, xn, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(m + lr * mdot, mn, rtol=1e-14, atol=1e-15)
    # discrete_w and the implicit step: x_{t+1} − x_t = η w_t
    xi, _, mti = lion_k_step(K, x, m, g, lr, b1, b2, lam, decay="implicit")
    np.testing.assert_allclose(xi - x, lr * discrete_w(K, xi, mti, lam), atol=1e-15)
    d_imp = discrete_Delta(K, xi, m, mti, lr, b1, b2, lam)
    d_exp = discrete_Delta(K, xn, m, mt, lr, b1, b2, lam, decay="explicit", x=x)
    assert np.all(d_imp >= 0) and np.all(d_exp >= 0)


def test_batched_hyperparameters_match_scalar_calls():
    K, rng = make_K("huber", delta=0.7), np.random.default_rng(9)
    x, m, g = rand_state(K, (3,), 5, rng, 1.0)
    fx = rng.standard_normal(5)
    lam, alpha, gamma, eps = (rng.uniform(0.3, 1.0, 5) for _ in range(4))
    H = lyapunov_H(K, fx, x, m, lam, alpha, gamma, eps)
    D = lyapunov_Delta(K, x, m, g, lam, alpha, gamma, eps)
    Hd = discrete_H(K, fx, x, m, alpha * 0.1, eps, gamma, lam)
    for i in range(5):
        assert H[i] == pytest.approx(
            lyapunov_H(K, fx[i], x[i], m[i], lam[i], alpha[i], gamma[i], eps[i]), rel=1e-14
        )
        assert D[i] == pytest.approx(
            lyapunov_Delta(K, x[i], m[i], g[i], lam[i], alpha[i], gamma[i], eps[i]), rel=1e-13
        )
        assert Hd[i] == pytest.approx(
            discrete_H(K, fx[i], x[i], m[i], alpha[i] * 0.1, eps[i], gamma[i], lam[i]), rel=1e-14
        )


def test_monotonicity_and_phase1_exit_helpers():
    H = np.array([5.0, 4.0, 4.0, 4.5, 3.0, 3.0 + 1e-15, 2.0])
    r = monotonicity(H, start=0, rtol=1e-12)
    assert not r.monotone and r.n_increases == 1 and r.first_increase_step == 2
    assert r.max_increase == pytest.approx(0.5) and r.n_checked == 6
    assert monotonicity(H, start=3).monotone  # the rounding-level rise 1e-15 is not counted
    assert monotonicity(H, start=3, rtol=0).n_increases == 1
    Hb = np.stack([H, H[::-1]], axis=1)
    rb = monotonicity(Hb, start=np.array([3, 0]))
    assert rb.monotone.tolist() == [True, False] and rb.first_increase_step.tolist() == [-1, 0]
    Hinf = np.array([np.inf, np.inf, 2.0, 1.0])
    ri = monotonicity(Hinf, start=0)
    assert ri.monotone and ri.n_nonfinite == 2 and ri.n_checked == 1
    assert phase1_exit(np.array([3.0, 1.0, 0.0, 0.0])) == 2
    assert phase1_exit(np.array([3.0, 1.0])) is None
    assert phase1_exit(np.array([[3.0, 0.0], [0.0, 0.0]])).tolist() == [1, 0]
    assert phase1_exit(np.array([[3.0], [2.0]])).tolist() == [-1]


def test_diagnostics_to_json_and_conventions():
    """to_dict is strict JSON (non-finite → null); a library-convention Lion run gives the same
    diagnostics as the paper-convention run (m is stored in the paper convention)."""
    K = make_K("l1")
    x0 = np.array([[-2.0, 2.0], [0.1, 0.2]])
    out = {}
    for conv in ("paper", "library"):
        res = run_discrete(
            K, toy_grad, x0, config=LionKConfig(lr=0.05, lam=1.5, convention=conv), steps=100
        )
        out[conv] = diagnose_discrete(res, toy_f, toy_grad, L=2.0)
    for key in ("H_d", "Delta", "kkt", "dist"):
        np.testing.assert_array_equal(getattr(out["paper"], key), getattr(out["library"], key))
    d = out["paper"].to_dict()
    s = json.dumps(d, allow_nan=False)
    back = json.loads(s)
    assert back["H_d"][0][0] is None  # H_d = +inf before phase 1
    assert (
        back["spec_inequality"]["theorem"] is False
        and back["explicit_inequality"]["theorem"] is True
    )
    assert back["phase1_exit"] == out["paper"].phase1_exit.tolist()


def test_validation():
    K = make_K("l1")
    with pytest.raises(LionKError, match="lam > 0"):
        lyapunov_H(K, 0.0, np.zeros(2), np.zeros(2), 0.0, 1.0, 1.0, 0.0)
    with pytest.raises(LionKError, match="lam > 0"):
        discrete_H(K, 0.0, np.zeros(2), np.zeros(2), 0.1, 0.9, 0.99, np.array([0.5, 0.0]))
    with pytest.raises(LionKError, match="decay"):
        discrete_a(0.1, 0.9, 0.99, 1.0, decay="both")
    with pytest.raises(LionKError, match="x = x_t"):
        discrete_Delta(
            K, np.zeros(2), np.zeros(2), np.zeros(2), 0.1, 0.9, 0.99, 1.0, decay="explicit"
        )
    res = run_discrete(
        K, toy_grad, np.zeros((1, 2)), config=LionKConfig(lam=1.0), steps=10, save_every=2
    )
    with pytest.raises(LionKError, match="save_every=1"):
        diagnose_discrete(res, toy_f, toy_grad)
    res = run_discrete(
        make_K("logsumexp"),
        toy_grad,
        np.zeros((1, 2)),
        config=LionKConfig(lam=1.0, convention="library"),
        steps=5,
    )
    with pytest.raises(LionKError, match="not even"):
        diagnose_discrete(res, toy_f, toy_grad)


def test_dHdt_identity_symbolic():
    """The identity dH/dt + Δ = 0 as algebra (sympy), in dimension 2 with free symbols for the
    gradient values g = ∇f(x), p = ∇K(m), u = ∇K(m̃), v = ∇K*(λx): by the chain rule
    dH/dt = αgᵀẋ + (γ/λ + c)λvᵀẋ + c(pᵀṁ − λṁᵀx − λmᵀẋ). No relation between K and K* is used,
    so the identity holds for any differentiable K (the spec's c and Δ are right)."""
    import sympy as sp

    al, ga, ep, la = sp.symbols("alpha gamma epsilon lambda", positive=True)
    vec = lambda n: sp.Matrix(sp.symbols(f"{n}1:3"))  # noqa: E731
    x, m, g, p, u, v = (vec(n) for n in "xmgpuv")
    c = (1 - ep * ga) / (1 + ep * la)
    mdot = -al * g - ga * m
    mt = m + ep * mdot
    xdot = u - la * x
    dH = (
        al * g.dot(xdot)
        + (ga / la + c) * la * v.dot(xdot)
        + c * (p.dot(mdot) - la * mdot.dot(x) - la * m.dot(xdot))
    )
    Delta = (ga + la) / (1 + ep * la) * (u - la * x).dot(mt - v) + (1 - ep * ga) / (
        ep * (1 + ep * la)
    ) * (u - p).dot(mt - m)
    assert sp.simplify(sp.expand(dH + Delta)) == 0
    # with any other weight c' of the Fenchel–Young gap the residual is not identically zero
    c_bad = 1 - ep * ga
    dH_bad = dH + (c_bad - c) * (
        p.dot(mdot) - la * mdot.dot(x) - la * m.dot(xdot) + la * v.dot(xdot)
    )
    assert sp.simplify(sp.expand(dH_bad + Delta)) != 0


@pytest.mark.parametrize("decay", ["implicit", "explicit"])
def test_discrete_inequality_algebra_symbolic(decay):
    """The algebraic core of the §5 proof (sympy). Bounding each piece of H_d(t+1) − H_d(t) —
    descent lemma for f, convexity of K* at λx_{t+1} (v = ∇K*(λx_{t+1})), and
    K(m_{t+1}) − K(m_t) ≤ uᵀ(m_{t+1} − m_t) − θB with m_{t+1} = (1−θ)m_t + θm̃, θ = (1−β2)/(1−β1) —
    leaves the terms linear in s = (x_{t+1} − x_t)/η, which must equal −η·term1 of Δ_t:
    ηgᵀs + η(1 + aλ)vᵀs + a(u − λx_{t+1})ᵀ(m_{t+1} − m_t) − aηλ m_tᵀs = −η·term1.
    Implicit: s = w = u − λx_{t+1}; explicit: s = w̄ = u − λx_t and u − λx_{t+1} = (1 − ηλ)w̄.
    The B-term coefficient a·θ is checked against η·(spec's second coefficient)."""
    import sympy as sp

    eta, lam, b1, b2 = sp.symbols("eta lambda beta1 beta2", positive=True)
    vec = lambda n: sp.Matrix(sp.symbols(f"{n}1:3"))  # noqa: E731
    m, g, v, s_ = vec("m"), vec("g"), vec("v"), vec("s")
    mt = b1 * m - (1 - b1) * g
    mn = b2 * m - (1 - b2) * g
    theta = (1 - b2) / (1 - b1)
    assert sp.simplify(mn - ((1 - theta) * m + theta * mt)) == sp.zeros(2, 1)
    if decay == "implicit":
        a = eta * b1 / ((1 - b2) + eta * lam * (1 - b1))
        c1 = (1 - b2 + eta * lam) / (1 - b2 + eta * lam * (1 - b1))
        w_next = s_  # u − λx_{t+1} = w
        c2 = b1 * (1 - b2) / ((1 - b1) * (1 - b2 + eta * lam * (1 - b1)))
    else:
        a = eta * b1 / ((1 - b2) + eta * lam * (b2 - b1))
        c1 = (1 - b2 + eta * lam * b2) / (1 - b2 + eta * lam * (b2 - b1))
        w_next = (1 - eta * lam) * s_  # u − λx_{t+1} = (1 − ηλ)w̄
        c2 = b1 * (1 - b2) / ((1 - b1) * (1 - b2 + eta * lam * (b2 - b1)))
    lhs = (
        eta * g.dot(s_)
        + eta * (1 + a * lam) * v.dot(s_)
        + a * w_next.dot(mn - m)
        - a * eta * lam * m.dot(s_)
    )
    assert sp.simplify(sp.expand(lhs + eta * c1 * s_.dot(mt - v))) == 0
    assert sp.simplify(a * theta - eta * c2) == 0
