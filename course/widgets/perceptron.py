r"""Perceptron explorer: y_hat = step(w_1 x_1 + w_2 x_2 + b) on the logic gates.

Move the sliders for w_1, w_2 and b and watch the decision line
w_1 x_1 + w_2 x_2 + b = 0 split the plane into the region y_hat = 1 (red) and
y_hat = 0 (blue); or press "learning step" to apply the perceptron rule

    w <- w + alpha/N sum_k (y^k - y_hat^k) x^k

(bias included, as the weight on x_0 = 1) from the current weights. AND and
OR become separable after a few steps; for XOR no line exists, so the number
of misclassified points never reaches zero.

The maths is :class:`course.Perceptron`; this module only draws it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course import datasets
from course.perceptron import Perceptron
from course.widgets._base import App

__all__ = ["perceptron_explorer", "PerceptronExplorer", "PerceptronState", "perceptron_view", "learning_step"]

GATES = ("and", "or", "xor", "nand", "nor")
XLIM = YLIM = (-0.5, 1.5)
W_RANGE = 4.0
#: the weight sliders' step. The perceptron rule moves a weight by alpha/4 times a whole number (the
#: mean over the 4 points of alpha (y - y_hat) x, with x in {0, 1}), and alpha is a multiple of
#: 0.05: from a start on this grid every learning step lands on it exactly, so the status line, the
#: sliders (which snap to their grid in the browser), the plot and the next step use the same numbers
W_STEP = 0.0125
#: the sliders' readout: 5 significant digits, trailing zeros dropped (d3-format's default type,
#: which ipywidgets uses; Python's ".5g" writes the same)
W_FORMAT = ".5"


@dataclass(frozen=True)
class PerceptronState:
    """What the explorer shows: the gate, the weights w = (w_1, w_2), the bias b and the rate alpha.

    ``history`` holds the number of misclassified points before each learning step taken so far.
    """

    gate: str = "and"
    w: tuple[float, float] = (0.5, -0.5)
    b: float = 0.2
    alpha: float = 0.5
    history: tuple[int, ...] = ()


def _neuron(state: PerceptronState) -> Perceptron:
    p = Perceptron(2, activation="step", learning_rate=state.alpha)
    p.weights = np.array([state.b, *state.w], dtype=float)  # weights[0] is the bias b
    return p


def perceptron_view(state: PerceptronState) -> dict:
    """Everything the figure shows, computed from the state: a pure function.

    Returns a dict with ``X`` (4, 2), ``y`` (4,), ``z`` (4,) = X w + b, ``y_hat`` (4,),
    ``accuracy``, ``wrong`` (a bool mask of the misclassified points), ``region``
    (the polygon (k, 2) of the plotted box where z >= 0, i.e. y_hat = 1), ``region_neg``
    (where z < 0) and
    ``line`` (the segment ([x_a, x_b], [y_a, y_b]) of the decision line z = 0 in the box).
    """
    from course.plotting import half_plane_polygon, line_in_box

    X, y = datasets.logic_gate(state.gate)
    p = _neuron(state)
    z = p.net_input(X)
    y_hat = p.predict(X)
    return {"X": X, "y": y, "z": z, "y_hat": y_hat, "accuracy": p.score(X, y), "wrong": y_hat != y,
            "region": half_plane_polygon(state.w, state.b, XLIM, YLIM),
            "region_neg": half_plane_polygon(-np.asarray(state.w), -state.b, XLIM, YLIM, strict=True),
            "line": line_in_box(state.w, state.b, XLIM, YLIM)}


def on_slider(value: float) -> float:
    """``value`` as a weight slider holds it: clipped to +-W_RANGE and rounded to W_STEP."""
    steps = round(float(np.clip(value, -W_RANGE, W_RANGE)) / W_STEP)
    return round(steps * W_STEP, 10)  # the last round drops float noise (0.30000000000000004)


def weight_text(value: float) -> str:
    """A weight as the sliders' readout shows it (W_FORMAT): 5 significant digits, no trailing zeros."""
    return f"{value + 0.0:.5g}"  # + 0.0 turns -0.0 into 0.0


def z_label(z: float) -> str:
    """The label of a point's net input, two decimals, without a "-0.00" for a z that rounds to zero."""
    text = f"{z:.2f}"
    return "z=0.00" if text in ("-0.00", "0.00") else f"z={text}"


def learning_step(state: PerceptronState) -> tuple[tuple[float, float], float, int]:
    """One step of the perceptron rule from the state's weights: returns (w, b, errors before the step)."""
    X, y = datasets.logic_gate(state.gate)
    p = _neuron(state)
    errors = int(p.update(X, y))
    return (float(p.w[0]), float(p.w[1])), p.b, errors


class PerceptronExplorer(App):
    """The app: sliders w_1, w_2, b, a gate menu, the learning rule as buttons."""

    title = "Perceptron explorer: y_hat = step(w1 x1 + w2 x2 + b)"
    explanation = ("Move w1, w2 and b to place the decision line z = 0 so that every red point (y = 1) lies in "
                   "the red region (z >= 0); or press 'learning step'. Try XOR: no line separates it.")
    figsize = (8.4, 4.1)

    def __init__(self, gate: str = "and", w=(0.5, -0.5), b: float = 0.2, alpha: float = 0.5):
        # the starting weights as the sliders hold them (their grid, their range)
        self._init = PerceptronState(gate=gate, w=(on_slider(w[0]), on_slider(w[1])), b=on_slider(b),
                                     alpha=float(alpha))
        if gate not in GATES:
            raise ValueError(f"gate must be one of {', '.join(GATES)}, got {gate!r}")
        self.history: list[int] = []
        super().__init__()

    # ------------------------------------------------------------ controls and state
    def _make_controls(self):
        W = self._W
        s = self._init
        slider = dict(min=-W_RANGE, max=W_RANGE, step=W_STEP, readout_format=W_FORMAT, continuous_update=True)
        controls = {
            "gate": W.Dropdown(options=[(g.upper(), g) for g in GATES], value=s.gate, description="data"),
            "w1": W.FloatSlider(value=s.w[0], description="w1", **slider),
            "w2": W.FloatSlider(value=s.w[1], description="w2", **slider),
            "b": W.FloatSlider(value=s.b, description="b", **slider),
            "alpha": W.FloatSlider(value=s.alpha, min=0.05, max=2.0, step=0.05, description="alpha (rate)"),
            "step": W.Button(description="learning step", tooltip="apply the perceptron rule once"),
            "run": W.Button(description="10 steps", tooltip="apply the perceptron rule 10 times"),
            "reset": W.Button(description="reset", tooltip="back to the starting weights, clear the history"),
        }
        controls["gate"].observe(lambda change: self.history.clear(), names="value")
        return controls

    def _build(self, fig):
        from matplotlib.patches import Polygon

        from course.plotting import NEGATIVE, POSITIVE

        self.on_click("step", lambda: self.learn(1))
        self.on_click("run", lambda: self.learn(10))
        self.on_click("reset", self.reset)
        ax, ax_h = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.25, 1.0]})
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.2, top=0.9, wspace=0.3)
        self.ax, self.ax_history = ax, ax_h
        # the region z >= 0 (y_hat = 1) in red, the region z < 0 (y_hat = 0) in blue
        self.region = ax.add_patch(Polygon(np.zeros((1, 2)), closed=True, facecolor=POSITIVE, alpha=0.25,
                                           edgecolor="none", zorder=0, label="ŷ = 1 (z ≥ 0)"))
        self.region_neg = ax.add_patch(Polygon(np.zeros((1, 2)), closed=True, facecolor=NEGATIVE, alpha=0.2,
                                               edgecolor="none", zorder=0, label="ŷ = 0 (z < 0)"))
        (self.line,) = ax.plot([], [], color="k", lw=2, label="decision line z = 0")
        self.normal = ax.quiver([0.5], [0.5], [0.0], [0.0], angles="xy", scale_units="xy", scale=1.0,
                                color="k", width=0.008, zorder=4)
        X, _ = datasets.logic_gate("and")
        self.points = ax.scatter(X[:, 0], X[:, 1], s=110, c=np.zeros(4), cmap="bwr", vmin=0, vmax=1,
                                 edgecolors="k", linewidths=1.0, zorder=5)
        self.wrong = ax.scatter(X[:, 0], X[:, 1], s=300, facecolors="none", edgecolors="#ff9900",
                                linewidths=2.5, zorder=6, label="misclassified")
        self.z_texts = [ax.text(x1 + 0.08, x2 + 0.08, "", fontsize=8, zorder=7) for x1, x2 in X]
        ax.set_xlim(*XLIM)
        ax.set_ylim(*YLIM)
        ax.set_xlabel("$x_1$")
        ax.set_ylabel("$x_2$")
        # a figure legend below the axes: a legend inside would be covered by the redrawn regions
        fig.legend(handles=[self.region, self.region_neg, self.line, self.wrong], loc="lower left",
                   ncol=4, fontsize=7, frameon=False, bbox_to_anchor=(0.0, 0.0))
        self.gate_text = ax.set_title("", fontsize=10, loc="left")
        self.accuracy_text = ax.set_title("", fontsize=10, loc="right")
        (self.history_line,) = ax_h.plot([], [], "o-", color="#444")
        ax_h.set_xlabel("learning step")
        ax_h.set_ylabel("misclassified points")
        ax_h.set_ylim(-0.2, 4.2)
        ax_h.set_yticks(range(5))
        ax_h.set_xlim(0.5, 10.5)
        ax_h.set_title("perceptron rule: errors per step", fontsize=10)
        self.history_text = ax_h.text(0.5, 0.5, "no steps yet", transform=ax_h.transAxes,
                                      ha="center", va="center", color="0.5")
        # the gate's name and the "no steps yet" note are dynamic too: a new gate redraws no background
        self.dynamic(self.region, self.region_neg, self.line, self.normal, self.points, self.wrong, *self.z_texts,
                     self.accuracy_text, self.gate_text, self.history_line, self.history_text)

    def _read_state(self) -> PerceptronState:
        c = self.controls
        return PerceptronState(gate=c["gate"].value, w=(c["w1"].value, c["w2"].value), b=c["b"].value,
                               alpha=c["alpha"].value, history=tuple(self.history))

    # ------------------------------------------------------------ actions
    def learn(self, steps: int = 1) -> None:
        """Apply the perceptron rule ``steps`` times from the sliders' weights, moving the sliders."""
        state = self._read_state()
        clipped = False
        for _ in range(steps):
            w, b, errors = learning_step(state)
            self.history.append(errors)
            clipped = clipped or max(abs(w[0]), abs(w[1]), abs(b)) > W_RANGE
            # each step starts from the weights the sliders can hold, as a slider-made state would
            w, b = (on_slider(w[0]), on_slider(w[1])), on_slider(b)
            state = PerceptronState(state.gate, w, b, state.alpha, tuple(self.history))
        self.set(w1=w[0], w2=w[1], b=b)
        self.say(f"step {len(self.history)}: w = ({weight_text(w[0])}, {weight_text(w[1])}), "
                 f"b = {weight_text(b)}"
                 + ("  (clipped to the slider range)" if clipped else ""))

    def reset(self) -> None:
        """Back to the starting weights; clears the history of learning steps."""
        self.history.clear()
        s = self._init
        self.set(w1=s.w[0], w2=s.w[1], b=s.b)
        self.say("")

    # ------------------------------------------------------------ drawing
    def _draw(self, state: PerceptronState) -> None:
        view = perceptron_view(state)
        self.view = view
        self.region.set_xy(view["region"] if len(view["region"]) else np.zeros((1, 2)))
        self.region_neg.set_xy(view["region_neg"] if len(view["region_neg"]) else np.zeros((1, 2)))
        xs, ys = view["line"]
        self.line.set_data(xs, ys)
        w = np.asarray(state.w)
        norm = float(np.hypot(*w))
        self.normal.set_visible(bool(norm > 0 and xs))
        if norm > 0 and xs:
            # the normal vector w points into the region z > 0, drawn from the line's middle
            self.normal.set_offsets([[np.mean(xs), np.mean(ys)]])
            self.normal.set_UVC([0.35 * w[0] / norm], [0.35 * w[1] / norm])
        X = view["X"]
        self.points.set_array(view["y"])
        self.wrong.set_offsets(X[view["wrong"]] if view["wrong"].any() else np.empty((0, 2)))
        for t, z in zip(self.z_texts, view["z"]):
            t.set_text(z_label(z))
        n_right = int(round(view["accuracy"] * len(X)))
        self.accuracy_text.set_text(f"accuracy {n_right}/{len(X)}")
        self.gate_text.set_text(state.gate.upper())
        self.history_text.set_visible(not state.history)
        steps = np.arange(1, len(state.history) + 1)
        self.history_line.set_data(steps, state.history)
        self.ax_history.set_xlim(0.5, 10 * (1 + (max(len(steps), 1) - 1) // 10) + 0.5)


def perceptron_explorer(gate: str = "and", w=(0.5, -0.5), b: float = 0.2, alpha: float = 0.5) -> PerceptronExplorer:
    """The perceptron explorer app (display it as a cell's last expression).

    Args:
        gate: the starting data set: "and", "or", "xor", "nand" or "nor".
        w, b: the starting weights (w_1, w_2) and bias.
        alpha: the learning rate of the perceptron rule.
    """
    return PerceptronExplorer(gate=gate, w=w, b=b, alpha=alpha)
