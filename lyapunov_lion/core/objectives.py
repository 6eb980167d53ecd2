"""Objectives f for Lion-K runs: value, exact gradient, smoothness constant, registry.

Every objective evaluates a batch: ``f(x)`` reduces the last axis (the parameter vector) and
keeps the leading batch axes; ``grad(x)`` has the shape of ``x``. Floating inputs keep their dtype
(float32 in, float32 out); integer inputs and Python lists are promoted to float64. A last axis
that does not match ``dim`` raises `LionKError`.

Built-ins (``make_objective(name, **params)``):

==============  =============================================================  =====================
``toy``         f = (x1 − 1.5)² + x2²  (the paper's Fig. 1 problem)            L = 2
``quadratic``   f = ½ (x − c)ᵀ A (x − c), A symmetric positive definite        L = λ_max(A)
``rosenbrock``  f = (a − x1)² + b (x2 − x1²)²,  a = 1, b = 100                 L = None (not global)
``logistic``    f = (1/n) Σ_i log(1 + exp(−y_i a_iᵀ x)), generated data        L = ‖X‖₂²/(4n)
``expr``        a user expression in x1, x2, ... (parsed safely, see expr.py)  L if ∇²f is constant
==============  =============================================================  =====================

``make_objective("(x1 - 1)**2 + 3*x2**2")`` builds an ``expr`` objective directly.
The built-ins also give the exact Hessian ``hess(x)`` (batched: shape ``x.shape[:-1] + (d, d)``)
and ``hess_constant`` (True when ∇f is affine).
`StochasticGradient` wraps any objective and adds N(0, σ²) noise to its gradient.
"""

from __future__ import annotations

import abc
import inspect
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import LionKError
from .xp import Array, FloatArray, Namespace, array_namespace

if TYPE_CHECKING:  # sympy (≈ 0.4 s to import) only where an expression objective is built
    import sympy

    from .expr import ParsedExpression


def _as_float_array(x: Array) -> tuple[Array, Namespace]:
    """x as a floating array of its own namespace (ints and lists become float64)."""
    xp = array_namespace(x)
    if xp is np:
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(np.float64)
        return x, np
    if not xp.isdtype(x.dtype, "real floating"):
        x = xp.astype(x, xp.float64)
    return x, xp


class Objective(abc.ABC):
    """A differentiable loss f: R^dim -> R evaluated on batches (last axis = parameters).

    Attributes: ``name``; ``dim`` (None = any dimension); ``formula`` (text); ``lipschitz``, an
    L with ‖∇f(x) − ∇f(y)‖₂ ≤ L‖x − y‖₂ for all x, y (None when no global constant is known);
    ``default_x0``, a starting point (a float64 vector).
    """

    name: ClassVar[str] = ""
    dim: int | None = None
    formula: str = ""
    lipschitz: float | None = None

    def __call__(self, x: Array) -> Array:
        return self.f(x)

    def _check(self, x: Array) -> tuple[Array, Namespace]:
        x, xp = _as_float_array(x)
        if x.ndim == 0:
            raise LionKError(
                f"objective {self.name!r}: x must have at least one axis (the "
                "parameter vector), got a scalar"
            )
        if self.dim is not None and x.shape[-1] != self.dim:
            raise LionKError(
                f"objective {self.name!r} is {self.dim}-dimensional but x has last "
                f"axis of length {x.shape[-1]}; give points of shape (..., {self.dim})"
            )
        return x, xp

    def f(self, x: Array) -> Array:
        """f(x), reduced over the last axis (shape ``x.shape[:-1]``, dtype of x)."""
        x, xp = self._check(x)
        return self._f(x, xp)

    def grad(self, x: Array, out: FloatArray | None = None) -> Array:
        """∇f(x), exact, with the shape and dtype of x.

        ``out``: a numpy array of x's shape and dtype to write ∇f(x) into (the hot loop of
        `run_discrete`); the built-ins then allocate nothing (``_grad_into``).
        """
        if (
            out is not None
            and type(x) is np.ndarray
            and x.shape == out.shape
            and x.dtype == out.dtype
            and x.dtype.kind == "f"
            and x.ndim
            and (self.dim is None or x.shape[-1] == self.dim)
        ):
            return self._grad_into(x, out)
        x, xp = self._check(x)
        if out is None:
            return self._grad(x, xp)
        out[...] = self._grad(x, xp)
        return out

    def _grad_into(self, x: FloatArray, out: FloatArray) -> FloatArray:
        """∇f(x) written into ``out`` (x: a checked numpy floating array of out's shape)."""
        np.copyto(out, self._grad(x, np))
        return out

    @abc.abstractmethod
    def _f(self, x: Array, xp: Namespace) -> Array: ...

    @abc.abstractmethod
    def _grad(self, x: Array, xp: Namespace) -> Array: ...

    @property
    def default_x0(self) -> NDArray[np.float64]:
        """A starting point (float64). Subclasses override it; the base uses the zero vector."""
        if self.dim is None:
            raise LionKError(f"objective {self.name!r} has no fixed dimension; give x0")
        return np.zeros(self.dim)

    def lipschitz_constant(self) -> float:
        """L, the Lipschitz constant of ∇f; `LionKError` when f has none (``lipschitz`` None)."""
        if self.lipschitz is None:
            raise LionKError(f"objective {self.name}: ∇f has no global Lipschitz constant")
        return self.lipschitz

    def isotropic_quadratic(self) -> tuple[float, NDArray[np.float64]] | None:
        """``(a, c)`` when f(x) = a‖x − c‖² + const with a > 0 (closed-form prox optimum), else
        None."""
        return None

    def info(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {
            "name": self.name,
            "dim": self.dim,
            "formula": self.formula,
            "lipschitz": self.lipschitz,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, f = {self.formula})"


_REGISTRY: dict[str, type[Objective]] = {}


def register_objective(cls: type[Objective]) -> type[Objective]:
    """Class decorator: make ``cls`` available by ``cls.name`` to `make_objective`."""
    if not cls.name:
        raise LionKError(f"{cls.__name__} needs a non-empty class attribute `name`")
    _REGISTRY[cls.name] = cls
    return cls


def available_objectives() -> dict[str, type[Objective]]:
    """The registered objective classes by name."""
    return dict(_REGISTRY)


# --------------------------------------------------------------------------------------------
# Built-ins
# --------------------------------------------------------------------------------------------
@register_objective
class Toy(Objective):
    """f(x) = (x1 − 1.5)² + x2² (paper Fig. 1), ∇f = (2(x1 − 1.5), 2 x2), L = 2.

    Minimiser (1.5, 0).
    """

    name = "toy"

    def __init__(self) -> None:
        self.dim = 2
        self.formula = "(x1 − 1.5)² + x2²"
        self.lipschitz = 2.0
        self.c = np.array([1.5, 0.0])
        self._into: tuple[Any, ...] = (None,)

    def _f(self, x: Array, xp: Namespace) -> Array:
        return (x[..., 0] - 1.5) ** 2 + x[..., 1] ** 2

    def _grad(self, x: Array, xp: Namespace) -> Array:
        return 2 * (x - xp.asarray(self.c, dtype=x.dtype))  # x2 − 0 = x2 exactly

    def _grad_into(self, x: FloatArray, out: FloatArray) -> FloatArray:
        key = (x.dtype, x.shape)
        if self._into[0] != key:  # c broadcast to x's shape and 2 in x's dtype, made once: a
            # ufunc over contiguous operands, not a short row broadcast over a batch
            self._into = (
                key,
                np.ascontiguousarray(np.broadcast_to(self.c.astype(x.dtype), x.shape)),
                np.asarray(2, dtype=x.dtype),
            )
        _, c, two = self._into
        np.subtract(x, c, out=out)
        g: FloatArray = np.multiply(out, two, out=out)
        return g

    hess_constant = True

    def hess(self, x: Array) -> Array:
        """∇²f = 2I, batched: shape ``x.shape[:-1] + (2, 2)``, dtype of x."""
        x, xp = self._check(x)
        return _batched_matrix(2.0 * np.eye(2), x)

    @property
    def default_x0(self) -> NDArray[np.float64]:
        # A start outside every box ‖x‖_∞ ≤ 1/λ with λ ≥ 0.5 and away from the minimiser, so a
        # run shows both phases of the paper (reach the constraint, then slide on it).
        return np.array([-2.0, 2.0])

    def isotropic_quadratic(self) -> tuple[float, NDArray[np.float64]]:
        return 1.0, self.c.copy()


@register_objective
class Quadratic(Objective):
    """f(x) = ½ (x − c)ᵀ A (x − c), ∇f = A (x − c), L = λ_max(A), minimiser c.

    ``A``: a symmetric positive definite matrix, a vector (diagonal of A) or a scalar (a·I, needs
    ``dim``); ``c`` the centre (default zero). Default: A = diag(1, 10), c = (1, 0.5).
    """

    name = "quadratic"
    dim: int

    def __init__(
        self, A: ArrayLike | None = None, c: ArrayLike | None = None, dim: int | None = None
    ) -> None:
        if A is None:
            A = np.diag([1.0, 10.0]) if dim is None else np.eye(int(dim))
            if c is None and dim is None:
                c = np.array([1.0, 0.5])
        A = np.asarray(A, dtype=float)
        if A.ndim == 0:
            if dim is None:
                dim = 1 if c is None else np.asarray(c).size
            A = float(A) * np.eye(int(dim))
        elif A.ndim == 1:
            A = np.diag(A)
        if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] == 0:
            raise LionKError(f"quadratic: A must be a square matrix, got shape {A.shape}")
        n = A.shape[0]
        if dim is not None and int(dim) != n:
            raise LionKError(f"quadratic: dim={dim} does not match A of shape {A.shape}")
        if not np.all(np.isfinite(A)):
            raise LionKError("quadratic: A has non-finite entries")
        if not np.allclose(A, A.T, rtol=1e-12, atol=1e-12 * np.abs(A).max()):
            raise LionKError("quadratic: A must be symmetric (use (A + A.T)/2)")
        eig = np.linalg.eigvalsh(A)
        if eig[0] <= 0:
            raise LionKError(
                f"quadratic: A must be positive definite; its smallest eigenvalue is {eig[0]:.3g}"
            )
        c = np.zeros(n) if c is None else np.asarray(c, dtype=float).reshape(-1)
        if c.shape != (n,):
            raise LionKError(f"quadratic: c must have {n} entries, got {c.size}")
        self.A, self.c, self.dim = 0.5 * (A + A.T), c, n
        self.lipschitz = float(eig[-1])
        self.formula = "½ (x − c)ᵀ A (x − c)"

    def _f(self, x: Array, xp: Namespace) -> Array:
        d = x - xp.asarray(self.c, dtype=x.dtype)
        return 0.5 * xp.sum(d * (d @ xp.asarray(self.A, dtype=x.dtype)), axis=-1)

    def _grad(self, x: Array, xp: Namespace) -> Array:
        d = x - xp.asarray(self.c, dtype=x.dtype)
        return d @ xp.asarray(self.A, dtype=x.dtype)  # A symmetric: (A d)ᵀ = dᵀ A

    def _grad_into(self, x: FloatArray, out: FloatArray) -> FloatArray:
        key = (x.dtype, x.shape)
        cache = self.__dict__.setdefault("_into_cache", {})
        if key not in cache:  # c, A in x's dtype and a scratch for d = x − c, made once
            cache.clear()
            cache[key] = (self.c.astype(x.dtype), self.A.astype(x.dtype), np.empty_like(x))
        c, A, d = cache[key]
        np.subtract(x, c, out=d)
        return np.matmul(d, A, out=out)

    hess_constant = True

    def hess(self, x: Array) -> Array:
        """∇²f = A, batched: shape ``x.shape[:-1] + (d, d)``, dtype of x."""
        x, xp = self._check(x)
        return _batched_matrix(self.A, x)

    @property
    def default_x0(self) -> NDArray[np.float64]:
        return np.zeros(self.dim) if np.any(self.c != 0) else np.ones(self.dim)

    def isotropic_quadratic(self) -> tuple[float, NDArray[np.float64]] | None:
        a = self.A[0, 0]
        if np.array_equal(self.A, a * np.eye(self.dim)):
            return 0.5 * float(a), self.c.copy()
        return None

    def info(self) -> dict[str, Any]:
        return {**super().info(), "A": self.A.tolist(), "c": self.c.tolist()}


@register_objective
class Rosenbrock(Objective):
    """f = (a − x1)² + b (x2 − x1²)², ∇f = (−2(a − x1) − 4b x1 (x2 − x1²), 2b (x2 − x1²)).

    Minimiser (a, a²). ∇f is not globally Lipschitz (lipschitz = None). Defaults a = 1, b = 100.
    """

    name = "rosenbrock"

    def __init__(self, a: float = 1.0, b: float = 100.0) -> None:
        self.a, self.b = float(a), float(b)
        if not (np.isfinite(self.a) and np.isfinite(self.b) and self.b > 0):
            raise LionKError(f"rosenbrock: need finite a and b > 0, got a={a}, b={b}")
        self.dim = 2
        self.formula = f"({self.a:g} − x1)² + {self.b:g}(x2 − x1²)²"
        self.lipschitz = None

    def _f(self, x: Array, xp: Namespace) -> Array:
        x1, x2 = x[..., 0], x[..., 1]
        return (self.a - x1) ** 2 + self.b * (x2 - x1 * x1) ** 2

    def _grad(self, x: Array, xp: Namespace) -> Array:
        x1, x2 = x[..., 0], x[..., 1]
        r = x2 - x1 * x1
        return xp.stack([-2 * (self.a - x1) - 4 * self.b * x1 * r, 2 * self.b * r], axis=-1)

    def _grad_into(self, x: FloatArray, out: FloatArray) -> FloatArray:
        x1, x2 = x[..., 0], x[..., 1]
        r = x2 - x1 * x1
        np.subtract(-2 * (self.a - x1), 4 * self.b * x1 * r, out=out[..., 0])
        np.multiply(2 * self.b, r, out=out[..., 1])
        return out

    def hess(self, x: Array) -> Array:
        """∇²f = [[2 − 4b(x2 − x1²) + 8b x1², −4b x1], [−4b x1, 2b]], shape (..., 2, 2)."""
        x, xp = self._check(x)
        x1, x2 = x[..., 0], x[..., 1]
        h11 = 2 - 4 * self.b * (x2 - x1 * x1) + 8 * self.b * x1 * x1
        h12 = -4 * self.b * x1
        h22 = xp.full(x1.shape, 2 * self.b, dtype=x.dtype)
        return xp.stack([xp.stack([h11, h12], axis=-1), xp.stack([h12, h22], axis=-1)], axis=-2)

    @property
    def default_x0(self) -> NDArray[np.float64]:
        return np.array([-1.2, 1.0])


def _batched_matrix(M: Array, x: Array) -> Array:
    """The constant matrix M broadcast to ``x.shape[:-1] + M.shape`` in x's namespace and dtype."""
    xp = array_namespace(x)
    M = xp.asarray(np.asarray(M), dtype=x.dtype)
    return xp.broadcast_to(M, tuple(x.shape[:-1]) + tuple(M.shape))


def _log_sigmoid_neg(z: FloatArray) -> FloatArray:
    """log(1 + exp(−z)) computed stably (= logaddexp(0, −z))."""
    return np.logaddexp(0.0, -z)


@register_objective
class Logistic(Objective):
    """Mean logistic loss f(x) = (1/n) Σ_i log(1 + exp(−y_i a_iᵀ x)),
    ∇f = −(1/n) Xᵀ (y ⊙ σ(−y ⊙ Xx)).

    Data (reproducible from ``seed``): rows a_i ~ N(0, I_d), a true weight w ~ N(0, I_d) rescaled
    to norm ``scale``, labels y_i = sign(a_iᵀw + ``noise``·ξ_i), ξ_i ~ N(0, 1). With noise > 0 the
    classes overlap, so the unconstrained minimiser is finite ("separable-ish"); noise = 0 gives
    separable data whose unconstrained infimum is not attained. L = ‖X‖₂²/(4n) (σ' ≤ 1/4).
    numpy only.
    """

    name = "logistic"
    dim: int

    def __init__(
        self, n: int = 200, d: int = 5, seed: int = 0, noise: float = 1.0, scale: float = 2.0
    ) -> None:
        n, d = int(n), int(d)
        if n < 1 or d < 1:
            raise LionKError(f"logistic: need n ≥ 1 samples and d ≥ 1 features, got n={n}, d={d}")
        if not (noise >= 0 and scale > 0):
            raise LionKError(f"logistic: need noise ≥ 0 and scale > 0, got {noise}, {scale}")
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d))
        w = rng.standard_normal(d)
        w *= scale / max(float(np.linalg.norm(w)), 1e-300)
        y = np.where(X @ w + noise * rng.standard_normal(n) >= 0, 1.0, -1.0)
        self.X, self.y, self.w_true = X, y, w
        self.n, self.dim, self.seed = n, d, seed
        self.lipschitz = float(np.linalg.norm(X, 2) ** 2 / (4 * n))
        self.formula = f"(1/{n}) Σ log(1 + exp(−y_i a_iᵀx)) (seed {seed})"

    def _data(self, x: Array) -> tuple[FloatArray, FloatArray]:
        if not isinstance(x, np.ndarray):
            raise LionKError("logistic objective is numpy only; convert x with np.asarray")
        return self.X.astype(x.dtype, copy=False), self.y.astype(x.dtype, copy=False)

    def _f(self, x: Array, xp: Namespace) -> Array:
        X, y = self._data(x)
        return np.mean(_log_sigmoid_neg((x @ X.T) * y), axis=-1).astype(x.dtype, copy=False)

    def _grad(self, x: Array, xp: Namespace) -> Array:
        X, y = self._data(x)
        z = (x @ X.T) * y
        s = 0.5 * (1.0 - np.tanh(0.5 * z))  # σ(−z), stable for large |z|
        return (-(s * y) @ X / self.n).astype(x.dtype, copy=False)

    def hess(self, x: Array) -> Array:
        """∇²f = (1/n) Xᵀ diag(σ(z)(1 − σ(z))) X, z_i = y_i a_iᵀx (y_i² = 1), shape (..., d, d)."""
        x, xp = self._check(x)
        X, y = self._data(x)
        z = (x @ X.T) * y
        w = 0.25 * (1.0 - np.tanh(0.5 * z) ** 2)  # σ(z)(1 − σ(z)) = ¼ sech²(z/2), stable
        return (np.einsum("...i,ij,ik->...jk", w, X, X) / self.n).astype(x.dtype, copy=False)

    @property
    def default_x0(self) -> NDArray[np.float64]:
        return np.zeros(self.dim)

    def info(self) -> dict[str, Any]:
        return {**super().info(), "n": self.n, "seed": self.seed}


def _ae(e: sympy.Expr) -> sympy.Expr:
    """The almost-everywhere derivative: Dirac deltas (from differentiating sign/Heaviside) → 0."""
    import sympy

    return e.replace(lambda a: isinstance(a, sympy.DiracDelta), lambda a: sympy.S.Zero)


def _partials(expr: sympy.Expr, variables: Sequence[sympy.Symbol]) -> list[sympy.Expr]:
    """a.e. ∂expr/∂v for each v, differentiating only the terms of a sum that contain v (a sum
    of n terms in n variables costs O(n), not O(n²))."""
    import sympy

    terms = expr.args if isinstance(expr, sympy.Add) else (expr,)
    by_var: dict[sympy.Symbol, list[sympy.Expr]] = {}
    for t in terms:
        for v in t.free_symbols:
            by_var.setdefault(v, []).append(t)
    return [_ae(sympy.Add(*[sympy.diff(t, v) for t in by_var.get(v, ())])) for v in variables]


@register_objective
class ExprObjective(Objective):
    """f given as an expression in x1, x2, ... (or x, one-dimensional), parsed by
    `parse_expression`.

    ∇f is the sympy derivative (Dirac deltas from differentiating sign/Heaviside are replaced by 0,
    i.e. the almost-everywhere derivative; diff(Abs(x)) = sign(x) is a subgradient selection).
    Both are compiled with ``sympy.lambdify`` and evaluated on a batch at once. ``dim`` may exceed
    the largest index used (unused variables). L = the largest |eigenvalue| of ∇²f when ∇²f is
    constant (quadratic f), else None. numpy only.
    """

    name = "expr"

    def __init__(self, expression: str | ParsedExpression, dim: int | None = None) -> None:
        import sympy

        from .expr import ParsedExpression, lambdify_numpy, parse_expression

        if isinstance(expression, ParsedExpression):
            parsed = expression
        else:
            parsed = parse_expression(expression)
        n = parsed.dim
        if dim is not None:
            dim = int(dim)
            if dim < n:
                raise LionKError(
                    f"expression uses {n} variable(s) ({', '.join(parsed.names)}) but dim={dim}"
                )
            if dim > n:
                if parsed.names == ("x",):
                    raise LionKError(
                        "an objective in x is one-dimensional; write it in x1, x2, ... for dim > 1"
                    )
                parsed = parse_expression(parsed.text, variables=dim)
        if parsed.dim == 0:
            raise LionKError(
                f"expression {parsed.text!r} has no variable; give dim= or use x1, ..."
            )
        self.parsed = parsed
        self.dim = parsed.dim
        self.formula = parsed.text
        self.expr = parsed.expr
        # only the variables that occur in f have a non-zero derivative: d = 10⁴ unused variables
        # cost nothing (∂f/∂x_i = 0 is not compiled)
        free = parsed.expr.free_symbols
        self._used = [i for i, v in enumerate(parsed.variables) if v in free]
        grads = _partials(parsed.expr, [parsed.variables[i] for i in self._used])
        self.grad_exprs = tuple(
            grads[self._used.index(i)] if i in self._used else sympy.S.Zero for i in range(self.dim)
        )
        self._args = [parsed.variables[i] for i in self._used]  # compiled functions take these
        self._fn = lambdify_numpy(parsed.expr, self._args)
        self._gfn = sympy.lambdify(self._args, grads, modules="numpy")  # one compiled function
        # ∇²f sparse: entry (i, j) only for x_j occurring in ∂f/∂x_i; compiled on first `hess`
        self._hess_entries: dict[tuple[int, int], Any] = {}
        for i, g in zip(self._used, grads, strict=True):
            row = [j for j in self._used if parsed.variables[j] in g.free_symbols]
            self._hess_entries.update(
                zip(
                    ((i, j) for j in row),
                    _partials(g, [parsed.variables[j] for j in row]),
                    strict=True,
                )
            )
        self._hfns: Callable[..., list[Any]] | None = None  # compiled on the first `hess` call
        self.lipschitz = self._constant_hessian_norm(grads)
        # ∇f affine (constant ∇²f, no sign/Abs/Piecewise whose a.e. derivative hides a jump)
        self.hess_constant = self.lipschitz is not None

    @property
    def hess_exprs(self) -> tuple[tuple[sympy.Expr, ...], ...]:
        """∇²f as a dense d×d table of sympy expressions (zeros where ∂f/∂x_i ∌ x_j)."""
        import sympy

        d = self.dim
        assert d is not None  # an expression objective has a fixed dimension
        return tuple(
            tuple(self._hess_entries.get((i, j), sympy.S.Zero) for j in range(d)) for i in range(d)
        )

    def _constant_hessian_norm(self, grads: Sequence[sympy.Expr]) -> float | None:
        """max |eigenvalue| of ∇²f if it is constant (only the block of used variables: the rest
        is zero), else None."""
        import sympy

        if any(
            g.has(sympy.Piecewise, sympy.Heaviside, sympy.sign, sympy.Abs, sympy.Max, sympy.Min)
            for g in grads
        ):
            return None
        if any(h.free_symbols for h in self._hess_entries.values()):
            return None
        pos = {i: k for k, i in enumerate(self._used)}
        Hn = np.zeros((len(self._used),) * 2)
        for (i, j), h in self._hess_entries.items():
            Hn[pos[i], pos[j]] = float(h)
        if Hn.size == 0:
            return 0.0
        return float(np.max(np.abs(np.linalg.eigvalsh(0.5 * (Hn + Hn.T)))))

    def _cols(self, x: Array) -> list[FloatArray]:
        if not isinstance(x, np.ndarray):
            raise LionKError("expression objectives are numpy only; convert x with np.asarray")
        return [x[..., i] for i in self._used]

    def _f(self, x: Array, xp: Namespace) -> Array:
        with np.errstate(all="ignore"):  # NaN/inf are returned as they are; runners detect them
            out = self._fn(*self._cols(x)) if self._used else self._fn()
        return np.broadcast_to(np.asarray(out, dtype=x.dtype), x.shape[:-1]).copy()

    def _grad(self, x: Array, xp: Namespace) -> Array:
        cols = self._cols(x)
        out = np.zeros(x.shape, dtype=x.dtype)
        with np.errstate(all="ignore"):
            for i, g in zip(self._used, self._gfn(*cols), strict=True):
                out[..., i] = g
        return out

    def hess(self, x: Array) -> Array:
        """∇²f from sympy's second derivatives (Dirac deltas → 0, the a.e. Hessian), lambdified
        entry by entry where non-zero (compiled on the first call); shape
        ``x.shape[:-1] + (d, d)``, dtype of x."""
        x, xp = self._check(x)
        if self._hfns is None:
            import sympy

            self._hfns = sympy.lambdify(
                self._args, list(self._hess_entries.values()), modules="numpy"
            )
        cols = self._cols(x)
        out = np.zeros(x.shape + (self.dim,), dtype=x.dtype)
        with np.errstate(all="ignore"):
            for (i, j), h in zip(self._hess_entries, self._hfns(*cols), strict=True):
                out[..., i, j] = h
        return out

    def info(self) -> dict[str, Any]:
        return {**super().info(), "grad": [str(g) for g in self.grad_exprs]}


# --------------------------------------------------------------------------------------------
# Noise and the factory
# --------------------------------------------------------------------------------------------
class StochasticGradient(Objective):
    """The objective ``obj`` with a noisy gradient: grad(x) = ∇f(x) + σ ξ, ξ ~ N(0, I).

    f, dim, formula and lipschitz are those of ``obj``. The noise comes from this object's own
    ``numpy.random.Generator`` seeded with ``seed``: the same seed gives the same sequence of
    gradients; `reset` restarts the sequence.
    """

    def __init__(self, obj: Objective, sigma: float, seed: int | None = 0) -> None:
        if not isinstance(obj, Objective):
            raise LionKError(f"StochasticGradient wraps an Objective, got {type(obj).__name__}")
        sigma = float(sigma)
        if not (np.isfinite(sigma) and sigma >= 0):
            raise LionKError(f"noise level sigma={sigma} must be a finite number ≥ 0")
        self.obj, self.sigma, self.seed = obj, sigma, seed
        self.name = obj.name  # type: ignore[misc]  # the wrapper is named after what it wraps
        self.dim, self.formula, self.lipschitz = obj.dim, obj.formula, obj.lipschitz
        self.rng = np.random.default_rng(seed)

    def reset(self) -> None:
        """Restart the noise sequence from ``seed``."""
        self.rng = np.random.default_rng(self.seed)

    def _f(self, x: Array, xp: Namespace) -> Array:
        return self.obj.f(x)

    def _grad(self, x: Array, xp: Namespace) -> Array:
        g = self.obj.grad(x)
        noise = self.rng.standard_normal(tuple(x.shape))
        return g + xp.asarray(self.sigma * noise, dtype=g.dtype)

    def _grad_into(self, x: FloatArray, out: FloatArray) -> FloatArray:
        self.obj.grad(x, out=out)
        noise = self.rng.standard_normal(x.shape)
        return np.add(out, np.asarray(self.sigma * noise, dtype=out.dtype), out=out)

    @property
    def default_x0(self) -> NDArray[np.float64]:
        return self.obj.default_x0

    def isotropic_quadratic(self) -> tuple[float, NDArray[np.float64]] | None:
        return self.obj.isotropic_quadratic()

    def info(self) -> dict[str, Any]:
        return {**self.obj.info(), "sigma": self.sigma, "seed": self.seed}


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VARIABLE_RE = re.compile(r"x([1-9][0-9]*)?")


def make_objective(spec: Objective | str, **kw: Any) -> Objective:
    """Build an objective from a registered name (``make_objective('quadratic', A=..., c=...)``)
    or from an expression string (``make_objective('(x1 - 1)**2 + x2**2', dim=3)``).

    An `Objective` instance is returned unchanged. Unknown names and unknown parameters raise
    `LionKError` listing the valid ones.
    """
    if isinstance(spec, Objective):
        if kw:
            raise LionKError("parameters cannot be given together with an Objective instance")
        return spec
    if not isinstance(spec, str):
        raise LionKError(
            f"an objective is a name or an expression string, got {type(spec).__name__}"
        )
    text = spec.strip()
    cls = _REGISTRY.get(text)
    if cls is None:
        if _NAME_RE.fullmatch(text) and not _VARIABLE_RE.fullmatch(text):
            raise LionKError(
                f"unknown objective {text!r}; choose one of: {', '.join(_REGISTRY)}, "
                "or give an expression in x1, x2, ... such as '(x1 - 1.5)**2 + x2**2'"
            )
        cls, kw = ExprObjective, {"expression": spec, **kw}
    params = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    unknown = sorted(set(kw) - set(params))
    if unknown:
        raise LionKError(
            f"objective {cls.name!r} has no parameter {', '.join(unknown)}; its "
            f"parameters: {', '.join(params) or 'none'}"
        )
    return cls(**kw)
