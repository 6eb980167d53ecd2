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
