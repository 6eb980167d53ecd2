"""Experiments for the grid tests, referenced as ``grid_experiments:NAME`` (tests/ is put on the
workers' PYTHONPATH). Each execution appends a line to ``log``, so a test can count how often a
cell really ran, whichever process ran it."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path


def probe(*, i: int, log: str, seconds: float = 0.0, fail_on=(), die_on=(), seed: int = 0):
    """Log the execution, sleep ``seconds``; raise for i in ``fail_on``; for i in ``die_on``,
    SIGKILL the worker process on the first execution of the cell (a marker file remembers it)."""
    with open(log, "a") as f:
        f.write(f"{i} {os.getpid()}\n")
    marker = Path(f"{log}.died-{i}")
    if i in die_on and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(seconds)
    if i in fail_on:
        raise ValueError(f"cell {i} fails on purpose")
    return {"square": i * i, "seed_plus_i": seed + i}


def executions(log: str | Path) -> dict[int, int]:
    """How many times each cell ran, from the log."""
    counts: dict[int, int] = {}
    path = Path(log)
    for line in path.read_text().splitlines() if path.exists() else []:
        i = int(line.split()[0])
        counts[i] = counts.get(i, 0) + 1
    return counts
