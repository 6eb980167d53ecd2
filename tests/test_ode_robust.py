"""Robustness of the ODE simulator with default settings (issue 8): the user-facing cases, a
reduced regression grid, the d = 1 re-crossing, fallback, verified K and the integrator API."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from lyapunov_lion.cli import main as lionk
from lyapunov_lion.core.kfunc import make_K
from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.core.ode import ImplicitIntegrator, solve_lion_ode
from lyapunov_lion.errors import TheoryWarning
from lyapunov_lion.simulate import SimulationSpec, simulate
from lyapunov_lion.simulate_ode import OdeOptions, compare, simulate_ode

ACC = dict(lam=1.0, alpha=1.0, gamma=1.0, eps=0.1)


def test_cli_lion_at_paper_lambda(capsys):
    """`lionk simulate --K l1 --lam 1.5 --mode both` (failed before: a missed re-crossing) exits
    0 and the ODE ends within 1e-3 of the optimum (2/3, 0) of the induced problem."""
    assert lionk(["simulate", "--K", "l1", "--lam", "1.5", "--mode", "both", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ode"]["success"]
    np.testing.assert_allclose(out["ode"]["final"]["x"], [2 / 3, 0.0], rtol=0, atol=1e-3)


def test_d1_recrossing_right_after_a_crossing():
    """f = ½(x − 0.476)², x0 = m0 = 0: m̃ crosses 0 at t ≈ 1.081 and returns at t ≈ 1.106 (the
    event function starts at 0 on the new side); before the fix the return was missed and x
    ran to −1. The end point is the interior optimum 0.476 (sliding at m̃ = 0)."""
    obj = make_objective("quadratic", A=np.eye(1), c=[0.476])
    r = solve_lion_ode("l1", obj, [0.0], [0.0], t_final=20.0, rtol=1e-6, atol=1e-9, **ACC)
    assert r.success, r.message
    assert r.report.method == "filippov" and r.report.fallback is None
    assert [e[2] for e in r.report.events] == ["hit kink0 from above", "hit kink0 from below"]
    assert r.report.final_mode == ["sliding@kink0"]
    assert abs(r.x[-1, 0] - 0.476) < 1e-6


# (K, λ, case): the cases of the default grid that failed before (one per failure kind)
GRID = [
    ("l1", 0.5, "toy"),
    ("l1", 3.0, "quad5"),
    ("linf", 0.5, "toy"),
    ("l1_plus_sq", 0.5, "quad5"),
    ("deadzone", 0.5, "toy"),
]
CASES = {
    "toy": dict(objective="toy"),
    "quad5": dict(objective="quadratic", objective_params={"dim": 5}),
}


@pytest.mark.parametrize("K, lam, case", GRID)
def test_reduced_default_grid(K, lam, case):
    """`--mode both` with default settings: the ODE succeeds and ends within 5e-3 of the
    discrete end point (t = 10 = 10 000 steps of η = 1e-3; the O(η) gap measured on the full
    grid is ≤ 1.7e-3, benchmarks/bench_ode_grid.py)."""
    spec = SimulationSpec(K=K, lam=lam, **CASES[case])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        ode = simulate_ode(spec, OdeOptions())
        disc = simulate(spec)
    assert ode.result.success, ode.result.message
    assert compare(disc, ode)["final_distance"] <= 5e-3


def test_verified_K_uses_the_event_driven_mode():
    """A K verified from 'Abs(x) + x**2/2' carries its piecewise model (kink 0, levels ±1, slope
    1), so `auto` integrates it event-driven, and it matches the catalog l1_plus_sq run."""
    from lyapunov_lion.symbolic import K_from_expression

    K = K_from_expression("Abs(x) + x**2/2")
    pw = K.gradient_model()
    assert pw.kinks.tolist() == [0.0] and pw.levels.tolist() == [-1.0, 1.0] and pw.slope == 1.0
    obj = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.3])
    r = solve_lion_ode(K, obj, [0.0, 0.0], t_final=10.0, **ACC)
    ref = solve_lion_ode("l1_plus_sq", obj, [0.0, 0.0], t_final=10.0, **ACC)
    assert r.success and r.report.method == "filippov"
    np.testing.assert_allclose(r.x[-1], ref.x[-1], rtol=0, atol=1e-9)


def test_method_accepts_an_integrator_class_and_scipy_status():
    obj = make_objective("quadratic", A=np.eye(2), c=[2.0, 0.3])
    r = solve_lion_ode("l1", obj, [0.0, 0.0], t_final=5.0, method=ImplicitIntegrator, **ACC)
    assert r.report.method == "implicit" and r.status == 0 and r.success
    bad = solve_lion_ode("l1", obj, [0.0, 0.0], t_final=5.0, max_nfev=50, **ACC)
    assert bad.status == -1 and not bad.success and "nfev cap" in bad.message
    assert bad.report.fallback is None  # a budget stop is not continued by another integrator


def test_catalog_K_structure_protocol():
    from lyapunov_lion.core.ode.problem import KStructure

    for name in ("l1", "deadzone", "l1_plus_sq", "sq_l2", "linf"):
        assert isinstance(make_K(name), KStructure)
    assert make_K("deadzone", e=0.2).gradient_model().kinks.tolist() == [-0.2, 0.2]
    assert make_K("linf").gradient_model() is None and make_K("l1").hessian(np.ones(2)) is None
    np.testing.assert_allclose(make_K("logcosh").hessian(np.zeros(3)), np.eye(3))
