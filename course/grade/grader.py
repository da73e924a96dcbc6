"""The instructor's grader: run submissions in fresh kernels, compare and score outside them.

For one submission (see FORMAT.md, section 6): read it, recognise the exercise, build the
program (instructor's locked cells, student's answer cells, no test cells), start a
fresh kernel (:mod:`course.grade.runner`) in a new scratch directory, execute the cells,
call the student's functions with the instructor's test inputs, and judge the plain
numbers that come back in this process. Many submissions run in parallel threads, each
driving its own kernel process.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course.grade import sandbox as _sandbox
from course.grade.calls import Outcome, expected_value_plain, judge, missing_ref_message
from course.grade.cases import NotNumbers, encode, validate_plain
from course.grade.notebook import (Exercise, NotebookError, cell_source, exercise_id, grading_skipped,
                                   nbgrader_meta, parse_notebook, strip_magics)

__all__ = ["Options", "ExerciseIndex", "grade_submission", "grade_many", "default_solutions_dir"]

COURSE_DIR = Path(__file__).resolve().parents[1]


def default_solutions_dir() -> Path:
    """``solutions/`` next to the ``course`` package (the repository layout)."""
    return COURSE_DIR.parent / "solutions"


@dataclass
class Options:
    """How to grade: ``timeout`` seconds per cell and per test call, ``total_timeout`` per
    submission, ``memory_mb`` address-space limit of a kernel (0: none)."""

    timeout: float = 30.0
    total_timeout: float | None = None
    memory_mb: int = 4096
    jobs: int = 1
    exercise: str | None = None
    sandbox: str = "auto"  # "auto": use namespaces where they work; "off"
    threads: int = 1  # OMP/MKL threads per kernel

    @property
    def budget(self) -> float:
        return self.total_timeout if self.total_timeout else max(60.0, 5 * self.timeout)


# ------------------------------------------------------------------ exercises
class ExerciseIndex:
    """The exercises in a solutions directory, read lazily (test cells run on first use)."""

    def __init__(self, solutions_dir):
        self.dir = Path(solutions_dir)
        if not self.dir.is_dir():
            raise NotebookError(f"the solutions directory {self.dir} does not exist; pass --solutions DIR")
        self.paths: dict[str, Path] = {}
        self.ids: dict[str, set[str]] = {}
        for path in sorted(self.dir.glob("*.ipynb")):
            nb = json.loads(path.read_text(encoding="utf-8"))
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
                exercise = Exercise.from_notebook(self.paths[ex])
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
    """("ok", expected plain numbers or None) or ("error", message), computed once per exercise.

    The expected value never needs a stored object: numbers are taken as they are, and a
    callable ``expect`` is not allowed with ``Ref`` arguments (see :class:`Case`).
    """
    try:
        return ("ok", expected_value_plain(case))
    except Exception as exc:
        return ("error", f"the test itself failed ({type(exc).__name__}: {exc})")


# ------------------------------------------------------------------ the kernel process
class KernelDied(Exception):
    pass


class KernelTimeout(Exception):
    pass


def _clean_env(scratch: Path, threads: int) -> dict:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(scratch), "TMPDIR": str(scratch),
        "LANG": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(scratch / ".mpl"),
        "COURSE_GRADING": "1", "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads), "PYTHONHASHSEED": "0",
    }
    for key in ("CUDA_VISIBLE_DEVICES", "LD_LIBRARY_PATH", "COURSE_DEVICE"):
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class Kernel:
    """One runner process; ``request`` sends a JSON request and waits for its answer."""

    def __init__(self, scratch: Path, config: dict, env: dict, prefix: list[str] | None):
        runner = scratch / ".lib" / "course" / "grade" / "runner.py"
        cmd = (prefix or []) + [sys.executable, "-I", "-B", str(runner)]
        self.proc = subprocess.Popen(cmd, cwd=scratch, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        self.fd = self.proc.stdout.fileno()
        os.set_blocking(self.fd, False)
        self.buffer = b""
        self._send(config)

    def _send(self, obj):
        try:
            self.proc.stdin.write((json.dumps(obj, allow_nan=True) + "\n").encode())
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise KernelDied() from None

    def _read_line(self, deadline: float) -> bytes:
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KernelTimeout()
            ready, _, _ = select.select([self.fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                raise KernelDied()
            self.buffer += chunk
            if len(self.buffer) > 256 * 1024 * 1024:
                raise KernelDied()
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def wait_for(self, rid: str, deadline: float) -> dict:
        while True:
            line = self._read_line(deadline)
            try:
                msg = json.loads(line)
            except ValueError:
                continue  # not ours: a student's write to the pipe cannot answer a request
            if isinstance(msg, dict) and msg.get("id") == rid:
                return msg

    def request(self, obj: dict, timeout: float) -> dict:
        rid = secrets.token_hex(8)
        self._send({**obj, "id": rid})
        return self.wait_for(rid, time.monotonic() + timeout)

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def exit_description(self) -> str:
        try:  # the pipe closes a moment before the process is reaped: wait for its exit status
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return "the kernel stopped answering"
        if code < 0:
            sig = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
            return f"the kernel was killed by {sig}" + (" (out of memory?)" if sig == "SIGKILL" else "")
        return f"the kernel exited with code {code} (sys.exit or os._exit?)"


# ------------------------------------------------------------------ results
@dataclass
class CaseResult:
    name: str
    function: str
    hidden: bool
    passed: bool
    message: str
    seconds: float
    setup: bool = False  # a store case of weight 0: sets up an object, is not a test by itself

    def to_json(self):
        return dict(self.__dict__)


@dataclass
class TestResult:
    grade_id: str
    max_points: float
    points: float = 0.0
    cases: list[CaseResult] = field(default_factory=list)

    def to_json(self):
        return {"grade_id": self.grade_id, "points": round(self.points, 4), "max_points": self.max_points,
                "cases": [c.to_json() for c in self.cases]}


@dataclass
class SubmissionResult:
    submission: str
    name: str
    exercise: str | None = None
    title: str = ""
    status: str = "graded"
    error: str = ""
    points: float = 0.0
    max_points: float = 0.0
    sandbox: str = "off"
    sandbox_notes: str = ""
    seconds: float = 0.0
    cells: list[dict] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0

    def to_json(self):
        d = {k: v for k, v in self.__dict__.items() if k != "tests"}
        d["points"] = round(self.points, 4)
        d["percent"] = round(self.percent, 2)
        d["tests"] = [t.to_json() for t in self.tests]
        return d


# ------------------------------------------------------------------ one submission
def build_program(nb: dict, exercise: Exercise) -> list[tuple[str, str]]:
    """[(label, source)]: the cells to run, in notebook order (see FORMAT.md, section 6)."""
    instr = [c for c in exercise.cells if c["cell_type"] == "code"]
    order = {nbgrader_meta(c).get("grade_id"): i for i, c in enumerate(instr) if nbgrader_meta(c).get("grade_id")}
    emitted: set[int] = set()
    program: list[tuple[str, str]] = []

    def instructor_cell(i):
        cell = instr[i]
        meta = nbgrader_meta(cell)
        emitted.add(i)
        if meta.get("solution") or meta.get("grade") or grading_skipped(cell):
            return
        program.append((f"cell {meta.get('grade_id', i)}", cell_source(cell)))

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
                program.append((f"cell {gid}", cell_source(cell)))
                emitted.add(i)
            elif i not in emitted:
                instructor_cell(i)
        else:
            program.append((f"cell {k}", cell_source(cell)))
    restore_before(len(instr))
    return [(label, strip_magics(src)) for label, src in program]


class _Session:
    """The kernel of one submission, restarted after a timeout or a crash."""

    def __init__(self, scratch: Path, program, options: Options, prefix, config: dict, deadline: float,
                 result: SubmissionResult):
        self.scratch, self.program, self.options = scratch, program, options
        self.prefix, self.config, self.deadline, self.result = prefix, config, deadline, result
        self.env = _clean_env(scratch, options.threads)
        self.bad_cells: set[int] = set()
        self.kernel: Kernel | None = None
        self.stored: list[dict] = []  # successful store calls, replayed after a restart
        self.lost_refs: set[str] = set()
        self.cell_notes: dict[int, dict] = {}
        self.restarts = 0

    def _limit(self) -> float:
        return max(0.0, min(self.options.timeout, self.deadline - time.monotonic()))

    def kernel_ready(self) -> Kernel:
        while self.kernel is None:
            if self.restarts > 8 or self._limit() <= 0:
                raise KernelTimeout()
            self.restarts += 1
            try:
                kernel = Kernel(self.scratch, self.config, self.env, self.prefix)
            except OSError as exc:
                raise KernelDied(str(exc)) from None
            try:
                ready = kernel.wait_for("ready", time.monotonic() + max(self._limit(), 5.0) + 30.0)
            except (KernelDied, KernelTimeout):
                kernel.close()
                raise KernelDied("the kernel did not start") from None
            if ready.get("status") != "ok":
                kernel.close()
                if self.prefix:  # the namespaces could not be set up here: grade without them
                    self.prefix, self.config = None, {**self.config, "sandbox": False}
                    self.result.sandbox = "off"
                    self.result.sandbox_notes = f"sandbox failed: {ready.get('message')}"
                    continue
                raise KernelDied(f"the kernel could not start: {ready.get('message')}")
            self.kernel = kernel
            self.result.sandbox_notes = str(ready.get("message", ""))
            if not self._run_cells():
                continue
            self._replay()
        return self.kernel

    def _run_cells(self) -> bool:
        for i, (label, source) in enumerate(self.program):
            if i in self.bad_cells:
                continue
            try:
                answer = self.kernel.request({"op": "exec", "cell": label, "source": source}, self._limit())
            except (KernelTimeout, KernelDied) as exc:
                timed_out = isinstance(exc, KernelTimeout)
                why = (f"timed out after {self.options.timeout:g} s" if timed_out
                       else self.kernel.exit_description() + self._log_hint())
                self.cell_notes[i] = {"cell": label, "status": "timeout" if timed_out else "crashed",
                                      "message": f"{label}: {why}; it was skipped"}
                self.bad_cells.add(i)
                self.kill()
                return False
            if answer.get("status") != "ok":
                self.cell_notes[i] = {"cell": label, "status": "error", "message": str(answer.get("message"))[:500]}
                if answer.get("restart"):
                    self.bad_cells.add(i)
                    self.kill()
                    return False
            else:
                self.cell_notes.pop(i, None)
        return True

    def _log_hint(self) -> str:
        """' (out of memory)' when the kernel's log ends with a MemoryError."""
        try:
            with open(self.scratch / ".kernel.log", "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 4096))
                tail = fh.read().decode(errors="replace")
        except OSError:
            return ""
        return " (out of memory: MemoryError)" if "MemoryError" in tail else ""

    def _replay(self):
        for req in self.stored:
            try:
                answer = self.kernel.request(req, self._limit())
            except (KernelTimeout, KernelDied):
                self.lost_refs.add(req["store"])
                self.kill()
                return
            if answer.get("status") != "stored":
                self.lost_refs.add(req["store"])

    def kill(self):
        if self.kernel is not None:
            self.kernel.close()
            self.kernel = None

    def call(self, fn, case) -> Outcome:
        req = {"op": "call", "fn": fn, "args": encode(case.args), "kwargs": encode(case.kwargs),
               "store": case.store}
        kernel = self.kernel_ready()
        try:
            answer = kernel.request(req, self._limit())
        except KernelTimeout:
            self.kill()
            return Outcome("timeout", message=f"{fn.lstrip('@')} did not finish within "
                                              f"{min(self.options.timeout, self.options.budget):g} s "
                                              f"(an infinite loop?)")
        except KernelDied:
            why = kernel.exit_description() + self._log_hint()
            self.kill()
            return Outcome("crashed", message=f"{why} while running {fn.lstrip('@')}")
        status = answer.get("status")
        if status == "ok":
            try:
                validate_plain(answer.get("value"))
            except NotNumbers as exc:
                return Outcome("not_numbers", message=f"{fn.lstrip('@')} returned {exc}")
            return Outcome("ok", value=answer["value"])
        known = {"stored", "not_implemented", "error", "not_numbers", "missing", "skipped"}
        if status not in known:
            return Outcome("error", message="the kernel sent an answer that is not a result")
        if status == "stored":
            self.stored.append(req)
        return Outcome(status, message=str(answer.get("message", ""))[:1000])


def grade_submission(path, index: ExerciseIndex, options: Options, work_root: Path,
                     hide_files: list[str] = (), notebook_text: str | None = None) -> SubmissionResult:
    """Grade one notebook; never raises for a bad submission (the result says what went wrong)."""
    path = Path(path)
    t0 = time.monotonic()
    result = SubmissionResult(str(path), path.stem)
    try:
        text = notebook_text if notebook_text is not None else path.read_text(encoding="utf-8")
        nb = parse_notebook(text, path.name)
    except (OSError, UnicodeDecodeError) as exc:
        return _failed(result, f"{path.name} cannot be read ({exc})", t0)
    except NotebookError as exc:
        return _failed(result, str(exc), t0)
    ex = index.recognise(nb)
    if ex is None:
        return _failed(result, f"{path.name} is not one of the exercises "
                               f"({', '.join(sorted(index.paths)) or 'none found'}): its metadata names "
                               f"{exercise_id(nb)!r}", t0)
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
    scratch = Path(tempfile.mkdtemp(prefix="sub-", dir=work_root))
    try:
        _prepare_scratch(scratch, text)
        prefix = _sandbox.unshare_prefix() if options.sandbox == "auto" else None
        result.sandbox = "on" if prefix else "off"
        config = {"lib": str(scratch / ".lib"), "scratch": str(scratch), "sandbox": bool(prefix),
                  "hide_dirs": [str(index.dir)], "hide_files": [str(p) for p in hide_files] + [str(path)],
                  "scratch_root": str(work_root), "memory_mb": options.memory_mb, "fsize_mb": 64,
                  "cpu_s": int(options.budget) + 10}
        session = _Session(scratch, program, options, prefix, config, t0 + options.budget, result)
        _run_tests(session, exercise, index.expected(ex), result)
        session.kill()
        result.cells = [session.cell_notes[i] for i in sorted(session.cell_notes)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    result.points = sum(t.points for t in result.tests)
    result.seconds = round(time.monotonic() - t0, 3)
    return result


def _failed(result, message, t0, exercise=None):
    result.status, result.error, result.points = "error", message, 0.0
    if exercise:
        result.exercise = exercise
    result.seconds = round(time.monotonic() - t0, 3)
    return result


def _prepare_scratch(scratch: Path, text: str):
    (scratch / "submission.ipynb").write_text(text, encoding="utf-8")
    shutil.copytree(COURSE_DIR, scratch / ".lib" / "course", ignore=shutil.ignore_patterns("*.md"))
    mpl = scratch / ".mpl"
    mpl.mkdir()
    cache = _matplotlib_cache()
    if cache:
        for f in cache.glob("fontlist*.json"):
            shutil.copy2(f, mpl / f.name)


def _matplotlib_cache() -> Path | None:
    for cand in (os.environ.get("MPLCONFIGDIR"), Path.home() / ".cache" / "matplotlib",
                 Path.home() / ".matplotlib"):
        if cand and Path(cand).is_dir():
            return Path(cand)
    return None


def _run_tests(session: _Session, exercise: Exercise, expected: list, result: SubmissionResult):
    broken: dict[str, str] = {}
    failed_refs: set[str] = set()
    for test, exp_list in zip(exercise.test_cells, expected):
        tres = TestResult(test.grade_id, test.points)
        got_weight = 0.0
        for (fn, case, hidden), (exp_kind, exp_value) in zip(test.cases, exp_list):
            t = time.monotonic()
            label = fn.lstrip("@")
            base = label.split(".")[0] if fn.startswith("@") else fn
            needs = (case.refs() & (failed_refs | session.lost_refs))
            if base in broken:
                outcome = Outcome("skipped", message=f"not run: {broken[base]}")
            elif needs:
                outcome = Outcome("skipped", message=missing_ref_message(sorted(needs)[0], failed=True))
            elif time.monotonic() >= session.deadline:
                outcome = Outcome("skipped", message="not run: the submission used up its time budget "
                                                     f"({session.options.budget:g} s)")
            else:
                try:
                    outcome = session.call(fn, case)
                except (KernelTimeout, KernelDied) as exc:
                    outcome = Outcome("skipped", message=f"not run: the kernel could not be started "
                                                         f"({exc or 'time budget used up'})")
                if outcome.status == "timeout":
                    broken[base] = f"an earlier test of {base} timed out"
                elif outcome.status == "crashed":
                    broken[base] = f"an earlier test of {base} stopped the kernel"
            if exp_kind == "error":
                passed, message = False, exp_value
            else:
                passed, message = judge(case, outcome, exp_value)
            if not passed and case.store:
                failed_refs.add(case.store)
            if passed:
                got_weight += case.weight
            tres.cases.append(CaseResult(case.name, label, hidden, passed, message, round(time.monotonic() - t, 4),
                                         setup=case.setup))
        tres.points = test.points * got_weight / test.total_weight
        result.tests.append(tres)


# ------------------------------------------------------------------ many submissions
def grade_many(paths, options: Options, solutions_dir=None, progress=None) -> list[SubmissionResult]:
    """Grade ``paths`` with ``options.jobs`` kernels at a time; results in the order given."""
    index = ExerciseIndex(solutions_dir or default_solutions_dir())
    paths = [Path(p) for p in paths]
    texts = {}
    for p in paths:  # read every original before any student code runs
        try:
            texts[p] = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            texts[p] = None
    hide = [str(p.resolve()) for p in paths if p.exists()]
    work_root = Path(tempfile.mkdtemp(prefix="course-grade-"))
    try:
        def one(p):
            if texts[p] is None:
                res = grade_submission(p, index, options, work_root, hide)
            else:
                res = grade_submission(p, index, options, work_root, hide, notebook_text=texts[p])
            if progress:
                progress(res)
            return res

        if options.jobs <= 1 or len(paths) <= 1:
            return [one(p) for p in paths]
        with ThreadPoolExecutor(max_workers=options.jobs) as pool:
            return list(pool.map(one, paths))
    finally:
        shutil.rmtree(work_root, ignore_errors=True)
