"""Reading exercise notebooks: cells, nbgrader metadata, solution and hidden-test markers.

Notebooks are read as plain JSON (nbformat 4), which is fast and gives a clear error for a
corrupt file. :class:`Exercise` is an instructor's solution notebook made ready for
grading: its cells, and its test cases collected by running the test cells in the
grader's own process with :func:`course.grade.feedback.recording`.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

from course.grade.cases import Case, hidden_inputs_from

__all__ = ["NotebookError", "read_notebook", "read_limited", "parse_notebook", "cell_source", "nbgrader_meta",
           "split_hidden", "strip_magics", "build_program", "Exercise", "TestCell", "BEGIN_SOLUTION", "END_SOLUTION",
           "BEGIN_HIDDEN",
           "END_HIDDEN", "MAX_NOTEBOOK_BYTES"]

BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"
BEGIN_HIDDEN = "### BEGIN HIDDEN TESTS"
END_HIDDEN = "### END HIDDEN TESTS"


class NotebookError(ValueError):
    """A file that is not a usable notebook, or a notebook that breaks FORMAT.md."""


#: the largest notebook the grader reads (a real exercise is well under 1 MiB)
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024


def read_limited(path, limit: int = MAX_NOTEBOOK_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ``NotebookError`` otherwise.

    Never blocks and never reads without end: a FIFO, a device such as ``/dev/zero`` or a
    directory is refused before reading (the file is opened non-blocking and checked with
    ``fstat``), and so is a file larger than ``limit``.
    """
    label = os.fsdecode(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise NotebookError(f"{label}: no such file") from None
    except OSError as exc:
        raise NotebookError(f"{label} cannot be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotebookError(f"{label} is not a regular file")
        if info.st_size > limit:
            raise NotebookError(f"{label} is {info.st_size / 2**20:.0f} MiB; at most {limit / 2**20:.0f} MiB is read")
        chunks, total = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise NotebookError(f"{label} grew beyond {limit / 2**20:.0f} MiB while being read")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise NotebookError(f"{label} cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)


def read_notebook(path) -> dict:
    """The notebook at ``path`` as a dict, or :class:`NotebookError` saying what is wrong."""
    data = read_limited(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(f"{os.fsdecode(path)} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return parse_notebook(text, os.fsdecode(path))


def _number(text: str):
    """JSON integers as Python ints, except absurdly long ones (which become inf, not a crash)."""
    return int(text) if len(text) <= 30 else float(text)


def parse_notebook(text: str, label: str = "notebook") -> dict:
    """Parse and check a notebook's structure; :class:`NotebookError` for anything malformed.

    Checked: valid JSON of sensible depth, nbformat 4, a list of cells, each a dict with a
    known ``cell_type``, a string (or list of strings) ``source`` and dict ``metadata``;
    nbgrader metadata, where present, is a dict with a string ``grade_id``.
    """
    try:
        nb = json.loads(text, parse_int=_number)
    except json.JSONDecodeError as exc:
        raise NotebookError(f"{label} is not a valid notebook: its JSON is broken at line {exc.lineno}, "
                            f"column {exc.colno} ({exc.msg}). Was it saved completely?") from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise NotebookError(f"{label} is not a usable notebook ({type(exc).__name__}: {str(exc)[:100]})") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise NotebookError(f"{label} is not a Jupyter notebook (no list of cells)")
    if nb.get("nbformat") != 4:
        raise NotebookError(f"{label} has nbformat {str(nb.get('nbformat'))[:20]!r}; version 4 is needed")
    if not isinstance(nb.get("metadata", {}), dict):
        raise NotebookError(f"{label}: the notebook's metadata must be a JSON object, "
                            f"got {type(nb.get('metadata')).__name__}")
    for i, cell in enumerate(nb["cells"]):
        _check_cell(cell, f"{label}: cell {i}")
    return nb


def _check_cell(cell, where: str) -> None:
    if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
        raise NotebookError(f"{where} is not a notebook cell")
    src = cell.get("source", "")
    if not (isinstance(src, str) or (isinstance(src, list) and all(isinstance(x, str) for x in src))):
        raise NotebookError(f"{where}: source must be text or a list of lines, got {type(src).__name__}")
    meta = cell.get("metadata", {})
    if not isinstance(meta, dict):
        raise NotebookError(f"{where}: metadata must be a JSON object, got {type(meta).__name__}")
    nbg = meta.get("nbgrader", {})
    if not isinstance(nbg, dict):
        raise NotebookError(f"{where}: nbgrader metadata must be a JSON object, got {type(nbg).__name__}")
    gid = nbg.get("grade_id")
    if gid is not None and not (isinstance(gid, str) and re.fullmatch(r"[A-Za-z0-9_-]{1,100}", gid)):
        raise NotebookError(f"{where}: grade_id must be letters, digits, _ and -, got {str(gid)[:40]!r}")


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
    meta = nb.get("metadata", {})
    course = meta.get("course", {}) if isinstance(meta, dict) else {}
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
    forbidden: tuple[str, ...] = ()  # course modules the kernel may not use (FORMAT.md, section 2)

    @property
    def max_points(self) -> float:
        return sum(t.points for t in self.test_cells)

    @classmethod
    def from_notebook(cls, path, run_seed: int | None = None) -> "Exercise":
        """Read a solution notebook and collect its cases (hidden inputs drawn from ``run_seed``,
        see :func:`course.grade.cases.hidden_rng`)."""
        path = Path(path)
        nb = read_notebook(path)
        ex = exercise_id(nb)
        if not ex:
            raise NotebookError(f"{path}: the notebook metadata lacks course.exercise (see FORMAT.md)")
        title = str(nb["metadata"]["course"].get("title", ex))
        forbidden = nb["metadata"]["course"].get("forbidden", [])
        if not (isinstance(forbidden, list) and all(isinstance(m, str) and m.startswith("course.")
                                                    and not m.startswith("course.grade") for m in forbidden)):
            raise NotebookError(f"{path}: metadata course.forbidden must be a list of course.<module> names "
                                f"(not course.grade), got {forbidden!r}")
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
                tests.append(_collect_cases(gid, points, cell_source(cell), path, run_seed))
        if not tests:
            raise NotebookError(f"{path}: no test cells (nbgrader grade: true) found")
        return cls(ex, title, path, nb["cells"], tests, tuple(forbidden))


def _collect_cases(gid: str, points: float, source: str, path: Path, run_seed: int | None = None) -> TestCell:
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
        code = compile(strip_magics(part), f"<{path.name}: {gid}>", "exec")
        with recording(sink), hidden_inputs_from(run_seed if is_hidden else None):
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


def strip_magics(source: str) -> str:
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


def build_program(nb: dict, exercise: Exercise) -> list[tuple[str, str, bool]]:
    """[(label, source, locked)]: the cells to run, in notebook order (see FORMAT.md, section 6).

    ``locked`` is True for the instructor's cells: what they define is restored before every
    call, so that an answer cell cannot replace a locked helper that a test calls.
    """
    instr = [c for c in exercise.cells if c["cell_type"] == "code"]
    order = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(instr) if nbgrader_meta(c).get("grade_id")}
    emitted: set[int] = set()
    program: list[tuple[str, str, bool]] = []

    def instructor_cell(i):
        cell = instr[i]
        meta = nbgrader_meta(cell)
        emitted.add(i)
        if meta.get("solution") or meta.get("grade") or grading_skipped(cell):
            return
        program.append((f"cell {meta.get('grade_id', i)}", cell_source(cell), True))

    def restore_before(i):
        for j in range(i):
            if j not in emitted and not nbgrader_meta(instr[j]).get("solution"):
                instructor_cell(j)

    for k, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        gid = nbgrader_meta(cell).get("grade_id")
        if gid in order:
            i = order[gid]
            restore_before(i)
            meta = nbgrader_meta(instr[i])
            if meta.get("solution"):
                program.append((f"cell {gid}", cell_source(cell), False))
                emitted.add(i)
            elif i not in emitted:
                instructor_cell(i)
        else:
            program.append((f"cell {k}", cell_source(cell), False))
    restore_before(len(instr))
    return [(label, strip_magics(src), locked) for label, src, locked in program]
