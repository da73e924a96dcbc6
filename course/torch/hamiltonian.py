r"""Hamiltonian neural networks: learning dynamics that conserve energy (slides 001, sec. 3.9.8).

A system with coordinates q and momenta p evolves by Hamilton's equations

    dq/dt = dH/dp,     dp/dt = -dH/dq.

A Hamiltonian neural network (Greydanus et al., 2019) learns the scalar H_theta(q, p) and
takes the vector field from these equations (derivatives by autograd), so every field it
can represent conserves H_theta; a plain network that maps (q, p) to (dq/dt, dp/dt) has
no such structure and its energy drifts. The pendulum (:func:`pendulum_hamiltonian`) is
the example, integrated with the classical Runge-Kutta method (:func:`rk4`).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from torch import nn

from course.torch.nets import mlp

__all__ = ["pendulum_hamiltonian", "pendulum_vector_field", "HamiltonianNN", "VectorFieldNN", "rk4"]


def pendulum_hamiltonian(x, m: float = 1.0, g: float = 1.0, l: float = 1.0):
    """H(q, p) = p^2 / (2 m l^2) + m g l (1 - cos q) for states x = (q, p). Shape: (..., 2) -> (...)."""
    q, p = x[..., 0], x[..., 1]
    cos = torch.cos if isinstance(x, torch.Tensor) else np.cos
    return p ** 2 / (2.0 * m * l ** 2) + m * g * l * (1.0 - cos(q))


def pendulum_vector_field(x, m: float = 1.0, g: float = 1.0, l: float = 1.0):
    """(dq/dt, dp/dt) = (dH/dp, -dH/dq) = (p / (m l^2), -m g l sin q). Shape: (..., 2) -> (..., 2)."""
    lib = torch if isinstance(x, torch.Tensor) else np
    q, p = x[..., 0], x[..., 1]
    return lib.stack([p / (m * l ** 2), -m * g * l * lib.sin(q)], -1)


class HamiltonianNN(nn.Module):
    """A network H_theta(q, p) whose vector field is Hamilton's equations (Greydanus et al., 2019):

        dq/dt = dH_theta/dp,     dp/dt = -dH_theta/dq     (derivatives by autograd).

    Every such field conserves H_theta exactly, so the learned dynamics cannot gain
    or lose energy systematically. Shape: x (B, 2) -> (B, 2).
    """

    def __init__(self, hidden=(64, 64), dtype=torch.float64):
        super().__init__()
        self.net = mlp([2, *hidden, 1], "tanh", dtype=dtype)

    def hamiltonian(self, x: torch.Tensor) -> torch.Tensor:
        """H_theta(q, p). Shape: (B, 2) -> (B,)."""
        return self.net(x).squeeze(-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(dH/dp, -dH/dq); differentiable with respect to the weights in training mode (``model.train()``)."""
        keep_graph = self.training and torch.is_grad_enabled()
        with torch.enable_grad():
            x_ = x.detach().requires_grad_(True)
            (dH,) = torch.autograd.grad(self.hamiltonian(x_).sum(), x_, create_graph=keep_graph)
        return torch.stack([dH[..., 1], -dH[..., 0]], -1)


class VectorFieldNN(nn.Module):
    """The plain alternative: a network mapping (q, p) directly to (dq/dt, dp/dt). Shape: (B, 2) -> (B, 2)."""

    def __init__(self, hidden=(64, 64), dtype=torch.float64):
        super().__init__()
        self.net = mlp([2, *hidden, 2], "tanh", dtype=dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def rk4(f: Callable, x0, dt: float, n_steps: int):
    """Integrate dx/dt = f(x) with the classical Runge-Kutta method; returns the states (n_steps + 1, *x0.shape).

    Works with NumPy arrays and with torch tensors (then without building a graph).
    """
    if not dt > 0 or int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"dt must be > 0 and n_steps a positive whole number, got {dt!r} and {n_steps!r}")
    is_torch = isinstance(x0, torch.Tensor)
    xs = [x0]
    x = x0
    with torch.no_grad():
        for _ in range(int(n_steps)):
            k1 = f(x)
            k2 = f(x + 0.5 * dt * k1)
            k3 = f(x + 0.5 * dt * k2)
            k4 = f(x + dt * k3)
            x = x + dt / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)
            xs.append(x)
    return torch.stack(xs) if is_torch else np.stack(xs)
