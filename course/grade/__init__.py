"""Autograded exercises: in-notebook feedback, the generator and the grader.

In a notebook's test cell::

    from course.grade import Case, check
    check("forward", [Case("x = (3, 2)", args=(...), expect=[4.0])])

For instructors::

    python -m course.grade.generate                # solutions/ -> exercises/
    python -m course.grade SUB.ipynb ... --csv grades.csv --json report.json

The format of the notebooks is described in course/grade/FORMAT.md.
"""

from course.grade.cases import Case, Ref, hidden_rng
from course.grade.feedback import check
from course.grade.forbidden import forbid
from course.grade.thresholds import at_least, at_most, within

__all__ = ["Case", "Ref", "check", "forbid", "hidden_rng", "at_most", "at_least", "within"]
