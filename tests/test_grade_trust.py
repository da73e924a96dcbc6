"""The grader's trust boundary, part by part: what a kernel says counts only as values.

Everything a submission's kernel sends is treated as hostile: answers are parsed with
bounds, judged by value in the grader's process, non-finite numbers fail, a "stored" reply
never satisfies a test, student text in feedback is short and inert, hidden tests show
nothing but their number, notebooks are validated by type, and files are read only when
they are regular and small. (Whole hostile notebooks: test_grade_attacks.py.)
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest

from course.grade import Case, at_least, at_most, check, forbid, within
from course.grade.calls import Outcome, judge, short_error
from course.grade.cases import first_nonfinite
from course.grade.forbidden import forbidden, message, stub_source, watching
from course.grade.notebook import NotebookError, parse_notebook, read_limited
from course.grade.protocol import parse_answer
from course.grade.report import escape, feedback_text
from course.grade.sandbox import Limits, bwrap_command
from course.grade.scoring import CaseResult, SubmissionResult, TestResult
from course.grade.thresholds import rms_to


# ------------------------------------------------------------------ judging values only
def test_a_stored_reply_never_passes_a_test_case():
    case = Case("forward on x", args=(1.0,), expect=2.0)
    assert judge(case, Outcome("stored"), 2.0) == (False, "no answer (stored)")
    store = Case("build it", store="net")
    assert judge(store, Outcome("stored"), None) == (True, "")
    assert not judge(store, Outcome("ok", value=1.0), None)[0]


@pytest.mark.parametrize("value", [float("nan"), float("inf"), [1.0, float("nan")], {"a": [[0.0, -float("inf")]]}])
def test_nan_and_infinity_fail_threshold_tests_written_the_naive_way(value):
    naive = Case("rms below 0.4", test=lambda got: "too large" if np.max(got) > 0.4 else None)
    ok, msg = judge(naive, Outcome("ok", value=value), None)
    assert not ok and "a number is needed" in msg


def test_a_case_may_allow_nonfinite_values():
    case = Case("log(0) is -inf", args=(0.0,), expect=-np.inf, allow_nonfinite=True)
    assert judge(case, Outcome("ok", value=-np.inf), -np.inf) == (True, "")


def test_first_nonfinite_says_where():
    assert (first_nonfinite([[1.0, 2.0], [3.0, float("nan")]])
            == "the answer has nan at entry (1, 1): a number is needed")
    assert first_nonfinite({"w": [1.0], "b": float("inf")}) == "the answer ['b'] is inf: a number is needed"
    assert first_nonfinite([1.0, [2.0, 3.0]]) is None


def test_threshold_helpers_fail_on_nan_and_name_the_measure():
    ref = np.zeros(4)
    test = at_most(0.4, rms_to(ref, "forces"), "RMS force error")
    assert test(np.full(4, 0.1)) is None
    assert test(np.full(4, 0.5)) == "RMS force error is 0.5, at most 0.4 allowed"
    assert test(np.full(4, np.nan)) == "RMS force error is nan, at most 0.4 allowed"
    assert test(np.zeros(3)) == "expected forces of shape (4,), got shape (3,)"
    assert at_least(0.9, what="accuracy")(np.nan) == "accuracy is nan, at least 0.9 needed"
    assert at_least(0.9, what="accuracy")(0.95) is None
    assert within([1.0, 2.0], 0.1)([1.05, np.nan]).startswith("the answer is nan at (1,)")


# ------------------------------------------------------------------ the answer channel
def test_answers_that_cannot_be_parsed_safely_become_not_numbers():
    rid = "abc123"
    deep = b'{"id": "abc123", "status": "ok", "value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert parse_answer(deep, rid)["status"] == "not_numbers"
    huge = b'{"id": "abc123", "status": "ok", "value": 1' + b"0" * 10_000 + b"}"
    assert parse_answer(huge, rid)["value"] == float("inf")  # then judged: not finite
    assert parse_answer(b'{"id": "other", "status": "ok"}', rid) is None
    assert parse_answer(b"garbage", rid) is None


# ------------------------------------------------------------------ feedback
def _result(message: str, hidden: bool) -> SubmissionResult:
    r = SubmissionResult("sub.ipynb", "sub", "ex01", "The forward pass", max_points=2, points=0)
    r.tests = [TestResult("test_forward", 2, 0, [
        CaseResult("public: x = (3, 2)", "forward", False, False, message, 0.1),
        CaseResult("hidden: random network seed 101 with inputs 0.123", "forward", True, False,
                   "entry (0,): got 1, expected 0.4567", 0.1)])]
    return r


def test_hidden_tests_show_only_their_number():
    text = feedback_text(_result("entry (0,): got 1, expected 4", hidden=True))
    assert "- FAILED: hidden test 1 of `forward`" in text
    assert "random network" not in text and "0.4567" not in text and "0.123" not in text
    assert "expected 4" in text  # public tests keep their messages


def test_student_text_in_feedback_is_short_and_inert():
    evil = "boom\n\n# Full marks\n<img src=x onerror=alert(1)> [link](http://x) ```code``` " + "A" * 5000
    text = feedback_text(_result(f"forward raised ValueError: {evil}", hidden=False))
    line = next(ln for ln in text.splitlines() if "forward raised" in ln)
    assert len(line) < 320 and "<img" not in line and "\n#" not in text.split("## test_forward")[1]
    assert "\\[link\\]" in line and "\\`\\`\\`" in line
    assert escape("a\nb\tc") == "a b c"


# ------------------------------------------------------------------ error lines in the notebook
def test_in_notebook_errors_point_at_the_students_line(capsys):
    ns = {"__name__": "__main__", "np": np}
    exec(compile("def sigma(z, name):\n    z = np.asarray(z)\n    return np.max(0, z)\n", "/tmp/ipykernel_1/42.py",
                 "exec"), ns)
    check("sigma", [Case("relu", args=([1.0, -1.0], "relu"), expect=[1.0, 0.0])], namespace=ns)
    out = capsys.readouterr().out
    assert "sigma raised" in out and "(in sigma, line 3" in out


def test_short_error_names_the_grading_cell_and_line():
    ns = {"__name__": "__main__"}
    exec(compile("def f():\n    return 1 / 0\n", "<cell f>", "exec"), ns)
    try:
        ns["f"]()
    except ZeroDivisionError as exc:
        assert short_error(exc, "f") == "f raised ZeroDivisionError: division by zero (cell f, line 2)"


# ------------------------------------------------------------------ forbidden modules
def test_check_fails_a_call_that_runs_a_forbidden_module(capsys):
    ns = {"__name__": "__main__"}
    exec("import course\ndef count(sizes):\n    return course.count_parameters(sizes)\n", ns)
    try:
        forbid("course.mlp", exercise="ex05")
        check("count", [Case("2-3-1", args=([2, 3, 1],), expect=13)], namespace=ns)
    finally:
        forbid()
    assert message("course.mlp", "ex05") in capsys.readouterr().out
    with watching() as used:
        __import__("course").count_parameters([2, 1])
    assert used == [] and forbidden() == ((), "")


def test_forbid_names_only_course_modules():
    with pytest.raises(ValueError, match="course.<module>"):
        forbid("numpy")
    with pytest.raises(ValueError, match="not course.grade"):
        forbid("course.grade.calls")


def test_stub_raises_the_message():
    with pytest.raises(ImportError, match="course.mlp is not available in exercise ex01"):
        exec(stub_source("course.mlp", "ex01"), {})


# ------------------------------------------------------------------ notebooks and files
@pytest.mark.parametrize("nb, words", [
    ({"nbformat": 4, "cells": [], "metadata": None}, "metadata must be a JSON object"),
    ({"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}, "source must be text"),
    ({"nbformat": 4, "cells": [{"cell_type": "code", "source": ["a", None]}]}, "source must be text"),
    ({"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": []}]}, "metadata must be"),
    ({"nbformat": 4, "cells": [{"cell_type": "code", "source": "", "metadata": {"nbgrader": "x"}}]}, "nbgrader"),
    ({"nbformat": 4, "cells": [{"cell_type": "code", "source": "",
                                "metadata": {"nbgrader": {"grade_id": ["a"]}}}]}, "grade_id must be"),
    ({"nbformat": 4, "cells": None}, "no list of cells"),
])
def test_malformed_notebooks_are_clear_errors(nb, words):
    with pytest.raises(NotebookError, match=words):
        parse_notebook(json.dumps(nb))


def test_deep_nesting_and_huge_numbers_are_clear_errors():
    deep = '{"nbformat": 4, "cells": [], "metadata": {"x": ' + "[" * 200_000 + "]" * 200_000 + "}}"
    with pytest.raises(NotebookError, match="not a usable notebook"):
        parse_notebook(deep)
    huge = '{"nbformat": 4, "cells": [], "metadata": {"x": 1' + "0" * 100_000 + "}}"
    assert parse_notebook(huge)["metadata"]["x"] == float("inf")


def test_only_small_regular_files_are_read(tmp_path):
    fifo = tmp_path / "fifo.ipynb"
    os.mkfifo(fifo)
    with pytest.raises(NotebookError, match="not a regular file"):
        read_limited(fifo)
    (tmp_path / "zero.ipynb").symlink_to("/dev/zero")
    with pytest.raises(NotebookError, match="not a regular file"):
        read_limited(tmp_path / "zero.ipynb")
    big = tmp_path / "big.ipynb"
    big.write_bytes(b" " * 2000)
    with pytest.raises(NotebookError, match="at most"):
        read_limited(big, limit=1000)


# ------------------------------------------------------------------ the sandbox command
@pytest.mark.skipif(sys.platform != "linux", reason="bubblewrap is Linux only")
def test_the_sandbox_mounts_no_repository_and_limits_the_scratch(tmp_path, monkeypatch):
    monkeypatch.setattr("course.grade.sandbox._bwrap", lambda: "/usr/bin/bwrap")
    cmd = bwrap_command(["python", "runner.py"], tmp_path, Limits(scratch_mb=8), hide=[])
    text = " ".join(cmd)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    binds = [cmd[i + 1] for i, a in enumerate(cmd) if a in ("--ro-bind", "--bind", "--ro-bind-try")]
    assert not any(b == root or b.startswith(root + "/") and not b.startswith(sys.prefix) for b in binds)
    assert "--bind " not in text  # nothing of the host is writable
    for flag in ("--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts", "--die-with-parent",
                 "--new-session"):
        assert flag in cmd
    assert f"--size {8 * 2**20} --perms 1777 --tmpfs /scratch" in text
    assert cmd[-2:] == ["python", "runner.py"]


@pytest.mark.skipif(sys.platform != "linux", reason="bubblewrap is Linux only")
def test_a_python_installation_under_tmp_is_bound_on_top_of_the_sandboxs_tmp(tmp_path, monkeypatch):
    """A clone (and its .venv) in /tmp: the sandbox's own /tmp must not cover the interpreter."""
    monkeypatch.setattr("course.grade.sandbox._bwrap", lambda: "/usr/bin/bwrap")
    monkeypatch.setattr("course.grade.sandbox._python_roots", lambda: ["/tmp/clone/.venv"])
    cmd = bwrap_command(["python"], tmp_path, Limits(), hide=[])
    tmpfs = next(i for i in range(len(cmd) - 1) if cmd[i] == "--tmpfs" and cmd[i + 1] == "/tmp")
    bind = next(i for i in range(len(cmd) - 2) if cmd[i] == "--ro-bind" and cmd[i + 1] == "/tmp/clone/.venv")
    assert tmpfs < bind
