"""Builders of adversarial and ordinary submissions for the grader's tests.

Each builder starts from a real notebook (the ex01 solution or its generated student
version) and changes it the way a student, or a cheating student, would: another body for
an answer cell, an extra cell, a deleted or rewritten test cell, stripped metadata, a
truncated file. ``write(nb, path)`` saves the result as a real .ipynb for the grader.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "solutions" / "ex01_forward_pass.ipynb"
EXERCISE = ROOT / "exercises" / "ex01_forward_pass.ipynb"


def load(path=SOLUTION) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(nb: dict, path) -> Path:
    path = Path(path)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def code_cell(source: str, grade_id: str | None = None) -> dict:
    meta = {}
    if grade_id:
        meta["nbgrader"] = {"schema_version": 3, "grade_id": grade_id, "solution": True, "grade": False,
                            "locked": False}
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [], "source": source}


def with_answers(answers: dict[str, str], base=SOLUTION) -> dict:
    """``base`` with the answer cells named in ``answers`` replaced by the given code."""
    nb = load(base)
    for cell in nb["cells"]:
        if gid(cell) in answers:
            cell["source"] = answers[gid(cell)]
    return nb


def insert_after(nb: dict, after_gid: str, source: str) -> dict:
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb["cells"]):
        if gid(cell) == after_gid:
            nb["cells"].insert(i + 1, code_cell(source))
            return nb
    raise KeyError(after_gid)


def drop_tests(nb: dict) -> dict:
    nb = copy.deepcopy(nb)
    nb["cells"] = [c for c in nb["cells"] if not c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    return nb


def rewrite_tests(nb: dict, source: str) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            cell["source"] = source
    return nb


# ------------------------------------------------------------------ answer bodies
CORRECT = {c_id: None for c_id in ("sigma", "layer", "forward", "half_mse")}

SIGMA_OK = '''
def sigma(z, name):
    z = np.asarray(z, dtype=float)
    table = {"identity": lambda: z, "relu": lambda: np.maximum(z, 0), "sigmoid": lambda: 1 / (1 + np.exp(-z)),
             "tanh": lambda: np.tanh(z), "step": lambda: (z >= 0) * 1.0, "square": lambda: z * z}
    if name not in table:
        raise ValueError(f"unknown activation {name!r}; expected one of {sorted(table)}")
    return table[name]()
'''

FORWARD_NO_BIAS = '''
def forward(x, weights, biases, activation, output_activation=None):
    a = np.asarray(x, dtype=float)
    for l, W in enumerate(weights, start=1):
        act = (output_activation or activation) if l == len(weights) else activation
        a = layer(a, W, None, act)          # forgets the biases
    return a
'''

FORWARD_LOOPS = '''
def forward(x, weights, biases, activation, output_activation=None):
    while True:
        pass
'''

RIGGED = '''
class AlwaysEqual:
    """Claims to equal anything; nbgrader's and otter's == comparisons accept it."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __float__(self): return 0.0
    __hash__ = object.__hash__

class LyingArray(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), dtype=bool)

def {name}(*args, **kwargs):
    return {value}
'''


# ------------------------------------------------------------------ a small exercise with stored objects
def _cell(kind: str, grade_id: str, source: str, *, solution=False, grade=False, points=None) -> dict:
    meta = {"schema_version": 3, "grade_id": grade_id, "solution": solution, "grade": grade,
            "locked": not solution}
    if points is not None:
        meta["points"] = points
    cell = {"cell_type": kind, "id": grade_id.replace("_", "-"), "metadata": {"nbgrader": meta}, "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


SCALER_ANSWER = '''\
class Scaler:
    """Multiplies by k."""

    def __init__(self, k):
        self.k = k

    def apply(self, x):
        """k x, an array."""
        ### BEGIN SOLUTION
        return self.k * np.asarray(x, dtype=float)
        ### END SOLUTION


def apply_twice(scaler, x):
    """scaler.apply(scaler.apply(x))."""
    ### BEGIN SOLUTION
    return scaler.apply(scaler.apply(x))
    ### END SOLUTION
'''

SCALER_HELPERS = '''\
def make_scaler(k):
    """A Scaler (used by the tests): runs even while the exercise is unfinished."""
    return Scaler(k)


def scaled(k, x):
    """make_scaler(k).apply(x): a locked helper that calls the student's method."""
    return make_scaler(k).apply(x)
'''

SCALER_TESTS = '''\
from course.grade import Case, Ref, check

check("apply_twice", [
    Case("a scaler with k = 3", fn="make_scaler", args=(3.0,), store="s3"),
    Case("apply twice to (1, 2)", args=(Ref("s3"), [1.0, 2.0]), expect=[9.0, 18.0]),
])
check("scaled", [Case("k = 2 on (1, -1)", args=(2.0, [1.0, -1.0]), expect=[2.0, -2.0])])
check("apply_twice", [Case("the scaler stored by the first check, on (0.5,)", args=(Ref("s3"),),
                           kwargs={"x": [0.5]}, expect=[4.5])])
### BEGIN HIDDEN TESTS
check("apply_twice", [
    Case("a scaler with k = -2", fn="make_scaler", args=(-2.0,), store="s_neg"),
    Case("apply twice to 1.5 with k = -2", args=(Ref("s_neg"), [1.5]), expect=[6.0]),
    Case("the first scaler again, on (-1,)", args=(Ref("s3"), [-1.0]), expect=[-9.0]),
])
### END HIDDEN TESTS
'''


def scaler_solution() -> dict:
    """An exercise ("ex90") whose tests store objects, pass them with Ref to cases that expect
    numbers, refer to objects stored by an earlier check() call, and call the student's method
    through a locked helper."""
    cells = [
        _cell("markdown", "intro", "# Scaling\n\nWrite `Scaler.apply` and `apply_twice`."),
        _cell("code", "setup", "import numpy as np\nimport course\nfrom course.grade import Case, Ref, check\n"),
        _cell("code", "scaler", SCALER_ANSWER, solution=True),
        _cell("code", "helpers", SCALER_HELPERS),
        _cell("code", "test_scaler", SCALER_TESTS, grade=True, points=6),
    ]
    return {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
            "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                         "language_info": {"name": "python"},
                         "course": {"exercise": "ex90", "title": "Scaling", "version": 1}}}


def scaler_exercise(directory) -> tuple[Path, Path, Path]:
    """(solutions dir, solution notebook, generated student notebook) of the ex90 exercise."""
    from course.grade.generate import student_version

    directory = Path(directory)
    (directory / "solutions").mkdir(parents=True, exist_ok=True)
    (directory / "exercises").mkdir(parents=True, exist_ok=True)
    sol = write(scaler_solution(), directory / "solutions" / "ex90_scaler.ipynb")
    ex = write(student_version(scaler_solution()), directory / "exercises" / "ex90_scaler.ipynb")
    return directory / "solutions", sol, ex
