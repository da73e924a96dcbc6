"""tools/install_torch.py: which PyTorch build setup installs, and that every make target uses the lock."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("install_torch", ROOT / "tools" / "install_torch.py")
it = importlib.util.module_from_spec(spec)
spec.loader.exec_module(it)

CPU = it.CPU_INDEX


def test_linux_without_gpu_gets_the_cpu_wheel_from_configured_indexes_first_then_pytorch_org():
    assert it.choose("Linux", "x86_64", False, "2.13.0") == [
        ["torch==2.13.0+cpu"],
        ["torch==2.13.0+cpu", "--index-url", CPU, "--extra-index-url", "https://pypi.org/simple"]]


def test_linux_with_an_nvidia_gpu_gets_pypis_cuda_build():
    assert it.choose("Linux", "x86_64", True, "2.13.0") == [["torch==2.13.0"]]


def test_linux_arm_without_gpu_gets_the_cpu_index():
    assert it.choose("Linux", "aarch64", False, "2.13.0") == [
        ["torch==2.13.0", "--index-url", CPU, "--extra-index-url", "https://pypi.org/simple"]]


@pytest.mark.parametrize("gpu", [False, True])
@pytest.mark.parametrize("machine", ["arm64", "x86_64"])
def test_macos_gets_the_default_wheel(machine, gpu):
    assert it.choose("Darwin", machine, gpu, "2.13.0") == [["torch==2.13.0"]]


def test_variant_overrides_detection():
    assert it.choose("Linux", "x86_64", True, "2.13.0", "cpu")[0] == ["torch==2.13.0+cpu"]
    assert it.choose("Linux", "x86_64", False, "2.13.0", "cuda") == [["torch==2.13.0"]]
    assert it.choose("Linux", "x86_64", False, "2.13.0", "default") == [["torch==2.13.0"]]
    with pytest.raises(ValueError, match="unknown torch variant"):
        it.choose("Linux", "x86_64", False, "2.13.0", "rocm")


class _Done:
    def __init__(self, rc, out):
        self.returncode, self.stdout = rc, out


@pytest.mark.parametrize("which, run, expected", [
    (lambda _: None, None, False),                                                    # no nvidia-smi
    (lambda _: "/usr/bin/nvidia-smi", lambda *a, **k: _Done(0, "GPU 0: NVIDIA H100 (UUID: x)\n"), True),
    (lambda _: "/usr/bin/nvidia-smi", lambda *a, **k: _Done(9, "NVIDIA-SMI has failed"), False),  # no driver
    (lambda _: "/usr/bin/nvidia-smi", lambda *a, **k: _Done(0, "No devices were found\n"), False),
    (lambda _: "/usr/bin/nvidia-smi", lambda *a, **k: (_ for _ in ()).throw(OSError("exec format")), False),
])
def test_gpu_detection_needs_a_working_nvidia_smi_that_lists_a_gpu(which, run, expected):
    assert it.has_nvidia_gpu(run=run, which=which) is expected


def test_the_version_comes_from_the_lock():
    assert it.locked_torch_version(ROOT / "requirements.lock") == "2.13.0"


def test_dry_run_prints_the_choice_and_installs_nothing():
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "install_torch.py"), "--dry-run", "--variant", "cpu"],
                         capture_output=True, text=True, check=True).stdout
    assert "PyTorch 2.13.0: CPU-only build" in out and "-c" in out and "requirements.lock" in out


def test_the_installer_does_not_import_torch_or_anything_outside_the_standard_library():
    source = (ROOT / "tools" / "install_torch.py").read_text()
    imported = set(re.findall(r"^(?:from|import) (\w+)", source, flags=re.M))
    assert imported <= {"__future__", "argparse", "platform", "re", "shutil", "subprocess", "sys", "pathlib"}


def _recipe(makefile: str, target: str) -> str:
    m = re.search(rf"^{re.escape(target)}:.*?\n((?:\t.*\n)+)", makefile, flags=re.M)
    assert m, target
    return m.group(1)


def test_every_install_goes_through_the_lock_and_every_target_through_that_install():
    mk = (ROOT / "Makefile").read_text()
    setup = _recipe(mk, "$(STAMP)")
    assert "tools/install_torch.py --lock $(LOCK)" in setup
    assert "$(PIP) install --quiet -c $(LOCK) -e \".[test,book]\"" in setup
    pip_lines = [line for line in setup.splitlines() if "pip install" in line]
    assert all("-c $(LOCK)" in line or "PIP_VERSION" in line for line in pip_lines), pip_lines
    assert re.search(r"^\$\(STAMP\): .*\$\(LOCK\)", mk, flags=re.M), "a changed lock must reinstall"
    for target in ("setup", "lab", "test", "start", "exercises", "notebooks", "bench", "book"):
        assert re.search(rf"^{target}: \$\(STAMP\)", mk, flags=re.M), target
    assert "REQUIRE_BROWSER=1" in (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", (ROOT / ".ci" / "run").read_text(), flags=re.M)


def test_the_lock_pins_every_package_exactly():
    lines = [line.strip() for line in (ROOT / "requirements.lock").read_text().splitlines()]
    reqs = [line for line in lines if line and not line.startswith("#")]
    assert reqs and all(re.match(r"^[A-Za-z0-9_.\-]+==[^\s;]+( ; .+)?$", line) for line in reqs), \
        [line for line in reqs if "==" not in line][:5]
    names = {re.split(r"[=;\s]", line)[0].lower() for line in reqs}
    assert {"numpy", "scipy", "matplotlib", "torch", "jupyterlab", "pytest", "nbval"} <= names


def test_lab_runs_as_root_and_passes_lab_args():
    mk = (ROOT / "Makefile").read_text()
    lab = _recipe(mk, "lab")
    assert "$(ROOT_ARG)" in lab and "$(LAB_ARGS)" in lab
    assert "ROOT_ARG := $(if $(filter 0,$(shell id -u" in mk and "--allow-root" in mk
    out = subprocess.run(["make", "-n", "-C", str(ROOT), "-o", ".venv/.installed", "lab",
                          "LAB_ARGS=--no-browser --port 8899"], capture_output=True, text=True, check=True).stdout
    assert "--no-browser --port 8899" in out
    import os
    assert ("--allow-root" in out) == (os.geteuid() == 0)
