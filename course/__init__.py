"""course: the helper library of the neural-network fundamentals course.

NumPy reference implementations in the slides' notation:

    >>> import course
    >>> net = course.MLP([3, 2, 1], activation="relu")
    >>> y_hat = net.forward(X); dW, db = net.backward(y)

The NumPy core (imported on first use, so ``import course`` stays fast):
    activations, losses, perceptron, mlp, history, optim, regularization, gradcheck,
    datasets, autodiff, convolution, potentials; the apps: widgets, plotting;
    the grader: grade.

The PyTorch side is the package ``course.torch`` (device, nets, training,
potential, hamiltonian).
"""

from __future__ import annotations

import importlib

__all__ = ["MLP", "History", "Perceptron", "count_parameters", "device", "seed_everything"]
__version__ = "0.1.0"

_LAZY_MODULES = {"activations", "losses", "perceptron", "mlp", "history", "optim", "regularization", "gradcheck",
                 "convolution", "potentials", "datasets", "autodiff", "widgets", "grade", "plotting", "torch"}


#: the names ``course.X`` gives, and the module each comes from (imported on first use, so that
#: an exercise can forbid a module, e.g. course.mlp, without breaking ``import course``)
_LAZY_NAMES = {"MLP": "mlp", "History": "history", "count_parameters": "mlp", "Perceptron": "perceptron",
               "device": "torch.device", "seed_everything": "torch.device"}


def __getattr__(name):
    if name in _LAZY_MODULES:
        return importlib.import_module(f"course.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f"course.{_LAZY_NAMES[name]}"), name)
    raise AttributeError(f"module 'course' has no attribute {name!r}")
