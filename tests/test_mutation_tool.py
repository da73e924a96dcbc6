"""benchmarks/mutation_test.py makes the mutants it promises, only inside solution regions, each one change."""

from __future__ import annotations

import ast
import importlib.util
import sys

from tests.threshold_margins import ROOT

_spec = importlib.util.spec_from_file_location("mutation_test", ROOT / "benchmarks" / "mutation_test.py")
mutation_test = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("mutation_test", mutation_test)
_spec.loader.exec_module(mutation_test)

CELL = '''def f(x, a, name):
    """A docstring with 1 and 2 that is never mutated."""
    outside = x + 1
    ### BEGIN SOLUTION
    if name not in ("a", "b"):
        raise ValueError(f"unknown {name!r}, 3 options")
    y = np.maximum(x[0], 0.0) - a[1:3].sum()
    for v in reversed(a):
        y += v * 2
    return y if y >= 0 and not name == "b" else -y
    ### END SOLUTION
'''


def _mutants():
    return mutation_test.mutants_of_cell("ex99", "f", CELL)


def test_every_kind_of_mutation_is_made():
    kinds = {m.kind for m in _mutants()}
    assert kinds >= {"comparison", "operator", "constant", "raise deleted", "min/max", "order", "index",
                     "slice bound", "and/or", "not removed", "sign"}


def test_only_solution_lines_change_and_each_mutant_is_one_valid_change():
    original = CELL.splitlines()
    for m in _mutants():
        ast.parse(m.source)
        changed = [i for i, (a, b) in enumerate(zip(original, m.source.splitlines())) if a != b]
        assert len(m.source.splitlines()) == len(original)
        assert len(changed) == 1 and 4 < changed[0] + 1 < 11, m.describe()
        assert ast.dump(ast.parse(m.source)) != ast.dump(ast.parse(CELL))


def test_specific_mutants():
    made = {(m.kind, m.before, m.after) for m in _mutants()}
    assert ("comparison", "y >= 0", "(y > 0)") in made
    assert ("min/max", "np.maximum", "np.minimum") in made
    assert ("index", "0", "(1)") in made
    assert ("slice bound", "3", "(3) + 1") in made
    assert ("order", "reversed(a)", "(a)") in made
    assert not any("docstring" in m.after or m.line in (2, 3) for m in _mutants())
    # nothing inside the f-string (only the deleted raise statement holds it)
    assert all(m.kind == "raise deleted" for m in _mutants() if "options" in m.before)


def test_every_solution_has_mutants():
    for path in sorted((ROOT / "solutions").glob("ex*.ipynb")):
        assert mutation_test.mutants_of(path), path.name
