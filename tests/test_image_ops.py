"""tf.image.resize against per-pixel NumPy references (TF2's half-pixel sampling), its gradients
as exact adjoints, graphs with unknown dimensions and TensorFlow's errors."""
import math

import numpy as np
import pytest

import tensorweave as tf
from tests.harness import check_abstract

RNG = np.random.default_rng(77)


# -- references: one output pixel at a time, in float64 -------------------------------------------
def ref_bilinear(x, out_h, out_w):
    n, h, w, c = x.shape
    out = np.zeros((n, out_h, out_w, c))
    for oy in range(out_h):
        sy = (oy + 0.5) * h / out_h - 0.5
        y0 = math.floor(sy)
        fy = sy - y0
        for ox in range(out_w):
            sx = (ox + 0.5) * w / out_w - 0.5
            x0 = math.floor(sx)
            fx = sx - x0
            def at(i, j):
                return x[:, min(max(i, 0), h - 1), min(max(j, 0), w - 1)]
            top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
            bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
            out[:, oy, ox] = top * (1 - fy) + bottom * fy
    return out


def ref_nearest(x, out_h, out_w):
    n, h, w, c = x.shape
    rows = [min(int(math.floor((o + 0.5) * h / out_h)), h - 1) for o in range(out_h)]
    cols = [min(int(math.floor((o + 0.5) * w / out_w)), w - 1) for o in range(out_w)]
    return x[:, rows][:, :, cols]


def ref_area(x, out_h, out_w):
    """Each output pixel: the mean of the input over its box, by exact fractional overlaps."""
    n, h, w, c = x.shape
    out = np.zeros((n, out_h, out_w, c))
    for oy in range(out_h):
        y_lo, y_hi = oy * h / out_h, (oy + 1) * h / out_h
        for ox in range(out_w):
            x_lo, x_hi = ox * w / out_w, (ox + 1) * w / out_w
            total = 0
            for i in range(h):
                wy = max(0.0, min(i + 1, y_hi) - max(i, y_lo))
                for j in range(w):
                    wx = max(0.0, min(j + 1, x_hi) - max(j, x_lo))
                    total = total + wy * wx * x[:, i, j]
            out[:, oy, ox] = total / ((y_hi - y_lo) * (x_hi - x_lo))
    return out


def keys(t):
    t = abs(t)
    if t < 1:
        return (1.5 * t - 2.5) * t * t + 1
    if t < 2:
        return ((-0.5 * t + 2.5) * t - 4) * t + 2
    return 0.0


def ref_bicubic_weights(in_size, out_size):
    """Keys' cubic (a=-0.5) at the 4 neighbours, the fraction rounded to 1/1024 as TensorFlow's
    table does; neighbours outside the image dropped and the rest renormalized."""
    rows = []
    for o in range(out_size):
        s = (o + 0.5) * in_size / out_size - 0.5
        base = math.floor(s)
        frac = round((s - base) * 1024) / 1024
        taps = {}
        for k in (-1, 0, 1, 2):
            if 0 <= base + k < in_size:
                taps[base + k] = keys(frac - k)
        total = sum(taps.values())
        rows.append({i: v / total for i, v in taps.items()})
    return rows


def ref_bicubic(x, out_h, out_w):
    n, h, w, c = x.shape
    wy, wx = ref_bicubic_weights(h, out_h), ref_bicubic_weights(w, out_w)
    out = np.zeros((n, out_h, out_w, c))
    for oy in range(out_h):
        for ox in range(out_w):
            out[:, oy, ox] = sum(a * b * x[:, i, j] for i, a in wy[oy].items()
                                 for j, b in wx[ox].items())
    return out


REFS = {"bilinear": ref_bilinear, "nearest": ref_nearest, "area": ref_area,
        "bicubic": ref_bicubic}
SIZES = [((5, 5), (3, 3)), ((4, 6), (8, 12)), ((7, 3), (4, 5)), ((3, 4), (3, 4)), ((1, 5), (3, 2)),
         ((6, 6), (2, 3))]


@pytest.mark.parametrize("method", sorted(REFS))
@pytest.mark.parametrize("sizes", SIZES, ids=str)
def test_resize_matches_references(method, sizes):
    (h, w), (out_h, out_w) = sizes
    x = RNG.standard_normal((2, h, w, 3)).astype(np.float32)
    got = tf.image.resize(x, [out_h, out_w], method=method)
    assert got.dtype == tf.float32 and got.shape == (2, out_h, out_w, 3)
    want = REFS[method](x.astype(np.float64), out_h, out_w)
    if method == "nearest":
        np.testing.assert_array_equal(got.numpy(), want)
    else:
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-5, atol=2e-6)


def dense_matrix(fn, shape):
    """The matrix of a linear map of images, column by column from basis images."""
    cols = []
    for k in range(int(np.prod(shape))):
        e = np.zeros(int(np.prod(shape)))
        e[k] = 1
        cols.append(np.asarray(fn(e.reshape(shape)), np.float64).ravel())
    return np.stack(cols, axis=1)


@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic", "area", "lanczos3",
                                    "gaussian", "mitchellcubic"])
@pytest.mark.parametrize("antialias", [False, True])
@pytest.mark.parametrize("sizes", [((5, 4), (3, 7)), ((3, 3), (6, 6)), ((6, 5), (2, 2))], ids=str)
def test_gradient_is_the_transpose_of_the_resize(method, antialias, sizes):
    (h, w), (out_h, out_w) = sizes
    shape = (1, h, w, 2)
    matrix = dense_matrix(lambda e: tf.image.resize(e.astype(np.float32), [out_h, out_w],
                                                    method=method, antialias=antialias).numpy(),
                          shape)
    for dtype in (tf.float32, tf.float64):
        x = tf.constant(RNG.standard_normal(shape), dtype)
        g = RNG.standard_normal((1, out_h, out_w, 2)).astype(np.float32)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.image.resize(x, [out_h, out_w], method=method, antialias=antialias)
        dx = tape.gradient(y, x, output_gradients=tf.constant(g, y.dtype))
        assert dx.dtype == dtype
        np.testing.assert_allclose(dx.numpy().ravel(), matrix.T @ g.ravel().astype(np.float64),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("method", ["bilinear", "nearest", "bicubic"])
def test_second_order_gradient_is_the_resize_again(method):
    x = tf.constant(RNG.standard_normal((1, 4, 5, 2)).astype(np.float32))
    g = tf.constant(RNG.standard_normal((1, 7, 3, 2)).astype(np.float32))
    h = RNG.standard_normal((1, 4, 5, 2)).astype(np.float32)
    with tf.GradientTape() as outer:
        outer.watch(g)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.image.resize(x, [7, 3], method=method)
        dx = inner.gradient(y, x, output_gradients=g)
        loss = tf.reduce_sum(dx * h)
    # d<A^T g, h>/dg = A h
    np.testing.assert_allclose(outer.gradient(loss, g).numpy(),
                               tf.image.resize(h, [7, 3], method=method).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_dtypes_and_shapes():
    x = np.arange(1, 26).reshape(1, 5, 5, 1)
    for dtype in (tf.uint8, tf.int32, tf.float16, tf.float64):
        got = tf.image.resize(tf.cast(tf.constant(x), dtype), [3, 3])
        assert got.dtype == tf.float32
        np.testing.assert_allclose(got.numpy(), ref_bilinear(x.astype(np.float64), 3, 3),
                                   rtol=1e-6)
        near = tf.image.resize(tf.cast(tf.constant(x), dtype), [3, 3], method="nearest")
        assert near.dtype == dtype
        np.testing.assert_array_equal(near.numpy().ravel(), [1, 3, 5, 11, 13, 15, 21, 23, 25])
    single = tf.image.resize(x[0].astype(np.float32), [4, 2])
    assert single.shape == (4, 2, 1)
    np.testing.assert_allclose(single.numpy(), ref_bilinear(x.astype(np.float64), 4, 2)[0],
                               rtol=1e-6)
    assert tf.image.resize(tf.ones((2, 5, 5, 3)), (5, 5)).dtype == tf.float32
    assert tf.image.ResizeMethod.BILINEAR == "bilinear"
    assert tf.image.ResizeMethod.NEAREST_NEIGHBOR == "nearest"


def test_upsampling_by_integer_factors():
    x = RNG.standard_normal((2, 3, 4, 5)).astype(np.float32)
    near = tf.image.resize(x, [6, 12], method="nearest").numpy()
    np.testing.assert_array_equal(near, np.repeat(np.repeat(x, 2, axis=1), 3, axis=2))
    bil = tf.image.resize(x, [6, 8]).numpy()
    np.testing.assert_allclose(bil, ref_bilinear(x.astype(np.float64), 6, 8), rtol=1e-5,
                               atol=1e-6)


@pytest.mark.parametrize("shape,size,want", [((5, 5), [3, 4], (3, 3)), ((6, 4), [3, 7], (3, 2)),
                                             ((6, 4), [9, 7], (9, 6)),
                                             ((7, 3), [10, 10], (10, 4))])
def test_preserve_aspect_ratio(shape, size, want):
    x = RNG.standard_normal((1,) + shape + (1,)).astype(np.float32)
    got = tf.image.resize(x, size, preserve_aspect_ratio=True)
    assert got.shape == (1,) + want + (1,)
    np.testing.assert_allclose(got.numpy(), ref_bilinear(x.astype(np.float64), *want),
                               rtol=1e-5, atol=1e-6)


def test_antialias_averages_when_downsampling_and_is_bilinear_when_upsampling():
    x = RNG.standard_normal((1, 8, 8, 1)).astype(np.float32)
    up = tf.image.resize(x, [12, 16], antialias=True).numpy()
    np.testing.assert_allclose(up, ref_bilinear(x.astype(np.float64), 12, 16), rtol=1e-5,
                               atol=1e-6)
    # halving with the triangle filter widened to radius 2: weights 1/8, 3/8, 3/8, 1/8
    down = tf.image.resize(x, [4, 4], antialias=True).numpy()
    taps = np.zeros((4, 8))
    for o in range(4):
        for k, wgt in zip(range(2 * o - 1, 2 * o + 3), (1, 3, 3, 1)):
            if 0 <= k < 8:
                taps[o, k] = wgt
    taps /= taps.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(down[0, :, :, 0], taps @ x[0, :, :, 0] @ taps.T, rtol=1e-5,
                               atol=1e-6)


def test_graph_with_unknown_dimensions():
    seen = []

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    def step(t):
        with tf.GradientTape() as tape:
            tape.watch(t)
            y = tf.image.resize(t, [6, 4])
            z = tf.image.resize(t, [2, 2], method="nearest")
            loss = tf.reduce_sum(y * y) + tf.reduce_sum(z)
        seen.append((y.shape.as_list(), z.shape.as_list()))
        return y, tape.gradient(loss, t)

    x = RNG.standard_normal((2, 3, 5, 3)).astype(np.float32)
    y, g = step(tf.constant(x))
    assert seen == [([None, 6, 4, 3], [None, 2, 2, 3])]
    np.testing.assert_allclose(y.numpy(), ref_bilinear(x.astype(np.float64), 6, 4), rtol=1e-5,
                               atol=1e-6)
    with tf.GradientTape() as tape:
        xt = tf.constant(x)
        tape.watch(xt)
        loss = (tf.reduce_sum(tf.image.resize(xt, [6, 4]) ** 2)
                + tf.reduce_sum(tf.image.resize(xt, [2, 2], method="nearest")))
    np.testing.assert_allclose(g.numpy(), tape.gradient(loss, xt).numpy(), rtol=1e-6)

    @tf.function(input_signature=[tf.TensorSpec([None, 4, 4, 1], tf.float32),
                                  tf.TensorSpec([2], tf.int32)])
    def dynamic(t, size):
        out = tf.image.resize(t, size)
        seen.append(out.shape.as_list())
        return out
    out = dynamic(tf.ones((1, 4, 4, 1)), tf.constant([3, 5]))
    assert seen[-1] == [None, None, None, 1] and out.shape == (1, 3, 5, 1)


def test_abstract_evaluation():
    x = tf.constant(RNG.standard_normal((2, 4, 5, 3)).astype(np.float32))
    for method in ("bilinear", "nearest", "bicubic", "area", "lanczos5"):
        check_abstract(lambda t: tf.image.resize(t, [3, 7], method=method), x)


def test_errors_as_tensorflow():
    x = tf.ones((1, 5, 5, 1))
    with pytest.raises(ValueError, match="Resize method is not implemented: bogus"):
        tf.image.resize(x, [3, 3], method="bogus")
    with pytest.raises(ValueError, match="'images' must have either 3 or 4 dimensions"):
        tf.image.resize(tf.ones((5, 5)), [3, 3])
    with pytest.raises(ValueError, match="1-D Tensor of 2 elements"):
        tf.image.resize(x, [3])
    with pytest.raises(ValueError, match="'size' must be a 1-D int32 Tensor"):
        tf.image.resize(x, [3, 3.5])
    with pytest.raises(ValueError, match="'size' must be a 1-D int32 Tensor"):
        tf.image.resize(x, tf.constant([3, 3], tf.int64))
    with pytest.raises(tf.errors.InvalidArgumentError, match="output dimensions must be positive"):
        tf.image.resize(x, [0, 3])
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-zero size"):
        tf.image.resize(tf.ones((1, 0, 3, 1)), [10, 10])
    with pytest.raises(tf.errors.InvalidArgumentError, match="attr 'T' of bool"):
        tf.image.resize(tf.ones((1, 3, 3, 1), tf.bool), [2, 2])
