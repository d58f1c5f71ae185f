"""tf.nn pooling, local response normalization and tf.image.resize against TensorFlow itself:
outputs, dtypes, shapes and tape gradients on the same inputs, over a grid of window sizes,
strides, paddings and data formats (and of sizes and methods for resize).

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
TensorFlow's CPU kernels cover channels-first pooling and 3-D pooling in float32 only, so the
grid stays there.
"""
import itertools

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import tensorflow as tf
except ImportError:
    tf = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")
RNG = np.random.default_rng(11)


def run(m, fn, arrays, weighted=True):
    """fn's output and the tape gradients of sum(output * weights) for every input, in module m."""
    tensors = [m.constant(a) for a in arrays]
    with m.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(m, *tensors)
        weights = np.linspace(0.5, 1.5, int(np.prod(out.shape))).reshape(out.shape)
        loss = m.reduce_sum(out * m.constant(weights.astype(out.dtype.as_numpy_dtype)))
    grads = tape.gradient(loss, tensors)
    return out, [g.numpy() for g in grads]


def compare(fn, arrays, rtol=1e-5, atol=1e-5, tf_fn=None):
    ours, our_grads = run(tw, fn, arrays)
    theirs, their_grads = run(tf, tf_fn or fn, arrays)
    assert ours.dtype.name == theirs.dtype.name
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=rtol, atol=atol)
    for a, b in zip(our_grads, their_grads):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def through_channels_last(op, n, *args):
    """TensorFlow's CPU kernels have no channels-first max-pool gradient: the reference for a
    channels-first call is the channels-last op between transposes."""
    to_last = [0] + list(range(2, n + 2)) + [1]
    to_first = [0, n + 1] + list(range(1, n + 1))
    return lambda m, t: m.transpose(getattr(m.nn, op)(m.transpose(t, to_last), *args), to_first)


GRID_2D = list(itertools.product([1, 2, 3, (2, 3)], [1, 2, (2, 1)], ["SAME", "VALID"],
                                 ["NHWC", "NCHW"]))


@needs_tf
@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("ksize,strides,padding,data_format", GRID_2D, ids=str)
def test_pool2d_grid(op, ksize, strides, padding, data_format):
    shape = (2, 7, 6, 3) if data_format == "NHWC" else (2, 3, 7, 6)
    x = RNG.standard_normal(shape).astype(np.float32)
    compare(lambda m, t: getattr(m.nn, op)(t, ksize, strides, padding, data_format=data_format),
            [x], tf_fn=None if data_format == "NHWC" else through_channels_last(
                op, 2, ksize, strides, padding))


@needs_tf
@pytest.mark.parametrize("op", ["max_pool2d", "max_pool1d", "max_pool"])
def test_max_pool_ties_like_tensorflow(op):
    """Small integers: most windows hold ties (zeros, as after a relu)."""
    shape = (2, 9, 3) if op == "max_pool1d" else (2, 7, 8, 3)
    x = RNG.integers(0, 3, size=shape).astype(np.float32)
    for ksize, strides, padding in [(2, 2, "VALID"), (3, 1, "SAME"), (3, 2, "SAME"),
                                    (2, 1, "VALID")]:
        compare(lambda m, t: getattr(m.nn, op)(t, ksize, strides, padding), [x])


@needs_tf
@pytest.mark.parametrize("op", ["max_pool3d", "avg_pool3d"])
@pytest.mark.parametrize("ksize,strides,padding", list(itertools.product(
    [2, 3, (1, 2, 3)], [1, 2], ["SAME", "VALID"])), ids=str)
def test_pool3d_grid(op, ksize, strides, padding):
    x = RNG.standard_normal((2, 5, 6, 4, 2)).astype(np.float32)
    compare(lambda m, t: getattr(m.nn, op)(t, ksize, strides, padding), [x])


@needs_tf
def test_max_pool3d_ties_like_tensorflow():
    x = RNG.integers(0, 3, size=(2, 4, 5, 4, 2)).astype(np.float32)
    for ksize, strides, padding in [(2, 2, "VALID"), (3, 1, "SAME"), (2, 1, "SAME")]:
        compare(lambda m, t: m.nn.max_pool3d(t, ksize, strides, padding), [x])


@needs_tf
@pytest.mark.parametrize("op", ["max_pool1d", "avg_pool1d"])
@pytest.mark.parametrize("ksize,strides,padding,data_format", list(itertools.product(
    [1, 2, 3], [1, 2], ["SAME", "VALID"], ["NWC", "NCW"])), ids=str)
def test_pool1d_grid(op, ksize, strides, padding, data_format):
    shape = (2, 9, 3) if data_format == "NWC" else (2, 3, 9)
    x = RNG.standard_normal(shape).astype(np.float32)
    compare(lambda m, t: getattr(m.nn, op)(t, ksize, strides, padding, data_format=data_format),
            [x], tf_fn=None if data_format == "NWC" else through_channels_last(
                op, 1, ksize, strides, padding))


@needs_tf
@pytest.mark.parametrize("padding", [[[0, 0], [1, 2], [0, 1], [0, 0]],
                                     [[0, 0], [2, 0], [1, 1], [0, 0]]], ids=str)
def test_max_pool_explicit_padding(padding):
    x = RNG.standard_normal((2, 7, 6, 3)).astype(np.float32)
    compare(lambda m, t: m.nn.max_pool2d(t, 3, 2, padding), [x])


@needs_tf
@pytest.mark.parametrize("kind", ["MAX", "AVG"])
@pytest.mark.parametrize("window,strides,dilations,padding,data_format", [
    ([2, 2], [2, 2], None, "SAME", None), ([3, 2], None, [2, 2], "VALID", None),
    ([2, 3], [1, 1], [1, 2], "VALID", "NCHW"), ([3], [2], None, "SAME", "NCW"),
    ([2], None, [3], "VALID", None), ([2, 2, 2], [1, 2, 1], None, "SAME", None),
], ids=str)
def test_pool_generic(kind, window, strides, dilations, padding, data_format):
    n = len(window)
    channels_first = data_format is not None and data_format.startswith("NC")
    shape = (2, 3) + (7,) * n if channels_first else (2,) + (7,) * n + (3,)
    if n == 3:
        shape = (2, 5, 6, 4, 2)
    x = RNG.standard_normal(shape).astype(np.float32)
    to_last = [0] + list(range(2, n + 2)) + [1]
    to_first = [0, n + 1] + list(range(1, n + 1))

    def through_channels_last_pool(m, t):
        out = m.nn.pool(m.transpose(t, to_last), window, kind, strides=strides,
                        padding=padding, dilations=dilations)
        return m.transpose(out, to_first)
    compare(lambda m, t: m.nn.pool(t, window, kind, strides=strides, padding=padding,
                                   data_format=data_format, dilations=dilations), [x],
            tf_fn=through_channels_last_pool if channels_first else None)


@needs_tf
def test_depth_max_pooling():
    """Values only: TensorFlow has no gradient for depth pooling."""
    x = RNG.standard_normal((2, 3, 4, 6)).astype(np.float32)
    ours = tw.nn.max_pool2d(x, [1, 1, 1, 3], [1, 1, 1, 3], "VALID")
    theirs = tf.nn.max_pool2d(x, [1, 1, 1, 3], [1, 1, 1, 3], "VALID")
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@needs_tf
@pytest.mark.parametrize("dtype", ["float16", "float64", "int32", "uint8"])
def test_max_pool_dtypes(dtype):
    x = RNG.integers(0, 50, size=(2, 5, 6, 3)).astype(dtype)
    # tensors, not arrays: TensorFlow converts some NumPy arrays to float32 for MaxPool
    ours = tw.nn.max_pool2d(tw.constant(x), 2, 2, "SAME")
    theirs = tf.nn.max_pool2d(tf.constant(x), 2, 2, "SAME")
    assert ours.dtype.name == theirs.dtype.name
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@needs_tf
@pytest.mark.parametrize("params", [(5, 1.0, 1.0, 0.5), (2, 2.0, 1e-4, 0.75), (1, 0.5, 0.3, 1.0),
                                    (3, 1.0, 0.2, 0.6)], ids=str)
def test_lrn(params):
    r, bias, alpha, beta = params
    x = RNG.standard_normal((2, 3, 4, 9)).astype(np.float32)
    compare(lambda m, t: m.nn.local_response_normalization(t, r, bias, alpha, beta), [x])


RESIZE_SIZES = [((5, 5), (3, 3)), ((4, 6), (8, 12)), ((7, 3), (4, 5)), ((3, 4), (3, 4)),
                ((6, 9), (5, 2)), ((2, 2), (7, 5)), ((13, 13), (26, 26))]


@needs_tf
@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic", "area", "lanczos3",
                                    "lanczos5", "gaussian", "mitchellcubic"])
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("sizes", RESIZE_SIZES, ids=str)
def test_resize(method, antialias, sizes):
    (h, w), size = sizes
    x = RNG.standard_normal((2, h, w, 3)).astype(np.float32)
    fn = lambda m, t: m.image.resize(t, size, method=method, antialias=antialias)  # noqa: E731
    if method == "area":  # TensorFlow defines no gradient for ResizeArea: values only
        ours, theirs = fn(tw, tw.constant(x)), fn(tf, tf.constant(x))
        assert ours.dtype.name == theirs.dtype.name and ours.shape == tuple(theirs.shape)
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
        return
    compare(fn, [x])


@needs_tf
@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic", "area"])
@pytest.mark.parametrize("dtype", ["uint8", "int32", "float16", "float64"])
def test_resize_dtypes(method, dtype):
    x = RNG.integers(0, 200, size=(1, 5, 7, 2)).astype(dtype)
    ours = tw.image.resize(x, [3, 10], method=method)
    theirs = tf.image.resize(x, [3, 10], method=method)
    assert ours.dtype.name == theirs.dtype.name
    np.testing.assert_allclose(np.asarray(ours.numpy(), np.float64),
                               np.asarray(theirs.numpy(), np.float64), rtol=1e-5, atol=1e-4)


@needs_tf
@pytest.mark.parametrize("shape,size", [((5, 5), [3, 4]), ((6, 4), [3, 7]), ((6, 4), [9, 7]),
                                        ((7, 3), [10, 10]), ((9, 16), [100, 100])], ids=str)
def test_resize_preserve_aspect_ratio(shape, size):
    x = RNG.standard_normal((1,) + shape + (2,)).astype(np.float32)
    ours = tw.image.resize(x, size, preserve_aspect_ratio=True)
    theirs = tf.image.resize(x, size, preserve_aspect_ratio=True)
    assert ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-5, atol=1e-5)
