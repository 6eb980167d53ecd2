"""The examples in the public docstrings (``>>>``) run and print what they show.

Every public module of `lyapunov_lion` (no leading underscore in its dotted name) is imported and
its docstrings are run with `doctest`. The count of examples attempted is asserted to be at least
`MIN_EXAMPLES`, so that the test cannot pass by finding none (e.g. after a rename of the modules).
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import lyapunov_lion

MIN_EXAMPLES = 14
"""Examples that existed when this test was written (Param, the capabilities, format_number,
make_K, the coefficient maps); raise it as examples are added."""


def public_modules() -> list[str]:
    names = [lyapunov_lion.__name__]
    for info in pkgutil.walk_packages(lyapunov_lion.__path__, prefix="lyapunov_lion."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return sorted(names)


def test_public_docstring_examples_run():
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    seen = set()
    for name in public_modules():
        module = importlib.import_module(name)
        for test in finder.find(module, name):
            if test.examples and (test.filename, test.lineno) not in seen:
                seen.add((test.filename, test.lineno))
                runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples failed"
    assert result.attempted >= MIN_EXAMPLES, result.attempted
