# The two commands of the course (see README.md):
#   make lab    set up (once) and open the course in JupyterLab, lectures/00_index.ipynb as the start page
#   make test   set up (once) and run the whole test suite: library, notebooks, grader, browser, website
#   make book   the course as a static website in book/_build/html (stored outputs; MathJax via npm, once)
#
# Students: make start EX=ex01   copies exercises/ex01_*.ipynb to work/ (never overwrites your copy)
#
# Variables you may set:
#   PYTHON=python3.11      the interpreter that creates .venv
#   TORCH_VARIANT=auto     which PyTorch build: auto (CPU-only on Linux without an NVIDIA GPU, else PyPI's
#                          default), cpu, cuda or default; see tools/install_torch.py
#   LAB_ARGS="--no-browser --port 8899"   extra arguments for jupyter lab (--allow-root is added when run as root)
#   JOBS=2                 parallel pytest workers
#   TORCH_LATEST=X         make test-latest only: try torch X instead of the locked version
#
# Every install uses the lock, requirements.lock (exact versions of every package, made by `make lock`), so a
# fresh clone gets what CI tested. Maintainers: `make lock` refreshes it, `make test-latest` runs the suite
# against the newest releases in .venv-latest.

PYTHON ?= python3
TORCH_VARIANT ?= auto
LAB_ARGS ?=
JOBS ?= 2
EX ?=
LOCK := requirements.lock
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
UV := uv==0.13.9
PIP_VERSION := pip==26.3
PYTEST_ARGS := --dist loadfile --nbval-lax --nbval-cell-timeout=300 tests lectures exercises solutions
ROOT_ARG := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
# pip's own notices are noise here; its errors still show
PIP := PIP_DISABLE_PIP_VERSION_CHECK=1 $(BIN)/python -m pip

.PHONY: lab test setup start exercises notebooks bench clean lock test-latest book

# Widget state left in a notebook's metadata by an earlier run (nbconvert keeps it) makes nbconvert's
# HTML show blank widgets instead of their static PNG: remove it.
define STRIP_WIDGET_STATE
import json, sys
for path in sys.argv[1:]:
    nb = json.load(open(path))
    if nb.get("metadata", {}).pop("widgets", None) is not None:
        with open(path, "w") as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write("\n")
endef
export STRIP_WIDGET_STATE

$(STAMP): pyproject.toml $(LOCK) tools/install_torch.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet "$(PIP_VERSION)"
	$(BIN)/python tools/install_torch.py --lock $(LOCK) --variant $(TORCH_VARIANT)
	PYTHONWARNINGS="ignore:Editable installation" $(PIP) install --quiet -c $(LOCK) -e ".[test,book]"
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/lectures/00_index.ipynb \
		$(ROOT_ARG) $(LAB_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) $(PYTEST_ARGS)

# A student's own copy of an exercise in work/ (git-ignored; an existing copy is never overwritten).
start: $(STAMP)
	$(BIN)/python -m course.start $(EX)

# Regenerate the student notebooks in exercises/ from the instructor's solutions/ (never touches work/).
exercises: $(STAMP)
	$(BIN)/python -m course.grade.generate

# Re-execute the lectures and solutions in place so that the stored outputs come from a fresh run, then
# regenerate exercises/ (which stores no outputs). Widget state is not stored: a widget's output then keeps
# its static PNG, which nbconvert's HTML and GitHub show.
notebooks: $(STAMP)
	for nb in lectures/*.ipynb solutions/*.ipynb; do \
		$(BIN)/jupyter nbconvert --to notebook --execute --inplace --ExecutePreprocessor.timeout=300 \
			--ExecutePreprocessor.store_widget_state=False "$$nb" || exit 1; \
	done
	$(BIN)/python -c "$$STRIP_WIDGET_STATE" lectures/*.ipynb solutions/*.ipynb
	$(BIN)/python -m course.grade.generate

# The course as a static website (Jupyter Book 1.x) from the stored outputs of lectures/ and exercises/: nothing
# is executed. Open book/_build/html/index.html; book/build.py says what it changes for the web. MathJax comes
# from the npm registry at the version of book/package-lock.json (npm ci, once) and is copied into the site.
book: $(STAMP)
	$(BIN)/python book/build.py

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python "$$script" || exit 1; done

# Maintainers: refresh the lock from PyPI: the newest versions pyproject.toml allows, for every platform and
# Python >= 3.10, keeping lock-pins.txt's pins (torch). Needs no .venv; uv lives in .venv-tools. Review the diff,
# run make test (CI runs it with Python 3.11), commit requirements.lock.
lock:
	test -x .venv-tools/bin/uv || { $(PYTHON) -m venv .venv-tools && .venv-tools/bin/python -m pip install --quiet "$(UV)"; }
	.venv-tools/bin/uv pip compile pyproject.toml --extra test --extra book --universal --python-version 3.10 \
		--constraint lock-pins.txt --index-url https://pypi.org/simple --no-config --upgrade --quiet \
		--custom-compile-command "make lock" --output-file $(LOCK)

# Maintainers: the whole suite against the newest releases of everything (no lock) in .venv-latest, so that
# drift shows up here as a task instead of on main; .venv stays as it is. PyTorch stays at the locked version
# unless TORCH_LATEST=X names another (it is the largest download and has its own CPU/CUDA choice).
# The versions tested are written to .venv-latest/versions.txt.
test-latest:
	test -x .venv-latest/bin/python || $(PYTHON) -m venv .venv-latest
	PIP_DISABLE_PIP_VERSION_CHECK=1 .venv-latest/bin/python -m pip install --quiet --upgrade pip
	.venv-latest/bin/python tools/install_torch.py --variant $(TORCH_VARIANT) \
		$(if $(TORCH_LATEST),--version $(TORCH_LATEST),--lock $(LOCK))
	.venv-latest/bin/python -c "import importlib.metadata as m; print('torch==' + m.version('torch'))" \
		> .venv-latest/torch-pin.txt
	PIP_DISABLE_PIP_VERSION_CHECK=1 .venv-latest/bin/python -m pip install --quiet --upgrade \
		--upgrade-strategy eager -c .venv-latest/torch-pin.txt -e ".[test,book]"
	PIP_DISABLE_PIP_VERSION_CHECK=1 .venv-latest/bin/python -m pip list --format=freeze > .venv-latest/versions.txt
	.venv-latest/bin/python -m pytest -n $(JOBS) $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .venv-latest .venv-tools .pytest_cache .hypothesis book/_build book/node_modules
