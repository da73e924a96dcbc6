r"""Automatic differentiation, built to be read: dC/dx = sum over paths of the products of local derivatives.

Slides 001, sections 3.3-3.4.3. Every computation splits into elementary
operations on a graph; each operation knows its local derivative; the chain
rule combines them, summing over every path:

* :class:`Value` - reverse mode (backpropagation): one backward pass gives the
  derivative of one output with respect to ALL inputs.
* :class:`Dual` - forward mode (dual numbers a + a' eps): one pass gives the
  derivative of ALL outputs with respect to ONE input direction.
* :func:`jacobian` - both modes on f: R^n -> R^m, counting the passes (n vs m).
* :func:`draw_graph`, :func:`trace` - the computation graph drawn with matplotlib.
* :func:`trace_torch`, :func:`draw_torch_graph` - PyTorch's ``grad_fn`` graph, drawn the same way.
* :mod:`~course.autodiff.nn` - ``Neuron``, ``Layer``, ``MLP`` made of Values.
* :mod:`~course.autodiff.numerical` - symbolic vs finite differences vs AD.
* :mod:`~course.autodiff.elementary` - ``exp, log, tanh, sigmoid, relu`` for floats,
  Values, Duals, torch tensors and SymPy symbols alike.

    >>> from course.autodiff import Value
    >>> x1, x2 = Value(2.0), Value(3.0)
    >>> y = ((x1 * x2) * x1) ** 2
    >>> y.backward(); x1.grad, x2.grad
    (288.0, 96.0)

Importing this package loads neither matplotlib, torch nor SymPy; they are
imported inside the functions that draw or compare.
"""

from course.autodiff.drawing import draw_graph
from course.autodiff.dual import Dual, derivative, directional_derivative, gradient_forward
from course.autodiff.elementary import exp, log, relu, sigmoid, tanh
from course.autodiff.graph import Graph, GraphNode, trace
from course.autodiff.modes import JacobianResult, jacobian
from course.autodiff.nn import MLP, Layer, Neuron
from course.autodiff.torch_graph import draw_torch_graph, trace_torch
from course.autodiff.value import Value, gradient, topological_order, zero_grad

__all__ = ["Value", "Dual", "gradient", "gradient_forward", "derivative", "directional_derivative",
           "jacobian", "JacobianResult", "topological_order", "zero_grad", "trace", "Graph", "GraphNode",
           "draw_graph", "trace_torch", "draw_torch_graph", "Neuron", "Layer", "MLP",
           "exp", "log", "tanh", "sigmoid", "relu"]
