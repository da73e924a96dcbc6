r"""Regularization explorer: C~ = C + l1 ||w||_1 + l2/2 ||w||^2, dropout and early stopping on a too-big network.

A 1-32-32-1 tanh network (1,153 parameters) is fitted to 20 noisy samples of
sin(x) with Adam; 40 more samples are the validation set. Without help it
overfits: the training loss keeps falling while the validation loss turns up.
Toggle

* an L1, L2 or elastic-net penalty of strength lambda on the weights (never the biases),
* dropout on the hidden activations,
* early stopping with a patience (the slides' point A: the epoch of the lowest
  validation loss, whose weights are restored),

and compare the fitted curve, the training and validation losses, and the
histogram of all 1,088 weights.

**Why L1 here gives exact zeros.** Adding the subgradient lambda_1 sign(w) to
the gradient makes a weight near zero jump across it at every step (the sign
flips), so it ends up small but almost never exactly 0. The *proximal* step
instead takes the optimizer's step on C alone and then soft-thresholds,

    w <- sign(w) max(|w| - alpha_i lambda_1, 0),

which sets every weight whose magnitude is below the threshold to exactly 0.
With Adam, alpha_i is Adam's own step size for weight i,
alpha / (sqrt(v_hat_i) + eps) (its update is w_i <- w_i - alpha_i m_hat_i), so both methods
minimise the same penalised cost: they reach the same losses, but only the
proximal one has exact zeros. The widget counts both "exactly 0" and
"|w| < 1e-3".

The training is :meth:`course.MLP.fit` (``l1_method="proximal"`` or ``"subgradient"``;
the thresholds are :func:`course.regularization.soft_threshold` by
:meth:`course.optim.Adam.step_size` times lambda_1); this module records and draws it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from course import datasets as _datasets
from course import optim as _optim
from course import regularization as _reg
from course.history import History
from course.mlp import MLP
from course.widgets._base import App

__all__ = ["regularization_explorer", "RegularizationApp", "RegConfig", "RegState", "FitResult", "train",
           "PENALTIES", "data"]

PENALTIES = ("none", "L1", "L2", "elastic net")
SIZES = (1, 32, 32, 1)
EPOCHS = 1000
LEARNING_RATE = 0.02
SNAPSHOT_EVERY = 10
#: epochs at which a run in progress is shown (a first result within a few hundredths of a second,
#: then a better one), before the whole run
PREVIEW_AT = (20, 200)
SMALL = 1e-3                                  # "near zero": |w| < SMALL
BINS = np.linspace(-1.5, 1.5, 61)             # weight histogram (the outer bins collect the rest)
X_GRID = np.linspace(0.0, 2 * np.pi, 200)


# ---------------------------------------------------------------- data
@functools.lru_cache(maxsize=1)
def data():
    """(x_train (20, 1), y_train (20,), x_val (40, 1), y_val (40,)): 60 seeded samples of sin(x) + 0.3 N(0, 1)."""
    x, y = _datasets.noisy_sine(n_samples=60, noise=0.3, seed=0)
    order = np.random.default_rng(0).permutation(60)
    train, val = np.sort(order[:20]), np.sort(order[20:])
    out = (x[train], y[train], x[val], y[val])
    for a in out:
        a.flags.writeable = False
    return out


def scale(x):
    """The network's input: x mapped from [0, 2 pi] to [-1, 1]."""
    return (np.asarray(x) - np.pi) / np.pi


# ---------------------------------------------------------------- state and training (pure)
@dataclass(frozen=True)
class RegConfig:
    """Everything that defines a training run."""

    penalty: str = "none"              # "none", "L1", "L2" or "elastic net"
    lam: float = 1e-3                  # lambda (both lambda_1 and lambda_2 for the elastic net)
    l1_method: str = "proximal"        # "proximal" (soft-thresholding) or "subgradient"
    dropout: float = 0.0
    early_stopping: bool = False
    patience: int = 100
    seed: int = 0

    @property
    def l1(self) -> float:
        return self.lam if self.penalty in ("L1", "elastic net") else 0.0

    @property
    def l2(self) -> float:
        return self.lam if self.penalty in ("L2", "elastic net") else 0.0

    def check(self) -> None:
        if self.penalty not in PENALTIES:
            raise ValueError(f"penalty must be one of {PENALTIES}, got {self.penalty!r}")
        if self.l1_method not in ("proximal", "subgradient"):
            raise ValueError(f"l1_method must be 'proximal' or 'subgradient', got {self.l1_method!r}")
        if not np.isfinite(self.lam) or self.lam < 0:
            raise ValueError(f"lam must be a non-negative number, got {self.lam!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {self.dropout!r}")


@dataclass(frozen=True)
class RegState:
    """The run's configuration and the epoch whose network is shown."""

    config: RegConfig = field(default_factory=RegConfig)
    epoch: int = EPOCHS


@dataclass(frozen=True)
class FitResult:
    """What one training run recorded (losses per epoch, snapshots every SNAPSHOT_EVERY epochs)."""

    config: RegConfig
    train_loss: np.ndarray             # (E + 1,) half MSE on the training set, index = epoch (0: initial)
    val_loss: np.ndarray               # (E + 1,)
    best_epoch: int                    # the epoch of the lowest validation loss
    stopped_at: int | None             # where early stopping ended the run (None: ran all epochs)
    snap_epochs: np.ndarray            # (S,)
    curves: np.ndarray                 # (S, len(X_GRID)) the network's output on X_GRID
    hists: np.ndarray                  # (S, len(BINS) - 1) the weight histogram
    zeros: np.ndarray                  # (S,) weights exactly 0
    small: np.ndarray                  # (S,) weights with |w| < SMALL
    final: dict                        # curve, hist, zeros, small, weights of the final network
    n_weights: int

    @property
    def epochs(self) -> int:
        return len(self.train_loss) - 1

    def snapshot(self, epoch: int) -> dict:
        """The network as recorded at the last snapshot <= epoch; the final network at or past the end."""
        if epoch >= self.epochs:
            return self.final
        i = int(np.searchsorted(self.snap_epochs, epoch, side="right")) - 1
        return {"curve": self.curves[i], "hist": self.hists[i], "zeros": int(self.zeros[i]),
                "small": int(self.small[i]), "epoch": int(self.snap_epochs[i])}


def _weights(net: MLP) -> np.ndarray:
    return np.concatenate([W.ravel() for W in net.weights])


def _record(net: MLP, epoch: int) -> dict:
    w = _weights(net)
    hist = np.histogram(np.clip(w, BINS[0], BINS[-1]), BINS)[0]
    return {"curve": net.predict(scale(X_GRID)[:, None])[:, 0], "hist": hist, "zeros": int(np.sum(w == 0)),
            "small": int(np.sum(np.abs(w) < SMALL)), "epoch": epoch, "weights": w}


#: finished runs by configuration (the most recent 32)
_RESULTS: dict = {}


def train(config: RegConfig, progress=None, preview=None) -> FitResult:
    """Train the network of ``config`` for up to EPOCHS epochs (full batch, Adam); cached by config.

    ``progress(epoch)`` is called every 50 epochs (the widget's progress bar), and
    ``preview(epoch, train_loss, val_loss, record)`` at the epochs of PREVIEW_AT, with the losses
    so far and the network's curve and weight histogram then (the widget shows the run so far).
    The result depends only on ``config`` (the initial weights and the dropout
    masks are seeded).
    """
    config.check()
    if config not in _RESULTS:
        _RESULTS[config] = _run(config, progress, preview)
        while len(_RESULTS) > 32:
            _RESULTS.pop(next(iter(_RESULTS)))
    return _RESULTS[config]


def _run(config: RegConfig, progress, preview=None) -> FitResult:
    x_tr, y_tr, x_va, y_va = data()
    X_tr, X_va = scale(x_tr), scale(x_va)
    Y_tr, Y_va = y_tr[:, None], y_va[:, None]
    net = MLP(list(SIZES), activation="tanh", seed=config.seed)
    opt = _optim.Adam(learning_rate=LEARNING_RATE)
    rng = np.random.default_rng(config.seed + 1)
    stopper = _reg.EarlyStopping(patience=config.patience) if config.early_stopping else None
    # epoch 0, the initial network; fit numbers the epochs it trains on from 1
    history = History(train_loss=[net.loss_value(X_tr, Y_tr)], val_loss=[net.loss_value(X_va, Y_va)])
    snaps = [_record(net, 0)]
    if stopper is not None:
        stopper.update(0, history.val_loss[0], net)

    def record(epoch: int, history: History) -> None:
        if epoch % SNAPSHOT_EVERY == 0:
            snaps.append(_record(net, epoch))
        if progress is not None and epoch % 50 == 0:
            progress(epoch)
        if preview is not None and epoch in PREVIEW_AT:
            preview(epoch, np.array(history.train_loss), np.array(history.val_loss), _record(net, epoch))

    # full batch; the proximal L1 step soft-thresholds each weight by Adam's step size alpha_i times lambda_1
    net.fit(X_tr, Y_tr, epochs=EPOCHS, optimizer=opt, l1=config.l1, l1_method=config.l1_method, l2=config.l2,
            dropout=config.dropout, rng=rng, validation_data=(X_va, Y_va), early_stopping=stopper,
            history=history, callback=record)
    val = np.array(history.val_loss)
    stopped_at = history.epochs - 1 if history.stopped_early else None
    best = history.best_epoch if stopper is not None else int(np.argmin(val))   # fit restored its weights
    final = _record(net, best if stopper is not None else len(val) - 1)
    final["train_loss"], final["val_loss"] = net.loss_value(X_tr, Y_tr), net.loss_value(X_va, Y_va)
    return FitResult(config, np.array(history.train_loss), val, best, stopped_at,
                     np.array([s["epoch"] for s in snaps]), np.array([s["curve"] for s in snaps]),
                     np.array([s["hist"] for s in snaps]), np.array([s["zeros"] for s in snaps]),
                     np.array([s["small"] for s in snaps]), final, int(final["weights"].size))


# ---------------------------------------------------------------- the widget
class RegularizationApp(App):
    """L1, L2, elastic net, dropout and early stopping on a network too big for its 20 data points."""

    title = "Regularization explorer"
    explanation = ("A 1-32-32-1 network, 20 noisy training points (black), 40 validation points (white). "
                   "Toggle a penalty, dropout or early stopping; slide 'show epoch' to replay the training.")
    figsize = (10.0, 3.4)

    def _make_controls(self):
        W = self._W
        c = RegConfig()
        return {
            "penalty": W.ToggleButtons(options=list(PENALTIES), value=c.penalty, description="penalty",
                                       tooltip="the penalty added to the loss"),
            "lam": W.FloatLogSlider(value=c.lam, base=10, min=-5, max=-1, step=0.25, description="lambda",
                                    readout_format=".1e", continuous_update=False),
            "l1_method": W.ToggleButtons(options=[("proximal (exact zeros)", "proximal"),
                                                  ("subgradient", "subgradient")],
                                         value=c.l1_method, description="L1 step",
                                         tooltip="how an L1 penalty enters a step: the exact proximal step "
                                                 "(sets small weights to zero) or the subgradient"),
            "dropout": W.FloatSlider(value=c.dropout, min=0.0, max=0.5, step=0.05, description="dropout p",
                                     continuous_update=False),
            "early_stopping": W.Checkbox(value=c.early_stopping, description="early stopping", indent=False),
            "patience": W.IntSlider(value=c.patience, min=10, max=300, step=10, description="patience",
                                    continuous_update=False),
            "epoch": W.IntSlider(value=EPOCHS, min=0, max=EPOCHS, step=SNAPSHOT_EVERY, description="show epoch"),
        }

    def _read_state(self) -> RegState:
        c = self.controls
        config = RegConfig(penalty=c["penalty"].value, lam=float(c["lam"].value), l1_method=c["l1_method"].value,
                           dropout=float(c["dropout"].value), early_stopping=bool(c["early_stopping"].value),
                           patience=int(c["patience"].value))
        return RegState(config, int(c["epoch"].value))

    def _layout(self, W):
        c = self.controls
        self.play = W.Play(value=c["epoch"].value, min=0, max=EPOCHS, step=SNAPSHOT_EVERY, interval=80,
                           description="replay the training", show_repeat=False,
                           tooltip="replay the training epoch by epoch")
        W.jslink((self.play, "value"), (c["epoch"], "value"))
        self.progress = W.IntProgress(value=0, min=0, max=EPOCHS, description="training",
                                      layout=W.Layout(visibility="hidden"))
        self.info = W.HTML()
        left = self.controls_column([c["penalty"], c["lam"], c["l1_method"], c["dropout"], c["early_stopping"],
                                     c["patience"], c["epoch"], self.play, self.progress])
        return self.frame([[left, self.figure_box()], self.info])

    def _on_change(self, change=None) -> None:
        # a new run is shown from its end: jump the replay slider to the last epoch
        if change is not None and change["owner"] is not self.controls["epoch"]:
            epoch = self.controls["epoch"]
            if epoch.value != epoch.max:
                with self.hold():
                    epoch.value = epoch.max
                    super()._on_change(change)
                return
        super()._on_change(change)

    def _build(self, fig):
        from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator

        self.ax_fit, self.ax_loss, self.ax_hist = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.1, 1, 1]})
        fig.subplots_adjust(left=0.045, right=0.985, bottom=0.14, top=0.9, wspace=0.25)
        dyn = self.dynamic
        x_tr, y_tr, x_va, y_va = data()
        ax = self.ax_fit
        ax.plot(X_GRID, np.sin(X_GRID), "--", color="#999999", lw=1, label="sin(x)")
        ax.plot(x_va[:, 0], y_va, "o", mfc="w", mec="#555555", ms=4, label="validation")
        ax.plot(x_tr[:, 0], y_tr, "o", color="k", ms=4, label="training")
        self.fit_line = dyn(*ax.plot([], [], color="#d62728", lw=1.8, label="network"))
        ax.set_xlim(0, 2 * np.pi)
        ax.set_ylim(-2.0, 2.0)
        ax.set_title("the fitted curve", fontsize=9)
        ax.legend(loc="lower left", fontsize=7, frameon=False, ncol=2)
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax = self.ax_loss
        self.train_curve = dyn(*ax.plot([], [], color="k", lw=1.3, label="training"))
        self.val_curve = dyn(*ax.plot([], [], color="#1f77b4", lw=1.3, label="validation"))
        self.now_line = dyn(ax.axvline(0, color="#d62728", lw=1, alpha=0.7))
        self.best_line = dyn(ax.axvline(0, color="#2ca02c", lw=1.2, ls="--"))
        self.best_dot = dyn(*ax.plot([], [], "o", color="#2ca02c", ms=6))
        self.best_text = dyn(ax.text(0.98, 0.97, "", transform=ax.transAxes, ha="right", va="top", fontsize=8,
                                     color="#2ca02c"))
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(numticks=4))
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter("{x:g}")
        ax.xaxis.set_major_locator(MaxNLocator(4))
        ax.set_xlim(0, EPOCHS)
        ax.set_title("loss (half MSE) per epoch", fontsize=9)
        ax.legend(loc="lower left", fontsize=7, frameon=False)
        ax = self.ax_hist
        self.hist = dyn(ax.stairs(np.ones(len(BINS) - 1), BINS, baseline=0.7, fill=True, color="#9467bd"))
        self.zero_text = dyn(ax.text(0.98, 0.97, "", transform=ax.transAxes, ha="right", va="top", fontsize=8))
        ax.set_yscale("log")
        ax.set_ylim(0.7, 2000)
        ax.set_xlim(BINS[0], BINS[-1])
        ax.yaxis.set_minor_locator(NullLocator())
        ax.yaxis.set_major_formatter("{x:g}")
        ax.xaxis.set_major_locator(MaxNLocator(5))
        ax.set_title("histogram of the 1,088 weights", fontsize=9)
        for a in (self.ax_fit, self.ax_loss, self.ax_hist):
            a.tick_params(labelsize=8, pad=1)

    def _progress(self, epoch: int) -> None:
        self.progress.value = epoch

    def _preview(self, epoch: int, train_loss, val_loss, record: dict) -> None:
        """Show the run so far (the first result of a new configuration), while it trains on."""
        epochs = np.arange(len(train_loss))
        self.fit_line.set_data(X_GRID, record["curve"])
        self.train_curve.set_data(epochs, train_loss)
        self.val_curve.set_data(epochs, val_loss)
        self.now_line.set_xdata([epoch, epoch])
        best = int(np.nanargmin(val_loss))
        self.best_line.set_xdata([best, best])
        self.best_dot.set_data([best], [val_loss[best]])
        self.best_text.set_text(f"training: epoch {epoch} of {EPOCHS}...")
        self._loss_limits(train_loss, val_loss)
        self.hist.set_data(np.maximum(record["hist"], 0.7))
        self.zero_text.set_text(f"exactly 0: {record['zeros']}\n|w| < {SMALL:g}: {record['small']}")
        self.previews.append(epoch)
        self.show()

    def _loss_limits(self, train_loss, val_loss) -> None:
        """The loss axis in whole decades around the losses."""
        losses = np.concatenate([train_loss, val_loss])
        losses = losses[np.isfinite(losses) & (losses > 0)]
        self.ax_loss.set_ylim(10.0 ** np.floor(np.log10(losses.min())), 10.0 ** np.ceil(np.log10(losses.max())))

    def _draw(self, state: RegState) -> None:
        config = state.config
        self.previews = []  # the epochs shown while this configuration trained
        if config not in _RESULTS:
            self.progress.layout.visibility = "visible"
            self.progress.value = 0
        try:
            fit = train(config, progress=self._progress, preview=self._preview)
        finally:
            self.progress.layout.visibility = "hidden"
        snap = fit.snapshot(state.epoch)
        self.fit_line.set_data(X_GRID, snap["curve"])
        shown = min(state.epoch, fit.epochs)
        epochs = np.arange(fit.epochs + 1)
        self.train_curve.set_data(epochs, fit.train_loss)
        self.val_curve.set_data(epochs, fit.val_loss)
        self.now_line.set_xdata([shown, shown])
        self.best_line.set_xdata([fit.best_epoch, fit.best_epoch])
        self.best_dot.set_data([fit.best_epoch], [fit.val_loss[fit.best_epoch]])
        if config.early_stopping:
            self.best_text.set_text(f"early stopping: best epoch {fit.best_epoch}\n"
                                    f"(stopped at {fit.stopped_at})" if fit.stopped_at else
                                    f"early stopping: best epoch {fit.best_epoch}")
        else:
            self.best_text.set_text(f"lowest validation loss: epoch {fit.best_epoch}")
        self._loss_limits(fit.train_loss, fit.val_loss)
        self.hist.set_data(np.maximum(snap["hist"], 0.7))
        self.zero_text.set_text(f"exactly 0: {snap['zeros']}\n|w| < {SMALL:g}: {snap['small']}")
        self.info.value = self.describe(state, fit, snap)
        self.fit = fit

    @staticmethod
    def describe(state: RegState, fit: FitResult, snap: dict) -> str:
        """The numbers behind the picture, and what the L1 method does."""
        c = state.config
        at_end = state.epoch >= fit.epochs
        k = fit.best_epoch if at_end and c.early_stopping else min(state.epoch, fit.epochs)
        which = (f"the restored weights of epoch {fit.best_epoch}" if at_end and c.early_stopping
                 else f"epoch {snap['epoch']}")
        text = (f"Showing {which}: training loss {fit.train_loss[k]:.4f}, validation loss {fit.val_loss[k]:.4f}; "
                f"lowest validation loss {fit.val_loss[fit.best_epoch]:.4f} at epoch {fit.best_epoch}. "
                f"Weights exactly 0: {snap['zeros']} of {fit.n_weights}; |w| &lt; {SMALL:g}: {snap['small']}.")
        if c.l1 > 0 and c.l1_method == "proximal":
            text += (" L1 by the proximal step: after each Adam step, w &larr; sign(w) max(|w| - "
                     "&alpha;<sub>i</sub>&lambda;, 0) sets small weights to exactly 0.")
        elif c.l1 > 0:
            text += (" L1 by the subgradient &lambda; sign(w): weights near 0 flip sign every step and hover "
                     "around it, small but (almost) never exactly 0.")
        if c.dropout > 0:
            text += (" Dropout smooths the fit; a large p also flattens it (the prediction averages over "
                     "thinned networks), so small rates work best on this tiny data set.")
        return text


def regularization_explorer() -> RegularizationApp:
    """The regularization explorer: penalties, dropout and early stopping on an overfitting network."""
    return RegularizationApp()
