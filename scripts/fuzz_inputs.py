"""Property-based hardening run: generated `lionk verify` and `lionk simulate` inputs.

Expressions come from a grammar (hypothesis strategies below) and simulate options from their
domains (plus some values just outside them). Every input runs through ``lyapunov_lion.cli.main``
in a worker process with a wall-clock limit; the properties:

* no traceback and no internal error: exit 0, 1 (a check FAILED / a numerical failure) or 2 (a
  user error), with an error on ONE stderr line;
* no hang: each input finishes within ``--limit`` seconds (the worker is killed otherwise);
* ``--json`` output is strict JSON (no NaN/Infinity);
* verify verdicts agree with independent numerical checks: an accepted k passes a second-
  difference convexity test on a grid (80-digit arithmetic where float64 overflows is not
  needed: points are |x| ≤ 20), and its k* matches a brute-force supremum (scipy) at 3 points;
  a k rejected as non-convex has a negative second difference somewhere.

    python scripts/fuzz_inputs.py --verify 2000 --simulate 1000   # the report's run
    python scripts/fuzz_inputs.py --verify 20 --simulate 20       # a quick look

``tests/test_fuzz_inputs.py`` runs a small sample of the same strategies in the normal suite.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import multiprocessing as mp
import sys
import time
from contextlib import nullcontext, redirect_stderr, redirect_stdout

from hypothesis import strategies as st

# ------------------------------------------------------------------------------------------
# grammar
# ------------------------------------------------------------------------------------------
_NUMBERS = st.sampled_from(
    ["0", "1", "2", "3", "1/2", "0.1", "10", "1000", "pi", "E", "-1", "1e-3", "2.5"]
)
_UNARY = [
    "Abs",
    "exp",
    "log",
    "sqrt",
    "cosh",
    "sinh",
    "tanh",
    "atan",
    "asinh",
    "sin",
    "cos",
    "tan",
    "sign",
]


def expressions(var: str = "x", max_leaves: int = 6) -> st.SearchStrategy[str]:
    """Expressions in ``var`` (or in x1, x2 when ``var == 'x1,x2'``) from a small grammar: numbers,
    the variables, + - * / **, unary functions, Max/Min, Piecewise with one condition."""
    names = var.split(",")
    leaf = st.one_of(st.sampled_from(names), _NUMBERS)

    def extend(inner):
        return st.one_of(
            st.tuples(inner, st.sampled_from(["+", "-", "*", "/"]), inner).map(
                lambda t: f"({t[0]} {t[1]} {t[2]})"
            ),
            st.tuples(inner, st.sampled_from(["2", "3", "4", "1/2", "3/2", "1/3", "-1", "x"])).map(
                lambda t: f"({t[0]})**{t[1]}" if t[1] != "x" else f"({t[0]})**({names[0]})"
            ),
            st.tuples(st.sampled_from(_UNARY), inner).map(lambda t: f"{t[0]}({t[1]})"),
            st.tuples(st.sampled_from(["Max", "Min"]), inner, inner).map(
                lambda t: f"{t[0]}({t[1]}, {t[2]})"
            ),
            st.tuples(inner, inner, st.sampled_from(["<", ">", "<="]), _NUMBERS).map(
                lambda t: f"Piecewise(({t[0]}, {names[0]} {t[2]} {t[3]}), ({t[1]}, True))"
            ),
            st.tuples(st.sampled_from(["-", ""]), inner).map(lambda t: f"{t[0]}{t[1]}"),
        )

    return st.recursive(leaf, extend, max_leaves=max_leaves)


# convex k that must be accepted (a correct verifier accepts every one of them)
CONVEX_K = [
    "x**2",
    "Abs(x)",
    "cosh(x)",
    "exp(x) + exp(-x)",
    "log(cosh(x))",
    "sqrt(1 + x**2)",
    "x*asinh(x) - sqrt(1+x**2)",
    "exp(x)",
    "Abs(x)**3",
    "Max(Abs(x) - 1, 0)",
    "x**4/4",
    "Abs(x) + x**2/2",
    "exp(x**2)",
    "x*atan(x) - log(1+x**2)/2",
    "Max(x, 0)**2",
    "log(1 + exp(x))",
]


def verify_inputs() -> st.SearchStrategy[list[str]]:
    """argv for `lionk verify`: a grammar expression in x (sometimes a norm-like one in x1, x2, a
    known convex k, or a catalog name), maybe with --json."""
    expr = st.one_of(
        expressions("x"),
        expressions("x"),
        expressions("x1,x2", 4),
        st.sampled_from(CONVEX_K),
        st.sampled_from(["huber:delta=0.5", "power_p:p=3", "l1", "linf", "nope:p=1"]),
    )
    return st.tuples(expr, st.booleans(), st.sampled_from(["3", "5"])).map(
        lambda t: ["verify", t[0], "--timeout", t[2]] + (["--json"] if t[1] else [])
    )


def _num(lo: float, hi: float) -> st.SearchStrategy[str]:
    return st.one_of(
        st.floats(lo, hi, allow_nan=False).map(lambda v: f"{v:.6g}"),
        st.sampled_from(["nan", "inf", "-1", "0", "1e-320", "1e300", "abc"]),
    )


def simulate_inputs() -> st.SearchStrategy[list[str]]:
    """argv for `lionk simulate`: every option drawn from its domain, now and then outside it."""
    opts = st.fixed_dictionaries(
        {},
        optional={
            "--K": st.sampled_from(
                [
                    "l1",
                    "l2",
                    "linf",
                    "huber:delta=0.5",
                    "sq_l2",
                    "relativistic",
                    "logcosh",
                    "deadzone:e=0.1",
                    "lp:p=3",
                    "power_p:p=1.5",
                    "l1_plus_sq",
                    "nope",
                    "huber:delta=-1",
                ]
            ),
            "--lam": _num(1e-3, 10),
            "--lr": _num(1e-5, 0.3),
            "--beta1": _num(0, 0.999),
            "--beta2": _num(0, 0.999),
            "--noise": _num(0, 1),
            "--seed": st.integers(-2, 2**40).map(str),
            "--decay": st.sampled_from(["explicit", "implicit"]),
            "--convention": st.sampled_from(["paper", "library"]),
            "--objective": st.one_of(
                st.sampled_from(["toy", "quadratic", "rosenbrock", "logistic"]),
                expressions("x1,x2", 4),
            ),
            "--x0": st.sampled_from(["-1.5,2.5", "0,0", "1", "3,3", "nan,1", "1e300,1"]),
            "--json": st.just(None),
        },
    )
    return st.tuples(opts, st.integers(1, 400)).map(
        lambda t: (
            ["simulate", "--steps", str(t[1])]
            + [a for k, v in t[0].items() for a in ((k,) if v is None else (k, v))]
        )
    )


# ------------------------------------------------------------------------------------------
# independent checks of verify verdicts
# ------------------------------------------------------------------------------------------
def independent_verdict(text: str) -> str | None:
    """'convex' / 'not convex' by second differences of k on a grid (|x| ≤ 20, steps 1e-2..1),
    None when k cannot be evaluated there (outside the grammar, not finite)."""
    import numpy as np

    from lyapunov_lion.core.expr import parse_expression, to_numpy

    try:
        p = parse_expression(text)
    except Exception:  # noqa: BLE001
        return None
    if p.names != ("x",):
        return None
    f = to_numpy(p)
    xs = np.linspace(-20, 20, 2001)
    worst = 0.0
    with np.errstate(all="ignore"):
        for h in (1e-2, 1e-1, 1.0):
            a, m, b = (np.asarray(f(v), dtype=float) for v in (xs - h, xs, xs + h))
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(m)) and np.all(np.isfinite(b))):
                return None
            d2 = a - 2 * m + b
            tol = 1e-9 * (np.abs(a) + 2 * np.abs(m) + np.abs(b)) + 1e-12
            worst = min(worst, float(np.min(d2 + tol)))
    return "convex" if worst >= 0 else "not convex"


def conjugate_mismatch(text: str, rep) -> float | None:
    """max |k*(y) − sup_x (yx − k(x))| / (1 + |k*(y)|) over 3 points y inside dom k*, k* from
    the verifier's report; the supremum by scipy's bounded scalar minimiser (independent code)."""
    import numpy as np
    from scipy.optimize import minimize_scalar

    from lyapunov_lion.core.expr import parse_expression, to_numpy

    conj = getattr(rep, "conjugate", None)
    if conj is None or not rep.ok or rep.kind != "separable":
        return None
    try:
        parsed = parse_expression(text)
    except Exception:  # noqa: BLE001 - a catalog name, not an expression
        return None
    if parsed.names != ("x",):
        return None  # a constant k
    k = to_numpy(parsed)
    lo, hi = float(conj.ymin), float(conj.ymax)
    ys = (
        [
            v
            for v in (lo + 0.3 * (hi - lo), lo + 0.5 * (hi - lo), lo + 0.7 * (hi - lo))
            if math.isfinite(v)
        ]
        if math.isfinite(hi - lo)
        else [-0.7, 0.2, 0.9]
    )
    worst = 0.0
    for y in ys:
        xg = np.asarray(conj.grad(np.array([y])), dtype=float)[0]
        if not math.isfinite(xg) or abs(xg) > 1e3:
            continue
        r = minimize_scalar(
            lambda x, y=y: -(y * x - float(k(x))),
            bounds=(xg - 5, xg + 5),
            method="bounded",
            options={"xatol": 1e-12},
        )
        sup = -r.fun
        val = float(conj(np.array([y]))[0])
        worst = max(worst, abs(val - sup) / (1 + abs(val)))
    return worst


# ------------------------------------------------------------------------------------------
# running inputs in a worker with a time limit
# ------------------------------------------------------------------------------------------
def _strict_json(text: str):
    def bad(c):
        raise ValueError(f"non-strict JSON constant {c}")

    return json.loads(text, parse_constant=bad)


def _worker(conn) -> None:
    import warnings

    warnings.simplefilter("ignore")
    import lyapunov_lion.symbolic as symbolic
    from lyapunov_lion.cli import main

    last = {}
    original = symbolic.verify_any

    def capture(*a, **kw):  # the CLI looks verify_any up at call time: keep its report
        last["report"] = original(*a, **kw)
        return last["report"]

    symbolic.verify_any = capture
    while True:
        argv = conn.recv()
        if argv is None:
            return
        last.clear()
        out, err = io.StringIO(), io.StringIO()
        t0 = time.perf_counter()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(argv)
        info = {
            "code": code,
            "stderr": err.getvalue(),
            "seconds": time.perf_counter() - t0,
            "json_ok": None,
            "verdict": None,
        }
        if "--json" in argv and code in (0, 1) and out.getvalue().strip():
            try:
                _strict_json(out.getvalue())
                info["json_ok"] = True
            except ValueError as exc:
                info["json_ok"] = f"{exc}"
        if argv[0] == "verify" and code in (0, 1):
            info["verdict"] = "accepted" if code == 0 else "rejected"
            if code == 0:
                try:
                    info["conj_mismatch"] = conjugate_mismatch(argv[1], last.get("report"))
                except Exception as exc:  # noqa: BLE001 - reported, not hidden
                    info["conj_mismatch"] = f"{type(exc).__name__}: {exc}"
        conn.send(info)


class Runner:
    """One worker process; an input past ``limit`` seconds kills it (a hang) and starts another."""

    def __init__(self, limit: float):
        self.limit = limit
        self.proc = None
        self.conn = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")  # a fresh interpreter: no hypothesis gc callbacks
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker, args=(child,), daemon=True)
        self.proc.start()

    def run(self, argv: list[str]) -> dict:
        if self.proc is None or not self.proc.is_alive():
            self._start()
        self.conn.send(argv)
        if self.conn.poll(self.limit):
            return self.conn.recv()
        self.proc.kill()
        self.proc.join()
        self.proc = None
        return {"code": None, "stderr": "", "seconds": self.limit, "hang": True}

    def close(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.conn.send(None)
            self.proc.join(5)
            if self.proc.is_alive():
                self.proc.kill()


def problems(argv: list[str], info: dict) -> list[str]:
    """The violated properties of one run (empty: all hold)."""
    out = []
    if info.get("hang"):
        return ["hang"]
    err_lines = [
        ln
        for ln in info["stderr"].splitlines()
        if ln.strip() and not ln.startswith(("simulating", "verify:"))
    ]
    if "Traceback" in info["stderr"] or info["code"] == 3 or "internal error" in info["stderr"]:
        out.append("traceback/internal error")
    if info["code"] not in (0, 1, 2):
        out.append(f"exit code {info['code']}")
    if info["code"] == 2 and len(err_lines) != 1:
        out.append(f"{len(err_lines)} stderr lines for a user error")
    if info.get("json_ok") not in (None, True):
        out.append(f"JSON: {info['json_ok']}")
    if argv[0] == "verify" and info.get("verdict"):
        truth = independent_verdict(argv[1])
        if info["verdict"] == "accepted" and truth == "not convex":
            out.append("accepted a k that is not convex")
        if argv[1] in CONVEX_K and info["verdict"] != "accepted":
            out.append("rejected a convex k of the known list")
        mm = info.get("conj_mismatch")
        if isinstance(mm, str):
            out.append(f"independent k* check failed to run: {mm}")
        elif mm is not None and mm > 1e-6:
            out.append(f"k* differs from an independent supremum by {mm:.3g}")
    return out


def sample(strategy, n: int, seed: int) -> list:
    """n examples of a hypothesis strategy, reproducible from ``seed`` (hypothesis' example
    generation through a seeded `find`-free loop)."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed

    found: list = []

    @hseed(seed)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(x):
        found.append(x)

    collect()
    return found[:n]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--verify", type=int, default=50, help="number of generated verify inputs")
    ap.add_argument("--simulate", type=int, default=50, help="number of generated simulate inputs")
    ap.add_argument("--limit", type=float, default=60.0, help="seconds before an input is a hang")
    ap.add_argument("--seed", type=int, default=0, help="hypothesis seed")
    ap.add_argument("--log", default=None, help="write one JSON line per input to this file")
    args = ap.parse_args(argv)
    runner = Runner(args.limit)
    totals = {}
    with open(args.log, "w") if args.log else nullcontext() as log:
        try:
            for kind, strategy, n in (
                ("verify", verify_inputs(), args.verify),
                ("simulate", simulate_inputs(), args.simulate),
            ):
                inputs = sample(strategy, n, args.seed) if n else []
                counts = {
                    "inputs": 0,
                    "exit 0": 0,
                    "exit 1": 0,
                    "exit 2": 0,
                    "tracebacks": 0,
                    "hangs": 0,
                    "property violations": 0,
                    "max seconds": 0.0,
                }
                t0 = time.perf_counter()
                for i, a in enumerate(inputs):
                    info = runner.run(a)
                    bad = problems(a, info)
                    counts["inputs"] += 1
                    counts["max seconds"] = max(counts["max seconds"], round(info["seconds"], 2))
                    if info.get("hang"):
                        counts["hangs"] += 1
                    elif info["code"] in (0, 1, 2):
                        counts[f"exit {info['code']}"] += 1
                    if any(b.startswith("traceback") for b in bad):
                        counts["tracebacks"] += 1
                    if (
                        bad
                        and not info.get("hang")
                        and not any(b.startswith("traceback") for b in bad)
                    ):
                        counts["property violations"] += 1
                    if bad:
                        print(
                            f"[{kind} {i}] {bad}: lionk {' '.join(a)} :: "
                            f"{info['stderr'].strip()[-200:]}",
                            flush=True,
                        )
                    if log:
                        log.write(
                            json.dumps(
                                {
                                    "argv": a,
                                    "code": info.get("code"),
                                    "seconds": info["seconds"],
                                    "problems": bad,
                                }
                            )
                            + "\n"
                        )
                        log.flush()
                    if (i + 1) % 50 == 0:
                        print(
                            f"{kind}: {i + 1}/{len(inputs)} done, {time.perf_counter() - t0:.0f} s",
                            file=sys.stderr,
                            flush=True,
                        )
                totals[kind] = counts
        finally:
            runner.close()
    for kind, c in totals.items():
        print(f"{kind}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
    failed = any(c["tracebacks"] or c["hangs"] or c["property violations"] for c in totals.values())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
