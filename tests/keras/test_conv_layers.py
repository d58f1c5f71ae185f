"""Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D,
SeparableConv1D/2D. The layer harness for each over a table of cases (strides, dilation, same
padding, groups, channels_first), outputs against direct NumPy loops written here, weights'
names / shapes / order as Keras's, output shapes with unknown dims, configs and Keras's errors,
and seed 004's encoder/decoder returning its input shape."""
import itertools

import numpy as np
import pytest

import tensorweave as tf
from keras_harness import check_layer
from tensorweave import keras

L = keras.layers


# -- NumPy references (channels last; loops over output positions and kernel offsets) ----------

def _same_pads(n, k, s, d):
    effective = (k - 1) * d + 1
    out = -(-n // s)
    total = max((out - 1) * s + effective - n, 0)
    return total // 2, total - total // 2


def ref_conv(x, w, strides, padding, dilation, groups=1):
    """x (N, *spatial, C), w (*k, C // groups, F) -> (N, *out, F)."""
    rank = x.ndim - 2
    if padding == "same":
        pads = [_same_pads(x.shape[1 + i], w.shape[i], strides[i], dilation[i])
                for i in range(rank)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    spatial = x.shape[1:-1]
    out_dims = [(spatial[i] - (w.shape[i] - 1) * dilation[i] - 1) // strides[i] + 1
                for i in range(rank)]
    cin, filters = w.shape[-2], w.shape[-1]
    per_group = filters // groups
    out = np.zeros((x.shape[0], *out_dims, filters), np.float64)
    for pos in itertools.product(*[range(n) for n in out_dims]):
        for offset in itertools.product(*[range(k) for k in w.shape[:rank]]):
            src = tuple(p * s + o * d for p, s, o, d in zip(pos, strides, offset, dilation))
            patch = x[(slice(None), *src)]                     # (N, C)
            for g in range(groups):
                part = patch[:, g * cin:(g + 1) * cin]
                out[(slice(None), *pos, slice(g * per_group, (g + 1) * per_group))] += \
                    part @ w[offset][:, g * per_group:(g + 1) * per_group]
    return out


def ref_conv_transpose(x, w, strides, padding, dilation, output_padding=None):
    """x (N, *spatial, C), w (*k, F, C) -> (N, *out, F): every input value spreads
    `w`-weighted copies at stride-spaced positions (the transpose of ref_conv)."""
    rank = x.ndim - 2
    out_dims, before = [], []
    for i in range(rank):
        n, k, s, d = x.shape[1 + i], w.shape[i], strides[i], dilation[i]
        eff = (k - 1) * d + 1
        extra = None if output_padding is None else output_padding[i]
        if padding == "valid":
            size = (n - 1) * s + eff + (max(eff, s) - eff if extra is None else extra)
            before.append(0)
        else:
            size = n * s if extra is None else (n - 1) * s + eff % 2 + extra
            before.append(max((n - 1) * s + eff - size, 0) // 2)
        out_dims.append(size)
    out = np.zeros((x.shape[0], *out_dims, w.shape[-2]), np.float64)
    for pos in itertools.product(*[range(n) for n in x.shape[1:-1]]):
        value = x[(slice(None), *pos)]                          # (N, C)
        for offset in itertools.product(*[range(k) for k in w.shape[:rank]]):
            dst = [p * s + o * d - b for p, s, o, d, b in
                   zip(pos, strides, offset, dilation, before)]
            if all(0 <= t < n for t, n in zip(dst, out_dims)):
                out[(slice(None), *dst)] += value @ w[offset].T
    return out


def ref_depthwise(x, w, strides, padding, dilation):
    """x (N, *spatial, C), w (*k, C, M) -> (N, *out, C * M), output channel c * M + m."""
    channels, multiplier = w.shape[-2], w.shape[-1]
    outs = [ref_conv(x[..., c:c + 1], w[..., c:c + 1, :], strides, padding, dilation)
            for c in range(channels)]
    return np.concatenate(outs, axis=-1).reshape(*outs[0].shape[:-1], channels * multiplier)


def _first_to_last(a):
    return np.moveaxis(a, 1, -1)


def _last_to_first(a):
    return np.moveaxis(a, -1, 1)


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _random_weights(layer, seed=1):
    rng = np.random.default_rng(seed)
    weights = [rng.uniform(-1, 1, size=w.shape.as_list()).astype(np.float32)
               for w in layer.weights]
    layer.set_weights(weights)
    return weights


# -- the layer harness --------------------------------------------------------------------------

def _case(make, shape, out, trainable=2):
    return dict(make=make, input_shape=shape, expected_output_shape=out,
                trainable_weights=trainable)


HARNESS = {
    "conv1d": _case(lambda **kw: L.Conv1D(3, 3, **kw), (2, 7, 2), (2, 5, 3)),
    "conv1d_causal_dilated": _case(
        lambda **kw: L.Conv1D(2, 2, padding="causal", dilation_rate=2, **kw), (2, 6, 3),
        (2, 6, 2)),
    "conv1d_strided_same": _case(lambda **kw: L.Conv1D(2, 3, strides=2, padding="same", **kw),
                                 (2, 7, 2), (2, 4, 2)),
    "conv1d_channels_first_groups": _case(
        lambda **kw: L.Conv1D(4, 2, groups=2, data_format="channels_first", **kw), (2, 4, 5),
        (2, 4, 4)),
    "conv2d": _case(lambda **kw: L.Conv2D(3, 3, activation="tanh", **kw), (2, 5, 5, 2),
                    (2, 3, 3, 3)),
    "conv2d_strided_same": _case(lambda **kw: L.Conv2D(2, (3, 2), strides=(2, 1),
                                                       padding="same", **kw),
                                 (2, 5, 4, 2), (2, 3, 4, 2)),
    "conv2d_dilated": _case(lambda **kw: L.Conv2D(2, 2, dilation_rate=(2, 1), **kw),
                            (1, 5, 4, 2), (1, 3, 3, 2)),
    "conv2d_groups": _case(lambda **kw: L.Conv2D(4, 2, groups=2, **kw), (2, 3, 3, 4),
                           (2, 2, 2, 4)),
    "conv2d_channels_first": _case(
        lambda **kw: L.Conv2D(3, 2, strides=2, padding="same", data_format="channels_first",
                              **kw), (2, 2, 5, 4), (2, 3, 3, 2)),
    "conv2d_no_bias": _case(lambda **kw: L.Conv2D(2, 1, use_bias=False, **kw), (2, 3, 3, 3),
                            (2, 3, 3, 2), trainable=1),
    "conv3d": _case(lambda **kw: L.Conv3D(2, 2, **kw), (1, 3, 3, 3, 2), (1, 2, 2, 2, 2)),
    "conv3d_same_channels_first": _case(
        lambda **kw: L.Conv3D(2, (2, 1, 2), padding="same", data_format="channels_first", **kw),
        (1, 2, 3, 2, 3), (1, 2, 3, 2, 3)),
    "conv1d_transpose": _case(lambda **kw: L.Conv1DTranspose(2, 3, strides=2, **kw),
                              (2, 3, 2), (2, 7, 2)),
    "conv1d_transpose_same_padding": _case(
        lambda **kw: L.Conv1DTranspose(2, 3, strides=2, padding="same", output_padding=1, **kw),
        (2, 3, 2), (2, 6, 2)),
    "conv2d_transpose": _case(lambda **kw: L.Conv2DTranspose(3, 3, **kw), (2, 3, 3, 2),
                              (2, 5, 5, 3)),
    "conv2d_transpose_strided_same": _case(
        lambda **kw: L.Conv2DTranspose(2, (3, 2), strides=2, padding="same", **kw),
        (2, 2, 3, 2), (2, 4, 6, 2)),
    "conv2d_transpose_dilated": _case(
        lambda **kw: L.Conv2DTranspose(2, 2, dilation_rate=2, **kw), (1, 3, 2, 2),
        (1, 5, 4, 2)),
    "conv2d_transpose_channels_first": _case(
        lambda **kw: L.Conv2DTranspose(2, 2, strides=(2, 3), output_padding=(1, 0),
                                       data_format="channels_first", **kw),
        (1, 3, 2, 2), (1, 2, 5, 5)),
    "conv3d_transpose": _case(lambda **kw: L.Conv3DTranspose(2, 2, strides=2, **kw),
                              (1, 2, 2, 1, 2), (1, 4, 4, 2, 2)),
    "depthwise_conv1d": _case(lambda **kw: L.DepthwiseConv1D(3, depth_multiplier=2, **kw),
                              (2, 6, 2), (2, 4, 4)),
    "depthwise_conv1d_strided_dilated_same": _case(
        lambda **kw: L.DepthwiseConv1D(2, strides=2, dilation_rate=2, padding="same", **kw),
        (2, 7, 2), (2, 4, 2)),
    "depthwise_conv2d": _case(lambda **kw: L.DepthwiseConv2D(2, **kw), (2, 4, 4, 3),
                              (2, 3, 3, 3)),
    "depthwise_conv2d_multiplier_same": _case(
        lambda **kw: L.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, **kw),
        (2, 5, 4, 2), (2, 3, 2, 4)),
    "depthwise_conv2d_channels_first_dilated": _case(
        lambda **kw: L.DepthwiseConv2D(2, dilation_rate=2, data_format="channels_first", **kw),
        (1, 2, 5, 4), (1, 2, 3, 2)),
    "depthwise_conv2d_strided_dilated": _case(
        lambda **kw: L.DepthwiseConv2D(2, strides=2, dilation_rate=2, **kw), (1, 6, 5, 2),
        (1, 2, 2, 2)),
    "separable_conv1d": _case(lambda **kw: L.SeparableConv1D(3, 3, depth_multiplier=2, **kw),
                              (2, 6, 2), (2, 4, 3), trainable=3),
    "separable_conv1d_channels_first_same": _case(
        lambda **kw: L.SeparableConv1D(2, 3, strides=2, padding="same",
                                       data_format="channels_first", **kw),
        (2, 3, 5), (2, 2, 3), trainable=3),
    "separable_conv2d": _case(lambda **kw: L.SeparableConv2D(3, 2, **kw), (2, 4, 3, 2),
                              (2, 3, 2, 3), trainable=3),
    "separable_conv2d_strided_dilated_same": _case(
        lambda **kw: L.SeparableConv2D(2, 2, strides=2, dilation_rate=2, padding="same",
                                       use_bias=False, **kw), (1, 5, 5, 2), (1, 3, 3, 2),
        trainable=2),
}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    check_layer(**HARNESS[name])


# -- outputs against the NumPy references -------------------------------------------------------

CONV_CASES = [
    # layer class, rank, kwargs, input shape (channels last)
    (L.Conv1D, dict(filters=3, kernel_size=3), (2, 8, 2)),
    (L.Conv1D, dict(filters=2, kernel_size=3, strides=2, padding="same"), (2, 8, 3)),
    (L.Conv1D, dict(filters=4, kernel_size=2, dilation_rate=3, groups=2), (2, 9, 4)),
    (L.Conv2D, dict(filters=3, kernel_size=(3, 2)), (2, 6, 5, 2)),
    (L.Conv2D, dict(filters=2, kernel_size=3, strides=(2, 3), padding="same"), (2, 7, 8, 3)),
    (L.Conv2D, dict(filters=2, kernel_size=2, dilation_rate=2, padding="same"), (1, 6, 5, 2)),
    (L.Conv2D, dict(filters=6, kernel_size=3, groups=3), (2, 5, 5, 6)),
    (L.Conv3D, dict(filters=2, kernel_size=(2, 3, 2), strides=(1, 2, 1)), (1, 4, 5, 3, 2)),
    (L.Conv3D, dict(filters=2, kernel_size=2, padding="same", dilation_rate=(2, 1, 1)),
     (1, 4, 3, 3, 2)),
]


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("index", range(len(CONV_CASES)))
def test_conv_matches_numpy(index, channels_first):
    cls, kwargs, shape = CONV_CASES[index]
    x = _x(shape)
    fmt = "channels_first" if channels_first else "channels_last"
    layer = cls(data_format=fmt, **kwargs)
    inputs = _last_to_first(x) if channels_first else x
    layer(inputs)
    kernel, bias = _random_weights(layer)
    out = layer(inputs).numpy()
    expected = ref_conv(x.astype(np.float64), kernel.astype(np.float64), layer.strides,
                        layer.padding, layer.dilation_rate, layer.groups) + bias
    if channels_first:
        expected = _last_to_first(expected)
    assert out.dtype == np.float32 and out.shape == expected.shape
    assert layer.compute_output_shape((None,) + inputs.shape[1:]) == (None,) + out.shape[1:]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_conv1d_causal_sees_only_the_past():
    x = _x((2, 7, 2))
    layer = L.Conv1D(3, 3, padding="causal", dilation_rate=2)
    layer(x)
    kernel, bias = _random_weights(layer)
    padded = np.pad(x, [(0, 0), (4, 0), (0, 0)]).astype(np.float64)
    expected = ref_conv(padded, kernel.astype(np.float64), (1,), "valid", (2,)) + bias
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-4, atol=1e-5)
    changed = x.copy()
    changed[:, 5:] += 10.0                                          # the future changes...
    np.testing.assert_allclose(layer(changed).numpy()[:, :5], layer(x).numpy()[:, :5],
                               rtol=1e-6)                           # ...the past does not
    first = L.Conv1D(3, 3, padding="causal", dilation_rate=2, data_format="channels_first")
    first(_last_to_first(x))
    first.set_weights([kernel, bias])
    np.testing.assert_allclose(first(_last_to_first(x)).numpy(), _last_to_first(expected),
                               rtol=1e-4, atol=1e-5)


TRANSPOSE_CASES = [
    (L.Conv1DTranspose, dict(filters=2, kernel_size=3), (2, 4, 3)),
    (L.Conv1DTranspose, dict(filters=2, kernel_size=2, strides=3), (2, 4, 3)),
    (L.Conv1DTranspose, dict(filters=3, kernel_size=4, strides=2, padding="same"), (2, 5, 2)),
    (L.Conv1DTranspose, dict(filters=2, kernel_size=3, strides=3, output_padding=2), (1, 3, 2)),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2), (2, 3, 4, 2)),
    (L.Conv2DTranspose, dict(filters=3, kernel_size=(3, 2), strides=(2, 2), padding="same"),
     (2, 3, 3, 2)),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same",
                             output_padding=(0, 1)), (1, 3, 3, 2)),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=2, dilation_rate=(2, 3)), (1, 3, 3, 2)),
    (L.Conv2DTranspose, dict(filters=2, kernel_size=2, dilation_rate=2, padding="same"),
     (1, 3, 4, 2)),
    (L.Conv3DTranspose, dict(filters=2, kernel_size=2, strides=(2, 1, 2)), (1, 2, 3, 2, 2)),
    (L.Conv3DTranspose, dict(filters=2, kernel_size=3, strides=2, padding="same"),
     (1, 2, 2, 3, 1)),
]


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("index", range(len(TRANSPOSE_CASES)))
def test_conv_transpose_matches_numpy(index, channels_first):
    cls, kwargs, shape = TRANSPOSE_CASES[index]
    x = _x(shape)
    fmt = "channels_first" if channels_first else "channels_last"
    layer = cls(data_format=fmt, **kwargs)
    layer(_last_to_first(x) if channels_first else x)
    kernel, bias = _random_weights(layer)
    out = layer(_last_to_first(x) if channels_first else x).numpy()
    expected = ref_conv_transpose(x.astype(np.float64), kernel.astype(np.float64),
                                  layer.strides, layer.padding, layer.dilation_rate,
                                  layer.output_padding) + bias
    if channels_first:
        expected = _last_to_first(expected)
    assert out.shape == expected.shape
    assert layer.compute_output_shape(out.shape[:1] + tuple(
        _last_to_first(x).shape[1:] if channels_first else x.shape[1:])) == out.shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_conv_transpose_undoes_conv_shape():
    """Conv2DTranspose with the same arguments maps Conv2D's output shape back to its input
    shape (same padding: any size; valid: when the strides fit)."""
    for size, kernel, strides, padding in [(8, 3, 2, "same"), (9, 3, 2, "valid"),
                                           (7, 3, 1, "valid"), (6, 2, 2, "valid")]:
        x = keras.Input((size, size, 3))
        y = L.Conv2D(4, kernel, strides=strides, padding=padding)(x)
        back = L.Conv2DTranspose(3, kernel, strides=strides, padding=padding)(y)
        assert back.shape == x.shape, (size, kernel, strides, padding, back.shape)


DEPTHWISE_CASES = [
    (dict(kernel_size=3), (2, 7, 3)),
    (dict(kernel_size=2, depth_multiplier=3, strides=2, padding="same"), (2, 7, 2)),
    (dict(kernel_size=2, dilation_rate=2, strides=3), (1, 9, 2)),
    (dict(kernel_size=(3, 2)), (2, 5, 4, 3)),
    (dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same"), (2, 5, 6, 2)),
    (dict(kernel_size=2, dilation_rate=(2, 1), padding="same"), (1, 5, 4, 2)),
    (dict(kernel_size=2, strides=2, dilation_rate=2, padding="same"), (1, 7, 6, 2)),
    (dict(kernel_size=3, strides=(1, 2), dilation_rate=(2, 1)), (1, 7, 7, 2)),
]


@pytest.mark.parametrize("separable", [False, True])
@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("index", range(len(DEPTHWISE_CASES)))
def test_depthwise_and_separable_match_numpy(index, channels_first, separable):
    kwargs, shape = DEPTHWISE_CASES[index]
    rank = len(shape) - 2
    fmt = "channels_first" if channels_first else "channels_last"
    if separable:
        cls = (L.SeparableConv1D, L.SeparableConv2D)[rank - 1]
        layer = cls(filters=3, data_format=fmt, **kwargs)
    else:
        layer = (L.DepthwiseConv1D, L.DepthwiseConv2D)[rank - 1](data_format=fmt, **kwargs)
    x = _x(shape)
    inputs = _last_to_first(x) if channels_first else x
    layer(inputs)
    weights = _random_weights(layer)
    out = layer(inputs).numpy()
    expected = ref_depthwise(x.astype(np.float64), weights[0].astype(np.float64),
                             layer.strides, layer.padding, layer.dilation_rate)
    if separable:
        expected = expected @ weights[1].reshape(weights[1].shape[-2:]).astype(np.float64)
    expected = expected + weights[-1]
    if channels_first:
        expected = _last_to_first(expected)
    assert out.shape == expected.shape
    assert layer.compute_output_shape(inputs.shape) == out.shape
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


# -- weights, shapes, configs -------------------------------------------------------------------

def test_weights_have_keras_names_shapes_and_order():
    cases = [
        (L.Conv2D(4, (3, 2)), (None, 6, 6, 3), [("kernel", (3, 2, 3, 4)), ("bias", (4,))]),
        (L.Conv2D(4, 3, groups=2, data_format="channels_first"), (None, 6, 5, 5),
         [("kernel", (3, 3, 3, 4)), ("bias", (4,))]),
        (L.Conv1D(2, 5, use_bias=False), (None, 9, 3), [("kernel", (5, 3, 2))]),
        (L.Conv3D(2, 2), (None, 3, 3, 3, 1), [("kernel", (2, 2, 2, 1, 2)), ("bias", (2,))]),
        (L.Conv2DTranspose(5, 3), (None, 4, 4, 2), [("kernel", (3, 3, 5, 2)), ("bias", (5,))]),
        (L.Conv1DTranspose(5, 3), (None, 4, 2), [("kernel", (3, 5, 2)), ("bias", (5,))]),
        (L.DepthwiseConv2D(3, depth_multiplier=2), (None, 5, 5, 3),
         [("kernel", (3, 3, 3, 2)), ("bias", (6,))]),
        (L.DepthwiseConv1D(3), (None, 5, 4), [("kernel", (3, 4, 1)), ("bias", (4,))]),
        (L.SeparableConv2D(7, 3, depth_multiplier=2), (None, 5, 5, 3),
         [("depthwise_kernel", (3, 3, 3, 2)), ("pointwise_kernel", (1, 1, 6, 7)),
          ("bias", (7,))]),
        (L.SeparableConv1D(7, 3), (None, 5, 3),
         [("depthwise_kernel", (3, 3, 1)), ("pointwise_kernel", (1, 3, 7)), ("bias", (7,))]),
    ]
    for layer, shape, expected in cases:
        layer.build(shape)
        got = [(w.name, tuple(w.shape.as_list())) for w in layer.weights]
        assert got == expected, (type(layer).__name__, got)
        assert [w.path for w in layer.weights] == [f"{layer.name}/{n}" for n, _ in expected]
        assert all(w.dtype == tf.float32 for w in layer.weights)


def test_output_shapes_with_unknown_dims():
    assert L.Conv2D(4, 3).compute_output_shape((None, None, 7, 2)) == (None, None, 5, 4)
    assert L.Conv2D(4, 3, strides=2, padding="same").compute_output_shape(
        (3, 9, None, 2)) == (3, 5, None, 4)
    assert L.Conv1D(4, 3, padding="causal").compute_output_shape((None, 5, 2)) == (None, 5, 4)
    assert L.Conv2DTranspose(4, 3, strides=2).compute_output_shape(
        (None, None, 3, 2)) == (None, None, 7, 4)
    assert L.Conv2DTranspose(4, 3, strides=2, padding="same",
                             data_format="channels_first").compute_output_shape(
        (None, 2, 3, None)) == (None, 4, 6, None)
    assert L.DepthwiseConv2D(3, depth_multiplier=3).compute_output_shape(
        (None, 5, None, 2)) == (None, 3, None, 6)
    assert L.SeparableConv1D(4, 3).compute_output_shape((2, None, 2)) == (2, None, 4)
    assert L.Conv3D(1, 2, data_format="channels_first").compute_output_shape(
        (None, 3, 4, 4, 4)) == (None, 1, 3, 3, 3)


def test_unknown_spatial_dims_in_a_tf_function():
    conv = L.Conv2D(3, 3, strides=2, padding="same")
    up = L.Conv2DTranspose(2, 3, strides=2, padding="same")
    depth = L.SeparableConv2D(2, 2, strides=2, dilation_rate=1)
    dilated = L.DepthwiseConv2D(2, strides=2, dilation_rate=2, padding="same")
    causal = L.Conv1D(2, 3, padding="causal")

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32)])
    def f(t):
        return up(conv(t)), depth(t), dilated(t)

    g = tf.function(lambda t: causal(t),
                    input_signature=[tf.TensorSpec([None, None, 2], tf.float32)])
    x = _x((2, 6, 5, 2))
    eager = up(conv(x)).numpy(), depth(x).numpy(), dilated(x).numpy()
    got = f(tf.constant(x))
    for a, b in zip(got, eager):
        np.testing.assert_allclose(a.numpy(), b, rtol=1e-5, atol=1e-6)
    assert got[0].shape.as_list() == [2, 6, 6, 2]
    s = _x((2, 6, 2))
    np.testing.assert_allclose(g(tf.constant(s)).numpy(), causal(s).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_configs_and_from_config():
    layer = L.Conv2D(8, 3, strides=2, padding="SAME", activation="relu", groups=2,
                     kernel_regularizer="l2", bias_constraint="non_neg", name="c")
    config = layer.get_config()
    assert list(config)[3:] == [
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
        "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "bias_constraint"]
    assert config["kernel_size"] == (3, 3) and config["strides"] == (2, 2)
    assert config["padding"] == "same" and config["activation"] == "relu"
    assert config["kernel_regularizer"]["class_name"] == "L2"
    clone = L.Conv2D.from_config(config)
    assert clone.get_config() == config
    transpose = L.Conv3DTranspose(2, 3, output_padding=1, strides=2).get_config()
    assert transpose["output_padding"] == (1, 1, 1) and "groups" not in transpose
    assert L.Conv2DTranspose(2, 3).get_config()["output_padding"] is None
    depthwise = L.DepthwiseConv2D(3, depth_multiplier=2).get_config()
    assert depthwise["depth_multiplier"] == 2 and "depthwise_initializer" in depthwise
    assert "filters" not in depthwise and "kernel_initializer" not in depthwise
    separable = L.SeparableConv1D(4, 3).get_config()
    assert separable["kernel_size"] == (3,) and separable["pointwise_initializer"][
        "class_name"] == "GlorotUniform"
    assert L.Convolution2D is L.Conv2D and L.SeparableConvolution1D is L.SeparableConv1D
    assert L.Convolution3DTranspose is L.Conv3DTranspose


def test_constructor_errors():
    with pytest.raises(ValueError, match="strictly positive value. Received filters=0"):
        L.Conv2D(0, 3)
    with pytest.raises(ValueError, match="`kernel_size` argument must be a tuple of 2"):
        L.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="that do not satisfy `value > 0`"):
        L.Conv2D(2, 0)
    with pytest.raises(ValueError, match="not supported in conjunction with `dilation_rate"):
        L.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="evenly divisible by the number of groups"):
        L.Conv2D(4, 3, groups=3)
    with pytest.raises(ValueError, match="number of groups must be a positive integer"):
        L.Conv1D(4, 3, groups=0)
    with pytest.raises(ValueError, match="one of {'valid', 'same'}"):
        L.Conv2D(2, 3, padding="causal")
    assert L.Conv1D(2, 3, padding="CAUSAL").padding == "causal"
    with pytest.raises(ValueError, match="`output_padding` must be strictly less than"):
        L.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="depth_multiplier=0"):
        L.DepthwiseConv2D(3, depth_multiplier=0)
    with pytest.raises(ValueError, match="data_format"):
        L.Conv2D(2, 3, data_format="NHWC")
    with pytest.raises(NotImplementedError, match="LoRA"):
        L.Conv2D(2, 3, lora_rank=2)


def test_build_and_call_errors():
    with pytest.raises(ValueError, match="input channels must be evenly divisible"):
        L.Conv2D(4, 3, groups=2)(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        L.Conv2D(4, 3)(np.zeros((1, 2, 5, 3), np.float32))
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=3"):
        L.Conv2D(4, 3)(np.zeros((5, 5, 3), np.float32))
    layer = L.Conv2D(4, 3)
    layer(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.zeros((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        L.Conv2D(4, 3)(keras.Input((5, 5, None)))
    with pytest.raises(ValueError, match="'valid'` or `'same'"):
        L.Conv2D(4, 3, padding=[[1, 1], [1, 1]])(keras.Input((5, 5, 2)))


def test_training_a_small_convnet_reduces_the_loss():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8, 1)).astype(np.float32)
    y = (x[:, 2:6, 2:6, 0].mean(axis=(1, 2)) > 0).astype(np.int32)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        L.Conv2D(4, 3, activation="relu", padding="same"),
        L.SeparableConv2D(4, 3, activation="relu"),
        L.Conv2DTranspose(2, 3, strides=2),
        L.DepthwiseConv2D(3, strides=2),
        L.Flatten(),
        L.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=16, verbose=0)
    assert model.evaluate(x, y, verbose=0) < 0.7 * first


def test_seed_004_encoder_decoder_returns_its_input_shape():
    """Seed 004 "上采样": the decoder mirrors the encoder (Conv2D <-> Conv2DTranspose,
    MaxPooling2D <-> UpSampling2D), so the output has the input's shape (28, 28, 1)."""
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    h = L.Conv2D(16, 3, activation="relu")(encoder_input)
    h = L.Conv2D(32, 3, activation="relu")(h)
    h = L.MaxPooling2D(3)(h)
    h = L.Conv2D(32, 3, activation="relu")(h)
    h = L.Conv2D(16, 3, activation="relu")(h)
    encoder_output = L.GlobalMaxPooling2D()(h)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")
    assert encoder.output_shape == (None, 16)

    h = L.Reshape((4, 4, 1))(encoder_output)
    h = L.Conv2DTranspose(16, 3, activation="relu")(h)
    h = L.Conv2DTranspose(32, 3, activation="relu")(h)
    h = L.UpSampling2D(3)(h)
    h = L.Conv2DTranspose(16, 3, activation="relu")(h)
    decoder_output = L.Conv2DTranspose(1, 3, activation="relu")(h)
    autoencoder = keras.Model(encoder_input, decoder_output, name="autoencoder")
    assert autoencoder.output_shape == (None, 28, 28, 1)
    images = np.random.default_rng(0).uniform(size=(2, 28, 28, 1)).astype(np.float32)
    assert autoencoder(images).shape == (2, 28, 28, 1)
    assert autoencoder.predict(images, verbose=0).shape == (2, 28, 28, 1)

    # and a U-Net: same-padded convolutions, pooling down, transposed convolutions and
    # up-sampling back, skip connections concatenated
    inputs = keras.Input((16, 16, 3))
    d1 = L.Conv2D(8, 3, padding="same", activation="relu")(inputs)
    p1 = L.MaxPooling2D()(d1)
    d2 = L.Conv2D(16, 3, padding="same", activation="relu")(p1)
    p2 = L.MaxPooling2D()(d2)
    bottom = L.Conv2D(32, 3, padding="same", activation="relu")(p2)
    u2 = L.Conv2DTranspose(16, 3, strides=2, padding="same")(bottom)
    c2 = L.Conv2D(16, 3, padding="same", activation="relu")(L.concatenate([u2, d2]))
    u1 = L.UpSampling2D(interpolation="bilinear")(c2)
    c1 = L.Conv2D(8, 3, padding="same", activation="relu")(L.concatenate([u1, d1]))
    outputs = L.Conv2D(3, 1)(c1)
    unet = keras.Model(inputs, outputs)
    assert unet.output_shape == (None, 16, 16, 3)
    batch = np.random.default_rng(1).standard_normal((2, 16, 16, 3)).astype(np.float32)
    assert unet(batch).shape == (2, 16, 16, 3)
    unet.compile(optimizer="adam", loss="mse")
    unet.fit(batch, batch, epochs=1, verbose=0)
