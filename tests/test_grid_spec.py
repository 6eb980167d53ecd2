"""Grid files: cells, content hashes, and one-line errors that name the faulty field."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from lyapunov_lion.cli import main
from lyapunov_lion.errors import LionKError
from lyapunov_lion.grid import cell_hash, load_grid, parse_grid

ROOT = Path(__file__).resolve().parents[1]


def toy(**sections):
    grid = {
        "grid": {"name": "t", "experiment": "simulate"},
        "fixed": {"steps": 200},
        "axes": {"K": ["l1", "linf"], "lam": [0.5, 1.0, 2.0]},
    }
    for key, value in sections.items():
        grid[key] = value
    return grid


def test_cells_are_the_product_of_the_axes_with_content_hashes():
    spec = parse_grid(toy(grid={"name": "t", "experiment": "simulate", "seeds": 2}))
    cells = spec.cells()
    assert spec.size == len(cells) == 2 * 3 * 2
    assert [c.index for c in cells] == list(range(12))
    assert cells[0].settings == {"K": "l1", "lam": 0.5, "seed": 0, "steps": 200}
    assert cells[1].settings["seed"] == 1 and cells[-1].settings == {
        "K": "linf",
        "lam": 2.0,
        "seed": 1,
        "steps": 200,
    }
    assert len({c.hash for c in cells}) == 12
    # the hash depends on the content only: not on key order, not on where a setting is given
    assert cell_hash("simulate", {"steps": 200, "lam": 0.5, "K": "l1", "seed": 0}) == cells[0].hash
    moved = parse_grid(toy(fixed={}, axes={"lam": [0.5], "K": ["l1"], "steps": [200], "seed": [0]}))
    assert moved.cells()[0].hash == cells[0].hash
    assert cell_hash("sweep", cells[0].settings) != cells[0].hash


def test_generators_and_the_committed_example(tmp_path):
    spec = parse_grid(
        toy(
            axes={
                "lam": {"linspace": [0.5, 2.0, 4]},
                "seed": {"range": [0, 6, 2]},
                "lr": {"logspace": [-3, -2, 2]},
            }
        )
    )
    assert spec.axes["lam"] == [0.5, 1.0, 1.5, 2.0]
    assert spec.axes["seed"] == [0, 2, 4]
    assert np.allclose(spec.axes["lr"], [1e-3, 1e-2])
    example = load_grid(ROOT / "grids" / "toy_lambda.toml")
    assert example.experiment == "simulate" and example.size == 3 * 20 * 4 >= 200


BAD = [
    ({"grid": {"name": "t"}}, "[grid] experiment: missing"),
    (toy(extra={}), "[extra]: unknown section"),
    (toy(grid={"name": "t", "experiment": "simulate", "seed": 3}), "[grid] seed: unknown key"),
    (toy(grid={"name": "t", "experiment": "simulate", "seeds": 0}), "[grid] seeds: 0 is not"),
    (toy(grid={"name": "t", "experiment": "nope"}), "[grid] experiment:"),
    (toy(grid={"name": "t", "experiment": "no_such_module_xyz:f"}), "cannot import"),
    (toy(axes={}), "[axes]: missing or empty"),
    (toy(axes={"lam": []}), "[axes] lam: must be a non-empty list"),
    (toy(axes={"lam": [1.0, 1.0]}), "[axes] lam: has repeated values"),
    (toy(axes={"lam": {"linspace": [0.1, 1.0]}}), "[axes] lam: linspace takes three numbers"),
    (toy(axes={"lamda": [1.0]}), "[axes] lamda: not a setting of experiment 'simulate'"),
    (toy(axes={"lam": ["0.5"]}), "[axes] lam: '0.5' is not a number"),
    (toy(axes={"seed": [1.5]}), "[axes] seed: 1.5 is not an integer"),
    (toy(axes={"K": ["foo"]}), "[axes] K: unknown K 'foo'"),
    (toy(axes={"K": [{"delta": 0.5}]}), "[axes] K: K = {'delta': 0.5}: a K table needs name"),
    (toy(axes={"lr": [-1.0]}), "[axes] lr: lr=-1.0: the learning rate must be > 0"),
    (toy(fixed={"steps": 200, "lam": 1.0}), "[axes] lam: is also in [fixed]"),
    (toy(fixed={"objective": "nope"}), "[fixed] objective: "),
    (toy(fixed={"x0": [1.0, 2.0, 3.0]}), "[fixed] x0: x0 has 3 entries"),
    (toy(fixed={"history": ["g"]}), "[fixed] history: 'g' is not a series"),
    (
        toy(grid={"name": "t", "experiment": "sweep"}, fixed={}, axes={"K": ["l1"]}),
        "[fixed] lams: missing; the λ of the batch",
    ),
]


@pytest.mark.parametrize("data, message", BAD, ids=[m[:30] for _, m in BAD])
def test_bad_grids_get_an_error_naming_the_field(data, message):
    with pytest.raises(LionKError) as info:
        parse_grid(data, source="g.toml")
    assert str(info.value).startswith("g.toml: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_cli_bad_grid_file_is_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[grid]\nname = "x"\nexperiment = "simulate"\n[axes]\nlam = "1.0"\n')
    assert main(["grid", "run", str(bad), "--serial"]) == 2
    err = capsys.readouterr().err
    assert (
        err == f"lionk: error: {bad}: [axes] lam: must be a non-empty list or "
        "{linspace = [start, stop, n]}\n"
    )
    (tmp_path / "broken.toml").write_text("[grid\n")
    assert main(["grid", "run", str(tmp_path / "broken.toml")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert main(["grid", "status", str(tmp_path / "none.sqlite")]) == 2
    assert "does not exist" in capsys.readouterr().err
    good = ROOT / "grids" / "toy_lambda.toml"
    assert (
        main(["grid", "run", str(good), "--scheduler", "tcp://127.0.0.1:1", "--workers", "2"]) == 2
    )
    assert "--workers sizes the embedded cluster" in capsys.readouterr().err
    assert main(["grid", "run", str(good), "--serial", "--workers", "2"]) == 2
    assert "--serial runs in this process" in capsys.readouterr().err


def test_run_grid_takes_a_dict_and_reads_every_cell_back(tmp_path):
    """The Python API of a reproduction: a grid as a dict and a store path; ``rows()`` returns
    every cell in grid order with its metrics, including cells an earlier run finished, and a
    rerun computes nothing. A dict without a store is refused in one line."""
    from lyapunov_lion.grid import run_grid

    grid = toy(fixed={"steps": 50})
    with pytest.raises(LionKError, match="^give the store file for a grid built in Python$"):
        run_grid(grid)
    first = run_grid(grid, tmp_path / "s.sqlite", serial=True)
    again = run_grid(grid, tmp_path / "s.sqlite", serial=True)
    assert (first.done, again.ran, again.already_finished) == (6, 0, 6)
    rows = again.rows(("done",))
    assert [(r["settings"]["K"], r["settings"]["lam"]) for r in rows] == [
        (K, lam) for K in ("l1", "linf") for lam in (0.5, 1.0, 2.0)
    ]
    assert rows == first.rows()
    assert all(np.isfinite(r["metrics"]["f_final"]) for r in rows)
    fewer = run_grid(
        toy(fixed={"steps": 50}, axes={"K": ("l1",), "lam": (1.0, 3.0)}),
        tmp_path / "s.sqlite",
        serial=True,
    )  # the grid redefined: its cells only
    assert [r["settings"]["lam"] for r in fewer.rows()] == [1.0, 3.0]  # tuples count as lists
    assert (fewer.ran, fewer.rows()[0]) == (1, rows[1])


def train_grid(**fixed):
    return {
        "grid": {"name": "train", "experiment": "train"},
        "fixed": {
            "model": "mlp",
            "dataset": "digits",
            "K": "l1",
            "lr": 1e-3,
            "betas": [0.9, 0.99],
            "steps": 20,
            "batch_size": 32,
        }
        | fixed,
        "axes": {"lam": [0.0, 1.0]},
    }


def test_train_experiment(tmp_path):
    """The real-training experiment calls lyapunov_lion.train.train. Without it a train grid is
    refused in one line; with it, a 2-cell reduced digits grid given as a dict runs serially and
    every cell's metrics are exactly those of a direct train() call with the same settings
    (all but the wall time), the per-step loss history included."""
    grid = train_grid(history=["loss"], history_every=5)
    if importlib.util.find_spec("lyapunov_lion.train") is None:
        with pytest.raises(
            LionKError,
            match=r"^<grid>: \[grid\] experiment: 'train' needs "
            r"lyapunov_lion.train \(real training",
        ):
            parse_grid(grid)
        return
    from lyapunov_lion.grid import Store, run_grid
    from lyapunov_lion.train import train

    run = run_grid(grid, tmp_path / "train.sqlite", serial=True)
    assert (run.done, run.failed) == (2, 0)
    rows = run.rows()
    assert [r["settings"]["lam"] for r in rows] == [0.0, 1.0]
    json.dumps([r["metrics"] for r in rows])
    direct = train(
        model="mlp",
        dataset="digits",
        K="l1",
        lr=1e-3,
        betas=(0.9, 0.99),
        steps=20,
        batch_size=32,
        lam=1.0,
    )
    expected = json.loads(json.dumps(direct.metrics))
    assert {k: v for k, v in rows[1]["metrics"].items() if k != "seconds"} == {
        k: v for k, v in expected.items() if k != "seconds"
    }
    with Store(tmp_path / "train.sqlite") as store:
        np.testing.assert_array_equal(store.history(rows[1]["hash"])["loss"], direct.losses[::5])


@pytest.mark.parametrize(
    "fixed, message",
    [
        ({"betas": [0.9]}, r"\[fixed\] betas: \[0.9\] must be two numbers in \[0, 1\)"),
        ({"model": "resnet"}, r"\[fixed\] model: 'resnet' is not one of mlp, cnn"),
        ({"K": {"name": "huber", "delta": -1.0}}, r"\[fixed\] K: "),
        ({"foreach": True}, r"\[fixed\] foreach: not a setting of experiment 'train'"),
        ({"history": ["kkt"]}, r"\[fixed\] history: 'kkt' is not a series; choose among loss"),
    ],
)
def test_train_grid_mistakes_are_one_line_errors_naming_the_field(fixed, message):
    if importlib.util.find_spec("lyapunov_lion.train") is None:
        pytest.skip("needs lyapunov_lion.train")
    with pytest.raises(LionKError, match=r"^<grid>: " + message) as info:
        parse_grid(train_grid(**fixed))
    assert "\n" not in str(info.value)


def test_dask_is_imported_only_when_a_dask_executor_is_made(tmp_path):
    """The package, the CLI and a serial grid run never import dask (an optional extra)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import lyapunov_lion, lyapunov_lion.cli, lyapunov_lion.grid, lyapunov_lion.core\n"
        "from lyapunov_lion.grid import parse_grid, run_grid\n"
        "spec = parse_grid({'grid': {'name': 't', 'experiment': 'simulate'},\n"
        "                   'fixed': {'steps': 50}, 'axes': {'lam': [1.0, 2.0]}})\n"
        f"assert run_grid(spec, {str(tmp_path / 's.sqlite')!r}, serial=True).done == 2\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
