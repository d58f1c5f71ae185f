"""Reductions along axes: sums, means, extrema, arg-extrema, scans, sorting, segments."""
from __future__ import annotations

import collections

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import (
    convert_checked, convert_to_tensor, dtype_mismatch, unsupported_dtype)
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_spec import TensorSpec
# Other families' ops are used at call time only (math_ops imports this module indirectly).
from tensorweave.ops import array_ops, math_ops, shape_rules

TopKV2 = collections.namedtuple("TopKV2", ["values", "indices"])
Unique = collections.namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = collections.namedtuple("UniqueWithCounts", ["y", "idx", "count"])

_REAL_ORDERED = dtypes.REAL_NUMBER  # dtypes with an order: max, min, sort, top_k
_INDEX_32_64 = frozenset((dtypes.int32._enum, dtypes.int64._enum))
_INDEX_16_32_64 = _INDEX_32_64 | {dtypes.int16._enum}


# -- argument helpers --------------------------------------------------------------------------
def axis_attr(x, axis, op_name: str):
    """A reduction's `axis` argument (int, list, tensor or None) as a tuple of non-negative ints."""
    if axis is None:
        return None
    if not isinstance(axis, (int, list, tuple)):
        axis = convert_to_tensor(axis).numpy().tolist()
    axes = (axis,) if isinstance(axis, int) else tuple(int(a) for a in axis)
    rank = np.ndim(x._value)
    for a in axes:
        if not -rank <= a < rank:
            raise op_error(InvalidArgumentError, op_name,
                           f"Invalid reduction dimension ({a} for input with {rank} dimension(s)")
    normalized = tuple(a % rank for a in axes)
    if len(set(normalized)) != len(normalized):
        raise op_error(InvalidArgumentError, op_name,
                       f"Invalid reduction arguments: Axes contains duplicate dimension: {axes}")
    return normalized


def int_attr(value, what: str = "value") -> int:
    """An integer argument TF takes as a scalar tensor (k, num_segments, a scan axis) as an int."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, Tensor) or hasattr(value, "__tf_tensor__"):
        t = convert_to_tensor(value)
        if not t.dtype.is_integer or t.shape.rank != 0:
            raise TypeError(f"`{what}` must be an integer scalar, got {t.dtype.name} tensor of "
                            f"shape {t.shape}")
        return int(t.numpy())
    return int(convert_to_tensor(value, dtype=dtypes.int32).numpy())


def keepdims_shape(x_shape: tuple, axis) -> tuple:
    """The shape of a reduction over `axis` (None: all) with the reduced axes kept as 1."""
    if axis is None:
        return (1,) * len(x_shape)
    return tuple(1 if i in axis else d for i, d in enumerate(x_shape))


def _kept(op, t):
    """A reduction's output-shaped tensor `t` reshaped with the reduced axes kept as 1."""
    if op.attrs.get("keepdims"):
        return t
    x_shape = op.inputs[0].shape
    if None in x_shape.as_list():  # dims known only when the graph runs: insert the axes
        axis = op.attrs.get("axis")
        for a in sorted(range(x_shape.rank) if axis is None else axis):
            t = array_ops.expand_dims(t, a)
        return t
    return array_ops.reshape(t, keepdims_shape(tuple(x_shape), op.attrs.get("axis")))


def reduction_grad_broadcast(op, dy):
    """`dy` of a reduction reshaped with kept dims and broadcast back to the input's shape."""
    from tensorweave.ops.broadcast_grad import broadcast_like
    return broadcast_like(_kept(op, dy), op.inputs[0])


def _reduced_count(shape: tuple, axis) -> int:
    """How many input elements each output element of a reduction over `axis` covers."""
    n = 1
    for a in (range(len(shape)) if axis is None else axis):
        n *= shape[a]
    return n


def _conj(t):
    return math_ops.conj(t) if t.dtype.is_complex else t


def _reduction_op(prim, allowed, doc: str):
    """The public function of a reduction primitive: `f(input_tensor, axis, keepdims, name)`."""
    op_name = prim.name

    def op(input_tensor, axis=None, keepdims=False, name=None):
        x = convert_checked(input_tensor, op_name, allowed)
        return execute(prim, (x,), {"axis": axis_attr(x, axis, op_name), "keepdims": bool(keepdims)})
    op.__doc__ = doc
    return op


# -- sum, mean, prod ---------------------------------------------------------------------------
_GEMV_MIN_SIZE = 1 << 16


def _leading_sum(x, axis, keepdims: bool):
    """The sum over x's leading axes (a bias gradient: every axis but the channels) as one
    product with a vector of ones: BLAS adds up strided rows about 8x faster than np.sum does.
    None when that pattern does not apply."""
    if (axis is None or x.dtype.kind != "f" or x.dtype.itemsize < 4 or x.size < _GEMV_MIN_SIZE
            or not x.flags.c_contiguous):
        return None
    axes = sorted(int(a) % x.ndim for a in np.atleast_1d(axis))
    k = len(axes)
    if k == 0 or k == x.ndim or axes != list(range(k)):
        return None
    rows = int(np.prod(x.shape[:k]))
    total = np.ones(rows, dtype=x.dtype) @ x.reshape(rows, -1)
    return total.reshape(((1,) * k if keepdims else ()) + x.shape[k:])


def _sum_forward(x, axis=None, keepdims=False):
    fast = _leading_sum(x, axis, keepdims)
    if fast is not None:
        return fast
    return np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _mean_forward(x, axis=None, keepdims=False):
    n = _reduced_count(np.shape(x), axis)
    kind = x.dtype.kind
    if kind in "iu":
        # TF accumulates integers wider than the input and divides truncating toward zero.
        total = np.sum(x, axis=axis, keepdims=keepdims, dtype=np.int64 if kind == "i" else np.uint64)
        if n == 0:
            return np.zeros_like(total, dtype=x.dtype)
        if kind == "i":
            total = np.sign(total) * (np.abs(total) // n)
        else:
            total = total // n
        return total.astype(x.dtype)
    total = np.sum(x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    if n == 0:
        if kind == "c":  # TF's complex mean of nothing is 0, its real one NaN
            return total
        with np.errstate(invalid="ignore"):  # the mean of nothing is NaN, silently
            return (total / n).astype(x.dtype, copy=False)
    return total / n  # a Python int divisor keeps the float dtype


def _mean_grad(op, dy):
    x = op.inputs[0]
    if None in x.shape.as_list():  # the count is known when the graph runs
        n = math_ops.maximum(array_ops.size(x) // math_ops.maximum(array_ops.size(dy), 1), 1)
        return math_ops.divide(reduction_grad_broadcast(op, dy), math_ops.cast(n, dy.dtype))
    n = _reduced_count(tuple(x.shape), op.attrs.get("axis"))
    return math_ops.divide(reduction_grad_broadcast(op, dy), max(n, 1))


def _prod_forward(x, axis=None, keepdims=False):
    return np.prod(x, axis=axis, keepdims=keepdims, dtype=x.dtype)


def _prod_grad(op, dy):
    # d prod / d x_i is the product of the other elements: the exclusive running products from
    # both ends multiplied, with no division, so it is exact where x has zeros (and so is the
    # second derivative, cumprod's gradient being zero-safe too).
    x = op.inputs[0]
    shape = tuple(x.shape)
    rank = len(shape)
    axis = op.attrs.get("axis")
    axes = tuple(range(rank)) if axis is None else tuple(sorted(axis))
    if not axes:
        return reduction_grad_broadcast(op, dy)
    if len(axes) == 1:
        a = axes[0]
        others = math_ops.multiply(cumprod(x, a, exclusive=True),
                                   cumprod(x, a, exclusive=True, reverse=True))
    else:  # bring the reduced axes to the front as one axis
        perm = list(axes) + [i for i in range(rank) if i not in axes]
        moved = x if perm == list(range(rank)) else array_ops.transpose(x, perm)
        reduced = _reduced_count(shape, axes)
        flat = array_ops.reshape(moved, [reduced, -1] if reduced else [0, int(np.prod(shape))])
        others = math_ops.multiply(cumprod(flat, 0, exclusive=True),
                                   cumprod(flat, 0, exclusive=True, reverse=True))
        others = array_ops.reshape(others, [shape[i] for i in perm])
        if moved is not x:
            others = array_ops.transpose(others, list(np.argsort(perm)))
    return math_ops.multiply(reduction_grad_broadcast(op, dy), _conj(others))


SUM = primitive("Sum", _sum_forward, reduction_grad_broadcast, shape_rules.reduction)
MEAN = primitive("Mean", _mean_forward, _mean_grad, shape_rules.reduction)
PROD = primitive("Prod", _prod_forward, _prod_grad, shape_rules.reduction)

reduce_sum = _reduction_op(SUM, dtypes.NUMBER,
                           "The sum of elements across `axis` (all axes when None).")
reduce_mean = _reduction_op(MEAN, dtypes.NUMBER,
                            "The mean across `axis`; integer tensors give the truncated integer mean.")
reduce_prod = _reduction_op(PROD, dtypes.NUMBER, "The product of elements across `axis`.")


# -- max, min ----------------------------------------------------------------------------------
def _lowest(np_dtype):
    return np.iinfo(np_dtype).min if np_dtype.kind in "iu" else -np.inf


def _highest(np_dtype):
    return np.iinfo(np_dtype).max if np_dtype.kind in "iu" else np.inf


def _max_forward(x, axis=None, keepdims=False):
    # `initial` makes an empty reduction give -inf / the lowest integer, as TF does.
    return np.max(x, axis=axis, keepdims=keepdims, initial=_lowest(x.dtype))


def _min_forward(x, axis=None, keepdims=False):
    return np.min(x, axis=axis, keepdims=keepdims, initial=_highest(x.dtype))


def _min_max_grad(op, dy):
    # The gradient goes to the elements equal to the extremum, split evenly among ties.
    x = op.inputs[0]
    selected = math_ops.cast(math_ops.equal(x, _kept(op, op.outputs[0])), dy.dtype)
    count = reduce_sum(selected, op.attrs.get("axis"), keepdims=True)
    return math_ops.multiply(math_ops.divide(selected, count), _kept(op, dy))


MAX = primitive("Max", _max_forward, _min_max_grad, shape_rules.reduction)
MIN = primitive("Min", _min_forward, _min_max_grad, shape_rules.reduction)

reduce_max = _reduction_op(MAX, _REAL_ORDERED, "The maximum across `axis` (NaN if any is NaN).")
reduce_min = _reduction_op(MIN, _REAL_ORDERED, "The minimum across `axis` (NaN if any is NaN).")


# -- any, all ----------------------------------------------------------------------------------
def _bool_reduction(prim, doc):
    op_name = prim.name

    def op(input_tensor, axis=None, keepdims=False, name=None):
        if isinstance(input_tensor, Tensor) or hasattr(input_tensor, "__tf_tensor__"):
            x = convert_to_tensor(input_tensor)
        else:  # NumPy values are cast to bool; other Python values must be bools already
            x = convert_to_tensor(input_tensor, dtype=dtypes.bool)
        if x._dtype is not dtypes.bool:
            raise dtype_mismatch(op_name, 0, dtypes.bool, x._dtype)
        return execute(prim, (x,), {"axis": axis_attr(x, axis, op_name), "keepdims": bool(keepdims)})
    op.__doc__ = doc
    return op


ANY = primitive("Any", lambda x, axis=None, keepdims=False: np.any(x, axis=axis, keepdims=keepdims),
                None, shape_rules.reduction)
ALL = primitive("All", lambda x, axis=None, keepdims=False: np.all(x, axis=axis, keepdims=keepdims),
                None, shape_rules.reduction)

reduce_any = _bool_reduction(ANY, "The logical or of a bool tensor across `axis`.")
reduce_all = _bool_reduction(ALL, "The logical and of a bool tensor across `axis`.")


# -- logsumexp, euclidean norm -----------------------------------------------------------------
def _logsumexp_forward(x, axis=None, keepdims=False):
    # One primitive rather than a composite: it is one pass here and one op on a tape, and the
    # shift by the maximum (0 where the maximum is infinite) keeps it exact for large inputs.
    peak = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    if np.isfinite(peak).all():  # then every sum is >= 1: no overflow, no log(0)
        total = np.sum(np.exp(x - peak), axis=axis, keepdims=keepdims)
        return (np.log(total) + peak.reshape(np.shape(total))).astype(x.dtype, copy=False)
    peak = np.where(np.isfinite(peak), peak, 0).astype(x.dtype)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        total = np.sum(np.exp(x - peak), axis=axis, keepdims=keepdims)
        return (np.log(total) + peak.reshape(np.shape(total))).astype(x.dtype, copy=False)


def _logsumexp_grad(op, dy):
    # d/dx log(sum(exp(x))) = exp(x - result): the softmax along the reduced axes.
    weights = math_ops.exp(math_ops.subtract(op.inputs[0], _kept(op, op.outputs[0])))
    return math_ops.multiply(weights, _kept(op, dy))


LOGSUMEXP = primitive("ReduceLogSumExp", _logsumexp_forward, _logsumexp_grad, shape_rules.reduction)
reduce_logsumexp = _reduction_op(
    LOGSUMEXP, dtypes.FLOATING,
    "log(sum(exp(x))) across `axis`, computed without overflow for large inputs.")


def _euclidean_norm_forward(x, axis=None, keepdims=False):
    kind = x.dtype.kind
    if kind == "c":
        squares = np.sum(x * np.conj(x), axis=axis, keepdims=keepdims, dtype=x.dtype)
        return np.sqrt(squares).astype(x.dtype, copy=False)
    squares = np.sum(x * x, axis=axis, keepdims=keepdims, dtype=x.dtype)
    if kind == "f":
        return np.sqrt(squares).astype(x.dtype, copy=False)
    with np.errstate(invalid="ignore"):  # integers: the square root truncated, as TF does
        root = np.sqrt(np.asarray(squares, dtype=np.float64))
    return np.where(np.isnan(root), 0, root).astype(x.dtype)


def _euclidean_norm_grad(op, dy):
    # x / ||x|| times the incoming gradient (undefined, as in TF, where the norm is zero).
    return math_ops.multiply(op.inputs[0], math_ops.divide(_kept(op, dy), _kept(op, op.outputs[0])))


EUCLIDEAN_NORM = primitive("EuclideanNorm", _euclidean_norm_forward, _euclidean_norm_grad,
                           shape_rules.reduction)
reduce_euclidean_norm = _reduction_op(EUCLIDEAN_NORM, dtypes.NUMBER,
                                      "sqrt(sum(x ** 2)) across `axis`.")


# -- variance, std (composites) ----------------------------------------------------------------
def _check_inexact(x, what: str = "Input"):
    if x._dtype.is_integer:
        raise TypeError(f"{what} must be either real or complex. Received integer type {x._dtype}.")
    if x._dtype._enum not in dtypes.INEXACT:
        raise unsupported_dtype("Mean", x._dtype)


def reduce_variance(input_tensor, axis=None, keepdims=False, name=None):
    """The variance across `axis`: mean(|x - mean(x)|**2); real-valued for complex input."""
    x = convert_to_tensor(input_tensor)
    if x._dtype._enum in dtypes.NUMBER:
        axis_attr(x, axis, "Mean")  # TF takes the mean first: its axis errors come first
    _check_inexact(x)
    centered = math_ops.subtract(x, reduce_mean(x, axis, keepdims=True))
    if x._dtype.is_complex:  # real(conj(d) d), not |d|**2: the same values, and at d = 0 the
        # gradient of the std is NaN as for real input (abs's gradient there is 0)
        return reduce_mean(math_ops.real(math_ops.multiply(math_ops.conj(centered), centered)),
                           axis, keepdims)
    return reduce_mean(math_ops.square(centered), axis, keepdims)


def reduce_std(input_tensor, axis=None, keepdims=False, name=None):
    """The standard deviation across `axis`: sqrt(reduce_variance(...))."""
    return math_ops.sqrt(reduce_variance(input_tensor, axis, keepdims))


# -- count_nonzero (composite) -----------------------------------------------------------------
def count_nonzero(input, axis=None, keepdims=None, dtype=dtypes.int64, name=None):  # noqa: A002
    """The number of non-zero (non-empty, for strings) elements across `axis`."""
    x = convert_to_tensor(input)
    if x._dtype is dtypes.string:
        zero = ""
    elif x._dtype is dtypes.bool:
        zero = False
    else:
        zero = 0
    nonzero = math_ops.cast(math_ops.not_equal(x, zero), dtypes.int64)
    counted = reduce_sum(nonzero, axis, keepdims=bool(keepdims))
    return math_ops.cast(counted, dtype)


# -- argmax, argmin ----------------------------------------------------------------------------
_ARG_OUTPUT_TYPES = frozenset((dtypes.int16._enum, dtypes.uint16._enum, dtypes.int32._enum,
                               dtypes.int64._enum))


def _arg_forward(x, axis, output_type, largest, op_name):
    shape = np.shape(x)
    if shape[axis] == 0:
        raise op_error(InvalidArgumentError, op_name,
                       f"Reduction axis {axis} is empty in shape {list(shape)}")
    if x.dtype.kind not in "iub":  # TF never picks a NaN unless every element is NaN
        nan = np.isnan(x)
        if nan.any():
            x = np.where(nan, -np.inf if largest else np.inf, x)
    index = np.argmax(x, axis=axis) if largest else np.argmin(x, axis=axis)
    return np.asarray(index).astype(output_type.as_numpy_dtype)[()]


def _arg_abstract(x, axis, output_type):
    return TensorSpec(shape_rules.reduced_shape(x.shape, axis, False), output_type)


def _argmax_forward(x, axis, output_type):
    return _arg_forward(x, axis, output_type, True, "ArgMax")


def _argmin_forward(x, axis, output_type):
    return _arg_forward(x, axis, output_type, False, "ArgMin")


ARG_MAX = primitive("ArgMax", _argmax_forward, None, _arg_abstract)
ARG_MIN = primitive("ArgMin", _argmin_forward, None, _arg_abstract)


def _arg_op(prim, doc):
    op_name = prim.name

    def op(input, axis=None, output_type=dtypes.int64, name=None):  # noqa: A002
        x = convert_checked(input, op_name, _REAL_ORDERED | dtypes.BOOL)
        output_type = dtypes.as_dtype(output_type)
        if output_type._enum not in _ARG_OUTPUT_TYPES:
            raise op_error(InvalidArgumentError, op_name,
                           f"Value for attr 'output_type' of {output_type.name} is not in the list "
                           f"of allowed values: int16, uint16, int32, int64")
        if axis is None:
            axis = 0  # TF 2: no axis means axis 0, not the flattened tensor
        elif isinstance(axis, (list, tuple)) or (isinstance(axis, Tensor) and not axis.dtype.is_integer):
            raise TypeError("axis must be int or Tensor with integer datatype")
        axis = int_attr(axis, "axis")
        rank = np.ndim(x._value)
        if not -rank <= axis < rank:
            raise op_error(InvalidArgumentError, op_name,
                           f"Expected dimension in the range [{-rank}, {rank}), but got {axis}")
        return execute(prim, (x,), {"axis": axis % rank, "output_type": output_type})
    op.__doc__ = doc
    return op


argmax = _arg_op(ARG_MAX, "The index of the largest value along `axis` (axis 0 when None).")
argmin = _arg_op(ARG_MIN, "The index of the smallest value along `axis` (axis 0 when None).")


# -- cumsum, cumprod ---------------------------------------------------------------------------
def _scan(ufunc, identity, x, axis, exclusive, reverse):
    if reverse:
        x = np.flip(x, axis)
    out = ufunc.accumulate(x, axis=axis, dtype=x.dtype)
    if exclusive and out.shape[axis]:
        head = np.full_like(np.take(out, [0], axis=axis), identity)
        out = np.concatenate([head, np.take(out, np.arange(out.shape[axis] - 1), axis=axis)], axis=axis)
    if reverse:
        out = np.flip(out, axis)
    return out


def _cumsum_grad(op, dy):
    a = op.attrs
    return cumsum(dy, a["axis"], exclusive=a["exclusive"], reverse=not a["reverse"])


def _cumprod_grad(op, dy):
    # Where x has no zero, the gradient is cumsum(dy * y) in the other direction divided by x.
    # Dividing fails at zeros: elements after the first zero (in scan order) get 0, and the first
    # zero gets the same sum computed from the products with that zero replaced by 1.
    x, y = op.inputs[0], op.outputs[0]
    axis, exclusive, reverse = op.attrs["axis"], op.attrs["exclusive"], op.attrs["reverse"]
    zeros, ones = array_ops.zeros_like(x), array_ops.ones_like(x)
    is_zero = math_ops.equal(x, zeros)
    zeros_before = cumsum(math_ops.cast(is_zero, x.dtype), axis, exclusive=True, reverse=reverse)
    first_zero = math_ops.logical_and(is_zero, math_ops.equal(zeros_before, zeros))
    safe = array_ops.where(is_zero, ones, x)
    regular = cumsum(math_ops.multiply(dy, y), axis, exclusive=exclusive, reverse=not reverse)
    regular = array_ops.where(is_zero, zeros, math_ops.divide(regular, safe))
    y_without_zero = cumprod(array_ops.where(first_zero, ones, x), axis, exclusive=exclusive,
                             reverse=reverse)
    at_zero = cumsum(math_ops.multiply(dy, y_without_zero), axis, exclusive=exclusive,
                     reverse=not reverse)
    return array_ops.where(first_zero, at_zero, regular)


def _cumsum_forward(x, axis, exclusive, reverse):
    return _scan(np.add, 0, x, axis, exclusive, reverse)


def _cumprod_forward(x, axis, exclusive, reverse):
    return _scan(np.multiply, 1, x, axis, exclusive, reverse)


CUMSUM = primitive("Cumsum", _cumsum_forward, _cumsum_grad, shape_rules.same_as_input)
CUMPROD = primitive("Cumprod", _cumprod_forward, _cumprod_grad, shape_rules.same_as_input)


def _scan_op(prim, doc):
    op_name = prim.name

    def op(x, axis=0, exclusive=False, reverse=False, name=None):
        x = convert_checked(x, op_name, dtypes.NUMBER)
        axis = int_attr(axis, "axis")
        rank = np.ndim(x._value)
        if not -rank <= axis < rank:
            raise op_error(InvalidArgumentError, op_name,
                           f"ScanOp: Expected scan axis in the range [{-rank}, {rank}), but got {axis}")
        return execute(prim, (x,), {"axis": axis % rank, "exclusive": bool(exclusive),
                                    "reverse": bool(reverse)})
    op.__doc__ = doc
    return op


cumsum = _scan_op(CUMSUM, "The running sum along `axis` (exclusive: without the current element; "
                          "reverse: from the end).")
cumprod = _scan_op(CUMPROD, "The running product along `axis` (exclusive, reverse as in cumsum).")


# -- sort, argsort, top_k ----------------------------------------------------------------------
def _stable_argsort(x, axis, descending):
    """Indices that sort `x` along `axis`; equal elements keep their order in both directions."""
    if not descending:
        return np.argsort(x, axis=axis, kind="stable")
    order = np.argsort(np.flip(x, axis), axis=axis, kind="stable")
    return (np.shape(x)[axis] - 1) - np.flip(order, axis)


def _scatter_along(updates, indices, axis: int, target_shape: tuple):
    """out[..., indices[..., j, ...], ...] += updates[..., j, ...] along `axis`, out of
    `target_shape`; written with ops (one unsorted_segment_sum) so that it is differentiable."""
    shape = tuple(updates.shape)
    if 0 in shape or 0 in target_shape:
        return array_ops.zeros(target_shape, dtype=updates.dtype)
    outer = int(np.prod(shape[:axis], dtype=np.int64))
    inner = int(np.prod(shape[axis + 1:], dtype=np.int64))
    k, n = shape[axis], target_shape[axis]
    idx = array_ops.reshape(math_ops.cast(indices, dtypes.int64), [outer, k, inner])
    outer_ids = array_ops.reshape(array_ops.range(0, outer * n * inner, n * inner, dtype=dtypes.int64),
                                  [outer, 1, 1])
    inner_ids = array_ops.reshape(array_ops.range(0, inner, dtype=dtypes.int64), [1, 1, inner])
    ids = math_ops.add(math_ops.add(math_ops.multiply(idx, inner), outer_ids), inner_ids)
    flat = unsorted_segment_sum(array_ops.reshape(updates, [-1]), array_ops.reshape(ids, [-1]),
                                outer * n * inner)
    return array_ops.reshape(flat, target_shape)


def _sort_forward(x, axis, descending):
    out = np.sort(x, axis=axis)
    return np.flip(out, axis) if descending else out


def _sort_grad(op, dy):
    x = op.inputs[0]
    axis = op.attrs["axis"]
    perm = execute(ARG_SORT, (x,), {"axis": axis, "descending": op.attrs["descending"]})
    return _scatter_along(dy, perm, axis, tuple(x.shape))


def _arg_sort_forward(x, axis, descending):
    return _stable_argsort(x, axis, descending).astype(np.int32)


SORT = primitive("Sort", _sort_forward, _sort_grad, shape_rules.same_as_input)
ARG_SORT = primitive("ArgSort", _arg_sort_forward, None,
                     lambda x, axis, descending: TensorSpec(x.shape, dtypes.int32))


def _sort_args(values, axis, direction, what):
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f"Argument `direction` should be one of ASCENDING, DESCENDING. "
                         f"Received: direction={direction}")
    x = convert_checked(values, what, _REAL_ORDERED)
    axis = int_attr(axis, "axis")
    rank = np.ndim(x._value)
    if not -rank <= axis < rank:
        raise op_error(InvalidArgumentError, what,
                       f"axis {axis} is out of bounds for a tensor of rank {rank}")
    return x, {"axis": axis % rank, "descending": direction == "DESCENDING"}


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """`values` sorted along `axis` ('ASCENDING' or 'DESCENDING')."""
    x, attrs = _sort_args(values, axis, direction, "Sort")
    return execute(SORT, (x,), attrs)


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """The int32 indices that sort `values` along `axis`; ties keep their order (always stable)."""
    x, attrs = _sort_args(values, axis, direction, "ArgSort")
    return execute(ARG_SORT, (x,), attrs)


def _top_k_forward(x, k, sorted, index_type):  # noqa: A002 - TF's attribute name
    if np.ndim(x) == 0:
        raise op_error(InvalidArgumentError, "TopKV2", "input must be >= 1-D, got shape []")
    n = np.shape(x)[-1]
    if k > n:
        raise op_error(InvalidArgumentError, "TopKV2",
                       f"input must have at least k columns. Had {n}, needed {k}")
    key = x
    if x.dtype.kind not in "iub":  # NaN ranks below every number (bfloat16's kind is "V")
        key = np.where(np.isnan(x), -np.inf, x)
    # Always in sorted order: with sorted=False TF leaves the order unspecified.
    index = _stable_argsort(key, -1, True)[..., :k]
    return np.take_along_axis(x, index, -1), index.astype(index_type.as_numpy_dtype)


def _top_k_grad(op, dys):
    x = op.inputs[0]
    return _scatter_along(dys[0], op.outputs[1], x.shape.rank - 1, tuple(x.shape))


def _top_k_abstract(x, k, sorted, index_type):  # noqa: A002
    if x.shape.rank is None:
        return TensorSpec(None, x.dtype), TensorSpec(None, index_type)
    dims = x.shape.as_list()[:-1] + [k]
    return TensorSpec(dims, x.dtype), TensorSpec(dims, index_type)


TOP_K = primitive("TopKV2", _top_k_forward, _top_k_grad, _top_k_abstract, multi_output=True)


def top_k(input, k=1, sorted=True, index_type=dtypes.int32, name=None):  # noqa: A002
    """The `k` largest entries of the last axis and their indices: TopKV2(values, indices)."""
    x = convert_checked(input, "TopKV2", _REAL_ORDERED)
    index_type = dtypes.as_dtype(index_type)
    if index_type._enum not in _INDEX_16_32_64:
        raise op_error(InvalidArgumentError, "TopKV2",
                       f"Value for attr 'index_type' of {index_type.name} is not in the list of "
                       f"allowed values: int16, int32, int64")
    k = int_attr(k, "k")
    if k < 0:
        raise op_error(InvalidArgumentError, "TopKV2", f"Need k >= 0, got {k}")
    values, indices = execute(TOP_K, (x,), {"k": k, "sorted": bool(sorted), "index_type": index_type})
    return TopKV2(values, indices)


# -- unique ------------------------------------------------------------------------------------
def _unique_parts(x, op_name):
    """(first-occurrence order values, inverse indices, counts) of a 1-D array."""
    if np.ndim(x) != 1:
        raise op_error(InvalidArgumentError, op_name, "unique expects a 1D vector.")
    if x.dtype.kind == "O":  # strings: hash them in order of appearance
        seen: dict = {}
        idx = np.fromiter((seen.setdefault(v, len(seen)) for v in x), dtype=np.int64, count=len(x))
        y = np.empty(len(seen), dtype=object)
        y[:] = list(seen)
        return y, idx, np.bincount(idx, minlength=len(seen))
    # NaN never equals NaN, so each one is its own value, as in TF.
    values, first, inverse, counts = np.unique(x, return_index=True, return_inverse=True,
                                               return_counts=True, equal_nan=False)
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return values[order], rank[inverse.reshape(-1)], counts[order]


def _unique_forward(x, out_idx):
    y, idx, _ = _unique_parts(x, "Unique")
    return y, idx.astype(out_idx.as_numpy_dtype)


def _unique_with_counts_forward(x, out_idx):
    y, idx, counts = _unique_parts(x, "UniqueWithCounts")
    np_type = out_idx.as_numpy_dtype
    return y, idx.astype(np_type), counts.astype(np_type)


def _unique_count_dim(x):
    if x.value is not None and np.ndim(x.value) == 1:
        return len(_unique_parts(np.asarray(x.value), "Unique")[0])
    return None


def _unique_abstract(x, out_idx):
    n = _unique_count_dim(x)
    return TensorSpec([n], x.dtype), TensorSpec(x.shape, out_idx)


def _unique_with_counts_abstract(x, out_idx):
    n = _unique_count_dim(x)
    return TensorSpec([n], x.dtype), TensorSpec(x.shape, out_idx), TensorSpec([n], out_idx)


UNIQUE = primitive("Unique", _unique_forward, None, _unique_abstract, multi_output=True)
UNIQUE_WITH_COUNTS = primitive("UniqueWithCounts", _unique_with_counts_forward, None,
                               _unique_with_counts_abstract, multi_output=True)


def _out_idx_attr(out_idx, op_name):
    out_idx = dtypes.as_dtype(out_idx)
    if out_idx._enum not in _INDEX_32_64:
        raise op_error(InvalidArgumentError, op_name,
                       f"Value for attr 'out_idx' of {out_idx.name} is not in the list of allowed "
                       f"values: int32, int64")
    return out_idx


def _unique_input(x, op_name):
    x = convert_to_tensor(x)
    if x._dtype.is_complex:  # TF declares them, without a CPU kernel
        raise math_ops._no_kernel(op_name, x._dtype)
    return x


def unique(x, out_idx=dtypes.int32, name=None):
    """The distinct values of 1-D `x` in order of first appearance, and each element's index
    into them: Unique(y, idx)."""
    x = _unique_input(x, "Unique")
    return Unique(*execute(UNIQUE, (x,), {"out_idx": _out_idx_attr(out_idx, "Unique")}))


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    """As `unique`, with how many times each distinct value occurs: UniqueWithCounts(y, idx, count)."""
    x = _unique_input(x, "UniqueWithCounts")
    return UniqueWithCounts(*execute(UNIQUE_WITH_COUNTS, (x,),
                                     {"out_idx": _out_idx_attr(out_idx, "UniqueWithCounts")}))


# -- bincount ----------------------------------------------------------------------------------
_BINCOUNT_TYPES = frozenset(d._enum for d in (dtypes.int32, dtypes.int64, dtypes.float32,
                                               dtypes.float64))


def _bincount_size(arr, minlength, maxlength):
    size = int(arr.max()) + 1 if arr.size else 0
    if minlength is not None:
        size = max(size, minlength)
    if maxlength is not None:
        size = min(size, maxlength)
    return size


def _bincount_forward(arr, weights, minlength, maxlength, dtype, axis, binary_output):
    arr = np.asarray(arr)
    if arr.size and arr.min() < 0:
        raise op_error(InvalidArgumentError, "DenseBincount", "Input arr must be non-negative!")
    weighted = np.size(weights) > 0
    out_type = weights.dtype if weighted else dtype.as_numpy_dtype
    if weighted and np.shape(weights) != arr.shape:
        raise op_error(InvalidArgumentError, "DenseBincount",
                       f"`weights` must be the same shape as `arr` or a length-0 `Tensor`, in which "
                       f"case it acts as all weights equal to 1. Received {list(np.shape(weights))}")
    size = _bincount_size(arr, minlength, maxlength)
    if axis == 0:
        rows, arr = 1, arr.reshape(1, -1)
        weights = np.reshape(weights, (1, -1)) if weighted else None
    else:
        rows = arr.shape[0]
    # One bincount over all rows: row r's values are shifted by r * size.
    keep = arr < size
    flat = (arr + (np.arange(rows) * size)[:, None])[keep]
    w = np.asarray(weights)[keep] if weighted else None
    if weighted and out_type.kind in "iu":
        counts = np.zeros(rows * size, dtype=out_type)
        np.add.at(counts, flat, w)
    else:
        counts = np.bincount(flat, weights=w, minlength=rows * size)
    if binary_output:
        counts = counts > 0
    counts = counts.astype(out_type).reshape(rows, size)
    return counts[0] if axis == 0 else counts


def _bincount_abstract(arr, weights, minlength, maxlength, dtype, axis, binary_output):
    out_type = weights.dtype if weights.shape.num_elements() != 0 else dtype
    if arr.value is not None:
        value = np.asarray(arr.value)
        valid = value.size == 0 or value.min() >= 0
        size = _bincount_size(value, minlength, maxlength) if valid else None
    elif minlength is not None and minlength == maxlength:
        size = minlength
    else:
        size = None
    if axis == 0:
        return TensorSpec([size], out_type)
    return TensorSpec([arr.shape[0] if arr.shape.rank else None, size], out_type)


DENSE_BINCOUNT = primitive("DenseBincount", _bincount_forward, None, _bincount_abstract)


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype=dtypes.int32, name=None,
             axis=None, binary_output=False):
    """How many times each value 0, 1, ... occurs in `arr` (or the sum of its `weights`)."""
    arr = convert_to_tensor(arr)
    if weights is not None:
        weights = convert_to_tensor(weights)
        if binary_output:
            raise ValueError("Arguments `binary_output` and `weights` are mutually exclusive. "
                             "Please specify only one.")
    if not arr._dtype.is_integer:
        arr = math_ops.cast(arr, dtypes.int32)
    elif arr._dtype._enum not in _INDEX_32_64:
        raise op_error(InvalidArgumentError, "DenseBincount",
                       f"Value for attr 'Tidx' of {arr._dtype.name} is not in the list of allowed "
                       f"values: int32, int64")
    axis = 0 if axis is None else axis
    if axis not in (0, -1):
        raise ValueError(f"Unsupported value for argument axis={axis}. Only 0 and -1 are "
                         f"currently supported.")
    if axis == -1 and arr.shape.rank != 2:
        raise op_error(InvalidArgumentError, "DenseBincount",
                       f"input must be 2-D when axis is -1, got shape {arr.shape}")
    dtype = dtypes.as_dtype(dtype)
    if weights is None:
        if dtype._enum not in _BINCOUNT_TYPES:
            raise unsupported_dtype("DenseBincount", dtype)
        # An empty weights tensor means "count": the op's input list stays fixed.
        weights = Tensor(np.zeros((0,), dtype=dtype.as_numpy_dtype), dtype)
    elif weights._dtype._enum not in _BINCOUNT_TYPES:
        raise unsupported_dtype("DenseBincount", weights._dtype)
    attrs = {"minlength": None if minlength is None else int_attr(minlength, "minlength"),
             "maxlength": None if maxlength is None else int_attr(maxlength, "maxlength"),
             "dtype": dtype, "axis": axis, "binary_output": bool(binary_output)}
    return execute(DENSE_BINCOUNT, (arr, weights), attrs)


# -- segment reductions ------------------------------------------------------------------------
_SEGMENT_KINDS = {  # kind: (ufunc, identity for an empty segment of the unsorted op)
    "sum": (np.add, lambda dt: 0),
    "prod": (np.multiply, lambda dt: 1),
    "max": (np.maximum, lambda dt: dtypes.from_numpy(dt).min),  # the lowest finite value
    "min": (np.minimum, lambda dt: dtypes.from_numpy(dt).max),
}


def _segment_reduce(data, ids, num, kind):
    """Reduces the rows of `data` (leading dims shaped like `ids`) into `num` segments; rows
    with a negative id are dropped. Returns (result, count of rows per segment)."""
    ufunc, identity = _SEGMENT_KINDS[kind]
    flat_ids = np.reshape(ids, -1)
    rest = np.shape(data)[np.ndim(ids):]
    rows = np.reshape(data, (flat_ids.size,) + rest)
    keep = flat_ids >= 0
    if not keep.all():
        flat_ids, rows = flat_ids[keep], rows[keep]
    out = np.full((num,) + rest, identity(data.dtype), dtype=data.dtype)
    ufunc.at(out, flat_ids, rows)
    return out, np.bincount(flat_ids, minlength=num)


def _check_sorted_ids(op_name, data, ids):
    if np.ndim(ids) != 1:
        raise op_error(InvalidArgumentError, op_name, "segment_ids should be a vector.")
    if np.ndim(data) == 0 or np.shape(data)[0] != ids.size:
        raise op_error(InvalidArgumentError, op_name,
                       "segment_ids should be the same size as dimension 0 of input.")
    if not ids.size:
        return 0
    num = int(ids[-1]) + 1
    if ids.min() < 0:
        raise op_error(InvalidArgumentError, op_name,
                       f"Segment id {ids.min()} out of range [0, {num}), possibly because "
                       f"'segment_ids' input is not sorted.")
    if np.any(np.diff(ids) < 0):
        raise op_error(InvalidArgumentError, op_name, "segment ids are not increasing")
    return num


def _check_unsorted_ids(op_name, data, ids, num):
    if np.shape(data)[:np.ndim(ids)] != np.shape(ids):
        raise op_error(InvalidArgumentError, op_name,
                       f"data.shape = {list(np.shape(data))} does not start with segment_ids.shape "
                       f"= {list(np.shape(ids))}")
    if num < 0:
        raise op_error(InvalidArgumentError, op_name,
                       f"Input num_segments == {num} must not be negative.")
    flat = np.reshape(ids, -1)
    bad = np.nonzero(flat >= num)[0]
    if bad.size:
        raise op_error(InvalidArgumentError, op_name,
                       f"segment_ids[{bad[0]}] = {flat[bad[0]]} is out of range [0, {num})")


def _int_mean(total, counts, dtype):
    shape = (-1,) + (1,) * (np.ndim(total) - 1)
    n = np.maximum(counts, 1).reshape(shape)
    if dtype.kind in "iu":
        return (np.sign(total) * (np.abs(total) // n)).astype(dtype)
    return (total / n).astype(dtype, copy=False)


def _sorted_segment_forward(kind, op_name):
    def forward(data, ids):
        num = _check_sorted_ids(op_name, data, ids)
        out, counts = _segment_reduce(data, ids, num, "sum" if kind == "mean" else kind)
        if kind == "mean":
            return _int_mean(out, counts, data.dtype)
        if kind in ("max", "min"):  # an empty segment of a sorted segment op is 0
            out[counts == 0] = 0
        return out
    return forward


def _unsorted_segment_forward(kind, op_name):
    def forward(data, ids, num_segments):
        _check_unsorted_ids(op_name, data, ids, num_segments)
        return _segment_reduce(data, ids, num_segments, kind)[0]
    return forward


def _sorted_segment_abstract(data, ids):
    num = None
    if ids.value is not None:
        value = np.reshape(ids.value, -1)
        num = int(value[-1]) + 1 if value.size else 0
    if data.shape.rank is None:
        return TensorSpec(None, data.dtype)
    return TensorSpec([num] + data.shape.as_list()[1:], data.dtype)


def _unsorted_segment_abstract(data, ids, num_segments):
    if data.shape.rank is None or ids.shape.rank is None:
        return TensorSpec(None, data.dtype)
    return TensorSpec([num_segments] + data.shape.as_list()[ids.shape.rank:], data.dtype)


def _num_segments(op):
    return op.attrs["num_segments"] if "num_segments" in op.attrs else op.outputs[0].shape[0]


def _gather_segments(t, ids, data):
    """t[ids] (rows of a segment op's output-shaped tensor for each input row), shaped like
    `data`; rows with a negative id get 0."""
    valid = math_ops.greater_equal(ids, array_ops.zeros_like(ids))
    rows = array_ops.gather(t, math_ops.maximum(ids, array_ops.zeros_like(ids)))
    mask = array_ops.reshape(valid, tuple(ids.shape) + (1,) * (data.shape.rank - ids.shape.rank))
    return array_ops.where(mask, rows, array_ops.zeros_like(rows))


def _segment_sum_grad(op, dy):
    return _gather_segments(dy, op.inputs[1], op.inputs[0]), None


def _segment_mean_grad(op, dy):
    data, ids = op.inputs
    counts = _segment_counts(data, ids, _num_segments(op))
    return _gather_segments(math_ops.divide(dy, counts), ids, data), None


def _segment_min_max_grad(op, dy):
    # As reduce_max: the gradient goes to the rows equal to their segment's extremum, split
    # evenly among ties.
    data, ids = op.inputs
    selected = math_ops.cast(math_ops.equal(data, _gather_segments(op.outputs[0], ids, data)), dy.dtype)
    counts = unsorted_segment_sum(selected, ids, _num_segments(op))
    counts = math_ops.maximum(counts, array_ops.ones_like(counts))
    return math_ops.multiply(selected, _gather_segments(math_ops.divide(dy, counts), ids, data)), None


def _segment_prod_grad(op, dy):
    # The zero-safe product-of-the-others rule of reduce_prod, per segment.
    data, ids = op.inputs
    num = _num_segments(op)
    zeros, ones = array_ops.zeros_like(data), array_ops.ones_like(data)
    is_zero = math_ops.equal(data, zeros)
    safe = array_ops.where(is_zero, ones, data)
    zero_count = _gather_segments(unsorted_segment_sum(math_ops.cast(is_zero, data.dtype), ids, num),
                                  ids, data)
    nonzero_prod = _gather_segments(unsorted_segment_prod(safe, ids, num), ids, data)
    factor = array_ops.where(
        is_zero,
        array_ops.where(math_ops.equal(zero_count, ones), nonzero_prod, zeros),
        array_ops.where(math_ops.equal(zero_count, zeros), math_ops.divide(nonzero_prod, safe), zeros))
    return math_ops.multiply(_gather_segments(dy, ids, data), _conj(factor)), None


_SEGMENT_GRADS = {"sum": _segment_sum_grad, "mean": _segment_mean_grad, "max": _segment_min_max_grad,
                  "min": _segment_min_max_grad, "prod": _segment_prod_grad}
_SEGMENT_PRIMS = {}
for _kind in ("sum", "mean", "max", "min", "prod"):
    _name = "Segment" + _kind.capitalize()
    _SEGMENT_PRIMS[_name] = primitive(_name, _sorted_segment_forward(_kind, _name),
                                      _SEGMENT_GRADS[_kind], _sorted_segment_abstract)
for _kind in ("sum", "max", "min", "prod"):
    _name = "UnsortedSegment" + _kind.capitalize()
    _SEGMENT_PRIMS[_name] = primitive(_name, _unsorted_segment_forward(_kind, _name),
                                      _SEGMENT_GRADS[_kind], _unsorted_segment_abstract)


def _segment_inputs(op_name, data, segment_ids, allowed, id_types):
    data = convert_to_tensor(data)
    ids = convert_to_tensor(segment_ids)
    if data._dtype._enum not in allowed:
        raise unsupported_dtype(op_name, data._dtype)
    if ids._dtype._enum not in id_types:
        allowed_names = ("int16, " if dtypes.int16._enum in id_types else "") + "int32, int64"
        raise op_error(InvalidArgumentError, op_name,
                       f"Value for attr 'Tindices' of {ids._dtype.name} is not in the list of "
                       f"allowed values: {allowed_names}")
    return data, ids


def _sorted_segment_op(kind, allowed, doc):
    prim = _SEGMENT_PRIMS["Segment" + kind.capitalize()]

    def op(data, segment_ids, name=None):
        data, ids = _segment_inputs(prim.name, data, segment_ids, allowed, _INDEX_32_64)
        return execute(prim, (data, ids))
    op.__doc__ = doc
    return op


def _unsorted_segment_op(kind, allowed, doc):
    prim = _SEGMENT_PRIMS["UnsortedSegment" + kind.capitalize()]
    id_types = _INDEX_16_32_64 if kind == "sum" else _INDEX_32_64  # TF: int16 ids for sum only

    def op(data, segment_ids, num_segments, name=None):
        data, ids = _segment_inputs(prim.name, data, segment_ids, allowed, id_types)
        return execute(prim, (data, ids), {"num_segments": int_attr(num_segments, "num_segments")})
    op.__doc__ = doc
    return op


segment_sum = _sorted_segment_op("sum", dtypes.NUMBER,
                                 "Sums of the rows of `data` with equal, sorted `segment_ids`.")
segment_mean = _sorted_segment_op("mean", dtypes.NUMBER,
                                  "Means of the rows of `data` with equal, sorted `segment_ids`.")
segment_max = _sorted_segment_op("max", _REAL_ORDERED,
                                 "Maxima of the rows of `data` per sorted segment (0 if empty).")
segment_min = _sorted_segment_op("min", _REAL_ORDERED,
                                 "Minima of the rows of `data` per sorted segment (0 if empty).")
segment_prod = _sorted_segment_op("prod", dtypes.NUMBER,
                                  "Products of the rows of `data` per sorted segment (1 if empty).")
unsorted_segment_sum = _unsorted_segment_op(
    "sum", dtypes.NUMBER, "Sums of the rows of `data` per segment id, for `num_segments` segments; "
                          "rows with a negative id are dropped.")
unsorted_segment_max = _unsorted_segment_op(
    "max", _REAL_ORDERED, "Maxima per segment id; an empty segment holds the dtype's lowest value.")
unsorted_segment_min = _unsorted_segment_op(
    "min", _REAL_ORDERED, "Minima per segment id; an empty segment holds the dtype's highest value.")
unsorted_segment_prod = _unsorted_segment_op(
    "prod", dtypes.NUMBER, "Products per segment id; an empty segment holds 1.")


def _segment_counts(data, ids, num_segments):
    """How many rows each segment has (at least 1), in data's dtype, shaped to broadcast
    against the per-segment results."""
    counts = unsorted_segment_sum(array_ops.ones_like(ids, dtype=data.dtype.real_dtype), ids,
                                  num_segments)
    counts = math_ops.maximum(counts, array_ops.ones_like(counts))
    if data.dtype.is_complex:
        counts = math_ops.cast(counts, data.dtype)
    return array_ops.reshape(counts, (-1,) + (1,) * (data.shape.rank - ids.shape.rank))


def unsorted_segment_mean(data, segment_ids, num_segments, name=None):
    """Means per segment id (0 for an empty segment); integer data gives float64, as in TF."""
    data, ids = _segment_inputs("UnsortedSegmentSum", data, segment_ids, dtypes.NUMBER, _INDEX_16_32_64)
    if data._dtype.is_complex:
        raise unsupported_dtype("Maximum", data._dtype)
    summed = unsorted_segment_sum(data, ids, num_segments)
    return math_ops.divide(summed, _segment_counts(data, ids, num_segments))


def unsorted_segment_sqrt_n(data, segment_ids, num_segments, name=None):
    """Sums per segment id divided by the square root of the segment's size (0 if empty)."""
    data, ids = _segment_inputs("UnsortedSegmentSum", data, segment_ids, dtypes.FLOATING, _INDEX_16_32_64)
    summed = unsorted_segment_sum(data, ids, num_segments)
    return math_ops.divide(summed, math_ops.sqrt(_segment_counts(data, ids, num_segments)))
