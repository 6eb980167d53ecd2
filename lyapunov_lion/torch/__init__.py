"""Lion-K for torch models: the `LionK` optimizer and the `LionKMonitor` of its constraint.

Needs the ``torch`` extra (``pip install 'lyapunov_lion[torch]'``); the core never imports this
package. A verified K comes from ``lyapunov_lion.symbolic.load_K`` (files written by
``lionk verify EXPR --save-K FILE``), re-exported here as `load_K`.
"""

from .monitor import LionKMonitor
from .optimizer import LionK
from .rules import K_from_spec, K_label, newton_schulz, polar_exact

__all__ = [
    "K_from_spec",
    "K_label",
    "LionK",
    "LionKMonitor",
    "load_K",
    "newton_schulz",
    "polar_exact",
]


def __getattr__(name):
    if name == "load_K":  # lazy: the symbolic layer imports sympy
        from ..symbolic.kfile import load_K

        return load_K
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
