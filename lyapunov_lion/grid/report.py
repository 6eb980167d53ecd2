"""Reading a store: the status summary, flat rows for CSV/JSON export, and λ-series for plots."""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from typing import Any

import numpy as np

from .store import STATUSES, Store

_COLUMNS = ("hash", "idx", "status", "attempts", "host", "started", "finished", "duration", "error")


def status_text(store: Store, failures: int = 5) -> str:
    """Cells per status, attempts beyond the first, the driver runs, the first errors."""
    meta = store.meta()
    rows = store.rows()
    counts = {s: 0 for s in STATUSES}
    for r in rows:
        counts[r["status"]] += 1
    extra = sum(max(r["attempts"] - 1, 0) for r in rows)
    lines = [
        f"grid {meta.get('grid', '?')!r} ({meta.get('experiment', '?')}) in {store.path}: "
        f"{len(rows)} cells: "
        + ", ".join(f"{counts[s]} {s}" for s in STATUSES)
        + f"; {extra} attempts beyond the first"
    ]
    durations = [r["duration"] for r in rows if r["duration"] is not None]
    if durations:
        lines.append(
            f"task time: total {sum(durations):.1f} s, median {np.median(durations):.3g} s"
            f", max {max(durations):.3g} s, on {len({r['host'] for r in rows if r['host']})}"
            " worker processes"
        )
    for run in store.runs():
        state = "finished" if run["finished"] else "stopped or still running"
        lines.append(
            f"run {run['id']} ({run['executor']}, {state}): {run['done']} done, "
            f"{run['failed']} failed, {run['already_finished']} already finished, "
            f"{run['retries']} retries, {run['taken_over']} taken over, "
            f"{run['discarded']} discarded"
        )
    failed = [r for r in rows if r["status"] == "failed"]
    for r in failed[:failures]:
        lines.append(
            f"failed {r['hash']} {json.dumps(r['settings'], sort_keys=True)}: "
            f"{(r['error'] or '').splitlines()[0] if r['error'] else '?'}"
        )
    if len(failed) > failures:
        lines.append(f"... and {len(failed) - failures} more failed cells (lionk grid export)")
    return "\n".join(lines)


def compare_text(a: Store, b: Store) -> tuple[str, bool]:
    """Cell by cell (matched by hash): same status and exactly the same metrics in both stores?
    Returns the report and whether the stores agree on every cell."""
    ra, rb = ({r["hash"]: r for r in s.rows()} for s in (a, b))
    both = [h for h in ra if h in rb]
    differ = [
        h
        for h in both
        if (ra[h]["status"], ra[h]["metrics"]) != (rb[h]["status"], rb[h]["metrics"])
    ]
    only_a, only_b = len(ra) - len(both), len(rb) - len(both)

    def done(rows):
        return sum(r["status"] == "done" for r in rows.values())

    lines = [
        f"{a.path}: {len(ra)} cells ({done(ra)} done); {b.path}: {len(rb)} cells ({done(rb)} done)",
        f"{len(both)} cells in both: {len(both) - len(differ)} with the same status and "
        f"identical metrics, {len(differ)} differ; {only_a} only in the first, {only_b} "
        "only in the second",
    ]
    for h in differ[:5]:
        lines.append(
            f"differs {h} {json.dumps(ra[h]['settings'], sort_keys=True)}: "
            f"{ra[h]['status']} {ra[h]['metrics']} vs {rb[h]['status']} {rb[h]['metrics']}"
        )
    return "\n".join(lines), not (differ or only_a or only_b)


def flat_rows(store: Store, statuses=STATUSES) -> list[dict[str, Any]]:
    """One flat dict per cell: the bookkeeping columns, ``settings.NAME`` and ``metrics.NAME``."""
    out = []
    for r in store.rows(statuses):
        row = {c: r[c] for c in _COLUMNS}
        row.update({f"settings.{k}": v for k, v in r["settings"].items()})
        row.update({f"metrics.{k}": v for k, v in (r["metrics"] or {}).items()})
        out.append(row)
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CSV text; lists and tables become JSON text in their cell."""
    columns = list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow(
            {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in r.items()}
        )
    return buf.getvalue()


def to_json(store: Store, statuses=STATUSES) -> str:
    """The grid definition and every cell (settings and metrics nested) as one JSON document."""
    meta = store.meta()
    return json.dumps(
        {"grid": json.loads(meta.get("definition", "null")), "cells": store.rows(statuses)},
        indent=1,
        ensure_ascii=False,
    )


def lambda_series(
    rows: list[dict[str, Any]], metric: str, x: str = "lam"
) -> dict[str, dict[float, list[float]]]:
    """Done cells grouped into series (every varying setting except ``x`` and the seed names a
    series, e.g. "K=l1"): series → x value → the metric over seeds. A cell whose metric is a list
    as long as its ``metrics[x]`` list (a batched sweep) contributes one point per entry."""
    done = [r for r in rows if r["status"] == "done" and r["metrics"] is not None]
    if not done:
        return {}
    keys = sorted({k for r in done for k in r["settings"]} - {x, "seed"})
    varying = [
        k for k in keys if len({json.dumps(r["settings"].get(k), sort_keys=True) for r in done}) > 1
    ]
    series: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in done:
        label = ", ".join(f"{k}={_short(r['settings'].get(k))}" for k in varying) or metric
        value = r["metrics"].get(metric)
        if x in r["settings"]:
            points = [(r["settings"][x], value)]
        else:
            xs = r["metrics"].get(x)
            points = (
                list(zip(xs, value, strict=True))
                if isinstance(xs, list) and isinstance(value, list) and len(xs) == len(value)
                else []
            )
        for xv, yv in points:
            if isinstance(yv, (int, float)) and not isinstance(yv, bool):
                series[label][float(xv)].append(float(yv))
    return {k: dict(v) for k, v in series.items()}


def _short(value: Any) -> str:
    if isinstance(value, dict):
        name = value.get("name", "")
        rest = ",".join(f"{k}={v}" for k, v in value.items() if k != "name")
        return f"{name}({rest})" if name else rest
    return str(value)
