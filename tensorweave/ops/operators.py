"""Python operators on Tensor and Variable: `+`, `*`, `@`, `==`, `&`, indexing... mapped onto ops.

As in TensorFlow 2: `/` is true division (integer tensors give floats), `//` floor division,
`%` floor modulo; `&`, `|`, `^`, `~` are logical on bool tensors and bitwise on integer tensors;
`*` on a bool tensor is a logical and; `==` and `!=` are elementwise, and give a scalar
False/True tensor when the shapes cannot broadcast. Tensors have no unary `+`, `<<` or `>>`
(TypeError, as in TensorFlow; tf.bitwise has the shifts).
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import binary_operands, convert_to_tensor
from tensorweave.framework.errors import InvalidArgumentError
from tensorweave.framework.op_registry import execute
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable
from tensorweave.ops import array_ops, math_ops

_BOOL = dtypes.bool


def _reflected(op):
    return lambda self, other: op(other, self)


def _matmul(x, y):
    from tensorweave.ops import linalg_ops
    return linalg_ops.matmul(x, y)


def _logical_or_bitwise(logical, bitwise):
    """`&`-style operators: logical on bool tensors, bitwise otherwise; `self` decides."""
    def op(self, other):
        return (logical if self.dtype is _BOOL else bitwise)(self, other)

    def rop(self, other):
        return (logical if self.dtype is _BOOL else bitwise)(other, self)
    return op, rop


def _invert(self):
    if self.dtype is _BOOL:
        return math_ops.logical_not(self)
    return math_ops.invert(self)


def _compare(prim, incompatible_result: bool):
    """`==` / `!=`: elementwise, or a scalar False / True when the shapes do not broadcast."""
    def op(self, other):
        if other is None:
            return incompatible_result
        x, y = binary_operands(prim.name, self, other, None)
        try:
            return execute(prim, (x, y))
        except InvalidArgumentError:
            if _broadcastable(x, y):
                raise
            return Tensor(np.bool_(incompatible_result), _BOOL)
    return op


def _broadcastable(x, y) -> bool:
    try:
        np.broadcast_shapes(np.shape(x._value), np.shape(y._value))
    except ValueError:
        return False
    return True


def _multiply(self, other):
    """`self * other`: on a bool tensor, a logical and with `other` cast to bool (as in TF)."""
    if self._dtype is _BOOL:
        other = convert_to_tensor(other)
        if other.dtype is not _BOOL:
            other = math_ops.cast(other, _BOOL)
        return math_ops.logical_and(self, other)
    return math_ops.multiply(self, other)


def _reflected_multiply(self, other):
    if self._dtype is _BOOL:  # `other` must then convert to bool itself: `3 * t` is a TypeError
        return math_ops.logical_and(convert_to_tensor(other, dtype=_BOOL), self)
    return math_ops.multiply(other, self)


_BINARY = {
    "add": math_ops.add,  # `t + v` converts as tf.add: v takes t's dtype only where it can
    "sub": math_ops.subtract,
    "truediv": math_ops.divide,
    "floordiv": math_ops.floordiv,
    "mod": math_ops.floormod,
    "pow": math_ops.pow,
    "matmul": _matmul,
}

_LOGICAL = {
    "and": (math_ops.logical_and, math_ops.bitwise_and),
    "or": (math_ops.logical_or, math_ops.bitwise_or),
    "xor": (math_ops.logical_xor, math_ops.bitwise_xor),
}

_COMPARISONS = {
    "lt": math_ops.less,
    "le": math_ops.less_equal,
    "gt": math_ops.greater,
    "ge": math_ops.greater_equal,
}

for _cls in (Tensor, Variable):
    for _name, _op in _BINARY.items():
        setattr(_cls, f"__{_name}__", _op)
        setattr(_cls, f"__r{_name}__", _reflected(_op))
    _cls.__radd__ = _reflected(math_ops.add_operands)  # `v + t`: v must take t's dtype
    _cls.__mul__ = _multiply
    _cls.__rmul__ = _reflected_multiply
    for _name, (_logical, _bitwise) in _LOGICAL.items():
        _op, _rop = _logical_or_bitwise(_logical, _bitwise)
        setattr(_cls, f"__{_name}__", _op)
        setattr(_cls, f"__r{_name}__", _rop)
    for _name, _op in _COMPARISONS.items():
        setattr(_cls, f"__{_name}__", _op)
    _cls.__eq__ = _compare(math_ops.EQUAL, False)
    _cls.__ne__ = _compare(math_ops.NOT_EQUAL, True)
    _cls.__neg__ = math_ops.negative
    _cls.__abs__ = math_ops.abs
    _cls.__invert__ = _invert

Tensor.__getitem__ = array_ops.getitem
Variable.__getitem__ = array_ops.getitem_variable


def _sparse_read(self, indices, name=None):
    """Rows `indices` of the variable (tf.gather), recorded as a read on tapes."""
    return array_ops.gather(self, indices)


def _gather_nd(self, indices, name=None):
    """tf.gather_nd on the variable's value."""
    return array_ops.gather_nd(self, indices)


# Variable methods that need ops: installed here, since framework/ does not import ops/.
Variable.sparse_read = _sparse_read
Variable.gather_nd = _gather_nd
