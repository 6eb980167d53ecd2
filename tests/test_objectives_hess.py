"""Exact Hessians of the built-in objectives: ∇²f against central differences of the exact ∇f,
batching, dtype, symmetry and the ``hess_constant`` flag."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.core.objectives import make_objective

CASES = [
    ("toy", {}),
    ("quadratic", {"A": [[2.0, 0.5], [0.5, 1.0]], "c": [1.0, -1.0]}),
    ("rosenbrock", {}),
    ("logistic", {"n": 40, "d": 4, "seed": 3}),
    ("x1**2*x2 + exp(0.5*x2) + sin(x1*x3)", {}),
]


@pytest.mark.parametrize("name, kw", CASES)
def test_hess_matches_central_differences_of_grad(name, kw):
    obj = make_objective(name, **kw)
    rng = np.random.default_rng(0)
    X = rng.uniform(-1.5, 1.5, size=(6, obj.dim))
    H = obj.hess(X)
    assert H.shape == (6, obj.dim, obj.dim)
    h = 1e-5
    E = np.eye(obj.dim)
    # column j: (∇f(x + h e_j) − ∇f(x − h e_j))/2h; error h²·|∇⁴f|/6 ≲ 1e-8 for these |x| ≤ 1.5
    # (rosenbrock: |∂³∇f| ≤ 24b = 2400 → 4e-7), rounding ε·|∇f|/h ≲ 1e-8
    fd = np.stack(
        [(obj.grad(X + h * E[j]) - obj.grad(X - h * E[j])) / (2 * h) for j in range(obj.dim)],
        axis=-1,
    )
    tol = 1e-6 * max(1.0, float(np.max(np.abs(H))))
    np.testing.assert_allclose(H, fd, atol=tol)
    np.testing.assert_allclose(H, np.swapaxes(H, -1, -2), atol=1e-12 * max(1.0, np.abs(H).max()))
    # a single point gives (d, d); a (2, 3, d) batch gives (2, 3, d, d)
    assert obj.hess(X[0]).shape == (obj.dim, obj.dim)
    np.testing.assert_allclose(obj.hess(X[0]), H[0], rtol=1e-14, atol=1e-14)
    assert obj.hess(X.reshape(2, 3, obj.dim)).shape == (2, 3, obj.dim, obj.dim)


def test_hess_closed_forms():
    x = np.array([0.3, -0.7])
    np.testing.assert_array_equal(make_objective("toy").hess(x), 2 * np.eye(2))
    A = np.array([[3.0, 1.0], [1.0, 2.0]])
    np.testing.assert_array_equal(make_objective("quadratic", A=A).hess(x), A)
    b = 100.0
    exact = np.array(
        [
            [2 - 4 * b * (x[1] - x[0] ** 2) + 8 * b * x[0] ** 2, -4 * b * x[0]],
            [-4 * b * x[0], 2 * b],
        ]
    )
    np.testing.assert_allclose(make_objective("rosenbrock").hess(x), exact, rtol=1e-15)


def test_logistic_hess_formula_and_psd():
    """(1/n)Xᵀdiag(σ(z)(1−σ(z)))X, written out with an explicit σ.

    PSD with λ_max ≤ L = ‖X‖²/(4n).
    """
    obj = make_objective("logistic", n=30, d=3, seed=1)
    x = np.array([0.5, -1.0, 2.0])
    z = obj.y * (obj.X @ x)
    sig = 1 / (1 + np.exp(-z))
    ref = (obj.X.T * (sig * (1 - sig))) @ obj.X / obj.n
    H = obj.hess(x)
    np.testing.assert_allclose(H, ref, rtol=1e-12, atol=1e-15)
    ev = np.linalg.eigvalsh(H)
    assert ev[0] >= 0 and ev[-1] <= obj.lipschitz * (1 + 1e-12)


def test_hess_keeps_float32():
    for name in ("toy", "quadratic", "rosenbrock", "logistic", "(x1 - 1)**2 + x1*x2**3"):
        obj = make_objective(name)
        x = np.zeros((4, obj.dim), dtype=np.float32) + np.float32(0.25)
        assert obj.hess(x).dtype == np.float32, name


def test_hess_constant_flag():
    assert make_objective("toy").hess_constant and make_objective("quadratic").hess_constant
    assert make_objective("0.5*(x1 - 2)**2 + x1*x2 + 3*x2**2").hess_constant
    assert not make_objective("x1**4 + x2**2").hess_constant
    assert not make_objective("abs(x1) + x2**2").hess_constant  # ∇f = sign(x1) jumps
    expr = make_objective("0.5*(x1 - 2)**2 + x1*x2 + 3*x2**2")
    np.testing.assert_array_equal(
        expr.hess(np.zeros((3, 2))), np.broadcast_to([[1.0, 1.0], [1.0, 6.0]], (3, 2, 2))
    )
