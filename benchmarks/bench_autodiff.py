"""The scalar autodiff engine (course.autodiff.Value) against PyTorch on the same scalar graphs.

Run:  .venv/bin/python benchmarks/bench_autodiff.py [--n 100000] [--repeats 5]

Cases (median of ``--repeats`` runs, build = forward pass that records the graph):
* a chain of n scalar operations (alternating y*1.00001 and y+0.001), built and back-propagated:
  the issue asks for the backward pass of 100,000 operations in well under a second;
* the gradient of a 2-16-16-1 tanh network's cost on 32 samples: Value-MLP (one node per
  multiplication), PyTorch on 0-d tensors (the same scalar graph) and PyTorch / course.MLP on
  matrices (how it is really done).
PyTorch runs on one thread; scalar graphs are dominated by per-operation Python overhead.
Times are CPU times of the process (robust on a shared machine); ``--wall`` switches to wall-clock time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import course  # noqa: E402
from course.autodiff import MLP as ValueMLP  # noqa: E402
from course.autodiff import Value  # noqa: E402

torch.set_num_threads(1)

# CPU time of this process: on a shared machine it is far less noisy than wall-clock time, and with
# one thread (no GPU) it is what the computation costs. Pass --wall to use wall-clock time instead.
_clock = time.process_time


def _median(fn, repeats):
    samples = []
    for _ in range(repeats):
        samples.append(fn())
    return {k: statistics.median(s[k] for s in samples) for k in samples[0]}


def _chain(x, n):
    """Build y = a chain of n alternating + and * from the leaf x, back-propagate; return the times and dy/dx."""
    t0 = _clock()
    y = x
    for i in range(n):
        y = y * 1.00001 if i % 2 else y + 0.001
    t1 = _clock()
    y.backward()
    t2 = _clock()
    grad = float(x.grad)
    assert abs(grad - 1.00001 ** (n // 2)) < 1e-9 * grad
    return {"build": t1 - t0, "backward": t2 - t1}


def chain_value(n):
    return _chain(Value(0.5), n)


def chain_torch(n):
    return _chain(torch.tensor(0.5, dtype=torch.float64, requires_grad=True), n)


def mlp_cases(repeats):
    rng = np.random.default_rng(0)
    sizes, m = [2, 16, 16, 1], 32
    X, Y = rng.standard_normal((m, 2)), rng.standard_normal((m, 1))
    net = course.MLP(sizes, activation="tanh", seed=0)
    model = ValueMLP.from_course(net)

    def value_mlp():
        t0 = _clock()
        C = model.cost(X, Y)
        t1 = _clock()
        model.zero_grad()
        C.backward()
        return {"build": t1 - t0, "backward": _clock() - t1}

    def torch_scalar():
        Ws = [[[torch.tensor(float(w), dtype=torch.float64, requires_grad=True) for w in row] for row in W]
              for W in net.weights]
        bs = [[torch.tensor(float(b), dtype=torch.float64, requires_grad=True) for b in bb] for bb in net.biases]
        t0 = _clock()
        C = 0.0
        for x, y in zip(X, Y):
            a = [float(v) for v in x]
            for l, (W, b) in enumerate(zip(Ws, bs)):
                z = [sum((w * ak for w, ak in zip(row, a)), bj) for row, bj in zip(W, b)]
                a = [torch.tanh(zj) for zj in z] if l < len(Ws) - 1 else z
            C = C + (float(y[0]) - a[0]) ** 2
        C = C / (2 * m)
        t1 = _clock()
        C.backward()
        return {"build": t1 - t0, "backward": _clock() - t1}

    def torch_matrix():
        Ws = [torch.tensor(W, requires_grad=True) for W in net.weights]
        bs = [torch.tensor(b, requires_grad=True) for b in net.biases]
        Xt, Yt = torch.tensor(X), torch.tensor(Y)
        t0 = _clock()
        a = Xt
        for l, (W, b) in enumerate(zip(Ws, bs)):
            a = a @ W.T + b
            a = torch.tanh(a) if l < len(Ws) - 1 else a
        C = 0.5 * ((Yt - a) ** 2).sum() / m
        t1 = _clock()
        C.backward()
        return {"build": t1 - t0, "backward": _clock() - t1}

    def numpy_mlp():
        t0 = _clock()
        net.forward(X)
        t1 = _clock()
        net.backward(Y)
        return {"build": t1 - t0, "backward": _clock() - t1}

    model.cost(X, Y).backward()
    net.forward(X)
    dW, _ = net.backward(Y)
    assert np.allclose(model.gradients()[0][0], dW[0])
    nodes = len(model.cost(X, Y).backward())
    return nodes, {"Value-MLP (scalar graph)": _median(value_mlp, repeats),
                   "PyTorch, 0-d tensors (scalar graph)": _median(torch_scalar, max(1, repeats // 2)),
                   "PyTorch, matrices": _median(torch_matrix, repeats),
                   "course.MLP (NumPy formulas)": _median(numpy_mlp, repeats)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000, help="operations in the chain")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--wall", action="store_true", help="measure wall-clock instead of CPU time")
    args = parser.parse_args()
    global _clock
    if args.wall:
        _clock = time.perf_counter
    clock = "wall-clock" if args.wall else "CPU"
    print(f"chain of {args.n:,} scalar operations ({clock} time, median of {args.repeats})")
    print(f"{'engine':38s} {'build [s]':>10s} {'backward [s]':>13s}")
    for name, fn in (("course.autodiff.Value", chain_value), ("PyTorch, 0-d float64 tensors", chain_torch)):
        r = _median(lambda fn=fn: fn(args.n), args.repeats)
        print(f"{name:38s} {r['build']:10.3f} {r['backward']:13.3f}")
    nodes, results = mlp_cases(args.repeats)
    print(f"\ngradient of a 2-16-16-1 tanh network's cost on 32 samples ({nodes:,} Value nodes)")
    print(f"{'engine':38s} {'forward [ms]':>12s} {'backward [ms]':>14s}")
    for name, r in results.items():
        print(f"{name:38s} {1e3 * r['build']:12.2f} {1e3 * r['backward']:14.2f}")


if __name__ == "__main__":
    main()
