"""∇K in torch: turn a K (catalog name, K object, verified K) into the update rule LionK applies.

Three kinds of rule, by how K couples the coordinates of a parameter tensor:

* `ElementwiseRule` — a separable K = Σ k(x_i): ∇K acts on every entry independently, so any
  tensor (and any list of tensors, for the multi-tensor path) is a flat vector. Catalog K have
  in-place torch kernels (``sign_`` for l1, ``clamp_`` for huber, ``tanh_`` for logcosh, ...);
  a verified expression K (`lionk verify --save-K`) is compiled from sympy to torch, no numpy.
* `TensorRule` — a norm-type or other non-separable vector K (l2, lp, linf, logsumexp): the whole
  tensor, flattened, is one vector x and ∇K(x) is taken on it (``K.grad`` is array-API generic).
* `MatrixRule` — nuclear: each parameter is one matrix, reshaped to (shape[0], rest) (a conv
  kernel (out, in, kh, kw) becomes (out, in·kh·kw); a vector of n entries is (n, 1), for which
  UVᵀ = x/‖x‖₂), and ∇K = U Vᵀ, the polar factor, either exact (SVD, default) or by Newton–Schulz.

Every rule works in the parameter's dtype and device; norm-type rules compute in float32 when
the parameter is float16/bfloat16 (torch has no half-precision SVD/argmax kernels on CPU) and
cast back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..core.capabilities import ExpressionBacked
from ..core.kfunc import KFunction, SeparableK, make_K
from ..errors import LionKError

NS_COEFFS = (3.4445, -4.7750, 2.0315)
"""The quintic Newton–Schulz coefficients (a, b, c) of the Muon reference implementation."""

POLAR_METHODS = ("exact", "newton_schulz")


def K_from_spec(spec: Any) -> KFunction:
    """A K from a catalog name with parameters (``"huber:delta=0.5"``), a `VerifyReport` of
    ``verify(...)`` (built with `K_from_report`), or a K object (returned as is)."""
    if isinstance(spec, KFunction):
        return spec
    if type(spec).__name__ == "VerifyReport":  # verify(...) in Python; import only when used
        from ..symbolic.kbuild import K_from_report

        return K_from_report(spec)
    if not isinstance(spec, str):
        raise LionKError(
            f"K={spec!r}: pass a catalog name such as 'l1' or 'huber:delta=0.5', a K "
            "object, a verify(...) report, or a verified K "
            "(lyapunov_lion.symbolic.load_K('k.json'))"
        )
    name, _, rest = spec.partition(":")
    params: dict[str, float] = {}
    for item in (s for s in rest.split(",") if s.strip()):
        key, eq, value = item.partition("=")
        try:
            params[key.strip()] = float(value) if eq else float("nan")
        except ValueError:
            raise LionKError(
                f"K={spec!r}: parameter {item.strip()!r} is not of the form "
                "name=number (e.g. huber:delta=0.5)"
            ) from None
        if not eq:
            raise LionKError(
                f"K={spec!r}: parameter {item.strip()!r} is not of the form "
                "name=number (e.g. huber:delta=0.5)"
            )
    return make_K(name.strip(), **params)


def K_label(K: KFunction) -> str:
    """A short text naming K: ``huber:delta=0.5``, ``l1``, or ``expr:x**4/4 + Abs(x)``."""
    if isinstance(K, ExpressionBacked) and K.expression is not None:
        return f"expr:{K.expression}"
    params = ",".join(f"{k}={v:g}" for k, v in K.param_values.items())
    return f"{K.name}:{params}" if params else K.name


# --------------------------------------------------------------------------------------------
# elementwise K
# --------------------------------------------------------------------------------------------
def _xp():
    from array_api_compat import torch as xp_torch

    return xp_torch


def _sign_(c):
    return c.sign_()


def _identity_(c):
    return c


def _tanh_(c):
    return c.tanh_()


def _catalog_kernels(K: KFunction) -> tuple[Callable | None, Callable | None]:
    """(in-place kernel on one tensor, in-place kernel on a list) for the catalog separable K;
    (None, None) for other K. Each computes the catalog's ∇K formula (same operations)."""
    from ..core import catalog as cat

    if type(K) is cat.L1 or (type(K) is cat.Deadzone and K.e == 0):
        return _sign_, torch._foreach_sign_
    if type(K) is cat.SqL2:
        return _identity_, lambda cs: cs
    if type(K) is cat.LogCosh:
        return _tanh_, torch._foreach_tanh_
    if type(K) is cat.Huber:
        d = K.delta

        def huber_(c):
            return c.clamp_(-d, d)

        def huber_list_(cs):
            torch._foreach_clamp_min_(cs, -d)
            torch._foreach_clamp_max_(cs, d)

        return huber_, huber_list_
    if type(K) is cat.Relativistic:
        return (lambda c: c.div_(torch.sqrt(1 + c * c))), None
    if type(K) is cat.PowerP:
        p1 = K.p - 1
        return (lambda c: c.copy_(torch.sign(c) * torch.abs(c) ** p1)), None
    if type(K) is cat.Deadzone:
        e = K.e
        return (lambda c: c.copy_(torch.sign(c) * (torch.abs(c) > e).to(c.dtype))), None
    if type(K) is cat.L1PlusSq:
        return (lambda c: c.add_(torch.sign(c))), None
    return None, None


def _torch_where(dtype):
    """``where`` for sympy's torch printer: scalar branches become tensors of ``dtype`` (torch
    would otherwise build them in the default float32 and lose float64 precision)."""

    def where(cond, a, b):
        if not torch.is_tensor(a):
            a = torch.tensor(a, dtype=dtype, device=cond.device)
        if not torch.is_tensor(b):
            b = torch.tensor(b, dtype=dtype, device=cond.device)
        return torch.where(cond, a, b)

    return where


@dataclass
class CompiledExpression:
    """k'(x) of a verified separable K, compiled by sympy's torch printer (one function per
    dtype)."""

    expr: Any
    text: str
    _fns: dict = field(default_factory=dict)

    def __call__(self, x):
        import sympy as sp

        from ..symbolic.symbols import X

        fn = self._fns.get(x.dtype)
        if fn is None:
            fn = sp.lambdify(X, self.expr, modules=[{"where": _torch_where(x.dtype)}, "torch"])
            self._fns[x.dtype] = fn
        try:
            out = fn(x)
        except (TypeError, AttributeError, NameError) as exc:
            raise LionKError(
                f"∇K of the verified K {self.text!r} cannot be evaluated in torch "
                f"({exc}); use a catalog K or a simpler expression"
            ) from None
        if not torch.is_tensor(out):
            out = torch.full_like(x, float(out))
        return out.to(x.dtype)


def compile_expression_grad(K: ExpressionBacked) -> CompiledExpression:
    """The torch k' of a K built by `lyapunov_lion.symbolic.K_from_report` (least-magnitude
    subgradient at kinks, as the numpy version)."""
    from ..symbolic.kbuild import _grad_piecewise

    return CompiledExpression(_grad_piecewise(K.report), K.expression)


@dataclass
class ElementwiseRule:
    """∇K for a separable K, in place: ``apply_(c)`` overwrites c with ∇K(c) and returns it;
    ``apply_list_(cs)`` does so for a list (multi-tensor kernels where torch has them)."""

    K: KFunction
    kind: str = "elementwise"

    def __post_init__(self):
        self._one, self._many = _catalog_kernels(self.K)
        if self._one is None:
            if isinstance(self.K, ExpressionBacked) and self.K.report is not None:
                grad = compile_expression_grad(self.K)
            else:
                xp = _xp()

                def grad(c, K=self.K):
                    return K.dk(c, xp)

            self._one = lambda c: c.copy_(grad(c))

    def apply_(self, c):
        return self._one(c)

    def apply_list_(self, cs):
        if self._many is not None:
            self._many(cs)
        else:
            for c in cs:
                self._one(c)
        return cs


# --------------------------------------------------------------------------------------------
# norm-type K: one vector per tensor
# --------------------------------------------------------------------------------------------
def _work_dtype(t):
    return torch.float32 if t.dtype in (torch.float16, torch.bfloat16) else t.dtype


def _l2_(c):
    """c/‖c‖₂ in place (0 at 0); the catalog's max-scaled formula when the norm over/underflows."""
    n = torch.linalg.vector_norm(c)
    if not (torch.isfinite(n) and n > torch.finfo(c.dtype).tiny * 2**24) and bool(c.any()):
        return None
    return c.div_(n) if n > 0 else c


def _linf_(c):
    """sign(c_i*) e_i*, i* the first argmax |c_i|, in place."""
    flat = c.view(-1)
    i = torch.argmax(torch.abs(flat))
    s = torch.sign(flat[i])
    flat.zero_()
    flat[i] = s
    return c


def _lp_(c, p: float):
    """sign(c)|c|^{p−1}/‖c‖_p^{p−1} in place, on c scaled by max|c| (the catalog's formula)."""
    a = torch.abs(c)
    m = a.max()
    if not m > 0:  # c = 0 (∇K = 0) or NaN (kept, for the caller to see)
        return c
    a.div_(m)
    n = torch.sum(a.pow(p)) ** ((p - 1) / p)
    return c.sign_().mul_(a.pow_(p - 1)).div_(n)


def _softmax_(c):
    """softmax over all entries, in place (the catalog's exp(x − max)/Σ)."""
    return c.copy_(torch.softmax(c.reshape(-1), dim=0).reshape(c.shape))


@dataclass
class TensorRule:
    """∇K of a non-separable vector K on the whole tensor, flattened: in-place torch kernels for
    the catalog's l2, lp, linf and logsumexp, ``K.grad`` (array-API) for other K."""

    K: KFunction
    kind: str = "tensor"

    def __post_init__(self):
        from ..core import catalog as cat

        self._fast = {
            cat.L2: _l2_,
            cat.Linf: _linf_,
            cat.LogSumExp: _softmax_,
            cat.Lp: lambda c: _lp_(c, self.K.param_values["p"]),
        }.get(type(self.K))

    def apply_(self, c):
        if (
            self._fast is not None
            and c.is_contiguous()
            and c.dtype == _work_dtype(c)
            and self._fast(c) is not None
        ):
            return c
        v = c.reshape(-1).to(_work_dtype(c))
        return c.copy_(self.K.grad(v).reshape(c.shape))


# --------------------------------------------------------------------------------------------
# nuclear: one matrix per tensor
# --------------------------------------------------------------------------------------------
def as_matrix(t):
    """The matrix a nuclear-norm K sees: (shape[0], rest); a vector of n entries is (n, 1)."""
    if t.ndim == 0:
        return t.reshape(1, 1)
    return t.reshape(t.shape[0], -1)


def polar_exact(G):
    """U Vᵀ from the thin SVD G = U Σ Vᵀ, over σ_i > max σ · max(shape) · eps (as the catalog)."""
    u, s, vh = torch.linalg.svd(G, full_matrices=False)
    tol = s[..., :1] * max(G.shape[-2:]) * torch.finfo(G.dtype).eps
    keep = (s > tol).to(G.dtype)
    return (u * keep[..., None, :]) @ vh


def newton_schulz(G, steps: int = 5, coeffs: tuple[float, float, float] = NS_COEFFS):
    """Quintic Newton–Schulz iteration towards the polar factor of G (Muon's map).

    X₀ = G/‖G‖_F (on the wide orientation), X ← aX + (bA + cA²)X with A = XXᵀ. This is *not*
    the polar factor: with Muon's coefficients the singular values of the output spread around
    1 (roughly 0.7–1.2) instead of converging; `polar_distance` measures how far it is.
    """
    a, b, c = coeffs
    X = G / (torch.linalg.matrix_norm(G) + 1e-7)
    tall = G.shape[-2] > G.shape[-1]
    if tall:
        X = X.mT
    for _ in range(steps):
        A = X @ X.mT
        X = a * X + (b * A + c * (A @ A)) @ X
    return X.mT if tall else X


def polar_distance(G, P) -> float:
    """‖P − polar(G)‖_F / ‖polar(G)‖_F: how far an approximate polar factor P is from the exact
    one."""
    E = polar_exact(G.double())
    return float(
        torch.linalg.matrix_norm(P.double() - E) / torch.linalg.matrix_norm(E).clamp_min(1e-300)
    )


@dataclass
class MatrixRule:
    """∇K = U Vᵀ of the nuclear norm on each parameter seen as a matrix (`as_matrix`).

    ``polar="exact"`` uses the SVD; ``polar="newton_schulz"`` runs `newton_schulz` with
    ``ns_steps`` steps, and `apply_` then returns the measured `polar_distance` when asked
    (``measure=True``), so the approximation is reported, not hidden."""

    K: KFunction
    polar: str = "exact"
    ns_steps: int = 5
    kind: str = "matrix"

    def __post_init__(self):
        if self.polar not in POLAR_METHODS:
            raise LionKError(f"polar={self.polar!r}: choose one of {', '.join(POLAR_METHODS)}")
        if (
            isinstance(self.ns_steps, bool)
            or not isinstance(self.ns_steps, int)
            or self.ns_steps < 1
        ):
            raise LionKError(f"ns_steps={self.ns_steps!r}: must be a positive integer")

    def apply_(self, c, measure: bool = False):
        G = as_matrix(c).to(_work_dtype(c))
        if self.polar == "exact":
            P = polar_exact(G)
            dist = 0.0 if measure else None
        else:
            P = newton_schulz(G, self.ns_steps)
            dist = polar_distance(G, P) if measure else None
        c.copy_(P.reshape(c.shape))
        return dist


def make_rule(K: KFunction, polar: str = "exact", ns_steps: int = 5):
    """The rule (`ElementwiseRule`, `TensorRule` or `MatrixRule`) that applies ∇K of ``K``."""
    if isinstance(K, SeparableK):
        return ElementwiseRule(K)
    if K.event_ndim == 2:
        if K.name != "nuclear":
            raise LionKError(f"K={K.name}: only the nuclear norm is supported among matrix K")
        return MatrixRule(K, polar=polar, ns_steps=ns_steps)
    dim = getattr(K, "dim", None)  # a verified non-separable K lives on a fixed R^dim
    if dim is not None:
        raise LionKError(
            f"K={K_label(K)} is a verified K on R^{dim} (in x1, x2, …); LionK takes "
            "a separable verified K (an expression in x) or a catalog norm (l2, lp, linf)"
        )
    return TensorRule(K)


def is_finite_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
