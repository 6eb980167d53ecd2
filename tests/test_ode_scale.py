"""The pieces that make the event-driven integrator scale with d (issue 8, "Scale"): gaps read
off their interpolating polynomial when ∇f is affine, bordering updates of (∇²f_SS)⁻¹ across
events, and the whole run against the direct (field-evaluating) path."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.core.ode import solve_lion_ode
from lyapunov_lion.core.ode.filippov import _ConstantHessian, _StepGaps

ACC = dict(lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)


def _random_quadratic(d: int, seed: int):
    """The issue's random quadratics: A = Q·diag(geomspace(1, 10, d))·Qᵀ, c ~ N(0, 1.5²)."""
    rng = np.random.default_rng(seed)
    Q, R = np.linalg.qr(rng.standard_normal((d, d)))
    Q = Q * np.sign(np.diag(R))
    A = (Q * np.geomspace(1.0, 10.0, d)) @ Q.T
    return 0.5 * (A + A.T), rng.normal(0.0, 1.5, d)


def test_polynomial_gaps_match_the_direct_path():
    """d = 30, seed 3 (about half the coordinates switch, some several times): with the affine ∇f
    the gaps come from their degree-7 interpolant; with ∇²f given as a plain callable (not
    known constant) every gap and root is evaluated through ∇f. Both must produce the same
    switching sequence (same coordinates, same kinds, times within 1e-9: both localise roots to
    machine precision on the same dense output up to the rtol-level trajectory difference) and
    end points within 1e-8 (the rtol = 1e-8 integration error)."""
    A, c = _random_quadratic(30, 3)
    obj = make_objective("quadratic", A=A, c=c)
    kw = dict(t_final=10.0, rtol=1e-8, atol=1e-10, **ACC)
    fast = solve_lion_ode("l1", obj, np.zeros(30), np.zeros(30), **kw)
    direct = solve_lion_ode("l1", obj, np.zeros(30), np.zeros(30), hess=lambda x: A, **kw)
    assert fast.success and direct.success, (fast.message, direct.message)
    assert fast.report.n_polynomial_steps == fast.report.n_steps  # every step read exactly
    assert direct.report.n_polynomial_steps == 0
    ev_f, ev_d = fast.report.events, direct.report.events
    assert len(ev_f) == len(ev_d) >= 15
    assert [e[1:] for e in ev_f] == [e[1:] for e in ev_d]
    np.testing.assert_allclose([e[0] for e in ev_f], [e[0] for e in ev_d], rtol=0, atol=1e-9)
    np.testing.assert_allclose(fast.x[-1], direct.x[-1], rtol=0, atol=1e-8)


def test_step_gaps_interpolant_is_exact_for_affine_gaps_and_refuses_otherwise():
    """On a step with a degree-7 dense output z(t): affine gaps are reproduced to rounding at
    arbitrary times; non-affine gaps (sin z) fail the check point and are read directly."""
    rng = np.random.default_rng(0)
    coef = rng.standard_normal((6, 8))  # z(t) = Σ_k coef_k t^k on [0.2, 0.7]

    def dense(t):
        return coef @ np.vander(np.atleast_1d(t), 8, increasing=True).T

    class Affine:
        W = rng.standard_normal((4, 6))

        def gaps(self, Z):
            return self.W @ Z + 1.0

    class Curved(Affine):
        def gaps(self, Z):
            return np.sin(3 * Z[:4])

    ts = np.linspace(0.2, 0.7, 11)
    g = _StepGaps(Affine(), dense, 0.2, 0.7, 7)
    assert g.exact
    want = Affine().gaps(dense(ts))
    np.testing.assert_allclose(g.at(ts), want, rtol=0, atol=1e-11 * np.max(np.abs(want)))
    g = _StepGaps(Curved(), dense, 0.2, 0.7, 7)
    assert not g.exact
    np.testing.assert_array_equal(g.at(ts), Curved().gaps(dense(ts)))


@pytest.mark.parametrize("seed", [0, 1])
def test_bordering_updates_match_a_fresh_inverse(seed):
    """A random walk of sliding sets (1 to 5 coordinates added or removed per step) on a
    cond-10 Hessian: the updated (∇²f_SS)⁻¹ agrees with np.linalg.inv to 1e-10 (relative to
    ‖(∇²f_SS)⁻¹‖ ≤ 1; the updates lose O(n·ε_mach·cond) per step, far below this)."""
    rng = np.random.default_rng(seed)
    A, _ = _random_quadratic(40, seed)
    ch = _ConstantHessian(A)
    S = np.sort(rng.choice(40, 15, replace=False))
    for _ in range(60):
        flip = rng.choice(40, rng.integers(1, 6), replace=False)
        mask = np.zeros(40, bool)
        mask[S] = True
        mask[flip] = ~mask[flip]
        if mask.sum() < 2:
            continue
        S = np.flatnonzero(mask)
        H_S, inv = ch.blocks(S)
        np.testing.assert_array_equal(H_S, A[S])
        np.testing.assert_allclose(inv, np.linalg.inv(A[np.ix_(S, S)]), rtol=0, atol=1e-10)
