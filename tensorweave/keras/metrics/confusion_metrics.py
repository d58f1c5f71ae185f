"""Metrics computed from streaming confusion-matrix counts at one or many thresholds:
TruePositives…, Precision, Recall, the "X at Y" metrics and AUC."""
from __future__ import annotations

import numpy as np

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.metrics import metrics_utils
from tensorweave.keras.metrics.metric import Metric
from tensorweave.ops import array_ops, math_ops, reduction_ops

_CM = metrics_utils.ConfusionMatrix


def _counts(metric: Metric, names, shape):
    """Zero-initialized count variables (floatx, as Keras creates them) set as attributes."""
    for name in names:
        setattr(metric, name, metric.add_variable(shape=tuple(shape), initializer="zeros",
                                                  dtype=backend_config.floatx(), name=name))


def _zero(variables):
    for v in variables:
        v.assign(array_ops.zeros(v.shape, dtype=v.dtype))


def _ratio(a, b):
    """a / (a + b), 0 where both are 0."""
    return math_ops.divide_no_nan(a, math_ops.add(a, b))


class _ConfusionMatrixConditionCount(Metric):
    """The (weighted) count of one confusion-matrix cell at each threshold."""

    _condition = None

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds, default_threshold=0.5)
        self._thresholds_distributed_evenly = (
            metrics_utils.is_evenly_distributed_thresholds(self.thresholds))
        _counts(self, ["accumulator"], (len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        metrics_utils.update_confusion_matrix_variables(
            {self._condition: self.accumulator}, y_true, y_pred, thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            sample_weight=sample_weight)

    def result(self):
        if len(self.thresholds) == 1:
            return self.accumulator[0]
        return convert_to_tensor(self.accumulator)

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted count of positive labels predicted above each threshold."""
    _condition = _CM.TRUE_POSITIVES


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted count of negative labels predicted above each threshold."""
    _condition = _CM.FALSE_POSITIVES


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of negative labels predicted at or below each threshold."""
    _condition = _CM.TRUE_NEGATIVES


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted count of positive labels predicted at or below each threshold."""
    _condition = _CM.FALSE_NEGATIVES


class _PrecisionRecallBase(Metric):
    """true_positives and one other count per threshold; `top_k` keeps only the k highest
    predictions of each row as candidates, `class_id` looks at one column only."""

    _other = None  # the attribute name of the second count

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else metrics_utils.NEG_INF
        self.thresholds = metrics_utils.parse_init_thresholds(thresholds,
                                                              default_threshold=default)
        self._thresholds_distributed_evenly = (
            metrics_utils.is_evenly_distributed_thresholds(self.thresholds))
        _counts(self, ["true_positives", self._other], (len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        other = (_CM.FALSE_POSITIVES if self._other == "false_positives"
                 else _CM.FALSE_NEGATIVES)
        metrics_utils.update_confusion_matrix_variables(
            {_CM.TRUE_POSITIVES: self.true_positives, other: getattr(self, self._other)},
            y_true, y_pred, thresholds=self.thresholds,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            top_k=self.top_k, class_id=self.class_id, sample_weight=sample_weight)

    def result(self):
        value = _ratio(self.true_positives, getattr(self, self._other))
        return value[0] if len(self.thresholds) == 1 else value

    def reset_state(self) -> None:
        _zero([self.true_positives, getattr(self, self._other)])

    def get_config(self) -> dict:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_PrecisionRecallBase):
    """true_positives / (true_positives + false_positives), streamed over batches."""
    _other = "false_positives"


class Recall(_PrecisionRecallBase):
    """true_positives / (true_positives + false_negatives), streamed over batches."""
    _other = "false_negatives"


_ALL_FOUR = ["true_positives", "false_positives", "true_negatives", "false_negatives"]


def _four_counts(metric, y_true, y_pred, sample_weight, **kwargs):
    metrics_utils.update_confusion_matrix_variables(
        {_CM.TRUE_POSITIVES: metric.true_positives, _CM.TRUE_NEGATIVES: metric.true_negatives,
         _CM.FALSE_POSITIVES: metric.false_positives,
         _CM.FALSE_NEGATIVES: metric.false_negatives},
        y_true, y_pred, sample_weight=sample_weight, **kwargs)


class SensitivitySpecificityBase(Metric):
    """The four counts at `num_thresholds` evenly spaced thresholds in [0, 1]; subclasses report
    the best value of one rate among the thresholds where another rate reaches `value`."""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._thresholds_distributed_evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._thresholds_distributed_evenly = True
        _counts(self, _ALL_FOUR, (len(self.thresholds),))

    def update_state(self, y_true, y_pred, sample_weight=None):
        _four_counts(self, y_true, y_pred, sample_weight, thresholds=self.thresholds,
                     thresholds_distributed_evenly=self._thresholds_distributed_evenly,
                     class_id=self.class_id)

    def reset_state(self) -> None:
        _zero([getattr(self, name) for name in _ALL_FOUR])

    def get_config(self) -> dict:
        return {**super().get_config(), "class_id": self.class_id}

    def _find_max_under_constraint(self, constrained, dependent, predicate):
        """The largest `dependent` among the thresholds where predicate(constrained, value)
        holds, 0 if none does."""
        feasible = predicate(constrained, self.value)
        best = reduction_ops.reduce_max(array_ops.where(feasible, dependent,
                                                        array_ops.zeros_like(dependent)))
        return math_ops.maximum(best, 0.0)

    def _rates(self):
        sensitivity = _ratio(self.true_positives, self.false_negatives)  # = recall
        specificity = _ratio(self.true_negatives, self.false_positives)
        precision = _ratio(self.true_positives, self.false_positives)
        return sensitivity, specificity, precision


def _check_unit_interval(name, value):
    if value < 0 or value > 1:
        raise ValueError(f"Argument `{name}` must be in the range [0, 1]. "
                         f"Received: {name}={value}")


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The best sensitivity (recall) where specificity >= `specificity`."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit_interval("specificity", specificity)
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        sensitivity, specificity, _ = self._rates()
        return self._find_max_under_constraint(specificity, sensitivity,
                                               math_ops.greater_equal)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The best specificity where sensitivity (recall) >= `sensitivity`."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit_interval("sensitivity", sensitivity)
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        sensitivity, specificity, _ = self._rates()
        return self._find_max_under_constraint(sensitivity, specificity,
                                               math_ops.greater_equal)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "sensitivity": self.sensitivity}


class PrecisionAtRecall(SensitivitySpecificityBase):
    """The best precision where recall >= `recall`."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit_interval("recall", recall)
        self.recall = recall
        self.num_thresholds = num_thresholds
        super().__init__(value=recall, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        recall, _, precision = self._rates()
        return self._find_max_under_constraint(recall, precision, math_ops.greater_equal)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "recall": self.recall}


class RecallAtPrecision(SensitivitySpecificityBase):
    """The best recall where precision >= `precision`."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        _check_unit_interval("precision", precision)
        self.precision = precision
        self.num_thresholds = num_thresholds
        super().__init__(value=precision, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        recall, _, precision = self._rates()
        return self._find_max_under_constraint(precision, recall, math_ops.greater_equal)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "precision": self.precision}


class AUC(Metric):
    """Area under the ROC or PR curve, approximated by a Riemann sum over the four counts at
    `num_thresholds` thresholds (or the given ones, with -epsilon and 1 + epsilon added)."""

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        self._direction = "up"
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            self.num_thresholds = len(thresholds) + 2
            thresholds = sorted(float(t) for t in thresholds)
            self._thresholds_distributed_evenly = (
                metrics_utils.is_evenly_distributed_thresholds([0.0] + thresholds + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = num_thresholds
            thresholds = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._thresholds_distributed_evenly = True
        eps = backend_config.epsilon()
        self._thresholds = np.array([0.0 - eps] + thresholds + [1.0 + eps])
        self.curve = (curve if isinstance(curve, metrics_utils.AUCCurve)
                      else metrics_utils.AUCCurve.from_str(curve))
        self.summation_method = (
            summation_method if isinstance(summation_method, metrics_utils.AUCSummationMethod)
            else metrics_utils.AUCSummationMethod.from_str(summation_method))
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        if label_weights is not None:
            self.label_weights = math_ops.cast(convert_to_tensor(np.asarray(label_weights)),
                                               self.dtype)
        else:
            self.label_weights = None
        self._from_logits = from_logits
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build([None, num_labels])
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    @property
    def thresholds(self) -> list:
        """The thresholds, including the two added outside [0, 1]."""
        return [float(t) for t in self._thresholds]

    def _build(self, shape):
        if self.multi_label:
            if len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. "
                                 f"Found rank {len(shape)}. "
                                 f"Full shape received for `y_pred`: {shape}")
            self._num_labels = shape[1]
            variable_shape = [self.num_thresholds, self._num_labels]
        else:
            variable_shape = [self.num_thresholds]
        self._build_input_shape = shape
        _counts(self, ["true_positives", "false_positives", "true_negatives", "false_negatives"],
                variable_shape)
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = convert_to_tensor(y_pred)
        if not self._built:
            self._build(list(y_pred.shape))
        if self._from_logits:
            y_pred = math_ops.sigmoid(metrics_utils._as(y_pred, self.dtype))
        _four_counts(self, y_true, y_pred, sample_weight, thresholds=self._thresholds,
                     thresholds_distributed_evenly=self._thresholds_distributed_evenly,
                     multi_label=self.multi_label,
                     label_weights=None if self.multi_label else self.label_weights)

    def _by_label(self, terms):
        """Sum of the per-threshold terms; with multi_label, per label and then averaged
        (weighted by label_weights if given)."""
        if not self.multi_label:
            return reduction_ops.reduce_sum(terms)
        by_label = reduction_ops.reduce_sum(terms, axis=0)
        if self.label_weights is None:
            return reduction_ops.reduce_mean(by_label)
        weights = metrics_utils._as(self.label_weights, by_label.dtype)
        return math_ops.divide_no_nan(reduction_ops.reduce_sum(math_ops.multiply(by_label,
                                                                                 weights)),
                                      reduction_ops.reduce_sum(weights))

    def interpolate_pr_auc(self):
        """PR AUC with precision interpolated between thresholds as Davis & Goadrich (2006) do:
        true positives vary linearly with predicted positives, and the area between two
        thresholds is integrated in closed form."""
        n = self.num_thresholds
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        tp_hi, tp_lo = tp[: n - 1], tp[1:]
        dtp = math_ops.subtract(tp_hi, tp_lo)
        p = math_ops.add(tp, fp)
        p_hi, p_lo = p[: n - 1], p[1:]
        dp = math_ops.subtract(p_hi, p_lo)
        slope = math_ops.divide_no_nan(dtp, math_ops.maximum(dp, 0.0))
        intercept = math_ops.subtract(tp_lo, math_ops.multiply(slope, p_lo))
        both_positive = math_ops.logical_and(math_ops.greater(p_hi, 0.0),
                                             math_ops.greater(p_lo, 0.0))
        ratio = array_ops.where(both_positive,
                                math_ops.divide_no_nan(p_hi, math_ops.maximum(p_lo, 0.0)),
                                array_ops.ones_like(p_lo))
        increment = math_ops.divide_no_nan(
            math_ops.multiply(slope, math_ops.add(dtp, math_ops.multiply(intercept,
                                                                         math_ops.log(ratio)))),
            math_ops.maximum(math_ops.add(tp_lo, fn[1:]), 0.0))
        return self._by_label(increment)

    def result(self):
        curves = metrics_utils.AUCCurve
        methods = metrics_utils.AUCSummationMethod
        if self.curve == curves.PR and self.summation_method == methods.INTERPOLATION:
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _ratio(tp, fn)
        if self.curve == curves.ROC:
            x, y = _ratio(fp, tn), recall
        elif self.curve == curves.PR:
            x, y = recall, _ratio(tp, fp)
        else:  # PR gain: precision and recall rescaled against the base rate
            scale = math_ops.divide_no_nan(math_ops.add(tp, fn), math_ops.add(tn, fp))
            no_tp = math_ops.equal(tp, 0.0)
            recall_gain = math_ops.subtract(
                1.0, math_ops.multiply(scale, math_ops.divide_no_nan(fn, tp)))
            precision_gain = math_ops.subtract(
                1.0, math_ops.multiply(scale, math_ops.divide_no_nan(fp, tp)))
            recall_gain = array_ops.where(no_tp, array_ops.zeros_like(recall_gain), recall_gain)
            precision_gain = array_ops.where(no_tp, array_ops.ones_like(precision_gain),
                                             precision_gain)
            x, y = math_ops.maximum(recall_gain, 0.0), precision_gain
        n = self.num_thresholds
        y_hi, y_lo = y[: n - 1], y[1:]
        if self.summation_method == methods.INTERPOLATION:
            heights = math_ops.divide(math_ops.add(y_hi, y_lo), 2.0)
        elif self.summation_method == methods.MINORING:
            heights = math_ops.minimum(y_hi, y_lo)
        else:
            heights = math_ops.maximum(y_hi, y_lo)
        terms = math_ops.multiply(math_ops.subtract(x[: n - 1], x[1:]), heights)
        return self._by_label(terms)

    def reset_state(self) -> None:
        if self._built:
            _zero([self.true_positives, self.false_positives, self.true_negatives,
                   self.false_negatives])

    def get_config(self) -> dict:
        label_weights = self.label_weights
        if label_weights is not None:
            label_weights = [float(w) for w in np.asarray(label_weights).reshape(-1)]
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve.value, "summation_method": self.summation_method.value,
                  "multi_label": self.multi_label, "num_labels": self.num_labels,
                  "label_weights": label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config
