"""Matrix K (``event_ndim = 2``, e.g. ``nuclear``) in the ODE integrators: a flattening adapter.

The integrators work on a flat state z = (x, m) ∈ R^{2d}. For a matrix K on R^{a×b} the state is
the row-major flattening x = vec(X) ∈ R^{ab} (``X.reshape(-1)``). vec is an isometry of the
Frobenius inner product, ⟨X, Y⟩_F = vec(X)ᵀvec(Y), so every object of the K interface transfers
unchanged:

    K♭(x) = K(X),  ∇K♭(x) = vec ∇K(X),  K♭*(y) = K*(Y),  ∇K♭*(y) = vec ∇K*(Y),
    dist(y, dom K♭*) = dist_F(Y, dom K*),  P_{dom K♭*}(y) = vec P_{dom K*}(Y),
    prox_{tK♭}(v) = vec prox_{tK}(V)

(X = mat(x), Y = mat(y), V = mat(v)), and ∂K♭(x) = vec ∂K(X). `FlatMatrixK` is K♭.
`flatten_objective` does the same for f: ∇f♭(x) = vec ∇f(X), and ∇²f♭ is the (ab)×(ab) matrix of
the linear map H ↦ D∇f(X)[H] in the row-major basis (for f = ½‖X − C‖²_F: the identity).
`FrobeniusQuadratic` is that reference objective.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ...errors import LionKError
from ..kfunc import DOMAIN_TOL, KFunction, NormBallK
from ..xp import Array, FloatArray

__all__ = ["FlatMatrixK", "flatten_objective", "FrobeniusQuadratic", "is_norm_ball"]


def is_norm_ball(K: KFunction) -> bool:
    """K is a norm (K* the indicator of the dual unit ball), directly or through `FlatMatrixK`."""
    return isinstance(K, NormBallK) or isinstance(getattr(K, "base", None), NormBallK)


class FlatMatrixK(KFunction):
    """K♭(x) = K(mat(x)) for a matrix K of event shape (a, b), on vectors x ∈ R^{ab} (module doc).

    Every method reshapes the last axis to (a, b), calls the matrix K and flattens the result
    back; leading batch axes pass through. ``base`` is the matrix K, ``event_shape`` = (a, b).
    """

    name = "flat_matrix"
    event_ndim = 1

    def __init__(self, base: KFunction, event_shape: Iterable[int]) -> None:
        if not isinstance(base, KFunction) or base.event_ndim != 2:
            raise LionKError("FlatMatrixK wraps a matrix K (event_ndim = 2)")
        shape = tuple(int(n) for n in event_shape)
        if len(shape) != 2 or min(shape) < 1:
            raise LionKError(f"event_shape={event_shape!r} must be (a, b) with a, b ≥ 1")
        super().__init__()
        self.base, self.event_shape = base, shape
        self.size = shape[0] * shape[1]
        # instance attributes over the class defaults: the integrators' reports name the real K
        # and see its flags (mypy: KFunction declares them ClassVar)
        self.name = base.name  # type: ignore[misc]
        self.differentiable, self.separable = base.differentiable, False  # type: ignore[misc]
        self.homogeneous, self.even = base.homogeneous, base.even  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"FlatMatrixK({self.base!r}, event_shape={self.event_shape})"

    def info(self) -> dict[str, Any]:
        """The matrix K's description (formulas of K, K*, the induced problem)."""
        return self.base.info()

    def describe_induced(self, lam: float) -> str:
        return self.base.describe_induced(lam)

    def _mat(self, v: ArrayLike) -> NDArray[np.float64]:
        v = np.asarray(v, dtype=float)
        if v.shape[-1:] != (self.size,):
            raise LionKError(
                f"expected a last axis of length {self.size} (= a·b for "
                f"{self.event_shape}), got shape {v.shape}"
            )
        return v.reshape(v.shape[:-1] + self.event_shape)

    def _vec(self, v: ArrayLike) -> NDArray[np.float64]:
        v = np.asarray(v)
        return v.reshape(v.shape[:-2] + (self.size,))

    def K(self, x: Array) -> Array:
        return self.base.K(self._mat(x))

    def grad(self, x: Array) -> Array:
        return self._vec(self.base.grad(self._mat(x)))

    def conj(self, y: Any) -> NDArray[np.float64]:
        return self.base.conj(self._mat(y))

    def conj_grad(self, y: Any) -> NDArray[np.float64]:
        return self._vec(self.base.conj_grad(self._mat(y)))

    def dist_dom_conj(self, y: Any) -> NDArray[np.float64]:
        return self.base.dist_dom_conj(self._mat(y))

    def in_dom_conj(self, y: Any, tol: float = DOMAIN_TOL) -> NDArray[np.bool_]:
        return self.base.in_dom_conj(self._mat(y), tol)

    def project_dom_conj(self, y: Any) -> NDArray[np.float64]:
        return self._vec(self.base.project_dom_conj(self._mat(y)))

    def prox(self, v: Any, t: Any) -> NDArray[np.float64]:
        t = np.asarray(t, dtype=float)
        if t.ndim and t.shape[-1:] == (self.size,):  # an elementwise t: reshape it with v
            t = self._mat(t)
        elif t.ndim:  # one t per point, shape (..., 1)
            t = t[..., None]
        return self._vec(self.base.prox(self._mat(v), t))

    def nonsmooth_coordinates(self, w: ArrayLike, tiny: float) -> NDArray[np.bool_]:
        """All entries when mat(w) has a singular value ≤ tiny (∂‖W‖_tr is the singleton UVᵀ
        exactly when W has full rank min(a, b)), none otherwise."""
        w = np.asarray(w, dtype=float)
        return np.full(w.size, float(np.min(self.singular_values(w))) <= tiny)

    def singular_values(self, w: ArrayLike) -> FloatArray:
        """σ(mat(w)) (descending), for the set-valuedness test of the nuclear norm."""
        return np.linalg.svd(self._mat(w), compute_uv=False)


class FrobeniusQuadratic:
    """f(X) = ½‖X − C‖²_F on matrices: ∇f(X) = X − C, ∇²f = I (on vec, constant).

    Batched: X of shape (..., a, b). With a norm K on matrices and weight decay λ, Lion-K's
    constrained optimum is the Frobenius projection of C onto {‖X‖_* ≤ 1/λ}; for the nuclear K
    (dual norm ‖·‖_op) that is U diag(min(σ_i, 1/λ)) Vᵀ (C = U diag(σ) Vᵀ).
    """

    hess_constant = True

    def __init__(self, C: ArrayLike) -> None:
        self.C = np.asarray(C, dtype=float)
        if self.C.ndim != 2:
            raise LionKError(f"C must be a matrix, got shape {self.C.shape}")

    def f(self, X: ArrayLike) -> np.float64 | NDArray[np.float64]:
        D = np.asarray(X, dtype=float) - self.C
        value: np.float64 | NDArray[np.float64] = 0.5 * np.sum(D * D, axis=(-2, -1))
        return value

    def grad(self, X: ArrayLike) -> NDArray[np.float64]:
        G: NDArray[np.float64] = np.asarray(X, dtype=float) - self.C
        return G

    def hess(self, X: ArrayLike) -> NDArray[np.float64]:
        return np.eye(self.C.size)


class _FlatObjective:
    """f♭, ∇f♭, ∇²f♭ on vec(X) (see `flatten_objective`)."""

    def __init__(
        self,
        grad: Callable[[NDArray[np.float64]], ArrayLike],
        f: Callable[[NDArray[np.float64]], ArrayLike] | None,
        hess: Callable[[NDArray[np.float64]], ArrayLike] | NDArray[np.float64] | None,
        shape: tuple[int, ...],
        constant: bool,
    ) -> None:
        self._grad, self._f, self._hess, self.shape = grad, f, hess, shape
        self.size = shape[0] * shape[1]
        self.hess_constant = constant
        # None marks "not available" for callers that probe getattr(obj, "f" / "hess", None)
        if f is None:
            self.f = None  # type: ignore[method-assign, assignment]
        if hess is None:
            self.hess = None  # type: ignore[method-assign, assignment]

    def _mat(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=float)
        return x.reshape(x.shape[:-1] + self.shape)

    def grad(self, x: ArrayLike) -> NDArray[np.float64]:
        g = np.asarray(self._grad(self._mat(x)), dtype=float)
        return g.reshape(g.shape[:-2] + (self.size,))

    def f(self, x: ArrayLike) -> NDArray[np.float64]:  # noqa: F811  (replaced by None in __init__ when f is unknown)
        return np.asarray(self._f(self._mat(x)), dtype=float)  # type: ignore[misc]  # f is None if _f is

    def hess(self, x: ArrayLike) -> NDArray[np.float64]:  # noqa: F811
        if not callable(self._hess):  # a matrix: not None, or hess is None (see __init__)
            return self._hess  # type: ignore[return-value]
        H = np.asarray(self._hess(self._mat(x)), dtype=float)
        return H.reshape(self.size, self.size)


def flatten_objective(
    objective_or_grad: Any,
    shape: Iterable[int],
    f: Callable[[NDArray[np.float64]], ArrayLike] | None = None,
    hess: ArrayLike | Callable[[NDArray[np.float64]], ArrayLike] | None = None,
) -> _FlatObjective:
    """The objective on vec(X) for a matrix problem of event shape (a, b).

    ``objective_or_grad``: an object with ``grad`` (and optionally ``f``, ``hess``,
    ``hess_constant``) acting on matrices (..., a, b), or a callable ∇f on matrices (then ``f``
    for H). ``hess``: an (ab)×(ab) matrix (constant ∇²f in the row-major basis: entry [i, j] =
    ∂(vec ∇f)_i/∂(vec X)_j), or a callable X ↦ that matrix; without it, the objective's ``hess``,
    else None (the integrator then uses central differences of ∇f♭).
    Returns an object with ``grad``, ``f`` and ``hess`` on vectors of length ab.
    """
    shape = tuple(int(n) for n in shape)
    size = shape[0] * shape[1]
    obj = objective_or_grad
    if hasattr(obj, "grad") and callable(obj.grad):
        grad = obj.grad
        f = f if f is not None else getattr(obj, "f", None)
        if hess is None and callable(getattr(obj, "hess", None)):
            hess, constant = obj.hess, bool(getattr(obj, "hess_constant", False))
        else:
            constant = hess is not None and not callable(hess)
    elif callable(obj):
        grad, constant = obj, hess is not None and not callable(hess)
    else:
        raise LionKError("objective_or_grad must be an objective or a callable ∇f on matrices")
    if hess is not None and not callable(hess):
        hess = np.asarray(hess, dtype=float)
        if hess.shape != (size, size):
            raise LionKError(
                f"hess for {shape} matrices must be ({size}, {size}) (row-major vec), "
                f"got {hess.shape}"
            )
    return _FlatObjective(grad, f, hess, shape, constant)
