"""Array manipulation: shapes, joining and splitting, filling, broadcasting, indexing."""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape, broadcast_static_shape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import shape_rules


def shape_attr(shape) -> tuple:
    """A shape argument (list, tuple, TensorShape, tensor) as a tuple of ints."""
    if isinstance(shape, TensorShape):
        return tuple(shape.as_list())
    if isinstance(shape, (list, tuple)):
        return tuple(int(d) for d in shape)
    value = convert_to_tensor(shape).numpy()
    return tuple(int(d) for d in np.reshape(value, -1))


# -- reshape -----------------------------------------------------------------------------------
def _reshape_forward(x, shape):
    size = np.size(x)
    known = [d for d in shape if d != -1]
    if shape.count(-1) > 1:
        raise op_error(InvalidArgumentError, "Reshape", f"Only one input size may be -1, not both "
                       f"{shape.index(-1)} and {len(shape) - 1 - shape[::-1].index(-1)}")
    product = int(np.prod(known, dtype=np.int64))
    if (-1 in shape and (product == 0 or size % product)) or (-1 not in shape and product != size):
        raise op_error(InvalidArgumentError, "Reshape",
                       f"Input to reshape is a tensor with {size} values, but the requested shape "
                       f"{'requires a multiple of' if -1 in shape else 'has'} {product}")
    return np.reshape(x, shape)


def _reshape_abstract(x, shape):
    dims = list(shape)
    if -1 in dims and x.shape.is_fully_defined():
        known = int(np.prod([d for d in dims if d != -1], dtype=np.int64))
        dims[dims.index(-1)] = x.shape.num_elements() // known if known else 0
    return TensorSpec([None if d == -1 else d for d in dims], x.dtype)


RESHAPE = primitive("Reshape", _reshape_forward,
                    lambda op, dy: reshape(dy, tuple(op.inputs[0].shape)), _reshape_abstract)


def reshape(tensor, shape, name=None):
    """`tensor` with its elements arranged in `shape` (one dimension may be -1)."""
    x = convert_to_tensor(tensor)
    return execute(RESHAPE, (x,), {"shape": shape_attr(shape)})


# -- broadcast_to ------------------------------------------------------------------------------
def _broadcast_to_forward(x, shape):
    try:
        return np.broadcast_to(x, shape)
    except ValueError:
        raise op_error(InvalidArgumentError, "BroadcastTo",
                       f"Unable to broadcast tensor of shape {list(np.shape(x))} to tensor of "
                       f"shape {list(shape)}") from None


def _broadcast_to_grad(op, dy):
    from tensorweave.ops.broadcast_grad import unbroadcast
    return unbroadcast(dy, op.inputs[0])


BROADCAST_TO = primitive(
    "BroadcastTo", _broadcast_to_forward, _broadcast_to_grad,
    lambda x, shape: TensorSpec(broadcast_static_shape(x.shape, shape), x.dtype))


def broadcast_to(input, shape, name=None):  # noqa: A002 - TensorFlow's argument name
    """`input` broadcast to `shape` (NumPy broadcasting rules)."""
    x = convert_to_tensor(input)
    return execute(BROADCAST_TO, (x,), {"shape": shape_attr(shape)})


# -- filling -----------------------------------------------------------------------------------
def _fill_tensor(shape, value, dtype) -> Tensor:
    dtype = dtypes.as_dtype(dtype)
    shape = shape_attr(shape)
    if any(d < 0 for d in shape):
        raise op_error(InvalidArgumentError, "Fill", f"Dimension -1 must be >= 0 in shape {list(shape)}")
    return Tensor(np.full(shape, value, dtype=dtype.as_numpy_dtype), dtype)


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with zeros."""
    dtype = dtypes.as_dtype(dtype)
    return _fill_tensor(shape, b"" if dtype is dtypes.string else 0, dtype)


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of `shape` filled with ones."""
    return _fill_tensor(shape, 1, dtype)


def zeros_like(input, dtype=None, name=None):  # noqa: A002
    """Zeros with the shape (and, unless given, the dtype) of `input`."""
    x = convert_to_tensor(input)
    return zeros(x._value.shape, dtype or x._dtype)


def ones_like(input, dtype=None, name=None):  # noqa: A002
    """Ones with the shape (and, unless given, the dtype) of `input`."""
    x = convert_to_tensor(input)
    return ones(x._value.shape, dtype or x._dtype)


# -- stack / unstack ---------------------------------------------------------------------------
def _unstack_forward(x, axis, num):
    return tuple(np.moveaxis(x, axis, 0)) if np.ndim(x) else ()


def _unstack_abstract(x, axis, num):
    dims = x.shape.as_list()
    del dims[axis]
    return tuple(TensorSpec(dims, x.dtype) for _ in range(num))


UNPACK = primitive("Unpack", _unstack_forward,
                   lambda op, dys: stack(list(dys), axis=op.attrs["axis"]),
                   _unstack_abstract, multi_output=True)


def _stack_abstract(*xs, axis):
    shape = xs[0].shape
    for x in xs[1:]:
        shape = shape.merge_with(x.shape)
    dims = shape.as_list()
    dims.insert(axis, len(xs))
    return TensorSpec(dims, xs[0].dtype)


def _stack_forward(*xs, axis):
    shapes = {np.shape(x) for x in xs}
    if len(shapes) > 1:
        first, other = np.shape(xs[0]), next(np.shape(x) for x in xs if np.shape(x) != np.shape(xs[0]))
        raise op_error(InvalidArgumentError, "Pack",
                       f"Shapes of all inputs must match: values[0].shape = {list(first)} != "
                       f"values[i].shape = {list(other)}")
    return np.stack(xs, axis=axis)


PACK = primitive("Pack", _stack_forward,
                 lambda op, dy: unstack(dy, num=len(op.inputs), axis=op.attrs["axis"]),
                 _stack_abstract)


def _same_dtype(values, op_name):
    tensors = [convert_to_tensor(v) for v in values]
    first = tensors[0]._dtype
    for i, t in enumerate(tensors):
        if t._dtype is not first:
            from tensorweave.framework.convert import dtype_mismatch
            raise dtype_mismatch(op_name, i, first, t._dtype)
    return tuple(tensors)


def stack(values, axis=0, name="stack"):
    """Stacks a list of rank-R tensors into one rank-(R+1) tensor along `axis`."""
    if not values:
        raise ValueError("`values` must be a non-empty list of tensors")
    tensors = _same_dtype(values, "Pack")
    rank = tensors[0]._value.ndim + 1
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank})")
    return execute(PACK, tensors, {"axis": axis % rank})


def unstack(value, num=None, axis=0, name="unstack"):
    """Unpacks `value` along `axis` into a list of tensors."""
    x = convert_to_tensor(value)
    rank = x._value.ndim
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank})")
    axis %= rank
    n = x._value.shape[axis]
    if num is not None and num != n:
        raise ValueError(f"Cannot unstack {n} tensors along axis {axis} into num={num}")
    return list(execute(UNPACK, (x,), {"axis": axis, "num": n}))


# -- one_hot -----------------------------------------------------------------------------------
def _one_hot_forward(indices, depth, on_value, off_value, axis, dtype):
    indices = np.asarray(indices)
    hot = np.expand_dims(indices, -1) == np.arange(depth)
    out = np.where(hot, on_value, off_value).astype(dtype.as_numpy_dtype)
    return np.moveaxis(out, -1, axis) if axis != -1 else out


def _one_hot_abstract(indices, depth, on_value, off_value, axis, dtype):
    if indices.shape.rank is None:
        return TensorSpec(None, dtype)
    dims = indices.shape.as_list()
    dims.insert(axis if axis != -1 else len(dims), depth)
    return TensorSpec(dims, dtype)


ONE_HOT = primitive("OneHot", _one_hot_forward, None, _one_hot_abstract)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """A one-hot tensor: `on_value` where the last axis equals `indices`, `off_value` elsewhere."""
    indices = convert_to_tensor(indices)
    if not indices._dtype.is_integer:
        raise op_error(InvalidArgumentError, "OneHot",
                       f"indices must be an integer tensor, got {indices._dtype.name}")
    if dtype is None:
        for value in (on_value, off_value):
            if value is not None:
                dtype = convert_to_tensor(value).dtype
                break
        else:
            dtype = dtypes.float32
    dtype = dtypes.as_dtype(dtype)
    on = 1 if on_value is None else convert_to_tensor(on_value, dtype=dtype).numpy()
    off = 0 if off_value is None else convert_to_tensor(off_value, dtype=dtype).numpy()
    rank = indices._value.ndim
    axis = -1 if axis is None or axis == -1 else int(axis)
    if not -1 <= axis <= rank:
        raise ValueError(f"Expected axis to be -1 or between [0, {rank + 1}). But received: {axis}")
    return execute(ONE_HOT, (indices,), {"depth": int(depth), "on_value": on, "off_value": off,
                                         "axis": axis, "dtype": dtype})


def identity(input, name=None):  # noqa: A002
    """A new tensor with the value of `input` (a new node on the tape)."""
    return execute(IDENTITY, (convert_to_tensor(input),))


IDENTITY = primitive("Identity", lambda x: x, lambda op, dy: dy, shape_rules.same_as_input)
