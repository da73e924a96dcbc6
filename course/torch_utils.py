r"""PyTorch helpers for the lectures: determinism, NumPy <-> torch weight copies, a training loop.

The NumPy network :class:`course.MLP` and a ``torch.nn.Sequential`` of ``Linear``
layers store the same numbers in the same layout: ``net.weights[l - 1]`` is
W^(l) of shape (n_l, n_(l-1)), exactly ``Linear.weight``, and ``net.biases[l - 1]``
is ``Linear.bias``. So

    z^(l) = W^(l) a^(l-1) + b^(l)      (NumPy: ``A @ W.T + b``, torch: ``Linear(A)``)

and the copy is a plain transfer of arrays (:func:`mlp_to_torch`, :func:`mlp_from_torch`).

:func:`fit` is the training loop of the lectures: (mini-)batches, an optional
validation set watched by early stopping (restoring the best weights), an
optional L2 penalty lambda/2 ||w||^2 on the weights only (as in the slides) and a
tqdm progress bar that disappears when training ends.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

__all__ = ["make_deterministic", "to_tensor", "Square", "activation_module", "mlp_to_torch", "mlp_from_torch",
           "half_mse_loss", "l2_penalty", "count_parameters", "TrainHistory", "fit"]


# ---------------------------------------------------------------- determinism and tensors
def make_deterministic(seed: int = 0, threads: int | None = None) -> np.random.Generator:
    """Seed everything and ask PyTorch for deterministic kernels (CPU and CUDA).

    Sets ``CUBLAS_WORKSPACE_CONFIG`` (needed by deterministic cuBLAS; it must be set
    before the first CUDA matrix product), calls
    ``torch.use_deterministic_algorithms(True, warn_only=True)`` (an operation
    without a deterministic kernel warns instead of failing), switches off the
    cuDNN autotuner and, if ``threads`` is given, limits PyTorch's CPU threads.
    Returns ``np.random.default_rng(seed)`` (see :func:`course.seed_everything`).
    """
    from course.torch_device import seed_everything

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    if threads is not None:
        if int(threads) != threads or threads < 1:
            raise ValueError(f"threads must be a positive whole number, got {threads!r}")
        torch.set_num_threads(int(threads))
    return seed_everything(seed)


def to_tensor(x, device=None, dtype=torch.float64) -> torch.Tensor:
    """``x`` (array, list or tensor) as a tensor of ``dtype`` on ``device`` (default: CPU)."""
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"x must hold real numbers, got an array of dtype {arr.dtype}")
    return torch.as_tensor(arr, dtype=dtype, device=device)


# ---------------------------------------------------------------- activations and weight copies
class Square(nn.Module):
    """sigma(z) = z^2, the activation of the slides' worked example (001, section 3.2)."""

    def forward(self, z):
        return z * z


_MODULES: dict[str, Callable[[dict], nn.Module]] = {
    "identity": lambda p: nn.Identity(),
    "sigmoid": lambda p: nn.Sigmoid(),
    "tanh": lambda p: nn.Tanh(),
    "relu": lambda p: nn.ReLU(),
    "leaky_relu": lambda p: nn.LeakyReLU(p.get("slope", 0.01)),
    "elu": lambda p: nn.ELU(p.get("alpha", 1.0)),
    "selu": lambda p: nn.SELU(),
    "gelu": lambda p: nn.GELU(),
    "softplus": lambda p: nn.Softplus(),
    "softmax": lambda p: nn.Softmax(dim=-1),
    "square": lambda p: Square(),
}


def activation_module(activation) -> nn.Module:
    """The ``torch.nn`` module computing the same function as ``course.activations.get(activation)``."""
    from course import activations

    act = activations.get(activation)
    if act.name == "swish":
        if act.params.get("beta", 1.0) != 1.0:
            raise ValueError(f"only swish with beta = 1 (torch.nn.SiLU) has a torch module, got beta = {act.params}")
        return nn.SiLU()
    if act.name not in _MODULES:
        raise ValueError(f"activation {act.name!r} has no differentiable torch module (its derivative is zero "
                         f"almost everywhere); choose one of: {', '.join(sorted(_MODULES))}, swish")
    return _MODULES[act.name](act.params)


def mlp_to_torch(net, dtype=torch.float64, device=None) -> nn.Sequential:
    """A ``nn.Sequential`` computing exactly what the NumPy ``course.MLP`` ``net`` computes.

    Each layer becomes ``Linear(n_(l-1), n_l)`` with ``weight = W^(l)`` and
    ``bias = b^(l)`` (copied, so training one does not change the other), followed
    by the layer's activation (omitted when it is the identity).
    """
    layers: list[nn.Module] = []
    for W, b, act in zip(net.weights, net.biases, net.layer_activations):
        lin = nn.Linear(W.shape[1], W.shape[0], dtype=dtype, device=device)
        with torch.no_grad():
            lin.weight.copy_(torch.as_tensor(W, dtype=dtype))
            lin.bias.copy_(torch.as_tensor(b, dtype=dtype))
        lin.bias.requires_grad_(bool(getattr(net, "train_biases", True)))
        layers.append(lin)
        if act.name != "identity":
            layers.append(activation_module(act))
    return nn.Sequential(*layers)


_NAMES = {nn.Identity: "identity", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ReLU: "relu", nn.SELU: "selu",
          nn.GELU: "gelu", nn.Softplus: "softplus", nn.SiLU: "swish", Square: "square"}


def mlp_from_torch(model: nn.Sequential, loss: str = "half_mse"):
    """The NumPy ``course.MLP`` with the weights of a ``nn.Sequential`` of Linear layers and activations."""
    from course.mlp import MLP

    if not isinstance(model, nn.Sequential):
        raise TypeError(f"model must be a torch.nn.Sequential, got {type(model).__name__}")
    weights, biases, acts = [], [], []
    for i, module in enumerate(model):
        if isinstance(module, nn.Linear):
            weights.append(module.weight.detach().cpu().double().numpy().copy())
            b = module.bias
            biases.append(np.zeros(module.out_features) if b is None else b.detach().cpu().double().numpy().copy())
            acts.append("identity")
        elif not weights:
            raise ValueError(f"model[{i}] ({type(module).__name__}) comes before the first Linear layer")
        elif acts[-1] != "identity":
            raise ValueError(f"model[{i}]: two activations in a row after Linear layer {len(weights)}")
        elif isinstance(module, nn.LeakyReLU):
            acts[-1] = ("leaky_relu", {"slope": module.negative_slope})
        elif isinstance(module, nn.ELU):
            acts[-1] = ("elu", {"alpha": module.alpha})
        elif type(module) in _NAMES:
            acts[-1] = _NAMES[type(module)]
        else:
            raise ValueError(f"model[{i}] is a {type(module).__name__}, which has no course.activations equivalent")
    from course import activations

    acts = [activations.get(a[0], **a[1]) if isinstance(a, tuple) else a for a in acts]
    net = MLP.from_weights(weights, biases, activation=acts, loss=loss)
    return net


def half_mse_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """C = 1/(2m) sum_k ||y^k - y_hat^k||^2, the slides' cost (``nn.MSELoss`` is mean((y - y_hat)^2))."""
    if y_hat.shape != y.shape:
        y = y.reshape(y_hat.shape)
    return 0.5 * ((y - y_hat) ** 2).sum() / y_hat.shape[0]


def l2_penalty(model: nn.Module, lam: float) -> torch.Tensor:
    """lambda/2 sum ||W||^2 over the weight matrices (parameters with 2 or more dimensions), not the biases."""
    total = sum((p * p).sum() for p in model.parameters() if p.ndim >= 2)
    return 0.5 * lam * total


def count_parameters(model: nn.Module) -> int:
    """The number of trained numbers in ``model``."""
    return int(sum(p.numel() for p in model.parameters() if p.requires_grad))


# ---------------------------------------------------------------- the training loop
@dataclass
class TrainHistory:
    """What :func:`fit` recorded: losses per epoch (without penalty), best epoch, run time."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def summary(self) -> str:
        """One line: epochs, final losses, best epoch."""
        text = f"{self.epochs} epochs, train loss {self.train_loss[-1]:.3g}"
        if self.val_loss:
            text += f", best validation loss {min(self.val_loss):.3g} (epoch {self.best_epoch + 1})"
        if self.stopped_early:
            text += ", stopped early"
        return text


def _batch(data, idx):
    if isinstance(data, (tuple, list)):
        return type(data)(d[idx] for d in data)
    return data[idx]


def _length(data, name):
    if isinstance(data, (tuple, list)):
        lengths = {len(d) for d in data}
        if len(lengths) != 1:
            raise ValueError(f"{name}: all tensors must hold the same number of samples, got {sorted(lengths)}")
        return lengths.pop()
    return len(data)


def _to_device(data, device):
    if isinstance(data, (tuple, list)):
        return type(data)(_to_device(d, device) for d in data)
    return data.to(device)


def fit(model: nn.Module, X, y, *, epochs: int = 500, lr: float = 1e-2, optimizer: str = "adam",
        loss: Callable | None = None, forward: Callable | None = None, batch_size: int | None = None,
        validation_data=None, patience: int | None = None, l2: float = 0.0, weight_decay: float = 0.0,
        progress: bool = True, desc: str = "training", seed: int = 0) -> TrainHistory:
    """Train ``model`` by gradient descent on ``loss(forward(model, X_batch), y_batch)``.

    Args:
        X, y: tensors (or tuples of tensors) with one sample per row; they are moved
            to the device of the model's parameters.
        epochs: the most epochs to run.
        lr, optimizer: learning rate alpha and ``"adam"``, ``"sgd"`` or ``"momentum"`` (0.9).
        loss: ``loss(prediction, target) -> scalar``; default the mean squared error.
        forward: ``forward(model, X) -> prediction``; default ``model(X)``.
        batch_size: None for full batch, otherwise mini-batches reshuffled every epoch.
        validation_data: ``(X_val, y_val)``, evaluated after every epoch.
        patience: early stopping: stop after this many epochs without a lower
            validation loss and restore the weights of the best epoch.
        l2: lambda of the penalty lambda/2 ||w||^2 on the weights (not the biases).
        weight_decay: passed to the optimizer (decays biases too; ``l2`` follows the slides).
        progress: show a tqdm progress bar (removed when training ends).
        seed: seeds the shuffling of mini-batches.

    Returns:
        :class:`TrainHistory`; the model is trained in place.
    """
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")
    if patience is not None and validation_data is None:
        raise ValueError("patience (early stopping) watches the validation loss: pass validation_data too")
    if patience is not None and (int(patience) != patience or patience < 1):
        raise ValueError(f"patience must be a positive whole number of epochs, got {patience!r}")
    if l2 < 0 or weight_decay < 0:
        raise ValueError(f"l2 and weight_decay must be >= 0, got l2={l2!r}, weight_decay={weight_decay!r}")
    loss = loss or nn.functional.mse_loss
    forward = forward or (lambda m, inputs: m(inputs))
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no trainable parameters")
    device = params[0].device
    X, y = _to_device(X, device), _to_device(y, device)
    n = _length(X, "X")
    if _length(y, "y") != n:
        raise ValueError(f"X and y must hold the same number of samples, got {n} and {_length(y, 'y')}")
    if validation_data is not None:
        X_val, y_val = _to_device(validation_data[0], device), _to_device(validation_data[1], device)
    opt_name = str(optimizer).lower()
    if opt_name == "adam":
        opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    elif opt_name in ("sgd", "gd"):
        opt = torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    elif opt_name == "momentum":
        opt = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay)
    else:
        raise ValueError(f"optimizer must be 'adam', 'sgd' or 'momentum', got {optimizer!r}")
    batch_size = n if batch_size is None else int(batch_size)
    if batch_size < 1:
        raise ValueError(f"batch_size must be None (full batch) or >= 1, got {batch_size}")
    generator = torch.Generator().manual_seed(seed)

    history = TrainHistory()
    best_state, best_val, wait = None, float("inf"), 0
    epoch_iter = range(int(epochs))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(epoch_iter, desc=desc, unit="epoch", leave=False, mininterval=0.5)
        epoch_iter = bar
    start = time.perf_counter()
    try:
        for epoch in epoch_iter:
            model.train()
            order = torch.randperm(n, generator=generator).to(device) if batch_size < n else None
            total = 0.0
            for s in range(0, n, batch_size):
                idx = order[s:s + batch_size] if order is not None else slice(None)
                Xb, yb = (_batch(X, idx), _batch(y, idx)) if order is not None else (X, y)
                opt.zero_grad(set_to_none=True)
                data_loss = loss(forward(model, Xb), yb)
                objective = data_loss + l2_penalty(model, l2) if l2 else data_loss
                objective.backward()
                opt.step()
                total += float(data_loss.detach()) * _length(Xb, "X")
            train_loss = total / n
            if not np.isfinite(train_loss):
                raise FloatingPointError(f"the training loss became {train_loss} in epoch {epoch + 1}: training "
                                         f"diverged; try a smaller lr (it is {lr:g})")
            history.train_loss.append(train_loss)
            if validation_data is not None:
                model.eval()
                with torch.no_grad():  # models that need input gradients (forces) re-enable them inside
                    val = float(loss(forward(model, X_val), y_val))
                history.val_loss.append(val)
                if val < best_val:
                    best_val, wait, history.best_epoch = val, 0, epoch
                    if patience is not None:
                        best_state = copy.deepcopy(model.state_dict())
                else:
                    wait += 1
                    if patience is not None and wait >= patience:
                        history.stopped_early = True
                        break
            if bar is not None and epoch % 20 == 0:
                bar.set_postfix(loss=f"{train_loss:.3g}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
