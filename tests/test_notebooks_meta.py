"""Checks over every notebook of the course (lectures/, solutions/, exercises/), without running them.

They read the stored notebooks and fail on what a learner would trip over:
invalid or unexecuted notebooks, stored errors, unseeded randomness, broken
links, lectures without a summary and self-check, an index that misses a
lecture, widget or exercise, exercise notebooks that leak the solutions'
outputs, and "checked" cells whose output cannot be reproduced.
Running the notebooks themselves is ``pytest --nbval-lax``'s job.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LECTURE_NAMES = [
    "00_index", "01_machine_learning", "02_perceptron", "03_forward_propagation", "04_activation_functions",
    "05_universal_approximation", "06_differentiation", "07_backpropagation", "08_training", "09_regularization",
    "10_numpy_to_pytorch", "11_sine_approximation", "12_beyond_fully_connected", "13_interatomic_potentials",
]
EXERCISE_NAMES = [
    "ex01_forward_pass", "ex02_network_derivatives", "ex03_numpy_network", "ex04_sine_approximation",
    "ex05_capacity", "ex06_perceptron", "ex07_regularization", "ex08_nn_potential",
    "ex09_activation_functions", "ex10_autodiff", "ex11_optimizers", "ex12_convolution",
]
WIDGET_NAMES = [
    "perceptron_explorer", "activation_explorer", "universal_approximation", "forward_stepper",
    "backprop_stepper", "gradient_descent", "playground", "regularization_explorer",
]
INDEX = ROOT / "lectures" / "00_index.ipynb"

NOTEBOOKS = sorted(p for folder in ("lectures", "solutions", "exercises") for p in (ROOT / folder).glob("*.ipynb"))
EXECUTED = [p for p in NOTEBOOKS if p.parent.name in ("lectures", "solutions")]
LECTURES = [p for p in NOTEBOOKS if p.parent.name == "lectures" and p.stem != "00_index"]
EXERCISES = [p for p in NOTEBOOKS if p.parent.name == "exercises"]


def _id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def _load(path: Path) -> dict:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def _src(cell) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def _code_without_comments(cell) -> str:
    """The cell's code with comments and IPython magics removed (so that a comment cannot satisfy a check)."""
    lines = []
    for line in _src(cell).splitlines():
        if line.lstrip().startswith(("%", "!")):
            continue
        lines.append(re.sub(r"(?<![\"'])#.*$", "", line))
    return "\n".join(lines)


def _text_of(output) -> str:
    if output.get("output_type") == "stream":
        return "".join(output.get("text", ""))
    data = output.get("data", {})
    return "".join(data.get("text/plain", ""))


def _markdown(nb) -> list[tuple[int, str]]:
    return [(i, _src(c)) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown"]


# ----------------------------------------------------------------------------- the set of notebooks
def test_every_named_notebook_exists():
    """The fixed names of the course (lectures 00-13, exercises ex01-ex08 in solutions/ and exercises/)."""
    missing = [f"lectures/{n}.ipynb" for n in LECTURE_NAMES if not (ROOT / "lectures" / f"{n}.ipynb").exists()]
    for folder in ("solutions", "exercises"):
        missing += [f"{folder}/{n}.ipynb" for n in EXERCISE_NAMES if not (ROOT / folder / f"{n}.ipynb").exists()]
    assert not missing, f"these notebooks of the course are missing: {missing}"


def test_exercises_and_solutions_pair_up():
    solutions = {p.stem for p in (ROOT / "solutions").glob("*.ipynb")}
    exercises = {p.stem for p in (ROOT / "exercises").glob("*.ipynb")}
    assert solutions == exercises, (f"every solution needs its student version and vice versa; only in solutions/: "
                                    f"{sorted(solutions - exercises)}, "
                                    f"only in exercises/: {sorted(exercises - solutions)}")


# ----------------------------------------------------------------------------- every notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_valid_notebook(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", "the kernel must be the course's python3"
    assert nb.cells, "the notebook is empty"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_no_error_outputs(path):
    nb = _load(path)
    for i, cell in enumerate(nb["cells"]):
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"cell {i} stored an error: {out.get('ename')}: {out.get('evalue')}"
            assert "Traceback (most recent call last)" not in _text_of(out), f"cell {i} printed a traceback"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_outputs_hold_no_warnings_or_local_paths(path):
    """Stored outputs are what every learner sees: no warnings to fix, no paths of the machine that ran them."""
    for i, cell in enumerate(_load(path)["cells"]):
        for out in cell.get("outputs", []):
            text = _text_of(out)
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                assert "Warning" not in text, f"cell {i} stored a warning: {text.strip()[:200]}"
            local = re.search(r"(/work/|/home/|/Users/|/tmp/|[A-Z]:\\Users\\)", text)
            assert not local, f"cell {i} prints a path of the machine that ran it: ...{text[local.start():][:80]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_randomness_is_seeded(path):
    """Random numbers come from explicit seeds set before their first use, so every run gives the same numbers."""
    nb = _load(path)
    seeded = {"numpy": False, "torch": False, "random": False}
    everything = r"seed_everything\(\s*\w|make_deterministic\(\s*\w"   # course helpers that seed all generators
    seed_patterns = {
        "numpy": rf"np\.random\.seed\(\s*\w|{everything}",
        "torch": rf"torch\.manual_seed\(\s*\w|{everything}",
        "random": rf"\brandom\.seed\(\s*\w|{everything}",
    }
    torch_draws = r"torch\.(rand|randn|randint|randperm|normal|bernoulli|multinomial|rand_like|randn_like)\(" \
                  r"|\.(normal_|uniform_|random_)\("
    torch_modules = r"|nn\.(Linear|Conv[123]d|Bilinear|RNN|LSTM|GRU|Embedding)\("   # random initial weights
    use_patterns = {
        "numpy": r"np\.random\.(rand|randn|randint|random|normal|uniform|choice|shuffle|permutation|standard_normal)\(",
        "torch": torch_draws + torch_modules,
        "random": r"(?<![\w.])random\.(random|randint|choice|shuffle|uniform|gauss|sample)\(",
    }
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        code = _code_without_comments(cell)
        # a module whose parameters the same cell overwrites (fill_, copy_, load_state_dict) is not random
        overwritten = re.search(r"\.(fill_|copy_)\(|load_state_dict\(", code)
        use_patterns["torch"] = torch_draws if overwritten else torch_draws + torch_modules
        unseeded = re.search(r"default_rng\(\s*\)", code)
        assert not unseeded, f"cell {i}: np.random.default_rng() without a seed; write default_rng(<seed>)"
        for kind in seeded:
            for line in code.splitlines():
                if re.search(seed_patterns[kind], line):
                    seeded[kind] = True
                if re.search(use_patterns[kind], line) and not seeded[kind]:
                    pytest.fail(f"cell {i} draws {kind} random numbers before any seed is set: {line.strip()!r}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_nothing_reads_the_shared_source_folder(path):
    text = "\n".join(_src(c) for c in _load(path)["cells"])
    shared = "shared"  # spelled in pieces so that a search for references to the folder does not find this test
    for forbidden in ("/work/" + shared, "../" + shared, shared + "/seeds"):
        assert forbidden not in text, f"the notebook refers to {forbidden!r}; everything must live in the repository"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_relative_links_resolve(path):
    """Markdown links to files of the course point at files that exist."""
    broken = []
    for i, text in _markdown(_load(path)):
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^(https?:|mailto:|#)", target):
                continue
            file_part = target.split("#")[0]
            if file_part and not (path.parent / file_part).exists():
                broken.append((i, target))
    assert not broken, f"links to missing files (cell, target): {broken}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_outputs_are_small(path):
    size = path.stat().st_size
    assert size < 3_000_000, f"{path.name} is {size / 1e6:.1f} MB; keep figures at a modest dpi and prints short"
    for i, cell in enumerate(_load(path)["cells"]):
        for out in cell.get("outputs", []):
            png = "".join(out.get("data", {}).get("image/png", ""))
            assert len(png) < 400_000, f"cell {i} holds a {len(png) / 1e3:.0f} kB image; lower the dpi or figsize"
            assert len(_text_of(out)) < 20_000, f"cell {i} prints {len(_text_of(out))} characters; print less"


# ----------------------------------------------------------------------------- executed notebooks
@pytest.mark.parametrize("path", EXECUTED, ids=_id)
def test_executed_top_to_bottom(path):
    """Lectures and solutions are committed with the outputs of one fresh run: counts 1, 2, 3, ... in order."""
    cells = [c for c in _load(path)["cells"] if c["cell_type"] == "code" and _src(c).strip()]
    counts = [c.get("execution_count") for c in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"execution counts are {counts}; run the notebook once from a fresh kernel, top to bottom, and save it")


@pytest.mark.parametrize("path", EXECUTED, ids=_id)
def test_checked_cells_are_reproducible(path):
    """Cells compared by nbval (# NBVAL_CHECK_OUTPUT) must have output, and nothing that changes between runs."""
    for i, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code" or "NBVAL_CHECK_OUTPUT" not in _src(cell):
            continue
        outputs = cell.get("outputs", [])
        assert outputs, f"checked cell {i} has no stored output to compare"
        code = _code_without_comments(cell)
        for clock in ("perf_counter", "time.time(", "datetime.now", "process_time", "%timeit", "timeit("):
            assert clock not in code, f"checked cell {i} measures time ({clock}); print timings in an unchecked cell"
        for out in outputs:
            text = _text_of(out)
            assert not re.search(r" at 0x[0-9a-f]{6,}", text), f"checked cell {i} prints a memory address"
            assert "application/vnd.jupyter.widget-view+json" not in out.get("data", {}), (
                f"checked cell {i} displays a widget; widget cells must not be compared")


# ----------------------------------------------------------------------------- exercises
@pytest.mark.parametrize("path", EXERCISES, ids=_id)
def test_exercises_carry_no_outputs(path):
    """Student notebooks must not leak the solutions' results."""
    for i, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"cell {i} of the student version has stored outputs"
            assert cell.get("execution_count") is None, f"cell {i} of the student version has an execution count"


# ----------------------------------------------------------------------------- lectures
@pytest.mark.parametrize("path", LECTURES, ids=_id)
def test_lecture_opens_with_title_and_standard_imports(path):
    nb = _load(path)
    first_md = next(_src(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert first_md.lstrip().startswith("# "), "a lecture starts with a '# Title' markdown cell"
    first_code = next(_src(c) for c in nb["cells"] if c["cell_type"] == "code")
    lines = [line.strip() for line in first_code.splitlines() if line.strip()]
    assert lines[0] == "%matplotlib inline", "the first code cell starts with %matplotlib inline"
    for imp in ("import numpy as np", "import matplotlib.pyplot as plt", "import course"):
        assert imp in lines, f"the first code cell must contain {imp!r}"


@pytest.mark.parametrize("path", LECTURES, ids=_id)
def test_lecture_ends_with_summary_and_self_check(path):
    nb = _load(path)
    cells = nb["cells"]
    heading = re.compile(r"^#+\s.*", re.M)

    def heading_cell(pattern):
        found = [i for i, text in _markdown(nb) for h in heading.findall(text) if re.search(pattern, h, re.I)]
        return found[-1] if found else None

    summary = heading_cell(r"summary|key takeaways")
    check = heading_cell(r"self[- ]check|check yourself")
    assert summary is not None, "the lecture needs a '## Summary' section"
    assert check is not None, "the lecture needs a '## Self-check questions' section"
    assert check >= summary, "the self-check questions come after the summary"
    tail = cells[summary:]
    assert all(c["cell_type"] == "markdown" for c in tail), "no code after the summary: the lecture ends with it"
    questions = "\n".join(_src(c) for c in cells[check:])
    questions = questions[questions.lower().find("self"):]
    blocks = re.findall(r"<details>\s*<summary>[^<]*</summary>(.*?)</details>", questions, re.S)
    assert len(blocks) >= 3, "at least three self-check questions with a revealable <details> answer"
    assert questions.count("<details>") == questions.count("</details>") == len(blocks), "unbalanced <details> tags"
    assert all(len(b.strip()) > 10 for b in blocks), "every <details> block holds a real answer"


@pytest.mark.parametrize("path", LECTURES, ids=_id)
def test_lecture_checks_its_numbers(path):
    """Worked examples are printed in nbval-checked cells and asserted, so a wrong library value fails the run."""
    code = [_code_without_comments(c) for c in _load(path)["cells"] if c["cell_type"] == "code"]
    raw = [_src(c) for c in _load(path)["cells"] if c["cell_type"] == "code"]
    assert any("NBVAL_CHECK_OUTPUT" in s for s in raw), "no cell is marked # NBVAL_CHECK_OUTPUT"
    assert any(re.search(r"^\s*assert\b", s, re.M) for s in code), "no assert checks a number of the lecture"


@pytest.mark.parametrize("path", LECTURES, ids=_id)
def test_widget_cells_display_their_widget(path):
    """A widget call is the last line of its cell (so Jupyter displays it) and produced an output."""
    for i, cell in enumerate(_load(path)["cells"]):
        if cell["cell_type"] != "code":
            continue
        code = _code_without_comments(cell)
        for name in WIDGET_NAMES:
            if re.search(rf"widgets\.{name}\(", code):
                last = [line for line in code.splitlines() if line.strip()][-1].strip()
                shown = (re.fullmatch(rf"(course\.)?widgets\.{name}\(.*\)", last)   # the call itself
                         or re.fullmatch(r"[A-Za-z_]\w*(\.ui)?", last))               # or the app made above
                assert shown, (
                    f"cell {i}: make course.widgets.{name}(...) the cell's last expression so that it is displayed")
                assert cell.get("outputs"), f"cell {i}: the widget {name} produced no output"


def test_every_widget_appears_in_a_lecture():
    used = set()
    for path in LECTURES:
        code = "\n".join(_code_without_comments(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
        used |= {name for name in WIDGET_NAMES if re.search(rf"widgets\.{name}\(", code)}
    assert used == set(WIDGET_NAMES), f"widgets no lecture shows: {sorted(set(WIDGET_NAMES) - used)}"


# ----------------------------------------------------------------------------- the index
def _index_text() -> str:
    return "\n".join(text for _, text in _markdown(_load(INDEX)))


def _links(text: str) -> set[str]:
    return set(re.findall(r"\]\(([^)\s]+)\)", text))


def test_index_links_every_lecture():
    links = _links(_index_text())
    missing = [n for n in LECTURE_NAMES if f"{n}.ipynb" not in links]
    assert not missing, f"the index does not link these lectures: {missing}"
    present = {p.name for p in (ROOT / "lectures").glob("*.ipynb")}
    unlisted = sorted(present - {f"{n}.ipynb" for n in LECTURE_NAMES})
    assert not unlisted, f"lecture notebooks that are not part of the course's list (rename or add): {unlisted}"


def test_index_links_every_exercise():
    links = _links(_index_text())
    missing = [n for n in EXERCISE_NAMES if f"../exercises/{n}.ipynb" not in links]
    assert not missing, f"the index does not link these exercises (as ../exercises/NAME.ipynb): {missing}"


def test_index_maps_every_widget_to_a_lecture_that_shows_it():
    text = _index_text()
    for name in WIDGET_NAMES:
        rows = [line for line in text.splitlines() if line.lstrip().startswith("|") and f"widgets.{name}(" in line]
        assert rows, f"the index does not list the widget {name}"
        lectures = re.findall(r"\((\d\d_[a-z_]+\.ipynb)\)", rows[0])
        assert lectures, f"the index row of {name} links no lecture"
        path = ROOT / "lectures" / lectures[0]
        if path.exists():
            code = "\n".join(_src(c) for c in _load(path)["cells"] if c["cell_type"] == "code")
            assert f"widgets.{name}(" in code, f"the index says {lectures[0]} shows {name}, but it does not"


def test_index_explains_how_to_use_the_course():
    text = _index_text().lower()
    for topic in ("lectures in order", "widget", "exercise", "feedback"):
        assert topic in text, f"the index's how-to section should cover {topic!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_id)
def test_no_widget_state_is_stored(path):
    """Without stored widget state, nbconvert's HTML and GitHub show each widget's static PNG instead of a blank."""
    assert "widgets" not in _load(path).get("metadata", {}), (
        "the notebook stores widget state: re-execute it with --ExecutePreprocessor.store_widget_state=False")
