r"""Forward versus reverse mode for f: R^n -> R^m: the Jacobian J_ij = df_i/dx_j needs n forward or m reverse passes.

* Forward mode (dual numbers) computes one COLUMN of J per pass: J v for a seed v = e_j.
* Reverse mode (backpropagation) computes one ROW of J per pass: u^T J for a seed u = e_i.

A network's cost C(w) has n = millions of inputs (the parameters) and m = 1
output, so reverse mode gets the whole gradient in one pass, where forward mode
would need one pass per parameter.

``f`` is written once and takes n scalars; it returns one scalar or a list of m
scalars. Use the operators and :mod:`course.autodiff.elementary` (exp, log, tanh,
...) so that it runs with both :class:`Dual` and :class:`Value` inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from course.autodiff.dual import Dual
from course.autodiff.value import Value

__all__ = ["JacobianResult", "jacobian"]


@dataclass
class JacobianResult:
    """The Jacobian, how it was computed and how many graph passes it took.

    Attributes:
        J: (m, n) array, J[i, j] = df_i / dx_j.
        value: (m,) array, f(x).
        mode: ``"forward"`` or ``"reverse"``.
        passes: forward mode: n (one per input); reverse mode: m (one per output).
    """

    J: np.ndarray
    value: np.ndarray
    mode: str
    passes: int


def _as_list(y) -> list:
    return list(y) if isinstance(y, (list, tuple)) else [y]


def jacobian(f: Callable, x, mode: str = "reverse") -> JacobianResult:
    """J = df/dx at x, by ``mode="forward"`` (n dual-number passes) or ``"reverse"`` (m backward passes).

    Shape: x (n,) -> J (m, n).
    """
    x = [float(v) for v in np.asarray(x, dtype=float).reshape(-1)]
    n = len(x)
    if n == 0:
        raise ValueError("x must hold at least one input value, got an empty array")
    if mode == "forward":
        columns, value = [], None
        for j in range(n):
            ys = _as_list(f(*[Dual(xk, 1.0 if k == j else 0.0) for k, xk in enumerate(x)]))
            ys = [y if isinstance(y, Dual) else Dual(y) for y in ys]
            columns.append([y.deriv for y in ys])
            value = [y.value for y in ys]
        J = np.array(columns, dtype=float).T.reshape(len(value), n)
        return JacobianResult(J, np.array(value), "forward", n)
    if mode == "reverse":
        xs = [Value(xk, label=f"x{k + 1}") for k, xk in enumerate(x)]
        ys = _as_list(f(*xs))  # one forward pass records the graph
        ys = [y if isinstance(y, Value) else Value(y) for y in ys]
        rows = []
        for y in ys:  # one backward pass per output
            for xk in xs:
                xk.grad = 0.0
            y.backward()
            rows.append([xk.grad for xk in xs])
        return JacobianResult(np.array(rows, dtype=float).reshape(len(ys), n),
                              np.array([y.data for y in ys]), "reverse", len(ys))
    raise ValueError(f"mode must be 'forward' or 'reverse', got {mode!r}")
