"""Speed of the NumPy convolution and pooling (course.convolution) side by side with PyTorch, same inputs.

Run: python benchmarks/bench_convolution.py   (prints a table; nothing is asserted)
"""

import time

import numpy as np
import torch

from course import convolution as conv


def best_of(f, repeat=5):
    f()
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main():
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"{'case':38s} {'numpy einsum':>13s} {'numpy loops':>12s} {'torch':>10s}")
    for n, c_in, c_out, size, k in [(64, 1, 16, 8, 3), (64, 16, 32, 8, 3), (16, 3, 16, 32, 5)]:
        x = rng.standard_normal((n, c_in, size, size))
        W = rng.standard_normal((c_out, c_in, k, k))
        b = rng.standard_normal(c_out)
        xt, Wt, bt = torch.from_numpy(x), torch.from_numpy(W), torch.from_numpy(b)
        pad = k // 2
        t_np = best_of(lambda x=x, W=W, b=b, pad=pad: conv.conv2d(x, W, b, padding=pad))
        t_loop = best_of(lambda x=x, W=W, b=b, pad=pad: conv.conv2d_loops(x, W, b, padding=pad), repeat=2)
        t_t = best_of(lambda xt=xt, Wt=Wt, bt=bt, pad=pad: torch.nn.functional.conv2d(xt, Wt, bt, padding=pad))
        print(f"conv2d N={n} C={c_in}->{c_out} {size}x{size} k={k}".ljust(38)
              + f" {t_np * 1e3:10.2f} ms {t_loop * 1e3:9.2f} ms {t_t * 1e3:7.2f} ms")
    x = rng.standard_normal((64, 16, 8, 8))
    t_np = best_of(lambda: conv.max_pool2d(x, 2))
    t_t = best_of(lambda: torch.nn.functional.max_pool2d(torch.from_numpy(x), 2))
    print(f"{'max_pool2d N=64 C=16 8x8 k=2':38s} {t_np * 1e3:10.2f} ms {'':>12s} {t_t * 1e3:7.2f} ms")


if __name__ == "__main__":
    main()
