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


SYMBOLIC = "lyapunov_lion.symbolic."
STAGES = [
    SYMBOLIC + s
    for s in ("parse", "pieces", "convexity", "conjugate", "induced", "certificates", "report")
]
"""The stages of `lionk verify`'s pipeline, in order (issue 9): parse → pieces → convexity →
gradient and conjugate → induced problem → certificates → report."""
ABOVE = [SYMBOLIC + m for m in ("front", "kbuild", "kfile", "catalog_check")]
"""The front door and what builds, saves and cross-checks a K: above the pipeline."""


def _symbolic_reach(g: dict[str, set[str]], start: str) -> set[str]:
    """Every symbolic module ``start`` reaches through imports (module or function level)."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for m in g[todo.pop()]:
            if m.startswith(SYMBOLIC) and m not in seen:
                seen.add(m)
                todo.append(m)
    return seen


def test_symbolic_stages_exist_and_import_no_later_stage():
    g = import_graph()
    assert all(s in g for s in STAGES + ABOVE)
    for i, stage in enumerate(STAGES):
        later = set(STAGES[i + 1 :]) | set(ABOVE)
        # directly or through a helper: a helper that imported a later stage would smuggle it in
        assert not (_symbolic_reach(g, stage) & later), stage


def test_symbolic_helpers_import_no_stage():
    """Foundation and helper modules (record, state, limits, piecewise, dual_ball, …) sit under
    every stage: they import neither a stage nor the front door."""
    g = import_graph()
    helpers = [
        m
        for m in g
        if m.startswith(SYMBOLIC) and m not in STAGES + ABOVE and m != "lyapunov_lion.symbolic"
    ]
    assert SYMBOLIC + "record" in helpers and SYMBOLIC + "state" in helpers
    for h in helpers:
        assert not (_symbolic_reach(g, h) & set(STAGES + ABOVE)), h


def test_front_door_runs_every_stage():
    """The front door imports each stage (it calls them in order, once each)."""
    g = import_graph()
    assert set(STAGES) <= g[SYMBOLIC + "front"]


def test_stage_check_catches_a_planted_upward_import():
    g = {SYMBOLIC + "parse": {SYMBOLIC + "record"}, SYMBOLIC + "record": {SYMBOLIC + "induced"}}
    g[SYMBOLIC + "induced"] = set()
    assert SYMBOLIC + "induced" in _symbolic_reach(g, SYMBOLIC + "parse")
