"""Losses and their gradients: central differences, torch, and the slides' half MSE."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course import losses
from course.gradcheck import numerical_gradient


def _batch(seed, m, n):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((m, n)), rng.standard_normal((m, n))


def _torch_loss(name, y_hat, y):
    yh, yt = torch.tensor(y_hat, requires_grad=True), torch.tensor(y)
    if name == "half_mse":
        value = 0.5 * ((yt - yh) ** 2).sum() / yh.shape[0]
    elif name == "mse":
        value = torch.nn.functional.mse_loss(yh, yt)
    elif name == "binary_cross_entropy":
        value = torch.nn.functional.binary_cross_entropy(yh, yt)
    else:
        value = torch.nn.functional.cross_entropy(yh, yt)
    value.backward()
    return float(value.detach()), yh.grad.numpy()


def _inputs(name, seed, m, n):
    y_hat, y = _batch(seed, m, n)
    if name == "binary_cross_entropy":
        rng = np.random.default_rng(seed + 1)
        return rng.uniform(0.05, 0.95, (m, n)), rng.integers(0, 2, (m, n)).astype(float)
    if name == "softmax_cross_entropy":
        return y_hat, np.eye(n)[np.random.default_rng(seed).integers(0, n, m)]
    return y_hat, y


@pytest.mark.parametrize("name", ["half_mse", "mse", "binary_cross_entropy", "softmax_cross_entropy"])
@given(seed=st.integers(0, 10_000), m=st.integers(1, 6), n=st.integers(2, 4))
@settings(max_examples=25, deadline=None)
def test_value_and_gradient_match_torch_and_central_differences(name, seed, m, n):
    loss = losses.get(name)
    y_hat, y = _inputs(name, seed, m, n)
    value, grad = _torch_loss(name, y_hat, y)
    assert loss.value(y_hat, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(loss.grad(y_hat, y), grad, rtol=1e-9, atol=1e-14)
    numeric = numerical_gradient(lambda: loss.value(y_hat, y), y_hat)
    np.testing.assert_allclose(loss.grad(y_hat, y), numeric, rtol=1e-6, atol=1e-9)


def test_half_mse_is_the_slides_cost():
    # C = 1/(2m) sum ||y - y_hat||^2: the 000 worked example, y = 0.3 and y_hat = 0.866
    assert losses.half_mse.value([[0.866]], [0.3]) == pytest.approx(0.160178, abs=1e-12)
    assert losses.half_mse.value([[1.0, 2.0], [3.0, 5.0]], [[0.0, 0.0], [3.0, 4.0]]) == pytest.approx(6 / 4)
    np.testing.assert_allclose(losses.half_mse.grad([[4.0]], [[1.0]]), [[3.0]])  # slides 001: y_hat - y


def test_softmax_cross_entropy_accepts_integer_labels():
    logits = np.array([[2.0, 1.0, 0.1], [0.0, 0.0, 3.0]])
    onehot = np.eye(3)[[0, 2]]
    assert losses.softmax_cross_entropy.value(logits, np.array([0, 2])) == pytest.approx(
        losses.softmax_cross_entropy.value(logits, onehot))
    with pytest.raises(ValueError, match="class indices in 0..2"):
        losses.softmax_cross_entropy.value(logits, np.array([0, 3]))


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"y must have the shape of the prediction y_hat \(2, 1\), got \(3, 1\)"):
        losses.half_mse.value([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="probabilities in \\[0, 1\\]"):
        losses.binary_cross_entropy.value([[1.5]], [[1.0]])
    with pytest.raises(ValueError, match="unknown loss 'l2'.*half_mse"):
        losses.get("l2")
    assert losses.get("bce") is losses.binary_cross_entropy
