"""Accuracy metrics (Keras 3): the fraction of predictions matching the labels, as per-sample
match functions and the streaming means of them."""
from __future__ import annotations

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.losses.loss import squeeze_or_expand_to_same_rank
from tensorweave.keras.metrics.reduction_metrics import MeanMetricWrapper
from tensorweave.ops import array_ops, math_ops, nn_ops, reduction_ops


def _tensor(x, dtype=None):
    """`x` as a tensor, cast to `dtype` when given and different."""
    x = convert_to_tensor(x)
    if dtype is not None and x.dtype != dtypes.as_dtype(dtype):
        x = math_ops.cast(x, dtype)
    return x


def _matches(condition):
    """A boolean condition as Keras's floatx 0/1 values."""
    return math_ops.cast(condition, backend_config.floatx())


def _num_classes(predictions):
    depth = predictions.shape[-1]
    return depth if depth is not None else array_ops.shape(predictions)[-1]


def _as_rows(y_true, y_pred):
    """Predictions of rank > 2 as rows of classes, and labels of rank > 1 as one vector; also
    the labels' shape, to give the matches back that shape (None if unchanged)."""
    original_shape = None
    if y_pred.shape.rank is not None and y_pred.shape.rank > 2:
        y_pred = array_ops.reshape(y_pred, [-1, _num_classes(y_pred)])
    if y_true.shape.rank is not None and y_true.shape.rank > 1:
        original_shape = array_ops.shape(y_true)
        y_true = array_ops.reshape(y_true, [-1])
    return y_true, y_pred, original_shape


def accuracy(y_true, y_pred):
    """1 where `y_true == y_pred`, else 0."""
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _matches(math_ops.equal(y_true, y_pred))


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where `y_true` equals the prediction thresholded at `threshold` (pred > threshold)."""
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true)
    if not y_pred.dtype.is_floating:
        y_pred = math_ops.cast(y_pred, backend_config.floatx())
    threshold = _tensor(threshold, y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = math_ops.cast(math_ops.greater(y_pred, threshold), y_true.dtype)
    return _matches(math_ops.equal(y_true, y_pred))


def categorical_accuracy(y_true, y_pred):
    """1 where the largest prediction is at the class of the one-hot label."""
    y_pred = _tensor(y_pred)
    y_true = reduction_ops.argmax(_tensor(y_true), axis=-1)
    original_shape = None
    if y_true.shape.rank is not None and y_true.shape.rank == y_pred.shape.rank:
        original_shape = array_ops.shape(y_true)
        y_true = array_ops.squeeze(y_true, axis=-1)
    matches = _matches(math_ops.equal(y_true, reduction_ops.argmax(y_pred, axis=-1)))
    if original_shape is not None:
        matches = array_ops.reshape(matches, original_shape)
    return matches


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where the largest prediction is at the integer label; labels of shape (n,) or (n, 1),
    integer or float."""
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true)
    if y_true.shape.rank is not None and y_true.shape.rank == y_pred.shape.rank \
            and y_true.shape[-1] == 1:
        y_true = array_ops.squeeze(y_true, axis=-1)
    if y_true.dtype in (dtypes.int32, dtypes.int64):  # compared as integers: no cast needed
        predicted = reduction_ops.argmax(y_pred, axis=-1, output_type=y_true.dtype)
    else:  # Keras compares in the predictions' dtype
        y_true = _tensor(y_true, y_pred.dtype)
        predicted = math_ops.cast(reduction_ops.argmax(y_pred, axis=-1), y_true.dtype)
    matches = _matches(math_ops.equal(y_true, predicted))
    if matches.shape.rank is not None and matches.shape.rank > 1 and matches.shape[-1] == 1:
        matches = array_ops.squeeze(matches, axis=-1)
    return matches


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the class of the one-hot label is among the `k` largest predictions."""
    y_pred = _tensor(y_pred)
    y_true = reduction_ops.argmax(_tensor(y_true, y_pred.dtype), axis=-1)
    y_true, y_pred, original_shape = _as_rows(y_true, y_pred)
    matches = _matches(nn_ops.in_top_k(math_ops.cast(y_true, "int32"), y_pred, k))
    if original_shape is not None:
        matches = array_ops.reshape(matches, original_shape)
    return matches


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the integer label is among the `k` largest predictions; with `from_sorted_ids`,
    `y_pred` holds class ids sorted by score and the label is looked for in its first `k`."""
    y_pred = _tensor(y_pred)
    y_true = _tensor(y_true, y_pred.dtype if from_sorted_ids else "int32")
    y_true, y_pred, original_shape = _as_rows(y_true, y_pred)
    if from_sorted_ids:
        matches = reduction_ops.reduce_any(
            math_ops.equal(array_ops.expand_dims(y_true, 1), y_pred[:, :k]), axis=1)
    else:
        matches = nn_ops.in_top_k(y_true, y_pred, k)
    matches = _matches(matches)
    if original_shape is not None:
        matches = array_ops.reshape(matches, original_shape)
    return matches


class Accuracy(MeanMetricWrapper):
    """How often predictions equal labels."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(fn=accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class BinaryAccuracy(MeanMetricWrapper):
    """How often predictions thresholded at `threshold` equal binary labels."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(fn=binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of predictions equals the arg-max of one-hot labels."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(fn=categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the arg-max of predictions equals integer labels."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(fn=sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often one-hot labels are in the top `k` predictions."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(fn=top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often integer labels are in the top `k` predictions."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(fn=sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
