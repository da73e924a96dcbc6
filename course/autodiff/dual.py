r"""Forward-mode automatic differentiation with dual numbers: f(a + b eps) = f(a) + f'(a) b eps, eps^2 = 0.

A :class:`Dual` number carries a value and one derivative along a chosen input
direction. Every operation updates both together, so the derivative is ready as
soon as the forward computation ends (no graph is stored):

    (a + a' eps) * (b + b' eps) = a b + (a' b + a b') eps.

Seeding ``x1 = Dual(2, 1)`` and ``x2 = Dual(3, 0)`` gives dy/dx1 in ``y.deriv``;
dy/dx2 needs a second pass with the seeds swapped. For f: R^n -> R that is n
passes, against one reverse pass (:func:`course.autodiff.gradient`): this is why
neural networks (millions of inputs = parameters, one output = the cost) are
trained with reverse mode.

    >>> x1, x2 = Dual(2.0, 1.0), Dual(3.0, 0.0)
    >>> y = ((x1 * x2) * x1) ** 2
    >>> y.value, y.deriv          # x1^4 x2^2 and dy/dx1 = 4 x1^3 x2^2
    (144.0, 288.0)
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Callable

from course.autodiff.elementary import (check_power_derivative, exp_float, exponent_float, log_float, power_float,
                                        real_number)

__all__ = ["Dual", "derivative", "directional_derivative", "gradient_forward"]


class Dual:
    """A dual number value + deriv * eps (eps^2 = 0): a value and its derivative along one direction.

    Args:
        value: the ordinary value a.
        deriv: the derivative a' = da/dt along the seeded direction (1 for the
            input being differentiated, 0 for the others and for constants).
    """

    __slots__ = ("value", "deriv")

    def __init__(self, value, deriv=0.0):
        self.value = real_number(value, "value")
        self.deriv = real_number(deriv, "deriv")

    @staticmethod
    def _lift(other, op: str) -> "Dual":
        if isinstance(other, Dual):
            return other
        if isinstance(other, bool) or not isinstance(other, Real):
            raise TypeError(f"{op}: a Dual can be combined only with another Dual or a real number, "
                            f"got {type(other).__name__}: {other!r}")
        return Dual(other, 0.0)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other) -> "Dual":
        """(a + a'eps) + (b + b'eps) = (a + b) + (a' + b') eps."""
        other = self._lift(other, "+")
        return Dual(self.value + other.value, self.deriv + other.deriv)

    def __mul__(self, other) -> "Dual":
        """(a + a'eps)(b + b'eps) = ab + (a'b + ab') eps  (the product rule)."""
        other = self._lift(other, "*")
        return Dual(self.value * other.value, self.deriv * other.value + self.value * other.deriv)

    def __neg__(self) -> "Dual":
        """-(a + a'eps) = -a - a' eps."""
        return Dual(-self.value, -self.deriv)

    def __sub__(self, other) -> "Dual":
        """(a + a'eps) - (b + b'eps) = (a - b) + (a' - b') eps."""
        other = self._lift(other, "-")
        return Dual(self.value - other.value, self.deriv - other.deriv)

    def __truediv__(self, other) -> "Dual":
        """(a + a'eps)/(b + b'eps) = a/b + (a'b - ab')/b^2 eps  (the quotient rule)."""
        other = self._lift(other, "/")
        a, b = self.value, other.value
        if b == 0.0:
            raise ZeroDivisionError(f"division: cannot divide {a:g} by 0 (a / b needs b != 0)")
        return Dual(a / b, (self.deriv * b - a * other.deriv) / (b * b))

    def __pow__(self, exponent) -> "Dual":
        """(a + a'eps)^n = a^n + n a^(n-1) a' eps, for a plain number n."""
        n = exponent_float(exponent, Dual)
        a = self.value
        out = power_float(a, n)
        if n == 0.0 or self.deriv == 0.0:
            return Dual(out, 0.0)
        check_power_derivative(a, n)
        return Dual(out, n * a ** (n - 1.0) * self.deriv)

    def __rpow__(self, base) -> "Dual":
        """c^(a + a'eps) = c^a + c^a ln(c) a' eps, for a plain positive number c."""
        c = real_number(base, "the base of **")
        if c <= 0.0:
            raise ValueError(f"power: the base {c:g} of {c:g} ** Dual must be positive")
        out = c ** self.value
        return Dual(out, out * math.log(c) * self.deriv)

    __radd__ = __add__  # number + Dual = Dual + number: addition commutes
    __rmul__ = __mul__  # number * Dual = Dual * number

    def __rsub__(self, other) -> "Dual":
        return self._lift(other, "-") - self

    def __rtruediv__(self, other) -> "Dual":
        return self._lift(other, "/") / self

    # ------------------------------------------------------------ elementary functions
    def exp(self) -> "Dual":
        """e^(a + a'eps) = e^a + e^a a' eps."""
        out = exp_float(self.value)
        return Dual(out, out * self.deriv)

    def log(self) -> "Dual":
        """ln(a + a'eps) = ln a + (a'/a) eps."""
        a = self.value
        return Dual(log_float(a), self.deriv / a)

    def tanh(self) -> "Dual":
        """tanh(a + a'eps) = tanh a + (1 - tanh^2 a) a' eps."""
        t = math.tanh(self.value)
        return Dual(t, (1.0 - t * t) * self.deriv)

    def sigmoid(self) -> "Dual":
        """sigma(a + a'eps) = sigma(a) + sigma(a)(1 - sigma(a)) a' eps."""
        a = self.value
        s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        return Dual(s, s * (1.0 - s) * self.deriv)

    def relu(self) -> "Dual":
        """max(0, a + a'eps) = max(0, a) + [a > 0] a' eps."""
        a = self.value
        return Dual(a, self.deriv) if a > 0 else Dual(0.0, 0.0)

    def __repr__(self) -> str:
        sign = "-" if self.deriv < 0 else "+"
        return f"Dual({self.value:.6g} {sign} {abs(self.deriv):.6g} eps)"

    def __float__(self) -> float:
        return self.value


def _seeded(x, direction) -> list[Dual]:
    if len(direction) != len(x):
        raise ValueError(f"direction must have one entry per input ({len(x)}), got {len(direction)}")
    return [Dual(real_number(xi, f"x[{i}]"), real_number(vi, f"direction[{i}]"))
            for i, (xi, vi) in enumerate(zip(x, direction))]


def _output(y, what: str) -> Dual:
    if isinstance(y, Dual):
        return y
    if isinstance(y, Real) and not isinstance(y, bool):
        return Dual(y, 0.0)  # f ignored its inputs: a constant has derivative 0
    raise TypeError(f"{what}: f must return a Dual (a scalar output), got {type(y).__name__}")


def directional_derivative(f: Callable[..., Dual], x, direction) -> tuple[float, float]:
    """(f(x), grad f(x) . v) in ONE forward pass: every input x_i is seeded with x_i + v_i eps."""
    x = list(x)
    y = _output(f(*_seeded(x, list(direction))), "directional_derivative")
    return y.value, y.deriv


def derivative(f: Callable[[Dual], Dual], x: float) -> float:
    """f'(x) for f: R -> R in one forward pass (seed x + 1 eps)."""
    return directional_derivative(f, [x], [1.0])[1]


def gradient_forward(f: Callable[..., Dual], *x: float) -> tuple[float, list[float], int]:
    """(f(x), [df/dx_1, ..., df/dx_n], passes) for f: R^n -> R by forward mode: n passes, one per input.

    Pass i seeds x_i with derivative 1 and all other inputs with 0.
    """
    n = len(x)
    grad, value = [], None
    for i in range(n):
        seed = [1.0 if j == i else 0.0 for j in range(n)]
        value, d = directional_derivative(f, x, seed)
        grad.append(d)
    if n == 0:
        value = float(_output(f(), "gradient_forward").value)
    return value, grad, n
