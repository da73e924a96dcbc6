r"""Universal approximation: a shallow ReLU network y = phi_0 + sum_d phi_d h_d(x) fitting a 1-D target.

Each hidden unit h_d = ReLU(theta_d1 x + theta_d0) is a "hinge": zero on one
side of its kink x = -theta_d0 / theta_d1, a straight line on the other. The
network's output is their weighted sum, a piecewise-linear function; with D
units spread evenly over [-1, 1] it has D linear pieces, and as D grows it can
follow any continuous target as closely as we like (the universal
approximation theorem). Here the kinks are placed evenly and the output
weights phi are the least-squares best ones for those hidden units, so the
error you see is the best these D hinges can do.

Depth: a deep network with K hidden layers of D > 2 units can make up to
(D+1)^K linear regions. The right panel builds such a network (each layer
folds [0, 1] onto itself D+1 times) and counts its regions.

All network maths is :class:`course.MLP`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np

from course.mlp import MLP
from course.widgets._base import App

__all__ = ["universal_approximation", "UniversalApproximation", "UATState", "TARGETS", "shallow_fit",
           "fold_network", "count_linear_regions", "parse_target", "best_rms"]

X_RANGE = (-1.0, 1.0)
N_POINTS = 401
D_MAX = 50
#: the bottom of the error axis (log scale)
ERROR_FLOOR = 1e-4
PASSED_FUNCTION = "(the Python function you passed)"
_SUP = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")
TARGETS: dict[str, tuple[str, Callable]] = {
    "sine": ("sin(2πx)", lambda x: np.sin(2 * np.pi * x)),
    "step": ("step: 1 if x ≥ 0 else 0", lambda x: (x >= 0).astype(float)),
    "abs": ("|x|", lambda x: np.abs(x)),
    "bump": ("exp(−10 x²)", lambda x: np.exp(-10 * x * x)),
}


@dataclass(frozen=True)
class UATState:
    """The target (a name of TARGETS or "custom" with its ``expression``), D, the pieces toggle,
    and the deep network's depth K and width ``D_deep``."""

    target: str = "sine"
    expression: str = "lambda x: np.sin(3 * x) * x"
    D: int = 6
    show_pieces: bool = True
    K: int = 2
    D_deep: int = 3


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


def _hidden_layer(D: int) -> tuple[np.ndarray, np.ndarray]:
    """theta: D hinges h_d = ReLU(x - c_d) with kinks c_d evenly spaced, the first at the left end.

    Returns W^(1) (D, 1) and b^(1) (D,).
    """
    c = X_RANGE[0] + (X_RANGE[1] - X_RANGE[0]) * np.arange(D) / D  # kinks
    return np.ones((D, 1)), -c


def shallow_fit(y_target: np.ndarray, x: np.ndarray, D: int) -> dict:
    """The shallow ReLU network with D evenly spaced kinks whose output weights best fit y_target.

    phi = argmin ||[1, h(x)] phi - y||^2 (least squares). Returns a dict with
    ``net`` (the :class:`course.MLP` [1, D, 1]), ``y`` (its output on x, (N,)),
    ``pieces`` (phi_d h_d(x), (D, N)), ``kinks`` (D,), ``phi0``, ``rms`` and ``max_error``.
    """
    if int(D) != D or D < 1:
        raise ValueError(f"D (the number of hidden units) must be a whole number >= 1, got {D!r}")
    D = int(D)
    W1, b1 = _hidden_layer(D)
    net = MLP.from_weights([W1, np.zeros((1, D))], [b1, [0.0]], activation="relu")
    net.forward(x[:, None])
    h = net.a[1]  # (N, D)
    A = np.column_stack([np.ones(len(x)), h])
    coef, *_ = np.linalg.lstsq(A, y_target, rcond=None)
    net.weights[1] = coef[1:][None, :]
    net.biases[1] = coef[:1].copy()
    y = net.forward(x[:, None])[:, 0]
    err = y - y_target
    return {"net": net, "y": y, "pieces": (h * coef[1:]).T, "kinks": -b1, "phi0": float(coef[0]),
            "rms": float(np.sqrt(np.mean(err ** 2))), "max_error": float(np.max(np.abs(err)))}


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
def _error_curve(target_key, y_target_bytes: bytes) -> np.ndarray:
    y_target = np.frombuffer(y_target_bytes)
    x = np.linspace(*X_RANGE, N_POINTS)
    return np.array([best_rms(y_target, x, D) for D in range(1, D_MAX + 1)])


class UniversalApproximation(App):
    """The app: target menu, a custom function, D, the pieces toggle, the depth controls."""

    title = "Universal approximation: y = φ₀ + Σ_d φ_d ReLU(x − c_d)"
    explanation = ("Each hidden unit adds one hinge (thin lines); their sum is the network (thick). "
                   "More units D, smaller error. Right: K layers of D units fold the line into (D+1)^K pieces.")
    figsize = (10.5, 4.0)

    def __init__(self, target="sine", D: int = 6, K: int = 2, D_deep: int = 3):
        self._custom = None
        expression = UATState.expression
        if callable(target):
            self._custom = target
            target = "custom"
            expression = PASSED_FUNCTION
        self._init = UATState(target=target, expression=expression, D=int(D), K=int(K), D_deep=int(D_deep))
        self._x = np.linspace(*X_RANGE, N_POINTS)
        super().__init__()

    def _make_controls(self):
        W = self._W
        s = self._init
        options = [(f"{label}", key) for key, (label, _) in TARGETS.items()] + [("custom (type below)", "custom")]
        return {
            "target": W.Dropdown(options=options, value=s.target, description="target"),
            "expression": W.Text(value=s.expression, description="f(x) =", continuous_update=False,
                                 placeholder="lambda x: np.sin(3 * x)"),
            "D": W.IntSlider(value=s.D, min=1, max=D_MAX, description="units D"),
            "show_pieces": W.Checkbox(value=s.show_pieces, description="show each unit φ_d h_d(x)"),
            "K": W.IntSlider(value=s.K, min=1, max=4, description="deep: layers K"),
            "D_deep": W.IntSlider(value=s.D_deep, min=3, max=5, description="deep: width D"),
        }

    def _read_state(self) -> UATState:
        c = self.controls
        return UATState(target=c["target"].value, expression=c["expression"].value, D=int(c["D"].value),
                        show_pieces=bool(c["show_pieces"].value), K=int(c["K"].value),
                        D_deep=int(c["D_deep"].value))

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
        fig.legend(handles=[self.target_line, self.fit_line, self.pieces], labels=["target", "network y(x)",
                   "one unit φ_d h_d(x)"], loc="lower left", ncol=3, fontsize=7, frameon=False)
        self.fit_title = ax.set_title("", fontsize=9)
        (self.err_curve,) = ax_e.semilogy([], [], color="0.3", lw=1.2)
        (self.err_dot,) = ax_e.plot([], [], "o", color="#d62728", ms=6)
        ax_e.set_xlim(0, D_MAX + 1)
        ax_e.set_ylim(ERROR_FLOOR, 1.0)
        ax_e.set_xlabel("hidden units D")
        ax_e.set_title("RMS error vs D", fontsize=9)
        (self.deep_line,) = ax_k.plot([], [], color="#1f77b4", lw=0.8)
        ax_k.set_xlim(0, 1)
        ax_k.set_ylim(-0.05, 1.05)
        ax_k.set_xlabel("x   (deep net: K layers of D ReLUs)")
        self.deep_title = ax_k.set_title("", fontsize=9)
        # the target and error curves are dynamic too: only the axis limits key the background,
        # so going back to an earlier target restores its background
        self.dynamic(self.pieces, self.target_line, self.fit_line, self.kink_dots, self.fit_title,
                     self.err_curve, self.err_dot, self.deep_line, self.deep_title)

    def _draw(self, state: UATState) -> None:
        x = self._x
        f = self.target_function(state)
        y_target = _evaluate(f, x)
        fit = shallow_fit(y_target, x, state.D)
        self.fit = fit
        key = (state.target, state.expression if state.target == "custom" else "")
        if getattr(self, "_target_key", None) != key:
            # a new target: a new target curve, error curve and limits
            self._target_key = key
            self.target_line.set_data(x, y_target)
            # limits rounded out (to 0.05, and to whole decades for the error), so that targets
            # with nearly the same range share the axes and their cached drawing
            lo, hi = float(y_target.min()), float(y_target.max())
            pad = 0.15 * (hi - lo) + 0.1
            self.ax.set_ylim(np.floor((lo - pad) * 20) / 20, np.ceil((hi + pad) * 20) / 20)
            self.errors = _error_curve(key, y_target.tobytes())
            # the same error axis for every target (errors compare at a glance); an error below
            # ERROR_FLOOR (|x| with a kink at 0 is exact) sits on the bottom edge
            top = 10.0 ** max(0.0, np.ceil(np.log10(float(self.errors.max()))))
            self.ax_err.set_ylim(ERROR_FLOOR, top)
            self.err_curve.set_data(np.arange(1, D_MAX + 1), np.maximum(self.errors, ERROR_FLOOR))
        ends = np.array([X_RANGE[0], X_RANGE[1]])
        if state.show_pieces:
            # phi_d h_d(x) is zero left of its kink c_d and a line right of it: 3 points draw it exactly
            phi = fit["net"].weights[1][0]
            segs = [np.array([[ends[0], 0.0], [c, 0.0], [ends[1], p * (ends[1] - c)]])
                    for c, p in zip(fit["kinks"], phi)]
            self.pieces.set_segments(segs)
        self.pieces.set_visible(state.show_pieces)
        self.fit_line.set_data(x, fit["y"])
        self.kink_dots.set_data(fit["kinks"], np.full(state.D, self.ax.get_ylim()[0]))
        self.fit_title.set_text(f"RMS error {fit['rms']:.4f}")
        self.err_dot.set_data([state.D], [max(fit["rms"], self.ax_err.get_ylim()[0])])
        regions, xs, ys = _deep_curve(state.D_deep, state.K)
        self.deep_regions = regions
        self.deep_line.set_data(xs, ys)
        self.deep_title.set_text(f"{regions} = {state.D_deep + 1}{str(state.K).translate(_SUP)} regions")


def universal_approximation(target="sine", D: int = 6, K: int = 2, D_deep: int = 3) -> UniversalApproximation:
    """The universal-approximation app (display it as a cell's last expression).

    Args:
        target: "sine", "step", "abs", "bump", "custom", or a Python function of x
            (vectorised over a NumPy array) to approximate on [-1, 1].
        D: the number of hidden units of the shallow network.
        K, D_deep: the depth and width of the deep network in the right panel.
    """
    return UniversalApproximation(target=target, D=D, K=K, D_deep=D_deep)
