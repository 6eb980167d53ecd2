"""Fig. 4 analog: what Lion's weight decay λ costs, on the digits MLP and CNN and (full size) the
Shakespeare character transformer.

The paper (Fig. 4, CIFAR-10) reads: the converged loss against λ rises only past a threshold
(the box ‖x‖_∞ ≤ 1/λ does not bind until 1/λ is smaller than the weights the task needs), and a
larger λ converges faster early but can end higher. Here Lion = `LionK(K="l1")`, η = 0.01 (the
`confinement` report's), λ on a grid, several seeds (each seed changes the train/test split, the
initialisation and the minibatch order), for the MLP and the CNN of `lyapunov_lion.train`.

Per run: the final training loss (whole training set), test loss and accuracy, the early loss
(mean minibatch loss over the first 10 % of steps) and the fraction of weight entries on the
boundary of the box at the end (|λx| ≥ 1 − 2ηλ, i.e. within one step reversal of the edge: where
the constraint is active).

"Rises only past a threshold" is decided from the seeds, with no tuned tolerance: λ_c is the
smallest grid λ > 0 whose seed range of final training loss lies entirely above the seed range
of the unconstrained λ = 0 (min over seeds > max over seeds at λ = 0); the claim holds when
such a λ_c exists and every larger λ is above λ = 0 too (below λ_c, by construction, no λ is
clearly worse than λ = 0; it may be better).

The (model, λ, seed) cells run through the experiment-grid runner (`lyapunov_lion.grid.run_grid`,
experiment ``lyapunov_lion.reproduce.lam_sweep:run_cell``): at full size on an embedded Dask
`LocalCluster` with one single-threaded worker process per core (serially when dask is not
installed), at reduced size serially (8 cells of well under a second each: starting a cluster
would cost far more than the work). Each cell trains on one thread from its seed, so the numbers do
not depend on where or in which order the cells ran.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._common import Reproduction, check_size
from .confinement import LR

NAME = "lam_sweep"
TITLE = (
    "Fig. 4 analog — final loss, test accuracy and early progress against λ for Lion on "
    "the digits MLP and CNN and a character transformer on Shakespeare"
)
CLAIM = (
    "CIFAR-10: the converged loss against λ rises only past a threshold; a larger λ "
    "converges faster early but can end higher (Fig. 4; spec §8)"
)
SETTINGS: dict[str, dict[str, Any]] = {
    "full": {
        "models": ("mlp", "cnn", "transformer"),
        "lams": (0.0, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0),
        "seeds": (0, 1, 2),
        "steps": 400,
    },
    "reduced": {"models": ("mlp",), "lams": (0.0, 1.0, 5.0, 20.0), "seeds": (0, 1), "steps": 100},
}
MODEL_RUNS: dict[str, dict[str, Any]] = {
    "mlp": {"dataset": "digits", "batch_size": 64},
    "cnn": {"dataset": "digits", "batch_size": 64},
    "transformer": {"dataset": "shakespeare", "batch_size": 8, "steps": 160},
}
"""Data set and batch size per model; the transformer's own (shorter) run length overrides the
grid's ``steps`` (it costs ~20× a digits step; the run length of the `lp_sweep` report)."""
METRICS = ("final_train_loss", "test_loss", "test_accuracy", "early_loss", "on_boundary")
EXPERIMENT = f"{__name__}:run_cell"


def run_cell(model: str, lam: float, seed: int, steps: int) -> dict:
    """One grid cell: Lion (K = l1, η = ``LR``) with ``model`` on its data set (`MODEL_RUNS`),
    ``lam``, ``seed`` for ``steps`` steps (the model's own number if `MODEL_RUNS` has one); the
    `METRICS` (``on_boundary``: the fraction of weight entries with |λx| ≥ 1 − 2ηλ at the end,
    weighted by tensor size; 0 at λ = 0, where there is no box)."""
    from ..train import train

    res = train(
        model=model,
        dataset=MODEL_RUNS[model]["dataset"],
        batch_size=MODEL_RUNS[model]["batch_size"],
        K="l1",
        lam=lam,
        lr=LR,
        steps=MODEL_RUNS[model].get("steps", steps),
        seed=seed,
        monitor_every=MODEL_RUNS[model].get("steps", steps),
    )
    m = res.metrics
    tensors = res.history["tensors"]
    n = np.array([np.prod(t["shape"]) for t in tensors], dtype=float)
    frac = np.array([t["boundary"][-1] for t in tensors], dtype=float)
    on = float(np.sum(n * frac) / n.sum()) if lam > 0 else 0.0
    return {**{k: m[k] for k in METRICS[:-1]}, "on_boundary": on}


def compute(
    size: str = "full",
    progress=None,
    *,
    store: str | Path | None = None,
    workers: int | None = None,
    serial: bool | None = None,
) -> dict:
    """Every (model, λ, seed) of ``size`` through the grid runner; arrays (λ, seed) per model
    and metric.

    ``store``: the grid's SQLite file (a rerun with the same file skips finished cells); default
    a temporary one. ``workers``/``serial`` choose the executor as for `run_grid`; ``serial``
    None: serial at size "reduced", else an embedded Dask LocalCluster with ``workers``
    processes (default one per core; serial without dask). ``progress`` gets one line per
    finished cell.
    """
    from ..errors import LionKError
    from ..grid import run_grid

    check_size(size)
    st = SETTINGS[size]
    grid = {
        "grid": {"name": f"{NAME}-{size}", "experiment": EXPERIMENT},
        "fixed": {"steps": st["steps"]},
        "axes": {"model": st["models"], "lam": st["lams"], "seed": st["seeds"]},
    }
    finished = [-1]

    def report(p) -> None:
        if progress is not None and p.done + p.failed != finished[0]:
            finished[0] = p.done + p.failed
            progress(
                f"{NAME}: {p.done}/{p.total} cells done"
                + (f", {p.failed} failed" if p.failed else "")
            )

    with tempfile.TemporaryDirectory(prefix="lam_sweep-") as tmp:
        path = Path(store) if store is not None else Path(tmp) / f"{NAME}-{size}.sqlite"
        run = run_grid(
            grid,
            path,
            workers=workers,
            progress=report,
            retry_failed=True,
            serial=size == "reduced" if serial is None else serial,
        )
        rows = run.rows(("done",))
    if len(rows) != run.cells:
        errors = "; ".join(err for _, err in run.failures[:3])
        raise LionKError(f"{NAME}: {run.cells - len(rows)} of {run.cells} cells failed ({errors})")
    cells = {
        (r["settings"]["model"], r["settings"]["lam"], r["settings"]["seed"]): r["metrics"]
        for r in rows
    }
    out = {
        model: {
            k: np.array(
                [[cells[model, lam, seed][k] for seed in st["seeds"]] for lam in st["lams"]]
            )
            for k in METRICS
        }
        for model in st["models"]
    }
    return {"size": size, **st, "lr": LR, "runs": out, "executor": run.executor}


def threshold(lams, loss: np.ndarray) -> dict:
    """λ_c and whether the loss is flat below it (module docstring). ``loss``: (λ, seed), with
    ``lams[0] == 0`` the unconstrained reference."""
    if lams[0] != 0:
        raise ValueError("the λ grid must start at 0 (the unconstrained reference)")
    above = loss.min(axis=1) > loss[0].max()
    idx = [i for i in range(1, len(lams)) if above[i]]
    ic = idx[0] if idx else None
    return {
        "best_lam": float(lams[int(np.argmin(loss.mean(axis=1)))]),
        "lam_c": None if ic is None else float(lams[ic]),
        "flat_below": ic is not None,  # by construction no λ < λ_c is above λ = 0
        "rises_after": bool(ic is not None and all(above[ic:])),
    }


def draw(d: dict):
    from ..plotting import PALETTE, new_figure, paper_style

    lams = np.asarray(d["lams"])
    x = np.where(lams > 0, lams, lams[lams > 0].min() / 2)  # λ = 0 drawn left of the grid
    panels = (
        ("final_train_loss", "final training loss", True),
        ("test_accuracy", "test accuracy", False),
        ("early_loss", "early loss (first 10 % of steps)", False),
        ("on_boundary", "fraction of weights on the box edge", False),
    )
    with paper_style():
        fig = new_figure(7.0, 5.0)
        axes = fig.subplots(2, 2).ravel()
        for ax, (key, label, logy) in zip(axes, panels, strict=True):
            for k, model in enumerate(d["models"]):
                v = d["runs"][model][key]
                mid = v.mean(axis=1)
                ax.errorbar(
                    x,
                    mid,
                    yerr=[mid - v.min(axis=1), v.max(axis=1) - mid],
                    fmt="o-",
                    ms=3,
                    lw=1,
                    capsize=2,
                    color=PALETTE[k],
                    label=f"{model} (mean, seed min–max)",
                )
            ax.set_xscale("log")
            ax.set_xticks(x, ["0"] + [f"{v:g}" for v in lams[1:]])
            ax.minorticks_off()
            if logy:
                ax.set_yscale("log")
            ax.set_xlabel("weight decay λ (box ‖x‖∞ ≤ 1/λ)")
            ax.set_ylabel(label)
            ax.set_title(label, fontsize=8)
        axes[0].legend(fontsize=6)
        fig.suptitle(
            f"Lion (K = l1, η = {d['lr']:g}) on {', '.join(_runs_text(d))}: what the "
            f"weight decay λ costs ({len(d['seeds'])} seeds; bars: min–max)",
            fontsize=8,
        )
    return fig


def _runs_text(d: dict) -> list[str]:
    """'mlp on digits, 400 steps', ... for every model of ``d``."""
    return [
        f"{m} on {MODEL_RUNS[m]['dataset']}, {MODEL_RUNS[m].get('steps', d['steps'])} steps"
        for m in d["models"]
    ]


def build(size: str = "full") -> Reproduction:
    return report(compute(size))


def report(d: dict) -> Reproduction:
    """The `Reproduction` of computed runs ``d`` (from `compute`)."""
    lams = list(d["lams"])
    table = [
        "| model | λ | final train loss | test loss | test accuracy | early loss | on box edge |",
        "|---|---|---|---|---|---|---|",
    ]
    thr, early = {}, {}
    for model, v in d["runs"].items():
        for i, lam in enumerate(lams):
            cells = [
                f"{v[k][i].mean():.3f} [{v[k][i].min():.3f}, {v[k][i].max():.3f}]" for k in METRICS
            ]
            table.append(f"| {model} | {lam:g} | " + " | ".join(cells) + " |")
        thr[model] = threshold(lams, v["final_train_loss"])
        e = v["early_loss"].mean(axis=1)
        early[model] = {
            "best_lam": float(lams[int(np.argmin(e))]),
            "increasing": bool(np.all(np.diff(e) > 0)),
        }
    rises = all(t["flat_below"] and t["rises_after"] for t in thr.values())
    faster = all(e["best_lam"] > 0 for e in early.values())
    measured = [
        *(
            f"- {m}: best mean final training loss at λ = {t['best_lam']:g}; the loss is clearly "
            f"above λ = 0's (seed ranges disjoint) from λ_c = {t['lam_c']} on, and at every "
            f"larger λ: **{t['rises_after']}**; lowest early "
            f"loss at λ = {early[m]['best_lam']:g}, early loss increasing with λ over the whole "
            f"grid: {early[m]['increasing']}."
            for m, t in thr.items()
        ),
        "",
        "Mean [min, max] over seeds:",
        "",
        *table,
    ]
    verdict = (
        "agrees" if rises and faster else "agrees with a qualification" if rises else "disagrees"
    )
    verdict_text = (
        (
            "The final training loss is no worse than at λ = 0 below a threshold λ_c ("
            + ", ".join(f"{m}: {t['lam_c']:g}" for m, t in thr.items())
            + "; a small λ can even lower it) and clearly higher at every λ from λ_c on, where the "
            "box 1/λ cuts into the weights the task needs (fraction of entries on the box edge "
            "at the largest λ: "
            + ", ".join(f"{m} {v['on_boundary'][-1].mean():.2f}" for m, v in d["runs"].items())
            + "). "
            if rises
            else "The final loss does not show a flat-then-rising shape on this grid. "
        )
        + (
            "A larger λ also made early progress faster. "
            if faster
            else "But at this learning rate a larger λ did not make early progress faster: the "
            "lowest early loss is at λ = 0 for "
            + ", ".join(m for m, e in early.items() if e["best_lam"] == 0)
            + ' — the paper\'s "faster early" is not reproduced here (we report it, not tune '
            "it away; it may depend on η and on the initial scale of the weights). "
        )
        + f"What differs: {', '.join(_runs_text(d))} at "
        f"η = {d['lr']:g}, not CIFAR-10 at the paper's (unstated) settings."
    )
    settings = {
        "models": list(d["models"]),
        "lams": lams,
        "seeds": list(d["seeds"]),
        "steps": {m: MODEL_RUNS[m].get("steps", d["steps"]) for m in d["models"]},
        "lr": d["lr"],
        "K": "l1 (Lion)",
        "betas": [0.9, 0.99],
        "batch_size": {m: MODEL_RUNS[m]["batch_size"] for m in d["models"]},
        "decay": "explicit (decoupled)",
        "init": "torch default",
        "cells": (
            "one per (model, λ, seed), run through the grid runner "
            "lyapunov_lion.grid.run_grid; executor: " + d.get("executor", "not recorded")
        ),
    }
    just = (
        f"η = {LR:g} as in the confinement report, so phase 1 ends within the phase-1 bound "
        "measured there at λ = 10 and the runs spend most of their steps in phase 2; the "
        "λ grid spans 1/λ "
        "from above the initial weights (λ ≤ 5: 1/λ ≥ 0.2 > max|x₀| for most tensors) to "
        "well below (λ = 20: 0.05). Three seeds show the spread; the threshold is read "
        "from the seed ranges, not from a tuned tolerance."
    )
    results = {
        "claim": CLAIM,
        "threshold": thr,
        "early": early,
        "runs": {m: {k: v[k].tolist() for k in METRICS} for m, v in d["runs"].items()},
    }
    return Reproduction(
        name=NAME,
        title=TITLE,
        claim=CLAIM,
        settings=settings,
        justification=just,
        results=results,
        measured=measured,
        verdict=verdict,
        verdict_text=verdict_text,
        figure=draw(d),
        caption=(
            "Against λ (log axis, λ = 0 at the left): final training loss, test accuracy, "
            "early loss (mean minibatch loss over the first 10 % of steps) and the "
            "fraction of weight entries within 2ηλ of the box edge at the end; points: "
            "mean over seeds, bars: min–max."
        ),
    )
