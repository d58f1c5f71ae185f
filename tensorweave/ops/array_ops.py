"""Array manipulation: shapes, joining and splitting, filling, broadcasting, gathering and
scattering, slicing and indexing, selection."""
from __future__ import annotations

import builtins

import numpy as np

from tensorweave.framework import convert as _convert_module
from tensorweave.framework import dtypes
from tensorweave.framework.convert import (
    convert_like, convert_to_tensor, dtype_mismatch, is_tensor_like)
from tensorweave.framework.errors import (
    InvalidArgumentError, NotFoundError, UnimplementedError, op_error)
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape, as_shape, broadcast_static_shape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import indexing, shape_rules

_INDEX_DTYPES = dtypes._enums(dtypes.int16, dtypes.int32, dtypes.int64)
_OUT_TYPES = (dtypes.int32, dtypes.int64)
_ATTR_NAMES = {"float32": "float", "float64": "double", "float16": "half"}


def _attr_error(op_name: str, attr: str, dtype, allowed: str):
    return op_error(InvalidArgumentError, op_name,
                    f"Value for attr '{attr}' of {_ATTR_NAMES.get(dtype.name, dtype.name)} is not "
                    f"in the list of allowed values: {allowed}")


def _no_kernel(op_name: str, dtype):
    """TensorFlow declares the dtype for the op but has no CPU kernel for it (NotFoundError)."""
    return op_error(NotFoundError, op_name, f"Could not find device for node: {{{{node {op_name}}}}} "
                    f"= {op_name}[T=DT_{dtype.name.upper()}]")


def _index_tensor(indices, op_name: str) -> Tensor:
    indices = convert_to_tensor(indices)
    if indices._dtype._enum not in _INDEX_DTYPES:
        raise _attr_error(op_name, "Tindices", indices._dtype, "int16, int32, int64")
    return indices


_INT_ATTR = dtypes._enums(dtypes.int32, dtypes.int64)


def int_list(value, op_name: str = None, attr: str = None) -> list:
    """An int, list of ints, NumPy array or integer tensor as a list of Python ints.

    With `op_name` and `attr`, a tensor or array that is not int32/int64 is refused with the op's
    attr error, as TensorFlow refuses a float `shape` or `multiples` tensor.
    """
    if isinstance(value, int):
        return [value]
    if isinstance(value, (list, tuple)) and all(type(v) is int for v in value):
        return list(value)
    if attr is not None and (is_tensor_like(value) or isinstance(value, np.ndarray)):
        tensor = convert_to_tensor(value)
        if tensor._dtype._enum not in _INT_ATTR:
            raise _attr_error(op_name, attr, tensor._dtype, "int32, int64")
        value = tensor.numpy()
    elif is_tensor_like(value):
        value = convert_to_tensor(value).numpy()
    return [int(v) for v in np.reshape(np.asarray(value), -1)]


def _int_scalar(value, what: str) -> int:
    if type(value) is int:
        return value
    if is_tensor_like(value):
        value = convert_to_tensor(value).numpy()
    arr = np.asarray(value)
    if arr.size != 1:
        raise ValueError(f"Argument `{what}` must be a scalar, received {value!r}")
    return int(arr.reshape(()))


def shape_attr(shape, op_name: str = None, attr: str = None) -> tuple:
    """A shape argument (list, tuple, TensorShape, tensor) as a tuple of ints (a tensor of
    another dtype than int32/int64 refused as `op_name`'s `attr`, when given)."""
    if isinstance(shape, TensorShape):
        if not shape.is_fully_defined():
            raise ValueError(f"Cannot convert a partially known TensorShape {shape} to a Tensor.")
        return tuple(shape.as_list())
    if isinstance(shape, (list, tuple)):
        return tuple(int(d) for d in shape)
    return tuple(int_list(shape, op_name, attr))


def _rank(x: Tensor) -> int:
    try:
        return x._value.ndim  # eager: no TensorShape to build
    except AttributeError:
        return x.shape.rank


def _convert_all(values, op_name: str) -> tuple:
    """A list of values as tensors of one dtype (Python values take the tensors' dtype)."""
    values = list(values)
    if all(type(v) is Tensor for v in values):
        first = values[0]._dtype
        for i, t in enumerate(values):
            if t._dtype is not first:
                raise dtype_mismatch(op_name, i, first, t._dtype)
        return tuple(values)
    dtype = next((convert_to_tensor(v)._dtype for v in values if is_tensor_like(v)), None)
    if dtype is None:
        try:  # all Python/NumPy values: infer one dtype for all, as converting the list would
            dtype = convert_to_tensor(values)._dtype
        except (TypeError, ValueError):
            dtype = convert_to_tensor(values[0])._dtype
    tensors = tuple(convert_like(v, dtype) for v in values)
    first = tensors[0]._dtype
    for i, t in enumerate(tensors):
        if t._dtype is not first:
            raise dtype_mismatch(op_name, i, first, t._dtype)
    return tensors


def _as_array(value, like):
    """NumPy returns a bare Python object (bytes) for one element of a string array: rewrap it."""
    if isinstance(value, (np.ndarray, np.generic)):
        return value
    return np.array(value, dtype=np.asarray(like).dtype)


def _axis_in_range(axis: int, rank: int, op_name: str, message: str) -> int:
    if not -rank <= axis < rank:
        raise op_error(InvalidArgumentError, op_name, message)
    return axis % rank


# -- reshape -----------------------------------------------------------------------------------
def _missing_dim(in_dims, shape) -> int:
    """The size TensorFlow gives the -1 of `shape` for an input of `in_dims`.

    With a 0 among the known sizes the element count says nothing; TensorFlow then divides the
    product of the input's non-zero sizes by that of the known non-zero sizes.
    """
    known = [d for d in shape if d != -1]
    if 0 in known:
        nonzero_in = int(np.prod([d for d in in_dims if d], dtype=np.int64))
        return nonzero_in // int(np.prod([d for d in known if d], dtype=np.int64))
    product = int(np.prod(known, dtype=np.int64))
    return int(np.prod(in_dims, dtype=np.int64)) // product if product else 0


def _reshape_forward(x, shape):
    try:
        return np.reshape(x, shape)
    except ValueError:
        pass  # diagnose only on failure: the common path stays one NumPy call
    size = np.size(x)
    known = [d for d in shape if d != -1]
    if shape.count(-1) > 1:
        raise op_error(InvalidArgumentError, "Reshape", f"Only one input size may be -1, not both "
                       f"{shape.index(-1)} and {shape.index(-1, shape.index(-1) + 1)}")
    product = int(np.prod(known, dtype=np.int64))
    if size == 0 and -1 in shape and 0 in known:  # NumPy cannot infer -1 next to a 0
        dims = list(shape)
        dims[dims.index(-1)] = _missing_dim(np.shape(x), shape)
        return np.reshape(x, dims)
    raise op_error(InvalidArgumentError, "Reshape",
                   f"Input to reshape is a tensor with {size} values, but the requested shape "
                   f"{'requires a multiple of' if -1 in shape else 'has'} {product}")


def _reshape_abstract(x, shape):
    dims = list(shape)
    if -1 in dims and x.shape.is_fully_defined():
        dims[dims.index(-1)] = _missing_dim(x.shape.as_list(), shape)
    return TensorSpec([None if d == -1 else d for d in dims], x.dtype)


RESHAPE = primitive("Reshape", _reshape_forward,
                    lambda op, dy: reshape(dy, tuple(op.inputs[0].shape)), _reshape_abstract)


def reshape(tensor, shape, name=None):
    """`tensor` with its elements arranged in `shape` (one dimension may be -1)."""
    x = convert_to_tensor(tensor)
    shape = shape_attr(shape, "Reshape", "Tshape")
    if shape and min(shape) < -1:
        i = next(i for i, d in enumerate(shape) if d < -1)
        raise op_error(InvalidArgumentError, "Reshape",
                       f"Size {i} must be non-negative, not {shape[i]}")
    return execute(RESHAPE, (x,), {"shape": shape})


# -- expand_dims / squeeze ---------------------------------------------------------------------
def _expand_dims_abstract(x, axis):
    if x.shape.rank is None:
        return TensorSpec(None, x.dtype)
    dims = x.shape.as_list()
    dims.insert(axis, 1)
    return TensorSpec(dims, x.dtype)


def _expand_dims_forward(x, axis):
    shape = np.shape(x)
    return np.reshape(x, shape[:axis] + (1,) + shape[axis:])


EXPAND_DIMS = primitive("ExpandDims", _expand_dims_forward,
                        lambda op, dy: squeeze(dy, [op.attrs["axis"]]), _expand_dims_abstract)


def expand_dims(input, axis, name=None):  # noqa: A002 - TensorFlow's argument name
    """`input` with a new dimension of size 1 inserted at `axis` (negative counts from the end)."""
    x = convert_to_tensor(input)
    if type(axis) is float:
        raise TypeError(f"Cannot convert {axis!r} to EagerTensor of dtype int32")
    axes = int_list(axis, "ExpandDims", "Tdim")
    if len(axes) != 1:
        raise op_error(InvalidArgumentError, "ExpandDims", "'dim' must be a tensor with a single value")
    rank = _rank(x)
    a = axes[0]
    if not -rank - 1 <= a <= rank:
        raise op_error(InvalidArgumentError, "ExpandDims",
                       f"Tried to expand dim index {a} for tensor with {rank} dimensions.")
    return execute(EXPAND_DIMS, (x,), {"axis": a % (rank + 1)})


def _squeeze_forward(x, axis):
    if axis is None:
        return np.squeeze(x)
    for a in axis:
        if np.shape(x)[a] != 1:
            raise op_error(InvalidArgumentError, "Squeeze", f"Can not squeeze dim[{a}], expected a "
                           f"dimension of 1, got {np.shape(x)[a]}")
    return np.squeeze(x, axis)


def _squeeze_abstract(x, axis):
    if x.shape.rank is None:
        return TensorSpec(None, x.dtype)
    dims = x.shape.as_list()
    if axis is None:
        if None in dims:  # which unknown dims are 1 is unknown
            return TensorSpec(None, x.dtype)
        return TensorSpec([d for d in dims if d != 1], x.dtype)
    return TensorSpec([d for i, d in enumerate(dims) if i not in axis], x.dtype)


SQUEEZE = primitive("Squeeze", _squeeze_forward,
                    lambda op, dy: reshape(dy, tuple(op.inputs[0].shape)), _squeeze_abstract)


def squeeze(input, axis=None, name=None):  # noqa: A002
    """`input` without its size-1 dimensions (only those in `axis`, when given)."""
    x = convert_to_tensor(input)
    if isinstance(axis, (list, tuple)) and not axis:  # TensorFlow: an empty list squeezes all
        axis = None
    if axis is not None:
        rank = _rank(x)
        axes = []
        for a in int_list(axis):
            if not -rank <= a < rank:
                raise op_error(InvalidArgumentError, "Squeeze",
                               f"Tried to squeeze dim index {a} for tensor with {rank} dimensions.")
            axes.append(a % rank)
        axis = tuple(sorted(set(axes)))
    return execute(SQUEEZE, (x,), {"axis": axis})


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


def broadcast_to(input, shape, name=None):  # noqa: A002
    """`input` broadcast to `shape` (NumPy broadcasting rules)."""
    x = convert_to_tensor(input)
    try:
        return execute(BROADCAST_TO, (x,), {"shape": shape_attr(shape)})
    except NotImplementedError:  # a graph shape known only at run time: select broadcasts
        return where(_filled(_scalar(True, dtypes.bool), shape), x, x)


# -- filling -----------------------------------------------------------------------------------
def _fill_forward(value, dims):
    if np.ndim(value) != 0:
        raise op_error(InvalidArgumentError, "Fill",
                       f"value must represent a scalar, got shape {list(np.shape(value))}")
    for d in dims:
        if d < 0:
            raise op_error(InvalidArgumentError, "Fill", f"Dimension {d} must be >= 0")
    return np.full(dims, value, dtype=np.asarray(value).dtype)


def _fill_grad(op, dy):
    from tensorweave.ops import reduction_ops
    return reduction_ops.reduce_sum(dy)


FILL = primitive("Fill", _fill_forward, _fill_grad, lambda value, dims: TensorSpec(dims, value.dtype))


def _dynamic_fill_forward(dims, value, known):
    shape = tuple(int(d) for d in np.reshape(dims, -1))
    return _fill_forward(value, dims=shape)


def _dynamic_fill_abstract(dims, value, known):
    if dims.value is not None:
        return TensorSpec([int(d) for d in np.reshape(dims.value, -1)], value.dtype)
    if known is not None:
        return TensorSpec(list(known), value.dtype)
    n = dims.shape[0] if dims.shape.rank == 1 else None
    return TensorSpec(None if n is None else [None] * n, value.dtype)


# Fill with a shape known only when the graph runs (a dimension from tf.shape inside a
# tf.function); `known` keeps the dimensions that were Python numbers.
DYNAMIC_FILL = primitive("DynamicFill", _dynamic_fill_forward,
                         lambda op, dy: (None, _fill_grad(op, dy)), _dynamic_fill_abstract)


def _filled(value: Tensor, dims) -> Tensor:
    """`value` repeated to shape `dims`, as Fill; a shape holding graph tensors whose values are
    known only at run time becomes an input of the op."""
    try:
        return execute(FILL, (value,), {"dims": shape_attr(dims, "Fill", "index_type")})
    except NotImplementedError:  # a graph value needed while tracing
        pass
    known = None
    if isinstance(dims, (list, tuple)):
        known = tuple(d if isinstance(d, (int, np.integer)) else None for d in dims)
    dims_tensor = convert_to_tensor(dims)
    return execute(DYNAMIC_FILL, (dims_tensor, value), {"known": known})


def fill(dims, value, name=None, layout=None):
    """A tensor of shape `dims` with every element `value` (a scalar)."""
    return _filled(convert_to_tensor(value), dims)


_SCALARS: dict = {}


def _scalar(value, dtype: dtypes.DType) -> Tensor:
    """A cached scalar constant (the value zeros/ones fill with)."""
    key = (value, dtype)
    found = _SCALARS.get(key)
    if found is None:
        if dtype is dtypes.string:  # refuses 1 with TensorFlow's TypeError
            found = convert_to_tensor(value, dtype=dtype)
        else:
            found = Tensor(np.array(value, dtype=dtype.as_numpy_dtype)[()], dtype)
        _SCALARS[key] = found
    return found


def zeros(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of `shape` filled with zeros (empty strings for tf.string)."""
    dtype = dtypes.as_dtype(dtype)
    return _filled(_scalar(b"" if dtype is dtypes.string else 0, dtype), shape)


def ones(shape, dtype=dtypes.float32, name=None, layout=None):
    """A tensor of `shape` filled with ones."""
    return _filled(_scalar(1, dtypes.as_dtype(dtype)), shape)


def _zeros_like_forward(x):
    if x.dtype == object:
        return np.full(np.shape(x), b"", dtype=object)
    return np.zeros_like(x)


ZEROS_LIKE = primitive("ZerosLike", _zeros_like_forward, None, shape_rules.same_as_input)
ONES_LIKE = primitive("OnesLike", np.ones_like, None, shape_rules.same_as_input)


def _shape_of(x: Tensor):
    """x's static shape, or its run-time shape tensor where a dimension is unknown."""
    return x.shape if x.shape.is_fully_defined() else shape(x)


def zeros_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    """Zeros with the shape (and, unless given, the dtype) of `input`."""
    x = convert_to_tensor(input)
    if dtype is not None and dtypes.as_dtype(dtype) is not x._dtype:
        return zeros(_shape_of(x), dtype)
    return execute(ZEROS_LIKE, (x,))


def ones_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    """Ones with the shape (and, unless given, the dtype) of `input`."""
    x = convert_to_tensor(input)
    if dtype is not None and dtypes.as_dtype(dtype) is not x._dtype:
        return ones(_shape_of(x), dtype)
    if x._dtype is dtypes.string:
        raise _attr_error("OnesLike", "T", x._dtype, "bfloat16, half, float, double, int8, uint8, "
                          "int16, uint16, int32, uint32, int64, uint64, complex64, complex128, bool")
    return execute(ONES_LIKE, (x,))


# -- stack / unstack ---------------------------------------------------------------------------
def _unstack_forward(x, axis, num):
    parts = tuple(np.moveaxis(x, axis, 0))
    if x.dtype == object and x.ndim == 1:
        return tuple(_as_array(p, x) for p in parts)
    return parts


def _unstack_abstract(x, axis, num):
    if x.shape.rank is None:
        return tuple(TensorSpec(None, x.dtype) for _ in builtins.range(num))
    dims = x.shape.as_list()
    del dims[axis]
    return tuple(TensorSpec(dims, x.dtype) for _ in builtins.range(num))


UNPACK = primitive("Unpack", _unstack_forward,
                   lambda op, dys: stack(list(dys), axis=op.attrs["axis"]),
                   _unstack_abstract, multi_output=True)


def _stack_abstract(*xs, axis):
    shape = xs[0].shape
    for x in xs[1:]:
        shape = shape.merge_with(x.shape)
    if shape.rank is None:
        return TensorSpec(None, xs[0].dtype)
    dims = shape.as_list()
    dims.insert(axis, len(xs))
    return TensorSpec(dims, xs[0].dtype)


def _stack_forward(*xs, axis):
    try:
        if axis == 0:  # np.array is ~10x faster than np.stack on small inputs
            out = np.array(xs)
            if out.ndim == np.ndim(xs[0]) + 1 and out.dtype == np.result_type(xs[0]):
                return out
        return np.stack(xs, axis=axis)
    except ValueError:
        pass  # diagnose only on failure
    first = np.shape(xs[0])
    for x in xs[1:]:
        if np.shape(x) != first:
            raise op_error(InvalidArgumentError, "Pack",
                           f"Shapes of all inputs must match: values[0].shape = {list(first)} != "
                           f"values[i].shape = {list(np.shape(x))}")
    return np.stack(xs, axis=axis)


PACK = primitive("Pack", _stack_forward,
                 lambda op, dy: unstack(dy, num=len(op.inputs), axis=op.attrs["axis"]),
                 _stack_abstract)


def stack(values, axis=0, name="stack"):
    """Stacks a list of rank-R tensors into one rank-(R+1) tensor along `axis`."""
    if not len(values):
        if axis == 0:  # TensorFlow converts the (empty) list itself: a float32 [0] tensor
            return convert_to_tensor(list(values))
        raise IndexError("list index out of range")
    tensors = _convert_all(values, "Pack")
    rank = _rank(tensors[0]) + 1
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank})")
    return execute(PACK, tensors, {"axis": axis % rank})


def _symbolic_pack(value, dtype=None) -> Tensor:
    """A nested list holding graph tensors as one tensor, by Pack ops (TensorFlow's
    auto-packing); the first tensor's dtype is the result's unless `dtype` is given."""
    from tensorweave.framework import convert

    def first_dtype(item):
        if isinstance(item, (list, tuple)):
            for child in item:
                found = first_dtype(child)
                if found is not None:
                    return found
            return None
        return convert_to_tensor(item)._dtype if convert.is_tensor_like(item) else None

    target = dtypes.as_dtype(dtype) if dtype is not None else first_dtype(value)

    def build(item):
        if isinstance(item, (list, tuple)):
            return stack([build(child) for child in item])
        tensor = convert_to_tensor(item, dtype=None if convert.is_tensor_like(item) else target)
        if tensor._dtype is not target:
            raise convert.dtype_mismatch("Pack", 0, target, tensor._dtype)
        return tensor
    return build(value)


def unstack(value, num=None, axis=0, name="unstack"):
    """Unpacks `value` along `axis` into a list of tensors."""
    x = convert_to_tensor(value)
    rank = _rank(x)
    if not -rank <= axis < rank:
        raise ValueError(f"Argument `axis` = {axis} not in range [{-rank}, {rank})")
    axis %= rank
    n = x.shape[axis]
    if num is not None and num != n:
        raise op_error(InvalidArgumentError, "Unpack", f"Input shape axis {axis} must equal {num}, "
                       f"got shape {list(x.shape)}")
    return list(execute(UNPACK, (x,), {"axis": axis, "num": n}))


# -- concat / split ----------------------------------------------------------------------------
def _concat_forward(*xs, axis):
    try:
        return np.concatenate(xs, axis=axis)
    except ValueError:
        pass  # diagnose only on failure
    first = np.shape(xs[0])
    for i, x in enumerate(xs[1:], 1):
        shape = np.shape(x)
        if len(shape) != len(first):
            raise op_error(InvalidArgumentError, "ConcatV2", f"ConcatOp : Ranks of all input tensors "
                           f"should match: shape[0] = {list(first)} vs. shape[{i}] = {list(shape)}")
        for d, (p, q) in enumerate(zip(first, shape)):
            if d != axis and p != q:
                raise op_error(InvalidArgumentError, "ConcatV2",
                               f"ConcatOp : Dimension {d} in both shapes must be equal: shape[0] = "
                               f"{list(first)} vs. shape[{i}] = {list(shape)}")
    return np.concatenate(xs, axis=axis)


def _concat_grad(op, dy):
    axis = op.attrs["axis"]
    sizes = tuple(t.shape[axis] for t in op.inputs)
    return execute(SPLIT, (dy,), {"sizes": sizes, "axis": axis})


def _concat_abstract(*xs, axis):
    ranked = [x.shape for x in xs if x.shape.rank is not None]
    if not ranked:
        return TensorSpec(None, xs[0].dtype)
    dims = [None] * ranked[0].rank
    total = 0
    for shape in ranked:
        for i, d in enumerate(shape):
            if i != axis and d is not None:
                dims[i] = d
    for x in xs:
        d = None if x.shape.rank is None else x.shape[axis]
        total = None if d is None or total is None else total + d
    dims[axis] = total
    return TensorSpec(dims, xs[0].dtype)


CONCAT = primitive("ConcatV2", _concat_forward, _concat_grad, _concat_abstract)


def concat(values, axis, name="concat"):
    """Joins tensors along dimension `axis`."""
    if not isinstance(values, (list, tuple)):
        values = [values]
    if not values:
        raise op_error(InvalidArgumentError, "ConcatV2", "OpKernel 'ConcatV2' has constraint on "
                       "attr 'T' not in NodeDef '[N=0, Tidx=DT_INT32]'")
    tensors = _convert_all(values, "ConcatV2")
    if len(tensors) == 1:  # TensorFlow returns the one tensor without looking at `axis`
        return identity(tensors[0])
    axis = _int_scalar(axis, "axis")
    rank = _rank(tensors[0])
    if rank == 0:
        raise op_error(InvalidArgumentError, "ConcatV2",
                       "ConcatOp : Can't concatenate scalars (use tf.stack instead)")
    axis = _axis_in_range(axis, rank, "ConcatV2", f"ConcatOp : Expected concatenating dimensions "
                          f"in the range [{-rank}, {rank}), but got {axis}")
    return execute(CONCAT, tensors, {"axis": axis})


def _split_forward(x, sizes, axis):
    return tuple(np.split(x, np.cumsum(sizes[:-1]), axis=axis))


def _split_grad(op, dys):
    return concat(list(dys), op.attrs["axis"])


def _split_abstract(x, sizes, axis):
    if x.shape.rank is None:
        return tuple(TensorSpec(None, x.dtype) for _ in sizes)
    dims = x.shape.as_list()
    return tuple(TensorSpec(dims[:axis] + [s] + dims[axis + 1:], x.dtype) for s in sizes)


SPLIT = primitive("SplitV", _split_forward, _split_grad, _split_abstract, multi_output=True)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits `value` along `axis` into `num_or_size_splits` equal parts, or parts of the given
    sizes (one size may be -1: the rest)."""
    x = convert_to_tensor(value)
    axis = _int_scalar(axis, "axis")
    rank = _rank(x)
    op_name = "Split" if isinstance(num_or_size_splits, int) else "SplitV"
    axis = _axis_in_range(axis, rank, op_name, f"-input rank(-{rank}) <= split_dim < input rank "
                          f"({rank}), but got {axis}")
    n = x.shape[axis]
    if isinstance(num_or_size_splits, (int, np.integer)):
        count = int(num_or_size_splits)
        if count < 1:
            raise op_error(InvalidArgumentError, "Split",
                           f"Value for attr 'num_split' of {count} must be at least minimum 1")
        if n % count:
            raise op_error(InvalidArgumentError, "Split",
                           f"Number of ways to split should evenly divide the split dimension, but "
                           f"got split_dim {axis} (size = {n}) and num_split {count}")
        sizes = [n // count] * count
    else:
        if is_tensor_like(num_or_size_splits) and convert_to_tensor(num_or_size_splits).shape.rank == 0:
            raise ValueError(f"Rank-0 tensors are not supported as the num_or_size_splits argument "
                             f"to split. Argument provided: {num_or_size_splits}")
        sizes = int_list(num_or_size_splits)
        if num is not None and num != len(sizes):
            raise op_error(InvalidArgumentError, "SplitV",
                           f"size of the split_tensor must be 1-D and have the same elements as "
                           f"outputs got 1 -D and {len(sizes)} elements")
        if sizes.count(-1) > 1:
            raise op_error(InvalidArgumentError, "SplitV", "There can only be one -1 in the input.")
        if -1 in sizes:
            rest = n - (sum(sizes) + 1)
            if rest < 0:
                raise op_error(InvalidArgumentError, "SplitV",
                               f"Determined shape must either match input shape along split_dim "
                               f"exactly if fully specified, or be less than the size of the input "
                               f"along split_dim if not fully specified.  Got: {sum(sizes) + 1}")
            sizes[sizes.index(-1)] = rest
        elif sum(sizes) != n or any(s < 0 for s in sizes):
            raise op_error(InvalidArgumentError, "SplitV",
                           f"Determined shape must either match input shape along split_dim exactly "
                           f"if fully specified, or be less than the size of the input along "
                           f"split_dim if not fully specified.  Got: {sum(sizes)}")
    return list(execute(SPLIT, (x,), {"sizes": tuple(sizes), "axis": axis}))


# -- tile --------------------------------------------------------------------------------------
def _tile_grad(op, dy):
    from tensorweave.ops import reduction_ops
    x_shape = op.inputs[0].shape
    multiples = op.attrs["multiples"]
    interleaved = []
    for m, d in zip(multiples, x_shape):
        interleaved += [m, d]
    if not interleaved:
        return dy
    summed = reduction_ops.reduce_sum(reshape(dy, interleaved),
                                      axis=list(builtins.range(0, len(interleaved), 2)))
    return reshape(summed, tuple(x_shape))


def _tile_abstract(x, multiples):
    if x.shape.rank is None:
        return TensorSpec([None] * len(multiples), x.dtype)
    return TensorSpec([None if d is None else d * m for d, m in zip(x.shape, multiples)], x.dtype)


TILE = primitive("Tile", lambda x, multiples: np.tile(x, multiples) if multiples else x,
                 _tile_grad, _tile_abstract)


def tile(input, multiples, name=None):  # noqa: A002
    """`input` repeated `multiples[i]` times along each dimension i."""
    x = convert_to_tensor(input)
    multiples = int_list(multiples, "Tile", "Tmultiples") \
        if not (isinstance(multiples, (list, tuple)) and not multiples) else []
    rank = _rank(x)
    if len(multiples) != rank:
        raise op_error(InvalidArgumentError, "Tile", f"Expected multiples argument to be a vector of "
                       f"length {rank} but got length {len(multiples)}")
    for i, m in enumerate(multiples):
        if m < 0:
            raise op_error(InvalidArgumentError, "Tile", f"Expected multiples[{i}] >= 0, but got {m}")
    if x._dtype is dtypes.uint16:  # the one dtype TensorFlow's CPU Tile kernel lacks
        raise op_error(UnimplementedError, "Tile", f"TileOp : The input data type is not "
                       f"supported, DataType : uint16, Dimension : {rank}")
    return execute(TILE, (x,), {"multiples": tuple(multiples)})


# -- pad ---------------------------------------------------------------------------------------
def _pad_abstract(x, paddings, **attrs):
    if x.shape.rank is None:
        return TensorSpec([None] * len(paddings), x.dtype)
    return TensorSpec([None if d is None else d + lo + hi for d, (lo, hi) in zip(x.shape, paddings)],
                      x.dtype)


def _pad_rank_error(count: int, dims, op_name: str):
    dims = ",".join("?" if d is None else str(d) for d in dims)
    comma = "," if op_name == "MirrorPad" else ""
    return op_error(InvalidArgumentError, op_name, f"The first dimension of paddings must be the "
                    f"rank of inputs[{count},2]{comma} [{dims}]")


def _check_pad_rank(x, paddings, op_name: str) -> None:
    """The rank check of a graph input whose rank was unknown while tracing."""
    if np.ndim(x) != len(paddings):
        raise _pad_rank_error(len(paddings), np.shape(x), op_name)


def _pad_forward(x, paddings, constant_values):
    _check_pad_rank(x, paddings, "PadV2")
    return np.pad(x, paddings, mode="constant", constant_values=constant_values)


def _pad_grad(op, dy):
    # the slice of dy the input went to, from the paddings only (dims may be unknown in a graph)
    key = tuple(builtins.slice(lo, -hi if hi else None) for lo, hi in op.attrs["paddings"])
    return execute(STRIDED_SLICE, (dy,), {"key": key})


PAD = primitive("PadV2", _pad_forward, _pad_grad, _pad_abstract)


def _check_mirror_paddings(shape, pairs, mode: str) -> None:
    """MirrorPad's limit: each padding below the dimension size (REFLECT) or at most it
    (SYMMETRIC); dimensions unknown while tracing (None) are checked when the graph runs."""
    offset = 1 if mode == "REFLECT" else 0
    for d, (lo, hi) in zip(shape, pairs):
        if d is not None and (lo > d - offset or hi > d - offset):
            relation = "less than" if offset else "no greater than"
            verb = "not less than" if offset else "greater than"
            raise op_error(InvalidArgumentError, "MirrorPad", f"paddings must be {relation} the "
                           f"dimension size: {lo}, {hi} {verb} {d}")


def _mirror_pad_forward(x, paddings, mode):
    _check_pad_rank(x, paddings, "MirrorPad")
    _check_mirror_paddings(np.shape(x), paddings, mode)
    return np.pad(x, paddings, mode="reflect" if mode == "REFLECT" else "symmetric")


def _mirror_pad_grad_forward(dy, paddings, mode):
    """The adjoint of mirror padding: each padded element's gradient goes back to its source."""
    np_mode = "reflect" if mode == "REFLECT" else "symmetric"
    out = dy
    for axis, (lo, hi) in enumerate(paddings):
        if not lo and not hi:
            continue
        n = out.shape[axis] - lo - hi
        source = np.pad(np.arange(n), (lo, hi), mode=np_mode)
        moved = np.moveaxis(out, axis, 0)
        folded = np.zeros((n,) + moved.shape[1:], dtype=dy.dtype)
        np.add.at(folded, source, moved)
        out = np.moveaxis(folded, 0, axis)
    return out


def _mirror_pad_grad_abstract(dy, paddings, mode):
    if dy.shape.rank is None:
        return TensorSpec([None] * len(paddings), dy.dtype)
    return TensorSpec([None if d is None else d - lo - hi for d, (lo, hi) in zip(dy.shape, paddings)],
                      dy.dtype)


MIRROR_PAD = primitive(
    "MirrorPad", _mirror_pad_forward,
    lambda op, dy: execute(MIRROR_PAD_GRAD, (dy,), op.attrs), _pad_abstract)
MIRROR_PAD_GRAD = primitive(
    "MirrorPadGrad", _mirror_pad_grad_forward,
    lambda op, dy: execute(MIRROR_PAD, (dy,), op.attrs), _mirror_pad_grad_abstract)


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    """`tensor` padded by `paddings[i] = [before, after]` along each dimension i; mode CONSTANT
    (with `constant_values`), REFLECT (edge not repeated) or SYMMETRIC (edge repeated)."""
    x = convert_to_tensor(tensor)
    mode_upper = str(mode).upper()
    if mode_upper not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f'Value of argument `mode` expected to be one of "CONSTANT", "REFLECT", or '
                         f'"SYMMETRIC". Received `mode` = {mode}')
    op_name = "PadV2" if mode_upper == "CONSTANT" else "MirrorPad"
    flat = int_list(paddings, op_name, "Tpaddings")
    rank = _rank(x)
    if np.ndim(paddings) != 2 or np.shape(paddings)[-1] != 2:
        raise op_error(InvalidArgumentError, op_name, f"paddings must be a matrix with 2 columns: "
                       f"{list(np.shape(paddings))}")
    if rank is not None and len(flat) != 2 * rank:
        raise _pad_rank_error(len(flat) // 2, x.shape.as_list(), op_name)
    pairs = tuple((flat[2 * i], flat[2 * i + 1]) for i in builtins.range(len(flat) // 2))
    for lo, hi in pairs:
        if lo < 0 or hi < 0:
            raise op_error(InvalidArgumentError, op_name, f"Paddings must be non-negative: {lo} {hi}")
    if mode_upper == "CONSTANT":
        if is_tensor_like(constant_values):
            value = convert_to_tensor(constant_values)
        elif isinstance(constant_values, (int, float)) and constant_values == 0:
            # TensorFlow pads with the dtype's zero (Pad, not PadV2): False, b"", 0...
            value = _scalar(b"" if x._dtype is dtypes.string else 0, x._dtype)
        else:
            value = convert_to_tensor(constant_values, dtype=x._dtype)
        if value._dtype is not x._dtype:
            raise dtype_mismatch("PadV2", 2, x._dtype, value._dtype)
        return execute(PAD, (x,), {"paddings": pairs, "constant_values": value.numpy()})
    if rank is not None:
        _check_mirror_paddings(x.shape.as_list(), pairs, mode_upper)
    return execute(MIRROR_PAD, (x,), {"paddings": pairs, "mode": mode_upper})


# -- gather ------------------------------------------------------------------------------------
def _batched(params_shape: tuple, indices, batch_dims: int):
    """(batch size, indices with the batch dims flattened into one leading dim, batch index)."""
    batch = params_shape[:batch_dims]
    total = int(np.prod(batch, dtype=np.int64))
    flat = np.reshape(indices, (total,) + np.shape(indices)[batch_dims:])
    rows = np.arange(total).reshape((total,) + (1,) * (flat.ndim - 1))
    return total, flat, rows


def _check_gather_indices(indices, n: int):
    bad = (indices < 0) | (indices >= n)
    if bad.any():
        where = np.argwhere(bad)[0]
        raise op_error(InvalidArgumentError, "GatherV2",
                       f"indices[{','.join(str(int(i)) for i in where)}] = {indices[tuple(where)]} "
                       f"is not in [0, {n})")


def _gather_forward(params, indices, axis, batch_dims):
    n = params.shape[axis]
    indices = np.asarray(indices)
    if indices.size and indices.min() < 0:  # NumPy would wrap these around
        _check_gather_indices(indices, n)
    try:
        if batch_dims == 0:
            return _as_array(np.take(params, indices, axis=axis), params)
        total, flat, rows = _batched(params.shape, indices, batch_dims)
        p = np.moveaxis(params.reshape((total,) + params.shape[batch_dims:]), axis - batch_dims + 1, 1)
        out = p[rows, flat]  # [batch, index dims..., outer dims..., inner dims...]
    except IndexError:  # too large an index: find it for TensorFlow's message
        _check_gather_indices(indices, n)
        raise
    k, outer = flat.ndim - 1, axis - batch_dims
    out = np.moveaxis(out, list(builtins.range(1 + k, 1 + k + outer)), list(builtins.range(1, 1 + outer)))
    return out.reshape(params.shape[:batch_dims] + out.shape[1:])


def _rows_scatter_add(dy, indices, shape):
    """The adjoint of a gather of rows (an Embedding's gradient) by one np.bincount per column:
    about 3x faster than np.add.at, and summed in float64. None when it does not pay."""
    flat = indices.reshape(-1)
    rows = dy.reshape(flat.size, -1)
    vocabulary, width = shape[0], rows.shape[1]
    if dy.dtype.kind != "f" or width > 256 or vocabulary > 8 * max(flat.size, 1):
        return None
    out = np.empty((vocabulary, width), dtype=dy.dtype)
    columns = np.ascontiguousarray(rows.T)
    for j in range(width):
        out[:, j] = np.bincount(flat, weights=columns[j], minlength=vocabulary)
    return out.reshape(shape)


def _gather_grad_forward(dy, indices, shape, axis, batch_dims):
    """The adjoint of gather: `dy` summed into zeros of the params' shape at the gathered rows."""
    indices = np.asarray(indices)
    if axis == 0 and batch_dims == 0 and len(shape) >= 1:
        fast = _rows_scatter_add(dy, indices, shape)
        if fast is not None:
            return fast
    out = np.zeros(shape, dtype=dy.dtype)
    total, flat, rows = _batched(shape, indices, batch_dims)
    p = np.moveaxis(out.reshape((total,) + tuple(shape[batch_dims:])), axis - batch_dims + 1, 1)
    k, outer = flat.ndim - 1, axis - batch_dims
    d = np.reshape(dy, (total,) + np.shape(dy)[batch_dims:])
    d = np.moveaxis(d, list(builtins.range(1, 1 + outer)), list(builtins.range(1 + k, 1 + k + outer)))
    np.add.at(p, (np.broadcast_to(rows, flat.shape), flat), d)
    return out


def _gather_abstract(params, indices, axis, batch_dims):
    if params.shape.rank is None or indices.shape.rank is None:
        return TensorSpec(None, params.dtype)
    p, i = params.shape.as_list(), indices.shape.as_list()
    return TensorSpec(p[:axis] + i[batch_dims:] + p[axis + 1:], params.dtype)


def _gather_grad(op, dy):
    params, indices = op.inputs
    attrs = {"shape": tuple(params.shape), "axis": op.attrs["axis"],
             "batch_dims": op.attrs["batch_dims"]}
    return execute(GATHER_GRAD, (dy, indices), attrs), None


def _gather_grad_grad(op, ddx):
    attrs = {"axis": op.attrs["axis"], "batch_dims": op.attrs["batch_dims"]}
    return execute(GATHER, (ddx, op.inputs[1]), attrs), None


GATHER = primitive("GatherV2", _gather_forward, _gather_grad, _gather_abstract)
GATHER_GRAD = primitive(
    "GatherV2Grad", _gather_grad_forward, _gather_grad_grad,
    lambda dy, indices, shape, axis, batch_dims: TensorSpec(shape, dy.dtype))


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    """Slices of `params` along `axis` at `indices` (the first `batch_dims` dims are batches)."""
    params = convert_to_tensor(params)
    indices = _index_tensor(indices, "GatherV2")
    p_rank, i_rank = _rank(params), _rank(indices)
    batch_dims = _int_scalar(batch_dims, "batch_dims")
    axis = batch_dims if axis is None else _int_scalar(axis, "axis")  # before batch_dims wraps
    if batch_dims < 0:
        batch_dims += i_rank
    if axis < 0:
        axis += p_rank
    if p_rank == 0:
        raise op_error(InvalidArgumentError, "GatherV2", "params must be at least 1 dimensional")
    if not 0 <= axis < p_rank:
        raise op_error(InvalidArgumentError, "GatherV2",
                       f"Shape must be at least rank {axis + 1} but is rank {p_rank}")
    if not 0 <= batch_dims <= i_rank or batch_dims > axis:
        raise op_error(InvalidArgumentError, "GatherV2", f"batch_dims ({batch_dims}) must be in "
                       f"[0, {i_rank}] and less than or equal to axis ({axis})")
    for d in builtins.range(batch_dims):
        if params.shape[d] != indices.shape[d]:
            raise op_error(InvalidArgumentError, "GatherV2",
                           f"params.shape[{d}]: {params.shape[d]} should be equal to "
                           f"indices.shape[{d}]: {indices.shape[d]}")
    return execute(GATHER, (params, indices), {"axis": axis, "batch_dims": batch_dims})


# -- gather_nd / scatter_nd --------------------------------------------------------------------
def _nd_locations(shape: tuple, indices, batch_dims: int, op_name: str, describe):
    """Index arrays into `shape` (batch dims flattened to one) for every index vector, checked."""
    depth = indices.shape[-1]
    total, flat, rows = _batched(shape, indices, batch_dims)
    bounds = np.asarray(shape[batch_dims:batch_dims + depth])
    count = int(np.prod(flat.shape[1:-1], dtype=np.int64))
    vectors = flat.reshape(total, count, depth)
    bad = ((vectors < 0) | (vectors >= bounds)).any(axis=-1)
    if bad.any():
        b, j = np.argwhere(bad)[0]
        vector = ([int(b)] if batch_dims else []) + vectors[b, j].tolist()
        position = int(b) * vectors.shape[1] + int(j)
        raise op_error(InvalidArgumentError, op_name, describe(position, vector))
    rows = np.broadcast_to(rows[..., 0], flat.shape[:-1])
    return total, (rows,) + tuple(np.moveaxis(flat, -1, 0))


def _gather_nd_forward(params, indices, batch_dims):
    indices = np.asarray(indices)
    shape = params.shape

    def describe(position, vector):
        return (f"indices[{position}] = [{', '.join(map(str, vector))}] does not index into param "
                f"shape [{','.join(map(str, shape))}], node name: GatherNd")
    total, where = _nd_locations(shape, indices, batch_dims, "GatherNd", describe)
    out = params.reshape((total,) + shape[batch_dims:])[where]
    return out.reshape(shape[:batch_dims] + out.shape[1:])


def _scatter_nd_forward(indices, updates, shape, batch_dims=0):
    """Sums `updates` into zeros of `shape` at `indices` (duplicates add up)."""
    indices = np.asarray(indices)
    depth = indices.shape[-1]
    expected = indices.shape[:-1] + tuple(shape[batch_dims + depth:])
    if np.shape(updates) != expected:
        raise op_error(InvalidArgumentError, "ScatterNd",
                       f"Dimensions of indices[shape={list(indices.shape)}] and output "
                       f"[shape={list(shape)}] require updates of shape {list(expected)}, got "
                       f"updates[shape={list(np.shape(updates))}]")

    def describe(position, vector):
        return (f"indices[{position}] = [{', '.join(map(str, vector))}] does not index into shape "
                f"[{','.join(map(str, shape))}]")
    total, where = _nd_locations(tuple(shape), indices, batch_dims, "ScatterNd", describe)
    updates = np.asarray(updates)
    if updates.dtype == object:  # strings: duplicates concatenate, unset elements are b""
        out = np.full(shape, b"", dtype=object)
    else:
        out = np.zeros(shape, dtype=updates.dtype)
    view = out.reshape((total,) + tuple(shape[batch_dims:]))
    np.add.at(view, where, np.reshape(updates, (total,) + np.shape(updates)[batch_dims:]))
    return out


def _gather_nd_abstract(params, indices, batch_dims):
    if params.shape.rank is None or indices.shape.rank is None or indices.shape[-1] is None:
        return TensorSpec(None, params.dtype)
    p, i = params.shape.as_list(), indices.shape.as_list()
    return TensorSpec(i[:-1] + p[batch_dims + i[-1]:], params.dtype)


GATHER_ND = primitive(
    "GatherNd", _gather_nd_forward,
    lambda op, dy: (execute(SCATTER_ND, (op.inputs[1], dy),
                            {"shape": tuple(op.inputs[0].shape),
                             "batch_dims": op.attrs["batch_dims"]}), None),
    _gather_nd_abstract)
SCATTER_ND = primitive(
    "ScatterNd", _scatter_nd_forward,
    lambda op, dy: (None, execute(GATHER_ND, (dy, op.inputs[0]),
                                  {"batch_dims": op.attrs.get("batch_dims", 0)})),
    lambda indices, updates, shape, batch_dims=0: TensorSpec(shape, updates.dtype))


def gather_nd(params, indices, batch_dims=0, name=None, bad_indices_policy=""):
    """Slices of `params` at the index vectors in the last dimension of `indices`."""
    params = convert_to_tensor(params)
    indices = _index_tensor(indices, "GatherNd")
    batch_dims = _int_scalar(batch_dims, "batch_dims")
    i_rank, p_rank = _rank(indices), _rank(params)
    if i_rank == 0:
        raise op_error(InvalidArgumentError, "GatherNd", "indices must be at least a vector")
    depth = indices.shape[-1]
    if depth + batch_dims > p_rank:
        raise op_error(InvalidArgumentError, "GatherNd", f"index innermost dimension length must be "
                       f"<= params rank; saw: {depth + batch_dims} vs. {p_rank}")
    if batch_dims >= i_rank:
        raise ValueError(f"batch_dims = {batch_dims} must be less than rank(indices) = {i_rank}")
    for d in builtins.range(batch_dims):
        if params.shape[d] != indices.shape[d]:
            raise op_error(InvalidArgumentError, "GatherNd",
                           f"params.shape[{d}] = {params.shape[d]} must equal indices.shape[{d}] = "
                           f"{indices.shape[d]} for batch_dims = {batch_dims}")
    return execute(GATHER_ND, (params, indices), {"batch_dims": batch_dims})


def _check_scatter_shapes(op_name: str, indices: Tensor, updates: Tensor, shape: tuple):
    i_shape, u_shape = tuple(indices.shape), tuple(updates.shape)
    if not i_shape:
        raise op_error(InvalidArgumentError, op_name, "indices must be at least a vector")
    depth = i_shape[-1]
    if depth > len(shape):
        raise op_error(InvalidArgumentError, op_name, f"indices.shape[-1] must be <= rank of the "
                       f"output, got {depth} for shape {list(shape)}")
    outer = len(i_shape) - 1
    if u_shape[:outer] != i_shape[:-1]:
        raise op_error(InvalidArgumentError, op_name,
                       f"Dimensions [0,{outer}) of indices[shape={list(i_shape)}] must match "
                       f"dimensions [0,{outer}) of updates[shape={list(u_shape)}]")
    if u_shape[outer:] != tuple(shape[depth:]):
        raise op_error(InvalidArgumentError, op_name,
                       f"The inner {len(shape) - depth} dimensions of output.shape={list(shape)} "
                       f"must match the inner {len(u_shape) - outer} dimensions of "
                       f"updates.shape={list(u_shape)}")


def scatter_nd(indices, updates, shape, bad_indices_policy="", name=None):
    """Zeros of `shape` with `updates` added at `indices` (duplicate indices add up)."""
    both_tensors = is_tensor_like(indices) and is_tensor_like(shape)
    indices = _index_tensor(indices, "ScatterNd")
    updates = convert_to_tensor(updates)
    if both_tensors and convert_to_tensor(shape)._dtype is not indices._dtype:
        raise dtype_mismatch("ScatterNd", 2, indices._dtype, convert_to_tensor(shape)._dtype)
    shape = shape_attr(shape)
    _check_scatter_shapes("ScatterNd", indices, updates, shape)
    return execute(SCATTER_ND, (indices, updates), {"shape": shape})


def _tensor_scatter_forward(mode):
    op_name = {"update": "TensorScatterUpdate", "add": "TensorScatterAdd",
               "sub": "TensorScatterSub", "max": "TensorScatterMax", "min": "TensorScatterMin"}[mode]

    def forward(tensor, indices, updates):
        shape = np.shape(tensor)

        def describe(position, vector):
            return (f"indices[{position}] = [{', '.join(map(str, vector))}] does not index into "
                    f"shape [{','.join(map(str, shape))}]")
        _, where = _nd_locations(shape, np.asarray(indices), 0, op_name, describe)
        where = where[1:]  # no batch dims: drop the single-batch row index
        out = np.array(tensor, copy=True)
        updates = np.reshape(updates, (-1,) + shape[np.shape(indices)[-1]:])
        where = tuple(np.reshape(w, -1) for w in where)
        if mode == "update":
            out[where] = updates
        elif mode == "add":
            np.add.at(out, where, updates)
        elif mode == "sub":
            np.subtract.at(out, where, updates)
        elif mode == "max":
            np.maximum.at(out, where, updates)
        else:
            np.minimum.at(out, where, updates)
        return out
    return forward


def _scatter_update_grad(op, dy):
    indices, updates = op.inputs[1], op.inputs[2]
    masked = execute(TENSOR_SCATTER_UPDATE, (dy, indices, zeros_like(updates)))
    return masked, None, gather_nd(dy, indices)


def _scatter_add_grad(op, dy):
    return dy, None, gather_nd(dy, op.inputs[1])


def _scatter_sub_grad(op, dy):
    from tensorweave.ops import math_ops
    return dy, None, math_ops.negative(gather_nd(dy, op.inputs[1]))


def _scatter_extremum_grad(op, dy):
    """The gradient goes to whichever of the tensor and the updates gave each output element,
    shared equally between ties."""
    from tensorweave.ops import math_ops
    tensor, indices, updates = op.inputs
    out = op.outputs[0]
    from_tensor = math_ops.cast(math_ops.equal(tensor, out), dy.dtype)
    from_updates = math_ops.cast(math_ops.equal(updates, gather_nd(out, indices)), dy.dtype)
    count = math_ops.add(from_tensor, scatter_nd(indices, from_updates, tuple(tensor.shape)))
    share = math_ops.divide(dy, count)
    return (math_ops.multiply(share, from_tensor), None,
            math_ops.multiply(gather_nd(share, indices), from_updates))


def _scatter_abstract(tensor, indices, updates):
    return TensorSpec(tensor.shape, tensor.dtype)


TENSOR_SCATTER_UPDATE = primitive("TensorScatterUpdate", _tensor_scatter_forward("update"),
                                  _scatter_update_grad, _scatter_abstract)
TENSOR_SCATTER_ADD = primitive("TensorScatterAdd", _tensor_scatter_forward("add"),
                               _scatter_add_grad, _scatter_abstract)
TENSOR_SCATTER_SUB = primitive("TensorScatterSub", _tensor_scatter_forward("sub"),
                               _scatter_sub_grad, _scatter_abstract)
TENSOR_SCATTER_MAX = primitive("TensorScatterMax", _tensor_scatter_forward("max"),
                               _scatter_extremum_grad, _scatter_abstract)
TENSOR_SCATTER_MIN = primitive("TensorScatterMin", _tensor_scatter_forward("min"),
                               _scatter_extremum_grad, _scatter_abstract)


# dtypes without a CPU kernel: sums of bool and strings, extrema of complex values too
_NO_SCATTER_ARITH = dtypes._enums(dtypes.bool, dtypes.string)
_NO_SCATTER_EXTREMUM = _NO_SCATTER_ARITH | dtypes._enums(dtypes.complex64, dtypes.complex128)


def _tensor_scatter(prim, tensor, indices, updates):
    tensor = convert_to_tensor(tensor)
    indices = _index_tensor(indices, prim.name)
    if not is_tensor_like(updates):  # a Python value takes the tensor's dtype or TypeError
        updates = convert_to_tensor(updates, dtype=tensor._dtype)
    updates = convert_to_tensor(updates)
    if updates._dtype is not tensor._dtype:
        raise dtype_mismatch(prim.name, 2, tensor._dtype, updates._dtype)
    if prim is not TENSOR_SCATTER_UPDATE:
        excluded = _NO_SCATTER_ARITH if prim in (TENSOR_SCATTER_ADD, TENSOR_SCATTER_SUB) \
            else _NO_SCATTER_EXTREMUM
        if tensor._dtype._enum in excluded:
            raise _no_kernel(prim.name, tensor._dtype)
    _check_scatter_shapes(prim.name, indices, updates, tuple(tensor.shape))
    return execute(prim, (tensor, indices, updates))


def tensor_scatter_nd_update(tensor, indices, updates, name=None):
    """A copy of `tensor` with the elements or slices at `indices` replaced by `updates`."""
    return _tensor_scatter(TENSOR_SCATTER_UPDATE, tensor, indices, updates)


def tensor_scatter_nd_add(tensor, indices, updates, bad_indices_policy="", name=None):
    """A copy of `tensor` with `updates` added at `indices` (duplicates add up)."""
    return _tensor_scatter(TENSOR_SCATTER_ADD, tensor, indices, updates)


def tensor_scatter_nd_sub(tensor, indices, updates, bad_indices_policy="", name=None):
    """A copy of `tensor` with `updates` subtracted at `indices` (duplicates add up)."""
    return _tensor_scatter(TENSOR_SCATTER_SUB, tensor, indices, updates)


def tensor_scatter_nd_max(tensor, indices, updates, bad_indices_policy="", name=None):
    """A copy of `tensor` with the elementwise maximum of it and `updates` at `indices`."""
    return _tensor_scatter(TENSOR_SCATTER_MAX, tensor, indices, updates)


def tensor_scatter_nd_min(tensor, indices, updates, bad_indices_policy="", name=None):
    """A copy of `tensor` with the elementwise minimum of it and `updates` at `indices`."""
    return _tensor_scatter(TENSOR_SCATTER_MIN, tensor, indices, updates)


# -- where -------------------------------------------------------------------------------------
def _where_forward(condition):
    if np.ndim(condition) == 0:
        raise op_error(InvalidArgumentError, "Where", "WhereOp : Unhandled input dimensions: 0")
    return np.argwhere(condition).astype(np.int64)


def _where_abstract(condition):
    count = None if condition.value is None else int(np.count_nonzero(condition.value))
    return TensorSpec([count, condition.shape.rank], dtypes.int64)


WHERE = primitive("Where", _where_forward, None, _where_abstract)


def _select_forward(condition, x, y):
    try:
        return np.where(condition, x, y)
    except ValueError:
        raise op_error(InvalidArgumentError, "SelectV2",
                       f"condition {list(np.shape(condition))}, then {list(np.shape(x))}, and else "
                       f"{list(np.shape(y))} must be broadcastable") from None


def _select_grad(op, dy):
    from tensorweave.ops.broadcast_grad import unbroadcast
    condition, x, y = op.inputs
    zero = zeros_like(dy)
    return (None, unbroadcast(execute(SELECT, (condition, dy, zero)), x),
            unbroadcast(execute(SELECT, (condition, zero, dy)), y))


def _select_abstract(condition, x, y):
    shape = broadcast_static_shape(broadcast_static_shape(condition.shape, x.shape), y.shape)
    return TensorSpec(shape, x.dtype)


SELECT = primitive("SelectV2", _select_forward, _select_grad, _select_abstract)


def where(condition, x=None, y=None, name=None):
    """With `condition` only: the int64 coordinates of its true (non-zero) elements, one row each.
    With `x` and `y`: elements of `x` where `condition` is true, of `y` elsewhere (broadcasting)."""
    if (x is None) != (y is None):
        raise ValueError("x and y must both be non-None or both be None.")
    if x is None:
        return execute(WHERE, (_where_input(condition),))
    if is_tensor_like(condition):
        condition = convert_to_tensor(condition)
        if condition._dtype is not dtypes.bool:
            raise dtype_mismatch("SelectV2", 0, dtypes.bool, condition._dtype)
    else:
        condition = convert_to_tensor(condition, dtype=dtypes.bool)
    # The first tensor among x and y sets the dtype (else x's own); a Python value that cannot
    # take it is a TypeError, a tensor of another dtype an InvalidArgumentError.
    if is_tensor_like(x) or not is_tensor_like(y):
        x = convert_to_tensor(x)
        dtype = x._dtype
        y = convert_to_tensor(y) if is_tensor_like(y) else convert_to_tensor(y, dtype=dtype)
    else:
        y = convert_to_tensor(y)
        dtype = y._dtype
        x = convert_to_tensor(x, dtype=dtype)
    if x._dtype is not y._dtype:
        raise dtype_mismatch("SelectV2", 2, x._dtype, y._dtype)
    return execute(SELECT, (condition, x, y))


def _where_input(condition) -> Tensor:
    condition = convert_to_tensor(condition)
    if condition._dtype is dtypes.string:
        raise _attr_error("Where", "T", condition._dtype, "float, double, int32, uint8, int16, "
                          "int8, complex64, int64, bfloat16, uint16, complex128, half, uint32, "
                          "uint64, bool")
    if condition._dtype is dtypes.float16:
        raise op_error(UnimplementedError, "Where", "No WhereOp available for float16/half type on "
                       "CPU; dying in CPU WhereOp to avoid silently creating costly copies from "
                       "device.")
    return condition


# -- boolean_mask ------------------------------------------------------------------------------
def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """The elements (or slices along `axis`) of `tensor` where `mask` is true, in a new leading
    dimension (composite: reshape, where, gather; the gradient flows through gather)."""
    tensor = convert_to_tensor(tensor)
    mask = convert_to_tensor(mask)
    m_rank = _rank(mask)
    if m_rank == 0:
        raise ValueError("mask cannot be scalar.")
    axis = 0 if axis is None else _int_scalar(axis, "axis")
    rank = _rank(tensor)
    # TensorFlow slices shape[axis:axis + rank(mask)] with the axis as given: a negative axis
    # whose slice runs past the end covers nothing and the shapes then disagree.
    covered = tensor.shape[axis:axis + m_rank]
    if not covered.is_compatible_with(mask.shape):
        raise ValueError(f"Shapes {tuple(covered)} and {tuple(mask.shape)} are incompatible")
    if axis < 0:
        axis += rank
    dims = list(tensor.shape)
    flat_shape = dims[:axis] + [int(np.prod(dims[axis:axis + m_rank], dtype=np.int64))] + \
        dims[axis + m_rank:]
    flat = reshape(tensor, flat_shape)
    positions = reshape(execute(WHERE, (reshape(mask, [-1]),)), [-1])
    return gather(flat, positions, axis=axis)


# -- slicing and indexing ----------------------------------------------------------------------
def _strided_slice_forward(x, key):
    try:
        out = x[key]
    except IndexError:
        raise indexing.index_error(np.shape(x), key) from None
    return _as_array(out, x)


def _strided_slice_grad(op, dy):
    x = op.inputs[0]
    if not x.shape.is_fully_defined():  # in a graph with unknown dims: zeros shaped at run time
        return execute(STRIDED_SLICE_GRAD_LIKE, (dy, x), {"key": op.attrs["key"]})
    return execute(STRIDED_SLICE_GRAD, (dy,), {"shape": tuple(x.shape), "key": op.attrs["key"]})


def _strided_slice_grad_forward(dy, shape, key):
    """The adjoint of slicing: `dy` written into zeros of the input's shape at `key`."""
    out = np.zeros(shape, dtype=dy.dtype)
    out[key] = dy
    return out


STRIDED_SLICE = primitive(
    "StridedSlice", _strided_slice_forward, _strided_slice_grad,
    lambda x, key: TensorSpec(indexing.sliced_shape(x.shape, key), x.dtype))
STRIDED_SLICE_GRAD = primitive(
    "StridedSliceGrad", _strided_slice_grad_forward,
    lambda op, ddx: execute(STRIDED_SLICE, (ddx,), {"key": op.attrs["key"]}),
    lambda dy, shape, key: TensorSpec(shape, dy.dtype))


STRIDED_SLICE_GRAD_LIKE = primitive(
    "StridedSliceGradLike",
    lambda dy, like, key: _strided_slice_grad_forward(dy, np.shape(like), key),
    lambda op, ddx: (execute(STRIDED_SLICE, (ddx,), {"key": op.attrs["key"]}), None),
    lambda dy, like, key: TensorSpec(like.shape, dy.dtype))


def getitem(tensor, key):
    """`tensor[key]`: ints, slices, `...`, tf.newaxis and scalar integer tensors (a boolean
    tensor as the whole key is a mask, as in TensorFlow)."""
    x = tensor if type(tensor) is Tensor else convert_to_tensor(tensor)
    if indexing.is_boolean_mask(key):
        return boolean_mask(x, key)
    return execute(STRIDED_SLICE, (x,), {"key": indexing.parse_key(key)})


def getitem_variable(variable, key):
    """`variable[key]`: a read of the variable, sliced; `variable[key].assign(value)` works."""
    x = convert_to_tensor(variable)
    if indexing.is_boolean_mask(key):
        return boolean_mask(x, key)
    numpy_key = indexing.parse_key(key)
    result = execute(STRIDED_SLICE, (x,), {"key": numpy_key})
    result._variable_slice = (variable, numpy_key)
    return result


def strided_slice(input_, begin, end, strides=None, begin_mask=0, end_mask=0, ellipsis_mask=0,
                  new_axis_mask=0, shrink_axis_mask=0, var=None, name=None):
    """The strided slice of `input_` from `begin` to `end` by `strides`, with TensorFlow's masks."""
    x = convert_to_tensor(input_)
    begin, end = int_list(begin), int_list(end)
    strides = [1] * len(begin) if strides is None else int_list(strides)
    key = indexing.masks_to_key(begin, end, strides, begin_mask, end_mask, ellipsis_mask,
                                new_axis_mask, shrink_axis_mask)
    return execute(STRIDED_SLICE, (x,), {"key": key})


def _index_pair(first, second, op_name: str, attr: str) -> tuple:
    """Two index vectors of one op (begin and size, shift and axis) as int lists, with
    TensorFlow's checks: each int32 or int64 (an empty Python list is float32), the same dtype."""
    if type(first) is list and type(second) is list and first and second \
            and all(type(v) is int for v in first + second):
        return first, second  # the common call: Python ints, converted alike
    known = next((convert_to_tensor(v)._dtype for v in (first, second) if is_tensor_like(v)), None)
    tensors = []
    for value in (first, second):
        if not is_tensor_like(value) and isinstance(value, (list, tuple)) and not value:
            if known is None:
                raise _attr_error(op_name, attr, dtypes.float32, "int32, int64")
            value = np.zeros([0], dtype=known.as_numpy_dtype)
        tensors.append(convert_to_tensor(value))
    for t in tensors:
        if t._dtype._enum not in _INT_ATTR:
            raise _attr_error(op_name, attr, t._dtype, "int32, int64")
    if tensors[1]._dtype is not tensors[0]._dtype:
        if is_tensor_like(first) and is_tensor_like(second):
            raise dtype_mismatch(op_name, 2, tensors[0]._dtype, tensors[1]._dtype)
    return int_list(tensors[0]), int_list(tensors[1])


def slice(input_, begin, size, name=None):  # noqa: A001 - TensorFlow's name
    """The block of `input_` starting at `begin` with extent `size` (-1: to the end)."""
    x = convert_to_tensor(input_)
    begin, size = _index_pair(begin, size, "Slice", "Index")
    shape = tuple(x.shape)
    if not len(begin) == len(size) == len(shape):
        raise op_error(InvalidArgumentError, "Slice", f"Expected begin and size arguments to be 1-D "
                       f"tensors of size {len(shape)}, but got shapes [{len(begin)}] and "
                       f"[{len(size)}] instead.")
    key = []
    for i, (b, s, d) in enumerate(zip(begin, size, shape)):
        if not 0 <= b <= d:
            raise op_error(InvalidArgumentError, "Slice", f"Expected begin[{i}] in [0, {d}], but got {b}")
        if s == -1:
            s = d - b
        if not 0 <= s <= d - b:
            raise op_error(InvalidArgumentError, "Slice",
                           f"Expected size[{i}] in [0, {d - b}], but got {s}")
        key.append(builtins.slice(b, b + s))
    return execute(STRIDED_SLICE, (x,), {"key": tuple(key)})


# -- reverse / roll / transpose ----------------------------------------------------------------
REVERSE = primitive("ReverseV2", lambda x, axis: np.flip(x, axis) if axis else x,
                    lambda op, dy: execute(REVERSE, (dy,), op.attrs), shape_rules.same_as_input)


def reverse(tensor, axis, name=None):
    """`tensor` with the order of elements reversed along each dimension in `axis`."""
    x = convert_to_tensor(tensor)
    if isinstance(axis, (int, np.integer)) or (is_tensor_like(axis) and convert_to_tensor(axis).shape.rank == 0):
        raise op_error(InvalidArgumentError, "ReverseV2", "'dims' must be 1-dimension, not 0")
    rank = _rank(x)
    axes = []
    axes_given = int_list(axis, "ReverseV2", "Tidx") \
        if not (isinstance(axis, (list, tuple)) and not axis) else []
    for i, a in enumerate(axes_given):
        if not -rank <= a < rank:
            raise op_error(InvalidArgumentError, "ReverseV2",
                           f"'axis'[{i}] = {a} is out of valid range [0, {rank - 1}")
        if a % rank in axes:
            raise op_error(InvalidArgumentError, "ReverseV2", f"axis {a % rank} specified more than once.")
        axes.append(a % rank)
    return execute(REVERSE, (x,), {"axis": tuple(axes)})


ROLL = primitive("Roll", lambda x, shift, axis: np.roll(x, shift, axis) if axis else x,
                 lambda op, dy: execute(ROLL, (dy,), {"shift": tuple(-s for s in op.attrs["shift"]),
                                                      "axis": op.attrs["axis"]}),
                 shape_rules.same_as_input)


def roll(input, shift, axis, name=None):  # noqa: A002
    """`input` with elements shifted by `shift` places along `axis` (wrapping around)."""
    x = convert_to_tensor(input)
    if isinstance(shift, (list, tuple)) and not shift:  # float32 in TensorFlow
        raise _attr_error("Roll", "Tshift", dtypes.float32, "int32, int64")
    if isinstance(axis, (list, tuple)) and not axis:
        raise _attr_error("Roll", "Taxis", dtypes.float32, "int32, int64")
    shifts, axes = int_list(shift, "Roll", "Tshift"), int_list(axis, "Roll", "Taxis")
    if len(shifts) != len(axes):
        raise op_error(InvalidArgumentError, "Roll", "shift and axis must have the same size")
    rank = _rank(x)
    for a in axes:
        if not -rank <= a < rank:
            raise op_error(InvalidArgumentError, "Roll", f"axis {a} is out of range")
    return execute(ROLL, (x,), {"shift": tuple(shifts), "axis": tuple(a % rank for a in axes)})


def _inverse_perm(perm) -> tuple:
    inverse = [0] * len(perm)
    for i, p in enumerate(perm):
        inverse[p] = i
    return tuple(inverse)


def _transpose_abstract(x, perm):
    if x.shape.rank is None:
        return TensorSpec([None] * len(perm), x.dtype)
    dims = x.shape.as_list()
    return TensorSpec([dims[p] for p in perm], x.dtype)


TRANSPOSE = primitive(
    "Transpose", lambda x, perm: np.transpose(x, perm),
    lambda op, dy: execute(TRANSPOSE, (dy,), {"perm": _inverse_perm(op.attrs["perm"])}),
    _transpose_abstract)
CONJUGATE_TRANSPOSE = primitive(
    "ConjugateTranspose", lambda x, perm: np.conj(np.transpose(x, perm)),
    lambda op, dy: execute(CONJUGATE_TRANSPOSE, (dy,), {"perm": _inverse_perm(op.attrs["perm"])}),
    _transpose_abstract)


def transpose(a, perm=None, conjugate=False, name="transpose"):
    """`a` with its dimensions permuted by `perm` (reversed by default); `conjugate=True` also
    conjugates complex values."""
    x = convert_to_tensor(a)
    rank = _rank(x)
    op_name = "ConjugateTranspose" if conjugate and x._dtype.is_complex else "Transpose"
    if perm is None:
        perm = tuple(builtins.range(rank - 1, -1, -1))
    else:
        perm = int_list(perm)
        if len(perm) != rank:
            raise op_error(InvalidArgumentError, op_name, f"transpose expects a vector of size "
                           f"{rank}. But input(1) is a vector of size {len(perm)}")
        for p in perm:
            if not -rank <= p < rank:
                raise op_error(InvalidArgumentError, op_name, f"{p} is out of range [0 .. {rank})")
        perm = tuple(p % rank for p in perm)
        for d in builtins.range(rank):
            if d not in perm:
                raise op_error(InvalidArgumentError, op_name, f"{d} is missing from "
                               f"{{{','.join(map(str, perm))}}}.")
    prim = CONJUGATE_TRANSPOSE if op_name == "ConjugateTranspose" else TRANSPOSE
    return execute(prim, (x,), {"perm": perm})


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    """`a` with its last two dimensions swapped (a batch of matrices transposed)."""
    x = convert_to_tensor(a)
    rank = _rank(x)
    if rank < 2:
        raise ValueError(f"Argument `a` should be a (batch) matrix with rank >= 2.  Received `a` = "
                         f"{x} with shape: {tuple(x.shape)}")
    perm = list(builtins.range(rank - 2)) + [rank - 1, rank - 2]
    return transpose(x, perm, conjugate=conjugate)


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
_ONE_HOT_INDEX = dtypes._enums(dtypes.uint8, dtypes.int8, dtypes.int32, dtypes.int64)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """A one-hot tensor: `on_value` where the new axis equals `indices`, `off_value` elsewhere
    (an index out of [0, depth) gives a row of `off_value`)."""
    # `TI` defaults to int64: an empty Python list is int64 indices, not float32
    indices = convert_to_tensor(indices, dtype_hint=dtypes.int64) \
        if isinstance(indices, (list, tuple)) else convert_to_tensor(indices)
    if indices._dtype._enum not in _ONE_HOT_INDEX:
        raise _attr_error("OneHot", "TI", indices._dtype, "uint8, int8, int32, int64")
    given = {}
    for label, value in (("on_value", on_value), ("off_value", off_value)):
        if value is not None:
            given[label] = convert_to_tensor(value) if is_tensor_like(value) or dtype is None \
                else convert_to_tensor(value, dtype_hint=dtype)
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        for label, value in given.items():
            if value._dtype is not dtype:
                raise TypeError(f"dtype {value._dtype} of {label} does not match dtype parameter {dtype}")
    elif given:
        found = list(given.items())
        if len(found) == 2 and found[0][1]._dtype is not found[1][1]._dtype:
            raise TypeError(f"dtype {found[0][1]._dtype} of on_value does not match dtype "
                            f"{found[1][1]._dtype} of off_value")
        dtype = found[0][1]._dtype
    else:
        dtype = dtypes.float32
    on = given["on_value"].numpy() if "on_value" in given else convert_to_tensor(1, dtype=dtype).numpy()
    off = given["off_value"].numpy() if "off_value" in given else convert_to_tensor(0, dtype=dtype).numpy()
    rank = _rank(indices)
    axis = -1 if axis is None else int(axis)
    if not (axis == -1 or 0 <= axis <= rank):
        raise op_error(InvalidArgumentError, "OneHot", f"Expected axis to be -1 or between "
                       f"[0, {rank + 1}).  But received: {axis}")
    depth = _int_scalar(depth, "depth")
    if depth < 0:
        raise op_error(InvalidArgumentError, "OneHot", f"depth must be non-negative, got: {depth}")
    return execute(ONE_HOT, (indices,), {"depth": depth, "on_value": on,
                                         "off_value": off, "axis": axis, "dtype": dtype})


# -- range / linspace / meshgrid ---------------------------------------------------------------
def _range_forward(start, limit, delta, *, dtype):
    start, limit, delta = (np.asarray(v).item() for v in (start, limit, delta))
    np_dtype = dtype.as_numpy_dtype
    if delta == 0:
        raise op_error(InvalidArgumentError, "Range", f"Requires delta != 0: {delta}")
    if delta > 0 and start > limit:
        raise op_error(InvalidArgumentError, "Range",
                       f"Requires start <= limit when delta > 0: {start}/{limit}")
    if delta < 0 and start < limit:
        raise op_error(InvalidArgumentError, "Range",
                       f"Requires start >= limit when delta < 0: {start}/{limit}")
    start, limit, delta = np_dtype(start), np_dtype(limit), np_dtype(delta)
    if dtype.is_integer:
        size = (abs(int(limit) - int(start)) + abs(int(delta)) - 1) // abs(int(delta))
    else:
        with np.errstate(all="ignore"):
            size = int(np.ceil(np.abs((limit - start) / delta)))
    # start + i * delta in the output dtype (not accumulated), as TensorFlow computes it
    return start + np.arange(size).astype(np_dtype) * delta


def _range_abstract(start, limit, delta, *, dtype):
    if start.value is None or limit.value is None or delta.value is None:
        return TensorSpec([None], dtype)  # bounds known when the graph runs
    return TensorSpec([_range_forward(start.value, limit.value, delta.value, dtype=dtype)
                       .shape[0]], dtype)


RANGE = primitive("Range", _range_forward, None, _range_abstract)
_RANGE_ORDER = (dtypes.int32, dtypes.int64, dtypes.float16, dtypes.bfloat16, dtypes.float32,
                dtypes.float64)
_RANGE_DTYPES = dtypes._enums(dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64,
                              dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64, dtypes.uint16,
                              dtypes.uint32, dtypes.uint64)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    """The sequence start, start + delta, ... up to but excluding `limit` (int32 for Python ints,
    float32 for Python floats, the tensors' dtype for tensors)."""
    if limit is None:
        start, limit = 0, start
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
        values = [convert_to_tensor(v) if is_tensor_like(v) else convert_to_tensor(v, dtype=dtype)
                  for v in (start, limit, delta)]
    else:
        values = [convert_to_tensor(v) for v in (start, limit, delta)]
        for v in values:  # TensorFlow asserts that it can order the dtypes
            if v._dtype not in _RANGE_ORDER:
                raise AssertionError(f"tf.range infers its dtype only from int32, int64, "
                                     f"float16, bfloat16, float32, float64, not {v._dtype.name}")
        dtype = builtins.max((v._dtype for v in values), key=_RANGE_ORDER.index)
    if dtype._enum not in _RANGE_DTYPES:
        raise _attr_error("Range", "Tidx", dtype, "bfloat16, half, float, double, int8, int16, "
                          "int32, int64, uint16, uint32, uint64")
    if dtype not in _RANGE_ORDER:  # declared for Range, but no CPU kernel
        raise _no_kernel("Range", dtype)
    return execute(RANGE, tuple(values), {"dtype": dtype})


def _linspace_forward(start, stop, num, axis):
    # [start, start + i * delta for 0 < i < num - 1, stop], in the dtype: TensorFlow's values
    start, stop = np.broadcast_arrays(start, stop)
    dtype = start.dtype
    delta = (stop - start) / dtype.type(builtins.max(num - 1, 1))
    steps = np.arange(1, builtins.max(num - 1, 1), dtype=dtype).reshape((-1,) + (1,) * start.ndim)
    out = np.concatenate([start[None], start[None] + steps * delta[None], stop[None]])[:num]
    return np.moveaxis(out.astype(dtype), 0, axis)


def _linspace_grad(op, dy):
    from tensorweave.ops import math_ops, reduction_ops
    from tensorweave.ops.broadcast_grad import unbroadcast
    start, stop = op.inputs
    num, axis = op.attrs["num"], op.attrs["axis"]
    rank = len(dy.shape)
    shape = [1] * rank
    shape[axis] = num
    t = reshape(math_ops.divide(range(num, dtype=dy.dtype), builtins.max(num - 1, 1)), shape)
    d_stop = reduction_ops.reduce_sum(math_ops.multiply(dy, t), axis=axis)
    d_start = math_ops.subtract(reduction_ops.reduce_sum(dy, axis=axis), d_stop)
    return unbroadcast(d_start, start), unbroadcast(d_stop, stop)


def _linspace_abstract(start, stop, num, axis):
    shape = broadcast_static_shape(start.shape, stop.shape)
    if shape.rank is None:
        return TensorSpec(None, start.dtype)
    dims = shape.as_list()
    dims.insert(axis, num)
    return TensorSpec(dims, start.dtype)


LINSPACE = primitive("LinSpace", _linspace_forward, _linspace_grad, _linspace_abstract)


def linspace(start, stop, num, name=None, axis=0):
    """`num` evenly spaced values from `start` to `stop` inclusive, along a new `axis`
    (start and stop may be tensors, broadcast together; integers give float64)."""
    start = convert_to_tensor(start)
    stop = convert_to_tensor(stop, dtype=start._dtype)  # TypeError for a Python value that cannot
    if start._dtype.is_integer:
        # integers divide as tf.math.truediv does: up to 16 bits in float32, wider in float64
        from tensorweave.ops import math_ops
        wide = start._dtype.size > 2
        dtype = dtypes.float64 if wide else dtypes.float32
        start, stop = math_ops.cast(start, dtype), math_ops.cast(stop, dtype)
    if not (start._dtype.is_floating or start._dtype.is_complex):
        raise _attr_error("LinSpace", "T", start._dtype, "bfloat16, half, float, double")
    num = _int_scalar(num, "num")
    if num < 0:
        raise op_error(InvalidArgumentError, "LinSpace", f"Requires num >= 0: {num}")
    rank = len(broadcast_static_shape(start.shape, stop.shape)) + 1
    if not -rank <= axis < rank:
        raise op_error(InvalidArgumentError, "LinSpace", f"axis {axis} is out of range for a result "
                       f"of rank {rank}")
    return execute(LINSPACE, (start, stop), {"num": num, "axis": axis % rank})


def meshgrid(*args, **kwargs):
    """Coordinate grids from 1-D coordinate vectors; `indexing='xy'` (default, Cartesian: the
    first two output dimensions swapped) or `'ij'` (matrix)."""
    indexing_mode = kwargs.pop("indexing", "xy")
    kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"'{next(iter(kwargs))}' is an invalid keyword argument for this function")
    if indexing_mode not in ("xy", "ij"):
        raise ValueError(f"Argument `indexing` parameter must be either 'xy' or 'ij', got "
                         f"'{indexing_mode}'")
    if not args:
        return []
    tensors = [reshape(t, [-1]) for t in (convert_to_tensor(a) for a in args)]
    for i, t in enumerate(tensors):
        if t._dtype is not tensors[0]._dtype:
            raise dtype_mismatch("Mul", 1, tensors[0]._dtype, t._dtype)
    if tensors[0]._dtype is dtypes.string:  # TensorFlow broadcasts by multiplying with ones
        raise TypeError("Cannot convert 1 to EagerTensor of dtype string")
    sizes = [t.shape[0] for t in tensors]
    n = len(tensors)
    out_shape = list(sizes)
    axes = list(builtins.range(n))
    if indexing_mode == "xy" and n > 1:
        out_shape[0], out_shape[1] = out_shape[1], out_shape[0]
        axes[0], axes[1] = 1, 0
    outputs = []
    for t, a in zip(tensors, axes):
        shape = [1] * n
        shape[a] = -1
        outputs.append(broadcast_to(reshape(t, shape), out_shape))
    return outputs


# -- shape queries -----------------------------------------------------------------------------
def _shape_abstract(x, out_type):
    rank = x.shape.rank
    known = np.array(x.shape.as_list(), dtype=out_type.as_numpy_dtype) \
        if x.shape.is_fully_defined() else None
    return TensorSpec([rank], out_type, value=known)


SHAPE = primitive("Shape", lambda x, out_type: np.array(np.shape(x), dtype=out_type.as_numpy_dtype),
                  None, _shape_abstract)
SIZE = primitive("Size", lambda x, out_type: out_type.as_numpy_dtype(np.size(x)), None,
                 lambda x, out_type: TensorSpec([], out_type))
RANK = primitive("Rank", lambda x: np.int32(np.ndim(x)), None,
                 lambda x: TensorSpec([], dtypes.int32))


def _out_type(out_type, op_name: str) -> dtypes.DType:
    out_type = dtypes.int32 if out_type is None else dtypes.as_dtype(out_type)
    if out_type not in _OUT_TYPES:
        raise _attr_error(op_name, "out_type", out_type, "int32, int64")
    return out_type


def shape(input, out_type=None, name=None):  # noqa: A002
    """The shape of `input` as a 1-D integer tensor (int32 unless `out_type` says int64)."""
    return execute(SHAPE, (convert_to_tensor(input),), {"out_type": _out_type(out_type, "Shape")})


def size(input, out_type=None, name=None):  # noqa: A002
    """The number of elements of `input` as a scalar integer tensor."""
    # Eager TensorFlow makes the count a constant of `out_type`: any dtype a number converts to.
    out_type = dtypes.int32 if out_type is None else dtypes.as_dtype(out_type)
    if out_type is dtypes.string:
        raise TypeError(f"Cannot convert {convert_to_tensor(input).shape.num_elements()} to "
                        f"EagerTensor of dtype string")
    return execute(SIZE, (convert_to_tensor(input),), {"out_type": out_type})


def rank(input, name=None):  # noqa: A002
    """The number of dimensions of `input` as a scalar int32 tensor."""
    return execute(RANK, (convert_to_tensor(input),))


# -- identity, stop_gradient, ensure_shape -----------------------------------------------------
IDENTITY = primitive("Identity", lambda x: x, lambda op, dy: dy, shape_rules.same_as_input)
STOP_GRADIENT = primitive("StopGradient", lambda x: x, None, shape_rules.same_as_input)


def identity(input, name=None):  # noqa: A002
    """A new tensor with the value of `input` (a new node on the tape)."""
    return execute(IDENTITY, (convert_to_tensor(input),))


def stop_gradient(input, name=None):  # noqa: A002
    """`input` unchanged, but no gradient flows back through it."""
    return execute(STOP_GRADIENT, (convert_to_tensor(input),))


def _ensure_shape_forward(x, shape):
    if not TensorShape(np.shape(x)).is_compatible_with(shape):
        expected = "<unknown>" if shape.rank is None else \
            "[" + ",".join("?" if d is None else str(d) for d in shape) + "]"
        raise op_error(InvalidArgumentError, "EnsureShape",
                       f"Shape of tensor input [{','.join(map(str, np.shape(x)))}] is not "
                       f"compatible with expected shape {expected}.")
    return x


ENSURE_SHAPE = primitive(
    "EnsureShape", _ensure_shape_forward, lambda op, dy: dy,
    lambda x, shape: TensorSpec(x.shape.merge_with(shape) if x.shape.is_compatible_with(shape)
                                else shape, x.dtype))


def ensure_shape(x, shape, name=None):
    """`x` unchanged if its shape is compatible with `shape` (None: any size), else
    InvalidArgumentError."""
    return execute(ENSURE_SHAPE, (convert_to_tensor(x),), {"shape": as_shape(shape)})


# -- repeat / sequence_mask / searchsorted -----------------------------------------------------
def _repeat_forward(x, repeats, axis):
    return np.repeat(x, repeats, axis=axis)


def _repeat_grad(op, dy):
    x = op.inputs[0]
    axis = op.attrs["axis"]
    positions = execute(REPEAT, (range(x.shape[axis]),), {"repeats": op.attrs["repeats"], "axis": 0})
    return execute(GATHER_GRAD, (dy, positions), {"shape": tuple(x.shape), "axis": axis,
                                                  "batch_dims": 0})


def _repeat_abstract(x, repeats, axis):
    if x.shape.rank is None:
        return TensorSpec(None, x.dtype)
    dims = x.shape.as_list()
    if isinstance(repeats, int):
        dims[axis] = None if dims[axis] is None else dims[axis] * repeats
    else:
        dims[axis] = int(builtins.sum(repeats))
    return TensorSpec(dims, x.dtype)


REPEAT = primitive("Repeat", _repeat_forward, _repeat_grad, _repeat_abstract)


def repeat(input, repeats, axis=None, name=None):  # noqa: A002
    """Each slice of `input` along `axis` repeated `repeats` times (a count for all, or one per
    slice); with `axis=None` the flattened input."""
    x = convert_to_tensor(input)
    r = convert_to_tensor(repeats)
    if not r._dtype.is_integer:
        raise TypeError(f"Argument `tensor` (name: repeats) must be of type integer. Received "
                        f"`tensor` = {repeats} of dtype: {r._dtype}")
    if r.shape.rank > 1:
        raise ValueError(f"Shape {tuple(r.shape)} must have rank at most 1")
    if axis is None:
        x = reshape(x, [-1])
        axis = 0
    rank = _rank(x)
    axis = _int_scalar(axis, "axis")
    if not -rank <= axis < rank:
        raise ValueError(f"axis={axis} out of bounds: expected {-rank}<=axis<{rank}")
    axis %= rank
    if x._dtype is dtypes.uint16:  # TensorFlow repeats with Tile, which has no uint16 kernel
        raise op_error(UnimplementedError, "Tile", f"TileOp : The input data type is not "
                       f"supported, DataType : uint16, Dimension : {rank + 1}")
    counts = [builtins.max(int(c), 0) for c in np.reshape(r.numpy(), -1)]
    n = x.shape[axis]
    if r.shape.rank == 1 and len(counts) != 1:
        if len(counts) != n:
            raise ValueError(f"Dimensions {n} and {len(counts)} are not compatible")
        attr = tuple(counts)
    else:
        attr = counts[0]
    return execute(REPEAT, (x,), {"repeats": attr, "axis": axis})


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """mask[i..., j] = j < lengths[i...], for j in [0, maxlen) (maxlen: the largest length)."""
    from tensorweave.ops import math_ops, reduction_ops
    lengths = convert_to_tensor(lengths)
    if maxlen is None:
        maxlen = reduction_ops.reduce_max(lengths) if lengths.shape.num_elements() else 0
    elif is_tensor_like(maxlen) or not isinstance(maxlen, int):
        m = convert_to_tensor(maxlen)
        if m.shape.rank != 0:
            raise ValueError(f"Argument `maxlen` must be scalar for sequence_mask, received "
                             f"`maxlen` = {maxlen} with shape '{tuple(m.shape)}' instead")
    positions = range(0, maxlen, 1, dtype=lengths._dtype)
    mask = math_ops.less(positions, expand_dims(lengths, -1))
    dtype = dtypes.as_dtype(dtype)
    return mask if dtype is dtypes.bool else math_ops.cast(mask, dtype)


def _searchsorted_forward(side):
    op_name = "LowerBound" if side == "left" else "UpperBound"

    def forward(sorted_inputs, values, out_type):
        if np.ndim(sorted_inputs) < 1 or np.ndim(values) < 1:
            raise op_error(InvalidArgumentError, op_name, "sorted_inputs and values must be at least "
                           "1-D")
        rows = np.reshape(sorted_inputs, (-1, np.shape(sorted_inputs)[-1]))
        vals = np.reshape(values, (-1, np.shape(values)[-1]))
        if rows.shape[0] != vals.shape[0]:
            raise op_error(InvalidArgumentError, op_name, "Leading dim_size of both tensors must match.")
        out = np.empty(vals.shape, dtype=out_type.as_numpy_dtype)
        for i in builtins.range(rows.shape[0]):
            out[i] = np.searchsorted(rows[i], vals[i], side=side)
        return out.reshape(np.shape(values))
    return forward


def _searchsorted_abstract(sorted_inputs, values, out_type):
    return TensorSpec(values.shape, out_type)


_NO_SEARCH_KERNEL = dtypes._enums(dtypes.bool, dtypes.complex64, dtypes.complex128, dtypes.string)
LOWER_BOUND = primitive("LowerBound", _searchsorted_forward("left"), None, _searchsorted_abstract)
UPPER_BOUND = primitive("UpperBound", _searchsorted_forward("right"), None, _searchsorted_abstract)


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """For each value, the index in the innermost dimension of `sorted_sequence` where it would
    be inserted to keep it sorted (`side='left'`: before equal elements, `'right'`: after)."""
    from tensorweave.framework.convert import binary_operands
    if side not in ("left", "right"):
        raise ValueError(f"Argument `side` must be either 'right' or 'left'. Received: `side` = "
                         f"'{side}'.")
    op_name = "LowerBound" if side == "left" else "UpperBound"
    sorted_sequence, values = binary_operands(op_name, sorted_sequence, values)
    if sorted_sequence._dtype._enum in _NO_SEARCH_KERNEL:
        raise _no_kernel(op_name, sorted_sequence._dtype)
    out_type = dtypes.as_dtype(out_type)
    if out_type not in _OUT_TYPES:
        raise _attr_error(op_name, "out_type", out_type, "int32, int64")
    prim = LOWER_BOUND if side == "left" else UPPER_BOUND
    return execute(prim, (sorted_sequence, values), {"out_type": out_type})


_convert_module.symbolic_pack = _symbolic_pack
