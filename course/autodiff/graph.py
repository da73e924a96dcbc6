r"""The computation graph as plain data: nodes (operation, value, gradient), edges input -> output, a layout by depth.

A :class:`Graph` is what the drawing code (:mod:`course.autodiff.drawing`)
understands. It can be built from a :class:`~course.autodiff.Value` expression
(:func:`trace`) or from a PyTorch tensor's ``grad_fn`` chain
(:func:`course.autodiff.torch_graph.trace_torch`), so both engines are drawn the same way.

Layout: a node that an operation produced sits in column
depth = 1 + max(depth of its inputs) (the longest path from an input); an input or
constant sits one column left of the first operation that uses it. Within a
column, nodes are ordered by the mean row of their neighbours, which keeps
edges short and mostly uncrossed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from course.autodiff.value import Value, topological_order

__all__ = ["GraphNode", "Graph", "trace"]


@dataclass
class GraphNode:
    """One node: ``op`` is the operation that produced it (``""`` for an input or constant)."""

    op: str
    label: str = ""
    value: float | None = None
    grad: float | None = None

    @property
    def is_leaf(self) -> bool:
        return self.op == "" or self.op == "AccumulateGrad"


@dataclass
class Graph:
    """A computation graph: ``nodes`` in topological order (inputs first), ``edges`` (input, output, local).

    ``edges`` holds (i, j, d) for "node i is an input of node j" with d = dj/di
    (None where unknown); an input used twice by one operation (x * x) gives two
    edges. ``backward_order`` lists the node indices in the order a backward pass
    visits them (output first).
    """

    nodes: list[GraphNode]
    edges: list[tuple[int, int, float | None]]
    backward_order: list[int] = field(default_factory=list)

    def __post_init__(self):
        n = len(self.nodes)
        for i, j, _ in self.edges:
            if not (0 <= i < n and 0 <= j < n):
                raise ValueError(f"edge ({i}, {j}) refers to a node outside 0..{n - 1}")
        if not self.backward_order:
            self.backward_order = list(range(n - 1, -1, -1))

    @property
    def root(self) -> int:
        """The index of the output node (the last in topological order)."""
        return len(self.nodes) - 1

    def inputs_of(self, j: int) -> list[int]:
        return [i for i, k, _ in self.edges if k == j]

    def depths(self) -> list[int]:
        """The column of every node (see the module docstring)."""
        n = len(self.nodes)
        ins = [[] for _ in range(n)]
        outs = [[] for _ in range(n)]
        for i, j, _ in self.edges:
            ins[j].append(i)
            outs[i].append(j)
        depth = [0] * n
        for j in range(n):  # nodes are in topological order, so inputs come first
            if ins[j]:
                depth[j] = 1 + max(depth[i] for i in ins[j])
        for i in range(n):
            if not ins[i] and outs[i]:
                depth[i] = min(depth[j] for j in outs[i]) - 1
        return depth

    def layout(self) -> list[tuple[float, float]]:
        """(column, row) coordinates of every node: columns by depth, rows ordered to keep edges short."""
        depth = self.depths()
        n_cols = max(depth) + 1 if depth else 0
        columns: list[list[int]] = [[] for _ in range(n_cols)]
        for i, d in enumerate(depth):
            columns[d].append(i)
        neighbours = [[] for _ in self.nodes]
        for i, j, _ in self.edges:
            neighbours[i].append(j)
            neighbours[j].append(i)
        row = {}
        for col in columns:
            for r, i in enumerate(col):
                row[i] = r - (len(col) - 1) / 2
        for _ in range(4):  # barycentre sweeps: order each column by the mean row of its neighbours
            for col in columns:
                col.sort(key=lambda i: (sum(row[k] for k in neighbours[i]) / len(neighbours[i])
                                        if neighbours[i] else row[i]))
                for r, i in enumerate(col):
                    row[i] = r - (len(col) - 1) / 2
        return [(float(depth[i]), float(row[i])) for i in range(len(self.nodes))]


def trace(root: Value) -> Graph:
    """The :class:`Graph` of a :class:`Value` expression, with values, gradients and local derivatives."""
    if not isinstance(root, Value):
        raise TypeError(f"trace expects a Value (the output of an expression), got {type(root).__name__}; "
                        "for a PyTorch tensor use course.autodiff.trace_torch")
    order = topological_order(root)
    index = {id(v): k for k, v in enumerate(order)}
    nodes = [GraphNode(v.op, v.label, v.data, v.grad) for v in order]
    edges = []
    for j, v in enumerate(order):
        if v.parents:
            try:
                local = v.local_derivatives()
            except ZeroDivisionError:  # an infinite derivative, e.g. of sqrt at 0
                local = [float("inf")] * len(v.parents)
            for parent, d in zip(v.parents, local):
                edges.append((index[id(parent)], j, float(d)))
    return Graph(nodes, edges, list(range(len(order) - 1, -1, -1)))
