"""Seed 001, chapter 1 sections 1-2 (数据操作, 求梯度) and the linear-regression example."""
import re

import numpy as np

import tensorweave as tf


def test_creating_and_reshaping_tensors():
    x = tf.constant(range(12))
    assert x.shape == (12,) and x.dtype is tf.int32
    assert tf.zeros(()).shape == () and tf.ones(()).numpy() == 1.0
    assert tf.constant([[]]).shape == (1, 0)
    r = tf.random.normal(shape=[3, 4], mean=0, stddev=1)
    assert r.shape == (3, 4) and r.dtype is tf.float32
    for shape in ((3, 4), (-1, 4), (3, -1)):
        X = tf.reshape(x, shape)
        assert X.shape == (3, 4)
        np.testing.assert_array_equal(X.numpy(), np.arange(12).reshape(3, 4))
    assert tf.Variable(5).numpy() == 5


def test_operations_broadcasting_and_indexing():
    X = tf.reshape(tf.constant(range(12), dtype=tf.float32), (3, 4))
    Y = tf.constant([[2., 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
    np.testing.assert_array_equal((X + Y).numpy(), X.numpy() + Y.numpy())
    np.testing.assert_array_equal((X * Y).numpy(), X.numpy() * Y.numpy())
    np.testing.assert_allclose((X / Y).numpy(), X.numpy() / Y.numpy())
    np.testing.assert_allclose(tf.exp(Y).numpy(), np.exp(Y.numpy()), rtol=1e-6)
    np.testing.assert_array_equal(tf.transpose(X).numpy(), X.numpy().T)
    assert tf.cast(X, tf.int32).dtype is tf.int32
    np.testing.assert_array_equal(tf.matmul(X, tf.transpose(Y)).numpy(), X.numpy() @ Y.numpy().T)
    assert tf.concat([X, Y], axis=0).shape == (6, 4) and tf.concat([X, Y], axis=1).shape == (3, 8)
    np.testing.assert_array_equal(tf.equal(X, Y).numpy(), X.numpy() == Y.numpy())
    assert tf.reduce_sum(X).numpy() == 66.0
    np.testing.assert_allclose(tf.norm(X).numpy(), np.linalg.norm(X.numpy()), rtol=1e-6)
    A = tf.reshape(tf.constant(range(3)), (3, 1))
    B = tf.reshape(tf.constant(range(2)), (1, 2))
    np.testing.assert_array_equal((A + B).numpy(), [[0, 1], [1, 2], [2, 3]])
    np.testing.assert_array_equal(X[1:3].numpy(), X.numpy()[1:3])
    V = tf.Variable(X)
    V[1, 2].assign(9)
    assert V.numpy()[1, 2] == 9
    V.assign_add(Y)
    np.testing.assert_array_equal(V.numpy(), np.where(np.arange(12).reshape(3, 4) == 6, 9, X.numpy())
                                  + Y.numpy())


def test_tensor_numpy_conversion():
    P = np.ones((2, 3))
    D = tf.constant(P)
    assert D.dtype is tf.float64
    np.testing.assert_array_equal(np.array(D), P)


def test_gradient_of_2_xT_x():
    x = tf.reshape(tf.Variable(range(4), dtype=tf.float32), (4, 1))
    with tf.GradientTape() as t:
        t.watch(x)
        y = 2 * tf.matmul(tf.transpose(x), x)
    dy_dx = t.gradient(y, x)
    np.testing.assert_array_equal(dy_dx.numpy(), [[0.], [4.], [8.], [12.]])


def test_persistent_tape_108_and_6():
    x = tf.constant(3.0)
    with tf.GradientTape(persistent=True) as g:
        g.watch(x)
        y = x * x
        z = y * y
        dz_dx = g.gradient(z, x)
        dy_dx = g.gradient(y, x)
    assert dz_dx.numpy() == 108.0 and dy_dx.numpy() == 6.0


def test_gradient_through_control_flow_equals_c_over_a():
    def f(a):
        b = a * 2
        while tf.norm(b) < 1000:
            b = b * 2
        if tf.reduce_sum(b) > 0:
            c = b
        else:
            c = 100 * b
        return c

    tf.random.set_seed(1)
    a = tf.random.normal((1, 1), dtype=tf.float32)
    with tf.GradientTape() as t:
        t.watch(a)
        c = f(a)
    assert bool(tf.reduce_all(t.gradient(c, a) == c / a))


def test_two_ways_to_cut_a_dependency_both_give_one():
    x = tf.Variable(4.0)
    with tf.GradientTape() as g:
        g.watch(x)
        with g.stop_recording():
            y = x * x
        z = x + y
    assert g.gradient(z, x).numpy() == 1.0
    s = tf.Variable(4.0)
    with tf.GradientTape() as g:
        g.watch(s)
        x = tf.identity(s)
        y = s * s
        z = x + y
    assert g.gradient(z, x).numpy() == 1.0


def test_linear_regression_learns_the_true_parameters(capsys):
    from tests.seeds import seed001_linear_regression
    seed001_linear_regression.main()
    out = capsys.readouterr().out
    losses = [float(v) for v in re.findall(r"epoch \d, loss ([0-9.e-]+)", out)]
    assert len(losses) == 9 and losses[2] < 1e-3 and losses[0] > losses[2]
    # the tf.function run starts from the same parameters and batches: the same losses
    np.testing.assert_allclose(losses[3:6], losses[:3], rtol=1e-4)
    # the tf.data run shuffles differently: it learns as well
    assert losses[8] < 1e-3 and losses[6] > losses[8]
    assert "compiled with tf.function" in out and "from a tf.data pipeline" in out
    assert "<tf.Variable 'Variable:0' shape=(2, 1) dtype=float32, numpy=" in out
    numbers = [float(v) for v in re.findall(r"\[\s*(-?[0-9.]+)\s*\]", out.split("[2, -3.4]")[1])]
    np.testing.assert_allclose(numbers[:2], [2.0, -3.4], atol=0.01)
    np.testing.assert_allclose(float(out.split("4.2 <tf.Variable")[1].split("array([")[1].split("]")[0]),
                               4.2, atol=0.01)
