"""R2Score (coefficient of determination, streamed per output column) and the Pearson and
concordance correlation metrics."""
from __future__ import annotations

import warnings

from tensorweave.framework.context import executing_eagerly
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.losses.loss import squeeze_or_expand_to_same_rank
from tensorweave.keras.metrics.metric import Metric
from tensorweave.keras.metrics.metrics_utils import _as, _broadcast_like
from tensorweave.keras.metrics.reduction_metrics import MeanMetricWrapper
from tensorweave.ops import array_ops, math_ops, reduction_ops

_AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")


class R2Score(Metric):
    """1 - residual sum of squares / total sum of squares, per column of 2D targets, averaged
    uniformly or by the columns' variances (or per column with `class_aggregation=None`);
    `num_regressors` > 0 gives the adjusted score 1 - (1 - R2) (n - 1) / (n - p - 1)."""

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if class_aggregation not in _AGGREGATIONS:
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one of "
                             f"{_AGGREGATIONS}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value >= 0. "
                             f"Received: num_regressors={num_regressors}")
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.num_samples = self.add_variable(shape=(), initializer="zeros", name="num_samples",
                                             dtype=backend_config.floatx())
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={y_pred_shape} and "
                             f"y_true.shape={y_true_shape}.")
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:
            raise ValueError("R2Score expects 2D inputs with shape (batch_size, output_dim), with "
                             "output_dim fully defined (not None). Received input shapes: "
                             f"y_pred.shape={y_pred_shape} and y_true.shape={y_true_shape}.")
        columns = y_pred_shape[-1]
        for attribute, name in (("squared_sum", "squared_sum"), ("sum", "sum"),
                                ("total_mse", "residual"), ("count", "count")):
            setattr(self, attribute,
                    self.add_variable(name=name, shape=(columns,), initializer="zeros",
                                      dtype=backend_config.floatx()))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _as(y_true, self.dtype)
        y_pred = _as(y_pred, self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        weight = _as(1 if sample_weight is None else sample_weight, self.dtype)
        if weight.shape.rank == 1:
            weight = array_ops.expand_dims(weight, 1)
        weight = _broadcast_like(weight, y_true)
        var_dtype = self.sum.dtype
        weighted = math_ops.multiply(y_true, weight)

        def add(variable, values):
            variable.assign_add(_as(reduction_ops.reduce_sum(values, axis=0), var_dtype))

        add(self.sum, weighted)
        add(self.squared_sum, math_ops.multiply(y_true, weighted))
        add(self.total_mse, math_ops.multiply(math_ops.square(math_ops.subtract(y_true, y_pred)),
                                              weight))
        add(self.count, weight)
        self.num_samples.assign_add(_as(array_ops.size(y_true), self.num_samples.dtype))

    def result(self):
        if not self._built:  # nothing seen yet
            return array_ops.zeros((), dtype=self.num_samples.dtype)
        mean = math_ops.divide(self.sum, self.count)
        total = math_ops.subtract(self.squared_sum, math_ops.multiply(self.sum, mean))
        raw = math_ops.subtract(1.0, math_ops.divide(self.total_mse, total))
        raw = array_ops.where(math_ops.is_inf(raw), array_ops.zeros_like(raw), raw)
        if self.class_aggregation == "uniform_average":
            score = reduction_ops.reduce_mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = math_ops.divide(reduction_ops.reduce_sum(math_ops.multiply(total, raw)),
                                    reduction_ops.reduce_sum(total))
        else:
            score = raw
        if self.num_regressors == 0:
            return score
        n = convert_to_tensor(self.num_samples)
        p = float(self.num_regressors)
        if executing_eagerly():
            samples = float(n.numpy())
            if p > samples - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 score. "
                              "Falling back to standard R2 score.", stacklevel=2)
            elif p == samples - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to standard "
                              "R2 score.", stacklevel=2)
        adjusted = math_ops.subtract(
            1.0, math_ops.divide(math_ops.multiply(math_ops.subtract(1.0, score),
                                                   math_ops.subtract(n, 1.0)),
                                 math_ops.subtract(math_ops.subtract(n, p), 1.0)))
        # the adjustment needs more data points than regressors + 1
        return array_ops.where(math_ops.greater(math_ops.subtract(n, 1.0), p), adjusted, score)

    def reset_state(self) -> None:
        for v in self.variables:
            v.assign(array_ops.zeros(v.shape, dtype=v.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "name": self.name, "dtype": self.dtype,
                "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


def _float_pair(y_true, y_pred):
    y_pred = convert_to_tensor(y_pred)
    if not y_pred.dtype.is_floating:
        y_pred = math_ops.cast(y_pred, backend_config.floatx())
    y_true = _as(y_true, y_pred.dtype)
    return squeeze_or_expand_to_same_rank(y_true, y_pred)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Pearson's correlation of y_true and y_pred along `axis`."""
    y_true, y_pred = _float_pair(y_true, y_pred)

    def standardized(x):
        centered = math_ops.subtract(x, reduction_ops.reduce_mean(x, axis=axis, keepdims=True))
        return math_ops.divide(centered,
                               reduction_ops.reduce_std(centered, axis=axis, keepdims=True))

    return reduction_ops.reduce_mean(math_ops.multiply(standardized(y_true),
                                                       standardized(y_pred)), axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation of y_true and y_pred along `axis` (the per-entry terms
    2 (y_true - mean(y_pred)) (y_pred - mean(y_pred)) / (var_t + var_p + (mean_t - mean_p)^2),
    averaged, as Keras 3 computes it)."""
    y_true, y_pred = _float_pair(y_true, y_pred)
    mean_true = reduction_ops.reduce_mean(y_true, axis=axis, keepdims=True)
    mean_pred = reduction_ops.reduce_mean(y_pred, axis=axis, keepdims=True)
    var_true = reduction_ops.reduce_variance(math_ops.subtract(y_true, mean_true), axis=axis,
                                             keepdims=True)
    var_pred = reduction_ops.reduce_variance(math_ops.subtract(y_pred, mean_pred), axis=axis,
                                             keepdims=True)
    covariance = math_ops.multiply(math_ops.subtract(y_true, mean_pred),
                                   math_ops.subtract(y_pred, mean_pred))
    norm = math_ops.add(math_ops.add(var_true, var_pred),
                        math_ops.square(math_ops.subtract(mean_true, mean_pred)))
    terms = math_ops.divide(math_ops.multiply(covariance, 2.0),
                            math_ops.add(norm, backend_config.epsilon()))
    return reduction_ops.reduce_mean(terms, axis=axis)


class PearsonCorrelation(MeanMetricWrapper):
    """The mean over samples of pearson_correlation along `axis`."""

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(fn=pearson_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean over samples of concordance_correlation along `axis`."""

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(fn=concordance_correlation, name=name, dtype=dtype, axis=axis)
        self.axis = axis
        self._direction = "up"

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype, "axis": self.axis}
