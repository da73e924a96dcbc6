"""The base of every widget app: controls -> state -> pure compute -> figure updated in place.

An app subclass provides four small methods:

* ``_make_controls()`` returns a dict of ipywidgets controls (sliders, dropdowns, buttons);
* ``_read_state()`` turns the control values into a plain state object (a dataclass);
* ``_build(fig)`` creates the axes and artists ONCE;
* ``_draw(state)`` computes from the state (with pure functions of the module) and
  updates the artists in place (``set_data``, ``set_array``, ``set_text``).

The base wires every control's ``value`` to :meth:`App.refresh`, shows the figure,
and reports any exception raised in a callback in the widget itself (a red
message under the figure, also kept in ``app.last_error``): nothing is swallowed.
Buttons are wired with :meth:`App.on_click`, which runs the action through the
same guard and then refreshes.

Several controls can be changed with a single redraw: ``app.set(w1=1.0, b=-0.5)``
or ``with app.hold(): ...``.

Fast redraws: an app may register the artists that change from one state to
the next with ``self.dynamic(artist, ...)`` in ``_build``. The rest of the
figure (axes, ticks, labels, legends: text is by far the slowest thing Agg
draws) is then rendered once and kept as a background; a redraw restores the
background and draws only the dynamic artists (matplotlib's "blitting"). The
background is redrawn automatically when an axis limit or the figure size
changes, or after ``self.invalidate()``. Apps that register nothing get a full
draw every time. The last few backgrounds are kept (by axis limits, figure size
and the key given to ``invalidate``), so going back to an earlier menu option
or range restores its background instead of drawing it again.

Text is drawn through a cache of rendered strings (:func:`_install_text_cache`):
each string is rasterised by FreeType once per font, size and angle and then
stamped at whole-pixel positions, as matplotlib did before version 3.11.

The figure lives on whichever canvas fits the notebook:

* with ipympl (``%matplotlib widget``), ``fig.canvas`` is itself a widget and
  redraws in place with ``draw_idle()``;
* with any other backend (inline, or none in plain pytest), the figure is drawn
  with Agg and shown as PNG bytes in an ``ipywidgets.Image`` that is updated in
  place, so the app stays interactive even under the inline backend (outside a
  kernel, e.g. in pytest, the PNG is only encoded once the app is displayed);
* displayed, the app also offers a static ``image/png`` of its current figure,
  which is what nbconvert's HTML and non-widget frontends show.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import traceback
from typing import Any, Callable

import numpy as np

_ERROR_PREFIX = "<pre style='color:#b00020"
#: backgrounds kept per app (each is one RGBA copy of the figure)
_BACKGROUNDS_KEPT = 8
#: rendered strings kept (shared by every app); the cache is emptied when full
_TEXT_CACHE_SIZE = 4096
_TEXT_CACHE: dict = {}


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


def new_figure(figsize=(8.0, 4.0), dpi: int = 80):
    """A matplotlib Figure on an ipympl canvas when active, else on an Agg canvas."""
    if _ipympl_active():
        import matplotlib.pyplot as plt

        with plt.ioff():
            fig = plt.figure(figsize=figsize, dpi=dpi)
        fig.canvas.header_visible = False
        fig.canvas.toolbar_visible = False
        fig.canvas.footer_visible = False
        fig.canvas.resizable = False
        return fig, True
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(fig)
    return fig, False


def figure_png(fig) -> bytes:
    """The figure rendered to PNG bytes."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def canvas_png(fig) -> bytes:
    """The canvas's current Agg buffer as PNG bytes (no redraw)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(fig.canvas.buffer_rgba())).save(buf, format="png")
    return buf.getvalue()


def _text_mask(renderer, gc, s, prop, angle, ismath, mtext):
    """The coverage mask of ``s`` drawn with its baseline origin at a whole pixel: (mask, dx, dy) or None.

    ``mask`` is a uint8 array (rows, cols); its left column is ``dx`` pixels right of the
    origin and its bottom row ``dy`` pixels below it (y downwards). None: nothing is drawn.
    """
    from matplotlib.backends.backend_agg import RendererAgg

    w, h, d = renderer.get_text_width_height_descent(s, prop, ismath)
    margin = int(prop.get_size_in_points() * renderer.dpi / 72.0 * 0.6) + 4
    t = np.radians(angle)
    corners = [(0.0, -d), (w, -d), (0.0, h - d), (w, h - d)]  # y upwards
    xs = [px * np.cos(t) - py * np.sin(t) for px, py in corners]
    ys = [px * np.sin(t) + py * np.cos(t) for px, py in corners]
    ox, oy = int(np.ceil(-min(xs))) + margin, int(np.ceil(max(ys))) + margin
    scratch = RendererAgg(int(np.ceil(max(xs))) + ox + margin, oy + int(np.ceil(-min(ys))) + margin, renderer.dpi)
    sgc = scratch.new_gc()
    sgc.set_foreground((0.0, 0.0, 0.0, 1.0), isRGBA=True)
    sgc.set_antialiased(gc.get_antialiased())
    RendererAgg.draw_text(scratch, sgc, ox, oy, s, prop, angle, ismath, mtext)
    sgc.restore()
    alpha = np.asarray(scratch.buffer_rgba())[..., 3]
    rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
    if not len(rows):
        return None
    mask = np.ascontiguousarray(alpha[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])
    return mask, int(cols[0]) - ox, int(rows[-1]) + 1 - oy


def _cached_draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):
    """RendererAgg.draw_text through the rendered-string cache (TeX text is drawn as usual)."""
    from matplotlib.backends.backend_agg import RendererAgg

    if ismath == "TeX":
        return RendererAgg.draw_text(self, gc, x, y, s, prop, angle, ismath, mtext)
    extra = ((getattr(mtext, "get_fontfeatures", lambda: None)(), getattr(mtext, "get_language", lambda: None)())
             if mtext is not None else (None, None))
    key = (s, prop, float(angle), bool(ismath), self.dpi, bool(gc.get_antialiased()), extra)
    entry = _TEXT_CACHE.get(key, False)
    if entry is False:
        entry = _text_mask(self, gc, s, prop, angle, ismath, mtext)
        if len(_TEXT_CACHE) >= _TEXT_CACHE_SIZE:
            _TEXT_CACHE.clear()
        # the key keeps a copy of the font properties: the text's own may change later
        _TEXT_CACHE[(s, prop.copy(), *key[2:])] = entry
    if entry is not None:
        mask, dx, dy = entry
        self._renderer.draw_text_image(mask, int(round(x)) + dx, int(round(y)) + dy, 0, gc)


def _install_text_cache(renderer) -> None:
    """Route this Agg renderer's text through the rendered-string cache (once per renderer)."""
    import types

    from matplotlib.backends.backend_agg import RendererAgg

    # It uses Agg's internal draw_text_image: where a matplotlib version lacks it, text is drawn as usual.
    if (type(renderer) is RendererAgg and not hasattr(renderer, "_course_text_cache")
            and hasattr(getattr(renderer, "_renderer", None), "draw_text_image")):
        renderer._course_text_cache = True
        renderer.draw_text = types.MethodType(_cached_draw_text, renderer)


class App:
    """Base class of the course's widget apps (see the module docstring).

    Attributes:
        controls: the ipywidgets controls by name.
        fig: the matplotlib figure, built once.
        ui: the ipywidgets container (title, controls, figure, status line).
        status: the status line (an ``ipywidgets.HTML``): errors in red, other messages in grey.
        last_error: the exception of the last failed callback, None after a success.
    """

    title: str = ""
    #: one line under the title that tells a learner what to do and what to look at
    explanation: str = ""
    figsize: tuple[float, float] = (8.0, 4.0)
    dpi: int = 80
    #: set True (e.g. in tests) to re-raise callback errors after showing them
    raise_errors: bool = False

    def __init__(self):
        import ipywidgets as W

        self._W = W
        self.last_error: BaseException | None = None
        self._holding = 0
        self._pending = False
        self._displayed = False
        self._dynamic: list = []
        self._background = None
        self._background_key = None
        self._backgrounds: dict = {}  # static key -> saved region, oldest first
        self._static_version = 0
        self._invalidations = 0
        self.status = W.HTML(value="")
        self.controls: dict[str, Any] = self._make_controls()
        self.fig, self._live = new_figure(self.figsize, self.dpi)
        self._build(self.fig)
        if self._live:
            if self._dynamic:
                # redraws are pushed by show() (blit); no automatic full redraw on every change
                self.fig.stale_callback = None
            self._view = self.fig.canvas
        else:
            self._view = W.Image(format="png")
        for name, control in self.controls.items():
            if hasattr(control, "value") and not isinstance(control, (W.Button, W.Output)):
                control.observe(self._on_change, names="value")
        self.ui = self._layout(W)
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

    def _layout(self, W):
        """The container: a title, the controls in a column, the figure and the status line."""
        children = []
        if self.title:
            children.append(W.HTML(f"<b>{html.escape(self.title)}</b>"))
        if self.explanation:
            children.append(W.HTML(f"<span style='color:#444'>{html.escape(self.explanation)}</span>"))
        controls = [c for c in self.controls.values() if isinstance(c, W.DOMWidget)]
        children.append(W.HBox([W.VBox(controls, layout=W.Layout(min_width="280px")), self._view]))
        children.append(self.status)
        return W.VBox(children)

    # ---------------------------------------------------------------- machinery
    @property
    def state(self):
        """The current state, read from the controls."""
        return self._read_state()

    def _on_change(self, change=None) -> None:
        if self._holding:
            self._pending = True
            return
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
        self._draw(self._read_state())
        self.show()

    def dynamic(self, *artists):
        """Register artists that change with the state (drawn on top of the cached background).

        Returns the artist (one given) or the tuple of artists.
        """
        for artist in artists:
            if artist not in self._dynamic:
                self._dynamic.append(artist)
        self._background = None
        self._backgrounds.clear()
        return artists[0] if len(artists) == 1 else artists

    def clear_dynamic(self) -> None:
        """Forget every registered dynamic artist (before rebuilding part of the figure)."""
        self._dynamic.clear()
        self._background = None
        self._backgrounds.clear()

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
        return (tuple(fig.bbox.size), fig.dpi, limits, self._static_version,
                id(fig.canvas.get_renderer()))

    def render(self) -> None:
        """Draw the figure into the Agg buffer: the cached background plus the dynamic artists.

        The same path serves the live canvas, the PNG view and :meth:`redraw_agg`.
        """
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        canvas = self.fig.canvas
        _install_text_cache(canvas.get_renderer())
        if not self._dynamic:
            FigureCanvasAgg.draw(canvas)
            return
        key = self._static_key()
        if (self._background is None or key != self._background_key) and key in self._backgrounds:
            self._background, self._background_key = self._backgrounds[key], key
        if self._background is None or key != self._background_key:
            # animated artists are left out of a full draw but still count for the layout
            animated = [a.get_animated() for a in self._dynamic]
            for a in self._dynamic:
                a.set_animated(True)
            try:
                FigureCanvasAgg.draw(canvas)
            finally:
                for a, flag in zip(self._dynamic, animated):
                    a.set_animated(flag)
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._background_key = self._static_key()
            self._backgrounds.pop(self._background_key, None)
            self._backgrounds[self._background_key] = self._background
            while len(self._backgrounds) > _BACKGROUNDS_KEPT:
                self._backgrounds.pop(next(iter(self._backgrounds)))
        else:
            canvas.restore_region(self._background)
        order = {id(ax): i for i, ax in enumerate(self.fig.axes)}
        for artist in sorted(self._dynamic, key=lambda a: (order.get(id(a.axes), -1), a.get_zorder())):
            if artist.get_visible():
                if artist.axes is not None:
                    artist.axes.draw_artist(artist)
                else:
                    self.fig.draw_artist(artist)

    def show(self) -> None:
        """Push the current figure to the view (blit or draw_idle on ipympl, new PNG bytes otherwise)."""
        if self._live:
            # ipympl 0.10: a frame sent before the browser has set up the canvas leaves it blank for
            # good; while it is still syncing, the browser asks for the first frame itself.
            if getattr(self.fig.canvas, "syncing_data_url", False):
                return
            if self._dynamic:
                self.render()
                self.fig.canvas.blit(self.fig.bbox)
            else:
                self.fig.canvas.draw_idle()
        elif self._displayed or _in_kernel():
            self.render()
            self._view.value = canvas_png(self.fig)

    def redraw_agg(self) -> None:
        """Compute and draw on the Agg canvas (what the benchmark times): no PNG encoding.

        This is the same drawing path as a redraw in the notebook (:meth:`render`).
        """
        self._draw(self._read_state())
        self.render()

    def button(self, name: str):
        """Press the button control ``name`` (what a click does), for tests and notebooks."""
        self.controls[name].click()

    # ---------------------------------------------------------------- display
    def _repr_mimebundle_(self, include=None, exclude=None):
        self._displayed = True
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
