"""Exercises 3, 4, 5 and 8 grade wrong answers wrongly: each typical mistake loses the points it should.

Each test takes the instructor's solution, plants one mistake a student makes in one answer
cell, grades the result with the real grader and checks which test cells lose points (and
that the others keep theirs). The generic checks (every solution earns full marks, every
unmodified exercise zero, nothing leaks) are in test_grade_notebooks.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.grade.grader import Options, grade_many
from course.grade.notebook import cell_source, nbgrader_meta
from tests.helpers import grading_sandbox

SANDBOX = grading_sandbox()
ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _variant(name: str, grade_id: str, old: str, new: str, path: Path) -> Path:
    """The solution notebook ``name`` with ``old`` replaced by ``new`` in the answer cell ``grade_id``."""
    nb = json.loads((ROOT / "solutions" / name).read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if nbgrader_meta(c).get("grade_id") == grade_id]
    assert nbgrader_meta(cell).get("solution"), f"{grade_id} is not an answer cell"
    src = cell_source(cell)
    assert old in src, f"{grade_id} does not contain {old!r}"
    cell["source"] = src.replace(old, new)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def _grade(paths):
    results = grade_many(paths, Options(sandbox=SANDBOX, timeout=120, total_timeout=600, jobs=2))
    for r in results:
        assert r.status == "graded", (r.submission, r.error)
    return [({t.grade_id: t.points for t in r.tests}, {c.name: c for t in r.tests for c in t.cases}, r)
            for r in results]


def _max_points(name: str) -> dict:
    nb = json.loads((ROOT / "solutions" / name).read_text(encoding="utf-8"))
    return {nbgrader_meta(c)["grade_id"]: nbgrader_meta(c)["points"] for c in nb["cells"]
            if nbgrader_meta(c).get("grade")}


def _full(points: dict, full: dict, ids) -> None:
    for gid in ids:
        assert points[gid] == pytest.approx(full[gid]), (gid, points[gid])


def test_ex03_missing_activation_derivative_and_dropped_last_batch(tmp_path):
    name = "ex03_numpy_network.ipynb"
    full = _max_points(name)
    no_sigma_prime = _variant(name, "Dense", "delta = np.asarray(grad_a, dtype=float) * self.dA_dZ",
                              "delta = np.asarray(grad_a, dtype=float)", tmp_path / "no_sigma_prime.ipynb")
    drop_last = _variant(name, "train",
                         "for start in range(0, N, batch_size):\n            idx = order[start:start + batch_size]",
                         "for k in range(max(N // batch_size, 1)):\n"
                         "            idx = order[k * batch_size:(k + 1) * batch_size]",
                         tmp_path / "drop_last.ipynb")
    (p1, c1, _), (p2, c2, _) = _grade([no_sigma_prime, drop_last])

    # backward without sigma'(z): right only where sigma' = 1 (the identity-activation cases)
    _full(p1, full, ["test_activate", "test_dense_forward", "test_half_mse"])
    assert 0 < p1["test_dense_backward"] < full["test_dense_backward"]
    assert c1["slides 001 layer, identity, dC/da = (1, 0)"].passed
    assert not c1["relu passes the gradient only where z > 0"].passed
    assert p1["test_network"] < full["test_network"]

    # dropping the smaller last batch: only the test with 10 samples in batches of 4 notices
    _full(p2, full, [g for g in full if g != "test_train"])
    failed = [n for n, c in c2.items() if not c.passed]
    assert failed == ["mini-batches of 4 from 10 samples (3 updates per epoch), shuffled with rng.permutation, seed 7"]
    assert p2["test_train"] == pytest.approx(full["test_train"] * 4 / 5)


def test_ex04_no_restore_and_off_by_one_patience(tmp_path):
    name = "ex04_sine_approximation.ipynb"
    full = _max_points(name)
    no_restore = _variant(name, "train", "    model.load_state_dict(best)\n", "", tmp_path / "no_restore.ipynb")
    late_stop = _variant(name, "should_stop", ">= patience", "> patience", tmp_path / "late_stop.ipynb")
    (p1, c1, _), (p2, c2, _) = _grade([no_restore, late_stop])

    _full(p1, full, ["test_build_model", "test_predict", "test_should_stop"])
    record = c1["seed 0: the history shows early stopping and the best model is returned"]
    assert not record.passed and "load the best parameters back" in record.message
    assert not c1["seed 2, patience 50: early stopping and the best model"].passed
    assert p1["test_train"] < full["test_train"]

    _full(p2, full, ["test_build_model", "test_predict"])
    assert p2["test_should_stop"] < full["test_should_stop"]
    record = c2["seed 0: the history shows early stopping and the best model is returned"]
    assert not record.passed and "epochs after the best one" in record.message


def test_ex05_off_by_one_width(tmp_path):
    name = "ex05_capacity.ipynb"
    full = _max_points(name)
    too_wide = _variant(name, "width_for_budget", "    return w\n", "    return w + 1\n", tmp_path / "too_wide.ipynb")
    ((points, cases, _),) = _grade([too_wide])
    _full(points, full, ["test_count_parameters", "test_final_losses"])
    assert points["test_width_for_budget"] == 0
    assert points["test_deep_vs_wide"] == 0


def test_ex08_wrong_force_sign_and_a_model_blind_to_z(tmp_path):
    name = "ex08_nn_potential.ipynb"
    full = _max_points(name)
    plus_gradient = _variant(name, "energy_forces", "return -dE_dR.cpu().numpy()", "return dE_dR.cpu().numpy()",
                             tmp_path / "plus_gradient.ipynb")
    blind_to_z = _variant(name, "pair_distances", "d = R[..., a, :] - R[..., b, :]",
                          "d = R[..., a, :2] - R[..., b, :2]", tmp_path / "blind_to_z.ipynb")
    (p1, c1, _), (p2, c2, _) = _grade([plus_gradient, blind_to_z])

    # F = +dE/dR: energies right, every force check wrong, the symmetry checks unaffected
    _full(p1, full, ["test_pair_distances", "test_PairPotentialNet"])
    assert p1["test_energy_forces"] == pytest.approx(full["test_energy_forces"] / 2)
    assert c1["held-out trimers: energy error at most 0.01 per atom"].passed
    assert not c1["held-out trimers: RMS force error at most 0.4"].passed
    assert c1["rotating, translating and renumbering trimers"].passed

    # distances from x and y only: not rotation invariant, which the symmetry test reports
    assert p2["test_pair_distances"] < full["test_pair_distances"]
    sym = c2["rotating, translating and renumbering trimers"]
    assert not sym.passed and sym.message.startswith("rotation")
    assert p2["test_train_potential"] < full["test_train_potential"]


def test_ex01_and_ex03_activations_that_ignore_the_texts_requirements_lose_points(tmp_path):
    """The attempt that once scored 10/10: the other step convention (z > 0), booleans instead of floats, and no
    ValueError for an unknown name. Each requirement is stated in the text, and each now costs points."""
    loose_sigma = (
        'def sigma(z, name):\n'
        '    z = np.asarray(z, dtype=float)\n'
        '    ### BEGIN SOLUTION\n'
        '    if name == "step":\n'
        '        return z > 0\n'
        '    return {"identity": z, "relu": np.maximum(z, 0.0), "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z),\n'
        '            "square": z ** 2}.get(name)\n'
        '    ### END SOLUTION\n')
    nb = json.loads((ROOT / "solutions" / "ex01_forward_pass.ipynb").read_text(encoding="utf-8"))
    (cell,) = [c for c in nb["cells"] if nbgrader_meta(c).get("grade_id") == "sigma"]
    cell["source"] = loose_sigma
    ex01 = tmp_path / "loose_sigma.ipynb"
    ex01.write_text(json.dumps(nb), encoding="utf-8")
    boolean_relu = _variant("ex03_numpy_network.ipynb", "activate", "return np.maximum(z, 0.0), (z > 0).astype(float)",
                            "return np.maximum(z, 0.0), z >= 0", tmp_path / "boolean_relu.ipynb")
    no_raise = _variant("ex03_numpy_network.ipynb", "activate", "    raise ValueError(", "    return None, (",
                        tmp_path / "no_raise.ipynb")
    (p1, c1, _), (p2, c2, _), (p3, c3, _) = _grade([ex01, boolean_relu, no_raise])

    assert p1["test_sigma"] < _max_points("ex01_forward_pass.ipynb")["test_sigma"]
    failed = {n for n, c in c1.items() if not c.passed}
    assert {"step(0) = 1: the step function fires for z >= 0", "step returns floats 0.0 and 1.0, not booleans",
            "an unknown name ('softsign') raises a ValueError that names the six activations"} <= failed
    assert not c2["relu at z = 0: value 0 and derivative 0"].passed
    assert not c2["relu and its derivative are floats, not booleans"].passed
    assert not c3["an unknown name ('step') raises a ValueError that names the four activations"].passed
    assert c3["relu at z = 0: value 0 and derivative 0"].passed
