"""tf.nn pooling and local response normalization against NumPy loops, finite differences,
abstract evaluation, graphs with unknown dimensions and TensorFlow's errors."""
import itertools

import numpy as np
import pytest

import tensorweave as tf
from tensorweave.framework.op_registry import execute
from tensorweave.ops import pooling_ops
from tests.harness import check_abstract, check_grad

RNG = np.random.default_rng(2024)


def distinct(*shape):
    """Values without ties (a permutation of a grid), so max pooling is differentiable."""
    return RNG.permutation(np.prod(shape)).reshape(shape) * 0.37 - 5.0


# -- independent references: loops over output positions (channels last) ------------------------
def window_bounds(n, k, s, d, padding):
    """[(output index, list of input indices in its window)] along one axis."""
    span = (k - 1) * d + 1
    if padding == "SAME":
        out = -(-n // s)
        before = max((out - 1) * s + span - n, 0) // 2
    elif padding == "VALID":
        out, before = max((n - span) // s + 1, 0), 0
    else:
        before, after = padding
        out = (n + before + after - span) // s + 1
    result = []
    for o in range(out):
        idx = [o * s - before + i * d for i in range(k)]
        result.append((o, [i for i in idx if 0 <= i < n]))
    return result


def ref_pool(x, ksize, strides, padding, kind, dilations=None):
    """Pooling of a channels-last array over its spatial axes (windows only, loops)."""
    nsp = x.ndim - 2
    dilations = dilations or [1] * nsp
    pads = padding if isinstance(padding, str) else None
    axes = [window_bounds(x.shape[1 + a], ksize[a], strides[a], dilations[a],
                          pads or padding[a]) for a in range(nsp)]
    out = np.zeros((x.shape[0],) + tuple(len(b) for b in axes) + (x.shape[-1],))
    for combo in itertools.product(*axes):
        o = tuple(c[0] for c in combo)
        cells = list(itertools.product(*[c[1] for c in combo]))
        values = np.stack([x[(slice(None),) + cell] for cell in cells])
        out[(slice(None),) + o] = values.max(axis=0) if kind == "MAX" else values.mean(axis=0)
    return out


def ref_max_pool_grad(x, dy, ksize, strides, padding, first_only):
    """dy routed to the first maximal input of each window (row-major), or to every one."""
    nsp = x.ndim - 2
    pads = padding if isinstance(padding, str) else None
    axes = [window_bounds(x.shape[1 + a], ksize[a], strides[a], 1, pads or padding[a])
            for a in range(nsp)]
    dx = np.zeros(x.shape)
    for combo in itertools.product(*axes):
        o = tuple(c[0] for c in combo)
        cells = list(itertools.product(*[c[1] for c in combo]))
        for b in range(x.shape[0]):
            for ch in range(x.shape[-1]):
                values = [x[(b,) + cell + (ch,)] for cell in cells]
                best = max(values)
                for cell, v in zip(cells, values):
                    if v == best:
                        dx[(b,) + cell + (ch,)] += dy[(b,) + o + (ch,)]
                        if first_only:
                            break
    return dx


def to_first(a):
    return np.moveaxis(a, -1, 1)


def to_last(a):
    return np.moveaxis(a, 1, -1)


FN = {(1, "MAX"): "max_pool1d", (2, "MAX"): "max_pool2d", (3, "MAX"): "max_pool3d",
      (1, "AVG"): "avg_pool1d", (2, "AVG"): "avg_pool2d", (3, "AVG"): "avg_pool3d"}
FORMATS = {1: ("NWC", "NCW"), 2: ("NHWC", "NCHW"), 3: ("NDHWC", "NCDHW")}

CASES = [  # (spatial shape, ksize, strides, padding)
    ((7,), [3], [2], "SAME"), ((8,), [2], [2], "VALID"), ((5,), [4], [1], "SAME"),
    ((6, 7), [2, 2], [2, 2], "VALID"), ((6, 7), [3, 3], [1, 1], "SAME"),
    ((5, 6), [2, 3], [3, 2], "SAME"), ((7, 5), [3, 2], [2, 1], "VALID"),
    ((4, 4), [4, 4], [4, 4], "SAME"), ((5, 5), [1, 1], [2, 2], "VALID"),
    ((4, 5, 3), [2, 2, 2], [2, 2, 2], "VALID"), ((4, 5, 3), [3, 2, 2], [1, 2, 1], "SAME"),
]


@pytest.mark.parametrize("kind", ["MAX", "AVG"])
@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("channels_first", [False, True])
def test_pooling_matches_loops(kind, case, channels_first):
    spatial, ksize, strides, padding = case
    nsp = len(spatial)
    x = RNG.standard_normal((2,) + spatial + (3,)).astype(np.float32)
    fmt = FORMATS[nsp][int(channels_first)]
    fn = getattr(tf.nn, FN[(nsp, kind)])
    arg = to_first(x) if channels_first else x
    got = fn(arg, ksize, strides, padding, data_format=fmt)
    got = to_last(got.numpy()) if channels_first else got.numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref_pool(x.astype(np.float64), ksize, strides, padding, kind),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_max_pool_gradient_routes_ties_as_tensorflow(case):
    spatial, ksize, strides, padding = case
    nsp = len(spatial)
    # integers in 0..2: many ties, zeros as after a relu
    x = RNG.integers(0, 3, size=(2,) + spatial + (2,)).astype(np.float32)
    fn = getattr(tf.nn, FN[(nsp, "MAX")])
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = fn(xt, ksize, strides, padding)
    dy = RNG.uniform(0.5, 1.5, size=y.shape).astype(np.float32)
    got = tape.gradient(y, xt, output_gradients=tf.constant(dy)).numpy()
    want = ref_max_pool_grad(x, dy, ksize, strides, padding, first_only=nsp < 3)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_tie_rule_examples_from_tensorflow():
    x = tf.constant(np.array([[1, 1, 0, 2], [1, 1, 2, 2], [3, 3, 3, 0], [3, 3, 0, 0]],
                             np.float32).reshape(1, 4, 4, 1))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a = tf.nn.max_pool2d(x, 2, 2, "VALID")
        b = tf.nn.max_pool2d(x, 3, 1, "SAME")
    # the values TensorFlow 2.21 gives
    np.testing.assert_array_equal(tape.gradient(a, x).numpy()[0, :, :, 0],
                                  [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(tape.gradient(b, x).numpy()[0, :, :, 0],
                                  [[1, 0, 0, 2], [0, 0, 1, 0], [6, 3, 3, 0], [0, 0, 0, 0]])
    ones = tf.ones((1, 2, 2, 2, 1))
    with tf.GradientTape() as tape:
        tape.watch(ones)
        c = tf.nn.max_pool3d(ones, 2, 2, "VALID")
    np.testing.assert_array_equal(tape.gradient(c, ones).numpy().ravel(), np.ones(8))


def test_avg_pool_same_divides_by_real_inputs():
    x = np.arange(1, 26, dtype=np.float32).reshape(1, 5, 5, 1)
    got = tf.nn.avg_pool2d(x, 3, 1, "SAME").numpy()[0, :, :, 0]
    assert got[0, 0] == pytest.approx((1 + 2 + 6 + 7) / 4)
    assert got[0, 1] == pytest.approx((1 + 2 + 3 + 6 + 7 + 8) / 6)
    assert got[2, 2] == pytest.approx(np.mean(x[0, 1:4, 1:4, 0]))


GRAD_CASES = [((5,), [2], [1], "SAME"), ((5, 4), [2, 2], [2, 2], "VALID"),
              ((5, 4), [3, 2], [2, 1], "SAME"), ((4, 4), [2, 2], [2, 2], "SAME"),
              ((3, 4, 3), [2, 2, 2], [1, 2, 1], "SAME")]


@pytest.mark.parametrize("kind", ["MAX", "AVG"])
@pytest.mark.parametrize("case", GRAD_CASES, ids=str)
def test_gradients_against_finite_differences(kind, case):
    spatial, ksize, strides, padding = case
    fn = getattr(tf.nn, FN[(len(spatial), kind)])
    x = distinct(2, *spatial, 2)
    check_grad(lambda t: fn(t, ksize, strides, padding), x)
    check_grad(lambda t: fn(t, ksize, strides, padding), x, order=2)


@pytest.mark.parametrize("kind", ["MAX", "AVG"])
def test_gradient_of_gradient_primitives(kind):
    """The gradient ops are linear in the incoming gradient: their own gradients are checked
    against finite differences in that argument."""
    x = tf.constant(distinct(2, 5, 4, 3))
    attrs = {"ksize": (1, 3, 2, 1), "strides": (1, 2, 1, 1), "padding": "SAME",
             "explicit_paddings": (), "dilations": (1, 1, 1, 1)}
    if kind == "MAX":
        y = execute(pooling_ops.MAX_POOL, (x,), attrs)
        fn = lambda g: execute(pooling_ops.MAX_POOL_GRAD, (x, y, g), attrs)  # noqa: E731
        back = lambda g: execute(pooling_ops.MAX_POOL_GRAD_GRAD, (x, y, g), attrs)  # noqa: E731
    else:
        y = execute(pooling_ops.AVG_POOL, (x,), attrs)
        fn = lambda g: execute(pooling_ops.AVG_POOL_GRAD, (x, g), attrs)  # noqa: E731
        back = lambda g: execute(pooling_ops.AVG_POOL, (g,), attrs)  # noqa: E731
    g = RNG.standard_normal(y.shape)
    check_grad(fn, g)
    # the adjoint identity <grad(g), h> == <g, back(h)>
    h = RNG.standard_normal(x.shape)
    lhs = np.sum(fn(tf.constant(g)).numpy() * h)
    rhs = np.sum(g * back(tf.constant(h)).numpy())
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_explicit_padding_and_dilations():
    x = RNG.standard_normal((2, 6, 7, 3))
    pads = [[0, 0], [1, 2], [0, 1], [0, 0]]
    got = tf.nn.max_pool2d(x, 3, 2, pads).numpy()
    want = ref_pool(x, [3, 3], [2, 2], [(1, 2), (0, 1)], "MAX")
    np.testing.assert_allclose(got, want)
    got1 = tf.nn.max_pool1d(x[:, 0], 3, 2, [[0, 0], [2, 1], [0, 0]]).numpy()
    np.testing.assert_allclose(got1, ref_pool(x[:, 0], [3], [2], [(2, 1)], "MAX"))
    for kind in ("MAX", "AVG"):
        got = tf.nn.pool(x, [2, 3], kind, padding="VALID", dilations=[2, 2]).numpy()
        np.testing.assert_allclose(got, ref_pool(x, [2, 3], [1, 1], "VALID", kind, [2, 2]))
    check_grad(lambda t: tf.nn.pool(t, [2, 2], "AVG", padding="VALID", dilations=[2, 1]),
               distinct(1, 5, 4, 2))
    check_grad(lambda t: tf.nn.pool(t, [2, 2], "MAX", padding="VALID", dilations=[1, 2]),
               distinct(1, 4, 5, 2))
    check_grad(lambda t: tf.nn.max_pool2d(t, 3, 2, [[0, 0], [1, 2], [0, 1], [0, 0]]),
               distinct(1, 5, 4, 2))


def test_generic_max_pool_avg_pool_and_pool_dispatch_by_rank():
    for spatial in [(6,), (6, 5), (4, 5, 3)]:
        x = RNG.standard_normal((2,) + spatial + (2,)).astype(np.float32)
        n = len(spatial)
        for kind, fn in (("MAX", tf.nn.max_pool), ("AVG", tf.nn.avg_pool)):
            want = ref_pool(x.astype(np.float64), [2] * n, [2] * n, "SAME", kind)
            np.testing.assert_allclose(fn(x, 2, 2, "SAME").numpy(), want, rtol=1e-6, atol=1e-6)
            got = tf.nn.pool(x, [2] * n, kind, strides=[2] * n, padding="SAME").numpy()
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
        first = to_first(x)
        got = tf.nn.pool(first, [2] * n, "MAX", strides=[1] * n,
                         data_format=FORMATS[n][1]).numpy()
        np.testing.assert_allclose(to_last(got), ref_pool(x, [2] * n, [1] * n, "VALID", "MAX"))


def test_depth_pooling():
    x = RNG.standard_normal((2, 3, 3, 6)).astype(np.float32)
    got = tf.nn.max_pool2d(x, [1, 1, 1, 3], [1, 1, 1, 3], "VALID").numpy()
    np.testing.assert_array_equal(got, x.reshape(2, 3, 3, 2, 3).max(axis=-1))
    with pytest.raises(tf.errors.UnimplementedError, match="evenly divide"):
        tf.nn.max_pool2d(tf.ones((1, 2, 2, 4)), [1, 1, 1, 3], [1, 1, 1, 3], "VALID")
    with pytest.raises(tf.errors.UnimplementedError, match="equal the depth stride"):
        tf.nn.max_pool2d(tf.ones((1, 2, 2, 6)), [1, 1, 1, 3], [1, 1, 1, 2], "VALID")
    with pytest.raises(tf.errors.UnimplementedError, match="exactly one of"):
        tf.nn.max_pool2d(tf.ones((1, 4, 4, 6)), [1, 2, 2, 3], [1, 1, 1, 3], "VALID")


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float64, tf.int32, tf.uint8,
                                   tf.int64])
def test_max_pool_dtypes(dtype):
    x = RNG.integers(0, 100, size=(2, 4, 5, 3))
    got = tf.nn.max_pool2d(tf.cast(tf.constant(x), dtype), 2, 2, "SAME")
    assert got.dtype == dtype
    np.testing.assert_array_equal(np.asarray(got.numpy(), np.float64),
                                  ref_pool(x.astype(np.float64), [2, 2], [2, 2], "SAME", "MAX"))


@pytest.mark.parametrize("dtype", [tf.float16, tf.bfloat16, tf.float64])
def test_avg_pool_float_dtypes(dtype):
    x = RNG.integers(0, 100, size=(2, 4, 5, 3)).astype(np.float64)
    got = tf.nn.avg_pool2d(tf.cast(tf.constant(x), dtype), 2, 2, "SAME")
    assert got.dtype == dtype
    want = ref_pool(x, [2, 2], [2, 2], "SAME", "AVG")
    np.testing.assert_allclose(np.asarray(got.numpy(), np.float64), want, rtol=1e-2)


def test_abstract_evaluation():
    x = tf.constant(distinct(2, 5, 6, 3))
    for fn in (lambda t: tf.nn.max_pool2d(t, 3, 2, "SAME"),
               lambda t: tf.nn.avg_pool2d(t, 2, [1, 2], "VALID", data_format="NCHW"),
               lambda t: tf.nn.max_pool2d(t, 2, 1, [[0, 0], [1, 0], [0, 1], [0, 0]]),
               lambda t: tf.nn.lrn(t, 1)):
        check_abstract(fn, x)

    def grads(t):
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = tf.nn.max_pool2d(t, 2, 2, "SAME") + tf.nn.avg_pool2d(t, 2, 2, "SAME")
        return tape.gradient(y, t)
    check_abstract(grads, x)
    x3 = tf.constant(distinct(1, 4, 3, 3, 2))
    check_abstract(lambda t: tf.nn.max_pool3d(t, 2, 2, "SAME"), x3)


def test_graph_with_unknown_dimensions():
    spec = tf.TensorSpec([None, None, None, 3], tf.float64)

    @tf.function(input_signature=[spec])
    def step(t):
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = tf.nn.max_pool2d(t, 2, 2, "SAME")
            z = tf.nn.avg_pool2d(t, 3, 1, "SAME")
            loss = tf.reduce_sum(y * y) + tf.reduce_sum(z)
        return y, z, tape.gradient(loss, t)

    x = distinct(2, 5, 7, 3)
    y, z, g = step(tf.constant(x))
    assert y.shape == (2, 3, 4, 3) and z.shape == (2, 5, 7, 3)
    np.testing.assert_allclose(y.numpy(), ref_pool(x, [2, 2], [2, 2], "SAME", "MAX"))
    np.testing.assert_allclose(z.numpy(), ref_pool(x, [3, 3], [1, 1], "SAME", "AVG"))
    with tf.GradientTape() as tape:
        xt = tf.constant(x)
        tape.watch(xt)
        loss = (tf.reduce_sum(tf.nn.max_pool2d(xt, 2, 2, "SAME") ** 2)
                + tf.reduce_sum(tf.nn.avg_pool2d(xt, 3, 1, "SAME")))
    np.testing.assert_allclose(g.numpy(), tape.gradient(loss, xt).numpy())

    seen = []

    @tf.function(input_signature=[spec])
    def shapes(t):
        out = tf.nn.max_pool2d(t, 2, 2, "VALID")
        seen.append(out.shape.as_list())
        return out
    shapes(tf.constant(x))
    assert seen == [[None, None, None, 3]]

    @tf.function(input_signature=[tf.TensorSpec([None, 6, 8, 3], tf.float32)])
    def known(t):
        out = tf.nn.avg_pool2d(t, 3, 2, "SAME")
        seen.append(out.shape.as_list())
        return out
    known(tf.ones((1, 6, 8, 3)))
    assert seen[-1] == [None, 3, 4, 3]


def test_empty_and_zero_sized_outputs():
    x = tf.ones((2, 5, 5, 3))
    assert tf.nn.avg_pool2d(x, 6, 1, "VALID").shape == (2, 0, 0, 3)
    assert tf.nn.max_pool2d(x, 6, 1, "VALID").shape == (2, 0, 0, 3)
    assert tf.nn.max_pool2d(tf.ones((0, 4, 4, 3)), 2, 2, "VALID").shape == (0, 2, 2, 3)
    with pytest.raises(tf.errors.InvalidArgumentError, match="output size would be negative"):
        tf.nn.max_pool2d(x, 7, 1, "VALID")


def test_errors_as_tensorflow():
    x = tf.ones((2, 5, 5, 3))
    with pytest.raises(ValueError, match="ksize should be of length 1, 2 or 4"):
        tf.nn.max_pool2d(x, [2, 2, 2], 1, "SAME")
    with pytest.raises(ValueError, match="ksize should be of length 1, 3 or 5"):
        tf.nn.max_pool3d(tf.ones((1, 4, 4, 4, 1)), [2, 2], 1, "VALID")
    with pytest.raises(tf.errors.InvalidArgumentError, match="Stride must be > 0"):
        tf.nn.max_pool2d(x, 2, 0, "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="ksize must be positive"):
        tf.nn.avg_pool2d(x, 0, 1, "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'padding' of \"same\""):
        tf.nn.max_pool2d(x, 2, 1, "same")
    with pytest.raises(ValueError, match="'EXPLICIT' is not a valid value"):
        tf.nn.max_pool2d(x, 2, 1, "EXPLICIT")
    with pytest.raises(TypeError, match="Expected string for argument 'padding'"):
        tf.nn.avg_pool2d(x, 2, 1, [[0, 0], [1, 1], [1, 1], [0, 0]])
    with pytest.raises(ValueError, match="must be of size 4"):
        tf.nn.max_pool2d(x, 3, 2, [[0, 0], [1, 2], [0, 1]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch or depth dimensions"):
        tf.nn.max_pool2d(x, 3, 2, [[0, 0], [1, 2], [0, 1], [1, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be nonnegative"):
        tf.nn.max_pool2d(x, 3, 2, [[0, 0], [1, 2], [0, -1], [0, 0]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Left padding 3 needs to be smaller"):
        tf.nn.max_pool2d(x, 3, 2, [[0, 0], [0, 0], [3, 3], [0, 0]])
    with pytest.raises(ValueError, match="Explicit padding is not supported with an input tensor"):
        tf.nn.max_pool(tf.ones((1, 4, 4, 4, 1)), 2, 1, [[0, 0]] * 5)
    with pytest.raises(tf.errors.UnimplementedError, match="batch dimension"):
        tf.nn.max_pool2d(x, [2, 2, 2, 1], 1, "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="input must be 4-dimensional"):
        tf.nn.max_pool2d(tf.ones((5, 5, 3)), 2, 1, "SAME")
    with pytest.raises(tf.errors.InvalidArgumentError, match="'data_format' of \"NWHC\""):
        tf.nn.max_pool2d(x, 2, 1, "SAME", data_format="NWHC")
    with pytest.raises(tf.errors.InvalidArgumentError, match="'data_format' of \"NCHW\""):
        tf.nn.max_pool3d(tf.ones((1, 4, 4, 4, 1)), 2, 1, "VALID", data_format="NCHW")
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of int32"):
        tf.nn.avg_pool2d(tf.ones((1, 4, 4, 1), tf.int32), 2, 2, "VALID")
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of bool"):
        tf.nn.max_pool2d(tf.ones((1, 4, 4, 1), tf.bool), 2, 2, "VALID")
    with pytest.raises(ValueError, match="must be 3, 4 or 5"):
        tf.nn.max_pool(tf.ones((2, 3)), 2, 1, "VALID")
    with pytest.raises(ValueError, match="'SAME' padding is not implemented for `dilation_rate`"):
        tf.nn.pool(x, [2, 2], "MAX", padding="SAME", dilations=[2, 2])
    with pytest.raises(ValueError, match="`strides > 1` not supported in conjunction"):
        tf.nn.pool(x, [2, 2], "AVG", padding="VALID", dilations=[2, 2], strides=[2, 2])
    with pytest.raises(ValueError, match="2-D MIN pooling is not supported"):
        tf.nn.pool(x, [2, 2], "MIN", padding="SAME")
    with pytest.raises(ValueError, match="must have rank 4"):
        tf.nn.pool(tf.ones((1, 5, 1)), [2, 2], "AVG", padding="SAME")
    with pytest.raises(ValueError, match="must be 1, 2, or 3"):
        tf.nn.pool(tf.ones((1, 5, 5, 5, 5, 1)), [2, 2, 2, 2], "MAX", padding="SAME")
    with pytest.raises(ValueError, match="`strides` > `window_shape`"):
        tf.nn.pool(x, [2, 2], "MAX", strides=[3, 3], padding="VALID")


# -- local response normalization --------------------------------------------------------------
def ref_lrn(x, r, bias, alpha, beta):
    out = np.empty_like(x)
    depth = x.shape[-1]
    for d in range(depth):
        lo, hi = max(0, d - r), min(depth, d + r + 1)
        sq = np.sum(x[..., lo:hi] ** 2, axis=-1)
        out[..., d] = x[..., d] / (bias + alpha * sq) ** beta
    return out


@pytest.mark.parametrize("params", [(5, 1.0, 1.0, 0.5), (2, 2.0, 0.5, 0.75), (0, 1.0, 1.0, 1.0),
                                    (1, 0.5, 0.1, 0.3)])
def test_lrn_values_and_gradients(params):
    r, bias, alpha, beta = params
    x = RNG.standard_normal((2, 3, 2, 7))
    got = tf.nn.local_response_normalization(x.astype(np.float32), r, bias, alpha, beta).numpy()
    np.testing.assert_allclose(got, ref_lrn(x, r, bias, alpha, beta), rtol=2e-6, atol=1e-6)
    got64 = tf.nn.lrn(x, r, bias, alpha, beta).numpy()
    np.testing.assert_allclose(got64, ref_lrn(x, r, np.float32(bias), np.float32(alpha),
                                              np.float32(beta)), rtol=1e-12)
    small = x[:1, :2, :1]
    check_grad(lambda t: tf.nn.lrn(t, r, bias, alpha, beta), small)
    check_grad(lambda t: tf.nn.lrn(t, r, bias, alpha, beta), small, order=2)


def test_lrn_dtypes_and_errors():
    assert tf.nn.lrn(tf.ones((1, 2, 2, 3), tf.float16)).dtype == tf.float16
    np.testing.assert_allclose(tf.nn.lrn(tf.ones((1, 2, 2, 3), tf.float16)).numpy(), 0.5)
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of int32"):
        tf.nn.lrn(tf.ones((1, 2, 2, 3), tf.int32))
    with pytest.raises(tf.errors.InvalidArgumentError, match="4-dimensional"):
        tf.nn.lrn(tf.ones((2, 2, 3)))
    with pytest.raises(tf.errors.InvalidArgumentError, match="depth_radius"):
        tf.nn.lrn(tf.ones((1, 2, 2, 3)), depth_radius=-1)
