"""`lionk verify` / `lionk simulate --K-expr/--K-file`: the verify-then-simulate workflow."""

from __future__ import annotations

import json

import numpy as np
import pytest

from lyapunov_lion.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _solves(out: str) -> str:
    line = next(ln for ln in out.splitlines() if ln.startswith("solves"))
    return line.removeprefix("solves   min f(x) ").split("   →  ")[0]


@pytest.mark.parametrize("expr", ["log(cosh(x))", "Max(Abs(x1), Abs(x2))"])
def test_simulate_K_expr_solves_what_verify_says(capsys, expr):
    code, out, err = run(capsys, "simulate", "--K-expr", expr, "--lam", "1.5", "--steps", "2000")
    assert code == 0, err
    code_v, out_v, _ = run(capsys, "verify", expr)
    assert code_v == 0
    verified = next(ln for ln in out_v.splitlines() if "Lion-K with this K solves" in ln)
    assert verified.split("solves  min_x f(x) ")[1] == _solves(out)


def test_simulate_K_expr_json_matches_catalog_run(capsys):
    code, out, err = run(
        capsys, "simulate", "--json", "--K-expr", "log(cosh(x))", "--steps", "3000"
    )
    assert code == 0, err
    mine = json.loads(out)
    code, out, _ = run(capsys, "simulate", "--json", "--K", "logcosh", "--steps", "3000")
    ref = json.loads(out)
    # same K up to rounding of two closed forms of log cosh (1e-15): identical runs to 1e-12
    np.testing.assert_allclose(mine["final"]["x"], ref["final"]["x"], atol=1e-12)
    assert mine["constraint"].startswith("s.t. ‖x‖_∞ ≤ 2/3")


@pytest.mark.parametrize("extra", [("--K", "linf"), ("--K-param", "p=2"), ("--K-file", __file__)])
def test_K_given_twice_is_one_line_error(capsys, extra):
    code, out, err = run(capsys, "simulate", "--K-expr", "Abs(x)", *extra)
    assert code == 2 and err.startswith("lionk: error: give K one way only")
    assert err.count("\n") == 1 and out == ""


def test_nonconvex_K_expr_is_one_line_error(capsys):
    code, _, err = run(capsys, "simulate", "--K-expr", "sin(x)")
    assert code == 2 and "convexity FAILED" in err and err.count("\n") == 1


@pytest.mark.parametrize("expr", ["Abs(x) + x**2/2", "sqrt(x1**2 + x2**2)"])
def test_save_K_then_simulate_K_file(capsys, tmp_path, expr):
    path = tmp_path / "k.json"
    code, out, err = run(capsys, "verify", expr, "--save-K", str(path))
    assert code == 0 and f"saved K to {path}" in out
    code, out_f, err = run(capsys, "simulate", "--K-file", str(path), "--steps", "1500")
    assert code == 0, err
    code, out_e, _ = run(capsys, "simulate", "--K-expr", expr, "--steps", "1500")
    assert out_f == out_e
    path.write_text("not json")
    code, _, err = run(capsys, "simulate", "--K-file", str(path))
    assert code == 2 and "cannot read K file" in err


def test_verify_latex(capsys):
    code, out, _ = run(capsys, "verify", "sqrt(1 + x**2)", "--latex")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == r"K(x) = \sum_i k(x_i),\quad k(x) = \sqrt{x^{2} + 1}"
    assert r"- \sqrt{1 - y^{2}}" in lines[1]
    assert lines[2] == r"\operatorname{dom} k^* = \left[-1, 1\right]"
    assert lines[3].startswith(r"\min_x f(x) \text{s.t. } \|x\|_\infty \le \frac{1}{\lambda}")
    code, _, err = run(capsys, "verify", "Abs(x)", "--latex", "--json")
    assert code == 2 and "one output format" in err


def test_verify_failing_save_K_refuses(capsys, tmp_path):
    code, out, err = run(capsys, "verify", "sin(x)", "--save-K", str(tmp_path / "k.json"))
    assert code == 2 and "convexity FAILED" in err and "NOT OK" in out
    assert not (tmp_path / "k.json").exists()
