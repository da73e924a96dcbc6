"""Forward mode (course.autodiff.Dual) and the two modes side by side: same derivatives, different pass counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from course.autodiff import Dual, Value, derivative, directional_derivative, gradient, gradient_forward, jacobian
from course.autodiff import elementary as E

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)

FUNCTIONS = {  # written once, run with Dual and with Value
    "neg": lambda a: -a,
    "exp": lambda a: E.exp(a),
    "log": lambda a: E.log(a * a + 0.1),
    "tanh": lambda a: E.tanh(a),
    "sigmoid": lambda a: E.sigmoid(a),
    "relu": lambda a: E.relu(a - 0.25),
    "powers": lambda a: a ** 3 - 2 * a ** 2 + (a * a + 1) ** 0.5,
    "quotients": lambda a: 1.5 / (a * a + 1) + a / 3 - (2 - a) * 4,
    "const_power": lambda a: 2.0 ** a,
    "nested": lambda a: E.tanh(E.exp(E.sigmoid(a) * a) / (1 + a * a)),
}


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(max_examples=30, deadline=None)
@given(x=finite)
def test_forward_mode_equals_reverse_mode_and_central_differences(name, x):
    f = FUNCTIONS[name]
    assume(name != "relu" or abs(x - 0.25) > 1e-3)
    d = f(Dual(x, 1.0))
    v = Value(x)
    y = f(v)
    y.backward()
    assert d.value == pytest.approx(y.data, rel=1e-14, abs=1e-14)
    assert d.deriv == pytest.approx(v.grad, rel=1e-12, abs=1e-13)
    assert d.deriv == pytest.approx(central(f, x), rel=1e-5, abs=1e-6)


def test_dual_arithmetic_is_the_product_and_quotient_rule():
    a, b = Dual(2.0, 3.0), Dual(5.0, -1.0)
    p, q = a * b, a / b
    assert (p.value, p.deriv) == (10.0, 3.0 * 5.0 + 2.0 * -1.0)
    assert (q.value, q.deriv) == pytest.approx((0.4, (3.0 * 5.0 - 2.0 * -1.0) / 25.0))
    s = 1.0 - a
    assert (s.value, s.deriv) == (-1.0, -3.0)


# ------------------------------------------------------------ the slides' example in forward mode
def slide_example(x1, x2):
    z1 = x1 * x2
    z2 = z1 * x1
    return z2 ** 2


@pytest.mark.parametrize("x1, x2", [(2.0, 3.0), (-1.5, 0.5)])
def test_slide_example_forward_mode_two_passes(x1, x2):
    y_a = slide_example(Dual(x1, 1.0), Dual(x2, 0.0))     # pass 1: seed x1
    y_b = slide_example(Dual(x1, 0.0), Dual(x2, 1.0))     # pass 2: seed x2
    assert y_a.deriv == pytest.approx(4 * x1 ** 3 * x2 ** 2)
    assert y_b.deriv == pytest.approx(2 * x1 ** 4 * x2)
    value, grad, passes = gradient_forward(slide_example, x1, x2)
    assert passes == 2 and grad == [y_a.deriv, y_b.deriv] and value == pytest.approx(x1 ** 4 * x2 ** 2)


def test_slide_forward_mode_step_2_misses_the_direct_term():
    """The slide writes dz2/dx1 = dz2/dz1 * dz1/dx1 = x1 x2; z2 = z1 * x1 also depends on x1 directly,
    so the product rule gives x1 * x2 + z1 * 1 = 2 x1 x2, and dy/dx1 = 2 z2 * 2 x1 x2 = 4 x1^3 x2^2."""
    x1, x2 = Dual(2.0, 1.0), Dual(3.0, 0.0)
    z1 = x1 * x2
    z2 = z1 * x1
    y = z2 ** 2
    assert z1.deriv == 3.0                          # x2, as on the slide
    assert z2.deriv == 2 * 2.0 * 3.0 == 12.0        # 2 x1 x2, the slide has x1 x2 = 6
    assert y.deriv == 4 * 2.0 ** 3 * 3.0 ** 2 == 288.0  # the slide has 2 x1^3 x2^2 = 144


# ------------------------------------------------------------ helpers and pass counts
def test_derivative_and_directional_derivative():
    assert derivative(lambda x: x ** 3, 2.0) == 12.0
    f = lambda a, b, c: a * b + E.exp(c) * a  # noqa: E731
    x, v = [1.0, 2.0, 0.5], [0.3, -1.0, 2.0]
    value, dd = directional_derivative(f, x, v)
    _, grad = gradient(f, *x)
    assert value == pytest.approx(1.0 * 2.0 + math.exp(0.5))
    assert dd == pytest.approx(float(np.dot(grad, v)), rel=1e-14)


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 12), seed=st.integers(0, 1000))
def test_gradient_needs_n_forward_passes_but_one_reverse_pass(n, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(n)
    x = rng.standard_normal(n)

    def cost(*xs):  # R^n -> R, like a network's cost of n parameters
        s = 0.0
        for wi, xi in zip(w, xs):
            s = s + float(wi) * E.tanh(xi)
        return s * s

    fwd = jacobian(cost, x, mode="forward")
    rev = jacobian(cost, x, mode="reverse")
    assert (fwd.passes, rev.passes) == (n, 1)
    assert fwd.J.shape == rev.J.shape == (1, n)
    s = float(np.dot(w, np.tanh(x)))
    np.testing.assert_allclose(rev.J[0], 2 * s * w * (1 - np.tanh(x) ** 2), rtol=1e-12)
    np.testing.assert_allclose(fwd.J, rev.J, rtol=1e-12, atol=1e-15)


def test_many_outputs_few_inputs_favours_forward_mode():
    def f(x):  # R -> R^5
        return [x ** k for k in range(1, 6)]

    fwd, rev = jacobian(f, [1.5], "forward"), jacobian(f, [1.5], "reverse")
    assert (fwd.passes, rev.passes) == (1, 5)
    np.testing.assert_allclose(fwd.J[:, 0], [k * 1.5 ** (k - 1) for k in range(1, 6)])
    np.testing.assert_allclose(fwd.J, rev.J)


def test_jacobian_rejects_unknown_mode_and_empty_input():
    with pytest.raises(ValueError, match="mode must be 'forward' or 'reverse', got 'sideways'"):
        jacobian(lambda a: a, [1.0], mode="sideways")
    with pytest.raises(ValueError, match="at least one input"):
        jacobian(lambda: 1.0, [], mode="forward")


# ------------------------------------------------------------ errors
def test_dual_domain_errors_name_the_operation():
    with pytest.raises(ValueError, match="log: .*positive.* got -2"):
        Dual(-2.0, 1.0).log()
    with pytest.raises(ZeroDivisionError, match="division"):
        Dual(1.0, 1.0) / 0.0
    with pytest.raises(ZeroDivisionError, match="division"):
        1.0 / Dual(0.0, 1.0)
    with pytest.raises(ValueError, match="power: .*negative"):
        Dual(-1.0, 1.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="infinite"):
        Dual(0.0, 1.0) ** 0.5
    with pytest.raises(OverflowError, match="exp"):
        Dual(1e4, 1.0).exp()
    with pytest.raises(TypeError, match="value must be a real number .* got str"):
        Dual("1")
    with pytest.raises(TypeError, match="a Dual can be combined only"):
        Dual(1.0) * "x"
    with pytest.raises(ValueError, match="direction must have one entry per input"):
        directional_derivative(lambda a, b: a * b, [1.0, 2.0], [1.0])


def test_sqrt_at_zero_with_zero_tangent_is_fine():
    d = Dual(0.0, 0.0) ** 0.5
    assert (d.value, d.deriv) == (0.0, 0.0)
