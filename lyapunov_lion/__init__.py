"""lyapunov_lion: Lion-K optimizers as constrained optimization.

Lion with decoupled weight decay λ minimises f subject to ‖x‖_∞ ≤ 1/λ; Lion-K (sign replaced by
∇K of a convex K) minimises f(x) + (1/λ)K*(λx). This package simulates the discrete update and
the continuous-time ODE, evaluates the Lyapunov function of Chen et al. (ICLR 2024) along
trajectories, and verifies new K symbolically.

The core (``lyapunov_lion.core``: K catalog, dynamics, Lyapunov diagnostics, objectives,
reference optima) imports numpy/scipy/sympy only; the use cases (`simulate`, `simulate_ode`,
``lyapunov_lion.symbolic.verify``, ``lyapunov_lion.reproduce.run``) sit on top; the CLI
(``lionk``) and the figures (``lyapunov_lion.plotting``) on top of those.

The names below are imported lazily (PEP 562 module ``__getattr__``): ``import lyapunov_lion``
loads neither numpy nor scipy nor sympy until one of them is used, so ``lionk --version`` is fast.
"""

from __future__ import annotations

import importlib
import sys
import types

from ._version import __version__
from .errors import LionKError, NumericalFailure, TheoryWarning

_LAZY = {
    "LionKConfig": ".core.discrete",
    "lion_k_step": ".core.discrete",
    "lion_k_step_library": ".core.discrete",
    "run_discrete": ".core.discrete",
    "KFunction": ".core.kfunc",
    "NormBallK": ".core.kfunc",
    "Param": ".core.kfunc",
    "SeparableK": ".core.kfunc",
    "available_K": ".core.kfunc",
    "make_K": ".core.kfunc",
    "register_K": ".core.kfunc",
    "diagnose_discrete": ".core.lyapunov",
    "discrete_H": ".core.lyapunov",
    "kkt_score": ".core.lyapunov",
    "lyapunov_H": ".core.lyapunov",
    "Objective": ".core.objectives",
    "available_objectives": ".core.objectives",
    "make_objective": ".core.objectives",
    "constrained_optimum": ".core.reference",
    "solve_lion_ode": ".core.ode",
    "simulate": ".simulate",
    "SimulationSpec": ".simulate",
    "verify": ".symbolic",
    "verify_any": ".symbolic",
}
"""Public name → module that defines it (relative to this package)."""

__all__ = ["__version__", "LionKError", "NumericalFailure", "TheoryWarning", *_LAZY]


def __getattr__(name: str):
    """Import a public name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lyapunov_lion' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


class _Package(types.ModuleType):
    """Keeps ``lyapunov_lion.simulate`` the *function* even after the submodule of the same name
    is imported (the import system would otherwise bind the module to the package attribute)."""

    def __setattr__(self, name, value):
        if isinstance(value, types.ModuleType) and _LAZY.get(name) == "." + name:
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
