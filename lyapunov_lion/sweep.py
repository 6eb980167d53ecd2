"""Use case: the λ sweep — converged loss of Lion-K against the weight decay λ, next to the exact
loss of the problem it solves.

For each λ of a grid, Lion-K runs ``steps`` steps (all λ in ONE batched `run_discrete` call), then
``window`` more steps over which f is averaged (the converged loss ℓ(λ); averaging removes the
O(η) limit cycle of sign-type K). The exact curve is f(x*(λ)) with x*(λ) the minimiser of
f + (1/λ)K*(λx) from `constrained_optimum` (independent of the dynamics). For Lion on the paper's
toy problem this is Fig. 1(d): ℓ(λ) = ((1.5 − 1/λ)₊)², flat until λ* = 2/3.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .core.discrete import LionKConfig, run_discrete
from .core.kfunc import KFunction, make_K
from .core.objectives import Objective, StochasticGradient, make_objective
from .core.reference import constrained_optimum
from .errors import LionKError, NumericalFailure


def converged_loss(
    K: KFunction,
    objective: Objective,
    lams,
    x0,
    *,
    steps: int,
    window: int,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.99,
    decay: str = "explicit",
    convention: str = "paper",
    noise: float = 0.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """ℓ(λ) = (1/window) Σ_{t=T−window+1}^{T} f(x_t), T = steps + window, for every λ in one
    batch from the same x0 (m0 = 0); with ``noise`` σ > 0 the gradients are ∇f + σξ (one seeded
    stream for the whole batch). Returns (ℓ of shape (n,), final points (n, d))."""
    lams = np.asarray(lams, dtype=float)
    if lams.ndim != 1 or lams.size == 0 or np.any(lams <= 0):
        raise LionKError("the λ grid must be a non-empty list of positive numbers")
    start = np.broadcast_to(np.asarray(x0, dtype=float), lams.shape + (np.size(x0),)).copy()
    cfg = LionKConfig(lr=lr, beta1=beta1, beta2=beta2, lam=lams, decay=decay, convention=convention)
    oracle = StochasticGradient(objective, noise, seed) if noise > 0 else objective
    burn = run_discrete(K, oracle.grad, start, config=cfg, steps=steps, save_every=steps)
    if not burn.success:
        raise NumericalFailure(f"λ sweep failed: {burn.message}")
    tail = run_discrete(K, oracle.grad, burn.x[-1], burn.m[-1], config=cfg, steps=window)
    if not tail.success:
        raise NumericalFailure(f"λ sweep failed: {tail.message}")
    X = np.asarray(tail.x[1:])
    return np.asarray(objective.f(X)).mean(axis=0), X[-1]


@dataclass
class SweepResult:
    """ℓ(λ) from the runs, f(x*(λ)) and x*(λ) from the reference solver, and the settings."""

    K: KFunction
    objective: Objective
    lams: np.ndarray
    loss: np.ndarray
    x_final: np.ndarray
    exact_loss: np.ndarray
    x_star: np.ndarray
    settings: dict

    @property
    def max_error(self) -> float:
        return float(np.max(np.abs(self.loss - self.exact_loss)))

    def summary_dict(self) -> dict[str, Any]:
        worst = int(np.argmax(np.abs(self.loss - self.exact_loss)))
        return {
            "K": self.K.name,
            "K_params": dict(self.K.param_values),
            "objective": self.objective.name,
            "settings": self.settings,
            "lam": self.lams.tolist(),
            "loss": self.loss.tolist(),
            "exact_loss": self.exact_loss.tolist(),
            "x_final": self.x_final.tolist(),
            "x_star": self.x_star.tolist(),
            "max_error": self.max_error,
            "worst_lam": float(self.lams[worst]),
        }

    def summary_text(self, rows: int = 8) -> str:
        s = self.settings
        lines = [
            f"λ sweep of Lion-K with K = {self.K.info()['K']} ({self.K.name}) on "
            f"f(x) = {self.objective.formula}: {self.lams.size} λ in "
            f"[{self.lams[0]:g}, {self.lams[-1]:g}], one batched run of {s['steps']} + "
            f"{s['window']} steps (lr {s['lr']:g}, β = ({s['beta1']:g}, {s['beta2']:g}), "
            f"{s['decay']} decay, x0 = {tuple(float(v) for v in s['x0'])})",
            f"{'λ':>10}  {'converged loss':>15}  {'exact f(x*(λ))':>15}  {'|difference|':>12}",
        ]
        for i in np.unique(
            np.linspace(0, self.lams.size - 1, min(rows, self.lams.size)).astype(int)
        ):
            lines.append(
                f"{self.lams[i]:>10.4g}  {self.loss[i]:>15.6g}  {self.exact_loss[i]:>15.6g}"
                f"  {abs(self.loss[i] - self.exact_loss[i]):>12.3g}"
            )
        worst = int(np.argmax(np.abs(self.loss - self.exact_loss)))
        lines.append(
            f"largest |converged − exact| = {self.max_error:.3g} at λ = "
            f"{self.lams[worst]:.4g} (a residual of the finite run: more steps or a "
            "smaller lr shrink it)"
        )
        return "\n".join(lines)


def lambda_sweep(
    K: str | KFunction,
    objective: str | Objective = "toy",
    lams=None,
    *,
    x0=None,
    steps: int = 20_000,
    window: int = 1_000,
    lr: float = 1e-3,
    beta1: float = 0.9,
    beta2: float = 0.99,
    decay: str = "explicit",
    convention: str = "paper",
    noise: float = 0.0,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> SweepResult:
    """Converged loss against λ (batched runs) and the exact curve (reference solver per λ)."""
    K = make_K(K) if isinstance(K, str) else K
    objective = make_objective(objective) if isinstance(objective, str) else objective
    lams = np.linspace(0.1, 3.0, 100) if lams is None else np.asarray(lams, dtype=float)
    x0 = np.asarray(objective.default_x0 if x0 is None else x0, dtype=float)
    if objective.dim is not None and x0.size != objective.dim:
        raise LionKError(f"x0 has {x0.size} entries; the objective is {objective.dim}-dimensional")
    loss, x_final = converged_loss(
        K,
        objective,
        lams,
        x0,
        steps=steps,
        window=window,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        decay=decay,
        convention=convention,
        noise=noise,
        seed=seed,
    )
    if not np.all(np.isfinite(loss)):
        raise NumericalFailure(
            f"λ sweep: the converged loss is not finite at λ = "
            f"{lams[~np.isfinite(loss)][:5].tolist()}"
        )
    if progress:
        progress(f"runs done ({lams.size} λ in one batch); solving the induced problems")
    refs = [constrained_optimum(objective, K, float(lam)) for lam in lams]
    bad = [float(lam) for lam, r in zip(lams, refs, strict=True) if not r.converged]
    if bad:
        raise NumericalFailure(f"the reference solver did not converge at λ = {bad[:5]}")
    settings = {
        "steps": steps,
        "window": window,
        "lr": lr,
        "beta1": beta1,
        "beta2": beta2,
        "decay": decay,
        "convention": convention,
        "noise": noise,
        "seed": seed,
        "x0": x0.tolist(),
    }
    return SweepResult(
        K,
        objective,
        lams,
        loss,
        x_final,
        np.array([r.f for r in refs]),
        np.array([r.x for r in refs]),
        settings,
    )
