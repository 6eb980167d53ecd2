"""Continuous-time Lion-K (spec §3): coefficient map, integrators, diagnostics and guards.

* `continuous_from_discrete` / `discrete_from_continuous`: α = γ = (1 − β2)/η, ε = η(1 − β1)/(1 − β2).
* `solve_lion_ode`: smooth K with scipy (Radau + analytic Jacobian or DOP853); K with a jumping
  ∇K (l1, deadzone, l1_plus_sq) with event-driven Filippov integration and sliding modes.
"""
from .coeffs import continuous_from_discrete, discrete_from_continuous
from .diagnostics import OdeDiagnostics, delta_with_selection, diagnose, run_guards
from .model import PiecewiseGradK, fd_hessian, hess_K, piecewise_model, resolve_hessian
from .solve import METHODS, OdeLionResult, OdeReport, solve_lion_ode

__all__ = ["continuous_from_discrete", "discrete_from_continuous", "solve_lion_ode",
           "OdeLionResult", "OdeReport", "OdeDiagnostics", "METHODS", "diagnose", "run_guards",
           "delta_with_selection", "PiecewiseGradK", "piecewise_model", "hess_K",
           "resolve_hessian", "fd_hessian"]
