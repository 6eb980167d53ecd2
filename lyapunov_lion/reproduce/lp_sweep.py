"""Figs. 6–7 analog: does the best K of Lion-K depend on the architecture?

The paper trains ImageNet (ResNet-50, ViT-B/16) and GPT-2 on OpenWebText with Lion-ℓp,
K(x) = ‖x‖_p for p ∈ [1, 2], and reads that the best p depends on the architecture. Here the
same question is asked of two architectures that train on a CPU: the small CNN of
`lyapunov_lion.train` on scikit-learn's digits and the ≈114k-parameter character transformer
on Shakespeare (`lyapunov_lion.train.text`), for K ∈ {ℓp : p = 1, 1.25, 1.5, 1.75, 2}
(p = 1 is Lion, catalog ``l1``; p = 2 is ``l2``), ``nuclear`` (Muon's K, on matrix tensors,
Lion on vectors) and ``huber`` (δ = `HUBER_DELTA`, a C¹ K, linear near 0).

Fair tuning: every K is run with the Lion-matched step size of `lyapunov_lion.torch.groups`
(K ← s·K per tensor, so a flat momentum moves every entry by η whatever K; without it K = ℓ2
would step √n times less than Lion at the same η and a shared learning-rate grid would compare
step sizes, not K), on the same learning-rate grid `LRS` for every K and both architectures,
the same λ, steps, batches and seeds. For each (architecture, K) the grid point with the lowest
validation loss averaged over the seeds is kept ("best of the grid"); K are ranked by that
mean and the seed spread (min–max) is shown. A difference between two K counts as *resolved*
when their seed ranges at their best learning rates do not overlap. A best learning rate at an
end of the grid is flagged (the grid may not bracket that K's optimum).

The claim is tested on the ℓp family: the best p per architecture, and whether each
architecture's best p is better than the other architecture's best p with resolved seed ranges.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import Reproduction, check_size

NAME = "lp_sweep"
TITLE = (
    "Figs. 6–7 analog — Lion-ℓp (p = 1 … 2), nuclear (Muon-like) and huber on a CNN "
    "(digits) and a character-level transformer (Shakespeare): the best K per architecture"
)
CLAIM = (
    "ImageNet (ResNet-50, ViT-B/16) and GPT-2 on OpenWebText trained with Lion-ℓp, "
    "p ∈ [1, 2]: the best p depends on the architecture (Figs. 6–7; spec §8)"
)
HUBER_DELTA = 1e-4
"""Between the typical momentum entries of the two networks (measured at step 50: median
|c| ≈ 1e-3 for the CNN, ≈ 2e-5 for the transformer): Lion-like (clipped) on most CNN entries,
linear (momentum-SGD-like) on most transformer entries."""
KS: tuple[tuple[str, str, float | None], ...] = (
    ("p = 1 (Lion)", "l1", 1.0),
    ("p = 1.25", "lp:p=1.25", 1.25),
    ("p = 1.5", "lp:p=1.5", 1.5),
    ("p = 1.75", "lp:p=1.75", 1.75),
    ("p = 2", "l2", 2.0),
    ("nuclear", "nuclear", None),
    (f"huber δ = {HUBER_DELTA:g}", f"huber:delta={HUBER_DELTA:g}", None),
)
"""(label, K spec, p for the ℓp family or None)."""
ARCHS: dict[str, dict[str, Any]] = {
    "cnn": {"model": "cnn", "dataset": "digits", "batch_size": 64},
    "transformer": {"model": "transformer", "dataset": "shakespeare", "batch_size": 8},
}
LAM = 1.0
"""λ = 1: for Lion the box ‖x‖_∞ ≤ 1 holds every initial weight except the transformer's
embeddings (N(0, 1)); the `lam_sweep` report measured λ ≤ 3 as costing nothing on digits."""
LRS = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1)
SETTINGS: dict[str, dict[str, Any]] = {
    "full": {
        "lrs": LRS,
        "seeds": {"cnn": (0, 1, 2), "transformer": (0, 1, 2)},
        "steps": {"cnn": 300, "transformer": 160},
    },
    "reduced": {
        "lrs": (3e-3, 1e-2),
        "seeds": {"cnn": (0,), "transformer": (0,)},
        "steps": {"cnn": 12, "transformer": 4},
    },
}
METRICS = ("test_loss", "test_accuracy", "final_train_loss", "early_loss", "seconds")


def run_cell(arch: str, K: str, lr: float, seed: int, steps: int) -> dict:
    """One training run: ``METRICS`` of `lyapunov_lion.train.train` with the Lion-matched
    scale, λ = `LAM`; ``test_*`` is the validation split."""
    from ..train import train

    res = train(
        **ARCHS[arch],
        K=K,
        lam=LAM,
        lr=lr,
        steps=steps,
        seed=seed,
        monitor_every=0,
        lion_scale=True,
    )
    return {k: float(res.metrics[k]) for k in METRICS}


def compute(size: str = "full", progress=None) -> dict:
    """Every (architecture, K, lr, seed) of ``size``, serially; arrays (lr, seed) per metric."""
    check_size(size)
    st = SETTINGS[size]
    runs: dict = {}
    for arch in ARCHS:
        runs[arch] = {}
        for label, spec, _ in KS:
            cells = [
                [run_cell(arch, spec, lr, seed, st["steps"][arch]) for seed in st["seeds"][arch]]
                for lr in st["lrs"]
            ]
            runs[arch][label] = {
                k: np.array([[c[k] for c in row] for row in cells]) for k in METRICS
            }
            if progress is not None:
                progress(f"{NAME}: {arch} {label} done")
    return {"size": size, **st, "lam": LAM, "runs": runs}


def tune(v: dict) -> dict:
    """Best of the grid for one (architecture, K): ``v`` maps metric → (lr, seed) array."""
    mean = v["test_loss"].mean(axis=1)
    i = int(np.argmin(mean))
    return {
        "lr_index": i,
        "on_edge": bool(len(mean) > 1 and i in (0, len(mean) - 1)),
        "val_loss": float(mean[i]),
        "val_min": float(v["test_loss"][i].min()),
        "val_max": float(v["test_loss"][i].max()),
        "val_accuracy": float(v["test_accuracy"][i].mean()),
        "train_loss": float(v["final_train_loss"][i].mean()),
    }


def resolved(a: dict, b: dict) -> bool:
    """Is ``a`` better than ``b`` with seed ranges that do not overlap?"""
    return a["val_max"] < b["val_min"]


def spearman(ra: list[str], rb: list[str]) -> float:
    """Spearman's rank correlation of two rankings of the same labels (no ties)."""
    n = len(ra)
    pos = {k: i for i, k in enumerate(rb)}
    d2 = sum((i - pos[k]) ** 2 for i, k in enumerate(ra))
    return 1 - 6 * d2 / (n * (n * n - 1)) if n > 1 else 1.0


def analyse(d: dict) -> dict:
    """Tuned numbers, rankings, best p per architecture and the cross checks of the claim."""
    best = {a: {k: tune(v) for k, v in d["runs"][a].items()} for a in d["runs"]}
    ranking = {a: sorted(b, key=lambda k: b[k]["val_loss"]) for a, b in best.items()}
    lp = [label for label, _, p in KS if p is not None]
    best_p = {a: min(lp, key=lambda k: best[a][k]["val_loss"]) for a in best}
    archs = list(best)
    cross = {}
    if len(archs) == 2:
        for a, b in (archs, archs[::-1]):
            mine, theirs = best_p[a], best_p[b]
            cross[a] = {
                "best_p": mine,
                "other_best_p": theirs,
                "resolved": mine != theirs and resolved(best[a][mine], best[a][theirs]),
            }
    lp_resolved = {
        a: [(x, y) for x in lp for y in lp if x != y and resolved(best[a][x], best[a][y])]
        for a in best
    }
    return {
        "best": best,
        "ranking": ranking,
        "best_p": best_p,
        "cross": cross,
        "lp_resolved_pairs": {a: [f"{x} < {y}" for x, y in v] for a, v in lp_resolved.items()},
        "best_K": {a: r[0] for a, r in ranking.items()},
        "best_K_resolved": {
            a: resolved(best[a][r[0]], best[a][r[1]]) for a, r in ranking.items() if len(r) > 1
        },
        "spearman_all": spearman(*ranking.values()) if len(ranking) == 2 else None,
        "spearman_lp": (
            spearman(*([k for k in r if k in lp] for r in ranking.values()))
            if len(ranking) == 2
            else None
        ),
    }


def draw(d: dict, an: dict):
    from ..plotting import PALETTE, new_figure, paper_style

    lrs = np.asarray(d["lrs"])
    colours: dict[str, Any] = {}
    import matplotlib

    cmap = matplotlib.colormaps["viridis"]
    for label, _, p in KS:
        colours[label] = cmap(0.85 * (p - 1)) if p is not None else None
    colours[KS[5][0]] = PALETTE[5]
    colours[KS[6][0]] = PALETTE[1]
    archs = list(d["runs"])
    with paper_style():
        fig = new_figure(7.0, 6.4)
        axes = fig.subplots(2, 2)
        for j, arch in enumerate(archs):
            ax = axes[0, j]
            for label, _, p in KS:
                v = d["runs"][arch][label]["test_loss"]
                mid = v.mean(axis=1)
                ax.errorbar(
                    lrs * (1 + 0.025 * (list(colours).index(label) - 3)),
                    mid,
                    yerr=[mid - v.min(axis=1), v.max(axis=1) - mid],
                    fmt="o-" if p is not None else "s--",
                    ms=2.5,
                    lw=0.9,
                    capsize=1.5,
                    color=colours[label],
                    label=label,
                )
            ax.set_xscale("log")
            ax.set_xlabel("learning rate η (same grid for every K)")
            ax.set_ylabel("validation loss (cross-entropy)")
            ax.set_title(
                f"({'ab'[j]}) {arch} ({ARCHS[arch]['dataset']}): validation loss against η",
                fontsize=7.5,
            )
            if j == 0:
                ax.legend(fontsize=5.5)
        ax = axes[1, 0]
        labels = [label for label, _, _ in KS]
        x = np.arange(len(labels))
        for j, arch in enumerate(archs):
            b = an["best"][arch]
            ref = b[labels[0]]["val_loss"]
            mid = np.array([b[k]["val_loss"] for k in labels]) - ref
            lo = np.array([b[k]["val_min"] for k in labels]) - ref
            hi = np.array([b[k]["val_max"] for k in labels]) - ref
            ax.errorbar(
                x + 0.12 * (j - 0.5),
                mid,
                yerr=[mid - lo, hi - mid],
                fmt="o",
                ms=3,
                capsize=2,
                color=PALETTE[j],
                label=arch,
            )
        ax.axhline(0, color="grey", lw=0.7, ls=":")
        ax.set_xticks(
            x, [s.replace(" (Lion)", "\n(Lion)").replace("huber ", "huber\n") for s in labels]
        )
        ax.tick_params(axis="x", labelsize=5.5)
        ax.set_ylabel("best-of-grid val. loss − Lion's")
        ax.set_xlabel("K")
        ax.set_title(
            "(c) best of the grid per K, relative to Lion (bars: seed min–max)", fontsize=7.5
        )
        ax.legend(fontsize=6)
        ax = axes[1, 1]
        if len(archs) == 2:
            ra, rb = (an["ranking"][a] for a in archs)
            for label in labels:
                ax.scatter(ra.index(label) + 1, rb.index(label) + 1, s=18, color=colours[label])
                ax.annotate(
                    label,
                    (ra.index(label) + 1, rb.index(label) + 1),
                    fontsize=5.5,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            n = len(labels)
            ax.plot([1, n], [1, n], color="grey", lw=0.7, ls=":", label="same rank")
            ax.set_xlim(0.5, n + 1.5)
            ax.set_ylim(0.5, n + 0.5)
            ax.set_xlabel(f"rank on {archs[0]} (1 = best)")
            ax.set_ylabel(f"rank on {archs[1]} (1 = best)")
            ax.set_title(
                f"(d) rank per architecture (Spearman ρ = {an['spearman_all']:.2f})", fontsize=7.5
            )
            ax.legend(fontsize=6, loc="upper right")
        seeds = "/".join(str(len(d["seeds"][a])) for a in archs)
        steps = "/".join(str(d["steps"][a]) for a in archs)
        fig.suptitle(
            f"Lion-K for seven K on {' and '.join(archs)} (λ = {d['lam']:g}, Lion-matched step "
            f"size, {seeds} seeds, {steps} steps):\nis the best K architecture-dependent?",
            fontsize=8,
        )
    return fig


def build(size: str = "full") -> Reproduction:
    return report(compute(size))


def report(d: dict) -> Reproduction:
    """The `Reproduction` of computed runs ``d`` (from `compute`)."""
    an = analyse(d)
    lrs = list(d["lrs"])
    table = [
        "| architecture | rank | K | best η | val. loss mean [min, max] | val. accuracy | "
        "train loss | best η at grid edge |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for arch, order in an["ranking"].items():
        for r, label in enumerate(order, start=1):
            b = an["best"][arch][label]
            table.append(
                f"| {arch} | {r} | {label} | {lrs[b['lr_index']]:g} | {b['val_loss']:.4f} "
                f"[{b['val_min']:.4f}, {b['val_max']:.4f}] | {b['val_accuracy']:.3f} | "
                f"{b['train_loss']:.4f} | {'yes' if b['on_edge'] else 'no'} |"
            )
    cross = an["cross"]
    differs = len(set(an["best_p"].values())) > 1
    n_resolved = sum(c["resolved"] for c in cross.values())
    if not differs:
        verdict = "disagrees"
    elif n_resolved == len(cross):
        verdict = "agrees"
    else:
        verdict = "agrees with a qualification"
    edge = [f"{a} {k}" for a, b in an["best"].items() for k, v in b.items() if v["on_edge"]]
    measured = [
        *(
            f"- {arch}: ranking (best first) " + " < ".join(order) + f"; best ℓp: "
            f"**{an['best_p'][arch]}**; pairs of ℓp members whose difference is resolved by the "
            f"seeds: {len(an['lp_resolved_pairs'][arch])} of 10"
            + (
                f" ({', '.join(an['lp_resolved_pairs'][arch])})"
                if an["lp_resolved_pairs"][arch]
                else ""
            )
            + f"; best of all seven K: {an['best_K'][arch]}, "
            + ("resolved" if an["best_K_resolved"].get(arch) else "not resolved")
            + " against the runner-up."
            for arch, order in an["ranking"].items()
        ),
        *(
            f"- On {a}, its best ℓp ({c['best_p']}) against the other architecture's best ℓp "
            f"({c['other_best_p']}): "
            + (
                "the same p"
                if c["best_p"] == c["other_best_p"]
                else "resolved (seed ranges disjoint)"
                if c["resolved"]
                else "not resolved (seed ranges overlap)"
            )
            + "."
            for a, c in cross.items()
        ),
        f"- Spearman rank correlation of the two rankings: all seven K "
        f"{an['spearman_all']:.2f}, the five ℓp {an['spearman_lp']:.2f}."
        if an["spearman_all"] is not None
        else "- One architecture only: no rank correlation.",
        "- Best learning rate at an end of the grid (the grid may not bracket the optimum): "
        + (", ".join(edge) if edge else "none")
        + ".",
        "",
        "Best of the grid per (architecture, K) — mean over seeds of the validation loss at the "
        "learning rate with the lowest mean, [min, max] over seeds there:",
        "",
        *table,
    ]
    what_differs = (
        "What differs: a 10k-parameter CNN on 8×8 digits and a 114k-parameter character "
        f"transformer trained for {d['steps']['cnn']}/{d['steps']['transformer']} steps on one "
        "CPU thread, not ResNet-50/ViT-B/16 on ImageNet or GPT-2 on OpenWebText; every K uses "
        "the Lion-matched step size (module docstring of lyapunov_lion.torch.groups) — the "
        "paper does not state how it scaled ℓp — and the rankings are early-training ones."
    )
    bp = an["best_p"]
    unresolved = [a for a, v in an["lp_resolved_pairs"].items() if not v]
    bk = an["best_K"]
    wider = (
        "Over all seven K the best one is "
        + ", ".join(
            f"{k} on {a} ({'resolved' if an['best_K_resolved'].get(a) else 'not resolved'} "
            "against the runner-up)"
            for a, k in bk.items()
        )
        + (
            f"; the rankings of the seven K correlate at Spearman ρ = {an['spearman_all']:.2f}. "
            if an["spearman_all"] is not None
            else ". "
        )
    )
    if verdict == "disagrees":
        verdict_text = (
            f"Both architectures have the same best ℓp ({next(iter(bp.values()))}), so these "
            "runs show no dependence of the best p on the architecture"
            + (
                f" — with the caveat that on {', '.join(unresolved)} no two ℓp members are "
                "separated by the seeds, so there the data do not pick a p at all. "
                if unresolved
                else ". "
            )
            + wider
            + what_differs
        )
    else:
        verdict_text = (
            "The best p differs between the architectures ("
            + ", ".join(f"{a}: {p}" for a, p in bp.items())
            + "); "
            + (
                "on each architecture its own best p beats the other's with disjoint seed "
                "ranges, so the dependence on the architecture is measured, not noise. "
                if verdict == "agrees"
                else f"the seeds resolve this on {n_resolved} of {len(cross)} architectures "
                "only, so the dependence is suggested, not established, by these runs. "
            )
            + wider
            + what_differs
        )
    settings = {
        "architectures": {
            a: f"{v['model']} on {v['dataset']}, batch {v['batch_size']}, {d['steps'][a]} steps"
            for a, v in ARCHS.items()
        },
        "K": [f"{label}: {spec}" for label, spec, _ in KS],
        "step size": "Lion-matched: K ← s·K per tensor (lyapunov_lion.torch.groups)",
        "lr grid (every K)": lrs,
        "seeds": {a: list(v) for a, v in d["seeds"].items()},
        "lam": d["lam"],
        "betas": [0.9, 0.99],
        "decay": "explicit (decoupled)",
        "selection": "lowest mean validation loss over the seeds, per (architecture, K)",
        "validation": "digits: the held-out 25 % split (seed-dependent); Shakespeare: the last "
        "10 % of every play, 256 fixed windows of 64 characters",
    }
    just = (
        "Seven K: the paper's ℓp family at five p, Muon's nuclear norm and a smooth K, so that "
        "both the paper's claim (best p) and the wider question (best K) are measured. The "
        "Lion-matched scale makes one learning-rate grid meaningful for every K; the grid "
        f"(×√10 steps from {lrs[0]:g} to {lrs[-1]:g}) is meant to bracket the useful range of "
        "Lion on both networks at these run lengths, and runs whose best η lands on an end "
        "are flagged (listed under Measured). Three seeds "
        "give the spread the ranking is judged against; λ = 1 keeps every K's constraint "
        "loose so that the comparison is about the update direction, not the radius. Run "
        "lengths keep the whole report within the repository's CPU budget."
    )
    results = {
        "claim": CLAIM,
        "best": an["best"],
        "ranking": an["ranking"],
        "best_p": an["best_p"],
        "best_K": an["best_K"],
        "best_K_resolved": an["best_K_resolved"],
        "lp_resolved_pairs": an["lp_resolved_pairs"],
        "cross": an["cross"],
        "spearman_all": an["spearman_all"],
        "spearman_lp": an["spearman_lp"],
        "runs": {
            a: {k: {m: v[m].tolist() for m in METRICS} for k, v in r.items()}
            for a, r in d["runs"].items()
        },
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
        figure=draw(d, an),
        caption=(
            "(a, b) Validation loss against the learning rate for each K (points: mean over "
            "seeds, bars: min–max; ℓp coloured by p, nuclear and huber dashed). (c) The best of "
            "the grid per K minus Lion's, for both architectures. (d) Rank of each K on the CNN "
            "against its rank on the transformer; points off the diagonal change rank with the "
            "architecture."
        ),
    )
