"""Reading exercise notebooks: cells, nbgrader metadata, solution and hidden-test markers.

Notebooks are read as plain JSON (nbformat 4), which is fast and gives a clear error for a
corrupt file. :class:`Exercise` is an instructor's solution notebook made ready for
grading: its cells, and its test cases collected by running the test cells in the
grader's own process with :func:`course.grade.feedback.recording`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from course.grade.cases import Case

__all__ = ["NotebookError", "read_notebook", "cell_source", "nbgrader_meta", "split_hidden",
           "Exercise", "TestCell", "load_exercises", "BEGIN_SOLUTION", "END_SOLUTION",
           "BEGIN_HIDDEN", "END_HIDDEN"]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


class NotebookError(ValueError):
    """A file that is not a usable notebook, or a notebook that breaks FORMAT.md."""


def read_notebook(path) -> dict:
    """The notebook at ``path`` as a dict, or :class:`NotebookError` saying what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise NotebookError(f"{path}: cannot be read as text ({exc})") from None
    return parse_notebook(text, str(path))


def parse_notebook(text: str, label: str = "notebook") -> dict:
    try:
        nb = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{label} is not a valid notebook: its JSON is broken at line {exc.lineno}, "
                            f"column {exc.colno} ({exc.msg}). Was it saved completely?") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{label} is not a Jupyter notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise NotebookError(f"{label} has nbformat {nb.get('nbformat')!r}; version 4 is needed")
    for i, cell in enumerate(nb["cells"]):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise NotebookError(f"{label}: cell {i} is not a notebook cell")
    return nb


def cell_source(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata", {})
    nbg = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return nbg if isinstance(nbg, dict) else {}


def grading_skipped(cell: dict) -> bool:
    meta = cell.get("metadata", {})
    course = meta.get("course", {}) if isinstance(meta, dict) else {}
    return isinstance(course, dict) and course.get("grading") == "skip"


def exercise_id(nb: dict) -> str | None:
    course = nb.get("metadata", {}).get("course", {})
    ex = course.get("exercise") if isinstance(course, dict) else None
    return ex if isinstance(ex, str) else None


def split_hidden(source: str) -> tuple[str, str]:
    """(public part, hidden part) of a test cell; the hidden lines keep their line numbers."""
    public, hidden, inside = [], [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN_HIDDEN:
            if inside:
                raise NotebookError(f"a test cell has two {BEGIN_HIDDEN!r} without {END_HIDDEN!r}")
            inside = True
            public.append("")
            hidden.append("")
            continue
        if stripped == END_HIDDEN:
            if not inside:
                raise NotebookError(f"a test cell has {END_HIDDEN!r} without {BEGIN_HIDDEN!r}")
            inside = False
            public.append("")
            hidden.append("")
            continue
        (hidden if inside else public).append(line)
        (public if inside else hidden).append("")
    if inside:
        raise NotebookError(f"a test cell has {BEGIN_HIDDEN!r} without {END_HIDDEN!r}")
    return "\n".join(public), "\n".join(hidden)


@dataclass
class TestCell:
    """One graded cell: its id, points and cases, each tagged public or hidden."""

    grade_id: str
    points: float
    cases: list[tuple[str, Case, bool]] = field(default_factory=list)  # (function, case, hidden)

    @property
    def total_weight(self) -> float:
        return sum(c.weight for _, c, _ in self.cases)


@dataclass
class Exercise:
    """An instructor's solution notebook, ready to grade submissions against."""

    id: str
    title: str
    path: Path
    cells: list[dict]
    test_cells: list[TestCell]

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.test_cells)

    @property
    def grade_ids(self) -> set[str]:
        return {nbgrader_meta(c).get("grade_id") for c in self.cells if nbgrader_meta(c).get("grade_id")}

    def cell_by_id(self, grade_id: str) -> dict | None:
        for c in self.cells:
            if nbgrader_meta(c).get("grade_id") == grade_id:
                return c
        return None

    @classmethod
    def from_notebook(cls, path) -> "Exercise":
        path = Path(path)
        nb = read_notebook(path)
        ex = exercise_id(nb)
        if not ex:
            raise NotebookError(f"{path}: the notebook metadata lacks course.exercise (see FORMAT.md)")
        title = str(nb["metadata"]["course"].get("title", ex))
        tests = []
        seen = set()
        for cell in nb["cells"]:
            meta = nbgrader_meta(cell)
            gid = meta.get("grade_id")
            if gid:
                if gid in seen:
                    raise NotebookError(f"{path}: grade_id {gid!r} is used twice")
                seen.add(gid)
            if cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution"):
                if not gid:
                    raise NotebookError(f"{path}: a test cell has no grade_id")
                points = float(meta.get("points", 0))
                if not math.isfinite(points) or points < 0:
                    raise NotebookError(f"{path}: test cell {gid!r} has points {meta.get('points')!r}")
                tests.append(_collect_cases(gid, points, cell_source(cell), path))
        if not tests:
            raise NotebookError(f"{path}: no test cells (nbgrader grade: true) found")
        return cls(ex, title, path, nb["cells"], tests)


def _collect_cases(gid: str, points: float, source: str, path: Path) -> TestCell:
    """Run a test cell's code in a fresh namespace, recording every ``check`` call."""
    import numpy as np

    import course
    from course.grade.feedback import recording

    public, hidden = split_hidden(source)
    test = TestCell(gid, points)
    ns = {"__name__": "__course_grade_tests__", "np": np, "course": course, "math": math}
    for part, is_hidden in ((public, False), (hidden, True)):
        def sink(fn, cases, _hidden=is_hidden):
            test.cases.extend((c.fn or fn, c, _hidden) for c in cases)
        code = compile(_strip_magics(part), f"<{path.name}: {gid}>", "exec")
        with recording(sink):
            try:
                exec(code, ns)
            except Exception as exc:
                raise NotebookError(f"{path}: test cell {gid!r} failed to build its cases: "
                                    f"{type(exc).__name__}: {exc}") from exc
    if not test.cases:
        raise NotebookError(f"{path}: test cell {gid!r} calls check() with no cases")
    if test.total_weight <= 0:
        raise NotebookError(f"{path}: test cell {gid!r} has cases of total weight 0")
    return test


_MAGIC = re.compile(r"^(\s*)[%!]")


def _strip_magics(source: str) -> str:
    """Plain Python from a cell: IPython line magics and shell escapes become ``pass``."""
    lines = source.splitlines()
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].split()[0]
        if magic in ("%%time", "%%capture"):
            lines = lines[1:]
        else:
            return "pass  # cell magic " + magic + " is not run when grading\n"
    out = []
    for line in lines:
        m = _MAGIC.match(line)
        out.append(f"{m.group(1)}pass  # IPython magic skipped" if m else line)
    return "\n".join(out) + "\n"


strip_magics = _strip_magics


def load_exercises(solutions_dir) -> dict[str, Exercise]:
    """Every exercise in ``solutions_dir``, by id (notebooks without course metadata are skipped)."""
    out = {}
    for path in sorted(Path(solutions_dir).glob("*.ipynb")):
        ex = Exercise.from_notebook(path)
        out[ex.id] = ex
    return out
