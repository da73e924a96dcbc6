"""The instructor's grader: each submission in its own sandboxed kernel, scored outside it.

For one submission (see FORMAT.md, section 6): read it (bounded, regular files only),
recognise the exercise, build the program (instructor's locked cells, student's answer
cells, no test cells), start a kernel in a fresh sandbox (:mod:`course.grade.sandbox`)
with a copy of ``course`` made for the exercise, execute the cells, call the student's
functions with the instructor's test inputs, and judge the returned numbers here
(:mod:`course.grade.scoring`). :func:`grade_many` grades a batch with several kernels at
once; whatever happens while grading one submission becomes that submission's error row,
and a submission that timed out is graded once more, alone, at the end of the batch, so
that a busy neighbour cannot cost it points.
"""

from __future__ import annotations

import os
import queue
import secrets
import shutil
import sys
import tempfile
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from course.grade import sandbox as sandboxing
from course.grade.sandbox import Limits
from course.grade.calls import expected_value_plain
from course.grade.forbidden import module_file, stub_source
from course.grade.notebook import (Exercise, NotebookError, build_program, exercise_id, nbgrader_meta,
                                   parse_notebook, read_limited, read_notebook)
from course.grade.scoring import SubmissionResult, run_tests
from course.grade.session import Launch, Session

__all__ = ["Options", "ExerciseIndex", "grade_submission", "grade_many", "default_solutions_dir", "display_path"]

COURSE_DIR = Path(__file__).resolve().parents[1]


def default_solutions_dir() -> Path:
    """``solutions/`` next to the ``course`` package (the repository layout)."""
    return COURSE_DIR.parent / "solutions"


def display_path(path) -> str:
    """A path as printable text, whatever the bytes of its name (undecodable bytes become U+FFFD)."""
    return os.fsencode(path).decode("utf-8", errors="replace")


@dataclass
class Options:
    """How to grade.

    timeout: seconds per cell and per test call; total_timeout: seconds per submission
    (default max(60, 5 x timeout)); sandbox: "bwrap" (refuse to grade where bubblewrap
    cannot run) or "off" (no isolation: only for notebooks you trust); limits: what each
    submission may use (:class:`course.grade.sandbox.Limits`).
    """

    timeout: float = 30.0
    total_timeout: float | None = None
    jobs: int = 1
    exercise: str | None = None
    sandbox: str = "bwrap"
    threads: int = 1  # OMP/MKL threads per kernel
    limits: Limits = Limits()
    retry_timeouts: bool = True
    hidden_seed: int | None = None  # None: a fresh secret seed per run (stored back here for the report)

    @property
    def budget(self) -> float:
        return self.total_timeout if self.total_timeout else max(60.0, 5 * self.timeout)


# ------------------------------------------------------------------ exercises
class ExerciseIndex:
    """The exercises in a solutions directory, read lazily (test cells run on first use)."""

    def __init__(self, solutions_dir, hidden_seed: int | None = None):
        self.dir = Path(solutions_dir)
        self.hidden_seed = hidden_seed
        if not self.dir.is_dir():
            raise NotebookError(f"the solutions directory {self.dir} does not exist; pass --solutions DIR")
        self.paths: dict[str, Path] = {}
        self.ids: dict[str, set[str]] = {}
        for path in sorted(self.dir.glob("*.ipynb")):
            nb = read_notebook(path)
            ex = exercise_id(nb)
            if ex:
                self.paths[ex] = path
                self.ids[ex] = {nbgrader_meta(c).get("grade_id") for c in nb["cells"]} - {None}
        self._loaded: dict[str, Exercise] = {}
        self._expected: dict[str, list] = {}
        self._lock = threading.Lock()

    def get(self, ex: str) -> Exercise:
        with self._lock:
            if ex not in self._loaded:
                exercise = Exercise.from_notebook(self.paths[ex], self.hidden_seed)
                self._loaded[ex] = exercise
                self._expected[ex] = [[_expected_or_error(case) for _, case, _ in t.cases]
                                      for t in exercise.test_cells]
            return self._loaded[ex]

    def expected(self, ex: str) -> list:
        self.get(ex)
        return self._expected[ex]

    def recognise(self, nb: dict) -> str | None:
        ex = exercise_id(nb)
        if ex in self.paths:
            return ex
        ids = {nbgrader_meta(c).get("grade_id") for c in nb["cells"]} - {None}
        best, score = None, 0.0
        for name, known in self.ids.items():
            overlap = len(ids & known) / max(len(known), 1)
            if overlap > score:
                best, score = name, overlap
        return best if score >= 0.5 else None


def _expected_or_error(case):
    """("ok", expected plain numbers or None) or ("error", message), computed once per exercise."""
    try:
        return ("ok", expected_value_plain(case))
    except Exception as exc:
        return ("error", f"the test itself failed ({type(exc).__name__}: {exc})")


class Libraries:
    """Per exercise, a copy of the ``course`` package with the forbidden modules replaced by stubs."""

    def __init__(self, root: Path):
        self.root, self._made, self._lock = root, {}, threading.Lock()

    def for_exercise(self, exercise: Exercise) -> Path:
        with self._lock:
            if exercise.id not in self._made:
                lib = self.root / f"lib-{exercise.id}"
                shutil.copytree(COURSE_DIR, lib / "course", ignore=shutil.ignore_patterns("*.md", "__pycache__"))
                for module in exercise.forbidden:
                    target = lib / module_file(module)
                    package = target.with_suffix("")
                    if package.is_dir():
                        shutil.rmtree(package)
                    target.write_text(stub_source(module, exercise.id), encoding="utf-8")
                for d, _, files in os.walk(lib):
                    os.chmod(d, 0o755)
                    for f in files:
                        os.chmod(os.path.join(d, f), 0o644)
                self._made[exercise.id] = lib
            return self._made[exercise.id]


def _matplotlib_cache() -> Path | None:
    for cand in (os.environ.get("MPLCONFIGDIR"), Path.home() / ".cache" / "matplotlib",
                 Path.home() / ".matplotlib"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def _environment(home: str, threads: int) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.mpl", "COURSE_GRADING": "1",
        "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
        "PYTHONHASHSEED": "0",
    }
    for key in ("CUDA_VISIBLE_DEVICES", "COURSE_DEVICE", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def _launch(options: Options, lib: Path, work: Path, hide: list[Path], slot: int) -> tuple[Launch, str]:
    """How to start the kernel, and the line that says how it is isolated."""
    log = work / "kernel.log"
    mpl = _matplotlib_cache()
    if options.sandbox == "off":
        scratch = work / "scratch"
        scratch.mkdir()
        argv = [sys.executable, "-I", "-B", str(lib / "course" / "grade" / "runner.py")]
        config = {"lib": str(lib), "rlimits": options.limits.rlimits(), "mpl_cache": str(mpl) if mpl else None}
        return (Launch(argv, _environment(str(scratch), options.threads), scratch, log, config),
                "none (--sandbox off): the kernel ran as the grader's user and could read its files")
    runner = f"{sandboxing.LIB}/course/grade/runner.py"
    argv = sandboxing.bwrap_command([sys.executable, "-I", "-B", runner], lib, options.limits, hide=hide, slot=slot,
                                 mpl_cache=mpl)
    config = {"lib": sandboxing.LIB, "rlimits": options.limits.rlimits(),
              "mpl_cache": sandboxing.MPL_CACHE if mpl else None}
    return (Launch(argv, _environment(sandboxing.SCRATCH, options.threads), work, log, config),
            sandboxing.describe(options.limits))


# ------------------------------------------------------------------ one submission
def grade_submission(path, index: ExerciseIndex, options: Options, work_root: Path, libraries: Libraries,
                     data: bytes | None = None, slot: int = 0) -> SubmissionResult:
    """Grade one notebook; never raises for a bad submission (the result says what went wrong).

    ``data`` is the notebook's bytes when the caller has read them already (``grade_many``
    reads every original before any student code runs).
    """
    t0 = time.monotonic()
    result = SubmissionResult(display_path(path), display_path(Path(os.fsdecode(path)).stem))
    try:
        _grade(Path(os.fsdecode(path)), index, options, work_root, libraries, data, slot, result, t0)
    except Exception as exc:  # a bug or a hostile file: this submission's error row, never the batch's end
        detail = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:300]
        _failed(result, f"the grader could not grade this notebook ({detail})", t0)
    result.points = sum(t.points for t in result.tests) if result.status == "graded" else 0.0
    result.seconds = round(time.monotonic() - t0, 3)
    return result


def _grade(path: Path, index, options, work_root, libraries, data, slot, result, t0):
    try:
        raw = data if data is not None else read_limited(path)
        text = raw.decode("utf-8")
        nb = parse_notebook(text, display_path(path.name))
    except UnicodeDecodeError as exc:
        return _failed(result, f"{display_path(path.name)} is not UTF-8 text ({exc.reason})", t0)
    except NotebookError as exc:
        return _failed(result, str(exc), t0)
    ex = index.recognise(nb)
    if ex is None:
        return _failed(result, f"{display_path(path.name)} is not one of the exercises "
                               f"({', '.join(sorted(index.paths)) or 'none found'}): its metadata names "
                               f"{str(exercise_id(nb))[:40]!r}", t0)
    try:
        exercise = index.get(ex)
    except NotebookError as exc:
        return _failed(result, f"the instructor's notebook for {ex} is broken: {exc}", t0)
    result.exercise, result.title, result.max_points = ex, exercise.title, exercise.max_points
    if options.exercise and ex != options.exercise:
        wanted = index.paths.get(options.exercise)
        result.max_points = index.get(options.exercise).max_points if wanted else 0.0
        return _failed(result, f"this notebook is exercise {ex} ({exercise.title}), not {options.exercise}: "
                               f"was the wrong file submitted?", t0, exercise=options.exercise)
    program = build_program(nb, exercise)
    work = Path(tempfile.mkdtemp(prefix="sub-", dir=work_root))
    try:
        launch, result.isolation = _launch(options, libraries.for_exercise(exercise), work,
                                           [COURSE_DIR, index.dir], slot)
        session = Session(launch, program, options.timeout, t0 + options.budget)
        try:
            run_tests(session, exercise, index.expected(ex), result)
        finally:
            session.kill()
        result.cells = [session.cell_notes[i] for i in sorted(session.cell_notes)]
        result.timed_out = session.timed_out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _failed(result, message, t0, exercise=None):
    result.status, result.error, result.points = "error", message, 0.0
    result.tests = []
    if exercise:
        result.exercise = exercise
    result.seconds = round(time.monotonic() - t0, 3)
    return result


# ------------------------------------------------------------------ many submissions
def grade_many(paths, options: Options, solutions_dir=None, progress=None) -> list[SubmissionResult]:
    """Grade ``paths`` with ``options.jobs`` kernels at a time; results in the order given.

    Raises :class:`course.grade.sandbox.SandboxUnavailable` before grading anything when
    the sandbox is asked for and cannot run here.
    """
    if options.sandbox != "off":
        sandboxing.check_available()
    if options.hidden_seed is None:
        options.hidden_seed = secrets.randbits(32)
    index = ExerciseIndex(solutions_dir or default_solutions_dir(), options.hidden_seed)
    originals = {}
    for p in paths:  # read every original before any student code runs
        try:
            originals[p] = read_limited(p)
        except NotebookError:
            originals[p] = None
    work_root = Path(tempfile.mkdtemp(prefix="course-grade-"))
    os.chmod(work_root, 0o700)
    libraries = Libraries(work_root)
    slots: queue.Queue[int] = queue.Queue()
    for s in range(max(1, options.jobs)):
        slots.put(s)

    def one(p):
        slot = slots.get()
        try:
            return grade_submission(p, index, options, work_root, libraries, originals[p], slot)
        finally:
            slots.put(slot)

    def done(r):
        if progress:
            progress(r)
        return r

    try:
        if options.jobs <= 1 or len(paths) <= 1:
            return [done(one(p)) for p in paths]
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            results = list(pool.map(lambda p: done(one(p)), paths))
        if options.retry_timeouts:
            for i, r in enumerate(results):  # alone now: a busy neighbour cannot have slowed it down
                if r.timed_out:
                    again = grade_submission(paths[i], index, options, work_root, libraries, originals[paths[i]])
                    again.retried = True
                    results[i] = done(again)
        return results
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
