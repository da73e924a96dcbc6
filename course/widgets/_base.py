"""The base of every widget app: controls -> state -> pure compute -> figure updated in place.

An app subclass provides four small methods:

* ``_make_controls()`` returns a dict of ipywidgets controls (sliders, dropdowns, buttons);
* ``_read_state()`` turns the control values into a plain state object (a dataclass);
* ``_build(fig)`` creates the axes and artists ONCE;
* ``_draw(state)`` computes from the state (with pure functions of the module) and
  updates the artists in place (``set_data``, ``set_array``, ``set_text``).

It may also override ``_follow(change)``, which sets the controls that follow
another control's change (a new network's inputs), drawn in the same frame.
A float value that the browser sends back on its slider's grid (:func:`is_echo`)
is not a change and draws nothing.

The base wires every control's ``value`` to :meth:`App.refresh`, shows the figure,
and reports any exception raised in a callback in the widget itself (a red
message under the figure, also kept in ``app.last_error``): nothing is swallowed.
Buttons are wired with :meth:`App.on_click`, which runs the action through the
same guard and then refreshes.

Several controls can be changed with a single redraw: ``app.set(w1=1.0, b=-0.5)``
or ``with app.hold(): ...``.

Rapid changes from the browser (a held arrow key, a dragged slider, a running
``Play``) are coalesced, latest value wins. ipywidgets' front-end already holds
back a control's next value until the kernel is idle after the previous one,
so a change is drawn at once, inside the kernel's handling of it: the kernel
is idle only when the frame is out, and the browser sends no faster than the
frames are drawn. A change that arrives less than ``FRAME_INTERVAL_S`` after
the last frame is not drawn at once (inline view): the app marks itself stale
and draws once when the interval is over, from the control values of that
moment, so that the figure lags a dragged slider by at most one interval and
a frame. (Under ipympl every change is drawn at once: a frame drawn later from
the event loop left canvases showing only the figure's background in the
browser test.) Changes made by Python code, such as a notebook cell setting
``slider.value``, are always drawn at once, so the figure matches the controls
when the next line runs.

Fast redraws ("blitting", as in matplotlib's tutorial *Faster rendering by using
blitting*): an app registers the artists that change from one state to the next
with ``self.dynamic(artist, ...)`` in ``_build``. The rest of the figure (axes,
ticks, labels, legends) is drawn once with the dynamic artists left out and
kept with ``canvas.copy_from_bbox``; a redraw puts it back with
``canvas.restore_region`` and draws only the dynamic artists with
``draw_artist``. The background is drawn again when an axis limit or the
figure size changes, or after ``self.invalidate()``. Apps that register nothing
get a full draw every time. A figure legend, whose text costs about 10 ms
whenever the background is drawn, can be registered with ``self.fixed(legend)``:
it is drawn once, its pixels kept (``copy_from_bbox``) and pasted into every new
background (``restore_region``). Only matplotlib's public API is used.

The figure lives on whichever canvas fits the notebook:

* with ipympl (``%matplotlib widget``), ``fig.canvas`` is itself a widget; every
  update restores the saved background, draws the dynamic artists and sends the
  result as one whole frame (``canvas.blit``, or ``canvas.draw`` for apps without
  dynamic artists), a PNG encoded as in the inline view (:func:`canvas_png`). The
  figure is kept out of pyplot (no second frame from its draw-all hook), and
  ipympl's own full redraw, which ipykernel 7 may run on a second thread, waits
  for the app's frame (``App.frame_lock``);
* with any other backend (inline, or none in plain pytest), the figure is drawn
  with Agg and shown as PNG bytes in an ``ipywidgets.Image`` that is updated in
  place, so the app stays interactive even under the inline backend (outside a
  kernel, e.g. in pytest, the PNG is only encoded once the app is displayed);
* displayed, the app also offers a static ``image/png`` of its current figure,
  which is what nbconvert's HTML and non-widget frontends show.

Layout: the controls form a column at least ``CONTROLS_WIDTH`` wide next to the
figure; where the output area is too narrow for both, the controls wrap above
the figure, and the figure scales down to the width there is.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import html
import io
import struct
import threading
import time
import traceback
import zlib
from typing import Any, Callable

import numpy as np

_ERROR_PREFIX = "<pre style='color:#b00020"
#: backgrounds kept per app (each is one RGBA copy of the figure), by axis limits and invalidate key;
#: the least recently used goes first
BACKGROUNDS_KEPT = 12
#: the controls column's width in CSS pixels (the figure takes the rest, or the next row)
CONTROLS_WIDTH = "300px"
#: zlib level of the PNG frames sent to the browser (inline view): 1 is the fastest, a few percent bigger
PNG_COMPRESS_LEVEL = 1
#: the least time (s) between two frames drawn for changes made in the browser; faster changes are
#: coalesced, latest value wins (about one frame of a 25 Hz animation)
FRAME_INTERVAL_S = 0.04
#: the widest (CSS px) that a figure taking mouse clicks is drawn under ipympl: the output area of a
#: 1000 px window with the file browser open (about 560 px) less the app's margins. ipympl reports a
#: click in the page's pixels, not the figure's: on a figure scaled down to fit, a click would land
#: proportionally off. A figure this narrow is never scaled down in windows of 1000 px and wider.
CLICKABLE_FIGURE_PX = 540
#: matplotlib settings for every drawing of an app's figure (frames, backgrounds, the static PNG): glyphs
#: without hinting ("none"), which draws text about 40 % faster than matplotlib's default (FreeType's
#: hinter, about 1.5 ms for a 40-letter title) and looks the same at the apps' 80 dpi
DRAW_RC = {"text.hinting": "none"}
#: CSS class of every app's outer box (the figure's scaling rules below apply inside it)
APP_CLASS = "course-app"
#: CSS that lets an ipympl figure shrink to its box. ipympl gives its canvas elements fixed pixel
#: sizes and stacks them absolutely; here the drawing canvas flows (and scales down, keeping its
#: aspect ratio) and the event canvas covers it. (ipympl reports mouse positions in page pixels: on a
#: scaled-down figure a click lands proportionally off; apps that take clicks are therefore drawn at
#: most CLICKABLE_FIGURE_PX wide, see App.takes_clicks.)
_IPYMPL_CSS = f"""<style>
.{APP_CLASS} .jupyter-matplotlib, .{APP_CLASS} .jupyter-matplotlib-figure,
.{APP_CLASS} .jupyter-matplotlib-canvas-container {{max-width: 100%; min-width: 0;}}
.{APP_CLASS} .jupyter-matplotlib-canvas-div {{width: auto !important; height: auto !important; max-width: 100%;}}
.{APP_CLASS} .jupyter-matplotlib-canvas-div canvas:first-child {{position: relative !important;
    max-width: 100%; height: auto !important;}}
.{APP_CLASS} .jupyter-matplotlib-canvas-div canvas + canvas {{width: 100% !important; height: 100% !important;}}
</style>"""


def drawing():
    """A context in which an app's figure is drawn: ``matplotlib.rc_context(DRAW_RC)``."""
    import matplotlib

    return matplotlib.rc_context(DRAW_RC)


def _ipympl_active() -> bool:
    import matplotlib

    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or backend.endswith("widget")


def _in_kernel() -> bool:
    """True inside a running Jupyter kernel (where widget views can be shown)."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def changed_in_browser() -> bool:
    """True while the kernel handles a message from the browser (a widget's ``comm_msg``).

    Uses IPython's ``get_ipython().kernel.get_parent()``: the header of the message the
    kernel is handling. A cell's code runs under an ``execute_request`` instead.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with ipywidgets
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    if kernel is None or not hasattr(kernel, "get_parent"):
        return False
    parent = kernel.get_parent() or {}
    return parent.get("header", {}).get("msg_type") == "comm_msg"


def new_figure(figsize=(8.0, 4.0), dpi: float = 80):
    """A matplotlib Figure on an ipympl canvas when active, else on an Agg canvas.

    Returns ``(fig, live)``: ``live`` is True for ipympl's canvas. That canvas is made
    directly (ipympl's ``Canvas`` and ``FigureManager``, as its backend does), not with
    ``plt.figure``: the figure stays out of pyplot's figure list, so pyplot's draw-all hook,
    which IPython runs after the kernel handles a message, never asks the browser for a
    second, full frame after an update. Its ``draw`` holds the canvas's ``frame_lock``.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    if _ipympl_active():
        from ipympl.backend_nbagg import FigureManager

        canvas = _frame_locked_canvas()(fig)
        FigureManager(canvas, num=id(fig))
        canvas.header_visible = False
        canvas.toolbar_visible = False
        canvas.footer_visible = False
        canvas.resizable = False
        return fig, True
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    return fig, False


@functools.cache
def _frame_locked_canvas():
    """ipympl's ``Canvas`` whose full redraw (``draw``) waits for a frame in progress.

    ipykernel 7 handles some comm messages on a second thread: ipympl's answer to the
    browser's "draw" request (a full ``canvas.draw()``) can run while an app draws its
    frame on the main thread, on the same Agg buffer, and a half-drawn picture is sent.
    Both hold ``frame_lock`` (a re-entrant lock, one per canvas), so they take turns.
    """
    from ipympl.backend_nbagg import Canvas

    class FrameLockedCanvas(Canvas):
        def __init__(self, figure, *args, **kwargs):
            self.frame_lock = threading.RLock()
            super().__init__(figure, *args, **kwargs)

        def draw(self):
            with self.frame_lock, drawing():
                super().draw()

        def get_diff_image(self):
            """The frame to send: the whole figure as PNG, encoded by :func:`canvas_png`.

            webagg's own frame is a "diff" (only the changed pixels) when it can be, which
            the browser, decoding frames asynchronously, can paint over the wrong frame; and
            Pillow's PNG encoder at its default level takes about 15 ms for a 700 x 330
            figure, against 2 to 3 ms here. Until the browser has set up its canvas, ipympl
            keeps a copy of the frame for the page's saved image: webagg's path does that.
            """
            if self.syncing_data_url:
                return super().get_diff_image()
            return canvas_png(self.figure)

    return FrameLockedCanvas


def figure_png(fig) -> bytes:
    """The figure rendered to PNG bytes."""
    buf = io.BytesIO()
    with drawing():
        fig.savefig(buf, format="png")
    return buf.getvalue()


def png_bytes(pixels: np.ndarray, level: int = PNG_COMPRESS_LEVEL) -> bytes:
    """PNG file of an (H, W, 3) RGB or (H, W, 4) RGBA uint8 array: no row filters, zlib at ``level``.

    A PNG file is an 8-byte signature and chunks (length, type, data, CRC-32): IHDR (size,
    8 bits per channel, colour type 2 = RGB or 6 = RGBA), IDAT (the zlib-compressed rows, each
    preceded by its filter byte, 0 = none) and IEND. Pillow's encoder picks a filter for every
    row, which makes a figure's frame a tenth smaller but takes twice as long (about 5 instead
    of 2.4 ms for a 672 x 328 figure on this course's reference machine).
    """
    height, width, channels = pixels.shape
    rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)   # column 0: filter byte 0
    rows[:, 1:] = pixels.reshape(height, -1)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, {3: 2, 4: 6}[channels], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), level)) + chunk(b"IEND", b""))


def canvas_png(fig) -> bytes:
    """The canvas's current Agg buffer as PNG bytes (no redraw), with :func:`png_bytes`.

    An opaque figure (the usual white one) is encoded as RGB: a quarter less data to compress.
    """
    pixels = np.asarray(fig.canvas.buffer_rgba())
    if (pixels[..., 3] == 255).all():
        pixels = pixels[..., :3]
    return png_bytes(pixels, PNG_COMPRESS_LEVEL)


_SUPERSCRIPTS = str.maketrans("0123456789()-−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾⁻⁻")


def superscript(text) -> str:
    """``text`` with its digits, brackets and minus signs raised, for labels without TeX: "(2)" -> "⁽²⁾",
    -3 -> "⁻³"."""
    return str(text).translate(_SUPERSCRIPTS)


def is_echo(change) -> bool:
    """True for a float control's "change" by rounding only: the browser's slider sends back the value
    it was given, recomputed on its grid as min + k * step (1.0 -> 1.0000000000000002)."""
    old, new = change["old"], change["new"]
    return isinstance(old, float) and isinstance(new, float) and abs(new - old) <= 1e-9 * max(1.0, abs(old))


def wrapping_row(W, children):
    """A row of widgets that wraps onto more lines where the output area is too narrow."""
    return W.HBox(list(children), layout=W.Layout(flex_flow="row wrap", align_items="flex-start",
                                                  width="100%", max_width="100%"))


def fit_control(control) -> None:
    """Size a control so that its label is shown whole and a slider keeps a usable track.

    Descriptions get the width of their text (``description_width: initial``) and, as a
    tooltip, their full text; sliders, menus and text boxes fill the column they are in;
    buttons are as wide as their label. Containers are fitted child by child. A width the
    app has set explicitly is kept.
    """
    import ipywidgets as W

    if isinstance(control, W.Box):
        for child in control.children:
            fit_control(child)
        return
    layout, style = control.layout, getattr(control, "style", None)
    description = getattr(control, "description", "")
    if description and not getattr(control, "tooltip", None) and hasattr(control, "tooltip"):
        control.tooltip = description
    if isinstance(control, W.ToggleButtons):
        style.button_width = "auto"
        layout.width = layout.width or "100%"
        layout.flex_flow = "row wrap"
    elif isinstance(control, (W.Button, W.Play)):
        layout.width = layout.width or "auto"
        layout.min_width = layout.min_width or "fit-content"
        layout.flex = layout.flex or "0 0 auto"
    elif isinstance(control, W.Checkbox):
        layout.width = layout.width or "auto"
    elif style is not None and hasattr(style, "description_width") and description:
        style.description_width = "initial"
        layout.width = layout.width or "100%"
    elif isinstance(control, W.ValueWidget):
        layout.width = layout.width or "100%"


class App:
    """Base class of the course's widget apps (see the module docstring).

    Attributes:
        controls: the ipywidgets controls by name.
        fig: the matplotlib figure, built once.
        ui: the ipywidgets container (title, controls, figure, status line).
        figure_widget: the widget inside ``ui`` that shows the figure.
        background_draws: how many times the static background was drawn in full.
        status: the status line (an ``ipywidgets.HTML``): errors in red, other messages in grey.
        last_error: the exception of the last failed callback, None after a success.
    """

    title: str = ""
    #: one line under the title that tells a learner what to do and what to look at
    explanation: str = ""
    figsize: tuple[float, float] = (8.0, 4.0)
    dpi: int = 80
    #: the controls column's width (CSS)
    controls_width: str = CONTROLS_WIDTH
    #: set True (e.g. in tests) to re-raise callback errors after showing them
    raise_errors: bool = False
    #: the app reacts to clicks on its figure (ipympl): it is drawn at most CLICKABLE_FIGURE_PX wide there
    takes_clicks: bool = False
    #: coalesce rapid changes from the browser, latest value wins (see the module docstring)
    coalesce: bool = True
    #: draw the backgrounds of the states ahead (:meth:`_ahead`) while the kernel is idle
    draw_ahead: bool = True

    def __init__(self):
        import ipywidgets as W

        self._W = W
        self.last_error: BaseException | None = None
        self._holding = 0
        self._pending = False
        self._stale = False           # a change from the browser waits for the next frame
        self._due = None              # the event loop's handle of that frame
        self._last_frame = -float("inf")
        #: how many times the figure was recomputed and drawn (one per refresh)
        self.refreshes = 0
        self._displayed = False
        self._dynamic: list = []
        self._fixed: list = []
        self._fixed_pixels: dict = {}  # (figure size, dpi) -> [(artist, saved region or None)]
        self._backgrounds: dict = {}  # static key -> saved region, oldest first
        #: how many times the static background was drawn in full (a redraw from a saved one does not count)
        self.background_draws = 0
        self._static_version = 0
        self._invalidations = 0
        self._ahead_version = 0       # a newer frame drops the backgrounds still to be drawn ahead
        self.status = W.HTML(value="")
        self.controls: dict[str, Any] = self._make_controls()
        dpi = self.dpi
        if self.takes_clicks and _ipympl_active():
            dpi = min(dpi, CLICKABLE_FIGURE_PX / self.figsize[0])
        self.fig, self._live = new_figure(self.figsize, dpi)
        # Titles at a fixed height (axes.titley = 1, matplotlib's documented setting): by default
        # matplotlib measures every tick label to decide whether a title must move up, about
        # 2 ms per axes whenever the background is drawn; no widget puts ticks on top.
        import matplotlib

        with matplotlib.rc_context({"axes.titley": 1.0}):
            self._build(self.fig)
        #: held while a frame is computed, drawn and sent; ipympl's own redraw waits for it
        self.frame_lock = getattr(self.fig.canvas, "frame_lock", None) or threading.RLock()
        if self._live:
            self._view = self.fig.canvas
        else:
            self._view = W.Image(format="png", layout=W.Layout(max_width="100%", height="auto", margin="0",
                                                               object_fit="contain"))
        for control in self.controls.values():
            if hasattr(control, "value") and not isinstance(control, (W.Button, W.Output)):
                control.observe(self._on_change, names="value")
        self.ui = self._layout(W)
        self.ui.add_class(APP_CLASS)
        self.refresh()

    # ---------------------------------------------------------------- to override
    def _make_controls(self) -> dict[str, Any]:
        raise NotImplementedError

    def _read_state(self):
        raise NotImplementedError

    def _build(self, fig) -> None:
        raise NotImplementedError

    def _draw(self, state) -> None:
        raise NotImplementedError

    def _ahead(self, state) -> list:
        """States the student is likely to pick next; their backgrounds are drawn ahead (none by default).

        Only states whose static part :meth:`_set_static` can set up are useful here.
        """
        return []

    def _set_static(self, state) -> None:
        """Set what keys ``state``'s background (axis limits, static artists), for :meth:`_ahead`.

        It must not touch any control or other widget: it also runs for states not on show.
        """
        raise NotImplementedError(f"{type(self).__name__} names states in _ahead but has no _set_static")

    def _follow(self, change) -> None:
        """Set the controls that follow a control's change (a new preset's inputs); none by default.

        Called before the redraw, with redraws held: the change and the controls it sets
        are drawn as one frame.
        """

    def _layout(self, W):
        """The container: a title, the controls in a column, the figure and the status line.

        Apps with their own arrangement build it from :meth:`controls_column` and :meth:`frame`.
        """
        controls = [c for c in self.controls.values() if isinstance(c, W.DOMWidget)]
        return self.frame([[self.controls_column(controls), self.figure_box()]])

    def controls_column(self, children, width: str | None = None):
        """A column of controls (each fitted with :func:`fit_control`) that keeps ``width`` (CSS)."""
        W = self._W
        for child in children:
            fit_control(child)
        width = width or self.controls_width
        return W.VBox(children, layout=W.Layout(width=width, min_width=width, flex="0 0 auto"))

    def figure_box(self):
        """The figure in a box that takes the width left and lets the figure shrink into it."""
        W = self._W
        return W.Box([self._view], layout=W.Layout(flex="1 1 auto", min_width="0", max_width="100%"))

    def frame(self, rows):
        """The app's outer box: title, explanation, ``rows`` (each wrapping when narrow), status line.

        A row that is a list is laid out left to right and wraps: where the output area is too
        narrow, the later items (the figure) move below the earlier ones (the controls).
        """
        W = self._W
        children = []
        if self.title:
            children.append(W.HTML(f"<b>{html.escape(self.title)}</b>"))
        if self.explanation:
            children.append(W.HTML(f"<span style='color:#444'>{html.escape(self.explanation)}</span>"))
        if self._live:
            children.append(W.HTML(_IPYMPL_CSS, layout=W.Layout(height="0px", overflow="hidden")))
        for row in rows:
            if isinstance(row, (list, tuple)):
                row = wrapping_row(W, row)
            children.append(row)
        children.append(self.status)
        return W.VBox(children, layout=W.Layout(width="100%", max_width="100%", overflow="hidden"))

    # ---------------------------------------------------------------- machinery
    @property
    def figure_widget(self):
        """The widget that shows the figure: ipympl's canvas, or an ``ipywidgets.Image`` of PNG frames."""
        return self._view

    @property
    def state(self):
        """The current state, read from the controls."""
        return self._read_state()

    def _on_change(self, change=None) -> None:
        if change is not None:
            if is_echo(change):
                return  # the same picture: no frame
            self._holding += 1
            try:
                self._follow(change)
            finally:
                self._holding -= 1
        if self._holding:
            self._pending = True
            return
        self._pending = False  # the controls that followed are drawn now, with this change
        if self.coalesce and changed_in_browser():
            self.refresh_soon()
            return
        self.refresh()

    def refresh_soon(self) -> None:
        """Latest value wins: draw now, or once ``FRAME_INTERVAL_S`` after the last frame.

        Called for every change from the browser. A change long enough after the last
        frame is drawn at once; one that comes sooner marks the figure stale and schedules
        one frame on the kernel's event loop for the end of the interval, which draws the
        values of that moment; the changes after it, until then, only mark it stale.
        Without a running event loop (plain Python), or under ipympl, every change is
        drawn at once.
        """
        self._stale = True
        if self._due is not None:
            return  # a frame is already due; it will read the latest values
        wait = self._last_frame + FRAME_INTERVAL_S - time.monotonic()
        if wait <= 0 or self._live:
            self._draw_if_stale()
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._draw_if_stale()
            return
        self._due = loop.call_later(wait, self._draw_if_stale)

    def _draw_if_stale(self) -> None:
        self._due = None
        if self._stale:
            self.refresh()

    @contextlib.contextmanager
    def hold(self):
        """Change several controls inside ``with app.hold():`` and redraw once at the end."""
        self._holding += 1
        try:
            yield self
        finally:
            self._holding -= 1
            if not self._holding and self._pending:
                self._pending = False
                self.refresh()

    def set(self, **values) -> None:
        """Set several control values (by control name) with a single redraw."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise KeyError(f"unknown control(s) {unknown}; this app's controls are {sorted(self.controls)}")
        with self.hold():
            for name, value in values.items():
                self.controls[name].value = value

    def guarded(self, fn, *args, **kwargs):
        """Run ``fn``; show any exception in the status line instead of losing it."""
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # shown to the user, never swallowed
            self.last_error = exc
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.status.value = (f"{_ERROR_PREFIX};white-space:pre-wrap'>"
                                 f"Error: {html.escape(tb)}</pre>")
            if self.raise_errors:
                raise
            return None
        self.last_error = None
        if self.status.value.startswith(_ERROR_PREFIX):
            self.status.value = ""
        return result

    def say(self, message: str) -> None:
        """Show an informational message (grey) in the status line."""
        self.status.value = f"<span style='color:#555'>{html.escape(message)}</span>" if message else ""

    def on_click(self, name: str, action: Callable[[], Any]) -> None:
        """Run ``action()`` when the button ``name`` is clicked, guarded, then redraw once.

        Control values that ``action`` changes are redrawn together with it (one
        redraw); if ``action`` raises, the error stays in the status line.
        """

        def _clicked(_button=None):
            self._holding += 1
            failed = True
            try:
                self.guarded(action)
                failed = self.last_error is not None
            finally:
                self._holding -= 1
            if self._holding:
                self._pending = True
            elif not failed:
                self._pending = False
                self.refresh()

        self.controls[name].on_click(_clicked)

    def refresh(self) -> None:
        """Recompute from the controls and redraw the figure in place."""
        self.guarded(self._refresh)

    def _refresh(self) -> None:
        with self.frame_lock:
            self._stale = False
            self.refreshes += 1
            try:
                state = self._read_state()
                self._draw(state)
                self.show()
            finally:
                self._last_frame = time.monotonic()
        self._schedule_ahead(state)

    def _schedule_ahead(self, state) -> None:
        """Queue the backgrounds of :meth:`_ahead`'s states on the event loop (none without one)."""
        self._ahead_version += 1
        if not (self.draw_ahead and self._dynamic):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        states = [s for s in self._ahead(state) if s != state]
        if states:
            loop.call_soon(self._draw_ahead, self._ahead_version, state, states)

    def _draw_ahead(self, version: int, current, states: list) -> None:
        """Draw the background of ``states[0]`` (unless kept), then queue the rest for the loop's next turn.

        The figure's pixels and static part are put back as they were for ``current``. A state
        that cannot be set up (an error) ends the drawing ahead: picking it shows the error.
        """
        if version != self._ahead_version:
            return  # a newer frame has its own states ahead
        canvas = self.fig.canvas
        with self.frame_lock:
            try:
                self._set_static(states[0])
                if self._static_key() not in self._backgrounds:
                    pixels = canvas.copy_from_bbox(self.fig.bbox)
                    with drawing():
                        self._new_background()
                    canvas.restore_region(pixels)
            except Exception:  # not on show: picking that state reports the same error
                return
            finally:
                self._set_static(current)
        if len(states) > 1:
            asyncio.get_running_loop().call_soon(self._draw_ahead, version, current, states[1:])

    def dynamic(self, *artists):
        """Register artists that change with the state (drawn on top of the cached background).

        The spines of their axes become dynamic too: a full draw puts the spines over the
        axes' content, and so must a redraw over the background.

        Returns the artist (one given) or the tuple of artists.
        """
        for artist in artists:
            spines = list(artist.axes.spines.values()) if getattr(artist, "axes", None) is not None else []
            for a in (artist, *spines):
                if a not in self._dynamic:
                    self._dynamic.append(a)
        self._forget_backgrounds()
        return artists[0] if len(artists) == 1 else artists

    def clear_dynamic(self) -> None:
        """Forget every registered dynamic artist (before rebuilding part of the figure)."""
        self._dynamic.clear()
        self._forget_backgrounds()

    def _forget_backgrounds(self) -> None:
        self._backgrounds.clear()

    def fixed(self, *artists):
        """Register figure-level artists that never change (a figure legend): drawn once, then pasted.

        A new background is drawn without them; their pixels, drawn and saved the first time
        (``canvas.copy_from_bbox``), are pasted into it (``canvas.restore_region``). Their box
        must lie outside every axes, where nothing else is drawn; one that overlaps an axes is
        simply drawn every time. The pixels are kept per figure size and dpi.

        Returns the artist (one given) or the tuple of artists.
        """
        self._fixed.extend(a for a in artists if a not in self._fixed)
        self._fixed_pixels.clear()
        self._forget_backgrounds()
        return artists[0] if len(artists) == 1 else artists

    def _paste_fixed(self) -> None:
        """Draw the fixed artists into the Agg buffer: saved pixels, or drawn (and saved) the first time."""
        from matplotlib.transforms import Bbox

        canvas, fig = self.fig.canvas, self.fig
        key = (tuple(fig.bbox.size), fig.dpi)
        saved = self._fixed_pixels.get(key)
        if saved is None:
            saved = []
            renderer = canvas.get_renderer()
            for artist in self._fixed:
                fig.draw_artist(artist)
                box = artist.get_window_extent(renderer).padded(2)
                box = Bbox.intersection(box, fig.bbox)
                inside_axes = box is None or any(box.overlaps(ax.bbox) for ax in fig.axes)
                saved.append((artist, None if inside_axes else canvas.copy_from_bbox(box)))
            self._fixed_pixels[key] = saved
            return
        for artist, region in saved:
            if region is None:
                fig.draw_artist(artist)
            else:
                canvas.restore_region(region)

    def invalidate(self, key=None) -> None:
        """Redraw the static background at the next redraw (after changing a static artist).

        With ``key`` (any hashable value naming what the static artists now show, e.g. the
        chosen menu option), a background drawn earlier under the same key and the same
        axis limits is reused; without it, earlier backgrounds are never reused.
        """
        self._invalidations += 1
        self._static_version = ("version", self._invalidations) if key is None else ("key", key)

    def _static_key(self):
        fig = self.fig
        limits = tuple((tuple(ax.get_xlim()), tuple(ax.get_ylim())) for ax in fig.axes)
        return (tuple(fig.bbox.size), fig.dpi, limits, self._static_version)

    def render(self) -> None:
        """Draw the figure into the Agg buffer: the saved background plus the dynamic artists.

        The same path serves the live canvas, the PNG view and :meth:`redraw_agg`.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.spines import Spine

        with drawing():
            canvas = self.fig.canvas
            # FigureCanvasAgg.draw, not canvas.draw: on ipympl's canvas draw() also sends a frame.
            if not self._dynamic:
                FigureCanvasAgg.draw(canvas)
                return
            key = self._static_key()
            background = self._backgrounds.pop(key, None)
            if background is None:
                self._new_background()
            else:
                canvas.restore_region(background)
                self._backgrounds[key] = background  # now the most recently used
            order = {id(ax): i for i, ax in enumerate(self.fig.axes)}
            for artist in sorted(self._dynamic, key=lambda a: (order.get(id(a.axes), -1), a.get_zorder())):
                if isinstance(artist, Spine) and not (artist.axes.axison and artist.axes.get_frame_on()):
                    continue  # an axes drawn without its frame (axis("off")) leaves its spines out
                if artist.get_visible():
                    if artist.axes is not None:
                        artist.axes.draw_artist(artist)
                    else:
                        self.fig.draw_artist(artist)
            self.fig.stale = False

    def _new_background(self) -> None:
        """Draw the figure without its dynamic artists into the Agg buffer and keep a copy of it."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = self.fig.canvas
        # animated artists are left out of the drawing (but still count for the layout)
        left_out = self._dynamic + self._fixed
        animated = [a.get_animated() for a in left_out]
        for a in left_out:
            a.set_animated(True)
        try:
            FigureCanvasAgg.draw(canvas)
        finally:
            for a, flag in zip(left_out, animated):
                a.set_animated(flag)
        if self._fixed:
            self._paste_fixed()
        key = self._static_key()  # drawing can settle the limits (fixed-aspect axes)
        self._backgrounds.pop(key, None)
        self._backgrounds[key] = canvas.copy_from_bbox(self.fig.bbox)
        self.background_draws += 1
        while len(self._backgrounds) > BACKGROUNDS_KEPT:
            self._backgrounds.pop(next(iter(self._backgrounds)))

    def show(self) -> None:
        """Push the current figure to the view (one whole frame on ipympl, new PNG bytes otherwise)."""
        with self.frame_lock:
            if self._live:
                # ipympl: a frame sent before the browser has set up the canvas leaves it blank
                # (0 x 0) for good. Until the browser reports "initialized" (ipympl then stops
                # syncing the data URL), send nothing: the browser's first request draws the figure.
                if getattr(self.fig.canvas, "syncing_data_url", False):
                    return
                self.render()
                self.fig.canvas.blit(self.fig.bbox)
            elif self._displayed or _in_kernel():
                self.render()
                self._view.value = canvas_png(self.fig)

    def redraw_agg(self) -> None:
        """Compute and draw on the Agg canvas (what the benchmark times): no PNG encoding.

        This is the same drawing path as a redraw in the notebook (:meth:`render`).
        """
        with self.frame_lock:
            self._draw(self._read_state())
            self.render()

    def button(self, name: str):
        """Press the button control ``name`` (what a click does), for tests and notebooks."""
        self.controls[name].click()

    # ---------------------------------------------------------------- display
    def _repr_mimebundle_(self, include=None, exclude=None):
        self._displayed = True
        with self.frame_lock:  # savefig draws into the canvas's buffer too
            png = figure_png(self.fig)
        if not self._live:
            self._view.value = png
        data = self.ui._repr_mimebundle_(include=include, exclude=exclude)
        if isinstance(data, tuple):
            data = data[0]
        data = dict(data or {})
        data["image/png"] = base64.b64encode(png).decode("ascii")
        data["text/plain"] = f"<{type(self).__name__} widget: run in JupyterLab to interact>"
        return data
