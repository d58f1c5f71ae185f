"""Seed 003 items 1-5 (Keras 官方 intro) and seed 000 chapters 2-3 notes."""
import numpy as np

import tensorweave as tf


def test_constants_ones_zeros_and_variable_updates():
    x = tf.constant([[5, 2], [1, 3]])
    assert x.numpy().tolist() == [[5, 2], [1, 3]] and x.dtype is tf.int32
    assert tf.ones(shape=(2, 1)).numpy().tolist() == [[1.0], [1.0]]
    assert tf.zeros(shape=(2, 1)).numpy().tolist() == [[0.0], [0.0]]
    initial_value = tf.random.normal(shape=(2, 2))
    a = tf.Variable(initial_value)
    new_value = tf.random.normal(shape=(2, 2))
    a.assign(new_value)
    np.testing.assert_array_equal(a.numpy(), new_value.numpy())
    added_value = tf.random.normal(shape=(2, 2))
    a.assign_add(added_value)
    np.testing.assert_allclose(a.numpy(), new_value.numpy() + added_value.numpy(), rtol=1e-6)
    a.assign_sub(added_value)
    np.testing.assert_allclose(a.numpy(), new_value.numpy(), rtol=1e-6, atol=1e-6)


def test_first_and_second_derivatives_of_hypotenuse():
    a = tf.random.normal(shape=(2, 2))
    b = tf.random.normal(shape=(2, 2))
    with tf.GradientTape() as tape:
        tape.watch(a)
        c = tf.sqrt(tf.square(a) + tf.square(b))
        dc_da = tape.gradient(c, a)
    np.testing.assert_allclose(dc_da.numpy(), (a / c).numpy(), rtol=1e-5)
    with tf.GradientTape() as outer_tape:
        outer_tape.watch(a)
        with tf.GradientTape() as tape:
            tape.watch(a)
            c = tf.sqrt(tf.square(a) + tf.square(b))
            dc_da = tape.gradient(c, a)
        d2c_da2 = outer_tape.gradient(dc_da, a)
    expected = (b * b / (c * c * c)).numpy()
    np.testing.assert_allclose(d2c_da2.numpy(), expected, rtol=1e-4)


def test_chapter_3_variables_and_gradients():
    v = tf.Variable(initial_value=tf.random.normal(shape=(3, 1)))
    v.assign(tf.ones((3, 1)))
    v[0, 0].assign(3.)
    v.assign_add(tf.ones((3, 1)))
    assert v.numpy().tolist() == [[4.0], [2.0], [2.0]]
    input_var = tf.Variable(initial_value=3.)
    with tf.GradientTape() as tape:
        result = tf.square(input_var)
    assert tape.gradient(result, input_var).numpy() == 6.0
    input_const = tf.constant(3.)
    with tf.GradientTape() as tape:
        tape.watch(input_const)
        result = tf.square(input_const)
    assert tape.gradient(result, input_const).numpy() == 6.0


def test_chapter_3_acceleration_is_9_8():
    time = tf.Variable(0.)
    with tf.GradientTape() as outer_tape:
        with tf.GradientTape() as inner_tape:
            position = 4.9 * time ** 2
        speed = inner_tape.gradient(position, time)
    acceleration = outer_tape.gradient(speed, time)
    np.testing.assert_allclose(acceleration.numpy(), 9.8, rtol=1e-6)


def test_chapter_2_naive_dense_training_step_reduces_the_loss():
    class NaiveDense:
        def __init__(self, input_size, output_size, activation):
            self.activation = activation
            self.W = tf.Variable(tf.random.uniform((input_size, output_size), minval=0, maxval=1e-1))
            self.b = tf.Variable(tf.zeros((output_size,)))

        def __call__(self, inputs):
            return self.activation(tf.matmul(inputs, self.W) + self.b)

        @property
        def weights(self):
            return [self.W, self.b]

    class NaiveSequential:
        def __init__(self, layers):
            self.layers = layers

        def __call__(self, inputs):
            x = inputs
            for layer in self.layers:
                x = layer(x)
            return x

        @property
        def weights(self):
            return [w for layer in self.layers for w in layer.weights]

    tf.random.set_seed(3)
    model = NaiveSequential([NaiveDense(28 * 28, 32, tf.nn.relu), NaiveDense(32, 10, tf.nn.softmax)])
    assert len(model.weights) == 4
    images = tf.random.uniform((64, 28 * 28))
    labels = tf.constant(np.arange(64) % 10)

    def loss_of(predictions):
        picked = tf.gather(predictions, labels, batch_dims=1)
        return tf.reduce_mean(-tf.math.log(picked))

    learning_rate = 1e-3
    losses = []
    for _ in range(10):
        with tf.GradientTape() as tape:
            average_loss = loss_of(model(images))
        gradients = tape.gradient(average_loss, model.weights)
        for g, w in zip(gradients, model.weights):
            w.assign_sub(g * learning_rate)
        losses.append(float(average_loss))
    assert losses[-1] < losses[0]
