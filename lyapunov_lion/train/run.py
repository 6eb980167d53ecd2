"""`train`: one Lion-K training run on a bundled data set, watched by the monitor."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LionKError
from . import data as data_mod
from . import models as models_mod


@dataclass
class TrainResult:
    """``metrics`` (JSON-ready): final_train_loss and final_train_accuracy (whole training set),
    test_loss, test_accuracy, early_loss (mean minibatch loss over the first ⌈steps/10⌉ steps),
    entry_steps / phase1_bounds (per tensor name, see `LionKMonitor`), all_entered_within_bound
    (None when no tensor has a bound, e.g. λ = 0),
    stayed_in_box, seconds; ``config`` the arguments; ``history`` the monitor's (arrays);
    ``losses`` the minibatch loss of every step; ``model`` and ``monitor`` the live objects."""

    metrics: dict[str, Any]
    config: dict[str, Any]
    history: dict[str, Any]
    losses: np.ndarray
    model: Any = field(repr=False, default=None)
    monitor: Any = field(repr=False, default=None)


def _check_int(name: str, v, low: int) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < low:
        raise LionKError(f"{name}={v!r}: must be an integer ≥ {low}")


def train(
    model: str = "mlp",
    dataset: str = "digits",
    K: Any = "l1",
    lam: float = 0.0,
    lr: float = 1e-3,
    betas: tuple[float, float] = (0.9, 0.99),
    steps: int = 500,
    batch_size: int = 64,
    seed: int = 0,
    monitor_every: int = 10,
    *,
    decay: str = "explicit",
    hidden: int = 64,
    foreach: bool | None = None,
    polar: str = "exact",
    dtype: str = "float32",
    monitor_bins: int = 0,
    progress: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train ``model`` on ``dataset`` with ``LionK(K, lr, betas, weight_decay=lam)``, minibatches
    of ``batch_size`` drawn without replacement per epoch, cross-entropy loss. Deterministic for a
    seed: torch runs on one thread during the call (restored afterwards)."""
    import torch

    from ..torch import LionK, LionKMonitor

    _check_int("steps", steps, 1)
    _check_int("batch_size", batch_size, 1)
    _check_int("monitor_every", monitor_every, 1)
    dtypes = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16}
    if dtype not in dtypes:
        raise LionKError(f"dtype={dtype!r}: choose one of {', '.join(dtypes)}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        t0 = time.perf_counter()
        split = data_mod.load(dataset, seed=seed, dtype=dtypes[dtype])
        torch.manual_seed(seed)
        net = models_mod.build(model, n_classes=split.n_classes, hidden=hidden).to(dtypes[dtype])
        opt = LionK(
            net.parameters(),
            lr=lr,
            betas=betas,
            weight_decay=lam,
            K=K,
            decay=decay,
            foreach=foreach,
            polar=polar,
        )
        monitor = LionKMonitor(opt, every=monitor_every, names=net, bins=monitor_bins)
        loss_fn = torch.nn.functional.cross_entropy
        gen = torch.Generator().manual_seed(seed)
        n = split.x_train.shape[0]
        order, pos = torch.randperm(n, generator=gen), 0
        losses = np.empty(steps)
        for t in range(steps):
            if pos + batch_size > n:
                order, pos = torch.randperm(n, generator=gen), 0
            idx = order[pos : pos + batch_size]
            pos += batch_size
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(split.x_train[idx]), split.y_train[idx])
            loss.backward()
            opt.step()
            monitor.update()
            losses[t] = loss.item()
            if not np.isfinite(losses[t]):
                raise LionKError(f"the training loss is {losses[t]} at step {t + 1}; lower lr")
            if progress is not None:
                progress(t + 1, losses[t])
        with torch.no_grad():
            out_tr, out_te = net(split.x_train), net(split.x_test)
            metrics: dict[str, Any] = {
                "final_train_loss": float(loss_fn(out_tr, split.y_train)),
                "final_train_accuracy": float((out_tr.argmax(1) == split.y_train).float().mean()),
                "test_loss": float(loss_fn(out_te, split.y_test)),
                "test_accuracy": float((out_te.argmax(1) == split.y_test).float().mean()),
                "early_loss": float(losses[: max(1, -(-steps // 10))].mean()),
            }
        summary = monitor.summary()
        metrics["entry_steps"] = {r["name"]: r["entry"] for r in summary}
        metrics["phase1_bounds"] = {r["name"]: r["phase1_bound"] for r in summary}
        # a tensor whose bound lies beyond the run has not had to enter yet: not a violation
        checked = [r for r in summary if r["lam"] > 0 and 0 <= r["phase1_bound"] <= steps]
        # entries are seen at records (every monitor_every steps): the first record at or after
        # the bound is the last one at which the tensor must be seen inside
        metrics["all_entered_within_bound"] = (
            all(  # None: no tensor has a bound within the run
                0 <= r["entry"] <= -(-r["phase1_bound"] // monitor_every) * monitor_every
                for r in checked
            )
            if checked
            else None
        )
        metrics["stayed_in_box"] = all(r["left_after_entry"] == 0 for r in summary)
        metrics["seconds"] = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
    config = {
        "model": model,
        "dataset": dataset,
        "K": summary[0]["K"] if summary else str(K),
        "lam": lam,
        "lr": lr,
        "betas": list(betas),
        "steps": steps,
        "batch_size": batch_size,
        "seed": seed,
        "monitor_every": monitor_every,
        "decay": decay,
        "hidden": hidden,
        "polar": polar,
        "dtype": dtype,
    }
    return TrainResult(
        metrics=metrics,
        config=config,
        history=monitor.history(),
        losses=losses,
        model=net,
        monitor=monitor,
    )
