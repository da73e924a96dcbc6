"""Every widget in a real browser: JupyterLab on loopback, driven by headless Chromium through Playwright.

The test starts JupyterLab on a free port with a temporary root directory
holding a copy of ``tests/browser/widgets.ipynb`` (one cell per widget, inline
backend), opens it in Debian's Chromium, runs all cells, and for each widget
moves a slider with the keyboard (falling back to a mouse drag) and checks
that the rendered figure changed (the ``src`` of its PNG image) and is not
blank. It then does the same with a second copy whose first cell says
``%matplotlib widget``: there every figure is ipympl's canvas, and the canvas
must change too and show as much ink (non-white pixels) as the inline image of
the same widget in the same state, so a canvas left blank or half painted
fails. (ipympl 0.10 now and then never shows one canvas at all; the ipympl
notebook is then opened once more, and a canvas missing twice fails.)

Without Chromium or Playwright the test is skipped, unless the environment
variable ``REQUIRE_BROWSER=1`` is set (as in CI): then it fails. Widgets whose
module is not written yet are skipped (their cells are left out of the copy).

Run it alone: ``python -m pytest tests/test_browser.py -m browser -v``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from tests.helpers import chromium_for_playwright

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "tests" / "browser" / "widgets.ipynb"
WIDGETS = ["perceptron_explorer", "activation_explorer", "universal_approximation", "forward_stepper",
           "backprop_stepper", "gradient_descent", "playground", "regularization_explorer"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STARTUP_TIMEOUT = 120       # JupyterLab to answer
RUN_TIMEOUT = 300           # all cells to finish
BACKENDS = {"inline": "widgets.ipynb", "ipympl": "widgets_ipympl.ipynb"}
MIN_INK = 0.02              # the sparsest widget figure is about 4 % non-white
IPYMPL_RETRIES = 2         # fresh runs of the ipympl notebook when a canvas never appeared (see browser_results)
CHANGE_TIMEOUT = 60         # a figure to change after a slider moved (some widgets train first)
#: window widths (CSS px) at which every widget must fit its output area, with the file browser open
LAYOUT_WIDTHS = (1000, 1400)
MIN_SLIDER_PX = 100         # a slider's track must be at least this long to be dragged
#: screenshots of every widget at every width go here (default: the test's temporary directory)
SCREENSHOTS = os.environ.get("BROWSER_SCREENSHOTS")


def _module(name: str) -> str:
    from course.widgets import _APPS

    return f"course.widgets.{_APPS[name]}"


def _present(name: str) -> bool:
    return importlib.util.find_spec(_module(name)) is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------- JupyterLab
def _write_root(root: Path) -> list[str]:
    """Copy the notebook into ``root`` twice (inline, and ipympl as ``widgets_ipympl.ipynb``), without
    the cells of widgets not written yet; return the widgets kept."""
    nb = json.loads(NOTEBOOK.read_text())
    cells, kept = [], []
    for cell in nb["cells"]:
        name = cell.get("metadata", {}).get("widget")
        if name is not None and not _present(name):
            continue
        if name is not None:
            kept.append(name)
        cells.append(cell)
    nb["cells"] = cells
    (root / "widgets.ipynb").write_text(json.dumps(nb))
    setup = next(cell for cell in cells if cell["cell_type"] == "code")
    source = "".join(setup["source"])
    assert source.startswith("%matplotlib inline"), "the first code cell must choose the inline backend"
    setup["source"] = source.replace("%matplotlib inline", "%matplotlib widget", 1)
    (root / "widgets_ipympl.ipynb").write_text(json.dumps(nb))
    # JupyterLab settings: render every cell (no windowing), no news or update pop-ups
    settings = root / ".settings"
    (settings / "@jupyterlab" / "notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))
    (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    return kept


@contextlib.contextmanager
def lab_server(root: Path):
    """A JupyterLab server on 127.0.0.1 (free port, token) serving ``root``; yields (base URL, token).

    Also used by ``benchmarks/bench_widgets_browser.py``.
    """
    port, token = _free_port(), secrets.token_hex(16)
    env = {k: v for k, v in os.environ.items() if k not in ("MPLBACKEND", "JUPYTER_TOKEN")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = "1"
    env["JUPYTER_CONFIG_DIR"] = str(root / ".jupyter")
    env["JUPYTER_RUNTIME_DIR"] = str(root / ".runtime")
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}", f"--LabApp.user_settings_dir={root / '.settings'}",
            f"--LabApp.workspaces_dir={root / '.workspaces'}", "--LabApp.news_url=",
            "--ServerApp.terminals_enabled=False"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")      # containers and CI often run as root
    log = open(root / "lab.log", "w")
    proc = subprocess.Popen(
        args,
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{(root / 'lab.log').read_text()}")
            try:
                _get_json(f"{base}/api/status?token={token}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not answer in {STARTUP_TIMEOUT} s:\n"
                                       f"{(root / 'lab.log').read_text()}") from None
                time.sleep(0.5)
        yield base, token
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)      # the server and the kernels it started
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 (free port, token) serving a temporary copy of the notebook."""
    chromium = chromium_for_playwright()
    root = tmp_path_factory.mktemp("lab")
    kept = _write_root(root)
    with lab_server(root) as (base, token):
        yield {"base": base, "token": token, "root": root, "chromium": chromium, "widgets": kept}


# ---------------------------------------------------------------- the browser session
_SIGNATURE_JS = """(cell) => {
    const canvases = Array.from(cell.querySelectorAll('.jp-OutputArea-output canvas'))
        .filter(c => c.width > 100 && c.height > 100);
    if (canvases.length) {
        return canvases.map(c => { try { return c.toDataURL(); } catch (e) { return 'tainted'; } }).join('|');
    }
    const images = Array.from(cell.querySelectorAll('.jp-OutputArea-output img'));
    return images.map(i => i.src).join('|');
}"""


# the fraction of non-white pixels of the cell's largest figure (ipympl canvas or inline PNG image)
_INK_JS = """(cell) => {
    const ink = (ctx, w, h) => {
        const d = ctx.getImageData(0, 0, w, h).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) n++;
        }
        return n / (w * h);
    };
    const canvases = Array.from(cell.querySelectorAll('.jp-OutputArea-output canvas'))
        .filter(c => c.width > 100 && c.height > 100);
    if (canvases.length) {
        return Math.max(...canvases.map(c => ink(c.getContext('2d'), c.width, c.height)));
    }
    const images = Array.from(cell.querySelectorAll('.jp-OutputArea-output img'))
        .filter(i => i.complete && i.naturalWidth > 100 && i.naturalHeight > 100);
    if (!images.length) return null;
    return Math.max(...images.map(i => {
        const c = document.createElement('canvas');
        c.width = i.naturalWidth; c.height = i.naturalHeight;
        const ctx = c.getContext('2d');
        ctx.drawImage(i, 0, 0);
        return ink(ctx, c.width, c.height);
    }));
}"""


# Everything of a widget that lies beyond its output area's right edge, labels and menus whose text
# is cut, sliders shorter than MIN_SLIDER_PX, and whether the output area scrolls sideways.
_LAYOUT_JS = """([cell, minSlider]) => {
    const app = cell.querySelector('.course-app');
    if (!app) return {found: false};
    const area = app.closest('.jp-OutputArea-output');
    const right = area.getBoundingClientRect().right;
    const name = (el) => (el.className && el.className.baseVal === undefined ? String(el.className) : el.tagName)
        .split(' ').slice(0, 2).join('.') + ' "' + (el.textContent || '').trim().slice(0, 30) + '"';
    const visible = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
    const beyond = [], truncated = [], short = [];
    for (const el of app.querySelectorAll('*')) {
        if (!visible(el)) continue;
        const r = el.getBoundingClientRect();
        if (r.right > right + 1) beyond.push(name(el) + ' ends ' + Math.round(r.right - right) + ' px past');
    }
    const ctx = document.createElement('canvas').getContext('2d');
    for (const el of app.querySelectorAll('.widget-label, .widget-label-basic, button, .widget-readout, ' +
                                          '.widget-html-content b, label')) {
        if (!visible(el) || !(el.textContent || '').trim()) continue;
        if (el.scrollWidth > el.clientWidth + 1) truncated.push(name(el));
    }
    for (const sel of app.querySelectorAll('select')) {
        if (!visible(sel) || sel.selectedIndex < 0) continue;
        const style = getComputedStyle(sel);
        ctx.font = style.fontSize + ' ' + style.fontFamily;
        const text = sel.options[sel.selectedIndex].text;
        // the text box is the select's width less its padding and the arrow (about 20 px)
        const room = sel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 4;
        if (ctx.measureText(text).width > room) truncated.push('select "' + text + '"');
    }
    for (const track of app.querySelectorAll('.widget-slider .noUi-target')) {
        if (!visible(track)) continue;
        const w = track.getBoundingClientRect().width;
        if (w < minSlider) short.push(name(track.closest('.widget-slider')) + ' ' + Math.round(w) + ' px');
    }
    return {found: true, beyond, truncated, short, scrolls: area.scrollWidth > area.clientWidth + 1,
            area_width: Math.round(area.getBoundingClientRect().width)};
}"""


def _open_file_browser(page) -> None:
    """Make sure JupyterLab's file browser (the default left panel) is open, as a student has it."""
    if not page.locator("#filebrowser").is_visible():
        page.locator(".jp-SideBar.jp-mod-left [data-id='filebrowser']").first.click()
        _wait(lambda: page.locator("#filebrowser").is_visible(), 10, "the file browser to open")


def _check_layouts(page, cells, widgets: list[str], shots: Path) -> dict:
    """At every width of LAYOUT_WIDTHS: each widget's layout problems (see _LAYOUT_JS) and a screenshot."""
    found = {}
    for width in LAYOUT_WIDTHS:
        page.set_viewport_size({"width": width, "height": 1000})
        _open_file_browser(page)
        time.sleep(1.5)   # JupyterLab lays out again; ipympl's canvases rescale
        for i, name in enumerate(widgets, start=1):
            cell = cells.nth(i)
            cell.scroll_into_view_if_needed()
            result = page.evaluate(_LAYOUT_JS, [cell.element_handle(), MIN_SLIDER_PX])
            output = cell.locator(".jp-OutputArea-output").last
            shots.mkdir(parents=True, exist_ok=True)
            path = shots / f"{width}px_{name}.png"
            try:
                output.screenshot(path=str(path))
                result["screenshot"] = str(path)
            except Exception as exc:  # a failed screenshot is reported, the layout check still counts
                result["screenshot"] = f"failed: {exc}"
            found[(width, name)] = result
    page.set_viewport_size({"width": 1500, "height": 1000})
    return found


# the figure's canvas (its page box) and the readouts of the sliders labelled "start w" and "start b"
_CANVAS_BOX_JS = """(cell) => {
    const c = Array.from(cell.querySelectorAll('.jp-OutputArea-output canvas')).filter(c => c.width > 100)[0];
    if (!c) return null;
    const r = c.getBoundingClientRect();
    return {left: r.left, top: r.top, width: r.width, height: r.height, pixels: c.width};
}"""
_READOUTS_JS = """(cell) => {
    const out = {};
    for (const s of cell.querySelectorAll('.widget-slider')) {
        const label = s.querySelector('.widget-label'), readout = s.querySelector('.widget-readout');
        if (label && readout) out[label.textContent.trim()] = readout.textContent.trim();
    }
    return out;
}"""
#: where the click test clicks gradient_descent's landscape: fractions of its axes' width and height
CLICK_AT = (0.8, 0.75)


def _click_target():
    """Gradient descent's landscape: the point of the figure (fractions, from the bottom left) at
    CLICK_AT of its axes, and the start (w, b) a click there must set (rounded as the app rounds)."""
    from course import widgets

    app = widgets.gradient_descent()
    box = app.ax.get_position()
    (x0, x1), (y0, y1) = app.ax.get_xlim(), app.ax.get_ylim()
    fx, fy = CLICK_AT
    return ((box.x0 + fx * box.width, box.y0 + fy * box.height),
            (round(x0 + fx * (x1 - x0), 1), round(y0 + fy * (y1 - y0), 1)))


def _number(text: str) -> float:
    """A slider's readout as a number (ipywidgets writes negative numbers with the minus sign U+2212)."""
    try:
        return float(text.replace("\u2212", "-"))
    except ValueError:
        return float("nan")


def _click_check(page, cell, lab, width: int = 1000) -> dict:
    """In a ``width`` px window (file browser open), click gradient_descent's landscape under ipympl
    and read the start sliders: the click must land where the student clicked on the scaled canvas."""
    page.set_viewport_size({"width": width, "height": 1000})
    _open_file_browser(page)
    time.sleep(1.5)
    cell.scroll_into_view_if_needed()
    (fx, fy), expected = _click_target()
    box = page.evaluate(_CANVAS_BOX_JS, cell.element_handle())
    result = {"expected": expected, "box": box}
    if box is not None:
        before = page.evaluate(_READOUTS_JS, cell.element_handle())
        page.mouse.click(box["left"] + fx * box["width"], box["top"] + (1 - fy) * box["height"])

        def moved() -> bool:
            now = page.evaluate(_READOUTS_JS, cell.element_handle())
            return any(now.get(k) != before.get(k) for k in ("start w", "start b"))

        try:  # the sliders follow once the kernel has handled the click (slowly on a busy machine)
            _wait(moved, 30, "the start sliders to move", interval=0.25)
        except AssertionError:
            pass  # judged by the test: the readouts still show the old start
        _wait(lambda: _kernel_idle(lab), 60, "the kernel to handle the click")
        time.sleep(0.5)
        readouts = page.evaluate(_READOUTS_JS, cell.element_handle())
        result["readouts"] = readouts
        result["got"] = tuple(_number(readouts.get(k, "nan")) for k in ("start w", "start b"))
    page.set_viewport_size({"width": 1500, "height": 1000})
    return result


def _kernel_idle(lab) -> bool:
    sessions = _get_json(f"{lab['base']}/api/sessions?token={lab['token']}")
    if not sessions:
        return False
    states = [_get_json(f"{lab['base']}/api/kernels/{s['kernel']['id']}?token={lab['token']}")["execution_state"]
              for s in sessions]
    return all(state == "idle" for state in states)


def _wait(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _move_slider(page, handle) -> None:
    """Move a noUiSlider handle one step right by keyboard, then (to be sure) drag it with the mouse."""
    handle.scroll_into_view_if_needed()
    handle.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")


def _drag_slider(page, handle) -> None:
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    if box is None:
        return
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x - 25, y, steps=5)
    page.mouse.up()


def _ink(page, cell, lab) -> float | None:
    """The figure's ink once the kernel is idle and the last frame has had time to arrive."""
    _wait(lambda: _kernel_idle(lab), 120, "the kernel to finish")
    time.sleep(1.0)
    return page.evaluate(_INK_JS, cell.element_handle())


def _exercise(page, cell) -> dict:
    """Move the cell's sliders one by one until the figure changes; report what happened."""
    before = page.evaluate(_SIGNATURE_JS, cell.element_handle())
    if not before:
        return {"rendered": False, "changed": False, "tried": 0}
    handles = cell.locator(".widget-slider .noUi-handle")
    tried = 0
    for i in range(min(handles.count(), 4)):
        handle = handles.nth(i)
        if not handle.is_visible():
            continue
        for move in (_move_slider, _drag_slider):
            tried += 1
            move(page, handle)
            try:
                _wait(lambda: page.evaluate(_SIGNATURE_JS, cell.element_handle()) != before,
                      CHANGE_TIMEOUT / 2, "the figure to change", interval=0.5)
                return {"rendered": True, "changed": True, "tried": tried, "slider": i}
            except AssertionError:
                continue
    return {"rendered": True, "changed": False, "tried": tried}


def _shut_down_kernels(lab) -> None:
    for session in _get_json(f"{lab['base']}/api/sessions?token={lab['token']}"):
        request = urllib.request.Request(f"{lab['base']}/api/sessions/{session['id']}?token={lab['token']}",
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()


def run_all_cells(page, lab, notebook: str, workspace: str, before_run=None):
    """Open ``notebook`` in a workspace of its own (reset, so no earlier notebook is restored beside it),
    run all its cells from the Run menu and wait until every one has run; returns the code cells.

    ``before_run(page)``, if given, is called once the kernel has started (e.g. to open the file browser).
    """
    page.goto(f"{lab['base']}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={lab['token']}")
    nb = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first
    nb.locator(".jp-CodeCell").first.wait_for(timeout=120_000)
    if before_run is not None:
        before_run(page)
    _wait(lambda: _kernel_idle(lab), 120, "the kernel to start")
    nb.click()
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    cells = nb.locator(".jp-CodeCell")
    n_code = cells.count()

    def all_ran():
        prompts = [cells.nth(i).locator(".jp-InputPrompt").inner_text() for i in range(n_code)]
        return all(pr.strip() not in ("[ ]:", "[*]:", "") for pr in prompts) and _kernel_idle(lab)

    _wait(all_ran, RUN_TIMEOUT, f"all cells of {notebook} to run")
    return cells


def _run_notebook(page, lab, notebook: str, widgets: list[str], shots: Path | None = None) -> dict:
    """Open ``notebook``, run all its cells, exercise the widget cells (one per name, after one setup cell)."""
    started = time.monotonic()
    results = {}
    cells = run_all_cells(page, lab, notebook, Path(notebook).stem.replace("_", "-"))
    results["_run_s"] = time.monotonic() - started
    results["_backend"] = cells.nth(0).locator(".jp-OutputArea-output").inner_text()
    for i, name in enumerate(widgets, start=1):
        cell = cells.nth(i)
        errors = cell.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
        result = {"error_output": errors.count() > 0 and "Traceback" in errors.first.inner_text()}
        try:  # wait for the widget's figure to render
            _wait(lambda cell=cell: page.evaluate(_SIGNATURE_JS, cell.element_handle()), 30, f"{name} to render")
        except AssertionError:
            pass
        result.update(_exercise(page, cell))
        result["ink"] = _ink(page, cell, lab)
        result["status"] = " ".join(cell.locator(".widget-html-content").all_inner_texts())
        results[name] = result
    _wait(lambda: _kernel_idle(lab), 120, "the kernel to finish")
    if shots is not None:
        results["_layout"] = _check_layouts(page, cells, widgets, shots)
    if "widget" in results["_backend"].lower() and "gradient_descent" in widgets:
        results["_click"] = _click_check(page, cells.nth(1 + widgets.index("gradient_descent")), lab)
    _shut_down_kernels(lab)
    return results


@pytest.fixture(scope="module")
def browser_results(lab, tmp_path_factory):
    """Run the all-widgets notebook; results by widget name."""
    from playwright.sync_api import sync_playwright

    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path_factory.mktemp("screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    results = {"errors": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=lab["chromium"], headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.set_default_timeout(60_000)
            page.on("pageerror", lambda exc: results["errors"].append(str(exc)))
            for backend, notebook in BACKENDS.items():
                results[backend] = _run_notebook(page, lab, notebook, lab["widgets"], shots / backend)
            # Known ipympl 0.10 race (in up to 1 run in 3 on a busy 2-core machine, always one canvas
            # that stays 0 x 0 and never appears, usually the last cell's): open the notebook afresh,
            # up to twice, before judging. A canvas missing three times fails the test; every retry is
            # printed below.
            results["ipympl_retried"] = []
            for _ in range(IPYMPL_RETRIES):
                blank = [name for name in lab["widgets"] if not results["ipympl"][name]["rendered"]]
                if not blank:
                    break
                results["ipympl_retried"].append(blank)
                results["ipympl"] = _run_notebook(page, lab, BACKENDS["ipympl"], lab["widgets"], shots / "ipympl")
        finally:
            browser.close()
    results["total_s"] = time.monotonic() - started
    runs = ", ".join(f"{backend} {results[backend]['_run_s']:.1f} s" for backend in BACKENDS)
    print(f"\nbrowser test: the {len(lab['widgets'])}-widget notebook ran in {runs}; "
          f"everything (all sliders, both backends) took {results['total_s']:.1f} s")
    for blank in results.get("ipympl_retried", []):
        print(f"  ipympl: no canvas appeared for {blank}; the notebook was run again")
    for name in lab["widgets"]:
        print(f"  {name:24s} ink " + "  ".join(f"{b} {results[b][name]['ink']}" for b in BACKENDS))
    print(f"  screenshots of every widget at {', '.join(f'{w} px' for w in LAYOUT_WIDTHS)}: {shots}")
    for backend in BACKENDS:
        for (width, name), found in results[backend]["_layout"].items():
            problems = {k: found.get(k) for k in ("beyond", "truncated", "short", "scrolls") if found.get(k)}
            print(f"  {backend:6s} {width} px {name:24s} output area {found.get('area_width')} px: "
                  f"{problems or 'fits'}")
    return results


def _check(result: dict, name: str) -> None:
    assert not result["error_output"], f"{name}: the cell raised an error"
    assert result["rendered"], f"{name}: no figure (canvas or image) was rendered"
    assert "Error:" not in result["status"], f"{name}: the widget reported an error: {result['status']}"
    assert result["changed"], f"{name}: moving a slider did not change the figure ({result})"
    assert result["ink"] is not None and result["ink"] > MIN_INK, f"{name}: the figure is blank ({result})"


@pytest.mark.parametrize("backend, expected", [("inline", "inline"), ("ipympl", "widget")])
def test_backend_is_the_intended_one(browser_results, backend, expected):
    assert expected in browser_results[backend]["_backend"].lower()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("name", WIDGETS)
def test_slider_changes_the_rendered_figure(browser_results, backend, name):
    assert name in browser_results[backend], f"the {backend} browser notebook has no cell for {name}"
    _check(browser_results[backend][name], f"{name} ({backend})")


@pytest.mark.parametrize("name", WIDGETS)
def test_ipympl_canvas_shows_the_whole_figure(browser_results, name):
    """The same slider move on both backends: the canvas must hold as much ink as the inline image.

    A frame lost in the browser leaves the canvas blank, or half painted when later frames are
    drawn as differences; both fail here.
    """
    inline, ipympl = browser_results["inline"][name], browser_results["ipympl"][name]
    assert inline.get("slider") == ipympl.get("slider") and inline["tried"] == ipympl["tried"], (
        f"{name}: the two backends moved different sliders ({inline}, {ipympl})")
    assert inline["ink"] is not None and ipympl["ink"] is not None, f"{name}: a figure did not render"
    assert ipympl["ink"] == pytest.approx(inline["ink"], rel=0.05), (
        f"{name}: the ipympl canvas has {ipympl['ink']:.3f} of its pixels inked, the inline image "
        f"{inline['ink']:.3f}")


def test_ipympl_click_lands_where_the_student_clicked_at_1000px(browser_results):
    """Under ipympl in a 1000 px window, a click on gradient descent's landscape sets the start to
    the point clicked (to the sliders' step), although the output area is narrower than elsewhere."""
    found = browser_results["ipympl"].get("_click")
    assert found is not None and found["box"] is not None, f"no ipympl canvas to click: {found}"
    assert found["box"]["width"] == pytest.approx(found["box"]["pixels"], abs=1), (
        f"the clickable figure is scaled to {found['box']['width']:.0f} px from {found['box']['pixels']} px")
    assert found["got"] == pytest.approx(found["expected"], abs=0.1 + 1e-9), (
        f"clicked at (w, b) = {found['expected']}, the start sliders say {found['got']} ({found['readouts']})")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("width", LAYOUT_WIDTHS)
@pytest.mark.parametrize("name", WIDGETS)
def test_widget_fits_its_output_area(browser_results, backend, width, name):
    """With the file browser open, nothing of the widget lies past its output area's right edge or
    scrolls sideways, no label or menu text is cut, and every slider is long enough to drag."""
    found = browser_results[backend]["_layout"].get((width, name))
    assert found is not None and found["found"], f"{name} ({backend}, {width} px): no widget found"
    assert not found["beyond"], f"{name} ({backend}, {width} px): beyond the output area: {found['beyond'][:5]}"
    assert not found["scrolls"], f"{name} ({backend}, {width} px): the output area scrolls sideways"
    assert not found["truncated"], f"{name} ({backend}, {width} px): text cut: {found['truncated']}"
    assert not found["short"], f"{name} ({backend}, {width} px): sliders under {MIN_SLIDER_PX} px: {found['short']}"
    assert Path(found["screenshot"]).exists(), found["screenshot"]
