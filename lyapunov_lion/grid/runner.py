"""Use case: run a grid — claim cells in the store, run them on an executor, record each result.

The driver loop: claim as many cells as the executor has slots (plus a small queue), submit
them, wait for the first to finish (at most a heartbeat), record it in one transaction, report
progress, repeat; a thread renews the driver's leases meanwhile. A cell whose worker died is
resubmitted under the same claim until ``max_attempts`` is reached, then recorded failed. When
nothing is left to claim but other drivers still hold cells, the driver waits and takes over any
whose owner dies or whose lease runs out, so when `run_grid` returns every cell of the grid is
done or failed. An interrupted driver (Ctrl-C) gives its claims back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LionKError
from .executors import TaskLost, make_executor
from .spec import GridSpec, load_grid, parse_grid
from .store import Store, new_owner_id


@dataclass
class Progress:
    """Counts over the whole grid (``done``/``failed`` include cells finished earlier or by other
    drivers) and this run's rate; ``eta`` in seconds (None until a cell finished in this run)."""

    grid: str
    total: int
    done: int
    failed: int
    running: int
    retries: int
    elapsed: float
    eta: float | None


@dataclass
class GridRun:
    """What one `run_grid` call did."""

    grid: str
    store: Path
    executor: str
    cells: int
    already_finished: int = 0  # done or failed before this run started (skipped)
    ran: int = 0  # cells this run recorded
    done: int = 0
    failed: int = 0
    retries: int = 0  # resubmissions after a lost worker
    taken_over: int = 0  # cells claimed from a dead driver or an expired lease
    discarded: int = 0  # results that came back after this driver lost the claim
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    hashes: list[str] = field(default_factory=list, repr=False)  # the grid's cells, grid order

    def rows(self, statuses: tuple[str, ...] = ("done", "failed")) -> list[dict[str, Any]]:
        """This grid's cells with these statuses, in grid order: dicts with ``settings`` and
        ``metrics`` (decoded), ``status``, ``hash``, ``error``, ``duration``, ``host``, ... — the
        results of every cell, whether this run or an earlier one computed it (not the cells of
        an earlier definition of the grid that the store still holds)."""
        with Store(self.store) as db:
            by_hash = {r["hash"]: r for r in db.rows(statuses)}
        return [by_hash[h] for h in self.hashes if h in by_hash]

    def summary(self) -> str:
        return (
            f"grid {self.grid}: {self.cells} cells; this run: {self.ran} run ({self.done} "
            f"done, {self.failed} failed), {self.already_finished} already finished "
            f"(skipped), {self.taken_over} taken over from a stopped driver, {self.retries} "
            f"retries after a lost worker, {self.discarded} discarded; {self.seconds:.1f} s "
            f"on {self.executor}; store {self.store}"
        )


def default_store(grid_path: str | Path) -> Path:
    """GRID.toml → GRID.sqlite beside it."""
    return Path(grid_path).with_suffix(".sqlite")


def run_grid(
    grid: str | Path | GridSpec | Mapping[str, Any],
    store: str | Path | None = None,
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    serial: bool = False,
    max_attempts: int = 3,
    lease: float = 60.0,
    retry_failed: bool = False,
    progress: Callable[[Progress], None] | None = None,
    heartbeat: float = 1.0,
) -> GridRun:
    """Run every cell of ``grid`` not yet finished in ``store`` and record the results.

    ``grid``: a grid file, a `GridSpec`, or the same content as a dict
    (``{"grid": {"name": ..., "experiment": ...}, "fixed": {...}, "axes": {...}}``, see
    `parse_grid`; tuples count as lists); then ``store`` must be given. The returned `GridRun`
    counts what this run did and ``.rows()`` reads every cell's settings and metrics back from the
    store, e.g.::

        run = run_grid({"grid": {"name": "lam", "experiment": "train"},
                        "fixed": {"steps": 200}, "axes": {"lam": [0.0, 1.0], "seed": [0, 1]}},
                       "lam.sqlite", workers=2)
        accuracy = {(r["settings"]["lam"], r["settings"]["seed"]): r["metrics"]["test_accuracy"]
                    for r in run.rows(("done",))}

    ``scheduler``: address of an existing Dask scheduler (tcp://HOST:PORT); default an embedded
    LocalCluster with ``workers`` processes (default: the number of cores), or ``serial``.
    ``max_attempts`` bounds the runs of a cell whose worker dies; ``lease`` (s) is how long a
    claim survives a silent driver; ``retry_failed`` reruns cells recorded failed.
    """
    if isinstance(grid, GridSpec):
        spec = grid
    elif isinstance(grid, Mapping):
        spec = parse_grid(_as_toml(grid))
    else:
        spec = load_grid(grid)
    if store is None:
        if isinstance(grid, (GridSpec, Mapping)):
            raise LionKError("give the store file for a grid built in Python")
        store = default_store(grid)
    if max_attempts < 1 or lease <= 0:
        raise LionKError("need --max-attempts ≥ 1 and --lease > 0")
    owner = new_owner_id()
    t0 = time.perf_counter()
    with Store(store) as db, make_executor(scheduler, workers, serial) as executor:
        hashes = db.register(spec)
        if retry_failed:
            db.reset_failed()
        counts = db.counts()
        run = GridRun(
            spec.name,
            db.path,
            executor.description,
            len(hashes),
            already_finished=counts["done"] + counts["failed"],
            hashes=hashes,
        )
        db.start_run(owner, executor.description, len(hashes), run.already_finished)
        with _LeaseKeeper(db.path, owner, lease):
            try:
                _drive(
                    spec.experiment,
                    db,
                    executor,
                    owner,
                    run,
                    max_attempts,
                    lease,
                    heartbeat,
                    lambda: progress and progress(_progress(spec.name, db, run, t0)),
                )
            except BaseException:  # interrupted (Ctrl-C) or broken: give the claims back
                db.release(owner)
                raise
            finally:
                run.seconds = time.perf_counter() - t0
                db.update_run(owner, finished=True, **_counts(run))
    return run


def _as_toml(value):
    """A grid dict from Python as TOML would give it: tuples → lists, mappings → dicts."""
    if isinstance(value, Mapping):
        return {k: _as_toml(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_toml(v) for v in value]
    return value


def _counts(run: GridRun) -> dict[str, int]:
    return {
        "done": run.done,
        "failed": run.failed,
        "retries": run.retries,
        "taken_over": run.taken_over,
        "discarded": run.discarded,
    }


class _LeaseKeeper(threading.Thread):
    """Renews this driver's leases every lease/4 (at most 5 s) from its own connection, so a
    claim stays valid however long a cell (or a serial run) takes, as long as the driver lives."""

    def __init__(self, path: Path, owner: str, lease: float):
        super().__init__(name="lease-keeper", daemon=True)
        self.path, self.owner, self.lease = path, owner, lease
        self.stopped = threading.Event()

    def run(self) -> None:
        with Store(self.path) as db:
            while not self.stopped.wait(min(self.lease / 4, 5.0)):
                db.renew(self.owner, self.lease)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        self.join()


def _drive(
    experiment, db: Store, executor, owner, run: GridRun, max_attempts, lease, heartbeat, report
) -> None:
    inflight: dict = {}  # handle → (hash, settings, attempt)
    last_update = time.monotonic()
    while True:
        for claim in db.claim(owner, executor.slots + 2 - len(inflight), lease):
            run.taken_over += claim.taken_over
            key = f"cell-{claim.hash}-{claim.attempt}"
            inflight[executor.submit(key, experiment, claim.settings)] = (
                claim.hash,
                claim.settings,
                claim.attempt,
            )
        if not inflight:
            if not db.others_active(owner):
                report()
                return
            time.sleep(heartbeat)  # another driver holds cells: take them over if it dies
        for handle in executor.wait(inflight, timeout=heartbeat) if inflight else ():
            hash, settings, attempt = inflight.pop(handle)
            try:
                outcome = executor.outcome(handle)
            except TaskLost as lost:
                again = db.retry(owner, hash) if attempt < max_attempts else None
                if again is not None:
                    run.retries += 1
                    key = f"cell-{hash}-{again}"
                    inflight[executor.submit(key, experiment, settings)] = (hash, settings, again)
                    continue
                outcome = {
                    "status": "failed",
                    "error": f"task lost on attempt {attempt} of "
                    f"{max_attempts} (worker died or cluster failed it): {lost}",
                }
            if db.record(owner, hash, outcome):
                run.ran += 1
                run.done += outcome["status"] == "done"
                run.failed += outcome["status"] == "failed"
                if outcome["status"] == "failed" and len(run.failures) < 20:
                    run.failures.append((hash, outcome["error"].splitlines()[0]))
            else:
                run.discarded += 1
        if time.monotonic() - last_update > 5.0:
            db.update_run(owner, finished=False, **_counts(run))
            last_update = time.monotonic()
        report()


def _progress(name: str, db: Store, run: GridRun, t0: float) -> Progress:
    c = db.counts()
    elapsed = time.perf_counter() - t0
    left = c["pending"] + c["running"]
    eta = elapsed / run.ran * left if run.ran >= 5 else None  # a few cells first, then a rate
    return Progress(
        name, run.cells, c["done"], c["failed"], c["running"], run.retries, elapsed, eta
    )
