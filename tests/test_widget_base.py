"""The widget base: one redraw per change, errors shown in the widget, the cached-background redraw,
and the static PNG that nbconvert and non-widget frontends show."""

import asyncio
import base64
import time

import numpy as np
import pytest

from course import widgets
from course.widgets._base import App, drawing
from tests.helpers import idle_turns, same_picture


class _Counter(App):
    """A minimal app: one slider, one line, one text; counts its draws."""

    title = "counter"

    def _make_controls(self):
        self.draws = 0
        return {"k": self._W.IntSlider(value=1, min=0, max=10), "go": self._W.Button(description="go"),
                "m": self._W.IntSlider(value=0, min=0, max=10)}

    def _read_state(self):
        if self.controls["k"].value == 7:
            raise ValueError("k must not be 7")
        return (self.controls["k"].value, self.controls["m"].value)

    def _build(self, fig):
        ax = fig.add_subplot()
        (self.line,) = ax.plot([], [])
        self.text = ax.text(0.1, 0.9, "")
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 100)
        self.dynamic(self.line, self.text)
        self.on_click("go", lambda: self.set(k=5, m=5))

    def _draw(self, state):
        self.draws += 1
        k, m = state
        self.line.set_data(np.arange(10), np.arange(10) * k)
        self.text.set_text(f"k={k}, m={m}")


def _full_draw(app):
    """Draw the whole figure, as matplotlib does, with the apps' drawing settings."""
    with drawing():
        app.fig.canvas.draw()


def test_set_changes_several_controls_with_one_redraw():
    app = _Counter()
    n = app.draws
    app.set(k=3, m=4)
    assert app.draws == n + 1 and app.text.get_text() == "k=3, m=4"
    with pytest.raises(KeyError, match="unknown control"):
        app.set(q=1)


def test_button_action_redraws_once():
    app = _Counter()
    n = app.draws
    app.button("go")
    assert app.draws == n + 1 and app.state == (5, 5)


def test_error_in_a_callback_is_shown_and_kept_then_cleared():
    app = _Counter()
    app.controls["k"].value = 7
    assert isinstance(app.last_error, ValueError)
    assert "k must not be 7" in app.status.value and "b00020" in app.status.value
    app.controls["k"].value = 2
    assert app.last_error is None and app.status.value == ""
    app.raise_errors = True
    with pytest.raises(ValueError):
        app.controls["k"].value = 7


def test_cached_background_redraw_matches_a_full_draw():
    apps = [_Counter(), widgets.activation_explorer("sigmoid")] + [getattr(widgets, name)() for name in widgets.__all__]
    for app in apps:
        for _ in range(2):  # second time: from the cached background
            app.redraw_agg()
        fast = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
        _full_draw(app)
        full = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
        # the same picture up to anti-aliasing at the edges of the redrawn artists (and a dynamic
        # artist over a static one of the same zorder, e.g. the sigmoid's bands over the line z = 0)
        assert np.mean(np.abs(fast - full) > 8) < 0.002, type(app).__name__


def test_a_fixed_legend_pasted_into_a_new_background_matches_a_full_draw():
    """The legend is drawn once; after a new activation (new limits, a new background) its saved
    pixels are pasted, and the picture is the one a full draw makes."""
    app = widgets.activation_explorer("sigmoid")
    app.redraw_agg()
    for name in ("relu", "elu", "tanh"):
        drawn = app.background_draws
        app.controls["activation"].value = name
        app.redraw_agg()
        assert app.background_draws == drawn + 1, name  # a new background, legend pasted in
        fast = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
        _full_draw(app)
        full = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
        assert np.mean(np.abs(fast - full) > 8) < 0.002, name
        legend = app.fig.legends[0].get_window_extent()
        rows = slice(int(full.shape[0] - legend.y1), int(full.shape[0] - legend.y0))
        cols = slice(int(legend.x0), int(legend.x1))
        assert (full[rows, cols, :3] < 128).any()  # the legend is there: dark text and lines
        np.testing.assert_array_equal(fast[rows, cols], full[rows, cols])


def test_a_fixed_artist_inside_an_axes_is_drawn_every_time():
    app = _Counter()
    app.fig.axes[0].grid(True)  # grid lines under the legend move when the limits change
    legend = app.fixed(app.fig.axes[0].legend(["count"], loc="center", fontsize=40, frameon=False))
    app.redraw_agg()
    app.fig.axes[0].set_xlim(0, 7)  # vertical grid lines 1 apart instead of 2
    app.redraw_agg()
    fast = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
    _full_draw(app)
    full = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
    box = legend.get_window_extent()
    rows = slice(int(full.shape[0] - box.y1), int(full.shape[0] - box.y0))
    cols = slice(int(box.x0), int(box.x1))
    # pasted pixels would show the grid lines of the old limits through the legend
    assert not (np.abs(fast[rows, cols] - full[rows, cols]) > 8).any()


def test_background_is_redrawn_when_a_limit_changes():
    app = _Counter()
    app.redraw_agg()
    drawn = app.background_draws
    app.redraw_agg()
    assert app.background_draws == drawn  # the same limits: from the saved background
    app.fig.axes[0].set_ylim(0, 50)
    app.redraw_agg()
    assert app.background_draws == drawn + 1


def test_display_bundle_has_a_static_png_and_the_widget_view():
    app = _Counter()
    bundle = app._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    png = base64.b64decode(bundle["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert app.figure_widget.value[:8] == b"\x89PNG\r\n\x1a\n"  # the Image view is filled once displayed
    before = app.figure_widget.value
    app.controls["k"].value = 9
    assert app.figure_widget.value != before  # and then updated in place on every change


def test_every_app_name_stays_callable_after_its_module_is_imported():
    # a module named like its app would replace the function on the package once imported
    import importlib

    for name in widgets.__all__:
        module = importlib.import_module(getattr(widgets, name).__module__)
        assert callable(getattr(widgets, name)) and getattr(widgets, name) is getattr(module, name), name


@pytest.mark.parametrize("style", ["grid", "ticks in", "axis off"])
def test_blitted_redraw_matches_a_full_draw_for_any_axes_style(style):
    app = _Counter()
    ax = app.fig.axes[0]
    {"grid": lambda: ax.grid(True), "ticks in": lambda: ax.tick_params(direction="in"),
     "axis off": lambda: ax.axis("off")}[style]()
    app.invalidate()
    for _ in range(2):  # the second from the saved background
        app.redraw_agg()
    fast = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
    _full_draw(app)
    assert np.mean(np.abs(fast - np.asarray(app.fig.canvas.buffer_rgba()).astype(int)) > 8) < 0.002


def test_going_back_to_earlier_limits_reuses_their_background():
    app = _Counter()
    app.redraw_agg()
    drawn = app.background_draws
    app.fig.axes[0].set_ylim(0, 50)
    app.redraw_agg()
    app.fig.axes[0].set_ylim(0, 100)
    app.redraw_agg()
    assert app.background_draws == drawn + 1  # only the new limits drew a background
    fast = np.asarray(app.fig.canvas.buffer_rgba()).astype(int)
    _full_draw(app)
    assert np.mean(np.abs(fast - np.asarray(app.fig.canvas.buffer_rgba()).astype(int)) > 8) < 0.002


# what matplotlib and ipympl keep private: the names an earlier renderer of this course reached for
_PRIVATE_NAMES = ("_renderer", "_force_full", "_get_text_metrics_with_cache", "_find_fonts_by_props",
                  "_get_font_height_metrics", "_png_is_old", "_last_buff", "_current_image_mode",
                  "_handle_message", "_image_mode", "_autolabelpos", "_get_layout")


def private_attributes_of_dependencies(source: str) -> list[str]:
    """``obj._name`` uses in ``source`` where ``obj`` is not ``self``/``cls``/the course's own ``W``, and
    ``from matplotlib... import _name``: attributes that matplotlib and ipympl do not promise to keep."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls", "super"):
                continue
            if isinstance(owner, ast.Call) and isinstance(owner.func, ast.Name) and owner.func.id == "super":
                continue
            if node.attr in _PRIVATE_NAMES or _mentions_dependency(owner):
                found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in ("matplotlib", "ipympl"):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in _PRIVATE_NAMES:
            found.append(f"line {node.lineno}: {node.value!r}")  # getattr(obj, "_renderer")
    return found


def _mentions_dependency(node) -> bool:
    import ast

    names = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
    attrs = {n.attr for n in ast.walk(node) if isinstance(n, ast.Attribute)}
    return bool(names & {"matplotlib", "mpl", "plt", "ipympl", "fig", "canvas", "renderer", "ax", "axes"}
                or attrs & {"fig", "figure", "canvas", "axes", "xaxis", "yaxis", "patch"})


def test_the_private_api_check_finds_private_uses():
    bad = ("import matplotlib\nfrom matplotlib.text import _get_text_metrics_with_cache\n"
           "def f(fig, r):\n    fig.canvas._force_full = True\n    r._renderer.draw_text_image(1)\n"
           "    getattr(r, '_renderer')\n    self.fig.axes[0].xaxis._autolabelpos\n")
    assert len(private_attributes_of_dependencies(bad)) == 5
    assert private_attributes_of_dependencies("self._x = 1\nsuper()._layout(W)\n") == []


def test_no_module_of_the_course_uses_private_attributes_of_matplotlib_or_ipympl():
    from pathlib import Path

    root = Path(__file__).resolve().parents[1] / "course"
    found = {}
    for path in sorted(root.rglob("*.py")):
        uses = private_attributes_of_dependencies(path.read_text())
        if uses:
            found[str(path.relative_to(root))] = uses
    assert found == {}


_IPYMPL_SCRIPT = r"""
import io
import json
import threading
import time

import matplotlib.pyplot as plt
import numpy as np
from ipympl.backend_nbagg import Canvas
from PIL import Image

from course import widgets

app = widgets.perceptron_explorer()
canvas = app.fig.canvas
frames, events = [], []
canvas.send_binary = lambda data: frames.append(bytes(data))
send_event = canvas.send_event
canvas.send_event = lambda kind, **kw: (events.append(kind), send_event(kind, **kw))
app.controls["w1"].value = app.controls["w1"].value + 0.5   # before the browser has set up its canvas
sent_before_init = len(frames)
canvas.syncing_data_url = False            # what the browser's "initialized" message does
canvas._handle_message(None, {"type": "refresh"}, [])   # the browser asks for a full frame
canvas._handle_message(None, {"type": "draw"}, [])      # and then for the drawing
w1 = app.controls["w1"].value
for step in (0.25, -0.25, 0.5):
    app.controls["w1"].value = w1 + step
full = np.asarray(Image.open(io.BytesIO(frames[-1])).convert("RGB"))
agg = np.asarray(canvas.buffer_rgba())[..., :3].copy()
events.clear()
app.fig.stale = True                       # an artist changed since the last frame
plt.draw_all()                             # pyplot's hook after every message the kernel handles

# ipympl's answer to the browser's "draw", on a second thread while the app draws a frame
inside, order = threading.Event(), []
draw_state = app._draw
def slow_draw(state):
    draw_state(state)
    inside.set()
    time.sleep(0.3)
    order.append("app frame drawn")
app._draw = slow_draw
other = threading.Thread(target=lambda: (inside.wait(), canvas._handle_message(None, {"type": "draw"}, []),
                                         order.append("ipympl draw")))
other.start()
app.controls["w1"].value = w1
other.join()
print(json.dumps({"is_ipympl": isinstance(canvas, Canvas), "frames_after_init": len(frames) - sent_before_init,
                  "png_modes": sorted({Image.open(io.BytesIO(f)).mode for f in frames}),
                  "sent_before_init": sent_before_init, "pyplot_figures": plt.get_fignums(),
                  "draw_all_events": events, "order": order,
                  "last_equals_canvas": bool(np.array_equal(full, agg))}))
"""


def test_ipympl_frames_are_sent_whole_one_per_update_and_in_turn():
    """Under ``%matplotlib widget`` nothing is sent before the browser's canvas is ready, then every
    update sends the whole figure as one frame (an opaque PNG), never a diff, and ipympl's own redraw
    waits for it.

    The browser decodes frames asynchronously; a diff (transparent where nothing changed) that
    arrives without its full frame would leave the canvas half painted. pyplot's draw-all hook (run
    after every message) must not ask the browser for a second frame. ipykernel 7 may answer the
    browser's "draw" on a second thread: that redraw must wait for the app's frame instead of
    drawing into the same buffer at the same time.
    (Run in a fresh interpreter: the backend is chosen once per process.)
    """
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    import importlib.util

    if importlib.util.find_spec("ipympl") is None:  # not importorskip: importing ipympl switches the backend
        pytest.skip("ipympl is not installed")
    root = Path(__file__).resolve().parents[1]
    env = dict(os.environ, MPLBACKEND="module://ipympl.backend_nbagg",
               PYTHONPATH=os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([sys.executable, "-c", _IPYMPL_SCRIPT], capture_output=True, text=True, env=env,
                          timeout=120, cwd=root)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["is_ipympl"]
    assert result["sent_before_init"] == 0, "a frame was sent before the browser had set up the canvas"
    assert result["frames_after_init"] == 6, result   # the requested frame, 3 slider moves, the last app frame and draw
    assert result["png_modes"] == ["RGB"], result   # whole, opaque pictures: nothing left transparent
    assert result["last_equals_canvas"], "the last frame sent is not the figure on the canvas"
    assert result["pyplot_figures"] == [] and result["draw_all_events"] == [], result
    assert result["order"] == ["app frame drawn", "ipympl draw"], "ipympl drew while the app's frame was drawn"


def _descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from _descendants(child)


@pytest.mark.parametrize("name", widgets.__all__)
def test_every_app_is_laid_out_to_fit_narrow_output_areas(name):
    """The layout that the browser test checks at 1000 and 1400 px, as set in the kernel: rows that
    wrap, a figure that may shrink, labels at the width of their text, buttons as wide as their label."""
    import ipywidgets as W

    from course.widgets._base import APP_CLASS

    app = getattr(widgets, name)()
    assert APP_CLASS in app.ui.get_state()["_dom_classes"]  # the CSS classes the browser receives
    assert app.ui.layout.max_width == "100%"
    assert app.figure_widget.layout.max_width == "100%" and app.figure_widget.layout.height == "auto"  # scales down
    figure_box = next(w for w in _descendants(app.ui) if isinstance(w, W.Box) and app.figure_widget in w.children)
    assert figure_box.layout.min_width == "0"
    rows = [w for w in _descendants(app.ui) if isinstance(w, W.HBox) and w.layout.flex_flow == "row wrap"]
    assert any(figure_box in r.children or any(figure_box in getattr(c, "children", ()) for c in r.children)
               for r in rows)
    for control in app.controls.values():
        if isinstance(control, (W.FloatSlider, W.IntSlider, W.FloatLogSlider, W.SelectionSlider, W.Dropdown)):
            if control.description:
                assert control.style.description_width == "initial", (name, control.description)
        if isinstance(control, W.ToggleButtons):
            assert control.style.button_width == "auto", (name, control.description)
        if isinstance(control, W.Button) and control.layout.display != "none":
            assert control.layout.flex == "0 0 auto", (name, control.description)


def test_the_png_frame_is_the_canvas_opaque_as_rgb_transparent_as_rgba():
    import io

    from PIL import Image

    from course.widgets._base import canvas_png

    app = _Counter()
    app.redraw_agg()
    frame = Image.open(io.BytesIO(canvas_png(app.fig)))
    assert frame.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(frame), np.asarray(app.fig.canvas.buffer_rgba())[..., :3])
    app.fig.patch.set_alpha(0.5)
    app.invalidate()
    app.redraw_agg()
    frame = Image.open(io.BytesIO(canvas_png(app.fig)))
    assert frame.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(frame), np.asarray(app.fig.canvas.buffer_rgba()))


def test_png_bytes_decode_to_the_same_pixels_rgb_and_rgba():
    """The course's own PNG encoder: Pillow reads back every byte value, odd sizes, both colour types."""
    import io

    from PIL import Image

    from course.widgets._base import png_bytes

    rng = np.random.default_rng(0)
    for shape, mode in (((7, 13, 3), "RGB"), ((5, 1, 4), "RGBA"), ((64, 33, 4), "RGBA")):
        pixels = rng.integers(0, 256, size=shape, dtype=np.uint8)
        for level in (1, 6, 9):
            image = Image.open(io.BytesIO(png_bytes(pixels, level)))
            image.load()  # checks the CRCs and the zlib stream
            assert image.mode == mode
            np.testing.assert_array_equal(np.asarray(image), pixels)


def test_a_burst_of_browser_changes_draws_far_fewer_frames_and_the_last_value(monkeypatch):
    """Latest value wins: 40 slider changes from the browser, 5 ms apart, draw a handful of frames,
    the last one from the last value; a change from Python code (a notebook cell) draws at once."""
    from course.widgets import _base

    app = _Counter()
    slider = app.controls["k"]
    values = [v % 11 for v in range(1, 41) if v % 11 != 7]   # 7 is the value this app refuses
    values[-1] = 3
    slider.value = 0
    assert app.line.get_ydata()[1] == 0          # from Python: drawn at once, no event loop needed
    n = app.refreshes

    async def burst():
        for v in values:
            slider.value = v
            await asyncio.sleep(0.005)
        await asyncio.sleep(3 * _base.FRAME_INTERVAL_S)

    monkeypatch.setattr(_base, "changed_in_browser", lambda: True)
    started = time.monotonic()
    asyncio.run(burst())
    elapsed = time.monotonic() - started
    frames = app.refreshes - n
    assert 1 <= frames <= elapsed / _base.FRAME_INTERVAL_S + 2 and frames < len(values) / 4, (frames, elapsed)
    assert app.text.get_text() == "k=3, m=0" and app.line.get_ydata()[1] == 3   # the last value is drawn


def test_a_single_browser_change_draws_at_once(monkeypatch):
    """The first change after a pause is not held back: it is drawn while it is handled (so the
    kernel is idle only once its frame is out, and the browser sends no faster than that)."""
    from course.widgets import _base

    app = _Counter()
    monkeypatch.setattr(_base, "changed_in_browser", lambda: True)
    seen = {}

    async def one_change():
        await asyncio.sleep(2 * _base.FRAME_INTERVAL_S)   # the last frame is older than the interval
        app.controls["k"].value = 4
        seen["at once"] = app.text.get_text()
        app.controls["k"].value = 5                       # right after a frame: held back...
        seen["held back"] = app.text.get_text()
        await asyncio.sleep(2 * _base.FRAME_INTERVAL_S)
        seen["then"] = app.text.get_text()                # ...and drawn at the end of the interval

    asyncio.run(one_change())
    assert seen == {"at once": "k=4, m=0", "held back": "k=4, m=0", "then": "k=5, m=0"}
    app.controls["k"].value = 6     # no event loop: drawn at once
    assert app.text.get_text() == "k=6, m=0"


def test_the_browser_benchmarks_floor_cell_sends_a_new_picture_on_every_change():
    """The benchmark's floor row is only a floor if its cell does what the widgets do: a new PNG per change."""
    from benchmarks.bench_widgets_browser import FLOOR_CELL

    cell = {}
    exec(FLOOR_CELL, cell)
    view, slider = cell["view"], cell["floor_slider"]
    pictures = [bytes(view.value)]
    for value in (1, 2, 3):
        slider.value = value
        pictures.append(bytes(view.value))
    assert all(p.startswith(b"\x89PNG") for p in pictures)
    assert all(a != b for a, b in zip(pictures, pictures[1:]))   # white and light grey, in turn
    assert pictures[2] == pictures[0]


def test_a_float_sent_back_on_the_sliders_grid_is_an_echo_not_a_change():
    from course.widgets._base import is_echo

    assert is_echo({"old": 1.0, "new": 1.0000000000000002})
    assert is_echo({"old": 0.3, "new": 0.1 + 0.2}) and is_echo({"old": 0.0, "new": 1e-17})
    assert not is_echo({"old": 1.0, "new": 1.01}) and not is_echo({"old": 0.0, "new": 0.001})
    assert not is_echo({"old": 1, "new": 1}) and not is_echo({"old": "a", "new": "a"})


class _Ranged(App):
    """An app whose y-limit follows a slider; the limits one step up and down are drawn ahead."""

    title = "ranged"

    def _make_controls(self):
        self.ahead_asked = 0
        return {"top": self._W.IntSlider(value=5, min=1, max=20), "k": self._W.IntSlider(value=1, min=0, max=9)}

    def _read_state(self):
        return (self.controls["top"].value, self.controls["k"].value)

    def _build(self, fig):
        self.ax = fig.add_subplot()
        (self.line,) = self.ax.plot([], [])
        self.dynamic(self.line)

    def _set_static(self, state):
        top, _ = state
        if top == 13:
            raise ValueError("13 cannot be set up")
        self.ax.set_ylim(0, top)

    def _ahead(self, state):
        self.ahead_asked += 1
        top, k = state
        return [(top + 1, k), (top - 1, k)]

    def _draw(self, state):
        top, k = state
        self.line.set_data(np.arange(10), np.arange(10) * k * top / 9)
        self._set_static(state)


def _shown_ranged():
    """A _Ranged app displayed (so each change draws its frame), its first frame drawn."""
    app = _Ranged()
    app._repr_mimebundle_()
    app.refresh()
    return app


def _pixels(app):
    return np.asarray(app.fig.canvas.buffer_rgba()).copy()


def test_the_backgrounds_of_the_states_ahead_are_drawn_while_the_loop_is_idle():
    async def main():
        app = _shown_ranged()
        await idle_turns()
        assert app.background_draws == 3  # its own, and top = 4 and 6 ahead
        app.controls["top"].value = 6      # drawn ahead: only the line is drawn
        assert app.background_draws == 3
        fresh = _shown_ranged()
        fresh.controls["top"].value = 6
        assert same_picture(app, fresh)
        await idle_turns()
        assert app.background_draws == 4  # top = 7 (5 is kept)

    asyncio.run(main())


def test_drawing_ahead_leaves_the_frame_on_show_as_it_was():
    async def main():
        app = _shown_ranged()
        app.refresh()
        before, limits = _pixels(app), app.ax.get_ylim()
        await idle_turns()
        assert app.background_draws == 3
        assert np.array_equal(_pixels(app), before) and app.ax.get_ylim() == limits

    asyncio.run(main())


def test_a_newer_frame_drops_the_backgrounds_still_to_be_drawn_ahead():
    async def main():
        app = _shown_ranged()              # top = 5: 4 and 6 are queued
        app.controls["top"].value = 10     # before the loop turns: 9 and 11 instead
        await idle_turns()
        assert app.background_draws == 4   # 5, 10, 9 and 11
        for top in (9, 11, 10):
            app.controls["top"].value = top
            assert app.background_draws == 4, top
        app.controls["top"].value = 4      # dropped: drawn now
        assert app.background_draws == 5

    asyncio.run(main())


def test_a_state_ahead_that_cannot_be_set_up_ends_drawing_ahead_and_shows_no_error():
    async def main():
        app = _shown_ranged()
        app.controls["top"].value = 12     # 13 ahead raises; 11 is not drawn after it
        await idle_turns()
        assert app.last_error is None and app.status.value == ""
        assert app.ax.get_ylim() == (0.0, 12.0) and app.background_draws == 2   # 5 and 12
        app.controls["top"].value = 11
        assert app.background_draws == 3
        app.controls["top"].value = 13     # picked, the same error is shown
        assert "13 cannot be set up" in app.status.value

    asyncio.run(main())


def test_without_an_event_loop_nothing_is_drawn_ahead():
    app = _shown_ranged()
    app.controls["top"].value = 8
    assert app.background_draws == 2 and app.ahead_asked == 0


def test_the_least_recently_used_background_goes_first(monkeypatch):
    from course.widgets import _base

    monkeypatch.setattr(_base, "BACKGROUNDS_KEPT", 2)
    app = _shown_ranged()                  # top = 5
    app.controls["top"].value = 6
    app.controls["top"].value = 5          # used again: now the most recent
    app.controls["top"].value = 7          # 6 goes, not 5
    drawn = app.background_draws
    app.controls["top"].value = 5
    assert app.background_draws == drawn
    app.controls["top"].value = 6
    assert app.background_draws == drawn + 1


def test_the_static_png_is_drawn_with_the_same_settings_as_the_frames():
    """nbconvert's image and the live frame show the same picture (unhinted glyphs in both)."""
    import io

    from PIL import Image

    app = widgets.activation_explorer("sigmoid")
    app.redraw_agg()
    frame = np.asarray(app.fig.canvas.buffer_rgba())[..., :3].astype(int)
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(app._repr_mimebundle_()["image/png"]))))[..., :3]
    assert png.shape == frame.shape
    title = app.formula_text.get_window_extent()
    rows = slice(int(frame.shape[0] - title.y1), int(frame.shape[0] - title.y0))
    cols = slice(int(title.x0), int(title.x1))
    assert (frame[rows, cols] < 128).any()  # the title's text is there
    np.testing.assert_array_equal(png[rows, cols], frame[rows, cols])


def test_draw_ahead_false_draws_nothing_ahead():
    async def main():
        app = _shown_ranged()
        app.draw_ahead = False
        app.refresh()
        await idle_turns()
        assert app.background_draws == 1
        app.controls["top"].value = 6
        assert app.background_draws == 2

    asyncio.run(main())
