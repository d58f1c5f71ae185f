"""Convolution layers (Keras 3 behaviour): Conv1D/2D/3D (groups; "causal" for Conv1D),
Conv1D/2D/3DTranspose (output_padding), DepthwiseConv1D/2D (depth_multiplier),
SeparableConv1D/2D (depthwise then pointwise).

Weights have Keras's names, shapes and order, so Keras weight files load: `kernel`
(kernel_size + (in_channels // groups, filters)) and `bias` (filters,); a transposed
convolution's kernel is kernel_size + (filters, in_channels); a depthwise kernel is
kernel_size + (in_channels, depth_multiplier); a separable layer has `depthwise_kernel`,
`pointwise_kernel` (1, ..., 1, in_channels * depth_multiplier, filters) and `bias`.
The arithmetic runs in the tf.nn kernels (tensorweave/ops/conv_ops.py), called with TensorFlow's
signatures as Keras's TensorFlow backend calls them.
"""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras import activations, constraints, initializers, regularizers
from tensorweave.keras.engine.backend_config import standardize_data_format
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers import conv_utils as cu
from tensorweave.keras.layers.weight_options import set_weight_options


def _conv_ops():
    from tensorweave.ops import conv_ops
    return conv_ops


def _read(layer, variable):
    """A weight read in the layer's compute dtype (mixed precision keeps float32 weights)."""
    if variable.dtype.name != layer.compute_dtype and variable.dtype.is_floating:
        return tf.cast(variable, layer.compute_dtype)
    return variable


def _no_lora(lora_rank) -> None:
    if lora_rank:
        raise NotImplementedError("tensorweave's convolution layers do not implement LoRA "
                                  "(`lora_rank`).")


def _filters(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) and \
            not hasattr(value, "__index__"):
        raise TypeError(f"Invalid type for argument `filters`: expected an int. Received "
                        f"filters={value!r}")
    if int(value) <= 0:
        raise ValueError("Invalid value for argument `filters`. Expected a strictly positive "
                         f"value. Received filters={value}.")
    return int(value)


def _input_channels(layer, input_shape):
    channels = cu.channels_of(input_shape, layer.data_format)
    if channels is None:
        raise ValueError("The channel dimension of the inputs should be defined. The input_shape "
                         f"received is {tuple(input_shape)}, where axis "
                         f"{-1 if layer.data_format == 'channels_last' else 1} (0-based) is the "
                         "channel dimension, which found to be `None`.")
    return int(channels)


def _check_strides_dilation(strides, dilation_rate) -> None:
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                         f"Received: strides={strides} and dilation_rate={dilation_rate}")


def _add_bias(layer, outputs, bias):
    bias = _read(layer, bias)
    if layer.data_format == "channels_last":
        return outputs + bias
    return outputs + tf.reshape(bias, (-1,) + (1,) * layer.rank)


def _common_config(layer) -> dict:
    return {"kernel_size": layer.kernel_size, "strides": layer.strides,
            "padding": layer.padding, "data_format": layer.data_format,
            "dilation_rate": layer.dilation_rate}


def _set_geometry(layer, rank, kernel_size, strides, padding, data_format, dilation_rate,
                  activation, use_bias, allow_causal=False) -> None:
    """The arguments every convolution layer standardizes the same way."""
    layer.rank = rank
    layer.kernel_size = cu.standardize_tuple(kernel_size, rank, "kernel_size")
    layer.strides = cu.standardize_tuple(strides, rank, "strides")
    layer.dilation_rate = cu.standardize_tuple(dilation_rate, rank, "dilation_rate")
    layer.padding = cu.standardize_padding(padding, allow_causal=allow_causal)
    layer.data_format = standardize_data_format(data_format)
    layer.activation = activations.get(activation)
    layer.use_bias = use_bias


def _channel_axis(layer) -> int:
    return -1 if layer.data_format == "channels_last" else 1


class BaseConv(Layer):
    """An N-d convolution (cross-correlation) + bias + activation; Conv1D/2D/3D set `rank`."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        _no_lora(lora_rank)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = _filters(filters)
        self.groups = groups
        _set_geometry(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                      activation, use_bias, allow_causal=rank == 1)
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.input_spec = InputSpec(min_ndim=rank + 2)
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError("The number of groups must be a positive integer. Received: "
                             f"groups={groups}.")
        if self.filters is not None and self.filters % groups:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={groups}, filters={self.filters}.")
        _check_strides_dilation(self.strides, self.dilation_rate)
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        channels = _input_channels(self, input_shape)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={_channel_axis(self): channels})
        if channels % self.groups:
            raise ValueError("The number of input channels must be evenly divisible by the "
                             f"number of groups. Received groups={self.groups}, but the input "
                             f"has {channels} channels (full input shape is "
                             f"{tuple(input_shape)}).")
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (channels // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def convolution_op(self, inputs, kernel, padding=None):
        """The convolution of `inputs` with `kernel` (no bias, no activation)."""
        return _conv_ops().convolution(
            inputs, kernel, strides=list(self.strides),
            padding=(padding or self.padding).upper(),
            data_format=cu.tf_data_format(self.data_format, self.rank),
            dilations=list(self.dilation_rate))

    def call(self, inputs):
        outputs = self.convolution_op(inputs, _read(self, self.kernel))
        if self.use_bias:
            outputs = _add_bias(self, outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return cu.conv_output_shape(input_shape, self.filters, self.kernel_size, self.strides,
                                    self.padding, self.data_format, self.dilation_rate)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, **_common_config(self),
                "groups": self.groups,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class Conv1D(BaseConv):
    """1-D convolution over steps: `(batch, steps, channels)` -> `(batch, new_steps, filters)`.
    `padding="causal"` pads `dilation_rate * (kernel_size - 1)` zeros at the start only, so
    output step t sees inputs up to t."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)

    def call(self, inputs):
        padding = None
        if self.padding == "causal":
            left = self.dilation_rate[0] * (self.kernel_size[0] - 1)
            pads = [[0, 0], [left, 0], [0, 0]] if self.data_format == "channels_last" \
                else [[0, 0], [0, 0], [left, 0]]
            inputs = tf.pad(inputs, pads)
            padding = "valid"
        outputs = self.convolution_op(inputs, _read(self, self.kernel), padding)
        if self.use_bias:
            outputs = _add_bias(self, outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs


class Conv2D(BaseConv):
    """2-D convolution over images: `(batch, h, w, channels)` -> `(batch, h', w', filters)`."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)


class Conv3D(BaseConv):
    """3-D convolution over volumes: `(batch, d, h, w, channels)` -> `(batch, d', h', w',
    filters)`."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(3, filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)


# -- transposed convolutions -------------------------------------------------------------------

class BaseConvTranspose(Layer):
    """The gradient of a convolution with respect to its input, used as a layer: each input
    position spreads `kernel`-weighted copies over a `strides`-spaced output grid."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = _filters(filters)
        _set_geometry(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                      activation, use_bias)
        self.output_padding = None if output_padding is None else cu.standardize_tuple(
            output_padding, rank, "output_padding", allow_zero=True)
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.input_spec = InputSpec(min_ndim=rank + 2)
        if self.output_padding is not None:
            for i, (extra, stride) in enumerate(zip(self.output_padding, self.strides)):
                if extra >= stride:
                    raise ValueError(
                        "`output_padding` must be strictly less than `strides` for all "
                        f"dimensions. At dimension {i}, `output_padding` is {extra} but "
                        f"`strides` is {stride}. Received: output_padding="
                        f"{self.output_padding}, strides={self.strides}")
        _check_strides_dilation(self.strides, self.dilation_rate)
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        channels = _input_channels(self, input_shape)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={_channel_axis(self): channels})
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (self.filters, channels),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def _output_dims(self, input_dims) -> list:
        """The full output shape for input dims (ints, or tensors where unknown)."""
        spatial = cu.spatial_dims(input_dims, self.data_format)
        extras = self.output_padding or (None,) * self.rank
        out = [cu.conv_transpose_length(n, k, s, self.padding, e, d) for n, k, s, e, d in zip(
            spatial, self.kernel_size, self.strides, extras, self.dilation_rate)]
        return list(cu.assemble(input_dims[0], out, self.filters, self.data_format))

    def call(self, inputs):
        output_shape = self._output_dims(cu.dynamic_shape(inputs))
        if self.data_format == "channels_last":
            strides = [1, *self.strides, 1]
            dilations = [1, *self.dilation_rate, 1]
        else:
            strides = [1, 1, *self.strides]
            dilations = [1, 1, *self.dilation_rate]
        op = getattr(_conv_ops(), f"conv{self.rank}d_transpose")
        outputs = op(inputs, _read(self, self.kernel), output_shape, strides,
                     padding=self.padding.upper(),
                     data_format=cu.tf_data_format(self.data_format, self.rank),
                     dilations=dilations)
        if self.use_bias:
            outputs = _add_bias(self, outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return tuple(self._output_dims(tuple(input_shape)))

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "output_padding": self.output_padding,
                "data_format": self.data_format, "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class Conv1DTranspose(BaseConvTranspose):
    """Transposed 1-D convolution (sometimes called deconvolution)."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, filters, kernel_size, strides=strides, padding=padding,
                         output_padding=output_padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)


class Conv2DTranspose(BaseConvTranspose):
    """Transposed 2-D convolution: the layer that undoes Conv2D's shape change."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, filters, kernel_size, strides=strides, padding=padding,
                         output_padding=output_padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)


class Conv3DTranspose(BaseConvTranspose):
    """Transposed 3-D convolution (Keras puts `data_format` before `output_padding` here)."""

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, output_padding=None, dilation_rate=(1, 1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(3, filters, kernel_size, strides=strides, padding=padding,
                         output_padding=output_padding, data_format=data_format,
                         dilation_rate=dilation_rate, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)


# -- depthwise and separable convolutions ------------------------------------------------------

def _depthwise(layer, inputs, depthwise_kernel, pointwise_kernel=None):
    """A depthwise convolution of `inputs` (then a pointwise one if given), for 1 or 2 spatial
    dims, as Keras's TensorFlow backend computes it: 1-D runs as 2-D with a unit height; strides
    > 1 together with dilations > 1 (which tf.nn refuses) run as a stride-1 dilated convolution
    of the SAME-padded input, subsampled."""
    conv_ops = _conv_ops()
    channels_last = layer.data_format == "channels_last"
    strides, dilations = tuple(layer.strides), tuple(layer.dilation_rate)
    if layer.rank == 1:
        inputs = tf.expand_dims(inputs, 1 if channels_last else 2)
        depthwise_kernel = tf.expand_dims(depthwise_kernel, 0)
        if pointwise_kernel is not None:
            pointwise_kernel = tf.expand_dims(pointwise_kernel, 0)
        strides, dilations = (1,) + strides, (1,) + dilations
    padding = layer.padding.upper()
    decompose = max(strides) > 1 and max(dilations) > 1
    if decompose:
        if not channels_last:
            inputs = tf.transpose(inputs, (0, 2, 3, 1))
        if padding == "SAME":
            inputs = _pad_same(inputs, depthwise_kernel.shape.as_list()[:2], strides, dilations)
        outputs = conv_ops.depthwise_conv2d(inputs, depthwise_kernel, [1, 1, 1, 1], "VALID",
                                            data_format="NHWC", dilations=list(dilations))
        outputs = outputs[:, ::strides[0], ::strides[1], :]
        if pointwise_kernel is not None:
            outputs = conv_ops.conv2d(outputs, pointwise_kernel, [1, 1, 1, 1], "VALID",
                                      data_format="NHWC")
        if not channels_last:
            outputs = tf.transpose(outputs, (0, 3, 1, 2))
    else:
        full_strides = [1, *strides, 1] if channels_last else [1, 1, *strides]
        data_format = "NHWC" if channels_last else "NCHW"
        if pointwise_kernel is None:
            outputs = conv_ops.depthwise_conv2d(inputs, depthwise_kernel, full_strides, padding,
                                                data_format=data_format,
                                                dilations=list(dilations))
        else:
            outputs = conv_ops.separable_conv2d(inputs, depthwise_kernel, pointwise_kernel,
                                                full_strides, padding, data_format=data_format,
                                                dilations=list(dilations))
    if layer.rank == 1:
        outputs = tf.squeeze(outputs, [1 if channels_last else 2])
    return outputs


def _pad_same(inputs, kernel_size, strides, dilations):
    """`inputs` (NHWC) padded as TensorFlow's SAME padding pads for these strides (the odd
    pixel at the end)."""
    dims = cu.dynamic_shape(inputs)
    pads = [[0, 0]]
    for n, k, s, d in zip(dims[1:3], kernel_size, strides, dilations):
        effective = (k - 1) * d + 1
        if isinstance(n, int):
            total = max(((n + s - 1) // s - 1) * s + effective - n, 0)
            pads.append([total // 2, total - total // 2])
        else:
            total = tf.maximum(((n + s - 1) // s - 1) * s + effective - n, 0)
            pads.append(tf.stack([total // 2, total - total // 2]))
    pads.append([0, 0])
    if all(isinstance(p[0], int) for p in pads):
        return tf.pad(inputs, pads)
    return tf.pad(inputs, tf.stack([p if not isinstance(p, list) else tf.constant(p, tf.int32)
                                    for p in pads]))


def _positive_multiplier(value):
    if value is not None and value <= 0:
        raise ValueError("Invalid value for argument `depth_multiplier`. Expected a strictly "
                         f"positive value. Received depth_multiplier={value}.")
    return value


class BaseDepthwiseConv(Layer):
    """Each input channel convolved with its own `depth_multiplier` filters; the outputs are
    the channels' results side by side (`in_channels * depth_multiplier` channels)."""

    def __init__(self, rank, depth_multiplier, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = _positive_multiplier(depth_multiplier)
        _set_geometry(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                      activation, use_bias)
        set_weight_options(
            self, depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self.kernel = None
        self.bias = None

    def build(self, input_shape):
        channels = _input_channels(self, input_shape)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={_channel_axis(self): channels})
        self.compute_output_shape(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(channels * self.depth_multiplier,),
                initializer=self.bias_initializer, regularizer=self.bias_regularizer,
                constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        outputs = _depthwise(self, inputs, _read(self, self.kernel))
        if self.use_bias:
            outputs = _add_bias(self, outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        channels = cu.channels_of(input_shape, self.data_format)
        filters = None if channels is None else self.depth_multiplier * channels
        return cu.conv_output_shape(input_shape, filters, self.kernel_size, self.strides,
                                    self.padding, self.data_format, self.dilation_rate)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                **_common_config(self),
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class DepthwiseConv1D(BaseDepthwiseConv):
    """Depthwise 1-D convolution: each channel filtered separately."""

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(1, depth_multiplier, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class DepthwiseConv2D(BaseDepthwiseConv):
    """Depthwise 2-D convolution: each channel filtered separately."""

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(2, depth_multiplier, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         depthwise_initializer=depthwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class BaseSeparableConv(Layer):
    """A depthwise convolution followed by a 1x1 (pointwise) convolution mixing the channels
    into `filters` outputs."""

    def __init__(self, rank, depth_multiplier, filters, kernel_size, strides=1,
                 padding="valid", data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.depth_multiplier = _positive_multiplier(depth_multiplier)
        self.filters = _filters(filters)
        _set_geometry(self, rank, kernel_size, strides, padding, data_format, dilation_rate,
                      activation, use_bias)
        set_weight_options(
            self, depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            pointwise=(pointwise_initializer, pointwise_regularizer, pointwise_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self.depthwise_kernel = None
        self.pointwise_kernel = None
        self.bias = None

    def build(self, input_shape):
        channels = _input_channels(self, input_shape)
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={_channel_axis(self): channels})
        self.compute_output_shape(input_shape)
        self.depthwise_kernel = self.add_weight(
            name="depthwise_kernel", shape=self.kernel_size + (channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            name="pointwise_kernel",
            shape=(1,) * self.rank + (channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        if self.use_bias:
            self.bias = self.add_weight(
                name="bias", shape=(self.filters,), initializer=self.bias_initializer,
                regularizer=self.bias_regularizer, constraint=self.bias_constraint)
        self.built = True

    def call(self, inputs):
        outputs = _depthwise(self, inputs, _read(self, self.depthwise_kernel),
                             _read(self, self.pointwise_kernel))
        if self.use_bias:
            outputs = _add_bias(self, outputs, self.bias)
        if self.activation is not None:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape):
        return cu.conv_output_shape(input_shape, self.filters, self.kernel_size, self.strides,
                                    self.padding, self.data_format, self.dilation_rate)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "filters": self.filters, **_common_config(self),
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
                "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
                "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}


class SeparableConv1D(BaseSeparableConv):
    """Depthwise-separable 1-D convolution."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(1, depth_multiplier, filters, kernel_size, strides=strides,
                         padding=padding, data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


class SeparableConv2D(BaseSeparableConv):
    """Depthwise-separable 2-D convolution."""

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(2, depth_multiplier, filters, kernel_size, strides=strides,
                         padding=padding, data_format=data_format, dilation_rate=dilation_rate,
                         activation=activation, use_bias=use_bias,
                         depthwise_initializer=depthwise_initializer,
                         pointwise_initializer=pointwise_initializer,
                         bias_initializer=bias_initializer,
                         depthwise_regularizer=depthwise_regularizer,
                         pointwise_regularizer=pointwise_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         depthwise_constraint=depthwise_constraint,
                         pointwise_constraint=pointwise_constraint,
                         bias_constraint=bias_constraint, **kwargs)


# Keras's other names for the same classes.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
