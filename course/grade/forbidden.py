"""Modules of ``course`` an exercise may not use: ``forbid("course.mlp", exercise="ex01")``.

An exercise that asks for the forward pass is not answered by calling ``course.MLP``. The
solution notebook lists what it forbids in its metadata (``"course": {"forbidden":
["course.mlp", "course.activations"]}``) and its locked set-up cell calls :func:`forbid`
with the same names.

* When grading, the rule is enforced: the copy of ``course`` mounted in the sandbox holds,
  in place of each forbidden module, a stub (:func:`stub_source`) that raises
  ``ImportError`` with :func:`message`; the real code is not there to be found.
* In the notebook, the test cells themselves use the library to compute expected values,
  so nothing is blocked there; instead :func:`course.grade.check` watches each call of the
  student's function (:func:`watching`) and fails a case whose call ran code of a
  forbidden module, with the same message, so the student learns it before submitting.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys

__all__ = ["forbid", "forbidden", "message", "stub_source", "module_file", "watching"]

_RULE: dict = {"modules": (), "exercise": ""}


def message(module: str, exercise: str = "") -> str:
    """What a student reads when the code uses a forbidden module."""
    which = f"exercise {exercise}" if exercise else "this exercise"
    return (f"{module} is not available in {which}: the exercise asks you to write this part yourself "
            f"(with NumPy), so the library's version cannot be used")


def forbid(*modules: str, exercise: str = "") -> None:
    """Declare the ``course`` modules this notebook's answers may not use.

    Args:
        modules: dotted names inside the course package, e.g. ``"course.mlp"``.
        exercise: the exercise id, named in the message.
    """
    for m in modules:
        if not isinstance(m, str) or not m.startswith("course.") or m.startswith("course.grade"):
            raise ValueError(f"forbid: modules must be course.<module> names (not course.grade), got {m!r}")
    _RULE["modules"], _RULE["exercise"] = tuple(modules), exercise


def forbidden() -> tuple[tuple[str, ...], str]:
    """(modules, exercise) as declared by :func:`forbid` in this kernel."""
    return _RULE["modules"], _RULE["exercise"]


def _locations(modules) -> dict[str, str]:
    """file or package directory -> module name, for the modules that can be found."""
    out = {}
    for m in modules:
        try:
            spec = importlib.util.find_spec(m)
        except (ImportError, ValueError):
            continue
        if spec is None or not spec.origin:
            continue
        origin = os.path.realpath(spec.origin)
        out[os.path.dirname(origin) + os.sep if spec.submodule_search_locations else origin] = m
    return out


@contextlib.contextmanager
def watching():
    """Record in the yielded list each forbidden module whose code runs inside the block."""
    used: list[str] = []
    places = _locations(_RULE["modules"])
    if not places:
        yield used
        return
    seen: dict[str, str | None] = {}

    def profile(frame, event, arg):
        if event != "call":
            return
        filename = frame.f_code.co_filename
        if filename not in seen:
            real = os.path.realpath(filename)
            seen[filename] = next((m for p, m in places.items() if real == p or real.startswith(p)), None)
        if seen[filename] and seen[filename] not in used:
            used.append(seen[filename])

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield used
    finally:
        sys.setprofile(previous)


def module_file(module: str) -> str:
    """The file of ``module`` relative to the package's parent: ``course.mlp`` -> ``course/mlp.py``."""
    return module.replace(".", "/") + ".py"


def stub_source(module: str, exercise: str) -> str:
    """The source of the stub that stands in for a forbidden module in the sandbox."""
    return f'"""Not available in exercise {exercise}."""\n\nraise ImportError({message(module, exercise)!r})\n'
