"""MonitorCallback: the shared part of the callbacks that watch one logged quantity
(EarlyStopping, ModelCheckpoint, ReduceLROnPlateau): which direction is better, and by how much."""
from __future__ import annotations

import warnings

import numpy as np

from tensorweave.keras.callbacks.callback import Callback


def _flat_metrics(metrics) -> list:
    """The model's metrics with the members of metric containers (compiled metrics) listed."""
    out = []
    for metric in metrics or []:
        out.append(metric)
        inner = getattr(metric, "metrics", None)
        if isinstance(inner, (list, tuple)) and inner is not metrics:
            out.extend(_flat_metrics(inner))
    return out


class MonitorCallback(Callback):
    """Compares a monitored value with the best so far. In "auto" mode, "loss" (and "val_loss")
    is minimized; any other name must be one of the model's metrics, whose direction (up or
    down) decides; otherwise it is an error, as in Keras 3."""

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto "
                          "mode.", stacklevel=3)
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self) -> None:
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            name = self.monitor.removeprefix("val_")
            if name == "loss":
                self.monitor_op = np.less
            for metric in _flat_metrics(getattr(self.model, "metrics", None)):
                if getattr(metric, "name", None) == name and hasattr(metric, "_direction"):
                    self.monitor_op = np.greater if metric._direction == "up" else np.less
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but Keras "
                    "isn't able to automatically determine whether that metric should be "
                    "maximized or minimized. Pass `mode='max'` in order to monitor based on the "
                    "highest metric value, or pass `mode='min'` in order to use the lowest value.")
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
