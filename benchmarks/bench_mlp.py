"""One training step (forward, backward, update) of course.MLP against the same network in PyTorch eager.

course.MLP.train_step is the plain code students read (MLP.forward, MLP.backprop, the optimizer's step):
the benchmark measures exactly that path, against the targets >= 2x PyTorch eager on the small network and
>= 1x on the wide one (float64, batch 256).

Run:  .venv/bin/python benchmarks/bench_mlp.py   (--dtype float32 compares in single precision,
      --threads 1 runs both sides on one thread)

Both sides use the same dtype, the same weights, the same batch and plain gradient descent, and the same
number of threads: PyTorch's is set to the number NumPy's BLAS uses (what the machine offers unless
OMP_NUM_THREADS or OPENBLAS_NUM_THREADS is set), and both are printed. The two sides run in alternating
rounds, so that both see the same machine load; the speed-up is the median over the rounds of the ratio
of their median step times, with its range.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_info, threadpool_limits

import course

CASES = {"small 2-64-64-1": ([2, 64, 64, 1], 256), "wide 784-256-256-10": ([784, 256, 256, 10], 256)}


def _time_pair(step_a, step_b, repeats: int, rounds: int = 10, warmup: int = 20) -> list[tuple[float, float]]:
    """Per round, the median seconds per call of each step; the two alternate round by round.

    Blocks (not single calls) alternate so that both see the same machine load, with a pause
    between them: the thread pools of NumPy's BLAS and of PyTorch keep spinning for a moment
    after their last call and would otherwise slow the other library down.
    """
    for step in (step_a, step_b):
        for _ in range(warmup):
            step()
    medians = []
    for _ in range(rounds):
        pair = []
        for step in (step_a, step_b):
            time.sleep(0.3)
            samples = []
            for _ in range(max(1, repeats // rounds)):
                t0 = time.perf_counter()
                step()
                samples.append(time.perf_counter() - t0)
            pair.append(statistics.median(samples))
        medians.append(tuple(pair))
    return medians


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


def _blas_threads() -> tuple[int, str]:
    """The number of threads of NumPy's BLAS and its name."""
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas" and "numpy" in pool["filepath"]]
    if not blas:
        return torch.get_num_threads(), "unknown BLAS"
    return blas[0]["num_threads"], f"{blas[0]['internal_api']} {blas[0].get('architecture', '')}".strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    parser.add_argument("--repeats", type=int, default=300, help="calls of each step, over all rounds")
    parser.add_argument("--threads", type=int, default=None,
                        help="threads of both sides (default: as many as NumPy's BLAS uses)")
    args = parser.parse_args()
    dtype = np.dtype(args.dtype).type
    threads, blas = _blas_threads()
    threads = args.threads or threads
    torch.set_num_threads(threads)
    with threadpool_limits(threads, user_api="blas"):
        numpy_threads, _ = _blas_threads()
        print(f"one training step, {args.dtype}: numpy {np.__version__} ({blas}) with {numpy_threads} BLAS threads, "
              f"torch {torch.__version__} with {torch.get_num_threads()} threads; "
              f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        print(f"{'network':32s} {'course.MLP':>11s} {'torch eager':>12s} {'speed-up (range over rounds)':>30s}")
        for name, (sizes, batch) in CASES.items():
            rounds = bench(sizes, batch, dtype, args.repeats)
            ours = statistics.median(a for a, _ in rounds)
            theirs = statistics.median(b for _, b in rounds)
            ratios = [b / a for a, b in rounds]
            print(f"{name + f' (batch {batch})':32s} {ours * 1e6:9.1f}us {theirs * 1e6:10.1f}us "
                  f"{statistics.median(ratios):8.2f}x ({min(ratios):.2f}-{max(ratios):.2f})")
    print(f"load average afterwards {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
