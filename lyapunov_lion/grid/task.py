"""What runs on a worker: one cell, whatever happens, becomes one outcome dict.

`run_cell` never raises for a failure of the experiment itself: the error text goes into the
outcome (status ``failed``) and the driver records it. An exception *around* a task (the worker
process died, the scheduler went away) is therefore always an infrastructure fault, which the
driver retries. Workers never touch the store: they return the outcome to the driver.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import traceback
from typing import Any

import numpy as np


def _jsonable(value: Any) -> Any:
    """numpy arrays and scalars → lists and Python numbers (json's ``default`` hook)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"metric of type {type(value).__name__} is not JSON-serialisable")


def _metrics_and_history(result: Any) -> tuple[dict, dict]:
    from .experiments import CellResult

    metrics = getattr(result, "metrics", result)
    if not isinstance(metrics, dict):
        raise TypeError(
            "an experiment returns a dict of metrics or an object with .metrics "
            f"(got {type(result).__name__})"
        )
    history = result.history if isinstance(result, CellResult) else {}
    return metrics, {str(k): np.ascontiguousarray(v, dtype=float) for k, v in history.items()}


def run_cell(experiment: str, settings: dict[str, Any]) -> dict[str, Any]:
    """Run one cell: resolve the experiment, call it with ``settings`` and time it.

    Returns ``status`` (done/failed), ``metrics`` (JSON text), ``history`` (name → float64
    array), ``error`` (type, message and the last frames of the traceback), ``host``
    (hostname:pid), ``started``/``finished`` (Unix time) and ``duration`` (s, wall clock).
    """
    from .experiments import resolve

    started, t0 = time.time(), time.perf_counter()
    out: dict[str, Any] = {"status": "done", "metrics": None, "history": {}, "error": None}
    try:
        if "torch" in sys.modules:  # one thread per worker (train_cell sets it on first import)
            sys.modules["torch"].set_num_threads(1)
        result = resolve(experiment)(**settings)
        metrics, out["history"] = _metrics_and_history(result)
        out["metrics"] = json.dumps(metrics, default=_jsonable, allow_nan=True, sort_keys=True)
    except Exception as exc:  # noqa: BLE001 - any failure of the experiment is recorded, not raised
        frames = traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3)
        out.update(
            status="failed",
            history={},
            error=f"{type(exc).__name__}: {exc}\n" + "".join(frames[-3:]).rstrip(),
        )
    out.update(
        host=f"{socket.gethostname()}:{os.getpid()}",
        started=started,
        finished=time.time(),
        duration=time.perf_counter() - t0,
    )
    return out
