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

The figure lives on whichever canvas fits the notebook:

* with ipympl (``%matplotlib widget``), ``fig.canvas`` is itself a widget and
  redraws in place with ``draw_idle()``;
* with any other backend (inline, or none in plain pytest), the figure is drawn
  with Agg and shown as PNG bytes in an ``ipywidgets.Image`` that is updated in
  place, so the app stays interactive even under the inline backend;
* displayed, the app also offers a static ``image/png`` of its current figure,
  which is what nbconvert's HTML and non-widget frontends show.
"""

from __future__ import annotations

import base64
import html
import io
import traceback
from typing import Any


def _ipympl_active() -> bool:
    import matplotlib

    backend = matplotlib.get_backend().lower()
    return "ipympl" in backend or backend.endswith("widget")


def new_figure(figsize=(8.0, 4.0), dpi: int = 80):
    """A matplotlib Figure on an ipympl canvas when active, else on an Agg canvas."""
    if _ipympl_active():
        import matplotlib.pyplot as plt

        with plt.ioff():
            fig = plt.figure(figsize=figsize, dpi=dpi)
        fig.canvas.header_visible = False
        fig.canvas.toolbar_visible = False
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


class App:
    """Base class of the course's widget apps (see the module docstring)."""

    title: str = ""
    figsize: tuple[float, float] = (8.0, 4.0)
    #: set True (e.g. in tests) to re-raise callback errors after showing them
    raise_errors: bool = False

    def __init__(self):
        import ipywidgets as W

        self._W = W
        self.last_error: BaseException | None = None
        self.controls: dict[str, Any] = self._make_controls()
        self.fig, self._live = new_figure(self.figsize)
        self._build(self.fig)
        self.status = W.HTML(value="")
        if self._live:
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
        self.refresh()

    def guarded(self, fn, *args, **kwargs):
        """Run ``fn``; show any exception in the status line instead of losing it."""
        try:
            result = fn(*args, **kwargs)
        except Exception as exc:  # shown to the user, never swallowed
            self.last_error = exc
            tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
            self.status.value = (f"<pre style='color:#b00020;white-space:pre-wrap'>"
                                 f"Error: {html.escape(tb)}</pre>")
            if self.raise_errors:
                raise
            return None
        self.last_error = None
        if self.status.value.startswith("<pre style='color:#b00020"):
            self.status.value = ""
        return result

    def refresh(self) -> None:
        """Recompute from the controls and redraw the figure in place."""
        self.guarded(self._refresh)

    def _refresh(self) -> None:
        self._draw(self._read_state())
        self.show()

    def show(self) -> None:
        """Push the current figure to the view (draw_idle on ipympl, new PNG bytes otherwise)."""
        if self._live:
            self.fig.canvas.draw_idle()
        else:
            self._view.value = figure_png(self.fig)

    def redraw_agg(self) -> None:
        """Compute and draw on the Agg canvas (what the benchmark times): no PNG encoding."""
        self._draw(self._read_state())
        self.fig.canvas.draw()

    def button(self, name: str):
        """Press the button control ``name`` (what a click does), for tests and notebooks."""
        self.controls[name].click()

    # ---------------------------------------------------------------- display
    def _repr_mimebundle_(self, include=None, exclude=None):
        data = self.ui._repr_mimebundle_(include=include, exclude=exclude)
        if isinstance(data, tuple):
            data = data[0]
        data = dict(data or {})
        data["image/png"] = base64.b64encode(figure_png(self.fig)).decode("ascii")
        data["text/plain"] = f"<{type(self).__name__} widget: run in JupyterLab to interact>"
        return data
