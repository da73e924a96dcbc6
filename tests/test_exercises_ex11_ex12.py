"""Exercises 11 (optimizers) and 12 (convolution) grade plausible wrong answers wrongly.

Each test takes the instructor's solution, plants one mistake a student makes in one answer cell, grades the
result with the real grader and checks which test cells lose points and which keep theirs. The generic checks
(every solution earns full marks, every unmodified exercise zero, nothing leaks) are in test_grade_notebooks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.grade.grader import Options, grade_many
from course.grade.notebook import cell_source, nbgrader_meta
from tests.helpers import grading_sandbox
from tests.test_exercises_content import _full, _max_points

SANDBOX = grading_sandbox()
ROOT = Path(__file__).resolve().parents[1]
EX11 = "ex11_optimizers.ipynb"
EX12 = "ex12_convolution.ipynb"

pytestmark = pytest.mark.slow


def _variant(name: str, path: Path, *edits: tuple[str, str, str]) -> Path:
    """The solution notebook ``name`` with each ``(grade_id, old, new)`` replacement made in that answer cell."""
    nb = json.loads((ROOT / "solutions" / name).read_text(encoding="utf-8"))
    for grade_id, old, new in edits:
        (cell,) = [c for c in nb["cells"] if nbgrader_meta(c).get("grade_id") == grade_id]
        assert nbgrader_meta(cell).get("solution"), f"{grade_id} is not an answer cell"
        src = cell_source(cell)
        assert src.count(old) == 1, f"{grade_id} does not contain {old!r} exactly once"
        cell["source"] = src.replace(old, new)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def _grade(paths) -> list[tuple[dict, dict]]:
    results = grade_many(paths, Options(sandbox=SANDBOX, timeout=120, total_timeout=900, jobs=2, hidden_seed=5))
    out = []
    for r in results:
        assert r.status == "graded", (r.submission, r.error)
        out.append(({t.grade_id: t.points for t in r.tests}, {c.name: c for t in r.tests for c in t.cases}))
    return out


def test_ex11_wrong_optimizers_lose_their_points(tmp_path):
    full = _max_points(EX11)
    variants = {
        # Adam without the bias correction: the first steps are about 3 times too large
        "no_bias_correction": [("adam_step", "m_hat = m_new / (1.0 - beta1 ** t)", "m_hat = m_new"),
                               ("adam_step", "v_hat = v_new / (1.0 - beta2 ** t)", "v_hat = v_new")],
        # eps under the square root: equal to torch only where eps is negligible
        "eps_inside_sqrt": [("adam_step", "np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)")],
        # momentum that climbs: theta + alpha v
        "momentum_sign": [("momentum_step", "return theta - learning_rate * v_new, v_new",
                           "return theta + learning_rate * v_new, v_new")],
        # the other textbook convention v <- beta v + alpha g, theta <- theta - v: same path, other velocity
        "velocity_times_alpha": [("momentum_step",
                                  "v_new = beta * v + g\n    return theta - learning_rate * v_new, v_new",
                                  "v_new = beta * v + learning_rate * g\n    return theta - v_new, v_new")],
        # no check of beta
        "beta_unchecked": [("momentum_step", "    if not 0.0 <= beta < 1.0:\n"
                            "        raise ValueError(f\"beta must be in [0, 1), got {beta!r}\")\n", "")],
        # divergence detected one step late (the run records a cost after the first one above 1e6)
        "late_stop": [("descend", "        if not costs[-1] <= 1e6:\n            break\n", ""),
                      ("descend", "        costs.append(float(cost(theta)))\n",
                       "        costs.append(float(cost(theta)))\n        if len(costs) > 2 and not costs[-2] <= 1e6:\n"
                       "            break\n")],
        # the best rate chosen as the largest rate that did not diverge
        "largest_stable_rate": [("sweep",
                                 "best = learning_rates[int(np.argmin(final))] if np.isfinite(final).any() else np.nan",
                                 "best = max([lr for lr, f in zip(learning_rates, final) if np.isfinite(f)], "
                                 "default=np.nan)")],
        # a conclusion that picks Adam because it is "the usual first choice"
        "adam_by_default": [("rosenbrock_conclusion", '"best_method": int(np.argmin(best_costs))',
                             '"best_method": 2')],
    }
    paths = [_variant(EX11, tmp_path / f"{name}.ipynb", *edits) for name, edits in variants.items()]
    graded = dict(zip(variants, _grade(paths)))

    p, c = graded["no_bias_correction"]
    _full(p, full, ["test_momentum_step"])
    assert p["test_adam_step"] < 0.5 * full["test_adam_step"]
    assert not c["Adam, three steps from theta = (0, 0), alpha = 0.1, default betas, against torch.optim.Adam"].passed
    assert p["test_descend"] < full["test_descend"]

    p, c = graded["eps_inside_sqrt"]
    _full(p, full, ["test_momentum_step", "test_sweep", "test_rosenbrock_conclusion"])
    assert not c["Adam with beta1 = 0.5, beta2 = 0.9, eps = 0.1 (eps matters), a 2x2 parameter"].passed
    assert p["test_adam_step"] < full["test_adam_step"]

    p, c = graded["momentum_sign"]
    _full(p, full, ["test_adam_step"])
    assert p["test_momentum_step"] <= 0.5 * full["test_momentum_step"]
    assert p["test_descend"] < full["test_descend"]
    assert p["test_rosenbrock_conclusion"] < full["test_rosenbrock_conclusion"]

    p, c = graded["velocity_times_alpha"]
    _full(p, full, ["test_adam_step", "test_descend", "test_sweep", "test_rosenbrock_conclusion"])
    msg = c["momentum, three steps from theta = (0, 0), alpha = 0.1, beta = 0.9, against torch.optim.SGD"].message
    assert "['v']" in msg, msg
    assert p["test_momentum_step"] <= 0.5 * full["test_momentum_step"]

    p, c = graded["beta_unchecked"]
    _full(p, full, ["test_adam_step", "test_descend", "test_sweep", "test_rosenbrock_conclusion"])
    assert not c["momentum_step with beta = 1 raises ValueError naming beta"].passed
    unchecked = c["momentum_step with beta = 1 raises ValueError naming beta"]
    assert "returned instead of raising ValueError" in unchecked.message
    assert p["test_momentum_step"] < full["test_momentum_step"]

    p, c = graded["late_stop"]
    _full(p, full, ["test_momentum_step", "test_adam_step"])
    assert not c["gradient descent with alpha = 0.05 > 2/50 on diag(1, 50) diverges: the costs stop after the first "
                 "above 1e6"].passed
    assert p["test_descend"] < full["test_descend"]

    p, c = graded["largest_stable_rate"]
    _full(p, full, ["test_momentum_step", "test_adam_step", "test_descend"])
    assert p["test_sweep"] < full["test_sweep"] and p["test_rosenbrock_conclusion"] < full["test_rosenbrock_conclusion"]

    p, c = graded["adam_by_default"]
    _full(p, full, [g for g in full if g != "test_rosenbrock_conclusion"])
    assert c["the answer has the required form (the values are checked by hidden tests)"].passed
    assert not c["the best method"].passed and c["the best learning rate of each method"].passed


def test_ex12_wrong_convolutions_lose_their_points(tmp_path):
    full = _max_points(EX12)
    variants = {
        # the convolution of signal processing: the kernel flipped
        "flipped_kernel": [("conv2d", 'np.einsum("ncuw,ocuw->no", patch, W)',
                            'np.einsum("ncuw,ocuw->no", patch, W[:, :, ::-1, ::-1])')],
        # the padding counted once instead of on both sides
        "padding_once": [("conv_output_size", "return (n + 2 * p - k) // s + 1", "return (n + p - k) // s + 1")],
        # rounding up instead of down
        "ceil_size": [("conv_output_size", "return (n + 2 * p - k) // s + 1", "return -(-(n + 2 * p - k) // s) + 1")],
        # max pooling padded with zeros
        "zero_padded_pool": [("max_pool2d", "constant_values=-np.inf", "constant_values=0.0")],
        # pooling with stride 1 when none is given
        "pool_stride_one": [("max_pool2d", "        stride = kernel_size\n", "        stride = 1\n")],
        # a network trained for one epoch only
        "one_epoch": [("train_cnn", "for epoch in range(epochs):", "for epoch in range(1):")],
    }
    paths = [_variant(EX12, tmp_path / f"{name}.ipynb", *edits) for name, edits in variants.items()]
    graded = dict(zip(variants, _grade(paths)))

    p, c = graded["flipped_kernel"]
    _full(p, full, ["test_conv_output_size", "test_max_pool2d", "test_build_cnn", "test_train_cnn"])
    assert not c["lecture 12's hand example: x_ij = 4i + j, W = [[1, 2], [0, -1]]"].passed
    assert p["test_conv2d"] <= 0.5 * full["test_conv2d"]

    for name in ("padding_once", "ceil_size"):
        p, c = graded[name]
        _full(p, full, ["test_build_cnn", "test_train_cnn"])
        assert p["test_conv_output_size"] < full["test_conv_output_size"], name
        assert p["test_conv2d"] < full["test_conv2d"] and p["test_max_pool2d"] < full["test_max_pool2d"], name
    assert not graded["padding_once"][1]["lecture 12: n = 9, kernel 3, stride 2, padding 1"].passed

    p, c = graded["zero_padded_pool"]
    _full(p, full, [g for g in full if g != "test_max_pool2d"])
    assert not c["padding 1 on a map of negative values (padding is -inf, not 0)"].passed
    assert p["test_max_pool2d"] < full["test_max_pool2d"]

    p, c = graded["pool_stride_one"]
    _full(p, full, [g for g in full if g != "test_max_pool2d"])
    assert not c["lecture 12: 2 x 2 windows on a 4 x 4 map"].passed
    assert p["test_max_pool2d"] < full["test_max_pool2d"]

    p, c = graded["one_epoch"]
    _full(p, full, [g for g in full if g != "test_train_cnn"])
    assert not c["seed 0: test accuracy at least 0.94 on the 450 test digits"].passed
    assert c["seed 0: trained in at most 60 s"].passed
    assert p["test_train_cnn"] < 0.5 * full["test_train_cnn"]
