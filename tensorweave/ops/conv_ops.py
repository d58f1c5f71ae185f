"""Convolutions (tf.nn.conv1d/2d/3d, convolution, depthwise and separable convolutions).

One set of NumPy kernels serves every convolution: channels-last, 1 to 3 spatial dimensions,
strides, dilations, SAME/VALID/explicit padding (TensorFlow's arithmetic: SAME pads the odd
extra element at the end), groups (a filter whose input depth divides the input's channels),
and any number of leading batch dimensions. Channels-first data is moved to channels-last
around the kernel (a view in, a view out).

The forward kernel is im2col + one matmul: the windows are an `as_strided` view of the (padded)
input, copied once into a (N*out, k*C) matrix that meets the reshaped filter in one BLAS call.
A 1x1 filter skips im2col; a filter with one input channel per group (depthwise) is a loop of
multiply-adds over kernel offsets. The two gradients are in ops/conv_grad_ops.py.

Primitives (TensorFlow's op names): Conv2D (1-D and 2-D), Conv3D, DepthwiseConv2dNative; their
gradients Conv2DBackpropInput/Conv2DBackpropFilter, Conv3DBackpropInputV2/Conv3DBackpropFilterV2,
DepthwiseConv2dNativeBackpropInput/DepthwiseConv2dNativeBackpropFilter. The backprop-input
primitive is also the forward of the transposed convolutions. All share the attrs
`strides`, `dilations` (spatial only), `padding` ("SAME", "VALID", "EXPLICIT"),
`explicit_paddings` ((lo, hi) per spatial dim) and `data_format` ("NHWC", "NCW", "NCDHW"...).
"""
from __future__ import annotations

import functools
import itertools
import warnings
import weakref

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_pair, convert_to_tensor, dtype_mismatch
from tensorweave.framework.errors import InvalidArgumentError, UnimplementedError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.framework.tensor_spec import TensorSpec

_FLOAT_TYPES = dtypes.FLOATING
_CONV2D_TYPES = dtypes.FLOATING | dtypes._enums(dtypes.int32)
_TYPE_NAMES = {"float32": "float", "float64": "double", "float16": "half"}
_LIST_NAMES = {_FLOAT_TYPES: "half, bfloat16, float, double",
               _CONV2D_TYPES: "half, bfloat16, float, double, int32"}
# The contiguous run (kernel width times channels) below which im2col copies offset by offset.
_LOOP_COPY_RUN = 16


# -- geometry ----------------------------------------------------------------------------------
class Geometry:
    """Sizes of one convolution call, channels-last: batch (the leading dims), spatial input `S`,
    channels `C`, kernel `K`, filter depth `Cg`, output channels `F`, groups `G`, padding
    `pads` ((lo, hi) per spatial dim), output `O`."""

    __slots__ = ("batch", "S", "C", "K", "Cg", "F", "G", "pads", "O", "strides", "dilations",
                 "channels_first")

    def __init__(self, batch, S, C, K, Cg, F, pads, O, strides, dilations, channels_first):
        self.batch, self.S, self.C, self.K, self.Cg, self.F = batch, S, C, K, Cg, F
        self.G = C // Cg if Cg else 1
        self.pads, self.O = pads, O
        self.strides, self.dilations = strides, dilations
        self.channels_first = channels_first

    @property
    def padded(self) -> bool:
        return any(lo or hi for lo, hi in self.pads)


def _dims_text(shape) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def _trunc_div(a: int, b: int) -> int:
    """C++'s integer division (toward zero), as TensorFlow's size arithmetic uses."""
    q = abs(a) // b
    return q if a >= 0 else -q


def output_size(op_name: str, size: int, k: int, stride: int, dilation: int, padding: str,
                explicit=(0, 0)):
    """(output size, (pad_lo, pad_hi)) of one spatial dimension, by TensorFlow's rules."""
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        out = -(-size // stride)
        total = max((out - 1) * stride + eff - size, 0)
        return out, (total // 2, total - total // 2)
    lo, hi = explicit if padding == "EXPLICIT" else (0, 0)
    out = _trunc_div(size + lo + hi - eff + stride, stride)
    if out < 0:
        raise op_error(InvalidArgumentError, op_name,
                       f"Computed output size would be negative: {out} [input_size: {size}, "
                       f"effective_filter_size: {eff}, stride: {stride}]")
    return out, (lo, hi)


@functools.lru_cache(maxsize=512)
def geometry(op_name: str, x_shape: tuple, w_shape: tuple, strides: tuple, dilations: tuple,
             padding: str, explicit_paddings: tuple, data_format: str, depthwise: bool,
             ) -> Geometry:
    """The checked geometry of a convolution of an input of `x_shape` by a filter of `w_shape`
    (TensorFlow's kernel errors for inconsistent shapes)."""
    nsp = len(strides)
    conv3d = op_name.startswith("Conv3D")
    if len(x_shape) < nsp + 2 or (depthwise and len(x_shape) != nsp + 2):
        if depthwise:
            msg = f"input must be 4-dimensional{_dims_text(x_shape)}"
        elif conv3d:
            msg = "input must be 5-dimensional"
        else:
            msg = f"convolution input must be {nsp + 2}-dimensional: {_dims_text(x_shape)}"
        raise op_error(InvalidArgumentError, op_name, msg)
    if len(w_shape) != nsp + 2:
        msg = ("filter must be 5-dimensional" if conv3d else
               f"{'' if depthwise else 'convolution '}filter must be {nsp + 2}-dimensional: "
               f"{_dims_text(w_shape)}")
        raise op_error(InvalidArgumentError, op_name, msg)
    channels_first = data_format[1] == "C"
    inner = x_shape[len(x_shape) - nsp - 1:]
    C, S = (inner[0], inner[1:]) if channels_first else (inner[-1], inner[:-1])
    K = w_shape[:nsp]
    if depthwise:
        if w_shape[nsp] != C:
            raise op_error(InvalidArgumentError, op_name,
                           f"input and filter must have the same depth: {C} vs {w_shape[nsp]}")
        Cg, F = 1, C * w_shape[nsp + 1]
    else:
        Cg, F = w_shape[nsp], w_shape[nsp + 1]
        if Cg <= 0:
            raise op_error(InvalidArgumentError, op_name,
                           f"filter depth must be stricly positive, got {Cg}")
        if C % Cg:
            raise op_error(InvalidArgumentError, op_name,
                           f"{'Input' if conv3d else 'input'} depth must be evenly divisible by "
                           f"filter depth: {C} vs {Cg}")
        if F % (C // Cg):
            raise op_error(InvalidArgumentError, op_name,
                           f"output depth must be evenly divisible by number of groups: "
                           f"{F} vs {C // Cg}")
    outs, pads = [], []
    for i in range(nsp):
        out, pad = output_size(op_name, S[i], K[i], strides[i], dilations[i], padding,
                               explicit_paddings[i] if explicit_paddings else (0, 0))
        outs.append(out)
        pads.append(pad)
    batch = x_shape[:len(x_shape) - nsp - 1]
    return Geometry(batch, S, C, K, Cg, F, tuple(pads), tuple(outs), strides, dilations,
                    channels_first)


def geometry_of(op_name: str, x_shape, w_shape, attrs: dict, depthwise: bool) -> Geometry:
    return geometry(op_name, tuple(x_shape), tuple(w_shape), attrs["strides"], attrs["dilations"],
                    attrs["padding"], attrs["explicit_paddings"], attrs["data_format"], depthwise)


# -- layout helpers ----------------------------------------------------------------------------
def upcast(x: np.ndarray) -> np.ndarray:
    """float16/bfloat16 computed in float32, as TensorFlow's CPU kernels do."""
    return x.astype(np.float32) if x.dtype.itemsize < 4 and x.dtype.kind != "i" else x


def to_channels_last(a: np.ndarray, g: Geometry) -> np.ndarray:
    """`a` (batch dims + inner dims, either layout) as (B, *spatial, C): a view where possible."""
    nsp = len(g.strides)
    if a.ndim != nsp + 2:
        a = a.reshape((-1,) + a.shape[a.ndim - nsp - 1:])
    if g.channels_first:
        a = np.moveaxis(a, 1, -1)
    return a


def from_channels_last(y: np.ndarray, g: Geometry) -> np.ndarray:
    """The inverse of `to_channels_last` for an output (B, *spatial, C)."""
    if g.channels_first:
        y = np.moveaxis(y, -1, 1)
    if len(g.batch) != 1:
        y = y.reshape(g.batch + y.shape[1:])
    return y


def pad_input(x: np.ndarray, pads) -> np.ndarray:
    """x (B, *S, C) with zeros around the spatial dims (x itself when nothing is padded)."""
    if not any(lo or hi for lo, hi in pads):
        return x
    shape = (x.shape[0],) + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[1:-1], pads)) \
        + (x.shape[-1],)
    out = np.zeros(shape, x.dtype)
    out[(slice(None),) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[1:-1], pads))] = x
    return out


def windows(xp: np.ndarray, g: Geometry) -> np.ndarray:
    """The read-only view (B, *O, *K, C) of the windows of the padded input `xp`."""
    st = xp.strides
    nsp = len(g.K)
    shape = (xp.shape[0],) + g.O + g.K + (xp.shape[-1],)
    steps = ((st[0],) + tuple(st[1 + i] * g.strides[i] for i in range(nsp))
             + tuple(st[1 + i] * g.dilations[i] for i in range(nsp)) + (st[-1],))
    return as_strided(xp, shape, steps, writeable=False)


def offsets(g: Geometry):
    """Each kernel offset as an index tuple into a (B, *O, *K, C) array."""
    lead = (slice(None),) * (1 + len(g.K))
    return [lead + k for k in itertools.product(*[range(k) for k in g.K])]


def im2col(xp: np.ndarray, g: Geometry) -> np.ndarray:
    """The windows of `xp` copied into a contiguous (B, *O, *K, C) array.

    One strided copy when each window row is a long contiguous run; otherwise one copy per
    kernel offset, each of a (B, *O, C) block (faster when the channels are few)."""
    view = windows(xp, g)
    run = xp.shape[-1] * (g.K[-1] if g.dilations[-1] == 1 else 1)
    if run >= _LOOP_COPY_RUN or len(g.K) == 0:
        return np.ascontiguousarray(view)
    out = np.empty(view.shape, xp.dtype)
    for index in offsets(g):
        out[index] = view[index]
    return out


def columns(x: np.ndarray, g: Geometry, source: np.ndarray = None) -> np.ndarray:
    """The im2col matrix (B*prod(O), prod(K)*C) of channels-last input `x` (B, *S, C).

    With `source` (the array the op received, of which `x` is a view), a matrix built for the
    same array and geometry since is reused, and a new one is kept for the filter gradient."""
    rows = x.shape[0] * int(np.prod(g.O))
    if all(k == 1 for k in g.K) and not g.padded:
        if any(s != 1 for s in g.strides):
            x = x[(slice(None),) + tuple(slice(None, None, s) for s in g.strides)]
        x = x[(slice(None),) + tuple(slice(0, o) for o in g.O)]
        return x.reshape(rows, g.C)
    if source is not None:
        entry = _COLUMNS.get(id(source))
        if entry is not None and entry[0]() is source and entry[1] is g:
            return entry[2]
    cols = im2col(pad_input(x, g.pads), g).reshape(rows, int(np.prod(g.K)) * x.shape[-1])
    if source is not None:
        _remember(source, g, cols)
    return cols


# im2col matrices by the id of the input array they were built from: the forward builds one,
# the filter gradient of the same call reuses it (the entry goes when the input array dies, or
# when newer ones push the total over the budget; a matrix over a quarter of it is not kept).
_COLUMNS: dict = {}
_COLUMNS_BUDGET = 256 << 20


def _remember(source: np.ndarray, g: Geometry, cols: np.ndarray) -> None:
    if cols.nbytes > _COLUMNS_BUDGET // 4:
        return
    key = id(source)
    try:
        ref = weakref.ref(source, lambda _, key=key: _COLUMNS.pop(key, None))
    except TypeError:
        return
    _COLUMNS.pop(key, None)
    _COLUMNS[key] = (ref, g, cols)
    try:
        while sum(entry[2].nbytes for entry in list(_COLUMNS.values())) > _COLUMNS_BUDGET:
            _COLUMNS.pop(next(iter(_COLUMNS)))
    except (StopIteration, KeyError, RuntimeError):
        pass


# -- forward kernels ---------------------------------------------------------------------------
def _forward_depthwise(x: np.ndarray, w: np.ndarray, g: Geometry) -> np.ndarray:
    """One input channel per group: a multiply-add per kernel offset, no matmul."""
    mult = g.F // g.C
    view = windows(pad_input(x, g.pads), g)
    wk = w.reshape(-1, g.C, mult)
    dtype = np.result_type(x.dtype, w.dtype)
    if mult == 1:
        out = np.zeros((x.shape[0],) + g.O + (g.C,), dtype)
        tmp = np.empty_like(out)
        for i, index in enumerate(offsets(g)):
            np.multiply(view[index], wk[i, :, 0], out=tmp)
            out += tmp
        return out
    out = np.zeros((x.shape[0],) + g.O + (g.C, mult), dtype)
    tmp = np.empty_like(out)
    for i, index in enumerate(offsets(g)):
        np.multiply(view[index][..., None], wk[i], out=tmp)
        out += tmp
    return out.reshape((x.shape[0],) + g.O + (g.F,))


def forward_kernel(x: np.ndarray, w: np.ndarray, g: Geometry, source=None) -> np.ndarray:
    """The convolution of channels-last `x` (B, *S, C) by `w` (*K, Cg, F): (B, *O, F).
    `source`: the op's input array, under which the im2col matrix is kept (see `columns`)."""
    B = x.shape[0]
    if g.Cg == 1 and g.G > 1:
        return _forward_depthwise(x, w, g)
    cols = columns(x, g, source)
    if g.G == 1:
        y = cols @ w.reshape(-1, g.F)
    else:
        kprod, G, Cg, Fg = cols.shape[1] // g.C, g.G, g.Cg, g.F // g.G
        cols_g = cols.reshape(-1, kprod, G, Cg).transpose(2, 0, 1, 3).reshape(G, -1, kprod * Cg)
        w_g = w.reshape(kprod, Cg, G, Fg).transpose(2, 0, 1, 3).reshape(G, kprod * Cg, Fg)
        y = np.matmul(cols_g, w_g).transpose(1, 0, 2)
    return y.reshape((B,) + g.O + (g.F,))


def _forward(op_name: str, depthwise: bool):
    def forward(x, w, strides, dilations, padding, explicit_paddings, data_format):
        g = geometry(op_name, x.shape, w.shape, strides, dilations, padding, explicit_paddings,
                     data_format, depthwise)
        dtype = x.dtype
        y = forward_kernel(to_channels_last(upcast(x), g), upcast(w), g, x)
        return from_channels_last(y, g).astype(dtype, copy=False)
    return forward


# -- abstract evaluation -----------------------------------------------------------------------
def _shape_text(shape: TensorShape) -> str:
    if shape.rank is None:
        return "?"
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_list()) + "]"


def _shape_error(op_name: str, message: str, *shapes) -> ValueError:
    described = ", ".join(_shape_text(s) for s in shapes)
    return ValueError(f"{message} for '{{{{node {op_name}}}}}' with input shapes: {described}.")


def spatial_output(op_name: str, size, k, stride: int, dilation: int, padding: str, explicit,
                   shapes) -> int | None:
    """One output dimension from possibly unknown sizes (None), or TensorFlow's ValueError."""
    if size is None:
        return None
    if padding == "SAME":
        return -(-size // stride)
    if k is None:
        return None
    eff = (k - 1) * dilation + 1
    lo, hi = explicit if padding == "EXPLICIT" else (0, 0)
    if size + lo + hi < eff:
        raise _shape_error(op_name, f"Negative dimension size caused by subtracting {eff} from "
                           f"{size + lo + hi}", *shapes)
    return (size + lo + hi - eff) // stride + 1


def output_spec(op_name: str, x: TensorSpec, w: TensorSpec, attrs: dict, depthwise: bool):
    """The output TensorSpec of a convolution from (partly unknown) input and filter specs."""
    strides = attrs["strides"]
    nsp = len(strides)
    xs, ws = x.shape, w.shape
    if ws.rank is not None and ws.rank != nsp + 2:
        raise _shape_error(op_name, f"Shape must be rank {nsp + 2} but is rank {ws.rank}", xs, ws)
    if xs.rank is None:  # TensorFlow's shape function then takes the op's own rank
        xs = TensorShape([None] * (nsp + 2))
    if xs.rank < nsp + 2 or (depthwise and xs.rank != nsp + 2):
        raise _shape_error(op_name, f"Shape must be rank {nsp + 2} but is rank {xs.rank}", xs, ws)
    dims = xs.as_list()
    wd = ws.as_list() if ws.rank is not None else [None] * (nsp + 2)
    channels_first = attrs["data_format"][1] == "C"
    inner = dims[len(dims) - nsp - 1:]
    C, S = (inner[0], inner[1:]) if channels_first else (inner[-1], inner[:-1])
    if depthwise:
        cw, mult = wd[nsp], wd[nsp + 1]
        if C is not None and cw is not None and C != cw:
            raise _shape_error(op_name, f"Dimensions must be equal, but are {C} and {cw}", xs, ws)
        F = None if cw is None or mult is None else cw * mult
    else:
        Cg, F = wd[nsp], wd[nsp + 1]
        if C is not None and Cg:
            if C % Cg:
                raise _shape_error(op_name, f"Depth of input ({C}) is not a multiple of input "
                                   f"depth of filter ({Cg})", xs, ws)
            if F is not None and F % (C // Cg):
                raise _shape_error(op_name, f"Depth of output ({F}) is not a multiple of the "
                                   f"number of groups ({C // Cg})", xs, ws)
    explicit = attrs["explicit_paddings"]
    O = [spatial_output(op_name, S[i], wd[i], strides[i], attrs["dilations"][i], attrs["padding"],
                        explicit[i] if explicit else (0, 0), (xs, ws)) for i in range(nsp)]
    inner_out = [F] + O if channels_first else O + [F]
    return TensorSpec(dims[:len(dims) - nsp - 1] + inner_out, x.dtype)


def _abstract(op_name: str, depthwise: bool):
    def abstract(x, w, **attrs):
        return output_spec(op_name, x, w, attrs, depthwise)
    return abstract


# -- the primitives ----------------------------------------------------------------------------
class Family:
    """A convolution primitive with its two gradient primitives (set by conv_grad_ops)."""

    def __init__(self, name: str, depthwise: bool):
        self.name = name
        self.depthwise = depthwise
        self.forward = primitive(name, _forward(name, depthwise),
                                 lambda op, dy: _conv_grad(self, op, dy),
                                 _abstract(name, depthwise))
        self.backprop_input = None
        self.backprop_filter = None


def _conv_grad(family: Family, op, dy):
    return _conv_grad_ops.conv_grad(family, op, dy)


CONV2D = Family("Conv2D", False)
CONV3D = Family("Conv3D", False)
DEPTHWISE = Family("DepthwiseConv2dNative", True)


def _attrs(strides, dilations, padding, explicit_paddings, data_format) -> dict:
    return {"strides": tuple(strides), "dilations": tuple(dilations), "padding": padding,
            "explicit_paddings": tuple(explicit_paddings), "data_format": data_format}


# -- argument checking (TensorFlow's wrappers and kernels) ------------------------------------
def _operands(op_name: str, x, w, allowed):
    x, w = convert_pair(x, w)
    if x._dtype is not w._dtype:
        raise dtype_mismatch(op_name, 1, x._dtype, w._dtype)
    if x._dtype._enum not in allowed:
        raise op_error(InvalidArgumentError, op_name,
                       f"Value for attr 'T' of {_TYPE_NAMES.get(x._dtype.name, x._dtype.name)} is "
                       f"not in the list of allowed values: {_LIST_NAMES[allowed]}")
    return x, w


def _sequence(value, n: int, channel_index: int, name: str) -> list:
    """strides/dilations as a full list of n + 2 (batch and channel entries 1), as TF's wrappers."""
    if value is None:
        return [1] * (n + 2)
    if isinstance(value, (list, tuple)):
        value = list(value)
    elif isinstance(value, (int, np.integer, float)) or not hasattr(value, "__len__"):
        value = [value]
    else:
        value = list(value)
    if len(value) == n + 2:
        return value
    if len(value) == 1:
        value = value * n
    elif len(value) != n:
        raise ValueError(f"{name} should be of length 1, {n} or {n + 2}. "
                         f"Received: {name}={value} of length {len(value)}")
    return [1, 1] + value if channel_index == 1 else [1] + value + [1]


def _ints(values) -> list:
    return [int(v) for v in values]


def _check_window(op_name: str, strides: list, dilations: list, channel_index: int,
                  conv3d: bool = False) -> tuple:
    """The spatial strides and dilations of full lists, or the kernel's errors."""
    n = len(strides)
    want = 5 if conv3d else 4
    for attr, values in (("strides", strides), ("dilations", dilations)):
        if len(values) != want:
            raise op_error(InvalidArgumentError, op_name,
                           f"Sliding window {attr} field must specify {want} dimensions")
    strides, dilations = _ints(strides), _ints(dilations)
    spatial = [i for i in range(n) if i not in (0, channel_index)]
    if strides[0] != 1 or strides[channel_index] != 1:
        cls = InvalidArgumentError if conv3d else UnimplementedError
        raise op_error(cls, op_name, "Current implementation does not yet support strides in the "
                                     "batch and depth dimensions.")
    if any(strides[i] < 1 for i in spatial):
        raise op_error(InvalidArgumentError, op_name,
                       "Spatial strides should be larger than 0." if conv3d else
                       "Row and column strides should be larger than 0.")
    if dilations[0] != 1 or dilations[channel_index] != 1:
        cls = InvalidArgumentError if conv3d else UnimplementedError
        raise op_error(cls, op_name, "Current implementation does not yet support dilations in "
                                     "the batch and depth dimensions.")
    if any(dilations[i] < 1 for i in spatial):
        raise op_error(InvalidArgumentError, op_name, "Dilated rates should be larger than 0.")
    return tuple(strides[i] for i in spatial), tuple(dilations[i] for i in spatial)


def _explicit_pairs(padding, expected: int) -> list:
    """A padding list checked as TensorFlow's convert_padding does: a list of (lo, hi) pairs."""
    pairs = []
    for i, pair in enumerate(padding):
        if not isinstance(pair, (list, tuple)):
            raise ValueError(f"When `padding` is a list, each element of `padding` must be a "
                             f"list/tuple of size 2. Received: padding={padding} with element at "
                             f"index {i} of type {type(pair)}")
        if len(pair) != 2:
            raise ValueError(f"When `padding` is a list, each element of `padding` must be a "
                             f"list/tuple of size 2. Received: padding={padding} with element at "
                             f"index {i} of size {len(pair)}")
        pairs.append((int(pair[0]), int(pair[1])))
    if len(padding) != expected:
        raise ValueError(f"When padding is a list, it must be of size {expected}. "
                         f"Received: padding={padding} of size {len(padding)}")
    return pairs


def _padding(op_name: str, padding, nsp: int, channel_index: int, explicit: bool) -> tuple:
    """(padding attr, explicit spatial pairs) from a padding argument."""
    if isinstance(padding, (list, tuple)):
        if not explicit:
            raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
        pairs = _explicit_pairs(padding, nsp + 2)
        if any(pairs[i] != (0, 0) for i in (0, channel_index)):
            raise op_error(InvalidArgumentError, op_name, "Nonzero explicit padding in the batch "
                                                          "or depth dimensions is not supported")
        if any(v < 0 for pair in pairs for v in pair):
            raise op_error(InvalidArgumentError, op_name,
                           "All elements of explicit_paddings must be nonnegative")
        spatial = [pairs[i] for i in range(nsp + 2) if i not in (0, channel_index)]
        return "EXPLICIT", tuple(spatial)
    if isinstance(padding, bytes):
        padding = padding.decode()
    if not isinstance(padding, str):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    if padding == "EXPLICIT" and explicit:
        raise ValueError("'EXPLICIT' is not a valid value for `padding`. To use explicit padding, "
                         "`padding` must be a list.")
    if padding not in ("SAME", "VALID"):
        allowed = '"SAME", "VALID", "EXPLICIT"' if explicit else '"SAME", "VALID"'
        raise op_error(InvalidArgumentError, op_name,
                       f"Value for attr 'padding' of \"{padding}\" is not in the list of allowed "
                       f"values: {allowed}")
    return padding, ()


def _data_format(op_name: str, data_format, allowed: tuple) -> str:
    if data_format not in allowed:
        listed = ", ".join(f'"{f}"' for f in allowed)
        raise op_error(InvalidArgumentError, op_name,
                       f"Value for attr 'data_format' of \"{data_format}\" is not in the list of "
                       f"allowed values: {listed}")
    return data_format


def _rank(t) -> int | None:
    return t.shape.rank


# -- public API --------------------------------------------------------------------------------
def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None, name=None):  # noqa: A002
    """2-D convolution of `input` (batch_shape + [H, W, C] or [C, H, W]) by `filters`
    [kh, kw, C / groups, F]."""
    x, w = _operands("Conv2D", input, filters, _CONV2D_TYPES)
    data_format = _data_format("Conv2D", "NHWC" if data_format is None else data_format,
                               ("NHWC", "NCHW"))
    ci = 1 if data_format == "NCHW" else 3
    strides = _sequence(strides, 2, ci, "strides")
    dilations = _sequence(dilations, 2, ci, "dilations")
    padding, explicit = _padding("Conv2D", padding, 2, ci, True)
    strides, dilations = _check_window("Conv2D", strides, dilations, ci)
    return execute(CONV2D.forward, (x, w), _attrs(strides, dilations, padding, explicit,
                                                  data_format))


def _conv1d_format(data_format) -> str:
    if data_format in (None, "NWC", "NHWC"):
        return "NWC"
    if data_format in ("NCW", "NCHW"):
        return "NCW"
    raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")


def _expanded(shape: TensorShape, axis: int) -> str:
    dims = ["?" if d is None else str(d) for d in shape.as_list()]
    dims.insert(axis % (len(dims) + 1), "1")
    return "[" + ",".join(dims) + "]"


def conv1d(input, filters, stride, padding, data_format="NWC", dilations=None, name=None):  # noqa: A002
    """1-D convolution of `input` (batch_shape + [W, C] or [C, W]) by `filters` [k, C / groups, F]
    (TensorFlow runs it as a Conv2D of height 1: its errors name Conv2D)."""
    x, w = _operands("Conv2D", input, filters, _CONV2D_TYPES)
    data_format = _conv1d_format(data_format)
    ci = 1 if data_format == "NCW" else 2
    strides = [1] + _sequence(stride, 1, ci, "stride")
    dilations = [1] + _sequence(dilations, 1, ci, "dilations")
    if isinstance(padding, (list, tuple)):
        raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")
    padding, explicit = _padding("Conv2D", padding, 1, ci, False)
    if x.shape.rank is not None and x.shape.rank < 3:
        raise op_error(InvalidArgumentError, "Conv2D", f"convolution input must be 4-dimensional: "
                       f"{_expanded(x.shape, -3 if ci == 2 else -2)}")
    if w.shape.rank is not None and w.shape.rank != 3:
        raise op_error(InvalidArgumentError, "Conv2D", f"convolution filter must be 4-dimensional: "
                       f"{_expanded(w.shape, 0)}")
    strides, dilations = _check_window("Conv2D", strides, dilations, ci + 1)
    strides, dilations = strides[1:], dilations[1:]
    return execute(CONV2D.forward, (x, w), _attrs(strides, dilations, padding, explicit,
                                                  data_format))


def conv3d(input, filters, strides, padding, data_format="NDHWC", dilations=None, name=None):  # noqa: A002
    """3-D convolution; `strides` (and `dilations`) are lists of 5 as TensorFlow's op takes."""
    x, w = _operands("Conv3D", input, filters, _FLOAT_TYPES)
    if dilations is None:
        dilations = [1, 1, 1, 1, 1]
    for attr, value in (("strides", strides), ("dilations", dilations)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"Expected list for '{attr}' argument to 'conv3d' Op, not {value!r}.")
        if len(value) < 5:
            raise op_error(InvalidArgumentError, "Conv3D", f"Length for attr '{attr}' of "
                           f"{len(value)} must be at least minimum 5")
    data_format = _data_format("Conv3D", "NDHWC" if data_format is None else data_format,
                               ("NDHWC", "NCDHW"))
    ci = 1 if data_format == "NCDHW" else 4
    padding, explicit = _padding("Conv3D", padding, 3, ci, False)
    strides, dilations = _check_window("Conv3D", list(strides), list(dilations), ci, conv3d=True)
    return execute(CONV3D.forward, (x, w), _attrs(strides, dilations, padding, explicit,
                                                  data_format))


_FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}
_CHANNELS_LAST = ("NWC", "NHC", "NHWC", "NWHC", "NDHWC", "NDWHC", "NHDWC", "NHWDC", "NWHDC")


def convolution(input, filters, strides=None, padding="VALID", data_format=None,  # noqa: A002
                dilations=None, name=None):
    """N-D convolution (N = 1, 2, 3 from the filter's rank), as tf.nn.convolution."""
    x, w = convert_pair(input, filters)
    filters_rank, inputs_rank = _rank(w), _rank(x)
    if filters_rank:
        nsp = filters_rank - 2
    elif inputs_rank:
        nsp = inputs_rank - 2
    else:
        raise ValueError("When `num_spatial_dims` is not set, one of `input.shape.rank` or "
                         "`filters.shape.rank` must be known. Received: input.shape="
                         f"{x.shape} of rank {inputs_rank} and filters.shape={w.shape} of rank "
                         f"{filters_rank}")
    if nsp not in (1, 2, 3):
        raise ValueError(f"`num_spatial_dims` must be 1, 2, or 3. Received: num_spatial_dims={nsp}.")
    channels_last = data_format is None or data_format in _CHANNELS_LAST
    num_batch = inputs_rank - nsp - 1 if inputs_rank else 1
    ci = num_batch + nsp if channels_last else num_batch
    dilated = dilations is not None
    dilations = _sequence(dilations, nsp, ci, "dilations")
    strides = _sequence(strides, nsp, ci, "strides")
    dilated = dilated and any(int(d) != 1 for d in dilations)
    if dilated:
        sp = slice(2, None) if ci == 1 else slice(1, -1)
        s, d = np.array(strides[sp], np.int32), np.array(dilations[sp], np.int32)
        if np.any(d < 1):
            raise ValueError(f"all values of `dilation_rate` must be positive. Received: "
                             f"dilation_rate={d}")
        if np.any(s < 1):
            raise ValueError(f"all values of `strides` must be positive. Received: strides={s}")
        if np.any(s > 1):
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={s} and dilation_rate={d}")
        if isinstance(padding, str) and padding not in ("SAME", "VALID"):
            raise ValueError(f"padding must be either VALID or SAME. Received: padding={padding}")
    fmt = _FORMATS[nsp][0 if channels_last else 1]
    if nsp == 1:
        return conv1d(x, w, strides, padding, fmt, dilations)
    if nsp == 2:
        return conv2d(x, w, strides, padding if isinstance(padding, str) else _no_list(padding),
                      fmt, dilations)
    return conv3d(x, w, strides, padding, fmt, dilations)


def _no_list(padding):
    raise TypeError(f"Expected string for argument 'padding' not {padding!r}.")


def atrous_conv2d(value, filters, rate, padding, name=None):
    """A 2-D convolution with holes: dilation `rate` in both spatial dims, stride 1."""
    return convolution(value, filters, padding=padding, dilations=[int(r) for r in
                                                                   np.broadcast_to(rate, (2,))])


def depthwise_conv2d(input, filter, strides, padding, data_format=None, dilations=None,  # noqa: A002
                     name=None):
    """Depthwise 2-D convolution: each input channel convolved with its own `channel_multiplier`
    filters ([kh, kw, C, multiplier]); output channel c * multiplier + m."""
    x, w = _operands("DepthwiseConv2dNative", input, filter, _FLOAT_TYPES)
    rate = [1, 1] if dilations is None else [int(r) for r in dilations]
    if not isinstance(strides, (list, tuple)):
        raise TypeError(f"Expected list for 'strides' argument to 'depthwise_conv2d_native' Op, "
                        f"not {strides!r}.")
    if len(strides) != 4:
        raise op_error(InvalidArgumentError, "DepthwiseConv2dNative",
                       "Sliding window strides field must specify 4 dimensions")
    if any(r > 1 for r in rate) and any(s != 1 for s in strides):
        warnings.warn("When dilation rate is greater than 1, then all values of strides must be 1. "
                      f"Received: `dilation rate` {rate} and `strides` {list(strides)}")
    data_format = _data_format("DepthwiseConv2dNative",
                               "NHWC" if data_format is None else data_format, ("NHWC", "NCHW"))
    ci = 1 if data_format == "NCHW" else 3
    if len(rate) != 2:
        raise ValueError(f"`len(dilation_rate)` should be 2. Received: dilation_rate={rate} of "
                         f"length {len(rate)}")
    padding, explicit = _padding("DepthwiseConv2dNative", padding, 2, ci, True)
    full = [1, 1] + rate if ci == 1 else [1] + rate + [1]
    strides, rate = _check_window("DepthwiseConv2dNative", list(strides), full, ci)
    return execute(DEPTHWISE.forward, (x, w), _attrs(strides, rate, padding, explicit, data_format))


def separable_conv2d(input, depthwise_filter, pointwise_filter, strides, padding,  # noqa: A002
                     data_format=None, dilations=None, name=None):
    """A depthwise convolution followed by a 1x1 convolution mixing the channels."""
    pointwise = convert_to_tensor(pointwise_filter)
    shape = pointwise.shape
    if shape.rank is not None:
        if shape.rank != 4:
            raise ValueError(f"Shape {shape} must have rank 4")
        for d in shape.as_list()[:2]:
            if d is not None and d != 1:
                raise ValueError(f"Dimensions {d} and 1 are not compatible")
    depthwise = depthwise_conv2d(input, depthwise_filter, strides, padding, data_format, dilations)
    return conv2d(depthwise, pointwise, [1, 1, 1, 1], "VALID", data_format)


# -- transposed convolutions (the backprop-input primitives run forward) ----------------------
def _output_shape_tensor(output_shape, op_name: str) -> Tensor:
    shape = output_shape
    if isinstance(shape, TensorShape):
        shape = shape.as_list()
    tensor = convert_to_tensor(shape, dtype=None if isinstance(shape, Tensor) else dtypes.int32)
    if tensor._dtype is not dtypes.int32:
        raise dtype_mismatch(op_name, 0, dtypes.int32, tensor._dtype)
    return tensor


def _static_dims(output_shape) -> list | None:
    """The known entries of an output_shape argument (None for the unknown ones)."""
    if isinstance(output_shape, (list, tuple)):
        dims = []
        for d in output_shape:
            if isinstance(d, Tensor):
                value = getattr(d, "static_value", None)
                dims.append(None if value is None else int(value))
            else:
                dims.append(None if d is None else int(d))
        return dims
    return None


def transpose_kernel(family: Family, op_name: str, x, w, output_shape, strides, dilations,
                     padding, explicit, data_format):
    sizes = _output_shape_tensor(output_shape, op_name)
    out = execute(family.backprop_input, (sizes, w, x),
                  _attrs(strides, dilations, padding, explicit, data_format))
    dims = _static_dims(output_shape)
    if dims is not None and not isinstance(out._value, np.ndarray) and len(dims) == out.shape.rank:
        out.set_shape(dims)
    return out


def conv2d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NHWC", dilations=None, name=None):
    """The transpose (gradient) of conv2d: `filters` is [kh, kw, out_channels, in_channels]."""
    x, w = _operands("Conv2DBackpropInput", input, filters, _CONV2D_TYPES)
    data_format = _data_format("Conv2DBackpropInput",
                               "NHWC" if data_format is None else data_format, ("NHWC", "NCHW"))
    ci = 1 if data_format == "NCHW" else 3
    strides = _sequence(strides, 2, ci, "strides")
    dilations = _sequence(dilations, 2, ci, "dilations")
    padding, explicit = _padding("Conv2DBackpropInput", padding, 2, ci, True)
    strides, dilations = _check_window("Conv2DBackpropInput", strides, dilations, ci)
    return transpose_kernel(CONV2D, "Conv2DBackpropInput", x, w, output_shape, strides, dilations,
                            padding, explicit, data_format)


def conv1d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NWC", dilations=None, name=None):
    """The transpose of conv1d: `filters` is [k, out_channels, in_channels]."""
    if data_format is None or data_format == "NWC":
        ci = 2
    elif data_format == "NCW":
        ci = 1
    else:
        raise ValueError(f"`data_format` must be 'NWC' or 'NCW'. Received: data_format={data_format}")
    data_format = "NWC" if ci == 2 else "NCW"
    x, w = _operands("Conv2DBackpropInput", input, filters, _CONV2D_TYPES)
    strides = [1] + _sequence(strides, 1, ci, "stride")
    dilations = [1] + _sequence(dilations, 1, ci, "dilations")
    padding, explicit = _padding("Conv2DBackpropInput", padding, 1, ci, False)
    strides, dilations = _check_window("Conv2DBackpropInput", strides, dilations, ci + 1)
    return transpose_kernel(CONV2D, "Conv2DBackpropInput", x, w, output_shape, strides[1:],
                            dilations[1:], padding, explicit, data_format)


def conv3d_transpose(input, filters, output_shape, strides, padding="SAME",  # noqa: A002
                     data_format="NDHWC", dilations=None, name=None):
    """The transpose of conv3d: `filters` is [kd, kh, kw, out_channels, in_channels]."""
    x, w = _operands("Conv3DBackpropInputV2", input, filters, _FLOAT_TYPES)
    data_format = _data_format("Conv3DBackpropInputV2",
                               "NDHWC" if data_format is None else data_format, ("NDHWC", "NCDHW"))
    ci = 1 if data_format == "NCDHW" else 4
    strides = _sequence(strides, 3, ci, "strides")
    dilations = _sequence(dilations, 3, ci, "dilations")
    padding, explicit = _padding("Conv3DBackpropInputV2", padding, 3, ci, False)
    strides, dilations = _check_window("Conv3DBackpropInputV2", strides, dilations, ci,
                                       conv3d=True)
    return transpose_kernel(CONV3D, "Conv3DBackpropInputV2", x, w, output_shape, strides,
                            dilations, padding, explicit, data_format)


_TRANSPOSES = {1: conv1d_transpose, 2: conv2d_transpose, 3: conv3d_transpose}


def conv_transpose(input, filters, output_shape, strides, padding="SAME", data_format=None,  # noqa: A002
                   dilations=None, name=None):
    """The transpose of `convolution`, N (1, 2, 3) from the length of `output_shape`."""
    if isinstance(output_shape, Tensor):
        n = output_shape.shape[0]
        n = None if n is None else n - 2
    elif hasattr(output_shape, "__len__"):
        n = len(output_shape) - 2
    else:
        raise ValueError(f"`output_shape` must be a tensor or sized collection. "
                         f"Received: output_shape={output_shape}")
    if n is None or not 1 <= n <= 3:
        raise ValueError(f"`output_shape` must be of length 3, 4 or 5. Received: "
                         f"output_shape={output_shape} of length {None if n is None else n + 2}.")
    return _TRANSPOSES[n](input, filters, output_shape, strides, padding=padding,
                          data_format=data_format, dilations=dilations)


def atrous_conv2d_transpose(value, filters, output_shape, rate, padding, name=None):
    """The transpose of atrous_conv2d: a transposed convolution with dilation `rate`."""
    x = convert_to_tensor(value)
    w = convert_to_tensor(filters)
    xc = x.shape[3] if x.shape.rank is not None else None
    wc = w.shape[3] if w.shape.rank is not None else None
    if xc is not None and wc is not None and xc != wc:
        raise ValueError(f"`value` channel count must be compatible with `filters` input channel "
                         f"count. Received: value.shape={x.shape} with channel count {xc} and "
                         f"filters.shape={w.shape} with input channel count {wc}.")
    if rate < 1:
        raise ValueError(f"`rate` cannot be less than one. Received: rate={rate}")
    if rate > 1 and padding not in ("SAME", "VALID"):
        raise ValueError(f"`padding` must be either 'VALID' or 'SAME'. Received: padding={padding}")
    return conv2d_transpose(x, w, output_shape, strides=[1, 1, 1, 1], padding=padding,
                            data_format="NHWC", dilations=[1, int(rate), int(rate), 1])


# The gradient primitives, declared in conv_grad_ops (which fills each Family's two slots).
from tensorweave.ops import conv_grad_ops as _conv_grad_ops  # noqa: E402
