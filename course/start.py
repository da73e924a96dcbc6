"""Start an exercise: copy its student notebook to work/, where your answers live.

    python -m course.start ex01        # or: 1, ex01_forward_pass, exercises/ex01_forward_pass.ipynb
    python -m course.start             # list the exercises and the copies you have
    make start EX=ex01                 # the same through make

The copy is ``work/<name>.ipynb``. work/ is yours: git ignores it, ``make exercises`` and the generator never
touch it, and no test reads it. An existing copy is never overwritten; to start an exercise over, rename or
delete your copy and run the command again. Grade a copy like any submission:
``python -m course.grade work/ex01_forward_pass.ipynb``.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

__all__ = ["exercises", "resolve", "start", "main"]

REPO = Path(__file__).resolve().parents[1]


def exercises(exercises_dir: Path | None = None) -> list[Path]:
    """The student notebooks, ex01_... first."""
    return sorted(Path(exercises_dir or REPO / "exercises").glob("ex*.ipynb"))


def resolve(name: str, exercises_dir: Path | None = None) -> Path | None:
    """The notebook that ``name`` means: ``ex01``, ``1``, ``ex01_forward_pass`` or a file name; None if none."""
    key = Path(str(name).strip()).name
    key = key[:-len(".ipynb")] if key.endswith(".ipynb") else key
    if re.fullmatch(r"\d+", key):
        key = f"ex{int(key):02d}"
    if not key:
        return None
    for path in exercises(exercises_dir):
        if path.stem == key or path.stem.split("_")[0] == key.lower():
            return path
    return None


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def start(name: str, exercises_dir: Path | None = None, work_dir: Path | None = None) -> tuple[Path, bool]:
    """Copy the exercise to work_dir unless a copy is there: (the copy's path, whether it was created now)."""
    source = resolve(name, exercises_dir)
    if source is None:
        raise LookupError(name)
    work = Path(work_dir or REPO / "work")
    work.mkdir(parents=True, exist_ok=True)
    target = work / source.name
    try:
        with open(target, "xb") as f:  # "x": never replaces an existing file, not even one made a moment ago
            f.write(source.read_bytes())
    except FileExistsError:
        return target, False
    return target, True


def _listing(exercises_dir, work_dir) -> str:
    work = Path(work_dir or REPO / "work")
    lines = ["The exercises (start one with: python -m course.start ex01, or make start EX=ex01):"]
    for path in exercises(exercises_dir):
        mine = work / path.name
        lines.append(f"  {path.stem.split('_')[0]}  {path.stem:<28} "
                     f"{'your copy: ' + _shown(mine) if mine.exists() else 'not started'}")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m course.start", description=__doc__.split("\n\n")[0])
    p.add_argument("exercise", nargs="?", help="ex01, 1, ex01_forward_pass or exercises/ex01_forward_pass.ipynb")
    p.add_argument("--exercises-dir", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--work-dir", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if not args.exercise:
        print(_listing(args.exercises_dir, args.work_dir))
        return 0
    try:
        target, created = start(args.exercise, args.exercises_dir, args.work_dir)
    except LookupError:
        print(f"error: no exercise called {args.exercise!r}.\n" + _listing(args.exercises_dir, args.work_dir),
              file=sys.stderr)
        return 2
    shown = _shown(target)
    if created:
        print(f"Your copy of {target.stem}: {shown}\n"
              f"  ({target.resolve()})\n"
              f"Open it in JupyterLab (folder work/ in the file browser), write your code where it says\n"
              f"# YOUR CODE HERE and run the test cell below each task. Your work stays in this file:\n"
              f"make exercises, updates of the course and the tests never touch work/.")
    else:
        print(f"You already have {shown}: it was left as it is, with your work in it.\n"
              f"  ({target.resolve()})\n"
              f"To start this exercise over, rename or delete that file (e.g. mv {shown} {shown[:-6]}.old.ipynb)\n"
              f"and run this command again.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
