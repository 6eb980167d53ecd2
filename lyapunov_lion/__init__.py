"""lyapunov_lion: Lion-K optimizers as constrained optimization.

Lion with decoupled weight decay λ minimises f subject to ‖x‖_∞ ≤ 1/λ; Lion-K (sign replaced by
∇K of a convex K) minimises f(x) + (1/λ)K*(λx). This package simulates the discrete update and
the continuous-time ODE, evaluates the Lyapunov function of Chen et al. (ICLR 2024) along
trajectories, and verifies new K symbolically.
"""
from ._version import __version__
from .core.kfunc import KFunction, NormBallK, Param, SeparableK, available_K, make_K, register_K
from .core.discrete import LionKConfig, lion_k_step, lion_k_step_library, run_discrete

__all__ = [
    "__version__", "KFunction", "SeparableK", "NormBallK", "Param", "register_K", "make_K",
    "available_K", "LionKConfig", "lion_k_step", "lion_k_step_library", "run_discrete",
]
