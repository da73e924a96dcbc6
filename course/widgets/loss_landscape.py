r"""Gradient descent on a loss landscape: theta_(k+1) = theta_k - alpha * update(dC_batch/dtheta).

The landscape is the cost of a real two-parameter model fitted to seeded data,
so that the batch modes mean something:

* ``"linear"``: the straight line y_hat = w x + b with the half MSE
  C(w, b) = 1/(2N) sum_i (w x_i + b - y_i)^2, a convex bowl (an elongated one,
  because the x_i are not centred);
* ``"sine"``: the wave y_hat = sin(w x + b) with the same cost, a non-convex
  landscape with several valleys, where the start point decides which minimum
  gradient descent finds.

Each step takes the gradient of the cost on one batch (all N samples, a
mini-batch of 8, or a single sample) and hands it to an optimizer of
:mod:`course.optim` (gradient descent, momentum or Adam). The widget draws the
path on the contours of C and the full-data loss C(theta_k) beside it; a Play
button animates the path step by step.

The computation is a pure function of a :class:`DescentState`:

    >>> path = descend(DescentState(optimizer="adam", learning_rate=0.1))
    >>> path.theta.shape, path.loss.shape        # (steps + 1, 2), (steps + 1,)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from course import optim as _optim
from course.widgets._base import App

__all__ = ["gradient_descent", "GradientDescentApp", "DescentState", "Path", "Surface", "SURFACES",
           "descend", "loss_grid", "BATCH_SIZES"]

#: the batch size of each batch mode (None: all samples)
BATCH_SIZES = {"full": None, "mini-batch": 8, "stochastic": 1}
OPTIMIZERS = {"gradient descent": "gd", "momentum": "momentum", "Adam": "adam"}
#: a step whose full-data loss exceeds this many times the starting loss counts as divergence
DIVERGENCE_FACTOR = 1e6


# ---------------------------------------------------------------- the models
@dataclass(frozen=True)
class Surface:
    """A two-parameter model y_hat(x; w, b) with its data and the window the landscape is drawn in."""

    name: str
    formula: str
    x: np.ndarray          # (N,)
    y: np.ndarray          # (N,)
    w_range: tuple[float, float]
    b_range: tuple[float, float]
    start: tuple[float, float]

    def residual_and_slopes(self, w, b, x, y):
        """r = y_hat - y and the derivatives (dy_hat/dw, dy_hat/db) at the samples x.

        Shapes: w and b broadcast against x (e.g. w of shape (K, 1) and x of shape (N,) give (K, N)).
        """
        if self.name == "linear":
            return w * x + b - y, x, 1.0
        u = w * x + b
        c = np.cos(u)
        return np.sin(u) - y, c * x, c

    def loss(self, w, b, idx=None):
        """C = 1/(2N) sum_i r_i^2 over the samples ``idx`` (all by default); w, b may be arrays (vectorised)."""
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        r = self.residual_and_slopes(np.asarray(w)[..., None], np.asarray(b)[..., None], x, y)[0]
        return 0.5 * np.mean(r * r, axis=-1)

    def grad(self, w, b, idx=None) -> np.ndarray:
        """(dC/dw, dC/db) = (mean r dy_hat/dw, mean r dy_hat/db) over the samples ``idx``. Shape: (2,)."""
        x, y = (self.x, self.y) if idx is None else (self.x[idx], self.y[idx])
        r, dw, db = self.residual_and_slopes(w, b, x, y)
        return np.array([np.dot(r, dw), np.sum(r * db)]) / len(x)

    def path_grads(self, theta) -> np.ndarray:
        """The full-data gradient at every point of a path theta (K, 2). Shape: (K, 2)."""
        r, dw, db = self.residual_and_slopes(theta[:, :1], theta[:, 1:], self.x, self.y)   # (K, N)
        return np.column_stack([np.mean(r * dw, axis=1), np.mean(r * db, axis=1)])


#: the window of the landscape plot (the same for both models, so switching redraws no axis)
W_RANGE, B_RANGE = (-3.0, 5.0), (-4.0, 3.0)
#: the loss axis (both models' losses lie inside; a diverging loss leaves it through the top)
LOSS_RANGE = (0.01, 100.0)
#: the most steps a path can have (the step axis)
MAX_STEPS = 200


def _make_surfaces(n: int = 40, seed: int = 0) -> dict[str, Surface]:
    rng = np.random.default_rng(seed)
    x_lin = rng.uniform(0.0, 2.0, n)
    y_lin = 2.0 * x_lin - 1.0 + 0.4 * rng.standard_normal(n)
    x_sin = rng.uniform(-3.0, 3.0, n)
    y_sin = np.sin(1.3 * x_sin + 0.6) + 0.2 * rng.standard_normal(n)
    return {
        "linear": Surface("linear", "y_hat = w x + b  (convex)", x_lin, y_lin, W_RANGE, B_RANGE, (-1.0, 2.5)),
        "sine": Surface("sine", "y_hat = sin(w x + b)  (non-convex)", x_sin, y_sin, W_RANGE, B_RANGE, (-2.0, -1.0)),
    }


#: the two landscapes, built from seeded data (seed 0)
SURFACES = _make_surfaces()


def hessian_linear(surface: Surface | None = None) -> np.ndarray:
    """H = 1/N sum_i [[x_i^2, x_i], [x_i, 1]]: the (constant) Hessian of the linear model's cost."""
    x = (surface or SURFACES["linear"]).x
    return np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


@functools.lru_cache(maxsize=8)
def loss_grid(surface_name: str, n: int = 121):
    """C(w, b) on an n x n grid over the surface's window: (w (n,), b (n,), C (n, n) with C[j, i] = C(w_i, b_j))."""
    s = SURFACES[surface_name]
    w = np.linspace(*s.w_range, n)
    b = np.linspace(*s.b_range, n)
    W, B = np.meshgrid(w, b)                                           # (n, n)
    r = s.residual_and_slopes(W[..., None], B[..., None], s.x, s.y)[0]  # (n, n, N)
    return w, b, 0.5 * np.mean(r * r, axis=-1)


# ---------------------------------------------------------------- the state and the pure computation
@dataclass(frozen=True)
class DescentState:
    """Everything the picture depends on."""

    surface: str = "linear"
    w0: float = -1.0
    b0: float = 2.5
    optimizer: str = "gd"          # "gd", "momentum" or "adam"
    learning_rate: float = 0.3
    batch: str = "full"            # "full", "mini-batch" or "stochastic"
    steps: int = 100
    frame: int = 100               # the path is shown up to this step (the animation)
    seed: int = 0                  # shuffles the mini-batches


@dataclass(frozen=True)
class Path:
    """theta_k = (w_k, b_k) for k = 0..K and the full-data loss C(theta_k); K < steps when it diverged."""

    theta: np.ndarray              # (K + 1, 2)
    loss: np.ndarray               # (K + 1,)
    grad_norm: np.ndarray          # (K + 1,) |dC/dtheta| on the full data
    diverged_at: int | None        # the step at which the loss blew up, or None


def _check_state(s: DescentState) -> None:
    if s.surface not in SURFACES:
        raise ValueError(f"surface must be one of {sorted(SURFACES)}, got {s.surface!r}")
    if s.batch not in BATCH_SIZES:
        raise ValueError(f"batch must be one of {sorted(BATCH_SIZES)}, got {s.batch!r}")
    if int(s.steps) != s.steps or s.steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {s.steps!r}")


def batches(n: int, batch: str, steps: int, seed: int):
    """The sample indices of each of ``steps`` batches: reshuffled every epoch (pass over the data)."""
    size = BATCH_SIZES[batch]
    if size is None:
        return [None] * steps
    rng = np.random.default_rng(seed)
    out: list[np.ndarray] = []
    while len(out) < steps:
        order = rng.permutation(n)
        out.extend(order[i:i + size] for i in range(0, n - size + 1, size))
    return out[:steps]


def descend(state: DescentState) -> Path:
    """Run ``state.steps`` optimizer steps from (w0, b0) on the state's landscape (cached by state)."""
    _check_state(state)
    return _descend(replace(state, frame=0))


@functools.lru_cache(maxsize=64)
def _descend(state: DescentState) -> Path:
    s = SURFACES[state.surface]
    opt = _optim.get(state.optimizer, learning_rate=state.learning_rate)
    theta = np.array([state.w0, state.b0], dtype=float)
    thetas = [theta.copy()]
    xs, ys = s.x, s.y
    with np.errstate(over="ignore", invalid="ignore"):
        for idx in batches(len(s.x), state.batch, state.steps, state.seed):
            if idx is not None:
                xs, ys = s.x[idx], s.y[idx]
            r, dw, db = s.residual_and_slopes(theta[0], theta[1], xs, ys)
            opt.step([theta], [np.array([np.dot(r, dw), np.sum(r * db)]) / len(xs)])
            thetas.append(theta.copy())
            if not np.all(np.abs(theta) < 1e12):
                break  # far outside any landscape: the loss check below cuts the path here
        theta_k = np.array(thetas)                                   # (K + 1, 2)
        loss = s.loss(theta_k[:, 0], theta_k[:, 1])                  # (K + 1,)
        grad_norm = np.linalg.norm(s.path_grads(theta_k), axis=1)    # (K + 1,)
    bad = ~np.isfinite(loss) | (loss > DIVERGENCE_FACTOR * max(loss[0], 1.0))
    diverged = int(np.argmax(bad)) if bad.any() else None
    if diverged is not None:
        theta_k, loss, grad_norm = theta_k[:diverged + 1], loss[:diverged + 1], grad_norm[:diverged + 1]
    return Path(theta_k, loss, grad_norm, diverged)


def describe(state: DescentState, path: Path) -> str:
    """One or two sentences on what the path did, for the text under the figure."""
    k = min(state.frame, len(path.loss) - 1)
    w, b = path.theta[k]
    text = (f"step {k}: w = {w:.3g}, b = {b:.3g}, C = {path.loss[k]:.4g}, "
            f"|grad C| = {path.grad_norm[k]:.3g}.")
    if path.diverged_at is not None:
        text += (f" Diverged at step {path.diverged_at}: the loss grew more than "
                 f"{DIVERGENCE_FACTOR:.0e}-fold. Lower the learning rate.")
    elif state.surface == "linear" and state.optimizer == "gd" and state.batch == "full":
        lam = np.linalg.eigvalsh(hessian_linear())
        text += (f" Full-batch gradient descent on this bowl is stable for alpha < 2/lambda_max = "
                 f"{2 / lam[-1]:.3g}; the slowest direction shrinks by |1 - alpha lambda_min| = "
                 f"{abs(1 - state.learning_rate * lam[0]):.3g} per step.")
    elif path.loss[-1] > 0.9 * path.loss[0] and state.steps >= 20:
        text += " The loss barely moved: the learning rate is too small (or the start is on a plateau)."
    elif state.surface == "sine":
        best = float(loss_grid("sine")[2].min())
        if path.loss[-1] > 2 * best and path.grad_norm[-1] < 0.01:
            text += (f" Stuck in a local minimum: the gradient is almost zero, but the best fit has "
                     f"C = {best:.3g}. Try another start point.")
    return text


# ---------------------------------------------------------------- the widget
class GradientDescentApp(App):
    """Gradient descent, momentum and Adam on the landscape of a two-parameter model."""

    title = "Gradient descent on a loss landscape"
    figsize = (8.6, 3.6)
    takes_clicks = True   # a click on the landscape sets the start (ipympl)

    def _make_controls(self):
        W = self._W
        s = DescentState()
        return {
            "surface": W.Dropdown(options=[("line w x + b (convex)", "linear"),
                                           ("sin(w x + b) (non-convex)", "sine")],
                                  value=s.surface, description="model"),
            "optimizer": W.Dropdown(options=list(OPTIMIZERS.items()), value=s.optimizer,
                                    description="optimizer"),
            "learning_rate": W.FloatLogSlider(value=s.learning_rate, base=10, min=-3, max=0.5, step=0.05,
                                              description="learning rate", readout_format=".3g",
                                              continuous_update=False),
            "batch": W.ToggleButtons(options=list(BATCH_SIZES), value=s.batch, description="batch",
                                     tooltip="how many data points each gradient step uses"),
            "w0": W.FloatSlider(value=s.w0, min=W_RANGE[0], max=W_RANGE[1], step=0.1, description="start w",
                                continuous_update=False),
            "b0": W.FloatSlider(value=s.b0, min=B_RANGE[0], max=B_RANGE[1], step=0.1, description="start b",
                                continuous_update=False),
            "steps": W.IntSlider(value=s.steps, min=5, max=MAX_STEPS, step=5, description="steps",
                                 continuous_update=False),
            "frame": W.IntSlider(value=s.frame, min=0, max=s.steps, description="show step"),
        }

    def __init__(self):
        self._syncing = False
        super().__init__()

    def _read_state(self) -> DescentState:
        c = self.controls
        return DescentState(surface=c["surface"].value, w0=float(c["w0"].value), b0=float(c["b0"].value),
                            optimizer=c["optimizer"].value, learning_rate=float(c["learning_rate"].value),
                            batch=c["batch"].value, steps=int(c["steps"].value), frame=int(c["frame"].value))

    # -- layout: the controls, a Play button that animates "show step", the figure, a text line
    def _layout(self, W):
        self.play = W.Play(value=self.controls["frame"].value, min=0, max=self.controls["steps"].value,
                           interval=60, description="animate the path", show_repeat=False,
                           tooltip="animate the path step by step")
        W.jslink((self.play, "value"), (self.controls["frame"], "value"))
        W.jslink((self.play, "max"), (self.controls["frame"], "max"))
        self.info = W.HTML()
        c = self.controls
        left = self.controls_column([c["surface"], c["optimizer"], c["learning_rate"], c["batch"], c["w0"],
                                     c["b0"], c["steps"], c["frame"], self.play])
        return self.frame([[left, self.figure_box()], self.info])

    def _on_change(self, change=None):
        if self._syncing:
            return
        owner = change["owner"] if change is not None else None
        c = self.controls
        self._syncing = True
        try:
            if owner is c["steps"]:
                old_max = c["frame"].max
                at_end = c["frame"].value >= old_max
                c["frame"].max = c["steps"].value
                self.play.max = c["steps"].value
                if at_end:
                    c["frame"].value = c["steps"].value
            elif owner is c["surface"]:
                w, b = SURFACES[c["surface"].value].start
                c["w0"].value, c["b0"].value = w, b
        finally:
            self._syncing = False
        super()._on_change(change)

    def _build(self, fig):
        from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

        self.ax, self.ax_loss = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.15, 1.0]})
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.13, top=0.9, wspace=0.22)
        dyn = self.dynamic
        # The landscapes are static: each model's is part of its own background (kept, and drawn
        # ahead for the other models), so a step of the path draws only the path.
        #: model name -> (its log-loss image, its contour lines, the star at its global minimum)
        self.landscapes = {}
        for name in SURFACES:
            w, b, C = loss_grid(name)
            logC = np.log10(C)
            image = self.ax.imshow(logC, extent=(*W_RANGE, *B_RANGE), origin="lower", aspect="auto",
                                   cmap="viridis", interpolation="bilinear", visible=False)
            levels = np.quantile(logC, np.linspace(0.02, 0.95, 9))
            lines = self.ax.contour(w, b, logC, levels=levels, colors="w", linewidths=0.5, alpha=0.7)
            lines.set_visible(False)
            i = np.unravel_index(np.argmin(C), C.shape)
            (best,) = self.ax.plot([w[i[1]]], [b[i[0]]], "*", color="gold", ms=13, mec="k", mew=0.6,
                                   visible=False)
            self.landscapes[name] = (image, lines, best)
        self.ax.set_xlim(W_RANGE)
        self.ax.set_ylim(B_RANGE)
        self.path_line = dyn(*self.ax.plot([], [], "-", color="#d62728", lw=1.4))
        self.path_dots = dyn(*self.ax.plot([], [], ".", color="#d62728", ms=3))
        self.start_dot = dyn(*self.ax.plot([], [], "o", mfc="w", mec="k", ms=7))
        self.now_dot = dyn(*self.ax.plot([], [], "o", color="#d62728", mec="k", ms=7))
        self.ax.set_title("log10 C(w, b) and the path (star: a global minimum)", fontsize=10)
        self.ax.set_xlabel("w", labelpad=1)
        self.ax.set_ylabel("b", labelpad=1)
        for axis in (self.ax.xaxis, self.ax.yaxis, self.ax_loss.xaxis):
            axis.set_major_locator(MaxNLocator(4))
        self.loss_line = dyn(*self.ax_loss.plot([], [], "-", color="#1f77b4", lw=1.5))
        self.loss_now = dyn(*self.ax_loss.plot([], [], "o", color="#d62728", ms=5))
        self.diverged_text = dyn(self.ax_loss.text(0.5, 0.5, "", transform=self.ax_loss.transAxes,
                                                   ha="center", va="center", color="#b00020",
                                                   fontsize=12, fontweight="bold"))
        # fixed axes (no tick redraw on a change): a diverging loss leaves through the top
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_ylim(*LOSS_RANGE)
        self.ax_loss.set_xlim(0, MAX_STEPS)
        self.ax_loss.yaxis.set_major_locator(LogLocator(numticks=5))
        self.ax_loss.yaxis.set_minor_locator(NullLocator())
        self.ax_loss.yaxis.set_major_formatter("{x:g}")
        self.ax_loss.set_title("full-data loss C(w_k, b_k)", fontsize=10)
        self.ax_loss.set_xlabel("step k", labelpad=1)
        if self._live:
            fig.canvas.mpl_connect("button_press_event", self._on_click)

    def _on_click(self, event):
        """Clicking the landscape moves the start point there (ipympl only)."""
        if event.inaxes is self.ax and event.xdata is not None:
            self.guarded(self.set_start, event.xdata, event.ydata)

    def set_start(self, w, b):
        """Start the path at (w, b), rounded to the sliders' step of 0.1 (what a click on the landscape does)."""
        c = self.controls
        self._syncing = True
        try:
            c["w0"].value = float(np.clip(round(w, 1), c["w0"].min, c["w0"].max))
            c["b0"].value = float(np.clip(round(b, 1), c["b0"].min, c["b0"].max))
        finally:
            self._syncing = False
        self.refresh()

    def _set_static(self, state: DescentState) -> None:
        """Show the landscape of the state's model (its background is kept under the model's name)."""
        for name, artists in self.landscapes.items():
            for artist in artists:
                artist.set_visible(name == state.surface)
        self.invalidate(key=state.surface)

    def _ahead(self, state: DescentState) -> list[DescentState]:
        """The other models: their landscapes are drawn ahead."""
        return [replace(state, surface=name) for name in SURFACES if name != state.surface]

    def _draw(self, state: DescentState) -> None:
        path = descend(state)
        self._set_static(state)
        k = min(state.frame, len(path.loss) - 1)
        shown = path.theta[:k + 1]                 # (k + 1, 2)
        self.path_line.set_data(shown[:, 0], shown[:, 1])
        self.path_dots.set_data(shown[:, 0], shown[:, 1])
        self.start_dot.set_data(path.theta[:1, 0], path.theta[:1, 1])
        self.now_dot.set_data(shown[-1:, 0], shown[-1:, 1])
        self.loss_line.set_data(np.arange(k + 1), path.loss[:k + 1])
        self.loss_now.set_data([k], [path.loss[k]])
        self.diverged_text.set_text(f"diverged at step {path.diverged_at}\n(C = {path.loss[-1]:.1e})"
                                    if path.diverged_at else "")
        self.info.value = describe(state, path)
        self.path = path


def gradient_descent() -> GradientDescentApp:
    """The gradient-descent explorer: pick a model, optimizer, learning rate and batch mode; watch the path."""
    return GradientDescentApp()
