"""Hinge metrics (Keras 3): streaming means of the hinge losses of keras.losses."""
from __future__ import annotations

from tensorweave.keras.metrics.reduction_metrics import MeanMetricWrapper
from tensorweave.keras.metrics.regression_metrics import _losses, _NameDtypeConfig


class Hinge(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of max(1 - y_true * y_pred, 0) (labels -1/1, or 0/1 mapped to -1/1)."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(fn=_losses().hinge, name=name, dtype=dtype)
        self._direction = "down"


class SquaredHinge(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of max(1 - y_true * y_pred, 0) squared."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(fn=_losses().squared_hinge, name=name, dtype=dtype)
        self._direction = "down"


class CategoricalHinge(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of max(0, max(negative scores) - positive score + 1) over one-hot labels."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(fn=_losses().categorical_hinge, name=name, dtype=dtype)
        self._direction = "down"
