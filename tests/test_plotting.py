"""Tests of lyapunov_lion.plotting: the drawn geometry, labels, legends, masking and saving.

Geometry tolerances: the catalog shapes are computed in closed form from 1/λ (a few flops), so
vertices are compared at 1e-12; the grid fallback is documented as accurate to one grid cell.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon

from lyapunov_lion import KFunction, LionKConfig, make_K, run_discrete
from lyapunov_lion.errors import LionKError
from lyapunov_lion.plotting import (
    OKABE_ITO,
    PALETTE,
    constraint_geometry,
    draw_constraint,
    figure_simulation,
    paper_style,
    plot_phase,
    plot_trajectory_2d,
    save_figure,
)
from lyapunov_lion.plotting import constraint as constraint_mod

LAM = 1.5
R = 1.0 / LAM
TOL = 1e-12  # closed-form vertices: rounding of r = 1/λ and of cos/sin only


def new_ax():
    fig = Figure()
    return fig, fig.subplots()


def constraint_artists(ax):
    return [a for a in ax.get_children() if a.get_gid() == "constraint"]


def drawn_vertices(ax) -> np.ndarray:
    (art,) = constraint_artists(ax)
    if isinstance(art, Polygon):
        return np.asarray(art.get_xy())
    return np.asarray(art.get_xydata())


def corners(v: np.ndarray) -> set:
    return {tuple(np.round(p, 12)) for p in v}


def legend_texts(ax) -> list[str]:
    leg = ax.get_legend()
    assert leg is not None, "no legend"
    return [t.get_text() for t in leg.get_texts()]


def toy_f(x):
    """f(x) = (x1 − 1.5)² + x2² (spec §8), batched over leading axes."""
    x = np.asarray(x, dtype=float)
    return (x[..., 0] - 1.5) ** 2 + x[..., 1] ** 2


# ------------------------------------------------------------------------------------------------
# draw_constraint: one exact shape per catalog K
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, params, half",
    [
        ("l1", {}, R),
        ("relativistic", {}, R),
        ("logcosh", {}, R),
        ("deadzone", {"e": 0.1}, R),
        ("huber", {"delta": 0.5}, 0.5 / LAM),
    ],
)
def test_box_constraints_have_corners_at_plus_minus_radius(name, params, half):
    fig, ax = new_ax()
    K = make_K(name, **params)
    label = draw_constraint(ax, K, LAM)
    v = drawn_vertices(ax)
    expected = {(s1 * half, s2 * half) for s1 in (-1, 1) for s2 in (-1, 1)}
    assert len(corners(v)) == 4
    for c in corners(v):
        assert min(np.hypot(c[0] - e[0], c[1] - e[1]) for e in expected) < TOL
    assert label.replace("\n", " ") == K.describe_induced(LAM)


def test_lion_label_is_the_induced_constraint():
    fig, ax = new_ax()
    label = draw_constraint(ax, make_K("l1"), LAM)
    assert label.startswith("‖x‖_∞ ≤") and label.endswith("2/3")  # 1/λ as an exact fraction


def test_linf_draws_the_l1_diamond():
    fig, ax = new_ax()
    label = draw_constraint(ax, make_K("linf"), LAM)
    v = drawn_vertices(ax)
    assert corners(v) == corners(np.array([[R, 0], [0, R], [-R, 0], [0, -R]]))
    assert np.allclose(np.abs(v).sum(axis=1), R, atol=TOL, rtol=0)
    assert label.startswith("‖x‖₁ ≤") and label.endswith("2/3")


def test_l2_draws_the_disc_through_one_over_lambda():
    fig, ax = new_ax()
    draw_constraint(ax, make_K("l2"), LAM)
    v = drawn_vertices(ax)
    assert np.allclose(np.linalg.norm(v, axis=1), R, atol=TOL, rtol=0)
    assert np.min(np.linalg.norm(v - [R, 0.0], axis=1)) < TOL  # passes through (1/λ, 0)
    # the rays cover the whole circle: consecutive vertices are 0.5° apart
    ang = np.sort(np.arctan2(v[:, 1], v[:, 0]))
    assert np.max(np.diff(ang)) < np.deg2rad(0.5) + 1e-9


@pytest.mark.parametrize("p", [1.25, 3.0])
def test_lp_draws_the_dual_lq_sphere(p):
    q = p / (p - 1)
    fig, ax = new_ax()
    label = draw_constraint(ax, make_K("lp", p=p), LAM)
    v = drawn_vertices(ax)
    lq = np.sum(np.abs(v) ** q, axis=1) ** (1 / q)
    assert np.allclose(lq, R, atol=TOL, rtol=0)
    # the 45° ray hits (r, r)/2^{1/q}: checks q (not p) is the exponent used
    diag = v[np.argmin(np.abs(np.arctan2(v[:, 1], v[:, 0]) - np.pi / 4))]
    assert np.allclose(diag, R / 2 ** (1 / q), atol=TOL)
    assert f"‖x‖_{q:g}" in label


def test_logsumexp_draws_the_simplex_segment_and_its_projection_in_higher_dimension():
    fig, ax = new_ax()
    draw_constraint(ax, make_K("logsumexp"), LAM)
    (line,) = constraint_artists(ax)
    assert isinstance(line, Line2D)
    assert corners(line.get_xydata()) == corners(np.array([[R, 0], [0, R]]))
    tri = constraint_geometry(make_K("logsumexp"), LAM, dim=5)
    assert tri.kind == "polygon"
    assert corners(tri.vertices) == corners(np.array([[0, 0], [R, 0], [0, R]]))


@pytest.mark.parametrize("name", ["sq_l2", "power_p", "l1_plus_sq"])
def test_regularisers_draw_nothing_and_say_so(name):
    fig, ax = new_ax()
    label = draw_constraint(ax, make_K(name), LAM)
    assert label.startswith("no hard constraint (regulariser")
    (proxy,) = constraint_artists(ax)  # only an invisible legend entry
    assert isinstance(proxy, Line2D) and len(proxy.get_xdata()) == 0
    assert not ax.patches
    # the legend entry is the label wrapped to 40 characters a line (power_p's is 72 long and
    # squeezed the trajectory panel of `lionk simulate --plot` to a third of its width)
    assert proxy.get_label().replace("\n", " ") == label
    assert max(len(line) for line in proxy.get_label().split("\n")) <= 40


def test_zero_weight_decay_and_matrix_K_draw_nothing():
    assert constraint_geometry(make_K("l1"), 0.0).kind == "none"
    assert "λ = 0" in constraint_geometry(make_K("l1"), 0.0).label
    nuc = constraint_geometry(make_K("nuclear"), LAM)
    assert nuc.kind == "none" and "not drawn" in nuc.label
    with pytest.raises(LionKError):
        constraint_geometry(make_K("l1"), -1.0)


class DiscUserK(KFunction):
    """A user K that is the ℓ2 norm but not a NormBallK: exercises the grid fallback."""

    name = "user_disc"

    def K(self, x):
        return np.linalg.norm(x, axis=-1)

    def grad(self, x):
        n = np.linalg.norm(x, axis=-1, keepdims=True)
        return x / np.where(n > 0, n, 1.0)

    def conj(self, y):
        return np.where(np.linalg.norm(y, axis=-1) <= 1, 0.0, np.inf)

    def conj_grad(self, y):
        return np.zeros_like(y)

    def dist_dom_conj(self, y):
        return np.maximum(np.linalg.norm(y, axis=-1) - 1.0, 0.0)


def test_unknown_K_falls_back_to_an_approximate_contour_within_one_grid_cell():
    fig, ax = new_ax()
    extent = (-2.0, 2.0, -2.0, 2.0)
    label = draw_constraint(ax, DiscUserK(), LAM, extent=extent)
    assert label.endswith("(approx.)")
    (cs,) = constraint_artists(ax)
    segs = np.concatenate(cs.allsegs[0])
    h = 4.0 / (constraint_mod.FALLBACK_GRID - 1)
    # the level-λh/4 crossing lies between 0 and h/4 outside a straight boundary (see
    # _grid_fallback); measured on this circle: [0.005h, 0.25h]. Allow h/2 for the curvature,
    # and never more than h/8 inside.
    err = np.linalg.norm(segs, axis=1) - R
    assert np.max(err) <= h / 2 and np.min(err) >= -h / 8
    assert len(segs) > 100
    assert label in legend_texts_after_legend(ax)


def legend_texts_after_legend(ax):
    ax.legend()
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_user_K_with_finite_conjugate_everywhere_is_reported_as_unconstrained():
    class Smooth(DiscUserK):
        name = "user_smooth"

        def dist_dom_conj(self, y):
            return np.zeros(np.shape(y)[:-1])

    shape = constraint_geometry(Smooth(), LAM)
    assert shape.kind == "none" and shape.label.startswith("no hard constraint")


# ------------------------------------------------------------------------------------------------
# plot_trajectory_2d
# ------------------------------------------------------------------------------------------------
def lion_path(x0, steps=400, lam=LAM):
    """Lion (K = l1) on the toy problem (spec §8)."""
    K = make_K("l1")
    res = run_discrete(
        K,
        lambda x: 2 * (x - np.array([1.5, 0.0])),
        np.asarray(x0, dtype=float),
        config=LionKConfig(lr=0.01, lam=lam),
        steps=steps,
    )
    assert res.success
    return np.asarray(res.x)


def test_trajectory_has_markers_legend_labels_and_limits_containing_everything():
    fig, ax = new_ax()
    p1, p2 = lion_path([-1.5, 1.8]), lion_path([0.3, -1.4])
    plot_trajectory_2d(
        ax, {"A": p1, "B": p2}, f=toy_f, K=make_K("l1"), lam=LAM, optimum=[R, 0.0], title="toy"
    )
    assert ax.get_xlabel() == "x₁" and ax.get_ylabel() == "x₂" and ax.get_title() == "toy"
    texts = legend_texts(ax)
    for t in (
        "A",
        "B",
        "start",
        "end",
        "optimum",
        make_K("l1").describe_induced(LAM),
        "level sets of f",
    ):
        assert t in texts
    # start (circle) and end (square) markers sit on the first and last points of each path
    for p in (p1, p2):
        starts = [
            ln for ln in ax.lines if ln.get_marker() == "o" and np.allclose(ln.get_xydata(), p[:1])
        ]
        ends = [
            ln for ln in ax.lines if ln.get_marker() == "s" and np.allclose(ln.get_xydata(), p[-1:])
        ]
        assert len(starts) == 1 and len(ends) == 1
    # the Lion runs end in the box ‖x‖_∞ ≤ 1/λ (up to one step η = 0.01 of chattering)
    assert np.max(np.abs(p1[-1])) <= R + 0.01
    xmin, xmax = ax.get_xlim()
    ymin, ymax = ax.get_ylim()
    assert np.isclose(xmax - xmin, ymax - ymin)  # square limits, equal aspect
    assert ax.get_aspect() == 1.0
    pts = np.concatenate([p1, p2, drawn_vertices(ax), [[R, 0.0]]])
    assert np.all((pts[:, 0] > xmin) & (pts[:, 0] < xmax) & (pts[:, 1] > ymin) & (pts[:, 1] < ymax))
    assert len(ax.collections) >= 2  # filled and line contours of f


def test_trajectory_limits_include_a_constraint_larger_than_the_paths():
    fig, ax = new_ax()
    plot_trajectory_2d(ax, {"tiny": np.array([[0.0, 0.0], [0.01, 0.02]])}, K=make_K("l2"), lam=0.1)
    assert ax.get_xlim()[0] < -10 and ax.get_xlim()[1] > 10  # the disc of radius 1/λ = 10


def test_trajectory_handles_non_finite_points_and_higher_dimension():
    fig, ax = new_ax()
    p = np.array([[0.0, 0.0, 1.0], [0.1, 0.2, 1.0], [np.nan, np.inf, 1.0]])
    f3 = lambda x: np.sum(x**2, axis=-1)  # noqa: E731  (batched (..., 3) -> (...))
    plot_trajectory_2d(ax, {"run": p}, f=f3, K=make_K("l1"), lam=1.0)
    assert "d = 3" in ax.get_xlabel()
    assert any("non-finite from point 2" in t for t in legend_texts(ax))
    ends = [ln for ln in ax.lines if ln.get_marker() == "s"]
    assert np.allclose(ends[0].get_xydata(), [[0.1, 0.2]])  # last finite point
    # the projection of the box ‖x‖_∞ ≤ 1 of R³ onto (x₁, x₂) is the square of half-width 1
    assert corners(drawn_vertices(ax)) == corners(np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]]))


def test_long_paths_are_thinned_keeping_both_ends():
    fig, ax = new_ax()
    p = np.stack([np.linspace(0, 1, 50_001), np.linspace(0, 1, 50_001) ** 2], axis=1)
    plot_trajectory_2d(ax, {"long": p}, max_points=1000)
    (line,) = [ln for ln in ax.lines if ln.get_label() == "long"]
    xy = line.get_xydata()
    assert len(xy) <= 1000 and np.allclose(xy[0], p[0]) and np.allclose(xy[-1], p[-1])


def test_trajectory_rejects_bad_inputs():
    fig, ax = new_ax()
    with pytest.raises(LionKError):
        plot_trajectory_2d(ax, {"bad": np.zeros(5)})
    with pytest.raises(LionKError):
        plot_trajectory_2d(ax, {"a": np.zeros((3, 2)), "b": np.zeros((3, 3))})
    with pytest.raises(LionKError):
        plot_trajectory_2d(ax, {"a": np.zeros((3, 2))}, K=make_K("l1"))  # lam missing
    with pytest.raises(LionKError):  # f not batched: returns a scalar
        plot_trajectory_2d(ax, {"a": np.zeros((3, 2))}, f=lambda x: 0.0)


# ------------------------------------------------------------------------------------------------
# plot_phase
# ------------------------------------------------------------------------------------------------
def phase_data():
    t = np.arange(50.0)
    dist = np.where(t < 20, 2.0 * 0.8**t, 0.0)
    bound = 2.0 * 0.9**t
    f = 1.0 + np.exp(-t / 10)
    H = np.where(t < 20, np.inf, f + 0.1)
    return t, dist, bound, f, H


def test_phase_masks_infinities_floors_zeros_and_marks_the_exit():
    t, dist, bound, f, H = phase_data()
    fig = Figure()
    ax_d, ax_e = fig.subplots(1, 2)
    plot_phase(ax_d, ax_e, t, dist, bound, f, H, F=f + 0.05, phase1_exit=20.0)
    assert ax_d.get_yscale() == "log" and ax_e.get_yscale() == "linear"
    assert ax_d.get_xlabel() == "step t" and ax_d.get_ylabel() and ax_e.get_ylabel()
    dtexts, etexts = legend_texts(ax_d), legend_texts(ax_e)
    floor_label = [s for s in dtexts if s.startswith("dist = 0")]
    assert len(floor_label) == 1
    # floor = 0.1 × smallest positive distance or bound (documented)
    floor = 0.1 * min(dist[dist > 0].min(), bound.min())
    (floor_line,) = [ln for ln in ax_d.lines if ln.get_label() == floor_label[0]]
    y = np.asarray(floor_line.get_ydata(), dtype=float)
    assert np.allclose(y[20:], floor) and np.all(np.isnan(y[:20]))
    (bound_line,) = [ln for ln in ax_d.lines if ln.get_label() == "Phase-1 bound"]
    assert bound_line.get_linestyle() == "--"
    (h_line,) = [ln for ln in ax_e.lines if ln.get_label().startswith("H")]
    assert "+∞ at 20" in h_line.get_label()
    assert np.all(np.isnan(np.asarray(h_line.get_ydata(), float)[:20]))
    assert {"f", "F"} <= set(etexts)
    exits = [ln for ln in ax_e.lines if ln.get_label().startswith("phase-1 exit")]
    assert len(exits) == 1 and np.allclose(exits[0].get_xdata(), 20.0)


def test_phase_accepts_several_runs_and_rejects_bad_input():
    t, dist, bound, f, H = phase_data()
    fig = Figure()
    ax_d, ax_e = fig.subplots(1, 2)
    plot_phase(
        ax_d,
        ax_e,
        t,
        {"a": dist, "b": dist / 2},
        {"a": bound, "b": bound / 2},
        {"a": f, "b": f},
        {"a": H, "b": H},
        phase1_exit={"a": 20, "b": 18},
    )
    # colour = run (keyed once, in the distance legend), style = quantity (grey proxies)
    assert set(legend_texts(ax_d)) >= {"a", "b", "Phase-1 bound", "phase-1 exit"}
    assert legend_texts(ax_e) == ["f", "H (+∞ at 40 pts, not drawn)", "phase-1 exit"]
    runs = {
        ln.get_label(): ln.get_color() for ln in ax_e.lines if ln.get_label() in ("f [a]", "f [b]")
    }
    assert runs["f [a]"] == PALETTE[0] and runs["f [b]"] == PALETTE[1]
    with pytest.raises(LionKError):
        plot_phase(ax_d, ax_e, t, -dist, bound, f, H)
    with pytest.raises(LionKError):
        plot_phase(ax_d, ax_e, t, dist[:-1], bound, f, H)


def test_phase_with_all_values_non_finite_does_not_crash():
    t = np.arange(5.0)
    fig = Figure()
    ax_d, ax_e = fig.subplots(1, 2)
    nan = np.full(5, np.nan)
    plot_phase(ax_d, ax_e, t, np.zeros(5), None, nan, np.full(5, np.inf))
    fig.savefig(io.BytesIO(), format="png")  # rendering must not fail either
    assert "dist = 0" in " ".join(legend_texts(ax_d))


def test_energy_panel_goes_log_only_for_positive_values_spanning_decades():
    t = np.arange(10.0)
    fig = Figure()
    ax_d, ax_e = fig.subplots(1, 2)
    plot_phase(ax_d, ax_e, t, np.ones(10), None, 10.0**-t, 10.0**-t + 1e-12)
    assert ax_e.get_yscale() == "log"


# ------------------------------------------------------------------------------------------------
# figure_simulation, saving, style, import isolation
# ------------------------------------------------------------------------------------------------
def toy_simulation_figure(dim=2):
    p = lion_path([-1.5, 1.8], steps=300)
    if dim > 2:
        p = np.concatenate([p, np.zeros((len(p), dim - 2))], axis=1)
    K = make_K("l1")
    t = np.arange(len(p), dtype=float)
    dist = K.dist_dom_conj(LAM * p)
    bound = (1 - 0.01 * LAM) ** t * dist[0]
    fv = toy_f(p)
    H = np.where(dist > 0, np.inf, fv)
    exit_t = float(t[np.argmax(dist == 0)])
    return figure_simulation(
        {"Lion": p},
        t,
        dist,
        bound,
        fv,
        H,
        f=toy_f if dim == 2 else None,
        K=K,
        lam=LAM,
        optimum=[R, 0.0],
        phase1_exit=exit_t,
        title="toy",
    )


def test_figure_simulation_has_three_labelled_panels_and_a_caption():
    fig = toy_simulation_figure()
    axes = fig.get_axes()
    assert len(axes) == 3
    for ax in axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_legend() is not None
    cap = fig.get_suptitle()
    assert cap.startswith("toy") and "λ = 1.5" in cap and make_K("l1").describe_induced(LAM) in cap
    assert "d = 4" in toy_simulation_figure(dim=4).get_axes()[0].get_xlabel()


def png_dpi(data: bytes) -> float:
    i = data.index(b"pHYs")
    ppm_x, _, unit = struct.unpack(">IIB", data[i + 4 : i + 13])
    assert unit == 1  # pixels per metre
    return ppm_x * 0.0254


def test_save_figure_writes_png_at_200_dpi_and_pdf(tmp_path):
    fig = toy_simulation_figure()
    png = save_figure(fig, tmp_path / "a" / "b" / "fig.png")  # parents are created
    pdf = save_figure(fig, tmp_path / "fig.PDF")
    png_bytes, pdf_bytes = png.read_bytes(), pdf.read_bytes()
    assert png_bytes.startswith(b"\x89PNG") and len(png_bytes) > 10_000
    assert abs(png_dpi(png_bytes) - 200) < 0.5  # pHYs stores an integer pixels-per-metre
    assert pdf_bytes.startswith(b"%PDF") and len(pdf_bytes) > 5_000
    with pytest.raises(LionKError):
        save_figure(fig, tmp_path / "fig.jpg")


def test_paper_style_is_scoped_and_palette_is_okabe_ito():
    import matplotlib as mpl

    before = mpl.rcParams["font.size"]
    with paper_style():
        assert mpl.rcParams["font.size"] == 8
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"] == list(PALETTE)
    assert mpl.rcParams["font.size"] == before
    assert set(PALETTE) == set(OKABE_ITO.values()) and len(set(PALETTE)) == 8


def test_core_does_not_import_matplotlib_and_plotting_does_not_import_pyplot():
    code = (
        "import sys, lyapunov_lion, lyapunov_lion.core, lyapunov_lion.core.catalog, "
        "lyapunov_lion.core.discrete\n"
        "assert 'matplotlib' not in sys.modules, 'core imported matplotlib'\n"
        "import lyapunov_lion.plotting\n"
        "assert 'matplotlib' in sys.modules\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'plotting imported pyplot'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
