"""Keras 3's initializers (keras.initializers), and get/serialize/deserialize.

An initializer is called as `init(shape, dtype=None)`; `dtype=None` means `keras.config.floatx()`.
Random ones follow Keras 3's seeding: an int seed gives the same values at every call; without a
seed, one int is drawn at construction from Python's `random` module (which
`keras.utils.set_random_seed` seeds), so an instance also repeats its values. The values come from
tensorweave's stateless random ops keyed by `[seed, 0]`.
"""
from __future__ import annotations

import math
import random as _py_random

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, linalg_ops, math_ops, random_ops, reduction_ops

_SEED_MODULUS = 2 ** 31 - 2  # Keras folds an int seed into int32 range this way


def _dtype(dtype) -> dtypes.DType:
    return dtypes.as_dtype(backend_config.floatx() if dtype is None else dtype)


def _shape(shape) -> tuple:
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    return tuple(int(d) for d in shape)


class Initializer:
    """Base of Keras initializers: subclasses implement `__call__(shape, dtype=None)` and, when
    they take arguments, `get_config()`."""

    _keras_module = "keras.initializers"

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


# -- constant initializers -------------------------------------------------------------------------
class Constant(Initializer):
    """Every element equal to `value` (a scalar, or anything that broadcasts to the shape)."""

    def __init__(self, value=0.0):
        self.value = value

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        return math_ops.multiply(math_ops.cast(self.value, dtype),
                                 array_ops.ones(_shape(shape), dtype))

    def get_config(self) -> dict:
        return {"value": serialization.serialize_keras_object(self.value)}

    @classmethod
    def from_config(cls, config: dict):
        value = config["value"]
        if isinstance(value, dict):
            value = serialization.deserialize_keras_object(value)
        return cls(value)


class Zeros(Initializer):
    """Tensors of zeros."""

    def __call__(self, shape, dtype=None):
        return array_ops.zeros(_shape(shape), _dtype(dtype))


class Ones(Initializer):
    """Tensors of ones."""

    def __call__(self, shape, dtype=None):
        return array_ops.ones(_shape(shape), _dtype(dtype))


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only; rectangular ones allowed)."""

    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        dtype = _dtype(dtype)
        return math_ops.multiply(math_ops.cast(self.gain, dtype),
                                 linalg_ops.eye(shape[0], shape[1], dtype=dtype))
    # no get_config: Keras 3's config of Identity is {} (the gain is not saved)


# Windows of the STFT initializer (what scipy.signal.get_window gives for these names):
# symmetric by default, periodic (the first m of m + 1 points) when asked.
def _cosine_window(coefficients):
    def window(m):
        n = np.arange(m)
        phase = 2 * np.pi * n / (m - 1)
        return sum(c * np.cos(k * phase) for k, c in enumerate(coefficients))
    return window


_WINDOWS = {
    "hann": _cosine_window((0.5, -0.5)),
    "hamming": _cosine_window((0.54, -0.46)),
    "blackman": _cosine_window((0.42, -0.5, 0.08)),
    "bartlett": lambda m: 1 - np.abs(2 * np.arange(m) / (m - 1) - 1),
    "boxcar": np.ones,
}
_WINDOW_ALIASES = {"hanning": "hann", "han": "hann", "hamm": "hamming", "ham": "hamming",
                   "black": "blackman", "blk": "blackman", "bart": "bartlett", "brt": "bartlett",
                   "triangle": "bartlett", "box": "boxcar", "ones": "boxcar", "rect": "boxcar",
                   "rectangular": "boxcar"}


def _get_window(name: str, length: int, periodic: bool) -> np.ndarray:
    key = _WINDOW_ALIASES.get(name, name)
    if key not in _WINDOWS:
        raise ValueError("Unknown window type.")
    if length == 1:
        return np.ones(1)
    points = length + 1 if periodic else length
    return _WINDOWS[key](points)[:length]


class STFT(Initializer):
    """Kernels of a short-time Fourier transform (shape `(frame_length, input_channels,
    fft_length)`): the real (cosine) or imaginary (sine) parts, optionally windowed and scaled."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            _get_window(window, 1, periodic)  # an unknown name fails here
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def __call__(self, shape, dtype=None):
        dtype = _dtype(dtype)
        frame_length, _, fft_length = _shape(shape)
        np_dtype = dtype.as_numpy_dtype
        freq = np.arange(fft_length).reshape(1, 1, fft_length) / ((fft_length - 1) * 2)
        time = np.arange(frame_length).reshape(frame_length, 1, 1)
        args = -2 * time * freq * np.pi
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        kernel = convert_to_tensor(kernel.astype(np_dtype))
        if self.window is None:
            return kernel
        win = self.window
        if isinstance(win, str):
            win = _get_window(win, frame_length, self.periodic)
        win = math_ops.cast(win, dtype)
        if win.shape.rank != 1 or win.shape[-1] != frame_length:
            raise ValueError("The shape of `window` must be equal to [frame_length]."
                             f"Received: window shape={tuple(win.shape.as_list())}")
        win = array_ops.reshape(win, [frame_length, 1, 1])
        kernel = math_ops.multiply(kernel, win)
        if self.scaling == "density":
            kernel = math_ops.divide(
                kernel, math_ops.sqrt(reduction_ops.reduce_sum(math_ops.square(win))))
        elif self.scaling == "spectrum":
            kernel = math_ops.divide(kernel, reduction_ops.reduce_sum(math_ops.abs(win)))
        return kernel

    def get_config(self) -> dict:
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


# -- random initializers ---------------------------------------------------------------------------
def make_default_seed() -> int:
    """The seed of an initializer built without one (Keras draws it from Python's `random`)."""
    return _py_random.randint(1, int(1e9))


def _is_seed_generator(seed) -> bool:
    return callable(getattr(seed, "next", None)) and not isinstance(seed, (int, str))


class RandomInitializer(Initializer):
    """Base of the random initializers: keeps the seed given (for get_config) and the seed used."""

    def __init__(self, seed=None):
        self._init_seed = seed
        if seed is None:
            seed = make_default_seed()
        elif isinstance(seed, dict):
            seed = serialization.deserialize_keras_object(seed)
        elif not isinstance(seed, int) and not _is_seed_generator(seed):
            raise ValueError("`seed` argument should be an instance of "
                             "`keras.random.SeedGenerator()` or an integer. "
                             f"Received: seed={seed}")
        self.seed = seed

    def get_config(self) -> dict:
        return {"seed": serialization.serialize_keras_object(self._init_seed)}

    def _key(self):
        """The key of the stateless random ops for this call."""
        if isinstance(self.seed, int):
            return [self.seed % _SEED_MODULUS, 0]
        key = convert_to_tensor(self.seed.next())
        if key.dtype != dtypes.int32:
            key = math_ops.cast(math_ops.floormod(key, _SEED_MODULUS), dtypes.int32)
        return key

    def _normal(self, shape, mean, stddev, dtype):
        return random_ops.stateless_normal(_shape(shape), self._key(), mean=mean, stddev=stddev,
                                           dtype=_dtype(dtype))

    def _truncated_normal(self, shape, mean, stddev, dtype):
        return random_ops.stateless_truncated_normal(_shape(shape), self._key(), mean=mean,
                                                     stddev=stddev, dtype=_dtype(dtype))

    def _uniform(self, shape, minval, maxval, dtype):
        dtype = _dtype(dtype)
        return random_ops.stateless_uniform(_shape(shape), self._key(),
                                            minval=math_ops.cast(minval, dtype),
                                            maxval=math_ops.cast(maxval, dtype), dtype=dtype)


class RandomNormal(RandomInitializer):
    """Normally distributed values (`mean`, `stddev`)."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._normal(shape, self.mean, self.stddev, dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal values (`mean`, `stddev`) redrawn when more than two deviations from the mean."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._truncated_normal(shape, self.mean, self.stddev, dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Uniform values in [minval, maxval)."""

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        return self._uniform(shape, self.minval, self.maxval, dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(shape, input_axes=None, output_axes=None) -> tuple:
    """(fan_in, fan_out) of a weight shape as Keras counts them: the given axes if both are given;
    else a vector has fan_in = fan_out = its length, a matrix (fan_in, fan_out) = its shape, and a
    convolution kernel (..., in, out) multiplies both by its receptive field (the leading dims)."""
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return (int(math.prod(shape[a] for a in input_axes)),
                int(math.prod(shape[a] for a in output_axes)))
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# The standard deviation of a standard normal truncated to [-2, 2]: dividing by it makes the
# truncated samples' variance the one asked for.
_TRUNCATED_STDDEV = 0.87962566103423978


class VarianceScaling(RandomInitializer):
    """Values whose variance is `scale / n`, n being fan_in, fan_out or their mean (`mode`), drawn
    from a truncated normal, an untruncated normal or a uniform distribution."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of "
                             "{'fan_in', 'fan_out', 'fan_avg'}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in {"uniform", "truncated_normal", "untruncated_normal"}:
            raise ValueError(f"Invalid `distribution` argument: {distribution}.Please use one of "
                             "{'uniform', 'truncated_normal', 'untruncated_normal'}")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        if self.mode == "fan_in":
            variance = self.scale / max(1.0, fan_in)
        elif self.mode == "fan_out":
            variance = self.scale / max(1.0, fan_out)
        else:
            variance = self.scale / max(1.0, (fan_in + fan_out) / 2.0)
        if self.distribution == "truncated_normal":
            return self._truncated_normal(shape, 0.0, math.sqrt(variance) / _TRUNCATED_STDDEV,
                                          dtype)
        if self.distribution == "untruncated_normal":
            return self._normal(shape, 0.0, math.sqrt(variance), dtype)
        limit = math.sqrt(3.0 * variance)
        return self._uniform(shape, -limit, limit, dtype)

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling with fixed scale, mode and distribution (Glorot, He, LeCun)."""

    _scale = 1.0
    _mode = "fan_in"
    _distribution = "truncated_normal"

    def __init__(self, seed=None, input_axes=None, output_axes=None):
        super().__init__(scale=self._scale, mode=self._mode, distribution=self._distribution,
                         seed=seed, input_axes=input_axes, output_axes=output_axes)

    def get_config(self) -> dict:
        return {"seed": serialization.serialize_keras_object(self._init_seed),
                "input_axes": self.input_axes, "output_axes": self.output_axes}


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(6 / (fan_in + fan_out)) (Xavier uniform)."""

    _mode, _distribution = "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(2 / (fan_in + fan_out)) (Xavier normal)."""

    _mode = "fan_avg"


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(2 / fan_in)."""

    _scale = 2.0


class HeUniform(_FixedVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(6 / fan_in)."""

    _scale, _distribution = 2.0, "uniform"


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with stddev sqrt(1 / fan_in)."""


class LecunUniform(_FixedVarianceScaling):
    """Uniform in [-limit, limit], limit = sqrt(3 / fan_in)."""

    _distribution = "uniform"


class Orthogonal(RandomInitializer):
    """A random orthogonal matrix times `gain` (the Q of the QR decomposition of a normal matrix,
    signs fixed by R's diagonal); a kernel of rank > 2 is flattened to (prod(shape[:-1]),
    shape[-1]) first."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed=seed)

    def __call__(self, shape, dtype=None):
        shape = _shape(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        num_rows = math.prod(shape[:-1])
        num_cols = shape[-1]
        flat_shape = (max(num_cols, num_rows), min(num_cols, num_rows))
        a = self._normal(flat_shape, 0.0, 1.0, dtype)
        q, r = linalg_ops.qr(a)
        q = math_ops.multiply(q, math_ops.sign(linalg_ops.diag_part(r)))
        if num_rows < num_cols:
            q = array_ops.transpose(q)
        return math_ops.multiply(math_ops.cast(self.gain, q.dtype), array_ops.reshape(q, shape))

    def get_config(self) -> dict:
        return {**super().get_config(), "gain": self.gain}


# -- lookup and serialization ----------------------------------------------------------------------
_CLASSES = (Initializer, Constant, Identity, Ones, STFT, Zeros, GlorotNormal, GlorotUniform,
            HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal, RandomNormal,
            RandomUniform, TruncatedNormal, VarianceScaling)

# Keras 3's lower-case names (each the class itself)
constant = Constant
identity = Identity
ones = Ones
stft = STFT
zeros = Zeros
glorot_normal = GlorotNormal
glorot_uniform = GlorotUniform
he_normal = HeNormal
he_uniform = HeUniform
lecun_normal = LecunNormal
lecun_uniform = LecunUniform
orthogonal = Orthogonal
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
IdentityInitializer = Identity
OrthogonalInitializer = Orthogonal
STFTInitializer = STFT

ALL_OBJECTS_DICT = {cls.__name__: cls for cls in _CLASSES}
ALL_OBJECTS_DICT.update({
    "initializer": Initializer, "constant": Constant, "identity": Identity, "ones": Ones,
    "stft": STFT, "zeros": Zeros, "glorot_normal": GlorotNormal,
    "glorot_uniform": GlorotUniform, "he_normal": HeNormal, "he_uniform": HeUniform,
    "lecun_normal": LecunNormal, "lecun_uniform": LecunUniform, "orthogonal": Orthogonal,
    "random_normal": RandomNormal, "random_uniform": RandomUniform,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    # Keras's extra aliases
    "IdentityInitializer": Identity, "normal": RandomNormal, "one": Ones,
    "STFTInitializer": STFT, "OrthogonalInitializer": Orthogonal, "uniform": RandomUniform,
    "zero": Zeros,
})

_KIND = "initializer"


def serialize(initializer):
    """Keras 3's dict for an initializer (`{"module", "class_name", "config", ...}`)."""
    return serialization.serialize_keras_object(initializer)


def deserialize(config, custom_objects=None):
    """The initializer a name or a serialized dict describes."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT,
                                                  printable_module_name=_KIND)


def _from_tensor(value):
    """An initializer returning `value` itself (cast), for a tensor or array given directly."""
    def initialize_fn(shape, dtype=None):
        dtype = _dtype(dtype)
        expected = tuple(np.shape(value) if not isinstance(value, Tensor)
                         else value.shape.as_list())
        if _shape(shape) != expected:
            raise ValueError(f"Expected `shape` to be {expected} for direct tensor as "
                             f"initializer. Received shape={_shape(shape)}")
        return math_ops.cast(value, dtype)
    return initialize_fn


def get(identifier):
    """The initializer for `identifier`: None stays None; a name, a serialized dict or a class
    gives an instance; a tensor or array gives an initializer returning it; any other callable
    (an instance, a function `(shape, dtype)`) is returned as it is."""
    if isinstance(identifier, (Tensor, np.ndarray, np.generic)):
        return _from_tensor(identifier)
    return serialization.get_object(identifier, _KIND, ALL_OBJECTS_DICT)
