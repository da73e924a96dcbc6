"""Penalties, dropout, Monte Carlo dropout, early stopping and bagging."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import course
from course import regularization as reg
from course.gradcheck import check_gradient, numerical_gradient


@given(seed=st.integers(0, 10_000), l1=st.floats(0, 2), l2=st.floats(0, 2))
@settings(max_examples=40, deadline=None)
def test_penalty_gradients_match_central_differences_and_torch(seed, l1, l2):
    rng = np.random.default_rng(seed)
    Ws = [rng.standard_normal((3, 2)), rng.standard_normal((1, 3))]
    for W in Ws:
        W[np.abs(W) < 1e-3] = 0.5  # |w| has a kink at 0
    value = reg.elastic_net_penalty(Ws, l1, l2)
    tW = [torch.tensor(W, requires_grad=True) for W in Ws]
    t_value = sum(l1 * W.abs().sum() + 0.5 * l2 * (W ** 2).sum() for W in tW)
    t_value.backward()
    assert value == pytest.approx(float(t_value.detach()), rel=1e-12, abs=1e-12)
    for W, t in zip(Ws, tW):
        grad = reg.elastic_net_grad(W, l1, l2)
        np.testing.assert_allclose(grad, t.grad.numpy(), rtol=1e-12, atol=1e-12)
        check_gradient(grad, numerical_gradient(lambda: reg.elastic_net_penalty(Ws, l1, l2), W), "W")


def test_penalties_follow_the_slides():
    W = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert reg.l1_penalty([W], 0.5) == 3.0  # lambda ||w||_1
    assert reg.l2_penalty([W], 0.5) == pytest.approx(0.25 * 14)  # lambda/2 w.w
    np.testing.assert_array_equal(reg.l1_grad(W, 0.5), 0.5 * np.sign(W))
    np.testing.assert_array_equal(reg.l2_grad(W, 0.5), 0.5 * W)
    # one step: w' = w(1 - alpha lambda) - alpha dC/dw
    alpha, lam, dC = 0.1, 0.5, np.ones_like(W)
    np.testing.assert_allclose(W - alpha * (dC + reg.l2_grad(W, lam)), W * (1 - alpha * lam) - alpha * dC)
    with pytest.raises(ValueError, match="lam must be a non-negative number, got -1"):
        reg.l2_penalty([W], -1)


def test_fit_penalises_weights_but_not_biases():
    """With a huge L2 and no data signal, weights go to zero but biases still fit the mean."""
    X = np.random.default_rng(0).standard_normal((50, 2))
    y = np.full(50, 3.0)
    net = course.MLP([2, 1], activation="identity", seed=0)
    net.fit(X, y, epochs=2000, learning_rate=0.05, l2=5.0)
    assert np.abs(net.weights[0]).max() < 1e-3
    assert net.biases[0][0] == pytest.approx(3.0, abs=1e-2)


def test_inverted_dropout_keeps_the_expectation():
    rng = np.random.default_rng(0)
    a = np.ones((2000, 50))
    dropped, mask = reg.dropout_forward(a, 0.3, rng)
    assert set(np.unique(mask)) == {0.0, 1 / 0.7}
    assert np.mean(mask == 0) == pytest.approx(0.3, abs=0.01)
    assert dropped.mean() == pytest.approx(1.0, abs=0.01)
    np.testing.assert_array_equal(reg.dropout_backward(np.ones_like(a), mask), mask)
    with pytest.raises(ValueError, match="dropout rate must be in \\[0, 1\\), got 1.0"):
        reg.dropout_mask((2,), 1.0, rng)


def test_mc_dropout_spread_grows_away_from_the_data():
    X, y = course.datasets.noisy_sine(60, noise=0.05, seed=0, x_range=(0, 3))
    net = course.MLP([1, 64, 64, 1], "relu", seed=0)
    net.fit(X, y, epochs=600, optimizer="adam", learning_rate=0.01, dropout=0.1, batch_size=20)
    mean, std = reg.mc_dropout_predict(net, np.array([[1.5], [8.0]]), rate=0.1, n_passes=200, seed=0)
    assert mean.shape == std.shape == (2, 1)
    assert abs(mean[0, 0] - np.sin(1.5)) < 0.1
    assert std[1, 0] > 5 * std[0, 0]  # far outside the training range [0, 3] the passes disagree
    mean2, std2 = reg.mc_dropout_predict(net, np.array([[1.5], [8.0]]), rate=0.1, n_passes=200, seed=0)
    np.testing.assert_array_equal(std, std2)


def test_early_stopping_object():
    model = course.MLP.from_weights([np.zeros((1, 2))], [np.zeros(1)])
    stopper = reg.EarlyStopping(patience=2)
    losses = [5.0, 3.0, 4.0, 3.5, 1.0]
    stops = []
    for epoch, loss in enumerate(losses):
        model.weights[0][...] = epoch
        stops.append(stopper.update(epoch, loss, model))
    assert stops == [False, False, False, True, False]
    assert stopper.best_epoch == 4  # the update after a stop still records a better loss
    stopper = reg.EarlyStopping(patience=2)
    for epoch, loss in enumerate(losses[:4]):
        model.weights[0][...] = epoch
        if stopper.update(epoch, loss, model):
            break
    stopper.restore(model)
    np.testing.assert_array_equal(model.weights[0], [[1, 1]])
    with pytest.raises(ValueError, match="patience must be a positive whole number"):
        reg.EarlyStopping(patience=0)


def test_bagging_averages_members_trained_on_bootstrap_samples():
    X, y = course.datasets.noisy_sine(80, noise=0.3, seed=0)
    bag = reg.BaggingEnsemble(lambda k: course.MLP([1, 16, 1], "tanh", seed=k), n_models=4, seed=0)
    bag.fit(X, y, epochs=200, optimizer="adam", learning_rate=0.02)
    members = np.stack([m.predict(X) for m in bag.models_])
    np.testing.assert_allclose(bag.predict(X), members.mean(axis=0))
    assert np.all(bag.predict_std(X) > 0)
    idx = reg.bootstrap_indices(1000, np.random.default_rng(0))
    assert 0.6 < len(np.unique(idx)) / 1000 < 0.67  # 1 - 1/e of the samples appear
    with pytest.raises(RuntimeError, match="not fitted yet"):
        reg.BaggingEnsemble(lambda k: None).predict(X)
