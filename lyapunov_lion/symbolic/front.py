"""The front door of the symbolic layer: `verify_any` takes k in x (separable K), K in x1, x2, …
(non-separable, `nonseparable`) or a catalog name (`catalog_input`) and runs the pipeline
parse → pieces → convexity → gradient and conjugate → induced problem → certificates → report;
`K_from_expression` then builds the usable K (`kbuild`). Nothing below imports this module."""

from __future__ import annotations

import time
from dataclasses import replace

from ..core.kfunc import KFunction
from ..errors import LionKError
from .certificates import attach_certificates
from .kbuild import K_from_report
from .nonseparable import verify_nonseparable
from .report import VerifyReport
from .verify import verify


def K_from_expression(text: str, *, timeout: float = 20.0) -> KFunction:
    """`verify` ``text`` (k in x for a separable K, or K in x1, x2, … for a non-separable one)
    and return its catalog-compatible K; `LionKError` (one line) when a check FAILED."""
    return K_from_report(verify_any(text, timeout=timeout))


def verify_any(text: str, *, timeout: float = 20.0) -> VerifyReport:
    """`verify` for k in x, `verify_nonseparable` for K in x1, x2, …, and a catalog name
    (``huber:delta=0.5``, ``linf``): its expression form with exact parameters, verified like
    the typed expression, (v)/(v′) run on the catalog K itself (`catalog_input`).

    A text that is neither a valid expression nor a catalog name raises `LionKError` whose one
    line also lists the catalog names."""
    from ..core.expr import parse_expression
    from .catalog_input import parse_catalog_name, unknown_input_hint

    cat = parse_catalog_name(text)
    if cat is not None:
        return _verify_catalog_input(text, cat, timeout)
    try:
        names = parse_expression(text).names if isinstance(text, str) else ()
    except LionKError as exc:
        raise LionKError(f"{exc}; {unknown_input_hint()}") from None
    if len(names) >= 1 and names != ("x",):
        return verify_nonseparable(text, timeout=timeout)
    return verify(text, timeout=timeout)


def _verify_catalog_input(text: str, cat, timeout: float) -> VerifyReport:
    t0 = time.monotonic()
    if cat.kind == "norm":
        rep = verify_nonseparable(cat.expression, timeout=timeout, certify=False)
    else:
        rep = verify(cat.expression, timeout=timeout, certify=False)
    rep = replace(rep, text=text.strip(), catalog=cat.to_dict())
    rep = attach_certificates(rep, K=cat.K, source=f"the catalog K {cat.label()}")
    return replace(rep, seconds=time.monotonic() - t0)
