"""The gradient checker itself: it accepts right gradients and explains wrong ones."""

import numpy as np
import pytest

import course
from course.gradcheck import GradientCheckError, check_gradient, check_mlp, numerical_gradient


def test_central_differences_of_known_functions():
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(numerical_gradient(lambda v: np.sum(np.sin(v)), x), np.cos(x), rtol=1e-9)
    np.testing.assert_array_equal(x, [0.5, -1.0, 2.0])  # restored after perturbation
    W = np.array([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_allclose(numerical_gradient(lambda: np.sum(W ** 3), W), 3 * W ** 2, rtol=1e-8)


def test_a_wrong_gradient_is_explained_to_the_student():
    numeric = np.array([[1.0, 2.0], [3.0, 4.0]])
    wrong = numeric.copy()
    wrong[1, 0] = 3.5
    with pytest.raises(GradientCheckError) as info:
        check_gradient(wrong, numeric, "W^(2)")
    msg = str(info.value)
    assert "gradient of W^(2) is wrong at entry (1, 0)" in msg
    assert "backpropagation gave 3.5" in msg and "central differences expected 3" in msg
    assert "1 of 4 entries disagree" in msg
    with pytest.raises(GradientCheckError, match="has shape \\(2,\\), but W has shape \\(2, 2\\)"):
        check_gradient(np.zeros(2), numeric, "W")


def test_check_mlp_catches_a_broken_backward(rng):
    net = course.MLP([3, 4, 2], activation="tanh", seed=0)
    X, y = rng.standard_normal((5, 3)), rng.standard_normal((5, 2))
    assert check_mlp(net, X, y) < 1e-6
    original = net.backward

    def broken(target):
        dW, db = original(target)
        dW[0] = dW[0] * 1.01
        return dW, db

    net.backward = broken
    with pytest.raises(GradientCheckError, match=r"gradient of W\^\(1\) is wrong"):
        check_mlp(net, X, y)


def test_needs_a_float_array():
    with pytest.raises(TypeError, match="float NumPy array"):
        numerical_gradient(lambda: 0.0, np.array([1, 2]))
