"""A fast sample of the property-based run of ``scripts/fuzz_inputs.py`` (the full run —
thousands of generated verify and simulate inputs in a worker with a time limit — is a script).

Properties: the safe parser and the domain check answer every generated expression with a value
or a `LionKError` (never another exception); simulate inputs drawn from the options' domains end
in exit 0, 1 or 2 with a one-line error and strict JSON; a k the verifier's domain check accepts
is finite at sample points."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from hypothesis import HealthCheck, given, settings

from lyapunov_lion.cli import main
from lyapunov_lion.core.expr import parse_expression, to_numpy
from lyapunov_lion.errors import LionKError

_SPEC = importlib.util.spec_from_file_location(
    "fuzz_inputs", Path(__file__).resolve().parents[1] / "scripts" / "fuzz_inputs.py"
)
fuzz = importlib.util.module_from_spec(_SPEC)
sys.modules["fuzz_inputs"] = fuzz
_SPEC.loader.exec_module(fuzz)

FAST = settings(
    max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)


@FAST
@given(fuzz.expressions("x"))
def test_parser_and_domain_check_answer_every_expression(text):
    from lyapunov_lion.symbolic.inputs import X, _check_finite

    try:
        p = parse_expression(text)
    except LionKError:
        return
    if p.names != ("x",):
        return
    expr = p.expr.xreplace({p.variables[0]: X})
    try:
        _check_finite(expr, budget_s=2.0)
    except LionKError:
        return
    # accepted: k is real and finite on R; float64 may overflow, never NaN on a grid
    with np.errstate(all="ignore"):
        v = np.asarray(to_numpy(p)(np.linspace(-5, 5, 41)), dtype=float)
    assert not np.any(np.isnan(v)), (text, v)


@settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
@given(fuzz.simulate_inputs())
def test_generated_simulate_inputs(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    info = {"code": code, "stderr": err, "seconds": 0.0, "json_ok": None}
    if "--json" in argv and code == 0:
        json.loads(out, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert fuzz.problems(argv, info) == [], (argv, err)
