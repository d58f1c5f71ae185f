"""`tensor[...]` indexing (StridedSlice and its gradient) and `variable[...]` slices."""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_abstract, check_grad
from tensorweave.framework.errors import InvalidArgumentError
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.ops import array_ops, indexing
from tensorweave.ops.array_ops import getitem, getitem_variable

CUBE = np.arange(60, dtype=np.float64).reshape(3, 4, 5) / 9.0 - 2.0
X = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])

# NumPy basic indexing is the reference: TensorFlow's `t[...]` agrees with it on these keys.
KEYS = [
    1, -1, (0, 2), (-1, -2, -3), slice(None), slice(1, None), slice(None, None, -1),
    slice(-1, 0, -2), slice(5, 10), slice(-10, 2), (slice(None), 1), (Ellipsis, 1),
    (Ellipsis, None, slice(1, 4, 2)), (None, 0, Ellipsis, None), (1, Ellipsis), Ellipsis,
    (slice(None, None, 2), slice(3, 0, -1), -1), (0, None, slice(None), None, 4),
    (slice(2, -5, -1), Ellipsis, slice(None, -1)),
]


@pytest.mark.parametrize("key", KEYS, ids=[repr(k) for k in KEYS])
def test_getitem_matches_numpy_basic_indexing(key):
    got = getitem(tf.constant(CUBE), key)
    want = CUBE[key]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want)
    assert got.dtype == tf.float64


def test_getitem_dtypes_and_scalars():
    ints = tf.constant([[1, 2], [3, 4]])
    assert getitem(ints, (1, 0)).dtype == tf.int32 and int(getitem(ints, (1, 0))) == 3
    assert getitem(tf.constant(3.0), Ellipsis).numpy() == 3.0
    assert getitem(tf.constant(["a", "b"]), 1).numpy() == b"b"
    assert getitem(tf.constant(X), None).shape == (1, 2, 3)


def test_getitem_tensor_and_numpy_indices():
    x = tf.constant(CUBE)
    np.testing.assert_array_equal(getitem(x, tf.constant(1)).numpy(), CUBE[1])
    np.testing.assert_array_equal(getitem(x, (tf.constant(1, tf.int64), -1)).numpy(), CUBE[1, -1])
    np.testing.assert_array_equal(getitem(x, tf.constant(2, tf.int16)).numpy(), CUBE[2])
    np.testing.assert_array_equal(getitem(x, (slice(None), slice(tf.constant(1), None))).numpy(), CUBE[:, 1:])
    np.testing.assert_array_equal(getitem(x, slice(None, None, tf.constant(-2))).numpy(), CUBE[::-2])
    np.testing.assert_array_equal(getitem(x, np.int64(1)).numpy(), CUBE[1])
    np.testing.assert_array_equal(getitem(x, np.array(2)).numpy(), CUBE[2])
    np.testing.assert_array_equal(getitem(x, [0, 1]).numpy(), CUBE[0, 1])  # a list is a tuple, as in TF
    np.testing.assert_array_equal(getitem(x, tf.newaxis).numpy(), CUBE[None])


def test_getitem_boolean_mask_key():
    x = tf.constant(X)
    np.testing.assert_array_equal(getitem(x, tf.constant([True, False])).numpy(), X[[True, False]])
    np.testing.assert_array_equal(getitem(x, np.array([[True, False, True], [False, True, False]])).numpy(),
                                  X[np.array([[True, False, True], [False, True, False]])])
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        getitem(x, True)


@pytest.mark.parametrize("key", [1.0, slice(0.5, None), np.array([0, 1]), "a", [[0, 1]],
                                 (0, [1]), tf.constant([0, 1]), tf.constant(1.0), slice(None, tf.constant([1]))])
def test_getitem_fancy_indexing_is_refused(key):
    with pytest.raises(TypeError, match=r"Only integers, slices \(`:`\), ellipsis \(`...`\), tf.newaxis "
                                        r"\(`None`\) and scalar tf.int32/tf.int64 tensors are valid indices"):
        getitem(tf.constant(X), key)


def test_getitem_errors():
    x = tf.constant(X)
    with pytest.raises(InvalidArgumentError, match="slice index 5 of dimension 0 out of bounds."):
        getitem(x, 5)
    with pytest.raises(InvalidArgumentError, match="slice index -3 of dimension 0 out of bounds."):
        getitem(x, -3)
    with pytest.raises(InvalidArgumentError, match="slice index 3 of dimension 1 out of bounds."):
        getitem(x, (0, 3))
    with pytest.raises(InvalidArgumentError, match="slice index 3 of dimension 1 out of bounds."):
        getitem(x, (Ellipsis, 3))
    with pytest.raises(InvalidArgumentError, match="Multiple ellipses in slice spec not allowed"):
        getitem(x, (Ellipsis, Ellipsis))
    with pytest.raises(InvalidArgumentError, match="Index out of range using input dim 2; input has only 2 dims"):
        getitem(x, (0, 0, 0))
    with pytest.raises(InvalidArgumentError, match=r"strides\[0\] must be non-zero"):
        getitem(x, slice(None, None, 0))
    with pytest.raises(InvalidArgumentError, match="Attempting to slice scalar input."):
        getitem(tf.constant(3.0), 0)
    assert getitem(x, slice(5, 10)).shape == (0, 3)  # slices clamp, as in Python


def test_getitem_gradients():
    check_grad(lambda x: getitem(x, (slice(None, None, -1), 1, slice(1, 4, 2))), CUBE)
    check_grad(lambda x: getitem(x, (Ellipsis, None, -1)), CUBE)
    check_grad(lambda x: getitem(x, 2), CUBE)
    check_grad(lambda x: tf.multiply(getitem(x, (0, slice(1, None))), getitem(x, (1, slice(None, 2)))), X)
    # second order: the gradient (StridedSliceGrad) is itself differentiable
    check_grad(lambda x: tf.multiply(getitem(x, (slice(None), 1)), getitem(x, (slice(None), 1))), X, order=2)
    check_grad(lambda x: tf.multiply(getitem(x, (Ellipsis, slice(None, None, -2))), getitem(x, (Ellipsis, slice(0, None, 2)))),
               CUBE[0], order=2)


def test_getitem_abstract_evaluation():
    check_abstract(lambda x: getitem(x, (slice(None, None, -1), 1, slice(1, 4, 2))), tf.constant(CUBE))
    check_abstract(lambda x: getitem(x, (None, Ellipsis, 0, None)), tf.constant(CUBE))
    check_abstract(lambda x: getitem(x, tf.constant([True, False])), tf.constant(X))
    shape = indexing.sliced_shape(TensorShape([None, 4, None]), (Ellipsis, slice(1, 3), 0, None))
    assert shape.as_list() == [None, 2, 1]
    assert indexing.sliced_shape(TensorShape(None), (0,)).rank is None


def test_gradient_through_indexing_on_a_tape():
    x = tf.constant(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.multiply(getitem(x, (1, slice(None))), 3.0)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), [[0, 0, 0], [3, 3, 3]])


def test_variable_slices_read_assign_and_gradient():
    v = tf.Variable(np.zeros((2, 3)))
    getitem_variable(v, (0, 1)).assign(42.0)
    getitem_variable(v, (slice(None), 2)).assign([7.0, 8.0])
    np.testing.assert_array_equal(v.numpy(), [[0, 42, 7], [0, 0, 8]])
    getitem_variable(v, (tf.constant(1), slice(None, 2))).assign([1.0, 2.0])
    np.testing.assert_array_equal(v.numpy(), [[0, 42, 7], [1, 2, 8]])
    row = getitem_variable(v, -1)
    np.testing.assert_array_equal(row.numpy(), [1, 2, 8])
    with pytest.raises(InvalidArgumentError, match=r"Cannot broadcast input shape \[2\] into final "
                                                   r"shape \[3\]"):
        getitem_variable(v, (0, slice(None))).assign([1.0, 2.0])
    getitem_variable(v, (0, slice(None))).assign(5.0)  # the r-value broadcasts, as in TF 2.21
    np.testing.assert_array_equal(v.numpy(), [[5, 5, 5], [1, 2, 8]])
    w = tf.Variable(X)
    with tf.GradientTape() as tape:
        y = tf.multiply(getitem_variable(w, (slice(None), 0)), 2.0)
    np.testing.assert_array_equal(tape.gradient(y, w).numpy(), [[2, 0, 0], [2, 0, 0]])


def test_masks_to_key():
    key = indexing.masks_to_key([1, 0, 0, 2], [0, 0, 3, 5], [-1, 1, 1, 2], begin_mask=1, end_mask=1,
                                ellipsis_mask=0b10, new_axis_mask=0, shrink_axis_mask=0)
    assert key == (slice(None, None, -1), Ellipsis, slice(0, 3, 1), slice(2, 5, 2))
    assert indexing.masks_to_key([3], [4], [1], 0, 0, 0, 0, 1) == (3,)
    assert indexing.masks_to_key([0], [0], [1], 0, 0, 0, 1, 0) == (None,)
    np.testing.assert_array_equal(
        array_ops.strided_slice(tf.constant(CUBE), [1, 0, 0, 2], [0, 0, 3, 5], [-1, 1, 1, 2],
                                begin_mask=1, end_mask=1, ellipsis_mask=0b10).numpy(),
        CUBE[::-1, ..., 0:3, 2:5:2])


def test_python_indexing_syntax_on_tensors_and_variables():
    x = tf.constant(CUBE)
    np.testing.assert_array_equal(x[..., 1, tf.newaxis].numpy(), CUBE[..., 1, None])
    np.testing.assert_array_equal(x[-1, ::-2, 1:3].numpy(), CUBE[-1, ::-2, 1:3])
    assert [row.shape for row in tf.constant(X)] == [(3,), (3,)]
    v = tf.Variable(np.zeros((2, 3)))
    v[0, 1].assign(42.0)
    v[:, 2].assign([0.0, 1.0])
    np.testing.assert_array_equal(v.numpy(), [[0, 42, 0], [0, 0, 1]])
    np.testing.assert_array_equal(v[1].numpy(), [0, 0, 1])


def test_key_item_dtypes_as_tensorflow_checks_them():
    x = tf.constant(CUBE)
    # all-bool keys stack into a bool begin vector, which StridedSlice refuses
    with pytest.raises(InvalidArgumentError, match="'Index' of bool"):
        getitem(x, (True,))
    with pytest.raises(InvalidArgumentError, match="'Index' of bool"):
        getitem(x, [True, False])
    np.testing.assert_array_equal(getitem(x, (0, True)).numpy(), CUBE[0, 1])  # ints with a bool
    # tensor items are int16, int32 or int64, all of one dtype
    with pytest.raises(TypeError, match="valid indices"):
        getitem(x, tf.constant(1, tf.int8))
    with pytest.raises(InvalidArgumentError, match="expected to be a int64 tensor but is a int32"):
        getitem(x, (tf.constant(1, tf.int64), tf.constant(-1)))
    with pytest.raises(InvalidArgumentError, match="expected to be a int16 tensor but is a int32"):
        getitem(x, (tf.constant(1, tf.int16), slice(tf.constant(1), None)))
