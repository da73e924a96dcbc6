"""Every activation and its derivative: central differences, torch autograd, properties, errors."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from course import activations
from course.gradcheck import numerical_gradient
from tests.helpers import torch_activation

# every registered activation with a torch equivalent, softmax (vector-valued, tested below) aside
ELEMENTWISE = sorted({activations.get(n).name for n in activations.names()
                      if activations.get(n).torch_name is not None} - {"softmax"})
SMOOTH_AT_ZERO = {"identity", "sigmoid", "tanh", "gelu", "swish", "softplus", "square"}
finite = st.floats(-8, 8, allow_nan=False, width=64)
vectors = arrays(np.float64, st.integers(1, 12), elements=finite)


def _away_from_kink(name, z):
    """Central differences are not defined at a kink: keep z away from 0 for piecewise functions."""
    if name in SMOOTH_AT_ZERO:
        return z
    return np.where(np.abs(z) < 1e-3, 0.5, z)


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(z=vectors)
@settings(max_examples=40, deadline=None)
def test_derivative_matches_central_differences(name, z):
    act = activations.get(name)
    z = _away_from_kink(name, z)
    numeric = np.array([numerical_gradient(lambda v: float(act.f(v)[0]), np.array([zi])) [0] for zi in z])
    np.testing.assert_allclose(act.df(z), numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("name", ELEMENTWISE)
@given(z=vectors)
@settings(max_examples=40, deadline=None)
def test_value_and_derivative_match_torch(name, z):
    act = activations.get(name)
    z = _away_from_kink(name, z)
    t = torch.tensor(z, requires_grad=True)
    out = torch_activation(name, t)
    out.sum().backward()
    np.testing.assert_allclose(act.f(z), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(act.df(z), t.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(z=arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(2, 6)), elements=finite),
       v_seed=st.integers(0, 2**31))
@settings(max_examples=40, deadline=None)
def test_softmax_jvp_vjp_and_jacobian_match_torch(z, v_seed):
    sm = activations.get("softmax")
    v = np.random.default_rng(v_seed).standard_normal(z.shape)
    t = torch.tensor(z, requires_grad=True)
    s = torch.softmax(t, dim=-1)
    (s * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(sm.f(z), s.detach().numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sm.vjp(z, v), t.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sm.jvp(z, v), np.einsum("nij,nj->ni", sm.jacobian(z), v), rtol=1e-9, atol=1e-12)
    row_jac = torch.autograd.functional.jacobian(lambda r: torch.softmax(r, -1), torch.tensor(z[0]))
    np.testing.assert_allclose(sm.jacobian(z[0]), row_jac.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sm.df(z), np.diagonal(sm.jacobian(z), axis1=-2, axis2=-1), rtol=1e-12)


@given(z=vectors)
def test_ranges(z):
    assert np.all((activations.sigmoid.f(z) > 0) & (activations.sigmoid.f(z) <= 1))
    assert np.all(np.abs(activations.tanh.f(z)) <= 1)
    assert np.all(activations.relu.f(z) >= 0)
    assert np.isclose(activations.softmax.f(z).sum(), 1.0)
    assert np.all(activations.step.f(z) == (z >= 0))


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        out = activations.sigmoid.f(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])
    assert np.all(np.isfinite(activations.softmax.f(np.array([1000.0, 0.0, -1000.0]))))


@pytest.mark.parametrize("name, params, torch_fn", [
    ("leaky_relu", {"slope": 0.2}, lambda t: torch.nn.functional.leaky_relu(t, 0.2)),
    ("elu", {"alpha": 0.5}, lambda t: torch.nn.functional.elu(t, 0.5)),
    ("swish", {"beta": 2.0}, lambda t: t * torch.sigmoid(2.0 * t)),
])
def test_parameterised_activations(name, params, torch_fn):
    z = np.linspace(-3, 3, 61) + 0.01
    act = activations.get(name, **params)
    t = torch.tensor(z, requires_grad=True)
    torch_fn(t).sum().backward()
    np.testing.assert_allclose(act.f(z), torch_fn(torch.tensor(z)).numpy(), rtol=1e-12)
    np.testing.assert_allclose(act.df(z), t.grad.numpy(), rtol=1e-10)
    assert act.params == {k: float(v) for k, v in params.items()}


def test_aliases_and_step():
    assert activations.get("linear").name == "identity"
    assert activations.get("silu").name == "swish"
    assert activations.get("ReLU").name == "relu"
    np.testing.assert_array_equal(activations.step.f([-0.5, 0.0, 2.0]), [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(activations.step.df([-0.5, 2.0]), [0.0, 0.0])
    np.testing.assert_array_equal(activations.square.df([-3.0, -4.0]), [-6.0, -8.0])



def test_every_activation_is_a_module_attribute_under_its_own_name():
    """activations.relu is get("relu"), and so on for every registered name (defaults for the parameters)."""
    for name in {activations.get(n).name for n in activations.names()}:
        attribute = getattr(activations, name)
        assert name in activations.__all__
        assert attribute.name == name and attribute.params == activations.get(name).params
        np.testing.assert_array_equal(attribute.f([[-1.5, 0.0, 2.0]]), activations.get(name).f([[-1.5, 0.0, 2.0]]))

def test_unknown_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown activation 'rellu'") as info:
        activations.get("rellu")
    for name in ("relu", "sigmoid", "softmax", "square", "leaky_relu"):
        assert name in str(info.value)


def test_bad_parameters_and_types():
    with pytest.raises(ValueError, match="takes no parameter"):
        activations.get("relu", slope=0.1)
    with pytest.raises(TypeError, match="activation must be a name"):
        activations.get(3)
    with pytest.raises(TypeError, match="z must hold real numbers"):
        activations.relu.f(np.array(["a", "b"]))
    with pytest.raises(ValueError, match="softmax needs a vector"):
        activations.softmax.f(1.0)
