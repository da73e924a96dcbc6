"""The grader's side of the kernel protocol: start a kernel, send requests, read answers.

One JSON line per request and per answer (see :mod:`course.grade.runner`). Answers are
read with bounds everywhere, since the other end runs student code: a line longer than
:data:`MAX_ANSWER_BYTES` ends the kernel, a line that is not JSON, or not an answer to the
request just sent (its random id), is ignored, and JSON that is nested too deeply or holds
absurd numbers is turned into a "not numbers" answer instead of an exception.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import subprocess
import time
from pathlib import Path

__all__ = ["Kernel", "KernelDied", "KernelTimeout", "parse_answer", "MAX_ANSWER_BYTES"]

#: the longest answer line the grader reads (a 1000 x 1000 float array is about 20 MiB)
MAX_ANSWER_BYTES = 64 * 1024 * 1024


class KernelDied(Exception):
    """The kernel process ended, or sent more than the grader reads."""


class KernelTimeout(Exception):
    """No answer within the time allowed."""


def _number(text: str):
    return int(text) if len(text) <= 30 else float(text)


def parse_answer(line: bytes, rid: str) -> dict | None:
    """The answer to request ``rid`` in ``line``, or None when the line is not that answer.

    A line that names ``rid`` but cannot be parsed safely (nested thousands deep, say)
    becomes ``{"status": "not_numbers", ...}``: the request has been answered, badly.
    """
    try:
        msg = json.loads(line, parse_int=_number)
    except (ValueError, RecursionError, MemoryError):
        if rid.encode() in line:
            return {"id": rid, "status": "not_numbers", "value": None,
                    "message": "the answer could not be read (too deeply nested or not numbers)"}
        return None
    if isinstance(msg, dict) and msg.get("id") == rid:
        return msg
    return None


class Kernel:
    """One kernel process: ``request`` sends a JSON request and waits for its answer.

    ``argv`` starts the runner (inside the sandbox or not); its stdout is the answer
    channel, its stderr (the student's printed output) goes to ``log``, a file of the
    grader's own that the sandbox cannot see.
    """

    def __init__(self, argv: list[str], env: dict, cwd: Path, log: Path, config: dict):
        with open(log, "ab") as log_file:
            self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log_file, start_new_session=True)
        self.log = log
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
            if len(self.buffer) > MAX_ANSWER_BYTES:
                raise KernelDied("an answer longer than the grader reads")
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line

    def wait_for(self, rid: str, deadline: float) -> dict:
        while True:
            answer = parse_answer(self._read_line(deadline), rid)
            if answer is not None:
                return answer

    def request(self, obj: dict, timeout: float) -> dict:
        rid = secrets.token_hex(8)
        self._send({**obj, "id": rid})
        return self.wait_for(rid, time.monotonic() + timeout)

    def close(self):
        """Kill the kernel and everything it started (the sandbox goes with it)."""
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
            self.proc.kill()

    def exit_description(self) -> str:
        try:  # the pipe closes a moment before the process is reaped: wait for its exit status
            code = self.proc.wait(timeout=2.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return "the kernel stopped answering"
        if code < 0 or 128 < code < 128 + 65:  # bubblewrap exits with 128 + the signal that killed the kernel
            number = -code if code < 0 else code - 128
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = str(number)
            return f"the kernel was killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
        return f"the kernel exited with code {code} (sys.exit or os._exit?)"

    def out_of_memory(self) -> bool:
        """Whether the last 4 KiB of the kernel's output mention a MemoryError."""
        try:
            with open(self.log, "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 4096))
                return b"MemoryError" in fh.read(4096)
        except OSError:
            return False
