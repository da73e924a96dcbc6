r"""Convolution and max pooling in NumPy, with the conventions of ``torch.nn.Conv2d`` and ``MaxPool2d``.

A convolutional layer slides a small kernel W (the filter) over the image and
takes, at every position, the sum of the element-wise products (slides 003):

    y[n, o, i, j] = b[o] + sum_{c, p, q} W[o, c, p, q] x[n, c, i s + p, j s + q]

(deep-learning libraries call this cross-correlation "convolution": the kernel is
not flipped). Max pooling keeps the largest value of each window:

    y[n, c, i, j] = max_{p, q < k} x[n, c, i s + p, j s + q].

The output side length of both is floor((n + 2 padding - k) / s) + 1.

Shapes: images x (N, C_in, H, W) (a single image (H, W) is accepted), kernels
W (C_out, C_in, kH, kW), biases b (C_out,).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course._checks import as_float_array

__all__ = ["output_size", "conv2d", "conv2d_loops", "max_pool2d"]


def _whole(value, name, minimum):
    if int(value) != value or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}")
    return int(value)


def output_size(n: int, k: int, stride: int = 1, padding: int = 0) -> int:
    """floor((n + 2 padding - k) / stride) + 1: the output side length for input side n and kernel side k."""
    n, k = _whole(n, "n", 1), _whole(k, "k", 1)
    stride, padding = _whole(stride, "stride", 1), _whole(padding, "padding", 0)
    if k > n + 2 * padding:
        raise ValueError(f"the kernel ({k}) is larger than the padded input ({n} + 2*{padding} = {n + 2 * padding})")
    return (n + 2 * padding - k) // stride + 1


def _images(x) -> tuple[np.ndarray, bool]:
    x = as_float_array(x, "x", ndim=(2, 3, 4))
    if x.ndim == 2:
        return x[None, None], True
    if x.ndim == 3:
        raise ValueError(f"x must be one image (H, W) or a batch (N, C, H, W), got shape {x.shape}; "
                         f"for one multi-channel image use x[None]")
    return x, False


def _pad(x, padding):
    if padding == 0:
        return x
    return np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))


def _kernels(W, b, C_in):
    W = as_float_array(W, "W", ndim=(2, 4))
    if W.ndim == 2:
        W = W[None, None]
    if W.shape[1] != C_in:
        raise ValueError(f"W has shape {W.shape}, so it expects {W.shape[1]} input channels, but x has {C_in}")
    if b is None:
        b = np.zeros(W.shape[0])
    b = np.atleast_1d(as_float_array(b, "b"))
    if b.shape != (W.shape[0],):
        raise ValueError(f"b must hold one bias per output channel, shape ({W.shape[0]},), got {b.shape}")
    return W, b


def conv2d(x, W, b=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """y[n, o, i, j] = b[o] + sum_{c,p,q} W[o, c, p, q] x[n, c, i s + p, j s + q] (as torch.nn.Conv2d).

    Vectorised: every kH x kW window is viewed without copying
    (``sliding_window_view``) and contracted with the kernels in one ``einsum``.
    Shape: x (N, C_in, H, W), W (C_out, C_in, kH, kW) -> (N, C_out, H_out, W_out);
    a single image (H, W) with a single kernel (kH, kW) gives (H_out, W_out).
    """
    x, single = _images(x)
    W, b = _kernels(W, b, x.shape[1])
    stride, padding = _whole(stride, "stride", 1), _whole(padding, "padding", 0)
    kH, kW = W.shape[2:]
    H_out, W_out = output_size(x.shape[2], kH, stride, padding), output_size(x.shape[3], kW, stride, padding)
    windows = sliding_window_view(_pad(x, padding), (kH, kW), axis=(2, 3))  # (N, C, H', W', kH, kW)
    windows = windows[:, :, ::stride, ::stride][:, :, :H_out, :W_out]
    y = np.einsum("ncijpq,ocpq->noij", windows, W, optimize=True) + b[None, :, None, None]
    return y[0, 0] if single and y.shape[1] == 1 else y


def conv2d_loops(x, W, b=None, stride: int = 1, padding: int = 0) -> np.ndarray:
    """The same as :func:`conv2d`, written as explicit loops over the output pixels (slow, for reading)."""
    x, single = _images(x)
    W, b = _kernels(W, b, x.shape[1])
    stride, padding = _whole(stride, "stride", 1), _whole(padding, "padding", 0)
    kH, kW = W.shape[2:]
    H_out, W_out = output_size(x.shape[2], kH, stride, padding), output_size(x.shape[3], kW, stride, padding)
    xp = _pad(x, padding)
    y = np.empty((x.shape[0], W.shape[0], H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            patch = xp[:, :, i * stride:i * stride + kH, j * stride:j * stride + kW]  # (N, C_in, kH, kW)
            y[:, :, i, j] = np.tensordot(patch, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return y[0, 0] if single and y.shape[1] == 1 else y


def max_pool2d(x, kernel_size: int = 2, stride: int | None = None, padding: int = 0) -> np.ndarray:
    """y[n, c, i, j] = max_{p,q < k} x[n, c, i s + p, j s + q] (as torch.nn.MaxPool2d; stride defaults to k).

    Padding adds -infinity, so it is never the maximum. Shape: (N, C, H, W) ->
    (N, C, H_out, W_out); a single image (H, W) gives (H_out, W_out).
    """
    x, single = _images(x)
    k = _whole(kernel_size, "kernel_size", 1)
    stride = k if stride is None else _whole(stride, "stride", 1)
    padding = _whole(padding, "padding", 0)
    if padding > k // 2:
        raise ValueError(f"padding must be at most half the kernel size ({k // 2}), got {padding}")
    H_out, W_out = output_size(x.shape[2], k, stride, padding), output_size(x.shape[3], k, stride, padding)
    xp = x if padding == 0 else np.pad(x, ((0, 0), (0, 0), (padding,) * 2, (padding,) * 2), constant_values=-np.inf)
    windows = sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::stride, ::stride][:, :, :H_out, :W_out]
    y = windows.max(axis=(-2, -1))
    return y[0, 0] if single else y
