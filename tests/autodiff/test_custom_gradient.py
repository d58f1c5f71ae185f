import numpy as np
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


# -- behaviours checked against TensorFlow 2.21 --

def test_nested_arguments_each_get_a_gradient():
    @tf.custom_gradient
    def product(xs):
        return xs[0] * xs[1], lambda dy: [dy * 2.0, dy * 3.0]

    x, y = tf.constant(3.0), tf.constant(4.0)
    with tf.GradientTape() as tape:
        tape.watch([x, y])
        z = product([x, y])
    assert [g.numpy() for g in tape.gradient(z, [x, y])] == [2.0, 3.0]


def test_custom_gradient_on_a_method():
    class Scale:
        factor = 2.0

        @tf.custom_gradient
        def apply(self, x):
            return x * self.factor, lambda dy: dy * 10.0

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = Scale().apply(x)
    assert y.numpy() == 6.0 and tape.gradient(y, x).numpy() == 10.0


def test_variables_come_to_grad_fn_in_creation_order():
    v, w = tf.Variable(2.0, name="v"), tf.Variable(5.0, name="w")

    @tf.custom_gradient
    def f(x):
        def grad(dy, variables):
            return dy, [dy * 1.0, dy * 2.0]
        return x * w * v, grad  # w is read first

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    assert [g.numpy() for g in tape.gradient(y, [x, v, w])] == [1.0, 1.0, 2.0]


def test_variable_gradient_count_is_checked():
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def f(x):
        return x * v, lambda dy, variables: (dy, [])

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    with pytest.raises(ValueError, match=r"Must return gradient for each variable from @custom_gradient grad_fn\.$"):
        tape.gradient(y, [x, v])


def test_recompute_grad_keeps_values_and_gradients():
    v = tf.Variable(2.0)
    block = tf.recompute_grad(lambda x: tf.sin(x) * v)
    x = tf.constant(0.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = block(x)
    gx, gv = tape.gradient(y, [x, v])
    np.testing.assert_allclose([y.numpy(), gx.numpy(), gv.numpy()],
                               [np.sin(0.5) * 2.0, np.cos(0.5) * 2.0, np.sin(0.5)], rtol=1e-6)
