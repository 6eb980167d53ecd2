"""LionKMonitor: its quantities against their definitions, JSON, the table; and the digits
acceptance run (λ = 10: every tensor enters the box within its phase-1 bound and stays)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from lyapunov_lion.torch import LionK, LionKMonitor
from lyapunov_lion.torch.monitor import phase1_entry_bound

torch.set_num_threads(1)


def test_l1_quantities_match_their_definitions():
    x = torch.tensor([0.05, -0.3, 0.1, 0.0], dtype=torch.float64)
    g = torch.tensor([1.0, -2.0, 0.0, 0.5], dtype=torch.float64)
    p = torch.nn.Parameter(x.clone())
    opt = LionK([p], lr=1e-3, weight_decay=10.0)
    mon = LionKMonitor(opt, tol=1e-12)
    p.grad = g
    mon.update()  # record without stepping: the values are those of x
    row = mon.summary()[0]
    assert row["radius"] == 0.3 and row["bound"] == pytest.approx(0.1)
    assert row["dist"] == pytest.approx(2.0)  # λx = (0.5, −3, 1, 0): outside by 2 in one entry
    assert row["boundary"] == 0.5  # |λx_i| ≥ 1 − 2ηλ for two of four entries
    assert math.isinf(row["fy"])  # K*(λx) = +inf outside the box
    p.data = torch.tensor([0.05, -0.1, 0.1, 0.0], dtype=torch.float64)
    mon.update()
    row = mon.summary()[0]
    fy = float(g.abs().sum() + 10.0 * (p.detach() @ g))  # ‖g‖₁ + λxᵀg
    assert row["fy"] == pytest.approx(fy, rel=1e-15) and row["entry"] == 2
    assert 0 <= row["fy_rel"] <= 1
    data = json.loads(mon.to_json())
    assert data["steps"] == [0, 1, 2] and data["tensors"][0]["fy"][1] == "inf"


def _l1_ball_dist(y):
    from lyapunov_lion.core.catalog import project_l1_ball

    return np.linalg.norm(y - project_l1_ball(y))


@pytest.mark.parametrize(
    "K,radius,dist",
    [
        ("l2", np.linalg.norm, lambda y: max(np.linalg.norm(y) - 1, 0.0)),
        ("linf", lambda v: np.abs(v).sum(), _l1_ball_dist),
        (
            "nuclear",
            lambda v: np.linalg.norm(v, 2),
            lambda y: np.sqrt(np.sum(np.maximum(np.linalg.svd(y, compute_uv=False) - 1, 0) ** 2)),
        ),
    ],
)
def test_norm_K_radius_is_the_dual_norm_and_dist_is_to_the_dual_ball(K, radius, dist):
    torch.manual_seed(0)
    p = torch.nn.Parameter(torch.randn(4, 3, dtype=torch.float64))
    mon = LionKMonitor(LionK([p], lr=1e-2, weight_decay=0.5, K=K))
    v = p.detach().numpy() if K == "nuclear" else p.detach().numpy().ravel()
    row = mon.summary()[0]
    assert row["radius"] == pytest.approx(radius(v), rel=1e-12)
    assert row["dist"] == pytest.approx(dist(0.5 * v), rel=1e-12) and row["dist"] > 0


def test_phase1_entry_bound():
    assert phase1_entry_bound(1.0, 1e-6, 0.01, 10.0) == math.ceil(math.log(1e6) / -math.log(0.9))
    assert phase1_entry_bound(1e-9, 1e-6, 0.01, 10.0) == 0
    assert phase1_entry_bound(1.0, 1e-6, 0.01, 0.0) == -1
    assert phase1_entry_bound(1.0, 1e-6, 0.01, 10.0, "implicit") == math.ceil(
        math.log(1e6) / math.log(1.1)
    )


def test_digits_lambda_10_every_tensor_enters_within_its_phase1_bound_and_stays():
    """The paper's phase 1 on a real network: MLP and CNN on sklearn's digits, default init,
    K = l1, λ = 10 (box 0.1), η = 0.01; the monitor records every step."""
    from lyapunov_lion.train import train

    for model in ("mlp", "cnn"):
        res = train(model=model, K="l1", lam=10.0, lr=1e-2, steps=200, monitor_every=1)
        rows = res.monitor.summary()
        assert any(r["dist0"] > r["tol"] for r in rows)  # some tensors start outside the box
        for r in rows:
            assert 0 <= r["entry"] <= r["phase1_bound"], r
            assert r["left_after_entry"] == 0, r
            assert r["radius"] <= 0.1 * (1 + 1e-6)
        assert res.metrics["all_entered_within_bound"] and res.metrics["stayed_in_box"]
        assert res.metrics["test_accuracy"] > 0.5
        json.dumps(res.metrics)
        assert "entry" in res.monitor.table()


def test_training_figures(tmp_path):
    from lyapunov_lion.plotting import save_figure
    from lyapunov_lion.plotting.training import plot_radius, plot_weight_histograms
    from lyapunov_lion.train import train

    res = train(model="mlp", K="l1", lam=10.0, lr=1e-2, steps=40, monitor_every=2, monitor_bins=21)
    assert np.asarray(res.history["tensors"][0]["hist"]).shape == (21, 21)
    for fig, labels in (
        (plot_weight_histograms(res.history), ("weight value", "fraction of entries")),
        (plot_radius(res.history), ("step", "dist(λx, dom K*)")),
    ):
        ax = fig.axes[-1] if labels[0] == "step" else fig.axes[0]
        assert (ax.get_xlabel(), ax.get_ylabel()) == labels and fig._suptitle.get_text()
        assert save_figure(fig, tmp_path / "f.png").stat().st_size > 10_000


def test_train_is_deterministic_for_a_seed_and_reports_newton_schulz():
    from lyapunov_lion.train import train

    runs = [
        train(
            model="cnn",
            K="nuclear",
            lam=1.0,
            lr=1e-2,
            steps=15,
            monitor_every=5,
            seed=3,
            polar="newton_schulz",
        )
        for _ in range(2)
    ]
    m0, m1 = ({k: v for k, v in r.metrics.items() if k != "seconds"} for r in runs)
    assert m0 == m1 and np.array_equal(runs[0].losses, runs[1].losses)
    assert "NS dist" in runs[0].monitor.table()
    d = runs[0].history["tensors"][0]["polar_distance"]
    assert np.isnan(d[0]) and 0 < d[-1] < 1
