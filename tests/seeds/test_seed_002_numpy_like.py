"""Seed 002: 像NumPy一样使用Tensorflow (tensors, ops, NumPy, casts, variables, the codes example)."""
import numpy as np
import pytest

import tensorweave as tf


def test_tensors_and_operations():
    t = tf.constant([[1., 2., 3.], [4., 5., 6.]])
    assert t.shape == (2, 3) and t.dtype is tf.float32 and isinstance(t, tf.Tensor)
    assert repr(tf.constant(100)) == "<tf.Tensor: shape=(), dtype=int32, numpy=100>"
    np.testing.assert_array_equal(t[:, 1:].numpy(), [[2., 3.], [5., 6.]])
    np.testing.assert_array_equal(t[..., 1, tf.newaxis].numpy(), [[2.], [5.]])
    assert t[0, 1].numpy() == 2.0
    np.testing.assert_array_equal((t + 10).numpy(), [[11., 12., 13.], [14., 15., 16.]])
    np.testing.assert_array_equal(tf.add(t, 10).numpy(), (t + 10).numpy())
    np.testing.assert_array_equal(tf.square(t).numpy(), [[1., 4., 9.], [16., 25., 36.]])
    np.testing.assert_array_equal((t @ tf.transpose(t)).numpy(), [[14., 32.], [32., 77.]])
    np.testing.assert_array_equal(tf.matmul(t, tf.transpose(t)).numpy(), [[14., 32.], [32., 77.]])
    assert tf.add is tf.math.add


def test_squeeze_and_reductions():
    x = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    x_expand = tf.expand_dims(x, axis=0)
    assert x_expand.shape == (1, 2, 3) and tf.squeeze(x_expand).shape == (2, 3)
    assert tf.reduce_mean(x).numpy() == 3.5
    np.testing.assert_array_equal(tf.reduce_mean(x, axis=0).numpy(), [2.5, 3.5, 4.5])
    assert tf.reduce_sum(x).numpy() == 21.0
    np.testing.assert_array_equal(tf.reduce_sum(x, axis=1).numpy(), [6., 15.])
    assert tf.reduce_max(x).numpy() == 6.0
    np.testing.assert_array_equal(tf.reduce_max(x, axis=0).numpy(), [4., 5., 6.])
    np.testing.assert_allclose(tf.math.log(x).numpy(), np.log(x.numpy()), rtol=1e-6)


def test_tensors_and_numpy():
    a = np.array([2., 4., 5.])
    assert tf.constant(a).dtype is tf.float64
    t = tf.constant([[1., 2., 3.], [4., 5., 6.]])
    assert isinstance(t.numpy(), np.ndarray)
    np.testing.assert_array_equal(tf.square(a).numpy(), [4., 16., 25.])
    assert tf.square(a).dtype is tf.float64
    np.testing.assert_array_equal(np.square(t), [[1., 4., 9.], [16., 25., 36.]])


def test_no_automatic_type_conversion():
    with pytest.raises(tf.errors.InvalidArgumentError) as err:
        tf.constant(2.) + tf.constant(40)
    assert "AddV2" in str(err.value) and "int32" in str(err.value)
    with pytest.raises(tf.errors.InvalidArgumentError) as err:
        tf.constant(2.) + tf.constant(40., dtype=tf.float64)
    assert "AddV2" in str(err.value) and "double" in str(err.value)
    t2 = tf.constant(40, dtype=tf.float64)
    assert (tf.constant(2.0) + tf.cast(t2, tf.float32)).numpy() == 42.0


def test_variables_and_assignment():
    v = tf.Variable([[1., 2., 3.], [4., 5., 6.]])
    assert repr(v).startswith("<tf.Variable 'Variable:0' shape=(2, 3) dtype=float32, numpy=")
    v.assign(2 * v)
    v[0, 1].assign(42)
    v[:, 2].assign([0., 1.])
    v.scatter_nd_update(indices=[[0, 0], [1, 2]], updates=[100., 200.])
    np.testing.assert_array_equal(v.numpy(), [[100., 42., 0.], [8., 10., 200.]])
    with pytest.raises(TypeError):
        v[1] = [7., 8., 9.]
    v[1].assign([7, 8, 9])
    np.testing.assert_array_equal(v.numpy(), [[100., 42., 0.], [7., 8., 9.]])


def test_nearest_code_with_tensors():
    observation = np.array([111.0, 188.0])
    codes = np.array([[102.0, 203.0], [132.0, 193.0], [45.0, 155.0], [57.0, 173.0]])
    expected = np.argmin(np.sqrt(np.sum((observation - codes) ** 2, axis=1)))
    observation = tf.constant(observation)
    codes = tf.constant(codes)
    found = tf.argmin(tf.reduce_sum(tf.square(tf.subtract(observation, codes)), axis=1))
    assert found.dtype is tf.int64 and found.numpy() == expected == 0
