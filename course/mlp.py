r"""A fully connected network (multi-layer perceptron) in NumPy, in the slides' notation.

Layer l = 1..L computes

    z^(l) = W^(l) a^(l-1) + b^(l),      a^(l) = sigma_l(z^(l)),      a^(0) = x,

and backpropagation (slides 001, Eq. 3.11-3.23) computes, with C the cost,

    delta^(L) = dC/da^(L) * sigma_L'(z^(L))
    delta^(l) = (W^(l+1)^T delta^(l+1)) * sigma_l'(z^(l))
    dC/dW^(l) = delta^(l) a^(l-1)^T,        dC/db^(l) = delta^(l).

Python lists start at 0, the slides' layers at 1: ``weights[l - 1]`` is
W^(l), of shape (n_l, n_(l-1)), and ``biases[l - 1]`` is b^(l), of shape (n_l,).
Batches hold one sample per row, so in code the layer rule reads
``Z = A_prev @ W.T + b`` with A_prev of shape (N, n_(l-1)).
"""

from __future__ import annotations

import time

import numpy as np

from course import activations as _activations
from course import losses as _losses
from course import optim as _optim
from course import regularization as _reg
from course._checks import as_float_array, layer_sizes, non_negative
from course.history import History

__all__ = ["MLP", "History", "count_parameters"]


def count_parameters(sizes, bias: bool = True) -> int:
    """sum_l n_l (n_(l-1) + 1): the weights and biases of a network with these layer sizes.

    >>> count_parameters([2, 300, 300, 1])
    91501
    """
    sizes = layer_sizes(sizes)
    return sum(n_out * (n_in + int(bias)) for n_in, n_out in zip(sizes[:-1], sizes[1:]))


class MLP:
    """A fully connected network: sizes = [n_0 (inputs), n_1, ..., n_L (outputs)].

    The contract (as in ``torch.nn`` and Keras): the constructor allocates the
    parameters, so ``net.weights`` exists at once; :meth:`fit` trains the network
    in place, continuing from its current parameters, and returns the :class:`History`.

    Args:
        sizes: layer widths, inputs first.
        activation: the hidden layers' activation, a name from
            :func:`course.activations.names` or a list with one per hidden layer
            (or one per layer, the output included).
        output_activation: the last layer's activation (``"identity"`` for regression,
            ``"sigmoid"`` for binary classification).
        loss: the cost C, a name from :func:`course.losses.names`; default the
            slides' half MSE, C = 1/(2m) sum ||y - y_hat||^2.
        seed: seeds the initial weights, the shuffling in ``fit`` and dropout.
        init: ``"he"`` (N(0, 2/n_in), for ReLU-like layers), ``"xavier"``
            (N(0, 2/(n_in + n_out)), for sigmoid and tanh) or None to choose by activation.
        dtype: float64 (default) or float32.
        train_biases: False keeps the biases fixed (only the weights are trained).

    Shape:
        X: (N, n_0), one sample per row (a single sample of shape (n_0,) is accepted);
        output: (N, n_L).
    """

    def __init__(self, sizes, activation="relu", output_activation="identity", loss="half_mse",
                 seed: int = 0, init: str | None = None, dtype=np.float64, train_biases: bool = True):
        self.sizes = layer_sizes(sizes)
        self.seed = seed
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {self.dtype}")
        self.layer_activations = _layer_activations(activation, output_activation, len(self.sizes) - 1)
        self.loss = _losses.get(loss)
        if self.loss.name == "softmax_cross_entropy" and self.layer_activations[-1].name == "softmax":
            raise ValueError("loss 'softmax_cross_entropy' applies the softmax itself and takes logits: "
                             "use output_activation='identity', not 'softmax'")
        self.rng = np.random.default_rng(seed)
        self.weights = [self._init_weight(n_in, n_out, act, init) for n_in, n_out, act in
                        zip(self.sizes[:-1], self.sizes[1:], self.layer_activations)]
        self.biases = [np.zeros(n, dtype=self.dtype) for n in self.sizes[1:]]
        self.train_biases = bool(train_biases)
        self.z: list[np.ndarray] = []
        self.a: list[np.ndarray] = []
        self.deltas: list[np.ndarray] = []
        self.dropout_masks: list[np.ndarray | None] = []

    # ------------------------------------------------------------ construction
    def _init_weight(self, n_in, n_out, act, init):
        scheme = init or ("he" if act.relu_like else "xavier")
        if scheme == "he":
            std = np.sqrt(2.0 / n_in)
        elif scheme == "xavier":
            std = np.sqrt(2.0 / (n_in + n_out))
        else:
            raise ValueError(f"init must be 'he', 'xavier' or None, got {init!r}")
        return (self.rng.standard_normal((n_out, n_in)) * std).astype(self.dtype)

    @classmethod
    def from_weights(cls, weights, biases=None, activation="relu", output_activation="identity",
                     loss="half_mse", seed: int = 0, train_biases: bool = True) -> "MLP":
        """A network with the given weights (copied); ``biases=None`` means zero biases.

        ``weights[l - 1]`` is W^(l) with shape (n_l, n_(l-1)); a 1-D array is a
        layer with one neuron. Biases may be scalars for one-neuron layers.
        ``train_biases=False`` keeps the biases fixed in training.
        """
        Ws = []
        for i, W in enumerate(weights):
            W = as_float_array(W, f"weights[{i}]", ndim=(1, 2))
            Ws.append(np.array(W[None, :] if W.ndim == 1 else W, dtype=np.float64))
        if not Ws:
            raise ValueError("weights must hold at least one matrix")
        for i in range(1, len(Ws)):
            if Ws[i].shape[1] != Ws[i - 1].shape[0]:
                raise ValueError(
                    f"weights[{i}] (W^({i + 1})) has shape {Ws[i].shape}, so it expects {Ws[i].shape[1]} inputs, "
                    f"but weights[{i - 1}] (W^({i})) has {Ws[i - 1].shape[0]} outputs (shape {Ws[i - 1].shape})")
        sizes = [Ws[0].shape[1]] + [W.shape[0] for W in Ws]
        net = cls(sizes, activation=activation, output_activation=output_activation, loss=loss, seed=seed,
                  train_biases=train_biases)
        net.weights = Ws
        if biases is not None:
            if len(biases) != len(Ws):
                raise ValueError(f"biases must hold one vector per layer ({len(Ws)}), got {len(biases)}")
            net.biases = []
            for i, (b, n) in enumerate(zip(biases, sizes[1:])):
                b = np.array(np.atleast_1d(as_float_array(b, f"biases[{i}]")), dtype=np.float64)
                if b.shape != (n,):
                    raise ValueError(f"biases[{i}] (b^({i + 1})) must have shape ({n},), got {b.shape}")
                net.biases.append(b)
        return net

    # ------------------------------------------------------------ forward
    def _input(self, X) -> tuple[np.ndarray, bool]:
        X = as_float_array(X, "X", ndim=(1, 2))
        single = X.ndim == 1
        if single:
            X = X[None, :]
        return X.astype(self.weights[0].dtype, copy=False), single

    def forward(self, X, dropout: float = 0.0, rng: np.random.Generator | None = None) -> np.ndarray:
        """y_hat = a^(L), layer by layer z^(l) = W^(l) a^(l-1) + b^(l), a^(l) = sigma_l(z^(l)).

        Caches every z^(l) and a^(l) (``self.z``, ``self.a``) for :meth:`backward`.
        ``dropout`` > 0 applies inverted dropout to the hidden activations (training
        and Monte Carlo dropout only), with ``rng`` or the network's own generator.
        Shape: (N, n_0) -> (N, n_L); a single sample (n_0,) gives (n_L,).
        """
        X, single = self._input(X)
        rng = self.rng if rng is None else rng
        L = len(self.weights)
        a = X
        self.a, self.z, self.dropout_masks = [a], [], []
        for l in range(1, L + 1):
            W, b, sigma = self.weights[l - 1], self.biases[l - 1], self.layer_activations[l - 1]
            _check_layer_input(l, a, W)
            z = a @ W.T + b                                  # z^(l) = W^(l) a^(l-1) + b^(l)
            a = sigma.f(z)                                   # a^(l) = sigma_l(z^(l))
            mask = _reg.dropout_mask(a.shape, dropout, rng, a.dtype) if dropout and l < L else None
            if mask is not None:
                a = a * mask
            self.z.append(z)
            self.a.append(a)
            self.dropout_masks.append(mask)
        return a[0] if single else a

    __call__ = forward

    def predict(self, X) -> np.ndarray:
        """The network's output y_hat without dropout. Shape: (N, n_0) -> (N, n_L)."""
        return self.forward(X)

    # ------------------------------------------------------------ backward
    def _target(self, y) -> np.ndarray:
        out = self.a[-1]
        y = np.asarray(y)
        if self.loss.name == "softmax_cross_entropy" and y.ndim == 1 and y.dtype.kind in "iub":
            return y
        y = as_float_array(y, "y")
        if y.size != out.size:
            raise ValueError(f"y must hold one target per output: the output has shape {out.shape}, "
                             f"y has shape {y.shape}")
        return y.reshape(out.shape).astype(out.dtype, copy=False)

    def backward(self, y) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(dC/dW^(l), dC/db^(l)) for every layer, by backpropagation, after ``forward``.

        The deltas delta^(l) = dC/dz^(l) (C the batch-averaged cost) are kept in
        ``self.deltas``, one (N, n_l) array per layer. Returns two lists shaped
        like ``weights`` and ``biases``.
        """
        if not self.a:
            raise RuntimeError("backward(y) needs the cached values of a forward pass: call forward(X) first")
        _, dC_da = self.loss.value_and_grad(self.a[-1], self._target(y))
        return self.backprop(dC_da)

    def backprop(self, dC_da) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The delta equations, from dC/da^(L) (shape (N, n_L)) down to layer 1; returns (dC/dW^(l), dC/db^(l)).

        Needs the cache of :meth:`forward`. ``vjp`` is v * sigma'(z) for the elementwise
        activations and the Jacobian product of softmax; dropout masks (lecture 9)
        pass the gradient only through the kept neurons.
        """
        L = len(self.weights)
        dW, db, self.deltas = [None] * L, [None] * L, [None] * L
        for l in range(L, 0, -1):
            sigma, z, a_prev = self.layer_activations[l - 1], self.z[l - 1], self.a[l - 1]
            delta = sigma.vjp(z, dC_da)                      # delta^(l) = dC/da^(l) * sigma_l'(z^(l))
            dW[l - 1] = delta.T @ a_prev                     # dC/dW^(l) = delta^(l) a^(l-1)^T
            db[l - 1] = delta.sum(axis=0)                    # dC/db^(l) = delta^(l)
            self.deltas[l - 1] = delta
            if l > 1:
                dC_da = delta @ self.weights[l - 1]          # dC/da^(l-1) = W^(l)^T delta^(l)
                if self.dropout_masks[l - 2] is not None:
                    dC_da = dC_da * self.dropout_masks[l - 2]
        return dW, db

    def loss_value(self, X, y) -> float:
        """C(y_hat(X), y) with the network's loss."""
        out = self.forward(X)
        out2 = out[None, :] if out.ndim == 1 else out
        return self.loss.value(out2, self._target(y))

    # ------------------------------------------------------------ parameters
    def parameters(self) -> list[np.ndarray]:
        """[W^(1), ..., W^(L), b^(1), ..., b^(L)]: the trained arrays themselves (not copies).

        The biases are listed only when they are trained; the order is the one
        ``fit`` hands the arrays to the optimizer.
        """
        return self.weights + (self.biases if self.train_biases else [])

    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        """[("W1", W^(1)), ..., ("b1", b^(1)), ...]: :meth:`parameters` with their names."""
        names = [f"W{l}" for l in range(1, len(self.weights) + 1)] + [f"b{l}" for l in range(1, len(self.biases) + 1)]
        return list(zip(names, self.parameters()))

    @property
    def n_parameters(self) -> int:
        """The number of trained numbers: all weights, plus the biases when they are trained."""
        return int(sum(p.size for p in self.parameters()))

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every weight and bias by name, {"W1": ..., "b1": ...} (as ``torch.nn.Module.state_dict``)."""
        state = {f"W{l}": W.copy() for l, W in enumerate(self.weights, start=1)}
        state.update({f"b{l}": b.copy() for l, b in enumerate(self.biases, start=1)})
        return state

    def load_state_dict(self, state: dict) -> None:
        """Copy the arrays of ``state`` (from :meth:`state_dict`) into the network's weights and biases."""
        names = [f"W{l}" for l in range(1, len(self.weights) + 1)] + [f"b{l}" for l in range(1, len(self.biases) + 1)]
        if sorted(state) != sorted(names):
            raise ValueError(f"state must hold exactly {names}, got {sorted(state)}")
        for name, dst in zip(names, self.weights + self.biases):
            src = np.asarray(state[name])
            if src.shape != dst.shape:
                raise ValueError(f"state[{name!r}] must have shape {dst.shape}, got {src.shape}")
            dst[...] = src

    # ------------------------------------------------------------ training
    def train_step(self, X, y, optimizer, l1: float = 0.0, l2: float = 0.0, dropout: float = 0.0,
                   rng: np.random.Generator | None = None, l1_method: str = "subgradient") -> float:
        """One update on one batch: forward, loss, backward, penalty, optimizer step.

        ``l1_method``: ``"subgradient"`` adds lambda_1 sign(W) to the gradient;
        ``"proximal"`` steps on C + lambda_2/2 ||W||^2 and then soft-thresholds the
        weights by lambda_1 times the optimizer's step sizes (exact zeros).
        Returns the batch's loss before the update (without the penalty).
        """
        if l1_method not in ("subgradient", "proximal"):
            raise ValueError(f"l1_method must be 'subgradient' or 'proximal', got {l1_method!r}")
        proximal = l1_method == "proximal" and l1 > 0
        self.forward(X, dropout, rng)
        loss, dC_da = self.loss.value_and_grad(self.a[-1], self._target(y))
        dW, db = self.backprop(dC_da)
        if l1 or l2:
            dW = [g + p for g, p in zip(dW, _reg.penalty_grads(self.weights, 0.0 if proximal else l1, l2))]
        grads = dW + (db if self.train_biases else [])
        prox = None
        if proximal:
            prox = [_reg.l1_prox(l1)] * len(dW) + [None] * (len(grads) - len(dW))
        optimizer.step(self.parameters(), grads, prox=prox)
        return loss

    def fit(self, X, y, epochs: int = 100, optimizer="gd", learning_rate: float | None = None,
            batch_size: int | None = None, shuffle: bool = True, l1: float = 0.0, l2: float = 0.0,
            validation_data=None, early_stopping=None, dropout: float = 0.0, progress: bool = False,
            callback=None, history: History | None = None, l1_method: str = "subgradient",
            rng: np.random.Generator | None = None) -> History:
        """Train by (mini-batch) gradient descent, in place from the current parameters; returns the :class:`History`.

        Args:
            optimizer: ``"gd"``, ``"momentum"``, ``"adam"`` or an optimizer object (pass
                the same object to a later ``fit`` to continue with its state).
            learning_rate: alpha for an optimizer given by name (default 0.01; Adam 0.001).
            batch_size: None for full batch, 1 for stochastic, k for mini-batches of k.
            l1, l2: penalty strengths lambda_1, lambda_2 on the weights (not the biases);
                ``l1_method`` as in :meth:`train_step`.
            validation_data: ``(X_val, y_val)``, evaluated after every epoch.
            early_stopping: a patience in epochs or a :class:`course.regularization.EarlyStopping`;
                stops when the validation loss stalls and restores the best weights.
            dropout: drop probability p for the hidden activations during training
                (masks drawn from ``rng``, default the network's generator).
            progress: show a progress bar (tqdm).
            callback: ``callback(epoch, history)`` after every epoch; returning False stops.
            history: a :class:`History` to continue (warm start: epochs are counted on from it).

        Raises:
            FloatingPointError: when the loss becomes NaN or infinite (divergence).
        """
        X, _ = self._input(X)
        if int(epochs) != epochs or epochs < 1:
            raise ValueError(f"epochs must be a positive whole number, got {epochs!r}")
        y = self._fit_target(X, y, "y")
        N = len(X)
        if batch_size is None:
            batch_size = N
        if int(batch_size) != batch_size or not 1 <= batch_size:
            raise ValueError(f"batch_size must be None (full batch) or a whole number >= 1, got {batch_size!r}")
        batch_size = min(int(batch_size), N)
        l1, l2 = non_negative(l1, "l1"), non_negative(l2, "l2")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}")
        opt = _optim.get(optimizer, learning_rate=learning_rate)
        if validation_data is not None:
            X_val, _ = self._input(validation_data[0])
            y_val = self._fit_target(X_val, validation_data[1], "validation_data[1]")
        stopper = early_stopping
        if stopper is not None and not isinstance(stopper, _reg.EarlyStopping):
            stopper = _reg.EarlyStopping(patience=stopper)
        if stopper is not None and validation_data is None:
            raise ValueError("early_stopping watches the validation loss: pass validation_data=(X_val, y_val) too")

        history = History() if history is None else history
        first = history.epochs
        epoch_iter = range(first, first + int(epochs))
        if progress:
            from tqdm.auto import tqdm

            epoch_iter = tqdm(epoch_iter, desc="training", unit="epoch")
        start_time = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            for epoch in epoch_iter:
                order = self.rng.permutation(N) if shuffle and batch_size < N else np.arange(N)
                for start in range(0, N, batch_size):
                    idx = order[start:start + batch_size]
                    loss = self.train_step(X[idx], y[idx], opt, l1, l2, dropout, rng, l1_method)
                    if not np.isfinite(loss):
                        self._diverged(loss, epoch, opt)
                train_loss = self.loss_value(X, y)
                if not np.isfinite(train_loss):
                    self._diverged(train_loss, epoch, opt)
                history.train_loss.append(train_loss)
                if validation_data is not None:
                    history.val_loss.append(self.loss_value(X_val, y_val))
                if progress:
                    epoch_iter.set_postfix(loss=f"{train_loss:.4g}")
                if stopper is not None and stopper.update(epoch, history.val_loss[-1], self):
                    history.stopped_early = True
                    break
                if callback is not None and callback(epoch, history) is False:
                    break
        history.seconds += time.perf_counter() - start_time
        if stopper is not None:
            history.best_epoch = stopper.best_epoch
            if stopper.restore_best:
                stopper.restore(self)
        return history

    def _fit_target(self, X, y, name):
        y = np.asarray(y)
        if len(y) != len(X):
            raise ValueError(f"{name} must have one target per sample of X ({len(X)}), got {len(y)}")
        if self.loss.name == "softmax_cross_entropy" and y.ndim == 1 and y.dtype.kind in "iub":
            return y
        y = as_float_array(y, name)
        return y.reshape(len(X), -1).astype(self.weights[0].dtype)

    @staticmethod
    def _diverged(loss, epoch, opt):
        raise FloatingPointError(
            f"the training loss became {loss} in epoch {epoch + 1}: gradient descent diverged. "
            f"Try a smaller learning_rate (it is {opt.learning_rate:g}), scale the inputs, "
            f"or use the 'adam' optimizer.")

    def __repr__(self):
        acts = [a.name for a in self.layer_activations]
        return f"MLP(sizes={self.sizes}, activations={acts}, loss={self.loss.name!r})"


def _check_layer_input(l, a, W):
    if a.shape[1] != W.shape[1]:
        what = "X" if l == 1 else f"a^({l - 1})"
        raise ValueError(f"layer {l}: W^({l}) has shape {W.shape} and expects {W.shape[1]} inputs per sample, "
                         f"but {what} has {a.shape[1]} columns (shape {a.shape})")


def _layer_activations(activation, output_activation, n_layers):
    n_hidden = n_layers - 1
    if isinstance(activation, (list, tuple)):
        if len(activation) == n_layers:
            if output_activation != "identity":
                raise ValueError("activation lists one activation per layer including the output, "
                                 "so leave output_activation at its default")
            return [_activations.get(a) for a in activation]
        if len(activation) != n_hidden:
            raise ValueError(f"activation must list one activation per hidden layer ({n_hidden}) "
                             f"or per layer ({n_layers}), got {len(activation)}")
        hidden = [_activations.get(a) for a in activation]
    else:
        hidden = [_activations.get(activation)] * n_hidden
    return hidden + [_activations.get(output_activation)]
