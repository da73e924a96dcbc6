"""The deck items and conventions of lectures 01, 03, 05 and 10-13, read from the stored notebooks.

Every lecture ends with a further-reading section of real links; lectures 10-13 open like lectures 1-9
("# Lecture N — Title", then "You will learn"); the course's notation (cost C, batch size N) is used;
each deck item the review found missing is present with its computation; and the claim of lecture 5's
two-input section (D lines in general position cut the plane into 1 + D + D(D-1)/2 regions) holds for
course.MLP networks whose lines are drawn at random.
"""

from __future__ import annotations

import json
import re
from math import comb
from pathlib import Path

import numpy as np
import pytest

import course

ROOT = Path(__file__).resolve().parents[1]
LECTURES = {
    1: "01_machine_learning", 3: "03_forward_propagation", 5: "05_universal_approximation",
    10: "10_numpy_to_pytorch", 11: "11_sine_approximation", 12: "12_beyond_fully_connected",
    13: "13_interatomic_potentials",
}

#: every lecture after the index (the further-reading test covers them all)
ALL_LECTURES = {int(p.name[:2]): p.stem for p in sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))
                if not p.name.startswith("00")}


def _cells(number):
    with open(ROOT / "lectures" / f"{ALL_LECTURES[number]}.ipynb", encoding="utf-8") as fh:
        cells = json.load(fh)["cells"]
    return [("".join(c["source"]), c["cell_type"], c.get("outputs", [])) for c in cells]


def _markdown(number):
    return "\n".join(text for text, kind, _ in _cells(number) if kind == "markdown")


def _code(number):
    return "\n".join(text for text, kind, _ in _cells(number) if kind == "code")


def _printed(number):
    out = []
    for _, kind, outputs in _cells(number):
        for o in outputs if kind == "code" else []:
            out.append("".join(o.get("text", "")))
    return "\n".join(out)


@pytest.mark.parametrize("number", sorted(ALL_LECTURES))
def test_lecture_ends_with_further_reading(number):
    last = _cells(number)[-1][0]
    assert last.lstrip().startswith("## Further reading"), "the last cell is the further-reading section"
    links = re.findall(r"\]\((https?://[^)\s]+)\)|<(https?://[^>\s]+)>", last)
    assert len(links) >= 3, f"further reading names at least three linked resources, found {links}"
    assert re.search(r"chapter|section", last, re.I), "further reading points to specific chapters or sections"


@pytest.mark.parametrize("number", [10, 11, 12, 13])
def test_lectures_10_to_13_open_like_lectures_1_to_9(number):
    first = _cells(number)[0][0]
    assert first.startswith(f"# Lecture {number} — "), first.splitlines()[0]
    assert "**You will learn**" in first and "Sources:" in first
    headings = re.findall(r"^## (\d.*)$", _markdown(number), re.M)
    numbered = all(re.match(r"\d+\. ", h) for h in headings)
    assert headings and numbered, f"numbered sections are '## N. Title': {headings}"


@pytest.mark.parametrize("number", sorted(LECTURES))
def test_notation_cost_c_and_batch_size_n(number):
    text = _markdown(number)
    assert not re.search(r"(?<![A-Za-z\\])L = \\frac|\\partial L/|\\tilde L\b|\\nabla_\{\\mathbf\{w\}\} L\b", text), \
        "the cost is written C (NOTATION), not L"
    eta_rate = r"learning rate[^.]{0,40}\\eta|\\eta[^.]{0,40}learning rate"
    assert not re.search(eta_rate, text), "the learning rate is alpha"
    assert not re.search(r"for \$m\$ examples|\\frac\{1\}\{2m\}", text), "the batch size is N"


def test_lecture_11_rests_on_several_seeds():
    code, text = _code(11), _markdown(11)
    assert "SEEDS = range(5)" in code and "class SeedEnsemble" in code
    assert "depth lets a narrow network combine its few neurons more flexibly" not in text
    printed = _printed(11)
    assert printed.count("median") >= 9, "every comparison prints a median and a range over the seeds"


def test_lecture_13_deck_002_items():
    text, printed = _markdown(13), _printed(13)
    assert "as transcribed" in text, "the OCR'd electron mass is reported as transcribed"
    assert "attosecond" in text and "femtosecond" in text
    assert "atomic unit of time hbar/E_h = 24.2 as" in printed
    for term in ("bond", "angle", "torsion", "non-bonded"):
        assert f"{term} " in printed
    assert "gauche minimum at 63.5 deg" in printed


def test_lecture_12_graphs_hierarchy_and_lagrangian():
    text, printed = _markdown(12), _printed(12)
    for phrase in ("node) attributes", "global attributes", "Graph convolution versus message passing",
                   "permutation equivariant", "feature hierarchy", "Euler-Lagrange"):
        assert phrase in text, phrase
    assert "f(PH, PAP^T) = P f(H, A): True" in printed
    assert "vector features rotate, m -> Q m:   True" in printed
    assert printed.count("max error below 1e-12: True") == 3


def test_lecture_1_capacity_and_lecture_5_regions_are_shown():
    assert "decision boundar" in _markdown(1) and "def fit_boundary" in _code(1)
    assert "3 ReLU units, 2 inputs: 7 linear regions" in _printed(5)


@pytest.mark.parametrize("D", [2, 3, 4, 6, 10])
def test_shallow_relu_lines_cut_the_plane_into_the_counted_regions(D):
    """D random lines theta_0 + theta_1 x1 + theta_2 x2 = 0 (no two parallel, no three through a point) cut the
    plane into 1 + D + D(D-1)/2 regions, each with its own ReLU on/off pattern (lecture 5). Every region touches a
    crossing of two lines, so the four points just around each crossing visit every region exactly."""
    rng = np.random.default_rng(D)
    normals = rng.normal(size=(D, 2))
    offsets = rng.normal(size=D)
    net = course.MLP.from_weights([normals, np.ones((1, D))], [offsets, [0.0]], activation="relu")
    points = []
    for a in range(D):
        for b in range(a + 1, D):
            M = normals[[a, b]]
            vertex = np.linalg.solve(M, -offsets[[a, b]])
            for signs in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                points.append(vertex + 1e-7 * np.linalg.solve(M, signs))   # on the chosen side of lines a and b
    net.forward(np.array(points))
    patterns = {tuple(row) for row in (net.z[0] > 0)}
    assert len(patterns) == 1 + D + comb(D, 2)
    assert len(patterns) < 2 ** D or D <= 2                  # fewer regions than on/off patterns once D > 2
