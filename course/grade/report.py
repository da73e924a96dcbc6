"""Writing grading results: the CSV (one row per submission), the JSON report, feedback files."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path

from course.grade.scoring import SubmissionResult

__all__ = ["write_csv", "write_json", "write_feedback", "feedback_text", "summary_line", "escape"]

#: how much of one message a student's feedback shows
FEEDBACK_MESSAGE_CHARS = 300


def write_csv(results: list[SubmissionResult], path) -> None:
    """submission, name, exercise, points, max_points, percent, status, one column per test cell, message."""
    test_ids: list[str] = []
    for r in results:
        for t in r.tests:
            key = f"{r.exercise}:{t.grade_id}"
            if key not in test_ids:
                test_ids.append(key)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8", errors="replace") as fh:
        w = csv.writer(fh)
        w.writerow(["submission", "name", "exercise", "points", "max_points", "percent", "status"] + test_ids
                   + ["retried", "message"])
        for r in results:
            per = {f"{r.exercise}:{t.grade_id}": round(t.points, 3) for t in r.tests}
            problems = r.error or "; ".join(c["message"] for c in r.cells if c["status"] != "error")
            w.writerow([r.submission, r.name, r.exercise or "", round(r.points, 3), r.max_points,
                        round(r.percent, 1), r.status] + [per.get(k, "") for k in test_ids]
                       + ["yes" if r.retried else "", problems])


def write_json(results: list[SubmissionResult], path, options=None) -> None:
    data = {"submissions": [r.to_json() for r in results]}
    if options is not None:
        data["options"] = dataclasses.asdict(options)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=1, allow_nan=True) + "\n", encoding="utf-8")


def escape(text: str, limit: int = FEEDBACK_MESSAGE_CHARS) -> str:
    """Text for one Markdown list item: one line, at most ``limit`` characters, inert.

    Messages can carry text the student's code chose (an exception's message): it may not
    add headings, links, images, HTML or code blocks to the feedback, nor make it long.
    """
    text = " ".join(str(text).split())
    if len(text) > limit:
        text = text[:limit - 1] + "…"
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*\[\]#|!])", r"\\\1", text)


def feedback_text(r: SubmissionResult) -> str:
    """A student's feedback in Markdown: score, then every test.

    Public tests show their name and, when failed, why. Hidden tests show only their
    number and function ("hidden test 2 of `forward`: FAILED"): their names, inputs,
    expected values and messages stay in the instructor's JSON report.
    """
    lines = [f"# Feedback: {escape(Path(r.submission).name, 200)}", ""]
    if r.status != "graded":
        lines += [f"**Could not be graded:** {escape(r.error)}", "", f"Score: 0 / {r.max_points:g}", ""]
        return "\n".join(lines)
    lines += [f"Exercise {escape(r.exercise or '', 40)}: {escape(r.title, 200)}", "",
              f"**Score: {r.points:.4g} / {r.max_points:g}** ({r.percent:.0f} %)", ""]
    notes = [c for c in r.cells if c["status"] in ("timeout", "crashed", "error")]
    if notes:
        lines += ["Problems while running your notebook:", ""]
        lines += [f"- {escape(c['message'])}" for c in notes]
        lines.append("")
    for t in r.tests:
        tests = [c for c in t.cases if not c.setup]  # set-up calls (store, weight 0) are not tests
        n_pass = sum(c.passed for c in tests)
        lines += [f"## {t.grade_id}: {t.points:.4g} / {t.max_points:g} points ({n_pass} of {len(tests)} tests passed)",
                  ""]
        hidden_no: dict[str, int] = {}
        for c in t.cases:
            mark = "FAILED" if not c.passed else ("set up" if c.setup else "passed")
            if c.hidden:
                hidden_no[c.function] = hidden_no.get(c.function, 0) + 1
                kind = "set-up call" if c.setup else "test"
                lines.append(f"- {mark}: hidden {kind} {hidden_no[c.function]} of `{c.function}`")
                continue
            kind = "set-up call" if c.setup else "test"
            lines.append(f"- {mark}: {kind} `{c.function}`: {c.name}")  # the instructor's words
            if not c.passed:
                lines.append(f"  - {escape(c.message)}")
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


def write_feedback(results: list[SubmissionResult], directory) -> list[Path]:
    """One Markdown file per submission in ``directory``; sets each result's ``feedback`` path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for r, name in zip(results, _unique_names(results)):
        path = directory / f"{name}.feedback.md"
        path.write_text(feedback_text(r), encoding="utf-8", errors="replace")
        r.feedback = str(path)
        paths.append(path)
    return paths


def summary_line(r: SubmissionResult) -> str:
    if r.status != "graded":
        return f"{r.submission}: ERROR {r.error}"
    again = ", graded again alone after a timeout" if r.retried else ""
    return f"{r.submission}: {r.exercise} {r.points:.4g}/{r.max_points:g} ({r.seconds:.2f} s{again})"
