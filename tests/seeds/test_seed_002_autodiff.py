"""Seed 002: 使用自动微分计算梯度."""
import numpy as np
import pytest

import tensorweave as tf


def f(w1, w2):
    return 3 * w1 ** 2 + 2 * w1 * w2


def test_finite_difference_approximation():
    w1, w2 = 5, 3
    eps = 1e-6
    assert abs((f(w1 + eps, w2) - f(w1, w2)) / eps - 36) < 1e-3
    assert abs((f(w1, w2 + eps) - f(w1, w2)) / eps - 10) < 1e-3


def test_log_sin_example():
    w1 = tf.Variable(2.)
    w2 = tf.Variable(5.)

    def f_(w1, w2):
        return tf.math.log(w1) + w1 * w2 - tf.math.sin(w2)

    with tf.GradientTape() as tape:
        z = f_(w1, w2)
    gradients = tape.gradient(z, [w1, w2])
    np.testing.assert_allclose(gradients[0].numpy(), 1 / 2 + 5, rtol=1e-6)
    np.testing.assert_allclose(gradients[1].numpy(), (2 - tf.math.cos(5.)).numpy(), rtol=1e-6)


def test_reverse_mode_gradients_36_10():
    w1, w2 = tf.Variable(5.), tf.Variable(3.)
    with tf.GradientTape() as tape:
        z = f(w1, w2)
    gradients = tape.gradient(z, [w1, w2])
    assert [g.numpy() for g in gradients] == [36.0, 10.0]


def test_tape_is_erased_after_gradient():
    w1, w2 = tf.Variable(5.), tf.Variable(3.)
    with tf.GradientTape() as tape:
        z = f(w1, w2)
    tape.gradient(z, w1)
    with pytest.raises(RuntimeError):
        tape.gradient(z, w2)
    with tf.GradientTape(persistent=True) as tape:
        z = f(w1, w2)
    assert tape.gradient(z, w1).numpy() == 36.0 and tape.gradient(z, w2).numpy() == 10.0
    del tape


def test_constants_need_watch():
    c1, c2 = tf.constant(5.), tf.constant(3.)
    with tf.GradientTape() as tape:
        z = f(c1, c2)
    assert tape.gradient(z, [c1, c2]) == [None, None]
    with tf.GradientTape() as tape:
        tape.watch(c1)
        tape.watch(c2)
        z = f(c1, c2)
    assert [g.numpy() for g in tape.gradient(z, [c1, c2])] == [36.0, 10.0]


def test_vector_targets_sum_and_jacobian():
    w1, w2 = tf.Variable(5.), tf.Variable(3.)
    with tf.GradientTape() as tape:
        z1 = f(w1, w2 + 2.)
        z2 = f(w1, w2 + 5.)
        z3 = f(w1, w2 + 7.)
    summed = [g.numpy() for g in tape.gradient([z1, z2, z3], [w1, w2])]
    with tf.GradientTape() as tape:
        z = f(w1, w2 + 2.) + f(w1, w2 + 5.) + f(w1, w2 + 7.)
    assert summed == [g.numpy() for g in tape.gradient(z, [w1, w2])] == [136.0, 30.0]
    with tf.GradientTape() as tape:
        z1 = f(w1, w2 + 2.)
        z2 = f(w1, w2 + 5.)
        z3 = f(w1, w2 + 7.)
        y = tf.stack((z1, z2, z3))
    jac = tape.jacobian(y, [w1, w2])
    assert jac[0].numpy().tolist() == [40., 46., 50.] and jac[1].numpy().tolist() == [10., 10., 10.]


def test_stop_gradient_blocks_backprop():
    w1, w2 = tf.Variable(5.), tf.Variable(3.)

    def g(w1, w2):
        return 3 * w1 ** 2 + tf.stop_gradient(2 * w1 * w2)

    with tf.GradientTape() as tape:
        z = g(w1, w2)
    gradients = tape.gradient(z, [w1, w2])
    assert gradients[0].numpy() == 30.0 and gradients[1] is None


def test_sqrt_gradient_at_1e_50_is_inf_and_the_fix():
    x = tf.Variable(1e-50)
    assert x.numpy() == 0.0  # 1e-50 underflows float32, as the notes print
    with tf.GradientTape() as tape:
        z = tf.sqrt(x)
    assert np.isinf(tape.gradient(z, [x])[0].numpy())
    with tf.GradientTape() as tape:
        z = tf.sqrt(x + 1e-6)
    np.testing.assert_allclose(tape.gradient(z, [x])[0].numpy(), 500.0, rtol=1e-4)


def test_naive_softplus_overflows_stable_one_does_not():
    assert np.isinf(tf.math.log(1.0 + tf.exp(100.0)).numpy())

    def my_softplus(z):
        return tf.math.log(1 + tf.exp(-tf.abs(z))) + tf.maximum(0., z)

    np.testing.assert_allclose(my_softplus(tf.constant(100.0)).numpy(), 100.0)


def test_custom_gradient_softplus_at_1000():
    @tf.custom_gradient
    def my_softplus(z):
        def my_softplus_gradients(grads):
            return grads * (1 - 1 / (1 + tf.exp(z)))
        result = tf.math.log(1 + tf.exp(-tf.abs(z))) + tf.maximum(0., z)
        return result, my_softplus_gradients

    x = tf.Variable([1000.])
    with tf.GradientTape() as tape:
        z = my_softplus(x)
    assert z.numpy().tolist() == [1000.0]
    assert tape.gradient(z, [x])[0].numpy().tolist() == [1.0]


def test_custom_gradient_exercise_matches_tensorflow_own_gradient():
    @tf.custom_gradient
    def my_gongshi(z):
        def my_gongshis_gradients(grads):
            return grads * (-1 / (2 * tf.sqrt(z) * tf.exp(tf.sqrt(z))))
        return 1 / tf.exp(tf.sqrt(z)), my_gongshis_gradients

    x = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        custom = my_gongshi(x)
        own = 1 / tf.exp(tf.sqrt(x))
    np.testing.assert_allclose(tape.gradient(custom, x).numpy(), tape.gradient(own, x).numpy(),
                               rtol=1e-6)
