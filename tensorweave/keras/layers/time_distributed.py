"""keras.layers.Wrapper and keras.layers.TimeDistributed (Keras 3).

TimeDistributed applies one layer (the same weights) to every time step of inputs shaped
(batch, time, ...). Keras 3 calls the layer once per step; here the batch and time axes are
merged and the layer runs once on (batch * time, ...) — one BLAS call instead of `time` calls,
the same values for every layer whose output for a sample depends on that sample only. A layer
whose training-mode output depends on the whole batch (BatchNormalization inside) runs step by
step in training, as Keras does (each step's own batch statistics and moving-average update),
when the time axis is static.
"""
from __future__ import annotations

import inspect

import tensorweave as tf
from tensorweave.keras.engine.layer import Layer


class Wrapper(Layer):
    """Base class of layers that wrap another layer (`self.layer`)."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError(f"Layer {layer} supplied to Wrapper isn't a supported layer type. "
                             "Please ensure wrapped layer is a valid Keras layer.")
        super().__init__(**kwargs)
        self.layer = layer

    def build(self, input_shape=None):
        if not self.layer.built:
            self.layer.build(input_shape)
            self.layer._build_shapes = input_shape
            self.layer.built = True
        self.built = True

    def get_config(self) -> dict:
        from tensorweave.keras.saving.serialization import serialize_keras_object
        return {**super().get_config(), "layer": serialize_keras_object(self.layer)}

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        from tensorweave.keras.saving.serialization import deserialize_keras_object
        config = dict(config)
        layer = deserialize_keras_object(config.pop("layer"), custom_objects=custom_objects)
        return super().from_config({**config, "layer": layer})


def _batch_dependent(layer) -> bool:
    """True when the layer (or a sub-layer) mixes the samples of a batch in training."""
    from tensorweave.keras.layers.normalization import BatchNormalization
    return any(isinstance(l, BatchNormalization) for l in layer._flatten_layers())


def _call_parameters(layer) -> set:
    return set(inspect.signature(layer.call).parameters)


class TimeDistributed(Wrapper):
    """Applies `layer` to every temporal slice (axis 1) of the input."""

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer}")
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    def _get_child_input_shape(self, input_shape):
        if not isinstance(input_shape, (tuple, list)) or len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` with at "
                             f"least 3 dimensions, received: {input_shape}")
        return (input_shape[0], *input_shape[2:])

    def compute_output_shape(self, input_shape):
        child_output = tuple(self.layer.compute_output_shape(
            self._get_child_input_shape(tuple(input_shape))))
        return (child_output[0], input_shape[1], *child_output[1:])

    def build(self, input_shape):
        super().build(self._get_child_input_shape(input_shape))

    def _check_mask(self, inputs, mask) -> None:
        mask_shape = mask.shape.as_list() if mask.shape.rank is not None else None
        if mask_shape is None:
            return
        if len(mask_shape) < 2:
            raise ValueError("The `mask` passed to the `TimeDistributed` layer must be at least "
                             "2D (e.g., `(batch_size, timesteps)`), but it has "
                             f"{len(mask_shape)} dimension(s) with shape {tuple(mask_shape)}.")
        input_shape = inputs.shape.as_list()
        if any(a is not None and b is not None and a != b
               for a, b in zip(input_shape[:2], mask_shape[:2])):
            raise ValueError(f"The `mask` passed to the `TimeDistributed` layer has a shape "
                             f"{tuple(mask_shape)} that is incompatible with the input shape "
                             f"{tuple(input_shape)}. The first two dimensions of the mask (batch "
                             "size and timesteps) must match the input's first two dimensions. "
                             f"Expected mask shape prefix: ({input_shape[0]}, {input_shape[1]}).")

    def _inner_kwargs(self, training, mask):
        parameters = _call_parameters(self.layer)
        kwargs = {}
        if mask is not None and "mask" in parameters:
            kwargs["mask"] = mask
        if training is not None and "training" in parameters:
            kwargs["training"] = training
        return kwargs

    def call(self, inputs, training=None, mask=None):
        if mask is not None:
            self._check_mask(inputs, mask)
        static = inputs.shape.as_list()
        steps = static[1]
        if training and steps is not None and _batch_dependent(self.layer):
            outputs = [self.layer(inputs[:, i], **self._inner_kwargs(
                training, None if mask is None else mask[:, i])) for i in range(steps)]
            return tf.stack(outputs, axis=1)
        # (batch, time, ...) -> (batch * time, ...) -> layer -> (batch, time, ...)
        if all(d is not None for d in static[2:]):
            merged = tf.reshape(inputs, [-1] + static[2:])
        else:
            merged = tf.reshape(inputs, tf.concat([[-1], tf.shape(inputs)[2:]], 0))
        inner_mask = None
        if mask is not None:
            mask_static = mask.shape.as_list()
            if all(d is not None for d in mask_static[2:]):
                inner_mask = tf.reshape(mask, [-1] + mask_static[2:])
            else:
                inner_mask = tf.reshape(mask, tf.concat([[-1], tf.shape(mask)[2:]], 0))
        outputs = self.layer(merged, **self._inner_kwargs(training, inner_mask))
        out_static = outputs.shape.as_list()
        if static[1] is not None and all(d is not None for d in out_static[1:]):
            return tf.reshape(outputs, [-1, static[1]] + out_static[1:])
        sizes = tf.shape(inputs)
        return tf.reshape(outputs, tf.concat([sizes[:2], tf.shape(outputs)[1:]], 0))
