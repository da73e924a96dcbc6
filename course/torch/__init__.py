"""course.torch: the PyTorch side of the course, beside the NumPy core.

Modules (imported on first use; each imports PyTorch):
    device       the device choice, seeding, deterministic kernels
    nets         torch.nn equivalents of course.activations, the one MLP builder, weight copies to and from course.MLP
    training     the training loop of the lectures (early stopping and history shared with the NumPy core)
    potential    the neural-network interatomic potential (symmetry functions, training on energies and forces)
    hamiltonian  the pendulum and a Hamiltonian neural network beside a plain one
"""

from __future__ import annotations

import importlib

_MODULES = {"device", "nets", "training", "potential", "hamiltonian"}


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"course.torch.{name}")
    raise AttributeError(f"module 'course.torch' has no attribute {name!r}")
