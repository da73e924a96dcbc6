"""Small helpers for the tests: PyTorch as the reference implementation."""

from __future__ import annotations

import numpy as np

TORCH_ACTIVATIONS = {
    "identity": lambda t, torch: t,
    "sigmoid": lambda t, torch: torch.sigmoid(t),
    "tanh": lambda t, torch: torch.tanh(t),
    "relu": lambda t, torch: torch.relu(t),
    "leaky_relu": lambda t, torch: torch.nn.functional.leaky_relu(t, 0.01),
    "elu": lambda t, torch: torch.nn.functional.elu(t, 1.0),
    "selu": lambda t, torch: torch.nn.functional.selu(t),
    "gelu": lambda t, torch: torch.nn.functional.gelu(t),
    "swish": lambda t, torch: torch.nn.functional.silu(t),
    "softplus": lambda t, torch: torch.nn.functional.softplus(t),
    "square": lambda t, torch: t * t,
    "softmax": lambda t, torch: torch.softmax(t, dim=-1),
}


def torch_mlp_grads(net, X, y):
    """Output, loss and (dW, db) of ``net`` computed by torch autograd in float64."""
    import torch

    Ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in net.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in net.biases]
    a = torch.tensor(X, dtype=torch.float64)
    for W, b, act in zip(Ws, bs, net.layer_activations):
        a = TORCH_ACTIVATIONS[act.name](a @ W.T + b, torch)
    target = torch.tensor(np.asarray(y, dtype=float).reshape(a.shape), dtype=torch.float64)
    m = a.shape[0]
    if net.loss.name == "half_mse":
        loss = 0.5 * ((target - a) ** 2).sum() / m
    elif net.loss.name == "mse":
        loss = torch.nn.functional.mse_loss(a, target)
    elif net.loss.name == "binary_cross_entropy":
        loss = torch.nn.functional.binary_cross_entropy(a, target)
    else:
        loss = torch.nn.functional.cross_entropy(a, target)
    loss.backward()
    return (a.detach().numpy(), float(loss.detach()), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs])


def grading_sandbox() -> str:
    """The grader's ``sandbox`` option for tests: "bwrap" where bubblewrap runs here, else "off".

    A machine without bubblewrap still runs the grading tests (without isolation); with
    REQUIRE_SANDBOX=1 (as in CI) a missing sandbox is an error instead.
    """
    import os

    from course.grade.sandbox import SandboxUnavailable, check_available

    try:
        check_available()
    except SandboxUnavailable:
        if os.environ.get("REQUIRE_SANDBOX"):
            raise
        return "off"
    return "bwrap"
