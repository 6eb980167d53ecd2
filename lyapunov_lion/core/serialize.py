"""Converting results to JSON-ready Python values (for ``--json`` and results files)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np


def to_jsonable(v: Any, nonfinite: str = "null") -> Any:
    """numpy arrays/scalars, dicts, lists → plain Python. Non-finite floats become ``None``
    (``nonfinite="null"``, strict JSON) or the strings ``"inf"``, ``"-inf"`` and ``None`` for NaN
    (``nonfinite="string"``, where +∞ carries meaning, e.g. K* outside its domain)."""
    if isinstance(v, dict):
        return {k: to_jsonable(x, nonfinite) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [to_jsonable(x, nonfinite) for x in v]
    if isinstance(v, np.ndarray):
        return to_jsonable(v.tolist(), nonfinite)
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (float, np.floating)):
        v = float(v)
        if math.isfinite(v):
            return v
        if nonfinite == "string" and not math.isnan(v):
            return "inf" if v > 0 else "-inf"
        return None
    return v
