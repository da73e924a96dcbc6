r"""Interatomic potentials, dynamics on them, and neural networks that learn them (slides 002, 001 sec. 3.9.8).

Pair potentials (energies in units of the well depth, lengths in units of sigma or r_e):

    Lennard-Jones:  V(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6],   minimum V = -eps at r = 2^(1/6) sigma
    Morse:          V(r) = D_e [1 - exp(-a (r - r_e))]^2,          minimum V = 0 at r = r_e, V(inf) = D_e

A cluster of N atoms at positions R (shape (N, 3)) has the pair energy and forces

    E(R) = sum_{i<j} V(r_ij),   r_ij = |R_i - R_j|,
    F_i  = -dE/dR_i = -sum_{j != i} V'(r_ij) (R_i - R_j) / r_ij.

Every function here also takes a batch of configurations, shape (B, N, 3).

The module also holds cluster generation (random start, relaxation to a local
minimum, "rattled" samples) and velocity Verlet integration of Newton's
equations M d^2R/dt^2 = F. It is NumPy only: the neural-network potential that
learns these energies is :mod:`course.torch.potential`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from course._checks import as_float_array, check_finite

__all__ = ["PairPotential", "LennardJones", "Morse", "pair_indices", "pair_vectors", "pair_distances",
           "random_rotation", "random_cluster", "relax", "sample_clusters", "maxwell_boltzmann_velocities",
           "Trajectory", "velocity_verlet"]


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

    @property
    def r_min(self) -> float:  # pragma: no cover - abstract
        """The distance of the minimum, where V'(r) = 0."""
        raise NotImplementedError

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


#: kept importable from here until solutions/ex08 imports them from course.torch.potential
