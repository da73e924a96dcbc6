"""Input validation shared by the library: every error names the argument,
what was expected and what was given, in words a student understands."""

from __future__ import annotations

import numpy as np


def as_float_array(value, name: str, ndim: int | tuple[int, ...] | None = None) -> np.ndarray:
    """Convert ``value`` to a floating-point array, or raise a clear error.

    Integers and booleans are converted to float64; float32 and float64 are kept.
    """
    try:
        arr = np.asarray(value)
    except Exception as exc:  # pragma: no cover - numpy accepts almost anything
        raise TypeError(f"{name} must be array-like, got {type(value).__name__}") from exc
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must hold real numbers, got an array of dtype {arr.dtype}"
            + (" (complex numbers are not supported)" if arr.dtype.kind == "c" else "")
        )
    if arr.dtype.kind != "f":
        arr = arr.astype(np.float64)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape} ({arr.ndim}-D)")
    return arr


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError if ``arr`` holds NaN or infinity."""
    if not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); expected finite numbers")


def unknown_name(kind: str, given: str, known) -> ValueError:
    """The error for a name that is not in a registry, listing the known names."""
    return ValueError(f"unknown {kind} {given!r}; known {kind}s are: {', '.join(sorted(known))}")


def registry_key(kind: str, name, registry, aliases: dict | None = None, or_object: str = "") -> str:
    """``name`` lower-cased, an alias replaced by the name it stands for: a key of ``registry``, or a clear error.

    ``kind`` ("activation") and ``or_object`` (what may stand instead of a name, "an Activation")
    word the errors; an unknown name's error lists the known names and aliases.
    """
    if not isinstance(name, str):
        instead = f" or {or_object}" if or_object else ""
        raise TypeError(f"{kind} must be a name (str){instead}, got {type(name).__name__}")
    aliases = aliases or {}
    key = aliases.get(name.lower(), name.lower())
    if key not in registry:
        raise unknown_name(kind, name, [*registry, *aliases])
    return key


def non_negative(value, name: str) -> float:
    """``value`` as a float, or a ValueError naming ``name`` if it is negative, NaN or infinite."""
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    return float(value)


def layer_sizes(sizes) -> list[int]:
    """The layer widths [n_0, ..., n_L] as whole numbers, or a clear error (at least two widths, all >= 1)."""
    try:
        sizes = [int(n) for n in sizes]
    except (TypeError, ValueError):
        raise TypeError(f"sizes must be a list of layer widths such as [2, 64, 1], got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise ValueError(f"sizes must list at least an input and an output width, all >= 1, got {sizes}")
    return sizes
