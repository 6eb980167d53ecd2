"""`Work`: the immutable state threaded through the stages of the pipeline (a foundation module).

Each stage takes the previous stage's `Work` and returns a new one (`dataclasses.replace`), as
optax threads its optimizer state: ``parse`` builds it, ``pieces`` → ``convexity`` →
``conjugate`` → ``induced`` → ``certificates`` fill in ``report``, and the ``report`` stage hands
back the finished `VerifyReport`. Besides the report, ``Work`` carries what a later stage needs
and the record does not show: the variables, the catalog entry the input named, and for a
non-separable K its structure (homogeneity, exact linear pieces, quadratic forms, K*).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy as sp

from .catalog_input import CatalogInput
from .record import VerifyReport


@dataclass(frozen=True)
class Work:
    """The report so far and the facts later stages read.

    ``variables``: (x,) for a separable k, (x1, …, xn) for a non-separable K. ``catalog``: the
    catalog K the input named (its (v)/(v′) run on that K). For a non-separable K:
    ``homogeneity`` is the status of K(tx) = tK(x), t > 0 (FAILED: not homogeneous);
    ``forms`` the exact a_j of K = max_j a_jᵀx; ``quad`` (c, A) of K = c√(xᵀAx);
    ``quadratic`` (A, b, c) of K = ½xᵀAx + bᵀx + c, A ≻ 0; ``conj_expr`` K*(y1, …, yn) in
    closed form when derived (quadratic K)."""

    report: VerifyReport
    variables: tuple[sp.Symbol, ...]
    catalog: CatalogInput | None = None
    homogeneity: str | None = None
    forms: list[tuple[Any, ...]] | None = None
    quad: tuple[Any, Any] | None = None
    quadratic: tuple[Any, Any, Any] | None = None
    conj_expr: Any = None

    @property
    def separable(self) -> bool:
        """True for K(x) = Σ_i k(x_i) given by its scalar k."""
        return self.report.kind == "separable"
