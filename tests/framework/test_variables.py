import numpy as np
import pytest

import tensorweave as tf


def test_creation_names_and_repr():
    v = tf.Variable([[1., 2., 3.], [4., 5., 6.]])
    assert v.name == "Variable:0" and tf.Variable(1.0).name == "Variable:0"
    assert tf.Variable(1.0, name="w").name == "w:0"
    assert v.shape == (2, 3) and v.dtype is tf.float32 and v.trainable
    assert repr(tf.Variable(1.0)) == "<tf.Variable 'Variable:0' shape=() dtype=float32, numpy=1.0>"
    assert repr(tf.Variable([[1.9], [-2.9]])) == (
        "<tf.Variable 'Variable:0' shape=(2, 1) dtype=float32, numpy=\n"
        "array([[ 1.9],\n       [-2.9]], dtype=float32)>")
    assert tf.Variable(range(4), dtype=tf.float32).numpy().tolist() == [0., 1., 2., 3.]
    assert tf.Variable(lambda: tf.zeros((2,))).shape == (2,)
    assert not tf.Variable(1.0, trainable=False).trainable
    with pytest.raises(ValueError):
        tf.Variable(None)


def test_assign_family_returns_the_variable():
    v = tf.Variable([[1., 2., 3.], [4., 5., 6.]])
    assert v.assign(2 * v) is v
    np.testing.assert_array_equal(v.numpy(), [[2, 4, 6], [8, 10, 12]])
    v.assign_add([[1., 1., 1.], [1., 1., 1.]])
    v.assign_sub(tf.ones((2, 3)))
    np.testing.assert_array_equal(v.numpy(), [[2, 4, 6], [8, 10, 12]])
    assert v.read_value().numpy().tolist() == v.value().numpy().tolist()


def test_reads_are_snapshots():
    v = tf.Variable([1.0, 2.0])
    before = v.read_value()
    v.assign([5.0, 6.0])
    assert before.numpy().tolist() == [1.0, 2.0]
    copy = v.numpy()
    copy[0] = 100.0
    assert v.numpy()[0] == 5.0


def test_seed_002_variable_assignments():
    v = tf.Variable([[1., 2., 3.], [4., 5., 6.]])
    v.assign(2 * v)
    v[0, 1].assign(42)
    v[:, 2].assign([0., 1.])
    np.testing.assert_array_equal(v.numpy(), [[2, 42, 0], [8, 10, 1]])
    v.scatter_nd_update(indices=[[0, 0], [1, 2]], updates=[100., 200.])
    np.testing.assert_array_equal(v.numpy(), [[100, 42, 0], [8, 10, 200]])
    with pytest.raises(TypeError, match="does not support item assignment"):
        v[1] = [7., 8., 9.]
    v[1].assign([7, 8, 9])
    np.testing.assert_array_equal(v.numpy(), [[100, 42, 0], [7, 8, 9]])


def test_scatter_add_sub_and_update():
    v = tf.Variable([1., 2., 3., 4.])
    v.scatter_nd_add([[1], [1], [3]], [10., 10., 1.])
    np.testing.assert_array_equal(v.numpy(), [1, 22, 3, 5])
    v.scatter_nd_sub([[0]], [1.])
    v.scatter_update(tf.IndexedSlices(tf.constant([9., 8.]), tf.constant([2, 3])))
    np.testing.assert_array_equal(v.numpy(), [0, 22, 9, 8])


def test_failed_assignments_leave_the_value_unchanged():
    v = tf.Variable([[1., 2.], [3., 4.]])
    before = v.numpy()
    with pytest.raises(ValueError, match="Shape mismatch"):
        v.assign([1., 2.])
    with pytest.raises(ValueError, match="requested dtype float32"):
        v.assign(tf.constant([[1, 2], [3, 4]]))
    with pytest.raises(TypeError):
        v.assign([[1.5, "x"], [1., 2.]])
    with pytest.raises(tf.errors.InvalidArgumentError):
        v.assign_add([1., 2., 3.])
    with pytest.raises(tf.errors.InvalidArgumentError):
        v.scatter_nd_update([[5, 0]], [1.])
    with pytest.raises(tf.errors.InvalidArgumentError):
        v[0].assign([1., 2., 3.])
    np.testing.assert_array_equal(v.numpy(), before)


def test_variable_is_accepted_where_a_tensor_is():
    v = tf.Variable([1., 2.])
    assert (v + 1).numpy().tolist() == [2., 3.]
    assert (1 + v).numpy().tolist() == [2., 3.]
    assert tf.reduce_sum(v).numpy() == 3.0
    assert np.square(v).tolist() == [1., 4.]
    assert tf.convert_to_tensor(v).dtype is tf.float32
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.Variable(1.) + tf.constant(1)
    with pytest.raises(TypeError, match="unhashable"):
        hash(v)
    assert v.ref() == v.ref()
