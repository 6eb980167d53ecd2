"""Statement (iv): the Lyapunov identity dH/dt = −Δ along the Lion-K ODE (spec §4), proved live.

The proof is a sympy computation, independent of K (so it is cached and costs ~0.1 s once):

* f, K and K* are *undefined* differentiable functions of d = `IDENTITY_DIM` variables whose
  partial derivatives are further undefined functions (∂_i f, ∂_i K, ∂_i K*);
* x(t), m(t) are undefined functions of t, and
  ``H = α f(x) + (γ/λ) K*(λx) + c·(K*(λx) + K(m) − λ mᵀx)``, c = `lyapunov_coefficients`\\["c"\\];
* sympy differentiates H(x(t), m(t)) in t (the chain rule), then the ODE of spec §3 is
  substituted: ṁ = −α∇f(x) − γm, ẋ = u − λx with u = ∇K(m̃), m̃ = m + εṁ;
* the gradient values ∇f(x) = g, ∇K(m) = p, ∇K*(λx) = v and the velocity u become free symbols,
  and dH/dt + Δ (Δ of spec §4 with the coefficients of `lyapunov_coefficients`) is reduced by
  ``sympy.cancel`` — it must be exactly 0.

No relation between K and K* (and none between p and u) is used, so the identity holds for every
differentiable K. Every term of dH/dt + Δ is an inner product, so the residual is a sum over
coordinates of one and the same scalar expression: the identity in d = 2 with independent symbols
gives it in every dimension. The descent Δ ≥ 0 then needs exactly the K-specific facts (i)
monotonicity of ∇K and (ii) the mixed inequality of Lemma 2.1 (with εγ ≤ 1).

`with_identity` words (iv) for one report (differentiable K or a.e., dom K* = R^d or not) and
inserts it before "Lyapunov descent" (a helper of the `certificates` stage; it imports no stage).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from .record import FAILED, PROVEN, Statement, VerifyReport, weakest

IDENTITY_DIM = 2
"""Dimension of the symbolic vectors (see the module docstring for why d = 2 suffices)."""

ALPHA, GAMMA, EPS, LAM = sp.symbols("alpha gamma epsilon lambda", positive=True)
_TEXT_NAMES = (("epsilon", "ε"), ("lambda", "λ"), ("gamma", "γ"), ("alpha", "α"))


def lyapunov_coefficients(alpha=ALPHA, gamma=GAMMA, eps=EPS, lam=LAM) -> dict:
    """The coefficients of spec §4 [derived]: c = (1 − εγ)/(1 + ελ) (weight of the Fenchel–Young
    gap in H), c1 = (γ + λ)/(1 + ελ) and c2 = (1 − εγ)/(ε(1 + ελ)) (the two terms of Δ)."""
    return {
        "c": (1 - eps * gamma) / (1 + eps * lam),
        "c1": (gamma + lam) / (1 + eps * lam),
        "c2": (1 - eps * gamma) / (eps * (1 + eps * lam)),
    }


def coefficient_text(expr: sp.Expr) -> str:
    """Plain text of a coefficient with Greek letters, e.g. ``(1 − εγ)/(1 + ελ)``."""
    s = sp.sstr(expr, order="rev-lex")
    for name, greek in _TEXT_NAMES:
        s = s.replace(name, greek)
    return s.replace("**", "^").replace("*", "").replace(" - ", " − ").replace("(-", "(−")


def coefficient_latex(expr: sp.Expr) -> str:
    """LaTeX of a coefficient (ε written \\varepsilon)."""
    return sp.latex(expr, order="rev-lex", symbol_names={EPS: r"\varepsilon"})


@dataclass(frozen=True)
class IdentityProof:
    """Result of the sympy computation: ``holds`` iff the residual dH/dt + Δ (``residual_expr``,
    in the symbols x1, x2, m…, g… = ∇f, p… = ∇K(m), u… = ∇K(m̃), v… = ∇K*(λx)) is exactly 0."""

    holds: bool
    residual: str
    residual_expr: sp.Expr
    c_text: str
    c_latex: str
    c1_text: str
    c2_text: str
    c1_latex: str
    c2_latex: str
    dim: int
    seconds: float

    def formulas(self) -> dict:
        """H, c and Δ as text and LaTeX (for the report)."""
        return {
            "H_text": "H(x, m) = α f(x) + (γ/λ) K*(λx) + c·(K*(λx) + K(m) − λ mᵀx)",
            "H_latex": (
                r"H(x, m) = \alpha f(x) + \frac{\gamma}{\lambda} K^*(\lambda x) + "
                r"c\,\big(K^*(\lambda x) + K(m) - \lambda m^\top x\big)"
            ),
            "c_text": f"c = {self.c_text}",
            "c_latex": f"c = {self.c_latex}",
            "Delta_text": (
                f"Δ = {self.c1_text}·(∇K(m̃) − λx)ᵀ(m̃ − ∇K*(λx)) + {self.c2_text}"
                "·(∇K(m̃) − ∇K(m))ᵀ(m̃ − m),  m̃ = m − ε(α∇f(x) + γm)"
            ),
            "Delta_latex": (
                r"\Delta = "
                + self.c1_latex
                + r"\,(\nabla K(\tilde m) - \lambda x)^\top(\tilde m - \nabla K^*(\lambda x)) + "
                + self.c2_latex
                + r"\,(\nabla K(\tilde m) - \nabla K(m))^\top(\tilde m - m),\quad "
                r"\tilde m = m - \varepsilon(\alpha\nabla f(x) + \gamma m)"
            ),
        }


def _function_with_gradient(name: str, dim: int):
    """An undefined sympy function of ``dim`` arguments whose i-th partial derivative is the
    undefined function ``d{i}_{name}`` (so the chain rule yields plain gradient symbols)."""
    partials = [sp.Function(f"d{i}_{name}") for i in range(1, dim + 1)]

    def fdiff(self, argindex=1):
        return partials[argindex - 1](*self.args)

    cls = type(name, (sp.Function,), {"nargs": dim, "fdiff": fdiff})
    return cls, partials


@functools.lru_cache(maxsize=8)
def _prove(c: sp.Expr, c1: sp.Expr, c2: sp.Expr, dim: int) -> IdentityProof:
    t0 = time.monotonic()
    t = sp.Symbol("t", real=True)
    f, df = _function_with_gradient("f", dim)
    K, dK = _function_with_gradient("K", dim)
    Ks, dKs = _function_with_gradient("Kstar", dim)
    xt = [sp.Function(f"x{i}")(t) for i in range(1, dim + 1)]
    mt = [sp.Function(f"m{i}")(t) for i in range(1, dim + 1)]
    lx_t = [LAM * xi for xi in xt]

    def inner(a, b):
        return sp.Add(*[ai * bi for ai, bi in zip(a, b, strict=False)])

    H = ALPHA * f(*xt) + GAMMA / LAM * Ks(*lx_t) + c * (Ks(*lx_t) + K(*mt) - LAM * inner(mt, xt))
    dH = H.diff(t)  # the chain rule, done by sympy

    def vec(n):
        return list(sp.symbols(f"{n}1:{dim + 1}", real=True))

    x, m, g, p, u, v = (vec(n) for n in "xmgpuv")
    mdot = [-ALPHA * gi - GAMMA * mi for gi, mi in zip(g, m, strict=False)]
    m_tilde = [mi + EPS * di for mi, di in zip(m, mdot, strict=False)]
    xdot = [ui - LAM * xi for ui, xi in zip(u, x, strict=False)]
    lx = [LAM * xi for xi in x]
    ode = {
        **{xi.diff(t): d for xi, d in zip(xt, xdot, strict=False)},
        **{mi.diff(t): d for mi, d in zip(mt, mdot, strict=False)},
    }
    dH = dH.subs(ode)
    grads = {}
    for i in range(dim):
        grads[df[i](*xt)] = g[i]
        grads[dK[i](*mt)] = p[i]
        grads[dKs[i](*lx_t)] = v[i]
    dH = dH.xreplace(grads).xreplace(
        {**dict(zip(xt, x, strict=False)), **dict(zip(mt, m, strict=False))}
    )
    leftover = dH.atoms(sp.Derivative) | dH.atoms(sp.core.function.AppliedUndef)
    if leftover:  # pragma: no cover - would mean the substitution above is incomplete
        raise RuntimeError(f"chain rule left unsubstituted terms: {leftover}")
    Delta = c1 * inner(
        [ui - li for ui, li in zip(u, lx, strict=False)],
        [a - b for a, b in zip(m_tilde, v, strict=False)],
    ) + c2 * inner(
        [ui - pi for ui, pi in zip(u, p, strict=False)],
        [a - b for a, b in zip(m_tilde, m, strict=False)],
    )
    residual = sp.cancel(sp.together(dH + Delta))
    return IdentityProof(
        holds=residual == 0,
        residual=str(residual),
        residual_expr=residual,
        c_text=coefficient_text(c),
        c_latex=coefficient_latex(c),
        c1_text=coefficient_text(c1),
        c2_text=coefficient_text(c2),
        c1_latex=coefficient_latex(c1),
        c2_latex=coefficient_latex(c2),
        dim=dim,
        seconds=time.monotonic() - t0,
    )


def prove_dHdt_identity(dim: int = IDENTITY_DIM) -> IdentityProof:
    """Run (or fetch from the cache) the sympy proof of dH/dt = −Δ with the coefficients of
    `lyapunov_coefficients` (module docstring). The cache key is the coefficients themselves, so
    a changed coefficient is re-proved (and, when wrong, fails)."""
    co = lyapunov_coefficients()
    return _prove(co["c"], co["c1"], co["c2"], dim)


CHAIN_RULE_REF = (
    "the chain rule for convex functions (Brezis 1973, Opérateurs maximaux "
    "monotones, Lemme 3.3: for y(t) absolutely continuous with an L² selection of "
    "∂φ(y(t)), d/dt φ(y(t)) = hᵀẏ(t) for every h ∈ ∂φ(y(t)), a.e. t)"
)


def identity_statement(
    differentiable: bool | None, nonsmooth_where: str = "", conj_constrained: bool | None = None
) -> Statement:
    """Statement (iv) for a K: PROVEN when the cached sympy residual is 0, FAILED otherwise.

    ``differentiable``: whether K is differentiable (None: not decided). For a non-differentiable
    K the claim is the a.e. (subgradient) version; the calculus step is the cited chain rule for
    convex functions (`CHAIN_RULE_REF`), the algebra is the same sympy computation.
    ``conj_constrained``: dom K* ≠ R^d (then K* is not differentiable on its boundary and the same
    a.e. statement covers λx on the boundary); None: not determined. The classical wording is
    used only for a differentiable K with dom K* = R^d."""
    proof = prove_dHdt_identity()
    fm = proof.formulas()
    algebra = (
        f"sympy ({proof.seconds:.2f} s, cached: K-independent): chain rule applied to "
        f"H(x(t), m(t)) with f, K, K* undefined differentiable functions on R^{proof.dim}, "
        "then ṁ = −α∇f − γm, ẋ = ∇K(m̃) − λx substituted and ∇f(x), ∇K(m), ∇K*(λx), "
        f"∇K(m̃) replaced by free symbols; {fm['c_text']}; residual dH/dt + Δ = "
        f"{proof.residual}. No relation between K and K* is used (identity for every "
        "differentiable K; each term is an inner product, so d = "
        f"{proof.dim} gives every d). Descent Δ ≥ 0 (εγ ≤ 1) then needs only the "
        "K-specific facts (i) and (ii)"
    )
    if not proof.holds:
        return Statement(
            "(iv) dH/dt = −Δ along the ODE (spec §4)",
            "dH/dt + Δ ≡ 0 with the stated c and Δ",
            FAILED,
            algebra,
            counterexample={"residual": proof.residual},
        )
    smooth = differentiable is True and conj_constrained is False
    if smooth:
        claim = "dH/dt = −Δ (c and Δ as stated above; every differentiable K)"
        detail = algebra
    else:
        if differentiable is False:
            where = f" ({nonsmooth_where})" if nonsmooth_where else ""
            what = f"K is not differentiable{where}"
        elif differentiable is None:
            what = "differentiability of K not decided"
        else:
            what = "K is differentiable"
        if conj_constrained:
            what += "; K* is finite only on dom K* (not differentiable on its boundary)"
        elif conj_constrained is None:
            what += "; dom K* (and where K* is differentiable) not determined"
        claim = (
            "dH/dt = −Δ (c and Δ as stated above) for a.e. t with λx(t) ∈ dom K*, where "
            "∇K(m) ∈ ∂K(m), ∇K*(λx) ∈ ∂K*(λx) are any subgradients and ∇K(m̃) ∈ ∂K(m̃) is "
            "the Filippov velocity"
        )
        detail = (
            algebra + f". {what}: on every time interval on which K and K* are "
            "differentiable along m(t), λx(t) (the Filippov selection is then fixed and "
            "classical) this is the classical chain rule; in general (switching times, "
            "sliding modes, λx on the boundary of dom K*) the same algebra holds for a.e. t "
            "by " + CHAIN_RULE_REF + " — cited, not re-proved here; (i) and (ii) hold for "
            "subgradients (monotonicity of ∂K, ∂K* = (∂K)⁻¹)"
        )
    return Statement("(iv) dH/dt = −Δ along the ODE (spec §4)", claim, PROVEN, detail)


# ------------------------------------------------------------------------------------------
# (iv) for one report
# ------------------------------------------------------------------------------------------
_NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.Piecewise, sp.sign, sp.Heaviside)


def _expression_smoothness(expr) -> bool | None:
    """True for a composition of functions smooth on all of R^d (no Abs/Max/Min/Piecewise/sign/
    Heaviside, only integer powers, no log/sqrt that could meet 0); None (not decided) otherwise."""
    if expr is None or expr.has(*_NONSMOOTH):
        return None
    for p in expr.atoms(sp.Pow):
        if not (p.exp.is_Integer and (p.exp >= 0 or p.base.is_positive)):
            return None
    if any(not a.args[0].is_positive for a in expr.atoms(sp.log)):
        return None
    return True


def _smoothness(rep: VerifyReport) -> tuple[bool | None, str, bool | None]:
    """(K differentiable?, where it is not, dom K* ≠ R^d?) from what the report derived."""
    if rep.kind == "norm":
        return False, "a norm has a kink at 0", True
    if rep.kind != "separable":
        return _expression_smoothness(rep.expr), "", None
    kinks = (rep.grad or {}).get("kinks") or []
    conj = rep.conjugate
    constrained = None
    if conj is not None:
        constrained = bool(np.isfinite(float(conj.ymin)) or np.isfinite(float(conj.ymax)))
    if rep.pieces is None:
        return None, "smooth pieces not found", constrained
    if kinks:
        return False, "kinks of k at x = " + ", ".join(str(b) for b, _ in kinks), constrained
    return True, "", constrained


def with_identity(rep: VerifyReport) -> VerifyReport:
    """A copy of ``rep`` with (iv) in ``lyapunov`` (before "Lyapunov descent", whose status then
    also depends on it) and the H, c, Δ formulas; ``rep`` and its statements are not changed."""
    diff, where, constrained = _smoothness(rep)
    st = identity_statement(diff, where, constrained)
    lyapunov = list(rep.lyapunov)
    names = [s.name for s in lyapunov]
    if "Lyapunov descent" in names:
        i = names.index("Lyapunov descent")
        descent = lyapunov[i]
        lyapunov[i : i + 1] = [
            st,
            replace(
                descent,
                status=weakest([descent.status, st.status]),
                detail=descent.detail + "; dH/dt = −Δ by (iv)",
            ),
        ]
    else:
        lyapunov.append(st)
    return replace(
        rep, lyapunov=tuple(lyapunov), lyapunov_formulas=prove_dHdt_identity().formulas()
    )
