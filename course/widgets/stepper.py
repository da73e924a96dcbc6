r"""Forward-pass and backpropagation steppers on a drawn network.

The network is drawn as circles (neurons) and lines (weights: width ~ |w|, red
for w > 0, blue for w < 0). Press "next" to go one layer further.

Forward stepper (``forward_stepper``), layer by layer l = 1..L:

    z^(l) = W^(l) a^(l-1) + b^(l),      a^(l) = sigma(z^(l)),      a^(0) = x.

Backpropagation stepper (``backprop_stepper``), after the forward pass, layer by
layer l = L..1 (slides 001, Eq. 3.14-3.23, cost C = 1/2 (y - y_hat)^2):

    delta^(L) = (y_hat - y) * sigma'(z^(L))
    delta^(l) = (W^(l+1)^T delta^(l+1)) * sigma'(z^(l))
    dC/dW^(l) = delta^(l) a^(l-1)^T,      dC/db^(l) = delta^(l).

A toggle shows, beside each weight gradient, the central-difference estimate
(C(w + h) - C(w - h)) / 2h of :func:`course.gradcheck.numerical_gradient`.

The defaults are the slides' worked examples: the 3-2-1 ReLU network with
x = (0.6, -1.1, 0.2) (forward) and the 2-2-1 network with sigma(z) = z^2 and
x = (3, 2), y = 1 (backward). All numbers come from :class:`course.MLP`.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from course import gradcheck
from course.mlp import MLP
from course.widgets._base import App, superscript

__all__ = ["forward_stepper", "backprop_stepper", "ForwardStepper", "BackpropStepper", "StepperState",
           "PRESETS", "network_for", "forward_values", "backward_values"]

#: the slides' example networks: weights[l-1] = W^(l) (n_l, n_(l-1)), biases (None: no bias)
PRESETS = {
    "relu_3_2_1": {
        "label": "3-2-1 ReLU (slides: forward pass)",
        "weights": [[[0.7, -0.4, 0.1], [0.05, 0.9, -0.3]], [[1.2, -0.8]]],
        "biases": [[-0.2, 0.1], [0.05]],
        "activation": "relu", "output_activation": "identity",
        "x": [0.6, -1.1, 0.2], "y": 0.3,
    },
    "square_2_2_1": {
        "label": "2-2-1, σ(z) = z² (slides: backpropagation)",
        "weights": [[[1.0, -3.0], [-2.0, 1.0]], [[2.0, -1.0]]],
        "biases": None,
        "activation": "square", "output_activation": "square",
        "x": [3.0, 2.0], "y": 1.0,
    },
    "step_1_2_2_1": {
        "label": "1-2-2-1 step (slides: homework)",
        "weights": [[[1.0], [3.0]], [[1.0, 0.0], [-2.0, 1.0]], [[-1.0, 1.0]]],
        "biases": [[1.0, 0.0], [-2.0, 2.0], [1.0]],
        "activation": "step", "output_activation": "step",
        "x": [3.0], "y": 1.0,
    },
}
#: presets whose derivatives are useful (the step's derivative is zero everywhere)
BACKPROP_PRESETS = ("square_2_2_1", "relu_3_2_1")
MAX_INPUTS = max(len(p["x"]) for p in PRESETS.values())
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def fmt(v: float, digits: int = 4) -> str:
    """A number as the slides write it: at most ``digits`` significant digits, no trailing zeros, no -0."""
    s = f"{float(v):.{digits}g}"
    return "0" if s in ("-0", "0") else s


def _vec(v) -> str:
    return "[" + ", ".join(fmt(x) for x in np.ravel(v)) + "]"


def _up(l: int) -> str:
    """The layer index as a superscript: 2 -> ⁽²⁾."""
    return superscript(f"({l})")


def _mat(M) -> str:
    M = np.atleast_2d(M)
    return "[" + ", ".join(_vec(row) for row in M) + "]"


def _input_texts(x) -> list[str]:
    """The labels of the input neurons: x1=..., x2=..."""
    return [f"x{str(k + 1).translate(_SUB)}={fmt(xk)}" for k, xk in enumerate(x)]


@dataclass(frozen=True)
class StepperState:
    """The preset network, the input x (one number per input neuron), the target y, the step,
    and whether the finite-difference check is shown."""

    preset: str = "relu_3_2_1"
    x: tuple[float, ...] = (0.6, -1.1, 0.2)
    y: float = 0.3
    step: int = 0
    show_fd: bool = False


def network_for(preset: str) -> MLP:
    """The :class:`course.MLP` of a preset."""
    if preset not in PRESETS:
        raise ValueError(f"unknown network {preset!r}; choose one of {', '.join(PRESETS)}")
    p = PRESETS[preset]
    return MLP.from_weights(p["weights"], p["biases"], activation=p["activation"],
                            output_activation=p["output_activation"], train_biases=p["biases"] is not None)


def forward_values(state: StepperState) -> dict:
    """The forward pass of the state's network on x: a pure function.

    Returns ``net``, ``z`` (list of (n_l,) arrays, l = 1..L), ``a`` (list of (n_l,),
    l = 0..L, a[0] = x), ``y_hat`` (n_L,) and ``loss`` = 1/2 ||y - y_hat||^2.
    """
    net = network_for(state.preset)
    x = np.asarray(state.x, dtype=float)
    if x.shape != (net.sizes[0],):
        raise ValueError(f"x must hold {net.sizes[0]} numbers for this network, got {len(x)}")
    y_hat = net.forward(x[None, :])[0]
    loss = net.loss_value(x[None, :], [state.y])
    return {"net": net, "z": [z[0] for z in net.z], "a": [a[0] for a in net.a], "y_hat": y_hat,
            "loss": float(loss)}


def backward_values(state: StepperState) -> dict:
    """Forward pass, then backpropagation and (always) the finite-difference check: a pure function.

    Returns the :func:`forward_values` dict plus ``deltas`` (list of (n_l,), l = 1..L),
    ``dW`` (list of (n_l, n_(l-1))), ``db`` (list of (n_l,), or None without biases),
    ``dW_fd`` (central differences, like dW) and ``fd_error`` (the largest relative error).
    """
    v = forward_values(state)
    net = v["net"]
    X = np.asarray(state.x, dtype=float)[None, :]
    y = np.array([[state.y]])
    net.forward(X)
    dW, db = net.backward(y)
    dW_fd = [gradcheck.numerical_gradient(lambda: net.loss_value(X, y), W) for W in net.weights]
    errors = [float(gradcheck.relative_error(g, n).max()) for g, n in zip(dW, dW_fd)]
    net.forward(X)  # restore the cached values of the unperturbed pass
    v.update(deltas=[d[0] for d in net.deltas], dW=dW, db=db if net.train_biases else None, dW_fd=dW_fd,
             fd_error=max(errors))
    return v


#: what 'next ▶' says at the last step, and '◀ back' at step 0
END_MESSAGE = "This is the last step. Press '◀ back' to go back, or change x, y or the network."
START_MESSAGE = "This is step 0, the first one: press 'next ▶' to go on."


class _Stepper(App):
    """What the two steppers share: the preset menu, the inputs, the diagram, next/back."""

    figsize = (6.4, 4.2)
    controls_width = "400px"  # room for the network menu's longest name
    presets: tuple[str, ...] = tuple(PRESETS)

    def __init__(self, preset: str, x=None, y=None):
        if preset not in self.presets:
            raise ValueError(f"preset must be one of {', '.join(self.presets)}, got {preset!r}")
        p = PRESETS[preset]
        self._init = StepperState(preset=preset, x=tuple(p["x"] if x is None else x),
                                  y=float(p["y"] if y is None else y))
        if len(self._init.x) != len(p["x"]):
            raise ValueError(f"x must hold {len(p['x'])} numbers for the network {preset!r}, got {len(self._init.x)}")
        self._sizes = None
        super().__init__()

    # ------------------------------------------------------------ controls
    def _make_controls(self):
        W = self._W
        s = self._init
        controls = {"preset": W.Dropdown(options=[(PRESETS[k]["label"], k) for k in self.presets],
                                         value=s.preset, description="network")}
        for i in range(MAX_INPUTS):
            controls[f"x{i + 1}"] = W.FloatText(value=s.x[i] if i < len(s.x) else 0.0,
                                                description=f"x{i + 1}".translate(_SUB), step=0.1,
                                                layout=W.Layout(width="200px"))
        controls["y"] = W.FloatText(value=s.y, description="target y", step=0.1, layout=W.Layout(width="200px"))
        controls["step"] = W.IntSlider(value=0, min=0, max=self._n_steps(s.preset), description="step")
        controls["back"] = W.Button(description="◀ back", layout=W.Layout(width="90px"))
        controls["next"] = W.Button(description="next ▶", layout=W.Layout(width="90px"))
        self._show_inputs(s.preset, controls)
        self.equations = W.HTML(value="")
        return controls

    def _layout(self, W):
        ui = super()._layout(W)
        children = list(ui.children)
        children.insert(len(children) - 1, self.equations)
        ui.children = tuple(children)
        return ui

    def _n_steps(self, preset: str) -> int:
        return len(PRESETS[preset]["weights"])

    def _show_inputs(self, preset: str, controls) -> None:
        n = len(PRESETS[preset]["x"])
        for i in range(MAX_INPUTS):
            controls[f"x{i + 1}"].layout.display = None if i < n else "none"

    def _follow(self, change) -> None:
        """A new network sets its example's inputs and target and goes back to step 0 (one frame)."""
        if change["owner"] is not self.controls["preset"]:
            return
        p, c = PRESETS[change["new"]], self.controls
        for i, v in enumerate(p["x"]):
            c[f"x{i + 1}"].value = v
        c["y"].value = p["y"]
        c["step"].value = 0
        c["step"].max = self._n_steps(change["new"])
        self._show_inputs(change["new"], c)

    def _read_state(self) -> StepperState:
        c = self.controls
        preset = c["preset"].value
        n = len(PRESETS[preset]["x"])
        return StepperState(preset=preset, x=tuple(float(c[f"x{i + 1}"].value) for i in range(n)),
                            y=float(c["y"].value), step=int(c["step"].value),
                            show_fd=bool(c["show_fd"].value) if "show_fd" in c else False)

    def _move(self, by: int) -> None:
        """One step forward (+1) or back (-1); at either end, say so instead of doing nothing."""
        s = self.controls["step"]
        new = int(np.clip(s.value + by, s.min, s.max))
        if new == s.value:
            self.say(END_MESSAGE if by > 0 else START_MESSAGE)
        else:
            self.say("")
            s.value = new

    def _mark_last(self, heading: str, step: int) -> str:
        """The heading, marked as the last step when there is no next one."""
        return f"{heading}  (last step)" if step >= self.controls["step"].max else heading

    # ------------------------------------------------------------ figure
    def _build(self, fig):
        self.on_click("next", lambda: self._move(+1))
        self.on_click("back", lambda: self._move(-1))
        # one axes and diagram per preset, built once: a new preset only shows another axes
        self._axes, self._diagrams = {}, {}
        for preset in self.presets:
            ax = fig.add_axes([0.01, 0.01, 0.98, 0.98], label=preset)
            self._axes[preset], self._diagrams[preset] = ax, self._make_diagram(ax, preset)
        self._diagram_for(self._init.preset)

    def _make_diagram(self, ax, preset: str):
        """The diagram of a preset's network: weights as line widths and colours, layer names below."""
        from course.plotting import NetworkDiagram

        sizes = tuple(len(np.atleast_2d(W)[0]) for W in PRESETS[preset]["weights"][:1]) + tuple(
            len(np.atleast_2d(W)) for W in PRESETS[preset]["weights"])
        diagram = NetworkDiagram(ax, sizes)
        diagram.set_weights(network_for(preset).weights)
        acts = [PRESETS[preset]["activation"]] * (len(sizes) - 2) + [PRESETS[preset]["output_activation"]]
        names = ["input x"] + [f"layer {l}: {a}" for l, a in enumerate(acts, start=1)]
        for t, name in zip(diagram.layer_texts, names):
            t.set_text(name)
        return diagram

    def _diagram_for(self, preset: str) -> None:
        """Show the diagram of ``preset`` (its network's shape) and hide the others."""
        for key, ax in self._axes.items():
            ax.set_visible(key == preset)
        self.ax, self.diagram = self._axes[preset], self._diagrams[preset]
        self.clear_dynamic()
        d = self.diagram
        self.dynamic(*[c for row in d.circles for c in row], *[t for row in d.neuron_texts for t in row],
                     *[t for grid in d.edge_texts for t in grid.flat])
        self.invalidate(("preset", preset))
        self._sizes = tuple(d.sizes)
        self._preset = preset

    def _ensure_diagram(self, state: StepperState) -> None:
        if state.preset != getattr(self, "_preset", None):
            self._diagram_for(state.preset)

    def diagram_texts(self) -> list[str]:
        """Every text the figure shows, for checks and tests."""
        return self.diagram.all_texts()


class ForwardStepper(_Stepper):
    """Step through z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = sigma(z^(l)), layer by layer."""

    title = "Forward pass, layer by layer: z⁽ˡ⁾ = W⁽ˡ⁾ a⁽ˡ⁻¹⁾ + b⁽ˡ⁾,  a⁽ˡ⁾ = σ(z⁽ˡ⁾)"
    explanation = ("Press 'next' to compute one more layer. Each neuron shows its net input z and its "
                   "activation a; line width shows |w|, red w > 0, blue w < 0. Edit x to try other inputs.")

    def __init__(self, preset: str = "relu_3_2_1", x=None, y=None):
        super().__init__(preset, x, y)

    def _draw(self, state: StepperState) -> None:
        self._ensure_diagram(state)
        v = forward_values(state)
        self.values = v
        d = self.diagram
        L = d.n_layers
        step = min(state.step, L)
        d.set_neuron_text(0, _input_texts(v["a"][0]))
        for l in range(1, L + 1):
            if l <= step:
                d.set_neuron_text(l, [f"z={fmt(z)}\na={fmt(a)}" for z, a in zip(v["z"][l - 1], v["a"][l])])
            else:
                d.set_neuron_text(l, [""] * d.sizes[l])
        d.highlight([step])
        if step == 0:
            heading = "step 0: the input a⁽⁰⁾ = x"
        elif step < L:
            heading = f"step {step}: layer {step}, z and a = σ(z)"
        else:
            heading = f"step {step}: output ŷ = {_vec(v['y_hat'])},  C = {fmt(v['loss'], 6)}"
        heading = self._mark_last(heading, step)
        self.heading = heading
        self.equations.value = f"<b>{html.escape(heading)}</b><br>" + self._equations(state, v, step)

    def _equations(self, state: StepperState, v: dict, step: int) -> str:
        p = PRESETS[state.preset]
        lines = [f"a⁽⁰⁾ = x = {_vec(v['a'][0])}"]
        L = len(v["z"])
        for l in range(1, step + 1):
            act = p["activation"] if l < L else p["output_activation"]
            b = "" if p["biases"] is None else f" + b{_up(l)}"
            lines.append(f"z{_up(l)} = W{_up(l)} a{_up(l - 1)}{b} = {_vec(v['z'][l - 1])}, &nbsp; "
                         f"a{_up(l)} = {act}(z{_up(l)}) = {_vec(v['a'][l])}")
        if step >= L:
            lines.append(f"ŷ = a{_up(L)} = {_vec(v['y_hat'])}, &nbsp; "
                         f"C = ½ (y − ŷ)² = {fmt(v['loss'], 6)} with y = {fmt(state.y)}")
        return "<br>".join(lines)


class BackpropStepper(_Stepper):
    """Step backwards through delta^(l) and dC/dW^(l), with an optional finite-difference check."""

    title = "Backpropagation, layer by layer: δ⁽ˡ⁾ = (W⁽ˡ⁺¹⁾ᵀ δ⁽ˡ⁺¹⁾) ⊙ σ'(z⁽ˡ⁾),  ∂C/∂W⁽ˡ⁾ = δ⁽ˡ⁾ a⁽ˡ⁻¹⁾ᵀ"
    explanation = ("Step 0 is the forward pass; each 'next' goes one layer back, showing the error δ of each "
                   "neuron and the gradient ∂C/∂w on each weight. Tick the check to compare with central differences.")
    presets = BACKPROP_PRESETS

    def __init__(self, preset: str = "square_2_2_1", x=None, y=None, show_fd: bool = False):
        self._init_fd = bool(show_fd)
        super().__init__(preset, x, y)

    def _make_controls(self):
        controls = super()._make_controls()
        controls["show_fd"] = self._W.Checkbox(value=self._init_fd, description="finite-difference check")
        return controls

    def _draw(self, state: StepperState) -> None:
        self._ensure_diagram(state)
        v = backward_values(state)
        self.values = v
        d = self.diagram
        L = d.n_layers
        step = min(state.step, L)
        first_done = L + 1 - step  # layers first_done..L have their delta
        d.set_neuron_text(0, _input_texts(v["a"][0]))
        for l in range(1, L + 1):
            if l >= first_done:
                d.set_neuron_text(l, [f"a={fmt(a)}\nδ={fmt(dl)}" for a, dl in zip(v["a"][l], v["deltas"][l - 1])])
            else:
                d.set_neuron_text(l, [f"z={fmt(z)}\na={fmt(a)}" for z, a in zip(v["z"][l - 1], v["a"][l])])
            g, n = v["dW"][l - 1], v["dW_fd"][l - 1]
            if l >= first_done:
                texts = [[fmt(g[j, k]) + (f"\nFD {fmt(n[j, k])}" if state.show_fd else "")
                          for k in range(g.shape[1])] for j in range(g.shape[0])]
            else:
                texts = [[""] * g.shape[1] for _ in range(g.shape[0])]
            d.set_edge_text(l, texts)
        d.highlight([first_done] if step else [])
        if step == 0:
            heading = f"step 0: forward pass, ŷ = {_vec(v['y_hat'])}, C = {fmt(v['loss'], 6)}"
        else:
            heading = f"step {step}: δ and ∂C/∂W of layer {first_done}"
            if state.show_fd:
                heading += f" (FD rel. error {v['fd_error']:.0e})"
        heading = self._mark_last(heading, step)
        self.heading = heading
        self.equations.value = f"<b>{html.escape(heading)}</b><br>" + self._equations(state, v, step)

    def _equations(self, state: StepperState, v: dict, step: int) -> str:
        L = len(v["z"])
        p = PRESETS[state.preset]
        lines = [f"forward: ŷ = {_vec(v['y_hat'])}, y = {fmt(state.y)}, C = ½ (y − ŷ)² = {fmt(v['loss'], 6)}"]
        for l in range(L, L - step, -1):
            act = p["activation"] if l < L else p["output_activation"]
            if l == L:
                rule = f"δ{_up(L)} = (ŷ − y) σ′(z{_up(L)})"
            else:
                rule = f"δ{_up(l)} = (W{_up(l + 1)}ᵀ δ{_up(l + 1)}) ⊙ σ′(z{_up(l)})"
            line = (f"σ = {act}: {rule} = {_vec(v['deltas'][l - 1])}, &nbsp; "
                    f"∂C/∂W{_up(l)} = δ{_up(l)} a{_up(l - 1)}ᵀ = {_mat(v['dW'][l - 1])}")
            if v["db"] is not None:
                line += f", &nbsp; ∂C/∂b{_up(l)} = {_vec(v['db'][l - 1])}"
            if state.show_fd:
                line += f"<br>&nbsp;&nbsp;&nbsp; central differences: {_mat(v['dW_fd'][l - 1])}"
            lines.append(line)
        if state.show_fd and step:
            lines.append(f"largest relative difference backpropagation vs central differences: "
                         f"{v['fd_error']:.1e}")
        if (state.preset == "square_2_2_1" and step >= 2 and state.x == tuple(PRESETS["square_2_2_1"]["x"])
                and state.y == PRESETS["square_2_2_1"]["y"]):
            lines.append(html.escape("Note: the slide prints 108 for ∂C/∂w₂₂⁽¹⁾ (and multiplies by 4 instead "
                                     "of x₂ = 2 for ∂C/∂w₁₂⁽¹⁾); the correct value is δ₂⁽¹⁾ x₂ = 96 · 2 = 192."))
        return "<br>".join(lines)


def forward_stepper(preset: str = "relu_3_2_1", x=None, y=None) -> ForwardStepper:
    """The forward-pass stepper app (display it as a cell's last expression).

    Args:
        preset: "relu_3_2_1" (slides' forward example, default), "square_2_2_1" or "step_1_2_2_1".
        x, y: the input and target (default: the slide's).
    """
    return ForwardStepper(preset=preset, x=x, y=y)


def backprop_stepper(preset: str = "square_2_2_1", x=None, y=None, show_fd: bool = False) -> BackpropStepper:
    """The backpropagation stepper app (display it as a cell's last expression).

    Args:
        preset: "square_2_2_1" (slides' backpropagation example, sigma(z) = z^2, default) or "relu_3_2_1".
        x, y: the input and target (default: the slide's).
        show_fd: start with the finite-difference check shown.
    """
    return BackpropStepper(preset=preset, x=x, y=y, show_fd=show_fd)
