"""Rewrite a scalar k(x) built from Abs/Max/Min/sign/Heaviside/Piecewise into smooth pieces.

The result is a `PiecewiseScalar`: breakpoints b_1 < … < b_n and, on each open interval
(b_i, b_{i+1}) (b_0 = −∞, b_{n+1} = +∞), one expression free of those non-smooth functions.

Method: take an innermost non-smooth node (its arguments contain none), find the points where it
switches branch inside the current interval — the real roots of ``a`` for Abs(a)/sign(a)/
Heaviside(a), of ``a_i − a_j`` for Max/Min, of ``lhs − rhs`` of every relation of a Piecewise
condition — with ``solveset`` (they must form a finite set), split the interval there, replace
the node on each sub-interval by the branch active at an interior test point (exact arithmetic,
50-digit evaluation when the sign is not decided exactly), and recurse until no non-smooth node
is left. Adjacent pieces with the same expression are merged.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .limits import Budget, SymbolicFailure

MAX_PIECES = 24
"""Most smooth pieces the engine accepts (more: `SymbolicFailure`, numerical fallback)."""

_NONSMOOTH = (sp.Abs, sp.Max, sp.Min, sp.sign, sp.Heaviside, sp.Piecewise)


@dataclass(frozen=True)
class Piece:
    """k(x) = ``expr`` on the open interval (``lo``, ``hi``) (sympy numbers, ±oo allowed)."""

    lo: sp.Expr
    hi: sp.Expr
    expr: sp.Expr

    def interval_text(self) -> str:
        return f"({_num_text(self.lo)}, {_num_text(self.hi)})"


@dataclass(frozen=True)
class PiecewiseScalar:
    """A scalar function of ``x`` as smooth pieces; ``values`` are k(b) at the breakpoints."""

    x: sp.Symbol
    expr: sp.Expr
    pieces: tuple[Piece, ...]

    @property
    def breakpoints(self) -> tuple[sp.Expr, ...]:
        return tuple(p.hi for p in self.pieces[:-1])

    def value_at(self, b: sp.Expr) -> sp.Expr:
        """k(b) from the original expression (Piecewise conditions decide the boundary value)."""
        return self.expr.subs(self.x, b)


def _num_text(v) -> str:
    if v == sp.oo:
        return "∞"
    if v == -sp.oo:
        return "−∞"
    return str(v)


def test_point(lo: sp.Expr, hi: sp.Expr) -> sp.Expr:
    """An exact interior point of (lo, hi): the midpoint, or 1 past a finite end, or 0."""
    if lo == -sp.oo and hi == sp.oo:
        return sp.Integer(0)
    if lo == -sp.oo:
        return hi - 1
    if hi == sp.oo:
        return lo + 1
    return (lo + hi) / 2


def sign_of(value: sp.Expr) -> int:
    """Sign (−1, 0, 1) of a real constant: exact when sympy decides it, else at 50 digits."""
    value = sp.nsimplify(value) if value.is_Float else value
    if value.is_zero:
        return 0
    if value.is_positive:
        return 1
    if value.is_negative:
        return -1
    num = sp.N(value, 50)
    if not num.is_real:
        raise SymbolicFailure("sign", f"value {value} is not a real number")
    try:
        if bool(abs(num) < sp.Float(10) ** -45):
            return 0
        return 1 if bool(num > 0) else -1
    except TypeError:  # an undecided relation, e.g. AccumBounds(0, 1) from a limit of sin
        raise SymbolicFailure("sign", f"the sign of {value} is not decided") from None


def _find_innermost(expr: sp.Basic, x: sp.Symbol):
    for node in sp.postorder_traversal(expr):
        if isinstance(node, _NONSMOOTH) and node.has(x):
            return node
    return None


def _switch_functions(node: sp.Basic) -> list[sp.Expr]:
    """Functions of x whose roots are the points where ``node`` may change branch."""
    if isinstance(node, (sp.Abs, sp.sign)):
        return [node.args[0]]
    if isinstance(node, sp.Heaviside):
        return [node.args[0]]
    if isinstance(node, (sp.Max, sp.Min)):
        a = node.args
        return [a[i] - a[j] for i in range(len(a)) for j in range(i + 1, len(a))]
    out = []
    for _, cond in node.args:  # Piecewise
        for rel in cond.atoms(sp.core.relational.Relational):
            out.append(rel.lhs - rel.rhs)
    return out


def _roots(fn: sp.Expr, x: sp.Symbol, lo, hi, budget: Budget) -> list[sp.Expr]:
    if not fn.has(x):
        return []
    sol = budget.call("breakpoints (solveset)", sp.solveset, fn, x, sp.Interval.open(lo, hi))
    if isinstance(sol, sp.FiniteSet):
        return [r for r in sol if r.is_real is not False]
    if sol == sp.EmptySet:
        return []
    raise SymbolicFailure(
        "breakpoints",
        f"the switching points of {fn} = 0 are not a finite set of closed-form numbers ({sol})",
    )


def _active_branch(node: sp.Basic, x: sp.Symbol, t: sp.Expr) -> sp.Expr:
    if isinstance(node, sp.Abs):
        a = node.args[0]
        return a if sign_of(a.subs(x, t)) >= 0 else -a
    if isinstance(node, sp.sign):
        return sp.Integer(sign_of(node.args[0].subs(x, t)))
    if isinstance(node, sp.Heaviside):
        s = sign_of(node.args[0].subs(x, t))
        return sp.Integer(1) if s > 0 else (sp.Integer(0) if s < 0 else node.subs(x, t))
    if isinstance(node, (sp.Max, sp.Min)):
        vals = [sp.N(a.subs(x, t), 50) for a in node.args]
        pick = max if isinstance(node, sp.Max) else min
        i = vals.index(pick(vals))
        return node.args[i]
    for e, cond in node.args:  # Piecewise: first branch whose condition holds at t
        c = cond.subs(x, t)
        if c not in (sp.true, sp.false):
            c = sp.N(cond.subs(x, t), 50)
        if c == sp.true:
            return e
    raise SymbolicFailure("pieces", f"no branch of {node} applies at x = {t}")


def split_pieces(expr: sp.Expr, x: sp.Symbol, budget: Budget) -> PiecewiseScalar:
    """Split ``expr`` (a function of ``x``) into smooth pieces (see the module docstring)."""
    work = [(-sp.oo, sp.oo, expr)]
    done: list[Piece] = []
    while work:
        lo, hi, e = work.pop()
        node = _find_innermost(e, x)
        if node is None:
            e = budget.try_call("simplify piece", sp.simplify, e, default=e)
            done.append(Piece(lo, hi, e))
            continue
        pts = set()
        for fn in _switch_functions(node):
            pts.update(_roots(fn, x, lo, hi, budget))
        cuts = [lo] + sorted(pts, key=lambda v: float(sp.N(v, 30))) + [hi]
        if len(cuts) - 1 + len(done) + len(work) > MAX_PIECES:
            raise SymbolicFailure("pieces", f"more than {MAX_PIECES} smooth pieces")
        for a, b in zip(cuts[:-1], cuts[1:], strict=False):
            branch = _active_branch(node, x, test_point(a, b))
            work.append((a, b, e.xreplace({node: branch})))
    done.sort(key=lambda p: -1e308 if p.lo == -sp.oo else float(sp.N(p.lo, 30)))
    merged: list[Piece] = []
    for p in done:
        if merged:
            q = merged[-1]
            same = budget.try_call(
                "merge pieces",
                lambda q=q, p=p: sp.simplify(q.expr - p.expr) == 0,
                default=False,
            )
            if same:
                merged[-1] = Piece(q.lo, p.hi, q.expr)
                continue
        merged.append(p)
    return PiecewiseScalar(x=x, expr=expr, pieces=tuple(merged))
