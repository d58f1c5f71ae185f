"""Neural-network ops: activations, softmax, cross-entropies, dropout, normalization, embeddings.

Activations whose TensorFlow kernels are primitives (Relu, Elu, Softplus...) are primitives here
too: one NumPy call forward instead of several ops, and a forward that cannot overflow. Their
gradients go through small gradient primitives (ReluGrad, EluGrad...) as in TensorFlow, each
differentiable in turn, so that higher derivatives work. Everything else is composite.
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import (
    convert_checked, convert_like, convert_to_tensor, dtype_mismatch, unsupported_dtype)
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import array_ops, math_ops, reduction_ops, shape_rules

# Relu accepts every real type TensorFlow's kernel does (not bool, not complex).
_RELU_TYPES = dtypes.REAL_NUMBER
_SELU_SCALE = 1.0507009873554804934193349852946
_SELU_ALPHA = 1.6732632423543772848170429916717


def _float_features(features, op_name: str) -> Tensor:
    """`features` as a tensor of a floating dtype, or TensorFlow's attr error for `op_name`."""
    x = convert_checked(features, op_name, dtypes.FLOATING)
    return x


def _same_as_first(x, *rest, **attrs) -> TensorSpec:
    return TensorSpec(x.shape, x.dtype)


def _upcast(x: np.ndarray) -> np.ndarray:
    """float16/bfloat16 arrays computed in float32 (as TensorFlow's kernels do); others unchanged."""
    return x.astype(np.float32) if x.dtype.itemsize < 4 else x


# -- relu --------------------------------------------------------------------------------------
# A product with the mask, not a select, as TensorFlow's kernel: a nan gradient stays nan.
def _relu_grad_forward(dy, x):
    return dy * (x > 0)


# d(ReluGrad)/d(dy) is ReluGrad itself; it is piecewise constant in x.
RELU_GRAD = primitive("ReluGrad", _relu_grad_forward,
                      lambda op, g: (relu_grad(g, op.inputs[1]), None), _same_as_first)
RELU = primitive("Relu", lambda x: np.maximum(x, np.zeros((), x.dtype)),
                 lambda op, dy: relu_grad(dy, op.outputs[0]), shape_rules.same_as_input)


def relu_grad(dy, x):
    """`dy` where `x > 0`, zero elsewhere (the gradient of relu, and a mask for other gradients)."""
    return execute(RELU_GRAD, (dy, x))


def relu(features, name=None):
    """max(features, 0) elementwise."""
    x = convert_checked(features, "Relu", _RELU_TYPES)
    return execute(RELU, (x,))


def _relu6_forward(x):
    return np.minimum(np.maximum(x, np.zeros((), x.dtype)), np.asarray(6, x.dtype))


def _relu6_grad_forward(dy, x):
    return dy * ((x > 0) & (x < 6))


RELU6_GRAD = primitive("Relu6Grad", _relu6_grad_forward,
                       lambda op, g: (execute(RELU6_GRAD, (g, op.inputs[1])), None), _same_as_first)
RELU6 = primitive("Relu6", _relu6_forward,
                  lambda op, dy: execute(RELU6_GRAD, (dy, op.inputs[0])), shape_rules.same_as_input)


def relu6(features, name=None):
    """min(max(features, 0), 6) elementwise."""
    x = convert_checked(features, "Relu6", _RELU_TYPES)
    return execute(RELU6, (x,))


def _leaky_relu_forward(x, alpha):
    return np.where(x > 0, x, x * np.asarray(alpha, x.dtype))


def _leaky_relu_grad_forward(dy, x, alpha):
    return np.where(x > 0, dy, dy * np.asarray(alpha, dy.dtype))


LEAKY_RELU_GRAD = primitive(
    "LeakyReluGrad", _leaky_relu_grad_forward,
    lambda op, g: (execute(LEAKY_RELU_GRAD, (g, op.inputs[1]), op.attrs), None), _same_as_first)
LEAKY_RELU = primitive(
    "LeakyRelu", _leaky_relu_forward,
    lambda op, dy: execute(LEAKY_RELU_GRAD, (dy, op.inputs[0]), op.attrs), shape_rules.same_as_input)


def leaky_relu(features, alpha=0.2, name=None):
    """features where positive, alpha * features elsewhere; integer features become float32."""
    if isinstance(alpha, Tensor) or not isinstance(alpha, (int, float, np.number)):
        raise TypeError(f"Expected float for argument 'alpha' not {alpha!r}.")
    x = convert_to_tensor(features)
    if x._dtype.is_integer:
        x = math_ops.cast(x, dtypes.float32)
    elif x._dtype._enum not in dtypes.FLOATING:
        raise unsupported_dtype("LeakyRelu", x._dtype)
    # `alpha` is a float32 attribute in TF: 0.2 is 0.2000000030 for float64 features too.
    return execute(LEAKY_RELU, (x,), {"alpha": float(np.float32(alpha))})


# -- elu / selu --------------------------------------------------------------------------------
# exp(x) - 1 rather than expm1(x), as TensorFlow's kernels: tiny negative inputs then give
# exactly 0, and so the gradient TensorFlow gives there.
def _elu_forward(x):
    one = np.ones((), x.dtype)
    return np.where(x < 0, np.exp(np.minimum(x, np.zeros((), x.dtype))) - one, x)


def _elu_grad_forward(dy, y):
    # For x < 0, d elu/dx = exp(x) = y + 1: the gradient needs only the output.
    return np.where(y < 0, dy * (y + np.ones((), y.dtype)), dy)


def _negative_part(v, y):
    """`v` where `y < 0`, zero elsewhere."""
    return relu_grad(v, math_ops.negative(y))


ELU_GRAD = primitive(
    "EluGrad", _elu_grad_forward,
    lambda op, g: (execute(ELU_GRAD, (g, op.inputs[1])),
                   _negative_part(math_ops.multiply(g, op.inputs[0]), op.inputs[1])),
    _same_as_first)
ELU = primitive("Elu", _elu_forward, lambda op, dy: execute(ELU_GRAD, (dy, op.outputs[0])),
                shape_rules.same_as_input)


def elu(features, name=None):
    """features where positive, exp(features) - 1 elsewhere."""
    return execute(ELU, (_float_features(features, "Elu"),))


def _selu_forward(x):
    scale = np.asarray(_SELU_SCALE, x.dtype)
    scale_alpha = np.asarray(_SELU_SCALE * _SELU_ALPHA, x.dtype)
    negative_part = scale_alpha * (np.exp(np.minimum(x, np.zeros((), x.dtype))) - np.ones((), x.dtype))
    return np.where(x < 0, negative_part, scale * x)


def _selu_grad_forward(dy, y):
    # For x < 0, d selu/dx = scale * alpha * exp(x) = y + scale * alpha.
    return np.where(y < 0, dy * (y + np.asarray(_SELU_SCALE * _SELU_ALPHA, y.dtype)),
                    dy * np.asarray(_SELU_SCALE, dy.dtype))


SELU_GRAD = primitive(
    "SeluGrad", _selu_grad_forward,
    lambda op, g: (execute(SELU_GRAD, (g, op.inputs[1])),
                   _negative_part(math_ops.multiply(g, op.inputs[0]), op.inputs[1])),
    _same_as_first)
SELU = primitive("Selu", _selu_forward, lambda op, dy: execute(SELU_GRAD, (dy, op.outputs[0])),
                 shape_rules.same_as_input)


def selu(features, name=None):
    """scale * elu-like activation with alpha = 1.6733, scale = 1.0507 (self-normalizing)."""
    return execute(SELU, (_float_features(features, "Selu"),))


# -- smooth activations ------------------------------------------------------------------------
def _softplus_forward(x):
    # log(1 + exp(x)) without overflow: exactly x for large x, exp(x) for very negative x.
    return np.logaddexp(np.zeros((), x.dtype), x)


SOFTPLUS = primitive("Softplus", _softplus_forward,
                     lambda op, dy: math_ops.multiply(dy, math_ops.sigmoid(op.inputs[0])),
                     shape_rules.same_as_input)


def softplus(features, name=None):
    """log(exp(features) + 1), finite for any finite input."""
    return execute(SOFTPLUS, (_float_features(features, "Softplus"),))


def softsign(features, name=None):
    """features / (abs(features) + 1)."""
    x = _float_features(features, "Softsign")
    return math_ops.divide(x, math_ops.add(math_ops.abs(x), 1))


_SQRT_HALF = 0.7071067811865476
_SQRT_2_OVER_PI = 0.7978845608028654


def gelu(features, approximate=False, name=None):
    """Gaussian error linear unit: x * P(X <= x) for X ~ N(0, 1); `approximate` uses the tanh form."""
    x = convert_to_tensor(features)
    if not x._dtype.is_floating:
        raise ValueError("`features.dtype` must be a floating point tensor."
                         f"Received:features.dtype={x._dtype}")
    if approximate:
        cube = math_ops.multiply(math_ops.multiply(x, x), x)
        inner = math_ops.multiply(math_ops.add(x, math_ops.multiply(cube, 0.044715)), _SQRT_2_OVER_PI)
        return math_ops.multiply(math_ops.multiply(x, 0.5), math_ops.add(math_ops.tanh(inner), 1))
    # erfc(-x/√2) keeps its precision for negative x, where 1 + erf(x/√2) cancels
    cdf = math_ops.erfc(math_ops.multiply(x, -_SQRT_HALF))
    return math_ops.multiply(math_ops.multiply(x, 0.5), cdf)


def silu(features, beta=1.0):
    """features * sigmoid(beta * features) (swish)."""
    x = convert_to_tensor(features)
    if isinstance(beta, (int, float)) and beta == 1.0:
        return math_ops.multiply(x, math_ops.sigmoid(x))
    if isinstance(beta, Tensor) or hasattr(beta, "__tf_tensor__"):
        beta = math_ops.cast(beta, x._dtype)
    return math_ops.multiply(x, math_ops.sigmoid(math_ops.multiply(x, beta)))


swish = silu


# -- softmax -----------------------------------------------------------------------------------
def _softmax_forward(x, axis):
    if x.size == 0:
        return np.array(x, copy=True)
    z = _upcast(x)
    with np.errstate(invalid="ignore", over="ignore"):
        e = np.exp(z - np.max(z, axis=axis, keepdims=True))
        return (e / np.sum(e, axis=axis, keepdims=True)).astype(x.dtype, copy=False)


def _log_softmax_forward(x, axis):
    if x.size == 0:
        return np.array(x, copy=True)
    z = _upcast(x)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        shifted = z - np.max(z, axis=axis, keepdims=True)
        out = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return out.astype(x.dtype, copy=False)


def _softmax_grad(op, dy):
    y = op.outputs[0]
    dot = reduction_ops.reduce_sum(math_ops.multiply(dy, y), axis=op.attrs["axis"], keepdims=True)
    return math_ops.multiply(math_ops.subtract(dy, dot), y)


def _log_softmax_grad(op, dy):
    total = reduction_ops.reduce_sum(dy, axis=op.attrs["axis"], keepdims=True)
    return math_ops.subtract(dy, math_ops.multiply(math_ops.exp(op.outputs[0]), total))


# Primitives for stability: exp of the shifted logits never overflows, and log_softmax never
# takes the log of an underflowed probability.
SOFTMAX = primitive("Softmax", _softmax_forward, _softmax_grad, shape_rules.same_as_input)
LOG_SOFTMAX = primitive("LogSoftmax", _log_softmax_forward, _log_softmax_grad,
                        shape_rules.same_as_input)


def _class_axis(axis, rank: int, op_name: str) -> int:
    """A softmax `axis` (None: last; int or scalar tensor) as a non-negative int."""
    if axis is None:
        axis = -1
    elif not isinstance(axis, int):
        axis = int(convert_to_tensor(axis).numpy())
    if rank == 0:
        raise op_error(InvalidArgumentError, op_name, "logits must have >= 1 dimension, got []")
    if not -rank <= axis < rank:
        raise InvalidArgumentError(
            None, None, f"`dim` must be in the range [{-rank}, {rank}) where {rank} is the number "
                        f"of dimensions in the input. Received: dim={axis}")
    return axis % rank


def softmax(logits, axis=None, name=None):
    """exp(logits) / reduce_sum(exp(logits), axis), along `axis` (default: the last)."""
    x = _float_features(logits, "Softmax")
    return execute(SOFTMAX, (x,), {"axis": _class_axis(axis, x._value.ndim, "Softmax")})


def log_softmax(logits, axis=None, name=None):
    """logits - log(reduce_sum(exp(logits), axis)), along `axis` (default: the last)."""
    x = _float_features(logits, "LogSoftmax")
    return execute(LOG_SOFTMAX, (x,), {"axis": _class_axis(axis, x._value.ndim, "LogSoftmax")})


# -- cross-entropies ---------------------------------------------------------------------------
def _sigmoid_xent_forward(labels, logits):
    with np.errstate(over="ignore"):
        return (np.maximum(logits, np.zeros((), logits.dtype)) - logits * labels
                + np.log1p(np.exp(-np.abs(logits))))


def _sigmoid_xent_grad(op, dy):
    labels, logits = op.inputs
    return (math_ops.multiply(dy, math_ops.negative(logits)),
            math_ops.multiply(dy, math_ops.subtract(math_ops.sigmoid(logits), labels)))


# A primitive for speed (one op for what is seven as a composite) and because
# max(x, 0) - x * z + log(1 + exp(-|x|)) never overflows; its gradient sigmoid(x) - z is exact,
# also at x = 0 where a composite of max and abs would pick one side.
SIGMOID_XENT = primitive("SigmoidCrossEntropyWithLogits", _sigmoid_xent_forward,
                         _sigmoid_xent_grad, shape_rules.broadcast)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Elementwise logistic loss -z*log(sigmoid(x)) - (1-z)*log(1-sigmoid(x)), from logits x."""
    if labels is None or logits is None:
        raise ValueError("Both `labels` and `logits` must be provided for "
                         f"sigmoid_cross_entropy_with_logitsReceived: labels={labels} and logits={logits}")
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    if logits._value.shape != labels._value.shape:
        raise ValueError(f"`logits` and `labels` must have the same shape, received "
                         f"({logits.shape} vs {labels.shape}).")
    if labels._dtype is not logits._dtype:
        raise dtype_mismatch("Mul", 1, logits._dtype, labels._dtype)
    if logits._dtype._enum not in dtypes.FLOATING:
        raise unsupported_dtype("Exp", logits._dtype)
    return execute(SIGMOID_XENT, (labels, logits))


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """Like sigmoid_cross_entropy_with_logits, with the positive term weighted by `pos_weight`.

    (1 - z) * x + (1 + (q - 1) * z) * log(1 + exp(-x)), written with a stable softplus.
    """
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    if logits._value.shape != labels._value.shape:
        raise ValueError(f"`logits` and `labels` must have the same shape, received "
                         f"({logits.shape} vs {labels.shape}).")
    pos_weight = convert_like(pos_weight, logits._dtype)
    log_weight = math_ops.add(math_ops.multiply(math_ops.subtract(pos_weight, 1), labels), 1)
    return math_ops.add(math_ops.multiply(math_ops.subtract(1, labels), logits),
                        math_ops.multiply(log_weight, softplus(math_ops.negative(logits))))


def _xent_forward(labels, logits, axis):
    z = _upcast(logits)
    if z.shape[axis] == 0:
        return np.zeros(np.delete(z.shape, axis), logits.dtype)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        shifted = z - np.max(z, axis=axis, keepdims=True)
        log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
        loss = -np.sum(labels * log_probs, axis=axis)
    return loss.astype(logits.dtype, copy=False)


def _xent_grad(op, dy):
    labels, logits = op.inputs
    axis = op.attrs["axis"]
    dy = array_ops.reshape(dy, reduction_ops.keepdims_shape(tuple(logits.shape), (axis,)))
    # As TensorFlow's kernel: softmax - labels, which assumes each label row sums to one.
    d_logits = math_ops.multiply(dy, math_ops.subtract(softmax(logits, axis), labels))
    d_labels = math_ops.multiply(dy, math_ops.negative(log_softmax(logits, axis)))
    return d_labels, d_logits


def _xent_abstract(labels, logits, axis):
    return TensorSpec(shape_rules.reduced_shape(logits.shape, axis, False), logits.dtype)


# A primitive for stability: the loss comes from log-probabilities computed with the logits
# shifted by their maximum, so logits of 1000 neither overflow nor lose the loss.
SOFTMAX_XENT = primitive("SoftmaxCrossEntropyWithLogits", _xent_forward, _xent_grad, _xent_abstract)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """-sum(labels * log_softmax(logits), axis): the loss per example, `axis` removed.

    `labels` (cast to the logits' dtype) broadcast to the logits' shape; each row of labels
    should be a probability distribution.
    """
    logits = convert_checked(logits, "SoftmaxCrossEntropyWithLogits", dtypes.FLOATING)
    labels = convert_to_tensor(labels)
    if labels._dtype is not logits._dtype:
        labels = math_ops.cast(labels, logits._dtype)
    rank = logits._value.ndim
    if rank == 0:
        raise op_error(InvalidArgumentError, "SoftmaxCrossEntropyWithLogits",
                       "logits must have >= 1 dimension, got []")
    if not isinstance(axis, int):
        axis = int(convert_to_tensor(axis).numpy())
    if not -rank <= axis < rank:
        raise op_error(InvalidArgumentError, "SoftmaxCrossEntropyWithLogits",
                       f"axis {axis} is out of range for logits of rank {rank}")
    shape = logits._value.shape
    if labels._value.shape != shape:
        try:
            if np.broadcast_shapes(labels._value.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise op_error(InvalidArgumentError, "SoftmaxCrossEntropyWithLogits",
                           f"logits and labels must be broadcastable: logits_size={list(shape)} "
                           f"labels_size={list(labels._value.shape)}") from None
        labels = array_ops.broadcast_to(labels, shape)
    return execute(SOFTMAX_XENT, (labels, logits), {"axis": axis % rank})


def _sparse_xent_forward(logits, labels):
    classes = logits.shape[-1]
    if classes == 0:
        raise op_error(InvalidArgumentError, "SparseSoftmaxCrossEntropyWithLogits",
                       f"Must have at least one class, but got logits shape {list(logits.shape)}")
    flat = np.reshape(labels, -1)
    bad = (flat < 0) | (flat >= classes)
    if bad.any():
        shown = " ".join(str(v) for v in flat[:1000])
        raise op_error(InvalidArgumentError, "SparseSoftmaxCrossEntropyWithLogits",
                       f"Received a label value of {flat[bad][0]} which is outside the valid range "
                       f"of [0, {classes}).  Label values: {shown}")
    z = _upcast(logits)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        shifted = z - np.max(z, axis=-1, keepdims=True)
        log_norm = np.log(np.sum(np.exp(shifted), axis=-1))
        picked = np.take_along_axis(shifted, np.expand_dims(labels, -1).astype(np.intp), -1)
        loss = log_norm - picked[..., 0]
    return loss.astype(logits.dtype, copy=False)


def _sparse_xent_grad(op, dy):
    logits, labels = op.inputs
    depth = logits.shape[-1]
    dy = array_ops.reshape(dy, tuple(labels.shape) + (1,))
    target = array_ops.one_hot(labels, depth, dtype=logits.dtype)
    return math_ops.multiply(dy, math_ops.subtract(softmax(logits), target)), None


# A primitive for stability (as softmax_cross_entropy_with_logits) and to check the labels.
SPARSE_XENT = primitive(
    "SparseSoftmaxCrossEntropyWithLogits", _sparse_xent_forward, _sparse_xent_grad,
    lambda logits, labels: TensorSpec(labels.shape, logits.dtype))


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """-log_softmax(logits)[..., labels]: the loss per example for integer class labels."""
    logits = convert_to_tensor(logits)
    labels = convert_to_tensor(labels)
    if logits._dtype._enum not in dtypes.FLOATING:
        raise unsupported_dtype("SparseSoftmaxCrossEntropyWithLogits", logits._dtype)
    if labels._dtype not in (dtypes.int32, dtypes.int64):
        raise op_error(InvalidArgumentError, "SparseSoftmaxCrossEntropyWithLogits",
                       f"Value for attr 'Tlabels' of {labels._dtype.name} is not in the list of "
                       f"allowed values: int32, int64")
    logits_shape, labels_shape = logits._value.shape, labels._value.shape
    if len(labels_shape) != len(logits_shape) - 1:
        raise ValueError(f"`labels.shape.rank` must equal `logits.shape.rank - 1`. Received: "
                         f"labels.shape={labels.shape} of rank {len(labels_shape)} and "
                         f"logits.shape={logits.shape} of rank {len(logits_shape)}")
    if labels_shape != logits_shape[:-1]:
        raise ValueError(f"`labels.shape` must equal `logits.shape` except for the last dimension. "
                         f"Received: labels.shape={labels.shape} and logits.shape={logits.shape}")
    return execute(SPARSE_XENT, (logits, labels))


# -- losses and normalization ------------------------------------------------------------------
def l2_loss(t, name=None):
    """sum(t ** 2) / 2."""
    x = _float_features(t, "L2Loss")
    return math_ops.multiply(reduction_ops.reduce_sum(math_ops.multiply(x, x)), 0.5)


def bias_add(value, bias, data_format=None, name=None):
    """value + bias, `bias` (rank 1) added along the channel dimension of `data_format`.

    `N...C` formats (the default) have channels last, `NC...` formats channels at dimension 1.
    """
    if data_format is not None and not (data_format.startswith("N") and data_format.endswith("C")):
        if not data_format.startswith("NC"):
            raise ValueError("`data_format` must be of the form `N...C` or `NC...`. "
                             f"Received: data_format={data_format}")
        channels_last = False
    else:
        channels_last = True
    value = convert_to_tensor(value)
    bias = convert_like(bias, value._dtype)
    if bias._dtype is not value._dtype:
        raise dtype_mismatch("BiasAdd", 1, value._dtype, bias._dtype)
    if value._dtype._enum not in dtypes.NUMBER:
        raise unsupported_dtype("BiasAdd", value._dtype)
    shape, bias_shape = value._value.shape, bias._value.shape
    if len(shape) < 2:
        raise op_error(InvalidArgumentError, "BiasAdd",
                       f"Input tensor must be at least 2D: {list(shape)}")
    if len(bias_shape) != 1:
        raise op_error(InvalidArgumentError, "BiasAdd", f"Biases must be 1D: {list(bias_shape)}")
    channels = shape[-1] if channels_last else shape[1]
    if bias_shape[0] != channels:
        where = "last dimension" if channels_last else "channel dimension"
        raise op_error(InvalidArgumentError, "BiasAdd",
                       f"Must provide as many biases as the {where} of the input tensor: "
                       f"{list(bias_shape)} vs. {list(shape)}")
    if not channels_last and len(shape) > 2:
        bias = array_ops.reshape(bias, (channels,) + (1,) * (len(shape) - 2))
    return execute(math_ops.ADD, (value, bias))


def _dropout_rate_error(rate):
    return ValueError(f"`rate` must be a scalar tensor or a float in the range [0, 1). "
                      f"Received: rate={rate}")


def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Sets each element (or each slice, with `noise_shape`) to zero with probability `rate`
    and scales the others by 1 / (1 - rate), so the expected sum is unchanged."""
    x = convert_to_tensor(x)
    if not x._dtype.is_floating:
        raise ValueError("`x.dtype` must be a floating point tensor as `x` will be scaled. "
                         f"Received: x_dtype={x._dtype}")
    if isinstance(rate, (int, float, np.number)) and not isinstance(rate, bool):
        if not 0 <= rate < 1:
            raise _dropout_rate_error(rate)
        if rate == 0:
            return x
        scale = 1.0 / (1.0 - float(rate))
    else:
        rate = convert_to_tensor(rate)
        if rate._dtype is not x._dtype:
            raise ValueError("`x.dtype` must be compatible with `rate.dtype`. Received: "
                             f"x.dtype={x._dtype} and rate.dtype={rate._dtype}")
        if rate._value.ndim != 0:
            raise _dropout_rate_error(rate)
        scale = math_ops.divide(1, math_ops.subtract(1, rate))
    x_shape = x._value.shape
    if noise_shape is None:
        noise_shape = x_shape
    else:
        if not isinstance(noise_shape, (list, tuple)):
            noise_shape = array_ops.shape_attr(noise_shape)
        if len(noise_shape) == len(x_shape):
            noise_shape = tuple(x_shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
        else:
            noise_shape = tuple(int(d) for d in noise_shape)
    from tensorweave.ops import random_ops
    keep = math_ops.greater_equal(random_ops.uniform(noise_shape, dtype=x._dtype, seed=seed), rate)
    # `where`, not a multiplication by the mask, so that dropped inf/nan give 0 as in TensorFlow.
    return array_ops.where(keep, math_ops.multiply(x, scale), array_ops.zeros((), x._dtype))


def moments(x, axes, shift=None, keepdims=False, name=None):
    """(mean, variance) of `x` over `axes`; `shift` is accepted and unused, as in TensorFlow 2."""
    x = convert_to_tensor(x)
    y = math_ops.cast(x, dtypes.float32) if x._dtype is dtypes.float16 else x
    if axes is not None and not isinstance(axes, (int, list, tuple)):
        axes = convert_to_tensor(axes).numpy().tolist()
    mean = reduction_ops.reduce_mean(y, axis=axes, keepdims=True)
    # TensorFlow stops the gradient through the mean here: first derivatives are the same (the
    # deviations sum to zero) but its second derivatives of the variance are wrong; ours are not.
    # squared_difference as TF: its dtypes (no int8...), and |x - mean|**2 for complex x.
    variance = reduction_ops.reduce_mean(math_ops.squared_difference(y, mean), axis=axes,
                                         keepdims=keepdims)
    if not keepdims:
        mean = array_ops.reshape(mean, tuple(variance.shape))
    if y is not x:
        mean, variance = math_ops.cast(mean, x._dtype), math_ops.cast(variance, x._dtype)
    return mean, variance


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """(x - mean) * scale / sqrt(variance + variance_epsilon) + offset (offset, scale optional)."""
    # As TF, the statistics keep their own dtypes (a Python float is float32) and only the final
    # scale and shift are cast to x's dtype.
    x = convert_to_tensor(x)
    if isinstance(variance, Tensor) or hasattr(variance, "__tf_tensor__"):
        variance = math_ops.add(variance, variance_epsilon)
    else:
        variance = variance + variance_epsilon  # Python or NumPy arithmetic, as TF's `+` gives
    inv = math_ops.rsqrt(variance)
    if scale is not None:
        inv = math_ops.multiply(inv, scale)
    shift = math_ops.negative(math_ops.multiply(mean, inv))
    if offset is not None:
        shift = math_ops.subtract(offset, math_ops.multiply(mean, inv))
    return math_ops.add(math_ops.multiply(x, math_ops.cast(inv, x._dtype)),
                        math_ops.cast(shift, x._dtype))


def embedding_lookup(params, ids, max_norm=None, name=None):
    """The rows of `params` at `ids` (shape ids.shape + params.shape[1:]).

    `params` may be a list of shards split along dimension 0 ("div" strategy: contiguous ids);
    with `max_norm`, each looked-up embedding of larger L2 norm is scaled down to it.
    """
    if isinstance(params, (list, tuple)):
        if not params:
            raise ValueError("`params` must be specified and non-empty. Received: params=[]")
        params = params[0] if len(params) == 1 else array_ops.concat(list(params), 0)
    params = convert_to_tensor(params)
    ids = convert_to_tensor(ids)
    result = array_ops.gather(params, ids)
    if max_norm is None:
        return result
    from tensorweave.ops import linalg_ops
    axes = list(range(ids._value.ndim, result._value.ndim))
    return linalg_ops.clip_by_norm(result, max_norm, axes=axes)


# -- smaller tf.nn helpers (composites) --------------------------------------------------------
def crelu(features, axis=-1, name=None):
    """Concatenated relu: [relu(features), relu(-features)] along `axis` (twice the depth)."""
    x = convert_to_tensor(features)
    return relu(array_ops.concat([x, math_ops.negative(x)], axis))


def log_poisson_loss(targets, log_input, compute_full_loss=False, name=None):
    """exp(log_input) - log_input * targets, the Poisson negative log-likelihood; with
    `compute_full_loss`, plus Stirling's approximation of log(targets!) where targets > 1."""
    log_input = convert_to_tensor(log_input)
    targets = convert_to_tensor(targets)
    if log_input._value.shape != targets._value.shape:
        raise ValueError(f"`log_input` and `targets` must have the same shape, received "
                         f"({log_input.shape} vs {targets.shape}).")
    result = math_ops.subtract(math_ops.exp(log_input), math_ops.multiply(log_input, targets))
    if not compute_full_loss:
        return result
    small = math_ops.logical_and(math_ops.greater_equal(targets, 0), math_ops.less_equal(targets, 1))
    # Stirling's term is computed at 1 where it is masked, so that targets of 0 give no 0 * log(0).
    safe = array_ops.where(small, array_ops.ones_like(targets), targets)
    stirling = math_ops.add(
        math_ops.subtract(math_ops.multiply(safe, math_ops.log(safe)), safe),
        math_ops.multiply(math_ops.log(math_ops.multiply(safe, 2 * np.pi)), 0.5))
    return math_ops.add(result, array_ops.where(small, array_ops.zeros_like(targets), stirling))


def _num_replicas() -> int:
    # No distribution strategy runs replicas yet: every loss belongs to the one replica.
    return 1


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """sum(per_example_loss * sample_weight) / global_batch_size (0 when the batch is empty);
    the global batch size defaults to the first dimension times the number of replicas."""
    loss = convert_to_tensor(per_example_loss)
    dtype = loss._dtype
    if loss._value.ndim == 0:
        raise ValueError("Invalid value passed for `per_example_loss`. Expected a tensor with at "
                         f"least rank 1. Received per_example_loss={per_example_loss} with rank 0")
    if sample_weight is not None:
        # As TF: the loss and the weights are multiplied in float32 (a weight of rank one less or
        # one more than the loss gets or loses a last axis of 1), then cast back.
        weight = math_ops.cast(convert_to_tensor(sample_weight), dtypes.float32)
        rank_gap = weight._value.ndim - loss._value.ndim
        if weight._value.ndim and rank_gap == 1:
            weight = array_ops.squeeze(weight, [-1])
        elif weight._value.ndim and rank_gap == -1:
            weight = array_ops.expand_dims(weight, -1)
        loss = math_ops.cast(math_ops.multiply(math_ops.cast(loss, dtypes.float32), weight), dtype)
    if global_batch_size is None:
        global_batch_size = loss._value.shape[0] * _num_replicas()
    batch = convert_to_tensor(global_batch_size)
    if not batch._dtype.is_integer:
        raise TypeError(f"global_batch_size must be an integer. Received: {global_batch_size}")
    if np.any(batch._value < 0):
        raise InvalidArgumentError(None, None, "global_batch_size must be non-negative.")
    return math_ops.divide_no_nan(reduction_ops.reduce_sum(loss), math_ops.cast(batch, dtype))


def scale_regularization_loss(regularization_loss):
    """The sum of the regularization loss(es) divided by the number of replicas."""
    return math_ops.divide(reduction_ops.reduce_sum(regularization_loss), _num_replicas())


def sufficient_statistics(x, axes, shift=None, keepdims=False, name=None):
    """(count, sum(x - shift), sum((x - shift) ** 2), shift) over `axes`, for normalize_moments."""
    x = convert_to_tensor(x)
    axes = reduction_ops.axis_attr(x, axes, "Sum")
    shape = x._value.shape
    count = int(np.prod([shape[a] for a in (axes if axes is not None else range(len(shape)))]))
    counts = convert_to_tensor(count, dtype=x._dtype)
    if shift is not None:
        shift = convert_like(shift, x._dtype)
        x = math_ops.subtract(x, shift)
    mean_ss = reduction_ops.reduce_sum(x, axis=axes, keepdims=keepdims)
    variance_ss = reduction_ops.reduce_sum(math_ops.multiply(x, x), axis=axes, keepdims=keepdims)
    return counts, mean_ss, variance_ss, shift


def normalize_moments(counts, mean_ss, variance_ss, shift, name=None):
    """(mean, variance) from sufficient statistics: the sums divided by `counts`, plus `shift`."""
    divisor = math_ops.reciprocal(convert_to_tensor(counts))
    shifted_mean = math_ops.multiply(mean_ss, divisor)
    mean = shifted_mean if shift is None else math_ops.add(shifted_mean, shift)
    variance = math_ops.subtract(math_ops.multiply(variance_ss, divisor),
                                 math_ops.multiply(shifted_mean, shifted_mean))
    return mean, variance


def weighted_moments(x, axes, frequency_weights, keepdims=False, name=None):
    """(mean, variance) of `x` over `axes`, each element counted `frequency_weights` times."""
    x = convert_to_tensor(x)
    y = math_ops.cast(x, dtypes.float32) if x._dtype is dtypes.float16 else x
    weights = math_ops.cast(convert_to_tensor(frequency_weights, dtype_hint=y._dtype), y._dtype)
    total = reduction_ops.reduce_sum(math_ops.multiply(weights, y), axis=axes, keepdims=True)
    weight_sum = reduction_ops.reduce_sum(array_ops.broadcast_to(weights, y._value.shape),
                                          axis=axes, keepdims=True)
    mean = math_ops.divide_no_nan(total, weight_sum)
    deviation = math_ops.subtract(y, mean)
    distsq = reduction_ops.reduce_sum(math_ops.multiply(weights, math_ops.multiply(deviation, deviation)),
                                      axis=axes, keepdims=True)
    variance = math_ops.divide_no_nan(distsq, weight_sum)
    if not keepdims:
        kept = reduction_ops.axis_attr(y, axes, "Sum")
        shape = tuple(d for i, d in enumerate(y._value.shape) if kept is not None and i not in kept)
        mean, variance = array_ops.reshape(mean, shape), array_ops.reshape(variance, shape)
    if y is not x:
        mean, variance = math_ops.cast(mean, x._dtype), math_ops.cast(variance, x._dtype)
    return mean, variance


def zero_fraction(value, name=None):
    """The fraction of elements of `value` equal to zero, as float32."""
    value = convert_to_tensor(value)
    zero = math_ops.equal(value, array_ops.zeros((), value._dtype))
    return reduction_ops.reduce_mean(math_ops.cast(zero, dtypes.float32))


def in_top_k(targets, predictions, k, name=None):
    """tf.math.in_top_k: whether each row's `targets` class is among its `k` largest
    `predictions` (ties at the k-th place count as in); False for a target out of range and for
    a row holding a non-finite prediction, as TensorFlow's kernel decides."""
    targets = convert_to_tensor(targets)
    predictions = convert_to_tensor(predictions)
    if targets.dtype not in (dtypes.int32, dtypes.int64):
        raise op_error(InvalidArgumentError, "InTopKV2",
                       f"Value for attr 'T' of {targets.dtype.name} is not in the list of allowed "
                       f"values: int32, int64")
    depth = predictions.shape[-1]
    if depth is None:
        depth = array_ops.shape(predictions)[-1]
    is_target = array_ops.one_hot(targets, depth, on_value=True, off_value=False, dtype="bool")
    zero = math_ops.cast(0, predictions.dtype)
    target_value = reduction_ops.reduce_sum(array_ops.where(is_target, predictions, zero), axis=-1)
    above = reduction_ops.reduce_sum(math_ops.cast(
        math_ops.greater(predictions, array_ops.expand_dims(target_value, -1)), "int32"), axis=-1)
    valid = math_ops.logical_and(reduction_ops.reduce_any(is_target, axis=-1),
                                 reduction_ops.reduce_all(math_ops.is_finite(predictions), axis=-1))
    return math_ops.logical_and(valid, math_ops.less(above, math_ops.cast(k, "int32")))
