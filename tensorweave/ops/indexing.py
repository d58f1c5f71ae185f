"""Parsing of `tensor[...]` keys and strided-slice masks into one canonical form.

The canonical key is a tuple of Python ints, `slice`s of Python ints (or None), `None` (a new
axis) and at most one `Ellipsis`: a NumPy basic index. The StridedSlice primitive, its gradient,
its abstract evaluation and `variable[key].assign(...)` all work on this one form.
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape

_VALID_INDICES = ("Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) and scalar "
                  "tf.int32/tf.int64 tensors are valid indices, got {!r}")


def is_boolean_mask(key) -> bool:
    """True for a key that TensorFlow treats as a boolean mask (the whole key, not an item)."""
    if isinstance(key, (bool, np.bool_)):
        return True
    if isinstance(key, np.ndarray):
        return key.dtype == np.bool_
    dtype = getattr(key, "dtype", None)
    return (isinstance(key, Tensor) or getattr(key, "_is_tensor_like", False)) \
        and dtype is not None and getattr(dtype, "is_bool", False)


_BOOLS = (bool, np.bool_)
_SLICE_DTYPES = ("int16", "int32", "int64")  # the dtypes of StridedSlice's `Index` attr


def _as_int(item, tensor_dtypes=None) -> int:
    """An index item as a Python int: ints, NumPy integers, scalar int16/32/64 tensors and arrays
    (the dtype of a tensor item is appended to `tensor_dtypes`, when given)."""
    if type(item) is int:
        return item
    if isinstance(item, (int, np.integer)):  # bool is an int: TensorFlow takes x[0, True] as x[0, 1]
        return int(item)
    if isinstance(item, np.ndarray) and item.ndim == 0 and item.dtype.name in _SLICE_DTYPES:
        return int(item)
    if isinstance(item, Tensor) or hasattr(item, "__tf_tensor__"):
        from tensorweave.framework.convert import convert_to_tensor
        tensor = convert_to_tensor(item)
        if tensor.dtype.name in _SLICE_DTYPES and tensor.shape.rank == 0:
            if tensor_dtypes is not None:
                tensor_dtypes.append(tensor.dtype)
            return int(tensor.numpy())
    raise TypeError(_VALID_INDICES.format(item))


def _bound(item, tensor_dtypes):
    return None if item is None else _as_int(item, tensor_dtypes)


def parse_key(key) -> tuple:
    """The canonical key of `tensor[key]` (TypeError for fancy indexing, as in TensorFlow)."""
    if not isinstance(key, (tuple, list)):  # TensorFlow reads a list key as a tuple
        key = (key,)
    elif key and type(key[0]) in _BOOLS and all(type(item) in _BOOLS for item in key):
        # TensorFlow stacks the items into its begin vector: all bools make a bool vector
        raise op_error(InvalidArgumentError, "StridedSlice", "Value for attr 'Index' of bool is not "
                       "in the list of allowed values: int16, int32, int64")
    out = []
    seen_ellipsis = False
    tensor_dtypes = []
    for item in key:
        if item is None:
            out.append(None)
        elif item is Ellipsis:
            if seen_ellipsis:
                raise op_error(InvalidArgumentError, "StridedSlice",
                               "Multiple ellipses in slice spec not allowed")
            seen_ellipsis = True
            out.append(Ellipsis)
        elif type(item) is slice:
            step = _bound(item.step, tensor_dtypes)
            if step == 0:
                raise op_error(InvalidArgumentError, "StridedSlice",
                               f"strides[{len(out)}] must be non-zero")
            out.append(slice(_bound(item.start, tensor_dtypes), _bound(item.stop, tensor_dtypes),
                             step))
        else:
            out.append(_as_int(item, tensor_dtypes))
    if len(tensor_dtypes) > 1 and any(d is not tensor_dtypes[0] for d in tensor_dtypes):
        # TensorFlow stacks the tensor bounds into one vector: one dtype for all
        first = tensor_dtypes[0]
        other = next(d for d in tensor_dtypes if d is not first)
        raise op_error(InvalidArgumentError, "Pack", f"cannot compute Pack as input #1(zero-based) "
                       f"was expected to be a {first.name} tensor but is a {other.name} tensor")
    return tuple(out)


def _bit(mask: int, i: int) -> bool:
    return bool((mask >> i) & 1)


def masks_to_key(begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask,
                 shrink_axis_mask) -> tuple:
    """The canonical key of tf.strided_slice's begin/end/strides lists and bit masks."""
    if not len(begin) == len(end) == len(strides):
        raise op_error(InvalidArgumentError, "StridedSlice",
                       f"Expected begin, end, and strides to be 1D equal size tensors, but got "
                       f"shapes [{len(begin)}], [{len(end)}], and [{len(strides)}] instead.")
    out = []
    seen_ellipsis = False
    for i, (b, e, s) in enumerate(zip(begin, end, strides)):
        if _bit(ellipsis_mask, i):
            if seen_ellipsis:
                raise op_error(InvalidArgumentError, "StridedSlice",
                               "Multiple ellipses in slice spec not allowed")
            seen_ellipsis = True
            out.append(Ellipsis)
        elif _bit(new_axis_mask, i):
            out.append(None)
        elif s == 0:
            raise op_error(InvalidArgumentError, "StridedSlice", f"strides[{i}] must be non-zero")
        elif _bit(shrink_axis_mask, i):
            out.append(int(b))
        else:
            out.append(slice(None if _bit(begin_mask, i) else int(b),
                             None if _bit(end_mask, i) else int(e), int(s)))
    return tuple(out)


def _consumed(key) -> int:
    """How many input dimensions the key's ints and slices consume."""
    return sum(1 for k in key if k is not None and k is not Ellipsis)


def index_error(shape: tuple, key: tuple):
    """TensorFlow's error for a key that does not fit `shape` (called when NumPy refused it)."""
    rank = len(shape)
    consumed = _consumed(key)
    if rank == 0 and consumed:
        return op_error(InvalidArgumentError, "StridedSlice", "Attempting to slice scalar input.")
    if consumed > rank:
        return op_error(InvalidArgumentError, "StridedSlice",
                        f"Index out of range using input dim {rank}; input has only {rank} dims")
    dim = 0
    for k in key:
        if k is Ellipsis:
            dim += rank - consumed
        elif k is not None:
            if type(k) is int and not -shape[dim] <= k < shape[dim]:
                return op_error(InvalidArgumentError, "StridedSlice",
                                f"slice index {k} of dimension {dim} out of bounds.")
            dim += 1
    return op_error(InvalidArgumentError, "StridedSlice",
                    f"cannot slice shape {list(shape)} with {key!r}")


def sliced_shape(shape: TensorShape, key: tuple) -> TensorShape:
    """The static shape of `x[key]` for a (possibly partial) shape of x."""
    if shape.rank is None:
        return TensorShape(None)
    dims = shape.as_list()
    consumed = _consumed(key)
    if consumed > len(dims):
        raise ValueError(f"Index out of range using input dim {len(dims)}; input has only "
                         f"{len(dims)} dims")
    out = []
    i = 0
    for k in key:
        if k is Ellipsis:
            take = len(dims) - consumed
            out.extend(dims[i:i + take])
            i += take
        elif k is None:
            out.append(1)
        elif type(k) is int:
            i += 1
        else:
            d = dims[i]
            out.append(None if d is None else len(range(*k.indices(d))))
            i += 1
    out.extend(dims[i:])
    return TensorShape(out)
