"""The math family: elementwise arithmetic, functions, comparisons, logic, bitwise ops and casts."""
import math

import numpy as np
import pytest

import tensorweave as tf
from harness import check_abstract, check_grad
from tensorweave.errors import InternalError, InvalidArgumentError, NotFoundError, UnimplementedError

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
POS = np.array([[0.3, 1.2, 2.0], [1.5, 0.7, 0.4]])
UNIT = np.array([[0.3, -0.6, 0.2], [0.5, -0.1, 0.7]])
ROW = np.array([0.5, -2.0, 1.1])
EULER = 0.5772156649015329

_erf = np.vectorize(math.erf)
_erfc = np.vectorize(math.erfc)
_lgamma = np.vectorize(math.lgamma)

# name -> (tensorweave function, NumPy reference, a point away from kinks and poles)
UNARY = {
    "square": (tf.square, np.square, X),
    "sqrt": (tf.sqrt, np.sqrt, POS),
    "rsqrt": (tf.math.rsqrt, lambda x: 1 / np.sqrt(x), POS),
    "exp": (tf.exp, np.exp, X),
    "expm1": (tf.math.expm1, np.expm1, X),
    "log": (tf.math.log, np.log, POS),
    "log1p": (tf.math.log1p, np.log1p, POS),
    "sin": (tf.sin, np.sin, X),
    "cos": (tf.cos, np.cos, X),
    "tan": (tf.tan, np.tan, UNIT),
    "asin": (tf.asin, np.arcsin, UNIT),
    "acos": (tf.acos, np.arccos, UNIT),
    "atan": (tf.atan, np.arctan, X),
    "sinh": (tf.sinh, np.sinh, X),
    "cosh": (tf.cosh, np.cosh, X),
    "tanh": (tf.tanh, np.tanh, X),
    "asinh": (tf.asinh, np.arcsinh, X),
    "acosh": (tf.acosh, np.arccosh, POS + 1.1),
    "atanh": (tf.atanh, np.arctanh, UNIT),
    "sigmoid": (tf.sigmoid, lambda x: 1 / (1 + np.exp(-x)), X),
    "reciprocal": (tf.math.reciprocal, lambda x: 1 / x, X),
    "abs": (tf.abs, np.abs, X),
    "negative": (tf.negative, np.negative, X),
    "erf": (tf.math.erf, _erf, X),
    "erfc": (tf.math.erfc, _erfc, X),
    "lgamma": (tf.math.lgamma, _lgamma, np.concatenate([POS, -POS - 0.25])),
    "digamma": (tf.math.digamma, None, POS + 0.2),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_values_gradients_and_abstract(name):
    fn, ref, point = UNARY[name]
    out = fn(tf.constant(point))
    assert out.dtype == tf.float64 and out.shape == point.shape
    if ref is not None:
        np.testing.assert_allclose(out.numpy(), ref(point), rtol=1e-13, atol=1e-14)
    out32 = fn(tf.constant(point.astype(np.float32)))
    assert out32.dtype == tf.float32
    np.testing.assert_allclose(out32.numpy(), out.numpy(), rtol=2e-6, atol=1e-6)
    check_grad(fn, point)
    check_grad(fn, point, order=2)
    check_abstract(fn, tf.constant(point))
    check_abstract(fn, tf.constant(point.astype(np.float32)))


def test_special_functions_against_known_values():
    # digamma: psi(1) = -gamma, psi(1/2) = -gamma - 2 log 2, the recurrence, and the reflection formula
    x = np.array([1.0, 0.5, 3.7, 25.0, 1e-3])
    psi = tf.math.digamma(tf.constant(x)).numpy()
    np.testing.assert_allclose(psi[:2], [-EULER, -EULER - 2 * math.log(2)], rtol=1e-14)
    psi_next = tf.math.digamma(tf.constant(x + 1)).numpy()
    np.testing.assert_allclose(psi_next, psi + 1 / x, rtol=1e-13, atol=1e-12)
    h = 1e-5  # the derivative of lgamma, by central differences of math.lgamma
    np.testing.assert_allclose(psi[2:4], (_lgamma(x[2:4] + h) - _lgamma(x[2:4] - h)) / (2 * h), rtol=1e-8)
    neg = np.array([-0.3, -2.6, -7.5])
    np.testing.assert_allclose(tf.math.digamma(tf.constant(neg)).numpy(),
                               tf.math.digamma(tf.constant(1 - neg)).numpy() - np.pi / np.tan(np.pi * neg),
                               rtol=1e-12)
    # poles: lgamma is inf, digamma NaN at the non-positive integers (as in TF)
    poles = tf.constant([0.0, -1.0, -3.0])
    assert np.all(np.isinf(tf.math.lgamma(poles).numpy()))
    assert np.all(np.isnan(tf.math.digamma(poles).numpy()))
    big = np.array([1e-30, 1e30, 171.5, 1e5])
    np.testing.assert_allclose(tf.math.lgamma(tf.constant(big)).numpy(), _lgamma(big), rtol=1e-13)
    # erf far out and erfc in the tail
    far = np.array([-6.0, -3.1, 2.0, 2.4, 3.5, 9.0])
    np.testing.assert_allclose(tf.math.erf(tf.constant(far)).numpy(), _erf(far), rtol=1e-15, atol=1e-16)
    np.testing.assert_allclose(tf.math.erfc(tf.constant(far)).numpy(), _erfc(far), rtol=1e-13)
    # polygamma and the Hurwitz zeta function
    np.testing.assert_allclose(
        tf.math.polygamma(tf.constant([1.0, 1.0, 2.0, 0.0]), tf.constant([1.0, 0.5, 1.0, 1.0])).numpy(),
        [np.pi ** 2 / 6, np.pi ** 2 / 2, -2 * 1.2020569031595942, -EULER], rtol=1e-6)
    z = tf.math.zeta(tf.constant([2.0, 4.0, 3.0, 2.0], tf.float64),
                     tf.constant([1.0, 1.0, 0.5, -0.5], tf.float64)).numpy()
    np.testing.assert_allclose(z, [np.pi ** 2 / 6, np.pi ** 4 / 90, 7 * 1.2020569031595942,
                                   4 + np.pi ** 2 / 2], rtol=1e-13)
    bad = tf.math.zeta(tf.constant([1.0, 0.5, 2.0], tf.float64), tf.constant([1.0, 1.0, 0.0], tf.float64))
    assert np.isinf(bad.numpy()[0]) and np.isnan(bad.numpy()[1]) and np.isinf(bad.numpy()[2])
    check_grad(lambda x: tf.math.polygamma(tf.ones_like(x), x), POS + 0.5, order=2)
    check_grad(lambda q: tf.math.zeta(tf.constant(3.0, tf.float64), q), POS + 0.5)
    check_abstract(tf.math.polygamma, tf.constant([1.0, 2.0]), tf.constant([[0.5], [1.5]]))
    check_abstract(tf.math.zeta, tf.constant([2.0, 3.0]), tf.constant(0.5))


BINARY = {
    "add": (tf.add, np.add),
    "subtract": (tf.subtract, np.subtract),
    "multiply": (tf.multiply, np.multiply),
    "divide": (tf.divide, np.divide),
    "realdiv": (tf.realdiv, np.divide),
    "maximum": (tf.maximum, np.maximum),
    "minimum": (tf.minimum, np.minimum),
    "squared_difference": (tf.math.squared_difference, lambda x, y: (x - y) ** 2),
    "atan2": (tf.atan2, np.arctan2),
    "divide_no_nan": (tf.math.divide_no_nan, np.divide),
    "pow": (tf.pow, np.power),
    "floormod": (tf.math.floormod, np.mod),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_values_gradients_and_abstract(name):
    fn, ref = BINARY[name]
    x, y = (POS, ROW + 3.0) if name == "pow" else (X, ROW + 3.0)
    np.testing.assert_allclose(fn(tf.constant(x), tf.constant(y)).numpy(), ref(x, y), rtol=1e-14)
    check_grad(fn, x, y)
    check_grad(fn, x, y, order=2)
    check_abstract(fn, tf.constant(x), tf.constant(y))
    check_abstract(fn, tf.constant(y), tf.constant(x[:1]))


def test_maximum_minimum_ties_send_the_gradient_to_x():
    x, y = tf.constant([1.0, 2.0, 5.0]), tf.constant([1.0, 3.0, 4.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        hi, lo = tf.maximum(x, y), tf.minimum(x, y)
    np.testing.assert_array_equal(tape.gradient(hi, x).numpy(), [1, 0, 1])
    np.testing.assert_array_equal(tape.gradient(hi, y).numpy(), [0, 1, 0])
    np.testing.assert_array_equal(tape.gradient(lo, x).numpy(), [1, 1, 0])
    np.testing.assert_array_equal(tape.gradient(lo, y).numpy(), [0, 0, 1])
    nan = tf.maximum(tf.constant([np.nan, 1.0]), tf.constant([1.0, np.nan])).numpy()
    assert np.all(np.isnan(nan))


def test_pow_gradient_where_log_is_undefined_and_integer_powers():
    x, y = tf.constant([-2.0, 0.0, 2.0]), tf.constant([2.0, 2.0, 3.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = tf.pow(x, y)
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [-4.0, 0.0, 12.0])
    np.testing.assert_allclose(tape.gradient(z, y).numpy(), [0.0, 0.0, 8 * np.log(2)], rtol=1e-6)
    ints = tf.pow(tf.constant([2, -3, 0]), tf.constant([3, 3, 0]))
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [8, -27, 1]
    with pytest.raises(InvalidArgumentError, match="Integers to negative integer powers are not allowed"):
        tf.pow(tf.constant([2, 3]), tf.constant([-1, 2]))
    assert tf.pow(tf.constant([0.0]), tf.constant([-1.0])).numpy()[0] == np.inf


def test_division_families_on_integers_and_floats():
    a, b = np.array([-7, 7, -7, 6, 0], np.int32), np.array([2, -2, -2, 3, 5], np.int32)
    ta, tb = tf.constant(a), tf.constant(b)
    fd, fm = tf.math.floordiv(ta, tb), tf.math.floormod(ta, tb)
    assert fd.dtype == tf.int32 and fm.dtype == tf.int32
    np.testing.assert_array_equal(fd.numpy(), a // b)
    np.testing.assert_array_equal(fm.numpy(), a % b)
    assert tf.math.mod is tf.math.floormod
    np.testing.assert_array_equal(tf.truncatediv(ta, tb).numpy(), np.trunc(a / b).astype(int))
    np.testing.assert_array_equal(tf.truncatemod(ta, tb).numpy(), np.fmod(a, b))
    fa, fb = a.astype(np.float32), b.astype(np.float32)
    np.testing.assert_array_equal(tf.math.floordiv(tf.constant(fa), tf.constant(fb)).numpy(), np.floor(fa / fb))
    np.testing.assert_array_equal(tf.math.floormod(tf.constant(fa), tf.constant(fb)).numpy(), np.mod(fa, fb))
    np.testing.assert_array_equal(tf.truncatemod(tf.constant(fa), tf.constant(fb)).numpy(), np.fmod(fa, fb))
    np.testing.assert_array_equal(tf.truncatediv(tf.constant(fa), tf.constant(fb)).numpy(), np.trunc(fa / fb))
    # floats: floor of the true quotient (-1 // inf is -0, not -1) and NaN remainders for / 0
    q = tf.math.floordiv(tf.constant([1.0, -1.0, 5.0]), tf.constant([np.inf, np.inf, 0.0])).numpy()
    assert q[0] == 0 and q[1] == 0 and np.signbit(q[1]) and q[2] == np.inf
    r = tf.math.floormod(tf.constant([6.0, 1.0]), tf.constant([-3.0, 0.0])).numpy()
    assert r[0] == 0 and not np.signbit(r[0]) and np.isnan(r[1])
    assert tf.math.floordiv(tf.constant([7], tf.uint8), tf.constant([2], tf.uint8)).numpy()[0] == 3
    for fn, op in ((tf.math.floordiv, "FloorDiv"), (tf.math.floormod, "FloorMod")):
        with pytest.raises(InvalidArgumentError, match=f"Integer division by zero.*{op}"):
            fn(ta, tf.constant([1, 0, 1, 1, 1]))
    for fn in (tf.truncatediv, tf.truncatemod):
        with pytest.raises(InternalError):
            fn(ta, tf.constant([1, 0, 1, 1, 1]))
    # the gradient of floormod in y is -floor(x / y)
    check_grad(tf.math.floormod, np.array([5.3, -5.3]), np.array([3.0, 3.0]))
    for fn in (tf.math.floordiv, tf.math.floormod, tf.truncatediv, tf.truncatemod):
        check_abstract(fn, ta, tf.constant(3))


def test_true_division_dtypes():
    assert (tf.divide(tf.constant([3]), tf.constant([2]))).dtype == tf.float64
    assert tf.divide(tf.constant([3], tf.uint8), tf.constant([2], tf.uint8)).dtype == tf.float32
    assert tf.divide(tf.constant([1], tf.int8), 2).numpy()[0] == 0.5
    assert tf.truediv(tf.constant([3], tf.int64), 2).numpy()[0] == 1.5
    assert tf.math.divide_no_nan(tf.constant([1], tf.int8), tf.constant([0], tf.int8)).dtype == tf.float32
    with pytest.raises(TypeError, match="same dtype"):
        tf.divide(tf.constant(1.0), tf.constant(1.0, tf.float64))
    with pytest.raises(TypeError, match="same dtype"):
        tf.divide(tf.constant([1]), 2.5)
    with pytest.raises(TypeError, match="Invalid dtype tf.bool"):
        tf.divide(tf.constant([True]), tf.constant([True]))
    with pytest.raises(NotFoundError):
        tf.realdiv(tf.constant([7]), 2)
    dnn = tf.math.divide_no_nan(tf.constant([1.0, 0.0, np.nan, np.inf]), tf.constant(0.0))
    np.testing.assert_array_equal(dnn.numpy(), [0, 0, 0, 0])
    x, y = tf.constant([1.0, 2.0]), tf.constant([0.0, 4.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        z = tf.math.divide_no_nan(x, y)
    np.testing.assert_allclose(tape.gradient(z, x).numpy(), [0.0, 0.25])
    np.testing.assert_allclose(tape.gradient(z, y).numpy(), [0.0, -0.125])


def test_rounding_sign_and_integer_unary_ops():
    halves = tf.constant([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.2])
    np.testing.assert_array_equal(tf.round(halves).numpy(), [0, 2, 2, -0, -2, -2, 0])
    assert tf.round(tf.constant([1, 2])).dtype == tf.int32
    np.testing.assert_array_equal(tf.floor(halves).numpy(), np.floor(halves.numpy()))
    np.testing.assert_array_equal(tf.math.ceil(halves).numpy(), np.ceil(halves.numpy()))
    check_abstract(tf.math.ceil, halves)
    s = tf.sign(tf.constant([-3.0, -0.0, 0.0, 2.0, np.nan])).numpy()
    assert s[:4].tolist() == [-1, 0, 0, 1] and not np.signbit(s[1]) and np.isnan(s[4])
    assert tf.sign(tf.constant([-3, 0, 4])).numpy().tolist() == [-1, 0, 1]
    np.testing.assert_allclose(tf.sign(tf.constant([3 + 4j, 0j])).numpy(), [0.6 + 0.8j, 0])
    assert tf.abs(tf.constant([-3, 4])).dtype == tf.int32
    assert tf.square(tf.constant([4], tf.uint8)).numpy()[0] == 16
    mag = tf.abs(tf.constant([3 + 4j], tf.complex64))
    assert mag.dtype == tf.float32 and mag.numpy()[0] == 5
    for fn in (tf.round, tf.floor, tf.math.ceil, tf.sign):
        x = tf.constant([0.3, 1.7])
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        g = tape.gradient(y, x)
        assert g is None or np.all(g.numpy() == 0)
    for fn in (tf.round, tf.floor, tf.sign, tf.abs, tf.negative, tf.square):
        check_abstract(fn, tf.constant(X))
    with pytest.raises(NotFoundError):
        tf.math.reciprocal(tf.constant([2]))
    with pytest.raises(NotFoundError):
        tf.round(tf.constant([1 + 1j]))


def test_sigmoid_is_stable_and_seed_002_facts():
    s = tf.sigmoid(tf.constant([-1000.0, -100.0, 0.0, 100.0, 1000.0])).numpy()
    assert s[[0, 2, 3, 4]].tolist() == [0.0, 0.5, 1.0, 1.0] and 0 <= s[1] < 1e-40
    tail = tf.sigmoid(tf.constant(np.array([-30.0, -700.0, 30.0]))).numpy()
    np.testing.assert_allclose(tail, [np.exp(-30.0) / (1 + np.exp(-30.0)), np.exp(-700.0),
                                      1 / (1 + np.exp(-30.0))], rtol=1e-14)
    assert tf.math.sigmoid is tf.sigmoid
    with pytest.raises(InvalidArgumentError, match=r"AddV2.*float.*int32"):
        tf.constant(2.0) + tf.constant(40)
    with pytest.raises(InvalidArgumentError, match=r"AddV2.*float.*double"):
        tf.constant(2.0) + tf.constant(40.0, dtype=tf.float64)
    assert np.isinf(tf.math.log(1.0 + tf.exp(100.0)).numpy())
    t2 = tf.constant(40, dtype=tf.float64)
    assert (tf.constant(2.0) + tf.cast(t2, tf.float32)).numpy() == 42.0


def test_unsupported_dtypes_raise_invalid_argument():
    ints, bools = tf.constant([4]), tf.constant([True])
    for fn in (tf.sqrt, tf.exp, tf.math.log, tf.floor, tf.sigmoid, tf.math.erf, tf.math.lgamma,
               tf.math.is_nan, tf.tanh):
        with pytest.raises(InvalidArgumentError, match="int32 is not in the list of allowed values"):
            fn(ints)
    for fn in (tf.square, tf.negative, tf.abs):
        with pytest.raises(InvalidArgumentError, match="bool is not in the list"):
            fn(bools)
    for fn in (tf.add, tf.subtract, tf.multiply, tf.maximum, tf.pow, tf.less):
        with pytest.raises(InvalidArgumentError, match="bool is not in the list"):
            fn(bools, bools)
    with pytest.raises(InvalidArgumentError):
        tf.negative(tf.constant([5], tf.uint8))
    with pytest.raises(InvalidArgumentError):
        tf.atan2(ints, ints)
    with pytest.raises(InvalidArgumentError, match="cannot compute Mul as input #1"):
        tf.multiply(tf.constant([1.0]), tf.constant([1]))
    with pytest.raises(InvalidArgumentError):
        tf.add(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0]))
    assert tf.add(tf.constant(["a"]), "b").numpy().tolist() == [b"ab"]


def test_comparisons_and_predicates():
    a, b = np.array([[1.0, 2.0, 3.0]]), np.array([[2.0], [1.0]])
    ta, tb = tf.constant(a), tf.constant(b)
    for fn, ref in ((tf.equal, np.equal), (tf.not_equal, np.not_equal), (tf.less, np.less),
                    (tf.less_equal, np.less_equal), (tf.greater, np.greater),
                    (tf.greater_equal, np.greater_equal)):
        out = fn(ta, tb)
        assert out.dtype == tf.bool
        np.testing.assert_array_equal(out.numpy(), ref(a, b))
        check_abstract(fn, ta, tb)
    assert tf.equal(tf.constant(["a", "b"]), "a").numpy().tolist() == [True, False]
    assert tf.equal(tf.constant([True]), False).numpy().tolist() == [False]
    with pytest.raises(InvalidArgumentError):
        tf.less(tf.constant(["a"]), "b")
    with pytest.raises(InvalidArgumentError):
        tf.less(tf.constant([1j]), 1j)
    with pytest.raises(InvalidArgumentError):
        tf.equal(tf.constant([1.0, 2.0]), tf.constant([1.0, 2.0, 3.0]))
    with pytest.raises(InvalidArgumentError, match="cannot compute Equal"):
        tf.equal(tf.constant([1.0]), tf.constant([1]))
    v = tf.constant([np.inf, -np.inf, np.nan, 1.0])
    assert tf.math.is_inf(v).numpy().tolist() == [True, True, False, False]
    assert tf.math.is_nan(v).numpy().tolist() == [False, False, True, False]
    assert tf.math.is_finite(v).numpy().tolist() == [False, False, False, True]
    for fn in (tf.math.is_inf, tf.math.is_nan, tf.math.is_finite):
        check_abstract(fn, v)


def test_logical_and_bitwise_ops():
    p, q = tf.constant([True, True, False, False]), tf.constant([True, False, True, False])
    assert tf.logical_and(p, q).numpy().tolist() == [True, False, False, False]
    assert tf.logical_or(p, q).numpy().tolist() == [True, True, True, False]
    assert tf.math.logical_xor(p, q).numpy().tolist() == [False, True, True, False]
    assert tf.logical_not(p).numpy().tolist() == [False, False, True, True]
    assert tf.logical_and(True, False).numpy() == np.False_
    for fn in (tf.logical_and, tf.logical_or, tf.math.logical_xor):
        check_abstract(fn, p, q)
    check_abstract(tf.logical_not, p)
    with pytest.raises(InvalidArgumentError, match=r"LogicalAnd as input #0.*bool tensor but is a int32"):
        tf.logical_and(tf.constant([1]), tf.constant([1]))
    with pytest.raises(InvalidArgumentError, match="LogicalNot"):
        tf.logical_not(tf.constant([1]))
    a, b = np.array([12, -7, 5], np.int32), np.array([10, 3, -1], np.int32)
    ta, tb = tf.constant(a), tf.constant(b)
    np.testing.assert_array_equal(tf.bitwise.bitwise_and(ta, tb).numpy(), a & b)
    np.testing.assert_array_equal(tf.bitwise.bitwise_or(ta, tb).numpy(), a | b)
    np.testing.assert_array_equal(tf.bitwise.bitwise_xor(ta, tb).numpy(), a ^ b)
    np.testing.assert_array_equal(tf.bitwise.invert(ta).numpy(), ~a)
    assert tf.bitwise.invert(tf.constant([1], tf.uint8)).numpy()[0] == 254
    # shift counts are clamped to [0, bits - 1], as TensorFlow's kernels do
    assert tf.bitwise.left_shift(tf.constant([1, 1, 1, 3]), tf.constant([31, 32, -1, 2])).numpy().tolist() == \
        [-2 ** 31, -2 ** 31, 1, 12]
    assert tf.bitwise.right_shift(tf.constant([-8, 8, 8, -16]), tf.constant([33, 32, -1, 2])).numpy().tolist() == \
        [-1, 0, 8, -4]
    assert tf.bitwise.right_shift(tf.constant([128], tf.uint8), tf.constant([3], tf.uint8)).numpy()[0] == 16
    for fn in (tf.bitwise.bitwise_and, tf.bitwise.bitwise_or, tf.bitwise.bitwise_xor,
               tf.bitwise.left_shift, tf.bitwise.right_shift):
        check_abstract(fn, ta, tb)
    check_abstract(tf.bitwise.invert, ta)
    for bad in (tf.constant([1.0]), tf.constant([True])):
        with pytest.raises(InvalidArgumentError, match="not in the list of allowed values"):
            tf.bitwise.bitwise_and(bad, bad)
        with pytest.raises(InvalidArgumentError):
            tf.bitwise.invert(bad)


def test_cast_and_saturate_cast():
    f = tf.constant([np.nan, np.inf, -np.inf, 3e9, -1.7, 300.0])
    assert tf.cast(f, tf.int32).numpy().tolist() == [-2 ** 31] * 4 + [-1, 300]
    assert tf.cast(tf.constant([300, -129]), tf.int8).numpy().tolist() == [44, 127]
    assert tf.cast(tf.constant([0.5, 0.0, np.nan]), tf.bool).numpy().tolist() == [True, False, True]
    assert tf.cast(tf.constant([1 + 2j]), tf.float32).numpy().tolist() == [1.0]
    with pytest.raises(UnimplementedError, match="Cast string to int32 is not supported"):
        tf.cast(tf.constant(["1"]), tf.int32)
    check_grad(lambda x: tf.math.real(tf.cast(x, tf.complex128)) * x, X)
    check_abstract(lambda x: tf.cast(x, tf.int8), tf.constant(X))
    sat = tf.saturate_cast(tf.constant([300.0, -5.0, np.inf, 12.7]), tf.uint8)
    assert sat.dtype == tf.uint8 and sat.numpy().tolist() == [255, 0, 255, 12]
    assert tf.saturate_cast(tf.constant([300, -500]), tf.int8).numpy().tolist() == [127, -128]
    assert tf.saturate_cast(tf.constant([3e9, -3e9]), tf.int32).numpy().tolist() == [2147483520, -2 ** 31]
    assert tf.saturate_cast(tf.constant(np.array([1e300])), tf.float32).numpy()[0] == np.finfo(np.float32).max
    assert tf.saturate_cast(tf.constant([300 + 1j]), tf.float32).numpy().tolist() == [300.0]
    assert tf.saturate_cast(tf.constant([2 ** 40], tf.int64), tf.float32).numpy()[0] == 2.0 ** 40
    check_abstract(lambda x: tf.saturate_cast(x, tf.uint8), tf.constant(X))


def test_clip_by_value():
    t = tf.constant([[1, 5, 9]])
    assert tf.clip_by_value(t, 2, 6).numpy().tolist() == [[2, 5, 6]]
    assert tf.clip_by_value(tf.constant([1.0, 5.0, 9.0]), 7.0, 6.0).numpy().tolist() == [7, 7, 7]
    assert np.isnan(tf.clip_by_value(tf.constant([np.nan]), 0.0, 1.0).numpy()[0])
    lo = tf.constant([[0.0], [4.0]])
    with pytest.raises(ValueError, match="incompatible"):
        tf.clip_by_value(tf.constant([1.0, 5.0, 9.0]), lo, 6.0)
    with pytest.raises(InvalidArgumentError, match="Maximum"):
        tf.clip_by_value(tf.constant([1.0, 5.0, 9.0]), tf.constant(1), 6.0)
    with pytest.raises(InvalidArgumentError):
        tf.clip_by_value(tf.constant([True]), False, True)
    x = tf.constant([0.0, 1.0, 1.5, 2.0, 3.0])
    lo, hi = tf.constant(1.0), tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch([x, lo, hi])
        y = tf.clip_by_value(x, lo, hi)
    gx, glo, ghi = tape.gradient(y, [x, lo, hi])
    assert gx.numpy().tolist() == [0, 1, 1, 1, 0] and glo.numpy() == 1 and ghi.numpy() == 1
    check_grad(lambda v, a, b: tf.clip_by_value(v, a, b), X, ROW - 0.5, ROW + 0.5)
    check_abstract(lambda v: tf.clip_by_value(v, -0.5, 0.5), tf.constant(X))


def test_add_n_and_scalar_mul():
    a, b, c = X, X * 2, X - 1
    out = tf.add_n([tf.constant(a), tf.constant(b), tf.constant(c)])
    np.testing.assert_allclose(out.numpy(), a + b + c)
    assert tf.add_n([[1, 2], [3, 4]]).numpy().tolist() == [4, 6]
    single = tf.constant([1, 2])
    assert tf.add_n([single]) is single
    assert tf.add_n([tf.Variable([1.0]), tf.constant([2.0])]).numpy().tolist() == [3.0]
    rows = tf.IndexedSlices(tf.constant([[1.0, 2.0], [3.0, 4.0]]), tf.constant([0, 0]), tf.constant([3, 2]))
    assert tf.add_n([rows, tf.ones([3, 2])]).numpy().tolist() == [[5, 7], [1, 1], [1, 1]]
    check_grad(lambda x, y: tf.add_n([x, y, x]), a, b)
    check_abstract(lambda x, y: tf.add_n([x, y, x]), tf.constant(a), tf.constant(b))
    with pytest.raises(ValueError, match="at least one"):
        tf.add_n([])
    with pytest.raises(InvalidArgumentError, match="AddN as input #1"):
        tf.add_n([tf.constant([1, 2]), tf.constant([3.0, 4.0])])
    with pytest.raises(InvalidArgumentError, match="same size and shape"):
        tf.add_n([tf.constant([1, 2]), tf.constant([3])])
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.add_n([tf.constant([True]), tf.constant([True])])
    assert tf.math.scalar_mul(2, tf.constant([1, 2])).numpy().tolist() == [2, 4]
    assert tf.scalar_mul(tf.constant(2.0), tf.constant([1.0, 2.0])).numpy().tolist() == [2.0, 4.0]
    with pytest.raises(ValueError, match="0-D"):
        tf.math.scalar_mul(tf.constant([2.0, 1.0]), tf.constant([1.0, 2.0]))
    with pytest.raises(TypeError):
        tf.math.scalar_mul(2.5, tf.constant([1, 2]))
    check_grad(lambda x: tf.math.scalar_mul(3.0, x), X)
    check_abstract(lambda x: tf.math.scalar_mul(3.0, x), tf.constant(X))


def test_complex_numbers():
    z = tf.complex(tf.constant([1.0]), tf.constant([2.0]))
    assert z.dtype == tf.complex64 and z.numpy().tolist() == [1 + 2j]
    assert tf.math.real(z).dtype == tf.float32 and tf.math.imag(z).numpy().tolist() == [2.0]
    assert tf.math.conj(z).numpy().tolist() == [1 - 2j]
    f = tf.constant([1.5])
    assert tf.math.real(f) is f and tf.math.conj(f) is f
    assert tf.math.imag(tf.constant([1])).numpy().tolist() == [0]
    with pytest.raises(TypeError):
        tf.math.conj(tf.constant(["a"]))
    a, b = tf.constant([3.0], tf.float64), tf.constant([4.0], tf.float64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([a, b])
        mag = tf.abs(tf.complex(a, b))
        zz = tf.complex(a, b)
        sq = tf.math.real(zz * zz)
        im = tf.math.imag(tf.math.conj(zz) * 2.0)
    np.testing.assert_allclose([g.numpy()[0] for g in tape.gradient(mag, [a, b])], [0.6, 0.8])
    np.testing.assert_allclose([g.numpy()[0] for g in tape.gradient(sq, [a, b])], [6.0, -8.0])
    np.testing.assert_allclose([g.numpy()[0] for g in tape.gradient(im, [a, b])], [0.0, -2.0])
    check_grad(lambda x, y: tf.abs(tf.complex(x, y)), X, ROW + 3.0)
    check_grad(lambda x, y: tf.math.real(tf.exp(tf.complex(x, y))), X, ROW)
    for fn in (tf.math.real, tf.math.imag, tf.math.conj, tf.abs):
        check_abstract(fn, tf.constant([1 + 2j, 3j]))
    check_abstract(tf.complex, tf.constant([1.0, 2.0]), tf.constant([[1.0], [2.0]]))


def test_namespaces():
    top = ["add", "subtract", "multiply", "divide", "truediv", "realdiv", "pow", "negative", "abs",
           "sign", "square", "sqrt", "exp", "sin", "cos", "tan", "asin", "acos", "atan", "atan2",
           "sinh", "cosh", "tanh", "asinh", "acosh", "atanh", "sigmoid", "round", "floor",
           "maximum", "minimum", "clip_by_value", "add_n", "logical_and", "logical_or",
           "logical_not", "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
           "cast", "saturate_cast", "scalar_mul", "truncatediv", "truncatemod", "complex"]
    for name in top:
        assert callable(getattr(tf, name)), name
    for name in ("log", "log1p", "rsqrt", "expm1", "floordiv", "floormod", "mod", "erf", "lgamma",
                 "digamma", "is_nan", "reciprocal", "ceil", "logical_xor", "divide_no_nan",
                 "squared_difference", "real", "imag", "conj"):
        assert not hasattr(tf, name), name  # TensorFlow has these only in tf.math
        assert callable(getattr(tf.math, name)), name
    for name in top:
        if name not in ("realdiv", "cast", "clip_by_value", "saturate_cast", "truncatediv",
                        "truncatemod", "complex"):
            assert getattr(tf.math, name) is getattr(tf, name), name
    assert tf.sigmoid.__name__ == "sigmoid" and tf.math.mod.__name__ == "floormod"
    assert sorted(n for n in dir(tf.bitwise) if not n.startswith("_")) == [
        "bitwise_and", "bitwise_or", "bitwise_xor", "invert", "left_shift", "right_shift"]


# -- differences from TensorFlow 2.21 found by comparing with it ---------------------------------
def test_add_converts_x_first_as_tf_add():
    f = tf.constant([1.0, 2.0])
    with pytest.raises(InvalidArgumentError, match=r"AddV2.*int32.*float"):
        tf.add(1, f)  # 1 becomes int32 on its own
    with pytest.raises(InvalidArgumentError, match=r"AddV2.*int64.*float"):
        tf.add(np.array([1, 2]), f)
    with pytest.raises(InvalidArgumentError, match=r"AddV2.*int32.*float"):
        tf.add(tf.constant([1]), 1.5)
    assert tf.add(f, 1).dtype == tf.float32 and tf.add(f, np.float64(1)).dtype == tf.float32
    assert tf.subtract(1, f).numpy().tolist() == [0.0, -1.0]  # the other ops convert both ways


def test_truediv_converts_x_first_and_divide_converts_like_the_operator():
    f = tf.constant([1.0, 2.0])
    with pytest.raises(TypeError, match=r"must have the same dtype, got tf.int32 != tf.float32"):
        tf.math.truediv(1, f)
    with pytest.raises(TypeError, match="same dtype"):
        tf.math.truediv(np.array([1, 2]), f)
    np.testing.assert_allclose(tf.divide(1, f).numpy(), [1.0, 0.5])
    out = tf.math.truediv(tf.constant([1, 3]), 2)
    assert out.dtype == tf.float64 and out.numpy().tolist() == [0.5, 1.5]


def test_complex_division_by_zero_is_nan():
    for dtype in (tf.complex64, tf.complex128):
        x = tf.constant([1 + 1j, 0j, 3 + 0j, 2 - 1j], dtype)
        y = tf.constant([0j, 0j, 0j, 1j], dtype)
        for out in (x / y, tf.math.divide(x, y), tf.realdiv(x, y), tf.math.truediv(x, y)):
            v = out.numpy()
            assert np.isnan(v[:3].real).all() and np.isnan(v[:3].imag).all()
            assert v[3] == (2 - 1j) / 1j
        assert tf.math.divide_no_nan(x, y).numpy().tolist()[:3] == [0j, 0j, 0j]


def test_dtypes_tensorflow_declares_without_a_cpu_kernel():
    c = tf.constant([1 + 1j])
    for fn in (tf.math.floordiv, tf.truncatediv, lambda a, b: a // b):
        with pytest.raises(NotFoundError, match="COMPLEX128"):
            fn(c, c)
    h = tf.constant([1.5], tf.float16)
    with pytest.raises(NotFoundError, match="TruncateMod"):
        tf.truncatemod(h, h)
    for fn in (tf.math.lgamma, tf.math.digamma):
        with pytest.raises(NotFoundError, match="BFLOAT16"):
            fn(tf.constant([1.5], tf.bfloat16))
    assert tf.math.lgamma(tf.constant([1.5], tf.float16)).dtype == tf.float16
    with pytest.raises(TypeError, match="Invalid dtype tf.bool in tf.math.divide_no_nan"):
        tf.math.divide_no_nan(tf.constant([True]), tf.constant([True]))


def test_complex_converts_each_part_on_its_own():
    assert tf.complex(tf.constant([1.0]), 2.0).numpy().tolist() == [1 + 2j]
    assert tf.complex(1.0, 2.0).dtype == tf.complex64
    for re, im in ((1, 2), (tf.constant([1.0]), tf.constant([1.0], tf.float64)),
                   (tf.constant([1.0], tf.float64), 2.0), (tf.constant([1.0], tf.float16),) * 2):
        with pytest.raises(TypeError, match="The `real` and `imag` components have incorrect types"):
            tf.complex(re, im)


def test_round_imag_rsqrt_edge_cases():
    for dtype in (tf.uint8, tf.uint32, tf.int8):
        out = tf.math.round(tf.constant([7, 2], dtype))
        assert out.dtype == dtype and out.numpy().tolist() == [7, 2]
    out = tf.math.imag(tf.constant([True, False]))
    assert out.dtype == tf.bool and out.numpy().tolist() == [False, False]
    assert tf.math.imag(tf.constant(["a"])).numpy().tolist() == [b""]
    with pytest.raises(TypeError, match="numeric"):
        tf.math.real(tf.constant([True]))
    z = tf.math.rsqrt(tf.constant([0j, 4 + 0j])).numpy()
    assert np.isposinf(z[0].real) and np.isnan(z[0].imag) and z[1] == 0.5


def test_zeta_and_polygamma_special_cases():
    # verified against TensorFlow: poles give +inf for even s and NaN otherwise, s = 1 is +inf
    # even for a NaN q, and s = inf leaves the terms with |q + n| < 1 (1 at q = 1, 0 beyond)
    s = [2.0, 4.0, 3.0, 2.5, 2.0, 1.0, np.inf, np.inf, np.inf, np.inf, np.inf]
    q = [0.0, -1.0, 0.0, -2.0, -np.inf, np.nan, 2.0, 1.0, 0.5, np.inf, 0.0]
    out = tf.math.zeta(tf.constant(s), tf.constant(q)).numpy()
    expected = [np.inf, np.inf, np.nan, np.nan, np.inf, np.inf, 0.0, 1.0, np.inf, 0.0, np.inf]
    np.testing.assert_array_equal(out, expected)
    n = tf.constant([1.0, 2.0, 3.0, 2.0])
    x = tf.constant([0.0, 0.0, -1.0, -np.inf])
    np.testing.assert_array_equal(tf.math.polygamma(n, x).numpy(), [np.inf, np.nan, np.inf, np.nan])
    two, half = tf.constant([2.0], tf.float64), tf.constant([-0.5], tf.float64)
    np.testing.assert_allclose(tf.math.zeta(two, half).numpy(), [np.pi ** 2 / 2 + 4.0],
                               rtol=1e-12)  # zeta(2, 1/2) + 1 / (1/2)**2


def test_lgamma_is_exactly_zero_at_one_and_two():
    for dtype in (tf.float16, tf.float32, tf.float64):
        assert tf.math.lgamma(tf.constant([1.0, 2.0], dtype)).numpy().tolist() == [0.0, 0.0]


def test_squared_difference_gradient_for_complex_is_2_dy_times_the_difference():
    x = tf.constant([1 + 2j, -0.5 + 1j])
    y = tf.constant([0.5 - 1j, 2 + 0j])
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        loss = tf.reduce_sum(tf.math.squared_difference(x, y))
    gx, gy = tape.gradient(loss, [x, y])
    d = np.array([1 + 2j, -0.5 + 1j]) - np.array([0.5 - 1j, 2 + 0j])
    np.testing.assert_allclose(gx.numpy(), 2 * d)  # as for |x - y|**2 through tf.abs
    np.testing.assert_allclose(gy.numpy(), -2 * d)


def test_saturate_cast_clamps_to_the_shared_finite_range():
    x = [np.inf, -np.inf, 2.5]
    f32max = float(np.finfo(np.float32).max)
    assert tf.saturate_cast(tf.constant(x), tf.float32).numpy().tolist() == [f32max, -f32max, 2.5]
    assert tf.saturate_cast(tf.constant(x), tf.float64).numpy().tolist() == [f32max, -f32max, 2.5]
    assert tf.saturate_cast(tf.constant(x, tf.float16), tf.int32).numpy().tolist() == [65504, -65504, 2]
    # float32(2**31 - 1) rounds up to 2**31: the limit is the float32 just below
    assert tf.saturate_cast(tf.constant(x), tf.int32).numpy().tolist() == [2 ** 31 - 128, -2 ** 31, 2]
    assert tf.saturate_cast(tf.constant([1e30, -5.0], tf.float64), tf.uint8).numpy().tolist() == [255, 0]
    assert tf.saturate_cast(tf.constant([300, -3]), tf.uint8).numpy().tolist() == [255, 0]
    with pytest.raises(NotFoundError, match="ClipByValue"):
        tf.saturate_cast(tf.constant([1], tf.uint32), tf.int32)
    with pytest.raises(TypeError, match="Cannot find minimum value"):
        tf.saturate_cast(tf.constant([True]), tf.int32)
