r"""Regularization: weight penalties, dropout, early stopping and bagging.

Penalties follow the slides (001, section 3.7), applied to the weights only,
never to the biases: a bias only shifts a neuron's input and does not make the
function wigglier, so penalising it would only cost fit.

    L1:          C~ = C + lambda ||w||_1          dC~/dw = dC/dw + lambda sign(w)
    L2:          C~ = C + lambda/2 w . w          dC~/dw = dC/dw + lambda w
    elastic net: C~ = C + lambda_1 ||w||_1 + lambda_2/2 w . w

L1 can also be applied by its proximal step (:func:`soft_threshold`): take the
optimizer's step on C alone, then shrink every weight towards 0 by lambda times
its step size, which sets small weights exactly to 0.

Dropout here is *inverted* dropout: during training each hidden activation is
kept with probability 1 - p and divided by 1 - p, so that its expected value is
unchanged and prediction needs no rescaling.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from course._checks import as_float_array, non_negative

__all__ = ["l1_penalty", "l1_grad", "l2_penalty", "l2_grad", "elastic_net_penalty", "elastic_net_grad",
           "penalty_grads", "soft_threshold", "l1_prox", "dropout_mask", "dropout_forward", "dropout_backward",
           "mc_dropout_predict", "EarlyStopping", "BaggingEnsemble", "bootstrap_indices"]


def l1_penalty(weights, lam: float) -> float:
    """lambda sum_l ||W_l||_1 (sum of absolute values of all weights)."""
    lam = non_negative(lam, "lam")
    return lam * float(sum(np.abs(W).sum() for W in _as_list(weights)))


def l1_grad(W, lam: float) -> np.ndarray:
    """lambda sign(W). Shape: like ``W``."""
    return non_negative(lam, "lam") * np.sign(W)


def l2_penalty(weights, lam: float) -> float:
    """lambda/2 sum_l ||W_l||_F^2."""
    lam = non_negative(lam, "lam")
    return 0.5 * lam * float(sum((W * W).sum() for W in _as_list(weights)))


def l2_grad(W, lam: float) -> np.ndarray:
    """lambda W. Shape: like ``W``."""
    return non_negative(lam, "lam") * np.asarray(W)


def elastic_net_penalty(weights, l1: float, l2: float) -> float:
    """lambda_1 sum |w| + lambda_2/2 sum w^2."""
    return l1_penalty(weights, l1) + l2_penalty(weights, l2)


def elastic_net_grad(W, l1: float, l2: float) -> np.ndarray:
    """lambda_1 sign(W) + lambda_2 W."""
    return l1_grad(W, l1) + l2_grad(W, l2)


def penalty_grads(weights, l1: float = 0.0, l2: float = 0.0) -> list[np.ndarray]:
    """The penalty gradient for each weight matrix in ``weights``."""
    return [elastic_net_grad(W, l1, l2) for W in _as_list(weights)]


def soft_threshold(W, threshold) -> np.ndarray:
    """prox of t ||w||_1: sign(w) max(|w| - t, 0), elementwise (t a number or an array shaped like W)."""
    return np.sign(W) * np.maximum(np.abs(W) - threshold, 0.0)


def l1_prox(lam: float) -> Callable[[np.ndarray, np.ndarray], None]:
    """The proximal L1 step for an optimizer: ``prox(w, step_size)`` sets w <- soft_threshold(w, lambda step_size).

    Pass it to :meth:`course.optim.Optimizer.step` (``prox=[...]``, one per parameter)
    after a step on the unpenalised cost; ``step_size`` is the optimizer's
    per-weight step size (alpha for gradient descent, Adam's alpha_i).
    """
    lam = non_negative(lam, "lam")

    def prox(w, step_size):
        w[...] = soft_threshold(w, lam * step_size)

    return prox


def _as_list(weights):
    if isinstance(weights, np.ndarray):
        return [weights]
    return list(weights)


# ---------------------------------------------------------------- dropout
def dropout_mask(shape, rate: float, rng: np.random.Generator, dtype=np.float64) -> np.ndarray:
    """The inverted-dropout mask: 0 with probability p, 1/(1-p) otherwise."""
    if not 0.0 <= rate < 1.0:
        raise ValueError(f"dropout rate must be in [0, 1), got {rate!r}")
    keep = rng.random(shape) >= rate
    return keep.astype(dtype) / (1.0 - rate)


def dropout_forward(a, rate: float, rng: np.random.Generator):
    """a_drop = a * mask, mask = bernoulli(1 - p) / (1 - p). Returns ``(a_drop, mask)``."""
    a = as_float_array(a, "a")
    mask = dropout_mask(a.shape, rate, rng, a.dtype)
    return a * mask, mask


def dropout_backward(grad, mask) -> np.ndarray:
    """dC/da = dC/da_drop * mask: dropped units pass no gradient back."""
    return np.asarray(grad) * mask


def mc_dropout_predict(model, X, rate: float, n_passes: int = 100, seed: int = 0):
    """Monte Carlo dropout: predict ``n_passes`` times with dropout left on.

    Returns ``(mean, std)`` over the passes, each shaped like ``model.predict(X)``;
    the spread is a (rough) measure of the model's uncertainty (Gal and
    Ghahramani, 2016).
    """
    if n_passes < 2:
        raise ValueError(f"n_passes must be at least 2 to measure a spread, got {n_passes}")
    rng = np.random.default_rng(seed)
    preds = np.stack([model.forward(X, dropout=rate, rng=rng) for _ in range(n_passes)])
    return preds.mean(axis=0), preds.std(axis=0)


# ---------------------------------------------------------------- early stopping
@dataclass
class EarlyStopping:
    """Stop when the validation loss has not improved for ``patience`` epochs.

    ``update(epoch, val_loss, model)`` records the best epoch and a copy of the
    model's ``state_dict()`` at that epoch, and returns True when training
    should stop; ``restore(model)`` puts the best state back with
    ``model.load_state_dict`` (the slides' point A, the lowest validation loss).
    The same object serves :class:`course.MLP` and any ``torch.nn.Module``.
    """

    patience: int = 10
    min_delta: float = 0.0
    restore_best: bool = True
    best_loss: float = field(default=np.inf, init=False)
    best_epoch: int = field(default=-1, init=False)
    wait: int = field(default=0, init=False)
    best_state: dict | None = field(default=None, init=False, repr=False)

    def __post_init__(self):
        if int(self.patience) != self.patience or self.patience < 1:
            raise ValueError(f"patience must be a positive whole number of epochs, got {self.patience!r}")

    def update(self, epoch: int, val_loss: float, model) -> bool:
        """Record ``val_loss`` of ``epoch``; True means: stop now."""
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss, self.best_epoch, self.wait = float(val_loss), epoch, 0
            self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.wait += 1
        return self.wait >= self.patience

    def restore(self, model) -> None:
        """Load the state of the best epoch back into ``model``."""
        if self.best_state is None:
            raise RuntimeError("EarlyStopping.restore: no epoch was recorded yet; call update() first")
        model.load_state_dict(self.best_state)


# ---------------------------------------------------------------- bagging
def bootstrap_indices(n: int, rng: np.random.Generator) -> np.ndarray:
    """n indices drawn from 0..n-1 with replacement (about 63% distinct)."""
    return rng.integers(0, n, size=n)


class BaggingEnsemble:
    """Bootstrap aggregating: K models, each trained on its own bootstrap sample.

    ``make_model(k)`` returns the k-th untrained model (give each a different
    seed); ``predict`` averages the members, ``predict_std`` gives their spread.
    """

    def __init__(self, make_model: Callable[[int], object], n_models: int = 5, seed: int = 0):
        if n_models < 1:
            raise ValueError(f"n_models must be at least 1, got {n_models}")
        self.make_model, self.n_models, self.seed = make_model, int(n_models), seed

    def fit(self, X, y, **fit_kwargs) -> "BaggingEnsemble":
        X = as_float_array(X, "X", ndim=2)
        y = np.asarray(y)
        rng = np.random.default_rng(self.seed)
        self.models_ = []
        for k in range(self.n_models):
            idx = bootstrap_indices(len(X), rng)
            model = self.make_model(k)
            model.fit(X[idx], y[idx], **copy.deepcopy(fit_kwargs))
            self.models_.append(model)
        return self

    def _member_predictions(self, X) -> np.ndarray:
        if not hasattr(self, "models_"):
            raise RuntimeError("this BaggingEnsemble is not fitted yet; call fit(X, y) first")
        return np.stack([m.predict(X) for m in self.models_])

    def predict(self, X) -> np.ndarray:
        """The mean of the members' predictions."""
        return self._member_predictions(X).mean(axis=0)

    def predict_std(self, X) -> np.ndarray:
        """The standard deviation of the members' predictions."""
        return self._member_predictions(X).std(axis=0)
