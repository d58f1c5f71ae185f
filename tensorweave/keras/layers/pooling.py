"""Pooling layers (Keras 3 behaviour): MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and the
global poolings (GlobalMax/AveragePooling1D/2D/3D, `keepdims`), with Keras's aliases
(MaxPool2D, AvgPool2D, GlobalMaxPool2D, GlobalAvgPool2D...).

Window pooling runs in the tf.nn kernels (tensorweave/ops/pooling_ops.py). As in Keras,
`padding` is kept as given (only its upper-cased form reaches the kernel), `strides` defaults to
`pool_size`, and these layers are built when made (they have no weights).
"""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras.engine.backend_config import standardize_data_format
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers import conv_utils as cu


def _pooling_ops():
    from tensorweave.ops import pooling_ops
    return pooling_ops


class BasePooling(Layer):
    """Max or average pooling over `pool_dimensions` spatial dims."""

    def __init__(self, pool_size, strides, pool_dimensions, pool_mode="max", padding="valid",
                 data_format=None, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.pool_size = cu.standardize_tuple(pool_size, pool_dimensions, "pool_size")
        strides = pool_size if strides is None else strides
        self.strides = cu.standardize_tuple(strides, pool_dimensions, "strides",
                                            allow_zero=True)
        self.pool_mode = pool_mode
        self.padding = padding
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self._rank = pool_dimensions
        self.built = True

    def call(self, inputs):
        ops = _pooling_ops()
        if self.pool_mode == "max":
            op = (ops.max_pool1d, ops.max_pool2d, ops.max_pool3d)[self._rank - 1]
        elif self.pool_mode == "average":
            op = (ops.avg_pool1d, ops.avg_pool2d, ops.avg_pool3d)[self._rank - 1]
        else:
            raise ValueError("`pool_mode` must be either 'max' or 'average'. Received: "
                             f"{self.pool_mode}.")
        return op(inputs, list(self.pool_size), list(self.strides), str(self.padding).upper(),
                  data_format=cu.tf_data_format(self.data_format, self._rank))

    def compute_output_shape(self, input_shape):
        return cu.pooling_output_shape(input_shape, self.pool_size, self.strides, self.padding,
                                       self.data_format)

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "padding": self.padding,
                "strides": self.strides, "data_format": self.data_format}


class MaxPooling1D(BasePooling):
    """The maximum over windows of `pool_size` steps, every `strides` steps."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 1, "max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class MaxPooling2D(BasePooling):
    """The maximum over `pool_size` windows of an image, every `strides` pixels."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 2, "max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class MaxPooling3D(BasePooling):
    """The maximum over `pool_size` windows of a volume."""

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 name=None, **kwargs):
        super().__init__(pool_size, strides, 3, "max", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling1D(BasePooling):
    """The mean over windows of `pool_size` steps (SAME padding averages the real values)."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, 1, "average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling2D(BasePooling):
    """The mean over `pool_size` windows of an image."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, 2, "average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


class AveragePooling3D(BasePooling):
    """The mean over `pool_size` windows of a volume."""

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, name=None,
                 **kwargs):
        super().__init__(pool_size, strides, 3, "average", padding=padding,
                         data_format=data_format, name=name, **kwargs)


# -- global pooling ----------------------------------------------------------------------------

class BaseGlobalPooling(Layer):
    """A reduction over all the spatial dims (kept as size 1 with `keepdims=True`)."""

    _reduce = None

    def __init__(self, pool_dimensions, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=pool_dimensions + 2)
        self._rank = pool_dimensions
        self.built = True

    def _axes(self) -> list:
        start = 1 if self.data_format == "channels_last" else 2
        return list(range(start, start + self._rank))

    def call(self, inputs):
        return type(self)._reduce(inputs, axis=self._axes(), keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        channels = cu.channels_of(input_shape, self.data_format)
        spatial = (1,) * (len(input_shape) - 2) if self.keepdims else ()
        return cu.assemble(input_shape[0], spatial, channels, self.data_format)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalMaxPooling1D(BaseGlobalPooling):
    """The maximum over all steps: `(batch, steps, features)` -> `(batch, features)`."""

    _reduce = staticmethod(tf.reduce_max)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling2D(BaseGlobalPooling):
    """The maximum over height and width: `(batch, h, w, c)` -> `(batch, c)`."""

    _reduce = staticmethod(tf.reduce_max)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalMaxPooling3D(BaseGlobalPooling):
    """The maximum over the three spatial dims."""

    _reduce = staticmethod(tf.reduce_max)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling1D(BaseGlobalPooling):
    """The mean over all steps; with a mask (from Embedding(mask_zero=True) or Masking), the
    mean over the unmasked steps only. The output has no mask."""

    _reduce = staticmethod(tf.reduce_mean)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(1, data_format=data_format, keepdims=keepdims, **kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        steps_axis = 1 if self.data_format == "channels_last" else 2
        if mask is None:
            return tf.reduce_mean(inputs, axis=steps_axis, keepdims=self.keepdims)
        mask = tf.cast(tf.expand_dims(mask, 2 if self.data_format == "channels_last" else 1),
                       "bool")
        inputs = tf.where(mask, inputs, tf.zeros_like(inputs))
        weights = tf.cast(mask, inputs.dtype)
        return tf.reduce_sum(inputs, axis=steps_axis, keepdims=self.keepdims) / \
            tf.reduce_sum(weights, axis=steps_axis, keepdims=self.keepdims)

    def compute_mask(self, inputs, previous_mask=None):
        return None


class GlobalAveragePooling2D(BaseGlobalPooling):
    """The mean over height and width: `(batch, h, w, c)` -> `(batch, c)`."""

    _reduce = staticmethod(tf.reduce_mean)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(2, data_format=data_format, keepdims=keepdims, **kwargs)


class GlobalAveragePooling3D(BaseGlobalPooling):
    """The mean over the three spatial dims."""

    _reduce = staticmethod(tf.reduce_mean)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(3, data_format=data_format, keepdims=keepdims, **kwargs)


# Keras's other names for the same classes.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
