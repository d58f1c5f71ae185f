"""Array ops: shapes, joining/splitting, padding, gather/scatter, selection, filling, queries."""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_abstract, check_grad
from tensorweave.framework.errors import InvalidArgumentError
from tensorweave.ops import array_ops

X = np.array([[0.3, -1.2, 2.0], [1.5, 0.7, -0.4]])
CUBE = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 7.0 - 1.0


def squared(fn):
    """fn(...)**2 (as a product), so that second derivatives go through fn's gradient."""
    def wrapped(*args):
        out = fn(*args)
        return tf.multiply(out, out)
    return wrapped


def c(value, dtype=None):
    return tf.constant(value, dtype=dtype)


# -- reshape, expand_dims, squeeze ---------------------------------------------------------
def test_reshape_expand_dims_squeeze_values():
    np.testing.assert_array_equal(tf.reshape(c(X), [3, -1]).numpy(), X.reshape(3, 2))
    np.testing.assert_array_equal(tf.reshape(c(X), c([6])).numpy(), X.reshape(6))
    assert tf.reshape(c([[5]]), []).shape == ()
    assert tf.expand_dims(c(X), 1).shape == (2, 1, 3)
    assert tf.expand_dims(c(X), -1).shape == (2, 3, 1)
    assert tf.expand_dims(c(X), -3).shape == (1, 2, 3)
    assert tf.expand_dims(c(X), c(1)).shape == (2, 1, 3)
    ones = c(np.ones((1, 2, 1, 3)))
    assert tf.squeeze(ones).shape == (2, 3)
    assert tf.squeeze(ones, [0, -2]).shape == (2, 3)
    assert tf.squeeze(ones, 2).shape == (1, 2, 3)
    assert tf.reshape(c([1, 2, 3, 4]), [2, 2]).dtype == tf.int32


def test_reshape_expand_dims_squeeze_grads_and_abstract():
    check_grad(lambda x: tf.reshape(x, [3, 2]), X)
    check_grad(squared(lambda x: tf.reshape(x, [-1])), X, order=2)
    check_grad(squared(lambda x: tf.expand_dims(x, 1)), X, order=2)
    check_grad(squared(lambda x: tf.squeeze(x, [0])), X[None], order=2)
    check_grad(lambda x: tf.squeeze(x), X[None, :, None])
    check_abstract(lambda x: tf.squeeze(tf.expand_dims(tf.reshape(x, [3, -1]), 0)), c(X))
    check_abstract(lambda x: tf.squeeze(x, [0, 2]), c(X[None, :, None]))


def test_reshape_expand_dims_squeeze_errors():
    with pytest.raises(InvalidArgumentError, match="tensor with 6 values, but the requested shape has 4"):
        tf.reshape(c(X), [4])
    with pytest.raises(InvalidArgumentError, match="Only one input size may be -1"):
        tf.reshape(c(X), [-1, -1])
    with pytest.raises(InvalidArgumentError, match="Tried to expand dim index 3"):
        tf.expand_dims(c(X), 3)
    with pytest.raises(InvalidArgumentError, match=r"Can not squeeze dim\[0\]"):
        tf.squeeze(c(X), 0)
    with pytest.raises(InvalidArgumentError, match="Tried to squeeze dim index 5"):
        tf.squeeze(c(X), 5)


# -- concat, stack, unstack, split ---------------------------------------------------------
def test_concat_stack_unstack_split_values():
    a, b = X, X * 2
    np.testing.assert_array_equal(tf.concat([c(a), c(b)], 0).numpy(), np.concatenate([a, b], 0))
    np.testing.assert_array_equal(tf.concat([c(a), c(b)], -1).numpy(), np.concatenate([a, b], 1))
    np.testing.assert_array_equal(tf.concat([[1, 2], [3]], 0).numpy(), [1, 2, 3])
    mixed = tf.concat([c(X, tf.float32), [[1, 2, 3]]], 0)
    assert mixed.dtype == tf.float32 and mixed.shape == (3, 3)
    np.testing.assert_array_equal(tf.concat([c(a)], 0).numpy(), a)
    assert tf.stack([1, 2.0]).dtype == tf.float32
    np.testing.assert_array_equal(tf.stack([c(a), c(b)], axis=1).numpy(), np.stack([a, b], 1))
    parts = tf.unstack(c(X), axis=1)
    assert len(parts) == 3 and all(p.shape == (2,) for p in parts)
    np.testing.assert_array_equal(parts[2].numpy(), X[:, 2])
    pieces = tf.split(c(CUBE), 2, axis=2)
    for got, want in zip(pieces, np.split(CUBE, 2, axis=2)):
        np.testing.assert_array_equal(got.numpy(), want)
    sizes = tf.split(c(CUBE), [1, -1, 1], axis=-1)
    assert [p.shape[-1] for p in sizes] == [1, 2, 1]
    np.testing.assert_array_equal(sizes[1].numpy(), CUBE[..., 1:3])
    assert [p.shape[1] for p in tf.split(c(X), c([0, 3]), axis=1)] == [0, 3]
    assert len(tf.split(c(X), 3, axis=1, num=3)) == 3


def test_concat_stack_split_grads_and_abstract():
    check_grad(lambda x, y: tf.concat([x, y, x], axis=1), X, X[:, :2] + 1)
    check_grad(squared(lambda x, y: tf.concat([x, y], axis=0)), X, X + 1, order=2)
    check_grad(squared(lambda x, y: tf.stack([x, y], axis=2)), X, X + 1, order=2)
    check_grad(lambda x: tf.split(x, [1, 2], axis=1)[1], X)
    check_grad(squared(lambda x: tf.unstack(x, axis=1)[2]), X, order=2)
    check_grad(lambda x: tf.multiply(tf.split(x, 2, axis=2)[0], tf.split(x, 2, axis=2)[1]), CUBE)
    check_abstract(lambda x, y: tf.concat([x, y], 1), c(X), c(X[:, :1]))
    check_abstract(lambda x: tf.split(x, [1, -1], axis=1), c(X))
    check_abstract(lambda x: tf.unstack(tf.stack([x, x], axis=1), axis=2), c(X))


def test_concat_stack_split_errors():
    with pytest.raises(InvalidArgumentError, match="Dimension 1 in both shapes must be equal"):
        tf.concat([c(X), c(np.ones((3, 2)))], 0)
    with pytest.raises(InvalidArgumentError, match="Ranks of all input tensors should match"):
        tf.concat([c(X), c(np.ones(3))], 0)
    with pytest.raises(InvalidArgumentError, match="expected to be a float tensor but is a double"):
        tf.concat([c(X, tf.float32), c(X)], 0)
    with pytest.raises(InvalidArgumentError, match=r"in the range \[-2, 2\), but got 2"):
        tf.concat([c(X), c(X)], 2)
    with pytest.raises(InvalidArgumentError, match="Can't concatenate scalars"):
        tf.concat([1.0, 2.0], 0)
    with pytest.raises(InvalidArgumentError, match="Shapes of all inputs must match"):
        tf.stack([c(X), c(X.T)])
    with pytest.raises(ValueError, match="not in range"):
        tf.stack([c(X), c(X)], axis=3)
    with pytest.raises(InvalidArgumentError, match="Input shape axis 0 must equal 3"):
        tf.unstack(c(X), num=3)
    with pytest.raises(InvalidArgumentError, match="evenly divide the split dimension"):
        tf.split(c(X), 2, axis=1)
    with pytest.raises(InvalidArgumentError, match="There can only be one -1"):
        tf.split(c(X), [-1, -1], axis=1)
    with pytest.raises(InvalidArgumentError, match="Determined shape must either match"):
        tf.split(c(X), [1, 1], axis=1)
    with pytest.raises(InvalidArgumentError):
        tf.split(c(X), 2, axis=2)


# -- tile, pad -----------------------------------------------------------------------------
def test_tile_values_grads_errors():
    np.testing.assert_array_equal(tf.tile(c(X), [2, 3]).numpy(), np.tile(X, (2, 3)))
    np.testing.assert_array_equal(tf.tile([1, 2], c([2])).numpy(), [1, 2, 1, 2])
    assert tf.tile(c(3.0), []).numpy() == 3.0
    check_grad(lambda x: tf.tile(x, [2, 3]), X)
    check_grad(squared(lambda x: tf.tile(x, [1, 2, 2])), CUBE[:, :2, :2], order=2)
    check_abstract(lambda x: tf.tile(x, [3, 1]), c(X))
    with pytest.raises(InvalidArgumentError, match="vector of length 2 but got length 1"):
        tf.tile(c(X), [2])
    with pytest.raises(InvalidArgumentError, match=r"multiples\[1\] >= 0"):
        tf.tile(c(X), [2, -1])


def np_mirror_pad(x, paddings, symmetric):
    """Mirror padding by explicit index arithmetic (independent of np.pad's modes)."""
    out = x
    for axis, (lo, hi) in enumerate(paddings):
        n = out.shape[axis]
        shift = 0 if symmetric else 1
        idx = []
        for p in range(-lo, n + hi):
            if p < 0:
                idx.append(-p - 1 + shift)
            elif p >= n:
                idx.append(2 * n - p - 1 - shift)
            else:
                idx.append(p)
        out = np.take(out, idx, axis=axis)
    return out


def test_pad_values():
    padded = tf.pad(c(X), [[1, 0], [2, 1]], constant_values=9.0).numpy()
    want = np.full((3, 6), 9.0)
    want[1:, 2:5] = X
    np.testing.assert_array_equal(padded, want)
    assert tf.pad(c([1, 2]), [[1, 1]]).dtype == tf.int32
    np.testing.assert_array_equal(tf.pad(c(X), c([[1, 0], [0, 1]])).numpy()[0], np.zeros(4))
    np.testing.assert_array_equal(tf.pad(c(X), [[1, 0], [0, 0]], constant_values=c(2.0, tf.float64)).numpy()[0],
                                  [2.0, 2.0, 2.0])
    for mode, symmetric in (("REFLECT", False), ("SYMMETRIC", True), ("reflect", False)):
        pads = [[1, 1], [2, 2], [0, 3]] if symmetric else [[1, 0], [2, 1], [3, 0]]
        got = tf.pad(c(CUBE), pads, mode=mode).numpy()
        np.testing.assert_array_equal(got, np_mirror_pad(CUBE, pads, symmetric))
    np.testing.assert_array_equal(tf.pad([1, 2, 3], [[2, 2]], mode="REFLECT").numpy(), [3, 2, 1, 2, 3, 2, 1])
    assert tf.pad(c(["a"]), [[1, 0]]).numpy().tolist() == [b"", b"a"]


def test_pad_grads_and_abstract():
    check_grad(lambda x: tf.pad(x, [[1, 2], [0, 1]], constant_values=3.0), X)
    check_grad(squared(lambda x: tf.pad(x, [[1, 0], [2, 0]])), X, order=2)
    for mode in ("REFLECT", "SYMMETRIC"):
        check_grad(lambda x: tf.pad(x, [[1, 1], [2, 2], [0, 3]], mode=mode), CUBE)
        check_grad(squared(lambda x: tf.pad(x, [[1, 1], [2, 0]], mode=mode)), X, order=2)
        check_abstract(lambda x: tf.pad(x, [[1, 1], [2, 0]], mode=mode), c(X))
    check_abstract(lambda x: tf.pad(x, [[1, 1], [2, 0]]), c(X))


def test_pad_errors():
    with pytest.raises(InvalidArgumentError, match="first dimension of paddings must be the rank"):
        tf.pad(c(X), [[1, 1]])
    with pytest.raises(InvalidArgumentError, match="paddings must be less than the dimension size"):
        tf.pad(c(X), [[2, 2], [0, 0]], mode="REFLECT")
    with pytest.raises(InvalidArgumentError, match="no greater than the dimension size"):
        tf.pad(c(X), [[3, 3], [0, 0]], mode="SYMMETRIC")
    with pytest.raises(ValueError, match="Value of argument `mode`"):
        tf.pad(c(X), [[1, 1], [0, 0]], mode="FOO")
    with pytest.raises(InvalidArgumentError, match="Paddings must be non-negative"):
        tf.pad(c(X), [[-1, 1], [0, 0]])
    with pytest.raises(TypeError, match="Cannot convert 1.5"):
        tf.pad(c([1, 2]), [[1, 1]], constant_values=1.5)


# -- gather, gather_nd, scatter ------------------------------------------------------------
def np_batched_gather(params, indices, axis, batch_dims):
    """Gather with batch dims by looping over the batch (reference)."""
    if batch_dims == 0:
        return np.take(params, indices, axis=axis)
    return np.stack([np_batched_gather(p, i, axis - 1, batch_dims - 1)
                     for p, i in zip(params, indices)])


def test_gather_values():
    np.testing.assert_array_equal(tf.gather(c(X), [1, 0, 1]).numpy(), X[[1, 0, 1]])
    np.testing.assert_array_equal(tf.gather(c(X), [[2, 0]], axis=1).numpy(), np.take(X, [[2, 0]], axis=1))
    np.testing.assert_array_equal(tf.gather(c(X), 1).numpy(), X[1])
    np.testing.assert_array_equal(tf.gather(c(X), c([1], tf.int64)).numpy(), X[[1]])
    np.testing.assert_array_equal(tf.gather(c(X), [0], axis=c(1)).numpy(), X[:, [0]])
    idx = np.array([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])
    for axis in (1, 2):
        got = tf.gather(c(CUBE), idx, axis=axis, batch_dims=1).numpy()
        np.testing.assert_array_equal(got, np_batched_gather(CUBE, idx, axis, 1))
    idx2 = np.array([[1, 0, 3], [3, 3, 2], [0, 1, 2]])[None].repeat(2, 0)
    got = tf.gather(c(CUBE), idx2, batch_dims=2, axis=2).numpy()
    np.testing.assert_array_equal(got, np_batched_gather(CUBE, idx2, 2, 2))
    got = tf.gather(c(X), [[0], [2]], axis=1, batch_dims=-1).numpy()
    np.testing.assert_array_equal(got, [[X[0, 0]], [X[1, 2]]])
    assert tf.gather(c(["a", "b"]), [1, 1]).numpy().tolist() == [b"b", b"b"]
    assert tf.gather([1, 2, 3], [2]).dtype == tf.int32


def test_gather_grads_and_abstract():
    check_grad(lambda x: tf.gather(x, [1, 0, 1]), X)  # repeated index: gradients add up
    check_grad(squared(lambda x: tf.gather(x, [[2, 0], [2, 2]], axis=1)), X, order=2)
    idx = np.array([[[0, 2], [1, 1]], [[2, 2], [0, 1]]])
    check_grad(lambda x: tf.gather(x, idx, axis=2, batch_dims=1), CUBE[:, :, :3])
    check_grad(squared(lambda x: tf.gather(x, idx, axis=1, batch_dims=1)), CUBE, order=2)
    check_abstract(lambda x: tf.gather(x, idx, axis=2, batch_dims=1), c(CUBE))
    check_abstract(lambda x: tf.gather(x, [[1, 0]], axis=1), c(X))
    from tensorweave.framework.tensor_spec import TensorSpec
    grad_spec = array_ops.GATHER_GRAD.abstract(TensorSpec([None, 2]), TensorSpec([None], tf.int32),
                                               shape=(3, 2), axis=0, batch_dims=0)
    assert grad_spec.shape == (3, 2)


def test_gather_errors():
    with pytest.raises(InvalidArgumentError, match=r"indices\[1\] = 7 is not in \[0, 3\)"):
        tf.gather([1.0, 2.0, 3.0], [0, 7])
    with pytest.raises(InvalidArgumentError, match=r"indices\[0,1\] = 7 is not in \[0, 3\)"):
        tf.gather(c(X), [[0, 7]], axis=1)
    with pytest.raises(InvalidArgumentError, match=r"indices\[0\] = -1 is not in \[0, 3\)"):
        tf.gather([1.0, 2.0, 3.0], [-1])
    with pytest.raises(InvalidArgumentError, match="Tindices"):
        tf.gather([1.0, 2.0], [0.0])
    with pytest.raises(InvalidArgumentError, match="at least rank 3"):
        tf.gather(c(X), [0], axis=2)
    with pytest.raises(InvalidArgumentError, match="params must be at least 1 dimensional"):
        tf.gather(3.0, [0])
    with pytest.raises(InvalidArgumentError, match="should be equal to indices.shape"):
        tf.gather(c(X), [[0], [1], [1]], batch_dims=1, axis=1)


def test_gather_nd_values_and_grads():
    idx = np.array([[1, 2], [0, 0], [1, 2]])
    np.testing.assert_array_equal(tf.gather_nd(c(X), idx).numpy(), X[idx[:, 0], idx[:, 1]])
    np.testing.assert_array_equal(tf.gather_nd(c(X), [[1]]).numpy(), X[[1]])
    np.testing.assert_array_equal(tf.gather_nd([[1, 2], [3, 4]], [[1], [0]], batch_dims=1).numpy(), [2, 3])
    bidx = np.array([[[1, 2]], [[0, 3]]])
    got = tf.gather_nd(c(CUBE), bidx, batch_dims=1).numpy()
    np.testing.assert_array_equal(got, [[CUBE[0, 1, 2]], [CUBE[1, 0, 3]]])
    assert tf.gather_nd(c(X), np.zeros((0, 2), np.int32)).shape == (0,)
    check_grad(lambda x: tf.gather_nd(x, idx), X)
    check_grad(squared(lambda x: tf.gather_nd(x, [[1], [1]])), X, order=2)
    check_grad(squared(lambda x: tf.gather_nd(x, bidx, batch_dims=1)), CUBE, order=2)
    check_abstract(lambda x: tf.gather_nd(x, bidx, batch_dims=1), c(CUBE))
    check_abstract(lambda x: tf.gather_nd(x, [[0], [1]]), c(CUBE))


def test_gather_nd_errors():
    with pytest.raises(InvalidArgumentError, match=r"indices\[0\] = \[0, 5\] does not index into param shape \[2,3\]"):
        tf.gather_nd(c(X), [[0, 5]])
    with pytest.raises(InvalidArgumentError, match=r"indices\[1\] = \[1, 5\]"):
        tf.gather_nd(c(X), [[0], [5]], batch_dims=1)
    with pytest.raises(InvalidArgumentError, match="innermost dimension length must be <= params rank"):
        tf.gather_nd(c(X), [[0, 1, 1]])
    with pytest.raises(InvalidArgumentError, match="indices must be at least a vector"):
        tf.gather_nd(c(X), 1)
    with pytest.raises(InvalidArgumentError, match="Tindices"):
        tf.gather_nd(c(X), [[0.0]])


def test_scatter_nd():
    np.testing.assert_array_equal(tf.scatter_nd([[1], [1], [0]], [1.0, 2.0, 5.0], [3]).numpy(), [5, 3, 0])
    got = tf.scatter_nd([[1]], [[1.0, 2.0]], c([3, 2], tf.int64)).numpy()
    np.testing.assert_array_equal(got, [[0, 0], [1, 2], [0, 0]])
    assert tf.scatter_nd([[1]], [1], [3]).dtype == tf.int32
    idx = np.array([[0, 1], [1, 2], [0, 1]])
    check_grad(lambda u: tf.scatter_nd(idx, u, [2, 3]), np.array([0.5, -1.0, 2.0]))
    check_grad(squared(lambda u: tf.scatter_nd([[1], [0]], u, [3, 2])), X[:, :2], order=2)
    check_abstract(lambda u: tf.scatter_nd(idx, u, [2, 3]), c([0.5, -1.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match=r"indices\[0\] = \[5\] does not index into shape \[3\]"):
        tf.scatter_nd([[5]], [1.0], [3])
    with pytest.raises(InvalidArgumentError, match=r"indices\[0\] = \[-1\]"):
        tf.scatter_nd([[-1]], [1.0], [3])
    with pytest.raises(InvalidArgumentError, match="must match dimensions"):
        tf.scatter_nd([[1], [1]], [1.0, 2.0, 3.0], [3])


def test_tensor_scatter_nd_family():
    base = np.array([1.0, 2.0, 3.0])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_add(c(base), [[1], [1]], [1.0, 1.0]).numpy(), [1, 4, 3])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_sub(c(base), [[1], [2]], [5.0, 7.0]).numpy(), [1, -3, -4])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_update(c(base), [[2], [0]], [5.0, 7.0]).numpy(), [7, 2, 5])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_max(c(base), [[0], [2]], [5.0, 0.0]).numpy(), [5, 2, 3])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_min(c(base), [[0], [2]], [5.0, 0.0]).numpy(), [1, 2, 0])
    rows = tf.tensor_scatter_nd_update(c(X), [[1]], [[1, 2, 3]])  # Python ints take the float dtype
    np.testing.assert_array_equal(rows.numpy(), [X[0], [1, 2, 3]])
    idx = [[1, 0], [0, 2]]
    upd = np.array([0.5, -2.0])
    for fn in (tf.tensor_scatter_nd_update, tf.tensor_scatter_nd_add, tf.tensor_scatter_nd_sub):
        check_grad(lambda t, u: fn(t, idx, u), X, upd)
        check_grad(squared(lambda t, u: fn(t, idx, u)), X, upd, order=2)
        check_abstract(lambda t, u: fn(t, idx, u), c(X), c(upd))
    for fn in (tf.tensor_scatter_nd_max, tf.tensor_scatter_nd_min):  # no ties at these points
        check_grad(lambda t, u: fn(t, [[1, 0], [0, 2], [1, 1]], u), X, np.array([2.5, -2.0, 0.1]))
        check_abstract(lambda t, u: fn(t, idx, u), c(X), c(upd))
    with pytest.raises(InvalidArgumentError, match=r"indices\[0\] = \[5\] does not index into shape \[2,3\]"):
        tf.tensor_scatter_nd_update(c(X), [[5]], [[1.0, 2.0, 3.0]])
    with pytest.raises(InvalidArgumentError, match="expected to be a double tensor but is a int32"):
        tf.tensor_scatter_nd_update(c(X), [[1]], c([[1, 2, 3]]))
    with pytest.raises(InvalidArgumentError, match="inner 1 dimensions of output.shape"):
        tf.tensor_scatter_nd_update(c(X), [[1]], [[1.0, 2.0]])


# -- where, boolean_mask -------------------------------------------------------------------
def test_where():
    cond = np.array([[True, False, True], [False, False, True]])
    coords = tf.where(c(cond))
    assert coords.dtype == tf.int64
    np.testing.assert_array_equal(coords.numpy(), np.stack(np.nonzero(cond), axis=1))
    np.testing.assert_array_equal(tf.where([1.0, 0.0, 2.0]).numpy(), [[0], [2]])
    np.testing.assert_array_equal(tf.where(c(cond), c(X), c(-X)).numpy(), np.where(cond, X, -X))
    np.testing.assert_array_equal(tf.where([[True], [False]], [1.0, 2.0], 0.0).numpy(), [[1, 2], [0, 0]])
    assert tf.where([True, False], [1.0, 2.0], [3, 4]).dtype == tf.float32
    check_grad(lambda x, y: tf.where(c(cond), x, y), X, -X)
    check_grad(lambda x, y: tf.where(c(cond[:, :1]), x, y), X, X[0])  # broadcasting
    check_grad(squared(lambda x, y: tf.where(c(cond), x, y)), X, X * 2, order=2)
    check_abstract(lambda x, y: tf.where(c(cond[:, :1]), x, y), c(X), c(X[0]))
    check_abstract(lambda m: tf.where(m), c(cond))
    with pytest.raises(ValueError, match="x and y must both be non-None"):
        tf.where([True], [1.0])
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.where([1, 0], [1.0, 2.0], [3.0, 4.0])
    with pytest.raises(InvalidArgumentError, match="must be broadcastable"):
        tf.where([True, False, True], [1.0, 2.0], [3.0, 4.0])
    with pytest.raises(InvalidArgumentError, match="expected to be a float tensor but is a int32"):
        tf.where([True, False], c([1.0, 2.0], tf.float32), c([3, 4]))
    with pytest.raises(InvalidArgumentError, match="Unhandled input dimensions: 0"):
        tf.where(c(True))


def test_boolean_mask():
    np.testing.assert_array_equal(tf.boolean_mask(c(X), [True, False]).numpy(), X[[True, False]])
    np.testing.assert_array_equal(tf.boolean_mask(c(X), [True, False, True], axis=1).numpy(), X[:, [0, 2]])
    mask = np.array([[True, False, True], [False, False, True]])
    np.testing.assert_array_equal(tf.boolean_mask(c(X), mask).numpy(), X[mask])
    cube_mask = np.array([[True, False, True], [True, True, False]])
    np.testing.assert_array_equal(tf.boolean_mask(c(CUBE), cube_mask).numpy(), CUBE[cube_mask])
    np.testing.assert_array_equal(tf.boolean_mask(c(X), [1, 0]).numpy(), X[:1])
    check_grad(lambda x: tf.boolean_mask(x, mask), X)
    check_grad(squared(lambda x: tf.boolean_mask(x, [False, True, True], axis=1)), X, order=2)
    check_abstract(lambda x: tf.boolean_mask(x, cube_mask), c(CUBE))
    with pytest.raises(ValueError, match="mask cannot be scalar"):
        tf.boolean_mask(c(X), True)
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(c(X), [True, False, True])


# -- slice, strided_slice, reverse, roll, transpose ----------------------------------------
def test_slice_and_strided_slice():
    np.testing.assert_array_equal(tf.slice(c(CUBE), [1, 0, 1], [1, 2, -1]).numpy(), CUBE[1:2, 0:2, 1:])
    np.testing.assert_array_equal(tf.slice(c(X), [1, 1], [-1, -1]).numpy(), X[1:, 1:])
    np.testing.assert_array_equal(tf.strided_slice(c(X), [0, 1], [2, 3], [1, 1]).numpy(), X[0:2, 1:3])
    np.testing.assert_array_equal(
        tf.strided_slice(c(X), [0, 1], [2, 3], [1, 1], shrink_axis_mask=1).numpy(), X[0, 1:3])
    np.testing.assert_array_equal(
        tf.strided_slice(c(X), [1, 0], [0, 2], [-1, 1], begin_mask=1, end_mask=1).numpy(), X[::-1, 0:2])
    got = tf.strided_slice(c(CUBE), [0, 1], [0, 3], [1, 2], ellipsis_mask=1)
    np.testing.assert_array_equal(got.numpy(), CUBE[..., 1:3:2])
    got = tf.strided_slice(c(X), [0, 0, 1], [0, 1, 2], [1, 1, 1], new_axis_mask=1)
    np.testing.assert_array_equal(got.numpy(), X[None, 0:1, 1:2])
    check_grad(lambda x: tf.slice(x, [1, 0, 1], [1, 2, -1]), CUBE)
    check_grad(squared(lambda x: tf.strided_slice(x, [2, 0], [0, 3], [-1, 2])), CUBE[:, :, 0], order=2)
    check_abstract(lambda x: tf.slice(x, [1, 0, 1], [1, 2, -1]), c(CUBE))
    check_abstract(lambda x: tf.strided_slice(x, [0, 1], [0, 3], [1, 2], ellipsis_mask=1), c(CUBE))
    with pytest.raises(InvalidArgumentError, match=r"Expected size\[0\] in \[0, 2\], but got 5"):
        tf.slice(c(X), [0, 0], [5, 1])
    with pytest.raises(InvalidArgumentError, match=r"Expected begin\[0\] in \[0, 2\], but got 3"):
        tf.slice(c(X), [3, 0], [1, 1])
    with pytest.raises(InvalidArgumentError, match="1-D tensors of size 2"):
        tf.slice(c(X), [1], [1])
    with pytest.raises(InvalidArgumentError, match="slice index 3 of dimension 0 out of bounds"):
        tf.strided_slice(c(X), [3], [4], [1], shrink_axis_mask=1)
    with pytest.raises(InvalidArgumentError, match=r"strides\[0\] must be non-zero"):
        tf.strided_slice(c(X), [0], [1], [0])
    with pytest.raises(InvalidArgumentError, match="1D equal size tensors"):
        tf.strided_slice(c(X), [0], [1, 2], [1])


def test_reverse_roll():
    np.testing.assert_array_equal(tf.reverse(c(CUBE), [0, -1]).numpy(), CUBE[::-1, :, ::-1])
    np.testing.assert_array_equal(tf.reverse(c(X), c([1])).numpy(), X[:, ::-1])
    np.testing.assert_array_equal(tf.reverse(c(X), []).numpy(), X)
    np.testing.assert_array_equal(tf.roll(c(X), [1, -1], [0, 1]).numpy(), np.roll(X, (1, -1), (0, 1)))
    np.testing.assert_array_equal(tf.roll(c(X), [1, 1], [1, 1]).numpy(), np.roll(X, 2, 1))
    np.testing.assert_array_equal(tf.roll([1, 2, 3], c(1), c(-1)).numpy(), [3, 1, 2])
    check_grad(lambda x: tf.reverse(x, [1, 2]), CUBE)
    check_grad(squared(lambda x: tf.reverse(x, [0])), X, order=2)
    check_grad(lambda x: tf.roll(x, [2, -1], [2, 0]), CUBE)
    check_grad(squared(lambda x: tf.roll(x, 1, 1)), X, order=2)
    check_abstract(lambda x: tf.roll(tf.reverse(x, [1]), 1, 0), c(X))
    with pytest.raises(InvalidArgumentError, match="axis 0 specified more than once"):
        tf.reverse(c(X), [0, 0])
    with pytest.raises(InvalidArgumentError, match="out of valid range"):
        tf.reverse(c(X), [2])
    with pytest.raises(InvalidArgumentError, match="must be 1-dimension"):
        tf.reverse(c(X), 0)
    with pytest.raises(InvalidArgumentError, match="shift and axis must have the same size"):
        tf.roll(c(X), [1, 1], [1])
    with pytest.raises(InvalidArgumentError, match="axis 3 is out of range"):
        tf.roll(c(X), 1, 3)


def test_transpose():
    np.testing.assert_array_equal(tf.transpose(c(X)).numpy(), X.T)
    np.testing.assert_array_equal(tf.transpose(c(CUBE), [1, 2, 0]).numpy(), CUBE.transpose(1, 2, 0))
    np.testing.assert_array_equal(tf.transpose(c(X), c([-1, 0])).numpy(), X.T)
    z = np.array([[1 + 2j, 3j], [1 - 1j, 2.0]])
    np.testing.assert_array_equal(tf.transpose(c(z), conjugate=True).numpy(), z.conj().T)
    np.testing.assert_array_equal(tf.transpose(c(z)).numpy(), z.T)
    np.testing.assert_array_equal(array_ops.matrix_transpose(c(CUBE)).numpy(), CUBE.transpose(0, 2, 1))
    np.testing.assert_array_equal(array_ops.matrix_transpose(c(z), conjugate=True).numpy(), z.conj().T)
    check_grad(lambda x: tf.transpose(x, [2, 0, 1]), CUBE)
    check_grad(squared(lambda x: array_ops.matrix_transpose(x)), CUBE, order=2)
    check_abstract(lambda x: tf.transpose(x, [2, 0, 1]), c(CUBE))
    check_abstract(lambda x: tf.transpose(x, conjugate=True), c(z))
    # ConjugateTranspose's gradient against the composite conj(transpose(z)) on the same loss
    grads = []
    for fn in (lambda t: tf.transpose(t, conjugate=True), lambda t: tf.math.conj(tf.transpose(t))):
        zt = c(z)
        with tf.GradientTape() as tape:
            tape.watch(zt)
            y = fn(zt) * c(np.array([[1.0, 2j], [3.0, -1j]]))
            loss = tf.reduce_sum(tf.math.real(y * tf.math.conj(y)))
        grads.append(tape.gradient(loss, zt).numpy())
    np.testing.assert_allclose(grads[0], grads[1])
    with pytest.raises(InvalidArgumentError, match="1 is missing from"):
        tf.transpose(c(X), [0, 0])
    with pytest.raises(InvalidArgumentError, match="expects a vector of size 2"):
        tf.transpose(c(X), [0, 1, 2])
    with pytest.raises(InvalidArgumentError, match=r"2 is out of range \[0 .. 2\)"):
        tf.transpose(c(X), [0, 2])
    with pytest.raises(ValueError, match="rank >= 2"):
        array_ops.matrix_transpose(c([1.0, 2.0]))


# -- filling -------------------------------------------------------------------------------
def test_fill_zeros_ones():
    f = tf.fill([2, 3], 7)
    assert f.dtype == tf.int32 and f.numpy().tolist() == [[7] * 3] * 2
    assert tf.fill(c([2]), c(2.0, tf.float64)).dtype == tf.float64
    assert tf.fill([2], "a").numpy().tolist() == [b"a", b"a"]
    assert tf.zeros([2, 1]).dtype == tf.float32 and tf.zeros(c([2, 1])).shape == (2, 1)
    assert tf.zeros(2).shape == (2,)
    assert tf.zeros([2], tf.string).numpy().tolist() == [b"", b""]
    assert tf.ones([2], tf.bool).numpy().tolist() == [True, True]
    assert tf.ones([2, 2], tf.int64).numpy().sum() == 4
    assert tf.zeros_like(c(X)).dtype == tf.float64 and not tf.zeros_like(c(X)).numpy().any()
    assert tf.zeros_like(c(["a"])).numpy().tolist() == [b""]
    assert tf.ones_like([1, 2]).dtype == tf.int32
    assert tf.ones_like(c(X), dtype=tf.int32).numpy().tolist() == [[1] * 3] * 2
    check_grad(lambda v: tf.fill([2, 3], v), np.array(1.5))
    check_abstract(lambda v: tf.fill([2, 3], v), c(1.5))
    check_abstract(lambda x: [tf.zeros_like(x), tf.ones_like(x), tf.zeros([2, 4], tf.int32)], c(X))
    with pytest.raises(InvalidArgumentError, match="Dimension -1 must be >= 0"):
        tf.fill([2, -1], 1.0)
    with pytest.raises(InvalidArgumentError, match="value must represent a scalar"):
        tf.fill([2], [1, 2])
    with pytest.raises(InvalidArgumentError, match="Dimension -1 must be >= 0"):
        tf.zeros([-1])
    with pytest.raises(TypeError, match="Cannot convert 1"):
        tf.ones([2], tf.string)
    with pytest.raises(InvalidArgumentError, match="string"):
        tf.ones_like(c(["a"]))


def test_one_hot():
    got = tf.one_hot([0, 2, -1, 5], 3)
    assert got.dtype == tf.float32
    np.testing.assert_array_equal(got.numpy(), (np.array([0, 2, -1, 5])[:, None] == np.arange(3)))
    ints = tf.one_hot([0, 2], 3, on_value=5, off_value=-1)
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [[5, -1, -1], [-1, -1, 5]]
    np.testing.assert_array_equal(tf.one_hot([0, 2], 3, axis=0).numpy(), np.eye(3)[:, [0, 2]])
    assert tf.one_hot([0], 2, on_value=1, dtype=tf.float32).dtype == tf.float32
    assert tf.one_hot(c([0, 2], tf.uint8), 3).shape == (2, 3)
    assert tf.one_hot(c([[0, 2]], tf.int64), 3, axis=1).shape == (1, 3, 2)
    check_abstract(lambda i: tf.one_hot(i, 4, axis=0), c([[0, 2]]))
    with pytest.raises(TypeError, match="of on_value does not match dtype"):
        tf.one_hot([0, 2], 3, on_value=5, off_value=-1.0)
    with pytest.raises(TypeError, match="does not match dtype parameter"):
        tf.one_hot([0, 2], 3, on_value=1.0, dtype=tf.int32)
    with pytest.raises(InvalidArgumentError, match="'TI' of float"):
        tf.one_hot([0.0, 2.0], 3)
    with pytest.raises(InvalidArgumentError, match="Expected axis to be -1 or between"):
        tf.one_hot([0, 2], 3, axis=-2)
    with pytest.raises(TypeError, match="Cannot convert 1 to EagerTensor of dtype bool"):
        tf.one_hot([0, 2], 3, dtype=tf.bool)


# -- range, linspace, meshgrid -------------------------------------------------------------
def test_range():
    r = tf.range(5)
    assert r.dtype == tf.int32 and r.numpy().tolist() == [0, 1, 2, 3, 4]
    assert tf.range(5, 0, -2).numpy().tolist() == [5, 3, 1]
    f = tf.range(1, 2.5, 0.5)
    assert f.dtype == tf.float32 and f.numpy().tolist() == [1.0, 1.5, 2.0]
    f32 = tf.range(0.3, 7.7, 0.37).numpy()
    want = np.float32(0.3) + np.arange(20, dtype=np.float32) * np.float32(0.37)
    np.testing.assert_array_equal(f32, want)
    assert tf.range(0.0, 1.0, 0.3).shape == (4,)
    assert tf.range(5, dtype=tf.float64).dtype == tf.float64
    assert tf.range(c(5, tf.int64)).dtype == tf.int64
    assert tf.range(c(1, tf.int64), 5.0).dtype == tf.float32
    assert tf.range(c(1.0, tf.float64), 3).dtype == tf.float64
    assert tf.range(3, dtype=tf.float16).dtype == tf.float16
    assert tf.range(3, 3).shape == (0,)
    check_abstract(lambda: tf.range(1, 10, 3))
    with pytest.raises(InvalidArgumentError, match="Requires delta != 0"):
        tf.range(1, 5, 0)
    with pytest.raises(InvalidArgumentError, match="Requires start <= limit when delta > 0: 5/1"):
        tf.range(5, 1)
    with pytest.raises(InvalidArgumentError, match="Requires start >= limit when delta < 0"):
        tf.range(1, 5, -1)
    with pytest.raises(TypeError, match="Cannot convert 1.5"):
        tf.range(1.5, dtype=tf.int32)
    with pytest.raises(InvalidArgumentError, match="'Tidx' of uint8"):
        tf.range(3, dtype=tf.uint8)


def test_linspace():
    got = tf.linspace(0.3, 7.9, 13).numpy()
    s, e = np.float32(0.3), np.float32(7.9)
    step = (e - s) / np.float32(12)
    want = np.concatenate([[s], s + np.arange(1, 12, dtype=np.float32) * step, [e]])
    np.testing.assert_array_equal(got, want.astype(np.float32))
    assert got.dtype == np.float32
    ints = tf.linspace(0, 10, 5)
    assert ints.dtype == tf.float64 and ints.numpy().tolist() == [0, 2.5, 5, 7.5, 10]
    assert tf.linspace(2.0, 3.0, 1).numpy().tolist() == [2.0]
    assert tf.linspace(2.0, 3.0, 0).shape == (0,)
    np.testing.assert_allclose(tf.linspace([0.0, 1.0], [1.0, 3.0], 3).numpy(), [[0, 1], [0.5, 2], [1, 3]])
    np.testing.assert_allclose(tf.linspace([0.0, 1.0], [1.0, 3.0], 3, axis=-1).numpy(),
                               [[0, 0.5, 1], [1, 2, 3]])
    check_grad(lambda a, b: tf.linspace(a, b, 5), np.array(0.5), np.array(2.0))
    check_grad(lambda a, b: tf.linspace(a, b, 4, axis=1), np.array([0.5, -1.0]), np.array([[2.0], [3.0]]))
    check_grad(lambda a, b: tf.linspace(a, b, 1), np.array([0.5, -1.0]), np.array([2.0, 1.0]))
    check_abstract(lambda a, b: tf.linspace(a, b, 4, axis=1), c([0.5, -1.0]), c([[2.0], [3.0]]))
    with pytest.raises(InvalidArgumentError):
        tf.linspace(0.0, 1.0, -1)


def test_meshgrid():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0])
    xs, ys = tf.meshgrid(c(a), c(b))
    want_x, want_y = np.meshgrid(a, b)
    np.testing.assert_array_equal(xs.numpy(), want_x)
    np.testing.assert_array_equal(ys.numpy(), want_y)
    outs = tf.meshgrid(c(a), c(b), c(np.array([6.0])), indexing="ij")
    for got, want in zip(outs, np.meshgrid(a, b, [6.0], indexing="ij")):
        np.testing.assert_array_equal(got.numpy(), want)
    assert [t.shape for t in tf.meshgrid([[1, 2]], [4, 5])] == [(2, 2), (2, 2)]
    check_grad(lambda p, q: tf.multiply(*tf.meshgrid(p, q)), a, b)
    check_abstract(lambda p, q: tf.meshgrid(p, q), c(a), c(b))
    with pytest.raises(ValueError, match="must be either 'xy' or 'ij'"):
        tf.meshgrid([1, 2], indexing="foo")
    with pytest.raises(TypeError, match="invalid keyword argument"):
        tf.meshgrid([1, 2], foo=1)
    with pytest.raises(InvalidArgumentError):
        tf.meshgrid([1, 2], [1.0, 2.0])


# -- shape queries, identity, stop_gradient, ensure_shape, broadcast_to --------------------
def test_shape_size_rank():
    s = tf.shape(c(CUBE))
    assert s.dtype == tf.int32 and s.numpy().tolist() == [2, 3, 4]
    assert tf.shape(c(X), out_type=tf.int64).dtype == tf.int64
    assert tf.shape([[1, 2]]).numpy().tolist() == [1, 2]
    assert tf.shape(tf.Variable([1, 2])).numpy().tolist() == [2]
    assert tf.size(c(X)).numpy() == 6 and tf.size(c(X)).dtype == tf.int32
    assert tf.size(c(X), tf.int64).dtype == tf.int64
    assert tf.rank(c(CUBE)).numpy() == 3 and tf.rank(3.0).numpy() == 0
    check_abstract(lambda x: [tf.shape(x), tf.size(x), tf.rank(x)], c(CUBE))
    with pytest.raises(InvalidArgumentError, match="out_type"):
        tf.shape(c(X), out_type=tf.float32)


def test_identity_stop_gradient_ensure_shape_broadcast_to():
    assert tf.identity([1, 2]).dtype == tf.int32
    check_grad(squared(tf.identity), X, order=2)
    x = c(X)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.add(tf.multiply(tf.stop_gradient(x), x), tf.stop_gradient(x))
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(), X)  # d(s*x)/dx with s held fixed
    assert tf.stop_gradient([1.0, 2.0]).numpy().tolist() == [1.0, 2.0]
    assert tf.ensure_shape(c(X), [None, 3]).shape == (2, 3)
    assert tf.ensure_shape(c(X), tf.TensorShape([2, None])).shape == (2, 3)
    check_grad(lambda v: tf.ensure_shape(v, [2, None]), X)
    check_abstract(lambda v: [tf.identity(v), tf.stop_gradient(v), tf.ensure_shape(v, [None, 3])], x)
    with pytest.raises(InvalidArgumentError, match=r"Shape of tensor input \[2,3\] is not compatible with expected shape \[3,3\]"):
        tf.ensure_shape(c(X), [3, 3])
    with pytest.raises(InvalidArgumentError, match=r"expected shape \[6\]"):
        tf.ensure_shape(c(X), [6])
    np.testing.assert_array_equal(tf.broadcast_to(c(X[0]), [2, 2, 3]).numpy(), np.broadcast_to(X[0], (2, 2, 3)))
    check_grad(lambda v: tf.broadcast_to(v, [2, 2, 3]), X[:1])
    check_abstract(lambda v: tf.broadcast_to(v, [4, 2, 3]), x)
    with pytest.raises(InvalidArgumentError, match="Unable to broadcast"):
        tf.broadcast_to(c(X), [3, 3])


# -- repeat, sequence_mask, searchsorted ---------------------------------------------------
def test_repeat():
    m = np.array([[1, 2], [3, 4]])
    np.testing.assert_array_equal(tf.repeat(m, [1, 2], axis=0).numpy(), np.repeat(m, [1, 2], axis=0))
    np.testing.assert_array_equal(tf.repeat(m, 2).numpy(), np.repeat(m, 2))
    np.testing.assert_array_equal(tf.repeat(m, c([3, 0]), axis=-1).numpy(), np.repeat(m, [3, 0], axis=1))
    np.testing.assert_array_equal(tf.repeat([1, 2], [-1, 2]).numpy(), [2, 2])
    np.testing.assert_array_equal(tf.repeat(3, 2).numpy(), [3, 3])
    assert tf.repeat([[1, 2]], 2, axis=1).dtype == tf.int32
    check_grad(lambda x: tf.repeat(x, [2, 0, 3], axis=1), X)
    check_grad(squared(lambda x: tf.repeat(x, 2, axis=0)), X, order=2)
    check_grad(lambda x: tf.repeat(x, 2), X)
    check_abstract(lambda x: tf.repeat(x, [2, 0, 3], axis=1), c(X))
    with pytest.raises(ValueError, match="Dimensions 2 and 3 are not compatible"):
        tf.repeat(m, [1, 2, 3], axis=0)
    with pytest.raises(ValueError, match="out of bounds"):
        tf.repeat([1, 2], 2, axis=1)
    with pytest.raises(TypeError, match="must be of type integer"):
        tf.repeat([1, 2], 2.0)


def test_sequence_mask():
    lengths = np.array([1, 3, 2])
    got = tf.sequence_mask(lengths, 5)
    assert got.dtype == tf.bool
    np.testing.assert_array_equal(got.numpy(), np.arange(5) < lengths[:, None])
    np.testing.assert_array_equal(tf.sequence_mask(lengths).numpy(), np.arange(3) < lengths[:, None])
    assert tf.sequence_mask([[1, 3], [2, 0]]).shape == (2, 2, 3)
    as_float = tf.sequence_mask(lengths, 4, dtype=tf.float32)
    assert as_float.dtype == tf.float32
    np.testing.assert_array_equal(as_float.numpy(), (np.arange(4) < lengths[:, None]).astype(np.float32))
    np.testing.assert_array_equal(tf.sequence_mask([-1, 3], c(4)).numpy()[0], [False] * 4)
    assert tf.sequence_mask(c([1, 3], tf.int64)).shape == (2, 3)
    assert tf.sequence_mask(2, 4).numpy().tolist() == [True, True, False, False]
    with pytest.raises(ValueError, match="must be scalar"):
        tf.sequence_mask([1, 2], [3])
    with pytest.raises(InvalidArgumentError):
        tf.sequence_mask([1, 2], -1)


def test_gradient_primitives_have_abstract_evaluation():
    def grads(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            parts = [tf.gather(x, [[1, 0]], axis=1), tf.gather_nd(x, [[1, 2]]),
                     array_ops.getitem(x, (slice(None, None, -1), 1)),
                     tf.pad(x, [[1, 1], [2, 0]], mode="REFLECT"), tf.concat([x, x], 1),
                     tf.repeat(x, [1, 0, 2], axis=1), tf.tile(x, [2, 1]), tf.linspace(x, x, 3),
                     tf.where(tf.constant([True, False, True]), x, tf.constant(X * 2))]
            total = tf.add_n([tf.reduce_sum(p) for p in parts])
        return tape.gradient(total, x)
    check_abstract(grads, c(X))
    check_abstract(lambda x: tf.sequence_mask(x, 4, dtype=tf.float32), c([1, 3]))


def test_searchsorted():
    seq = np.array([1.0, 2.0, 2.0, 3.0])
    vals = np.array([2.0, 2.5, 0.0, 9.0])
    got = tf.searchsorted(seq, vals)
    assert got.dtype == tf.int32
    np.testing.assert_array_equal(got.numpy(), np.searchsorted(seq, vals, side="left"))
    np.testing.assert_array_equal(tf.searchsorted(seq, vals, side="right").numpy(),
                                  np.searchsorted(seq, vals, side="right"))
    rows = np.array([[1.0, 2.0, 3.0], [0.0, 5.0, 6.0]])
    queries = np.array([[2.0, 2.5], [5.0, 7.0]])
    got = tf.searchsorted(rows, queries, side="right", out_type=tf.int64)
    assert got.dtype == tf.int64
    np.testing.assert_array_equal(got.numpy(), [np.searchsorted(r, q, side="right") for r, q in zip(rows, queries)])
    check_abstract(lambda s, v: tf.searchsorted(s, v), c(rows), c(queries))
    check_abstract(lambda s, v: tf.searchsorted(s, v, side="right"), c(rows), c(queries))
    with pytest.raises(ValueError, match="must be either 'right' or 'left'"):
        tf.searchsorted(seq, vals, side="mid")
    with pytest.raises(InvalidArgumentError, match="Leading dim_size of both tensors must match"):
        tf.searchsorted([[1.0, 2.0, 3.0]], [[2.0], [3.0]])
    with pytest.raises(InvalidArgumentError, match="expected to be a float tensor but is a int32"):
        tf.searchsorted(c([1.0, 2.0, 3.0], tf.float32), c([2]))
    with pytest.raises(InvalidArgumentError, match="out_type"):
        tf.searchsorted(seq, vals, out_type=tf.float32)


# -- regressions found against TensorFlow 2.21 --------------------------------------------
def test_reshape_checks_sizes_shape_dtype_and_infers_next_to_a_zero():
    with pytest.raises(InvalidArgumentError, match="Size 0 must be non-negative, not -2"):
        tf.reshape(c(CUBE), [-2, 12])
    with pytest.raises(InvalidArgumentError, match="Tshape"):
        tf.reshape(c(CUBE), c([6.0, 4.0]))
    # an empty input: with a 0 among the known sizes, -1 is the product of the input's non-zero
    # sizes over that of the known non-zero sizes (TensorFlow's rule, verified against it)
    assert tf.reshape(tf.zeros([0, 3]), [-1, 0]).shape == (3, 0)
    assert tf.reshape(tf.zeros([2, 0, 5]), [0, -1]).shape == (0, 10)
    assert tf.reshape(tf.zeros([0, 3, 2]), [5, -1, 0]).shape == (5, 1, 0)
    assert tf.reshape(tf.zeros([0, 3]), [4, -1]).shape == (4, 0)
    check_abstract(lambda t: tf.reshape(t, [-1, 0]), tf.zeros([0, 3]))


def test_expand_dims_squeeze_and_fill_argument_rules():
    with pytest.raises(TypeError, match="Cannot convert 1.0"):
        tf.expand_dims(c(X), 1.0)
    assert tf.squeeze(tf.zeros([1, 3, 1, 2]), []).shape == (3, 2)  # [] squeezes all, as None
    with pytest.raises(InvalidArgumentError, match="index_type"):
        tf.fill(c([2.0, 2.0]), 7)
    with pytest.raises(InvalidArgumentError, match="Tmultiples"):
        tf.tile(c(X), c([1.0, 2.0]))


def test_stack_and_concat_edge_cases():
    empty = tf.stack([])
    assert empty.dtype == tf.float32 and empty.shape == (0,)
    one = tf.concat([c(CUBE)], 5)  # one tensor: returned as is, the axis is not looked at
    np.testing.assert_array_equal(one.numpy(), CUBE)
    with pytest.raises(InvalidArgumentError):
        tf.concat([], 0)


def test_pad_argument_rules_and_bool_zero_padding():
    np.testing.assert_array_equal(tf.pad(c([[True, False]]), [[1, 0], [0, 1]]).numpy(),
                                  [[False, False, False], [True, False, False]])
    with pytest.raises(InvalidArgumentError, match="Tpaddings"):
        tf.pad(c([1.0, 2.0]), c([[1.0, 2.0]]))
    with pytest.raises(InvalidArgumentError, match="paddings must be a matrix with 2 columns"):
        tf.pad(c([1.0, 2.0]), [1, 2])
    with pytest.raises(InvalidArgumentError, match="expected to be a float tensor"):
        tf.pad(c([1.0]), [[1, 1]], constant_values=c(0))


def test_gather_negative_batch_dims_sets_the_axis_before_wrapping():
    params = CUBE[:, :, :3]  # [2, 3, 3]
    idx = np.array([[0, 1], [1, 2]])
    got = tf.gather(c(params), idx, batch_dims=-1)  # axis = -1 (the last), batch_dims = 1
    expected = np.stack([params[b][:, idx[b]] for b in range(2)])
    np.testing.assert_array_equal(got.numpy(), expected)


def test_scatter_nd_strings_and_shape_dtype():
    got = tf.scatter_nd([[0], [0], [2]], ["a", "b", "c"], [3])
    assert got.numpy().tolist() == [b"ab", b"", b"c"]  # duplicates concatenate
    with pytest.raises(InvalidArgumentError, match="expected to be a int64 tensor"):
        tf.scatter_nd(c([[0]], tf.int64), [1.0], c([3]))
    assert tf.scatter_nd([[0]], [1.0], c([3], tf.int64)).shape == (3,)


def test_tensor_scatter_dtype_rules():
    with pytest.raises(TypeError, match="Cannot convert"):
        tf.tensor_scatter_nd_update(c([1, 2]), [[0]], [1.5])
    with pytest.raises(tf.errors.NotFoundError):
        tf.tensor_scatter_nd_add(c([True]), [[0]], [True])
    with pytest.raises(tf.errors.NotFoundError):
        tf.tensor_scatter_nd_max(c([1 + 1j]), [[0]], [2j])
    np.testing.assert_array_equal(tf.tensor_scatter_nd_update(c([True, True]), [[0]], [False]).numpy(),
                                  [False, True])


def test_where_dtype_rules():
    with pytest.raises(TypeError, match="Cannot convert 2.5"):
        tf.where([True, False], 1, 2.5)
    with pytest.raises(TypeError, match="Cannot convert 1.5"):
        tf.where([True], 1.5, c([2]))
    with pytest.raises(InvalidArgumentError, match="expected to be a bool tensor"):
        tf.where(c([1, 0]), 1.0, 2.0)
    np.testing.assert_array_equal(tf.where([True, False], 1, c([2.0, 3.0])).numpy(), [1.0, 3.0])
    with pytest.raises(InvalidArgumentError):
        tf.where(c(["a"]))
    with pytest.raises(tf.errors.UnimplementedError):
        tf.where(c([1.0], tf.float16))
    assert tf.where(c([0.0, 1.0], tf.bfloat16)).numpy().tolist() == [[1]]


def test_boolean_mask_negative_axis_slices_the_shape_as_given():
    # shape[-1:0] is empty: TensorFlow reports incompatible shapes
    with pytest.raises(ValueError, match="incompatible"):
        tf.boolean_mask(tf.zeros([2, 3, 4]), [True, False, True, True], axis=-1)
    got = tf.boolean_mask(c(CUBE), [True, False, True], axis=-2)
    np.testing.assert_array_equal(got.numpy(), CUBE[:, [0, 2]])


def test_slice_reverse_roll_index_dtypes():
    with pytest.raises(InvalidArgumentError, match="'Index'"):
        tf.slice(c(CUBE), c([0.0, 0.0, 0.0]), [1, 1, 1])
    with pytest.raises(InvalidArgumentError, match="expected to be a int64 tensor"):
        tf.slice(c(CUBE), c([0, 0, 0], tf.int64), c([1, 1, 1]))
    np.testing.assert_array_equal(tf.slice(c(CUBE), c([0, 1, 0], tf.int64), [1, 1, 2]).numpy(),
                                  CUBE[:1, 1:2, :2])
    with pytest.raises(InvalidArgumentError, match="Tidx"):
        tf.reverse(c(CUBE), c([0.0]))
    with pytest.raises(InvalidArgumentError, match="Tshift"):
        tf.roll(c(CUBE), [], [])


def test_one_hot_empty_indices_and_negative_depth():
    out = tf.one_hot([], 4)
    assert out.dtype == tf.float32 and out.shape == (0, 4)
    assert tf.one_hot([], 4, axis=0).shape == (4, 0)
    with pytest.raises(InvalidArgumentError, match="depth must be non-negative"):
        tf.one_hot([0, 1], -1)


def test_range_dtype_rules():
    with pytest.raises(AssertionError):  # TensorFlow cannot order int8 with its dtypes
        tf.range(c(5, tf.int8))
    with pytest.raises(tf.errors.NotFoundError):  # declared for Range, no CPU kernel
        tf.range(0, 5, dtype=tf.int16)
    np.testing.assert_array_equal(tf.range(0, 5, 2, dtype=tf.float16).numpy(), [0, 2, 4])
    with pytest.raises(tf.errors.NotFoundError):
        tf.sequence_mask(c([1, 2], tf.int8))


def test_linspace_integer_and_complex_dtypes():
    small = tf.linspace(c(1, tf.int16), c(7, tf.int16), 4)
    assert small.dtype == tf.float32  # truediv's rule: 8/16-bit integers divide in float32
    np.testing.assert_array_equal(small.numpy(), [1, 3, 5, 7])
    assert tf.linspace(c(1, tf.int32), c(7, tf.int32), 4).dtype == tf.float64
    z = tf.linspace(c(0j, tf.complex64), c(3 + 3j, tf.complex64), 4)
    assert z.dtype == tf.complex64
    np.testing.assert_allclose(z.numpy(), [0, 1 + 1j, 2 + 2j, 3 + 3j])
    with pytest.raises(TypeError, match="Cannot convert 10.0"):
        tf.linspace(0, 10.0, 4)


def test_size_out_type_and_searchsorted_tile_meshgrid_kernels():
    s = tf.size(c(CUBE), out_type=tf.float32)
    assert s.dtype == tf.float32 and float(s) == 24.0
    with pytest.raises(TypeError):
        tf.size(c(CUBE), out_type=tf.string)
    with pytest.raises(tf.errors.NotFoundError):
        tf.searchsorted(c([True, False]), c([True]))
    with pytest.raises(tf.errors.UnimplementedError):
        tf.tile(c([1], tf.uint16), [2])
    with pytest.raises(tf.errors.UnimplementedError):
        tf.repeat(c([1], tf.uint16), 2)
    with pytest.raises(TypeError):
        tf.meshgrid(c(["a"]), c(["b"]))


def test_gather_gradient_of_embedding_rows_sums_repeated_indices():
    # an Embedding's gradient: many repeated rows of a (vocabulary, width) table
    rng = np.random.default_rng(5)
    table = tf.Variable(rng.normal(size=(50, 4)).astype(np.float32))
    ids = rng.integers(0, 50, size=(30, 7))
    weights = rng.normal(size=(30, 7, 4)).astype(np.float32)
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(tf.gather(table, ids) * weights)
    grad = tf.convert_to_tensor(tape.gradient(total, table)).numpy()
    want = np.zeros((50, 4), np.float64)
    np.add.at(want, ids.reshape(-1), weights.reshape(-1, 4).astype(np.float64))
    assert grad.dtype == np.float32
    np.testing.assert_allclose(grad, want, rtol=1e-5, atol=1e-5)
