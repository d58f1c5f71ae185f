import warnings

import numpy as np
import pytest

import tensorweave as tf


def f(w1, w2):
    return 3 * w1 ** 2 + 2 * w1 * w2


def test_non_persistent_tape_allows_one_gradient():
    w1, w2 = tf.Variable(5.), tf.Variable(3.)
    with tf.GradientTape() as tape:
        z = f(w1, w2)
    tape.gradient(z, w1)
    with pytest.raises(RuntimeError, match="non-persistent"):
        tape.gradient(z, w2)
    assert tape._records is None  # released what it recorded


def test_dict_sources_keep_their_structure():
    w1, w2 = tf.Variable(5.), tf.Variable(3.)
    with tf.GradientTape() as tape:
        z1 = f(w1, w2 + 2.)
    as_dict = tape.gradient(z1, {"a": w1, "b": w2})
    assert set(as_dict) == {"a", "b"} and as_dict["b"].numpy() == 10.0


def test_output_gradients_and_vector_targets():
    x = tf.constant([1.0, 2.0, 3.0])
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    g = tape.gradient(y, x, output_gradients=tf.constant([1.0, 0.0, 2.0]))
    assert g.numpy().tolist() == [2.0, 0.0, 12.0]


def test_unconnected_gradients():
    x, y = tf.Variable(1.0), tf.Variable(2.0)
    with tf.GradientTape(persistent=True) as tape:
        z = x * 3.0
    assert tape.gradient(z, y) is None
    assert tape.gradient(z, y, unconnected_gradients=tf.UnconnectedGradients.ZERO).numpy() == 0.0
    assert tape.gradient(z, y, unconnected_gradients="zero").numpy() == 0.0


def test_integer_sources_give_none_with_a_logged_warning(caplog, monkeypatch):
    from tensorweave.autodiff import tape as tape_module
    monkeypatch.setattr(tape_module, "_dtype_warnings", [5])  # logged five times at most
    x = tf.constant(3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # TensorFlow logs; it raises no Python warning
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        assert tape.gradient(y, x) is None
    assert "The dtype of the watched tensor must be floating (e.g. tf.float32), got tf.int32" in caplog.text


def test_non_trainable_and_unwatched_accessed_variables():
    v = tf.Variable(2.0, trainable=False)
    w = tf.Variable(2.0)
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        y = v * w
    assert tape.gradient(y, [v, w]) == [None, None]
    with tf.GradientTape(watch_accessed_variables=False) as tape:
        tape.watch(v)
        y = v * w
    assert tape.gradient(y, v).numpy() == 2.0
    with tf.GradientTape() as tape:
        y = v * w
    assert tape.watched_variables() == (w,)


def test_reset_forgets_what_was_recorded():
    x = tf.Variable(2.0)
    with tf.GradientTape() as t:
        loss = x * x
        t.reset()
        loss = loss + x * 3.0
    assert t.gradient(loss, x).numpy() == 3.0


def test_higher_order_with_one_persistent_tape():
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as t:
        t.watch(x)
        y = x ** 3
        dy = t.gradient(y, x)
        d2y = t.gradient(dy, x)
    assert dy.numpy() == 12.0 and d2y.numpy() == 12.0
    assert t.gradient(d2y, x).numpy() == 6.0


def test_jacobian_shapes_and_batch_jacobian():
    x = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = tf.stack([x * x, x * 3.0], axis=1)  # [2, 2, 2]
    jac = tape.jacobian(y, x)
    assert jac.shape == (2, 2, 2, 2, 2)
    bj = tape.batch_jacobian(y, x)
    assert bj.shape == (2, 2, 2, 2)
    np.testing.assert_array_equal(bj.numpy()[1, 0], [[6.0, 0.0], [0.0, 8.0]])
    np.testing.assert_array_equal(bj.numpy()[0, 1], [[3.0, 0.0], [0.0, 3.0]])


def test_gradient_through_indexing_gather_and_where():
    x = tf.Variable([1.0, 2.0, 3.0, 4.0])
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(x[1:3] * 10.0) + tf.reduce_sum(tf.gather(x, [0, 0, 3]))
        y = y + tf.reduce_sum(tf.where(x > 2.5, x * x, tf.zeros_like(x)))
    assert tape.gradient(y, x).numpy().tolist() == [2.0, 10.0, 16.0, 9.0]


def test_stop_gradient():
    w1, w2 = tf.Variable(5.), tf.Variable(3.)
    with tf.GradientTape() as tape:
        z = 3 * w1 ** 2 + tf.stop_gradient(2 * w1 * w2)
    g = tape.gradient(z, [w1, w2])
    assert g[0].numpy() == 30.0 and g[1] is None


def test_reentering_a_recording_tape_fails():
    tape = tf.GradientTape()
    with tape:
        with pytest.raises(ValueError):
            tape.__enter__()


def test_watch_nested_structures():
    a, b = tf.constant(1.0), tf.constant(2.0)
    with tf.GradientTape() as tape:
        tape.watch({"a": a, "rest": [b]})
        y = a * b
    assert [g.numpy() for g in tape.gradient(y, [a, b])] == [2.0, 1.0]


def test_no_warning_for_float_sources():
    x = tf.Variable(1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with tf.GradientTape() as tape:
            y = x * 2.0
        tape.gradient(y, x)


def test_tapes_are_per_thread():
    import threading

    from tensorweave.framework.context import state
    x = tf.Variable(3.0)
    seen = {}

    def worker():
        seen["tapes"] = list(state.tapes)
        seen["value"] = (x * 2.0).numpy()

    with tf.GradientTape() as tape:
        y = x * x
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert seen["tapes"] == [] and seen["value"] == 6.0
    assert len(tape._records) == 3  # two reads of x and x * x: nothing from the worker
    assert tape.gradient(y, x).numpy() == 6.0


def test_gradients_nothing_depends_on_are_not_computed():
    from tensorweave.ops import linalg_ops
    calls = []
    original = linalg_ops._mm

    def counting_mm(*args):
        calls.append(args)
        return original(*args)

    linalg_ops._mm = counting_mm
    try:
        x = tf.constant([[1.0, 2.0]])
        w = tf.Variable([[3.0], [4.0]])
        with tf.GradientTape() as tape:
            y = tf.matmul(x, w)
        assert tape.gradient(y, w).numpy().tolist() == [[1.0], [2.0]]
    finally:
        linalg_ops._mm = original
    assert len(calls) == 1  # dW only: x is not watched


# -- behaviours checked against TensorFlow 2.21 --

def test_integer_variables_are_watched_but_get_no_gradient():
    v = tf.Variable(3)
    with tf.GradientTape() as tape:
        y = v * 2
    assert tape.gradient(y, v) is None
    assert tape.watched_variables() == (v,)
    with tf.GradientTape() as tape:
        tape.watch(tf.Variable(4))
    assert len(tape.watched_variables()) == 1


def test_watched_variables_come_in_creation_order():
    a, b, c = tf.Variable(1.0, name="z"), tf.Variable(2.0, name="a"), tf.Variable(3.0, name="m")
    with tf.GradientTape() as tape:
        tape.watch(c)
        b * a + c
    assert [v.name for v in tape.watched_variables()] == ["z:0", "a:0", "m:0"]


def test_stop_recording_and_reset_need_a_recording_tape():
    with pytest.raises(RuntimeError, match="Trying to stop recording a tape which is not recording"):
        with tf.GradientTape().stop_recording():
            pass
    with tf.GradientTape() as tape:
        with tape.stop_recording():
            with pytest.raises(ValueError, match="Tape is not recording"):
                with tape.stop_recording():
                    pass
    x = tf.constant(2.0)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(ValueError, match="Tape is not recording"):
        tape.reset()
    assert tape.gradient(y, x).numpy() == 4.0


def test_targets_as_tensorflow_takes_them():
    v = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        s = tf.constant("a")
    assert tape.gradient(v, v).numpy() == 1.0  # a variable target is its own source
    assert tape.gradient(s, v) is None
    with pytest.raises(TypeError, match="Argument `target` should be a list or nested structure"):
        tape.gradient(None, v)
    with pytest.raises(TypeError, match="Cannot convert the argument `type_value`: 'abc'"):
        tape.gradient(v, "abc")


def test_output_gradients_as_tensorflow_takes_them():
    x = tf.constant([1.0, 2.0])

    def tape_and_target():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = x * x
        return tape, y
    tape, y = tape_and_target()
    with pytest.raises(ValueError, match="Unknown value for unconnected_gradients: 'bad'"):
        tape.gradient(y, x, unconnected_gradients="bad")
    tape, y = tape_and_target()
    with pytest.raises(tf.errors.InvalidArgumentError, match="Mul"):  # converted on their own
        tape.gradient(y, x, output_gradients=[1, 2])


def test_jacobian_edge_cases():
    x = tf.constant([1.0, 2.0])
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        empty = x[:0]
        y = x * 2.0
    j = tape.jacobian(empty, x)
    assert j.shape == (0, 2) and j.dtype is tf.float32
    with pytest.raises(AttributeError):
        tape.jacobian([y, y], x)
    with pytest.raises(ValueError, match=r"Shape \(2,\) must have rank at least 2"):
        tape.batch_jacobian(y, x)


def test_batch_jacobian_of_an_unconnected_source_is_zero():
    x, z = tf.constant([[1.0, 2.0]]), tf.constant([[3.0]])
    with tf.GradientTape() as tape:
        tape.watch([x, z])
        y = x * 2.0
    j = tape.batch_jacobian(y, z)
    assert j.shape == (1, 2, 1) and j.numpy().tolist() == [[[0.0], [0.0]]]


def test_custom_gradient_reading_variables_needs_a_variables_argument():
    v = tf.Variable(2.0)

    @tf.custom_gradient
    def f(x):
        return x * v, lambda dy: dy * 5.0

    x = tf.constant(3.0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        with pytest.raises(TypeError, match="grad_fn must accept keyword argument 'variables', since function uses variables"):
            f(x)
