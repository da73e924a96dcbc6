r"""PyTorch's recorded graph: walk ``tensor.grad_fn`` and its ``next_functions`` back to the leaves.

When a tensor with ``requires_grad=True`` takes part in an operation, PyTorch
stores a *function handle* ``grad_fn`` (``MulBackward0``, ``PowBackward0``, ...)
on the result; each handle lists the handles of its inputs in
``next_functions``, and a leaf tensor is reached through an ``AccumulateGrad``
node that adds the incoming gradient to ``leaf.grad``. This is the same
computation graph the :class:`~course.autodiff.Value` engine builds; here it is
turned into a :class:`~course.autodiff.graph.Graph` and drawn with the same code.
PyTorch is imported only by the caller (this module never imports it itself).
"""

from __future__ import annotations

from course.autodiff.graph import Graph, GraphNode

__all__ = ["trace_torch", "draw_torch_graph"]


def _scalar(t):
    if t is None:
        return None
    return float(t.detach().reshape(-1)[0]) if t.numel() == 1 else None


def _grad_fn_order(root_fn) -> list:
    """The grad_fn nodes reachable from ``root_fn``, inputs first (iterative depth-first search)."""
    order, visited, stack = [], set(), [(root_fn, False)]
    while stack:
        fn, done = stack.pop()
        if done:
            order.append(fn)
            continue
        if id(fn) in visited:
            continue
        visited.add(id(fn))
        stack.append((fn, True))
        for child, _ in fn.next_functions:
            if child is not None and id(child) not in visited:
                stack.append((child, False))
    return order


def trace_torch(tensor, names: dict | None = None) -> Graph:
    """The :class:`Graph` of the operations that produced ``tensor``, read from its ``grad_fn`` chain.

    Args:
        tensor: a torch.Tensor computed from tensors with ``requires_grad=True``.
        names: optional ``{"x1": x1, "z1": z1, ...}``: leaves are labelled by name and show
            their value and ``.grad``; a named intermediate tensor labels the node that
            produced it (its ``.grad`` is known only after ``z1.retain_grad()``).

    Nodes are labelled with PyTorch's class names (``MulBackward0``); leaves are
    ``AccumulateGrad`` nodes. Values are shown for the output, for named tensors
    and for leaves holding a single number.
    """
    if not hasattr(tensor, "grad_fn"):
        raise TypeError(f"tensor must be a torch.Tensor, got {type(tensor).__name__}; "
                        "for a Value expression use course.autodiff.trace")
    if tensor.grad_fn is None:
        raise ValueError("tensor has no grad_fn, so PyTorch recorded no graph for it: create the inputs with "
                         "requires_grad=True (e.g. torch.tensor(2.0, requires_grad=True)) and compute from them")
    by_fn = {}
    leaf_names = {}
    for name, t in (names or {}).items():
        if t.grad_fn is not None:
            by_fn[id(t.grad_fn)] = (name, t)
        else:
            leaf_names[id(t)] = name
    by_fn.setdefault(id(tensor.grad_fn), ("", tensor))
    order = _grad_fn_order(tensor.grad_fn)
    index = {id(fn): k for k, fn in enumerate(order)}
    nodes = []
    for fn in order:
        op = type(fn).__name__
        if op == "AccumulateGrad":
            var = fn.variable
            nodes.append(GraphNode(op, leaf_names.get(id(var), ""), _scalar(var), _scalar(var.grad)))
        else:
            name, t = by_fn.get(id(fn), ("", None))
            grad = _scalar(t.grad) if (t is not None and t.retains_grad) else None
            nodes.append(GraphNode(op, name, _scalar(t) if t is not None else None, grad))
    edges = [(index[id(child)], j, None) for j, fn in enumerate(order)
             for child, _ in fn.next_functions if child is not None]
    return Graph(nodes, edges, list(range(len(order) - 1, -1, -1)))


def draw_torch_graph(tensor, names: dict | None = None, ax=None, **kwargs):
    """Draw the ``grad_fn`` graph of ``tensor`` with :func:`course.autodiff.draw_graph`; returns the Axes."""
    from course.autodiff.drawing import draw_graph

    kwargs.setdefault("fontsize", 7.5)
    return draw_graph(trace_torch(tensor, names), ax=ax, **kwargs)
