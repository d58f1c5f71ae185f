"""Seed 002: TensorFlow函数和图 (tf.function, tracing, input_signature, the TF function rules).

The code of the notes, run as written; the printed lines and trace counts are what TensorFlow
2.21 gives for it. (The AutoGraph example, sum_even_linear_graph, belongs to the AutoGraph and
control-flow tests.)
"""
import sys

import numpy as np
import pytest

import tensorweave as tf


def cube(x):
    return x ** 3


def test_cube_python_and_tensor():
    assert cube(2) == 8
    out = cube(tf.constant(2.0))
    assert tf.is_tensor(out) and out.dtype == tf.float32 and float(out) == 8.0
    tf_cube = tf.function(cube)
    assert float(tf_cube(tf.constant(2.0))) == 8.0
    assert tf_cube.python_function is cube


def test_tf_cube_traces_per_new_shape_dtype_and_python_value(capsys):
    @tf.function
    def tf_cube(x):
        print(f"x = {x}")
        return x ** 3

    assert tf_cube.python_function(2) == 8  # the original Python function: no trace
    assert capsys.readouterr().out == "x = 2\n"
    assert tf_cube.experimental_get_tracing_count() == 0

    result = tf_cube(tf.constant(2.0))  # traces
    assert float(result) == 8.0
    result = tf_cube(2)  # traces
    assert np.asarray(result) == 8
    result = tf_cube(3)  # traces
    assert np.asarray(result) == 27
    result = tf_cube(tf.constant([[1., 2.]]))  # traces
    np.testing.assert_array_equal(result.numpy(), [[1.0, 8.0]])
    result = tf_cube(tf.constant([[3., 4.], [5., 6.]]))  # traces
    np.testing.assert_array_equal(result.numpy(), [[27.0, 64.0], [125.0, 216.0]])
    result = tf_cube(tf.constant([[7., 8.], [9., 10.]]))  # same shape: no new graph
    np.testing.assert_array_equal(result.numpy(), [[343.0, 512.0], [729.0, 1000.0]])
    assert tf_cube.experimental_get_tracing_count() == 5
    assert capsys.readouterr().out == (
        'x = Tensor("x:0", shape=(), dtype=float32)\n'
        "x = 2\n"
        "x = 3\n"
        'x = Tensor("x:0", shape=(1, 2), dtype=float32)\n'
        'x = Tensor("x:0", shape=(2, 2), dtype=float32)\n')

    # an int32 scalar graph, reused for another int32 scalar, then a new one for shape [2]
    tf_cube(tf.constant(10))
    assert int(tf_cube(tf.constant(20))) == 8000
    np.testing.assert_array_equal(tf_cube(tf.constant([10, 20])).numpy(), [1000, 8000])
    assert tf_cube.experimental_get_tracing_count() == 7
    tf_cube(2)  # a Python value seen before: its graph is reused
    assert tf_cube.experimental_get_tracing_count() == 7
    assert capsys.readouterr().out == ('x = Tensor("x:0", shape=(), dtype=int32)\n'
                                       'x = Tensor("x:0", shape=(2,), dtype=int32)\n')


def test_shrink_with_input_signature(capsys):
    @tf.function(input_signature=[tf.TensorSpec([None, 28, 28], tf.float32)])
    def shrink(images):
        print("Tracing", images)
        return images[:, ::2, ::2]

    img_batch_1 = tf.random.uniform(shape=[100, 28, 28])
    img_batch_2 = tf.random.uniform(shape=[50, 28, 28])
    preprocessed_images = shrink(img_batch_1)  # traces
    np.testing.assert_array_equal(preprocessed_images.numpy(), img_batch_1.numpy()[:, ::2, ::2])
    preprocessed_images = shrink(img_batch_2)  # no new trace
    np.testing.assert_array_equal(preprocessed_images.numpy(), img_batch_2.numpy()[:, ::2, ::2])
    assert shrink.experimental_get_tracing_count() == 1
    assert capsys.readouterr().out == (
        'Tracing Tensor("images:0", shape=(None, 28, 28), dtype=float32)\n')
    cf = shrink.get_concrete_function()
    assert cf.structured_outputs.shape.as_list() == [None, 14, 14]

    img_batch_3 = tf.random.uniform(shape=[2, 2, 2])
    with pytest.raises(TypeError, match="Binding inputs to tf.function failed"):
        shrink(img_batch_3)  # not compatible with the input_signature
    assert shrink.experimental_get_tracing_count() == 1


def test_rule_external_libraries_run_only_while_tracing():
    @tf.function
    def numpy_random(x):
        return x + np.random.rand()

    @tf.function
    def tf_random(x):
        return x + tf.random.uniform([])

    zero = tf.constant(0.0)
    a, b = numpy_random(zero), numpy_random(zero)
    assert float(a) == float(b)  # drawn once, while tracing
    draws = {float(tf_random(zero)) for _ in range(5)}
    assert len(draws) == 5  # a new number at every call


def test_rule_side_effects_only_while_tracing(capsys):
    counter = []

    @tf.function
    def f(x):
        counter.append(1)  # a Python side effect
        tf.print("tf.print runs every call:", x, output_stream=sys.stdout)
        return x * 2

    for i in range(3):
        assert int(f(tf.constant(i))) == 2 * i
    assert counter == [1]
    assert capsys.readouterr().out == "".join(
        f"tf.print runs every call: {i}\n" for i in range(3))


def test_rule_py_function_runs_at_every_call():
    log = []

    @tf.function
    def f(x):
        y = tf.py_function(lambda v: log.append(float(v)) or v * 10.0, [x], tf.float32)
        return y + 1.0

    assert float(f(tf.constant(1.0))) == 11.0
    assert float(f(tf.constant(2.0))) == 21.0
    assert log == [1.0, 2.0]


def test_rule_functions_called_from_a_tf_function_are_captured():
    def helper(x):  # a plain Python function: its ops join the calling graph
        return tf.reduce_sum(x * x)

    @tf.function
    def decorated_helper(x):
        return helper(x) + 1.0

    @tf.function
    def f(x):
        return helper(x) + decorated_helper(x)

    x = tf.constant([1.0, 2.0, 3.0])
    assert float(f(x)) == 14.0 + 15.0
    types = [op.type for op in f.get_concrete_function(x).graph.get_operations()]
    assert "Sum" in types


def test_rule_variables_created_only_once():
    class Counter:
        def __init__(self):
            self.count = None

        @tf.function
        def __call__(self):
            if self.count is None:
                self.count = tf.Variable(0)  # created once, on the first call
            self.count.assign_add(1)  # then updated with assign
            return self.count.read_value()

    c = Counter()
    assert [int(c()) for _ in range(3)] == [1, 2, 3]

    @tf.function
    def bad(x):
        v = tf.Variable(1.0)
        return x + v

    with pytest.raises(ValueError, match="singleton tf.Variables"):
        bad(tf.constant(1.0))


def test_rule_tf_sort_and_reduce_sum_instead_of_python():
    @tf.function
    def f(x):
        return tf.sort(x), tf.reduce_sum(x)

    values = [3.0, 1.0, 2.0]
    s, total = f(tf.constant(values))
    np.testing.assert_array_equal(s.numpy(), sorted(values))
    assert float(total) == sum(values)


def test_autograph_sum_even_linear_graph_traces_once_and_shows_its_code():
    def sum_even_linear_eager(x, n):
        s = tf.constant(0., dtype=tf.float32)
        for i in range(n):
            if i % 2 == 0:
                s = s + float(i) * x
        return s

    @tf.function
    def sum_even_linear_graph(x, n):
        s = tf.constant(0., dtype=tf.float32)
        for i in tf.range(n):
            if (i % 2) == 0:
                s = s + tf.cast(i, tf.float32) * x
        return s

    x, n = tf.constant(3.0), tf.constant(10)
    assert float(sum_even_linear_eager(x, int(n.numpy()))) == 60.0
    assert float(sum_even_linear_graph(x, n)) == 60.0
    assert float(sum_even_linear_graph(x, tf.constant(7))) == 3.0 * (0 + 2 + 4 + 6)
    assert float(sum_even_linear_graph(x, tf.constant(0))) == 0.0
    assert sum_even_linear_graph.experimental_get_tracing_count() == 1
    ops = [op.type for op in sum_even_linear_graph.get_concrete_function(x, n).graph.get_operations()]
    assert "While" in ops
    converted_src = tf.autograph.to_code(sum_even_linear_graph.python_function)
    assert "ag__.for_stmt" in converted_src and "ag__.if_stmt" in converted_src
    assert converted_src.startswith("def sum_even_linear_graph(x, n):")
    compile(converted_src, "<to_code>", "exec")  # readable, valid Python


def test_tensor_array_in_a_tf_function_loop():
    @tf.function
    def squares(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
        for i in tf.range(n):
            ta = ta.write(i, tf.cast(i * i, tf.float32))
        return ta.stack()

    np.testing.assert_allclose(squares(tf.constant(5)).numpy(), [0, 1, 4, 9, 16])
    assert squares.experimental_get_tracing_count() == 1
