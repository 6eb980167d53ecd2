"""The registered reproductions `FIGURES`, in report order (name → `FigureSpec`).

Its own module so that the runner and the worker processes import the registry from below the
package (`reproduce/__init__` re-exports it): the import graph stays one-way."""

from __future__ import annotations

from . import (
    confinement,
    connections,
    convergence,
    fig1,
    fig5,
    lam_sweep,
    lp_sweep,
    phases,
    stochastic,
)
from ._common import FigureSpec

FIGURES: dict[str, FigureSpec] = {
    m.NAME: FigureSpec(m.NAME, m.TITLE, m.build)
    for m in (
        fig1,
        fig5,
        phases,
        convergence,
        connections,
        stochastic,
        confinement,
        lam_sweep,
        lp_sweep,
    )
}
"""The registered reproductions, in report order."""
