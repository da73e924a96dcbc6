"""Perceptron explorer: controls -> state -> plotted data; XOR never separates, AND and OR do."""

import itertools

import numpy as np
import pytest

from course import datasets, widgets
from course.plotting import polygon_area
from course.widgets.perceptron import XLIM, YLIM, PerceptronState, learning_step, perceptron_view


@pytest.fixture
def app():
    app = widgets.perceptron_explorer()
    app.raise_errors = True
    return app


def test_sliders_set_the_state_and_the_plotted_line(app):
    app.set(w1=1.0, w2=1.0, b=-1.5)
    assert app.state.w == (1.0, 1.0) and app.state.b == -1.5
    xs, ys = app.line.get_data()
    # every plotted point of the decision line satisfies w1 x1 + w2 x2 + b = 0
    np.testing.assert_allclose(np.asarray(xs) + np.asarray(ys) - 1.5, 0.0, atol=1e-12)
    assert len(xs) == 2
    # AND is solved by this line: the title says 4/4 and no point is circled
    assert app.accuracy_text.get_text() == "accuracy 4/4"
    assert len(app.wrong.get_offsets()) == 0
    assert [t.get_text() for t in app.z_texts] == ["z=-1.50", "z=-0.50", "z=-0.50", "z=0.50"]


def test_region_polygon_is_where_z_is_non_negative(app):
    app.set(w1=2.0, w2=0.0, b=-1.0)  # z >= 0 exactly for x1 >= 0.5
    red = app.region.get_xy()
    blue = app.region_neg.get_xy()
    width, height = XLIM[1] - XLIM[0], YLIM[1] - YLIM[0]
    assert polygon_area(red) == pytest.approx((XLIM[1] - 0.5) * height)
    assert polygon_area(red) + polygon_area(blue) == pytest.approx(width * height)
    assert np.all(red[:, 0] >= 0.5 - 1e-12) and np.all(blue[:, 0] <= 0.5 + 1e-12)


def test_misclassified_points_are_circled(app):
    app.set(gate="or", w1=1.0, w2=1.0, b=-1.5)  # this is AND's line: (0,1) and (1,0) are wrong for OR
    wrong = {tuple(p) for p in np.asarray(app.wrong.get_offsets())}
    assert wrong == {(0.0, 1.0), (1.0, 0.0)}
    assert app.accuracy_text.get_text() == "accuracy 2/4"
    assert app.gate_text.get_text() == "OR"


def test_xor_accuracy_never_reaches_100_percent_on_a_grid_of_sliders(app):
    app.controls["gate"].value = "xor"
    values = np.linspace(-3, 3, 9)
    best = 0.0
    for w1, w2, b in itertools.product(values, values, values):
        app.set(w1=float(w1), w2=float(w2), b=float(b))
        best = max(best, app.view["accuracy"])
        assert app.accuracy_text.get_text() != "accuracy 4/4"
    assert best == 0.75  # three of four is the best any line does on XOR


def test_and_is_reachable_on_the_same_grid(app):
    values = np.linspace(-3, 3, 9)
    solved = [(w1, w2, b) for w1, w2, b in itertools.product(values, values, values)
              if perceptron_view(PerceptronState("and", (w1, w2), b))["accuracy"] == 1.0]
    assert solved, "some line on the grid must separate AND"


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
def test_learning_rule_separates_the_linearly_separable_gates(app, gate):
    app.controls["gate"].value = gate
    for _ in range(5):
        app.button("run")  # 10 steps each
        if app.view["accuracy"] == 1.0:
            break
    assert app.view["accuracy"] == 1.0
    assert app.accuracy_text.get_text() == "accuracy 4/4"
    assert app.history[-1] >= 0 and len(app.history) <= 50


def test_learning_rule_never_separates_xor(app):
    app.controls["gate"].value = "xor"
    for _ in range(10):
        app.button("run")
    assert len(app.history) == 100
    assert min(app.history) >= 1  # every step starts with at least one misclassified point
    assert app.view["accuracy"] < 1.0
    steps, errors = app.history_line.get_data()
    np.testing.assert_array_equal(steps, np.arange(1, 101))
    np.testing.assert_array_equal(errors, app.history)


def test_one_button_step_is_the_library_perceptron_rule(app):
    from course.perceptron import Perceptron

    app.set(gate="and", w1=0.5, w2=-0.5, b=0.2, alpha=0.5)
    app.button("step")
    X, y = datasets.logic_gate("and")
    p = Perceptron(2, learning_rate=0.5)
    p.weights = np.array([0.2, 0.5, -0.5])
    p.update(X, y)
    assert app.state.b == pytest.approx(p.b)
    assert app.state.w == pytest.approx(tuple(p.w))
    assert learning_step(PerceptronState("and", (0.5, -0.5), 0.2, 0.5))[2] == 2
    app.button("reset")
    assert app.state.w == (0.5, -0.5) and app.history == []


def test_changing_the_gate_clears_the_history(app):
    app.button("step")
    assert app.history
    app.controls["gate"].value = "xor"
    assert app.history == [] and app.state.history == ()


def test_status_sliders_plot_and_next_step_use_the_same_numbers():
    from course.widgets.perceptron import W_STEP

    app = widgets.perceptron_explorer(gate="or", w=(0.37, -0.41), b=0.33, alpha=0.35)
    app.raise_errors = True
    app.button("run")
    c = app.controls
    w1, w2, b = c["w1"].value, c["w2"].value, c["b"].value
    for v in (w1, w2, b):  # on the slider's grid: the browser's slider cannot snap them elsewhere
        assert abs(v / W_STEP - round(v / W_STEP)) < 1e-9
    # the exact perceptron rule: ten library steps from the (snapped) start give the same weights
    from course.perceptron import Perceptron
    from course.widgets.perceptron import on_slider

    p = Perceptron(2, learning_rate=0.35)
    p.weights = np.array([on_slider(0.33), on_slider(0.37), on_slider(-0.41)])  # the start, as the sliders hold it
    X, y = datasets.logic_gate("or")
    for _ in range(10):
        p.update(X, y)
    np.testing.assert_allclose([b, w1, w2], p.weights, atol=1e-9)
    from course.widgets.perceptron import weight_text

    assert f"w = ({weight_text(w1)}, {weight_text(w2)}), b = {weight_text(b)}" in app.status.value
    assert app.state.w == (w1, w2) and app.state.b == b
    # the plotted z labels are those of the slider values
    X = app.view["X"]
    z = X @ np.array([w1, w2]) + b
    labels = [t.get_text() for t in app.z_texts]
    assert labels == [f"z={v:.2f}" if f"{v:.2f}" not in ("-0.00", "0.00") else "z=0.00" for v in z]
    assert not any(label == "z=-0.00" for label in labels)


def test_a_net_input_of_zero_is_labelled_without_a_minus_sign():
    from course.widgets.perceptron import z_label

    assert z_label(-1e-17) == "z=0.00" and z_label(-0.004) == "z=0.00" and z_label(-0.2) == "z=-0.20"


def test_weights_read_as_the_sliders_show_them():
    from course.widgets.perceptron import on_slider, weight_text

    assert on_slider(0.37) == 0.375 and on_slider(9.0) == 4.0 and on_slider(0.30000000000000004) == 0.3
    assert [weight_text(v) for v in (0.375, -0.5, 0.0, -0.0, 1.2375, 2.0)] == ["0.375", "-0.5", "0", "0", "1.2375", "2"]
