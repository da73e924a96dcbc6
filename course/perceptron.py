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

__all__ = ["Perceptron"]


class Perceptron:
    """A single neuron trained with the perceptron learning rule.

    Args:
        n_inputs: n, the number of features.
        activation: g, ``"step"`` (default) or any name from :mod:`course.activations`.
        learning_rate: alpha.
        seed: None starts from zero weights; an integer draws small random ones.

    Attributes (after ``fit``):
        weights_: (n + 1,) array, ``weights_[0]`` the bias b (the weight on x_0 = 1).
        errors_: misclassified samples per epoch (step activation) or the loss per epoch.
    """

    def __init__(self, n_inputs: int, activation="step", learning_rate: float = 0.1, seed: int | None = None):
        self.n_inputs = n_inputs
        self.activation = activation
        self.learning_rate = learning_rate
        self.seed = seed

    @classmethod
    def from_weights(cls, w, b: float, activation="step", learning_rate: float = 0.1) -> "Perceptron":
        """A perceptron with given weights w = (w_1, ..., w_n) and bias b, ready to predict or train on.

        >>> Perceptron.from_weights([4, 2, 4], b=-3).predict([1, 0, 1])   # the swimming example
        array([1.])
        """
        w = as_float_array(w, "w", ndim=1)
        p = cls(len(w), activation=activation, learning_rate=learning_rate).initialize()
        p.weights_[:] = np.concatenate([[float(b)], w])
        return p

    def _check(self):
        if int(self.n_inputs) != self.n_inputs or self.n_inputs < 1:
            raise ValueError(f"n_inputs must be a whole number >= 1, got {self.n_inputs!r}")
        if not np.isfinite(self.learning_rate) or self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        return _activations.get(self.activation)

    def _with_bias_column(self, X) -> np.ndarray:
        X = as_float_array(X, "X", ndim=(1, 2))
        if X.ndim == 1:
            X = X[None, :]
        if X.shape[1] != self.n_inputs:
            raise ValueError(f"X must have n_inputs = {self.n_inputs} columns, got shape {X.shape}")
        return np.hstack([np.ones((len(X), 1)), X])

    def net_input(self, X) -> np.ndarray:
        """z = w^T x + b for every row of X. Shape: (N, n) -> (N,)."""
        self._check_fitted()
        return self._with_bias_column(X) @ self.weights_

    def predict(self, X) -> np.ndarray:
        """y_hat = g(z). Shape: (N, n) -> (N,)."""
        z = self.net_input(X)
        return self._g.f(z)

    def score(self, X, y) -> float:
        """Accuracy: the fraction of samples with y_hat == y (outputs thresholded at 0.5 unless step)."""
        y_hat = self.predict(X)
        if self._g.name != "step":
            y_hat = (y_hat >= 0.5).astype(float)
        return float(np.mean(y_hat == np.asarray(y, dtype=float)))

    def initialize(self) -> "Perceptron":
        """Set the starting weights (zeros, or N(0, 0.01^2) with a seed)."""
        self._g = self._check()
        n = int(self.n_inputs) + 1
        if self.seed is None:
            self.weights_ = np.zeros(n)
        else:
            self.weights_ = np.random.default_rng(self.seed).normal(0.0, 0.01, n)
        self.errors_ = []
        return self

    def update(self, X, y) -> float:
        """One learning step on the batch: w <- w + alpha/N sum_k (y^k - y_hat^k) x^k.

        Returns the number of misclassified samples (step) or the loss L(w) (other
        activations) before the step.
        """
        if not hasattr(self, "weights_"):
            self.initialize()
        Xb = self._with_bias_column(X)
        y = as_float_array(y, "y", ndim=1)
        if len(y) != len(Xb):
            raise ValueError(f"y must hold one label per row of X ({len(Xb)}), got {len(y)}")
        y_hat = self._g.f(Xb @ self.weights_)
        error = y - y_hat
        self.weights_ += self.learning_rate / len(y) * (Xb.T @ error)
        return float(np.count_nonzero(error)) if self._g.name == "step" else float(0.5 * np.mean(error ** 2))

    def fit(self, X, y, epochs: int = 100) -> "Perceptron":
        """Apply the learning rule ``epochs`` times to the whole batch; returns self."""
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")
        self.initialize()
        for _ in range(int(epochs)):
            self.errors_.append(self.update(X, y))
        return self

    @property
    def w_(self) -> np.ndarray:
        """The weights w_1..w_n without the bias."""
        self._check_fitted()
        return self.weights_[1:]

    @property
    def b_(self) -> float:
        """The bias b = w_0."""
        self._check_fitted()
        return float(self.weights_[0])

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise RuntimeError("this Perceptron is not fitted yet: call fit(X, y) or initialize() first")

    def __repr__(self):
        return (f"Perceptron(n_inputs={self.n_inputs}, activation={self.activation!r}, "
                f"learning_rate={self.learning_rate}, seed={self.seed})")
