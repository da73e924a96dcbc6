r"""A neural network built from scalar Values: z_j = sum_k w_jk a_k + b_j, a_j = sigma(z_j), one Value per number.

``Neuron -> Layer -> MLP``, micrograd style. Every weight is a
:class:`~course.autodiff.Value`, so one ``backward()`` on the cost fills every
``w.grad``: backpropagation happens without a single hand-derived formula. It is
slow (pure Python, one graph node per multiplication) but transparent, and its
gradients must equal the matrix formulas of :class:`course.MLP` (slides 001,
Eq. 3.14-3.23) on the same weights; :meth:`MLP.from_course` copies them over.

Weights follow the slides: layer l's neuron j holds the row w_j^(l) of W^(l), so
``layers[l - 1].W()`` is W^(l) with shape (n_l, n_(l-1)), like ``course.MLP.weights[l - 1]``.
"""

from __future__ import annotations

import numpy as np

from course import activations
from course.autodiff.value import Value

__all__ = ["Module", "Neuron", "Layer", "MLP", "half_mse", "ACTIVATIONS"]

#: the activations of :mod:`course.activations` that a Value computes, each by its Value method of that name
#: (derived from the one registry: an activation added there and as a Value method is available here)
ACTIVATIONS = {name: getattr(Value, name) for name in activations.names() if hasattr(Value, name)}


def _activation(name: str):
    """sigma as an operation on Values, by the registry's name (aliases such as "linear" accepted)."""
    canonical = activations.get(name).name
    if canonical not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(sorted(ACTIVATIONS))}, got {name!r}")
    return ACTIVATIONS[canonical]


class Module:
    """Anything with parameters: ``parameters()`` lists them, ``zero_grad()`` resets their ``.grad``."""

    def parameters(self) -> list[Value]:
        return []

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = 0.0


class Neuron(Module):
    """a = sigma(w . x + b) for one sample x (a list of n_in numbers or Values).

    Args:
        n_in: the number of inputs.
        activation: ``"relu"``, ``"tanh"``, ``"sigmoid"``, ``"square"`` or ``"identity"``.
        rng: a NumPy generator for the initial weights, N(0, 1/n_in).
        bias: whether the neuron has a bias b (else z = w . x).
    """

    def __init__(self, n_in: int, activation: str = "relu", rng: np.random.Generator | None = None,
                 bias: bool = True):
        if int(n_in) != n_in or n_in < 1:
            raise ValueError(f"n_in must be a positive whole number, got {n_in!r}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.activation = activation
        self.sigma = _activation(activation)
        self.w = [Value(float(v), label="w") for v in rng.standard_normal(int(n_in)) / np.sqrt(n_in)]
        self.b = Value(0.0, label="b") if bias else None

    def __call__(self, x) -> Value:
        if len(x) != len(self.w):
            raise ValueError(f"this neuron has {len(self.w)} inputs, but x has {len(x)} entries")
        z = self.w[0] * x[0]
        for w_k, x_k in zip(self.w[1:], x[1:]):
            z = z + w_k * x_k
        if self.b is not None:
            z = z + self.b
        return self.sigma(z)

    def parameters(self) -> list[Value]:
        return self.w + ([self.b] if self.b is not None else [])


class Layer(Module):
    """a^(l) = sigma(W^(l) a^(l-1) + b^(l)): n_out neurons that share the input."""

    def __init__(self, n_in: int, n_out: int, activation: str = "relu", rng: np.random.Generator | None = None,
                 bias: bool = True):
        if int(n_out) != n_out or n_out < 1:
            raise ValueError(f"n_out must be a positive whole number, got {n_out!r}")
        rng = rng if rng is not None else np.random.default_rng(0)
        self.neurons = [Neuron(n_in, activation, rng, bias) for _ in range(int(n_out))]

    def __call__(self, x) -> list[Value]:
        return [neuron(x) for neuron in self.neurons]

    def parameters(self) -> list[Value]:
        return [p for neuron in self.neurons for p in neuron.parameters()]

    def W(self, grad: bool = False) -> np.ndarray:
        """W^(l) (or dC/dW^(l) with ``grad=True``) as an array of shape (n_out, n_in)."""
        return np.array([[(w.grad if grad else w.data) for w in n.w] for n in self.neurons])

    def b(self, grad: bool = False) -> np.ndarray | None:
        """b^(l) (or dC/db^(l)) as an array of shape (n_out,); None without biases."""
        if self.neurons[0].b is None:
            return None
        return np.array([(n.b.grad if grad else n.b.data) for n in self.neurons])


class MLP(Module):
    """A fully connected network of Values: sizes = [n_0, n_1, ..., n_L], like :class:`course.MLP`.

    Args:
        sizes: layer widths, inputs first.
        activation: the hidden layers' activation.
        output_activation: the last layer's activation (``"identity"`` for regression).
        seed: seeds the initial weights.
        bias: whether the neurons have biases.
    """

    def __init__(self, sizes, activation: str = "relu", output_activation: str = "identity", seed: int = 0,
                 bias: bool = True):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
        _activation(activation)
        _activation(output_activation)
        rng = np.random.default_rng(seed)
        self.sizes = sizes
        acts = [activation] * (len(sizes) - 2) + [output_activation]
        self.layers = [Layer(n_in, n_out, act, rng, bias) for n_in, n_out, act in zip(sizes[:-1], sizes[1:], acts)]
        for l, layer in enumerate(self.layers, start=1):  # labels in the slides' notation, for drawings
            for j, neuron in enumerate(layer.neurons, start=1):
                for k, w in enumerate(neuron.w, start=1):
                    w.label = f"w{j}{k}^({l})" if max(j, k) < 10 else f"w{j},{k}^({l})"
                if neuron.b is not None:
                    neuron.b.label = f"b{j}^({l})"

    @classmethod
    def from_course(cls, net) -> "MLP":
        """A Value network with the weights, biases and activations of a :class:`course.MLP` ``net``."""
        acts = [a.name for a in net.layer_activations]
        for a in acts:
            _activation(a)
        model = cls(net.sizes, activation=acts[0], output_activation=acts[-1], bias=net.train_biases)
        for layer, W, b, act in zip(model.layers, net.weights, net.biases, acts):
            for j, neuron in enumerate(layer.neurons):
                neuron.activation, neuron.sigma = act, _activation(act)
                for k, w in enumerate(neuron.w):
                    w.data = float(W[j, k])
                if neuron.b is not None:
                    neuron.b.data = float(b[j])
        return model

    def __call__(self, x) -> list[Value]:
        """y_hat for ONE sample x (n_0 numbers); a list of n_L Values."""
        a = list(x)
        if len(a) != self.sizes[0]:
            raise ValueError(f"x must have {self.sizes[0]} entries (the input width), got {len(a)}")
        for layer in self.layers:
            a = layer(a)
        return a

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def cost(self, X, Y) -> Value:
        """C = 1/(2m) sum_i ||y_i - y_hat_i||^2 over the m samples (rows) of X, the slides' cost."""
        X = np.asarray(X, dtype=float)
        X = X[None, :] if X.ndim == 1 else X
        Y = np.asarray(Y, dtype=float).reshape(len(X), -1)
        return half_mse([self(x) for x in X], Y)

    def gradients(self) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """(dC/dW^(l), dC/db^(l)) per layer, read from ``.grad`` after ``cost(...).backward()``."""
        return [layer.W(grad=True) for layer in self.layers], [layer.b(grad=True) for layer in self.layers]

    def __repr__(self) -> str:
        return f"autodiff.MLP(sizes={self.sizes}, parameters={len(self.parameters())})"


def half_mse(Y_hat, Y) -> Value:
    """C = 1/(2m) sum_i sum_j (y_ij - y_hat_ij)^2 for m samples: lists of Values against numbers.

    Shape: Y_hat is m lists of n_L Values, Y is (m, n_L).
    """
    Y = np.asarray(Y, dtype=float)
    m = len(Y_hat)
    if m == 0:
        raise ValueError("half_mse needs at least one prediction, got none")
    if Y.ndim == 0 or Y.shape[0] != m:
        raise ValueError(f"Y must have one row per prediction ({m}), got shape {Y.shape}")
    total = None
    for y_hat, y in zip(Y_hat, Y.reshape(m, -1)):
        if len(y_hat) != len(y):
            raise ValueError(f"each target must have {len(y_hat)} entries (the output width), got {len(y)}")
        for yh, yt in zip(y_hat, y):
            term = (float(yt) - yh) ** 2
            total = term if total is None else total + term
    return total / (2.0 * m)
