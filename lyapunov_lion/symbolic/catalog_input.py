"""Catalog names as input of `verify`: ``huber``, ``huber:delta=0.5``, ``power_p:p=4``, ``linf``.

A catalog K with an expression form is turned into that expression with its parameters
substituted as **exact rationals** (the decimal text ``0.5`` becomes 1/2, never a float), then
verified exactly like the same expression typed by hand; the report records the catalog K it came
from (``report.catalog``). Expression forms (``{name}`` = the parameter as an exact rational):

====================  ===============================================================  ==========
catalog K             expression                                                       kind
====================  ===============================================================  ==========
l1                    Abs(x)                                                           separable
sq_l2                 x**2/2                                                           separable
power_p (p)           Abs(x)**p/p                                                      separable
huber (δ)             Piecewise((x**2/2, Abs(x) <= δ), (δ·Abs(x) − δ²/2, True))        separable
relativistic          sqrt(1 + x**2)                                                   separable
logcosh               log(cosh(x))                                                     separable
deadzone (e)          Max(Abs(x) − e, 0)                                               separable
l1_plus_sq            Abs(x) + x**2/2                                                  separable
l2                    sqrt(x1**2 + x2**2)                                              2-D norm
linf                  Max(Abs(x1), Abs(x2))                                            2-D norm
====================  ===============================================================  ==========

``l1`` is given by its scalar k (a separable K certifies every dimension at once); ℓ2 and ℓ∞ are
not separable and are certified as 2-D norms (the catalog's K is the same norm in every d).
K without an expression form the engine handles (``lp``, ``logsumexp``, ``nuclear``, user
registrations) get a one-line `LionKError` saying so (`NO_EXPRESSION`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sympy as sp

from ..core.expr import parse_expression
from ..core.kfunc import KFunction, available_K, make_K
from ..errors import LionKError

CATALOG_TEMPLATES: dict[str, tuple[str, str]] = {
    "l1": ("Abs(x)", "separable"),
    "sq_l2": ("x**2/2", "separable"),
    "power_p": ("Abs(x)**({p})/({p})", "separable"),
    "huber": (
        "Piecewise((x**2/2, Abs(x) <= ({delta})), (({delta})*Abs(x) - ({delta})**2/2, True))",
        "separable",
    ),
    "relativistic": ("sqrt(1 + x**2)", "separable"),
    "logcosh": ("log(cosh(x))", "separable"),
    "deadzone": ("Max(Abs(x) - ({e}), 0)", "separable"),
    "l1_plus_sq": ("Abs(x) + x**2/2", "separable"),
    "l2": ("sqrt(x1**2 + x2**2)", "norm"),
    "linf": ("Max(Abs(x1), Abs(x2))", "norm"),
}
"""catalog name → (expression template with ``{param}`` placeholders, kind)."""

NO_EXPRESSION: dict[str, str] = {
    "lp": "‖x‖_p for a general p: its dual ball {‖y‖_q ≤ 1} is neither polyhedral nor an "
    "ellipsoid, which the non-separable engine needs (use l1, l2 or linf, or the catalog's "
    "hand-written K* = δ{‖y‖_q ≤ 1} via `lionk list`)",
    "logsumexp": "log Σ e^{x_i} is neither separable nor positively homogeneous: the engine "
    "certifies only its convexity (its K* = Σ y_i log y_i + δ{simplex} is "
    "hand-written in the catalog, see `lionk list`)",
    "nuclear": "a K of matrices (‖X‖_tr): verify takes K on vectors (its K* = δ{‖Y‖_op ≤ 1} is "
    "hand-written in the catalog, see `lionk list`)",
}
"""Why a catalog K has no expression form in `verify`."""

_NAME_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::(.*))?$")


@dataclass
class CatalogInput:
    """A catalog K requested by name: ``name``, ``params`` (exact rationals, defaults filled in),
    the built catalog ``K``, the ``expression`` (text, parameters substituted) and its ``kind``."""

    name: str
    params: dict
    K: KFunction
    expression: str
    kind: str

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "params": {k: str(v) for k, v in self.params.items()},
            "expression": self.expression,
            "kind": self.kind,
        }

    def label(self) -> str:
        """``huber (delta = 1/2)`` or ``linf``."""
        if not self.params:
            return self.name
        return f"{self.name} (" + ", ".join(f"{k} = {v}" for k, v in self.params.items()) + ")"


def _exact(key: str, text: str, name: str) -> sp.Rational:
    try:
        value = sp.Rational(text.strip())
    except (TypeError, ValueError, SyntaxError):
        raise LionKError(f"K={name}: parameter {key}={text.strip()!r} is not a number") from None
    if not value.is_finite:
        raise LionKError(f"K={name}: parameter {key}={text.strip()!r} is not a finite number")
    return value


def parse_catalog_name(text: str) -> CatalogInput | None:
    """``name[:p=v,...]`` → `CatalogInput`, or None when ``name`` is not a registered K.

    Values are decimal texts turned into exact rationals (``0.5`` → 1/2, ``1e-3`` → 1/1000);
    the K is built with `make_K` (which checks names and ranges of the parameters). Raises
    `LionKError` (one line) for a malformed parameter or a K without an expression form."""
    if not isinstance(text, str):
        return None
    match = _NAME_RE.match(text)
    if match is None or match.group(1) not in available_K():
        return None
    name, rest = match.group(1), match.group(2) or ""
    exact: dict[str, sp.Rational] = {}
    for item in (s for s in rest.split(",") if s.strip()):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise LionKError(
                f"K parameter {item.strip()!r} is not of the form name=value (e.g. huber:delta=0.5)"
            )
        exact[key.strip()] = _exact(key.strip(), value, name)
    K = make_K(name, **{k: float(v) for k, v in exact.items()})
    if name not in CATALOG_TEMPLATES:
        why = NO_EXPRESSION.get(name, "a K registered without an expression form")
        raise LionKError(f"K={name} has no expression form for verify: {why}")
    template, kind = CATALOG_TEMPLATES[name]
    params = {p.name: exact.get(p.name, sp.Rational(repr(float(p.default)))) for p in K.params}
    expression = str(parse_expression(template.format(**params)).expr) if params else template
    return CatalogInput(name, params, K, expression, kind)


def unknown_input_hint() -> str:
    """The list of catalog names with an expression form, for error messages."""
    return (
        "or a catalog K name: "
        + ", ".join(CATALOG_TEMPLATES)
        + " (with parameters as in huber:delta=0.5)"
    )
