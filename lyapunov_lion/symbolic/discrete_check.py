"""Statement (v): the discrete Lyapunov inequality of spec §5 checked numerically for one K.

For a built K (from the expression, or the catalog K), two batched runs of the discrete scheme —
one implicit-decay (spec §5), one explicit-decay (the derived variant) — over the grid

    (β1, β2) ∈ {(0.9, 0.99), (0.5, 0.5), (0, 0.9)},  η ∈ {0.2, 1e-2, 1e-3},  λ ∈ {0.5, 1.5},

three starts (λx0 inside dom K*, λx0 = P(y) on its boundary when dom K* is bounded, λx0 = (4, −3)
outside a bounded dom K*), on the anisotropic quadratic in d = 2

    f(x) = ½(x1 − 3/2)² + 2(x2 + 1/2)²,   ∇f(x) = (x1 − 3/2, 4(x2 + 1/2)),   L = 4 (exact: the
    largest eigenvalue of diag(1, 4)).

Every step is checked by `core.lyapunov.diagnose_discrete`: the per-step slack
``H_d(t+1) − H_d(t) + ηΔ_t − (Lη²/2)‖w_t‖²`` must be ≤ rtol·(sum of magnitudes of the terms)
(rtol = 1e-11, rounding of O(d) terms) on every step with λx_t, λx_{t+1} ∈ dom K* (up to 1e-12);
steps before phase 1 ends are not checked (the theorem needs λx_t ∈ dom K*). Every setting has
β1 ≤ β2 and ηλ ≤ 0.3 < 1, so both inequalities are theorems for every run ([derived] in spec §5
and in `core.lyapunov`): one violation beyond rounding is a FAILED statement with the run.

η = 0.2 lets the outside start enter dom K* within the run (at ηλ = 0.3 the phase-1 bound
(1 + ηλ)^{−t}·dist0 is below 1e-12 after ~110 steps; in practice sooner, ∇K(m̃) pointing inward);
the small η check the inequality where its right-hand side is tiny. Runs that diverge (possible
for a fast-growing ∇K such as m̃³) are counted and reported, not checked.

`with_discrete` adds (v), (v′) to one report: on a given K, else on the K its caller's builder
makes from the report (a helper of the `certificates` stage; it imports no stage, and never
the layer that builds K).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..core.discrete import DiscreteResult, LionKConfig, run_discrete
from ..core.kfunc import KFunction
from ..core.lyapunov import diagnose_discrete
from ..errors import LionKError, NumericalFailure
from .record import CHECKED, FAILED, SKIPPED, Statement, VerifyReport

BETAS = ((0.9, 0.99), (0.5, 0.5), (0.0, 0.9))
LRS = (0.2, 1e-2, 1e-3)
LAMS = (0.5, 1.5)
STEPS = 300
STEPS_NUMERICAL = 12
"""Steps when K* is itself numerical (each K* value is a brute-force supremum)."""
HESS = np.array([1.0, 4.0])
X_STAR = np.array([1.5, -0.5])
L_SMOOTH = float(HESS.max())
RTOL = 1e-11
"""Violation threshold relative to the magnitudes of the terms (as `diagnose_discrete`)."""

NAME_IMPLICIT = "(v) spec §5 inequality (implicit decay, β1 ≤ β2)"
CLAIM_IMPLICIT = "H_d(t+1) − H_d(t) ≤ −ηΔ_t + (Lη²/2)‖w_t‖², a = ηβ1/((1−β2) + ηλ(1−β1))"
NAME_EXPLICIT = "(v′) explicit-decay variant [derived]"
CLAIM_EXPLICIT = "H′_d(t+1) − H′_d(t) ≤ −ηΔ′_t + (Lη²/2)‖w̄_t‖², a′ = ηβ1/((1−β2) + ηλ(β2−β1))"


MAX_DIM = 10
"""Largest d of a non-separable K whose discrete inequality is checked (runs in R^d)."""


def _tile(v, d: int) -> np.ndarray:
    """The 2-vector ``v`` repeated to length d ((a, b) → (a, b, a, b, …)); d = 2 gives ``v``."""
    return np.resize(np.asarray(v, dtype=float), d)


def f_quadratic(x):
    """f(x) = ½ Σ h_i (x_i − x*_i)², h = (1, 4, 1, 4, …), x* = (3/2, −1/2, 3/2, −1/2, …)
    (length d = x.shape[-1]; d = 2 is the planar test problem)."""
    x = np.asarray(x)
    d = x.shape[-1]
    return 0.5 * np.sum(_tile(HESS, d) * (x - _tile(X_STAR, d)) ** 2, axis=-1)


def grad_f_quadratic(x):
    """∇f(x) = h ⊙ (x − x*)."""
    x = np.asarray(x)
    d = x.shape[-1]
    return _tile(HESS, d) * (x - _tile(X_STAR, d))


def _starts(K: KFunction, d: int = 2) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Start points y0 = λx0 (labels, y0 (3, d), m0 (3, d)); the planar ones tiled for d > 2."""
    P = K.project_dom_conj
    a, b = _tile([0.7, -0.2], d), _tile([-0.3, 0.5], d)
    inside = 0.5 * (np.asarray(P(a)) + np.asarray(P(b)))  # a convex combination of points of dom
    raw = _tile([4.0, -3.0], d)
    boundary = np.asarray(P(_tile([3.0, -2.0], d)))
    ys = np.stack([inside, boundary, raw])
    ms = np.stack([_tile(v, d) for v in ([0.0, 0.0], [0.7, -1.3], [-2.0, 1.0])])
    dist = np.asarray(K.dist_dom_conj(ys))
    moved = not np.allclose(boundary, _tile([3.0, -2.0], d))
    labels = [
        "inside dom K*",
        "on the boundary of dom K*" if moved else "inside dom K*",
        "outside dom K*" if dist[2] > 0 else "inside dom K*",
    ]
    return labels, ys, ms


def _grid(K: KFunction, d: int = 2):
    labels, ys, ms = _starts(K, d)
    rows = list(
        itertools.product(range(len(BETAS)), range(len(LRS)), range(len(LAMS)), range(len(labels)))
    )
    b1 = np.array([BETAS[r[0]][0] for r in rows])
    b2 = np.array([BETAS[r[0]][1] for r in rows])
    lr = np.array([LRS[r[1]] for r in rows])
    lam = np.array([LAMS[r[2]] for r in rows])
    x0 = ys[[r[3] for r in rows]] / lam[:, None]
    m0 = ms[[r[3] for r in rows]]
    settings = [
        {
            "beta1": BETAS[r[0]][0],
            "beta2": BETAS[r[0]][1],
            "lr": LRS[r[1]],
            "lam": LAMS[r[2]],
            "start": labels[r[3]],
        }
        for r in rows
    ]
    return b1, b2, lr, lam, x0, m0, settings


BOUNDED = 1e6
"""A run whose |x| or |m| exceeds this (or turns non-finite) counts as diverged: it is reported
and left out of the check (K(m) of a fast-growing K overflows there; divergence is no violation:
the inequality allows growth through its (Lη²/2)‖w_t‖² term)."""


def _subset(res, keep: np.ndarray):
    """The runs ``keep`` of a batched `DiscreteResult` (time axis first, batch axis 1)."""
    cfg = res.config
    sub = LionKConfig(
        **{
            k: (np.asarray(getattr(cfg, k))[keep] if np.ndim(getattr(cfg, k)) else getattr(cfg, k))
            for k in ("lr", "beta1", "beta2", "lam")
        },
        decay=cfg.decay,
        convention=cfg.convention,
    )
    return DiscreteResult(
        x=res.x[:, keep],
        m=res.m[:, keep],
        m_tilde=res.m_tilde[:, keep],
        steps_saved=res.steps_saved,
        config=sub,
        K=res.K,
    )


def _run(K: KFunction, decay: str, grid, steps: int):
    b1, b2, lr, lam, x0, m0, settings = grid
    cfg = LionKConfig(lr=lr, beta1=b1, beta2=b2, lam=lam, decay=decay, convention="paper")
    with np.errstate(all="ignore"):
        # one check at the end: a diverging run must not stop the others
        res = run_discrete(
            K,
            grad_f_quadratic,
            x0.copy(),
            m0.copy(),
            config=cfg,
            steps=steps,
            divergence_threshold=np.inf,
            check_every=steps,
        )
        size = np.maximum(np.max(np.abs(res.x), axis=(0, 2)), np.max(np.abs(res.m), axis=(0, 2)))
    keep = np.isfinite(size) & (size <= BOUNDED)
    kept = [s for s, k in zip(settings, keep, strict=False) if k]
    diag = None
    if keep.any():
        with np.errstate(all="ignore"):
            diag = diagnose_discrete(
                _subset(res, keep), f_quadratic, grad_f_quadratic, L=L_SMOOTH, rtol=RTOL
            )
    return (
        diag,
        kept,
        int((~keep).sum()),
        [s for s, k in zip(settings, keep, strict=False) if not k],
    )


def _worst(chk, H) -> tuple[int, int, float]:
    """(run, step, relative slack) of the largest slack relative to 1 + |H(t)| + |H(t+1)|
    over the checked steps (the absolute slack of a large H is rounding of a large number)."""
    with np.errstate(invalid="ignore", over="ignore"):
        rel = chk.slack / (1 + np.abs(H[:-1]) + np.abs(H[1:]))
    rel = np.where(np.isfinite(rel), rel, -np.inf)
    t, j = np.unravel_index(int(np.argmax(rel)), rel.shape)
    return int(j), int(t), float(rel[t, j])


def _fmt(settings: dict) -> str:
    return (
        f"β1 = {settings['beta1']:g}, β2 = {settings['beta2']:g}, η = {settings['lr']:g}, "
        f"λ = {settings['lam']:g}, start {settings['start']}"
    )


def _statement(name, claim, chk, H, settings, n_runs, steps, n_div, div, what) -> Statement:
    n_checked = int(np.sum(chk.n_checked)) if chk is not None else 0
    diverged = ""
    if n_div:
        diverged = (
            f"; {n_div} of {n_runs} runs diverged (|x| or |m| > {BOUNDED:g} or non-finite: "
            "Lion-K with this K is unstable there; not checked), e.g. " + _fmt(div[0])
        )
    if n_checked == 0:
        return Statement(
            name,
            claim,
            SKIPPED,
            "no step had λx_t, λx_{t+1} ∈ dom K* "
            f"({n_runs} runs × {steps} steps of {what}){diverged}",
        )
    n_viol = int(np.sum(chk.n_violations))
    j, t, rel = _worst(chk, H)
    detail = (
        f"{n_checked} of {n_runs * steps} steps checked ({n_runs} runs × {steps} steps of "
        f"{what}); not checked: steps with λx_t or λx_{{t+1}} outside dom K* (phase 1), "
        f"{int(np.sum(chk.n_skipped_boundary))} of them outside only within the membership "
        f"tolerance{diverged}; largest slack H_d(t+1) − H_d(t) + ηΔ_t − (Lη²/2)‖w_t‖² = "
        f"{chk.slack[t, j]:.3g} ({rel:.2g} relative to 1 + |H_d(t)| + |H_d(t+1)|) at step "
        f"{t} of {_fmt(settings[j])}; a violation is slack > {chk.rtol:g}·(sum of "
        "magnitudes of the terms), i.e. beyond rounding"
    )
    if n_viol:
        bad = np.asarray(chk.n_violations) > 0
        masked = np.where(bad, chk.max_violation, -np.inf)
        j = int(np.argmax(masked))
        t = int(chk.max_violation_step[j])
        ce = {
            **settings[j],
            "step": t,
            "slack": float(chk.slack[t, j]),
            "runs_violating": int(bad.sum()),
            "steps_violating": n_viol,
        }
        return Statement(
            name,
            claim,
            FAILED,
            detail,
            n_samples=n_checked,
            max_violation=float(chk.slack[t, j]),
            counterexample=ce,
        )
    return Statement(
        name,
        claim,
        CHECKED,
        detail,
        n_samples=n_checked,
        max_violation=max(0.0, float(chk.slack[t, j])),
    )


def discrete_statements(K: KFunction | None, source: str, why_none: str = "") -> list[Statement]:
    """Statements (v) (implicit decay, spec §5) and (v′) (explicit decay, derived) for ``K``.

    ``source`` says where K comes from (e.g. "the K built from the expression"); ``K=None`` gives
    two SKIPPED statements with ``why_none``. See the module docstring for the runs."""
    if K is None:
        return [
            Statement(NAME_IMPLICIT, CLAIM_IMPLICIT, SKIPPED, why_none),
            Statement(NAME_EXPLICIT, CLAIM_EXPLICIT, SKIPPED, why_none),
        ]
    d = getattr(K, "dim", None) or 2
    if K.event_ndim != 1 or not 2 <= d <= MAX_DIM:
        why = f"the check runs on vectors of dimension 2 to {MAX_DIM}; this K is not one"
        return discrete_statements(None, source, why)
    rep = getattr(K, "report", None)
    numerical = rep is not None and rep.method not in ("symbolic", "none")
    steps = STEPS_NUMERICAL if numerical else STEPS
    grid = _grid(K, d)
    what = (
        (
            "f(x) = ½(x1 − 3/2)² + 2(x2 + 1/2)²"
            if d == 2
            else f"f(x) = ½Σ h_i(x_i − x*_i)² in R^{d}, h = (1, 4, …), x* = (3/2, −1/2, …)"
        )
        + f", L = {L_SMOOTH:g}, β ∈ {{(0.9, 0.99), (0.5, 0.5), "
        f"(0, 0.9)}}, η ∈ {{0.2, 0.01, 0.001}}, λ ∈ {{0.5, 1.5}}, 3 starts, on {source}"
        + (" (K* numerical: fewer steps)" if numerical else "")
    )
    out = []
    for decay, name, claim, attr, hkey in (
        ("implicit", NAME_IMPLICIT, CLAIM_IMPLICIT, "spec_inequality", "H_d"),
        ("explicit", NAME_EXPLICIT, CLAIM_EXPLICIT, "explicit_inequality", "H_d_explicit"),
    ):
        t0 = time.monotonic()
        try:
            diag, kept, n_div, div = _run(K, decay, grid, steps)
        except (LionKError, NumericalFailure) as exc:
            out.append(Statement(name, claim, SKIPPED, f"the run could not be made: {exc}"))
            continue
        chk = getattr(diag, attr) if diag is not None else None
        H = getattr(diag, hkey) if diag is not None else None
        st = _statement(name, claim, chk, H, kept, len(grid[-1]), steps, n_div, div, what)
        out.append(replace(st, detail=f"{st.detail} ({time.monotonic() - t0:.2f} s)"))
    return out


def _build_K(
    rep: VerifyReport, build_K: Callable[[VerifyReport], KFunction] | None
) -> tuple[KFunction | None, str]:
    if rep.convex == FAILED:
        return None, "K is not convex"
    if rep.kind == "nonseparable":
        return None, (
            "no K object: the conjugate of a non-separable K that is not positively "
            "homogeneous is not handled yet"
        )
    if not rep.ok:
        bad = next(s for s in rep._all() if s.status == FAILED)
        return None, f"no verified K to run: {bad.name} FAILED"
    if build_K is None:
        return None, "no K builder given"
    try:
        return build_K(rep), ""
    except LionKError as exc:
        return None, f"no K object: {exc}"


def with_discrete(
    rep: VerifyReport,
    K: KFunction | None = None,
    source: str | None = None,
    build_K: Callable[[VerifyReport], KFunction] | None = None,
) -> VerifyReport:
    """A copy of ``rep`` with (v) and (v′) run on ``K``, else on ``build_K(rep)`` (SKIPPED with
    the reason when no K can be built); ``source`` names the K in the report."""
    why = ""
    if K is None:
        K, why = _build_K(rep, build_K)
        source = source or (
            "the K built from the expression (kbuild)"
            + (", K* numerical" if rep.method == "numerical" else "")
        )
    return replace(rep, discrete=tuple(discrete_statements(K, source or "the given K", why)))


__all__ = ["L_SMOOTH", "discrete_statements", "f_quadratic", "grad_f_quadratic"]
