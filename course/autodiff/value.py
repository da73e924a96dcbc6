r"""Reverse-mode automatic differentiation on scalars: dC/dc = sum over c's outgoing edges e of dC/de * de/dc.

Every arithmetic operation on :class:`Value` objects computes its result
(the forward computation) and, right next to it, a small closure that knows
the operation's local derivatives. The closure takes dC/d(out), the gradient
arriving from above, and returns one chain-rule product per input,

    dC/d(input_i) contribution = dC/d(out) * d(out)/d(input_i).

:meth:`Value.backward` visits the nodes of the computation graph in reverse
topological order (found without recursion, so graphs 100,000 operations deep
work) and *adds* each contribution to the input's ``.grad``: a node used by
several operations collects the sum over all its outgoing edges, which is the
general rule of the slides (001, section 3.4.3).

    >>> x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    >>> z1 = x1 * x2; z2 = z1 * x1; y = z2 ** 2
    >>> y.backward()
    >>> x1.grad, x2.grad          # 4 x1^3 x2^2, 2 x1^4 x2
    (288.0, 96.0)

Gradients accumulate in the leaves (the inputs and parameters), as in PyTorch:
a second ``backward()`` adds the same gradient again; call
:meth:`Value.zero_grad` (or :func:`zero_grad` on a list) to start from zero.
"""

from __future__ import annotations

import math
from numbers import Real
from typing import Callable, Iterable

from course.autodiff.elementary import (check_power_derivative, described, exp_float, exponent_float, log_float,
                                        power_float, real_number)

__all__ = ["Value", "topological_order", "zero_grad", "gradient"]


class Value:
    """A scalar node of a computation graph: ``data`` (its value) and ``grad`` (dC/d(this node)).

    Args:
        data: the number this node holds.
        label: a name for drawings and error messages (``"x1"``, ``"w"``).

    Attributes:
        data: the forward value.
        grad: dC/d(node) after :meth:`backward` was called on the output C.
        op: the operation that produced the node (``""`` for a leaf).
        parents: the input nodes of that operation, in order (a node used twice appears twice).
    """

    __slots__ = ("data", "grad", "label", "op", "parents", "_local")

    def __init__(self, data, label: str = "", *, _parents: tuple = (), _op: str = "",
                 _local: Callable[[float], tuple] | None = None):
        self.data = real_number(data, "data")
        self.grad = 0.0
        self.label = str(label)
        self.op = _op
        self.parents = _parents
        self._local = _local

    # ------------------------------------------------------------ helpers
    @property
    def is_leaf(self) -> bool:
        """True for inputs and parameters: nodes that no operation produced."""
        return not self.parents

    def local_derivatives(self) -> tuple[float, ...]:
        """d(self)/d(parent_i) for every parent: the closure evaluated with dC/d(self) = 1."""
        return self._local(1.0) if self._local is not None else ()

    def _describe(self) -> str:
        """'x = 2' for a labelled node, '2' otherwise: for error messages."""
        return described(self.data, self.label)

    @staticmethod
    def _lift(other, op: str) -> "Value":
        kind = type(other)
        if kind is Value:  # the fast paths first
            return other
        if kind is float:
            return Value(other)
        if isinstance(other, Value):
            return other
        if isinstance(other, bool) or not isinstance(other, Real):
            raise TypeError(f"{op}: a Value can be combined only with another Value or a real number, "
                            f"got {type(other).__name__}: {other!r}")
        return Value(other)

    # ------------------------------------------------------------ arithmetic
    def __add__(self, other) -> "Value":
        """out = a + b;  d(out)/da = 1, d(out)/db = 1."""
        other = self._lift(other, "+")
        return Value(self.data + other.data, _parents=(self, other), _op="+",
                     _local=lambda g: (g, g))

    def __mul__(self, other) -> "Value":
        """out = a * b;  d(out)/da = b, d(out)/db = a."""
        other = self._lift(other, "*")
        a, b = self.data, other.data
        return Value(a * b, _parents=(self, other), _op="*",
                     _local=lambda g: (g * b, g * a))

    def __neg__(self) -> "Value":
        """out = -a;  d(out)/da = -1."""
        return Value(-self.data, _parents=(self,), _op="neg", _local=lambda g: (-g,))

    def __sub__(self, other) -> "Value":
        """out = a - b;  d(out)/da = 1, d(out)/db = -1."""
        other = self._lift(other, "-")
        return Value(self.data - other.data, _parents=(self, other), _op="-",
                     _local=lambda g: (g, -g))

    def __truediv__(self, other) -> "Value":
        """out = a / b;  d(out)/da = 1/b, d(out)/db = -a/b^2."""
        other = self._lift(other, "/")
        a, b = self.data, other.data
        if b == 0.0:
            raise ZeroDivisionError(f"division: cannot divide {self._describe()} by {other._describe()} "
                                    f"(a / b needs b != 0)")
        return Value(a / b, _parents=(self, other), _op="/",
                     _local=lambda g: (g / b, -g * a / (b * b)))

    def __pow__(self, exponent) -> "Value":
        """out = a^n for a plain number n;  d(out)/da = n a^(n-1)."""
        n = exponent_float(exponent, Value)
        a = self.data
        out = power_float(a, n, self.label)

        def local(g):
            if n == 0.0:
                return (0.0,)
            check_power_derivative(a, n)
            return (g * n * a ** (n - 1.0),)

        return Value(out, _parents=(self,), _op=f"**{n:g}", _local=local)

    def __rpow__(self, base) -> "Value":
        """out = c^a for a plain positive number c;  d(out)/da = c^a ln c."""
        c = real_number(base, "the base of **")
        if c <= 0.0:
            raise ValueError(f"power: the base {c:g} of {c:g} ** Value must be positive")
        out = c ** self.data
        return Value(out, _parents=(self,), _op=f"{c:g}**", _local=lambda g: (g * out * math.log(c),))

    __radd__ = __add__  # number + Value = Value + number: addition commutes
    __rmul__ = __mul__  # number * Value = Value * number

    def __rsub__(self, other) -> "Value":  # number - Value
        return self._lift(other, "-") - self

    def __rtruediv__(self, other) -> "Value":  # number / Value
        return self._lift(other, "/") / self

    # ------------------------------------------------------------ elementary functions
    def exp(self) -> "Value":
        """out = e^a;  d(out)/da = e^a."""
        out = exp_float(self.data)
        return Value(out, _parents=(self,), _op="exp", _local=lambda g: (g * out,))

    def log(self) -> "Value":
        """out = ln a;  d(out)/da = 1/a."""
        a = self.data
        return Value(log_float(a, self.label), _parents=(self,), _op="log", _local=lambda g: (g / a,))

    def tanh(self) -> "Value":
        """out = tanh a;  d(out)/da = 1 - tanh^2 a."""
        t = math.tanh(self.data)
        return Value(t, _parents=(self,), _op="tanh", _local=lambda g: (g * (1.0 - t * t),))

    def sigmoid(self) -> "Value":
        """out = 1 / (1 + e^-a);  d(out)/da = out (1 - out)."""
        a = self.data
        s = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
        return Value(s, _parents=(self,), _op="sigmoid", _local=lambda g: (g * s * (1.0 - s),))

    def relu(self) -> "Value":
        """out = max(0, a);  d(out)/da = 1 if a > 0 else 0 (0 at a = 0, as in PyTorch)."""
        a = self.data
        return Value(a if a > 0 else 0.0, _parents=(self,), _op="relu",
                     _local=lambda g: (g if a > 0 else 0.0,))

    def square(self) -> "Value":
        """out = a^2, the activation of the slides' worked example: ``self ** 2``."""
        return self ** 2

    def identity(self) -> "Value":
        """out = a, the linear activation: the node itself."""
        return self

    # ------------------------------------------------------------ reverse mode
    def backward(self, seed: float = 1.0) -> list["Value"]:
        """Fill ``.grad`` of every node with dC/d(node), C = this node, by one reverse pass.

        The nodes are visited in reverse topological order, so a node's gradient is
        complete (summed over all its outgoing edges) before it is passed on to its
        inputs. Intermediate gradients are recomputed from zero on every call; leaf
        gradients accumulate (see the module docstring).

        Args:
            seed: dC/dC, 1 by default.

        Returns:
            The nodes in the order the backward pass visited them (output first).
        """
        seed = real_number(seed, "seed")
        order = topological_order(self)
        for node in order:
            if not node.is_leaf:
                node.grad = 0.0
        self.grad += seed
        order.reverse()
        for node in order:
            local = node._local  # noqa: SLF001 - a Value reading its own class's closure
            if local is None:
                continue
            contributions = local(node.grad)
            for parent, contribution in zip(node.parents, contributions):
                parent.grad += contribution
        return order

    def zero_grad(self) -> None:
        """Set ``.grad`` of this node and of every node it depends on to 0."""
        for node in topological_order(self):
            node.grad = 0.0

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        op = f", op={self.op!r}" if self.op else ""
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}{label}{op})"

    def __float__(self) -> float:
        return self.data


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before the operations that use them (root last).

    Depth-first search with an explicit stack instead of recursion, so that a
    chain of a million operations does not hit Python's recursion limit.
    """
    if not isinstance(root, Value):
        raise TypeError(f"root must be a Value, got {type(root).__name__}")
    order: list[Value] = []
    visited: set[Value] = set()  # Values hash by identity
    stack = [(root, False)]  # (node, are its inputs already in `order`?)
    while stack:
        node, inputs_done = stack.pop()
        if inputs_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))  # comes back after all its inputs
            for parent in node.parents:
                if parent not in visited:
                    stack.append((parent, False))
    return order


def zero_grad(values: Iterable[Value]) -> None:
    """Set ``.grad = 0`` on each of the given nodes (typically a model's parameters)."""
    for v in values:
        if not isinstance(v, Value):
            raise TypeError(f"zero_grad expects Value objects, got {type(v).__name__}")
        v.grad = 0.0


def gradient(f: Callable[..., Value], *x: float) -> tuple[float, list[float]]:
    """(f(x), [df/dx_1, ..., df/dx_n]) by ONE reverse-mode pass, for f: R^n -> R.

    ``f`` takes n numbers and must be written with operations that
    :class:`Value` supports (use :mod:`course.autodiff.elementary` for exp, log, ...).
    """
    xs = [Value(real_number(xi, f"x[{i}]"), label=f"x{i + 1}") for i, xi in enumerate(x)]
    y = f(*xs)
    if not isinstance(y, Value):
        raise TypeError(f"f must return a single Value (a scalar output), got {type(y).__name__}")
    y.backward()
    return y.data, [xi.grad for xi in xs]
