"""tf.cond, tf.while_loop, tf.case, tf.switch_case: eagerly, in graphs, and their gradients."""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_grad


def graph(fn):
    return tf.function(fn, autograph=False)


def _grad_in_graph(fn):
    """A tf.function returning fn's value and its gradient, both computed inside the graph."""
    @graph
    def both(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
        return y, tape.gradient(y, x)
    return both


def _numeric(fn, x, eps=1e-6):
    x = np.asarray(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for i in range(x.size):
        plus, minus = x.copy(), x.copy()
        plus.reshape(-1)[i] += eps
        minus.reshape(-1)[i] -= eps
        grad.reshape(-1)[i] = (float(tf.reduce_sum(fn(tf.constant(plus)))) -
                               float(tf.reduce_sum(fn(tf.constant(minus))))) / (2 * eps)
    return grad


# -- cond -------------------------------------------------------------------------------------
def piecewise(x):
    return tf.cond(tf.reduce_sum(x) > 0, lambda: x * x * 3.0, lambda: tf.sin(x) - x)


@pytest.mark.parametrize("value", [[1.0, 2.0], [-1.0, -0.5]])
def test_cond_graph_equals_eager(value):
    x = tf.constant(value)
    np.testing.assert_allclose(graph(piecewise)(x).numpy(), piecewise(x).numpy(), rtol=1e-6)


def test_cond_builds_an_if_node_with_both_branches_traced():
    traced = []

    def f(x):
        return tf.cond(x > 0, lambda: traced.append("t") or x + 1, lambda: traced.append("f") or x - 1)

    concrete = graph(f).get_concrete_function(tf.constant(1.0))
    assert traced == ["t", "f"]
    assert "If" in [op.type for op in concrete.graph.get_operations()]
    assert float(concrete(tf.constant(-3.0))) == -4.0


def test_cond_structures_and_captures():
    outer = tf.constant([10.0, 20.0])

    @graph
    def f(x):
        return tf.cond(x > 0, lambda: {"a": x + outer, "b": (x, x * 2)},
                       lambda: {"a": outer - x, "b": (-x, x)})

    out = f(tf.constant(1.0))
    np.testing.assert_allclose(out["a"].numpy(), [11.0, 21.0])
    assert float(out["b"][1]) == 2.0
    out = f(tf.constant(-1.0))
    np.testing.assert_allclose(out["a"].numpy(), [11.0, 21.0])
    assert float(out["b"][0]) == 1.0


def test_cond_errors():
    with pytest.raises(ValueError, match="same number, type, and overall structure"):
        graph(lambda x: tf.cond(x > 0, lambda: (x, x), lambda: x))(tf.constant(1.0))
    with pytest.raises(TypeError, match="same dtypes"):
        graph(lambda x: tf.cond(x > 0, lambda: x, lambda: tf.cast(x, tf.int32)))(tf.constant(1.0))
    with pytest.raises(TypeError, match="callable"):
        tf.cond(True, 1, lambda: 2)


def test_cond_shapes_merge():
    @graph
    def f(x):
        return tf.cond(x[0] > 0, lambda: tf.concat([x, x], 0), lambda: x)

    concrete = f.get_concrete_function(tf.constant([1.0, 2.0]))
    assert concrete.structured_outputs.shape.as_list() == [None]
    assert f(tf.constant([1.0, 2.0])).shape == (4,)
    assert f(tf.constant([-1.0, 2.0])).shape == (2,)


@pytest.mark.parametrize("value", [[0.7, 1.3], [-0.4, -1.1]])
def test_cond_gradient_in_graph(value):
    y, g = _grad_in_graph(piecewise)(tf.constant(value, dtype=tf.float64))
    np.testing.assert_allclose(g.numpy(), _numeric(piecewise, value), rtol=1e-5)


@pytest.mark.parametrize("value", [[0.7, 1.3], [-0.4, -1.1]])
def test_cond_gradient_under_outer_tape_first_and_second_order(value):
    compiled = graph(piecewise)
    check_grad(compiled, np.array(value))
    check_grad(compiled, np.array(value), order=2)


def test_cond_gradient_reaches_variables():
    v = tf.Variable(2.0)

    @graph
    def grad(x):
        with tf.GradientTape() as tape:
            y = tf.cond(x > 0, lambda: v * x, lambda: v * v)
        return tape.gradient(y, v)

    assert float(grad(tf.constant(5.0))) == 5.0
    assert float(grad(tf.constant(-1.0))) == 4.0


def test_cond_branch_assigns_variable():
    v = tf.Variable(1.0)

    @graph
    def f(x):
        tf.cond(x > 0, lambda: v.assign_add(x).read_value(), lambda: v.assign(0.0).read_value())
        return v.read_value()

    assert float(f(tf.constant(2.0))) == 3.0
    assert float(f(tf.constant(-2.0))) == 0.0


# -- while_loop ------------------------------------------------------------------------------------
def test_while_loop_eager_and_graph_agree():
    def f(n):
        return tf.while_loop(lambda i, acc: i < n, lambda i, acc: (i + 1, acc + i * i),
                             (tf.constant(0), tf.constant(0)))

    for n in (0, 1, 7):
        eager = f(tf.constant(n))
        compiled = graph(f)(tf.constant(n))
        assert [int(t) for t in compiled] == [int(t) for t in eager] == [n, sum(i * i for i in range(n))]


def test_while_loop_nested_structure_and_single_variable():
    def f(x):
        state = {"x": x, "count": [tf.constant(0)]}
        out = tf.while_loop(lambda s: s["count"][0] < 3,
                            lambda s: {"x": s["x"] * 2.0, "count": [s["count"][0] + 1]}, [state])
        return out

    out = graph(f)(tf.constant([1.0, 3.0]))
    np.testing.assert_allclose(out[0]["x"].numpy(), [8.0, 24.0])
    assert int(out[0]["count"][0]) == 3
    single = graph(lambda x: tf.while_loop(lambda a: a < 100.0, lambda a: a * 3.0, x))
    assert float(single(tf.constant(2.0))) == 162.0


def test_while_loop_maximum_iterations():
    def f(m):
        return tf.while_loop(lambda i: True, lambda i: i + 1, [tf.constant(0)], maximum_iterations=m)

    assert int(graph(f)(tf.constant(5))[0]) == 5
    assert int(f(4)[0]) == 4


def test_while_loop_shape_invariants():
    def grow(x):
        return tf.while_loop(lambda a: tf.size(a) < 8, lambda a: tf.concat([a, a], 0), [x],
                             shape_invariants=[tf.TensorShape([None])])[0]

    out = graph(grow)(tf.constant([1.0]))
    np.testing.assert_allclose(out.numpy(), np.ones(8))
    with pytest.raises(ValueError, match="shape_invariants"):
        graph(lambda x: tf.while_loop(lambda a: tf.size(a) < 8, lambda a: tf.concat([a, a], 0),
                                      [x]))(tf.constant([1.0]))


def test_while_loop_errors():
    with pytest.raises(TypeError, match="type int32"):
        graph(lambda: tf.while_loop(lambda i: i < 3, lambda i: tf.cast(i, tf.float32) + 1.0,
                                    [tf.constant(0)]))()
    with pytest.raises(ValueError, match="nested structure"):
        graph(lambda: tf.while_loop(lambda i, j: i < 3, lambda i, j: (i + 1,),
                                    [tf.constant(0), tf.constant(1)]))()


def power_loop(x):
    """x ** 4 through a loop whose body multiplies by a captured tensor."""
    return tf.while_loop(lambda i, a: i < 3, lambda i, a: (i + 1, a * x), [0, x])[1]


def test_while_gradient_in_graph():
    y, g = _grad_in_graph(power_loop)(tf.constant([0.5, -1.5], dtype=tf.float64))
    np.testing.assert_allclose(y.numpy(), np.array([0.5, -1.5]) ** 4)
    np.testing.assert_allclose(g.numpy(), _numeric(power_loop, [0.5, -1.5]), rtol=1e-5)


def test_while_gradient_under_outer_tape():
    check_grad(graph(power_loop), np.array([0.8, 1.2, -0.3]))


def test_while_gradient_reaches_variables():
    w = tf.Variable(3.0)
    k = graph(lambda x: tf.while_loop(lambda i, a: i < 4, lambda i, a: (i + 1, a * w), [0, x])[1])
    with tf.GradientTape() as tape:
        out = k(tf.constant(1.0))
    assert float(out) == 81.0
    assert float(tape.gradient(out, w)) == 108.0


def test_while_body_assigns_variable_each_iteration():
    v = tf.Variable(1.0)

    @graph
    def f(n):
        tf.while_loop(lambda i: i < n, lambda i: (v.assign(v * 2.0) and i + 1,), [0])
        return v.read_value()

    assert float(f(tf.constant(3))) == 8.0
    assert float(v) == 8.0


def test_cond_inside_while_gradient():
    def f(x):
        def body(i, a):
            return i + 1, tf.cond(a > 1.0, lambda: a * 0.5, lambda: a * a + x)
        return tf.while_loop(lambda i, a: i < 4, body, [0, x])[1]

    for value in (0.3, 0.9, 1.7):
        y, g = _grad_in_graph(f)(tf.constant(value, dtype=tf.float64))
        np.testing.assert_allclose(float(y), float(f(tf.constant(value, dtype=tf.float64))))
        np.testing.assert_allclose(float(g), float(_numeric(f, value)), rtol=1e-5)


# -- case, switch_case --------------------------------------------------------------------------
def test_switch_case_eager_and_graph():
    fns = [lambda: tf.constant(10), lambda: tf.constant(20), lambda: tf.constant(30)]
    compiled = graph(lambda i: tf.switch_case(i, fns))
    for i, expected in [(0, 10), (1, 20), (2, 30), (7, 30), (-1, 30)]:
        assert int(tf.switch_case(tf.constant(i), fns)) == expected
        assert int(compiled(tf.constant(i))) == expected
    assert int(tf.switch_case(tf.constant(5), fns, default=lambda: tf.constant(-1))) == -1
    with pytest.raises(TypeError):
        tf.switch_case(tf.constant(1.0), fns)


def test_case_first_true_and_default():
    def f(x):
        return tf.case([(x > 10, lambda: tf.constant(1)), (x > 0, lambda: tf.constant(2))],
                       default=lambda: tf.constant(3))

    compiled = graph(f)
    for x, expected in [(20, 1), (5, 2), (-5, 3)]:
        assert int(f(tf.constant(x))) == expected
        assert int(compiled(tf.constant(x))) == expected
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.case([(tf.constant(True), lambda: 1), (tf.constant(True), lambda: 2)], exclusive=True)


def test_cond_branches_run_for_their_side_effects_return_none():
    v = tf.Variable(1.0)

    @tf.function
    def step(x):
        def up():
            v.assign_add(1.0)

        def down():
            v.assign_sub(1.0)
        assert tf.cond(x > 0, up, down) is None
        return v.read_value()
    assert float(step(tf.constant(1.0))) == 2.0
    assert float(step(tf.constant(-1.0))) == 1.0

    @tf.function
    def mixed(x):
        return tf.cond(x > 0, lambda: None, lambda: x)
    with pytest.raises(ValueError, match="both return None"):
        mixed(tf.constant(1.0))
