r"""Activation functions sigma(z) and their derivatives sigma'(z).

Every activation in the slides is here, as a pair of plain NumPy functions
``f(z)`` and ``df(z)`` (the derivative with respect to ``z``, elementwise),
wrapped in an :class:`Activation` object that :func:`get` returns::

    >>> from course import activations
    >>> relu = activations.get("relu")
    >>> relu.f([-1.0, 2.0]), relu.df([-1.0, 2.0])
    (array([0., 2.]), array([0., 1.]))

Parameterised activations take their parameter by keyword:
``get("leaky_relu", slope=0.1)``, ``get("elu", alpha=0.5)``, ``get("swish", beta=2.0)``.

Softmax is vector-valued (each output depends on every input of its row), so
besides ``f`` it has :meth:`Softmax.jvp`, :meth:`Softmax.vjp` and
:meth:`Softmax.jacobian`; its ``df`` is the diagonal of the Jacobian.
Backpropagation always goes through :meth:`Activation.vjp`, which is
``v * df(z)`` for the elementwise functions.

Shape: every function accepts any shape and returns the same shape; softmax
works along the last axis.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from course._checks import as_float_array, registry_key

__all__ = ["Activation", "Softmax", "get", "names", "step", "identity", "sigmoid", "tanh",
           "relu", "leaky_relu", "elu", "selu", "gelu", "swish", "softplus", "softmax", "square"]

SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717


def _z(z) -> np.ndarray:
    return as_float_array(z, "z")


@dataclass(frozen=True)
class Activation:
    """sigma(z) with its derivative: ``f(z)`` and ``df(z)``, elementwise.

    Attributes:
        name: the registry name (``"relu"``).
        formula: the formula in plain text, for plots and error messages.
        params: the parameters it was built with (``{"slope": 0.01}``).
        torch_name: the ``torch.nn`` module computing the same function (``"ReLU"``; its
            parameters are ``params`` in order), or None where there is none
            (:mod:`course.torch.nets` builds the modules from it).
        relu_like: True for the unbounded ReLU family, whose layers start with He's
            initialisation; sigmoid-like ones use Xavier's.
    """

    name: str
    formula: str
    _f: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    _df: Callable[[np.ndarray], np.ndarray] = field(repr=False)
    params: dict = field(default_factory=dict)
    _vjp: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = field(default=None, repr=False)
    torch_name: str | None = None
    relu_like: bool = False

    def f(self, z) -> np.ndarray:
        """a = sigma(z). Shape: same as ``z``."""
        return self._f(_z(z))

    def df(self, z) -> np.ndarray:
        """sigma'(z), elementwise. Shape: same as ``z``."""
        return self._df(_z(z))

    __call__ = f

    def vjp(self, z, v) -> np.ndarray:
        """v^T (d sigma / d z): the backward step delta = v * sigma'(z). Shape: same as ``z``."""
        if self._vjp is not None:
            return self._vjp(_z(z), np.asarray(v))
        return np.asarray(v) * self.df(z)

    def jvp(self, z, v) -> np.ndarray:
        """(d sigma / d z) v: the forward-mode step, v * sigma'(z). Shape: same as ``z``."""
        return np.asarray(v) * self.df(z)


class Softmax(Activation):
    """softmax(z)_i = exp(z_i) / sum_j exp(z_j), along the last axis.

    Its Jacobian is J = diag(s) - s s^T with s = softmax(z); it is symmetric,
    so the Jacobian-vector and vector-Jacobian products coincide:
    J v = s * (v - <s, v>).
    """

    def __init__(self):
        super().__init__("softmax", "exp(z_i) / sum_j exp(z_j)", _softmax, _softmax_diag, {}, torch_name="Softmax")

    def jvp(self, z, v) -> np.ndarray:
        """J v = s * (v - sum(s * v)) row by row. Shape: same as ``z``."""
        s = self.f(z)
        v = np.asarray(v, dtype=s.dtype)
        return s * (v - np.sum(s * v, axis=-1, keepdims=True))

    vjp = jvp  # J is symmetric

    def jacobian(self, z) -> np.ndarray:
        """J_ij = s_i (delta_ij - s_j). Shape: (..., n) -> (..., n, n)."""
        s = self.f(z)
        return s[..., :, None] * (np.eye(s.shape[-1]) - s[..., None, :])


# ---------------------------------------------------------------- the functions
def _step(z):
    return (z >= 0).astype(z.dtype)


def _zero(z):
    return np.zeros_like(z)


def _identity(z):
    return z.copy()


def _one(z):
    return np.ones_like(z)


def _sigmoid(z):
    # With e = exp(-|z|) <= 1 nothing overflows, and e/(1+e) keeps full relative precision for z << 0.
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def _dsigmoid(z):
    s = _sigmoid(z)
    return s * (1.0 - s)


def _tanh(z):
    return np.tanh(z)


def _dtanh(z):
    return 1.0 - np.tanh(z) ** 2


def _relu(z):
    return np.maximum(z, 0.0)


def _drelu(z):
    return (z > 0).astype(z.dtype)


def _leaky(slope):
    return (lambda z: np.where(z > 0, z, slope * z),
            lambda z: np.where(z > 0, 1.0, slope).astype(z.dtype))


def _elu(alpha):
    return (lambda z: np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0))),
            lambda z: np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0))).astype(z.dtype))


def _selu(z):
    return SELU_LAMBDA * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0.0)))


def _dselu(z):
    return SELU_LAMBDA * np.where(z > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(z, 0.0)))


def _phi_cdf(z):
    """Phi(z), the standard normal CDF (SciPy's erf, imported only when GELU is used)."""
    from scipy.special import erf

    return 0.5 * (1.0 + erf(z / math.sqrt(2.0)))


def _gelu(z):
    return (z * _phi_cdf(z)).astype(z.dtype)


def _dgelu(z):
    pdf = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return (_phi_cdf(z) + z * pdf).astype(z.dtype)


def _swish(beta):
    def f(z):
        return z * _sigmoid(beta * z)

    def df(z):
        s = _sigmoid(beta * z)
        return s + beta * z * s * (1.0 - s)

    return f, df


def _softplus(z):
    return np.logaddexp(0.0, z)


def _softmax(z):
    if z.ndim == 0:
        raise ValueError("softmax needs a vector z (shape (n,) or (N, n)), got a scalar")
    e = np.exp(z - np.max(z, axis=-1, keepdims=True))
    return e / np.sum(e, axis=-1, keepdims=True)


def _softmax_diag(z):
    s = _softmax(z)
    return s * (1.0 - s)


def _square(z):
    return z * z


def _dsquare(z):
    return 2.0 * z


# ---------------------------------------------------------------- the registry
def _simple(name, formula, f, df, torch_name=None, relu_like=False):
    return lambda: Activation(name, formula, f, df, {}, torch_name=torch_name, relu_like=relu_like)


def _leaky_relu(slope=0.01):
    return Activation("leaky_relu", f"z if z > 0 else {slope:g} z", *_leaky(float(slope)), {"slope": float(slope)},
                      torch_name="LeakyReLU", relu_like=True)


def _elu_activation(alpha=1.0):
    return Activation("elu", f"z if z > 0 else {alpha:g} (exp(z) - 1)", *_elu(float(alpha)), {"alpha": float(alpha)},
                      torch_name="ELU", relu_like=True)


def _swish_activation(beta=1.0):
    # torch.nn.SiLU is swish with beta = 1 only
    return Activation("swish", f"z sigmoid({beta:g} z)", *_swish(float(beta)), {"beta": float(beta)},
                      torch_name="SiLU" if float(beta) == 1.0 else None, relu_like=True)


_REGISTRY: dict[str, Callable[..., Activation]] = {
    "step": _simple("step", "1 if z >= 0 else 0", _step, _zero),
    "identity": lambda: Activation("identity", "z", _identity, _one, {}, lambda z, v: v, torch_name="Identity"),
    "sigmoid": _simple("sigmoid", "1 / (1 + exp(-z))", _sigmoid, _dsigmoid, "Sigmoid"),
    "tanh": _simple("tanh", "tanh(z)", _tanh, _dtanh, "Tanh"),
    "relu": lambda: Activation("relu", "max(0, z)", _relu, _drelu, {}, lambda z, v: v * (z > 0),
                               torch_name="ReLU", relu_like=True),
    "leaky_relu": _leaky_relu,
    "elu": _elu_activation,
    "selu": _simple("selu", "lambda (z if z > 0 else alpha (exp(z) - 1))", _selu, _dselu, "SELU", True),
    "gelu": _simple("gelu", "z Phi(z)", _gelu, _dgelu, "GELU", True),
    "swish": _swish_activation,
    "softplus": _simple("softplus", "log(1 + exp(z))", _softplus, _sigmoid, "Softplus", True),
    "softmax": Softmax,
    "square": _simple("square", "z^2", _square, _dsquare, "Square"),
}
_ALIASES = {"linear": "identity", "silu": "swish", "prelu": "leaky_relu", "heaviside": "step"}


def names() -> list[str]:
    """All names :func:`get` accepts, aliases included."""
    return sorted([*_REGISTRY, *_ALIASES])


def get(name, **params) -> Activation:
    """The activation called ``name`` (an :class:`Activation` is passed through).

    Raises:
        ValueError: for an unknown name (the message lists the known ones) or a
            parameter the activation does not take.
    """
    if isinstance(name, Activation):
        if params:
            raise ValueError(f"parameters {params} given together with a ready-made activation {name.name!r}")
        return name
    key = registry_key("activation", name, _REGISTRY, _ALIASES, "an Activation")
    try:
        return _REGISTRY[key](**params)
    except TypeError:
        raise ValueError(f"activation {name!r} takes no parameter(s) {sorted(params)}") from None


# Every activation with its default parameters, as a module attribute: ``activations.relu`` is ``get("relu")``
# (in the order of _REGISTRY; tests/test_activations.py checks that each name holds its own activation).
(step, identity, sigmoid, tanh, relu, leaky_relu, elu, selu, gelu, swish, softplus, softmax,
 square) = (get(name) for name in _REGISTRY)
