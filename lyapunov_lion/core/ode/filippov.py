"""Event-driven Filippov integration of the Lion-K ODE for a separable K with a jumping ∇K.

State z = (x, m) ∈ R^{2d}. Each coordinate i is in one of two modes:

* **free in region r**: ∇K_i = k'_r(m̃_i) = slope·m̃_i + level_r, a smooth branch. The vector field
  is smooth, so an ordinary high-order Runge–Kutta method (DOP853 by default) integrates it at its
  full order; the events ``m̃_i − c = 0`` at the ends of region r stop the segment exactly on the
  switching surface (root found on the dense output to machine precision).
* **sliding on kink c_j**: ∇K_i = s_i ∈ [lo_j, hi_j] is the *equivalent control* that keeps
  ``m̃_i = c_j``. With m̃ = (1 − εγ)m − εα∇f(x),

      d/dt m̃ = (1 − εγ) ṁ − εα ∇²f(x) ẋ,   ẋ = u − λx,

  so on the sliding set S (with a Baumgarte term κ = γ + λ that removes the O(tol) drift)
  ``εα [∇²f (u − λx)]_S = (1 − εγ) ṁ_S + κ (m̃_S − c_S)``, a |S|×|S| linear system for u_S.
  The segment stops when some s_i reaches lo_j or hi_j (events ``s_i − lo``, ``hi − s_i``).

At a switching-surface hit the next mode is Filippov's: solve for the equivalent control with i
added to S; slide if it lies in [lo, hi], otherwise cross to the side it points to (for convex f,
d/dt m̃_i is decreasing in s_i, so "s* > hi" means both sides push m̃_i up: transversal crossing).
Sliding coordinates whose control leaves its interval are released the same way.

With ε = 0, m̃ = m and ṁ does not depend on ∇K: every hit is a transversal crossing (no sliding
in m). Near an interior equilibrium the crossings accumulate (a Zeno point of the relay system);
the integrator stops after ``max_events`` events and reports it instead of chattering silently.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.integrate import OdeSolution, solve_ivp

from ...errors import NumericalFailure
from .model import PiecewiseGradK

__all__ = ["Mode", "FilippovRun", "integrate_filippov"]


@dataclass
class Mode:
    """Per coordinate: ``region`` (free branch index) or ``sliding`` on ``kink``."""

    region: np.ndarray
    sliding: np.ndarray
    kink: np.ndarray

    def copy(self) -> "Mode":
        return Mode(self.region.copy(), self.sliding.copy(), self.kink.copy())

    def label(self, i: int) -> str:
        return f"sliding@kink{int(self.kink[i])}" if self.sliding[i] else f"region{int(self.region[i])}"


@dataclass
class FilippovRun:
    """What `integrate_filippov` produced: knots, dense output, segment modes and counters."""

    t: np.ndarray
    z: np.ndarray
    sol: OdeSolution | None
    segments: list = field(default_factory=list)  # (t_start, t_end, Mode)
    events: list = field(default_factory=list)    # (t, coordinate, kind, new mode label)
    nfev: int = 0
    n_grad: int = 0
    status: int = 0
    message: str = ""
    min_step: float = np.inf


class _Field:
    """The mode-dependent vector field and the quantities the events and decisions need."""

    def __init__(self, pw: PiecewiseGradK, grad: Callable, hess: Callable, lam, alpha, gamma, eps,
                 d: int):
        self.pw, self.grad, self.hess = pw, grad, hess
        self.lam, self.alpha, self.gamma, self.eps, self.d = lam, alpha, gamma, eps, d
        self.kappa = gamma + lam
        self.n_grad = 0

    def parts(self, z, mode: Mode):
        """(x, m, ṁ, m̃, u): u the ∇K selection of the mode (equivalent control on S)."""
        d = self.d
        x, m = z[:d], z[d:]
        g = np.asarray(self.grad(x), dtype=float)
        self.n_grad += 1
        mdot = -self.alpha * g - self.gamma * m
        mt = m + self.eps * mdot
        u = self.pw.branch(mt, mode.region)
        S = mode.sliding
        if S.any():
            u = self.equivalent_control(x, mdot, mt, u, S, mode.kink)
        return x, m, mdot, mt, u

    def equivalent_control(self, x, mdot, mt, u, S, kink):
        """Solve εα[∇²f(u − λx)]_S = (1 − εγ)ṁ_S + κ(m̃_S − c_S) for u_S (u_F kept)."""
        if self.eps <= 0:
            raise NumericalFailure("a sliding mode needs ε > 0 (with ε = 0, ṁ does not depend on ∇K)")
        H = self.hess(x)
        F = ~S
        c = self.pw.kinks[kink[S]]
        rhs = (((1 - self.eps * self.gamma) * mdot[S] + self.kappa * (mt[S] - c))
               / (self.eps * self.alpha) - H[np.ix_(S, F)] @ u[F] + self.lam * (H[S] @ x))
        HSS = H[np.ix_(S, S)]
        try:
            uS = np.linalg.solve(HSS, rhs)
        except np.linalg.LinAlgError:
            raise NumericalFailure("∇²f restricted to the sliding coordinates is singular: the "
                                   "equivalent control is not unique") from None
        u = u.copy()
        u[S] = uS
        return u

    def rhs(self, mode: Mode):
        def fun(t, z):
            x, m, mdot, mt, u = self.parts(z, mode)
            return np.concatenate([u - self.lam * x, mdot])
        return fun


def _events(fld: _Field, mode: Mode):
    """Terminal events for the mode; returns (list of callables, list of (coord, kind))."""
    pw = fld.pw
    cache = {}

    def values(z):
        key = z.tobytes()
        if key not in cache:
            cache.clear()
            x, m, mdot, mt, u = fld.parts(z, mode)
            cache[key] = (mt, u)
        return cache[key]

    evs, tags = [], []
    nk = pw.kinks.size
    for i in range(fld.d):
        if mode.sliding[i]:
            lo, hi = pw.interval(mode.kink[i])
            def e_lo(t, z, i=i, lo=lo):
                return values(z)[1][i] - lo
            def e_hi(t, z, i=i, hi=hi):
                return hi - values(z)[1][i]
            for fn, kind in ((e_lo, "exit_lo"), (e_hi, "exit_hi")):
                fn.terminal, fn.direction = True, -1
                evs.append(fn)
                tags.append((i, kind))
        else:
            r = int(mode.region[i])
            if r > 0:
                c = pw.kinks[r - 1]
                def e_dn(t, z, i=i, c=c):
                    return values(z)[0][i] - c
                e_dn.terminal, e_dn.direction = True, -1
                evs.append(e_dn)
                tags.append((i, "hit_lo"))
            if r < nk:
                c = pw.kinks[r]
                def e_up(t, z, i=i, c=c):
                    return values(z)[0][i] - c
                e_up.terminal, e_up.direction = True, 1
                evs.append(e_up)
                tags.append((i, "hit_hi"))
    return evs, tags


def _settle(fld: _Field, z, mode: Mode, hits: dict) -> Mode:
    """Filippov's choice after events. ``hits``: coordinate → (kink j, side it came from ±1 /
    'exit_lo' / 'exit_hi'). Returns the new mode (coordinates not mentioned stay)."""
    pw = fld.pw
    mode = mode.copy()
    for i, (j, how) in hits.items():
        if how == "exit_lo":
            mode.sliding[i], mode.region[i] = False, j
        elif how == "exit_hi":
            mode.sliding[i], mode.region[i] = False, j + 1
        elif fld.eps > 0:
            mode.sliding[i], mode.kink[i] = True, j
        else:  # ε = 0: ṁ does not depend on ∇K, the hit is a crossing in the direction of travel
            mode.region[i] = j + 1 if how > 0 else j
    # release sliding coordinates whose equivalent control is outside its interval (repeat: the
    # controls are coupled through ∇²f); at most d rounds.
    for _ in range(fld.d + 1):
        if not mode.sliding.any():
            break
        x, m, mdot, mt, u = fld.parts(z, mode)
        lo, hi = pw.interval(mode.kink)
        scale = 1e-10 * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
        below = mode.sliding & (u < lo - scale)
        above = mode.sliding & (u > hi + scale)
        if not (below.any() or above.any()):
            break
        # release the worst offender only, then re-solve (a sliding coordinate may become valid
        # once another one leaves)
        viol = np.where(below, lo - u, 0) + np.where(above, u - hi, 0)
        k = int(np.argmax(viol))
        mode.sliding[k] = False
        mode.region[k] = mode.kink[k] + (1 if above[k] else 0)
    return mode


def _missed_switch(fld: _Field, z, mode: Mode, atol):
    """A free coordinate whose m̃_i is outside its region by more than the error scale, or None."""
    d = fld.d
    x, m = z[:d], z[d:]
    g = np.asarray(fld.grad(x), dtype=float)
    fld.n_grad += 1
    mt = m - fld.eps * (fld.alpha * g + fld.gamma * m)
    kinks = np.concatenate([[-np.inf], fld.pw.kinks, [np.inf]])
    lo, hi = kinks[mode.region], kinks[mode.region + 1]
    tol = 100 * (np.max(atol) + 1e-12 * np.maximum(1.0, np.abs(mt)))
    bad = ~mode.sliding & ((mt < lo - tol) | (mt > hi + tol))
    return int(np.flatnonzero(bad)[0]) if bad.any() else None


def _initial_mode(fld: _Field, z) -> tuple[Mode, dict]:
    d = fld.d
    x, m = z[:d], z[d:]
    g = np.asarray(fld.grad(x), dtype=float)
    fld.n_grad += 1
    mt = m - fld.eps * (fld.alpha * g + fld.gamma * m)
    region = fld.pw.region(mt)
    on = np.isin(mt, fld.pw.kinks)
    mode = Mode(region.astype(int), np.zeros(d, bool), np.zeros(d, int))
    hits = {}
    for i in np.flatnonzero(on):
        j = int(np.searchsorted(fld.pw.kinks, mt[i]))
        # decide as for a hit; with ε = 0 use the direction of ṁ_i
        mdot_i = -fld.alpha * g[i] - fld.gamma * m[i]
        hits[int(i)] = (j, 1 if mdot_i >= 0 else -1)
    return mode, hits


def integrate_filippov(pw: PiecewiseGradK, grad: Callable, hess: Callable, z0, t_final: float, *,
                       lam, alpha, gamma, eps, rtol: float, atol, inner_method: str = "DOP853",
                       max_events: int = 10_000, max_nfev: int | None = None,
                       max_time: float | None = None, first_step=None) -> FilippovRun:
    """Integrate (x, m) from z0 on [0, t_final] switching modes at events (see module doc)."""
    z0 = np.asarray(z0, dtype=float)
    d = z0.size // 2
    fld = _Field(pw, grad, hess, float(lam), float(alpha), float(gamma), float(eps), d)
    mode, hits = _initial_mode(fld, z0)
    if hits:
        mode = _settle(fld, z0, mode, hits)
    t, z = 0.0, z0.copy()
    ts, interps, knots_t, knots_z = [0.0], [], [np.array([0.0])], [z0[:, None]]
    run = FilippovRun(t=np.empty(0), z=np.empty((2 * d, 0)), sol=None)
    start = time.perf_counter()
    nfev = 0
    while t < t_final:
        evs, tags = _events(fld, mode)
        seg = solve_ivp(fld.rhs(mode), (t, t_final), z, method=inner_method, rtol=rtol, atol=atol,
                        events=evs or None, dense_output=True, first_step=first_step)
        nfev += seg.nfev
        if seg.status == -1:
            run.status, run.message = -1, f"inner integrator failed at t={t:.6g}: {seg.message}"
            break
        t_end = float(seg.t[-1])
        if t_end > t:
            run.segments.append((t, t_end, mode.copy()))
            ts.extend(seg.sol.ts[1:].tolist())
            interps.extend(seg.sol.interpolants)
            knots_t.append(seg.t[1:])
            knots_z.append(seg.y[:, 1:])
            if seg.t.size > 1:
                run.min_step = min(run.min_step, float(np.min(np.diff(seg.t))))
        t, z = t_end, seg.y[:, -1].copy()
        bad = _missed_switch(fld, z, mode, atol)
        if bad is not None:
            run.status = -1
            run.message = (f"coordinate {bad} crossed a switching surface undetected before "
                           f"t={t:.6g} (two crossings inside one step: the switches accumulate, "
                           f"Zeno behaviour expected with ε = 0 near an interior equilibrium)")
            break
        if seg.status == 0:
            break
        hits = {}
        for k, te in enumerate(seg.t_events):
            if te.size and te[-1] >= t_end - 1e-14 * max(1.0, abs(t_end)):
                i, kind = tags[k]
                if kind.startswith("exit"):
                    hits[i] = (int(mode.kink[i]), kind)
                else:
                    r = int(mode.region[i])
                    hits[i] = (r - 1, -1) if kind == "hit_lo" else (r, 1)
        new = _settle(fld, z, mode, hits)
        for i in hits:
            run.events.append((t, i, tags_kind(hits[i]), new.label(i)))
        mode = new
        if len(run.events) >= max_events:
            run.status = -1
            run.message = (f"stopped after {len(run.events)} switching events at t={t:.6g} "
                           f"(max_events): the switches accumulate (Zeno behaviour, expected with "
                           f"ε = 0 near an interior equilibrium)")
            break
        if max_nfev is not None and nfev >= max_nfev:
            run.status, run.message = -1, f"nfev cap {max_nfev} reached at t={t:.6g}"
            break
        if max_time is not None and time.perf_counter() - start > max_time:
            run.status, run.message = -1, f"time cap {max_time:g}s reached at t={t:.6g}"
            break
    run.t = np.concatenate(knots_t)
    run.z = np.concatenate(knots_z, axis=1)
    if interps:
        run.sol = OdeSolution(np.asarray(ts), interps)
    run.nfev, run.n_grad = nfev, fld.n_grad
    if run.status == 0:
        run.message = f"reached t_final with {len(run.events)} switching events"
    run.final_mode = mode
    run.field = fld
    return run


def tags_kind(hit) -> str:
    j, how = hit
    if isinstance(how, str):
        return how
    return f"hit kink{j} from {'below' if how > 0 else 'above'}"


def selection_along(run: FilippovRun, t, z) -> np.ndarray:
    """∇K selection u (shape (d, n)) used by the integrator at times t, states z (2d, n)."""
    t = np.atleast_1d(np.asarray(t, dtype=float))
    z = np.asarray(z, dtype=float).reshape(-1, t.size)
    fld = run.field
    starts = np.array([s[0] for s in run.segments]) if run.segments else np.array([0.0])
    idx = np.clip(np.searchsorted(starts, t, side="right") - 1, 0, max(len(run.segments) - 1, 0))
    out = np.empty((fld.d, t.size))
    for k in range(t.size):  # diagnostics only: one small solve per grid point
        mode = run.segments[idx[k]][2] if run.segments else run.final_mode
        out[:, k] = fld.parts(z[:, k], mode)[4]
    return out
