"""tf.nn: activations, softmax, cross-entropies, dropout, moments, batch normalization, embeddings."""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_abstract, check_grad

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
XT = np.ascontiguousarray(X.T)
X6 = np.array([[0.3, -1.2, 6.5], [4.5, 7.0, -0.4]])  # both sides of relu6's kinks
LABELS = np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]])
LABELS_T = np.ascontiguousarray(LABELS.T)
InvalidArgumentError = tf.errors.InvalidArgumentError


def np_sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def np_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def np_erf(x):
    """erf by its Maclaurin series (|x| < 3 here), independent of the library."""
    x = np.asarray(x, dtype=np.float64)
    total, term = np.zeros_like(x), x.copy()
    for n in range(80):
        total += term / (2 * n + 1)
        term = -term * x * x / (n + 1)
    return 2.0 / np.sqrt(np.pi) * total


SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772

ACTIVATIONS = {
    "relu": (tf.nn.relu, lambda x: np.where(x > 0, x, 0.0)),
    "relu6": (tf.nn.relu6, lambda x: np.clip(x, 0.0, 6.0)),
    # alpha is a float32 attribute in TF, also for float64 features
    "leaky_relu": (tf.nn.leaky_relu, lambda x: np.where(x > 0, x, float(np.float32(0.2)) * x)),
    "leaky_relu_0.5": (lambda x: tf.nn.leaky_relu(x, alpha=0.5), lambda x: np.where(x > 0, x, 0.5 * x)),
    "elu": (tf.nn.elu, lambda x: np.where(x > 0, x, np.exp(x) - 1)),
    "selu": (tf.nn.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1))),
    "softplus": (tf.nn.softplus, lambda x: np.log(1 + np.exp(x))),
    "softsign": (tf.nn.softsign, lambda x: x / (1 + np.abs(x))),
    "gelu": (tf.nn.gelu, lambda x: 0.5 * x * (1 + np_erf(x / np.sqrt(2)))),
    "gelu_tanh": (lambda x: tf.nn.gelu(x, approximate=True),
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "silu": (tf.nn.silu, lambda x: x * np_sigmoid(x)),
    "swish_beta2": (lambda x: tf.nn.swish(x, beta=2.0), lambda x: x * np_sigmoid(2 * x)),
}


# -- activations -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_grads_abstract(name):
    fn, ref = ACTIVATIONS[name]
    data = X6 if name == "relu6" else X
    out = fn(tf.constant(data))
    assert out.dtype == tf.float64 and out.shape == data.shape
    np.testing.assert_allclose(out.numpy(), ref(data), rtol=1e-12, atol=1e-12)
    out32 = fn(tf.constant(data.astype(np.float32)))
    assert out32.dtype == tf.float32
    np.testing.assert_allclose(out32.numpy(), ref(data), rtol=1e-5, atol=1e-6)
    check_grad(fn, data)
    check_grad(fn, data, order=2)
    check_abstract(fn, tf.constant(data.astype(np.float32)))


def test_activation_grads_at_kinks_follow_tensorflow():
    x = tf.constant([0.0, 6.0, -1e-30, 3.0])
    expected = {tf.nn.relu: [0, 1, 0, 1], tf.nn.relu6: [0, 0, 0, 1],
                tf.nn.leaky_relu: [0.2, 1, 0.2, 1], tf.nn.elu: [1, 1, 1, 1],
                tf.nn.selu: [SELU_SCALE] * 4}
    for fn, want in expected.items():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        np.testing.assert_allclose(tape.gradient(y, x).numpy(), want, rtol=1e-6)


def _gradient_of(fn):
    def grad(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return tape.gradient(y, x)
    return grad


@pytest.mark.parametrize("fn", [tf.nn.relu, tf.nn.relu6, tf.nn.leaky_relu, tf.nn.elu, tf.nn.selu,
                                tf.nn.softplus, tf.nn.softmax, tf.nn.log_softmax])
def test_gradient_primitives_abstract(fn):
    """The gradient primitives (ReluGrad, EluGrad...) and their own gradients evaluate abstractly."""
    check_abstract(_gradient_of(fn), tf.constant(X6))
    check_abstract(_gradient_of(_gradient_of(fn)), tf.constant(X6))


def test_relu_keeps_integer_dtypes_and_rejects_bool():
    for dtype in (tf.int32, tf.int64, tf.int8, tf.uint8):
        out = tf.nn.relu(tf.constant([3, 0, 5], dtype=dtype) if dtype.is_unsigned
                         else tf.constant([3, -2, 5], dtype=dtype))
        assert out.dtype == dtype
        assert out.numpy().tolist() == [3, 0, 5]
    out6 = tf.nn.relu6(tf.constant([-1, 3, 9], dtype=tf.int64))
    assert out6.dtype == tf.int64 and out6.numpy().tolist() == [0, 3, 6]
    assert tf.nn.relu([1, -2]).dtype == tf.int32
    for fn in (tf.nn.relu, tf.nn.relu6):
        with pytest.raises(InvalidArgumentError):
            fn(tf.constant([True, False]))
    with pytest.raises(InvalidArgumentError):
        tf.nn.relu(tf.constant([1 + 1j]))


def test_relu_nan_and_inf():
    out = tf.nn.relu(tf.constant([np.nan, -np.inf, np.inf])).numpy()
    assert np.isnan(out[0]) and out[1] == 0 and out[2] == np.inf
    np.testing.assert_array_equal(tf.nn.relu6(tf.constant([-np.inf, np.inf])).numpy(), [0, 6])


def test_leaky_relu_casts_integers_and_checks_alpha():
    out = tf.nn.leaky_relu(tf.constant([1, -2], dtype=tf.int64))
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [1.0, -0.4], rtol=1e-6)
    np.testing.assert_allclose(tf.nn.leaky_relu(tf.constant([1.0, -2.0]), alpha=2.0).numpy(), [1, -4])
    assert tf.nn.leaky_relu(tf.constant([1.0], dtype=tf.float16)).dtype == tf.float16
    with pytest.raises(TypeError):
        tf.nn.leaky_relu(tf.constant([1.0]), alpha=tf.constant(0.3))


@pytest.mark.parametrize("fn", [tf.nn.elu, tf.nn.selu, tf.nn.softplus, tf.nn.softsign,
                                tf.nn.softmax, tf.nn.log_softmax, tf.nn.l2_loss])
def test_float_only_ops_reject_integers(fn):
    with pytest.raises(InvalidArgumentError):
        fn(tf.constant([1, -2, 3]))


def test_gelu_silu_dtypes():
    with pytest.raises(ValueError):
        tf.nn.gelu(tf.constant([1, 2]))
    with pytest.raises(InvalidArgumentError):
        tf.nn.silu(tf.constant([1, 2]))
    assert tf.nn.gelu(tf.constant([1.0], dtype=tf.float16)).dtype == tf.float16
    out = tf.nn.silu(tf.constant([1.0, -1.0]), beta=tf.constant(2.0))
    np.testing.assert_allclose(out.numpy(), [1 * np_sigmoid(2), -np_sigmoid(-2)], rtol=1e-6)
    assert tf.nn.swish is tf.nn.silu


def test_elu_selu_do_not_overflow():
    out = tf.nn.elu(tf.constant([1000.0, -1000.0])).numpy()
    np.testing.assert_array_equal(out, [1000.0, -1.0])
    out = tf.nn.selu(tf.constant([-1000.0])).numpy()
    np.testing.assert_allclose(out, [-SELU_SCALE * SELU_ALPHA], rtol=1e-6)


def test_softplus_is_stable_seed_002():
    big = tf.nn.softplus(100.0)
    assert big.dtype == tf.float32 and np.isfinite(big.numpy())
    np.testing.assert_allclose(big.numpy(), 100.0, rtol=1e-6)
    x = tf.Variable([1000.0])
    with tf.GradientTape() as tape:
        z = tf.nn.softplus(x)
    (grad,) = tape.gradient(z, [x])
    assert z.numpy()[0] == 1000.0
    assert grad.numpy()[0] == 1.0
    assert tf.nn.softplus(-1000.0).numpy() == 0.0
    np.testing.assert_allclose(tf.nn.softplus(-20.0).numpy(), np.exp(-20.0), rtol=1e-5)
    assert tf.math.softplus is tf.nn.softplus and tf.math.softsign is tf.nn.softsign


# -- softmax -----------------------------------------------------------------------------------
def test_softmax_values_axes_and_large_logits():
    x = tf.constant(X)
    np.testing.assert_allclose(tf.nn.softmax(x).numpy(), np.exp(np_log_softmax(X)), rtol=1e-12)
    np.testing.assert_allclose(tf.nn.log_softmax(x).numpy(), np_log_softmax(X), rtol=1e-12)
    np.testing.assert_allclose(tf.nn.softmax(x, axis=0).numpy(), np.exp(np_log_softmax(X, 0)),
                               rtol=1e-12)
    np.testing.assert_allclose(tf.nn.log_softmax(x, axis=tf.constant(-2)).numpy(),
                               np_log_softmax(X, 0), rtol=1e-12)
    big = tf.constant([1000.0, 0.0, -1000.0])
    np.testing.assert_array_equal(tf.nn.softmax(big).numpy(), [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(tf.nn.log_softmax(big).numpy(), [0.0, -1000.0, -2000.0])
    half = tf.nn.softmax(tf.constant([1.0, 2.0], dtype=tf.float16))
    assert half.dtype == tf.float16
    np.testing.assert_allclose(half.numpy(), [0.2689, 0.7311], atol=1e-3)
    assert tf.nn.softmax(tf.zeros([2, 0])).shape == (2, 0)
    assert tf.math.softmax is tf.nn.softmax and tf.math.log_softmax is tf.nn.log_softmax


def test_softmax_bad_axis_and_rank():
    for fn in (tf.nn.softmax, tf.nn.log_softmax):
        for axis in (2, -3):
            with pytest.raises(InvalidArgumentError):
                fn(tf.constant(X), axis=axis)
        with pytest.raises(InvalidArgumentError):
            fn(tf.constant(1.5))


@pytest.mark.parametrize("axis", [None, 0])
def test_softmax_grads(axis):
    for fn in (tf.nn.softmax, tf.nn.log_softmax):
        f = lambda x: fn(x, axis=axis)  # noqa: E731
        check_grad(f, X)
        check_grad(f, X, order=2)
        check_abstract(f, tf.constant(X))


# -- cross-entropies ---------------------------------------------------------------------------
def test_sigmoid_cross_entropy_values_and_stability():
    z = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.8]])
    out = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant(z), logits=tf.constant(X))
    p = np_sigmoid(X)
    np.testing.assert_allclose(out.numpy(), -z * np.log(p) - (1 - z) * np.log(1 - p), rtol=1e-12)
    big = tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0, 1.0, 0.0],
                                                  logits=[1000.0, 1000.0, -1000.0, -1000.0])
    np.testing.assert_array_equal(big.numpy(), [0.0, 1000.0, 1000.0, 0.0])
    logits = tf.constant([0.0, 1000.0, -1000.0])
    labels = tf.constant([0.3, 0.2, 0.9])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([logits, labels])
        loss = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), [0.2, 0.8, -0.9], rtol=1e-6)
    np.testing.assert_allclose(tape.gradient(loss, labels).numpy(), [0.0, -1000.0, 1000.0])


def test_sigmoid_cross_entropy_grads_and_errors():
    z = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.8]])
    f = lambda labels, logits: tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)  # noqa: E731
    check_grad(f, z, X)
    check_grad(f, z, X, order=2)
    check_abstract(f, tf.constant(z), tf.constant(X))
    with pytest.raises(ValueError):
        tf.nn.sigmoid_cross_entropy_with_logits(logits=[1.0])
    with pytest.raises(ValueError):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=[1.0, 0.0, 1.0], logits=[2.0, -3.0])
    with pytest.raises(InvalidArgumentError):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.constant([1.0], tf.float64), logits=[2.0])
    with pytest.raises(InvalidArgumentError):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=[1], logits=[2.0])
    with pytest.raises(InvalidArgumentError):
        tf.nn.sigmoid_cross_entropy_with_logits(labels=[1], logits=[2])


def test_weighted_cross_entropy():
    z = np.array([[1.0, 0.0, 0.3], [0.0, 1.0, 0.8]])
    out = tf.nn.weighted_cross_entropy_with_logits(tf.constant(z), tf.constant(X), 3.0)
    p = np_sigmoid(X)
    np.testing.assert_allclose(out.numpy(), -3.0 * z * np.log(p) - (1 - z) * np.log(1 - p), rtol=1e-12)
    big = tf.nn.weighted_cross_entropy_with_logits([1.0, 0.0], [-1000.0, 1000.0], 2.0)
    np.testing.assert_array_equal(big.numpy(), [2000.0, 1000.0])
    check_grad(lambda z_, x: tf.nn.weighted_cross_entropy_with_logits(z_, x, 3.0), z, X)


def test_softmax_cross_entropy_values_and_stability():
    out = tf.nn.softmax_cross_entropy_with_logits(tf.constant(LABELS), tf.constant(X))
    np.testing.assert_allclose(out.numpy(), -np.sum(LABELS * np_log_softmax(X), axis=-1), rtol=1e-12)
    out0 = tf.nn.softmax_cross_entropy_with_logits(tf.constant(LABELS_T), tf.constant(XT), axis=0)
    np.testing.assert_allclose(out0.numpy(), out.numpy(), rtol=1e-12)
    big = tf.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 1.0], [1.0, 0.0]],
                                                  logits=[[1000.0, 0.0], [1000.0, 0.0]])
    assert big.dtype == tf.float32
    np.testing.assert_array_equal(big.numpy(), [1000.0, 0.0])
    # integer labels are cast to the logits' dtype; labels broadcast to the logits' shape
    ints = tf.nn.softmax_cross_entropy_with_logits(labels=[[0, 1]], logits=[[1.0, 0.0]])
    np.testing.assert_allclose(ints.numpy(), [np.log1p(np.e)], rtol=1e-6)
    bcast = tf.nn.softmax_cross_entropy_with_logits(labels=[[0.0, 1.0]], logits=[[1.0, 0.0], [1.0, 2.0]])
    np.testing.assert_allclose(bcast.numpy(), [np.log1p(np.e), np.log1p(np.exp(-1))], rtol=1e-6)
    rank1 = tf.nn.softmax_cross_entropy_with_logits(labels=[0.0, 1.0], logits=[1.0, 0.0])
    assert rank1.shape == ()
    assert tf.nn.softmax_cross_entropy_with_logits(tf.ones([2, 3, 4]) / 4, tf.zeros([2, 3, 4])).shape == (2, 3)


def test_softmax_cross_entropy_grads_and_errors():
    f = tf.nn.softmax_cross_entropy_with_logits
    check_grad(f, LABELS, X)
    check_grad(f, LABELS, X, order=2)
    check_grad(lambda lb, lg: f(lb, lg, axis=0), LABELS_T, XT)
    check_abstract(f, tf.constant(LABELS), tf.constant(X))
    check_abstract(lambda lb, lg: f(lb, lg, axis=0), tf.constant(LABELS_T), tf.constant(XT))
    # TensorFlow's gradient is softmax - labels even when the labels do not sum to one
    logits = tf.constant([[0.0, 0.0]])
    with tf.GradientTape() as tape:
        tape.watch(logits)
        loss = f(tf.constant([[1.0, 1.0]]), logits)
    np.testing.assert_allclose(tape.gradient(loss, logits).numpy(), [[-0.5, -0.5]])
    with pytest.raises(InvalidArgumentError):
        f(labels=[[0.0, 1.0, 0.0]], logits=[[1.0, 0.0]])
    with pytest.raises(InvalidArgumentError):
        f(labels=[[0, 1]], logits=[[1, 0]])
    with pytest.raises(InvalidArgumentError):
        f(labels=[[0.0, 1.0]], logits=[[1.0, 0.0]], axis=5)


def test_sparse_softmax_cross_entropy():
    f = tf.nn.sparse_softmax_cross_entropy_with_logits
    labels = np.array([2, 0])
    out = f(labels=tf.constant(labels), logits=tf.constant(X))
    assert out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), -np_log_softmax(X)[[0, 1], labels], rtol=1e-12)
    out64 = f(labels=tf.constant(labels, dtype=tf.int64), logits=tf.constant(X))
    np.testing.assert_allclose(out64.numpy(), out.numpy())
    big = f(labels=[0, 1], logits=[[1000.0, 0.0], [1000.0, 0.0]])
    assert big.dtype == tf.float32
    np.testing.assert_array_equal(big.numpy(), [0.0, 1000.0])
    assert f(labels=[[0, 1]], logits=tf.zeros([1, 2, 3])).shape == (1, 2)
    assert f(labels=0, logits=[1.0, 0.0]).shape == ()
    check_grad(lambda x: f(labels=tf.constant(labels), logits=x), X)
    check_grad(lambda x: f(labels=tf.constant(labels), logits=x), X, order=2)
    check_abstract(lambda x: f(labels=tf.constant(labels), logits=x), tf.constant(X))


def test_sparse_softmax_cross_entropy_errors():
    f = tf.nn.sparse_softmax_cross_entropy_with_logits
    for bad in ([0, 5], [0, -1]):
        with pytest.raises(InvalidArgumentError, match="outside the valid range"):
            f(labels=bad, logits=[[1000.0, 0.0], [1.0, 2.0]])
    with pytest.raises(ValueError):
        f(labels=[0, 1, 1], logits=[[1.0, 0.0], [1.0, 2.0]])
    with pytest.raises(ValueError):
        f(labels=[[0, 1]], logits=[[1.0, 0.0], [1.0, 2.0]])
    with pytest.raises(InvalidArgumentError):
        f(labels=[0.0, 1.0], logits=[[1.0, 0.0], [1.0, 2.0]])
    with pytest.raises(InvalidArgumentError):
        f(labels=tf.constant([0], tf.uint8), logits=[[1.0, 0.0]])
    with pytest.raises(InvalidArgumentError):
        f(labels=[0], logits=[[1, 0]])
    with pytest.raises(InvalidArgumentError):
        f(labels=[0], logits=tf.zeros([1, 0]))


# -- losses, bias, normalization ---------------------------------------------------------------
def test_l2_loss():
    out = tf.nn.l2_loss(tf.constant([[1.0, 2.0], [3.0, 4.0]]))
    assert out.dtype == tf.float32 and out.shape == ()
    assert out.numpy() == 15.0
    check_grad(tf.nn.l2_loss, X)
    check_grad(tf.nn.l2_loss, X, order=2)
    check_abstract(tf.nn.l2_loss, tf.constant(X))


def test_bias_add_formats_values_grads():
    value = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 10
    b4, b3 = np.array([1.0, -2.0, 0.5, 3.0]), np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(tf.nn.bias_add(tf.constant(value), tf.constant(b4)).numpy(), value + b4)
    for fmt in ("NCHW", "NCW", "NCDHW"):
        out = tf.nn.bias_add(tf.constant(value), tf.constant(b3), data_format=fmt)
        np.testing.assert_allclose(out.numpy(), value + b3[:, None])
    for fmt in ("NHWC", "NWC", "NDHWC"):
        np.testing.assert_allclose(tf.nn.bias_add(value, b4, data_format=fmt).numpy(), value + b4)
    ints = tf.nn.bias_add(tf.ones([2, 3], tf.int32), [1, 2, 3])
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [[2, 3, 4]] * 2
    assert tf.nn.bias_add(tf.ones([2, 3]), [1, 2, 3]).dtype == tf.float32
    check_grad(tf.nn.bias_add, value, b4)
    check_grad(lambda v, b: tf.nn.bias_add(v, b, data_format="NCHW"), value, b3)
    check_abstract(lambda v, b: tf.nn.bias_add(v, b, data_format="NCHW"),
                   tf.constant(value), tf.constant(b3))


def test_bias_add_errors():
    v = tf.ones([2, 3, 4])
    with pytest.raises(InvalidArgumentError, match="as many biases"):
        tf.nn.bias_add(v, [1.0, 2.0, 3.0])
    with pytest.raises(InvalidArgumentError, match="as many biases"):
        tf.nn.bias_add(v, [1.0, 2.0, 3.0, 4.0], data_format="NCHW")
    with pytest.raises(InvalidArgumentError, match="1D"):
        tf.nn.bias_add(v, [[1.0, 2.0, 3.0, 4.0]])
    with pytest.raises(InvalidArgumentError, match="1D"):
        tf.nn.bias_add(v, 1.0)
    with pytest.raises(InvalidArgumentError, match="2D"):
        tf.nn.bias_add(tf.ones([4]), [1.0, 2.0, 3.0, 4.0])
    with pytest.raises(InvalidArgumentError):
        tf.nn.bias_add(v, tf.constant([1.0, 2.0, 3.0, 4.0], tf.float64))
    with pytest.raises(InvalidArgumentError):
        tf.nn.bias_add(tf.constant([[True], [False]]), [True])
    with pytest.raises(ValueError):
        tf.nn.bias_add(v, [1.0, 2.0, 3.0, 4.0], data_format="XYZ")


def test_moments():
    for axes, keepdims in (([0], False), ([0, 1], True), (1, False), ([-1], True)):
        mean, var = tf.nn.moments(tf.constant(X), axes=axes, keepdims=keepdims)
        ax = tuple(np.atleast_1d(axes))
        np.testing.assert_allclose(mean.numpy(), np.mean(X, axis=ax, keepdims=keepdims), rtol=1e-12)
        np.testing.assert_allclose(var.numpy(), np.var(X, axis=ax, keepdims=keepdims), rtol=1e-12)
    mean, var = tf.nn.moments(tf.constant([1.0, 2.0], tf.float16), axes=[0])
    assert mean.dtype == tf.float16 and var.dtype == tf.float16
    np.testing.assert_allclose([mean.numpy(), var.numpy()], [1.5, 0.25])
    check_grad(lambda x: tf.nn.moments(x, axes=[0])[0], X)
    check_grad(lambda x: tf.nn.moments(x, axes=[1])[1], X)
    check_grad(lambda x: tf.nn.moments(x, axes=[0, 1])[1], X, order=2)
    check_abstract(lambda x: tf.nn.moments(x, axes=[1], keepdims=True), tf.constant(X))
    with pytest.raises(InvalidArgumentError):
        tf.nn.moments(tf.constant(X), axes=[5])


def test_batch_normalization():
    mean, var = np.array([0.1, -0.2, 0.3]), np.array([0.5, 1.5, 2.0])
    offset, scale = np.array([0.0, 1.0, -1.0]), np.array([2.0, 0.5, 1.0])
    out = tf.nn.batch_normalization(tf.constant(X), tf.constant(mean), tf.constant(var),
                                    tf.constant(offset), tf.constant(scale), 1e-3)
    np.testing.assert_allclose(out.numpy(), (X - mean) / np.sqrt(var + 1e-3) * scale + offset,
                               rtol=1e-12)
    # Python statistics become float32 tensors, as in TF: the scale is a float32 1/sqrt(2.001)
    plain = tf.nn.batch_normalization(tf.constant(X), 1.0, 2.0, None, None, 1e-3)
    inv32 = np.float32(1) / np.sqrt(np.float32(2.001))
    np.testing.assert_allclose(plain.numpy(), X * float(inv32) - float(inv32), rtol=1e-12)
    f = lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3)  # noqa: E731
    check_grad(f, X, mean, var, offset, scale)
    check_abstract(f, *[tf.constant(a) for a in (X, mean, var, offset, scale)])
    with pytest.raises(InvalidArgumentError):
        tf.nn.batch_normalization(tf.constant(X, tf.float32), tf.constant(mean), 2.0, None, None, 1e-3)


# -- dropout -----------------------------------------------------------------------------------
def test_dropout_scales_kept_values_and_gradient_uses_the_mask():
    x = tf.constant(np.linspace(1.0, 2.0, 1000).reshape(10, 100))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.dropout(x, rate=0.25, seed=3)
    out = y.numpy()
    kept = out != 0
    np.testing.assert_allclose(out[kept], x.numpy()[kept] / 0.75, rtol=1e-12)
    assert 0.6 < kept.mean() < 0.9
    grad = tape.gradient(y, x).numpy()
    np.testing.assert_allclose(grad, np.where(kept, 1 / 0.75, 0.0), rtol=1e-12)


def test_dropout_noise_shape_rate_zero_and_tensor_rate():
    x = tf.ones([20, 8])
    out = tf.nn.dropout(x, 0.5, noise_shape=[20, 1], seed=1).numpy()
    assert all(len(set(row)) == 1 for row in out)
    assert set(np.unique(out)) <= {0.0, 2.0}
    out = tf.nn.dropout(x, 0.5, noise_shape=[None, 1]).numpy()
    assert all(len(set(row)) == 1 for row in out)
    np.testing.assert_array_equal(tf.nn.dropout(x, 0.0).numpy(), x.numpy())
    out = tf.nn.dropout(x, tf.constant(0.5)).numpy()
    assert set(np.unique(out)) <= {0.0, 2.0}
    # rate 1 as a tensor drops everything without producing nan (0 * inf)
    np.testing.assert_array_equal(tf.nn.dropout(x, tf.constant(1.0)).numpy(), np.zeros((20, 8)))
    check_abstract(lambda t: tf.nn.dropout(t, 0.5), x)


def test_dropout_errors():
    for rate in (1.0, -0.1, 1.5, 1):
        with pytest.raises(ValueError):
            tf.nn.dropout(tf.ones([3]), rate)
    with pytest.raises(ValueError):
        tf.nn.dropout(tf.ones([3], tf.int32), 0.5)
    with pytest.raises(ValueError):
        tf.nn.dropout(tf.ones([3]), tf.constant(0.5, tf.float64))


# -- embeddings --------------------------------------------------------------------------------
def test_embedding_lookup():
    params = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    out = tf.nn.embedding_lookup(tf.constant(params), [2, 0])
    np.testing.assert_array_equal(out.numpy(), params[[2, 0]])
    assert tf.nn.embedding_lookup(params, [[2, 0]]).shape == (1, 2, 2)
    assert tf.nn.embedding_lookup(params, tf.constant(1, tf.int64)).shape == (2,)
    shards = [tf.constant(params), tf.constant(params * 10)]
    np.testing.assert_array_equal(tf.nn.embedding_lookup(shards, [0, 3, 5]).numpy(),
                                  [[1, 2], [10, 20], [50, 60]])
    uneven = [tf.constant([[1.0], [2.0]]), tf.constant([[3.0]])]
    np.testing.assert_array_equal(tf.nn.embedding_lookup(uneven, [2, 0, 1]).numpy(), [[3], [1], [2]])
    clipped = tf.nn.embedding_lookup(tf.constant(params), [2, 0], max_norm=1.0).numpy()
    rows = params[[2, 0]]
    np.testing.assert_allclose(clipped, rows / np.linalg.norm(rows, axis=1, keepdims=True), rtol=1e-12)
    small = tf.nn.embedding_lookup(tf.constant(params), [0], max_norm=10.0).numpy()
    np.testing.assert_array_equal(small, params[[0]])
    ids = tf.constant([[2, 0], [2, 2]])
    check_grad(lambda p: tf.nn.embedding_lookup(p, ids), params)
    check_abstract(lambda p: tf.nn.embedding_lookup(p, ids), tf.constant(params))
    for bad in ([3], [-1]):
        with pytest.raises(InvalidArgumentError):
            tf.nn.embedding_lookup(tf.constant(params), bad)
    with pytest.raises(InvalidArgumentError):
        tf.nn.embedding_lookup(tf.constant(params), [0.0])


# -- smaller helpers ---------------------------------------------------------------------------
def test_crelu_and_zero_fraction():
    out = tf.nn.crelu(tf.constant(X))
    np.testing.assert_array_equal(out.numpy(), np.concatenate([np.maximum(X, 0), np.maximum(-X, 0)], -1))
    assert tf.nn.crelu(tf.constant(X), axis=0).shape == (4, 3)
    check_grad(tf.nn.crelu, X)
    check_abstract(tf.nn.crelu, tf.constant(X))
    frac = tf.nn.zero_fraction([0, 1, 0])
    assert frac.dtype == tf.float32
    np.testing.assert_allclose(frac.numpy(), 2 / 3, rtol=1e-6)


def test_log_poisson_loss():
    targets, log_input = np.array([0.0, 1.0, 2.0, 5.0]), np.array([0.5, 0.1, -1.0, 2.0])
    base = np.exp(log_input) - log_input * targets
    out = tf.nn.log_poisson_loss(tf.constant(targets), tf.constant(log_input))
    np.testing.assert_allclose(out.numpy(), base, rtol=1e-12)
    stirling = targets * np.log(np.maximum(targets, 1)) - targets + 0.5 * np.log(2 * np.pi * np.maximum(targets, 1))
    full = tf.nn.log_poisson_loss(tf.constant(targets), tf.constant(log_input), compute_full_loss=True)
    np.testing.assert_allclose(full.numpy(), base + np.where(targets > 1, stirling, 0.0), rtol=1e-12)
    check_grad(lambda x: tf.nn.log_poisson_loss(tf.constant(targets), x, compute_full_loss=True), log_input)
    with pytest.raises(ValueError):
        tf.nn.log_poisson_loss([0.0, 1.0, 2.0], [0.5, 0.1])


def test_compute_average_and_regularization_loss():
    assert tf.nn.compute_average_loss([1.0, 2.0, 3.0, 4.0]).numpy() == 2.5
    assert tf.nn.compute_average_loss([1.0, 2.0, 3.0, 4.0], global_batch_size=8).numpy() == 1.25
    assert tf.nn.compute_average_loss([1.0, 2.0, 3.0, 4.0], sample_weight=[1.0, 0.0, 1.0, 0.0]).numpy() == 1.0
    assert tf.nn.compute_average_loss([[1.0, 2.0], [3.0, 4.0]]).numpy() == 5.0
    assert tf.nn.compute_average_loss([1.0, 2.0], global_batch_size=tf.constant(4)).numpy() == 0.75
    assert tf.nn.compute_average_loss(tf.zeros([0])).numpy() == 0.0
    ints = tf.nn.compute_average_loss([1, 2])
    assert ints.dtype == tf.float64 and ints.numpy() == 1.5
    with pytest.raises(ValueError):
        tf.nn.compute_average_loss(3.0)
    check_grad(lambda x: tf.nn.compute_average_loss(x), X)
    assert tf.nn.scale_regularization_loss([1.0, 2.0]).numpy() == 3.0
    assert tf.nn.scale_regularization_loss(tf.constant(3.0)).numpy() == 3.0


def test_sufficient_statistics_normalize_and_weighted_moments():
    counts, m_ss, v_ss, shift = tf.nn.sufficient_statistics(tf.constant(X), [0], shift=0.5)
    assert counts.numpy() == 2 and shift.numpy() == 0.5
    np.testing.assert_allclose(m_ss.numpy(), np.sum(X - 0.5, axis=0), rtol=1e-12)
    np.testing.assert_allclose(v_ss.numpy(), np.sum((X - 0.5) ** 2, axis=0), rtol=1e-12)
    mean, var = tf.nn.normalize_moments(counts, m_ss, v_ss, shift)
    np.testing.assert_allclose(mean.numpy(), X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), X.var(axis=0), rtol=1e-9)
    _, kept, _, none = tf.nn.sufficient_statistics(tf.constant(X), [1], keepdims=True)
    assert kept.shape == (2, 1) and none is None
    w = np.array([[1.0], [3.0]])
    mean, var = tf.nn.weighted_moments(tf.constant(X), [0], tf.constant(w))
    ref_mean = np.sum(w * X, axis=0) / 4.0
    np.testing.assert_allclose(mean.numpy(), ref_mean, rtol=1e-12)
    np.testing.assert_allclose(var.numpy(), np.sum(w * (X - ref_mean) ** 2, axis=0) / 4.0, rtol=1e-12)
    mean, _ = tf.nn.weighted_moments(tf.constant(X), [0], tf.constant(w), keepdims=True)
    assert mean.shape == (1, 3)
    check_grad(lambda x: tf.nn.weighted_moments(x, [0], tf.constant(w))[1], X)


# -- namespace ---------------------------------------------------------------------------------
def test_namespace_reexports():
    assert tf.nn.sigmoid is tf.math.sigmoid and tf.nn.tanh is tf.math.tanh
    assert tf.nn.top_k is tf.math.top_k
    assert tf.nn.l2_normalize is tf.math.l2_normalize
    assert not hasattr(tf.nn, "softmax_cross_entropy_with_logits_v2")
    for name in ("relu", "softplus", "softmax", "dropout", "moments"):
        assert not hasattr(tf, name), name


# -- differences from TensorFlow 2.21 found by comparing with it ---------------------------------
def test_leaky_relu_alpha_is_a_float32_attribute():
    out = tf.nn.leaky_relu(tf.constant([-1.0, 2.0], tf.float64), alpha=0.1)
    assert out.numpy().tolist() == [-float(np.float32(0.1)), 2.0]


def test_moments_use_squared_difference():
    with pytest.raises(tf.errors.InvalidArgumentError, match="int8"):
        tf.nn.moments(tf.constant([1, 2], tf.int8), [0])
    mean, variance = tf.nn.moments(tf.constant([1 + 1j, 2 + 0j], tf.complex64), [0])
    assert mean.numpy() == 1.5 + 0.5j and variance.numpy() == 0.5 + 0j  # mean of |x - mean|**2
    mean, variance = tf.nn.moments(tf.constant([1, 2, 4]), [0])
    assert mean.dtype == tf.int32 and (mean.numpy(), variance.numpy()) == (2, 1)


def test_compute_average_loss_weights_in_float32_and_divides_no_nan():
    out = tf.nn.compute_average_loss(tf.constant([1 + 2j, 3 + 0j], tf.complex64),
                                     sample_weight=tf.constant([2 + 5j, 1 + 0j], tf.complex64))
    assert out.dtype == tf.complex64 and out.numpy() == 2.5 + 0j  # real parts only
    empty = tf.nn.compute_average_loss(tf.zeros((0,), tf.int32))
    assert empty.dtype == tf.float64 and empty.numpy() == 0.0
    out = tf.nn.compute_average_loss(tf.constant([1, 2]), sample_weight=1.5)  # [1.5, 3] -> [1, 3]
    assert out.dtype == tf.float64 and out.numpy() == 2.0
    out = tf.nn.compute_average_loss(tf.constant([[1.0], [2.0]]), sample_weight=tf.constant([2.0, 3.0]))
    assert out.numpy() == 4.0  # the weights get a last axis of 1: (2 + 6) / 2
    out = tf.nn.compute_average_loss(tf.constant([1.0, 2.0], tf.float64),
                                     sample_weight=tf.constant([[0.1], [0.2]], tf.float64))
    assert out.numpy() == (float(np.float32(0.1)) + 2 * float(np.float32(0.2))) / 2
    with pytest.raises(TypeError, match="integer"):
        tf.nn.compute_average_loss(tf.constant([1.0]), global_batch_size=2.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="non-negative"):
        tf.nn.compute_average_loss(tf.constant([1.0]), global_batch_size=-1)
