"""The results store: one SQLite file (WAL mode) per grid, written by drivers only.

Tables:

- ``tasks``: one row per cell (primary key: the content hash): settings (JSON), status
  (pending → running → done | failed), attempts, the claim (``owner``, ``lease_until``),
  metrics (JSON), error text, host, timings (claimed, started, finished, duration).
- ``histories``: per-step series of a cell (hash, name, float64 bytes), where asked.
- ``runs``: one row per driver run with its counts (cells, already finished, done, failed,
  retries after a lost worker, cells taken over from a dead driver, results discarded).
- ``meta``: the grid's name, experiment and definition.

Every write is one transaction (``with self.db``), so a killed driver never leaves a half-written
row. Work is shared by *claims*: a driver takes pending cells in a ``BEGIN IMMEDIATE``
transaction (SQLite's write lock serialises concurrent claimers) and marks them ``running`` with
its owner id and a lease; it renews the lease while it works. A cell whose lease ran out, or
whose owner is a dead process on this host, can be claimed again (a driver killed mid-grid). A
result is recorded only if the driver still owns the cell, so no cell is ever recorded twice.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import LionKError
from .spec import GridSpec

SCHEMA_VERSION = "1"
STATUSES = ("pending", "running", "done", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
    hash TEXT PRIMARY KEY,
    idx INTEGER NOT NULL,
    experiment TEXT NOT NULL,
    settings TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'running', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    owner TEXT, lease_until REAL,
    metrics TEXT, error TEXT, host TEXT,
    claimed REAL, started REAL, finished REAL, duration REAL
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks (status, idx);
CREATE TABLE IF NOT EXISTS histories (
    hash TEXT NOT NULL REFERENCES tasks (hash), name TEXT NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (hash, name)
);
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, host TEXT, pid INTEGER, executor TEXT, started REAL, finished REAL,
    cells INTEGER, already_finished INTEGER, done INTEGER DEFAULT 0, failed INTEGER DEFAULT 0,
    retries INTEGER DEFAULT 0, taken_over INTEGER DEFAULT 0, discarded INTEGER DEFAULT 0
);
"""


@dataclass(frozen=True)
class Claim:
    """A cell a driver has claimed: run it as attempt number ``attempt``."""

    hash: str
    settings: dict[str, Any]
    attempt: int
    taken_over: bool  # it was running under a driver that died or lost its lease


def new_owner_id() -> str:
    """hostname:pid:random — the pid lets a driver on the same host see that an owner is dead."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _owner_is_dead(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another host: only its lease tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _is_lock_error(exc: sqlite3.OperationalError) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (Python 3.10 has no ``sqlite_errorcode``; the text is stable)."""
    text = str(exc)
    return "database is locked" in text or "database table is locked" in text


def _open(path: Path, timeout: float) -> sqlite3.Connection:
    """Connect, switch to WAL and create the schema, retrying while another process holds a lock.

    Switching the journal mode to WAL needs an exclusive lock, and SQLite answers a concurrent
    opener with SQLITE_BUSY *without* calling the busy handler, so the connection ``timeout``
    does not cover it: two drivers starting on a new store at once failed 47 times in 200
    (4 processes; ``tests/test_grid_store.py`` shows the race). The open is retried with
    exponential backoff (5 ms doubling to 0.25 s) until ``timeout`` seconds have passed.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        db = sqlite3.connect(path, timeout=timeout, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(_SCHEMA)
            return db
        except sqlite3.OperationalError as exc:
            db.close()
            if not _is_lock_error(exc) or time.monotonic() + delay > deadline:
                raise
        except BaseException:
            db.close()
            raise
        time.sleep(delay)
        delay = min(2 * delay, 0.25)


class Store:
    """A grid's SQLite store (see the module docstring). Use as a context manager."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path)
        if not create and not self.path.exists():
            raise LionKError(f"store {self.path} does not exist (run `lionk grid run` first)")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = _open(self.path, timeout=60.0)
        except sqlite3.OperationalError as exc:
            if _is_lock_error(exc):
                raise LionKError(
                    f"{self.path} stayed locked for 60 s by another process; "
                    "wait for it or give another --store"
                ) from None
            raise LionKError(f"{self.path} is not a grid store ({exc})") from None
        except sqlite3.DatabaseError as exc:
            raise LionKError(f"{self.path} is not a grid store ({exc})") from None
        self.db.row_factory = sqlite3.Row

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    def _transaction(self):
        return _Transaction(self.db)

    # ------------------------------------------------------------------ the grid
    def meta(self) -> dict[str, str]:
        return {r["key"]: r["value"] for r in self.db.execute("SELECT key, value FROM meta")}

    def register(self, spec: GridSpec) -> list[str]:
        """Record the grid (a store holds one grid name) and insert its cells that are not yet
        there; returns the hashes of the grid's cells, in grid order."""
        cells = spec.cells()
        with self._transaction():
            meta = self.meta()
            if meta and meta.get("grid") != spec.name:
                raise LionKError(
                    f"store {self.path} holds grid {meta.get('grid')!r}, not "
                    f"{spec.name!r}; give another --store"
                )
            self.db.executemany(
                "INSERT OR REPLACE INTO meta VALUES (?, ?)",
                [
                    ("grid", spec.name),
                    ("experiment", spec.experiment),
                    ("definition", json.dumps(spec.to_dict())),
                    ("schema", SCHEMA_VERSION),
                ],
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO tasks (hash, idx, experiment, settings) VALUES (?,?,?,?)",
                [(c.hash, c.index, spec.experiment, json.dumps(c.settings)) for c in cells],
            )
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS current (hash TEXT PRIMARY KEY)")
        with self._transaction():
            self.db.execute("DELETE FROM current")
            self.db.executemany("INSERT INTO current VALUES (?)", [(c.hash,) for c in cells])
        return [c.hash for c in cells]

    def reset_failed(self) -> int:
        """Make the grid's failed cells pending again (``--retry-failed``)."""
        with self._transaction():
            return self.db.execute(
                "UPDATE tasks SET status = 'pending', attempts = 0, error = NULL "
                "WHERE status = 'failed' AND hash IN (SELECT hash FROM current)"
            ).rowcount

    def counts(self, current_only: bool = True) -> dict[str, int]:
        """Cells per status (of the registered grid, or of the whole store)."""
        where = "WHERE hash IN (SELECT hash FROM current)" if current_only else ""
        rows = self.db.execute(f"SELECT status, COUNT(*) FROM tasks {where} GROUP BY status")
        return {s: 0 for s in STATUSES} | dict(rows.fetchall())

    # ------------------------------------------------------------------ claims
    def claim(self, owner: str, n: int, lease: float) -> list[Claim]:
        """Atomically take up to ``n`` cells: pending ones, or running ones whose lease has run
        out or whose owner process is dead (grid order)."""
        if n <= 0:
            return []
        now = time.time()
        with self._transaction():
            stale = [
                o
                for (o,) in self.db.execute(
                    "SELECT DISTINCT owner FROM tasks WHERE status = 'running' AND owner != ?",
                    (owner,),
                )
                if _owner_is_dead(o)
            ]
            rows = self.db.execute(
                "SELECT hash, settings, attempts, status FROM tasks "
                "WHERE hash IN (SELECT hash FROM current) AND (status = 'pending' OR "
                "(status = 'running' AND owner != ? AND (lease_until < ? OR owner IN "
                f"({','.join('?' * len(stale))})))) ORDER BY idx LIMIT ?",
                (owner, now, *stale, n),
            ).fetchall()
            self.db.executemany(
                "UPDATE tasks SET status = 'running', owner = ?, lease_until = ?, claimed = ?, "
                "attempts = attempts + 1 WHERE hash = ?",
                [(owner, now + lease, now, r["hash"]) for r in rows],
            )
        return [
            Claim(r["hash"], json.loads(r["settings"]), r["attempts"] + 1, r["status"] == "running")
            for r in rows
        ]

    def renew(self, owner: str, lease: float) -> None:
        """Extend the lease of every cell this driver runs."""
        with self._transaction():
            self.db.execute(
                "UPDATE tasks SET lease_until = ? WHERE owner = ? AND status = 'running'",
                (time.time() + lease, owner),
            )

    def release(self, owner: str) -> int:
        """Give back the cells this driver holds (pending again), e.g. when it is interrupted."""
        with self._transaction():
            return self.db.execute(
                "UPDATE tasks SET status = 'pending', owner = NULL, "
                "lease_until = NULL WHERE owner = ? AND status = 'running'",
                (owner,),
            ).rowcount

    def retry(self, owner: str, hash: str) -> int | None:
        """Count one more attempt of a cell this driver still owns (its worker died);
        returns the new attempt number, or None if the claim was lost."""
        with self._transaction():
            row = self.db.execute(
                "UPDATE tasks SET attempts = attempts + 1 WHERE hash = ? AND owner = ? AND "
                "status = 'running' RETURNING attempts",
                (hash, owner),
            ).fetchone()
        return None if row is None else row[0]

    def record(self, owner: str, hash: str, outcome: dict[str, Any]) -> bool:
        """Write a finished cell (status, metrics, error, host, timings, histories) in one
        transaction, if this driver still owns it; False means the result was discarded."""
        with self._transaction():
            updated = self.db.execute(
                "UPDATE tasks SET status = ?, metrics = ?, error = ?, host = ?, started = ?, "
                "finished = ?, duration = ?, lease_until = NULL "
                "WHERE hash = ? AND owner = ? AND status = 'running'",
                (
                    outcome["status"],
                    outcome.get("metrics"),
                    outcome.get("error"),
                    outcome.get("host"),
                    outcome.get("started"),
                    outcome.get("finished"),
                    outcome.get("duration"),
                    hash,
                    owner,
                ),
            ).rowcount
            if updated:
                self.db.executemany(
                    "INSERT OR REPLACE INTO histories VALUES (?, ?, ?)",
                    [
                        (hash, name, np.asarray(v, dtype="<f8").tobytes())
                        for name, v in outcome.get("history", {}).items()
                    ],
                )
        return bool(updated)

    def others_active(self, owner: str) -> int:
        """Cells of the grid still pending or running under another driver."""
        return self.db.execute(
            "SELECT COUNT(*) FROM tasks WHERE hash IN (SELECT hash FROM current) AND "
            "(status = 'pending' OR (status = 'running' AND owner != ?))",
            (owner,),
        ).fetchone()[0]

    # ------------------------------------------------------------------ runs
    def start_run(self, owner: str, executor: str, cells: int, already_finished: int) -> None:
        with self._transaction():
            self.db.execute(
                "INSERT INTO runs (id, host, pid, executor, started, cells, already_finished) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    owner,
                    socket.gethostname(),
                    os.getpid(),
                    executor,
                    time.time(),
                    cells,
                    already_finished,
                ),
            )

    def update_run(self, owner: str, finished: bool = False, **counts: int) -> None:
        sets = ", ".join(f"{k} = ?" for k in counts) + (", finished = ?" if finished else "")
        values = list(counts.values()) + ([time.time()] if finished else [])
        with self._transaction():
            self.db.execute(f"UPDATE runs SET {sets} WHERE id = ?", (*values, owner))

    def runs(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self.db.execute("SELECT * FROM runs ORDER BY started")]

    # ------------------------------------------------------------------ reading
    def rows(self, statuses: Iterable[str] = STATUSES) -> list[dict[str, Any]]:
        """Every cell of the store as a dict, settings and metrics decoded (grid order)."""
        statuses = tuple(statuses)
        out = []
        for r in self.db.execute(
            f"SELECT * FROM tasks WHERE status IN ({','.join('?' * len(statuses))}) ORDER BY idx",
            statuses,
        ):
            row = dict(r)
            row["settings"] = json.loads(row["settings"])
            row["metrics"] = None if row["metrics"] is None else json.loads(row["metrics"])
            out.append(row)
        return out

    def history(self, hash: str) -> dict[str, np.ndarray]:
        """The per-step series stored for a cell (name → float64 array)."""
        return {
            name: np.frombuffer(data, dtype="<f8")
            for name, data in self.db.execute(
                "SELECT name, data FROM histories WHERE hash = ?", (hash,)
            )
        }


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on an exception). IMMEDIATE takes the write
    lock at the start (waiting up to the connection timeout), so a transaction that reads then
    writes never fails half-way on a concurrent writer."""

    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def __enter__(self):
        self.db.execute("BEGIN IMMEDIATE")
        return self.db

    def __exit__(self, exc_type, *exc) -> None:
        self.db.execute("ROLLBACK" if exc_type else "COMMIT")
