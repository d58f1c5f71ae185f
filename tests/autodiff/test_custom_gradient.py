import pytest

import tensorweave as tf


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

    with tf.GradientTape():
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
