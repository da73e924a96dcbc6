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
draw every time.

The background is itself made of layers, drawn and kept separately: the
figure patch with whatever lies under the axes, then each axes (with its ticks,
labels and title), then the figure-level artists on top (a figure legend).
When one axes changes its limits only that axes is drawn again, on a
transparent buffer, and the layers are composited ("over") in NumPy; the
others, the figure legend above all (one of the slowest things to lay out),
come from the cache. The last few layers and composed backgrounds are kept (by
axis limits, figure size and the key given to ``invalidate``), so going back
to an earlier menu option or range restores them instead of drawing again.
Figures with a layout engine or subfigures are drawn whole.

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
#: bytes of background layers kept per app (each axes layer is cropped to what it covers)
_LAYER_BYTES_KEPT = 48 * 2 ** 20
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

    try:  # the text's layout has just measured the string: matplotlib's cache has the answer
        from matplotlib.text import _get_text_metrics_with_cache
    except ImportError:  # pragma: no cover - another matplotlib version: measure again
        w, h, d = renderer.get_text_width_height_descent(s, prop, ismath)
    else:
        w, h, d = _get_text_metrics_with_cache(renderer, s, prop, ismath, renderer.dpi)
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
        if not hasattr(renderer, "_get_font_height_metrics"):
            # Text layout asks the renderer for the font's line metrics when it can (matplotlib's
            # hook for the PDF/PS backends) and otherwise reads them from the font file for every
            # text on every draw; this answers from a cache with the same numbers.
            renderer._get_font_height_metrics = types.MethodType(_cached_font_height_metrics, renderer)


_FONT_METRICS: dict = {}


def _cached_font_height_metrics(self, prop):
    """(ascent, descent, line gap) in pixels of ``prop``'s font, as ``Text._get_layout`` reads them."""
    key = (prop, self.dpi)
    metrics = _FONT_METRICS.get(key)
    if metrics is None:
        from matplotlib.font_manager import fontManager, get_font

        font = get_font(fontManager._find_fonts_by_props(prop))
        metrics = (None, None, None)
        for table_name, gap_key, ascent_key, descent_key in (
                ("OS/2", "sTypoLineGap", "sTypoAscender", "sTypoDescender"),
                ("hhea", "lineGap", "ascent", "descent")):
            table = font.get_sfnt_table(table_name)
            if table is not None:
                scale = prop.get_size_in_points() * self.dpi / 72 / font.get_sfnt_table("head")["unitsPerEm"]
                metrics = (table[ascent_key] * scale, -table[descent_key] * scale, table[gap_key] * scale)
                break
        if len(_FONT_METRICS) >= _TEXT_CACHE_SIZE:
            _FONT_METRICS.clear()
        _FONT_METRICS[(prop.copy(), self.dpi)] = metrics  # a copy: the text's own properties may change
    return metrics


class _Layer:
    """One drawn layer of a background: an RGBA image placed at (row, col), ready to composite.

    The pixels it covers fully (most of an axes) are copied as 32-bit words; only the
    partly covered ones (anti-aliased edges, translucent fills) are blended.
    """

    __slots__ = ("image", "row", "col", "opaque", "partial")

    def __init__(self, image: np.ndarray, row: int = 0, col: int = 0):
        self.image, self.row, self.col = image, row, col
        alpha = image[..., 3]
        self.opaque = alpha == 255
        self.partial = np.nonzero((alpha > 0) & (alpha < 255))

    @property
    def nbytes(self) -> int:
        return self.image.nbytes + self.opaque.nbytes

    def over(self, picture: np.ndarray) -> None:
        """Composite this layer over ``picture`` (uint8 RGBA, straight alpha) in place."""
        h, w = self.opaque.shape
        dst = picture[self.row:self.row + h, self.col:self.col + w]
        np.copyto(dst.view(np.uint32)[..., 0], self.image.view(np.uint32)[..., 0], where=self.opaque)
        if not len(self.partial[0]):
            return
        s, d = self.image[self.partial].astype(np.float32), dst[self.partial].astype(np.float32)
        sa, da = s[:, 3:] / 255.0, d[:, 3:] / 255.0
        out_a = sa + da * (1.0 - sa)
        rgb = (s[:, :3] * sa + d[:, :3] * (da * (1.0 - sa))) / np.maximum(out_a, 1e-12)
        dst[self.partial] = np.clip(np.concatenate([rgb, out_a * 255.0], axis=1) + 0.5, 0, 255).astype(np.uint8)


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
        self._layers: dict = {}  # layer key -> _Layer, oldest first
        self._labels_placed = False
        self._static_version = 0
        self._invalidations = 0
        self.status = W.HTML(value="")
        self.controls: dict[str, Any] = self._make_controls()
        self.fig, self._live = new_figure(self.figsize, self.dpi)
        import matplotlib

        # titles at a fixed height (1.0 plus the pad) instead of one worked out from the tick
        # labels on every draw, which costs as much as drawing the axes itself
        with matplotlib.rc_context({"axes.titley": 1.0}):
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
        self._background = None
        self._backgrounds.clear()
        self._layers.clear()

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
        renderer = canvas.get_renderer()
        _install_text_cache(renderer)
        if not self._dynamic:
            FigureCanvasAgg.draw(canvas)
            return
        key = self._static_key()
        if (self._background is None or key != self._background_key) and key in self._backgrounds:
            self._background, self._background_key = self._backgrounds[key], key
        if self._background is None or key != self._background_key:
            # animated artists are left out of the background but still count for the layout
            animated = [a.get_animated() for a in self._dynamic]
            for a in self._dynamic:
                a.set_animated(True)
            try:
                if self._layered():
                    self._compose_background(renderer)
                else:
                    FigureCanvasAgg.draw(canvas)
            finally:
                for a, flag in zip(self._dynamic, animated):
                    a.set_animated(flag)
            if not self._labels_placed:
                self._labels_placed = True
                self._fix_axis_labels()
            self._background = canvas.copy_from_bbox(self.fig.bbox)
            self._background_key = self._static_key()
            self._backgrounds.pop(self._background_key, None)
            self._backgrounds[self._background_key] = self._background
            while len(self._backgrounds) > _BACKGROUNDS_KEPT:
                self._backgrounds.pop(next(iter(self._backgrounds)))
        else:
            canvas.restore_region(self._background)
        from matplotlib.spines import Spine

        order = {id(ax): i for i, ax in enumerate(self.fig.axes)}
        for artist in sorted(self._dynamic, key=lambda a: (order.get(id(a.axes), -1), a.get_zorder())):
            if isinstance(artist, Spine) and not (artist.axes.axison and artist.axes.get_frame_on()):
                continue  # an axes drawn without its frame (axis("off")) leaves its spines out
            if artist.get_visible():
                if artist.axes is not None:
                    artist.axes.draw_artist(artist)
                else:
                    self.fig.draw_artist(artist)

    def _fix_axis_labels(self) -> None:
        """Keep the axis labels where the first draw placed them, where that place cannot change.

        matplotlib works out each axis label's distance from the tick labels on every draw, by
        laying out all the tick labels a second time: a third of the cost of drawing an axes.
        An x label on a linear axis with horizontal tick labels always lands at the same place
        (the tick labels' height is the font's, whatever the numbers), and an empty label is
        never seen; these are fixed in axes coordinates. Other labels (a y label next to tick
        labels whose width changes) are still placed on every draw.
        """
        for ax in self.fig.axes:
            bbox = ax.get_position().transformed(self.fig.transFigure)
            xaxis, yaxis = ax.xaxis, ax.yaxis
            if not xaxis.label.get_text() or (ax.get_xscale() == "linear" and all(
                    t.get_rotation() == 0 for t in xaxis.get_ticklabels(which="both"))):
                x, y = xaxis.label.get_position()  # x in axes coordinates, y in pixels
                if bbox.height > 0:
                    xaxis.set_label_coords(x, (y - bbox.y0) / bbox.height)
            if not yaxis.label.get_text():
                yaxis.set_label_coords(0.0, 0.5)

    def _layered(self) -> bool:
        """Whether the background can be drawn in layers (see the module docstring)."""
        from matplotlib.backends.backend_agg import RendererAgg

        fig = self.fig
        return (type(fig.canvas.get_renderer()) is RendererAgg and fig.get_layout_engine() is None
                and not fig.subfigs and not fig.images and fig.get_visible()
                and all(ax.get_figure(root=False) is fig for ax in fig.axes))

    def _background_layers(self) -> list:
        """The background's layers, bottom to top: (key, artists, opaque, hidden).

        The first holds the figure patch and the figure-level artists under the axes, then the
        layers of each axes (:meth:`_axes_layers`), then the figure-level artists above them
        (legends, figure texts), in the order in which :meth:`matplotlib.figure.Figure.draw`
        draws them. ``hidden`` artists are left out while the layer is drawn.
        """
        fig = self.fig
        axes = sorted(fig.axes, key=lambda ax: ax.get_zorder())  # a stable sort, as Figure.draw's
        lowest = axes[0].get_zorder() if axes else np.inf
        others = sorted((a for a in fig.get_children()
                         if a is not fig.patch and a not in fig.axes and not a.get_animated()),
                        key=lambda a: a.get_zorder())
        base = (tuple(fig.bbox.size), fig.dpi, self._static_version, id(fig.canvas.get_renderer()))
        layers = [(("under", base), [fig.patch] + [a for a in others if a.get_zorder() <= lowest], True, [])]
        for i, ax in enumerate(axes):
            layers += self._axes_layers(ax, (i, id(ax), base))
        layers.append((("over", base), [a for a in others if a.get_zorder() > lowest], False, []))
        return layers

    @staticmethod
    def _axes_layers(ax, key) -> list:
        """One axes' layers: its body (patch, static artists, title), then its x axis, then its y axis.

        Each axis (ticks, tick labels, axis label) depends on its own limits only, so a new
        y-range draws the body and the y axis again and reuses the x axis. The split needs the
        axis to stay off the body: ticks pointing out and no grid lines. Otherwise, or with the
        axis switched off, the axes is one layer.
        """
        position = tuple(ax.get_position().bounds)
        xlim, ylim = tuple(ax.get_xlim()), tuple(ax.get_ylim())
        axes_key = ("axes", *key, xlim, ylim, position)

        def apart(axis, name) -> bool:
            import matplotlib

            params = [axis.get_tick_params(which=which) for which in ("major", "minor")]
            direction = matplotlib.rcParams[f"{name}tick.direction"]
            return (not axis.get_animated()
                    and all(not p.get("gridOn", False) and p.get("direction", direction) == "out" for p in params))

        if not (ax.axison and apart(ax.xaxis, "x") and apart(ax.yaxis, "y")):
            return [(axes_key, [ax], False, [])]
        return [(axes_key, [ax], False, [ax.xaxis, ax.yaxis]),
                (("xaxis", *key, xlim, position), [ax.xaxis], False, []),
                (("yaxis", *key, ylim, position), [ax.yaxis], False, [])]

    def _compose_background(self, renderer) -> None:
        """Draw the background into the Agg buffer from its layers, drawing only the ones not cached."""
        for ax in self.fig.axes:  # what Figure.draw does before drawing (fixed-aspect axes)
            locator = ax.get_axes_locator()
            ax.apply_aspect(locator(ax, renderer) if locator else None)
        picture = None
        for key, artists, opaque, hidden in self._background_layers():
            layer = self._layers.pop(key, None)
            if layer is None:
                layer = self._draw_layer(renderer, artists, opaque, hidden)
            self._layers[key] = layer  # now the newest
            if picture is None:
                picture = layer.image.copy()
            elif layer.image.size:
                layer.over(picture)
        while sum(layer.nbytes for layer in self._layers.values()) > _LAYER_BYTES_KEPT:
            self._layers.pop(next(iter(self._layers)))
        np.asarray(renderer.buffer_rgba())[...] = picture
        self.fig.stale = False

    @staticmethod
    def _draw_layer(renderer, artists, opaque: bool, hidden=()) -> _Layer:
        """Draw ``artists`` (without the ``hidden`` ones) on a cleared (transparent) buffer.

        An opaque layer (the bottom one) is kept whole; the others are cropped to the pixels they cover.
        """
        renderer.clear()
        for a in hidden:
            a.set_animated(True)  # what Axes.draw leaves out
        try:
            for artist in artists:
                artist.draw(renderer)
        finally:
            for a in hidden:
                a.set_animated(False)
        buffer = np.asarray(renderer.buffer_rgba())
        if opaque:
            return _Layer(buffer.copy())
        alpha = buffer[..., 3]
        rows, cols = np.flatnonzero(alpha.any(axis=1)), np.flatnonzero(alpha.any(axis=0))
        if not len(rows):
            return _Layer(np.zeros((0, 0, 4), np.uint8))
        return _Layer(buffer[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy(), int(rows[0]), int(cols[0]))

    def show(self) -> None:
        """Push the current figure to the view (blit or draw_idle on ipympl, new PNG bytes otherwise)."""
        if self._live:
            # ipympl 0.10: a frame sent before the browser has set up the canvas leaves it blank
            # (0 x 0) for good. Until the browser reports "initialized" (ipympl then stops syncing
            # _data_url), send nothing: the browser's first request draws the current figure.
            if getattr(self.fig.canvas, "syncing_data_url", False):
                return
            # Every frame whole, never a diff against the last one: the browser decodes frames
            # asynchronously into one image, so a frame that arrives while the previous one is still
            # loading replaces it, and a diff drawn without the full frame it was meant for would
            # leave the canvas half painted until the next full frame.
            self.fig.canvas._force_full = True
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
