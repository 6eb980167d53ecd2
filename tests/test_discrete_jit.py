"""The opt-in numba step (``backend="numba"``, `lyapunov_lion.core.jit`) against the default numpy
path, and numba never loaded by default.

The compiled kernel runs the IEEE operations of `lion_k_step` entry by entry in the same order
(no fast-math: no FMA contraction, no reassociation), so the iterates must be equal with
``np.array_equal`` (no tolerance) and with the same signs of zero. The only freedom left is the
payload/sign bit of a NaN (x86 propagates the NaN of the first operand, and the compiler may swap
the operands of a commutative ``+``): entries that are NaN in one are NaN in the other.
"""

from __future__ import annotations

import subprocess
import sys
import zlib

import numpy as np
import pytest

from lyapunov_lion import LionKConfig, make_K, run_discrete
from lyapunov_lion.core.discrete import LionKStepper
from lyapunov_lion.core.objectives import make_objective
from lyapunov_lion.errors import LionKError

numba = pytest.importorskip("numba")


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal values, NaN where NaN, and the same sign bit on every non-NaN entry (±0 apart)."""
    keep = ~np.isnan(a)
    return bool(
        np.array_equal(a, b, equal_nan=True)
        and np.array_equal(np.signbit(a[keep]), np.signbit(b[keep]))
    )


def _start(shape, dt, rng):
    x, m, g = (rng.standard_normal(shape).astype(dt) for _ in range(3))
    # signed zeros, NaN and ±inf where sign/clip have their special cases
    x.flat[:4] = [0.0, -0.0, 0.0, -0.0]
    m.flat[:4] = [-0.0, 0.0, np.nan, np.inf]
    g.flat[:4] = [0.0, 0.0, 1.0, -np.inf]
    return x, m, g


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", ["l1", "huber", "sq_l2"])
@pytest.mark.parametrize("convention", ["paper", "library"])
@pytest.mark.parametrize("decay", ["explicit", "implicit"])
@pytest.mark.parametrize(
    "shape,lam",
    [((1000,), 0.5), ((7, 300), np.linspace(0.1, 2.0, 7)), ((50, 2), 0.3), ((3,), 1.0)],
)
def test_numba_step_equals_numpy_step(dtype, name, convention, decay, shape, lam):
    """Four steps from a start with ±0, NaN and ±inf: x, m and the kept m̃ equal the numpy
    stepper's (many small blocks) entry for entry, scalar and per-run λ."""
    rng = np.random.default_rng(zlib.crc32(repr((dtype, name, convention, decay, shape)).encode()))
    dt = np.dtype(dtype)
    K = make_K(name, delta=0.7) if name == "huber" else make_K(name)
    x, m, g = _start(shape, dt, rng)
    cfg = LionKConfig(lr=1e-2, beta1=0.9, beta2=0.99, lam=lam, decay=decay, convention=convention)
    a = LionKStepper(K, x, m, config=cfg, keep_m_tilde=True, block_bytes=1024)
    b = LionKStepper(K, x, m, config=cfg, keep_m_tilde=True, backend="numba")
    with np.errstate(all="ignore"):
        for _ in range(4):
            a.step(g)
            b.step(g)
            assert _same(a.m_tilde, b.m_tilde)
            g = rng.standard_normal(shape).astype(dt)
            g.flat[:3] = [0.0, -0.0, np.nan]
    assert _same(a.x, b.x) and _same(a.m, b.m)
    assert np.isfinite(a.x).sum() > a.x.size - 4  # the comparison is not of NaN arrays


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_run_discrete_numba_equals_default(dtype):
    """A whole run (toy objective's gradient written into the buffer, every step saved, checks):
    the same trajectory, look-aheads and status, bit for bit."""
    obj = make_objective("toy")
    x0 = np.asarray([[-1.5, 2.5], [0.3, -0.2], [4.0, 1.0]], dtype=dtype)
    cfg = LionKConfig(lr=1e-2, lam=np.array([0.5, 1.5, 3.0]))
    runs = [
        run_discrete(make_K("l1"), obj.grad, x0, config=cfg, steps=300, backend=b)
        for b in ("numpy", "numba")
    ]
    for field in ("x", "m", "m_tilde"):
        assert np.array_equal(getattr(runs[0], field), getattr(runs[1], field))
    assert runs[0].status == runs[1].status == 0
    assert not np.array_equal(runs[0].x[0], runs[0].x[-1])  # the run moved


def test_numba_refusals_are_one_line_errors():
    obj = make_objective("toy")
    cfg = LionKConfig(lr=1e-2, lam=1.0)
    x0 = np.array([-1.5, 2.5])
    with pytest.raises(LionKError, match="fuses ∇K for K = l1, huber, sq_l2 only"):
        run_discrete(make_K("logcosh"), obj.grad, x0, config=cfg, steps=3, backend="numba")
    with pytest.raises(LionKError, match="choose one of numpy, numba"):
        run_discrete(make_K("l1"), obj.grad, x0, config=cfg, steps=3, backend="cuda")
    with pytest.raises(LionKError, match="numpy floating arrays"):
        run_discrete(make_K("l1"), obj.grad, x0.astype(int), config=cfg, steps=3, backend="numba")


def test_core_does_not_import_numba_by_default():
    """numba is opt-in: importing the core and running the default numpy path never loads it."""
    code = (
        "import sys, numpy as np\n"
        "from lyapunov_lion import LionKConfig, make_K, run_discrete\n"
        "import lyapunov_lion.core.jit, lyapunov_lion.core.streaming\n"
        "from lyapunov_lion.core.objectives import make_objective\n"
        "run_discrete(make_K('l1'), make_objective('toy').grad, np.array([1.0, 2.0]),\n"
        "             config=LionKConfig(lam=1.0), steps=10)\n"
        "assert 'numba' not in sys.modules, 'numba imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
