"""tf.TensorArray: eager semantics and errors (TensorFlow 2.21's), gradients against finite
differences, abstract evaluation, and use inside tf.function graphs."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave.util import nest
from tests.harness import check_abstract, check_grad

F64 = tf.float64


def _ta(*rows, dtype=tf.float32, **kwargs):
    ta = tf.TensorArray(dtype, size=len(rows), **kwargs)
    for i, row in enumerate(rows):
        ta = ta.write(i, row)
    return ta


# -- the seed's example (002, TensorArray) --------------------------------------------------------
def test_seed_example():
    array = tf.TensorArray(dtype=tf.float32, size=3)
    array = array.write(0, tf.constant([1., 2.]))
    array = array.write(1, tf.constant([3., 10.]))
    array = array.write(2, tf.constant([5., 7.]))
    tensor1 = array.read(1)
    np.testing.assert_array_equal(tensor1.numpy(), [3., 10.])
    assert tensor1.dtype == tf.float32
    # clear_after_read (the default): the slot read is cleared, stack sees zeros there
    np.testing.assert_array_equal(array.stack().numpy(), [[1., 2.], [0., 0.], [5., 7.]])

    array2 = tf.TensorArray(dtype=tf.float32, size=3, clear_after_read=False)
    array2 = array2.write(0, tf.constant([1., 2.]))
    array2 = array2.write(1, tf.constant([3., 10.]))
    array2 = array2.write(2, tf.constant([5., 7.]))
    np.testing.assert_array_equal(array2.read(1).numpy(), [3., 10.])
    np.testing.assert_array_equal(array2.read(1).numpy(), [3., 10.])
    np.testing.assert_array_equal(array2.stack().numpy(), [[1., 2.], [3., 10.], [5., 7.]])

    array3 = tf.TensorArray(dtype=tf.float32, size=0, dynamic_size=True)
    array3 = array3.write(0, tf.constant([1., 2.]))
    array3 = array3.write(1, tf.constant([3., 10.]))
    array3 = array3.write(2, tf.constant([5., 7.]))
    assert str(array3.read(1)) == "tf.Tensor([ 3. 10.], shape=(2,), dtype=float32)"
    stacked = array3.stack()
    assert stacked.shape == (3, 2) and stacked.dtype == tf.float32
    np.testing.assert_array_equal(stacked.numpy(), [[1., 2.], [0., 0.], [5., 7.]])


def test_read_twice_after_clear_is_an_error():
    ta = _ta([1., 2.], [3., 4.])
    ta.read(1)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"^Could not read index 1 twice "
                       r"because it was cleared after a previous read \(perhaps try setting "
                       r"clear_after_read = false\?\)$"):
        ta.read(1)
    # writing again makes it readable again (once)
    ta = ta.write(1, [5., 6.])
    np.testing.assert_array_equal(ta.read(1).numpy(), [5., 6.])
    # gather and stack do not clear
    ta2 = _ta(1., 2.)
    ta2.gather([0, 1])
    ta2.stack()
    assert float(ta2.read(0)) == 1.0


# -- eager: the array changes in place, as TensorFlow's eager TensorArray ------------------------
def test_eager_write_updates_the_array_itself():
    ta = tf.TensorArray(tf.float32, size=2)
    result = ta.write(0, [1., 2.])
    assert result is ta
    ta.write(1, [3., 4.])  # not reassigned: still visible, as in eager TensorFlow
    np.testing.assert_array_equal(ta.stack().numpy(), [[1., 2.], [3., 4.]])
    assert ta.element_shape == tf.TensorShape([2])


def test_write_twice_overwrites():
    ta = tf.TensorArray(tf.float32, size=2, clear_after_read=False)
    ta = ta.write(0, 1.).write(0, 5.)
    assert float(ta.read(0)) == 5.0


def test_python_values_take_the_array_dtype():
    ta = tf.TensorArray(tf.float32, size=2).write(0, [1, 2]).write(1, np.array([3, 4]))
    out = ta.stack()
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[1., 2.], [3., 4.]])


def test_other_dtypes():
    out = tf.TensorArray(tf.int32, size=2).write(0, 1).write(1, 2).stack()
    assert out.dtype == tf.int32 and out.numpy().tolist() == [1, 2]
    strings = tf.TensorArray(tf.string, size=3).write(0, "a").write(2, "bc").stack()
    assert strings.dtype == tf.string and strings.numpy().tolist() == [b"a", b"", b"bc"]
    assert tf.TensorArray("float64", size=1).dtype == tf.float64


# -- errors (TensorFlow 2.21 eager messages) -------------------------------------------------------
def test_index_errors():
    ta = tf.TensorArray(tf.float32, size=3)
    with pytest.raises(tf.errors.OutOfRangeError,
                       match=r"^Tried to write to index 5 but array is not resizeable and size "
                             r"is: 3 $"):
        ta.write(5, 1.)
    with pytest.raises(tf.errors.OutOfRangeError,
                       match=r"^Writing to negative indices \(index -1\) is not allowed\.$"):
        ta.write(-1, 1.)
    ta = ta.write(0, 1.)
    with pytest.raises(tf.errors.OutOfRangeError,
                       match=r"^Tried to read from index 7 but array size is: 3 $"):
        ta.read(7)
    with pytest.raises(tf.errors.OutOfRangeError,
                       match=r"^Reading from negative indices \(index -1\) is not allowed\.$"):
        ta.read(-1)
    with pytest.raises(tf.errors.OutOfRangeError, match="Tried to write to index 4"):
        ta.scatter([4], [1.])
    with pytest.raises(TypeError, match="list indices must be integers or slices, not float"):
        ta.read(1.0)


def test_dtype_and_shape_errors():
    ta = tf.TensorArray(tf.float32, size=3).write(0, [1., 2.])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^TensorArray dtype is float32 but Op is trying to write dtype "
                             r"int32 $"):
        ta.write(1, tf.constant([1, 2]))
    with pytest.raises(ValueError, match=r"^Incompatible shape for value \(\(3,\)\), expected "
                                         r"\(\(2,\)\)$"):
        ta.write(1, [1., 2., 3.])
    declared = tf.TensorArray(tf.float32, size=2, element_shape=[None, 2])
    declared = declared.write(0, [[1., 2.]])
    assert declared.element_shape == tf.TensorShape([1, 2])
    with pytest.raises(ValueError, match=r"expected \(\(1, 2\)\)"):
        declared.write(1, [[1., 2.], [3., 4.]])


def test_unwritten_elements():
    ta = tf.TensorArray(tf.float32, size=3)
    msg = r"^Cannot convert a partially known TensorShape <unknown> to a Tensor\.$"
    with pytest.raises(ValueError, match=msg):
        ta.read(0)
    with pytest.raises(ValueError, match=msg):
        ta.stack()
    with pytest.raises(ValueError, match=msg):
        ta.concat()
    # once the element shape is known, unwritten elements read as zeros
    ta = ta.write(1, [1., 2.])
    np.testing.assert_array_equal(ta.read(2).numpy(), [0., 0.])
    np.testing.assert_array_equal(ta.gather([0, 1]).numpy(), [[0., 0.], [1., 2.]])
    declared = tf.TensorArray(tf.float32, size=2, element_shape=[3])
    np.testing.assert_array_equal(declared.stack().numpy(), np.zeros((2, 3)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="^Size must be declared for TensorArrays when eager "
                                         "execution is enabled.$"):
        tf.TensorArray(tf.float32)
    with pytest.raises(ValueError, match="handles are not supported"):
        tf.TensorArray(tf.float32, size=1, handle=tf.constant(0))
    with pytest.raises(TypeError, match="'float' object cannot be interpreted as an integer"):
        tf.TensorArray(tf.float32, size=2.5)
    with pytest.raises(NotImplementedError, match="TensorArray.grad is not supported when "
                                                  "executing eagerly"):
        tf.TensorArray(tf.float32, size=1).grad("source")


def test_infer_shape_false_allows_ragged_elements():
    ta = tf.TensorArray(tf.float32, size=3, infer_shape=False, clear_after_read=False)
    ta = ta.write(0, [1., 2.]).write(1, [3.]).write(2, [4., 5., 6.])
    assert ta.element_shape == tf.TensorShape(None)
    np.testing.assert_array_equal(ta.concat().numpy(), [1., 2., 3., 4., 5., 6.])
    np.testing.assert_array_equal(ta.read(2).numpy(), [4., 5., 6.])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Shapes of all inputs must match: values\[0\]\.shape = \[2\] != "
                             r"values\[1\]\.shape = \[1\]"):
        ta.stack()


# -- whole-array operations against NumPy ----------------------------------------------------------
def test_dynamic_size_grows_on_write():
    ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)
    assert ta.dynamic_size is True and int(ta.size()) == 0
    ta = ta.write(4, [1.])
    assert int(ta.size()) == 5
    np.testing.assert_array_equal(ta.stack().numpy(), [[0.], [0.], [0.], [0.], [1.]])
    with pytest.raises(tf.errors.OutOfRangeError,
                       match=r"Tried to read from index 10 but array size is: 5 "):
        ta.read(10)
    grown = tf.TensorArray(tf.float32, size=2, dynamic_size=True).scatter([4, 1], [1., 2.])
    np.testing.assert_array_equal(grown.stack().numpy(), [0., 2., 0., 0., 1.])


def test_unstack_scatter_gather():
    value = np.arange(12, dtype=np.float32).reshape(4, 3)
    ta = tf.TensorArray(tf.float32, size=4).unstack(value)
    np.testing.assert_array_equal(ta.stack().numpy(), value)
    np.testing.assert_array_equal(ta.gather([3, 0, 3]).numpy(), value[[3, 0, 3]])
    np.testing.assert_array_equal(ta.gather(tf.constant([1, 2])).numpy(), value[[1, 2]])
    assert ta.gather([]).shape == (0, 3)
    # unstack replaces the whole content: its size is the number of rows
    small = tf.TensorArray(tf.float32, size=3).unstack(value[:2])
    assert int(small.size()) == 2
    with pytest.raises(ValueError, match=r"^Cannot unstack 4 tensors into a TensorArray of "
                                         r"static size 1 $"):
        tf.TensorArray(tf.float32, size=1).unstack(value)
    assert int(tf.TensorArray(tf.float32, size=1, dynamic_size=True).unstack(value).size()) == 4

    scattered = tf.TensorArray(tf.float32, size=5).scatter([4, 0], value[:2])
    expected = np.zeros((5, 3), np.float32)
    expected[[4, 0]] = value[:2]
    np.testing.assert_array_equal(scattered.stack().numpy(), expected)


def test_split_and_concat():
    value = np.arange(12, dtype=np.float32).reshape(6, 2)
    ta = tf.TensorArray(tf.float32, size=3, infer_shape=False).split(value, [1, 2, 3])
    for i, (a, b) in enumerate([(0, 1), (1, 3), (3, 6)]):
        np.testing.assert_array_equal(ta.read(i).numpy(), value[a:b])
    ta = tf.TensorArray(tf.float32, size=3).split(value, [1, 2, 3])
    np.testing.assert_array_equal(ta.concat().numpy(), value)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^Expected sum of lengths to be equal to values.shape\[0\], but sum "
                             r"of lengths is 5 and value's shape is: \[6, 2\] $"):
        tf.TensorArray(tf.float32, size=3).split(value, [1, 2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^TensorArray's size is not equal to the size of lengths "
                             r"\(2 vs. 3\), and the TensorArray is not marked as dynamically "
                             r"resizeable.$"):
        tf.TensorArray(tf.float32, size=2).split(value, [2, 2, 2])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"Expected value to be at least a vector"):
        tf.TensorArray(tf.float32, size=2).split(1., [1, 1])
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=r"^Concat saw a scalar shape at index 0 but requires at least "
                             r"vectors\.$"):
        _ta(1., 2.).concat()
    rows = _ta([[1.]], [[2.], [3.]], infer_shape=False).concat()
    np.testing.assert_array_equal(rows.numpy(), [[1.], [2.], [3.]])


def test_size_close_identity():
    ta = _ta(1., 2., 3.)
    size = ta.size()
    assert size.dtype == tf.int32 and int(size) == 3
    assert ta.identity() is ta
    assert ta.close() is None
    assert int(ta.size()) == 0
    assert ta.stack().shape == (0,)
    empty = tf.TensorArray(tf.float32, size=0, element_shape=[2]).stack()
    assert empty.shape == (0, 2) and empty.dtype == tf.float32


# -- the object: properties, repr, spec, composite protocol ----------------------------------------
def test_properties_and_repr():
    ta = tf.TensorArray(tf.float32, size=2, element_shape=[3])
    assert ta.dtype == tf.float32
    assert ta.element_shape == tf.TensorShape([3])
    assert ta.dynamic_size is False
    assert ta.handle is None
    assert ta.flow.dtype == tf.variant and ta.flow.shape == ()
    assert repr(ta).startswith("<tensorflow.python.ops.tensor_array_ops.TensorArray object at 0x")
    assert tf.TensorArray(tf.float32, size=1).element_shape == tf.TensorShape(None)


def test_tensor_array_spec():
    spec = tf.TensorArraySpec([2], tf.float32)
    assert repr(spec) == "TensorArraySpec(TensorShape([2]), tf.float32, False, True)"
    assert repr(tf.TensorArraySpec()) == \
        "TensorArraySpec(TensorShape(None), tf.float32, False, True)"
    ta = tf.TensorArray(tf.float32, size=2).write(0, [1., 2.])
    assert ta._type_spec == spec
    assert hash(ta._type_spec) == hash(spec)
    assert tf.TensorArraySpec(None, tf.float32).is_compatible_with(spec)
    assert not tf.TensorArraySpec([3], tf.float32).is_compatible_with(spec)


def test_composite_components():
    ta = tf.TensorArray(tf.float32, size=2, dynamic_size=True, element_shape=[2])
    ta = ta.write(0, [1., 2.])
    flat = nest.flatten({"ta": ta, "x": 1}, expand_composites=True)
    assert flat[0] is ta.flow and flat[1] == 1
    rebuilt = nest.pack_sequence_as({"ta": ta, "x": 1}, flat, expand_composites=True)["ta"]
    assert isinstance(rebuilt, tf.TensorArray) and rebuilt is not ta
    assert rebuilt.dynamic_size and rebuilt.element_shape == ta.element_shape
    np.testing.assert_array_equal(rebuilt.stack().numpy(), [[1., 2.], [0., 0.]])


# -- gradients against finite differences (float64) ------------------------------------------------
def test_grad_write_stack():
    def fn(x, y):
        ta = tf.TensorArray(F64, size=3)
        ta = ta.write(0, x * y).write(2, tf.sin(x))
        return ta.stack()
    check_grad(fn, [0.3, -1.2], [1.5, 0.7])
    check_grad(fn, [0.3, -1.2], [1.5, 0.7], order=2)


def test_grad_write_read():
    def fn(x):
        ta = tf.TensorArray(F64, size=2)
        ta = ta.write(0, x * x).write(1, x)
        return ta.read(0)  # only index 0 contributes
    check_grad(fn, [0.5, -2.0, 1.5])
    check_grad(fn, [0.5, -2.0, 1.5], order=2)


def test_grad_dynamic_write_beyond_size():
    def fn(x):
        ta = tf.TensorArray(F64, size=1, dynamic_size=True)
        ta = ta.write(0, tf.exp(x)).write(3, x * 3.)
        return ta.stack()
    check_grad(fn, [0.1, 0.4])


def test_grad_overwritten_value_gets_nothing():
    x = tf.constant([1., 2.], F64)
    y = tf.constant([3., 4.], F64)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([x, y])
        ta = tf.TensorArray(F64, size=1).write(0, x * 5.).write(0, y * 2.)
        out = tf.reduce_sum(ta.stack())
    assert tape.gradient(out, x) is None or not np.any(tape.gradient(out, x).numpy())
    np.testing.assert_allclose(tape.gradient(out, y).numpy(), [2., 2.])


def test_grad_unstack_gather():
    def fn(x):
        ta = tf.TensorArray(F64, size=3).unstack(x * x)
        return ta.gather([2, 0, 2])  # a repeated index: its gradients add
    check_grad(fn, np.arange(6.0).reshape(3, 2) - 2.5)


def test_grad_scatter_stack():
    def fn(x, y):
        ta = tf.TensorArray(F64, size=4).scatter([3, 1], x)
        ta = ta.write(0, y)
        return ta.stack() * tf.constant([[1.], [2.], [3.], [4.]], F64)
    check_grad(fn, [[1., 2.], [3., 4.]], [0.5, -0.5])


def test_grad_split_concat():
    def fn(x):
        ta = tf.TensorArray(F64, size=3, infer_shape=False).split(tf.tanh(x), [1, 3, 2])
        return ta.concat()
    check_grad(fn, np.linspace(-1, 1, 12).reshape(6, 2))

    def read_piece(x):
        ta = tf.TensorArray(F64, size=3, infer_shape=False).split(x * x, [1, 3, 2])
        return ta.read(1)
    check_grad(read_piece, np.linspace(-1, 1, 6))


def test_grad_unstack_read():
    def fn(x):
        ta = tf.TensorArray(F64, size=3).unstack(tf.exp(x))
        return ta.read(2)
    check_grad(fn, [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]])


def test_grad_handle_used_twice():
    """Two reads of one handle: the tape adds the two variant gradients."""
    def fn(x):
        ta = tf.TensorArray(F64, size=2, clear_after_read=False)
        ta = ta.write(0, x * x).write(1, tf.sin(x))
        return ta.read(0) * 2. + ta.read(1) + ta.stack()[1]
    check_grad(fn, [0.3, 1.1])


def test_grad_eager_reads_with_clear_then_stack():
    x = tf.constant([1., 2.])
    with tf.GradientTape() as tape:
        tape.watch(x)
        ta = tf.TensorArray(tf.float32, size=3)
        ta = ta.write(0, x * 2.).write(1, x * x).write(2, x * 7.)
        r0, r1 = ta.read(0), ta.read(1)
        stacked = ta.stack()  # rows 0 and 1 were cleared by the reads
        y = tf.reduce_sum(r0 * 3. + r1 * 5.) + tf.reduce_sum(stacked)
    np.testing.assert_allclose(tape.gradient(y, x).numpy(), 6. + 10. * x.numpy() + 7.)


# -- abstract evaluation --------------------------------------------------------------------------
def test_abstract_evaluation_matches_outputs():
    value = np.arange(6, dtype=np.float32).reshape(3, 2)

    def run(v):
        ta = tf.TensorArray(tf.float32, size=3, clear_after_read=False).unstack(v)
        ta = ta.write(1, [9., 9.]).scatter([0], v[:1])
        outs = [ta.read(1), ta.stack(), ta.gather([2, 0]), ta.concat(), ta.size()]
        split = tf.TensorArray(tf.float32, size=2, infer_shape=False).split(v, [1, 2])
        return outs + [split.concat(), split.read(1)]
    outs = check_abstract(run, tf.constant(value))
    assert outs[1].shape == (3, 2) and outs[3].shape == (6,)


# -- inside tf.function ---------------------------------------------------------------------------
def test_in_function_write_read_stack():
    @tf.function
    def f(x):
        ta = tf.TensorArray(tf.float32, size=3)
        written = ta.write(0, x * 2.).write(2, x * x)
        shapes.append((ta.element_shape, written.stack().shape, written.read(0).shape))
        ta.write(1, x)  # functional in a graph: a write not kept is lost
        return written.stack(), written.read(0) + written.read(0), written.size()
    shapes = []
    stacked, doubled, size = f(tf.constant([1., 2.]))
    np.testing.assert_array_equal(stacked.numpy(), [[2., 4.], [0., 0.], [1., 4.]])
    np.testing.assert_array_equal(doubled.numpy(), [4., 8.])  # no clear_after_read in graphs
    assert int(size) == 3
    # the element shape learned by a write is shared with the array it came from, as in TF
    assert shapes[0] == (tf.TensorShape([2]), tf.TensorShape([3, 2]), tf.TensorShape([2]))


def test_in_function_unstack_gather_and_errors():
    @tf.function
    def f(x):
        ta = tf.TensorArray(tf.float32, size=3).unstack(x)
        return ta.gather([2, 0]), ta.concat()
    value = np.arange(6, dtype=np.float32).reshape(3, 2)
    gathered, joined = f(tf.constant(value))
    np.testing.assert_array_equal(gathered.numpy(), value[[2, 0]])
    np.testing.assert_array_equal(joined.numpy(), value.reshape(-1))

    @tf.function
    def out_of_range():
        return tf.TensorArray(tf.float32, size=3).write(5, [1., 2.]).stack()
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Trying to modify element 5 in a list with 3 elements."):
        out_of_range()

    @tf.function
    def unknown_shape():
        return tf.TensorArray(tf.float32, size=3).read(1)
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match="Trying to read an uninitialized tensor but element_shape is not "
                             "fully defined"):
        unknown_shape()

    @tf.function
    def mismatch(x):
        return tf.TensorArray(tf.float32, size=2).write(0, x).write(1, [1., 2., 3.]).stack()
    with pytest.raises(ValueError, match=r"Inconsistent shapes: saw \(3,\) but expected \(2,\)"):
        mismatch(tf.constant([1., 2.]))


def test_in_function_gradient():
    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ta = tf.TensorArray(tf.float32, size=3)
            ta = ta.write(0, x * 2.).write(2, x * x)
            y = tf.reduce_sum(ta.stack() * tf.constant([[1.], [5.], [3.]]))
        return tape.gradient(y, x)
    x = np.array([1., 2.], np.float32)
    np.testing.assert_allclose(f(tf.constant(x)).numpy(), 2. + 6. * x)



def test_in_function_gradient_of_every_operation():
    @tf.function
    def f(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            pieces = tf.TensorArray(tf.float32, size=3).split(x * x, [2, 2, 2])
            joined = pieces.concat()
            rows = tf.reshape(x, [2, 3])
            gathered = tf.TensorArray(tf.float32, size=4).scatter([3, 1], rows).gather([1, 1, 3])
            read = tf.TensorArray(tf.float32, size=2).unstack(rows).read(1)
            grown = tf.TensorArray(tf.float32, size=1, dynamic_size=True).write(2, x).stack()
            y = (tf.reduce_sum(joined * tf.range(6.)) + tf.reduce_sum(gathered) * 2.
                 + tf.reduce_sum(read * 5.) + tf.reduce_sum(grown) * 7.)
        shapes.append((pieces.element_shape, joined.shape, gathered.shape, grown.shape))
        return tape.gradient(y, x)
    shapes = []
    x = np.arange(6, dtype=np.float32)
    expected = 2. * x * np.arange(6.) + [2., 2., 2., 4., 4., 4.] + [0., 0., 0., 5., 5., 5.] + 7.
    np.testing.assert_allclose(f(tf.constant(x)).numpy(), expected)
    assert shapes[0] == (tf.TensorShape([2]), tf.TensorShape([None]), tf.TensorShape([3, 3]),
                         tf.TensorShape([None, 6]))

# -- control flow: TensorArrays as loop variables and cond results ---------------------------------
def test_while_loop_squares_in_function():
    @tf.function
    def squares(n):
        ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)

        def body(i, ta):
            return i + 1, ta.write(i, tf.cast(i, tf.float32) ** 2)
        _, ta = tf.while_loop(lambda i, ta: i < n, body, [tf.constant(0), ta])
        stacked = ta.stack()
        static.append((stacked.shape, ta.element_shape))
        return stacked, ta.size()
    static = []
    for n in (5, 0, 3):
        stacked, size = squares(tf.constant(n))
        np.testing.assert_array_equal(stacked.numpy(), np.arange(n, dtype=np.float32) ** 2)
        assert int(size) == n
    assert static[0] == (tf.TensorShape([None]), tf.TensorShape([]))  # as TensorFlow: (None,)


def test_while_loop_eager():
    ta = tf.TensorArray(tf.float32, size=3)
    _, ta = tf.while_loop(lambda i, ta: i < 3,
                          lambda i, ta: (i + 1, ta.write(i, tf.cast(i, tf.float32) * 10.)), [0, ta])
    np.testing.assert_array_equal(ta.stack().numpy(), [0., 10., 20.])


def test_while_loop_gradient():
    @tf.function
    def powers(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ta = tf.TensorArray(tf.float32, size=4)

            def body(i, ta):
                return i + 1, ta.write(i, x ** tf.cast(i, tf.float32))
            _, ta = tf.while_loop(lambda i, ta: i < 4, body, [tf.constant(0), ta])
            y = tf.reduce_sum(ta.stack())
        return y, tape.gradient(y, x)
    y, dy = powers(tf.constant(2.0))
    assert float(y) == 1. + 2. + 4. + 8.
    assert float(dy) == 0. + 1. + 2. * 2. + 3. * 4.  # d/dx (1 + x + x^2 + x^3)

    @tf.function
    def squares(x, n):
        with tf.GradientTape() as tape:
            tape.watch(x)
            ta = tf.TensorArray(tf.float32, size=0, dynamic_size=True)

            def body(i, ta):
                return i + 1, ta.write(i, x * tf.cast(i, tf.float32) ** 2)
            _, ta = tf.while_loop(lambda i, ta: i < n, body, [tf.constant(0), ta])
            stacked = ta.stack()
        return stacked, tape.gradient(stacked, x)
    stacked, dx = squares(tf.constant(3.0), tf.constant(4))
    np.testing.assert_array_equal(stacked.numpy(), [0., 3., 12., 27.])
    assert float(dx) == 0. + 1. + 4. + 9.


def test_while_loop_reading_gradient():
    """Reads inside a loop: the loop's gradient sums the array's gradients over iterations."""
    @tf.function
    def total(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            src = tf.TensorArray(tf.float32, size=3).unstack(x * x)

            def body(i, acc, src):
                return i + 1, acc + src.read(i), src
            _, result, _ = tf.while_loop(lambda i, acc, src: i < 3, body,
                                         [tf.constant(0), tf.constant(0.), src])
        return result, tape.gradient(result, x)
    x = np.array([1., 2., 3.], np.float32)
    result, dx = total(tf.constant(x))
    assert float(result) == float(np.sum(x * x))
    np.testing.assert_allclose(dx.numpy(), 2. * x)


def test_cond_returns_tensor_arrays():
    @tf.function
    def f(pred, x):
        ta = tf.TensorArray(tf.float32, size=2)
        ta = tf.cond(pred, lambda: ta.write(0, x), lambda: ta.write(1, x * 2.))
        return ta.stack()
    x = tf.constant([1., 2.])
    np.testing.assert_array_equal(f(tf.constant(True), x).numpy(), [[1., 2.], [0., 0.]])
    np.testing.assert_array_equal(f(tf.constant(False), x).numpy(), [[0., 0.], [2., 4.]])
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = f(tf.constant(False), x)
    np.testing.assert_array_equal(tape.gradient(out, x).numpy(), [2., 2.])
