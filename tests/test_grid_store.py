"""The SQLite store and the driver, without dask: claims, leases, resume, failures, histories,
two concurrent drivers, status/export/plot."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lyapunov_lion.cli import main
from lyapunov_lion.errors import LionKError
from lyapunov_lion.grid import Store, parse_grid, run_grid
from lyapunov_lion.grid.experiments import simulate_cell
from lyapunov_lion.grid.store import new_owner_id

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from grid_experiments import executions  # noqa: E402

TOY = {
    "grid": {"name": "toy", "experiment": "simulate", "seeds": 2},
    "fixed": {"steps": 200, "lr": 0.01, "noise": 0.1, "history": ["f"], "history_every": 10},
    "axes": {"K": ["l1", {"name": "huber", "delta": 0.5}], "lam": [0.5, 2.0]},
}


def probe_grid(log: Path, n: int, **fixed) -> dict:
    return {
        "grid": {"name": "probe", "experiment": "grid_experiments:probe"},
        "fixed": {"log": str(log), **fixed},
        "axes": {"i": list(range(n))},
    }


def test_serial_run_records_every_cell_once_and_resumes(tmp_path):
    spec = parse_grid(TOY)
    run = run_grid(spec, tmp_path / "s.sqlite", serial=True)
    assert (run.cells, run.ran, run.done, run.failed, run.already_finished) == (8, 8, 8, 0, 0)
    with Store(tmp_path / "s.sqlite") as store:
        rows = store.rows()
        assert [r["hash"] for r in rows] == [c.hash for c in spec.cells()]
        assert all(r["status"] == "done" and r["attempts"] == 1 for r in rows)
        cell = spec.cells()[5]
        direct = simulate_cell(**cell.settings)  # the same cell run here gives the same numbers
        assert rows[5]["metrics"] == json.loads(json.dumps(direct.metrics))
        f = store.history(cell.hash)["f"]
        assert f.shape == (200 // 10 + 1,) and np.array_equal(f, direct.history["f"])
        assert rows[5]["duration"] > 0 and rows[5]["host"].endswith(f":{os.getpid()}")
    again = run_grid(spec, tmp_path / "s.sqlite", serial=True)
    assert (again.ran, again.already_finished) == (0, 8)
    bigger = parse_grid({**TOY, "axes": {**TOY["axes"], "lam": [0.5, 1.0, 2.0]}})
    more = run_grid(bigger, tmp_path / "s.sqlite", serial=True)
    assert (more.ran, more.already_finished) == (4, 8)


def test_claims_are_exclusive_and_leases_expire(tmp_path):
    spec = parse_grid(probe_grid(tmp_path / "log", 10))
    a, b = Store(tmp_path / "c.sqlite"), Store(tmp_path / "c.sqlite")
    a.register(spec), b.register(spec)
    oa, ob = new_owner_id(), new_owner_id()
    ca, cb = a.claim(oa, 4, lease=60), b.claim(ob, 4, lease=0.2)
    assert len(ca) == len(cb) == 4 and not {c.hash for c in ca} & {c.hash for c in cb}
    assert a.record(oa, ca[0].hash, {"status": "done", "metrics": "{}"})
    assert not b.record(ob, ca[1].hash, {"status": "done"})  # not b's cell: refused
    time.sleep(0.3)  # b stops renewing: its leases run out and a takes its cells over
    taken = a.claim(oa, 10, lease=60)
    assert {c.hash for c in cb} <= {c.hash for c in taken}
    assert all(c.taken_over == (c.hash in {x.hash for x in cb}) for c in taken)
    assert all(c.attempt == 2 for c in taken if c.taken_over)
    assert not b.record(ob, cb[0].hash, {"status": "done"})  # late result of b: discarded
    assert a.counts() == {"pending": 0, "running": 9, "done": 1, "failed": 0}
    a.close(), b.close()


def test_a_raising_task_is_recorded_failed_and_the_grid_goes_on(tmp_path, capsys):
    grid = tmp_path / "probe.toml"
    grid.write_text(
        f'[grid]\nname = "probe"\nexperiment = "grid_experiments:probe"\n'
        f'[fixed]\nlog = "{tmp_path / "log"}"\nfail_on = [2, 4]\n'
        f"[axes]\ni = {{range = [0, 6, 1]}}\n"
    )
    assert main(["grid", "run", str(grid), "--serial"]) == 1
    out = capsys.readouterr().out
    assert "6 run (4 done, 2 failed)" in out and "ValueError: cell 2 fails on purpose" in out
    with Store(tmp_path / "probe.sqlite") as store:
        rows = {r["settings"]["i"]: r for r in store.rows()}
    assert {i for i, r in rows.items() if r["status"] == "failed"} == {2, 4}
    assert rows[4]["error"].startswith("ValueError: cell 4 fails on purpose\n")
    assert "grid_experiments.py" in rows[4]["error"]  # the traceback's last frames
    assert rows[3]["metrics"] == {"square": 9, "seed_plus_i": 3}
    assert main(["grid", "status", str(grid)]) == 0
    status = capsys.readouterr().out
    assert "6 cells: 0 pending, 0 running, 4 done, 2 failed" in status
    assert "failed" in status and '"i": 2' in status
    assert executions(tmp_path / "log") == {i: 1 for i in range(6)}
    assert main(["grid", "run", str(grid), "--serial", "--retry-failed"]) == 1  # fail again
    assert "2 run (0 done, 2 failed), 4 already finished" in capsys.readouterr().out


def test_two_concurrent_drivers_share_the_work_without_duplicates(tmp_path):
    log, n = tmp_path / "log", 40
    grid = tmp_path / "probe.toml"
    grid.write_text(
        f'[grid]\nname = "probe"\nexperiment = "grid_experiments:probe"\n'
        f'[fixed]\nlog = "{log}"\nseconds = 0.1\n[axes]\ni = {{range = [0, {n}, 1]}}\n'
    )
    env = {**os.environ, "PYTHONPATH": f"{TESTS}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    drivers = [
        subprocess.Popen(
            [sys.executable, "-m", "lyapunov_lion", "grid", "run", str(grid), "--serial"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [d.communicate(timeout=120) for d in drivers]
    assert [d.returncode for d in drivers] == [0, 0], outs
    assert executions(log) == {i: 1 for i in range(n)}  # each cell ran exactly once
    with Store(tmp_path / "probe.sqlite") as store:
        rows, runs = store.rows(), store.runs()
    assert len(rows) == n and all(r["status"] == "done" and r["attempts"] == 1 for r in rows)
    assert len(runs) == 2 and sum(r["done"] for r in runs) == n
    assert all(r["done"] > 0 for r in runs)  # both worked on the grid at the same time
    assert all(r["discarded"] == 0 and r["taken_over"] == 0 for r in runs)


def _open_at_barrier(path: str, barrier) -> str:
    barrier.wait()
    try:
        Store(path).close()
    except Exception as exc:  # the assertion below shows what went wrong
        return f"{type(exc).__name__}: {exc}"
    return ""


def test_processes_opening_a_new_store_at_once_all_get_in(tmp_path):
    # Switching a new file to WAL answers a concurrent opener with SQLITE_BUSY without calling the
    # busy handler. Before the open retried, 4 processes racing on a new file failed in 47 of 200
    # rounds, so 30 rounds would all pass by luck with probability 0.77**30 < 1e-3.
    import multiprocessing as mp

    ctx = mp.get_context("fork" if sys.platform.startswith("linux") else "spawn")
    with ctx.Manager() as manager, ctx.Pool(4) as pool:
        for round_ in range(30):
            barrier = manager.Barrier(4)
            path = str(tmp_path / f"s{round_}.sqlite")
            errors = [e for e in pool.starmap(_open_at_barrier, [(path, barrier)] * 4) if e]
            assert errors == [], (round_, errors)
            with Store(path) as store:
                assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_file_that_is_not_sqlite_is_refused_in_one_line(tmp_path):
    bad = tmp_path / "notes.sqlite"
    bad.write_text("these are my notes, not a database\n" * 20)
    with pytest.raises(LionKError, match="is not a grid store"):
        Store(bad)


def test_export_and_plot(tmp_path, capsys):
    run_grid(parse_grid(TOY), tmp_path / "s.sqlite", serial=True)
    store = str(tmp_path / "s.sqlite")
    assert main(["grid", "export", store, "--csv", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split(",")
    assert len(lines) == 9 and "settings.lam" in header and "metrics.distance" in header
    assert main(["grid", "export", store, "--json", str(tmp_path / "s.json")]) == 0
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["grid"]["axes"]["lam"] == [0.5, 2.0] and len(data["cells"]) == 8
    assert main(["grid", "export", store]) == 2
    png = tmp_path / "distance.png"
    assert main(["grid", "plot", store, "--metric", "distance", "--log", "-o", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    assert main(["grid", "plot", store, "--metric", "nope", "-o", str(png)]) == 2
    assert "no finished cell has a numeric metric 'nope'" in capsys.readouterr().err


def test_compare_finds_a_changed_metric(tmp_path, capsys):
    run_grid(parse_grid(TOY), tmp_path / "a.sqlite", serial=True)
    shutil.copy(tmp_path / "a.sqlite", tmp_path / "b.sqlite")
    a, b = str(tmp_path / "a.sqlite"), str(tmp_path / "b.sqlite")
    assert main(["grid", "compare", a, b]) == 0
    assert (
        "8 cells in both: 8 with the same status and identical metrics, 0 differ"
        in capsys.readouterr().out
    )
    with Store(b) as store:  # one metric off in the last digit
        row = store.rows()[3]
        metrics = {**row["metrics"], "f_final": np.nextafter(row["metrics"]["f_final"], 1.0)}
        store.db.execute(
            "UPDATE tasks SET metrics = ? WHERE hash = ?", (json.dumps(metrics), row["hash"])
        )
    assert main(["grid", "compare", a, b]) == 1
    out = capsys.readouterr().out
    assert "7 with the same status and identical metrics, 1 differ" in out
    assert f"differs {row['hash']}" in out


def test_sweep_experiment_is_lionk_sweep_per_cell(tmp_path):
    from lyapunov_lion.grid.report import lambda_series
    from lyapunov_lion.sweep import lambda_sweep

    grid = {
        "grid": {"name": "sw", "experiment": "sweep"},
        "fixed": {"lams": {"linspace": [0.5, 2.0, 4]}, "steps": 400, "window": 50},
        "axes": {"K": ["l1", {"name": "huber", "delta": 0.5}]},
    }
    run_grid(parse_grid(grid), tmp_path / "sw.sqlite", serial=True)
    with Store(tmp_path / "sw.sqlite") as store:
        rows = store.rows()
    direct = lambda_sweep("l1", "toy", [0.5, 1.0, 1.5, 2.0], steps=400, window=50)
    assert rows[0]["metrics"]["loss"] == direct.loss.tolist()
    assert rows[0]["metrics"]["max_error"] == direct.max_error
    series = lambda_series(rows, "loss")
    assert sorted(series) == ["K=huber(delta=0.5)", "K=l1"]
    assert list(series["K=l1"]) == [0.5, 1.0, 1.5, 2.0]
    assert [v[0] for v in series["K=l1"].values()] == direct.loss.tolist()


def test_leases_are_renewed_during_a_long_cell_and_given_back_on_interrupt(tmp_path):
    import threading

    spec = parse_grid(probe_grid(tmp_path / "log", 2, seconds=2.5))
    path = tmp_path / "l.sqlite"
    worker = threading.Thread(
        target=run_grid, args=(spec, path), kwargs={"serial": True, "lease": 0.8}
    )
    worker.start()
    # The first cell runs for 2.5 s; at 1.6 s (2 leases) it is still held by its driver, which
    # renews every lease/4 = 0.2 s, so a renewal may be late by up to 0.6 s under load.
    time.sleep(1.6)
    with Store(path) as other:
        other.register(spec)
        assert other.claim(new_owner_id(), 10, lease=60) == []
    worker.join()

    def interrupt(progress):
        if progress.done:
            raise KeyboardInterrupt

    spec = parse_grid(probe_grid(tmp_path / "log2", 6))
    with contextlib.suppress(KeyboardInterrupt):
        run_grid(spec, tmp_path / "i.sqlite", serial=True, progress=interrupt)
    with Store(tmp_path / "i.sqlite") as store:
        store.register(spec)
        counts = store.counts()
    assert counts["running"] == 0 and counts["done"] >= 1 and counts["pending"] >= 1
