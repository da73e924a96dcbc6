"""Modules of ``course`` an exercise may not use: ``forbid("course.mlp", exercise="ex01")``.

An exercise that asks for the forward pass is not answered by calling ``course.MLP``. The
solution notebook lists what it forbids in its metadata (``"course": {"forbidden":
["course.mlp", "course.activations"]}``) and its locked set-up cell calls :func:`forbid`
with the same names, so that the student meets the rule while working: importing such a
module then raises ``ImportError`` with :func:`message`.

When grading, the rule is enforced, not just announced: the copy of ``course`` mounted in
the sandbox holds, in place of each forbidden module, a stub (:func:`stub_source`) that
raises the same ``ImportError``; the real code is not there to be found.
"""

from __future__ import annotations

import importlib.abc
import sys

__all__ = ["forbid", "message", "stub_source", "module_file"]


def message(module: str, exercise: str = "") -> str:
    """What a student reads when the code imports a forbidden module."""
    which = f"exercise {exercise}" if exercise else "this exercise"
    return (f"{module} is not available in {which}: the exercise asks you to write this part yourself "
            f"(with NumPy), so the library's version cannot be used")


class _Blocker(importlib.abc.MetaPathFinder):
    """An import hook that refuses the forbidden modules with :func:`message`."""

    def __init__(self, modules: set[str], exercise: str):
        self.modules, self.exercise = modules, exercise

    def find_spec(self, name, path=None, target=None):
        if name in self.modules or any(name.startswith(m + ".") for m in self.modules):
            raise ImportError(message(name, self.exercise), name=name)
        return None


def forbid(*modules: str, exercise: str = "") -> None:
    """Make ``import`` of each of ``modules`` fail in this kernel with a clear message.

    Args:
        modules: dotted names inside the course package, e.g. ``"course.mlp"``.
        exercise: the exercise id, named in the message.
    """
    for m in modules:
        if not isinstance(m, str) or not m.startswith("course.") or m.startswith("course.grade"):
            raise ValueError(f"forbid: modules must be course.<module> names (not course.grade), got {m!r}")
    blocked = set(modules)
    sys.meta_path[:] = [f for f in sys.meta_path if not isinstance(f, _Blocker)]
    sys.meta_path.insert(0, _Blocker(blocked, exercise))
    package = sys.modules.get("course")
    for name in list(sys.modules):
        if name in blocked or any(name.startswith(m + ".") for m in blocked):
            del sys.modules[name]
            short = name.split(".")[1] if name.count(".") == 1 else None
            if package is not None and short and short in vars(package):
                delattr(package, short)


def module_file(module: str) -> str:
    """The file of ``module`` relative to the package's parent: ``course.mlp`` -> ``course/mlp.py``."""
    return module.replace(".", "/") + ".py"


def stub_source(module: str, exercise: str) -> str:
    """The source of the stub that stands in for a forbidden module in the sandbox."""
    return f'"""Not available in exercise {exercise}."""\n\nraise ImportError({message(module, exercise)!r})\n'
