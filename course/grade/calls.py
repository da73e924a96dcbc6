"""Calling a student's function for one case, and judging the answer.

:func:`call` runs wherever the student's code lives (the notebook's own kernel for
feedback, the grading kernel for the grader) and returns an :class:`Outcome` holding plain
numbers; :func:`judge` turns an outcome into passed/failed with a message, and runs in
the grader's process when grading.
"""

from __future__ import annotations

import linecache
from dataclasses import dataclass
from typing import Any

from course.grade.cases import Case, NotNumbers, as_numbers, compare, first_nonfinite, to_plain

__all__ = ["Outcome", "call", "judge", "lookup", "missing_ref_message", "raising_function", "short_error",
           "expected_value_plain"]


@dataclass
class Outcome:
    """What one call produced: ``status`` is ok, stored, not_implemented, error, not_numbers,
    missing, timeout, crashed or skipped; ``value`` holds plain numbers when ok."""

    status: str
    value: Any = None
    message: str = ""

    def to_json(self) -> dict:
        return {"status": self.status, "value": self.value, "message": self.message}


def lookup(namespace: dict, refs: dict, fn: str):
    """The callable named ``fn``: a global of the student's namespace, or ``@stored.method``."""
    if fn.startswith("@"):
        ref, _, method = fn[1:].partition(".")
        obj = refs[ref]
        return getattr(obj, method) if method else obj
    if fn not in namespace:
        raise LookupError(fn)
    return namespace[fn]


def missing_ref_message(name: str, failed: bool = False, advice: str = "") -> str:
    """Why a case that needs the stored object ``name`` was not run."""
    if failed:
        return f"not run: it needs {name!r}, which an earlier test could not produce"
    return f"not run: it needs {name!r}, which no earlier test has stored" + (f" ({advice})" if advice else "")


def _notebook_entries(exc: BaseException, namespace: dict | None = None) -> list:
    """The traceback entries of ``exc`` in the notebook's own code, outermost first.

    Notebook code is code whose globals are the notebook's namespace: ``__main__`` in
    Jupyter and in the grading kernel, or ``namespace``.
    """
    entries = []
    tb = exc.__traceback__
    while tb is not None:
        g = tb.tb_frame.f_globals
        if (namespace is not None and g is namespace) or g.get("__name__") == "__main__":
            entries.append(tb)
        tb = tb.tb_next
    return entries


def raising_function(exc: BaseException, namespace: dict | None = None) -> str | None:
    """The qualified name of the innermost notebook function in ``exc``'s traceback, or None.

    That is the student's function that raised, even when the test called it through a
    locked helper (module-level cell code does not count).
    """
    codes = [tb.tb_frame.f_code for tb in _notebook_entries(exc, namespace)]
    functions = [c for c in codes if c.co_name != "<module>"]
    return getattr(functions[-1], "co_qualname", functions[-1].co_name) if functions else None


def short_error(exc: BaseException, fn: str, namespace: dict | None = None) -> str:
    """The exception in one line, with the student's line where it happened.

    ``sigma raised TypeError: only integer scalar arrays ... (cell sigma, line 5: return
    np.max(0, z))`` when grading, ``(in sigma, line 5: ...)`` in a notebook, where the
    cell's file name means nothing to a student.
    """
    entries = _notebook_entries(exc, namespace)
    where = ""
    if entries:
        tb = entries[-1]
        code, lineno = tb.tb_frame.f_code, tb.tb_lineno
        text = linecache.getline(code.co_filename, lineno).strip()[:80]
        if code.co_filename.startswith("<") and code.co_filename.endswith(">"):
            label = code.co_filename[1:-1]
        else:
            label = "in " + getattr(code, "co_qualname", code.co_name)
        where = f" ({label}, line {lineno}" + (f": {text})" if text else ")")
    text = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else ""
    return f"{fn} raised {type(exc).__name__}" + (f": {text}" if text else "") + where


def call(namespace: dict, refs: dict, fn: str, args, kwargs, store: str | None = None) -> Outcome:
    """Call ``fn(*args, **kwargs)`` in the student's namespace; never raises."""
    label = fn.lstrip("@")
    if fn.startswith("@") and fn[1:].partition(".")[0] not in refs:
        return Outcome("skipped", message=missing_ref_message(fn[1:].partition(".")[0]))
    try:
        func = lookup(namespace, refs, fn)
    except (LookupError, AttributeError):
        return Outcome("missing", message=f"your notebook does not define {label} "
                                          f"(run the cell that defines it, and keep its name)")
    if not callable(func):
        return Outcome("missing", message=f"{label} is {type(func).__name__}, not a function")
    try:
        result = func(*args, **kwargs)
    except NotImplementedError as exc:
        who = raising_function(exc, namespace) or label
        return Outcome("not_implemented", message=f"not implemented yet: {who} still raises "
                                                  f"NotImplementedError (replace it with your code)")
    except BaseException as exc:  # SystemExit and KeyboardInterrupt too: the student's code raised it
        return Outcome("error", message=short_error(exc, label, namespace))
    if store:
        refs[store] = result
        return Outcome("stored")
    try:
        return Outcome("ok", value=to_plain(result))
    except NotNumbers as exc:
        return Outcome("not_numbers", message=f"{label} returned {exc}")
    except BaseException as exc:
        return Outcome("not_numbers", message=f"{label} returned something that could not be "
                                              f"converted to numbers ({type(exc).__name__}: {exc})")


def judge(case: Case, outcome: Outcome, expected_plain) -> tuple[bool, str]:
    """(passed, message) for a case, decided from the returned values alone.

    What the kernel says about a call counts only as far as it can be checked here: a
    ``store`` case passes when the object was stored, every other case needs numbers
    (``ok``) that match ``expected_plain`` (from :func:`expected_value_plain`) or pass the
    case's property ``test``. NaN and infinity fail unless the case allows them.
    """
    if case.store:
        if outcome.status == "stored":
            return True, ""
        return False, outcome.message or f"the object was not created ({outcome.status})"
    if outcome.status != "ok":
        return False, outcome.message or f"no answer ({outcome.status})"
    if not case.allow_nonfinite:
        bad = first_nonfinite(outcome.value)
        if bad:
            return False, bad
    if case.test is not None:
        try:
            msg = case.test(as_numbers(outcome.value))
        except Exception as exc:  # the property check could not digest the answer
            msg = f"the answer could not be checked ({type(exc).__name__}: {str(exc)[:200]})"
        if msg is not None and not isinstance(msg, str):
            msg = f"the test returned {type(msg).__name__}, not a message (an instructor's bug)"
    else:
        msg = compare(outcome.value, expected_plain, case.rtol, case.atol, case.shape)
    if msg is not None and case.hint:
        msg = f"{msg}. Hint: {case.hint}"
    return msg is None, msg or ""


def expected_value_plain(case: Case):
    """The case's expected value as plain numbers, from the case alone (None for property and
    store cases); what the grader compares with."""
    if case.test is not None or case.store:
        return None
    return to_plain(case.expected_value())
