"""Universal approximation: the fit improves with D, the pieces sum to the network, (D+1)^K regions."""

import asyncio

import numpy as np
import pytest
from traitlets import Bunch

from course import widgets
from course.widgets.approximation import (
    D_MAX, TARGETS, X_RANGE, best_rms, count_linear_regions, fold_network, parse_target, shallow_fit)
from tests.helpers import idle_turns, same_picture


@pytest.fixture
def app():
    app = widgets.universal_approximation()
    app.raise_errors = True
    return app


@pytest.mark.parametrize("target, factor", [("sine", 0.01), ("bump", 0.01), ("step", 0.3)])
def test_error_falls_as_D_grows(app, target, factor):
    """Smooth targets: the error falls like 1/D^2 (16 times more units, 100 times smaller error);
    the step's like 1/sqrt(D), as a jump cannot be matched by a continuous network."""
    app.controls["target"].value = target
    errors = []
    for D in (2, 4, 8, 16, 32):
        app.controls["D"].value = D
        errors.append(app.fit["rms"])
        assert f"RMS error {app.fit['rms']:.4f}" in app.fit_title.get_text()
        assert app.err_dot.get_data()[0][0] == D
    assert all(e2 < e1 for e1, e2 in zip(errors, errors[1:])), errors
    assert errors[-1] < factor * errors[0]


def test_plotted_network_is_the_sum_of_the_plotted_pieces(app):
    app.set(target="sine", D=7, show_pieces=True)
    x, y = app.fit_line.get_data()
    segments = app.pieces.get_segments()
    assert len(segments) == 7
    total = np.full_like(x, app.fit["phi0"])
    for seg in segments:
        total += np.interp(x, seg[:, 0], seg[:, 1])  # each piece is drawn exactly by its 3 points
    np.testing.assert_allclose(total, y, atol=1e-9)
    app.controls["show_pieces"].value = False
    assert not app.pieces.get_visible()


def test_fit_is_the_library_mlp_and_least_squares_is_optimal():
    x = np.linspace(*X_RANGE, 401)
    y = TARGETS["sine"][1](x)
    fit = shallow_fit(y, x, 10)
    np.testing.assert_allclose(fit["net"].forward(x[:, None])[:, 0], fit["y"])
    # moving any output weight away from the least-squares optimum raises the error
    net = fit["net"]
    for j in range(10):
        net.weights[1][0, j] += 1e-3
        worse = np.sqrt(np.mean((net.forward(x[:, None])[:, 0] - y) ** 2))
        net.weights[1][0, j] -= 1e-3
        assert worse > fit["rms"]


def test_abs_is_exact_when_a_kink_sits_at_zero(app):
    app.controls["target"].value = "abs"
    app.controls["D"].value = 4  # kinks at -1, -0.5, 0, 0.5
    assert app.fit["rms"] < 1e-12
    app.controls["D"].value = 3  # no kink at 0
    assert app.fit["rms"] > 1e-3


@pytest.mark.parametrize("D", [3, 4, 5])
@pytest.mark.parametrize("K", [1, 2, 3, 4])
def test_deep_fold_network_has_D_plus_1_to_the_K_regions(D, K):
    net = fold_network(D, K)
    assert net.sizes == [1] + [D] * K + [1]
    regions, kinks = count_linear_regions(net, np.linspace(0, 1, 2 ** 17 + 1))
    assert regions == (D + 1) ** K
    # each region is mapped onto [0, 1]: the function zig-zags between 0 and 1
    x = np.linspace(0, 1, 20001)
    y = net.forward(x[:, None])[:, 0]
    assert y.min() > -1e-9 and y.max() < 1 + 1e-9
    assert min(abs(net.forward([[0.0]])[0, 0] - v) for v in (0.0, 1.0)) < 1e-9


def test_depth_controls_update_the_region_count(app):
    app.set(K=3, D_deep=4)
    assert app.deep_regions == 125
    assert app.deep_title.get_text() == "125 = 5³ regions"
    xs, ys = app.deep_line.get_data()
    assert len(xs) == 125 + 1


def test_shallow_network_cannot_match_depth():
    """K*D units in one layer give at most K*D + 1 regions, far fewer than (D+1)^K."""
    x = np.linspace(*X_RANGE, 2001)
    fit = shallow_fit(np.sin(5 * x), x, 12)
    regions, _ = count_linear_regions(fit["net"], x)
    assert regions <= 12 + 1 < 4 ** 3


def test_custom_lambda_is_fitted(app):
    app.set(target="custom", expression="lambda x: np.cos(3 * x)")
    x, y = app.target_line.get_data()
    np.testing.assert_allclose(y, np.cos(3 * x))
    app.controls["expression"].value = "x ** 2"  # a bare expression works too
    np.testing.assert_allclose(app.target_line.get_data()[1], x ** 2)


def test_python_function_as_target():
    app = widgets.universal_approximation(target=lambda x: np.maximum(x, 0.2), D=5)
    x, y = app.target_line.get_data()
    np.testing.assert_allclose(y, np.maximum(x, 0.2))


def test_a_raising_lambda_is_shown_in_the_widget(app):
    app.raise_errors = False
    app.set(target="custom", expression="lambda x: 1 / 0")
    assert isinstance(app.last_error, ZeroDivisionError)
    assert "ZeroDivisionError" in app.status.value and "division by zero" in app.status.value
    app.controls["expression"].value = "lambda x: np.sin(x)"
    assert app.last_error is None and app.status.value == ""


@pytest.mark.parametrize("text, message", [
    ("lambda x: (", "not valid Python"),
    ("lambda x: np.ones(3)", "one number per x"),
    ("lambda x: np.log(x)", "NaN or infinity"),
    ("", "Python code"),
])
def test_bad_custom_targets_get_clear_errors(app, text, message):
    app.raise_errors = False
    app.set(target="custom", expression=text)
    assert isinstance(app.last_error, ValueError)
    assert message in str(app.last_error)


def test_parse_target_accepts_lambda_and_expression():
    assert parse_target("lambda x: 2 * x")(3.0) == 6.0
    assert parse_target("x + 1")(1.0) == 2.0


def test_module_import_does_not_shadow_the_app_function():
    import course.widgets.approximation as module  # noqa: F401

    app = widgets.universal_approximation(D=3)
    assert app.state.D == 3


@pytest.mark.parametrize("target", [*TARGETS, "random"])
def test_error_curve_is_the_shallow_fit_error_for_every_D(target):
    # the plotted curve comes from the hat-function basis; it must be the network's own error
    x = np.linspace(*X_RANGE, 401)
    y = np.random.default_rng(0).normal(size=x.shape) if target == "random" else TARGETS[target][1](x)
    for D in range(1, D_MAX + 1):
        assert best_rms(y, x, D) == pytest.approx(shallow_fit(y, x, D)["rms"], rel=1e-9, abs=1e-12), D


def test_plotted_error_curve_and_dot_show_the_fit(app):
    app.set(target="abs", D=7)
    xs, ys = app.err_curve.get_data()
    assert list(xs) == list(range(1, D_MAX + 1))
    assert ys[6] == pytest.approx(app.fit["rms"], rel=1e-9, abs=1e-12)
    assert app.err_dot.get_data()[0][0] == 7


def test_moving_a_kink_moves_that_hinge_and_refits(app):
    app.set(target="abs", D=5)   # kinks -1, -0.6, -0.2, 0.2, 0.6: none at the kink of |x|
    before = app.fit["rms"]
    app.set(unit=3)
    assert app.controls["kink"].value == pytest.approx(app.fit["kinks"][2])
    app.controls["kink"].value = 0.0     # the kink of |x|: then the fit is exact
    assert app.fit["kinks"][2] == 0.0 and app.state.kinks[2] == 0.0
    assert app.fit["rms"] < 1e-9 < before
    np.testing.assert_allclose(app.kink_dots.get_xdata(), app.fit["kinks"])
    app.button("reset_kinks")
    np.testing.assert_allclose(app.fit["kinks"], np.linspace(-1, 1, 6)[:-1])
    app.controls["kink"].value = 0.0
    app.controls["D"].value = 8          # a new D: evenly spaced again
    np.testing.assert_allclose(app.fit["kinks"], np.linspace(-1, 1, 9)[:-1])


def test_moving_a_weight_sets_the_output_weights_by_hand(app):
    app.set(target="sine", D=5)
    best = app.fit["phi"].copy()
    app.set(unit=2)
    assert app.controls["weight"].value == pytest.approx(best[1], abs=0.005)
    app.controls["weight"].value = 1.5
    assert app.controls["fit"].value == "by hand" and "by hand" in app.status.value
    phi = app.fit["phi"]
    assert phi[1] == 1.5 and np.allclose(np.delete(phi, 1), np.delete(best, 1))
    # the plotted network is the library MLP with these weights
    x, y = app.fit_line.get_data()
    np.testing.assert_allclose(y, app.fit["net"].forward(np.asarray(x)[:, None])[:, 0])
    assert app.fit["net"].weights[1][0, 1] == 1.5
    app.controls["fit"].value = "least squares"
    np.testing.assert_allclose(app.fit["phi"], best)


def test_training_the_output_weights_approaches_least_squares(app):
    from course.widgets.approximation import TRAINING_STEPS

    app.set(target="bump", D=4)
    best = app.fit["rms"]
    app.controls["fit"].value = "training"
    trained = app.fit["rms"]
    assert best <= trained < 1.2 * best
    assert f"{TRAINING_STEPS} Adam steps" in app.fit_title.get_text()


def test_sigmoid_units_are_smooth_steps_centred_at_the_kinks(app):
    app.set(target="sine", D=8, units="sigmoid")
    net = app.fit["net"]
    assert net.layer_activations[0].name == "sigmoid"
    # each unit is 1/2 at its centre
    for d, c in enumerate(app.fit["kinks"]):
        net.forward(np.array([[c]]))
        assert net.a[1][0, d] == pytest.approx(0.5)
    assert "centre" in app.controls["kink"].description
    # the plotted pieces are phi_d h_d(x) and sum (with phi_0) to the network
    pieces = np.array([seg[:, 1] for seg in app.pieces.get_segments()])
    np.testing.assert_allclose(app.fit["phi0"] + pieces.sum(axis=0), app.fit["y"], atol=1e-9)
    relu = widgets.universal_approximation(target="sine", D=8)
    assert app.fit["rms"] < 0.5  # a usable fit, compared in lecture 5 with the hinges'
    assert relu.fit["rms"] != app.fit["rms"]


def test_bad_units_or_fit_get_clear_errors():
    with pytest.raises(ValueError, match="units must be one of relu, sigmoid, got 'tanh'"):
        widgets.universal_approximation(units="tanh")
    with pytest.raises(ValueError, match="fit must be one of"):
        shallow_fit(np.zeros(5), np.linspace(-1, 1, 5), 2, fit="magic")
    with pytest.raises(ValueError, match="kinks must hold D = 3 numbers"):
        shallow_fit(np.zeros(5), np.linspace(-1, 1, 5), 3, kinks=[0.0, 0.5])


def test_sliders_reporting_back_the_shown_values_change_nothing(app):
    # the browser may send back the value the kernel gave a slider: that is no edit of the network
    app.set(target="sine", D=7, unit=3)
    shown = app.controls["weight"].value
    rms = app.fit["rms"]
    app.controls["weight"].value = shown + 0.0
    app.controls["kink"].value = app.controls["kink"].value
    for name in ("weight", "kink"):  # a change event that repeats the value, as traitlets sends it
        control = app.controls[name]
        control.notify_change(Bunch(name="value", old=control.value, new=control.value, owner=control,
                                    type="change"))
        # and the value recomputed on the slider's grid in the browser, off in the last bits
        control.notify_change(Bunch(name="value", old=control.value, new=control.value * (1 + 4e-16) + 1e-16,
                                    owner=control, type="change"))
    assert app.controls["fit"].value == "least squares" and app.fit["rms"] == rms and app.state.kinks is None


def test_error_axis_labels_the_decades_in_plain_text():
    """10⁻³, not mathtext: matplotlib's mathtext parser and fonts cost about 120 ms the first time a
    new target redraws the error axis."""
    from course.widgets._base import superscript

    assert superscript(-3) == "⁻³" and superscript("(12)") == "⁽¹²⁾"
    app = widgets.universal_approximation()
    app.fig.canvas.draw()
    labels = [t.get_text() for t in app.ax_err.yaxis.get_ticklabels()]
    assert "10⁻²" in labels and "10⁰" in labels
    assert not any("$" in label for label in labels), labels


def test_the_neighbouring_targets_and_the_other_units_are_drawn_ahead_and_match_a_fresh_app():
    async def main():
        app = widgets.universal_approximation("sine")
        app._repr_mimebundle_()
        for control, value in [("target", "step"), ("target", "abs"), ("units", "sigmoid"), ("target", "step"),
                               ("units", "relu"), ("target", "sine"), ("target", "custom"), ("target", "sine")]:
            await idle_turns()
            drawn = app.background_draws
            app.controls[control].value = value
            assert app.background_draws == drawn, (control, value)   # axes and error curve drawn ahead
        assert same_picture(app, widgets.universal_approximation("sine"))

    asyncio.run(main())
