"""Objectives: values, exact gradients, smoothness constants, batching, dtypes, registry, noise."""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion.core.objectives import (
    ExprObjective,
    Objective,
    StochasticGradient,
    available_objectives,
    make_objective,
)
from lyapunov_lion.errors import LionKError

BUILTINS = ["toy", "quadratic", "rosenbrock", "logistic"]
EXPRESSIONS = [
    "(x1 - 1.5)**2 + x2**2",
    "log(1 + exp(x1 - x2)) + x2**4/4 + sin(x3)",
    "sqrt(1 + x1**2) + x1*x2",
]


def all_objectives():
    return [make_objective(n) for n in BUILTINS] + [make_objective(e) for e in EXPRESSIONS]


def _points(obj, shape=(7,), seed=0):
    return np.random.default_rng(seed).uniform(-1.5, 1.5, size=shape + (obj.dim,))


@pytest.mark.parametrize("obj", all_objectives(), ids=lambda o: o.name + ":" + o.formula[:20])
def test_gradient_matches_central_differences(obj):
    # central differences with h = 1e-6: truncation O(h² f''') ≲ 1e-9 on these smooth f on
    # [-1.5, 1.5]^d (rosenbrock's third derivative is ≤ 24·b·1.5 ≈ 4e3 → 4e-9), rounding
    # O(eps·|f|/h) ≲ 1e-8 (|f| ≤ 1e3): a 1e-6 relative + 1e-6 absolute tolerance is safe.
    x = _points(obj)
    h = 1e-6
    fd = np.stack(
        [(obj.f(x + h * e) - obj.f(x - h * e)) / (2 * h) for e in np.eye(obj.dim)], axis=-1
    )
    np.testing.assert_allclose(obj.grad(x), fd, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("obj", all_objectives(), ids=lambda o: o.name + ":" + o.formula[:20])
def test_batched_equals_pointwise_and_shapes(obj):
    x = _points(obj, shape=(3, 4))
    f, g = obj.f(x), obj.grad(x)
    assert f.shape == (3, 4) and g.shape == x.shape
    for i in range(3):
        for j in range(4):
            # the same float64 operations per point: equal up to BLAS summation order (1e-14)
            np.testing.assert_allclose(obj.f(x[i, j]), f[i, j], rtol=1e-14, atol=1e-14)
            np.testing.assert_allclose(obj.grad(x[i, j]), g[i, j], rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("obj", all_objectives(), ids=lambda o: o.name + ":" + o.formula[:20])
def test_dtype_preserved(obj):
    x32 = _points(obj).astype(np.float32)
    assert obj.f(x32).dtype == np.float32
    assert obj.grad(x32).dtype == np.float32
    # float32 evaluation is the float64 one rounded: relative agreement ~1e-5 (a few float32
    # ulps accumulated over ≤ 200 terms for logistic)
    np.testing.assert_allclose(obj.f(x32), obj.f(x32.astype(np.float64)), rtol=1e-4, atol=1e-5)
    xi = np.ones((2, obj.dim), dtype=np.int64)
    assert obj.f(xi).dtype == np.float64
    assert obj.f(list(np.ones(obj.dim))).dtype == np.float64


@pytest.mark.parametrize("name", BUILTINS)
def test_dimension_mismatch_raises(name):
    obj = make_objective(name)
    with pytest.raises(LionKError, match=f"{obj.dim}-dimensional"):
        obj.f(np.zeros(obj.dim + 1))
    with pytest.raises(LionKError, match="at least one axis"):
        obj.grad(np.float64(1.0))


def test_toy_golden_values():
    toy = make_objective("toy")
    assert toy.dim == 2 and toy.lipschitz == 2.0
    np.testing.assert_array_equal(
        toy.f(np.array([[1.5, 0.0], [0.0, 0.0], [2 / 3, 0.0]])), [0.0, 2.25, (1.5 - 2 / 3) ** 2]
    )
    np.testing.assert_array_equal(toy.grad(np.zeros(2)), [-3.0, 0.0])
    assert toy.isotropic_quadratic()[0] == 1.0
    np.testing.assert_array_equal(toy.isotropic_quadratic()[1], [1.5, 0.0])


def test_rosenbrock_minimum():
    r = make_objective("rosenbrock")
    assert r.f(np.array([1.0, 1.0])) == 0.0
    np.testing.assert_array_equal(r.grad(np.array([1.0, 1.0])), [0.0, 0.0])
    assert r.lipschitz is None
    assert r.f(r.default_x0) == pytest.approx(24.2)  # the classic (-1.2, 1) start


def test_quadratic_value_gradient_and_L():
    A = np.array([[4.0, 1.0], [1.0, 3.0]])
    c = np.array([1.0, -2.0])
    q = make_objective("quadratic", A=A, c=c)
    x = np.array([0.5, 0.5])
    assert q.f(x) == pytest.approx(0.5 * (x - c) @ A @ (x - c), rel=1e-15)
    np.testing.assert_allclose(q.grad(x), A @ (x - c), rtol=1e-15)
    assert q.lipschitz == pytest.approx(np.linalg.eigvalsh(A).max(), rel=1e-14)
    assert q.isotropic_quadratic() is None
    iso = make_objective("quadratic", A=3.0, c=[1.0, 2.0, 3.0])
    a, cc = iso.isotropic_quadratic()
    assert a == 1.5 and iso.dim == 3
    np.testing.assert_array_equal(cc, [1.0, 2.0, 3.0])


@pytest.mark.parametrize(
    "A, fragment",
    [
        (np.array([[1.0, 2.0], [0.0, 1.0]]), "symmetric"),
        (np.array([[1.0, 0.0], [0.0, -1.0]]), "positive definite"),
        (np.ones((2, 3)), "square"),
    ],
)
def test_quadratic_rejects_bad_A(A, fragment):
    with pytest.raises(LionKError, match=fragment):
        make_objective("quadratic", A=A)


def test_logistic_lipschitz_is_valid_and_tight():
    lg = make_objective("logistic", n=100, d=4, seed=3)
    L = lg.lipschitz
    assert pytest.approx(np.linalg.norm(lg.X, 2) ** 2 / (4 * 100), rel=1e-14) == L
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(2, 200, 4))
    ratio = np.linalg.norm(lg.grad(x) - lg.grad(y), axis=-1) / np.linalg.norm(x - y, axis=-1)
    assert np.all(ratio <= L * (1 + 1e-12))
    # tight: at x = 0 every σ'(0) = 1/4, so ∇²f(0) = XᵀX/(4n) whose norm is exactly L; a
    # central difference of ∇f along the top singular vector recovers it (error O(h²) ≈ 1e-10)
    v = np.linalg.svd(lg.X)[2][0]
    h = 1e-5
    hv = (lg.grad(h * v) - lg.grad(-h * v)) / (2 * h)
    assert np.linalg.norm(hv) == pytest.approx(L, rel=1e-8)


def test_logistic_reproducible_and_separableish():
    a = make_objective("logistic", seed=5)
    b = make_objective("logistic", seed=5)
    c = make_objective("logistic", seed=6)
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)
    # label noise: the true direction misclassifies some points, so the data are not separable
    # along it and the unconstrained minimiser is finite
    assert 0 < np.mean(np.sign(a.X @ a.w_true) != a.y) < 0.5
    assert set(np.unique(a.y)) == {-1.0, 1.0}


def test_expr_objective_equals_toy():
    toy = make_objective("toy")
    ex = make_objective("(x1 - 1.5)**2 + x2**2")
    assert isinstance(ex, ExprObjective) and ex.dim == 2
    assert ex.lipschitz == pytest.approx(2.0, rel=1e-15)  # constant Hessian 2I
    x = _points(toy, shape=(5,))
    np.testing.assert_allclose(ex.f(x), toy.f(x), rtol=1e-15, atol=1e-15)
    np.testing.assert_allclose(ex.grad(x), toy.grad(x), rtol=1e-15, atol=1e-15)


def test_expr_objective_nonsmooth_gradient_and_padding():
    ex = make_objective("abs(x1) + Max(x2, 0)", dim=4)
    assert ex.dim == 4 and ex.lipschitz is None
    x = np.array([[-2.0, 3.0, 1.0, 1.0], [0.0, -1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(ex.grad(x), [[-1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    # sign(x) differentiates to a Dirac delta: replaced by its a.e. value 0, never a crash
    ex2 = make_objective("x1*sign(x1)")
    np.testing.assert_array_equal(ex2.grad(np.array([[-2.0], [3.0]])), [[-1.0], [1.0]])
    one = make_objective("x**2 + 1")
    assert one.dim == 1
    np.testing.assert_array_equal(one.grad(np.array([[3.0]])), [[6.0]])


def test_expr_objective_errors():
    with pytest.raises(LionKError, match="dim=1"):
        make_objective("x1 + x2", dim=1)
    with pytest.raises(LionKError, match="unknown name 'y'"):
        make_objective("y**2")
    with pytest.raises(LionKError, match="no variable"):
        make_objective("3 + 4")
    with pytest.raises(LionKError, match="attribute access"):
        make_objective("x1.__class__")


def test_make_objective_registry_and_errors():
    names = available_objectives()
    assert {"toy", "quadratic", "rosenbrock", "logistic", "expr"} <= set(names)
    with pytest.raises(LionKError) as err:
        make_objective("rosenbrok")
    msg = str(err.value)
    assert "unknown objective 'rosenbrok'" in msg and all(n in msg for n in BUILTINS)
    with pytest.raises(LionKError, match="no parameter lr.*parameters: a, b"):
        make_objective("rosenbrock", lr=1)
    toy = make_objective("toy")
    assert make_objective(toy) is toy
    assert make_objective("expr", expression="x1**2").dim == 1
    assert make_objective("x3").dim == 3  # a bare variable name is an expression


def test_stochastic_gradient_reproducible_and_unbiased():
    toy = make_objective("toy")
    x = np.tile([0.3, -0.2], (50_000, 1))
    a = StochasticGradient(toy, sigma=0.5, seed=7)
    b = StochasticGradient(toy, sigma=0.5, seed=7)
    ga, gb = a.grad(x), b.grad(x)
    np.testing.assert_array_equal(ga, gb)
    assert not np.array_equal(ga, StochasticGradient(toy, 0.5, seed=8).grad(x))
    assert not np.array_equal(a.grad(x), ga)  # the stream advances
    a.reset()
    np.testing.assert_array_equal(a.grad(x), ga)
    noise = ga - toy.grad(x)
    # 5e4 samples: the mean's standard error is 0.5/√5e4 ≈ 2.2e-3, the std's ≈ 1.6e-3;
    # 5 standard errors keep this deterministic (fixed seed) check far from flaky
    np.testing.assert_allclose(noise.mean(axis=0), 0.0, atol=5 * 2.3e-3)
    np.testing.assert_allclose(noise.std(axis=0), 0.5, atol=5 * 1.6e-3)
    np.testing.assert_array_equal(a.f(x[:3]), toy.f(x[:3]))
    assert a.lipschitz == 2.0 and a.dim == 2 and isinstance(a, Objective)
    assert a.grad(x[:2].astype(np.float32)).dtype == np.float32
    np.testing.assert_array_equal(StochasticGradient(toy, 0.0).grad(x[:3]), toy.grad(x[:3]))
    with pytest.raises(LionKError, match="sigma"):
        StochasticGradient(toy, -1.0)


def test_array_api_strict_backend():
    xp = pytest.importorskip("array_api_strict")
    for name in ("toy", "quadratic", "rosenbrock"):
        obj = make_objective(name)
        xn = _points(obj, shape=(3,))
        xs = xp.asarray(xn, dtype=xp.float32)
        g = obj.grad(xs)
        assert g.dtype == xp.float32 and g.shape == (3, obj.dim)
        # float32 vs float64 of the same formula: ≤ 1e-4 relative (values ≤ 1e3)
        np.testing.assert_allclose(np.asarray(g), obj.grad(xn), rtol=1e-4, atol=1e-3)
