r"""torch.nn networks from the course's definitions: activations, the one MLP builder, weight copies.

The NumPy network :class:`course.MLP` and a ``torch.nn.Sequential`` of ``Linear``
layers store the same numbers in the same layout: ``net.weights[l - 1]`` is
W^(l) of shape (n_l, n_(l-1)), exactly ``Linear.weight``, and ``net.biases[l - 1]``
is ``Linear.bias``. So

    z^(l) = W^(l) a^(l-1) + b^(l)      (NumPy: ``A @ W.T + b``, torch: ``Linear(A)``)

and the copy is a plain transfer of arrays (:func:`mlp_to_torch`, :func:`mlp_from_torch`).
Every activation's torch module comes from the registry of :mod:`course.activations`
(its ``torch_name``), so a new activation is added in one place.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course import activations
from course._checks import layer_sizes

__all__ = ["Square", "activation_module", "mlp", "mlp_to_torch", "mlp_from_torch", "count_parameters"]


class Square(nn.Module):
    """sigma(z) = z^2, the activation of the slides' worked example (001, section 3.2)."""

    def forward(self, z):
        return z * z


def activation_module(activation) -> nn.Module:
    """The ``torch.nn`` module computing the same function as ``course.activations.get(activation)``."""
    act = activations.get(activation)
    if act.torch_name is None:
        with_module = [n for n in activations.names() if activations.get(n).torch_name is not None]
        params = f" with {act.params}" if act.params else ""
        raise ValueError(f"activation {act.name!r}{params} has no differentiable torch module (the step's derivative "
                         f"is zero almost everywhere; swish only with beta = 1); choose one of: "
                         f"{', '.join(with_module)}")
    if act.torch_name == "Square":
        return Square()
    if act.torch_name == "Softmax":
        return nn.Softmax(dim=-1)
    return getattr(nn, act.torch_name)(*[] if act.name == "swish" else act.params.values())


def mlp(sizes, activation="tanh", output_activation="identity", dtype=torch.float64, device=None) -> nn.Sequential:
    """Linear(n_0, n_1), sigma, ..., Linear(n_(L-1), n_L), sigma_L: the torch MLP of layer widths ``sizes``.

    The output activation is left out when it is the identity. Shape: (B, n_0) -> (B, n_L).
    """
    sizes = layer_sizes(sizes)
    layers: list[nn.Module] = []
    n_layers = len(sizes) - 1
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        layers.append(nn.Linear(n_in, n_out, dtype=dtype, device=device))
        act = activations.get(activation if l < n_layers else output_activation)
        if act.name != "identity":
            layers.append(activation_module(act))
    return nn.Sequential(*layers)


def mlp_to_torch(net, dtype=torch.float64, device=None) -> nn.Sequential:
    """A ``nn.Sequential`` computing exactly what the NumPy ``course.MLP`` ``net`` computes.

    Each layer becomes ``Linear(n_(l-1), n_l)`` with ``weight = W^(l)`` and
    ``bias = b^(l)`` (copied, so training one does not change the other), followed
    by the layer's activation (omitted when it is the identity).
    """
    layers: list[nn.Module] = []
    for W, b, act in zip(net.weights, net.biases, net.layer_activations):
        lin = nn.Linear(W.shape[1], W.shape[0], dtype=dtype, device=device)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W, dtype=dtype))
            lin.bias.copy_(torch.as_tensor(b, dtype=dtype))
        lin.bias.requires_grad_(bool(net.train_biases))
        layers.append(lin)
        if act.name != "identity":
            layers.append(activation_module(act))
    return nn.Sequential(*layers)


def _activation_of(module: nn.Module):
    """The course activation a torch module computes (with its parameters), or None."""
    if isinstance(module, nn.LeakyReLU):
        return activations.get("leaky_relu", slope=module.negative_slope)
    if isinstance(module, nn.ELU):
        return activations.get("elu", alpha=module.alpha)
    by_torch_name = {activations.get(n).torch_name: n for n in activations.names()}
    name = by_torch_name.get(type(module).__name__)
    return None if name is None else activations.get(name)


def mlp_from_torch(model: nn.Sequential, loss: str = "half_mse"):
    """The NumPy ``course.MLP`` with the weights of a ``nn.Sequential`` of Linear layers and activations."""
    from course.mlp import MLP

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    weights, biases, acts = [], [], []
    for i, module in enumerate(model):
        if isinstance(module, nn.Linear):
            weights.append(module.weight.detach().cpu().double().numpy().copy())
            b = module.bias
            biases.append(np.zeros(module.out_features) if b is None else b.detach().cpu().double().numpy().copy())
            acts.append(activations.identity)
        elif not weights:
            raise ValueError(f"model[{i}] ({type(module).__name__}) comes before the first Linear layer")
        elif acts[-1].name != "identity":
            raise ValueError(f"model[{i}]: two activations in a row after Linear layer {len(weights)}")
        elif _activation_of(module) is None:
            raise ValueError(f"model[{i}] is a {type(module).__name__}, which has no course.activations equivalent")
        else:
            acts[-1] = _activation_of(module)
    return MLP.from_weights(weights, biases, activation=acts, loss=loss)


def count_parameters(model: nn.Module) -> int:
    """The number of trained numbers in ``model``."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))
