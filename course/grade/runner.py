"""The grading kernel: runs a submission's cells and calls its functions on request.

Started by the grader as ``python -I -B <copy of the library>/course/grade/runner.py``
in a fresh scratch directory. The first line it reads is its configuration (JSON, kept
off the command line so that ``/proc/self/cmdline`` reveals no paths); then it reads one
JSON request per line from the grader and answers one JSON line per request:

    {"op": "exec", "id": ..., "cell": 3, "source": "..."}       -> {"id", "status", "message"}
    {"op": "call", "id": ..., "fn": "forward", "args": [...],
     "kwargs": {...}, "store": null}                              -> {"id", "status", "value", "message"}

Answers hold plain numbers only (see :func:`course.grade.cases.to_plain`). Nothing here
is trusted by the grader: a student's code runs in this process and could change any of
it, which is why the grader validates every answer and compares it in its own process.
The protocol uses private copies of the pipes; the student's ``print`` goes to a log file
and ``input()`` reads from ``/dev/null``.
"""

import json
import linecache
import os
import sys
import types


def _setup(config):
    lib = config["lib"]
    notes = []
    if config.get("sandbox"):
        sys.path.insert(0, lib)
        from course.grade import sandbox

        notes = sandbox.enter(config["scratch"], config["hide_dirs"], config["hide_files"],
                              config.get("scratch_root"))
    import resource
    import signal

    if config.get("memory_mb"):
        limit = int(config["memory_mb"]) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    fsize = int(config.get("fsize_mb", 64)) * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if config.get("cpu_s"):
        cpu = int(config["cpu_s"])
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    os.chdir(config["scratch"])
    if lib not in sys.path:
        sys.path.insert(0, lib)
    return notes


def main():
    requests = os.fdopen(os.dup(0), "rb", buffering=1 << 16)
    config = json.loads(requests.readline())
    reply_fd = os.dup(1)

    def reply(obj):
        data = (json.dumps(obj, allow_nan=True, separators=(",", ":")) + "\n").encode()
        view = memoryview(data)
        while view:
            n = os.write(reply_fd, view)
            view = view[n:]

    try:
        notes = _setup(config)
    except Exception as exc:  # the grader reports it and grades without the sandbox's protection
        reply({"id": "ready", "status": "error", "message": f"{type(exc).__name__}: {exc}"})
        return
    # only now, inside the sandbox's own scratch mount (a file open for writing on "/" would
    # keep "/" from being made read-only)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    log = os.open(os.path.join(config["scratch"], ".kernel.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(null)
    os.close(log)
    import numpy  # noqa: F401  (warm import: most exercises need it, and timing should not count it)

    from course.grade.calls import Outcome, call, missing_ref_message
    from course.grade.cases import decode

    main_module = types.ModuleType("__main__")
    ns = main_module.__dict__
    ns["display"] = lambda *objs, **kw: None  # IPython's builtin; plots and tables are not graded
    sys.modules["__main__"] = main_module
    refs = {}
    reply({"id": "ready", "status": "ok", "message": "; ".join(notes)})
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
                code = compile(req["source"], filename, "exec")
                exec(code, ns)
                out = {"status": "ok", "message": ""}
            except MemoryError:  # what it allocated may still be referenced: start again without it
                out = {"status": "error", "restart": True,
                       "message": f"{req['cell']} ran out of memory (MemoryError); it was skipped"}
            except BaseException as exc:  # SystemExit too: one cell's exit does not end the kernel
                from course.grade.calls import _short_error

                out = {"status": "error", "message": _short_error(exc, req["cell"])}
            reply({"id": rid, **out})
        elif req.get("op") == "call":
            try:
                args = decode(req["args"], refs)
                kwargs = decode(req["kwargs"], refs)
            except KeyError as exc:  # a Ref to a name no earlier case stored
                outcome = Outcome("skipped", message=missing_ref_message(str(exc.args[0])))
            else:
                outcome = call(ns, refs, req["fn"], args, kwargs, req.get("store"))
            try:
                reply({"id": rid, **outcome.to_json()})
            except (TypeError, ValueError) as exc:
                reply({"id": rid, "status": "not_numbers", "value": None, "message": str(exc)})
        elif req.get("op") == "bye":
            break
    os._exit(0)


if __name__ == "__main__":
    main()
