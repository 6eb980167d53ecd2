"""The step-size controller of the implicit mode on its own (`core.ode.controller`): each branch
of the decision, the bounds of the factors, and the closed loop on a model error err = (h/h*)^{k+1}
(the local error of an order-k method)."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.core.ode.controller import ExtrapolationController, SwitchMonitor


@pytest.mark.parametrize("k", [2, 3, 4])
def test_accepted_step_proposes_the_size_that_meets_the_tolerance(k):
    """err ≤ 1 is accepted; the next size is 0.9·err^{−1/k}·h (the size whose estimate would be
    0.9^k), capped at 5h; err = 0 gives the cap."""
    c = ExtrapolationController(k)
    err = (0.9 / 2.0) ** k  # → factor exactly 2
    d = c.decide(0.1, err, 10.0)
    assert d.accept and not d.low_order and d.reason == "ok"
    assert d.h_next == pytest.approx(0.2, rel=1e-12)
    assert c.decide(0.1, 1.0, 10.0).accept  # the tolerance itself is accepted
    assert c.decide(0.1, 1e-30, 0.0).h_next == pytest.approx(0.5)
    assert c.decide(0.1, 0.0, 0.0).h_next == pytest.approx(0.5)


def test_rejections_shrink_within_bounds():
    """err > 1 and err1 > 1: rejected with a factor in [0.2, 0.9]; when extrapolation helps
    (err < ½err1) the order-k factor is used, otherwise the first-order one (err1^{−1/2})."""
    c = ExtrapolationController(4)
    smooth = c.decide(1.0, 2.0, 100.0)  # err < ½err1: 0.9·2^{−1/4}
    assert not smooth.accept and smooth.reason == "error"
    assert smooth.h_next == pytest.approx(0.9 * 2.0**-0.25)
    switch_inside = c.decide(1.0, 2.0, 3.0)  # err ≥ ½err1: 0.9·3^{−1/2}
    assert switch_inside.h_next == pytest.approx(0.9 / np.sqrt(3.0))
    assert c.decide(1.0, 1e12, 1e12).h_next == pytest.approx(0.2)  # floor
    assert c.decide(1.0, 1.0 + 1e-12, 1.0 + 1e-12).h_next == pytest.approx(0.9)  # ceiling
    assert c.failed(1.0) == pytest.approx(0.25)


def test_switch_estimate_rejects_a_step_the_tableau_accepts():
    """err ≤ 1 < err_sw: rejected as a switch, h·clip(0.9/err_sw, 0.2, 0.9)."""
    c = ExtrapolationController(4)
    d = c.decide(1.0, 0.5, 0.5, err_sw=3.0)
    assert not d.accept and d.reason == "switch" and d.h_next == pytest.approx(0.3)
    assert c.decide(1.0, 0.5, 0.5, err_sw=1.0).accept  # err_sw = 1 is within tolerance


def test_first_order_acceptance():
    """err > 1 ≥ err1: the first-order solution is accepted, next size 0.9·err1^{−1/2}·h."""
    d = ExtrapolationController(3).decide(1.0, 4.0, 0.25)
    assert d.accept and d.low_order and d.reason == "low_order"
    assert d.h_next == pytest.approx(1.8)


def test_step_shortened_for_an_output_time_keeps_the_proposal():
    """A step clipped to land on an output time (h < h_prop) proposes h_prop again, not a size
    derived from the short step; an unclipped accepted step grows from its own size."""
    c = ExtrapolationController(4)
    assert c.decide(0.01, 1e-8, 1e-8, h_prop=0.3).h_next == 0.3
    assert c.decide(0.3, 1e-8, 1e-8, h_prop=0.3).h_next == pytest.approx(1.5)


@pytest.mark.parametrize("k", [2, 3, 4])
def test_closed_loop_on_a_model_local_error(k):
    """err(h) = (h/h*)^{k+1}: from h = 1e-6·h* the controller reaches 0.2·h* … h* (the sizes it
    may settle at: 0.9^{k/(k+1)}·h* is the fixed point) within 20 steps, accepts no step with
    err > 1, and rejects none once settled."""
    c, h_star, h = ExtrapolationController(k), 0.37, 0.37e-6
    accepted = []
    for _ in range(60):
        err = (h / h_star) ** (k + 1)
        d = c.decide(h, err, 10 * err)
        if d.accept:
            assert err <= 1.0
            accepted.append(h)
        h = d.h_next
    assert all(0.2 * h_star <= a <= h_star for a in accepted[20:])
    fixed = 0.9 ** (k / (k + 1)) * h_star
    assert accepted[-1] == pytest.approx(fixed, rel=1e-6)


def test_switch_monitor_flags_an_accumulation_and_resets():
    """Eight switching steps in a row with h < 1e-4·h_clean flag an accumulation; a clean step
    or a passed accumulation resets the count; h_clean is the largest recent clean step."""
    m = SwitchMonitor()
    assert not m.accumulating(1e-12)  # no switches yet
    m.accepted(0.1, clean=True)
    m.accepted(0.05, clean=True)
    assert m.h_clean == 0.1
    for _ in range(7):
        m.accepted(1e-7, clean=False)
    assert not m.accumulating(1e-7)  # seven: not yet
    m.accepted(1e-7, clean=False)
    assert m.accumulating(1e-7) and not m.accumulating(1e-3)  # 1e-3 ≥ 1e-4·h_clean
    m.passed()
    assert not m.accumulating(1e-7)
    for _ in range(8):
        m.accepted(1e-7, clean=False)
    m.accepted(0.02, clean=True)
    assert not m.accumulating(1e-7) and m.h_clean == 0.1
