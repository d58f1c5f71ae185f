"""tf.Variable inside tf.function: created on the first trace only, reads and writes in program
order, gradients of tapes inside the function and of an outer tape around it.

(Named test_function_variables.py: tests/framework/test_variables.py has the plain name, and the
test folders are not packages.) Trace counts are TensorFlow 2.21's; values are checked against the
eager run of the same Python function, or against finite differences.
"""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_grad
from tensorweave.errors import InvalidArgumentError

_SINGLETON = "only supports singleton tf.Variables created on the first call"


# -- creation -------------------------------------------------------------------------------------
def test_variable_created_on_the_first_call_traces_twice_then_never_again():
    created = []

    class Model:
        def __init__(self):
            self.v = None

        @tf.function
        def __call__(self, x):
            if self.v is None:
                created.append(1)
                self.v = tf.Variable(3.0)
            return self.v * x

    m = Model()
    assert float(m(tf.constant(2.0))) == 6.0
    assert m.__call__.experimental_get_tracing_count() == 2
    assert float(m(tf.constant(4.0))) == 12.0
    assert m.__call__.experimental_get_tracing_count() == 2
    np.testing.assert_array_equal(m(tf.constant([1.0, 2.0])).numpy(), [3.0, 6.0])
    assert m.__call__.experimental_get_tracing_count() == 3  # a new shape: no variable made
    assert created == [1] and float(m.v.numpy()) == 3.0


def test_variable_whose_initial_value_depends_on_the_arguments():
    class Model:
        def __init__(self):
            self.v = None

        @tf.function
        def __call__(self, x):
            if self.v is None:
                self.v = tf.Variable(tf.ones_like(x) * 2.0)
            return self.v * x

    m = Model()
    np.testing.assert_array_equal(m(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    np.testing.assert_array_equal(m(tf.constant([3.0, 4.0])).numpy(), [6.0, 8.0])
    assert m.__call__.experimental_get_tracing_count() == 2


def test_variable_created_at_every_call_is_an_error():
    @tf.function
    def f(x):
        v = tf.Variable(1.0)
        return v + x

    with pytest.raises(ValueError, match=_SINGLETON):
        f(tf.constant(1.0))


def test_variable_created_by_a_later_trace_is_an_error():
    made = []

    @tf.function
    def f(x):
        if x.shape.rank == 0 and not made:
            made.append(tf.Variable(1.0))
        elif x.shape.rank == 1:
            made.append(tf.Variable(2.0))
        return x + made[0]

    assert float(f(tf.constant(1.0))) == 2.0
    assert f.experimental_get_tracing_count() == 2
    with pytest.raises(ValueError, match=_SINGLETON):
        f(tf.constant([1.0]))


def test_concrete_function_lists_its_variables():
    v = tf.Variable(1.0)
    w = tf.Variable(2.0, trainable=False)

    @tf.function
    def f(x):
        v.assign_add(x)
        return v.read_value() * w

    cf = f.get_concrete_function(tf.TensorSpec([], tf.float32))
    assert {id(x) for x in cf.variables} == {id(v), id(w)}
    assert [id(x) for x in cf.trainable_variables] == [id(v)]
    types = [op.type for op in cf.graph.get_operations()]
    assert types.index("AssignAddVariableOp") < types.index("ReadVariableOp")
    assert float(v.numpy()) == 1.0  # tracing ran nothing
    assert float(f(tf.constant(2.0))) == 6.0 and float(v.numpy()) == 3.0


# -- reads and writes in order --------------------------------------------------------------------
def _updates(v, x):
    a = v.read_value()
    v.assign(v * x)
    b = v.read_value()
    v.assign_add([1.0, 1.0, 1.0])
    c = v.read_value()
    v.assign_sub(tf.constant([0.5, 0.5, 0.5]))
    v.scatter_nd_update([[0]], [100.0])
    d = tf.identity(v)
    v.scatter_nd_add([[1], [1]], [10.0, 20.0])
    return a, b, c, d


def test_assigns_run_in_order_and_reads_see_earlier_writes():
    v = tf.Variable([1.0, 2.0, 3.0])
    f = tf.function(lambda x: _updates(v, x))
    oracle = tf.Variable([1.0, 2.0, 3.0])
    for step in range(3):
        got = f(tf.constant(2.0))
        want = _updates(oracle, tf.constant(2.0))  # the same Python code, eagerly
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g.numpy(), w.numpy())
        np.testing.assert_array_equal(v.numpy(), oracle.numpy())
    np.testing.assert_array_equal(v.numpy(), [100.0, 229.5, 27.5])  # TensorFlow's value
    assert f.experimental_get_tracing_count() == 1


def test_sliced_assign_inside_a_graph():
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])

    @tf.function
    def f(x):
        v[0, 1].assign(x)
        v[1].assign([7.0, 8.0])
        return v.read_value()

    np.testing.assert_array_equal(f(tf.constant(5.0)).numpy(), [[1.0, 5.0], [7.0, 8.0]])
    np.testing.assert_array_equal(v.numpy(), [[1.0, 5.0], [7.0, 8.0]])


def test_counter_variable_counts_calls():
    counter = tf.Variable(0)

    @tf.function
    def step():
        counter.assign_add(1)
        return counter.read_value()

    assert [int(step()) for _ in range(3)] == [1, 2, 3]
    assert int(counter.numpy()) == 3 and step.experimental_get_tracing_count() == 1


def test_failed_update_in_a_graph_raises_when_run():
    v = tf.Variable([1.0, 2.0])

    @tf.function
    def f(i):
        v.scatter_nd_update(tf.reshape(i, [1, 1]), [9.0])
        return v.read_value()

    np.testing.assert_array_equal(f(tf.constant(1)).numpy(), [1.0, 9.0])
    with pytest.raises(InvalidArgumentError):
        f(tf.constant(7))
    np.testing.assert_array_equal(v.numpy(), [1.0, 9.0])


# -- gradients ------------------------------------------------------------------------------------
def _train_step(w, b, x, y, lr):
    with tf.GradientTape() as tape:
        pred = tf.matmul(x, w) + b
        loss = tf.reduce_mean((pred - y) ** 2)
    gw, gb = tape.gradient(loss, [w, b])
    w.assign_sub(lr * gw)
    b.assign_sub(lr * gb)
    return loss


def test_gradient_tape_inside_tf_function_and_optimizer_step():
    init_w, init_b = [[1.0, 2.0], [3.0, 4.0]], [0.5, -0.5]
    w, b = tf.Variable(init_w), tf.Variable(init_b)
    ew, eb = tf.Variable(init_w), tf.Variable(init_b)
    step = tf.function(lambda x, y, lr: _train_step(w, b, x, y, lr))
    x = tf.constant([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = tf.constant([[1.0, 1.0], [2.0, 0.0], [0.0, 3.0]])
    for _ in range(3):
        loss = step(x, y, 0.1)
        eager_loss = _train_step(ew, eb, x, y, 0.1)
        np.testing.assert_allclose(loss.numpy(), eager_loss.numpy(), rtol=1e-6)
        np.testing.assert_allclose(w.numpy(), ew.numpy(), rtol=1e-6)
        np.testing.assert_allclose(b.numpy(), eb.numpy(), rtol=1e-6)
    assert step.experimental_get_tracing_count() == 1
    # TensorFlow's values after three steps
    np.testing.assert_allclose(loss.numpy(), 3.7374992, rtol=1e-6)
    np.testing.assert_allclose(w.numpy(), [[0.59033334, 1.7776667], [2.4936295, 3.4875555]],
                               rtol=1e-6)


def test_outer_tape_differentiates_a_tf_function_wrt_variables_and_tensors():
    w = tf.Variable(2.0)
    f = tf.function(lambda x: tf.sin(x * w) + x ** 2)
    x = tf.constant(0.5)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = f(x)
    gx, gw = tape.gradient(y, [x, w])
    with tf.GradientTape() as tape:
        tape.watch(x)
        ey = f.python_function(x)
    ex, ew = tape.gradient(ey, [x, w])
    assert float(y) == pytest.approx(float(ey))
    assert float(gx) == pytest.approx(float(ex)) and float(gw) == pytest.approx(float(ew))
    assert float(gx) == pytest.approx(np.cos(1.0) * 2.0 + 1.0, rel=1e-6)
    assert float(gw) == pytest.approx(np.cos(1.0) * 0.5, rel=1e-6)


def test_outer_tape_gradient_of_a_tf_function_matches_finite_differences():
    w = tf.Variable(np.array([[0.3, -0.2], [0.1, 0.4]]))

    @tf.function
    def f(x):
        return tf.tanh(tf.matmul(x, w)) * x

    check_grad(f, np.array([[0.5, -1.0], [2.0, 0.25]]))
    assert f.experimental_get_tracing_count() >= 1


def test_tf_function_calling_tf_function_with_variables():
    scale = tf.Variable(3.0)

    @tf.function
    def inner(x):
        scale.assign_add(1.0)
        return x * scale

    @tf.function
    def outer(x):
        return inner(x) + inner(x)

    # scale 3 -> 4: x * 4; 4 -> 5: x * 5
    assert float(outer(tf.constant(1.0))) == 9.0
    assert float(scale.numpy()) == 5.0
    with tf.GradientTape() as tape:
        y = outer(tf.constant(2.0))  # scale 5 -> 6 -> 7: 2 * 6 + 2 * 7
    assert float(y) == 26.0
    assert float(tape.gradient(y, scale)) == 4.0
