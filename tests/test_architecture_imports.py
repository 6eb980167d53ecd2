"""The import graph of the whole package, built from the source (module-level AND
function-level imports: an import inside a function is still an arrow between modules).

Issue 9 asks for an acyclic graph, and the package has one: the symbolic layer (kbuild is not
imported from below: certificates take a K builder from their caller, the report does not save
itself), the K catalog (it registers itself when `lyapunov_lion.core` is imported; `kfunc` never
imports it) and the reproductions (the registry `reproduce.registry` sits below the runner)."""

from __future__ import annotations

import ast
from pathlib import Path

import lyapunov_lion

ROOT = Path(lyapunov_lion.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for f in ROOT.rglob("*.py"):
        parts = list(f.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = f
    return out


def import_graph() -> dict[str, set[str]]:
    """module → the package modules it imports anywhere in its source (``ast.walk`` reaches
    imports inside functions and classes); ``from pkg import name`` points at ``pkg.name``
    when that is a module, else at ``pkg``."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")
                    base = base[: len(base) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [
                    f"{target}.{a.name}" if f"{target}.{a.name}" in mods else target
                    for a in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            graph[mod] |= {t for t in targets if t in mods and t != mod}
    return graph


def cycles(graph: dict[str, set[str]]) -> set[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: set[frozenset[str]] = set()
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on.add(start)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.add(frozenset(comp))
    return found


def _short(comp: frozenset[str]) -> frozenset[str]:
    return frozenset(m.removeprefix("lyapunov_lion.") for m in comp)


def test_graph_has_function_level_imports():
    g = import_graph()
    # cli imports the symbolic layer only inside the verify command (lazy imports)
    assert "lyapunov_lion.symbolic" in g["lyapunov_lion.cli"]
    assert len(g) > 60


def test_cycle_finder_finds_a_planted_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == {frozenset({"a", "b", "c"})}
    assert cycles({"a": {"b"}, "b": set()}) == set()


def test_symbolic_layer_is_acyclic():
    g = import_graph()
    assert not [c for c in cycles(g) if any(m.startswith("lyapunov_lion.symbolic") for m in c)]


def test_package_import_graph_is_acyclic():
    found = sorted(sorted(_short(c)) for c in cycles(import_graph()))
    assert not found, f"import cycle(s) (strongly connected components): {found}"
