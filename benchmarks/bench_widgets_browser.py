"""Latency of every course widget where the student sees it: input event -> changed pixels, in Chromium.

The script starts JupyterLab on loopback (as ``tests/test_browser.py`` does),
opens the all-widgets notebook ``tests/browser/widgets.ipynb`` in headless
Chromium (1400 px window, file browser open), runs it, and then drives every
control of every widget as a student would:

* each slider gets ``--presses`` arrow-key presses on its handle (right, or
  left when it is at its maximum);
* each menu (dropdown) and each row of toggle buttons gets every one of its
  other options, one after the other.

For each input it measures, in the page's own clock, from the input event
(keydown, change or click, caught in the capture phase) to the first changed
picture: under the inline backend the figure's ``<img>`` getting a new ``src``
and that image decoded; under ipympl the figure's ``<canvas>`` being painted
(``drawImage``, which ipympl calls once per frame it receives). It also counts
the frames that arrive within ``SETTLE_S`` after the input: one per update is
the target. Before each input the kernel must be idle.

It prints, per widget and backend, the median, 95th percentile and maximum
latency and the frames per update, and the same over all controls that do not
train a network. Controls that retrain (the regularization explorer's
penalty, lambda, L1 step, dropout and patience) are listed apart; for them the
first frame is the quick first result. Inputs after which the figure does not
change (a slider that selects which unit the sliders below edit) are counted as
"no change". The machine's load average is printed before and after.

The "floor" row (``--no-floor`` leaves it out) drives a slider that only redraws and sends an
empty figure of an app's size (688 x 312 pixels): the latency that the notebook, the kernel's
messaging and the browser add to every widget's own work. It is not part of the "ALL" row.

After the single inputs, each widget's first slider gets a burst: ``--burst``
arrow-key presses ``BURST_GAP_S`` apart without waiting for the kernel (a held
key). It reports the frames that arrive for the burst (far fewer than the
presses when rapid changes are coalesced, latest value wins) and the time from
the last press to the last frame (how long the figure lags behind the slider).

With ``--compare`` every backend is run twice, the second time with the
previous settings (``App.coalesce = False``, ``App.draw_ahead = False``, glyphs
hinted as matplotlib's default (``DRAW_RC = {}``), and for the inline view's frames
zlib level 6, Pillow's default, instead of level 1), set in the
notebook's first cell; the table then shows both side by side, run in the same session
under the same load.

    python benchmarks/bench_widgets_browser.py                    # both backends, every widget
    python benchmarks/bench_widgets_browser.py --backend inline perceptron_explorer
    python benchmarks/bench_widgets_browser.py --json results.json
    python benchmarks/bench_widgets_browser.py --compare --presses 3   # new and previous settings

Targets on a 2-core machine, for every control that does not train: median under
50 ms and 95th percentile under 120 ms, one frame per update, under both backends.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.helpers import chromium_path  # noqa: E402
from tests.test_browser import (BACKENDS, CHROMIUM_ARGS, WIDGETS, _kernel_idle,  # noqa: E402
                                _open_file_browser, _wait, _write_root, lab_server, run_all_cells)

MEDIAN_TARGET_MS, P95_TARGET_MS = 50.0, 120.0
#: widgets whose first slider retrains (no burst there: every value would train a network)
BURST_SKIP = {"regularization_explorer"}
SETTLE_S = 0.35           # frames arriving this long after an input still count as its frames
NO_CHANGE_S = 3.0         # no new picture within this long: the input changed nothing that is drawn
TRAINING_TIMEOUT_S = 15.0  # a retraining control: its first picture must come within this
BURST_GAP_S = 0.03        # a held arrow key repeats about 30 times a second
#: the first cell's extra lines that restore the settings before this benchmark's changes
PREVIOUS_SETTINGS = ("import course.widgets._base as widget_base\n"
                     "widget_base.App.coalesce = False\n"
                     "widget_base.App.draw_ahead = False\n"
                     "widget_base.DRAW_RC = {}\n"
                     "widget_base.PNG_COMPRESS_LEVEL = 6\n")
#: (widget, control label) pairs whose change trains a network
TRAINING = {("regularization_explorer", label) for label in ("penalty", "lambda", "L1 step", "dropout p",
                                                              "patience", "early stopping")}

#: the "floor" cell: a slider and an empty figure of an app's size, redrawn and sent on every change. Its
#: latency is what the notebook, the kernel's messaging and the browser cost before any widget's work.
FLOOR_CELL = """import ipywidgets as W
from course.widgets._base import APP_CLASS, canvas_png, new_figure

fig, live = new_figure((8.6, 3.9), 80)     # the activation explorer's size: 688 x 312 pixels
if live:
    view = fig.canvas
else:
    fig.canvas.draw()
    view = W.Image(value=canvas_png(fig), format="png")

def floor_frame(change):
    fig.set_facecolor("0.97" if change["new"] % 2 else "white")   # every step changes the picture
    fig.canvas.draw()                       # ipympl: draws and sends the frame
    if not live:
        view.value = canvas_png(fig)

floor_slider = W.IntSlider(0, 0, 100, description="floor")
floor_slider.observe(floor_frame, names="value")
W.VBox([floor_slider, view], _dom_classes=[APP_CLASS])
"""


def _add_floor_cell(root: Path, notebooks) -> None:
    """Append the floor cell to each notebook written in ``root``."""
    for name in notebooks:
        nb = json.loads((root / name).read_text())
        nb["cells"].append({"cell_type": "code", "execution_count": None, "metadata": {"widget": "floor"},
                            "outputs": [], "source": FLOOR_CELL})
        (root / name).write_text(json.dumps(nb))


# Installed before the page's scripts: input timestamps and one entry per new picture of a widget.
_INIT_JS = """
// a widget's box (this course's apps carry the class course-app; older versions: the output area)
const APP = '.course-app, .jp-OutputArea-output';
window.__input = null; window.__armed = false; window.__frames = [];
for (const type of ['keydown', 'change', 'click']) {
    document.addEventListener(type, () => {
        if (window.__armed) { window.__input = performance.now(); window.__armed = false; }
    }, true);
}
// ipympl: every frame received is painted onto the figure's canvas with drawImage
const drawImage = CanvasRenderingContext2D.prototype.drawImage;
CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    const c = this.canvas;
    if (c && c.isConnected && c.closest && c.closest(APP)) {
        window.__frames.push({t: performance.now(), kind: 'canvas'});
    }
    return drawImage.apply(this, args);
};
// inline: the figure's <img> gets a new src; the picture has changed once it is decoded
new MutationObserver((mutations) => {
    for (const m of mutations) {
        const img = m.target;
        if (img.tagName === 'IMG' && img.closest(APP)) {
            const t_src = performance.now();
            img.decode().then(() => window.__frames.push({t: performance.now(), t_src, kind: 'img'}))
                        .catch(() => window.__frames.push({t: performance.now(), t_src, kind: 'img-error'}));
        }
    }
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['src']});
"""

# The controls of one widget: sliders (handle index), menus and toggle-button rows, with their labels.
_CONTROLS_JS = """(cell) => {
    const app = cell.querySelector('.course-app') || cell.querySelector('.jp-OutputArea-output');
    const label = (el) => {
        const box = el.closest('.widget-inline-hbox, .widget-toggle-buttons, .widget-dropdown, .widget-slider');
        const l = box && box.querySelector('.widget-label');
        return l ? l.textContent.trim() : '';
    };
    const shown = (el) => el.getBoundingClientRect().width > 0;
    const out = [];
    app.querySelectorAll('.widget-slider .noUi-handle').forEach((h, i) => {
        const slider = h.closest('.widget-slider');
        if (shown(h) && !slider.classList.contains('mod-disabled') && !h.hasAttribute('disabled'))
            out.push({kind: 'slider', index: i, label: label(h)});
    });
    app.querySelectorAll('select').forEach((s, i) => {
        if (shown(s) && !s.disabled) out.push({kind: 'select', index: i, label: label(s),
                                              options: Array.from(s.options).map(o => o.value)});
    });
    app.querySelectorAll('.widget-toggle-buttons').forEach((t, i) => {
        if (shown(t)) out.push({kind: 'toggle', index: i, label: label(t),
                                options: Array.from(t.querySelectorAll('button')).map(b => b.textContent.trim())});
    });
    return out;
}"""


def _percentile(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def _measure(page, lab, act, training: bool) -> dict:
    """Do ``act()`` once the kernel is idle; the latency to the first new picture and the frames counted."""
    _wait(lambda: _kernel_idle(lab), 120, "the kernel to be idle", interval=0.05)
    page.evaluate("() => { window.__frames = []; window.__input = null; window.__armed = true; }")
    act()
    timeout = TRAINING_TIMEOUT_S if training else NO_CHANGE_S
    try:
        page.wait_for_function("() => window.__input !== null && window.__frames.some(f => f.t >= window.__input)",
                               timeout=timeout * 1000, polling="raf")
    except Exception:  # Playwright's TimeoutError: nothing new was drawn
        return {"latency_ms": None, "frames": 0}
    time.sleep(SETTLE_S)
    _wait(lambda: _kernel_idle(lab), 120, "the kernel to be idle", interval=0.05)
    frames = page.evaluate("() => window.__frames.filter(f => f.t >= window.__input).map(f => f.t - window.__input)")
    return {"latency_ms": min(frames), "frames": sum(1 for t in frames if t <= min(frames) + SETTLE_S * 1000)}


def _drive_widget(page, lab, cell, name: str, presses: int) -> list[dict]:
    """Every control of one widget: the measurements, one per input."""
    records = []
    for control in page.evaluate(_CONTROLS_JS, cell.element_handle()):
        training = (name, control["label"]) in TRAINING
        app = cell.locator(".jp-OutputArea-output").last
        if control["kind"] == "slider":
            handle = app.locator(".widget-slider .noUi-handle").nth(control["index"])
            for _ in range(presses):
                if not handle.is_visible():
                    break
                now, top = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
                key = "ArrowLeft" if now is not None and top is not None and float(now) >= float(top) else "ArrowRight"
                handle.scroll_into_view_if_needed()
                handle.focus()
                records.append({**_measure(page, lab, functools.partial(page.keyboard.press, key), training),
                                "control": control["label"] or f"slider {control['index']}", "training": training})
        elif control["kind"] == "select":
            select = app.locator("select").nth(control["index"])
            current = select.input_value()
            for option in control["options"]:
                if option == current or not select.is_visible():
                    continue
                select.scroll_into_view_if_needed()
                records.append({**_measure(page, lab, functools.partial(select.select_option, option), training),
                                "control": control["label"] or f"menu {control['index']}", "training": training})
        else:
            row = app.locator(".widget-toggle-buttons").nth(control["index"])
            buttons = row.locator("button")
            for i in range(buttons.count()):
                button = buttons.nth(i)
                if "mod-active" in (button.get_attribute("class") or ""):
                    continue
                button.scroll_into_view_if_needed()
                records.append({**_measure(page, lab, button.click, training),
                                "control": control["label"] or f"buttons {control['index']}", "training": training})
    return records


def _burst(page, lab, cell, presses: int) -> dict | None:
    """``presses`` arrow-key presses on the widget's first slider, BURST_GAP_S apart: frames and lag."""
    app = cell.locator(".jp-OutputArea-output").last
    handles = app.locator(".widget-slider .noUi-handle")
    if handles.count() == 0 or presses <= 0:
        return None
    handle = handles.first
    now, top = handle.get_attribute("aria-valuenow"), handle.get_attribute("aria-valuemax")
    key = "ArrowLeft" if now is not None and top is not None and float(now) >= float(top) else "ArrowRight"
    handle.scroll_into_view_if_needed()
    handle.focus()
    _wait(lambda: _kernel_idle(lab), 120, "the kernel to be idle", interval=0.05)
    page.evaluate("() => { window.__frames = []; window.__input = null; window.__armed = true; }")
    for _ in range(presses):
        page.keyboard.press(key)
        time.sleep(BURST_GAP_S)
    last_press = page.evaluate("() => performance.now()") - BURST_GAP_S * 1000
    time.sleep(SETTLE_S)
    _wait(lambda: _kernel_idle(lab), 120, "the kernel to be idle", interval=0.05)
    time.sleep(SETTLE_S)
    frames = page.evaluate("() => window.__frames.map(f => f.t)")
    frames = [t for t in frames if t >= (page.evaluate("() => window.__input") or 0)]
    return {"presses": presses, "frames": len(frames), "lag_ms": (max(frames) - last_press) if frames else None}


def run_backend(page, lab, notebook: str, widgets: list[str], presses: int, burst: int = 0) -> dict:
    """Open and run ``notebook``, then drive every control of each widget in ``widgets``."""
    cells = run_all_cells(page, lab, notebook, "bench-" + Path(notebook).stem.replace("_", "-"),
                          before_run=_open_file_browser)
    time.sleep(2.0)
    results = {}
    for i, name in enumerate(lab["widgets"], start=1):
        if name not in widgets:
            continue
        cell = cells.nth(i)
        cell.locator(".jp-OutputArea-output .widget-slider").first.wait_for(timeout=60_000)
        results[name] = _drive_widget(page, lab, cell, name, presses)
        plain = _summary([r for r in results[name] if not r["training"]])
        held = _burst(page, lab, cell, burst) if name not in BURST_SKIP else None
        if held is not None:
            results[name].append({"burst": held})
        print(f"  {name}: {len(results[name])} inputs, {plain['n']} changed the figure; without training: "
              f"median {plain['median_ms']:.1f} ms, p95 {plain['p95_ms']:.1f} ms, "
              f"{plain['frames_per_update']:.2f} frames per update; "
              + (f"burst of {held['presses']}: {held['frames']} frames, last {held['lag_ms']:.0f} ms after the "
                 f"last press; " if held and held["lag_ms"] is not None else "")
              + f"load {os.getloadavg()[0]:.2f}", flush=True)
    for session in json.loads(_get(f"{lab['base']}/api/sessions?token={lab['token']}")):
        import urllib.request

        request = urllib.request.Request(f"{lab['base']}/api/sessions/{session['id']}?token={lab['token']}",
                                         method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()
    return results


def _get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def _summary(records: list[dict]) -> dict:
    records = [r for r in records if "burst" not in r]
    lat = [r["latency_ms"] for r in records if r["latency_ms"] is not None]
    frames = [r["frames"] for r in records if r["latency_ms"] is not None]
    return {"n": len(lat), "no_change": sum(1 for r in records if r["latency_ms"] is None),
            "median_ms": statistics.median(lat) if lat else float("nan"), "p95_ms": _percentile(lat, 95),
            "max_ms": max(lat) if lat else float("nan"),
            "frames_per_update": statistics.mean(frames) if frames else float("nan")}


def _bursts(records: list[dict]) -> dict | None:
    return next((r["burst"] for r in records if "burst" in r), None)


def report(all_results: dict) -> None:
    """Per backend and widget: median, p95, max, frames per update, the burst; runs side by side."""
    runs = list(all_results)
    print(f"\n{'run':16s} {'widget':26s} {'n':>4s} {'median':>8s} {'p95':>8s} {'max':>8s} {'frames':>7s} "
          f"{'no change':>9s} {'burst frames':>12s} {'lag':>6s}")
    widgets = list(dict.fromkeys(name for results in all_results.values() for name in results))
    for name in widgets + ["ALL (no training)"]:
        for run in runs:
            results = all_results[run]
            if name == "ALL (no training)":
                records = [r for widget, rs in results.items() if widget != "floor"
                           for r in rs if "burst" not in r and not r["training"]]
                held = None
            elif name in results:
                records = [r for r in results[name] if "burst" not in r and not r["training"]]
                held = _bursts(results[name])
            else:
                continue
            s = _summary(records)
            flag = "" if s["median_ms"] < MEDIAN_TARGET_MS and s["p95_ms"] < P95_TARGET_MS else "  over target"
            burst = (f"{held['frames']:5d}/{held['presses']:<6d} {held['lag_ms']:6.0f}"
                     if held and held["lag_ms"] is not None else f"{'':12s} {'':6s}")
            print(f"{run:16s} {name:26s} {s['n']:4d} {s['median_ms']:8.1f} {s['p95_ms']:8.1f} {s['max_ms']:8.1f} "
                  f"{s['frames_per_update']:7.2f} {s['no_change']:9d} {burst}{flag}")
            if name in results:
                trained = [r for r in results[name] if "burst" not in r and r["training"]]
                if trained:
                    t = _summary(trained)
                    print(f"{run:16s} {name + ' (trains)':26s} {t['n']:4d} {t['median_ms']:8.1f} "
                          f"{t['p95_ms']:8.1f} {t['max_ms']:8.1f} {t['frames_per_update']:7.2f} "
                          f"{t['no_change']:9d}  first result")
        print()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("widgets", nargs="*", default=WIDGETS + ["floor"],
                        help="widgets to drive (default: all, and the floor)")
    parser.add_argument("--backend", choices=list(BACKENDS), action="append",
                        help="inline or ipympl (default: both)")
    parser.add_argument("--presses", type=int, default=4, help="arrow-key presses per slider (default 4)")
    parser.add_argument("--width", type=int, default=1400, help="browser window width in px (default 1400)")
    parser.add_argument("--burst", type=int, default=10,
                        help="arrow-key presses of the held-key burst on each widget's first slider (default 10)")
    parser.add_argument("--compare", action="store_true",
                        help="run each backend again with the previous settings (no coalescing, no drawing ahead, "
                             "hinted glyphs, PNG zlib level 6)")
    parser.add_argument("--floor", action=argparse.BooleanOptionalAction, default=True,
                        help="also drive the floor cell: an empty figure sent on every slider change (default on)")
    parser.add_argument("--json", help="also write every measurement to this JSON file")
    args = parser.parse_args(argv)
    chromium = chromium_path()
    if chromium is None:
        print("Chromium is not installed (apt-get install -y chromium)")
        return 1
    from playwright.sync_api import sync_playwright

    print(f"load average before: {os.getloadavg()}", flush=True)
    started = time.monotonic()
    all_results = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        kept = _write_root(root)
        if args.floor:
            _add_floor_cell(root, BACKENDS.values())
            kept.append("floor")
        notebooks = {}
        for backend in args.backend or list(BACKENDS):
            notebooks[backend] = BACKENDS[backend]
            if args.compare:
                nb = json.loads((root / BACKENDS[backend]).read_text())
                setup = next(cell for cell in nb["cells"] if cell["cell_type"] == "code")
                setup["source"] = "".join(setup["source"]) + "\n" + PREVIOUS_SETTINGS
                previous = BACKENDS[backend].replace(".ipynb", "_previous.ipynb")
                (root / previous).write_text(json.dumps(nb))
                notebooks[f"{backend} previous"] = previous
        with lab_server(root) as (base, token), sync_playwright() as p:
            lab = {"base": base, "token": token, "widgets": kept}
            browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": args.width, "height": 1000})
                page.set_default_timeout(60_000)
                page.add_init_script(_INIT_JS)
                for run, notebook in notebooks.items():
                    print(f"{run}: load average {os.getloadavg()}", flush=True)
                    all_results[run] = run_backend(page, lab, notebook, args.widgets, args.presses, args.burst)
            finally:
                browser.close()
    report(all_results)
    print(f"load average after: {os.getloadavg()}; {time.monotonic() - started:.0f} s in all")
    if args.json:
        Path(args.json).write_text(json.dumps(all_results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
