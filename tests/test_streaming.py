"""Long runs in bounded memory (lyapunov_lion.core.streaming, ``lionk simulate --keep-every``):
chunked runs are bit-identical to one run, every k-th state (and the last) is kept, and the
diagnostics merged chunk by chunk equal those of the whole run."""

from __future__ import annotations

import importlib
import json
import sys
import warnings

import numpy as np
import pytest

from lyapunov_lion.cli import main
from lyapunov_lion.core.discrete import LionKConfig, run_discrete
from lyapunov_lion.core.kfunc import make_K
from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.core.streaming import keep_every_for, run_chunks, thinned_bytes
from lyapunov_lion.errors import LionKError, TheoryWarning
from lyapunov_lion.simulate import SimulationSpec, check_memory, simulate

SIMULATE = importlib.import_module("lyapunov_lion.simulate")  # the package exports a function
CHUNK = 700
"""Chunk length forced in the tests: the 3,000-step runs below span 5 chunks."""


@pytest.mark.parametrize("convention", ["paper", "library"])
def test_chunks_are_bit_identical_to_one_run(convention):
    K, toy = make_K("l1"), make_objective("toy")
    cfg = LionKConfig(lr=1e-3, lam=1.5, convention=convention)
    x0 = np.array([-2.0, 2.0])
    whole = run_discrete(K, toy.grad, x0, config=cfg, steps=2500)
    X, M, steps = [whole.x[:1]], [whole.m[:1]], [whole.steps_saved[:1]]
    for part in run_chunks(K, toy.grad, x0, config=cfg, steps=2500, chunk=CHUNK):
        X.append(part.x[1:])
        M.append(part.m[1:])
        steps.append(part.steps_saved[1:])
    assert np.array_equal(np.concatenate(X), whole.x)
    assert np.array_equal(np.concatenate(M), whole.m)
    assert np.array_equal(np.concatenate(steps), np.arange(2501))


def test_first_step_numbers_the_saved_states_and_the_failure():
    K, toy = make_K("l1"), make_objective("toy")
    cfg = LionKConfig(lr=1e-3, lam=1.5)
    res = run_discrete(K, toy.grad, np.zeros(2), config=cfg, steps=10, first_step=500)
    assert list(res.steps_saved) == list(range(500, 511))
    blow = run_discrete(
        K,
        lambda x: np.full_like(x, np.nan),
        np.zeros(2),
        config=cfg,
        steps=100,
        first_step=1000,
    )
    assert blow.failed_step == 1050 and "by step 1050" in blow.message


def _thinned_and_whole(monkeypatch, keep_every, **spec):
    monkeypatch.setattr(SIMULATE, "chunk_steps", lambda dim: CHUNK)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        whole = simulate(SimulationSpec(steps=3000, **spec))
        thin = simulate(SimulationSpec(steps=3000, keep_every=keep_every, **spec))
    return whole, thin


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"x0": [-3.0, 4.0]},
        {"lam": 0.5, "convention": "library"},
        {"K": "huber", "decay": "implicit"},
        {"noise": 0.1, "seed": 3},
        {"objective": "rosenbrock", "lam": 0.8},
    ],
)
def test_merged_diagnostics_equal_those_of_the_whole_run(monkeypatch, spec):
    whole, thin = _thinned_and_whole(monkeypatch, 7, **spec)
    a, b = whole.summary_dict(), thin.summary_dict()
    assert (b["config"].pop("keep_every"), b["config"].pop("states_kept")) == (7, 430)
    a["config"].pop("keep_every"), a["config"].pop("states_kept")
    # the whole summary, exactly: phase 1, bound, monotonicity, inequalities, final point
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    kept = thin.result.steps_saved
    assert np.array_equal(kept, np.r_[np.arange(0, 3000, 7), 3000])
    assert np.array_equal(thin.result.x, whole.result.x[kept])
    assert np.array_equal(thin.result.m, whole.result.m[kept])
    for name in ("f", "H_d", "dist", "kkt"):
        got, want = getattr(thin.diagnostics, name), getattr(whole.diagnostics, name)[kept]
        assert np.array_equal(got, want, equal_nan=True), name


def test_merging_is_exercised_across_chunks(monkeypatch):
    """From x0 = (−3, 4) at λ = 1.5 phase 1 ends in the second chunk (measured: step 835 of
    3,000, chunks of 700), so the monotonicity count restarts there, and inequality steps are
    counted in every later chunk: the equality above is not that of a single chunk."""
    whole, thin = _thinned_and_whole(monkeypatch, 7, x0=[-3.0, 4.0])
    d = thin.diagnostics
    assert int(d.phase1_exit) > CHUNK
    assert d.monotonicity.n_checked == whole.diagnostics.monotonicity.n_checked > CHUNK
    assert d.explicit_inequality.n_checked > 3 * CHUNK


def test_cli_keep_every_saves_the_kept_states_and_says_so(tmp_path, capsys):
    path = tmp_path / "run.npz"
    code = main(
        ["simulate", "--steps", "1000", "--keep-every", "300", "--json", "--save", str(path)]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    summary = json.loads(out)
    assert summary["config"]["keep_every"] == 300 and summary["config"]["states_kept"] == 5
    data = np.load(path)
    assert int(data["keep_every"]) == 300
    assert list(data["step"]) == [0, 300, 600, 900, 1000]
    assert data["x"].shape == (5, 2) and data["H"].shape == (5,)


def test_cli_keep_every_text_report_names_the_kept_states(capsys):
    assert main(["simulate", "--steps", "1000", "--keep-every", "300"]) == 0
    assert "steps divisible by 300 and at the last (5 of 1001)" in capsys.readouterr().out


def test_keep_every_is_refused_outside_discrete_mode(capsys):
    assert main(["simulate", "--mode", "ode", "--keep-every", "3"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--keep-every applies to --mode discrete" in err


def test_the_memory_refusal_suggests_a_keep_every_that_fits():
    steps, dim, available = 10**8, 2, 10**9
    with pytest.raises(LionKError, match=r"--keep-every (\d+) or more") as info:
        check_memory(steps, dim, available=available)
    k = int(info.value.args[0].split("--keep-every ")[1].split()[0])
    check_memory(steps, dim, available=available, keep_every=k)  # fits
    assert thinned_bytes(steps, dim, k) <= available < thinned_bytes(steps, dim, k - 1)
    assert keep_every_for(steps, dim, 1000) is None  # not even one chunk fits


def test_backend_is_refused_for_the_ode_alone(capsys):
    # --backend picks the discrete step; alone, the ODE would ignore it silently
    assert main(["simulate", "--mode", "ode", "--backend", "numba"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--backend numba applies to the discrete step" in err


def test_the_ode_progress_bar_waits_for_its_delay(monkeypatch, capsys):
    """A terminal sees the bar only once the work has run for its delay; quick runs print
    nothing, and a redirected stderr never gets it."""
    from lyapunov_lion.cli import _DelayedBar

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    with _DelayedBar("quick", delay=60.0) as bar:
        bar(0.5), bar(1.0)
    assert capsys.readouterr().err == ""
    with _DelayedBar("slow", delay=0.0) as bar:
        bar(0.5), bar(1.0)
    assert "slow" in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    with _DelayedBar("redirected", delay=0.0) as bar:
        bar(1.0)
    assert capsys.readouterr().err == ""
