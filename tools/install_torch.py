"""Install the right PyTorch build into the running interpreter, before everything else.

    python tools/install_torch.py [--lock requirements.lock] [--variant auto|cpu|cuda|default] [--dry-run]

The version comes from the lock (its ``torch==X`` line), so the lock stays the one place that names it.
Which build (``choose``, unit-tested in tests/test_install_torch.py):

* Linux with an NVIDIA GPU (``nvidia-smi -L`` lists one): PyPI's default ``torch==X``, the CUDA build, which pulls
  about 20 nvidia-* and triton wheels.
* Linux x86_64 without one: the CPU-only build ``torch==X+cpu``, first from the indexes pip is configured with (a
  mirror or a local wheel folder may hold it), then from https://download.pytorch.org/whl/cpu (torch's
  dependencies still come from PyPI).
* Linux on other processors without a GPU: ``torch==X`` from https://download.pytorch.org/whl/cpu.
* macOS (and anything else): PyPI's default ``torch==X`` (on macOS it is CPU + Apple's MPS).

``--variant`` (Makefile: ``TORCH_VARIANT``) overrides the detection. This script uses the standard library only: it
runs before anything is installed and must not import torch.
"""

from __future__ import annotations

import argparse
import platform
import re
import shutil
import subprocess
import sys
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
PYPI = "https://pypi.org/simple"
VARIANTS = ("auto", "cpu", "cuda", "default")


def has_nvidia_gpu(run=subprocess.run, which=shutil.which) -> bool:
    """True when ``nvidia-smi -L`` exists, succeeds and lists at least one GPU."""
    exe = which("nvidia-smi")
    if not exe:
        return False
    try:
        out = run([exe, "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and "GPU" in (out.stdout or "")


def choose(system: str, machine: str, nvidia_gpu: bool, version: str, variant: str = "auto") -> list[list[str]]:
    """The pip arguments that install torch ``version``: alternatives to try in order, the first that works wins.

    ``system`` and ``machine`` as ``platform.system()`` and ``platform.machine()`` return them.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown torch variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    linux = system == "Linux"
    x86 = machine.lower() in ("x86_64", "amd64")
    if variant == "auto":
        variant = "cpu" if linux and not nvidia_gpu else "default"
    if variant in ("default", "cuda"):
        return [[f"torch=={version}"]]
    # cpu
    if linux and x86:
        return [[f"torch=={version}+cpu"],
                [f"torch=={version}+cpu", "--index-url", CPU_INDEX, "--extra-index-url", PYPI]]
    if linux:
        return [[f"torch=={version}", "--index-url", CPU_INDEX, "--extra-index-url", PYPI]]
    return [[f"torch=={version}"]]  # macOS and Windows: PyPI's default build has no CUDA


def locked_torch_version(lock: Path) -> str:
    """The X of the lock's ``torch==X`` line."""
    for line in lock.read_text().splitlines():
        m = re.match(r"torch==([^\s;\\]+)", line.strip())
        if m:
            return m.group(1)
    raise SystemExit(f"{lock} has no torch==... line: run make lock")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--lock", type=Path, default=Path(__file__).resolve().parents[1] / "requirements.lock")
    p.add_argument("--variant", default="auto", choices=VARIANTS)
    p.add_argument("--version", help="torch version (default: the lock's)")
    p.add_argument("--dry-run", action="store_true", help="print the choice and the pip commands, install nothing")
    args = p.parse_args(argv)

    version = args.version or locked_torch_version(args.lock)
    system, machine = platform.system(), platform.machine()
    gpu = has_nvidia_gpu() if system == "Linux" else False
    attempts = choose(system, machine, gpu, version, args.variant)
    what = "CPU-only" if attempts[0][0].endswith("+cpu") or CPU_INDEX in attempts[0] else "default"
    print(f"PyTorch {version}: {what} build ({system} {machine}, NVIDIA GPU: {'yes' if gpu else 'no'}, "
          f"variant {args.variant})", flush=True)
    constraints = ["-c", str(args.lock)] if args.lock.exists() and not args.version else []
    for i, extra in enumerate(attempts):
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", *constraints, *extra]
        print("  " + " ".join(cmd[1:]), flush=True)
        if args.dry_run:
            continue
        if subprocess.run(cmd).returncode == 0:
            return 0
        if i + 1 < len(attempts):
            print("  not found there; trying the next source", flush=True)
    return 0 if args.dry_run else 1


if __name__ == "__main__":
    sys.exit(main())
