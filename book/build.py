"""Build the course website: ``make book``, or ``python book/build.py [--out DIR]``.

The site is made from the notebooks as they are stored (their outputs; nothing is executed) in three steps:

1. MathJax 3, pinned in ``book/package-lock.json``, is installed from the npm registry by ``npm ci`` into
   ``book/node_modules`` (once; npm checks the lock's hash) and copied into the site, so that formulas render
   without a CDN and the site works offline.
2. ``lectures/*.ipynb`` and ``exercises/*.ipynb`` are staged into ``OUT/_build/source`` with a few changes for
   the web: a widget's output keeps only the PNG it stores (the still of its figure), followed by a note on how
   to use it live in JupyterLab; outputs of other widgets (progress bars) have no still and are left out; every
   page opens with a note on how to run it; links to files of the repository that are not pages of the site
   become their path in the repository; display formulas are joined onto one line (MyST reads the Markdown
   before the formulas and could take a line of one for a list item); ``<details>`` answers become dropdowns,
   whose Markdown and formulas are parsed. The table of contents, a page that collects every lecture's
   "Further reading" section, and which of these reference links exist, are generated.
3. Jupyter Book 1.x (Sphinx) builds ``OUT/_build/html``: open ``OUT/_build/html/index.html``.

OUT is ``book`` unless ``--out`` says otherwise: the site is ``book/_build/html``, its staged sources are in
``book/_build/source``.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml
from docutils.nodes import make_id

BOOK = Path(__file__).resolve().parent
ROOT = BOOK.parent
INDEX = "lectures/00_index"
READING = "lectures/further_reading"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MATHJAX = BOOK / "node_modules" / "mathjax"
#: what the site needs of MathJax's es5 folder: the TeX-to-HTML component and every module it or its menu loads
#: on demand (TeX and MathML input extensions, both renderers and their fonts, the accessibility modules with
#: their speech rules); the other combined components (tex-svg.js, mml-chtml.js, ...) are never loaded
MATHJAX_PARTS = ["tex-chtml.js", "input", "output", "a11y", "ui", "sre", "adaptors"]
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
LINK = re.compile(r"(?<!!)\[([^\]\n]+)\]\(([^)\s]+)\)")
IMAGE = re.compile(r"!\[[^\]\n]*\]\(([^)\s]+)\)")
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
FENCE = re.compile(r"(^[ \t>]*(?:```|~~~).*?^[ \t>]*(?:```|~~~))", re.DOTALL | re.MULTILINE)
DETAILS = re.compile(r"<details>\s*<summary>(.*?)</summary>(.*?)</details>", re.DOTALL | re.IGNORECASE)


# ---------------------------------------------------------------- MathJax
def mathjax_version_locked() -> str:
    """The MathJax version that book/package-lock.json pins."""
    lock = json.loads((BOOK / "package-lock.json").read_text())
    return lock["packages"]["node_modules/mathjax"]["version"]


def ensure_mathjax() -> Path:
    """book/node_modules/mathjax at the locked version (``npm ci`` when it is missing or another version)."""
    wanted = mathjax_version_locked()
    installed = MATHJAX / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == wanted:
        return MATHJAX
    npm = shutil.which("npm")
    if npm is None:
        sys.exit(f"make book needs npm once, to install MathJax {wanted} (pinned in book/package-lock.json) "
                 "into book/node_modules: install Node.js with npm (e.g. apt-get install npm) and run it again.")
    subprocess.run([npm, "ci", "--prefix", str(BOOK), "--no-audit", "--no-fund", "--loglevel=error"], check=True)
    return MATHJAX


def copy_mathjax(static: Path) -> None:
    """Copy MathJax's needed files into the staged static folder (the site's ``_static/mathjax``)."""
    source = ensure_mathjax() / "es5"
    target = static / "mathjax"
    for part in MATHJAX_PARTS:
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
        else:
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / part, target / part)
    shutil.copy2(MATHJAX / "LICENSE", target / "LICENSE")


# ---------------------------------------------------------------- notebooks
def text(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def markdown_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {}, "source": source}


def headings(nb: dict) -> list[tuple[int, int, str]]:
    """(cell index, level, title) of every Markdown heading, in order."""
    found = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        in_fence = False
        for line in text(cell).splitlines():
            if line.lstrip().startswith(("```", "~~~")):
                in_fence = not in_fence
            match = None if in_fence else HEADING.match(line)
            if match:
                found.append((i, len(match.group(1)), match.group(2)))
    return found


def title(nb: dict, fallback: str) -> str:
    """The notebook's first heading, as plain text."""
    for _, _, heading in headings(nb):
        return heading
    return fallback


def section(nb: dict, pattern: str) -> tuple[str, str] | None:
    """(heading, Markdown body) of the first section whose heading matches ``pattern`` (case-insensitive),
    up to the next heading of the same or a higher level; None if the notebook has none."""
    lines, start_level, heading = [], None, None
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            if start_level is not None:
                break
            continue
        for line in text(cell).splitlines():
            match = HEADING.match(line)
            if start_level is None:
                if match and re.search(pattern, match.group(2), re.IGNORECASE):
                    start_level, heading = len(match.group(1)), match.group(2)
                continue
            if match and len(match.group(1)) <= start_level:
                return heading, "\n".join(lines).strip()
            lines.append(line)
        lines.append("")
    return None if heading is None else (heading, "\n".join(lines).strip())


def widget_name(source: str) -> str | None:
    """``perceptron_explorer`` from a cell that calls ``course.widgets.perceptron_explorer(...)``."""
    calls = re.findall(r"widgets\.(\w+)\(", source)
    return calls[-1] if calls else None


def live_note(kind: str, rel: str) -> str:
    """The note that opens every page: the page is a still copy; how to run it."""
    if rel == f"{INDEX}.ipynb":
        return (":::{note}\nThis website shows the course's notebooks with the outputs stored in its repository; "
                "the widgets appear as still figures. To run the lectures and use the widgets, run `make lab` in a "
                "clone of the course: JupyterLab opens with this index. To start an exercise, run "
                "`make start EX=ex01` (or `python -m course.start ex01`).\n:::")
    if kind == "exercises":
        name = Path(rel).stem.split("_")[0]
        return (":::{note}\nThis page shows the exercise `" + rel + "` as a student receives it. To solve it, "
                "in a clone of the course run `make start EX=" + name + "` (or `python -m course.start " + name
                + "`), which copies it to `work/`, then `make lab` and open the copy in JupyterLab; each test "
                "cell checks your answer.\n:::")
    return (":::{note}\nThis page shows `" + rel + "` with the outputs stored in the course's repository. To run "
            "it and use its widgets, run `make lab` in a clone of the course: JupyterLab opens with the course "
            "index, from which you open this lecture and run its cells (**Run ▸ Run All Cells**).\n:::")


def widget_note(name: str | None, rel: str) -> str:
    what = f"`{name}()`" if name else "this widget"
    return (":::{admonition} Interactive in JupyterLab\n:class: tip course-widget-note\n"
            f"The figure above is a still of {what}. Its sliders and menus work in JupyterLab: run `make lab` in "
            f"a clone of the course, open `{rel}` and run its cells (**Run ▸ Run All Cells**).\n:::")


def web_links(source: str, rel: str, pages: set[str]) -> str:
    """Links to repository files that are not pages of the site become their repository path."""
    folder = (ROOT / rel).parent

    def replace(match: re.Match) -> str:
        label, target = match.groups()
        path = target.split("#", 1)[0]
        if not path or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
            return match.group(0)
        try:
            repo_path = (folder / path).resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return match.group(0)
        if repo_path in pages:
            return match.group(0)
        shown = f"`{repo_path}`"
        return shown if label.strip("`") == repo_path else f"{label} ({shown} in the course's repository)"

    return LINK.sub(replace, source)


def markdown_inline(html: str) -> str:
    """The few inline HTML tags the notebooks use (code, emphasis, bold, line breaks), as Markdown."""
    html = re.sub(r"<code>(.*?)</code>", r"`\1`", html, flags=re.DOTALL | re.IGNORECASE)
    html = re.sub(r"</?(?:em|i)>", "*", html, flags=re.IGNORECASE)
    html = re.sub(r"</?(?:strong|b)>", "**", html, flags=re.IGNORECASE)
    return re.sub(r"<br\s*/?>", "\n", html, flags=re.IGNORECASE)


def one_line_display_math(source: str) -> str:
    """Every ``$$...$$`` on one line. Jupyter reads the formulas before the Markdown, MyST the Markdown first:
    a formula's continuation line that starts with ``+`` or ``-`` would become a list item (and ``\\;`` an
    escaped ``;``). Newlines in TeX are spaces, so joining the lines changes nothing else; a formula with
    a ``%`` comment is left as it is. Inside a block quote, the ``>`` that start its lines go too."""

    def join(match: re.Match, text: str) -> str:
        body = match.group(1)
        if "\n" not in body or "%" in body:
            return match.group(0)
        line = text[text.rfind("\n", 0, match.start()) + 1:match.start()]
        prefix = r"\s*\n[ \t]*>?[ \t]*" if line.lstrip().startswith(">") else r"\s*\n[ \t]*"
        return "$$" + re.sub(prefix, " ", body) + "$$"

    parts = FENCE.split(source)  # odd items: fenced code, left as it is
    return "".join(part if i % 2 else DISPLAY_MATH.sub(lambda m, part=part: join(m, part), part)
                   for i, part in enumerate(parts))


def dropdowns(source: str) -> str:
    """``<details><summary>S</summary>B</details>`` as a MyST dropdown: inside raw HTML neither Markdown nor
    formulas are parsed, so an answer written on the lines right after ``<summary>`` would show raw TeX."""

    def replace(match: re.Match) -> str:
        summary, body = match.groups()
        if "<details" in body.lower():
            return match.group(0)  # nested: left as it is
        summary = " ".join(markdown_inline(summary).split())
        return f"\n\n::::{{dropdown}} {summary}\n{markdown_inline(body).strip()}\n::::\n\n"

    return DETAILS.sub(replace, source)


def stage_notebook(nb: dict, kind: str, rel: str, pages: set[str]) -> dict:
    """The notebook as the site shows it (see the module docstring); ``nb`` is not changed."""
    nb = copy.deepcopy(nb)
    nb.get("metadata", {}).pop("widgets", None)
    cells = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            cell["source"] = dropdowns(one_line_display_math(web_links(text(cell), rel, pages)))
        cells.append(cell)
        notes = []
        if cell["cell_type"] == "code":
            outputs, stills = [], 0
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if WIDGET_VIEW in data:
                    if "image/png" not in data:
                        continue  # a progress bar or another widget without a still: nothing to show
                    output["data"] = {"image/png": data["image/png"]}
                    stills += 1
                outputs.append(output)
            cell["outputs"] = outputs
            if stills:
                tags = cell.setdefault("metadata", {}).setdefault("tags", [])
                tags.append("course-widget")
                notes.append(markdown_cell(widget_note(widget_name(text(cell)), rel), f"course-widget-note-{i}"))
        if i == 0:
            notes.insert(0, markdown_cell(live_note(kind, rel), "course-live-note"))
        cells.extend(notes)
    nb["cells"] = cells
    return nb


def reading_page(lectures: list[tuple[str, dict]]) -> str | None:
    """The page that collects every lecture's further reading (None when no lecture has such a section)."""
    parts = []
    for rel, nb in lectures:
        found = section(nb, r"^further reading")
        if found is None or not found[1]:
            continue
        body = re.sub(r"^(#{1,4}) ", r"##\1 ", found[1], flags=re.MULTILINE)  # below this page's headings
        name = Path(rel).name
        parts.append(f"## {title(nb, Path(rel).stem)}\n\nFrom the end of [this lecture]({name}).\n\n{body}\n")
    if not parts:
        return None
    return ("# Further reading\n\nEvery lecture ends with a list of further reading: the sources of its slides and "
            "the best open material on its topic. Here are all of them, lecture by lecture.\n\n" + "\n".join(parts))


def write(path: Path, content: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)


def stage(source: Path) -> dict:
    """Write the staged notebooks, the generated pages, _toc.yml and _config.yml into a fresh ``source``;
    return what was staged (for the summary)."""
    notebooks = {kind: sorted((ROOT / kind).glob(pattern))
                 for kind, pattern in (("lectures", "[0-9]*.ipynb"), ("exercises", "ex*.ipynb"))}
    pages = {p.relative_to(ROOT).as_posix() for paths in notebooks.values() for p in paths}
    if not notebooks["lectures"]:
        sys.exit("no lectures/*.ipynb to build the site from")
    shutil.rmtree(source, ignore_errors=True)
    loaded = {}
    for kind, paths in notebooks.items():
        for path in paths:
            rel = path.relative_to(ROOT).as_posix()
            try:
                nb = loaded[rel] = json.loads(path.read_text())
            except ValueError as error:
                sys.exit(f"{rel} is not a notebook (JSON) file: {error}")
            write(source / rel, json.dumps(stage_notebook(nb, kind, rel, pages), indent=1, ensure_ascii=False))
            for cell in nb["cells"]:  # local images that Markdown cells show
                for target in IMAGE.findall(text(cell)) if cell["cell_type"] == "markdown" else []:
                    image = (path.parent / target).resolve()
                    if not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) and image.is_file():
                        (source / image.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(image, source / image.relative_to(ROOT))

    lecture_files = [p.relative_to(ROOT).as_posix() for p in notebooks["lectures"]]
    root = INDEX if f"{INDEX}.ipynb" in lecture_files else lecture_files[0][:-len(".ipynb")]
    reading = reading_page([(rel, loaded[rel]) for rel in lecture_files if not rel.startswith(INDEX)])
    if reading is not None:
        write(source / f"{READING}.md", reading)
    notation = section(loaded[f"{root}.ipynb"], r"^notation\b")

    def chapters(files):
        return [{"file": f[:-len(".ipynb")]} for f in files if f[:-len(".ipynb")] != root]

    parts = [{"caption": "Lectures", "chapters": chapters(lecture_files)}]
    if notebooks["exercises"]:
        parts.append({"caption": "Exercises",
                      "chapters": chapters([p.relative_to(ROOT).as_posix() for p in notebooks["exercises"]])})
    if reading is not None:
        parts.append({"caption": "Reference", "chapters": [{"file": READING}]})
    toc = {"format": "jb-book", "root": root, "parts": parts}
    write(source / "_toc.yml", "# generated by book/build.py\n" + yaml.safe_dump(toc, sort_keys=False))

    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["sphinx"]["config"]["html_context"] = {
        "default_mode": "auto",  # light or dark, as the reader's system prefers
        "course_index": root,
        "course_notation": make_id(notation[0]) if notation else "",
        "course_reading": READING if reading is not None else "",
    }
    write(source / "_config.yml", "# generated by book/build.py from book/_config.yml\n"
          + yaml.safe_dump(config, sort_keys=False))
    for folder in ("_templates", "_ext", "static"):
        shutil.copytree(BOOK / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    copy_mathjax(source / "static")
    return {"lectures": len(notebooks["lectures"]), "exercises": len(notebooks["exercises"]),
            "notation": bool(notation), "reading": reading is not None}


def build(out: Path) -> Path:
    """Stage and build the site under ``out``; return the folder of the HTML site."""
    started = time.perf_counter()
    out = out.resolve()
    source = out / "_build" / "source"
    staged = stage(source)
    jupyter_book = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jupyter_book), "build", str(source), "--path-output", str(out), "--builder", "html",
                    "--all", "--quiet"], check=True)
    html = out / "_build" / "html"
    pages = [p for p in html.rglob("*.html") if p.relative_to(html).parts[0] not in ("_static", "_sources")]
    size = sum(p.stat().st_size for p in html.rglob("*") if p.is_file())
    print(f"\nThe course website: {html / 'index.html'}\n{len(pages)} pages ({staged['lectures']} lectures, "
          f"{staged['exercises']} exercises), {size / 2**20:.1f} MiB, built in {time.perf_counter() - started:.0f} s; "
          f"notation link: {'yes' if staged['notation'] else 'no (the index has no Notation section)'}, "
          f"further reading page: {'yes' if staged['reading'] else 'no (no lecture has a Further reading section)'}")
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BOOK,
                        help="the site goes to OUT/_build/html (default: book/_build/html)")
    args = parser.parse_args(argv)
    build(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
