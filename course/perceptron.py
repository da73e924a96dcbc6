r"""The perceptron: one neuron, y_hat = g(w^T x + b), and its learning rule.

With the bias written as a weight w_0 on a constant input x_0 = 1 (the slides'
"bias column"), the net input is z = w^T x with x = (1, x_1, ..., x_n), and the
learning rule derived from the loss L(w) = 1/(2N) sum_k (y^k - y_hat^k)^2 by
gradient descent is

    Delta w = alpha/N sum_k (y^k - y_hat^k) x^k.

With a step activation this is Rosenblatt's perceptron rule, applied to the
whole batch; with a linear activation it is exact gradient descent on L (the
slides' derivation).
"""

from __future__ import annotations

import numpy as np

from course import activations as _activations
from course._checks import as_float_array
from course.history import History

__all__ = ["Perceptron"]


class Perceptron:
    """A single neuron trained with the perceptron learning rule.

    The contract of :class:`course.MLP` (and ``torch.nn``): the constructor
    allocates the weights, :meth:`fit` trains in place, continuing from the
    current weights, and returns the :class:`~course.history.History`.

    Args:
        n_inputs: n, the number of features.
        activation: g, ``"step"`` (default) or any name from :mod:`course.activations`.
        learning_rate: alpha.
        seed: None starts from zero weights; an integer draws small random ones, N(0, 0.01^2).

    Attributes:
        weights: (n + 1,) array, ``weights[0]`` the bias b (the weight on x_0 = 1).
    """

    def __init__(self, n_inputs: int, activation="step", learning_rate: float = 0.1, seed: int | None = None):
        if int(n_inputs) != n_inputs or n_inputs < 1:
            raise ValueError(f"n_inputs must be a whole number >= 1, got {n_inputs!r}")
        if not np.isfinite(learning_rate) or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        self.n_inputs = int(n_inputs)
        self.activation = activation
        self.g = _activations.get(activation)
        self.learning_rate = learning_rate
        self.seed = seed
        self.reset_parameters()

    @classmethod
    def from_weights(cls, w, b: float, activation="step", learning_rate: float = 0.1) -> "Perceptron":
        """A perceptron with given weights w = (w_1, ..., w_n) and bias b, ready to predict or train on.

        >>> Perceptron.from_weights([4, 2, 4], b=-3).predict([1, 0, 1])   # the swimming example
        array([1.])
        """
        w = as_float_array(w, "w", ndim=1)
        p = cls(len(w), activation=activation, learning_rate=learning_rate)
        p.weights[:] = np.concatenate([[float(b)], w])
        return p

    def reset_parameters(self) -> None:
        """Set the starting weights again: zeros, or N(0, 0.01^2) drawn with the seed."""
        n = self.n_inputs + 1
        if self.seed is None:
            self.weights = np.zeros(n)
        else:
            self.weights = np.random.default_rng(self.seed).normal(0.0, 0.01, n)

    def _with_bias_column(self, X) -> np.ndarray:
        X = as_float_array(X, "X", ndim=(1, 2))
        if X.ndim == 1:
            X = X[None, :]
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"X must have n_inputs = {self.n_inputs} columns, got shape {X.shape}")
        return np.hstack([np.ones((len(X), 1)), X])

    def net_input(self, X) -> np.ndarray:
        """z = w^T x + b for every row of X. Shape: (N, n) -> (N,)."""
        return self._with_bias_column(X) @ self.weights

    def predict(self, X) -> np.ndarray:
        """y_hat = g(z). Shape: (N, n) -> (N,)."""
        return self.g.f(self.net_input(X))

    def score(self, X, y) -> float:
        """Accuracy: the fraction of samples with y_hat == y (outputs thresholded at 0.5 unless step)."""
        y_hat = self.predict(X)
        if self.g.name != "step":
            y_hat = (y_hat >= 0.5).astype(float)
        return float(np.mean(y_hat == np.asarray(y, dtype=float)))

    def update(self, X, y) -> float:
        """One learning step on the batch: w <- w + alpha/N sum_k (y^k - y_hat^k) x^k.

        Returns the number of misclassified samples (step) or the loss L(w) (other
        activations) before the step.
        """
        Xb = self._with_bias_column(X)
        y = as_float_array(y, "y", ndim=1)
        if len(y) != len(Xb):
            raise ValueError(f"y must hold one label per row of X ({len(Xb)}), got {len(y)}")
        y_hat = self.g.f(Xb @ self.weights)
        error = y - y_hat
        self.weights += self.learning_rate / len(y) * (Xb.T @ error)
        return float(np.count_nonzero(error)) if self.g.name == "step" else float(0.5 * np.mean(error ** 2))

    def fit(self, X, y, epochs: int = 100) -> History:
        """Apply the learning rule ``epochs`` times to the whole batch, from the current weights.

        Returns the :class:`~course.history.History`; its ``train_loss`` holds, per
        epoch, what :meth:`update` returned: the misclassified samples (step) or L(w).
        """
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")
        history = History()
        for _ in range(int(epochs)):
            history.train_loss.append(self.update(X, y))
        return history

    @property
    def w(self) -> np.ndarray:
        """The weights w_1..w_n without the bias."""
        return self.weights[1:]

    @property
    def b(self) -> float:
        """The bias b = w_0."""
        return float(self.weights[0])

    def __repr__(self):
        return (f"Perceptron(n_inputs={self.n_inputs}, activation={self.activation!r}, "
                f"learning_rate={self.learning_rate}, seed={self.seed})")
