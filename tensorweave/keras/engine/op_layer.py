"""The layers that operators and indexing on KerasTensors add to a functional graph, written and
read as the `keras.ops` nodes Keras 3 records for them."""
from __future__ import annotations

import operator

from tensorweave.keras.engine.layer import Layer


# -- Keras 3's operation nodes ------------------------------------------------------------------
# A Keras 3 functional model records the `keras.ops` calls made on its KerasTensors as nodes of
# class `keras.src.ops.<family>.<Name>`, with the op's own arguments (axis, dtype...) as their
# config: the mask an `Embedding(mask_zero=True)` or a `Masking` layer computes (`NotEqual`,
# `Any`), or `x + 1.0` (`Add`). Loading such a file rebuilds each as a layer computing the op.
def _math():
    from tensorweave.ops import math_ops
    return math_ops


def _reduction(name):
    def reduce(x, axis=None, keepdims=False):
        from tensorweave.ops import reduction_ops
        if name in ("reduce_any", "reduce_all"):
            x = _math().cast(x, "bool")
        return getattr(reduction_ops, name)(x, axis=axis, keepdims=keepdims)
    return reduce


def _binary(name):
    return lambda x1, x2: getattr(_math(), name)(x1, x2)


def _unary(name):
    return lambda x: getattr(_math(), name)(x)


def _expand_dims(x, axis):
    from tensorweave.ops import array_ops
    return array_ops.expand_dims(x, axis)


def _get_item(x, key):
    # a tuple key comes back from JSON as a list, which would index differently
    return x[tuple(key) if isinstance(key, list) else key]


def _squeeze(x, axis=None):
    from tensorweave.ops import array_ops
    return array_ops.squeeze(x, axis)


# Keras op class -> (its family module in Keras, the computation, the names its config may hold)
_KERAS_OPERATIONS = {
    **{name: ("numpy", _binary(fn), ()) for name, fn in (
        ("NotEqual", "not_equal"), ("Equal", "equal"), ("Greater", "greater"),
        ("GreaterEqual", "greater_equal"), ("Less", "less"), ("LessEqual", "less_equal"),
        ("LogicalAnd", "logical_and"), ("LogicalOr", "logical_or"), ("Add", "add"),
        ("Subtract", "subtract"), ("Multiply", "multiply"), ("Divide", "divide"),
        ("TrueDivide", "truediv"), ("Maximum", "maximum"), ("Minimum", "minimum"))},
    **{name: ("numpy", _unary(fn), ()) for name, fn in (
        ("LogicalNot", "logical_not"), ("Negative", "negative"), ("Absolute", "abs"),
        ("Abs", "abs"))},
    **{name: ("numpy", _reduction(fn), ("axis", "keepdims")) for name, fn in (
        ("Any", "reduce_any"), ("All", "reduce_all"), ("Sum", "reduce_sum"),
        ("Mean", "reduce_mean"))},
    **{name: ("numpy", fn, ()) for name, fn in (
        ("FloorDivide", operator.floordiv), ("Mod", operator.mod), ("Power", operator.pow),
        ("Matmul", operator.matmul))},
    "GetItem": ("numpy", _get_item, ()),
    "ExpandDims": ("numpy", _expand_dims, ("axis",)),
    "Squeeze": ("numpy", _squeeze, ("axis",)),
    "Cast": ("core", lambda x, dtype: _math().cast(x, dtype), ("dtype",)),
}


class KerasOperation(Layer):
    """One `keras.ops` call of a Keras 3 functional graph: `call(*args)` applies the op with
    the arguments its config holds; its config is Keras's (`name` and those arguments)."""

    _op = None
    _op_arguments: tuple = ()

    def __init__(self, name=None, **arguments):
        unknown = sorted(set(arguments) - set(self._op_arguments))
        if unknown:
            raise TypeError(f"The Keras operation {type(self).__name__} got unexpected "
                            f"arguments {unknown}.")
        super().__init__(name=name)
        self._arguments = arguments
        self.built = True

    def call(self, *args):
        return type(self)._op(*args, **self._arguments)

    def get_config(self) -> dict:
        return {"name": self.name, **self._arguments}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_operation_classes: dict = {}


def keras_operation_class(module: str, class_name: str):
    """The class rebuilding Keras's `<module>.<class_name>` op nodes (`module` is
    `keras.src.ops.numpy`...), or None for an op not supported here."""
    entry = _KERAS_OPERATIONS.get(class_name)
    if entry is None or module != f"keras.src.ops.{entry[0]}":
        return None
    cls = _operation_classes.get(class_name)
    if cls is None:
        cls = _operation_classes[class_name] = type(class_name, (KerasOperation,), {
            "__module__": __name__, "_keras_module": module,
            "_op": staticmethod(entry[1]), "_op_arguments": entry[2]})
    return cls


def apply_op(op_name: str, *args):
    """An operator applied to KerasTensors (`x + 1.0`, `x[:, 0]`): a new `op_name` node."""
    return keras_operation_class("keras.src.ops.numpy", op_name)()(*args)


class FunctionOp(Layer):
    """A function applied to KerasTensors outside `keras.ops` (an activation called on a
    symbolic tensor); it runs, but has no config: save such models with a layer instead."""

    def __init__(self, fn, **kwargs):
        super().__init__(**kwargs)
        self._fn = fn
        self.built = True

    def call(self, *args):
        return self._fn(*args)

    def get_config(self) -> dict:
        raise NotImplementedError(f"The operation '{self.name}' cannot be serialized: use a "
                                  "layer (`keras.layers.Activation(...)`, a `Lambda`) instead.")


_function_op_classes: dict = {}


def apply_function(op_name: str, fn, *args):
    """`fn(*args)` on KerasTensors as a node of class `op_name` (Relu, Softmax...)."""
    cls = _function_op_classes.get(op_name)
    if cls is None:
        cls = _function_op_classes[op_name] = type(op_name, (FunctionOp,),
                                                   {"__module__": __name__})
    return cls(fn)(*args)
