r"""A neural-network interatomic potential (slides 002, 001 sec. 3.9.8): E = sum_i E_NN(G_i).

G_i are radial symmetry functions of the distances from atom i, invariant to
translation, rotation and permutation of the atoms; forces F = -dE/dR by autograd.
The pair potentials it learns, the clusters and molecular dynamics are in the
NumPy module :mod:`course.potentials`.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np
import torch
from torch import nn

from course.potentials import pair_indices
from course.torch.nets import mlp
from course.torch.training import fit

__all__ = ["radial_symmetry_functions", "NeuralNetworkPotential", "train_potential"]


def radial_symmetry_functions(R: torch.Tensor, mu: torch.Tensor, eta: float, r_cut: float) -> torch.Tensor:
    """G_i^k = sum_{j != i} exp(-eta (r_ij - mu_k)^2) f_c(r_ij),  f_c(r) = (1 + cos(pi r / r_cut)) / 2 for r < r_cut.

    Behler-Parrinello radial symmetry functions: they depend only on distances
    (translation and rotation invariant) and sum over the neighbours j (invariant
    to their order). Each pair i < j is computed once and added to both atoms.
    Shape: R (B, N, 3), mu (K,) -> G (B, N, K).
    """
    N = R.shape[-2]
    i, j = pair_indices(N)
    d = R[..., i, :] - R[..., j, :]                                 # (B, P, 3)
    r = torch.sqrt((d * d).sum(-1))                                 # (B, P)
    fc = 0.5 * (torch.cos(math.pi * r / r_cut) + 1.0) * (r < r_cut)
    g = torch.exp(-eta * (r[..., None] - mu) ** 2) * fc[..., None]  # (B, P, K)
    A = torch.zeros(len(i), N, dtype=R.dtype, device=R.device)      # A[p, n] = 1 if atom n is in pair p
    A[np.arange(len(i)), i] = 1.0
    A[np.arange(len(i)), j] = 1.0
    return torch.einsum("pn,bpk->bnk", A, g)


#: the activations whose derivative is smooth, as forces need
_SMOOTH = ("tanh", "silu", "softplus")


class NeuralNetworkPotential(nn.Module):
    """E(R) = sum_i E_NN(G_i): a per-atom network applied to each atom's radial symmetry functions.

    Args:
        n_features: K, the number of radial functions, centres mu_k evenly spaced
            in [r_low, r_cut] with width 1/sqrt(2 eta) equal to their spacing.
        r_cut: cutoff radius; neighbours farther away do not count.
        hidden: widths of the hidden layers of the per-atom network.
        activation: a smooth activation (forces need its derivative): "tanh", "silu" or "softplus".
        r_low: the first centre.

    The inputs are standardised and the per-atom energy rescaled with statistics of
    the training set (:meth:`fit_normalization`). Shape: R (B, N, 3) -> E (B,);
    forces F (B, N, 3).
    """

    def __init__(self, n_features: int = 12, r_cut: float = 3.0, hidden=(32, 32), activation: str = "tanh",
                 r_low: float = 0.8, dtype=torch.float64):
        super().__init__()
        if int(n_features) != n_features or n_features < 1:
            raise ValueError(f"n_features must be a positive whole number, got {n_features!r}")
        if not 0 < r_low < r_cut:
            raise ValueError(f"need 0 < r_low < r_cut, got r_low={r_low!r}, r_cut={r_cut!r}")
        if activation not in _SMOOTH:
            raise ValueError(f"activation must be one of {sorted(_SMOOTH)} (smooth, for forces), got {activation!r}")
        self.r_cut = float(r_cut)
        mu = torch.linspace(r_low, r_cut, int(n_features), dtype=dtype)
        spacing = (r_cut - r_low) / max(int(n_features) - 1, 1)
        self.eta = 1.0 / (2.0 * spacing ** 2)
        self.register_buffer("mu", mu)
        self.register_buffer("feature_mean", torch.zeros(int(n_features), dtype=dtype))
        self.register_buffer("feature_std", torch.ones(int(n_features), dtype=dtype))
        self.register_buffer("energy_shift", torch.zeros((), dtype=dtype))
        self.register_buffer("energy_scale", torch.ones((), dtype=dtype))
        self.net = mlp([int(n_features), *[int(h) for h in hidden], 1], activation, dtype=dtype)

    @staticmethod
    def _batched(R: torch.Tensor):
        if R.ndim == 2:
            return R[None], True
        if R.ndim != 3 or R.shape[-1] != 3:
            raise ValueError(f"R must have shape (N, 3) or (B, N, 3), got {tuple(R.shape)}")
        return R, False

    def descriptors(self, R: torch.Tensor) -> torch.Tensor:
        """The standardised symmetry functions (G - mean) / std (mean per feature, one overall std).

        Shape: (B, N, 3) -> (B, N, K).
        """
        R, _ = self._batched(R)
        G = radial_symmetry_functions(R, self.mu, self.eta, self.r_cut)
        return (G - self.feature_mean) / self.feature_std

    def atomic_energies(self, R: torch.Tensor) -> torch.Tensor:
        """E_i = shift + scale * NN(G_i). Shape: (B, N, 3) -> (B, N)."""
        return self.energy_shift + self.energy_scale * self.net(self.descriptors(R)).squeeze(-1)

    def forward(self, R: torch.Tensor) -> torch.Tensor:
        """E = sum_i E_i. Shape: (B, N, 3) -> (B,); (N, 3) -> a 0-d tensor."""
        R, single = self._batched(R)
        E = self.atomic_energies(R).sum(-1)
        return E[0] if single else E

    def energy_and_forces(self, R: torch.Tensor, create_graph: bool = False):
        """(E, F) with F = -dE/dR by autograd. Shape: (B, N, 3) -> (B,), (B, N, 3).

        ``create_graph=True`` keeps both differentiable with respect to the weights,
        for training on forces; otherwise they are returned detached.
        """
        with torch.enable_grad():
            R_ = R.detach().requires_grad_(True)
            E = self.forward(R_)
            (dE,) = torch.autograd.grad(E.sum(), R_, create_graph=create_graph)
        return (E, -dE) if create_graph else (E.detach(), -dE.detach())

    @torch.no_grad()
    def fit_normalization(self, R: torch.Tensor, E: torch.Tensor) -> "NeuralNetworkPotential":
        """Set the feature mean/std and the per-atom energy shift/scale from training data R (B, N, 3), E (B,)."""
        R, _ = self._batched(R)
        G = radial_symmetry_functions(R, self.mu, self.eta, self.r_cut).reshape(-1, self.mu.numel())
        self.feature_mean.copy_(G.mean(0))
        self.feature_std.fill_(float(G.std().clamp_min(1e-6)))  # one scale for all: rare features stay small
        n_atoms = R.shape[-2]
        self.energy_shift.copy_(E.mean() / n_atoms)
        self.energy_scale.copy_((E.std() / n_atoms).clamp_min(1e-6))
        return self

    def calculator(self) -> Callable:
        """A NumPy function ``R (N, 3) -> (E float, F (N, 3))`` for :func:`velocity_verlet`."""
        p = next(self.parameters())

        def energy_and_forces(R):
            E, F = self.energy_and_forces(torch.as_tensor(np.asarray(R), dtype=p.dtype, device=p.device))
            return float(E), F.detach().cpu().numpy()

        return energy_and_forces


def train_potential(model: NeuralNetworkPotential, R, E, F=None, *, force_weight: float = 1.0, epochs: int = 500,
                    lr: float = 5e-3, validation=None, patience: int | None = None, batch_size: int | None = None,
                    progress: bool = True, seed: int = 0):
    """Fit ``model`` to energies (and forces) of configurations; returns the :class:`course.history.History`.

    The loss compares per-atom energies and force components, each in units of its
    spread s in the training data (so both terms are of order 1):

        C = mean[((E_NN - E) / N)^2] / s_E^2 + force_weight * mean[(F_NN - F)^2] / s_F^2,

    with s_E the standard deviation of E / N and s_F that of the force components;
    without ``F`` only the energy term is used. ``validation`` is
    ``(R_val, E_val[, F_val])``. The normalisation is fitted to the training data first.
    """
    p = next(model.parameters())

    def t(x):
        return torch.as_tensor(np.asarray(x) if not isinstance(x, torch.Tensor) else x, dtype=p.dtype,
                               device=p.device)

    R, E = t(R), t(E)
    if R.ndim != 3 or R.shape[-1] != 3 or E.shape != R.shape[:1]:
        raise ValueError(f"R must have shape (B, N, 3) and E shape (B,), got {tuple(R.shape)} and {tuple(E.shape)}")
    n_atoms = R.shape[-2]
    model.fit_normalization(R, E)
    use_forces = F is not None
    s_E = float((E / n_atoms).std().clamp_min(1e-12))
    s_F = float(t(F).std().clamp_min(1e-12)) if use_forces else 1.0
    if force_weight < 0:
        raise ValueError(f"force_weight must be >= 0, got {force_weight!r}")

    def forward(m, R_batch):
        return m.energy_and_forces(R_batch, create_graph=m.training) if use_forces else (m(R_batch), None)

    def loss(pred, target):
        E_pred, F_pred = pred
        E_true, F_true = (target if use_forces else (target, None))
        value = (((E_pred - E_true) / n_atoms) ** 2).mean() / s_E ** 2
        if use_forces:
            value = value + force_weight * ((F_pred - F_true) ** 2).mean() / s_F ** 2
        return value

    y = (E, t(F)) if use_forces else E
    val = None
    if validation is not None:
        val_y = (t(validation[1]), t(validation[2])) if use_forces else t(validation[1])
        val = (t(validation[0]), val_y)
    return fit(model, R, y, epochs=epochs, lr=lr, loss=loss, forward=forward, validation_data=val,
               patience=patience, batch_size=batch_size, progress=progress, desc="potential", seed=seed)
