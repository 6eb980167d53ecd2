"""Data flows one way: CLI → use cases → core. The core and the symbolic layer never import the
CLI framework (click) or the plotting library (matplotlib)."""
import pkgutil
import subprocess
import sys

import lyapunov_lion.core
import lyapunov_lion.symbolic


def _modules(package):
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def test_core_and_symbolic_import_neither_click_nor_matplotlib():
    modules = _modules(lyapunov_lion.core) + _modules(lyapunov_lion.symbolic)
    assert "lyapunov_lion.core.ode.solve" in modules and len(modules) > 15
    code = ("import importlib, sys\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('click', 'matplotlib'))\n"
            "assert not bad, bad\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_core_never_imports_torch_and_train_imports_it_lazily():
    """torch stays optional: the core and symbolic layers never import it (nor lyapunov_lion.torch),
    and importing lyapunov_lion.train loads neither torch nor scikit-learn until `train` runs."""
    modules = _modules(lyapunov_lion.core) + _modules(lyapunov_lion.symbolic)
    code = ("import importlib, sys\n"
            f"for name in {modules!r} + ['lyapunov_lion.train']:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('torch', 'sklearn')\n"
            "             or m.startswith('lyapunov_lion.torch'))\n"
            "assert not bad, bad\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
