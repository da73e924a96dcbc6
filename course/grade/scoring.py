"""Scoring: every test case of an exercise, decided in the grader's own process.

:func:`run_tests` sends each case's inputs to the submission's :class:`Session`, judges
the returned values against the expected ones (:func:`course.grade.calls.judge`) and
shares each test cell's points among its cases by weight. The results are plain
dataclasses that the reports (:mod:`course.grade.report`) write out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from course.grade.calls import Outcome, judge, missing_ref_message
from course.grade.notebook import Exercise
from course.grade.session import KernelDied, KernelTimeout, Session

__all__ = ["CaseResult", "TestResult", "SubmissionResult", "run_tests"]


@dataclass
class CaseResult:
    name: str
    function: str
    hidden: bool
    passed: bool
    message: str
    seconds: float
    setup: bool = False  # a store case of weight 0: sets up an object, is not a test by itself

    def to_json(self):
        return dict(self.__dict__)


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    grade_id: str
    max_points: float
    points: float = 0.0
    cases: list[CaseResult] = field(default_factory=list)

    def to_json(self):
        return {"grade_id": self.grade_id, "points": round(self.points, 4), "max_points": self.max_points,
                "cases": [c.to_json() for c in self.cases]}


@dataclass
class SubmissionResult:
    submission: str
    name: str
    exercise: str | None = None
    title: str = ""
    status: str = "graded"
    error: str = ""
    points: float = 0.0
    max_points: float = 0.0
    isolation: str = ""
    seconds: float = 0.0
    timed_out: bool = False
    retried: bool = False
    feedback: str = ""
    cells: list[dict] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points if self.max_points else 0.0

    def to_json(self):
        d = {k: v for k, v in self.__dict__.items() if k != "tests"}
        d["points"] = round(self.points, 4)
        d["percent"] = round(self.percent, 2)
        d["tests"] = [t.to_json() for t in self.tests]
        return d


def run_tests(session: Session, exercise: Exercise, expected: list, result: SubmissionResult) -> None:
    """Run every case of every test cell; fill ``result.tests``.

    ``expected[i][j]`` is ``("ok", plain numbers or None)`` or ``("error", message)`` for
    case ``j`` of test cell ``i``, computed once per exercise from the instructor's cells.
    A function whose call timed out or crashed the kernel is not called again: its
    remaining cases fail with that reason.
    """
    broken: dict[str, str] = {}
    failed_refs: set[str] = set()
    for test, exp_list in zip(exercise.test_cells, expected):
        tres = TestResult(test.grade_id, test.points)
        got_weight = 0.0
        for (fn, case, hidden), (exp_kind, exp_value) in zip(test.cases, exp_list):
            t = time.monotonic()
            label = fn.lstrip("@")
            base = label.split(".")[0] if fn.startswith("@") else fn
            needs = case.refs() & (failed_refs | session.lost_refs)
            if base in broken:
                outcome = Outcome("skipped", message=f"not run: {broken[base]}")
            elif needs:
                outcome = Outcome("skipped", message=missing_ref_message(sorted(needs)[0], failed=True))
            elif time.monotonic() >= session.deadline:
                outcome = Outcome("skipped", message="not run: the submission used up its time budget")
            else:
                try:
                    outcome = session.call(fn, case)
                except (KernelTimeout, KernelDied) as exc:
                    outcome = Outcome("skipped", message=f"not run: the kernel could not be started "
                                                         f"({exc or 'time budget used up'})")
                if outcome.status == "timeout":
                    broken[base] = f"an earlier test of {base} timed out"
                elif outcome.status == "crashed":
                    broken[base] = f"an earlier test of {base} stopped the kernel"
            if exp_kind == "error":
                passed, message = False, exp_value
            else:
                passed, message = judge(case, outcome, exp_value)
            if not passed and case.store:
                failed_refs.add(case.store)
            if passed:
                got_weight += case.weight
            tres.cases.append(CaseResult(case.name, label, hidden, passed, message, round(time.monotonic() - t, 4),
                                         setup=case.setup))
        tres.points = test.points * got_weight / test.total_weight
        result.tests.append(tres)
