r"""Seeded, offline toy datasets and a train/validation/test split.

Every generator takes ``seed`` and returns NumPy arrays ``(X, y)``: the same
seed gives the same numbers on every machine, with no download. The 2-D
classification sets (labels 0 and 1, or 0..K-1 for ``spiral``) are the ones of
TensorFlow Playground; ``noisy_sine`` is the 1-D regression of the slides'
section 3.8.

Shape: X is (n_samples, 2) for the 2-D sets and (n_samples, 1) for
``noisy_sine``; y is (n_samples,) (int labels for classification, floats for
regression).
"""

from __future__ import annotations

import numpy as np

from course._checks import as_float_array, unknown_name

__all__ = ["logic_gate", "xor", "circles", "moons", "spiral", "gaussians", "noisy_sine",
           "train_test_split", "train_val_test_split", "make", "names"]

_GATES = {
    "and": [0, 0, 0, 1],
    "or": [0, 1, 1, 1],
    "xor": [0, 1, 1, 0],
    "nand": [1, 1, 1, 0],
    "nor": [1, 0, 0, 0],
}


def logic_gate(name: str):
    """The truth table of a logic gate on two inputs: X (4, 2) of 0/1, y (4,).

    ``name`` is ``"and"``, ``"or"``, ``"xor"``, ``"nand"`` or ``"nor"``.
    """
    key = str(name).lower()
    if key not in _GATES:
        raise unknown_name("logic gate", name, _GATES)
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    return X, np.array(_GATES[key], dtype=float)


def _check_n(n_samples, noise):
    if int(n_samples) != n_samples or n_samples < 2:
        raise ValueError(f"n_samples must be a whole number >= 2, got {n_samples!r}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a non-negative number, got {noise!r}")
    return int(n_samples)


def xor(n_samples: int = 200, noise: float = 0.0, seed: int = 0):
    """Points in [-5, 5]^2 labelled 1 where x_1 x_2 < 0 (the XOR of the signs)."""
    n = _check_n(n_samples, noise)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-5, 5, size=(n, 2))
    X += np.sign(X) * 0.3  # keep a small margin around the axes
    y = (X[:, 0] * X[:, 1] < 0).astype(int)
    return X + noise * rng.standard_normal(X.shape), y


def circles(n_samples: int = 200, noise: float = 0.0, seed: int = 0):
    """An inner disc (label 1) inside a ring (label 0), radius 5."""
    n = _check_n(n_samples, noise)
    rng = np.random.default_rng(seed)
    n_in = n // 2
    r = np.concatenate([rng.uniform(0, 2.5, n_in), rng.uniform(3.5, 5.0, n - n_in)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    y = np.concatenate([np.ones(n_in, int), np.zeros(n - n_in, int)])
    return X + noise * rng.standard_normal(X.shape), y


def moons(n_samples: int = 200, noise: float = 0.0, seed: int = 0):
    """Two interleaving half circles (labels 0 and 1), centred near the origin."""
    n = _check_n(n_samples, noise)
    rng = np.random.default_rng(seed)
    n0 = n // 2
    t0, t1 = rng.uniform(0, np.pi, n0), rng.uniform(0, np.pi, n - n0)
    upper = np.column_stack([np.cos(t0), np.sin(t0)])
    lower = np.column_stack([1 - np.cos(t1), 0.5 - np.sin(t1)])
    X = np.vstack([upper, lower]) - [0.5, 0.25]
    y = np.concatenate([np.zeros(n0, int), np.ones(n - n0, int)])
    return X + noise * rng.standard_normal(X.shape), y


def spiral(n_samples: int = 200, noise: float = 0.0, seed: int = 0, n_classes: int = 2):
    """``n_classes`` interleaved spiral arms of radius up to 5 (labels 0..n_classes-1)."""
    n = _check_n(n_samples, noise)
    if int(n_classes) != n_classes or n_classes < 2:
        raise ValueError(f"n_classes must be a whole number >= 2, got {n_classes!r}")
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % n_classes
    t = rng.uniform(0, 1, n)
    r = 5 * t
    angle = 1.75 * t * 2 * np.pi + 2 * np.pi * labels / n_classes
    X = np.column_stack([r * np.sin(angle), r * np.cos(angle)])
    return X + noise * rng.standard_normal(X.shape), labels.astype(int)


def gaussians(n_samples: int = 200, noise: float = 0.0, seed: int = 0, spread: float = 1.0):
    """Two Gaussian blobs centred at (2, 2) (label 1) and (-2, -2) (label 0)."""
    n = _check_n(n_samples, noise)
    rng = np.random.default_rng(seed)
    n1 = n // 2
    X = np.vstack([rng.normal([2, 2], spread, (n1, 2)), rng.normal([-2, -2], spread, (n - n1, 2))])
    y = np.concatenate([np.ones(n1, int), np.zeros(n - n1, int)])
    return X + noise * rng.standard_normal(X.shape), y


def noisy_sine(n_samples: int = 100, noise: float = 0.1, seed: int = 0, x_range=(0.0, 2 * np.pi)):
    """y = sin(x) + noise * N(0, 1) for x uniform in ``x_range`` (sorted). X is (n, 1)."""
    n = _check_n(n_samples, noise)
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(x_range[0], x_range[1], n))
    return x[:, None], np.sin(x) + noise * rng.standard_normal(n)


_REGISTRY = {"xor": xor, "circles": circles, "moons": moons, "spiral": spiral,
             "gaussians": gaussians, "gauss": gaussians, "noisy_sine": noisy_sine}


def names() -> list[str]:
    """The names :func:`make` accepts."""
    return sorted(_REGISTRY)


def make(name: str, **kwargs):
    """The generator called ``name`` applied to ``kwargs``: ``make("moons", noise=0.1, seed=1)``."""
    key = str(name).lower()
    if key not in _REGISTRY:
        raise unknown_name("dataset", name, _REGISTRY)
    return _REGISTRY[key](**kwargs)


def train_test_split(X, y, test_fraction: float = 0.25, seed: int = 0, shuffle: bool = True):
    """Split into ``(X_train, X_test, y_train, y_test)``, shuffled with ``seed``."""
    X_tr, _, X_te, y_tr, _, y_te = train_val_test_split(X, y, 0.0, test_fraction, seed, shuffle)
    return X_tr, X_te, y_tr, y_te


def train_val_test_split(X, y, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0,
                         shuffle: bool = True):
    """Split into ``(X_train, X_val, X_test, y_train, y_val, y_test)``.

    The validation set tunes hyperparameters and early stopping; the test set is
    touched once, at the end, to estimate performance on new data.
    """
    X = as_float_array(X, "X")
    y = np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of samples, got {len(X)} and {len(y)}")
    for name, frac in (("val_fraction", val_fraction), ("test_fraction", test_fraction)):
        if not 0.0 <= frac < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {frac!r}")
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(f"val_fraction + test_fraction must leave training data, got {val_fraction + test_fraction}")
    n = len(X)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    n_test, n_val = int(round(test_fraction * n)), int(round(val_fraction * n))
    test, val, train = order[:n_test], order[n_test:n_test + n_val], order[n_test + n_val:]
    return X[train], X[val], X[test], y[train], y[val], y[test]
