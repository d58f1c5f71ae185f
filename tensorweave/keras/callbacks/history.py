"""History: the per-epoch logs of fit, returned by fit and kept as `model.history`."""
from __future__ import annotations

from tensorweave.keras.callbacks.callback import Callback


class History(Callback):
    """`history.history["val_loss"]` is the list of each epoch's validation loss."""

    def __init__(self):
        super().__init__()
        self.history: dict = {}
        self.epoch: list = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        self.model.history = self
