"""The JSON record an ODE benchmark writes: its fields, the command that made it, the machine."""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import numpy as np


def write_record(out: str | Path, **fields: Any) -> None:
    """Write ``fields`` (in order), then ``command`` and ``machine``, as JSON to ``out``."""
    rec = {
        **fields,
        "command": " ".join([Path(sys.executable).name] + sys.argv),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "numpy": np.__version__,
        },
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(rec, indent=2))
    print(f"wrote {out}")
