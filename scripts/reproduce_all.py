"""Regenerate the paper reproductions: figures/ (PNG + PDF) and paper_reproductions/ (reports).

Usage (from anywhere):  python scripts/reproduce_all.py [--size full|reduced] [name ...]
With no name every registered figure is rebuilt; one line of progress is printed per figure.
Full size writes the repository's figures/ and paper_reproductions/; a reduced run writes to a
temporary folder unless --figures/--reports say where. Seconds per figure go to the git-ignored
paper_reproductions/timings.json.
"""

import argparse
import sys
import time
from pathlib import Path

from lyapunov_lion.errors import LionKError
from lyapunov_lion.reproduce import FIGURES, run
from lyapunov_lion.reproduce.runner import default_outputs

ROOT = Path(__file__).resolve().parent.parent


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="reproduce_all.py", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "names",
        nargs="*",
        metavar="name",
        help=f"figures to rebuild: {', '.join(FIGURES)} or all (default)",
    )
    ap.add_argument("--size", choices=["full", "reduced"], default="full")
    ap.add_argument("--figures", type=Path, default=None, help="output folder of the figures")
    ap.add_argument("--reports", type=Path, default=None, help="output folder of the reports")
    ap.add_argument(
        "--jobs", type=int, default=None, help="reproductions built at once (default 1)"
    )
    args = ap.parse_args(argv)
    figures, reports = args.figures, args.reports
    if figures is None or reports is None:
        f, r = default_outputs(args.size, ROOT)
        figures, reports = figures or f, reports or r
    t0 = time.perf_counter()
    try:
        which = "all" if args.names in ([], ["all"]) else args.names
        run(which, figures, reports, progress=print, size=args.size, jobs=args.jobs)
    except LionKError as exc:
        print(f"reproduce_all.py: error: {exc}", file=sys.stderr)
        return 2
    print(f"done in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
