# The two commands of the course (see README.md):
#   make lab    set up (once) and open the course in JupyterLab, lectures/00_index.ipynb as the start page
#   make test   set up (once) and run the whole test suite: library, notebooks, grader, browser
#
# Variables you may set:
#   PYTHON=python3.11   the interpreter that creates .venv
#   TORCH=torch==2.13.0 the PyTorch requirement installed before everything else
#   TORCH_INDEX=https://download.pytorch.org/whl/cpu   where to get it (e.g. the CPU-only wheel on
#                       Linux without a GPU; leave empty for PyPI's default build)
#   JOBS=2              parallel pytest workers

PYTHON ?= python3
TORCH ?= torch==2.13.0
TORCH_INDEX ?=
JOBS ?= 2
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: lab test setup exercises notebooks bench clean

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

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

setup: $(STAMP)

lab: $(STAMP)
	$(BIN)/jupyter lab --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/lectures/00_index.ipynb

test: $(STAMP)
	$(BIN)/python -m pytest -n $(JOBS) --dist loadfile --nbval-lax --nbval-cell-timeout=300 \
		tests lectures exercises solutions

# Regenerate the student notebooks in exercises/ from the instructor's solutions/.
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

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do echo "== $$script"; $(BIN)/python "$$script" || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
