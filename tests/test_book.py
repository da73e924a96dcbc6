"""The course website (``make book``) as a reader meets it: every page in headless Chromium, on a laptop and a phone.

The module builds the site afresh from the notebooks as they are now (``book/build.py --out`` a temporary
directory, so a stale ``book/_build`` is never what is tested; set ``BOOK_SITE=book/_build/html`` to test a site
you built yourself), serves it on loopback and opens every HTML page at 1280 px and at 390 px width. On every
page:

* no resource fails to load (a failed request or an HTTP status >= 400), and no request leaves the site: any
  request to another host is blocked and fails the test (the site must work offline: MathJax, fonts and
  scripts are its own files);
* no raw TeX remains: every formula element holds a MathJax rendering, MathJax reports no error, and the text
  of the page outside code shows no ``$$``, ``$...$`` or TeX command such as ``\\frac``;
* every image has loaded (``naturalWidth > 0``);
* the page body does not scroll sideways;
* the header holds the links to the notation table and the further-reading page (when the notebooks have them),
  visible within the window.

Across the site: every internal link resolves (the page exists, and so does the ``#fragment`` it names), the
index notebook is the landing page, every widget output of a lecture appears as its stored PNG with a note on
how to use it live (``make lab``), no empty widget is left, search finds a lecture, and no page refers to a
script, style sheet or font on another host.

Without Chromium or Playwright the test is skipped, unless ``REQUIRE_BROWSER=1`` (as in CI): then it fails.
``BOOK_SCREENSHOTS=DIR`` saves a full-page screenshot of every page at both widths.
Run it alone: ``python -m pytest tests/test_book.py -v``.
"""

from __future__ import annotations

import functools
import html.parser
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import chromium_for_playwright, missing_browser

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]


def _load_build():
    """book/build.py, the site's own reading of the notebooks (sections, titles, widget outputs)."""
    spec = importlib.util.spec_from_file_location("course_book_build", ROOT / "book" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


book = _load_build()

WIDTHS = {"laptop": (1280, 800), "phone": (390, 844)}
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BUILD_TIMEOUT = 600
#: TeX that must never show as text: display or inline dollars, or a TeX command
RAW_TEX = re.compile(r"\$\$|\$[^$\s][^$]*?\$|\\[A-Za-z]+|\\[()\[\]]")
SCREENSHOTS = os.environ.get("BOOK_SCREENSHOTS")

INSPECT = """
async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) { await MathJax.startup.promise; }
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  const skip = new Set(["PRE", "CODE", "SCRIPT", "STYLE", "TEXTAREA", "NOSCRIPT", "MJX-CONTAINER"]);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode(node) {
    for (let e = node.parentElement; e; e = e.parentElement) {
      if (skip.has(e.tagName) || e.classList.contains("highlight")) { return NodeFilter.FILTER_REJECT; }
    }
    return NodeFilter.FILTER_ACCEPT;
  }});
  const texts = [];
  while (walker.nextNode()) { texts.push(walker.currentNode.nodeValue); }
  const box = (e) => e.getBoundingClientRect();
  return {
    title: document.title,
    text: texts.join(" "),
    formulas: document.querySelectorAll(".math").length,
    unrendered: [...document.querySelectorAll(".math")].filter((e) => !e.querySelector("mjx-container"))
      .map((e) => e.textContent.slice(0, 100)),
    math_errors: [...document.querySelectorAll("mjx-merror, mjx-container [style*='color: red']")]
      .map((e) => (e.closest("mjx-container").querySelector("mjx-assistive-mml") || e).textContent.slice(0, 100)),
    images: images.map((img) => ({src: img.currentSrc || img.src, width: img.naturalWidth})),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    widget_stills: [...document.querySelectorAll(".tag_course-widget .cell_output img")]
      .map((img) => ({width: img.naturalWidth, shown: box(img).width})),
    widget_notes: [...document.querySelectorAll(".course-widget-note")].map((e) => e.textContent),
    live_note: (document.querySelector(".admonition.note") || {textContent: ""}).textContent,
    empty_widgets: document.querySelectorAll(
      "script[type='application/vnd.jupyter.widget-view+json'], .jupyter-widgets, .widget-area").length,
    scroll_width: document.scrollingElement.scrollWidth,
    window_width: window.innerWidth,
    header_links: [...document.querySelectorAll(".bd-header-article .course-links a")].map((a) => ({
      text: a.textContent.trim(), href: a.href, left: box(a).left, right: box(a).right, width: box(a).width})),
    footer_links: [...document.querySelectorAll(".course-footer-links a")].map((a) => a.textContent.trim()),
  };
}
"""


# ---------------------------------------------------------------- the site
@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The built site: book/build.py into a temporary directory (or BOOK_SITE)."""
    if os.environ.get("BOOK_SITE"):
        return Path(os.environ["BOOK_SITE"]).resolve()
    if not (book.MATHJAX / "package.json").exists() and shutil.which("npm") is None:
        missing_browser("npm is not installed: the site needs it once to install MathJax (apt-get install -y npm)")
    out = tmp_path_factory.mktemp("book")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, str(ROOT / "book" / "build.py"), "--out", str(out)],
                            capture_output=True, text=True, timeout=BUILD_TIMEOUT, cwd=ROOT)
    assert result.returncode == 0, f"make book failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    print(f"book built in {time.perf_counter() - started:.0f} s: {result.stdout.strip().splitlines()[-1]}")
    return out / "_build" / "html"


def _pages(html: Path) -> list[str]:
    """Every HTML page of the site, as a path relative to its root."""
    return sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html")
                  if p.relative_to(html).parts[0] not in ("_static", "_sources", "_images"))


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(site):
    """The site on a free loopback port: its base URL."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    chromium = chromium_for_playwright()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def _visit(browser, server: str, site: Path, name: str, width: int, height: int) -> dict:
    """Open every page at one window size: {(name, page): what INSPECT found, plus the page's failed
    requests, requests to other hosts and JavaScript errors}."""
    context = browser.new_context(viewport={"width": width, "height": height})
    current = {"page": None}
    problems: dict[str, dict[str, list[str]]] = {}

    def note(kind: str, text: str) -> None:
        problems.setdefault(current["page"], {"failed": [], "outside": [], "errors": []})[kind].append(text)

    def route(route) -> None:
        url = route.request.url
        if url.startswith(server) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            note("outside", url)
            route.abort()

    def failed(request) -> None:
        if request.url.startswith(server):
            note("failed", f"{request.url} ({request.failure})")

    def response(response) -> None:
        if response.status >= 400:
            note("failed", f"{response.url} (HTTP {response.status})")

    found = {}
    try:
        context.route("**/*", route)
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("requestfailed", failed)
        page.on("response", response)
        page.on("pageerror", lambda exc: note("errors", str(exc)))
        for path in _pages(site):
            current["page"] = path
            page.goto(server + path, wait_until="load")
            # index.html sends the reader on to the landing page
            if re.search(r'http-equiv="refresh"', (site / path).read_text(), re.IGNORECASE):
                page.wait_for_url(lambda url, path=path: url != server + path)
                page.wait_for_load_state("load")
            result = page.evaluate(INSPECT)
            page.wait_for_load_state("networkidle")  # what MathJax loads on demand (fonts, extensions)
            if SCREENSHOTS:
                Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}-{path.replace('/', '_')}.png"), full_page=True)
            found[name, path] = result
        for path in _pages(site):
            found[name, path].update(problems.get(path, {"failed": [], "outside": [], "errors": []}))
    finally:
        context.close()
    return found


@pytest.fixture(scope="module")
def visits(site, server, browser) -> dict:
    """Every page at every width (WIDTHS): {(width name, page): what _visit found}."""
    found = {}
    for name, (width, height) in WIDTHS.items():
        found.update(_visit(browser, server, site, name, width, height))
    return found


def _each(visits, key) -> dict:
    return {f"{width} {page}": value[key] for (width, page), value in visits.items() if value[key]}


# ---------------------------------------------------------------- the tests
def test_every_page_was_opened(site, visits):
    pages = _pages(site)
    lectures = sorted((ROOT / "lectures").glob("[0-9]*.ipynb"))
    exercises = sorted((ROOT / "exercises").glob("ex*.ipynb"))
    for notebook in lectures + exercises:
        page = notebook.relative_to(ROOT).with_suffix(".html").as_posix()
        assert page in pages, f"{notebook.relative_to(ROOT)} has no page on the site"
    assert {"index.html", "search.html"} <= set(pages)
    assert len(visits) == len(WIDTHS) * len(pages)


def test_no_resource_fails_and_nothing_leaves_the_site(visits):
    assert not _each(visits, "outside"), "requests to other hosts (the site must work offline)"
    assert not _each(visits, "failed"), "resources that failed to load"
    assert not _each(visits, "errors"), "JavaScript errors"


def test_no_page_refers_to_another_host_for_scripts_styles_or_fonts(site):
    """Static check of what the browser test may not reach: every <script>, <link> and CSS url()."""
    remote = re.compile(r"^(https?:)?//", re.IGNORECASE)
    found = []

    class Refs(html.parser.HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            for attr in ("src", "href") if tag in ("script", "link", "img", "iframe", "source") else ():
                if attrs.get(attr) and remote.match(attrs[attr]) and not (
                        tag == "link" and attrs.get("rel") in ("canonical", None)):
                    found.append(f"{self.page}: <{tag} {attr}={attrs[attr]}>")

    for path in site.rglob("*.html"):
        parser = Refs()
        parser.page = path.relative_to(site).as_posix()
        parser.feed(path.read_text(errors="replace"))
    for path in site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?([^'\")]+)", path.read_text(errors="replace")):
            if remote.match(url):
                found.append(f"{path.relative_to(site)}: url({url})")
    assert not found, "\n".join(found)


def test_every_formula_is_rendered(visits):
    assert not _each(visits, "unrendered"), "formulas MathJax did not render"
    assert not _each(visits, "math_errors"), "formulas MathJax could not read"
    raw = {}
    for (width, page), value in visits.items():
        hits = [value["text"][max(0, m.start() - 40):m.end() + 40] for m in RAW_TEX.finditer(value["text"])]
        if hits:
            raw[f"{width} {page}"] = hits[:5]
    assert not raw, f"raw TeX in the text of pages: {json.dumps(raw, indent=1, ensure_ascii=False)}"
    rendered = sum(value["formulas"] for (width, _), value in visits.items() if width == "laptop")
    assert rendered > 100, f"only {rendered} formulas on the whole site: is the math parsed at all?"


def test_every_image_loads(visits):
    broken = {key: [img["src"] for img in images if img["width"] == 0]
              for key, images in _each(visits, "images").items()}
    assert not {key: value for key, value in broken.items() if value}, f"images that did not load: {broken}"


def test_no_page_scrolls_sideways(visits):
    wide = {f"{width} {page}": f"{value['scroll_width']} px content in a {value['window_width']} px window"
            for (width, page), value in visits.items() if value["scroll_width"] > value["window_width"]}
    assert not wide, f"pages wider than the window: {wide}"


def test_every_internal_link_resolves(site, server, visits):
    targets: dict[str, set[str]] = {}
    for (_, page), value in visits.items():
        for href in value["links"]:
            if href.startswith(server):
                targets.setdefault(href, set()).add(page)
    ids: dict[Path, set[str]] = {}
    broken = []
    for href, pages in sorted(targets.items()):
        parts = urllib.parse.urlsplit(href[len(server) - 1:])
        path = urllib.parse.unquote(parts.path).lstrip("/") or "index.html"
        file = site / (path + "index.html" if path.endswith("/") else path)
        if not file.is_file():
            broken.append(f"{href} (linked from {sorted(pages)[:3]}): no such file")
            continue
        fragment = urllib.parse.unquote(parts.fragment)
        if fragment and file.suffix == ".html":
            if file not in ids:
                source = file.read_text(errors="replace")
                ids[file] = set(re.findall(r'\s(?:id|name)="([^"]+)"', source))
            if fragment not in ids[file]:
                broken.append(f"{href} (linked from {sorted(pages)[:3]}): no element with id {fragment!r}")
    assert not broken, "\n".join(broken)
    assert len(targets) > 50


def _widget_stills(notebook: Path) -> tuple[int, int]:
    """(widget outputs with a stored PNG, cells that hold them) of a notebook."""
    outputs = cells = 0
    for cell in json.loads(notebook.read_text())["cells"]:
        found = sum(1 for o in cell.get("outputs", [])
                    if book.WIDGET_VIEW in o.get("data", {}) and "image/png" in o.get("data", {}))
        outputs += found
        cells += bool(found)
    return outputs, cells


def test_widgets_appear_as_their_stored_figures_with_a_note(visits):
    total = 0
    for notebook in sorted((ROOT / "lectures").glob("[0-9]*.ipynb")):
        page = notebook.relative_to(ROOT).with_suffix(".html").as_posix()
        outputs, cells = _widget_stills(notebook)
        total += outputs
        for width in WIDTHS:
            value = visits[width, page]
            stills = value["widget_stills"]
            assert len(stills) == outputs, f"{width} {page}: {len(stills)} widget figures, the notebook has {outputs}"
            assert all(s["width"] > 0 and s["shown"] > 100 for s in stills), f"{width} {page}: {stills}"
            assert len(value["widget_notes"]) == cells, f"{width} {page}: {value['widget_notes']}"
            assert all("make lab" in text and notebook.name in text for text in value["widget_notes"])
            assert value["empty_widgets"] == 0, f"{width} {page}: an empty widget is left"
            assert "run in JupyterLab to interact" not in value["text"], f"{width} {page}: a widget's text form"
    assert total >= 1, "no lecture has a widget output with a stored PNG"


def test_every_page_says_how_to_run_it_live(visits):
    for (width, page), value in visits.items():
        if page.startswith("lectures/") and page != f"{book.READING}.html":
            assert "make lab" in value["live_note"], f"{width} {page}: no note on running it in JupyterLab"
        if page.startswith("exercises/"):
            name = Path(page).stem.split("_")[0]
            assert f"python -m course.start {name}" in value["live_note"], f"{width} {page}: {value['live_note']}"


def test_notation_and_further_reading_are_linked_from_every_page(site, visits):
    index = json.loads((ROOT / f"{book.INDEX}.ipynb").read_text())
    expected = []
    if book.section(index, r"^notation\b"):
        expected.append("Notation")
    lectures = [json.loads(p.read_text()) for p in sorted((ROOT / "lectures").glob("[0-9]*.ipynb"))]
    if any(book.section(nb, r"^further reading") for nb in lectures):
        expected.append("Further reading")
        assert (site / f"{book.READING}.html").is_file()
    for (width, page), value in visits.items():
        if page == "index.html":  # the redirect to the landing page
            continue
        header = value["header_links"]
        assert [link["text"] for link in header] == expected, f"{width} {page}: header links {header}"
        for link in header:
            assert link["width"] > 0 and 0 <= link["left"] and link["right"] <= value["window_width"], (
                f"{width} {page}: {link['text']} is not within the window: {link}")
        assert value["footer_links"] == ["Course index", *expected], f"{width} {page}: {value['footer_links']}"


def test_the_index_notebook_is_the_landing_page(server, browser):
    page = browser.new_page()
    try:
        page.goto(server, wait_until="load")
        page.wait_for_url(f"{server}{book.INDEX}.html")
        index = json.loads((ROOT / f"{book.INDEX}.ipynb").read_text())
        assert book.title(index, "") in page.title()
    finally:
        page.close()


def test_search_finds_a_lecture(server, browser):
    page = browser.new_page()
    try:
        page.goto(f"{server}search.html?q=perceptron", wait_until="load")
        page.wait_for_selector("#search-results li a", timeout=60_000)
        results = page.eval_on_selector_all("#search-results li a", "links => links.map(a => a.href)")
        assert any(href.split("#")[0].endswith("lectures/02_perceptron.html") for href in results), results
    finally:
        page.close()


def test_mathjax_menu_options_load_from_the_site(server, browser):
    """A reader who turns on MathJax's accessibility explorer and its SVG renderer (its right-click menu) loads
    more of MathJax: speech rules, MathML input, the SVG output and fonts. All of it must come from the site."""
    page = browser.new_page()
    requests, problems = [], []

    def route(route) -> None:
        requests.append(route.request.url)
        if route.request.url.startswith(server):
            route.continue_()
        else:
            problems.append(f"outside the site: {route.request.url}")
            route.abort()

    try:
        page.route("**/*", route)
        page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
        page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})"))
        page.on("pageerror", lambda exc: problems.append(f"JavaScript error: {exc}"))
        page.goto(f"{server}lectures/02_perceptron.html", wait_until="load")
        page.evaluate("() => MathJax.startup.promise")
        with page.expect_response(lambda r: "/a11y/explorer.js" in r.url, timeout=60_000):
            page.evaluate("() => { MathJax.startup.document.menu.menu.pool.lookup('explorer').setValue(true); }")
        page.evaluate("() => { MathJax.startup.document.menu.menu.pool.lookup('renderer').setValue('SVG'); }")
        page.wait_for_function("() => document.querySelector('mjx-container[jax=SVG]')", timeout=60_000)
        page.wait_for_load_state("networkidle")
    finally:
        page.close()
    assert any("/sre/mathmaps/" in url for url in requests), "the speech rules were not loaded"
    assert any("/output/svg" in url for url in requests), "the SVG renderer was not loaded"
    assert not problems, "\n".join(problems)
