"""The ``lionk`` command line: a thin layer over the use cases.

User mistakes (`LionKError`, click usage errors) print one line ``lionk: error: ...`` and exit 2;
numerical failures print ``lionk: numerical failure: ...`` and exit 1; neither shows a traceback.
"""

from __future__ import annotations

import json
import sys
import warnings
from typing import Any

import click

from ._version import __version__
from .cli_inputs import (
    T_FINAL,
    T_FINAL_MAX,
    Count,
    InputFile,
    OutputFile,
    Real,
    check_t_final,
    expression_not_option,
)
from .errors import LionKError, NumericalFailure, TheoryWarning

_PROGRESS_MIN_STEPS = 50_000


def parse_K_option(text: str, extra: tuple[str, ...] = ()) -> tuple[str, dict[str, float]]:
    """Parse ``--K name[:p=v,...]`` plus repeated ``--K-param p=v`` into (name, params)."""
    name, _, rest = text.partition(":")
    items = [s for s in rest.split(",") if s.strip()] + list(extra)
    params: dict[str, float] = {}
    for item in items:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise LionKError(f"K parameter {item!r} is not of the form name=value (e.g. delta=0.5)")
        try:
            params[key.strip()] = float(value)
        except ValueError:
            raise LionKError(f"K parameter {key.strip()}={value!r} is not a number") from None
    return name.strip(), params


def parse_vector(text: str | None, what: str):
    """Parse ``"-1.5,2.5"`` into a float array (None stays None)."""
    import numpy as np

    if text is None:
        return None
    try:
        v = np.array([float(s) for s in text.replace(" ", "").split(",") if s != ""])
    except ValueError:
        raise LionKError(
            f"{what}={text!r} is not a comma-separated list of numbers, e.g. -1.5,2.5"
        ) from None
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise LionKError(
            f"{what}={text!r} must be a non-empty list of finite numbers, e.g. -1.5,2.5"
        )
    return v


_LAM_TINY = 2.2250738585072014e-308  # smallest normal float64: below it 1/λ overflows
_POSITIVE = Real(0, open_lo=True)
_BETA = Real(0, 1, open_hi=True)


def K_options(fn):
    """--K, --K-param, --K-expr, --K-file: the ways of giving K (shared by simulate and sweep)."""
    for deco in reversed(
        [
            click.option(
                "--K",
                "K_text",
                default="l1",
                show_default=True,
                help="K by name, optionally with parameters: huber:delta=0.5 (see `lionk list`).",
            ),
            click.option(
                "--K-param",
                "K_params",
                multiple=True,
                metavar="NAME=VALUE",
                help="A parameter of K (repeatable), e.g. --K-param p=1.5.",
            ),
            click.option(
                "--K-expr",
                "K_expr",
                default=None,
                metavar="EXPR",
                help="K as an expression, verified first: k in x for K = Σk(x_i) (e.g. "
                "'log(cosh(x))') or a norm in x1, x2 (e.g. 'Max(Abs(x1), Abs(x2))').",
            ),
            click.option(
                "--K-file",
                "K_file",
                default=None,
                type=InputFile(),
                help="A K saved by `lionk verify EXPR --save-K FILE` (re-derived and checked).",
            ),
        ]
    ):
        fn = deco(fn)
    return fn


def run_options(steps_default: int):
    """Optimizer settings shared by simulate and sweep (one help text each)."""

    def wrap(fn):
        for deco in reversed(
            [
                click.option(
                    "--lr",
                    type=Real(0, 10, open_lo=True),
                    default=1e-3,
                    show_default=True,
                    help="Learning rate η in (0, 10].",
                ),
                click.option(
                    "--beta1",
                    type=_BETA,
                    default=0.9,
                    show_default=True,
                    help="β1 ∈ [0, 1): weight of the momentum in the update direction.",
                ),
                click.option(
                    "--beta2",
                    type=_BETA,
                    default=0.99,
                    show_default=True,
                    help="β2 ∈ [0, 1): decay of the momentum (theory: β1 ≤ β2).",
                ),
                click.option(
                    "--steps",
                    type=Count(1),
                    default=steps_default,
                    show_default=True,
                    help="Number of Lion-K steps (≥ 1).",
                ),
                click.option(
                    "--noise",
                    type=Real(0),
                    default=0.0,
                    show_default=True,
                    help="Std σ ≥ 0 of Gaussian noise added to the gradient.",
                ),
                click.option(
                    "--seed",
                    type=Count(0, 2**63 - 1),
                    default=0,
                    show_default=True,
                    help="Seed (≥ 0) of the gradient noise.",
                ),
                click.option(
                    "--decay",
                    type=click.Choice(["explicit", "implicit"]),
                    default="explicit",
                    show_default=True,
                    help="Weight decay on the old x (explicit, as the "
                    "libraries) or on the new x (implicit, spec §5).",
                ),
                click.option(
                    "--convention",
                    type=click.Choice(["paper", "library"]),
                    default="paper",
                    show_default=True,
                    help="Momentum of −∇f with ∇K added (paper) or of +g "
                    "with ∇K subtracted (libraries).",
                ),
            ]
        ):
            fn = deco(fn)
        return fn

    return wrap


def resolve_K(K_text: str, K_params: tuple[str, ...], K_expr: str | None, K_file: str | None):
    """(name or KFunction, params) from the K options; exactly one way of giving K is allowed."""
    name, params = parse_K_option(K_text, K_params)
    if K_expr is None and K_file is None:
        return name, params
    ctx = click.get_current_context()
    named = ctx.get_parameter_source("K_text") != click.core.ParameterSource.DEFAULT or K_params
    if named or (K_expr is not None and K_file is not None):
        raise LionKError("give K one way only: --K (with --K-param), --K-expr or --K-file")
    from .symbolic import K_from_expression, load_K

    return (K_from_expression(K_expr) if K_expr is not None else load_K(K_file)), {}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lionk")
def cli() -> None:
    """Lion-K toolkit: simulate Lion-K, check its Lyapunov function, list the K catalog."""


@cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
def list_cmd(as_json: bool) -> None:
    """The K catalog: name, K, K* and the problem Lion-K with that K solves."""
    from .core.kfunc import available_K

    infos = [cls().info() for cls in available_K().values()]
    if as_json:
        click.echo(json.dumps(infos, indent=2, ensure_ascii=False))
        return
    rows = [("name", "K(x)", "K*(y)", "Lion-K solves min f(x) …")]
    rows += [
        (
            i["name"] + "".join(f" {k}={v:g}" for k, v in i["params"].items()),
            i["K"],
            i["K_conj"],
            i["induced"],
        )
        for i in infos
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(3)]
    for n, r in enumerate(rows):
        click.echo("  ".join(r[c].ljust(widths[c]) for c in range(3)) + "  " + r[3])
        if n == 0:
            click.echo("  ".join("-" * w for w in widths) + "  " + "-" * len(r[3]))


@cli.command()
@K_options
@click.option(
    "--lam",
    type=Real(_LAM_TINY, hint="λ = 0 has no constraint and no Lyapunov function"),
    default=1.5,
    show_default=True,
    help="Decoupled weight decay λ > 0 (x ← x − lr(∇K + λx)); Lion then solves ‖x‖_∞ ≤ 1/λ.",
)
@run_options(10_000)
@click.option(
    "--x0", "x0_text", default=None, help="Initial point, e.g. -1.5,2.5 (default: the objective's)."
)
@click.option(
    "--objective",
    default="toy",
    show_default=True,
    help="A built-in objective name or an expression in x1, x2, ... "
    "(e.g. '0.5*(x1-2)**2 + 0.5*(x2-0.3)**2').",
)
@click.option(
    "--dim",
    type=Count(1, 10_000),
    default=None,
    help="Dimension (1 to 10000) for objectives of any dimension.",
)
@click.option(
    "--C",
    "C_text",
    default=None,
    metavar="MATRIX",
    help="Matrix K (e.g. --K nuclear): C of f(X) = ½‖X − C‖²_F, a literal '1,2;3,4' (rows "
    "separated by ';') or a .npy/.txt/.csv file (default: random N(0,1) entries from --seed).",
)
@click.option(
    "--shape",
    "shape_text",
    default=None,
    metavar="AxB",
    help="Matrix K: the shape of X when C is random (default 3x4).",
)
@click.option(
    "--mode",
    type=click.Choice(["discrete", "ode", "both"]),
    default="discrete",
    show_default=True,
    help="Discrete iterates, the continuous-time ODE, or both.",
)
@click.option(
    "--method",
    default="auto",
    show_default=True,
    help="ODE integrator: auto, filippov, implicit, or a solve_ivp method (RK45, DOP853, "
    "Radau, ...).",
)
@click.option(
    "--rtol",
    type=Real(1e-13, 1, open_hi=True),
    default=1e-8,
    show_default=True,
    help="ODE relative tolerance, in [1e-13, 1).",
)
@click.option(
    "--atol",
    type=Real(1e-20),
    default=1e-10,
    show_default=True,
    help="ODE absolute tolerance, ≥ 1e-20.",
)
@click.option(
    "--t-final",
    type=T_FINAL,
    default=None,
    help=f"ODE end time, at most {T_FINAL_MAX:g} (default steps·lr).",
)
@click.option("--alpha", type=_POSITIVE, default=None, help="ODE α (default (1 − β2)/lr).")
@click.option("--gamma", type=_POSITIVE, default=None, help="ODE γ (default (1 − β2)/lr).")
@click.option("--eps", type=Real(0), default=None, help="ODE ε (default lr(1 − β1)/(1 − β2)).")
@click.option(
    "--keep-every",
    type=Count(1),
    default=1,
    show_default=True,
    help="Keep the state of every k-th step and of the last (a long run then fits in memory); "
    "the diagnostics still cover every step (discrete mode).",
)
@click.option(
    "--backend",
    type=click.Choice(["numpy", "numba"]),
    default="numpy",
    show_default=True,
    help="The discrete step: numpy, or numba (opt-in, pip install 'lyapunov_lion[jit]'; "
    "K = l1, huber, sq_l2; bit-identical iterates).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print one JSON object instead of text "
    "(strict JSON: a non-finite number is written as null).",
)
@click.option(
    "--save",
    type=OutputFile((".npz",)),
    default=None,
    help="Write the trajectory to FILE.npz (arrays x, m, f, H, ...).",
)
@click.option(
    "--plot",
    type=OutputFile((".png", ".pdf")),
    default=None,
    help="Write the trajectory and phase figure (PNG or PDF).",
)
def simulate(
    K_text,
    K_params,
    K_expr,
    K_file,
    lam,
    lr,
    beta1,
    beta2,
    steps,
    noise,
    seed,
    decay,
    convention,
    x0_text,
    objective,
    dim,
    C_text,
    shape_text,
    mode,
    method,
    rtol,
    atol,
    t_final,
    alpha,
    gamma,
    eps,
    keep_every,
    backend,
    as_json,
    save,
    plot,
) -> None:
    """Run Lion-K, report the problem it solves, its phases and its Lyapunov function."""
    from .simulate import SimulationSpec
    from .simulate import simulate as run

    name, params = resolve_K(K_text, K_params, K_expr, K_file)
    objective, objective_params, x0 = _matrix_inputs(
        name, params, objective, dim, C_text, shape_text, x0_text
    )
    spec = SimulationSpec(
        K=name,
        K_params=params,
        lam=lam,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        steps=steps,
        x0=x0,
        objective=objective,
        objective_params=objective_params,
        noise=noise,
        seed=seed,
        decay=decay,
        convention=convention,
        keep_every=keep_every,
        # the per-step series only for --save/--plot and the ODE comparison; else the summary
        series=bool(save or plot) or mode != "discrete",
        backend=backend,
    )
    if mode != "discrete":
        if keep_every != 1:
            raise LionKError("--keep-every applies to --mode discrete (the ODE keeps its t_eval)")
        if mode == "ode" and backend != "numpy":
            raise LionKError(
                f"--backend {backend} applies to the discrete step (--mode discrete or both); "
                "the ODE is integrated by scipy"
            )
        from .simulate_ode import OdeOptions

        check_t_final(t_final, steps, lr)
        options = OdeOptions(
            method=method, rtol=rtol, atol=atol, t_final=t_final, alpha=alpha, gamma=gamma, eps=eps
        )
        _simulate_ode(spec, options, mode, as_json, save, plot)
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)  # printed from the report instead
        if steps >= _PROGRESS_MIN_STEPS:
            from .simulate import build_problem, check_memory, kept_every

            dim = build_problem(spec)[2].size
            check_memory(steps, dim, keep_every=kept_every(spec))  # refuse before the bar starts
            with click.progressbar(length=steps, label="simulating", file=sys.stderr) as bar:
                done = [0]

                def progress(step: int) -> None:
                    bar.update(step - done[0])
                    done[0] = step

                report = run(spec, progress=progress)
        else:
            report = run(spec)
    if as_json:
        _echo_json(report.summary_dict())
    else:
        click.echo(report.summary_text())
    if save:
        from .io import save_trajectory

        save_trajectory(report, save)
        if not as_json:
            click.echo(f"saved trajectory to {save}")
    if plot:
        from .plotting.report import plot_simulation_report

        plot_simulation_report(report, plot)
        if not as_json:
            click.echo(f"saved figure to {plot}")


@cli.command(context_settings={"ignore_unknown_options": True})
@click.argument("expression", metavar="EXPRESSION|NAME", required=False)
@click.option(
    "--catalog",
    is_flag=True,
    help="Verify every separable catalog K and compare the symbolic K* with the catalog's.",
)
@click.option(
    "--timeout",
    type=Real(0, 3600, open_lo=True),
    default=20.0,
    show_default=True,
    help=(
        "CPU-time budget (s, at most 3600) for the symbolic derivation (CPU, not wall time: "
        "verdicts do not depend on machine load); a numerical fallback follows."
    ),
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--markdown", is_flag=True, help="Print the report as Markdown with LaTeX.")
@click.option(
    "--latex",
    is_flag=True,
    help="Print K, K*, dom K*, the induced term and H, c, Δ (spec §4) in LaTeX.",
)
@click.option(
    "--save-K",
    "save_K",
    default=None,
    type=OutputFile((".json",)),
    help="Write the verified K to FILE (JSON) for `lionk simulate --K-file FILE`.",
)
def verify(expression, catalog, timeout, as_json, markdown, latex, save_K) -> None:
    """Derive K*, ∇K and the induced problem of a K given as an expression: k in x for a
    separable K = Σk(x_i) (e.g. 'log(cosh(x))'), or K in x1, x2 for a norm (e.g.
    'Max(Abs(x1), Abs(x2))'), or a catalog name (e.g. huber:delta=0.5, power_p:p=4, linf);
    check convexity and the Lyapunov conditions: (iv) dH/dt = −Δ proved by sympy, (v) the
    discrete inequality of spec §5 checked on runs. Exit 1 if a check FAILED."""
    # the modules themselves, not the package face: code readers (and farm-studio walk) then
    # follow the input from here into the pipeline's front door
    from .symbolic.catalog_check import verify_catalog
    from .symbolic.front import verify_any

    if catalog == (expression is not None):
        raise LionKError(
            "give either an expression in x (e.g. 'Abs(x) + x**2/2'), a catalog K "
            "name (e.g. huber:delta=0.5) or --catalog"
        )
    if catalog and (latex or markdown or save_K):
        raise LionKError("--latex, --markdown and --save-K need an expression, not --catalog")
    if sum(map(bool, (as_json, markdown, latex))) > 1:
        raise LionKError("choose one output format: --json, --markdown or --latex")
    with _verify_progress():
        report = (
            verify_catalog(timeout=timeout) if catalog else verify_any(expression, timeout=timeout)
        )
    if as_json:
        _echo_json(report.to_dict())
    # --markdown, --latex and --save-K were refused with --catalog above: a VerifyReport here
    elif markdown:
        click.echo(report.to_markdown())  # type: ignore[union-attr]
    elif latex:
        click.echo(report.to_latex(), nl=False)  # type: ignore[union-attr]
    else:
        click.echo(report.to_text())
    if save_K:
        from .symbolic import save_K as write_K

        write_K(report, save_K)  # type: ignore[arg-type]
        if not as_json:
            click.echo(f"saved K to {save_K}", err=latex)
    if not report.ok:
        raise click.exceptions.Exit(1)


@cli.command()
@K_options
@click.option(
    "--objective",
    default="toy",
    show_default=True,
    help="A built-in objective name or an expression in x1, x2, ...",
)
@click.option(
    "--lam-min",
    type=_POSITIVE,
    default=0.1,
    show_default=True,
    help="Smallest weight decay λ of the grid (> 0).",
)
@click.option(
    "--lam-max",
    type=_POSITIVE,
    default=3.0,
    show_default=True,
    help="Largest weight decay λ of the grid (> --lam-min).",
)
@click.option(
    "--n-lam",
    type=Count(2, 10_000),
    default=100,
    show_default=True,
    help="Number of λ values (2 to 10000).",
)
@run_options(20_000)
@click.option(
    "--window",
    type=Count(1),
    default=1_000,
    show_default=True,
    help="Steps after --steps over which f is averaged (the converged loss).",
)
@click.option("--x0", "x0_text", default=None, help="Initial point (default: the objective's).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of text.")
@click.option(
    "--plot",
    type=OutputFile((".png", ".pdf")),
    default=None,
    help="Write the sweep figure (PNG or PDF).",
)
def sweep(
    K_text,
    K_params,
    K_expr,
    K_file,
    objective,
    lam_min,
    lam_max,
    n_lam,
    lr,
    beta1,
    beta2,
    steps,
    noise,
    seed,
    decay,
    convention,
    window,
    x0_text,
    as_json,
    plot,
) -> None:
    """Converged loss of Lion-K against λ (one batched run) next to the exact loss of the
    problem it solves (reference solver per λ) — Fig. 1(d) of the paper for any K and f."""
    import numpy as np

    from .core.kfunc import make_K
    from .sweep import lambda_sweep

    if not lam_min < lam_max:
        raise LionKError("need --lam-min < --lam-max")
    name, params = resolve_K(K_text, K_params, K_expr, K_file)
    K = make_K(name, **params) if isinstance(name, str) else name
    result = lambda_sweep(
        K,
        objective,
        np.linspace(lam_min, lam_max, n_lam),
        x0=parse_vector(x0_text, "x0"),
        steps=steps,
        window=window,
        lr=lr,
        beta1=beta1,
        beta2=beta2,
        decay=decay,
        convention=convention,
        noise=noise,
        seed=seed,
        progress=lambda line: click.echo(line, err=True),
    )
    _echo_json(result.summary_dict()) if as_json else click.echo(result.summary_text())
    if plot:
        from .plotting.sweep import plot_sweep_report

        plot_sweep_report(result, plot)
        if not as_json:
            click.echo(f"saved figure to {plot}")


@cli.command()
@click.argument("names", nargs=-1)
@click.option(
    "--figures",
    "out_figures",
    default=None,
    type=click.Path(file_okay=False),
    help="Where the PNG/PDF figures go [default: figures; --size reduced: a new temporary folder].",
)
@click.option(
    "--reports",
    "out_reports",
    default=None,
    type=click.Path(file_okay=False),
    help="Where the reports and results.json go [default: paper_reproductions; --size "
    "reduced: a new temporary folder].",
)
@click.option(
    "--size",
    type=click.Choice(["full", "reduced"]),
    default="full",
    show_default=True,
    help="'reduced' runs shorter versions (quick checks; the reports say so).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Reproductions built at once in worker processes [default: 1, in this process]. "
    "The outputs are the same bytes whatever the number.",
)
def reproduce(names, out_figures, out_reports, size, jobs) -> None:
    """Regenerate the paper's figures and reports: NAMES among fig1, fig5, phases, convergence,
    connections, stochastic, confinement, lam_sweep, lp_sweep, or all (the default)."""
    from .reproduce import run
    from .reproduce.runner import default_outputs

    if out_figures is None or out_reports is None:
        figures, reports = default_outputs(size)
        out_figures, out_reports = out_figures or figures, out_reports or reports
    run(
        "all" if not names or names == ("all",) else list(names),
        out_figures,
        out_reports,
        progress=lambda line: click.echo(line, err=True),
        size=size,
        jobs=jobs,
    )


def _matrix_inputs(name, params, objective, dim, C_text, shape_text, x0_text):
    """(objective, objective_params, x0) of `simulate`: for a matrix K (e.g. nuclear) the objective
    defaults to frobenius with C from --C or random of --shape; x0 may be a matrix '1,2;3,4'."""
    from .core.kfunc import KFunction, make_K

    K = name if isinstance(name, KFunction) else make_K(name, **params)
    if K.event_ndim != 2:
        if C_text is not None or shape_text is not None:
            raise LionKError(
                f"--C and --shape describe the matrix objective of a matrix K (e.g. --K nuclear); "
                f"K={K.name} acts on vectors"
            )
        return objective, ({} if dim is None else {"dim": dim}), parse_vector(x0_text, "x0")
    from .matrix_problem import parse_matrix, parse_shape

    if click.get_current_context().get_parameter_source("objective") == (
        click.core.ParameterSource.DEFAULT
    ):
        objective = "frobenius"
    if dim is not None:
        raise LionKError(f"K={K.name} acts on matrices: give --shape AxB or --C, not --dim")
    objective_params = {}
    if C_text is not None:
        objective_params["C"] = parse_matrix(C_text, "--C")
    if shape_text is not None:
        objective_params["shape"] = parse_shape(shape_text)
    x0 = None if x0_text is None else parse_matrix(x0_text, "--x0")
    return objective, objective_params, x0


def _simulate_ode(spec, options, mode, as_json, save, plot) -> None:
    """``--mode ode|both``: the ODE report (and the discrete one beside it for ``both``)."""
    from .simulate import simulate as run_discrete_use_case
    from .simulate_ode import compare, simulate_ode

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TheoryWarning)
        with _DelayedBar("integrating the ODE") as bar:
            ode = simulate_ode(spec, options, progress=bar)
        if mode == "both":
            with _DelayedBar("simulating") as bar:
                discrete = run_discrete_use_case(spec, progress=lambda k: bar(k / spec.steps))
        else:
            discrete = None
    if discrete is not None:
        ode.comparison = compare(discrete, ode)
    if as_json:
        out = ode.summary_dict()
        if discrete is not None:
            out = {
                **discrete.summary_dict(),
                "mode": "both",
                "ode": out,
                "discrete_vs_ode": ode.comparison,
            }
        _echo_json(out)
    else:
        if discrete is not None:
            click.echo(discrete.summary_text() + "\n")
        click.echo(ode.summary_text())
    if save:
        from .io import save_ode_trajectory

        save_ode_trajectory(ode, save, discrete)
    if plot:
        from .plotting.report import plot_ode_report

        plot_ode_report(ode, plot, discrete)
    if not ode.result.success:
        raise NumericalFailure(f"the ODE solve failed its checks: {ode.result.message}")


from .cli_grid import grid as _grid  # noqa: E402  (the `lionk grid` group lives in its own module)

cli.add_command(_grid)


class _DelayedBar:
    """On a terminal, a progress bar on stderr fed with the fraction of the work done, shown
    only once the work has run for ``delay`` seconds (quick runs print nothing); nothing when
    stderr is redirected, so captured output stays clean."""

    def __init__(self, label: str, delay: float = 1.0, length: int = 1000):
        import time

        self.label, self.delay, self.length = label, delay, length
        self.clock, self.start = time.monotonic, time.monotonic()
        self.on, self.done = sys.stderr.isatty(), 0
        self.bar: Any = None  # a click progress bar once shown

    def __call__(self, fraction: float) -> None:
        if not self.on:
            return
        if self.bar is None:
            if self.clock() - self.start < self.delay:
                return
            self.bar = click.progressbar(length=self.length, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        n = min(self.length, int(fraction * self.length))
        if n > self.done:
            self.bar.update(n - self.done)
            self.done = n

    def __enter__(self) -> _DelayedBar:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)


class _verify_progress:
    """On a terminal, one status line on stderr naming the symbolic step under way (cleared at
    the end); nothing when stderr is redirected, so captured output stays clean."""

    def __enter__(self):
        import time

        from .symbolic.limits import set_progress

        self.on = sys.stderr.isatty()
        if self.on:
            t0 = time.monotonic()
            set_progress(
                lambda step: click.echo(
                    f"\rverify: {time.monotonic() - t0:5.1f} s  {step[:60]:60s}", err=True, nl=False
                )
            )
        return self

    def __exit__(self, *exc):
        from .symbolic.limits import set_progress

        set_progress(None)
        if self.on:
            click.echo("\r" + " " * 80 + "\r", err=True, nl=False)
        return False


def _echo_json(data) -> None:
    """Print strict JSON: non-finite floats become null (documented under --json)."""
    from .core.serialize import to_jsonable

    click.echo(
        json.dumps(to_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False, default=str)
    )


def _fail(as_json: bool, kind: str, message: str, code: int) -> int:
    """One line ``lionk: <kind>: <message>`` on stderr; with ``--json`` also, on stdout, the
    strict JSON object ``{"error": {"kind": ..., "message": ...}, "exit_code": code}`` (kind:
    "error" for a user error, "numerical failure", "aborted" or "internal error")."""
    click.echo(f"lionk: {kind}: {message}" if message else f"lionk: {kind}", err=True)
    if as_json:
        click.echo(
            json.dumps(
                {"error": {"kind": kind, "message": message}, "exit_code": code},
                ensure_ascii=False,
            )
        )
    return code


def _option_arity(command: click.Command) -> dict[str, bool]:
    """Every option name of ``command`` (help included) → whether it takes a value."""
    out = {name: False for name in ("-h", "--help")}
    for p in command.params:
        if isinstance(p, click.Option):
            for name in p.opts + p.secondary_opts:
                out[name] = not p.is_flag
    return out


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lionk`` console script.

    numpy's RuntimeWarnings (overflow, invalid value) are silenced here: every reported number is
    checked for finiteness by the use cases, which fail with one line naming the quantity.
    An unexpected exception (a bug) prints one line ``lionk: internal error: ...`` and exits 3;
    ``LIONK_DEBUG=1`` shows its traceback instead. With ``--json`` every error is also printed
    as a JSON object on stdout (`_fail`), so stdout is always strict JSON.
    """
    import os

    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["verify"]:  # '-cosh(-1)' is the expression, not options -c -o -s -h
        argv = argv[:1] + expression_not_option(argv[1:], _option_arity(verify))
    as_json = "--json" in argv[: argv.index("--") if "--" in argv else len(argv)]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            code = cli.main(args=argv, prog_name="lionk", standalone_mode=False)
        if isinstance(code, int):  # click returns the code of an Exit raised by a command
            return code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort:
        return _fail(as_json, "aborted", "", 1)
    except click.UsageError as exc:
        hint = f" (see 'lionk {exc.ctx.info_name} --help')" if exc.ctx is not None else ""
        return _fail(as_json, "error", f"{exc.format_message()}{hint}", 2)
    except LionKError as exc:
        return _fail(as_json, "error", str(exc), 2)
    except (NumericalFailure, OverflowError, FloatingPointError) as exc:
        return _fail(as_json, "numerical failure", str(exc), 1)
    except MemoryError:
        return _fail(
            as_json,
            "error",
            "out of memory; use fewer steps, a smaller --dim or a smaller grid",
            1,
        )
    except Exception as exc:  # a bug: one line (the traceback with LIONK_DEBUG=1)
        if os.environ.get("LIONK_DEBUG"):
            raise
        first = str(exc).splitlines()[0] if str(exc) else ""
        return _fail(
            as_json,
            "internal error",
            f"{type(exc).__name__}: {first} (a bug; rerun with LIONK_DEBUG=1 and report the "
            "traceback)",
            3,
        )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
