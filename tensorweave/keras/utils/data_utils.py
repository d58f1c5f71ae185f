"""keras.utils helpers for data and reproducibility: set_random_seed, to_categorical, normalize.

Keras 3 behaviour. `to_categorical` and `normalize` take NumPy (or anything array-like) and
return NumPy, or take a tensorweave tensor and return a tensor built from tensorweave ops (so they
also run inside tf.function).
"""
from __future__ import annotations

import random as _py_random

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import is_tensor


# -- set_random_seed -------------------------------------------------------------------------------
def set_random_seed(seed):
    """Seeds Python's `random`, NumPy's global `np.random` and tensorweave's global seed.

    Keras layers and initializers built without a seed draw theirs from Python's `random`
    (initializers, dropout's seed generator), tf.data and stateful tf.random ops from the global
    seed of `tf.random.set_seed`: after `set_random_seed(s)`, the same program builds the same
    weights, draws the same dropout masks and shuffles the same way.

    Args:
        seed: Integer, the random seed to use.
    """
    if not isinstance(seed, int):
        raise ValueError("Expected `seed` argument to be an integer. "
                         f"Received: seed={seed} (of type {type(seed)})")
    from tensorweave.ops import random_ops
    _py_random.seed(seed)
    np.random.seed(seed)  # refuses seeds outside [0, 2**32): nothing below is changed then
    random_ops.set_seed(seed)


# -- to_categorical --------------------------------------------------------------------------------
def to_categorical(x, num_classes=None):
    """Converts a class vector (integers) to a binary class matrix (one-hot, class axis last).

    A trailing axis of size 1 is dropped first (labels of shape `(n, 1)` give `(n, num_classes)`).
    NumPy or array-like input gives a float64 NumPy array (`num_classes` inferred as `max(x) + 1`
    when not given); tensor input gives a float32 tensor (`num_classes` is then required).

    Args:
        x: Array-like with class values to be converted into a matrix
            (integers from 0 to `num_classes - 1`).
        num_classes: Total number of classes. If `None`, this would be inferred
            as `max(x) + 1`. Defaults to `None`.

    Returns:
        A binary matrix representation of the input as a NumPy array. The class
        axis is placed last.
    """
    if is_tensor(x):
        return _tensor_to_categorical(x, num_classes)
    labels = np.array(x, dtype=np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    flat = labels.reshape(-1)
    if not num_classes:
        num_classes = int(np.max(flat)) + 1  # an empty x has no max: NumPy's ValueError
    one_hot = np.zeros((flat.shape[0], num_classes))
    one_hot[np.arange(flat.shape[0]), flat] = 1  # a negative label counts from the end, as in NumPy
    return one_hot.reshape(shape + (num_classes,))


def _tensor_to_categorical(x, num_classes):
    from tensorweave.ops import array_ops, math_ops
    if num_classes is None:
        raise ValueError("Attempt to convert a value (None) with an unsupported type "
                         f"({type(None)}) to a Tensor.")
    x = convert_to_tensor(x)
    rank = x.shape.rank
    if rank is not None and rank > 1 and x.shape[-1] == 1:
        x = array_ops.squeeze(x, axis=-1)
    if x.dtype != dtypes.int64:
        x = math_ops.cast(x, dtypes.int64)
    return array_ops.one_hot(x, num_classes)  # float32; out-of-range labels give a zero row


# -- normalize -------------------------------------------------------------------------------------
def normalize(x, axis=-1, order=2):
    """Normalizes an array: `x` divided by its `order`-norm along `axis`.

    If the input is a NumPy array, a NumPy array is returned (the norm is `np.linalg.norm(x,
    order, axis)`, a zero norm is replaced by 1; the result has at least two dimensions, a 1-D `x`
    giving shape `(1, n)`, as in Keras). Otherwise the input is converted to a tensor and
    `x / max(norm(x), epsilon)` is returned as a tensor (`order` must then be an int >= 1).

    Args:
        x: Array to normalize.
        axis: axis along which to normalize.
        order: Normalization order (e.g. `order=2` for L2 norm).

    Returns:
        A normalized copy of the array.
    """
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        # Keras 3 expands at `axis or -1`, which divides by the wrong axis for axis=0: the norm is
        # put back where it was taken (axis None: the last axis, as in Keras).
        return x / np.expand_dims(norm, -1 if axis is None else axis)
    return _tensor_normalize(x, axis, order)


def _tensor_normalize(x, axis, order):
    from tensorweave.keras.engine import backend_config
    from tensorweave.ops import array_ops, math_ops, reduction_ops
    if not isinstance(order, int) or not order >= 1:
        raise ValueError(f"Argument `order` must be an int >= 1. Received: order={order}")
    x = convert_to_tensor(x)
    if x.shape.rank == 0:
        x = array_ops.expand_dims(x, 0)
    epsilon = backend_config.epsilon()
    if order == 2:  # x * rsqrt(sum(x**2)), the inverse norm capped at 1 / epsilon
        square_sum = reduction_ops.reduce_sum(math_ops.square(x), axis=axis, keepdims=True)
        inverse = math_ops.minimum(math_ops.rsqrt(square_sum),
                                   convert_to_tensor(1.0 / epsilon, dtype=square_sum.dtype))
        return math_ops.multiply(x, inverse)
    if not x.dtype.is_floating and not x.dtype.is_complex:
        x = math_ops.cast(x, backend_config.floatx())
    norm = _norm(x, order, axis)
    return math_ops.divide(x, math_ops.maximum(norm, convert_to_tensor(epsilon, dtype=norm.dtype)))


def _norm(x, order, axis):
    """The `order`-norm (an int >= 1 other than 2) over `axis` with kept dimensions: a vector norm
    over one axis, a matrix norm over two (all axes when None, as Keras does)."""
    from tensorweave.ops import linalg_ops
    rank = x.shape.rank
    axes = tuple(range(rank)) if axis is None else \
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if rank is not None and any(not -rank <= a < rank for a in axes):
        raise ValueError("All `axis` values must be in the range [-ndim, ndim). "
                         f"Received inputs with ndim={rank}, while axis={axes}")
    if len(axes) == 1:
        return linalg_ops.norm(x, ord=order, axis=axes[0], keepdims=True)
    if len(axes) == 2:
        if order != 1:
            raise ValueError(f"Invalid `ord` argument for matrix norm. Received: ord={order}")
        return linalg_ops.norm(x, ord=1, axis=axes, keepdims=True)
    raise ValueError(f"Invalid axis values. Received: axis={axis}")
