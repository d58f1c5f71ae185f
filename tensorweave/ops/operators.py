"""Python operators on Tensor and Variable: `+`, `*`, `@`, `==`, indexing... mapped onto ops."""
from __future__ import annotations

from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable
from tensorweave.ops import math_ops


def _reflected(op):
    return lambda self, other: op(other, self)


_BINARY = {
    "add": math_ops.add,
    "sub": math_ops.subtract,
    "mul": math_ops.multiply,
    "truediv": math_ops.divide,
}

for _cls in (Tensor, Variable):
    for _name, _op in _BINARY.items():
        setattr(_cls, f"__{_name}__", _op)
        setattr(_cls, f"__r{_name}__", _reflected(_op))
    _cls.__neg__ = math_ops.negative
