"""The PyTorch helpers of lectures 10-13: weight copies, the training loop, and the torch paths on CUDA."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import course  # noqa: E402
from course import convolution as conv  # noqa: E402
from course import potentials as P  # noqa: E402
from course.torch import device as td  # noqa: E402
from course.torch import nets, potential, training  # noqa: E402

from helpers import torch_mlp_grads  # noqa: E402

CUDA = pytest.mark.skipif(not torch.cuda.is_available(),
                          reason="no CUDA GPU on this machine: the GPU paths are checked where one is present")


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "elu", "gelu", "swish", "softplus", "square"])
def test_mlp_to_torch_gives_the_same_outputs_and_gradients(activation, rng):
    net = course.MLP([3, 5, 4, 2], activation=activation, seed=1)
    model = nets.mlp_to_torch(net)
    X, Y = rng.standard_normal((7, 3)), rng.standard_normal((7, 2))
    out = net.forward(X)
    dW, db = net.backward(Y)
    out_t = model(torch.from_numpy(X))
    training.half_mse_loss(out_t, torch.from_numpy(Y)).backward()
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    np.testing.assert_allclose(out_t.detach().numpy(), out, rtol=0, atol=1e-12)
    for lin, g_W, g_b in zip(linears, dW, db):
        np.testing.assert_allclose(lin.weight.grad.numpy(), g_W, rtol=0, atol=1e-12)
        np.testing.assert_allclose(lin.bias.grad.numpy(), g_b, rtol=0, atol=1e-12)
    # and the independent torch reference of tests/helpers.py agrees too
    _, _, ref_W, _ = torch_mlp_grads(net, X, Y)
    np.testing.assert_allclose(ref_W[0], dW[0], atol=1e-12)


def test_mlp_from_torch_round_trip(rng):
    model = torch.nn.Sequential(torch.nn.Linear(2, 6), torch.nn.LeakyReLU(0.2), torch.nn.Linear(6, 3),
                                torch.nn.ELU(0.5), torch.nn.Linear(3, 1)).double()
    net = nets.mlp_from_torch(model)
    X = rng.standard_normal((5, 2))
    np.testing.assert_allclose(net.forward(X), model(torch.from_numpy(X)).detach().numpy(), atol=1e-14)
    again = nets.mlp_to_torch(net)
    np.testing.assert_allclose(again(torch.from_numpy(X)).detach().numpy(), net.forward(X), atol=1e-14)


def test_mlp_from_torch_rejects_unknown_layers():
    with pytest.raises(ValueError, match="no course.activations equivalent"):
        nets.mlp_from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Dropout()))
    with pytest.raises(TypeError, match="nn.Sequential"):
        nets.mlp_from_torch(torch.nn.Linear(2, 2))


def test_slides_network_gradients_by_autograd():
    """Slides 001, 3.4: dC/dW1 = [[-432, -288], [288, 192]] (the slides misprint 192 as 108), dC/dW2 = [108, 192]."""
    model = torch.nn.Sequential(torch.nn.Linear(2, 2, bias=False), nets.Square(),
                                torch.nn.Linear(2, 1, bias=False), nets.Square()).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -3.0], [-2.0, 1.0]]))
        model[2].weight.copy_(torch.tensor([[2.0, -1.0]]))
    y_hat = model(torch.tensor([[3.0, 2.0]], dtype=torch.float64))
    assert y_hat.item() == 4.0
    (0.5 * (1 - y_hat) ** 2).sum().backward()
    assert model[0].weight.grad.tolist() == [[-432.0, -288.0], [288.0, 192.0]]
    assert model[2].weight.grad.tolist() == [[108.0, 192.0]]


def test_half_mse_and_l2_penalty():
    y_hat = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = torch.zeros(2, 2)
    assert training.half_mse_loss(y_hat, y).item() == pytest.approx(0.5 * 30 / 2)
    model = torch.nn.Linear(2, 1)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[3.0, 4.0]]))
        model.bias.fill_(100.0)
    assert training.l2_penalty(model, 0.1).item() == pytest.approx(0.05 * 25)     # biases are not penalised


def test_fit_early_stopping_restores_the_best_weights():
    torch.manual_seed(0)
    x = torch.linspace(0, 6, 20)[:, None]
    y = torch.sin(x) + 0.3 * torch.randn(20, 1)
    xv = torch.linspace(0.1, 6.1, 20)[:, None]
    yv = torch.sin(xv) + 0.3 * torch.randn(20, 1)
    model = torch.nn.Sequential(torch.nn.Linear(1, 64), torch.nn.Tanh(), torch.nn.Linear(64, 64), torch.nn.Tanh(),
                                torch.nn.Linear(64, 1))
    hist = training.fit(model, x, y, epochs=3000, lr=0.01, validation_data=(xv, yv), patience=50, progress=False)
    assert hist.stopped_early and hist.epochs == hist.best_epoch + 51
    with torch.no_grad():
        restored = torch.nn.functional.mse_loss(model(xv), yv).item()
    assert restored == pytest.approx(min(hist.val_loss), rel=1e-5)
    assert "stopped early" in hist.summary()


def test_fit_minibatches_are_seeded_and_errors_are_named():
    def run():
        torch.manual_seed(0)
        model = torch.nn.Linear(2, 1)
        X, y = torch.randn(30, 2), torch.randn(30, 1)
        training.fit(model, X, y, epochs=3, batch_size=7, optimizer="sgd", lr=0.1, progress=False, seed=5)
        return model.weight.detach().clone()
    assert torch.equal(run(), run())
    model = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match="validation_data"):
        training.fit(model, torch.zeros(3, 2), torch.zeros(3, 1), patience=3)
    with pytest.raises(ValueError, match="same number of samples"):
        training.fit(model, torch.zeros(3, 2), torch.zeros(4, 1))
    with pytest.raises(ValueError, match="optimizer must be"):
        training.fit(model, torch.zeros(3, 2), torch.zeros(3, 1), optimizer="lbfgs")
    with pytest.raises(FloatingPointError, match="diverged"):
        training.fit(model, torch.full((3, 2), 1e30), torch.zeros(3, 1), optimizer="sgd", lr=1e30, progress=False)


def test_adam_matches_the_numpy_optimizer(rng):
    net = course.MLP([3, 6, 2], activation="tanh", seed=2)
    model = nets.mlp_to_torch(net)
    X, Y = rng.standard_normal((9, 3)), rng.standard_normal((9, 2))
    opt_np, opt_t = course.optim.Adam(learning_rate=0.01), torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(10):
        net.train_step(X, Y, opt_np)
        opt_t.zero_grad()
        training.half_mse_loss(model(torch.from_numpy(X)), torch.from_numpy(Y)).backward()
        opt_t.step()
    np.testing.assert_allclose(model[0].weight.detach().numpy(), net.weights[0], atol=1e-12)


def test_make_deterministic_seeds_and_limits_threads():
    before = torch.get_num_threads()
    try:
        td.make_deterministic(3, threads=1)
        a = torch.rand(3)
        td.make_deterministic(3, threads=1)
        assert torch.equal(a, torch.rand(3)) and torch.get_num_threads() == 1
        assert torch.are_deterministic_algorithms_enabled()
    finally:
        torch.use_deterministic_algorithms(False)
        torch.set_num_threads(before)
    with pytest.raises(ValueError, match="threads"):
        td.make_deterministic(0, threads=0)


def test_activation_module_errors_are_clear():
    with pytest.raises(ValueError, match="no differentiable torch module"):
        nets.activation_module("step")


# ---------------------------------------------------------------- CUDA
@CUDA
def test_torch_paths_agree_on_cuda_and_cpu():
    """The lectures' torch code gives the same numbers on the GPU as on the CPU (float64, tight tolerance)."""
    cuda = torch.device("cuda")
    td.make_deterministic(0)
    net = course.MLP([3, 8, 2], activation="tanh", seed=0)
    X = np.random.default_rng(0).standard_normal((5, 3))
    cpu_out = nets.mlp_to_torch(net)(torch.from_numpy(X)).detach().numpy()
    gpu_out = nets.mlp_to_torch(net, device=cuda)(torch.from_numpy(X).to(cuda)).detach().cpu().numpy()
    np.testing.assert_allclose(gpu_out, cpu_out, atol=1e-12)

    x = np.random.default_rng(1).standard_normal((2, 3, 9, 9))
    layer = torch.nn.Conv2d(3, 4, 3, padding=1, dtype=torch.float64)
    with torch.no_grad():
        gpu_conv = layer.to(cuda)(torch.from_numpy(x).to(cuda)).cpu().numpy()
    np.testing.assert_allclose(gpu_conv, conv.conv2d(x, layer.weight.detach().cpu().numpy(),
                                                                   layer.bias.detach().cpu().numpy(), padding=1),
                               atol=1e-12)

    torch.manual_seed(0)
    model = potential.NeuralNetworkPotential(n_features=6, hidden=(8,))
    R = torch.tensor(np.stack([P.random_cluster(5, seed=s) for s in range(3)]))
    E_cpu, F_cpu = model.energy_and_forces(R)
    E_gpu, F_gpu = model.to(cuda).energy_and_forces(R.to(cuda))
    np.testing.assert_allclose(E_gpu.cpu().numpy(), E_cpu.numpy(), rtol=1e-12)
    np.testing.assert_allclose(F_gpu.cpu().numpy(), F_cpu.numpy(), atol=1e-10)

    hnn = P.HamiltonianNN(hidden=(8,))
    x0 = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    orbit_cpu = P.rk4(hnn, x0, 0.1, 50)
    orbit_gpu = P.rk4(hnn.to(cuda), x0.to(cuda), 0.1, 50).cpu()
    np.testing.assert_allclose(orbit_gpu.numpy(), orbit_cpu.numpy(), atol=1e-10)
    torch.use_deterministic_algorithms(False)
