"""The λ-sweep use case, its figure and `lionk sweep`."""

import json

import numpy as np
import pytest

from lyapunov_lion.cli import main
from lyapunov_lion.errors import LionKError
from lyapunov_lion.sweep import lambda_sweep


def test_lion_sweep_follows_the_exact_curve():
    lams = np.array([0.3, 0.5, 1.0, 1.5, 2.5])
    r = lambda_sweep("l1", "toy", lams, steps=12_000, window=500)
    # The reference solver is exact (closed-form prox): ((1.5 − 1/λ)₊)² for Lion on the toy.
    assert np.allclose(r.exact_loss, np.clip(1.5 - 1 / lams, 0, None) ** 2, atol=1e-14)
    # Lion's limit cycle costs a loss of order η² = 1e-6 inside the box; on the face the iterate
    # converges at rate ηλ per step (12,000 steps ⇒ e^{−3.6} at λ = 0.3 of a start 3.5 away).
    assert r.max_error < 1e-4
    assert np.all(np.abs(r.x_star[:, 0] - np.minimum(1.5, 1 / lams)) < 1e-12)


def test_sweep_rejects_bad_grid():
    with pytest.raises(LionKError):
        lambda_sweep("l1", "toy", [0.5, -1.0], steps=10, window=10)


def test_sweep_command_json_and_plot(capsys, tmp_path):
    code = main(
        [
            "sweep",
            "--K",
            "huber:delta=0.5",
            "--n-lam",
            "6",
            "--steps",
            "20000",
            "--window",
            "500",
            "--json",
            "--plot",
            str(tmp_path / "s.png"),
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    d = json.loads(out)
    # 20,000 steps: measured max |converged − exact| = 4.4e-6 (8,000 steps left 1.6e-2 at λ = 0.68)
    assert d["K"] == "huber" and len(d["lam"]) == 6 and d["max_error"] < 1e-3
    assert (tmp_path / "s.png").stat().st_size > 10_000


def test_sweep_command_errors_are_one_line(capsys):
    assert main(["sweep", "--lam-min", "2", "--lam-max", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lionk: error:") and err.count("\n") == 1
