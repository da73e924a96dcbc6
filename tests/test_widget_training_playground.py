"""The training playground: set controls as a learner would, check the run and the plotted data."""

import numpy as np
import pytest
from matplotlib.colors import to_rgba

from course.widgets import training_playground as pg
from course.widgets.training_playground import (DATASETS, WINDOW, PlaygroundConfig, make_data, neuron_maps, new_run,
                                       playground, train_to)


@pytest.fixture
def app():
    app = playground()
    app.raise_errors = True
    return app


def heat(app):
    return np.asarray(app.heatmap.get_array()).copy()


def test_circles_reach_high_test_accuracy_and_the_heatmap_changes(app):
    start = heat(app)
    assert app.run.test_accuracy[-1] < 0.7
    app.controls["epoch"].value = 200
    assert app.run.epoch == 200
    assert app.run.test_accuracy[-1] >= 0.95
    assert pg.accuracy(app.run, "test") == app.run.test_accuracy[-1]
    assert not np.array_equal(heat(app), start)
    # the loss curves hold one point per epoch and fall
    x, train = app.train_curve.get_data()
    assert len(x) == 201 and x[-1] == 200
    test = app.test_curve.get_ydata()
    assert train[-1] < 0.5 * train[0] and test[-1] < 0.6 * test[0]
    assert "epoch 200" in app.info.value and "test accuracy" in app.info.value


def test_train_pause_and_reset_are_separate_labelled_buttons(app):
    c = app.controls
    assert "train" in c["train"].description and "pause" in c["pause"].description
    assert "reset" in c["reset"].description
    assert c["epoch"].layout.display == "none"  # the clock's own stop button (which rewinds) is not shown
    app.button("train")
    assert c["epoch"].playing
    c["epoch"].value = 7            # what the clock's ticks do
    app.button("pause")
    assert not c["epoch"].playing and app.state.epoch == 7 and app.run.epoch == 7  # paused, not rewound
    app.button("train")
    c["epoch"].value = 9
    assert app.run.epoch == 9       # goes on from where it paused
    app.button("reset")
    assert not c["epoch"].playing and app.state.epoch == 0


def test_heatmap_shows_the_networks_output(app):
    app.controls["epoch"].value = 50
    with np.errstate(all="ignore"):
        p = app.run.net.predict(pg.plane(pg.GRID) / pg.INPUT_SCALE)[:, 0].reshape(pg.GRID, pg.GRID)
    np.testing.assert_array_equal(heat(app), app.cmap(p, bytes=True))
    # the origin (inside the inner disc, class 1) is blue after training: P > 0.5
    app.controls["epoch"].value = 200
    centre = app.run.net.predict(np.zeros((1, 2)))[0, 0]
    assert centre > 0.5


def test_step_and_reset_buttons(app):
    initial = heat(app)
    app.button("step")
    app.button("step")
    assert app.state.epoch == 2 and app.run.epoch == 2
    assert len(app.train_curve.get_xdata()) == 3
    assert not np.array_equal(heat(app), initial)
    app.controls["epoch"].playing = True
    app.button("reset")
    assert app.state.epoch == 0 and not app.controls["epoch"].playing
    np.testing.assert_array_equal(heat(app), initial)


def test_training_is_a_pure_function_of_config_and_epoch():
    config = PlaygroundConfig(dataset="xor", hidden=(5, 3), batch_size=7, dropout=0.1)
    run = train_to(config, 30)
    run = train_to(config, 60, run)
    fresh = train_to(config, 60)
    for W_a, W_b in zip(run.net.weights, fresh.net.weights):
        np.testing.assert_array_equal(W_a, W_b)
    assert run.train_loss == fresh.train_loss
    # going back replays from the seed
    back = train_to(config, 10, run)
    np.testing.assert_array_equal(back.net.weights[0], train_to(config, 10).net.weights[0])


def test_a_new_configuration_starts_again_paused_at_epoch_0(app):
    app.controls["epoch"].value = 20
    app.controls["epoch"].playing = True
    app.controls["dataset"].value = "moons"
    assert app.state.epoch == 0 and app.run.epoch == 0 and not app.controls["epoch"].playing
    assert app.run.config.dataset == "moons"
    X_tr = make_data("moons", 0.0, 0.5, 0)[0]
    np.testing.assert_allclose(np.column_stack(app.points["train", 0].get_data()),
                               X_tr[make_data("moons", 0.0, 0.5, 0)[2] == 0])


def test_layer_and_neuron_buttons_change_the_network(app):
    assert app.run.net.sizes == [2, 4, 2, 1]
    app.button("add_layer")
    assert app.run.net.sizes == [2, 4, 2, 2, 1]
    app.button("add_neuron_1")
    app.button("add_neuron_1")
    app.button("remove_neuron_2")
    assert app.run.net.sizes == [2, 6, 1, 2, 1]
    for _ in range(3):
        app.button("remove_neuron_2")           # stays at one neuron
    assert app.run.net.sizes == [2, 6, 1, 2, 1]
    app.button("remove_layer")
    app.button("remove_layer")
    assert app.run.net.sizes == [2, 6, 1]
    # one line per weight, coloured by sign, as wide as the weight is large
    sizes = app.run.net.sizes
    assert len(app.weight_lines.get_segments()) == sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    w = np.concatenate([W.T.ravel() for W in app.run.net.weights])
    colors = app.weight_lines.get_colors()
    np.testing.assert_allclose(colors[w > 0], [to_rgba(pg.BLUE)] * int(np.sum(w > 0)))
    np.testing.assert_allclose(colors[w < 0], [to_rgba(pg.ORANGE)] * int(np.sum(w < 0)))
    widths = np.asarray(app.weight_lines.get_linewidths())
    order = np.argsort(np.abs(w))
    assert np.all(np.diff(widths[order]) >= 0)
    # no hidden layer: logistic regression, a straight decision boundary
    app.button("remove_layer")
    assert app.run.net.sizes == [2, 1]


def test_neuron_heatmaps_are_the_activations(app):
    app.controls["epoch"].value = 30
    maps = neuron_maps(app.run.net, 8)
    assert [m.shape for m in maps] == [(2, 8, 8), (4, 8, 8), (2, 8, 8), (1, 8, 8)]
    # the input maps are x_1 and x_2 themselves (scaled), varying along their own axis only
    np.testing.assert_allclose(maps[0][0], np.tile(np.linspace(-WINDOW, WINDOW, 8), (8, 1)) / pg.INPUT_SCALE)
    # layer 1 neuron j is tanh(W1[j] x + b1[j])
    X = pg.plane(8) / pg.INPUT_SCALE
    a1 = np.tanh(X @ app.run.net.weights[0].T + app.run.net.biases[0])
    np.testing.assert_allclose(maps[1].reshape(4, -1), a1.T)
    # the diagram's image holds one opaque square per neuron
    image = app.neuron_image.get_array()
    n_neurons = sum(app.run.net.sizes)
    assert (np.asarray(image)[..., 3] > 0).sum() == n_neurons * app.cell ** 2


def test_display_switches_do_not_retrain(app):
    app.controls["epoch"].value = 40
    run = app.run
    weights = run.net.weights[0].copy()
    assert not app.points["test", 0].get_visible()
    app.controls["show_test"].value = True
    assert app.points["test", 0].get_visible() and app.points["test", 1].get_visible()
    app.controls["discretize"].value = True
    colours = np.unique(heat(app).reshape(-1, 4), axis=0)
    assert len(colours) <= 2
    assert app.run is run and app.run.epoch == 40
    np.testing.assert_array_equal(app.run.net.weights[0], weights)


def test_penalties_shrink_the_weights():
    base = PlaygroundConfig(hidden=(8, 8), learning_rate=0.1)
    plain = train_to(base, 100)
    l2 = train_to(PlaygroundConfig(hidden=(8, 8), learning_rate=0.1, regularization="L2", reg_rate=0.03), 100)
    l1 = train_to(PlaygroundConfig(hidden=(8, 8), learning_rate=0.1, regularization="L1", reg_rate=0.01), 100)

    def norm(run, p):
        return sum(np.sum(np.abs(W) ** p) for W in run.net.weights)

    assert norm(l2, 2) < 0.7 * norm(plain, 2)
    small = lambda run: sum(np.sum(np.abs(W) < 0.02) for W in run.net.weights)  # noqa: E731
    assert small(l1) > small(plain) + 5


def test_too_large_learning_rate_diverges_and_pauses(app):
    app.set(learning_rate=10.0, layers=2, neurons_1=8, neurons_2=8)
    app.controls["epoch"].playing = True
    app.controls["epoch"].value = 30
    assert app.run.diverged_at is not None and app.run.epoch == app.run.diverged_at < 30
    assert app.run.train_loss[-1] > 10 * app.run.train_loss[0]
    assert not app.controls["epoch"].playing
    assert "diverged" in app.info.value
    # the default learning rate does not
    app.controls["learning_rate"].value = 0.03
    app.controls["epoch"].value = 30
    assert app.run.diverged_at is None and app.run.epoch == 30


def test_a_loss_that_is_not_a_number_ends_the_run_in_that_epoch():
    run = new_run(PlaygroundConfig())
    pg.train_epochs(run, 3)
    run.net.weights[0][0, 0] = np.nan          # what an overflow leaves behind
    pg.train_epochs(run, 5)
    assert run.diverged_at == 4 and run.epoch == 4
    assert len(run.train_loss) == len(run.test_loss) == len(run.test_accuracy) == 5
    assert np.isnan(run.train_loss[-1]) and np.isfinite(run.train_loss[:4]).all()
    pg.train_epochs(run, 5)                     # a diverged run stays where it diverged
    assert run.epoch == 4
    assert "diverged in epoch 4" in pg.PlaygroundApp.describe(run)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_every_dataset_is_two_classes_inside_the_window(name):
    X_tr, X_te, y_tr, y_te = make_data(name, 0.0, 0.5, 0)
    X = np.vstack([X_tr, X_te])
    assert X.shape == (pg.N_SAMPLES, 2) and len(X_tr) == pg.N_SAMPLES // 2
    assert set(np.unique(np.concatenate([y_tr, y_te]))) == {0, 1}
    assert 4.0 < np.abs(X).max() < WINDOW
    noisy = make_data(name, 0.2, 0.5, 0)[0]
    assert 0.1 < np.std(noisy - X_tr) < 2.0


def test_errors_in_a_callback_are_shown(app, monkeypatch):
    app.raise_errors = False

    def broken(config, epoch, run=None):
        raise FloatingPointError("the training loss became nan")

    monkeypatch.setattr(pg, "train_to", broken)
    app.button("step")
    assert isinstance(app.last_error, FloatingPointError)
    assert "the training loss became nan" in app.status.value


def test_bad_configuration_names_the_argument():
    with pytest.raises(ValueError, match="dataset must be one of"):
        new_run(PlaygroundConfig(dataset="swirl"))
    with pytest.raises(ValueError, match="hidden must list at most"):
        new_run(PlaygroundConfig(hidden=(9,)))
    with pytest.raises(ValueError, match="epoch must be a whole number"):
        train_to(PlaygroundConfig(), -1)
