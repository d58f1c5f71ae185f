"""Sum, Mean and MeanMetricWrapper: the metrics every other streaming average builds on."""
from __future__ import annotations

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine.layer import _get_mask
from tensorweave.keras.losses.loss import apply_mask, squeeze_or_expand_to_same_rank
from tensorweave.keras.metrics.metric import Metric
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, math_ops, reduction_ops


def _cast(x, dtype):
    x = convert_to_tensor(x)
    return x if x.dtype == dtypes.as_dtype(dtype) else math_ops.cast(x, dtype)


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """One value per sample: values weighted by `sample_weight` (and the values' mask), reduced by
    `reduce_fn` over the axes the weights do not cover; returns (values, per-sample weights)."""
    mask = _get_mask(values)
    values = _cast(values, dtype)
    if sample_weight is not None:
        sample_weight = _cast(sample_weight, dtype)
        if mask is not None:
            sample_weight = apply_mask(sample_weight, mask, dtype=dtype, reduction="sum")
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_rank, values_rank = sample_weight.shape.rank, values.shape.rank
        if values_rank > weight_rank:
            values = reduce_fn(values, axis=list(range(weight_rank, values_rank)))
        # the weights take the values' shape (an elementwise product: the batch size may be
        # unknown while a step is traced)
        sample_weight = math_ops.multiply(array_ops.ones_like(values), sample_weight)
        values = math_ops.multiply(values, sample_weight)
        if weight_rank > 1:
            sample_weight = reduce_fn(sample_weight, axis=list(range(1, weight_rank)))
    if values.shape.rank > 1:
        values = reduce_fn(values, axis=list(range(1, values.shape.rank)))
    return values, sample_weight


class Sum(Metric):
    """The (weighted) sum of the values seen."""

    def __init__(self, name: str = "sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype,
                                       name="total")

    def update_state(self, values, sample_weight=None):
        values, _ = reduce_to_samplewise_values(values, sample_weight,
                                                reduction_ops.reduce_sum, self.dtype)
        self.total.assign_add(reduction_ops.reduce_sum(values))

    def result(self):
        return math_ops.cast(self.total, self.dtype)


class Mean(Metric):
    """The (weighted) mean of the values seen: total / count."""

    def __init__(self, name: str = "mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.total = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype,
                                       name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", dtype=self.dtype,
                                       name="count")

    def update_state(self, values, sample_weight=None):
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight,
                                                            reduction_ops.reduce_mean, self.dtype)
        self.total.assign_add(reduction_ops.reduce_sum(values))
        if sample_weight is not None:
            count = reduction_ops.reduce_sum(sample_weight)
        elif values.shape.rank >= 1:
            count = math_ops.cast(array_ops.shape(values)[0], self.dtype)
        else:
            count = 1.0
        self.count.assign_add(_cast(count, self.dtype))

    def result(self):
        return math_ops.divide_no_nan(self.total, math_ops.cast(self.count, self.dtype))


class MeanMetricWrapper(Mean):
    """The mean of `fn(y_true, y_pred, **kwargs)` over all samples seen."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = _get_mask(y_pred)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        sample_weight = apply_mask(sample_weight, mask, dtype=self.dtype, reduction="sum")
        return super().update_state(values, sample_weight=sample_weight)

    def get_config(self) -> dict:
        config = {**super().get_config(), "fn": serialization.serialize_keras_object(self._fn)}
        config.update(serialization.serialize_keras_object(self._fn_kwargs))
        return config

    @classmethod
    def from_config(cls, config: dict):
        if "fn" in config:
            config = dict(config)
            config["fn"] = serialization.deserialize_keras_object(config["fn"])
        return cls(**config)
