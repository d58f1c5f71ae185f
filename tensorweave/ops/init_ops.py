"""TensorFlow 2's own initializers: tf.zeros_initializer, tf.ones_initializer,
tf.constant_initializer, tf.random_normal_initializer, tf.random_uniform_initializer.

An initializer is a callable `init(shape, dtype=tf.float32)` returning a tensor of that shape.
A random one built with an int `seed` uses the stateless random ops with the key `[seed, 0]`, so
every call gives the same values; without a seed it uses the stateful ops, which follow
`tf.random.set_seed` and give new values at each call (as in TensorFlow).
(Keras's initializers, `tf.keras.initializers`, are another family: keras/initializers/.)
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import constant
from tensorweave.ops import array_ops, random_ops

_PARTITION_SHAPE = "partition_shape"
_PARTITION_OFFSET = "partition_offset"


def _numeric_or_bool(dtype) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_numpy_compatible or dtype == dtypes.string:
        raise ValueError(f"Argument `dtype` expected to be numeric or boolean. Received {dtype}.")
    return dtype


def _floating(dtype) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Argument `dtype` is expected to be floating point. Received: {dtype}.")
    return dtype


class Initializer:
    """Base of TensorFlow's initializers: `__call__(shape, dtype=None, **kwargs)` returns a tensor;
    `get_config()` / `from_config()` describe and rebuild the initializer."""

    def __call__(self, shape, dtype=None, **kwargs):
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)

    def _validate_kwargs(self, kwargs, support_partition: bool = True) -> None:
        for key in kwargs:
            if key not in (_PARTITION_SHAPE, _PARTITION_OFFSET):
                raise TypeError("Keyword argument should be one of "
                                f"{[_PARTITION_SHAPE, _PARTITION_OFFSET]}. Received: {key}")
            if not support_partition:
                raise ValueError(f"{type(self).__name__} initializer doesn't support "
                                 "partition-related arguments")

    @staticmethod
    def _partition_shape(shape, kwargs):
        """The shape of the part asked for when a partitioned variable is initialized."""
        return kwargs.get(_PARTITION_SHAPE, shape)


class Zeros(Initializer):
    """tf.zeros_initializer(): tensors of zeros."""

    def __call__(self, shape, dtype=dtypes.float32, **kwargs):
        self._validate_kwargs(kwargs)
        dtype = _numeric_or_bool(dtype)
        return array_ops.zeros(self._partition_shape(shape, kwargs), dtype)


class Ones(Initializer):
    """tf.ones_initializer(): tensors of ones."""

    def __call__(self, shape, dtype=dtypes.float32, **kwargs):
        self._validate_kwargs(kwargs)
        dtype = _numeric_or_bool(dtype)
        return array_ops.ones(self._partition_shape(shape, kwargs), dtype)


class Constant(Initializer):
    """tf.constant_initializer(value): `value` (a scalar, a list or an array) made into a tensor of
    the asked shape, as `tf.constant(value, dtype, shape)` does."""

    def __init__(self, value=0, support_partition=False):
        if not (np.isscalar(value) or isinstance(value, (list, tuple, np.ndarray))):
            raise TypeError(f"Invalid type for initial value: {type(value).__name__}. Expected "
                            "Python scalar, list or tuple of values, or numpy.ndarray.")
        self.value = value
        self.support_partition = support_partition

    def __call__(self, shape, dtype=None, **kwargs):
        self._validate_kwargs(kwargs, support_partition=self.support_partition)
        if dtype is not None:
            dtype = dtypes.as_dtype(dtype)
        return constant(self.value, dtype=dtype, shape=shape)

    def get_config(self) -> dict:
        return {"value": self.value}


class _RandomInitializer(Initializer):
    def __init__(self, seed):
        self.seed = seed
        # the key of the stateless ops: fixed values for a seeded initializer
        self._key = None if seed is None else [seed, 0]


class RandomUniform(_RandomInitializer):
    """tf.random_uniform_initializer(minval, maxval, seed): uniform values in [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=dtypes.float32, **kwargs):
        self._validate_kwargs(kwargs)
        dtype = dtypes.as_dtype(dtype)
        if not dtype.is_floating and not dtype.is_integer:
            raise ValueError("Argument `dtype` expected to be numeric or boolean. "
                             f"Received {dtype}.")
        shape = self._partition_shape(shape, kwargs)
        if self._key is None:
            return random_ops.uniform(shape, self.minval, self.maxval, dtype)
        return random_ops.stateless_uniform(shape, self._key, self.minval, self.maxval, dtype)

    def get_config(self) -> dict:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(_RandomInitializer):
    """tf.random_normal_initializer(mean, stddev, seed): normally distributed values."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=dtypes.float32, **kwargs):
        self._validate_kwargs(kwargs)
        dtype = _floating(dtype)
        shape = self._partition_shape(shape, kwargs)
        if self._key is None:
            return random_ops.normal(shape, self.mean, self.stddev, dtype)
        return random_ops.stateless_normal(shape, self._key, self.mean, self.stddev, dtype)

    def get_config(self) -> dict:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


# the public names (tf.zeros_initializer is the class itself, as in TensorFlow)
zeros_initializer = Zeros
ones_initializer = Ones
constant_initializer = Constant
random_uniform_initializer = RandomUniform
random_normal_initializer = RandomNormal
