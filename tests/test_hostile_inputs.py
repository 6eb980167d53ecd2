"""Regression tests for the odd and hostile inputs of issue #10 (the list lives in
``scripts/hostile_inputs.py``, which also runs them as processes under memory/time limits).

Each fast case runs in-process through ``lyapunov_lion.cli.main``: the exit status must be the
expected one (0, or non-zero with ONE ``lionk:`` line on stderr / a verify report with FAILED),
never an internal error, and the expected text must appear."""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from lyapunov_lion.cli import main

_SPEC = importlib.util.spec_from_file_location(
    "hostile_inputs", Path(__file__).resolve().parents[1] / "scripts" / "hostile_inputs.py"
)
hostile = importlib.util.module_from_spec(_SPEC)
sys.modules["hostile_inputs"] = hostile  # dataclasses look their module up
_SPEC.loader.exec_module(hostile)

_TMP = "/tmp/lionk-hostile-inputs-placeholder"
_CASES = [c for c in hostile.cases(_TMP) if not c.slow]


@pytest.fixture(scope="module")
def tmp_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hostile")
    hostile.prepare(str(tmp))
    return str(tmp)


@pytest.mark.parametrize("case", _CASES, ids=[c.command[6:60] for c in _CASES])
def test_hostile_input(case, tmp_files, capsys):
    args = [a.replace(_TMP, tmp_files) for a in case.args]
    code = main(args)
    out, err = capsys.readouterr()
    assert "internal error" not in err and "Traceback" not in err, err
    if case.expect == "ok":
        assert code == 0, err
    else:
        assert code in (1, 2), (code, out[-300:], err)
        lines = [ln for ln in err.splitlines() if ln.strip()]
        if lines or args[0] != "verify":
            assert len(lines) == 1 and lines[0].startswith("lionk: "), lines
    assert case.contains in out + err


def test_json_is_strict_and_nonfinite_is_null(capsys):
    # 300 steps: λx is still outside dom K*, so the KKT score is +inf (→ null, documented)
    assert main(["simulate", "--steps", "300", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
    assert data["final"]["kkt"] is None and data["lyapunov"]["monotone"] is None
    assert data["lyapunov"]["n_checked"] == 0


def test_expression_starting_with_minus_is_an_expression(capsys):
    # read as the expression, not as an option: rejected for its domain, on one line
    assert main(["verify", "-log(100 - x)"]) == 2
    err = capsys.readouterr().err
    assert "not finite and real at x ≥ 100" in err and err.count("\n") == 1


def test_mode_both_saves_both_runs(tmp_path, capsys):
    path = tmp_path / "both.npz"
    assert main(["simulate", "--mode", "both", "--steps", "400", "--save", str(path)]) == 0
    data = np.load(path)
    assert {"t", "x", "discrete_x", "discrete_step"} <= set(data.files)
    assert data["discrete_x"].shape == (401, 2) and data["discrete_step"][-1] == 400


def test_output_checked_before_the_run(tmp_path, capsys):
    # the run would take long; the bad path must be refused at once, before it starts
    code = main(["simulate", "--steps", "100000000", "--save", str(tmp_path / "no" / "r.npz")])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_K_file_limits(tmp_path, capsys):
    big = tmp_path / "big.json"
    big.write_text(" " * 1_000_001)
    assert main(["simulate", "--K-file", str(big)]) == 2
    assert "at most 1000000" in capsys.readouterr().err
    if hasattr(os, "mkfifo"):
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        assert main(["simulate", "--K-file", str(fifo)]) == 2
        assert "not a regular file" in capsys.readouterr().err


def test_sweep_takes_K_expr_and_run_options(capsys):
    code = main(
        [
            "sweep",
            "--K-expr",
            "x**2/2",
            "--n-lam",
            "2",
            "--lam-min",
            "0.5",
            "--lam-max",
            "1",
            "--steps",
            "200",
            "--window",
            "20",
            "--noise",
            "0.01",
            "--seed",
            "3",
            "--decay",
            "implicit",
            "--convention",
            "library",
            "--json",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    s = json.loads(out)["settings"]
    assert (s["noise"], s["seed"], s["decay"], s["convention"]) == (0.01, 3, "implicit", "library")


def test_every_option_has_help():
    from lyapunov_lion.cli import cli

    for name, cmd in cli.commands.items():
        for p in cmd.params:
            if p.param_type_name == "option" and p.name != "help":
                assert p.help, f"lionk {name} {p.opts[0]} has no help text"
