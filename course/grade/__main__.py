"""Grade submitted notebooks: ``python -m course.grade SUB.ipynb ... --csv grades.csv``.

Each submission is copied into a fresh scratch directory and run in a fresh kernel; the
instructor's public and hidden tests (from solutions/) are applied from outside the
kernel. Exit status: 0 when every submission was graded, 2 when some could not be (a
corrupt file, an unknown exercise), 1 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course.grade.grader import Options, default_solutions_dir, grade_many
from course.grade.notebook import NotebookError
from course.grade.report import summary_line, write_csv, write_feedback, write_json


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m course.grade", description=__doc__.split("\n\n")[1])
    p.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files (or directories of them)")
    p.add_argument("--csv", type=Path, help="write one row per submission here")
    p.add_argument("--json", type=Path, help="write the per-test results with messages here")
    p.add_argument("--feedback-dir", type=Path,
                   help="where the feedback files go (default: feedback/ next to the CSV or JSON, "
                        "else grading-output/feedback)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per cell and per test call (default 30)")
    p.add_argument("--total-timeout", type=float, default=None,
                   help="seconds per submission in all (default: max(60, 5 x timeout))")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time (default 1)")
    p.add_argument("--memory-mb", type=int, default=4096, help="memory limit of a kernel in MiB (0: none)")
    p.add_argument("--exercise", help="grade every submission as this exercise id (e.g. ex01); "
                                      "other exercises' notebooks score zero")
    p.add_argument("--solutions", type=Path, default=None, help="the instructor notebooks (default: solutions/)")
    p.add_argument("--sandbox", choices=["auto", "off"], default="auto",
                   help="isolate kernels with Linux namespaces where possible (default auto)")
    p.add_argument("--reveal-hidden", action="store_true",
                   help="show expected values of hidden tests in the feedback files")
    p.add_argument("--quiet", action="store_true", help="no line per submission")
    args = p.parse_args(argv)
    if args.timeout <= 0 or args.jobs < 1 or args.memory_mb < 0:
        p.error("--timeout must be > 0, --jobs >= 1 and --memory-mb >= 0")
    return args


def expand(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        out += sorted(p.glob("**/*.ipynb")) if p.is_dir() else [p]
    return [p for p in out if ".ipynb_checkpoints" not in p.parts]


def main(argv=None) -> int:
    args = parse_args(argv)
    options = Options(timeout=args.timeout, total_timeout=args.total_timeout, memory_mb=args.memory_mb,
                      jobs=args.jobs, exercise=args.exercise, sandbox=args.sandbox)
    subs = expand(args.submissions)
    if not subs:
        print("error: no .ipynb submissions found", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    progress = None if args.quiet else (lambda r: print(summary_line(r), flush=True))
    try:
        results = grade_many(subs, options, args.solutions or default_solutions_dir(), progress=progress)
    except NotebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.csv:
        write_csv(results, args.csv)
    if args.json:
        write_json(results, args.json, options)
    fb = args.feedback_dir or ((args.csv or args.json).parent / "feedback" if (args.csv or args.json)
                               else Path("grading-output") / "feedback")
    write_feedback(results, fb, args.reveal_hidden)
    n_err = sum(r.status != "graded" for r in results)
    if not args.quiet:
        print(f"graded {len(results) - n_err} of {len(results)} submissions in {time.monotonic() - t0:.1f} s; "
              f"feedback in {fb}")
    return 2 if n_err else 0


if __name__ == "__main__":
    sys.exit(main())
