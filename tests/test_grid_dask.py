"""Grids on real Dask clusters on 127.0.0.1 (worker processes, one thread each): a worker killed
mid-task, a task that raises, a driver killed with SIGKILL and restarted, and the same numbers
as a serial run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lyapunov_lion.cli import main
from lyapunov_lion.grid import Store, parse_grid, run_grid

TESTS = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS))
from grid_experiments import executions  # noqa: E402


@pytest.fixture(scope="module")
def worker_env():
    """tests/ on the PYTHONPATH of every process started from here (workers import
    grid_experiments from it)."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TESTS), old]))
    yield dict(os.environ)
    if old is None:
        del os.environ["PYTHONPATH"]
    else:
        os.environ["PYTHONPATH"] = old


@pytest.fixture(scope="module")
def scheduler(worker_env):
    """An existing cluster, as `--scheduler` finds it: 2 worker processes × 1 thread."""
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    ) as cluster:
        yield cluster.scheduler_address


def probe(tmp_path: Path, n: int, **fixed) -> dict:
    return {
        "grid": {"name": "probe", "experiment": "grid_experiments:probe"},
        "fixed": {"log": str(tmp_path / "log"), **fixed},
        "axes": {"i": list(range(n))},
    }


def test_embedded_cluster_retries_a_killed_worker_and_records_a_raising_task(tmp_path, worker_env):
    """The default executor (its own LocalCluster): cell 5 kills its worker process with SIGKILL
    on its first run and is retried on a live worker; cell 3 raises and is recorded failed."""
    spec = parse_grid(probe(tmp_path, 12, seconds=0.2, die_on=[5], fail_on=[3]))
    run = run_grid(spec, tmp_path / "g.sqlite", workers=2)
    assert run.executor.startswith("dask LocalCluster, 2 worker processes")
    # the retried cells: cell 5, and any other cell the scheduler had already assigned to the
    # dying worker (with allowed-failures = 0 it fails them all at once, and the driver retries)
    assert (run.ran, run.done, run.failed) == (12, 11, 1) and 1 <= run.retries <= 2
    with Store(tmp_path / "g.sqlite") as store:
        rows = {r["settings"]["i"]: r for r in store.rows()}
    assert sorted(rows) == list(range(12))  # every cell exactly once
    assert sum(r["attempts"] - 1 for r in rows.values()) == run.retries
    assert rows[5]["status"] == "done" and rows[5]["attempts"] == 2
    assert rows[5]["metrics"] == {"square": 25, "seed_plus_i": 5}
    killed_pid = next(
        line.split()[1]
        for line in (tmp_path / "log").read_text().splitlines()
        if line.split()[0] == "5"
    )
    assert rows[5]["host"].rpartition(":")[2] != killed_pid  # it ran on another process
    assert rows[3]["status"] == "failed" and "cell 3 fails on purpose" in rows[3]["error"]
    assert all(
        rows[i]["status"] == "done" and rows[i]["metrics"]["square"] == i * i
        for i in rows
        if i != 3
    )
    runs = executions(tmp_path / "log")
    # a result held by the dying worker but not yet collected is recomputed by dask itself, so
    # a cell may *run* twice; the store still holds it once
    assert runs[5] == 2 and all(runs[i] >= 1 for i in range(12))


def test_scheduler_gives_the_numbers_of_a_serial_run(tmp_path, scheduler):
    grid = {
        "grid": {"name": "toy", "experiment": "simulate", "seeds": 2},
        "fixed": {"steps": 300, "lr": 0.01, "noise": 0.1, "history": ["kkt"]},
        "axes": {"K": ["l1", "linf"], "lam": [0.5, 1.0, 2.0]},
    }
    spec = parse_grid(grid)
    on_dask = run_grid(spec, tmp_path / "dask.sqlite", scheduler=scheduler)
    serial = run_grid(spec, tmp_path / "serial.sqlite", serial=True)
    assert on_dask.executor == f"dask scheduler {scheduler}"
    assert (on_dask.done, serial.done) == (12, 12)
    assert (
        main(["grid", "compare", str(tmp_path / "dask.sqlite"), str(tmp_path / "serial.sqlite")])
        == 0
    )
    with Store(tmp_path / "dask.sqlite") as a, Store(tmp_path / "serial.sqlite") as b:
        ra, rb = a.rows(), b.rows()
        assert [r["hash"] for r in ra] == [r["hash"] for r in rb] == [c.hash for c in spec.cells()]
        assert [r["metrics"] for r in ra] == [r["metrics"] for r in rb]  # bit for bit
        assert all(
            a.history(r["hash"])["kkt"].tobytes() == b.history(r["hash"])["kkt"].tobytes()
            for r in ra
        )
        assert len({r["host"] for r in ra}) == 2 and all(r["host"] for r in ra)


def test_a_driver_killed_mid_grid_resumes_where_it_stopped(tmp_path, scheduler, worker_env):
    n = 40
    grid = tmp_path / "probe.toml"
    grid.write_text(
        f'[grid]\nname = "probe"\nexperiment = "grid_experiments:probe"\n'
        f'[fixed]\nlog = "{tmp_path / "log"}"\nseconds = 0.15\n'
        f"[axes]\ni = {{range = [0, {n}, 1]}}\n"
    )
    store = tmp_path / "probe.sqlite"
    driver = subprocess.Popen(
        [sys.executable, "-m", "lyapunov_lion", "grid", "run", str(grid), "--scheduler", scheduler],
        env=worker_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while True:  # wait until the driver has recorded some cells, then kill it
        assert driver.poll() is None, driver.stderr.read()
        assert time.monotonic() < deadline
        if store.exists():
            with Store(store) as s:
                if s.counts(current_only=False)["done"] >= 8:
                    break
        time.sleep(0.05)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    with Store(store) as s:
        before = {r["settings"]["i"]: r for r in s.rows()}
    done_before = {i for i, r in before.items() if r["status"] == "done"}
    running_before = {i for i, r in before.items() if r["status"] == "running"}
    assert 8 <= len(done_before) < n and running_before  # killed mid-grid, cells in flight

    run = run_grid(grid, scheduler=scheduler)
    assert run.already_finished == len(done_before)  # finished cells are skipped ...
    assert run.taken_over == len(running_before)  # ... the dead driver's are taken
    assert run.ran == n - len(done_before) and run.done == run.ran
    with Store(store) as s:
        after = {r["settings"]["i"]: r for r in s.rows()}
    assert sorted(after) == list(range(n))
    assert all(r["status"] == "done" and r["metrics"]["square"] == i * i for i, r in after.items())
    assert all(after[i]["finished"] == before[i]["finished"] for i in done_before)
    runs = executions(tmp_path / "log")
    assert all(runs[i] == 1 for i in done_before)  # nothing finished was run again
    assert all(runs.get(i, 0) >= 1 for i in range(n))
    assert json.loads(json.dumps(after[7]["metrics"])) == {"square": 49, "seed_plus_i": 7}
