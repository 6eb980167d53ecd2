"""Data flows one way: CLI → use cases → core. The core and the symbolic layer never import the
CLI framework (click) or the plotting library (matplotlib)."""

import pkgutil
import subprocess
import sys

import lyapunov_lion.core
import lyapunov_lion.symbolic


def _modules(package):
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def _assert_not_imported(modules: list[str], banned: str) -> None:
    """Import ``modules`` in a fresh interpreter; fail if a module m with ``banned`` (a Python
    expression in m) true is loaded."""
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = sorted(m for m in sys.modules if {banned})\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_core_and_symbolic_import_neither_click_nor_matplotlib():
    modules = _modules(lyapunov_lion.core) + _modules(lyapunov_lion.symbolic)
    assert "lyapunov_lion.core.ode.solve" in modules and len(modules) > 15
    _assert_not_imported(modules, "m.split('.')[0] in ('click', 'matplotlib')")


def test_core_never_imports_torch_and_train_imports_it_lazily():
    """torch stays optional: the core and symbolic layers never import it (nor lyapunov_lion.torch),
    and importing lyapunov_lion.train loads neither torch nor scikit-learn until `train` runs."""
    modules = _modules(lyapunov_lion.core) + _modules(lyapunov_lion.symbolic)
    _assert_not_imported(
        modules + ["lyapunov_lion.train"],
        "m.split('.')[0] in ('torch', 'sklearn') or m.startswith('lyapunov_lion.torch')",
    )


def test_ode_core_has_no_K_name_dispatch():
    """The ODE integrators ask K for its structure (`core.ode.problem.KStructure` and optional
    methods such as ``prox_conj``), never for its name or class name."""
    import ast
    from pathlib import Path

    import lyapunov_lion.core.ode as ode

    files = sorted(Path(ode.__file__).parent.glob("*.py"))
    assert len(files) >= 10
    bad = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                text = [ast.unparse(s) for s in sides]
                if any(
                    t.endswith(".name")
                    or t.endswith(".__name__")
                    or "'name'" in t
                    or '"name"' in t
                    or t == "name"
                    for t in text
                ):
                    bad.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert not bad, bad
