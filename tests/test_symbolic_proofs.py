"""Statements (iv) (sympy proof of dH/dt = −Δ) and (v)/(v′) (spec §5 inequality on runs) of
verify."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

import lyapunov_lion.core.lyapunov as core_lyapunov
from lyapunov_lion.core.lyapunov import lyapunov_c
from lyapunov_lion.symbolic import (
    CHECKED,
    FAILED,
    PROVEN,
    SKIPPED,
    discrete_check,
    identity,
    verify,
    verify_any,
)
from lyapunov_lion.symbolic.kbuild import K_from_report


def _iv(rep):
    return next(s for s in rep.lyapunov if s.name.startswith("(iv)"))


def _v(rep):
    return {s.name.split(" ")[0]: s for s in rep.discrete}


# ------------------------------------------------------------------------------------------
# (iv) the identity
# ------------------------------------------------------------------------------------------
def test_identity_is_proven_exactly_and_cached():
    proof = identity.prove_dHdt_identity()
    assert proof.holds and proof.residual == "0"
    # K-independent: the second call is the cached object (verify stays fast)
    assert identity.prove_dHdt_identity() is proof
    fm = proof.formulas()
    assert fm["c_text"] == "c = (1 − εγ)/(1 + ελ)"
    assert fm["c_latex"] == r"c = \frac{1 - \varepsilon \gamma}{1 + \varepsilon \lambda}"
    assert "(1 − εγ)/(ε(1 + ελ))" in fm["Delta_text"]


def test_identity_coefficients_agree_with_the_core():
    """The c proved here is the c the numerical core uses (exact rational points: equal to
    float rounding, 1e-15 relative)."""
    co = identity.lyapunov_coefficients()
    rng = np.random.default_rng(0)
    for lam, gam, eps in rng.uniform(0.05, 3.0, (20, 3)):
        subs = {identity.LAM: lam, identity.GAMMA: gam, identity.EPS: eps}
        assert float(co["c"].subs(subs)) == pytest.approx(
            float(lyapunov_c(lam, gam, eps)), rel=1e-15
        )


@pytest.mark.parametrize(
    "key,bad",
    [
        ("c", lambda a, g, e, lam: 1 - e * g),  # the Fenchel–Young weight without 1/(1+ελ)
        ("c1", lambda a, g, e, lam: (g + lam) / (1 + e * g)),  # a wrong first coefficient of Δ
        ("c2", lambda a, g, e, lam: (1 - e * g) / (1 + e * lam)),  # ε missing in the second
    ],
)
def test_breaking_a_coefficient_fails_iv(monkeypatch, key, bad):
    orig = identity.lyapunov_coefficients

    def broken(alpha=identity.ALPHA, gamma=identity.GAMMA, eps=identity.EPS, lam=identity.LAM):
        co = dict(orig(alpha, gamma, eps, lam))
        co[key] = bad(alpha, gamma, eps, lam)
        return co

    monkeypatch.setattr(identity, "lyapunov_coefficients", broken)
    proof = identity.prove_dHdt_identity()
    assert not proof.holds and proof.residual != "0"
    rep = verify("Abs(x)")
    iv = _iv(rep)
    assert iv.status == FAILED and iv.counterexample["residual"] == proof.residual
    descent = rep.lyapunov[-1]
    assert descent.name == "Lyapunov descent" and descent.status == FAILED
    assert not rep.ok


def test_residual_is_the_spec_difference_for_a_wrong_c(monkeypatch):
    """With c' instead of c the residual is (c' − c)·d/dt[FY gap] — checked against the residual
    sympy reports (independent re-derivation, d = 2: ṁ, ẋ substituted)."""
    orig = identity.lyapunov_coefficients
    monkeypatch.setattr(
        identity,
        "lyapunov_coefficients",
        lambda **kw: {**orig(), "c": orig()["c"] + sp.Rational(1, 7)},
    )
    res = identity.prove_dHdt_identity().residual_expr
    al, ga, la = identity.ALPHA, identity.GAMMA, identity.LAM
    x, m, g, p, u, v = (sp.symbols(f"{n}1:3", real=True) for n in "xmgpuv")
    mdot = [-al * gi - ga * mi for gi, mi in zip(g, m, strict=True)]
    xdot = [ui - la * xi for ui, xi in zip(u, x, strict=True)]
    fy_dot = sum(
        la * vi * xd + pi * md - la * (md * xi + mi * xd)
        for vi, xd, pi, md, xi, mi in zip(v, xdot, p, mdot, x, m, strict=True)
    )
    assert sp.simplify(res - sp.Rational(1, 7) * fy_dot) == 0


@pytest.mark.parametrize(
    "expr,classical",
    [
        ("x**2/2", True),  # differentiable K, dom K* = R
        ("Abs(x)**1.5/1.5", True),
        ("log(cosh(x))", False),  # K smooth but dom K* = [−1, 1]: a.e. wording
        ("Abs(x)", False),  # kink at 0
        ("Max(Abs(x1), Abs(x2))", False),  # a norm
    ],
)
def test_iv_wording_follows_differentiability(expr, classical):
    rep = verify_any(expr)
    iv = _iv(rep)
    assert iv.status == PROVEN
    assert ("a.e. t" in iv.claim) is (not classical)
    if not classical:
        assert "chain rule for convex functions" in iv.detail
    # (iv) precedes the descent statement, which stays last and cites it
    assert rep.lyapunov[-1].name == "Lyapunov descent" and "(iv)" in rep.lyapunov[-1].detail


def test_report_writes_H_c_and_Delta():
    rep = verify("Abs(x) + x**2/2")
    text, latex, md = rep.to_text(), rep.to_latex(), rep.to_markdown()
    assert "c = (1 − εγ)/(1 + ελ)" in text and "Δ = (λ + γ)/(1 + ελ)·" in text
    assert r"c = \frac{1 - \varepsilon \gamma}{1 + \varepsilon \lambda}" in latex.splitlines()
    assert any(ln.startswith(r"\Delta = ") for ln in latex.splitlines())
    assert r"$\Delta = " in md
    d = rep.to_dict()
    assert d["lyapunov_formulas"]["c_text"] == "c = (1 − εγ)/(1 + ελ)"
    assert [s["name"].split(" ")[0] for s in d["discrete"]] == ["(v)", "(v′)"]


# ------------------------------------------------------------------------------------------
# (v), (v′) the discrete inequality
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "expr",
    [
        "log(cosh(x))",
        "Abs(x)",
        "Max(Abs(x)-1/10,0)",
        "Max(Abs(x1), Abs(x2))",
        "sqrt(x1**2 + x2**2)",
    ],
)
def test_discrete_inequality_checked_without_violation(expr):
    rep = verify_any(expr)
    v = _v(rep)
    for key in ("(v)", "(v′)"):
        st = v[key]
        assert st.status == CHECKED, st.line()
        # 54 runs × 300 steps; at least the inside/boundary starts (2/3 of the runs) are checked
        assert st.n_samples >= 2 * 54 * 300 // 3
        # CHECKED means no slack above 1e-11·(magnitudes): the absolute slack is rounding-level
        assert st.max_violation <= 1e-9 and st.counterexample is None


def test_outside_starts_enter_and_are_checked():
    """λx0 = (4, −3) lies outside the box dom K* of Abs; with η = 0.2 phase 1 ends within the run
    ((1+ηλ)^−t bound) and those runs' later steps are checked too."""
    K = K_from_report(verify("Abs(x)"))
    grid = discrete_check._grid(K)
    settings = grid[-1]
    diag, kept, n_div, _ = discrete_check._run(K, "implicit", grid, discrete_check.STEPS)
    assert n_div == 0 and len(kept) == len(settings)
    n = np.asarray(diag.spec_inequality.n_checked)
    outside = np.array([s["start"] == "outside dom K*" and s["lr"] == 0.2 for s in kept])
    assert outside.sum() == 6 and np.all(n[outside] > 0)
    # and the first step of those runs (λx0 outside) is not checked
    assert np.all(np.isnan(diag.spec_inequality.slack[0, outside]))


@pytest.mark.parametrize("factor", [0.0, 0.5, 1.1, 3.0])
def test_wrong_a_coefficient_fails_v(monkeypatch, factor):
    """a scaled by 1.1 already breaks the inequality on some steps (slack ≫ rounding)."""
    orig = core_lyapunov.discrete_a
    monkeypatch.setattr(core_lyapunov, "discrete_a", lambda *args, **kw: factor * orig(*args, **kw))
    rep = verify("log(cosh(x))")
    v = _v(rep)
    for key in ("(v)", "(v′)"):
        st = v[key]
        assert st.status == FAILED
        ce = st.counterexample
        assert ce["slack"] > 1e-6 and ce["steps_violating"] >= 1
        assert {"beta1", "beta2", "lr", "lam", "start", "step"} <= ce.keys()
    assert not rep.ok


def test_v_skipped_without_a_K():
    rep = verify_any("log(exp(x1) + exp(x2))")
    assert all(s.status == SKIPPED and "not handled" in s.detail for s in rep.discrete)
    rep = verify("sin(x)")
    assert all(s.status == SKIPPED and "not convex" in s.detail for s in rep.discrete)
    assert _iv(rep).status == PROVEN  # K-independent


def test_v_on_a_numerical_conjugate():
    """k' = x + tanh x has no closed-form inverse: k* is numerical, the runs are shorter."""
    rep = verify("x**2/2 + log(cosh(x))")
    assert rep.method == "numerical"
    for st in rep.discrete:
        assert st.status == CHECKED and st.n_samples == 54 * discrete_check.STEPS_NUMERICAL
        assert "K* numerical" in st.detail


def test_diverging_runs_are_reported_not_hidden():
    """K = |x|^4/4: ∇K(m̃) = m̃³ makes large-η runs blow up; they are counted in the detail."""
    rep = verify("x**4/4")
    for st in rep.discrete:
        assert st.status == CHECKED
        assert "runs diverged" in st.detail
