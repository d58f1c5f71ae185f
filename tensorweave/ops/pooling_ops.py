"""Pooling ops (tf.nn.max_pool*, avg_pool*, pool) and local response normalization (tf.nn.lrn).

Every pooling kernel loops over the offsets of the window (4 for a 2x2 window), never over pixels:
for offset (i, j) the inputs it sees form one strided view of the input, `x[:, i::s, j::s]`,
which NumPy combines with the output in one call. Padding is never materialized: for an offset
whose view would reach into the padding, the view is cut to the outputs it really serves (SAME
max pooling then ignores padding as if it were -inf, SAME average pooling divides by the number
of real inputs in each window, as TensorFlow does).

The kernels work on full-rank `ksize`/`strides`/`dilations` (one entry per axis of the input, in
the input's own layout), so NHWC and NCHW, 1-D, 2-D and 3-D, and depth pooling are one code path.

Max pooling's gradient routes each output's gradient to one input of its window as TensorFlow
does: for 1-D and 2-D pooling (MaxPool) the first maximal input in row-major window order; for
3-D pooling (MaxPool3D) every input equal to the maximum.
"""
from __future__ import annotations

import functools
import itertools
import math

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor, unsupported_dtype
from tensorweave.framework.errors import InvalidArgumentError, UnimplementedError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import math_ops

_MAX_POOL_TYPES = dtypes._enums(
    dtypes.float16, dtypes.bfloat16, dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64,
    dtypes.uint8, dtypes.int16, dtypes.int8, dtypes.uint16)
# TensorFlow's CPU kernels for 3-D max pooling stop at float32; float64 is accepted here too
# (as TensorFlow's GPU kernels do), so that gradients can be checked in double precision.
_MAX_POOL_3D_TYPES = dtypes.FLOATING
_AVG_POOL_TYPES = dtypes.FLOATING
_LRN_TYPES = dtypes.FLOATING


# -- window geometry ---------------------------------------------------------------------------
def _output_size(op_name: str, n: int, k: int, s: int, d: int, padding: str, pads) -> tuple:
    """(output size, padding before) along one axis, with TensorFlow's arithmetic."""
    span = (k - 1) * d + 1
    if padding == "SAME":
        out = -(-n // s)
        total = max((out - 1) * s + span - n, 0)
        return out, total // 2
    before, after = pads if padding == "EXPLICIT" else (0, 0)
    out = (n + before + after - span + s) // s
    if out < 0:
        raise op_error(InvalidArgumentError, op_name,
                       f"Computed output size would be negative: {out} [input_size: {n}, "
                       f"effective_filter_size: {span}, stride: {s}]")
    return out, before


class _Plan:
    """The views a pooling kernel combines, for one input shape and one set of attributes.

    `offsets` lists, per window offset in row-major order, `(out_index, in_index, full)`: the
    outputs it serves, the inputs they see (tuples of slices) and whether it serves all outputs.
    `exact`: every input is in exactly one window (k == stride, no padding, no remainder);
    `disjoint`: windows never overlap; `count`: the number of real inputs per window (a scalar,
    or an array broadcasting against the output).
    """

    __slots__ = ("out_shape", "offsets", "exact", "disjoint", "count")


@functools.lru_cache(maxsize=512)
def _plan(op_name: str, shape: tuple, ksize: tuple, strides: tuple, dilations: tuple,
          padding: str, explicit: tuple) -> _Plan:
    out_shape, per_axis, counts = [], [], []
    exact = disjoint = True
    for axis, n in enumerate(shape):
        k, s, d = ksize[axis], strides[axis], dilations[axis]
        out, before = _output_size(op_name, n, k, s, d, padding,
                                   explicit[axis] if explicit else (0, 0))
        out_shape.append(out)
        choices, count = [], np.zeros(out, np.int64)
        for i in range(k):
            first = i * d - before  # the input seen by output o is o * s + first
            lo, hi = max(0, -(first // s)), min(out, (n - 1 - first) // s + 1)
            if hi <= lo:
                choices.append(None)
                continue
            start = lo * s + first
            choices.append((slice(lo, hi), slice(start, start + (hi - lo - 1) * s + 1, s),
                            lo == 0 and hi == out))
            count[lo:hi] += 1
        per_axis.append(choices)
        if k > 1:
            counts.append((axis, count))
        if k > 1 and (d > 1 or k > s):
            disjoint = False
        if not (k == s and before == 0 and out * k == n and (k == 1 or d == 1)):
            exact = False
    plan = _Plan()
    plan.out_shape = tuple(out_shape)
    plan.offsets = [(tuple(c[0] for c in combo), tuple(c[1] for c in combo),
                     all(c[2] for c in combo))
                    for combo in itertools.product(*per_axis) if None not in combo]
    plan.exact, plan.disjoint = exact, disjoint
    window = math.prod(ksize)
    if all((c == ksize[axis]).all() for axis, c in counts):
        plan.count = window
    else:
        total = np.ones([1] * len(shape), np.float64)
        for axis, c in counts:
            total = total * c.reshape([-1 if a == axis else 1 for a in range(len(shape))])
        plan.count = total
    return plan


def _plan_of(x: np.ndarray, attrs: dict, op_name: str) -> _Plan:
    return _plan(op_name, x.shape, attrs["ksize"], attrs["strides"], attrs["dilations"],
                 attrs["padding"], attrs["explicit_paddings"])


def _lowest(dtype: np.dtype):
    if dtype.kind == "f" or dtype.kind == "V":
        return -np.inf
    return np.iinfo(dtype).min


def _float_work(dtype: np.dtype) -> np.dtype:
    """float16 and bfloat16 are accumulated in float32, as TensorFlow's kernels do."""
    return np.dtype(np.float32) if dtype.itemsize < 4 else dtype


# -- forward kernels ---------------------------------------------------------------------------
def _start(x, plan, combine, work):
    """The output array, begun from the offsets that serve every output: combine(a, b) of the
    first two such views (one pass fewer than copying the first), or the neutral element."""
    full = [o for o in plan.offsets if o[2]]
    if len(full) >= 2:
        return combine(x[full[0][1]], x[full[1][1]], dtype=work), full[:2]
    if full:
        return x[full[0][1]].astype(work), full[:1]  # astype of a view always copies
    neutral = _lowest(x.dtype) if combine is np.maximum else 0
    return np.full(plan.out_shape, neutral, work), []


def _max_pool_forward(x, op_name="MaxPool", **attrs):
    plan = _plan_of(x, attrs, op_name)
    y, used = _start(x, plan, np.maximum, x.dtype)
    for offset in plan.offsets:
        out_index, in_index, whole = offset
        if whole:
            if offset not in used:
                np.maximum(y, x[in_index], out=y)
        else:
            part = y[out_index]
            np.maximum(part, x[in_index], out=part)
    return y


def _argmax_masks(x, y, plan, first_only):
    """Per window offset, (out_index, in_index, mask): where that offset's input is the one
    that takes the output's gradient (the first maximal input in row-major window order when
    `first_only`, else every maximal one)."""
    last = len(plan.offsets) - 1
    free = None  # outputs whose maximal input is not found yet
    for n, (out_index, in_index, whole) in enumerate(plan.offsets):
        if first_only and n == last and whole and free is not None:
            yield out_index, in_index, free  # the last offset of every window takes the rest
            return
        hit = np.equal(x[in_index], y[out_index])
        if first_only and n != last:
            if free is None and whole:
                free = np.logical_not(hit)
            else:
                if free is None:
                    free = np.ones(y.shape, bool)
                available = free[out_index]
                np.logical_and(hit, available, out=hit)
                np.logical_xor(available, hit, out=available)
        elif first_only and free is not None:
            np.logical_and(hit, free[out_index], out=hit)
        yield out_index, in_index, hit


def _max_pool_grad_forward(x, y, dy, first_only=True, op_name="MaxPoolGrad", **attrs):
    """dx: each output's gradient routed to the maximal input of its window."""
    plan = _plan_of(x, attrs, op_name)
    dx = np.empty(x.shape, dy.dtype) if plan.exact else np.zeros(x.shape, dy.dtype)
    for out_index, in_index, hit in _argmax_masks(x, y, plan, first_only):
        if plan.disjoint:
            np.multiply(dy[out_index], hit, out=dx[in_index])
        else:
            dx[in_index] += dy[out_index] * hit
    return dx


def _max_pool_grad_grad_forward(x, y, g, first_only=True, op_name="MaxPoolGradGrad", **attrs):
    """The transpose of the gradient: each output takes `g` at the maximal input(s) of its
    window."""
    plan = _plan_of(x, attrs, op_name)
    out = np.zeros(y.shape, g.dtype)
    for out_index, in_index, hit in _argmax_masks(x, y, plan, first_only):
        out[out_index] += g[in_index] * hit
    return out


def _avg_pool_forward(x, op_name="AvgPool", **attrs):
    plan = _plan_of(x, attrs, op_name)
    work = _float_work(x.dtype)
    total, used = _start(x, plan, np.add, work)
    for offset in plan.offsets:
        out_index, in_index, whole = offset
        if whole:
            if offset not in used:
                np.add(total, x[in_index], out=total)
        else:
            part = total[out_index]
            np.add(part, x[in_index], out=part)
    count = plan.count
    np.divide(total, count if isinstance(count, int) else count.astype(work), out=total)
    return total.astype(x.dtype, copy=False)


def _avg_pool_grad_forward(x, dy, op_name="AvgPoolGrad", **attrs):
    """dx: each output's gradient shared equally among the real inputs of its window."""
    plan = _plan_of(x, attrs, op_name)
    work = _float_work(dy.dtype)
    count = plan.count
    share = np.divide(dy, count if isinstance(count, int) else count.astype(work), dtype=work)
    dx = np.empty(x.shape, work) if plan.exact else np.zeros(x.shape, work)
    for out_index, in_index, whole in plan.offsets:
        if plan.disjoint:
            np.copyto(dx[in_index], share[out_index])
        else:
            dx[in_index] += share[out_index]
    return dx.astype(dy.dtype, copy=False)


# -- abstract evaluation -----------------------------------------------------------------------
def _pooled_shape(shape: TensorShape, op_name: str, attrs: dict) -> TensorShape:
    if shape.rank is None:
        return TensorShape([None] * len(attrs["ksize"]))
    dims = []
    for axis, n in enumerate(shape.as_list()):
        if n is None:
            dims.append(None)
            continue
        explicit = attrs["explicit_paddings"]
        out, _ = _output_size(op_name, n, attrs["ksize"][axis], attrs["strides"][axis],
                              attrs["dilations"][axis], attrs["padding"],
                              explicit[axis] if explicit else (0, 0))
        dims.append(out)
    return TensorShape(dims)


def _pool_abstract(op_name):
    def abstract(x, **attrs):
        return TensorSpec(_pooled_shape(x.shape, op_name, attrs), x.dtype)
    return abstract


def _like_input(x, *rest, **attrs):
    return TensorSpec(x.shape, rest[-1].dtype)


def _like_output(x, y, g, **attrs):
    return TensorSpec(y.shape, g.dtype)


# -- primitives --------------------------------------------------------------------------------
def _kernel(fn, **fixed):
    return functools.partial(fn, **fixed)


def _max_pool_family(name: str, first_only: bool):
    grad_name, grad_grad_name = name + "Grad", name + "GradGrad"

    def pool_grad(op, dy):
        return execute(grad_prim, (op.inputs[0], op.outputs[0], dy), op.attrs)

    def grad_grad(op, g):
        x, y, _ = op.inputs
        return None, None, execute(grad_grad_prim, (x, y, g), op.attrs)

    def grad_grad_grad(op, g):
        x, y, _ = op.inputs
        return None, None, execute(grad_prim, (x, y, g), op.attrs)

    pool = primitive(name, _kernel(_max_pool_forward, op_name=name), pool_grad,
                     _pool_abstract(name))
    grad_prim = primitive(grad_name, _kernel(_max_pool_grad_forward, first_only=first_only,
                                             op_name=grad_name), grad_grad, _like_input)
    grad_grad_prim = primitive(
        grad_grad_name, _kernel(_max_pool_grad_grad_forward, first_only=first_only,
                                op_name=grad_grad_name), grad_grad_grad, _like_output)
    return pool, grad_prim, grad_grad_prim


MAX_POOL, MAX_POOL_GRAD, MAX_POOL_GRAD_GRAD = _max_pool_family("MaxPool", first_only=True)
MAX_POOL_3D, MAX_POOL_3D_GRAD, MAX_POOL_3D_GRAD_GRAD = _max_pool_family("MaxPool3D",
                                                                        first_only=False)


def _avg_pool_family(name: str):
    def pool_grad(op, dy):
        return execute(grad_prim, (op.inputs[0], dy), op.attrs)

    def grad_grad(op, g):
        return None, execute(pool, (g,), op.attrs)

    pool = primitive(name, _kernel(_avg_pool_forward, op_name=name), pool_grad,
                     _pool_abstract(name))
    grad_prim = primitive(name + "Grad", _kernel(_avg_pool_grad_forward, op_name=name + "Grad"),
                          grad_grad, _like_input)
    return pool, grad_prim


AVG_POOL, AVG_POOL_GRAD = _avg_pool_family("AvgPool")
AVG_POOL_3D, AVG_POOL_3D_GRAD = _avg_pool_family("AvgPool3D")


# -- argument handling -------------------------------------------------------------------------
def _as_int(value, name: str) -> int:
    try:
        return int(value.__index__())
    except AttributeError:
        raise TypeError(f"Expected int for argument '{name}' not {value!r}.") from None


def _sequence(value, n: int, channels_first: bool, name: str) -> list:
    """ksize/strides as one entry per input axis (TensorFlow's rule: 1, n or n + 2 values)."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (list, tuple)):
        value = list(value)
    elif hasattr(value, "__index__"):
        value = [value]
    else:
        try:
            value = list(value)
        except TypeError:
            value = [value]
    if len(value) == n + 2:
        return [_as_int(v, name) for v in value]
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. Received: "
                         f"{name}={value} of length {len(value)}")
    value = [_as_int(v, name) for v in value]
    return [1, 1] + value if channels_first else [1] + value + [1]


_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}


def _channels_first(n: int, data_format, op_name: str) -> bool:
    if data_format is None:
        return False
    if n == 1:
        # tf.nn.*_pool1d read "NWC" as channels last and anything starting with "NC" as first
        # (its "NHWC"/"NCHW" spellings included).
        if data_format in ("NWC", "NHWC"):
            return False
        if data_format in ("NCW", "NCHW"):
            return True
        raise ValueError(f"data_format must be either 'NWC' or 'NCW'. Received: "
                         f"data_format={data_format}")
    allowed = _FORMATS[n]
    if data_format not in allowed:
        listed = ", ".join(f'"{f}"' for f in allowed)
        raise op_error(InvalidArgumentError, op_name,
                       f"Value for attr 'data_format' of \"{data_format}\" is not in the list "
                       f"of allowed values: {listed}")
    return data_format.startswith("NC")


def _padding(padding, n: int, op_name: str, explicit_allowed: bool):
    """(padding string, explicit paddings as pairs or ()) from a string or a list of pairs."""
    if isinstance(padding, (list, tuple)):
        if not explicit_allowed:
            raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
        pairs = []
        for i, pair in enumerate(padding):
            if not isinstance(pair, (list, tuple)):
                raise ValueError(f"When `padding` is a list, each element of `padding` must be a "
                                 f"list/tuple of size 2. Received: padding={padding} with "
                                 f"element at index {i} of type {type(pair)}")
            if len(pair) != 2:
                raise ValueError(f"When `padding` is a list, each element of `padding` must be a "
                                 f"list/tuple of size 2. Received: padding={padding} with "
                                 f"element at index {i} of size {len(pair)}")
            pairs.append((_as_int(pair[0], "padding"), _as_int(pair[1], "padding")))
        if len(pairs) != n + 2:
            raise ValueError(f"When padding is a list, it must be of size {n + 2}. Received: "
                             f"padding={padding} of size {len(pairs)}")
        return "EXPLICIT", tuple(pairs)
    if padding == "EXPLICIT" and explicit_allowed:
        raise ValueError("'EXPLICIT' is not a valid value for `padding`. To use explicit "
                         "padding, `padding` must be a list.")
    if padding not in ("SAME", "VALID"):
        allowed = '"SAME", "VALID", "EXPLICIT"' if explicit_allowed else '"SAME", "VALID"'
        raise op_error(InvalidArgumentError, op_name,
                       f"Value for attr 'padding' of \"{padding}\" is not in the list of allowed "
                       f"values: {allowed}")
    return padding, ()


def _check_windows(op_name: str, ksize, strides, explicit, channel: int, max_pool: bool,
                   rank: int) -> None:
    if any(k <= 0 for k in ksize):
        raise op_error(InvalidArgumentError, op_name,
                       f"Sliding window ksize must be positive. The specified or inferred ksize "
                       f"is: {','.join(map(str, ksize))}")
    if any(s <= 0 for s in strides):
        bad = next(s for s in strides if s <= 0)
        raise op_error(InvalidArgumentError, op_name, f"Stride must be > 0, but got {bad}")
    if ksize[0] != 1 or strides[0] != 1:
        raise op_error(UnimplementedError, op_name,
                       "Pooling is not yet supported on the batch dimension.")
    spatial = [a for a in range(1, rank) if a != channel]
    depth = ksize[channel] != 1 or strides[channel] != 1
    if depth:
        if rank == 5 or not max_pool:
            raise op_error(UnimplementedError, op_name,
                           "Pooling is not yet supported on the depth dimension."
                           if rank == 5 else "Non-spatial pooling is not yet supported.")
        if any(ksize[a] != 1 or strides[a] != 1 for a in spatial):
            raise op_error(UnimplementedError, op_name,
                           "MaxPooling supports exactly one of pooling across depth or pooling "
                           "across width/height.")
        if ksize[channel] != strides[channel]:
            raise op_error(UnimplementedError, op_name,
                           "Depthwise max pooling requires the depth window to equal the depth "
                           "stride.")
    if explicit:
        if any(p < 0 for pair in explicit for p in pair):
            raise op_error(InvalidArgumentError, op_name,
                           "All elements of explicit_paddings must be nonnegative")
        if any(explicit[0]) or any(explicit[channel]):
            raise op_error(InvalidArgumentError, op_name,
                           "Nonzero explicit padding in the batch or depth dimensions is not "
                           "supported")
        for a in spatial:
            before, after = explicit[a]
            if before >= ksize[a]:
                raise op_error(InvalidArgumentError, op_name,
                               f"Left padding {before} needs to be smaller than the window size "
                               f"{ksize[a]}")
            if after >= ksize[a]:
                raise op_error(InvalidArgumentError, op_name,
                               f"Right padding {after} needs to be smaller than the window size "
                               f"{ksize[a]}")


def _check_depth(op_name: str, x, ksize, channel: int) -> None:
    depth = x.shape.as_list()[channel] if x.shape.rank is not None else None
    k = ksize[channel]
    if k > 1 and depth is not None and depth % k:
        raise op_error(UnimplementedError, op_name,
                       "Depthwise max pooling requires the depth window to evenly divide the "
                       "input depth.")


def _pool(input, n: int, kind: str, ksize, strides, padding, data_format, dilations=None,
          explicit_allowed=False):
    """The shared body of every public pooling function: `n` spatial dims, `kind` MAX or AVG."""
    if n == 3:
        op_name = "MaxPool3D" if kind == "MAX" else "AvgPool3D"
        prim = MAX_POOL_3D if kind == "MAX" else AVG_POOL_3D
        allowed = _MAX_POOL_3D_TYPES if kind == "MAX" else _AVG_POOL_TYPES
    else:
        op_name = "MaxPool" if kind == "MAX" else "AvgPool"
        prim = MAX_POOL if kind == "MAX" else AVG_POOL
        allowed = _MAX_POOL_TYPES if kind == "MAX" else _AVG_POOL_TYPES
    x = convert_to_tensor(input)
    if x._dtype._enum not in allowed:
        raise unsupported_dtype(op_name, x._dtype)
    first = _channels_first(n, data_format, op_name)
    rank = x.shape.rank
    if rank is not None and rank != n + 2:
        raise op_error(InvalidArgumentError, op_name, f"input must be {n + 2}-dimensional")
    channel = 1 if first else n + 1
    ksize = _sequence(ksize, n, first, "ksize")
    strides = _sequence(strides, n, first, "strides")
    padding, explicit = _padding(padding, n, op_name, explicit_allowed)
    _check_windows(op_name, ksize, strides, explicit, channel, kind == "MAX", n + 2)
    if kind == "MAX":
        _check_depth(op_name, x, ksize, channel)
    dilations = tuple(dilations) if dilations is not None else (1,) * (n + 2)
    attrs = {"ksize": tuple(ksize), "strides": tuple(strides), "padding": padding,
             "explicit_paddings": explicit, "dilations": dilations}
    return execute(prim, (x,), attrs)


# -- public functions (tf.nn) ------------------------------------------------------------------
def max_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Max pooling over windows of a 3-D input (NWC or NCW); padding may be a list of pairs."""
    return _pool(input, 1, "MAX", ksize, strides, padding, data_format or "NWC",
                 explicit_allowed=True)


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Max pooling over windows of a 4-D input (NHWC or NCHW); padding may be a list of pairs."""
    return _pool(input, 2, "MAX", ksize, strides, padding, data_format or "NHWC",
                 explicit_allowed=True)


def max_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """Max pooling over windows of a 5-D input (NDHWC or NCDHW)."""
    return _pool(input, 3, "MAX", ksize, strides, padding, data_format or "NDHWC")


def avg_pool1d(input, ksize, strides, padding, data_format="NWC", name=None):  # noqa: A002
    """Average pooling over windows of a 3-D input (NWC or NCW)."""
    return _pool(input, 1, "AVG", ksize, strides, padding, data_format or "NWC")


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    """Average pooling over windows of a 4-D input; SAME padding averages the real inputs only."""
    return _pool(input, 2, "AVG", ksize, strides, padding, data_format or "NHWC")


def avg_pool3d(input, ksize, strides, padding, data_format="NDHWC", name=None):  # noqa: A002
    """Average pooling over windows of a 5-D input (NDHWC or NCDHW)."""
    return _pool(input, 3, "AVG", ksize, strides, padding, data_format or "NDHWC")


def _spatial_dims(input, data_format) -> tuple:
    x = convert_to_tensor(input)
    if x.shape.rank is not None:
        n = x.shape.rank - 2
    elif data_format is not None:
        n = len(data_format) - 2
    else:
        raise ValueError(f"`input` must have a static shape or a data format must be given. "
                         f"Received: input.shape={x.shape} and data_format={data_format}")
    if not 1 <= n <= 3:
        raise ValueError(f"`input.shape.rank` must be 3, 4 or 5. Received: "
                         f"input.shape={x.shape} of rank {n + 2}.")
    return x, n


def max_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Max pooling of a 3-D, 4-D or 5-D input (1-D, 2-D or 3-D windows, by the input's rank)."""
    x, n = _spatial_dims(input, data_format)
    if isinstance(padding, (list, tuple)) and n == 3:
        raise ValueError(f"Explicit padding is not supported with an input tensor of rank 5. "
                         f"Received: padding={padding}")
    return _pool(x, n, "MAX", ksize, strides, padding, data_format or _FORMATS[n][0],
                 explicit_allowed=n < 3)


def avg_pool(input, ksize, strides, padding, data_format=None, name=None):  # noqa: A002
    """Average pooling of a 3-D, 4-D or 5-D input (1-D, 2-D or 3-D windows, by the input's rank)."""
    x, n = _spatial_dims(input, data_format)
    return _pool(x, n, "AVG", ksize, strides, padding, data_format or _FORMATS[n][0])


def pool(input, window_shape, pooling_type, strides=None, padding="VALID",  # noqa: A002
         data_format=None, dilations=None, name=None):
    """N-D max or average pooling (tf.nn.pool), with dilated windows for VALID padding."""
    x = convert_to_tensor(input)
    n = len(window_shape)
    if not 1 <= n <= 3:
        raise ValueError(f"`len(window_shape)` must be 1, 2, or 3. Received: "
                         f"window_shape={window_shape} of length {n}")
    if x.shape.rank is not None and x.shape.rank != n + 2:
        raise ValueError(f"Shape {x.shape} must have rank {n + 2}")
    window_shape = [_as_int(k, "window_shape") for k in window_shape]
    if dilations is None:
        dilations = [1] * n
    elif len(dilations) != n:
        raise ValueError(f"`len(dilation_rate)` should be {n}. Received: "
                         f"dilation_rate={dilations} of length {len(dilations)}")
    dilations = [_as_int(d, "dilations") for d in dilations]
    if any(d < 1 for d in dilations):
        raise ValueError(f"all values of `dilation_rate` must be positive. Received: "
                         f"dilation_rate={np.array(dilations, np.int32)}")
    if strides is None:
        strides = [1] * n
    elif len(strides) != n:
        raise ValueError(f"`len(strides)` should be {n}. Received: strides={strides} of length "
                         f"{len(strides)}")
    strides = [_as_int(s, "strides") for s in strides]
    if any(s < 1 for s in strides):
        raise ValueError(f"all values of `strides` must be positive. Received: "
                         f"strides={np.array(strides, np.int32)}")
    if any(s > 1 for s in strides) and any(d > 1 for d in dilations):
        raise ValueError(f"`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                         f"Received: strides={np.array(strides, np.int32)} and "
                         f"dilation_rate={np.array(dilations, np.int32)}")
    if padding == "SAME" and any(d > 1 for d in dilations):
        raise ValueError(f"pooling with 'SAME' padding is not implemented for `dilation_rate` > "
                         f"1. Received: padding={padding} and "
                         f"dilation_rate={np.array(dilations, np.int32)}")
    if any(s > k for s, k in zip(strides, window_shape)):
        raise ValueError(f"`strides` > `window_shape` not supported due to inconsistency between "
                         f"CPU and GPU implementations. Received: "
                         f"strides={np.array(strides, np.int32)} and "
                         f"window_shape={window_shape}")
    if pooling_type not in ("MAX", "AVG"):
        raise ValueError(f"{n}-D {pooling_type} pooling is not supported.")
    if n == 1 and data_format not in (None, "NWC", "NCW"):
        raise ValueError(f"data_format must be either 'NWC' or 'NCW'. Received: "
                         f"data_format={data_format}")
    first = data_format is not None and data_format.startswith("NC")
    full_dilations = [1, 1] + dilations if first else [1] + dilations + [1]
    return _pool(x, n, pooling_type, window_shape, strides, padding,
                 data_format or _FORMATS[n][0], dilations=full_dilations)


# -- local response normalization --------------------------------------------------------------
def _window_sum_forward(x, depth_radius):
    """Sums over the last axis within `depth_radius` of each position (a symmetric window)."""
    out = x.copy()
    depth = x.shape[-1]
    for j in range(1, min(depth_radius, depth - 1) + 1):
        out[..., j:] += x[..., :-j]
        out[..., :-j] += x[..., j:]
    return out


# The window is symmetric, so the op is its own transpose.
CHANNEL_WINDOW_SUM = primitive(
    "LRNChannelWindowSum", _window_sum_forward,
    lambda op, dy: execute(CHANNEL_WINDOW_SUM, (dy,), op.attrs),
    lambda x, **attrs: TensorSpec(x.shape, x.dtype))


def _lrn_forward(x, depth_radius, bias, alpha, beta):
    work = _float_work(x.dtype)
    xw = x.astype(work, copy=False)
    scale = _window_sum_forward(np.square(xw), depth_radius)
    scale *= work.type(alpha)
    scale += work.type(bias)
    if beta == 0.5:
        out = xw / np.sqrt(scale)
    elif beta == 1.0:
        out = xw / scale
    else:
        out = xw / np.power(scale, work.type(beta))
    return out.astype(x.dtype, copy=False)


def _lrn_grad(op, dy):
    """dx = dy * s^-beta - 2 alpha beta x * W(dy * y / s), with s = bias + alpha * W(x^2) and W
    the window sum over channels."""
    x, y = op.inputs[0], op.outputs[0]
    depth_radius, bias, alpha, beta = (op.attrs[k] for k in ("depth_radius", "bias", "alpha",
                                                              "beta"))
    window = {"depth_radius": depth_radius}
    dtype = x.dtype
    scale = math_ops.add(math_ops.multiply(
        execute(CHANNEL_WINDOW_SUM, (math_ops.square(x),), window),
        convert_to_tensor(alpha, dtype)), convert_to_tensor(bias, dtype))
    direct = math_ops.multiply(dy, math_ops.pow(scale, convert_to_tensor(-beta, dtype)))
    spread = execute(CHANNEL_WINDOW_SUM, (math_ops.divide(math_ops.multiply(dy, y), scale),),
                     window)
    coupled = math_ops.multiply(math_ops.multiply(x, spread),
                                convert_to_tensor(2.0 * alpha * beta, dtype))
    return math_ops.subtract(direct, coupled)


LRN = primitive("LRN", _lrn_forward, _lrn_grad, lambda x, **attrs: TensorSpec(x.shape, x.dtype))


def local_response_normalization(input, depth_radius=5, bias=1, alpha=1, beta=0.5,  # noqa: A002
                                 name=None):
    """x / (bias + alpha * sum of x^2 over depth_radius channels either side) ** beta (NHWC)."""
    x = convert_to_tensor(input)
    if x._dtype._enum not in _LRN_TYPES:
        raise unsupported_dtype("LRN", x._dtype)
    if x.shape.rank is not None and x.shape.rank != 4:
        raise op_error(InvalidArgumentError, "LRN", "in must be 4-dimensional")
    depth_radius = int(depth_radius)
    if depth_radius < 0:
        raise op_error(InvalidArgumentError, "LRN",
                       f"depth_radius = {depth_radius} larger than int max")
    # float attributes are float32 in TensorFlow
    attrs = {"depth_radius": depth_radius, "bias": float(np.float32(bias)),
             "alpha": float(np.float32(alpha)), "beta": float(np.float32(beta))}
    return execute(LRN, (x,), attrs)


lrn = local_response_normalization
