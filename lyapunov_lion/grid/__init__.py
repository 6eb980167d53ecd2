"""Experiment grids: many Lion-K runs as tasks on Dask (or serially), results in SQLite.

- `load_grid` / `parse_grid`: a TOML grid file → `GridSpec` (experiment, fixed settings, axes);
  ``spec.cells()`` are the tasks, each with its content hash.
- `run_grid`: run the cells not yet finished in a store, on an embedded LocalCluster, an existing
  Dask scheduler, or serially; survives failing tasks, dying workers and killed drivers.
- `Store`: the SQLite results store (one row per cell); `lyapunov_lion.grid.report` reads it.
- `EXPERIMENTS`: the registered experiments (simulate, sweep, train); any
  ``package.module:function`` works too.

dask is imported only by `lyapunov_lion.grid.executors`, and only when a Dask executor is made.
"""

from .experiments import EXPERIMENTS, CellResult
from .runner import GridRun, Progress, default_store, run_grid
from .spec import Cell, GridSpec, cell_hash, load_grid, parse_grid
from .store import Store

__all__ = [
    "EXPERIMENTS",
    "CellResult",
    "GridRun",
    "Progress",
    "default_store",
    "run_grid",
    "Cell",
    "GridSpec",
    "cell_hash",
    "load_grid",
    "parse_grid",
    "Store",
]
