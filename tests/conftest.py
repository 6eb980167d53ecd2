"""Shared fixtures: ``catalog_K`` runs a test once per registered K, parameter variant and shape."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from lyapunov_lion.core.kfunc import KFunction, available_K, make_K

# Parameter variants checked besides the defaults (every registered K is always included).
K_VARIANTS: dict[str, list[dict]] = {
    "lp": [{"p": 1.5}, {"p": 3.0}],
    "power_p": [{"p": 1.5}, {"p": 4.0}],
    "huber": [{"delta": 1.0}, {"delta": 0.5}],
    "deadzone": [{"e": 0.0}, {"e": 0.1}],
}
VECTOR_DIMS = (1, 2, 5)
MATRIX_SHAPES = ((3, 2),)


@dataclass(frozen=True)
class KCase:
    """One K (by name and parameters) and the event shape its points have."""

    name: str
    params: dict = field(default_factory=dict)
    shape: tuple[int, ...] = (2,)

    @property
    def K(self) -> KFunction:
        return make_K(self.name, **self.params)

    @property
    def id(self) -> str:
        p = ",".join(f"{k}={v:g}" for k, v in self.params.items())
        return f"{self.name}{'(' + p + ')' if p else ''}-{'x'.join(map(str, self.shape))}"


def catalog_cases() -> list[KCase]:
    """Every registered K with its parameter variants, on vectors of dim 1, 2, 5 (matrices: 3x2)."""
    cases = []
    for name, cls in available_K().items():
        shapes = MATRIX_SHAPES if cls.event_ndim == 2 else tuple((d,) for d in VECTOR_DIMS)
        for params in K_VARIANTS.get(name, [{}]):
            cases.extend(KCase(name, dict(params), s) for s in shapes)
    return cases


_CASES = catalog_cases()


@pytest.fixture(params=_CASES, ids=[c.id for c in _CASES])
def catalog_K(request) -> KCase:
    """A `KCase`: ``.K`` the built K, ``.shape`` the event shape of its points."""
    return request.param


@pytest.fixture
def reproduce_reduced(tmp_path):
    """Run one reproduction at size "reduced" into tmp_path and check what every run must write:
    a PNG and a PDF (real files, > 10 kB), a report that names the command, embeds the figure and
    has a verdict, an index row, and one progress line. Returns (run output, results.json data)."""
    import json

    from lyapunov_lion.reproduce import run

    def _run(name: str):
        lines: list[str] = []
        out = run(
            name, tmp_path / "figs", tmp_path / "reports", progress=lines.append, size="reduced"
        )
        for ext, magic in (("png", b"\x89PNG\r\n\x1a\n"), ("pdf", b"%PDF-")):
            f = tmp_path / "figs" / f"{name}.{ext}"
            assert f.stat().st_size > 10_000 and f.read_bytes()[: len(magic)] == magic
        md = (tmp_path / "reports" / f"{name}.md").read_text()
        assert f"python scripts/reproduce_all.py {name}" in md
        assert f"](../figs/{name}.png)" in md and "## Verdict" in md
        assert f"{name}.md" in (tmp_path / "reports" / "README.md").read_text()
        assert len(lines) == 1 and lines[0].startswith(f"[1/1] {name}")
        return out, json.loads((tmp_path / "reports" / "results.json").read_text())

    return _run
