"""KerasTensor: a symbolic placeholder for a shape and dtype, the value flowing between layers
while a functional model is defined. Operators and indexing on it add small op layers."""
from __future__ import annotations

from typing import Optional

from tensorweave.framework import dtypes
from tensorweave.keras.engine import naming


def is_keras_tensor(x) -> bool:
    """Whether `x` is a symbolic KerasTensor (made from `keras.Input` and layer calls)."""
    return getattr(x, "_is_keras_tensor", False)


def shape_tuple(x):
    """The shape of a tensor or KerasTensor as a tuple (None for unknown dimensions), or None
    when even the rank is unknown."""
    shape = x.shape
    if hasattr(shape, "as_list"):
        return None if shape.rank is None else tuple(shape.as_list())
    return tuple(shape)


class KerasHistory(tuple):
    """(operation, node_index, tensor_index): which layer call made a KerasTensor."""

    operation = property(lambda self: self[0])
    node_index = property(lambda self: self[1])
    tensor_index = property(lambda self: self[2])


def standardize_shape(shape) -> tuple:
    if shape is None:
        raise ValueError("Undefined shapes are not supported.")
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, int):
        shape = (shape,)
    out = []
    for d in shape:
        if d is None:
            out.append(None)
            continue
        d = getattr(d, "value", d)
        if not isinstance(d, int) and not (hasattr(d, "__index__") and not isinstance(d, float)):
            raise ValueError(f"Cannot convert '{tuple(shape)}' to a shape. Found invalid entry "
                             f"'{d}' of type '{type(d)}'.")
        d = int(d)
        if d < 0:
            raise ValueError(f"Cannot convert '{tuple(shape)}' to a shape. Negative dimensions "
                             "are not allowed.")
        out.append(d)
    return tuple(out)


class KerasTensor:
    """The symbolic output of a layer called on `keras.Input`s: it has a shape (a tuple with
    None for unknown dimensions), a dtype name, and the history of the call that made it."""

    _is_keras_tensor = True
    __array_priority__ = 1000

    def __init__(self, shape, dtype="float32", sparse: bool = False, name: Optional[str] = None):
        self._shape = standardize_shape(shape)
        self._dtype = dtypes.as_dtype(dtype).name
        self.sparse = bool(sparse)
        self.ragged = False
        self.name = name or naming.unique_name("keras_tensor")
        self._keras_history = None
        self._keras_mask = None

    shape = property(lambda self: self._shape)
    dtype = property(lambda self: self._dtype)
    ndim = property(lambda self: len(self._shape))

    def __repr__(self):
        return (f"<KerasTensor shape={self._shape}, dtype={self._dtype}, sparse={self.sparse}, "
                f"ragged={self.ragged}, name={self.name}>")

    def _not_a_tensor(self, *args, **kwargs):
        raise ValueError(
            "A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor is a "
            "symbolic placeholder for a shape and dtype, used when constructing Keras Functional "
            "models or Keras Functions. You can only use it as input to a Keras layer or a Keras "
            "operation (operators and indexing work too). To use a TensorFlow function on it, "
            f"wrap it in a layer: `keras.layers.Lambda(lambda x: tf_fn(x))`. Got: {self!r}")

    __tf_tensor__ = _not_a_tensor
    __array__ = _not_a_tensor

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")

    def __len__(self):
        if not self._shape or self._shape[0] is None:
            raise TypeError(f"len() of a KerasTensor with an unknown first dimension: {self!r}")
        return self._shape[0]

    def __iter__(self):
        raise TypeError("Iterating over a symbolic KerasTensor is not supported.")


def _install_operators() -> None:
    """`+ - * / // % ** @`, unary `-`, `abs`, comparisons and `[]` add `keras.ops` nodes."""
    from tensorweave.keras.engine.op_layer import apply_op

    def binary(op_name):
        def method(self, other):
            return apply_op(op_name, self, other)

        def reflected(self, other):
            return apply_op(op_name, other, self)
        return method, reflected

    for dunder, op_name in (("add", "Add"), ("sub", "Subtract"), ("mul", "Multiply"),
                            ("truediv", "TrueDivide"), ("floordiv", "FloorDivide"),
                            ("mod", "Mod"), ("pow", "Power"), ("matmul", "Matmul")):
        method, reflected = binary(op_name)
        setattr(KerasTensor, f"__{dunder}__", method)
        setattr(KerasTensor, f"__r{dunder}__", reflected)
    for dunder, op_name in (("lt", "Less"), ("le", "LessEqual"), ("gt", "Greater"),
                            ("ge", "GreaterEqual")):
        setattr(KerasTensor, f"__{dunder}__", binary(op_name)[0])
    KerasTensor.__neg__ = lambda self: apply_op("Negative", self)
    KerasTensor.__abs__ = lambda self: apply_op("Absolute", self)
    KerasTensor.__getitem__ = lambda self, key: apply_op("GetItem", self, key)


_install_operators()
