"""Fig. 4 analog: the cost of Lion's weight decay λ on the digits MLP."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from lyapunov_lion.reproduce import FIGURES, lam_sweep as ls  # noqa: E402


@pytest.fixture(scope="module")
def reduced():
    return ls.compute("reduced")


def test_registered():
    assert "lam_sweep" in FIGURES


def test_threshold_rule():
    lams = [0.0, 1.0, 5.0, 20.0]
    loss = np.array([[0.07, 0.08], [0.04, 0.09], [0.3, 0.35], [2.0, 2.1]])
    t = ls.threshold(lams, loss)
    assert t == {"best_lam": 1.0, "lam_c": 5.0, "flat_below": True, "rises_after": True}
    # a loss that never leaves λ = 0's seed range has no threshold
    assert ls.threshold(lams, np.full((4, 2), 0.1))["lam_c"] is None
    with pytest.raises(ValueError, match="start at 0"):
        ls.threshold([1.0, 2.0], loss[:2])


def test_a_small_box_costs_loss_and_binds(reduced):
    v = reduced["runs"]["mlp"]
    loss, edge = v["final_train_loss"], v["on_boundary"]
    # the largest λ (box 0.05, below the default init's 0.125) is clearly worse than λ = 0 for
    # every seed, and most of its weights sit on the box edge; at λ = 0 there is no box
    assert loss[-1].min() > loss[0].max()
    assert edge[-1].min() > 0.5 and np.all(edge[0] == 0)
    # the fraction on the edge grows with λ (a smaller box binds more entries)
    assert np.all(np.diff(edge.mean(axis=1)) >= 0)
    assert np.all((v["test_accuracy"] >= 0) & (v["test_accuracy"] <= 1))


def test_report(reduced):
    rep = ls.report(reduced)
    assert rep.verdict in ("agrees", "agrees with a qualification", "disagrees")
    assert rep.results["threshold"]["mlp"]["lam_c"] is not None
    assert sum(line.startswith("| mlp |") for line in rep.measured) == len(reduced["lams"])
    assert all(ax.get_xlabel() and ax.get_ylabel() for ax in rep.figure.get_axes())
