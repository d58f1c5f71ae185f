"""Keras 3's built-in losses: the regression, hinge and segmentation loss functions, the
`LossFunctionWrapper` that turns a loss function into a `Loss`, one `Loss` class per built-in
function, and `get` / `serialize` / `deserialize`.

Functions compute what Keras 3 computes with its TensorFlow backend (the probabilistic ones live
in probabilistic.py); the weighting, masking and reduction are the `Loss` base class's.
"""
from __future__ import annotations

import math

import numpy as np

from tensorweave.keras.engine import backend_config
from tensorweave.keras.losses.loss import Loss, squeeze_or_expand_to_same_rank
from tensorweave.keras.losses.probabilistic import (
    as_dtype_tensor, binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_generalized_cross_entropy, kl_divergence, mean,
    poisson, pred_and_true, sparse_categorical_crossentropy)
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, math_ops, nn_ops, reduction_ops


# -- regression losses ------------------------------------------------------------------------
def mean_squared_error(y_true, y_pred):
    """mean(square(y_true - y_pred), -1)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return mean(math_ops.square(y_true - y_pred), axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(abs(y_true - y_pred), -1)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return mean(math_ops.abs(y_true - y_pred), axis=-1)


def mean_absolute_percentage_error(y_true, y_pred):
    """100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), -1)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    eps = as_dtype_tensor(backend_config.epsilon(), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    diff = math_ops.abs((y_true - y_pred) / math_ops.maximum(math_ops.abs(y_true), eps))
    return 100.0 * mean(diff, axis=-1)


def mean_squared_logarithmic_error(y_true, y_pred):
    """mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), -1)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    # Keras makes epsilon a float32 tensor here, whatever the dtype of the inputs
    eps = as_dtype_tensor(float(np.float32(backend_config.epsilon())), y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    first_log = math_ops.log(math_ops.maximum(y_pred, eps) + 1.0)
    second_log = math_ops.log(math_ops.maximum(y_true, eps) + 1.0)
    return mean(math_ops.square(first_log - second_log), axis=-1)


def _l2_normalize(x, axis):
    """x / max(norm(x), epsilon) along `axis`, as x * min(rsqrt(sum(x^2)), 1 / epsilon)."""
    if x.shape.rank == 0:
        x = array_ops.expand_dims(x, 0)
    square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=True)
    inv_norm = math_ops.minimum(math_ops.rsqrt(square_sum), 1.0 / backend_config.epsilon())
    return x * inv_norm


def cosine_similarity(y_true, y_pred, axis=-1):
    """-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis): -1 for vectors pointing the same
    way, 0 when either is zero."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    y_pred = _l2_normalize(y_pred, axis)
    y_true = _l2_normalize(y_true, axis)
    return -reduction_ops.reduce_sum(y_true * y_pred, axis=axis)


def huber(y_true, y_pred, delta=1.0):
    """mean over the last axis of 0.5 * e^2 where |e| <= delta, else delta * |e| - 0.5 * delta^2,
    with e = y_pred - y_true."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    delta = as_dtype_tensor(delta, y_pred.dtype)
    error = y_pred - y_true
    abs_error = math_ops.abs(error)
    half = as_dtype_tensor(0.5, y_pred.dtype)
    return mean(array_ops.where(math_ops.less_equal(abs_error, delta),
                                half * math_ops.square(error),
                                delta * abs_error - half * math_ops.square(delta)), axis=-1)


def log_cosh(y_true, y_pred):
    """mean(log(cosh(y_pred - y_true)), -1), as x + softplus(-2x) - log(2) (no overflow)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    # Keras computes log(2) in float32 and then casts it
    log2 = as_dtype_tensor(float(np.float32(math.log(2.0))), y_pred.dtype)
    x = y_pred - y_true
    return mean(x + nn_ops.softplus(x * -2.0) - log2, axis=-1)


# -- hinge losses -------------------------------------------------------------------------------
def _binary_labels_to_hinge(y_true):
    """Labels that are all 0 or 1 become -1 or 1; other labels are left as they are."""
    is_binary = reduction_ops.reduce_all(math_ops.logical_or(math_ops.equal(y_true, 0),
                                                             math_ops.equal(y_true, 1)))
    return array_ops.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true, y_pred):
    """mean(max(1 - y_true * y_pred, 0), -1), labels -1/1 (0/1 labels are converted)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    y_true = _binary_labels_to_hinge(y_true)
    return mean(math_ops.maximum(1.0 - y_true * y_pred, 0.0), axis=-1)


def squared_hinge(y_true, y_pred):
    """mean(square(max(1 - y_true * y_pred, 0)), -1), labels -1/1 (0/1 are converted)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    y_true = _binary_labels_to_hinge(y_true)
    return mean(math_ops.square(math_ops.maximum(1.0 - y_true * y_pred, 0.0)), axis=-1)


def categorical_hinge(y_true, y_pred):
    """max(neg - pos + 1, 0) with pos = sum(y_true * y_pred), neg = max((1 - y_true) * y_pred)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    pos = reduction_ops.reduce_sum(y_true * y_pred, axis=-1)
    neg = reduction_ops.reduce_max((1.0 - y_true) * y_pred, axis=-1)
    return math_ops.maximum(neg - pos + 1.0, as_dtype_tensor(0.0, y_pred.dtype))


# -- segmentation losses ------------------------------------------------------------------------
def dice(y_true, y_pred, axis=None):
    """1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + epsilon), over `axis` (all
    axes by default)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    intersection = reduction_ops.reduce_sum(y_true * y_pred, axis=axis)
    total = (reduction_ops.reduce_sum(y_true, axis=axis)
             + reduction_ops.reduce_sum(y_pred, axis=axis) + backend_config.epsilon())
    return 1 - (2.0 * intersection) / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """1 - TP / (TP + alpha * FP + beta * FN + epsilon) with soft counts over `axis`."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    intersection = reduction_ops.reduce_sum(y_true * y_pred, axis=axis)
    fp = reduction_ops.reduce_sum((1 - y_pred) * y_true, axis=axis)
    fn = reduction_ops.reduce_sum(y_pred * (1 - y_true), axis=axis)
    index = intersection / (intersection + fp * alpha + fn * beta + backend_config.epsilon())
    return 1 - index


# -- the wrapper and the classes ------------------------------------------------------------------
def _map_pairs(fn, a, b):
    """fn over matching leaves of two structures (lists, tuples, dicts) or on two tensors."""
    if isinstance(a, dict):
        pairs = {k: fn(a[k], b[k]) for k in a}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    if isinstance(a, (list, tuple)):
        pairs = [fn(x, y) for x, y in zip(a, b)]
        return type(a)(p[0] for p in pairs), type(b)(p[1] for p in pairs)
    return fn(a, b)


class LossFunctionWrapper(Loss):
    """A `Loss` computing `fn(y_true, y_pred, **kwargs)` (after matching the ranks of y_true
    and y_pred when they differ by a trailing 1)."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        y_true, y_pred = _map_pairs(squeeze_or_expand_to_same_rank, y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config["fn"] = serialization.serialize_keras_object(self.fn)
        config.update(serialization.serialize_keras_object(self._fn_kwargs))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:
            config["fn"] = serialization.deserialize_keras_object(
                config["fn"], module_objects=ALL_OBJECTS_DICT, printable_module_name="loss")
        return cls(**config)

    def __repr__(self):
        return f"<LossFunctionWrapper({self.fn}, kwargs={self._fn_kwargs})>"


class _BuiltinLoss(LossFunctionWrapper):
    """A built-in wrapper whose config is the base's name and reduction plus `_config_keys`
    (as Keras 3: some arguments, e.g. Huber's delta, are not in the config)."""

    _config_keys: tuple = ()

    def get_config(self):
        config = Loss.get_config(self)
        config.update({key: getattr(self, key) for key in self._config_keys})
        return config


class MeanSquaredError(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsoluteError(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, reduction=reduction, dtype=dtype)


class MeanAbsolutePercentageError(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_percentage_error",
                 dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, reduction=reduction,
                         dtype=dtype)


class MeanSquaredLogarithmicError(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_logarithmic_error",
                 dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, reduction=reduction,
                         dtype=dtype)


class CosineSimilarity(_BuiltinLoss):
    _config_keys = ("axis",)  # kept, unlike Keras 3 (see Huber)

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(cosine_similarity, name=name, reduction=reduction, dtype=dtype,
                         axis=axis)
        self.axis = axis


class Huber(_BuiltinLoss):
    # Keras 3 leaves `delta` out of the config, so a loaded Huber(2.0) trains with delta=1;
    # here it is kept (Keras reads it back too)
    _config_keys = ("delta",)

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(huber, name=name, reduction=reduction, dtype=dtype, delta=delta)
        self.delta = delta


class LogCosh(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(log_cosh, name=name, reduction=reduction, dtype=dtype)


class Hinge(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(hinge, name=name, reduction=reduction, dtype=dtype)


class SquaredHinge(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, reduction=reduction, dtype=dtype)


class CategoricalHinge(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, reduction=reduction, dtype=dtype)


class KLDivergence(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, reduction=reduction, dtype=dtype)


class Poisson(_BuiltinLoss):
    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(poisson, name=name, reduction=reduction, dtype=dtype)


class BinaryCrossentropy(_BuiltinLoss):
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(binary_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class BinaryFocalCrossentropy(_BuiltinLoss):
    _config_keys = ("from_logits", "label_smoothing", "axis", "apply_class_balancing", "alpha",
                    "gamma")

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma


class CategoricalCrossentropy(_BuiltinLoss):
    _config_keys = ("from_logits", "label_smoothing", "axis")

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(categorical_crossentropy, name=name, reduction=reduction, dtype=dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis


class CategoricalFocalCrossentropy(_BuiltinLoss):
    _config_keys = ("from_logits", "label_smoothing", "axis", "alpha", "gamma")

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis
        self.alpha = alpha
        self.gamma = gamma


class SparseCategoricalCrossentropy(_BuiltinLoss):
    _config_keys = ("from_logits", "ignore_class")

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(sparse_categorical_crossentropy, name=name, reduction=reduction,
                         dtype=dtype, from_logits=from_logits, ignore_class=ignore_class,
                         axis=axis)
        self.from_logits = from_logits
        self.ignore_class = ignore_class


class Dice(_BuiltinLoss):
    _config_keys = ("axis",)

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(dice, name=name, reduction=reduction, dtype=dtype, axis=axis)
        self.axis = axis


class Tversky(_BuiltinLoss):
    _config_keys = ("alpha", "beta", "axis")

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(tversky, name=name, reduction=reduction, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)
        self.alpha = alpha
        self.beta = beta
        self.axis = axis


class CategoricalGeneralizedCrossEntropy(_BuiltinLoss):
    _config_keys = ("q",)

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError("q must be in the interval (0, 1)")
        super().__init__(categorical_generalized_cross_entropy, name=name, reduction=reduction,
                         dtype=dtype, q=q)
        self.q = q


class Reduction:
    """tf.keras.losses.Reduction (legacy): the names of the reductions."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls):
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key):
        if key not in cls.all():
            raise ValueError(f'Invalid Reduction Key: {key}. Expected keys are "{cls.all()}"')


# -- get / serialize / deserialize ----------------------------------------------------------------
# Keras 3's set (keras.src.losses.ALL_OBJECTS, without CTC and Circle, which are not built here)
ALL_OBJECTS = (
    Loss, LossFunctionWrapper,
    KLDivergence, Poisson, BinaryCrossentropy, BinaryFocalCrossentropy, CategoricalCrossentropy,
    CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
    MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCosh, Huber,
    Hinge, SquaredHinge, CategoricalHinge, Dice, Tversky,
    kl_divergence, poisson, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, cosine_similarity, log_cosh, huber,
    hinge, squared_hinge, categorical_hinge, dice, tversky,
)

ALL_OBJECTS_DICT = {obj.__name__: obj for obj in ALL_OBJECTS}
ALL_OBJECTS_DICT.update({
    "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "kld": kl_divergence, "KLD": kl_divergence,
    "mae": mean_absolute_error, "MAE": mean_absolute_error,
    "mse": mean_squared_error, "MSE": mean_squared_error,
    "mape": mean_absolute_percentage_error, "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error, "MSLE": mean_squared_logarithmic_error,
})

_KIND = "loss"


def serialize(loss):
    """Keras 3's dict for a loss function or `Loss` instance."""
    return serialization.serialize_keras_object(loss)


def deserialize(name, custom_objects=None):
    """The loss function or `Loss` instance a name or serialized dict describes."""
    return serialization.deserialize_keras_object(name, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT,
                                                  printable_module_name=_KIND)


def get(identifier):
    """None stays None; a name ("mse", "categorical_crossentropy", "Huber"...) or a serialized
    dict gives the built-in function or a `Loss` instance (a class is instantiated); a callable is
    returned as it is. The same name always gives the same function object."""
    return serialization.get_object(identifier, _KIND, ALL_OBJECTS_DICT)
