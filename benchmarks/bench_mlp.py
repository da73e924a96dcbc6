"""One training step (forward, backward, update) of course.MLP against the same network in PyTorch eager.

course.MLP.train_step is the plain code students read (MLP.forward, MLP.backprop, the optimizer's step):
the benchmark measures exactly that path, against the targets >= 2x PyTorch eager on the small network and
>= 1x on the wide one (float64, batch 256).

Run:  .venv/bin/python benchmarks/bench_mlp.py   (add --dtype float32 to compare in single precision)

Both sides use the same dtype, the same weights, the same batch and plain gradient descent; PyTorch's
thread count matches NumPy's BLAS (both use what the machine offers unless OMP_NUM_THREADS is set).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch

import course

CASES = {"small 2-64-64-1": ([2, 64, 64, 1], 256), "wide 784-256-256-10": ([784, 256, 256, 10], 256)}


def _time_pair(step_a, step_b, repeats: int, rounds: int = 5, warmup: int = 20) -> tuple[float, float]:
    """Median seconds per call of each step, over alternating blocks of calls.

    Blocks (not single calls) alternate so that both see the same machine load, with a pause
    between them: the thread pools of NumPy's BLAS and of PyTorch keep spinning for a moment
    after their last call and would otherwise slow the other library down.
    """
    samples: tuple[list, list] = ([], [])
    for step in (step_a, step_b):
        for _ in range(warmup):
            step()
    for _ in range(rounds):
        for step, out in zip((step_a, step_b), samples):
            time.sleep(0.3)
            for _ in range(max(1, repeats // rounds)):
                t0 = time.perf_counter()
                step()
                out.append(time.perf_counter() - t0)
    return statistics.median(samples[0]), statistics.median(samples[1])


def bench(sizes, batch, dtype, repeats):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((batch, sizes[0])).astype(dtype)
    y = rng.standard_normal((batch, sizes[-1])).astype(dtype)
    net = course.MLP(sizes, activation="relu", seed=0, dtype=dtype)
    opt = course.optim.GradientDescent(1e-3)

    def numpy_step():
        net.train_step(X, y, opt)

    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    layers = []
    for i, (W, b) in enumerate(zip(net.weights, net.biases)):
        lin = torch.nn.Linear(W.shape[1], W.shape[0], dtype=tdtype)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.copy()))
            lin.bias.copy_(torch.from_numpy(b.copy()))
        layers += [lin] + ([torch.nn.ReLU()] if i < len(net.weights) - 1 else [])
    model = torch.nn.Sequential(*layers)
    topt = torch.optim.SGD(model.parameters(), lr=1e-3)
    tX, ty = torch.from_numpy(X), torch.from_numpy(y)

    def torch_step():
        topt.zero_grad(set_to_none=True)
        loss = 0.5 * ((model(tX) - ty) ** 2).sum() / batch
        loss.backward()
        topt.step()

    return _time_pair(numpy_step, torch_step, repeats)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--repeats", type=int, default=300)
    args = parser.parse_args()
    dtype = np.dtype(args.dtype).type
    print(f"one training step, {args.dtype}, torch {torch.__version__} with {torch.get_num_threads()} threads, "
          f"numpy {np.__version__}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'network':24s} {'course.MLP':>12s} {'torch eager':>12s} {'speed-up':>9s}")
    for name, (sizes, batch) in CASES.items():
        ours, theirs = bench(sizes, batch, dtype, args.repeats)
        print(f"{name + f' (batch {batch})':24s} {ours * 1e6:10.1f}us {theirs * 1e6:10.1f}us {theirs / ours:8.2f}x")


if __name__ == "__main__":
    main()
