"""The `lionk` command line: acceptance runs of issue 2, output formats and user errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from lyapunov_lion.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv):
    code, out, err = run(capsys, "simulate", "--json", *argv)
    assert code == 0, err
    return json.loads(out)


# -- acceptance: Lion solves the box-constrained toy problem --------------------------------
# The final iterate of Lion chatters around the optimum with an amplitude of order lr (1e-3 by
# default), so 1e-2 (the tolerance) leaves a wide margin; the measured distances are
# about 5e-4 (λ = 1.5) and 1.3e-3 (λ = 0.5).
@pytest.mark.parametrize("lam, optimum", [(1.5, (2 / 3, 0.0)), (0.5, (1.5, 0.0))])
def test_lion_reaches_exact_constrained_optimum(capsys, lam, optimum):
    s = run_json(capsys, "--K", "l1", "--lam", str(lam))
    assert np.linalg.norm(np.array(s["final"]["x"]) - optimum) < 1e-2
    assert np.allclose(s["optimum"]["x"], optimum, atol=1e-12)  # the reference is exact
    assert s["lyapunov"].keys() >= {"monotone", "max_increase"}
    assert s["phase1_exit_step"] is not None


def test_linf_states_its_constraint(capsys):
    code, out, _ = run(capsys, "simulate", "--K", "linf", "--lam", "1.5")
    assert code == 0
    assert "‖x‖₁ ≤ 2/3" in out
    assert "phase 1" in out and "phase 2" in out and "final" in out


def test_json_has_documented_keys(capsys):
    s = run_json(capsys, "--K", "huber:delta=0.5", "--lam", "1", "--steps", "500")
    assert s.keys() >= {"K", "lam", "constraint", "final", "phase1_exit_step", "lyapunov"}
    assert s["K"] == "huber" and s["K_params"] == {"delta": 0.5}
    assert s["final"].keys() >= {"x", "f"}
    assert s["constraint"].startswith("‖x‖_∞ ≤ δ/λ = 1/2")


def test_expression_objective(capsys):
    s = run_json(
        capsys,
        "--objective",
        "0.5*(x1-2)**2 + 0.5*(x2-0.3)**2",
        "--lam",
        "1",
        "--x0",
        "0,0",
        "--steps",
        "8000",
    )
    # Box ‖x‖_∞ ≤ 1: the optimum clips x1 = 2 to 1 and keeps x2 = 0.3.
    assert np.allclose(s["optimum"]["x"], [1.0, 0.3], atol=1e-9)
    assert np.linalg.norm(np.array(s["final"]["x"]) - [1.0, 0.3]) < 1e-2


def test_save_writes_trajectory(capsys, tmp_path):
    path = tmp_path / "run.npz"
    code, _, err = run(capsys, "simulate", "--steps", "300", "--save", str(path))
    assert code == 0, err
    data = np.load(path)
    assert data["x"].shape == (301, 2) and data["m"].shape == (301, 2)
    assert data["f"].shape == (301,) and data["H"].shape == (301,)
    assert np.allclose(data["f"], (data["x"][:, 0] - 1.5) ** 2 + data["x"][:, 1] ** 2)


def test_plot_writes_figure(capsys, tmp_path):
    path = tmp_path / "run.png"
    code, _, err = run(capsys, "simulate", "--steps", "300", "--plot", str(path))
    assert code == 0, err
    assert path.stat().st_size > 10_000


def test_list_shows_catalog(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in (
        "l1",
        "l2",
        "linf",
        "lp",
        "sq_l2",
        "power_p",
        "huber",
        "relativistic",
        "logcosh",
        "logsumexp",
        "deadzone",
        "l1_plus_sq",
        "nuclear",
    ):
        assert f"\n{name}" in out
    code, out, _ = run(capsys, "list", "--json")
    assert {d["name"] for d in json.loads(out)} >= {"l1", "nuclear"}


def test_version(capsys):
    from lyapunov_lion import __version__

    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


# -- user errors: one line, non-zero exit, no traceback ------------------------------------
@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--K", "nope"], "unknown K 'nope'; choose one of: l1"),
        (["--lam", "-1"], "lam"),
        (["--beta1", "1.0"], "'--beta1': 1 is out of range: need a value ≥ 0 and < 1"),
        (["--beta2", "-0.1"], "'--beta2': -0.1 is out of range: need a value ≥ 0 and < 1"),
        (["--steps", "0"], "steps"),
        (["--lr", "0"], "'--lr': 0 is out of range: need a value > 0"),
        (["--x0", "1,a"], "x0"),
        (["--x0", "1,2,3"], "2-dimensional"),
        (["--lam", "abc"], "'abc' is not a number"),
        (["--K", "huber:delta=-1"], "delta"),
        (["--K", "l1:p=2"], "no parameter p"),
        (["--objective", "nosuchthing"], "nosuchthing"),
        (["--objective", "__import__('os').system('echo pwned')"], "expression"),
    ],
)
def test_user_errors_are_one_line(capsys, argv, needle):
    code, out, err = run(capsys, "simulate", *argv)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("lionk: error: ")
    assert needle in err
    assert "Traceback" not in err and "pwned" not in out


def test_divergence_is_reported(capsys):
    # Heavy-ball momentum (K = sq_l2) with lr 3 on f = (x1−1.5)² + x2² (L = 2) is unstable.
    code, _, err = run(
        capsys,
        "simulate",
        "--K",
        "sq_l2",
        "--lam",
        "0.1",
        "--lr",
        "3",
        "--beta1",
        "0",
        "--steps",
        "5000",
    )
    assert code == 1
    assert err.startswith("lionk: numerical failure:") and err.count("\n") == 1


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["--beta1", "0.995"], "beta1 ≤ beta2"),
        (["--lr", "0.8", "--lam", "1.5", "--decay", "explicit", "--steps", "200"], "(1 − ηλ)^t"),
    ],
)
def test_theory_warnings(capsys, argv, needle):
    code, out, _ = run(capsys, "simulate", *argv)
    assert code == 0
    assert any(line.startswith("warning:") and needle in line for line in out.splitlines())


@pytest.mark.skipif(shutil.which("lionk") is None, reason="console script not installed")
def test_console_script_error_has_no_traceback():
    proc = subprocess.run(["lionk", "simulate", "--K", "nope"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_module_entry_point():
    proc = subprocess.run(
        [sys.executable, "-m", "lyapunov_lion", "--version"], capture_output=True, text=True
    )
    assert proc.returncode == 0 and "lionk" in proc.stdout


# -- ODE mode (issue 3) ---------------------------------------------------------------------
ACCEPTANCE_ODE = [
    "--objective",
    "0.5*(x1-2)**2 + 0.5*(x2-0.3)**2",
    "--lam",
    "1",
    "--x0",
    "0,0",
    "--alpha",
    "1",
    "--gamma",
    "1",
    "--eps",
    "0.1",
    "--t-final",
    "20",
]


def test_ode_mode_reaches_optimum_and_reports_sliding(capsys):
    s = run_json(capsys, "--mode", "ode", *ACCEPTANCE_ODE)
    # The Filippov mode integrates the sliding dynamics exactly up to rtol 1e-8 (measured 2.1e-9).
    assert np.linalg.norm(np.array(s["final"]["x"]) - [1.0, 0.3]) < 1e-6
    assert s["success"] and s["lyapunov"]["monotone"]
    sliding = s["integrator"]["sliding_time"]
    assert sliding[0] == 0 and sliding[1] > 19  # x2 slides on m̃2 = 0; x1 sits on the face


def test_both_mode_compares_discrete_and_ode(capsys, tmp_path):
    s = run_json(
        capsys,
        "--mode",
        "both",
        *ACCEPTANCE_ODE[:6],
        "--lr",
        "0.01",
        "--steps",
        "2000",
        "--plot",
        str(tmp_path / "both.png"),
        "--save",
        str(tmp_path / "ode.npz"),
    )
    assert s["mode"] == "both" and s["ode"]["success"]
    # Same coefficients (α = γ = 1, ε = 0.1 from η = 0.01, β = (0.9, 0.99)); the discrete iterates
    # stay within O(η)-scale chattering of the ODE path (measured max 0.019).
    assert s["discrete_vs_ode"]["max_distance"] < 0.05
    assert (tmp_path / "both.png").stat().st_size > 10_000
    assert np.load(tmp_path / "ode.npz")["x"].shape[1] == 2


# -- verify (issue 4) -------------------------------------------------------------------------
def test_verify_logcosh_reports_box_constraint(capsys):
    code, out, _ = run(capsys, "verify", "log(cosh(x))")
    assert code == 0
    assert "dom k* = [-1, 1]" in out and "‖x‖_∞ ≤ 1/λ" in out


def test_verify_rejects_nonconvex_with_exit_1(capsys):
    code, out, _ = run(capsys, "verify", "x**3", "--json")
    assert code == 1
    assert json.loads(out)["convex"] is False or "FAILED" in out


def test_verify_refuses_python(capsys, tmp_path):
    marker = tmp_path / "pwned"
    code, _, err = run(capsys, "verify", f"__import__('os').system('touch {marker}')")
    assert code == 2 and err.startswith("lionk: error:") and not marker.exists()


def test_verify_catalog_passes(capsys):
    code, out, _ = run(capsys, "verify", "--catalog")
    assert code == 0 and "logcosh" in out


def test_reproduce_command_all_and_unknown(capsys, tmp_path):
    code, _, err = run(capsys, "reproduce", "fig9", "--figures", str(tmp_path))
    assert code == 2 and "unknown figure" in err
    code, _, err = run(
        capsys,
        "reproduce",
        "all",
        "--size",
        "reduced",
        "--figures",
        str(tmp_path / "f"),
        "--reports",
        str(tmp_path / "r"),
    )
    from lyapunov_lion.reproduce import FIGURES

    assert code == 0 and err.count("\n") == len(FIGURES)  # one progress line per figure
    assert {p.name for p in (tmp_path / "f").glob("*.png")} == {f"{n}.png" for n in FIGURES}
