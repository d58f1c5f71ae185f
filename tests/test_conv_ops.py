"""tf.nn convolutions against direct NumPy loops, finite differences, abstract evaluation and
TensorFlow's errors."""
import itertools
import warnings

import numpy as np
import pytest

import tensorweave as tf
from tensorweave.ops import conv_ops
from tests.harness import check_abstract, check_grad

RNG = np.random.default_rng(1234)


def rand(*shape):
    return RNG.standard_normal(shape)


# -- independent references: loops over output positions ----------------------------------------
def same_pads(sizes, ksizes, strides, dilations):
    pads = []
    for n, k, s, d in zip(sizes, ksizes, strides, dilations):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def resolve_pads(padding, sizes, ksizes, strides, dilations):
    if padding == "SAME":
        return same_pads(sizes, ksizes, strides, dilations)
    if padding == "VALID":
        return [(0, 0)] * len(sizes)
    return [tuple(p) for p in padding]


def ref_conv(x, w, strides, dilations, pads):
    """Channels-last grouped N-d convolution: y[b, o, f] = sum over the window and the group's
    channels of x * w."""
    nsp = x.ndim - 2
    C = x.shape[-1]
    Cg, F = w.shape[-2:]
    G = C // Cg
    Fg = F // G
    K = w.shape[:nsp]
    xp = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
    O = [(xp.shape[1 + i] - (K[i] - 1) * dilations[i] - 1) // strides[i] + 1 for i in range(nsp)]
    y = np.zeros((x.shape[0],) + tuple(O) + (F,))
    for o in itertools.product(*[range(n) for n in O]):
        window = tuple(slice(o[i] * strides[i], o[i] * strides[i] + (K[i] - 1) * dilations[i] + 1,
                             dilations[i]) for i in range(nsp))
        patch = xp[(slice(None),) + window]
        for g in range(G):
            part = np.tensordot(patch[..., g * Cg:(g + 1) * Cg], w[..., g * Fg:(g + 1) * Fg],
                                axes=nsp + 1)
            y[(slice(None),) + o + (slice(g * Fg, (g + 1) * Fg),)] = part
    return y


def ref_conv_transpose(dy, w, in_shape, strides, dilations, pads):
    """The adjoint of ref_conv: every output gradient spreads over its window."""
    nsp = dy.ndim - 2
    C = in_shape[-1]
    Cg, F = w.shape[-2:]
    G = C // Cg
    Fg = F // G
    K = w.shape[:nsp]
    padded = [in_shape[1 + i] + pads[i][0] + pads[i][1] for i in range(nsp)]
    dxp = np.zeros((in_shape[0],) + tuple(padded) + (C,))
    for o in itertools.product(*[range(n) for n in dy.shape[1:-1]]):
        window = tuple(slice(o[i] * strides[i], o[i] * strides[i] + (K[i] - 1) * dilations[i] + 1,
                             dilations[i]) for i in range(nsp))
        for g in range(G):
            grad = dy[(slice(None),) + o + (slice(g * Fg, (g + 1) * Fg),)]
            part = np.tensordot(grad, w[..., g * Fg:(g + 1) * Fg], axes=([1], [nsp + 1]))
            dxp[(slice(None),) + window + (slice(g * Cg, (g + 1) * Cg),)] += part
    crop = tuple(slice(lo, lo + in_shape[1 + i]) for i, (lo, _) in enumerate(pads))
    return dxp[(slice(None),) + crop]


def ref_depthwise(x, w, strides, dilations, pads):
    """y[..., c * m + j] = sum over the window of x[..., c] * w[..., c, j]."""
    K, (C, mult) = w.shape[:2], w.shape[2:]
    xp = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
    O = [(xp.shape[1 + i] - (K[i] - 1) * dilations[i] - 1) // strides[i] + 1 for i in range(2)]
    y = np.zeros((x.shape[0], O[0], O[1], C * mult))
    for i, j in itertools.product(range(O[0]), range(O[1])):
        patch = xp[:, i * strides[0]:i * strides[0] + (K[0] - 1) * dilations[0] + 1:dilations[0],
                   j * strides[1]:j * strides[1] + (K[1] - 1) * dilations[1] + 1:dilations[1]]
        for c in range(C):
            for m in range(mult):
                y[:, i, j, c * mult + m] = (patch[..., c] * w[:, :, c, m]).sum(axis=(1, 2))
    return y


def first(a):
    """channels-last array -> channels-first."""
    return np.moveaxis(a, -1, 1)


def last(a):
    return np.moveaxis(a, 1, -1)


# -- forward against the references ---------------------------------------------------------------
PADDINGS_2D = ["SAME", "VALID", [[0, 0], [1, 2], [0, 1], [0, 0]]]
GRID_2D = [(s, d) for s in [(1, 1), (2, 1), (3, 2)] for d in [(1, 1), (2, 1)]]


@pytest.mark.parametrize("padding", PADDINGS_2D, ids=["same", "valid", "explicit"])
@pytest.mark.parametrize("strides,dilations", GRID_2D)
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_against_loops(padding, strides, dilations, groups):
    x = rand(2, 7, 8, 4)
    w = rand(3, 2, 4 // groups, 6)
    got = tf.nn.conv2d(x, w, list(strides), padding, dilations=list(dilations)).numpy()
    pads = resolve_pads(padding if isinstance(padding, str) else padding[1:3], (7, 8), (3, 2),
                        strides, dilations)
    np.testing.assert_allclose(got, ref_conv(x, w, strides, dilations, pads), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("padding", PADDINGS_2D, ids=["same", "valid", "explicit"])
def test_conv2d_nchw(padding):
    x = rand(2, 4, 6, 7)
    w = rand(3, 3, 2, 4)
    explicit = padding if isinstance(padding, str) else [[0, 0], [0, 0], [1, 2], [0, 1]]
    got = tf.nn.conv2d(x, w, [1, 1, 2, 1], explicit, data_format="NCHW").numpy()
    want = tf.nn.conv2d(last(x), w, [2, 1], padding).numpy()
    np.testing.assert_allclose(got, first(want), rtol=1e-12)


def test_conv2d_extra_batch_dims_and_1x1():
    x = rand(3, 2, 5, 5, 4)
    w = rand(1, 1, 4, 3)
    got = tf.nn.conv2d(x, w, 2, "SAME").numpy()
    want = ref_conv(x.reshape(6, 5, 5, 4), w, (2, 2), (1, 1), [(0, 0), (0, 0)])
    np.testing.assert_allclose(got, want.reshape(3, 2, 3, 3, 3), rtol=1e-12)
    got = tf.nn.convolution(x, w, padding="VALID").numpy()
    np.testing.assert_allclose(got, np.einsum("...c,cf->...f", x, w[0, 0]), rtol=1e-12)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride,dilation", [(1, 1), (2, 1), (1, 2), (3, 2)])
@pytest.mark.parametrize("data_format", ["NWC", "NCW"])
def test_conv1d_against_loops(padding, stride, dilation, data_format):
    x = rand(2, 9, 4)
    w = rand(3, 2, 4)  # two groups
    arg = x if data_format == "NWC" else first(x)
    got = tf.nn.conv1d(arg, w, stride, padding, data_format=data_format, dilations=dilation).numpy()
    got = got if data_format == "NWC" else last(got)
    pads = resolve_pads(padding, (9,), (3,), (stride,), (dilation,))
    np.testing.assert_allclose(got, ref_conv(x, w, (stride,), (dilation,), pads), rtol=1e-12)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("strides,dilations", [((1, 1, 1), (1, 1, 1)), ((2, 1, 2), (1, 1, 1)),
                                               ((1, 1, 1), (2, 1, 1))])
@pytest.mark.parametrize("data_format", ["NDHWC", "NCDHW"])
def test_conv3d_against_loops(padding, strides, dilations, data_format):
    x = rand(2, 5, 4, 6, 3)
    w = rand(2, 3, 2, 3, 4)
    cf = data_format == "NCDHW"
    full = (lambda v: [1, 1] + list(v)) if cf else (lambda v: [1] + list(v) + [1])
    got = tf.nn.conv3d(first(x) if cf else x, w, full(strides), padding, data_format,
                       full(dilations)).numpy()
    got = last(got) if cf else got
    pads = resolve_pads(padding, (5, 4, 6), (2, 3, 2), strides, dilations)
    np.testing.assert_allclose(got, ref_conv(x, w, strides, dilations, pads), rtol=1e-12)


def test_conv3d_groups():
    x = rand(1, 4, 4, 4, 6)
    w = rand(2, 2, 2, 2, 6)
    got = tf.nn.conv3d(x, w, [1] * 5, "VALID").numpy()
    np.testing.assert_allclose(got, ref_conv(x, w, (1, 1, 1), (1, 1, 1), [(0, 0)] * 3), rtol=1e-12)


@pytest.mark.parametrize("rank", [1, 2, 3])
@pytest.mark.parametrize("dilated", [False, True])
def test_convolution_dispatches_on_rank(rank, dilated):
    x = rand(2, *([6] * rank), 4)
    w = rand(*([2] * rank), 4, 3)
    dil = [2] * rank if dilated else None
    got = tf.nn.convolution(x, w, padding="SAME", dilations=dil).numpy()
    d = (2 if dilated else 1,) * rank
    pads = same_pads((6,) * rank, (2,) * rank, (1,) * rank, d)
    np.testing.assert_allclose(got, ref_conv(x, w, (1,) * rank, d, pads), rtol=1e-12)


def test_convolution_channels_first_and_strides():
    x = rand(2, 4, 7, 7)
    w = rand(3, 3, 4, 5)
    got = tf.nn.convolution(x, w, strides=2, padding="SAME", data_format="NCHW").numpy()
    want = ref_conv(last(x), w, (2, 2), (1, 1), same_pads((7, 7), (3, 3), (2, 2), (1, 1)))
    np.testing.assert_allclose(got, first(want), rtol=1e-12)


@pytest.mark.parametrize("padding", PADDINGS_2D, ids=["same", "valid", "explicit"])
@pytest.mark.parametrize("strides,rate", [([1, 1, 1, 1], [1, 1]), ([1, 2, 2, 1], [1, 1]),
                                          ([1, 1, 1, 1], [2, 2]), ([1, 2, 1, 1], [1, 1])])
@pytest.mark.parametrize("mult", [1, 2])
def test_depthwise_against_loops(padding, strides, rate, mult):
    x = rand(2, 7, 6, 3)
    w = rand(3, 2, 3, mult)
    got = tf.nn.depthwise_conv2d(x, w, strides, padding, dilations=rate).numpy()
    pads = resolve_pads(padding if isinstance(padding, str) else padding[1:3], (7, 6), (3, 2),
                        strides[1:3], rate)
    np.testing.assert_allclose(got, ref_depthwise(x, w, strides[1:3], rate, pads), rtol=1e-12)


def test_depthwise_nchw_and_single_channel():
    x = rand(2, 3, 6, 6)
    w = rand(3, 3, 3, 2)
    got = tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "SAME", data_format="NCHW").numpy()
    want = ref_depthwise(last(x), w, (1, 1), (1, 1), same_pads((6, 6), (3, 3), (1, 1), (1, 1)))
    np.testing.assert_allclose(got, first(want), rtol=1e-12)
    x1, w1 = rand(2, 5, 5, 1), rand(2, 2, 1, 3)  # one channel: an ordinary convolution
    got = tf.nn.depthwise_conv2d(x1, w1, [1, 1, 1, 1], "VALID").numpy()
    np.testing.assert_allclose(got, ref_depthwise(x1, w1, (1, 1), (1, 1), [(0, 0)] * 2), rtol=1e-12)


def test_separable_conv2d():
    x = rand(2, 6, 6, 3)
    dw = rand(3, 3, 3, 2)
    pw = rand(1, 1, 6, 4)
    got = tf.nn.separable_conv2d(x, dw, pw, [1, 2, 2, 1], "SAME").numpy()
    depth = ref_depthwise(x, dw, (2, 2), (1, 1), same_pads((6, 6), (3, 3), (2, 2), (1, 1)))
    np.testing.assert_allclose(got, np.einsum("...c,cf->...f", depth, pw[0, 0]), rtol=1e-12)


def test_atrous_conv2d():
    x = rand(1, 9, 9, 2)
    w = rand(3, 3, 2, 3)
    for padding in ("SAME", "VALID"):
        got = tf.nn.atrous_conv2d(x, w, 2, padding).numpy()
        pads = resolve_pads(padding, (9, 9), (3, 3), (1, 1), (2, 2))
        np.testing.assert_allclose(got, ref_conv(x, w, (1, 1), (2, 2), pads), rtol=1e-12)


# -- transposed convolutions ------------------------------------------------------------------
@pytest.mark.parametrize("padding", PADDINGS_2D, ids=["same", "valid", "explicit"])
@pytest.mark.parametrize("strides,dilations", [((1, 1), (1, 1)), ((2, 2), (1, 1)),
                                               ((3, 2), (1, 1)), ((1, 1), (2, 1))])
@pytest.mark.parametrize("groups", [1, 2])
def test_conv2d_transpose_against_loops(padding, strides, dilations, groups):
    in_shape = (2, 7, 8, 4)
    w = rand(3, 2, 4 // groups, 6)
    pads = resolve_pads(padding if isinstance(padding, str) else padding[1:3], in_shape[1:3],
                        (3, 2), strides, dilations)
    out_shape = ref_conv(np.zeros(in_shape), w, strides, dilations, pads).shape
    dy = rand(*out_shape)
    got = tf.nn.conv2d_transpose(dy, w, list(in_shape), list(strides), padding,
                                 dilations=list(dilations)).numpy()
    want = ref_conv_transpose(dy, w, in_shape, strides, dilations, pads)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_conv_transposes_1d_3d_and_nchw():
    w1 = rand(3, 2, 5)
    dy1 = rand(2, 4, 5)
    got = tf.nn.conv1d_transpose(dy1, w1, [2, 8, 2], 2, "SAME").numpy()
    want = ref_conv_transpose(dy1, w1, (2, 8, 2), (2,), (1,), same_pads((8,), (3,), (2,), (1,)))
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got = tf.nn.conv1d_transpose(first(dy1), w1, [2, 2, 8], 2, "SAME", data_format="NCW").numpy()
    np.testing.assert_allclose(got, first(want), rtol=1e-12)
    w3 = rand(2, 2, 2, 3, 4)
    dy3 = rand(1, 2, 3, 2, 4)
    got = tf.nn.conv3d_transpose(dy3, w3, [1, 4, 6, 4, 3], [1, 2, 2, 2, 1], "VALID").numpy()
    want = ref_conv_transpose(dy3, w3, (1, 4, 6, 4, 3), (2, 2, 2), (1, 1, 1), [(0, 0)] * 3)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    got = tf.nn.conv_transpose(dy3, w3, [1, 4, 6, 4, 3], 2, "VALID").numpy()
    np.testing.assert_allclose(got, want, rtol=1e-12)
    w2 = rand(3, 3, 2, 4)
    dy2 = rand(2, 4, 3, 3)  # NCHW
    got = tf.nn.conv2d_transpose(dy2, w2, tf.constant([2, 2, 6, 5]), 2, "SAME",
                                 data_format="NCHW").numpy()
    want = ref_conv_transpose(last(dy2), w2, (2, 6, 5, 2), (2, 2), (1, 1),
                              same_pads((6, 5), (3, 3), (2, 2), (1, 1)))
    np.testing.assert_allclose(got, first(want), rtol=1e-12)
    got = tf.nn.conv2d_transpose(last(dy2), w2, [6, 5], 2, "SAME").numpy()  # spatial sizes only
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_atrous_conv2d_transpose_is_the_adjoint_of_atrous_conv2d():
    w = rand(3, 3, 2, 3)
    dy = rand(1, 9, 9, 3)
    got = tf.nn.atrous_conv2d_transpose(dy, w, [1, 9, 9, 2], 2, "SAME").numpy()
    pads = same_pads((9, 9), (3, 3), (1, 1), (2, 2))
    np.testing.assert_allclose(got, ref_conv_transpose(dy, w, (1, 9, 9, 2), (1, 1), (2, 2), pads),
                               rtol=1e-12)


def test_depthwise_backprops_match_the_tape():
    x = tf.constant(rand(2, 6, 6, 3))
    w = tf.constant(rand(3, 3, 3, 2))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, w])
        y = tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME")
    dy = tf.constant(rand(*y.shape))
    dx, dw = tape.gradient(y, [x, w], output_gradients=dy)
    got_x = tf.nn.depthwise_conv2d_backprop_input([2, 6, 6, 3], w, dy, [1, 2, 2, 1], "SAME")
    got_w = tf.nn.depthwise_conv2d_backprop_filter(x, [3, 3, 3, 2], dy, [1, 2, 2, 1], "SAME")
    np.testing.assert_allclose(got_x.numpy(), dx.numpy(), rtol=1e-12)
    np.testing.assert_allclose(got_w.numpy(), dw.numpy(), rtol=1e-12)
    # and the tape's input gradient is the adjoint of the loop reference
    pads = same_pads((6, 6), (3, 3), (2, 2), (1, 1))
    want = ref_conv_transpose(dy.numpy(), w.numpy().reshape(3, 3, 1, 6), (2, 6, 6, 3), (2, 2),
                              (1, 1), pads)
    np.testing.assert_allclose(dx.numpy(), want, rtol=1e-12)


# -- dtypes -------------------------------------------------------------------------------------
def test_dtypes_are_kept():
    x = rand(1, 5, 5, 2)
    w = rand(3, 3, 2, 2)
    want = ref_conv(x, w, (1, 1), (1, 1), [(1, 1), (1, 1)])
    for dtype, tol in ((tf.float32, 1e-5), (tf.float16, 2e-2), (tf.bfloat16, 6e-2)):
        y = tf.nn.conv2d(tf.cast(x, dtype), tf.cast(w, dtype), 1, "SAME")
        assert y.dtype == dtype
        np.testing.assert_allclose(np.asarray(y.numpy(), np.float64), want, rtol=tol, atol=tol * 10)
    xi = RNG.integers(-5, 5, size=(1, 5, 5, 2)).astype(np.int32)
    wi = RNG.integers(-5, 5, size=(3, 3, 2, 2)).astype(np.int32)
    y = tf.nn.conv2d(xi, wi, 1, "VALID")
    assert y.dtype == tf.int32
    np.testing.assert_array_equal(y.numpy(), ref_conv(xi, wi, (1, 1), (1, 1), [(0, 0)] * 2))


# -- gradients ------------------------------------------------------------------------------------
GRAD_CASES = {
    "conv2d_same_stride": (lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"), (1, 5, 5, 2), (3, 3, 2, 2)),
    "conv2d_valid_dilated": (lambda x, w: tf.nn.conv2d(x, w, 1, "VALID", dilations=2),
                             (1, 6, 5, 2), (2, 2, 2, 3)),
    "conv2d_explicit_groups": (lambda x, w: tf.nn.conv2d(x, w, [1, 2], [[0, 0], [1, 0], [2, 1],
                                                                        [0, 0]]),
                               (2, 4, 4, 4), (2, 2, 2, 2)),
    "conv2d_nchw": (lambda x, w: tf.nn.conv2d(x, w, 2, "SAME", data_format="NCHW"),
                    (1, 2, 5, 4), (2, 3, 2, 2)),
    "conv2d_1x1": (lambda x, w: tf.nn.conv2d(x, w, 1, "VALID"), (2, 3, 3, 3), (1, 1, 3, 2)),
    "conv1d": (lambda x, w: tf.nn.conv1d(x, w, 2, "SAME"), (2, 7, 2), (3, 2, 3)),
    "conv3d": (lambda x, w: tf.nn.conv3d(x, w, [1, 2, 1, 1, 1], "SAME"), (1, 3, 4, 3, 2),
               (2, 2, 2, 2, 2)),
    "depthwise": (lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "SAME"),
                  (1, 5, 5, 2), (3, 3, 2, 2)),
    "depthwise_dilated": (lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 1, 1], "VALID",
                                                              dilations=[2, 1]),
                          (1, 6, 4, 3), (2, 2, 3, 1)),
    "conv2d_transpose": (lambda y, w: tf.nn.conv2d_transpose(y, w, [1, 5, 5, 2], 2, "SAME"),
                         (1, 3, 3, 3), (3, 3, 2, 3)),
    "conv3d_transpose": (lambda y, w: tf.nn.conv3d_transpose(y, w, [1, 4, 3, 3, 2], 2, "VALID"),
                         (1, 2, 1, 1, 2), (2, 2, 2, 2, 2)),
}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients_against_finite_differences(case):
    fn, xs, ws = GRAD_CASES[case]
    check_grad(fn, rand(*xs), rand(*ws))


@pytest.mark.parametrize("case", ["conv2d_same_stride", "conv2d_explicit_groups", "depthwise",
                                  "conv2d_transpose", "conv1d"])
def test_second_derivatives(case):
    fn, xs, ws = GRAD_CASES[case]
    check_grad(lambda x, w: tf.square(fn(x, w)), rand(*xs), rand(*ws), order=2, rtol=1e-4,
               atol=1e-5)


def test_gradient_of_separable_conv2d():
    check_grad(lambda x, d, p: tf.nn.separable_conv2d(x, d, p, [1, 1, 1, 1], "SAME"),
               rand(1, 4, 4, 2), rand(2, 2, 2, 2), rand(1, 1, 4, 3))


def test_only_the_requested_gradient_is_computed():
    x = tf.constant(rand(1, 5, 5, 2))
    w = tf.Variable(rand(3, 3, 2, 2))
    with tf.GradientTape() as tape:
        y = tf.nn.conv2d(x, w, 1, "SAME")
    names = []
    from tensorweave.framework.context import state

    class Spy:
        def _record(self, rec):
            names.append(rec.prim.name)

        def _record_read(self, *args):
            pass
    state.tapes = state.tapes + [Spy()]
    try:
        tape.gradient(y, w)
    finally:
        state.tapes = state.tapes[:-1]
    assert "Conv2DBackpropFilter" in names and "Conv2DBackpropInput" not in names


# -- abstract evaluation --------------------------------------------------------------------------
ABSTRACT_CASES = [
    lambda x, w: tf.nn.conv2d(x, w, 2, "SAME"),
    lambda x, w: tf.nn.conv2d(x, w, 1, [[0, 0], [1, 2], [0, 1], [0, 0]], dilations=2),
    lambda x, w: tf.nn.conv2d(x, w[:, :, :2], 1, "VALID"),
    lambda x, w: tf.nn.depthwise_conv2d(x, w, [1, 1, 2, 1], "SAME"),
    lambda x, w: tf.nn.conv2d_transpose(tf.nn.conv2d(x, w, 2, "VALID"), w, [2, 7, 6, 4], 2,
                                        "VALID"),
]


@pytest.mark.parametrize("index", range(len(ABSTRACT_CASES)))
def test_abstract_evaluation_matches_outputs(index):
    x = tf.constant(rand(2, 7, 6, 4))
    w = tf.constant(rand(3, 3, 4, 4))

    def run(x, w):
        with tf.GradientTape() as tape:
            tape.watch([x, w])
            y = ABSTRACT_CASES[index](x, w)
        return tape.gradient(tf.reduce_sum(y * y), [x, w])
    check_abstract(run, x, w)


@pytest.mark.parametrize("padding", ["SAME", "VALID"])
@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("dilation", [1, 2])
def test_graph_shapes_with_unknown_dims(padding, stride, dilation):
    if stride > 1 and dilation > 1:
        return
    x = rand(2, 9, 8, 3)
    w = rand(3, 2, 3, 5)
    eager = tf.nn.conv2d(x, w, stride, padding, dilations=dilation)
    for spec in ([None, 9, 8, 3], [None, None, 8, 3], [2, 9, None, None], None):
        f = tf.function(lambda a, b: tf.nn.conv2d(a, b, stride, padding, dilations=dilation))
        concrete = f.get_concrete_function(tf.TensorSpec(spec, tf.float64),
                                           tf.TensorSpec([3, 2, 3, 5], tf.float64))
        shape = concrete.output_shapes
        if spec is None:  # unknown rank: TensorFlow's shape function assumes the op's rank
            assert shape.as_list() == [None, None, None, 5]
            continue
        assert shape.rank == 4
        for got, real, known in zip(shape.as_list(), eager.shape.as_list(),
                                    [spec[0], spec[1], spec[2], 5]):
            assert got == (real if known is not None else None)
        np.testing.assert_allclose(concrete(tf.constant(x), tf.constant(w)).numpy(),
                                   eager.numpy(), rtol=1e-12)


def test_graph_gradients_and_transpose_shapes():
    w = tf.constant(rand(3, 3, 2, 4))

    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.nn.conv2d(x, w, 2, "SAME")
            z = tf.nn.conv2d_transpose(y, w, tf.shape(x), 2, "SAME")
            loss = tf.reduce_sum(z * z)
        return y, z, tape.gradient(loss, x)

    x = tf.constant(rand(2, 7, 7, 2))
    concrete = f.get_concrete_function(tf.TensorSpec([None, 7, 7, 2], tf.float64))
    y_shape, z_shape, g_shape = concrete.output_shapes
    assert y_shape.as_list() == [None, 4, 4, 4]
    assert g_shape.as_list() == [None, 7, 7, 2]
    y, z, g = f(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        ze = tf.nn.conv2d_transpose(tf.nn.conv2d(x, w, 2, "SAME"), w, [2, 7, 7, 2], 2, "SAME")
        loss = tf.reduce_sum(ze * ze)
    np.testing.assert_allclose(z.numpy(), ze.numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.numpy(), tape.gradient(loss, x).numpy(), rtol=1e-12)


def test_graph_shape_errors():
    f = tf.function(lambda a, b: tf.nn.conv2d(a, b, 2, "VALID"))
    with pytest.raises(ValueError, match="Depth of input \\(4\\) is not a multiple of input "
                                         "depth of filter \\(3\\)"):
        f.get_concrete_function(tf.TensorSpec([None, 5, 5, 4]), tf.TensorSpec([3, 3, 3, 6]))
    with pytest.raises(ValueError, match="Negative dimension size caused by subtracting 3 from 2"):
        f.get_concrete_function(tf.TensorSpec([None, 2, 5, 4]), tf.TensorSpec([3, 3, 4, 5]))
    with pytest.raises(ValueError, match="Shape must be rank 4 but is rank 3"):
        f.get_concrete_function(tf.TensorSpec([5, 5, 4]), tf.TensorSpec([3, 3, 4, 5]))


# -- errors -------------------------------------------------------------------------------------
X = np.zeros((2, 7, 7, 4), np.float32)
K = np.zeros((3, 3, 4, 6), np.float32)
ERRORS = [
    (lambda: tf.nn.conv2d(X, np.zeros((3, 3, 2, 5), np.float32), 1, "SAME"),
     tf.errors.InvalidArgumentError, "output depth must be evenly divisible by number of groups: "
                                     "5 vs 2"),
    (lambda: tf.nn.conv2d(X, np.zeros((3, 3, 3, 6), np.float32), 1, "SAME"),
     tf.errors.InvalidArgumentError, "input depth must be evenly divisible by filter depth: 4 vs 3"),
    (lambda: tf.nn.conv2d(X[0], K, 1, "SAME"), tf.errors.InvalidArgumentError,
     "convolution input must be 4-dimensional: [7,7,4]"),
    (lambda: tf.nn.conv2d(X, K[0], 1, "SAME"), tf.errors.InvalidArgumentError,
     "convolution filter must be 4-dimensional: [3,4,6]"),
    (lambda: tf.nn.conv2d(X, K, [2, 2, 2, 1], "SAME"), tf.errors.UnimplementedError,
     "does not yet support strides in the batch and depth dimensions"),
    (lambda: tf.nn.conv2d(X, K, [1, 2, 2], "SAME"), ValueError,
     "strides should be of length 1, 2 or 4. Received: strides=[1, 2, 2] of length 3"),
    (lambda: tf.nn.conv2d(X, K, 0, "SAME"), tf.errors.InvalidArgumentError,
     "Row and column strides should be larger than 0."),
    (lambda: tf.nn.conv2d(X, K, 1, "SAME", dilations=0), tf.errors.InvalidArgumentError,
     "Dilated rates should be larger than 0."),
    (lambda: tf.nn.conv2d(X[:, :2, :2], np.zeros((5, 5, 4, 6), np.float32), 1, "VALID"),
     tf.errors.InvalidArgumentError, "Computed output size would be negative: -2 [input_size: 2, "
                                     "effective_filter_size: 5, stride: 1]"),
    (lambda: tf.nn.conv2d(X, K, 1, [[1, 0], [1, 2], [3, 4], [0, 0]]),
     tf.errors.InvalidArgumentError, "Nonzero explicit padding in the batch or depth dimensions"),
    (lambda: tf.nn.conv2d(X, K, 1, [[0, 0], [-1, 2], [3, 4], [0, 0]]),
     tf.errors.InvalidArgumentError, "All elements of explicit_paddings must be nonnegative"),
    (lambda: tf.nn.conv2d(X, K, 1, [[0, 0], [1, 0], [0, 0]]), ValueError,
     "When padding is a list, it must be of size 4."),
    (lambda: tf.nn.conv2d(X, K, 1, "EXPLICIT"), ValueError, "'EXPLICIT' is not a valid value"),
    (lambda: tf.nn.conv2d(X, K, 1, "same"), tf.errors.InvalidArgumentError,
     "Value for attr 'padding' of \"same\" is not in the list of allowed values"),
    (lambda: tf.nn.conv2d(X, K, 1, "SAME", data_format="NWHC"), tf.errors.InvalidArgumentError,
     "Value for attr 'data_format' of \"NWHC\""),
    (lambda: tf.nn.conv2d(tf.constant(X, tf.float64), tf.constant(K), 1, "SAME"),
     tf.errors.InvalidArgumentError,
     "cannot compute Conv2D as input #1(zero-based) was expected to be a double tensor but is a "
     "float tensor"),
    (lambda: tf.nn.conv2d(tf.ones([1, 3, 3, 1], tf.int64), tf.ones([1, 1, 1, 1], tf.int64), 1,
                          "SAME"), tf.errors.InvalidArgumentError,
     "Value for attr 'T' of int64 is not in the list of allowed values: half, bfloat16, float, "
     "double, int32"),
    (lambda: tf.nn.conv1d(X[0, :, 0], K[0], 1, "SAME"), tf.errors.InvalidArgumentError,
     "convolution input must be 4-dimensional: [1,7,4]"),
    (lambda: tf.nn.conv1d(X[0], K[0], [1, 1], "SAME"), ValueError,
     "stride should be of length 1, 1 or 3"),
    (lambda: tf.nn.conv1d(X[0], K[0], 1, "SAME", data_format="XYZ"), ValueError,
     "`data_format` must be 'NWC' or 'NCW'. Received: data_format=XYZ"),
    (lambda: tf.nn.conv1d(X[0], K[0], 1, [[0, 0], [1, 1], [0, 0]]), TypeError,
     "Expected string for argument 'padding'"),
    (lambda: tf.nn.conv3d(X[None], K[None], 1, "SAME"), TypeError,
     "Expected list for 'strides' argument to 'conv3d' Op, not 1."),
    (lambda: tf.nn.conv3d(X[None], K[None], [1, 1, 1, 1], "SAME"), tf.errors.InvalidArgumentError,
     "Length for attr 'strides' of 4 must be at least minimum 5"),
    (lambda: tf.nn.conv3d(X[None], K[None], [1, 0, 1, 1, 1], "SAME"),
     tf.errors.InvalidArgumentError, "Spatial strides should be larger than 0."),
    (lambda: tf.nn.conv3d(X, K[None], [1] * 5, "SAME"), tf.errors.InvalidArgumentError,
     "input must be 5-dimensional"),
    (lambda: tf.nn.conv3d(tf.ones([1, 2, 2, 2, 1], tf.int32), tf.ones([1, 1, 1, 1, 1], tf.int32),
                          [1] * 5, "SAME"), tf.errors.InvalidArgumentError,
     "Value for attr 'T' of int32 is not in the list of allowed values: half, bfloat16, float, "
     "double"),
    (lambda: tf.nn.convolution(X, K, strides=2, padding="SAME", dilations=2), ValueError,
     "`strides > 1` not supported in conjunction with `dilation_rate > 1`"),
    (lambda: tf.nn.convolution(X, K, padding=[[0, 0], [1, 2], [3, 4], [0, 0]]), TypeError,
     "Expected string for argument 'padding'"),
    (lambda: tf.nn.atrous_conv2d(X, K, 0, "VALID"), ValueError,
     "all values of `dilation_rate` must be positive"),
    (lambda: tf.nn.depthwise_conv2d(X, K[..., :2], 1, "SAME"), TypeError,
     "Expected list for 'strides' argument to 'depthwise_conv2d_native' Op, not 1."),
    (lambda: tf.nn.depthwise_conv2d(X, K[..., :2], [1, 2], "SAME"), tf.errors.InvalidArgumentError,
     "Sliding window strides field must specify 4 dimensions"),
    (lambda: tf.nn.depthwise_conv2d(X, K[:, :, :3, :2], [1, 1, 1, 1], "SAME"),
     tf.errors.InvalidArgumentError, "input and filter must have the same depth: 4 vs 3"),
    (lambda: tf.nn.depthwise_conv2d(X[None], K[..., :2], [1, 1, 1, 1], "SAME"),
     tf.errors.InvalidArgumentError, "input must be 4-dimensional[1,2,7,7,4]"),
    (lambda: tf.nn.separable_conv2d(X, K[..., :2], np.zeros((2, 1, 8, 5), np.float32),
                                    [1, 1, 1, 1], "SAME"), ValueError,
     "Dimensions 2 and 1 are not compatible"),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 6), np.float32), K, [2, 9, 9, 4], 2,
                                    "SAME"), tf.errors.InvalidArgumentError,
     "Conv2DCustomBackpropInput: Size of out_backprop doesn't match computed: actual = 4, "
     "computed = 5 spatial_dim: 1 input: 9 filter: 3 output: 4 stride: 2 dilation: 1"),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 5), np.float32), K, [2, 8, 8, 4], 2,
                                    "SAME"), tf.errors.InvalidArgumentError,
     "Conv2DCustomBackpropInput: filter and out_backprop must have the same out_depth"),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 6), np.float32), K, [3, 8, 8, 4], 2,
                                    "SAME"), tf.errors.InvalidArgumentError,
     "input and out_backprop must have the same batch size. Input batch: 3, outbackprop batch: 2"),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 6), np.float32), K, [2, 7, 7], 2, "SAME"),
     tf.errors.InvalidArgumentError,
     "Conv2DBackpropInput requires input_sizes to contain 4 values or 2 values, but got: 3"),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 6), np.float32), K, [2, -8, 8, 4], 2,
                                    "SAME"), tf.errors.InvalidArgumentError,
     "Dimension -8 must be >= 0"),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 6), np.float32), K,
                                    tf.constant([2, 8, 8, 4], tf.int64), 2, "SAME"),
     tf.errors.InvalidArgumentError, "cannot compute Conv2DBackpropInput as input #0(zero-based) "
                                     "was expected to be a int32 tensor but is a int64 tensor"),
    (lambda: tf.nn.conv2d_transpose(np.zeros((2, 4, 4, 6), np.float32), K, [2., 8., 8., 4.], 2,
                                    "SAME"), TypeError, "Cannot convert"),
    (lambda: tf.nn.conv1d_transpose(np.zeros((2, 4, 6), np.float32), K[0], [2, 8, 4], 2, "SAME",
                                    data_format="NHWC"), ValueError,
     "`data_format` must be 'NWC' or 'NCW'. Received: data_format=NHWC"),
    (lambda: tf.nn.conv_transpose(np.zeros((2, 4, 6), np.float32), K[0], [2] * 6, 2, "SAME"),
     ValueError, "`output_shape` must be of length 3, 4 or 5."),
    (lambda: tf.nn.atrous_conv2d_transpose(np.zeros((2, 7, 7, 6), np.float32), K, [2, 7, 7, 4], 0,
                                           "SAME"), ValueError,
     "`rate` cannot be less than one. Received: rate=0"),
]


@pytest.mark.parametrize("index", range(len(ERRORS)))
def test_errors(index):
    fn, exc, message = ERRORS[index]
    with pytest.raises(exc) as info:
        fn()
    assert message in str(info.value)


def test_valid_with_an_empty_output_and_empty_batch():
    y = tf.nn.conv2d(X, np.zeros((8, 8, 4, 6), np.float32), 1, "VALID")
    assert y.shape == (2, 0, 0, 6)
    y = tf.nn.conv2d(np.zeros((0, 7, 7, 4), np.float32), K, 1, "SAME")
    assert y.shape == (0, 7, 7, 6)
    with tf.GradientTape() as tape:
        w = tf.constant(K)
        tape.watch(w)
        y = tf.reduce_sum(tf.nn.conv2d(np.zeros((0, 7, 7, 4), np.float32), w, 1, "SAME"))
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), np.zeros_like(K))


def test_depthwise_with_dilation_and_strides_warns():
    x = rand(1, 7, 7, 2)
    w = rand(3, 3, 2, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        tf.nn.depthwise_conv2d(x, w, [1, 2, 2, 1], "VALID", dilations=[2, 2])
    assert any("dilation rate is greater than 1" in str(c.message) for c in caught)


def test_public_names_match_tensorflow_signatures():
    import inspect
    sigs = {
        "conv2d": "(input, filters, strides, padding, data_format='NHWC', dilations=None, name=None)",
        "convolution": "(input, filters, strides=None, padding='VALID', data_format=None, "
                       "dilations=None, name=None)",
        "conv2d_transpose": "(input, filters, output_shape, strides, padding='SAME', "
                            "data_format='NHWC', dilations=None, name=None)",
        "depthwise_conv2d": "(input, filter, strides, padding, data_format=None, dilations=None, "
                            "name=None)",
        "separable_conv2d": "(input, depthwise_filter, pointwise_filter, strides, padding, "
                            "data_format=None, dilations=None, name=None)",
        "atrous_conv2d": "(value, filters, rate, padding, name=None)",
        "conv1d": "(input, filters, stride, padding, data_format='NWC', dilations=None, name=None)",
    }
    for name, sig in sigs.items():
        assert str(inspect.signature(getattr(tf.nn, name))) == sig
        assert getattr(conv_ops, name) is getattr(tf.nn, name)


def test_im2col_matrix_is_shared_with_the_filter_gradient_and_freed_with_its_input():
    x = tf.constant(rand(2, 6, 6, 3))
    w = tf.constant(rand(3, 3, 3, 4))
    with tf.GradientTape() as tape:
        tape.watch(w)
        y = tf.nn.conv2d(x, w, 1, "SAME")
    assert id(x._value) in conv_ops._COLUMNS
    dw = tape.gradient(y, w, output_gradients=tf.ones_like(y)).numpy()
    pads = same_pads((6, 6), (3, 3), (1, 1), (1, 1))
    xp = np.pad(x.numpy(), [(0, 0)] + pads + [(0, 0)])
    want = np.array([[xp[:, i:i + 6, j:j + 6].sum(axis=(0, 1, 2)) for j in range(3)]
                     for i in range(3)])[..., None].repeat(4, axis=-1)
    np.testing.assert_allclose(dw, want, rtol=1e-12)
    key = id(x._value)
    del tape, x, y
    assert key not in conv_ops._COLUMNS
