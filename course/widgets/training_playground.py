r"""A training playground (TensorFlow Playground inside Jupyter): P(y = 1 | x) = sigma(z^(L)) of an MLP, trained live.

Pick a two-dimensional dataset, the hidden layers and neurons, the activation,
learning rate, batch size, an L1/L2 penalty and dropout, then press play: the
network (:class:`course.MLP`, sigmoid output, binary cross-entropy) trains one
epoch per tick of an ``ipywidgets.Play`` and the figure shows

* every neuron's activation a_j^(l)(x) over the input plane (small heatmaps,
  orange negative, blue positive) with the weights between them drawn by sign
  (blue > 0, orange < 0) and size (line width ~ |w|);
* the decision heatmap P(y = 1 | x) with the training points (white rims) and,
  on request, the test points (black rims);
* the training and test loss per epoch.

The training is a pure function of the state: the network at epoch k is what
``k`` epochs from the seeded initial weights give (:func:`train_to`), so
scrubbing, stepping and replaying are reproducible. Each tick is a short
kernel callback, so the kernel stays responsive and pause stops it.

The data lie in [-5, 5]^2; they enter the network divided by 2, so that
x_1, x_2 are of order 1 and the default learning rate 0.03 solves "circles"
in about a hundred epochs.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from course import datasets as _datasets
from course import optim as _optim
from course.history import History
from course.mlp import MLP
from course.widgets._base import App, fit_control

__all__ = ["playground", "PlaygroundApp", "PlaygroundConfig", "PlaygroundState", "Run", "make_data",
           "new_run", "train_epochs", "train_to", "DATASETS"]

#: name -> (generator, the half-width of its raw data); every set is rescaled to [-5, 5]^2
DATASETS = {
    "circles": (_datasets.circles, 5.0),
    "xor": (_datasets.xor, 5.0),
    "gauss": (_datasets.gaussians, 5.0),
    "spiral": (_datasets.spiral, 5.0),
    "moons": (_datasets.moons, 1.5),
}
ACTIVATIONS = ["tanh", "relu", "sigmoid", "identity"]
LEARNING_RATES = [0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0]
REG_RATES = [0.0, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3]
MAX_LAYERS, MAX_NEURONS = 6, 8
N_SAMPLES = 300
INPUT_SCALE = 2.0          # x_net = x / 2
WINDOW = 6.0               # the plane is drawn over [-6, 6]^2
GRID = 60                  # the decision heatmap's resolution
NEURON_SPACING = 0.115     # the vertical distance of neurons in the diagram (a fraction of its height)
ORANGE, BLUE = "#f59322", "#0877bd"
#: training counts as diverged when the loss is not finite or exceeds this many times its initial value
DIVERGENCE_FACTOR = 10.0


# ---------------------------------------------------------------- state
@dataclass(frozen=True)
class PlaygroundConfig:
    """Everything that defines a training run (changing any of it starts again at epoch 0)."""

    dataset: str = "circles"
    noise: float = 0.0               # the noise, as a fraction of the data's half-width
    train_fraction: float = 0.5
    hidden: tuple[int, ...] = (4, 2)
    activation: str = "tanh"
    learning_rate: float = 0.03
    batch_size: int = 10
    regularization: str = "none"     # "none", "L1" or "L2"
    reg_rate: float = 0.0
    dropout: float = 0.0
    seed: int = 0

    def check(self) -> None:
        if self.dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {self.dataset!r}")
        if not 0.0 <= self.noise <= 1.0:
            raise ValueError(f"noise must be a fraction in [0, 1], got {self.noise!r}")
        if not 0.05 <= self.train_fraction <= 0.95:
            raise ValueError(f"train_fraction must be in [0.05, 0.95], got {self.train_fraction!r}")
        if len(self.hidden) > MAX_LAYERS or any(not 1 <= n <= MAX_NEURONS for n in self.hidden):
            raise ValueError(f"hidden must list at most {MAX_LAYERS} layers of 1..{MAX_NEURONS} neurons, "
                             f"got {self.hidden!r}")
        if self.regularization not in ("none", "L1", "L2"):
            raise ValueError(f"regularization must be 'none', 'L1' or 'L2', got {self.regularization!r}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1), got {self.dropout!r}")
        if int(self.batch_size) != self.batch_size or self.batch_size < 1:
            raise ValueError(f"batch_size must be a whole number >= 1, got {self.batch_size!r}")

    @property
    def l1(self) -> float:
        return self.reg_rate if self.regularization == "L1" else 0.0

    @property
    def l2(self) -> float:
        return self.reg_rate if self.regularization == "L2" else 0.0


@dataclass(frozen=True)
class PlaygroundState:
    """The run's configuration, the epoch to show, and two display switches."""

    config: PlaygroundConfig = field(default_factory=PlaygroundConfig)
    epoch: int = 0
    show_test: bool = False
    discretize: bool = False


# ---------------------------------------------------------------- data and training (pure functions)
@functools.lru_cache(maxsize=32)
def make_data(dataset: str, noise: float, train_fraction: float, seed: int):
    """(X_train, X_test, y_train, y_test): N_SAMPLES seeded points in [-5, 5]^2, labels 0/1, split at random."""
    generator, half_width = DATASETS[dataset]
    X, y = generator(n_samples=N_SAMPLES, noise=noise * half_width, seed=seed)
    X = X * (5.0 / half_width)
    parts = _datasets.train_test_split(X, y, test_fraction=1.0 - train_fraction, seed=seed)
    for a in parts:
        a.flags.writeable = False
    return parts


@dataclass
class Run:
    """A network in training: its config, what continues its training, and what it recorded (index = epoch).

    ``net.fit`` trains it on, from the network's parameters, the optimizer's state, the
    dropout generator ``rng`` and the ``history`` (the network's own generator shuffles the
    mini-batches). ``history.val_loss`` holds the loss on the test points, which are watched,
    never trained on.
    """

    config: PlaygroundConfig
    net: MLP
    optimizer: _optim.Optimizer
    rng: np.random.Generator
    history: History = field(default_factory=History)
    test_accuracy: list[float] = field(default_factory=list)
    diverged_at: int | None = None

    @property
    def data(self):
        c = self.config
        return make_data(c.dataset, c.noise, c.train_fraction, c.seed)

    @property
    def epoch(self) -> int:
        """The epochs trained so far."""
        return self.history.epochs - 1

    @property
    def train_loss(self) -> list[float]:
        """The binary cross-entropy on the training points, per epoch (0: the initial network)."""
        return self.history.train_loss

    @property
    def test_loss(self) -> list[float]:
        """The binary cross-entropy on the test points, per epoch."""
        return self.history.val_loss


def new_run(config: PlaygroundConfig) -> Run:
    """The seeded, untrained network of ``config`` (epoch 0, its losses recorded)."""
    config.check()
    net = MLP([2, *config.hidden, 1], activation=config.activation, output_activation="sigmoid",
              loss="binary_cross_entropy", seed=config.seed)
    opt = _optim.GradientDescent(learning_rate=config.learning_rate)
    run = Run(config, net, opt, np.random.default_rng(config.seed + 1))
    _record(run)
    return run


def _record(run: Run) -> None:
    """Append the network's losses (NaN once it blew up) and test accuracy to the run."""
    X_tr, X_te, y_tr, y_te = run.data
    with np.errstate(all="ignore"):
        run.history.train_loss.append(float(run.net.loss_value(X_tr / INPUT_SCALE, y_tr)))
        run.history.val_loss.append(float(run.net.loss_value(X_te / INPUT_SCALE, y_te)))
        run.test_accuracy.append(accuracy(run, "test"))


def train_epochs(run: Run, epochs: int) -> None:
    """Train ``epochs`` more epochs (shuffled mini-batches) with :meth:`course.MLP.fit`, continuing the run.

    Training stops early when it diverges: the loss is not finite (``fit`` raises
    ``FloatingPointError``) or exceeds DIVERGENCE_FACTOR times its initial value;
    ``run.diverged_at`` is then the epoch where it happened.
    """
    if run.diverged_at is not None:
        return
    c = run.config
    X_tr, X_te, y_tr, y_te = run.data
    limit = DIVERGENCE_FACTOR * run.train_loss[0]

    def watch(epoch: int, history: History):
        run.test_accuracy.append(accuracy(run, "test"))
        if history.train_loss[-1] > limit:
            run.diverged_at = epoch
            return False
        return True

    try:
        run.net.fit(X_tr / INPUT_SCALE, y_tr, epochs=epochs, optimizer=run.optimizer, batch_size=c.batch_size,
                    l1=c.l1, l2=c.l2, dropout=c.dropout, rng=run.rng,
                    validation_data=(X_te / INPUT_SCALE, y_te), history=run.history, callback=watch)
    except FloatingPointError:
        run.diverged_at = run.history.epochs  # the epoch that blew up: record what it left
        _record(run)


def train_to(config: PlaygroundConfig, epoch: int, run: Run | None = None) -> Run:
    """The run of ``config`` at ``epoch``: continues ``run`` when it can, else starts again from the seed.

    The result depends only on (config, epoch): training is seeded and
    deterministic, so going back in time simply replays from epoch 0.
    """
    if int(epoch) != epoch or epoch < 0:
        raise ValueError(f"epoch must be a whole number >= 0, got {epoch!r}")
    if run is None or run.config != config or run.epoch > epoch:
        run = new_run(config)
    if run.epoch < epoch:
        train_epochs(run, int(epoch) - run.epoch)
    return run


def accuracy(run: Run, which: str = "test") -> float:
    """The fraction of points classified correctly (P > 0.5 means class 1)."""
    X_tr, X_te, y_tr, y_te = run.data
    X, y = (X_te, y_te) if which == "test" else (X_tr, y_tr)
    return float(np.mean((run.net.predict(X / INPUT_SCALE)[:, 0] > 0.5) == (y == 1)))


# ---------------------------------------------------------------- what the figure shows (pure functions)
@functools.lru_cache(maxsize=4)
def plane(n: int) -> np.ndarray:
    """The n x n grid of input points over [-WINDOW, WINDOW]^2, row-major from the bottom. Shape: (n*n, 2)."""
    t = np.linspace(-WINDOW, WINDOW, n)
    X1, X2 = np.meshgrid(t, t)
    return np.column_stack([X1.ravel(), X2.ravel()])


def neuron_maps(net: MLP, n: int = 16) -> list[np.ndarray]:
    """a^(l) over the plane for l = 0 (the inputs) .. L (the output): a list of (n_l, n, n) arrays."""
    with np.errstate(all="ignore"):
        net.forward(plane(n) / INPUT_SCALE)
    return [a.T.reshape(-1, n, n) for a in net.a]


def layer_positions(sizes) -> list[np.ndarray]:
    """Centres (x, y) of every neuron in the diagram's unit box, one (n_l, 2) array per layer."""
    n_cols = len(sizes)
    xs = np.linspace(0.07, 0.93, n_cols) if n_cols > 1 else np.array([0.5])
    out = []
    for x, n in zip(xs, sizes):
        ys = 0.5 + (np.arange(n) - (n - 1) / 2) * NEURON_SPACING
        out.append(np.column_stack([np.full(n, x), ys]))
    return out


# ---------------------------------------------------------------- the widget
class PlaygroundApp(App):
    """TensorFlow Playground in Jupyter: train a small MLP on a 2-D dataset and watch every neuron."""

    title = "Training playground"
    explanation = ("Choose data and a network, then press ▶ train (one epoch per tick); pause stops where it is, "
                   "↺ reset goes back to epoch 0. "
                   "Orange is class 0 / negative, blue is class 1 / positive.")
    figsize = (10.0, 3.7)

    # -- controls
    def _make_controls(self):
        W = self._W
        c = PlaygroundConfig()
        hidden_count = W.BoundedIntText(value=len(c.hidden), min=0, max=MAX_LAYERS, description="hidden layers")
        controls = {
            "dataset": W.Dropdown(options=list(DATASETS), value=c.dataset, description="data"),
            "noise": W.IntSlider(value=int(100 * c.noise), min=0, max=50, step=5, description="noise %",
                                 continuous_update=False),
            "train_percent": W.IntSlider(value=int(100 * c.train_fraction), min=10, max=90, step=10,
                                         description="training %", continuous_update=False),
            "activation": W.Dropdown(options=ACTIVATIONS, value=c.activation, description="activation"),
            "learning_rate": W.SelectionSlider(options=LEARNING_RATES, value=c.learning_rate,
                                               description="learning rate", continuous_update=False,
),
            "batch_size": W.IntSlider(value=c.batch_size, min=1, max=30, description="batch size",
                                      continuous_update=False),
            "regularization": W.Dropdown(options=["none", "L1", "L2"], value=c.regularization,
                                         description="penalty"),
            "reg_rate": W.SelectionSlider(options=REG_RATES, value=c.reg_rate, description="penalty rate",
                                          continuous_update=False),
            "dropout": W.FloatSlider(value=c.dropout, min=0.0, max=0.5, step=0.05, description="dropout",
                                     continuous_update=False),
            "seed": W.BoundedIntText(value=c.seed, min=0, max=9999, description="seed"),
            "layers": hidden_count,
        }
        for l in range(1, MAX_LAYERS + 1):
            n = c.hidden[l - 1] if l <= len(c.hidden) else 2
            controls[f"neurons_{l}"] = W.BoundedIntText(value=n, min=1, max=MAX_NEURONS,
                                                        layout=W.Layout(width="48px"))
            controls[f"add_neuron_{l}"] = W.Button(description="+", layout=W.Layout(width="48px"),
                                                   tooltip=f"one more neuron in hidden layer {l}")
            controls[f"remove_neuron_{l}"] = W.Button(description="-", layout=W.Layout(width="48px"),
                                                      tooltip=f"one neuron less in hidden layer {l}")
        controls.update({
            "add_layer": W.Button(description="+ layer", tooltip="one more hidden layer"),
            "remove_layer": W.Button(description="- layer", tooltip="one hidden layer less"),
            # the clock of the training: its own buttons are hidden (its "stop" would also rewind);
            # the labelled buttons below start, pause, step and reset it
            "epoch": W.Play(value=0, min=0, max=5000, step=1, interval=150, description="train",
                            show_repeat=False, layout=W.Layout(display="none")),
            "train": W.Button(description="▶ train", tooltip="train one epoch per tick until paused",
                              button_style="success"),
            "pause": W.Button(description="pause", tooltip="pause the training (it stays at this epoch)"),
            "step": W.Button(description="step", tooltip="train one epoch"),
            "reset": W.Button(description="↺ reset", tooltip="pause and go back to the initial weights (epoch 0)"),
            "show_test": W.Checkbox(value=False, description="show test data", indent=False),
            "discretize": W.Checkbox(value=False, description="discretize output", indent=False),
        })
        return controls

    _CONFIG_CONTROLS = ("dataset", "noise", "train_percent", "activation", "learning_rate", "batch_size",
                        "regularization", "reg_rate", "dropout", "seed", "layers",
                        *(f"neurons_{l}" for l in range(1, MAX_LAYERS + 1)))

    def __init__(self):
        self._run: Run | None = None
        super().__init__()
        c = self.controls
        self.on_click("step", lambda: setattr(c["epoch"], "value", c["epoch"].value + 1))
        self.on_click("reset", self.reset)
        self.on_click("train", self.train)
        self.on_click("pause", self.pause)
        self.on_click("add_layer", lambda: self._bump("layers", +1))
        self.on_click("remove_layer", lambda: self._bump("layers", -1))
        for l in range(1, MAX_LAYERS + 1):
            self.on_click(f"add_neuron_{l}", functools.partial(self._bump, f"neurons_{l}", +1))
            self.on_click(f"remove_neuron_{l}", functools.partial(self._bump, f"neurons_{l}", -1))
        self.speed.observe(lambda change: setattr(c["epoch"], "step", change["new"]), names="value")

    def _bump(self, name: str, delta: int) -> None:
        control = self.controls[name]
        control.value = int(np.clip(control.value + delta, control.min, control.max))

    def train(self) -> None:
        """Start training: one epoch (or "per tick" epochs) per tick of the clock, until paused."""
        self.controls["epoch"].playing = True

    def pause(self) -> None:
        """Pause the training; it stays at the current epoch and goes on from there."""
        self.controls["epoch"].playing = False

    def reset(self) -> None:
        """Pause and go back to epoch 0 (the seeded initial weights)."""
        play = self.controls["epoch"]
        with self.hold():
            play.playing = False
            play.value = 0

    def _on_change(self, change=None) -> None:
        # a new configuration starts again at epoch 0 (paused), in one redraw
        if change is not None and change["owner"] in self._config_widgets and self.controls["epoch"].value:
            with self.hold():
                self.reset()
            return
        super()._on_change(change)

    def _read_state(self) -> PlaygroundState:
        c = self.controls
        hidden = tuple(int(c[f"neurons_{l}"].value) for l in range(1, int(c["layers"].value) + 1))
        config = PlaygroundConfig(
            dataset=c["dataset"].value, noise=c["noise"].value / 100, train_fraction=c["train_percent"].value / 100,
            hidden=hidden, activation=c["activation"].value, learning_rate=float(c["learning_rate"].value),
            batch_size=int(c["batch_size"].value), regularization=c["regularization"].value,
            reg_rate=float(c["reg_rate"].value), dropout=float(c["dropout"].value), seed=int(c["seed"].value))
        return PlaygroundState(config, int(c["epoch"].value), bool(c["show_test"].value),
                               bool(c["discretize"].value))

    # -- layout
    def _layout(self, W):
        c = self.controls
        self._config_widgets = {c[name] for name in self._CONFIG_CONTROLS}
        self.speed = W.Dropdown(options=[("1 epoch", 1), ("5 epochs", 5), ("20 epochs", 20)], value=1,
                                description="per tick", tooltip="epochs trained per tick of the clock")
        self.info = W.HTML()
        self._layer_rows = []
        for l in range(1, MAX_LAYERS + 1):
            row = W.HBox([W.Label(f"layer {l}:", layout=W.Layout(width="auto", min_width="fit-content")),
                          c[f"remove_neuron_{l}"],
                          c[f"neurons_{l}"], c[f"add_neuron_{l}"]])
            self._layer_rows.append(row)
        c["layers"].observe(lambda _change: self._show_layer_rows(), names="value")
        self._show_layer_rows()
        column = "300px"
        data = self.controls_column([W.HTML("<b>data</b>"), c["dataset"], c["noise"], c["train_percent"],
                                     c["seed"]], column)
        network = self.controls_column([W.HTML("<b>network</b>"), W.HBox([c["remove_layer"], c["add_layer"]]),
                                        c["layers"], *self._layer_rows, c["activation"]], column)
        training = self.controls_column([W.HTML("<b>training</b>"), c["learning_rate"], c["batch_size"],
                                         c["regularization"], c["reg_rate"], c["dropout"]], column)
        run = [c["epoch"], c["train"], c["pause"], c["step"], c["reset"], self.speed, c["show_test"],
               c["discretize"]]
        for control in run:
            fit_control(control)
        self.speed.layout.width = "170px"
        return self.frame([[data, network, training], run, [self.figure_box()], self.info])

    def _show_layer_rows(self) -> None:
        n = self.controls["layers"].value
        for l, row in enumerate(self._layer_rows, start=1):
            row.layout.display = None if l <= n else "none"

    # -- figure
    def _build(self, fig):
        from matplotlib.collections import LineCollection
        from matplotlib.colors import LinearSegmentedColormap, to_rgba_array
        from matplotlib.ticker import MaxNLocator

        self.cmap = LinearSegmentedColormap.from_list("playground", [ORANGE, "#e8eaeb", BLUE])
        gs = fig.add_gridspec(1, 3, width_ratios=[1.45, 1.0, 1.0], left=0.01, right=0.985, bottom=0.12,
                              top=0.9, wspace=0.2)
        self.ax_net = fig.add_subplot(gs[0])
        self.ax_map = fig.add_subplot(gs[1])
        self.ax_loss = fig.add_subplot(gs[2])
        dyn = self.dynamic
        # the network: weights as lines, neurons as one composite image of their heatmaps, at half the
        # screen resolution of the axes, each neuron a square cell that fits between its neighbours
        bbox = self.ax_net.get_window_extent()
        h, w = int(bbox.height / 2), int(bbox.width / 2)
        self._diagram_px = (h, w)
        #: the side of a neuron's heatmap in the diagram, in pixels
        self.cell = max(4, int(0.85 * NEURON_SPACING * h))
        self.ax_net.set_xlim(0, 1)
        self.ax_net.set_ylim(1, 0)
        self.ax_net.set_axis_off()
        self.ax_net.set_title("neurons a(x) and weights (blue > 0, orange < 0)", fontsize=9)
        self.weight_lines = dyn(LineCollection([], capstyle="round"))
        self._segment_sizes = None
        self._rgba_blue, self._rgba_orange = to_rgba_array([BLUE, ORANGE])
        self.ax_net.add_collection(self.weight_lines)
        self.neuron_image = dyn(self.ax_net.imshow(np.zeros((h, w, 4)), extent=(0, 1, 1, 0), aspect="auto",
                                                   interpolation="nearest", zorder=3))
        # the decision heatmap (colour-mapped here, shown as RGBA) and the points, one marker line per class
        self.heatmap = dyn(self.ax_map.imshow(np.zeros((GRID, GRID, 4)), extent=(-WINDOW, WINDOW, -WINDOW, WINDOW),
                                              origin="lower", interpolation="nearest", aspect="auto"))
        self.points = {}
        for part, rim in (("train", "w"), ("test", "k")):
            for label, color in ((0, ORANGE), (1, BLUE)):
                self.points[part, label] = dyn(*self.ax_map.plot([], [], "o", ms=3.6, mfc=color, mec=rim,
                                                                 mew=0.6, ls="none"))
        self.ax_map.set_xlim(-WINDOW, WINDOW)
        self.ax_map.set_ylim(-WINDOW, WINDOW)
        self.ax_map.set_title("output P(y = 1 | x)", fontsize=9)
        self.ax_map.set_xticks([-5, 0, 5])
        self.ax_map.set_yticks([-5, 0, 5])
        self.ax_map.tick_params(labelsize=8, pad=1)
        # the loss curves
        self.train_curve = dyn(*self.ax_loss.plot([], [], color="#333333", lw=1.4, label="training"))
        self.test_curve = dyn(*self.ax_loss.plot([], [], color="#d62728", lw=1.4, label="test"))
        self.ax_loss.legend(loc="upper right", fontsize=8, frameon=False)
        self.ax_loss.set_title("loss (binary cross-entropy)", fontsize=9)
        self.ax_loss.set_xlabel("epoch", fontsize=8, labelpad=1)
        self.ax_loss.xaxis.set_major_locator(MaxNLocator(4, integer=True))
        self.ax_loss.yaxis.set_major_locator(MaxNLocator(3))
        self.ax_loss.tick_params(labelsize=8, pad=1)

    def _draw(self, state: PlaygroundState) -> None:
        self._run = run = train_to(state.config, state.epoch, self._run)
        if run.diverged_at is not None and self.controls["epoch"].playing:
            self.controls["epoch"].playing = False
        X_tr, X_te, y_tr, y_te = run.data
        maps = neuron_maps(run.net, self.cell)
        # decision heatmap
        with np.errstate(all="ignore"):
            p = run.net.predict(plane(GRID) / INPUT_SCALE)[:, 0].reshape(GRID, GRID)
        if state.discretize:
            p = (p > 0.5).astype(float)
        self.heatmap.set_data(self.cmap(p, bytes=True))
        for (part, label), line in self.points.items():
            X, y = (X_tr, y_tr) if part == "train" else (X_te, y_te)
            line.set_data(X[y == label, 0], X[y == label, 1])
            line.set_visible(part == "train" or state.show_test)
        # network diagram
        sizes = run.net.sizes
        centres = layer_positions(sizes)
        self.neuron_image.set_data(self._compose(run.net, maps, centres))
        if tuple(sizes) != self._segment_sizes:
            self.weight_lines.set_segments(self._segments(centres))
            self._segment_sizes = tuple(sizes)
        w = np.concatenate([W.T.ravel() for W in run.net.weights])        # in the order of the segments
        w = np.where(np.isfinite(w), w, 0.0)
        self.weight_lines.set_color(np.where((w > 0)[:, None], self._rgba_blue, self._rgba_orange))
        self.weight_lines.set_linewidth(np.clip(1.5 * np.abs(w), 0.3, 5.0))
        # loss curves: the axes grow in steps so that most epochs redraw no axis
        epochs = np.arange(run.epoch + 1)
        self.train_curve.set_data(epochs, run.train_loss)
        self.test_curve.set_data(epochs, run.test_loss)
        x_max = 10
        while x_max < run.epoch:
            x_max *= 2
        self.ax_loss.set_xlim(0, x_max)
        finite_losses = [v for v in run.train_loss + run.test_loss if np.isfinite(v)]
        top = max(finite_losses, default=1.0)
        self.ax_loss.set_ylim(0, 1.0 if top <= 0.95 else float(np.ceil(top * 1.1)))
        self.info.value = self.describe(run)
        self.run = run

    @staticmethod
    def describe(run: Run) -> str:
        """The epoch and the current losses and test accuracy, for the line under the figure."""
        text = (f"epoch {run.epoch}: training loss {run.train_loss[-1]:.3f}, test loss {run.test_loss[-1]:.3f}, "
                f"test accuracy {100 * run.test_accuracy[-1]:.1f}%, {run.net.n_parameters} parameters")
        if run.diverged_at is not None:
            text += (f". <b style='color:#b00020'>Training diverged in epoch {run.diverged_at}</b> (the loss "
                     f"blew up and the sigmoid output saturated): lower the learning rate.")
        return text

    def _compose(self, net: MLP, maps, centres) -> np.ndarray:
        """One RGBA image holding every neuron's heatmap at its place in the diagram. Shape: (h, w, 4).

        Each map is centred (0 for the inputs and for tanh, ReLU and linear
        neurons; 0.5 for sigmoid neurons and the output probability) and scaled
        by its largest magnitude, so that its sign pattern fills the colour range.
        """
        h, w = self._diagram_px
        cell = self.cell
        image = np.zeros((h, w, 4))
        last = len(maps) - 1
        for l, (a, xy) in enumerate(zip(maps, centres)):
            sigmoid_like = l == last or (0 < l and net.layer_activations[l - 1].name == "sigmoid")
            v = a - (0.5 if sigmoid_like else 0.0)                       # (n_l, cell, cell)
            scale = np.nanmax(np.abs(v), axis=(1, 2), keepdims=True)
            v = np.where(np.isfinite(v), v / np.where(scale > 0, scale, 1.0), 0.0)
            rgba = self.cmap(0.5 + 0.5 * v)                               # (n_l, cell, cell, 4)
            for j, (x, y) in enumerate(xy):
                r0 = int(round(y * h)) - cell // 2
                c0 = int(round(x * w)) - cell // 2
                image[r0:r0 + cell, c0:c0 + cell] = rgba[j, ::-1]   # row 0 of a map is the bottom of the plane
        return image

    @staticmethod
    def _segments(centres) -> list:
        """One segment per weight w_jk^(l), from neuron k of layer l-1 to neuron j of layer l (row-major in W^T)."""
        segs = []
        for prev, nxt in zip(centres[:-1], centres[1:]):
            for k in range(len(prev)):
                for j in range(len(nxt)):
                    segs.append([prev[k], nxt[j]])
        return segs


def playground() -> PlaygroundApp:
    """TensorFlow Playground in Jupyter: data, network, training controls; play, pause, step, reset."""
    return PlaygroundApp()
