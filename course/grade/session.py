"""One submission's kernel session: run its cells, call its functions, restart after a crash.

A :class:`Session` starts the kernel lazily, runs the program (the cells, see
:func:`course.grade.program.build_program`), and answers :meth:`Session.call` for each
test case. After a timeout or a crash it kills the kernel (with everything the
submission started), skips the cell that caused it, and on the next call starts a fresh
kernel, runs the cells again and replays the set-up calls that had stored objects, so
one infinite loop costs only the tests that depend on it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from course.grade.calls import Outcome
from course.grade.cases import NotNumbers, encode, validate_plain
from course.grade.protocol import Kernel, KernelDied, KernelTimeout

__all__ = ["Session", "Launch", "KernelDied", "KernelTimeout", "MAX_MESSAGE"]

#: how much of a message written by the kernel (student-controlled text) is kept
MAX_MESSAGE = 300
_STATUSES = {"ok", "stored", "not_implemented", "error", "not_numbers", "missing", "skipped"}


@dataclass
class Launch:
    """How to start this submission's kernel: the command, its environment and directory."""

    argv: list[str]
    env: dict
    cwd: Path
    log: Path
    config: dict


def _text(value) -> str:
    """A kernel's message as one short line of text (it is the student's to choose)."""
    text = value if isinstance(value, str) else ""
    text = " ".join(text.split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"


@dataclass
class Session:
    """The kernel of one submission, restarted after a timeout or a crash."""

    launch: Launch
    program: list[tuple[str, str]]
    timeout: float
    deadline: float
    bad_cells: set[int] = field(default_factory=set)
    kernel: Kernel | None = None
    stored: list[dict] = field(default_factory=list)  # successful set-up calls, replayed after a restart
    lost_refs: set[str] = field(default_factory=set)
    cell_notes: dict[int, dict] = field(default_factory=dict)
    restarts: int = 0
    timed_out: bool = False  # something timed out: the grader may retry the submission alone

    def _limit(self) -> float:
        return max(0.0, min(self.timeout, self.deadline - time.monotonic()))

    def kernel_ready(self) -> Kernel:
        while self.kernel is None:
            if self.restarts > 8 or self._limit() <= 0:
                raise KernelTimeout()
            self.restarts += 1
            try:
                kernel = Kernel(self.launch.argv, self.launch.env, self.launch.cwd, self.launch.log,
                                self.launch.config)
            except OSError as exc:
                raise KernelDied(str(exc)) from None
            try:
                ready = kernel.wait_for("ready", time.monotonic() + max(self._limit(), 5.0) + 30.0)
            except (KernelDied, KernelTimeout):
                kernel.close()
                raise KernelDied("the kernel did not start") from None
            if ready.get("status") != "ok":
                kernel.close()
                raise KernelDied(f"the kernel could not start: {_text(ready.get('message'))}")
            self.kernel = kernel
            if self._run_cells():
                self._replay()
        return self.kernel

    def _run_cells(self) -> bool:
        for i, (label, source, locked) in enumerate(self.program):
            if i in self.bad_cells:
                continue
            try:
                answer = self.kernel.request({"op": "exec", "cell": label, "source": source, "locked": locked},
                                             self._limit())
            except (KernelTimeout, KernelDied) as exc:
                timed_out = isinstance(exc, KernelTimeout)
                self.timed_out |= timed_out
                why = f"timed out after {self.timeout:g} s" if timed_out else self._death()
                self.cell_notes[i] = {"cell": label, "status": "timeout" if timed_out else "crashed",
                                      "message": f"{label}: {why}; it was skipped"}
                self.bad_cells.add(i)
                self.kill()
                return False
            if answer.get("status") != "ok":
                self.cell_notes[i] = {"cell": label, "status": "error", "message": _text(answer.get("message"))}
                if answer.get("restart") is True:
                    self.bad_cells.add(i)
                    self.kill()
                    return False
            else:
                self.cell_notes.pop(i, None)
        return True

    def _death(self) -> str:
        why = self.kernel.exit_description()
        return why + (" (out of memory: MemoryError)" if self.kernel.out_of_memory() else "")

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

    def call(self, fn: str, case) -> Outcome:
        """Call ``fn`` with the case's inputs in the kernel; the answer, checked to be plain numbers."""
        label = fn.lstrip("@")
        req = {"op": "call", "fn": fn, "args": encode(case.args), "kwargs": encode(case.kwargs),
               "store": case.store}
        kernel = self.kernel_ready()
        try:
            answer = kernel.request(req, self._limit())
        except KernelTimeout:
            self.timed_out = True
            self.kill()
            return Outcome("timeout", message=f"{label} did not finish within {self.timeout:g} s (an infinite loop?)")
        except KernelDied:
            why = self._death()
            self.kill()
            return Outcome("crashed", message=f"{why} while running {label}")
        status = answer.get("status")
        if status not in _STATUSES:
            return Outcome("error", message="the kernel sent an answer that is not a result")
        if status == "ok":
            try:
                validate_plain(answer.get("value"))
            except NotNumbers as exc:
                return Outcome("not_numbers", message=f"{label} returned {exc}")
            return Outcome("ok", value=answer["value"])
        if status == "stored" and case.store:
            self.stored.append(req)
        return Outcome(status, message=_text(answer.get("message")))
