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


# -- conversion of Python values: the first leaf decides, as in TensorFlow (values checked there) --

def _kind(value, **kwargs):
    t = tf.constant(value, **kwargs)
    return t.dtype.name, t.numpy().tolist()


def test_first_leaf_of_a_python_sequence_decides_the_dtype():
    assert _kind([np.float32(1), np.float64(2)]) == ("float32", [1.0, 2.0])
    assert _kind([np.float64(1), np.float32(2)]) == ("float64", [1.0, 2.0])
    assert _kind([1, np.float64(2)]) == ("float32", [1.0, 2.0])
    assert _kind([[2], [np.float64(1)]]) == ("float32", [[2.0], [1.0]])
    assert _kind([np.float16(2), 1]) == ("float16", [2.0, 1.0])
    assert _kind([np.int8(1), np.int8(2)]) == ("int32", [1, 2])
    assert _kind([np.int64(1), 2]) == ("int32", [1, 2])
    assert _kind([np.uint64(1), 1]) == ("int32", [1, 1])
    assert _kind([np.int8(1), np.int64(2 ** 40)]) == ("int64", [1, 2 ** 40])
    assert _kind([np.array([1, 2], np.int8)]) == ("int32", [[1, 2]])
    assert _kind([np.array(1.5)]) == ("float64", [1.5])  # a 0-d array is its scalar
    assert _kind([1, np.array(1.0, np.float32)]) == ("float32", [1.0, 1.0])
    assert _kind([1, True]) == ("int32", [1, 1])
    assert _kind([1.5, True]) == ("float32", [1.5, 1.0])
    assert _kind([1j, True]) == ("complex128", [1j, 1 + 0j])
    assert _kind([True, np.bool_(False)]) == ("bool", [True, False])
    assert _kind([[], [1]]) == ("float32", [[], []])  # no element to check


@pytest.mark.parametrize("value", [[True, 1], [True, 1.5], [1, 1j], [1.5, "a"], ["a", 1],
                                   [1, np.bool_(True)], [1.5, np.bool_(True)], [1, [2]],
                                   [1, None], [np.bool_(True), 1]])
def test_mixed_python_sequences_are_refused(value):
    with pytest.raises(ValueError, match="Can't convert Python sequence with mixed types to Tensor."):
        tf.constant(value)


def test_unsupported_python_values():
    for value in (None, [None, 1], {"a": 1}, {1, 2}, object()):
        with pytest.raises(ValueError, match=r"Attempt to convert a value \(.*\) with an unsupported type"):
            tf.convert_to_tensor(value)
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([[1], 2])
    with pytest.raises(ValueError, match="non-rectangular"):
        tf.constant([[1, 2], []])


def test_python_values_out_of_range():
    assert _kind(2 ** 63 - 1) == ("int64", 2 ** 63 - 1)
    assert _kind([-2 ** 31 - 1, 0]) == ("int64", [-2 ** 31 - 1, 0])
    assert _kind([2 ** 31]) == ("int64", [2 ** 31])
    for value in (2 ** 63, [2 ** 63], [1, 2 ** 63], [np.uint64(2 ** 63)]):
        with pytest.raises(ValueError, match="out-of-range integer"):
            tf.constant(value)
    for value in (1e300, [1e39], [-1e300], [1, 1e300], [np.float32(1), np.float64(1e300)],
                  [3.4028236e38], [np.float16(1), 70000.0]):
        with pytest.raises(ValueError, match="out of range for a double-precision float"):
            tf.constant(value)
    assert _kind([3.40282356e38]) == ("float32", [float(np.finfo(np.float32).max)])
    assert _kind([float("inf"), -float("inf")]) == ("float32", [float("inf"), -float("inf")])
    assert _kind([1.5, 2 ** 100]) == ("float32", [1.5, float(np.float32(2.0 ** 100))])
    # a requested dtype takes the value as it can, without range errors
    assert _kind(1e300, dtype=tf.float32) == ("float32", float("inf"))
    assert _kind(300, dtype=tf.int8) == ("int8", 44)
    assert _kind(2 ** 64 - 1, dtype=tf.uint64) == ("uint64", 2 ** 64 - 1)
    with pytest.raises(ValueError, match="out-of-range integer"):
        tf.constant(2 ** 63, dtype=tf.int64)


def test_requested_dtype_of_python_values():
    assert _kind([], dtype=tf.int32) == ("int32", [])
    assert _kind([[]], dtype=tf.bool) == ("bool", [[]])
    assert _kind([], dtype=tf.string) == ("string", [])
    assert _kind([True, 1], dtype=tf.int32) == ("int32", [1, 1])
    assert _kind([True, 1.5], dtype=tf.float32) == ("float32", [1.0, 1.5])
    assert _kind([np.int8(1)], dtype=tf.float32) == ("float32", [1.0])
    with pytest.raises(TypeError, match=r"Cannot convert \[1, 2.0\] to EagerTensor of dtype int32"):
        tf.constant([1, 2.0], dtype=tf.int32)
    with pytest.raises(TypeError, match="Cannot convert 1j to EagerTensor of dtype float$"):
        tf.constant(1j, dtype=tf.float32)
    with pytest.raises(TypeError, match=r"Cannot convert \[np.True_\] to EagerTensor of dtype int32"):
        tf.constant([np.bool_(True)], dtype=tf.int32)
    with pytest.raises(ValueError, match="mixed types"):  # no dtype takes it at all
        tf.constant([1, "a"], dtype=tf.int32)


def test_numpy_values_tensorflow_refuses():
    with pytest.raises(ValueError, match=r"Unsupported object type int"):
        tf.constant(np.array([1, 2], dtype=object))
    assert tf.constant(np.array([b"x", "y"], dtype=object)).numpy().tolist() == [b"x", b"y"]
    with pytest.raises(ValueError, match="NPY_DATETIME"):
        tf.constant(np.array(["2020-01-01"], dtype="datetime64[D]"))
    with pytest.raises(ValueError, match="Unsupported object type int"):
        tf.constant(np.array([1]), dtype=tf.string)


def test_convert_to_tensor_packs_lists_of_tensors():
    packed = tf.convert_to_tensor([tf.constant(1.0), 2.0])
    assert packed.dtype is tf.float32 and packed.numpy().tolist() == [1.0, 2.0]
    assert tf.convert_to_tensor([2, tf.constant(1.0)]).dtype is tf.float32
    assert tf.convert_to_tensor([tf.constant(1, tf.int8), 300]).numpy().tolist() == [1, 44]
    assert tf.convert_to_tensor([tf.Variable(1.0), np.float64(2)]).dtype is tf.float32
    assert tf.convert_to_tensor([tf.constant(1.0)], dtype=tf.int32).numpy().tolist() == [1]
    with pytest.raises(TypeError, match="Cannot convert 2.5 to EagerTensor of dtype int32"):
        tf.convert_to_tensor([tf.constant(1), 2.5])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Pack as input #1.*float.*double"):
        tf.convert_to_tensor([tf.constant(1.0), tf.constant(2.0, tf.float64)])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"values\[0\].shape = \[1\] != values\[1\].shape = \[2\]"):
        tf.convert_to_tensor([tf.constant([1.0]), [1.0, 2.0]])


def test_ranges_and_shapes_convert_as_in_tensorflow():
    assert tf.convert_to_tensor(range(0)).dtype is tf.int32
    assert tf.constant(range(0)).dtype is tf.float32
    assert tf.convert_to_tensor(range(1, 7, 2)).numpy().tolist() == [1, 3, 5]
    assert tf.convert_to_tensor(tf.TensorShape([1, 2])).numpy().tolist() == [1, 2]
    with pytest.raises(ValueError, match="partially known TensorShape"):
        tf.convert_to_tensor(tf.TensorShape([1, None]))


def test_constant_argument_checks():
    with pytest.raises(TypeError, match="Expected tensor .* with dtype tf.int32, but got dtype tf.float32"):
        tf.constant(tf.constant([1., 2.]), dtype=tf.int32)
    assert tf.constant(tf.Variable([1., 2.]), dtype=tf.float64).dtype is tf.float64
    with pytest.raises(ValueError, match="Dimension -1 must be >= 0"):
        tf.constant(1, shape=(2, -1))
    with pytest.raises(TypeError, match="Dimension value must be integer"):
        tf.constant(1, shape=[2.0])
    with pytest.raises(TypeError, match=r"has 2 elements, but got `shape` \(3,\) with 3 elements"):
        tf.constant([1, 2], shape=[3])
    assert tf.constant(5, shape=[2, 0]).shape == (2, 0)


def test_tensor_python_protocols_follow_numpy_as_in_tensorflow():
    v = tf.constant([1.5, 2.0])
    assert f"{v}" == "[1.5 2. ]" and format(tf.constant([[1, 2]])) == "[[1 2]]"
    assert f"{tf.constant(2.0)}" == "2.0" and f"{tf.constant(7):>3}" == "  7"
    with pytest.raises(TypeError, match="unsupported format string passed to numpy.ndarray.__format__"):
        f"{v:.2f}"
    with pytest.raises(AttributeError, match="has no attribute '__index__'"):
        [1, 2, 3][tf.constant(1.0)]
    with pytest.raises(TypeError, match="only integer scalar arrays can be converted to a scalar index"):
        [1, 2, 3][tf.constant([1])]
    assert [1, 2, 3][tf.constant(2, tf.int64)] == 3
    assert bool(tf.constant([])) is False and bool(tf.constant([[]], tf.int32)) is False
    assert bool(tf.constant([1.5])) is True
    with pytest.raises(ValueError, match="more than one element"):
        bool(v)
