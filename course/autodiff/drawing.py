r"""Draw a computation graph with matplotlib: one box per node (operation, value, gradient), arrows input -> output.

Columns are depths (inputs left, the output right, see :meth:`Graph.layout`).
With ``backward_order=True`` every box gets its step number in the backward pass
and a colour from light (first visited, the output) to dark (last), which shows
that reverse mode walks the graph from the output back to the inputs.
No Graphviz or other system package is needed.
"""

from __future__ import annotations

from course.autodiff.graph import Graph, trace
from course.autodiff.value import Value

__all__ = ["draw_graph", "node_text"]

_BOX_W, _BOX_H = 1.5, 0.78      # box size in data units (a column is 2.3 wide, a row 1.15 high)
_COL, _ROW = 2.3, 1.15

_OP_NAMES = {"+": "+", "-": "−", "*": "×", "/": "÷", "neg": "−x"}


def _edge_bend(dx: float, drop: float, dup: int) -> float:
    """arc3 curvature of an edge: straight between neighbouring columns, bent around the boxes in
    between when it skips columns (upwards when it goes down or level), fanned out for repeated edges."""
    if dup:
        return 0.25 * dup
    if dx > _COL * 1.01:
        return -0.3 if drop >= 0 else 0.3
    return 0.0


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    return f"{x:.4g}"


def node_text(node, show_value: bool = True, show_grad: bool = True) -> str:
    """The text in a node's box: 'label  op' (or 'input'/'const'), then 'data ...' and 'grad ...'."""
    if node.op == "":
        head = node.label if node.label else "const"
    elif node.op == "AccumulateGrad":
        head = f"{node.label}  (leaf)" if node.label else "leaf"
    else:
        op = _OP_NAMES.get(node.op, node.op)
        head = f"{node.label}  {op}" if node.label else op
    lines = [head]
    if show_value and node.value is not None:
        lines.append(f"data {_fmt(node.value)}")
    if show_grad and node.grad is not None:
        lines.append(f"grad {_fmt(node.grad)}")
    return "\n".join(lines)


def draw_graph(graph, ax=None, show_value: bool = True, show_grad: bool = True,
               backward_order: bool = False, show_local: bool = False, title: str | None = None,
               fontsize: float = 8.5):
    """Draw ``graph`` (a :class:`Graph`, or a :class:`Value` to trace) and return the matplotlib Axes.

    Args:
        graph: a Graph, or the output Value of an expression.
        ax: the Axes to draw into; a new figure sized to the graph when None.
        show_value, show_grad: print each node's data / grad in its box.
        backward_order: number and colour the nodes in the order of the backward pass.
        show_local: write the local derivative d(output)/d(input) on every edge.
        title: the Axes title.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if isinstance(graph, Value):
        graph = trace(graph)
    if not isinstance(graph, Graph):
        raise TypeError(f"graph must be a Graph or a Value, got {type(graph).__name__}; "
                        "for a PyTorch tensor use course.autodiff.draw_torch_graph")
    pos = [(c * _COL, -r * _ROW) for c, r in graph.layout()]
    if ax is None:
        n_cols = 1 + max((c for c, _ in graph.layout()), default=0)
        rows = [r for _, r in graph.layout()]
        height = (max(rows) - min(rows) + 1) if rows else 1
        _, ax = plt.subplots(figsize=(min(1.25 + 1.6 * n_cols, 16), min(0.6 + 0.85 * height, 12)))
    step = {node: k for k, node in enumerate(graph.backward_order)}
    cmap = plt.get_cmap("YlOrRd")
    n = max(len(graph.nodes) - 1, 1)
    for k, node in enumerate(graph.nodes):
        x, y = pos[k]
        if backward_order:
            face = cmap(0.08 + 0.5 * step[k] / n)
        else:
            face = "#e8f1fb" if node.is_leaf else "#fdf3e1"
        edge = "#d62728" if k == graph.root else "#333333"
        box = FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                             boxstyle="round,pad=0.02,rounding_size=0.12", fc=face, ec=edge, lw=1.2, zorder=2)
        box.set_gid(f"node{k}")
        ax.add_patch(box)
        ax.text(x, y, node_text(node, show_value, show_grad), ha="center", va="center",
                fontsize=fontsize, zorder=3, family="DejaVu Sans")
        if backward_order:
            ax.text(x + _BOX_W / 2, y + _BOX_H / 2, str(step[k] + 1), ha="center", va="center",
                    fontsize=fontsize - 1, color="white", zorder=4, fontweight="bold",
                    bbox=dict(boxstyle="circle,pad=0.2", fc="#444444", ec="none"), gid=f"step{k}")
    seen: dict[tuple[int, int], int] = {}
    for i, j, local in graph.edges:
        dup = seen.get((i, j), 0)
        seen[(i, j)] = dup + 1
        (x0, y0), (x1, y1) = pos[i], pos[j]
        start = (x0 + _BOX_W / 2, y0 + 0.12 * dup)
        end = (x1 - _BOX_W / 2, y1 + 0.12 * dup)
        rad = _edge_bend(x1 - x0, y0 - y1, dup)
        arrow = FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=11, lw=1.0, color="#555555",
                                connectionstyle=f"arc3,rad={rad}", zorder=1)
        ax.add_patch(arrow)
        if show_local and local is not None:
            # the middle of matplotlib's arc3 curve: midpoint + rad/2 * (dy, -dx)
            dx, dy = end[0] - start[0], end[1] - start[1]
            mx = (start[0] + end[0]) / 2 + rad / 2 * dy
            my = (start[1] + end[1]) / 2 - rad / 2 * dx
            ax.text(mx, my + 0.04, _fmt(local), ha="center", va="bottom", fontsize=fontsize - 1.5,
                    color="#1f5fa8", zorder=3, gid=f"local{i}-{j}")
    xs = [p[0] for p in pos] or [0.0]
    ys = [p[1] for p in pos] or [0.0]
    ax.set_xlim(min(xs) - _BOX_W / 2 - 0.2, max(xs) + _BOX_W / 2 + 0.3)
    ax.set_ylim(min(ys) - _BOX_H / 2 - 0.2, max(ys) + _BOX_H / 2 + 0.3)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=fontsize + 2)
    return ax
