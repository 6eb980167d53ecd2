"""Implicit (Moreau–Jean-type) time stepping of the Lion-K ODE with the set-valued ∂K, made
higher order by extrapolation, with step-size control.

**The substep** (backward Euler on the whole system, h > 0): from (x_n, m_n),

    x_{n+1} = x_n + h(s − λx_{n+1}),   m_{n+1} = m_n + h(−α∇f(x_{n+1}) − γm_{n+1}),
    s ∈ ∂K(m̃_{n+1}),   m̃_{n+1} = (1 − εγ)m_{n+1} − εα∇f(x_{n+1}).

Eliminating x_{n+1} = x̂ + ρs and m_{n+1}:

    x̂ = x_n/(1 + hλ), ρ = h/(1 + hλ), p = (1 − εγ)m_n/(1 + hγ), q = α(h + ε)/(1 + hγ),
    m̃_{n+1} = p − q∇f(x̂ + ρs),   so   s ∈ ∂K(p − q∇f(x̂ + ρs)).

(q > 0 even at ε = 0.) Linearising ∇f at the current guess x_k = x̂ + ρs_k (exact for a quadratic
f: one pass) gives s ∈ ∂K(a − Bs) with B = qρ∇²f(x_k) (PSD part), a = m̃(s_k) + Bs_k, solved by
`inclusion.resolve_selection` (for B = bI: s = prox_{K*/b}(a/b) = (a − prox_{bK}(a))/b, a
projection onto the dual ball for a norm K); the pass is repeated (a Josephy–Newton iteration)
until s changes by ≤ 1e-12(1 + ‖s‖∞), or its change moves x_{n+1} = x̂ + ρs by ≤ 1e-12(‖x̂‖∞ + ρ)
and m̃ by ≤ 1e-13‖a‖∞ (on a face of ∂K, e.g. an ℓ∞ tie, s is fixed by m̃ only up to
ε_mach‖a‖/‖B‖ with ‖B‖ = O(h(h + ε)): for small h it cannot settle to 1e-12). The substep
keeps λx_{n+1} = (λx_n + hλ·s)/(1 + hλ) a convex combination of λx_n and s ∈ dom K*: dom K* is
exactly invariant and dist(λx, dom K*) contracts by 1/(1 + hλ) per substep.

**Extrapolation.** On an interval where the active face of ∂K does not change, the substep is a
smooth map and backward Euler has an error expansion in powers of h. A step of size H computes
T_{j,1} = n_j substeps of size H/n_j (n_j = 1, 2, …, k) and the Aitken–Neville tableau
T_{j,l+1} = T_{j,l} + (T_{j,l} − T_{j−1,l})/(n_j/n_{j−l} − 1); T_{k,k} (order k, local error
O(H^{k+1})) is propagated, ‖T_{k,k} − T_{k,k−1}‖ (RMS, weights atol + rtol·|z|) is the error
estimate; accepting or rejecting the step and the next size (H_new = H·clip(0.9·err^{−1/k}, 0.2, 5)
on a smooth step) is the job of `controller.ExtrapolationController`. A step in which the face
changes has a local error the tableau cannot cancel, and part of it the tableau cannot even see: a
switch at offset δ inside the *first* substep of every sequence gives every T_{j,1} the same error
≈ δ·|Δs| (Δs the jump of the selection; ẋ = s − λx), which cancels in ‖T_{k,k} − T_{k,k−1}‖. So a
step is checked for a switch — a substep on another face of ∂K than the start
(`inclusion.face_signature`), or a jump of s (the largest change between consecutive substeps of
the finest sequence exceeds half the change over the one-substep sequence; smooth s gives ≈ 1/k) —
and such a step is accepted on the high-order estimate only if also err_sw = H·‖Δs‖ (weighted RMS
over the 2d components, Δs the largest consecutive change) ≤ 1; otherwise H ← H·clip(0.9/err_sw,
0.2, 0.9) (`n_switch_steps`, `n_switch_rejected`). Each switch costs O(log(1/rtol)) extra steps,
not a global order loss. When the tableau does not cancel but the first-order estimate
(k − 1)‖T_{k,1} − T_{k−1,1}‖ is within tolerance, the step is accepted with T_{k,1} (counted as a
low-order step): this lets the integrator pass accumulations of switches (ε = 0, an interior
coordinate: a Zeno point of the exact solution) with steps of size O(√rtol) instead of stalling
before the accumulation point; this fallback (a switch the tableau does see) is not gated by
err_sw, so the trajectory through such an accumulation is accurate to O(√rtol) only, its end (after
the accumulation) to rtol.

**Projection.** Extrapolation may leave dom K* by the local error (a curved dual ball, e.g.
l2). Once λx is inside (dist ≤ DOMAIN_TOL), an accepted point with 0 < dist ≤ 10λ(atol + rtol·s)
is projected back onto dom K* (a standard projection method for ODEs with an invariant set; the
error it makes is ≤ the distance removed). Each projection is counted and the largest distance
removed is reported; a larger excursion is not projected and the guards report it.

**Dense output** is piecewise linear between knots (error O(H²) between knots); with ``t_eval``
the steps land exactly on the requested times.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import NumericalFailure
from ..kfunc import DOMAIN_TOL, KFunction
from .controller import ExtrapolationController, SwitchMonitor
from .inclusion import _isotropic, face_signature, resolve_selection, set_valued_pattern

if TYPE_CHECKING:
    from .problem import LionProblem
    from .run import OdeRun, SolveOptions

__all__ = ["ImplicitRun", "integrate_implicit", "LinearDense"]

_MAX_NEWTON = 30
TINY_FLOOR = 0.1


class LinearDense:
    """Piecewise-linear interpolation of the knots: ``sol(t)`` → (2d,) or (2d, k)."""

    def __init__(self, t: ArrayLike, z: ArrayLike) -> None:
        self.t, self.z = np.asarray(t), np.asarray(z)

    def __call__(self, t: ArrayLike) -> NDArray[np.float64]:
        t = np.asarray(t, dtype=float)
        out = np.stack([np.interp(np.atleast_1d(t), self.t, zi) for zi in self.z])
        return out[:, 0] if t.ndim == 0 else out


@dataclass
class ImplicitRun:
    """What `integrate_implicit` produced; ``S`` (d, n): the resolved ∇K selection at the knots."""

    t: np.ndarray
    z: np.ndarray
    S: np.ndarray
    sol: LinearDense | None
    order: int
    n_steps: int = 0
    n_rejected: int = 0
    n_low_order: int = 0
    n_switch_steps: int = 0
    n_switch_rejected: int = 0
    n_substeps: int = 0
    n_grad: int = 0
    n_hess: int = 0
    n_inner_iter: int = 0
    min_step: float = np.inf
    n_set_valued_steps: int = 0
    sliding_time: np.ndarray | None = None
    sliding_sets: dict[tuple[int, ...], float] = field(default_factory=dict)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    n_projections: int = 0
    max_projection: float = 0.0
    n_zeno: int = 0
    final_pattern: np.ndarray | None = None
    status: int = 0
    message: str = ""


class _StepFailure(Exception):
    pass


class _Substep:
    """One backward-Euler substep with the set-valued ∂K (see the module doc)."""

    def __init__(
        self,
        K: KFunction,
        grad: Callable[[NDArray[np.float64]], ArrayLike],
        hess: Callable[[NDArray[np.float64]], ArrayLike],
        hess_constant: bool,
        lam: float,
        alpha: float,
        gamma: float,
        eps: float,
        x0: NDArray[np.float64],
    ) -> None:
        self.K, self.grad, self.hess = K, grad, hess
        self.lam, self.alpha, self.gamma, self.eps = lam, alpha, gamma, eps
        self.n_grad = self.n_hess = self.n_inner = 0
        self.tiny_floor = 1e-300
        self._H_const: NDArray[np.float64] | None = None
        if hess_constant:
            H0 = np.asarray(hess(x0), dtype=float)
            self.n_hess += 1
            self._H_const = self._psd(H0)
            self._H_max = float(np.linalg.eigvalsh(self._H_const)[-1])
            iso = _isotropic(self._H_const)
            self._H_iso = iso if iso is not None else False
            # one linearisation is exact only when ∇f is affine with a PSD ∇²f
            self._linear = bool(
                np.allclose(
                    self._H_const,
                    0.5 * (H0 + H0.T),
                    rtol=0,
                    atol=1e-14 * max(1.0, float(np.max(np.abs(H0)))),
                )
            )

    @staticmethod
    def _psd(H: ArrayLike) -> NDArray[np.float64]:
        Hs: NDArray[np.float64] = 0.5 * (np.asarray(H, dtype=float) + np.asarray(H, dtype=float).T)
        w, Q = np.linalg.eigh(Hs)
        if w[0] >= 0:
            return Hs
        P: NDArray[np.float64] = (Q * np.maximum(w, 0.0)) @ Q.T
        return P

    def _H(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        if self._H_const is not None:
            return self._H_const
        self.n_hess += 1
        return self._psd(self.hess(x))

    def __call__(
        self, x: NDArray[np.float64], m: NDArray[np.float64], h: float, s: NDArray[np.float64]
    ) -> tuple[
        NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], float
    ]:
        lam, alpha, gamma, eps = self.lam, self.alpha, self.gamma, self.eps
        xh, rho = x / (1 + h * lam), h / (1 + h * lam)
        p, q = (1 - eps * gamma) * m / (1 + h * gamma), alpha * (h + eps) / (1 + h * gamma)
        linear = self._H_const is not None and self._linear
        for _ in range(_MAX_NEWTON):
            xk = xh + rho * s
            g = np.asarray(self.grad(xk), dtype=float)
            self.n_grad += 1
            H = self._H(xk)
            B = (q * rho) * H
            mt = p - q * g
            a = mt + B @ s
            if self._H_const is not None:  # spectrum and isotropy of a constant ∇²f: once
                iso = self._H_iso * q * rho if self._H_iso is not False else False
                s_new, it = resolve_selection(
                    self.K, a, B, s, L=q * rho * self._H_max, b=None if iso is False else iso
                )
            else:
                s_new, it = resolve_selection(self.K, a, B, s)
            self.n_inner += it
            change = float(np.max(np.abs(s_new - s)))
            if linear:  # ∇f affine: m̃(s_new) = a − B s_new exactly, one pass
                g1: NDArray[np.float64] | None = g + H @ (rho * (s_new - s))
                s = s_new
                break
            # converged when s settles, or when its change no longer moves x_{n+1} = x̂ + ρs by
            # more than 1e-12 (relative) nor m̃_{n+1} = a − Bs by more than the inner solver's
            # tolerance 1e-13‖a‖: on a face of ∂K (e.g. an ℓ∞ tie) s is determined by m̃ only up
            # to ε_mach‖a‖/‖B‖, ‖B‖ = O(h(h + ε)), and for small h cannot settle to 1e-12
            dm = float(np.max(np.abs(B @ (s_new - s))))
            s = s_new
            if change <= 1e-12 * (1 + float(np.max(np.abs(s)))) or (
                rho * change <= 1e-12 * (float(np.max(np.abs(xh))) + rho)
                and dm <= 1e-13 * float(np.max(np.abs(a)))
            ):
                g1 = None
                break
        else:
            raise _StepFailure(
                f"the Newton iteration for s ∈ ∂K(m̃(s)) did not converge in "
                f"{_MAX_NEWTON} passes (last change {change:.3g})"
            )
        x1 = xh + rho * s
        if g1 is None:
            g1 = np.asarray(self.grad(x1), dtype=float)
            self.n_grad += 1
        m1 = (m - h * alpha * g1) / (1 + h * gamma)
        mt1 = p - q * g1
        tiny = max(
            1e-9 * (float(np.max(np.abs(a))) + float(np.max(np.abs(B @ s)))), self.tiny_floor
        )
        return x1, m1, s, mt1, tiny


def _zeno_step(
    sub: _Substep, K: KFunction, z: NDArray[np.float64], s_prev: NDArray[np.float64], hz: float
) -> tuple[float, NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]] | None:
    """One backward-Euler substep of size hz from z; (hz, z_new, s, face) when it lands on a
    non-smooth set of K, else None."""
    d = z.size // 2
    try:
        x, m, s, mt, tiny = sub(z[:d], z[d:], hz, s_prev)
    except (_StepFailure, NumericalFailure):
        return None
    if not set_valued_pattern(K, mt, s, tiny).any():
        return None
    return hz, np.concatenate([x, m]), s, face_signature(K, mt, s, tiny)


def integrate_implicit(
    K: KFunction,
    grad: Callable[[NDArray[np.float64]], ArrayLike],
    hess: Callable[[NDArray[np.float64]], ArrayLike],
    z0: ArrayLike,
    t_final: float,
    *,
    lam: float,
    alpha: float,
    gamma: float,
    eps: float,
    rtol: float,
    atol: ArrayLike,
    order: int = 4,
    hess_constant: bool = False,
    t_eval: ArrayLike | None = None,
    first_step: float | None = None,
    max_steps: int = 100_000,
    max_nfev: int | None = None,
    max_time: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> ImplicitRun:
    """Integrate (x, m) from z0 on [0, t_final] by extrapolated implicit substeps (module doc).

    ``order`` k ∈ {2, 3, 4}: the tableau depth (k(k+1)/2 substeps per step). ``hess_constant``:
    ∇²f is constant (``hess(x0)`` is used everywhere): one linearisation per substep is exact.
    """
    if order not in (2, 3, 4):
        raise NumericalFailure(f"order={order}: the extrapolation depth must be 2, 3 or 4")
    z0 = np.asarray(z0, dtype=float)
    d = z0.size // 2
    seq = list(range(1, order + 1))
    sub = _Substep(
        K, grad, hess, hess_constant, float(lam), float(alpha), float(gamma), float(eps), z0[:d]
    )
    atol_v = np.broadcast_to(np.asarray(atol, dtype=float), z0.shape)
    # m̃ within the absolute tolerance of a non-smooth set of K counts as on it
    sub.tiny_floor = TINY_FLOOR * float(np.min(atol_v[d:]))
    outs = None if t_eval is None else np.unique(np.asarray(t_eval, dtype=float))
    if outs is not None:
        outs = outs[(outs > 0) & (outs <= t_final)]
    k_out = 0
    run = ImplicitRun(
        t=np.empty(0),
        z=np.empty((2 * d, 0)),
        S=np.empty((d, 0)),
        sol=None,
        order=order,
        sliding_time=np.zeros(d),
    )
    has_domain = True
    try:
        dist_fn: Callable[[NDArray[np.float64]], float] = lambda x: float(  # noqa: E731
            np.asarray(K.dist_dom_conj(lam * x))
        )
        dist_fn(z0[:d])
    except (NotImplementedError, AttributeError):
        has_domain = False
    scale_x = max(float(np.max(np.abs(z0[:d]))), 1.0 / lam)
    proj_tol = 10 * lam * (float(np.max(atol_v)) + rtol * scale_x)

    t, z = 0.0, z0.copy()
    s_prev = np.asarray(
        K.grad(z0[d:] - eps * (alpha * np.asarray(grad(z0[:d]), dtype=float) + gamma * z0[d:])),
        dtype=float,
    )
    sub.n_grad += 1
    mt0 = (1 - eps * gamma) * z0[d:] - eps * alpha * np.asarray(grad(z0[:d]), dtype=float)
    sub.n_grad += 1
    sig_prev = face_signature(
        K, mt0, s_prev, 1e-9 * float(np.max(np.abs(mt0), initial=0.0)) + 1e-300
    )
    ts: list[float] = [0.0]
    zs: list[np.ndarray] = [z0.copy()]
    Ss: list[np.ndarray | None] = [None]
    inside = has_domain and dist_fn(z0[:d]) <= DOMAIN_TOL
    h = float(first_step) if first_step is not None else min(t_final, 1e-3)
    prev_label = None
    control, monitor = ExtrapolationController(order), SwitchMonitor()
    last_failure = ""
    start = time.perf_counter()
    while t < t_final:
        if run.n_steps + run.n_rejected >= max_steps:
            run.status, run.message = (
                -1,
                f"max_steps={max_steps} (accepted + rejected) reached at t={t:.6g}",
            )
            break
        if max_nfev is not None and sub.n_grad >= max_nfev:
            run.status, run.message = -1, f"nfev cap {max_nfev} reached at t={t:.6g}"
            break
        if max_time is not None and time.perf_counter() - start > max_time:
            run.status, run.message = -1, f"time cap {max_time:g}s reached at t={t:.6g}"
            break
        h_try = min(h, t_final - t)
        clipped = False
        if outs is not None and k_out < outs.size and t + h_try >= outs[k_out]:
            h_try, clipped = outs[k_out] - t, True
        if monitor.accumulating(h):
            zeno = _zeno_step(
                sub,
                K,
                z,
                s_prev,
                min(
                    monitor.h_clean,
                    (outs[k_out] if outs is not None and k_out < outs.size else t_final) - t,
                ),
            )
            if zeno is not None:
                hz, z, s_prev, sig_prev = zeno
                t = t + hz
                if (
                    outs is not None
                    and k_out < outs.size
                    and abs(t - outs[k_out]) <= 1e-12 * max(1.0, t)
                ):
                    t, k_out = outs[k_out], k_out + 1
                run.n_zeno += 1
                run.events.append(
                    (
                        t,
                        -1,
                        "accumulation of switches passed",
                        f"first-order step of {hz:.3g} onto a non-smooth set of K",
                    )
                )
                ts.append(t)
                zs.append(z.copy())
                Ss.append(s_prev.copy())
                run.n_steps += 1
                h = hz
                monitor.passed()
                continue
        if h_try <= 1e-14 * max(1.0, t):
            run.status, run.message = -1, f"step size underflow at t={t:.6g}"
            break
        try:
            T: list[list[np.ndarray]] = []
            fine = []
            subs = []
            for j, n in enumerate(seq):
                x, m, s = z[:d], z[d:], s_prev
                hs = h_try / n
                for _ in range(n):
                    x, m, s, mt, tiny = sub(x, m, hs, s)
                    run.n_substeps += 1
                    subs.append((s, mt, tiny))
                    if j == 0:
                        T1_s = s
                    if j == order - 1:
                        fine.append((s, mt, tiny))
                row = [np.concatenate([x, m])]
                for q in range(1, j + 1):
                    row.append(row[q - 1] + (row[q - 1] - T[j - 1][q - 1]) / (n / seq[j - q] - 1))
                T.append(row)
        except (_StepFailure, NumericalFailure) as exc:
            run.n_rejected += 1
            h = control.failed(h_try)
            last_failure = str(exc)
            continue
        z_new, z_low = T[-1][-1], T[-1][-2]
        w = atol_v + rtol * np.maximum(np.abs(z), np.abs(z_new))
        err = float(np.sqrt(np.mean(((z_new - z_low) / w) ** 2)))
        # first-order estimate: error of T_{k,1} ≈ (k − 1)(T_{k−1,1} − T_{k,1}) (BE, C·h²/n)
        err1 = (order - 1) * float(np.sqrt(np.mean(((T[-1][0] - T[-2][0]) / w) ** 2)))
        if not (np.isfinite(err) and np.isfinite(err1)):
            run.status, run.message = -1, f"non-finite state at t={t:.6g}"
            break
        # a switch of ∂K inside the step: the tableau cannot see the part of its error that all
        # sequences share (a switch inside the first substep of every sequence: error ≈ δ·|Δs|,
        # δ the offset of the switch), so such a step is accepted on the high-order estimate only
        # when the first-order bound H·|Δs| of that error (ẋ = s − λx jumps by Δs, ṁ does not)
        # is within tolerance. A switch is seen as (i) a substep of any sequence on another face
        # of ∂K than the start (`face_signature`), or (ii) a jump of the selection: the largest
        # change of s between consecutive substeps of the finest sequence is > ½ the change over
        # the single-substep sequence (smooth s: ≈ 1/k of it; a jump: ≈ all of it)
        seq_s = np.stack([s_prev] + [s_ for (s_, _, _) in fine])
        ds = np.max(np.abs(np.diff(seq_s, axis=0)), axis=0)
        dmax = float(np.max(ds))
        jump = dmax > 0.5 * float(np.max(np.abs(T1_s - s_prev))) and dmax > 1e-8 * (
            1 + float(np.max(np.abs(s_prev)))
        )
        err_sw = 0.0
        if jump or any(
            not np.array_equal(face_signature(K, mt_, s_, tiny_), sig_prev)
            for (s_, mt_, tiny_) in subs
        ):
            err_sw = h_try * float(np.sqrt(np.sum((ds / w[:d]) ** 2) / (2 * d)))
            run.n_switch_steps += 1
        decision = control.decide(h_try, err, err1, err_sw, h_prop=h if clipped else None)
        if not decision.accept:
            run.n_rejected += 1
            run.n_switch_rejected += decision.reason == "switch"
            h = decision.h_next
            continue
        low = decision.low_order
        if low:
            # the tableau does not cancel (a face of ∂K changed inside the step: the expansion
            # in h does not hold) but the first-order solution is within tolerance: take it
            z_new = T[-1][0]
        run.n_low_order += int(low)
        monitor.accepted(h_try, clean=not low and err_sw == 0.0)
        # accepted
        t_new = outs[k_out] if clipped and outs is not None else t + h_try
        if clipped:
            k_out += 1
        if has_domain:
            xn = z_new[:d]
            dist = dist_fn(xn)
            if inside and 0 < dist <= proj_tol:
                z_new = z_new.copy()
                z_new[:d] = np.asarray(K.project_dom_conj(lam * xn), dtype=float) / lam
                run.n_projections += 1
                run.max_projection = max(run.max_projection, dist)
            elif dist <= DOMAIN_TOL:
                inside = True
        hsub = h_try / order
        any_sv = False
        for s_f, mt_f, tiny_f in fine:
            pat = set_valued_pattern(K, mt_f, s_f, tiny_f)
            if pat.any():
                any_sv = True
                assert run.sliding_time is not None  # zeros(d) from the start
                run.sliding_time += hsub * pat
                key = tuple(int(i) for i in np.flatnonzero(pat))
                run.sliding_sets[key] = run.sliding_sets.get(key, 0.0) + hsub
        run.n_set_valued_steps += int(any_sv)
        label = tuple(int(i) for i in np.flatnonzero(pat))
        if prev_label is not None and label != prev_label:
            run.events.append(
                (
                    t_new,
                    -1,
                    "set-valued coordinates change",
                    "set-valued on " + str(list(label)) if label else "single-valued",
                )
            )
        prev_label = label
        run.final_pattern = pat
        s_prev = fine[-1][0]
        sig_prev = face_signature(K, fine[-1][1], s_prev, fine[-1][2])
        run.min_step = min(run.min_step, h_try)
        t, z = t_new, z_new
        if progress is not None:
            progress(t)
        ts.append(t)
        zs.append(z.copy())
        Ss.append(s_prev.copy())
        run.n_steps += 1
        h = decision.h_next
    if run.status != 0 and last_failure:
        run.message += f" (last substep failure: {last_failure})"
    Ss[0] = Ss[1] if len(Ss) > 1 else s_prev
    run.t = np.asarray(ts)
    run.z = np.stack(zs, axis=1)
    run.S = np.stack([S_ for S_ in Ss if S_ is not None], axis=1)
    run.sol = LinearDense(run.t, run.z) if run.t.size > 1 else None
    run.n_grad, run.n_hess, run.n_inner_iter = sub.n_grad, sub.n_hess, sub.n_inner
    if run.status == 0:
        run.message = (
            f"reached t_final: {run.n_steps} steps ({run.n_rejected} rejected, "
            f"{run.n_low_order} first-order"
            + (f", {run.n_zeno} across accumulations of switches" if run.n_zeno else "")
            + "), "
            f"set-valued ∂K active in {run.n_set_valued_steps} steps"
        )
    return run


class _KnotSelection:
    """The resolved selection at the knot nearest to each requested time."""

    def __init__(self, t: NDArray[np.float64], S: NDArray[np.float64]) -> None:
        self.t, self.S = t, S

    def __call__(self, t: ArrayLike, Z: NDArray[np.float64]) -> NDArray[np.float64]:
        t = np.atleast_1d(np.asarray(t, dtype=float))
        k = np.clip(np.searchsorted(self.t, t), 0, self.t.size - 1)
        k0 = np.maximum(k - 1, 0)
        k = np.where(np.abs(self.t[k0] - t) < np.abs(self.t[k] - t), k0, k)
        return self.S[:, k]


class ImplicitIntegrator:
    """Extrapolated implicit substeps with the set-valued ∂K (module doc); any K with a prox."""

    name = "implicit"

    @staticmethod
    def applicable(prob: LionProblem) -> bool:
        return True

    def run(
        self, prob: LionProblem, t0: float, z0: ArrayLike, t_final: float, opts: SolveOptions
    ) -> OdeRun:
        t_eval = None if opts.t_eval is None else np.asarray(opts.t_eval, dtype=float) - t0
        r = integrate_implicit(
            prob.K,
            prob.grad,
            prob.hess,
            z0,
            t_final - t0,
            lam=prob.lam,
            alpha=prob.alpha,
            gamma=prob.gamma,
            eps=prob.eps,
            rtol=opts.rtol,
            atol=opts.atol,
            order=opts.order,
            hess_constant=prob.hess_constant,
            t_eval=t_eval,
            first_step=opts.first_step,
            max_nfev=opts.max_nfev,
            max_time=opts.max_time,
            progress=opts.progress,
        )
        t = r.t + t0
        if r.t.size and r.t[-1] == t_final - t0:
            t[-1] = t_final
        pat = r.final_pattern if r.final_pattern is not None else np.zeros(prob.d, bool)
        from .run import OdeRun

        return OdeRun(
            method=self.name,
            t=t,
            z=r.z,
            sol=LinearDense(t, r.z) if t.size > 1 else None,
            status=r.status,
            message=r.message,
            counters={
                "nfev": r.n_grad,
                "njev": r.n_hess,
                "n_grad": r.n_grad,
                "n_steps": r.n_steps,
                "min_step": r.min_step,
            },
            selection=_KnotSelection(t, r.S),
            events=[(e[0] + t0,) + tuple(e[1:]) for e in r.events],
            sliding_time=r.sliding_time,
            final_mode=["set-valued" if p_ else "single-valued" for p_ in pat],
            extra=dict(
                order=r.order,
                n_rejected=r.n_rejected,
                n_low_order=r.n_low_order,
                n_set_valued_steps=r.n_set_valued_steps,
                sliding_sets=r.sliding_sets,
                n_projections=r.n_projections,
                max_projection=r.max_projection,
                n_switch_steps=r.n_switch_steps,
                n_switch_rejected=r.n_switch_rejected,
                n_sliding_entries=sum(1 for e in r.events if e[3] != "single-valued"),
            ),
        )
