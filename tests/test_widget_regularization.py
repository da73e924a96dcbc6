"""The regularization explorer: set controls as a learner would, check the run and the plotted data."""

import numpy as np
import pytest

from course import optim
from course.mlp import MLP
from course.regularization import soft_threshold
from course.widgets import regularization as reg
from course.widgets.regularization import BINS, EPOCHS, RegConfig, data, regularization_explorer, train


@pytest.fixture
def app():
    app = regularization_explorer()
    app.raise_errors = True
    return app


def zero_bin(app):
    """The histogram count of the bin holding w = 0, read from the plotted stairs."""
    values = app.hist.get_data().values
    return values[np.searchsorted(BINS, 0.0, side="right") - 1]


def test_the_proximal_l1_step_is_adams_step_then_soft_thresholding():
    """One step of the explorer's proximal L1: Adam's step on C, then w <- sign(w) max(|w| - alpha_i lambda, 0)
    with Adam's own per-weight step sizes alpha_i, on the weights only (as the module docstring says)."""
    x_tr, y_tr, _, _ = data()
    X, Y = reg.scale(x_tr), y_tr[:, None]
    lam = 1e-2
    prox, plain = (MLP(list(reg.SIZES), activation="tanh", seed=0) for _ in range(2))
    opt_prox, opt_plain = optim.Adam(learning_rate=reg.LEARNING_RATE), optim.Adam(learning_rate=reg.LEARNING_RATE)
    prox.train_step(X, Y, opt_prox, l1=lam, l1_method="proximal")
    plain.train_step(X, Y, opt_plain)
    zeros = 0
    for i, (W, W_plain) in enumerate(zip(prox.weights, plain.weights)):
        threshold = opt_plain.step_size(i) * lam                   # alpha_i lambda_1, one per weight
        np.testing.assert_array_equal(W, soft_threshold(W_plain, threshold))
        zeros += int(np.sum(W == 0))
    assert zeros > 0
    for b, b_plain in zip(prox.biases, plain.biases):
        np.testing.assert_array_equal(b, b_plain)


def test_without_help_the_network_overfits(app):
    fit = app.fit
    assert fit.epochs == EPOCHS and fit.stopped_at is None
    assert fit.train_loss[-1] < 0.2 * fit.train_loss[50]
    assert fit.val_loss[-1] > 1.2 * fit.val_loss.min()          # validation loss turned up
    best = int(np.argmin(fit.val_loss))
    assert fit.best_epoch == best
    np.testing.assert_array_equal(app.best_line.get_xdata(), [best, best])
    assert f"epoch {best}" in app.best_text.get_text()
    np.testing.assert_array_equal(app.val_curve.get_ydata(), fit.val_loss)


def test_l1_gives_exact_zeros_and_l2_only_shrinks(app):
    none_weights = app.fit.final["weights"]
    app.controls["penalty"].value = "L1"
    l1 = app.fit.final
    l1_zero_bin = zero_bin(app)
    assert l1["zeros"] > 0.8 * app.fit.n_weights
    assert f"exactly 0: {l1['zeros']}" in app.zero_text.get_text()
    app.controls["penalty"].value = "L2"
    l2 = app.fit.final
    assert l2["zeros"] == 0
    # L2 pulls many weights close to 0 too (the central bin), but L1 pulls more, and only L1 to exactly 0
    assert l1_zero_bin > 1.5 * zero_bin(app)
    assert l1["small"] > 20 * max(l2["small"], 1)
    # L2 shrinks: a smaller norm than without a penalty
    assert np.linalg.norm(l2["weights"]) < 0.5 * np.linalg.norm(none_weights)


def test_proximal_and_subgradient_l1_fit_alike_but_only_proximal_has_zeros():
    prox = train(RegConfig(penalty="L1", lam=1e-3, l1_method="proximal"))
    sub = train(RegConfig(penalty="L1", lam=1e-3, l1_method="subgradient"))
    assert prox.val_loss[-1] == pytest.approx(sub.val_loss[-1], rel=0.1)
    assert prox.train_loss[-1] == pytest.approx(sub.train_loss[-1], rel=0.1)
    assert prox.final["zeros"] > 500
    assert sub.final["zeros"] == 0
    assert sub.final["small"] > 100


def test_elastic_net_uses_both_penalties():
    config = RegConfig(penalty="elastic net", lam=1e-3)
    assert (config.l1, config.l2) == (1e-3, 1e-3)
    fit = train(config)
    assert fit.final["zeros"] > 500


def test_early_stopping_marks_and_restores_the_best_epoch(app):
    app.set(early_stopping=True, patience=100)
    fit = app.fit
    assert fit.stopped_at == fit.best_epoch + 100
    assert fit.best_epoch == int(np.argmin(fit.val_loss))
    assert len(app.train_curve.get_xdata()) == fit.stopped_at + 1
    np.testing.assert_array_equal(app.best_line.get_xdata(), [fit.best_epoch] * 2)
    np.testing.assert_allclose(app.best_dot.get_ydata(), [fit.val_loss[fit.best_epoch]])
    assert f"best epoch {fit.best_epoch}" in app.best_text.get_text()
    # at the end the restored weights are shown: their validation loss is the lowest one
    assert fit.final["epoch"] == fit.best_epoch
    assert fit.final["val_loss"] == pytest.approx(fit.val_loss[fit.best_epoch], rel=1e-12)
    assert "restored weights of epoch" in app.info.value
    np.testing.assert_allclose(app.fit_line.get_ydata(), fit.final["curve"])


def test_show_epoch_replays_without_retraining(app):
    fit = app.fit
    app.controls["epoch"].value = 0
    assert app.fit is fit
    np.testing.assert_allclose(app.fit_line.get_ydata(), fit.curves[0])
    np.testing.assert_array_equal(app.now_line.get_xdata(), [0, 0])
    app.controls["epoch"].value = 500
    np.testing.assert_allclose(app.fit_line.get_ydata(), fit.curves[50])
    assert fit.snap_epochs[50] == 500
    assert not np.allclose(fit.curves[0], fit.curves[50])
    # a new configuration shows its run from the end
    app.controls["dropout"].value = 0.2
    assert app.controls["epoch"].value == EPOCHS
    np.testing.assert_allclose(app.fit_line.get_ydata(), app.fit.final["curve"])


def test_dropout_smooths_the_fit():
    plain = train(RegConfig())
    dropped = train(RegConfig(dropout=0.05))
    assert dropped.train_loss[-1] > 2 * plain.train_loss[-1]          # it fits the noise less

    def roughness(curve):
        return np.abs(np.diff(curve, 2)).sum()

    assert roughness(dropped.final["curve"]) < 0.3 * roughness(plain.final["curve"])
    truth = np.sin(reg.X_GRID)
    rms = lambda curve: np.sqrt(np.mean((curve - truth) ** 2))  # noqa: E731
    assert rms(dropped.final["curve"]) < rms(plain.final["curve"])


def test_errors_in_a_callback_are_shown(app, monkeypatch):
    app.raise_errors = False

    def broken(config, progress=None, preview=None):
        raise ValueError("lam must be a non-negative number, got -1")

    monkeypatch.setattr(reg, "train", broken)
    app.controls["lam"].value = 1e-2
    assert isinstance(app.last_error, ValueError)
    assert "lam must be a non-negative number" in app.status.value


def test_bad_configuration_names_the_argument():
    with pytest.raises(ValueError, match="penalty must be one of"):
        train(RegConfig(penalty="L3"))
    with pytest.raises(ValueError, match="dropout must be a probability"):
        train(RegConfig(dropout=1.0))


def test_a_new_configuration_shows_a_first_result_then_the_whole_run():
    from course.widgets import regularization as reg

    app = reg.regularization_explorer()
    app.raise_errors = True
    shown = []
    show = app.show
    app.show = lambda: (shown.append((app.best_text.get_text(), len(app.train_curve.get_xdata()))), show())
    app.controls["dropout"].value = 0.15   # a configuration not trained yet
    assert app.previews == list(reg.PREVIEW_AT)
    # first the run after 20 epochs, then after 200, then the whole run
    assert shown[0] == (f"training: epoch {reg.PREVIEW_AT[0]} of {reg.EPOCHS}...", reg.PREVIEW_AT[0] + 1)
    assert shown[1][1] == reg.PREVIEW_AT[1] + 1
    assert len(app.train_curve.get_xdata()) == app.fit.epochs + 1 and "training" not in app.best_text.get_text()
    shown.clear()
    app.controls["dropout"].value = 0.0    # trained before: no preview, one redraw
    assert app.previews == [] and len(shown) == 1
