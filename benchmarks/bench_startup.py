"""Start-up time of `lionk --version` and `lionk --help` next to `python -c pass`.

Each command runs ``--repeat`` times (default 5) in a fresh process, alternating with the others
so that machine load hits all of them alike; the medians and their ratios to ``python -c pass``
are printed and written to ``benchmarks/results/startup.json``. A fresh interpreter also reports
which heavy modules ``lionk --version`` imported (none of numpy, scipy, sympy, matplotlib is
expected: the package exports are lazy).

    .venv/bin/python benchmarks/bench_startup.py
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    lionk = shutil.which("lionk") or "lionk"
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "lionk --version": [lionk, "--version"],
        "lionk --help": [lionk, "--help"],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    for _ in range(args.repeat):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True)
            times[name].append(time.perf_counter() - t0)
    med = {k: statistics.median(v) for k, v in times.items()}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            (
                "import sys\nfrom lyapunov_lion.cli import main\nmain(['--version'])\n"
                "print(sorted(m for m in ('numpy', 'scipy', 'sympy', 'matplotlib')"
                " if m in sys.modules))"
            ),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()[-1]
    for name, m in med.items():
        print(f"{name:16s} median {m:.3f} s  ({m / med['python -c pass']:.2f}× python -c pass)")
    print(f"heavy modules imported by lionk --version: {probe}")
    out = Path(__file__).parent / "results" / "startup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "median_s": med,
                "runs_s": times,
                "heavy_imports": probe,
                "command": "python benchmarks/bench_startup.py",
                "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
            },
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
