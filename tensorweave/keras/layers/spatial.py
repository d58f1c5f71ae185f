"""Spatial reshaping layers (Keras 3 behaviour): UpSampling1D/2D/3D (nearest: repeat each
pixel; UpSampling2D also "bilinear" and the other tf.image.resize methods), ZeroPadding1D/2D/3D,
Cropping1D/2D/3D. None of them has weights; they keep the input's dtype."""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras.engine.backend_config import standardize_data_format
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers import conv_utils as cu

_RESIZE_METHODS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")
_ORDINALS = ("1st", "2nd", "3rd")


def _image_ops():
    from tensorweave.ops import image_ops
    return image_ops


def _scaled(n, factor):
    return None if n is None else n * factor


def _spatial_offset(data_format) -> int:
    return 2 if data_format == "channels_first" else 1


def _pairs(value, n: int, what: str, symmetric_help: str, pairs_help: str):
    """An int, `n` ints or `n` pairs -> `n` (before, after) pairs (ZeroPadding/Cropping 2D/3D)."""
    if isinstance(value, int):
        if value < 0 and what == "cropping":
            raise ValueError(f"`cropping` cannot be negative. Received: cropping={value}.")
        return ((value, value),) * n
    if hasattr(value, "__len__"):
        if len(value) != n:
            if n == 2:
                raise ValueError(f"`{what}` should have two elements. Received: "
                                 f"{what}={value}.")
            raise ValueError(f"`{what}` should have 3 elements. Received: {value}.")
        return tuple(cu.standardize_tuple(v, 2, f"{_ORDINALS[i]} entry of {what}",
                                          allow_zero=True) for i, v in enumerate(value))
    suffix = f"{what}={value}" if n == 2 else f"{value}"
    raise ValueError(f"`{what}` should be either an int, a tuple of {n} ints "
                     f"({symmetric_help}), or a tuple of {n} tuples of 2 ints ({pairs_help}). "
                     f"Received: {suffix}.")


# -- up-sampling -------------------------------------------------------------------------------

class UpSampling1D(Layer):
    """Repeats each step `size` times: `(batch, steps, features)` -> `(batch, steps * size,
    features)`."""

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, int) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: "
                             f"size={size}")
        self.size = size
        self.input_spec = InputSpec(ndim=3)

    def call(self, inputs):
        return tf.repeat(inputs, self.size, axis=1)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0], _scaled(input_shape[1], self.size), input_shape[2])

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling2D(Layer):
    """Scales images up by integer factors `size`: "nearest" repeats the pixels; "bilinear"
    (and the other tf.image.resize methods) interpolates."""

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = cu.standardize_tuple(size, 2, "size")
        self.interpolation = interpolation.lower()
        self.input_spec = InputSpec(ndim=4)

    def call(self, inputs):
        if self.data_format == "channels_first":
            inputs = tf.transpose(inputs, (0, 2, 3, 1))
        if self.interpolation == "nearest":
            outputs = tf.repeat(inputs, self.size[0], axis=1)
            outputs = tf.repeat(outputs, self.size[1], axis=2)
        else:
            if self.interpolation not in _RESIZE_METHODS:
                raise ValueError("Invalid value for argument `interpolation`. Expected of one "
                                 f"{_RESIZE_METHODS}. Received: interpolation="
                                 f"{self.interpolation}")
            dims = cu.dynamic_shape(inputs)
            size = cu.as_shape_argument([dims[1] * self.size[0], dims[2] * self.size[1]])
            outputs = _image_ops().resize(inputs, size, method=self.interpolation)
            if outputs.dtype != inputs.dtype:     # back to the input dtype, as Keras does
                if inputs.dtype.is_integer:
                    outputs = tf.round(outputs)
                outputs = tf.saturate_cast(outputs, inputs.dtype)
        if self.data_format == "channels_first":
            outputs = tf.transpose(outputs, (0, 3, 1, 2))
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.data_format == "channels_first":
            return (input_shape[0], input_shape[1], _scaled(input_shape[2], self.size[0]),
                    _scaled(input_shape[3], self.size[1]))
        return (input_shape[0], _scaled(input_shape[1], self.size[0]),
                _scaled(input_shape[2], self.size[1]), input_shape[3])

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format,
                "interpolation": self.interpolation}


class UpSampling3D(Layer):
    """Repeats each voxel `size` times along each of the three spatial dims."""

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.size = cu.standardize_tuple(size, 3, "size")
        self.input_spec = InputSpec(ndim=5)

    def call(self, inputs):
        start = _spatial_offset(self.data_format)
        outputs = inputs
        for i, factor in enumerate(self.size):
            outputs = tf.repeat(outputs, factor, axis=start + i)
        return outputs

    def compute_output_shape(self, input_shape):
        input_shape = list(input_shape)
        start = _spatial_offset(self.data_format)
        for i, factor in enumerate(self.size):
            input_shape[start + i] = _scaled(input_shape[start + i], factor)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "data_format": self.data_format}


# -- zero padding ------------------------------------------------------------------------------

class _ZeroPadding(Layer):
    def _full_padding(self):
        if self.data_format == "channels_first":
            return [[0, 0], [0, 0], *map(list, self._pads)]
        return [[0, 0], *map(list, self._pads), [0, 0]]

    def call(self, inputs):
        return tf.pad(inputs, self._full_padding())

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        start = _spatial_offset(self.data_format)
        for i, (before, after) in enumerate(self._pads):
            if shape[start + i] is not None:
                shape[start + i] += before + after
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding,
                "data_format": self.data_format}


class ZeroPadding1D(_ZeroPadding):
    """Adds zeros at the start and end of the steps axis: `padding` = n or (before, after)."""

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = cu.standardize_tuple(padding, 2, "padding", allow_zero=True)
        self._pads = (self.padding,)
        self.input_spec = InputSpec(ndim=3)


class ZeroPadding2D(_ZeroPadding):
    """Adds rows and columns of zeros around images: `padding` = n, (h, w) or
    ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pairs(padding, 2, "padding",
                              "symmetric_height_crop, symmetric_width_crop",
                              "(top_crop, bottom_crop), (left_crop, right_crop)")
        self._pads = self.padding
        self.input_spec = InputSpec(ndim=4)


class ZeroPadding3D(_ZeroPadding):
    """Adds zeros around volumes: `padding` = n, (d1, d2, d3) or three (before, after) pairs."""

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = _pairs(padding, 3, "padding",
                              "symmetric_dim1_pad, symmetric_dim2_pad, symmetric_dim3_pad",
                              "(left_dim1_pad, right_dim1_pad), (left_dim2_pad, right_dim2_pad),"
                              " (left_dim3_pad, right_dim2_pad)")
        self._pads = self.padding
        self.input_spec = InputSpec(ndim=5)


# -- cropping ----------------------------------------------------------------------------------

def _crop(inputs, start: int, crops) -> object:
    """`inputs` with `crops` (before, after) removed along the dims from `start` on."""
    index = [slice(None)] * start
    for before, after in crops:
        index.append(slice(before, -after if after else None))
    return inputs[tuple(index)]


class Cropping1D(Layer):
    """Removes `cropping` = n or (before, after) steps at the start and end of the steps axis."""

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = cu.standardize_tuple(cropping, 2, "cropping", allow_zero=True)
        self.input_spec = InputSpec(ndim=3)

    def _check(self, shape, what):
        if shape[1] is not None and sum(self.cropping) >= shape[1]:
            raise ValueError("`cropping` parameter of `Cropping1D` layer must be smaller than "
                             f"the input length. Received: {what}={shape}, cropping="
                             f"{self.cropping}")

    def call(self, inputs):
        self._check(tuple(inputs.shape.as_list()), "inputs.shape")
        return _crop(inputs, 1, (self.cropping,))

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check(input_shape, "input_shape")
        length = None if input_shape[1] is None else input_shape[1] - sum(self.cropping)
        return (input_shape[0], length, input_shape[2])

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping}


class _Cropping(Layer):
    def _check(self, shape, what):
        start = _spatial_offset(self.data_format)
        for i, crop in enumerate(self.cropping):
            n = shape[start + i]
            if n is not None and sum(crop) >= n:
                raise ValueError("Values in `cropping` argument should be smaller than the "
                                 "corresponding spatial dimension of the input. Received: "
                                 f"{what}={shape}, cropping={self.cropping}")

    def call(self, inputs):
        self._check(tuple(inputs.shape.as_list()), "inputs.shape")
        return _crop(inputs, _spatial_offset(self.data_format), self.cropping)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check(input_shape, "input_shape")
        shape = list(input_shape)
        start = _spatial_offset(self.data_format)
        for i, crop in enumerate(self.cropping):
            if shape[start + i] is not None:
                shape[start + i] -= sum(crop)
        return tuple(shape)

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping,
                "data_format": self.data_format}


class Cropping2D(_Cropping):
    """Removes rows and columns at the borders of images: `cropping` = n, (h, w) or
    ((top, bottom), (left, right))."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = _pairs(cropping, 2, "cropping",
                               "symmetric_height_crop, symmetric_width_crop",
                               "(top_crop, bottom_crop), (left_crop, right_crop)")
        self.input_spec = InputSpec(ndim=4)


class Cropping3D(_Cropping):
    """Removes slices at the borders of volumes: `cropping` = n, (d1, d2, d3) or three
    (before, after) pairs."""

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.cropping = _pairs(cropping, 3, "cropping",
                               "symmetric_dim1_crop, symmetric_dim2_crop, symmetric_dim3_crop",
                               "(left_dim1_crop, right_dim1_crop), (left_dim2_crop, "
                               "right_dim2_crop), (left_dim3_crop, right_dim2_crop)")
        self.input_spec = InputSpec(ndim=5)
