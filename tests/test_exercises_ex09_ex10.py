"""Exercises 9 and 10 grade wrong answers wrongly: each mistake a student makes loses the points it should.

Each test plants one mistake in one answer cell of the instructor's solution (with the helpers of
test_exercises_content.py), grades the result with the real grader, and checks which test cells lose points
and that the others keep theirs. The generic checks (full marks for the solutions under several hidden seeds,
zero for the generated exercises, no leaks) are in test_grade_notebooks.py.
"""

from __future__ import annotations

import pytest

from tests.test_exercises_content import _full, _grade, _max_points, _variant

pytestmark = pytest.mark.slow

EX09 = "ex09_activation_functions.ipynb"
EX10 = "ex10_autodiff.ipynb"


def _grade_mutants(notebook: str, mutants: dict, tmp_path) -> dict:
    """{mutant name: (points per test cell, cases by name, result)}; mutants: {name: (grade_id, old, new)}."""
    paths = [_variant(notebook, gid, old, new, tmp_path / f"m{k}.ipynb")
             for k, (gid, old, new) in enumerate(mutants.values())]
    return dict(zip(mutants, _grade(paths)))


def _lost(points: dict, full: dict, grade_id: str) -> None:
    assert points[grade_id] < full[grade_id], (grade_id, points[grade_id])


def _loses_only(points: dict, full: dict, lost: str, unchecked=()) -> None:
    """The test cell ``lost`` loses points; every other cell but ``unchecked`` keeps full marks."""
    _lost(points, full, lost)
    _full(points, full, [gid for gid in full if gid != lost and gid not in unchecked])


def test_ex09_step_convention_booleans_no_value_error_and_overflow(tmp_path):
    full = _max_points(EX09)
    mutants = {
        "step(0) = 0": ("sigma", 'return np.where(z >= 0, 1.0, 0.0)', 'return np.where(z > 0, 1.0, 0.0)'),
        "step as booleans": ("sigma", 'return np.where(z >= 0, 1.0, 0.0)', 'return z >= 0'),
        "step as integers": ("sigma", 'return np.where(z >= 0, 1.0, 0.0)', 'return np.where(z >= 0, 1, 0)'),
        "no ValueError": ("sigma", 'raise ValueError(f"unknown activation name {name!r}; use one of: '
                                   '{\', \'.join(ACTIVATIONS)}")', 'return z'),
        "ValueError without the names": ("sigma", 'raise ValueError(f"unknown activation name {name!r}; use one of: '
                                                  '{\', \'.join(ACTIVATIONS)}")',
                                         'raise ValueError("unknown activation")'),
        "naive softplus": ("sigma", "return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))",
                           "return np.log(1.0 + np.exp(z))"),
    }
    results = _grade_mutants(EX09, mutants, tmp_path)
    for points, _, _ in results.values():
        _loses_only(points, full, "test_sigma_rules", unchecked=["test_sigma"])
    # a wrong value at z = 0 also fails the random matrix of the values test (it holds a 0)
    _lost(results["step(0) = 0"][0], full, "test_sigma")
    for name in ("step as booleans", "step as integers", "no ValueError", "naive softplus"):
        _full(results[name][0], full, ["test_sigma"])
    assert not results["step(0) = 0"][1]["step of [-2, -0.5, 0, 0.5, 3] (step(0) = 1)"].passed
    for name in ("step as booleans", "step as integers"):
        assert not results[name][1]["step of integers gives float64 numbers of the same shape"].passed, name
        assert results[name][1]["step of [-2, -0.5, 0, 0.5, 3] (step(0) = 1)"].passed, name
    for name in ("no ValueError", "ValueError without the names"):
        assert not results[name][1]["an unknown name raises ValueError naming it and listing the allowed names"].passed
    assert not results["naive softplus"][1]["softplus at z = -1000 and 1000 is finite: (0, 1000)"].passed


def test_ex09_derivative_conventions_and_overflow(tmp_path):
    full = _max_points(EX09)
    mutants = {
        "relu'(0) = 1": ("dsigma", 'if name == "relu":\n        return np.where(z > 0, 1.0, 0.0)',
                         'if name == "relu":\n        return np.where(z >= 0, 1.0, 0.0)'),
        "leaky_relu'(0) = 1": ("dsigma", "return np.where(z > 0, 1.0, a)\n", "return np.where(z >= 0, 1.0, a)\n"),
        "sigmoid' as a quotient": ("dsigma", 's = sigma(z, "sigmoid")\n        return s * (1.0 - s)',
                                   "return np.exp(-z) / (1.0 + np.exp(-z)) ** 2"),
        "elu' ignores alpha": ("dsigma", "return np.where(z > 0, 1.0, a * np.exp(np.minimum(z, 0.0)))",
                               "return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))"),
    }
    results = _grade_mutants(EX09, mutants, tmp_path)
    for points, _, _ in results.values():
        _loses_only(points, full, "test_dsigma_rules", unchecked=["test_dsigma"])
    _lost(results["elu' ignores alpha"][0], full, "test_dsigma")
    assert not results["relu'(0) = 1"][1]["relu'(0) = 0"].passed
    assert not results["leaky_relu'(0) = 1"][1]["leaky_relu'(0) = alpha"].passed
    assert not results["sigmoid' as a quotient"][1]["sigmoid' is finite at z = -1000 and z = 1000"].passed
    assert not results["elu' ignores alpha"][1]["elu' (alpha = 1.5) agrees with central differences"].passed


def test_ex09_softmax_overflow_jvp_across_the_batch_and_one_hot(tmp_path):
    full = _max_points(EX09)
    mutants = {
        "softmax without the shift": ("softmax", "e = np.exp(z - np.max(z, axis=-1, keepdims=True))", "e = np.exp(z)"),
        "J v summed over the whole batch": ("softmax", "return s * (v - np.sum(s * v, axis=-1, keepdims=True))",
                                            "return s * (v - np.sum(s * v))"),
        "J^T v with the wrong sign": ("softmax", "return s * (v - np.sum(s * v, axis=-1, keepdims=True))",
                                      "return s * (np.sum(s * v, axis=-1, keepdims=True) - v)"),
        "0/1 columns are always multiclass": ("output_layer", "if np.all(Y.sum(axis=1) == 1):", "if True:"),
        "one column means regression": ("output_layer", 'if Y.shape[1] == 1:\n        return "sigmoid"',
                                        'if Y.shape[1] == 1:\n        return "identity", "mse"\n    if False:\n'
                                        '        return "sigmoid"'),
    }
    results = _grade_mutants(EX09, mutants, tmp_path)
    p, c, _ = results["softmax without the shift"]
    _lost(p, full, "test_softmax")
    assert not c["the same logits plus 1000: the same probabilities"].passed
    for name in ("J v summed over the whole batch", "J^T v with the wrong sign"):
        p, c, _ = results[name]
        _loses_only(p, full, "test_softmax_jvp")
    assert not results["J v summed over the whole batch"][1]["a batch of two samples, each with its own v"].passed
    assert results["J v summed over the whole batch"][1]["the slides' logits, one direction v"].passed
    for name in ("0/1 columns are always multiclass", "one column means regression"):
        p, c, _ = results[name]
        _loses_only(p, full, "test_output_layer")


RECURSIVE_ORDER = '''        order, visited = [], set()

        def visit(node):
            if id(node) not in visited:
                visited.add(id(node))
                for parent in node.parents:
                    visit(parent)
                order.append(node)

        visit(self)
'''

BREADTH_FIRST = '''        from collections import deque
        self.grad = 1.0
        queue, seen = deque([self]), {id(self)}
        while queue:
            node = queue.popleft()
            for parent, local in zip(node.parents, node.local_derivatives):
                parent.grad += node.grad * local
                if id(parent) not in seen:
                    seen.add(id(parent))
                    queue.append(parent)
'''

SOLUTION_ORDER = '''        order, visited = [], set()
        stack = [(self, False)]                      # (node, are its parents already in order?)
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)                   # after all of its parents
            elif id(node) not in visited:
                visited.add(id(node))
                stack.append((node, True))
                for parent in node.parents:
                    if id(parent) not in visited:
                        stack.append((parent, False))
'''

SOLUTION_PASS = '''        self.grad = 1.0
        for node in reversed(order):                 # every node's grad is complete before it is passed on
            for parent, local in zip(node.parents, node.local_derivatives):
                parent.grad += node.grad * local
'''


def test_ex10_recursion_no_accumulation_no_order_relu_and_the_slides_path(tmp_path):
    full = _max_points(EX10)
    mutants = {
        "recursive topological order": ("Value", SOLUTION_ORDER, RECURSIVE_ORDER),
        "gradients overwritten, not added": ("Value", "parent.grad += node.grad * local",
                                             "parent.grad = node.grad * local"),
        "breadth-first pass, no topological order": ("Value", SOLUTION_ORDER + SOLUTION_PASS, BREADTH_FIRST),
        "relu'(0) = 1": ("Value", "positive = self.data > 0", "positive = self.data >= 0"),
        "the slide's one path": ("slides_example", "return [y.data, x1.grad,",
                                 "return [y.data, dz3_dz2 * dz2_dz1 * dz1_dx1,"),
    }
    results = _grade_mutants(EX10, mutants, tmp_path)
    chain = "a chain of 200 001 nodes at the default recursion limit"

    p, c, _ = results["recursive topological order"]
    _full(p, full, ["test_Value", "test_slides_example"])
    _lost(p, full, "test_backward")
    assert not c[chain].passed and "RecursionError" in c[chain].message
    assert c["x used twice by one node: y = x * x at x = 3"].passed

    p, c, _ = results["gradients overwritten, not added"]
    _full(p, full, ["test_Value"])
    _lost(p, full, "test_backward")
    _lost(p, full, "test_slides_example")
    assert not c["x used twice by one node: y = x * x at x = 3"].passed and not c[chain].passed

    p, c, _ = results["breadth-first pass, no topological order"]
    _full(p, full, ["test_Value"])
    _lost(p, full, "test_backward")

    p, c, _ = results["relu'(0) = 1"]
    _full(p, full, ["test_Value", "test_slides_example"])
    _lost(p, full, "test_backward")
    assert not c["an input y does not depend on keeps grad 0; relu'(0) = 0"].passed

    p, c, _ = results["the slide's one path"]
    _full(p, full, ["test_Value", "test_backward"])
    _lost(p, full, "test_slides_example")
    assert not c["x1 = 2, x2 = 3: x1 dy/dx1 + x2 dy/dx2 = 6 y"].passed
