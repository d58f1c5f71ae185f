"""Elementwise math: arithmetic, transcendental functions, comparisons, logic, bitwise, casts."""
from __future__ import annotations

import math

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import (
    binary_operands, convert_checked, convert_like, convert_to_tensor, dtype_mismatch,
    is_tensor_like, unsupported_dtype)
from tensorweave.framework.errors import (
    InternalError, InvalidArgumentError, NotFoundError, UnimplementedError, op_error)
from tensorweave.framework.indexed_slices import IndexedSlices
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.tensor_shape import broadcast_static_shape
from tensorweave.ops import array_ops, shape_rules
from tensorweave.ops.broadcast_grad import unbroadcast

_E = dtypes._enums
FLOAT_OR_COMPLEX = dtypes.INEXACT
SIGNED_REAL = dtypes.FLOATING | dtypes.SIGNED_INTEGER
SIGNED_NUMBER = SIGNED_REAL | dtypes.COMPLEX
ALL_TYPES = frozenset(d._enum for d in dtypes.ALL_DTYPES)


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
        x = convert_checked(x, prim.name, allowed)
        return execute(prim, (x,))
    op.__doc__ = doc
    return op


def _no_kernel(op_name: str, dtype: dtypes.DType):
    """TensorFlow declares the dtype for the op but has no CPU kernel for it (NotFoundError)."""
    return op_error(NotFoundError, op_name, f"Could not find device for node: {{{{node {op_name}}}}} "
                    f"= {op_name}[T=DT_{dtype.name.upper()}]")


def _same_dtype_operands(x, y, what: str = "`x` and `y`"):
    """Operands of the Python-level division wrappers, which raise TypeError on a dtype mismatch.

    As TensorFlow: `y` takes x's dtype where it can (`t / 2.5` on ints is then a dtype mismatch);
    a Python `x` beside a tensor must take the tensor's dtype (`2.5 / t` cannot convert 2.5).
    """
    if is_tensor_like(y) and not is_tensor_like(x):
        y = convert_to_tensor(y)
        x = convert_like(x, y._dtype)
    else:
        x = convert_to_tensor(x)
        y = convert_to_tensor(y, dtype_hint=x._dtype)
    if x._dtype is not y._dtype:
        raise TypeError(f"{what} must have the same dtype, got {x._dtype!r} != {y._dtype!r}.")
    return x, y


try:  # NumPy 2 keeps its error state in a context variable: setting it is 6x cheaper than errstate
    from numpy._core import _ufunc_config as _ufunc_config
    _ERRSTATE = _ufunc_config._extobj_contextvar
    with np.errstate(all="ignore"):
        _IGNORE_ALL = _ERRSTATE.get()
except (ImportError, AttributeError):  # pragma: no cover - other NumPy versions
    _ERRSTATE = None


def _quiet(fn):
    """`fn` run with NumPy's floating-point warnings silenced (TensorFlow gives inf/NaN silently)."""
    if _ERRSTATE is None:  # pragma: no cover
        def forward(*args, **attrs):
            with np.errstate(all="ignore"):
                return fn(*args, **attrs)
        return forward
    set_state, reset_state = _ERRSTATE.set, _ERRSTATE.reset

    def forward(*args, **attrs):
        token = set_state(_IGNORE_ALL)
        try:
            return fn(*args, **attrs)
        finally:
            reset_state(token)
    return forward


def conj(x, name=None):
    """The complex conjugate; real numeric tensors are returned unchanged."""
    x = convert_to_tensor(x)
    if x._dtype._enum in dtypes.COMPLEX:
        return execute(CONJ, (x,))
    if x._dtype.is_numeric:
        return x
    raise TypeError(f"Expected numeric or variant tensor, got dtype {x._dtype!r}.")


# -- arithmetic ------------------------------------------------------------------------------
def _add_grad(op, dy):
    x, y = op.inputs
    return unbroadcast(dy, x), unbroadcast(dy, y)


def _subtract_grad(op, dy):
    x, y = op.inputs
    return unbroadcast(dy, x), unbroadcast(negative(dy), y)


def _multiply_grad(op, dy):
    x, y = op.inputs
    return (unbroadcast(multiply(dy, conj(y)), x) if op.needs_gradient(0) else None,
            unbroadcast(multiply(conj(x), dy), y) if op.needs_gradient(1) else None)


def _divide_grad(op, dy):
    x, y = op.inputs
    y = conj(y)
    return (unbroadcast(realdiv(dy, y), x),
            unbroadcast(negative(multiply(dy, realdiv(conj(op.outputs[0]), y))), y))


ADD = primitive("AddV2", _quiet(np.add), _add_grad, shape_rules.broadcast)
SUBTRACT = primitive("Sub", _quiet(np.subtract), _subtract_grad, shape_rules.broadcast)
MULTIPLY = primitive("Mul", _quiet(np.multiply), _multiply_grad, shape_rules.broadcast)
_COMPLEX_NAN = complex(math.nan, math.nan)


@_quiet
def _realdiv_forward(x, y):
    out = np.true_divide(x, y)
    if out.dtype.kind == "c":  # TF's complex quotient by 0 is nan+nanj (NumPy's may be inf)
        by_zero = np.equal(y, 0)
        if by_zero.any():
            out = np.where(by_zero, out.dtype.type(_COMPLEX_NAN), out)
    return out


REAL_DIV = primitive("RealDiv", _realdiv_forward, _divide_grad, shape_rules.broadcast)
NEGATE = primitive("Neg", np.negative, lambda op, dy: negative(dy), shape_rules.same_as_input)

_ADD_TYPES = dtypes.NUMBER | dtypes.STRING
add_operands = _binary_op(ADD, _ADD_TYPES, "x + y, either operand taking the other's dtype (`1 + t`).")


def add(x, y, name=None):
    """x + y elementwise, broadcasting (strings concatenate).

    As tf.add: `x` is converted on its own and `y` takes x's dtype where it can, so that
    `add(1, float_tensor)` is a dtype mismatch (the `+` operator converts both ways).
    """
    if type(x) is not Tensor:
        x = convert_to_tensor(x)
    if type(y) is not Tensor:
        y = convert_to_tensor(y, dtype_hint=x._dtype)
    if x._dtype is not y._dtype:
        raise dtype_mismatch("AddV2", 1, x._dtype, y._dtype)
    if x._dtype._enum not in _ADD_TYPES:
        raise unsupported_dtype("AddV2", x._dtype)
    return execute(ADD, (x, y))


subtract = _binary_op(SUBTRACT, dtypes.NUMBER, "x - y elementwise, broadcasting.")
multiply = _binary_op(MULTIPLY, dtypes.NUMBER, "x * y elementwise, broadcasting.")
negative = _unary_op(NEGATE, SIGNED_NUMBER, "-x elementwise.")


def realdiv(x, y, name=None):
    """x / y for floating and complex tensors (no integer kernel, as in TensorFlow)."""
    x, y = binary_operands("RealDiv", x, y, dtypes.NUMBER)
    if x._dtype._enum not in FLOAT_OR_COMPLEX:
        raise _no_kernel("RealDiv", x._dtype)
    return execute(REAL_DIV, (x, y))


_INT_TRUEDIV_RESULT = {dtypes.int8: dtypes.float32, dtypes.int16: dtypes.float32,
                       dtypes.uint8: dtypes.float32, dtypes.uint16: dtypes.float32,
                       dtypes.int32: dtypes.float64, dtypes.int64: dtypes.float64,
                       dtypes.uint32: dtypes.float64, dtypes.uint64: dtypes.float64}
_TRUEDIV_ALLOWED = "{tf.uint8, tf.int8, tf.uint16, tf.int16, tf.uint32, tf.int32, tf.uint64, " \
                   "tf.int64, tf.bfloat16, tf.float16, tf.float32, tf.float64, tf.complex64, tf.complex128}"


def divide(x, y, name=None):
    """x / y; integer tensors are first cast to float (float64 for 32- and 64-bit ints), as in TF."""
    if type(x) is Tensor and type(y) is Tensor and x._dtype is y._dtype:
        pass  # the common case, without conversions
    else:
        x, y = _same_dtype_operands(x, y)
    dtype = x._dtype
    if dtype._enum not in FLOAT_OR_COMPLEX:
        target = _INT_TRUEDIV_RESULT.get(dtype)
        if target is None:
            raise TypeError(f"Invalid dtype {dtype!r} in __truediv__. Expected one of {_TRUEDIV_ALLOWED}.")
        x, y = cast(x, target), cast(y, target)
    return execute(REAL_DIV, (x, y))


def truediv(x, y, name=None):
    """x / y as tf.math.truediv: `x` is converted on its own and `y` takes x's dtype where it can
    (so `truediv(1, float_tensor)` is a TypeError); integers are cast to float as in `divide`."""
    x = convert_to_tensor(x)
    y = convert_to_tensor(y, dtype_hint=x._dtype)
    if x._dtype is not y._dtype:
        raise TypeError(f"`x` and `y` must have the same dtype, got {x._dtype!r} != {y._dtype!r}.")
    return divide(x, y)


@_quiet
def _div_no_nan_forward(x, y):
    return np.where(y == 0, np.zeros((), np.result_type(x)), np.true_divide(x, y))


def _div_no_nan_grad(op, dy):
    x, y = op.inputs
    x, y = conj(x), conj(y)
    return (unbroadcast(divide_no_nan(dy, y), x),
            unbroadcast(multiply(dy, divide_no_nan(divide_no_nan(negative(x), y), y)), y))


DIV_NO_NAN = primitive("DivNoNan", _div_no_nan_forward, _div_no_nan_grad, shape_rules.broadcast)


def divide_no_nan(x, y, name=None):
    """x / y, and 0 wherever y is 0 (integers are cast to float first, as in `divide`)."""
    x, y = _same_dtype_operands(x, y)
    dtype = x._dtype
    if dtype._enum not in FLOAT_OR_COMPLEX:
        target = _INT_TRUEDIV_RESULT.get(dtype)
        if target is None:
            raise TypeError(f"Invalid dtype {dtype!r} in tf.math.divide_no_nan. Expected one of "
                            f"{_TRUEDIV_ALLOWED}.")
        x, y = cast(x, target), cast(y, target)
    return execute(DIV_NO_NAN, (x, y))


def _integer_division_check(y, op_name: str):
    if y.dtype.kind in "iu" and not np.all(y):
        raise op_error(InvalidArgumentError, op_name, "Integer division by zero")


@_quiet
def _floordiv_forward(x, y):
    if x.dtype.kind in "iu":
        _integer_division_check(y, "FloorDiv")
        return np.floor_divide(x, y)
    return np.floor(np.true_divide(x, y))  # floor(x / y): -1 // inf is -0 as in TF, not -1


@_quiet
def _floormod_forward(x, y):
    if x.dtype.kind in "iu":
        _integer_division_check(y, "FloorMod")
        return np.mod(x, y)
    r = np.fmod(x, y)  # the truncated remainder, moved to the sign of the divisor
    return np.where((r != 0) & ((y < 0) != (r < 0)), r + y, r)


def _floormod_grad(op, dy):
    x, y = op.inputs
    return (unbroadcast(dy, x),
            unbroadcast(multiply(dy, negative(floordiv(x, y))), y))


def _truncate_check(y, op_name: str):
    if y.dtype.kind in "iu" and not np.all(y):
        raise op_error(InternalError, op_name,
                       "Unexpected error in binary operator (only integer div and mod should have errors)")


@_quiet
def _truncatediv_forward(x, y):
    if x.dtype.kind in "iu":
        _truncate_check(y, "TruncateDiv")
        q = np.floor_divide(x, y)
        # Floor division rounds down; truncation rounds toward zero when the signs differ.
        fix = (np.mod(x, y) != 0) & ((x < 0) != (y < 0))
        return np.where(fix, q + np.ones((), q.dtype), q)
    return np.trunc(np.true_divide(x, y))


@_quiet
def _truncatemod_forward(x, y):
    if x.dtype.kind in "iu":
        _truncate_check(y, "TruncateMod")
    return np.fmod(x, y)


FLOOR_DIV = primitive("FloorDiv", _floordiv_forward, None, shape_rules.broadcast)
FLOOR_MOD = primitive("FloorMod", _floormod_forward, _floormod_grad, shape_rules.broadcast)
TRUNCATE_DIV = primitive("TruncateDiv", _truncatediv_forward, None, shape_rules.broadcast)
TRUNCATE_MOD = primitive("TruncateMod", _truncatemod_forward, None, shape_rules.broadcast)

def _binary_op_without_kernels(prim, allowed, missing, doc: str):
    """As _binary_op, for an op TF declares for the dtypes `missing` without a CPU kernel."""
    def op(x, y, name=None):
        x, y = binary_operands(prim.name, x, y, allowed | missing)
        if x._dtype._enum in missing:
            raise _no_kernel(prim.name, x._dtype)
        return execute(prim, (x, y))
    op.__doc__ = doc
    return op


floordiv = _binary_op_without_kernels(
    FLOOR_DIV, dtypes.REAL_NUMBER, dtypes.COMPLEX,
    "floor(x / y) elementwise (x // y); integer division by zero is an error.")
floormod = _binary_op(FLOOR_MOD, dtypes.REAL_NUMBER,
                      "x - floor(x / y) * y: the remainder takes the sign of the divisor (x % y).")
mod = floormod
truncatediv = _binary_op_without_kernels(TRUNCATE_DIV, dtypes.REAL_NUMBER, dtypes.COMPLEX,
                                         "x / y rounded toward zero.")
truncatemod = _binary_op_without_kernels(
    TRUNCATE_MOD, _E(dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64),
    _E(dtypes.float16, dtypes.bfloat16), "The remainder of division rounded toward zero (C's fmod).")


@_quiet
def _pow_forward(x, y):
    if x.dtype.kind in "iu" and np.any(y < 0):
        raise op_error(InvalidArgumentError, "Pow", "Integers to negative integer powers are not allowed")
    return np.power(x, y)


def _pow_grad(op, dy):
    x, y = op.inputs
    z = op.outputs[0]
    gx = multiply(dy, conj(multiply(y, pow(x, subtract(y, 1)))))
    if x._dtype.is_complex:
        nonzero = not_equal(x, 0)
        log_x = array_ops.where(nonzero, log(array_ops.where(nonzero, x, array_ops.ones_like(x))),
                                array_ops.zeros_like(x))
    else:
        positive = greater(x, 0)  # d/dy x**y = x**y log(x), taken as 0 where log(x) is undefined
        log_x = array_ops.where(positive, log(array_ops.where(positive, x, array_ops.ones_like(x))),
                                array_ops.zeros_like(x))
    gy = multiply(dy, conj(multiply(z, log_x)))
    return unbroadcast(gx, x), unbroadcast(gy, y)


POW = primitive("Pow", _pow_forward, _pow_grad, shape_rules.broadcast)
pow = _binary_op(POW, SIGNED_NUMBER, "x ** y elementwise, broadcasting.")  # noqa: A001


def _max_min_grad(select):
    def grad(op, dy):
        x, y = op.inputs
        mask = select(x, y)
        zeros = array_ops.zeros_like(dy)
        return (unbroadcast(array_ops.where(mask, dy, zeros), x),
                unbroadcast(array_ops.where(mask, zeros, dy), y))
    return grad


MAXIMUM = primitive("Maximum", np.maximum,
                    _max_min_grad(lambda x, y: greater_equal(x, y)), shape_rules.broadcast)
MINIMUM = primitive("Minimum", np.minimum,
                    _max_min_grad(lambda x, y: less_equal(x, y)), shape_rules.broadcast)
maximum = _binary_op(MAXIMUM, dtypes.REAL_NUMBER,
                     "The larger of x and y elementwise (NaN wins); the gradient goes to x where x >= y.")
minimum = _binary_op(MINIMUM, dtypes.REAL_NUMBER,
                     "The smaller of x and y elementwise (NaN wins); the gradient goes to x where x <= y.")


def _squared_difference_forward(x, y):
    d = np.subtract(x, y)
    if d.dtype.kind == "c":
        return d * np.conj(d)
    return d * d


def _squared_difference_grad(op, dy):
    x, y = op.inputs
    # 2 dy (x - y), no conjugate, also for complex x: TF's convention, the same as for |x - y|**2
    g = multiply(multiply(dy, 2), subtract(x, y))
    return unbroadcast(g, x), unbroadcast(negative(g), y)


SQUARED_DIFFERENCE = primitive("SquaredDifference", _squared_difference_forward,
                               _squared_difference_grad, shape_rules.broadcast)
squared_difference = _binary_op(
    SQUARED_DIFFERENCE, dtypes.FLOATING | _E(dtypes.int32, dtypes.int64) | dtypes.COMPLEX,
    "(x - y) * conj(x - y) elementwise.")


def _atan2_grad(op, dy):
    y, x = op.inputs
    scale = realdiv(dy, add(square(x), square(y)))
    return unbroadcast(multiply(x, scale), y), unbroadcast(negative(multiply(y, scale)), x)


ATAN2 = primitive("Atan2", _quiet(np.arctan2), _atan2_grad, shape_rules.broadcast)


def atan2(y, x, name=None):
    """The angle of the point (x, y) from the x axis, in (-pi, pi]."""
    y, x = binary_operands("Atan2", y, x, dtypes.FLOATING)
    return execute(ATAN2, (y, x))


def scalar_mul(scalar, x, name=None):
    """The 0-D `scalar` times `x`, in x's dtype."""
    x = convert_to_tensor(x)
    scalar = convert_to_tensor(scalar, dtype=x._dtype)
    if np.ndim(scalar._value) != 0:
        raise ValueError(f"The input scalar must be a 0-D value. Received shape {scalar.shape}.")
    return multiply(scalar, x)


# -- add_n -------------------------------------------------------------------------------------
def _add_n_forward(*xs):
    first = np.shape(xs[0])
    for i, x in enumerate(xs[1:], 1):
        if np.shape(x) != first:
            raise op_error(InvalidArgumentError, "AddN",
                           f"Inputs to operation AddN of type AddN must have the same size and shape.  "
                           f"Input 0: {list(first)} != input {i}: {list(np.shape(x))}")
    total = np.add(xs[0], xs[1])
    for x in xs[2:]:
        total += x
    return total


def _add_n_abstract(*xs):
    shape = xs[0].shape
    for x in xs[1:]:
        shape = shape.merge_with(x.shape)
    return TensorSpec(shape, xs[0].dtype)


ADD_N = primitive("AddN", _add_n_forward, lambda op, dy: [dy] * len(op.inputs), _add_n_abstract)


def add_n(inputs, name=None):
    """The elementwise sum of a list of tensors of one shape and dtype."""
    if not inputs or not isinstance(inputs, (list, tuple)):
        raise ValueError("Inputs must be an iterable of at least one Tensor/IndexedSlices with the "
                         "same dtype and shape.")
    tensors = [_dense(v) if isinstance(v, IndexedSlices) else convert_to_tensor(v) for v in inputs]
    if len(tensors) == 1:
        return tensors[0]
    dtype = tensors[0]._dtype
    for i, t in enumerate(tensors):
        if t._dtype is not dtype:
            raise dtype_mismatch("AddN", i, dtype, t._dtype)
    if dtype._enum not in dtypes.NUMBER:
        raise unsupported_dtype("AddN", dtype)
    return execute(ADD_N, tuple(tensors))


def _dense(slices):
    """An IndexedSlices as a dense tensor (for add_n of gradients)."""
    shape = tuple(int(d) for d in np.reshape(slices.dense_shape.numpy(), -1))
    return array_ops.scatter_nd(array_ops.expand_dims(slices.indices, -1), slices.values, shape)


# -- unary functions ---------------------------------------------------------------------------
def _unary(name, forward, grad, allowed, doc):
    prim = primitive(name, forward, grad, shape_rules.same_as_input)
    return prim, _unary_op(prim, allowed, doc)


def _mul_grad(derivative):
    """The gradient dy * conj(f'(x)) of an elementwise function, from f'(op) built with ops."""
    return lambda op, dy: multiply(dy, conj(derivative(op)))


SQUARE, square = _unary("Square", np.square,
                        _mul_grad(lambda op: multiply(op.inputs[0], 2)),
                        dtypes.NUMBER, "x * x elementwise.")
SQRT, sqrt = _unary("Sqrt", _quiet(np.sqrt),
                    lambda op, dy: realdiv(multiply(dy, 0.5), conj(op.outputs[0])),
                    FLOAT_OR_COMPLEX, "The square root elementwise.")


@_quiet
def _rsqrt_forward(x):
    if x.dtype.kind == "c":  # 1 / sqrt(x): at 0 this is inf+nanj as in TF (reciprocal gives nan)
        return np.true_divide(np.ones((), x.dtype), np.sqrt(x))
    return np.reciprocal(np.sqrt(x))


RSQRT, rsqrt = _unary("Rsqrt", _rsqrt_forward,
                      _mul_grad(lambda op: multiply(pow(op.outputs[0], 3), -0.5)),
                      FLOAT_OR_COMPLEX, "1 / sqrt(x) elementwise.")
EXP, exp = _unary("Exp", _quiet(np.exp), _mul_grad(lambda op: op.outputs[0]),
                  FLOAT_OR_COMPLEX, "e ** x elementwise.")
EXPM1, expm1 = _unary("Expm1", _quiet(np.expm1), _mul_grad(lambda op: exp(op.inputs[0])),
                      FLOAT_OR_COMPLEX, "e ** x - 1 elementwise, accurate near 0.")
LOG, log = _unary("Log", _quiet(np.log),
                  lambda op, dy: realdiv(dy, conj(op.inputs[0])),
                  FLOAT_OR_COMPLEX, "The natural logarithm elementwise.")
LOG1P, log1p = _unary("Log1p", _quiet(np.log1p),
                      lambda op, dy: realdiv(dy, conj(add(op.inputs[0], 1))),
                      FLOAT_OR_COMPLEX, "log(1 + x) elementwise, accurate near 0.")
SIN, sin = _unary("Sin", _quiet(np.sin), _mul_grad(lambda op: cos(op.inputs[0])),
                  FLOAT_OR_COMPLEX, "The sine elementwise.")
COS, cos = _unary("Cos", _quiet(np.cos), _mul_grad(lambda op: negative(sin(op.inputs[0]))),
                  FLOAT_OR_COMPLEX, "The cosine elementwise.")
TAN, tan = _unary("Tan", _quiet(np.tan),
                  _mul_grad(lambda op: square(reciprocal(cos(op.inputs[0])))),
                  FLOAT_OR_COMPLEX, "The tangent elementwise.")
ASIN, asin = _unary("Asin", _quiet(np.arcsin),
                    _mul_grad(lambda op: rsqrt(subtract(1, square(op.inputs[0])))),
                    FLOAT_OR_COMPLEX, "The inverse sine elementwise.")
ACOS, acos = _unary("Acos", _quiet(np.arccos),
                    _mul_grad(lambda op: negative(rsqrt(subtract(1, square(op.inputs[0]))))),
                    FLOAT_OR_COMPLEX, "The inverse cosine elementwise.")
ATAN, atan = _unary("Atan", _quiet(np.arctan),
                    _mul_grad(lambda op: reciprocal(add(square(op.inputs[0]), 1))),
                    FLOAT_OR_COMPLEX, "The inverse tangent elementwise.")
SINH, sinh = _unary("Sinh", _quiet(np.sinh), _mul_grad(lambda op: cosh(op.inputs[0])),
                    FLOAT_OR_COMPLEX, "The hyperbolic sine elementwise.")
COSH, cosh = _unary("Cosh", _quiet(np.cosh), _mul_grad(lambda op: sinh(op.inputs[0])),
                    FLOAT_OR_COMPLEX, "The hyperbolic cosine elementwise.")
TANH, tanh = _unary("Tanh", np.tanh,
                    _mul_grad(lambda op: subtract(1, square(op.outputs[0]))),
                    FLOAT_OR_COMPLEX, "The hyperbolic tangent elementwise.")
ASINH, asinh = _unary("Asinh", np.arcsinh,
                      _mul_grad(lambda op: reciprocal(cosh(op.outputs[0]))),
                      FLOAT_OR_COMPLEX, "The inverse hyperbolic sine elementwise.")
ACOSH, acosh = _unary("Acosh", _quiet(np.arccosh),
                      _mul_grad(lambda op: reciprocal(sinh(op.outputs[0]))),
                      FLOAT_OR_COMPLEX, "The inverse hyperbolic cosine elementwise.")
ATANH, atanh = _unary("Atanh", _quiet(np.arctanh),
                      _mul_grad(lambda op: reciprocal(subtract(1, square(op.inputs[0])))),
                      FLOAT_OR_COMPLEX, "The inverse hyperbolic tangent elementwise.")


@_quiet
def _sigmoid_forward(x):
    if x.dtype.kind == "c":
        return np.reciprocal(np.exp(-x) + 1)
    # exp(min(x, 0)) / (1 + exp(-|x|)): only exps of non-positive numbers, so large |x| neither
    # overflows nor gives NaN, and the tail for negative x keeps its relative accuracy.
    return np.exp(np.minimum(x, 0)) / (np.exp(-np.abs(x)) + 1)


SIGMOID, sigmoid = _unary(
    "Sigmoid", _sigmoid_forward,
    _mul_grad(lambda op: multiply(op.outputs[0], subtract(1, op.outputs[0]))),
    FLOAT_OR_COMPLEX, "1 / (1 + exp(-x)) elementwise, stable for large |x|.")


RECIPROCAL = primitive("Reciprocal", _quiet(np.reciprocal),
                       _mul_grad(lambda op: negative(square(op.outputs[0]))),
                       shape_rules.same_as_input)


def reciprocal(x, name=None):
    """1 / x elementwise (floating and complex tensors)."""
    x = convert_to_tensor(x)
    if x._dtype._enum not in FLOAT_OR_COMPLEX:
        if x._dtype._enum in dtypes.SIGNED_INTEGER:
            raise _no_kernel("Reciprocal", x._dtype)
        raise unsupported_dtype("Reciprocal", x._dtype)
    return execute(RECIPROCAL, (x,))


@_quiet
def _sign_forward(x):
    return np.sign(x) + np.zeros((), x.dtype)  # + 0 turns -0.0 into 0.0, as in TF


SIGN, sign = _unary("Sign", _sign_forward, lambda op, dy: array_ops.zeros_like(dy),
                    SIGNED_NUMBER, "-1, 0 or 1 by the sign of x (x / |x| for complex x).")

ABS = primitive("Abs", np.abs, lambda op, dy: multiply(dy, sign(op.inputs[0])),
                shape_rules.same_as_input)


def _complex_abs_grad(op, dy):
    zero = array_ops.zeros_like(dy)
    out = op.outputs[0]
    return divide_no_nan(multiply(complex(dy, zero), op.inputs[0]),
                         complex(out, array_ops.zeros_like(out)))


COMPLEX_ABS = primitive("ComplexAbs", np.abs, _complex_abs_grad,
                        lambda x: TensorSpec(x.shape, x.dtype.real_dtype))


def abs(x, name=None):  # noqa: A001 - TensorFlow's name
    """|x| elementwise; for complex x, the magnitude as a real tensor."""
    x = convert_to_tensor(x)
    enum = x._dtype._enum
    if enum in SIGNED_REAL:
        return execute(ABS, (x,))
    if enum in dtypes.COMPLEX:
        return execute(COMPLEX_ABS, (x,))
    raise unsupported_dtype("Abs", x._dtype)


FLOOR, floor = _unary("Floor", np.floor, None, dtypes.FLOATING, "The largest integer <= x.")
CEIL, ceil = _unary("Ceil", np.ceil, None, dtypes.FLOATING, "The smallest integer >= x.")
ROUND = primitive("Round", np.rint, None, shape_rules.same_as_input)


def round(x, name=None):  # noqa: A001 - TensorFlow's name
    """x rounded to the nearest integer, halves to even (0.5 -> 0, 1.5 -> 2)."""
    x = convert_to_tensor(x)
    enum = x._dtype._enum
    if enum in dtypes.INTEGER:
        return x
    if enum in dtypes.FLOATING:
        return execute(ROUND, (x,))
    if enum in dtypes.COMPLEX:
        raise _no_kernel("Round", x._dtype)
    raise unsupported_dtype("Round", x._dtype)


# -- special functions (NumPy has none: written here, computed in float64) ---------------------
_SQRT_PI = math.sqrt(math.pi)


def _as_float64(x):
    return np.asarray(x, dtype=np.float64)


def _erf_series(x):
    """erf(x) = 2/sqrt(pi) exp(-x^2) sum_n (2x^2)^n x / (1*3*...*(2n+1)): positive terms only."""
    x2 = x * x
    term = x.copy()
    total = x.copy()
    n = 0
    while n < 300:
        n += 1
        term = term * (2.0 * x2) / (2 * n + 1)
        total += term
        if np.all(np.abs(term) <= 1e-17 * np.abs(total)):
            break
    return 2.0 / _SQRT_PI * np.exp(-x2) * total


def _erfc_continued_fraction(x):
    """erfc(x) for x >= 2 from the continued fraction exp(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + ...)))."""
    k = np.full_like(x, x)
    for n in range(80, 0, -1):
        k = x + (n / 2.0) / k
    return np.exp(-x * x) / _SQRT_PI / k


_ERF_SPLIT = 2.0


def _erf64(x):
    x = _as_float64(x)
    out = np.empty_like(x)
    ax = np.abs(x)
    small = ax < _ERF_SPLIT
    out[small] = _erf_series(x[small])
    big = ~small & ~np.isnan(x)
    out[big] = np.sign(x[big]) * (1.0 - _erfc_continued_fraction(ax[big]))
    out[np.isnan(x)] = np.nan
    return out


def _erfc64(x):
    x = _as_float64(x)
    out = np.empty_like(x)
    big = x >= _ERF_SPLIT
    out[big] = _erfc_continued_fraction(x[big])
    rest = ~big
    out[rest] = 1.0 - _erf64(x[rest])
    return out


def _special(fn64):
    """A float64 special function applied to any floating dtype, returning the input's dtype."""
    @_quiet
    def forward(x):
        out = fn64(x).astype(np.result_type(x), copy=False)
        return out[()] if out.ndim == 0 else out
    return forward


_LANCZOS_G = 7.0
_LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
            -176.61502916214059, 12.507343278686905, -0.13857109526572012,
            9.9843695780195716e-6, 1.5056327351493116e-7)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _lgamma_positive(x):
    """log|Gamma(x)| for x >= 0.5 (Lanczos approximation in log form, no overflow)."""
    z = x - 1.0
    a = np.full_like(z, _LANCZOS[0])
    for i in range(1, 9):
        a += _LANCZOS[i] / (z + i)
    t = z + _LANCZOS_G + 0.5
    return _HALF_LOG_2PI + (z + 0.5) * np.log(t) - t + np.log(a)


def _sin_pi(x):
    """sin(pi x) with the argument reduced first, exact zeros at the integers."""
    r = x - 2.0 * np.floor(x / 2.0)  # in [0, 2)
    out = np.sin(np.pi * r)
    out[r == np.floor(r)] = 0.0
    return out


def _lgamma64(x):
    x = _as_float64(x)
    out = np.empty_like(x)
    right = x >= 0.5
    out[right] = _lgamma_positive(x[right])
    left = ~right & ~np.isnan(x)
    xl = x[left]
    s = np.abs(_sin_pi(xl))
    out[left] = np.log(np.pi / s) - _lgamma_positive(1.0 - xl)  # reflection formula
    out[(x == 1.0) | (x == 2.0)] = 0.0  # Gamma(1) = Gamma(2) = 1 exactly
    out[np.isnan(x)] = np.nan
    out[np.isinf(x)] = np.inf
    return out


def _digamma64(x):
    x = _as_float64(x)
    pole = (x <= 0) & (x == np.floor(x))
    reflect = x < 0
    result = np.zeros_like(x)
    # psi(x) = psi(1 - x) - pi / tan(pi x) for negative x
    xr = x[reflect]
    result[reflect] = -np.pi / np.tan(np.pi * (xr - np.round(xr)))
    y = np.where(reflect, 1.0 - x, x)
    for _ in range(10):  # psi(y) = psi(y + 1) - 1 / y until y >= 10, where the series is exact
        shift = y < 10.0
        if not shift.any():
            break
        result[shift] -= 1.0 / y[shift]
        y = np.where(shift, y + 1.0, y)
    inv2 = 1.0 / (y * y)
    series = inv2 * (1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (
        1 / 240 - inv2 * (1 / 132 - inv2 * (691 / 32760 - inv2 / 12))))))
    result += np.log(y) - 0.5 / y - series
    result[pole] = np.nan
    result[np.isposinf(x)] = np.inf
    return result


# B_2j / (2j)! for the Euler-Maclaurin tail of the Hurwitz zeta function.
_ZETA_TAIL = (1 / 12, -1 / 720, 1 / 30240, -1 / 1209600, 1 / 47900160, -691 / 1307674368000,
              1 / 74724249600, -3617 / 10670622842880000)


def _zeta64(s, q):
    s, q = np.broadcast_arrays(_as_float64(s), _as_float64(q))
    s, q = s.copy(), q.copy()
    total = np.zeros_like(q)
    # As TF: at a pole q = 0, -1, -2... the sum is +inf for an even s (all terms positive) and
    # NaN otherwise; a negative q needs an integer s; s = inf keeps only the terms with |q + n| < 1.
    integer_q = q == np.floor(q)
    even_s = (np.fmod(s, 2) == 0) | np.isposinf(s)
    bad = (s < 1) | ((q < 0) & (s != np.floor(s))) | ((q <= 0) & integer_q & ~even_s)
    pole = (s == 1) | ((q <= 0) & integer_q)
    s_inf = np.isposinf(s) & ~np.isnan(q) & ~pole
    ok = ~(bad | pole | s_inf | np.isnan(s) | np.isnan(q))
    w = np.where(ok, q, 20.0)
    target = np.where(ok, np.maximum(10.0, s), 0.0)  # the others are set below
    for _ in range(100000):  # sum the first terms directly until q is large enough
        shift = w < target
        if not shift.any():
            break
        total[shift] += w[shift] ** -s[shift]
        w = np.where(shift, w + 1.0, w)
    total += w ** (1.0 - s) / (s - 1.0) + 0.5 * w ** -s
    rising = s.copy()  # s (s + 1) ... (s + 2j - 2)
    power = w ** (-s - 1.0)
    for j, coefficient in enumerate(_ZETA_TAIL):
        total += coefficient * rising * power
        rising = rising * (s + 2 * j + 1) * (s + 2 * j + 2)
        power = power / (w * w)
    total[bad] = np.nan
    total[pole & ~bad] = np.inf
    total[np.isnan(s) | np.isnan(q)] = np.nan
    total[s == 1] = np.inf
    total[s_inf] = np.where(q[s_inf] > 1, 0.0, np.where(q[s_inf] == 1, 1.0, np.inf))
    return total


_FACTORIALS = np.array([float(math.factorial(k)) for k in range(171)])


def _polygamma64(n, x):
    n, x = np.broadcast_arrays(_as_float64(n), _as_float64(x))
    out = np.empty_like(x)
    valid = (n >= 0) & (n == np.floor(n))
    zero = valid & (n == 0)
    out[zero] = _digamma64(x[zero])
    higher = valid & (n > 0)
    nh = n[higher]
    fact = _FACTORIALS[np.minimum(nh, 170).astype(np.int64)]
    fact[nh > 170] = np.inf
    out[higher] = np.where(nh % 2 == 0, -1.0, 1.0) * fact * _zeta64(nh + 1.0, x[higher])
    out[~valid] = np.nan
    return out


def _special2(fn64):
    @_quiet
    def forward(a, b):
        out = fn64(a, b).astype(np.result_type(a, b), copy=False)
        return out[()] if out.ndim == 0 else out
    return forward


def _constant_like(value: float, like) -> Tensor:
    """A scalar of like's dtype made from the float64 `value` (no float32 rounding on the way)."""
    return Tensor(np.asarray(value, dtype=like._dtype.as_numpy_dtype)[()], like._dtype)


def _erf_derivative(op, scale: float):
    x = op.inputs[0]
    return multiply(exp(negative(square(x))), _constant_like(scale, x))


ERF, erf = _unary("Erf", _special(_erf64), _mul_grad(lambda op: _erf_derivative(op, 2 / _SQRT_PI)),
                  dtypes.FLOATING, "The Gauss error function elementwise.")
ERFC, erfc = _unary("Erfc", _special(_erfc64), _mul_grad(lambda op: _erf_derivative(op, -2 / _SQRT_PI)),
                    dtypes.FLOATING, "1 - erf(x), accurate for large x.")
def _unary_without_bfloat16(prim, doc: str):
    """The public function of a unary op TF declares for bfloat16 without a CPU kernel."""
    def op(x, name=None):
        x = convert_checked(x, prim.name, dtypes.FLOATING)
        if x._dtype is dtypes.bfloat16:
            raise _no_kernel(prim.name, x._dtype)
        return execute(prim, (x,))
    op.__doc__ = doc
    return op


LGAMMA = primitive("Lgamma", _special(_lgamma64), _mul_grad(lambda op: digamma(op.inputs[0])),
                   shape_rules.same_as_input)
DIGAMMA = primitive("Digamma", _special(_digamma64),
                    _mul_grad(lambda op: polygamma(array_ops.ones_like(op.inputs[0]), op.inputs[0])),
                    shape_rules.same_as_input)
lgamma = _unary_without_bfloat16(LGAMMA, "log|Gamma(x)| elementwise.")
digamma = _unary_without_bfloat16(DIGAMMA, "The derivative of lgamma elementwise.")


def _polygamma_grad(op, dy):
    a, x = op.inputs
    return None, unbroadcast(multiply(dy, polygamma(add(a, 1), x)), x)


def _zeta_grad(op, dy):
    s, q = op.inputs
    return None, unbroadcast(multiply(dy, multiply(negative(s), zeta(add(s, 1), q))), q)


POLYGAMMA = primitive("Polygamma", _special2(_polygamma64), _polygamma_grad, shape_rules.broadcast)
ZETA = primitive("Zeta", _special2(_zeta64), _zeta_grad, shape_rules.broadcast)
_F32_F64 = _E(dtypes.float32, dtypes.float64)


def polygamma(a, x, name=None):
    """The a-th derivative of digamma at x (a a non-negative integer given as a float tensor)."""
    a, x = binary_operands("Polygamma", a, x, _F32_F64)
    return execute(POLYGAMMA, (a, x))


def zeta(x, q, name=None):
    """The Hurwitz zeta function: sum over n >= 0 of (q + n) ** -x."""
    x, q = binary_operands("Zeta", x, q, _F32_F64)
    return execute(ZETA, (x, q))


# -- complex numbers ---------------------------------------------------------------------------
_COMPLEX_OF = {np.dtype(np.float32): np.complex64, np.dtype(np.float64): np.complex128}


def _complex_forward(re, im):
    out = np.empty(np.broadcast_shapes(np.shape(re), np.shape(im)), _COMPLEX_OF[np.asarray(re).dtype])
    out.real = re
    out.imag = im
    return out


def _complex_abstract(re, im):
    dtype = dtypes.complex64 if re.dtype is dtypes.float32 else dtypes.complex128
    return TensorSpec(broadcast_static_shape(re.shape, im.shape), dtype)


def _complex_grad(op, dy):
    re, im = op.inputs
    return unbroadcast(real(dy), re), unbroadcast(imag(dy), im)


COMPLEX = primitive("Complex", _complex_forward, _complex_grad, _complex_abstract)


def complex(real, imag, name=None):  # noqa: A001 - TensorFlow's name
    """The complex tensor real + imag * 1j (float32 gives complex64, float64 complex128)."""
    re, im = convert_to_tensor(real), convert_to_tensor(imag)  # each on its own, as in TF
    if re._dtype is not im._dtype or re._dtype._enum not in _F32_F64:
        raise TypeError(f"The `real` and `imag` components have incorrect types: {re._dtype.name} "
                        f"{im._dtype.name}. They must be consistent, and one of "
                        f"[tf.float32, tf.float64]")
    return execute(COMPLEX, (re, im))


def _real_part(op, dy):
    return complex(dy, array_ops.zeros_like(dy))


def _imag_part(op, dy):
    return complex(array_ops.zeros_like(dy), dy)


def _real_spec(x):
    return TensorSpec(x.shape, x.dtype.real_dtype)


REAL = primitive("Real", np.real, _real_part, _real_spec)
IMAG = primitive("Imag", np.imag, _imag_part, _real_spec)
CONJ = primitive("Conj", np.conj, lambda op, dy: conj(dy), shape_rules.same_as_input)


def real(input, name=None):  # noqa: A002 - TensorFlow's argument name
    """The real part of a complex tensor; a real tensor is returned unchanged."""
    x = convert_to_tensor(input)
    if x._dtype._enum in dtypes.COMPLEX:
        return execute(REAL, (x,))
    if x._dtype.is_numeric:
        return x
    raise TypeError(f"input must be a numeric tensor, but got tensor with dtype {x._dtype!r}")


def imag(input, name=None):  # noqa: A002
    """The imaginary part of a complex tensor; zeros for a real tensor."""
    x = convert_to_tensor(input)
    if x._dtype._enum in dtypes.COMPLEX:
        return execute(IMAG, (x,))
    return array_ops.zeros_like(x)  # any other dtype, bool and string included, as in TF


# -- comparisons and predicates ----------------------------------------------------------------
EQUAL = primitive("Equal", np.equal, None, shape_rules.broadcast_to_bool)
NOT_EQUAL = primitive("NotEqual", np.not_equal, None, shape_rules.broadcast_to_bool)
LESS = primitive("Less", np.less, None, shape_rules.broadcast_to_bool)
LESS_EQUAL = primitive("LessEqual", np.less_equal, None, shape_rules.broadcast_to_bool)
GREATER = primitive("Greater", np.greater, None, shape_rules.broadcast_to_bool)
GREATER_EQUAL = primitive("GreaterEqual", np.greater_equal, None, shape_rules.broadcast_to_bool)

equal = _binary_op(EQUAL, ALL_TYPES, "x == y elementwise, broadcasting, as a bool tensor.")
not_equal = _binary_op(NOT_EQUAL, ALL_TYPES, "x != y elementwise, broadcasting, as a bool tensor.")
less = _binary_op(LESS, dtypes.REAL_NUMBER, "x < y elementwise, as a bool tensor.")
less_equal = _binary_op(LESS_EQUAL, dtypes.REAL_NUMBER, "x <= y elementwise, as a bool tensor.")
greater = _binary_op(GREATER, dtypes.REAL_NUMBER, "x > y elementwise, as a bool tensor.")
greater_equal = _binary_op(GREATER_EQUAL, dtypes.REAL_NUMBER, "x >= y elementwise, as a bool tensor.")

IS_NAN = primitive("IsNan", np.isnan, None, shape_rules.bool_like)
IS_INF = primitive("IsInf", np.isinf, None, shape_rules.bool_like)
IS_FINITE = primitive("IsFinite", np.isfinite, None, shape_rules.bool_like)
is_nan = _unary_op(IS_NAN, dtypes.FLOATING, "True where x is NaN.")
is_inf = _unary_op(IS_INF, dtypes.FLOATING, "True where x is +inf or -inf.")
is_finite = _unary_op(IS_FINITE, dtypes.FLOATING, "True where x is neither infinite nor NaN.")


# -- logic -------------------------------------------------------------------------------------
def _bool_operands(op_name: str, x, y):
    x = convert_like(x, dtypes.bool)
    y = convert_like(y, dtypes.bool)
    for i, t in enumerate((x, y)):
        if t._dtype is not dtypes.bool:
            raise dtype_mismatch(op_name, i, dtypes.bool, t._dtype)
    return x, y


LOGICAL_AND = primitive("LogicalAnd", np.logical_and, None, shape_rules.broadcast)
LOGICAL_OR = primitive("LogicalOr", np.logical_or, None, shape_rules.broadcast)
LOGICAL_NOT = primitive("LogicalNot", np.logical_not, None, shape_rules.same_as_input)


def logical_and(x, y, name=None):
    """x AND y elementwise for bool tensors."""
    return execute(LOGICAL_AND, _bool_operands("LogicalAnd", x, y))


def logical_or(x, y, name=None):
    """x OR y elementwise for bool tensors."""
    return execute(LOGICAL_OR, _bool_operands("LogicalOr", x, y))


def logical_xor(x, y, name=None):
    """x XOR y elementwise for bool tensors."""
    # For bools, XOR is inequality: one primitive instead of TF's and/or/not composite.
    return execute(NOT_EQUAL, _bool_operands("LogicalOr", x, y))


def logical_not(x, name=None):
    """NOT x elementwise for a bool tensor."""
    x = convert_like(x, dtypes.bool)
    if x._dtype is not dtypes.bool:
        raise dtype_mismatch("LogicalNot", 0, dtypes.bool, x._dtype)
    return execute(LOGICAL_NOT, (x,))


# -- bitwise (tf.bitwise) ----------------------------------------------------------------------
def _shift(fn):
    def forward(x, y):
        # Shift counts outside [0, bits) are clamped, as TensorFlow's kernels do.
        bits = np.dtype(np.asarray(x).dtype).itemsize * 8
        return fn(x, np.clip(y, 0, bits - 1).astype(np.asarray(y).dtype))
    return forward


BITWISE_AND = primitive("BitwiseAnd", np.bitwise_and, None, shape_rules.broadcast)
BITWISE_OR = primitive("BitwiseOr", np.bitwise_or, None, shape_rules.broadcast)
BITWISE_XOR = primitive("BitwiseXor", np.bitwise_xor, None, shape_rules.broadcast)
LEFT_SHIFT = primitive("LeftShift", _shift(np.left_shift), None, shape_rules.broadcast)
RIGHT_SHIFT = primitive("RightShift", _shift(np.right_shift), None, shape_rules.broadcast)
INVERT = primitive("Invert", np.invert, None, shape_rules.same_as_input)

bitwise_and = _binary_op(BITWISE_AND, dtypes.INTEGER, "x & y bit by bit, for integer tensors.")
bitwise_or = _binary_op(BITWISE_OR, dtypes.INTEGER, "x | y bit by bit, for integer tensors.")
bitwise_xor = _binary_op(BITWISE_XOR, dtypes.INTEGER, "x ^ y bit by bit, for integer tensors.")
left_shift = _binary_op(LEFT_SHIFT, dtypes.INTEGER, "x << y for integer tensors.")
right_shift = _binary_op(RIGHT_SHIFT, dtypes.INTEGER,
                         "x >> y for integer tensors (arithmetic for signed, logical for unsigned).")
invert = _unary_op(INVERT, dtypes.INTEGER, "~x: every bit flipped, for an integer tensor.")


# -- casts -------------------------------------------------------------------------------------
def _cast_forward(x, dtype):
    x = np.asarray(x)
    if x.dtype.kind == "c" and not dtype.is_complex:
        x = x.real  # complex to real keeps the real part
    if dtype is dtypes.bool:
        return x.astype(np.bool_)
    return x.astype(dtype.as_numpy_dtype)


def _cast_grad(op, dy):
    source = op.inputs[0].dtype
    if not (source.is_floating or source.is_complex):
        return None
    return cast(dy, source)


def _cast_abstract(x, dtype):
    return TensorSpec(x.shape, dtype)


# NaN and out-of-range floats cast to ints silently, as in TF.
CAST = primitive("Cast", _quiet(_cast_forward), _cast_grad, _cast_abstract)


def cast(x, dtype, name=None):
    """x converted to `dtype` (floats to ints truncate toward zero; complex to real keeps the real part)."""
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x._dtype is dtype:
        return x
    if (x._dtype is dtypes.string) != (dtype is dtypes.string):
        raise op_error(UnimplementedError, "Cast",
                       f"Cast {x._dtype.name} to {dtype.name} is not supported")
    return execute(CAST, (x,), {"dtype": dtype})


def _saturation_limit(bound, source: dtypes.DType, target_bound) -> np.ndarray:
    """`bound` (a Python number within source's range) in source's dtype, moved one step toward
    zero if rounding took it past `target_bound`, so that the clamped value casts without overflow."""
    limit = np.asarray(bound if source.is_integer else float(bound), dtype=source.as_numpy_dtype)
    exact = int(limit) if source.is_integer else float(limit)  # Python compares int and float exactly
    if (target_bound < 0 and exact < target_bound) or (target_bound > 0 and exact > target_bound):
        limit = np.nextafter(limit, np.zeros((), limit.dtype))
    return limit[()]


def saturate_cast(value, dtype, name=None):
    """Casts `value` to `dtype`, first clamping it to the finite range both dtypes share (so +-inf
    become the largest finite numbers, also for a float-to-float cast, as in TF 2.21)."""
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(value)
    if x._dtype.is_complex:
        if dtype.is_complex:
            return cast(x, dtype)
        x = real(x)
    source, target = x._dtype, dtype.real_dtype
    for d in (source, target):
        if not d.is_numeric or d is dtypes.bool:
            raise TypeError(f"Cannot find minimum value of {d!r} with type {d!r}.")
    if source in (dtypes.uint32, dtypes.uint64):  # TF clamps with ClipByValue, which has no kernel
        raise _no_kernel("ClipByValue", source)
    s_min, s_max, t_min, t_max = (int(v) if d.is_integer else float(v) for d, v in (
        (source, source.min), (source, source.max), (target, target.min), (target, target.max)))
    lo = _saturation_limit(max(s_min, t_min), source, t_min)
    hi = _saturation_limit(min(s_max, t_max), source, t_max)
    return cast(minimum(maximum(x, Tensor(lo, source)), Tensor(hi, source)), dtype)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """`t` with values below `clip_value_min` raised to it and values above `clip_value_max`
    lowered to it. The bounds broadcast, but may not change t's shape."""
    values = convert_to_tensor(t)
    # minimum then maximum, as TF does: the gradient at the bounds and for min > max follow.
    clipped = maximum(minimum(values, clip_value_max), clip_value_min)
    if clipped.shape != values.shape:
        raise ValueError(f"Shapes {values.shape} and {clipped.shape} are incompatible")
    return clipped


def _name_public_functions():
    """Gives the functions made by _binary_op/_unary_op their TensorFlow names (Keras serializes
    activations such as `tf.sigmoid` by `__name__`)."""
    for public, fn in list(globals().items()):
        if callable(fn) and getattr(fn, "__name__", None) == "op" and not public.startswith("_"):
            fn.__name__ = fn.__qualname__ = public


_name_public_functions()
