"""LearningRateScheduler and ReduceLROnPlateau: set the optimizer's learning rate between
epochs, and log it as "learning_rate" at the end of each epoch (as Keras 3 does)."""
from __future__ import annotations

import warnings

import numpy as np

from tensorweave.keras.callbacks.callback import Callback
from tensorweave.keras.callbacks.monitor_callback import MonitorCallback


def _as_float(value) -> float:
    if hasattr(value, "numpy"):
        value = value.numpy()
    return float(np.asarray(value))


def _log_learning_rates(model, logs: dict) -> None:
    optimizer = model.optimizer
    if hasattr(optimizer, "optimizers"):
        for opt in optimizer.optimizers:
            logs[f"learning_rate_{opt.name}"] = _as_float(opt.learning_rate)
    else:
        logs["learning_rate"] = _as_float(optimizer.learning_rate)


class LearningRateScheduler(Callback):
    """At the start of each epoch sets the learning rate to `schedule(epoch, lr)` (or
    `schedule(epoch)` for a one-argument function); the result must be a float."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, _as_float(optimizer.learning_rate))
        except TypeError:  # the older one-argument schedules
            learning_rate = self.schedule(epoch)
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError("The output of the `schedule` function should be a float. "
                             f"Got: {learning_rate}")
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if hasattr(optimizer, "optimizers"):
            for opt in optimizer.optimizers:
                learning_rate = self._update_optimizer_lr(opt, epoch)
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting {opt.name} "
                          f"learning rate to {learning_rate}.", flush=True)
        else:
            learning_rate = self._update_optimizer_lr(optimizer, epoch)
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                      f"{learning_rate}.", flush=True)

    def on_epoch_end(self, epoch, logs=None):
        _log_learning_rates(self.model, logs if logs is not None else {})


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by `factor` (not below `min_lr`) after `patience` epochs
    without improvement, then waits `cooldown` epochs before counting again."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError("ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def _reset(self) -> None:
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def _reduce_optimizer_lr(self, optimizer, epoch, name="") -> bool:
        old_lr = _as_float(optimizer.learning_rate)
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                name_str = f" {name}" if name else ""
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing{name_str} learning rate "
                      f"to {new_lr}.", flush=True)
            return True
        return False

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        _log_learning_rates(self.model, logs)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          "which is not available. Available metrics are: "
                          f"{','.join(list(logs.keys()))}.", stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                optimizer = self.model.optimizer
                if hasattr(optimizer, "optimizers"):
                    reduced = any([self._reduce_optimizer_lr(opt, epoch, f"{opt.name}")
                                   for opt in optimizer.optimizers])
                else:
                    reduced = self._reduce_optimizer_lr(optimizer, epoch)
                if reduced:
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0
