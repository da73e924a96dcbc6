r"""Three ways to a derivative: symbolic (SymPy), finite differences (f(x+h) - f(x-h))/(2h), and automatic.

* **Symbolic** differentiation applies the rules to a formula. Exact, but the
  formula of a derivative can grow much faster than the function's own graph
  ("expression swell", :func:`expression_swell`).
* **Finite differences** need only evaluations of f, but are inexact: the
  forward difference (f(x+h) - f(x))/h has truncation error ~ |f''| h/2, the
  central difference ~ |f'''| h^2/6, and both have round-off error ~ eps |f|/h
  (eps = 2.2e-16). Plotted against h the total error is a V on log-log axes,
  smallest near h ~ sqrt(eps) (forward) and h ~ eps^(1/3) (central)
  (:func:`step_size_errors`). They also cost one or two evaluations per input.
* **Automatic** differentiation (:class:`Dual`, :class:`Value`) applies the
  chain rule to the elementary operations of the evaluation: exact to round-off,
  at a small constant multiple of the cost of evaluating f.

SymPy is imported only inside the functions that need it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from course.autodiff.dual import Dual
from course.autodiff.value import Value, topological_order

__all__ = ["forward_difference", "central_difference", "StepSizeErrors", "step_size_errors",
           "plot_step_size_errors", "symbolic_derivative", "compare_methods", "expression_swell",
           "logistic_map", "EPS"]

EPS = float(np.finfo(float).eps)


def _check_h(h) -> np.ndarray:
    h = np.asarray(h, dtype=float)
    if np.any(~np.isfinite(h)) or np.any(h <= 0):
        raise ValueError(f"the step size h must be positive and finite, got {h}")
    return h


def forward_difference(f: Callable[[float], float], x: float, h=1e-8):
    """(f(x + h) - f(x)) / h: error O(h) from truncation plus O(eps/h) from round-off. h may be an array."""
    h = _check_h(h)
    fx = float(f(x))
    out = np.array([(float(f(x + hi)) - fx) / hi for hi in h.reshape(-1)]).reshape(h.shape)
    return float(out) if out.ndim == 0 else out


def central_difference(f: Callable[[float], float], x: float, h=1e-5):
    """(f(x + h) - f(x - h)) / (2h): error O(h^2) from truncation plus O(eps/h) from round-off."""
    h = _check_h(h)
    out = np.array([(float(f(x + hi)) - float(f(x - hi))) / (2 * hi) for hi in h.reshape(-1)]).reshape(h.shape)
    return float(out) if out.ndim == 0 else out


@dataclass
class StepSizeErrors:
    """|finite difference - exact derivative| for a range of step sizes h.

    Attributes:
        h: (k,) step sizes, increasing.
        forward, central: (k,) absolute errors of the two formulas.
        exact: the exact derivative used as reference.
        x: the point.
    """

    h: np.ndarray
    forward: np.ndarray
    central: np.ndarray
    exact: float
    x: float

    def best(self, kind: str = "central") -> tuple[float, float]:
        """(h, error) at the smallest error of ``kind`` (``"forward"`` or ``"central"``)."""
        if kind not in ("forward", "central"):
            raise ValueError(f"kind must be 'forward' or 'central', got {kind!r}")
        err = getattr(self, kind)
        masked = np.where(err > 0, err, np.inf)
        k = int(np.argmin(masked))
        return float(self.h[k]), float(err[k])

    def slope(self, kind: str, h_min: float, h_max: float) -> float:
        """The log-log slope of the error between h_min and h_max (1 forward, 2 central, -1 round-off)."""
        err = getattr(self, kind)
        sel = (self.h >= h_min) & (self.h <= h_max) & (err > 0)
        if sel.sum() < 2:
            raise ValueError(f"need at least two step sizes with nonzero error in [{h_min:g}, {h_max:g}]")
        return float(np.polyfit(np.log10(self.h[sel]), np.log10(err[sel]), 1)[0])


def step_size_errors(f: Callable[[float], float], df_exact: float, x: float, h=None) -> StepSizeErrors:
    """Errors of forward and central differences of f at x for every h (default 10^-16 ... 10^0)."""
    h = np.logspace(-16, 0, 65) if h is None else np.sort(_check_h(h).reshape(-1))
    exact = float(df_exact)
    fwd = np.abs(forward_difference(f, x, h) - exact)
    cen = np.abs(central_difference(f, x, h) - exact)
    return StepSizeErrors(h, np.atleast_1d(fwd), np.atleast_1d(cen), exact, float(x))


def plot_step_size_errors(result: StepSizeErrors, ax=None, f2: float | None = None, f3: float | None = None,
                          fx: float | None = None):
    """The V-shaped error curves on log-log axes; with f'' (f2), f''' (f3) and f(x) (fx), the error model too.

    Model: forward ~ |f''| h/2 + 2 eps |f|/h, central ~ |f'''| h^2/6 + eps |f|/h.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    h = result.h
    tiny = 1e-18  # an exact hit (error 0) would vanish from a log plot
    ax.loglog(h, np.maximum(result.forward, tiny), "o-", ms=3, label="forward difference")
    ax.loglog(h, np.maximum(result.central, tiny), "s-", ms=3, label="central difference")
    if fx is not None and f2 is not None:
        ax.loglog(h, abs(f2) * h / 2 + 2 * EPS * abs(fx) / h, "--", color="C0", lw=1,
                  label=r"model $|f''|h/2 + 2\varepsilon|f|/h$")
    if fx is not None and f3 is not None:
        ax.loglog(h, abs(f3) * h ** 2 / 6 + EPS * abs(fx) / h, "--", color="C1", lw=1,
                  label=r"model $|f'''|h^2/6 + \varepsilon|f|/h$")
    ax.axvline(np.sqrt(EPS), color="C0", lw=0.6, ls=":")
    ax.axvline(EPS ** (1 / 3), color="C1", lw=0.6, ls=":")
    ax.set_xlabel("step size h")
    ax.set_ylabel("absolute error of the derivative")
    ax.set_ylim(1e-17, 1e3)
    ax.legend(fontsize=8)
    return ax


def symbolic_derivative(f: Callable, n_args: int = 1, names: str | None = None):
    """(expression, [d expression / d x_i]) of f, by calling f on SymPy symbols and using ``sympy.diff``.

    ``f`` must use operators and :mod:`course.autodiff.elementary` functions, so that it
    accepts symbols. Symbols are named x1, x2, ... (or ``names``, e.g. ``"x"``).
    """
    import sympy

    if int(n_args) != n_args or n_args < 1:
        raise ValueError(f"n_args must be a positive whole number, got {n_args!r}")
    if names is None:
        names = "x" if n_args == 1 else " ".join(f"x{i + 1}" for i in range(n_args))
    symbols = sympy.symbols(names, real=True)
    symbols = list(symbols) if isinstance(symbols, (list, tuple)) else [symbols]
    if len(symbols) != n_args:
        raise ValueError(f"names must give {n_args} symbol names, got {names!r}")
    expr = f(*symbols)
    return expr, [sympy.diff(expr, s) for s in symbols]


def compare_methods(f: Callable, x: float, h_forward: float = 1e-8, h_central: float = 1e-5) -> dict:
    """df/dx at x by five methods: {method: (value, |value - symbolic|)}, for f: R -> R.

    Methods: symbolic (SymPy, the reference), forward and central difference,
    forward-mode AD (Dual), reverse-mode AD (Value).
    """
    import sympy

    expr, (dexpr,) = symbolic_derivative(f, 1)
    (sym,) = expr.free_symbols or {sympy.Symbol("x", real=True)}
    exact = float(dexpr.subs(sym, x).evalf(30))
    out = {"symbolic": exact,
           "forward difference": forward_difference(f, x, h_forward),
           "central difference": central_difference(f, x, h_central),
           "forward mode (Dual)": f(Dual(x, 1.0)).deriv}
    v = Value(x)
    y = f(v)
    y.backward()
    out["reverse mode (Value)"] = v.grad
    return {k: (float(val), abs(float(val) - exact)) for k, val in out.items()}


def logistic_map(x, n: int):
    """l_n(x) with l_0 = x, l_(k+1) = 4 l_k (1 - l_k): the classic example of expression swell."""
    for _ in range(int(n)):
        x = 4 * x * (1 - x)
    return x


def expression_swell(depths=range(1, 7)) -> dict:
    """Size of the symbolic derivative of l_n(x) (logistic map) against the size of its AD graph.

    Returns ``{"depth": [...], "function_ops": [...], "derivative_ops": [...], "graph_nodes": [...]}``:
    SymPy's operation counts (``count_ops``) of l_n and of dl_n/dx (unsimplified, as
    ``sympy.diff`` returns it) and the number of nodes of the :class:`Value` graph.
    """
    import sympy

    x = sympy.Symbol("x", real=True)
    out = {"depth": [], "function_ops": [], "derivative_ops": [], "graph_nodes": []}
    for n in depths:
        expr = logistic_map(x, n)
        out["depth"].append(int(n))
        out["function_ops"].append(int(sympy.count_ops(expr)))
        out["derivative_ops"].append(int(sympy.count_ops(sympy.diff(expr, x))))
        out["graph_nodes"].append(len(topological_order(logistic_map(Value(0.3), n))))
    return out
