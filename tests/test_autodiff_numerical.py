"""Symbolic vs finite differences vs automatic differentiation (course.autodiff.numerical, elementary)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from course.autodiff import Dual, Value
from course.autodiff import elementary as E
from course.autodiff.numerical import (EPS, central_difference, compare_methods, expression_swell,
                                       forward_difference, logistic_map, plot_step_size_errors,
                                       step_size_errors, symbolic_derivative)

sympy = pytest.importorskip("sympy")


def f(x):
    return E.exp(x) * E.tanh(x) + E.log(x * x + 1)


def df(x):
    return math.exp(x) * math.tanh(x) + math.exp(x) * (1 - math.tanh(x) ** 2) + 2 * x / (x * x + 1)


def test_finite_difference_formulas():
    assert forward_difference(lambda x: x ** 2, 3.0, 0.5) == pytest.approx(6.5)     # 2x + h
    assert central_difference(lambda x: x ** 3, 2.0, 0.5) == pytest.approx(12.25)   # 3x^2 + h^2
    np.testing.assert_allclose(central_difference(lambda x: x ** 3, 2.0, np.array([0.5, 0.1])), [12.25, 12.01])
    with pytest.raises(ValueError, match="step size h must be positive"):
        central_difference(math.sin, 1.0, 0.0)


def test_step_size_error_curve_is_a_v():
    res = step_size_errors(math.exp, math.exp(1.0), 1.0)
    # truncation regime (large h): slope 1 (forward) and 2 (central) on log-log axes
    assert res.slope("forward", 1e-5, 1e-2) == pytest.approx(1.0, abs=0.1)
    assert res.slope("central", 1e-3, 1e-1) == pytest.approx(2.0, abs=0.1)
    # round-off regime (tiny h): the error grows like eps/h
    assert res.slope("central", 1e-13, 1e-9) == pytest.approx(-1.0, abs=0.35)
    h_f, e_f = res.best("forward")
    h_c, e_c = res.best("central")
    assert 1e-2 < h_f / np.sqrt(EPS) < 1e2 and e_f < 1e-6      # near sqrt(eps) = 1.5e-8
    assert 1e-2 < h_c / EPS ** (1 / 3) < 1e2 and e_c < 1e-9   # near eps^(1/3) = 6e-6
    assert e_c < e_f
    assert res.forward[0] > 1e-2 and res.central[-1] > 1e-2   # both ends of the V are bad


def test_plot_step_size_errors_draws_both_curves_and_the_model():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = step_size_errors(math.exp, math.exp(1.0), 1.0)
    ax = plot_step_size_errors(res, fx=math.e, f2=math.e, f3=math.e)
    assert len(ax.get_lines()) == 4 + 2
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), np.maximum(res.central, 1e-18))
    plt.close("all")


def test_symbolic_derivative_of_the_slide_example():
    expr, (d1, d2) = symbolic_derivative(lambda x1, x2: ((x1 * x2) * x1) ** 2, 2)
    x1, x2 = sorted(expr.free_symbols, key=str)
    assert sympy.simplify(d1 - 4 * x1 ** 3 * x2 ** 2) == 0
    assert sympy.simplify(d2 - 2 * x1 ** 4 * x2) == 0


def test_all_methods_agree_and_ad_is_exact():
    table = compare_methods(f, 0.7)
    exact = df(0.7)
    assert table["symbolic"][0] == pytest.approx(exact, rel=1e-15)
    assert table["forward mode (Dual)"][1] < 1e-14 * abs(exact)
    assert table["reverse mode (Value)"][1] < 1e-14 * abs(exact)
    assert 1e-12 < table["central difference"][1] < 1e-8
    assert 1e-10 < table["forward difference"][1] < 1e-6


def test_expression_swell_symbolic_grows_exponentially_graph_linearly():
    out = expression_swell(range(1, 6))
    d = out["derivative_ops"]
    assert all(b > 2 * a for a, b in zip(d[1:], d[2:]))          # more than doubles per level
    steps = np.diff(out["graph_nodes"])
    assert np.all(steps == steps[0]) and steps[0] == 5           # 4 *, 1 -, *  : 5 nodes per level
    assert logistic_map(0.3, 2) == pytest.approx(4 * (4 * 0.3 * 0.7) * (1 - 4 * 0.3 * 0.7))


def test_elementary_functions_dispatch_on_the_argument():
    x = 0.4
    assert E.exp(x) == math.exp(x) and E.log(2.0) == math.log(2.0)
    assert E.sigmoid(0.0) == 0.5 and E.relu(-1.0) == 0.0 and E.tanh(x) == math.tanh(x)
    np.testing.assert_allclose(E.sigmoid(np.array([-1.0, 1.0])), 1 / (1 + np.exp([1.0, -1.0])))
    assert isinstance(E.tanh(Value(x)), Value) and isinstance(E.tanh(Dual(x, 1.0)), Dual)
    s = sympy.Symbol("s")
    assert E.sigmoid(s).diff(s).subs(s, 0) == sympy.Rational(1, 4)
    assert E.relu(s) == sympy.Max(0, s)
    with pytest.raises(ValueError, match="log: the natural logarithm needs positive inputs, got -1"):
        E.log(-1.0)
    with pytest.raises(OverflowError, match="exp"):
        E.exp(1000.0)
    with pytest.raises(TypeError, match="tanh: expected a number"):
        E.tanh("x")
