"""tf.DType: the element types of tensors and their NumPy counterparts."""
from __future__ import annotations

import builtins

import numpy as np

try:  # bfloat16 needs a NumPy dtype; ml_dtypes is the standard provider (extra "bfloat16").
    import ml_dtypes as _ml_dtypes
except ImportError:  # pragma: no cover - exercised only without the extra
    _ml_dtypes = None


class DType:
    """An element type: `tf.float32`, `tf.int32`, `tf.string`...

    `DType(enum)` gives the dtype of a `DataType` enum number (`tf.DType(1)` is `tf.float32`).
    """

    __slots__ = ("_name", "_np", "_enum", "_kind", "_size")

    def __new__(cls, type_enum, *definition):
        if definition:
            return object.__new__(cls)
        found = _BY_ENUM.get(type_enum) if isinstance(type_enum, int) else None
        if found is None:
            raise TypeError(f"{type_enum!r} does not correspond to a valid tensorflow::DataType")
        return found

    def __init__(self, name, np_dtype=None, enum=None, kind=None, size=None):
        if kind is None:
            return  # DType(enum): __new__ returned the dtype, already defined
        self._name = name
        self._np = np_dtype
        self._enum = enum
        # 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'c' complex, 's' string, 'r' resource,
        # 'q' quantized
        self._kind = kind
        self._size = size

    name = property(lambda self: self._name)
    as_datatype_enum = property(lambda self: self._enum)
    size = property(lambda self: self._size)
    is_floating = property(lambda self: self._kind == "f")
    is_integer = property(lambda self: self._kind in "iu")
    is_unsigned = property(lambda self: self._kind == "u")
    is_complex = property(lambda self: self._kind == "c")
    is_bool = property(lambda self: self._kind == "b")
    is_numeric = property(lambda self: self._kind in "fiucq")
    is_quantized = property(lambda self: self._kind == "q")
    is_numpy_compatible = property(lambda self: self._kind != "r")
    base_dtype = property(lambda self: self)

    @property
    def as_numpy_dtype(self):
        if self._np is None:
            if self._kind == "r":
                raise KeyError(self._enum)
            raise TypeError(
                f"{self._name} has no NumPy dtype here; install the 'ml_dtypes' package "
                "(pip install tensorweave[bfloat16]) to use it")
        if self._kind == "s":
            return object
        if self._kind == "q":
            return self._np
        return self._np.type if isinstance(self._np, np.dtype) else self._np

    @property
    def real_dtype(self) -> "DType":
        if self is complex64:
            return float32
        if self is complex128:
            return float64
        return self

    def _no_limit(self, which: str) -> TypeError:
        if self._kind == "r":
            return TypeError(f"Cannot find {which} value of {self}.")
        kind = "quantized type" if self._kind == "q" else "type"
        return TypeError(f"Cannot find {which} value of {self} with {kind} {self}.")

    @property
    def min(self):
        if self._kind == "f":
            return _float_info(self).min
        if self._kind in "iu":
            return int(np.iinfo(self._np).min)
        raise self._no_limit("minimum")

    @property
    def max(self):
        if self._kind == "f":
            return _float_info(self).max
        if self._kind in "iu":
            return int(np.iinfo(self._np).max)
        raise self._no_limit("maximum")

    @property
    def limits(self):
        """The (0, max) intensity range of an image of this dtype, as TensorFlow gives it."""
        if self._kind in "iu":
            return 0, int(np.iinfo(self._np).max)
        if self is float32 or self is float64:
            return 0, 1
        if self._kind == "b":
            return 0, True
        raise ValueError(f"{self} does not have defined limits.")

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
string = DType("string", np.dtype(object), 7, "s", 0)
complex64 = DType("complex64", np.dtype(np.complex64), 8, "c", 8)
complex128 = DType("complex128", np.dtype(np.complex128), 18, "c", 16)
resource = DType("resource", None, 20, "r", 0)
variant = DType("variant", None, 21, "r", 0)
# Quantized types: names and properties only; no op computes on them.
qint8 = DType("qint8", np.dtype([("qint8", np.int8)]), 11, "q", 1)
quint8 = DType("quint8", np.dtype([("quint8", np.uint8)]), 12, "q", 1)
qint16 = DType("qint16", np.dtype([("qint16", np.int16)]), 15, "q", 2)
quint16 = DType("quint16", np.dtype([("quint16", np.uint16)]), 16, "q", 2)
qint32 = DType("qint32", np.dtype([("qint32", np.int32)]), 13, "q", 4)
QUANTIZED_DTYPES = frozenset((qint8, quint8, qint16, quint16, qint32))

ALL_DTYPES = (float16, float32, float64, bfloat16, int8, int16, int32, int64, uint8, uint16,
              uint32, uint64, bool, string, complex64, complex128, resource, variant)

# NumPy dtype -> DType; the hot path of every op output goes through this dict.
NP_TO_DTYPE: dict = {d._np: d for d in ALL_DTYPES if d._np is not None}
NP_TO_DTYPE[np.dtype(np.str_)] = string
NP_TO_DTYPE[np.dtype(np.bytes_)] = string
# The NumPy-side marker of a variant value (framework/variant.py): a dtype no array has.
VARIANT_NP = np.dtype([("variant", object)])
NP_TO_DTYPE[VARIANT_NP] = variant

_BY_NAME = {d._name: d for d in ALL_DTYPES + tuple(QUANTIZED_DTYPES)}
_BY_NAME.update(half=float16, double=float64, float=float32)
_BY_ENUM = {d._enum: d for d in ALL_DTYPES + tuple(QUANTIZED_DTYPES)}
# What as_dtype looks up directly: enum numbers, names, the Python types TensorFlow maps
# (float, bool, object) and NumPy scalar types.
_LOOKUP: dict = {**_BY_ENUM, **_BY_NAME, float: float32, builtins.bool: bool, object: string,
                 np.object_: string, np.str_: string, np.bytes_: string}
_LOOKUP.update((d._np.type, d) for d in ALL_DTYPES if isinstance(d._np, np.dtype) and d._kind != "s")
if _ml_dtypes is not None:
    _LOOKUP[_ml_dtypes.bfloat16] = bfloat16


def _from_numpy_dtype(np_dtype: np.dtype):
    if np_dtype.kind in "USO":
        return string
    found = NP_TO_DTYPE.get(np_dtype)
    if found is None and np_dtype.byteorder not in "=|":  # a byte-swapped dtype: same type
        found = NP_TO_DTYPE.get(np_dtype.newbyteorder("="))
    return found


def as_dtype(type_value) -> DType:
    """Converts a DType, a name, an enum, a NumPy dtype or scalar type, or the Python types
    float, bool and object to a `tf.DType`."""
    if isinstance(type_value, DType):
        return type_value
    try:
        found = _LOOKUP.get(type_value)
    except TypeError:  # unhashable
        found = None
    if found is None:
        if isinstance(type_value, np.dtype):
            found = _from_numpy_dtype(type_value)
        elif isinstance(type_value, type) and issubclass(type_value, np.generic):
            found = _from_numpy_dtype(np.dtype(type_value))
        elif isinstance(getattr(type_value, "dtype", None), np.dtype):  # a NumPy array
            found = _from_numpy_dtype(type_value.dtype)
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
