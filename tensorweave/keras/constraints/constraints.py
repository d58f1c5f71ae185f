"""Keras 3's weight constraints (keras.constraints), and get/serialize/deserialize.

A constraint maps a weight tensor to its projection (applied after each optimizer update):
MaxNorm and MinMaxNorm rescale the vectors along `axis` whose norms leave a range, UnitNorm
normalizes them, NonNeg zeroes the negative weights.
"""
from __future__ import annotations


from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, math_ops, reduction_ops


def _scalar(value, dtype):
    """A Python number as a scalar of `dtype`, at that dtype's precision (as TF ops take them)."""
    return convert_to_tensor(value, dtype=dtype)


def _norms(w, axis):
    return math_ops.sqrt(reduction_ops.reduce_sum(math_ops.square(w), axis=axis, keepdims=True))


def _rescaled(w, norms, desired):
    """w * desired / (epsilon + norms)."""
    eps = _scalar(backend_config.epsilon(), norms.dtype)
    return math_ops.multiply(math_ops.cast(w, norms.dtype),
                             math_ops.divide(desired, math_ops.add(eps, norms)))


class Constraint:
    """Base of constraints: `__call__(w)` returns the constrained weights (here w itself)."""

    _keras_module = "keras.constraints"

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales the vectors along `axis` whose L2 norm exceeds `max_value` down to it."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        desired = math_ops.clip_by_value(norms, _scalar(0, norms.dtype),
                                         _scalar(self.max_value, norms.dtype))
        return _rescaled(w, norms, desired)

    def get_config(self) -> dict:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """max(w, 0)."""

    def __call__(self, w):
        w = convert_to_tensor(w)
        return math_ops.maximum(w, array_ops.zeros_like(w))


class UnitNorm(Constraint):
    """w / (epsilon + ||w||) along `axis`."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        eps = _scalar(backend_config.epsilon(), norms.dtype)
        return math_ops.divide(math_ops.cast(w, norms.dtype), math_ops.add(eps, norms))

    def get_config(self) -> dict:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norms of the vectors along `axis` into [min_value, max_value]: the new norm is
    rate * clip(norm, min_value, max_value) + (1 - rate) * norm."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = convert_to_tensor(w)
        norms = _norms(w, self.axis)
        dtype = norms.dtype
        clipped = math_ops.clip_by_value(norms, _scalar(self.min_value, dtype),
                                         _scalar(self.max_value, dtype))
        desired = math_ops.add(math_ops.multiply(_scalar(self.rate, dtype), clipped),
                               math_ops.multiply(_scalar(1 - self.rate, dtype), norms))
        return _rescaled(w, norms, desired)

    def get_config(self) -> dict:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras 3's lower-case names (each the class itself)
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

ALL_OBJECTS_DICT = {cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg,
                                                   UnitNorm)}
ALL_OBJECTS_DICT.update({"constraint": Constraint, "max_norm": MaxNorm,
                         "min_max_norm": MinMaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm})

_KIND = "constraint"


def serialize(constraint):
    """Keras 3's dict for a constraint."""
    return serialization.serialize_keras_object(constraint)


def deserialize(config, custom_objects=None):
    """The constraint a name or a serialized dict describes."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT,
                                                  printable_module_name=_KIND)


def get(identifier):
    """None stays None; a name, a serialized dict or a class gives an instance; a callable
    (an instance, or a function of the weights) is returned as it is."""
    return serialization.get_object(identifier, _KIND, ALL_OBJECTS_DICT)
