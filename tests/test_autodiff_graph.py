"""The computation graph: tracing a Value expression or a torch tensor's grad_fn chain, layout and drawing."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from course.autodiff import Graph, GraphNode, Value, draw_graph, draw_torch_graph, trace, trace_torch  # noqa: E402

torch = pytest.importorskip("torch")


def slide_graph():
    x1, x2 = Value(2.0, label="x1"), Value(3.0, label="x2")
    z1 = x1 * x2
    z1.label = "z1"
    z2 = z1 * x1
    z2.label = "z2"
    y = z2 ** 2
    y.label = "y"
    y.backward()
    return y


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_trace_of_the_slide_example_has_the_direct_edge_x1_to_z2():
    g = trace(slide_graph())
    labels = [n.label for n in g.nodes]
    assert sorted(labels) == ["x1", "x2", "y", "z1", "z2"]
    assert labels[-1] == "y"
    edges = {(labels[i], labels[j]): d for i, j, d in g.edges}
    assert edges == {("x1", "z1"): 3.0, ("x2", "z1"): 2.0,    # dz1/dx1 = x2, dz1/dx2 = x1
                     ("z1", "z2"): 2.0, ("x1", "z2"): 6.0,    # dz2/dz1 = x1, dz2/dx1 = z1 (the slide misses this one)
                     ("z2", "y"): 24.0}                       # dy/dz2 = 2 z2
    grads = {n.label: n.grad for n in g.nodes}
    assert grads == {"x1": 288.0, "x2": 96.0, "z1": 48.0, "z2": 24.0, "y": 1.0}
    depth = dict(zip(labels, g.depths()))
    assert depth == {"x1": 0, "x2": 0, "z1": 1, "z2": 2, "y": 3}


def test_gradient_of_a_node_is_the_sum_over_its_outgoing_edges():
    """The general rule of section 3.4.3, checked on the traced graph: grad(c) = sum_e grad(e) * de/dc."""
    g = trace(slide_graph())
    for i, node in enumerate(g.nodes):
        outgoing = [(j, d) for k, j, d in g.edges if k == i]
        if outgoing:
            assert node.grad == pytest.approx(sum(g.nodes[j].grad * d for j, d in outgoing))


def test_backward_order_visits_every_output_before_its_inputs():
    x = Value(0.5, label="x")
    y = (x * x).tanh() + x.exp() * (x - 1.0)
    g = trace(y)
    pos = {node: k for k, node in enumerate(g.backward_order)}
    assert g.backward_order[0] == g.root and sorted(g.backward_order) == list(range(len(g.nodes)))
    for i, j, _ in g.edges:
        assert pos[j] < pos[i]


def test_repeated_input_gives_two_edges():
    x = Value(3.0, label="x")
    g = trace(x * x)
    assert [(i, j) for i, j, _ in g.edges] == [(0, 1), (0, 1)]


def test_constants_sit_left_of_their_first_use():
    x = Value(1.0, label="x")
    y = ((x.exp() + x).tanh() * 2.0)
    g = trace(y)
    depth = g.depths()
    const = next(k for k, n in enumerate(g.nodes) if n.op == "" and n.label == "")
    assert depth[const] == depth[g.root] - 1
    rows = [r for _, r in g.layout()]
    cols = [c for c, _ in g.layout()]
    assert len(set(zip(cols, rows))) == len(g.nodes)   # no two boxes on the same spot


def test_graph_rejects_edges_to_missing_nodes():
    with pytest.raises(ValueError, match="edge \\(0, 5\\)"):
        Graph([GraphNode("")], [(0, 5, None)])


def test_draw_graph_draws_one_box_per_node_and_one_arrow_per_edge():
    y = slide_graph()
    ax = draw_graph(y, backward_order=True, show_local=True)
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert len(boxes) == 5 and len(arrows) == 5
    texts = [t.get_text() for t in ax.texts]
    assert "x1\ndata 2\ngrad 288" in texts
    assert "z2  ×\ndata 12\ngrad 24" in texts
    assert "y  **2\ndata 144\ngrad 1" in texts
    g = trace(y)
    labels = [n.label for n in g.nodes]
    steps = {labels[int(t.get_gid()[4:])]: t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("step")}
    assert steps == {"y": "1", "z2": "2", "z1": "3", "x2": "4", "x1": "5"}   # the backward pass, output first
    local = sorted(t.get_text() for t in ax.texts if (t.get_gid() or "").startswith("local"))
    assert local == ["2", "2", "24", "3", "6"]        # the local derivatives on the five edges
    by_label = {b.get_gid(): b for b in boxes}
    root_box = by_label[f"node{g.root}"]
    assert root_box.get_x() == max(b.get_x() for b in boxes)   # the output is the right-most column


def test_draw_graph_into_given_axes_and_rejects_other_objects():
    fig, ax = plt.subplots()
    assert draw_graph(slide_graph(), ax=ax, show_grad=False) is ax
    assert not any("grad" in t.get_text() for t in ax.texts)
    with pytest.raises(TypeError, match="graph must be a Graph or a Value"):
        draw_graph(3.0)


def test_torch_graph_of_the_slide_example_matches_the_value_graph():
    x1 = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    x2 = torch.tensor(3.0, dtype=torch.float64, requires_grad=True)
    z1 = x1 * x2
    z2 = z1 * x1
    y = z2 ** 2
    z1.retain_grad()
    y.backward()
    g = trace_torch(y, names={"x1": x1, "x2": x2, "z1": z1, "z2": z2})
    ops = [n.op for n in g.nodes]
    assert sorted(ops) == ["AccumulateGrad", "AccumulateGrad", "MulBackward0", "MulBackward0", "PowBackward0"]
    assert ops[-1] == "PowBackward0"
    labels = [n.label for n in g.nodes]
    edges = {(labels[i], labels[j]) for i, j, _ in g.edges}
    assert edges == {("x1", "z1"), ("x2", "z1"), ("z1", "z2"), ("x1", "z2"), ("z2", "")}
    leaf = {n.label: (n.value, n.grad) for n in g.nodes if n.op == "AccumulateGrad"}
    assert leaf == {"x1": (2.0, 288.0), "x2": (3.0, 96.0)}
    assert g.nodes[labels.index("z1")].grad == 48.0          # retained
    assert g.nodes[labels.index("z2")].grad is None          # not retained
    assert dict(zip(labels, g.depths())) == {"x1": 0, "x2": 0, "z1": 1, "z2": 2, "": 3}   # as for Value


def test_torch_graph_walks_a_deep_chain_without_recursion():
    x = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    y = x
    for _ in range(5000):
        y = torch.tanh(y * 1.01)
    g = trace_torch(y)
    assert len(g.nodes) == 2 * 5000 + 1
    assert max(g.depths()) == 2 * 5000


def test_draw_torch_graph_draws_it():
    a = torch.tensor(1.5, requires_grad=True)
    y = torch.exp(a) * a
    ax = draw_torch_graph(y, names={"a": a})
    texts = [t.get_text() for t in ax.texts]
    assert any(t.startswith("MulBackward0") for t in texts)
    assert any(t.startswith("ExpBackward0") for t in texts)
    assert sum(isinstance(p, FancyBboxPatch) for p in ax.patches) == 3


def test_trace_torch_explains_missing_grad_fn():
    with pytest.raises(ValueError, match="requires_grad=True"):
        trace_torch(torch.tensor(1.0) * 2)
    with pytest.raises(TypeError, match="must be a torch.Tensor"):
        trace_torch(Value(1.0))
    with pytest.raises(TypeError, match="trace_torch"):
        trace(torch.tensor(1.0))
