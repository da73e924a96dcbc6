"""The perceptron: the slides' examples, the learning rule, AND/OR learned, XOR impossible."""

import itertools

import numpy as np
import pytest

import course
from course.datasets import logic_gate


def test_swimming_example_004():
    """x = (1, 0, 1), w = (4, 2, 4), b = -3: z = 5, output 1 (go swimming)."""
    p = course.Perceptron(3)
    p.weights[:] = [-3, 4, 2, 4]
    assert p.net_input([1, 0, 1]).tolist() == [5.0]
    assert p.predict([1, 0, 1]).tolist() == [1.0]
    assert p.predict([0, 1, 0]).tolist() == [0.0]  # z = -1
    q = course.Perceptron.from_weights([4, 2, 4], b=-3)
    np.testing.assert_array_equal(q.weights, p.weights)
    assert q.w.tolist() == [4, 2, 4] and q.b == -3


def test_one_update_is_the_slides_rule():
    """Delta w = alpha/N sum_k (y^k - y_hat^k) x^k with x_0 = 1 for the bias."""
    X, y = logic_gate("and")
    p = course.Perceptron(2, learning_rate=0.5)  # zero weights: every y_hat = step(0) = 1
    errors = p.update(X, y)
    assert errors == 3
    # error = y - 1 = (-1, -1, -1, 0); Delta w = 0.5/4 * sum error * (1, x1, x2)
    np.testing.assert_allclose(p.weights, 0.5 / 4 * np.array([-3, -1, -1]))


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
@pytest.mark.parametrize("seed", [None, 0, 1, 2])
def test_learns_linearly_separable_gates(gate, seed):
    X, y = logic_gate(gate)
    p = course.Perceptron(2, learning_rate=0.2, seed=seed)
    history = p.fit(X, y, epochs=100)
    assert p.score(X, y) == 1.0
    assert history.train_loss[-1] == 0 and history.epochs == 100


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("learning_rate", [0.01, 0.1, 1.0])
def test_xor_never_exceeds_75_percent(seed, learning_rate):
    X, y = logic_gate("xor")
    p = course.Perceptron(2, learning_rate=learning_rate, seed=seed)
    for _ in range(200):
        p.update(X, y)
        assert p.score(X, y) <= 0.75


def test_no_line_separates_xor():
    """A grid of (w1, w2, b): the best any straight line does on XOR is 3 of 4 points."""
    X, y = logic_gate("xor")
    grid = np.linspace(-2, 2, 21)
    best = max(np.mean(((X @ [w1, w2] + b) >= 0) == y) for w1, w2, b in itertools.product(grid, grid, grid))
    assert best == 0.75


def test_linear_activation_is_gradient_descent_on_half_mse():
    """With g(z) = z the rule is exact gradient descent on L(w) = 1/(2N) sum (y - w^T x)^2."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 2))
    y = X @ [1.5, -2.0] + 0.5
    p = course.Perceptron(2, activation="linear", learning_rate=0.1)
    history = p.fit(X, y, epochs=500)
    np.testing.assert_allclose(p.weights, [0.5, 1.5, -2.0], atol=1e-6)
    assert history.train_loss[0] > history.train_loss[-1]
    assert p.b == pytest.approx(0.5, abs=1e-6)


def test_fit_continues_from_the_current_weights():
    X, y = logic_gate("and")
    once = course.Perceptron(2, learning_rate=0.5)
    once.fit(X, y, epochs=6)
    twice = course.Perceptron(2, learning_rate=0.5)
    twice.fit(X, y, epochs=3)
    twice.fit(X, y, epochs=3)
    np.testing.assert_array_equal(once.weights, twice.weights)


def test_errors():
    with pytest.raises(ValueError, match="n_inputs = 2 columns, got shape \\(1, 3\\)"):
        course.Perceptron(2).predict([[0, 1, 1]])
    with pytest.raises(ValueError, match="learning_rate must be a positive number, got -1"):
        course.Perceptron(2, learning_rate=-1)
    with pytest.raises(ValueError, match="unknown activation"):
        course.Perceptron(2, activation="stepp")
    with pytest.raises(ValueError, match="n_inputs must be a whole number >= 1, got 0"):
        course.Perceptron(0)
    with pytest.raises(ValueError, match="one label per row"):
        course.Perceptron(2).fit(np.zeros((4, 2)), np.zeros(3))
