"""The PyTorch device helper and global seeding. PyTorch is imported only when called."""

from __future__ import annotations

import os
import random

import numpy as np

__all__ = ["device", "seed_everything"]


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
