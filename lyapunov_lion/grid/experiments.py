"""The experiments a grid can run: a registry of named ones, or any ``package.module:function``.

An experiment is a function called with one cell's settings as keyword arguments. It returns a
mapping of JSON-ready metrics, or an object with a ``.metrics`` mapping (the built-ins return a
`CellResult`, whose ``history`` of per-step series goes to the store's side table). It runs on a
worker process, so it must be importable there; raising marks the cell failed with the error.

Built in:

- ``simulate``: one toy Lion-K run (`lyapunov_lion.simulate`); settings are those of
  `SimulationSpec` (K as a name or a table ``{name = "huber", delta = 0.5}``), plus ``history``
  (names among f, kkt, H, dist) and ``history_every`` for per-step series.
- ``sweep``: one batched λ sweep (`lyapunov_lion.sweep.lambda_sweep`, as ``lionk sweep``);
  ``lams`` is the list of λ of the batch.
- ``train``: real training, `lyapunov_lion.train.train(**settings)` (torch, one thread); K as
  for ``simulate`` or ``"huber:delta=0.5"``, ``betas`` a list of two, and ``history = ["loss"]``
  (with ``history_every``) for the per-step minibatch loss.
"""

from __future__ import annotations

import importlib
import importlib.util
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, NoReturn

import numpy as np

from ..errors import LionKError


@dataclass
class CellResult:
    """What a built-in experiment returns: scalar/list metrics and optional per-step histories."""

    metrics: dict[str, Any]
    history: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class Experiment:
    """A registered experiment: its function (``module:function``), a driver-side check of the
    cells before anything runs, and the types of its settings (None: any setting)."""

    name: str
    target: str
    check: Callable[[list[dict]], None]
    parameters: Callable[[], Mapping[str, tuple[type, ...]]] | None = None


# ----------------------------------------------------------------------------- simulate
_NUM = (int, float)
_KINDS: dict[tuple[type, ...], str] = {
    _NUM: "a number",
    (int,): "an integer",
    (str,): "a string",
    (list,): "a list",
    (dict,): "a table",
    (str, dict): 'a name or a table such as {name = "huber", delta = 0.5}',
}
_HISTORY = ("f", "kkt", "H", "dist")


def _simulate_parameters() -> dict[str, tuple[type, ...]]:
    """The fields of `SimulationSpec` (any type for a field not listed here) and the history."""
    from ..simulate import SimulationSpec

    types: dict[str, tuple[type, ...]] = {
        "K": (str, dict),
        "K_params": (dict,),
        "lam": _NUM,
        "lr": _NUM,
        "beta1": _NUM,
        "beta2": _NUM,
        "steps": (int,),
        "x0": (list,),
        "objective": (str,),
        "objective_params": (dict,),
        "noise": _NUM,
        "seed": (int,),
        "decay": (str,),
        "convention": (str,),
    }
    return {f.name: types.get(f.name, (object,)) for f in fields(SimulationSpec)} | {
        "history": (list,),
        "history_every": (int,),
    }


def _K_setting(value) -> tuple[str, dict[str, Any]]:
    """K = "l1" or K = {name = "huber", delta = 0.5} → (name, params)."""
    if isinstance(value, str):
        return value, {}
    params = dict(value)
    name = params.pop("name", None)
    if not isinstance(name, str):
        raise LionKError(
            f'K = {value!r}: a K table needs name = "...", e.g. {{name = "huber", delta = 0.5}}'
        )
    return name, params


def _simulation_spec(settings: dict[str, Any]):
    from ..simulate import SimulationSpec

    s = dict(settings)
    s.pop("history", None), s.pop("history_every", None)
    name, params = _K_setting(s.pop("K", "l1"))
    return SimulationSpec(K=name, K_params={**params, **s.pop("K_params", {})}, **s)


def _named(key: str, fn: Callable, *args, **kw):
    """``fn(...)``, its `LionKError` prefixed with the setting it is about (``key: ...``)."""
    try:
        return fn(*args, **kw)
    except LionKError as exc:
        raise LionKError(f"{key}: {exc}") from None


def check_simulate(cells: list[dict]) -> None:
    """Build every distinct (K, objective, x0) once and validate every cell's hyper-parameters.
    Errors start with the setting they are about (``K: ...``, ``lr=...``)."""
    from ..core.discrete import LionKConfig
    from ..core.kfunc import make_K
    from ..core.objectives import make_objective
    from ..simulate import build_problem

    seen = set()
    for s in cells:
        spec = _named("K", _simulation_spec, s)
        key = repr((spec.K, spec.K_params, spec.objective, spec.objective_params, spec.x0))
        if key not in seen:
            seen.add(key)
            _named("K", make_K, spec.K, **spec.K_params)
            _named("objective", make_objective, spec.objective, **spec.objective_params)
            build_problem(spec)
        LionKConfig(
            lr=spec.lr,
            beta1=spec.beta1,
            beta2=spec.beta2,
            lam=spec.lam,
            decay=spec.decay,
            convention=spec.convention,
        ).validate()
        bad = [h for h in s.get("history", []) if h not in _HISTORY]
        if bad:
            raise LionKError(
                f"history: {bad[0]!r} is not a series; choose among {', '.join(_HISTORY)}"
            )
        if s.get("history_every", 1) < 1:
            raise LionKError("history_every: must be a positive integer")


def simulate_cell(**settings) -> CellResult:
    """One `simulate` run → final f, KKT score, distance to the optimum x*(λ), phase-1 exit,
    Lyapunov verdicts, theory warnings; per-step series if ``history`` names some."""
    from ..errors import TheoryWarning
    from ..simulate import simulate

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)  # kept in the metrics instead
        report = simulate(_simulation_spec(settings))
    d = report.diagnostics
    ineq = report.inequality
    metrics = {
        "f_final": report.f_final,
        "kkt": float(np.asarray(d.kkt)[-1]),
        "f_star": None if report.reference is None else float(report.reference.f),
        "distance": (
            None
            if report.reference is None
            else float(np.linalg.norm(report.x_final - report.reference.x))
        ),
        "phase1_exit_step": report.phase1_exit_step,
        "lyapunov_monotone": bool(d.monotonicity.monotone),
        "inequality_violations": None if ineq is None else int(np.asarray(ineq.n_violations)),
        "x_final": report.x_final.tolist(),
        "theory_warnings": list(report.theory_warnings),
    }
    every = settings.get("history_every", 1)
    series = {"f": d.f, "kkt": d.kkt, "H": d.H_d, "dist": d.dist}
    history = {h: np.asarray(series[h], dtype=float)[::every] for h in settings.get("history", [])}
    return CellResult(metrics, history)


# ----------------------------------------------------------------------------- sweep
def _sweep_parameters() -> dict[str, tuple[type, ...]]:
    return {
        "K": (str, dict),
        "objective": (str,),
        "lams": (list,),
        "x0": (list,),
        "steps": (int,),
        "window": (int,),
        "lr": _NUM,
        "beta1": _NUM,
        "beta2": _NUM,
        "decay": (str,),
    }


def check_sweep(cells: list[dict]) -> None:
    from ..core.kfunc import make_K
    from ..core.objectives import make_objective

    for s in cells:
        if "lams" not in s:
            raise LionKError(
                "lams: missing; the λ of the batch, e.g. lams = {linspace = [0.1, 3, 50]}"
            )
        lams = np.asarray(s["lams"], dtype=float)
        if lams.ndim != 1 or lams.size == 0 or np.any(lams <= 0):
            raise LionKError("lams: must be a non-empty list of positive numbers")
    for K in {repr(s.get("K", "l1")): s.get("K", "l1") for s in cells}.values():
        name, params = _named("K", _K_setting, K)
        _named("K", make_K, name, **params)
    for objective in {s.get("objective", "toy") for s in cells}:
        _named("objective", make_objective, objective)


def sweep_cell(**settings) -> CellResult:
    """One batched λ sweep → converged loss and exact f(x*(λ)) per λ, largest gap."""
    from ..sweep import lambda_sweep

    s = dict(settings)
    name, params = _K_setting(s.pop("K", "l1"))
    from ..core.kfunc import make_K

    result = lambda_sweep(make_K(name, **params), s.pop("objective", "toy"), s.pop("lams"), **s)
    out = result.summary_dict()
    return CellResult({k: out[k] for k in ("lam", "loss", "exact_loss", "max_error", "worst_lam")})


# ----------------------------------------------------------------------------- train
_TRAIN_MISSING = (
    "'train' needs lyapunov_lion.train (real training with torch), which this "
    "installation does not have"
)
_TRAIN_HISTORY = ("loss",)


def _train_parameters() -> dict[str, tuple[type, ...]]:
    """The settings of `lyapunov_lion.train.train` a grid can give (not ``foreach``/``progress``),
    plus ``history = ["loss"]`` and ``history_every`` for the per-step minibatch loss."""
    return {
        "model": (str,),
        "dataset": (str,),
        "K": (str, dict),
        "lam": _NUM,
        "lr": _NUM,
        "betas": (list,),
        "steps": (int,),
        "batch_size": (int,),
        "seed": (int,),
        "monitor_every": (int,),
        "decay": (str,),
        "hidden": (int,),
        "polar": (str,),
        "dtype": (str,),
        "monitor_bins": (int,),
        "history": (list,),
        "history_every": (int,),
    }


def _train_K(value):
    """K = "l1" / "huber:delta=0.5" (passed as is) or a table {name = "huber", delta = 0.5}."""
    if isinstance(value, str):
        return value
    from ..core.kfunc import make_K

    name, params = _K_setting(value)
    return make_K(name, **params)


def check_train(cells: list[dict]) -> None:
    """torch and the train use case are installed; model, dataset, K, betas, lr, λ and the
    integers are valid in every cell (before a worker spends seconds on a cell that fails)."""
    if importlib.util.find_spec("lyapunov_lion.train") is None:
        raise LionKError(_TRAIN_MISSING)
    if importlib.util.find_spec("torch") is None:
        raise LionKError("'train' needs torch: pip install 'lyapunov_lion[torch]'")
    from ..torch import K_from_spec
    from ..train.data import DATASETS
    from ..train.models import MODELS

    for K in {repr(s.get("K", "l1")): s.get("K", "l1") for s in cells}.values():
        _named("K", K_from_spec, _named("K", _train_K, K))
    for s in cells:
        if s.get("model", "mlp") not in MODELS:
            raise LionKError(f"model: {s['model']!r} is not one of {', '.join(MODELS)}")
        if s.get("dataset", "digits") not in DATASETS:
            raise LionKError(f"dataset: {s['dataset']!r} is not one of {', '.join(DATASETS)}")
        betas = s.get("betas", [0.9, 0.99])
        if (
            len(betas) != 2
            or any(isinstance(b, bool) or not isinstance(b, _NUM) for b in betas)
            or not all(0 <= b < 1 for b in betas)
        ):
            raise LionKError(f"betas: {betas!r} must be two numbers in [0, 1), e.g. [0.9, 0.99]")
        if s.get("lr", 1e-3) <= 0 or s.get("lam", 0.0) < 0:
            raise LionKError(f"lr={s.get('lr')!r}, lam={s.get('lam')!r}: need lr > 0 and lam ≥ 0")
        for key in ("steps", "batch_size", "monitor_every", "hidden", "history_every"):
            if s.get(key, 1) < 1:
                raise LionKError(f"{key}: must be a positive integer")
        bad = [h for h in s.get("history", []) if h not in _TRAIN_HISTORY]
        if bad:
            raise LionKError(
                f"history: {bad[0]!r} is not a series; choose among {', '.join(_TRAIN_HISTORY)}"
            )


def train_cell(**settings) -> CellResult:
    """`lyapunov_lion.train.train(**settings)` with torch on one thread (``betas`` a tuple, a K
    table built with `make_K`) → its ``metrics`` (names as in `TrainResult`: test_accuracy,
    test_loss, final_train_loss, final_train_accuracy, early_loss, entry_steps, phase1_bounds,
    all_entered_within_bound, stayed_in_box, seconds); the minibatch loss of every
    ``history_every``-th step as history ``loss`` if ``history = ["loss"]``."""
    try:
        from ..train import train
    except ModuleNotFoundError as exc:
        if exc.name != "lyapunov_lion.train":
            raise
        raise LionKError(_TRAIN_MISSING) from None
    import torch

    torch.set_num_threads(1)
    s = dict(settings)
    history, every = s.pop("history", []), s.pop("history_every", 1)
    if "betas" in s:
        s["betas"] = tuple(s["betas"])
    if "K" in s:
        s["K"] = _train_K(s["K"])
    result = train(**s)
    return CellResult(
        dict(result.metrics), {"loss": result.losses[::every]} if "loss" in history else {}
    )


# ----------------------------------------------------------------------------- registry
EXPERIMENTS: dict[str, Experiment] = {
    "simulate": Experiment(
        "simulate", f"{__name__}:simulate_cell", check_simulate, _simulate_parameters
    ),
    "sweep": Experiment("sweep", f"{__name__}:sweep_cell", check_sweep, _sweep_parameters),
    "train": Experiment("train", f"{__name__}:train_cell", check_train, _train_parameters),
}


def resolve(experiment: str) -> Callable[..., Any]:
    """The function behind a registered name or a ``package.module:function`` reference."""
    target = EXPERIMENTS[experiment].target if experiment in EXPERIMENTS else experiment
    module_name, colon, attr = target.partition(":")
    if not colon or not module_name or not attr.isidentifier():
        raise LionKError(
            f"unknown experiment {experiment!r}; choose one of "
            f"{', '.join(EXPERIMENTS)} or give 'package.module:function'"
        )
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise LionKError(
            f"cannot import {module_name} for experiment {experiment!r} ({exc})"
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise LionKError(f"{module_name} has no function {attr} (experiment {experiment!r})")
    return fn


def check_grid(spec, fail: Callable[[str, str], NoReturn]) -> None:
    """Driver-side checks before anything runs: the experiment exists, every setting is known
    and of the right type, and the experiment's own check passes on every cell."""
    exp = EXPERIMENTS.get(spec.experiment)
    if exp is None:
        try:
            resolve(spec.experiment)
        except LionKError as exc:
            fail("[grid] experiment", str(exc))
        return
    where = {k: f"[axes] {k}" for k in spec.axes} | {k: f"[fixed] {k}" for k in spec.fixed}
    if exp.parameters is not None:
        types = exp.parameters()
        for key, place in where.items():
            if key not in types:
                fail(
                    place,
                    f"not a setting of experiment {exp.name!r}; its settings are "
                    f"{', '.join(sorted(types))}",
                )
            values = spec.axes[key] if key in spec.axes else [spec.fixed[key]]
            for v in values:
                if isinstance(v, bool) or not isinstance(v, types[key]):
                    fail(place, f"{v!r} is not {_KINDS[types[key]]}")
    try:
        exp.check([c.settings for c in spec.cells()])
    except LionKError as exc:
        message = str(exc)
        key = next((k for k in where if message.startswith((f"{k}=", f"{k}:", f"{k} "))), None)
        if key is None:  # a setting that is missing: it belongs in [fixed]
            name, colon, rest = message.partition(": ")
            if colon and name.isidentifier():
                fail(f"[fixed] {name}", rest)
            fail("[grid] experiment", message)
        if message.startswith(f"{key}: "):
            message = message[len(key) + 2 :]
        fail(where[key], message)
