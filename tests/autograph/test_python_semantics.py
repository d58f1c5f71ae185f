"""Converted functions behave exactly as the originals on Python values and eager tensors.

The oracle is Python itself: each function below runs unconverted and converted over a grid of
inputs; results (or the exception type) must agree.
"""
import itertools

import numpy as np
import pytest

import tensorweave as tf


def nested_if(x, y):
    if x > 0:
        if y > 0:
            r = x + y
        elif y < -2:
            r = x - y
        else:
            r = 0
    else:
        r = -1
        if y == 0:
            r = -2
    return r


def while_break_continue(x, y):
    i, s = 0, 0
    while i < x + 5:
        i += 1
        if i % 3 == 0:
            continue
        if s > y + 10:
            break
        s += i
    return i, s


def for_else(x, y):
    found = None
    for i in range(x + 3):
        if i * i == y:
            found = i
            break
    else:
        found = -1
    return found


def while_else_return(x, y):
    n = 0
    while n < 4:
        n += 1
        if n == x:
            return "early", n
    else:
        n = n * 10
    return "late", n + y


def early_returns(x, y):
    if x < 0:
        return "neg"
    if x == 0:
        if y:
            return "zero-y"
        y = y + 1
    total = 0
    for k in range(x):
        total += k
        if total > y + 3:
            return total
    return ("end", total, y)


def nested_loops(x, y):
    out = []
    for i in range(x + 2):
        j = 0
        while j < y + 2:
            j += 1
            if (i + j) % 2:
                continue
            if j > 3:
                break
            out.append((i, j))
        if i == 4:
            break
    return out, j


def bool_ops(x, y):
    calls = []

    def side(v):
        calls.append(v)
        return v

    a = side(x) and side(y)
    b = side(x) or side(y)
    c = not side(x)
    d = side(y) if side(x) > 0 else side(-y)
    return a, b, c, d, calls


def loop_local_and_carried(x, y):
    acc = 0
    for i in range(4):
        tmp = i * x
        if tmp > y:
            acc += tmp
        last = i
    return acc, last


def maybe_unbound(x, y):
    if x > 0:
        z = x
    return z + y


def return_in_nested_loops(x, y):
    for i in range(3):
        for j in range(3):
            if i * j == x + y:
                return i, j
    return None


def try_in_loop(x, y):
    s = 0
    for k in range(4):
        try:
            if k == x:
                raise ValueError("k")
            s += 10 // (k - y)
        except ZeroDivisionError:
            s -= 1
            continue
        except ValueError:
            break
        finally:
            s += 100
    return s


def with_and_comprehension(x, y):
    import contextlib
    with contextlib.nullcontext(x) as v:
        values = [v * i for i in range(3) if i != y]
        if values and values[-1] > 2:
            return sum(values)
    return -sum(values)


def augmented_and_tuple_targets(x, y):
    pairs = [(1, 2), (3, 4), (x, y)]
    s = 0
    for a, b in pairs:
        if a > b:
            continue
        s += a * b
    return s


def while_true_break(x, y):
    n = x
    steps = 0
    while True:
        steps += 1
        if n <= 1 or steps > 20:
            break
        n = n // 2 if n % 2 == 0 else 3 * n + 1
    return steps, n + y


COUNTER = 0


def modifies_global(x, y):
    global COUNTER
    COUNTER = 0
    for i in range(x + 2):
        if i % 2 == 0:
            COUNTER += i + y
    return COUNTER


def try_assigned_then_if(x, y):
    try:
        if x == 0:
            raise KeyError(x)
        w = 10 // (y + 3)
    except (KeyError, ZeroDivisionError):
        pass
    if y > 0:
        w = y
    return w


def closure_mutation(x, y):
    total = 0

    def add(v):
        nonlocal total
        total += v
    for i in range(x + 1):
        if i % 2:
            add(i * y)
    return total


def walrus_and_del(x, y):
    out = []
    while (n := len(out)) < x:
        out.append(n * y)
        if n > 2:
            tmp = n  # noqa: F841
            del tmp
    return out, n


def star_args(*args, **kwargs):
    s = 0
    for a in args:
        if a in kwargs.values():
            continue
        s += a
    return s, sorted(kwargs)


FUNCTIONS = [nested_if, while_break_continue, for_else, while_else_return, early_returns,
             nested_loops, bool_ops, loop_local_and_carried, maybe_unbound,
             return_in_nested_loops, try_in_loop, with_and_comprehension,
             augmented_and_tuple_targets, while_true_break, modifies_global,
             try_assigned_then_if, closure_mutation, walrus_and_del]
INPUTS = list(itertools.product([-1, 0, 1, 2, 3, 5], [-3, 0, 1, 2, 4]))


def _outcome(fn, *args):
    try:
        return "ok", fn(*args)
    except Exception as exc:  # noqa: BLE001 - the oracle compares exception types
        return "raised", type(exc)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=lambda f: f.__name__)
def test_converted_matches_python(fn):
    converted = tf.autograph.to_graph(fn)
    assert converted is not fn
    for x, y in INPUTS:
        assert _outcome(converted, x, y) == _outcome(fn, x, y), (x, y)


def _numpy(value):
    if isinstance(value, tf.Tensor):
        return ("tensor", value.numpy().tolist())
    if isinstance(value, (list, tuple)):
        return type(value)(_numpy(v) for v in value)
    return value


@pytest.mark.parametrize("fn", [nested_if, while_break_continue, early_returns,
                                loop_local_and_carried, while_true_break],
                         ids=lambda f: f.__name__)
def test_converted_matches_eager_tensors(fn):
    converted = tf.autograph.to_graph(fn)
    for x, y in INPUTS[::3]:
        args = (tf.constant(x), tf.constant(y))
        a, b = _outcome(converted, *args), _outcome(fn, *args)
        assert a[0] == b[0]
        assert _numpy(a[1]) == _numpy(b[1]) if a[0] == "ok" else a == b


def test_unbound_variable_raises_like_python():
    with pytest.raises(UnboundLocalError):
        maybe_unbound(-1, 0)
    with pytest.raises(UnboundLocalError, match="'z'"):
        tf.autograph.to_graph(maybe_unbound)(-1, 0)


def test_side_effect_order_of_boolean_operators():
    converted = tf.autograph.to_graph(bool_ops)
    for x, y in [(0, 1), (2, 0), (3, 4)]:
        assert converted(x, y)[-1] == bool_ops(x, y)[-1]


def test_eager_numpy_values():
    converted = tf.autograph.to_graph(nested_if)
    assert converted(np.float64(2.0), np.float64(-5.0)) == nested_if(np.float64(2.0),
                                                                       np.float64(-5.0))


def test_star_args_and_keyword_calls():
    converted = tf.autograph.to_graph(star_args)
    for args, kwargs in [((1, 2, 3), {"k": 2}), ((), {}), ((5, 5), {"a": 5, "b": 1})]:
        assert converted(*args, **kwargs) == star_args(*args, **kwargs)
