"""Turning Python and NumPy values into tensors, with TensorFlow's dtype rules.

One place for the rules: a Python float is float32, a Python int int32 (int64 when it does not
fit), a NumPy array keeps its dtype; a requested dtype casts NumPy values but refuses Python
values that would lose information ("Cannot convert 1.5 to EagerTensor of dtype int32").
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.tensor import Tensor

_PY_SCALARS = (bool, int, float, complex, str, bytes)
_NP_KIND_DEFAULT = {"f": dtypes.float32, "b": dtypes.bool, "c": dtypes.complex128}
_INT32_MIN, _INT32_MAX = -(2 ** 31), 2 ** 31 - 1


def _to_bytes_array(arr: np.ndarray) -> np.ndarray:
    out = np.empty(arr.shape, dtype=object)
    flat_in, flat_out = arr.reshape(-1), out.reshape(-1)
    for i, item in enumerate(flat_in):
        flat_out[i] = item.encode("utf-8") if isinstance(item, str) else bytes(item)
    return out


def _holds_typed_values(value) -> bool:
    """True when a nested list holds NumPy values or tensors, whose dtypes then decide."""
    for item in value:
        if isinstance(item, (list, tuple)):
            if _holds_typed_values(item):
                return True
        elif type(item) not in _PY_SCALARS:  # np.float64 subclasses float: test exact types
            return True
    return False


def _python_to_array(value):
    """(array, dtype) for a Python scalar or nested sequence, with TensorFlow's inference.

    The array is NumPy's own (float64, int64...), not yet narrowed to `dtype`, so that a requested
    dtype is reached from the exact Python values (0.1 as float64 is not 0.1 as float32).
    """
    if isinstance(value, range):
        value = list(value)
    try:
        arr = np.array(value)
    except ValueError:
        raise ValueError("Can't convert non-rectangular Python sequence to Tensor.") from None
    kind = arr.dtype.kind
    if kind == "O":
        if arr.size and all(isinstance(x, (str, bytes)) for x in arr.reshape(-1)):
            return _to_bytes_array(arr), dtypes.string
        raise ValueError("Can't convert non-rectangular Python sequence to Tensor.")
    if kind in "US":
        return _to_bytes_array(arr), dtypes.string
    if isinstance(value, (list, tuple)) and _holds_typed_values(value):
        return arr, dtypes.from_numpy(arr.dtype)
    if kind in "iu":
        if arr.size and (arr.min() < _INT32_MIN or arr.max() > _INT32_MAX):
            return arr, dtypes.int64
        return arr, dtypes.int32
    return arr, _NP_KIND_DEFAULT[kind]


def _cast_python(value, arr: np.ndarray, src: dtypes.DType, dtype: dtypes.DType) -> np.ndarray:
    lossy = ((dtype.is_integer or dtype.is_bool) and not (src.is_integer or src.is_bool)) \
        or (dtype.is_bool and not src.is_bool) \
        or (dtype.is_floating and src.is_complex) \
        or ((dtype is dtypes.string) != (src is dtypes.string))
    if lossy:
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    return arr.astype(dtype.as_numpy_dtype)


def _numpy_to_array(value, dtype):
    arr = np.asarray(value)
    if arr.dtype.kind in "USO":
        arr = _to_bytes_array(arr) if arr.dtype.kind != "O" else arr
        src = dtypes.string
    else:
        src = dtypes.from_numpy(arr.dtype)
    if dtype is None or dtype is src:
        return arr.copy() if arr is value else arr, src
    if (dtype is dtypes.string) != (src is dtypes.string):
        raise TypeError(f"Cannot convert {value!r} to EagerTensor of dtype {dtype.name}")
    return arr.astype(dtype.as_numpy_dtype), dtype


def to_array(value, dtype=None):
    """(NumPy value, DType) for any non-tensor value, following TensorFlow's conversion rules."""
    if dtype is not None:
        dtype = dtypes.as_dtype(dtype)
    if isinstance(value, (np.ndarray, np.generic)):
        return _numpy_to_array(value, dtype)
    if hasattr(value, "__array__") and not isinstance(value, (list, tuple)):
        return _numpy_to_array(np.asarray(value), dtype)
    kind = type(value)
    if kind is float and (dtype is None or dtype.is_floating or dtype.is_complex):
        target = dtypes.float32 if dtype is None else dtype  # the common scalar: no array needed
        return target.as_numpy_dtype(value), target
    arr, src = _python_to_array(value)
    if dtype is None:
        dtype = src
    return _cast_python(value, arr, src, dtype), dtype


def _as_tensor_value(arr, dtype) -> Tensor:
    if arr.ndim == 0 and isinstance(arr, np.ndarray) and arr.dtype.kind != "O":
        arr = arr[()]
    return Tensor(arr, dtype)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None) -> Tensor:
    """tf.convert_to_tensor: a Tensor from a tensor, variable, NumPy value or Python value."""
    if isinstance(value, Tensor):
        if dtype is not None and value._dtype is not dtypes.as_dtype(dtype):
            raise ValueError(f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                             f"for Tensor with dtype {value._dtype.name}: {value!r}")
        return value
    tf_tensor = getattr(value, "__tf_tensor__", None)
    if tf_tensor is not None:
        return tf_tensor(dtype, name)
    if dtype is None and dtype_hint is not None:
        try:
            return _as_tensor_value(*to_array(value, dtype_hint))
        except (TypeError, ValueError):
            pass
    return _as_tensor_value(*to_array(value, dtype))


def constant(value, dtype=None, shape=None, name="Const") -> Tensor:
    """tf.constant: a tensor of `value`, cast to `dtype`, reshaped or filled to `shape`."""
    if isinstance(value, Tensor) or hasattr(value, "__tf_tensor__"):
        value = convert_to_tensor(value).numpy()
    arr, dtype = to_array(value, dtype)
    if shape is not None:
        shape = tuple(int(d) for d in (shape if isinstance(shape, (list, tuple)) else np.atleast_1d(shape)))
        size = int(np.prod(shape, dtype=np.int64))
        if arr.size == size:
            arr = arr.reshape(shape)
        elif arr.size == 1:
            arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
        else:
            raise TypeError(f"Eager execution of tf.constant with unsupported shape. Tried to convert "
                            f"a value of {arr.size} elements to shape {list(shape)}.")
    return _as_tensor_value(np.array(arr) if arr is value else arr, dtype)


def _dtype_error_name(dtype: dtypes.DType) -> str:
    return {"float32": "float", "float64": "double", "float16": "half"}.get(dtype.name, dtype.name)


def dtype_mismatch(op_name: str, index: int, expected: dtypes.DType, got: dtypes.DType):
    return op_error(InvalidArgumentError, op_name,
                    f"cannot compute {op_name} as input #{index}(zero-based) was expected to be a "
                    f"{_dtype_error_name(expected)} tensor but is a {_dtype_error_name(got)} tensor")


def convert_like(value, dtype: dtypes.DType) -> Tensor:
    """Converts an operand of a binary op, taking `dtype` from the other operand when it can.

    A value that cannot take `dtype` is converted on its own, so that the op then reports the
    dtype mismatch as TensorFlow does.
    """
    kind = type(value)
    if (kind is float or kind is int) and dtype._kind in "fc":  # `t * 2.0`: the hot case
        return Tensor(dtype.as_numpy_dtype(value), dtype)
    if isinstance(value, Tensor):
        return value
    tf_tensor = getattr(value, "__tf_tensor__", None)
    if tf_tensor is not None:
        return tf_tensor(None, None)
    try:
        return _as_tensor_value(*to_array(value, dtype))
    except (TypeError, ValueError):
        return _as_tensor_value(*to_array(value))


def is_tensor_like(value) -> bool:
    """True for a tensor or anything that converts by the `__tf_tensor__` protocol (variables)."""
    return isinstance(value, Tensor) or hasattr(value, "__tf_tensor__")


def convert_pair(x, y):
    """Two operands as tensors, the non-tensor one taking the other's dtype where it can."""
    if type(x) is Tensor:
        if type(y) is not Tensor:
            y = convert_like(y, x._dtype)
    elif type(y) is Tensor:
        x = convert_like(x, y._dtype)
    elif is_tensor_like(y) and not is_tensor_like(x):
        y = convert_to_tensor(y)
        x = convert_like(x, y._dtype)
    else:
        x = convert_to_tensor(x)
        y = convert_like(y, x._dtype)
    return x, y


def binary_operands(op_name: str, x, y, allowed=None):
    """Both operands of a binary op as tensors of one dtype, or InvalidArgumentError.

    `allowed` is a set of dtype enums (`dtypes.NUMBER`...) the op accepts.
    """
    x, y = convert_pair(x, y)
    if x._dtype is not y._dtype:
        raise dtype_mismatch(op_name, 1, x._dtype, y._dtype)
    if allowed is not None and x._dtype._enum not in allowed:
        raise unsupported_dtype(op_name, x._dtype)
    return x, y


def convert_checked(value, op_name: str, allowed) -> Tensor:
    """`value` as a tensor whose dtype is in `allowed` (a set of dtype enums), or the op's error."""
    tensor = convert_to_tensor(value)
    if tensor._dtype._enum not in allowed:
        raise unsupported_dtype(op_name, tensor._dtype)
    return tensor


def unsupported_dtype(op_name: str, dtype: dtypes.DType):
    return op_error(InvalidArgumentError, op_name,
                    f"Value for attr 'T' of {dtype.name} is not in the list of allowed values "
                    f"for {op_name}")
