"""History: what a training loop recorded, epoch by epoch (the NumPy and the PyTorch loops alike)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["History"]


@dataclass
class History:
    """The loss per epoch (without any penalty), the best epoch and whether early stopping ended training.

    Attributes:
        train_loss: the training loss after each epoch.
        val_loss: the validation loss after each epoch (empty without validation data).
        best_epoch: the epoch (0-based) with the lowest validation loss, or None.
        stopped_early: True when early stopping ended training.
        seconds: the wall time of training.
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    stopped_early: bool = False
    seconds: float = 0.0

    @property
    def epochs(self) -> int:
        """The number of epochs recorded."""
        return len(self.train_loss)

    def __getitem__(self, key):
        return getattr(self, key)

    def summary(self) -> str:
        """One line: epochs, final training loss, best validation loss."""
        text = f"{self.epochs} epochs, train loss {self.train_loss[-1]:.3g}"
        if self.val_loss:
            best = self.best_epoch if self.best_epoch is not None else min(range(len(self.val_loss)),
                                                                            key=self.val_loss.__getitem__)
            text += f", best validation loss {self.val_loss[best]:.3g} (epoch {best + 1})"
        if self.stopped_early:
            text += ", stopped early"
        return text
