"""The grading kernel: runs a submission's cells and calls its functions on request.

Started by the grader, inside the sandbox (:mod:`course.grade.sandbox`), as
``python -I -B <copy of the library>/course/grade/runner.py``. The first line it reads is
its configuration (JSON); then it reads one JSON request per line and answers one JSON
line per request on a private copy of its stdout:

    {"op": "exec", "id": ..., "cell": "cell forward", "source": "...",
     "locked": false}                                                   -> {"id", "status", "message"}
    {"op": "call", "id": ..., "fn": "forward", "args": [...],
     "kwargs": {...}, "store": null}                                    -> {"id", "status", "value", "message"}

Nothing here is trusted by the grader: the student's code runs in this process and can
change any of it, or write its own answers to the pipe. That is why the grader decides
every case from the *values* it receives, compared in its own process (see
:mod:`course.grade.scoring`). The student's ``print`` goes to the grader's log file, and
``input()`` reads from ``/dev/null``.

What the instructor's (locked) cells bind is put back into the namespace before every
call, so that a test that calls a locked helper runs the instructor's helper, not one an
answer cell defined under the same name.
"""

import json
import linecache
import os
import resource
import shutil
import signal
import sys
import types


def _limit_resources(rlimits: dict) -> None:
    """Set hard limits the student's code cannot raise again (see sandbox.Limits)."""
    for name, value in rlimits.items():
        if value is None or value < 0:
            continue
        kind = getattr(resource, name)
        try:
            resource.setrlimit(kind, (value, value))
        except (ValueError, OSError):  # above the current hard limit: keep the lower one
            pass
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large write fails with EFBIG instead
    try:  # if memory runs out on the machine, the kernel's processes are the first the system stops
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:
        pass


def _copy_font_cache(src: str, dest: str) -> None:
    """matplotlib's font list, so that a plot in a cell does not rebuild it (seconds)."""
    try:
        os.makedirs(dest, exist_ok=True)
        for name in os.listdir(src):
            if name.startswith("fontlist") and name.endswith(".json"):
                shutil.copyfile(os.path.join(src, name), os.path.join(dest, name))
    except OSError:
        pass


def main():
    requests = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    config = json.loads(requests.readline())
    reply_fd = os.dup(1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # print() goes to the grader's log, never into the answers

    def reply(obj):
        data = (json.dumps(obj, allow_nan=True, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(reply_fd, view)
            view = view[n:]

    _limit_resources(config.get("rlimits", {}))
    if config.get("mpl_cache"):
        _copy_font_cache(config["mpl_cache"], os.environ.get("MPLCONFIGDIR", ".mpl"))
    sys.path.insert(0, config["lib"])
    import numpy  # noqa: F401  (warm import: most exercises need it, and timing should not count it)

    from course.grade.calls import Outcome, call, missing_ref_message, short_error
    from course.grade.cases import MissingRef, decode

    main_module = types.ModuleType("__main__")
    ns = main_module.__dict__
    ns["display"] = lambda *objs, **kw: None  # IPython's builtin; plots and tables are not graded
    sys.modules["__main__"] = main_module
    refs = {}
    locked = {}  # name -> object, as the instructor's cells left them
    reply({"id": "ready", "status": "ok", "message": ""})
    for line in requests:
        try:
            req = json.loads(line)
        except ValueError:
            continue
        rid = req.get("id")
        if req.get("op") == "exec":
            try:
                filename = f"<{req['cell']}>"
                linecache.cache[filename] = (len(req["source"]), None, req["source"].splitlines(True), filename)
                before = dict(ns) if req.get("locked") is True else None
                try:
                    exec(compile(req["source"], filename, "exec"), ns)
                finally:
                    if before is not None:  # remember what the instructor's cell bound
                        locked.update((k, v) for k, v in ns.items() if k not in before or before[k] is not v)
                out = {"status": "ok", "message": ""}
            except MemoryError:  # what it allocated may still be referenced: start again without it
                out = {"status": "error", "restart": True,
                       "message": f"{req['cell']} ran out of memory (MemoryError); it was skipped"}
            except BaseException as exc:  # SystemExit too: one cell's exit does not end the kernel
                out = {"status": "error", "message": short_error(exc, req["cell"])}
            reply({"id": rid, **out})
        elif req.get("op") == "call":
            try:
                args, kwargs = decode(req["args"], refs), decode(req["kwargs"], refs)
            except MissingRef as exc:  # a Ref to a name no earlier case stored
                outcome = Outcome("skipped", message=missing_ref_message(str(exc.args[0])))
            else:
                ns.update(locked)
                outcome = call(ns, refs, req["fn"], args, kwargs, req.get("store"))
            try:
                reply({"id": rid, **outcome.to_json()})
            except (TypeError, ValueError, RecursionError) as exc:
                reply({"id": rid, "status": "not_numbers", "value": None, "message": str(exc)[:200]})
        elif req.get("op") == "bye":
            break
    os._exit(0)


if __name__ == "__main__":
    main()
