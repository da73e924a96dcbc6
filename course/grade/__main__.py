"""Grade submitted notebooks: ``python -m course.grade SUB.ipynb ... --csv grades.csv``.

Each submission runs in a fresh kernel inside a bubblewrap sandbox; the instructor's
public and hidden tests (from solutions/) are applied and scored from outside it. Exit
status: 0 when every submission was graded, 2 when some could not be (a corrupt file, an
unknown exercise), 1 on a usage error or when the sandbox cannot run here.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from course.grade.grader import Options, default_solutions_dir, display_path, grade_many
from course.grade.notebook import NotebookError
from course.grade.report import summary_line, write_csv, write_feedback, write_json
from course.grade.sandbox import Limits, SandboxUnavailable


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m course.grade", description=__doc__.split("\n\n")[1])
    p.add_argument("submissions", nargs="+", type=Path, help="submitted .ipynb files (or directories of them)")
    p.add_argument("--csv", type=Path, help="write one row per submission here")
    p.add_argument("--json", type=Path, help="write the per-test results with messages here (for the instructor)")
    p.add_argument("--feedback-dir", type=Path,
                   help="where this run's feedback files go (default: <csv or json name>-feedback/ next to it, "
                        "else grading-output/<date-time>/feedback)")
    p.add_argument("--timeout", type=float, default=30.0, help="seconds per cell and per test call (default 30)")
    p.add_argument("--total-timeout", type=float, default=None,
                   help="seconds per submission in all (default: max(60, 5 x timeout))")
    p.add_argument("--jobs", type=int, default=1, help="submissions graded at the same time (default 1)")
    p.add_argument("--memory-mb", type=int, default=4096, help="memory limit of each kernel process in MiB (0: none)")
    p.add_argument("--processes", type=int, default=64, help="processes and threads per submission (default 64)")
    p.add_argument("--scratch-mb", type=int, default=256, help="size of a submission's scratch space (default 256)")
    p.add_argument("--exercise", help="grade every submission as this exercise id (e.g. ex01); "
                                      "other exercises' notebooks score zero")
    p.add_argument("--solutions", type=Path, default=None, help="the instructor notebooks (default: solutions/)")
    p.add_argument("--sandbox", choices=["bwrap", "off"], default="bwrap",
                   help="bwrap (default): isolate each kernel with bubblewrap, refuse to grade where it cannot "
                        "run; off: no isolation, only for notebooks you trust")
    p.add_argument("--hidden-seed", type=int, default=None,
                   help="the seed of the hidden tests' random inputs (default: a fresh secret one per run; the JSON "
                        "report records it, so a run can be repeated)")
    p.add_argument("--quiet", action="store_true", help="no line per submission")
    args = p.parse_args(argv)
    if args.timeout <= 0 or args.jobs < 1 or args.memory_mb < 0 or args.processes < 4 or args.scratch_mb < 1:
        p.error("--timeout must be > 0, --jobs >= 1, --memory-mb >= 0, --processes >= 4 and --scratch-mb >= 1")
    return args


def expand(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        out += sorted(p.glob("**/*.ipynb")) if p.is_dir() else [p]
    return [p for p in out if ".ipynb_checkpoints" not in p.parts]


def feedback_dir(args) -> Path:
    """This run's own feedback folder: never a folder shared with other runs by default."""
    if args.feedback_dir:
        return args.feedback_dir
    for out in (args.csv, args.json):
        if out:
            return out.parent / f"{out.stem}-feedback"
    return Path("grading-output") / time.strftime("%Y%m%d-%H%M%S") / "feedback"


def main(argv=None) -> int:
    args = parse_args(argv)
    budget = args.total_timeout or max(60.0, 5 * args.timeout)
    limits = Limits(memory_mb=args.memory_mb, processes=args.processes, scratch_mb=args.scratch_mb,
                    cpu_s=int(budget) + 10)
    options = Options(timeout=args.timeout, total_timeout=args.total_timeout, jobs=args.jobs, exercise=args.exercise,
                      sandbox=args.sandbox, limits=limits, hidden_seed=args.hidden_seed)
    subs = expand(args.submissions)
    if not subs:
        print("error: no .ipynb submissions found", file=sys.stderr)
        return 1
    t0 = time.monotonic()
    progress = None if args.quiet else (lambda r: print(summary_line(r), flush=True))
    try:
        results = grade_many(subs, options, args.solutions or default_solutions_dir(), progress=progress)
    except SandboxUnavailable as exc:
        print(f"error: cannot grade safely here: {exc}.\nThe sandbox keeps submissions from reading the solutions, "
              f"each other and your files. For notebooks you trust (your own solutions), pass --sandbox off.",
              file=sys.stderr)
        return 1
    except NotebookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    fb = feedback_dir(args)
    write_feedback(results, fb)
    if args.csv:
        write_csv(results, args.csv)
    if args.json:
        write_json(results, args.json, options)
    n_err = sum(r.status != "graded" for r in results)
    if not args.quiet:
        print(f"graded {len(results) - n_err} of {len(results)} submissions in {time.monotonic() - t0:.1f} s; "
              f"feedback in {display_path(fb)}")
    return 2 if n_err else 0


if __name__ == "__main__":
    sys.exit(main())
