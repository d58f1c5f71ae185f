"""tf.nn convolutions against TensorFlow itself: outputs, tape gradients and output shapes on the
same random inputs, over a grid of strides, dilations, paddings, data formats and groups.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
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
RNG = np.random.default_rng(5)


def rand(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def run(m, fn, arrays):
    """fn's output and the tape gradients of sum(output * weights) for every input, in module m."""
    tensors = [m.constant(a) for a in arrays]
    with m.GradientTape() as tape:
        for t in tensors:
            tape.watch(t)
        out = fn(m, *tensors)
        weights = m.constant(np.linspace(0.5, 1.5, int(np.prod(out.shape))).astype(np.float32)
                             .reshape(out.shape))
        loss = m.reduce_sum(out * weights)
    grads = tape.gradient(loss, tensors)
    return out.numpy(), [g.numpy() for g in grads]


def compare(fn, *arrays, tf_fn=None):
    """tensorweave's fn against TensorFlow's (tf_fn: the same computation written another way,
    where TensorFlow's CPU kernels lack a gradient, such as dilated explicit padding)."""
    want, want_grads = run(tf, tf_fn or fn, arrays)
    got, got_grads = run(tw, fn, arrays)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    for i, (g, w) in enumerate(zip(got_grads, want_grads)):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4, err_msg=f"gradient {i}")


EXPLICIT = [[0, 0], [1, 2], [2, 0], [0, 0]]
EXPLICIT_NCHW = [[0, 0], [0, 0], [1, 2], [2, 0]]


@needs_tf
@pytest.mark.parametrize("padding", ["SAME", "VALID", "EXPLICIT"])
@pytest.mark.parametrize("strides,dilations", [(1, 1), (2, 1), ([2, 1], 1), (1, 2), (1, [2, 1]),
                                               (3, 1)])
@pytest.mark.parametrize("groups", [1, 2])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_conv2d(padding, strides, dilations, groups, data_format):
    nchw = data_format == "NCHW"
    x = rand(2, 4, 9, 8) if nchw else rand(2, 9, 8, 4)
    w = rand(3, 2, 4 // groups, 6)
    pad = (EXPLICIT_NCHW if nchw else EXPLICIT) if padding == "EXPLICIT" else padding
    def padded_first(m, a, b):  # TensorFlow's CPU gradients of explicit padding: NHWC, no groups
        return m.nn.conv2d(m.pad(a, pad), b, strides, "VALID", data_format=data_format,
                           dilations=dilations)
    compare(lambda m, a, b: m.nn.conv2d(a, b, strides, pad, data_format=data_format,
                                        dilations=dilations), x, w,
            tf_fn=padded_first if padding == "EXPLICIT" else None)


@needs_tf
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2), (3, 1)])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_conv1d(padding, stride, dilation, data_format):
    x = rand(2, 4, 11) if data_format == "NCW" else rand(2, 11, 4)
    compare(lambda m, a, b: m.nn.conv1d(a, b, stride, padding, data_format=data_format,
                                        dilations=dilation), x, rand(3, 4, 5))


@needs_tf
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("strides", [[1, 1, 1, 1, 1], [1, 2, 1, 2, 1]])
def test_conv3d(padding, strides):
    compare(lambda m, a, b: m.nn.conv3d(a, b, strides, padding), rand(2, 5, 6, 5, 3),
            rand(2, 3, 2, 3, 4))


@needs_tf
@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("dilations", [None, 2])
def test_convolution(rank, padding, dilations):
    x = rand(2, *([7] * rank), 3)
    w = rand(*([3] * rank), 3, 4)
    # (TensorFlow's gradient of a 3-D convolution fails for data_format=None: name the format)
    fmt = {1: "NWC", 2: "NHWC", 3: "NDHWC"}[rank] if rank == 3 else None
    compare(lambda m, a, b: m.nn.convolution(a, b, padding=padding, data_format=fmt,
                                             dilations=dilations), x, w)


@needs_tf
def test_convolution_extra_batch_dims_and_groups():
    compare(lambda m, a, b: m.nn.conv2d(a, b, 2, "SAME"), rand(3, 2, 6, 6, 4), rand(3, 3, 4, 5))
    compare(lambda m, a, b: m.nn.convolution(a, b, padding="SAME"), rand(2, 6, 6, 4),
            rand(3, 3, 2, 6))


@needs_tf
@pytest.mark.parametrize("padding", ["SAME", "VALID", "EXPLICIT"])
@pytest.mark.parametrize("strides,rate", [([1, 1, 1, 1], [1, 1]), ([1, 2, 2, 1], [1, 1]),
                                          ([1, 1, 1, 1], [2, 2]), ([1, 1, 1, 1], [2, 1])])
@pytest.mark.parametrize("mult", [1, 3])
def test_depthwise_conv2d(padding, strides, rate, mult):
    pad = EXPLICIT if padding == "EXPLICIT" else padding
    compare(lambda m, a, b: m.nn.depthwise_conv2d(a, b, strides, pad, dilations=rate),
            rand(2, 9, 8, 3), rand(3, 2, 3, mult))


@needs_tf
def test_depthwise_conv2d_nchw():
    compare(lambda m, a, b: m.nn.depthwise_conv2d(a, b, [1, 1, 1, 1], "SAME", data_format="NCHW"),
            rand(2, 3, 7, 7), rand(3, 3, 3, 2))


@needs_tf
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("strides,rate", [([1, 1, 1, 1], None), ([1, 2, 2, 1], None),
                                          ([1, 1, 1, 1], [2, 2])])
def test_separable_conv2d(padding, strides, rate):
    compare(lambda m, a, d, p: m.nn.separable_conv2d(a, d, p, strides, padding, dilations=rate),
            rand(2, 8, 8, 3), rand(3, 3, 3, 2), rand(1, 1, 6, 5))


@needs_tf
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("rate", [1, 2, 3])
def test_atrous(padding, rate):
    compare(lambda m, a, b: m.nn.atrous_conv2d(a, b, rate, padding), rand(2, 9, 9, 3),
            rand(3, 3, 3, 4))
    size = 9 if padding == "SAME" else 9 - 2 * rate
    compare(lambda m, a, b: m.nn.atrous_conv2d_transpose(a, b, [2, 9, 9, 3], rate, padding),
            rand(2, size, size, 4), rand(3, 3, 3, 4))


@needs_tf
@pytest.mark.parametrize("padding", ["SAME", "VALID", "EXPLICIT"])
@pytest.mark.parametrize("strides", [1, 2, [3, 2]])
@pytest.mark.parametrize("out_hw", [(8, 7), (9, 9)])
@pytest.mark.parametrize("data_format", ["NHWC", "NCHW"])
def test_conv2d_transpose(padding, strides, out_hw, data_format):
    nchw = data_format == "NCHW"
    s = [strides, strides] if isinstance(strides, int) else strides
    pad = (EXPLICIT_NCHW if nchw else EXPLICIT) if padding == "EXPLICIT" else padding
    pads = [(1, 2), (2, 0)] if padding == "EXPLICIT" else [(0, 0), (0, 0)]
    sizes = []
    for n, k, st, (lo, hi) in zip(out_hw, (3, 2), s, pads):
        sizes.append(-(-n // st) if padding == "SAME" else (n + lo + hi - k) // st + 1)
    out_shape = [2, 4, *out_hw] if nchw else [2, *out_hw, 4]
    x = rand(2, 6, *sizes) if nchw else rand(2, *sizes, 6)
    def channels_last(m, a, b):  # TensorFlow's CPU kernel takes explicit padding in NHWC only
        out = m.nn.conv2d_transpose(m.transpose(a, [0, 2, 3, 1]), b, [2, *out_hw, 4], strides,
                                    EXPLICIT)
        return m.transpose(out, [0, 3, 1, 2])
    compare(lambda m, a, b: m.nn.conv2d_transpose(a, b, out_shape, strides, pad,
                                                  data_format=data_format), x, rand(3, 2, 4, 6),
            tf_fn=channels_last if padding == "EXPLICIT" and nchw else None)


@needs_tf
def test_conv1d_conv3d_and_conv_transpose():
    compare(lambda m, a, b: m.nn.conv1d_transpose(a, b, [2, 9, 3], 2, "SAME"), rand(2, 5, 4),
            rand(3, 3, 4))
    compare(lambda m, a, b: m.nn.conv1d_transpose(a, b, [2, 3, 10], 3, "VALID", data_format="NCW"),
            rand(2, 4, 3), rand(3, 3, 4))
    compare(lambda m, a, b: m.nn.conv3d_transpose(a, b, [1, 6, 5, 6, 3], [1, 2, 2, 2, 1], "SAME"),
            rand(1, 3, 3, 3, 4), rand(2, 3, 2, 3, 4))
    compare(lambda m, a, b: m.nn.conv_transpose(a, b, [2, 8, 8, 3], 2, "SAME"), rand(2, 4, 4, 4),
            rand(3, 3, 3, 4))


@needs_tf
def test_dtypes():
    x, w = rand(1, 6, 6, 2), rand(3, 3, 2, 3)
    for dtype in ("float64", "float16"):
        want = tf.nn.conv2d(tf.constant(x, dtype), tf.constant(w, dtype), 1, "SAME")
        got = tw.nn.conv2d(tw.constant(x, dtype), tw.constant(w, dtype), 1, "SAME")
        assert got.dtype.name == want.dtype.name
        np.testing.assert_allclose(got.numpy().astype(np.float64), want.numpy().astype(np.float64),
                                   rtol=1e-2 if dtype == "float16" else 1e-10, atol=1e-2)
    xi = RNG.integers(-4, 4, (1, 5, 5, 2)).astype(np.int32)
    wi = RNG.integers(-4, 4, (2, 2, 2, 3)).astype(np.int32)
    np.testing.assert_array_equal(tw.nn.conv2d(xi, wi, 1, "VALID").numpy(),
                                  tf.nn.conv2d(xi, wi, 1, "VALID").numpy())


@needs_tf
def test_output_shapes_for_every_padding_stride_dilation():
    for size, k, stride, dilation, padding in itertools.product(
            (5, 6, 7, 8), (1, 2, 3, 4), (1, 2, 3), (1, 2), ("SAME", "VALID")):
        if (k - 1) * dilation + 1 > size and padding == "VALID":
            continue
        x = np.zeros((1, size, size + 1, 2), np.float32)
        w = np.zeros((k, k, 2, 3), np.float32)
        want = tf.nn.conv2d(x, w, stride, padding, dilations=dilation).shape
        got = tw.nn.conv2d(x, w, stride, padding, dilations=dilation).shape
        assert tuple(got) == tuple(want), (size, k, stride, dilation, padding)
        explicit = [[0, 0], [k // 2, 1], [0, k - 1], [0, 0]]
        want = tf.nn.conv2d(x, w, stride, explicit, dilations=dilation).shape
        got = tw.nn.conv2d(x, w, stride, explicit, dilations=dilation).shape
        assert tuple(got) == tuple(want), (size, k, stride, dilation, explicit)


@needs_tf
@pytest.mark.parametrize("spec", [[None, 9, 8, 3], [None, None, 8, 3], [2, None, None, 3],
                                  [None, None, None, None], None])
@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [1, 2])
def test_graph_output_shapes(spec, padding, stride):
    w = np.zeros((3, 2, 3, 5), np.float32)
    shapes = []
    for m in (tf, tw):
        f = m.function(lambda a, m=m: m.nn.conv2d(a, w, stride, padding))
        shapes.append(f.get_concrete_function(m.TensorSpec(spec, m.float32)).output_shapes)
    want, got = shapes
    assert got.rank == want.rank
    if want.rank is not None:
        assert got.as_list() == want.as_list()
