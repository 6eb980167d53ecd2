"""Stage 1 of the pipeline, parse: text (or a sympy expression) → the parsed K, a `Work`.

The input is, in this order: a catalog name (``huber:delta=0.5``, ``linf``: its expression form
with exact parameters), k in the single variable x (a separable K(x) = Σ_i k(x_i)), or K in
x1, x2, … (non-separable); it is read safely (never ``eval``) and must be finite and real on all
of Rⁿ (`inputs`). The report of the `Work` holds the text, K as text and LaTeX, the sympy
expression, the kind and the catalog entry the input named.

The first stage: it imports no other.
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp

from .inputs import NONSEPARABLE, SEPARABLE, classify, read_K, read_k
from .record import SKIPPED, VerifyReport
from .state import Work
from .symbols import X

__all__ = ["NONSEPARABLE", "SEPARABLE", "parse_K"]


def parse_K(text_or_expr: str | sp.Expr, kind: str | None = None) -> Work:
    """The `Work` of the input. ``kind`` None decides it (`inputs.classify`: a catalog name,
    k in x, or K in x1, x2, …); SEPARABLE / NONSEPARABLE insist on it (as `verify` /
    `verify_nonseparable`: a catalog name is then not looked up)."""
    source, cat = text_or_expr, None
    if kind is None:
        kind, source, cat = classify(text_or_expr)
    if kind == NONSEPARABLE:
        variables, expr = read_K(str(source))
        text = str(source)
    else:
        text, expr = read_k(source)
        variables = (X,)
    report = VerifyReport(
        text=text,
        k={"text": str(expr), "latex": sp.latex(expr), "pieces_text": []},
        convex=SKIPPED,
        method="none",
        expr=expr,
        kind=kind,
    )
    if cat is not None:  # the report names the catalog K; (v)/(v′) will run on it
        report = replace(report, text=str(text_or_expr).strip(), catalog=cat.to_dict())
    return Work(report, variables, catalog=cat)
