"""Exceptions and warnings shared by the whole package.

`LionKError` is a *user* error (bad name, bad number, unparsable expression): the CLI prints its
message on one line and exits with status 2, without a traceback. `TheoryWarning` flags settings
under which a guarantee of the theory no longer holds; the computation still runs.
`NumericalFailure` reports a numerical problem (NaN, divergence) detected during a run.
"""


class LionKError(ValueError):
    """A mistake in the user's input; the message says what is wrong and how to fix it."""


class NumericalFailure(RuntimeError):
    """A run produced NaN/inf or diverged; the message says where."""


class TheoryWarning(UserWarning):
    """A setting breaks a condition of the theory (e.g. beta1 > beta2, eta*lam > 1)."""
