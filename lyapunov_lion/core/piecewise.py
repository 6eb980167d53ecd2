"""`PiecewiseGradK`: the piecewise-affine model of the scalar derivative of a separable K whose
gradient jumps, k'(v) = slope·v + level_r on the open interval r between consecutive kinks
c_0 < c_1 < ... (a jump at each kink; at c_j the subdifferential is [level_j, level_{j+1}] +
slope·c_j). K objects return it from ``gradient_model()`` (see `core.ode.problem.KStructure`);
the event-driven ODE integrator needs it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["PiecewiseGradK"]


@dataclass(frozen=True)
class PiecewiseGradK:
    """k'(v) = slope·v + levels[r] for v in region r = #{j : c_j < v}; kinks c_0 < c_1 < ..."""

    kinks: NDArray[np.float64]
    levels: NDArray[np.float64]
    slope: float = 0.0

    def region(self, v: Any) -> NDArray[np.intp]:
        """Region index of each v (a value exactly on a kink counts in the region below it)."""
        return np.searchsorted(self.kinks, np.asarray(v), side="left")

    def branch(self, v: Any, r: Any) -> NDArray[np.float64]:
        """The smooth branch of region r, extended past its ends: slope·v + levels[r]."""
        return np.asarray(self.slope * np.asarray(v) + self.levels[np.asarray(r)], dtype=np.float64)

    def interval(self, j: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """The subdifferential at kink j: (lo, hi) = (levels[j], levels[j+1]) + slope·c_j."""
        j = np.asarray(j)
        s = self.slope * self.kinks[j]
        return self.levels[j] + s, self.levels[j + 1] + s
