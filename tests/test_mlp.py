"""course.MLP: the slides' worked examples, gradients against central differences and torch, training, errors."""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import course
from course import gradcheck
from course.optim import GradientDescent
from tests.helpers import torch_mlp_grads


# ------------------------------------------------------------------ worked examples of the slides
def test_forward_example_000_relu_3_2_1():
    """Slides 000: the 3-2-1 ReLU network, x = [0.6, -1.1, 0.2], y = 0.3."""
    net = course.MLP.from_weights([[[0.7, -0.4, 0.1], [0.05, 0.9, -0.3]], [1.2, -0.8]],
                                  [[-0.2, 0.1], 0.05], activation="relu")
    y_hat = net.forward([0.6, -1.1, 0.2])
    np.testing.assert_allclose(net.z[0], [[0.68, -0.92]], atol=1e-12)
    np.testing.assert_allclose(net.a[1], [[0.68, 0.0]], atol=1e-12)
    np.testing.assert_allclose(y_hat, [0.866], atol=1e-12)
    assert round(net.loss_value([0.6, -1.1, 0.2], [0.3]), 6) == 0.160178


def _square_net():
    return course.MLP.from_weights([[[1, -3], [-2, 1]], [2, -1]], activation="square",
                                   output_activation="square", train_biases=False)


def test_forward_backward_example_001_square_activation():
    """Slides 001: sigma(z) = z^2, no bias, x = (3, 2), y = 1."""
    net = _square_net()
    assert net.train_biases is False
    y_hat = net.forward([3.0, 2.0])
    np.testing.assert_array_equal(net.z[0], [[-3, -4]])
    np.testing.assert_array_equal(net.a[1], [[9, 16]])
    np.testing.assert_array_equal(net.z[1], [[2]])
    np.testing.assert_array_equal(y_hat, [4])
    dW, _ = net.backward(1.0)
    np.testing.assert_array_equal(net.deltas[1], [[12]])
    np.testing.assert_array_equal(net.deltas[0], [[-144, 96]])
    # The slide prints 108 for dC/dw_22^(1); it is 96 * x_2 = 96 * 2 = 192 (its own update uses 192).
    np.testing.assert_array_equal(dW[0], [[-432, -288], [288, 192]])
    assert dW[0][1, 1] != 108
    np.testing.assert_array_equal(dW[1], [[108, 192]])
    GradientDescent(learning_rate=0.001).step(net.parameters(), dW)
    np.testing.assert_allclose(net.weights[0], [[1.432, -2.712], [-2.288, 0.808]], atol=1e-12)
    np.testing.assert_allclose(net.weights[1], [[1.892, -1.192]], atol=1e-12)


def test_homework_example_001_step_activation():
    """Slides 001 homework: x = 3, step activation everywhere: output 1."""
    net = course.MLP.from_weights([[[1], [3]], [[1, 0], [-2, 1]], [-1, 1]], [[1, 0], [-2, 2], 1],
                                  activation="step", output_activation="step")
    assert net.forward([3.0]).tolist() == [1.0]
    np.testing.assert_array_equal(net.a[1], [[1, 1]])  # z1 = (4, 9)
    np.testing.assert_array_equal(net.a[2], [[0, 1]])  # z2 = (-1, 1)


@pytest.mark.parametrize("sizes, expected", [
    ([2, 300, 300, 1], 91_501), ([2] + [150] * 5 + [1], 91_201), ([2] + [800] * 5 + [1], 2_566_401),
    ([2, 100, 100, 1], 10_501), ([2] + [100] * 5 + [1], 40_801), ([2] + [100] * 10 + [1], 91_301)])
def test_parameter_counts_001(sizes, expected):
    assert course.count_parameters(sizes) == expected
    assert course.MLP(sizes).n_parameters == expected


# ------------------------------------------------------------------ gradients of random networks
ACTS = ["sigmoid", "tanh", "relu", "leaky_relu", "elu", "selu", "gelu", "swish", "softplus", "identity", "square"]


@st.composite
def networks(draw):
    depth = draw(st.integers(1, 4))
    sizes = [draw(st.integers(1, 5)) for _ in range(depth + 1)]
    hidden = [draw(st.sampled_from(ACTS)) for _ in range(depth - 1)]
    loss, out = draw(st.sampled_from([("half_mse", "identity"), ("mse", "tanh"), ("half_mse", "sigmoid"),
                                      ("binary_cross_entropy", "sigmoid"), ("softmax_cross_entropy", "identity")]))
    if loss == "softmax_cross_entropy":
        sizes[-1] = max(2, sizes[-1])
    seed = draw(st.integers(0, 2**31))
    m = draw(st.integers(1, 7))
    net = course.MLP(sizes, activation=hidden, output_activation=out, loss=loss, seed=seed)
    rng = np.random.default_rng(seed)
    for b in net.biases:
        b[:] = rng.normal(0, 0.5, b.shape)
    X = rng.standard_normal((m, sizes[0]))
    if loss == "binary_cross_entropy":
        y = rng.integers(0, 2, (m, sizes[-1])).astype(float)
    elif loss == "softmax_cross_entropy":
        y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    else:
        y = rng.standard_normal((m, sizes[-1]))
    return net, X, y


@given(case=networks())
@settings(max_examples=60, deadline=None)
def test_random_networks_match_torch_autograd(case):
    net, X, y = case
    out = net.forward(X)
    if net.loss.name == "binary_cross_entropy":  # saturated probabilities: both libraries clamp, differently
        assume(np.all((out > 1e-9) & (out < 1 - 1e-9)))
    dW, db = net.backward(y)
    t_out, t_loss, t_dW, t_db = torch_mlp_grads(net, X, y)
    np.testing.assert_allclose(out, t_out, rtol=1e-10, atol=1e-12)
    assert net.loss_value(X, y) == pytest.approx(t_loss, rel=1e-10, abs=1e-12)
    for ours, theirs in zip(dW + db, t_dW + t_db):
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-10)


@given(case=networks())
@settings(max_examples=30, deadline=None)
def test_random_networks_match_central_differences(case):
    net, X, y = case
    # Piecewise-linear activations have kinks where central differences are undefined: nudge z off them.
    out = net.forward(X)
    if any(np.any(np.abs(z) < 1e-4) for z in net.z):
        return
    # Cross-entropy of a probability within q of 0 or 1: log(1 - p) carries the round-off of p, relative
    # eps / q, and central differences divide it by h = 1e-6, so for q below ~1e-3 their error exceeds the
    # 1e-5 tolerance (backpropagation stays exact there; the torch test above checks it). Keep q >= 1e-2.
    if net.loss.name == "binary_cross_entropy":
        assume(np.all((out > 1e-2) & (out < 1 - 1e-2)))
    gradcheck.check_mlp(net, X, y, rtol=1e-5)  # raises GradientCheckError naming the entry


def test_deltas_are_dC_dz_and_gradients_are_their_outer_products(rng):
    net = course.MLP([3, 4, 2], activation="tanh", seed=1)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    net.forward(X)
    dW, db = net.backward(y)
    assert [d.shape for d in net.deltas] == [(5, 4), (5, 2)]
    np.testing.assert_allclose(dW[0], net.deltas[0].T @ X)
    np.testing.assert_allclose(db[1], net.deltas[1].sum(axis=0))
    # delta^(L) = dC/da * sigma'(z): identity output, half MSE => (y_hat - y)/m
    np.testing.assert_allclose(net.deltas[1], (net.a[2] - y) / 5)


def test_dropout_backward_uses_the_same_mask(rng):
    net = course.MLP([3, 6, 1], activation="tanh", seed=2)
    X, y = rng.standard_normal((4, 3)), rng.standard_normal(4)
    net.forward(X, dropout=0.5, rng=np.random.default_rng(0))
    mask = net.dropout_masks[0].copy()
    dW, _ = net.backward(y)
    assert np.any(mask == 0) and np.any(mask == 2.0)

    def loss_with_fixed_mask():
        a1 = np.tanh(X @ net.weights[0].T + net.biases[0]) * mask
        return 0.5 * np.sum((a1 @ net.weights[1].T + net.biases[1] - y[:, None]) ** 2) / 4

    gradcheck.check_gradient(dW[0], gradcheck.numerical_gradient(loss_with_fixed_mask, net.weights[0]), "W^(1)")


# ------------------------------------------------------------------ training
def test_fit_learns_xor_and_moons():
    X, y = course.datasets.logic_gate("xor")
    net = course.MLP([2, 8, 1], activation="tanh", output_activation="sigmoid", loss="bce", seed=0)
    history = net.fit(X, y, epochs=500, optimizer="adam", learning_rate=0.05)
    assert history.train_loss[-1] < 0.05 < history.train_loss[0]
    np.testing.assert_array_equal((net.predict(X)[:, 0] > 0.5).astype(float), y)

    X, y = course.datasets.moons(200, noise=0.1, seed=3)
    X_tr, X_te, y_tr, y_te = course.datasets.train_test_split(X, y, 0.25, seed=0)
    net = course.MLP([2, 16, 16, 1], activation="relu", output_activation="sigmoid", loss="bce", seed=0)
    net.fit(X_tr, y_tr, epochs=150, optimizer="adam", learning_rate=0.01, batch_size=16)
    assert np.mean((net.predict(X_te)[:, 0] > 0.5) == y_te) >= 0.95


@pytest.mark.parametrize("batch_size, steps_per_epoch", [(None, 1), (1, 20), (8, 3)])
def test_batch_modes_take_the_right_number_of_steps(batch_size, steps_per_epoch):
    X, y = course.datasets.noisy_sine(20, seed=0)
    net = course.MLP([1, 8, 1], activation="tanh", seed=0)
    opt = course.optim.GradientDescent(0.01)
    net.fit(X, y, epochs=3, optimizer=opt, batch_size=batch_size)
    assert opt.t == 3 * steps_per_epoch


def test_fit_is_deterministic_for_a_seed():
    X, y = course.datasets.noisy_sine(40, seed=1)
    runs = [course.MLP([1, 10, 1], "tanh", seed=7).fit(X, y, 20, "momentum", 0.05, batch_size=8).train_loss
            for _ in range(2)]
    assert runs[0] == runs[1]


def test_l2_shrinks_and_l1_sparsifies_weights():
    X, y = course.datasets.noisy_sine(60, noise=0.2, seed=2)
    norms = {}
    for name, kw in {"none": {}, "l2": {"l2": 0.05}, "l1": {"l1": 0.01}}.items():
        net = course.MLP([1, 30, 1], "tanh", seed=0)
        net.fit(X, y, 300, "adam", 0.01, **kw)
        W = np.concatenate([w.ravel() for w in net.weights])
        norms[name] = (np.sum(W ** 2), np.mean(np.abs(W) < 1e-2))
    assert norms["l2"][0] < 0.5 * norms["none"][0]
    assert norms["l1"][1] > norms["none"][1] + 0.2


def test_early_stopping_restores_the_best_weights():
    X, y = course.datasets.noisy_sine(30, noise=0.4, seed=0)
    X_val, y_val = course.datasets.noisy_sine(30, noise=0.4, seed=1)
    net = course.MLP([1, 64, 64, 1], "relu", seed=0)
    history = net.fit(X, y, 2000, "adam", 0.01, validation_data=(X_val, y_val), early_stopping=20)
    assert history.stopped_early
    assert history.epochs == history.best_epoch + 21
    assert net.loss_value(X_val, y_val) == pytest.approx(min(history.val_loss))
    assert history.val_loss[-1] > min(history.val_loss)


def test_divergence_stops_with_a_hint():
    X, y = course.datasets.noisy_sine(50, seed=0)
    net = course.MLP([1, 5, 1], "identity", seed=0)
    with pytest.raises(FloatingPointError, match="diverged. Try a smaller learning_rate \\(it is 0.5\\)"):
        net.fit(X * 10, y, epochs=500, learning_rate=0.5)
    net = course.MLP([1, 5, 1], "identity", seed=0)
    assert np.isfinite(net.fit(X, y, epochs=50, learning_rate=0.01).train_loss).all()


# ------------------------------------------------------------------ errors a student meets
def test_wrong_number_of_columns_names_the_layer_and_shapes():
    net = course.MLP([3, 4, 1])
    with pytest.raises(ValueError, match=r"layer 1: W\^\(1\) has shape \(4, 3\) and expects 3 inputs per sample, "
                                         r"but X has 2 columns \(shape \(5, 2\)\)"):
        net.forward(np.zeros((5, 2)))
    net.weights[1] = np.zeros((1, 5))
    with pytest.raises(ValueError, match=r"layer 2: W\^\(2\) has shape \(1, 5\).*a\^\(1\) has 4 columns"):
        net.forward(np.zeros((5, 3)))


def test_other_bad_inputs():
    with pytest.raises(ValueError, match="unknown activation 'sigmoidd'.*known activations are"):
        course.MLP([2, 3, 1], activation="sigmoidd")
    with pytest.raises(ValueError, match="sizes must list at least"):
        course.MLP([3])
    with pytest.raises(TypeError, match="X must hold real numbers"):
        course.MLP([2, 1]).forward([["a", "b"]])
    with pytest.raises(RuntimeError, match="call forward\\(X\\) first"):
        course.MLP([2, 1]).backward([1.0])
    with pytest.raises(ValueError, match="one target per output"):
        net = course.MLP([2, 1])
        net.forward(np.zeros((3, 2)))
        net.backward(np.zeros(4))
    with pytest.raises(ValueError, match=r"weights\[1\] \(W\^\(2\)\) has shape \(1, 3\)"):
        course.MLP.from_weights([np.zeros((2, 2)), np.zeros((1, 3))])
    with pytest.raises(ValueError, match="takes logits"):
        course.MLP([2, 3], output_activation="softmax", loss="softmax_cross_entropy")
    with pytest.raises(ValueError, match="pass validation_data"):
        course.MLP([1, 1]).fit(np.zeros((3, 1)), np.zeros(3), early_stopping=5)
    with pytest.raises(ValueError, match="batch_size must be None"):
        course.MLP([1, 1]).fit(np.zeros((3, 1)), np.zeros(3), batch_size=0)
    with pytest.raises(ValueError, match="one target per sample of X \\(3\\), got 2"):
        course.MLP([1, 1]).fit(np.zeros((3, 1)), np.zeros(2))


def test_float32_networks_stay_float32(rng):
    net = course.MLP([3, 5, 2], dtype=np.float32)
    out = net.forward(rng.standard_normal((4, 3)))
    dW, db = net.backward(rng.standard_normal((4, 2)))
    assert out.dtype == np.float32 and all(g.dtype == np.float32 for g in dW + db)


# ------------------------------------------------------------------ the public hooks the widgets drive
def test_named_parameters_and_state_dict():
    net = course.MLP([2, 3, 1], seed=0)
    names = [name for name, _ in net.named_parameters()]
    assert names == ["W1", "W2", "b1", "b2"]
    assert all(p is q for (_, p), q in zip(net.named_parameters(), net.parameters()))
    state = net.state_dict()
    net.weights[0] += 1.0
    net.load_state_dict(state)
    np.testing.assert_array_equal(net.weights[0], state["W1"])
    frozen = course.MLP.from_weights([[[1.0, 2.0]]], train_biases=False)
    assert [name for name, _ in frozen.named_parameters()] == ["W1"] and frozen.n_parameters == 2
    with pytest.raises(ValueError, match="state must hold exactly"):
        net.load_state_dict({"W1": state["W1"]})


def test_fit_continues_where_it_stopped_and_callbacks_can_stop_it():
    X, y = course.datasets.noisy_sine(40, noise=0.1, seed=0)
    once = course.MLP([1, 8, 1], activation="tanh", seed=1)
    h_once = once.fit(X, y, epochs=6, optimizer=course.optim.Adam(0.01))
    twice = course.MLP([1, 8, 1], activation="tanh", seed=1)
    opt = course.optim.Adam(0.01)
    history = twice.fit(X, y, epochs=3, optimizer=opt)
    assert twice.fit(X, y, epochs=3, optimizer=opt, history=history) is history
    np.testing.assert_allclose(history.train_loss, h_once.train_loss, rtol=1e-12)
    np.testing.assert_allclose(twice.weights[0], once.weights[0], rtol=1e-12)
    seen = []
    stopped = course.MLP([1, 8, 1], seed=1).fit(X, y, epochs=50,
                                                callback=lambda epoch, h: seen.append(epoch) or epoch < 4)
    assert seen == [0, 1, 2, 3, 4] and stopped.epochs == 5


def test_proximal_l1_sets_weights_exactly_to_zero():
    X, y = course.datasets.noisy_sine(40, noise=0.1, seed=0)
    prox = course.MLP([1, 16, 1], activation="tanh", seed=0)
    prox.fit(X, y, epochs=200, optimizer="adam", learning_rate=0.01, l1=0.01, l1_method="proximal")
    sub = course.MLP([1, 16, 1], activation="tanh", seed=0)
    sub.fit(X, y, epochs=200, optimizer="adam", learning_rate=0.01, l1=0.01)
    zeros = lambda net: sum(int(np.sum(W == 0)) for W in net.weights)  # noqa: E731
    assert zeros(prox) > 0 and zeros(sub) == 0
    with pytest.raises(ValueError, match="l1_method must be"):
        prox.train_step(X, y, course.optim.Adam(), l1_method="lasso")
