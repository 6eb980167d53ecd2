"""``python -m lyapunov_lion`` runs the ``lionk`` command line."""

import sys

from .cli import main

sys.exit(main())
