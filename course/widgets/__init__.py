"""Interactive widgets for every core concept (ipywidgets + matplotlib).

Each function builds an app; display it as the last expression of a cell:

    >>> from course import widgets
    >>> widgets.perceptron_explorer()

Apps: perceptron_explorer, activation_explorer, universal_approximation,
forward_stepper, backprop_stepper, gradient_descent, playground,
regularization_explorer. See :mod:`course.widgets._base` for how they are built.
"""

from __future__ import annotations

import importlib

# app -> module. A module must not share its app's name: importing course.widgets.X sets the
# package's attribute X to the module, which would hide the function of the same name.
_APPS = {
    "perceptron_explorer": "perceptron",
    "activation_explorer": "activation",
    "universal_approximation": "approximation",
    "forward_stepper": "stepper",
    "backprop_stepper": "stepper",
    "gradient_descent": "loss_landscape",
    "playground": "training_playground",
    "regularization_explorer": "regularization",
}

__all__ = list(_APPS)


def __getattr__(name):
    if name in _APPS:
        return getattr(importlib.import_module(f"course.widgets.{_APPS[name]}"), name)
    raise AttributeError(f"module 'course.widgets' has no attribute {name!r}")
