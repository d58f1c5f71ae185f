"""F-beta and F1 scores from streaming per-class true/false positives and false negatives."""
from __future__ import annotations

from tensorweave.keras.engine import backend_config
from tensorweave.keras.metrics.metric import Metric
from tensorweave.keras.metrics.metrics_utils import _as
from tensorweave.ops import array_ops, math_ops, reduction_ops

_AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """(1 + beta^2) precision recall / (beta^2 precision + recall), per class (`average=None`),
    over all entries ("micro"), averaged over classes ("macro"), or weighted by the classes'
    true counts ("weighted"). Predictions are 1 above `threshold`, or (threshold None) where
    they equal the row's maximum."""

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in _AVERAGES:
            raise ValueError("Invalid `average` argument value. Expected one of: "
                             "{None, 'micro', 'macro', 'weighted'}. "
                             f"Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. "
                             f"Received: beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError("Invalid `threshold` argument value. It should be a Python "
                                 f"float. Received: threshold={threshold} of type "
                                 f"'{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average = average
        self.beta = beta
        self.threshold = threshold
        self.axis = None if average == "micro" else 0
        self._built = False

    def _build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2:
            raise ValueError("FBetaScore expects 2D inputs with shape (batch_size, output_dim). "
                             f"Received input shapes: y_pred.shape={y_pred_shape} and "
                             f"y_true.shape={y_true_shape}.")
        if y_pred_shape[-1] is None or y_true_shape[-1] is None:
            raise ValueError("FBetaScore expects 2D inputs with shape (batch_size, output_dim), "
                             "with output_dim fully defined (not None). Received input "
                             f"shapes: y_pred.shape={y_pred_shape} and "
                             f"y_true.shape={y_true_shape}.")
        shape = () if self.average == "micro" else (y_pred_shape[-1],)
        for name in ("true_positives", "false_positives", "false_negatives",
                     "intermediate_weights"):
            setattr(self, name, self.add_variable(name=name, shape=shape, initializer="zeros",
                                                  dtype=self.dtype))
        self._built = True

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = _as(y_true, self.dtype)
        y_pred = _as(y_pred, self.dtype)
        if not self._built:
            self._build(y_true.shape, y_pred.shape)
        if self.threshold is None:
            row_max = reduction_ops.reduce_max(y_pred, axis=-1, keepdims=True)
            y_pred = math_ops.logical_and(math_ops.greater_equal(y_pred, row_max),
                                          math_ops.greater(math_ops.abs(y_pred), 1e-9))
        else:
            y_pred = math_ops.greater(y_pred, self.threshold)
        y_pred = math_ops.cast(y_pred, self.dtype)
        if sample_weight is not None:
            sample_weight = array_ops.expand_dims(_as(sample_weight, self.dtype), 1)

        def weighted_sum(values):
            if sample_weight is not None:
                values = math_ops.multiply(values, sample_weight)
            return reduction_ops.reduce_sum(values, axis=self.axis)

        tp = math_ops.multiply(y_pred, y_true)
        self.true_positives.assign_add(weighted_sum(tp))
        self.false_positives.assign_add(weighted_sum(math_ops.subtract(y_pred, tp)))
        self.false_negatives.assign_add(weighted_sum(math_ops.subtract(y_true, tp)))
        self.intermediate_weights.assign_add(weighted_sum(y_true))

    def result(self):
        eps = backend_config.epsilon()
        if not self._built:  # nothing seen yet: a score of 0
            return array_ops.zeros((), dtype=self.dtype)
        tp = self.true_positives
        precision = math_ops.divide(tp, math_ops.add(math_ops.add(tp, self.false_positives), eps))
        recall = math_ops.divide(tp, math_ops.add(math_ops.add(tp, self.false_negatives), eps))
        beta2 = self.beta ** 2
        score = math_ops.multiply(
            math_ops.divide(math_ops.multiply(precision, recall),
                            math_ops.add(math_ops.add(math_ops.multiply(precision, beta2),
                                                      recall), eps)),
            1 + beta2)
        if self.average == "weighted":
            weights = math_ops.divide(
                self.intermediate_weights,
                math_ops.add(reduction_ops.reduce_sum(self.intermediate_weights), eps))
            return reduction_ops.reduce_sum(math_ops.multiply(score, weights))
        if self.average is not None:
            return reduction_ops.reduce_mean(score)
        return score

    def reset_state(self) -> None:
        for v in self.variables:
            v.assign(array_ops.zeros(v.shape, dtype=v.dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "name": self.name, "dtype": self.dtype,
                "average": self.average, "beta": self.beta, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with beta = 1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["beta"]
        return config
