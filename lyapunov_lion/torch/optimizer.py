"""`LionK`: Lion-K as a ``torch.optim.Optimizer``, for any catalog or verified K.

Per parameter tensor x with gradient g, momentum m (state ``exp_avg``), learning rate η and
decoupled weight decay λ (``weight_decay``), the library convention of lion-pytorch, optax and
google/automl (EMA of +g, subtract ∇K)::

    c = β1 m + (1 − β1) g
    x ← x (1 − ηλ) − η ∇K(c)            decay="explicit" (lion-pytorch, optax)
    x ← (x − η ∇K(c)) / (1 + ηλ)        decay="implicit"
    m ← β2 m + (1 − β2) g

λ is multiplied by the learning rate and acts on the old x, so the fixed-point set of the
decay is x ∈ (1/λ)·dom K*: the box ‖x‖_∞ ≤ 1/λ for K = l1 (Lion), the ball ‖x‖₂ ≤ 1/λ for l2,
‖X‖_op ≤ 1/λ for nuclear (spec §1, §4). K = l1 is bit-identical to lion-pytorch 0.2.5 (the loop
path to ``lion_pytorch.Lion``, the multi-tensor path to ``lion_pytorch.foreach.Lion``). For a K
that is not even (logsumexp) this convention is Lion-K with K(−·).

Other decays change the radius: lion-pytorch's ``decoupled_weight_decay=True`` divides the decay
by the *initial* learning rate, x ← x(1 − (η_t/η₀)λ) − η_t ∇K, whose fixed-point box has radius
η₀/λ instead of 1/λ (it equals the box of this class only with λ_here = λ/η₀ and a constant lr);
``torch.optim.Muon`` (torch 2.13) applies x ← x(1 − ηλ) − η·s·NS(B) with the plain lr in the
decay but the step scaled by s = √max(1, rows/cols) (``adjust_lr_fn="original"``, default) or
s = 0.2·√max(rows, cols) (``"match_rms_adamw"``), so its spectral-norm radius is s/λ — shape
dependent, not 1/λ — and larger still because Newton–Schulz output has singular values above 1.

How K acts (see `lyapunov_lion.torch.rules`): a separable K elementwise; a norm-type vector K
(l2, lp, linf) on each tensor flattened; nuclear on each tensor seen as a matrix (shape[0],
rest) — a conv kernel (out, in, kh, kw) is (out, in·kh·kw) — with the exact polar factor UVᵀ
(``polar="exact"``) or Muon's Newton–Schulz iteration (``polar="newton_schulz"``), whose
relative Frobenius distance to UVᵀ is measured every ``ns_check_every`` steps and stored in
the parameter's state (``polar_distance``) for the monitor to report.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import torch

from ..core.discrete import DECAYS
from ..core.kfunc import KFunction
from ..errors import LionKError
from .rules import ElementwiseRule, K_from_spec, K_label, MatrixRule, make_rule

CHUNK = 1 << 17
"""Elements per piece of the multi-tensor path: tensors are cut into flat pieces of at most
CHUNK entries and processed in batches of at most BATCH entries, so the five passes of a step
run on data in cache and no step allocates more than one batch of scratch memory."""
BATCH = 1 << 17


def _check_hyper(lr, betas, weight_decay, decay, foreach) -> None:
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise LionKError(f"lr={lr!r}: the learning rate must be a finite number > 0")
    try:
        b1, b2 = (float(b) for b in betas)
    except (TypeError, ValueError):
        raise LionKError(f"betas={betas!r}: give two numbers (beta1, beta2) in [0, 1)") from None
    if not (0 <= b1 < 1 and 0 <= b2 < 1):
        raise LionKError(f"betas={betas!r}: beta1 and beta2 must lie in [0, 1)")
    if not (
        isinstance(weight_decay, (int, float)) and math.isfinite(weight_decay) and weight_decay >= 0
    ):
        raise LionKError(f"weight_decay={weight_decay!r}: λ must be a finite number ≥ 0")
    if decay not in DECAYS:
        raise LionKError(f"decay={decay!r}: choose one of {', '.join(DECAYS)}")
    if foreach not in (None, True, False):
        raise LionKError(f"foreach={foreach!r}: choose None (automatic), True or False")


def _pieces(tensors: list[torch.Tensor]) -> list[tuple[torch.Tensor, ...]]:
    """Each tensor as is, or, if longer than CHUNK, as flat views of at most CHUNK entries."""
    return [(t,) if t.numel() <= CHUNK else t.view(-1).split(CHUNK) for t in tensors]


class LionK(torch.optim.Optimizer):
    """Lion-K for torch parameters (module docstring).

    ``K`` per parameter group: a catalog name with parameters (``"l1"``, ``"huber:delta=0.5"``),
    a K object (``make_K(...)``), or a verified K (``lyapunov_lion.symbolic.load_K("k.json")``,
    ``K_from_expression("x**4/4 + Abs(x)")``). ``weight_decay`` is λ. ``foreach=None`` uses the
    multi-tensor path for elementwise K; norm-type K always loop over tensors.
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        K: Any = "l1",
        decay: str = "explicit",
        maximize: bool = False,
        foreach: bool | None = None,
        polar: str = "exact",
        ns_steps: int = 5,
        ns_check_every: int = 100,
    ):
        _check_hyper(lr, betas, weight_decay, decay, foreach)
        if (
            isinstance(ns_check_every, bool)
            or not isinstance(ns_check_every, int)
            or ns_check_every < 1
        ):
            raise LionKError(f"ns_check_every={ns_check_every!r}: must be a positive integer")
        self._rules: dict[tuple, Any] = {}
        self.ns_check_every = ns_check_every
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            weight_decay=weight_decay,
            K=K,
            decay=decay,
            maximize=bool(maximize),
            foreach=foreach,
            polar=polar,
            ns_steps=ns_steps,
        )
        super().__init__(params, defaults)

    # -- groups, K and state dict ------------------------------------------------------------
    def add_param_group(self, param_group: dict) -> None:
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        _check_hyper(
            group["lr"], group["betas"], group["weight_decay"], group["decay"], group["foreach"]
        )
        group["K"] = K_from_spec(group["K"])
        self.rule(group)  # fail now (bad polar, unsupported K), not at the first step

    def rule(self, group: dict):
        """The update rule of a parameter group (cached per K object and polar settings)."""
        key = (id(group["K"]), group["polar"], group["ns_steps"])
        if key not in self._rules:
            self._rules[key] = (
                group["K"],
                make_rule(group["K"], group["polar"], group["ns_steps"]),
            )
        return self._rules[key][1]

    def state_dict(self) -> dict:
        """As torch's, with each group's K stored as its text label (``huber:delta=0.5``)."""
        sd = super().state_dict()
        for g_saved, group in zip(sd["param_groups"], self.param_groups, strict=True):
            g_saved["K"] = K_label(group["K"])
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        """Load momenta and hyper-parameters; the K of each group must match the saved label."""
        current = [g["K"] for g in self.param_groups]
        saved = [g.get("K") for g in state_dict.get("param_groups", [])]
        # a group-count mismatch is left to torch's load_state_dict below, which names it
        for i, (K, label) in enumerate(zip(current, saved, strict=False)):
            label = K_label(label) if isinstance(label, KFunction) else label
            if label != K_label(K):
                raise LionKError(
                    f"param group {i}: the state dict was saved with K={label!r} but "
                    f"this optimizer has K={K_label(K)!r}; build it with the same K"
                )
        super().load_state_dict(state_dict)
        for group, K in zip(self.param_groups, current, strict=True):
            group["K"] = K

    # -- the step ------------------------------------------------------------------------------
    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None):
        """One Lion-K step on every parameter with a gradient; returns ``closure()`` if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            rule = self.rule(group)
            params = [p for p in group["params"] if p.grad is not None]
            for p in params:
                self._check_param(p, rule)
            if not params:
                continue
            if isinstance(rule, ElementwiseRule) and group["foreach"] is not False:
                self._step_foreach(group, rule, params)
            else:
                for p in params:
                    self._step_one(group, rule, p, self._state(p))
        return loss

    @staticmethod
    def _check_param(p: torch.Tensor, rule) -> None:
        if p.grad is not None and p.grad.is_sparse:
            raise LionKError(
                f"LionK does not support sparse gradients (parameter of shape "
                f"{tuple(p.shape)}); use dense gradients, e.g. nn.Embedding(sparse=False)"
            )
        if p.is_complex() and isinstance(rule, MatrixRule):
            raise LionKError(
                f"K=nuclear on a complex parameter (shape {tuple(p.shape)}) is not "
                "supported; use an elementwise or vector K (complex entries are "
                "treated as real pairs there)"
            )
        if not (p.is_floating_point() or p.is_complex()):
            raise LionKError(f"LionK needs floating-point parameters, got {p.dtype}")

    def _state(self, p: torch.Tensor) -> dict:
        state = self.state[p]
        if len(state) == 0:
            state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
            state["step"] = 0
        state["step"] += 1
        return state

    @staticmethod
    def _real(t: torch.Tensor) -> torch.Tensor:
        return torch.view_as_real(t) if t.is_complex() else t

    def _step_one(self, group: dict, rule, p: torch.Tensor, state: dict) -> None:
        """One tensor: the operation order of ``lion_pytorch.Lion`` (mul/add momenta)."""
        lr, lam, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        x, m = self._real(p), self._real(state["exp_avg"])
        assert p.grad is not None  # step() visits parameters with a gradient only
        g = self._real(p.grad)
        if group["maximize"]:
            g = -g
        c = m.mul(beta1).add_(g, alpha=1 - beta1)
        if isinstance(rule, MatrixRule):
            measure = rule.polar != "exact" and (state["step"] - 1) % self.ns_check_every == 0
            dist = rule.apply_(c, measure=measure)
            if dist is not None and measure:
                state["polar_distance"], state["polar_distance_step"] = dist, state["step"]
        else:
            rule.apply_(c)
        if group["decay"] == "explicit":
            if lam != 0:
                x.mul_(1 - lr * lam)
            x.add_(c, alpha=-lr)
        else:
            x.add_(c, alpha=-lr).div_(1 + lr * lam)
        m.mul_(beta2).add_(g, alpha=1 - beta2)

    def _step_foreach(self, group: dict, rule: ElementwiseRule, params: list) -> None:
        """Many tensors: the operation order of ``lion_pytorch.foreach.Lion`` (lerp momenta), run
        on flat pieces in cache-sized batches (`CHUNK`)."""
        lr, lam, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        flat = []
        for p in params:
            state = self._state(p)
            x, m, g = self._real(p), self._real(state["exp_avg"]), self._real(p.grad)
            if not (x.is_contiguous() and m.is_contiguous() and g.is_contiguous()):
                self._step_one(group, rule, p, state)  # views need contiguous memory
                continue
            flat.append((x, m, g))
        if not flat:
            return
        xs, ms, gs = (_pieces(list(t)) for t in zip(*flat, strict=True))
        batches: list[list[tuple[torch.Tensor, ...]]] = []
        current: list[tuple[torch.Tensor, ...]] = []
        size = 0
        for x_parts, m_parts, g_parts in zip(xs, ms, gs, strict=True):
            for piece in zip(x_parts, m_parts, g_parts, strict=True):
                if current and size + piece[0].numel() > BATCH:
                    batches.append(current)
                    current, size = [], 0
                current.append(piece)
                size += piece[0].numel()
        batches.append(current)
        for batch in batches:
            X, M, G = (list(t) for t in zip(*batch, strict=True))
            if group["maximize"]:
                G = list(torch._foreach_neg(G))
            c = torch._foreach_lerp(M, G, 1 - beta1)
            rule.apply_list_(c)
            if group["decay"] == "explicit":
                if lam != 0:
                    torch._foreach_mul_(X, 1 - lr * lam)
                torch._foreach_add_(X, c, alpha=-lr)
            else:
                torch._foreach_add_(X, c, alpha=-lr)
                torch._foreach_div_(X, 1 + lr * lam)
            torch._foreach_lerp_(M, G, 1 - beta2)
