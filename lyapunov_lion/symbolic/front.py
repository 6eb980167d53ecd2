"""The front door of the symbolic layer: one call runs the pipeline, each stage once, in order,

    parse → pieces → convexity → conjugate → induced → certificates → report,

each stage a module that imports only the stages before it and the foundation modules (`record`,
`state`, `symbols`, `limits` and the helpers); every stage takes the previous stage's immutable
`state.Work` and returns a new one. `verify_any` takes k in x (separable K), K in x1, x2, … or a
catalog name; `verify` insists on a separable k, `verify_nonseparable` on K in x1, x2, ….
`K_from_expression` then builds the usable K (`kbuild`, injected into the certificates stage as
its K builder). Nothing below imports this module.
"""

from __future__ import annotations

import time

import sympy as sp

from ..core.kfunc import KFunction
from .certificates import certify
from .conjugate import derive_conjugate
from .convexity import decide_convexity
from .induced import induce
from .kbuild import K_from_report
from .limits import Budget
from .parse import NONSEPARABLE, SEPARABLE, parse_K
from .pieces import split
from .record import VerifyReport
from .report import finish


def verify_any(text: str, *, timeout: float = 20.0) -> VerifyReport:
    """Verify K given as k in x (separable K = Σk(x_i)), as K in x1, x2, … (non-separable) or
    as a catalog name (``huber:delta=0.5``, ``linf``: its expression form with exact parameters,
    verified like the typed expression, (v)/(v′) run on the catalog K itself).

    A text that is neither a valid expression nor a catalog name raises `LionKError` whose one
    line also lists the catalog names."""
    return _pipeline(text, None, timeout, None, True)


def verify(
    text_or_expr: str | sp.Expr,
    *,
    timeout: float = 20.0,
    per_call: float | None = None,
    certify: bool = True,
) -> VerifyReport:
    """Derive k*, ∇k*, dom k* and the induced problem of K(x) = Σ_i k(x_i) and certify the
    Lyapunov conditions of spec §4 (see `front`).

    ``certify``: also add (iv) the sympy proof of dH/dt = −Δ and (v)/(v′) the numerical check of
    the discrete inequality on the K built from the report (`certificates.attach_certificates`);
    False leaves that to the caller (e.g. to run (v) on a catalog K).

    ``text_or_expr``: k as text in ``x`` (parsed safely, never evaluated) or a sympy expression
    in one symbol. ``timeout``: total CPU seconds for the symbolic steps (``per_call``: per sympy
    call, default timeout/2); past it the failing step is named and a numerical conjugate is used.
    Raises `LionKError` for text outside the grammar or a k that is not finite on R.
    """
    return _pipeline(text_or_expr, SEPARABLE, timeout, per_call, certify)


def verify_nonseparable(text: str, *, timeout: float = 20.0, certify: bool = True) -> VerifyReport:
    """Verify a non-separable K given in x1, x2, ….

    Returns a `VerifyReport` with ``kind`` "norm" (sublinear K: K* = δ_C, dual norm, induced
    constraint) or "nonseparable" (a quadratic K gets K* in closed form; any other convexity
    only, its conjugate not handled yet). ``certify``: add (iv) and (v)/(v′), as `verify`."""
    return _pipeline(text, NONSEPARABLE, timeout, None, certify)


def _pipeline(
    text: str | sp.Expr, kind: str | None, timeout: float, per_call: float | None, full: bool
) -> VerifyReport:
    """The stages in order, each once; the time budget starts after parsing."""
    t0 = time.monotonic()
    work = parse_K(text, kind)
    budget = Budget(timeout, per_call if per_call is not None else timeout / 2)
    work = split(work, budget)
    work = decide_convexity(work, budget)
    work = derive_conjugate(work, budget)
    work = induce(work)
    work = certify(work, K_from_report, discrete=full)
    return finish(work, t0)


def K_from_expression(text: str, *, timeout: float = 20.0) -> KFunction:
    """`verify_any` ``text`` (k in x for a separable K, K in x1, x2, … for a non-separable one,
    or a catalog name) and return its catalog-compatible K; `LionKError` (one line) when a
    check FAILED."""
    return K_from_report(verify_any(text, timeout=timeout))
