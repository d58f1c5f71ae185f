"""Regression metrics (Keras 3): streaming means of per-sample errors, root mean squared error and
cosine similarity. The per-sample errors are the loss functions of keras.losses."""
from __future__ import annotations

from tensorweave.keras.engine import backend_config
from tensorweave.keras.losses.loss import squeeze_or_expand_to_same_rank
from tensorweave.keras.metrics.accuracy_metrics import _tensor
from tensorweave.keras.metrics.reduction_metrics import Mean, MeanMetricWrapper
from tensorweave.ops import math_ops, reduction_ops


def _losses():
    from tensorweave.keras.losses import losses as loss_fns
    return loss_fns


def _l2_normalize(x, axis):
    """x / ||x|| along `axis` as Keras computes it: x * min(rsqrt(sum(x^2)), 1 / epsilon)."""
    square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=True)
    inverse_norm = math_ops.minimum(math_ops.rsqrt(square_sum), 1.0 / backend_config.epsilon())
    return math_ops.multiply(x, inverse_norm)


def cosine_similarity(y_true, y_pred, axis=-1):
    """The cosine of the angle between labels and predictions along `axis` (1 = same direction)."""
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return reduction_ops.reduce_sum(
        math_ops.multiply(_l2_normalize(y_true, axis), _l2_normalize(y_pred, axis)), axis=axis)


class _NameDtypeConfig:
    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredError(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of the squared errors."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(fn=_losses().mean_squared_error, name=name, dtype=dtype)
        self._direction = "down"


class MeanAbsoluteError(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of the absolute errors."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(_losses().mean_absolute_error, name, dtype=dtype)
        self._direction = "down"


class MeanAbsolutePercentageError(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of 100 * |y_true - y_pred| / |y_true|."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(_losses().mean_absolute_percentage_error, name, dtype=dtype)
        self._direction = "down"


class MeanSquaredLogarithmicError(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of the squared differences of log(1 + y)."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(_losses().mean_squared_logarithmic_error, name, dtype=dtype)
        self._direction = "down"


class RootMeanSquaredError(_NameDtypeConfig, Mean):
    """The square root of the mean of the squared errors."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _tensor(y_true, self.dtype)
        y_pred = _tensor(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        return super().update_state(math_ops.squared_difference(y_pred, y_true),
                                    sample_weight=sample_weight)

    def result(self):
        return math_ops.sqrt(super().result())


class CosineSimilarity(_NameDtypeConfig, MeanMetricWrapper):
    """The mean cosine similarity of labels and predictions along `axis`. (As in Keras 3, `axis`
    is not part of the config.)"""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name, dtype=dtype, axis=axis)
        self._direction = "up"


class LogCoshError(_NameDtypeConfig, MeanMetricWrapper):
    """The mean of log(cosh(y_pred - y_true))."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(_losses().log_cosh, name, dtype=dtype)
        self._direction = "down"
