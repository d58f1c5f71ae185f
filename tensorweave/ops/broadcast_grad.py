"""The one rule for gradients of broadcasting ops: sum the gradient back to the input's shape."""
from __future__ import annotations

from tensorweave.ops import array_ops, reduction_ops


def unbroadcast(dy, x):
    """`dy` (shaped like a broadcast result) summed over the axes along which `x` was broadcast."""
    x_shape = tuple(x.shape)
    dy_shape = tuple(dy.shape)
    if x_shape == dy_shape:
        return dy
    lead = len(dy_shape) - len(x_shape)
    axes = list(range(lead))
    axes += [lead + i for i, d in enumerate(x_shape) if d == 1 and dy_shape[lead + i] != 1]
    summed = reduction_ops.reduce_sum(dy, axis=axes) if axes else dy
    return array_ops.reshape(summed, x_shape)
