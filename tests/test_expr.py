"""Safe expression parser: grammar, exactness, rejection of hostile input, numpy compilation."""

from __future__ import annotations

import builtins
import math

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from lyapunov_lion.core.expr import (
    MAX_DEPTH,
    MAX_LENGTH,
    ParsedExpression,
    lambdify_numpy,
    parse_expression,
    to_numpy,
)
from lyapunov_lion.errors import LionKError

X = sympy.Symbol("x", real=True)
X1, X2, X3 = sympy.symbols("x1 x2 x3", real=True)


# ---------------------------------------------------------------------------------------------
# numbers and variables
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("1/10*x", sympy.Rational(1, 10) * X),
        ("0.1*x", sympy.Rational(1, 10) * X),  # floats become exact decimals
        ("2.5 + x", sympy.Rational(5, 2) + X),
        ("1e-3*x", sympy.Rational(1, 1000) * X),
        ("3*x**2/2", sympy.Rational(3, 2) * X**2),
        ("x**0.5", sympy.sqrt(X)),
        ("-x + +x", sympy.Integer(0)),
        ("pi*x + E", sympy.pi * X + sympy.E),
    ],
)
def test_numbers_are_exact(text, expected):
    p = parse_expression(text)
    assert sympy.simplify(p.expr - expected) == 0
    assert not p.expr.atoms(sympy.Float)  # no binary floating point enters the symbolic tree


def test_integer_division_is_rational_not_float():
    assert parse_expression("1/3").expr == sympy.Rational(1, 3)
    assert isinstance(parse_expression("7").expr, sympy.Integer)


def test_variables_sorted_numerically_and_gaps_filled():
    p = parse_expression("x10 + x2")
    assert p.names == tuple(f"x{i}" for i in range(1, 11))
    assert p.dim == 10
    assert all(v.is_real for v in p.variables)


def test_single_x_is_a_scalar_function():
    p = parse_expression("sqrt(1 + x**2)")
    assert p.names == ("x",)
    assert p.expr == sympy.sqrt(1 + X**2)


def test_declared_variables_keep_order_and_reject_others():
    p = parse_expression("b - a", variables=["b", "a"])
    assert p.names == ("b", "a")
    assert parse_expression("x1 + x3", variables=3).names == ("x1", "x2", "x3")
    with pytest.raises(LionKError, match="unknown name 'x4'.*declared variables: x1, x2, x3"):
        parse_expression("x4", variables=3)


def test_unknown_name_message_says_how_to_fix():
    with pytest.raises(LionKError) as err:
        parse_expression("y + 1")
    msg = str(err.value)
    assert "unknown name 'y'" in msg and "x1, x2" in msg and "\n" not in msg


@pytest.mark.parametrize(
    "text, hint",
    [
        ("e*x", "Euler's number is E"),
        ("x0 + x1", "numbered from x1"),
        ("x + x1", "mix of x and x1"),
        ("x^2", r"use|write powers with \*\*"),
    ],
)
def test_helpful_hints(text, hint):
    with pytest.raises(LionKError, match=hint):
        parse_expression(text)


# ---------------------------------------------------------------------------------------------
# functions and Piecewise
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, expected",
    [
        ("abs(x)", sympy.Abs(X)),
        ("Abs(x)", sympy.Abs(X)),
        ("sqrt(x)", sympy.sqrt(X)),
        ("exp(x)", sympy.exp(X)),
        ("log(x)", sympy.log(X)),
        ("log(x, 2)", sympy.log(X, 2)),
        ("sin(x)", sympy.sin(X)),
        ("cos(x)", sympy.cos(X)),
        ("tan(x)", sympy.tan(X)),
        ("sinh(x)", sympy.sinh(X)),
        ("cosh(x)", sympy.cosh(X)),
        ("tanh(x)", sympy.tanh(X)),
        ("atan(x)", sympy.atan(X)),
        ("asinh(x)", sympy.asinh(X)),
        ("sign(x)", sympy.sign(X)),
        ("Heaviside(x)", sympy.Heaviside(X)),
        ("max(x, 0)", sympy.Max(X, 0)),
        ("Max(x, 1, 2)", sympy.Max(X, 2)),
        ("min(x, 0)", sympy.Min(X, 0)),
        ("Min(x, -1)", sympy.Min(X, -1)),
    ],
)
def test_allowed_functions_map_to_sympy(text, expected):
    assert parse_expression(text).expr == expected


def test_piecewise_with_compound_conditions_evaluates_like_numpy():
    p = parse_expression(
        "Piecewise((x1, (x1 > 0) & (x2 > 0)), (2*x2, x1 < -1 or not x2 <= 1), "
        "(0, 0 < x1 < 1), (-1, True))"
    )
    fn = to_numpy(p)
    pts = np.array([[0.5, 0.5], [-2.0, 0.0], [0.0, 3.0], [0.5, -1.0], [-0.5, -1.0]])
    got = fn(pts[:, 0], pts[:, 1])

    def ref(a, b):
        if a > 0 and b > 0:
            return a
        if a < -1 or not b <= 1:
            return 2 * b
        if 0 < a < 1:
            return 0.0
        return -1.0

    np.testing.assert_array_equal(got, [ref(a, b) for a, b in pts])


def test_huber_written_as_piecewise():
    p = parse_expression("Piecewise((x**2/2, Abs(x) <= 1), (Abs(x) - 1/2, True))")
    z = np.linspace(-3, 3, 13)
    np.testing.assert_allclose(
        to_numpy(p)(z), np.where(np.abs(z) <= 1, z * z / 2, np.abs(z) - 0.5), rtol=0, atol=1e-15
    )


# ---------------------------------------------------------------------------------------------
# rejection of everything else
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text, fragment",
    [
        ("x.__class__", "attribute access"),
        ("().__class__", "attribute access"),
        ("__import__('os')", "dunder names"),
        ("__builtins__", "dunder names"),
        ("[x]", "lists"),
        ("x[0]", "indexing"),
        ("lambda: 1", "lambda"),
        ("open('f')", "unknown function 'open'"),
        ("eval('1')", "unknown function 'eval'"),
        ("'abc'", "strings"),
        ("f'{x}'", "strings"),
        ("exp(x=1)", "keyword arguments"),
        ("exp(*x)", "unpacking"),
        ("[i for i in x]", "comprehensions"),
        ("(i for i in x)", "generator"),
        ("{x: 1}", "dicts"),
        ("x if x > 0 else 0", "Piecewise"),
        ("(y := 2)", "assignment"),
        ("x > 0", "only allowed inside Piecewise"),
        ("x and 1", "only allowed inside Piecewise"),
        ("x // 2", "'//'"),
        ("x % 2", "'%'"),
        ("1j*x", "complex"),
        ("True + x", "True/False"),
        ("sqrt(x, 2)", "takes 1 argument"),
        ("Piecewise(x)", "pairs"),
        ("Piecewise((x, x))", "condition must be a comparison"),
        ("exp", "must be called"),
        ("1/0", "division by zero"),
        ("log(0)", "undefined or infinite"),
        ("x +", "cannot parse"),
        ("", "empty"),
        ("x; 1", "cannot parse"),
    ],
)
def test_rejected_with_one_line_message(text, fragment):
    with pytest.raises(LionKError, match=fragment) as err:
        parse_expression(text)
    assert "\n" not in str(err.value)


def test_size_limits():
    with pytest.raises(LionKError, match="too long"):
        parse_expression("x + " * (MAX_LENGTH // 4) + "x")
    with pytest.raises(LionKError, match="nested too deeply"):
        parse_expression("-" * (MAX_DEPTH + 5) + "x")
    with pytest.raises(LionKError, match="exponent .* too large"):
        parse_expression("x**100000")
    with pytest.raises(LionKError, match="too large"):
        parse_expression("9**9**9**9")  # would otherwise build a number with 10^8 digits
    with pytest.raises(LionKError, match="too large"):
        parse_expression("(9**999)*(9**999)")


def test_non_string_input():
    with pytest.raises(LionKError, match="must be a string"):
        parse_expression(3)


MALICIOUS = [
    "__import__('os').system('touch {path}')",
    "open('{path}', 'w')",
    "().__class__.__bases__[0].__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "lambda: open('{path}', 'w')",
    "exec(\"open('{path}', 'w')\")",
    "x.__class__",
    "[x]",
]


@pytest.mark.parametrize("template", MALICIOUS)
def test_malicious_input_is_never_executed(template, tmp_path, monkeypatch):
    target = tmp_path / "pwned"
    calls = []
    real_import = builtins.__import__

    def spy_import(name, *args, **kwargs):
        if name in ("os", "subprocess"):
            calls.append(name)
        return real_import(name, *args, **kwargs)

    def no_eval(*args, **kwargs):
        calls.append("eval/exec")
        raise AssertionError("eval/exec called while parsing")

    monkeypatch.setattr(builtins, "__import__", spy_import)
    monkeypatch.setattr(builtins, "eval", no_eval)
    monkeypatch.setattr(builtins, "exec", no_eval)
    with pytest.raises(LionKError):
        parse_expression(template.format(path=target))
    assert not target.exists()
    assert calls == []


def test_parsing_valid_input_never_calls_eval_or_exec(monkeypatch):
    # the parser itself (not lambdify) must never reach eval/exec, even on rich valid input
    def no_eval(*args, **kwargs):
        raise AssertionError("eval/exec called while parsing")

    monkeypatch.setattr(builtins, "eval", no_eval)
    monkeypatch.setattr(builtins, "exec", no_eval)
    p = parse_expression(
        "Piecewise((x1**2/2, Abs(x1) <= 1), (Abs(x1) - 0.5, True)) "
        "+ log(cosh(x2)) + Max(x3, 0) + sqrt(1 + x2**2) + 0.25*pi"
    )
    assert p.dim == 3


# ---------------------------------------------------------------------------------------------
# numpy compilation
# ---------------------------------------------------------------------------------------------
def test_to_numpy_broadcasts_and_handles_constants():
    fn = to_numpy(parse_expression("x1*x2 + 1"))
    out = fn(np.arange(3.0)[:, None], np.arange(4.0)[None, :])
    np.testing.assert_array_equal(out, np.arange(3.0)[:, None] * np.arange(4.0)[None, :] + 1)
    const = lambdify_numpy(sympy.Integer(2), (X1, X2))
    assert const(np.zeros(5), np.zeros(5)).shape == (5,)
    with pytest.raises(LionKError, match="takes 2 argument"):
        fn(np.zeros(3))


def test_parsed_expression_is_a_dataclass_with_sympy_fields():
    p = parse_expression("(x1 - 1.5)**2 + x2**2")
    assert isinstance(p, ParsedExpression)
    assert p.expr == (X1 - sympy.Rational(3, 2)) ** 2 + X2**2
    assert p.variables == (X1, X2)


# Property: random expressions from the grammar evaluate, after parse + lambdify, to the same
# numbers as a direct numpy evaluation built alongside the text. Tolerance 1e-9 relative: both
# sides evaluate the same operations in float64, differing only by reassociation in sympy's
# canonical form (a few ulps per operation on values kept in [1e-3, 1e3] by construction).
_LEAVES = st.sampled_from(
    [
        ("x1", lambda a, b: a),
        ("x2", lambda a, b: b),
        ("2", lambda a, b: 2.0),
        ("0.5", lambda a, b: 0.5),
        ("pi", lambda a, b: math.pi),
    ]
)


def _combine(children):
    unary = st.sampled_from(
        [
            ("exp(tanh({}))", lambda v: np.exp(np.tanh(v))),
            ("sqrt(1 + ({})**2)", lambda v: np.sqrt(1 + v**2)),
            ("abs({})", np.abs),
            ("-({})", np.negative),
            ("atan({})", np.arctan),
            ("log(cosh({}) + 1)", lambda v: np.log(np.cosh(v) + 1)),
        ]
    )
    binary = st.sampled_from(
        [
            ("({}) + ({})", np.add),
            ("({}) - ({})", np.subtract),
            ("({}) * ({})", np.multiply),
            ("max({}, {})", np.maximum),
            ("min({}, {})", np.minimum),
        ]
    )
    un = st.tuples(unary, children).map(
        lambda t: (t[0][0].format(t[1][0]), lambda a, b, f=t[0][1], g=t[1][1]: f(g(a, b)))
    )
    bi = st.tuples(binary, children, children).map(
        lambda t: (
            t[0][0].format(t[1][0], t[2][0]),
            lambda a, b, f=t[0][1], g=t[1][1], h=t[2][1]: f(g(a, b), h(a, b)),
        )
    )
    return un | bi


@settings(max_examples=60, derandomize=True, deadline=None)
@given(st.recursive(_LEAVES, _combine, max_leaves=6))
def test_random_expressions_match_numpy(pair):
    text, ref = pair
    p = parse_expression(text, variables=2)
    a = np.array([-1.3, 0.2, 0.7, 1.9])
    b = np.array([0.4, -0.8, 1.1, -0.05])
    np.testing.assert_allclose(
        to_numpy(p)(a, b), ref(a, b) * np.ones_like(a), rtol=1e-9, atol=1e-12
    )
