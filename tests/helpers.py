"""Small helpers for the tests: PyTorch as the reference implementation."""

from __future__ import annotations

import asyncio

import numpy as np

def torch_activation(activation, t):
    """sigma(t) by the torch.nn module that course.torch.nets derives from the activation registry."""
    from course.torch.nets import activation_module

    return activation_module(activation)(t)


def torch_mlp_grads(net, X, y):
    """Output, loss and (dW, db) of ``net`` computed by torch autograd in float64."""
    import torch

    Ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in net.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in net.biases]
    a = torch.tensor(X, dtype=torch.float64)
    for W, b, act in zip(Ws, bs, net.layer_activations):
        a = torch_activation(act, a @ W.T + b)
    target = torch.tensor(np.asarray(y, dtype=float).reshape(a.shape), dtype=torch.float64)
    m = a.shape[0]
    if net.loss.name == "half_mse":
        loss = 0.5 * ((target - a) ** 2).sum() / m
    elif net.loss.name == "mse":
        loss = torch.nn.functional.mse_loss(a, target)
    elif net.loss.name == "binary_cross_entropy":
        loss = torch.nn.functional.binary_cross_entropy(a, target)
    else:
        loss = torch.nn.functional.cross_entropy(a, target)
    loss.backward()
    return (a.detach().numpy(), float(loss.detach()), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs])


def grading_sandbox() -> str:
    """The grader's ``sandbox`` option for tests: "bwrap" where bubblewrap runs here, else "off".

    A machine without bubblewrap still runs the grading tests (without isolation); with
    REQUIRE_SANDBOX=1 (as in CI) a missing sandbox is an error instead.
    """
    import os

    from course.grade.sandbox import SandboxUnavailable, check_available

    try:
        check_available()
    except SandboxUnavailable:
        if os.environ.get("REQUIRE_SANDBOX"):
            raise
        return "off"
    return "bwrap"


def chromium_path() -> str | None:
    """Debian's Chromium for the browser tests ($CHROMIUM first), or None where there is none."""
    import os
    import shutil
    from pathlib import Path

    for candidate in (os.environ.get("CHROMIUM"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def missing_browser(reason: str):
    """Skip a browser test for ``reason``; with REQUIRE_BROWSER=1 (as in CI) fail it instead."""
    import os

    import pytest

    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


def chromium_for_playwright() -> str:
    """Chromium's path for Playwright; skips the test (fails it with REQUIRE_BROWSER=1) where Chromium or
    Playwright is missing."""
    chromium = chromium_path()
    if chromium is None:
        missing_browser("Chromium is not installed (apt-get install -y chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing_browser("Playwright is not installed (pip install playwright)")
    return chromium


async def idle_turns(n: int = 20) -> None:
    """Let the event loop turn ``n`` times, as a kernel's does while it waits for the browser (a widget
    app draws one background ahead per turn)."""
    for _ in range(n):
        await asyncio.sleep(0)


def same_picture(app, other) -> bool:
    """Redraw two widget apps from their controls: are their Agg buffers the same, pixel for pixel?"""
    app.redraw_agg()
    other.redraw_agg()
    return np.array_equal(np.asarray(app.fig.canvas.buffer_rgba()), np.asarray(other.fig.canvas.buffer_rgba()))
