"""Argument checks and shape arithmetic shared by the convolution, pooling and spatial layers
(Keras 3's rules: `standardize_tuple`, `standardize_padding`, the output-shape formulas)."""
from __future__ import annotations

import tensorweave as tf


def standardize_tuple(value, n: int, name: str, allow_zero: bool = False) -> tuple:
    """An int or `n` ints -> a tuple of `n` ints; positive (or >= 0 with `allow_zero`)."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, int):
        values = (value,) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        for v in values:
            try:
                int(v)
            except (ValueError, TypeError):
                raise ValueError(f"{message}including element {v} of type {type(v)}") from None
        values = tuple(int(v) if hasattr(v, "__index__") else v for v in values)
    bad = {v for v in values if (v < 0 if allow_zero else v <= 0)}
    if bad:
        requirement = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{message}, including values {bad} that do not satisfy "
                         f"`value {requirement}`")
    return values


def standardize_padding(value, allow_causal: bool = False):
    """"valid" / "same" (/ "causal"), lower-cased; lists and tuples are kept as given."""
    if isinstance(value, (list, tuple)):
        return value
    padding = str(value).lower()
    allowed = ("valid", "same", "causal") if allow_causal else ("valid", "same")
    if padding not in allowed:
        names = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"The `padding` argument must be a list/tuple or one of {{{names}}}. "
                         f"Received: {padding}")
    return padding


def spatial_dims(input_shape, data_format: str) -> tuple:
    shape = tuple(input_shape)
    return shape[1:-1] if data_format == "channels_last" else shape[2:]


def channels_of(input_shape, data_format: str):
    shape = tuple(input_shape)
    return shape[-1] if data_format == "channels_last" else shape[1]


def assemble(batch, spatial, channels, data_format: str) -> tuple:
    if data_format == "channels_last":
        return (batch, *spatial, channels)
    return (batch, channels, *spatial)


def conv_output_shape(input_shape, filters, kernel_size, strides, padding, data_format,
                      dilation_rate) -> tuple:
    """The output shape of a convolution (Keras's formula and errors; None stays None)."""
    input_shape = tuple(input_shape)
    spatial = spatial_dims(input_shape, data_format)
    kernel_shape = tuple(kernel_size) + (channels_of(input_shape, data_format), filters)
    if len(kernel_shape) != len(input_shape):
        raise ValueError("Kernel shape must have the same length as input, but received kernel "
                         f"of shape {kernel_shape} and input of shape {input_shape}.")
    out = []
    if padding == "valid":
        for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate):
            size = None if n is None else (n - d * (k - 1) - 1) // s + 1
            if size is not None and size <= 0:
                raise ValueError(
                    "Computed output size would be zero or negative. Received `inputs shape="
                    f"{input_shape}`, `kernel shape={kernel_shape}`, `dilation_rate="
                    f"{_numpy_style(dilation_rate)}`, `strides={tuple(strides)}`, "
                    f"`padding={padding}`.")
            out.append(size)
    elif padding in ("same", "causal"):
        out = [None if n is None else (n - 1) // s + 1 for n, s in zip(spatial, strides)]
    else:
        raise ValueError(f"`padding` must be either `'valid'` or `'same'`. Received {padding}.")
    return assemble(input_shape[0], out, filters, data_format)


def conv_transpose_length(n, k, s, padding, output_padding, d):
    """One spatial size of a transposed convolution's output (Keras's TensorFlow formula)."""
    if n is None:
        return None
    k = (k - 1) * d + 1
    if padding == "valid":
        extra = max(k, s) - k if output_padding is None else output_padding
        return (n - 1) * s + k + extra
    if output_padding is None:
        return n * s
    return (n - 1) * s + k % 2 + output_padding


def pooling_output_shape(input_shape, pool_size, strides, padding, data_format) -> tuple:
    input_shape = tuple(input_shape)
    spatial = spatial_dims(input_shape, data_format)
    out = []
    if padding == "valid":
        for n, k, s in zip(spatial, pool_size, strides):
            size = None if n is None else (n - k) // s + 1
            if size is not None and size <= 0:
                raise ValueError(
                    "Computed output size would be zero or negative. Received: `inputs.shape="
                    f"{input_shape}`, `pool_size={_numpy_style(pool_size)}`, "
                    f"`strides={tuple(strides)}`, `padding={padding}`.")
            out.append(size)
    elif padding == "same":
        out = [None if n is None else (n - 1) // s + 1 for n, s in zip(spatial, strides)]
    else:
        raise ValueError("Argument `padding` must be either 'valid' or 'same'. Received: "
                         f"padding={padding}")
    return assemble(input_shape[0], out, channels_of(input_shape, data_format), data_format)


def tf_data_format(data_format: str, rank: int) -> str:
    """"channels_last"/"channels_first" for `rank` spatial dims -> "NHWC"-style names."""
    spatial = {1: "W", 2: "HW", 3: "DHW"}[rank]
    return f"N{spatial}C" if data_format == "channels_last" else f"NC{spatial}"


def dynamic_shape(x) -> list:
    """The shape of `x` as a list: Python ints where static, scalar int32 tensors elsewhere."""
    static = x.shape.as_list()
    if all(d is not None for d in static):
        return static
    runtime = tf.shape(x)
    return [runtime[i] if d is None else d for i, d in enumerate(static)]


def as_shape_argument(dims):
    """A list of ints and scalar tensors -> the ints (all static) or a stacked int32 tensor."""
    if all(isinstance(d, int) for d in dims):
        return list(dims)
    return tf.stack([tf.cast(d, tf.int32) if not isinstance(d, int) else tf.constant(d, tf.int32)
                     for d in dims])


def _numpy_style(values) -> str:
    """Ints printed as NumPy prints an int array (Keras's messages show them so)."""
    return "[" + " ".join(str(v) for v in values) + "]"
