"""Array-namespace dispatch: take the namespace from the input, never hard-wire numpy.

`array_namespace(*arrays)` returns the array-API namespace of its arguments:
- objects with ``__array_namespace__`` (numpy >= 2, array-api-strict, cupy, ...) give their own;
- torch tensors give ``array_api_compat.torch`` (install the ``torch`` extra);
- Python scalars and lists fall back to numpy.
Functions written against the returned namespace (``xp.sign``, ``xp.sum(..., axis=-1)``, ...) run
unchanged on every backend.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ..errors import LionKError

Array: TypeAlias = Any
"""An array of any array-API namespace (numpy, torch, array-api-strict, ...): the array API has
no static type that spans the backends, so functions generic over them take and return `Array`."""

Namespace: TypeAlias = Any
"""An array-API namespace module (``numpy``, ``array_api_compat.torch``, ...)."""

FloatArray: TypeAlias = NDArray[np.floating[Any]]
"""A numpy array of the floating dtype of its inputs (float32 in, float32 out); numpy code that
keeps the dtype returns it rather than forcing float64."""


def array_namespace(*arrays: Array) -> Namespace:
    """Return the array-API namespace shared by ``arrays`` (numpy for plain Python values)."""
    for a in arrays:
        if isinstance(a, (np.ndarray, np.generic)):
            continue
        if type(a).__module__.split(".")[0] == "torch":
            try:
                from array_api_compat import torch as xp_torch
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise LionKError(
                    "torch tensors need array-api-compat: pip install 'lyapunov_lion[torch]'"
                ) from exc
            return xp_torch
        get_ns = getattr(a, "__array_namespace__", None)
        if get_ns is not None:
            return get_ns()
    return np
