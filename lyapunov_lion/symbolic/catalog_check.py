"""`verify_catalog`: cross-check the engine against the catalog's hand-written K* (above the
front door: it runs `verify` on every separable catalog K written as an expression)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .front import verify
from .record import VerifyReport
from .scalar_checks import _inside_samples, _outside_samples

CATALOG_EXPRESSIONS: tuple[tuple[str, dict, str], ...] = (
    ("l1", {}, "Abs(x)"),
    ("sq_l2", {}, "x**2/2"),
    ("huber", {"delta": 1.0}, "Piecewise((x**2/2, Abs(x) <= 1), (Abs(x) - 1/2, True))"),
    ("huber", {"delta": 0.5}, "(x**2 - Max(Abs(x) - 1/2, 0)**2)/2"),
    ("relativistic", {}, "sqrt(1 + x**2)"),
    ("logcosh", {}, "log(cosh(x))"),
    ("deadzone", {"e": 0.1}, "Max(Abs(x) - 1/10, 0)"),
    ("l1_plus_sq", {}, "Abs(x) + x**2/2"),
    ("power_p", {"p": 1.5}, "Abs(x)**1.5/1.5"),
    ("power_p", {"p": 4.0}, "Abs(x)**4/4"),
)
"""(catalog name, parameters, k as an expression) for every separable K of the catalog."""


@dataclass
class CatalogRow:
    name: str
    params: dict
    expr: str
    ok: bool
    max_abs_diff: float
    n_points: int
    domain_agrees: bool
    seconds: float
    report: VerifyReport | None = field(repr=False, default=None)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "params": self.params,
            "expr": self.expr,
            "ok": self.ok,
            "max_abs_diff": self.max_abs_diff,
            "n_points": self.n_points,
            "domain_agrees": self.domain_agrees,
            "seconds": self.seconds,
            "verify_status": self.report.status if self.report else None,
        }


@dataclass
class CatalogReport:
    rows: list[CatalogRow]

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def to_dict(self) -> dict:
        return {"ok": self.ok, "rows": [r.to_dict() for r in self.rows]}

    def to_text(self) -> str:
        """A table: whole cells (columns as wide as their longest entry), yes/no for booleans."""
        head = ("K", "params", "k(x)", "ok", "max|Δk*|", "points", "dom", "status", "s")
        rows = [head] + [
            (
                r.name,
                ",".join(f"{k}={v:g}" for k, v in r.params.items()) or "-",
                r.expr,
                "yes" if r.ok else "NO",
                f"{r.max_abs_diff:.2e}",
                str(r.n_points),
                "yes" if r.domain_agrees else "NO",
                r.report.status if r.report else "-",
                f"{r.seconds:.2f}",
            )
            for r in self.rows
        ]
        widths = [max(len(row[c]) for row in rows) for c in range(len(head))]
        right = {4, 5, 8}
        return (
            "\n".join(
                "  ".join(
                    cell.rjust(w) if c in right else cell.ljust(w)
                    for c, (cell, w) in enumerate(zip(row, widths, strict=False))
                ).rstrip()
                for row in rows
            )
            + "\n"
        )


def verify_catalog(timeout: float = 20.0) -> CatalogReport:
    """Run `verify` on every separable catalog K written as an expression and compare the
    symbolic k* with the catalog's ``K.conj`` on a grid inside dom k*, on its ends and outside
    (both must be +inf there); agreement within 1e-10·(1 + |k*|) (float64 evaluation of two
    different closed forms)."""
    from ..core.kfunc import SeparableK, make_K

    rows = []
    for name, params, text in CATALOG_EXPRESSIONS:
        rep = verify(text, timeout=timeout)
        K = make_K(name, **params)
        assert isinstance(K, SeparableK)  # every row of CATALOG_EXPRESSIONS is separable
        conj = rep.conjugate
        lo, hi = K.dom_bounds()
        dom_ok = (
            conj is not None
            and float(conj.ymin) == lo
            and float(conj.ymax) == hi
            and (conj.lo_closed or not np.isfinite(lo))
            and (conj.hi_closed or not np.isfinite(hi))
        )
        ys = (
            np.concatenate(
                [
                    _inside_samples(conj, 101),
                    _outside_samples(conj),
                    [v for v in (lo, hi) if np.isfinite(v)],
                ]
            )
            if conj
            else np.zeros(0)
        )
        mine = conj(ys) if conj else np.zeros(0)
        ref = np.asarray(K.conj(ys[:, None]), dtype=float)
        both_inf = np.isinf(mine) & np.isinf(ref)
        finite = np.isfinite(mine) & np.isfinite(ref)
        with np.errstate(invalid="ignore"):
            diff = np.where(finite, np.abs(mine - ref), np.where(both_inf, 0.0, np.inf))
        ok_pts = diff <= 1e-10 * (1 + np.where(finite, np.abs(ref), 0.0))
        rows.append(
            CatalogRow(
                name,
                params,
                text,
                bool(rep.ok and dom_ok and np.all(ok_pts)),
                float(np.max(diff)) if diff.size else float("nan"),
                int(ys.size),
                bool(dom_ok),
                rep.seconds,
                rep,
            )
        )
    return CatalogReport(rows)
