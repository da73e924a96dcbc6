"""A student's work is never lost: python -m course.start copies an exercise to work/, and nothing else touches it.

The workflow test runs on a copy of the repository in a temporary folder (the real work/ is never read): start
ex01, fill the copy in as a student would (here: with the solution's code), start it again, regenerate the
exercises, run the exercise tests, grade the copy. The copy must come through unchanged, the tests green and the
grade full marks.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import course.start as st
from course.grade.notebook import BEGIN_SOLUTION, END_SOLUTION, nbgrader_meta

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------------------- the command's pieces
@pytest.mark.parametrize("name", ["ex01", "EX01", "1", "01", "ex01_forward_pass", "ex01_forward_pass.ipynb",
                                  "exercises/ex01_forward_pass.ipynb", " ex01 "])
def test_an_exercise_can_be_named_in_many_ways(name):
    assert st.resolve(name) == ROOT / "exercises" / "ex01_forward_pass.ipynb"


@pytest.mark.parametrize("name", ["ex99", "99", "forward", "", "ex0"])
def test_unknown_names_resolve_to_nothing(name):
    assert st.resolve(name) is None


def test_start_copies_once_and_never_overwrites(tmp_path):
    target, created = st.start("ex02", work_dir=tmp_path / "work")
    assert created and target == tmp_path / "work" / "ex02_network_derivatives.ipynb"
    assert target.read_bytes() == (ROOT / "exercises" / target.name).read_bytes()
    target.write_text("my work")
    again, created = st.start("2", work_dir=tmp_path / "work")
    assert again == target and not created and target.read_text() == "my work"


def test_unknown_exercise_is_an_error_that_lists_the_exercises(tmp_path, capsys):
    assert st.main(["ex42", "--work-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no exercise called 'ex42'" in err and "ex01_forward_pass" in err and "ex08_nn_potential" in err


def test_no_argument_lists_the_exercises_and_the_copies(tmp_path, capsys):
    st.start("ex03", work_dir=tmp_path)
    assert st.main(["--work-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ex01_forward_pass" in out and "not started" in out
    assert "your copy: " in out and "ex03_numpy_network.ipynb" in out


def test_work_is_ignored_by_git_and_outside_every_test_path():
    assert "/work/" in (ROOT / ".gitignore").read_text().splitlines()
    mk = (ROOT / "Makefile").read_text()
    assert "work" not in mk.split("PYTEST_ARGS :=")[1].splitlines()[0]
    assert "start: $(STAMP)" in mk and "-m course.start $(EX)" in mk


# ---------------------------------------------------------------------------------------------- the workflow
def _run(args, cwd, check=True):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", MPLBACKEND="Agg")
    env.pop("PYTHONPATH", None)
    out = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert out.returncode == 0, (args, out.stdout[-2000:], out.stderr[-2000:])
    return out


def _fill_in_from_the_solution(copy: Path, solution: Path) -> None:
    """What a student does: replace every answer cell's stub with working code (here, the solution's)."""
    answers = {nbgrader_meta(c)["grade_id"]: c for c in json.loads(solution.read_text())["cells"]
               if nbgrader_meta(c).get("solution")}
    nb = json.loads(copy.read_text())
    for cell in nb["cells"]:
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in answers:
            lines = "".join(answers[gid]["source"]).split("\n")
            cell["source"] = "\n".join(l for l in lines if l.strip() not in (BEGIN_SOLUTION, END_SOLUTION))
    copy.write_text(json.dumps(nb, indent=1))


@pytest.mark.slow
def test_student_workflow_on_a_fresh_copy_of_the_repository(tmp_path):
    repo = tmp_path / "repo"
    skip = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.pyc")
    for folder in ("course", "solutions", "exercises", "tests"):
        shutil.copytree(ROOT / folder, repo / folder, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", repo)
    assert _run(["-c", "import course.start; print(course.start.__file__)"], repo).stdout.strip() == \
        str(repo / "course" / "start.py"), "the copy's course package must be the one that runs"

    # 1. start ex01: a copy in work/, its path printed
    out = _run(["-m", "course.start", "ex01"], repo).stdout
    copy = repo / "work" / "ex01_forward_pass.ipynb"
    assert copy.is_file() and "work/ex01_forward_pass.ipynb" in out and str(copy) in out
    assert copy.read_bytes() == (repo / "exercises" / copy.name).read_bytes()

    # 2. the student fills it in
    _fill_in_from_the_solution(copy, repo / "solutions" / copy.name)
    mine = copy.read_bytes()

    # 3. starting again keeps the work and says how to start over
    out = _run(["-m", "course.start", "1"], repo).stdout
    assert "You already have work/ex01_forward_pass.ipynb" in out and "left as it is" in out
    assert "rename or delete" in out
    assert copy.read_bytes() == mine

    # 4. the exercises are regenerated (one of them stale, so that the generator writes)
    (repo / "exercises" / "ex01_forward_pass.ipynb").unlink()
    assert "wrote" in _run(["-m", "course.grade.generate"], repo).stdout
    _run(["-m", "course.grade.generate", "--check"], repo)
    assert copy.read_bytes() == mine

    # 5. the exercise tests stay green
    out = _run(["-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-n", "0",
                "tests/test_grade_notebooks.py", "-k", "up_to_date or follows_the_format or holds_no_solution"],
               repo, check=False)
    assert out.returncode == 0 and " passed" in out.stdout and "failed" not in out.stdout, out.stdout[-3000:]
    assert copy.read_bytes() == mine

    # 6. the copy is graded like any submission: full marks
    grades = tmp_path / "grades.csv"
    _run(["-m", "course.grade", "work/ex01_forward_pass.ipynb", "--csv", str(grades), "--timeout", "60"], repo)
    rows = list(csv.DictReader(grades.open()))
    assert len(rows) == 1, rows
    row = rows[0]
    assert float(row["points"]) == float(row["max_points"]) > 0, row
    assert copy.read_bytes() == mine
