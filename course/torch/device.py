"""The PyTorch device, global seeding and deterministic kernels. PyTorch is imported only when called."""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["device", "seed_everything", "make_deterministic"]


def device(prefer: str | None = None):
    """torch.device: CUDA when available, else Apple MPS, else CPU.

    ``prefer="cpu"`` (or the environment variable ``COURSE_DEVICE=cpu``) forces a device.
    """
    import torch

    choice = prefer or os.environ.get("COURSE_DEVICE")
    if choice:
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global state and PyTorch (if installed).

    Returns a fresh ``np.random.default_rng(seed)`` for code that takes a generator.
    """
    if int(seed) != seed:
        raise ValueError(f"seed must be a whole number, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency, but the NumPy core does not need it
        pass
    else:
        torch.manual_seed(seed)
    return np.random.default_rng(seed)


def make_deterministic(seed: int = 0, threads: int | None = None) -> np.random.Generator:
    """Seed everything and ask PyTorch for deterministic kernels (CPU and CUDA).

    Sets ``CUBLAS_WORKSPACE_CONFIG`` (needed by deterministic cuBLAS; it must be set
    before the first CUDA matrix product), calls
    ``torch.use_deterministic_algorithms(True, warn_only=True)`` (an operation
    without a deterministic kernel warns instead of failing), switches off the
    cuDNN autotuner and, if ``threads`` is given, limits PyTorch's CPU threads.
    Returns ``np.random.default_rng(seed)`` (see :func:`seed_everything`).
    """
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    if threads is not None:
        if int(threads) != threads or threads < 1:
            raise ValueError(f"threads must be a positive whole number, got {threads!r}")
        torch.set_num_threads(int(threads))
    return seed_everything(seed)
