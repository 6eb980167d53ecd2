"""Runs that cannot fit in memory are refused up front, and reproductions keep the tracked tree
clean: timings go to a git-ignored file, reduced runs never overwrite full-size results."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lyapunov_lion.cli import main
from lyapunov_lion.errors import LionKError
from lyapunov_lion.reproduce import run
from lyapunov_lion.reproduce.runner import TIMINGS, default_outputs
from lyapunov_lion.simulate import BYTES_PER_STEP_AND_COORDINATE, check_memory

ROOT = Path(__file__).resolve().parent.parent


def test_check_memory_refuses_with_the_bytes_needed():
    check_memory(1000, 2, available=10**9)  # 320 kB: fine
    with pytest.raises(LionKError, match=r"--steps 1000000 would need about 320 MB"):
        check_memory(10**6, 2, available=10**8)
    assert BYTES_PER_STEP_AND_COORDINATE * 2 * (10**6 + 1) > 10**8


def test_cli_refuses_a_trillion_steps_in_one_line(capsys, tmp_path):
    # --save keeps every step (without it the run streams in bounded memory and only its summary
    # is kept, so memory is no reason to refuse: that run is accepted and would take weeks)
    out_file = tmp_path / "run.npz"
    code = main(["simulate", "--steps", "1000000000000", "--save", str(out_file)])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and not out_file.exists()
    assert err.count("\n") == 1 and "would need about 320 TB" in err


def test_reproduce_all_help_and_errors_do_not_traceback():
    script = ROOT / "scripts" / "reproduce_all.py"
    ok = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert ok.returncode == 0 and "--size" in ok.stdout and not ok.stderr
    bad = subprocess.run([sys.executable, str(script), "fig9"], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.count("\n") == 1 and "unknown figure fig9" in bad.stderr


def test_reduced_run_goes_to_a_temporary_folder_and_never_over_full_results(tmp_path):
    figures, reports = default_outputs("reduced", ROOT)
    assert ROOT not in figures.parents and ROOT not in reports.parents
    assert default_outputs("full", ROOT) == (ROOT / "figures", ROOT / "paper_reproductions")
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / "results.json").write_text(json.dumps({"fig1": {"size": "full"}}))
    with pytest.raises(LionKError, match="full-size results for fig1"):
        run("fig1", tmp_path / "figures", reports, size="reduced")
    assert not (tmp_path / "figures").exists()


def test_timings_go_to_the_ignored_file_not_the_reports(reproduce_reduced, tmp_path):
    reproduce_reduced("phases")
    reports = tmp_path / "reports"
    timings = json.loads((reports / TIMINGS).read_text())
    assert timings["phases"]["seconds"] > 0 and timings["phases"]["size"] == "reduced"
    assert "seconds" not in json.loads((reports / "results.json").read_text())["phases"]
    assert " s at size" not in (reports / "phases.md").read_text()
    assert f"paper_reproductions/{TIMINGS}" in (ROOT / ".gitignore").read_text().split()


def test_reproductions_built_in_two_workers_write_the_same_bytes(tmp_path):
    """jobs=2 builds the reports in forked workers: every file (figures, reports, results.json,
    index) is byte-identical to a jobs=1 run, and the progress lines come in report order."""
    outputs = {}
    for jobs in (1, 2):
        lines: list[str] = []
        figures, reports = tmp_path / f"j{jobs}" / "figures", tmp_path / f"j{jobs}" / "reports"
        run(["phases", "fig1"], figures, reports, progress=lines.append, size="reduced", jobs=jobs)
        assert [line.split(":")[0] for line in lines] == ["[1/2] phases", "[2/2] fig1"]
        outputs[jobs] = {
            p.relative_to(tmp_path / f"j{jobs}"): p.read_bytes()
            for p in sorted((tmp_path / f"j{jobs}").rglob("*"))
            if p.is_file() and p.name != TIMINGS
        }
    assert len(outputs[1]) == 8  # 2 PNG, 2 PDF, 2 reports, results.json, README.md
    assert outputs[1] == outputs[2]


def test_reproduce_jobs_must_be_positive(tmp_path):
    with pytest.raises(LionKError, match="jobs=0"):
        run("phases", tmp_path / "f", tmp_path / "r", size="reduced", jobs=0)
