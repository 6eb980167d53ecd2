"""``lionk grid``: run experiment grids on Dask (or serially) into a SQLite store, and read it."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .errors import LionKError


def _store_path(target: str) -> Path:
    """A store file, or a grid file (then its default store GRID.sqlite)."""
    from .grid import default_store

    return default_store(target) if target.endswith(".toml") else Path(target)


def _open_store(target: str):
    from .grid import Store

    return Store(_store_path(target), create=False)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class _ProgressLine:
    """Progress on stderr: one line rewritten in place on a terminal, else a line every 10 s."""

    def __init__(self):
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def __call__(self, p) -> None:
        finished = p.done + p.failed
        line = (
            f"grid {p.grid}: {finished}/{p.total} finished ({p.done} done, {p.failed} "
            f"failed), {p.running} running, {p.retries} retries, elapsed "
            f"{_clock(p.elapsed)}, ETA {_clock(p.eta)}"
        )
        now = time.monotonic()
        if self.tty:
            click.echo("\r" + line.ljust(100), nl=finished == p.total, err=True)
        elif now - self.last >= 10 or finished == p.total:
            click.echo(line, err=True)
            self.last = now


@click.group()
def grid() -> None:
    """Experiment grids: many runs as tasks on Dask (or serially), results in SQLite."""


@grid.command("run")
@click.argument("grid_file", type=click.Path(dir_okay=False))
@click.option(
    "--store",
    type=click.Path(dir_okay=False),
    default=None,
    help="The SQLite results store (default: GRID.sqlite beside the grid file).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Run on an existing Dask cluster instead of an embedded LocalCluster.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes of the embedded cluster (default: one per core).",
)
@click.option("--serial", is_flag=True, help="Run the cells one by one in this process.")
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="Runs of a cell whose worker dies before it is recorded failed.",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds a claim outlives a driver that stopped (on another host).",
)
@click.option("--retry-failed", is_flag=True, help="Run again the cells recorded failed.")
def run_cmd(grid_file, store, scheduler, workers, serial, max_attempts, lease, retry_failed):
    """Run every cell of GRID_FILE not yet finished in the store (rerun to resume). Exit 1 if a
    cell failed."""
    from .grid import run_grid

    if serial and (scheduler or workers):
        raise LionKError("--serial runs in this process; drop --scheduler and --workers")
    if scheduler and workers:
        raise LionKError(
            "--workers sizes the embedded cluster; an existing cluster (--scheduler) "
            "has the workers it was started with"
        )
    result = run_grid(
        grid_file,
        store,
        scheduler=scheduler,
        workers=workers,
        serial=serial,
        max_attempts=max_attempts,
        lease=lease,
        retry_failed=retry_failed,
        progress=_ProgressLine(),
    )
    click.echo(result.summary())
    for hash, error in result.failures[:5]:
        click.echo(f"failed {hash}: {error}")
    if result.failed:
        click.echo(f"see `lionk grid status {result.store}`; rerun with --retry-failed after a fix")
        raise click.exceptions.Exit(1)


@grid.command("status")
@click.argument("store")
def status_cmd(store):
    """Cells per status, retries, driver runs and the first errors of STORE (or GRID.toml)."""
    from .grid.report import status_text

    with _open_store(store) as db:
        click.echo(status_text(db))


@grid.command("compare")
@click.argument("store_a")
@click.argument("store_b")
def compare_cmd(store_a, store_b):
    """Do two stores of the same grid (e.g. run locally and on a cluster) hold the same status
    and exactly the same metrics for every cell? Exit 1 if not."""
    from .grid.report import compare_text

    with _open_store(store_a) as a, _open_store(store_b) as b:
        text, same = compare_text(a, b)
    click.echo(text)
    if not same:
        raise click.exceptions.Exit(1)


@grid.command("export")
@click.argument("store")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write one row per cell (settings.*, metrics.* columns); '-' for stdout.",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the grid and every cell as JSON; '-' for stdout.",
)
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(["pending", "running", "done", "failed"]),
    help="Only cells with this status (repeatable; default all).",
)
def export_cmd(store, csv_path, json_path, statuses):
    """Export the cells of STORE (or GRID.toml) as CSV or JSON."""
    from .grid.report import flat_rows, to_csv, to_json

    if (csv_path is None) == (json_path is None):
        raise LionKError("give one of --csv FILE or --json FILE ('-' for stdout)")
    statuses = statuses or ("pending", "running", "done", "failed")
    with _open_store(store) as db:
        text = to_csv(flat_rows(db, statuses)) if csv_path else to_json(db, statuses)
    path = csv_path or json_path
    if path == "-":
        click.echo(text, nl=False)
    else:
        Path(path).write_text(text, encoding="utf-8")
        click.echo(f"wrote {path}")


@grid.command("plot")
@click.argument("store")
@click.option("--metric", required=True, help="A metric of the cells, e.g. distance or f_final.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    required=True,
    help="The figure file (PNG or PDF).",
)
@click.option(
    "--x", "x_name", default="lam", show_default=True, help="The setting on the horizontal axis."
)
@click.option("--log", is_flag=True, help="Logarithmic metric axis.")
def plot_cmd(store, metric, output, x_name, log):
    """Draw METRIC against λ (or --x) for the cells of STORE, one line per K (and any other
    varying setting), seeds as a min–max band."""
    import json

    from .grid.report import lambda_series
    from .plotting.grid import plot_grid_metric

    with _open_store(store) as db:
        rows, meta = db.rows(), db.meta()
    definition = json.loads(meta.get("definition", "{}"))
    fixed = ", ".join(
        f"{k} = {v}"
        for k, v in sorted(definition.get("fixed", {}).items())
        if not isinstance(v, (list, dict))
    )
    done = sum(r["status"] == "done" for r in rows)
    xlabel = "weight decay λ" if x_name == "lam" else x_name
    title = (
        f"{metric} against {xlabel.split()[-1]}: grid '{meta.get('grid')}' "
        f"({meta.get('experiment')}), {done} of {len(rows)} cells done\n{fixed}"
    )
    plot_grid_metric(
        lambda_series(rows, metric, x_name), metric, output, title=title, xlabel=xlabel, log=log
    )
    click.echo(f"saved figure to {output}")
