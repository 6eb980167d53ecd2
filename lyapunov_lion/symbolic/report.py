"""Stage 7 of the pipeline, report: the finished `VerifyReport` of a run.

The record itself and its renderings (``to_dict``, ``to_text``, ``to_markdown``, ``to_latex``)
live in the foundation module `record`, which every stage reads; this last stage hands the
record out of the `Work` with the run time stamped on it.
"""

from __future__ import annotations

import time
from dataclasses import replace

from .record import VerifyReport
from .state import Work


def finish(work: Work, t0: float) -> VerifyReport:
    """The report of ``work`` with ``seconds`` = the time since ``t0`` (`time.monotonic`)."""
    rep = work.report
    return replace(rep, seconds=time.monotonic() - t0)
