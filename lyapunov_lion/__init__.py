"""lyapunov_lion: Lion-K optimizers as constrained optimization.

Lion with decoupled weight decay λ minimises f subject to ‖x‖_∞ ≤ 1/λ; Lion-K (sign replaced by
∇K of a convex K) minimises f(x) + (1/λ)K*(λx). This package simulates the discrete update and
the continuous-time ODE, evaluates the Lyapunov function of Chen et al. (ICLR 2024) along
trajectories, and verifies new K symbolically.

The core (``lyapunov_lion.core``: K catalog, dynamics, Lyapunov diagnostics, objectives,
reference optima) imports numpy/scipy/sympy only; the use cases (`simulate`, `simulate_ode`,
``lyapunov_lion.symbolic.verify``, ``lyapunov_lion.reproduce.run``) sit on top; the CLI
(``lionk``) and the figures (``lyapunov_lion.plotting``) on top of those.
"""
from ._version import __version__
from .core.discrete import LionKConfig, lion_k_step, lion_k_step_library, run_discrete
from .core.kfunc import KFunction, NormBallK, Param, SeparableK, available_K, make_K, register_K
from .core.lyapunov import diagnose_discrete, discrete_H, kkt_score, lyapunov_H
from .core.objectives import Objective, available_objectives, make_objective
from .core.reference import constrained_optimum
from .errors import LionKError, NumericalFailure, TheoryWarning

__all__ = [
    "__version__", "KFunction", "SeparableK", "NormBallK", "Param", "register_K", "make_K",
    "available_K", "LionKConfig", "lion_k_step", "lion_k_step_library", "run_discrete",
    "diagnose_discrete", "discrete_H", "kkt_score", "lyapunov_H", "Objective",
    "available_objectives", "make_objective", "constrained_optimum", "LionKError",
    "NumericalFailure", "TheoryWarning",
]
