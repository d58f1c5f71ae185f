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
