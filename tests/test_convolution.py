"""NumPy convolution and max pooling against torch.nn.Conv2d / MaxPool2d (the reference)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import convolution as conv

torch = pytest.importorskip("torch")


def torch_conv(x, W, b, stride, padding):
    layer = torch.nn.Conv2d(W.shape[1], W.shape[0], W.shape[2:], stride=stride, padding=padding, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W))
        layer.bias.copy_(torch.tensor(b))
        return layer(torch.tensor(x)).numpy()


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 3), c_in=st.integers(1, 3), c_out=st.integers(1, 3), h=st.integers(3, 9),
       w=st.integers(3, 9), k=st.integers(1, 3), stride=st.integers(1, 3), padding=st.integers(0, 2),
       seed=st.integers(0, 10_000))
def test_conv2d_matches_torch(n, c_in, c_out, h, w, k, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c_in, h, w))
    W = rng.standard_normal((c_out, c_in, k, k))
    b = rng.standard_normal(c_out)
    expected = torch_conv(x, W, b, stride, padding)
    np.testing.assert_allclose(conv.conv2d(x, W, b, stride, padding), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(conv.conv2d_loops(x, W, b, stride, padding), expected, rtol=1e-12, atol=1e-12)


def test_conv2d_rectangular_kernel_matches_torch(rng):
    x = rng.standard_normal((2, 2, 7, 6))
    W = rng.standard_normal((4, 2, 3, 2))
    b = rng.standard_normal(4)
    np.testing.assert_allclose(conv.conv2d(x, W, b, stride=2, padding=1), torch_conv(x, W, b, 2, 1), atol=1e-12)


def test_conv2d_hand_example():
    """A 3x3 image and a 2x2 kernel, every output pixel checkable by hand."""
    x = np.arange(1.0, 10.0).reshape(3, 3)           # [[1,2,3],[4,5,6],[7,8,9]]
    W = np.array([[1.0, 0.0], [0.0, -1.0]])          # x[i, j] - x[i+1, j+1]
    np.testing.assert_array_equal(conv.conv2d(x, W), [[-4.0, -4.0], [-4.0, -4.0]])
    W2 = np.array([[0.0, 1.0], [2.0, 0.0]])          # x[i, j+1] + 2 x[i+1, j]
    np.testing.assert_array_equal(conv.conv2d(x, W2, b=[1.0]), [[2 + 8 + 1, 3 + 10 + 1], [5 + 14 + 1, 6 + 16 + 1]])


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(2, 9), w=st.integers(2, 9), k=st.integers(1, 3),
       stride=st.one_of(st.none(), st.integers(1, 3)), padding=st.integers(0, 1), seed=st.integers(0, 10_000))
def test_max_pool_matches_torch(n, c, h, w, k, stride, padding, seed):
    if padding > k // 2 or k > min(h, w) + 2 * padding:
        return
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    expected = torch.nn.MaxPool2d(k, stride=stride, padding=padding)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(conv.max_pool2d(x, k, stride, padding), expected)


def test_max_pool_hand_example():
    x = np.array([[1, 3, 2, 1], [4, 6, 5, 0], [7, 2, 9, 8], [1, 0, 3, 4]], dtype=float)
    np.testing.assert_array_equal(conv.max_pool2d(x, 2), [[6, 5], [7, 9]])


def test_output_size_formula():
    assert conv.output_size(8, 3) == 6
    assert conv.output_size(8, 3, padding=1) == 8
    assert conv.output_size(7, 3, stride=2) == 3
    assert conv.output_size(28, 5, stride=1, padding=2) == 28


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="input channels"):
        conv.conv2d(np.zeros((1, 2, 5, 5)), np.zeros((1, 3, 3, 3)))
    with pytest.raises(ValueError, match="one bias per output channel"):
        conv.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), b=np.zeros(3))
    with pytest.raises(ValueError, match="larger than the padded input"):
        conv.conv2d(np.zeros((4, 4)), np.zeros((5, 5)))
    with pytest.raises(ValueError, match="stride"):
        conv.conv2d(np.zeros((4, 4)), np.zeros((2, 2)), stride=0)
    with pytest.raises(ValueError, match="x must be one image"):
        conv.max_pool2d(np.zeros((3, 4, 4)))
    with pytest.raises(TypeError, match="x must hold real numbers"):
        conv.conv2d(np.array([["a"]]), np.zeros((1, 1)))
