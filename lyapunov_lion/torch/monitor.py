"""`LionKMonitor`: the constrained problem each tensor is solved under, watched during training.

With decoupled decay λ > 0, Lion-K drives λx into dom K* (phase 1, spec §4) and then solves
min f(x) + (1/λ)K*(λx) (phase 2). Every ``every`` steps the monitor records, per parameter
tensor x (in float64, on the CPU; s = +1, or −1 for a K that is not even, whose library
convention is Lion-K with K(−·))::

    ``radius``      ρ(x) = gauge of sλx in dom K*, divided by λ, so that the constraint reads
                    ρ ≤ 1/λ: max|x| for l1 (max|x|/δ for huber), ‖x‖₂ for l2, ‖x‖_q for lp,
                    ‖x‖₁ for linf, the spectral norm for nuclear; max|x| when K* has no bounded
                    domain (no constraint; ``bound`` is then inf)
    ``bound``       1/λ (inf if λ = 0 or there is no constraint)
    ``dist``        dist(sλx, dom K*), Euclidean over the whole tensor
    ``boundary``    fraction of the constraint's degrees of freedom within 2ηλ of the boundary in
                    gauge units (one reversal of a step): coordinates for a box, singular values for
                    nuclear, the tensor as a whole (0 or 1) for l2/lp/linf
    ``fy``          Fenchel–Young (KKT) score K(−sg) + K*(sλx) + λxᵀg ≥ 0, zero exactly at the
                    stationary points of f + (1/λ)K*(λ·) (for Lion: ‖g‖₁ + λxᵀg), with g the
                    gradient left in ``.grad`` (that of the step just taken; +inf outside dom K*)
    ``fy_rel``      fy / (|K(−sg)| + |K*(sλx)| + |λxᵀg|) ∈ [0, 1] (0 at a KKT point)
    ``polar_distance``  for nuclear with Newton–Schulz: ‖NS − UVᵀ‖_F/‖UVᵀ‖_F, last measured

and once per tensor: ``entry`` — the first recorded step with dist ≤ tol (resolution
``every``; −1 = not yet) — next to the phase-1 bound of the explicit scheme,
dist_t ≤ (1 − ηλ)^t dist₀ (ηλ ≤ 1; implicit: (1 + ηλ)^{−t}), i.e. the entry step is at most
⌈ln(dist₀/tol)/−ln(1 − ηλ)⌉ (η, λ of the first record); ``left_after_entry`` counts records
after entry with dist > tol (0 when the set is invariant, as the theory says).

``tol`` defaults to 4·eps(dtype)·√n·max(1, 1/(ηλ)) per tensor (n entries): the rounding of n
entries at |λx| ≈ 1 in the parameter's precision, amplified by the slow contraction (see
`default_tol`: rounded Lion settles ~eps/(ηλ) outside the box, not inside it). Cost per record: one
float64 copy of each tensor and O(n) work (O(n log n) for linf, an SVD for nuclear).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import torch

from ..core.catalog import Nuclear
from ..core.kfunc import KFunction, NormBallK, SeparableK
from ..core.serialize import to_jsonable
from ..errors import LionKError
from .rules import K_label, as_matrix

SERIES = ("radius", "dist", "boundary", "fy", "fy_rel", "polar_distance", "lr")


def _numpy(t: torch.Tensor) -> np.ndarray:
    t = t.detach()
    if t.is_complex():
        t = torch.view_as_real(t)
    return t.to(device="cpu", dtype=torch.float64).numpy()


def has_ball(K: KFunction) -> bool:
    """Is dom K* a bounded set around 0 (a box or a dual-norm ball), so that the constraint
    reads radius ≤ 1/λ? (False for sq_l2, power_p, l1_plus_sq, x⁴/4 + |x|: K* finite
    everywhere, a regulariser; and for logsumexp, whose dom K* is the simplex.)"""
    if isinstance(K, (NormBallK, Nuclear)):
        return True
    if isinstance(K, SeparableK):
        lo, hi = K.dom_bounds()
        return bool(lo < 0 < hi and math.isfinite(lo) and math.isfinite(hi))
    return False


def _measure(
    K: KFunction, x: np.ndarray, g: np.ndarray | None, lam: float, lr: float, tol: float
) -> dict[str, float]:
    """The per-record quantities of one tensor (module docstring)."""
    s = 1.0 if K.even else -1.0
    band = 2 * lr * lam
    out = dict.fromkeys(("radius", "dist", "boundary", "fy", "fy_rel"), math.nan)
    y = s * lam * x
    Kg = Kc = math.nan  # set on every branch below where g is given
    if isinstance(K, Nuclear):
        sig = np.linalg.svd(as_matrix(torch.from_numpy(x)).numpy(), compute_uv=False)
        out["radius"] = float(sig.max(initial=0.0))
        out["dist"] = float(np.sqrt(np.sum(np.maximum(lam * sig - 1, 0.0) ** 2)))
        out["boundary"] = float(np.mean(lam * sig >= 1 - band)) if lam > 0 else math.nan
        if g is not None:
            Kg = float(
                np.sum(np.linalg.svd(as_matrix(torch.from_numpy(g)).numpy(), compute_uv=False))
            )
            Kc = 0.0 if out["dist"] <= tol else math.inf
    elif isinstance(K, SeparableK):
        v, lo, hi = y.reshape(-1), *K.dom_bounds()
        out["dist"] = float(np.linalg.norm(v - np.clip(v, lo, hi)))
        if has_ball(K) and lam > 0:
            gauge = np.maximum(v / hi, v / lo)
            out["radius"] = float(np.max(gauge, initial=0.0)) / lam
            out["boundary"] = float(np.mean(gauge >= 1 - band))
        else:
            out["radius"] = float(np.max(np.abs(x), initial=0.0))
        if g is not None:
            Kg = float(K.K(-s * g.reshape(-1)))
            Kc = float(K.conj(v)) if out["dist"] <= tol else math.inf
    else:
        v = y.reshape(-1)
        out["dist"] = float(K.dist_dom_conj(v))
        if isinstance(K, NormBallK):
            out["radius"] = float(K.dual_norm(s * x.reshape(-1)))
            out["boundary"] = float(lam * out["radius"] >= 1 - band) if lam > 0 else math.nan
            if g is not None:
                Kc = 0.0 if out["dist"] <= tol else math.inf
        elif g is not None:
            Kc = float(K.conj(v)) if out["dist"] <= tol else math.inf
        if g is not None:
            Kg = float(K.K(-s * g.reshape(-1)))
    if g is not None:
        inner = float(lam * np.vdot(x, g))
        out["fy"] = Kg + Kc + inner
        scale = abs(Kg) + abs(Kc) + abs(inner)
        out["fy_rel"] = (
            out["fy"] / scale
            if scale > 0 and math.isfinite(scale)
            else (0.0 if scale == 0 else math.nan)
        )
    return out


def default_tol(p: torch.Tensor, lr: float = 0.0, lam: float = 0.0) -> float:
    """4·eps(dtype)·√n·max(1, 1/(ηλ)): the rounding of n entries of λx ≈ 1 in the parameter's
    precision, amplified by the contraction. The decay x ← x(1 − ηλ) − η∇K contracts by only
    ηλ per step, so a rounding error of ~eps per step settles at ~eps/(ηλ): float32 Lion pushed
    against the box sits λ|x| − 1 ≈ 9, 56, 562 eps outside it at ηλ = 0.03, 0.01, 0.001
    (measured; ≤ 1/(ηλ) eps in each case)."""
    dtype = p.dtype if p.is_floating_point() else torch.float64
    rate = lr * lam
    amplification = max(1.0, 1.0 / rate) if rate > 0 else 1.0
    return 4 * torch.finfo(dtype).eps * math.sqrt(max(p.numel(), 1)) * amplification


class LionKMonitor:
    """Watch the constraint of every parameter tensor of a `LionK` optimizer (module docstring).

    ``LionKMonitor(opt, every=10, names=model)`` records step 0 now; call `update` after each
    ``opt.step()``. ``names``: an ``nn.Module`` (its parameter names) or a dict param → name.
    ``bins`` > 0 also records a weight histogram per tensor on fixed edges (for
    `lyapunov_lion.plotting.training.plot_weight_histograms`).
    """

    def __init__(
        self, optimizer, every: int = 1, names: Any = None, tol: float | None = None, bins: int = 0
    ):
        for label, v in (("every", every), ("bins", bins)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (1 if label == "every" else 0):
                raise LionKError(
                    f"{label}={v!r}: must be an integer ≥ {1 if label == 'every' else 0}"
                )
        self.optimizer, self.every, self.bins = optimizer, every, bins
        if isinstance(names, torch.nn.Module):
            names = {p: n for n, p in names.named_parameters()}
        names = names or {}
        self.tensors: list[dict[str, Any]] = []
        for gi, group in enumerate(optimizer.param_groups):
            for pi, p in enumerate(group["params"]):
                t_tol = (
                    default_tol(p, group["lr"], group["weight_decay"])
                    if tol is None
                    else float(tol)
                )
                entry = {
                    "param": p,
                    "group": gi,
                    "name": names.get(p, f"group{gi}.param{pi}"),
                    "shape": list(p.shape),
                    "K": K_label(group["K"]),
                    "tol": t_tol,
                }
                if bins:
                    lam = group["weight_decay"]
                    top = float(p.detach().abs().max()) if p.numel() else 1.0
                    a = 1.05 * max(top, 1 / lam if lam > 0 else 0.0, 1e-12)
                    entry["edges"] = np.linspace(-a, a, bins + 1)
                self.tensors.append(entry)
        self.step = 0
        self.steps: list[int] = []
        self.series: list[dict[str, list]] = [{k: [] for k in SERIES} for _ in self.tensors]
        self.hist: list[list] = [[] for _ in self.tensors]
        self._record()

    # -- recording --------------------------------------------------------------------------
    def update(self) -> bool:
        """Count one optimizer step; record if it is a multiple of ``every``. Returns whether
        it recorded."""
        self.step += 1
        if self.step % self.every:
            return False
        self._record()
        return True

    def _record(self) -> None:
        self.steps.append(self.step)
        for t, ser, hist in zip(self.tensors, self.series, self.hist, strict=True):
            group = self.optimizer.param_groups[t["group"]]
            p = t["param"]
            x = _numpy(p)
            g = _numpy(p.grad) if p.grad is not None and self.step > 0 else None
            vals = _measure(group["K"], x, g, group["weight_decay"], group["lr"], t["tol"])
            vals["polar_distance"] = self.optimizer.state.get(p, {}).get("polar_distance", math.nan)
            vals["lr"] = group["lr"]
            for k in SERIES:
                ser[k].append(vals[k])
            if self.bins:
                hist.append(
                    np.histogram(np.clip(x.reshape(-1), t["edges"][0], t["edges"][-1]), t["edges"])[
                        0
                    ]
                )

    # -- results ----------------------------------------------------------------------------
    def summary(self) -> list[dict[str, Any]]:
        """Per tensor: name, shape, K, λ, η, latest values, entry step, phase-1 bound, stays-in."""
        rows = []
        for t, ser in zip(self.tensors, self.series, strict=True):
            group = self.optimizer.param_groups[t["group"]]
            lam, lr0 = group["weight_decay"], ser["lr"][0]
            dist = np.asarray(ser["dist"])
            inside = dist <= t["tol"]
            entry = int(self.steps[int(np.argmax(inside))]) if inside.any() else -1
            after = int(np.sum(~inside[int(np.argmax(inside)) :])) if inside.any() else 0
            rows.append(
                {
                    "name": t["name"],
                    "shape": t["shape"],
                    "K": t["K"],
                    "lam": lam,
                    "lr": lr0,
                    "tol": t["tol"],
                    "dist0": float(dist[0]),
                    "bound": 1 / lam if lam > 0 and has_ball(group["K"]) else math.inf,
                    "entry": entry,
                    "phase1_bound": phase1_entry_bound(
                        float(dist[0]), t["tol"], lr0, lam, group["decay"]
                    ),
                    "left_after_entry": after,
                    **{
                        k: float(ser[k][-1])
                        for k in ("radius", "dist", "boundary", "fy", "fy_rel", "polar_distance")
                    },
                }
            )
        return rows

    def history(self) -> dict[str, Any]:
        """Everything recorded, as arrays: ``steps`` (n,), per tensor its series (n,) and
        histograms (n, bins) with their ``edges``."""
        out: dict[str, Any] = {"steps": np.asarray(self.steps), "every": self.every, "tensors": []}
        for t, ser, hist, summ in zip(
            self.tensors, self.series, self.hist, self.summary(), strict=True
        ):
            d = {k: v for k, v in summ.items()}
            d.update({k: np.asarray(v, dtype=float) for k, v in ser.items()})
            if self.bins:
                d["edges"], d["hist"] = t["edges"], np.asarray(hist)
            out["tensors"].append(d)
        return out

    def to_dict(self) -> dict[str, Any]:
        """`history` as plain JSON data (+∞, e.g. K* outside its domain, as the string "inf")."""
        return to_jsonable(self.history(), nonfinite="string")

    def to_json(self, path=None) -> str:
        text = json.dumps(self.to_dict(), ensure_ascii=False)
        if path is not None:
            with open(path, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        return text

    def table(self) -> str:
        """A printable table of `summary` (latest record)."""
        head: tuple[str, ...] = (
            "tensor",
            "shape",
            "K",
            "λ",
            "radius",
            "1/λ",
            "dist(λx,domK*)",
            "entry",
            "bound",
            "on bdry",
            "FY rel",
        )
        summary = self.summary()
        ns = any(math.isfinite(r["polar_distance"]) for r in summary)
        head += ("NS dist",) if ns else ()
        rows: list[tuple[str, ...]] = [head]
        for r in summary:
            rows.append(
                (
                    r["name"],
                    "×".join(map(str, r["shape"])) or "scalar",
                    r["K"],
                    f"{r['lam']:g}",
                    f"{r['radius']:.4g}",
                    f"{r['bound']:.4g}" if math.isfinite(r["bound"]) else "none",
                    f"{r['dist']:.2e}",
                    str(r["entry"]),
                    str(r["phase1_bound"]),
                    "-" if math.isnan(r["boundary"]) else f"{r['boundary']:.2f}",
                    "-" if math.isnan(r["fy_rel"]) else f"{r['fy_rel']:.3f}",
                )
                + (
                    (f"{r['polar_distance']:.3f}" if math.isfinite(r["polar_distance"]) else "-",)
                    if ns
                    else ()
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return (
            f"step {self.step}: entry = first recorded step with dist ≤ tol (every "
            f"{self.every}); bound = phase-1 bound ⌈ln(dist₀/tol)/−ln(1−ηλ)⌉\n" + "\n".join(lines)
        )


def phase1_entry_bound(
    dist0: float, tol: float, lr: float, lam: float, decay: str = "explicit"
) -> int:
    """The worst-case phase-1 entry step ⌈ln(dist₀/tol)/−ln(1 − ηλ)⌉ (explicit, ηλ ≤ 1) or
    ⌈ln(dist₀/tol)/ln(1 + ηλ)⌉ (implicit); 0 if dist₀ ≤ tol; −1 if no bound applies (λ = 0,
    or ηλ > 1 with explicit decay)."""
    if dist0 <= tol:
        return 0
    rate = lr * lam
    if rate <= 0 or (decay == "explicit" and rate > 1):
        return -1
    if decay == "explicit" and rate == 1:
        return 1
    contraction = -math.log1p(-rate) if decay == "explicit" else math.log1p(rate)
    return math.ceil(math.log(dist0 / tol) / contraction)
