"""Elementwise math: arithmetic, transcendental functions, comparisons, logic, casts."""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import binary_operands, convert_to_tensor, unsupported_dtype
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import shape_rules
from tensorweave.ops.broadcast_grad import unbroadcast


def _binary_op(prim, allowed, doc: str):
    """The public function of a broadcasting binary primitive: `f(x, y, name=None)`."""
    def op(x, y, name=None):
        x, y = binary_operands(prim.name, x, y, allowed)
        return execute(prim, (x, y))
    op.__doc__ = doc
    return op


def _unary_op(prim, allowed, doc: str):
    """The public function of an elementwise unary primitive: `f(x, name=None)`."""
    def op(x, name=None):
        x = convert_to_tensor(x)
        if x._dtype._enum not in allowed:
            raise unsupported_dtype(prim.name, x._dtype)
        return execute(prim, (x,))
    op.__doc__ = doc
    return op


# -- arithmetic ------------------------------------------------------------------------------
def _add_grad(op, dy):
    x, y = op.inputs
    return unbroadcast(dy, x), unbroadcast(dy, y)


def _subtract_grad(op, dy):
    x, y = op.inputs
    return unbroadcast(dy, x), unbroadcast(negative(dy), y)


def _multiply_grad(op, dy):
    x, y = op.inputs
    return unbroadcast(multiply(dy, y), x), unbroadcast(multiply(dy, x), y)


def _divide_grad(op, dy):
    x, y = op.inputs
    return (unbroadcast(divide(dy, y), x),
            unbroadcast(negative(multiply(dy, divide(op.outputs[0], y))), y))


def _true_divide(x, y):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.true_divide(x, y)


ADD = primitive("AddV2", np.add, _add_grad, shape_rules.broadcast)
SUBTRACT = primitive("Sub", np.subtract, _subtract_grad, shape_rules.broadcast)
MULTIPLY = primitive("Mul", np.multiply, _multiply_grad, shape_rules.broadcast)
REAL_DIV = primitive("RealDiv", _true_divide, _divide_grad, shape_rules.broadcast)
NEGATE = primitive("Neg", np.negative, lambda op, dy: negative(dy), shape_rules.same_as_input)

add = _binary_op(ADD, dtypes.NUMBER | dtypes.STRING, "x + y elementwise, broadcasting (tf.math.add).")
subtract = _binary_op(SUBTRACT, dtypes.NUMBER, "x - y elementwise, broadcasting.")
multiply = _binary_op(MULTIPLY, dtypes.NUMBER, "x * y elementwise, broadcasting.")
realdiv = _binary_op(REAL_DIV, dtypes.NUMBER, "x / y for floating tensors.")
negative = _unary_op(NEGATE, dtypes.NUMBER, "-x elementwise.")

_INT_TRUEDIV_RESULT = {dtypes.int8: dtypes.float32, dtypes.int16: dtypes.float32,
                       dtypes.uint8: dtypes.float32, dtypes.uint16: dtypes.float32,
                       dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64}


def divide(x, y, name=None):
    """x / y; integer tensors are first cast to float (float64 for int32/int64), as in TF."""
    x, y = binary_operands("RealDiv", x, y, dtypes.NUMBER)
    target = _INT_TRUEDIV_RESULT.get(x._dtype)
    if target is not None:
        x, y = cast(x, target), cast(y, target)
    return execute(REAL_DIV, (x, y))


truediv = divide


EXP = primitive("Exp", np.exp, lambda op, dy: multiply(dy, op.outputs[0]), shape_rules.same_as_input)
exp = _unary_op(EXP, dtypes.INEXACT, "e ** x elementwise.")


# -- casts -----------------------------------------------------------------------------------
def _cast_forward(x, dtype):
    if dtype is dtypes.bool:
        return x.astype(np.bool_)
    return np.asarray(x).astype(dtype.as_numpy_dtype)


def _cast_grad(op, dy):
    source = op.inputs[0].dtype
    if not (source.is_floating or source.is_complex):
        return None
    return cast(dy, source)


def _cast_abstract(x, dtype):
    return TensorSpec(x.shape, dtype)


CAST = primitive("Cast", _cast_forward, _cast_grad, _cast_abstract)


def cast(x, dtype, name=None):
    """x converted to `dtype` (floats to ints truncate toward zero)."""
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x._dtype is dtype:
        return x
    if (x._dtype is dtypes.string) != (dtype is dtypes.string):
        raise unsupported_dtype("Cast", x._dtype)
    return execute(CAST, (x,), {"dtype": dtype})
