"""Run registered reproductions and write figures, markdown reports, results.json and an index."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from ..core.serialize import to_jsonable
from ..errors import LionKError
from ._common import LR, Reproduction, check_size
from .parallel import built, check_jobs, default_jobs, figure_paths
from .status import render_status_table

COMMAND_ALL = "python scripts/reproduce_all.py"
TIMINGS = "timings.json"
"""Seconds per figure of the last run, next to the reports; git-ignored, so that regenerating
leaves the tracked tree unchanged when the figures are."""


def command_for(name: str) -> str:
    """The shell command that regenerates one figure (from the repository root)."""
    return f"{COMMAND_ALL} {name}"


def default_outputs(size: str, root=".") -> tuple[Path, Path]:
    """(figures, reports) folders when none are given: ``root/figures`` and
    ``root/paper_reproductions`` (the committed ones) at full size; a new temporary folder for a
    reduced run, which must never replace the committed full-size figures."""
    check_size(size)
    if size == "full":
        return Path(root) / "figures", Path(root) / "paper_reproductions"
    tmp = Path(tempfile.mkdtemp(prefix=f"lionk-reproduce-{size}-"))
    return tmp / "figures", tmp / "paper_reproductions"


def _names(name_or_all, figures) -> list[str]:
    if isinstance(name_or_all, str):
        wanted = list(figures) if name_or_all == "all" else [name_or_all]
    elif isinstance(name_or_all, Iterable):
        wanted = [str(n) for n in name_or_all]
    else:
        raise LionKError(f"name_or_all={name_or_all!r}: give a figure name, a list or 'all'")
    unknown = [n for n in wanted if n not in figures]
    if unknown:
        raise LionKError(
            f"unknown figure {', '.join(unknown)}; choose from: {', '.join(figures)} or all"
        )
    return wanted


def render_markdown(rep: Reproduction, png: Path, pdf: Path, out_reports: Path, size: str) -> str:
    """The per-figure report: claim, command, settings, measured numbers, figure, verdict."""
    rel_png = Path(os.path.relpath(png, out_reports)).as_posix()
    rel_pdf = Path(os.path.relpath(pdf, out_reports)).as_posix()
    settings = "\n".join(f"- `{k}`: {v}" for k, v in rep.settings.items())
    lines = [
        f"# {rep.title}",
        "",
        "## Claim",
        "",
        f"> {rep.claim}",
        "",
        "## Regenerate",
        "",
        "```bash",
        command_for(rep.name),
        "```",
        "",
        f"(or `from lyapunov_lion.reproduce import run; run({rep.name!r}, 'figures', "
        "'paper_reproductions')`). "
        f"Size `{size}`; the time it took is in `{TIMINGS}` (not tracked: it changes every run).",
        "",
        "## Settings",
        "",
        settings,
        "",
        rep.justification,
        "",
        "## Measured",
        "",
        *rep.measured,
        "",
    ]
    if rep.extra_md:
        lines += [*rep.extra_md, ""]
    lines += [
        "## Figure",
        "",
        f"![{rep.title}]({rel_png})",
        "",
        f"{rep.caption} ([PDF]({rel_pdf}))",
        "",
        "## Verdict",
        "",
        f"**{rep.verdict}.** {rep.verdict_text}",
        "",
    ]
    return "\n".join(lines)


def render_index(results: dict, figures) -> str:
    """README.md of the reports directory: one row per registered figure."""
    rows = ["| figure | claim | verdict | report |", "|---|---|---|---|"]
    for name, spec in figures.items():
        r = results.get(name)
        verdict = r.get("verdict", "—") if r else "not generated"
        rows.append(
            f"| {spec.title} | {(r or {}).get('claim', '').split(' (spec')[0]} | "
            f"{verdict} | [{name}.md]({name}.md) |"
        )
    return "\n".join(
        [
            "# Paper reproductions",
            "",
            "Discrete-time reproductions of the figures of Chen, Liu, Liang, Liu, *Lion Secretly "
            "Solves Constrained Optimization: As Lyapunov Predicts* (ICLR 2024): those that need "
            "no network training, and CPU-sized analogs of the training figures. Each report "
            "states the paper's claim, the exact command, the settings (the paper gives none; "
            "ours are justified in each report), the measured "
            "numbers, the figure and a verdict. Machine-readable numbers: "
            "[results.json](results.json).",
            "",
            "Regenerate everything (one line of progress per figure):",
            "",
            "```bash",
            COMMAND_ALL,
            "```",
            "",
            *rows,
            "",
            f"Common settings: η = {LR:g}, β1 = 0.9, β2 = 0.99, explicit decoupled weight decay, "
            "m₀ = 0, paper sign convention (except `convergence`, `connections`, `stochastic`, "
            "`confinement`, `lam_sweep` and `lp_sweep`, whose settings are in their reports).",
            "",
            "## Every figure and claim of the paper",
            "",
            "Generated from `lyapunov_lion/reproduce/status.py`.",
            "",
            *render_status_table(results, figures),
            "",
        ]
    )


def run(
    name_or_all="all",
    out_figures="figures",
    out_reports="paper_reproductions",
    progress: Callable[[str], None] | None = None,
    size: str = "full",
    jobs: int | None = None,
) -> dict:
    """Build the named reproductions and write their outputs (module docstring of the package).

    ``jobs`` reproductions are built at once in worker processes (default `DEFAULT_JOBS`; 1:
    in this process); the outputs are the same bytes whatever ``jobs`` (`parallel`).
    ``size="reduced"`` runs shorter/smaller versions (for tests); the written reports say which.
    A reduced run refuses to write over full-size results (``out_reports/results.json``).
    Seconds per figure go to ``out_reports/timings.json`` (`TIMINGS`), not into the reports.
    """
    from .registry import FIGURES

    check_size(size)
    names = _names(name_or_all, FIGURES)
    out_figures, out_reports = Path(out_figures), Path(out_reports)
    results_path = out_reports / "results.json"
    stored: dict = {}
    if results_path.exists():
        try:
            stored = json.loads(results_path.read_text())
        except json.JSONDecodeError:
            stored = {}
    if size != "full":
        full = [n for n in names if stored.get(n, {}).get("size") == "full"]
        if full:
            raise LionKError(
                f"{results_path} holds full-size results for {', '.join(full)}: a "
                f"size={size!r} run would overwrite them; write it elsewhere "
                "(lionk reproduce --size reduced without --figures/--reports uses "
                "a temporary folder)"
            )
    stored.pop("_timing", None)  # timings live in TIMINGS since they change every run
    out_figures.mkdir(parents=True, exist_ok=True)
    out_reports.mkdir(parents=True, exist_ok=True)
    out: dict = {}
    timing: dict = {}
    t_all = time.perf_counter()
    jobs = default_jobs() if jobs is None else check_jobs(jobs)
    for k, (name, rep, seconds) in enumerate(built(names, size, out_figures, jobs), start=1):
        png, pdf = figure_paths(out_figures, name)
        md = out_reports / f"{name}.md"
        md.write_text(render_markdown(rep, png, pdf, out_reports, size))
        entry = to_jsonable(
            {
                "title": rep.title,
                "claim": rep.claim,
                "verdict": rep.verdict,
                "verdict_text": rep.verdict_text,
                "size": size,
                "command": command_for(name),
                "settings": rep.settings,
                "files": {
                    k: Path(os.path.relpath(v, out_reports)).as_posix()
                    for k, v in (("png", png), ("pdf", pdf), ("report", md))
                },
                "results": rep.results,
            }
        )
        out[name] = entry
        timing[name] = seconds
        if progress is not None:
            progress(f"[{k}/{len(names)}] {name}: {rep.verdict} ({seconds:.1f} s) -> {png}, {md}")
    timing["total_seconds"] = time.perf_counter() - t_all
    stored.update(out)
    _write_timings(out_reports / TIMINGS, timing, size)
    results_path.write_text(json.dumps(stored, indent=1, ensure_ascii=False) + "\n")
    (out_reports / "README.md").write_text(render_index(stored, FIGURES))
    out["_timing"] = timing
    return out


def _write_timings(path: Path, timing: dict, size: str) -> None:
    """Merge this run's seconds per figure (and its total) into the untracked timings file."""
    try:
        known = json.loads(path.read_text()) if path.exists() else {}
    except json.JSONDecodeError:
        known = {}
    when = time.strftime("%Y-%m-%dT%H:%M:%S")
    for name, seconds in timing.items():
        known[name] = {"seconds": round(seconds, 3), "size": size, "at": when}
    path.write_text(json.dumps(known, indent=1) + "\n")
