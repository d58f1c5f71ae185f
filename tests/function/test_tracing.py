"""tf.function's tracing rules: when a call traces, what a trace sees, what ConcreteFunctions show.

Every expected trace count is the one TensorFlow 2.21 gives for the same calls; every value is
checked against the eager run of the same Python function.
"""
import sys

import numpy as np
import pytest

import tensorweave as tf
from tensorweave.errors import InvalidArgumentError


def _traced(fn):
    """A tf.function of `fn` and the list of what each trace of it saw."""
    seen = []

    def body(*args, **kwargs):
        seen.append(args)
        return fn(*args, **kwargs)

    return tf.function(body), seen


# -- retracing rules ------------------------------------------------------------------------------
def test_new_trace_per_tensor_dtype_and_shape_same_shape_reuses():
    f, seen = _traced(lambda x: x * x + 1)
    calls = [tf.constant(1), tf.constant(2), tf.constant([1, 2]), tf.constant([3, 4]),
             tf.constant(1.5), tf.constant(1.5, tf.float64), tf.constant([[1.0]])]
    counts = []
    for x in calls:
        np.testing.assert_array_equal(f(x).numpy(), (x * x + 1).numpy())
        assert f(x).dtype == x.dtype
        counts.append(f.experimental_get_tracing_count())
    assert counts == [1, 1, 2, 2, 3, 4, 5]
    assert len(seen) == 5
    assert [s[0].shape.as_list() for s in seen] == [[], [2], [], [], [1, 1]]
    assert [s[0].dtype for s in seen] == [tf.int32, tf.int32, tf.float32, tf.float64, tf.float32]


def test_new_trace_per_python_value_and_keyword_binding_is_the_same_call():
    seen = []

    @tf.function
    def f(x, n):
        seen.append((x, n))
        return x * n

    x = tf.constant(2.0)
    assert float(f(x, 2)) == 4.0
    assert float(f(x, 2)) == 4.0
    assert f.experimental_get_tracing_count() == 1
    assert float(f(x, 3)) == 6.0
    assert f.experimental_get_tracing_count() == 2
    assert float(f(x, n=3)) == 6.0  # the same arguments bound by keyword: no new trace
    assert float(f(x=x, n=3)) == 6.0
    assert f.experimental_get_tracing_count() == 2
    assert float(f(tf.constant([1.0]), 3)[0]) == 3.0
    assert f.experimental_get_tracing_count() == 3
    assert [s[1] for s in seen] == [2, 3, 3]  # a Python value is seen as itself while tracing


def test_python_number_equal_to_a_traced_one_reuses_its_trace():
    # TensorFlow keys a Python value by equality: 2.0 == 2 and True == 1 reuse those traces
    f, seen = _traced(lambda x: x)
    f(1)
    f(True)
    f(1.0)
    assert f.experimental_get_tracing_count() == 1
    f(2.0)
    f(2)
    assert f.experimental_get_tracing_count() == 2


def test_numpy_arguments_are_traced_as_tensors():
    f, seen = _traced(lambda x: x * 2)
    f(tf.constant(2.0))
    out = f(np.float32(3.0))  # a NumPy scalar is a tensor argument: the float32 [] trace
    assert f.experimental_get_tracing_count() == 1
    assert tf.is_tensor(out) and float(out) == 6.0
    f(np.array([1.0, 2.0]))
    f(np.array([3.0, 4.0]))
    assert f.experimental_get_tracing_count() == 2
    assert seen[-1][0].dtype == tf.float64 and seen[-1][0].shape.as_list() == [2]


def test_python_side_effects_only_while_tracing_tf_print_at_every_call(capsys):
    calls = []

    @tf.function
    def f(x):
        calls.append(1)
        print("python print", x.dtype.name)
        tf.print("tf.print", x, output_stream=sys.stdout)
        return x + 1

    for i in range(3):
        assert int(f(tf.constant(i))) == i + 1
    assert calls == [1]
    assert capsys.readouterr().out == ("python print int32\ntf.print 0\ntf.print 1\n"
                                       "tf.print 2\n")


def test_nested_structures_of_arguments_and_outputs():
    flags = []

    @tf.function
    def f(d, l, t, none, flag):
        flags.append(flag)
        s = d["a"] + d["b"] * l[0] + t[1]
        if flag:
            s = s + 1.0
        return {"sum": s, "parts": [d["a"], (l[1], none)]}

    def expected(d, l, t, flag):
        return float(d["a"] + d["b"] * l[0] + t[1] + (1.0 if flag else 0.0))

    x, y = tf.constant(1.0), tf.constant(2.0)
    r = f({"a": x, "b": y}, [y, x], (x, y), None, True)
    assert sorted(r) == ["parts", "sum"]
    assert float(r["sum"]) == expected({"a": x, "b": y}, [y, x], (x, y), True) == 8.0
    assert float(r["parts"][0]) == 1.0 and float(r["parts"][1][0]) == 1.0
    assert r["parts"][1][1] is None
    assert isinstance(r["parts"], list) and isinstance(r["parts"][1], tuple)
    counts = [f.experimental_get_tracing_count()]
    r = f({"a": y, "b": x}, [x, y], (y, x), None, True)  # same structure: reused
    assert float(r["sum"]) == expected({"a": y, "b": x}, [x, y], (y, x), True)
    counts.append(f.experimental_get_tracing_count())
    r = f({"a": y, "b": x}, [x, y], (y, x), None, False)  # another Python value
    assert float(r["sum"]) == expected({"a": y, "b": x}, [x, y], (y, x), False)
    counts.append(f.experimental_get_tracing_count())
    f({"a": y, "b": x}, [x, y, x], (y, x), None, False)  # a longer list
    counts.append(f.experimental_get_tracing_count())
    f({"a": y, "b": x}, [x, y], [y, x], None, False)  # a list where a tuple was
    counts.append(f.experimental_get_tracing_count())
    f({"a": y, "b": x}, [x, y], (y, x), 0, False)  # 0 where None was
    counts.append(f.experimental_get_tracing_count())
    assert counts == [1, 1, 2, 3, 4, 5]
    assert flags == [True, False, False, False, False]

    cf = f.get_concrete_function({"a": x, "b": y}, [y, x], (x, y), None, True)
    assert f.experimental_get_tracing_count() == 5
    args, kwargs = cf.structured_input_signature
    assert kwargs == {} and args[3] is None and args[4] is True
    assert [s.shape.as_list() for s in args[1]] == [[], []]
    assert all(isinstance(s, tf.TensorSpec) and s.dtype == tf.float32
               for s in [args[0]["a"], args[0]["b"], *args[1], *args[2]])
    outs = cf.structured_outputs
    assert outs["sum"].shape.as_list() == [] and outs["parts"][1][1] is None


def test_python_values_returned_become_tensors():
    @tf.function
    def f(x):
        return {"x": x, "n": 3, "ratio": 2.5, "flag": True, "nothing": None, "pair": (1, None)}

    out = f(tf.constant(1.0))
    assert out["nothing"] is None and out["pair"][1] is None
    for key, dtype, value in [("n", tf.int32, 3), ("ratio", tf.float32, 2.5),
                              ("flag", tf.bool, True)]:
        assert tf.is_tensor(out[key]) and out[key].dtype == dtype and out[key].numpy() == value
    assert tf.is_tensor(out["pair"][0]) and out["pair"][0].numpy() == 1


def test_methods_trace_per_instance():
    traced = []

    class Scale:
        def __init__(self, k):
            self.k = k

        @tf.function
        def __call__(self, x):
            traced.append(self.k)
            return x * self.k

    a, b = Scale(2.0), Scale(3.0)
    assert float(a(tf.constant(1.0))) == 2.0
    assert float(b(tf.constant(1.0))) == 3.0
    assert float(a(tf.constant(2.0))) == 4.0
    assert traced == [2.0, 3.0]
    assert a.__call__.experimental_get_tracing_count() == 1
    assert b.__call__.experimental_get_tracing_count() == 1
    assert Scale.__call__.experimental_get_tracing_count() == 0
    assert a.__call__ is a.__call__


def test_python_function_is_the_original_function():
    def cube(x):
        return x ** 3

    tf_cube = tf.function(cube)
    assert tf_cube.python_function is cube
    assert tf_cube.python_function(2) == 8
    assert tf_cube.experimental_get_tracing_count() == 0


# -- concrete functions ---------------------------------------------------------------------------
def test_get_concrete_function_with_tensor_specs():
    @tf.function
    def f(x, y):
        return {"s": x + y, "p": x * y}

    spec = tf.TensorSpec([None], tf.float32)
    cf = f.get_concrete_function(spec, spec)
    assert f.experimental_get_tracing_count() == 1
    assert cf.structured_input_signature == (
        (tf.TensorSpec([None], tf.float32, name="x"), tf.TensorSpec([None], tf.float32, name="y")),
        {})
    assert sorted(cf.structured_outputs) == ["p", "s"]
    assert cf.structured_outputs["s"].shape.as_list() == [None]
    assert cf.structured_outputs["p"].dtype == tf.float32
    types = [op.type for op in cf.graph.get_operations()]
    assert types.count("Placeholder") == 2 and "AddV2" in types and "Mul" in types
    assert [t.shape.as_list() for t in cf.inputs] == [[None], [None]]
    a, b = np.array([1.0, 2.0], np.float32), np.array([3.0, 4.0], np.float32)
    r = cf(tf.constant(a), tf.constant(b))
    np.testing.assert_array_equal(r["s"].numpy(), a + b)
    np.testing.assert_array_equal(r["p"].numpy(), a * b)
    r = cf(tf.constant([1.0, 2.0, 3.0]), tf.constant([1.0, 1.0, 1.0]))  # any length
    np.testing.assert_array_equal(r["s"].numpy(), [2.0, 3.0, 4.0])
    assert f.get_concrete_function(spec, spec) is cf
    assert f.experimental_get_tracing_count() == 1


def test_get_concrete_function_with_tensors():
    @tf.function
    def f(x):
        return x * 2

    a = f.get_concrete_function(tf.constant(1.0))
    b = f.get_concrete_function(tf.constant(2.0))
    c = f.get_concrete_function(tf.TensorSpec([], tf.float32))
    assert a is b is c
    assert f.experimental_get_tracing_count() == 1
    assert a.structured_input_signature == ((tf.TensorSpec([], tf.float32, name="x"),), {})
    assert float(a(tf.constant(4.0))) == 8.0
    assert float(f(tf.constant(5.0))) == 10.0  # the call reuses that trace
    assert f.experimental_get_tracing_count() == 1


def test_a_call_reuses_a_concrete_function_of_a_more_general_signature():
    f, seen = _traced(lambda x: x * 2)
    f.get_concrete_function(tf.TensorSpec([None], tf.float32))
    np.testing.assert_array_equal(f(tf.constant([1.0, 2.0])).numpy(), [2.0, 4.0])
    assert f.experimental_get_tracing_count() == 1
    f(tf.constant([[1.0, 2.0]]))
    assert f.experimental_get_tracing_count() == 2
    f.get_concrete_function(tf.TensorSpec(None, tf.float32))
    f(tf.constant([[[1.0]]]))
    f(tf.constant([1.0, 2.0, 3.0]))
    assert f.experimental_get_tracing_count() == 3


def test_concrete_function_converts_python_values_for_tensor_arguments():
    @tf.function
    def f(x, y):
        return x + y

    cf = f.get_concrete_function(tf.TensorSpec([None], tf.float32),
                                 tf.TensorSpec([None], tf.float32))
    np.testing.assert_array_equal(cf([1.0, 2.0], [3.0, 4.0]).numpy(), [4.0, 6.0])


def test_input_signature_traces_once_for_all_compatible_inputs():
    traced = []

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def f(x):
        traced.append(x.shape.as_list())
        return tf.reduce_sum(x, axis=1)

    for rows in (4, 1, 7):
        x = np.arange(rows * 3, dtype=np.float32).reshape(rows, 3)
        np.testing.assert_allclose(f(tf.constant(x)).numpy(), x.sum(axis=1))
    np.testing.assert_allclose(f(np.ones((2, 3), np.float32)).numpy(), [3.0, 3.0])
    assert traced == [[None, 3]] and f.experimental_get_tracing_count() == 1
    assert f.input_signature == (tf.TensorSpec([None, 3], tf.float32),)
    with pytest.raises(TypeError):
        f(tf.ones([2, 4]))
    with pytest.raises(TypeError):
        f(tf.ones([2, 3], tf.float64))
    with pytest.raises(TypeError):
        f(tf.ones([2, 3]), tf.ones([2, 3]))
    cf = f.get_concrete_function()
    assert cf.structured_input_signature == ((tf.TensorSpec([None, 3], name="x"),), {})
    np.testing.assert_allclose(cf(tf.ones([2, 3])).numpy(), [3.0, 3.0])
    assert f.experimental_get_tracing_count() == 1


def test_get_concrete_function_with_a_spec_under_input_signature():
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def f(x):
        return x * 2

    assert f.get_concrete_function() is f.get_concrete_function(tf.TensorSpec([None, 3]))
    assert f.experimental_get_tracing_count() == 1


def test_reduce_retracing_generalises_shapes():
    f, seen = _traced(tf.reduce_sum)
    f = tf.function(f.python_function, reduce_retracing=True)
    for n in range(1, 6):
        assert float(f(tf.ones([n]))) == n
    assert f.experimental_get_tracing_count() == 2
    assert [s[0].shape.as_list() for s in seen] == [[1], [None]]


def test_reduce_retracing_generalises_rank():
    f, seen = _traced(tf.reduce_sum)
    f = tf.function(f.python_function, reduce_retracing=True)
    f(tf.ones([1]))
    f(tf.ones([2]))
    assert float(f(tf.ones([2, 2]))) == 4.0
    assert float(f(tf.ones([3, 4]))) == 12.0
    assert f.experimental_get_tracing_count() == 3
    assert seen[-1][0].shape.rank is None


def _inner_and_outer():
    """A tf.function `inner` called twice by a tf.function `outer`; the list of inner's traces."""
    inner_traces = []

    @tf.function
    def inner(x):
        inner_traces.append(1)
        return x * 2

    @tf.function
    def outer(x):
        return inner(x) + inner(x + 1)

    return inner, outer, inner_traces


def test_tf_function_calling_tf_function():
    inner, outer, _ = _inner_and_outer()
    for v in (1.0, 2.0):
        assert float(outer(tf.constant(v))) == float(inner.python_function(tf.constant(v)) +
                                                     inner.python_function(tf.constant(v + 1)))
    assert outer.experimental_get_tracing_count() == 1
    assert float(inner(tf.constant(3.0))) == 6.0


def test_inner_tf_function_is_traced_once_per_signature():
    inner, outer, inner_traces = _inner_and_outer()
    outer(tf.constant(1.0))
    assert len(inner_traces) == 1 and inner.experimental_get_tracing_count() == 1
    inner(tf.constant(1.0))  # called eagerly: the trace made inside outer is reused
    assert len(inner_traces) == 1 and inner.experimental_get_tracing_count() == 1


# -- errors when the graph runs -------------------------------------------------------------------
def test_gather_out_of_range_in_a_compiled_graph():
    @tf.function
    def f(params, i):
        return tf.gather(params, i)

    params = tf.constant([1.0, 2.0, 3.0])
    assert float(f(params, tf.constant(1))) == 2.0
    with pytest.raises(InvalidArgumentError, match="GatherV2"):
        f(params, tf.constant(5))
    assert float(f(params, tf.constant(2))) == 3.0  # the function still works afterwards


def test_graph_tensors_have_no_value_while_tracing():
    @tf.function
    def f(x):
        with pytest.raises(Exception):
            x.numpy()
        with pytest.raises(TypeError):
            bool(x)
        assert not tf.executing_eagerly()
        return x

    assert float(f(tf.constant(1.0))) == 1.0
    assert tf.executing_eagerly()


def test_get_concrete_function_traces_again_for_a_spec_no_trace_admits():
    f = tf.function(lambda x: x * 2)
    wide_batch = f.get_concrete_function(tf.TensorSpec([None, 8]))
    wide_features = f.get_concrete_function(tf.TensorSpec([2, None]))
    assert wide_features is not wide_batch  # [None, 8] does not admit [2, None]
    assert wide_features.structured_input_signature[0][0].shape.as_list() == [2, None]
    assert f.get_concrete_function(tf.TensorSpec([2, 8])) in (wide_batch, wide_features)


def test_broadcast_to_and_typed_zeros_like_with_run_time_shapes_in_a_graph():
    weights = tf.Variable([1.0, 2.0, 3.0])

    @tf.function(input_signature=[tf.TensorSpec([None, 3])])
    def f(y):
        with tf.GradientTape() as tape:
            total = tf.reduce_sum(tf.broadcast_to(weights, tf.shape(y)) * y)
        return tape.gradient(total, weights), tf.zeros_like(y, dtype=tf.int32), \
            tf.ones_like(y, dtype=tf.bool)

    grad, zeros, ones = f(tf.fill([4, 3], 2.0))
    np.testing.assert_array_equal(grad.numpy(), [8.0, 8.0, 8.0])
    assert zeros.dtype == tf.int32 and zeros.shape == (4, 3) and not zeros.numpy().any()
    assert ones.dtype == tf.bool and ones.numpy().all()
