"""`lionk verify NAME[:p=v]`: catalog names as input of the symbolic verifier."""

from __future__ import annotations

import json

import numpy as np
import pytest
import sympy as sp

from lyapunov_lion.cli import main
from lyapunov_lion.core.kfunc import make_K
from lyapunov_lion.errors import LionKError
from lyapunov_lion.symbolic import CHECKED, load_K, verify, verify_any
from lyapunov_lion.symbolic.catalog_input import CATALOG_TEMPLATES, parse_catalog_name

HUBER_HALF = "Piecewise((x**2/2, Abs(x) <= 1/2), (Abs(x)/2 - 1/8, True))"


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_huber_name_is_exactly_the_expression():
    by_name = verify_any("huber:delta=0.5")
    by_expr = verify(HUBER_HALF)
    assert by_name.catalog["expression"] == HUBER_HALF
    assert by_name.catalog["params"] == {"delta": "1/2"}
    assert by_name.expr == by_expr.expr  # the same exact sympy expression (1/2, not 0.5)
    assert by_name.conj == by_expr.conj
    assert by_name.conj_grad == by_expr.conj_grad
    assert by_name.induced == by_expr.induced
    assert by_name.conj["domain"] == ["-1/2", "1/2"] and by_name.conj["closed"] == [True, True]
    assert by_name.ok and by_name.text == "huber:delta=0.5"
    assert "the catalog K huber (delta = 1/2)" in by_name.discrete[0].detail


def test_huber_name_through_the_cli_json(capsys):
    code, out, _ = run(capsys, "verify", "huber:delta=0.5", "--json")
    assert code == 0
    d_name = json.loads(out)
    code, out, _ = run(capsys, "verify", HUBER_HALF, "--json")
    d_expr = json.loads(out)
    for key in ("k", "conj", "conj_grad", "induced", "grad", "convex", "method"):
        assert d_name[key] == d_expr[key], key
    assert d_name["catalog"] == {
        "name": "huber",
        "params": {"delta": "1/2"},
        "expression": HUBER_HALF,
        "kind": "separable",
    }
    assert d_expr["catalog"] is None


def test_decimal_parameters_become_exact_rationals():
    cat = parse_catalog_name("deadzone:e=0.1")
    assert cat.params == {"e": sp.Rational(1, 10)}
    assert cat.expression == "Max(0, Abs(x) - 1/10)"
    assert parse_catalog_name("power_p:p=4").expression == "x**4/4"
    assert parse_catalog_name("huber").params == {"delta": 1}  # the default, exactly
    assert parse_catalog_name("log(cosh(x))") is None  # not a name: an expression


def test_linf_gives_the_l1_ball_constraint(capsys):
    code, out, _ = run(capsys, "verify", "linf")
    assert code == 0
    assert "catalog K: linf, verified as the expression Max(Abs(x1), Abs(x2))" in out
    assert "Lion-K with this K solves  min_x f(x) s.t. ‖x‖₁ ≤ 1/λ" in out
    assert "K*(y) = δ{‖y‖₁ ≤ 1}" in out


def test_l2_gives_the_l2_ball_constraint(capsys):
    code, out, _ = run(capsys, "verify", "l2")
    assert code == 0 and "min_x f(x) s.t. ‖x‖₂ ≤ 1/λ" in out


CASES = [
    ("l1", {}),
    ("sq_l2", {}),
    ("power_p", {"p": "3/2"}),
    ("power_p", {"p": "4"}),
    ("huber", {"delta": "1"}),
    ("huber", {"delta": "0.5"}),
    ("relativistic", {}),
    ("logcosh", {}),
    ("deadzone", {"e": "0.1"}),
    ("l1_plus_sq", {}),
    ("l2", {}),
    ("linf", {}),
]


def test_every_template_is_covered():
    assert {name for name, _ in CASES} == set(CATALOG_TEMPLATES)


@pytest.mark.parametrize("name,params", CASES)
def test_derived_conjugate_matches_the_catalog(name, params):
    """The K* derived from the catalog K's expression equals the catalog's hand-written K*:
    values on a grid inside dom K* (1e-10 relative: two closed forms in float64) and +inf
    outside; for the norms, the derived dual norm equals the catalog's."""
    text = name + (":" + ",".join(f"{k}={v}" for k, v in params.items()) if params else "")
    rep = verify_any(text)
    assert rep.ok and rep.catalog["name"] == name
    K = make_K(name, **{k: float(sp.Rational(v)) for k, v in params.items()})
    if rep.kind == "norm":
        Y = np.random.default_rng(1).standard_normal((200, 2)) * 3
        np.testing.assert_allclose(rep.conjugate.gauge(Y), K.dual_norm(Y), rtol=1e-12)
        return
    conj = rep.conjugate
    lo, hi = K.dom_bounds()
    assert (float(conj.ymin), float(conj.ymax)) == (lo, hi)
    a, b = max(lo, -5.0), min(hi, 5.0)
    ys = a + (b - a) * np.linspace(0.01, 0.99, 57)
    np.testing.assert_allclose(conj(ys), K.conj(ys[:, None]), rtol=1e-10, atol=1e-12)
    outside = [v for v in (lo - 1.0, hi + 1.0) if np.isfinite(v)]
    assert np.all(np.isinf(conj(np.array(outside))))
    # (v) ran on the catalog K itself
    assert all(s.status == CHECKED for s in rep.discrete)
    assert f"the catalog K {name}" in rep.discrete[0].detail


@pytest.mark.parametrize("name", ["lp", "logsumexp", "nuclear", "lp:p=3"])
def test_K_without_expression_form_is_one_line(capsys, name):
    code, out, err = run(capsys, "verify", name)
    assert code == 2 and out == ""
    assert err.startswith(f"lionk: error: K={name.split(':')[0]} has no expression form")
    assert err.count("\n") == 1


@pytest.mark.parametrize("text", ["huberr", "foo:delta=1", "hub er"])
def test_unknown_name_lists_the_catalog(capsys, text):
    code, out, err = run(capsys, "verify", text)
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "or a catalog K name: l1, sq_l2, power_p, huber" in err and "linf" in err


@pytest.mark.parametrize(
    "text,msg",
    [
        ("huber:delta=-1", "out of range"),
        ("huber:gamma=1", "has no parameter gamma"),
        ("huber:delta=abc", "is not a number"),
        ("huber:delta", "not of the form name=value"),
    ],
)
def test_bad_parameters_are_one_line(capsys, text, msg):
    code, _, err = run(capsys, "verify", text)
    assert code == 2 and msg in err and err.count("\n") == 1
    with pytest.raises(LionKError):
        parse_catalog_name(text)


def test_save_K_of_a_catalog_name_stores_the_expression(capsys, tmp_path):
    path = tmp_path / "huber.json"
    code, out, _ = run(capsys, "verify", "huber:delta=0.5", "--save-K", str(path))
    assert code == 0 and f"saved K to {path}" in out
    data = json.loads(path.read_text())
    assert data["expression"] == HUBER_HALF
    K = load_K(path)
    ys = np.linspace(-0.49, 0.49, 11)
    np.testing.assert_allclose(K.kconj(ys), make_K("huber", delta=0.5).kconj(ys), rtol=1e-12)
