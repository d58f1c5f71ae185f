"""tf.TensorArray: a list of same-dtype tensors that flows through ops, graphs, loops and tapes.

A TensorArray is a small Python object with the static facts (dtype, element shape, whether it
may grow, its size when known) and one `tf.variant` tensor, its `flow`, whose value is a
`VariantValue` holding an immutable `_ListValue`: a tuple of per-index arrays (None where nothing
was written). Every operation is a primitive on that handle (TensorFlow's TensorList ops), so the
same code runs eagerly, inside a traced graph and inside while loops, and a tape differentiates it:
the gradient of a handle is a handle whose items are the gradients of the items (None = zero).

Eagerly, TensorFlow's TensorArray is a mutable Python list: `write` changes the array and returns
it. This one does the same when eager (it moves its own flow to the new handle and returns itself),
and is functional while a graph is traced (a new TensorArray per write, as TensorFlow's graph one).
The eager checks and messages are TensorFlow's eager ones; the primitives raise the TensorList ones.
"""
from __future__ import annotations

import operator

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import state
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.errors import InvalidArgumentError, OutOfRangeError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape, as_shape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variant import VariantValue

_HANDLE_SPEC = TensorSpec([], dtypes.variant)


class _ListValue:
    """The payload of a TensorArray handle. Never changed once built: forwards make new ones.

    `items`: a tuple of arrays, None where unwritten (in a gradient: where the gradient is zero);
    `dtype`: the element tf.DType; `shape`: the element shape the list was made with (a tuple
    with None for unknown dims, or None for unknown rank); `cleared`: indices an eager read with
    clear_after_read emptied (reading them again is an error).
    """

    __slots__ = ("items", "dtype", "shape", "cleared")

    def __init__(self, items: tuple, dtype, shape, cleared=frozenset()):
        self.items = items
        self.dtype = dtype
        self.shape = shape
        self.cleared = cleared

    def replace(self, items: tuple, cleared=None) -> VariantValue:
        return VariantValue(_ListValue(items, self.dtype, self.shape,
                                       self.cleared if cleared is None else cleared))

    def __add__(self, other: "_ListValue") -> "_ListValue":
        """Item by item (None = zero): how two gradients of one list are summed."""
        n = max(len(self.items), len(other.items))
        xs = self.items + (None,) * (n - len(self.items))
        ys = other.items + (None,) * (n - len(other.items))
        items = tuple(p if q is None else q if p is None else np.add(p, q)
                      for p, q in zip(xs, ys))
        return _ListValue(items, self.dtype, _merge(self.shape, other.shape))

    def zeros_like(self) -> "_ListValue":
        """A list of the same length whose items are all zero (None)."""
        return _ListValue((None,) * len(self.items), self.dtype, self.shape)

    def __repr__(self):
        return f"<TensorList {self.dtype.name} of {len(self.items)}>"


# -- shapes as tensors: -1 for an unknown dimension, a scalar -1 for an unknown rank -------------
def _encode_shape(shape: TensorShape) -> np.ndarray:
    if shape.rank is None:
        return np.array(-1, dtype=np.int32)
    return np.array([-1 if d is None else d for d in shape.as_list()], dtype=np.int32)


def _decode_shape(value):
    """A shape tensor's value as a tuple (None for unknown dims), or None for an unknown rank."""
    value = np.asarray(value)
    if value.ndim == 0:
        return None
    return tuple(None if int(d) < 0 else int(d) for d in value.reshape(-1))


def _spec_shape(spec: TensorSpec) -> TensorShape:
    """The element shape an encoded-shape input describes while only its spec is known."""
    if spec.value is not None:
        return TensorShape(_decode_shape(spec.value))
    if spec.shape.rank == 1 and spec.shape[0] is not None:
        return TensorShape([None] * spec.shape[0])
    return TensorShape(None)


def _merge(a, b):
    """Two partial shapes (tuples or None) merged; None when they conflict."""
    if a is None:
        return b
    if b is None:
        return a
    if len(a) != len(b):
        return None
    out = []
    for x, y in zip(a, b):
        if x is not None and y is not None and x != y:
            return None
        out.append(x if x is not None else y)
    return tuple(out)


def _known(shape) -> bool:
    return shape is not None and None not in shape


def _text(shape) -> str:
    return "<unknown>" if shape is None else "[" + ",".join(
        "?" if d is None else str(d) for d in shape) + "]"


def _zeros(shape: tuple, dtype):
    if dtype is dtypes.string:
        return np.full(shape, b"", dtype=object)
    arr = np.zeros(shape, dtype=dtype._np)
    return arr[()] if arr.ndim == 0 else arr


def _set_shape(items: tuple, op_name: str):
    """The shape the written items share, or None when none is written."""
    found, first = None, None
    for i, item in enumerate(items):
        if item is None:
            continue
        shape = np.shape(item)
        if found is None:
            found, first = shape, i
        elif shape != found:
            raise op_error(InvalidArgumentError, op_name,
                           f"Shapes of all inputs must match: values[{first}].shape = "
                           f"{list(found)} != values[{i}].shape = {list(shape)}")
    return found


def _fill_shape(lst: _ListValue, given, op_name: str):
    """The shape of the zeros standing for unwritten items: the list's and the given shape, or
    the shape of a written item when those are not fully defined."""
    shape = _merge(lst.shape, given)
    if shape is None:
        shape = given if given is not None else lst.shape
    if _known(shape):
        return shape
    written = _set_shape(lst.items, op_name)
    if written is not None:
        return written
    return None


def _index(value, n: int, verb: str, op_name: str) -> int:
    i = int(value)
    if not 0 <= i < n:
        raise op_error(InvalidArgumentError, op_name,
                       f"Trying to {verb} element {i} in a list with {n} elements.")
    return i


# -- forwards (NumPy in, NumPy out) ---------------------------------------------------------------
def _reserve_forward(num_elements, *, element_shape, element_dtype):
    n = max(int(num_elements), 0)
    return VariantValue(_ListValue((None,) * n, element_dtype, element_shape))


def _set_item_forward(handle, index, item, *, resize_if_index_out_of_bounds=False):
    lst = handle.payload
    items, i = lst.items, int(index)
    if i >= len(items) and resize_if_index_out_of_bounds:
        items = items + (None,) * (i + 1 - len(items))
    _index(i, len(items), "modify", "TensorListSetItem")
    if lst.dtype is not dtypes.string and np.asarray(item).dtype != lst.dtype._np:
        given = dtypes.as_dtype(np.asarray(item).dtype).name
        raise op_error(InvalidArgumentError, "TensorListSetItem",
                       f"Invalid data types; op elements {given} but list elements "
                       f"{lst.dtype.name}")
    if lst.shape is not None and _merge(lst.shape, np.shape(item)) is None:
        raise op_error(InvalidArgumentError, "TensorListSetItem",
                       f"Tried to set a tensor with incompatible shape at a list index. Item "
                       f"element shape: {_text(np.shape(item))} list shape: {_text(lst.shape)}")
    return lst.replace(items[:i] + (item,) + items[i + 1:])


def _get_item_forward(handle, index, element_shape, *, element_dtype):
    lst = handle.payload
    i = _index(index, len(lst.items), "access", "TensorListGetItem")
    item = lst.items[i]
    if item is not None:
        return item
    shape = _fill_shape(lst, _decode_shape(element_shape), "TensorListGetItem")
    if shape is None:
        raise op_error(InvalidArgumentError, "TensorListGetItem",
                       f"Trying to read an uninitialized tensor but element_shape is not fully "
                       f"defined: {_text(_merge(lst.shape, _decode_shape(element_shape)))} and no "
                       f"list element is set.")
    return _zeros(shape, lst.dtype)


def _stacked(lst: _ListValue, picks, given, op_name: str):
    """The items at `picks` stacked along a new first axis, zeros for unwritten ones."""
    chosen = [lst.items[i] for i in picks]
    written = _set_shape(chosen, op_name)
    shape = written if written is not None else _fill_shape(lst, given, op_name)
    if not chosen:
        if not _known(shape):
            return np.zeros((0,), dtype=lst.dtype._np)
        return np.zeros((0,) + tuple(shape), dtype=lst.dtype._np)
    if shape is None:
        raise op_error(InvalidArgumentError, op_name,
                       f"Tried to stack list which only contains uninitialized tensors and has a "
                       f"non-fully-defined element_shape: {_text(_merge(lst.shape, given))}")
    zero = None
    arrays = []
    for item in chosen:
        if item is None:
            if zero is None:
                zero = _zeros(shape, lst.dtype)
            item = zero
        arrays.append(item)
    return np.stack(arrays)


def _stack_forward(handle, element_shape, *, element_dtype, num_elements=-1):
    lst = handle.payload
    n = len(lst.items)
    if num_elements != -1 and num_elements != n:
        raise op_error(InvalidArgumentError, "TensorListStack",
                       f"Operation expected a list with {num_elements} elements but got a list "
                       f"with {n} elements.")
    return _stacked(lst, range(n), _decode_shape(element_shape), "TensorListStack")


def _gather_forward(handle, indices, element_shape, *, element_dtype):
    lst = handle.payload
    n = len(lst.items)
    picks = [_index(i, n, "gather", "TensorListGather") for i in np.reshape(indices, -1)]
    return _stacked(lst, picks, _decode_shape(element_shape), "TensorListGather")


def _from_tensor_forward(tensor):
    tensor = np.asarray(tensor) if not isinstance(tensor, np.ndarray) else tensor
    if tensor.ndim == 0:
        raise op_error(InvalidArgumentError, "TensorListFromTensor",
                       "Tensor must be at least a vector, but saw shape: []")
    dtype = dtypes.as_dtype(tensor.dtype)
    return VariantValue(_ListValue(tuple(tensor), dtype, tensor.shape[1:]))


def _scatter_forward(handle, tensor, indices, *, resize_if_index_out_of_bounds=False,
                     accumulate=False):
    lst = handle.payload
    indices = [int(i) for i in np.reshape(indices, -1)]
    tensor = np.asarray(tensor) if not isinstance(tensor, np.ndarray) else tensor
    if tensor.ndim == 0 or tensor.shape[0] != len(indices):
        rows = tensor.shape[0] if tensor.ndim else 0
        raise op_error(InvalidArgumentError, "TensorListScatterIntoExistingList",
                       f"Invalid number of rows in input tensor. Expected: {len(indices)} "
                       f"Actual: {rows}")
    items = list(lst.items)
    if indices and max(indices) >= len(items) and resize_if_index_out_of_bounds:
        items.extend([None] * (max(indices) + 1 - len(items)))
    for row, i in enumerate(indices):
        _index(i, len(items), "scatter to", "TensorListScatterIntoExistingList")
        value = tensor[row]
        if accumulate and items[i] is not None:
            value = items[i] + value
        items[i] = value
    return lst.replace(tuple(items))


def _concat_forward(handle, element_shape, leading_dims, *, element_dtype):
    lst = handle.payload
    given = _decode_shape(element_shape)
    leading = np.reshape(leading_dims, -1)
    inner = None
    for i, item in enumerate(lst.items):
        if item is not None and np.ndim(item) == 0:
            raise op_error(InvalidArgumentError, "TensorListConcatV2",
                           f"Concat saw a scalar shape at index {i} but requires at least vectors.")
        if item is not None:
            shape = np.shape(item)[1:]
            if inner is not None and shape != inner:
                raise op_error(InvalidArgumentError, "TensorListConcatV2",
                               f"Tried to concat tensors with unequal shapes: {_text(inner)} "
                               f"vs {_text(shape)}")
            inner = shape
    arrays, lengths = [], []
    for i, item in enumerate(lst.items):
        if item is None:
            shape = _merge(lst.shape, given)
            if shape is not None and shape[0] is None and len(leading) > i:
                shape = (int(leading[i]),) + shape[1:]
            if shape is not None and inner is not None:
                shape = _merge(shape, (shape[0],) + inner) if len(shape) == len(inner) + 1 else None
            if not _known(shape):
                raise op_error(InvalidArgumentError, "TensorListConcatV2",
                               f"Trying to concat list with only uninitialized tensors but "
                               f"element_shape_except_first_dim is not fully defined: "
                               f"{_text(given)}")
            item = _zeros(shape, lst.dtype)
        arrays.append(item)
        lengths.append(np.shape(item)[0])
    if not arrays:
        tail = inner if inner is not None else (given[1:] if _known(given) else ())
        return np.zeros((0,) + tuple(tail), dtype=lst.dtype._np), np.zeros((0,), np.int64)
    return np.concatenate(arrays), np.array(lengths, dtype=np.int64)


def _split_forward(tensor, lengths):
    tensor = np.asarray(tensor) if not isinstance(tensor, np.ndarray) else tensor
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise op_error(InvalidArgumentError, "TensorListSplit",
                       f"Expected lengths to be a vector, received shape: {list(lengths.shape)}")
    if tensor.ndim == 0:
        raise op_error(InvalidArgumentError, "TensorListSplit",
                       "Tensor must be at least a vector, but saw shape: []")
    if int(lengths.sum()) != tensor.shape[0]:
        raise op_error(InvalidArgumentError, "TensorListSplit",
                       f"Unused values in tensor. Length of tensor: {tensor.shape[0]} Values "
                       f"used: {int(lengths.sum())}")
    items, start = [], 0
    for n in lengths:
        n = int(n)
        if n < 0:
            raise op_error(InvalidArgumentError, "TensorListSplit",
                           f"Invalid value in lengths: {n}")
        items.append(tensor[start:start + n])
        start += n
    shape = (None,) + tensor.shape[1:]
    return VariantValue(_ListValue(tuple(items), dtypes.as_dtype(tensor.dtype), shape))


def _length_forward(handle):
    return np.int32(len(handle.payload.items))


def _empty_like_forward(handle):
    return VariantValue(handle.payload.zeros_like())


def _clear_forward(handle, indices, *, mark_read=False):
    lst = handle.payload
    items = list(lst.items)
    picks = [int(i) for i in np.reshape(indices, -1)]
    for i in picks:
        if 0 <= i < len(items):
            items[i] = None
    cleared = lst.cleared | frozenset(picks) if mark_read else lst.cleared
    return lst.replace(tuple(items), cleared)


def _resize_forward(handle, size):
    lst = handle.payload
    n = int(size)
    if n < 0:
        raise op_error(InvalidArgumentError, "TensorListResize",
                       f"TensorListSlice expects size to be non-negative. Got: {n}")
    items = lst.items[:n] + (None,) * max(0, n - len(lst.items))
    return lst.replace(items)


def _add_forward(a, b):
    return VariantValue(a.payload + b.payload)


# -- abstract evaluation ------------------------------------------------------------------------
def _handle_abstract(*specs, **attrs):
    return _HANDLE_SPEC


def _payload(spec: TensorSpec):
    """The list a handle's spec holds when its value is known (folded while tracing), else None."""
    value = spec.value
    return value.payload if isinstance(value, VariantValue) else None


def _known_items_shape(lst, picks=None):
    """The shape the written items (at `picks`) share, or None when unknown or inconsistent."""
    try:
        return _set_shape(lst.items if picks is None else [lst.items[i] for i in picks], "")
    except Exception:  # inconsistent or out of range: the op raises when it runs
        return None


def _get_item_abstract(handle, index, element_shape, *, element_dtype):
    shape = _spec_shape(element_shape)
    lst = _payload(handle)
    if lst is not None and index.value is not None and not shape.is_fully_defined():
        i = int(index.value)
        if 0 <= i < len(lst.items) and lst.items[i] is not None:
            shape = TensorShape(np.shape(lst.items[i]))
    return TensorSpec(shape, element_dtype)


def _stack_abstract(handle, element_shape, *, element_dtype, num_elements=-1):
    shape = _spec_shape(element_shape)
    lst = _payload(handle)
    count = None if num_elements < 0 else num_elements
    if lst is not None:
        count = len(lst.items)
        if not shape.is_fully_defined():
            written = _known_items_shape(lst)
            if written is not None:
                shape = TensorShape(written)
    if shape.rank is None:
        return TensorSpec(TensorShape(None), element_dtype)
    return TensorSpec(TensorShape([count]).concatenate(shape), element_dtype)


def _gather_abstract(handle, indices, element_shape, *, element_dtype):
    shape = _spec_shape(element_shape)
    lst = _payload(handle)
    if lst is not None and indices.value is not None and not shape.is_fully_defined():
        picks = [int(i) for i in np.reshape(indices.value, -1)]
        written = _known_items_shape(lst, picks)
        if written is not None:
            shape = TensorShape(written)
    if shape.rank is None:
        return TensorSpec(TensorShape(None), element_dtype)
    count = indices.shape.num_elements() if indices.shape.rank is not None else None
    return TensorSpec(TensorShape([count]).concatenate(shape), element_dtype)


def _concat_abstract(handle, element_shape, leading_dims, *, element_dtype):
    shape = _spec_shape(element_shape)
    lst = _payload(handle)
    if lst is not None:
        items = lst.items
        if items and all(item is not None and np.ndim(item) for item in items) and len(
                {np.shape(item)[1:] for item in items}) == 1:
            total = sum(np.shape(item)[0] for item in items)
            return (TensorSpec((total,) + np.shape(items[0])[1:], element_dtype),
                    TensorSpec([len(items)], dtypes.int64))
    value = shape if shape.rank is None else TensorShape([None]).concatenate(shape[1:])
    count = len(lst.items) if lst is not None else None
    return TensorSpec(value, element_dtype), TensorSpec([count], dtypes.int64)


def _length_abstract(handle):
    return TensorSpec([], dtypes.int32)


# -- gradients (written with these primitives, so they run in graphs and nest) ------------------
def _shape_tail(x) -> Tensor:
    from tensorweave.ops import array_ops
    return array_ops.shape(x)[1:]


def _int(value) -> Tensor:
    return convert_to_tensor(value, dtype=dtypes.int32)


def _set_item_grad(op, dh):
    handle, index, item = op.inputs
    rest = execute(CLEAR_ITEMS, (dh, index), {"mark_read": False})
    if op.attrs.get("resize_if_index_out_of_bounds"):
        rest = execute(RESIZE, (rest, execute(LENGTH, (handle,))))
    from tensorweave.ops import array_ops
    d_item = execute(GET_ITEM, (dh, index, array_ops.shape(item)),
                     {"element_dtype": item.dtype})
    return rest, None, d_item


def _get_item_grad(op, dy):
    handle, index, _ = op.inputs
    empty = execute(EMPTY_LIKE, (handle,))
    d_handle = execute(SET_ITEM, (empty, index, dy), {"resize_if_index_out_of_bounds": False})
    return d_handle, None, None


def _stack_grad(op, dy):
    return execute(FROM_TENSOR, (dy,)), None


def _from_tensor_grad(op, dh):
    (tensor,) = op.inputs
    rows = tensor.shape[0] if tensor.shape.rank else None
    return execute(STACK, (dh, _shape_tail(tensor)),
                   {"element_dtype": tensor.dtype, "num_elements": -1 if rows is None else rows})


def _gather_grad(op, dy):
    handle, indices, _ = op.inputs
    empty = execute(EMPTY_LIKE, (handle,))
    return execute(SCATTER, (empty, dy, indices), {"accumulate": True}), None, None


def _scatter_grad(op, dh):
    handle, tensor, indices = op.inputs
    rest = execute(CLEAR_ITEMS, (dh, indices), {"mark_read": False})
    if op.attrs.get("resize_if_index_out_of_bounds"):
        rest = execute(RESIZE, (rest, execute(LENGTH, (handle,))))
    d_tensor = execute(GATHER, (dh, indices, _shape_tail(tensor)), {"element_dtype": tensor.dtype})
    return rest, d_tensor, None


def _concat_grad(op, dys):
    dy = dys[0]
    lengths = op.outputs[1]
    return execute(SPLIT, (dy, lengths)), None, None


def _split_grad(op, dh):
    from tensorweave.ops import array_ops
    tensor, lengths = op.inputs
    shape = array_ops.concat([_int([-1]), _shape_tail(tensor)], 0)
    return execute(CONCAT, (dh, shape, lengths), {"element_dtype": tensor.dtype})[0], None


def _clear_grad(op, dh):
    return execute(CLEAR_ITEMS, (dh, op.inputs[1]), {"mark_read": False}), None


def _resize_grad(op, dh):
    return execute(RESIZE, (dh, execute(LENGTH, (op.inputs[0],)))), None


def _add_grad(op, dy):
    return dy, dy


RESERVE = primitive("TensorListReserve", _reserve_forward, None, _handle_abstract)
SET_ITEM = primitive("TensorListSetItem", _set_item_forward, _set_item_grad, _handle_abstract)
GET_ITEM = primitive("TensorListGetItem", _get_item_forward, _get_item_grad, _get_item_abstract)
STACK = primitive("TensorListStack", _stack_forward, _stack_grad, _stack_abstract)
FROM_TENSOR = primitive("TensorListFromTensor", _from_tensor_forward, _from_tensor_grad,
                        _handle_abstract)
GATHER = primitive("TensorListGather", _gather_forward, _gather_grad, _gather_abstract)
SCATTER = primitive("TensorListScatterIntoExistingList", _scatter_forward, _scatter_grad,
                    _handle_abstract)
CONCAT = primitive("TensorListConcatV2", _concat_forward, _concat_grad, _concat_abstract,
                   multi_output=True)
SPLIT = primitive("TensorListSplit", _split_forward, _split_grad, _handle_abstract)
LENGTH = primitive("TensorListLength", _length_forward, None, _length_abstract)
RESIZE = primitive("TensorListResize", _resize_forward, _resize_grad, _handle_abstract)
# Not TensorFlow ops: an all-zero gradient list of the same length, dropping items (the gradient
# of a write, and an eager read with clear_after_read), and the sum of two gradient lists.
EMPTY_LIKE = primitive("TensorListZerosLike", _empty_like_forward, None, _handle_abstract)
CLEAR_ITEMS = primitive("TensorListClearItems", _clear_forward, _clear_grad, _handle_abstract)
ADD = primitive("TensorListAdd", _add_forward, _add_grad, _handle_abstract)


def add_gradients(a: Tensor, b: Tensor) -> Tensor:
    """The sum of two TensorArray gradients (variant tensors), item by item (None = zero).

    What a tape uses to add the gradients of a handle used twice.
    """
    return execute(ADD, (a, b))


def zeros_like(handle: Tensor) -> Tensor:
    """The zero gradient of a TensorArray handle: a list of its length with every item zero."""
    return execute(EMPTY_LIKE, (handle,))


# -- the public class ---------------------------------------------------------------------------
def _eager() -> bool:
    return state.graph is None


def _static_int(value):
    """A Python int for an int or an integer tensor whose value is known, else None."""
    if isinstance(value, Tensor):
        try:
            return int(value.numpy())
        except Exception:  # a symbolic tensor whose value is only known when the graph runs
            return None
    return operator.index(value)


class TensorArray:
    """A list of tensors of one dtype, written and read by index (tf.TensorArray)."""

    def __init__(self, dtype, size=None, dynamic_size=None, clear_after_read=None,
                 tensor_array_name=None, handle=None, flow=None, infer_shape=True,
                 element_shape=None, colocate_with_first_write_call=True, name=None):
        eager = _eager()
        if handle is not None:
            if eager:
                raise ValueError("TensorArray handles are not supported when eager execution "
                                 "is enabled.")
            raise ValueError("TensorArray handles are not supported; pass `flow` instead.")
        if flow is not None:
            if not isinstance(flow, Tensor) or flow.dtype is not dtypes.variant:
                raise TypeError(f"Expected `flow` to be a variant tensor, but received "
                                f"`{getattr(flow, 'dtype', type(flow).__name__)}` instead.")
            if size is not None:
                raise ValueError("Cannot provide both `flow` and `size` arguments at the same "
                                 "time.")
            if element_shape is not None:
                raise ValueError("Cannot provide both `flow` and `element_shape` argumentsat the "
                                 "same time.")
        elif size is None:
            if eager:
                raise ValueError("Size must be declared for TensorArrays when eager execution is "
                                 "enabled.")
            raise ValueError("Argument `size` must be provided if argument `flow` is not provided.")
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._clear_after_read = True if clear_after_read is None else bool(clear_after_read)
        self._infer_shape = infer_shape
        self._shape_cell = [as_shape(element_shape)]  # shared with the arrays made from this one
        if flow is not None:
            self._size = None
            self._flow = flow
            return
        if isinstance(size, Tensor):
            self._size = _static_int(size)
            size_t = size
        else:
            self._size = operator.index(size)
            size_t = convert_to_tensor(self._size, dtype=dtypes.int32)
        shape = self._shape_cell[0]
        self._flow = execute(RESERVE, (size_t,), {
            "element_shape": None if shape.rank is None else tuple(shape.as_list()),
            "element_dtype": self._dtype})

    # -- static facts ------------------------------------------------------------------------
    @property
    def flow(self) -> Tensor:
        """The variant tensor holding the array's contents."""
        return self._flow

    @property
    def handle(self):
        """Always None: the contents travel in `flow`, as in TensorFlow 2."""
        return None

    @property
    def dtype(self) -> dtypes.DType:
        return self._dtype

    @property
    def element_shape(self) -> TensorShape:
        return self._shape_cell[0]

    @property
    def dynamic_size(self) -> bool:
        return self._dynamic_size

    def __repr__(self):
        return f"<tensorflow.python.ops.tensor_array_ops.TensorArray object at {id(self):#x}>"

    # -- composite protocol (tf.nest expand_composites, while_loop / cond loop variables) -------
    def _tf_components(self) -> list:
        return [self._flow]

    def _tf_from_components(self, components) -> "TensorArray":
        return self._with_flow(components[0])

    @property
    def _type_spec(self) -> "TensorArraySpec":
        return TensorArraySpec(self.element_shape, self._dtype, self._dynamic_size,
                               self._infer_shape)

    def _with_flow(self, flow: Tensor) -> "TensorArray":
        ta = object.__new__(TensorArray)
        ta.__dict__.update(self.__dict__)  # the shape cell is shared, as in TensorFlow
        ta._flow = flow
        return ta

    def _result(self, flow: Tensor) -> "TensorArray":
        """After an update: eagerly this array itself, changed; in a graph a new array."""
        if _eager():
            self._flow = flow
            return self
        return self._with_flow(flow)

    def _items(self):
        return self._flow._value.payload.items

    def _shape_tensor(self, shape=None) -> Tensor:
        shape = self.element_shape if shape is None else shape
        return Tensor(_encode_shape(shape), dtypes.int32)

    def _convert(self, value) -> Tensor:
        return self._check_dtype(convert_to_tensor(value, dtype_hint=self._dtype))

    def _check_dtype(self, value: Tensor) -> Tensor:
        if value.dtype is not self._dtype:
            raise InvalidArgumentError(None, None, f"TensorArray dtype is {self._dtype.name} but "
                                       f"Op is trying to write dtype {value.dtype.name} ")
        return value

    def _check_shape(self, shape: TensorShape) -> None:
        current = self.element_shape
        if not current.is_compatible_with(shape):
            if _eager():
                raise ValueError(f"Incompatible shape for value ({shape}), expected ({current})")
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {current} ")
        if self._infer_shape:
            self._shape_cell[0] = current.merge_with(shape)

    def _eager_index(self, index) -> int:
        if isinstance(index, Tensor):
            index = index.numpy()
        try:
            return operator.index(index)
        except TypeError:
            raise TypeError(f"list indices must be integers or slices, not "
                            f"{type(index).__name__}") from None

    def _eager_zero_check(self, picks) -> None:
        """TensorFlow eager fills unwritten items with zeros of the static element shape."""
        items = self._items()
        shape = self.element_shape
        if not shape.is_fully_defined() and any(items[i] is None for i in picks):
            raise ValueError(f"Cannot convert a partially known TensorShape {shape} to a Tensor.")

    def _num_elements(self) -> int:
        """The static size a graph's stack checks and shapes by (-1: unknown); eagerly the
        list itself is the size (unstack and close change it)."""
        if _eager() or self._dynamic_size or self._size is None:
            return -1
        return self._size

    # -- element access --------------------------------------------------------------------------
    def write(self, index, value, name=None) -> "TensorArray":
        """Writes `value` at `index`; returns the array holding it."""
        value = convert_to_tensor(value, dtype_hint=self._dtype)
        if _eager():
            i = self._eager_index(index)
            if i < 0:
                raise OutOfRangeError(None, None, f"Writing to negative indices (index {i}) is "
                                      f"not allowed.")
            size = len(self._items())
            if i >= size and not self._dynamic_size:
                raise OutOfRangeError(None, None, f"Tried to write to index {i} but array is not "
                                      f"resizeable and size is: {size} ")
            index = Tensor(np.int32(i), dtypes.int32)
        self._check_dtype(value)
        self._check_shape(value.shape)
        flow = execute(SET_ITEM, (self._flow, _index_tensor(index), value),
                       {"resize_if_index_out_of_bounds": self._dynamic_size})
        return self._result(flow)

    def read(self, index, name=None) -> Tensor:
        """The tensor at `index` (zeros of the element shape where nothing was written)."""
        eager = _eager()
        if eager:
            i = self._eager_index(index)
            items = self._items()
            if i < 0:
                raise OutOfRangeError(None, None, f"Reading from negative indices (index {i}) is "
                                      f"not allowed.")
            if i >= len(items):
                raise OutOfRangeError(None, None, f"Tried to read from index {i} but array size "
                                      f"is: {len(items)} ")
            if items[i] is None and i in self._flow._value.payload.cleared:
                raise InvalidArgumentError(
                    None, None, f"Could not read index {i} twice because it was cleared after a "
                    f"previous read (perhaps try setting clear_after_read = false?)")
            self._eager_zero_check([i])
            index = Tensor(np.int32(i), dtypes.int32)
        index = _index_tensor(index)
        value = execute(GET_ITEM, (self._flow, index, self._shape_tensor()),
                        {"element_dtype": self._dtype})
        if eager and self._clear_after_read:
            self._flow = execute(CLEAR_ITEMS, (self._flow, index), {"mark_read": True})
        return value

    def stack(self, name=None) -> Tensor:
        """All elements stacked along a new first axis: shape [size] + element_shape."""
        if _eager():
            self._eager_zero_check(range(len(self._items())))
        return execute(STACK, (self._flow, self._shape_tensor()),
                       {"element_dtype": self._dtype, "num_elements": self._num_elements()})

    def gather(self, indices, name=None) -> Tensor:
        """The elements at `indices` stacked along a new first axis."""
        if _eager():
            raw = indices.numpy() if isinstance(indices, Tensor) else indices
            if np.ndim(raw) == 0:
                raise TypeError(f"'{type(raw).__name__}' object is not iterable")
            n = len(self._items())
            picks = []
            for i in np.reshape(np.asarray(raw), -1):
                i = operator.index(i)
                if not -n <= i < n:
                    raise IndexError("list index out of range")
                picks.append(i % n)
            self._eager_zero_check(picks)
            indices = Tensor(np.array(picks, dtype=np.int32), dtypes.int32)
        indices = _index_tensor(indices)
        return execute(GATHER, (self._flow, indices, self._shape_tensor()),
                       {"element_dtype": self._dtype})

    def concat(self, name=None) -> Tensor:
        """All elements joined along their first axis."""
        shape = self.element_shape
        if _eager():
            self._eager_zero_check(range(len(self._items())))
            for i, item in enumerate(self._items()):
                if item is not None and np.ndim(item) == 0:
                    raise InvalidArgumentError(None, None, f"Concat saw a scalar shape at index "
                                               f"{i} but requires at least vectors.")
        if shape.rank:
            shape = TensorShape([None]).concatenate(shape[1:])
        value, _ = execute(CONCAT, (self._flow, self._shape_tensor(shape),
                                    Tensor(np.zeros((0,), np.int64), dtypes.int64)),
                           {"element_dtype": self._dtype})
        return value

    # -- whole-array updates -------------------------------------------------------------------
    def unstack(self, value, name=None) -> "TensorArray":
        """The rows of `value` (along its first axis) as the elements."""
        value = self._convert(value)
        rank = value.shape.rank
        if rank == 0:
            raise ValueError("Argument `axis` = 0 not in range [0, 0)")
        if _eager():
            rows, size = value.shape[0], len(self._items())
            if rows > size and not self._dynamic_size:
                raise ValueError(f"Cannot unstack {rows} tensors into a TensorArray of static "
                                 f"size {size} ")
        else:
            self._check_shape(value.shape[1:] if rank is not None else TensorShape(None))
        return self._result(execute(FROM_TENSOR, (value,)))

    def scatter(self, indices, value, name=None) -> "TensorArray":
        """Writes the rows of `value` at `indices`."""
        value = self._convert(value)
        if _eager():
            raw = indices.numpy() if isinstance(indices, Tensor) else indices
            picks = [operator.index(i) for i in np.reshape(np.asarray(raw), -1)]
            count = min(len(picks), value.shape[0] if value.shape.rank else 0)
            size = len(self._items())
            for i in picks[:count]:
                if i < 0:
                    raise OutOfRangeError(None, None, f"Writing to negative indices (index {i}) "
                                          f"is not allowed.")
                if i >= size and not self._dynamic_size:
                    raise OutOfRangeError(None, None, f"Tried to write to index {i} but array is "
                                          f"not resizeable and size is: {size} ")
            if count != value.shape[0]:
                value = value[:count]
            indices = Tensor(np.array(picks[:count], dtype=np.int32), dtypes.int32)
        if value.shape.rank is not None:
            self._check_shape(value.shape[1:])
        flow = execute(SCATTER, (self._flow, value, _index_tensor(indices)),
                       {"resize_if_index_out_of_bounds": self._dynamic_size})
        return self._result(flow)

    def split(self, value, lengths, name=None) -> "TensorArray":
        """Splits `value` along its first axis into pieces of `lengths`, one per element."""
        value = self._convert(value)
        lengths = convert_to_tensor(lengths, dtype_hint=dtypes.int64)
        if lengths.dtype not in (dtypes.int32, dtypes.int64):
            raise TypeError(f"`lengths` must be an integer tensor, got {lengths.dtype!r}")
        if _eager():
            if lengths.shape.rank != 1:
                raise InvalidArgumentError(None, None, f"Expected lengths to be a vector, "
                                           f"received shape: {lengths.shape.as_list()} ")
            if value.shape.rank == 0:
                raise InvalidArgumentError(None, None, f"Expected value to be at least a vector, "
                                           f"but received shape: {value.shape.as_list()} ")
            total = int(np.sum(lengths.numpy()))
            if total != value.shape[0]:
                raise InvalidArgumentError(
                    None, None, f"Expected sum of lengths to be equal to values.shape[0], but sum "
                    f"of lengths is {total} and value's shape is: {value.shape.as_list()} ")
            size = len(self._items())
            if not self._dynamic_size and lengths.shape[0] != size:
                raise InvalidArgumentError(
                    None, None, f"TensorArray's size is not equal to the size of lengths ({size} "
                    f"vs. {lengths.shape[0]}), and the TensorArray is not marked as dynamically "
                    f"resizeable.")
        else:
            known = _known_value(lengths)
            if known is not None and value.shape.rank is not None and known.ndim == 1 \
                    and known.size and known.max() == known.min():
                self._check_shape(TensorShape([int(known[0])]).concatenate(value.shape[1:]))
        return self._result(execute(SPLIT, (value, lengths)))

    # -- the rest ------------------------------------------------------------------------------
    def size(self, name=None) -> Tensor:
        """The number of elements, an int32 scalar."""
        if _eager():
            return Tensor(np.int32(len(self._items())), dtypes.int32)
        if not self._dynamic_size and self._size is not None:
            return convert_to_tensor(self._size, dtype=dtypes.int32)
        return execute(LENGTH, (self._flow,))

    def identity(self) -> "TensorArray":
        """This array (eager), or one whose flow is an identity of this one's (graph)."""
        if _eager():
            return self
        from tensorweave.ops import array_ops
        return self._with_flow(array_ops.identity(self._flow))

    def close(self, name=None):
        """Eagerly empties the array (its size becomes 0); does nothing in a graph."""
        if _eager():
            self._flow = execute(RESERVE, (Tensor(np.int32(0), dtypes.int32),), {
                "element_shape": None if self.element_shape.rank is None else
                tuple(self.element_shape.as_list()), "element_dtype": self._dtype})
        return None

    def grad(self, source, flow=None, name=None):
        if _eager():
            raise NotImplementedError(
                "TensorArray.grad is not supported when executing eagerly; eager's gradient "
                "implementation does not use/need this function to compute gradients of "
                "operations that use TensorArrays.")
        raise NotImplementedError("TensorArray.grad is not supported: use tf.GradientTape.")


def _index_tensor(index) -> Tensor:
    if isinstance(index, Tensor):
        if index.dtype not in (dtypes.int32, dtypes.int64):
            raise TypeError(f"TensorArray indices must be integers, got {index.dtype!r}")
        return index
    return convert_to_tensor(index, dtype=dtypes.int32)


def _known_value(tensor: Tensor):
    try:
        return np.asarray(tensor.numpy())
    except Exception:  # a symbolic tensor without a known value
        return None


class TensorArraySpec:
    """The type of a TensorArray: element shape, dtype, dynamic_size, infer_shape."""

    __slots__ = ("_element_shape", "_dtype", "_dynamic_size", "_infer_shape")

    def __init__(self, element_shape=None, dtype=dtypes.float32, dynamic_size=False,
                 infer_shape=True):
        self._element_shape = as_shape(element_shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = dynamic_size
        self._infer_shape = infer_shape

    value_type = property(lambda self: TensorArray)
    element_shape = property(lambda self: self._element_shape)
    dtype = property(lambda self: self._dtype)
    dynamic_size = property(lambda self: self._dynamic_size)
    infer_shape = property(lambda self: self._infer_shape)

    @staticmethod
    def from_value(value: TensorArray) -> "TensorArraySpec":
        if not isinstance(value, TensorArray):
            raise ValueError(f"Expected a TensorArray, got {type(value).__name__}")
        return value._type_spec

    def _key(self):
        return (self._element_shape, self._dtype, self._dynamic_size, self._infer_shape)

    def is_compatible_with(self, other) -> bool:
        if isinstance(other, TensorArray):
            other = other._type_spec
        return (isinstance(other, TensorArraySpec) and self._dtype == other._dtype
                and self._dynamic_size == other._dynamic_size
                and self._element_shape.is_compatible_with(other._element_shape))

    def is_subtype_of(self, other) -> bool:
        return (isinstance(other, TensorArraySpec) and self._dtype == other._dtype
                and self._dynamic_size == other._dynamic_size
                and self._element_shape.is_subtype_of(other._element_shape))

    def most_specific_common_supertype(self, others):
        shape = self._element_shape
        for other in others:
            if not (isinstance(other, TensorArraySpec) and other._dtype == self._dtype
                    and other._dynamic_size == self._dynamic_size):
                return None
            shape = shape.most_specific_common_supertype([other._element_shape])
            if shape is None:
                return None
        return TensorArraySpec(shape, self._dtype, self._dynamic_size, self._infer_shape)

    def __eq__(self, other):
        return isinstance(other, TensorArraySpec) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        return (f"TensorArraySpec({self._element_shape!r}, {self._dtype!r}, "
                f"{self._dynamic_size!r}, {self._infer_shape!r})")
