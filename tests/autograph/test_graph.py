"""AutoGraph inside tf.function: tensor conditions become tf.cond / tf.while_loop.

Oracle: the same Python function run eagerly (Python control flow on eager tensors), plus
closed-form values; each function must trace once for tensors of one signature.
"""
import numpy as np
import pytest

import tensorweave as tf


def _np(value):
    if isinstance(value, (list, tuple)):
        return [_np(v) for v in value]
    return np.asarray(value)


def _check_against_eager(fn, *arg_sets):
    compiled = tf.function(fn)
    for args in arg_sets:
        got, want = compiled(*args), fn(*args)
        np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6, err_msg=str(args))
    return compiled


# (the seed example of notes 002 is in tests/seeds/test_seed002_function.py)


# -- nested ifs and loops with tensor conditions ---------------------------------------------------
def nested_conditions(x, y):
    if x > 0:
        if y > x:
            r = x * y
        else:
            r = x - y
    elif y > 0:
        r = -y
    else:
        r = x + y
    return r


def test_nested_ifs():
    pairs = [(a, b) for a in (-2.0, 0.5, 3.0) for b in (-1.0, 1.0, 4.0)]
    f = _check_against_eager(nested_conditions, *[(tf.constant(a), tf.constant(b))
                                                  for a, b in pairs])
    assert f.experimental_get_tracing_count() == 1


def collatz_steps(n):
    steps = tf.constant(0)
    while n > 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps, n


def test_while_with_changing_loop_carried_tensors():
    f = _check_against_eager(collatz_steps, *[(tf.constant(v),) for v in (1, 6, 7, 27)])
    assert int(f(tf.constant(27))[0]) == 111
    assert f.experimental_get_tracing_count() == 1


def break_continue(n):
    i = tf.constant(0)
    s = tf.constant(0)
    while i < n:
        i += 1
        if i % 3 == 0:
            continue
        if s > 10:
            break
        s += i
    return i, s


def test_break_and_continue_in_tensor_while():
    f = _check_against_eager(break_continue, *[(tf.constant(v),) for v in (0, 2, 5, 20)])
    # python oracle: i=7, s=1+2+4+5
    assert [int(t) for t in f(tf.constant(20))] == [7, 12]


def nested_tensor_loops(n):
    s = tf.constant(0)
    for i in tf.range(n):
        for j in tf.range(i):
            if (i + j) % 3 == 0:
                continue
            s += i * j
    return s


def test_nested_tensor_loops():
    f = _check_against_eager(nested_tensor_loops, (tf.constant(6),), (tf.constant(1),))
    expected = sum(i * j for i in range(6) for j in range(i) if (i + j) % 3)
    assert int(f(tf.constant(6))) == expected == 50  # TensorFlow gives 50 too


def iterate_rows(x):
    total = tf.constant(0.0)
    best = tf.constant(-1e9)
    for row in x:
        r = tf.reduce_sum(row)
        total += r
        if r > best:
            best = r
    return total, best


def test_for_over_tensor_rows():
    x = tf.constant((np.arange(12.0).reshape(4, 3) * [[1], [-1], [2], [0.5]]).astype(np.float32))
    f = _check_against_eager(iterate_rows, (x,))
    total, best = f(x)
    rows = x.numpy().sum(axis=1)
    assert float(total) == pytest.approx(rows.sum()) and float(best) == pytest.approx(rows.max())


def python_loop_tensor_if(x):
    s = x * 0.0
    for k in range(4):  # unrolled while tracing
        if x > k:
            s += k
        else:
            s -= 1.0
    return s


def test_python_loop_is_unrolled_around_tensor_ifs():
    _check_against_eager(python_loop_tensor_if, *[(tf.constant(v),) for v in (-1.0, 1.5, 9.0)])


def range_of_tensor(n):
    s = tf.constant(0)
    for i in range(n):  # range over a tensor becomes tf.range
        s += i * i
    return s


def test_builtin_range_over_tensor():
    f = tf.function(range_of_tensor)
    assert int(f(tf.constant(5))) == 30 and int(f(tf.constant(3))) == 5
    assert f.experimental_get_tracing_count() == 1


def test_range_with_start_and_negative_delta():
    def countdown(a, b):
        out = tf.constant(0)
        for i in tf.range(a, b, -2):
            out = out * 10 + i
        return out
    f = tf.function(countdown)
    assert int(f(tf.constant(7), tf.constant(0))) == 7531
    assert int(f(tf.constant(3), tf.constant(3))) == 0


# -- returns -----------------------------------------------------------------------------------
def early_return(x):
    if x > 0:
        return x * 2.0
    x = x - 1.0
    return x


def both_branches_return(x):
    if x > 0:
        return x
    else:
        return -x


def return_only_in_else(x):
    if x > 0:
        x = x + 1.0
    else:
        return -x
    return x * 2.0


def return_in_loop(n):
    i = tf.constant(0)
    while i < n:
        if i * i > 10:
            return i * 100
        i += 1
    return -i


def test_returns_under_tensor_conditions():
    _check_against_eager(early_return, *[(tf.constant(v),) for v in (2.0, -3.0)])
    _check_against_eager(both_branches_return, *[(tf.constant(v),) for v in (2.0, -3.0)])
    _check_against_eager(return_only_in_else, *[(tf.constant(v),) for v in (2.0, -3.0)])
    f = _check_against_eager(return_in_loop, *[(tf.constant(v),) for v in (10, 2, 0)])
    assert int(f(tf.constant(10))) == 400 and int(f(tf.constant(2))) == -2


def test_missing_return_in_a_branch_is_an_error():
    def half(x):
        if x > 0:
            return x
    with pytest.raises(ValueError, match="the else branch must also have a return statement"):
        tf.function(half)(tf.constant(1.0))


# -- boolean operators -------------------------------------------------------------------------
def logic(x):
    a = x > 0 and x < 5
    b = x < -1 or x > 10
    c = not x > 0
    d = x if x > 2 else -x
    return a, b, c, d


def test_boolean_operators_on_tensors():
    f = _check_against_eager(logic, *[(tf.constant(v),) for v in (-3, 0, 3, 11)])
    assert f.experimental_get_tracing_count() == 1


def test_and_is_lazy_on_tensors():
    def guarded(x, i):
        if i < 3 and tf.gather(x, i) > 0:  # gather out of range must not run when i >= 3
            return tf.constant(1)
        return tf.constant(0)
    f = tf.function(guarded)
    x = tf.constant([1.0, -1.0, 2.0])
    assert [int(f(x, tf.constant(i))) for i in range(5)] == [1, 0, 1, 0, 0]


# -- loop variables that appear in the loop ------------------------------------------------------
def defined_in_loop(n):
    for i in tf.range(n):
        y = i * 2
    return y


def test_variable_first_defined_in_loop():
    assert int(tf.function(defined_in_loop)(tf.constant(4))) == 6


def test_python_values_become_loop_tensors():
    def count(n):
        s = 0
        label = "a"
        for i in tf.range(n):
            s = s + 1
            label = "b"
        return s, label
    s, label = tf.function(count)(tf.constant(3))
    assert int(s) == 3 and label.numpy() == b"b"


def test_python_value_equal_in_both_branches_stays_python():
    seen = []

    def f(x):
        if x > 0:
            k = 2
            y = x
        else:
            k = 2
            y = -x
        seen.append(k)
        return y * k
    assert float(tf.function(f)(tf.constant(-3.0))) == 6.0
    assert seen == [2] and type(seen[0]) is int


# -- variables and gradients -----------------------------------------------------------------------
def test_variable_updates_in_tensor_branches():
    v = tf.Variable(0.0)

    @tf.function
    def step(x):
        if x > 0:
            v.assign_add(x)
        else:
            v.assign_sub(1.0)
        return v.read_value()
    assert float(step(tf.constant(2.0))) == 2.0
    assert float(step(tf.constant(-2.0))) == 1.0
    assert step.experimental_get_tracing_count() == 1


def test_variable_updates_in_tensor_loop():
    v = tf.Variable(0.0)

    @tf.function
    def step(n):
        for _ in tf.range(n):
            v.assign_add(1.0)
        return v.read_value()
    assert float(step(tf.constant(3))) == 3.0
    assert float(step(tf.constant(2))) == 5.0


def test_gradient_through_converted_control_flow():
    @tf.function
    def f(x):
        y = x
        i = tf.constant(0)
        while i < 3:
            if y > 1.0:
                y = y * x
            else:
                y = y + x
            i += 1
        return y
    for x0 in (0.3, 2.0):
        x = tf.constant(x0, tf.float64)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = f(x)
        grad = float(tape.gradient(y, x))
        eps = 1e-6
        numeric = (float(f(tf.constant(x0 + eps, tf.float64)))
                   - float(f(tf.constant(x0 - eps, tf.float64)))) / (2 * eps)
        assert grad == pytest.approx(numeric, rel=1e-5)


# -- TensorFlow's errors ---------------------------------------------------------------------------
def test_variable_defined_in_one_branch():
    def main_only(x):
        if x > 0:
            y = x * 2
        return y

    def else_only(x):
        if x > 0:
            pass
        else:
            y = x * 2
        return y
    with pytest.raises(ValueError, match="'y' must also be initialized in the else branch"):
        tf.function(main_only)(tf.constant(1.0))
    with pytest.raises(ValueError, match="'y' must also be initialized in the main branch"):
        tf.function(else_only)(tf.constant(1.0))


def test_branch_dtype_and_none_errors():
    def dtypes_differ(x):
        if x > 0:
            y = 1
        else:
            y = 2.0
        return y

    def none_value(x):
        if x > 0:
            y = None
        else:
            y = None
        return y
    with pytest.raises(TypeError, match="'y' has dtype int32 in the main branch, but dtype "
                                        "float32 in the else branch"):
        tf.function(dtypes_differ)(tf.constant(1))
    with pytest.raises(ValueError, match="'y' is None at the end of the main branch"):
        tf.function(none_value)(tf.constant(1))


def test_loop_dtype_and_shape_errors():
    def dtype_change(n):
        s = tf.constant(0)
        for i in tf.range(n):
            s = tf.cast(s, tf.float32)
        return s

    def shape_change(n):
        s = tf.constant([1.0])
        for i in tf.range(n):
            s = tf.concat([s, s], 0)
        return s
    with pytest.raises(TypeError, match="'s' has dtype int32 before the loop, but dtype "
                                        "float32 after one iteration"):
        tf.function(dtype_change)(tf.constant(2))
    with pytest.raises(ValueError, match=r"'s' has shape \(1,\) before the loop, but shape "
                                         r"\(2,\) after one iteration"):
        tf.function(shape_change)(tf.constant(2))


def test_undefined_after_loop_error():
    def undef(n):
        for i in tf.range(n):
            if i > 2:
                y = i
        return y
    with pytest.raises(ValueError, match="'y' must be defined before the loop"):
        tf.function(undef)(tf.constant(5))


def test_inconsistent_control_flow_types():
    def tensor_break_in_python_loop(x):
        s = 0
        for i in range(5):
            if x > i:
                break
            s += 1
        return s

    def while_turns_tensor(x):
        i = 0
        while i < 3:
            i = i + x
        return i
    with pytest.raises(NotImplementedError, match="not supported in Python for loops"):
        tf.function(tensor_break_in_python_loop)(tf.constant(2))
    with pytest.raises(NotImplementedError, match="started as non-Tensor, then changed to"):
        tf.function(while_turns_tensor)(tf.constant(1))


def test_print_runs_only_while_tracing(capsys):
    @tf.function
    def f(x):
        print("tracing")
        if x > 0:
            x = x + 1
        return x
    f(tf.constant(1))
    f(tf.constant(2))
    assert capsys.readouterr().out == "tracing\n"


# -- loop options and TensorArrays ---------------------------------------------------------------
def test_set_loop_options_shape_invariants_and_maximum_iterations():
    @tf.function
    def grow(n):
        s = tf.constant([1.0])
        for i in tf.range(n):
            tf.autograph.experimental.set_loop_options(
                shape_invariants=[(s, tf.TensorShape([None]))])
            s = tf.concat([s, s], 0)
        return s

    @tf.function
    def capped(n):
        k = 0
        for i in tf.range(n):
            tf.autograph.experimental.set_loop_options(maximum_iterations=3)
            k += 1
        return k
    np.testing.assert_array_equal(grow(tf.constant(3)).numpy(), np.ones(8, np.float32))
    assert int(capped(tf.constant(10))) == 3 and int(capped(tf.constant(2))) == 2


def test_tensor_array_carried_through_a_loop():
    @tf.function
    def squares(n):
        arr = tf.TensorArray(tf.float32, size=n)
        for i in tf.range(n):
            if i % 2 == 0:
                arr = arr.write(i, tf.cast(i * i, tf.float32))
            else:
                arr = arr.write(i, -1.0)
        return arr.stack()
    np.testing.assert_array_equal(squares(tf.constant(5)).numpy(), [0, -1, 4, -1, 16])


def test_lambdas_are_converted():
    f = tf.function(lambda x: x if x > 0 else -x)
    assert int(f(tf.constant(-4))) == 4 and int(f(tf.constant(5))) == 5
    assert "ag__.if_exp" in tf.autograph.to_code(f.python_function)
