"""Reverse mode (course.autodiff.Value): every operation against central differences and PyTorch,
the slides' example (with the slide's missed path), accumulation, deep graphs and clear errors."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from course.autodiff import Value, gradient, topological_order, zero_grad
from course.autodiff import elementary as E

torch = pytest.importorskip("torch")

finite = st.floats(-3.0, 3.0, allow_nan=False, allow_infinity=False)

# Each unary case: (name, function written once for floats, Values and tensors, domain filter)
UNARY = {
    "neg": (lambda a: -a, None),
    "exp": (lambda a: E.exp(a), None),
    "log": (lambda a: E.log(a), lambda x: x > 0.05),
    "tanh": (lambda a: E.tanh(a), None),
    "sigmoid": (lambda a: E.sigmoid(a), None),
    "relu": (lambda a: E.relu(a), lambda x: abs(x) > 1e-3),
    "square": (lambda a: a ** 2, None),
    "cube": (lambda a: a ** 3, None),
    "sqrt": (lambda a: a ** 0.5, lambda x: x > 0.05),
    "inverse_power": (lambda a: a ** -1.5, lambda x: x > 0.05),
    "const_plus": (lambda a: 2.5 + a, None),
    "const_minus": (lambda a: 2.5 - a, None),
    "const_times": (lambda a: 2.5 * a, None),
    "const_over": (lambda a: 2.5 / a, lambda x: abs(x) > 0.05),
    "const_power": (lambda a: 2.5 ** a, None),
    "plus_const": (lambda a: a + 2.5, None),
    "minus_const": (lambda a: a - 2.5, None),
    "times_const": (lambda a: a * 2.5, None),
    "over_const": (lambda a: a / 2.5, None),
}

BINARY = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
}


def central(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


def torch_grad(f, *x):
    ts = [torch.tensor(float(v), dtype=torch.float64, requires_grad=True) for v in x]
    y = f(*ts)
    y.backward()
    return float(y.detach()), [float(t.grad) for t in ts]


# ------------------------------------------------------------ the slides' example (001, section 3.4)
def slide_example(x1, x2):
    z1 = x1 * x2
    z2 = z1 * x1
    return z2 ** 2


@pytest.mark.parametrize("x1, x2", [(2.0, 3.0), (-1.5, 0.5), (0.7, -2.0)])
def test_slide_example_reverse_mode_gives_4x1cubed_x2squared(x1, x2):
    a, b = Value(x1, label="x1"), Value(x2, label="x2")
    y = slide_example(a, b)
    y.backward()
    assert y.data == pytest.approx(x1 ** 4 * x2 ** 2)
    assert a.grad == pytest.approx(4 * x1 ** 3 * x2 ** 2)
    assert b.grad == pytest.approx(2 * x1 ** 4 * x2)


def test_slide_reverse_mode_derivation_misses_the_direct_path():
    """The slide multiplies along ONE path, x1 -> z1 -> z2 -> y, and gets 2 x1^3 x2^2.

    But x1 also enters z2 = z1 * x1 directly. Summing both paths (the general rule of
    section 3.4.3) gives 2 x1^3 x2^2 + 2 x1^3 x2^2 = 4 x1^3 x2^2.
    """
    x1v, x2v = 2.0, 3.0
    x1, x2 = Value(x1v), Value(x2v)
    z1 = x1 * x2
    z2 = z1 * x1
    y = z2 ** 2
    y.backward()
    dy_dz2 = y.local_derivatives()[0]            # 2 z2 = 2 x1^2 x2
    dz2_dz1, dz2_dx1 = z2.local_derivatives()     # x1 and (the missed edge) z1 = x1 x2
    dz1_dx1, dz1_dx2 = z1.local_derivatives()     # x2 and x1
    assert (dy_dz2, dz2_dz1, dz2_dx1, dz1_dx1, dz1_dx2) == (24.0, 2.0, 6.0, 3.0, 2.0)
    slide_value = dy_dz2 * dz2_dz1 * dz1_dx1          # the slide's single path
    missed_path = dy_dz2 * dz2_dx1
    assert slide_value == pytest.approx(2 * x1v ** 3 * x2v ** 2)   # 144: the slide's (wrong) answer
    assert missed_path == pytest.approx(2 * x1v ** 3 * x2v ** 2)
    assert x1.grad == slide_value + missed_path == 288.0 != slide_value
    # dy/dx2 has only one path, so the slide's 2 x1^4 x2 is right
    assert x2.grad == dy_dz2 * dz2_dz1 * dz1_dx2 == 2 * x1v ** 4 * x2v


def test_slide_example_matches_torch():
    y, (g1, g2) = torch_grad(slide_example, 2.0, 3.0)
    value, grads = gradient(slide_example, 2.0, 3.0)
    assert value == y and grads == [g1, g2] == [288.0, 96.0]


# ------------------------------------------------------------ every operation
@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=25, deadline=None)
@given(x=finite)
def test_unary_operation_gradient_matches_central_differences_and_torch(name, x):
    f, domain = UNARY[name]
    assume(domain is None or domain(x))
    v = Value(x)
    y = f(v)
    y.backward()
    ref_value, (ref_grad,) = torch_grad(f, x)
    assert y.data == pytest.approx(ref_value, rel=1e-12, abs=1e-12)
    assert v.grad == pytest.approx(ref_grad, rel=1e-10, abs=1e-12)
    assert v.grad == pytest.approx(central(lambda t: f(t), x), rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=25, deadline=None)
@given(x=finite, z=finite)
def test_binary_operation_gradients_match_torch(name, x, z):
    f = BINARY[name]
    assume(name != "div" or abs(z) > 0.05)
    a, b = Value(x), Value(z)
    y = f(a, b)
    y.backward()
    ref_value, ref_grads = torch_grad(f, x, z)
    assert y.data == pytest.approx(ref_value, rel=1e-12, abs=1e-12)
    assert [a.grad, b.grad] == pytest.approx(ref_grads, rel=1e-10, abs=1e-12)
    assert a.grad == pytest.approx(central(lambda t: f(t, z), x), rel=1e-5, abs=1e-6)
    assert b.grad == pytest.approx(central(lambda t: f(x, t), z), rel=1e-5, abs=1e-6)


def test_relu_derivative_at_zero_is_zero_like_torch():
    v = Value(0.0)
    v.relu().backward()
    assert v.grad == 0.0 == torch_grad(lambda t: t.relu(), 0.0)[1][0]


def test_sigmoid_is_stable_for_large_inputs():
    for x in (-800.0, 800.0):
        v = Value(x)
        s = v.sigmoid()
        s.backward()
        assert s.data == (0.0 if x < 0 else 1.0) and v.grad == 0.0


# ------------------------------------------------------------ random expression graphs against torch
OPS = ["add", "sub", "mul", "div", "neg", "exp", "log", "tanh", "sigmoid", "relu", "square", "cube", "sqrt",
       "radd", "rsub", "rmul", "rdiv"]


def apply(op, a, b, c):
    """One random step; written with safe domains so that every program is valid for both engines."""
    return {
        "add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
        "div": lambda: a / (b * b + 1.0), "neg": lambda: -a,
        "exp": lambda: E.exp(E.tanh(a)), "log": lambda: E.log(a * a + 1.0),
        "tanh": lambda: E.tanh(a), "sigmoid": lambda: E.sigmoid(a), "relu": lambda: E.relu(a),
        "square": lambda: a ** 2, "cube": lambda: a ** 3, "sqrt": lambda: (a * a + 0.5) ** 0.5,
        "radd": lambda: c + a, "rsub": lambda: c - a, "rmul": lambda: c * a, "rdiv": lambda: c / (a * a + 1.0),
    }[op]()


programs = st.tuples(
    st.lists(finite, min_size=1, max_size=4),
    st.lists(st.tuples(st.sampled_from(OPS), st.integers(0, 10**6), st.integers(0, 10**6), finite),
             min_size=1, max_size=30),
    st.integers(1, 5),
)


def run_program(inputs, steps, n_out):
    pool = list(inputs)
    for op, i, j, c in steps:
        pool.append(apply(op, pool[i % len(pool)], pool[j % len(pool)], c))
    out = pool[-1]
    for node in pool[-n_out:-1]:  # sum a few late nodes so that gradients meet from several paths
        out = out + node
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(program=programs)
def test_random_expression_graphs_match_torch(program):
    xs, steps, n_out = program
    try:
        vals = [Value(x, label=f"x{i}") for i, x in enumerate(xs)]
        y = run_program(vals, steps, n_out)
    except OverflowError:
        assume(False)
    assume(abs(y.data) < 1e6)
    relu_kinks = [v for v in topological_order(y) if v.op == "relu" and abs(v.parents[0].data) < 1e-9]
    assume(not relu_kinks)  # derivative conventions at exactly 0 are not the point here
    y.backward()
    ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
    yt = run_program(ts, steps, n_out)
    yt.backward()
    assert y.data == pytest.approx(float(yt.detach()), rel=1e-9, abs=1e-9)
    for v, t in zip(vals, ts):
        ref = 0.0 if t.grad is None else float(t.grad)
        assert v.grad == pytest.approx(ref, rel=1e-7, abs=1e-8)


# ------------------------------------------------------------ accumulation over paths, backward twice
def test_node_used_several_times_collects_gradient_from_every_path():
    x = Value(1.5)
    y = x * x + x + x.exp() * x     # dy/dx = 2x + 1 + e^x (1 + x)
    y.backward()
    assert x.grad == pytest.approx(2 * 1.5 + 1 + math.exp(1.5) * 2.5)


def test_diamond_graph_sums_both_branches():
    x = Value(0.3)
    a, b = x.tanh(), x.sigmoid()
    y = a * b                       # x reaches y through a and through b
    y.backward()
    s = 1 / (1 + math.exp(-0.3))
    expected = (1 - math.tanh(0.3) ** 2) * s + math.tanh(0.3) * s * (1 - s)
    assert x.grad == pytest.approx(expected, rel=1e-14)


def test_backward_twice_accumulates_in_leaves_only():
    x1, x2 = Value(2.0), Value(3.0)
    y = slide_example(x1, x2)
    y.backward()
    first = (x1.grad, x2.grad)
    z_nodes = {id(v): v.grad for v in topological_order(y) if not v.is_leaf}
    y.backward()
    assert (x1.grad, x2.grad) == (2 * first[0], 2 * first[1])      # leaves accumulate, like PyTorch
    assert {id(v): v.grad for v in topological_order(y) if not v.is_leaf} == z_nodes  # not doubled
    zero_grad([x1, x2])
    y.backward()
    assert (x1.grad, x2.grad) == first


def test_zero_grad_resets_the_whole_graph():
    x = Value(2.0)
    y = (x * 3.0).tanh()
    y.backward()
    assert x.grad != 0.0
    y.zero_grad()
    assert all(v.grad == 0.0 for v in topological_order(y))


def test_backward_returns_the_visiting_order_output_first():
    x1, x2 = Value(2.0, "x1"), Value(3.0, "x2")
    y = slide_example(x1, x2)
    order = y.backward()
    assert order[0] is y
    position = {id(v): k for k, v in enumerate(order)}
    for node in order:
        for parent in node.parents:   # every node is finished before its inputs are visited
            assert position[id(node)] < position[id(parent)]


# ------------------------------------------------------------ deep graphs
def test_chain_of_100000_operations_backpropagates_without_recursion_error():
    limit = sys.getrecursionlimit()
    x = Value(0.5, label="x")
    y = x
    for i in range(100_000):
        y = y * 1.00001 if i % 2 else y + 0.001
    order = y.backward()
    assert sys.getrecursionlimit() == limit
    assert len(order) == 100_001 + 100_000          # every operation node plus one constant each
    assert x.grad == pytest.approx(1.00001 ** 50_000, rel=1e-12)


def test_deep_tanh_chain_gradient_matches_torch():
    x = Value(0.8)
    y = x
    for _ in range(3000):
        y = (y * 1.1).tanh()
    y.backward()
    t = torch.tensor(0.8, dtype=torch.float64, requires_grad=True)
    yt = t
    for _ in range(3000):
        yt = (yt * 1.1).tanh()
    yt.backward()
    assert x.grad == pytest.approx(float(t.grad), rel=1e-9)


# ------------------------------------------------------------ clear errors
def test_log_of_non_positive_number_names_the_operation():
    with pytest.raises(ValueError, match=r"log: .*positive.*x = -1"):
        Value(-1.0, label="x").log()
    with pytest.raises(ValueError, match="log"):
        Value(0.0).log()


def test_division_by_zero_names_the_operation():
    with pytest.raises(ZeroDivisionError, match=r"division: cannot divide a = 1 by b = 0"):
        Value(1.0, label="a") / Value(0.0, label="b")
    with pytest.raises(ZeroDivisionError, match="division"):
        2.0 / Value(0.0)
    with pytest.raises(ZeroDivisionError, match="division"):
        Value(3.0) / 0


def test_power_domain_errors():
    with pytest.raises(ValueError, match=r"power: .*negative.*non-integer power 0.5"):
        Value(-4.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="power: .*negative power"):
        Value(0.0) ** -1
    with pytest.raises(TypeError, match="exponent of a Value must be a plain number"):
        Value(2.0) ** Value(3.0)
    with pytest.raises(ValueError, match="base .* must be positive"):
        (-2.0) ** Value(1.0)
    y = Value(0.0) ** 0.5
    with pytest.raises(ZeroDivisionError, match="derivative of x\\^0.5 at x = 0 is infinite"):
        y.backward()
    assert (Value(-2.0) ** 3).data == -8.0


def test_exp_overflow_is_explained():
    with pytest.raises(OverflowError, match="exp: exp\\(1000\\)"):
        Value(1000.0).exp()


def test_bad_operands_name_what_was_given():
    with pytest.raises(TypeError, match="data must be a real number .* got str"):
        Value("3")
    with pytest.raises(TypeError, match=r"\+: a Value can be combined only .* got str"):
        Value(1.0) + "2"
    with pytest.raises(TypeError, match=r"\*: .* got list"):
        [1.0] * Value(1.0)
    with pytest.raises(TypeError, match="seed must be a real number"):
        Value(1.0).backward(seed="one")
    with pytest.raises(TypeError, match="root must be a Value"):
        topological_order(3.0)


def test_numpy_scalars_and_ints_are_accepted():
    v = Value(np.float32(2.0)) * np.int64(3) + 1
    assert v.data == 7.0 and isinstance(v.data, float)


def test_gradient_helper_needs_a_scalar_value():
    with pytest.raises(TypeError, match="f must return a single Value"):
        gradient(lambda a, b: [a, b], 1.0, 2.0)
