import numpy as np
import pytest

import tensorweave as tf


def test_dtype_properties():
    assert tf.float32.is_floating and not tf.float32.is_integer
    assert tf.int8.is_integer and not tf.int8.is_unsigned
    assert tf.uint16.is_unsigned and tf.uint16.is_integer
    assert tf.complex64.is_complex and tf.complex64.real_dtype is tf.float32
    assert tf.bool.is_bool
    assert tf.float32.as_numpy_dtype is np.float32
    assert tf.int64.as_numpy_dtype is np.int64
    assert tf.int8.min == -128 and tf.int8.max == 127
    assert tf.uint8.max == 255
    assert tf.float16.max == np.finfo(np.float16).max
    assert tf.float32.min == np.finfo(np.float32).min
    assert tf.bfloat16.is_floating and tf.bfloat16.max > 3e38


def test_as_dtype_accepts_every_spelling():
    assert tf.as_dtype("float32") is tf.float32
    assert tf.as_dtype("double") is tf.float64
    assert tf.as_dtype(np.float64) is tf.float64
    assert tf.as_dtype(np.dtype("int16")) is tf.int16
    assert tf.as_dtype(tf.uint32) is tf.uint32
    assert tf.as_dtype(bool) is tf.bool
    assert tf.as_dtype(tf.float32.as_datatype_enum) is tf.float32
    assert tf.as_dtype("bfloat16") is tf.bfloat16
    with pytest.raises(TypeError):
        tf.as_dtype("not a dtype")


def test_dtype_equality_repr_and_hash():
    assert tf.float32 == "float32" and tf.float32 == np.float32
    assert tf.float32 != tf.float64
    assert len({tf.float32, tf.as_dtype("float32"), tf.int32}) == 2
    assert repr(tf.int32) == "tf.int32"
    assert str(tf.float32) == "<dtype: 'float32'>"
    assert tf.dtypes.float32 is tf.float32


def test_bfloat16_tensors_round_trip():
    t = tf.constant([1.0, 2.5], dtype=tf.bfloat16)
    assert t.dtype is tf.bfloat16
    assert tf.cast(t, tf.float32).numpy().tolist() == [1.0, 2.5]


def test_as_dtype_refuses_what_tensorflow_refuses():
    for value in (int, complex, str, bytes, "int", "complex", "<f4", "i4", "object", None, [1],
                  tf.constant(1.0)):
        with pytest.raises(TypeError, match="Cannot convert the argument `type_value`"):
            tf.as_dtype(value)
    assert tf.as_dtype(object) is tf.string and tf.as_dtype(np.dtype("<U5")) is tf.string
    assert tf.as_dtype(np.dtype(">f4")) is tf.float32 and tf.as_dtype(np.longlong) is tf.int64
    assert tf.as_dtype(np.zeros(2)) is tf.float64
    assert tf.as_dtype(1.0) is tf.float32  # an enum number, as TensorFlow looks it up
    assert tf.float32 != tf.constant(1.0) and tf.int32 != int
    with pytest.raises(TypeError):
        tf.float32.is_compatible_with(None)


def test_dtype_limits_and_sizes_follow_tensorflow():
    assert not tf.bool.is_unsigned
    assert tf.int8.limits == (0, 127) and tf.uint8.limits == (0, 255)
    assert tf.float32.limits == (0, 1) and tf.bool.limits == (0, True)
    with pytest.raises(ValueError, match="does not have defined limits"):
        tf.float16.limits
    with pytest.raises(TypeError, match="Cannot find minimum value of <dtype: 'bool'>"):
        tf.bool.min
    with pytest.raises(TypeError, match="Cannot find maximum value of <dtype: 'string'>"):
        tf.string.max
    assert type(tf.int64.min) is int and tf.uint64.max == 2 ** 64 - 1
    assert tf.string.size == 0 and tf.resource.size == 0 and tf.float64.size == 8
    assert tf.string.as_numpy_dtype is object
    assert tf.resource.is_numpy_compatible is False and tf.string.is_numpy_compatible


def test_dtype_from_enum_and_quantized_types():
    assert tf.DType(1) == tf.float32 and tf.DType(9) == tf.int64
    with pytest.raises(TypeError, match="does not correspond to a valid"):
        tf.DType(99)
    assert tf.qint8.is_quantized and not tf.qint8.is_integer and tf.qint8.is_numeric
    assert tf.as_dtype("quint8") is tf.quint8 and tf.quint16.as_datatype_enum == 16
    assert tf.qint32 in tf.dtypes.QUANTIZED_DTYPES and tf.qint16.size == 2
    with pytest.raises(TypeError, match="with quantized type"):
        tf.qint8.min
    assert tf.dtypes.complex(tf.constant(1.0), tf.constant(2.0)).numpy() == 1 + 2j
