"""Keras 3's activation functions (keras.activations), and get/serialize/deserialize.

Each is a plain function of a tensor (anything convertible to one), written with tensorweave ops:
the tf.nn primitive where one exists, otherwise a composite whose gradient the tape derives.
`swish` is `silu` and `hard_swish` is `hard_silu` (the same function objects, as in Keras).
"""
from __future__ import annotations

import functools
import types
import warnings

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, math_ops, nn_ops, reduction_ops


def _tensor(x):
    return convert_to_tensor(x)


def _scalar_like(value, x):
    """`value` as a scalar tensor of x's dtype (a Python float at that dtype's precision; for an
    integer x, truncated as a cast does)."""
    if x.dtype.is_floating and isinstance(value, (int, float)):
        return convert_to_tensor(value, dtype=x.dtype)
    return math_ops.cast(value, x.dtype)


def _keras_op(op_name: str):
    """Makes an activation also accept a KerasTensor (a functional model's symbolic input), as
    Keras's operations do: the call then becomes a node of the model (an `op_name` layer)."""
    def decorate(fn):
        @functools.wraps(fn)
        def activation(x, *args, **kwargs):
            if getattr(x, "_is_keras_tensor", False):
                from tensorweave.keras.engine.op_layer import apply_function
                return apply_function(op_name, lambda t: fn(t, *args, **kwargs), x)
            return fn(x, *args, **kwargs)
        return activation
    return decorate


def _attach_logits(output, logits):
    # Keras marks the output of softmax/sigmoid with its logits, for the losses to use.
    try:
        output._keras_logits = logits
    except AttributeError:
        pass
    return output


# -- the rectifier family --------------------------------------------------------------------------
@_keras_op("ReLU")
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0), generalized: below `threshold` the output is `negative_slope * (x - threshold)`,
    and it is capped at `max_value`."""
    # As in Keras, `threshold` and `max_value` are cast (a Python float through float32) and
    # `negative_slope` multiplies at x's precision.
    x = _tensor(x)
    if negative_slope != 0.0:
        if max_value is None and threshold == 0:
            return nn_ops.leaky_relu(x, alpha=negative_slope)
        shifted = math_ops.negative(x)
        if threshold != 0:
            shifted = math_ops.add(shifted, _scalar_like(threshold, x))
        negative_part = nn_ops.relu(shifted)
    clip_max = max_value is not None
    if threshold != 0:
        t = math_ops.cast(threshold, x.dtype)
        x = array_ops.where(math_ops.greater(x, t), x, array_ops.zeros_like(x))
    elif max_value == 6:
        x = nn_ops.relu6(x)
        clip_max = False
    else:
        x = nn_ops.relu(x)
    if clip_max:
        x = math_ops.clip_by_value(x, math_ops.cast(0, x.dtype), math_ops.cast(max_value, x.dtype))
    if negative_slope != 0.0:
        x = math_ops.subtract(x, math_ops.multiply(_scalar_like(negative_slope, x),
                                                   negative_part))
    return x


@_keras_op("LeakyRelu")
def leaky_relu(x, negative_slope=0.2):
    """x for x >= 0, negative_slope * x below."""
    return nn_ops.leaky_relu(_tensor(x), alpha=negative_slope)


@_keras_op("Relu6")
def relu6(x):
    """min(max(x, 0), 6)."""
    return nn_ops.relu6(_tensor(x))


@_keras_op("Elu")
def elu(x, alpha=1.0):
    """x for x > 0, alpha * (exp(x) - 1) below."""
    x = _tensor(x)
    result = nn_ops.elu(x)
    if alpha == 1:
        return result
    return array_ops.where(math_ops.greater(x, _scalar_like(0, x)), result,
                           math_ops.multiply(_scalar_like(alpha, x), result))


@_keras_op("Selu")
def selu(x):
    """Scaled exponential linear unit: scale * elu(x, alpha) with the self-normalizing constants."""
    return nn_ops.selu(_tensor(x))


@_keras_op("Celu")
def celu(x, alpha=1.0):
    """max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)."""
    x = _tensor(x)
    zero = _scalar_like(0, x)
    a = _scalar_like(alpha, x)
    return math_ops.add(math_ops.maximum(x, zero),
                        math_ops.multiply(a, math_ops.expm1(
                            math_ops.divide(math_ops.minimum(x, zero), a))))


# -- smooth and sigmoid-like -----------------------------------------------------------------------
@_keras_op("Softplus")
def softplus(x):
    """log(exp(x) + 1)."""
    return nn_ops.softplus(_tensor(x))


@_keras_op("Softsign")
def softsign(x):
    """x / (abs(x) + 1)."""
    return nn_ops.softsign(_tensor(x))


@_keras_op("Squareplus")
def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2."""
    x = _tensor(x)
    y = math_ops.add(x, math_ops.sqrt(math_ops.add(math_ops.square(x), _scalar_like(b, x))))
    return math_ops.divide(y, _scalar_like(2, x))


@_keras_op("SparsePlus")
def sparse_plus(x):
    """0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1."""
    x = _tensor(x)
    one = _scalar_like(1, x)
    middle = math_ops.multiply(_scalar_like(0.25, x), math_ops.square(math_ops.add(x, one)))
    upper = array_ops.where(math_ops.less(x, one), middle, x)
    return array_ops.where(math_ops.less_equal(x, math_ops.negative(one)),
                           array_ops.zeros_like(x), upper)


@_keras_op("Silu")
def silu(x):
    """x * sigmoid(x) (also named swish)."""
    return nn_ops.silu(_tensor(x))


@_keras_op("Gelu")
def gelu(x, approximate=False):
    """x * P(X <= x) for a standard normal X; `approximate` uses the tanh form."""
    return nn_ops.gelu(_tensor(x), approximate=approximate)


@_keras_op("Glu")
def glu(x, axis=-1):
    """Gated linear unit: the two halves a, b of x along `axis` give a * sigmoid(b)."""
    x = _tensor(x)
    size = x.shape[axis]
    if size is not None and size % 2 != 0:
        raise ValueError("axis size must be divisible by 2. "
                         f"Received: x.shape={tuple(x.shape.as_list())} with axis={axis}")
    first, second = array_ops.split(x, 2, axis=axis)
    return math_ops.multiply(first, math_ops.sigmoid(second))


@_keras_op("Tanh")
def tanh(x):
    """Hyperbolic tangent."""
    return math_ops.tanh(_tensor(x))


@_keras_op("TanhShrink")
def tanh_shrink(x):
    """x - tanh(x)."""
    x = _tensor(x)
    return math_ops.subtract(x, math_ops.tanh(x))


@_keras_op("HardTanh")
def hard_tanh(x):
    """tanh's piecewise-linear form: x clipped to [-1, 1]."""
    x = _tensor(x)
    return math_ops.clip_by_value(x, _scalar_like(-1, x), _scalar_like(1, x))


@_keras_op("SoftShrink")
def soft_shrink(x, threshold=0.5):
    """x - threshold above threshold, x + threshold below -threshold, 0 between."""
    x = _tensor(x)
    t = _scalar_like(threshold, x)
    lower = array_ops.where(math_ops.less(x, math_ops.negative(t)), math_ops.add(x, t),
                            array_ops.zeros_like(x))
    return array_ops.where(math_ops.greater(x, t), math_ops.subtract(x, t), lower)


@_keras_op("HardShrink")
def hard_shrink(x, threshold=0.5):
    """x where |x| > threshold, 0 elsewhere."""
    x = _tensor(x)
    keep = math_ops.greater(math_ops.abs(x), _scalar_like(threshold, x))
    return array_ops.where(keep, x, array_ops.zeros_like(x))


@_keras_op("Threshold")
def threshold(x, threshold, default_value):  # noqa: F811 - Keras's argument name
    """x where x > threshold, `default_value` elsewhere."""
    x = _tensor(x)
    return array_ops.where(math_ops.greater(x, _scalar_like(threshold, x)), x,
                           _scalar_like(default_value, x))


@_keras_op("Sigmoid")
def sigmoid(x):
    """1 / (1 + exp(-x))."""
    x = _tensor(x)
    return _attach_logits(math_ops.sigmoid(x), x)


@_keras_op("SparseSigmoid")
def sparse_sigmoid(x):
    """0 for x <= -1, (x + 1) / 2 between, 1 for x >= 1."""
    x = _tensor(x)
    one = _scalar_like(1, x)
    inner = array_ops.where(math_ops.greater_equal(x, one), array_ops.ones_like(x),
                            math_ops.multiply(_scalar_like(0.5, x), math_ops.add(x, one)))
    return array_ops.where(math_ops.less_equal(x, math_ops.negative(one)),
                           array_ops.zeros_like(x), inner)


@_keras_op("HardSigmoid")
def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between."""
    x = _tensor(x)
    return math_ops.divide(nn_ops.relu6(math_ops.add(x, _scalar_like(3, x))),
                           _scalar_like(6, x))


@_keras_op("HardSilu")
def hard_silu(x):
    """x * hard_sigmoid(x) (also named hard_swish)."""
    x = _tensor(x)
    return math_ops.multiply(x, hard_sigmoid(x))


@_keras_op("LogSigmoid")
def log_sigmoid(x):
    """log(sigmoid(x)) = -softplus(-x)."""
    x = _tensor(x)
    return math_ops.negative(nn_ops.softplus(math_ops.negative(x)))


@_keras_op("Exp")
def exponential(x):
    """exp(x)."""
    return math_ops.exp(_tensor(x))


def linear(x):
    """The identity: x itself, unchanged and unconverted."""
    return x


@_keras_op("Mish")
def mish(x):
    """x * tanh(softplus(x))."""
    x = _tensor(x)
    return math_ops.multiply(x, math_ops.tanh(nn_ops.softplus(x)))


# -- normalizing activations -----------------------------------------------------------------------
def _over_axes(fn, x, axis):
    """fn (softmax-like, over the last axis) applied over `axis`: an int, a tuple of axes taken
    together, or None for all the elements."""
    if axis is None:
        flat = array_ops.reshape(x, [-1])
        return array_ops.reshape(fn(flat, -1), array_ops.shape(x))
    if isinstance(axis, (tuple, list)):
        rank = x.shape.rank
        axes = [a % rank for a in axis]
        kept = [a for a in range(rank) if a not in axes]
        order = kept + axes
        moved = array_ops.transpose(x, order)
        dims = x.shape.as_list()
        flat = array_ops.reshape(moved, [dims[a] for a in kept] + [-1])
        out = array_ops.reshape(fn(flat, -1), array_ops.shape(moved))
        inverse = sorted(range(rank), key=order.__getitem__)
        return array_ops.transpose(out, inverse)
    return fn(x, axis)


@_keras_op("Softmax")
def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis` (an int, a tuple of axes, or None for all)."""
    x = _tensor(x)
    rank = x.shape.rank
    if isinstance(axis, int) and rank is not None and -rank <= axis < rank \
            and x.shape[axis] == 1:
        warnings.warn(f"You are using a softmax over axis {axis} of a tensor of shape "
                      f"{tuple(x.shape.as_list())}. This axis has size 1. The softmax operation "
                      "will always return the value 1, which is likely not what you intended. "
                      "Did you mean to use a sigmoid instead?", stacklevel=2)
    output = _over_axes(lambda t, a: nn_ops.softmax(t, axis=a), x, axis)
    return _attach_logits(output, x)


@_keras_op("LogSoftmax")
def log_softmax(x, axis=-1):
    """x - log(sum(exp(x))) along `axis` (an int, a tuple of axes, or None for all)."""
    x = _tensor(x)
    return _over_axes(lambda t, a: nn_ops.log_softmax(t, axis=a), x, axis)


@_keras_op("Sparsemax")
def sparsemax(x, axis=-1):
    """The Euclidean projection of x onto the probability simplex along `axis`: like softmax, but
    with exact zeros (Martins & Astudillo, 2016): max(x - tau, 0), tau = (sum of the k largest
    - 1) / k, k the size of the support.

    Keras 3.15 (the one of TensorFlow 2.21) sums the cumulative sums over the support instead,
    a bug whenever k > 1 (keras-team/keras#23425, fixed upstream by #23469); this is the fixed
    formula, so results differ from TensorFlow 2.21's where more than one output is non-zero."""
    x = _tensor(x)
    rank = x.shape.rank
    axis = axis % rank
    ordered = reduction_ops.sort(x, axis=axis, direction="DESCENDING")
    running = reduction_ops.cumsum(ordered, axis=axis)
    count = array_ops.shape(x)[axis]
    ranks = math_ops.cast(array_ops.range(1, count + 1), x.dtype)
    ranks = array_ops.reshape(ranks, [-1 if d == axis else 1 for d in range(rank)])
    one = _scalar_like(1, x)
    support = math_ops.greater(
        math_ops.subtract(ordered, math_ops.divide(math_ops.subtract(running, one), ranks)),
        _scalar_like(0, x))
    size = reduction_ops.reduce_sum(math_ops.cast(support, x.dtype), axis=axis, keepdims=True)
    total = reduction_ops.reduce_sum(array_ops.where(support, ordered, array_ops.zeros_like(x)),
                                     axis=axis, keepdims=True)
    tau = math_ops.divide(math_ops.subtract(total, one), size)
    return math_ops.maximum(math_ops.subtract(x, tau), _scalar_like(0, x))


# -- lookup and serialization ----------------------------------------------------------------------
_BUILTINS = (celu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_tanh,
             leaky_relu, linear, log_sigmoid, log_softmax, mish, relu, relu6, selu, sigmoid, silu,
             soft_shrink, softmax, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax,
             squareplus, tanh, tanh_shrink, threshold)
swish = silu
hard_swish = hard_silu

ALL_OBJECTS_DICT = {fn.__name__: fn for fn in _BUILTINS}
ALL_OBJECTS_DICT["swish"] = silu
ALL_OBJECTS_DICT["hard_swish"] = hard_silu
_BUILTIN_NAMES = frozenset(fn.__name__ for fn in _BUILTINS)

_KIND = "activation function"


def serialize(activation):
    """The name of a function (Keras 3 writes built-ins and any function named like one as the
    bare name), or the full serialized dict of a registered function or a callable object."""
    config = serialization.serialize_keras_object(activation)
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError(f"Unknown activation function '{activation}' cannot be serialized due "
                         "to invalid function name. Make sure to use an activation name that "
                         "matches the references defined in activations.py or use "
                         "`@keras.saving.register_keras_serializable()`to register any custom "
                         f"activations. config={config}")
    if not isinstance(activation, types.FunctionType):
        return config
    if isinstance(config["config"], str) and config["config"] not in _BUILTIN_NAMES:
        config["config"] = serialization.get_registered_name(activation)
        return config
    return config["config"]


def deserialize(config, custom_objects=None):
    """The activation function a name or a serialized dict describes."""
    return serialization.deserialize_keras_object(config, custom_objects=custom_objects,
                                                  module_objects=ALL_OBJECTS_DICT,
                                                  printable_module_name=_KIND)


def get(identifier):
    """None gives `linear`; a name or a serialized dict gives that function; a callable is
    returned as it is."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        found = serialization.deserialize_keras_object(identifier)
    elif isinstance(identifier, str):
        found = ALL_OBJECTS_DICT.get(identifier)
    else:
        found = identifier
    if callable(found):
        return found
    raise ValueError(f"Could not interpret {_KIND} identifier: {identifier}")
