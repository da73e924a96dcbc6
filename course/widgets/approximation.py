r"""Universal approximation: a shallow ReLU network y = phi_0 + sum_d phi_d h_d(x) fitting a 1-D target.

Each hidden unit h_d = ReLU(theta_d1 x + theta_d0) is a "hinge": zero on one
side of its kink x = -theta_d0 / theta_d1, a straight line on the other. The
network's output is their weighted sum, a piecewise-linear function; with D
units spread evenly over [-1, 1] it has D linear pieces, and as D grows it can
follow any continuous target as closely as we like (the universal
approximation theorem). The kinks start evenly spaced; each unit's kink and
output weight phi_d can be moved by hand, or the output weights fitted to the
target: by least squares (the best ones for those hidden units, so the error
you see is the best these D hinges can do) or by training (gradient descent on
the output weights with Adam, which approaches the least-squares answer). Sigmoid units
h_d = sigmoid(s (x - c_d)), smooth steps centred at c_d, can replace the hinges.

Depth: a deep network with K hidden layers of D > 2 units can make up to
(D+1)^K linear regions. The right panel builds such a network (each layer
folds [0, 1] onto itself D+1 times) and counts its regions.

All network maths is :class:`course.MLP`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from course.mlp import MLP
from course.widgets._base import App, is_echo, superscript

__all__ = ["universal_approximation", "UniversalApproximation", "UATState", "TARGETS", "shallow_fit",
           "fold_network", "count_linear_regions", "parse_target", "best_rms", "even_kinks", "UNITS", "FITS",
           "TRAINING_STEPS"]

X_RANGE = (-1.0, 1.0)
N_POINTS = 401
D_MAX = 50
#: the bottom of the error axis (log scale)
ERROR_FLOOR = 1e-4
PASSED_FUNCTION = "(the Python function you passed)"
#: the hidden units on offer: ReLU hinges or sigmoid steps
UNITS = ("relu", "sigmoid")
#: how the output weights are set: the least-squares best, trained, or moved by hand
FITS = ("least squares", "training", "by hand")
#: Adam steps of the "training" fit (on the output weights, from zero) and its learning rate
TRAINING_STEPS = 500
TRAINING_RATE = 0.05
#: the output-weight slider's range
PHI_RANGE = 20.0
TARGETS: dict[str, tuple[str, Callable]] = {
    "sine": ("sin(2πx)", lambda x: np.sin(2 * np.pi * x)),
    "step": ("step: 1 if x ≥ 0 else 0", lambda x: (x >= 0).astype(float)),
    "abs": ("|x|", lambda x: np.abs(x)),
    "bump": ("exp(−10 x²)", lambda x: np.exp(-10 * x * x)),
}


@dataclass(frozen=True)
class UATState:
    """The target (a name of TARGETS or "custom" with its ``expression``), D, the pieces toggle,
    the deep network's depth K and width ``D_deep``, the kind of hidden ``units`` (UNITS), how
    the output weights are set (``fit``, one of FITS), the kinks (or sigmoid centres) and, set
    by hand, the output weights ``phi``."""

    target: str = "sine"
    expression: str = "lambda x: np.sin(3 * x) * x"
    D: int = 6
    show_pieces: bool = True
    K: int = 2
    D_deep: int = 3
    units: str = "relu"
    fit: str = "least squares"
    kinks: tuple | None = None   # None: evenly spaced
    phi: tuple | None = None     # (phi_0, phi_1, ..., phi_D) for fit "by hand"


def parse_target(expression: str) -> Callable:
    """A target function from text: ``"lambda x: np.cos(4 * x)"`` or just ``"np.cos(4 * x)"`` (NumPy as np)."""
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("the custom target must be Python code such as 'lambda x: np.sin(3 * x)', got nothing")
    text = expression.strip()
    namespace = {"np": np, "numpy": np, "pi": np.pi}
    try:
        value = eval(text if text.startswith("lambda") else f"lambda x: {text}", namespace)  # noqa: S307
    except SyntaxError as exc:
        raise ValueError(f"the custom target {text!r} is not valid Python: {exc.msg}") from None
    if not callable(value):
        raise ValueError(f"the custom target must be a function of x, got {type(value).__name__}")
    return value


def _evaluate(f: Callable, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):  # a NaN or infinity is reported below, in words
        y = np.asarray(f(x), dtype=float)
    if y.shape != x.shape:
        if y.ndim == 0:
            y = np.full_like(x, float(y))
        else:
            raise ValueError(f"the target function must return one number per x: for x of shape {x.shape} "
                             f"it returned shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("the target function returned NaN or infinity on [-1, 1]; it must be finite there")
    return y


def even_kinks(D: int) -> np.ndarray:
    """D kinks evenly spaced over X_RANGE, the first at its left end."""
    return X_RANGE[0] + (X_RANGE[1] - X_RANGE[0]) * np.arange(D) / D


def sigmoid_steepness(D: int) -> float:
    """The slope s of the sigmoid units: a step about as wide as the spacing of D evenly spaced centres."""
    return 2.0 * D / (X_RANGE[1] - X_RANGE[0]) * 2.0


def _hidden_layer(D: int, kinks=None, units: str = "relu") -> tuple[np.ndarray, np.ndarray]:
    """theta: D units with kinks (ReLU) or centres (sigmoid) c_d, evenly spaced unless given.

    ReLU: h_d = ReLU(x - c_d); sigmoid: h_d = sigmoid(s (x - c_d)). Returns W^(1) (D, 1) and b^(1) (D,).
    """
    c = even_kinks(D) if kinks is None else np.asarray(kinks, dtype=float)
    if c.shape != (D,):
        raise ValueError(f"kinks must hold D = {D} numbers, got {c.shape[0] if c.ndim == 1 else c.shape}")
    scale = 1.0 if units == "relu" else sigmoid_steepness(D)
    return np.full((D, 1), scale), -scale * c


def _output_by_training(A: np.ndarray, y: np.ndarray, steps: int = TRAINING_STEPS) -> np.ndarray:
    """The output weights after ``steps`` Adam steps (:class:`course.optim.Adam`) on the half MSE, from zero.

    The loss is convex in these weights, so training approaches the least-squares answer; plain
    gradient descent would crawl (the hinges overlap, so A^T A is ill-conditioned), Adam's
    per-weight step sizes get close within a few hundred steps.
    """
    from course import optim

    coef = np.zeros(A.shape[1])
    opt = optim.Adam(learning_rate=TRAINING_RATE)
    for _ in range(steps):
        opt.step([coef], [A.T @ (A @ coef - y) / len(y)])
    return coef


def shallow_fit(y_target: np.ndarray, x: np.ndarray, D: int, kinks=None, units: str = "relu",
                fit: str = "least squares", phi=None) -> dict:
    """The shallow network with D hidden units (kinks evenly spaced unless given) fitting y_target.

    The output weights phi = (phi_0, ..., phi_D) are, by ``fit``: "least squares",
    argmin ||[1, h(x)] phi - y||^2; "training", TRAINING_STEPS steps of gradient descent on it;
    "by hand", ``phi`` as given. Returns a dict with ``net`` (the :class:`course.MLP` [1, D, 1]),
    ``y`` (its output on x, (N,)), ``pieces`` (phi_d h_d(x), (D, N)), ``kinks`` (D,), ``phi0``,
    ``phi`` (D,), ``rms`` and ``max_error``.
    """
    if int(D) != D or D < 1:
        raise ValueError(f"D (the number of hidden units) must be a whole number >= 1, got {D!r}")
    if units not in UNITS:
        raise ValueError(f"units must be one of {', '.join(UNITS)}, got {units!r}")
    if fit not in FITS:
        raise ValueError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    D = int(D)
    W1, b1 = _hidden_layer(D, kinks, units)
    net = MLP.from_weights([W1, np.zeros((1, D))], [b1, [0.0]], activation=units)
    net.forward(x[:, None])
    h = net.a[1]  # (N, D)
    A = np.column_stack([np.ones(len(x)), h])
    if fit == "least squares":
        coef, *_ = np.linalg.lstsq(A, y_target, rcond=None)
    elif fit == "training":
        coef = _output_by_training(A, y_target)
    else:
        coef = np.asarray(phi, dtype=float) if phi is not None else np.zeros(D + 1)
        if coef.shape != (D + 1,):
            raise ValueError(f"phi must hold D + 1 = {D + 1} numbers (phi_0, ..., phi_D), got {coef.shape}")
    net.weights[1] = coef[1:][None, :].copy()
    net.biases[1] = coef[:1].copy()
    y = net.forward(x[:, None])[:, 0]
    err = y - y_target
    c = -b1 / W1[:, 0]
    return {"net": net, "y": y, "pieces": (h * coef[1:]).T, "kinks": c, "phi0": float(coef[0]),
            "phi": coef[1:].copy(), "rms": float(np.sqrt(np.mean(err ** 2))),
            "max_error": float(np.max(np.abs(err)))}


def _fold(D: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One layer that folds [0, 1] onto itself D + 1 times: g(x) = C + sum_d a_d ReLU(s_d (x - t_d)).

    The D + 1 pieces have lengths 2u (and u for the fourth), u = 1/(2D + 1), and
    zig-zag between 0 and 1; units 2 and 3 face left (s_d = -1) so that the first
    piece has a slope without an extra unit, which needs D >= 3.
    """
    if D < 3:
        raise ValueError(f"the folding construction needs D >= 3 units per layer, got D = {D}")
    u = 1.0 / (2 * D + 1)
    lengths = np.full(D + 1, 2 * u)
    lengths[3] = u
    t = np.cumsum(lengths)[:-1]  # kinks (D,)
    slopes = np.array([(-1.0) ** (i + 1) / L for i, L in enumerate(lengths)])  # m_0..m_D
    a = np.diff(slopes)  # slope change at each kink (D,)
    s = np.ones(D)
    s[[1, 2]] = -1.0  # units 2 and 3 (0-based 1 and 2) face left
    C = 1.0 - a[1] * t[1] - a[2] * t[2]  # g(0) = 1
    return t, s, a, C


@functools.lru_cache(maxsize=32)
def fold_network(D: int, K: int) -> MLP:
    """A network [1, D, ..., D, 1] with K hidden layers of D ReLUs computing g∘...∘g (K folds) on [0, 1].

    It has exactly (D + 1)^K linear regions on [0, 1], the most a network of this shape can have.
    """
    if int(K) != K or K < 1:
        raise ValueError(f"K (the number of hidden layers) must be a whole number >= 1, got {K!r}")
    t, s, a, C = _fold(int(D))
    weights = [s[:, None]] + [np.outer(s, a)] * (K - 1) + [a[None, :]]
    biases = [-s * t] + [s * (C - t)] * (K - 1) + [np.array([C])]
    return MLP.from_weights(weights, biases, activation="relu")


def count_linear_regions(net: MLP, x: np.ndarray) -> tuple[int, np.ndarray]:
    """The number of linear regions of a 1-input ReLU network on the sorted grid x, and the kinks.

    Two neighbouring grid points are in the same region when every hidden unit is
    on (z > 0) or off at both; each change of this activation pattern is a kink.
    The grid must be fine enough to put a point inside every region.
    """
    net.forward(np.asarray(x, dtype=float)[:, None])
    pattern = np.hstack([z > 0 for z in net.z[:-1]])  # (N, total hidden units)
    change = np.any(pattern[1:] != pattern[:-1], axis=1)
    idx = np.flatnonzero(change)
    kinks = 0.5 * (x[idx] + x[idx + 1])
    return int(len(idx) + 1), kinks


@functools.lru_cache(maxsize=32)
def _deep_curve(D: int, K: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Regions, and the exact polyline (its kinks and end points) of the fold network."""
    net = fold_network(D, K)
    # the shortest region is u^K long, u = 1/(2D + 1): a grid with at least 4 points in it finds every kink
    n = int(2 ** np.ceil(np.log2(4 * (2 * D + 1) ** K)))
    x = np.linspace(0.0, 1.0, max(n, 2 ** 10) + 1)
    regions, kinks = count_linear_regions(net, x)
    xs = np.concatenate([[0.0], kinks, [1.0]])
    ys = net.forward(xs[:, None])[:, 0]
    return regions, xs, ys


def best_rms(y_target: np.ndarray, x: np.ndarray, D: int) -> float:
    """The RMS error of :func:`shallow_fit` with D units, without building the network.

    The constant and the D hinges ReLU(x - c_d) (the first kink at the left end, so that hinge
    is the line x + 1) span exactly the continuous piecewise-linear functions on [-1, 1] with
    kinks at c_1, ..., c_{D-1}. So do the D + 1 "hat" functions, one per knot
    t = (-1, c_1, ..., c_{D-1}, 1), each 1 at its knot and 0 at the others: the same least-squares
    problem in a basis whose normal equations are small, banded and well conditioned. The error
    curve needs it for every D from 1 to D_MAX on each new target.
    """
    W1, b1 = _hidden_layer(D)
    knots = np.append(-b1, X_RANGE[1])  # (D + 1,)
    hats = np.zeros((len(x), D + 1))
    k = np.clip(np.searchsorted(knots, x, side="right") - 1, 0, D - 1)  # x lies in [t_k, t_k+1]
    u = (x - knots[k]) / (knots[k + 1] - knots[k])
    rows = np.arange(len(x))
    hats[rows, k] = 1.0 - u
    hats[rows, k + 1] = u
    coef = np.linalg.solve(hats.T @ hats, hats.T @ y_target)
    return float(np.sqrt(np.mean((hats @ coef - y_target) ** 2)))


@functools.lru_cache(maxsize=16)
def _error_curve(target_key, y_target_bytes: bytes, units: str = "relu") -> np.ndarray:
    """The least-squares RMS error with D evenly spaced units, for D = 1 .. D_MAX."""
    y_target = np.frombuffer(y_target_bytes)
    x = np.linspace(*X_RANGE, N_POINTS)
    if units == "relu":
        return np.array([best_rms(y_target, x, D) for D in range(1, D_MAX + 1)])
    return np.array([shallow_fit(y_target, x, D, units=units)["rms"] for D in range(1, D_MAX + 1)])


def _target_key(state: UATState) -> tuple:
    """What the target curve and its error curve depend on: the target, its text if custom, the units."""
    return state.target, state.expression if state.target == "custom" else "", state.units


class UniversalApproximation(App):
    """The app: target menu, a custom function, D, the pieces toggle, the depth controls."""

    title = "Universal approximation: y = φ₀ + Σ_d φ_d ReLU(x − c_d)"
    explanation = ("Each hidden unit adds one hinge (thin lines); their sum is the network (thick). "
                   "More units D, smaller error. Pick a unit d to move its kink and output weight φ_d, "
                   "or let φ be fitted (least squares or training); try sigmoid units. "
                   "Right: K layers of D units fold the line into (D+1)^K pieces.")
    figsize = (10.5, 4.0)

    def __init__(self, target="sine", D: int = 6, K: int = 2, D_deep: int = 3, units: str = "relu",
                 fit: str = "least squares"):
        self._custom = None
        expression = UATState.expression
        if callable(target):
            self._custom = target
            target = "custom"
            expression = PASSED_FUNCTION
        if units not in UNITS:
            raise ValueError(f"units must be one of {', '.join(UNITS)}, got {units!r}")
        if fit not in FITS:
            raise ValueError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
        self._init = UATState(target=target, expression=expression, D=int(D), K=int(K), D_deep=int(D_deep),
                              units=units, fit=fit)
        self._x = np.linspace(*X_RANGE, N_POINTS)
        self._kinks: list | None = None  # moved kinks (None: evenly spaced)
        self._phi: list | None = None    # output weights set by hand
        self._syncing = False
        super().__init__()

    def _make_controls(self):
        W = self._W
        s = self._init
        options = [(f"{label}", key) for key, (label, _) in TARGETS.items()] + [("custom (type below)", "custom")]
        return {
            "target": W.Dropdown(options=options, value=s.target, description="target"),
            "expression": W.Text(value=s.expression, description="f(x) =", continuous_update=False,
                                 placeholder="lambda x: np.sin(3 * x)"),
            "D": W.IntSlider(value=s.D, min=1, max=D_MAX, description="hidden units D"),
            "units": W.Dropdown(options=[("ReLU hinges", "relu"), ("sigmoid steps", "sigmoid")], value=s.units,
                                description="unit type"),
            "fit": W.Dropdown(options=[("least squares (best φ)", "least squares"),
                                       (f"training (Adam, {TRAINING_STEPS} steps)", "training"),
                                       ("by hand (slider φ_d)", "by hand")],
                              value=s.fit, description="output φ"),
            "unit": W.IntSlider(value=1, min=1, max=s.D, description="unit d"),
            "kink": W.FloatSlider(value=float(even_kinks(s.D)[0]), min=X_RANGE[0], max=X_RANGE[1], step=0.01,
                                  description="its kink c_d", readout_format=".2f"),
            "weight": W.FloatSlider(value=0.0, min=-PHI_RANGE, max=PHI_RANGE, step=0.01,
                                    description="its weight φ_d", readout_format=".2f"),
            "reset_kinks": W.Button(description="space the kinks evenly",
                                    tooltip="put the kinks (or centres) back, evenly spaced"),
            "show_pieces": W.Checkbox(value=s.show_pieces, description="show each unit φ_d h_d(x)"),
            "K": W.IntSlider(value=s.K, min=1, max=4, description="deep: layers K"),
            "D_deep": W.IntSlider(value=s.D_deep, min=3, max=5, description="deep: width D"),
        }

    def _read_state(self) -> UATState:
        c = self.controls
        D = int(c["D"].value)
        kinks = tuple(self._kinks) if self._kinks is not None and len(self._kinks) == D else None
        phi = (tuple(self._phi) if c["fit"].value == "by hand" and self._phi is not None
               and len(self._phi) == D + 1 else None)
        return UATState(target=c["target"].value, expression=c["expression"].value, D=D,
                        show_pieces=bool(c["show_pieces"].value), K=int(c["K"].value),
                        D_deep=int(c["D_deep"].value), units=c["units"].value, fit=c["fit"].value,
                        kinks=kinks, phi=phi)

    def _on_change(self, change=None) -> None:
        """Moving a unit's kink or weight edits the network; a new D spaces the kinks evenly again."""
        if self._syncing or (change is not None and is_echo(change)):
            return  # a slider reporting the value it was given (on its grid) edits nothing
        c = self.controls
        owner = change["owner"] if change is not None else None
        d = int(c["unit"].value) - 1
        if owner is c["D"]:
            self._kinks = None
            self._phi = None
        elif owner is c["kink"]:
            kinks = list(self.fit["kinks"])
            kinks[d] = float(c["kink"].value)
            self._kinks = kinks
        elif owner is c["weight"]:
            phi = [self.fit["phi0"], *self.fit["phi"]]  # start from what is shown
            phi[d + 1] = float(c["weight"].value)
            self._phi = phi
            if c["fit"].value != "by hand":
                self._syncing = True  # the next redraw (below) shows the change
                try:
                    c["fit"].value = "by hand"
                finally:
                    self._syncing = False
                self.say("Output weights are now set by hand; choose 'least squares' or 'training' to fit them.")
        elif owner is c["fit"] and c["fit"].value == "by hand":
            self._phi = [self.fit["phi0"], *self.fit["phi"]]  # by hand from the weights shown
        elif owner is c["units"] and c["fit"].value == "by hand":
            self._phi = None  # weights of hinges mean nothing for sigmoids: start from zero
        super()._on_change(change)

    def space_kinks_evenly(self) -> None:
        """Put the kinks (or centres) back where they started, evenly spaced."""
        self._kinks = None

    def _show_unit(self, state: UATState) -> None:
        """Set the unit sliders to the chosen unit's kink and weight (without redrawing)."""
        c = self.controls
        self._syncing = True
        try:
            c["unit"].max = state.D
            d = int(c["unit"].value) - 1
            c["kink"].description = "its kink c_d" if state.units == "relu" else "its centre c_d"
            c["kink"].value = self._slider_value("kink", self.fit["kinks"][d])
            c["weight"].value = self._slider_value("weight", self.fit["phi"][d])
        finally:
            self._syncing = False

    def _slider_value(self, name: str, value: float) -> float:
        """``value`` as the slider ``name`` can hold it: within its range, on its step."""
        slider = self.controls[name]
        value = float(np.clip(value, slider.min, slider.max))
        return round(round(value / slider.step) * slider.step, 10)

    def target_function(self, state: UATState) -> Callable:
        """The target as a function of x (the custom one is parsed from the text box)."""
        if state.target == "custom":
            if self._custom is not None and state.expression == PASSED_FUNCTION:
                return self._custom
            return parse_target(state.expression)
        if state.target not in TARGETS:
            raise ValueError(f"unknown target {state.target!r}; choose one of {', '.join(TARGETS)} or 'custom'")
        return TARGETS[state.target][1]

    def _build(self, fig):
        from matplotlib.collections import LineCollection
        from matplotlib.ticker import NullLocator

        self.on_click("reset_kinks", self.space_kinks_evenly)
        ax, ax_e, ax_k = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.5, 1.0, 1.2]})
        fig.subplots_adjust(left=0.05, right=0.985, bottom=0.22, top=0.9, wspace=0.28)
        self.ax, self.ax_err, self.ax_deep = ax, ax_e, ax_k
        self.pieces = LineCollection([], colors="#9467bd", linewidths=0.8, alpha=0.7, zorder=1)
        ax.add_collection(self.pieces)
        (self.target_line,) = ax.plot([], [], color="k", ls="--", lw=1.2, label="target", zorder=2)
        (self.fit_line,) = ax.plot([], [], color="#d62728", lw=2, label="network y(x)", zorder=3)
        (self.kink_dots,) = ax.plot([], [], "|", color="#d62728", ms=8, zorder=4)
        ax.set_xlim(*X_RANGE)
        ax.set_xticks(np.linspace(*X_RANGE, 5))  # matplotlib's choice of 9 ticks overlaps at this width
        ax.set_xlabel("x   (shallow net: D ReLUs, D pieces)")
        self.fixed(fig.legend(handles=[self.target_line, self.fit_line, self.pieces],
                              labels=["target", "network y(x)", "one unit φ_d h_d(x)"],
                              loc="lower left", ncol=3, fontsize=7, frameon=False))
        self.fit_title = ax.set_title("", fontsize=9)
        (self.err_curve,) = ax_e.semilogy([], [], color="0.3", lw=1.2)
        (self.err_dot,) = ax_e.plot([], [], "o", color="#d62728", ms=6)
        ax_e.set_xlim(0, D_MAX + 1)
        ax_e.set_ylim(ERROR_FLOOR, 1.0)
        ax_e.set_xlabel("hidden units D")
        ax_e.set_title("RMS error vs D", fontsize=9)
        # a label at every decade and no minor ticks: matplotlib's 8 minor ticks per decade cost
        # 15 ms each time a new target redraws the axes
        ax_e.yaxis.set_minor_locator(NullLocator())
        # decade labels as plain text (10⁻³): matplotlib's default writes them in mathtext, whose
        # parser and fonts cost about 120 ms the first time a new target redraws this axis
        ax_e.yaxis.set_major_formatter(lambda y, _: f"10{superscript(round(np.log10(y)))}")
        (self.deep_line,) = ax_k.plot([], [], color="#1f77b4", lw=0.8)
        ax_k.set_xlim(0, 1)
        ax_k.set_ylim(-0.05, 1.05)
        ax_k.set_xlabel("x   (deep net: K layers of D ReLUs)")
        self.deep_title = ax_k.set_title("", fontsize=9)
        # the target and error curves are dynamic too: only the axis limits key the background,
        # so going back to an earlier target restores its background
        self.dynamic(self.pieces, self.target_line, self.fit_line, self.kink_dots, self.fit_title,
                     self.err_curve, self.err_dot, self.deep_line, self.deep_title)

    def _target_curves(self, state: UATState) -> tuple[np.ndarray, np.ndarray]:
        """The target on the grid (N_POINTS,) and its least-squares RMS error for D = 1 .. D_MAX (D_MAX,)."""
        y_target = _evaluate(self.target_function(state), self._x)
        return y_target, _error_curve(_target_key(state), y_target.tobytes(), state.units)

    def _set_static(self, state: UATState, curves: tuple | None = None) -> None:
        """The limits for the state's target: its range, rounded out, and the error axis's top decade."""
        y_target, errors = self._target_curves(state) if curves is None else curves
        # limits rounded out (to 0.05, and to whole decades for the error), so that targets
        # with nearly the same range share the axes and their cached drawing
        lo, hi = float(y_target.min()), float(y_target.max())
        pad = 0.15 * (hi - lo) + 0.1
        self.ax.set_ylim(np.floor((lo - pad) * 20) / 20, np.ceil((hi + pad) * 20) / 20)
        # the same error axis for every target (errors compare at a glance); an error below
        # ERROR_FLOOR (|x| with a kink at 0 is exact) sits on the bottom edge
        top = 10.0 ** max(0.0, np.ceil(np.log10(float(errors.max()))))
        self.ax_err.set_ylim(ERROR_FLOOR, top)

    def _ahead(self, state: UATState) -> list[UATState]:
        """The targets next to this one in the menu (the custom one with the text in its box) and the
        other kind of unit: their axes (and error curves) are drawn ahead."""
        names = [*TARGETS, "custom"]
        i = names.index(state.target)
        return [replace(state, target=names[(i + 1) % len(names)]), replace(state, target=names[i - 1]),
                *(replace(state, units=units) for units in UNITS if units != state.units)]

    def _draw(self, state: UATState) -> None:
        x = self._x
        y_target, self.errors = self._target_curves(state)  # the error curve is computed once per target
        fit = shallow_fit(y_target, x, state.D, kinks=state.kinks, units=state.units, fit=state.fit,
                          phi=state.phi)
        self.fit = fit
        self._show_unit(state)
        self.target_line.set_data(x, y_target)
        self.err_curve.set_data(np.arange(1, D_MAX + 1), np.maximum(self.errors, ERROR_FLOOR))
        self._set_static(state, (y_target, self.errors))
        ends = np.array([X_RANGE[0], X_RANGE[1]])
        if state.show_pieces and state.units == "relu":
            # phi_d h_d(x) is zero left of its kink c_d and a line right of it: 3 points draw it exactly
            phi = fit["net"].weights[1][0]
            segs = [np.array([[ends[0], 0.0], [min(max(c, ends[0]), ends[1]), 0.0],
                              [ends[1], p * max(ends[1] - c, 0.0)]]) for c, p in zip(fit["kinks"], phi)]
            self.pieces.set_segments(segs)
        elif state.show_pieces:
            self.pieces.set_segments([np.column_stack([x, piece]) for piece in fit["pieces"]])
        self.pieces.set_visible(state.show_pieces)
        self.fit_line.set_data(x, fit["y"])
        self.kink_dots.set_data(fit["kinks"], np.full(state.D, self.ax.get_ylim()[0]))
        how = {"least squares": "least squares", "training": f"{TRAINING_STEPS} Adam steps",
               "by hand": "φ by hand"}[state.fit]
        self.fit_title.set_text(f"{how}: RMS error {fit['rms']:.4f}, max {fit['max_error']:.3f}")
        self.err_dot.set_data([state.D], [max(fit["rms"], self.ax_err.get_ylim()[0])])
        regions, xs, ys = _deep_curve(state.D_deep, state.K)
        self.deep_regions = regions
        self.deep_line.set_data(xs, ys)
        self.deep_title.set_text(f"{regions} = {state.D_deep + 1}{superscript(state.K)} regions")


def universal_approximation(target="sine", D: int = 6, K: int = 2, D_deep: int = 3, units: str = "relu",
                            fit: str = "least squares") -> UniversalApproximation:
    """The universal-approximation app (display it as a cell's last expression).

    Args:
        target: "sine", "step", "abs", "bump", "custom", or a Python function of x
            (vectorised over a NumPy array) to approximate on [-1, 1].
        D: the number of hidden units of the shallow network.
        K, D_deep: the depth and width of the deep network in the right panel.
        units: "relu" (hinges) or "sigmoid" (smooth steps) hidden units.
        fit: how the output weights are set: "least squares", "training" or "by hand".
    """
    return UniversalApproximation(target=target, D=D, K=K, D_deep=D_deep, units=units, fit=fit)
