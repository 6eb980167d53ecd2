"""Fig. 4 analog: the cost of Lion's weight decay λ on the digits MLP."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")

from lyapunov_lion.reproduce import FIGURES  # noqa: E402
from lyapunov_lion.reproduce import lam_sweep as ls


@pytest.fixture(scope="module")
def reduced():
    return ls.compute("reduced")


def test_registered():
    assert "lam_sweep" in FIGURES


def test_grid_cells_are_the_direct_runs(reduced):
    # the cells ran through the grid runner (serially at reduced size) and came back from its
    # SQLite store as JSON: the same numbers, bit for bit, as calling run_cell directly (training
    # is deterministic per seed on one thread and JSON round-trips floats exactly)
    assert reduced["executor"].startswith("serial")
    v = reduced["runs"]["mlp"]
    for i, lam in enumerate(reduced["lams"]):
        for j, seed in enumerate(reduced["seeds"]):
            direct = ls.run_cell("mlp", lam, seed, reduced["steps"])
            assert {k: v[k][i, j] for k in ls.METRICS} == direct, (lam, seed)


def test_store_resumes_and_embedded_cluster_agrees(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setitem(
        ls.SETTINGS,
        "reduced",
        {"models": ("mlp",), "lams": (0.0, 20.0), "seeds": (0,), "steps": 20},
    )
    store = tmp_path / "cells.sqlite"
    lines = []
    on_dask = ls.compute("reduced", lines.append, store=store, serial=False, workers=1)
    assert on_dask["executor"].startswith("dask LocalCluster")
    assert lines[-1] == "lam_sweep: 2/2 cells done"
    from lyapunov_lion.grid import Store

    with Store(store) as db:
        before = db.rows(("done",))
    again = ls.compute("reduced", store=store)  # every cell is in the store: nothing reruns
    with Store(store) as db:
        assert len(before) == 2 and db.rows(("done",)) == before  # same hosts and timestamps
    for k in ls.METRICS:
        assert np.array_equal(on_dask["runs"]["mlp"][k], again["runs"]["mlp"][k])
        assert np.array_equal(
            on_dask["runs"]["mlp"][k][:, 0],
            [ls.run_cell("mlp", lam, 0, 20)[k] for lam in (0.0, 20.0)],
        )


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
