"""Every worked-example number that lectures 01-05 show, recomputed by the library.

The lectures reproduce the slides' examples (and name the slides' errors); these tests pin the
library to those numbers so that a change in the library cannot silently change a lecture.
Grouped by lecture; all fast (no training longer than a fraction of a second).
"""

import numpy as np
import pytest

import course
from course import activations, datasets, losses
from course.gradcheck import numerical_gradient


# ---------------------------------------------------------------- lecture 1: machine learning
def test_mse_and_half_mse_hand_example():
    y, y_hat = np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])
    assert losses.mse.value(y_hat, y) == pytest.approx(1.25 / 3)
    assert losses.half_mse.value(y_hat, y) == pytest.approx(1.25 / 6)
    np.testing.assert_allclose(losses.half_mse.grad(y_hat, y).ravel(), [0.5 / 3, 0.0, -1.0 / 3])


def test_lecture1_split_sizes_and_polynomial_capacity():
    X, y = datasets.noisy_sine(n_samples=60, noise=0.2, seed=1)
    X_tr, X_va, X_te, y_tr, y_va, y_te = datasets.train_val_test_split(X, y, 0.2, 0.2, seed=0)
    assert (len(X_tr), len(X_va), len(X_te)) == (36, 12, 12)

    def design(X, d):
        return np.vander(X[:, 0] / np.pi - 1.0, d + 1, increasing=True)

    val = []
    for d in range(16):
        w = np.linalg.lstsq(design(X_tr, d), y_tr, rcond=None)[0]
        val.append(np.mean((y_va - design(X_va, d) @ w) ** 2))
    assert int(np.argmin(val)) == 3                      # the degree the lecture picks
    assert val[15] > 10 * val[3]                         # overfitting of degree 15


def test_ridge_solution_has_zero_regularised_gradient():
    rng = np.random.default_rng(0)
    Phi = np.column_stack([np.ones(30), rng.normal(size=(30, 5))])
    y = rng.normal(size=30)
    lam = 1e-2
    D = np.eye(6)
    D[0, 0] = 0.0
    w = np.linalg.solve(Phi.T @ Phi + 30 * lam * D, Phi.T @ y)
    grad = Phi.T @ losses.half_mse.grad(Phi @ w, y).ravel()
    grad[1:] += course.regularization.l2_grad(w[1:], lam)
    np.testing.assert_allclose(grad, 0.0, atol=1e-12)


# ---------------------------------------------------------------- lecture 2: perceptron
def test_swimming_example_deck_004():
    net = course.MLP.from_weights([[4.0, 2.0, 4.0]], [-3.0], output_activation="step")
    assert net.forward([1.0, 0.0, 1.0]).item() == 1.0
    assert net.z[0].item() == 5.0
    p = course.Perceptron(3)
    p.weights[:] = [-3.0, 4.0, 2.0, 4.0]
    assert p.net_input([1.0, 0.0, 1.0]).item() == 5.0 and p.predict([1.0, 0.0, 1.0]).item() == 1.0
    # the whole truth table: swim whenever the water is warm or there was no shark attack
    X = np.array([[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)], dtype=float)
    np.testing.assert_array_equal(net.forward(X).ravel(), ((X[:, 0] + X[:, 2]) > 0).astype(float))


def test_concert_example_with_bias():
    net = course.MLP.from_weights([[-6.0, -0.02, 1.0]], [-4.0], output_activation="step")
    evenings = np.array([[0, 50, 8], [1, 50, 8], [0, 300, 8], [0, 250, 10], [0, 0, 3.5]], dtype=float)
    np.testing.assert_array_equal(net.forward(evenings).ravel(), [1, 0, 0, 1, 0])
    np.testing.assert_allclose(net.z[0].ravel(), [3.0, -3.0, -2.0, 1.0, -0.5])


def test_learning_rule_is_minus_alpha_gradient_for_linear_activation():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(8, 3)), rng.normal(size=8)
    p = course.Perceptron(3, activation="identity", learning_rate=0.1, seed=1)
    w0 = p.weights.copy()

    def loss(w):
        p.weights = w
        return losses.half_mse.value(p.predict(X), y)

    grad = numerical_gradient(loss, w0.copy())
    p.weights = w0.copy()
    p.update(X, y)
    np.testing.assert_allclose(p.weights - w0, -0.1 * grad, atol=1e-9)


def test_perceptron_learns_and_but_not_xor():
    X, y = datasets.logic_gate("and")
    p = course.Perceptron(2, learning_rate=0.5)
    history = p.fit(X, y, epochs=30)
    assert p.score(X, y) == 1.0 and history.train_loss[-1] == 0
    first = course.Perceptron(2, learning_rate=0.5)
    first.update(X, y)
    np.testing.assert_allclose(first.weights, [-0.375, -0.125, -0.125])
    Xx, yx = datasets.logic_gate("xor")
    px = course.Perceptron(2, learning_rate=0.5, seed=0)
    assert min(px.fit(Xx, yx, epochs=200).train_loss) > 0


def test_no_line_classifies_xor():
    X, y = datasets.logic_gate("xor")
    g = np.linspace(-3, 3, 61)
    W1, W2, B = np.meshgrid(g, g, g, indexing="ij")
    correct = sum(((W1 * a + W2 * b + B >= 0) == bool(t)).astype(int) for (a, b), t in zip(X, y))
    assert correct.max() == 3


def test_two_layer_step_network_solves_xor():
    net = course.MLP.from_weights([[[1.0, 1.0], [-1.0, -1.0]], [1.0, 1.0]], [[-0.5, 1.5], [-1.5]],
                                  activation="step", output_activation="step")
    X, y = datasets.logic_gate("xor")
    np.testing.assert_array_equal(net.forward(X).ravel(), y)


# ---------------------------------------------------------------- lecture 3: forward propagation
def test_forward_pass_deck_000():
    net = course.MLP.from_weights([[[0.7, -0.4, 0.1], [0.05, 0.9, -0.3]], [1.2, -0.8]], [[-0.2, 0.1], [0.05]],
                                  activation="relu")
    x = np.array([0.6, -1.1, 0.2])
    y_hat = net.forward(x).item()
    np.testing.assert_allclose(net.z[0][0], [0.68, -0.92], atol=1e-12)
    np.testing.assert_allclose(net.a[1][0], [0.68, 0.0], atol=1e-12)
    assert y_hat == pytest.approx(0.866, abs=1e-12)
    assert net.loss_value(x[None, :], [0.3]) == pytest.approx(0.160178, abs=1e-12)   # 1/2 (y_hat - y)^2
    assert losses.mse.value([y_hat], [0.3]) == pytest.approx(0.320356, abs=1e-12)    # the actual MSE


def test_forward_pass_deck_001_square_activation():
    net = course.MLP.from_weights([[[1, -3], [-2, 1]], [[2, -1]]], activation="square", output_activation="square")
    assert net.forward([3.0, 2.0]).item() == 4.0
    np.testing.assert_array_equal(net.z[0][0], [-3, -4])
    np.testing.assert_array_equal(net.a[1][0], [9, 16])
    assert net.z[1].item() == 2.0


def test_forward_pass_deck_001_homework_step():
    net = course.MLP.from_weights([[[1], [3]], [[1, 0], [-2, 1]], [[-1, 1]]], [[1, 0], [-2, 2], [1]],
                                  activation="step", output_activation="step")
    assert net.forward([3.0]).item() == 1.0
    np.testing.assert_array_equal(net.z[0][0], [4, 9])
    np.testing.assert_array_equal(net.a[1][0], [1, 1])
    np.testing.assert_array_equal(net.z[1][0], [-1, 1])
    np.testing.assert_array_equal(net.a[2][0], [0, 1])
    assert net.z[2].item() == 2.0


def test_vectorised_forward_equals_loop_and_column_form():
    rng = np.random.default_rng(0)
    W, b = np.array([[0.7, -0.4, 0.1], [0.05, 0.9, -0.3]]), np.array([-0.2, 0.1])
    net = course.MLP.from_weights([W, [1.2, -0.8]], [b, [0.05]], activation="relu")
    X = rng.normal(size=(5, 3))
    net.forward(X)
    np.testing.assert_allclose(net.z[0], np.array([W @ x + b for x in X]))
    np.testing.assert_allclose(net.z[0], (W @ X.T + b[:, None]).T)


def test_linear_layers_collapse_to_one():
    rng = np.random.default_rng(0)
    deep = course.MLP([4, 8, 8, 3], activation="identity", seed=1)
    for b in deep.biases:
        b[:] = rng.normal(size=b.shape)
    W_eff, b_eff = np.eye(4), np.zeros(4)
    for W, b in zip(deep.weights, deep.biases):
        W_eff, b_eff = W @ W_eff, W @ b_eff + b
    X = rng.normal(size=(6, 4))
    one = course.MLP.from_weights([W_eff], [b_eff])
    np.testing.assert_allclose(deep.forward(X), one.forward(X), atol=1e-12)


@pytest.mark.parametrize("depth, width, expected", [(2, 300, 91_501), (5, 150, 91_201), (5, 800, 2_566_401),
                                                    (2, 100, 10_501), (5, 100, 40_801), (10, 100, 91_301)])
def test_parameter_counts_deck_001(depth, width, expected):
    assert course.count_parameters([2] + [width] * depth + [1]) == expected


def test_parameter_count_matches_a_built_network():
    assert course.MLP([2] + [150] * 5 + [1]).n_parameters == 91_201
    assert course.count_parameters([3, 2, 1]) == 11


# ---------------------------------------------------------------- lecture 4: activation functions
def test_softmax_example_deck_004():
    z = np.array([1.3, 5.1, 2.2, 0.7, 1.1])
    assert np.exp(z).sum() == pytest.approx(181.73, abs=0.005)          # the slide's 181.73, not 181.37
    s = activations.softmax.f(z)
    np.testing.assert_allclose(np.round(s, 2), [0.02, 0.90, 0.05, 0.01, 0.02])
    assert s[0] == pytest.approx(np.exp(1.3) / 181.734, rel=1e-4)
    assert s[0] == pytest.approx(0.0202, abs=5e-5)
    np.testing.assert_allclose(activations.softmax.f(z + 1000.0), s)
    np.testing.assert_allclose(activations.softmax.jacobian(z).sum(axis=1), 0.0, atol=1e-15)


def test_activation_facts_used_in_lecture_4():
    sig, tanh = activations.sigmoid, activations.tanh
    z = np.linspace(-4, 4, 801)
    assert sig.df(0.0) == pytest.approx(0.25) and np.all(sig.df(z) <= 0.25)
    assert tanh.df(0.0) == pytest.approx(1.0)
    np.testing.assert_allclose(tanh.f(z), 2 * sig.f(2 * z) - 1, atol=1e-14)
    swish = activations.get("swish")
    i = np.argmin(swish.f(z))
    assert swish.f(z[i]) == pytest.approx(-0.2785, abs=5e-4) and z[i] == pytest.approx(-1.28, abs=0.01)
    assert activations.elu.f(-20.0) == pytest.approx(-1.0, abs=1e-8)
    assert activations.step.f(0.0) == 1.0 and activations.relu.df(0.0) == 0.0
    np.testing.assert_allclose(activations.softplus.df(z), sig.f(z))
    assert activations.softmax.f(np.array([0.7, 0.0]))[0] == pytest.approx(sig.f(0.7))


def test_sigmoid_gradients_vanish_relu_gradients_do_not():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 8)), rng.normal(size=(64, 1))
    ratios = {}
    for name in ("sigmoid", "relu"):
        net = course.MLP([8] + [32] * 10 + [1], activation=name, seed=0, init="xavier" if name == "sigmoid" else "he")
        net.forward(X)
        dW, _ = net.backward(y)
        ratios[name] = np.linalg.norm(dW[0]) / np.linalg.norm(dW[9])
    assert ratios["sigmoid"] < 1e-3 and ratios["relu"] > 0.05


def test_dead_relu_has_exactly_zero_gradient_leaky_does_not():
    X, y = datasets.noisy_sine(n_samples=50, noise=0.1, seed=0)
    X = X - np.pi
    for name in ("relu", "leaky_relu"):
        net = course.MLP([1, 20, 1], activation=name, seed=0)
        net.biases[0][:5] = -10.0
        net.forward(X)
        dW, db = net.backward(y)
        dead = np.all(net.z[0] <= 0, axis=0)
        assert dead.sum() == 5
        assert (np.abs(dW[0][dead]).max() == 0.0) == (name == "relu")


def test_output_activation_gradients_are_prediction_minus_target():
    z, y = np.array([[2.0, -1.0, 0.5]]), np.array([[0.0, 0.0, 1.0]])
    np.testing.assert_allclose(losses.softmax_cross_entropy.grad(z, y), activations.softmax.f(z) - y)
    zb, yb = np.array([[1.5]]), np.array([[0.0]])
    p = activations.sigmoid.f(zb)
    np.testing.assert_allclose(losses.binary_cross_entropy.grad(p, yb) * activations.sigmoid.df(zb), p - yb)


# ---------------------------------------------------------------- lecture 5: universal approximation
def _interpolating_network(f, knots):
    values = f(knots)
    s = np.diff(values) / np.diff(knots)
    c = np.concatenate([[s[0]], np.diff(s)])
    return course.MLP.from_weights([np.ones((len(knots) - 1, 1)), c], [-knots[:-1], [values[0]]], activation="relu")


def test_hand_built_relu_network_is_the_linear_interpolant():
    f = lambda x: np.sin(x) + 0.3 * np.sin(3 * x)  # noqa: E731
    x = np.linspace(0, 2 * np.pi, 2001)
    errors = []
    for D in (4, 8, 16, 32):
        knots = np.linspace(0, 2 * np.pi, D + 1)
        out = _interpolating_network(f, knots).forward(x[:, None])[:, 0]
        np.testing.assert_allclose(out, np.interp(x, knots, f(knots)), atol=1e-12)
        errors.append(np.abs(out - f(x)).max())
    assert all(e2 < e1 / 2.5 for e1, e2 in zip(errors, errors[1:]))
    # the self-check: x^2 on knots 0, 1, 2 is ReLU(x) + 2 ReLU(x - 1)
    net = _interpolating_network(lambda t: t ** 2, np.array([0.0, 1.0, 2.0]))
    np.testing.assert_allclose(net.weights[1], [[1.0, 2.0]])


def test_square_activation_spans_only_quadratics():
    x = np.linspace(0, 2 * np.pi, 2001)[:, None]
    net = course.MLP([1, 50, 1], activation="square", seed=0)
    net.biases[0][:] = np.random.default_rng(1).normal(size=50)
    net.forward(x)
    H = np.column_stack([np.ones(len(x)), net.a[1]])
    assert np.linalg.matrix_rank(H) == 3


def _sawtooth(K):
    weights = [np.array([[1.0], [1.0]])] + [np.array([[2.0, -4.0], [2.0, -4.0]])] * (K - 1) + [np.array([[2.0, -4.0]])]
    biases = [np.array([0.0, -0.5])] * K + [np.array([0.0])]
    return course.MLP.from_weights(weights, biases, activation="relu")


@pytest.mark.parametrize("K", [1, 3, 6])
def test_sawtooth_has_two_to_the_k_linear_pieces(K):
    n = 100_000
    x = ((np.arange(n) + (np.sqrt(5) - 1) / 2) / n)[:, None]
    net = _sawtooth(K)
    out = net.forward(x)[:, 0]
    pattern = np.hstack([z > 0 for z in net.z[:-1]])
    assert 1 + int(np.any(pattern[1:] != pattern[:-1], axis=1).sum()) == 2 ** K
    # it is the K-fold tent map: values at the dyadic points k / 2^K alternate 0, 1, 0, ...
    ends = _sawtooth(K).forward((np.arange(2 ** K + 1) / 2 ** K)[:, None])[:, 0]
    np.testing.assert_allclose(ends, np.arange(2 ** K + 1) % 2, atol=1e-12)
    assert out.min() >= 0 and out.max() <= 1
