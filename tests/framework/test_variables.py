import copy

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
    with pytest.raises(ValueError, match="mixed types"):  # as TensorFlow
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


# -- behaviours checked against TensorFlow 2.21 --

def test_constructor_arguments_as_in_tensorflow():
    assert tf.Variable(1.0, name="w:0").name == "w:0:0"  # the name is kept as given
    assert tf.Variable(1.0, name="").name == ":0"
    with pytest.raises(ValueError, match="must be specified except when you are not providing a `variable_def`"):
        tf.Variable()
    with pytest.raises(ValueError, match="name for name_scope must be a string"):
        tf.Variable(1.0, name=3)
    on_read = tf.VariableSynchronization.ON_READ
    assert not tf.Variable(1.0, synchronization=on_read).trainable  # the default, not a rule
    assert tf.Variable(1.0, synchronization=on_read, trainable=True).trainable
    assert tf.Variable(1.0, aggregation=2).aggregation == tf.VariableAggregation.MEAN
    with pytest.raises(ValueError, match="Invalid variable aggregation mode: mean for variable: None"):
        tf.Variable(1.0, aggregation="mean")
    with pytest.raises(ValueError, match="Invalid variable synchronization mode: x for variable: None"):
        tf.Variable(1.0, synchronization="x")
    with pytest.raises(ValueError, match="Argument `constraint` must be None or a callable"):
        tf.Variable(1.0, constraint=3)
    with pytest.raises(ValueError, match=r"In this `tf.Variable` creation, the initial value's shape \(\(2,\)\)"):
        tf.Variable([1., 2.], shape=[3])
    with pytest.raises(ValueError, match="Incompatible type conversion requested to type float64"):
        tf.Variable(tf.Variable(1.0), dtype=tf.float64)
    with pytest.raises(TypeError, match="Cannot convert 'x' to EagerTensor of dtype float"):
        tf.Variable(lambda: "x", dtype=tf.float32)


def test_declared_shapes():
    unknown = tf.Variable([1., 2.], shape=tf.TensorShape(None))
    assert unknown.shape == tf.TensorShape(None) and "shape=<unknown>" in repr(unknown)
    unknown.assign([[1.]])
    assert unknown.shape.rank is None and unknown.value().shape == (1, 1)
    partial = tf.Variable([1., 2.], shape=[None])
    partial.assign([1., 2., 3.])
    assert partial.shape.as_list() == [None] and partial.numpy().tolist() == [1., 2., 3.]
    fixed = tf.Variable([1., 2.], validate_shape=False)  # no effect in eager TensorFlow
    assert fixed.shape == (2,)
    with pytest.raises(ValueError, match="Shape mismatch"):
        fixed.assign([[1.]])


def test_python_protocols_of_variables():
    v = tf.Variable([1., 2.])
    with pytest.raises(TypeError, match="has no len"):
        len(v)
    with pytest.raises(TypeError):
        [1, 2, 3][tf.Variable(1)]
    with pytest.raises(TypeError, match="unsupported format string"):
        f"{tf.Variable(1.5):.2f}"
    assert f"{v}" == repr(v)
    assert bool(tf.Variable(np.zeros(0))) is False
    assert copy.copy(v) is v
    with pytest.raises(TypeError, match=r"use variable.ref\(\) as the key. \(Variable: <tf.Variable"):
        hash(v)
    with pytest.raises(RuntimeError, match="not supported when eager execution is enabled"):
        v.initial_value
    with pytest.raises(AttributeError, match="Tensor.op is undefined"):
        v.op


def test_assign_add_needs_equal_shapes_and_a_numeric_dtype():
    v = tf.Variable([1., 2.])
    for delta in (1., [1.]):
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"Cannot update variable with shape \[2\] using a Tensor with shape"):
            v.assign_add(delta)
    with pytest.raises(tf.errors.InvalidArgumentError, match="No OpKernel was registered to support Op 'AssignAddVariableOp'"):
        tf.Variable(["a"]).assign_add(["b"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="No OpKernel.*AssignSubVariableOp"):
        tf.Variable([True]).assign_sub([True])
    assert v.numpy().tolist() == [1., 2.]
    small = tf.Variable(np.array([127], np.int8))
    small.assign_add(np.array([1], np.int64))  # NumPy values are cast, and wrap
    assert small.numpy().tolist() == [-128]


def test_sliced_assignment_broadcasts():
    v = tf.Variable([[1., 2.], [3., 4.]])
    v[1].assign(7.)
    v[:, 0].assign([[5.]])  # leading 1-dims beyond the slice's rank are dropped
    assert v.numpy().tolist() == [[5., 2.], [5., 7.]]
    v[0].assign([[[0., 1.]]])
    v[0:2, 1].assign([[8., 9.]])
    assert v.numpy().tolist() == [[0., 8.], [5., 9.]]
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Cannot broadcast input shape \[3\] into final shape \[2\]"):
        v[1].assign([7., 8., 9.])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Cannot broadcast input shape \[2,1\] into final shape \[2\]"):
        v[:, 0].assign([[5.], [6.]])
    assert v.numpy().tolist() == [[0., 8.], [5., 9.]]


def test_scatter_family():
    v = tf.Variable([1., 2., 3.])
    v.scatter_nd_max([[0], [2]], [5., 0.])
    v.scatter_nd_min([[1]], [-1.])
    assert v.numpy().tolist() == [5., -1., 3.]
    rows = lambda values, indices: tf.IndexedSlices(tf.constant(values), tf.constant(indices))
    v.scatter_mul(rows([2.], [0]))
    v.scatter_div(rows([2.], [2]))
    v.scatter_max(rows([0.], [1]))
    v.scatter_min(rows([1.], [0]))
    assert v.numpy().tolist() == [1., 0., 1.5]
    v.scatter_update(rows([[9., 8.]], [[1, 2]]))  # indices of any rank
    assert v.numpy().tolist() == [1., 9., 8.]
    ints = tf.Variable([7, -7, 5])
    ints.scatter_div(rows([2, 2], [0, 1]))  # truncates toward zero
    assert ints.numpy().tolist() == [3, -3, 5]
    with pytest.raises(tf.errors.InvalidArgumentError, match="updates must not contain 0"):
        ints.scatter_div(rows([0], [0]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[0\] = 5 is not in \[0, 3\)"):
        v.scatter_update(rows([9.], [5]))
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"The shape of indices \(\[1\]\) must be a prefix"):
        v.scatter_update(rows([9., 8.], [1]))
    with pytest.raises(TypeError, match="must be a `tf.IndexedSlices`"):
        v.scatter_update([1.])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"indices\[1\] = \[3, 1\] does not index into shape \[2,2\]"):
        tf.Variable([[1., 2.], [3., 4.]]).scatter_nd_update([[0, 0], [3, 1]], [5., 6.])
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"Dimensions \[0,1\) of indices\[shape=\[1,1\]\] = 1 must match"):
        v.scatter_nd_update([[1]], [5., 6.])
    with pytest.raises(tf.errors.InvalidArgumentError, match="Value for attr 'Tindices' of float"):
        v.scatter_nd_update([[1.0]], [5.])
    with pytest.raises(tf.errors.InvalidArgumentError, match="No OpKernel.*ResourceScatterNdAdd"):
        tf.Variable(["a"]).scatter_nd_add([[0]], ["b"])
    with pytest.raises(tf.errors.InvalidArgumentError, match="ResourceScatterMax"):
        tf.Variable([True]).scatter_max(rows([True], [0]))
    assert v.numpy().tolist() == [1., 9., 8.]


def test_sparse_read_and_gather_nd_are_differentiable_reads():
    v = tf.Variable([[1., 2.], [3., 4.], [5., 6.]])
    with tf.GradientTape() as tape:
        rows = v.sparse_read([2, 0])
        cells = v.gather_nd([[1, 1], [2, 0]])
        loss = tf.reduce_sum(rows) + 10.0 * tf.reduce_sum(cells)
    assert rows.numpy().tolist() == [[5., 6.], [1., 2.]]
    assert cells.numpy().tolist() == [4., 5.]
    assert tape.gradient(loss, v).numpy().tolist() == [[1., 1.], [0., 10.], [11., 1.]]
