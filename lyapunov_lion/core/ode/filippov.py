"""Event-driven Filippov integration of the Lion-K ODE for a separable K with a jumping ∇K.

State z = (x, m) ∈ R^{2d}. Each coordinate i is in one of two modes:

* **free in region r**: ∇K_i = k'_r(m̃_i) = slope·m̃_i + level_r, a smooth branch. The vector field
  is smooth, so an ordinary high-order Runge–Kutta method (DOP853 by default) integrates it at its
  full order; a segment stops exactly where m̃_i reaches an end c of region r.
* **sliding on kink c_j**: ∇K_i = s_i ∈ [lo_j, hi_j] is the *equivalent control* that keeps
  ``m̃_i = c_j``. With m̃ = (1 − εγ)m − εα∇f(x),

      d/dt m̃ = (1 − εγ) ṁ − εα ∇²f(x) ẋ,   ẋ = u − λx,

  so on the sliding set S (with a Baumgarte term κ = γ + λ that removes the O(tol) drift)
  ``εα [∇²f (u − λx)]_S = (1 − εγ) ṁ_S + κ (m̃_S − c_S)``, a |S|×|S| linear system for u_S.
  The segment stops when some s_i reaches lo_j or hi_j.

**Event detection.** Every coordinate has two *gaps* that are ≥ 0 while its mode is valid: a free
coordinate m̃_i − c_{r−1} and c_r − m̃_i, a sliding one s_i − lo and hi − s_i. After each accepted
step of the inner method the gaps of all coordinates are evaluated (one batched ∇f call) at
``SAMPLES`` points of the step's dense output; the first sample where a gap is negative brackets
the event, whose time is then found by brentq on that one gap (machine precision). A gap that
*starts* at 0 — the coordinate that has just crossed or left a kink — is not yet armed: it is armed
at the first sample where it is clearly positive, and if it goes negative before that (the
coordinate returns across the kink it has just crossed, inside the first step) the excursion is
searched on a finer grid and the return is an event like any other. (scipy's ``solve_ivp`` events
test only the step's end points and take a zero at the start as "no sign change", which is how a
re-crossing right after a crossing was missed before.)

At an event the next mode is Filippov's: solve for the equivalent control with i added to S; slide
if it lies in [lo, hi], otherwise cross to the side it points to (for convex f, d/dt m̃_i is
decreasing in s_i, so "s* > hi" means both sides push m̃_i up: transversal crossing). Sliding
coordinates whose control leaves its interval are released the same way.

With ε = 0, m̃ = m and ṁ does not depend on ∇K: every hit is a transversal crossing (no sliding
in m). Near an interior equilibrium the crossings accumulate (a Zeno point of the relay system):
the integrator stops after ``max_events`` events and says so; the driver then continues with the
implicit integrator.

With a constant ∇²f the matrices of the equivalent control (the inverse of ∇²f_SS) are
computed once per sliding set, not per evaluation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize
from scipy.integrate import DOP853, RK23, RK45, OdeSolution

from ...errors import NumericalFailure
from ..xp import FloatArray
from .model import PiecewiseGradK
from .problem import LionProblem
from .run import Dense, OdeRun, SolveOptions

__all__ = ["Mode", "FilippovIntegrator"]

SAMPLES = 4
"""Gap samples per inner step (besides its start): two crossings of one kink between two samples
of one step are not seen, so the dense sampling bounds the shortest excursion it can miss."""
_INNER = {"DOP853": DOP853, "RK45": RK45, "RK23": RK23}
_MAX_REPEAT = 50  # consecutive zero-length segments at one time before giving up

_Hit: TypeAlias = tuple[int, int | str]
"""An event of one coordinate: (kink j, side it came from ±1, or "exit_lo" / "exit_hi")."""


@dataclass
class Mode:
    """Per coordinate: ``region`` (free branch index) or ``sliding`` on ``kink``."""

    region: np.ndarray
    sliding: np.ndarray
    kink: np.ndarray

    def copy(self) -> Mode:
        return Mode(self.region.copy(), self.sliding.copy(), self.kink.copy())

    def label(self, i: int) -> str:
        return (
            f"sliding@kink{int(self.kink[i])}"
            if self.sliding[i]
            else f"region{int(self.region[i])}"
        )


class _ModeField:
    """The vector field of one mode, with the equivalent-control matrices cached when ∇²f is
    constant. All evaluations accept a batch: X, M of shape (k, d)."""

    def __init__(
        self, prob: LionProblem, pw: PiecewiseGradK, mode: Mode, H_const: _ConstantHessian | None
    ) -> None:
        self.prob, self.pw, self.mode = prob, pw, mode
        self.S = np.flatnonzero(mode.sliding)
        self.c = pw.kinks[mode.kink[self.S]]
        self.kappa = prob.gamma + prob.lam
        self.n_grad = 0
        self._inv: FloatArray | None = None
        if self.S.size and prob.eps <= 0:
            raise NumericalFailure(
                "a sliding mode needs ε > 0 (with ε = 0, ṁ does not depend on ∇K)"
            )
        if self.S.size and H_const is not None:
            self._H_S, self._inv = H_const.blocks(self.S)
        kinks = np.concatenate([[-np.inf], pw.kinks, [np.inf]])
        self.lo_free, self.hi_free = kinks[mode.region], kinks[mode.region + 1]
        self.lo_s, self.hi_s = pw.interval(mode.kink)

    @staticmethod
    def _inverse(HSS: NDArray[np.float64]) -> FloatArray:
        """(∇²f_SS)⁻¹ (a matrix product per evaluation is far cheaper than a LAPACK solve call for
        the small systems of a sliding mode); ∇²f_SS must be positive definite (Cholesky)."""
        try:
            np.linalg.cholesky(HSS)
        except np.linalg.LinAlgError:
            raise NumericalFailure(
                "∇²f restricted to the sliding coordinates is not positive "
                "definite: the equivalent control is not unique"
            ) from None
        return np.linalg.inv(HSS)

    def parts(
        self, X: NDArray[np.float64], M: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """(ṁ, m̃, u) for a batch of states; u the ∇K selection of the mode."""
        p = self.prob
        G = np.asarray(p.grad(X), dtype=float)
        self.n_grad += 1
        mdot = -p.alpha * G - p.gamma * M
        mt = M + p.eps * mdot
        u = self.pw.branch(mt, self.mode.region)
        if self.S.size:
            u = self._equivalent_control(X, mdot, mt, u)
        return mdot, mt, u

    def _equivalent_control(
        self,
        X: NDArray[np.float64],
        mdot: NDArray[np.float64],
        mt: NDArray[np.float64],
        u: NDArray[np.float64],
    ) -> NDArray[np.float64]:
        """Solve εα[∇²f(u − λx)]_S = (1 − εγ)ṁ_S + κ(m̃_S − c_S) for u_S (u_F kept): with v = u
        on F and 0 on S, u_S = (∇²f_SS)⁻¹(r_S − [∇²f(v − λx)]_S), r_S the right side / εα (one
        product with the rows ∇²f_S, no |S|×|F| block)."""
        p, S = self.prob, self.S
        if self._inv is not None:
            H_S, inv = self._H_S, self._inv
        else:  # ∇²f depends on x: one point at a time
            if X.ndim == 2:
                out = [self._equivalent_control(X[k], mdot[k], mt[k], u[k]) for k in range(len(X))]
                return np.stack(out)
            H = p.hess(X)
            H_S, inv = H[S], self._inverse(H[np.ix_(S, S)])
        v = u - p.lam * X
        v[..., S] = -p.lam * X[..., S]
        rhs = ((1 - p.eps * p.gamma) * mdot[..., S] + self.kappa * (mt[..., S] - self.c)) / (
            p.eps * p.alpha
        ) - v @ H_S.T
        u = u.copy()
        u[..., S] = rhs @ inv.T
        return u

    def rhs(self, t: float, z: NDArray[np.float64]) -> NDArray[np.float64]:
        d = self.prob.d
        x, m = z[:d], z[d:]
        mdot, mt, u = self.parts(x, m)
        return np.concatenate([u - self.prob.lam * x, mdot])

    def gaps(self, Z: NDArray[np.float64]) -> NDArray[np.float64]:
        """(2d, k): the gaps of every coordinate at states Z (2d, k); ≥ 0 while the mode holds.
        Row i: lower gap of coordinate i; row d + i: upper gap."""
        d = self.prob.d
        X, M = Z[:d].T, Z[d:].T
        _, mt, u = self.parts(X, M)
        sl = self.mode.sliding
        lower = np.where(sl, u - self.lo_s, mt - self.lo_free)
        upper = np.where(sl, self.hi_s - u, self.hi_free - mt)
        return np.concatenate([lower.T, upper.T])

    def gap_tol(self, z: NDArray[np.float64]) -> NDArray[np.float64]:
        """Rounding scale of each gap at z: a gap within it counts as 0."""
        d, p = self.prob.d, self.prob
        m = np.abs(z[d:])
        g = np.abs(np.asarray(p.grad(z[:d]), dtype=float))
        self.n_grad += 1
        c = float(np.max(np.abs(self.pw.kinks)))
        free = 1e-12 * (m + p.eps * p.alpha * g + c) + 1e-300
        slide = 1e-9 * (1 + np.maximum(np.abs(self.lo_s), np.abs(self.hi_s)))
        tol = np.where(self.mode.sliding, slide, free)
        return np.concatenate([tol, tol])


class _ConstantHessian:
    """A constant ∇²f with its rows ∇²f_S and the inverse of ∇²f_SS cached per sliding set S.
    An event changes S by a coordinate or a few, so a new inverse is obtained from the last one
    by bordering updates, O(|S|²) each instead of O(|S|³): adding k, with u = A⁻¹b, σ = c − bᵀu,

        [[A, b], [bᵀ, c]]⁻¹ = [[A⁻¹ + uuᵀ/σ, −u/σ], [−uᵀ/σ, 1/σ]],

    removing k from [[E, f], [fᵀ, g]] = (∇²f_SS)⁻¹ leaves E − ffᵀ/g. Sets that differ from the
    last one by more than MAX_CHANGES coordinates, and every REFRESH updates, are inverted from
    scratch (no drift)."""

    REFRESH = 64
    MAX_CHANGES = 8

    def __init__(self, H: NDArray[np.float64], size: int = 8) -> None:
        self.H, self.size = H, size
        self._last: tuple[NDArray[np.intp], FloatArray] | None = None
        self._cache: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self._n_updates = 0

    def blocks(self, S: NDArray[np.intp]) -> tuple[NDArray[np.float64], FloatArray]:
        """(∇²f_S, (∇²f_SS)⁻¹) for the sorted index set S."""
        key = S.tobytes()
        if key not in self._cache:
            if len(self._cache) >= self.size:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = (np.take(self.H, S, axis=0), self._inverse(S))
        self._last = (S, self._cache[key][1])
        return self._cache[key]

    def _inverse(self, S: NDArray[np.intp]) -> FloatArray:
        if self._last is not None and S.size:
            S0, inv = self._last
            in0, in1 = np.zeros(self.H.shape[0], bool), np.zeros(self.H.shape[0], bool)
            in0[S0], in1[S] = True, True
            gone, new = np.flatnonzero(in0 & ~in1), np.flatnonzero(in1 & ~in0)
            n = gone.size + new.size
            if n <= self.MAX_CHANGES and self._n_updates + n <= self.REFRESH:
                self._n_updates += n
                for k in gone:
                    S0, inv = self._remove(S0, inv, k)
                for k in new:
                    S0, inv = self._add(S0, inv, k)
                return inv
        self._n_updates = 0
        return _ModeField._inverse(self.H[np.ix_(S, S)])

    @staticmethod
    def _remove(
        S0: NDArray[np.intp], inv0: FloatArray, k: int | np.intp
    ) -> tuple[NDArray[np.intp], FloatArray]:
        j = int(np.searchsorted(S0, k))
        keep = np.ones(S0.size, bool)
        keep[j] = False
        f, g = inv0[keep, j], inv0[j, j]
        E = inv0[np.ix_(keep, keep)]
        return S0[keep], E - np.outer(f, f) / g

    def _add(
        self, S0: NDArray[np.intp], inv0: FloatArray, k: int | np.intp
    ) -> tuple[NDArray[np.intp], FloatArray]:
        b, c = self.H[S0, k], self.H[k, k]
        u = inv0 @ b
        sigma = c - b @ u
        if not sigma > 1e-12 * abs(c):
            raise NumericalFailure(
                "∇²f restricted to the sliding coordinates is not positive "
                "definite: the equivalent control is not unique"
            )
        n = S0.size
        pos = int(np.searchsorted(S0, k))  # keep S sorted: insert row/column k at pos
        idx = np.r_[0:pos, n, pos:n]
        out = np.empty((n + 1, n + 1))
        out[:n, :n] = inv0 + np.outer(u, u) / sigma
        out[:n, n] = out[n, :n] = -u / sigma
        out[n, n] = 1.0 / sigma
        return np.insert(S0, pos, k), out[np.ix_(idx, idx)]


_DENSE_DEGREE = {"DOP853": 7, "RK45": 5, "RK23": 3}
"""Degree in t of each inner method's dense output on one step (scipy's interpolants)."""
POLY_GRID = 64
"""Scan points per inner step when the gaps are read off their interpolating polynomial."""


class _StepGaps:
    """The gaps of one inner step [t_old, t_new] as functions of t.

    When ∇f is affine (a constant ∇²f) every gap is an affine function of z (m̃ is; u_F =
    slope·m̃_F + level; u_S solves a linear system with constant matrix), and z(t) on the step is
    the inner method's dense output, a polynomial of degree p in t (`_DENSE_DEGREE`). Each gap is
    then *exactly* a polynomial of degree p: its values at the p + 1 Chebyshev–Lobatto points of
    the step (one batched evaluation) give it everywhere by barycentric interpolation, so the
    scan over a fine grid and the root search need no further evaluation of ∇f. One extra point
    checks the identity; if it fails (∇f not affine after all) the step is read directly."""

    def __init__(
        self, fld: _ModeField, dense: Dense, t_old: float, t_new: float, degree: int | None
    ) -> None:
        self.fld, self.dense, self.t_old, self.h = fld, dense, t_old, t_new - t_old
        self.G: NDArray[np.float64] | None = None
        if degree is not None and self.h > 0:
            j = np.arange(degree + 1)
            self.theta = 0.5 * (1 - np.cos(np.pi * j / degree))
            w = (-1.0) ** j
            w[[0, -1]] *= 0.5
            self.w = w
            check = 0.3711
            Gall = fld.gaps(np.asarray(dense(t_old + self.h * np.r_[self.theta, check])))
            # a gap to an infinite region end is +inf throughout: kept out of the polynomial
            self.inf = ~np.all(np.isfinite(Gall), axis=1)
            G = np.where(self.inf[:, None], 0.0, Gall[:, :-1])
            pred = G @ self._lagrange(np.array([check]))[:, 0]
            err = np.abs(pred - np.where(self.inf, 0.0, Gall[:, -1]))
            if np.all(err <= 1e-8 * (1 + np.max(np.abs(G), axis=1))):
                self.G = G

    @property
    def exact(self) -> bool:
        return self.G is not None

    def _lagrange(self, th: NDArray[np.float64]) -> NDArray[np.float64]:
        """(p + 1, k): the barycentric Lagrange basis at θ (k,)."""
        diff = th[None, :] - self.theta[:, None]
        on = diff == 0
        hit = on.any(axis=0)
        L = self.w[:, None] / np.where(on, 1.0, diff)
        L /= L.sum(axis=0)
        L[:, hit] = on[:, hit]
        return L

    def at(self, ts: ArrayLike) -> NDArray[np.float64]:
        """(2d, k): the gaps at times ts (k,)."""
        ts = np.atleast_1d(np.asarray(ts, dtype=float))
        if self.G is None:
            return self.fld.gaps(np.asarray(self.dense(ts)).reshape(-1, ts.size))
        out = self.G @ self._lagrange((ts - self.t_old) / self.h)
        out[self.inf] = np.inf
        return out

    def row(self, e: int | np.intp) -> Callable[[float], float]:
        """Gap e as a scalar function of t."""
        return lambda t: float(self.at(t)[e, 0])


class _Segment:
    """One smooth piece: the inner RK method on a fixed mode until a gap becomes negative."""

    def __init__(
        self,
        field: _ModeField,
        t0: float,
        z0: NDArray[np.float64],
        t_final: float,
        opts: SolveOptions,
        inner: str,
        h0: float | None = None,
    ) -> None:
        self.fld = field
        self.progress = opts.progress
        first = opts.first_step or h0
        self.solver = _INNER[inner](
            field.rhs,
            t0,
            z0,
            t_final,
            rtol=opts.rtol,
            atol=opts.atol,
            **({"first_step": min(first, t_final - t0)} if first else {}),
        )
        self.degree = _DENSE_DEGREE[inner] if field.prob.affine_grad else None
        self.t0 = t0
        self.g0 = field.gaps(z0[:, None])[:, 0]
        self.tol = field.gap_tol(z0)
        self.armed = self.g0 > self.tol
        self.n_poly = 0
        self.ts: list[float] = [t0]
        self.interps: list[Any] = []
        self.knots: list[tuple[float, np.ndarray]] = []

    def run(self, deadline: float | None) -> tuple[str, float, NDArray[np.float64] | None, Any]:
        """Step until an event, t_final or a failure. Returns (status, t, z, event rows)."""
        s = self.solver
        while True:
            t_old = s.t
            msg = s.step()
            if s.status == "failed":
                return "failed", t_old, None, msg
            dense = s.dense_output()
            gaps = _StepGaps(self.fld, dense, t_old, s.t, self.degree)
            self.n_poly += gaps.exact
            n = POLY_GRID if gaps.exact else SAMPLES
            tk = t_old + (s.t - t_old) * np.arange(1, n + 1) / n
            hit = self._scan(gaps, t_old, tk, gaps.at(tk))
            if hit is not None:
                t_ev, rows = hit
                self._keep(dense, t_old, t_ev)
                return "event", t_ev, dense(t_ev), rows
            self._keep(dense, t_old, s.t)
            if s.status == "finished":
                return "finished", s.t, s.y.copy(), None
            if deadline is not None and time.perf_counter() > deadline:
                return "time", s.t, s.y.copy(), None

    def next_step(self) -> float:
        """The inner method's proposal for its next step (to start the next segment with)."""
        return float(self.solver.h_abs)

    def _keep(self, dense: Dense, t_old: float, t_end: float) -> None:
        """Keep the step [t_old, t_end] (its knot and dense output) and report t_end."""
        if t_end > t_old:
            self.ts.append(t_end)
            self.interps.append(dense)
            self.knots.append((t_end, np.asarray(dense(t_end))))
            if self.progress is not None:
                self.progress(float(t_end))

    def _scan(
        self, gaps: _StepGaps, t_old: float, tk: NDArray[np.float64], vals: NDArray[np.float64]
    ) -> tuple[float, list[int]] | None:
        """The first event inside this step, or None (arms gaps that have left 0). A gap is armed
        at sample j when it was armed at the segment start or clearly positive at a sample < j."""
        tol = self.tol[:, None]
        pos = vals > tol
        armed = np.concatenate(
            [self.armed[:, None], self.armed[:, None] | np.logical_or.accumulate(pos, axis=1)],
            axis=1,
        )
        neg = vals < 0
        hit = neg & armed[:, :-1]
        back = neg & ~armed[:, :-1] & (vals < -tol)  # returned before it was armed
        cols = np.flatnonzero(np.any(hit | back, axis=0))
        if cols.size == 0:
            self.armed = armed[:, -1]
            return None
        j = int(cols[0])
        t_prev = t_old if j == 0 else tk[j - 1]
        roots = [(int(e), self._root(gaps, e, t_prev, tk[j])) for e in np.flatnonzero(hit[:, j])]
        roots += [
            (int(e), self._root_unarmed(gaps, e, t_old, tk[j])) for e in np.flatnonzero(back[:, j])
        ]
        t_ev = min(r for _, r in roots)
        close = 1e-12 * max(1.0, abs(t_ev)) + 4 * np.finfo(float).eps * abs(t_ev)
        return t_ev, [e for e, r in roots if r <= t_ev + close]

    @staticmethod
    def _root(gaps: _StepGaps, e: int | np.intp, a: float, b: float) -> float:
        fn = gaps.row(e)
        if fn(a) <= 0:
            return a
        root: float = optimize.brentq(
            fn, a, b, xtol=1e-15 * max(1.0, abs(b)), rtol=4 * np.finfo(float).eps
        )
        return root

    @staticmethod
    def _root_unarmed(gaps: _StepGaps, e: int | np.intp, t_old: float, b: float) -> float:
        """A gap that started at 0 and is negative at b: bracket from the last time it was
        positive on a fine grid of this step; if it never was, the event is at the step start
        (the coordinate has stayed on its kink since the segment began)."""
        grid = np.linspace(t_old, b, 65)[1:-1]
        vals = gaps.at(grid)[e]
        pos = np.flatnonzero(vals > 0)
        if pos.size == 0:
            return t_old
        root: float = optimize.brentq(
            gaps.row(e),
            grid[pos[-1]],
            b,
            xtol=1e-15 * max(1.0, abs(b)),
            rtol=4 * np.finfo(float).eps,
        )
        return root


def _settle(
    prob: LionProblem,
    pw: PiecewiseGradK,
    z: NDArray[np.float64],
    mode: Mode,
    hits: dict[int, _Hit],
    H_const: _ConstantHessian | None,
) -> Mode:
    """Filippov's choice after events. ``hits``: coordinate → (kink j, side it came from ±1 /
    'exit_lo' / 'exit_hi'). Returns the new mode (coordinates not mentioned stay)."""
    mode = mode.copy()
    for i, (j, how) in hits.items():
        if how == "exit_lo":
            mode.sliding[i], mode.region[i] = False, j
        elif how == "exit_hi":
            mode.sliding[i], mode.region[i] = False, j + 1
        elif prob.eps > 0:
            mode.sliding[i], mode.kink[i] = True, j
        else:  # ε = 0: ṁ does not depend on ∇K, the hit is a crossing in the direction of travel
            mode.region[i] = j + 1 if how > 0 else j  # type: ignore[operator]  # how: ±1 here
    # release sliding coordinates whose equivalent control is outside its interval (repeat: the
    # controls are coupled through ∇²f), the worst offender first
    d = prob.d
    for _ in range(d + 1):
        if not mode.sliding.any():
            break
        fld = _ModeField(prob, pw, mode, H_const)
        _, _, u = fld.parts(z[:d], z[d:])
        lo, hi = pw.interval(mode.kink)
        scale = 1e-10 * np.maximum(1.0, np.maximum(np.abs(lo), np.abs(hi)))
        below = mode.sliding & (u < lo - scale)
        above = mode.sliding & (u > hi + scale)
        if not (below.any() or above.any()):
            break
        viol = np.where(below, lo - u, 0) + np.where(above, u - hi, 0)
        k = int(np.argmax(viol))
        mode.sliding[k] = False
        mode.region[k] = mode.kink[k] + (1 if above[k] else 0)
    return mode


def _initial_mode(
    prob: LionProblem, pw: PiecewiseGradK, z: NDArray[np.float64]
) -> tuple[Mode, dict[int, _Hit]]:
    d = prob.d
    x, m = z[:d], z[d:]
    g = np.asarray(prob.grad(x), dtype=float)
    mt = m - prob.eps * (prob.alpha * g + prob.gamma * m)
    mode = Mode(pw.region(mt).astype(int), np.zeros(d, bool), np.zeros(d, int))
    hits: dict[int, _Hit] = {}
    for i in np.flatnonzero(np.isin(mt, pw.kinks)):
        j = int(np.searchsorted(pw.kinks, mt[i]))
        mdot_i = -prob.alpha * g[i] - prob.gamma * m[i]  # with ε = 0: the direction of ṁ_i
        hits[int(i)] = (j, 1 if mdot_i >= 0 else -1)
    return mode, hits


def _hit_of(row: int, mode: Mode, d: int) -> tuple[int, _Hit]:
    i, upper = row % d, row >= d
    if mode.sliding[i]:
        return i, (int(mode.kink[i]), "exit_hi" if upper else "exit_lo")
    r = int(mode.region[i])
    return i, ((r, 1) if upper else (r - 1, -1))


def hit_label(hit: _Hit) -> str:
    j, how = hit
    if isinstance(how, str):
        return how
    return f"hit kink{j} from {'below' if how > 0 else 'above'}"


class FilippovIntegrator:
    """Event-driven Filippov integration (module doc); needs K's `PiecewiseGradK` model."""

    name = "filippov"

    @staticmethod
    def applicable(prob: LionProblem) -> bool:
        return prob.pw is not None

    def run(
        self,
        prob: LionProblem,
        t0: float,
        z0: NDArray[np.float64],
        t_final: float,
        opts: SolveOptions,
    ) -> OdeRun:
        pw, d = prob.pw, prob.d
        if pw is None:
            raise NumericalFailure("the Filippov integrator needs a K with a piecewise model of ∇K")
        inner = opts.inner_method
        H_const = (
            _ConstantHessian(np.asarray(prob.hess(z0[:d]), dtype=float))
            if prob.hess_constant
            else None
        )
        z = np.asarray(z0, dtype=float).copy()
        mode, hits = _initial_mode(prob, pw, z)
        if hits:
            mode = _settle(prob, pw, z, mode, hits, H_const)
        t = float(t0)
        ts, interps, kt, kz = [t], [], [t], [z.copy()]
        segments, events = [], []
        nfev = n_grad = n_poly = 0
        status, message, repeat = 0, "", 0
        min_step = np.inf
        start = time.perf_counter()
        deadline = None if opts.max_time is None else start + opts.max_time
        h0 = None
        while t < t_final:
            fld = _ModeField(prob, pw, mode, H_const)
            seg = _Segment(fld, t, z, t_final, opts, inner, h0)
            how, t_end, z_end, rows = seg.run(deadline)
            nfev += seg.solver.nfev
            n_grad += fld.n_grad
            n_poly += seg.n_poly
            h0 = seg.next_step()  # the next segment starts with the step the method proposed
            if seg.interps:
                segments.append((t, t_end, mode.copy()))
                ts.extend(seg.ts[1:])
                interps.extend(seg.interps)
                for tk, zk in seg.knots:
                    kt.append(tk)
                    kz.append(zk)
                min_step = min(min_step, float(np.min(np.diff(seg.ts))))
            if how == "failed":
                status, message = -1, f"inner {opts.inner_method} failed at t={t_end:.6g}: {rows}"
                break
            repeat = repeat + 1 if t_end <= t else 0
            t, z = float(t_end), np.asarray(z_end, dtype=float).copy()
            if how == "finished":
                break
            if how == "time":
                status, message = -1, f"time cap {opts.max_time:g}s reached at t={t:.6g}"
                break
            hits = dict(_hit_of(r, mode, d) for r in rows)
            new = _settle(prob, pw, z, mode, hits, H_const)
            for i, hit in hits.items():
                events.append((t, i, hit_label(hit), new.label(i)))
            mode = new
            stalled = repeat > _MAX_REPEAT
            if stalled or len(events) >= opts.max_events:
                status = -1
                why = (
                    f"{repeat} switches of coordinates {sorted(hits)} without progress in time"
                    if stalled
                    else f"{len(events)} switching events (max_events)"
                )
                message = f"the switches accumulate at t={t:.6g}: {why}" + (
                    " (a Zeno point: with ε = 0 the crossings of an interior coordinate "
                    "accumulate in finite time)"
                    if prob.eps == 0
                    else ""
                )
                break
            if opts.max_nfev is not None and nfev >= opts.max_nfev:
                status, message = -1, f"nfev cap {opts.max_nfev} reached at t={t:.6g}"
                break
        if status == 0:
            message = f"reached t_final with {len(events)} switching events"
        sliding = np.zeros(d)
        for a, b, md in segments:
            sliding += (b - a) * md.sliding
        return OdeRun(
            method=self.name,
            t=np.asarray(kt),
            z=np.stack(kz, axis=1),
            sol=OdeSolution(np.asarray(ts), interps) if interps else None,
            status=status,
            message=message,
            events=events,
            counters={
                "nfev": nfev,
                "njev": 0,
                "n_grad": n_grad,
                "n_steps": len(kt) - 1,
                "min_step": min_step,
                "n_segments": len(segments),
            },
            selection=_Selection(prob, pw, segments, mode, H_const),
            sliding_time=sliding,
            final_mode=[mode.label(i) for i in range(d)],
            extra={
                "inner_method": opts.inner_method,
                "n_sliding_entries": sum(1 for e in events if e[3].startswith("sliding")),
                "n_polynomial_steps": n_poly,
            },
        )


@dataclass
class _Selection:
    """∇K selection u (d, k) the integrator used at times t (k,), states Z (2d, k)."""

    prob: LionProblem
    pw: PiecewiseGradK
    segments: list[tuple[float, float, Mode]]
    final: Mode
    H_const: _ConstantHessian | None
    _cache: dict[Any, Any] = field(default_factory=dict)

    def __call__(self, t: ArrayLike, Z: ArrayLike) -> NDArray[np.float64]:
        t = np.atleast_1d(np.asarray(t, dtype=float))
        Z = np.asarray(Z, dtype=float).reshape(-1, t.size)
        d = self.prob.d
        starts = np.array([s[0] for s in self.segments]) if self.segments else np.array([0.0])
        idx = np.clip(
            np.searchsorted(starts, t, side="right") - 1, 0, max(len(self.segments) - 1, 0)
        )
        out = np.empty((d, t.size))
        for k in np.unique(idx):  # one batched evaluation per segment
            sel = idx == k
            mode = self.segments[k][2] if self.segments else self.final
            fld = _ModeField(self.prob, self.pw, mode, self.H_const)
            out[:, sel] = fld.parts(Z[:d, sel].T, Z[d:, sel].T)[2].T
        return out
