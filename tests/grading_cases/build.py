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
    return {"identity": lambda: z, "relu": lambda: np.maximum(z, 0), "sigmoid": lambda: 1 / (1 + np.exp(-z)),
            "tanh": lambda: np.tanh(z), "step": lambda: (z > 0) * 1.0, "square": lambda: z * z}[name]()
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
