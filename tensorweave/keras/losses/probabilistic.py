"""Keras 3's probabilistic loss functions (cross-entropies, focal losses, KL divergence, Poisson),
computed as Keras does with its TensorFlow backend, and the small helpers all loss functions use.

Each function takes `(y_true, y_pred, ...)` and returns the per-sample losses, the class (or
`axis`) dimension reduced. Probabilities are clipped to [epsilon, 1 - epsilon] before their log;
`from_logits=True` goes through the stable tf.nn cross-entropies instead.
"""
from __future__ import annotations

import warnings

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.function.graph import SymbolicTensor
from tensorweave.keras.engine import backend_config
from tensorweave.keras.engine.layer import _set_mask
from tensorweave.ops import array_ops, math_ops, nn_ops, reduction_ops


# -- helpers shared by every loss function ------------------------------------------------------
def as_dtype_tensor(x, dtype):
    """`x` as a tensor of `dtype`: Python and NumPy values are converted straight to it (so 0.1
    stays exact in float64), tensors of another dtype are cast."""
    dtype = dtypes.as_dtype(dtype)
    if isinstance(x, Tensor):
        return x if x.dtype == dtype else math_ops.cast(x, dtype)
    try:
        return convert_to_tensor(x, dtype=dtype)
    except (TypeError, ValueError):
        return math_ops.cast(convert_to_tensor(x), dtype)


def pred_and_true(y_true, y_pred):
    """y_pred as a tensor, and y_true as a tensor of its dtype."""
    y_pred = convert_to_tensor(y_pred)
    return as_dtype_tensor(y_true, y_pred.dtype), y_pred


def mean(x, axis=-1):
    """Keras's mean: integers and booleans are averaged as float32."""
    if not x.dtype.is_floating:
        x = math_ops.cast(x, "float32")
    return reduction_ops.reduce_mean(x, axis=axis)


def _check_same_shape(target, output):
    if target.shape.rank is None or output.shape.rank is None:
        return
    if target.shape.rank != output.shape.rank:
        raise ValueError("Arguments `target` and `output` must have the same rank (ndim). "
                         f"Received: target.shape={target.shape}, output.shape={output.shape}")
    for d1, d2 in zip(target.shape, output.shape):
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError("Arguments `target` and `output` must have the same shape. "
                             f"Received: target.shape={target.shape}, "
                             f"output.shape={output.shape}")


def _get_logits(output, from_logits, op_type, fn_name):
    """As Keras's TensorFlow backend: probabilities that carry their logits (`_keras_logits`,
    set by Keras's softmax/sigmoid activations) or that a graph computed with a `op_type` op from
    one input are replaced by those logits, and the loss is computed from logits (stably)."""
    logits = getattr(output, "_keras_logits", None)
    from_op = False
    if logits is None and isinstance(output, SymbolicTensor) and output.op.type == op_type \
            and _acts_on_last_axis(output.op, output):
        if len(output.op.inputs) != 1:
            raise ValueError(f"Expected 1 input for {op_type}.")
        logits, from_op = output.op.inputs[0], True
    if logits is None:
        return output, from_logits
    if from_logits:
        warnings.warn(f'"`{fn_name}` received `from_logits=True`, but the `output` argument was '
                      f"produced by a {op_type} activation and thus does not represent logits. "
                      "Was this intended?", stacklevel=3)
    return (logits if from_op else convert_to_tensor(logits)), True


def _acts_on_last_axis(op, output):
    # TensorFlow's graph has a Softmax op only for the last axis (other axes are transposed)
    axis = op.attrs.get("axis") if op.attrs else None
    rank = output.shape.rank
    return axis is None or rank is None or axis in (-1, rank - 1)


def _clip_probabilities(output):
    eps = backend_config.epsilon()
    return math_ops.clip_by_value(output, eps, 1.0 - eps)


def _check_axis_is_int(axis):
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")


def _warn_one_class(fn_name, y_pred):
    if y_pred.shape.rank and y_pred.shape[-1] == 1:
        warnings.warn(f"In loss {fn_name}, expected y_pred.shape to be (batch_size, num_classes) "
                      f"with num_classes > 1. Received: y_pred.shape={y_pred.shape}. Consider "
                      "using 'binary_crossentropy' if you only have 2 classes.",
                      SyntaxWarning, stacklevel=3)


def _smooth_categorical(y_true, label_smoothing, dtype):
    """Labels moved towards the uniform distribution over the last axis."""
    num_classes = math_ops.cast(array_ops.shape(y_true)[-1], dtype)
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes


# -- elementwise and per-sample cross-entropies (Keras's backend ops) ---------------------------
def binary_crossentropy_elementwise(target, output, from_logits=False):
    """The binary cross-entropy of each element (Keras's `ops.binary_crossentropy`)."""
    target = convert_to_tensor(target)
    output = convert_to_tensor(output)
    _check_same_shape(target, output)
    output, from_logits = _get_logits(output, from_logits, "Sigmoid", "binary_crossentropy")
    if from_logits:
        return nn_ops.sigmoid_cross_entropy_with_logits(labels=target, logits=output)
    output = _clip_probabilities(output)
    bce = target * math_ops.log(output)
    bce = bce + (1 - target) * math_ops.log(1 - output)
    return -bce


def categorical_crossentropy_per_sample(target, output, from_logits=False, axis=-1):
    """-sum(target * log(output), axis) (Keras's `ops.categorical_crossentropy`)."""
    target = convert_to_tensor(target)
    output = convert_to_tensor(output)
    if target.shape.rank is not None and target.shape.rank < 1:
        raise ValueError("Arguments `target` and `output` must be at least rank 1. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    _check_same_shape(target, output)
    output, from_logits = _get_logits(output, from_logits, "Softmax", "categorical_crossentropy")
    if from_logits:
        return nn_ops.softmax_cross_entropy_with_logits(labels=target, logits=output, axis=axis)
    output = output / reduction_ops.reduce_sum(output, axis=axis, keepdims=True)
    output = _clip_probabilities(output)
    return -reduction_ops.reduce_sum(target * math_ops.log(output), axis=axis)


def sparse_categorical_crossentropy_per_sample(target, output, from_logits=False, axis=-1):
    """-log(output[..., target]) for integer class ids (Keras's
    `ops.sparse_categorical_crossentropy`); only the last axis can be the class axis."""
    output = convert_to_tensor(output)
    rank = output.shape.rank
    if axis != -1 and axis != rank - 1:
        raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis}")
    output, from_logits = _get_logits(output, from_logits, "Softmax",
                                      "sparse_categorical_crossentropy")
    target = convert_to_tensor(target)
    target = math_ops.cast(target, "int64")
    if target.shape.rank == rank and target.shape[-1] == 1:
        target = array_ops.squeeze(target, axis=-1)
    if rank < 1:
        raise ValueError("Argument `output` must be at least rank 1. Received: "
                         f"output.shape={output.shape}")
    if target.shape.rank != rank - 1:
        raise ValueError("Argument `output` must have rank (ndim) `target.ndim - 1`. Received: "
                         f"target.shape={target.shape}, output.shape={output.shape}")
    for d1, d2 in zip(target.shape, output.shape[:-1]):
        if d1 is not None and d2 is not None and d1 != d2:
            raise ValueError("Arguments `target` and `output` must have the same shape up until "
                             f"the last dimension: target.shape={target.shape}, "
                             f"output.shape={output.shape}")
    if not from_logits:
        output = math_ops.log(_clip_probabilities(output))
    return nn_ops.sparse_softmax_cross_entropy_with_logits(labels=target, logits=output)


# -- the public loss functions ------------------------------------------------------------------
def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """The mean over `axis` of the binary cross-entropies; labels smoothed towards 0.5."""
    y_pred = convert_to_tensor(y_pred)
    y_true = as_dtype_tensor(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return mean(binary_crossentropy_elementwise(y_true, y_pred, from_logits=from_logits),
                axis=axis)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25, gamma=2.0,
                              from_logits=False, label_smoothing=0.0, axis=-1):
    """Binary cross-entropy down-weighted by (1 - p_t) ** gamma for well-classified elements,
    optionally weighted by alpha (class 1) and 1 - alpha (class 0)."""
    y_pred = convert_to_tensor(y_pred)
    y_true = as_dtype_tensor(y_true, y_pred.dtype)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = math_ops.sigmoid(y_pred)
    bce = binary_crossentropy_elementwise(y_true, y_pred, from_logits=False)
    p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
    focal_bce = math_ops.pow(1.0 - p_t, as_dtype_tensor(gamma, y_pred.dtype)) * bce
    if apply_class_balancing:
        weight = y_true * alpha + (1 - y_true) * (1 - alpha)
        focal_bce = weight * focal_bce
    return mean(focal_bce, axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """-sum(y_true * log(p), axis) with p the normalized, clipped probabilities (or the softmax
    of logits); labels smoothed towards 1 / num_classes."""
    _check_axis_is_int(axis)
    y_pred = convert_to_tensor(y_pred)
    y_true = as_dtype_tensor(y_true, y_pred.dtype)
    _warn_one_class("categorical_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    return categorical_crossentropy_per_sample(y_true, y_pred, from_logits=from_logits, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """sum(alpha * (1 - p) ** gamma * -y_true * log(p), axis); `alpha` a scalar or one weight
    per class."""
    _check_axis_is_int(axis)
    y_pred = convert_to_tensor(y_pred)
    y_true = as_dtype_tensor(y_true, y_pred.dtype)
    _warn_one_class("categorical_focal_crossentropy", y_pred)
    if label_smoothing:
        y_true = _smooth_categorical(y_true, label_smoothing, y_pred.dtype)
    if from_logits:
        y_pred = nn_ops.softmax(y_pred, axis=axis)
    output = y_pred / reduction_ops.reduce_sum(y_pred, axis=axis, keepdims=True)
    output = _clip_probabilities(output)
    cce = -y_true * math_ops.log(output)
    modulating_factor = math_ops.pow(1.0 - output, as_dtype_tensor(gamma, y_pred.dtype))
    if isinstance(alpha, (list, tuple)):
        alpha = convert_to_tensor(alpha)  # as Keras: a list of floats is made float32 first
    weighting_factor = modulating_factor * as_dtype_tensor(alpha, y_pred.dtype)
    return reduction_ops.reduce_sum(weighting_factor * cce, axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """-log(p[y_true]) for integer labels of shape (...,) or (..., 1). Labels equal to
    `ignore_class` get a loss of 0 and are masked out of the mean (the result carries the mask)."""
    y_pred = convert_to_tensor(y_pred)
    y_true = convert_to_tensor(y_true)
    if y_true.shape.rank == y_pred.shape.rank and y_true.shape[axis] == 1:
        y_true = array_ops.squeeze(y_true, axis=axis)
    valid_mask = None
    if ignore_class is not None:
        valid_mask = math_ops.not_equal(y_true, as_dtype_tensor(ignore_class, y_true.dtype))
        y_true = array_ops.where(valid_mask, y_true, array_ops.zeros_like(y_true))
        y_pred = array_ops.where(array_ops.expand_dims(valid_mask, axis), y_pred,
                                 array_ops.zeros_like(y_pred))
    res = sparse_categorical_crossentropy_per_sample(y_true, y_pred, from_logits=from_logits,
                                                     axis=axis)
    if valid_mask is not None:
        valid_mask = array_ops.reshape(valid_mask, array_ops.shape(res))
        res = array_ops.where(valid_mask, res, array_ops.zeros_like(res))
        _set_mask(res, valid_mask)
    return res


def kl_divergence(y_true, y_pred):
    """sum(y_true * log(y_true / y_pred), -1), both clipped to [epsilon, 1]."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    eps = backend_config.epsilon()
    y_true = math_ops.clip_by_value(y_true, eps, 1)
    y_pred = math_ops.clip_by_value(y_pred, eps, 1)
    return reduction_ops.reduce_sum(y_true * math_ops.log(y_true / y_pred), axis=-1)


def poisson(y_true, y_pred):
    """mean(y_pred - y_true * log(y_pred + epsilon), -1)."""
    y_true, y_pred = pred_and_true(y_true, y_pred)
    eps = as_dtype_tensor(backend_config.epsilon(), y_pred.dtype)
    return mean(y_pred - y_true * math_ops.log(y_pred + eps), axis=-1)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """(1 - p ** q) / q with p the predicted probability of the integer label y_true."""
    y_pred = convert_to_tensor(y_pred)
    y_true = math_ops.cast(convert_to_tensor(y_true), "int64")
    one_hot = array_ops.one_hot(y_true, array_ops.shape(y_pred)[-1], dtype=y_pred.dtype)
    p = reduction_ops.reduce_sum(y_pred * one_hot, axis=-1)
    return (1 - math_ops.pow(p, as_dtype_tensor(q, y_pred.dtype))) / q
