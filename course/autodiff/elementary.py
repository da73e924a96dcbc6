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

The domains live here once, for NumPy, :class:`~course.autodiff.Value` and
:class:`~course.autodiff.Dual` alike: :func:`real_number` and :func:`exponent_float` for the inputs,
:func:`exp_float`, :func:`log_float` and :func:`power_float` for the values
(e^1000 overflows, ln needs a > 0, (-2)^0.5 is not real), and
:func:`check_power_derivative` for n a^(n-1), infinite at a = 0 when n < 1.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np

__all__ = ["exp", "log", "tanh", "sigmoid", "relu", "real_number", "exponent_float", "described",
           "exp_float", "log_float", "power_float", "check_power_derivative"]


def _is_sympy(x) -> bool:
    return type(x).__module__.startswith("sympy")


def _sympy(name: str, x):
    """name(x) for a SymPy expression x (SymPy is imported only here)."""
    import sympy

    if name == "sigmoid":
        return 1 / (1 + sympy.exp(-x))
    if name == "relu":
        return sympy.Max(0, x)
    return getattr(sympy, name)(x)


def _number(x, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"{name}: expected a number, an array, a Value, a Dual, a torch tensor or a SymPy "
                        f"expression, got {type(x).__name__}")
    return arr.astype(float)


def _apply(x, name: str, numpy_f):
    """name(x) for every kind of x: x.name() where x has it, the SymPy function, or ``numpy_f`` on the numbers."""
    if hasattr(x, name):
        return getattr(x, name)()
    if _is_sympy(x):
        return _sympy(name, x)
    out = numpy_f(_number(x, name))
    return float(out) if np.ndim(x) == 0 else out


def exp(x):
    """e^x."""
    return _apply(x, "exp", _exp_array)


def tanh(x):
    """tanh x = (e^x - e^-x) / (e^x + e^-x)."""
    return _apply(x, "tanh", np.tanh)


def log(x):
    """ln x, for x > 0."""
    return _apply(x, "log", _log_array)


def sigmoid(x):
    """sigma(x) = 1 / (1 + e^-x)."""
    return _apply(x, "sigmoid", lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)))


def relu(x):
    """max(0, x)."""
    return _apply(x, "relu", lambda z: np.maximum(z, 0.0))


# ---------------------------------------------------------------- the domains, shared with Value and Dual
def real_number(x, name: str) -> float:
    """x as a float if it is a plain real number (int or float), or a TypeError naming the argument."""
    if type(x) is float:  # the common case, checked first for speed
        return x
    if isinstance(x, bool) or not isinstance(x, Real):
        raise TypeError(f"{name} must be a real number (int or float), got {type(x).__name__}: {x!r}")
    return float(x)


def exponent_float(n, kind: type) -> float:
    """The exponent n of a ** n as a float: a plain number, for the rule d(a^n)/da = n a^(n-1).

    An exponent of the class ``kind`` (Value, Dual) gets a TypeError that shows the rewrite b ln a.
    """
    if isinstance(n, kind):
        raise TypeError(f"power: the exponent of a {kind.__name__} must be a plain number such as 2 or 0.5; "
                        f"for a {kind.__name__} exponent b write (b * a.log()).exp()")
    return real_number(n, "the exponent of **")


def described(a: float, label: str = "") -> str:
    """'x = 2' for a number with a label, '2' without: how error messages name an input."""
    return f"{label} = {a:g}" if label else f"{a:g}"


def _exp_overflow(a: float) -> OverflowError:
    return OverflowError(f"exp: exp({a:g}) is larger than the largest float (about 1.8e308)")


def exp_float(a: float) -> float:
    """e^a for a float a, or an OverflowError when e^a is larger than the largest float."""
    try:
        return math.exp(a)
    except OverflowError:
        raise _exp_overflow(a) from None


def _exp_array(z: np.ndarray) -> np.ndarray:
    if np.any(z > 709.78):
        raise _exp_overflow(np.max(z))
    return np.exp(z)


def log_float(a: float, label: str = "") -> float:
    """ln a for a float a > 0, or a ValueError naming the input (``label``: its name, if it has one)."""
    if a <= 0.0:
        raise ValueError(f"log: the natural logarithm needs a positive input, got {described(a, label)}")
    return math.log(a)


def _log_array(z: np.ndarray) -> np.ndarray:
    if np.any(z <= 0):
        raise ValueError(f"log: the natural logarithm needs positive inputs, got {np.min(z):g}")
    return np.log(z)


def power_float(a: float, n: float, label: str = "") -> float:
    """a^n for floats a and n, or an error saying why it is not a real number: 0^-1, (-2)^0.5, 10^400."""
    if a == 0.0 and n < 0:
        raise ZeroDivisionError(f"power: {described(a, label)} raised to the negative power {n:g} "
                                f"divides by zero")
    if a < 0.0 and not n.is_integer():
        raise ValueError(f"power: {described(a, label)} is negative, and a negative number raised to "
                         f"the non-integer power {n:g} is not a real number")
    try:
        return a ** n
    except OverflowError:
        raise OverflowError(f"power: {a:g} ** {n:g} is larger than the largest float (about 1.8e308)") from None


def check_power_derivative(a: float, n: float) -> None:
    """A ZeroDivisionError where d(a^n)/da = n a^(n-1) is infinite: at a = 0 with n < 1 (and n != 0)."""
    if a == 0.0 and n < 1.0 and n != 0.0:
        raise ZeroDivisionError(f"power: the derivative of x^{n:g} at x = 0 is infinite "
                                f"(n x^(n-1) with n - 1 < 0)")
