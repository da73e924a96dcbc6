"""The grading sandbox: each submission's kernel runs under bubblewrap, by allowlist.

bubblewrap (``bwrap``, Debian/Ubuntu package ``bubblewrap``) starts the kernel in a new,
empty root file system into which only what it needs is mounted:

* read-only: the system's programs and libraries (``/usr``, ``/bin``, ``/lib``...), a few
  files of ``/etc`` the dynamic linker needs, the Python installation and its packages,
  and a copy of the ``course`` package made for the exercise (without the modules the
  exercise forbids);
* read-write: ``/scratch`` (the kernel's working directory, HOME and TMPDIR), ``/tmp`` and
  ``/dev/shm``, each a size-limited tmpfs that disappears with the sandbox;
* nothing else: not the repository (no ``.git``, no ``solutions/``), not the other
  submissions, not the grader's reports or temporary files.

It has its own PID, IPC, UTS, network (no interface but a down loopback) and user
namespaces (or, when the grader runs as root, a user id of its own instead of a user
namespace, so that the process limit applies), a new session, no capabilities and
``no_new_privs``. bubblewrap kills the whole sandbox when the grader closes it or dies
(``--die-with-parent``; every process of the sandbox is in its PID namespace, which ends
with its first process), and SysV IPC objects and shared memory go with the IPC
namespace. Resource limits (:class:`Limits`) are set by the kernel process itself before
any student code runs; a student's process cannot raise them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Limits", "SandboxUnavailable", "bwrap_command", "check_available", "describe"]

#: where things appear inside the sandbox
SCRATCH = "/scratch"
LIB = "/opt/course-lib"
MPL_CACHE = "/opt/mpl-cache"

_SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]
_ETC_FILES = ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/nsswitch.conf",
              "/etc/alternatives"]
#: user ids for kernels when the grader runs as root (one per job slot; see bwrap_command)
ROOT_UID_BASE = 61000


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this system."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use.

    memory_mb: address space of each process (RLIMIT_AS); processes: processes and threads
    of the submission together (RLIMIT_NPROC); cpu_s: CPU seconds of each process
    (RLIMIT_CPU); scratch_mb: size of /scratch (and of /tmp, /dev/shm); output_mb: the
    largest file it may write, its printed output included (RLIMIT_FSIZE).
    """

    memory_mb: int = 4096
    processes: int = 64
    cpu_s: int = 300
    scratch_mb: int = 256
    output_mb: int = 16

    def rlimits(self) -> dict[str, int]:
        """The resource limits the kernel sets on itself before running student code."""
        mib = 1024 * 1024
        return {"RLIMIT_AS": self.memory_mb * mib if self.memory_mb else -1, "RLIMIT_NPROC": self.processes,
                "RLIMIT_CPU": self.cpu_s, "RLIMIT_FSIZE": self.output_mb * mib, "RLIMIT_CORE": 0}


def _bwrap() -> str | None:
    return shutil.which("bwrap")


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _python_roots() -> list[str]:
    """The directories of the Python installation: the environment and the base interpreter."""
    roots = []
    for p in (sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix):
        real = os.path.realpath(p)
        for q in (p, real):
            if q not in roots and os.path.isdir(q):
                roots.append(q)
    exe_dir = os.path.dirname(os.path.realpath(sys.executable))
    if not any(Path(exe_dir).is_relative_to(r) for r in roots):
        roots.append(exe_dir)
    return roots


def _parents(path: str) -> list[str]:
    parts = Path(path).parts[1:-1]
    return ["/" + "/".join(parts[:i + 1]) for i in range(len(parts))]


def bwrap_command(argv: list[str], lib_dir: Path, limits: Limits, hide: list[Path] = (), slot: int = 0,
                  mpl_cache: Path | None = None) -> list[str]:
    """The command that runs ``argv`` inside a fresh sandbox (see the module docstring).

    ``lib_dir`` is mounted read-only at :data:`LIB`; every path in ``hide`` that lies inside
    a mounted directory (the real ``course`` package or the solutions, when the Python
    installation holds them) is covered by an empty directory. ``slot`` picks the user id
    when the grader runs as root (two submissions graded at once need two ids, since the
    process limit counts per user).
    """
    bwrap = _bwrap()
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    mib = 1024 * 1024
    size = str(limits.scratch_mb * mib)
    cmd = [bwrap, "--die-with-parent", "--new-session", "--unshare-pid", "--unshare-ipc", "--unshare-net",
           "--unshare-uts", "--unshare-cgroup-try", "--hostname", "grading"]
    for d in _SYSTEM_DIRS:
        if os.path.islink(d):
            cmd += ["--symlink", os.readlink(d), d]
        elif os.path.isdir(d):
            cmd += ["--ro-bind", d, d]
    for f in _ETC_FILES:
        cmd += ["--ro-bind-try", f, f]
    # the writable tmpfs first: a Python installation under /tmp (a clone in /tmp, say) is bound on top
    cmd += ["--proc", "/proc", "--dev", "/dev"]
    for where in (SCRATCH, "/tmp", "/dev/shm"):
        cmd += ["--size", size, "--perms", "1777", "--tmpfs", where]
    mounts = _python_roots()
    made: set[str] = {"/tmp", "/dev"}
    for target in mounts + [LIB, MPL_CACHE]:
        for parent in _parents(target):
            if parent not in made and not any(parent == d or parent.startswith(d + "/") for d in _SYSTEM_DIRS):
                cmd += ["--perms", "0755", "--dir", parent]
                made.add(parent)
    for root in mounts:
        cmd += ["--ro-bind", root, root]
    for path in hide:
        real = os.path.realpath(path)
        if os.path.isdir(real) and any(Path(real).is_relative_to(r) for r in mounts):
            cmd += ["--perms", "0555", "--tmpfs", real]
    cmd += ["--ro-bind", str(lib_dir), LIB]
    if mpl_cache is not None and mpl_cache.is_dir():
        cmd += ["--ro-bind", str(mpl_cache), MPL_CACHE]
    cmd += ["--chdir", SCRATCH]
    if _is_root():
        uid = str(ROOT_UID_BASE + (os.getpid() % 500) * 8 + slot % 8)
        setpriv = shutil.which("setpriv") or "/usr/bin/setpriv"
        cmd += ["--", setpriv, "--reuid", uid, "--regid", uid, "--clear-groups", "--bounding-set", "-all",
                "--inh-caps", "-all", "--no-new-privs"]
    else:
        cmd += ["--unshare-user", "--cap-drop", "ALL", "--"]
    return cmd + list(argv)


_AVAILABLE: dict[str, str | None] = {}


def check_available() -> None:
    """Raise :class:`SandboxUnavailable`, saying why and what to do, unless a sandbox starts here."""
    if "why" not in _AVAILABLE:
        _AVAILABLE["why"] = _probe()
    if _AVAILABLE["why"]:
        raise SandboxUnavailable(_AVAILABLE["why"])


def _probe() -> str | None:
    if sys.platform != "linux":
        return f"the grading sandbox needs Linux (bubblewrap); this is {sys.platform}"
    if _bwrap() is None:
        return "bubblewrap (bwrap) is not installed; on Debian or Ubuntu: sudo apt-get install bubblewrap"
    if _is_root() and not (shutil.which("setpriv") or os.path.exists("/usr/bin/setpriv")):
        return "running as root needs setpriv (util-linux) to give each kernel a user id of its own"
    lib = Path(os.path.dirname(__file__))  # any directory will do for the probe
    cmd = bwrap_command([sys.executable, "-I", "-c", "print('ok')"], lib, Limits())
    try:
        out = subprocess.run(cmd, capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"bubblewrap could not be started ({exc})"
    if out.returncode != 0 or out.stdout.strip() != b"ok":
        err = out.stderr.decode(errors="replace").strip().splitlines()
        return (f"bubblewrap cannot create a sandbox here ({err[-1] if err else 'exit ' + str(out.returncode)}); "
                f"user namespaces may be disabled (e.g. in a locked-down container)")
    return None


def describe(limits: Limits) -> str:
    """One line for the report: how a submission was isolated."""
    who = "own user id" if _is_root() else "own user namespace"
    return (f"bubblewrap: own PID, IPC, UTS and network namespaces, {who}, no capabilities; read-only system and "
            f"Python, only the exercise's course modules; {limits.scratch_mb} MiB scratch; at most "
            f"{limits.processes} processes, {limits.memory_mb} MiB memory each, {limits.output_mb} MiB output")
