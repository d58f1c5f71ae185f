"""Reshaping layers: Flatten, Reshape, Permute, RepeatVector (Keras 3 behaviour)."""
from __future__ import annotations

import math

import tensorweave as tf
from tensorweave.keras.engine.backend_config import standardize_data_format
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.keras_tensor import KerasTensor
from tensorweave.keras.engine.layer import Layer


def _static_shape(x) -> tuple:
    return tuple(x.shape.as_list()) if hasattr(x.shape, "as_list") else tuple(x.shape)


def _reshape(x, dims):
    """`x` reshaped to `dims` (ints, None where unknown until run time). One unknown becomes -1;
    with more, the shape is a tensor of the run-time batch size and -1."""
    unknown = [i for i, d in enumerate(dims) if d is None]
    if len(unknown) <= 1:
        return tf.reshape(x, [-1 if d is None else d for d in dims])
    batch = tf.shape(x)[0]
    return tf.reshape(x, tf.stack([batch if i == 0 else (-1 if d is None else d)
                                   for i, d in enumerate(dims)]))


def _keep_dtype(layer, inputs):
    return KerasTensor(layer.compute_output_shape(tuple(inputs.shape)), inputs.dtype)


class Flatten(Layer):
    """Flattens all but the batch axis: `(batch, ...)` -> `(batch, prod(...))`; a rank-1
    input gives `(batch, 1)`. With `data_format="channels_first"` the channels axis is moved
    last first, so the order of the values matches a channels-last model."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(min_ndim=1)
        self._channels_first = self.data_format == "channels_first"

    def call(self, inputs):
        static = _static_shape(inputs)
        rank = len(static)
        if self._channels_first and rank > 1:
            inputs = tf.transpose(inputs, perm=(0, *range(2, rank), 1))
        return _reshape(inputs, self.compute_output_shape(static))

    def compute_output_shape(self, input_shape):
        rest = tuple(input_shape)[1:]
        if not rest:
            flat = 1
        elif any(d is None for d in rest):
            flat = None
        else:
            flat = math.prod(rest)
        return (input_shape[0], flat)

    def compute_output_spec(self, inputs, *args, **kwargs):
        return _keep_dtype(self, inputs)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


def _check_target_shape(target_shape, arg_name="target_shape") -> None:
    unknown = 0
    for d in target_shape:
        if not isinstance(d, int):
            continue
        if d < -1:
            raise ValueError(f"Each dimension in `{arg_name}` must be a non-negative integer, or "
                             f"`-1` for a single unknown dimension. Received: "
                             f"{arg_name}={target_shape}.")
        unknown += d == -1
    if unknown > 1:
        raise ValueError(f"There must be at most one unknown dimension (-1) in `{arg_name}`. "
                         f"Received: {arg_name}={target_shape}.")


def _resolve_target(input_shape: tuple, target_shape: tuple, arg_name="target_shape") -> tuple:
    """`target_shape` with its -1 worked out from `input_shape` (None when it cannot be)."""
    _check_target_shape(target_shape, arg_name)
    target = tuple(d if isinstance(d, int) else None for d in target_shape)
    if None in input_shape or None in target:
        return tuple(None if d == -1 else d for d in target)
    size = math.prod(input_shape)
    if -1 not in target:
        if size != math.prod(target):
            raise ValueError("The total size of the tensor must be unchanged. Received: "
                             f"input_shape={input_shape}, {arg_name}={target_shape}")
        return target
    known = math.prod(d for d in target if d != -1)
    if known == 0 or size % known:
        raise ValueError("The total size of the tensor must be unchanged, however, the input "
                         "size cannot by divided by the specified dimensions in "
                         f"{arg_name}. Received: input_shape={input_shape}, "
                         f"{arg_name}={target_shape}")
    return tuple(size // known if d == -1 else d for d in target)


class Reshape(Layer):
    """Reshapes all but the batch axis to `target_shape` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(int(d) if hasattr(d, "__index__") else d for d in target_shape)
        _check_target_shape(target_shape)
        self.target_shape = target_shape
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        return (input_shape[0], *_resolve_target(input_shape[1:], self.target_shape))

    def compute_output_spec(self, inputs, *args, **kwargs):
        return _keep_dtype(self, inputs)

    def call(self, inputs):
        return _reshape(inputs, self.compute_output_shape(_static_shape(inputs)))

    def get_config(self):
        return {**super().get_config(), "target_shape": self.target_shape}


class Permute(Layer):
    """Permutes the non-batch axes: `dims` is a permutation of 1..rank-1 (1-based, the batch
    axis stays first)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(dims)
        if sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError("Invalid permutation argument `dims` for Permute Layer. The set of "
                             "indices in `dims` must be consecutive and start from 1. Received "
                             f"dims={dims}")
        self.input_spec = InputSpec(ndim=len(self.dims) + 1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *(input_shape[d] for d in self.dims))

    def compute_output_spec(self, inputs, *args, **kwargs):
        return _keep_dtype(self, inputs)

    def call(self, inputs):
        return tf.transpose(inputs, perm=(0,) + self.dims)

    def get_config(self):
        return {**super().get_config(), "dims": self.dims}


class RepeatVector(Layer):
    """Repeats a `(batch, features)` input `n` times: `(batch, n, features)`."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = n
        self.input_spec = InputSpec(ndim=2)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs):
        return tf.tile(tf.expand_dims(inputs, 1), [1, self.n, 1])

    def get_config(self):
        return {**super().get_config(), "n": self.n}
