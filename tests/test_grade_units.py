"""The grader's parts on their own: comparison messages, the wire format, the generator's
rules, the in-notebook feedback and how a submission becomes a program."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course.grade import Case, Ref, check
from course.grade.calls import Outcome, call, judge
from course.grade.cases import NotNumbers, compare, decode, encode, to_plain, validate_plain
from course.grade.feedback import recording
from course.grade.generate import stub_source, student_version
from course.grade.grader import ExerciseIndex, default_solutions_dir
from course.grade.notebook import build_program
from course.grade.notebook import NotebookError, parse_notebook, split_hidden, strip_magics
from tests.grading_cases import build as B


# ------------------------------------------------------------------ compare
def test_compare_names_the_first_wrong_entry_and_counts_the_rest():
    msg = compare([[1.0, 2.0], [3.0, 5.0]], [[1.0, 2.5], [3.0, 4.0]])
    assert msg == "entry (0, 1): got 2, expected 2.5 (1 more of 4 entries differ)"


def test_compare_accepts_within_tolerance_and_rejects_outside():
    assert compare([1.0 + 1e-9], [1.0]) is None
    assert compare([1.001], [1.0]).startswith("entry (0,): got 1.001, expected 1")


def test_compare_shapes_strict_and_loose():
    assert compare([[4.0]], [4.0]) == "the answer has shape (1, 1), expected shape (1,)"
    assert compare([[4.0]], [4.0], shape="loose") is None
    assert "expected shape ()" in compare([4.0], 4.0)


def test_compare_dicts_and_ragged_lists_say_where():
    assert compare({"a": [1.0]}, {"a": [1.0], "b": 2.0}) == "the dict lacks the key(s) ['b']"
    assert compare({"a": [1.0, 3.0]}, {"a": [1.0, 2.0]}) == "entry (1,) in ['a']: got 3, expected 2"
    got = [[[1.0, 2.0]], [0.0]]
    exp = [[[1.0, 2.0]], [0.5]]
    assert compare(got, exp) == "entry (0,) in [1]: got 0, expected 0.5"
    assert compare([[1.0], [2.0, 3.0]], [[1.0, 2.0], [3.0, 4.0]]) == \
        "expected an array of shape (2, 2), got a ragged list"


def test_compare_nan_is_wrong_unless_expected():
    assert "got nan" in compare([float("nan")], [1.0])
    assert compare([float("nan")], [float("nan")]) is None


# ------------------------------------------------------------------ to_plain and the wire
class AlwaysEqual:
    def __eq__(self, other):
        return True

    __hash__ = object.__hash__


def test_to_plain_refuses_objects_that_only_claim_equality():
    with pytest.raises(NotNumbers, match="AlwaysEqual"):
        to_plain(AlwaysEqual())
    with pytest.raises(NotNumbers, match="forget a return"):
        to_plain(None)
    with pytest.raises(NotNumbers):
        to_plain([1.0, "2"])
    with pytest.raises(NotNumbers):
        to_plain(np.array(["a"]))


def test_to_plain_converts_numbers_arrays_tensors_and_containers():
    torch = pytest.importorskip("torch")
    got = to_plain({"a": np.float32(1.5), "b": (np.arange(3), True), "c": torch.tensor([[2.0]], requires_grad=True)})
    assert got == {"a": 1.5, "b": [[0.0, 1.0, 2.0], 1.0], "c": [[2.0]]}
    assert to_plain(np.array([1.0, 2.0]).view(type("Sub", (np.ndarray,), {"__eq__": lambda s, o: True}))) == [1.0, 2.0]


def test_validate_plain_accepts_only_numbers():
    validate_plain({"x": [1, 2.5, [3.0]]})
    for bad in (None, "1", True, [1, None], {"a": "b"}):
        with pytest.raises(NotNumbers):
            validate_plain(bad)


arrays = hnp.arrays(dtype=st.sampled_from([np.float64, np.int64]), shape=hnp.array_shapes(max_dims=3, max_side=4),
                    elements=st.integers(-1000, 1000))


@settings(max_examples=40, deadline=None)
@given(arrays, st.floats(allow_nan=False), st.text(max_size=5))
def test_encode_decode_round_trip(a, x, s):
    obj = (a, [x, {"k": a}], s, None)
    back = decode(json.loads(json.dumps(encode(obj))))
    assert isinstance(back, tuple) and back[2] == s and back[3] is None
    assert back[0].dtype == a.dtype and np.array_equal(back[0], a)
    assert back[1][0] == x and np.array_equal(back[1][1]["k"], a)


def test_decode_resolves_refs_and_reports_missing_ones():
    assert decode(encode([Ref("net")]), {"net": 5}) == [5]
    with pytest.raises(KeyError):
        decode(encode(Ref("net")), {})


# ------------------------------------------------------------------ calls and judging
def test_call_reports_not_implemented_errors_missing_and_exit():
    def stub(x):
        raise NotImplementedError()

    def exits(x):
        raise SystemExit(3)

    ns = {"stub": stub, "exits": exits, "ok": lambda x: np.array([x, 2 * x])}
    assert call(ns, {}, "stub", (1,), {}).status == "not_implemented"
    assert call(ns, {}, "exits", (1,), {}).message.startswith("exits raised SystemExit: 3")
    assert call(ns, {}, "nothing", (1,), {}).status == "missing"
    assert call(ns, {}, "ok", (2.0,), {}).value == [2.0, 4.0]


def test_judge_property_tests_and_hints():
    case = Case("positive", test=lambda got: None if got > 0 else f"{got} is not positive", hint="think")
    assert judge(case, Outcome("ok", 1.0), None) == (True, "")
    assert judge(case, Outcome("ok", -1.0), None) == (False, "-1.0 is not positive. Hint: think")
    case = Case("raises inside the test", test=lambda got: got["missing"])
    ok, msg = judge(case, Outcome("ok", [1.0]), None)
    assert not ok and msg.startswith("the answer could not be checked")


def test_case_needs_an_expectation():
    with pytest.raises(ValueError, match="expect"):
        Case("nothing to compare")
    with pytest.raises(ValueError, match="shape"):
        Case("bad", expect=1, shape="roughly")


# ------------------------------------------------------------------ in-notebook feedback
def test_check_prints_passed_failed_and_not_implemented(capsys):
    def double(x):
        return 2 * np.asarray(x)

    def stub(x):
        raise NotImplementedError()

    check("double", [Case("two", args=([1.0, 2.0],), expect=[2.0, 4.0]),
                     Case("wrong on purpose", args=([1.0],), expect=[3.0])], namespace={"double": double})
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "double: 1 of 2 tests passed"
    assert "passed   two" in out and "FAILED   wrong on purpose" in out
    assert "entry (0,): got 2, expected 3" in out
    check(stub, [Case("one", args=(1,), expect=1)])
    assert "not implemented yet: stub still raises NotImplementedError" in capsys.readouterr().out


def test_check_with_stored_objects_and_methods(capsys):
    report = check("Counter", [Case("make", args=(1,), store="c"),
                               Case("add 2", fn="@c.add", args=(2,), expect=3.0),
                               Case("needs a missing object", fn="@d.add", args=(1,), expect=1.0)],
                   namespace={"Counter": Counter}, quiet=True)
    assert [ok for _, ok, _ in report.results] == [True, True, False]


def test_check_is_silent_under_the_grader_and_strict_under_nbgrader(monkeypatch, capsys):
    cases = [Case("wrong", args=(1,), expect=2.0)]
    ns = {"f": lambda x: x}
    monkeypatch.setenv("COURSE_GRADING", "1")
    assert check("f", cases, namespace=ns) is None and capsys.readouterr().out == ""
    monkeypatch.delenv("COURSE_GRADING")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="f: the test failed"):
        check("f", cases, namespace=ns)


def test_recording_collects_cases_without_running_them():
    seen = []
    with recording(lambda fn, cases: seen.append((fn, len(cases)))):
        assert check("never_defined", [Case("x", expect=1)]) is None
    assert seen == [("never_defined", 1)]


# ------------------------------------------------------------------ the generator's rules
def test_stub_keeps_indentation_and_drops_hidden_tests():
    src = ("def f(x):\n    y = 1\n    ### BEGIN SOLUTION\n    return x + y\n    ### END SOLUTION\n"
           "check('f', [])\n### BEGIN HIDDEN TESTS\nsecret = 1\n### END HIDDEN TESTS\n")
    assert stub_source(src) == ("def f(x):\n    y = 1\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
                                "check('f', [])\n")


def test_stub_rejects_top_level_and_unclosed_regions():
    with pytest.raises(NotebookError, match="inside a function body"):
        stub_source("### BEGIN SOLUTION\nx = 1\n### END SOLUTION\n")
    with pytest.raises(NotebookError, match="not closed"):
        stub_source("def f():\n    ### BEGIN SOLUTION\n    return 1\n")
    with pytest.raises(NotebookError, match="without"):
        stub_source("### END HIDDEN TESTS\n")


def test_student_version_needs_the_exercise_id():
    nb = B.load(B.SOLUTION)
    del nb["metadata"]["course"]
    with pytest.raises(NotebookError, match="course.exercise"):
        student_version(nb)


def test_split_hidden_keeps_line_numbers():
    public, hidden = split_hidden("a = 1\n### BEGIN HIDDEN TESTS\nb = 2\n### END HIDDEN TESTS\nc = 3")
    assert public.splitlines() == ["a = 1", "", "", "", "c = 3"]
    assert hidden.splitlines()[2] == "b = 2"


def test_magics_are_dropped():
    assert strip_magics("%matplotlib inline\nx = 1\n  !pip install foo\n") == \
        "pass  # IPython magic skipped\nx = 1\n  pass  # IPython magic skipped\n"
    assert strip_magics("%%bash\necho hi\n").startswith("pass")


def test_parse_notebook_errors_are_clear():
    with pytest.raises(NotebookError, match="JSON is broken at line 1"):
        parse_notebook("{", "x.ipynb")
    with pytest.raises(NotebookError, match="not a Jupyter notebook"):
        parse_notebook("[]", "x.ipynb")


# ------------------------------------------------------------------ from a submission to a program
@pytest.fixture(scope="module")
def ex01():
    return ExerciseIndex(default_solutions_dir()).get("ex01")


def test_program_takes_locked_cells_from_the_instructor(ex01):
    nb = B.load(B.EXERCISE)
    for cell in nb["cells"]:
        if B.gid(cell) == "setup":
            cell["source"] = "import numpy as np\nnp.sum = None  # tampered setup\n"
    program = {label: source for label, source, _ in build_program(nb, ex01)}
    assert "tampered" not in program["cell setup"] and "from course.grade import" in program["cell setup"]


def test_program_leaves_out_test_cells_and_keeps_student_cells(ex01):
    nb = B.insert_after(B.load(B.EXERCISE), "layer", "helper = 42\n")
    labels = [label for label, _, _ in build_program(nb, ex01)]
    assert labels == ["cell setup", "cell sigma", "cell helpers_sigma", "cell layer", "cell 8", "cell forward",
                      "cell half_mse"]
    assert not any("test" in label for label in labels)


def test_program_restores_deleted_locked_cells(ex01):
    nb = B.load(B.EXERCISE)
    nb["cells"] = [c for c in nb["cells"] if B.gid(c) != "setup"]
    assert build_program(nb, ex01)[0][0] == "cell setup"


def test_exercise_cases_are_public_then_hidden(ex01):
    test = next(t for t in ex01.test_cells if t.grade_id == "test_forward")
    flags = [hidden for _, _, hidden in test.cases]
    assert flags == sorted(flags) and flags[0] is False and flags[-1] is True
    assert ex01.max_points == 10


def test_recognise_by_metadata_or_grade_ids():
    index = ExerciseIndex(default_solutions_dir())
    nb = B.load(B.EXERCISE)
    assert index.recognise(nb) == "ex01"
    nb = copy.deepcopy(nb)
    nb["metadata"] = {}
    assert index.recognise(nb) == "ex01"
    nb["cells"] = nb["cells"][:1]
    assert index.recognise(nb) is None


# ------------------------------------------------------------------ stored objects, weights and names
@pytest.fixture
def session():
    """The notebook session's stored objects, emptied before and after the test."""
    from course.grade import feedback

    store = getattr(feedback, "SESSION", None)
    if store is not None:
        store.clear()
    yield store
    if store is not None:
        store.clear()


class Counter:
    def __init__(self, start):
        self.n = start

    def add(self, k):
        self.n += k
        return self.n


def test_store_cases_weigh_nothing_unless_told():
    assert Case("make", args=(1,), store="c").weight == 0
    assert Case("make, counted", args=(1,), store="c", weight=2).weight == 2
    assert Case("a test", args=(1,), expect=1.0).weight == 1
    assert Case("a test worth nothing", args=(1,), expect=1.0, weight=0).weight == 0
    with pytest.raises(ValueError, match="weight"):
        Case("negative", expect=1.0, weight=-1)


def test_store_case_cannot_also_expect_numbers():
    with pytest.raises(ValueError, match="cannot also have expect"):
        Case("make and compare", args=(1,), store="c", expect=1.0)


def test_callable_expect_with_a_ref_argument_is_refused_where_the_case_is_written():
    with pytest.raises(ValueError, match=r"callable expect cannot be used with Ref\('net'\)"):
        Case("predict", fn="predict", args=(Ref("net"), [1.0]), expect=lambda net, x: x)
    with pytest.raises(ValueError, match=r"Ref\('net'\)"):
        Case("predict", kwargs={"model": Ref("net")}, expect=np.sum)
    # numbers with a Ref, and a callable for a method of a stored object (its arguments are plain), are fine
    assert Case("numbers", args=(Ref("net"), [1.0]), expect=[2.0]).expected_value() == [2.0]
    assert Case("method", fn="@net.predict", args=([1.0, 2.0],), expect=np.sum).expected_value() == 3.0


def test_expected_value_of_a_ref_case_with_numbers_needs_no_stored_object():
    from course.grade.grader import _expected_or_error

    case = Case("apply", args=(Ref("net"), [1.0]), expect=np.array([[2.0]]))
    assert _expected_or_error(case) == ("ok", [[2.0]])
    assert _expected_or_error(Case("doubled", args=([1.0, 2.0],), expect=lambda x: 2 * np.asarray(x))) == \
        ("ok", [2.0, 4.0])
    kind, message = _expected_or_error(Case("broken", args=(1,), expect=lambda x: x["no"]))
    assert kind == "error" and message.startswith("the test itself failed (TypeError")


def test_check_keeps_stored_objects_for_later_checks(session, capsys):
    ns = {"Counter": Counter}
    check("Counter", [Case("make a counter at 1", args=(1,), store="c")], namespace=ns)
    check("Counter", [Case("add 2 to the stored counter", fn="@c.add", args=(2,), expect=3.0)], namespace=ns)
    check("read", [Case("a Ref to the stored counter", args=(Ref("c"),), expect=3.0)],
          namespace={"read": lambda counter: counter.n})
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Counter: set up" and out[1].split() == ["set", "up", "make", "a", "counter", "at", "1"]
    assert out[2] == "Counter: the test passed" and out[4] == "read: the test passed"


def test_check_with_a_ref_never_stored_fails_the_case_and_does_not_raise(session, capsys):
    report = check("read", [Case("uses an object nobody stored", args=(Ref("nowhere"), 1.0), expect=1.0),
                            Case("calls a method of it", fn="@nowhere.add", args=(1,), expect=1.0),
                            Case("an ordinary test", args=(None, 2.0), expect=2.0)],
                   namespace={"read": lambda obj, x: x}, quiet=True)
    assert [ok for _, ok, _ in report.results] == [False, False, True]
    for _, _, msg in report.results[:2]:
        assert msg == ("not run: it needs 'nowhere', which no earlier test has stored "
                       "(run the test cells above this one first)")


def test_check_forgets_an_object_whose_store_call_failed(session):
    class Fragile:
        def __init__(self, ok):
            if not ok:
                raise ValueError("cannot build")
            self.n = 7

    ns = {"Fragile": Fragile, "read": lambda obj: obj.n}
    assert check("Fragile", [Case("build", args=(True,), store="f")], namespace=ns, quiet=True).ok
    report = check("Fragile", [Case("build again, badly", args=(False,), store="f")], namespace=ns, quiet=True)
    assert not report.ok and "Fragile raised ValueError: cannot build" in report.results[0][2]
    report = check("read", [Case("read it", args=(Ref("f"),), expect=7.0)], namespace=ns, quiet=True)
    assert report.results[0][1:] == (False, "not run: it needs 'f', which an earlier test could not produce")


def test_check_with_ref_and_expected_numbers(session):
    ns = {"Counter": Counter, "read": lambda counter, k: counter.n + k}
    report = check("read", [Case("make", fn="Counter", args=(5,), store="c"),
                            Case("read + 1", args=(Ref("c"), 1), expect=6.0),
                            Case("read + 2, wrong on purpose", args=(Ref("c"), 2), expect=8.0)],
                   namespace=ns, quiet=True)
    assert [ok for _, ok, _ in report.results] == [True, True, False]
    assert report.results[2][2] == "the value: got 7, expected 8"
    assert (report.passed, report.total) == (1, 2)


STUDENT_CELLS = '''
class Dense:
    def forward(self, X):
        # YOUR CODE HERE
        raise NotImplementedError()

def dense_forward(X):
    """A locked helper the test calls."""
    return Dense().forward(X)

def make_dense():
    return Dense()
'''


def _notebook_namespace(name="__main__"):
    ns = {"__name__": name}
    exec(compile(STUDENT_CELLS, "<cell answer>", "exec"), ns)
    return ns


@pytest.mark.parametrize("module_name", ["__main__", "not_main"])
def test_not_implemented_names_the_students_function_not_the_helper(module_name):
    ns = _notebook_namespace(module_name)
    outcome = call(ns, {}, "dense_forward", ([[1.0]],), {})
    assert outcome.status == "not_implemented"
    assert outcome.message == ("not implemented yet: Dense.forward still raises NotImplementedError "
                               "(replace it with your code)")


def test_not_implemented_from_library_code_names_the_notebook_function():
    def library_function():  # defined here, in a module that is not the notebook
        raise NotImplementedError()

    ns = {"__name__": "__main__", "library_function": library_function}
    exec("def student(x):\n    return library_function()\n", ns)
    assert call(ns, {}, "student", (1,), {}).message.startswith("not implemented yet: student still raises")


def test_set_up_cases_are_shown_neutrally_and_not_counted(session, capsys):
    ns = _notebook_namespace()
    check("dense_forward", [Case("build a layer", fn="make_dense", store="layer"),
                            Case("forward through the stored layer", fn="@layer.forward", args=([[1.0]],),
                                 expect=[[1.0]]),
                            Case("through the helper", args=([[1.0]],), expect=[[1.0]])], namespace=ns)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "dense_forward: 0 of 2 tests passed"
    assert lines[1].split()[:2] == ["set", "up"] and not any(line.lstrip().startswith("passed") for line in lines)
    assert lines[3].strip() == ("not implemented yet: Dense.forward still raises NotImplementedError "
                                "(replace it with your code)")
    report = check("dense_forward", [Case("build a layer, counted", fn="make_dense", store="layer", weight=1)],
                   namespace=ns, quiet=True)
    assert report.text.splitlines() == ["dense_forward: the test passed", "  passed   build a layer, counted"]


def test_failed_set_up_is_reported_and_fails_under_nbgrader(session, monkeypatch, capsys):
    ns = {"make": lambda: 1 / 0}
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(AssertionError, match="make: setting up failed"):
        check("make", [Case("build", store="x")], namespace=ns)
