"""The core layers: Dense, Activation, Identity, Lambda, Embedding, Masking (Keras 3 behaviour)."""
from __future__ import annotations

import inspect
import types
import warnings

import tensorweave as tf
from tensorweave.keras import activations, constraints, initializers, regularizers
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.keras_tensor import KerasTensor
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.weight_options import set_weight_options
from tensorweave.keras.saving import function_code, serialization
from tensorweave.util import nest


def _positive_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def _in_compute_dtype(layer, variable):
    """A weight read in the layer's compute dtype (mixed precision keeps float32 weights and
    computes in float16; the engine has no autocast scope yet, so layers cast the read)."""
    if variable.dtype.name != layer.compute_dtype and variable.dtype.is_floating:
        return tf.cast(variable, layer.compute_dtype)
    return variable


def _same_dtype_spec(inputs, shape_fn):
    """KerasTensors of the shapes `shape_fn` gives, keeping each input's dtype (layers that
    only move values around do not change the dtype)."""
    return nest.map_structure(lambda x: KerasTensor(shape_fn(tuple(x.shape)), x.dtype), inputs)


class Dense(Layer):
    """`activation(inputs @ kernel + bias)`; inputs of rank > 2 are multiplied on their last
    axis, so `(batch, d0, d1)` gives `(batch, d0, units)`."""

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        if hasattr(units, "__index__") and not isinstance(units, bool):
            units = int(units)
        if not isinstance(units, int) or units <= 0:
            raise ValueError("Received an invalid value for `units`, expected a positive "
                             f"integer. Received: units={units}")
        if lora_rank or quantization_config is not None:
            raise NotImplementedError("tensorweave's Dense does not implement LoRA or "
                                      "quantization (`lora_rank`, `quantization_config`).")
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = units
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.lora_rank = None
        self.lora_enabled = False
        self.quantization_config = None
        self.input_spec = InputSpec(min_ndim=2)
        self.supports_masking = True

    def build(self, input_shape):
        input_dim = input_shape[-1]
        self.kernel = self.add_weight(name="kernel", shape=(input_dim, self.units),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight(name="bias", shape=(self.units,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.input_spec = InputSpec(min_ndim=2, axes={-1: input_dim})
        self.built = True

    def call(self, inputs, training=None):
        if not inputs.dtype.is_floating:
            inputs = tf.cast(inputs, self.compute_dtype)
        x = tf.matmul(inputs, _in_compute_dtype(self, self.kernel))
        if self.bias is not None:
            x = x + _in_compute_dtype(self, self.bias)
        if self.activation is not None:
            x = self.activation(x)
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)[:-1] + (self.units,)

    def get_config(self):
        return {**super().get_config(),
                "units": self.units,
                "activation": activations.serialize(self.activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "quantization_config": None}


class Activation(Layer):
    """Applies an activation function (a name, a config or a callable)."""

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.activation = activations.get(activation)
        self.built = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Returns its inputs unchanged (a placeholder layer)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def compute_output_spec(self, inputs, *args, **kwargs):
        return _same_dtype_spec(inputs, lambda shape: shape)


# -- Lambda ------------------------------------------------------------------------------------

def _dump_function(fn) -> dict:
    code, defaults, closure = function_code.dump_function(fn)
    return {"class_name": "__lambda__",
            "config": {"code": code, "defaults": defaults, "closure": closure}}


def _is_lambda(fn) -> bool:
    return isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>"


def _is_dumped_lambda(config) -> bool:
    return isinstance(config, dict) and config.get("class_name") == "__lambda__"


def _serialize_function(fn):
    if _is_lambda(fn):
        return _dump_function(fn)
    if callable(fn):
        return serialization.serialize_keras_object(fn)
    raise ValueError(f"Invalid input type for serialization. Received: {fn} of type {type(fn)}.")


_UNSAFE_LAMBDA = ("Requested the deserialization of a `Lambda` layer whose `function` is a Python "
                  "lambda. This carries a potential risk of arbitrary code execution and thus it "
                  "is disallowed by default. If you trust the source of the artifact, you can "
                  "override this error by passing `safe_mode=False` to the loading function "
                  "(here: `Lambda.from_config(config, safe_mode=False)`).")


def _argument_names(fn) -> list:
    try:
        return inspect.getfullargspec(fn).args
    except TypeError:
        return []


class Lambda(Layer):
    """Wraps a function `function(inputs, **arguments)` as a layer.

    `output_shape` (without the batch axis, or a function of the full input shape) gives the
    symbolic output shape; without it the function is traced. `mask` is a tensor (the output
    mask) or a function `mask(inputs, previous_mask)`.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        self.arguments = arguments or {}
        self.function = function
        self.supports_masking = mask is not None
        self.mask = mask
        self._output_shape = output_shape
        names = _argument_names(function)
        self._fn_expects_training_arg = "training" in names
        self._fn_expects_mask_arg = "mask" in names

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_expects_mask_arg:
            kwargs["mask"] = mask
        if self._fn_expects_training_arg:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            try:
                return super().compute_output_shape(input_shape)
            except Exception:
                raise NotImplementedError(
                    "We could not automatically infer the shape of the Lambda's output. Please "
                    "specify the `output_shape` argument for this Lambda layer.") from None
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = _first_dim(input_shape)

        def with_batch(shape):
            if _is_shape_tuple(shape):
                return (batch,) + tuple(shape)
            if isinstance(shape, dict):
                return {k: with_batch(v) for k, v in shape.items()}
            return type(shape)(with_batch(s) for s in shape)

        return with_batch(self._output_shape)

    def get_config(self):
        config = {"function": _serialize_function(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = _serialize_function(self._output_shape) \
                if callable(self._output_shape) else self._output_shape
        if self.mask is not None:
            config["mask"] = _serialize_function(self.mask) if callable(self.mask) \
                else serialization.serialize_keras_object(self.mask)
        config["arguments"] = serialization.serialize_keras_object(self.arguments)
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None, safe_mode=None):
        """Rebuilds the layer. A Python lambda in the config is refused (ValueError) unless
        `safe_mode=False` is given, as Keras 3 does: loading it runs code from the file."""
        config = dict(config)
        if safe_mode is None:
            in_safe_mode = getattr(serialization, "in_safe_mode", None)
            safe_mode = in_safe_mode() if in_safe_mode is not None else True
        safe_mode = safe_mode is not False

        def load(value):
            if _is_dumped_lambda(value):
                if safe_mode:
                    raise ValueError(_UNSAFE_LAMBDA)
                return function_code.load_function(
                    value["config"], {**serialization.scoped_custom_objects(),
                                      **(custom_objects or {})})
            if isinstance(value, str) or (isinstance(value, dict) and "class_name" in value):
                return serialization.deserialize_keras_object(value,
                                                              custom_objects=custom_objects)
            return value

        config["function"] = load(config["function"])
        if "output_shape" in config:
            shape = load(config["output_shape"])
            if isinstance(shape, list) and _is_shape_tuple(shape):
                shape = tuple(shape)
            config["output_shape"] = shape
        if "mask" in config:
            config["mask"] = load(config["mask"])
        if "arguments" in config:
            config["arguments"] = {k: load(v) if isinstance(v, dict) else v
                                   for k, v in (config["arguments"] or {}).items()}
        return super().from_config(config)


def _first_dim(shape):
    while not _is_shape_tuple(shape):
        shape = next(iter(shape.values())) if isinstance(shape, dict) else shape[0]
    return shape[0] if len(shape) else None


def _is_shape_tuple(value) -> bool:
    return isinstance(value, (tuple, list)) and all(
        d is None or isinstance(d, int) for d in value)


# -- Embedding and Masking ----------------------------------------------------------------------

class Embedding(Layer):
    """Turns non-negative integer indices into dense vectors: row `i` of `embeddings`
    (`(input_dim, output_dim)`). Negative indices count from the end; float indices are cast to
    int32 (truncated); `mask_zero=True` masks index 0."""

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 **kwargs):
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not _positive_int(value):
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value} "
                                 f"(of type {type(value).__name__}).")
        if lora_rank or quantization_config is not None:
            raise NotImplementedError("tensorweave's Embedding does not implement LoRA or "
                                      "quantization (`lora_rank`, `quantization_config`).")
        if kwargs.pop("input_length", None) is not None:
            warnings.warn("Argument `input_length` is deprecated. Just remove it.", stacklevel=2)
        super().__init__(**kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        set_weight_options(
            self, embeddings=(embeddings_initializer, embeddings_regularizer, embeddings_constraint))
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.autocast = False
        self.lora_rank = None
        self.lora_enabled = False
        self.quantization_config = None
        if weights is not None:
            self._maybe_build(None)
            if not (isinstance(weights, list) and len(weights) == 1):
                weights = [weights]
            self.set_weights(weights)

    def build(self, input_shape=None):
        if self.built:
            return
        self.embeddings = self.add_weight(name="embeddings",
                                          shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint, trainable=True)
        self.built = True

    def call(self, inputs):
        if not isinstance(inputs, tf.Tensor):
            inputs = tf.convert_to_tensor(inputs)
        if inputs.dtype not in (tf.int32, tf.int64):
            inputs = tf.cast(inputs, tf.int32)
        inputs = tf.where(inputs < 0, inputs + tf.cast(self.input_dim, inputs.dtype), inputs)
        outputs = tf.gather(self.embeddings, inputs)
        if outputs.dtype.name != self.compute_dtype:
            outputs = tf.cast(outputs, self.compute_dtype)
        return outputs

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return tf.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        return {**super().get_config(),
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero,
                "quantization_config": None}


class Masking(Layer):
    """Masks timesteps whose features all equal `mask_value`: their outputs are zeroed and the
    output mask is `any(inputs != mask_value, axis=-1)`."""

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(mask_value, dict) and mask_value.get("config", None):
            mask_value = serialization.deserialize_keras_object(mask_value)
        self.mask_value = mask_value
        self.supports_masking = True
        self.built = True

    def _keep(self, inputs, keepdims):
        return tf.reduce_any(tf.not_equal(inputs, tf.cast(self.mask_value, inputs.dtype)),
                             axis=-1, keepdims=keepdims)

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs, keepdims=False)

    def call(self, inputs):
        return tf.where(self._keep(inputs, keepdims=True), inputs, tf.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}
