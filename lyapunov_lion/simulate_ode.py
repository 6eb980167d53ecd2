"""Use case: integrate the Lion-K ODE (spec §3) for a `SimulationSpec`, optionally next to the
discrete iterates.

The ODE coefficients come from the discrete hyper-parameters unless given:
α = γ = (1 − β2)/η, ε = η(1 − β1)/(1 − β2), and t_final = steps·η, so that the discrete iterate
k sits at time t = kη. ``simulate_ode`` returns an `OdeSimulationReport`; with a discrete
`SimulationReport` beside it, ``compare`` measures max_k ‖x_k − x(kη)‖.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .core.ode import continuous_from_discrete, solve_lion_ode
from .core.reference import constrained_optimum
from .errors import LionKError, NumericalFailure
from .matrix_problem import matrix_lines, matrix_summary
from .simulate import SimulationSpec, build_problem, format_vector


@dataclass
class OdeOptions:
    """Integration options; ``None`` coefficients are derived from the discrete ones."""

    method: str = "auto"
    rtol: float = 1e-8
    atol: float = 1e-10
    t_final: float | None = None
    alpha: float | None = None
    gamma: float | None = None
    eps: float | None = None
    n_eval: int = 501  # output grid; the implicit mode also steps through these points


@dataclass
class OdeSimulationReport:
    spec: SimulationSpec
    options: OdeOptions
    K: Any
    objective: Any
    x0: np.ndarray
    coefficients: dict
    result: Any
    reference: Any
    comparison: dict | None = field(default=None)

    @property
    def x_final(self) -> np.ndarray:
        return np.asarray(self.result.x[-1])

    def matrix_summary(self) -> dict[str, Any] | None:
        """For a matrix K: singular values of the end point, the optimum and C; else None."""
        return matrix_summary(self.K, self.spec.lam, self.x_final, self.objective, self.reference)

    def summary_dict(self) -> dict[str, Any]:
        r, d = self.result, self.result.diagnostics
        out = {
            "K": self.K.name,
            "K_params": dict(self.K.param_values),
            "lam": self.spec.lam,
            "constraint": self.K.describe_induced(self.spec.lam),
            "induced": self.K.info()["induced"],
            "objective": self.objective.name,
            "mode": "ode",
            "coefficients": self.coefficients,
            "t_final": float(r.t[-1]),
            "success": bool(r.success),
            "message": r.message,
            "final": {
                "x": self.x_final.tolist(),
                "f": float(self.objective.f(self.x_final)),
                "kkt": float(d.kkt_final),
            },
            "phase1_exit_time": d.phase1_exit_time,
            "lyapunov": {
                "monotone": bool(r.guards["monotone_H"]["ok"]),
                "detail": r.guards["monotone_H"]["detail"],
            },
            "guards": r.guards,
            "integrator": r.report.to_dict(),
        }
        if self.reference is not None:
            out["optimum"] = {
                "x": np.asarray(self.reference.x).tolist(),
                "f": float(self.reference.f),
                "method": self.reference.method,
                "distance": float(np.linalg.norm(self.x_final - self.reference.x)),
            }
        if self.comparison is not None:
            out["discrete_vs_ode"] = self.comparison
        matrix = self.matrix_summary()
        if matrix is not None:
            out["matrix"] = matrix
        return out

    def summary_text(self) -> str:
        r, rep, d, c = self.result, self.result.report, self.result.diagnostics, self.coefficients
        info = self.K.info()
        lines = [
            f"Lion-K ODE with K = {info['K']} ({self.K.name}),  K* = {info['K_conj']}",
            f"solves   min f(x) {info['induced']}   →  at λ = {self.spec.lam:g}: "
            f"{self.K.describe_induced(self.spec.lam)}",
            f"ODE: ṁ = −α∇f − γm, ẋ = ∇K(m̃) − λx, m̃ = m − ε(α∇f + γm) with α = {c['alpha']:g}, "
            f"γ = {c['gamma']:g}, ε = {c['eps']:g}, λ = {self.spec.lam:g}, t ∈ [0, {r.t[-1]:g}]",
            f"integrator: {rep.method}"
            + (f" (inner {rep.inner_method})" if rep.inner_method else "")
            + f", rtol {self.options.rtol:g}, nfev {rep.nfev}, smallest step {rep.min_step:.3g}, "
            f"{rep.n_events} switching events, Jacobian: {rep.jacobian}",
        ]
        if rep.sliding_time is not None:
            slide = ", ".join(f"x{i + 1}: {s:.4g}" for i, s in enumerate(rep.sliding_time))
            lines.append(
                f"time on a non-smooth set of ∂K (sliding) per coordinate: {slide}; "
                "final modes: " + ", ".join(rep.final_mode)
            )
        if rep.method == "implicit":
            sets = ", ".join(f"{k}: {v:.4g}" for k, v in (rep.sliding_sets or {}).items())
            lines.append(
                f"implicit steps: {rep.n_steps} ({rep.n_rejected} rejected, "
                f"{rep.n_low_order} first-order), set-valued ∂K in "
                f"{rep.n_set_valued_steps} steps"
                + (f"; time per set: {sets}" if sets else "")
                + f"; {rep.n_projections} returns to dom K*"
            )
        lines.append(
            "phase 1: "
            + (
                "λx did NOT reach dom K*"
                if d.phase1_exit_time is None
                else f"λx in dom K* from t = {d.phase1_exit_time:.4g}"
            )
        )
        failed = [k for k, v in r.guards.items() if isinstance(v, dict) and not v.get("ok", True)]
        lines.append(
            "guards (invariance of dom K*, phase-1 bound e^{−λt}, H non-increasing in "
            "phase 2): " + ("all hold" if not failed else "FAILED: " + ", ".join(failed))
        )
        lines.append(
            f"final: x = {format_vector(self.x_final)},  f = "
            f"{float(self.objective.f(self.x_final)):.6g},  KKT score = {d.kkt_final:.3g}"
        )
        if self.reference is not None:
            dist = float(np.linalg.norm(self.x_final - self.reference.x))
            lines.append(
                f"optimum of the induced problem ({self.reference.method}): x* = "
                f"{format_vector(self.reference.x)},  ‖x − x*‖ = {dist:.3g}"
            )
        lines += matrix_lines(self.matrix_summary())
        if self.comparison is not None:
            cmp = self.comparison
            lines.append(
                f"discrete vs ODE at t = kη: max ‖x_k − x(kη)‖ = {cmp['max_distance']:.3g}, "
                f"final {cmp['final_distance']:.3g}"
            )
        lines.append(f"status: {'success' if r.success else 'FAILURE'}: {r.message}")
        return "\n".join(lines)


def ode_coefficients(spec: SimulationSpec, options: OdeOptions) -> dict:
    """α, γ, ε from the options or from (lr, β1, β2) by the spec §3 map; t_final = steps·lr."""
    derived = continuous_from_discrete(spec.lr, spec.beta1, spec.beta2)
    coeffs = {
        k: float(getattr(options, k) if getattr(options, k) is not None else derived[k])
        for k in ("alpha", "gamma", "eps")
    }
    coeffs["t_final"] = float(
        options.t_final if options.t_final is not None else spec.steps * spec.lr
    )
    return coeffs


def simulate_ode(
    spec: SimulationSpec,
    options: OdeOptions | None = None,
    progress: Callable[[float], None] | None = None,
) -> OdeSimulationReport:
    """Integrate the Lion-K ODE as ``spec`` and ``options`` say; failures come back as a report
    with ``success = False`` (the guards' reason in the message), NaN raises `NumericalFailure`.
    ``progress`` is called with the fraction t/t_final done after every accepted step."""
    options = options or OdeOptions()
    if spec.lam <= 0:
        raise LionKError("the ODE mode needs lam > 0 (the ODE of spec §3 assumes λ > 0)")
    K, objective, x0 = build_problem(spec)
    c = ode_coefficients(spec, options)
    t_eval = np.linspace(0.0, c["t_final"], options.n_eval)
    result = solve_lion_ode(
        K,
        objective,
        x0,
        lam=spec.lam,
        alpha=c["alpha"],
        gamma=c["gamma"],
        eps=c["eps"],
        t_final=c["t_final"],
        method=options.method,
        rtol=options.rtol,
        atol=options.atol,
        t_eval=t_eval,
        progress=None if progress is None else lambda t: progress(t / c["t_final"]),
    )
    if not np.all(np.isfinite(result.x)):
        raise NumericalFailure(f"the ODE solution has non-finite values: {result.message}")
    reference = constrained_optimum(objective, K, spec.lam)
    return OdeSimulationReport(spec, options, K, objective, x0, c, result, reference)


def compare(discrete_report, ode_report: OdeSimulationReport) -> dict:
    """max_k ‖x_k − x(kη)‖ between discrete iterates and the dense ODE solution."""
    steps = np.asarray(discrete_report.result.steps_saved)
    t = steps * discrete_report.spec.lr
    keep = t <= ode_report.result.t[-1] + 1e-12
    x_ode, _ = ode_report.result.state(t[keep])
    dist = np.linalg.norm(np.asarray(discrete_report.result.x)[keep] - x_ode, axis=-1)
    return {
        "max_distance": float(dist.max()),
        "final_distance": float(dist[-1]),
        "n_compared": int(keep.sum()),
    }
