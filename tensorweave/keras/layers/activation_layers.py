"""Activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax (Keras 3 behaviour)."""
from __future__ import annotations

import warnings

import tensorweave as tf
from tensorweave.keras import activations, constraints, initializers, regularizers
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.weight_options import set_weight_options


class ReLU(Layer):
    """`x` above `threshold` (capped at `max_value`), `negative_slope * (x - threshold)` below."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. Received: "
                             f"max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative value. "
                             f"Received: negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(Layer):
    """`x` where positive, `negative_slope * x` elsewhere (the old `alpha` argument is accepted
    with a deprecation warning)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError("The negative_slope value of a Leaky ReLU layer cannot be None or "
                             "negative value. Expected a float. Received: "
                             f"negative_slope={negative_slope}")
        self.negative_slope = negative_slope
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class PReLU(Layer):
    """Leaky ReLU with a learned slope `alpha` per input element (shared along `shared_axes`,
    1-based, the batch axis excluded)."""

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        set_weight_options(self, alpha=(alpha_initializer, alpha_regularizer, alpha_constraint))
        if shared_axes is None:
            self.shared_axes = None
        elif not isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [shared_axes]
        else:
            self.shared_axes = list(shared_axes)

    def build(self, input_shape):
        param_shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            param_shape[axis - 1] = 1
        self.alpha = self.add_weight(shape=param_shape, name="alpha",
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {}
        if self.shared_axes:
            for i in range(1, len(input_shape)):
                if i not in self.shared_axes:
                    axes[i] = input_shape[i]
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        alpha = self.alpha
        if alpha.dtype.name != self.compute_dtype:  # mixed precision: float32 weight
            alpha = tf.cast(alpha, self.compute_dtype)
        return activations.relu(inputs) - alpha * activations.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
                "alpha_constraint": constraints.serialize(self.alpha_constraint),
                "shared_axes": self.shared_axes}


class ELU(Layer):
    """`x` where positive, `alpha * (exp(x) - 1)` elsewhere. Like Keras 3 it has no get_config
    of its own: the config is made from the constructor's arguments (`alpha`)."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def compute_output_shape(self, input_shape):
        return input_shape


def _large_negative(dtype) -> float:
    return -3e4 if dtype == tf.float16 else -1e9


def _static_shape(x) -> tuple:
    shape = x.shape
    return tuple(shape.as_list()) if hasattr(shape, "as_list") else tuple(shape)


class Softmax(Layer):
    """Softmax over `axis` (an int or a tuple of axes). A `mask` (boolean, or numbers where
    > 0.5 keeps) broadcastable to the inputs leaves its False positions out: they get 0."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis
        self.supports_masking = True
        self.built = True

    def call(self, inputs, mask=None):
        if mask is not None:
            if not isinstance(mask, tf.Tensor):
                mask = tf.convert_to_tensor(mask)
            mask_shape, input_shape = _static_shape(mask), _static_shape(inputs)
            if len(mask_shape) > len(input_shape):
                raise ValueError("The `mask` must be broadcastable to `inputs` and must not have "
                                 f"more dimensions. Received: inputs.shape={input_shape}, "
                                 f"mask.shape={mask_shape}")
            for m, i in zip(mask_shape[::-1], input_shape[::-1]):
                if m is not None and i is not None and m != 1 and m != i:
                    raise ValueError("The `mask` must be broadcastable to `inputs`. Each mask "
                                     "dimension must be 1 or match the corresponding input "
                                     f"dimension. Received: inputs.shape={input_shape}, "
                                     f"mask.shape={mask_shape}")
            if mask.dtype != tf.bool:
                mask = tf.greater(mask, tf.cast(0.5, mask.dtype))
            inputs = tf.where(mask, inputs,
                              tf.cast(_large_negative(inputs.dtype), inputs.dtype))
        if isinstance(self.axis, (tuple, list)) and len(self.axis) > 1:
            outputs = tf.exp(inputs - tf.reduce_logsumexp(inputs, axis=list(self.axis),
                                                          keepdims=True))
        else:
            axis = self.axis[0] if isinstance(self.axis, (tuple, list)) else self.axis
            outputs = activations.softmax(inputs, axis=axis)
        if mask is not None:
            outputs = tf.where(mask, outputs, tf.zeros_like(outputs))
        return outputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
