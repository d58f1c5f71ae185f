"""keras.layers.GroupNormalization (Keras 3): the channels along `axis` are split into `groups`
groups; each sample is normalized over every axis but the batch axis within each group, then
scaled by `gamma` and shifted by `beta` (one per channel). Statistics in float32 at least."""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras import constraints, initializers, regularizers
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.weight_options import set_weight_options


class GroupNormalization(Layer):
    """Group normalization: `groups=-1` is instance normalization, `groups=1` layer norm over
    all non-batch axes."""

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.groups = groups
        self.axis = axis
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        set_weight_options(
            self, beta=(beta_initializer, beta_regularizer, beta_constraint),
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint))
        self.gamma = None
        self.beta = None

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined dimension "
                             f"but the layer received an input with shape {input_shape}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the number "
                             f"of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the number "
                             f"of channels ({dim}).")
        self.input_spec = InputSpec(ndim=len(input_shape), axes={self.axis: dim})
        if self.scale:
            self.gamma = self.add_weight(shape=(dim,), name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint, autocast=False)
        else:
            self.gamma = None
        if self.center:
            self.beta = self.add_weight(shape=(dim,), name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint, autocast=False)
        else:
            self.beta = None
        self.built = True

    def call(self, inputs):
        rank = inputs.shape.rank
        axis = self.axis % rank
        channels = inputs.shape[axis]
        per_group = channels // self.groups
        # (batch, ..., groups, channels // groups, ...): the group axis at `axis`.
        static = inputs.shape.as_list()
        if all(d is not None for d in static[1:]):
            grouped_shape = [-1] + static[1:axis] + [self.groups, per_group] + static[axis + 1:]
        else:
            sizes = tf.shape(inputs)
            grouped_shape = tf.stack(
                [-1] + [sizes[i] if static[i] is None else static[i] for i in range(1, axis)]
                + [self.groups, per_group]
                + [sizes[i] if static[i] is None else static[i]
                   for i in range(axis + 1, rank)])
        x = tf.reshape(inputs, grouped_shape)
        original = x.dtype
        if original in (tf.float16, tf.bfloat16):
            x = tf.cast(x, tf.float32)
        reduction_axes = [i for i in range(1, rank + 1) if i != axis]
        mean, variance = tf.nn.moments(x, axes=reduction_axes, keepdims=True)
        inv = tf.math.rsqrt(tf.add(variance, tf.cast(self.epsilon, x.dtype)))
        broadcast = [1] * (rank + 1)
        broadcast[axis], broadcast[axis + 1] = self.groups, per_group
        if self.scale:
            inv = tf.multiply(inv, tf.cast(tf.reshape(self.gamma, broadcast), x.dtype))
        shift = tf.multiply(tf.negative(mean), inv)
        if self.center:
            shift = tf.add(shift, tf.cast(tf.reshape(self.beta, broadcast), x.dtype))
        normalized = tf.add(tf.multiply(x, inv), shift)
        normalized = tf.cast(normalized, original)
        outputs = tf.reshape(normalized, [-1] + static[1:] if isinstance(grouped_shape, list)
                             else tf.shape(inputs))
        return tf.cast(outputs, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        axes = [self.axis] if isinstance(self.axis, int) else self.axis
        for axis in axes:
            if axis >= len(input_shape) or axis < -len(input_shape):
                raise ValueError(f"Axis {axis} is out of bounds for input shape {input_shape}. "
                                 f"Received: axis={self.axis}")
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "groups": self.groups, "axis": self.axis,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}
