"""Keras 3's regularization layers: Dropout, SpatialDropout1D/2D/3D, GaussianNoise,
GaussianDropout, AlphaDropout and ActivityRegularization.

The random layers act only when called with `training=True` (their `call` defaults to False, as in
Keras 3): at inference they return their input unchanged. Each draws its noise with the stateless
random ops from a seed pair kept in a variable that advances by one on every draw, so a layer made
with `seed=` gives the same sequence of masks on every run, a different mask on each call, and the
same behaviour inside a tf.function (the advance is a variable update in the graph).
"""
from __future__ import annotations

import math
import random as _py_random

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import init_scope
from tensorweave.framework.variables import Variable as _TFVariable
from tensorweave.keras.engine import backend_config
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.ops import array_ops, math_ops, random_ops

# The constants of SELU, which AlphaDropout keeps self-normalizing.
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


class _SeedGenerator:
    """The seed of a layer's random draws: a (2,) int64 state `[seed, n]`; `next()` returns the
    current state and advances `n` (Keras 3's `keras.random.SeedGenerator` with ordered draws).

    The state is kept outside the layer's tracked weights: it is not a weight in Keras either
    (`layer.weights` stays empty)."""

    def __init__(self, seed=None):
        self._initial_seed = seed
        if seed is None:
            seed = _py_random.randint(1, int(1e9))
        if not isinstance(seed, (int, np.integer)):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        with init_scope():
            self.state = _TFVariable(np.array([int(seed), 0], np.int64), trainable=False,
                                     name="seed_generator_state", dtype=dtypes.int64)

    def next(self):
        seed = array_ops.identity(self.state)
        self.state.assign_add(np.array([0, 1], np.int64))
        return seed

    def get_config(self) -> dict:
        return {"seed": self._initial_seed}


def _check_rate(rate) -> None:
    if not 0 <= rate <= 1:
        raise ValueError("Invalid value received for argument `rate`. Expected a float value "
                         f"between 0 and 1. Received: rate={rate}")


def _concrete_noise_shape(inputs, noise_shape):
    """The noise shape as a 1-D tensor: None entries take the input's run-time size."""
    if noise_shape is None:
        return array_ops.shape(inputs)
    if all(d is not None for d in noise_shape):
        return list(noise_shape)
    sizes = array_ops.shape(inputs)
    return array_ops.stack([sizes[i] if d is None else d for i, d in enumerate(noise_shape)])


def _keep_mask(inputs, rate, shape, seed_generator):
    """True where an element (or a slice: `shape` broadcasts) is kept: uniform >= rate."""
    noise = random_ops.stateless_uniform(shape, seed=seed_generator.next(), dtype=inputs.dtype)
    return math_ops.greater_equal(noise, math_ops.cast(rate, inputs.dtype))


def _dropout(inputs, rate, shape, seed_generator):
    """Zeroes elements with probability `rate`, scales the rest by 1 / (1 - rate)."""
    keep = _keep_mask(inputs, rate, shape, seed_generator)
    if rate >= 1:  # nothing is kept: no infinite scale
        return array_ops.where(keep, inputs, array_ops.zeros_like(inputs))
    # a product with the scaled 0/1 mask, as tf.nn.dropout computes it (a select is ~3x slower,
    # forward and backward)
    scale = math_ops.multiply(math_ops.cast(keep, inputs.dtype),
                              math_ops.cast(1.0 / (1.0 - rate), inputs.dtype))
    return math_ops.multiply(inputs, scale)


def _validate_noise_shape(noise_shape):
    if noise_shape is None:
        return None
    if isinstance(noise_shape, str):
        raise ValueError("Invalid value received for argument `noise_shape`. Expected a tuple or "
                         f"list of integers. Received: noise_shape={noise_shape}")
    try:
        noise_shape = tuple(noise_shape)
    except TypeError:
        raise ValueError("Invalid value received for argument `noise_shape`. Expected an "
                         "iterable of integers (e.g., a tuple or list). "
                         f"Received: noise_shape={noise_shape}") from None
    for i, d in enumerate(noise_shape):
        if d is None:
            continue
        if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
            raise ValueError("Invalid value received for argument `noise_shape`. Expected all "
                             f"elements to be integers or None. Received element at index {i}: "
                             f"{d} (type: {type(d).__name__})")
        if d <= 0:
            raise ValueError("Invalid value received for argument `noise_shape`. Expected all "
                             "dimensions to be positive integers or None. Received negative or "
                             f"zero value at index {i}: {d}")
    return noise_shape


class Dropout(Layer):
    """Sets input units to 0 with probability `rate` in training and scales the others by
    1 / (1 - rate); `noise_shape` (None entries: the input's size) shares the mask along axes."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        self.noise_shape = _validate_noise_shape(noise_shape)
        if rate > 0:
            self.seed_generator = _SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return _dropout(inputs, self.rate, _concrete_noise_shape(inputs, self.noise_shape),
                            self.seed_generator)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one draw per (batch, channel)."""

    _ndim = 0

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)

    def _data_format(self):
        return "channels_last"

    def _noise_shape(self, inputs):
        sizes = array_ops.shape(inputs)
        ones = [1] * (self._ndim - 2)
        if self._data_format() == "channels_first":
            return [sizes[0], sizes[1]] + ones
        return [sizes[0]] + ones + [sizes[self._ndim - 1]]

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return _dropout(inputs, self.rate, array_ops.stack(self._noise_shape(inputs)),
                            self.seed_generator)
        return inputs

    def get_config(self) -> dict:
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


def _standardize_data_format(data_format) -> str:
    if data_format is None:
        return backend_config.image_data_format()
    data_format = str(data_format).lower()
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={data_format}")
    return data_format


class SpatialDropout1D(_SpatialDropout):
    """Drops whole 1-D feature maps of (batch, steps, channels) inputs."""

    _ndim = 3

    def __init__(self, rate, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.input_spec = InputSpec(ndim=3)


class _SpatialMapsDropout(_SpatialDropout):
    """SpatialDropout2D/3D: whole feature maps, channels last or first."""

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None):
        super().__init__(rate, seed=seed, name=name, dtype=dtype)
        self.data_format = _standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._ndim)

    def _data_format(self):
        return self.data_format

    def get_config(self) -> dict:
        return {**super().get_config(), "data_format": self.data_format}


class SpatialDropout2D(_SpatialMapsDropout):
    """Drops whole 2-D feature maps of 4-D inputs (channels last or first)."""

    _ndim = 4


class SpatialDropout3D(_SpatialMapsDropout):
    """Drops whole 3-D feature maps of 5-D inputs (channels last or first)."""

    _ndim = 5


class GaussianNoise(Layer):
    """Adds zero-centered Gaussian noise of standard deviation `stddev` in training."""

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= stddev <= 1:
            raise ValueError("Invalid value received for argument `stddev`. Expected a float "
                             f"value between 0 and 1. Received: stddev={stddev}")
        self.stddev = stddev
        self.seed = seed
        if stddev > 0:
            self.seed_generator = _SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            noise = random_ops.stateless_normal(array_ops.shape(inputs),
                                                seed=self.seed_generator.next(), mean=0.0,
                                                stddev=self.stddev, dtype=self.compute_dtype)
            return math_ops.add(inputs, noise)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Multiplies the inputs by Gaussian noise of mean 1 and stddev sqrt(rate / (1 - rate))
    in training."""

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        if rate > 0:
            self.seed_generator = _SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            stddev = math.sqrt(self.rate / (1.0 - self.rate))
            noise = random_ops.stateless_normal(array_ops.shape(inputs),
                                                seed=self.seed_generator.next(), mean=1.0,
                                                stddev=stddev, dtype=self.compute_dtype)
            return math_ops.multiply(inputs, noise)
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class AlphaDropout(Layer):
    """Dropout that keeps the mean and variance of SELU activations: dropped units are set to
    SELU's negative saturation value, then an affine map a * x + b restores the moments."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_rate(rate)
        self.rate = rate
        self.seed = seed
        self.noise_shape = noise_shape
        if rate > 0:
            self.seed_generator = _SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            rate = self.rate
            alpha_p = -_SELU_ALPHA * _SELU_SCALE
            shape = _concrete_noise_shape(inputs, self.noise_shape)
            kept = math_ops.cast(_keep_mask(inputs, rate, shape, self.seed_generator),
                                 inputs.dtype)
            a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
            b = -a * alpha_p * rate
            x = math_ops.add(math_ops.multiply(inputs, kept),
                             math_ops.multiply(math_ops.subtract(math_ops.cast(1, inputs.dtype),
                                                                 kept),
                                               math_ops.cast(alpha_p, inputs.dtype)))
            return math_ops.add(math_ops.multiply(x, math_ops.cast(a, inputs.dtype)),
                                math_ops.cast(b, inputs.dtype))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class ActivityRegularization(Layer):
    """Passes its input through and adds the activity penalty l1 * sum(|x|) + l2 * sum(x^2),
    divided by the batch size (Keras 3's activity regularization), to `losses`."""

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        from tensorweave.keras.regularizers import L1L2
        super().__init__(activity_regularizer=L1L2(l1=l1, l2=l2), **kwargs)
        self.supports_masking = True
        self.l1 = l1
        self.l2 = l2
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
