"""Sphinx configuration: the API reference generated from the package's docstrings.

Build with ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (warnings are
errors; ``.ci/run`` runs exactly this through ``make -C docs check``-free plain Python).
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(".."))

from lyapunov_lion import __version__  # noqa: E402

project = "lyapunov_lion"
author = "the lyapunov_lion developers"
copyright = "2026, the lyapunov_lion developers"
release = version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]
source_suffix = {".rst": "restructuredtext"}
exclude_patterns = ["_build", "*.md"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = False
napoleon_numpy_docstring = True
default_role = "code"
nitpicky = False
html_theme = "alabaster"
html_static_path: list[str] = []


def _escape_bars(app, what, name, obj, options, lines):
    """Docstrings here write absolute values and norms as |x|, ‖x‖: plain text, not reST
    substitutions. Escape the bar so that docutils prints it instead of looking up |x|."""
    for i, line in enumerate(lines):
        lines[i] = line.replace("|", "\\|")


def setup(app):
    app.connect("autodoc-process-docstring", _escape_bars)
