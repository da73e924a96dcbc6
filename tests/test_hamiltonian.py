"""The pendulum, RK4 and the Hamiltonian neural network against a plain network."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from course.torch import hamiltonian as H  # noqa: E402
from course.torch.training import fit  # noqa: E402


def test_rk4_is_fourth_order_on_the_harmonic_oscillator():
    f = lambda x: np.stack([x[..., 1], -x[..., 0]], -1)  # noqa: E731
    errors = [np.abs(H.rk4(f, np.array([1.0, 0.0]), dt, int(round(2 / dt)))[-1] - [np.cos(2), -np.sin(2)]).max()
              for dt in (0.1, 0.05)]
    assert 12 < errors[0] / errors[1] < 20


def test_pendulum_field_is_hamiltons_equations():
    x = torch.tensor([[0.3, -0.7], [2.0, 0.4]], dtype=torch.float64, requires_grad=True)
    (dH,) = torch.autograd.grad(H.pendulum_hamiltonian(x).sum(), x)
    np.testing.assert_allclose(H.pendulum_vector_field(x.detach()).numpy(),
                               torch.stack([dH[:, 1], -dH[:, 0]], -1).numpy(), atol=1e-15)


def test_hnn_field_is_symplectic_gradient_of_its_hamiltonian():
    torch.manual_seed(0)
    hnn = H.HamiltonianNN(hidden=(8,))
    x = np.array([0.4, -0.3])
    h = 1e-6
    energy = lambda v: hnn.hamiltonian(torch.tensor(v)[None]).item()  # noqa: E731
    dHdq = (energy(x + [h, 0]) - energy(x - [h, 0])) / (2 * h)
    dHdp = (energy(x + [0, h]) - energy(x - [0, h])) / (2 * h)
    with torch.no_grad():
        field = hnn(torch.tensor(x)[None])[0].numpy()
    np.testing.assert_allclose(field, [dHdp, -dHdq], rtol=1e-6, atol=1e-9)


def test_hnn_drifts_less_than_a_plain_network():
    """Horizon t = 40 (400 RK4 steps of 0.1) from q = 1, p = 0: the HNN's energy drift is smaller."""
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(-2.0, 2.0, 300), rng.uniform(-1.5, 1.5, 300)])
    x = x[H.pendulum_hamiltonian(x) < 1.2][:100]
    X, Y = torch.tensor(x), torch.tensor(H.pendulum_vector_field(x))
    drifts = {}
    for cls in (H.HamiltonianNN, H.VectorFieldNN):
        torch.manual_seed(0)
        model = cls(hidden=(16, 16))
        fit(model, X, Y, epochs=300, lr=1e-2, progress=False)
        states = H.rk4(model, torch.tensor([[1.0, 0.0]], dtype=torch.float64), 0.1, 400).numpy()
        energy = H.pendulum_hamiltonian(states)
        drifts[cls.__name__] = np.abs(energy - energy[0]).max()
    assert drifts["HamiltonianNN"] < 0.5 * drifts["VectorFieldNN"], drifts
