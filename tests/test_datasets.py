"""The seeded datasets and the splits."""

import numpy as np
import pytest

from course import datasets


@pytest.mark.parametrize("name", ["xor", "circles", "moons", "spiral", "gaussians"])
def test_2d_sets_are_seeded_balanced_and_shaped(name):
    X, y = datasets.make(name, n_samples=200, noise=0.1, seed=4)
    X2, y2 = datasets.make(name, n_samples=200, noise=0.1, seed=4)
    X3, _ = datasets.make(name, n_samples=200, noise=0.1, seed=5)
    assert X.shape == (200, 2) and y.shape == (200,)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.allclose(X, X3)
    assert set(np.unique(y)) == {0, 1}
    assert abs(np.mean(y) - 0.5) < 0.05


def test_labels_mean_what_they_say():
    X, y = datasets.xor(400, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0))
    X, y = datasets.circles(400, seed=0)
    r = np.hypot(X[:, 0], X[:, 1])
    assert r[y == 1].max() < r[y == 0].min()
    X, y = datasets.spiral(300, seed=0, n_classes=3)
    assert set(np.unique(y)) == {0, 1, 2}
    X, y = datasets.noisy_sine(50, noise=0.0, seed=0)
    np.testing.assert_allclose(y, np.sin(X[:, 0]))
    assert np.all(np.diff(X[:, 0]) >= 0) and 0 <= X.min() and X.max() <= 2 * np.pi


def test_logic_gates():
    X, y = datasets.logic_gate("XOR")
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    np.testing.assert_array_equal(datasets.logic_gate("and")[1], [0, 0, 0, 1])
    with pytest.raises(ValueError, match="unknown logic gate 'xnor'.*and, nand, nor, or, xor"):
        datasets.logic_gate("xnor")


def test_splits_partition_the_data():
    X, y = np.arange(100.0)[:, None], np.arange(100)
    X_tr, X_va, X_te, y_tr, y_va, y_te = datasets.train_val_test_split(X, y, 0.2, 0.1, seed=0)
    assert (len(y_tr), len(y_va), len(y_te)) == (70, 20, 10)
    assert sorted(np.concatenate([y_tr, y_va, y_te]).tolist()) == list(range(100))
    np.testing.assert_array_equal(X_tr[:, 0], y_tr)
    X_tr2, X_te2, _, _ = datasets.train_test_split(X, y, 0.25, seed=0)
    assert len(X_te2) == 25
    with pytest.raises(ValueError, match="must leave training data"):
        datasets.train_val_test_split(X, y, 0.5, 0.5)
    with pytest.raises(ValueError, match="same number of samples, got 100 and 99"):
        datasets.train_test_split(X, y[:-1])
    with pytest.raises(ValueError, match="unknown dataset 'mnist'"):
        datasets.make("mnist")
    with pytest.raises(ValueError, match="noise must be a non-negative number, got -1"):
        datasets.moons(noise=-1)
