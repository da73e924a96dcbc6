r"""The PyTorch training loop of the lectures, with the NumPy core's early stopping and history.

:func:`fit` trains any ``torch.nn.Module``: (mini-)batches, an optional validation
set watched by :class:`course.regularization.EarlyStopping` (the same object the
NumPy :meth:`course.MLP.fit` uses; it restores the best weights), an optional L2
penalty lambda/2 ||w||^2 on the weights only (as in the slides) and a tqdm
progress bar that disappears when training ends. It returns a :class:`course.history.History`.
"""

from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
from torch import nn

from course.history import History
from course.regularization import EarlyStopping

__all__ = ["to_tensor", "half_mse_loss", "l2_penalty", "fit"]


def to_tensor(x, device=None, dtype=torch.float64) -> torch.Tensor:
    """``x`` (array, list or tensor) as a tensor of ``dtype`` on ``device`` (default: CPU)."""
    if isinstance(x, torch.Tensor):
        return x.to(device=device, dtype=dtype)
    arr = np.asarray(x)
    if arr.dtype == object or arr.dtype.kind not in "biuf":
        raise TypeError(f"x must hold real numbers, got an array of dtype {arr.dtype}")
    return torch.as_tensor(arr, dtype=dtype, device=device)


def half_mse_loss(y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """C = 1/(2m) sum_k ||y^k - y_hat^k||^2, the slides' cost (``nn.MSELoss`` is mean((y - y_hat)^2))."""
    if y_hat.shape != y.shape:
        y = y.reshape(y_hat.shape)
    return 0.5 * ((y - y_hat) ** 2).sum() / y_hat.shape[0]


def l2_penalty(model: nn.Module, lam: float) -> torch.Tensor:
    """lambda/2 sum ||W||^2 over the weight matrices (parameters with 2 or more dimensions), not the biases."""
    total = sum((p * p).sum() for p in model.parameters() if p.ndim >= 2)
    return 0.5 * lam * total


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
        progress: bool = True, desc: str = "training", seed: int = 0) -> History:
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
        :class:`course.history.History`; the model is trained in place.
    """
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")
    if patience is not None and validation_data is None:
        raise ValueError("patience (early stopping) watches the validation loss: pass validation_data too")
    stopper = EarlyStopping(patience=patience) if patience is not None else None
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

    history = History()
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
                history.best_epoch = int(np.argmin(history.val_loss))
                if stopper is not None and stopper.update(epoch, val, model):
                    history.stopped_early = True
                    break
            if bar is not None and epoch % 20 == 0:
                bar.set_postfix(loss=f"{train_loss:.3g}", refresh=False)
    finally:
        if bar is not None:
            bar.close()
    if stopper is not None and stopper.best_state is not None:
        stopper.restore(model)
    model.eval()
    history.seconds = time.perf_counter() - start
    return history
