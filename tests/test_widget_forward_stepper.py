"""Forward-pass stepper: the slides' worked examples, layer by layer, in the figure's text artists."""

import numpy as np
import pytest

import course
from course import widgets
from course.widgets.stepper import PRESETS, StepperState, forward_values


@pytest.fixture
def app():
    app = widgets.forward_stepper()
    app.raise_errors = True
    return app


def test_default_is_the_slides_3_2_1_relu_example(app):
    assert app.state.preset == "relu_3_2_1" and app.state.x == (0.6, -1.1, 0.2)
    assert app.diagram.sizes == [3, 2, 1]
    texts = app.diagram_texts()
    assert {"x₁=0.6", "x₂=-1.1", "x₃=0.2"} <= set(texts)
    assert not any(t.startswith("z=") for t in texts)  # nothing computed at step 0


def test_stepping_shows_the_slides_numbers(app):
    app.button("next")
    d = app.diagram
    assert [t.get_text() for t in d.neuron_texts[1]] == ["z=0.68\na=0.68", "z=-0.92\na=0"]
    assert d.neuron_texts[2][0].get_text() == ""  # the output is not computed yet
    app.button("next")
    assert d.neuron_texts[2][0].get_text() == "z=0.866\na=0.866"
    assert "C = ½ (y − ŷ)² = 0.160178" in app.equations.value
    assert "0.866" in app.heading and "0.160178" in app.heading
    app.button("next")  # past the last layer: stays there
    assert app.state.step == 2
    app.button("back")
    assert app.state.step == 1 and d.neuron_texts[2][0].get_text() == ""


def test_values_are_the_library_forward_pass(app):
    app.set(x1=1.0, x2=2.0, x3=-0.5, step=2)
    p = PRESETS["relu_3_2_1"]
    net = course.MLP.from_weights(p["weights"], p["biases"], activation="relu")
    y_hat = net.forward([1.0, 2.0, -0.5])
    np.testing.assert_allclose(app.values["y_hat"], y_hat)
    np.testing.assert_allclose(app.values["z"][0], net.z[0][0])
    assert app.diagram.neuron_texts[2][0].get_text() == f"z={y_hat[0]:.4g}\na={y_hat[0]:.4g}"
    assert app.diagram.neuron_texts[0][0].get_text() == "x₁=1"


def test_weights_are_drawn_by_magnitude_and_sign(app):
    widths = app.diagram.edges.get_linewidths()
    colors = app.diagram.edges.get_colors()
    W1 = np.array(PRESETS["relu_3_2_1"]["weights"][0])
    # edges are ordered layer by layer, neuron j, input k; the widest is |w| = 1.2 (W^(2)_11)
    assert np.argmax(widths) == W1.size
    red, blue = colors[0], colors[1]  # w_11 = 0.7 > 0, w_12 = -0.4 < 0
    assert red[0] > red[2] and blue[2] > blue[0]


def test_square_example_and_homework_presets(app):
    app.set(preset="square_2_2_1")
    assert app.diagram.sizes == [2, 2, 1] and app.state.x == (3.0, 2.0)
    assert app.controls["x3"].layout.display == "none"
    app.controls["step"].value = 2
    texts = app.diagram_texts()
    assert "z=-3\na=9" in texts and "z=-4\na=16" in texts and "z=2\na=4" in texts
    app.controls["preset"].value = "step_1_2_2_1"
    assert app.state.step == 0 and app.controls["step"].max == 3
    app.controls["step"].value = 3
    assert app.diagram.neuron_texts[3][0].get_text() == "z=2\na=1"  # the homework's answer y = 1


def test_forward_values_rejects_the_wrong_number_of_inputs():
    with pytest.raises(ValueError, match="x must hold 3 numbers"):
        forward_values(StepperState("relu_3_2_1", (1.0, 2.0), 0.0, 0))


def test_next_at_the_last_step_says_so():
    app = widgets.forward_stepper()
    app.raise_errors = True
    for _ in range(app.controls["step"].max + 1):
        app.button("next")
    assert "(last step)" in app.heading and "last step" in app.status.value
