"""Translators of the elementwise, activation, reduction and product ops."""
from __future__ import annotations

import numpy as np

from tensorweave.onnx.builder import tensor_type
from tensorweave.onnx.registry import Unsupported, np_dtype, rank, translates

# -- one ONNX op for one TF op ------------------------------------------------------------------
_SAME = {
    "Abs": "Abs", "Acos": "Acos", "Acosh": "Acosh", "Asin": "Asin", "Asinh": "Asinh",
    "Atan": "Atan", "Atanh": "Atanh", "Ceil": "Ceil", "Cos": "Cos", "Cosh": "Cosh", "Erf": "Erf",
    "Exp": "Exp", "Floor": "Floor", "Log": "Log", "Neg": "Neg", "Reciprocal": "Reciprocal",
    "Relu": "Relu", "Round": "Round", "Sigmoid": "Sigmoid", "Sign": "Sign", "Sin": "Sin",
    "Sinh": "Sinh", "Sqrt": "Sqrt", "Tan": "Tan", "Tanh": "Tanh", "IsNan": "IsNaN",
    "IsInf": "IsInf", "LogicalNot": "Not", "Identity": "Identity", "StopGradient": "Identity",
    "EnsureShape": "Identity",
    "AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div", "Maximum": "Max",
    "Minimum": "Min", "Pow": "Pow", "Equal": "Equal", "Less": "Less", "LessEqual": "LessOrEqual",
    "Greater": "Greater", "GreaterEqual": "GreaterOrEqual", "LogicalAnd": "And",
    "LogicalOr": "Or", "AddN": "Sum", "SelectV2": "Where",
}


def _direct(onnx_op: str):
    def translate(b, node, ins):
        return b.add(onnx_op, ins)
    return translate


for _tf_name, _onnx_name in _SAME.items():
    translates(_tf_name)(_direct(_onnx_name))


def _one(b, x_tensor):
    return b.scalar(1, np_dtype(x_tensor))


# -- composites ---------------------------------------------------------------------------------
@translates("Erfc")
def _erfc(b, node, ins):
    return b.add("Sub", [_one(b, node.inputs[0]), b.add("Erf", ins)])


@translates("Expm1")
def _expm1(b, node, ins):
    return b.add("Sub", [b.add("Exp", ins), _one(b, node.inputs[0])])


@translates("Log1p")
def _log1p(b, node, ins):
    return b.add("Log", [b.add("Add", [ins[0], _one(b, node.inputs[0])])])


@translates("Square")
def _square(b, node, ins):
    return b.add("Mul", [ins[0], ins[0]])


@translates("Rsqrt")
def _rsqrt(b, node, ins):
    return b.add("Reciprocal", [b.add("Sqrt", ins)])


@translates("SquaredDifference")
def _squared_difference(b, node, ins):
    d = b.add("Sub", ins)
    return b.add("Mul", [d, d])


@translates("NotEqual")
def _not_equal(b, node, ins):
    return b.add("Not", [b.add("Equal", ins)])


@translates("IsFinite")
def _is_finite(b, node, ins):
    return b.add("Not", [b.add("Or", [b.add("IsNaN", ins), b.add("IsInf", ins)])])


@translates("DivNoNan")
def _div_no_nan(b, node, ins):
    x, y = ins
    dt = np_dtype(node.inputs[0])
    zero = b.scalar(0, dt)
    safe = b.add("Where", [b.add("Equal", [y, zero]), _one(b, node.inputs[0]), y])
    return b.add("Where", [b.add("Equal", [y, zero]), zero, b.add("Div", [x, safe])])


@translates("FloorDiv")
def _floor_div(b, node, ins):
    x, y = ins
    if np_dtype(node.inputs[0]).kind == "f":
        return b.add("Floor", [b.add("Div", ins)])
    # integers: Mod with fmod=0 takes the divisor's sign, so x - mod is a multiple of y
    return b.add("Div", [b.add("Sub", [x, b.add("Mod", ins, fmod=0)]), y])


@translates("FloorMod")
def _floor_mod(b, node, ins):
    x, y = ins
    if np_dtype(node.inputs[0]).kind == "f":
        return b.add("Sub", [x, b.add("Mul", [b.add("Floor", [b.add("Div", ins)]), y])])
    return b.add("Mod", ins, fmod=0)


@translates("Cast")
def _cast(b, node, ins):
    return b.add("Cast", ins, to=tensor_type(node.attrs["dtype"].as_numpy_dtype))


# -- activations --------------------------------------------------------------------------------
@translates("Relu6")
def _relu6(b, node, ins):
    dt = np_dtype(node.inputs[0])
    return b.add("Clip", [ins[0], b.scalar(0, dt), b.scalar(6, dt)])


@translates("LeakyRelu")
def _leaky_relu(b, node, ins):
    return b.add("LeakyRelu", ins, alpha=float(node.attrs["alpha"]))


@translates("Elu")
def _elu(b, node, ins):
    return b.add("Elu", ins, alpha=1.0)


@translates("Selu")
def _selu(b, node, ins):
    return b.add("Selu", ins, alpha=1.6732632423543772, gamma=1.0507009873554805)


@translates("Softplus")
def _softplus(b, node, ins):
    # max(x, 0) + log(1 + exp(-|x|)): never overflows
    x = ins[0]
    tail = b.add("Exp", [b.add("Neg", [b.add("Abs", [x])])])
    return b.add("Add", [b.add("Relu", [x]),
                         b.add("Log", [b.add("Add", [tail, _one(b, node.inputs[0])])])])


@translates("Softmax", "LogSoftmax")
def _softmax(b, node, ins):
    axis = node.attrs.get("axis", -1)
    return b.add(node.type, ins, axis=int(axis))


# -- reductions ---------------------------------------------------------------------------------
def _axes(node):
    axis = node.attrs.get("axis")
    if axis is None:
        return None
    return [axis] if isinstance(axis, (int, np.integer)) else list(axis)


def _reduction(onnx_op: str):
    def translate(b, node, ins):
        axes = _axes(node)
        keepdims = bool(node.attrs.get("keepdims", False))
        if axes is not None and not axes:
            return b.add("Identity", ins)
        return b.reduce(onnx_op, ins[0], axes, keepdims)
    return translate


for _tf_name, _onnx_name in {"Sum": "ReduceSum", "Max": "ReduceMax", "Min": "ReduceMin",
                             "Prod": "ReduceProd"}.items():
    translates(_tf_name)(_reduction(_onnx_name))


@translates("Mean")
def _mean(b, node, ins):
    if np_dtype(node.inputs[0]).kind != "f":
        raise Unsupported("an integer mean (it truncates in TensorFlow)")
    return _reduction("ReduceMean")(b, node, ins)


@translates("Any", "All")
def _any_all(b, node, ins):
    as_int = b.cast(ins[0], np.int32)
    reduced = _reduction("ReduceMax" if node.type == "Any" else "ReduceMin")(b, node, [as_int])
    return b.cast(reduced, np.bool_)


@translates("EuclideanNorm")
def _euclidean_norm(b, node, ins):
    return b.add("Sqrt", [_reduction("ReduceSumSquare")(b, node, ins)])


@translates("ReduceLogSumExp")
def _logsumexp(b, node, ins):
    x = ins[0]
    axes, keepdims = _axes(node), bool(node.attrs.get("keepdims", False))
    dt = np_dtype(node.inputs[0])
    peak = b.reduce("ReduceMax", x, axes, True)
    # shift by the maximum, or by 0 where it is infinite (as TensorFlow's kernel)
    peak = b.add("Where", [b.add("IsInf", [peak]), b.scalar(0, dt), peak])
    total = b.reduce("ReduceSum", b.add("Exp", [b.add("Sub", [x, peak])]), axes, True)
    out = b.add("Add", [b.add("Log", [total]), peak])
    if keepdims:
        return out
    r = rank(node.inputs[0])
    squeezed = list(range(r)) if axes is None else sorted(a % r for a in axes)
    return b.squeeze(out, squeezed)


@translates("ArgMax", "ArgMin")
def _arg(b, node, ins):
    out = b.add(node.type, ins, axis=int(node.attrs["axis"]), keepdims=0)
    want = node.attrs["output_type"].as_numpy_dtype
    return out if np.dtype(want) == np.int64 else b.cast(out, want)


@translates("Cumsum", "Cumprod")
def _cumsum(b, node, ins):
    if node.type == "Cumprod":
        raise Unsupported("ONNX has no cumulative product")
    axis = b.const(np.int64(node.attrs["axis"]), hint="axis")
    return b.add("CumSum", [ins[0], axis], exclusive=int(bool(node.attrs["exclusive"])),
                 reverse=int(bool(node.attrs["reverse"])))


@translates("Sort")
def _sort(b, node, ins):
    axis = int(node.attrs["axis"])
    k = b.dim(ins[0], axis)
    values, _ = b.add("TopK", [ins[0], k], outputs=2, axis=axis,
                      largest=int(bool(node.attrs["descending"])), sorted=1)
    return values


@translates("TopKV2")
def _top_k(b, node, ins):
    k = b.i64([node.attrs["k"]])
    values, indices = b.add("TopK", [ins[0], k], outputs=2, axis=-1, largest=1, sorted=1)
    want = node.attrs["index_type"].as_numpy_dtype
    return [values, indices if np.dtype(want) == np.int64 else b.cast(indices, want)]


# -- products -----------------------------------------------------------------------------------
def _adjoint(b, x, tensor, flag):
    if not flag:
        return x
    if tensor.dtype.is_complex:
        raise Unsupported("complex matrices")
    r = rank(tensor)
    return b.transpose(x, list(range(r - 2)) + [r - 1, r - 2])


@translates("MatMul", "BatchMatMulV2")
def _matmul(b, node, ins):
    a = _adjoint(b, ins[0], node.inputs[0], node.attrs.get("adj_x", False))
    c = _adjoint(b, ins[1], node.inputs[1], node.attrs.get("adj_y", False))
    return b.add("MatMul", [a, c])


@translates("Einsum")
def _einsum(b, node, ins):
    return b.add("Einsum", ins, equation=node.attrs["equation"].replace(" ", ""))
