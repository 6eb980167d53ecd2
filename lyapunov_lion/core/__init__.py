"""The core: K functions and their catalog, objectives, the discrete Lion-K step, the ODE and the
Lyapunov diagnostics (numpy/scipy only; no click, matplotlib, torch or dask).

Importing the package registers the catalog K with `kfunc`'s registry (``make_K``), so that the
registry module never imports the catalog that depends on it (a one-way import graph)."""

from . import catalog  # noqa: F401  (registers the catalog K)
