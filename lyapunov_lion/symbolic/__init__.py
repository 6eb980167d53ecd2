"""Symbolic layer: derive and certify the Lion-K data of a user-given separable K.

``verify("Abs(x) + x**2/2")`` parses k safely, proves or checks convexity, derives ∂k, k*,
dom k*, ∇k* and the induced problem (1/λ)Σk*(λx_i), and certifies the Lyapunov conditions of
spec §4; ``verify_catalog()`` cross-checks the engine against the catalog's hand-written K*.
"""
from .limits import SymbolicFailure
from .report import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport
from .verify import CATALOG_EXPRESSIONS, CatalogReport, verify, verify_catalog
from .kbuild import K_from_expression, K_from_report, load_K, save_K, verify_any
from .nonseparable import verify_nonseparable

__all__ = ["verify", "verify_catalog", "VerifyReport", "Statement", "CatalogReport",
           "CATALOG_EXPRESSIONS", "SymbolicFailure",
           "K_from_expression", "K_from_report", "load_K", "save_K", "verify_any",
           "verify_nonseparable", "PROVEN", "CHECKED", "FAILED", "SKIPPED"]
