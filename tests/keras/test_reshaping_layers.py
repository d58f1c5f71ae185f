"""keras.layers reshaping: Flatten, Reshape, Permute, RepeatVector."""
import numpy as np
import pytest

import tensorweave as tf
from keras_harness import check_layer
from tensorweave import keras

L = keras.layers

CASES = {
    "flatten": dict(make=lambda **kw: L.Flatten(**kw), input_shape=(2, 3, 4),
                    expected_output_shape=(2, 12)),
    "flatten_rank1": dict(make=lambda **kw: L.Flatten(**kw), input_shape=(3,),
                          expected_output_shape=(3, 1), symbolic=False),
    "flatten_channels_first": dict(make=lambda **kw: L.Flatten(data_format="channels_first", **kw),
                                   input_shape=(2, 3, 2, 2), expected_output_shape=(2, 12)),
    "reshape": dict(make=lambda **kw: L.Reshape((4, 3), **kw), input_shape=(2, 3, 4),
                    expected_output_shape=(2, 4, 3)),
    "reshape_minus_one": dict(make=lambda **kw: L.Reshape((-1, 2), **kw), input_shape=(2, 6),
                              expected_output_shape=(2, 3, 2)),
    "permute": dict(make=lambda **kw: L.Permute((2, 1), **kw), input_shape=(2, 3, 4),
                    expected_output_shape=(2, 4, 3)),
    "permute_rank4": dict(make=lambda **kw: L.Permute((3, 1, 2), **kw), input_shape=(2, 3, 4, 5),
                          expected_output_shape=(2, 5, 3, 4)),
    "repeat_vector": dict(make=lambda **kw: L.RepeatVector(3, **kw), input_shape=(2, 4),
                          expected_output_shape=(2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness(name):
    check_layer(**CASES[name])


def _x(*shape):
    return np.arange(np.prod(shape), dtype=np.float32).reshape(shape)


def test_flatten_values_and_order():
    x = _x(2, 3, 4, 5)
    np.testing.assert_array_equal(L.Flatten()(x).numpy(), x.reshape(2, -1))
    first = L.Flatten(data_format="channels_first")(x).numpy()
    np.testing.assert_array_equal(first, x.transpose(0, 2, 3, 1).reshape(2, -1))
    np.testing.assert_array_equal(L.Flatten()(_x(3)).numpy(), [[0.], [1.], [2.]])
    assert L.Flatten().get_config()["data_format"] == "channels_last"
    assert L.Flatten("Channels_First").data_format == "channels_first"
    with pytest.raises(ValueError, match="data_format"):
        L.Flatten(data_format="nchw")
    with pytest.raises(ValueError, match="min_ndim=1"):
        L.Flatten()(tf.constant(1.0))


def test_flatten_shapes_symbolic_and_unknown():
    assert L.Flatten()(keras.Input((28, 28))).shape == (None, 784)
    assert L.Flatten()(keras.Input((None, 4))).shape == (None, None)
    assert L.Flatten().compute_output_shape((None, 3, None)) == (None, None)
    assert L.Flatten().compute_output_shape((5,)) == (5, 1)
    ints = L.Flatten()(keras.Input((2, 3), dtype="int32"))
    assert ints.dtype == "int32"
    layer = L.Flatten()
    f = tf.function(lambda t: layer(t),
                    input_signature=[tf.TensorSpec([None, 4, 3], tf.float32)])
    x = _x(2, 4, 3)
    np.testing.assert_array_equal(f(tf.constant(x)).numpy(), x.reshape(2, 12))
    assert f.get_concrete_function().structured_outputs.shape.as_list() == [None, 12]
    g = tf.function(lambda t: layer(t),
                    input_signature=[tf.TensorSpec([2, None, 3], tf.float32)])
    np.testing.assert_array_equal(g(tf.constant(x)).numpy(), x.reshape(2, 12))


def test_flatten_in_model_of_seed_001():
    class MLP(keras.Model):
        def __init__(self):
            super().__init__()
            self.flatten = L.Flatten()
            self.dense1 = L.Dense(units=8, activation=tf.nn.relu)
            self.dense2 = L.Dense(units=10)

        def call(self, inputs):
            return self.dense2(self.dense1(self.flatten(inputs)))

    net = MLP()
    assert tuple(net(_x(2, 4, 5) / 40).shape) == (2, 10)
    assert net.count_params() == 20 * 8 + 8 + 8 * 10 + 10


def test_reshape_values_shapes_and_errors():
    x = _x(2, 3, 4)
    np.testing.assert_array_equal(L.Reshape((2, -1))(x).numpy(), x.reshape(2, 2, 6))
    np.testing.assert_array_equal(L.Reshape((12,))(x).numpy(), x.reshape(2, 12))
    layer = L.Reshape([6, 2])
    assert layer.built and layer.target_shape == (6, 2)
    assert layer.get_config()["target_shape"] == (6, 2)
    assert L.Reshape((-1, 2)).compute_output_shape((None, 3, 4)) == (None, 6, 2)
    assert L.Reshape((-1, 2)).compute_output_shape((None, None, 4)) == (None, None, 2)
    assert L.Reshape((-1, 2))(keras.Input((3, 4), dtype="int64")).dtype == "int64"
    with pytest.raises(ValueError, match="at most one unknown dimension"):
        L.Reshape((-1, -1))
    with pytest.raises(ValueError, match="non-negative integer"):
        L.Reshape((-2, 3))
    with pytest.raises(ValueError, match="total size of the tensor must be unchanged. Received"):
        L.Reshape((5,))(x)
    with pytest.raises(ValueError, match="cannot by divided"):
        L.Reshape((5, -1))(x)
    with pytest.raises(ValueError, match="must be unchanged"):
        L.Reshape((5,))(keras.Input((3, 4)))


def test_reshape_in_tf_function_with_unknown_dims():
    layer = L.Reshape((-1, 2))
    f = tf.function(lambda t: layer(t),
                    input_signature=[tf.TensorSpec([None, 5, 4], tf.float32)])
    x = _x(3, 5, 4)
    np.testing.assert_array_equal(f(tf.constant(x)).numpy(), x.reshape(3, 10, 2))
    g = tf.function(lambda t: layer(t), input_signature=[tf.TensorSpec([3, None, 4], tf.float32)])
    np.testing.assert_array_equal(g(tf.constant(x)).numpy(), x.reshape(3, 10, 2))


def test_permute_values_and_errors():
    x = _x(2, 3, 4, 5)
    np.testing.assert_array_equal(L.Permute((3, 1, 2))(x).numpy(), x.transpose(0, 3, 1, 2))
    assert L.Permute((2, 1)).compute_output_shape((None, 3, 7)) == (None, 7, 3)
    assert L.Permute([2, 1]).get_config()["dims"] == (2, 1)
    with pytest.raises(ValueError, match="must be consecutive and start from 1"):
        L.Permute((0, 1))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        L.Permute((2, 1))(x)


def test_repeat_vector_values_and_errors():
    x = _x(2, 3)
    out = L.RepeatVector(4)(x).numpy()
    np.testing.assert_array_equal(out, np.repeat(x[:, None, :], 4, axis=1))
    assert L.RepeatVector(2).compute_output_shape((None, 5)) == (None, 2, 5)
    assert L.RepeatVector(2)(keras.Input((5,))).shape == (None, 2, 5)
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        L.RepeatVector(2.0)
    with pytest.raises(ValueError, match="should be a positive integer"):
        L.RepeatVector(0)
    with pytest.raises(ValueError, match="expected ndim=2, found ndim=3"):
        L.RepeatVector(2)(_x(1, 2, 3))
    layer = L.RepeatVector(3)
    f = tf.function(lambda t: layer(t), input_signature=[tf.TensorSpec([None, 2], tf.float32)])
    np.testing.assert_array_equal(f(tf.constant(x[:, :2])).numpy(),
                                  np.repeat(x[:, None, :2], 3, axis=1))
