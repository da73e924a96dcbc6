"""The gradient-descent widget: set controls as a learner would, check the state and the plotted data."""

import asyncio
import base64
import io

import numpy as np
import pytest

from course.widgets import loss_landscape as gd_module
from course.widgets.loss_landscape import (SURFACES, DescentState, batches, descend, gradient_descent,
                                             hessian_linear, loss_grid)
from tests.helpers import idle_turns, same_picture


@pytest.fixture
def app():
    app = gradient_descent()
    app.raise_errors = True
    return app


def least_squares():
    s = SURFACES["linear"]
    A = np.column_stack([s.x, np.ones_like(s.x)])
    return np.linalg.lstsq(A, s.y, rcond=None)[0]


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_gradient_matches_central_differences(name):
    s = SURFACES[name]
    rng = np.random.default_rng(1)
    for _ in range(5):
        w, b = rng.uniform(-2, 2, 2)
        idx = rng.choice(len(s.x), 8, replace=False)
        h = 1e-6
        numeric = [(s.loss(w + h, b, idx) - s.loss(w - h, b, idx)) / (2 * h),
                   (s.loss(w, b + h, idx) - s.loss(w, b - h, idx)) / (2 * h)]
        np.testing.assert_allclose(s.grad(w, b, idx), numeric, rtol=1e-6, atol=1e-9)
        np.testing.assert_allclose(s.path_grads(np.array([[w, b]]))[0], s.grad(w, b), rtol=1e-12)


def test_gradient_matches_torch_autograd():
    torch = pytest.importorskip("torch")
    for name, s in SURFACES.items():
        w = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
        b = torch.tensor(-0.3, dtype=torch.float64, requires_grad=True)
        x, y = torch.tensor(s.x), torch.tensor(s.y)
        y_hat = w * x + b if name == "linear" else torch.sin(w * x + b)
        (0.5 * ((y_hat - y) ** 2).mean()).backward()
        np.testing.assert_allclose(s.grad(0.7, -0.3), [w.grad.item(), b.grad.item()], rtol=1e-12)


def test_adam_reaches_the_minimum_of_the_convex_bowl(app):
    app.set(optimizer="adam", learning_rate=0.1, steps=200, batch="full")
    w_star, b_star = least_squares()
    np.testing.assert_allclose(app.path.theta[-1], [w_star, b_star], atol=0.02)
    # the plotted path ends there, and the loss curve ends at the minimum of the landscape
    xd, yd = app.path_line.get_data()
    assert len(xd) == 201
    np.testing.assert_allclose([xd[-1], yd[-1]], [w_star, b_star], atol=0.02)
    min_loss = SURFACES["linear"].loss(w_star, b_star)
    assert app.loss_line.get_ydata()[-1] == pytest.approx(min_loss, rel=1e-3)
    assert app.diverged_text.get_text() == ""


def test_too_large_learning_rate_diverges(app):
    app.set(optimizer="gd", learning_rate=1.0, batch="full")
    path = app.path
    assert path.diverged_at is not None and path.diverged_at < app.state.steps
    loss = app.loss_line.get_ydata()
    assert loss[-1] > 1e5 * loss[0]
    assert "diverged" in app.diverged_text.get_text()
    assert "Diverged" in app.info.value
    # the curve leaves the (fixed) loss axis through the top
    assert loss[-1] > app.ax_loss.get_ylim()[1]


def test_tiny_learning_rate_barely_moves(app):
    app.set(optimizer="gd", learning_rate=0.001, batch="full")
    theta = app.path.theta
    assert np.linalg.norm(theta[-1] - theta[0]) < 0.2
    loss = app.loss_line.get_ydata()
    assert loss[-1] < loss[0]
    assert loss[-1] > 0.9 * loss[0]


def test_stability_limit_of_full_batch_gradient_descent():
    """On a quadratic bowl, gradient descent converges iff alpha < 2 / lambda_max(H)."""
    lam_max = np.linalg.eigvalsh(hessian_linear())[-1]
    below = descend(DescentState(learning_rate=0.95 * 2 / lam_max, steps=200))
    above = descend(DescentState(learning_rate=1.05 * 2 / lam_max, steps=200))
    assert below.diverged_at is None and below.loss[-1] < 0.2
    assert above.diverged_at is not None


def test_momentum_beats_plain_gradient_descent_on_the_elongated_bowl():
    plain = descend(DescentState(optimizer="gd", learning_rate=0.05, steps=60))
    momentum = descend(DescentState(optimizer="momentum", learning_rate=0.05, steps=60))
    assert momentum.loss[-1] < 0.5 * plain.loss[-1]


def test_batch_modes_change_the_path(app):
    paths = {}
    for mode in ("full", "mini-batch", "stochastic"):
        app.set(batch=mode, learning_rate=0.1)
        paths[mode] = app.path_line.get_xydata().copy()
    assert not np.allclose(paths["full"], paths["stochastic"])
    assert not np.allclose(paths["full"], paths["mini-batch"])
    # noisier steps: the full-batch loss is monotone, the stochastic one is not
    full = descend(DescentState(batch="full", learning_rate=0.1)).loss
    sgd = descend(DescentState(batch="stochastic", learning_rate=0.1)).loss
    assert np.all(np.diff(full) <= 1e-12)
    assert np.any(np.diff(sgd) > 0)


def test_minibatches_visit_every_sample_once_per_epoch():
    idx = batches(40, "mini-batch", 10, seed=3)
    assert all(len(i) == 8 for i in idx)
    first_epoch = np.concatenate(idx[:5])
    assert sorted(first_epoch) == list(range(40))
    assert batches(40, "full", 3, seed=0) == [None, None, None]


def test_frame_animates_the_path_and_follows_steps(app):
    app.controls["frame"].value = 10
    assert len(app.path_line.get_xdata()) == 11
    assert len(app.loss_line.get_xdata()) == 11
    np.testing.assert_allclose(app.now_dot.get_xydata()[0], app.path.theta[10])
    # at the end of the path, changing the number of steps keeps showing the whole path
    app.controls["frame"].value = app.controls["frame"].max
    app.controls["steps"].value = 50
    assert app.controls["frame"].max == 50 and app.play.max == 50
    assert app.controls["frame"].value == 50
    assert len(app.path_line.get_xdata()) == 51


def test_switching_to_the_sine_model_shows_its_landscape(app):
    app.controls["surface"].value = "sine"
    image, lines, star = app.landscapes["sine"]
    assert image.get_visible() and not app.landscapes["linear"][0].get_visible()
    np.testing.assert_allclose(image.get_array(), np.log10(loss_grid("sine")[2]))
    # the start point moved to the sine model's default, and the path is drawn from it
    assert (app.state.w0, app.state.b0) == SURFACES["sine"].start
    np.testing.assert_allclose(app.start_dot.get_xydata()[0], SURFACES["sine"].start)


def test_non_convex_landscape_has_a_local_minimum(app):
    """From (-2, -1) gradient descent settles where the gradient vanishes but the fit is poor."""
    app.set(surface="sine", optimizer="gd", learning_rate=0.3, steps=200)
    best = loss_grid("sine")[2].min()
    assert app.path.grad_norm[-1] < 1e-3
    assert app.path.loss[-1] > 5 * best
    assert "local minimum" in app.info.value
    app.set(w0=1.0, b0=0.0)
    assert app.path.loss[-1] < 1.2 * best


def test_clicking_the_landscape_sets_the_start(app):
    app.set_start(1.23, -2.04)
    assert (app.state.w0, app.state.b0) == (1.2, -2.0)
    np.testing.assert_allclose(app.start_dot.get_xydata()[0], [1.2, -2.0])


def test_errors_in_a_callback_are_shown(app, monkeypatch):
    app.raise_errors = False

    def broken(state):
        raise ValueError("learning_rate must be a positive number, got -1")

    monkeypatch.setattr(gd_module, "descend", broken)
    app.controls["learning_rate"].value = 0.2
    assert isinstance(app.last_error, ValueError)
    assert "learning_rate must be a positive number" in app.status.value


def test_bad_state_names_the_argument():
    with pytest.raises(ValueError, match="batch must be one of"):
        descend(DescentState(batch="tiny"))
    with pytest.raises(ValueError, match="surface must be one of"):
        descend(DescentState(surface="cubic"))


def test_static_png_shows_the_current_figure(app):
    from PIL import Image

    bundle = app._repr_mimebundle_()
    png = base64.b64decode(bundle["image/png"])
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    w, h = app.fig.canvas.get_width_height()
    assert image.shape == (h, w, 3)
    # the path (red) is in the static image
    red = (image[..., 0] > 200) & (image[..., 1] < 80) & (image[..., 2] < 80)
    assert red.sum() > 50
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_a_step_draws_only_the_path_and_the_other_models_are_drawn_ahead():
    async def main():
        app = gradient_descent()
        app._repr_mimebundle_()
        app.refresh()                       # its background drawn
        image = app.landscapes[app.controls["surface"].value][0]
        draws = []
        image.draw = lambda renderer, draw=image.draw: draws.append(1) or draw(renderer)
        for rate in (0.05, 0.2):
            app.controls["learning_rate"].value = rate
        assert draws == []                  # the landscape is in the background: a new path draws the path only
        for name in [n for n in SURFACES if n != app.controls["surface"].value]:
            await idle_turns()
            drawn = app.background_draws
            app.controls["surface"].value = name
            assert app.background_draws == drawn, name
            app.controls["learning_rate"].value = 0.1
            assert app.background_draws == drawn
            fresh = gradient_descent()
            fresh.set(surface=name, w0=app.controls["w0"].value, b0=app.controls["b0"].value, learning_rate=0.1)
            assert same_picture(app, fresh), name

    asyncio.run(main())
