"""A small real-training use case for Lion-K: sklearn's bundled digits, an MLP and a small CNN.

``train(model="mlp", dataset="digits", K="l1", lam=10.0, ...)`` trains with `LionK`, watches the
constraint with `LionKMonitor`, and returns a `TrainResult` with JSON-ready ``metrics`` and the
monitor's history. torch and scikit-learn are imported when used (extras ``torch`` and
``experiments``), never by the core.
"""

from .run import TrainResult, train

__all__ = ["TrainResult", "train"]
