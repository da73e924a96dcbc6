"""The package itself: lazy imports, the device helper, seeding."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import course


def test_import_course_does_not_load_heavy_libraries():
    code = ("import sys, course; heavy = [m for m in ('torch', 'matplotlib', 'ipywidgets', 'scipy', 'sympy') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_lazy_submodules_and_unknown_attribute():
    assert course.activations.get("relu").name == "relu"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = course.nope


def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert course.device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert course.device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert course.device().type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert course.device().type == "cpu"


def test_seed_everything_makes_numpy_and_torch_repeatable():
    rng = course.seed_everything(3)
    a = (np.random.rand(3), torch.rand(3), rng.random())
    rng = course.seed_everything(3)
    b = (np.random.rand(3), torch.rand(3), rng.random())
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1]) and a[2] == b[2]
    with pytest.raises(ValueError, match="whole number"):
        course.seed_everything(1.5)


def test_the_numpy_core_imports_no_torch():
    """Pair potentials, molecular dynamics and the MLP need no PyTorch: it lives in course.torch."""
    code = ("import sys, course, course.potentials as P, course.mlp, course.regularization, course.history; "
            "R, E, F = P.sample_clusters(P.LennardJones(), 3, 2, n_minima=1); "
            "P.velocity_verlet(P.LennardJones().energy_and_forces, R[0], 0 * R[0], 0.01, 3); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_torch_side_is_one_package():
    from course.torch import device, hamiltonian, nets, potential, training

    assert course.device is device.device and course.seed_everything is device.seed_everything
    assert {m.__name__ for m in (hamiltonian, nets, potential, training)} == {
        "course.torch.hamiltonian", "course.torch.nets", "course.torch.potential", "course.torch.training"}
    from course import potentials

    assert not hasattr(potentials, "NeuralNetworkPotential")  # the NumPy side holds no torch model
