"""How strong are an exercise's tests? Mutation testing of the reference solutions with the real grader.

    python benchmarks/mutation_test.py ex01 ex02 ...        # every mutant of these exercises
    python benchmarks/mutation_test.py ex04 --max-mutants 40   # a seeded sample of at most 40 per exercise
    python benchmarks/mutation_test.py ex01 --list             # only list the mutants, grade nothing
    python benchmarks/mutation_test.py ex03 --cells activate   # only the mutants of one answer cell

Each mutant is the solution notebook with ONE small change in the code between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` of one answer cell, made with Python's ``ast`` (positions from the parse, the change
written back into the cell's text, so comments and markers stay):

* a comparison operator replaced (``<`` by ``<=`` or ``>``, ``==`` by ``!=``, ...), ``and``/``or`` swapped,
  a ``not`` removed;
* an arithmetic operator replaced (``+``/``-``, ``*``/``/``, ``**`` by ``*``), a unary minus removed;
* a number constant changed (``0`` -> ``1``, ``1`` -> ``0``, ``c`` -> ``c + 1``), ``True``/``False`` swapped;
* a ``raise`` statement deleted;
* ``min``/``max`` swapped (also ``np.minimum``/``np.maximum``, ``argmin``/``argmax``, ``any``/``all``),
  ``reversed(x)`` replaced by ``x``;
* an index or slice bound off by one (``a[k]`` -> ``a[k + 1]``, ``a[i:j]`` -> ``a[i:j + 1]`` / ``a[i + 1:j]``).

Every mutant is graded with the real grader (``course.grade.grade_many``, the instructor's locked cells
and tests, hidden ones included, one hidden-input seed per run). A mutant that still earns full marks
"survives": either the tests miss a wrong answer, or the change is equivalent (the instructions leave
that behaviour open). Mutants that do not compile are not counted. The table lists per exercise the
mutants graded, killed and surviving; ``--survivors`` prints each survivor's change.

Runtime: every mutant is a full grading run of the notebook (a fresh kernel, all cells, all tests), so
exercises that train networks (ex03, ex04, ex05, ex08) cost seconds per mutant; ``--max-mutants`` caps the
number graded per exercise (a sample drawn with ``--seed``), ``--cells`` limits it to some answer cells, and a
lower ``--timeout`` bounds what mutants that loop forever cost. Measured on the shared 2-core machine (load average
3 to 18, December 2026), every mutant, two jobs: ex01, ex02, ex06 and ex07 (182 mutants) about 80 s together;
ex03 63 mutants 230 s; ex05 37 mutants 410 s (``--timeout 40``); ex04 34 mutants 380 s; ex08 46 mutants 24 min;
ex09 140 mutants 11 to 21 s; ex10 60 mutants 140 s; ex11 126 mutants 65 s; ex12's NumPy answers
(``--cells conv_output_size conv2d max_pool2d``, 83 mutants; every mutant still trains the CNN) 230 to 390 s,
its CNN cells (``--cells build_cnn train_cnn``, 30 mutants) 140 s (load average 2 to 6).
The default ``--sandbox off`` is only for these, your own reference solutions (it skips bubblewrap's start-up).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"

COMPARE_SWAPS = {
    ast.Lt: (ast.LtE, ast.Gt), ast.LtE: (ast.Lt, ast.GtE), ast.Gt: (ast.GtE, ast.Lt), ast.GtE: (ast.Gt, ast.LtE),
    ast.Eq: (ast.NotEq,), ast.NotEq: (ast.Eq,), ast.Is: (ast.IsNot,), ast.IsNot: (ast.Is,),
    ast.In: (ast.NotIn,), ast.NotIn: (ast.In,),
}
BINOP_SWAPS = {
    ast.Add: (ast.Sub,), ast.Sub: (ast.Add,), ast.Mult: (ast.Div,), ast.Div: (ast.Mult,),
    ast.FloorDiv: (ast.Div,), ast.Pow: (ast.Mult,), ast.MatMult: (ast.Mult,), ast.Mod: (ast.FloorDiv,),
}
NAME_SWAPS = {
    "min": "max", "max": "min", "minimum": "maximum", "maximum": "minimum", "argmin": "argmax",
    "argmax": "argmin", "amin": "amax", "amax": "amin", "any": "all", "all": "any", "nanmin": "nanmax",
    "nanmax": "nanmin",
}


@dataclass
class Mutant:
    exercise: str
    cell: str          # grade_id of the answer cell
    line: int          # line in the cell (1-based)
    kind: str
    before: str
    after: str
    source: str        # the whole mutated cell

    def describe(self) -> str:
        return f"{self.cell}:{self.line} {self.kind}: {self.before!r} -> {self.after!r}"


def solution_lines(source: str) -> set[int]:
    """The 1-based line numbers strictly between the solution markers of a cell."""
    inside, lines = False, set()
    for i, line in enumerate(source.splitlines(), start=1):
        if line.strip() == BEGIN:
            inside = True
        elif line.strip() == END:
            inside = False
        elif inside:
            lines.add(i)
    return lines


def _offsets(source: str) -> list[int]:
    starts, pos = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    starts.append(pos)
    return starts


def _span(node, starts, source) -> tuple[int, int]:
    """Character offsets of a node in the source (ast columns are UTF-8 byte offsets)."""
    def char(lineno, col):
        line = source[starts[lineno - 1]:starts[lineno]]
        return starts[lineno - 1] + len(line.encode("utf-8")[:col].decode("utf-8", errors="ignore"))
    return char(node.lineno, node.col_offset), char(node.end_lineno, node.end_col_offset)


def _within(node, lines: set[int]) -> bool:
    return all(n in lines for n in range(node.lineno, node.end_lineno + 1))


def _in_fstring(tree) -> set[int]:
    """ids of nodes inside f-strings (their positions are not reliable on older Pythons)."""
    inside = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            inside |= {id(n) for n in ast.walk(node)}
    return inside


def _number_variants(value) -> list:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return []
    out = []
    if value == 0:
        out.append(type(value)(1))
    elif value == 1:
        out.append(type(value)(0))
    out.append(value + 1)
    return list(dict.fromkeys(v for v in out if v != value))


def _replacements(node, tree_parent):
    """(kind, new text, node to replace) for every mutation of one node."""
    out = []
    if isinstance(node, ast.Compare):
        for i, op in enumerate(node.ops):
            for new in COMPARE_SWAPS.get(type(op), ()):
                m = copy.deepcopy(node)
                m.ops[i] = new()
                out.append(("comparison", f"({ast.unparse(m)})", node))
    elif isinstance(node, ast.BinOp):
        for new in BINOP_SWAPS.get(type(node.op), ()):
            m = copy.deepcopy(node)
            m.op = new()
            out.append(("operator", f"({ast.unparse(m)})", node))
    elif isinstance(node, ast.AugAssign):
        for new in BINOP_SWAPS.get(type(node.op), ()):
            m = copy.deepcopy(node)
            m.op = new()
            out.append(("operator", ast.unparse(m), node))
    elif isinstance(node, ast.BoolOp):
        m = copy.deepcopy(node)
        m.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        out.append(("and/or", f"({ast.unparse(m)})", node))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not)):
        out.append(("sign" if isinstance(node.op, ast.USub) else "not removed", f"({ast.unparse(node.operand)})", node))
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            out.append(("constant", repr(not node.value), node))
        else:
            for v in _number_variants(node.value):
                out.append(("constant", f"({v!r})", node))
    elif isinstance(node, ast.Raise):
        out.append(("raise deleted", "pass", node))
    elif isinstance(node, ast.Name) and node.id in NAME_SWAPS and isinstance(tree_parent, ast.Call) \
            and tree_parent.func is node:
        out.append(("min/max", NAME_SWAPS[node.id], node))
    elif isinstance(node, ast.Attribute) and node.attr in NAME_SWAPS:
        m = copy.deepcopy(node)
        m.attr = NAME_SWAPS[node.attr]
        out.append(("min/max", ast.unparse(m), node))
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "reversed" \
            and len(node.args) == 1:
        out.append(("order", f"({ast.unparse(node.args[0])})", node))
    elif isinstance(node, ast.Subscript):
        index = node.slice
        if isinstance(index, ast.Constant) and isinstance(index.value, int) and not isinstance(index.value, bool):
            out.append(("index", f"({index.value + 1})", index))
        elif isinstance(index, ast.Slice):
            for bound in (index.lower, index.upper):
                if bound is not None and not (isinstance(bound, ast.Constant) and bound.value is None):
                    out.append(("slice bound", f"({ast.unparse(bound)}) + 1", bound))
    return out


def mutants_of_cell(exercise: str, grade_id: str, source: str) -> list[Mutant]:
    lines = solution_lines(source)
    if not lines:
        return []
    tree = ast.parse(source)
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    skip = _in_fstring(tree)
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.FunctionDef, ast.ClassDef, ast.Module)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    starts = _offsets(source)
    original = ast.dump(tree)
    out, seen = [], set()
    for node in ast.walk(tree):
        if not hasattr(node, "lineno") or id(node) in skip or id(node) in docstrings or not _within(node, lines):
            continue
        for kind, text, target in _replacements(node, parents.get(id(node))):
            a, b = _span(target, starts, source)
            new = source[:a] + text + source[b:]
            try:
                dumped = ast.dump(ast.parse(new))
            except SyntaxError:
                continue
            if dumped == original or dumped in seen:
                continue
            seen.add(dumped)
            out.append(Mutant(exercise, grade_id, target.lineno, kind, source[a:b], text, new))
    return out


def solution_path(name: str, folder: Path) -> Path:
    matches = sorted(folder.glob(f"{name}*.ipynb")) or sorted(folder.glob(name))
    if len(matches) != 1:
        raise SystemExit(f"exercise {name!r}: expected one {folder}/{name}*.ipynb, found {[m.name for m in matches]}")
    return matches[0]


def mutants_of(path: Path) -> list[Mutant]:
    nb = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for cell in nb["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            out += mutants_of_cell(path.name[:4], meta["grade_id"], "".join(cell["source"]))
    return out


def write_mutant(path: Path, mutant: Mutant, target: Path) -> Path:
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == mutant.cell:
            cell["source"] = mutant.source.splitlines(keepends=True)
            cell["outputs"] = []
    target.write_text(json.dumps(nb), encoding="utf-8")
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("exercises", nargs="+", help="exercise ids or file names in solutions/ (ex01, ex09_...)")
    parser.add_argument("--max-mutants", type=int, default=0, help="grade at most N mutants per exercise "
                        "(a seeded random sample; 0: all)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the sample and of the hidden test inputs")
    parser.add_argument("--jobs", type=int, default=2, help="grading kernels at once (default 2)")
    parser.add_argument("--sandbox", choices=("bwrap", "off"), default="off",
                        help="grade in bubblewrap or without isolation (default off: the mutants are ours)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per cell and per test call")
    parser.add_argument("--solutions", type=Path, default=ROOT / "solutions",
                        help="the folder of solution notebooks whose answers are mutated and whose tests grade them "
                             "(default: solutions/; another checkout's folder measures an older version)")
    parser.add_argument("--cells", nargs="+", metavar="GRADE_ID",
                        help="mutate only these answer cells (their grade_ids, e.g. sigma layer)")
    parser.add_argument("--list", action="store_true", help="list the mutants, grade nothing")
    parser.add_argument("--survivors", action="store_true", help="print every surviving mutant's change")
    parser.add_argument("--json", type=Path, help="write every mutant and its result to this file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from course.grade.grader import Options, grade_many

    rows, record = [], []
    started = time.perf_counter()
    for name in args.exercises:
        path = solution_path(name, args.solutions)
        mutants = [m for m in mutants_of(path) if not args.cells or m.cell in args.cells]
        total = len(mutants)
        if args.max_mutants and total > args.max_mutants:
            mutants = random.Random(args.seed).sample(mutants, args.max_mutants)
        if args.list:
            for m in mutants:
                print(f"{path.name[:4]}  {m.describe()}")
            rows.append((path.name[:4], total, len(mutants), None, None, None, 0.0))
            continue
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="mutants-") as tmp:
            paths = [write_mutant(path, m, Path(tmp) / f"{path.stem}__m{i:04d}.ipynb") for i, m in enumerate(mutants)]
            options = Options(sandbox=args.sandbox, timeout=args.timeout, total_timeout=10 * args.timeout,
                              jobs=args.jobs, hidden_seed=args.seed, retry_timeouts=False)
            results = grade_many(paths, options, solutions_dir=args.solutions) if paths else []
        seconds = time.perf_counter() - t0
        survivors, errors = [], 0
        for m, r in zip(mutants, results):
            full = r.status == "graded" and r.max_points > 0 and r.points >= r.max_points - 1e-9
            errors += r.status != "graded"
            if full:
                survivors.append(m)
            record.append({**m.__dict__, "points": r.points, "max_points": r.max_points, "status": r.status,
                           "survived": full})
        rows.append((path.name[:4], total, len(mutants), len(mutants) - len(survivors), len(survivors), errors,
                     seconds))
        if args.survivors:
            for m in survivors:
                print(f"  survivor  {m.exercise}  {m.describe()}", flush=True)
        print(f"{path.name[:4]}: {len(mutants)} graded, {len(survivors)} survived, {seconds:.0f} s", flush=True)

    print()
    print(f"{'exercise':<9}{'mutants':>8}{'graded':>8}{'killed':>8}{'survived':>9}{'errors':>8}{'seconds':>9}")
    for ex, total, graded, killed, survived, errors, seconds in rows:
        if killed is None:
            print(f"{ex:<9}{total:>8}{graded:>8}{'-':>8}{'-':>9}{'-':>8}{'-':>9}")
        else:
            print(f"{ex:<9}{total:>8}{graded:>8}{killed:>8}{survived:>9}{errors:>8}{seconds:>9.0f}")
    print(f"total time {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(record, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
