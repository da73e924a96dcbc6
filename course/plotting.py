r"""Drawing helpers shared by the widgets and the lectures.

Every helper draws on an ``ax`` you pass (no pyplot state), creates its
artists once, and has an ``update`` method that changes only their data, so
that a widget can redraw in place:

* :class:`DecisionRegions`: the classes (or probabilities) a model assigns on
  a grid over the plane, as one image;
* :func:`line_in_box`: the segment of the line w_1 x_1 + w_2 x_2 + b = 0 inside a box,
  and :func:`half_plane_polygon`: the region w_1 x_1 + w_2 x_2 + b >= 0 of the box;
* :class:`IntervalShading`: vertical bands over the z-intervals where a mask is true
  (saturation and dead regions of an activation);
* :class:`NetworkDiagram`: a fully connected network, neurons as circles with
  text inside, weights as lines whose width shows |w| and whose colour shows the
  sign (red positive, blue negative);
* :func:`plot_decision_regions`: a one-call static plot for lectures.

    >>> import matplotlib.pyplot as plt
    >>> from course.plotting import NetworkDiagram
    >>> fig, ax = plt.subplots()
    >>> diagram = NetworkDiagram(ax, [3, 2, 1])
    >>> diagram.set_weights(net.weights)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

__all__ = ["DecisionRegions", "line_in_box", "half_plane_polygon", "polygon_area", "IntervalShading", "mask_intervals",
           "NetworkDiagram",
           "plot_decision_regions", "POSITIVE", "NEGATIVE", "CLASS_COLORS"]

#: colours of positive and negative weights (and of the classes 1 and 0)
POSITIVE = "#d62728"
NEGATIVE = "#1f77b4"
CLASS_COLORS = (NEGATIVE, POSITIVE, "#2ca02c", "#9467bd", "#8c564b")


# ---------------------------------------------------------------- decision regions
class DecisionRegions:
    """An image of a model's output on an n x n grid over ``xlim`` x ``ylim``.

    Args:
        ax: the axes to draw on.
        xlim, ylim: the plotted box.
        n: grid points per side (100 x 100 keeps a redraw fast).
        n_classes: 2 for two classes (0 blue, 1 red); values in [0, 1] are
            shown as a blend, so a probability works too.

    Attributes:
        points: the grid points, shape (n * n, 2): evaluate the model there and
            pass the result to :meth:`update`.
        image: the ``AxesImage``.
    """

    def __init__(self, ax, xlim=(-1.0, 1.0), ylim=(-1.0, 1.0), n: int = 100, n_classes: int = 2,
                 alpha: float = 0.35):
        from matplotlib.colors import LinearSegmentedColormap, ListedColormap

        if int(n) != n or n < 2:
            raise ValueError(f"n must be a whole number >= 2 (grid points per side), got {n!r}")
        self.n = int(n)
        x1 = np.linspace(xlim[0], xlim[1], self.n)
        x2 = np.linspace(ylim[0], ylim[1], self.n)
        X1, X2 = np.meshgrid(x1, x2)
        self.points = np.column_stack([X1.ravel(), X2.ravel()])  # (n*n, 2)
        if n_classes == 2:
            cmap = LinearSegmentedColormap.from_list("course_two_class", [CLASS_COLORS[0], "#ffffff",
                                                                          CLASS_COLORS[1]])
            vmax = 1.0
        else:
            cmap = ListedColormap(list(CLASS_COLORS[:n_classes]))
            vmax = n_classes - 1
        self.image = ax.imshow(np.zeros((self.n, self.n)), origin="lower", extent=(*xlim, *ylim),
                               cmap=cmap, vmin=0.0, vmax=vmax, alpha=alpha, aspect="auto",
                               interpolation="nearest", zorder=0)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)

    def update(self, values) -> None:
        """Show ``values`` (one per grid point, shape (n*n,) or (n, n)): class labels or probabilities."""
        values = np.asarray(values, dtype=float)
        if values.size != self.n * self.n:
            raise ValueError(f"values must hold one number per grid point ({self.n * self.n}), got shape "
                             f"{values.shape}")
        self.image.set_data(values.reshape(self.n, self.n))


def line_in_box(w, b: float, xlim, ylim):
    """The segment of the line w_1 x_1 + w_2 x_2 + b = 0 inside the box, as ([x_a, x_b], [y_a, y_b]).

    Returns two empty lists when the line misses the box or w = 0 (no line).
    """
    w1, w2 = float(w[0]), float(w[1])
    pts = []
    if abs(w2) > 1e-12:
        for x in xlim:
            y = -(w1 * x + b) / w2
            if ylim[0] - 1e-12 <= y <= ylim[1] + 1e-12:
                pts.append((x, y))
    if abs(w1) > 1e-12:
        for y in ylim:
            x = -(w2 * y + b) / w1
            if xlim[0] - 1e-12 <= x <= xlim[1] + 1e-12:
                pts.append((x, y))
    unique = []
    for p in pts:
        if all(abs(p[0] - q[0]) + abs(p[1] - q[1]) > 1e-9 for q in unique):
            unique.append(p)
    if len(unique) < 2:
        return [], []
    (xa, ya), (xb, yb) = unique[0], unique[1]
    return [xa, xb], [ya, yb]


def half_plane_polygon(w, b: float, xlim, ylim, strict: bool = False) -> np.ndarray:
    """The part of the box where w_1 x_1 + w_2 x_2 + b >= 0, as polygon vertices (k, 2) (k = 0 if empty).

    With ``strict=True`` the region is z > 0 (the points on the line are left out,
    which matters only when w = 0).
    The exact decision region of a linear classifier (Sutherland-Hodgman clipping of
    the box by one half-plane).
    """
    box = [(xlim[0], ylim[0]), (xlim[1], ylim[0]), (xlim[1], ylim[1]), (xlim[0], ylim[1])]
    w1, w2 = float(w[0]), float(w[1])

    def z(p):
        return w1 * p[0] + w2 * p[1] + b

    def inside(v):
        return v > 0 if strict else v >= 0

    out = []
    for i, p in enumerate(box):
        q = box[(i + 1) % 4]
        zp, zq = z(p), z(q)
        if inside(zp):
            out.append(p)
        if inside(zp) != inside(zq) and zp != zq:
            t = zp / (zp - zq)
            out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
    return np.array(out, dtype=float).reshape(-1, 2)


def polygon_area(vertices) -> float:
    """The area of a simple polygon from its vertices (k, 2) (shoelace formula)."""
    v = np.asarray(vertices, dtype=float)
    if len(v) < 3:
        return 0.0
    x, y = v[:, 0], v[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def plot_decision_regions(ax, predict, X, y, n: int = 100, margin: float = 0.5):
    """A static plot of ``predict`` (points (M, 2) -> labels or probabilities (M,)) and the data.

    Returns the :class:`DecisionRegions`.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    xlim = (X[:, 0].min() - margin, X[:, 0].max() + margin)
    ylim = (X[:, 1].min() - margin, X[:, 1].max() + margin)
    regions = DecisionRegions(ax, xlim, ylim, n=n, n_classes=max(2, int(y.max()) + 1))
    regions.update(np.asarray(predict(regions.points), dtype=float).reshape(-1))
    for k in np.unique(y):
        ax.scatter(*X[y == k].T, s=18, color=CLASS_COLORS[int(k) % len(CLASS_COLORS)],
                   edgecolor="k", linewidth=0.5, label=f"class {int(k)}")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return regions


# ---------------------------------------------------------------- interval shading
def mask_intervals(x, mask) -> list[tuple[float, float]]:
    """The intervals [x_start, x_end] of sorted ``x`` over which ``mask`` is true (runs of True)."""
    x = np.asarray(x, dtype=float)
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return []
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    starts, ends = edges[::2], edges[1::2] - 1
    return [(float(x[s]), float(x[e])) for s, e in zip(starts, ends) if e > s]


class IntervalShading:
    """Vertical bands (full axes height) over the x-intervals where a mask is true.

    ``max_bands`` rectangles are created once; :meth:`update` moves them and hides the rest.
    """

    def __init__(self, ax, color: str, alpha: float = 0.18, max_bands: int = 4, label: str | None = None,
                 hatch: str | None = None):
        from matplotlib.patches import Rectangle

        transform = ax.get_xaxis_transform()  # x in data, y in axes coordinates
        self.bands = []
        for i in range(max_bands):
            rect = Rectangle((0, 0), 0, 1, transform=transform, facecolor=color, alpha=alpha,
                             edgecolor="none", hatch=hatch, zorder=0, label=label if i == 0 else None)
            rect.set_visible(False)
            ax.add_patch(rect)
            self.bands.append(rect)
        self.intervals: list[tuple[float, float]] = []

    def update(self, x, mask) -> list[tuple[float, float]]:
        """Shade the intervals of ``x`` where ``mask`` holds; returns them."""
        intervals = mask_intervals(x, mask)[:len(self.bands)]
        for rect, interval in zip(self.bands, intervals + [None] * len(self.bands)):
            if interval is None:
                rect.set_visible(False)
            else:
                rect.set_x(interval[0])
                rect.set_width(interval[1] - interval[0])
                rect.set_visible(True)
        self.intervals = intervals
        return intervals


# ---------------------------------------------------------------- network diagram
class NetworkDiagram:
    """A fully connected network drawn as circles (neurons) and lines (weights).

    Layer l = 0..L is a column at x = l * layer_gap; neuron j of layer l is the
    circle at (l * layer_gap, y_j), neurons one unit apart. The line from neuron k of layer l-1 to neuron j of layer l
    is the weight w_jk^(l) = ``weights[l-1][j, k]``: its width grows with |w| and its
    colour is red for w > 0 and blue for w < 0.

    Args:
        ax: the axes to draw on (its frame and ticks are turned off).
        sizes: the layer widths [n_0, n_1, ..., n_L].
        radius: the neurons' radius in data units.

    Attributes:
        neuron_texts: ``neuron_texts[l][j]``, the text inside neuron j of layer l.
        edge_texts: ``edge_texts[l-1][j, k]``, a text at the middle of the weight w_jk^(l).
        layer_texts: one text under each layer (e.g. its name or its activation).
    """

    def __init__(self, ax, sizes: Sequence[int], radius: float = 0.34, fontsize: float = 8.0,
                 max_linewidth: float = 5.0, layer_gap: float = 1.8):
        from matplotlib.collections import LineCollection
        from matplotlib.patches import Circle

        sizes = [int(n) for n in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two layer widths, all >= 1, got {sizes}")
        self.ax, self.sizes, self.radius = ax, sizes, radius
        self.max_linewidth = max_linewidth
        height = max(sizes)
        self.positions = [np.column_stack([np.full(n, l * layer_gap), (n - 1) / 2.0 - np.arange(n) * 1.0])
                          for l, n in enumerate(sizes)]  # positions[l]: (n_l, 2)
        segments, self._edge_index = [], []
        for l in range(1, len(sizes)):
            for j in range(sizes[l]):
                for k in range(sizes[l - 1]):
                    p, q = self.positions[l - 1][k], self.positions[l][j]
                    d = (q - p) / np.linalg.norm(q - p)
                    segments.append([p + d * radius, q - d * radius])
                    self._edge_index.append((l, j, k))
        self.edges = LineCollection(segments, colors="0.5", linewidths=1.0, zorder=1)
        ax.add_collection(self.edges)
        self.circles, self.neuron_texts = [], []
        for pos in self.positions:
            circles, texts = [], []
            for x, y in pos:
                c = Circle((x, y), radius, facecolor="white", edgecolor="0.2", linewidth=1.2, zorder=2)
                ax.add_patch(c)
                circles.append(c)
                texts.append(ax.text(x, y, "", ha="center", va="center", fontsize=fontsize, zorder=3))
            self.circles.append(circles)
            self.neuron_texts.append(texts)
        self.edge_texts = []
        for l in range(1, len(sizes)):
            grid = np.empty((sizes[l], sizes[l - 1]), dtype=object)
            for j in range(sizes[l]):
                for k in range(sizes[l - 1]):
                    p, q = self.positions[l - 1][k], self.positions[l][j]
                    # place the label a third of the way from the target, so labels of
                    # crossing lines do not sit on top of each other
                    m = p + (q - p) * (0.62 if sizes[l - 1] > 1 else 0.5)
                    grid[j, k] = ax.text(m[0], m[1], "", ha="center", va="center", fontsize=fontsize - 1,
                                         zorder=4, bbox=dict(boxstyle="round,pad=0.15", fc="white",
                                                             ec="none", alpha=0.85))
                    grid[j, k].set_visible(False)
            self.edge_texts.append(grid)
        bottom = -(height - 1) / 2.0 - radius - 0.12
        self.layer_texts = [ax.text(l * layer_gap, bottom, "", ha="center", va="top", fontsize=fontsize)
                            for l in range(len(sizes))]
        ax.set_xlim(-radius - 0.45, (len(sizes) - 1) * layer_gap + radius + 0.45)
        ax.set_ylim(bottom - 0.35, (height - 1) / 2.0 + radius + 0.08)
        ax.set_aspect("equal", adjustable="box", anchor="C")
        ax.set_axis_off()

    @property
    def n_layers(self) -> int:
        """L, the number of weight layers."""
        return len(self.sizes) - 1

    def set_weights(self, weights) -> None:
        """Line widths ~ |w| / max|w| and colours by sign, from ``weights[l-1]`` = W^(l) (n_l, n_(l-1))."""
        weights = [np.atleast_2d(np.asarray(W, dtype=float)) for W in weights]
        for l, W in enumerate(weights, start=1):
            if W.shape != (self.sizes[l], self.sizes[l - 1]):
                raise ValueError(f"weights[{l - 1}] (W^({l})) must have shape "
                                 f"{(self.sizes[l], self.sizes[l - 1])} for this diagram, got {W.shape}")
        values = np.array([weights[l - 1][j, k] for l, j, k in self._edge_index])
        scale = np.max(np.abs(values)) if values.size and np.max(np.abs(values)) > 0 else 1.0
        self.edges.set_linewidths(0.4 + (self.max_linewidth - 0.4) * np.abs(values) / scale)
        self.edges.set_colors([POSITIVE if v > 0 else NEGATIVE if v < 0 else "0.75" for v in values])

    def set_neuron_text(self, layer: int, texts: Sequence[str]) -> None:
        """Write ``texts[j]`` inside neuron j of ``layer``."""
        for t, s in zip(self.neuron_texts[layer], texts):
            if t.get_text() != s:
                t.set_text(s)

    def set_edge_text(self, layer: int, texts) -> None:
        """Write ``texts[j][k]`` on the weight w_jk^(layer); an empty string hides it."""
        grid = self.edge_texts[layer - 1]
        for j in range(grid.shape[0]):
            for k in range(grid.shape[1]):
                s = texts[j][k]
                t = grid[j, k]
                if t.get_text() != s:
                    t.set_text(s)
                t.set_visible(bool(s))

    def clear_edge_texts(self) -> None:
        """Hide every weight label."""
        for grid in self.edge_texts:
            for t in grid.flat:
                t.set_visible(False)

    def highlight(self, layers=(), color: str = "#fff3b0") -> None:
        """Fill the neurons of the given layers with ``color``, the others white."""
        layers = set(layers)
        for l, circles in enumerate(self.circles):
            for c in circles:
                c.set_facecolor(color if l in layers else "white")

    def all_texts(self) -> list[str]:
        """Every visible text of the diagram (neurons, weights, layers), for tests and checks."""
        texts = [t.get_text() for row in self.neuron_texts for t in row]
        texts += [t.get_text() for grid in self.edge_texts for t in grid.flat if t.get_visible()]
        texts += [t.get_text() for t in self.layer_texts]
        return [t for t in texts if t]
