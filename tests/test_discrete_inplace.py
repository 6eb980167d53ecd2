"""The in-place numpy step (`LionKStepper`, used by `run_discrete` on numpy) against the pure step
functions `lion_k_step` / `lion_k_step_library`, bit for bit.

Blocking cannot change a number: every operation is elementwise (or, for non-separable K, acts on
whole rows that are never split), so each entry sees the same IEEE operations in the same order.
The tests force many blocks with a tiny ``block_bytes`` and compare with ``np.array_equal``
(no tolerance), for every K of the catalog, both conventions, both decays, float32 and float64,
scalar and per-run hyper-parameters.
"""

from __future__ import annotations

import numpy as np
import pytest

from lyapunov_lion import (
    LionKConfig,
    available_K,
    lion_k_step,
    lion_k_step_library,
    make_K,
    run_discrete,
)
from lyapunov_lion.core import discrete
from lyapunov_lion.core.discrete import LionKStepper, trajectory_bytes
from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.errors import LionKError


def _reference(K, x, m, grads, cfg):
    """The pure-function loop (the definition), returning the list of (x, m_paper, m̃_paper)."""
    library = cfg.convention == "library"
    step = lion_k_step_library if library else lion_k_step
    dt = x.dtype
    p = {
        k: (
            np.asarray(getattr(cfg, k), dtype=dt)
            if np.ndim(getattr(cfg, k)) == 0
            else np.asarray(getattr(cfg, k), dtype=dt).reshape(
                np.shape(getattr(cfg, k)) + (1,) * K.event_ndim
            )
        )
        for k in ("lr", "beta1", "beta2", "lam")
    }
    m = -m if library else m
    out = []
    for g in grads:
        x, m, mt = step(K, x, m, g, decay=cfg.decay, **p)
        out.append((x, -m if library else m, -mt if library else mt))
    return out


@pytest.mark.parametrize("name", sorted(available_K()))
@pytest.mark.parametrize("convention", ["paper", "library"])
@pytest.mark.parametrize("decay", ["explicit", "implicit"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("per_run", [False, "expanded", "column"])
@pytest.mark.parametrize("blocks", ["many", "one"])
def test_stepper_equals_pure_step_bit_for_bit(
    name, convention, decay, dtype, per_run, blocks, monkeypatch
):
    """Per-run hyper-parameters either broadcast to x's shape ("expanded") or kept as one value
    per row ("column", the layout for arrays above _EXPAND_MAX entries). "one": the state fits
    one block (the small-array path, m̃ and m computed as one stacked pair)."""
    if per_run == "column":
        monkeypatch.setattr(discrete, "_EXPAND_MAX", 0)
    K = make_K(name)
    rng = np.random.default_rng(hash((name, convention, decay, per_run)) % 2**32)
    shape = (5, 3, 4) if K.event_ndim == 2 else (5, 37)
    x0 = rng.uniform(-3, 3, size=shape).astype(dtype)
    m0 = rng.normal(size=shape).astype(dtype)
    grads = [rng.normal(size=shape).astype(dtype) for _ in range(12)]
    grads[3][0, 0] = 0.0  # a zero look-ahead entry is likely somewhere; sign(0) = 0 path too
    lam = np.linspace(0.2, 2.0, 5) if per_run else 0.7
    lr = np.geomspace(1e-3, 0.1, 5) if per_run else 0.05
    cfg = LionKConfig(lr=lr, lam=lam, beta1=0.8, beta2=0.95, decay=decay, convention=convention)
    assert LionKStepper.eligible(K, x0, m0, cfg)
    # 64 bytes per block: 8 or 16 entries, so the state is cut into many blocks
    stepper = LionKStepper(
        K,
        x0,
        m0,
        config=cfg,
        keep_m_tilde=True,
        block_bytes=64 if blocks == "many" else discrete.BLOCK_BYTES,
    )
    assert stepper._small == (blocks == "one")
    assert stepper._small or len(stepper._blocks) > 1
    for g, (x, m, mt) in zip(grads, _reference(K, x0, m0, grads, cfg), strict=True):
        stepper.step(g)
        sign = -1 if convention == "library" else 1
        np.testing.assert_array_equal(stepper.x, x)
        np.testing.assert_array_equal(sign * stepper.m, m)
        np.testing.assert_array_equal(sign * stepper.m_tilde, mt)
        assert stepper.x.dtype == stepper.m.dtype == dtype


@pytest.mark.parametrize("name", ["l1", "huber", "logcosh", "sq_l2", "power_p", "l2"])
def test_run_discrete_numpy_equals_pure_path(name):
    """run_discrete on numpy (in place) and on a non-numpy array (pure functions) agree exactly,
    with a gradient that returns its own argument (g aliases x: the in-place step must copy it)."""
    array_api_strict = pytest.importorskip("array_api_strict")
    K = make_K(name)
    x0 = np.random.default_rng(1).uniform(-2, 2, size=(4, 6))
    cfg = LionKConfig(lr=0.01, lam=np.array([0.3, 0.6, 0.9, 1.2]))
    ref = run_discrete(K, lambda x: x, array_api_strict.asarray(x0), config=cfg, steps=60)
    res = run_discrete(K, lambda x: x, x0, config=cfg, steps=60)
    np.testing.assert_array_equal(res.x, np.from_dlpack(ref.x))
    np.testing.assert_array_equal(res.m_tilde, np.from_dlpack(ref.m_tilde))


def test_objective_gradient_written_into_buffer_gives_the_same_run():
    """Objective.grad(x, out=...) (used by run_discrete) is the same number as Objective.grad(x)."""
    toy = make_objective("toy")
    K = make_K("l1")
    x0 = np.random.default_rng(2).uniform(-2, 2, size=(3, 2))
    cfg = LionKConfig(lr=0.01, lam=1.5)
    fast = run_discrete(K, toy.grad, x0, config=cfg, steps=200)
    plain = run_discrete(K, lambda x: toy.grad(x), x0, config=cfg, steps=200)
    np.testing.assert_array_equal(fast.x, plain.x)
    np.testing.assert_array_equal(fast.m_tilde, plain.m_tilde)


def test_trajectory_bytes_and_refusal():
    x0 = np.zeros(2)
    # x0 + 10 saves of x and m, plus 10 look-aheads: (2·11 + 10) arrays of 16 bytes
    assert trajectory_bytes(x0, 10) == (2 * 11 + 10) * 16
    assert trajectory_bytes(x0, 10, save_every=5) == 2 * 3 * 16
    with pytest.raises(LionKError, match="needs .* of memory"):
        run_discrete(make_K("l1"), lambda x: x, np.zeros(10**6), config=LionKConfig(), steps=10**12)


@pytest.mark.parametrize(
    "spec,kw",
    [
        ("toy", {}),
        ("quadratic", {}),
        ("rosenbrock", {}),
        ("logistic", {"n": 20, "d": 3}),
        ("(x1 - 1)**2 + 3*x2**2 + x1*x2", {}),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_grad_into_buffer_equals_grad(spec, kw, dtype):
    obj = make_objective(spec, **kw)
    x = np.random.default_rng(4).normal(size=(6, obj.dim)).astype(dtype)
    out = np.full_like(x, np.nan)
    assert obj.grad(x, out=out) is out
    np.testing.assert_array_equal(out, obj.grad(x))
    assert out.dtype == dtype
