"""tf.image.resize: bilinear, nearest, bicubic, area and the scale-and-translate kernels.

Resizing is separable: each output row mixes a few input rows, each output column a few input
columns, with weights that depend only on the two sizes. The weights are computed once per
(sizes, method) in float32 with TensorFlow's arithmetic (half-pixel centers, as TF2's
`tf.image.resize` uses) and cached.

- Every method is a list of taps per axis (output o = sum over t of weight[t, o] *
  input[index[t, o]]): 1 for nearest, 2 for bilinear, 4 for bicubic, the kernel's span for
  area and scale-and-translate. The forward gathers with `np.take` (bilinear in TensorFlow's
  own order of operations, a + (b - a) * t); the gradient, the transpose, moves the axis first
  and adds each tap's share into its source rows with index-add steps whose targets are
  distinct, so every pass is O(output), never a loop over pixels.
Every resize outputs float32 except nearest, which keeps the images' dtype, as TensorFlow does.
"""
from __future__ import annotations

import functools
import math

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.convert import convert_to_tensor, unsupported_dtype
from tensorweave.framework.errors import InvalidArgumentError, op_error
from tensorweave.framework.op_registry import execute, primitive
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.ops import array_ops, math_ops

_RESIZE_TYPES = dtypes._enums(
    dtypes.int8, dtypes.uint8, dtypes.int16, dtypes.uint16, dtypes.int32, dtypes.int64,
    dtypes.bfloat16, dtypes.float16, dtypes.float32, dtypes.float64)
_F32 = np.float32


class ResizeMethod:
    """The methods of tf.image.resize (strings, as in TensorFlow)."""

    BILINEAR = "bilinear"
    NEAREST_NEIGHBOR = "nearest"
    BICUBIC = "bicubic"
    AREA = "area"
    LANCZOS3 = "lanczos3"
    LANCZOS5 = "lanczos5"
    GAUSSIAN = "gaussian"
    MITCHELLCUBIC = "mitchellcubic"


# -- per-axis sampling -------------------------------------------------------------------------
def _scale(in_size: int, out_size: int, align_corners: bool) -> np.float32:
    if align_corners and out_size > 1:
        return _F32(in_size - 1) / _F32(out_size - 1)
    return _F32(in_size) / _F32(out_size)


def _read_only(*arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


class _Scatter:
    """How to add values along an axis into the positions `index` names (repeats included):
    `steps` lists (sources, targets) pairs whose targets are distinct, so each is one
    `out[targets] += values[sources]`; `identity` when index is 0..n-1 itself."""

    __slots__ = ("steps", "identity")

    def __init__(self, index: np.ndarray, size: int):
        self.identity = len(index) == size and bool((index == np.arange(size)).all())
        order = np.argsort(index, kind="stable")
        ordered = index[order]
        starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
        lengths = np.diff(np.concatenate((starts, [len(index)])))
        self.steps = []
        for k in range(int(lengths.max()) if len(lengths) else 0):
            keep = lengths > k
            self.steps.append(_read_only(order[starts[keep] + k], ordered[starts[keep]]))

    def add(self, values, out) -> None:
        """out[index[o]] += values[o] along the first axis."""
        if self.identity:
            out += values
            return
        for sources, targets in self.steps:
            out[targets] += values[sources]


class _Taps:
    """A linear resampling along one axis: output o = sum over t of
    weight[t, o] * input[index[t, o]]."""

    __slots__ = ("index", "weight", "scatters", "size")

    def __init__(self, index, weight, size: int):
        self.index, self.weight, self.size = _read_only(index, weight) + (size,)
        self.scatters = [_Scatter(i, size) for i in index]

    def apply(self, x, axis: int):
        shape = [-1] + [1] * (x.ndim - 1 - axis)
        out = None
        for index, weight in zip(self.index, self.weight):
            term = x.take(index, axis=axis)
            term *= weight.reshape(shape)
            if out is None:
                out = term
            else:
                out += term
        return out

    def transpose(self, g, axis: int):
        """The adjoint of `apply`: sums each output's share back onto the inputs it read.
        Works with `axis` moved first, where the scattered slices are contiguous blocks."""
        front = np.ascontiguousarray(np.moveaxis(g, axis, 0))
        out = np.zeros((self.size,) + front.shape[1:], g.dtype)
        wshape = (-1,) + (1,) * (g.ndim - 1)
        for scatter, weight in zip(self.scatters, self.weight):
            scatter.add(front * weight.reshape(wshape), out)
        return np.moveaxis(out, 0, axis)


@functools.lru_cache(maxsize=256)
def _linear_taps(in_size: int, out_size: int, half_pixel: bool, align_corners: bool) -> tuple:
    """(lower, upper, lerp, taps) for bilinear sampling along one axis."""
    scale = _scale(in_size, out_size, align_corners)
    o = np.arange(out_size, dtype=_F32)
    where = (o + _F32(0.5)) * scale - _F32(0.5) if half_pixel else o * scale
    floor = np.floor(where)
    lower = np.maximum(floor.astype(np.int64), 0)
    upper = np.minimum(np.ceil(where).astype(np.int64), in_size - 1)
    lerp = (where - floor).astype(_F32)
    taps = _Taps(np.stack([lower, upper]), np.stack([_F32(1) - lerp, lerp]), in_size)
    return _read_only(lower, upper, lerp) + (taps,)


@functools.lru_cache(maxsize=256)
def _nearest_taps(in_size: int, out_size: int, half_pixel: bool, align_corners: bool) -> tuple:
    """(source index, its scatter plan) for nearest-neighbor sampling along one axis."""
    scale = _scale(in_size, out_size, align_corners)
    o = np.arange(out_size, dtype=_F32)
    where = (o + _F32(0.5)) * scale if half_pixel else o * scale
    index = np.round(where) if align_corners else np.floor(where)
    index = np.minimum(index.astype(np.int64), in_size - 1)
    if half_pixel:
        index = np.maximum(index, 0)
    return _read_only(index) + (_Scatter(index, in_size),)


# Keys' cubic convolution (a = -0.5), tabulated as TensorFlow's bicubic kernel does.
_TABLE_SIZE = 1024


@functools.lru_cache(maxsize=1)
def _keys_table() -> np.ndarray:
    a = _F32(-0.5)
    x = np.arange(_TABLE_SIZE + 1, dtype=_F32) / _F32(_TABLE_SIZE)
    near = ((a + _F32(2)) * x - (a + _F32(3))) * x * x + _F32(1)
    far_x = x + _F32(1)
    far = ((a * far_x - _F32(5) * a) * far_x + _F32(8) * a) * far_x - _F32(4) * a
    return np.stack([near, far], axis=1).astype(_F32)


def _bicubic_matrix(in_size: int, out_size: int) -> np.ndarray:
    table = _keys_table()
    scale = _scale(in_size, out_size, False)
    where = (np.arange(out_size, dtype=_F32) + _F32(0.5)) * scale - _F32(0.5)
    base = np.floor(where)
    offset = np.rint((where - base) * _F32(_TABLE_SIZE)).astype(np.int64)
    base = base.astype(np.int64)
    taps = [(base - 1, table[offset, 1]), (base, table[offset, 0]),
            (base + 1, table[_TABLE_SIZE - offset, 0]), (base + 2, table[_TABLE_SIZE - offset, 1])]
    weights = np.stack([np.where((i >= 0) & (i < in_size), w, _F32(0)) for i, w in taps], axis=1)
    total = weights.sum(axis=1, dtype=_F32)
    ok = np.abs(total) >= _F32(1000) * np.finfo(_F32).tiny
    weights[ok] *= (_F32(1) / total[ok])[:, None]
    matrix = np.zeros((out_size, in_size), _F32)
    rows = np.arange(out_size)
    for k, (i, _) in enumerate(taps):
        np.add.at(matrix, (rows, np.clip(i, 0, in_size - 1)), weights[:, k])
    return matrix


def _area_matrix(in_size: int, out_size: int) -> np.ndarray:
    scale = _scale(in_size, out_size, False)
    matrix = np.zeros((out_size, in_size), _F32)
    for o in range(out_size):
        lo, hi = _F32(o) * scale, _F32(o + 1) * scale
        for i in range(int(math.floor(lo)), int(math.ceil(hi))):
            if i < lo:
                part = scale if i + 1 > hi else _F32(i + 1) - lo
            else:
                part = hi - _F32(i) if i + 1 > hi else _F32(1)
            matrix[o, min(i, in_size - 1)] += part / scale
    return matrix


def _triangle(x):
    return np.maximum(_F32(1) - x, _F32(0))


def _keys_cubic(x):
    inner = ((_F32(1.5) * x - _F32(2.5)) * x) * x + _F32(1)
    outer = ((_F32(-0.5) * x + _F32(2.5)) * x - _F32(4)) * x + _F32(2)
    return np.where(x >= 2, _F32(0), np.where(x >= 1, outer, inner))


def _mitchell_cubic(x):
    inner = ((_F32(7 / 6) * x - _F32(2)) * x) * x + _F32(8 / 9)
    outer = ((_F32(-7 / 18) * x + _F32(2)) * x - _F32(10 / 3)) * x + _F32(16 / 9)
    return np.where(x >= 2, _F32(0), np.where(x >= 1, outer, inner))


def _lanczos(radius):
    def kernel(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            value = (_F32(radius) * np.sin(_F32(np.pi) * x) * np.sin(_F32(np.pi) * x / _F32(radius))
                     / (_F32(np.pi * np.pi) * x * x))
        return np.where(x > radius, _F32(0), np.where(x <= _F32(1e-3), _F32(1), value))
    return kernel


def _gaussian(x):
    radius, sigma = _F32(1.5), _F32(0.5)
    return np.where(x >= radius, _F32(0), np.exp(-x * x / (_F32(2) * sigma * sigma)))


# kernel name -> (function of |distance|, radius)
_KERNELS = {
    "triangle": (_triangle, 1.0), "keyscubic": (_keys_cubic, 2.0),
    "mitchellcubic": (_mitchell_cubic, 2.0), "lanczos3": (_lanczos(3), 3.0),
    "lanczos5": (_lanczos(5), 5.0), "gaussian": (_gaussian, 1.5),
}


def _scale_translate_matrix(in_size: int, out_size: int, kernel_type: str,
                            antialias: bool) -> np.ndarray:
    fn, radius = _KERNELS[kernel_type]
    scale = _F32(out_size) / _F32(in_size)
    inv_scale = _F32(1) / scale
    kernel_scale = max(inv_scale, _F32(1)) if antialias else _F32(1)
    reach = _F32(radius) * kernel_scale
    matrix = np.zeros((out_size, in_size), _F32)
    for o in range(out_size):
        sample = (_F32(o) + _F32(0.5)) * inv_scale
        if sample < 0 or sample > in_size:
            continue
        start = min(max(int(math.ceil(sample - reach - _F32(0.5))), 0), in_size - 1)
        end = min(max(int(math.floor(sample + reach - _F32(0.5))), 0), in_size - 1) + 1
        source = np.arange(start, end, dtype=_F32)
        weights = fn(np.abs((source + _F32(0.5) - sample) * (_F32(1) / kernel_scale))).astype(_F32)
        total = weights.sum(dtype=_F32)
        if abs(total) >= 1000 * np.finfo(_F32).tiny:
            weights = weights * (_F32(1) / total)
        matrix[o, start:end] = weights
    return matrix


@functools.lru_cache(maxsize=256)
def _separable_taps(method: str, in_size: int, out_size: int, antialias: bool) -> _Taps:
    """The taps of a method along one axis, from its (out x in) weight matrix: output o reads
    the columns first[o] .. first[o] + T - 1 (weight 0 past its span)."""
    if method == "bicubic":
        m = _bicubic_matrix(in_size, out_size)
    elif method == "area":
        m = _area_matrix(in_size, out_size)
    else:
        m = _scale_translate_matrix(in_size, out_size, method, antialias)
    nonzero = m != 0
    first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), 0)
    last = np.where(nonzero.any(axis=1), in_size - 1 - nonzero[:, ::-1].argmax(axis=1), 0)
    count = int((last - first).max()) + 1 if out_size else 1
    columns = first[None, :] + np.arange(count)[:, None]
    inside = columns <= last[None, :]
    index = np.minimum(columns, in_size - 1)
    weight = np.where(inside, m[np.arange(out_size)[None, :], index], _F32(0)).astype(_F32)
    return _Taps(index, weight, in_size)


# -- kernels -----------------------------------------------------------------------------------
def _check_sizes(op_name: str, images_shape: tuple, size) -> tuple:
    if np.shape(size) != (2,):
        raise op_error(InvalidArgumentError, op_name,
                       f"shape_t must have two elements {list(np.shape(size))}")
    out_h, out_w = int(size[0]), int(size[1])
    if len(images_shape) != 4:
        raise op_error(InvalidArgumentError, op_name,
                       f"input must be 4-dimensional{list(images_shape)}")
    if out_h <= 0 or out_w <= 0:
        raise op_error(InvalidArgumentError, op_name, "output dimensions must be positive")
    if images_shape[1] <= 0 or images_shape[2] <= 0:
        raise op_error(InvalidArgumentError, op_name, "input image must be of non-zero size")
    return out_h, out_w


def _gather_lerp(a, lower, upper, lerp, axis):
    """a[lower] + (a[upper] - a[lower]) * lerp along `axis` (TensorFlow's order of operations)."""
    low = a.take(lower, axis=axis)
    high = a.take(upper, axis=axis)
    high -= low
    high *= lerp.reshape([-1] + [1] * (a.ndim - 1 - axis))
    high += low
    return high


def _bilinear_forward(images, size, half_pixel_centers=True, align_corners=False):
    out_h, out_w = _check_sizes("ResizeBilinear", images.shape, size)
    _, h, w, _ = images.shape
    ys = _linear_taps(h, out_h, half_pixel_centers, align_corners)
    xs = _linear_taps(w, out_w, half_pixel_centers, align_corners)
    x = images.astype(_F32, copy=False)
    if 2 * out_h < h:  # fewer rows to interpolate across if rows are gathered first
        return _gather_lerp(_gather_lerp(x, *ys[:3], 1), *xs[:3], 2)
    return _gather_lerp(_gather_lerp(x, *xs[:3], 2), *ys[:3], 1)


def _bilinear_grad_forward(grads, original_image, half_pixel_centers=True, align_corners=False):
    _, h, w, _ = original_image.shape
    out_h, out_w = grads.shape[1:3]
    rows = _linear_taps(h, out_h, half_pixel_centers, align_corners)[3]
    cols = _linear_taps(w, out_w, half_pixel_centers, align_corners)[3]
    g = grads.astype(_F32, copy=False)
    if 2 * out_h < h:  # the smaller intermediate first
        dx = rows.transpose(cols.transpose(g, 2), 1)
    else:
        dx = cols.transpose(rows.transpose(g, 1), 2)
    return np.ascontiguousarray(dx, dtype=original_image.dtype)


def _nearest_forward(images, size, half_pixel_centers=True, align_corners=False):
    out_h, out_w = _check_sizes("ResizeNearestNeighbor", images.shape, size)
    _, h, w, _ = images.shape
    rows = _nearest_taps(h, out_h, half_pixel_centers, align_corners)[0]
    cols = _nearest_taps(w, out_w, half_pixel_centers, align_corners)[0]
    return images.take(rows, axis=1).take(cols, axis=2)


def _nearest_grad_forward(grads, original_image, half_pixel_centers=True, align_corners=False):
    _, h, w, _ = original_image.shape
    out_h, out_w = grads.shape[1:3]
    rows = _nearest_taps(h, out_h, half_pixel_centers, align_corners)[1]
    cols = _nearest_taps(w, out_w, half_pixel_centers, align_corners)[1]
    work = grads.astype(_F32) if grads.dtype.itemsize < 4 else grads
    out = work
    for scatter, axis, size in ((rows, 1, h), (cols, 2, w)):
        front = np.ascontiguousarray(np.moveaxis(out, axis, 0))
        summed = np.zeros((size,) + front.shape[1:], work.dtype)
        scatter.add(front, summed)
        out = np.moveaxis(summed, 0, axis)
    return np.ascontiguousarray(out, dtype=original_image.dtype)


def _separable_forward(images, size, method="bicubic", antialias=False, op_name="ResizeBicubic"):
    out_h, out_w = _check_sizes(op_name, images.shape, size)
    _, h, w, _ = images.shape
    x = images.astype(_F32, copy=False)
    rows = _separable_taps(method, h, out_h, antialias)
    cols = _separable_taps(method, w, out_w, antialias)
    return cols.apply(rows.apply(x, 1), 2)


def _separable_grad_forward(grads, original_image, method="bicubic", antialias=False,
                            op_name="ResizeBicubicGrad"):
    _, h, w, _ = original_image.shape
    out_h, out_w = grads.shape[1:3]
    g = grads.astype(_F32, copy=False)
    rows = _separable_taps(method, h, out_h, antialias)
    cols = _separable_taps(method, w, out_w, antialias)
    dx = rows.transpose(cols.transpose(g, 2), 1)
    return np.ascontiguousarray(dx, dtype=original_image.dtype)


# -- primitives --------------------------------------------------------------------------------
def _resized_spec(images, size, keep_dtype: bool) -> TensorSpec:
    dims = images.shape.as_list() if images.shape.rank is not None else [None] * 4
    if size.value is not None and np.shape(size.value) == (2,):
        out_h, out_w = (int(v) for v in size.value)
    else:
        out_h = out_w = None
    return TensorSpec(TensorShape([dims[0], out_h, out_w, dims[3]]),
                      images.dtype if keep_dtype else dtypes.float32)


def _resize_family(name: str, forward, backward, keep_dtype: bool = False, **fixed):
    """A resize primitive and its gradient primitive (linear in the gradient; the gradient's own
    gradient is the resize again, to the gradient's size)."""

    def grad(op, dy):
        return execute(grad_prim, (dy, op.inputs[0]), op.attrs), None

    def grad_grad(op, g):
        size = array_ops.strided_slice(array_ops.shape(op.inputs[0]), [1], [3])
        return execute(resize_prim, (g, size), op.attrs), None

    resize_prim = primitive(name, functools.partial(forward, **fixed) if fixed else forward, grad,
                            lambda images, size, **attrs: _resized_spec(images, size, keep_dtype))
    grad_prim = primitive(name + "Grad",
                          functools.partial(backward, **fixed) if fixed else backward, grad_grad,
                          lambda grads, original, **attrs: TensorSpec(original.shape,
                                                                      original.dtype))
    return resize_prim, grad_prim


RESIZE_BILINEAR, RESIZE_BILINEAR_GRAD = _resize_family(
    "ResizeBilinear", _bilinear_forward, _bilinear_grad_forward)
RESIZE_NEAREST_NEIGHBOR, RESIZE_NEAREST_NEIGHBOR_GRAD = _resize_family(
    "ResizeNearestNeighbor", _nearest_forward, _nearest_grad_forward, keep_dtype=True)
RESIZE_BICUBIC, RESIZE_BICUBIC_GRAD = _resize_family(
    "ResizeBicubic", _separable_forward, _separable_grad_forward, op_name="ResizeBicubic")
RESIZE_AREA, RESIZE_AREA_GRAD = _resize_family(
    "ResizeArea", _separable_forward, _separable_grad_forward, op_name="ResizeArea")
SCALE_AND_TRANSLATE, SCALE_AND_TRANSLATE_GRAD = _resize_family(
    "ScaleAndTranslate", _separable_forward, _separable_grad_forward, op_name="ScaleAndTranslate")

_SCALE_AND_TRANSLATE_METHODS = ("lanczos3", "lanczos5", "gaussian", "mitchellcubic")


def _aspect_preserving_size(images, size):
    """The largest size within `size` with the images' aspect ratio (TensorFlow's rounding)."""
    shape = math_ops.cast(array_ops.strided_slice(array_ops.shape(images), [1], [3]),
                          dtypes.float32)
    ratios = math_ops.divide(math_ops.cast(size, dtypes.float32), shape)
    factor = math_ops.minimum(array_ops.strided_slice(ratios, [0], [1]),
                              array_ops.strided_slice(ratios, [1], [2]))
    return math_ops.cast(math_ops.round(math_ops.multiply(shape, factor)), dtypes.int32)


def resize(images, size, method=ResizeMethod.BILINEAR, preserve_aspect_ratio=False,
           antialias=False, name=None):
    """Resizes a 4-D [batch, height, width, channels] or 3-D image tensor to `size` (TF2 semantics:
    half-pixel centers; float32 output except for nearest, which keeps the dtype)."""
    images = convert_to_tensor(images)
    rank = images.shape.rank
    if rank is None:
        raise ValueError("'images' contains no shape.")
    if rank not in (3, 4):
        raise ValueError("'images' must have either 3 or 4 dimensions.")
    try:
        size = convert_to_tensor(size, dtypes.int32)
    except (TypeError, ValueError):
        raise ValueError("'size' must be a 1-D int32 Tensor") from None
    if not size.shape.is_compatible_with([2]):
        raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
    if method == ResizeMethod.BILINEAR:
        prim, attrs = (SCALE_AND_TRANSLATE, {"method": "triangle", "antialias": True}) \
            if antialias else (RESIZE_BILINEAR, {"half_pixel_centers": True,
                                                 "align_corners": False})
    elif method == ResizeMethod.NEAREST_NEIGHBOR:
        prim, attrs = RESIZE_NEAREST_NEIGHBOR, {"half_pixel_centers": True,
                                                "align_corners": False}
    elif method == ResizeMethod.BICUBIC:
        prim, attrs = (SCALE_AND_TRANSLATE, {"method": "keyscubic", "antialias": True}) \
            if antialias else (RESIZE_BICUBIC, {"method": "bicubic", "antialias": False})
    elif method == ResizeMethod.AREA:
        prim, attrs = RESIZE_AREA, {"method": "area", "antialias": False}
    elif method in _SCALE_AND_TRANSLATE_METHODS:
        prim, attrs = SCALE_AND_TRANSLATE, {"method": method, "antialias": bool(antialias)}
    else:
        raise ValueError(f"Resize method is not implemented: {method}")
    if images._dtype._enum not in _RESIZE_TYPES:
        raise unsupported_dtype(prim.name, images._dtype)
    if rank == 3:
        images = array_ops.expand_dims(images, 0)
    if preserve_aspect_ratio:
        size = _aspect_preserving_size(images, size)
    out = execute(prim, (images, size), attrs)
    return array_ops.squeeze(out, [0]) if rank == 3 else out
