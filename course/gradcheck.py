r"""Gradient checking: compare analytic gradients with central differences.

The central difference

    df/dx_i ~ (f(x + h e_i) - f(x - h e_i)) / (2h)

has an error of order h^2 (truncation) plus order eps/h (round-off), so
h ~ 1e-6 in float64 gives about 10 correct digits: enough to catch any
mistake in a backpropagation formula.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["numerical_gradient", "relative_error", "check_gradient", "check_mlp", "GradientCheckError"]


class GradientCheckError(AssertionError):
    """An analytic gradient disagrees with central differences."""


def numerical_gradient(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar ``f()`` with respect to every entry of ``x``.

    ``x`` is perturbed in place (and restored), so ``f`` must read it, e.g.
    ``numerical_gradient(lambda: net.loss_value(X, y), net.weights[0])``.
    A function of ``x`` works too: ``numerical_gradient(lambda v: np.sum(v**2), x)``.
    Shape: like ``x``.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(f"x must be a float NumPy array that f reads, got {type(x).__name__}"
                        + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else ""))
    call = f
    try:
        import inspect

        if len(inspect.signature(f).parameters) == 1:
            call = lambda: f(x)  # noqa: E731
    except (TypeError, ValueError):
        pass
    grad = np.zeros_like(x, dtype=np.float64)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = float(call())
        flat[i] = old - h
        f_minus = float(call())
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a, b, floor: float = 1e-8) -> np.ndarray:
    """|a - b| / max(|a|, |b|, floor), entrywise."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return np.abs(a - b) / np.maximum(np.maximum(np.abs(a), np.abs(b)), floor)


def check_gradient(analytic, numeric, name: str = "the parameter", rtol: float = 1e-6, atol: float = 1e-8) -> float:
    """Raise :class:`GradientCheckError` naming the worst entry if the gradients disagree.

    An entry passes when |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
    Returns the largest relative error |a - n| / (atol + max(|a|, |n|)).
    """
    analytic, numeric = np.asarray(analytic, dtype=float), np.asarray(numeric, dtype=float)
    if analytic.shape != numeric.shape:
        raise GradientCheckError(f"the gradient of {name} has shape {analytic.shape}, "
                                 f"but {name} has shape {numeric.shape}: there must be one derivative per entry")
    diff = np.abs(analytic - numeric)
    bound = atol + rtol * np.maximum(np.abs(analytic), np.abs(numeric))
    bad = diff > bound
    if not np.all(np.isfinite(analytic)):
        bad |= ~np.isfinite(analytic)
    if np.any(bad):
        worst = np.unravel_index(np.argmax(np.where(bad, diff - bound, -np.inf)), analytic.shape)
        where = f"entry {tuple(int(i) for i in worst)}" if analytic.ndim else "its value"
        raise GradientCheckError(
            f"the gradient of {name} is wrong at {where}: backpropagation gave {analytic[worst]:.10g}, "
            f"central differences expected {numeric[worst]:.10g} "
            f"(relative error {float(relative_error(analytic[worst], numeric[worst])):.2e}, allowed {rtol:.0e}); "
            f"{int(bad.sum())} of {bad.size} entries disagree")
    scale = atol + np.maximum(np.abs(analytic), np.abs(numeric))
    return float((diff / scale).max()) if analytic.size else 0.0


def check_mlp(net, X, y, h: float = 1e-6, rtol: float = 1e-6) -> float:
    """Check ``net.backward`` on (X, y) against central differences of ``net.loss_value``.

    Returns the largest relative error over all weights and biases.
    """
    net.forward(X)
    dW, db = net.backward(y)
    worst = 0.0
    for l, (W, g) in enumerate(zip(net.weights, dW), start=1):
        worst = max(worst, check_gradient(g, numerical_gradient(lambda: net.loss_value(X, y), W, h), f"W^({l})", rtol))
    if net.train_biases:
        for l, (b, g) in enumerate(zip(net.biases, db), start=1):
            worst = max(worst, check_gradient(g, numerical_gradient(lambda: net.loss_value(X, y), b, h),
                                              f"b^({l})", rtol))
    return worst
