"""Intersection-over-union metrics, from a streaming (num_classes, num_classes) confusion
matrix: IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU."""
from __future__ import annotations

import warnings

from tensorweave.keras.engine import backend_config
from tensorweave.keras.metrics.metric import Metric
from tensorweave.keras.metrics.metrics_utils import _as, _broadcast_like, confusion_matrix
from tensorweave.ops import array_ops, math_ops, reduction_ops


class _IoUBase(Metric):
    """The confusion matrix of (true class, predicted class) pairs seen so far; entries whose
    class lies outside [0, num_classes) or equals `ignore_class` are left out."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype="int64" if dtype in (None, "int") else dtype)
        self._direction = "up"
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_variable(name="total_confusion_matrix",
                                          shape=(num_classes, num_classes),
                                          initializer="zeros", dtype=self.dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.sparse_y_true:
            y_true = reduction_ops.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = reduction_ops.argmax(y_pred, axis=self.axis)
        y_true = array_ops.reshape(_as(y_true, self.dtype), [-1])
        y_pred = array_ops.reshape(_as(y_pred, self.dtype), [-1])
        if sample_weight is None:
            sample_weight = 1
        elif (hasattr(sample_weight, "dtype") and "float" in str(sample_weight.dtype)
              and "int" in self.dtype):
            warnings.warn("You are passing weight as `float`, but dtype is `int`. This may "
                          "result in an incorrect weight due to type casting Consider using "
                          "integer weights.", stacklevel=2)
        sample_weight = _as(sample_weight, self.dtype)
        if sample_weight.shape.rank is not None and sample_weight.shape.rank > 1:
            sample_weight = array_ops.reshape(sample_weight, [-1])
        sample_weight = _broadcast_like(sample_weight, y_true)

        num_classes = _as(self.num_classes, self.dtype)
        zero = array_ops.zeros_like(y_true)
        in_range = math_ops.logical_and(
            math_ops.logical_and(math_ops.greater_equal(y_true, zero),
                                 math_ops.less(y_true, num_classes)),
            math_ops.logical_and(math_ops.greater_equal(y_pred, zero),
                                 math_ops.less(y_pred, num_classes)))
        if self.ignore_class is not None:
            in_range = math_ops.logical_and(
                in_range, math_ops.not_equal(y_true, _as(self.ignore_class, self.dtype)))
        y_true = array_ops.where(in_range, y_true, zero)
        y_pred = array_ops.where(in_range, y_pred, zero)
        sample_weight = array_ops.where(in_range, sample_weight,
                                        array_ops.zeros_like(sample_weight))
        current = confusion_matrix(y_true, y_pred, self.num_classes, weights=sample_weight,
                                   dtype=self.dtype)
        self.total_cm.assign_add(current)

    def reset_state(self) -> None:
        self.total_cm.assign(array_ops.zeros(self.total_cm.shape, dtype=self.total_cm.dtype))


class IoU(_IoUBase):
    """The mean over `target_class_ids` of true_positives / (true_positives + false_positives
    + false_negatives); classes never seen (zero denominator) are left out of the mean."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, num_classes=num_classes, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis,
                         dtype=dtype)
        if max(target_class_ids) >= num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which is "
                             f"[0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm
        predicted = math_ops.cast(reduction_ops.reduce_sum(cm, axis=0), "float32")
        actual = math_ops.cast(reduction_ops.reduce_sum(cm, axis=1), "float32")
        diagonal = array_ops.gather(array_ops.reshape(cm, [-1]),
                                    [i * (self.num_classes + 1) for i in self.target_class_ids])
        true_positives = math_ops.cast(diagonal, "float32")
        ids = list(self.target_class_ids)
        denominator = math_ops.subtract(
            math_ops.add(array_ops.gather(predicted, ids), array_ops.gather(actual, ids)),
            true_positives)
        valid = math_ops.greater(denominator, 1e-9)
        num_valid = reduction_ops.reduce_sum(math_ops.cast(valid, "float32"))
        iou = math_ops.divide(true_positives,
                              math_ops.add(denominator, backend_config.epsilon()))
        iou = array_ops.where(valid, iou, array_ops.zeros_like(iou))
        return math_ops.divide(reduction_ops.reduce_sum(iou),
                               math_ops.add(num_valid, backend_config.epsilon()))

    def get_config(self) -> dict:
        return {**super().get_config(), "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class BinaryIoU(IoU):
    """IoU of two classes: a prediction is class 1 when >= `threshold`."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _as(y_true, self.dtype)
        y_pred = _as(y_pred, "float32")
        y_pred = math_ops.cast(math_ops.greater_equal(y_pred, self.threshold), self.dtype)
        return super().update_state(y_true, y_pred, sample_weight)

    def get_config(self) -> dict:
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """IoU averaged over all `num_classes` classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, num_classes=num_classes,
                         target_class_ids=list(range(num_classes)), axis=axis, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotIoU(IoU):
    """IoU with one-hot labels (and by default class scores as predictions)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, target_class_ids=target_class_ids, name=name,
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class OneHotMeanIoU(MeanIoU):
    """MeanIoU with one-hot labels (and by default class scores as predictions)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes=num_classes, axis=axis, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred)

    def get_config(self) -> dict:
        return {"num_classes": self.num_classes, "name": self.name, "dtype": self.dtype,
                "ignore_class": self.ignore_class, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}
