"""Pair potentials, clusters, velocity Verlet and the neural-network potential."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from course import potentials as P  # noqa: E402
from course.torch import potential  # noqa: E402

LJ = P.LennardJones()


def numerical_forces(energy, R, h=1e-6):
    """-dE/dR by central differences."""
    F = np.zeros_like(R)
    for idx in np.ndindex(R.shape):
        Rp, Rm = R.copy(), R.copy()
        Rp[idx] += h
        Rm[idx] -= h
        F[idx] = -(energy(Rp) - energy(Rm)) / (2 * h)
    return F


# ---------------------------------------------------------------- pair potentials
@pytest.mark.parametrize("eps, sigma", [(1.0, 1.0), (2.5, 1.7), (0.01, 3.4)])
def test_lennard_jones_minimum_and_zero(eps, sigma):
    lj = P.LennardJones(eps, sigma)
    assert lj.r_min == pytest.approx(2 ** (1 / 6) * sigma, rel=1e-15)
    assert lj.V(lj.r_min) == pytest.approx(-eps, rel=1e-12)
    assert lj.dV(lj.r_min) == pytest.approx(0.0, abs=1e-12 * eps / sigma)
    assert lj.V(sigma) == pytest.approx(0.0, abs=1e-12 * eps)
    assert lj.d2V(lj.r_min) == pytest.approx(72 * eps / (2 ** (1 / 3) * sigma ** 2), rel=1e-12)
    r = np.linspace(0.9 * sigma, 3 * sigma, 2001)
    assert r[np.argmin(lj.V(r))] == pytest.approx(lj.r_min, abs=2.1 * sigma / 2000)


@pytest.mark.parametrize("D_e, a, r_e", [(1.0, 1.0, 1.0), (4.7, 1.9, 0.74)])
def test_morse_minimum_depth_and_shift(D_e, a, r_e):
    m = P.Morse(D_e, a, r_e)
    assert m.V(r_e) == 0.0 and m.dV(r_e) == 0.0
    assert m.V(r_e + 60 / a) == pytest.approx(D_e, rel=1e-12)
    assert m.d2V(r_e) == pytest.approx(2 * a ** 2 * D_e, rel=1e-12)
    s = P.Morse(D_e, a, r_e, shifted=True)
    assert s.V(r_e) == pytest.approx(-D_e) and s.V(r_e + 60 / a) == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=50, deadline=None)
@given(r=st.floats(0.8, 3.0), which=st.sampled_from(["lj", "morse"]))
def test_pair_derivatives_match_central_differences(r, which):
    pot = LJ if which == "lj" else P.Morse(2.0, 1.5, 1.2)
    h = 1e-6
    assert pot.dV(r) == pytest.approx((pot.V(r + h) - pot.V(r - h)) / (2 * h), rel=1e-6, abs=1e-6)
    assert pot.d2V(r) == pytest.approx((pot.dV(r + h) - pot.dV(r - h)) / (2 * h), rel=1e-6, abs=1e-5)


@pytest.mark.parametrize("pot", [LJ, P.Morse(1.0, 3.0, 1.1, shifted=True)], ids=["lj", "morse"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_forces_match_finite_differences_and_autograd(pot, seed):
    R = P.random_cluster(5, seed=seed, min_distance=0.9)
    E, F = pot.energy_and_forces(R)
    np.testing.assert_allclose(F, numerical_forces(pot.energy, R), rtol=1e-6, atol=1e-6)
    # torch autograd of the same sum over pairs
    Rt = torch.tensor(R, requires_grad=True)
    i, j = P.pair_indices(5)
    r = (Rt[i] - Rt[j]).norm(dim=-1)
    if isinstance(pot, P.LennardJones):
        V = 4 * ((1 / r) ** 12 - (1 / r) ** 6)
    else:
        V = pot.D_e * (1 - torch.exp(-pot.a * (r - pot.r_e))) ** 2 - pot.D_e
    V.sum().backward()
    assert E == pytest.approx(float(V.sum().detach()), rel=1e-12)
    np.testing.assert_allclose(F, -Rt.grad.numpy(), rtol=1e-10, atol=1e-10)
    # Newton's third law: no net force, no net torque
    np.testing.assert_allclose(F.sum(axis=0), 0.0, atol=1e-10)
    np.testing.assert_allclose(np.cross(R, F).sum(axis=0), 0.0, atol=1e-9)


def test_batched_energy_and_forces_equal_single(rng):
    R = np.stack([P.random_cluster(4, seed=s) for s in range(3)])
    E, F = LJ.energy_and_forces(R)
    for b in range(3):
        e, f = LJ.energy_and_forces(R[b])
        assert E[b] == pytest.approx(e, rel=1e-14)
        np.testing.assert_allclose(F[b], f, rtol=1e-13, atol=1e-13)


def test_known_lennard_jones_cluster_minima():
    """Global minima from the Cambridge Cluster Database: -1, -3, -6, -9.103852, -12.712062 epsilon."""
    r0 = LJ.r_min
    triangle = np.array([[0, 0, 0], [r0, 0, 0], [r0 / 2, r0 * np.sqrt(3) / 2, 0]])
    assert LJ.energy(triangle) == pytest.approx(-3.0, rel=1e-12)
    tetra = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * r0 / np.sqrt(8)
    assert LJ.energy(tetra) == pytest.approx(-6.0, rel=1e-12)
    octa = np.vstack([np.eye(3), -np.eye(3)]) * r0 / np.sqrt(2)
    assert P.relax(octa, LJ)[1] == pytest.approx(-12.712062, abs=1e-6)
    bipyramid = np.vstack([triangle - triangle.mean(0), [[0, 0, r0 * 0.8], [0, 0, -r0 * 0.8]]])
    assert P.relax(bipyramid, LJ)[1] == pytest.approx(-9.103852, abs=1e-6)


def test_sample_clusters_shapes_and_labels():
    R, E, F = P.sample_clusters(LJ, 5, 20, displacement=0.05, seed=3)
    assert R.shape == (20, 5, 3) and E.shape == (20,) and F.shape == (20, 5, 3)
    assert P.pair_distances(R).min() >= 0.8 * LJ.r_min
    np.testing.assert_allclose(E, [LJ.energy(x) for x in R], rtol=1e-12)
    assert E.min() >= -9.103852 - 1e-6          # no sample below the global minimum
    np.testing.assert_allclose(R.mean(axis=1), 0.0, atol=1e-12)


def test_random_rotation_is_proper():
    Q = P.random_rotation(np.random.default_rng(0))
    np.testing.assert_allclose(Q.T @ Q, np.eye(3), atol=1e-12)
    assert np.linalg.det(Q) == pytest.approx(1.0)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="epsilon must be a positive"):
        P.LennardJones(epsilon=-1)
    with pytest.raises(ValueError, match="same position"):
        LJ.energy(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        LJ.energy(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="distances r must be positive"):
        LJ.V(0.0)
    with pytest.raises(ValueError, match="V0 must have the shape"):
        P.velocity_verlet(LJ.energy_and_forces, np.eye(3), np.zeros((2, 3)), 0.01, 10)


# ---------------------------------------------------------------- dynamics
def test_velocity_verlet_conserves_energy_with_second_order_error():
    R0, _ = P.relax(P.random_cluster(4, seed=1), LJ)
    V0 = P.maxwell_boltzmann_velocities(4, 0.1, seed=2)
    np.testing.assert_allclose(V0.sum(axis=0), 0.0, atol=1e-14)
    drifts = [P.velocity_verlet(LJ.energy_and_forces, R0, V0, dt, int(round(2.0 / dt))).energy_drift()
              for dt in (0.01, 0.005)]
    assert drifts[0] < 1e-3
    assert 3.0 < drifts[0] / drifts[1] < 5.0          # halving dt divides the error by about 4


def test_velocity_verlet_is_time_reversible():
    R0, _ = P.relax(P.random_cluster(3, seed=0), LJ)
    V0 = P.maxwell_boltzmann_velocities(3, 0.2, seed=0)
    fwd = P.velocity_verlet(LJ.energy_and_forces, R0, V0, 0.005, 200)
    back = P.velocity_verlet(LJ.energy_and_forces, fwd.R[-1], -fwd.V[-1], 0.005, 200)
    np.testing.assert_allclose(back.R[-1], R0, atol=1e-9)


# ---------------------------------------------------------------- the neural-network potential
def _model(seed=0, **kw):
    torch.manual_seed(seed)
    return potential.NeuralNetworkPotential(n_features=8, r_cut=2.5, r_low=0.85, hidden=(8, 8), **kw)


def test_symmetry_functions_match_a_direct_double_loop():
    R = P.random_cluster(4, seed=0)
    mu, eta, rc = torch.linspace(0.8, 2.5, 5, dtype=torch.float64), 3.0, 2.5
    G = potential.radial_symmetry_functions(torch.tensor(R)[None], mu, eta, rc)[0].numpy()
    expected = np.zeros((4, 5))
    for a in range(4):
        for b in range(4):
            r = np.linalg.norm(R[a] - R[b])
            if a != b and r < rc:
                expected[a] += np.exp(-eta * (r - mu.numpy()) ** 2) * 0.5 * (np.cos(np.pi * r / rc) + 1)
    np.testing.assert_allclose(G, expected, rtol=1e-12, atol=1e-14)


def test_network_potential_is_invariant():
    model = _model()
    rng = np.random.default_rng(0)
    R = P.random_cluster(6, seed=4)
    E = model(torch.tensor(R)).item()
    moved = R @ P.random_rotation(rng).T + rng.standard_normal(3)
    permuted = R[rng.permutation(6)]
    for other in (moved, permuted):
        assert model(torch.tensor(other)).item() == pytest.approx(E, rel=1e-12, abs=1e-12)
    # forces rotate with the cluster: F(QR) = Q F(R)
    Q = P.random_rotation(rng)
    F = model.energy_and_forces(torch.tensor(R))[1].numpy()
    FQ = model.energy_and_forces(torch.tensor(R @ Q.T))[1].numpy()
    np.testing.assert_allclose(FQ, F @ Q.T, atol=1e-12)


def test_network_forces_are_minus_the_gradient_of_its_energy():
    model = _model(seed=1)
    R = P.random_cluster(5, seed=2)
    with torch.no_grad():
        E, F = model.energy_and_forces(torch.tensor(R))
    energy = lambda x: model(torch.tensor(x)).item()  # noqa: E731
    np.testing.assert_allclose(F.numpy(), numerical_forces(energy, R), rtol=1e-6, atol=1e-8)
    assert float(E) == pytest.approx(energy(R), rel=1e-14)
    E2, F2 = model.calculator()(R)
    assert E2 == pytest.approx(float(E)) and np.allclose(F2, F.numpy())


@pytest.fixture(scope="module")
def trained_potential():
    torch.set_num_threads(1)
    R, E, F = P.sample_clusters(LJ, 4, 130, displacement=0.05, n_minima=1, seed=0)
    model = _model(seed=0)
    potential.train_potential(model, R[:80], E[:80], F[:80], epochs=200, lr=1e-2, progress=False)
    return model, R[80:], E[80:], F[80:]


def test_learned_forces_agree_with_analytic_lennard_jones(trained_potential):
    """Stated errors: force RMSE below 30 % and energy RMSE below 30 % of the test-set spread."""
    model, R, E, F = trained_potential
    with torch.no_grad():
        E_nn, F_nn = model.energy_and_forces(torch.tensor(R))
    force_rmse = np.sqrt(np.mean((F_nn.numpy() - F) ** 2))
    energy_rmse = np.sqrt(np.mean((E_nn.numpy() - E) ** 2))
    assert force_rmse < 0.3 * F.std(), (force_rmse, F.std())
    assert energy_rmse < 0.3 * E.std(), (energy_rmse, E.std())


def test_learned_potential_runs_stable_dynamics(trained_potential):
    model = trained_potential[0]
    R0, _ = P.relax(P.random_cluster(4, seed=0), LJ)
    V0 = P.maxwell_boltzmann_velocities(4, 0.02, seed=0)
    nn_traj = P.velocity_verlet(model.calculator(), R0, V0, 0.005, 200)
    lj_traj = P.velocity_verlet(LJ.energy_and_forces, R0, V0, 0.005, 200)
    assert nn_traj.energy_drift() < 5 * lj_traj.energy_drift() + 1e-4
    assert np.abs(LJ.energy(nn_traj.R) - nn_traj.E_pot).max() < 0.2
