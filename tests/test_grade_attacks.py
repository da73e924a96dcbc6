"""Hostile submissions through the real grader CLI, inside its sandbox.

Students who want the points without the work, or the hidden tests, or to stop the batch:
forged answers (class 1), reading the solutions, git objects, checkpoints, other students'
files, earlier reports, the environment and /proc (2), feedback that leaks hidden tests or
carries HTML (3), processes and IPC objects that outlive the grader (4), resource hogs
next to an honest neighbour (5), files that are not notebooks at all (6), NaN where a
threshold decides (7), delegation to forbidden library modules (8), killing the grader
(9), and others (network, tarpits, closed pipes, signals). The submissions are built in
tests/grading_cases/attacks.py; this file grades them in a few batches
(``python -m course.grade ... --jobs 2 --timeout 10``) and checks the guarantees:

* a hostile submission earns no more than the unmodified student version (the stub);
* every submission gets a JSON entry, a CSV row and a feedback file, and the command ends;
* an honest neighbour graded in the same batch scores exactly as when graded alone;
* nothing of the solutions or of the hidden tests shows up in a submission's results;
* no process, SysV IPC object or file started by a submission outlives the batch.

Everything about the report's format is read through the small accessors below, so that
a change of field names touches one place.
"""

from __future__ import annotations

import copy
import csv
import glob
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tests.grading_cases import attacks as A
from tests.grading_cases import build as B

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 10
BATCH_LIMIT = 420  # seconds for one grader command before the test gives up on it
CASE_LIMIT = 90  # seconds for one of the small class-6 commands (two submissions)

pytestmark = [
    pytest.mark.skipif(shutil.which("bwrap") is None and not os.environ.get("REQUIRE_SANDBOX"),
                       reason="bubblewrap (bwrap) is not installed; set REQUIRE_SANDBOX=1 to run anyway"),
    pytest.mark.slow,
]

EXERCISES = ("ex01", "ex04", "ex06", "ex07")


# ------------------------------------------------------------------ the report's format, in one place
def report_entries(report: dict) -> list[dict]:
    return list(report.get("submissions", []))


def isolation(entry: dict) -> str:
    """How the kernel was isolated ("bubblewrap", ...; "none"/"off" when it was not)."""
    value = entry.get("isolation", entry.get("sandbox"))
    return str(value) if value is not None else "none"


def entry_cases(entry: dict) -> list[dict]:
    return [c for t in entry.get("tests") or [] for c in t.get("cases") or []]


def points_by_test(entry: dict) -> dict[str, float]:
    return {t["grade_id"]: float(t.get("points", 0)) for t in entry.get("tests") or []}


def outcome(entry: dict) -> tuple:
    """What must not change for an honest submission: its points and each case's verdict (not the case
    names: hidden tests may draw other random inputs, and name them after them, in each run)."""
    return (round(float(entry.get("points", 0)), 4),
            tuple((c.get("function"), bool(c.get("hidden")), bool(c.get("passed"))) for c in entry_cases(entry)))


def hidden_seed(report: dict | None) -> int | None:
    """The run seed the hidden tests' random inputs were drawn from (None: the notebooks' own seeds)."""
    if not report:
        return None
    seed = (report.get("options") or {}).get("hidden_seed", report.get("hidden_seed"))
    return int(seed) if seed is not None else None


def strings_of(obj) -> list[str]:
    out = []
    if isinstance(obj, str):
        out.append(obj)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            out += strings_of(k) + strings_of(v)
    elif isinstance(obj, list):
        for v in obj:
            out += strings_of(v)
    return out


def feedback_path(entry: dict, fb_dir: Path, folder: str, stem: str) -> Path | None:
    """The feedback file of a submission: the JSON's "feedback" field, else by name in fb_dir."""
    given = entry.get("feedback") if entry else None
    if given:
        p = Path(given)
        return p if p.is_absolute() else (fb_dir / p if (fb_dir / p).exists() else p)
    files = sorted(fb_dir.glob("*.feedback.md"), key=lambda p: len(p.name))
    for p in files:
        if p.name.startswith(f"{folder}_") or p.name.startswith(folder):
            return p
    return None


# ------------------------------------------------------------------ running the grader
@dataclass
class Sub:
    key: str  # unique name of the submission in its batch (its folder)
    path: Path
    exercise: str
    kind: str = "attack"  # attack, neighbour, reference, malformed


@dataclass
class Batch:
    subs: list[Sub]
    out: Path
    rc: int | None
    seconds: float
    stdout: str
    stderr: str
    report: dict | None
    csv_rows: list[list[str]] | None
    entries: dict[str, dict] = field(default_factory=dict)

    @property
    def fb_dir(self) -> Path:
        return self.out / "feedback"

    def entry(self, key: str) -> dict | None:
        return self.entries.get(key)

    def feedback(self, key: str) -> str | None:
        sub = next(s for s in self.subs if s.key == key)
        p = feedback_path(self.entry(key) or {}, self.fb_dir, sub.path.parent.name, sub.path.stem)
        if p is None or not p.exists():
            return None
        return p.read_text(encoding="utf-8", errors="replace")

    def describe(self) -> str:
        return f"rc={self.rc} after {self.seconds:.0f} s; stderr: {self.stderr[-1500:]}"


def _kill_ours(*needles: str):
    """SIGKILL processes this test started: their command line or working directory holds a needle."""
    me = os.getpid()
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == me:
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        if any(n and (n in cmd or cwd.startswith(n)) for n in needles):
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass


def run_grader(subs: list[Sub], out: Path, grader_tmp: Path, extra_env: dict | None = None,
               limit: float = BATCH_LIMIT) -> Batch:
    out.mkdir(parents=True, exist_ok=True)
    grader_tmp.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "course.grade", *[os.fsencode(s.path) for s in subs],
           "--csv", str(out / "grades.csv"), "--json", str(out / "report.json"),
           "--feedback-dir", str(out / "feedback"), "--timeout", str(TIMEOUT), "--jobs", "2"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(grader_tmp), **(extra_env or {})}

    def limits():
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (5 << 30, 5 << 30))  # a grader that reads /dev/zero stops here

    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, preexec_fn=limits)
    try:
        stdout, stderr = proc.communicate(timeout=limit)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                os.killpg(proc.pid, sig)
            except OSError:
                pass
        stdout, stderr = proc.communicate()
        rc = None
    seconds = time.monotonic() - t0
    _kill_ours(str(grader_tmp))
    report = None
    if (out / "report.json").exists():
        try:
            report = json.loads((out / "report.json").read_text(encoding="utf-8", errors="surrogateescape"))
        except ValueError:
            report = None
    rows = None
    if (out / "grades.csv").exists():
        with open(out / "grades.csv", newline="", encoding="utf-8", errors="replace") as fh:
            rows = list(csv.reader(fh))
    batch = Batch(subs, out, rc, seconds, stdout.decode(errors="replace"), stderr.decode(errors="replace"),
                  report, rows)
    if report is not None:
        entries = report_entries(report)
        by_path = {os.path.normpath(str(e.get("submission", ""))): e for e in entries}
        for i, s in enumerate(subs):
            e = by_path.get(os.path.normpath(os.fsdecode(os.fsencode(s.path))))
            if e is None and len(entries) == len(subs):
                e = entries[i]
            if e is not None:
                batch.entries[s.key] = e
    return batch


def _ps_with(marker: str) -> list[str]:
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if marker in line and "ps -eo" not in line]


def _sysv_with(ctx: A.Ctx) -> list[str]:
    found = []
    for kind, key in (("shm", ctx.ipc_key), ("sem", ctx.ipc_key + 1), ("msg", ctx.ipc_key + 2)):
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if int(parts[0]) == key or (kind == "shm" and int(parts[3]) in (ctx.ipc_size, ctx.ipc_size + 4096)):
                found.append(f"{kind} {line.strip()}")
    return found


def _marker_files(marker: str) -> list[str]:
    return [p for d in ("/tmp", "/dev/shm", "/var/tmp") for p in glob.glob(f"{d}/{marker}*")]


def _cleanup(ctx: A.Ctx):
    _kill_ours(ctx.marker, str(ctx.grader_tmp), str(ctx.batch_root))
    for line in _ps_with(ctx.marker):
        try:
            os.kill(int(line.split()[0]), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    for p in _marker_files(ctx.marker):
        try:
            os.unlink(p)
        except OSError:
            pass
    for line in _sysv_with(ctx):
        kind, parts = line.split()[0], line.split()[1:]
        flag = {"shm": "-m", "sem": "-s", "msg": "-q"}[kind]
        subprocess.run(["ipcrm", flag, parts[1]], capture_output=True)
    _rmtree_hard(ctx.grader_tmp)


def _rmtree_hard(path: Path):
    if not Path(path).exists():
        return
    subprocess.run(["chmod", "-R", "u+rwx", str(path)], capture_output=True)
    subprocess.run(["rm", "-rf", "--one-file-system", str(path)], capture_output=True)  # trees too deep for rmtree


def _leftovers(path: Path) -> list[str]:
    """Files and directories under the grader's TMPDIR after a batch (there should be none)."""
    out = []
    try:
        for dirpath, dirs, files in os.walk(path):
            out += [os.path.join(dirpath, d) for d in dirs] + [os.path.join(dirpath, f) for f in files]
            if len(out) > 20:
                break
    except RecursionError:
        out.append(f"{path}: a tree too deep to walk")
    return out


# ------------------------------------------------------------------ what must stay hidden
def _split_hidden(source: str) -> tuple[str, str]:
    public, hidden, inside = [], [], False
    for line in source.splitlines():
        s = line.strip()
        if s == "### BEGIN HIDDEN TESTS":
            inside = True
            continue
        if s == "### END HIDDEN TESTS":
            inside = False
            continue
        (hidden if inside else public).append(line)
    return "\n".join(public), "\n".join(hidden)


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def collect_cases(ex: str, seed: int | None = None) -> list[tuple[str, object, bool]]:
    """(function, Case, hidden) of every test cell of the solution, recorded in this process, with the
    hidden inputs drawn as the grader drew them in a run with hidden-test seed ``seed``."""
    import contextlib

    import course.grade
    import course.grade.cases

    draw = getattr(course.grade.cases, "hidden_inputs_from", None)
    seeded = draw(seed) if draw is not None else contextlib.nullcontext()

    nb = json.loads(A.solution(ex).read_text(encoding="utf-8"))
    recorded: list = []
    state = {"hidden": False}

    def record(fn, cases, *args, **kwargs):
        for c in cases:
            recorded.append((getattr(c, "fn", None) or (fn if isinstance(fn, str) else fn.__name__), c,
                             state["hidden"]))

    saved = course.grade.check
    course.grade.check = record
    try:
        seeded.__enter__()
        for cell in nb["cells"]:
            meta = (cell.get("metadata") or {}).get("nbgrader") or {}
            if cell.get("cell_type") != "code" or not meta.get("grade"):
                continue
            public, hidden = _split_hidden(_source(cell))
            ns = {"__name__": "__attack_tests__"}
            state["hidden"] = False
            exec(compile(public, f"<{ex} public>", "exec"), ns)
            state["hidden"] = True
            exec(compile(hidden, f"<{ex} hidden>", "exec"), ns)
    finally:
        seeded.__exit__(None, None, None)
        course.grade.check = saved
    return recorded


def _numbers(obj, out: list, limit: int = 3):
    if len(out) >= limit:
        return
    if isinstance(obj, dict):
        for v in obj.values():
            _numbers(v, out, limit)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _numbers(v, out, limit)
    elif isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        for v in obj.ravel()[:limit - len(out)]:
            out.append(float(v))
    elif isinstance(obj, (int, float, np.integer, np.floating)) and not isinstance(obj, bool):
        out.append(float(obj))


def _number_texts(values) -> set[str]:
    out = set()
    for v in values:
        if not math.isfinite(v) or v == round(v):
            continue
        r, g = repr(v), f"{v:.6g}"
        if len(r) >= 8:
            out.add(r)
        if len(re.sub(r"[^0-9]", "", g)) >= 5:
            out.add(g)
    return out


def _case_numbers(case) -> set[str]:
    values = []
    for a in list(case.args) + list((case.kwargs or {}).values()):
        part = []
        _numbers(a, part)
        values += part
    try:
        exp = case.expect(*copy.deepcopy(case.args), **copy.deepcopy(case.kwargs or {})) if callable(
            case.expect) else case.expect
        part = []
        _numbers(exp, part, 6)
        values += part
    except Exception:
        pass
    return _number_texts(values)


_SECRETS: dict[tuple, dict] = {}


def secrets_of(ex: str, seed: int | None = None) -> dict:
    """hidden_names, hidden_numbers: what a feedback file must never show (for a run with hidden-test
    seed ``seed``); snippets: lines of the solution notebook that the student version does not have."""
    if (ex, seed) in _SECRETS:
        return _SECRETS[ex, seed]
    student = A.exercise(ex).read_text(encoding="utf-8")
    student_src = "\n".join(_source(c) for c in json.loads(student)["cells"])
    cases = collect_cases(ex, seed)
    public = [c for _, c, h in cases if not h]
    public_names = " | ".join(c.name for c in public)
    public_numbers = set().union(*[_case_numbers(c) for c in public]) if public else set()
    names, numbers = set(), set()
    for _, c, hidden in cases:
        if not hidden:
            continue
        if len(c.name) >= 10 and c.name not in student and c.name not in public_names:
            names.add(c.name)
        numbers |= {n for n in _case_numbers(c) if n not in student and n not in public_numbers}
    snippets = set()
    sol = json.loads(A.solution(ex).read_text(encoding="utf-8"))
    for cell in sol["cells"]:
        for line in _source(cell).splitlines():
            s = line.strip()
            if len(s) >= 20 and s not in student_src and not s.startswith("#"):
                snippets.add(s)
    _SECRETS[ex, seed] = {"hidden_names": names, "hidden_numbers": numbers, "snippets": snippets}
    return _SECRETS[ex, seed]


def hidden_leaks(text: str, ex: str, seed: int | None = None) -> list[str]:
    s = secrets_of(ex, seed)
    return sorted(x for x in s["hidden_names"] | s["hidden_numbers"] if x in text)


def solution_leaks(texts: list[str], ex: str) -> list[str]:
    s = secrets_of(ex)
    joined = "\n".join(texts)
    return sorted(x for x in s["snippets"] if x in joined)


# ------------------------------------------------------------------ fixtures
class Listeners:
    """A TCP port, an abstract and a path unix socket; records what anyone sends to them."""

    def __init__(self, directory: Path, marker: str):
        self.received: list[tuple[str, bytes]] = []
        self.tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.tcp.bind(("0.0.0.0", 0))
        self.port = self.tcp.getsockname()[1]
        self.abstract_name = f"course-attack-{marker}"
        self.abstract = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.abstract.bind("\0" + self.abstract_name)
        self.unix_path = str(directory / "listen.sock")
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(self.unix_path)
        os.chmod(self.unix_path, 0o777)
        self.socks = {"tcp": self.tcp, "abstract": self.abstract, "unix": self.unix}
        for s in self.socks.values():
            s.listen(64)
            s.setblocking(False)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        import select

        while not self.stop.is_set():
            ready, _, _ = select.select(list(self.socks.values()), [], [], 0.2)
            for s in ready:
                try:
                    conn, _ = s.accept()
                except OSError:
                    continue
                kind = next(k for k, v in self.socks.items() if v is s)
                conn.settimeout(2)
                try:
                    data = conn.recv(200)
                except OSError:
                    data = b""
                conn.close()
                self.received.append((kind, data))

    def close(self):
        self.stop.set()
        self.thread.join(2)
        for s in self.socks.values():
            s.close()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("attacks")


@pytest.fixture(scope="module")
def ctx(run_dir):
    marker = "crsatk" + secrets.token_hex(6)
    c = A.Ctx(marker=marker, batch_root=run_dir / "subs", grader_tmp=run_dir / "gtmp",
              ipc_key=0x10000000 + secrets.randbelow(0x6fe00000),
              ipc_size=(512 << 20) + 4096 * (1 + secrets.randbelow(2000)))
    c.batch_root.mkdir()
    c.grader_tmp.mkdir()
    c.known_paths = [str(ROOT), str(c.batch_root), str(run_dir)]
    listeners = Listeners(run_dir, marker)
    c.tcp_port, c.abstract_name, c.unix_path = listeners.port, listeners.abstract_name, listeners.unix_path
    c.listeners = listeners
    yield c
    listeners.close()
    _cleanup(c)


def _put(root: Path, key: str, ex: str, nb: dict, kind: str = "attack") -> Sub:
    folder = root / key
    folder.mkdir(parents=True, exist_ok=True)
    path = B.write(nb, folder / A.solution(ex).name)
    return Sub(key, path, ex, kind)


def _honest(root: Path, prefix: str) -> list[Sub]:
    """Correct submissions of each exercise (the neighbours whose results must not change)."""
    return [_put(root, f"{prefix}-correct-{ex}", ex, B.load(A.solution(ex)), "neighbour")
            for ex in ("ex01", "ex06", "ex07")]


@pytest.fixture(scope="module")
def reference(run_dir, ctx):
    """Correct and stub submissions of each exercise, graded with no attacker in the batch."""
    root = run_dir / "reference"
    subs = []
    for ex in EXERCISES:
        subs.append(_put(root, f"ref-correct-{ex}", ex, B.load(A.solution(ex)), "reference"))
        subs.append(_put(root, f"ref-stub-{ex}", ex, B.load(A.exercise(ex)), "reference"))
    batch = run_grader(subs, run_dir / "out-reference", run_dir / "gtmp-reference")
    assert batch.report is not None, batch.describe()
    return batch


def ref_entry(reference: Batch, kind: str, ex: str) -> dict:
    e = reference.entry(f"ref-{kind}-{ex}")
    assert e is not None, f"no reference result for {kind} {ex}: {reference.describe()}"
    return e


def _interleave(attacks: list[Sub], honest: list[Sub]) -> list[Sub]:
    out, step = [], max(1, len(attacks) // (len(honest) + 1))
    honest = list(honest)
    for i, s in enumerate(attacks):
        if honest and i % step == step - 1:
            out.append(honest.pop(0))
        out.append(s)
    return out + honest


@pytest.fixture(scope="module")
def cheat(run_dir, ctx, reference):
    """Classes 1, 2, 3, 7, 8 and the network: one batch, with honest neighbours."""
    root = ctx.batch_root / "cheat"
    attacks = [_put(root, f"a{i:02d}-{a.name}", a.exercise, a.build(ctx)) for i, a in enumerate(A.ATTACKS)]
    honest = _honest(root, "n")
    # what the spies may find if the sandbox lets them look:
    sol01 = A.solution("ex01").read_text(encoding="utf-8")
    canaries = {k: f"CANARY-{k}-{secrets.token_hex(8)}" for k in ("checkpoint", "neighbour", "report", "env")}
    for s in attacks:
        if s.key.endswith("spy_checkpoints"):
            d = s.path.parent / ".ipynb_checkpoints"
            d.mkdir()
            (d / s.path.name.replace(".ipynb", "-checkpoint.ipynb")).write_text(sol01, encoding="utf-8")
            (d / "notes.txt").write_text(canaries["checkpoint"], encoding="utf-8")
    bob = root / "bob-not-submitted"
    bob.mkdir()
    (bob / "ex01_forward_pass.ipynb").write_text(sol01, encoding="utf-8")
    (bob / "notes.txt").write_text(canaries["neighbour"], encoding="utf-8")
    earlier = run_dir / "earlier-run" / "feedback"
    earlier.mkdir(parents=True)
    (earlier.parent / "report.json").write_text(json.dumps({"secret": canaries["report"]}), encoding="utf-8")
    (earlier / "old.feedback.md").write_text(canaries["report"], encoding="utf-8")
    subs = _interleave(attacks, honest)
    # an honest submission graded while the request thief is running
    thief = next(i for i, s in enumerate(subs) if s.key.endswith("steal_requests"))
    subs.insert(thief + 1, _put(root, "n-after-thief-ex01", "ex01", B.load(A.solution("ex01")), "neighbour"))
    batch = run_grader(subs, run_dir / "out-cheat", ctx.grader_tmp,
                       extra_env={"COURSE_ATTACK_CANARY": canaries["env"]})
    batch.canaries = canaries
    return batch


@pytest.fixture(scope="module")
def hostile(run_dir, ctx, reference):
    """Classes 4, 5, 9 and others: one batch with honest neighbours, then what is left, then a later batch."""
    root = ctx.batch_root / "hostile"
    before_files = set(_marker_files(ctx.marker))
    attacks = [_put(root, f"h{i:02d}-{a.name}", a.exercise, a.build(ctx)) for i, a in enumerate(A.HOSTILE)]
    honest = _honest(root, "m")
    batch = run_grader(_interleave(attacks, honest), run_dir / "out-hostile", ctx.grader_tmp)
    time.sleep(4)  # a daemon that waits before it acts
    batch.left_processes = _ps_with(ctx.marker)
    batch.left_ipc = _sysv_with(ctx)
    batch.left_files = sorted(set(_marker_files(ctx.marker)) - before_files)
    batch.left_scratch = _leftovers(ctx.grader_tmp)
    later = run_grader(_honest(ctx.batch_root / "later", "later"), run_dir / "out-later", ctx.grader_tmp)
    batch.later = later
    _cleanup(ctx)
    ctx.grader_tmp.mkdir(exist_ok=True)
    return batch


@pytest.fixture(scope="module")
def malformed(run_dir, ctx, reference):
    """Class 6: each file in its own small batch next to a correct ex01 submission."""
    def one(name):
        root = ctx.batch_root / "malformed" / name
        folder = root / f"x-{name}"
        folder.mkdir(parents=True)
        path = A.MALFORMED[name](folder / "ex01_forward_pass.ipynb", ctx)
        subs = [Sub(f"x-{name}", path, "ex01", "malformed"),
                _put(root, f"y-{name}-neighbour", "ex01", B.load(A.solution("ex01")), "neighbour")]
        gtmp = run_dir / f"gtmp-malformed-{name}"
        batch = run_grader(subs, run_dir / f"out-malformed-{name}", gtmp, limit=CASE_LIMIT)
        batch.left_scratch = _leftovers(gtmp)
        _rmtree_hard(gtmp)
        if name == "big_file":
            path.unlink()  # 200 MB
        return name, batch

    with ThreadPoolExecutor(2) as pool:
        return dict(pool.map(one, list(A.MALFORMED)))


# ------------------------------------------------------------------ shared checks
def _complete(batch: Batch) -> list[str]:
    """What is missing from a batch's outputs."""
    problems = []
    if batch.rc not in (0, 2):
        problems.append(f"exit status {batch.rc}" if batch.rc is not None
                        else f"still running after {batch.seconds:.0f} s (killed)")
    if batch.report is None:
        problems.append("no JSON report")
    missing = [s.key for s in batch.subs if batch.entry(s.key) is None]
    if batch.report is not None and missing:
        problems.append(f"no JSON entry for {missing}")
    if batch.csv_rows is None:
        problems.append("no CSV")
    elif len(batch.csv_rows) != len(batch.subs) + 1:
        problems.append(f"{len(batch.csv_rows) - 1} CSV rows for {len(batch.subs)} submissions")
    fb = sorted(batch.fb_dir.glob("*.feedback.md")) if batch.fb_dir.exists() else []
    if len(fb) != len(batch.subs):
        problems.append(f"{len(fb)} feedback files for {len(batch.subs)} submissions")
    return problems


def _neighbour_changes(batch: Batch, reference: Batch) -> list[str]:
    out = []
    for s in batch.subs:
        if s.kind != "neighbour":
            continue
        e = batch.entry(s.key)
        ref = ref_entry(reference, "correct", s.exercise)
        if e is None:
            out.append(f"{s.key}: no result")
        elif outcome(e) != outcome(ref):
            failed = [(c.get("name"), c.get("message")) for c in entry_cases(e) if not c.get("passed")][:3]
            out.append(f"{s.key}: {e.get('points')} points (alone: {ref.get('points')}); failed: {failed}; "
                       f"cells: {str(e.get('cells'))[:300]}")
    return out


def _stub_points(reference: Batch, ex: str) -> float:
    return float(ref_entry(reference, "stub", ex).get("points", 0))


def _attack_subs(batch: Batch) -> list[Sub]:
    return [s for s in batch.subs if s.kind in ("attack", "malformed")]


def _key(batch: Batch, name: str) -> str:
    return next(s.key for s in batch.subs if s.key.split("-", 1)[-1] == name)


# ------------------------------------------------------------------ reference
def test_reference_correct_and_stub(reference):
    for ex in EXERCISES:
        c, s = ref_entry(reference, "correct", ex), ref_entry(reference, "stub", ex)
        assert c.get("status") == "graded" and float(c["points"]) == float(c["max_points"]) > 0, (ex, c.get("error"))
        assert float(s["points"]) == 0, ex


# ------------------------------------------------------------------ the cheat batch: classes 1, 2, 3, 7, 8, network
def test_cheat_batch_completes(cheat):
    assert not _complete(cheat), (_complete(cheat), cheat.describe())


def _not_sandboxed(batch) -> dict:
    """Submissions of the batch whose report does not say they ran under bubblewrap."""
    return {s.key: isolation(batch.entry(s.key)) for s in batch.subs
            if batch.entry(s.key) and not isolation(batch.entry(s.key)).startswith("bubblewrap")}


def test_cheat_batch_runs_in_the_sandbox(cheat):
    assert not _not_sandboxed(cheat)


def test_cheat_batch_neighbours_are_unchanged(cheat, reference):
    assert not _neighbour_changes(cheat, reference)


@pytest.mark.parametrize("attack", [a for a in A.ATTACKS if a.klass != 8], ids=lambda a: f"c{a.klass}-{a.name}")
def test_cheating_earns_no_more_than_the_stub(cheat, reference, attack):
    e = cheat.entry(_key(cheat, attack.name))
    assert e is not None, cheat.describe()
    stub = _stub_points(reference, attack.exercise)
    got = float(e.get("points", 0))
    passed = [(c.get("function"), c.get("name")) for c in entry_cases(e) if c.get("passed")][:5]
    assert got <= stub, f"{attack.what}: {got} points (stub: {stub}); passed {passed}"


SPIES = [a for a in A.ATTACKS if a.klass == 2 and a.name.startswith("spy_")]


@pytest.mark.parametrize("attack", SPIES, ids=lambda a: a.name)
def test_spies_read_nothing_hidden(cheat, attack):
    key = _key(cheat, attack.name)
    e, fb = cheat.entry(key), cheat.feedback(key)
    assert e is not None and fb is not None, cheat.describe()
    texts = strings_of(e) + [fb]
    found_canaries = sorted({k for k, v in cheat.canaries.items() for t in texts if v in t})
    leaked = solution_leaks(texts, attack.exercise)
    leak_messages = [t[:200] for t in texts if t and "LEAK " in t][:3]
    assert not found_canaries and not leaked and not leak_messages, (
        f"{attack.what}: canaries {found_canaries}, solution lines {leaked[:3]}, messages {leak_messages}")


def test_feedback_injection_is_cut_short_and_escaped(cheat):
    fb = cheat.feedback(_key(cheat, "feedback_inject"))
    assert fb is not None
    problems = []
    for tag in ("<img", "<script", "<b>", "</script"):
        if tag in fb:
            problems.append(f"raw HTML {tag!r}")
    if re.search(r"(?m)^\s{0,3}#+\s.*INJECTED", fb):
        problems.append("an injected Markdown heading")
    if "[click](http" in fb:
        problems.append("an injected link")
    for ch in "AEWB":
        runs = [len(r) for r in re.findall(ch + "{50,}", fb)]
        if runs and max(runs) > 300:
            problems.append(f"{max(runs)} characters of the student's text in one message")
    long_lines = [len(line) for line in fb.splitlines() if "INJECTED" in line and len(line) > 500]
    if long_lines:
        problems.append(f"lines of {long_lines[:3]} characters")
    assert not problems, problems


@pytest.mark.parametrize("batch_name", ["reference", "cheat", "hostile"])
def test_feedback_never_shows_hidden_tests(request, batch_name):
    batch = request.getfixturevalue(batch_name)
    leaks = {}
    for s in batch.subs:
        fb = batch.feedback(s.key)
        if fb is None:
            continue
        found = hidden_leaks(fb, s.exercise, hidden_seed(batch.report))
        if found:
            leaks[s.key] = found[:4]
    assert not leaks, f"{len(leaks)} feedback files show hidden tests, e.g. {dict(list(leaks.items())[:4])}"


def test_hidden_inputs_echoed_by_the_student_stay_out_of_the_feedback(cheat):
    fb = cheat.feedback(_key(cheat, "hidden_echo"))
    assert fb is not None
    numbers = sorted(x for x in secrets_of("ex01", hidden_seed(cheat.report))["hidden_numbers"] if x in fb)
    assert not numbers, f"hidden inputs or expected values in the feedback: {numbers[:5]}"


@pytest.mark.parametrize("attack", [a for a in A.ATTACKS if a.klass == 8], ids=lambda a: a.name)
def test_delegation_to_forbidden_modules_earns_nothing(cheat, reference, attack):
    key = _key(cheat, attack.name)
    e = cheat.entry(key)
    assert e is not None, cheat.describe()
    stub = points_by_test(ref_entry(reference, "stub", "ex01"))
    got = points_by_test(e)
    # delegate_autodiff writes sigma honestly and hands only forward to course.autodiff
    delegated = (("test_forward",) if attack.name == "delegate_autodiff"
                 else ("test_sigma", "test_layer", "test_forward"))
    over = {g: got.get(g) for g in delegated if got.get(g, 0) > stub.get(g, 0)}
    assert not over, f"{attack.what}: {over}"
    if attack.name == "delegate":
        fb = cheat.feedback(key) or ""
        assert "not available" in fb and ("course.mlp" in fb or "course.activations" in fb), fb[:1500]


def test_network_is_unreachable(cheat, ctx):
    got = [(kind, data[:80]) for kind, data in ctx.listeners.received if ctx.marker.encode() in data]
    assert not got, f"the kernel reached the test's listeners: {got}"


# ------------------------------------------------------------------ the hostile batch: classes 4, 5, 9 and others
def test_hostile_batch_completes(hostile):
    assert not _complete(hostile), (_complete(hostile), hostile.describe())


def test_hostile_batch_runs_in_the_sandbox(hostile):
    assert not _not_sandboxed(hostile)


def test_hostile_batch_neighbours_are_unchanged(hostile, reference):
    assert not _neighbour_changes(hostile, reference)


@pytest.mark.parametrize("attack", A.HOSTILE, ids=lambda a: f"c{a.klass}-{a.name}")
def test_hostile_submission_earns_no_more_than_the_stub(hostile, reference, attack):
    e = hostile.entry(_key(hostile, attack.name))
    assert e is not None, hostile.describe()
    assert float(e.get("points", 0)) <= _stub_points(reference, attack.exercise)


def test_no_process_outlives_the_batch(hostile):
    assert not hostile.left_processes, hostile.left_processes[:10]


def test_no_ipc_object_outlives_the_batch(hostile):
    assert not hostile.left_ipc, hostile.left_ipc


def test_no_file_outlives_the_batch(hostile):
    assert not hostile.left_files and not hostile.left_scratch, (hostile.left_files, hostile.left_scratch[:10])


def test_a_later_batch_is_not_affected(hostile, reference):
    later = hostile.later
    assert not _complete(later), later.describe()
    assert not _neighbour_changes(later, reference)


def test_scratch_disk_is_bounded(hostile):
    e = hostile.entry(_key(hostile, "disk"))
    assert e is not None
    written = [float(m) for c in entry_cases(e) if c.get("function") == "half_mse"
               for m in re.findall(r"got ([0-9.]+)", c.get("message") or "")]
    if written:  # the kernel reports how many MiB it could write (2560: every write succeeded)
        assert max(written) < 2048, f"a kernel wrote {max(written):.0f} MiB to its scratch directory"


def test_tarpit_is_bounded(hostile):
    e = hostile.entry(_key(hostile, "tarpit"))
    assert e is not None
    seconds = e.get("seconds")
    if seconds is not None:
        assert float(seconds) < 5 * TIMEOUT + 60


# ------------------------------------------------------------------ class 6: files that try to stop the batch
@pytest.mark.parametrize("name", list(A.MALFORMED))
def test_one_submission_cannot_stop_the_batch(malformed, reference, name):
    batch = malformed[name]
    problems = _complete(batch)
    assert not problems, (problems, batch.describe())
    assert batch.seconds < CASE_LIMIT
    assert not _neighbour_changes(batch, reference)
    e = batch.entry(f"x-{name}")
    assert float(e.get("points", 0)) <= _stub_points(reference, "ex01")
    assert e.get("status") in ("graded", "error")
    assert not batch.left_scratch, batch.left_scratch[:5]
