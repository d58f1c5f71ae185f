"""Reductions along axes: sums, means, extrema, arg-extrema, scans, sorting, segments."""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor, unsupported_dtype
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.ops import array_ops, shape_rules


def axis_attr(x, axis, op_name: str):
    """A reduction's `axis` argument (int, list, tensor or None) as a tuple of non-negative ints."""
    if axis is None:
        return None
    if not isinstance(axis, (int, list, tuple)):
        axis = convert_to_tensor(axis).numpy().tolist()
    axes = (axis,) if isinstance(axis, int) else tuple(int(a) for a in axis)
    rank = np.ndim(x._value)
    for a in axes:
        if not -rank <= a < max(rank, 1):
            raise op_error(InvalidArgumentError, op_name,
                           f"Invalid reduction dimension ({a} for input with {rank} dimension(s)")
    normalized = tuple(a % rank if rank else 0 for a in axes)
    if len(set(normalized)) != len(normalized):
        raise op_error(InvalidArgumentError, op_name, f"Axes contains duplicate dimension: {axes}")
    return normalized


def keepdims_shape(x_shape: tuple, axis) -> tuple:
    """The shape of a reduction over `axis` (None: all) with the reduced axes kept as 1."""
    if axis is None:
        return (1,) * len(x_shape)
    return tuple(1 if i in axis else d for i, d in enumerate(x_shape))


def reduction_grad_broadcast(op, dy):
    """`dy` of a reduction reshaped with kept dims and broadcast back to the input's shape."""
    x = op.inputs[0]
    shape = tuple(x.shape)
    if not op.attrs.get("keepdims"):
        dy = array_ops.reshape(dy, keepdims_shape(shape, op.attrs.get("axis")))
    return array_ops.broadcast_to(dy, shape)


def _sum_forward(x, axis=None, keepdims=False):
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


SUM = primitive("Sum", _sum_forward, reduction_grad_broadcast, shape_rules.reduction)


def reduce_sum(input_tensor, axis=None, keepdims=False, name=None):
    """The sum of elements across `axis` (all axes when None)."""
    x = convert_to_tensor(input_tensor)
    if x._dtype._enum not in dtypes.NUMBER:
        raise unsupported_dtype("Sum", x._dtype)
    return execute(SUM, (x,), {"axis": axis_attr(x, axis, "Sum"), "keepdims": bool(keepdims)})
