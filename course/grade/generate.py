"""Generate the student notebooks in exercises/ from the instructor's notebooks in solutions/.

    python -m course.grade.generate            # write exercises/*.ipynb
    python -m course.grade.generate --check    # exit 1 if exercises/ is out of date

For every solution notebook: each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region
becomes ``# YOUR CODE HERE`` / ``raise NotImplementedError()`` at the region's indentation
(as nbgrader writes it), each ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS``
region is removed, and outputs and execution counts are cleared. Cell metadata (nbgrader's,
schema 3) and the notebook's ``course`` metadata are kept, so the result is recognised by
the grader and usable by nbgrader.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path

from course.grade.notebook import (BEGIN_HIDDEN, BEGIN_SOLUTION, END_HIDDEN, END_SOLUTION, NotebookError,
                                   cell_source, exercise_id, nbgrader_meta, read_notebook)

__all__ = ["student_version", "stub_source", "generate", "main"]

REPO = Path(__file__).resolve().parents[2]


def stub_source(source: str, where: str = "cell") -> str:
    """The source with every solution region replaced by the stub and hidden tests removed."""
    out, mode, indent = [], None, ""
    for n, line in enumerate(source.split("\n"), start=1):
        stripped = line.strip()
        if stripped == BEGIN_SOLUTION:
            if mode:
                raise NotebookError(f"{where}, line {n}: {BEGIN_SOLUTION!r} inside another region")
            indent = line[: len(line) - len(line.lstrip())]
            if not indent:
                raise NotebookError(f"{where}, line {n}: a solution region must be inside a function body "
                                    f"(indented), so that the student version still runs; see FORMAT.md")
            mode = "solution"
            out.append(f"{indent}# YOUR CODE HERE")
            out.append(f"{indent}raise NotImplementedError()")
            continue
        if stripped == END_SOLUTION:
            if mode != "solution":
                raise NotebookError(f"{where}, line {n}: {END_SOLUTION!r} without {BEGIN_SOLUTION!r}")
            mode = None
            continue
        if stripped == BEGIN_HIDDEN:
            if mode:
                raise NotebookError(f"{where}, line {n}: {BEGIN_HIDDEN!r} inside another region")
            mode = "hidden"
            continue
        if stripped == END_HIDDEN:
            if mode != "hidden":
                raise NotebookError(f"{where}, line {n}: {END_HIDDEN!r} without {BEGIN_HIDDEN!r}")
            mode = None
            continue
        if mode is None:
            out.append(line)
    if mode:
        raise NotebookError(f"{where}: a {mode} region is not closed")
    text = "\n".join(out)
    while "\n\n\n\n" in text:
        text = text.replace("\n\n\n\n", "\n\n\n")
    return text.rstrip("\n") if not source.endswith("\n") else text


def _as_lines(text: str) -> list[str]:
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + ([lines[-1]] if lines[-1] else [])


def student_version(nb: dict, name: str = "notebook") -> dict:
    """The student notebook for the solution notebook ``nb`` (a new dict)."""
    if not exercise_id(nb):
        raise NotebookError(f"{name}: the notebook metadata lacks course.exercise (see FORMAT.md)")
    out = copy.deepcopy(nb)
    for i, cell in enumerate(out["cells"]):
        gid = nbgrader_meta(cell).get("grade_id", f"cell {i}")
        src = cell_source(cell)
        new = stub_source(src, f"{name}, {gid}") if cell["cell_type"] == "code" else src
        if cell["cell_type"] != "code" and (BEGIN_SOLUTION in src or BEGIN_HIDDEN in src):
            raise NotebookError(f"{name}, {gid}: solution and hidden-test markers belong in code cells")
        cell["source"] = _as_lines(new)
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)
    out["metadata"].pop("widgets", None)
    return out


def dumps(nb: dict) -> str:
    """JSON exactly as nbformat writes it (indent 1, sorted keys, trailing newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def generate(solutions_dir=None, exercises_dir=None, check: bool = False) -> list[Path]:
    """Write (or, with ``check``, compare) every student notebook; returns the stale or written paths."""
    solutions_dir = Path(solutions_dir or REPO / "solutions")
    exercises_dir = Path(exercises_dir or REPO / "exercises")
    changed = []
    for path in sorted(solutions_dir.glob("*.ipynb")):
        text = dumps(student_version(read_notebook(path), path.name))
        target = exercises_dir / path.name
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current != text:
            changed.append(target)
            if not check:
                exercises_dir.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
    if check:
        known = {p.name for p in solutions_dir.glob("*.ipynb")}
        changed += [p for p in sorted(exercises_dir.glob("*.ipynb")) if p.name not in known]
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.grade.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--solutions", type=Path, default=None, help="instructor notebooks (default: solutions/)")
    parser.add_argument("--exercises", type=Path, default=None, help="student notebooks (default: exercises/)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if exercises/ is out of date")
    args = parser.parse_args(argv)
    try:
        changed = generate(args.solutions, args.exercises, check=args.check)
    except NotebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        for p in changed:
            print(f"out of date: {p} (run python -m course.grade.generate)")
        return 1 if changed else 0
    for p in changed:
        print(f"wrote {p}")
    if not changed:
        print("exercises/ is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
