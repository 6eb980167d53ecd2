"""Use-case helper: `lionk simulate` with a matrix K (``event_ndim = 2``, e.g. ``nuclear``).

Lion-K on X ∈ R^{a×b} with K is Lion-K on x = vec X ∈ R^{ab} (row-major) with K♭ = K∘mat
(`core.ode.matrix.FlatMatrixK`): vec is an isometry of ⟨·,·⟩_F, so ∇K♭(vec M) = vec ∇K(M), and
the iterates, H, Δ, dist(λx, dom K*), the ODE and the optimum of the induced problem are those of
the matrix problem, computed by the vector pipeline unchanged. The objective is
f(X) = ½‖X − C‖²_F (`FrobeniusObjective`; on vec X the isotropic quadratic ½‖x − vec C‖²). For
the nuclear K (K* = δ{‖Y‖_op ≤ 1}) Lion-K solves min f s.t. ‖X‖_op ≤ 1/λ, whose solution is C with
its singular values clipped at 1/λ; `matrix_summary` reports the singular values of the end point
against that bound.

C is given (``objective_params["C"]``: a matrix) or drawn with N(0, 1) entries from ``seed`` for
``objective_params["shape"] = (a, b)``; `parse_matrix` and `parse_shape` read the CLI's text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from .core.kfunc import KFunction
from .core.objectives import Objective
from .core.ode.matrix import FlatMatrixK
from .core.serialize import file_problem
from .errors import LionKError

__all__ = [
    "FrobeniusObjective",
    "build_matrix_problem",
    "matrix_summary",
    "matrix_lines",
    "parse_matrix",
    "parse_shape",
    "MAX_ENTRIES",
]

MAX_ENTRIES = 1024
"""Largest a·b from the CLI: the ODE mode forms the (ab)×(ab) Hessian of vec X (8 MB here)."""
DEFAULT_SHAPE = (3, 4)


class FrobeniusObjective(Objective):
    """f(X) = ½‖X − C‖²_F on vec X (row-major): ∇f = x − vec C, ∇²f = I, L = 1."""

    name = "frobenius"
    hess_constant = True

    def __init__(self, C) -> None:
        C = np.asarray(C, dtype=float)
        if C.ndim != 2 or C.size == 0:
            raise LionKError(f"C must be a non-empty matrix, got shape {C.shape}")
        if not np.all(np.isfinite(C)):
            raise LionKError("C has non-finite entries")
        self.C, self.shape = C, C.shape
        self.c = C.reshape(-1)
        self.dim = C.size
        self.lipschitz = 1.0
        self.formula = f"½‖X − C‖²_F, X, C ∈ R^{C.shape[0]}×{C.shape[1]}"

    def _f(self, x, xp):
        d = x - xp.asarray(self.c, dtype=x.dtype)
        return 0.5 * xp.sum(d * d, axis=-1)

    def _grad(self, x, xp):
        return x - xp.asarray(self.c, dtype=x.dtype)

    def hess(self, x):
        """∇²f = I (ab × ab), batched like x."""
        x, _ = self._check(x)
        return np.broadcast_to(np.eye(self.dim), x.shape[:-1] + (self.dim, self.dim))

    def isotropic_quadratic(self):
        return 0.5, self.c.copy()

    def info(self) -> dict[str, Any]:
        return {**super().info(), "shape": list(self.shape), "C": self.C.tolist()}


def parse_shape(text: str) -> tuple[int, int]:
    """``"3x4"`` or ``"3,4"`` → (3, 4); both ≥ 1 and a·b ≤ `MAX_ENTRIES`."""
    parts = text.lower().replace("×", "x").replace(",", "x").split("x")
    try:
        a, b = (int(p) for p in parts)
    except ValueError:
        raise LionKError(f"--shape {text!r}: give rows x columns, e.g. 3x4") from None
    if a < 1 or b < 1:
        raise LionKError(f"--shape {text!r}: rows and columns must be ≥ 1")
    _check_size((a, b), "--shape")
    return a, b


def parse_matrix(text: str, what: str) -> np.ndarray:
    """A matrix from a file (.npy, or .txt/.csv with one row per line) or a literal
    ``"1,2;3,4"`` (rows separated by ';', entries by ','); finite entries, a·b ≤ `MAX_ENTRIES`."""
    path = Path(text)
    if path.suffix.lower() in (".npy", ".txt", ".csv"):
        if not path.exists():
            raise LionKError(f"{what}: no such file {text!r}")
        problem = file_problem(path)  # a small regular file: reading can neither block nor OOM
        if problem:
            raise LionKError(f"{what}: {problem}")
        try:
            if path.suffix.lower() == ".npy":
                M = np.load(path, allow_pickle=False)
            else:
                M = np.loadtxt(path, delimiter="," if path.suffix.lower() == ".csv" else None)
        except (OSError, ValueError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise LionKError(f"{what}: cannot read {text!r} as a matrix ({first})") from None
        M = np.asarray(M, dtype=float)
        if M.ndim == 1:  # a one-row text file
            M = M[None, :]
    else:
        try:
            rows = [[float(v) for v in r.split(",") if v.strip()] for r in text.split(";")]
        except ValueError:
            raise LionKError(
                f"{what}={text!r} is not a matrix: write rows separated by ';' and entries by "
                "',' (e.g. 1,2;3,4) or give a .npy/.txt/.csv file"
            ) from None
        if not rows or any(len(r) != len(rows[0]) for r in rows) or not rows[0]:
            raise LionKError(
                f"{what}={text!r}: the rows have different lengths "
                f"({', '.join(str(len(r)) for r in rows)}); every row needs the same number"
            )
        M = np.array(rows, dtype=float)
    if M.ndim != 2 or M.size == 0:
        raise LionKError(f"{what}: expected a matrix, got shape {M.shape}")
    if not np.all(np.isfinite(M)):
        raise LionKError(f"{what}: the matrix has non-finite entries")
    _check_size(M.shape, what)
    return M


def _check_size(shape, what: str) -> None:
    if shape[0] * shape[1] > MAX_ENTRIES:
        raise LionKError(
            f"{what}: a {shape[0]}x{shape[1]} matrix has {shape[0] * shape[1]} entries; at most "
            f"{MAX_ENTRIES} from the CLI (the ODE mode forms the (ab)×(ab) Hessian)"
        )


def build_matrix_problem(
    K: KFunction, objective, params: dict, x0, seed: int
) -> tuple[FlatMatrixK, FrobeniusObjective, np.ndarray]:
    """(K♭, f on vec X, vec X0) for a matrix K. ``objective``: "frobenius" (or a
    `FrobeniusObjective`); ``params``: ``C`` (a matrix) and/or ``shape`` (a, b) — with neither,
    C is random of shape 3×4; ``x0``: None (zero), a matrix or its row-major vec."""
    if isinstance(objective, FrobeniusObjective):
        obj = objective
    else:
        if objective != "frobenius":
            raise LionKError(
                f"K={K.name} acts on matrices: use --objective frobenius (f(X) = ½‖X − C‖²_F "
                f"with --C or --shape/--seed), not {objective!r}"
            )
        unknown = set(params) - {"C", "shape"}
        if unknown:
            raise LionKError(
                f"objective frobenius takes C and shape, not {', '.join(sorted(unknown))}"
            )
        C, shape = params.get("C"), params.get("shape")
        if C is not None:
            C = np.asarray(C, dtype=float)
            if shape is not None and tuple(shape) != C.shape:
                raise LionKError(
                    f"C has shape {C.shape[0]}x{C.shape[1]} but --shape is "
                    f"{shape[0]}x{shape[1]}; give one or make them agree"
                )
        else:
            shape = tuple(shape) if shape is not None else DEFAULT_SHAPE
            C = np.random.default_rng(seed).standard_normal(shape)
        obj = FrobeniusObjective(C)
    a, b = obj.shape
    if x0 is None:
        X0 = np.zeros(a * b)
    else:
        X0 = np.asarray(x0, dtype=float)
        if X0.ndim == 2 and X0.shape[0] == 1 and X0.size == a * b != b:  # one row: row-major vec
            X0 = X0[0]
        if X0.shape not in ((a, b), (a * b,)):
            raise LionKError(
                f"x0 has shape {X0.shape} but X is {a}x{b}: give a {a}x{b} matrix "
                f"(rows separated by ';') or {a * b} numbers (row-major)"
            )
        X0 = X0.reshape(-1)
        if not np.all(np.isfinite(X0)):
            raise LionKError("x0 has non-finite entries")
    return FlatMatrixK(K, (a, b)), obj, X0


def matrix_summary(K, lam: float, x, objective, reference=None) -> dict[str, Any] | None:
    """Singular values of X = mat x (descending), of the optimum X* and of C, with 1/λ (for the
    nuclear K: the bound on ‖X‖_op = σ_1 of the induced constraint); None for a vector K."""
    if not isinstance(K, FlatMatrixK) or not isinstance(objective, FrobeniusObjective):
        return None
    shape = K.event_shape

    def sv(v):
        return np.linalg.svd(np.asarray(v, dtype=float).reshape(shape), compute_uv=False)

    out = {
        "shape": list(shape),
        "singular_values": sv(x).tolist(),
        "inv_lam": 1.0 / lam,
        "singular_values_C": sv(objective.c).tolist(),
        "constraint": K.describe_induced(lam),
    }
    if reference is not None:
        out["singular_values_optimum"] = sv(reference.x).tolist()
    return out


def matrix_lines(summary: dict[str, Any] | None) -> list[str]:
    """The text lines of `matrix_summary` for the reports (none for a vector K)."""
    if summary is None:
        return []
    a, b = summary["shape"]

    def fmt(v):
        return "(" + ", ".join(f"{s:.6g}" for s in v[:8]) + (", …" if len(v) > 8 else "") + ")"

    lines = [
        f"matrix X ∈ R^{a}×{b} (run on vec X, row-major): singular values σ(X) = "
        f"{fmt(summary['singular_values'])}; constraint {summary['constraint']} "
        f"(1/λ = {summary['inv_lam']:.6g}); σ(C) = {fmt(summary['singular_values_C'])}"
    ]
    if "singular_values_optimum" in summary:
        lines.append(
            f"optimum X* of the induced problem: σ(X*) = {fmt(summary['singular_values_optimum'])}"
        )
    return lines
