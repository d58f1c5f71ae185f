"""The gradients of the convolutions: backprop-input and backprop-filter kernels and primitives.

Input gradient (also the forward of the transposed convolutions): the output gradient meets the
transposed filter in one matmul, giving the gradient of every window (the im2col columns); a loop
over kernel offsets only (kh*kw slice-adds, never over pixels) adds the columns back onto the
padded input (col2im), whose border is then cropped. Filter gradient: the im2col matrix of the
input, transposed, times the output gradient (one matmul). Groups batch the matmuls over groups;
depthwise filters (one input channel per group) loop multiply-adds over kernel offsets.

Each gradient primitive is linear in two of its inputs and differentiable in both, through the
other two primitives of its family, so second derivatives through a convolution work:
    y = conv(x, w):              dx = bpi(x.shape, w, dy)       dw = bpf(x, w.shape, dy)
    z = bpi(sizes, w, dy):       dw = bpf(g, w.shape, dy)       ddy = conv(g, w)
    z = bpf(x, sizes, dy):       dx = bpi(x.shape, g, dy)       ddy = conv(x, g)
"""
from __future__ import annotations

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.context import state
from tensorweave.framework.convert import convert_to_tensor, dtype_mismatch
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import conv_ops
from tensorweave.ops.conv_ops import (
    Family, Geometry, columns, from_channels_last, geometry, offsets, pad_input, to_channels_last,
    upcast, windows)

# The prefix TensorFlow's kernels give their shape errors, by forward op.
_PREFIX = {"Conv2D": ("Conv2DCustomBackpropInput", "Conv2DCustomBackpropFilter"),
           "Conv3D": ("Conv3DBackpropInputOp", "Conv3DBackpropFilterOp"),
           "DepthwiseConv2dNative": ("DepthwiseConv2DBackpropInput",
                                     "DepthwiseConv2DBackpropFilter")}
# Channels from which the input gradient runs one matmul per kernel offset (below: one matmul
# for all offsets, then col2im over the column matrix).
_PER_OFFSET_CHANNELS = 8


# -- kernels -----------------------------------------------------------------------------------
def _col2im(dcols: np.ndarray, g: Geometry, batch: int, dtype) -> np.ndarray:
    """Adds window gradients `dcols` (B, *O, *K, *channels) back onto the input: (B, *S, C).

    `channels` is (C,) or (G, Cg) (the grouped matmul's layout, left as a view)."""
    nsp = len(g.K)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(g.S, g.pads))
    dxp = np.zeros((batch,) + padded + (g.C,), dtype)
    if batch and all(g.O):
        target = dxp.reshape((batch,) + padded + dcols.shape[2 * nsp + 1:])
        for index, region in _regions(g):
            target[region] += dcols[index]
    return _cropped(dxp, g)


def backprop_input_kernel(dy: np.ndarray, w: np.ndarray, g: Geometry) -> np.ndarray:
    """The gradient (B, *S, C) of a convolution's input from its output gradient (B, *O, F)."""
    batch = dy.shape[0]
    kprod = int(np.prod(g.K))
    dtype = np.result_type(dy.dtype, w.dtype)
    if g.Cg == 1 and g.G > 1:
        return _backprop_input_depthwise(dy, w, g)
    if all(k == 1 for k in g.K) and not g.padded and all(s == 1 for s in g.strides) \
            and g.G == 1 and tuple(g.O) == tuple(g.S):
        return (dy.reshape(-1, g.F) @ w.reshape(g.C, g.F).T).reshape((batch,) + g.S + (g.C,))
    dy2 = dy.reshape(-1, g.F)
    if g.G == 1 and g.C >= _PER_OFFSET_CHANNELS:
        return _backprop_input_per_offset(dy2, w, g, batch, dtype)
    if g.G == 1:
        dcols = (dy2 @ w.reshape(-1, g.F).T).reshape((batch,) + g.O + g.K + (g.C,))
    else:
        G, Cg, Fg = g.G, g.Cg, g.F // g.G
        dy_g = dy2.reshape(-1, G, Fg).transpose(1, 0, 2)
        w_g = w.reshape(kprod, Cg, G, Fg).transpose(2, 3, 0, 1).reshape(G, Fg, kprod * Cg)
        dcols = np.matmul(dy_g, w_g).reshape((G, batch) + g.O + g.K + (Cg,))
        dcols = np.moveaxis(dcols, 0, -2)
    return _col2im(dcols, g, batch, dtype)


def _regions(g: Geometry):
    """Per kernel offset, the strided region of the padded input its window element covers."""
    nsp = len(g.K)
    for index in offsets(g):
        k = index[1 + nsp:]
        yield index, (slice(None),) + tuple(
            slice(k[i] * g.dilations[i], k[i] * g.dilations[i] + g.strides[i] * (g.O[i] - 1) + 1,
                  g.strides[i]) for i in range(nsp))


def _cropped(dxp: np.ndarray, g: Geometry) -> np.ndarray:
    if not g.padded:
        return dxp
    return dxp[(slice(None),) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(g.S, g.pads))]


def _backprop_input_per_offset(dy2: np.ndarray, w: np.ndarray, g: Geometry, batch: int, dtype):
    """col2im without the big column matrix: per kernel offset, one (M, F) @ (F, C) matmul into a
    buffer that stays in cache, added onto its region of the input gradient."""
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(g.S, g.pads))
    dxp = np.zeros((batch,) + padded + (g.C,), dtype)
    if not (batch and all(g.O)):
        return _cropped(dxp, g)
    wt = w.reshape(-1, g.C, g.F).transpose(0, 2, 1)  # (kprod, F, C) views
    tmp = np.empty((dy2.shape[0], g.C), dtype)
    block = tmp.reshape((batch,) + g.O + (g.C,))
    for i, (_, region) in enumerate(_regions(g)):
        np.matmul(dy2, wt[i], out=tmp)
        dxp[region] += block
    return _cropped(dxp, g)


def _backprop_input_depthwise(dy: np.ndarray, w: np.ndarray, g: Geometry) -> np.ndarray:
    batch = dy.shape[0]
    mult = g.F // g.C
    wk = w.reshape(-1, g.C, mult)
    dtype = np.result_type(dy.dtype, w.dtype)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(g.S, g.pads))
    dxp = np.zeros((batch,) + padded + (g.C,), dtype)
    if batch and all(g.O):
        dyr = dy.reshape((batch,) + g.O + (g.C, mult))
        for i, (_, region) in enumerate(_regions(g)):
            part = dyr[..., 0] * wk[i, :, 0] if mult == 1 else (dyr * wk[i]).sum(-1)
            dxp[region] += part
    return _cropped(dxp, g)


def backprop_filter_kernel(x: np.ndarray, dy: np.ndarray, g: Geometry,
                           source=None) -> np.ndarray:
    """The gradient (prod(K) * Cg, F) of a convolution's filter (reshaped by the caller).
    `source`: the op's input array, whose im2col matrix the forward may have kept."""
    if g.Cg == 1 and g.G > 1:
        return _backprop_filter_depthwise(x, dy, g)
    cols = columns(x, g, source)
    dy2 = dy.reshape(-1, g.F)
    if g.G == 1:
        return cols.T @ dy2
    kprod, G, Cg, Fg = cols.shape[1] // g.C, g.G, g.Cg, g.F // g.G
    cols_g = cols.reshape(-1, kprod, G, Cg).transpose(2, 1, 3, 0).reshape(G, kprod * Cg, -1)
    dw = np.matmul(cols_g, dy2.reshape(-1, G, Fg).transpose(1, 0, 2))
    return dw.reshape(G, kprod, Cg, Fg).transpose(1, 2, 0, 3)


def _backprop_filter_depthwise(x: np.ndarray, dy: np.ndarray, g: Geometry) -> np.ndarray:
    batch = x.shape[0]
    mult = g.F // g.C
    view = windows(pad_input(x, g.pads), g)
    dyr = dy.reshape((batch,) + g.O + (g.C, mult))
    dw = np.empty((len(offsets(g)), g.C, mult), np.result_type(x.dtype, dy.dtype))
    lead = "abdefg"[:1 + len(g.K)]
    for i, index in enumerate(offsets(g)):
        if mult == 1:
            dw[i, :, 0] = np.einsum(f"{lead}c,{lead}c->c", view[index], dyr[..., 0])
        else:
            dw[i] = np.einsum(f"{lead}c,{lead}cm->cm", view[index], dyr)
    return dw


# -- shape checks --------------------------------------------------------------------------------
def _full_sizes(op_name: str, sizes, dy_shape: tuple, w_shape: tuple, nsp: int,
                channels_first: bool) -> tuple:
    """The input shape a backprop-input op is given: all dims, or the spatial ones only."""
    sizes = tuple(int(s) for s in np.reshape(sizes, -1))
    if len(sizes) == nsp:  # spatial sizes only: batch from dy, channels from the filter
        channels = w_shape[nsp] if len(w_shape) == nsp + 2 else 0
        batch = dy_shape[:len(dy_shape) - nsp - 1]
        sizes = batch + ((channels,) + sizes if channels_first else sizes + (channels,))
    elif len(sizes) < nsp + 2:
        raise op_error(InvalidArgumentError, op_name, f"{op_name} requires input_sizes to contain "
                       f"{nsp + 2} values or {nsp} values, but got: {len(sizes)}")
    for d in sizes:
        if d < 0:
            raise op_error(InvalidArgumentError, op_name, f"Dimension {d} must be >= 0")
    return sizes


def _check_backprop(op_name: str, prefix: str, g: Geometry, in_shape: tuple, dy_shape: tuple):
    """TensorFlow's errors for an output gradient that does not fit the convolution."""
    nsp = len(g.K)
    if len(dy_shape) != len(in_shape):
        raise op_error(InvalidArgumentError, op_name,
                       f"input_sizes must be {nsp + 2}-dimensional, got: {len(dy_shape)}")
    nb = len(in_shape) - nsp - 1
    if dy_shape[:nb] != in_shape[:nb]:
        raise op_error(InvalidArgumentError, op_name,
                       f"{prefix}: input and out_backprop must have the same batch size. "
                       f"Input batch: {in_shape[0]}, outbackprop batch: {dy_shape[0]}, "
                       f"batch_dim: 0")
    inner = dy_shape[nb:]
    out_depth, spatial = (inner[0], inner[1:]) if g.channels_first else (inner[-1], inner[:-1])
    if out_depth != g.F:
        raise op_error(InvalidArgumentError, op_name,
                       f"{prefix}: filter and out_backprop must have the same out_depth")
    first = nb + (1 if g.channels_first else 0)
    for i in range(nsp):
        if spatial[i] != g.O[i]:
            raise op_error(InvalidArgumentError, op_name,
                           f"{prefix}: Size of out_backprop doesn't match computed: actual = "
                           f"{spatial[i]}, computed = {g.O[i]} spatial_dim: {first + i} input: "
                           f"{g.S[i]} filter: {g.K[i]} output: {spatial[i]} stride: "
                           f"{g.strides[i]} dilation: {g.dilations[i]}")


def _geometry(family: Family, op_name: str, prefix: str, in_shape, w_shape, attrs) -> Geometry:
    try:
        return geometry(family.name, tuple(in_shape), tuple(w_shape), attrs["strides"],
                        attrs["dilations"], attrs["padding"], attrs["explicit_paddings"],
                        attrs["data_format"], family.depthwise)
    except InvalidArgumentError as exc:
        message = exc.message.rsplit(" [Op:", 1)[0]
        if "depth must be evenly divisible" in message:
            message = "input depth must be evenly divisible by filter depth"
        raise op_error(InvalidArgumentError, op_name, f"{prefix}: {message}") from None


# -- primitives ----------------------------------------------------------------------------------
def _backprop_input_forward(family: Family, op_name: str):
    prefix = _PREFIX[family.name][0]

    def forward(sizes, w, dy, strides, dilations, padding, explicit_paddings, data_format):
        nsp = len(strides)
        channels_first = data_format[1] == "C"
        sizes = _full_sizes(op_name, sizes, dy.shape, w.shape, nsp, channels_first)
        attrs = {"strides": strides, "dilations": dilations, "padding": padding,
                 "explicit_paddings": explicit_paddings, "data_format": data_format}
        g = _geometry(family, op_name, prefix, sizes, w.shape, attrs)
        _check_backprop(op_name, prefix, g, sizes, dy.shape)
        dtype = dy.dtype
        dx = backprop_input_kernel(to_channels_last(upcast(dy), g), upcast(w), g)
        return from_channels_last(dx, g).astype(dtype, copy=False)
    return forward


def _backprop_filter_forward(family: Family, op_name: str):
    prefix = _PREFIX[family.name][1]

    def forward(x, sizes, dy, strides, dilations, padding, explicit_paddings, data_format):
        nsp = len(strides)
        sizes = tuple(int(s) for s in np.reshape(sizes, -1))
        if len(sizes) != nsp + 2:
            raise op_error(InvalidArgumentError, op_name,
                           f"filter_sizes must be {nsp + 2}-dimensional, got: {len(sizes)}")
        attrs = {"strides": strides, "dilations": dilations, "padding": padding,
                 "explicit_paddings": explicit_paddings, "data_format": data_format}
        g = _geometry(family, op_name, prefix, x.shape, sizes, attrs)
        _check_backprop(op_name, prefix, g, x.shape, dy.shape)
        dtype = x.dtype
        dw = backprop_filter_kernel(to_channels_last(upcast(x), g), to_channels_last(upcast(dy), g),
                                    g, x)
        return dw.reshape(sizes).astype(dtype, copy=False)
    return forward


def _sizes_shape(sizes: TensorSpec):
    """The dims a shape-vector input holds: its value if known, else as many unknown dims."""
    if sizes.value is not None:
        return [int(s) for s in np.reshape(sizes.value, -1)]
    if sizes.shape.rank == 1 and sizes.shape[0] is not None:
        return [None] * sizes.shape[0]
    return None


def _backprop_input_abstract(family: Family):
    def abstract(sizes, w, dy, **attrs):
        nsp = len(attrs["strides"])
        dims = _sizes_shape(sizes)
        if dims is not None and len(dims) == nsp:
            batch = dy.shape.as_list()[:-(nsp + 1)] if dy.shape.rank else [None]
            c = w.shape[nsp] if w.shape.rank == nsp + 2 else None
            dims = batch + ([c] + dims if attrs["data_format"][1] == "C" else dims + [c])
        return TensorSpec(dims, dy.dtype)
    return abstract


def _backprop_filter_abstract(x, sizes, dy, **attrs):
    return TensorSpec(_sizes_shape(sizes), x.dtype)


def _in_graph() -> bool:
    return state.graph is not None


def _with_shape(t, shape):
    if _in_graph():
        t.set_shape(shape)
    return t


def _backprop_input_grad(family: Family, op, g):
    from tensorweave.ops import array_ops
    _, w, dy = op.inputs
    dw = ddy = None
    if op.needs_gradient(1):
        dw = _with_shape(execute(family.backprop_filter, (g, array_ops.shape(w), dy), op.attrs),
                         w.shape)
    if op.needs_gradient(2):
        ddy = _with_shape(execute(family.forward, (g, w), op.attrs), dy.shape)
    return None, dw, ddy


def _backprop_filter_grad(family: Family, op, g):
    from tensorweave.ops import array_ops
    x, _, dy = op.inputs
    dx = ddy = None
    if op.needs_gradient(0):
        dx = _with_shape(execute(family.backprop_input, (array_ops.shape(x), g, dy), op.attrs),
                         x.shape)
    if op.needs_gradient(2):
        ddy = _with_shape(execute(family.forward, (x, g), op.attrs), dy.shape)
    return dx, None, ddy


def _declare(family: Family, input_name: str, filter_name: str) -> None:
    family.backprop_input = primitive(
        input_name, _backprop_input_forward(family, input_name),
        lambda op, g: _backprop_input_grad(family, op, g), _backprop_input_abstract(family))
    family.backprop_filter = primitive(
        filter_name, _backprop_filter_forward(family, filter_name),
        lambda op, g: _backprop_filter_grad(family, op, g), _backprop_filter_abstract)


_declare(conv_ops.CONV2D, "Conv2DBackpropInput", "Conv2DBackpropFilter")
_declare(conv_ops.CONV3D, "Conv3DBackpropInputV2", "Conv3DBackpropFilterV2")
_declare(conv_ops.DEPTHWISE, "DepthwiseConv2dNativeBackpropInput",
         "DepthwiseConv2dNativeBackpropFilter")


def conv_grad(family: Family, op, dy):
    """The gradient of a convolution primitive (called by conv_ops' forward primitives)."""
    from tensorweave.ops import array_ops
    x, w = op.inputs
    dx = dw = None
    if op.needs_gradient(0):
        dx = _with_shape(execute(family.backprop_input, (array_ops.shape(x), w, dy), op.attrs),
                         x.shape)
    if op.needs_gradient(1):
        dw = _with_shape(execute(family.backprop_filter, (x, array_ops.shape(w), dy), op.attrs),
                         w.shape)
    return dx, dw


# -- public backprop functions -------------------------------------------------------------------
def _sizes_tensor(sizes, op_name: str):
    tensor = convert_to_tensor(sizes, dtype=None if hasattr(sizes, "_dtype") else dtypes.int32)
    if tensor._dtype is not dtypes.int32:
        raise dtype_mismatch(op_name, 0 if op_name.endswith("Input") else 1, dtypes.int32,
                             tensor._dtype)
    return tensor


def _depthwise_attrs(op_name: str, strides, padding, data_format, dilations) -> dict:
    data_format = conv_ops._data_format(op_name, "NHWC" if data_format is None else data_format,
                                        ("NHWC", "NCHW"))
    ci = 1 if data_format == "NCHW" else 3
    if not isinstance(strides, (list, tuple)):
        raise TypeError(f"Expected list for 'strides' argument to '{op_name}' Op, not {strides!r}.")
    dilations = [1, 1, 1, 1] if dilations is None else list(dilations)
    padding, explicit = conv_ops._padding(op_name, padding, 2, ci, True)
    strides, dilations = conv_ops._check_window(op_name, list(strides), dilations, ci)
    return conv_ops._attrs(strides, dilations, padding, explicit, data_format)


def depthwise_conv2d_backprop_input(input_sizes, filter, out_backprop, strides, padding,  # noqa: A002
                                    data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """The gradient of depthwise_conv2d with respect to its input, of shape `input_sizes`."""
    op_name = "DepthwiseConv2dNativeBackpropInput"
    w, dy = conv_ops._operands(op_name, filter, out_backprop, conv_ops._FLOAT_TYPES)
    attrs = _depthwise_attrs(op_name, strides, padding, data_format, dilations)
    return execute(conv_ops.DEPTHWISE.backprop_input, (_sizes_tensor(input_sizes, op_name), w, dy),
                   attrs)


def depthwise_conv2d_backprop_filter(input, filter_sizes, out_backprop, strides, padding,  # noqa: A002
                                     data_format="NHWC", dilations=(1, 1, 1, 1), name=None):
    """The gradient of depthwise_conv2d with respect to its filter, of shape `filter_sizes`."""
    op_name = "DepthwiseConv2dNativeBackpropFilter"
    x, dy = conv_ops._operands(op_name, input, out_backprop, conv_ops._FLOAT_TYPES)
    attrs = _depthwise_attrs(op_name, strides, padding, data_format, dilations)
    return execute(conv_ops.DEPTHWISE.backprop_filter,
                   (x, _sizes_tensor(filter_sizes, op_name), dy), attrs)
