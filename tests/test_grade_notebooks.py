"""Every exercise in solutions/: generated correctly, nothing leaked, graded right.

These tests iterate over whatever solutions/*.ipynb exist, so a new exercise written in
course/grade/FORMAT.md's format is covered without changes here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course.grade.generate import generate, stub_source
from course.grade.grader import Options, grade_many
from course.grade.notebook import (BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, cell_source,
                                   exercise_id, nbgrader_meta, read_notebook)
from tests.helpers import grading_sandbox

SANDBOX = grading_sandbox()
ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
NAMES = [p.name for p in SOLUTIONS]


def _regions(source: str, begin: str, end: str) -> list[list[str]]:
    out, current = [], None
    for line in source.splitlines():
        if line.strip() == begin:
            current = []
        elif line.strip() == end:
            out.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return out


def test_there_are_solutions():
    assert {"ex01_forward_pass.ipynb", "ex02_network_derivatives.ipynb", "ex06_perceptron.ipynb",
            "ex07_regularization.ipynb"} <= set(NAMES)


def test_exercises_are_up_to_date():
    stale = generate(check=True)
    assert not stale, f"run python -m course.grade.generate: {[p.name for p in stale]} out of date"


@pytest.mark.parametrize("name", NAMES)
def test_solution_follows_the_format(name):
    nb = read_notebook(ROOT / "solutions" / name)
    assert exercise_id(nb) == name.split("_")[0]
    ids = [nbgrader_meta(c).get("grade_id") for c in nb["cells"]]
    assert None not in ids and len(ids) == len(set(ids))
    for c in nb["cells"]:
        meta = nbgrader_meta(c)
        assert meta.get("schema_version") == 3
        if meta.get("grade"):
            assert meta.get("points", 0) > 0 and meta.get("locked")
        if meta.get("solution"):
            assert BEGIN_SOLUTION in cell_source(c) and not meta.get("locked")
    assert not [o for c in nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]
                if o.get("output_type") == "error"], "the committed solution has error outputs"


@pytest.mark.parametrize("name", NAMES)
def test_exercise_holds_no_solution_or_hidden_test_text(name):
    sol = read_notebook(ROOT / "solutions" / name)
    ex = read_notebook(ROOT / "exercises" / name)
    text = json.dumps(ex)
    for marker in (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN):
        assert marker not in text
    ex_cells = {nbgrader_meta(c)["grade_id"]: cell_source(c) for c in ex["cells"]}
    assert list(ex_cells) == [nbgrader_meta(c)["grade_id"] for c in sol["cells"]]
    for cell in sol["cells"]:
        src, gid = cell_source(cell), nbgrader_meta(cell)["grade_id"]
        kept = set(stub_source(src).splitlines()) if cell["cell_type"] == "code" else set()
        regions = _regions(src, BEGIN_SOLUTION, END_SOLUTION) + _regions(src, BEGIN_HIDDEN, END_HIDDEN)
        secret = [line for region in regions
                  for line in region if line.strip() and line not in kept]
        leaked = [line for line in secret if line in ex_cells[gid].splitlines()]
        assert not leaked, f"{gid}: {leaked[:3]}"
        if cell["cell_type"] == "code":
            assert all(not c.get("outputs") for c in ex["cells"] if c["cell_type"] == "code")


@pytest.mark.slow
def test_every_solution_earns_full_marks_and_every_exercise_zero():
    subs = SOLUTIONS + [ROOT / "exercises" / n for n in NAMES]
    results = grade_many(subs, Options(sandbox=SANDBOX, timeout=120, total_timeout=600, jobs=2))
    for r in results:
        assert r.status == "graded", (r.submission, r.error)
        failed = [(c.function, c.name, c.message) for t in r.tests for c in t.cases if not c.passed]
        if "/solutions/" in r.submission:
            assert r.points == r.max_points > 0, (r.submission, failed[:3], r.cells)
        else:
            assert r.points == 0, r.submission
            assert all(c.message for t in r.tests for c in t.cases if not c.passed)


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_exercise_runs_top_to_bottom_and_reports_not_implemented(name, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    nb = nbformat.read(ROOT / "exercises" / name, as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "exercises")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "not implemented yet" in text


@pytest.mark.slow
def test_check_in_a_real_kernel_keeps_stored_objects_and_names_the_raising_method(tmp_path):
    """ex90 (tests/grading_cases/build.py) run in Jupyter: a Ref to an object stored by an earlier
    check() call works, set-up calls are shown as "set up", and the unfinished method is named."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    from tests.grading_cases import build as B

    _, sol, ex = B.scaler_exercise(tmp_path)
    texts = {}
    for path in (sol, ex):
        nb = nbformat.read(path, as_version=4)
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        assert not [o for o in outputs if o.output_type == "error"], path.name
        texts[path.parent.name] = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    solution, exercise = texts["solutions"].splitlines(), texts["exercises"].splitlines()
    assert solution[:3] == ["apply_twice: the test passed", "  set up   a scaler with k = 3",
                            "  passed   apply twice to (1, 2)"]
    assert "  passed   the scaler stored by the first check, on (0.5,)" in solution
    assert [line for line in solution if not line.startswith(" ")] == [  # every check, hidden ones too
        "apply_twice: the test passed", "scaled: the test passed", "apply_twice: the test passed",
        "apply_twice: all 2 tests passed"]
    assert "  set up   a scaler with k = 3" in exercise and "passed" not in texts["exercises"].replace(" 0 of", "")
    assert ("           not implemented yet: Scaler.apply still raises NotImplementedError "
            "(replace it with your code)") in exercise


@pytest.mark.slow
@pytest.mark.parametrize("seed", [11, 22, 33])
def test_solutions_earn_full_marks_whatever_hidden_inputs_a_run_draws(seed):
    """Hidden inputs are drawn afresh per grading run (hidden_rng): the reference solutions must
    pass every draw, not just the notebook's own seeds."""
    results = grade_many(SOLUTIONS, Options(sandbox=SANDBOX, timeout=120, total_timeout=600, jobs=2,
                                            hidden_seed=seed))
    for r in results:
        failed = [(c.function, c.name, c.message) for t in r.tests for c in t.cases if not c.passed]
        assert r.points == r.max_points > 0, (r.submission, seed, failed[:3])


def test_hidden_inputs_change_from_run_to_run_and_public_ones_do_not():
    from course.grade.notebook import Exercise

    path = ROOT / "solutions" / "ex01_forward_pass.ipynb"
    runs = [Exercise.from_notebook(path, run_seed) for run_seed in (None, None, 1, 2)]

    def inputs(ex, hidden):
        return [json.dumps(case.args, default=lambda a: a.tolist()) for t in ex.test_cells
                for _, case, h in t.cases if h == hidden]

    assert inputs(runs[0], True) == inputs(runs[1], True)  # the notebook's own seeds: reproducible
    assert inputs(runs[2], True) != inputs(runs[0], True) != inputs(runs[3], True)
    assert inputs(runs[0], False) == inputs(runs[2], False) == inputs(runs[3], False)


@pytest.mark.parametrize("path", SOLUTIONS, ids=NAMES)
def test_forbidden_modules_are_declared_alike_in_metadata_and_set_up_cell(path):
    """metadata.course.forbidden (what the grader enforces) and the set-up cell's forbid(...)
    (what check() in the notebook watches) name the same modules."""
    import ast

    nb = read_notebook(path)
    meta = nb["metadata"]["course"].get("forbidden", [])
    calls = []
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and not nbgrader_meta(cell).get("grade"):
            for node in ast.walk(ast.parse(cell_source(cell))):
                if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "forbid":
                    calls.append(([a.value for a in node.args],
                                  {k.arg: k.value.value for k in node.keywords}))
    if not meta:
        assert not calls
        return
    assert calls == [(meta, {"exercise": exercise_id(nb)})]
