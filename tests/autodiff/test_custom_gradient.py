import numpy as np
import pytest

import tensorweave as tf


@tf.custom_gradient
def my_softplus(z):
    def my_softplus_gradients(grads):
        return grads * (1 - 1 / (1 + tf.exp(z)))
    result = tf.math.log(1 + tf.exp(-tf.abs(z))) + tf.maximum(0., z)
    return result, my_softplus_gradients


def test_seed_002_custom_softplus_is_stable_at_1000():
    x = tf.Variable([1000.])
    with tf.GradientTape() as tape:
        z = my_softplus(x)
    (g,) = tape.gradient(z, [x])
    assert z.numpy().tolist() == [1000.0]
    assert g.numpy().tolist() == [1.0]


def test_custom_gradient_replaces_the_derived_one():
    @tf.custom_gradient
    def clip_grad_identity(x):
        return tf.identity(x), lambda dy: dy * 0.5
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = clip_grad_identity(x) * 4.0
    assert tape.gradient(y, x).numpy() == 2.0
    assert clip_grad_identity(tf.constant(2.0)).numpy() == 2.0


def test_custom_gradient_matches_autodiff():
    @tf.custom_gradient
    def my_formula(z):
        def grads_fn(grads):
            return grads * (-1 / (2 * tf.sqrt(z) * tf.exp(tf.sqrt(z))))
        return 1 / tf.exp(tf.sqrt(z)), grads_fn
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        custom = my_formula(x)
        derived = 1 / tf.exp(tf.sqrt(x))
    np.testing.assert_allclose(tape.gradient(custom, x).numpy(), tape.gradient(derived, x).numpy(),
                               rtol=1e-6)


def test_custom_gradient_with_variables():
    w = tf.Variable(2.0)

    @tf.custom_gradient
    def scaled(x):
        def grad(dy, variables=None):
            assert variables == [w] or variables[0] is w
            return dy * w, [dy * x * 10.0]
        return x * w, grad

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = scaled(x)
    gx, gw = tape.gradient(y, [x, w])
    assert gx.numpy() == 2.0 and gw.numpy() == 30.0


def test_grad_fn_must_accept_variables_when_variables_are_used():
    w = tf.Variable(2.0)

    @tf.custom_gradient
    def scaled(x):
        return x * w, lambda dy: dy * w

    with tf.GradientTape() as tape:
        with pytest.raises(TypeError, match="variables"):
            scaled(tf.constant(1.0))


def test_second_order_through_custom_gradient():
    @tf.custom_gradient
    def cube(x):
        return x * x * x, lambda dy: dy * 3.0 * x * x
    x = tf.constant(2.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = cube(x)
        dy = inner.gradient(y, x)
    assert dy.numpy() == 12.0 and outer.gradient(dy, x).numpy() == 12.0
