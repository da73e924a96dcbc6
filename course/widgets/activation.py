r"""Activation explorer: sigma(z) and its derivative sigma'(z) side by side.

Pick any activation of :mod:`course.activations`; its parameter (the leaky
ReLU's slope, the ELU's alpha, the swish's beta) is a slider. The plots mark

* the saturated regions, where |sigma'(z)| < 0.05: a neuron whose z lands there
  passes almost no gradient back (delta = ... * sigma'(z) is tiny);
* the dead regions, where sigma'(z) = 0 exactly (ReLU for z < 0, the step
  everywhere): no gradient at all, the "dying ReLU" problem;

and the tangent at z_0, whose slope is sigma'(z_0).

Softmax is vector-valued; it is shown for two inputs (z, 0), where its first
output is softmax(z, 0)_1 = sigmoid(z).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

import numpy as np

from course import activations
from course.widgets._base import App

__all__ = ["activation_explorer", "ActivationExplorer", "ActivationState", "activation_curves",
           "SATURATION", "PARAMETERS", "default_param"]

#: |sigma'(z)| below this (and above 0) counts as saturated
SATURATION = 0.05
#: the parameter of each parameterised activation: (keyword, label, min, max, step, default, formula)
PARAMETERS = {
    "leaky_relu": ("slope", "slope", 0.0, 0.5, 0.01, 0.01, "z if z > 0 else slope · z"),
    "elu": ("alpha", "alpha (α)", 0.1, 3.0, 0.05, 1.0, "z if z > 0 else α (exp(z) − 1)"),
    "swish": ("beta", "beta (β)", 0.1, 5.0, 0.1, 1.0, "z · sigmoid(β z)"),
}
N_POINTS = 401


def _options() -> list[tuple[str, str]]:
    """(label, canonical name) for the menu: one entry per activation, aliases in brackets."""
    aliases: dict[str, list[str]] = {}
    for name in activations.names():
        canonical = activations.get(name).name
        if name != canonical:
            aliases.setdefault(canonical, []).append(name)
    canonical = sorted({activations.get(name).name for name in activations.names()})
    return [(f"{c} ({', '.join(aliases[c])})" if c in aliases else c, c) for c in canonical]


@dataclass(frozen=True)
class ActivationState:
    """The activation's name, its parameter (keyword, value) if it has one, the point z_0 and the range."""

    name: str = "relu"
    param: tuple | None = None
    z0: float = 1.0
    z_max: float = 5.0


def activation_curves(state: ActivationState) -> dict:
    """sigma(z), sigma'(z) on [-z_max, z_max] and the marked regions: a pure function of the state.

    Returns a dict with ``z`` (N_POINTS,), ``a`` = sigma(z), ``da`` = sigma'(z), ``dead``
    (sigma'(z) = 0), ``saturated`` (0 < |sigma'(z)| < SATURATION), ``a0``, ``da0`` (at z_0),
    ``formula`` (with the parameter's symbol, not its value) and ``act`` (the :class:`course.activations.Activation`).
    """
    params = {state.param[0]: state.param[1]} if state.param else {}
    act = activations.get(state.name, **params)
    if not np.isfinite(state.z_max) or state.z_max <= 0:
        raise ValueError(f"z_max must be a positive number, got {state.z_max!r}")
    z = np.linspace(-state.z_max, state.z_max, N_POINTS)
    z0 = np.array([float(state.z0)])
    if act.name == "softmax":
        # the first output of softmax(z, 0); its derivative is the Jacobian's diagonal entry
        pair = np.stack([z, np.zeros_like(z)], axis=-1)
        a, da = act.f(pair)[:, 0], act.df(pair)[:, 0]
        pair0 = np.array([[z0[0], 0.0]])
        a0, da0 = act.f(pair0)[0, 0], act.df(pair0)[0, 0]
        formula = "softmax(z, 0)₁ = exp(z) / (exp(z) + 1)"
    else:
        a, da = act.f(z), act.df(z)
        a0, da0 = act.f(z0)[0], act.df(z0)[0]
        formula = PARAMETERS[act.name][-1] if act.name in PARAMETERS else act.formula
    dead = da == 0
    saturated = (np.abs(da) < SATURATION) & ~dead
    return {"z": z, "a": a, "da": da, "dead": dead, "saturated": saturated, "a0": float(a0),
            "da0": float(da0), "formula": formula, "act": act}


def default_param(name: str) -> tuple | None:
    """(keyword, default value) of the activation ``name``'s parameter, None if it has none."""
    if name not in PARAMETERS:
        return None
    keyword, _, _, _, _, default, _ = PARAMETERS[name]
    return keyword, default


def _nice_limits(values, step: float = 0.5, pad: float = 0.15) -> tuple[float, float]:
    """y-limits rounded out to multiples of ``step``, so small parameter changes keep them."""
    lo, hi = float(np.min(values)), float(np.max(values))
    lo, hi = np.floor(lo / step) * step - pad, np.ceil(hi / step) * step + pad
    return (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)


@functools.lru_cache(maxsize=128)
def _range_extremes(name: str, z_max: float) -> tuple[float, float, float, float]:
    """min and max of sigma(z) and of sigma'(z) on [-z_max, z_max] over the parameter's range.

    The y-limits span the parameter's whole range, so moving the parameter slider keeps
    the axes (and the cached background) and the curve visibly changes against fixed axes.
    Nine values spread over the range (its ends included) find the extremes of these
    activations, whose curves move monotonically or smoothly with the parameter; the
    limits also take in the curve on show, so they always contain it.
    """
    values = [None]
    if name in PARAMETERS:
        keyword, _, lo, hi, _, _, _ = PARAMETERS[name]
        values = [(keyword, float(v)) for v in np.linspace(lo, hi, 9)]
    a_lo = da_lo = np.inf
    a_hi = da_hi = -np.inf
    for param in values:
        c = activation_curves(ActivationState(name=name, param=param, z0=0.0, z_max=z_max))
        a_lo, a_hi = min(a_lo, c["a"].min()), max(a_hi, c["a"].max())
        da_lo, da_hi = min(da_lo, c["da"].min()), max(da_hi, c["da"].max())
    return float(a_lo), float(a_hi), float(da_lo), float(da_hi)


class ActivationExplorer(App):
    """The app: an activation menu, its parameter, the point z_0 and the plotted range."""

    title = "Activation explorer: a = σ(z) and its derivative σ'(z)"
    explanation = ("Backpropagation multiplies by σ'(z): where it is small (yellow, saturated) or zero "
                   "(red, dead) little or no gradient flows back through the neuron.")
    figsize = (8.6, 3.9)

    def __init__(self, name: str = "relu", z0: float = 1.0, z_max: float = 5.0):
        self._init_name = activations.get(name).name
        self._init_z0, self._init_z_max = float(z0), float(z_max)
        # GELU imports SciPy's erf on first use (a quarter of a second): do it now, not on a menu change
        activations.get("gelu").f(np.zeros(1))
        super().__init__()

    def _make_controls(self):
        W = self._W
        controls = {
            "activation": W.Dropdown(options=_options(), value=self._init_name, description="σ"),
            "param": W.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.01, description="(no parameter)",
                                   disabled=True, readout_format=".2f"),
            "z0": W.FloatSlider(value=self._init_z0, min=-10.0, max=10.0, step=0.1, description="z₀"),
            "z_max": W.FloatSlider(value=self._init_z_max, min=1.0, max=10.0, step=0.5, description="range ±"),
        }
        self._configure_param(self._init_name, controls["param"])
        return controls

    def _configure_param(self, name: str, slider) -> None:
        """Give the parameter slider the range and default of ``name``'s parameter (or disable it).

        The new range, step, value and label reach the browser as one message (``hold_sync``):
        sent one by one, the browser would clamp the value to the old range and send it back.
        """
        with slider.hold_sync():
            if name in PARAMETERS:
                _, label, lo, hi, step, default, _ = PARAMETERS[name]
                slider.max = max(slider.max, hi)
                slider.min = lo
                slider.max = hi
                slider.step = step
                slider.value = default
                slider.description = label
                slider.disabled = False
            else:
                slider.description = "(no parameter)"
                slider.disabled = True

    def _follow(self, change) -> None:
        """A new activation sets up its parameter slider (drawn in the same frame)."""
        if change["owner"] is self.controls["activation"]:
            self._configure_param(change["new"], self.controls["param"])

    def _read_state(self) -> ActivationState:
        c = self.controls
        name = c["activation"].value
        param = (PARAMETERS[name][0], float(c["param"].value)) if name in PARAMETERS else None
        return ActivationState(name=name, param=param, z0=float(c["z0"].value), z_max=float(c["z_max"].value))

    def _build(self, fig):
        from matplotlib.patches import Patch
        from matplotlib.ticker import MaxNLocator

        from course.plotting import IntervalShading

        ax_f, ax_d = fig.subplots(1, 2)
        fig.subplots_adjust(left=0.07, right=0.98, bottom=0.22, top=0.9, wspace=0.22)
        self.ax_f, self.ax_d = ax_f, ax_d
        self.shading = []
        for ax in (ax_f, ax_d):
            sat = IntervalShading(ax, "#f2c200", alpha=0.25)
            dead = IntervalShading(ax, "#d62728", alpha=0.18)
            self.shading.append((sat, dead))
            ax.axhline(0, color="0.6", lw=0.8, zorder=0)
            ax.axvline(0, color="0.6", lw=0.8, zorder=0)
            ax.set_xlabel("z")
            # at most 4 intervals (5 ticks) at round values: each tick label costs about 1 ms when
            # a new activation or range redraws the axes
            ax.yaxis.set_major_locator(MaxNLocator(4, steps=[1, 2, 5, 10]))
        (self.line_f,) = ax_f.plot([], [], color="#1f77b4", lw=2, label="σ(z)")
        (self.tangent,) = ax_f.plot([], [], color="k", lw=1, ls="--", label="tangent, slope σ'(z₀)")
        (self.dot_f,) = ax_f.plot([], [], "o", color="k", ms=5)
        (self.line_d,) = ax_d.plot([], [], color="#2ca02c", lw=2, label="σ'(z)")
        (self.dot_d,) = ax_d.plot([], [], "o", color="k", ms=5)
        # one figure legend below the axes: a legend inside would be covered by the redrawn bands
        handles = [self.line_f, self.tangent, self.line_d,
                   Patch(facecolor="#f2c200", alpha=0.25, label=f"saturated: 0 < |σ'| < {SATURATION}"),
                   Patch(facecolor="#d62728", alpha=0.18, label="dead: σ'(z) = 0")]
        # drawn once and pasted into each new background (a new activation or range)
        self.fixed(fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=7, frameon=False))
        self.formula_text = ax_f.set_title("", fontsize=9)
        self.value_text = ax_d.set_title("", fontsize=9)
        bands = [band for pair in self.shading for shade in pair for band in shade.bands]
        self.dynamic(*bands, self.line_f, self.tangent, self.dot_f, self.line_d, self.dot_d,
                     self.value_text, self.formula_text)

    def _draw(self, state: ActivationState) -> None:
        c = activation_curves(state)
        self.curves = c
        z = c["z"]
        for sat, dead in self.shading:
            sat.update(z, c["saturated"])
            dead.update(z, c["dead"])
        self.line_f.set_data(z, c["a"])
        self.line_d.set_data(z, c["da"])
        z0 = state.z0
        zt = np.array([z0 - 0.25 * state.z_max, z0 + 0.25 * state.z_max])
        self.tangent.set_data(zt, c["a0"] + c["da0"] * (zt - z0))
        self.dot_f.set_data([z0], [c["a0"]])
        self.dot_d.set_data([z0], [c["da0"]])
        self.formula_text.set_text(f"σ(z) = {c['formula']}")
        self.value_text.set_text(f"σ(z₀) = {c['a0']:.3f},  σ'(z₀) = {c['da0']:.3f}")
        self._set_static(state, c)

    def _set_static(self, state: ActivationState, curves: dict | None = None) -> None:
        """The axis limits for ``state``: the plotted range, and y-limits over the parameter's whole range."""
        c = activation_curves(state) if curves is None else curves
        for ax in (self.ax_f, self.ax_d):
            ax.set_xlim(-state.z_max, state.z_max)
        # limits over the parameter's whole range (and the current curves, for a value outside it)
        a_lo, a_hi, da_lo, da_hi = _range_extremes(state.name, float(state.z_max))
        self.ax_f.set_ylim(*_nice_limits(np.append(c["a"], [a_lo, a_hi])))
        self.ax_d.set_ylim(*_nice_limits(np.append(c["da"], [da_lo, da_hi, 0.0, 1.0]), step=0.25, pad=0.1))

    def _ahead(self, state: ActivationState) -> list[ActivationState]:
        """The activations next to this one in the menu (each at its parameter's default) and the range one
        step wider and narrower: their axes are drawn ahead."""
        names = [name for _, name in self.controls["activation"].options]
        i = names.index(state.name)
        near = []
        for name in (names[(i + 1) % len(names)], names[i - 1]):
            near.append(replace(state, name=name, param=default_param(name)))
        z_max = self.controls["z_max"]
        for value in (state.z_max + z_max.step, state.z_max - z_max.step):
            if z_max.min <= value <= z_max.max:
                near.append(replace(state, z_max=value))
        return near

def activation_explorer(name: str = "relu", z0: float = 1.0, z_max: float = 5.0) -> ActivationExplorer:
    """The activation explorer app (display it as a cell's last expression).

    Args:
        name: the starting activation, any name of :func:`course.activations.names`.
        z0: where the tangent touches sigma(z).
        z_max: the plotted range is -z_max <= z <= z_max.
    """
    return ActivationExplorer(name=name, z0=z0, z_max=z_max)
