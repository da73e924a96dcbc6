r"""Interatomic potentials, dynamics on them, and neural networks that learn them (slides 002, 001 sec. 3.9.8).

Pair potentials (energies in units of the well depth, lengths in units of sigma or r_e):

    Lennard-Jones:  V(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6],   minimum V = -eps at r = 2^(1/6) sigma
    Morse:          V(r) = D_e [1 - exp(-a (r - r_e))]^2,          minimum V = 0 at r = r_e, V(inf) = D_e

A cluster of N atoms at positions R (shape (N, 3)) has the pair energy and forces

    E(R) = sum_{i<j} V(r_ij),   r_ij = |R_i - R_j|,
    F_i  = -dE/dR_i = -sum_{j != i} V'(r_ij) (R_i - R_j) / r_ij.

Every function here also takes a batch of configurations, shape (B, N, 3).

The module also holds

* cluster generation (random start, relaxation to a local minimum, "rattled" samples),
* velocity Verlet integration of Newton's equations M d^2R/dt^2 = F,
* :class:`NeuralNetworkPotential`: E = sum_i E_NN(G_i), with G_i radial symmetry
  functions of the distances from atom i, invariant to translation, rotation and
  permutation of the atoms; forces F = -dE/dR by autograd.

The pendulum and the Hamiltonian neural network are in :mod:`course.hamiltonian`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from torch import nn

from course._checks import as_float_array, check_finite

__all__ = ["PairPotential", "LennardJones", "Morse", "pair_indices", "pair_vectors", "pair_distances",
           "random_rotation", "random_cluster", "relax", "sample_clusters", "maxwell_boltzmann_velocities",
           "Trajectory", "velocity_verlet", "radial_symmetry_functions", "NeuralNetworkPotential",
           "train_potential"]


# ---------------------------------------------------------------- geometry
def _positions(R, name="R") -> np.ndarray:
    R = as_float_array(R, name, ndim=(2, 3))
    if R.shape[-1] != 3 or R.shape[-2] < 2:
        raise ValueError(f"{name} must hold the positions of at least 2 atoms, shape (N, 3) or (B, N, 3), "
                         f"got shape {R.shape}")
    check_finite(R, name)
    return R.astype(np.float64)


def pair_indices(n_atoms: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs i < j of ``n_atoms`` atoms as two index arrays of length P = N (N - 1) / 2."""
    if int(n_atoms) != n_atoms or n_atoms < 2:
        raise ValueError(f"n_atoms must be a whole number >= 2, got {n_atoms!r}")
    return np.triu_indices(int(n_atoms), k=1)


def pair_vectors(R) -> tuple[np.ndarray, np.ndarray]:
    """(d, r): d_ij = R_i - R_j and r_ij = |d_ij| for the pairs i < j of :func:`pair_indices`.

    Shape: R (..., N, 3) -> d (..., P, 3), r (..., P).
    """
    R = _positions(R)
    i, j = pair_indices(R.shape[-2])
    d = R[..., i, :] - R[..., j, :]
    r = np.sqrt((d * d).sum(axis=-1))
    if np.any(r == 0):
        k = int(np.argwhere(r == 0)[0][-1])
        raise ValueError(f"atoms {i[k]} and {j[k]} sit at the same position (distance 0): the energy is infinite")
    return d, r


def pair_distances(R) -> np.ndarray:
    """r_ij = |R_i - R_j| for all pairs i < j. Shape: (..., N, 3) -> (..., N (N - 1) / 2)."""
    return pair_vectors(R)[1]


# ---------------------------------------------------------------- pair potentials
class PairPotential:
    """E(R) = sum_{i<j} V(r_ij) with forces F = -dE/dR; subclasses define ``V`` and ``dV``."""

    name = "pair potential"

    def V(self, r):  # pragma: no cover - abstract
        raise NotImplementedError

    def dV(self, r):  # pragma: no cover - abstract
        raise NotImplementedError

    def _r(self, r):
        r = as_float_array(r, "r").astype(np.float64)
        if np.any(r <= 0):
            raise ValueError(f"distances r must be positive, got a minimum of {r.min():g}")
        return r

    def energy(self, R) -> np.ndarray | float:
        """E = sum_{i<j} V(r_ij). Shape: (N, 3) -> float, (B, N, 3) -> (B,)."""
        E = self.V(pair_distances(R)).sum(axis=-1)
        return float(E) if np.ndim(E) == 0 else E

    def forces(self, R) -> np.ndarray:
        """F_i = -dE/dR_i = -sum_{j != i} V'(r_ij) (R_i - R_j) / r_ij. Shape: like R."""
        return self.energy_and_forces(R)[1]

    def energy_and_forces(self, R):
        """``(energy(R), forces(R))`` computed together."""
        R = _positions(R)
        d, r = pair_vectors(R)
        g = (self.dV(r) / r)[..., None] * d          # dE/dR_i contribution of each pair, (..., P, 3)
        i, j = pair_indices(R.shape[-2])
        C = np.zeros((len(i), R.shape[-2]))          # incidence matrix: C[p, i] = +1, C[p, j] = -1
        C[np.arange(len(i)), i], C[np.arange(len(i)), j] = 1.0, -1.0
        F = -np.einsum("pn,...pk->...nk", C, g)      # F_n = -sum_p C[p, n] g_p
        E = self.V(r).sum(axis=-1)
        return (float(E) if np.ndim(E) == 0 else E), F


@dataclass(frozen=True)
class LennardJones(PairPotential):
    """V(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6]: minimum -eps at r_min = 2^(1/6) sigma, zero at r = sigma."""

    epsilon: float = 1.0
    sigma: float = 1.0
    name = "Lennard-Jones"

    def __post_init__(self):
        for key in ("epsilon", "sigma"):
            value = getattr(self, key)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{key} must be a positive number, got {value!r}")

    @property
    def r_min(self) -> float:
        """2^(1/6) sigma, where V'(r) = 0."""
        return 2.0 ** (1.0 / 6.0) * self.sigma

    @property
    def depth(self) -> float:
        """-V(r_min) = epsilon."""
        return self.epsilon

    def V(self, r):
        """4 eps [(sigma/r)^12 - (sigma/r)^6]."""
        s6 = (self.sigma / self._r(r)) ** 6
        return 4.0 * self.epsilon * (s6 * s6 - s6)

    def dV(self, r):
        """V'(r) = -24 eps [2 (sigma/r)^12 - (sigma/r)^6] / r."""
        r = self._r(r)
        s6 = (self.sigma / r) ** 6
        return -24.0 * self.epsilon * (2.0 * s6 * s6 - s6) / r

    def d2V(self, r):
        """V''(r) = 24 eps [26 (sigma/r)^12 - 7 (sigma/r)^6] / r^2."""
        r = self._r(r)
        s6 = (self.sigma / r) ** 6
        return 24.0 * self.epsilon * (26.0 * s6 * s6 - 7.0 * s6) / r ** 2


@dataclass(frozen=True)
class Morse(PairPotential):
    """V(r) = D_e [1 - exp(-a (r - r_e))]^2 (slides' form): minimum 0 at r_e, V -> D_e for r -> infinity.

    With ``shifted=True`` the potential is V(r) - D_e, zero for separated atoms and
    -D_e at the minimum, the form to use for the energy of a cluster.
    """

    D_e: float = 1.0
    a: float = 1.0
    r_e: float = 1.0
    shifted: bool = False
    name = "Morse"

    def __post_init__(self):
        for key in ("D_e", "a", "r_e"):
            value = getattr(self, key)
            if not np.isfinite(value) or value <= 0:
                raise ValueError(f"{key} must be a positive number, got {value!r}")

    @property
    def r_min(self) -> float:
        """r_e, where V'(r) = 0."""
        return self.r_e

    @property
    def depth(self) -> float:
        """V(infinity) - V(r_e) = D_e."""
        return self.D_e

    def V(self, r):
        """D_e [1 - exp(-a (r - r_e))]^2 (minus D_e when shifted)."""
        e = np.exp(-self.a * (self._r(r) - self.r_e))
        return self.D_e * (1.0 - e) ** 2 - (self.D_e if self.shifted else 0.0)

    def dV(self, r):
        """V'(r) = 2 a D_e exp(-a (r - r_e)) [1 - exp(-a (r - r_e))]."""
        e = np.exp(-self.a * (self._r(r) - self.r_e))
        return 2.0 * self.a * self.D_e * e * (1.0 - e)

    def d2V(self, r):
        """V''(r) = 2 a^2 D_e exp(-a (r - r_e)) [2 exp(-a (r - r_e)) - 1]."""
        e = np.exp(-self.a * (self._r(r) - self.r_e))
        return 2.0 * self.a ** 2 * self.D_e * e * (2.0 * e - 1.0)


# ---------------------------------------------------------------- clusters
def random_rotation(rng: np.random.Generator) -> np.ndarray:
    """A uniformly random 3x3 rotation matrix Q (Q^T Q = 1, det Q = +1)."""
    q, r = np.linalg.qr(rng.standard_normal((3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def random_cluster(n_atoms: int, seed: int = 0, min_distance: float = 1.0, density: float = 0.7) -> np.ndarray:
    """N atoms placed at random in a sphere, no two closer than ``min_distance``, centred at 0.

    The sphere holds ``density`` atoms per unit volume (about 0.7 for a compact
    Lennard-Jones cluster with sigma = 1). Shape: (n_atoms, 3).
    """
    pair_indices(n_atoms)
    if min_distance <= 0 or density <= 0:
        raise ValueError(f"min_distance and density must be positive, got {min_distance!r} and {density!r}")
    rng = np.random.default_rng(seed)
    radius = (3.0 * n_atoms / (4.0 * np.pi * density)) ** (1.0 / 3.0) + 0.5 * min_distance
    R = np.zeros((0, 3))
    for _ in range(10000 * n_atoms):
        x = rng.uniform(-radius, radius, 3)
        if x @ x <= radius ** 2 and (len(R) == 0 or np.min(np.linalg.norm(R - x, axis=1)) >= min_distance):
            R = np.vstack([R, x])
            if len(R) == n_atoms:
                return R - R.mean(axis=0)
    raise RuntimeError(f"could not place {n_atoms} atoms at least {min_distance} apart; lower the density")


def relax(R, potential: PairPotential, gtol: float = 1e-8) -> tuple[np.ndarray, float]:
    """A local minimum of ``potential.energy`` reached from R (L-BFGS with the analytic forces).

    Returns ``(R_min, E_min)``, R_min centred at the origin. Shape: (N, 3).
    """
    from scipy.optimize import minimize

    R = _positions(R)
    if R.ndim != 2:
        raise ValueError(f"relax takes one configuration of shape (N, 3), got shape {R.shape}")

    def fun(x):
        E, F = potential.energy_and_forces(x.reshape(R.shape))
        return E, -F.ravel()

    result = minimize(fun, R.ravel(), jac=True, method="L-BFGS-B", options={"gtol": gtol, "maxiter": 5000})
    R_min = result.x.reshape(R.shape)
    return R_min - R_min.mean(axis=0), float(result.fun)


def sample_clusters(potential: PairPotential, n_atoms: int, n_samples: int, displacement: float = 0.05,
                    n_minima: int = 4, seed: int = 0, min_distance: float | None = None):
    """Training data: ``n_samples`` rattled copies of relaxed random clusters, with energies and forces.

    ``n_minima`` random clusters are relaxed to local minima; each sample takes one
    of them, rotates it at random and moves every coordinate by a Gaussian step whose
    standard deviation is drawn uniformly from [0, ``displacement``]. Samples with two
    atoms closer than ``min_distance`` (default 0.8 r_min) are drawn again.

    Returns:
        ``(R, E, F)`` with shapes (n_samples, N, 3), (n_samples,), (n_samples, N, 3).
    """
    if int(n_samples) != n_samples or n_samples < 1:
        raise ValueError(f"n_samples must be a positive whole number, got {n_samples!r}")
    if displacement < 0:
        raise ValueError(f"displacement must be >= 0, got {displacement!r}")
    rng = np.random.default_rng(seed)
    min_distance = 0.8 * potential.r_min if min_distance is None else float(min_distance)
    minima = [relax(random_cluster(n_atoms, seed=seed * 1000 + k, min_distance=potential.r_min * 0.9,
                                   density=0.7 / potential.r_min ** 3), potential)[0] for k in range(n_minima)]
    R = np.empty((int(n_samples), n_atoms, 3))
    k = 0
    while k < n_samples:
        base = minima[k % n_minima] @ random_rotation(rng).T
        x = base + rng.uniform(0.0, displacement) * rng.standard_normal(base.shape)
        if pair_distances(x).min() >= min_distance:
            R[k] = x - x.mean(axis=0)
            k += 1
    E, F = potential.energy_and_forces(R)
    return R, E, F


# ---------------------------------------------------------------- molecular dynamics
def maxwell_boltzmann_velocities(n_atoms: int, temperature: float, mass: float = 1.0, seed: int = 0) -> np.ndarray:
    """Random velocities with k_B T = ``temperature`` (v ~ N(0, T/m)) and zero total momentum. Shape: (N, 3)."""
    if temperature < 0 or mass <= 0:
        raise ValueError(f"temperature must be >= 0 and mass > 0, got {temperature!r} and {mass!r}")
    v = np.random.default_rng(seed).normal(0.0, math.sqrt(temperature / mass), (int(n_atoms), 3))
    return v - v.mean(axis=0)


@dataclass
class Trajectory:
    """Positions R (T+1, N, 3), velocities V, potential energies E_pot (T+1,) at times t (T+1,)."""

    t: np.ndarray
    R: np.ndarray
    V: np.ndarray
    E_pot: np.ndarray
    mass: float = 1.0

    @property
    def E_kin(self) -> np.ndarray:
        """sum_i m |v_i|^2 / 2 per frame."""
        return 0.5 * self.mass * (self.V ** 2).sum(axis=(-1, -2))

    @property
    def E_total(self) -> np.ndarray:
        """E_pot + E_kin per frame, conserved by exact Newtonian dynamics."""
        return self.E_pot + self.E_kin

    def energy_drift(self) -> float:
        """max_t |E_total(t) - E_total(0)|: how far the integrator let the energy wander."""
        return float(np.max(np.abs(self.E_total - self.E_total[0])))


def velocity_verlet(energy_and_forces: Callable, R0, V0, dt: float, n_steps: int, mass: float = 1.0) -> Trajectory:
    """Integrate M d^2R/dt^2 = F(R) with velocity Verlet (symplectic, time-reversible):

        R(t + dt) = R(t) + V(t) dt + F(t) dt^2 / (2 m)
        V(t + dt) = V(t) + [F(t) + F(t + dt)] dt / (2 m)

    ``energy_and_forces(R) -> (E, F)`` evaluates the potential for one configuration
    (N, 3), e.g. ``LennardJones().energy_and_forces`` or ``model.calculator()``.
    """
    R = _positions(R0, "R0").copy()
    V = as_float_array(V0, "V0").astype(np.float64).copy()
    if V.shape != R.shape:
        raise ValueError(f"V0 must have the shape of R0 {R.shape}, got {V.shape}")
    if not dt > 0 or int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"dt must be > 0 and n_steps a positive whole number, got {dt!r} and {n_steps!r}")
    n_steps = int(n_steps)
    Rs, Vs, Es = np.empty((n_steps + 1, *R.shape)), np.empty((n_steps + 1, *R.shape)), np.empty(n_steps + 1)
    E, F = energy_and_forces(R)
    Rs[0], Vs[0], Es[0] = R, V, E
    for step in range(1, n_steps + 1):
        R = R + V * dt + F * (dt * dt / (2.0 * mass))
        E, F_new = energy_and_forces(R)
        V = V + (F + F_new) * (dt / (2.0 * mass))
        F = F_new
        Rs[step], Vs[step], Es[step] = R, V, E
    return Trajectory(np.arange(n_steps + 1) * dt, Rs, Vs, Es, mass)


# ---------------------------------------------------------------- neural-network potential
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
        acts = {"tanh": nn.Tanh, "silu": nn.SiLU, "softplus": nn.Softplus}
        if activation not in acts:
            raise ValueError(f"activation must be one of {sorted(acts)} (smooth, for forces), got {activation!r}")
        self.r_cut = float(r_cut)
        mu = torch.linspace(r_low, r_cut, int(n_features), dtype=dtype)
        spacing = (r_cut - r_low) / max(int(n_features) - 1, 1)
        self.eta = 1.0 / (2.0 * spacing ** 2)
        self.register_buffer("mu", mu)
        self.register_buffer("feature_mean", torch.zeros(int(n_features), dtype=dtype))
        self.register_buffer("feature_std", torch.ones(int(n_features), dtype=dtype))
        self.register_buffer("energy_shift", torch.zeros((), dtype=dtype))
        self.register_buffer("energy_scale", torch.ones((), dtype=dtype))
        sizes = [int(n_features), *[int(h) for h in hidden], 1]
        layers: list[nn.Module] = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            layers += [nn.Linear(n_in, n_out, dtype=dtype), acts[activation]()]
        self.net = nn.Sequential(*layers[:-1])

    @staticmethod
    def _batched(R: torch.Tensor):
        if R.ndim == 2:
            return R[None], True
        if R.ndim != 3 or R.shape[-1] != 3:
            raise ValueError(f"R must have shape (N, 3) or (B, N, 3), got {tuple(R.shape)}")
        return R, False

    def descriptors(self, R: torch.Tensor) -> torch.Tensor:
        """The standardised symmetry functions (G - mean) / std (mean per feature, one overall std). Shape: (B, N, 3) -> (B, N, K)."""
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
    """Fit ``model`` to energies (and forces) of configurations; returns the :class:`TrainHistory`.

    The loss compares per-atom energies and force components, each in units of its
    spread s in the training data (so both terms are of order 1):

        C = mean[((E_NN - E) / N)^2] / s_E^2 + force_weight * mean[(F_NN - F)^2] / s_F^2,

    with s_E the standard deviation of E / N and s_F that of the force components;
    without ``F`` only the energy term is used. ``validation`` is
    ``(R_val, E_val[, F_val])``. The normalisation is fitted to the training data first.
    """
    from course.torch_utils import fit

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
