"""A network made of Values: its gradients equal course.MLP's backpropagation formulas and PyTorch's."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import course
from course.autodiff import MLP, Layer, Neuron, Value
from course.autodiff.nn import half_mse
from course.optim import GradientDescent

torch = pytest.importorskip("torch")


@settings(max_examples=15, deadline=None)
@given(sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
       activation=st.sampled_from(["relu", "tanh", "sigmoid", "identity", "square"]),
       output_activation=st.sampled_from(["identity", "sigmoid", "tanh"]),
       m=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_value_mlp_gradients_equal_course_mlp(sizes, activation, output_activation, m, seed):
    rng = np.random.default_rng(seed)
    net = course.MLP(sizes, activation=activation, output_activation=output_activation, seed=seed)
    net.biases = [rng.standard_normal(b.shape) * 0.5 for b in net.biases]
    X = rng.standard_normal((m, sizes[0]))
    Y = rng.standard_normal((m, sizes[-1]))
    net.forward(X)
    dW, db = net.backward(Y)
    model = MLP.from_course(net)
    C = model.cost(X, Y)
    C.backward()
    assert C.data == pytest.approx(net.loss_value(X, Y), rel=1e-12, abs=1e-14)
    dW_v, db_v = model.gradients()
    for l in range(len(dW)):
        np.testing.assert_allclose(dW_v[l], dW[l], rtol=1e-9, atol=1e-12, err_msg=f"dC/dW^({l + 1})")
        np.testing.assert_allclose(db_v[l], db[l], rtol=1e-9, atol=1e-12, err_msg=f"dC/db^({l + 1})")


def slide_network():
    """Slides 001, section 3.4 example: x = (3, 2), sigma(z) = z^2 in both layers, no biases, y = 1."""
    W1 = np.array([[1.0, -3.0], [-2.0, 1.0]])
    W2 = np.array([[2.0, -1.0]])
    return course.MLP.from_weights([W1, W2], activation="square", output_activation="square", train_biases=False)


def test_slide_backprop_example_by_value_engine():
    model = MLP.from_course(slide_network())
    x = [3.0, 2.0]
    out = model(x)
    C = half_mse([out], [[1.0]])
    C.backward()
    z1 = [sum(w.data * xi for w, xi in zip(n.w, x)) for n in model.layers[0].neurons]
    assert z1 == [-3.0, -4.0] and out[0].data == 4.0          # z^(2) = 2, a^(2) = 4
    dW1, dW2 = model.gradients()[0]
    np.testing.assert_array_equal(dW1, [[-432.0, -288.0], [288.0, 192.0]])   # the slide prints 108 for the last
    np.testing.assert_array_equal(dW2, [[108.0, 192.0]])
    assert model.gradients()[1] == [None, None]             # no biases in this example
    W1_new = model.layers[0].W() - 0.001 * dW1
    np.testing.assert_allclose(W1_new, [[1.432, -2.712], [-2.288, 0.808]])     # the slide's 0.808 needs 192


def test_slide_backprop_example_by_torch():
    W1 = torch.tensor([[1.0, -3.0], [-2.0, 1.0]], dtype=torch.float64, requires_grad=True)
    W2 = torch.tensor([[2.0, -1.0]], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([3.0, 2.0], dtype=torch.float64)
    C = 0.5 * (1.0 - (W2 @ (W1 @ x) ** 2) ** 2).pow(2).sum()
    C.backward()
    assert W1.grad.tolist() == [[-432.0, -288.0], [288.0, 192.0]]
    assert W2.grad.tolist() == [[108.0, 192.0]]


def test_value_mlp_gradients_equal_torch():
    rng = np.random.default_rng(3)
    model = MLP([3, 4, 2], activation="tanh", output_activation="sigmoid", seed=1)
    for p in model.parameters():
        p.data = float(rng.standard_normal())
    X, Y = rng.standard_normal((5, 3)), rng.random((5, 2))
    model.cost(X, Y).backward()
    Ws = [torch.tensor(layer.W(), requires_grad=True) for layer in model.layers]
    bs = [torch.tensor(layer.b(), requires_grad=True) for layer in model.layers]
    a = torch.tensor(X)
    a = torch.tanh(a @ Ws[0].T + bs[0])
    a = torch.sigmoid(a @ Ws[1].T + bs[1])
    C = 0.5 * ((torch.tensor(Y) - a) ** 2).sum() / 5
    C.backward()
    dW, db = model.gradients()
    for l in range(2):
        np.testing.assert_allclose(dW[l], Ws[l].grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(db[l], bs[l].grad.numpy(), rtol=1e-10)


def test_one_gradient_descent_step_matches_course_mlp_train_step():
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = course.MLP([2, 3, 1], activation="tanh", seed=4)
    model = MLP.from_course(net)
    net.train_step(X, Y, GradientDescent(learning_rate=0.5))
    C = model.cost(X, Y)
    model.zero_grad()
    C.backward()
    for p in model.parameters():
        p.data -= 0.5 * p.grad
    for l, layer in enumerate(model.layers):
        np.testing.assert_allclose(layer.W(), net.weights[l], rtol=1e-12)
        np.testing.assert_allclose(layer.b(), net.biases[l], rtol=1e-12, atol=1e-15)


def test_parameters_and_zero_grad():
    model = MLP([2, 3, 1], seed=0)
    assert len(model.parameters()) == course.count_parameters([2, 3, 1]) == 13
    model.cost([[1.0, 2.0]], [[0.5]]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
    assert len(Layer(3, 2, bias=False).parameters()) == 6


def test_neuron_computes_sigma_of_weighted_sum():
    n = Neuron(2, activation="sigmoid")
    n.w[0].data, n.w[1].data, n.b.data = 0.5, -1.0, 0.25
    a = n([2.0, Value(1.0)])
    assert a.data == pytest.approx(1 / (1 + np.exp(-(0.5 * 2 - 1.0 + 0.25))))


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="activation must be one of .* got 'swish'"):
        MLP([2, 1], activation="swish")
    with pytest.raises(ValueError, match="x must have 2 entries .* got 3"):
        MLP([2, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="this neuron has 2 inputs, but x has 1"):
        Neuron(2)([1.0])
    with pytest.raises(ValueError, match="n_in must be a positive whole number"):
        Neuron(0)
    with pytest.raises(ValueError, match="one row per prediction"):
        half_mse([[Value(1.0)]], [[1.0], [2.0]])
    net = course.MLP([2, 2, 1], activation="elu")
    with pytest.raises(ValueError, match="activation must be one of"):
        MLP.from_course(net)
