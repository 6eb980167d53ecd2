"""Where cells run: a Dask cluster (embedded `LocalCluster` or an existing scheduler) or serially.

The driver talks to an executor through four calls: ``submit(key, experiment, settings)`` →
handle, ``wait(handles, timeout)`` → the finished ones, ``outcome(handle)`` → the dict of
`run_cell` (or `TaskLost` if the worker died or the cluster failed it), and ``slots`` (how many
cells can run at once). dask is imported here only, and only when a Dask executor is made.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from ..errors import LionKError
from .task import run_cell


class TaskLost(RuntimeError):
    """A task did not come back: its worker died, or the cluster gave up on it."""


class SerialExecutor:
    """Runs each cell in this process, one at a time (no dask needed)."""

    slots = 1

    def __init__(self, note: str = ""):
        self.description = "serial (this process)" + (f"; {note}" if note else "")
        self._results: dict[str, Any] = {}

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def submit(self, key: str, experiment: str, settings: dict) -> str:
        self._results[key] = (experiment, settings)
        return key

    def wait(self, handles, timeout: float) -> list[str]:
        key = next(iter(handles))
        experiment, settings = self._results[key]
        self._results[key] = run_cell(experiment, settings)
        return [key]

    def outcome(self, handle: str) -> dict[str, Any]:
        return self._results.pop(handle)


class DaskExecutor:
    """Cells as Dask tasks, on an embedded `LocalCluster` (processes, one thread per worker) or
    on the scheduler at ``address``.

    The embedded cluster sets ``distributed.scheduler.allowed-failures`` to 0, so a task whose
    worker dies comes back at once as `TaskLost` and the driver counts and bounds the retry; an
    existing cluster keeps its own setting (it may retry silently before the driver sees it).
    """

    def __init__(self, address: str | None = None, workers: int | None = None):
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise LionKError("--scheduler needs dask: pip install 'lyapunov_lion[dask]'") from None
        self.cluster = None
        if address is None:
            n = workers or os.cpu_count() or 1
            with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
                self.cluster = LocalCluster(
                    n_workers=n,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
            self.client = Client(self.cluster)
            self.description = f"dask LocalCluster, {n} worker processes × 1 thread"
        else:
            try:
                self.client = Client(address, timeout="10s")
            except (OSError, TimeoutError, asyncio.TimeoutError) as exc:
                raise LionKError(
                    f"cannot reach the Dask scheduler at {address} ({exc}); start "
                    "one with `dask scheduler` or drop --scheduler"
                ) from None
            self.description = f"dask scheduler {address}"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    @property
    def slots(self) -> int:
        workers = self.client.scheduler_info()["workers"].values()
        return max(1, sum(w.get("nthreads", 1) for w in workers))

    def submit(self, key: str, experiment: str, settings: dict):
        return self.client.submit(run_cell, experiment, settings, key=key, pure=False)

    def wait(self, handles, timeout: float) -> list:
        from distributed import wait

        try:
            done, _ = wait(list(handles), timeout=timeout, return_when="FIRST_COMPLETED")
        except (TimeoutError, asyncio.TimeoutError):  # distinct classes on Python 3.10
            return []
        return list(done)

    def outcome(self, handle) -> dict[str, Any]:
        if handle.status == "finished":
            return handle.result()
        try:
            exc = handle.exception(timeout=10)
        except Exception as err:  # noqa: BLE001 - a cancelled future raises here
            exc = err
        handle.release()
        raise TaskLost(f"{type(exc).__name__}: {exc}")


def make_executor(scheduler: str | None = None, workers: int | None = None, serial: bool = False):
    """The executor a run asks for; without dask installed, serial with a note."""
    if serial:
        return SerialExecutor()
    if scheduler is None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            return SerialExecutor(
                "dask is not installed, so cells run one after another "
                "(pip install 'lyapunov_lion[dask]' to run them in parallel)"
            )
    return DaskExecutor(scheduler, workers)
