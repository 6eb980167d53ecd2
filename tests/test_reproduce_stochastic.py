"""The stochastic-gradient reproduction: the noise floor of the averaged Δ' and the KKT score."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.reproduce import FIGURES
from lyapunov_lion.reproduce import stochastic as st


@pytest.fixture(scope="module")
def reduced():
    return st.compute("reduced")


def test_registered():
    assert "stochastic" in FIGURES


def test_loglog_slope_and_interval():
    x = np.array([1.0, 4.0, 16.0])
    Y = np.stack([3 * x**-0.5, 2 * x**-1.0], axis=1)
    assert st.loglog_slope(x, Y) == pytest.approx([-0.5, -1.0], abs=1e-12)
    m, h = st.t_interval(np.array([1.0, 2.0, 3.0]))
    # mean 2, sd 1, t_{0.975, 2} = 4.3027: half-width 4.3027/√3
    assert m == 2.0 and h == pytest.approx(4.3026527297 / np.sqrt(3), rel=1e-9)


def test_noise_is_independent_across_runs_and_reproducible():
    g1 = st.noisy_gradient(np.array([1.0, 1.0, 0.0]), seed=3)
    g2 = st.noisy_gradient(np.array([1.0, 1.0, 0.0]), seed=3)
    x = np.zeros((3, 2))
    a, b = g1(x), g2(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[0], a[1])  # independent replicas
    np.testing.assert_array_equal(a[2], st.TOY.grad(x[2]))  # σ_eff = 0: the exact gradient


def test_floors_and_exponents(reduced):
    lion, smooth = reduced["runs"]["l1"], reduced["runs"]["logcosh"]
    for r in (lion, smooth):
        # Δ'_t ≥ 0 (ηλ = 0.015 < 1) up to rounding of terms of size ≤ 1
        assert r["min_Delta"] > -1e-12
        f = r["fits"]
        # the noise adds a floor: positive for every replica, increasing with σ_eff
        assert f["n_nonpositive_added_Delta"] == 0
        assert np.all(np.diff(f["added_floor_Delta"]) < 0)
        # with the exact gradient the running average decays like 1/T (transient term)
        assert f["T_exponent_Delta"]["mean"][-1] == pytest.approx(-1.0, abs=0.1)
    # measured laws (4 replicas, 95% intervals ≤ 0.05 here): Lion's added floor of Δ' ∝ σ_eff
    # (exponent −1/2 in b, the spec's order), logcosh's ∝ σ_eff² (exponent −1 in b)
    assert lion["fits"]["b_exponent_Delta"]["mean"] == pytest.approx(-0.5, abs=0.1)
    assert smooth["fits"]["b_exponent_Delta"]["mean"] == pytest.approx(-1.0, abs=0.1)


def test_report(reduced):
    rep = st.report(reduced)
    assert rep.verdict == "agrees with a qualification"
    assert rep.results["K"]["l1"]["b_exponent_Delta"]["ci95"] < 0.1
