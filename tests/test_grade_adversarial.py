"""Real submission notebooks, honest and hostile, run through the grader.

One batch of ex01 submissions is graded once (two at a time, as an instructor would) and
each test reads its submission's result: full marks for the correct one, partial marks
with messages for wrong ones, zero for stubs, and no effect from infinite loops, exits,
crashes, memory hogs, rigged comparisons, input transformers, redefined check functions,
deleted test cells or attempts to read the hidden tests and to change other submissions.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course.grade.grader import Options, grade_many
from course.grade.sandbox import Limits, SandboxUnavailable, check_available
from tests.grading_cases import build as B
from tests.helpers import grading_sandbox

SANDBOX = grading_sandbox()
ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
TIMEOUT = 3.0


def _submissions(d: Path) -> dict[str, Path]:
    """name -> notebook path, for every submission of the batch."""
    sol, ex = B.load(B.SOLUTION), B.load(B.EXERCISE)
    out = {}

    def put(name, nb):
        out[name] = B.write(nb, d / f"{name}.ipynb")

    put("correct", sol)
    put("stub", ex)
    put("wrong", B.with_answers({"forward": B.FORWARD_NO_BIAS}))
    put("raises", B.with_answers({"sigma": "def sigma(z, name):\n    raise ValueError('boom')\n"}))
    put("loops", B.with_answers({"forward": B.FORWARD_LOOPS}))
    put("loop_cell", B.insert_after(sol, "setup", "while True:\n    pass\n"))
    put("exit_cell", B.insert_after(sol, "setup", "import sys\nsys.exit(1)\n"))
    put("exit_fn", B.with_answers({"half_mse": "import sys\ndef half_mse(y_hat, y):\n    sys.exit(0)\n"}))
    put("os_exit", B.with_answers({"layer": "import os\ndef layer(a_prev, W, b, name):\n    os._exit(3)\n"}))
    put("killed", B.with_answers({"half_mse": "import ctypes\ndef half_mse(y_hat, y):\n"
                                              "    return ctypes.string_at(0)  # a segmentation fault\n"}))
    put("memory_fn", B.with_answers({"half_mse": "def half_mse(y_hat, y):\n"
                                                 "    return np.ones(2 ** 33).sum()\n"}))
    put("memory_cell", B.insert_after(sol, "setup", "hog = []\nwhile True:\n    hog.append(np.empty(50_000_000))\n"))
    put("rigged_eq", B.with_answers({n: B.RIGGED.format(name=n, value="AlwaysEqual()") for n in B.CORRECT}))
    put("rigged_array", B.with_answers({n: B.RIGGED.format(name=n, value="np.zeros(3).view(LyingArray)")
                                        for n in B.CORRECT}))
    put("transformer", B.insert_after(ex, "setup", "ip = get_ipython()\n"
                                                   "ip.input_transformers_cleanup.append(lambda lines: [])\n"))
    patch = ("import course.grade, course.grade.cases, course.grade.calls, json\n"
             "course.grade.check = lambda *a, **k: print('all tests passed')\n"
             "check = course.grade.check\n"
             "course.grade.cases.compare = lambda *a, **k: None\n"
             "course.grade.calls.judge = lambda *a, **k: (True, '')\n"
             "np.isclose = lambda *a, **k: True\n"
             "np.allclose = lambda *a, **k: True\n"
             "def sigma(z, name):\n    return np.zeros(np.shape(z))\n")
    put("redefined_check", B.rewrite_tests(B.insert_after(ex, "sigma", patch), "print('all 6 tests passed')\n"))
    put("deleted_tests_correct", B.drop_tests(sol))
    put("deleted_tests_stub", B.drop_tests(ex))
    stripped = B.load(B.SOLUTION)
    del stripped["metadata"]["course"]
    put("no_metadata", stripped)
    (d / "corrupt.ipynb").write_text(json.dumps(sol)[:5000], encoding="utf-8")
    out["corrupt"] = d / "corrupt.ipynb"
    return out


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch")
    subs = _submissions(d)
    digests = {name: _digest(p) for name, p in subs.items()}
    results = grade_many(list(subs.values()),
                         Options(sandbox=SANDBOX, timeout=TIMEOUT, jobs=2, limits=Limits(memory_mb=1536)))
    by_name = {Path(r.submission).stem: r for r in results}
    return subs, by_name, digests


def _digest(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cases(result, fn):
    return [c for t in result.tests for c in t.cases if c.function == fn]


def _points(result, grade_id):
    return next(t.points for t in result.tests if t.grade_id == grade_id)


def test_correct_submission_earns_full_marks(batch):
    _, r, _ = batch
    assert r["correct"].status == "graded" and r["correct"].points == r["correct"].max_points == 10
    assert all(c.passed for t in r["correct"].tests for c in t.cases)
    assert any(c.hidden for t in r["correct"].tests for c in t.cases)


def test_stub_left_in_place_scores_zero_with_not_implemented(batch):
    _, r, _ = batch
    assert r["stub"].points == 0
    assert all("not implemented yet" in c.message for t in r["stub"].tests for c in t.cases)


def test_wrong_answer_gets_partial_marks_and_says_which_entry(batch):
    _, r, _ = batch
    res = r["wrong"]
    assert 0 < res.points < res.max_points
    assert _points(res, "test_sigma") == 2 and _points(res, "test_forward") < 4
    failed = [c for c in _cases(res, "forward") if not c.passed]
    relu = next(c for c in failed if "0.866" in c.name)
    assert relu.message.startswith("entry (0,): got") and "expected 0.866" in relu.message
    # the z^2 example has no biases, so forgetting them does no harm there
    assert next(c for c in _cases(res, "forward") if "y_hat = 4" in c.name).passed


def test_function_that_raises_names_the_exception(batch):
    _, r, _ = batch
    res = r["raises"]
    assert _points(res, "test_sigma") == 0 and _points(res, "test_half_mse") == 2
    assert "sigma raised ValueError: boom" in _cases(res, "sigma")[0].message


def test_infinite_loop_times_out_and_only_zeroes_what_depends_on_it(batch):
    _, r, _ = batch
    res = r["loops"]
    assert res.status == "graded"
    assert [_points(res, g) for g in ("test_sigma", "test_layer", "test_forward", "test_half_mse")] == [2, 2, 0, 2]
    cases = _cases(res, "forward")
    assert f"did not finish within {TIMEOUT:g} s" in cases[0].message
    assert all("not run: an earlier test of forward timed out" in c.message for c in cases[1:])
    assert res.seconds < 3 * TIMEOUT + 5  # one timeout, not one per case


def test_infinite_loop_at_top_level_skips_that_cell_only(batch):
    _, r, _ = batch
    res = r["loop_cell"]
    assert res.points == 10
    assert any(c["status"] == "timeout" for c in res.cells)


def test_sys_exit_in_a_cell_does_not_end_grading(batch):
    _, r, _ = batch
    assert r["exit_cell"].points == 10
    assert any("SystemExit" in c["message"] for c in r["exit_cell"].cells)


def test_sys_exit_in_a_function_fails_only_that_function(batch):
    _, r, _ = batch
    res = r["exit_fn"]
    assert res.points == 8 and "half_mse raised SystemExit" in _cases(res, "half_mse")[0].message


def test_os_exit_kills_the_kernel_and_grading_goes_on(batch):
    _, r, _ = batch
    res = r["os_exit"]
    assert _points(res, "test_sigma") == 2 and _points(res, "test_half_mse") == 2
    assert _points(res, "test_layer") == 0
    assert "exited with code 3" in _cases(res, "layer")[0].message


def test_killed_kernel_is_reported_and_restarted(batch):
    _, r, _ = batch
    res = r["killed"]
    assert res.points == 8
    assert "the kernel was killed by SIGSEGV while running half_mse" in _cases(res, "half_mse")[0].message


def test_memory_hogs_are_bounded(batch):
    _, r, _ = batch
    assert r["memory_fn"].points == 8
    assert "MemoryError" in _cases(r["memory_fn"], "half_mse")[0].message
    assert r["memory_cell"].points == 10
    assert any("MemoryError" in c["message"] for c in r["memory_cell"].cells)


def test_rigged_eq_object_is_not_numbers(batch):
    _, r, _ = batch
    assert r["rigged_eq"].points == 0
    assert "returned an AlwaysEqual, not numbers" in _cases(r["rigged_eq"], "forward")[0].message


def test_ndarray_subclass_with_rigged_eq_is_compared_by_value(batch):
    _, r, _ = batch
    assert r["rigged_array"].points == 0
    assert "got 0, expected" in _cases(r["rigged_array"], "sigma")[0].message or \
        "shape" in _cases(r["rigged_array"], "sigma")[0].message


def test_input_transformer_cannot_blank_the_tests(batch):
    _, r, _ = batch
    res = r["transformer"]
    assert res.points == 0
    assert any("get_ipython" in c["message"] for c in res.cells)


def test_redefined_check_and_rewritten_test_cells_change_nothing(batch):
    _, r, _ = batch
    res = r["redefined_check"]
    assert res.points == 0
    assert "got 0, expected 0.5" in next(c for c in _cases(res, "sigma") if "sigmoid(0)" in c.name).message


def test_deleted_test_cells_are_still_applied(batch):
    _, r, _ = batch
    assert r["deleted_tests_correct"].points == 10
    assert r["deleted_tests_stub"].points == 0
    assert len([c for t in r["deleted_tests_stub"].tests for c in t.cases]) >= 20


def test_exercise_recognised_from_grade_ids_when_metadata_deleted(batch):
    _, r, _ = batch
    assert r["no_metadata"].exercise == "ex01" and r["no_metadata"].points == 10


def test_torch_tensors_are_converted_to_numbers(tmp_path):
    torch_sigma = B.SIGMA_OK.replace("z = np.asarray(z, dtype=float)",
                                     "import torch\n    z = torch.as_tensor(np.asarray(z, dtype=float))")
    torch_sigma = torch_sigma.replace("np.maximum(z, 0)", "torch.clamp(z, min=0)").replace("np.exp", "torch.exp")
    torch_sigma = torch_sigma.replace("np.tanh", "torch.tanh")
    sub = B.write(B.with_answers({"sigma": torch_sigma}), tmp_path / "torch.ipynb")
    # importing torch takes seconds on a busy 2-core machine
    (res,) = grade_many([sub], Options(sandbox=SANDBOX, timeout=120))
    assert res.points == 10, [c.message for t in res.tests for c in t.cases if not c.passed][:3]


def test_corrupt_notebook_is_a_clear_error_and_the_rest_is_graded(batch):
    _, r, _ = batch
    assert r["corrupt"].status == "error" and r["corrupt"].points == 0
    assert "not a valid notebook" in r["corrupt"].error and "JSON is broken" in r["corrupt"].error
    assert r["correct"].points == 10


def test_originals_are_not_modified(batch):
    subs, _, digests = batch
    assert {name: _digest(p) for name, p in subs.items()} == digests


# ------------------------------------------------------------------ the file system
ATTACK = r'''
import glob, os, sys
SOLUTIONS, VICTIM, REPO = {solutions!r}, {victim!r}, {repo!r}
found = 0
def has_hidden(path):
    try:
        with open(path, errors="ignore") as fh:
            return "BEGIN HIDDEN" + " TESTS" in fh.read()  # split, so that this notebook does not match itself
    except OSError:
        return False
roots = {{os.getcwd(), os.path.dirname(os.getcwd()), os.path.expanduser("~"), SOLUTIONS, REPO,
          os.path.dirname(VICTIM), *sys.path}}
for root in roots:
    for dirpath, dirs, files in os.walk(root):
        if dirpath.count(os.sep) - root.count(os.sep) >= 2:
            dirs[:] = []
        found += sum(has_hidden(os.path.join(dirpath, f)) for f in files if f.endswith(".ipynb"))
for pid in os.listdir("/proc"):
    if pid.isdigit():
        found += len(glob.glob(f"/proc/{{pid}}/root{{SOLUTIONS}}/*.ipynb"))
for target in [VICTIM, os.path.join(SOLUTIONS, "ex01_forward_pass.ipynb"), os.path.join(SOLUTIONS, "evil.txt"),
               os.path.join(REPO, "evil.txt"), os.path.join(os.path.dirname(os.getcwd()), "evil.txt"), {evil!r}]:
    try:
        with open(target, "w") as fh:
            fh.write("owned")
    except OSError:
        pass
for other in glob.glob(os.path.join(os.path.dirname(os.getcwd()), "*", ".lib", "course", "mlp.py")):
    try:
        with open(other, "a") as fh:
            fh.write("\nraise SystemExit('poisoned')\n")
    except OSError:
        pass
def half_mse(y_hat, y):
    return float(found)
'''


def _attack(tmp_path, sandbox_mode):
    """An attacker graded before two copies of a correct submission, against a copy of the
    solutions inside a copy of the repository layout (so that no real file is at risk)."""
    repo = tmp_path / "repo"
    solutions = repo / "solutions"
    solutions.mkdir(parents=True)
    shutil.copy(SOLUTIONS / "ex01_forward_pass.ipynb", solutions)
    subs = tmp_path / "subs"
    subs.mkdir()
    victim = B.write(B.load(B.SOLUTION), subs / "victim.ipynb")
    before = hashlib.sha256(victim.read_bytes()).hexdigest()
    sol_before = hashlib.sha256((solutions / "ex01_forward_pass.ipynb").read_bytes()).hexdigest()
    evil = f"/tmp/course_grade_evil_{tmp_path.name}.txt"
    code = ATTACK.format(solutions=str(solutions), victim=str(victim), repo=str(repo), evil=evil)
    # built from the student version: a real student's notebook holds no hidden tests of its own
    attacker = B.write(B.with_answers({"half_mse": code}, base=B.EXERCISE), subs / "attacker.ipynb")
    results = grade_many([attacker, victim, victim], Options(timeout=20, jobs=2, sandbox=sandbox_mode),
                         solutions_dir=solutions)
    written = [p for p in (repo / "evil.txt", solutions / "evil.txt", Path(evil)) if p.exists()]
    solutions_changed = hashlib.sha256((solutions / "ex01_forward_pass.ipynb").read_bytes()).hexdigest() != sol_before
    victim_changed = hashlib.sha256(victim.read_bytes()).hexdigest() != before
    Path(evil).unlink(missing_ok=True)
    return results, written, solutions_changed, victim_changed


def _sandbox_missing() -> bool:
    try:
        check_available()
    except SandboxUnavailable:
        return not os.environ.get("REQUIRE_SANDBOX")
    return False


@pytest.mark.skipif(_sandbox_missing(), reason="bubblewrap cannot run here (set REQUIRE_SANDBOX=1 to fail instead)")
def test_kernel_finds_no_hidden_tests_and_changes_no_other_submission(tmp_path):
    (attacker, victim1, victim2), written, solutions_changed, victim_changed = _attack(tmp_path, "bwrap")
    assert attacker.isolation.startswith("bubblewrap")
    msg = _cases(attacker, "half_mse")[0].message
    assert msg.startswith("the value: got 0, expected"), msg  # found no notebook with hidden tests
    assert victim1.points == victim2.points == 10
    assert not written and not solutions_changed and not victim_changed


def test_without_sandbox_the_same_attack_succeeds(tmp_path):
    """With --sandbox off the same attack finds the solutions and writes files: the test above has
    teeth, and the sandbox is what stops it (without Linux namespaces, run the grader in a
    container or as a user who cannot read the solutions)."""
    (attacker, _, _), written, solutions_changed, victim_changed = _attack(tmp_path, "off")
    assert attacker.isolation.startswith("none")
    assert "got 0," not in _cases(attacker, "half_mse")[0].message
    assert written and solutions_changed and victim_changed


# ------------------------------------------------------------------ the command line
def test_cli_writes_csv_json_and_feedback_and_reports_bad_files(tmp_path):
    sol = B.write(B.load(B.SOLUTION), tmp_path / "alice.ipynb")
    original = sol.read_bytes()
    stub = B.write(B.load(B.EXERCISE), tmp_path / "bob.ipynb")
    (tmp_path / "carol.ipynb").write_text("this is not a notebook")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "course.grade", str(sol), str(stub), str(tmp_path / "carol.ipynb"),
                           "--csv", str(out / "grades.csv"), "--json", str(out / "report.json"),
                           "--timeout", "30", "--jobs", "2", "--sandbox", SANDBOX],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 2, proc.stderr  # graded, but one file could not be
    rows = (out / "grades.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[0].startswith("submission,name,exercise,points,max_points,percent,status")
    assert ",alice,ex01,10.0,10.0,100.0,graded," in rows[1]
    assert ",bob,ex01,0.0,10.0,0.0,graded," in rows[2]
    assert ",carol,,0.0," in rows[3] and "not a valid notebook" in rows[3]
    report = json.loads((out / "report.json").read_text())
    alice = report["submissions"][0]
    assert alice["points"] == 10 and {c["passed"] for t in alice["tests"] for c in t["cases"]} == {True}
    feedback = sorted((out / "grades-feedback").glob("*.feedback.md"))  # this run's own folder
    assert len(feedback) == 3
    bob = (out / "grades-feedback" / f"{tmp_path.name}_bob.feedback.md").read_text()
    assert "Score: 0 / 10" in bob and "not implemented yet" in bob
    assert sol.read_bytes() == original


def test_wrong_exercise_with_exercise_option_scores_zero(tmp_path):
    other = sorted(p for p in SOLUTIONS.glob("*.ipynb") if not p.name.startswith("ex01"))
    if not other:
        pytest.skip("no second exercise yet")
    sub = B.write(B.load(other[0]), tmp_path / "wrong_exercise.ipynb")
    (res,) = grade_many([sub], Options(sandbox=SANDBOX, exercise="ex01"))
    assert res.status == "error" and res.points == 0 and res.max_points == 10
    assert "not ex01" in res.error and "wrong file" in res.error


# ------------------------------------------------------------------ stored objects through the grader
@pytest.fixture(scope="module")
def scaler(tmp_path_factory):
    """ex90 (tests/grading_cases/build.py): its solution and its unmodified student version, graded."""
    d = tmp_path_factory.mktemp("scaler")
    solutions, sol, ex = B.scaler_exercise(d / "course")
    sol_sub = shutil.copy(sol, d / "solution.ipynb")
    stub_sub = shutil.copy(ex, d / "stub.ipynb")
    results = grade_many([sol_sub, stub_sub], Options(sandbox=SANDBOX, timeout=30, jobs=2), solutions_dir=solutions)
    return {Path(r.submission).stem: r for r in results}


def test_ref_arguments_with_expected_numbers_are_graded(scaler):
    res = scaler["solution"]
    failed = [(c.name, c.message) for t in res.tests for c in t.cases if not c.passed]
    assert res.status == "graded" and res.points == res.max_points == 6, failed
    # the hidden tests use the object stored by the first check() call of the cell
    assert any(c.hidden and "first scaler again" in c.name and c.passed for c in res.tests[0].cases)


def test_set_up_call_that_returns_in_an_unfinished_notebook_earns_nothing(scaler):
    res = scaler["stub"]
    cases = res.tests[0].cases
    setups = [c for c in cases if c.setup]
    assert [c.name for c in setups] == ["a scaler with k = 3", "a scaler with k = -2"]
    assert all(c.passed for c in setups)  # make_scaler is a locked helper: it works in the stub
    assert res.points == 0
    assert not any(c.passed for c in cases if not c.setup)


def test_not_implemented_names_the_method_that_raised_not_the_helper(scaler):
    cases = {c.name: c for c in scaler["stub"].tests[0].cases}
    assert cases["k = 2 on (1, -1)"].message == ("not implemented yet: Scaler.apply still raises "
                                                 "NotImplementedError (replace it with your code)")
    assert cases["apply twice to (1, 2)"].message.startswith("not implemented yet: apply_twice still raises")


def test_feedback_lists_set_up_calls_apart_from_tests(scaler):
    from course.grade.report import feedback_text

    text = feedback_text(scaler["stub"])
    assert "## test_scaler: 0 / 6 points (0 of 5 tests passed)" in text
    assert "- set up: set-up call `make_scaler`: a scaler with k = 3" in text
    assert "- set up: hidden set-up call 1 of `make_scaler`" in text and "k = -2" not in text
    assert "- passed" not in text


def test_ref_to_an_object_no_case_stored_is_a_failed_case_not_a_crash(tmp_path):
    solutions, sol, _ = B.scaler_exercise(tmp_path / "course")
    nb = B.load(sol)
    for cell in nb["cells"]:
        if B.gid(cell) == "test_scaler":
            cell["source"] = cell["source"].replace('Ref("s_neg")', 'Ref("typo")')
    B.write(nb, sol)
    (res,) = grade_many([shutil.copy(sol, tmp_path / "solution.ipynb")], Options(sandbox=SANDBOX, timeout=30),
                        solutions_dir=solutions)
    (case,) = [c for c in res.tests[0].cases if "k = -2" in c.name and not c.setup]
    assert not case.passed and case.message == "not run: it needs 'typo', which no earlier test has stored"
    assert res.points == pytest.approx(6 * 4 / 5)


# ------------------------------------------------------------------ locked helpers cannot be replaced
SHADOW_PROBES = '''
def float64_and_shape(function_name, z, *args):
    return [1.0, 1.0]          # "yes, float64 and the right shape", whatever sigma does


def rejects_unknown_name(function_name, bad_name):
    return [1.0, 1.0, 1.0]     # "yes, it raised ValueError naming it"
'''


def test_an_answer_cell_cannot_replace_a_locked_helper_that_tests_call(tmp_path):
    """ex09's tests call locked probes (float64_and_shape, rejects_unknown_name) that return
    constant flags for a correct answer. An answer cell that defines probes of its own under the
    same names must not earn those flags: the grader puts the instructor's back before each call."""
    ex = next((ROOT / "exercises").glob("ex09_*.ipynb"))
    nb = B.load(ex)
    answer = next(c for c in nb["cells"] if B.gid(c) == "sigma")
    answer["source"] = SHADOW_PROBES + "\n\ndef sigma(z, name, alpha=None):\n    return np.asarray(z).astype(int)\n"
    sub = B.write(nb, tmp_path / "shadow.ipynb")
    (res,) = grade_many([sub], Options(sandbox=SANDBOX, timeout=30))
    probes = [c for t in res.tests for c in t.cases if "float64" in c.name or "unknown name" in c.name]
    assert probes and not any(c.passed for c in probes), [(c.name, c.message) for c in probes if c.passed]
