import numpy as np
import pytest

import tensorweave as tf


def test_dtype_inference_follows_tensorflow():
    assert tf.constant(1.5).dtype is tf.float32
    assert tf.constant(3).dtype is tf.int32
    assert tf.constant(2 ** 40).dtype is tf.int64
    assert tf.constant(True).dtype is tf.bool
    assert tf.constant(1 + 2j).dtype is tf.complex128
    assert tf.constant([1, 2.5]).dtype is tf.float32
    assert tf.constant(np.array([1.0, 2.0])).dtype is tf.float64
    assert tf.constant(np.float64(1.0)).dtype is tf.float64
    assert tf.constant([np.float64(1.0), 2.0]).dtype is tf.float64
    assert tf.constant([]).dtype is tf.float32
    assert tf.constant(range(12)).shape == (12,)
    assert tf.constant(range(12)).dtype is tf.int32
    assert tf.constant([[]]).shape == (1, 0)


def test_requested_dtype_casts_numpy_but_refuses_lossy_python_values():
    assert tf.constant(np.array([1.7]), dtype=tf.int32).numpy().tolist() == [1]
    assert tf.convert_to_tensor(np.array([1.5]), dtype=tf.float32).dtype is tf.float32
    assert tf.constant(3, dtype=tf.float64).numpy() == 3.0
    with pytest.raises(TypeError, match="Cannot convert 1.5 to EagerTensor of dtype int32"):
        tf.constant(1.5, dtype=tf.int32)
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([[1], [2, 3]])
    with pytest.raises(ValueError, match="requested dtype int32 for Tensor with dtype float32"):
        tf.convert_to_tensor(tf.constant(1.0), dtype=tf.int32)


def test_constant_shape_fills_or_reshapes():
    assert tf.constant(0, shape=(2, 3)).numpy().tolist() == [[0, 0, 0], [0, 0, 0]]
    assert tf.constant([1, 2, 3, 4], shape=[2, 2]).numpy().tolist() == [[1, 2], [3, 4]]
    with pytest.raises(TypeError):
        tf.constant([1, 2, 3], shape=[2, 2])


def test_constant_copies_numpy_input():
    a = np.array([1.0, 2.0])
    t = tf.constant(a)
    a[0] = 100.0
    assert t.numpy()[0] == 1.0


def test_strings():
    s = tf.constant("hello")
    assert s.dtype is tf.string and s.numpy() == b"hello"
    assert tf.constant(["a", b"bc"]).numpy().tolist() == [b"a", b"bc"]
    assert repr(s) == "<tf.Tensor: shape=(), dtype=string, numpy=b'hello'>"


def test_repr_and_str_match_tensorflow():
    t = tf.constant([[1., 2., 3.], [4., 5., 6.]])
    assert repr(t) == ("<tf.Tensor: shape=(2, 3), dtype=float32, numpy=\narray([[1., 2., 3.],\n"
                       "       [4., 5., 6.]], dtype=float32)>")
    assert str(t) == "tf.Tensor(\n[[1. 2. 3.]\n [4. 5. 6.]], shape=(2, 3), dtype=float32)"
    assert repr(tf.constant(0.1)) == "<tf.Tensor: shape=(), dtype=float32, numpy=0.10000000149011612>"
    assert str(tf.constant(0.1)) == "tf.Tensor(0.1, shape=(), dtype=float32)"
    assert repr(tf.constant(100)) == "<tf.Tensor: shape=(), dtype=int32, numpy=100>"


def test_numpy_protocols():
    t = tf.constant([[1., 2., 3.], [4., 5., 6.]])
    assert isinstance(t.numpy(), np.ndarray)
    assert type(tf.constant(1.0).numpy()) is np.float32
    np.testing.assert_array_equal(np.square(t), [[1, 4, 9], [16, 25, 36]])
    np.testing.assert_array_equal(np.array(t), t.numpy())
    assert t.shape == (2, 3) and t.ndim == 2 and len(t) == 2
    assert t.shape.as_list() == [2, 3] and isinstance(t.shape, tf.TensorShape)
    assert [row.shape for row in t] == [(3,), (3,)]
    assert float(tf.constant(2.5)) == 2.5 and int(tf.constant(7)) == 7
    assert [10, 20, 30][tf.constant(1)] == 20
    assert bool(tf.constant(True))
    with pytest.raises(ValueError):
        bool(t)
    with pytest.raises(TypeError, match="Scalar tensor has no `len"):
        len(tf.constant(1.0))
    with pytest.raises(TypeError, match="unhashable"):
        hash(t)
    assert {t.ref(): 1}[t.ref()] == 1 and t.ref().deref() is t
    assert f"{tf.constant(0.123456):.3f}" == "0.123"
    assert t.device.endswith("CPU:0")
    with pytest.raises(AttributeError):
        t.name
    with pytest.raises(AttributeError):
        t.assign(1.0)


def test_numpy_array_on_the_left_defers_to_the_tensor():
    out = np.array([1.0, 2.0], dtype=np.float32) + tf.constant([1.0, 2.0])
    assert isinstance(out, tf.Tensor) and out.numpy().tolist() == [2.0, 4.0]


def test_no_implicit_casting():
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"AddV2.*float.*int32"):
        tf.constant(2.) + tf.constant(40)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"AddV2.*float.*double"):
        tf.constant(2.) + tf.constant(40., dtype=tf.float64)
    t2 = tf.constant(40, dtype=tf.float64)
    assert (tf.constant(2.0) + tf.cast(t2, tf.float32)).numpy() == 42.0
    assert (tf.constant(1.0) + 2).dtype is tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.constant(1) + 2.5
    with pytest.raises(tf.errors.InvalidArgumentError, match="bool"):
        tf.constant([True]) + tf.constant([False])


def test_errors_carry_tensorflow_codes():
    assert issubclass(tf.errors.InvalidArgumentError, tf.errors.OpError)
    assert tf.errors.InvalidArgumentError.error_code == tf.errors.INVALID_ARGUMENT
    err = tf.errors.NotFoundError(None, None, "missing")
    assert err.message == "missing" and str(err) == "missing"
    assert tf.errors.OutOfRangeError.error_code == tf.errors.OUT_OF_RANGE == 11
