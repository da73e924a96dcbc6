r"""Loss (cost) functions C(y_hat, y) and their gradients dC/dy_hat.

The default everywhere is the slides' half mean squared error

    C = 1/(2m) sum_k ||y^k - y_hat^k||^2,

whose gradient is simply (y_hat - y)/m: the 1/2 cancels the 2 of the square.

Each loss is a :class:`Loss` with ``value(y_hat, y)`` (a float) and
``grad(y_hat, y)`` (an array shaped like ``y_hat``), averaged over the batch
of m samples, so that the gradients of a network are those of the batch mean.

Shapes: ``y_hat`` is (m, n_outputs); ``y`` is (m, n_outputs), or (m,) for a
single output; ``softmax_cross_entropy`` also accepts integer class labels of
shape (m,).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from course._checks import as_float_array, registry_key

__all__ = ["Loss", "get", "names", "half_mse", "mse", "binary_cross_entropy", "softmax_cross_entropy"]

_EPS = 1e-12


def _pair(y_hat, y, name: str):
    y_hat = as_float_array(y_hat, "y_hat")
    y = as_float_array(y, "y")
    if y_hat.ndim == 1:
        y_hat = y_hat[:, None]
    if y.ndim == 1 and y_hat.ndim == 2 and y_hat.shape[1] == 1:
        y = y[:, None]
    if y.shape != y_hat.shape:
        raise ValueError(f"{name}: y must have the shape of the prediction y_hat {y_hat.shape}, got {y.shape}")
    return y_hat, y


@dataclass(frozen=True)
class Loss:
    """A cost C(y_hat, y), averaged over the batch, with its gradient dC/dy_hat."""

    name: str
    formula: str
    _value: Callable
    _grad: Callable
    _prepare: Callable = None  # (y_hat, y) -> validated 2-D arrays

    def _arrays(self, y_hat, y):
        if self._prepare is not None:
            return self._prepare(y_hat, y)
        return _pair(y_hat, y, self.name)

    def value(self, y_hat, y) -> float:
        """C(y_hat, y): a float."""
        return float(self._value(*self._arrays(y_hat, y)))

    def grad(self, y_hat, y) -> np.ndarray:
        """dC/dy_hat. Shape: (m, n_outputs), like ``y_hat`` made 2-D."""
        return self._grad(*self._arrays(y_hat, y))

    def value_and_grad(self, y_hat, y) -> tuple[float, np.ndarray]:
        """(C(y_hat, y), dC/dy_hat), the inputs checked once: what a training step needs."""
        y_hat, y = self._arrays(y_hat, y)
        return float(self._value(y_hat, y)), self._grad(y_hat, y)

    __call__ = value


def _half_mse(y_hat, y):
    return 0.5 * ((y - y_hat) ** 2).sum() / y.shape[0]


def _half_mse_grad(y_hat, y):
    return (y_hat - y) / y.shape[0]


def _mse(y_hat, y):
    return np.mean((y - y_hat) ** 2)


def _mse_grad(y_hat, y):
    return 2.0 * (y_hat - y) / y.size


def _bce(p, y):
    # Like torch.nn.BCELoss, each log is clamped at -100 so that p = 0 or 1 gives a large, finite loss.
    _check_probabilities(p)
    with np.errstate(divide="ignore"):
        log_p, log_1mp = np.maximum(np.log(p), -100.0), np.maximum(np.log1p(-p), -100.0)
    return -np.mean(y * log_p + (1.0 - y) * log_1mp)


def _bce_grad(p, y):
    _check_probabilities(p)
    return (p - y) / np.maximum(p * (1.0 - p), _EPS) / y.size


def _check_probabilities(p):
    if np.any((p < 0) | (p > 1)):
        raise ValueError(
            "binary_cross_entropy: y_hat must be probabilities in [0, 1] (use a sigmoid output), "
            f"got values from {p.min():.3g} to {p.max():.3g}")


def _logits_and_onehot(logits, y):
    logits = as_float_array(logits, "y_hat (logits)", ndim=2)
    y_arr = np.asarray(y)
    if y_arr.ndim == 1 and y_arr.dtype.kind in "iub":
        labels = y_arr.astype(int)
        if labels.shape[0] != logits.shape[0] or labels.min(initial=0) < 0 or labels.max(initial=0) >= logits.shape[1]:
            raise ValueError(
                f"softmax_cross_entropy: integer labels must be {logits.shape[0]} class indices in "
                f"0..{logits.shape[1] - 1}, got shape {labels.shape} with range "
                f"{labels.min(initial=0)}..{labels.max(initial=0)}")
        y_arr = np.eye(logits.shape[1], dtype=logits.dtype)[labels]
    y_arr = as_float_array(y_arr, "y")
    if y_arr.shape != logits.shape:
        raise ValueError(f"softmax_cross_entropy: y must be one-hot of shape {logits.shape} or integer labels "
                         f"of shape ({logits.shape[0]},), got {y_arr.shape}")
    return logits, y_arr


def _log_softmax(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _softmax_ce(logits, y):
    return -np.sum(y * _log_softmax(logits)) / y.shape[0]


def _softmax_ce_grad(logits, y):
    return (np.exp(_log_softmax(logits)) - y) / y.shape[0]


half_mse = Loss("half_mse", "1/(2m) sum_k ||y^k - y_hat^k||^2", _half_mse, _half_mse_grad)
mse = Loss("mse", "1/(m n) sum_k ||y^k - y_hat^k||^2", _mse, _mse_grad)
binary_cross_entropy = Loss("binary_cross_entropy", "-mean(y log p + (1 - y) log(1 - p))", _bce, _bce_grad)
softmax_cross_entropy = Loss(
    "softmax_cross_entropy", "-1/m sum_k sum_i y_i^k log softmax(z^k)_i  (z = logits)",
    _softmax_ce, _softmax_ce_grad, _logits_and_onehot)

_REGISTRY = {loss.name: loss for loss in (half_mse, mse, binary_cross_entropy, softmax_cross_entropy)}
_ALIASES = {"bce": "binary_cross_entropy", "cross_entropy": "softmax_cross_entropy",
            "half_mean_squared_error": "half_mse", "mean_squared_error": "mse"}


def names() -> list[str]:
    """All names :func:`get` accepts, aliases included."""
    return sorted([*_REGISTRY, *_ALIASES])


def get(name) -> Loss:
    """The loss called ``name`` (a :class:`Loss` is passed through)."""
    if isinstance(name, Loss):
        return name
    return _REGISTRY[registry_key("loss", name, _REGISTRY, _ALIASES, "a Loss")]
