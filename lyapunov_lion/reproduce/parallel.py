"""Build reproductions and write their figures in worker processes, results back in order.

Each reproduction is independent (its own runs, its own figure), so ``jobs`` worker processes
each take the next name, build it, write its PNG and PDF (`save_png_and_pdf`: the same
bytes as in one process, no creation date) and send the `Reproduction` back without its figure.
The runner consumes the results in the order of the names, so every report, ``results.json``
and the index are written exactly as by a serial run. ``jobs == 1``, or a platform without
``fork``, builds and writes in this process.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..errors import LionKError
from ._common import Reproduction

DEFAULT_JOBS = 1
"""Worker processes of `lionk reproduce` unless told: one, in this process. Measured side by side
(benchmarks/README.md) on the 2-core machine at load 3, two workers took more CPU (18.9 s against
17.5 s, median of 3) and more wall time (29.4 s against 27.7 s): on a shared machine the second
worker only competes with the first. ``--jobs 2`` pays off where a core is idle."""


def default_jobs() -> int:
    """`DEFAULT_JOBS`, or 1 where processes cannot be forked."""
    return DEFAULT_JOBS if "fork" in multiprocessing.get_all_start_methods() else 1


def check_jobs(jobs: int) -> int:
    """``jobs`` as a positive int; `LionKError` otherwise."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise LionKError(f"jobs={jobs!r}: must be a positive integer")
    return jobs


def figure_paths(out_figures: Path, name: str) -> tuple[Path, Path]:
    """(PNG, PDF) paths of a reproduction's figure."""
    return out_figures / f"{name}.png", out_figures / f"{name}.pdf"


def build_and_save(name: str, size: str, out_figures: Path) -> tuple[Reproduction, float]:
    """Build reproduction ``name``, write its PNG and PDF from one layout (`save_png_and_pdf`);
    returns the reproduction without its figure (a pyplot-free ``Figure``: dropping it frees it)
    and the seconds it took."""
    from ..plotting import save_png_and_pdf
    from .registry import FIGURES

    t0 = time.perf_counter()
    rep = FIGURES[name].build(size)
    save_png_and_pdf(rep.figure, *figure_paths(out_figures, name))
    return dataclasses.replace(rep, figure=None), time.perf_counter() - t0


def built(
    names: list[str], size: str, out_figures: Path, jobs: int
) -> Iterator[tuple[str, Reproduction, float]]:
    """``(name, reproduction, seconds)`` for each name, in the order of ``names``, once its
    figure files exist; with ``jobs`` > 1 up to ``jobs`` are built at once in forked workers."""
    jobs = min(check_jobs(jobs), len(names))
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        for name in names:
            yield (name, *build_and_save(name, size, out_figures))
        return
    ctx = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx) as pool:
        futures: list[Future] = [
            pool.submit(build_and_save, name, size, out_figures) for name in names
        ]
        try:
            for name, future in zip(names, futures, strict=True):
                yield (name, *future.result())
        except BrokenProcessPool:
            raise LionKError(
                f"a worker process building {name} died (out of memory?); "
                "run again with --jobs 1 to see the error"
            ) from None
        finally:
            for future in futures:
                future.cancel()


__all__ = ["DEFAULT_JOBS", "build_and_save", "built", "check_jobs", "default_jobs"]
