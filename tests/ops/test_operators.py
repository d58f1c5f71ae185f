"""Python operators on Tensor and Variable, with TensorFlow 2's semantics."""
import operator

import numpy as np
import pytest

import tensorweave as tf
from harness import check_grad
from tensorweave.errors import InvalidArgumentError

A = np.array([[1.5, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
B = np.array([2.0, -3.0, 0.5], np.float32)

ARITHMETIC = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
              operator.mod]


@pytest.mark.parametrize("make", [tf.constant, tf.Variable], ids=["tensor", "variable"])
def test_arithmetic_forward_and_reflected(make):
    a, b = make(A), make(B)
    for op in ARITHMETIC:
        expected = op(A, B)
        for result in (op(a, b), op(a, B), op(A, b)):
            assert isinstance(result, tf.Tensor) and result.dtype == tf.float32
            np.testing.assert_allclose(result.numpy(), expected, rtol=1e-6)
        # Python scalars take the tensor's dtype, on either side
        np.testing.assert_allclose(op(a, 2).numpy(), op(A, np.float32(2)), rtol=1e-6)
        np.testing.assert_allclose(op(3, b).numpy(), op(np.float32(3), B), rtol=1e-6)
        assert op(a, 2).dtype == tf.float32 and op(3, b).dtype == tf.float32
    np.testing.assert_allclose((make(np.abs(A)) ** b).numpy(), np.abs(A) ** B, rtol=1e-6)
    np.testing.assert_allclose((2 ** b).numpy(), 2.0 ** B, rtol=1e-6)
    np.testing.assert_allclose((a ** 2).numpy(), A ** 2, rtol=1e-6)
    np.testing.assert_array_equal((-a).numpy(), -A)
    np.testing.assert_array_equal(abs(a).numpy(), np.abs(A))


def test_integer_operators_follow_python_semantics():
    x, y = tf.constant([-7, 7, -7, 6]), tf.constant([2, -2, -2, 4])
    assert (x // y).numpy().tolist() == [-4, -4, 3, 1]
    assert (x % y).numpy().tolist() == [1, -1, -1, 2]
    assert (x // y).dtype == tf.int32
    assert (7 // tf.constant([2])).numpy().tolist() == [3]
    assert (7 % tf.constant([-2])).numpy().tolist() == [-1]
    assert (2 ** tf.constant([3])).numpy().tolist() == [8]
    assert (2 - tf.constant([3])).numpy().tolist() == [-1]
    # `/` is true division: int32 and int64 become float64, small ints float32
    q = tf.constant([3]) / 2
    assert q.dtype == tf.float64 and q.numpy().tolist() == [1.5]
    assert (3 / tf.constant([2])).dtype == tf.float64
    assert (tf.constant([3], tf.uint8) / tf.constant([2], tf.uint8)).dtype == tf.float32
    with pytest.raises(InvalidArgumentError, match="Integers to negative integer powers"):
        tf.constant([2]) ** -1
    with pytest.raises(InvalidArgumentError, match="Integer division by zero"):
        tf.constant([2]) // 0


def test_dtype_rules():
    with pytest.raises(InvalidArgumentError, match=r"AddV2.*float.*int32"):
        tf.constant(2.0) + tf.constant(40)
    with pytest.raises(InvalidArgumentError, match=r"Sub.*float.*double"):
        tf.constant(2.0) - tf.constant(40.0, dtype=tf.float64)
    with pytest.raises(InvalidArgumentError):
        tf.constant([1]) + 1.5
    with pytest.raises(TypeError, match="same dtype"):
        tf.constant(1.0) / tf.constant(1.0, tf.float64)
    for op in (operator.add, operator.sub, operator.pow, operator.mod):
        with pytest.raises(InvalidArgumentError, match="bool is not in the list of allowed values"):
            op(tf.constant([True]), tf.constant([True]))
    with pytest.raises(TypeError, match="tf.bool"):
        tf.constant([True]) / tf.constant([True])
    with pytest.raises(InvalidArgumentError):
        -tf.constant([True])
    # NumPy operands take the tensor's dtype, as in TF
    assert (np.array([1.0, 2.0]) + tf.constant([1.0, 2.0])).dtype == tf.float32
    assert (tf.constant([1.0, 2.0]) + np.float64(1.0)).dtype == tf.float32
    assert (tf.constant(["a"]) + "b").numpy().tolist() == [b"ab"]


@pytest.mark.parametrize("make", [tf.constant, tf.Variable], ids=["tensor", "variable"])
def test_logical_and_bitwise_operators(make):
    p, q = make([True, True, False, False]), make([True, False, True, False])
    assert (p & q).numpy().tolist() == [True, False, False, False]
    assert (p | q).numpy().tolist() == [True, True, True, False]
    assert (p ^ q).numpy().tolist() == [False, True, True, False]
    assert (~p).numpy().tolist() == [False, False, True, True]
    assert (True & q).numpy().tolist() == [True, False, True, False]
    assert (False | q).numpy().tolist() == [True, False, True, False]
    assert (True ^ q).numpy().tolist() == [False, True, False, True]
    assert (p & q).dtype == tf.bool
    m, n = make(np.array([12, -7, 5], np.int32)), make(np.array([10, 3, -1], np.int32))
    a, b = np.array([12, -7, 5], np.int32), np.array([10, 3, -1], np.int32)
    np.testing.assert_array_equal((m & n).numpy(), a & b)
    np.testing.assert_array_equal((m | n).numpy(), a | b)
    np.testing.assert_array_equal((m ^ n).numpy(), a ^ b)
    np.testing.assert_array_equal((~m).numpy(), ~a)
    np.testing.assert_array_equal((3 ^ m).numpy(), 3 ^ a)
    np.testing.assert_array_equal((m & True).numpy(), a & 1)
    f = make([1.0])
    with pytest.raises(InvalidArgumentError, match="is not in the list of allowed values"):
        f & f
    with pytest.raises(InvalidArgumentError):
        ~f


@pytest.mark.parametrize("make", [tf.constant, tf.Variable], ids=["tensor", "variable"])
def test_comparison_operators(make):
    a = make(A)
    for op in (operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne):
        result = op(a, B)
        assert result.dtype == tf.bool
        np.testing.assert_array_equal(result.numpy(), op(A, B))
        np.testing.assert_array_equal(op(a, 1.5).numpy(), op(A, 1.5))
        np.testing.assert_array_equal(op(1.5, a).numpy(), op(1.5, A))  # reflected
    assert (make([1, 2]) == [1, 2]).numpy().tolist() == [True, True]
    assert (make(["a", "b"]) == "a").numpy().tolist() == [True, False]
    # shapes that do not broadcast: a scalar False / True, not an error (TF 2 semantics)
    eq, ne = make([1, 2]) == make([1, 2, 3]), make([1, 2]) != [1, 2, 3]
    assert isinstance(eq, tf.Tensor) and eq.shape == () and eq.dtype == tf.bool
    assert not bool(eq) and bool(ne)
    assert (make([1.0]) == None) is False  # noqa: E711 - the operator is what is tested
    assert (make([1.0]) != None) is True  # noqa: E711
    with pytest.raises(InvalidArgumentError, match="Equal"):
        make([1, 2]) == make([1.0, 2.0])
    with pytest.raises(InvalidArgumentError):
        make([1, 2]) < make([1, 2, 3])
    with pytest.raises(InvalidArgumentError):
        make([1j]) < 1j


def test_variable_equality_is_elementwise_and_identity_is_kept():
    v, w = tf.Variable([1.0, 2.0]), tf.Variable([1.0, 3.0])
    assert (v == w).numpy().tolist() == [True, False]
    assert v.ref() != w.ref() and v.ref() == v.ref()
    with pytest.raises(TypeError):
        hash(v)
    with pytest.raises(TypeError):
        hash(tf.constant(1.0))


def test_operator_gradients():
    check_grad(lambda x, y: (x + y) * x - y / (x * x + 1.0) + 2.0 ** y - (-x) ** 2, A.astype(float),
               B.astype(float))
    check_grad(lambda x, y: x * y - abs(y) / 3.0 + x ** 3, A.astype(float), B.astype(float), order=2)
    check_grad(lambda x, y: 1.0 / x + 3.0 - y + (1.0 - x) * 2.0, A.astype(float) + 5.0, B.astype(float))
    v = tf.Variable(B)
    with tf.GradientTape() as tape:
        loss = v * v + 2 * v - 1.0
    np.testing.assert_allclose(tape.gradient(loss, v).numpy(), 2 * B + 2)


def test_indexing_operator():
    t, v = tf.constant(A), tf.Variable(A)
    np.testing.assert_array_equal(t[0].numpy(), A[0])
    np.testing.assert_array_equal(t[:, 1:].numpy(), A[:, 1:])
    np.testing.assert_array_equal(t[..., 1, tf.newaxis].numpy(), A[..., 1, None])
    np.testing.assert_array_equal(v[1].numpy(), A[1])


def test_matmul_operator():
    a, b = tf.constant([[1.0, 2.0]]), tf.constant([[3.0], [4.0]])
    assert (a @ b).numpy().tolist() == [[11.0]]
    assert (np.array([[1.0, 2.0]], np.float32) @ b).numpy().tolist() == [[11.0]]
    assert (tf.Variable([[1.0, 2.0]]) @ tf.Variable([[3.0], [4.0]])).numpy().tolist() == [[11.0]]


@pytest.mark.parametrize("make", [tf.constant, tf.Variable], ids=["tensor", "variable"])
def test_operators_tensorflow_does_not_have(make):
    t = make(np.array([1, 2], np.int32))
    for fn in (lambda: +t, lambda: t << 1, lambda: t >> 1, lambda: 1 << t, lambda: 8 >> t):
        with pytest.raises(TypeError):
            fn()
    np.testing.assert_array_equal(tf.bitwise.left_shift(t, 1).numpy(), [2, 4])


@pytest.mark.parametrize("make", [tf.constant, tf.Variable], ids=["tensor", "variable"])
def test_bool_multiplication_is_a_logical_and(make):
    b = make([True, False, True, False])
    c = np.array([True, True, False, False])
    for other in (tf.constant(c), c, tf.constant([1.0, 2.0, 0.0, 0.0]), np.array([1, 5, 0, 0])):
        out = b * other
        assert out.dtype == tf.bool and out.numpy().tolist() == [True, False, False, False]
    assert (b * 2).numpy().tolist() == [True, False, True, False]
    assert (b * 0).numpy().tolist() == [False] * 4
    assert (np.array([1.0, 1.0, 0.0, 0.0]) * b).numpy().tolist() == [True, False, False, False]
    with pytest.raises(TypeError, match="Cannot convert 3 to EagerTensor of dtype bool"):
        3 * b
    with pytest.raises(InvalidArgumentError, match="bool"):
        tf.multiply(tf.constant([True]), tf.constant([True]))


def test_plus_converts_as_tf_add():
    i = tf.constant([1, 2])
    with pytest.raises(InvalidArgumentError, match=r"AddV2.*int32.*float"):
        i + 1.5
    assert (2 + i).numpy().tolist() == [3, 4] and (i + 2).numpy().tolist() == [3, 4]
    assert (np.array([1.0, 2.0]) + tf.constant([1.0, 2.0])).dtype == tf.float32


def test_python_values_that_cannot_take_the_tensor_dtype_raise_type_error():
    t = tf.constant([1, 2])
    for fn in (lambda: t - 1.5, lambda: 1.5 + t, lambda: t * 1.5, lambda: tf.multiply(t, 1.5),
               lambda: tf.maximum(t, 1.5), lambda: t == 1.5, lambda: t < 1.5,
               lambda: 2.5 / t):
        with pytest.raises(TypeError, match="Cannot convert 1?[.0-9]+ to EagerTensor of dtype int32"):
            fn()
    with pytest.raises(TypeError, match="Cannot convert 1 to EagerTensor of dtype bool"):
        tf.constant(True) & 1
    with pytest.raises(tf.errors.InvalidArgumentError, match="AddV2"):
        t + 1.5  # tf.add converts y with x's dtype only as a hint
    with pytest.raises(TypeError, match="same dtype"):
        t / 2.5
    assert (t + np.float64(1.5)).numpy().tolist() == [2, 3]  # NumPy values are cast
    assert (t - np.array([1.5, 2.5])).numpy().tolist() == [0, 0]
