"""Step-size control of the extrapolated implicit integrator, as its own object (in the manner
of diffrax's step-size controllers: the integrator computes error estimates, the controller
decides).

A step of size H of extrapolation depth k gives three weighted-RMS estimates (weights
atol + rtol·|z|; see `implicit`): ``err`` = ‖T_{k,k} − T_{k,k−1}‖ (the order-k solution's local
error), ``err1`` = (k − 1)‖T_{k,1} − T_{k−1,1}‖ (the first-order solution's), and ``err_sw``
= H·‖Δs‖ when the step contains a switch of ∂K (0 otherwise). `ExtrapolationController.decide`
maps them to a `StepDecision`:

* err ≤ 1 and err_sw ≤ 1: accept T_{k,k}; H_next = H·min(GROW, 0.9·err^{−1/k}) (GROW if err = 0);
* err ≤ 1 < err_sw: reject (the tableau cannot see a switch in the first substep of every
  sequence), H_next = H·clip(0.9/err_sw, SHRINK, 0.9);
* err > 1 ≥ err1: accept the first-order T_{k,1} (``low_order``), H_next = H·min(GROW,
  0.9·err1^{−1/2});
* err > 1 and err1 > 1: reject, H_next = H·clip(f, SHRINK, 0.9) with f = 0.9·err1^{−1/2} when
  extrapolation does not help (err ≥ ½err1: a switch inside the step), else 0.9·err^{−1/k};
* a substep that failed (`failed`): H_next = H/4.

A step shortened to land on an output time does not shrink the proposal (``clipped``).

`SwitchMonitor` watches for accumulating switches (a Zeno point of the exact solution): when
ZENO_SWITCHES consecutive accepted steps contained a switch and the step size has collapsed
below ZENO_COLLAPSE times the *clean* step size (the largest of the last 50 steps accepted at
full order without a switch), the integrator tries one backward-Euler substep of the clean size.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["StepDecision", "ExtrapolationController", "SwitchMonitor"]

ZENO_COLLAPSE, ZENO_SWITCHES = 1e-4, 8


@dataclass(frozen=True)
class StepDecision:
    """``accept`` the step (with the first-order solution when ``low_order``), try ``h_next``
    next; ``reason``: "ok", "low_order", "error" (rejected on err, err1) or "switch" (rejected on
    err_sw)."""

    accept: bool
    h_next: float
    low_order: bool = False
    reason: str = "ok"


@dataclass(frozen=True)
class ExtrapolationController:
    """Accept/reject and the next step size from the error estimates of one step (module doc)."""

    order: int
    safety: float = 0.9
    grow: float = 5.0
    shrink: float = 0.2
    shrink_reject: float = 0.9
    shrink_failure: float = 0.25

    def decide(
        self, h: float, err: float, err1: float, err_sw: float = 0.0, *, h_prop: float | None = None
    ) -> StepDecision:
        """Decision for a step of size ``h`` with estimates ``err``, ``err1``, ``err_sw``
        (finite, ≥ 0). ``h_prop``: the size the controller had proposed, when the step was
        shortened to land on an output time (then an accepted step proposes at least h_prop)."""
        k = self.order
        if err <= 1.0 < err_sw:
            return StepDecision(False, h * self._clip(self.safety / err_sw), reason="switch")
        if err > 1.0 and err1 > 1.0:
            nonsmooth = err >= 0.5 * err1  # extrapolation does not help: a switch inside
            f = self._factor(err1, 2) if nonsmooth else self._factor(err, k)
            return StepDecision(False, h * self._clip(f), reason="error")
        low = err > 1.0
        f = self._factor(err1, 2) if low else self._factor(err, k)
        h_next = h * min(self.grow, f)
        if h_prop is not None and h < h_prop:
            h_next = h_prop
        return StepDecision(True, h_next, low_order=low, reason="low_order" if low else "ok")

    def failed(self, h: float) -> float:
        """The next size after a substep failure (Newton or inner solver) in a step of size h."""
        return self.shrink_failure * h

    def _factor(self, err: float, q: int) -> float:
        """0.9·err^{−1/q}: the factor that would make the next error ≈ 0.9^q (GROW at err = 0)."""
        return self.safety * err ** (-1.0 / q) if err > 0 else self.grow

    def _clip(self, f: float) -> float:
        return min(self.shrink_reject, max(self.shrink, f))


@dataclass
class SwitchMonitor:
    """Counts consecutive accepted steps with a switch and remembers the clean step size."""

    collapse: float = ZENO_COLLAPSE
    switches: int = ZENO_SWITCHES
    h_clean: float = float("inf")
    run: int = 0
    _clean: deque[float] = field(default_factory=lambda: deque(maxlen=50))

    def accepted(self, h: float, clean: bool) -> None:
        """Record an accepted step of size h; ``clean``: full order and no switch."""
        if clean:
            self._clean.append(h)
            self.h_clean, self.run = max(self._clean), 0
        else:
            self.run += 1

    def accumulating(self, h: float) -> bool:
        """Switches accumulate: ``switches`` switching steps in a row and h < collapse·h_clean."""
        return self.run >= self.switches and h < self.collapse * self.h_clean

    def passed(self) -> None:
        """An accumulation was passed (a first-order substep landed on the non-smooth set)."""
        self.run = 0
