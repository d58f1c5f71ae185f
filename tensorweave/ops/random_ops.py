"""Random numbers: tf.random's stateful ops, stateless ops and tf.random.Generator.

Every distribution is one sampler `_sample_x(rng, *arrays, **attrs)` over a NumPy Generator,
declared as up to three primitives that differ only in where the Generator comes from:

- stateful ("RandomStandardNormal"...): attrs `seed`, `seed2` name a stream kept in `_streams`,
  so that one op run again (eagerly with the same op seed, or in a compiled graph) continues its
  stream as a TensorFlow kernel does; `tf.random.set_seed` drops the streams;
- stateless ("StatelessRandomNormal"...): the first input is the seed pair, the key of a fresh
  Philox generator, so the same seed always gives the same values;
- generator ("StatefulStandardNormal"...): the first input is a tf.random.Generator's state
  (counter words and key of a Philox generator) and the op also returns the advanced state.

Seeds follow TensorFlow 2 (tf.random.set_seed): no seed at all draws from an OS-seeded stream;
a global seed alone gives a stream keyed by the global seed (the same program gives the same
values, and set_seed restarts it); an op seed gives that op its own stream keyed by
(global seed or a default, op seed). TensorFlow's exact numbers are not reproduced.

Random values are constants for the tape: the samplers have no gradient; composites such as
`normal` (`rnd * stddev + mean`) differentiate with respect to their tensor parameters.
"""
from __future__ import annotations

import enum
import os
import zlib

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import constant, convert_to_tensor, dtype_mismatch
from tensorweave.framework.device import config as _config
from tensorweave.framework.errors import (
    InvalidArgumentError, NotFoundError, UnimplementedError, op_error)
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variables import Variable

_MASK64 = (1 << 64) - 1
DEFAULT_GLOBAL_SEED = 87654321  # TensorFlow's seed when only an op seed is given

_HALF_PRECISION_BITS = {dtypes.float16._enum: 11, dtypes.bfloat16._enum: 8}
_FLOAT_NAMES = "half, bfloat16, float, double"


# -- seeds ------------------------------------------------------------------------------------
_global_seed = None
_streams: dict = {}  # (op name, seed, seed2) -> np.random.Generator of a stateful op
_entropy_rng = np.random.default_rng()  # ops with neither a global nor an op seed


def set_seed(seed) -> None:
    """tf.random.set_seed: sets the global seed; None removes it.

    Ops without an op seed then draw a sequence that is the same on every run of the program,
    and every call of set_seed restarts the sequences of all ops, seeded or not.
    """
    global _global_seed
    _global_seed = None if seed is None else int(seed)
    _streams.clear()


def get_seed(op_seed=None) -> tuple:
    """(seed, seed2) of an op as TensorFlow derives them from the global and op seeds.

    (None, None): no seed at all; (global seed, None): the shared stream of the global seed;
    two ints: the op's own stream.
    """
    if op_seed is None:
        if _global_seed is None:
            if _config.op_determinism:
                raise RuntimeError("Random ops require a seed to be set when determinism is "
                                   "enabled. Please set a seed before running the op, e.g. by "
                                   "calling tf.random.set_seed(1).")
            return None, None
        return _global_seed, None
    return (DEFAULT_GLOBAL_SEED if _global_seed is None else _global_seed), int(op_seed)


def _stream(name: str, seed, seed2) -> np.random.Generator:
    if seed is None:
        return _entropy_rng
    key = (name, seed, seed2) if seed2 is not None else ("", seed)
    rng = _streams.get(key)
    if rng is None:
        words = [seed & _MASK64] if seed2 is None else \
            [zlib.crc32(name.encode()), seed & _MASK64, seed2 & _MASK64, 1]
        rng = _streams[key] = np.random.Generator(np.random.Philox(np.random.SeedSequence(words)))
    return rng


# -- algorithms and generator states ------------------------------------------------------------
class Algorithm(enum.Enum):
    """The random-number algorithms: all are computed with NumPy's Philox here."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


_ALG_NAMES = {"philox": 1, "threefry": 2, "auto_select": 3}
_STATE_SIZE = {1: 3, 2: 2, 3: 3}


def _alg_int(alg, default: int = 1) -> int:
    if alg is None:
        return default
    if isinstance(alg, Algorithm):
        return alg.value
    if isinstance(alg, str) and alg.lower() in _ALG_NAMES:
        return _ALG_NAMES[alg.lower()]
    if isinstance(alg, (int, np.integer)) and int(alg) in _STATE_SIZE:
        return int(alg)
    raise ValueError(f"Argument `alg` got unsupported value {alg}. Supported values are philox for "
                     "the Philox algorithm, threefry for the ThreeFry algorithm, and auto_select "
                     "for auto-selection.")


def _philox(counter_words, key_word, alg: int) -> np.random.BitGenerator:
    counter = np.zeros(4, np.uint64)
    counter[:len(counter_words)] = counter_words
    counter[3] = alg  # keeps the algorithms' streams apart
    return np.random.Philox(counter=counter, key=np.array([key_word, 0], np.uint64))


def _generator_rng(state, alg: int):
    """The bit generator a tf.random.Generator's state stands for: counter words, then key."""
    if np.shape(state) != (_STATE_SIZE[alg],):
        raise ValueError(f"Generator state must have shape [{_STATE_SIZE[alg]}], got "
                         f"{list(np.shape(state))}")
    words = np.asarray(state).astype(np.int64).view(np.uint64)
    return _philox(words[:-1], words[-1], alg)


def _stateless_rng(seed, alg: int) -> np.random.Generator:
    if np.shape(seed) != (2,):
        raise op_error(InvalidArgumentError, "StatelessRandomGetKeyCounter",
                       f"seed must have shape [2], not {list(np.shape(seed))}")
    words = np.asarray(seed).astype(np.int64).view(np.uint64)
    return np.random.Generator(_philox(words[1:], words[0], alg))


# -- samplers: NumPy in, NumPy out --------------------------------------------------------------
def _np_dtype(dtype: dtypes.DType):
    return dtype.as_numpy_dtype


def _work_dtype(dtype: dtypes.DType):
    """The type NumPy samples in: float64 for double, float32 for every narrower float."""
    return np.float64 if dtype is dtypes.float64 else np.float32


def _sample_normal(rng, shape, dtype):
    out = rng.standard_normal(shape, dtype=_work_dtype(dtype))
    return out.astype(_np_dtype(dtype), copy=False)


def _sample_uniform(rng, shape, dtype):
    bits = _HALF_PRECISION_BITS.get(dtype._enum)
    if bits is None:
        return rng.random(shape, dtype=_work_dtype(dtype))
    # On a grid of the type's precision, so that no value rounds up to 1.
    grid = rng.integers(0, 1 << bits, size=shape, dtype=np.int32)
    return (grid * (1.0 / (1 << bits))).astype(_np_dtype(dtype))


def _sample_truncated_normal(rng, shape, dtype):
    work = _work_dtype(dtype)
    out = rng.standard_normal(shape, dtype=work)
    outside = np.abs(out) > 2.0
    while outside.any():  # resample values more than two standard deviations from the mean
        out[outside] = rng.standard_normal(int(outside.sum()), dtype=work)
        outside = np.abs(out) > 2.0
    return out.astype(_np_dtype(dtype), copy=False)


def _sample_uniform_int(rng, minval, maxval, shape):
    for what, bound in (("minval", minval), ("maxval", maxval)):
        if np.ndim(bound):
            raise ValueError(f"{what} must be 0-D, got shape {list(np.shape(bound))}")
    if not minval < maxval:
        raise ValueError(f"Need minval < maxval, got {minval} >= {maxval}")
    return rng.integers(minval, maxval, size=shape, dtype=np.asarray(minval).dtype)


def _sample_full_int(rng, shape, dtype):
    info = np.iinfo(_np_dtype(dtype))
    return rng.integers(info.min, info.max, size=shape, dtype=_np_dtype(dtype), endpoint=True)


def _sample_categorical(rng, logits, num_samples, dtype):
    if np.ndim(logits) != 2:
        raise ValueError(f"logits should be a matrix, got shape {list(np.shape(logits))}")
    batch, classes = logits.shape
    if classes <= 0:
        raise ValueError(f"num_classes should be positive, got {classes}")
    if num_samples < 0:
        raise ValueError(f"num_samples should be non-negative, got {num_samples}")
    x = logits.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        probs = np.exp(x - x.max(axis=1, keepdims=True))
    infinite = np.isposinf(x)
    rows_inf = infinite.any(axis=1)
    probs[rows_inf] = infinite[rows_inf]  # a +inf logit takes all the mass of its row
    cdf = np.cumsum(probs, axis=1)
    u = rng.random((batch, num_samples))
    out = np.empty((batch, num_samples), _np_dtype(dtype))
    for i in range(batch):
        total = cdf[i, -1]
        if not (np.isfinite(total) and total > 0):  # no valid class: TF returns num_classes
            out[i] = classes
            continue
        picks = np.searchsorted(cdf[i], u[i] * total, side="right")
        last = classes - 1 - int(np.argmax(probs[i, ::-1] > 0))  # rounding never picks p = 0
        out[i] = np.minimum(picks, last)
    return out


def _sample_shuffle(rng, value):
    if np.ndim(value) == 0:
        return value
    return value[rng.permutation(np.shape(value)[0])]


def _sample_gamma(rng, alpha, shape):
    dtype = dtypes.NP_TO_DTYPE[alpha.dtype]
    work = _work_dtype(dtype)
    a = np.asarray(alpha, dtype=work)
    valid = a >= 0  # NaN and negative concentrations give NaN, as in TensorFlow
    out = rng.standard_gamma(np.where(valid, a, 1), size=tuple(shape) + a.shape, dtype=work)
    out = np.where(valid, out, np.nan).astype(alpha.dtype, copy=False)
    # Samples never underflow to zero: TensorFlow clamps them at the smallest normal number.
    return np.maximum(out, np.finfo(alpha.dtype).tiny)


def _sample_poisson(rng, lam, shape, dtype):
    rate = np.asarray(lam, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        rate = np.where(rate >= 0, rate, 0.0)  # negative (and NaN) rates give 0
    return rng.poisson(rate, size=tuple(shape) + rate.shape).astype(_np_dtype(dtype))


def _to_output_shape(params, shape, op_name: str):
    """`params` broadcast to `shape`, the whole output shape, which must end with the params'
    own shape (size-1 dimensions included), as the stateless gamma and Poisson kernels require."""
    p_shape, shape = np.shape(params), tuple(shape)
    if len(p_shape) > len(shape) or shape[len(shape) - len(p_shape):] != p_shape:
        raise op_error(InvalidArgumentError, op_name,
                       "Shape passed in must end with broadcasted shape.")
    return np.broadcast_to(params, shape)


def _sample_gamma_to_shape(rng, alpha, shape):
    return _sample_gamma(rng, _to_output_shape(alpha, shape, "StatelessRandomGammaV3"), ())


def _sample_poisson_to_shape(rng, lam, shape, dtype):
    return _sample_poisson(rng, _to_output_shape(lam, shape, "StatelessRandomPoisson"), (), dtype)


def _sample_binomial(rng, counts, probs, shape, dtype):
    n = np.broadcast_to(np.asarray(counts, np.float64), shape)
    p = np.broadcast_to(np.asarray(probs, np.float64), shape)
    with np.errstate(invalid="ignore"):
        out = rng.binomial(np.maximum(n, 0).astype(np.int64), np.clip(np.nan_to_num(p), 0, 1))
    return np.asarray(out).astype(_np_dtype(dtype))


# -- abstract evaluation --------------------------------------------------------------------------
def _shaped(*specs, shape, dtype, **attrs) -> TensorSpec:
    return TensorSpec(shape, dtype)


def _uniform_int_abstract(minval, maxval, shape, **attrs) -> TensorSpec:
    return TensorSpec(shape, minval.dtype)


def _categorical_abstract(logits, num_samples, dtype, **attrs) -> TensorSpec:
    batch = logits.shape[0] if logits.shape.rank else None
    return TensorSpec([batch, num_samples], dtype)


def _shuffle_abstract(value, **attrs) -> TensorSpec:
    return TensorSpec(value.shape, value.dtype)


def _gamma_abstract(alpha, shape, **attrs) -> TensorSpec:
    return TensorSpec(TensorShape(shape).concatenate(alpha.shape), alpha.dtype)


def _poisson_abstract(lam, shape, dtype, **attrs) -> TensorSpec:
    return TensorSpec(TensorShape(shape).concatenate(lam.shape), dtype)


def _gamma_to_shape_abstract(alpha, shape, **attrs) -> TensorSpec:
    return TensorSpec(shape, alpha.dtype)


def _poisson_to_shape_abstract(lam, shape, dtype, **attrs) -> TensorSpec:
    return TensorSpec(shape, dtype)


def _binomial_abstract(counts, probs, shape, dtype, **attrs) -> TensorSpec:
    return TensorSpec(shape, dtype)


# -- the three kinds of primitive ----------------------------------------------------------------
def _stateful(name, sampler, abstract):
    def forward(*arrays, seed, seed2, **attrs):
        return sampler(_stream(name, seed, seed2), *arrays, **attrs)
    return primitive(name, forward, None, abstract, stateful=True)


def _stateless(name, sampler, abstract):
    def forward(seed, *arrays, alg, **attrs):
        return sampler(_stateless_rng(seed, alg), *arrays, **attrs)

    def abstract_fn(seed, *specs, alg, **attrs):
        if seed.shape.rank is not None and not seed.shape.is_compatible_with([2]):
            raise ValueError(f"seed must have shape [2], not {seed.shape}")
        return abstract(*specs, **attrs)
    return primitive(name, forward, None, abstract_fn)


def _generator_op(name, sampler, abstract):
    def forward(state, *arrays, alg, **attrs):
        bit_generator = _generator_rng(state, alg)
        out = sampler(np.random.Generator(bit_generator), *arrays, **attrs)
        counter = bit_generator.state["state"]["counter"][:_STATE_SIZE[alg] - 1]
        new_state = np.concatenate([counter.view(np.int64), np.asarray(state)[-1:]])
        return out, new_state

    def abstract_fn(state, *specs, alg, **attrs):
        return abstract(*specs, **attrs), TensorSpec(state.shape, dtypes.int64)
    return primitive(name, forward, None, abstract_fn, multi_output=True)


RANDOM_STANDARD_NORMAL = _stateful("RandomStandardNormal", _sample_normal, _shaped)
RANDOM_UNIFORM = _stateful("RandomUniform", _sample_uniform, _shaped)
RANDOM_UNIFORM_INT = _stateful("RandomUniformInt", _sample_uniform_int, _uniform_int_abstract)
TRUNCATED_NORMAL = _stateful("TruncatedNormal", _sample_truncated_normal, _shaped)
MULTINOMIAL = _stateful("Multinomial", _sample_categorical, _categorical_abstract)
RANDOM_SHUFFLE = _stateful("RandomShuffle", _sample_shuffle, _shuffle_abstract)
RANDOM_GAMMA = _stateful("RandomGamma", _sample_gamma, _gamma_abstract)
RANDOM_POISSON = _stateful("RandomPoissonV2", _sample_poisson, _poisson_abstract)

STATELESS_NORMAL = _stateless("StatelessRandomNormal", _sample_normal, _shaped)
STATELESS_UNIFORM = _stateless("StatelessRandomUniform", _sample_uniform, _shaped)
STATELESS_UNIFORM_INT = _stateless("StatelessRandomUniformInt", _sample_uniform_int,
                                   _uniform_int_abstract)
STATELESS_FULL_INT = _stateless("StatelessRandomUniformFullInt", _sample_full_int, _shaped)
STATELESS_TRUNCATED_NORMAL = _stateless("StatelessTruncatedNormal", _sample_truncated_normal,
                                        _shaped)
STATELESS_MULTINOMIAL = _stateless("StatelessMultinomial", _sample_categorical,
                                   _categorical_abstract)
STATELESS_SHUFFLE = _stateless("StatelessShuffle", _sample_shuffle, _shuffle_abstract)
STATELESS_GAMMA = _stateless("StatelessRandomGammaV3", _sample_gamma_to_shape,
                             _gamma_to_shape_abstract)
STATELESS_POISSON = _stateless("StatelessRandomPoisson", _sample_poisson_to_shape,
                               _poisson_to_shape_abstract)
STATELESS_BINOMIAL = _stateless("StatelessRandomBinomial", _sample_binomial, _binomial_abstract)

STATEFUL_NORMAL = _generator_op("StatefulStandardNormalV2", _sample_normal, _shaped)
STATEFUL_UNIFORM = _generator_op("StatefulUniform", _sample_uniform, _shaped)
STATEFUL_UNIFORM_INT = _generator_op("StatefulUniformInt", _sample_uniform_int,
                                     _uniform_int_abstract)
STATEFUL_FULL_INT = _generator_op("StatefulUniformFullInt", _sample_full_int, _shaped)
STATEFUL_TRUNCATED_NORMAL = _generator_op("StatefulTruncatedNormal", _sample_truncated_normal,
                                          _shaped)
STATEFUL_BINOMIAL = _generator_op("StatefulRandomBinomial", _sample_binomial, _binomial_abstract)


# -- argument handling ---------------------------------------------------------------------------
_FLOATING = dtypes.FLOATING
_INT32_64 = frozenset((dtypes.int32._enum, dtypes.int64._enum))
_UNIFORM_DTYPES = (dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64,
                   dtypes.int32, dtypes.int64)
_UNIFORM_ENUMS = frozenset(d._enum for d in _UNIFORM_DTYPES)
_STATELESS_UNIFORM_DTYPES = _UNIFORM_DTYPES + (dtypes.uint32, dtypes.uint64)
_FULL_INT_ENUMS = frozenset(d._enum for d in (dtypes.int32, dtypes.int64, dtypes.uint32,
                                              dtypes.uint64))
_POISSON_ENUMS = frozenset(d._enum for d in (dtypes.float16, dtypes.float32, dtypes.float64,
                                             dtypes.int32, dtypes.int64))


def _invalid_dtype(dtype, allowed) -> ValueError:
    names = ", ".join(repr(d) for d in allowed)
    return ValueError(f"Argument `dtype` got invalid value {dtype}. Accepted dtypes are ({names}).")


def _attr_dtype_error(op_name: str, attr: str, dtype, allowed: str):
    return op_error(InvalidArgumentError, op_name,
                    f"Value for attr '{attr}' of {dtype.name} is not in the list of allowed "
                    f"values: {allowed}")


def _shape_attr(shape, op_name: str) -> tuple:
    """A shape argument (list, tuple, TensorShape, 1-D integer tensor) as a tuple of ints."""
    if type(shape) in (tuple, list) and all(type(d) is int for d in shape):
        dims = tuple(shape)
    elif isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"Cannot convert a partially known TensorShape {shape} to a Tensor.")
        dims = tuple(shape.as_list())
    else:
        if isinstance(shape, (list, tuple)) and any(isinstance(d, Tensor) for d in shape):
            shape = [int(d) if isinstance(d, Tensor) and d.dtype.is_integer else d for d in shape]
        t = convert_to_tensor(shape)
        if t.dtype._enum not in _INT32_64:
            raise _attr_dtype_error(op_name, "T", t.dtype, "int32, int64")
        if t.shape.rank != 1:
            raise op_error(InvalidArgumentError, op_name, f"shape must be a vector of "
                           f"{{int32,int64}}, got shape {t.shape.as_list()}")
        dims = tuple(int(d) for d in t.numpy())
    for d in dims:
        if d < 0:
            raise op_error(InvalidArgumentError, op_name, f"Dimension {d} must be >= 0")
    return dims


def _is_python_number(value, number) -> bool:
    return type(value) in (int, float) and value == number


def _location_scale(mean, stddev, dtype):
    """mean and stddev as tensors of `dtype`, or (None, None) for Python's 0 and 1."""
    if dtype._enum in _FLOATING and _is_python_number(mean, 0) and _is_python_number(stddev, 1):
        return None, None
    return convert_to_tensor(mean, dtype), convert_to_tensor(stddev, dtype)


def _check_float(dtype, op_name: str) -> None:
    if dtype._enum not in _FLOATING:
        raise _attr_dtype_error(op_name, "dtype", dtype, _FLOAT_NAMES)


def _shift_scale(rnd, mean, stddev):
    if mean is None:
        return rnd
    from tensorweave.ops import math_ops
    return math_ops.add(math_ops.multiply(rnd, stddev), mean)


def _uniform_bounds(minval, maxval, dtype):
    """(minval, maxval) tensors of a float uniform, or (None, None) for [0, 1)."""
    if maxval is None:
        maxval = 1
    if minval is None:
        minval = 0
    if _is_python_number(minval, 0) and _is_python_number(maxval, 1):
        return None, None
    return convert_to_tensor(minval, dtype), convert_to_tensor(maxval, dtype)


def _scale_to_bounds(rnd, minval, maxval):
    if minval is None:
        return rnd
    from tensorweave.ops import math_ops
    return math_ops.add(math_ops.multiply(rnd, math_ops.subtract(maxval, minval)), minval)


def _int_bound(value, dtype) -> Tensor:
    return convert_to_tensor(value, dtype)


# -- stateful ops: tf.random.* ------------------------------------------------------------------------
def normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Samples of a normal distribution: `shape` values with mean `mean` and deviation `stddev`."""
    dtype = dtypes.as_dtype(dtype)
    mean, stddev = _location_scale(mean, stddev, dtype)
    _check_float(dtype, "RandomStandardNormal")
    seed1, seed2 = get_seed(seed)
    rnd = execute(RANDOM_STANDARD_NORMAL, (), {
        "shape": _shape_attr(shape, "RandomStandardNormal"), "dtype": dtype,
        "seed": seed1, "seed2": seed2})
    return _shift_scale(rnd, mean, stddev)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, seed=None,
                     name=None) -> Tensor:
    """Normal samples redrawn until they lie within two standard deviations of the mean."""
    dtype = dtypes.as_dtype(dtype)
    mean, stddev = _location_scale(mean, stddev, dtype)
    _check_float(dtype, "TruncatedNormal")
    seed1, seed2 = get_seed(seed)
    rnd = execute(TRUNCATED_NORMAL, (), {
        "shape": _shape_attr(shape, "TruncatedNormal"), "dtype": dtype,
        "seed": seed1, "seed2": seed2})
    return _shift_scale(rnd, mean, stddev)


def uniform(shape, minval=0, maxval=None, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Samples of a uniform distribution on [minval, maxval) (maxval defaults to 1 for floats;
    integer dtypes need it)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype._enum not in _UNIFORM_ENUMS:
        raise _invalid_dtype(dtype, _UNIFORM_DTYPES)
    if dtype.is_integer:
        if maxval is None:
            raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
        bounds = (_int_bound(minval, dtype), _int_bound(maxval, dtype))
        seed1, seed2 = get_seed(seed)
        return execute(RANDOM_UNIFORM_INT, bounds, {
            "shape": _shape_attr(shape, "RandomUniformInt"), "seed": seed1, "seed2": seed2})
    low, high = _uniform_bounds(minval, maxval, dtype)
    seed1, seed2 = get_seed(seed)
    rnd = execute(RANDOM_UNIFORM, (), {
        "shape": _shape_attr(shape, "RandomUniform"), "dtype": dtype,
        "seed": seed1, "seed2": seed2})
    return _scale_to_bounds(rnd, low, high)


def _categorical_args(logits, num_samples, dtype, op_name):
    dtype = dtypes.int64 if dtype is None else dtypes.as_dtype(dtype)
    if dtype._enum not in _INT32_64:
        raise _invalid_dtype(dtype, (dtypes.int32, dtypes.int64))
    logits = convert_to_tensor(logits)
    if logits.dtype is dtypes.bool or logits.dtype.is_complex or logits.dtype is dtypes.string:
        raise _attr_dtype_error(op_name, "T", logits.dtype, "float, double, int32, uint8, int16, "
                                "int8, int64, bfloat16, uint16, half, uint32, uint64")
    if logits.dtype._enum not in _FLOATING:
        raise op_error(NotFoundError, op_name, f"Could not find device for node: {op_name} "
                       f"with logits of dtype {logits.dtype.name} (floating point expected)")
    return logits, int(convert_to_tensor(num_samples, dtypes.int32)), dtype


def categorical(logits, num_samples, dtype=None, seed=None, name=None) -> Tensor:
    """For each row of `logits` ([batch, classes] unnormalised log-probabilities),
    `num_samples` class indices drawn from its softmax: shape [batch, num_samples]."""
    logits, num_samples, dtype = _categorical_args(logits, num_samples, dtype, "Multinomial")
    seed1, seed2 = get_seed(seed)
    return execute(MULTINOMIAL, (logits,), {"num_samples": num_samples, "dtype": dtype,
                                            "seed": seed1, "seed2": seed2})


def shuffle(value, seed=None, name=None) -> Tensor:
    """`value` with its slices along the first dimension in a random order."""
    value = convert_to_tensor(value)
    seed1, seed2 = get_seed(seed)
    return execute(RANDOM_SHUFFLE, (value,), {"seed": seed1, "seed2": seed2})


_GAMMA_ENUMS = frozenset(d._enum for d in (dtypes.float16, dtypes.float32, dtypes.float64))


def _gamma_args(alpha, beta, dtype, stateless: bool = False):
    """alpha and beta as tensors of `dtype`, checked in TensorFlow's order: conversion
    (TypeError), NumPy's finfo of the dtype (ValueError), then the op's dtypes."""
    dtype = dtypes.as_dtype(dtype)
    alpha = convert_to_tensor(alpha, dtype)
    if beta is not None:
        beta = convert_to_tensor(beta, dtype)
    if dtype._enum not in _GAMMA_ENUMS:
        if dtype.is_complex or (stateless and dtype is dtypes.bfloat16):
            op_name, attr = ("StatelessRandomGammaV3", "dtype") if stateless \
                else ("RandomGamma", "T")
            raise _attr_dtype_error(op_name, attr, dtype, "half, float, double")
        raise ValueError(f"data type {dtype.as_numpy_dtype} not inexact")
    if beta is not None:
        if alpha.shape != beta.shape:
            from tensorweave.ops import array_ops, math_ops
            alpha = math_ops.add(alpha, array_ops.zeros_like(beta))  # broadcast alpha with beta
    return alpha, beta


def _divide_by_rate(sample, beta):
    if beta is None:
        return sample
    from tensorweave.ops import math_ops
    return math_ops.divide(sample, beta)


def gamma(shape, alpha, beta=None, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Gamma samples of concentration `alpha` and rate `beta` (1 when None); the result has
    shape `shape + broadcast(alpha, beta).shape`."""
    alpha, beta = _gamma_args(alpha, beta, dtype)
    seed1, seed2 = get_seed(seed)
    sample = execute(RANDOM_GAMMA, (alpha,), {"shape": _shape_attr(shape, "RandomGamma"),
                                              "seed": seed1, "seed2": seed2})
    return _divide_by_rate(sample, beta)


def _poisson_args(lam, dtype, op_name):
    dtype = dtypes.as_dtype(dtype)
    lam = convert_to_tensor(lam)
    if dtype._enum not in _POISSON_ENUMS:
        raise _attr_dtype_error(op_name, "dtype", dtype, "half, float, double, int32, int64")
    if lam.dtype._enum not in _POISSON_ENUMS:
        raise _attr_dtype_error(op_name, "R", lam.dtype, "half, float, double, int32, int64")
    return lam, dtype


def poisson(shape, lam, dtype=dtypes.float32, seed=None, name=None) -> Tensor:
    """Poisson samples of rate `lam`; the result has shape `shape + lam.shape`."""
    lam, dtype = _poisson_args(lam, dtype, "RandomPoissonV2")
    seed1, seed2 = get_seed(seed)
    return execute(RANDOM_POISSON, (lam,), {"shape": _shape_attr(shape, "RandomPoissonV2"),
                                            "dtype": dtype, "seed": seed1, "seed2": seed2})


# -- stateless ops --------------------------------------------------------------------------------
def _seed_tensor(seed) -> Tensor:
    seed = convert_to_tensor(seed)
    if seed.dtype._enum not in _INT32_64:
        raise _attr_dtype_error("StatelessRandomGetKeyCounter", "Tseed", seed.dtype, "int32, int64")
    return seed


def _stateless_alg(alg) -> int:
    return _alg_int(alg, default=3)


def _stateless_location_scale(prim, shape, seed, mean, stddev, dtype, alg) -> Tensor:
    """mean + stddev * (a standard sample of `prim` drawn from `seed`)."""
    dtype = dtypes.as_dtype(dtype)
    mean, stddev = _location_scale(mean, stddev, dtype)
    _check_float(dtype, prim.name)
    rnd = execute(prim, (_seed_tensor(seed),), {
        "shape": _shape_attr(shape, prim.name), "dtype": dtype, "alg": _stateless_alg(alg)})
    return _shift_scale(rnd, mean, stddev)


def stateless_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None,
                     alg="auto_select") -> Tensor:
    """Normal samples that depend only on `seed` (a pair of ints): same seed, same values."""
    return _stateless_location_scale(STATELESS_NORMAL, shape, seed, mean, stddev, dtype, alg)


def stateless_truncated_normal(shape, seed, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None,
                               alg="auto_select") -> Tensor:
    """Truncated normal samples (within two deviations) that depend only on `seed`."""
    return _stateless_location_scale(STATELESS_TRUNCATED_NORMAL, shape, seed, mean, stddev, dtype,
                                     alg)


_NONE_TO_TENSOR = ("Attempt to convert a value (None) with an unsupported type (<class 'NoneType'>) "
                   "to a Tensor.")


def stateless_uniform(shape, seed, minval=0, maxval=None, dtype=dtypes.float32, name=None,
                      alg="auto_select") -> Tensor:
    """Uniform samples on [minval, maxval) that depend only on `seed`; for integer dtypes,
    minval and maxval both None give integers over the dtype's whole range."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in _STATELESS_UNIFORM_DTYPES:
        raise _invalid_dtype(dtype, _STATELESS_UNIFORM_DTYPES)
    seed = _seed_tensor(seed)
    alg = _stateless_alg(alg)
    if dtype.is_integer:
        if (minval is None) != (maxval is None):
            raise ValueError(f"For integer `dtype` argument {dtype}, argument `minval` and "
                             f"`maxval` must be both None or not None. Got `minval`={minval} "
                             f"and `maxval`={maxval}.")
        if minval is None:
            return execute(STATELESS_FULL_INT, (seed,), {
                "shape": _shape_attr(shape, "StatelessRandomUniformFullInt"), "dtype": dtype,
                "alg": alg})
        if dtype.is_unsigned:
            raise ValueError(f"Argument `dtype` got invalid value {dtype} when argument `minval` "
                             "is not None. Please don't use unsigned integers in this case.")
        return execute(STATELESS_UNIFORM_INT, (seed, _int_bound(minval, dtype),
                                               _int_bound(maxval, dtype)),
                       {"shape": _shape_attr(shape, "StatelessRandomUniformInt"), "alg": alg})
    if dtype.is_unsigned:
        raise _invalid_dtype(dtype, _STATELESS_UNIFORM_DTYPES)
    if minval is None:  # only integer dtypes take None bounds
        raise ValueError(_NONE_TO_TENSOR)
    low, high = _uniform_bounds(minval, maxval, dtype)
    rnd = execute(STATELESS_UNIFORM, (seed,), {
        "shape": _shape_attr(shape, "StatelessRandomUniform"), "dtype": dtype, "alg": alg})
    return _scale_to_bounds(rnd, low, high)


def stateless_categorical(logits, num_samples, seed, dtype=dtypes.int64, name=None) -> Tensor:
    """tf.random.categorical with the values fixed by `seed`."""
    logits, num_samples, dtype = _categorical_args(logits, num_samples, dtype,
                                                   "StatelessMultinomial")
    return execute(STATELESS_MULTINOMIAL, (_seed_tensor(seed), logits),
                   {"num_samples": num_samples, "dtype": dtype, "alg": 3})


def stateless_shuffle(value, seed, alg="auto_select", name=None) -> Tensor:
    """tf.random.shuffle with the order fixed by `seed`."""
    return execute(STATELESS_SHUFFLE, (_seed_tensor(seed), convert_to_tensor(value)),
                   {"alg": _stateless_alg(alg)})


def stateless_gamma(shape, seed, alpha, beta=None, dtype=dtypes.float32, name=None) -> Tensor:
    """tf.random.gamma with the values fixed by `seed`."""
    alpha, beta = _gamma_args(alpha, beta, dtype, stateless=True)
    sample = execute(STATELESS_GAMMA, (_seed_tensor(seed), alpha), {
        "shape": _shape_attr(shape, "StatelessRandomGammaV3"), "alg": 3})
    return _divide_by_rate(sample, beta)


def stateless_poisson(shape, seed, lam, dtype=dtypes.int32, name=None) -> Tensor:
    """tf.random.poisson with the values fixed by `seed`."""
    lam, dtype = _poisson_args(lam, dtype, "StatelessRandomPoisson")
    return execute(STATELESS_POISSON, (_seed_tensor(seed), lam), {
        "shape": _shape_attr(shape, "StatelessRandomPoisson"), "dtype": dtype, "alg": 3})


def _binomial_args(counts, probs, dtype):
    dtype = dtypes.as_dtype(dtype)
    if dtype._enum not in _POISSON_ENUMS:
        raise _attr_dtype_error("StatelessRandomBinomial", "dtype", dtype,
                                "half, float, double, int32, int64")
    # probs is float32 unless a tensor says otherwise; counts takes probs' dtype if it can.
    probs = convert_to_tensor(probs, dtype_hint=dtypes.float32)
    counts = convert_to_tensor(counts, dtype_hint=probs.dtype)
    if counts.dtype._enum not in _POISSON_ENUMS:
        raise _attr_dtype_error("StatelessRandomBinomial", "T", counts.dtype,
                                "half, float, double, int32, int64")
    if counts.dtype.is_integer:  # declared, but the kernels sample from floating counts only
        raise op_error(NotFoundError, "StatelessRandomBinomial",
                       f"Could not find device for node: {{{{node StatelessRandomBinomial}}}} = "
                       f"StatelessRandomBinomial[T=DT_{counts.dtype.name.upper()}, "
                       f"dtype=DT_{dtype.name.upper()}]")
    if probs.dtype is not counts.dtype:
        raise dtype_mismatch("StatelessRandomBinomial", 3, counts.dtype, probs.dtype)
    return counts, probs, dtype


def stateless_binomial(shape, seed, counts, probs, output_dtype=dtypes.int32,
                       name=None) -> Tensor:
    """Binomial samples (`counts` trials of success probability `probs`) fixed by `seed`."""
    counts, probs, dtype = _binomial_args(counts, probs, output_dtype)
    return execute(STATELESS_BINOMIAL, (_seed_tensor(seed), counts, probs), {
        "shape": _shape_attr(shape, "StatelessRandomBinomial"), "dtype": dtype, "alg": 3})


def _full_int_dtype(dtype):
    """The dtype of split's and fold_in's whole-range integers, refused as stateless_uniform
    refuses it with both bounds None."""
    if dtype not in _STATELESS_UNIFORM_DTYPES:
        raise _invalid_dtype(dtype, _STATELESS_UNIFORM_DTYPES)
    if not dtype.is_integer:
        raise ValueError(_NONE_TO_TENSOR)
    return dtype


def split(seed, num=2, alg="auto_select") -> Tensor:
    """`num` new seeds (shape [num, 2]) derived from `seed`, of the seed's dtype."""
    seed = convert_to_tensor(seed)
    dtype = _full_int_dtype(seed.dtype)
    return execute(STATELESS_FULL_INT, (_seed_tensor(seed),), {
        "shape": _shape_attr([int(num), 2], "StatelessRandomUniformFullIntV2"), "dtype": dtype,
        "alg": _stateless_alg(alg)})


def fold_in(seed, data, alg="auto_select") -> Tensor:
    """A new seed derived from `seed` and the integer `data`, of the data's dtype."""
    from tensorweave.ops import array_ops
    data = convert_to_tensor(data)
    dtype = _full_int_dtype(data.dtype)
    first = execute(STATELESS_FULL_INT, (_seed_tensor(seed),), {"shape": (), "dtype": dtype,
                                                                "alg": _stateless_alg(alg)})
    return array_ops.stack([first, data])


# -- tf.random.Generator ---------------------------------------------------------------------------
def _seed_words(seed) -> list:
    """An int (any size) or a sequence of ints as 64-bit words, least significant first."""
    if isinstance(seed, Tensor) or hasattr(seed, "__tf_tensor__"):
        seed = convert_to_tensor(seed).numpy().tolist()
    if isinstance(seed, (list, tuple)):
        return [int(s) & _MASK64 for s in seed]
    seed = int(seed)
    if seed < 0:
        seed &= _MASK64
    words = []
    while True:
        words.append(seed & _MASK64)
        seed >>= 64
        if not seed:
            return words


def _signed(word: int) -> int:
    return word - (1 << 64) if word >= (1 << 63) else word


def create_rng_state(seed, alg) -> Tensor:
    """The state (int64 vector) of a generator seeded with `seed`: its key first, then counter."""
    alg = _alg_int(alg)
    size = _STATE_SIZE[alg]
    words = _seed_words(seed)
    if len(words) > size:
        raise ValueError(f"seed has {len(words)} 64-bit words, more than the {size} of the state")
    words = words + [0] * (size - len(words))
    state = words[1:] + words[:1]  # the first word keys the stream, the rest start the counter
    return constant([_signed(w) for w in state], dtypes.int64)


class Generator:
    """A random-number generator whose state is a variable: every call advances it.

    `tf.random.Generator.from_seed(1234).normal([2, 3])`; `g.split(2)` gives independent
    generators; the same seed always gives the same sequence.
    """

    def __init__(self, copy_from=None, state=None, alg=None):
        if copy_from is not None:
            if state is not None or alg is not None:
                raise AssertionError("`state` and `alg` must be None when `copy_from` is given")
            state, alg = copy_from.state.numpy(), copy_from.algorithm
        elif state is None or alg is None:
            raise AssertionError("Generator needs either `copy_from`, or both `state` and `alg`")
        self._alg = _alg_int(alg)
        self._state_var = Variable(self._checked_state(state), trainable=False, name="StateVar",
                                   dtype=dtypes.int64)

    def _checked_state(self, state) -> Tensor:
        state = convert_to_tensor(state, dtype_hint=dtypes.int64)
        if state.dtype is not dtypes.int64:
            from tensorweave.ops import math_ops
            state = math_ops.cast(state, dtypes.int64)
        size = _STATE_SIZE[self._alg]
        if state.shape.as_list() != [size]:
            raise ValueError(f"Shapes {tuple(state.shape.as_list())} and [{size}] are incompatible")
        return state

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_seed(cls, seed, alg=None) -> "Generator":
        alg = _alg_int(alg)
        return cls(state=create_rng_state(seed, alg), alg=alg)

    @classmethod
    def from_state(cls, state, alg) -> "Generator":
        return cls(state=state, alg=alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg) -> "Generator":
        counter = [_signed(w) for w in _seed_words(counter)]
        return cls(state=counter + [_signed(_seed_words(key)[0])], alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None) -> "Generator":
        if _config.op_determinism:
            raise RuntimeError('"from_non_deterministic_state" cannot be called when determinism '
                               "is enabled.")
        alg = _alg_int(alg)
        words = [int.from_bytes(os.urandom(8), "little") for _ in range(_STATE_SIZE[alg])]
        return cls(state=[_signed(w) for w in words], alg=alg)

    # -- state -----------------------------------------------------------------------------------
    @property
    def state(self) -> Variable:
        """The generator's state: counter words then key, an int64 variable."""
        return self._state_var

    @property
    def algorithm(self) -> int:
        return self._alg

    @property
    def key(self) -> Tensor:
        return constant(int(self._state_var.numpy()[-1]), dtypes.int64)

    def reset(self, state) -> None:
        self._state_var.assign(self._checked_state(state))

    def reset_from_seed(self, seed) -> None:
        self.reset(create_rng_state(seed, self._alg))

    def reset_from_key_counter(self, key, counter) -> None:
        counter = [_signed(w) for w in _seed_words(counter)]
        self.reset(counter + [_signed(_seed_words(key)[0])])

    def skip(self, delta) -> Tensor:
        """Advances the state as if `delta` calls had each used 256 counter blocks; returns the
        old state."""
        self._check_alg()
        old = constant(self._state_var.numpy())
        words = [int(w) & _MASK64 for w in old.numpy().tolist()]
        counter_words = words[:-1]
        modulus = 1 << (64 * len(counter_words))
        counter = sum(w << (64 * i) for i, w in enumerate(counter_words))
        counter = (counter + int(delta) * 256) % modulus
        new = [_signed((counter >> (64 * i)) & _MASK64) for i in range(len(counter_words))]
        self._state_var.assign(constant(new + [_signed(words[-1])], dtypes.int64))
        return old

    def _check_alg(self):
        if self._alg == Algorithm.THREEFRY.value:
            raise op_error(UnimplementedError, "RngReadAndSkip",
                           "Non-XLA devices don't support the ThreeFry algorithm.")

    def _run(self, prim, inputs: tuple, attrs: dict):
        self._check_alg()
        attrs["alg"] = self._alg
        out, new_state = execute(prim, (convert_to_tensor(self._state_var),) + inputs, attrs)
        self._state_var.assign(new_state)
        return out

    # -- distributions ---------------------------------------------------------------------------
    def normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None) -> Tensor:
        """Normal samples with mean `mean` and deviation `stddev`."""
        dtype = dtypes.as_dtype(dtype)
        mean, stddev = _location_scale(mean, stddev, dtype)
        _check_float(dtype, "StatefulStandardNormalV2")
        rnd = self._run(STATEFUL_NORMAL, (), {
            "shape": _shape_attr(shape, "StatefulStandardNormalV2"), "dtype": dtype})
        return _shift_scale(rnd, mean, stddev)

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32,
                         name=None) -> Tensor:
        """Normal samples redrawn until within two deviations of the mean."""
        dtype = dtypes.as_dtype(dtype)
        mean, stddev = _location_scale(mean, stddev, dtype)
        _check_float(dtype, "StatefulTruncatedNormal")
        rnd = self._run(STATEFUL_TRUNCATED_NORMAL, (), {
            "shape": _shape_attr(shape, "StatefulTruncatedNormal"), "dtype": dtype})
        return _shift_scale(rnd, mean, stddev)

    def uniform(self, shape, minval=0, maxval=None, dtype=dtypes.float32, name=None) -> Tensor:
        """Uniform samples on [minval, maxval); for integer dtypes both bounds, or neither
        (the whole range of the dtype)."""
        dtype = dtypes.as_dtype(dtype)
        if dtype.is_integer:
            if (minval is None) != (maxval is None):
                raise ValueError(f"For integer dtype {dtype}, minval and maxval must be both "
                                 f"`None` or both non-`None`; got minval={minval} and "
                                 f"maxval={maxval}")
            if minval is None:
                return self.uniform_full_int(shape, dtype)
            bounds = (_int_bound(minval, dtype), _int_bound(maxval, dtype))
            if dtype._enum not in _INT32_64:
                if dtype._enum in _FULL_INT_ENUMS:  # declared, without a CPU kernel
                    raise op_error(NotFoundError, "StatelessRandomUniformIntV2",
                                   f"Could not find device for node: {{{{node "
                                   f"StatelessRandomUniformIntV2}}}} = StatelessRandomUniformIntV2"
                                   f"[dtype=DT_{dtype.name.upper()}]")
                raise _attr_dtype_error("StatelessRandomUniformIntV2", "dtype", dtype,
                                        "int32, int64, uint32, uint64")
            return self._run(STATEFUL_UNIFORM_INT, bounds,
                             {"shape": _shape_attr(shape, "StatefulUniformInt")})
        if not dtype.is_floating:  # TensorFlow first converts minval: TypeError for bool, string
            convert_to_tensor(minval, dtype)
        _check_float(dtype, "StatefulUniform")
        low, high = _uniform_bounds(minval, maxval, dtype)
        rnd = self._run(STATEFUL_UNIFORM, (), {
            "shape": _shape_attr(shape, "StatefulUniform"), "dtype": dtype})
        return _scale_to_bounds(rnd, low, high)

    def uniform_full_int(self, shape, dtype=dtypes.uint64, name=None) -> Tensor:
        """Integers drawn uniformly over the whole range of `dtype`."""
        dtype = dtypes.as_dtype(dtype)
        if dtype._enum not in _FULL_INT_ENUMS:
            raise _attr_dtype_error("StatefulUniformFullInt", "dtype", dtype,
                                    "int32, int64, uint32, uint64")
        return self._run(STATEFUL_FULL_INT, (), {
            "shape": _shape_attr(shape, "StatefulUniformFullInt"), "dtype": dtype})

    def binomial(self, shape, counts, probs, dtype=dtypes.int32, name=None) -> Tensor:
        """Binomial samples: `counts` trials of success probability `probs` (broadcast to
        `shape`)."""
        counts, probs, dtype = _binomial_args(counts, probs, dtype)
        return self._run(STATEFUL_BINOMIAL, (counts, probs), {
            "shape": _shape_attr(shape, "StatefulRandomBinomial"), "dtype": dtype})

    def make_seeds(self, count=1) -> Tensor:
        """`count` seeds for stateless ops, as the columns of an int64 [2, count] tensor."""
        return self.uniform_full_int([2, int(count)], dtypes.int64)

    def split(self, count=1) -> list:
        """`count` new generators, independent of this one and of each other."""
        seeds = self.make_seeds(count).numpy()
        size = _STATE_SIZE[self._alg]
        return [Generator(state=([0] * (size - 2) + [int(seeds[1, i]), int(seeds[0, i])])[-size:],
                          alg=self._alg)
                for i in range(int(count))]


_global_generator = None


def get_global_generator() -> Generator:
    """The generator tf.random ops of a Generator use by default (created on first use)."""
    global _global_generator
    if _global_generator is None:
        if _config.op_determinism:
            raise RuntimeError('"get_global_generator" cannot be called if determinism is enabled, '
                               'unless "set_global_generator" has already been called. Please '
                               'call "set_global_generator" first.')
        _global_generator = Generator.from_non_deterministic_state()
    return _global_generator


def set_global_generator(generator: Generator) -> None:
    """Replaces the global generator."""
    global _global_generator
    _global_generator = generator
