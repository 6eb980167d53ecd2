"""Converting results to JSON-ready Python values (for ``--json`` and results files)."""

from __future__ import annotations

import json
import math
import os
import stat
from typing import Any

import numpy as np

from ..errors import LionKError

MAX_INPUT_BYTES = 1_000_000
"""Largest input file read (a saved K is ~2 kB): reading can neither block nor exhaust memory."""
MAX_JSON_DEPTH = 20
"""Deepest nesting of lists/objects accepted in a JSON input file."""


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


def file_problem(path: str | os.PathLike[str], max_bytes: int = MAX_INPUT_BYTES) -> str | None:
    """Why ``path`` cannot be read as a small regular file (None if it can): missing, a folder, a
    FIFO or device (reading could block or never end), or larger than ``max_bytes``."""
    try:
        info = os.stat(path)
    except OSError as exc:
        return f"cannot read {os.fspath(path)!r}: {exc.strerror}"
    if not stat.S_ISREG(info.st_mode):
        return f"{os.fspath(path)!r} is not a regular file (folders, FIFOs and devices are refused)"
    if info.st_size > max_bytes:
        return f"{os.fspath(path)!r} has {info.st_size} bytes; at most {max_bytes} are read"
    return None


def _json_depth(text: str) -> int:
    """Deepest nesting of [ and { in JSON text, outside strings (no recursion)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def read_json_file(
    path: str | os.PathLike[str],
    what: str,
    max_bytes: int = MAX_INPUT_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse a small JSON file: a regular file of at most ``max_bytes``, UTF-8, nested at most
    ``max_depth`` levels; `LionKError` (one line, prefixed by ``what``) otherwise."""
    problem = file_problem(path, max_bytes)
    if problem:
        raise LionKError(f"{what}: {problem}")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
        text = raw[:max_bytes].decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LionKError(f"{what}: cannot read {os.fspath(path)!r}: {exc}") from None
    if _json_depth(text) > max_depth:
        raise LionKError(f"{what}: {os.fspath(path)!r} is nested more than {max_depth} levels deep")
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise LionKError(
            f"cannot read {what} {os.fspath(path)!r}: not valid JSON ({exc})"
        ) from None
