"""Writing grading results: the CSV (one row per submission), the JSON report, feedback files."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from course.grade.grader import SubmissionResult

__all__ = ["write_csv", "write_json", "write_feedback", "feedback_text", "summary_line"]


def write_csv(results: list[SubmissionResult], path) -> None:
    """submission, name, exercise, points, max_points, percent, status, one column per test cell, message."""
    test_ids: list[str] = []
    for r in results:
        for t in r.tests:
            key = f"{r.exercise}:{t.grade_id}"
            if key not in test_ids:
                test_ids.append(key)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["submission", "name", "exercise", "points", "max_points", "percent", "status"] + test_ids
                   + ["message"])
        for r in results:
            per = {f"{r.exercise}:{t.grade_id}": round(t.points, 3) for t in r.tests}
            problems = r.error or "; ".join(c["message"] for c in r.cells if c["status"] != "error")
            w.writerow([r.submission, r.name, r.exercise or "", round(r.points, 3), r.max_points,
                        round(r.percent, 1), r.status] + [per.get(k, "") for k in test_ids] + [problems])


def write_json(results: list[SubmissionResult], path, options=None) -> None:
    data = {"submissions": [r.to_json() for r in results]}
    if options is not None:
        data["options"] = {k: v for k, v in options.__dict__.items()}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, allow_nan=True) + "\n", encoding="utf-8")


def feedback_text(r: SubmissionResult, reveal_hidden: bool = False) -> str:
    """A student's feedback in Markdown: score, then every test with its message."""
    lines = [f"# Feedback: {Path(r.submission).name}", ""]
    if r.status != "graded":
        lines += [f"**Could not be graded:** {r.error}", "", f"Score: 0 / {r.max_points:g}", ""]
        return "\n".join(lines)
    lines += [f"Exercise {r.exercise}: {r.title}", "", f"**Score: {r.points:.4g} / {r.max_points:g}** "
              f"({r.percent:.0f} %)", ""]
    notes = [c for c in r.cells if c["status"] in ("timeout", "crashed", "error")]
    if notes:
        lines += ["Problems while running your notebook:", ""]
        lines += [f"- {c['message']}" for c in notes]
        lines.append("")
    for t in r.tests:
        tests = [c for c in t.cases if not c.setup]  # set-up calls (store, weight 0) are not tests
        n_pass = sum(c.passed for c in tests)
        lines += [f"## {t.grade_id}: {t.points:.4g} / {t.max_points:g} points ({n_pass} of {len(tests)} tests passed)",
                  ""]
        for c in t.cases:
            tag = ("hidden " if c.hidden else "") + ("set-up call" if c.setup else "test")
            mark = "FAILED" if not c.passed else ("set up" if c.setup else "passed")
            lines.append(f"- {mark}: {tag} `{c.function}`: {c.name}")
            if not c.passed:
                msg = c.message
                if c.hidden and not reveal_hidden:
                    msg = re.sub(r"expected [^,;)]+", "expected a different value", msg)
                lines.append(f"  - {msg}")
        lines.append("")
    return "\n".join(lines)


def _unique_names(results):
    seen: dict[str, int] = {}
    out = []
    for r in results:
        p = Path(r.submission)
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{p.parent.name}_{p.stem}" if p.parent.name else p.stem)
        n = seen.get(base, 0)
        seen[base] = n + 1
        out.append(base if n == 0 else f"{base}_{n}")
    return out


def write_feedback(results: list[SubmissionResult], directory, reveal_hidden: bool = False) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for r, name in zip(results, _unique_names(results)):
        path = directory / f"{name}.feedback.md"
        path.write_text(feedback_text(r, reveal_hidden), encoding="utf-8")
        paths.append(path)
    return paths


def summary_line(r: SubmissionResult) -> str:
    if r.status != "graded":
        return f"{r.submission}: ERROR {r.error}"
    return f"{r.submission}: {r.exercise} {r.points:.4g}/{r.max_points:g} ({r.seconds:.2f} s)"
