"""The one rule for gradients of broadcasting ops: sum the gradient back to the input's shape.

When static shapes are fully known (always, eagerly) the axes are found now; in a graph traced
with unknown dimensions they are found when the graph runs, by the two primitives below.
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import array_ops, reduction_ops


def _sum_to(dy, shape: tuple):
    lead = dy.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape)
                                      if d == 1 and dy.shape[lead + i] != 1)
    summed = np.sum(dy, axis=axes, dtype=dy.dtype) if axes else dy
    return np.reshape(summed, shape)


def _sum_like_forward(dy, like):
    return _sum_to(dy, np.shape(like))


def _broadcast_like_forward(t, like):
    return np.array(np.broadcast_to(t, np.shape(like)))


SUM_LIKE = primitive(
    "SumToShapeOf", _sum_like_forward,
    lambda op, g: (execute(BROADCAST_LIKE, (g, op.inputs[0])), None),
    lambda dy, like: TensorSpec(like.shape, dy.dtype))
BROADCAST_LIKE = primitive(
    "BroadcastToShapeOf", _broadcast_like_forward,
    lambda op, g: (execute(SUM_LIKE, (g, op.inputs[0])), None),
    lambda t, like: TensorSpec(like.shape, t.dtype))


def _known(shape) -> bool:
    return shape.rank is not None and None not in shape.as_list()


def unbroadcast(dy, x):
    """`dy` (shaped like a broadcast result) summed over the axes along which `x` was broadcast."""
    if not (_known(x.shape) and _known(dy.shape)):
        return execute(SUM_LIKE, (dy, x))
    x_shape = tuple(x.shape)
    dy_shape = tuple(dy.shape)
    if x_shape == dy_shape:
        return dy
    lead = len(dy_shape) - len(x_shape)
    axes = list(range(lead))
    axes += [lead + i for i, d in enumerate(x_shape) if d == 1 and dy_shape[lead + i] != 1]
    summed = reduction_ops.reduce_sum(dy, axis=axes) if axes else dy
    return array_ops.reshape(summed, x_shape)


def broadcast_like(t, x):
    """`t` broadcast to the shape of `x` (known now or only when the graph runs)."""
    if _known(x.shape):
        return array_ops.broadcast_to(t, tuple(x.shape))
    return execute(BROADCAST_LIKE, (t, x))
