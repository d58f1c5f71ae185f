"""Abstract-evaluation rules shared by many primitives: output TensorSpecs from input specs."""
from __future__ import annotations

from tensorweave.framework import dtypes
from tensorweave.framework.tensor_shape import TensorShape, broadcast_static_shape
from tensorweave.framework.tensor_spec import TensorSpec


def same_as_input(x, **attrs) -> TensorSpec:
    """Elementwise unary ops: the input's shape and dtype."""
    return TensorSpec(x.shape, x.dtype)


def broadcast(x, y, **attrs) -> TensorSpec:
    """Elementwise binary ops: the broadcast shape, the inputs' dtype."""
    return TensorSpec(broadcast_static_shape(x.shape, y.shape), x.dtype)


def broadcast_to_bool(x, y, **attrs) -> TensorSpec:
    """Comparisons: the broadcast shape, bool."""
    return TensorSpec(broadcast_static_shape(x.shape, y.shape), dtypes.bool)


def bool_like(x, **attrs) -> TensorSpec:
    """is_nan and friends: the input's shape, bool."""
    return TensorSpec(x.shape, dtypes.bool)


def normalize_axis(axis, rank: int) -> tuple:
    """Axes as non-negative ints; `None` means all axes."""
    if axis is None:
        return tuple(range(rank))
    axes = (axis,) if isinstance(axis, int) else tuple(int(a) for a in axis)
    out = []
    for a in axes:
        if not -rank <= a < max(rank, 1):
            raise ValueError(f"Invalid reduction dimension {a} for input with {rank} dimensions.")
        out.append(a % rank if rank else 0)
    return tuple(out)


def reduced_shape(shape: TensorShape, axis, keepdims: bool) -> TensorShape:
    """The shape after reducing `axis` (None: all), keeping reduced dims as 1 if asked."""
    if shape.rank is None:
        return TensorShape(None)
    axes = set(normalize_axis(axis, shape.rank))
    dims = shape.as_list()
    if keepdims:
        return TensorShape([1 if i in axes else d for i, d in enumerate(dims)])
    return TensorShape([d for i, d in enumerate(dims) if i not in axes])


def reduction(x, axis=None, keepdims=False, **attrs) -> TensorSpec:
    """Reductions that keep the dtype (sum, max, mean...)."""
    return TensorSpec(reduced_shape(x.shape, axis, keepdims), x.dtype)
