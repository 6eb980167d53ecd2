"""Time limits for sympy calls and the failure type of the symbolic engine.

sympy has no cancellation: a hard integral, ``solve`` or ``simplify`` can run for minutes. Every
sympy step of the verifier runs through `limited(step, seconds, fn, *args)`: on the main thread of
a POSIX process it arms ``signal.setitimer(ITIMER_REAL)`` and turns the alarm into `StepTimeout`,
which derives from ``BaseException`` so that sympy's internal ``except Exception`` blocks cannot
swallow it. Off the main thread (or without SIGALRM) no limit can be enforced; the call runs
unlimited and `time_limit_enforced()` says so, so the report can state it.
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
    """True when `limited` can interrupt a call (POSIX SIGALRM and the main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


def _on_alarm(signum, frame):  # pragma: no cover - exercised through `limited`
    raise StepTimeout()


_progress: list[Callable[[str], None]] = []


def set_progress(fn: Callable[[str], None] | None) -> None:
    """Report the name of every limited step to ``fn`` (e.g. a status line on stderr); None
    stops reporting."""
    _progress[:] = [] if fn is None else [fn]


def limited(step: str, seconds: float, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` interrupted after ``seconds``; a time-out raises
    `SymbolicFailure(step, 'timed out after …')`. Calls must not be nested. The step name goes
    to the progress hook of `set_progress`, if any."""
    for report in _progress:
        report(step)
    if seconds <= 0:
        raise SymbolicFailure(step, "no time left in the verification budget")
    if not time_limit_enforced():
        return fn(*args, **kwargs)
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args, **kwargs)
    except StepTimeout:
        raise SymbolicFailure(step, f"timed out after {seconds:.3g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


class Budget:
    """A total time budget shared by the steps of one verification.

    ``call(step, fn, ...)`` runs ``fn`` with the smaller of ``per_call`` and the time left.
    """

    def __init__(self, total: float, per_call: float | None = None):
        self.total = float(total)
        self.per_call = float(per_call if per_call is not None else total)
        self.start = time.monotonic()

    def left(self) -> float:
        return self.total - (time.monotonic() - self.start)

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
