"""tf.DType: the element types of tensors and their NumPy counterparts."""
from __future__ import annotations

import builtins

import numpy as np

try:  # bfloat16 needs a NumPy dtype; ml_dtypes is the standard provider (extra "bfloat16").
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - exercised only without the extra
    _ml_dtypes = None


class DType:
    """An element type: `tf.float32`, `tf.int32`, `tf.string`..."""

    __slots__ = ("_name", "_np", "_enum", "_kind", "_size")

    def __init__(self, name: str, np_dtype, enum: int, kind: str, size: int):
        self._name = name
        self._np = np_dtype
        self._enum = enum
        # 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'c' complex, 's' string, 'r' resource
        self._kind = kind
        self._size = size

    name = property(lambda self: self._name)
    as_datatype_enum = property(lambda self: self._enum)
    size = property(lambda self: self._size)
    is_floating = property(lambda self: self._kind == "f")
    is_integer = property(lambda self: self._kind in "iu")
    is_unsigned = property(lambda self: self._kind in "ub")
    is_complex = property(lambda self: self._kind == "c")
    is_bool = property(lambda self: self._kind == "b")
    is_numeric = property(lambda self: self._kind in "fiuc")
    is_quantized = property(lambda self: False)
    base_dtype = property(lambda self: self)

    @property
    def as_numpy_dtype(self):
        if self._np is None:
            raise TypeError(
                f"{self._name} has no NumPy dtype here; install the 'ml_dtypes' package "
                "(pip install tensorweave[bfloat16]) to use it")
        return self._np.type if isinstance(self._np, np.dtype) else self._np

    @property
    def real_dtype(self) -> "DType":
        if self is complex64:
            return float32
        if self is complex128:
            return float64
        return self

    @property
    def min(self):
        if self._kind == "f":
            return _float_info(self).min
        if self._kind in "iu":
            return np.iinfo(self._np).min
        if self._kind == "b":
            return False
        raise TypeError(f"Cannot find minimum value of {self._name}.")

    @property
    def max(self):
        if self._kind == "f":
            return _float_info(self).max
        if self._kind in "iu":
            return np.iinfo(self._np).max
        if self._kind == "b":
            return True
        raise TypeError(f"Cannot find maximum value of {self._name}.")

    @property
    def limits(self):
        return self.min, self.max

    def is_compatible_with(self, other) -> bool:
        return self is as_dtype(other)

    def __eq__(self, other):
        if self is other:
            return True
        if other is None:
            return False
        try:
            return self is as_dtype(other)
        except TypeError:
            return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._enum

    def __reduce__(self):
        return as_dtype, (self._name,)

    def __repr__(self):
        return f"tf.{self._name}"

    def __str__(self):
        return f"<dtype: '{self._name}'>"


def _float_info(dtype: DType):
    return _ml_dtypes.finfo(dtype._np) if dtype is bfloat16 else np.finfo(dtype._np)


float16 = DType("float16", np.dtype(np.float16), 19, "f", 2)
half = float16
float32 = DType("float32", np.dtype(np.float32), 1, "f", 4)
float64 = DType("float64", np.dtype(np.float64), 2, "f", 8)
double = float64
bfloat16 = DType("bfloat16", np.dtype(_ml_dtypes.bfloat16) if _ml_dtypes else None, 14, "f", 2)
int8 = DType("int8", np.dtype(np.int8), 6, "i", 1)
int16 = DType("int16", np.dtype(np.int16), 5, "i", 2)
int32 = DType("int32", np.dtype(np.int32), 3, "i", 4)
int64 = DType("int64", np.dtype(np.int64), 9, "i", 8)
uint8 = DType("uint8", np.dtype(np.uint8), 4, "u", 1)
uint16 = DType("uint16", np.dtype(np.uint16), 17, "u", 2)
uint32 = DType("uint32", np.dtype(np.uint32), 22, "u", 4)
uint64 = DType("uint64", np.dtype(np.uint64), 23, "u", 8)
bool = DType("bool", np.dtype(np.bool_), 10, "b", 1)  # noqa: A001 - TensorFlow's public name
string = DType("string", np.dtype(object), 7, "s", 8)
complex64 = DType("complex64", np.dtype(np.complex64), 8, "c", 8)
complex128 = DType("complex128", np.dtype(np.complex128), 18, "c", 16)
resource = DType("resource", None, 20, "r", 8)
variant = DType("variant", None, 21, "r", 8)

ALL_DTYPES = (float16, float32, float64, bfloat16, int8, int16, int32, int64, uint8, uint16,
              uint32, uint64, bool, string, complex64, complex128, resource, variant)

# NumPy dtype -> DType; the hot path of every op output goes through this dict.
NP_TO_DTYPE: dict = {d._np: d for d in ALL_DTYPES if d._np is not None}
NP_TO_DTYPE[np.dtype(np.str_)] = string
NP_TO_DTYPE[np.dtype(np.bytes_)] = string

_BY_NAME = {d._name: d for d in ALL_DTYPES}
_BY_NAME.update(half=float16, double=float64, float=float32, int=int32)
_BY_ENUM = {d._enum: d for d in ALL_DTYPES}
_BY_PYTYPE = {float: float32, int: int32, complex: complex128, str: string, bytes: string,
              builtins.bool: bool}


def as_dtype(type_value) -> DType:
    """Converts a DType, name, NumPy dtype or type, Python type or enum to a `tf.DType`."""
    if isinstance(type_value, DType):
        return type_value
    if isinstance(type_value, str):
        found = _BY_NAME.get(type_value)
        if found is not None:
            return found
    elif isinstance(type_value, int) and type_value in _BY_ENUM:
        return _BY_ENUM[type_value]
    elif isinstance(type_value, type) and type_value in _BY_PYTYPE:
        return _BY_PYTYPE[type_value]
    else:
        dtype_attr = getattr(type_value, "dtype", None)
        if isinstance(dtype_attr, DType):  # a tensor, variable or TensorSpec
            return dtype_attr
    try:
        np_dtype = np.dtype(type_value)
    except TypeError:
        np_dtype = None
    if np_dtype is not None:
        found = NP_TO_DTYPE.get(np_dtype)
        if found is None and np_dtype.kind in "US":
            found = string
        if found is not None:
            return found
    raise TypeError(f"Cannot convert the argument `type_value`: {type_value!r} to a TensorFlow DType.")


def from_numpy(np_dtype) -> DType:
    """The DType of a NumPy dtype, raising TypeError for types TensorFlow has not got."""
    found = NP_TO_DTYPE.get(np_dtype)
    if found is None:
        return as_dtype(np_dtype)
    return found


def _enums(*groups) -> frozenset:
    return frozenset(d._enum for d in groups)


# Allowed-dtype sets for op checks, as enum numbers (an int set lookup is the cheapest test).
FLOATING = _enums(float16, bfloat16, float32, float64)
COMPLEX = _enums(complex64, complex128)
INTEGER = _enums(int8, int16, int32, int64, uint8, uint16, uint32, uint64)
SIGNED_INTEGER = _enums(int8, int16, int32, int64)
REAL_NUMBER = FLOATING | INTEGER
NUMBER = REAL_NUMBER | COMPLEX
INEXACT = FLOATING | COMPLEX
BOOL = _enums(bool)
STRING = _enums(string)
