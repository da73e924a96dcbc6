"""In-notebook feedback: ``check("forward", cases)`` in a test cell.

It calls the student's function on the public cases, right there in the notebook's
kernel, and prints one line per case: passed, or failed with which entry, what came out
and what was expected. It never raises in a student's notebook (a function that still
raises ``NotImplementedError`` is reported as "not implemented yet"), so the exercise
runs top to bottom.

Two other modes:
* under our grader (``COURSE_GRADING=1``) it does nothing: the grader runs the
  instructor's tests itself, from outside the kernel;
* under nbgrader's autograder (``NBGRADER_EXECUTION=autograde``) a failed case raises
  ``AssertionError``, which is how nbgrader scores a test cell;
* inside :func:`recording` (the grader reading the instructor's tests) it only records.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from typing import Callable

from course.grade.calls import call, expected_value_plain, judge, missing_ref_message
from course.grade.cases import Case, fresh_inputs
from course.grade.forbidden import forbidden, message, watching

__all__ = ["check", "recording", "CheckReport", "StoredObjects", "SESSION"]

_local = threading.local()


@contextlib.contextmanager
def recording(sink: Callable[[str, list[Case]], None]):
    """While active, ``check(fn, cases)`` calls ``sink(fn, cases)`` instead of running them."""
    previous = getattr(_local, "sink", None)
    _local.sink = sink
    try:
        yield
    finally:
        _local.sink = previous


class CheckReport:
    """The result of one :func:`check`: ``lines`` as printed, ``passed``/``total`` counts.

    Set-up cases (``store`` with weight 0) are not tests: they are listed as ``set up``
    when the call returned and are left out of the counts.
    """

    def __init__(self, fn: str, results: list[tuple[Case, bool, str]]):
        self.fn, self.results = fn, results
        tests = [ok for case, ok, _ in results if not case.setup]
        self.passed = sum(tests)
        self.total = len(tests)
        self.setup_failed = sum(not ok for case, ok, _ in results if case.setup)

    @property
    def ok(self) -> bool:
        """Every test passed and every set-up call returned."""
        return self.passed == self.total and not self.setup_failed

    @property
    def text(self) -> str:
        if self.total == 0:
            head = f"{self.fn}: {'set up' if self.ok else 'setting up failed'}"
        elif self.total == 1:
            head = f"{self.fn}: the test {'passed' if self.passed else 'failed'}"
        elif self.passed == self.total:
            head = f"{self.fn}: all {self.total} tests passed"
        else:
            head = f"{self.fn}: {self.passed} of {self.total} tests passed"
        lines = [head]
        for case, ok, msg in self.results:
            tag = "FAILED" if not ok else ("set up" if case.setup else "passed")
            lines.append(f"  {tag:8} {case.name}")
            if not ok:
                lines.append(f"  {'':8} {msg}")
        return "\n".join(lines)

    def __repr__(self):
        return self.text


def _caller_namespace() -> dict:
    main = sys.modules.get("__main__")
    return vars(main) if main is not None else {}


class StoredObjects:
    """The objects ``store=`` cases kept, for the rest of the session (as in the grader).

    ``objects`` maps names to the stored objects; ``failed`` holds the names whose latest
    store call did not return, so that a case that needs one says why it was not run.
    """

    def __init__(self):
        self.objects: dict = {}
        self.failed: set[str] = set()

    def clear(self):
        self.objects.clear()
        self.failed.clear()


#: the notebook session's stored objects: shared by every check() call in this kernel
SESSION = StoredObjects()


def check(fn, cases, namespace: dict | None = None, quiet: bool = False,
          stored: StoredObjects | None = None) -> CheckReport | None:
    """Run the public ``cases`` on the student's function ``fn`` and print a report.

    Args:
        fn: the function's name (``"forward"``) or the function itself.
        cases: a list of :class:`course.grade.Case`.
        namespace: where to look the name up (default: the notebook's ``__main__``).
        quiet: return the report without printing it.
        stored: where ``store=`` cases keep their objects (default :data:`SESSION`: objects
            stored by an earlier ``check`` in the notebook are found by later ones, as
            when grading).

    Returns the :class:`CheckReport` when ``quiet`` (otherwise None, so that the report is
    not shown twice when ``check`` is the last line of a cell).
    """
    name = fn if isinstance(fn, str) else getattr(fn, "__name__", None)
    if not isinstance(name, str):
        raise TypeError(f"check: fn must be a function or its name, got {type(fn).__name__}")
    cases = list(cases)
    for c in cases:
        if not isinstance(c, Case):
            raise TypeError(f"check: cases must be course.grade.Case objects, got {type(c).__name__}")
    sink = getattr(_local, "sink", None)
    if sink is not None:
        sink(name, cases)
        return None
    if os.environ.get("COURSE_GRADING") == "1":
        return None
    ns = namespace if namespace is not None else _caller_namespace()
    if not isinstance(fn, str):
        ns = {**ns, name: fn}
    session = stored if stored is not None else SESSION
    refs, failed_refs = session.objects, session.failed
    results = []
    for case in cases:
        target = case.fn or name
        needs = case.refs()
        missing = sorted(needs & failed_refs)
        unknown = sorted(needs - set(refs) - failed_refs)
        if missing or unknown:
            msg = (missing_ref_message(missing[0], failed=True) if missing else
                   missing_ref_message(unknown[0], advice="run the test cells above this one first"))
            results.append((case, False, msg))
            if case.store:
                refs.pop(case.store, None)
                failed_refs.add(case.store)
            continue
        try:
            exp = expected_value_plain(case)
        except Exception as exc:  # a broken reference is the instructor's bug: say so plainly
            results.append((case, False, f"the test itself failed ({type(exc).__name__}: {exc})"))
            continue
        args, kwargs = fresh_inputs(case.args, case.kwargs, refs)
        with watching() as used:
            outcome = call(ns, refs, target, args, kwargs, case.store)
        ok, msg = judge(case, outcome, exp)
        if used:  # the grader's sandbox has no such module: say so now, not after submitting
            ok, msg = False, message(used[0], forbidden()[1])
        if case.store:
            if ok:
                failed_refs.discard(case.store)
            else:
                refs.pop(case.store, None)
                failed_refs.add(case.store)
        results.append((case, ok, msg))
    report = CheckReport(name, results)
    if not quiet:
        print(report.text)
    if os.environ.get("NBGRADER_EXECUTION") == "autograde" and not report.ok:
        raise AssertionError(report.text)
    return report if quiet else None
