"""Continuous-time Lion-K (spec §3): coefficient map, integrators, diagnostics and guards.

* `continuous_from_discrete` / `discrete_from_continuous`: α = γ = (1 − β2)/η,
  ε = η(1 − β1)/(1 − β2).
* `solve_lion_ode`: smooth K with scipy (Radau + analytic Jacobian when stiff, else DOP853); K
  with a jumping ∇K: l1, deadzone, l1_plus_sq (ε > 0) by event-driven Filippov integration with
  sliding modes; linf, l2, lp (and the former at ε = 0) by extrapolated implicit substeps that
  resolve s ∈ ∂K(m̃) with K.prox (`implicit`, `inclusion`); matrix K (nuclear) on vec(X) through
  the `matrix.FlatMatrixK` adapter.
"""

from .coeffs import continuous_from_discrete, discrete_from_continuous
from .diagnostics import OdeDiagnostics, delta_with_selection, diagnose, run_guards
from .filippov import FilippovIntegrator
from .implicit import ImplicitIntegrator, ImplicitRun, integrate_implicit
from .inclusion import prox_conj, resolve_selection, set_valued_pattern
from .matrix import FlatMatrixK, FrobeniusQuadratic, flatten_objective
from .model import PiecewiseGradK, fd_hessian, hess_K, piecewise_model, resolve_hessian
from .plain import PlainIntegrator
from .problem import KStructure, LionProblem
from .run import OdeRun, SolveOptions
from .solve import INTEGRATORS, METHODS, OdeLionResult, OdeReport, solve_lion_ode

__all__ = [
    "continuous_from_discrete",
    "discrete_from_continuous",
    "solve_lion_ode",
    "OdeLionResult",
    "OdeReport",
    "OdeDiagnostics",
    "METHODS",
    "diagnose",
    "run_guards",
    "delta_with_selection",
    "PiecewiseGradK",
    "piecewise_model",
    "hess_K",
    "resolve_hessian",
    "fd_hessian",
    "integrate_implicit",
    "ImplicitRun",
    "resolve_selection",
    "prox_conj",
    "set_valued_pattern",
    "FlatMatrixK",
    "FrobeniusQuadratic",
    "flatten_objective",
    "KStructure",
    "LionProblem",
    "OdeRun",
    "SolveOptions",
    "FilippovIntegrator",
    "ImplicitIntegrator",
    "PlainIntegrator",
    "INTEGRATORS",
]
