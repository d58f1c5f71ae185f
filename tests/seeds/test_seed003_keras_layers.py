"""Seed 003 "keras layer": Linear with weights made in __init__ or build, ComputeSum's
non-trainable weight, MLP's recursive tracking, ActivityRegularization's losses, and the
Sequential shorthand, as written in the notes. (The training loops over MNIST with
keras.losses / keras.optimizers belong to the training issue.)"""
import numpy as np

import tensorweave as tf
from tensorweave import keras


class Linear(keras.layers.Layer):
    """y = w.x + b"""

    def __init__(self, units=32, input_dim=32):
        super(Linear, self).__init__()
        w_init = tf.random_normal_initializer()
        self.w = tf.Variable(
            initial_value=w_init(shape=(input_dim, units), dtype="float32"),
            trainable=True,
        )
        b_init = tf.zeros_initializer()
        self.b = tf.Variable(
            initial_value=b_init(shape=(units,), dtype="float32"), trainable=True
        )

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class LazyLinear(keras.layers.Layer):
    """The notes' second Linear: weights made in build()."""

    def __init__(self, units=32):
        super(LazyLinear, self).__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(
            shape=(input_shape[-1], self.units),
            initializer="random_normal",
            trainable=True,
        )
        self.b = self.add_weight(
            shape=(self.units,), initializer="random_normal", trainable=True
        )

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class ComputeSum(keras.layers.Layer):
    """Returns the sum of the inputs."""

    def __init__(self, input_dim):
        super(ComputeSum, self).__init__()
        self.total = tf.Variable(initial_value=tf.zeros((input_dim,)), trainable=False)

    def call(self, inputs):
        self.total.assign_add(tf.reduce_sum(inputs, axis=0))
        return self.total


class MLP(keras.layers.Layer):
    """Simple stack of Linear layers."""

    def __init__(self):
        super(MLP, self).__init__()
        self.linear_1 = LazyLinear(32)
        self.linear_2 = LazyLinear(32)
        self.linear_3 = LazyLinear(10)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = tf.nn.relu(x)
        x = self.linear_2(x)
        x = tf.nn.relu(x)
        return self.linear_3(x)


class ActivityRegularization(keras.layers.Layer):
    """Layer that creates an activity sparsity regularization loss."""

    def __init__(self, rate=1e-2):
        super(ActivityRegularization, self).__init__()
        self.rate = rate

    def call(self, inputs):
        self.add_loss(self.rate * tf.reduce_sum(inputs))
        return inputs


class SparseMLP(keras.layers.Layer):
    """Stack of Linear layers with a sparsity regularization loss."""

    def __init__(self):
        super(SparseMLP, self).__init__()
        self.linear_1 = LazyLinear(32)
        self.regularization = ActivityRegularization(1e-2)
        self.linear_3 = LazyLinear(10)

    def call(self, inputs):
        x = self.linear_1(inputs)
        x = tf.nn.relu(x)
        x = self.regularization(x)
        return self.linear_3(x)


def test_linear_with_weights_made_in_init():
    linear_layer = Linear(units=4, input_dim=2)
    y = linear_layer(tf.ones((2, 2)))
    assert y.shape == (2, 4)
    assert linear_layer.weights == [linear_layer.w, linear_layer.b]
    np.testing.assert_allclose(y.numpy(), np.ones((2, 2)) @ linear_layer.w.numpy())


def test_linear_with_weights_made_in_build():
    linear_layer = LazyLinear(4)
    y = linear_layer(tf.ones((2, 2)))
    assert y.shape == (2, 4)
    assert [w.shape for w in linear_layer.weights] == [(2, 4), (4,)]


def test_compute_sum_keeps_a_non_trainable_total():
    my_sum = ComputeSum(2)
    x = tf.ones((2, 2))
    y = my_sum(x)
    np.testing.assert_array_equal(y.numpy(), [2.0, 2.0])
    y = my_sum(x)
    np.testing.assert_array_equal(y.numpy(), [4.0, 4.0])
    assert my_sum.weights == [my_sum.total]
    assert my_sum.non_trainable_weights == [my_sum.total]
    assert my_sum.trainable_weights == []


def test_mlp_weights_are_tracked_recursively():
    mlp = MLP()
    mlp(tf.ones(shape=(3, 64)))
    assert len(mlp.weights) == 6
    assert [tuple(w.shape) for w in mlp.weights] == [(64, 32), (32,), (32, 32), (32,),
                                                      (32, 10), (10,)]


def test_losses_correspond_to_the_last_forward_pass():
    mlp = SparseMLP()
    mlp(tf.ones((10, 10)))
    assert len(mlp.losses) == 1
    mlp(tf.ones((10, 10)))
    assert len(mlp.losses) == 1  # No accumulation.
    hidden = tf.nn.relu(tf.matmul(tf.ones((10, 10)), mlp.linear_1.w) + mlp.linear_1.b)
    np.testing.assert_allclose(float(mlp.losses[0]), 1e-2 * float(tf.reduce_sum(hidden)),
                               rtol=1e-5)


def test_gradients_of_a_layer_and_its_losses_reach_the_trainable_weights():
    mlp = SparseMLP()
    x = tf.random.uniform((4, 6))
    with tf.GradientTape() as tape:
        logits = mlp(x)
        loss = tf.reduce_mean(tf.square(logits)) + sum(mlp.losses)
    gradients = tape.gradient(loss, mlp.trainable_weights)
    assert len(gradients) == 4 and all(g is not None for g in gradients)


def test_sequential_shorthand_and_compiled_call():
    mlp = keras.Sequential(
        [
            keras.layers.Dense(32, activation=tf.nn.relu),
            keras.layers.Dense(32, activation=tf.nn.relu),
            keras.layers.Dense(10),
        ]
    )
    x = tf.random.uniform((3, 784))

    @tf.function
    def forward(x):
        return mlp(x)

    np.testing.assert_allclose(forward(x).numpy(), mlp(x).numpy(), rtol=1e-5, atol=1e-6)
    assert len(mlp.weights) == 6
