"""Threshold tests that NaN cannot pass: ``test=at_most(0.4, rms_error, "RMS force error")``.

Written by hand, ``if error > limit: return "too large"`` passes a NaN error, since every
comparison with NaN is False. These helpers compare the other way round (``error <=
limit`` must be True) and say what was measured:

    Case("held-out trimers", args=(...), test=at_most(0.4, rms_to(F_ref), "RMS force error"))

``measure(got)`` turns the student's answer (numbers as float arrays, see
:func:`course.grade.cases.as_numbers`) into one number; it may raise ``ValueError`` with a
sentence for the student ("expected 100 energies, got 99").
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

__all__ = ["at_most", "at_least", "within", "rms_to", "max_abs_to", "mean_abs_to", "fraction_equal_to"]

Measure = Callable[[object], float]


def _value(measure: Measure | None, got) -> float:
    value = got if measure is None else measure(got)
    value = np.asarray(value, dtype=np.float64)
    if value.size != 1:
        raise ValueError(f"expected one number, got {value.size}")
    return float(value.reshape(()))


def _fmt(x: float) -> str:
    return f"{x:.4g}" if math.isfinite(x) else str(x)


def _threshold(passes: Callable[[float], bool], bound: str, measure: Measure | None, what: str) -> Callable:
    def test(got):
        try:
            value = _value(measure, got)
        except ValueError as exc:
            return str(exc)
        return None if math.isfinite(value) and passes(value) else f"{what} is {_fmt(value)}, {bound}"
    return test


def at_most(limit: float, measure: Measure | None = None, what: str = "the value") -> Callable:
    """A test that passes when ``measure(got) <= limit`` (NaN and infinity fail)."""
    return _threshold(lambda value: value <= limit, f"at most {limit:g} allowed", measure, what)


def at_least(limit: float, measure: Measure | None = None, what: str = "the value") -> Callable:
    """A test that passes when ``measure(got) >= limit`` (NaN and infinity fail)."""
    return _threshold(lambda value: value >= limit, f"at least {limit:g} needed", measure, what)


def within(reference, tol: float, what: str = "the answer") -> Callable:
    """A test that passes when every entry is within ``tol`` of ``reference`` (same shape)."""
    ref = np.asarray(reference, dtype=np.float64)

    def test(got):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != ref.shape:
            return f"{what} has shape {got.shape}, expected {ref.shape}"
        err = np.abs(got - ref)
        ok = err <= tol
        if ok.all():
            return None
        i = tuple(int(k) for k in np.argwhere(~ok)[0])
        return f"{what} is {_fmt(float(got[i]))} at {i}, expected {_fmt(float(ref[i]))} within {tol:g}"
    return test


def _against(reference, what: str):
    ref = np.asarray(reference, dtype=np.float64)

    def diff(got):
        got = np.asarray(got, dtype=np.float64)
        if got.shape != ref.shape:
            if got.size == ref.size:
                got = got.reshape(ref.shape)
            else:
                raise ValueError(f"expected {what} of shape {ref.shape}, got shape {got.shape}")
        return got - ref
    return diff


def rms_to(reference, what: str = "values") -> Measure:
    """measure: the root-mean-square difference to ``reference``."""
    diff = _against(reference, what)
    return lambda got: float(np.sqrt(np.mean(diff(got) ** 2)))


def max_abs_to(reference, what: str = "values") -> Measure:
    """measure: the largest absolute difference to ``reference``."""
    diff = _against(reference, what)
    return lambda got: float(np.max(np.abs(diff(got))))


def mean_abs_to(reference, what: str = "values", per: float = 1.0) -> Measure:
    """measure: the mean absolute difference to ``reference``, divided by ``per``."""
    diff = _against(reference, what)
    return lambda got: float(np.mean(np.abs(diff(got)))) / per


def fraction_equal_to(reference, what: str = "labels") -> Measure:
    """measure: the fraction of entries equal to ``reference`` (an accuracy)."""
    diff = _against(reference, what)
    return lambda got: float(np.mean(diff(got) == 0))
