"""Safe parsing of user expressions (objectives f, custom K) into sympy, without ``eval``.

The text is parsed by Python's :mod:`ast` in ``mode='eval'`` (parsing never executes anything)
and the syntax tree is walked against an allow-list; every allowed node is turned into the
corresponding sympy object by hand. Nothing of the user's text is ever passed to ``eval``,
``exec``, ``sympy.sympify`` or ``sympy.parse_expr`` (those evaluate Python code).

Allowed:

* numbers: ``int`` -> ``sympy.Integer``; ``float`` -> the exact ``sympy.Rational`` of its shortest
  decimal form (``0.1`` -> 1/10, ``1e-3`` -> 1/1000), so ``1/10`` and ``0.1`` are the same exact
  number for the symbolic verifier;
* operators ``+ - * / **`` and unary ``-``/``+`` (``^`` is rejected with a hint to use ``**``);
* names: the declared variables, and the constants ``pi`` and ``E``;
* calls, positional arguments only, of: Abs/abs, sqrt, exp, log, sin, cos, tan, sinh, cosh, tanh,
  atan, asinh, Max/max, Min/min, sign, Heaviside, Piecewise;
* inside ``Piecewise((expr, cond), ...)`` conditions: comparisons (chained ones too),
  ``and``/``or``/ ``not``, ``&``/``|``, ``And(...)``/``Or(...)``/``Not(...)`` and
  ``True``/``False``.

Everything else (attribute access, subscripts, keywords, strings, lambdas, comprehensions, dunder
names, unknown names or functions) raises `LionKError` with a one-line message saying what is
wrong and how to fix it. Sizes are bounded: at most ``MAX_LENGTH`` characters, syntax-tree depth
``MAX_DEPTH``, numeric exponents of absolute value at most ``MAX_EXPONENT`` and exact numbers of at
most ``MAX_DIGITS`` digits (so ``9**9**9**9`` is refused instead of hanging).

Variables are real sympy Symbols (``real=True``), so ``diff(Abs(x), x) = sign(x)``.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeAlias

import numpy as np
import sympy
from numpy.typing import NDArray

from ..errors import LionKError

MAX_LENGTH = 2000
"""Longest accepted expression text, in characters."""
MAX_DEPTH = 60
"""Deepest accepted syntax tree (nested operations and calls)."""
MAX_EXPONENT = 1000
"""Largest accepted |exponent| when the exponent of ``**`` is a number."""
MAX_DIGITS = 1000
"""Largest accepted exact number (integer or rational), in decimal digits."""

_VAR_RE = re.compile(r"x([1-9][0-9]*)?")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_CONSTANTS = {"pi": sympy.pi, "E": sympy.E}

# name -> (sympy callable, min number of args, max number of args (None = any))
_FUNCTIONS: dict[str, tuple[Callable[..., sympy.Basic], int, int | None]] = {
    "Abs": (sympy.Abs, 1, 1),
    "abs": (sympy.Abs, 1, 1),
    "sqrt": (sympy.sqrt, 1, 1),
    "exp": (sympy.exp, 1, 1),
    "log": (sympy.log, 1, 2),
    "sin": (sympy.sin, 1, 1),
    "cos": (sympy.cos, 1, 1),
    "tan": (sympy.tan, 1, 1),
    "sinh": (sympy.sinh, 1, 1),
    "cosh": (sympy.cosh, 1, 1),
    "tanh": (sympy.tanh, 1, 1),
    "atan": (sympy.atan, 1, 1),
    "asinh": (sympy.asinh, 1, 1),
    "Max": (sympy.Max, 1, None),
    "max": (sympy.Max, 1, None),
    "Min": (sympy.Min, 1, None),
    "min": (sympy.Min, 1, None),
    "sign": (sympy.sign, 1, 1),
    "Heaviside": (sympy.Heaviside, 1, 2),
}
_LOGIC_FUNCTIONS = {"And": sympy.And, "Or": sympy.Or, "Not": sympy.Not}
_ALLOWED_FUNCTION_LIST = ", ".join(list(_FUNCTIONS) + ["Piecewise"])

_COMPARE = {
    ast.Lt: sympy.Lt,
    ast.LtE: sympy.Le,
    ast.Gt: sympy.Gt,
    ast.GtE: sympy.Ge,
    ast.Eq: sympy.Eq,
    ast.NotEq: sympy.Ne,
}

# Friendly messages for syntax that is never allowed.
_FORBIDDEN = {
    ast.Attribute: "attribute access ('.name') is not allowed in expressions",
    ast.Subscript: "indexing ('[...]') is not allowed; write x1, x2, ... instead of x[0], x[1]",
    ast.Lambda: "lambda is not allowed in expressions; write the formula directly",
    ast.List: "lists ('[...]') are not allowed in expressions",
    ast.Set: "sets ('{...}') are not allowed in expressions",
    ast.Dict: "dicts ('{...: ...}') are not allowed in expressions",
    ast.ListComp: "comprehensions are not allowed in expressions",
    ast.SetComp: "comprehensions are not allowed in expressions",
    ast.DictComp: "comprehensions are not allowed in expressions",
    ast.GeneratorExp: "generator expressions are not allowed in expressions",
    ast.IfExp: "'a if c else b' is not allowed; use Piecewise((a, c), (b, True))",
    ast.NamedExpr: "assignment (':=') is not allowed in expressions",
    ast.Await: "'await' is not allowed in expressions",
    ast.Yield: "'yield' is not allowed in expressions",
    ast.YieldFrom: "'yield' is not allowed in expressions",
    ast.JoinedStr: "strings are not allowed in expressions",
    ast.Starred: "'*' unpacking is not allowed in expressions",
    ast.Slice: "slices are not allowed in expressions",
}


@dataclass(frozen=True)
class ParsedExpression:
    """A parsed expression: the sympy tree ``expr`` and its ordered real ``variables``.

    ``variables`` are sorted x1, x2, ... by index (or the single ``x`` of a separable scalar
    function, or the names the caller declared, in the caller's order).
    """

    text: str
    expr: sympy.Expr
    variables: tuple[sympy.Symbol, ...]

    @property
    def dim(self) -> int:
        """Number of variables."""
        return len(self.variables)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v.name for v in self.variables)


def _fail(msg: str) -> LionKError:
    return LionKError(msg.replace("\n", " "))


def _default_var_hint(names: Iterable[str] | None) -> str:
    if names is None:
        return "use x1, x2, ... (or x for a separable K)"
    return "declared variables: " + (", ".join(names) or "none")


class _Builder:
    """Walk an allow-listed `ast` tree and build the sympy expression (no evaluation of text)."""

    def __init__(self, symbols: dict[str, sympy.Symbol] | None, declared: Sequence[str] | None):
        # symbols None: collect x / x1.. on the fly (variables not declared by the caller)
        self.symbols = symbols
        self.declared = declared
        self.seen: dict[str, sympy.Symbol] = {}

    # -- leaves ----------------------------------------------------------------------------
    def name(self, node: ast.Name, in_cond: bool) -> sympy.Basic:
        ident = node.id
        if "__" in ident:
            raise _fail(f"dunder names like {ident!r} are not allowed in expressions")
        if self.symbols is not None:
            if ident in self.symbols:
                return self.symbols[ident]
        elif _VAR_RE.fullmatch(ident):
            sym = self.seen.get(ident)
            if sym is None:
                sym = self.seen[ident] = sympy.Symbol(ident, real=True)
            return sym
        if ident in _CONSTANTS:
            return _CONSTANTS[ident]
        if ident in _FUNCTIONS or ident in _LOGIC_FUNCTIONS or ident == "Piecewise":
            raise _fail(f"function {ident!r} must be called, e.g. {ident}(x1)")
        hint = _default_var_hint(self.declared)
        extra = ""
        if ident == "e":
            extra = " (Euler's number is E)"
        elif ident == "x0" and self.symbols is None:
            extra = " (variables are numbered from x1)"
        raise _fail(f"unknown name {ident!r} in expression{extra}; {hint}, and the constants pi, E")

    @staticmethod
    def number(node: ast.Constant) -> sympy.Basic:
        v = node.value
        if isinstance(v, bool) or v is None or v is Ellipsis:
            raise _fail(
                f"{v!r} is not allowed here; True/False only appear in Piecewise conditions"
            )
        if isinstance(v, int):
            if len(str(abs(v))) > MAX_DIGITS:
                raise _fail(f"integer literal too long (more than {MAX_DIGITS} digits)")
            return sympy.Integer(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                raise _fail("non-finite number literal in expression")
            # exact value of the shortest decimal form (0.1 -> 1/10), via fractions (no parsing
            # of text by sympy)
            num, den = Fraction(repr(v)).as_integer_ratio()
            return sympy.Rational(num, den)
        if isinstance(v, complex):
            raise _fail("complex numbers (e.g. 1j) are not allowed; expressions are real")
        if isinstance(v, (str, bytes)):
            raise _fail("strings are not allowed in expressions; write the formula without quotes")
        raise _fail(f"constant {v!r} is not allowed in expressions")

    # -- the walk --------------------------------------------------------------------------
    def build(self, node: ast.AST, in_cond: bool = False) -> sympy.Basic:
        if isinstance(node, ast.Expression):
            return self.build(node.body, in_cond)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) and in_cond:
                return sympy.true if node.value else sympy.false
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node, in_cond)
        if isinstance(node, ast.UnaryOp):
            return self.unary(node, in_cond)
        if isinstance(node, ast.BinOp):
            return self.binop(node, in_cond)
        if isinstance(node, ast.Call):
            return self.call(node, in_cond)
        if isinstance(node, ast.Compare):
            return self.compare(node, in_cond)
        if isinstance(node, ast.BoolOp):
            if not in_cond:
                raise _fail("'and'/'or' are only allowed inside Piecewise conditions")
            parts = [self.condition(v) for v in node.values]
            return sympy.And(*parts) if isinstance(node.op, ast.And) else sympy.Or(*parts)
        if isinstance(node, ast.Tuple):
            raise _fail("tuples are only allowed as (expr, condition) pairs inside Piecewise(...)")
        msg = _FORBIDDEN.get(type(node))
        if msg is None:
            msg = f"syntax {type(node).__name__!r} is not allowed in expressions"
        raise _fail(msg)

    def arith(self, node: ast.AST, in_cond: bool) -> sympy.Expr:
        """Build a node that must be a real-valued (not boolean) expression."""
        val = self.build(node, in_cond)
        if isinstance(
            val, (sympy.logic.boolalg.Boolean, sympy.core.relational.Relational)
        ) and not isinstance(val, sympy.Expr):
            raise _fail(
                "a condition was used where a number is expected; conditions only go "
                "in the second slot of Piecewise((expr, condition), ...)"
            )
        return val

    def condition(self, node: ast.AST) -> sympy.Basic:
        val = self.build(node, in_cond=True)
        # sympy Symbols are Boolean too: a condition must be a Boolean that is not an Expr
        if not isinstance(val, sympy.logic.boolalg.Boolean) or isinstance(val, sympy.Expr):
            raise _fail(
                "a Piecewise condition must be a comparison (e.g. x1 > 0), a combination "
                "of comparisons with and/or/not, or True"
            )
        return val

    def unary(self, node: ast.UnaryOp, in_cond: bool) -> sympy.Basic:
        if isinstance(node.op, ast.USub):
            return -self.arith(node.operand, in_cond)
        if isinstance(node.op, ast.UAdd):
            return self.arith(node.operand, in_cond)
        if isinstance(node.op, ast.Not):
            if not in_cond:
                raise _fail("'not' is only allowed inside Piecewise conditions")
            return sympy.Not(self.condition(node.operand))
        raise _fail("'~' is not allowed in expressions")

    def binop(self, node: ast.BinOp, in_cond: bool) -> sympy.Basic:
        op = node.op
        if isinstance(op, (ast.BitAnd, ast.BitOr)) and in_cond:
            a, b = self.condition(node.left), self.condition(node.right)
            return sympy.And(a, b) if isinstance(op, ast.BitAnd) else sympy.Or(a, b)
        if isinstance(op, ast.BitXor):
            raise _fail("'^' is not allowed; write powers with ** (e.g. x1**2)")
        if isinstance(op, ast.FloorDiv):
            raise _fail("'//' is not allowed; use / (exact division)")
        if isinstance(op, ast.Mod):
            raise _fail("'%' is not allowed in expressions")
        if isinstance(op, ast.MatMult):
            raise _fail("'@' is not allowed in expressions")
        if not isinstance(op, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)):
            raise _fail(f"operator {type(op).__name__!r} is not allowed; use + - * / **")
        a = self.arith(node.left, in_cond)
        b = self.arith(node.right, in_cond)
        if isinstance(op, ast.Add):
            return a + b
        if isinstance(op, ast.Sub):
            return a - b
        if isinstance(op, ast.Mult):
            return self._checked(a * b)
        if isinstance(op, ast.Div):
            if b == 0:
                raise _fail("division by zero in expression")
            return self._checked(a / b)
        return self.power(a, b)

    @staticmethod
    def _checked(val: sympy.Basic) -> sympy.Basic:
        if isinstance(val, sympy.Rational) and (
            max(len(str(abs(val.p))), len(str(val.q))) > MAX_DIGITS
        ):
            raise _fail(f"number too large in expression (more than {MAX_DIGITS} digits)")
        return val

    def power(self, base: sympy.Expr, exponent: sympy.Expr) -> sympy.Expr:
        if exponent.is_Number:
            if abs(float(exponent)) > MAX_EXPONENT:
                raise _fail(f"exponent {exponent} is too large (|exponent| ≤ {MAX_EXPONENT})")
            if base.is_Rational and base != 0 and exponent.is_Rational:
                # decimal digits of the exact result, estimated before computing it
                digits = abs(float(exponent)) * max(
                    math.log10(abs(base.p)) if base.p else 0.0, math.log10(base.q)
                )
                if digits > MAX_DIGITS:
                    raise _fail(
                        f"number too large in expression (≈{digits:.0f} digits; at most "
                        f"{MAX_DIGITS})"
                    )
            if base == 0 and exponent.is_negative:
                raise _fail("0 raised to a negative power in expression")
        return self._checked(base**exponent)

    def compare(self, node: ast.Compare, in_cond: bool) -> sympy.Basic:
        if not in_cond:
            raise _fail(
                "comparisons are only allowed inside Piecewise conditions, e.g. "
                "Piecewise((x1, x1 > 0), (0, True))"
            )
        left = self.arith(node.left, in_cond)
        parts = []
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            rel = _COMPARE.get(type(op))
            if rel is None:
                raise _fail(f"comparison {type(op).__name__!r} is not allowed; use < <= > >= == !=")
            right = self.arith(right_node, in_cond)
            parts.append(rel(left, right))
            left = right
        return parts[0] if len(parts) == 1 else sympy.And(*parts)

    def call(self, node: ast.Call, in_cond: bool) -> sympy.Basic:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, ast.Attribute):
                raise _fail(
                    "attribute access ('.name') is not allowed in expressions; call "
                    "functions by their bare name, e.g. exp(x1)"
                )
            raise _fail("only named functions can be called, e.g. exp(x1)")
        fname = node.func.id
        if "__" in fname:
            raise _fail(f"dunder names like {fname!r} are not allowed in expressions")
        if node.keywords:
            raise _fail(
                f"keyword arguments are not allowed; call {fname}(...) with positional "
                "arguments only"
            )
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise _fail("'*' unpacking is not allowed in expressions")
        if fname == "Piecewise":
            return self.piecewise(node, in_cond)
        if fname in _LOGIC_FUNCTIONS:
            if not in_cond:
                raise _fail(f"{fname}(...) is only allowed inside Piecewise conditions")
            return _LOGIC_FUNCTIONS[fname](*[self.condition(a) for a in node.args])
        spec = _FUNCTIONS.get(fname)
        if spec is None:
            raise _fail(f"unknown function {fname!r}; allowed: {_ALLOWED_FUNCTION_LIST}")
        func, lo, hi = spec
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else (f"{lo} or more" if hi is None else f"{lo} to {hi}")
            raise _fail(f"{fname}() takes {want} argument(s), got {n}")
        args = [self.arith(a, in_cond) for a in node.args]
        if fname == "Heaviside" and n == 2 and not (args[1].is_Number and 0 <= args[1] <= 1):
            raise _fail(
                "the second argument of Heaviside(x, h0) is its value at 0: a number in "
                "[0, 1], e.g. Heaviside(x1, 1/2)"
            )
        try:
            return func(*args)
        except (TypeError, ValueError, ArithmeticError) as exc:
            raise _fail(f"{fname}(...) is undefined here: {exc}") from None

    def piecewise(self, node: ast.Call, in_cond: bool) -> sympy.Expr:
        if not node.args:
            raise _fail("Piecewise needs at least one (expr, condition) pair")
        pairs = []
        for a in node.args:
            if not (isinstance(a, ast.Tuple) and len(a.elts) == 2):
                raise _fail(
                    "Piecewise arguments must be (expr, condition) pairs, e.g. "
                    "Piecewise((x1, x1 > 0), (0, True))"
                )
            pairs.append((self.arith(a.elts[0], in_cond), self.condition(a.elts[1])))
        try:
            return sympy.Piecewise(*pairs)
        except (TypeError, ValueError) as exc:
            raise _fail(f"invalid Piecewise: {exc}") from None


MAX_CONSTANT = 1e300
"""Largest |constant| accepted: it and its products must stay below the float64 limit 1.8e308."""


def _check_real_constants(expr: sympy.Basic, text: str) -> None:
    """Refuse a constant part that is not real (sqrt(-1), (-8)**(1/3) — sympy's principal root
    is complex —, log(-2)): expressions are real and a silent real part would be a wrong answer;
    and a constant beyond ``MAX_CONSTANT`` (10**900, exp(10**20)), which float64 cannot hold."""
    for node in sympy.preorder_traversal(expr):
        if not isinstance(node, sympy.Expr) or node.free_symbols:
            continue
        if node.is_extended_real is False:
            hint = (
                " (for the real cube root of a negative number write -(8)**(1/3))"
                if isinstance(node, sympy.Pow) or node.has(sympy.Pow)
                else ""
            )
            raise LionKError(
                f"expression {text!r} has the complex value {node} (expressions are real){hint}"
            )
        if node.is_Atom and not node.is_Number:
            continue
        try:
            value = abs(sympy.N(node, 5))
            too_big = bool(value > MAX_CONSTANT) if value.is_comparable else False
        except Exception:  # noqa: BLE001 - mpmath/decimal give up on huge exponents
            too_big = True
        if too_big:
            shown = sympy.sstr(node)
            raise LionKError(
                f"expression {text!r} has the constant "
                f"{shown if len(shown) <= 30 else shown[:27] + '...'} beyond floating "
                f"point (|c| ≤ {MAX_CONSTANT:g})"
            )


def _tree_depth(tree: ast.AST) -> int:
    """Depth of an ast tree, computed iteratively (no recursion on hostile input). A chain of
    + - * (``x1 + x2 + ... + xn``, a left-leaning tree in Python's ast) counts as one level."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, d = stack.pop()
        deepest = max(deepest, d)
        if d > MAX_DEPTH:
            return d
        for child in ast.iter_child_nodes(node):
            chained = (
                isinstance(node, ast.BinOp)
                and child is node.left
                and isinstance(child, ast.BinOp)
                and isinstance(node.op, _CHAIN_OPS)
                and isinstance(child.op, _CHAIN_OPS)
            )
            stack.append((child, d if chained else d + 1))
    return deepest


_CHAIN_OPS = (ast.Add, ast.Sub, ast.Mult)


Variables: TypeAlias = int | str | sympy.Symbol | Sequence[str | sympy.Symbol] | None
"""The variables of an expression: a count n (x1..xn), one name or symbol, a sequence of them, or
None (inferred from the text)."""


def _resolve_variables(
    variables: Variables,
) -> tuple[dict[str, sympy.Symbol] | None, list[str] | None]:
    if variables is None:
        return None, None
    if isinstance(variables, bool):
        raise LionKError(f"variables={variables!r}: give a count or variable names")
    if isinstance(variables, (int, np.integer)):
        if variables < 1:
            raise LionKError(f"the number of variables must be ≥ 1, got {variables}")
        variables = [f"x{i}" for i in range(1, int(variables) + 1)]
    if isinstance(variables, (str, sympy.Symbol)):
        variables = [variables]
    symbols: dict[str, sympy.Symbol] = {}
    for v in variables:
        sym = v if isinstance(v, sympy.Symbol) else None
        name = v.name if isinstance(v, sympy.Symbol) else v
        if not isinstance(name, str) or not _IDENT_RE.fullmatch(name) or "__" in name:
            raise LionKError(f"invalid variable name {name!r}: use identifiers like x1, x2")
        if name in _CONSTANTS or name in _FUNCTIONS or name in _LOGIC_FUNCTIONS:
            raise LionKError(f"variable name {name!r} clashes with a constant or function name")
        if name in symbols:
            raise LionKError(f"variable {name!r} is declared twice")
        symbols[name] = sym if sym is not None else sympy.Symbol(name, real=True)
    return symbols, list(symbols)


def parse_expression(text: str, variables: Variables = None) -> ParsedExpression:
    """Parse ``text`` into a sympy expression through an allow-list of syntax (never ``eval``).

    ``variables``: ``None`` accepts either ``x`` alone (a scalar function, e.g. the k of a separable
    K(x) = Σ k(x_i)) or ``x1 .. xn`` (n = the largest index used; unused lower indices are still
    variables, so ``x1 + x3`` has variables x1, x2, x3); otherwise a sequence of names or sympy
    Symbols (kept in the given order), or an int n meaning x1..xn. Raises `LionKError` with a
    one-line message on anything outside the allowed grammar (see the module docstring).
    """
    if not isinstance(text, str):
        raise LionKError(f"an expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise LionKError(f"expression too long ({len(text)} characters; at most {MAX_LENGTH})")
    if not text.strip():
        raise LionKError("empty expression; write a formula such as (x1 - 1.5)**2 + x2**2")
    symbols, declared = _resolve_variables(variables)
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        detail = exc.msg if getattr(exc, "msg", None) else "invalid syntax"
        raise LionKError(
            f"cannot parse expression {text!r}: {detail} (use Python syntax, "
            "e.g. (x1 - 1.5)**2 + x2**2)"
        ) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise LionKError(f"cannot parse expression: {type(exc).__name__}; simplify it") from None
    if _tree_depth(tree) > MAX_DEPTH:
        raise LionKError(
            f"expression nested too deeply (more than {MAX_DEPTH} levels); simplify it"
        )
    builder = _Builder(symbols, declared)
    try:
        expr = builder.build(tree)
    except RecursionError:  # pragma: no cover - the depth check above prevents it
        raise LionKError("expression nested too deeply; simplify it") from None
    if isinstance(expr, sympy.logic.boolalg.Boolean) and not isinstance(expr, sympy.Expr):
        raise LionKError(
            "the expression is a condition, not a number; conditions only go inside "
            "Piecewise((expr, condition), ...)"
        )
    if expr.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        raise LionKError(f"expression {text!r} is undefined or infinite (e.g. division by zero)")
    _check_real_constants(expr, text)
    if symbols is not None:
        return ParsedExpression(text=text, expr=expr, variables=tuple(symbols.values()))
    names = sorted(builder.seen)
    if "x" in names and len(names) > 1:
        raise LionKError(
            "mix of x and x1, x2, ... in one expression; use x alone (separable K) "
            "or x1, x2, ... only"
        )
    if names == ["x"]:
        return ParsedExpression(text=text, expr=expr, variables=(builder.seen["x"],))
    n = max((int(name[1:]) for name in names), default=0)
    if n > 10_000:
        raise LionKError(f"variable index x{n} is too large (at most x10000)")
    syms = tuple(
        builder.seen.get(f"x{i}") or sympy.Symbol(f"x{i}", real=True) for i in range(1, n + 1)
    )
    return ParsedExpression(text=text, expr=expr, variables=syms)


def lambdify_numpy(
    expr: sympy.Expr, variables: Sequence[sympy.Symbol]
) -> Callable[..., NDArray[Any]]:
    """Compile a sympy tree to a numpy function ``fn(*arrays)`` with ``sympy.lambdify``.

    Safety: lambdify generates source code with sympy's own printer from the sympy tree (built by
    `parse_expression` from an allow-list), and executes that generated code; user text is never
    executed. The returned function broadcasts its arguments together and always returns an array
    of the broadcast shape (a constant expression gives a filled array).
    """
    raw = sympy.lambdify(tuple(variables), expr, modules="numpy")

    def fn(*args: Any) -> NDArray[Any]:
        if len(args) != len(variables):
            raise LionKError(
                f"the expression takes {len(variables)} argument(s) "
                f"({', '.join(v.name for v in variables)}), got {len(args)}"
            )
        arrays = np.broadcast_arrays(*[np.asarray(a) for a in args]) if args else []
        out = np.asarray(raw(*arrays))
        shape = arrays[0].shape if arrays else ()
        return np.broadcast_to(out, shape) if out.shape != shape else out

    fn.__doc__ = f"numpy evaluation of {expr} in ({', '.join(v.name for v in variables)})"
    return fn


def to_numpy(parsed: ParsedExpression) -> Callable[..., NDArray[Any]]:
    """``fn(*arrays)``: numpy evaluation of ``parsed.expr``, one array argument per variable.

    Built by ``sympy.lambdify(parsed.variables, parsed.expr, modules='numpy')``: it runs code that
    sympy's printer generated from the allow-listed sympy tree, never the user's text. Arguments
    broadcast together (evaluate a batch of points ``X`` of shape (..., n) with
    ``fn(*np.moveaxis(X, -1, 0))``).
    """
    return lambdify_numpy(parsed.expr, parsed.variables)
