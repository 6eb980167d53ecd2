"""The paper-status table of the reports index (reproduce/status.py)."""

from __future__ import annotations

import pytest

from lyapunov_lion.reproduce import FIGURES
from lyapunov_lion.reproduce.runner import render_index
from lyapunov_lion.reproduce.status import (
    NOT_YET,
    PAPER_ITEMS,
    REPRODUCED,
    SMALLER,
    render_status_table,
)


def test_every_registered_report_and_every_paper_figure_is_listed():
    reports = {it.report for it in PAPER_ITEMS if it.report}
    assert reports == set(FIGURES)
    papers = " ".join(it.paper for it in PAPER_ITEMS)
    for fig in ("Fig. 1", "Fig. 5", "Figs. 2–3", "Fig. 4", "Figs. 6–7"):
        assert fig in papers
    for it in PAPER_ITEMS:
        assert it.status in (REPRODUCED, SMALLER, NOT_YET)
        assert (it.report is None) == (it.status == NOT_YET)
        assert it.note  # what differs, or why not yet


def test_table_shows_verdicts_and_rejects_unknown_reports():
    lines = render_status_table({"fig1": {"verdict": "agrees"}}, FIGURES)
    assert len(lines) == 2 + len(PAPER_ITEMS)
    assert "[fig1.md](fig1.md) (agrees)" in lines[2]
    assert "not generated" in "\n".join(lines)
    index = render_index({"fig1": {"verdict": "agrees", "claim": "c"}}, FIGURES)
    assert "## Every figure and claim of the paper" in index
    with pytest.raises(ValueError, match="unknown report"):
        render_status_table({}, {"fig1": None})
