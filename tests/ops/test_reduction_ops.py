"""Reductions: reduce_*, argmax/argmin, cumsum/cumprod, sort/argsort/top_k, unique, bincount,
segment ops, count_nonzero."""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_abstract, check_grad

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
X3 = np.array([[[0.3, -1.2], [2.0, 1.1]], [[1.5, 0.7], [-0.4, 0.9]], [[0.2, -0.6], [1.3, -2.1]]])
InvalidArgumentError = tf.errors.InvalidArgumentError


def c(value, dtype=None):
    return tf.constant(value, dtype=dtype)


# -- seed 002 ------------------------------------------------------------------------------------
def test_seed_002_reductions_and_codes_example():
    x = c([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert tf.reduce_mean(x).numpy() == 3.5
    np.testing.assert_array_equal(tf.reduce_mean(x, axis=0).numpy(), [2.5, 3.5, 4.5])
    np.testing.assert_array_equal(tf.reduce_sum(x, axis=1).numpy(), [6.0, 15.0])
    assert tf.reduce_max(x).numpy() == 6.0
    np.testing.assert_array_equal(tf.reduce_max(x, axis=0).numpy(), [4.0, 5.0, 6.0])
    assert tf.math.reduce_mean is tf.reduce_mean
    observation = c([111.0, 188.0], tf.float64)
    codes = c([[102, 203], [132, 193], [45, 155], [57, 173]], tf.float64)
    diff = tf.subtract(observation, codes)
    nearest = tf.argmin(tf.reduce_sum(tf.multiply(diff, diff), axis=1))
    assert nearest.dtype == tf.int64 and int(nearest) == 0


# -- reduce_* values and dtypes -----------------------------------------------------------------
REDUCTIONS = {
    "sum": (tf.reduce_sum, np.sum),
    "mean": (tf.reduce_mean, np.mean),
    "max": (tf.reduce_max, np.max),
    "min": (tf.reduce_min, np.min),
    "prod": (tf.reduce_prod, np.prod),
    "logsumexp": (tf.reduce_logsumexp,
                  lambda a, axis=None, keepdims=False: np.log(np.sum(np.exp(a), axis=axis, keepdims=keepdims))),
    "variance": (tf.math.reduce_variance, np.var),
    "std": (tf.math.reduce_std, np.std),
    "euclidean_norm": (tf.math.reduce_euclidean_norm,
                       lambda a, axis=None, keepdims=False: np.sqrt(np.sum(a * a, axis=axis, keepdims=keepdims))),
}


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_float_reductions_values_grads_and_abstract(name):
    fn, ref = REDUCTIONS[name]
    for axis, keepdims in ((None, False), (0, False), (1, True), ((0, 2), False), (-1, False), ([], False)):
        out = fn(c(X3), axis=axis, keepdims=keepdims)
        np_axis = tuple(axis) if isinstance(axis, list) else axis
        np.testing.assert_allclose(out.numpy(), ref(X3, axis=np_axis, keepdims=keepdims), rtol=1e-12)
        assert out.dtype == tf.float64
    assert fn(c(X3, tf.float32), axis=1).dtype == tf.float32
    check_grad(lambda x: fn(x, axis=1), X)
    check_grad(lambda x: fn(x, axis=[0, 2], keepdims=True), X3)
    check_grad(lambda x: fn(x), X, order=2)
    check_abstract(lambda x: fn(x, axis=1), c(X))
    check_abstract(lambda x: fn(x, axis=(0, 2), keepdims=True), c(X3))
    check_abstract(lambda x: fn(x), c(X))


def test_math_aliases_and_top_level_names():
    for name in ("reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod", "reduce_any",
                 "reduce_all", "reduce_logsumexp", "argmax", "argmin", "cumsum"):
        assert getattr(tf.math, name) is getattr(tf, name)
    for name in ("sort", "argsort", "unique", "unique_with_counts"):
        assert hasattr(tf, name) and not hasattr(tf.math, name)
    for name in ("reduce_std", "reduce_variance", "reduce_euclidean_norm", "top_k", "cumprod",
                 "bincount", "count_nonzero", "segment_sum", "unsorted_segment_sum"):
        assert hasattr(tf.math, name) and not hasattr(tf, name)


def test_integer_reductions_keep_integer_dtypes():
    ints = np.array([[1, -2, 7], [4, 5, -9]], dtype=np.int32)
    assert tf.reduce_sum(c(ints)).dtype == tf.int32
    np.testing.assert_array_equal(tf.reduce_sum(c(ints), axis=0).numpy(), ints.sum(axis=0))
    np.testing.assert_array_equal(tf.reduce_prod(c(ints), axis=1).numpy(), ints.prod(axis=1))
    np.testing.assert_array_equal(tf.reduce_max(c(ints), axis=1).numpy(), [7, 5])
    np.testing.assert_array_equal(tf.reduce_min(c(ints), axis=0).numpy(), [1, -2, -9])
    # integer mean: the sum divided truncating toward zero, in the input dtype
    mean = tf.reduce_mean(c(ints), axis=1)
    assert mean.dtype == tf.int32
    np.testing.assert_array_equal(mean.numpy(), np.trunc(ints.sum(axis=1) / 3).astype(np.int32))
    assert int(tf.reduce_mean(c([-1, -2]))) == -1
    assert int(tf.reduce_mean(c([100, 100], tf.int8))) == 100  # no overflow in the accumulation
    assert int(tf.reduce_mean(c([250, 250], tf.uint8))) == 250
    assert int(tf.reduce_sum(c([250, 250], tf.uint8))) == 244  # the sum itself wraps, as in TF
    assert tf.math.reduce_euclidean_norm(c([3, 5])).numpy() == 5  # sqrt(34) truncated
    assert tf.math.reduce_euclidean_norm(c([3, 5])).dtype == tf.int32
    check_abstract(lambda x: tf.reduce_mean(x, axis=0), c(ints))


def test_empty_reductions():
    assert tf.reduce_max(tf.zeros([0])).numpy() == -np.inf
    assert tf.reduce_max(tf.zeros([0], tf.int32)).numpy() == np.iinfo(np.int32).min
    assert tf.reduce_min(tf.zeros([0], tf.int32)).numpy() == np.iinfo(np.int32).max
    assert np.isnan(tf.reduce_mean(tf.zeros([0])).numpy())
    assert tf.reduce_mean(tf.zeros([0], tf.int32)).numpy() == 0
    assert tf.reduce_prod(tf.zeros([0])).numpy() == 1.0
    assert tf.reduce_logsumexp(tf.zeros([0])).numpy() == -np.inf
    assert bool(tf.reduce_all(c(np.zeros(0, bool)))) and not bool(tf.reduce_any(c(np.zeros(0, bool))))
    np.testing.assert_array_equal(tf.reduce_sum(tf.zeros([0, 3]), axis=0).numpy(), np.zeros(3))


def test_nan_propagates_through_max_and_min():
    v = c([1.0, np.nan, 2.0])
    assert np.isnan(tf.reduce_max(v).numpy()) and np.isnan(tf.reduce_min(v).numpy())


def test_complex_reductions():
    z = np.array([1 + 1j, 2.0 - 0.5j, -1j])
    np.testing.assert_allclose(tf.reduce_mean(c(z)).numpy(), z.mean())
    np.testing.assert_allclose(tf.reduce_prod(c(z)).numpy(), z.prod())
    var = tf.math.reduce_variance(c(z))
    assert var.dtype == tf.float64
    np.testing.assert_allclose(var.numpy(), np.var(z))
    np.testing.assert_allclose(tf.math.reduce_std(c(z)).numpy(), np.std(z))
    norm = tf.math.reduce_euclidean_norm(c(z))
    assert norm.dtype == tf.complex128
    np.testing.assert_allclose(norm.numpy(), np.sqrt(np.sum(np.abs(z) ** 2)))


def test_logsumexp_is_stable():
    big = np.array([[1000.0, 1000.0, 999.0], [-1000.0, -1001.0, -1000.0]])
    expected = big.max(axis=1) + np.log(np.sum(np.exp(big - big.max(axis=1, keepdims=True)), axis=1))
    np.testing.assert_allclose(tf.reduce_logsumexp(c(big), axis=1).numpy(), expected, rtol=1e-12)
    rows = tf.reduce_logsumexp(c([[-np.inf, -np.inf], [0.0, 0.0], [np.inf, 1.0]]), axis=1).numpy()
    assert rows[0] == -np.inf and np.isclose(rows[1], np.log(2.0)) and rows[2] == np.inf
    assert np.isnan(tf.reduce_logsumexp(c([np.nan, 1.0])).numpy())
    check_grad(lambda x: tf.reduce_logsumexp(x * 300.0, axis=0), X, order=2)


def test_max_min_gradient_is_split_among_ties():
    ties = c([[3.0, 1.0, 3.0], [2.0, 2.0, 2.0]])
    with tf.GradientTape() as tape:
        tape.watch(ties)
        y = tf.reduce_max(ties, axis=1)
    np.testing.assert_allclose(tape.gradient(y, ties).numpy(), [[0.5, 0, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    with tf.GradientTape() as tape:
        tape.watch(ties)
        y = tf.reduce_min(ties)
    np.testing.assert_allclose(tape.gradient(y, ties).numpy(), [[0, 1, 0], [0, 0, 0]])


def test_prod_gradient_with_zeros():
    data = np.array([[3.0, 0.0, 2.0], [0.0, 0.0, 1.0], [1.5, 2.0, -3.0], [0.0, 4.0, 0.5]])
    x = c(data)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_prod(x, axis=1)
    grad = tape.gradient(y, x).numpy()
    expected = np.array([[np.prod(np.delete(row, j)) for j in range(3)] for row in data])
    np.testing.assert_allclose(grad, expected)
    check_grad(lambda t: tf.reduce_prod(t, axis=1), data)
    check_grad(lambda t: tf.reduce_prod(t, axis=0, keepdims=True), data)
    check_grad(lambda t: tf.reduce_prod(t, axis=1), data, order=2)
    check_grad(lambda t: tf.reduce_prod(t), data[:2], order=2)
    holes = X3.copy()
    holes[0, 0, 0] = holes[1, 1, 0] = holes[2, 1, 1] = 0.0  # one zero in a group, two in another
    check_grad(lambda t: tf.reduce_prod(t, axis=[0, 2]), holes, order=2)
    check_abstract(lambda t: tf.reduce_prod(t, axis=[0, 2]), c(X3))


def test_reduction_errors():
    with pytest.raises(InvalidArgumentError, match="Invalid reduction dimension"):
        tf.reduce_sum(tf.ones([2, 3]), axis=2)
    with pytest.raises(InvalidArgumentError, match="Invalid reduction dimension"):
        tf.reduce_sum(tf.ones([2, 3]), axis=-3)
    with pytest.raises(InvalidArgumentError, match="Invalid reduction dimension"):
        tf.reduce_sum(c(3.0), axis=0)
    with pytest.raises(InvalidArgumentError, match="duplicate"):
        tf.reduce_mean(tf.ones([2, 3]), axis=[1, -1])
    with pytest.raises(TypeError):
        tf.reduce_sum(tf.ones([2, 3]), axis=1.0)
    np.testing.assert_array_equal(tf.reduce_sum(tf.ones([2, 3]), axis=c([1])).numpy(), [3.0, 3.0])
    np.testing.assert_array_equal(tf.reduce_sum(tf.ones([2, 3]), axis=np.int64(0)).numpy(), [2.0] * 3)
    for fn in (tf.reduce_sum, tf.reduce_mean, tf.reduce_prod, tf.reduce_max, tf.reduce_min,
               tf.math.reduce_euclidean_norm):
        with pytest.raises(InvalidArgumentError, match="attr 'T' of bool"):
            fn(c([True]))
        with pytest.raises(InvalidArgumentError):
            fn(c(["a"]))
    for fn in (tf.reduce_max, tf.reduce_min):
        with pytest.raises(InvalidArgumentError, match="complex128"):
            fn(c([1j]))
    with pytest.raises(InvalidArgumentError):
        tf.reduce_logsumexp(c([1, 2]))
    for fn in (tf.math.reduce_variance, tf.math.reduce_std):
        with pytest.raises(TypeError, match="real or complex"):
            fn(c([1, 2]))
        with pytest.raises(InvalidArgumentError):
            fn(c([True]))


def test_reduce_any_all():
    b = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(tf.reduce_any(c(b), axis=1).numpy(), b.any(axis=1))
    np.testing.assert_array_equal(tf.reduce_all(c(b), axis=0, keepdims=True).numpy(), b.all(axis=0, keepdims=True))
    assert tf.reduce_any([True, False]).dtype == tf.bool
    assert bool(tf.reduce_all(c(b))) is False
    with pytest.raises(InvalidArgumentError, match="expected to be a bool tensor but is a float"):
        tf.reduce_any(c([1.0]))
    with pytest.raises(InvalidArgumentError, match="bool tensor but is a int32"):
        tf.reduce_all(c([1]))
    check_abstract(lambda t: tf.reduce_all(t, axis=0), c(b))
    check_abstract(lambda t: tf.reduce_any(t, keepdims=True), c(b))


# -- count_nonzero ----------------------------------------------------------------------------
def test_count_nonzero():
    a = np.array([[0, 1, 3], [2, 0, 0]], dtype=np.int32)
    out = tf.math.count_nonzero(c(a))
    assert out.dtype == tf.int64 and int(out) == 3
    ax = tf.math.count_nonzero(c(a), axis=1, keepdims=True, dtype=tf.int32)
    assert ax.dtype == tf.int32
    np.testing.assert_array_equal(ax.numpy(), np.count_nonzero(a, axis=1).reshape(2, 1))
    assert tf.math.count_nonzero(c([0.0, 1e-9, np.nan])).numpy() == 2
    assert tf.math.count_nonzero(c(["", "a", "bc"])).numpy() == 2
    assert tf.math.count_nonzero(c([True, False])).numpy() == 1
    assert tf.math.count_nonzero(c([1, 2]), dtype=tf.float32).dtype == tf.float32
    check_abstract(lambda t: tf.math.count_nonzero(t, axis=0), c(a))


# -- argmax / argmin -----------------------------------------------------------------------------
def test_argmax_argmin():
    a = np.array([[1, 5, 5], [3, 2, 0]], dtype=np.int32)
    out = tf.argmax(c(a))  # axis None is axis 0
    assert out.dtype == tf.int64
    np.testing.assert_array_equal(out.numpy(), np.argmax(a, axis=0))
    np.testing.assert_array_equal(tf.argmax(c(a), axis=1).numpy(), [1, 0])  # first of ties
    np.testing.assert_array_equal(tf.argmin(c(a), axis=-1, output_type=tf.int32).numpy(), [0, 2])
    assert tf.argmin(c(a), axis=1, output_type=tf.int32).dtype == tf.int32
    assert tf.argmax(c(X), axis=c(1)).numpy().tolist() == np.argmax(X, axis=1).tolist()
    assert tf.argmax(c([True, False, True])).numpy() == 0
    assert int(tf.argmax(c([1.0, np.nan, 5.0]))) == 2  # NaN is never picked, as in TF
    assert int(tf.argmin(c([np.nan, 1.0, 5.0]))) == 1
    assert tf.argmax(c([1, 3], tf.uint8), output_type=tf.uint16).dtype == tf.uint16
    check_abstract(lambda t: tf.argmax(t, axis=1), c(X3))
    check_abstract(lambda t: tf.argmin(t), c(X))


def test_argmax_errors():
    with pytest.raises(InvalidArgumentError, match=r"range \[-2, 2\), but got 2"):
        tf.argmax(tf.zeros([2, 3]), axis=2)
    with pytest.raises(InvalidArgumentError):
        tf.argmax(c(3.0))
    with pytest.raises(InvalidArgumentError, match="empty"):
        tf.argmax(tf.zeros([0]))
    with pytest.raises(InvalidArgumentError, match="output_type"):
        tf.argmax(tf.zeros([2]), output_type=tf.float32)
    with pytest.raises(InvalidArgumentError):
        tf.argmin(c([1j]))
    with pytest.raises(TypeError):
        tf.argmax(tf.zeros([2, 3]), axis=[1])


# -- cumsum / cumprod ---------------------------------------------------------------------------
def np_scan(a, axis, exclusive, reverse, op):
    a = np.flip(a, axis) if reverse else a
    out = np.cumsum(a, axis=axis) if op == "sum" else np.cumprod(a, axis=axis)
    if exclusive:
        out = np.moveaxis(out, axis, 0)
        first = np.zeros_like(out[:1]) if op == "sum" else np.ones_like(out[:1])
        out = np.moveaxis(np.concatenate([first, out[:-1]]), 0, axis)
    return np.flip(out, axis) if reverse else out


@pytest.mark.parametrize("op", ["sum", "prod"])
def test_cumulative_values_and_gradients(op):
    fn = tf.cumsum if op == "sum" else tf.math.cumprod
    for axis in (0, 1, -1):
        for exclusive in (False, True):
            for reverse in (False, True):
                out = fn(c(X3), axis=axis, exclusive=exclusive, reverse=reverse)
                np.testing.assert_allclose(out.numpy(), np_scan(X3, axis, exclusive, reverse, op))
                check_grad(lambda x: fn(x, axis=axis, exclusive=exclusive, reverse=reverse), X)
                check_abstract(lambda x: fn(x, axis=axis, exclusive=exclusive, reverse=reverse), c(X3))
    check_grad(lambda x: fn(x, axis=1, exclusive=True), X, order=2)
    ints = fn(c([[1, 2, 3], [4, 5, 6]]), axis=1)
    assert ints.dtype == tf.int32
    np.testing.assert_array_equal(ints.numpy(), np_scan(np.array([[1, 2, 3], [4, 5, 6]]), 1, False, False, op))


def test_cumsum_wraps_small_ints_and_default_axis():
    np.testing.assert_array_equal(tf.cumsum(c([200, 100], tf.uint8)).numpy(), [200, 44])
    np.testing.assert_array_equal(tf.cumsum(c([[1, 2], [3, 4]])).numpy(), [[1, 2], [4, 6]])
    np.testing.assert_array_equal(tf.cumsum(c([1, 2, 3]), axis=c(0)).numpy(), [1, 3, 6])


def test_cumprod_gradient_with_zeros():
    data = np.array([[3.0, 0.0, 2.0, 4.0], [0.5, 0.0, 0.0, 2.0], [1.5, -2.0, 0.7, 0.0]])
    x = c(data)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.cumprod(x, axis=1)
    # d sum(cumprod) / d x_k = sum over i >= k of the product of x_0..x_i without x_k
    expected = np.array([[sum(np.prod(np.delete(row[:i + 1], k)) for i in range(k, 4)) for k in range(4)]
                         for row in data])
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected)
    for exclusive in (False, True):
        for reverse in (False, True):
            check_grad(lambda t: tf.math.cumprod(t, axis=1, exclusive=exclusive, reverse=reverse), data)
    # second derivatives are exact away from zeros only (the zero handling is piecewise)
    check_grad(lambda t: tf.math.cumprod(t, axis=1, reverse=True), data + 0.25, order=2)


def test_cumulative_errors():
    with pytest.raises(InvalidArgumentError, match="scan axis"):
        tf.cumsum(c([[1, 2], [3, 4]]), axis=2)
    with pytest.raises(InvalidArgumentError, match="scan axis"):
        tf.cumsum(c(3))
    with pytest.raises(InvalidArgumentError, match="attr 'T' of bool"):
        tf.cumsum(c([True]))
    with pytest.raises(InvalidArgumentError):
        tf.math.cumprod(c(["a"]))
    with pytest.raises(TypeError):
        tf.cumsum(c([1, 2]), axis=0.0)


# -- sort / argsort / top_k ----------------------------------------------------------------------
def test_sort_values_gradients_and_abstract():
    for axis in (-1, 0, 1):
        np.testing.assert_array_equal(tf.sort(c(X3), axis=axis).numpy(), np.sort(X3, axis=axis))
        np.testing.assert_array_equal(tf.sort(c(X3), axis=axis, direction="DESCENDING").numpy(),
                                      np.flip(np.sort(X3, axis=axis), axis))
        check_grad(lambda x: tf.sort(x, axis=axis), X3)
        check_grad(lambda x: tf.sort(x, axis=axis, direction="DESCENDING"), X3)
        check_abstract(lambda x: tf.sort(x, axis=axis), c(X3))
    check_grad(lambda x: tf.sort(x), X, order=2)
    ints = tf.sort(c([3, 1, 2], tf.uint8), direction="DESCENDING")
    assert ints.dtype == tf.uint8 and ints.numpy().tolist() == [3, 2, 1]
    assert tf.sort(c([-2 ** 31, 1, 0]), direction="DESCENDING").numpy().tolist() == [1, 0, -2 ** 31]


def test_sort_gradient_routes_to_sorted_positions():
    x = c([3.0, 1.0, 2.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.multiply(tf.sort(x), c([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [100.0, 1.0, 10.0])


def test_argsort():
    v = np.array([3, 1, 2, 1, 3], dtype=np.int32)
    out = tf.argsort(c(v))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), np.argsort(v, kind="stable"))
    # descending keeps equal elements in their original order too
    np.testing.assert_array_equal(tf.argsort(c(v), direction="DESCENDING").numpy(), [0, 4, 2, 1, 3])
    np.testing.assert_array_equal(tf.argsort(c(v), direction="DESCENDING", stable=True).numpy(), [0, 4, 2, 1, 3])
    m = np.array([[3, 1, 2], [0, 5, 4]])
    np.testing.assert_array_equal(tf.argsort(c(m), axis=0).numpy(), np.argsort(m, axis=0, kind="stable"))
    np.testing.assert_array_equal(tf.argsort(c(X3), axis=1).numpy(), np.argsort(X3, axis=1))
    check_abstract(lambda x: tf.argsort(x, axis=0, direction="DESCENDING"), c(X3))


def test_sort_errors():
    with pytest.raises(ValueError, match="direction"):
        tf.sort(c([3, 1]), direction="UP")
    with pytest.raises(ValueError, match="direction"):
        tf.argsort(c([3, 1]), direction="x")
    for bad in (c([True, False]), c(["b", "a"]), c([1j])):
        with pytest.raises(InvalidArgumentError):
            tf.sort(bad)
        with pytest.raises(InvalidArgumentError):
            tf.argsort(bad)
    with pytest.raises(InvalidArgumentError):
        tf.sort(c(3.0))
    with pytest.raises(InvalidArgumentError):
        tf.sort(c([3.0]), axis=1)


def test_top_k():
    m = np.array([[1.0, 3.0, 2.0, 3.0], [0.5, -1.0, 4.0, 0.0]])
    result = tf.math.top_k(c(m), k=2)
    assert type(result).__name__ == "TopKV2" and result._fields == ("values", "indices")
    values, indices = result
    assert indices.dtype == tf.int32
    np.testing.assert_array_equal(values.numpy(), [[3.0, 3.0], [4.0, 0.5]])
    np.testing.assert_array_equal(indices.numpy(), [[1, 3], [2, 0]])  # ties: lower index first
    assert tf.math.top_k(c([1.0, 2.0]), index_type=tf.int64).indices.dtype == tf.int64
    assert tf.math.top_k(c([1.0, 2.0]), k=c(1)).values.numpy().tolist() == [2.0]
    assert tf.math.top_k(c([1.0, 2.0]), k=0).values.shape == (0,)
    ints = tf.math.top_k(c([1, 3, 2, 3]), k=3)
    assert ints.values.numpy().tolist() == [3, 3, 2] and ints.indices.numpy().tolist() == [1, 3, 2]
    assert tf.math.top_k(c([1.0, np.nan, 2.0]), k=2).indices.numpy().tolist() == [2, 0]
    unsorted = tf.math.top_k(c([1, 3, 2, 4, 0]), k=3, sorted=False)
    assert sorted(unsorted.values.numpy().tolist()) == [2, 3, 4]
    check_grad(lambda x: tf.math.top_k(x, k=2).values, X)
    check_grad(lambda x: tf.math.top_k(x, k=2).values, X3, order=2)
    check_abstract(lambda x: tf.math.top_k(x, k=2).values, c(X3))


def test_top_k_gradient_goes_to_selected_entries():
    x = c([[3.0, 1.0, 2.0, 3.0]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.multiply(tf.math.top_k(x, 2).values, c([1.0, 10.0]))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[1.0, 0.0, 0.0, 10.0]])


def test_top_k_errors():
    with pytest.raises(InvalidArgumentError, match="at least k columns"):
        tf.math.top_k(c([1, 3]), k=3)
    with pytest.raises(InvalidArgumentError, match="k >= 0"):
        tf.math.top_k(c([1, 3]), k=-1)
    with pytest.raises(InvalidArgumentError, match="1-D"):
        tf.math.top_k(c(1.0))
    with pytest.raises(InvalidArgumentError):
        tf.math.top_k(c([True]))
    with pytest.raises(InvalidArgumentError, match="index_type"):
        tf.math.top_k(c([1.0]), index_type=tf.uint8)


# -- unique -------------------------------------------------------------------------------------
def np_unique_first_order(a):
    y, idx = [], []
    for v in a.tolist():
        if v not in y:
            y.append(v)
        idx.append(y.index(v))
    return y, idx


def test_unique_and_unique_with_counts():
    a = np.array([1, 1, 2, 4, 4, 4, 7, 8, 8, 2, -3], dtype=np.int32)
    y, idx = np_unique_first_order(a)
    result = tf.unique(c(a))
    assert type(result).__name__ == "Unique" and result._fields == ("y", "idx")
    assert result.y.dtype == tf.int32 and result.idx.dtype == tf.int32
    assert result.y.numpy().tolist() == y and result.idx.numpy().tolist() == idx
    counted = tf.unique_with_counts(c(a), out_idx=tf.int64)
    assert type(counted).__name__ == "UniqueWithCounts"
    assert counted.idx.dtype == tf.int64 and counted.count.dtype == tf.int64
    assert counted.count.numpy().tolist() == [a.tolist().count(v) for v in y]
    f = tf.unique(c([3.0, 1.0, 3.0]))
    assert f.y.numpy().tolist() == [3.0, 1.0] and f.idx.numpy().tolist() == [0, 1, 0]
    s = tf.unique(c(["b", "a", "b"]))
    assert s.y.numpy().tolist() == [b"b", b"a"] and s.idx.numpy().tolist() == [0, 1, 0]
    assert tf.unique(c([True, False, True])).y.numpy().tolist() == [True, False]
    nan = tf.unique(c([np.nan, np.nan, 1.0]))
    assert nan.idx.numpy().tolist() == [0, 1, 2]  # NaN != NaN: each is its own value
    empty = tf.unique_with_counts(tf.zeros([0]))
    assert empty.y.shape == (0,) and empty.count.dtype == tf.int32
    check_abstract(lambda t: tf.unique(t).y, c(a))
    check_abstract(lambda t: tf.unique_with_counts(t).count, c(a))


def test_unique_errors():
    with pytest.raises(InvalidArgumentError, match="1D"):
        tf.unique(c([[1, 2]]))
    with pytest.raises(InvalidArgumentError, match="1D"):
        tf.unique_with_counts(c(1))
    with pytest.raises(InvalidArgumentError, match="out_idx"):
        tf.unique(c([1]), out_idx=tf.float32)


# -- bincount -----------------------------------------------------------------------------------
def test_bincount():
    arr = np.array([1, 1, 2, 5, 2, 0])
    out = tf.math.bincount(c(arr))
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), np.bincount(arr))
    np.testing.assert_array_equal(tf.math.bincount(c(arr), minlength=9).numpy(), np.bincount(arr, minlength=9))
    np.testing.assert_array_equal(tf.math.bincount(c(arr), maxlength=3).numpy(), np.bincount(arr)[:3])
    w = np.array([0.5, 1.0, 2.0, 3.0, 0.25, 4.0])
    weighted = tf.math.bincount(c(arr), weights=c(w, tf.float32))
    assert weighted.dtype == tf.float32
    np.testing.assert_allclose(weighted.numpy(), np.bincount(arr, weights=w))
    assert tf.math.bincount(c(arr), weights=[1.0, 2, 3, 4, 5, 6]).dtype == tf.float32
    assert tf.math.bincount(c(arr), weights=c(w, tf.float64), dtype=tf.int32).dtype == tf.float64
    int_weighted = tf.math.bincount(c(arr), weights=c([1, 2, 3, 4, 5, 6]))
    assert int_weighted.dtype == tf.int32
    np.testing.assert_array_equal(int_weighted.numpy(), np.bincount(arr, weights=[1, 2, 3, 4, 5, 6]))
    assert tf.math.bincount(c(arr), dtype=tf.float32).dtype == tf.float32
    assert tf.math.bincount(c(arr), dtype=tf.int64).dtype == tf.int64
    assert tf.math.bincount(tf.zeros([0], tf.int32)).shape == (0,)
    assert tf.math.bincount(c([1, 1, 2]), minlength=c(5)).shape == (5,)
    assert tf.math.bincount(c([1, 1, 2]), maxlength=0).shape == (0,)
    np.testing.assert_array_equal(tf.math.bincount(c([1.0, 2.0])).numpy(), [0, 1, 1])  # cast to int
    np.testing.assert_array_equal(tf.math.bincount(c([1, 1, 2]), binary_output=True).numpy(), [0, 1, 1])
    m = np.array([[1, 1], [2, 5]])
    np.testing.assert_array_equal(tf.math.bincount(c(m)).numpy(), np.bincount(m.ravel()))
    rows = tf.math.bincount(c(m), axis=-1)
    np.testing.assert_array_equal(rows.numpy(), [np.bincount(m[0], minlength=6), np.bincount(m[1], minlength=6)])
    check_abstract(lambda t: tf.math.bincount(t, minlength=8), c(arr))
    check_abstract(lambda t: tf.math.bincount(t, axis=-1), c(m))


def test_bincount_errors():
    with pytest.raises(InvalidArgumentError, match="non-negative"):
        tf.math.bincount(c([1, -1, 2]))
    with pytest.raises(InvalidArgumentError, match="same shape"):
        tf.math.bincount(c([1, 1, 2]), weights=c([1.0, 2.0]))
    with pytest.raises(ValueError, match="mutually exclusive"):
        tf.math.bincount(c([1]), weights=c([1.0]), binary_output=True)
    with pytest.raises(ValueError, match="axis"):
        tf.math.bincount(c([1]), axis=1)


# -- segment ops --------------------------------------------------------------------------------
D = np.array([[1.0, 2.0], [3.0, -4.0], [5.0, 6.5], [0.5, -1.5], [2.5, 3.0]])
SORTED_IDS = np.array([0, 0, 2, 2, 3])


def np_segments(data, ids, num, reduce, empty):
    out = []
    for s in range(num):
        rows = data[ids == s]
        out.append(reduce(rows, axis=0) if len(rows) else np.full(data.shape[1:], empty))
    return np.array(out)


SORTED = {
    "sum": (tf.math.segment_sum, np.sum, 0.0),
    "mean": (tf.math.segment_mean, np.mean, 0.0),
    "max": (tf.math.segment_max, np.max, 0.0),
    "min": (tf.math.segment_min, np.min, 0.0),
    "prod": (tf.math.segment_prod, np.prod, 1.0),
}


@pytest.mark.parametrize("kind", sorted(SORTED))
def test_sorted_segment_ops(kind):
    fn, reduce, empty = SORTED[kind]
    out = fn(c(D), c(SORTED_IDS))
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), np_segments(D, SORTED_IDS, 4, reduce, empty))
    assert fn(c(D), c(SORTED_IDS, tf.int64)).shape == (4, 2)
    check_grad(lambda x: fn(x, SORTED_IDS), D)
    check_grad(lambda x: fn(x, SORTED_IDS), D, order=2)
    check_abstract(lambda x: fn(x, SORTED_IDS), c(D))


def test_segment_int_data_and_empty():
    ints = tf.math.segment_sum(c([1, 2, 3]), c([0, 0, 2]))
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [3, 0, 3]
    assert tf.math.segment_mean(c([1, 2, 4]), c([0, 0, 2])).numpy().tolist() == [1, 0, 4]
    assert tf.math.segment_sum(tf.zeros([0, 2]), tf.zeros([0], tf.int32)).shape == (0, 2)


def test_segment_errors():
    with pytest.raises(InvalidArgumentError, match="not increasing"):
        tf.math.segment_sum(c(D), c([1, 0, 2, 2, 3]))
    with pytest.raises(InvalidArgumentError, match="out of range"):
        tf.math.segment_sum(c(D), c([-1, 0, 2, 2, 3]))
    with pytest.raises(InvalidArgumentError, match="same size as dimension 0"):
        tf.math.segment_max(c(D), c([0, 0]))
    with pytest.raises(InvalidArgumentError, match="vector"):
        tf.math.segment_sum(c(D), c([[0], [0], [1], [1], [1]]))
    with pytest.raises(InvalidArgumentError, match="Tindices"):
        tf.math.segment_sum(c(D), c([0.0, 0.0, 1.0, 1.0, 1.0]))
    with pytest.raises(InvalidArgumentError, match="attr 'T' of bool"):
        tf.math.segment_sum(c([True]), c([0]))
    with pytest.raises(InvalidArgumentError, match="complex128"):
        tf.math.segment_max(c([1j]), c([0]))


UNSORTED_IDS = np.array([2, 0, 2, -1, 0])
LOWEST = np.finfo(np.float64).min
HIGHEST = np.finfo(np.float64).max
UNSORTED = {
    "sum": (tf.math.unsorted_segment_sum, np.sum, 0.0),
    "mean": (tf.math.unsorted_segment_mean, np.mean, 0.0),
    "max": (tf.math.unsorted_segment_max, np.max, LOWEST),
    "min": (tf.math.unsorted_segment_min, np.min, HIGHEST),
    "prod": (tf.math.unsorted_segment_prod, np.prod, 1.0),
    "sqrt_n": (tf.math.unsorted_segment_sqrt_n,
               lambda rows, axis: np.sum(rows, axis=axis) / np.sqrt(len(rows)), 0.0),
}


@pytest.mark.parametrize("kind", sorted(UNSORTED))
def test_unsorted_segment_ops(kind):
    fn, reduce, empty = UNSORTED[kind]
    out = fn(c(D), c(UNSORTED_IDS), 4)  # segment 1 and 3 are empty; the row with id -1 is dropped
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), np_segments(D, UNSORTED_IDS, 4, reduce, empty))
    assert fn(c(D), c(UNSORTED_IDS, tf.int64), c(3)).shape == (3, 2)
    # gradients where every segment is non-empty (an empty max segment holds the lowest float)
    check_grad(lambda x: fn(x, [1, 0, 1, -1, 0], 2), D)
    check_grad(lambda x: fn(x, [1, 0, 1, 0, 0], 2), D, order=2)
    check_abstract(lambda x: fn(x, UNSORTED_IDS, 4), c(D))


def test_unsorted_segment_details():
    ints = tf.math.unsorted_segment_max(c([1, 2, 4]), c([2, 0, 2]), 4)
    assert ints.dtype == tf.int32
    assert ints.numpy().tolist() == [2, np.iinfo(np.int32).min, 4, np.iinfo(np.int32).min]
    f32 = tf.math.unsorted_segment_max(c([1.0]), c([1]), 2).numpy()
    assert f32[0] == np.finfo(np.float32).min  # the lowest finite value, not -inf
    mean_int = tf.math.unsorted_segment_mean(c([1, 2, 4]), c([2, 0, 2]), 4)
    assert mean_int.dtype == tf.float64 and mean_int.numpy().tolist() == [2.0, 0.0, 2.5, 0.0]
    # multi-dimensional ids reduce the leading dimensions of data
    ids2 = np.array([[0, 1], [1, 1], [2, 0]])
    out = tf.math.unsorted_segment_sum(c(D[:3]), c(ids2), 3)
    np.testing.assert_allclose(out.numpy(), [D[0, 0] + D[2, 1], D[0, 1] + D[1, 0] + D[1, 1], D[2, 0]])
    check_grad(lambda x: tf.math.unsorted_segment_sum(x, ids2, 3), D[:3])
    check_abstract(lambda x: tf.math.unsorted_segment_sum(x, ids2, 3), c(D[:3]))
    z = tf.math.unsorted_segment_sum(c([1j, 2.0]), c([0, 0]), 1)
    assert z.dtype == tf.complex128 and z.numpy().tolist() == [2 + 1j]
    with pytest.raises(InvalidArgumentError, match="complex128"):  # TF's composite takes a Maximum
        tf.math.unsorted_segment_mean(c([1j, 2.0]), c([0, 0]), 1)


def test_unsorted_segment_prod_gradient_with_zeros():
    data = np.array([0.0, 2.0, 3.0, 0.0, 0.0, 5.0, 1.5])
    ids = np.array([0, 0, 1, 2, 2, 3, 3])
    x = c(data)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.math.unsorted_segment_prod(x, ids, 4)
    expected = [np.prod(np.delete(data[ids == ids[i]], list(np.nonzero(ids == ids[i])[0]).index(i)))
                for i in range(len(data))]
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), expected)
    check_grad(lambda t: tf.math.segment_prod(t, ids), data)


def test_unsorted_segment_errors():
    with pytest.raises(InvalidArgumentError, match=r"segment_ids\[1\] = 5 is out of range \[0, 4\)"):
        tf.math.unsorted_segment_sum(c(D[:3]), c([2, 5, 2]), 4)
    with pytest.raises(InvalidArgumentError, match="must not be negative"):
        tf.math.unsorted_segment_sum(c(D[:3]), c([2, 0, 2]), -1)
    with pytest.raises(InvalidArgumentError, match="does not start with"):
        tf.math.unsorted_segment_max(c(D[:3]), c([2, 0]), 3)
    with pytest.raises(InvalidArgumentError, match="Tindices"):
        tf.math.unsorted_segment_sum(c([1.0]), c([0.0]), 1)
    with pytest.raises(TypeError):
        tf.math.unsorted_segment_sum(c([1.0]), c([0]), 1.0)
    with pytest.raises(InvalidArgumentError, match="complex128"):
        tf.math.unsorted_segment_max(c([1j]), c([0]), 1)
    assert tf.math.unsorted_segment_sum(c([1.0]), c([0], tf.int16), 1).numpy().tolist() == [1.0]


# -- differences from TensorFlow 2.21 found by comparing with it ---------------------------------
def test_complex_mean_of_nothing_is_zero():
    out = tf.reduce_mean(tf.zeros((0, 3), tf.complex64), axis=0)
    assert out.dtype == tf.complex64 and out.numpy().tolist() == [0j, 0j, 0j]
    assert np.isnan(tf.reduce_mean(tf.zeros((0,), tf.float32)).numpy())


def test_variance_checks_axes_before_the_integer_dtype():
    with pytest.raises(InvalidArgumentError, match="Invalid reduction dimension"):
        tf.math.reduce_variance(tf.constant([[1, 2]]), axis=2)
    with pytest.raises(InvalidArgumentError, match="duplicate"):
        tf.math.reduce_std(tf.constant([[1, 2]]), axis=[0, 0])
    with pytest.raises(TypeError, match="integer"):
        tf.math.reduce_variance(tf.constant([[1, 2]]), axis=1)


def test_reduce_any_all_cast_numpy_values_to_bool():
    assert tf.reduce_any(np.array([0.0, 2.0])).numpy() == True  # noqa: E712
    assert tf.reduce_all(np.array([1, 0])).numpy() == False  # noqa: E712
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.reduce_any([1.0])
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.reduce_all(tf.constant([1.0]))


def test_index_and_value_dtypes_as_tensorflow():
    data = tf.constant([1.0, 2.0, 3.0])
    ids16 = tf.constant([0, 1, 0], tf.int16)
    assert tf.math.unsorted_segment_sum(data, ids16, 2).numpy().tolist() == [4.0, 2.0]
    for fn in (tf.math.unsorted_segment_max, tf.math.unsorted_segment_min, tf.math.unsorted_segment_prod):
        with pytest.raises(InvalidArgumentError, match="Tindices"):
            fn(data, ids16, 2)
    with pytest.raises(InvalidArgumentError):
        tf.math.unsorted_segment_sqrt_n(tf.constant([1j]), tf.constant([0]), 1)
    for dtype in (tf.uint8, tf.int8, tf.int16):
        with pytest.raises(InvalidArgumentError, match="Tidx"):
            tf.math.bincount(tf.constant([1, 2], dtype))
    assert tf.math.bincount(tf.constant([1.5, 2.7])).numpy().tolist() == [0, 1, 1]  # cast to int32
    for fn in (tf.unique, tf.unique_with_counts):
        with pytest.raises(tf.errors.NotFoundError, match="COMPLEX128"):
            fn(tf.constant([1j, 1j]))


def test_complex_variance_gradient():
    x = np.array([[1 + 2j, -1 + 0.5j, 3 - 1j], [0j, 0j, 0j]])
    t = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(t)
        variance = tf.math.reduce_variance(t, axis=1)
        std = tf.math.reduce_std(t, axis=1)
    centered = x - x.mean(axis=1, keepdims=True)
    np.testing.assert_allclose(variance.numpy(), (np.abs(centered) ** 2).mean(axis=1))
    np.testing.assert_allclose(tape.gradient(variance, t).numpy(), 2 * centered / 3)
    g = tape.gradient(std, t).numpy()  # a zero std has no derivative: NaN, as for real input
    np.testing.assert_allclose(g[0], centered[0] / 3 / np.sqrt((np.abs(centered[0]) ** 2).mean()))
    assert np.isnan(g[1]).all()


@pytest.mark.parametrize("axis,keepdims", [((0, 1, 2), False), ((0, 1, 2), True), (0, False),
                                           ([0, 1], True), ((1, 2), False), (-1, False)])
def test_sum_over_leading_axes_of_a_large_array_as_bias_gradients_take_it(axis, keepdims):
    # large enough for the BLAS path (a product with ones); the reference sums in float64
    x = np.random.default_rng(0).normal(size=(16, 26, 26, 32)).astype(np.float32)
    x[0, 0, 0, 3] = np.inf
    got = tf.reduce_sum(x, axis=axis, keepdims=keepdims).numpy()
    want = x.astype(np.float64).sum(axis=tuple(np.atleast_1d(axis)), keepdims=keepdims)
    assert got.dtype == np.float32 and got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)
