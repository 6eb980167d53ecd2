"""The record of the symbolic verifier: statements with a status, and `VerifyReport`.

A foundation module of the pipeline (it imports no stage): every stage reads and returns these
immutable values; `report` (the last stage) stamps the run time on the finished record.

Every statement is one of

* ``PROVEN``  — decided symbolically (sympy, exact arithmetic);
* ``CHECKED`` — verified numerically only (``n_samples`` points, ``max_violation`` the largest
  violation found, ≤ the stated tolerance);
* ``FAILED``  — false, with a counterexample;
* ``SKIPPED`` — not evaluated (``detail`` says why, e.g. K is not convex).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.serialize import to_jsonable

PROVEN, CHECKED, FAILED, SKIPPED = "PROVEN", "CHECKED", "FAILED", "SKIPPED"
_ORDER = {FAILED: 0, SKIPPED: 1, CHECKED: 2, PROVEN: 3}


def weakest(statuses) -> str:
    """The weakest status of a collection (FAILED < SKIPPED < CHECKED < PROVEN); PROVEN if empty."""
    statuses = list(statuses)
    return min(statuses, key=_ORDER.__getitem__) if statuses else PROVEN


def _json(v: Any) -> Any:
    """JSON-ready values; ±∞ kept as the strings "inf"/"-inf" (K* = +∞ outside its domain)."""
    return to_jsonable(v, nonfinite="string")


@dataclass(frozen=True)
class Statement:
    """One claim of the verification and how it was established (immutable: a later stage that
    rewords one builds a new statement with `dataclasses.replace`)."""

    name: str
    claim: str
    status: str
    detail: str = ""
    n_samples: int | None = None
    max_violation: float | None = None
    counterexample: dict | None = None

    def to_dict(self) -> dict:
        return _json(
            {
                k: getattr(self, k)
                for k in (
                    "name",
                    "claim",
                    "status",
                    "detail",
                    "n_samples",
                    "max_violation",
                    "counterexample",
                )
            }
        )

    def line(self) -> str:
        s = f"[{self.status}] {self.name}: {self.claim}"
        extra = []
        if self.n_samples is not None:
            extra.append(f"{self.n_samples} samples")
        if self.max_violation is not None:
            extra.append(f"largest violation {self.max_violation:.3g}")
        if self.detail:
            extra.append(self.detail)
        if extra:
            s += " (" + "; ".join(extra) + ")"
        if self.counterexample:
            s += "\n    counterexample: " + ", ".join(
                f"{k} = {v}" for k, v in self.counterexample.items()
            )
        return s


@dataclass(frozen=True)
class VerifyReport:
    """Everything the pipeline derived and checked for one K (separable K(x) = Σ k(x_i), a norm,
    or another K in x1, x2, …).

    An immutable record: its builders construct it once, later stages (e.g.
    `certificates.attach_certificates`) return a new record (`dataclasses.replace`).
    ``k``, ``grad``, ``conj``, ``conj_grad``, ``induced`` are dicts of text / LaTeX / structure
    (``None`` when the step was not reached); ``statements`` holds every claim with its status;
    ``lyapunov`` holds (i)–(iv) and the descent statement (last), ``discrete`` (v) and (v′).
    ``method`` is ``"symbolic"``, ``"numerical"`` (fallback conjugate) or ``"none"``.
    """

    text: str
    k: dict
    convex: str
    method: str
    statements: tuple[Statement, ...] = ()
    derivation: tuple[Statement, ...] = ()
    grad: dict | None = None
    conj: dict | None = None
    conj_grad: dict | None = None
    induced: dict | None = None
    lyapunov: tuple[Statement, ...] = ()
    discrete: tuple[Statement, ...] = ()  # (v), (v′): spec §5 on runs
    numerical_checks: tuple[Statement, ...] = ()
    failures: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    conjugate: Any = None  # the `SymbolicConjugate` / `NumericalConjugate` (not serialised)
    expr: Any = None  # k (or K) as a sympy expression (not serialised)
    pieces: Any = None  # the `PiecewiseScalar` of k, None when splitting failed (not serialised)
    kind: str = "separable"  # "separable" | "norm" | "nonseparable"
    catalog: dict | None = None  # the catalog K the input named (name, params, expression, kind)
    lyapunov_formulas: dict | None = None  # H, c, Δ of spec §4 as proved in (iv): text and LaTeX

    @property
    def ok(self) -> bool:
        """True when K is convex and no statement FAILED."""
        return self.convex != FAILED and all(s.status != FAILED for s in self._all())

    @property
    def status(self) -> str:
        """The weakest status over all statements."""
        return weakest(s.status for s in self._all())

    def _all(self) -> tuple[Statement, ...]:
        return (
            self.statements
            + self.derivation
            + self.lyapunov
            + self.discrete
            + self.numerical_checks
        )

    # -- rendering ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready dict (non-finite floats → "inf"/"-inf"/null)."""
        return _json(
            {
                "text": self.text,
                "k": self.k,
                "convex": self.convex,
                "method": self.method,
                "ok": self.ok,
                "status": self.status,
                "statements": [s.to_dict() for s in self.statements],
                "derivation": [s.to_dict() for s in self.derivation],
                "grad": self.grad,
                "conj": self.conj,
                "conj_grad": self.conj_grad,
                "induced": self.induced,
                "lyapunov": [s.to_dict() for s in self.lyapunov],
                "discrete": [s.to_dict() for s in self.discrete],
                "numerical_checks": [s.to_dict() for s in self.numerical_checks],
                "failures": self.failures,
                "notes": self.notes,
                "seconds": self.seconds,
                "kind": self.kind,
                "catalog": self.catalog,
                "lyapunov_formulas": self.lyapunov_formulas,
            }
        )

    def to_latex(self) -> str:
        """LaTeX lines: K, its conjugate, dom K* and the induced term (one per line)."""
        sep = self.kind == "separable"
        lines = [
            (r"K(x) = \sum_i k(x_i),\quad k(x) = " if sep else "K(x) = ")
            + (self.k.get("latex") or "")
        ]
        if self.conj:
            star = "k^*(y) = " if sep else "K^*(y) = "
            lines.append(star + (self.conj.get("latex") or ""))
            lines.append(
                (r"\operatorname{dom} k^* = " if sep else r"\operatorname{dom} K^* = ")
                + (self.conj.get("domain_latex") or self.conj.get("domain_text", ""))
            )
        if self.induced and self.induced.get("latex"):
            lines.append(r"\min_x f(x) " + self.induced["latex"])
        if self.lyapunov_formulas:
            lines += [self.lyapunov_formulas[k] for k in ("H_latex", "c_latex", "Delta_latex")]
        return "\n".join(lines) + "\n"

    def _catalog_line(self) -> list[str]:
        if not self.catalog:
            return []
        c = self.catalog
        params = ", ".join(f"{k} = {v}" for k, v in c.get("params", {}).items())
        return [
            f"catalog K: {c['name']}{' (' + params + ')' if params else ''}, verified as the "
            f"expression {c['expression']}"
            + (" (the 2-D case of this norm)" if c.get("kind") == "norm" else "")
        ]

    def _sections(self):
        if self.kind != "separable":
            yield (
                "K",
                self._catalog_line()
                + [
                    f"K(x) = {self.k.get('text')} (non-separable, "
                    f"{'positively homogeneous' if self.kind == 'norm' else 'general'})"
                ],
            )
        else:
            yield (
                "K",
                self._catalog_line()
                + [
                    f"K(x) = Σ_i k(x_i),  k(x) = {self.k.get('text')}",
                    "pieces: " + "; ".join(self.k.get("pieces_text", [])),
                ],
            )
        yield "Convexity", [f"overall: {self.convex}"] + [s.line() for s in self.statements]
        if self.grad and self.kind != "separable":
            yield "Gradient", [f"∇K(x) = {self.grad['text']}"]
        elif self.grad:
            yield (
                "Gradient",
                [f"k'(x) = {self.grad['text']}"]
                + [f"∂k({b}) = {seg}" for b, seg in self.grad.get("kinks", [])],
            )
        if self.conj:
            k_ = "k" if self.kind == "separable" else "K"
            lines = [f"{k_}*(y) = {self.conj['text']}", f"dom {k_}* = {self.conj['domain_text']}"]
            if self.conj_grad:
                lines.append(f"∇{k_}*(y) = {self.conj_grad['text']}")
            lines += [s.line() for s in self.derivation]
            yield f"Conjugate ({self.method})", lines
        if self.induced:
            yield (
                "Induced problem",
                [
                    ("(1/λ) Σ_i k*(λx_i): " if self.kind == "separable" else "(1/λ) K*(λx): ")
                    + self.induced["kind"],
                    f"Lion-K with this K solves  min_x f(x) {self.induced['text']}",
                ],
            )
        if self.lyapunov:
            fm = self.lyapunov_formulas
            head = [fm["H_text"], fm["c_text"], fm["Delta_text"]] if fm else []
            yield "Lyapunov certificate", head + [s.line() for s in self.lyapunov]
        if self.discrete:
            yield "Discrete scheme (spec §5), checked on runs", [s.line() for s in self.discrete]
        if self.numerical_checks:
            yield "Independent numerical checks", [s.line() for s in self.numerical_checks]
        if self.failures or self.notes:
            yield "Notes", [f"FAILED STEP: {f}" for f in self.failures] + list(self.notes)

    def to_text(self) -> str:
        """Plain-text report."""
        out = [
            f"verify {self.text}: {'OK' if self.ok else 'NOT OK'} (weakest status "
            f"{self.status}, {self.seconds:.2f} s)"
        ]
        for title, lines in self._sections():
            out.append("")
            out.append(title)
            out.extend("  " + ln.replace("\n", "\n  ") for ln in lines)
        return "\n".join(out) + "\n"

    def to_markdown(self) -> str:
        """Markdown report with LaTeX formulas ($…$)."""
        out = [
            f"# verify `{self.text}`",
            "",
            f"**{'OK' if self.ok else 'NOT OK'}** — weakest status {self.status}, "
            f"method {self.method}, {self.seconds:.2f} s",
            "",
        ]
        if self.k.get("latex"):
            out += [f"$k(x) = {self.k['latex']}$", ""]
        if self.conj and self.conj.get("latex"):
            out += [f"$k^*(y) = {self.conj['latex']}$", ""]
        if self.induced and self.induced.get("latex"):
            out += [f"Induced problem: $\\min_x f(x) {self.induced['latex']}$", ""]
        if self.lyapunov_formulas:
            for k in ("H_latex", "c_latex", "Delta_latex"):
                out += [f"${self.lyapunov_formulas[k]}$", ""]
        for title, lines in self._sections():
            out += [f"## {title}", ""] + [f"- {ln}".replace("\n", "\n  ") for ln in lines] + [""]
        return "\n".join(out)
