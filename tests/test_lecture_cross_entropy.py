"""The numbers of lecture 8's cross-entropy section (and lecture 2's AND boundary), recomputed.

The expected values are the ones printed in lectures/08_training.ipynb, section 2, and
lectures/02_perceptron.ipynb, section 6: binary and categorical cross-entropy as negative
log-likelihoods, the output delta y_hat - y of the canonical pairs (sigmoid + BCE, softmax + CE)
against central differences and the library's backpropagation, and the cost of a saturated start.
"""

import math

import numpy as np
import pytest

import course
from course import activations, losses
from course.gradcheck import numerical_gradient

SIGMOID, SOFTMAX = activations.sigmoid, activations.softmax
BCE, CE, HALF_MSE = losses.binary_cross_entropy, losses.softmax_cross_entropy, losses.half_mse
Z_004 = np.array([[1.3, 5.1, 2.2, 0.7, 1.1]])


def bernoulli_nll(p, y):
    """-1/N sum_i ln p(y_i | x_i) with p(y | x) = p^y (1 - p)^(1 - y), written out."""
    return -np.mean(np.log(p ** y * (1 - p) ** (1 - y)))


def categorical_nll(z, y_onehot):
    """-1/N sum_i ln prod_k softmax(z_i)_k^(y_ik), written out."""
    return -np.mean(np.log(np.prod(SOFTMAX.f(z) ** y_onehot, axis=1)))


def test_swimming_neuron_costs():
    p, y = SIGMOID.f(np.array([[5.0]])), np.array([[0.0]])
    assert f"{p.item():.5f}" == "0.99331"
    assert f"{BCE.value(p, y):.5f}" == "5.00672"
    assert BCE.value(p, y) == pytest.approx(5 + math.log1p(math.exp(-5)), rel=1e-12)
    assert BCE.value(p, y) == pytest.approx(bernoulli_nll(p, y), rel=1e-12)
    assert f"{HALF_MSE.value(p, y):.5f}" == "0.49333"
    delta_bce = (BCE.grad(p, y) * SIGMOID.df(np.array([[5.0]]))).item()
    delta_half = (HALF_MSE.grad(p, y) * SIGMOID.df(np.array([[5.0]]))).item()
    assert delta_bce == pytest.approx(p.item(), rel=1e-12)          # y_hat - y with y = 0
    assert f"{delta_half:.6f}" == "0.006604"
    assert round(delta_bce / delta_half) == 150


def test_softmax_example_cross_entropy():
    y = np.array([[0.0, 0.0, 1.0, 0.0, 0.0]])
    assert f"{CE.value(Z_004, y):.4f}" == "3.0025"
    assert CE.value(Z_004, y) == pytest.approx(categorical_nll(Z_004, y), rel=1e-12)
    assert CE.value(Z_004, np.array([2])) == CE.value(Z_004, y)
    assert f"{CE.value(Z_004, np.array([1])):.4f}" == "0.1025"
    np.testing.assert_allclose(np.round(CE.grad(Z_004, y), 4), [[0.0202, 0.9025, -0.9503, 0.0111, 0.0165]])


def test_two_class_cross_entropy_is_binary_cross_entropy():
    z = np.array([[0.7], [-2.0], [3.1]])
    y = np.array([[1.0], [0.0], [1.0]])
    logits = np.column_stack([z[:, 0], np.zeros(3)])                 # softmax(z, 0)_1 = sigmoid(z)
    onehot = np.column_stack([y[:, 0], 1 - y[:, 0]])
    assert CE.value(logits, onehot) == pytest.approx(BCE.value(SIGMOID.f(z), y), rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_output_delta_is_prediction_minus_target(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(5, 3))
    y_bin = (rng.random((5, 1)) < 0.5).astype(float)
    y_cat = np.eye(3)[rng.integers(0, 3, size=5)]

    net = course.MLP([3, 4, 1], activation="tanh", output_activation="sigmoid", loss="bce", seed=seed)
    net.forward(X)
    net.backward(y_bin)
    np.testing.assert_allclose(net.deltas[-1], (net.a[-1] - y_bin) / 5, rtol=1e-10, atol=1e-15)
    z = net.z[-1].copy()
    np.testing.assert_allclose(numerical_gradient(lambda v: bernoulli_nll(SIGMOID.f(v), y_bin), z),
                               net.deltas[-1], rtol=1e-6, atol=1e-9)
    course.gradcheck.check_mlp(net, X, y_bin)

    net = course.MLP([3, 4, 3], activation="tanh", output_activation="identity", loss="cross_entropy", seed=seed)
    net.forward(X)
    net.backward(y_cat)
    z = net.z[-1].copy()
    np.testing.assert_allclose(net.deltas[-1], (SOFTMAX.f(z) - y_cat) / 5, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(numerical_gradient(lambda v: categorical_nll(v, y_cat), z),
                               net.deltas[-1], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(SOFTMAX.vjp(z, -y_cat / SOFTMAX.f(z) / 5), net.deltas[-1], rtol=1e-10, atol=1e-15)
    course.gradcheck.check_mlp(net, X, y_cat)


def test_half_mse_delta_vanishes_where_bce_delta_does_not():
    z = np.linspace(-12, -4, 9)[:, None]                              # confidently wrong for y = 1
    y = np.ones_like(z)
    p = SIGMOID.f(z)
    delta_bce = len(z) * BCE.grad(p, y) * SIGMOID.df(z)
    delta_half = len(z) * HALF_MSE.grad(p, y) * SIGMOID.df(z)
    np.testing.assert_allclose(delta_bce, p - 1, rtol=1e-6)
    assert np.all(delta_bce < -0.98) and np.all(np.abs(delta_half) < 0.02)


def _epochs_to_learn(loss, alpha, c, seed, target=0.95, max_epochs=1000):
    X, y = course.datasets.gaussians(200, spread=1.0, seed=seed)
    W0 = -c * (1.0 + 0.1 * np.random.default_rng(seed).normal(size=(1, 2)))
    net = course.MLP.from_weights([W0], [[0.0]], output_activation="sigmoid", loss=loss)
    for epoch in range(1, max_epochs + 1):
        net.fit(X, y, epochs=1, optimizer="gd", learning_rate=alpha)
        if np.mean((net.predict(X)[:, 0] > 0.5) == y) >= target:
            return epoch
    return max_epochs


def test_saturated_start_bce_recovers_half_mse_crawls():
    bce = [[_epochs_to_learn("bce", 0.5, c, s) for s in range(3)] for c in (1.0, 2.0)]
    half = [[_epochs_to_learn("half_mse", 2.0, c, s) for s in range(3)] for c in (1.0, 2.0)]
    assert max(max(row) for row in bce) <= 5
    assert min(half[1]) > 10 * max(bce[1]) and np.mean(half[1]) > 3 * np.mean(half[0])


def test_and_perceptron_stops_on_a_sample():
    X, y = course.datasets.logic_gate("and")
    p = course.Perceptron(n_inputs=2, learning_rate=0.5)
    p.fit(X, y, epochs=30)
    np.testing.assert_array_equal(p.weights, [-0.25, 0.125, 0.125])
    np.testing.assert_array_equal(p.net_input(X), [-0.25, -0.125, -0.125, 0.0])    # (1, 1) on the line
    assert p.score(X, y) == 1.0 and activations.step.f(0.0) == 1.0
    # the same rule with step(0) = 0 stops on the line x1 + x2 = 1, through (0, 1) and (1, 0)
    Xb = np.column_stack([np.ones(4), X])
    w = np.zeros(3)
    for _ in range(30):
        z = Xb @ w
        y_hat = (z > 0).astype(float)
        if np.all(y_hat == y):
            break
        w = w + 0.5 / 4 * Xb.T @ (y - y_hat)
    np.testing.assert_array_equal(w, [-0.125, 0.125, 0.125])
    np.testing.assert_array_equal(Xb @ w, [-0.125, 0.0, 0.0, 0.125])
