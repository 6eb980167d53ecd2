"""LionK (lyapunov_lion.torch): parity with lion-pytorch and with the numpy reference
`run_discrete`, and the optimizer contract (state dict, closures, groups, dtypes, errors)."""

from __future__ import annotations

import copy
import io

import numpy as np
import pytest
import torch
from lion_pytorch import Lion as LionLoop
from lion_pytorch.foreach import Lion as LionForeach

from lyapunov_lion.core.catalog import Nuclear
from lyapunov_lion.core.discrete import LionKConfig, run_discrete
from lyapunov_lion.core.kfunc import available_K, make_K
from lyapunov_lion.errors import LionKError
from lyapunov_lion.torch import LionK, newton_schulz, polar_exact
from lyapunov_lion.torch.optimizer import CHUNK

torch.set_num_threads(1)


def _net(dtype, seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)).to(
        dtype
    )


def _train(net, opt, steps, dtype, seed=1):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randn(16, 4, generator=gen).to(dtype)
    y = torch.randint(0, 3, (16,), generator=gen)
    for _ in range(steps):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X).float(), y).backward()
        opt.step()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("reference,foreach", [(LionLoop, False), (LionForeach, True)])
def test_l1_is_bit_identical_to_lion_pytorch(dtype, reference, foreach):
    """Same operations in the same order (loop: mul/add momenta; foreach: lerp), so equal bits
    after 1,000 steps of a small network with decay (bf16: 200 steps)."""
    steps = 200 if dtype == torch.bfloat16 else 1000
    net_ref = _net(dtype)
    net = copy.deepcopy(net_ref)
    _train(net_ref, reference(net_ref.parameters(), lr=3e-3, weight_decay=2.0), steps, dtype)
    _train(
        net,
        LionK(net.parameters(), lr=3e-3, weight_decay=2.0, K="l1", foreach=foreach),
        steps,
        dtype,
    )
    moved = 0
    for a, b, p0 in zip(
        net_ref.parameters(), net.parameters(), _net(dtype).parameters(), strict=True
    ):
        assert torch.equal(a, b)
        moved += int(torch.sum(a != p0))
    assert moved > 40  # the run did something


def test_chunked_multi_tensor_path_is_bit_identical_on_large_tensors():
    """Tensors longer than CHUNK are cut into pieces; elementwise ops make this invisible."""
    torch.manual_seed(0)
    shapes = [(3 * CHUNK + 17,), (5,), (CHUNK // 3, 3)]
    ps_ref = [torch.nn.Parameter(torch.randn(s)) for s in shapes]
    ps = [torch.nn.Parameter(p.detach().clone()) for p in ps_ref]
    o_ref, o = LionForeach(ps_ref, lr=1e-2, weight_decay=1.0), LionK(ps, lr=1e-2, weight_decay=1.0)
    for _ in range(4):
        gs = [torch.randn(s) for s in shapes]
        for p, q, g in zip(ps_ref, ps, gs, strict=True):
            p.grad, q.grad = g.clone(), g.clone()
        o_ref.step()
        o.step()
    assert all(torch.equal(a, b) for a, b in zip(ps_ref, ps, strict=True))


# --------------------------------------------------------------------------------------------
# every catalog K against the numpy reference
# --------------------------------------------------------------------------------------------
CATALOG = [
    (name, {}) for name in available_K() if name not in ("lp", "power_p", "huber", "deadzone")
] + [
    ("lp", {"p": 1.5}),
    ("lp", {"p": 3.0}),
    ("power_p", {"p": 1.5}),
    ("power_p", {"p": 4.0}),
    ("huber", {"delta": 0.5}),
    ("deadzone", {"e": 0.0}),
    ("deadzone", {"e": 0.1}),
]


def _quadratic(shape, seed=0):
    """f = ½Σa(x − b)² with |b_i| ∈ [2, 3] > 1/λ and x0 = b·U(0.6, 0.95): every g_i = a_i(x_i − b_i)
    keeps its sign, so the momentum stays away from the points where ∇K is not Lipschitz (|c|^{p−1}
    at c_i = 0 for p < 2, the polar factor of a near-singular C), which would amplify the O(ε)
    difference of operation order into more than 1e-12; λx0 is partly outside dom K* (phase 1)."""
    rng = np.random.default_rng(seed)
    a = rng.uniform(0.5, 3.0, shape)
    b = rng.choice([-1.0, 1.0], shape) * rng.uniform(2.0, 3.0, shape)
    x0 = b * rng.uniform(0.6, 0.95, shape)
    return a, b, x0


@pytest.mark.parametrize("decay", ["explicit", "implicit"])
@pytest.mark.parametrize("foreach", [False, True])
@pytest.mark.parametrize("name,params", CATALOG, ids=[f"{n}{p or ''}" for n, p in CATALOG])
def test_every_catalog_K_matches_run_discrete(name, params, decay, foreach):
    """LionK in float64 = run_discrete (library convention) on a quadratic to 1e-12 relative after
    120 steps: the same map x ↦ x − η(∇K(c) + λx) up to the rounding of the operation order."""
    K = make_K(name, **params)
    shape = (2,) + ((3, 2) if K.event_ndim == 2 else (5,))  # two independent tensors
    a, b, x0 = _quadratic(shape)
    lr, lam, steps = 0.05, 0.7, 120
    cfg = LionKConfig(lr=lr, beta1=0.9, beta2=0.99, lam=lam, decay=decay, convention="library")
    ref = run_discrete(K, lambda x: a * (x - b), x0, config=cfg, steps=steps)
    assert ref.success
    params = [torch.nn.Parameter(torch.tensor(x0[i])) for i in range(shape[0])]
    opt = LionK(
        params, lr=lr, betas=(0.9, 0.99), weight_decay=lam, K=K, decay=decay, foreach=foreach
    )
    for _ in range(steps):
        for i, p in enumerate(params):
            p.grad = torch.tensor(a[i]) * (p.detach() - torch.tensor(b[i]))
        opt.step()
    got = np.stack([p.detach().numpy() for p in params])
    want = np.asarray(ref.x[-1])
    scale = np.max(np.abs(want), axis=tuple(range(1, want.ndim)), keepdims=True)
    assert np.max(np.abs(got - want) / scale) <= 1e-12
    assert np.max(np.abs(want - x0)) > 0.1


def test_verified_expression_K_runs_in_torch_and_matches_run_discrete():
    """A K verified from an expression is compiled to torch (no numpy inside the step) and gives
    the numpy reference's iterates; its ∇K agrees with the numpy one at kinks too."""
    from lyapunov_lion.symbolic import K_from_report, verify

    # a generous timeout: under heavy load the 20 s default can end the symbolic derivation
    report = verify("x**4/4 + Abs(x)", certify=False, timeout=300)
    K = K_from_report(report)
    assert LionK([torch.zeros(1)], lr=0.1, K=report).param_groups[0]["K"].expression == K.expression
    xs = np.array([-2.0, -1e-3, 0.0, 1e-3, 0.7, 3.0])
    assert np.array_equal(K.dk(xs, np), np.array([-9.0, -1 - 1e-9, 0.0, 1 + 1e-9, 1.343, 28.0]))
    a, b, x0 = _quadratic((7,), seed=3)
    cfg = LionKConfig(lr=0.02, lam=0.5, convention="library")
    ref = run_discrete(K, lambda x: a * (x - b), x0, config=cfg, steps=150)
    p = torch.nn.Parameter(torch.tensor(x0))
    opt = LionK([p], lr=0.02, weight_decay=0.5, K=K)
    for _ in range(150):
        p.grad = torch.tensor(a) * (p.detach() - torch.tensor(b))
        opt.step()
    want = ref.x[-1]
    assert np.max(np.abs(p.detach().numpy() - want)) <= 1e-12 * np.max(np.abs(want))


# --------------------------------------------------------------------------------------------
# nuclear
# --------------------------------------------------------------------------------------------
def test_nuclear_acts_on_conv_kernels_as_out_by_rest_matrices():
    torch.manual_seed(0)
    w = torch.nn.Parameter(torch.randn(4, 3, 2, 2, dtype=torch.float64))
    g = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    w0 = w.detach().clone()
    w.grad = g
    LionK([w], lr=0.1, K="nuclear").step()
    U = Nuclear().grad(0.1 * g.reshape(4, 12).numpy())  # c = (1 − β1) g at the first step
    assert np.allclose((w0 - w.detach()).reshape(4, 12).numpy(), 0.1 * U, atol=1e-14)
    assert np.allclose(U @ U.T, np.eye(4), atol=1e-12)


def test_newton_schulz_distance_to_the_polar_factor_is_measured_and_reported():
    torch.manual_seed(0)
    G = torch.randn(64, 32, dtype=torch.float64)
    P, E = newton_schulz(G), polar_exact(G)
    s = torch.linalg.svdvals(P)
    assert s.min() < 0.9 and s.max() > 1.05  # not orthogonal: NS is an approximation
    assert torch.allclose(E.mT @ E, torch.eye(32, dtype=torch.float64), atol=1e-12)
    w = torch.nn.Parameter(torch.randn(64, 32, dtype=torch.float64))
    opt = LionK([w], lr=1e-2, K="nuclear", polar="newton_schulz", ns_check_every=3)
    for _ in range(4):
        w.grad = torch.randn(64, 32, dtype=torch.float64)
        opt.step()
    st = opt.state[w]
    assert st["polar_distance_step"] == 4 and 0.01 < st["polar_distance"] < 0.5


# --------------------------------------------------------------------------------------------
# the optimizer contract
# --------------------------------------------------------------------------------------------
def test_state_dict_round_trip_continues_bit_identically():
    net = _net(torch.float32)
    opt = LionK(net.parameters(), lr=1e-2, weight_decay=1.0, K="huber:delta=0.5")
    _train(net, opt, 5, torch.float32)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    net2 = copy.deepcopy(net)
    opt2 = LionK(net2.parameters(), lr=1e-2, weight_decay=1.0, K="huber:delta=0.5")
    buf.seek(0)
    opt2.load_state_dict(torch.load(buf))
    assert opt2.param_groups[0]["K"].delta == 0.5
    _train(net, opt, 5, torch.float32, seed=7)
    _train(net2, opt2, 5, torch.float32, seed=7)
    assert all(torch.equal(a, b) for a, b in zip(net.parameters(), net2.parameters(), strict=True))
    opt3 = LionK(copy.deepcopy(net).parameters(), lr=1e-2, K="l1")
    with pytest.raises(LionKError, match="saved with K='huber:delta=0.5'"):
        opt3.load_state_dict(opt.state_dict())


def test_closure_param_groups_with_different_K_and_maximize():
    torch.manual_seed(0)
    a = torch.nn.Parameter(torch.randn(5, 4, dtype=torch.float64))
    b = torch.nn.Parameter(torch.randn(7, dtype=torch.float64))
    target = torch.randn(5, 4, dtype=torch.float64)

    def loss_fn():
        return ((a - target) ** 2).sum() + (b**2).sum()

    opt = LionK(
        [{"params": [a], "K": "nuclear"}, {"params": [b], "K": "l2"}], lr=0.05, weight_decay=0.5
    )
    solo = [copy.deepcopy(a), copy.deepcopy(b)]
    opt_a, opt_b = (
        LionK([solo[0]], lr=0.05, weight_decay=0.5, K="nuclear"),
        LionK([solo[1]], lr=0.05, weight_decay=0.5, K="l2"),
    )
    for _ in range(20):
        opt.zero_grad()
        loss = opt.step(lambda: (lambda v: (v.backward(), v)[1])(loss_fn()))
        assert torch.is_tensor(loss)
        for p, o, tgt in ((solo[0], opt_a, target), (solo[1], opt_b, 0 * solo[1])):
            o.zero_grad()
            ((p - tgt) ** 2).sum().backward()
            o.step()
    assert torch.equal(a, solo[0]) and torch.equal(b, solo[1])
    # maximize g ≡ minimize with −g
    p, q = (torch.nn.Parameter(torch.ones(3)) for _ in range(2))
    o_max, o_min = LionK([p], lr=0.1, K="logcosh", maximize=True), LionK([q], lr=0.1, K="logcosh")
    for g in (torch.tensor([1.0, -2.0, 0.5]), torch.tensor([0.3, 0.1, -4.0])):
        p.grad, q.grad = g.clone(), -g
        o_max.step()
        o_min.step()
    assert torch.equal(p, q)


def test_complex_parameters_are_real_pairs_and_nuclear_refuses_them():
    torch.manual_seed(0)
    z = torch.nn.Parameter(torch.randn(6, dtype=torch.complex128))
    r = torch.nn.Parameter(torch.view_as_real(z.detach()).clone())
    oz, orr = (
        LionK([z], lr=0.1, weight_decay=0.3, K="l2"),
        LionK([r], lr=0.1, weight_decay=0.3, K="l2"),
    )
    for _ in range(3):
        g = torch.randn(6, dtype=torch.complex128)
        z.grad, r.grad = g, torch.view_as_real(g).clone()
        oz.step()
        orr.step()
    assert torch.equal(torch.view_as_real(z.detach()), r.detach())
    w = torch.nn.Parameter(torch.randn(2, 2, dtype=torch.complex64))
    w.grad = torch.ones_like(w)
    with pytest.raises(LionKError, match="complex"):
        LionK([w], lr=0.1, K="nuclear").step()


def test_user_errors_are_one_line_LionKErrors():
    p = torch.nn.Parameter(torch.zeros(3))
    for kw, msg in (
        ({"K": "nope"}, "unknown K 'nope'"),
        ({"K": "huber:delta"}, "name=number"),
        ({"lr": -1.0}, "learning rate"),
        ({"betas": (0.9, 1.0)}, "beta1 and beta2"),
        ({"decay": "x"}, "decay='x'"),
        ({"polar": "svd", "K": "nuclear"}, "polar='svd'"),
        ({"weight_decay": -1.0}, "≥ 0"),
    ):
        with pytest.raises(LionKError, match=msg) as info:
            LionK([p], **{"lr": 0.1, **kw})
        assert "\n" not in str(info.value)
    e = torch.nn.Embedding(4, 2, sparse=True)
    e(torch.tensor([1])).sum().backward()
    with pytest.raises(LionKError, match="sparse gradients"):
        LionK(e.parameters(), lr=0.1).step()
    assert isinstance(make_K("l1"), type(LionK([p], lr=0.1).param_groups[0]["K"]))


def test_norm_kernels_are_the_catalog_gradients_even_where_the_norm_overflows():
    """In-place l2/linf/logsumexp kernels = the catalog's ∇K; l2 falls back to the catalog's
    max-scaled formula when ‖c‖₂ overflows float32 (1e30² = inf)."""
    from lyapunov_lion.torch.rules import make_rule

    for name, c in (
        ("l2", torch.tensor([3e30, -4e30, 0.0])),
        ("l2", torch.tensor([3.0, 4.0])),
        ("linf", torch.tensor([1.0, -5.0, 5.0])),
        ("lp", torch.tensor([1e30, -2e30, 0.0])),
        ("logsumexp", torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)),
    ):
        K = make_K(name, **({"p": 3.0} if name == "lp" else {}))
        want = np.asarray(K.grad(c.double().numpy()))
        got = make_rule(K).apply_(c.clone())
        assert np.allclose(got.double().numpy(), want, rtol=1e-6, atol=0), name


@pytest.mark.parametrize("K", ["huber:delta=0.5", "l2", "nuclear"])
def test_bfloat16_parameters_follow_the_float32_run(K):
    """bf16 state and arithmetic (norm K computed in float32 and cast back): after 20 steps the
    bf16 iterate is within bf16 resolution of the float32 run (≈ 20 steps · 2⁻⁸ relative)."""
    torch.manual_seed(0)
    w32 = torch.nn.Parameter(torch.randn(6, 4) * 0.1)
    w16 = torch.nn.Parameter(w32.detach().to(torch.bfloat16))
    o32, o16 = (
        LionK([w32], lr=1e-2, weight_decay=1.0, K=K),
        LionK([w16], lr=1e-2, weight_decay=1.0, K=K),
    )
    for _ in range(20):
        g = torch.randn(6, 4)
        w32.grad, w16.grad = g, g.to(torch.bfloat16)
        o32.step()
        o16.step()
    assert w16.dtype == torch.bfloat16 and o16.state[w16]["exp_avg"].dtype == torch.bfloat16
    err = (w16.detach().float() - w32.detach()).abs().max() / w32.detach().abs().max()
    assert err < 20 * 2**-8


def test_non_contiguous_parameters_take_the_loop_path_with_the_same_result():
    torch.manual_seed(0)
    base = torch.randn(4, 6)
    p = torch.nn.Parameter(base.clone().t())  # non-contiguous
    q = torch.nn.Parameter(base.clone().t().contiguous())
    op, oq = (
        LionK([p], lr=0.1, weight_decay=0.5),
        LionK([q], lr=0.1, weight_decay=0.5, foreach=False),
    )
    for _ in range(3):
        g = torch.randn(6, 4)
        p.grad, q.grad = g.clone(), g.clone()
        op.step()
        oq.step()
    assert not p.is_contiguous() and torch.equal(p, q) and op.state[p]["step"] == 3
