"""Best-effort isolation of a grading kernel with Linux namespaces (no root needed).

The grader starts the kernel as ``unshare --user --map-root-user --mount --net --pid
--fork --mount-proc --kill-child python -I runner.py``: a private mount table, an empty
network and a private process table. :func:`enter` then runs in the kernel *before any
student code*:

1. the scratch directory becomes its own (writable) mount;
2. the directories to hide (the solutions, the batch's scratch root) are covered by empty
   tmpfs file systems and the files to hide (the original submissions) by ``/dev/null``,
   the own scratch directory being bound back into the covered scratch root;
3. every other mount is remounted read-only;
4. every capability is dropped and ``no_new_privs`` set, so the student's code cannot
   unmount the covers or gain privileges by executing a program.

Where namespaces are not available the grader runs the kernel without them (the report
says ``sandbox: off``); everything else (fresh scratch directory, limits, plain-number
answers compared outside the kernel) still holds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from pathlib import Path

__all__ = ["unshare_prefix", "enter"]

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME = 1024, 2048, 1 << 21, 1 << 24
PR_SET_NO_NEW_PRIVS, PR_CAPBSET_DROP = 38, 24
_OPTION_FLAGS = {"nosuid": MS_NOSUID, "nodev": MS_NODEV, "noexec": MS_NOEXEC, "noatime": MS_NOATIME,
                 "nodiratime": MS_NODIRATIME, "relatime": MS_RELATIME}

_PROBE: dict[str, list[str] | None] = {}


def unshare_prefix() -> list[str] | None:
    """The command prefix that starts a process in fresh namespaces, or None where it fails."""
    if "prefix" in _PROBE:
        return _PROBE["prefix"]
    prefix = None
    exe = shutil.which("unshare")
    if exe and os.name == "posix":
        cmd = [exe, "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--mount-proc",
               "--kill-child"]
        try:
            ok = subprocess.run(cmd + ["true"], capture_output=True, timeout=10).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        prefix = cmd if ok else None
    _PROBE["prefix"] = prefix
    return prefix


def _libc():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    return libc


def _mount(libc, source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(str(s))  # noqa: E731
    if libc.mount(enc(source), enc(target), enc(fstype), flags, enc(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount {source} on {target}: {os.strerror(err)}")


def _mounts() -> list[tuple[str, set[str]]]:
    out = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            parts = line.split()
            target = parts[4].encode().decode("unicode_escape")
            out.append((target, set(parts[5].split(","))))
    return out


def enter(scratch: str, hide_dirs: list[str], hide_files: list[str], scratch_root: str | None) -> list[str]:
    """Set up the mounts and drop privileges; returns notes on what could not be hidden."""
    libc = _libc()
    notes = []
    _mount(libc, None, "/", None, MS_REC | MS_PRIVATE)
    scratch = os.path.realpath(scratch)
    _mount(libc, scratch, scratch, None, MS_BIND | MS_REC)
    keep = [os.path.realpath(p) for p in (scratch,)]
    if scratch_root:
        root = os.path.realpath(scratch_root)
        fd = os.open(scratch, os.O_RDONLY | os.O_DIRECTORY)
        _mount(libc, "tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
        os.makedirs(scratch, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{fd}", scratch, None, MS_BIND | MS_REC)
        os.close(fd)
        os.chdir(scratch)
    for d in hide_dirs:
        d = os.path.realpath(d)
        if not os.path.isdir(d):
            continue
        if any(Path(k).is_relative_to(d) for k in keep):
            notes.append(f"not hidden (holds the kernel's own files): {d}")
            continue
        _mount(libc, "tmpfs", d, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k,mode=555")
    for f in hide_files:
        f = os.path.realpath(f)
        if os.path.isfile(f):
            try:
                _mount(libc, "/dev/null", f, None, MS_BIND)
            except OSError as exc:
                notes.append(str(exc))
    scratch_mounts = {scratch}
    for target, opts in _mounts():
        if target in scratch_mounts or target.startswith(scratch + "/") or target.startswith("/proc"):
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for opt, bit in _OPTION_FLAGS.items():
            if opt in opts:
                flags |= bit
        try:
            _mount(libc, None, target, None, flags)
        except OSError as exc:  # a mount we may not touch stays as it is; the covers are in place
            notes.append(f"could not make {target} read-only ({exc.strerror})")
    _drop_privileges(libc)
    return notes


def _drop_privileges(libc):
    """Give up every capability (bounding, effective, permitted, inheritable) and set no_new_privs."""
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)

    class Header(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class Data(ctypes.Structure):
        _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                    ("inheritable", ctypes.c_uint32)]

    header = Header(0x20080522, 0)
    data = (Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")
