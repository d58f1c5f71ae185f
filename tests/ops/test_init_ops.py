"""TensorFlow's own initializers: tf.zeros_initializer, tf.ones_initializer,
tf.constant_initializer, tf.random_normal_initializer, tf.random_uniform_initializer."""
import inspect
import math

import numpy as np
import pytest

import tensorweave as tf

SHAPE = (300, 200)
N = SHAPE[0] * SHAPE[1]


def test_names_and_signatures():
    assert sorted(n for n in dir(tf) if n.endswith("_initializer")) == [
        "constant_initializer", "ones_initializer", "random_normal_initializer",
        "random_uniform_initializer", "zeros_initializer"]
    assert str(inspect.signature(tf.random_normal_initializer)) == \
        "(mean=0.0, stddev=0.05, seed=None)"
    assert str(inspect.signature(tf.random_uniform_initializer)) == \
        "(minval=-0.05, maxval=0.05, seed=None)"
    assert str(inspect.signature(tf.constant_initializer)) == "(value=0, support_partition=False)"
    assert list(inspect.signature(tf.zeros_initializer.__call__).parameters) == \
        ["self", "shape", "dtype", "kwargs"]
    assert inspect.signature(tf.ones_initializer.__call__).parameters["dtype"].default \
        is tf.float32


def test_seed_003_usage():
    w_init = tf.random_normal_initializer()
    w = tf.Variable(initial_value=w_init(shape=(2, 4), dtype="float32"), trainable=True)
    assert w.shape == (2, 4) and w.dtype == tf.float32
    b = tf.zeros_initializer()(shape=(4,), dtype="float32")
    assert b.numpy().tolist() == [0.0] * 4


def test_random_normal_statistics():
    values = tf.random_normal_initializer(mean=2.0, stddev=0.5)(SHAPE).numpy()
    assert values.dtype == np.float32
    assert abs(values.mean() - 2.0) < 6 * 0.5 / math.sqrt(N)
    assert abs(values.std() - 0.5) < 6 * 0.5 / math.sqrt(2 * N)


def test_random_uniform_statistics_and_integers():
    values = tf.random_uniform_initializer(-2.0, 1.0, seed=4)(SHAPE).numpy()
    assert values.min() >= -2.0 and values.max() < 1.0
    assert abs(values.mean() + 0.5) < 6 * (3 / math.sqrt(12)) / math.sqrt(N)
    ints = tf.random_uniform_initializer(0, 10)((1000,), dtype=tf.int32).numpy()
    assert ints.dtype == np.int32 and set(ints.tolist()) == set(range(10))


def test_seeded_initializers_use_the_stateless_ops_with_key_seed_0():
    init = tf.random_normal_initializer(mean=1.0, stddev=3.0, seed=7)
    first = init((5, 3)).numpy()
    np.testing.assert_array_equal(first, init((5, 3)).numpy())
    np.testing.assert_array_equal(
        first, tf.random.stateless_normal((5, 3), seed=[7, 0], mean=1.0, stddev=3.0).numpy())
    uniform = tf.random_uniform_initializer(seed=7)
    np.testing.assert_array_equal(
        uniform((4,)).numpy(),
        tf.random.stateless_uniform((4,), seed=[7, 0], minval=-0.05, maxval=0.05).numpy())
    zero_seed = tf.random_normal_initializer(seed=0)
    np.testing.assert_array_equal(zero_seed((3,)).numpy(), zero_seed((3,)).numpy())


def test_unseeded_initializers_follow_the_global_seed():
    init = tf.random_normal_initializer()
    assert not np.array_equal(init((4,)).numpy(), init((4,)).numpy())
    tf.random.set_seed(5)
    first = [init((4,)).numpy(), init((4,)).numpy()]
    tf.random.set_seed(5)
    again = [init((4,)).numpy(), init((4,)).numpy()]
    tf.random.set_seed(None)
    np.testing.assert_array_equal(first, again)


def test_dtypes():
    assert tf.random_normal_initializer(seed=1)((2,), dtype=tf.float64).dtype == tf.float64
    assert tf.random_normal_initializer(seed=1)((2,), dtype="float16").dtype == tf.float16
    with pytest.raises(ValueError, match="Argument `dtype` is expected to be floating point. "
                                         "Received: <dtype: 'int32'>."):
        tf.random_normal_initializer()((2,), dtype=tf.int32)
    with pytest.raises(ValueError, match="Argument `dtype` expected to be numeric or boolean. "
                                         "Received <dtype: 'bool'>."):
        tf.random_uniform_initializer()((2,), dtype=tf.bool)
    with pytest.raises(TypeError, match="Cannot convert -0.05 to EagerTensor of dtype int32"):
        tf.random_uniform_initializer()((2,), dtype=tf.int32)
    assert tf.zeros_initializer()((2,), dtype="int64").numpy().tolist() == [0, 0]
    assert tf.ones_initializer()((2,), dtype=tf.bool).numpy().tolist() == [True, True]
    with pytest.raises(ValueError, match="Argument `dtype` expected to be numeric or boolean. "
                                         "Received <dtype: 'string'>."):
        tf.zeros_initializer()((2,), dtype=tf.string)


def test_constant_initializer():
    np.testing.assert_array_equal(tf.constant_initializer(2)((2, 2)).numpy(), [[2, 2], [2, 2]])
    assert tf.constant_initializer(2)((2,)).dtype == tf.int32  # the value's own dtype
    assert tf.constant_initializer(2.5)((1,), dtype=tf.float64).dtype == tf.float64
    np.testing.assert_array_equal(tf.constant_initializer([1, 2, 3])((3,)).numpy(), [1, 2, 3])
    np.testing.assert_array_equal(tf.constant_initializer((1, 2))((1, 2)).numpy(), [[1, 2]])
    np.testing.assert_array_equal(tf.constant_initializer(np.array([1.0, 2.0]))((2,)).numpy(),
                                  [1.0, 2.0])
    with pytest.raises(TypeError, match=r"has 3 elements, but got `shape` \(2, 3\) with 6 "
                                        r"elements"):
        tf.constant_initializer([1, 2, 3])((2, 3))
    with pytest.raises(TypeError, match="Invalid type for initial value: Tensor. Expected Python "
                                        "scalar, list or tuple of values, or numpy.ndarray."):
        tf.constant_initializer(tf.constant(2.0))


def test_partition_arguments():
    assert tf.zeros_initializer()((4,), partition_shape=(2,), partition_offset=(0,)).shape == (2,)
    assert tf.random_normal_initializer(seed=1)((4, 2), partition_shape=(1, 2)).shape == (1, 2)
    with pytest.raises(TypeError, match=r"Keyword argument should be one of \['partition_shape', "
                                        r"'partition_offset'\]. Received: foo"):
        tf.ones_initializer()((2,), foo=1)
    with pytest.raises(ValueError, match="Constant initializer doesn't support partition-related "
                                         "arguments"):
        tf.constant_initializer(2)((2,), partition_shape=(1,))
    assert tf.constant_initializer(2, support_partition=True)((2,), partition_shape=(1,)) \
        .shape == (2,)


def test_configs_round_trip():
    assert tf.random_normal_initializer().get_config() == {"mean": 0.0, "stddev": 0.05,
                                                           "seed": None}
    assert tf.random_uniform_initializer(seed=3).get_config() == {"minval": -0.05,
                                                                  "maxval": 0.05, "seed": 3}
    assert tf.zeros_initializer().get_config() == {}
    assert tf.constant_initializer(2.0).get_config() == {"value": 2.0}
    again = tf.random_normal_initializer.from_config(
        {"mean": 1.0, "stddev": 2.0, "seed": 4, "dtype": "float32"})
    assert again.get_config() == {"mean": 1.0, "stddev": 2.0, "seed": 4}
    assert type(again).__name__ == "RandomNormal"
