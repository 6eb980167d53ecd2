"""Grid files: which experiment, which settings are fixed, which are axes; the cells they span.

A grid file is TOML::

    [grid]
    name = "toy-lambda"            # names the store's grid (one grid per store)
    experiment = "simulate"        # simulate | sweep | train | "package.module:function"
    seeds = 3                      # optional shorthand for the axis seed = [0, 1, 2]

    [fixed]                        # settings shared by every cell
    objective = "toy"
    steps = 2000

    [axes]                         # the grid is the Cartesian product of these lists
    K = ["l1", "linf", {name = "huber", delta = 0.5}]
    lam = {linspace = [0.1, 3.0, 30]}

A value ``{linspace = [a, b, n]}``, ``{logspace = [a, b, n]}`` (10^a … 10^b) or
``{range = [start, stop, step]}`` (integers, stop excluded) expands to a list, in [fixed] and
[axes] alike. Every cell is one task: its settings (fixed ∪ one value per axis, keys sorted), a
deterministic seed (the ``seed`` setting: an axis, a fixed value, or the experiment's default)
and a content hash, the
SHA-256 of the canonical JSON of (experiment, settings), so a cell is recognised in a store
whatever the order of the file and whoever runs it. Mistakes raise `LionKError` naming the
field, e.g. ``grid.toml: [axes] lam: ...``.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np

from ..errors import LionKError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 reads TOML with tomli (a dependency there only)
    import tomli as tomllib

_SECTIONS = {"grid", "fixed", "axes"}
_GRID_KEYS = {"name", "experiment", "seeds"}


@dataclass(frozen=True)
class Cell:
    """One task of a grid: its position, settings and content hash."""

    index: int
    settings: dict[str, Any]
    hash: str


@dataclass
class GridSpec:
    """A parsed grid: experiment reference, fixed settings, axes (name → list of values)."""

    name: str
    experiment: str
    fixed: dict[str, Any] = field(default_factory=dict)
    axes: dict[str, list] = field(default_factory=dict)
    source: str = "<grid>"

    @property
    def size(self) -> int:
        return int(np.prod([len(v) for v in self.axes.values()], dtype=np.int64))

    def cells(self) -> list[Cell]:
        """The Cartesian product of the axes (the last axis varies fastest), each with its hash."""
        names = list(self.axes)
        out = []
        for i, combo in enumerate(itertools.product(*(self.axes[n] for n in names))):
            settings = dict(sorted({**self.fixed, **dict(zip(names, combo, strict=True))}.items()))
            out.append(Cell(i, settings, cell_hash(self.experiment, settings)))
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "experiment": self.experiment,
            "fixed": self.fixed,
            "axes": self.axes,
        }


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same text for the same settings, always."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=True
    )


def cell_hash(experiment: str, settings: dict[str, Any]) -> str:
    """SHA-256 (hex, first 16 digits) of the canonical JSON of (experiment, settings)."""
    text = canonical_json({"experiment": experiment, "settings": settings})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def load_grid(path: str | Path) -> GridSpec:
    """Read and check a grid file (see the module docstring for the format)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LionKError(f"grid file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise LionKError(f"{path}: not valid TOML: {exc}") from None
    return parse_grid(data, source=str(path))


def parse_grid(data: dict[str, Any], source: str = "<grid>") -> GridSpec:
    """Check a grid given as a dict (the parsed TOML) and build the `GridSpec`."""

    def fail(where: str, what: str) -> NoReturn:
        raise LionKError(f"{source}: {where}: {what}")

    unknown = sorted(set(data) - _SECTIONS)
    if unknown:
        fail(f"[{unknown[0]}]", "unknown section; a grid file has [grid], [fixed] and [axes]")
    grid = data.get("grid")
    if not isinstance(grid, dict):
        fail("[grid]", 'missing; write [grid] with name = "..." and experiment = "simulate"')
    for key in sorted(set(grid) - _GRID_KEYS):
        fail(f"[grid] {key}", f"unknown key; [grid] takes {', '.join(sorted(_GRID_KEYS))}")
    for key in ("name", "experiment"):
        if not isinstance(grid.get(key), str) or not grid[key].strip():
            fail(f"[grid] {key}", "missing or not a non-empty string")
    fixed = {k: _expand(v, f"[fixed] {k}", fail) for k, v in _table(data, "fixed", fail).items()}
    axes = {}
    for k, v in _table(data, "axes", fail).items():
        values = _expand(v, f"[axes] {k}", fail)
        if not isinstance(values, list) or not values:
            fail(f"[axes] {k}", "must be a non-empty list or {linspace = [start, stop, n]}")
        if len({canonical_json(x) for x in values}) != len(values):
            fail(f"[axes] {k}", "has repeated values (each cell would be run once anyway)")
        if k in fixed:
            fail(f"[axes] {k}", "is also in [fixed]; keep it in one of the two")
        axes[k] = values
    if "seeds" in grid:
        n = grid["seeds"]
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            fail("[grid] seeds", f"{n!r} is not a positive integer (the number of seeds 0..n-1)")
        if "seed" in axes or "seed" in fixed:
            fail("[grid] seeds", "the seed is also set in [axes] or [fixed]; keep one")
        axes["seed"] = list(range(n))
    spec = GridSpec(grid["name"].strip(), grid["experiment"].strip(), fixed, axes, source)
    if spec.size == 0 or not axes:
        fail("[axes]", "missing or empty; give at least one axis, e.g. lam = [0.5, 1.0]")
    from .experiments import check_grid

    check_grid(spec, fail)
    return spec


def _table(data, name, fail) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        fail(f"[{name}]", "must be a table of settings")
    return value


_GENERATORS = {"linspace", "logspace", "range"}


def _expand(value: Any, where: str, fail) -> Any:
    """{linspace|logspace = [a, b, n]} or {range = [start, stop, step]} → list; others as given."""
    if not (isinstance(value, dict) and len(value) == 1 and set(value) <= _GENERATORS):
        return value
    ((kind, args),) = value.items()
    if (
        not isinstance(args, list)
        or len(args) != 3
        or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args)
    ):
        fail(where, f"{kind} takes three numbers, e.g. {{{kind} = [0.1, 3.0, 30]}}")
    a, b, n = args
    if kind == "range":
        if not all(isinstance(x, int) for x in args) or n == 0:
            fail(where, "range takes three integers [start, stop, step] with step ≠ 0")
        return list(range(a, b, n))
    if not isinstance(n, int) or n < 1:
        fail(where, f"{kind}: the count {n!r} must be a positive integer")
    grid = np.linspace(a, b, n) if kind == "linspace" else np.logspace(a, b, n)
    return [float(x) for x in grid]
