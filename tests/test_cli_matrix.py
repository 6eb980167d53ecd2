"""`lionk simulate --K nuclear`: a matrix K from the command line (issue 8), through click's
CliRunner. f(X) = ½‖X − C‖²_F; Lion-K with the nuclear K and weight decay λ solves
min f s.t. ‖X‖_op ≤ 1/λ, whose solution is C with its singular values clipped at 1/λ."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lyapunov_lion.cli import cli
from lyapunov_lion.cli import main as lionk
from lyapunov_lion.errors import LionKError


def _run(args):
    res = CliRunner().invoke(cli, ["simulate", "--K", "nuclear", *args, "--json"])
    assert res.exit_code == 0, (res.output, res.exception)
    return json.loads(res.output)


def test_discrete_and_ode_reach_the_clipped_C():
    """C = [[2, 0.5], [0.5, 0.3]] (σ = 2.13, 0.17), λ = 1: the optimum has σ = (1, 0.17). The
    reference is the closed-form projection (exact to rounding). Once ∇K(m̃) = UVᵀ holds, σ_1
    of X approaches 1/λ like e^{−λt} (ẋ = UVᵀ − λx): at T = 10, 1 − σ_1 ≈ e^{−10} = 4.5e-5, so
    the ODE end is within 1e-4 of X* (measured 4.2e-5; rtol = 1e-8 is not the limit) and
    σ_1 ≤ 1 (invariance); the discrete run (η = 1e-3) is within 5e-3 of the ODE end."""
    out = _run(["--C", "2,0.5;0.5,0.3", "--lam", "1", "--mode", "both"])
    C = np.array([[2.0, 0.5], [0.5, 0.3]])
    U, s, Vt = np.linalg.svd(C)
    X_star = (U * np.minimum(s, 1.0)) @ Vt
    m = out["matrix"]
    assert m["shape"] == [2, 2] and m["inv_lam"] == 1.0
    np.testing.assert_allclose(m["singular_values_C"], s, rtol=1e-12)
    np.testing.assert_allclose(m["singular_values_optimum"], np.minimum(s, 1.0), atol=1e-12)
    np.testing.assert_allclose(np.reshape(out["optimum"]["x"], (2, 2)), X_star, atol=1e-12)
    ode = out["ode"]
    assert ode["success"], ode["message"]
    np.testing.assert_allclose(np.reshape(ode["final"]["x"], (2, 2)), X_star, atol=1e-4)
    assert 0 <= 1 - ode["matrix"]["singular_values"][0] <= 1e-4
    np.testing.assert_allclose(np.reshape(out["final"]["x"], (2, 2)), X_star, atol=5e-3)
    assert out["discrete_vs_ode"]["final_distance"] <= 5e-3


def test_random_C_from_seed_ode_mode_stays_in_the_spectral_ball():
    """--shape 3x4 --seed s draws C with N(0, 1) entries: the same seed gives the same C, another
    seed another. In ODE mode from X0 = 0 (inside the ball) ‖λX(t)‖_op ≤ 1 holds along the run
    (the invariance guard) and σ_1 of the end point is 1/λ = 2/3 up to e^{−λT} = e^{−15} = 3e-7
    where σ_1(C) > 2/3."""
    a = _run(["--shape", "3x4", "--seed", "5", "--mode", "ode"])
    b = _run(["--shape", "3x4", "--seed", "5", "--steps", "100"])
    c = _run(["--shape", "3x4", "--seed", "6", "--steps", "100"])
    assert a["matrix"]["singular_values_C"] == b["matrix"]["singular_values_C"]
    assert a["matrix"]["singular_values_C"] != c["matrix"]["singular_values_C"]
    assert a["success"] and a["guards"]["invariance"]["ok"]
    assert a["matrix"]["singular_values_C"][0] > 2 / 3
    assert a["matrix"]["singular_values"][0] == pytest.approx(2 / 3, abs=1e-6)
    assert len(a["final"]["x"]) == 12


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".txt"])
def test_C_from_a_file(tmp_path, suffix):
    """C read from .npy, .csv (comma) and .txt (whitespace) files equals the matrix written."""
    C = np.array([[1.5, -0.2, 0.1], [0.0, 0.4, 2.5]])
    path = tmp_path / f"C{suffix}"
    if suffix == ".npy":
        np.save(path, C)
    else:
        np.savetxt(path, C, delimiter="," if suffix == ".csv" else " ")
    out = _run(["--C", str(path), "--steps", "50"])
    np.testing.assert_allclose(
        out["matrix"]["singular_values_C"], np.linalg.svd(C, compute_uv=False), rtol=1e-12
    )
    assert out["matrix"]["shape"] == [2, 3]


def test_plot_of_a_matrix_run(tmp_path):
    """--plot draws the singular-value panel for a matrix run (discrete and both)."""
    for mode in ("discrete", "both"):
        path = tmp_path / f"{mode}.png"
        res = CliRunner().invoke(
            cli,
            ["simulate", "--K", "nuclear", "--shape", "2x2", "--mode", mode, "--plot", str(path)],
        )
        assert res.exit_code == 0, (res.output, res.exception)
        assert path.stat().st_size > 10_000


BAD = [
    (["--C", "1,2;3"], "rows have different lengths"),
    (["--C", "1,2;3,4", "--shape", "3x3"], "C has shape 2x2 but --shape is 3x3"),
    (["--shape", "2y3"], "give rows x columns"),
    (["--shape", "0x3"], "must be ≥ 1"),
    (["--shape", "40x40"], "at most 1024"),
    (["--x0", "1,2,3", "--shape", "2x2"], "x0 has shape"),
    (["--objective", "toy"], "acts on matrices: use --objective frobenius"),
    (["--dim", "4"], "not --dim"),
    (["--C", "missing.npy"], "no such file"),
]


@pytest.mark.parametrize("args, words", BAD)
def test_wrong_shapes_are_one_line_errors(args, words, capsys):
    """Each mistake raises `LionKError` naming it (CliRunner), and `lionk` prints one line
    ``lionk: error: ...`` and exits 2 without a traceback."""
    res = CliRunner().invoke(cli, ["simulate", "--K", "nuclear", *args])
    assert isinstance(res.exception, LionKError) and words in str(res.exception)
    assert lionk(["simulate", "--K", "nuclear", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lionk: error: ") and words in err and err.count("\n") == 1


def test_matrix_options_with_a_vector_K_are_refused(capsys):
    assert lionk(["simulate", "--K", "l1", "--C", "1,2;3,4"]) == 2
    assert "matrix K" in capsys.readouterr().err
