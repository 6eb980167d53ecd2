"""Lazy diagnostics (issue 14, point 2): `lionk simulate` without --save/--plot keeps only what
it prints. ``SimulationSpec(series=False)`` streams the run in chunks (`core.streaming`), keeps
the first and last states, and its summary — every number of the text and of the JSON — equals
that of the every-step run, bit for bit; only ``states_kept`` says what was kept."""

from __future__ import annotations

import importlib
import json
import warnings

import numpy as np
import pytest

from lyapunov_lion.cli import main
from lyapunov_lion.errors import TheoryWarning
from lyapunov_lion.simulate import SimulationSpec, kept_every, simulate

SIMULATE = importlib.import_module("lyapunov_lion.simulate")  # the package exports a function
CHUNK = 700


@pytest.mark.parametrize(
    "spec",
    [
        {},
        {"x0": [-3.0, 4.0]},  # phase 1 ends in the second chunk (test_streaming)
        {"K": "linf", "lam": 1.5},
        {"K": "huber", "decay": "implicit"},
        {"lam": 0.5, "convention": "library"},
        {"K": "logcosh", "noise": 0.1, "seed": 3},
    ],
)
def test_summary_only_run_prints_the_same_numbers(monkeypatch, spec):
    monkeypatch.setattr(SIMULATE, "chunk_steps", lambda dim: CHUNK)  # several chunks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        whole = simulate(SimulationSpec(steps=3000, **spec))
        lazy = simulate(SimulationSpec(steps=3000, series=False, **spec))
    assert lazy.summary_text() == whole.summary_text()
    a, b = whole.summary_dict(), lazy.summary_dict()
    assert (a["config"].pop("states_kept"), b["config"].pop("states_kept")) == (3001, 2)
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)
    # what it did not keep: no trajectory, no per-step series
    assert list(lazy.result.steps_saved) == [0, 3000] and lazy.result.x.shape == (2, 2)
    assert lazy.diagnostics.f.shape == (2,) and lazy.diagnostics.Delta.size == 0
    assert np.array_equal(lazy.result.x, whole.result.x[[0, -1]])


def test_kept_every():
    assert kept_every(SimulationSpec(steps=500)) == 1
    assert kept_every(SimulationSpec(steps=500, series=False)) == 500
    assert kept_every(SimulationSpec(steps=500, series=False, keep_every=7)) == 7  # as asked
    assert kept_every(SimulationSpec(steps=1, series=False)) == 1


def test_cli_keeps_the_series_only_when_asked(monkeypatch, tmp_path, capsys):
    """The CLI asks for series with --save or --plot only; its output is the same either way."""
    seen = []
    real = SIMULATE.simulate
    monkeypatch.setattr(
        SIMULATE, "simulate", lambda spec, **kw: seen.append(spec) or real(spec, **kw)
    )
    assert main(["simulate", "--steps", "2000"]) == 0
    plain = capsys.readouterr().out
    path = tmp_path / "run.npz"
    assert main(["simulate", "--steps", "2000", "--save", str(path)]) == 0
    saved = capsys.readouterr().out
    assert [s.series for s in seen] == [False, True]
    assert saved == plain + f"saved trajectory to {path}\n"
    assert np.load(path)["x"].shape == (2001, 2)
