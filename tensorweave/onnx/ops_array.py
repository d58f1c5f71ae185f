"""Translators of the shape, reshaping, slicing, joining and filling ops."""
from __future__ import annotations

import numpy as np

from tensorweave.onnx.builder import INT64_MAX, INT64_MIN
from tensorweave.onnx.registry import Unsupported, np_dtype, rank, translates


def _to_dtype(b, x: str, tensor) -> str:
    """An int64 result (Shape, Size...) as the dtype TensorFlow gives it."""
    want = np_dtype(tensor)
    return x if want == np.int64 else b.cast(x, want)


def _as_i64(b, x: str, tensor) -> str:
    return x if np_dtype(tensor) == np.int64 else b.cast(x, np.int64)


# -- shapes -------------------------------------------------------------------------------------
@translates("Shape")
def _shape(b, node, ins):
    return _to_dtype(b, b.add("Shape", ins), node.outputs[0])


@translates("Size")
def _size(b, node, ins):
    return _to_dtype(b, b.add("Size", ins), node.outputs[0])


@translates("Rank")
def _rank(b, node, ins):
    return b.scalar(rank(node.inputs[0]), np.int32)


@translates("Reshape")
def _reshape(b, node, ins):
    return b.reshape(ins[0], node.attrs["shape"])


@translates("ExpandDims")
def _expand_dims(b, node, ins):
    return b.unsqueeze(ins[0], [node.attrs["axis"]])


@translates("Squeeze")
def _squeeze(b, node, ins):
    axis = node.attrs["axis"]
    return b.squeeze(ins[0], None if axis is None else list(axis))


@translates("Transpose")
def _transpose(b, node, ins):
    return b.transpose(ins[0], node.attrs["perm"])


@translates("BroadcastTo")
def _broadcast_to(b, node, ins):
    return b.add("Expand", [ins[0], b.i64(node.attrs["shape"])])


@translates("BroadcastToShapeOf")
def _broadcast_like(b, node, ins):
    return b.add("Expand", [ins[0], b.add("Shape", [ins[1]])])


# -- filling ------------------------------------------------------------------------------------
@translates("Fill")
def _fill(b, node, ins):
    return b.add("Expand", [ins[0], b.i64(node.attrs["dims"])])


@translates("DynamicFill")
def _dynamic_fill(b, node, ins):
    dims, value = ins
    return b.add("Expand", [value, _as_i64(b, dims, node.inputs[0])])


@translates("ZerosLike", "OnesLike")
def _zeros_like(b, node, ins):
    value = b.scalar(0 if node.type == "ZerosLike" else 1, np_dtype(node.inputs[0]))
    return b.add("Expand", [value, b.add("Shape", ins)])


@translates("Range")
def _range(b, node, ins):
    want = node.attrs["dtype"].as_numpy_dtype
    parts = [p if np_dtype(t) == np.dtype(want) else b.cast(p, want)
             for p, t in zip(ins, node.inputs)]
    return b.add("Range", parts)


# -- joining and splitting ----------------------------------------------------------------------
@translates("ConcatV2")
def _concat(b, node, ins):
    return b.concat(list(ins), int(node.attrs["axis"]))


@translates("Pack")
def _pack(b, node, ins):
    axis = int(node.attrs["axis"])
    return b.concat([b.unsqueeze(x, [axis]) for x in ins], axis)


@translates("Unpack")
def _unpack(b, node, ins):
    axis = int(node.attrs["axis"])
    num = int(node.attrs["num"])
    if num == 1:
        return [b.squeeze(ins[0], [axis])]
    parts = b.add("Split", [ins[0], b.i64([1] * num)], outputs=num, axis=axis)
    return [b.squeeze(p, [axis]) for p in parts]


@translates("SplitV")
def _split(b, node, ins):
    sizes = [int(s) for s in node.attrs["sizes"]]
    axis = int(node.attrs["axis"])
    if len(sizes) == 1:
        return [b.add("Identity", ins)]
    return b.add("Split", [ins[0], b.i64(sizes)], outputs=len(sizes), axis=axis)


@translates("Tile")
def _tile(b, node, ins):
    multiples = node.attrs["multiples"]
    if not multiples:
        return b.add("Identity", ins)
    return b.add("Tile", [ins[0], b.i64(multiples)])


@translates("Repeat")
def _repeat(b, node, ins):
    repeats, axis = node.attrs["repeats"], int(node.attrs["axis"])
    if not isinstance(repeats, (int, np.integer)):
        raise Unsupported("repeat with a count per element")
    r = rank(node.inputs[0])
    x = ins[0]
    # each element once more along a new axis after `axis`, then the two axes merged
    grown = b.unsqueeze(x, [axis + 1])
    tiled = b.add("Tile", [grown, b.i64([int(repeats) if i == axis + 1 else 1
                                         for i in range(r + 1)])])
    shape = b.add("Shape", [x])
    parts = []
    if axis > 0:
        parts.append(b.slice(shape, [0], [axis], [0]))
    parts.append(b.add("Mul", [b.slice(shape, [axis], [axis + 1], [0]), b.i64([int(repeats)])]))
    if axis + 1 < r:
        parts.append(b.slice(shape, [axis + 1], [INT64_MAX], [0]))
    return b.add("Reshape", [tiled, b.concat(parts, 0)])


@translates("PadV2")
def _pad(b, node, ins):
    pads = node.attrs["paddings"]
    flat = [int(lo) for lo, _ in pads] + [int(hi) for _, hi in pads]
    value = b.scalar(node.attrs["constant_values"], np_dtype(node.inputs[0]))
    return b.add("Pad", [ins[0], b.i64(flat), value], mode="constant")


@translates("MirrorPad")
def _mirror_pad(b, node, ins):
    if node.attrs["mode"] != "REFLECT":
        raise Unsupported("SYMMETRIC padding (ONNX pads by reflection or edge only)")
    pads = node.attrs["paddings"]
    flat = [int(lo) for lo, _ in pads] + [int(hi) for _, hi in pads]
    return b.add("Pad", [ins[0], b.i64(flat)], mode="reflect")


@translates("ReverseV2")
def _reverse(b, node, ins):
    axes = list(node.attrs["axis"])
    if not axes:
        return b.add("Identity", ins)
    n = len(axes)
    return b.slice(ins[0], [-1] * n, [INT64_MIN] * n, axes, [-1] * n)


# -- indexing -----------------------------------------------------------------------------------
@translates("GatherV2")
def _gather(b, node, ins):
    if node.attrs.get("batch_dims", 0):
        raise Unsupported("gather with batch_dims")
    return b.add("Gather", ins, axis=int(node.attrs["axis"]))


@translates("StridedSlice")
def _strided_slice(b, node, ins):
    key = node.attrs["key"]
    r = rank(node.inputs[0])
    consumed = sum(1 for k in key if k is not None and k is not Ellipsis)
    expanded = []
    for k in key:
        if k is Ellipsis:
            expanded.extend([slice(None)] * (r - consumed))
        else:
            expanded.append(k)
    starts, ends, axes, steps = [], [], [], []
    squeezed, inserted = [], []
    axis = out_axis = 0
    for k in expanded:
        if k is None:
            inserted.append(out_axis)
            out_axis += 1
            continue
        if isinstance(k, slice):
            step = 1 if k.step is None else int(k.step)
            if not (k.start is None and k.stop is None and step == 1):
                starts.append((0 if step > 0 else INT64_MAX) if k.start is None else int(k.start))
                ends.append((INT64_MAX if step > 0 else INT64_MIN) if k.stop is None
                            else int(k.stop))
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        else:  # an int: the one element, then the axis removed
            k = int(k)
            starts.append(k)
            ends.append(INT64_MAX if k == -1 else k + 1)
            axes.append(axis)
            steps.append(1)
            squeezed.append(axis)
        axis += 1
    x = ins[0]
    if axes:
        x = b.slice(x, starts, ends, axes, steps)
    if squeezed:
        x = b.squeeze(x, squeezed)
    if inserted:
        x = b.unsqueeze(x, inserted)
    if x == ins[0]:
        x = b.add("Identity", [x])
    return x


@translates("Where")
def _where(b, node, ins):
    return b.transpose(b.add("NonZero", ins), [1, 0])
