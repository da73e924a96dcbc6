r"""Test cases, the JSON wire format, and the comparison of answers with expected values.

A :class:`Case` names one call of a student's function: its inputs, and either the
expected numbers or a property check. The same objects serve the in-notebook feedback
(:func:`course.grade.check`) and the instructor's grader, so a student sees exactly the
messages the grader would give for the public tests.

Wire format: inputs travel to the student's kernel as JSON in which NumPy arrays,
tuples, dicts and :class:`Ref` are tagged (``{"__nd__": ...}``), and answers travel back
as plain JSON numbers, lists and string-keyed dicts; :func:`validate_plain` rejects
anything else before the grader looks at it.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

__all__ = ["Case", "Ref", "encode", "decode", "fresh_inputs", "to_plain", "validate_plain", "compare",
           "as_numbers", "first_nonfinite", "NotNumbers", "MissingRef", "hidden_rng", "hidden_inputs_from"]


class NotNumbers(TypeError):
    """A student's function returned something that is not numbers."""


@dataclass(frozen=True)
class Ref:
    """An argument that refers to an object an earlier case stored with ``store=name``."""

    name: str


@dataclass
class Case:
    """One test: call ``fn(*args, **kwargs)`` and compare with ``expect`` (or run ``test``).

    See course/grade/FORMAT.md, section 4, for every field. ``weight`` defaults to 1, and
    to 0 for a ``store`` case (it only sets up an object for later cases, so it earns
    nothing by itself: a stub whose set-up call happens to return must not score).
    """

    name: str
    args: tuple = ()
    kwargs: dict | None = None
    expect: Any = None
    test: Callable[[Any], str | None] | None = None
    rtol: float = 1e-6
    atol: float = 1e-9
    shape: str = "strict"
    weight: float | None = None
    store: str | None = None
    fn: str | None = None
    hint: str = ""
    allow_nonfinite: bool = False

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"Case name must be a non-empty string, got {self.name!r}")
        if not isinstance(self.args, (tuple, list)):
            self.args = (self.args,)
        self.args = tuple(self.args)
        self.kwargs = dict(self.kwargs or {})
        if self.shape not in ("strict", "loose"):
            raise ValueError(f"Case shape must be 'strict' or 'loose', got {self.shape!r}")
        if self.store is None and self.expect is None and self.test is None:
            raise ValueError(f"Case {self.name!r} needs expect=..., test=... or store=...")
        if self.store is not None:
            if not isinstance(self.store, str) or not self.store:
                raise TypeError(f"Case {self.name!r}: store must be a non-empty name, got {self.store!r}")
            if self.expect is not None or self.test is not None:
                raise ValueError(f"Case {self.name!r}: a store case only keeps the returned object, so it "
                                 f"cannot also have expect= or test= (check the object in a later case "
                                 f"with Ref({self.store!r}) or fn='@{self.store}.method')")
        if callable(self.expect) and self.arg_refs():
            names = ", ".join(f"Ref({n!r})" for n in sorted(self.arg_refs()))
            raise ValueError(f"Case {self.name!r}: a callable expect cannot be used with {names} among the "
                             f"arguments: the stored object lives in the student's kernel, not where expect "
                             f"is computed. Compute the expected numbers in the test cell and pass them "
                             f"as expect=, or use test=")
        if self.weight is None:
            self.weight = 0.0 if self.store is not None else 1.0
        try:
            weight = float(self.weight)
        except (TypeError, ValueError):
            raise TypeError(f"Case {self.name!r}: weight must be a number >= 0, got {self.weight!r}") from None
        if not (weight >= 0 and math.isfinite(weight)):
            raise ValueError(f"Case weight must be >= 0, got {self.weight!r}")
        self.weight = weight

    @property
    def setup(self) -> bool:
        """True for a store case of weight 0: it sets up an object and is not a test by itself."""
        return self.store is not None and self.weight == 0

    def arg_refs(self) -> set[str]:
        """The names of stored objects among the arguments."""
        found: set[str] = set()
        _collect_refs((self.args, self.kwargs), found)
        return found

    def refs(self) -> set[str]:
        """The names of stored objects this case needs (arguments and ``fn="@name..."``)."""
        found = self.arg_refs()
        if self.fn and self.fn.startswith("@"):
            found.add(self.fn[1:].split(".", 1)[0])
        return found

    def expected_for(self, args, kwargs):
        """The expected value: ``expect`` itself, or ``expect(*args, **kwargs)`` if callable."""
        if callable(self.expect):
            return self.expect(*copy.deepcopy(args), **copy.deepcopy(kwargs))
        return self.expect

    def expected_value(self):
        """The expected value, computed from the case alone (no stored object is needed:
        a callable ``expect`` never has ``Ref`` arguments)."""
        if callable(self.expect):
            return self.expected_for(*fresh_inputs(self.args, self.kwargs))
        return self.expect


_RUN_SEED: contextvars.ContextVar[int | None] = contextvars.ContextVar("hidden_run_seed", default=None)


def hidden_rng(seed: int) -> np.random.Generator:
    """The random generator for a hidden test's inputs: ``rng = hidden_rng(1001)``.

    In the notebook it is ``np.random.default_rng(seed)``, so the instructor's notebook
    runs the same every time. When the grader reads the hidden tests, it is drawn afresh
    for each grading run from a secret run seed (``--hidden-seed`` repeats a run), so the
    hidden inputs cannot be copied out of one run's feedback and memorised for the next.
    """
    run = _RUN_SEED.get()
    return np.random.default_rng(seed if run is None else [run, seed])


@contextlib.contextmanager
def hidden_inputs_from(run_seed: int | None):
    """While active, :func:`hidden_rng` draws from ``run_seed`` (None: the notebook's own seeds)."""
    token = _RUN_SEED.set(run_seed)
    try:
        yield
    finally:
        _RUN_SEED.reset(token)


def _collect_refs(obj, found):
    if isinstance(obj, Ref):
        found.add(obj.name)
    elif isinstance(obj, (list, tuple)):
        for x in obj:
            _collect_refs(x, found)
    elif isinstance(obj, dict):
        for x in obj.values():
            _collect_refs(x, found)


# ------------------------------------------------------------------ inputs: grader -> kernel
def encode(obj) -> Any:
    """A JSON-ready form of a test input (arrays, tuples, dicts and Refs are tagged)."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, Ref):
        return {"__ref__": obj.name}
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind not in "biuf":
            raise TypeError(f"test inputs must be numeric arrays, got dtype {obj.dtype}")
        return {"__nd__": obj.tolist(), "dtype": obj.dtype.str, "shape": list(obj.shape)}
    if isinstance(obj, tuple):
        return {"__tuple__": [encode(x) for x in obj]}
    if isinstance(obj, list):
        return [encode(x) for x in obj]
    if isinstance(obj, dict):
        return {"__dict__": [[str(k), encode(v)] for k, v in obj.items()]}
    raise TypeError(f"a test input must be numbers, strings, None, lists, tuples, dicts or arrays, "
                    f"got {type(obj).__name__}")


def decode(obj, refs: dict | None = None) -> Any:
    """Inverse of :func:`encode`; ``refs`` maps stored names to objects."""
    if isinstance(obj, list):
        return [decode(x, refs) for x in obj]
    if isinstance(obj, dict):
        if "__nd__" in obj:
            return np.array(obj["__nd__"], dtype=np.dtype(obj["dtype"])).reshape(obj["shape"])
        if "__tuple__" in obj:
            return tuple(decode(x, refs) for x in obj["__tuple__"])
        if "__dict__" in obj:
            return {k: decode(v, refs) for k, v in obj["__dict__"]}
        if "__ref__" in obj:
            if refs is None or obj["__ref__"] not in refs:
                raise MissingRef(obj["__ref__"])
            return refs[obj["__ref__"]]
        raise ValueError(f"unknown tagged value {sorted(obj)}")
    return obj


class MissingRef(KeyError):
    """A case refers (``Ref(name)``) to an object that no earlier case stored."""


def fresh_inputs(args, kwargs, refs=None):
    """Copies of a case's inputs, with Refs resolved: each call gets its own.

    Raises :class:`MissingRef` (a ``KeyError`` holding the name) for a ``Ref`` that is not
    in ``refs``.
    """
    def resolve(obj):
        if isinstance(obj, Ref):
            if refs is None or obj.name not in refs:
                raise MissingRef(obj.name)
            return refs[obj.name]
        if isinstance(obj, tuple):
            return tuple(resolve(x) for x in obj)
        if isinstance(obj, list):
            return [resolve(x) for x in obj]
        if isinstance(obj, dict):
            return {k: resolve(v) for k, v in obj.items()}
        return copy.deepcopy(obj)
    return resolve(tuple(args)), resolve(dict(kwargs))


# ------------------------------------------------------------------ answers: kernel -> grader
_MAX_ENTRIES = 5_000_000


def to_plain(value, _depth: int = 0):
    """Numbers only: floats, (nested) lists of floats, dicts with string keys.

    Accepts Python numbers, NumPy scalars and numeric arrays, PyTorch tensors, and lists,
    tuples and dicts of them. Anything else raises :class:`NotNumbers`, so that an
    object that merely claims to equal everything never reaches a comparison.
    """
    if _depth > 20:
        raise NotNumbers("the answer is nested more than 20 levels deep")
    if isinstance(value, (bool, np.bool_)):
        return float(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return float(value)
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise NotNumbers(f"an array of dtype {value.dtype}, not numbers")
        return np.asarray(value, dtype=np.float64).tolist()
    torch = _torch_if_loaded()
    if torch is not None and isinstance(value, torch.Tensor):
        if value.is_complex():
            raise NotNumbers("a complex tensor, not real numbers")
        return value.detach().to("cpu", dtype=torch.float64).numpy().tolist()
    if isinstance(value, (list, tuple)):
        return [to_plain(x, _depth + 1) for x in value]
    if isinstance(value, dict):
        return {str(k): to_plain(v, _depth + 1) for k, v in value.items()}
    raise NotNumbers(f"{_describe(value)}, not numbers")


def _torch_if_loaded():
    import sys

    return sys.modules.get("torch")


def _describe(value) -> str:
    if value is None:
        return "None (did you forget a return statement?)"
    name = type(value).__name__
    return f"a {name}" if name[0].lower() not in "aeiou" else f"an {name}"


def validate_plain(obj, _depth: int = 0, _count: list | None = None):
    """Check that parsed JSON holds only numbers, lists and string-keyed dicts; raise otherwise."""
    if _count is None:
        _count = [0]
    _count[0] += 1
    if _count[0] > _MAX_ENTRIES or _depth > 24:
        raise NotNumbers("the answer is too large or too deeply nested")
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        raise NotNumbers(f"the kernel sent {obj!r}, not a number")
    if isinstance(obj, (int, float)):
        return
    if isinstance(obj, list):
        for x in obj:
            validate_plain(x, _depth + 1, _count)
        return
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise NotNumbers("dict keys must be strings")
            validate_plain(v, _depth + 1, _count)
        return
    raise NotNumbers(f"the kernel sent a {type(obj).__name__}, not numbers")


# ------------------------------------------------------------------ comparison (grader side)
def first_nonfinite(plain, _where: str = "") -> str | None:
    """A sentence naming the first NaN or infinite entry of a plain answer, or None.

    A threshold written ``if error > limit: fail`` lets NaN through (every comparison with
    NaN is False), so the grader rejects non-finite answers before any test sees them,
    unless the case says ``allow_nonfinite=True``.
    """
    stack = [(plain, _where)]
    while stack:
        value, where = stack.pop()
        if isinstance(value, dict):
            stack.extend((v, f"{where}[{k!r}]") for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            arr = None
            try:
                arr = np.asarray(value, dtype=np.float64)
            except (ValueError, TypeError):
                stack.extend((v, f"{where}[{i}]") for i, v in reversed(list(enumerate(value))))
            if arr is not None and not np.isfinite(arr).all():
                idx = tuple(int(i) for i in np.argwhere(~np.isfinite(arr))[0])
                return f"the answer has {_fmt(arr[idx])} at {where or 'entry'} {_index(idx)}: a number is needed"
        elif not math.isfinite(value):
            return f"the answer{' ' + where if where else ''} is {_fmt(value)}: a number is needed"
    return None


def as_numbers(plain):
    """Plain data as float arrays: a rectangular list becomes an array, a ragged one a list."""
    if isinstance(plain, dict):
        return {k: as_numbers(v) for k, v in plain.items()}
    if isinstance(plain, list):
        try:
            arr = np.asarray(plain, dtype=np.float64)
        except (ValueError, TypeError):
            return [as_numbers(x) for x in plain]
        return arr
    return np.float64(plain)


def _plain_expected(expected):
    """The instructor's expected value in the same plain form as the student's answer."""
    try:
        return to_plain(expected)
    except NotNumbers as exc:
        raise TypeError(f"an expected value must be numbers: {exc}") from None


def _fmt(x) -> str:
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return f"{x:.6g}"


def _index(idx) -> str:
    return "(" + ", ".join(str(int(i)) for i in idx) + ("," if len(idx) == 1 else "") + ")"


def compare(got, expected, rtol: float = 1e-6, atol: float = 1e-9, shape: str = "strict",
            _where: str = "") -> str | None:
    """None when ``got`` matches ``expected``; otherwise a sentence saying where and how not.

    Both are plain data (see :func:`to_plain`); arrays are compared entry by entry with
    ``|got - expected| <= atol + rtol |expected|``.
    """
    at = f" in {_where}" if _where else ""
    if isinstance(expected, dict):
        if not isinstance(got, dict):
            return f"expected a dict with keys {sorted(expected)}{at}, got {_kind(got)}"
        missing = [k for k in expected if k not in got]
        if missing:
            return f"the dict{at} lacks the key(s) {missing}"
        for k in expected:
            msg = compare(got[k], expected[k], rtol, atol, shape, f"{_where}[{k!r}]")
            if msg:
                return msg
        return None
    exp_arr = as_numbers(expected)
    if isinstance(exp_arr, list):  # ragged: compare item by item
        if not isinstance(got, list) or len(got) != len(exp_arr):
            n = len(got) if isinstance(got, list) else None
            return (f"expected a list of {len(exp_arr)} items{at}, got "
                    + (f"{n} items" if n is not None else _kind(got)))
        for i, (g, e) in enumerate(zip(got, expected)):
            msg = compare(g, e, rtol, atol, shape, f"{_where}[{i}]")
            if msg:
                return msg
        return None
    if isinstance(got, dict):
        return f"expected numbers{at}, got a dict"
    got_arr = as_numbers(got)
    if isinstance(got_arr, list):
        return f"expected an array of shape {exp_arr.shape}{at}, got a ragged list"
    if got_arr.shape != exp_arr.shape:
        if shape == "loose" and got_arr.size == exp_arr.size:
            got_arr = got_arr.reshape(exp_arr.shape)
        else:
            return (f"the answer{at} has shape {got_arr.shape}, expected shape {exp_arr.shape}"
                    + (" (a number)" if exp_arr.shape == () else ""))
    bad = ~np.isclose(got_arr, exp_arr, rtol=rtol, atol=atol, equal_nan=True)
    if not bad.any():
        return None
    first = tuple(np.argwhere(bad)[0]) if exp_arr.ndim else ()
    g, e = got_arr[first] if first else got_arr, exp_arr[first] if first else exp_arr
    where = f"entry {_index(first)}{at}" if first else (f"the value{at}" if at else "the value")
    more = int(bad.sum()) - 1
    tail = f" ({more} more of {bad.size} entries differ)" if more > 0 else ""
    return f"{where}: got {_fmt(g)}, expected {_fmt(e)}{tail}"


def _kind(got) -> str:
    if isinstance(got, dict):
        return "a dict"
    if isinstance(got, list):
        return f"a list of {len(got)}"
    return "a number"
