"""Helpers of the confusion-matrix metrics: threshold parsing, the streaming update of
true/false positive/negative counts at many thresholds, and the sparse confusion matrix."""
from __future__ import annotations

from enum import Enum

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.losses.loss import squeeze_or_expand_to_same_rank
from tensorweave.ops import array_ops, linalg_ops, math_ops, reduction_ops

NEG_INF = -1e10  # the score given to entries outside the top k (below every threshold)


class ConfusionMatrix(Enum):
    TRUE_POSITIVES = "tp"
    FALSE_POSITIVES = "fp"
    TRUE_NEGATIVES = "tn"
    FALSE_NEGATIVES = "fn"


class AUCCurve(Enum):
    """The curve whose area AUC computes."""

    ROC = "ROC"
    PR = "PR"
    PRGAIN = "PRGAIN"

    @staticmethod
    def from_str(key):
        for curve in AUCCurve:
            if key in (curve.value, curve.value.lower()):
                return curve
        raise ValueError(f'Invalid AUC curve value: "{key}". '
                         'Expected values are ["PR", "ROC", "PRGAIN"]')


class AUCSummationMethod(Enum):
    """How AUC sums the area between two thresholds: the trapezoid ("interpolation"), the lower
    of the two heights ("minoring") or the higher ("majoring")."""

    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"

    @staticmethod
    def from_str(key):
        for method in AUCSummationMethod:
            if key in (method.value, method.value.capitalize()):
                return method
        raise ValueError(f'Invalid AUC summation method value: "{key}". '
                         'Expected values are ["interpolation", "majoring", "minoring"]')


def _to_list(x):
    return list(x) if isinstance(x, (list, tuple)) else [x]


def assert_thresholds_range(thresholds):
    if thresholds is None:
        return
    invalid = [t for t in thresholds if t is None or t < 0 or t > 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")


def parse_init_thresholds(thresholds, default_threshold=0.5):
    """The thresholds as a list (a single value becomes a list of one); checks they lie in
    [0, 1] when given."""
    if thresholds is not None:
        assert_thresholds_range(_to_list(thresholds))
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds) -> bool:
    """Whether `thresholds` (3 or more) are i / (n - 1) for i = 0..n-1, up to epsilon: then a
    prediction's bucket is found by arithmetic instead of comparing it with every threshold."""
    count = len(thresholds)
    if count < 3:
        return False
    even = np.arange(count, dtype=np.float32) / (count - 1)
    return bool(np.allclose(np.asarray(thresholds, dtype=np.float64), even,
                            atol=backend_config.epsilon()))


def _as(x, dtype):
    x = convert_to_tensor(x)
    return x if x.dtype == dtypes.as_dtype(dtype) else math_ops.cast(x, dtype)


def _broadcast_like(x, target):
    """`x` broadcast to `target`'s shape (also when that shape is only known at run time)."""
    x = convert_to_tensor(x)
    if not target.shape.is_fully_defined():
        return array_ops.broadcast_to(x, array_ops.shape(target))
    if tuple(x.shape) == tuple(target.shape):
        return x
    return array_ops.broadcast_to(x, tuple(target.shape))


def _filter_top_k(x, k):
    """`x` with every entry outside the k largest of its last axis replaced by NEG_INF."""
    _, indices = reduction_ops.top_k(x, k)
    depth = x.shape[-1] if x.shape[-1] is not None else array_ops.shape(x)[-1]
    keep = reduction_ops.reduce_sum(array_ops.one_hot(indices, depth, dtype=x.dtype), axis=-2)
    return math_ops.add(math_ops.multiply(x, keep),
                        math_ops.multiply(math_ops.subtract(1.0, keep), NEG_INF))


def _weights(sample_weight, label_weights, y_pred, flatten):
    """The weight of every prediction (None when all are 1): sample weights times label
    weights, broadcast to `y_pred`'s shape and flattened unless multi-label."""
    weights = None
    if sample_weight is not None:
        weights = _broadcast_like(sample_weight, y_pred)
    if label_weights is not None:
        label_weights = _broadcast_like(_as(label_weights, y_pred.dtype), y_pred)
        weights = label_weights if weights is None else math_ops.multiply(weights, label_weights)
    if weights is not None and flatten:
        weights = array_ops.reshape(weights, [-1])
    return weights


def update_confusion_matrix_variables(variables_to_update, y_true, y_pred, thresholds, top_k=None,
                                      class_id=None, sample_weight=None, multi_label=False,
                                      label_weights=None, thresholds_distributed_evenly=False):
    """Adds this batch's weighted counts to the variables of `variables_to_update`
    ({ConfusionMatrix: variable}), one count per threshold: a prediction is positive at a
    threshold when it is strictly greater; a label is positive when non-zero. Without
    `multi_label` every entry is one prediction; with it, the last axis holds the labels and the
    counts have shape (num_thresholds, num_labels)."""
    if multi_label and label_weights is not None:
        raise ValueError("`label_weights` for multilabel data should be handled outside of "
                         "`update_confusion_matrix_variables` when `multi_label` is True.")
    if variables_to_update is None:
        return
    valid = list(ConfusionMatrix)
    if not any(key in valid for key in variables_to_update):
        raise ValueError("Please provide at least one valid confusion matrix variable to update. "
                         f'Valid variable key options are: "{valid}". '
                         f'Received: "{variables_to_update.keys()}"')
    invalid = [key for key in variables_to_update if key not in valid]
    if invalid:
        raise ValueError(f'Invalid keys: "{invalid}". Valid variable key options are: "{valid}"')

    dtype = list(variables_to_update.values())[0].dtype
    y_true = _as(y_true, dtype)
    y_pred = _as(y_pred, dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = array_ops.expand_dims(_as(sample_weight, dtype), -1)
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.shape.rank == 1:
            raise ValueError("When class_id is provided, y_pred must be a 2D array with shape "
                             f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]

    weights = _weights(sample_weight, None if multi_label else label_weights, y_pred,
                       flatten=not multi_label)
    if not multi_label:
        y_true = array_ops.reshape(y_true, [-1])
        y_pred = array_ops.reshape(y_pred, [-1])
    # labels as 0/1 (any non-zero label is positive), then weighted
    is_true = math_ops.cast(math_ops.not_equal(y_true, 0), dtype)
    true_w = is_true if weights is None else math_ops.multiply(is_true, weights)
    false_w = math_ops.subtract(1.0, is_true)
    if weights is not None:
        false_w = math_ops.multiply(false_w, weights)

    if thresholds_distributed_evenly:
        counts = _bucket_counts(variables_to_update, y_pred, true_w, false_w, thresholds,
                                multi_label)
    else:
        counts = _compare_counts(variables_to_update, y_pred, true_w, false_w, thresholds, dtype,
                                 multi_label)
    for key, variable in variables_to_update.items():
        variable.assign_add(counts[key])


def _compare_counts(wanted, y_pred, true_w, false_w, thresholds, dtype, multi_label):
    """One comparison of every prediction with every threshold, one contraction per count."""
    thresholds = np.asarray(thresholds, dtype=dtypes.as_dtype(dtype).as_numpy_dtype)
    # (T, N) positive-at-threshold indicators; multi-label: (T, N, L)
    shape = (-1, 1, 1) if multi_label else (-1, 1)
    above = math_ops.cast(math_ops.greater(array_ops.expand_dims(y_pred, 0),
                                           convert_to_tensor(thresholds.reshape(shape))), dtype)
    if "fn" in _keys(wanted) or "tn" in _keys(wanted):
        below = math_ops.subtract(1.0, above)

    def contract(indicator, label_w):
        if multi_label:  # sum over the samples axis, keeping labels
            return reduction_ops.reduce_sum(
                math_ops.multiply(indicator, array_ops.expand_dims(label_w, 0)), axis=1)
        return linalg_ops.matvec(indicator, label_w)

    counts = {}
    for key in wanted:
        if key is ConfusionMatrix.TRUE_POSITIVES:
            counts[key] = contract(above, true_w)
        elif key is ConfusionMatrix.FALSE_POSITIVES:
            counts[key] = contract(above, false_w)
        elif key is ConfusionMatrix.FALSE_NEGATIVES:
            counts[key] = contract(below, true_w)
        else:
            counts[key] = contract(below, false_w)
    return counts


def _keys(wanted):
    return {key.value for key in wanted}


def _bucket_counts(wanted, y_pred, true_w, false_w, thresholds, multi_label):
    """Thresholds i / (T - 1) (the first and last possibly moved out by epsilon): a prediction p
    is above exactly the thresholds 0..ceil(p (T - 1)) - 1, so one segment sum puts every weight
    in that last bucket and a reverse cumulative sum gives the count above each threshold;
    the negatives are the totals minus those. Linear in predictions plus thresholds."""
    num = len(thresholds)
    with_epsilon = thresholds[0] < 0.0 or thresholds[-1] > 1.0
    y_pred = math_ops.clip_by_value(y_pred, 0.0, 1.0)
    bucket = math_ops.subtract(math_ops.ceil(math_ops.multiply(y_pred, float(num - 1))), 1.0)
    if with_epsilon:  # every prediction is above the first threshold -epsilon
        bucket = math_ops.maximum(bucket, 0.0)
    bucket = math_ops.cast(bucket, "int32")  # -1: above no threshold (dropped by the sum)
    data = array_ops.stack([true_w, false_w], axis=-1)
    if multi_label:
        num_labels = list(wanted.values())[0].shape[-1]  # the counts are (thresholds, labels)
        ids = math_ops.add(math_ops.multiply(bucket, num_labels),
                           array_ops.range(num_labels, dtype="int32"))
        buckets = array_ops.reshape(
            reduction_ops.unsorted_segment_sum(data, ids, num * num_labels), [num, num_labels, 2])
    else:
        buckets = reduction_ops.unsorted_segment_sum(data, bucket, num)
    above = reduction_ops.cumsum(buckets, axis=0, reverse=True)
    tp, fp = above[..., 0], above[..., 1]
    keys = _keys(wanted)
    counts = {ConfusionMatrix.TRUE_POSITIVES: tp, ConfusionMatrix.FALSE_POSITIVES: fp}
    if "fn" in keys:
        total_true = reduction_ops.reduce_sum(true_w, axis=0)
        counts[ConfusionMatrix.FALSE_NEGATIVES] = math_ops.subtract(total_true, tp)
    if "tn" in keys:
        total_false = reduction_ops.reduce_sum(false_w, axis=0)
        counts[ConfusionMatrix.TRUE_NEGATIVES] = math_ops.subtract(total_false, fp)
    return {key: counts[key] for key in wanted}


def confusion_matrix(labels, predictions, num_classes, weights=None, dtype="int32"):
    """The (num_classes, num_classes) matrix counting (weighted) pairs: rows are true labels,
    columns predictions."""
    labels = _as(labels, dtype)
    predictions = _as(predictions, dtype)
    labels, predictions = squeeze_or_expand_to_same_rank(labels, predictions)
    num_classes = int(num_classes)
    cell = math_ops.add(math_ops.multiply(_as(labels, "int32"), num_classes),
                        _as(predictions, "int32"))
    values = array_ops.ones_like(predictions) if weights is None else _as(weights, dtype)
    values = _broadcast_like(values, cell)
    flat = reduction_ops.unsorted_segment_sum(values, cell, num_classes * num_classes)
    return array_ops.reshape(flat, [num_classes, num_classes])
