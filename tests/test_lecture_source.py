"""The lectures print the library's real implementation, not a copy that could drift from it."""

import inspect
import json
from pathlib import Path

import course

ROOT = Path(__file__).resolve().parent.parent


def _printed_by_cell(notebook: str, marker: str) -> str:
    nb = json.loads((ROOT / notebook).read_text())
    cells = [c for c in nb["cells"] if c["cell_type"] == "code" and marker in "".join(c["source"])]
    assert len(cells) == 1, f"{notebook}: expected one code cell containing {marker!r}, found {len(cells)}"
    return "".join("".join(o["text"]) for o in cells[0]["outputs"] if o.get("name") == "stdout")


def test_lecture_7_prints_the_real_backpropagation():
    printed = _printed_by_cell("lectures/07_backpropagation.ipynb", "inspect.getsource")
    real = "".join(inspect.getsource(method) + "\n" for method in (course.MLP.backward, course.MLP.backprop))
    assert printed == real, "lecture 7's stored output is not the library's source: re-execute the notebook"


def test_backprop_is_one_plain_path():
    """No second, buffer-reusing branch and no special case in the code students read."""
    source = inspect.getsource(course.MLP.backprop) + inspect.getsource(course.MLP.forward)
    for sign in ("out=", "buffers", "shape[0] == 1", "_into"):
        assert sign not in source
