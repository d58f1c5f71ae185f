"""Python operators on Tensor and Variable: `+`, `*`, `@`, `==`, `&`, indexing... mapped onto ops.

As in TensorFlow 2: `/` is true division (integer tensors give floats), `//` floor division,
`%` floor modulo; `&`, `|`, `^`, `~` are logical on bool tensors and bitwise on integer tensors;
`==` and `!=` are elementwise, and give a scalar False/True tensor when the shapes cannot broadcast.
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import binary_operands
from tensorweave.framework.errors import InvalidArgumentError
from tensorweave.framework.op_registry import execute
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable
from tensorweave.ops import math_ops

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


def _getitem(self, key):
    from tensorweave.ops import array_ops
    return array_ops.getitem(self, key)


def _getitem_variable(self, key):
    from tensorweave.ops import array_ops
    return array_ops.getitem_variable(self, key)


def _positive(self):
    # TensorFlow has no unary `+`; here it gives the value unchanged (a tensor for a variable).
    return self if isinstance(self, Tensor) else self.value()


_BINARY = {
    "add": math_ops.add,
    "sub": math_ops.subtract,
    "mul": math_ops.multiply,
    "truediv": math_ops.divide,
    "floordiv": math_ops.floordiv,
    "mod": math_ops.floormod,
    "pow": math_ops.pow,
    "matmul": _matmul,
    "lshift": math_ops.left_shift,
    "rshift": math_ops.right_shift,
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
    for _name, (_logical, _bitwise) in _LOGICAL.items():
        _op, _rop = _logical_or_bitwise(_logical, _bitwise)
        setattr(_cls, f"__{_name}__", _op)
        setattr(_cls, f"__r{_name}__", _rop)
    for _name, _op in _COMPARISONS.items():
        setattr(_cls, f"__{_name}__", _op)
    _cls.__eq__ = _compare(math_ops.EQUAL, False)
    _cls.__ne__ = _compare(math_ops.NOT_EQUAL, True)
    _cls.__neg__ = math_ops.negative
    _cls.__pos__ = _positive
    _cls.__abs__ = math_ops.abs
    _cls.__invert__ = _invert

Tensor.__getitem__ = _getitem
Variable.__getitem__ = _getitem_variable
