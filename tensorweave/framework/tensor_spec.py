"""tf.TensorSpec: the shape and dtype of a tensor without its value; abstract evaluation works on these."""
from __future__ import annotations

from typing import Optional

from tensorweave.framework import dtypes
from tensorweave.framework.tensor_shape import as_shape


class TensorSpec:
    """Describes a tensor: `tf.TensorSpec(shape=[None, 3], dtype=tf.float32, name=None)`.

    `value` is a known constant NumPy value, where there is one (abstract evaluation of an op
    whose output shape depends on the contents of an input, such as reshape's shape).
    """

    __slots__ = ("_shape", "_dtype", "_name", "value")

    def __init__(self, shape, dtype=dtypes.float32, name: Optional[str] = None, value=None):
        self._shape = as_shape(shape)
        self._dtype = dtypes.as_dtype(dtype)
        self._name = name
        self.value = value

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    name = property(lambda self: self._name)

    @classmethod
    def from_tensor(cls, tensor, name: Optional[str] = None) -> "TensorSpec":
        return cls(tensor.shape, tensor.dtype, name)

    def is_compatible_with(self, other) -> bool:
        return (self._dtype == other.dtype) and self._shape.is_compatible_with(other.shape)

    def most_specific_compatible_type(self, other) -> "TensorSpec":
        if self._dtype != other.dtype:
            raise ValueError(f"No TensorSpec is compatible with both {self} and {other}")
        return TensorSpec(self._shape.most_specific_compatible_shape(other.shape), self._dtype)

    def __eq__(self, other):
        return (isinstance(other, TensorSpec) and self._shape == other._shape
                and self._dtype == other._dtype and self._name == other._name)

    def __hash__(self):
        return hash((self._shape, self._dtype, self._name))

    def __repr__(self):
        return f"TensorSpec(shape={self._shape}, dtype={self._dtype!r}, name={self._name!r})"
