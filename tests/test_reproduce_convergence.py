"""Tests of the discrete → continuous reproduction (lyapunov_lion.reproduce.convergence)."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.core.lyapunov import discrete_a, lyapunov_c
from lyapunov_lion.core.ode import continuous_from_discrete
from lyapunov_lion.reproduce import FIGURES, convergence


@pytest.fixture(scope="module")
def data():
    # reduced grid: 13 η from 0.04 to 0.0025 (ratio 2^(1/3)); l1, logcosh, huber
    return convergence.compute("reduced")


def test_eta_grid_contains_the_brief_values():
    for size in ("full", "reduced"):
        etas = convergence.eta_grid(size)
        assert np.all(np.diff(etas) < 0)
        for e in (0.04, 0.02, 0.01, 0.005, 0.0025):
            assert np.min(np.abs(etas - e)) < 1e-12 * e + 1e-15, (size, e)


def test_inverted_map_keeps_every_ode_coefficient_fixed():
    co = convergence.ode_coefficients()
    # α = γ = (1 − 0.99)/0.01 = 1 and ε = 0.01·0.1/0.01 = 0.1 up to the rounding of 1 − 0.99
    assert co["alpha"] == co["gamma"] == pytest.approx(1.0, rel=1e-13)
    assert co["eps"] == pytest.approx(0.1, rel=1e-13)
    etas = convergence.eta_grid("full")
    b = convergence.betas_for(etas, co)
    # β1 = 1 − εγ does not depend on η; β2 = 1 − αη does
    assert np.all(np.asarray(b["beta1"]) == pytest.approx(0.9, abs=1e-15))
    np.testing.assert_allclose(b["beta2"], 1 - co["alpha"] * etas, rtol=0, atol=1e-16)
    back = continuous_from_discrete(etas, b["beta1"], b["beta2"])
    # forward map of the inverted β: (1 − β2)/η loses ~1e-16/(αη) ≤ 1e-13 relative to the
    # cancellation in 1 − β2 at η ≥ 1e-3; 1e-11 leaves a margin of 100
    for k in ("alpha", "gamma", "eps"):
        np.testing.assert_allclose(back[k], co[k], rtol=1e-11)
    # every run is a scheme the explicit-decay theory covers: β1 ≤ β2 and ηλ < 1
    assert np.all(b["beta1"] <= b["beta2"]) and np.all(etas * convergence.LAM < 1)


def test_H_d_coefficient_tends_to_the_ODE_one():
    # a' = ηβ1/((1−β2) + ηλ(β2−β1)) with 1 − β2 = αη, β2 − β1 = εγ − αη equals
    # β1/(α + λ(εγ − αη)) exactly, and tends to c/α = (1−εγ)/(α(1+ελ)) when α = γ
    co = convergence.ode_coefficients()
    a, g, e, lam = co["alpha"], co["gamma"], co["eps"], convergence.LAM
    etas = np.geomspace(0.04, 1e-4, 10)
    b = convergence.betas_for(etas, co)
    ap = discrete_a(etas, b["beta1"], b["beta2"], lam, decay="explicit")
    # discrete_a forms 1 − β2 = αη by cancellation: relative rounding ≈ 1e-16/(αη) ≤ 1e-12 at
    # η ≥ 1e-4; rtol 1e-10 leaves a margin of 100
    np.testing.assert_allclose(ap, b["beta1"] / (a + lam * (e * g - a * etas)), rtol=1e-10)
    lim = lyapunov_c(lam, g, e) / a
    # a' − c/α = β1·λαη/((α + λεγ)(α + λ(εγ − αη))): linear in η, coefficient ≈ 1.0 here
    gap = np.abs(ap - lim)
    assert np.all(gap <= 1.5 * etas) and gap[-1] < 2e-4


def test_smooth_K_converge_at_first_order(data):
    etas = data["etas"]
    for name in ("logcosh", "huber"):
        r = data["runs"][name]
        # brief: the measured order of a smooth K is within 0.2 of 1 (explicit Euler)
        assert abs(r["order_sup"] - 1) <= 0.2, (name, r["order_sup"])
        # stronger: global Euler error C·η + O(η²) — the η² term is a few per cent of Cη at
        # η ≤ 0.04 (measured sup/η within 0.97–1.01), so sup/η varies by < 5 % over the grid
        ratio = r["sup"] / etas
        assert ratio.max() / ratio.min() < 1.05, (name, ratio)
        assert np.all(np.diff(r["sup"]) < 0), name


def test_l1_converges_at_rate_eta(data):
    etas = data["etas"]
    r = data["runs"]["l1"]
    # brief: the fitted order is positive (measured 0.886 on the reduced grid, 0.890 full)
    assert r["order_sup"] > 0.5, r["order_sup"]
    # first order with a fluctuating constant: 2.1η ≤ sup error ≤ 7.6η measured on the grid;
    # the bound Cη with C = 10 is what convergence at rate η means, with a 30 % margin
    assert np.all(r["sup"] <= 10 * etas), r["sup"] / etas
    # the RMS over k averages the switching delay out: order within 0.1 of 1 (measured 1.034)
    # and it decreases at every refinement of the grid
    assert abs(r["order_rms"] - 1) <= 0.1, r["order_rms"]
    assert np.all(np.diff(r["rms"]) < 0)
    # the ODE is a Filippov solution: coordinate 2 ends sliding on m̃₂ = 0, coordinate 1 on
    # the face x₁ = 1/λ of the box
    ref = r["ref"]
    assert ref.report.method == "filippov"
    assert ref.report.final_mode[1].startswith("sliding")
    np.testing.assert_allclose(ref.x[-1], [1 / convergence.LAM, 0.0], atol=1e-3)


def test_l1_sup_error_arises_at_the_sliding_entry(data):
    # the explanation given in the report: the sup is reached just after the ODE enters
    # sliding (the iterate switches a few steps late); 0.2 = 5 steps at the largest η
    r = data["runs"]["l1"]
    t_slide = [e[0] for e in r["ref"].report.events if "sliding" in e[3]]
    assert len(t_slide) == 1
    lag = r["where"] - t_slide[0]
    assert np.all((lag >= 0) & (lag <= 0.2)), lag


@pytest.mark.xfail(
    strict=True,
    reason=(
        "brief expected the l1 sup error to decrease monotonically in η; measured on the factor-2 "
        "grid η = 0.04, 0.02, 0.01, 0.005, 0.0025: 1.84e-1, 4.17e-2, 6.41e-2, 1.69e-2, 1.89e-2 "
        "(sup/η = 4.6, 2.1, 6.4, 3.4, 7.6): O(η) with a constant that depends on where the sign "
        "switch falls between grid points; see test_l1_converges_at_rate_eta"
    ),
)
def test_l1_sup_error_monotone_on_factor_two_grid(data):
    etas = data["etas"]
    idx = [int(np.argmin(np.abs(etas - e))) for e in (0.04, 0.02, 0.01, 0.005, 0.0025)]
    sup = data["runs"]["l1"]["sup"][idx]
    assert np.all(np.diff(sup) < 0), sup


def test_H_d_tends_to_H_over_alpha(data):
    # in phase 2 (t ≥ 3) |H_d(x_k, m_k) − H(x(kη), m(kη))/α| is O(η): a' − c/α = O(η) and the
    # states differ by O(η) (measured orders 0.97–0.99)
    for name, r in data["runs"].items():
        assert abs(r["order_H_gap_late"] - 1) <= 0.1, (name, r["order_H_gap_late"])
        assert np.all(r["H_gap_late"] <= 0.5 * data["etas"]), name


def test_run_convergence_writes_outputs(reproduce_reduced):
    out, data = reproduce_reduced("convergence")
    res = data["convergence"]["results"]
    assert abs(res["K"]["logcosh"]["order_sup"] - 1) <= 0.2
    assert res["K"]["l1"]["order_sup"] > 0
    assert out["convergence"]["verdict"] == "agrees"
    assert "convergence" in FIGURES


def test_ode_md_check_is_rerun_and_quoted_from_the_run(data):
    """The report's comparison with docs/ode.md's check quotes this run's numbers (issue 9 item 5):
    the orders are recomputed here (smooth K: first order within 0.05, the band of
    tests/test_ode.py; l1: O(η) with a fluctuating constant, within 0.75–1.25) and each appears
    in the report text as printed from the results."""
    om = data["ode_md_problem"]
    assert set(om) == {"relativistic", "sq_l2", "l1"}
    for name in ("relativistic", "sq_l2"):
        assert abs(om[name]["order"] - 1) <= 0.05, om[name]
    assert 0.75 <= om["l1"]["order"] <= 1.25, om["l1"]
    rep = convergence.report(data)
    text = "\n".join(rep.measured)
    for o in om.values():
        assert f"{o['order']:.3f}" in text
    assert ", ".join(f"{s:.2f}" for s in om["l1"]["local"]) in text
    assert rep.results["ode_md_problem"] is om
