"""Backpropagation stepper: the slides' sigma(z) = z^2 example, deltas, gradients and the FD check."""

import numpy as np
import pytest

from course import widgets
from course.widgets.stepper import PRESETS, StepperState, backward_values
from tests.helpers import torch_mlp_grads


@pytest.fixture
def app():
    app = widgets.backprop_stepper()
    app.raise_errors = True
    return app


def _edge_texts(app, layer):
    return [[t.get_text() if t.get_visible() else "" for t in row] for row in app.diagram.edge_texts[layer - 1]]


def test_step_0_is_the_forward_pass(app):
    assert app.state.preset == "square_2_2_1" and app.state.x == (3.0, 2.0) and app.state.y == 1.0
    texts = app.diagram_texts()
    assert "z=-3\na=9" in texts and "z=-4\na=16" in texts and "z=2\na=4" in texts
    assert not any("δ" in t for t in texts)


def test_stepping_back_shows_the_slides_deltas_and_gradients(app):
    app.button("next")
    assert app.diagram.neuron_texts[2][0].get_text() == "a=4\nδ=12"
    assert _edge_texts(app, 2) == [["108", "192"]]
    assert _edge_texts(app, 1) == [["", ""], ["", ""]]
    app.button("next")
    assert [t.get_text() for t in app.diagram.neuron_texts[1]] == ["a=9\nδ=-144", "a=16\nδ=96"]
    # dC/dW^(1) = [[-432, -288], [288, 192]] (the slide's 108 for the last entry is a typo)
    assert _edge_texts(app, 1) == [["-432", "-288"], ["288", "192"]]
    assert "[[-432, -288], [288, 192]]" in app.equations.value
    assert "the slide prints 108" in app.equations.value
    np.testing.assert_array_equal(app.values["deltas"][0], [-144, 96])
    np.testing.assert_array_equal(app.values["dW"][0], [[-432, -288], [288, 192]])


def test_finite_difference_toggle_shows_matching_numbers(app):
    app.set(step=2, show_fd=True)
    assert _edge_texts(app, 1) == [["-432\nFD -432", "-288\nFD -288"], ["288\nFD 288", "192\nFD 192"]]
    assert _edge_texts(app, 2) == [["108\nFD 108", "192\nFD 192"]]
    assert app.values["fd_error"] < 1e-6
    assert "central differences" in app.equations.value
    np.testing.assert_allclose(app.values["dW_fd"][0], [[-432, -288], [288, 192]], rtol=1e-7)
    app.controls["show_fd"].value = False
    assert _edge_texts(app, 1) == [["-432", "-288"], ["288", "192"]]


@pytest.mark.parametrize("preset", ["square_2_2_1", "relu_3_2_1"])
def test_gradients_match_torch_autograd_on_other_inputs(app, preset, rng):
    app.controls["preset"].value = preset
    n = len(app.state.x)
    for _ in range(3):
        x = np.round(rng.normal(size=n), 2)
        y = float(np.round(rng.normal(), 2))
        app.set(**{f"x{i + 1}": float(v) for i, v in enumerate(x)}, y=y, step=app.controls["step"].max)
        v = app.values
        _, loss, dW, db = torch_mlp_grads(v["net"], x[None, :], [y])
        assert v["loss"] == pytest.approx(loss)
        for mine, ref in zip(v["dW"], dW):
            np.testing.assert_allclose(mine, ref, atol=1e-10)
        assert v["fd_error"] < 1e-5 or np.allclose(v["dW"][0], v["dW_fd"][0], atol=1e-6)


def test_relu_preset_shows_bias_gradients(app):
    app.set(preset="relu_3_2_1", step=2)
    assert "∂C/∂b⁽¹⁾" in app.equations.value
    # slides 000: y_hat = 0.866, y = 0.3, so delta^(2) = 0.566 and dC/dW^(2) = 0.566 * [0.68, 0]
    assert app.diagram.neuron_texts[2][0].get_text() == "a=0.866\nδ=0.566"
    assert _edge_texts(app, 2) == [["0.3849", "0"]]


def test_bias_free_preset_shows_no_bias_gradients(app):
    # slides 001's example has no biases: its network trains only weights, and the steps show no dC/db
    app.set(preset="square_2_2_1", step=app.controls["step"].max)
    assert app.values["db"] is None and not app.values["net"].train_biases
    assert "∂C/∂W⁽¹⁾" in app.equations.value
    assert "∂C/∂b" not in app.equations.value


def test_backward_values_is_a_pure_function_of_the_state():
    s = StepperState("square_2_2_1", (3.0, 2.0), 1.0, 2)
    a, b = backward_values(s), backward_values(s)
    for g, h in zip(a["dW"], b["dW"]):
        np.testing.assert_array_equal(g, h)


def test_next_at_the_last_step_says_so_and_back_at_step_0_too(app):
    from course.widgets.stepper import END_MESSAGE, START_MESSAGE

    app.button("back")
    assert app.state.step == 0 and "first one" in app.status.value and START_MESSAGE[:20] in app.status.value
    while app.state.step < app.controls["step"].max:
        app.button("next")
    assert "(last step)" in app.heading and app.status.value == ""
    app.button("next")
    assert app.state.step == app.controls["step"].max
    assert "last step" in app.status.value and END_MESSAGE[:20] in app.status.value
    app.button("back")
    assert app.status.value == "" and "(last step)" not in app.heading


def test_a_new_network_is_one_redraw_with_its_inputs_and_step_0(app):
    """Picking a network also sets its example's inputs, target and step 0: one frame for all of them
    (under ipympl each redraw is a frame sent to the browser)."""
    app.controls["step"].value = 2
    for preset in ("relu_3_2_1", "square_2_2_1"):
        before = app.refreshes
        app.controls["preset"].value = preset
        assert app.refreshes - before == 1, preset
        assert app.state.step == 0 and app.state.x == tuple(PRESETS[preset]["x"])
