r"""Optimizers: gradient descent, momentum and Adam, updating arrays in place.

Each optimizer is a small object whose ``step(params, grads)`` changes every
array in ``params`` in place; it keeps whatever state it needs (velocities,
moment estimates) per position in the list, so pass the parameters in the
same order at every step.

    >>> opt = Adam(learning_rate=0.01)
    >>> opt.step([W, b], [dW, db])          # W and b are updated in place

Every optimizer is gradient descent with a step size of its own for every
weight, ``step_size(i)`` (alpha for gradient descent and momentum, alpha_i for
Adam); ``step(..., prox=...)`` applies a proximal operator ``prox(w, step_size)``
after the update, e.g. the soft-thresholding of L1
(:func:`course.regularization.l1_prox`).

The update rules follow PyTorch's ``torch.optim.SGD`` (with and without
momentum) and ``torch.optim.Adam`` exactly, so the same gradients give the
same parameters step for step.
"""

from __future__ import annotations

import math

import numpy as np

from course._checks import registry_key

__all__ = ["Optimizer", "GradientDescent", "Momentum", "Adam", "get", "names"]


class Optimizer:
    """Base class: validates the arguments of ``step`` and counts steps in ``t``."""

    name = "optimizer"

    def __init__(self, learning_rate: float = 0.01):
        if not np.isfinite(learning_rate) or learning_rate <= 0:
            raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
        self.learning_rate = float(learning_rate)
        self.t = 0
        self._state: list[dict] | None = None

    def step(self, params: list[np.ndarray], grads: list[np.ndarray], prox=None) -> None:
        """Update every ``params[i]`` in place from ``grads[i]``.

        ``prox``: None, or one entry per parameter, each None or a function
        ``prox(w, step_size)`` that changes w in place after its update (a proximal step).
        """
        if len(params) != len(grads):
            raise ValueError(f"step needs one gradient per parameter: got {len(params)} params and {len(grads)} grads")
        if self._state is None:
            self._state = [{} for _ in params]
        elif len(self._state) != len(params):
            raise ValueError(f"this {self.name} optimizer was used with {len(self._state)} parameters; "
                             f"now it got {len(params)}. Create a new optimizer for a new model.")
        if prox is not None and len(prox) != len(params):
            raise ValueError(f"prox must hold one entry (a function or None) per parameter ({len(params)}), "
                             f"got {len(prox)}")
        self.t += 1
        for i, (p, g) in enumerate(zip(params, grads)):
            g = np.asarray(g)
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] must have the shape of params[{i}] {p.shape}, got {g.shape}")
            self._update(p, g, self._state[i])
            if prox is not None and prox[i] is not None:
                prox[i](p, self.step_size(i))

    def step_size(self, i: int):
        """The step size of parameter ``i`` in the last step: alpha (a number) unless an optimizer adapts it."""
        return self.learning_rate

    def _update(self, p, g, state) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate:g})"


class GradientDescent(Optimizer):
    """w <- w - alpha dC/dw."""

    name = "gd"

    def _update(self, p, g, state):
        p -= self.learning_rate * g


class Momentum(Optimizer):
    """v <- beta v + dC/dw;  w <- w - alpha v  (PyTorch's SGD with momentum).

    With a constant gradient g the step approaches alpha g / (1 - beta): momentum
    accelerates along directions where the gradient keeps its sign and damps
    oscillations where it flips.
    """

    name = "momentum"

    def __init__(self, learning_rate: float = 0.01, beta: float = 0.9):
        super().__init__(learning_rate)
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {beta!r}")
        self.beta = float(beta)

    def _update(self, p, g, state):
        if "v" not in state:
            state["v"] = np.array(g, dtype=p.dtype, copy=True)      # v_1 = g_1, as in PyTorch
        else:
            state["v"] = self.beta * state["v"] + g
        p -= self.learning_rate * state["v"]


class Adam(Optimizer):
    """Adam: m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  w <- w - alpha m_hat / (sqrt(v_hat) + eps).

    m_hat = m / (1 - b1^t) and v_hat = v / (1 - b2^t) undo the bias of the
    moment estimates towards their zero start (Kingma and Ba, 2015).
    """

    name = "adam"

    def __init__(self, learning_rate: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8):
        super().__init__(learning_rate)
        for name, beta in (("beta1", beta1), ("beta2", beta2)):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {beta!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)

    def step_size(self, i: int) -> np.ndarray:
        """alpha_i = alpha / (sqrt(v_hat_i) + eps), v_hat = v / (1 - beta_2^t): parameter i's step sizes.

        Shape: like parameter i.

        Adam's update is w_i <- w_i - alpha_i m_hat_i, gradient descent with a step
        size of its own for every weight (read after at least one step).
        """
        if self.t == 0 or self._state is None:
            raise RuntimeError("Adam.step_size: Adam has not taken a step yet, so it has no second moments")
        if not 0 <= i < len(self._state):
            raise IndexError(f"i must index one of the {len(self._state)} parameters, got {i}")
        return self.learning_rate / self._denominator(self._state[i]["v"])

    def _denominator(self, v):
        """sqrt(v_hat) + eps, written as torch.optim.Adam computes it: sqrt(v) / sqrt(1 - beta_2^t) + eps."""
        return np.sqrt(v) / math.sqrt(1.0 - self.beta2 ** self.t) + self.eps

    def _update(self, p, g, state):
        m, v = state.get("m", 0.0), state.get("v", 0.0)
        state["m"] = m = self.beta1 * m + (1.0 - self.beta1) * g
        state["v"] = v = self.beta2 * v + (1.0 - self.beta2) * (g * g)
        # alpha m_hat / (sqrt(v_hat) + eps) in torch.optim.Adam's order of operations, so that float64
        # results agree to the last bits: w <- w - (alpha / (1 - beta_1^t)) m / (sqrt(v_hat) + eps)
        p -= (self.learning_rate / (1.0 - self.beta1 ** self.t)) * (m / self._denominator(v))


_REGISTRY = {"gd": GradientDescent, "sgd": GradientDescent, "gradient_descent": GradientDescent,
             "momentum": Momentum, "adam": Adam}


def names() -> list[str]:
    """All names :func:`get` accepts."""
    return sorted(_REGISTRY)


def get(name, learning_rate: float | None = None, **kwargs) -> Optimizer:
    """A new optimizer called ``name`` (an :class:`Optimizer` is passed through)."""
    if isinstance(name, Optimizer):
        return name
    cls = _REGISTRY[registry_key("optimizer", name, _REGISTRY, or_object="an Optimizer")]
    if learning_rate is not None:
        kwargs["learning_rate"] = learning_rate
    return cls(**kwargs)
