"""Keras 3's weight regularizers (keras.regularizers), and get/serialize/deserialize.

A regularizer is called on a weight tensor and returns the scalar penalty added to the loss:
L1 = l1 * sum(|x|), L2 = l2 * sum(x^2) (no 1/2), L1L2 the sum of both, OrthogonalRegularizer
the mean absolute cosine between distinct rows (or columns).
"""
from __future__ import annotations

import math

from tensorweave.framework.context import init_scope
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.saving import serialization
from tensorweave.ops import linalg_ops, math_ops, reduction_ops


def validate_float_arg(value, name: str) -> float:
    """`value` as a float, or ValueError unless it is a finite non-negative number."""
    if not isinstance(value, (float, int)) or math.isinf(value) or math.isnan(value) \
            or value < 0:
        raise ValueError(f"Invalid value for argument {name}: expected a non-negative float."
                         f"Received: {name}={value}")
    return float(value)


def _float32_scalar(value: float):
    """A float32 scalar tensor, made eagerly (Keras keeps some factors this way)."""
    with init_scope():
        return convert_to_tensor(value)


class Regularizer:
    """Base of regularizers: subclasses implement `__call__(x)` (the penalty of weights x) and
    `get_config()`. A subclass need not call `super().__init__()`."""

    _keras_module = "keras.regularizers"

    def __call__(self, x):
        return 0.0

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def get_config(self) -> dict:
        raise NotImplementedError(f"{self} does not implement get_config()")


def _l1_penalty(factor, x):
    return math_ops.multiply(math_ops.cast(factor, x.dtype),
                             reduction_ops.reduce_sum(math_ops.abs(x)))


def _l2_penalty(factor, x):
    return math_ops.multiply(math_ops.cast(factor, x.dtype),
                             reduction_ops.reduce_sum(math_ops.square(x)))


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = validate_float_arg(0.0 if l1 is None else l1, name="l1")
        self.l2 = validate_float_arg(0.0 if l2 is None else l2, name="l2")

    def __call__(self, x):
        x = convert_to_tensor(x)
        penalty = math_ops.cast(0.0, x.dtype)
        if self.l1 != 0.0:
            penalty = math_ops.add(penalty, _l1_penalty(self.l1, x))
        if self.l2 != 0.0:
            penalty = math_ops.add(penalty, _l2_penalty(self.l2, x))
        return penalty

    def get_config(self) -> dict:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """l1 * sum(|x|). Keras keeps `l1` as a float32 tensor (so its config holds the float32
    value: L1(0.01) gives 0.009999999776482582)."""

    def __init__(self, l1=0.01):
        l1 = validate_float_arg(0.01 if l1 is None else l1, name="l1")
        self.l1 = _float32_scalar(l1)

    def __call__(self, x):
        return _l1_penalty(self.l1, convert_to_tensor(x))

    def get_config(self) -> dict:
        return {"l1": float(self.l1)}


class L2(Regularizer):
    """l2 * sum(x^2)."""

    def __init__(self, l2=0.01):
        self.l2 = validate_float_arg(0.01 if l2 is None else l2, name="l2")

    def __call__(self, x):
        return _l2_penalty(self.l2, convert_to_tensor(x))

    def get_config(self) -> dict:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """factor * mean over pairs of distinct rows (mode="rows") or columns (mode="columns") of the
    absolute dot product of the L2-normalized vectors: pushes them towards orthogonality.
    Inputs must be matrices."""

    def __init__(self, factor=0.01, mode="rows"):
        validate_float_arg(factor, name="factor")
        self.factor = _float32_scalar(float(factor))
        if mode not in {"rows", "columns"}:
            raise ValueError('Invalid value for argument `mode`. Expected one of '
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, inputs):
        inputs = convert_to_tensor(inputs)
        if inputs.shape.rank != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. "
                             f"Received: inputs.shape={tuple(inputs.shape.as_list())}")
        axis = 1 if self.mode == "rows" else 0
        unit = _l2_normalize(inputs, axis)
        if self.mode == "rows":
            product = linalg_ops.matmul(unit, unit, transpose_b=True)
        else:
            product = linalg_ops.matmul(unit, unit, transpose_a=True)
        size = inputs.shape[1 - axis]
        off_diagonal = math_ops.multiply(
            product, math_ops.subtract(math_ops.cast(1.0, inputs.dtype),
                                       linalg_ops.eye(size, dtype=inputs.dtype)))
        num_pairs = size * (size - 1.0) / 2.0
        total = reduction_ops.reduce_sum(math_ops.abs(off_diagonal))
        factor = math_ops.cast(self.factor, inputs.dtype)
        return math_ops.divide(math_ops.multiply(math_ops.multiply(factor, 0.5), total),
                               math_ops.cast(num_pairs, inputs.dtype))

    def get_config(self) -> dict:
        return {"factor": float(self.factor), "mode": self.mode}


def _l2_normalize(x, axis):
    """x / ||x|| along `axis` as Keras computes it: x * min(rsqrt(sum(x^2)), 1 / epsilon)."""
    square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=True)
    inv_norm = math_ops.minimum(math_ops.rsqrt(square_sum),
                                math_ops.cast(1.0 / backend_config.epsilon(), x.dtype))
    return math_ops.multiply(x, inv_norm)


# Keras 3's lower-case names (each the class itself)
l1 = L1
l2 = L2
l1_l2 = L1L2
orthogonal_regularizer = OrthogonalRegularizer

# the names get() accepts: the class names and their snake_case forms, as Keras 3 computes them
# (so "l1l2" and not "l1_l2")
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in (Regularizer, L1, L2, L1L2,
                                                   OrthogonalRegularizer)}
ALL_OBJECTS_DICT.update({"regularizer": Regularizer, "l1": L1, "l2": L2, "l1l2": L1L2,
                         "orthogonal_regularizer": OrthogonalRegularizer})

_KIND = "regularizer"


def serialize(regularizer):
    """Keras 3's dict for a regularizer."""
    return serialization.serialize_keras_object(regularizer)


def deserialize(config, custom_objects=None):
    """The regularizer a name or a serialized dict describes."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT,
                                                  printable_module_name=_KIND)


def get(identifier):
    """None stays None; a name, a serialized dict or a class gives an instance; a callable
    (an instance, or a function of the weights) is returned as it is."""
    return serialization.get_object(identifier, _KIND, ALL_OBJECTS_DICT)
