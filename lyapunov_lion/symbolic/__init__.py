"""Symbolic layer: derive and certify the Lion-K data of a user-given separable K.

``verify("Abs(x) + x**2/2")`` parses k safely, proves or checks convexity, derives ∂k, k*,
dom k*, ∇k* and the induced problem (1/λ)Σk*(λx_i), and certifies the Lyapunov conditions of
spec §4: (i)–(iii) for this K, (iv) dH/dt = −Δ proved by sympy (`identity`), and (v)/(v′) the
discrete inequality of spec §5 checked on runs (`discrete_check`). ``verify_any("huber:delta=0.5")``
also takes catalog names (`catalog_input`) and non-separable K in x1, x2, …;
``verify_catalog()`` cross-checks the engine against the catalog's hand-written K*.

Every call runs the pipeline parse → pieces → convexity → conjugate → induced → certificates →
report (`front`), one module per stage, each importing only earlier stages and the modules
below them (records, engines); building, saving and loading a K (`kbuild`, `kfile`) sit above.
"""

from .catalog_check import CATALOG_EXPRESSIONS, CatalogReport, verify_catalog
from .catalog_input import CATALOG_TEMPLATES, parse_catalog_name
from .certificates import attach_certificates
from .discrete_check import discrete_statements
from .front import K_from_expression, verify, verify_any, verify_nonseparable
from .identity import prove_dHdt_identity
from .kbuild import K_from_report
from .kfile import load_K, save_K
from .limits import SymbolicFailure
from .record import CHECKED, FAILED, PROVEN, SKIPPED, Statement, VerifyReport

__all__ = [
    "CATALOG_EXPRESSIONS",
    "CATALOG_TEMPLATES",
    "CHECKED",
    "FAILED",
    "PROVEN",
    "SKIPPED",
    "CatalogReport",
    "K_from_expression",
    "K_from_report",
    "Statement",
    "SymbolicFailure",
    "VerifyReport",
    "attach_certificates",
    "discrete_statements",
    "load_K",
    "parse_catalog_name",
    "prove_dHdt_identity",
    "save_K",
    "verify",
    "verify_any",
    "verify_catalog",
    "verify_nonseparable",
]
