"""Translators of the convolution, pooling and resizing ops.

TensorFlow's layers are channels-last (NHWC); ONNX's Conv and pooling ops are channels-first
(NCHW). A channels-last op is wrapped in two Transposes; the Builder drops a Transpose that
undoes the one before it, so a run of such ops changes layout once at each end.
"""
from __future__ import annotations

import numpy as np

from tensorweave.onnx.registry import Unsupported, dims, rank, translates


def _channels_first(data_format: str) -> bool:
    return data_format[1] == "C"


def _to_nchw(b, x: str, r: int) -> str:
    return b.transpose(x, [0, r - 1] + list(range(1, r - 1)))


def _to_nhwc(b, x: str, r: int) -> str:
    return b.transpose(x, [0] + list(range(2, r)) + [1])


def _same_pads(sizes, kernel, strides, dilations):
    """TensorFlow's SAME padding (the odd pixel at the end) as ONNX pads, or None when a size
    is unknown."""
    if any(s is None for s in sizes):
        return None
    begin, end = [], []
    for n, k, s, d in zip(sizes, kernel, strides, dilations):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        begin.append(total // 2)
        end.append(total - total // 2)
    return begin + end


def _pads(padding: str, explicit, sizes, kernel, strides, dilations):
    """(pads, auto_pad) for ONNX from TensorFlow's padding attributes (spatial axes only)."""
    if padding == "VALID":
        return [0] * (2 * len(kernel)), None
    if padding == "EXPLICIT":
        return [int(lo) for lo, _ in explicit] + [int(hi) for _, hi in explicit], None
    pads = _same_pads(sizes, kernel, strides, dilations)
    return (pads, None) if pads is not None else (None, "SAME_UPPER")


def _conv_layout(node):
    x = node.inputs[0]
    nsp = len(node.attrs["strides"])
    r = rank(x)
    if r != nsp + 2:
        raise Unsupported(f"a convolution of an input of rank {r} (with {nsp} spatial axes, "
                          f"ONNX takes one batch axis)")
    first = _channels_first(node.attrs["data_format"])
    shape = dims(x)
    spatial = shape[2:] if first else shape[1:-1]
    channels = shape[1] if first else shape[-1]
    return r, nsp, first, spatial, channels


@translates("Conv2D", "Conv3D", "DepthwiseConv2dNative")
def _conv(b, node, ins):
    r, nsp, first, spatial, channels = _conv_layout(node)
    x, w = ins
    w_shape = dims(node.inputs[1])
    kernel = w_shape[:nsp]
    if node.type == "DepthwiseConv2dNative":
        if channels is None:
            raise Unsupported("a depthwise convolution with an unknown number of channels")
        group = channels
        # (k..., C, multiplier) -> (k..., 1, C * multiplier): output channel c * multiplier + m
        w = b.reshape(w, kernel + [1, w_shape[nsp] * w_shape[nsp + 1]])
    else:
        if channels is None or w_shape[nsp] is None:
            raise Unsupported("a convolution with an unknown number of channels")
        group = channels // w_shape[nsp]
    w = b.transpose(w, [nsp + 1, nsp] + list(range(nsp)))  # -> (out, in / group, k...)
    strides = [int(s) for s in node.attrs["strides"]]
    dilations = [int(d) for d in node.attrs["dilations"]]
    pads, auto_pad = _pads(node.attrs["padding"], node.attrs["explicit_paddings"], spatial,
                           kernel, strides, dilations)
    if not first:
        x = _to_nchw(b, x, r)
    y = b.add("Conv", [x, w], kernel_shape=kernel, strides=strides, dilations=dilations,
              pads=pads, auto_pad=auto_pad, group=group if group != 1 else None)
    return y if first else _to_nhwc(b, y, r)


@translates("Conv2DBackpropInput", "Conv3DBackpropInputV2")
def _conv_transpose(b, node, ins):
    """The gradient of a convolution with respect to its input: ONNX's ConvTranspose."""
    _, w, dy = ins
    out = node.outputs[0]
    nsp = len(node.attrs["strides"])
    r = rank(out)
    if r != nsp + 2:
        raise Unsupported(f"a transposed convolution of rank {r}")
    first = _channels_first(node.attrs["data_format"])
    out_dims = dims(out)
    out_spatial = out_dims[2:] if first else out_dims[1:-1]
    dy_dims = dims(node.inputs[2])
    in_spatial = dy_dims[2:] if first else dy_dims[1:-1]
    w_shape = dims(node.inputs[1])
    kernel = w_shape[:nsp]
    channels = out_dims[1] if first else out_dims[-1]
    if channels is None or None in kernel or w_shape[nsp] is None:
        raise Unsupported("a transposed convolution with an unknown filter size")
    group = channels // w_shape[nsp]
    strides = [int(s) for s in node.attrs["strides"]]
    dilations = [int(d) for d in node.attrs["dilations"]]
    padding = node.attrs["padding"]
    # filter (k..., in / group, out) of the forward conv -> ConvTranspose's (out, in / group, k...)
    w = b.transpose(w, [nsp + 1, nsp] + list(range(nsp)))
    x = dy if first else _to_nchw(b, dy, r)
    if None in out_spatial or None in in_spatial:
        y = _conv_transpose_dynamic(b, node, x, w, ins[0], kernel, strides, dilations, group)
        return y if first else _to_nhwc(b, y, r)
    begin, end, extra = [], [], []
    for i in range(nsp):
        span = (kernel[i] - 1) * dilations[i] + 1
        n, s = out_spatial[i], strides[i]
        if padding == "SAME":
            total = max((-(-n // s) - 1) * s + span - n, 0)
            lo, hi = total // 2, total - total // 2
        elif padding == "EXPLICIT":
            lo, hi = (int(v) for v in node.attrs["explicit_paddings"][i])
        else:
            lo = hi = 0
        full = s * (in_spatial[i] - 1) + span
        begin.append(lo)
        end.append(hi)
        extra.append(n - (full - lo - hi))
    if any(e < 0 for e in extra):
        raise Unsupported("a transposed convolution with an output smaller than its padding")
    y = b.add("ConvTranspose", [x, w], kernel_shape=kernel, strides=strides,
              dilations=dilations, pads=begin + end,
              output_padding=extra if any(extra) else None,
              group=group if group != 1 else None)
    return y if first else _to_nhwc(b, y, r)


def _conv_transpose_dynamic(b, node, x, w, sizes, kernel, strides, dilations, group):
    """ConvTranspose for spatial sizes known only at run time: the full (unpadded) result,
    zeros added at the end where the requested size reaches past it, then the requested window,
    which starts at TensorFlow's padding before (computed from the sizes when the model runs)."""
    nsp = len(kernel)
    r = nsp + 2
    first = _channels_first(node.attrs["data_format"])
    y = b.add("ConvTranspose", [x, w], kernel_shape=kernel, strides=strides,
              dilations=dilations, pads=[0] * (2 * nsp), group=group if group != 1 else None)
    start = 2 if first else 1
    want = b.slice(b.cast(sizes, np.int64), [start], [start + nsp], [0])
    full = b.shape_of(y, 2, r)
    zero = b.i64([0] * nsp)
    padding = node.attrs["padding"]
    if padding == "SAME":  # TensorFlow's total padding is full - want here; the odd one after
        lo = b.add("Div", [b.add("Max", [b.add("Sub", [full, want]), zero]), b.i64([2] * nsp)])
    elif padding == "EXPLICIT":
        lo = b.i64([int(p[0]) for p in node.attrs["explicit_paddings"]])
    else:
        lo = zero
    end = b.add("Add", [lo, want])
    grow = b.add("Max", [b.add("Sub", [end, full]), zero])
    y = b.add("Pad", [y, b.concat([b.i64([0] * (r + 2)), grow], 0)], mode="constant")
    return b.add("Slice", [y, lo, end, b.i64(list(range(2, r)))])


# -- pooling ------------------------------------------------------------------------------------
def _trivial(node, axis: int) -> bool:
    a = node.attrs
    explicit = a["explicit_paddings"]
    return (a["ksize"][axis] == 1 and a["strides"][axis] == 1 and a["dilations"][axis] == 1
            and (not explicit or tuple(explicit[axis]) == (0, 0)))


@translates("MaxPool", "AvgPool", "MaxPool3D", "AvgPool3D")
def _pool(b, node, ins):
    """The attributes cover every axis in the input's own layout: an axis pooled with a window
    of 1 is left alone, so the channel axis is found as the last (else the second) such axis."""
    a = node.attrs
    x_tensor = node.inputs[0]
    r = rank(x_tensor)
    if r < 3 or not _trivial(node, 0):
        raise Unsupported("pooling over the batch axis")
    if _trivial(node, r - 1):
        channel, first = r - 1, False
    elif _trivial(node, 1):
        channel, first = 1, True
    else:
        raise Unsupported("pooling over every axis (depth pooling)")
    spatial_axes = [i for i in range(1, r) if i != channel]
    kernel = [int(a["ksize"][i]) for i in spatial_axes]
    strides = [int(a["strides"][i]) for i in spatial_axes]
    dilations = [int(a["dilations"][i]) for i in spatial_axes]
    explicit = [a["explicit_paddings"][i] for i in spatial_axes] if a["explicit_paddings"] \
        else ()
    shape = dims(x_tensor)
    pads, auto_pad = _pads(a["padding"], explicit, [shape[i] for i in spatial_axes], kernel,
                           strides, dilations)
    x = ins[0] if first else _to_nchw(b, ins[0], r)
    if node.type.startswith("Max"):
        y = b.add("MaxPool", [x], kernel_shape=kernel, strides=strides, pads=pads,
                  auto_pad=auto_pad,
                  dilations=dilations if any(d != 1 for d in dilations) else None)
    else:
        if any(d != 1 for d in dilations) and b.opset < 19:
            raise Unsupported("dilated average pooling before opset 19")
        # TensorFlow divides by the inputs really in each window (padding not counted)
        y = b.add("AveragePool", [x], kernel_shape=kernel, strides=strides, pads=pads,
                  auto_pad=auto_pad, count_include_pad=0,
                  dilations=dilations if any(d != 1 for d in dilations) else None)
    return y if first else _to_nhwc(b, y, r)


# -- resizing -----------------------------------------------------------------------------------
@translates("ResizeBilinear", "ResizeNearestNeighbor")
def _resize(b, node, ins):
    x, size = ins
    a = node.attrs
    linear = node.type == "ResizeBilinear"
    # TensorFlow's nearest neighbour rounds half up: ONNX's round_prefer_ceil on the same
    # coordinates (floor without centres or corners)
    if a.get("align_corners"):
        mode, nearest = "align_corners", "round_prefer_ceil"
    elif a.get("half_pixel_centers"):
        mode, nearest = "half_pixel", "round_prefer_ceil"
    else:
        mode, nearest = "asymmetric", "floor"
    kwargs = {"mode": "linear" if linear else "nearest", "coordinate_transformation_mode": mode,
              "nearest_mode": None if linear else nearest}
    x = _to_nchw(b, x, 4)
    sizes = b.concat([b.shape_of(x, 0, 2), b.cast(size, np.int64)], 0)
    return _to_nhwc(b, b.add("Resize", [x, "", "", sizes], **kwargs), 4)
