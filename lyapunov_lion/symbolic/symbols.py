"""The symbols of the symbolic layer: x, the variable of a separable k (y, of k*, is
`scalar_conjugate.Y`)."""

from __future__ import annotations

import sympy as sp

X = sp.Symbol("x", real=True)
"""The variable of k(x) (real: sympy decides signs and simplifies roots with it)."""
