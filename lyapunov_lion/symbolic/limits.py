"""CPU-time limits for sympy calls and the failure type of the symbolic engine.

sympy has no cancellation: a hard integral, ``solve`` or ``simplify`` can run for minutes. Every
sympy step of the verifier runs through `limited(step, seconds, fn, *args)`: on the main thread of
a POSIX process it arms ``signal.setitimer(ITIMER_PROF)`` and turns the signal into `StepTimeout`,
which derives from ``BaseException`` so that sympy's internal ``except Exception`` blocks cannot
swallow it. Off the main thread (or without SIGPROF) no limit can be enforced; the call runs
unlimited and `time_limit_enforced()` says so, so the report can state it.

The seconds are **CPU seconds of this process** (``ITIMER_PROF``; `Budget` reads
``time.process_time``), not wall-clock seconds: a verification then reaches the same verdicts on
an idle machine and on one loaded by other jobs, which only make it take longer. sympy does no
I/O and runs on one thread, so its CPU time is its work.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from typing import Any


class SymbolicFailure(Exception):
    """A step of the symbolic derivation could not be carried out; ``step`` names it."""

    def __init__(self, step: str, reason: str):
        super().__init__(f"{step}: {reason}")
        self.step = step
        self.reason = reason


class StepTimeout(BaseException):
    """Raised by the alarm inside a time-limited call (BaseException: sympy cannot swallow it)."""


def time_limit_enforced() -> bool:
    """True when `limited` can interrupt a call (POSIX SIGPROF and the main thread)."""
    return (
        hasattr(signal, "setitimer")
        and hasattr(signal, "SIGPROF")
        and threading.current_thread() is threading.main_thread()
    )


def _on_alarm(signum, frame):  # pragma: no cover - exercised through `limited`
    raise StepTimeout()


_progress: list[Callable[[str], None]] = []


def set_progress(fn: Callable[[str], None] | None) -> None:
    """Report the name of every limited step to ``fn`` (e.g. a status line on stderr); None
    stops reporting."""
    _progress[:] = [] if fn is None else [fn]


def limited(step: str, seconds: float, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` interrupted after ``seconds`` of CPU time; a time-out raises
    `SymbolicFailure(step, 'timed out after … CPU s')`. Calls must not be nested. The step name goes
    to the progress hook of `set_progress`, if any."""
    for report in _progress:
        report(step)
    if seconds <= 0:
        raise SymbolicFailure(step, "no time left in the verification budget")
    if not time_limit_enforced():
        return fn(*args, **kwargs)
    old = signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        return fn(*args, **kwargs)
    except StepTimeout:
        raise SymbolicFailure(step, f"timed out after {seconds:.3g} CPU s") from None
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, old)


class Budget:
    """A total CPU-time budget shared by the steps of one verification.

    ``call(step, fn, ...)`` runs ``fn`` with the smaller of ``per_call`` and the time left;
    ``left() = total − (process_time() − start)``, in CPU seconds of this process.
    """

    def __init__(self, total: float, per_call: float | None = None):
        self.total = float(total)
        self.per_call = float(per_call if per_call is not None else total)
        self.start = time.process_time()

    def left(self) -> float:
        return self.total - (time.process_time() - self.start)

    def call(self, step: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
        return limited(step, min(self.per_call, self.left()), fn, *args, **kwargs)

    def try_call(
        self, step: str, fn: Callable, *args: Any, default: Any = None, **kwargs: Any
    ) -> Any:
        """Like `call`, but a time-out or an exception of sympy returns ``default``."""
        try:
            return self.call(step, fn, *args, **kwargs)
        except SymbolicFailure:
            if self.left() <= 0:
                raise
            return default
        except (
            ValueError,
            TypeError,
            NotImplementedError,
            ZeroDivisionError,
            AttributeError,
            RecursionError,
            ArithmeticError,
        ):
            return default
