"""tf.py_function, tf.numpy_function and tf.print, eagerly and inside tf.function.

Expected texts of tf.print are what TensorFlow 2.21 prints for the same inputs; values are checked
against NumPy, gradients against central finite differences (tests/harness.py).
"""
import functools
import logging
import sys

import numpy as np
import pytest

import tensorweave as tf
from harness import check_grad
from tensorweave.errors import (
    InvalidArgumentError, OutOfRangeError, ResourceExhaustedError, UnimplementedError,
    UnknownError)


# -- py_function: values --------------------------------------------------------------------------
def test_py_function_runs_eagerly_on_eager_tensors():
    seen = []

    def func(a, b):
        seen.append((type(a), a.dtype, b.dtype, a.numpy().tolist()))
        return a * tf.cast(b, tf.float32)

    out = tf.py_function(func, [tf.constant([1.0, 2.0]), 3], tf.float32)
    assert seen == [(tf.Tensor, tf.float32, tf.int32, [1.0, 2.0])]
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [3.0, 6.0])


def test_py_function_converts_results_to_tout():
    assert tf.py_function(lambda a: 5, [tf.constant(1.0)], tf.float32).dtype == tf.float32
    out = tf.py_function(lambda a: np.array([1, 2]), [tf.constant(1.0)], tf.float32)
    assert out.dtype == tf.float32 and out.numpy().tolist() == [1.0, 2.0]
    out = tf.py_function(lambda: b"hi", [], tf.string)
    assert out.dtype == tf.string and out.numpy() == b"hi"
    out = tf.py_function(lambda a: a, [tf.constant(1.0)], "float32")
    assert out.dtype == tf.float32


def test_py_function_tout_list_returns_a_list():
    x = tf.constant(3.0)
    one = tf.py_function(lambda a: a * 2, [x], [tf.float32])
    assert isinstance(one, list) and len(one) == 1 and float(one[0]) == 6.0
    two = tf.py_function(lambda a: (a, a + 1), [x], (tf.float32, tf.float32))
    assert [float(t) for t in two] == [3.0, 4.0]
    assert tf.py_function(lambda a: None, [x], []) == []


def test_py_function_inp_tensor_is_iterated():
    seen = []
    tf.py_function(lambda *a: seen.append(len(a)) or a[0], tf.constant([1.0, 2.0]), tf.float32)
    assert seen == [2]
    with pytest.raises(TypeError, match="scalar tensor"):
        tf.py_function(lambda a: a, tf.constant(1.0), tf.float32)


def test_py_function_as_decorator():
    @tf.py_function(Tout=tf.float32)
    def add(a, b):
        return a + b

    assert add.__name__ == "add"
    assert float(add(tf.constant(1.5), 2.0)) == 3.5

    @tf.function
    def wrapper(x):
        return add(x, tf.constant(1.0))

    assert float(wrapper(tf.constant(2.0))) == 3.0


def test_py_function_argument_errors():
    with pytest.raises(TypeError, match="Missing required argument: 'Tout'"):
        tf.py_function(lambda a: a, [tf.constant(1.0)])
    with pytest.raises(TypeError, match="Missing required argument: 'Tout'"):
        tf.py_function()
    with pytest.raises(TypeError, match="Don't set the `inp` argument"):
        tf.py_function(None, [tf.constant(1.0)], tf.float32)


# -- py_function: errors --------------------------------------------------------------------------
def _raising(exc):
    def func(*args):
        raise exc
    return func


@pytest.mark.parametrize("exc, kind", [
    (ValueError("boom"), InvalidArgumentError), (TypeError("boom"), InvalidArgumentError),
    (StopIteration(), OutOfRangeError), (NotImplementedError("boom"), UnimplementedError),
    (MemoryError("boom"), ResourceExhaustedError), (KeyError("boom"), UnknownError),
    (RuntimeError("boom"), UnknownError), (IndexError("boom"), UnknownError),
    (InvalidArgumentError(None, None, "inner"), UnknownError),
])
def test_py_function_errors_become_tensorflow_errors(exc, kind):
    x = tf.constant(1.0)
    with pytest.raises(kind) as info:
        tf.py_function(_raising(exc), [x], tf.float32)
    assert str(info.value).startswith(f"{type(exc).__name__}:")
    assert info.value.__cause__ is exc

    @tf.function
    def f(x):
        return tf.py_function(_raising(exc), [x], tf.float32)

    with pytest.raises(kind):
        f(x)


def test_py_function_bad_results():
    x = tf.constant(1.0)
    with pytest.raises(InvalidArgumentError, match="Tensor conversion requested dtype float32 "
                                                   "for Tensor with dtype int32"):
        tf.py_function(lambda a: tf.constant([1, 2]), [x], tf.float32)
    with pytest.raises(InvalidArgumentError, match="returns 1 values, but expects to see 2"):
        tf.py_function(lambda a: a, [x], [tf.float32, tf.float32])
    with pytest.raises(UnknownError, match="Attempting to return a variable"):
        tf.py_function(lambda a: tf.Variable(1.0), [x], tf.float32)
    # extra values are dropped, as in TensorFlow
    assert float(tf.py_function(lambda a: [1.0, 2.0], [x], tf.float32)) == 1.0


# -- py_function in tf.function -------------------------------------------------------------------
def test_py_function_runs_at_every_call_of_a_tf_function():
    calls, traces = [], []

    def body(a):
        calls.append(float(a))
        assert tf.executing_eagerly() and isinstance(a.numpy(), np.floating)
        return a * a

    @tf.function
    def f(x):
        traces.append(1)
        y = tf.py_function(body, [x], tf.float32)
        tf.py_function(lambda a: calls.append(-1.0) or a, [x], tf.float32)  # result unused
        return y + 1.0

    assert float(f(tf.constant(2.0))) == 5.0
    assert float(f(tf.constant(3.0))) == 10.0
    assert calls == [2.0, -1.0, 3.0, -1.0]
    assert len(traces) == 1 and f.experimental_get_tracing_count() == 1


def test_py_function_output_shape_is_unknown_in_a_graph():
    @tf.function
    def f(x):
        return tf.py_function(lambda a: tf.ones([2, 2]) * a, [x], tf.float32)

    cf = f.get_concrete_function(tf.TensorSpec([], tf.float32))
    assert cf.structured_outputs.shape.rank is None
    assert cf.structured_outputs.dtype == tf.float32
    assert "EagerPyFunc" in [op.type for op in cf.graph.get_operations()]
    out = cf(tf.constant(3.0))
    assert out.shape == (2, 2)
    np.testing.assert_array_equal(out.numpy(), np.full((2, 2), 3.0, np.float32))


# -- py_function gradients ------------------------------------------------------------------------
def _py_sin_times(x):
    return tf.py_function(lambda a: tf.sin(a) * a, [x], tf.float64)


def test_py_function_gradient_matches_finite_differences():
    check_grad(_py_sin_times, np.array([0.3, -1.2, 2.0]))


def test_py_function_gradient_through_a_tf_function_under_an_outer_tape():
    check_grad(tf.function(lambda x: _py_sin_times(x) * 2.0 + x), np.array([[0.5, 1.5]]))


def test_py_function_gradient_with_a_tape_inside_tf_function():
    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = tf.py_function(lambda a: a ** 3, [x], tf.float32)
        return y, tape.gradient(y, x)

    for value in (2.0, -1.5):
        y, dy = f(tf.constant(value))
        assert float(y) == pytest.approx(value ** 3)
        assert float(dy) == pytest.approx(3 * value ** 2)
    assert f.experimental_get_tracing_count() == 1


def test_py_function_gradient_of_several_outputs_and_inputs():
    a, b = tf.constant([1.0, 2.0]), tf.constant([3.0, 4.0])
    n = tf.constant(3)
    with tf.GradientTape() as tape:
        tape.watch([a, b])
        p, s = tf.py_function(lambda a, b, n: (a * b * tf.cast(n, tf.float32), a + b),
                              [a, b, n], [tf.float32, tf.float32])
        loss = tf.reduce_sum(p * 2.0 + s)
    ga, gb = tape.gradient(loss, [a, b])
    np.testing.assert_allclose(ga.numpy(), 6.0 * b.numpy() + 1.0)
    np.testing.assert_allclose(gb.numpy(), 6.0 * a.numpy() + 1.0)


def test_py_function_gradient_is_first_order_only_and_ignores_inner_variables():
    x = tf.constant(3.0)
    v = tf.Variable(2.0)
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as inner:
            inner.watch(x)
            y = tf.py_function(lambda a: a ** 3 * v, [x], tf.float32)
        dx, dv = inner.gradient(y, [x, v])
    assert float(dx) == 54.0 and dv is None  # variables read inside are not connected
    assert outer.gradient(dx, x) is None  # differentiable once, as in TensorFlow
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.py_function(lambda a: tf.constant(1.0), [x], tf.float32)
    assert float(tape.gradient(y, x)) == 0.0


# -- numpy_function -------------------------------------------------------------------------------
def test_numpy_function_eagerly_calls_the_function_on_arrays():
    seen = []

    def func(a, b):
        seen.append((type(a), a.dtype, a.shape, b.dtype))
        return np.sinh(a)

    out = tf.numpy_function(func, [tf.constant(1.0), [1, 2]], tf.float32)
    assert seen == [(np.ndarray, np.float32, (), np.int64)]
    assert out.dtype == tf.float32 and float(out) == pytest.approx(np.sinh(1.0))
    # eagerly, TensorFlow converts what the function returns without casting it to Tout
    assert tf.numpy_function(lambda a: np.float64(2.5), [tf.constant(1.0)],
                             tf.float32).dtype == tf.float64
    assert tf.numpy_function(lambda a: None, [tf.constant(1.0)], []) is None
    both = tf.numpy_function(lambda a: [a, a * 2], [tf.constant(1.0)], [tf.float32, tf.float32])
    assert [float(t) for t in both] == [1.0, 2.0]
    with pytest.raises(ValueError, match="boom"):  # the Python error itself, eagerly
        tf.numpy_function(_raising(ValueError("boom")), [tf.constant(1.0)], tf.float32)


def test_numpy_function_in_a_graph():
    calls = []

    def func(a):
        calls.append(type(a))
        return (a * 2).astype(np.float32)

    @tf.function
    def f(x):
        return tf.numpy_function(func, [x], tf.float32) + 1.0

    x = np.array([1.0, 2.0], np.float32)
    np.testing.assert_array_equal(f(tf.constant(x)).numpy(), x * 2 + 1)
    np.testing.assert_array_equal(f(tf.constant(x + 1)).numpy(), (x + 1) * 2 + 1)
    assert calls == [np.ndarray, np.ndarray] and f.experimental_get_tracing_count() == 1
    cf = f.get_concrete_function(tf.TensorSpec([2], tf.float32))
    types = [op.type for op in cf.graph.get_operations()]
    assert "PyFunc" in types


def test_numpy_function_graph_checks_result_dtypes():
    def graph_of(func, Tout, stateful=True):
        return tf.function(lambda x: tf.numpy_function(func, [x], Tout, stateful=stateful))

    x = tf.constant(1.0)
    with pytest.raises(InvalidArgumentError, match="0-th value returned by pyfunc_[0-9]+ is "
                                                   "double, but expects float"):
        graph_of(lambda a: 2.5, tf.float32)(x)
    with pytest.raises(InvalidArgumentError, match="is int64, but expects int32"):
        graph_of(lambda a: 2, tf.int32)(x)
    with pytest.raises(InvalidArgumentError, match="returns 2 values, but expects to see 1"):
        graph_of(lambda a: [1.0, 2.0], tf.float32)(x)
    with pytest.raises(InvalidArgumentError, match="ValueError: boom"):
        graph_of(_raising(ValueError("boom")), tf.float32)(x)
    assert graph_of(lambda a: 2.5, tf.float64)(x).numpy() == 2.5
    strings = graph_of(lambda a: np.array(["a", "bc"]), tf.string)(x)
    assert strings.dtype == tf.string and strings.numpy().tolist() == [b"a", b"bc"]
    stateless = graph_of(lambda a: a * 3, tf.float32, stateful=False)
    assert float(stateless(x)) == 3.0
    types = [op.type for op in stateless.get_concrete_function(
        tf.TensorSpec([], tf.float32)).graph.get_operations()]
    assert "PyFuncStateless" in types


def test_numpy_function_is_not_differentiable():
    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.numpy_function(lambda a: a ** 2, [x], tf.float32)
    assert tape.gradient(y, x) is None


def test_numpy_function_as_decorator():
    @tf.numpy_function(Tout=tf.float32)
    def my_sinh(x):
        return np.sinh(x)

    assert my_sinh.__name__ == "my_sinh"
    assert float(my_sinh(np.float32(1.0))) == pytest.approx(np.sinh(1.0))
    with pytest.raises(TypeError, match="tf.numpy_function as a decorator"):
        tf.numpy_function(lambda a: a, [tf.constant(1.0)])


# -- tf.print -------------------------------------------------------------------------------------
def _printed(capsys, *inputs, **kwargs):
    tf.print(*inputs, output_stream=sys.stdout, **kwargs)
    return capsys.readouterr().out


PRINT_CASES = [  # (inputs, kwargs, what TensorFlow prints)
    ((tf.constant(1.5),), {}, "1.5\n"),
    ((tf.constant(2.0),), {}, "2\n"),
    ((tf.constant(3.14159265),), {}, "3.14159274\n"),
    ((tf.constant(3.14159265358979, tf.float64),), {}, "3.14159265358979\n"),
    ((tf.constant([1 / 3, 1e-8, 1e8, 123456789.0]),), {}, "[0.333333343 1e-08 1e+08 123456792]\n"),
    ((tf.constant([1 / 3, 1e-8, 1e8], tf.float64),), {}, "[0.33333333333333331 1e-08 100000000]\n"),
    ((tf.constant([np.nan, np.inf, -np.inf, -0.0]),), {}, "[nan inf -inf -0]\n"),
    ((tf.constant([1.5, 0.1], tf.float16),), {}, "[1.5 0.0999755859]\n"),
    ((tf.range(10),), {}, "[0 1 2 ... 7 8 9]\n"),
    ((tf.range(6),), {}, "[0 1 2 3 4 5]\n"),
    ((tf.range(10),), {"summarize": 1}, "[0 ... 9]\n"),
    ((tf.range(10),), {"summarize": -1}, "[0 1 2 3 4 5 6 7 8 9]\n"),
    ((tf.range(10),), {"summarize": None}, "[0 1 2 ... 7 8 9]\n"),
    ((tf.range(10),), {"summarize": 0}, "[ ...]\n"),
    ((tf.reshape(tf.range(12), [3, 4]),), {}, "[[0 1 2 3]\n [4 5 6 7]\n [8 9 10 11]]\n"),
    ((tf.reshape(tf.range(30), [5, 6]),), {"summarize": 2},
     "[[0 1 ... 4 5]\n [6 7 ... 10 11]\n ...\n [18 19 ... 22 23]\n [24 25 ... 28 29]]\n"),
    ((tf.reshape(tf.range(24), [2, 3, 4]),), {},
     "[[[0 1 2 3]\n  [4 5 6 7]\n  [8 9 10 11]]\n\n [[12 13 14 15]\n  [16 17 18 19]\n"
     "  [20 21 22 23]]]\n"),
    ((tf.reshape(tf.range(27), [3, 3, 3]),), {"summarize": 1},
     "[[[0 ... 2]\n  ...\n  [6 ... 8]]\n\n ...\n\n [[18 ... 20]\n  ...\n  [24 ... 26]]]\n"),
    ((tf.reshape(tf.range(16), [2, 2, 2, 2]),), {},
     "[[[[0 1]\n   [2 3]]\n\n  [[4 5]\n   [6 7]]]\n\n\n [[[8 9]\n   [10 11]]\n\n"
     "  [[12 13]\n   [14 15]]]]\n"),
    ((tf.constant([[1], [2], [3], [4], [5], [6], [7]]),), {},
     "[[1]\n [2]\n [3]\n ...\n [5]\n [6]\n [7]]\n"),
    ((tf.zeros([0]),), {}, "[]\n"),
    ((tf.zeros([2, 0]),), {}, "[\n ...]\n"),
    ((tf.constant([True, False]),), {}, "[1 0]\n"),
    ((tf.constant([1 + 2j]),), {}, "[?]\n"),
    ((tf.constant([1, 255], tf.uint8),), {}, "[1 255]\n"),
    ((tf.constant("abc"),), {}, "abc\n"),
    ((tf.constant(["a", "b c"]),), {}, '["a" "b c"]\n'),
    (("x", tf.constant("abc")), {}, 'x "abc"\n'),
    ((tf.constant(['a"b', "c\nd", "e\\f", "\t", "'q'"]),), {},
     '["a\\"b" "c\\nd" "e\\\\f" "\\t" "\\\'q\\\'"]\n'),
    ((tf.constant(["é"]),), {}, '["é"]\n'),
    (("hello", "world"), {}, "hello world\n"),
    ((["a", "b"],), {}, "['a', 'b']\n"),
    ((1, 2.5, True, None), {}, "1 2.5 True None\n"),
    (({"b": 1, "a": tf.constant(2)},), {}, "{'a': 2, 'b': 1}\n"),
    (({2: tf.range(10) * 2},), {}, "{2: [0 2 4 ... 14 16 18]}\n"),
    (([tf.constant(1), [tf.constant(2.5), "x"]],), {}, "[1, [2.5, 'x']]\n"),
    (({"k": ["v", tf.constant("t")]},), {}, "{'k': ['v', \"t\"]}\n"),
    (((tf.constant(1), None),), {}, "(1, None)\n"),
    ((tf.range(2), tf.range(2) * 2), {"sep": ","}, "[0 1],[0 2]\n"),
    (("a", tf.constant(1), [2]), {"sep": "|", "end": "$\n"}, "a|1|[2]$\n"),
    (("a {} b", tf.constant(1)), {}, "a {} b 1\n"),
    ((["{}", tf.constant(1)],), {}, "['{}', 1]\n"),
    ((np.array([1, 2, 3]),), {}, "array([1, 2, 3])\n"),
    ((tf.Variable([1.0, 2.0]),), {}, "[1 2]\n"),
    ((tf.TensorShape([1, 2]),), {}, "TensorShape([1, 2])\n"),
    (({"alpha": tf.range(10), "beta": tf.range(10), "gamma": tf.range(10)},), {},
     "{'alpha': [0 1 2 ... 7 8 9], 'beta': [0 1 2 ... 7 8 9], 'gamma': [0 1 2 ... 7 8 9]}\n"),
    ((list(range(30)),), {}, "[" + ",\n ".join(str(i) for i in range(30)) + "]\n"),
    ((), {}, "\n"),
]


@pytest.mark.parametrize("inputs, kwargs, expected", PRINT_CASES)
def test_print_formats_as_tensorflow(capsys, inputs, kwargs, expected):
    assert _printed(capsys, *inputs, **kwargs) == expected


def test_print_defaults_to_stderr_and_returns_none(capsys):
    assert tf.print("to stderr", tf.constant([1, 2])) is None
    captured = capsys.readouterr()
    assert captured.err == "to stderr [1 2]\n" and captured.out == ""


def test_print_raw_bytes_of_a_scalar_string(capfdbinary):
    tf.print(tf.constant(b"\xff\x00a"), output_stream=sys.stdout)
    tf.print(tf.constant([b"\xff\x00a\x7f"]), output_stream=sys.stdout)
    sys.stdout.flush()
    assert capfdbinary.readouterr().out == b'\xff\x00a\n["\xff\\000a\\177"]\n'


def test_print_to_a_file_appends(tmp_path):
    path = tmp_path / "out.txt"
    tf.print("first", tf.constant([1, 2]), output_stream=f"file://{path}")
    tf.print("again", output_stream=f"file://{path}")
    assert path.read_bytes() == b"first [1 2]\nagain\n"


def test_print_to_logging_levels(caplog):
    with caplog.at_level(logging.INFO, logger="tensorflow"):
        tf.print("info", tf.constant(1), output_stream=logging.INFO)
        tf.print("error", output_stream=logging.ERROR)
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.INFO, "info 1"), (logging.ERROR, "error")]


def test_print_argument_errors():
    for stream in ("stdout", logging.DEBUG, logging.info, object()):
        with pytest.raises(ValueError, match="Unsupported output stream, logging level, or file"):
            tf.print("x", output_stream=stream)
    with pytest.raises(ValueError, match="Unrecognized keyword arguments for tf.print"):
        tf.print("x", foo=1)
    with pytest.raises(TypeError):  # nest sorts dict keys, as TensorFlow does
        tf.print({2: 1, "a": 2})


def test_print_inside_tf_function_prints_at_every_call(capsys):
    @tf.function
    def f(x):
        print("tracing", x.shape)
        tf.print("x:", x, {"double": x * 2}, output_stream=sys.stdout)
        return x + 1

    assert int(f(tf.constant(1))) == 2
    assert int(f(tf.constant(5))) == 6
    assert capsys.readouterr().out == ("tracing ()\nx: 1 {'double': 2}\nx: 5 {'double': 10}\n")
    cf = f.get_concrete_function(tf.TensorSpec([], tf.int32))
    assert "PrintV2" in [op.type for op in cf.graph.get_operations()]
    assert f.experimental_get_tracing_count() == 1


def test_print_and_py_function_keep_program_order(capsys):
    v = tf.Variable(0)

    @tf.function
    def f():
        tf.print("before", v, output_stream=sys.stdout)
        v.assign_add(1)
        tf.py_function(lambda: print("python", int(v.numpy())), [], [])
        tf.print("after", v, output_stream=sys.stdout)
        return v.read_value()

    f()
    f()
    assert capsys.readouterr().out == ("before 0\npython 1\nafter 1\n"
                                       "before 1\npython 2\nafter 2\n")


def test_decorated_py_function_keeps_metadata():
    def named(a):
        """doc"""
        return a

    wrapped = tf.py_function(Tout=tf.float32)(named)
    assert wrapped.__doc__ == "doc" and isinstance(wrapped, functools.partial) is False
