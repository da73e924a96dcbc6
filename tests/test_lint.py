"""ruff over the library, the tests and the benchmarks (rules in pyproject.toml's [tool.ruff]), so that
``make test`` lints too: pycodestyle, pyflakes, bugbear, and flake8-self (SLF001), which keeps every module
off the private attributes of other modules and libraries."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "course", "tests", "benchmarks"],
                          capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, (f"ruff found problems (ruff is in the test extras: pip install -e '.[test]'):\n"
                                  f"{proc.stdout}{proc.stderr}")
