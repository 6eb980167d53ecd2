"""Input normalisation shared by the plotting functions (plain numpy, no matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import LionKError

SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def as_dict(value, name: str, default_label: str = "run") -> dict[str, np.ndarray] | None:
    """A single array becomes ``{default_label: array}``; a mapping is copied with numpy values."""
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {str(k): np.asarray(v, dtype=float) for k, v in value.items()}
    return {default_label: np.asarray(value, dtype=float)}


def as_series(value, n: int, name: str, labels=None) -> dict[str, np.ndarray] | None:
    """Time series of length ``n``: an array (T,) or a mapping label → (T,) (checked)."""
    d = as_dict(value, name)
    if d is None:
        return None
    if labels is not None and len(d) == 1 and len(labels) == 1 and not isinstance(value, Mapping):
        d = {labels[0]: next(iter(d.values()))}
    for k, v in d.items():
        if v.ndim != 1 or v.shape[0] != n:
            raise LionKError(f"{name}[{k!r}] has shape {v.shape}; expected ({n},) to match t")
    return d


def nonfinite_note(v: np.ndarray) -> str:
    """``" (+∞ at 12 points, not drawn)"`` style note for the legend, or ``""``."""
    parts = []
    n_pinf, n_minf, n_nan = (
        int(np.sum(v == np.inf)),
        int(np.sum(v == -np.inf)),
        int(np.sum(np.isnan(v))),
    )
    if n_pinf:
        parts.append(f"+∞ at {n_pinf}")
    if n_minf:
        parts.append(f"−∞ at {n_minf}")
    if n_nan:
        parts.append(f"NaN at {n_nan}")
    return f" ({', '.join(parts)} pts, not drawn)" if parts else ""


def coord_label(i: int, dim: int) -> str:
    """Axis label ``x₁``; for d > 2 the x axis (i = 0) adds ``(first 2 of d = 10 coords)``."""
    s = f"x{str(i + 1).translate(SUBSCRIPT)}"
    return s if dim == 2 or i > 0 else f"{s}   (first 2 of d = {dim} coords)"
