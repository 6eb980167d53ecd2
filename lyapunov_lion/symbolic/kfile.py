"""Save and load a verified K (above the pipeline and the front door).

``save_K(report, path)`` / ``load_K(path)`` store K as JSON: the expression, the derived formulas
(text, for reading) and a numerical fingerprint (k, k', k*, ∇k* at fixed points). Loading never
evaluates stored text: it re-parses the expression with the safe parser, re-derives everything
(`front.K_from_expression`), and refuses the file (`LionKError`) when the re-derived K disagrees
with the fingerprint.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..core.kfunc import KFunction
from ..core.serialize import read_json_file
from ..errors import LionKError
from .front import K_from_expression
from .kbuild import ExpressionK, K_from_report, NormFromExpression, expression_of
from .record import VerifyReport

FORMAT = "lyapunov_lion.K-expression"
VERSION = 1
FINGERPRINT_RTOL = 1e-8
"""Agreement of a re-derived K with the saved fingerprint: the same code gives identical numbers;
a different sympy may print an equivalent closed form (rounding ~1e-15) and the numerical
fallback conjugate is accurate to ~1e-10, far below this; a different K differs by O(1)."""
_FP_X = np.array([-3.0, -1.3, -0.4, -0.1, 0.0, 0.05, 0.3, 0.9, 2.2, 4.0])


def _fingerprint(K: KFunction) -> dict:
    if isinstance(K, ExpressionK):
        lo, hi = K.dom_bounds()
        a, b = max(lo, -5.0), min(hi, 5.0)
        ys = a + (b - a) * np.array([0.03, 0.2, 0.41, 0.5, 0.66, 0.87, 0.97])
        return {
            "x": _FP_X.tolist(),
            "k": K.k(_FP_X, np).tolist(),
            "dk": K.dk(_FP_X, np).tolist(),
            "y": ys.tolist(),
            "kconj": K.kconj(ys).tolist(),
            "dkconj": K.dkconj(ys).tolist(),
        }
    assert isinstance(K, NormFromExpression)  # the other kind K_from_report builds
    xs = np.stack([np.roll(_FP_X, 3 * i) for i in range(K.dim)], axis=-1)
    return {
        "x": xs.tolist(),
        "K": np.asarray(K.K(xs)).tolist(),
        "dual_norm": np.asarray(K.dual_norm(xs)).tolist(),
    }


def save_K(rep: VerifyReport, path) -> None:
    """Write the K of ``rep`` as JSON (module docstring); `LionKError` if it cannot be built."""
    K = K_from_report(rep)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "kind": rep.kind,
        "expression": expression_of(rep),
        "method": rep.method,
        "status": rep.status,
        "formulas": {
            "K": K.formula,
            "grad": K.grad_formula,
            "conj": K.conj_formula,
            "domain": (rep.conj or {}).get("domain_text"),
            "induced": K.induced,
            "induced_latex": K.induced_latex,
            "induced_kind": K.induced_kind,
        },
        "fingerprint": _fingerprint(K),
    }
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def load_K(path, *, timeout: float = 20.0) -> KFunction:
    """Read a K saved by `save_K`: re-derive it from the stored expression (safe parser, never
    eval) and check it against the stored fingerprint (relative 1e-8); `LionKError` otherwise."""
    data = read_json_file(path, "K file")
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LionKError(
            f"{path} is not a saved K (no format {FORMAT!r}); write one with "
            "`lionk verify EXPR --save-K FILE`"
        )
    if data.get("version") != VERSION:
        raise LionKError(
            f"{path}: K file version {data.get('version')!r} is not supported "
            f"(this version reads {VERSION})"
        )
    text = data.get("expression")
    if not isinstance(text, str):
        raise LionKError(f"{path}: the K file has no expression")
    K = K_from_expression(text, timeout=timeout)
    fp = data.get("fingerprint")
    if not isinstance(fp, dict):
        raise LionKError(
            f"{path}: the K file's fingerprint is not a table of numbers; save the K "
            "again with `lionk verify EXPR --save-K FILE`"
        )
    mine = _fingerprint(K)
    for key, want in mine.items():
        got = fp.get(key)
        try:
            got = np.asarray(got, dtype=float)
        except (TypeError, ValueError, OverflowError, RecursionError):
            got = None
        want = np.asarray(want, dtype=float)
        if (
            got is None
            or got.shape != want.shape
            or not np.all(
                (np.abs(got - want) <= FINGERPRINT_RTOL * (1 + np.abs(want)))
                | (np.isinf(got) & (got == want))
            )
        ):
            raise LionKError(
                f"{path}: the K re-derived from {text!r} does not match the saved "
                f"values of {key} (file edited, or derived by a different version)"
            )
    return K
