"""Spec §7 connections: Lion-K with the mapped settings equals the textbook algorithms."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.reproduce import FIGURES
from lyapunov_lion.reproduce import connections as cx


@pytest.fixture(scope="module")
def reduced():
    return cx.compute("reduced")


def test_registered():
    assert "connections" in FIGURES


def test_every_discrete_row_matches_its_textbook_algorithm(reduced):
    rows = {r["row"]: r for r in reduced["discrete"]}
    assert len(rows) == 12
    for name, r in rows.items():
        # the same arithmetic in two orders: a few ulps per step on |x| ≤ 3, not amplified by
        # these stable maps (measured ≤ 4e-15); 1e-12 leaves 250× margin yet fails for any
        # wrong parameter map (which differs at O(η) from the first steps)
        assert r["max_diff"] <= cx.TOL_DISCRETE, (name, r["max_diff"])
    # sign-based rows never round differently: the maps are bit-identical
    for name in ("signed momentum", "signSGD", "Lion"):
        assert rows[name]["max_diff"] == 0.0
    # Frank–Wolfe runs end on the unit ball of the dual norm (the constraint is active)
    for name in ("Frank–Wolfe, ℓ∞ ball", "Frank–Wolfe, ℓ2 ball", "Frank–Wolfe, ℓ1 ball"):
        assert rows[name]["final_dual_norm"] == pytest.approx(1.0, abs=1e-3)
    # Hamiltonian descent: H = f + K(m) never rises beyond rounding
    assert rows["Hamiltonian descent"]["H_n_increases"] == 0


def test_a_wrong_map_is_detected():
    # heavy ball with η = a (forgetting the factor 1/(1 − b) of the EMA) is not heavy ball
    X, _ = cx.lionk_path("sq_l2", cx.X0, 50, lr=0.05, beta1=0.9, beta2=0.9, lam=0.0)
    Y = cx.heavy_ball(cx.textbook_grad, cx.X0, 0.05, 0.9, 50)
    assert np.abs(X - Y).max() > 1e-3
    # Nesterov needs β1 = μ², not β1 = μ (that is heavy ball)
    X, _ = cx.lionk_path("sq_l2", cx.X0, 50, lr=0.5, beta1=0.9, beta2=0.9, lam=0.0)
    Y = cx.nesterov(cx.textbook_grad, cx.X0, 0.05, 0.9, 50)
    assert np.abs(X - Y).max() > 1e-3


def test_ode_rows_and_fast_limit(reduced):
    for r in reduced["ode"]:
        # both integrators at rtol 1e-10 over t ≤ 10: each ~1e-9 accurate
        assert r["max_diff"] <= cx.TOL_ODE, r
    fast = reduced["fast"]
    errors = np.asarray(fast["errors"])
    # the error shrinks with the time-scale ratio, at first order
    assert np.all(np.diff(errors) < 0)
    assert cx.SLOPE_RANGE[0] <= fast["slope"] <= cx.SLOPE_RANGE[1]


def test_report_verdict_and_table(reduced):
    rep = cx.report(reduced)
    assert rep.verdict == "agrees with a qualification"
    rows = [line for line in rep.measured if line.startswith("| ") and "---" not in line][1:]
    # one measured number (or the explicit "not measured") per row of the table
    assert len(rows) == 12 + 2 + 1 + 1
    assert rep.results["all_hold"]
