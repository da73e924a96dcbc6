r"""exp, log, tanh, sigmoid, relu for every kind of number: one function definition, many modes.

Write a function once, e.g. ``def f(x): return tanh(x) * exp(-x)``, and call it with

* plain floats (or NumPy arrays): an ordinary evaluation,
* :class:`~course.autodiff.Value` objects: reverse mode (call ``backward()`` on the result),
* :class:`~course.autodiff.Dual` numbers: forward mode (read ``.eps`` of the result),
* PyTorch tensors: PyTorch's autograd records the same graph,
* SymPy symbols: a symbolic expression to differentiate with ``sympy.diff``.

Each function dispatches on its argument: objects with a method of that name
(Value, Dual, torch.Tensor) use it; SymPy objects use ``sympy.<name>``; other
numbers go through NumPy (so domain errors raise with a clear message).
"""

from __future__ import annotations

import numpy as np

__all__ = ["exp", "log", "tanh", "sigmoid", "relu"]


def _is_sympy(x) -> bool:
    return type(x).__module__.startswith("sympy")


def _number(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a number, an array, a Value, a Dual, a torch tensor or a SymPy "
                        f"expression, got {type(x).__name__}")
    return arr.astype(float)


def _scalar(out, x):
    return float(out) if np.ndim(x) == 0 else out


def exp(x):
    """e^x."""
    if hasattr(x, "exp"):
        return x.exp()
    if _is_sympy(x):
        import sympy
        return sympy.exp(x)
    arr = _number(x, "exp")
    if np.any(arr > 709.78):
        raise OverflowError(f"exp: exp({np.max(arr):g}) is larger than the largest float (about 1.8e308)")
    return _scalar(np.exp(arr), x)


def log(x):
    """ln x, for x > 0."""
    if hasattr(x, "log"):
        return x.log()
    if _is_sympy(x):
        import sympy
        return sympy.log(x)
    arr = _number(x, "log")
    if np.any(arr <= 0):
        raise ValueError(f"log: the natural logarithm needs positive inputs, got {np.min(arr):g}")
    return _scalar(np.log(arr), x)


def tanh(x):
    """tanh x = (e^x - e^-x) / (e^x + e^-x)."""
    if hasattr(x, "tanh"):
        return x.tanh()
    if _is_sympy(x):
        import sympy
        return sympy.tanh(x)
    return _scalar(np.tanh(_number(x, "tanh")), x)


def sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x)."""
    if hasattr(x, "sigmoid"):
        return x.sigmoid()
    if _is_sympy(x):
        import sympy
        return 1 / (1 + sympy.exp(-x))
    arr = _number(x, "sigmoid")
    return _scalar(0.5 * (1.0 + np.tanh(0.5 * arr)), x)


def relu(x):
    """max(0, x)."""
    if hasattr(x, "relu"):
        return x.relu()
    if _is_sympy(x):
        import sympy
        return sympy.Max(0, x)
    return _scalar(np.maximum(_number(x, "relu"), 0.0), x)
