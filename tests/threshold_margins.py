"""The measured side of every threshold that grades a trained model, for tests/test_threshold_margins.py.

Each entry of ``THRESHOLDS`` names an exercise's graded limit as its test cell states it, and ``measure(seed)`` runs
the reference solution (solutions/*.ipynb, executed here without its test cells) with that training seed on the
test's own data and returns the measured quantity, "lower is better", so that margin = measured / limit. Where a
test asks for at least a value (an accuracy), the quantity is the shortfall from perfect (1 - accuracy) against the
allowed shortfall.

    python tests/threshold_margins.py      # prints the table: limit, and measured / limit per seed
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEEDS = (0, 1, 2)
MARGIN = 0.7  # the reference must stay at or below 70 % of every limit


@functools.lru_cache(maxsize=None)
def solution(name: str) -> dict:
    """The namespace of solutions/<name>.ipynb after its set-up and answer cells (no test or skipped cells)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    path = ROOT / "solutions" / f"{name}.ipynb"
    ns: dict = {"__name__": f"solution_{name}"}
    for cell in json.loads(path.read_text())["cells"]:
        meta = cell.get("metadata", {})
        if cell["cell_type"] != "code" or meta.get("nbgrader", {}).get("grade") \
                or meta.get("course", {}).get("grading") == "skip":
            continue
        exec(compile("".join(cell["source"]), str(path), "exec"), ns)
    import matplotlib.pyplot as plt
    plt.close("all")
    return ns


@dataclass(frozen=True)
class Threshold:
    exercise: str
    what: str                          # the test's words
    limit: float                       # the graded limit of the measured quantity
    measure: Callable[[int], float]    # seed -> measured quantity (lower is better)


# ex03: a NumPy network trained by mini-batch gradient descent ---------------------------------------------------

def _ex03_cost_ratio(dataset: str):
    def measure(seed):
        import course
        ns = solution("ex03_numpy_network")
        if dataset == "moons":
            X, y = course.datasets.moons(200, noise=0.1, seed=1)
        else:
            X, y = course.datasets.circles(200, noise=0.2, seed=2)
            X = X / 5.0
        costs = ns["train_from_scratch"]([2, 8, 1], X, y, 150, 20, 0.5, seed)
        return costs[-1] / costs[0]
    return measure


def _ex03_error_rate(dataset: str):
    def measure(seed):
        import course
        ns = solution("ex03_numpy_network")
        split = course.datasets.train_test_split
        if dataset == "moons 0.2":
            X_train, X_test, y_train, y_test = split(*course.datasets.moons(400, noise=0.2, seed=3), test_fraction=0.25,
                                                     seed=0)
        elif dataset == "moons 0.25":
            X_train, X_test, y_train, y_test = split(*course.datasets.moons(400, noise=0.25, seed=11),
                                                     test_fraction=0.25, seed=1)
        else:
            X_train, X_test, y_train, y_test = split(*course.datasets.circles(400, noise=0.3, seed=5),
                                                     test_fraction=0.25, seed=2)
        net = ns["train_classifier"](X_train, y_train, seed)
        return 1.0 - float(np.mean(ns["predict_labels"](net, X_test) == y_test))
    return measure


# ex04: sin(x) with early stopping --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _ex04_run(seed: int):
    ns = solution("ex04_sine_approximation")
    run = ns["train"](seed=seed)
    grid = np.linspace(0.0, 2.0 * np.pi, 200)
    err = np.asarray(ns["run_predictions"](run, grid)).ravel() - np.sin(grid)
    rec = ns["run_record"](run, seed)
    best = int(rec["best_epoch"])
    return {"rms": float(np.sqrt(np.mean(err ** 2))), "max": float(np.max(np.abs(err))),
            "loss_ratio": float(rec["train_loss"][best] / rec["train_loss"][0])}


# ex08: a neural-network potential --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _ex08_model(seed: int):
    return solution("ex08_nn_potential")["train_potential"](seed=seed)


@functools.lru_cache(maxsize=None)
def _ex08_data(n_atoms: int, data_seed: int):
    from course.potentials import LennardJones, sample_clusters
    return sample_clusters(LennardJones(), n_atoms, 100, seed=data_seed, displacement=0.15, n_minima=1)


def _ex08_energy(n_atoms, data_seed):
    def measure(seed):
        R, E, _ = _ex08_data(n_atoms, data_seed)
        return float(np.mean(np.abs(solution("ex08_nn_potential")["energy"](_ex08_model(seed), R) - E))) / n_atoms
    return measure


def _ex08_force(n_atoms, data_seed):
    def measure(seed):
        R, _, F = _ex08_data(n_atoms, data_seed)
        return float(np.sqrt(np.mean((solution("ex08_nn_potential")["forces"](_ex08_model(seed), R) - F) ** 2)))
    return measure


# ex09: derivatives of activations and the softmax Jacobian-vector product against central differences -------------
# (no training: the seed is unused; the measured side is the reference solution's distance from the central difference)

_EX09_Z = [-3.0, -1.2, -0.3, 0.4, 1.1, 2.5]


def _ex09_derivative_gap(seed):
    gap = solution("ex09_activation_functions")["central_difference_gap"]
    cases = [(name, None) for name in ("sigmoid", "tanh", "relu", "softplus", "swish")]
    return max(gap(name, _EX09_Z, alpha) for name, alpha in cases + [("leaky_relu", 0.2), ("elu", 1.5)])


def _ex09_jvp_gap(seed):
    jvp = solution("ex09_activation_functions")["softmax_jvp"]

    def softmax(z):
        e = np.exp(z - np.max(z, axis=-1, keepdims=True))
        return e / np.sum(e, axis=-1, keepdims=True)

    h = 1e-6
    cases = [(np.array([1.3, 5.1, 2.2, 0.7, 1.1]), np.array([1.0, -2.0, 0.5, 0.0, 3.0])),
             (np.array([[0.5, -1.0, 2.0], [3.0, 3.0, 0.0]]), np.array([[1.0, 0.0, 0.0], [-1.0, 2.0, 1.0]]))]
    return max(float(np.max(np.abs(jvp(z, v) - (softmax(z + h * v) - softmax(z - h * v)) / (2 * h))))
               for z, v in cases)


# ex10: the reverse pass against central differences, and the slides' example ------------------------------------

def _ex10_gradient_gap(seed):
    ns = solution("ex10_autodiff")
    mixed = [["mul", 0, 1], ["tanh", 2, 0], ["pow", 0, 2], ["sub", 3, 4], ["exp", 1, 0], ["div", 5, 6],
             ["rsub", 7, 1.5], ["relu", 8, 0], ["mul", 9, 2]]
    cases = [([["mul", 0, 1]], [2.0, -3.0]), (mixed, [0.6, -0.4]), ([["mul", 0, 0]], [3.0]),
             ([["radd", 0, 1.0], ["tanh", 0, 0], ["mul", 1, 2]], [0.5])]
    h, worst = 1e-6, 0.0
    for program, inputs in cases:
        grads = ns["gradients"](program, inputs)[1:1 + len(inputs)]
        for i in range(len(inputs)):
            up, down = list(inputs), list(inputs)
            up[i] += h
            down[i] -= h
            numeric = (ns["forward_values"](program, up)[-1] - ns["forward_values"](program, down)[-1]) / (2 * h)
            worst = max(worst, abs(grads[i] - numeric))
    return worst


def _ex10_slides_gap(seed):
    example = solution("ex10_autodiff")["slides_example"]
    y, g1, g2, _ = example(2.0, 3.0)
    y2, h1, h2, _ = example(1.0, -2.0)
    return max(abs(y - 144.0), abs(2.0 * g1 + 3.0 * g2 - 6.0 * y), abs(1.0 * h1 - 2.0 * h2 - 6.0 * y2))

# ex12: a CNN on scikit-learn's digits ----------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def _ex12_run(seed: int):
    ns = solution("ex12_convolution")
    run = ns["timed_training"](seed)
    _, _, X_test, y_test = ns["digits_data"]()
    error = 1.0 - float(np.mean(ns["cnn_labels"](run, X_test) == y_test))
    return {"error": error, "seconds": float(ns["training_seconds"](run)),
            "parameters": float(ns["cnn_summary"](seed)["n_parameters"])}


THRESHOLDS = [
    Threshold("ex03", "moons: the cost falls below 0.5 times the first in 150 epochs", 0.5, _ex03_cost_ratio("moons")),
    Threshold("ex03", "circles: the cost falls below 0.7 times the first in 150 epochs", 0.7,
              _ex03_cost_ratio("circles")),
    Threshold("ex03", "accuracy >= 0.90 on held-out moons (noise 0.2): error rate", 0.10,
              _ex03_error_rate("moons 0.2")),
    Threshold("ex03", "accuracy >= 0.90 on other moons (noise 0.25): error rate", 0.10,
              _ex03_error_rate("moons 0.25")),
    Threshold("ex03", "accuracy >= 0.90 on circles (noise 0.3): error rate", 0.10, _ex03_error_rate("circles")),
    Threshold("ex04", "RMS error against sin(x) at most 0.06", 0.06, lambda s: _ex04_run(s)["rms"]),
    Threshold("ex04", "maximum error against sin(x) at most 0.2", 0.2, lambda s: _ex04_run(s)["max"]),
    Threshold("ex04", "training loss falls to a fifth of its first value", 0.2, lambda s: _ex04_run(s)["loss_ratio"]),
    Threshold("ex08", "held-out dimers (seed 201): energy error at most 0.01 per atom", 0.01, _ex08_energy(2, 201)),
    Threshold("ex08", "held-out dimers (seed 211): energy error at most 0.01 per atom", 0.01, _ex08_energy(2, 211)),
    Threshold("ex08", "held-out trimers (seed 301): energy error at most 0.01 per atom", 0.01, _ex08_energy(3, 301)),
    Threshold("ex08", "held-out trimers (seed 311): energy error at most 0.01 per atom", 0.01, _ex08_energy(3, 311)),
    Threshold("ex08", "held-out dimers (seed 201): RMS force error at most 0.4", 0.4, _ex08_force(2, 201)),
    Threshold("ex08", "held-out trimers (seed 301): RMS force error at most 0.4", 0.4, _ex08_force(3, 301)),
    Threshold("ex08", "held-out trimers (seed 311): RMS force error at most 0.4", 0.4, _ex08_force(3, 311)),
    Threshold("ex09", "dsigma against central differences of sigma: at most 1e-6", 1e-6, _ex09_derivative_gap),
    Threshold("ex09", "softmax_jvp against central differences: at most 1e-8", 1e-8, _ex09_jvp_gap),
    Threshold("ex10", "input gradients against central differences: at most 1e-6", 1e-6, _ex10_gradient_gap),
    Threshold("ex10", "the slides' example: y and Euler's relation within 1e-9", 1e-9, _ex10_slides_gap),
    Threshold("ex12", "test accuracy >= 0.94 on the 450 test digits: error rate", 0.06,
              lambda s: _ex12_run(s)["error"]),
    Threshold("ex12", "train_cnn takes at most 60 s (wall clock, shared machine)", 60.0,
              lambda s: _ex12_run(s)["seconds"]),
    Threshold("ex12", "the CNN has at most 20,000 parameters", 20000.0, lambda s: _ex12_run(s)["parameters"]),
]


if __name__ == "__main__":
    import sys
    sys.path.insert(0, str(ROOT))
    for t in THRESHOLDS:
        ratios = [t.measure(s) / t.limit for s in SEEDS]
        flag = "" if max(ratios) <= MARGIN else "   <-- over 70 %"
        print(f"{t.exercise}  {t.what:<66} limit {t.limit:<5} " + "  ".join(f"{r:5.0%}" for r in ratios) + flag,
              flush=True)
