"""`train`: one Lion-K training run on a bundled data set, watched by the monitor."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import LionKError
from . import tasks as tasks_mod


@dataclass
class TrainResult:
    """``metrics`` (JSON-ready): final_train_loss and final_train_accuracy (whole training set;
    for text, fixed windows of it), test_loss, test_accuracy (the validation text for text),
    early_loss (mean minibatch loss over the first ⌈steps/10⌉ steps),
    entry_steps / phase1_bounds (per tensor name, see `LionKMonitor`), all_entered_within_bound
    (None when no tensor has a bound, e.g. λ = 0),
    stayed_in_box (None without a monitor), seconds; ``config`` the arguments; ``history`` the
    monitor's (arrays); ``losses`` the minibatch loss of every step; ``model`` and ``monitor``
    the live objects."""

    metrics: dict[str, Any]
    config: dict[str, Any]
    history: dict[str, Any]
    losses: np.ndarray
    model: Any = field(repr=False, default=None)
    monitor: Any = field(repr=False, default=None)


def _one_blas_thread() -> Any:
    """Limit numpy's BLAS to one thread (the monitor's float64 work) until the returned
    limiter's ``restore_original_limits()``; None without threadpoolctl (a scikit-learn
    dependency). On a loaded machine multi-threaded BLAS calls on small tensors made a
    monitored transformer step ~4× slower."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return threadpool_limits(limits=1, user_api="blas")


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
    lion_scale: bool = False,
    progress: Callable[[int, float], None] | None = None,
) -> TrainResult:
    """Train ``model`` on ``dataset`` with ``LionK(K, lr, betas, weight_decay=lam)``, minibatches
    of ``batch_size`` (`tasks`: digits images for ``mlp``/``cnn``, Shakespeare windows for
    ``transformer``), cross-entropy loss. ``lion_scale=True``: every tensor its own group with
    K ← s·K, the Lion-matched step size of `lyapunov_lion.torch.groups` (nuclear on matrices,
    Lion on vectors). ``monitor_every=0``: no `LionKMonitor` (no constraint numbers, an empty
    ``history``; for runs that only need the losses). Deterministic for a seed: torch (and
    numpy's BLAS, with threadpoolctl) run on one thread during the call (restored afterwards)."""
    import torch

    from ..torch import LionK, LionKMonitor
    from ..torch.groups import lion_scaled_groups

    _check_int("steps", steps, 1)
    _check_int("batch_size", batch_size, 1)
    _check_int("monitor_every", monitor_every, 0)
    dtypes = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16}
    if dtype not in dtypes:
        raise LionKError(f"dtype={dtype!r}: choose one of {', '.join(dtypes)}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    blas = _one_blas_thread()
    try:
        t0 = time.perf_counter()
        task = tasks_mod.make_task(dataset, model, seed=seed, dtype=dtypes[dtype])
        torch.manual_seed(seed)
        net = task.build(model, hidden).to(dtypes[dtype])
        params = (
            lion_scaled_groups(net.named_parameters(), K, lr, lam)
            if lion_scale
            else net.parameters()
        )
        opt = LionK(
            params,
            lr=lr,
            betas=betas,
            weight_decay=lam,
            K=K,
            decay=decay,
            foreach=foreach,
            polar=polar,
        )
        monitor = (
            LionKMonitor(opt, every=monitor_every, names=net, bins=monitor_bins)
            if monitor_every
            else None
        )
        loss_fn = torch.nn.functional.cross_entropy
        next_batch = task.sampler(torch.Generator().manual_seed(seed), batch_size)
        losses = np.empty(steps)
        for t in range(steps):
            x, y = next_batch()
            opt.zero_grad(set_to_none=True)
            out = net(x)
            loss = loss_fn(out.reshape(-1, out.shape[-1]), y.reshape(-1))
            loss.backward()
            opt.step()
            if monitor is not None:
                monitor.update()
            losses[t] = loss.item()
            if not np.isfinite(losses[t]):
                raise LionKError(f"the training loss is {losses[t]} at step {t + 1}; lower lr")
            if progress is not None:
                progress(t + 1, losses[t])
        metrics: dict[str, Any] = task.evaluate(net, loss_fn)
        metrics["early_loss"] = float(losses[: max(1, -(-steps // 10))].mean())
        summary = monitor.summary() if monitor is not None else []
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
        metrics["stayed_in_box"] = (
            all(r["left_after_entry"] == 0 for r in summary) if monitor is not None else None
        )
        metrics["seconds"] = time.perf_counter() - t0
    finally:
        torch.set_num_threads(threads)
        if blas is not None:
            blas.restore_original_limits()
    config = {
        "model": model,
        "dataset": dataset,
        "K": summary[0]["K"] if summary and not lion_scale else str(K),
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
        "lion_scale": lion_scale,
    }
    return TrainResult(
        metrics=metrics,
        config=config,
        history=monitor.history() if monitor is not None else {},
        losses=losses,
        model=net,
        monitor=monitor,
    )
