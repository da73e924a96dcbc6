"""Activation explorer: the plotted sigma(z), sigma'(z), the marked regions and the parameter slider."""

import asyncio

import numpy as np
import pytest

from course import activations, widgets
from course.widgets.activation import PARAMETERS, SATURATION, ActivationState, _options, activation_curves
from tests.helpers import idle_turns, same_picture


@pytest.fixture
def app():
    app = widgets.activation_explorer()
    app.raise_errors = True
    return app


def test_menu_offers_every_activation_of_the_library():
    offered = {name for _, name in _options()}
    assert offered == {activations.get(n).name for n in activations.names()}


@pytest.mark.parametrize("name", sorted({activations.get(n).name for n in activations.names()} - {"softmax"}))
def test_plotted_curves_are_the_library_function_and_derivative(app, name):
    app.controls["activation"].value = name
    z, a = app.line_f.get_data()
    _, da = app.line_d.get_data()
    act = activations.get(name, **({app.state.param[0]: app.state.param[1]} if app.state.param else {}))
    np.testing.assert_allclose(a, act.f(z))
    np.testing.assert_allclose(da, act.df(z))
    assert app.formula_text.get_text().startswith("σ(z) = ")


def test_relu_marks_the_dead_region_left_of_zero(app):
    app.controls["activation"].value = "relu"
    sat, dead = app.shading[1]
    assert len(dead.intervals) == 1
    lo, hi = dead.intervals[0]
    assert lo == pytest.approx(-5.0) and hi == pytest.approx(0.0, abs=0.03)
    assert sat.intervals == []
    rect = dead.bands[0]
    assert rect.get_visible() and rect.get_x() == pytest.approx(lo) and rect.get_width() == pytest.approx(hi - lo)


def test_sigmoid_marks_two_saturated_tails(app):
    app.controls["activation"].value = "sigmoid"
    sat, dead = app.shading[0]
    assert dead.intervals == []
    assert len(sat.intervals) == 2
    (l0, h0), (l1, h1) = sat.intervals
    # sigma'(z) = s (1 - s) < 0.05 for |z| > 2.9444 (where s(1-s) = 0.05)
    z_edge = np.log((1 + np.sqrt(1 - 4 * SATURATION)) / (1 - np.sqrt(1 - 4 * SATURATION)))
    assert h0 == pytest.approx(-z_edge, abs=0.03) and l1 == pytest.approx(z_edge, abs=0.03)


def test_leaky_slope_slider_changes_the_function_and_unmarks_saturation(app):
    app.controls["activation"].value = "leaky_relu"
    slider = app.controls["param"]
    assert not slider.disabled and slider.value == 0.01
    assert len(app.shading[1][0].intervals) == 1  # slope 0.01 < 0.05: saturated, but not dead
    assert app.shading[1][1].intervals == []
    slider.value = 0.2
    z, a = app.line_f.get_data()
    np.testing.assert_allclose(a[z < 0], 0.2 * z[z < 0])
    assert app.shading[1][0].intervals == []
    assert app.state.param == ("slope", 0.2)


def test_elu_alpha_slider(app):
    app.controls["activation"].value = "elu"
    assert app.controls["param"].description.startswith("alpha")
    app.controls["param"].value = 2.0
    z, a = app.line_f.get_data()
    assert a[0] == pytest.approx(2.0 * np.expm1(-5.0))


def test_parameterless_activation_disables_the_slider(app):
    app.controls["activation"].value = "tanh"
    assert app.controls["param"].disabled and app.state.param is None


def test_tangent_and_value_text_follow_z0(app):
    app.set(activation="tanh", z0=0.5)
    zt, yt = app.tangent.get_data()
    slope = (yt[1] - yt[0]) / (zt[1] - zt[0])
    assert slope == pytest.approx(1 - np.tanh(0.5) ** 2)
    assert app.value_text.get_text() == f"σ(z₀) = {np.tanh(0.5):.3f},  σ'(z₀) = {1 - np.tanh(0.5) ** 2:.3f}"


def test_softmax_is_shown_for_two_inputs():
    c = activation_curves(ActivationState("softmax", None, 0.0, 5.0))
    np.testing.assert_allclose(c["a"], activations.sigmoid.f(c["z"]), atol=1e-12)
    np.testing.assert_allclose(c["da"], activations.sigmoid.df(c["z"]), atol=1e-12)


def test_range_slider_sets_the_x_limits(app):
    app.controls["z_max"].value = 8.0
    assert app.ax_f.get_xlim() == (-8.0, 8.0)
    assert app.line_f.get_data()[0][0] == -8.0


@pytest.mark.parametrize("name", sorted(PARAMETERS))
@pytest.mark.parametrize("z_max", [1.0, 5.0, 10.0])
def test_parameter_slider_keeps_the_axes(app, name, z_max):
    # y-limits cover the parameter's whole range: the curve moves against fixed axes,
    # and every curve on show lies inside them
    app.set(activation=name, z_max=z_max)
    slider = app.controls["param"]
    limits = None
    for v in np.arange(slider.min, slider.max + slider.step / 2, slider.step):
        slider.value = float(v)
        now = (app.ax_f.get_ylim(), app.ax_d.get_ylim())
        assert limits is None or now == limits, (name, v)
        limits = now
        for line, ax in ((app.line_f, app.ax_f), (app.line_d, app.ax_d)):
            y = line.get_ydata()
            assert ax.get_ylim()[0] <= y.min() and y.max() <= ax.get_ylim()[1]


def test_a_new_activation_is_one_redraw_with_its_parameter(app):
    """Picking an activation also resets its parameter slider: one frame for both (under ipympl each
    redraw is a frame sent to the browser)."""
    for name in ("elu", "sigmoid", "swish", "leaky_relu", "relu"):
        before = app.refreshes
        app.controls["activation"].value = name
        assert app.refreshes - before == 1, name
        if name in PARAMETERS:
            assert app.controls["param"].value == PARAMETERS[name][5]
            assert app.state.param == (PARAMETERS[name][0], PARAMETERS[name][5])


def test_the_browser_sending_back_the_parameter_on_its_grid_redraws_nothing(app):
    """The browser's slider reports a value it was given as min + k * step: 1.0 -> 1.0000000000000002
    for the swish's beta. That is the same picture, not a second frame."""
    app.controls["activation"].value = "swish"
    before = app.refreshes
    app.controls["param"].value = 1.0000000000000002
    assert app.refreshes == before
    app.controls["param"].value = 1.1
    assert app.refreshes == before + 1


def test_the_next_activation_and_range_are_drawn_ahead_and_match_a_fresh_app():
    from course.widgets.activation import activation_explorer

    async def main():
        app = activation_explorer("relu")
        app._repr_mimebundle_()
        names = [name for _, name in app.controls["activation"].options]
        for _ in range(3):
            await idle_turns()
            drawn = app.background_draws
            following = names[(names.index(app.controls["activation"].value) + 1) % len(names)]
            app.controls["activation"].value = following
            assert app.background_draws == drawn, following   # its axes were drawn ahead
            await idle_turns()
            drawn = app.background_draws
            app.controls["z_max"].value += app.controls["z_max"].step
            assert app.background_draws == drawn
        assert same_picture(app, activation_explorer(app.controls["activation"].value,
                                                     z_max=app.controls["z_max"].value))

    asyncio.run(main())
