"""Linear algebra: matmul, einsum, tensordot, tf.linalg.*, norms and clipping."""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_abstract, check_grad

RNG = np.random.default_rng(7)
A23 = RNG.normal(size=(2, 3))
B34 = RNG.normal(size=(3, 4))
SQ = RNG.normal(size=(3, 3)) + 3 * np.eye(3)        # well conditioned, non-symmetric
SPD = SQ @ SQ.T + np.eye(3)                         # symmetric positive definite
BATCH_SQ = RNG.normal(size=(2, 3, 3)) + 3 * np.eye(3)


def c(x, dtype=None):
    return tf.constant(x, dtype=dtype)


def raises(kind, fn, match=None):
    with pytest.raises(kind, match=match):
        fn()


# == matmul ==================================================================================
def test_matmul_values_flags_and_dtypes():
    a, b = A23.astype(np.float32), B34.astype(np.float32)
    np.testing.assert_allclose(tf.matmul(a, b).numpy(), a @ b, rtol=1e-6)
    np.testing.assert_allclose(tf.matmul(a.T, b, transpose_a=True).numpy(), a @ b, rtol=1e-6)
    np.testing.assert_allclose(tf.matmul(a, b.T, transpose_b=True).numpy(), a @ b, rtol=1e-6)
    np.testing.assert_allclose(tf.matmul(a.T, b.T, adjoint_a=True, adjoint_b=True).numpy(), a @ b,
                               rtol=1e-6)
    assert tf.matmul(a, b).dtype == tf.float32
    ints = tf.matmul([[1, 2]], [[3], [4]])
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [[11]]
    i8 = tf.matmul(tf.ones([2, 3], tf.int8), tf.ones([3, 2], tf.int8), output_type=tf.int32)
    assert i8.dtype == tf.int32 and i8.numpy().tolist() == [[3, 3], [3, 3]]
    z = np.array([[1 + 2j, 3j], [2, 1 - 1j]], dtype=np.complex64)
    np.testing.assert_allclose(tf.matmul(z, z, adjoint_a=True).numpy(), z.conj().T @ z, rtol=1e-6)
    np.testing.assert_allclose(tf.matmul(z, z, transpose_a=True).numpy(), z.T @ z, rtol=1e-6)
    # batch dimensions broadcast as BatchMatMulV2
    x, y = RNG.normal(size=(2, 1, 2, 3)), RNG.normal(size=(5, 3, 4))
    out = tf.matmul(x, y)
    assert out.shape == (2, 5, 2, 4) and out.dtype == tf.float64
    np.testing.assert_allclose(out.numpy(), np.matmul(x, y))
    assert tf.matmul(tf.ones([0, 3]), tf.ones([3, 2])).shape == (0, 2)


def test_matmul_gradients_and_abstract():
    for ta in (False, True):
        for tb in (False, True):
            # contiguous copies: the harness's finite differences need C-ordered arrays
            a = np.ascontiguousarray(A23.T if ta else A23)
            b = np.ascontiguousarray(B34.T if tb else B34)
            fn = lambda x, y, ta=ta, tb=tb: tf.matmul(x, y, transpose_a=ta, transpose_b=tb)
            check_grad(fn, a, b)
            check_abstract(fn, c(a), c(b))
    bx, by = RNG.normal(size=(2, 1, 2, 3)), RNG.normal(size=(3, 3, 2))
    check_grad(tf.matmul, bx, by)
    by_t = np.ascontiguousarray(np.swapaxes(by, -1, -2))
    check_grad(lambda x, y: tf.matmul(x, y, adjoint_b=True), bx, by_t)
    check_grad(tf.matmul, A23, B34, order=2)
    check_abstract(tf.matmul, c(bx), c(by))
    check_abstract(lambda x, y: tf.matmul(x, y, output_type=tf.int32),
                   tf.ones([2, 3], tf.int8), tf.ones([3, 1], tf.int8))


def test_matmul_operator_and_seed_001():
    x = tf.reshape(tf.Variable(range(4), dtype=tf.float32), (4, 1))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = 2 * tf.matmul(tf.transpose(x), x)
    assert tape.gradient(y, x).numpy().tolist() == [[0.0], [4.0], [8.0], [12.0]]
    a = c(A23)
    np.testing.assert_allclose((a @ c(B34)).numpy(), A23 @ B34)


def test_matmul_errors():
    raises(tf.errors.InvalidArgumentError, lambda: tf.matmul(tf.ones([2, 3]), tf.ones([2, 3])),
           r"Matrix size-incompatible: In\[0\]: \[2,3\], In\[1\]: \[2,3\]")
    raises(tf.errors.InvalidArgumentError, lambda: tf.matmul(tf.ones([4, 2, 3]), tf.ones([4, 2, 3])),
           "Matrix size-incompatible")
    raises(tf.errors.InvalidArgumentError, lambda: tf.matmul(tf.ones([3]), tf.ones([3, 2])),
           "ndims must be >= 2")
    raises(tf.errors.InvalidArgumentError, lambda: tf.matmul(tf.ones([2, 2, 3]), tf.ones([3])),
           "ndims must be >= 2")
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.matmul(tf.ones([2, 2, 2, 3]), tf.ones([5, 3, 2])), "compatible batch")
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.matmul(tf.ones([2, 3]), tf.ones([3, 2], tf.float64)), "MatMul")
    raises(tf.errors.InvalidArgumentError, lambda: tf.matmul([[1, 2]], [[3.0], [4.0]]))
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.matmul(tf.ones([2, 2], tf.bool), tf.ones([2, 2], tf.bool)))
    raises(tf.errors.NotFoundError, lambda: tf.matmul(tf.ones([2, 2], tf.uint8), tf.ones([2, 2], tf.uint8)))
    raises(tf.errors.NotFoundError,
           lambda: tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]), output_type=tf.float64))
    raises(ValueError, lambda: tf.matmul(tf.ones([2, 2]), tf.ones([2, 2]), transpose_a=True, adjoint_a=True))


def test_matvec():
    a, v = RNG.normal(size=(4, 2, 3)), RNG.normal(size=(3,))
    np.testing.assert_allclose(tf.linalg.matvec(a, v).numpy(), a @ v)
    np.testing.assert_allclose(tf.linalg.matvec(A23, RNG.normal(size=2) * 0 + 1, transpose_a=True).numpy(),
                               A23.T @ np.ones(2))
    check_grad(tf.linalg.matvec, A23, v)
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.matvec(tf.ones([2, 3]), tf.ones([2])))


# == einsum / tensordot ======================================================================
EINSUM_CASES = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ij->", [(2, 3)]),
    ("ijk->kji", [(1, 2, 3)]),
    ("i,j->ij", [(3,), (2,)]),
    ("i,i,i->", [(3,), (3,), (3,)]),
    ("bij,bkj->bik", [(2, 2, 3), (2, 4, 3)]),
    ("ij,jk->i", [(2, 3), (3, 2)]),
    ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
    ("i...j,j->i...", [(2, 3, 1, 2), (2,)]),
    ("...,...->...", [(2, 3), (3,)]),
    ("ij,ij->j", [(2, 3), (2, 3)]),
    ("iij,jk->ik", [(2, 2, 3), (3, 2)]),
]


@pytest.mark.parametrize("equation,shapes", EINSUM_CASES)
def test_einsum_values_gradients_abstract(equation, shapes):
    arrays = [RNG.normal(size=s) for s in shapes]
    out = tf.einsum(equation, *arrays)
    np.testing.assert_allclose(out.numpy(), np.einsum(equation, *arrays), rtol=1e-12)
    check_grad(lambda *t: tf.einsum(equation, *t), *arrays)
    check_abstract(lambda *t: tf.einsum(equation, *t), *[c(a) for a in arrays])


def test_einsum_second_order_dtypes_and_errors():
    check_grad(lambda x, y: tf.einsum("ij,jk->ik", x, y), A23, B34, order=2)
    check_grad(lambda x: tf.einsum("ii->i", x), SQ, order=2)
    check_grad(lambda x, y: tf.einsum("...ij,...jk->...ik", x, y),
               RNG.normal(size=(2, 1, 1, 2)), RNG.normal(size=(3, 2, 2)), order=2)
    ints = tf.einsum("ij,jk->ik", tf.ones([2, 3], tf.int32), tf.ones([3, 4], tf.int32))
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [[3] * 4] * 2
    assert tf.einsum("ij ->ji", tf.ones([3, 2])).shape == (2, 3)
    raises(tf.errors.InvalidArgumentError, lambda: tf.einsum("ij,ik->ik", tf.ones([2, 3]), tf.ones([3, 4])),
           r"Expected dimension 2 at axis 0 of the input shaped \[3,4\] but got dimension 3")
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.einsum("bij,bjk->bik", tf.ones([1, 2, 3]), tf.ones([4, 3, 2])), "Expected dimension")
    raises(tf.errors.InvalidArgumentError, lambda: tf.einsum("ij->j", tf.ones([3])), "rank 2")
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.einsum("i...j,jk->ik", tf.ones([2, 7, 3]), tf.ones([3, 4])), "broadcasting dimension")
    raises(ValueError, lambda: tf.einsum("ij,jk->ik", tf.ones([2, 3])), "Got 1 inputs")
    raises(ValueError, lambda: tf.einsum("ij->ijk", tf.ones([3, 3])), "label k")
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.einsum("ij,jk->ik", tf.ones([2, 3]), tf.ones([3, 4], tf.int32)), "Einsum")
    raises(tf.errors.NotFoundError, lambda: tf.einsum("ij->ji", tf.ones([2, 3], tf.bool)))


def test_tensordot():
    a, b = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4, 3, 5))
    np.testing.assert_allclose(tf.tensordot(a, b, 1).numpy(), np.tensordot(a, b, 1))
    np.testing.assert_allclose(tf.tensordot(a, b, [[1, 2], [1, 0]]).numpy(),
                               np.tensordot(a, b, [[1, 2], [1, 0]]))
    np.testing.assert_allclose(tf.tensordot(A23, B34, [1, 0]).numpy(), A23 @ B34)
    np.testing.assert_allclose(tf.tensordot(A23, B34, [[-1], [0]]).numpy(), A23 @ B34)
    np.testing.assert_allclose(tf.tensordot(A23, B34, 0).numpy(), np.tensordot(A23, B34, 0))
    np.testing.assert_allclose(tf.tensordot([1.0, 2.0], [3.0, 4.0], 1).numpy(), 11.0)
    assert tf.tensordot(tf.ones([2, 3], tf.int32), tf.ones([3, 4], tf.int32), 1).dtype == tf.int32
    check_grad(lambda x, y: tf.tensordot(x, y, [[1, 2], [1, 0]]), a, b)
    check_abstract(lambda x, y: tf.tensordot(x, y, 1), c(a), c(b))
    raises(ValueError, lambda: tf.tensordot(A23, B34, -1), "at least 0")
    raises(ValueError, lambda: tf.tensordot(A23, B34, [[1, 0], [0]]), "2 != 1")
    raises(tf.errors.InvalidArgumentError, lambda: tf.tensordot(A23, B34, [[0], [0]]))
    raises(tf.errors.InvalidArgumentError, lambda: tf.tensordot(c(A23), c(B34, tf.float32), 1))


# == inverse, determinants, solvers ==========================================================
def test_inv_det_slogdet_values():
    np.testing.assert_allclose(tf.linalg.inv(SQ).numpy(), np.linalg.inv(SQ))
    np.testing.assert_allclose(tf.linalg.inv(SQ, adjoint=True).numpy(), np.linalg.inv(SQ.T))
    np.testing.assert_allclose(tf.linalg.inv(BATCH_SQ).numpy(), np.linalg.inv(BATCH_SQ))
    assert tf.linalg.inv(np.eye(2, dtype=np.float16)).dtype == tf.float16
    np.testing.assert_allclose(tf.linalg.det(BATCH_SQ).numpy(), np.linalg.det(BATCH_SQ))
    assert tf.linalg.det(SQ.astype(np.float32)).dtype == tf.float32
    sign, logabs = tf.linalg.slogdet(-BATCH_SQ)
    ref_sign, ref_log = np.linalg.slogdet(-BATCH_SQ)
    np.testing.assert_allclose(sign.numpy(), ref_sign)
    np.testing.assert_allclose(logabs.numpy(), ref_log)
    assert tf.linalg.slogdet(SQ).log_abs_determinant.shape == ()
    np.testing.assert_allclose(tf.linalg.logdet(SPD).numpy(), np.log(np.linalg.det(SPD)))


def test_inv_det_slogdet_gradients_and_abstract():
    check_grad(tf.linalg.inv, SQ)
    check_grad(lambda x: tf.linalg.inv(x, adjoint=True), SQ)
    check_grad(tf.linalg.inv, SQ[:2, :2], order=2)
    check_grad(tf.linalg.det, BATCH_SQ)
    check_grad(tf.linalg.det, SQ[:2, :2], order=2)
    check_grad(lambda x: tf.linalg.slogdet(x)[1], -BATCH_SQ)
    check_grad(lambda x: tf.linalg.logdet(_sym(x)), SQ)
    for fn in (tf.linalg.inv, tf.linalg.det, lambda x: tf.linalg.slogdet(x)[0], tf.linalg.logdet):
        check_abstract(fn, c(np.stack([SPD, SPD])))


def test_inv_det_errors():
    singular = c([[1.0, 2.0], [2.0, 4.0]])
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.inv(singular), "Input is not invertible.")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.inv(tf.ones([2, 3])), "must be square")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.inv(tf.ones([3])), "rank >= 2")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.inv(tf.ones([2, 2], tf.int32)), "MatrixInverse")
    raises(tf.errors.NotFoundError, lambda: tf.linalg.det(tf.ones([2, 2], tf.float16)))
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.det(tf.ones([2, 3])), "must be square")


def test_solve_and_triangular_solve():
    rhs = RNG.normal(size=(3, 2))
    np.testing.assert_allclose(tf.linalg.solve(SQ, rhs).numpy(), np.linalg.solve(SQ, rhs))
    np.testing.assert_allclose(tf.linalg.solve(SQ, rhs, adjoint=True).numpy(), np.linalg.solve(SQ.T, rhs))
    check_grad(tf.linalg.solve, SQ, rhs)
    check_grad(lambda a, b: tf.linalg.solve(a, b, adjoint=True), SQ, rhs)
    check_grad(tf.linalg.solve, SQ[:2, :2], rhs[:2], order=2)
    check_abstract(tf.linalg.solve, c(SQ), c(rhs))
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.solve([[1.0, 2.0], [2.0, 4.0]], tf.ones([2, 1])),
           "Input matrix is not invertible.")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.solve(tf.eye(2), tf.ones([3, 1])),
           "incompatible")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.solve(tf.eye(2), tf.ones([2])), "same rank")
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.linalg.solve(tf.eye(2, batch_shape=[3]), tf.ones([1, 2, 1])), "outer dimensions")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.solve(tf.eye(2), tf.ones([2, 1], tf.float64)))

    lower, upper = np.tril(SQ), np.triu(SQ)
    np.testing.assert_allclose(tf.linalg.triangular_solve(SQ, rhs).numpy(), np.linalg.solve(lower, rhs))
    np.testing.assert_allclose(tf.linalg.triangular_solve(SQ, rhs, lower=False).numpy(),
                               np.linalg.solve(upper, rhs))
    np.testing.assert_allclose(tf.linalg.triangular_solve(SQ, rhs, adjoint=True).numpy(),
                               np.linalg.solve(lower.T, rhs))
    batch_rhs = RNG.normal(size=(2, 3, 1))
    np.testing.assert_allclose(tf.linalg.triangular_solve(SQ, batch_rhs).numpy(),
                               np.linalg.solve(lower, batch_rhs))
    singular = tf.linalg.triangular_solve([[0.0, 0.0], [1.0, 1.0]], tf.ones([2, 1])).numpy()
    assert np.isinf(singular[0, 0])
    for lo in (True, False):
        for adj in (True, False):
            check_grad(lambda a, b, lo=lo, adj=adj: tf.linalg.triangular_solve(a, b, lower=lo, adjoint=adj),
                       SQ, rhs)
    check_grad(tf.linalg.triangular_solve, SQ, batch_rhs)
    check_abstract(tf.linalg.triangular_solve, c(SQ), c(batch_rhs))
    chol = np.linalg.cholesky(SPD)
    np.testing.assert_allclose(tf.linalg.cholesky_solve(chol, rhs).numpy(), np.linalg.solve(SPD, rhs))


# == decompositions ==========================================================================
def _sym(x):
    return tf.matmul(x, x, transpose_b=True) + tf.eye(3, dtype=x.dtype)


def test_cholesky():
    chol = tf.linalg.cholesky(SPD).numpy()
    np.testing.assert_allclose(chol, np.linalg.cholesky(SPD))
    # only the lower triangle is read
    np.testing.assert_allclose(tf.linalg.cholesky(np.tril(SPD)).numpy(), chol)
    check_grad(lambda x: tf.linalg.cholesky(_sym(x)), SQ)
    check_grad(lambda x: tf.linalg.cholesky(_sym(x)), SQ / 3, order=2)
    check_abstract(tf.linalg.cholesky, c(np.stack([SPD, SPD])))
    # like TensorFlow's CPU kernel: no error, NaN in the lower triangle of a failing matrix only
    out = tf.linalg.cholesky(c(np.stack([np.eye(2), -np.eye(2)]))).numpy()
    np.testing.assert_allclose(out[0], np.eye(2))
    assert np.isnan(out[1][np.tril_indices(2)]).all()
    raises(tf.errors.NotFoundError, lambda: tf.linalg.cholesky(tf.eye(2, dtype=tf.float16)))
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.cholesky(tf.ones([2, 2], tf.int32)))


def test_qr():
    for shape, full in (((4, 3), False), ((3, 3), True), ((3, 4), False), ((2, 4, 3), True)):
        x = RNG.normal(size=shape)
        q, r = tf.linalg.qr(x, full_matrices=full)
        np.testing.assert_allclose(tf.matmul(q, r).numpy(), x, atol=1e-12)
        np.testing.assert_allclose(np.triu(r.numpy()), r.numpy())
        k = q.shape[-1]
        gram = np.swapaxes(q.numpy(), -1, -2) @ q.numpy()
        np.testing.assert_allclose(gram, np.broadcast_to(np.eye(k), gram.shape), atol=1e-12)
        check_abstract(lambda t, full=full: tf.linalg.qr(t, full_matrices=full), c(x))
    tall = RNG.normal(size=(4, 3))
    check_grad(lambda x: tf.linalg.qr(x).q, tall)
    check_grad(lambda x: tf.linalg.qr(x).r, tall)
    check_grad(lambda x: tf.linalg.qr(x).r, SQ, order=2)
    wide = RNG.normal(size=(2, 2, 3))
    check_grad(lambda x: tf.linalg.qr(x).q, wide)
    check_grad(lambda x: tf.linalg.qr(x).r, wide)
    assert tf.linalg.qr(np.eye(2, dtype=np.float16)).q.dtype == tf.float16


def test_svd():
    for shape, full in (((4, 3), False), ((3, 4), False), ((2, 3, 3), False), ((4, 3), True)):
        x = RNG.normal(size=shape)
        s, u, v = tf.linalg.svd(x, full_matrices=full)
        np.testing.assert_allclose(s.numpy(), np.linalg.svd(x, compute_uv=False))
        k = s.shape[-1]
        scaled_u = u.numpy()[..., :k] * s.numpy()[..., None, :]
        recon = np.matmul(scaled_u, np.swapaxes(v.numpy()[..., :k], -1, -2))
        np.testing.assert_allclose(recon, x, atol=1e-12)
        check_abstract(lambda t, full=full: tf.linalg.svd(t, full_matrices=full), c(x))
    np.testing.assert_allclose(tf.linalg.svd(A23, compute_uv=False).numpy(),
                               np.linalg.svd(A23, compute_uv=False))
    check_abstract(lambda t: tf.linalg.svd(t, compute_uv=False), c(A23))
    z = (A23 + 1j * A23[::-1]).astype(np.complex64)
    s, u, v = tf.linalg.svd(z)
    assert s.dtype == tf.float32 and u.dtype == tf.complex64
    np.testing.assert_allclose((u.numpy() * s.numpy()) @ v.numpy().conj().T, z, atol=1e-5)
    # gauge-invariant functions of u and v (column signs are arbitrary)
    for x in (RNG.normal(size=(4, 3)), RNG.normal(size=(3, 4)), SQ):
        check_grad(lambda t: tf.linalg.svd(t)[0], x)
        check_grad(lambda t: tf.linalg.svd(t, compute_uv=False), x)
        check_grad(lambda t: tf.square(tf.linalg.svd(t)[1]), x)
        check_grad(lambda t: tf.square(tf.linalg.svd(t)[2]), x)
    check_grad(lambda t: tf.linalg.svd(t)[0], SQ, order=2)


def test_pinv_lstsq_matrix_rank():
    rank2 = np.array([[1.0, 2.0], [2.0, 4.0], [1.0, 0.0]])
    deficient = np.array([[1.0, 2.0], [2.0, 4.0]])
    np.testing.assert_allclose(tf.linalg.pinv(rank2).numpy(), np.linalg.pinv(rank2), atol=1e-12)
    np.testing.assert_allclose(tf.linalg.pinv(deficient).numpy(), np.linalg.pinv(deficient), atol=1e-12)
    assert tf.linalg.matrix_rank(rank2).numpy() == 2 and tf.linalg.matrix_rank(rank2).dtype == tf.int32
    assert tf.linalg.matrix_rank(np.ones((2, 3, 3))).numpy().tolist() == [1, 1]
    assert tf.linalg.matrix_rank(deficient, tol=0.5).numpy() == 1
    b = np.ones((3, 1))
    np.testing.assert_allclose(tf.linalg.lstsq(rank2, b).numpy(), np.linalg.lstsq(rank2, b, rcond=None)[0])
    np.testing.assert_allclose(tf.linalg.lstsq(rank2, b, fast=False).numpy(),
                               np.linalg.lstsq(rank2, b, rcond=None)[0])
    ridge = np.linalg.solve(rank2.T @ rank2 + 0.1 * np.eye(2), rank2.T @ b)
    np.testing.assert_allclose(tf.linalg.lstsq(rank2, b, l2_regularizer=0.1).numpy(), ridge)
    wide = np.ascontiguousarray(rank2.T)
    np.testing.assert_allclose(tf.linalg.lstsq(wide, np.ones((2, 1))).numpy(),
                               np.linalg.lstsq(wide, np.ones((2, 1)), rcond=None)[0])
    check_grad(tf.linalg.pinv, RNG.normal(size=(3, 2)))
    check_grad(tf.linalg.lstsq, RNG.normal(size=(3, 2)), RNG.normal(size=(3, 1)))
    check_abstract(tf.linalg.pinv, c(rank2))


def test_eigh_eigvalsh():
    e, v = tf.linalg.eigh(SPD)
    ref_e, ref_v = np.linalg.eigh(SPD)
    np.testing.assert_allclose(e.numpy(), ref_e)
    np.testing.assert_allclose(np.abs(v.numpy()), np.abs(ref_v), atol=1e-12)
    np.testing.assert_allclose(tf.linalg.eigvalsh(SPD).numpy(), ref_e)
    # only the lower triangle is read
    np.testing.assert_allclose(tf.linalg.eigvalsh(np.tril(SPD)).numpy(), ref_e)
    z = np.array([[2, 1 - 1j], [1 + 1j, 3]], dtype=np.complex64)
    ez, vz = tf.linalg.eigh(z)
    assert ez.dtype == tf.complex64
    np.testing.assert_allclose(ez.numpy().real, [1, 4], atol=1e-5)
    check_grad(lambda x: tf.linalg.eigh(x)[0], SQ)              # non-symmetric input: lower triangle
    check_grad(lambda x: tf.square(tf.linalg.eigh(x)[1]), SQ)
    check_grad(tf.linalg.eigvalsh, SQ)
    check_grad(lambda x: tf.linalg.eigh(x)[0], SPD / 10, order=2)
    check_abstract(tf.linalg.eigh, c(np.stack([SPD, SPD])))
    check_abstract(tf.linalg.eigvalsh, c(SPD))
    raises(tf.errors.NotFoundError, lambda: tf.linalg.eigh(tf.eye(2, dtype=tf.float16)))
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.svd(tf.ones([2, 2], tf.int32)))


# == diagonals, bands, trace, eye ============================================================
def test_diag_family_values():
    assert tf.linalg.diag([1, 2]).numpy().tolist() == [[1, 0], [0, 2]]
    assert tf.linalg.diag([1, 2], k=1).numpy().tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    assert tf.linalg.diag([1, 2], k=-1, num_cols=4).numpy().tolist() == \
        [[0, 0, 0, 0], [1, 0, 0, 0], [0, 2, 0, 0]]
    assert tf.linalg.diag([1, 2], num_rows=3, padding_value=9).numpy().tolist() == [[1, 9], [9, 2], [9, 9]]
    batch = tf.linalg.diag([[1.0, 2.0], [3.0, 4.0]])
    assert batch.shape == (2, 2, 2) and batch.dtype == tf.float32
    m = [[1, 2, 3], [4, 5, 6]]
    assert tf.linalg.diag_part(m).numpy().tolist() == [1, 5]
    assert tf.linalg.diag_part(m, k=1).numpy().tolist() == [2, 6]
    assert tf.linalg.diag_part(m, k=-1).numpy().tolist() == [4]
    assert tf.linalg.set_diag(m, [7, 8]).numpy().tolist() == [[7, 2, 3], [4, 8, 6]]
    assert tf.linalg.set_diag(m, [7, 8], k=1).numpy().tolist() == [[1, 7, 3], [4, 5, 8]]
    x = np.arange(16).reshape(4, 4)
    for lo, hi in ((1, 0), (-1, 1), (0, 0), (-1, -1), (2, -1)):
        ref = np.where((np.subtract.outer(np.arange(4), np.arange(4)) <= (lo if lo >= 0 else 9))
                       & (np.subtract.outer(np.arange(4), np.arange(4)) >= -(hi if hi >= 0 else 9)), x, 0)
        out = tf.linalg.band_part(x, lo, hi)
        assert out.numpy().tolist() == ref.tolist() and out.dtype == tf.int64
    assert tf.linalg.trace([[1, 2], [3, 4]]).numpy() == 5
    np.testing.assert_allclose(tf.linalg.trace(np.ones((2, 3, 3))).numpy(), [3.0, 3.0])
    assert tf.eye(2).numpy().tolist() == [[1, 0], [0, 1]] and tf.eye(2).dtype == tf.float32
    assert tf.eye(2, 3, dtype=tf.int32).numpy().tolist() == [[1, 0, 0], [0, 1, 0]]
    assert tf.linalg.eye(2, batch_shape=[3]).shape == (3, 2, 2)
    assert tf.eye(2, dtype=tf.bool).numpy().tolist() == [[True, False], [False, True]]
    assert tf.eye(0).shape == (0, 0)
    assert tf.eye(tf.constant(2)).shape == (2, 2)


def test_diag_family_gradients_and_abstract():
    v, m = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3, 4))
    check_grad(tf.linalg.diag, v, order=2)
    check_grad(lambda t: tf.linalg.diag(t, k=1, num_rows=3), v)
    check_grad(tf.linalg.diag_part, m, order=2)
    check_grad(lambda t: tf.linalg.diag_part(t, k=-1), m)
    check_grad(lambda t, d: tf.linalg.set_diag(t, d), m, v)
    check_grad(lambda t, d: tf.linalg.set_diag(t, d, k=1), m, v)
    check_grad(lambda t: tf.linalg.band_part(t, 1, 0), m, order=2)
    check_grad(tf.linalg.trace, m)
    check_abstract(lambda t: tf.linalg.diag(t, k=-1, num_cols=5), c(v))
    check_abstract(tf.linalg.diag_part, c(m))
    check_abstract(lambda t: tf.linalg.diag_part(t, k=2), c(m))
    check_abstract(tf.linalg.set_diag, c(m), c(v))
    check_abstract(lambda t: tf.linalg.band_part(t, -1, 0), c(m))
    check_abstract(tf.linalg.trace, c(m))
    check_abstract(lambda: tf.eye(2, 3, batch_shape=[2]))


def test_diag_family_errors():
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.diag([1, 2], num_rows=1), "rows is too small")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.diag(5), "at least 1-dim")
    raises(TypeError, lambda: tf.linalg.diag([True, False]))  # TF cannot convert padding 0 to bool
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.diag_part([[1, 2, 3], [4, 5, 6]], k=5),
           "out of bound")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.diag_part([1, 2, 3]), "at least 2-dim")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.set_diag([[1, 2, 3], [4, 5, 6]], [7, 8, 9]))
    raises(TypeError, lambda: tf.linalg.set_diag([[1, 2, 3], [4, 5, 6]], [7.5, 8]))
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.band_part(tf.ones([4, 4]), 5, -2), "num_lower")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.band_part(tf.ones([4]), 1, 1), "at least 2-dim")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.trace([1, 2]))
    raises(TypeError, lambda: tf.eye(2.5), "positive integer")
    raises(tf.errors.InvalidArgumentError, lambda: tf.eye(-1))


def test_matrix_transpose_adjoint_cross():
    x = RNG.normal(size=(2, 3, 4))
    assert tf.linalg.matrix_transpose(x).shape == (2, 4, 3)
    z = np.array([[1 + 2j, 3j]])
    assert tf.linalg.adjoint(z).numpy().tolist() == [[1 - 2j], [-3j]]
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(2, 3))
    np.testing.assert_allclose(tf.linalg.cross(a, b).numpy(), np.cross(a, b))
    assert tf.linalg.cross([1, 0, 0], [0, 1, 0]).numpy().tolist() == [0, 0, 1]
    check_grad(tf.linalg.cross, a, b, order=2)
    check_abstract(tf.linalg.cross, c(a), c(b))
    raises(tf.errors.FailedPreconditionError, lambda: tf.linalg.cross([1.0, 0.0], [0.0, 1.0]))
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.cross([[1.0, 0, 0]], [0.0, 1, 0]), "same shape")


# == norms and clipping ======================================================================
def test_norm_values():
    x = np.array([[1.0, -2.0], [3.0, 4.0]], dtype=np.float32)
    for kwargs, ref in (
            ({}, np.linalg.norm(x)),
            ({"ord": 1}, np.abs(x).sum()),
            ({"ord": np.inf}, np.abs(x).max()),
            ({"ord": 3, "axis": 1}, np.sum(np.abs(x) ** 3, axis=1) ** (1 / 3)),
            ({"ord": 0.5, "axis": 1}, np.sum(np.abs(x) ** 0.5, axis=1) ** 2),
            ({"axis": -1}, np.linalg.norm(x, axis=-1)),
            ({"ord": "fro", "axis": [0, 1]}, np.linalg.norm(x, "fro")),
            ({"ord": 2, "axis": [0, 1]}, np.linalg.norm(x, 2)),
            ({"ord": 1, "axis": (0, 1)}, np.linalg.norm(x, 1)),
            ({"ord": np.inf, "axis": (0, 1)}, np.linalg.norm(x, np.inf)),
            ({"ord": 1, "axis": (1, 0)}, np.linalg.norm(x, np.inf))):
        out = tf.norm(x, **kwargs)
        assert out.dtype == tf.float32
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, err_msg=str(kwargs))
    assert tf.norm(x, axis=(-1, -2), keepdims=True).shape == (1, 1)
    assert tf.norm(x, ord=2, axis=(0, 1), keepdims=True).shape == (1, 1)
    assert tf.norm(x, ord=1, axis=(0, 1), keepdims=True).shape == (1, 1)
    assert tf.norm(x, axis=1, keepdims=True).shape == (2, 1)
    batch = RNG.normal(size=(2, 3, 4))
    for axes, np_axes in (([-2, -1], (1, 2)), ([0, 2], (0, 2))):
        np.testing.assert_allclose(tf.norm(batch, ord=2, axis=axes).numpy(),
                                   np.linalg.norm(batch, 2, axis=np_axes))
    np.testing.assert_allclose(tf.linalg.norm(batch, ord=1, axis=[2, 1]).numpy(),
                               np.linalg.norm(batch, 1, axis=(2, 1)))
    assert tf.norm(np.array([3 + 4j, 1j], dtype=np.complex64)).dtype == tf.complex64
    normalized, n = tf.linalg.normalize(x, axis=1)
    np.testing.assert_allclose(normalized.numpy(), x / np.linalg.norm(x, axis=1, keepdims=True), rtol=1e-6)


def test_norm_gradients_and_errors():
    x = np.array([[1.0, -2.0, 0.5], [3.0, 4.0, -1.5]])
    check_grad(tf.norm, x, order=2)
    check_grad(lambda t: tf.norm(t, ord=1, axis=1), x)
    check_grad(lambda t: tf.norm(t, ord=np.inf, axis=0), x)
    check_grad(lambda t: tf.norm(t, ord=3, axis=1), x)
    check_grad(lambda t: tf.norm(t, ord=2, axis=(0, 1)), x)
    check_grad(lambda t: tf.norm(t, ord=1, axis=(0, 1)), x)
    check_abstract(lambda t: tf.norm(t, ord=2, axis=(0, 1), keepdims=True), c(x))
    check_abstract(lambda t: tf.norm(t, ord=1, axis=(0, 1)), c(x))
    # the Euclidean norm's gradient is NaN at zero, as in TensorFlow
    zero = c([0.0, 0.0])
    with tf.GradientTape() as tape:
        tape.watch(zero)
        n = tf.norm(zero)
    assert np.isnan(tape.gradient(n, zero).numpy()).all()
    raises(ValueError, lambda: tf.norm(x, ord="fro"), "supported vector norm")
    raises(ValueError, lambda: tf.norm(x, ord=-1, axis=1), "supported vector norm")
    raises(ValueError, lambda: tf.norm(x, ord=3, axis=[0, 1]), "supported matrix norm")
    raises(ValueError, lambda: tf.norm(x, axis=[0, 0]), "2 unique integers")
    raises(ValueError, lambda: tf.norm(x, axis=[0, 1, 2]), "2 unique integers")
    raises(tf.errors.InvalidArgumentError, lambda: tf.norm(x, axis=5))
    raises(tf.errors.InvalidArgumentError, lambda: tf.norm(tf.constant([[1, 2], [3, 4]])), "Sqrt")


def test_l2_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], dtype=np.float32)
    out = tf.math.l2_normalize(x, axis=1)
    assert out.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.0, 0.0]], rtol=1e-6)
    np.testing.assert_allclose(tf.linalg.l2_normalize(x).numpy(), x / 5.0)
    np.testing.assert_allclose(tf.math.l2_normalize(x, dim=1).numpy(), out.numpy())
    np.testing.assert_allclose(tf.math.l2_normalize(np.array([3 + 4j])).numpy(), [0.6 + 0.8j])
    y = RNG.normal(size=(2, 3))
    check_grad(lambda t: tf.math.l2_normalize(t, axis=1), y, order=2)
    check_abstract(lambda t: tf.math.l2_normalize(t, axis=0), c(y))
    raises(TypeError, lambda: tf.math.l2_normalize(tf.constant([[3, 4]]), axis=1))
    raises(ValueError, lambda: tf.math.l2_normalize(x, axis=0, dim=1))


def test_clip_by_norm():
    x = np.array([[3.0, 4.0], [0.0, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0, axes=[1]).numpy(), [[0.6, 0.8], [0, 1]], rtol=1e-6)
    np.testing.assert_allclose(tf.clip_by_norm(x, 10.0).numpy(), x)
    np.testing.assert_allclose(tf.clip_by_norm(x, 1.0).numpy(), x / np.sqrt(26), rtol=1e-6)
    np.testing.assert_allclose(tf.clip_by_norm(x, [1.0, 2.0], axes=[1]).numpy(), [[0.6, 1.6], [0, 1]],
                               rtol=1e-6)
    wide_clip = tf.clip_by_norm(x, tf.constant(1.0, tf.float64), axes=1)  # clip_norm is cast
    np.testing.assert_allclose(wide_clip.numpy()[0], [0.6, 0.8], rtol=1e-6)
    y = RNG.normal(size=(2, 3))
    check_grad(lambda t: tf.clip_by_norm(t, 1.0, axes=[1]), y)
    check_grad(lambda t: tf.clip_by_norm(t, 100.0), y)
    check_abstract(lambda t: tf.clip_by_norm(t, 1.0, axes=[1]), c(y))
    zero = c([0.0, 0.0])
    with tf.GradientTape() as tape:
        tape.watch(zero)
        out = tf.clip_by_norm(zero, 1.0)
    assert tape.gradient(out, zero).numpy().tolist() == [1.0, 1.0]  # finite, as in TF
    raises(tf.errors.InvalidArgumentError, lambda: tf.clip_by_norm(tf.constant([3, 4]), 1), "Sqrt")


def test_global_norm_and_clip_by_global_norm():
    a, b = np.array([3.0, 4.0], dtype=np.float32), np.array([12.0], dtype=np.float32)
    assert tf.linalg.global_norm([a, None, b]).numpy() == 13.0
    assert tf.linalg.global_norm([]).numpy() == 0.0
    clipped, norm = tf.clip_by_global_norm([a, None, b], 5.0)
    assert norm.numpy() == 13.0 and clipped[1] is None
    np.testing.assert_allclose(clipped[0].numpy(), a * 5 / 13, rtol=1e-6)
    np.testing.assert_allclose(clipped[2].numpy(), b * 5 / 13, rtol=1e-6)
    same, _ = tf.clip_by_global_norm([a], 100.0)
    np.testing.assert_allclose(same[0].numpy(), a)
    given, norm = tf.clip_by_global_norm([a, b], 5.0, use_norm=tf.constant(26.0))
    np.testing.assert_allclose(given[0].numpy(), a * 5 / 26, rtol=1e-6)
    inf, _ = tf.clip_by_global_norm([np.array([np.inf, 4.0], dtype=np.float32)], 5.0)
    assert np.isnan(inf[0].numpy()).all()
    x, y = RNG.normal(size=(2, 2)), RNG.normal(size=(3,))
    check_grad(lambda s, t: tf.linalg.global_norm([s, t]), x, y)
    check_grad(lambda s, t: tf.clip_by_global_norm([s, t], 1.0)[0][0], x, y)
    check_abstract(lambda s, t: tf.clip_by_global_norm([s, t], 1.0)[0][1], c(x), c(y))
    sparse = tf.IndexedSlices(tf.constant([[3.0, 4.0]]), tf.constant([1]), tf.constant([3, 2]))
    assert tf.linalg.global_norm([sparse, b]).numpy() == 13.0
    clipped, _ = tf.clip_by_global_norm([sparse, b], 5.0)
    assert isinstance(clipped[0], tf.IndexedSlices) and clipped[0].indices.numpy().tolist() == [1]
    np.testing.assert_allclose(clipped[0].values.numpy(), [[3 * 5 / 13, 4 * 5 / 13]], rtol=1e-6)
    np.testing.assert_allclose(tf.clip_by_norm(sparse, 1.0).values.numpy(), [[0.6, 0.8]], rtol=1e-6)
    raises(TypeError, lambda: tf.linalg.global_norm(tf.constant([3.0, 4.0])), "sequence")
    raises(TypeError, lambda: tf.clip_by_global_norm(tf.constant([3.0, 4.0]), 5.0), "sequence")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.global_norm([tf.constant([3, 4])]))
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.linalg.global_norm([tf.constant([3.0]), tf.constant([1.0], tf.float64)]), "Pack")


def test_namespaces():
    for name in ("matmul", "tensordot", "einsum", "eye", "norm", "clip_by_norm", "clip_by_global_norm"):
        assert callable(getattr(tf, name))
    assert tf.linalg.matmul is tf.matmul and tf.linalg.einsum is tf.einsum
    assert tf.math.l2_normalize is tf.linalg.l2_normalize


# == regressions found against TensorFlow 2.21 ==============================================
def test_bfloat16_products_keep_their_dtype():
    a, b = c(A23, tf.bfloat16), c(B34, tf.bfloat16)
    expected = (A23.astype(np.float32) @ B34.astype(np.float32))
    for out in (tf.matmul(a, b), tf.einsum("ij,jk->ik", a, b), tf.tensordot(a, b, 1),
                tf.matmul(c(BATCH_SQ, tf.bfloat16), c(SQ, tf.bfloat16))):
        assert out.dtype == tf.bfloat16
    np.testing.assert_allclose(tf.matmul(a, b).numpy().astype(np.float32), expected, rtol=3e-2,
                               atol=3e-2)


def test_dtype_checks_of_composites():
    raises(tf.errors.InvalidArgumentError, lambda: tf.tensordot(c([[1]], tf.int8), c([[1]], tf.int8), 1))
    raises(tf.errors.NotFoundError, lambda: tf.tensordot(c([[1]], tf.uint8), c([[1]], tf.uint8), 1))
    raises(tf.errors.NotFoundError,
           lambda: tf.linalg.triangular_solve(tf.eye(2, dtype=tf.bfloat16), tf.ones([2, 1], tf.bfloat16)))
    raises(TypeError, lambda: tf.linalg.pinv(c(SQ.astype(np.complex64))), "float`-like")
    raises(TypeError, lambda: tf.linalg.matrix_rank(c([[1, 2], [3, 4]])), "float`-like")
    raises(ValueError, lambda: tf.linalg.pinv(c([1.0, 2.0])), "at least 2 dimensions")
    raises(ValueError, lambda: tf.linalg.pinv(c(SQ, tf.bfloat16)), "not inexact")
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.matrix_rank(c(SQ, tf.bfloat16)))
    raises(TypeError, lambda: tf.norm(c([True, False])), "numeric")


def test_bool_diagonals_of_tensors():
    got = tf.linalg.diag(c([True, False]))
    np.testing.assert_array_equal(got.numpy(), [[True, False], [False, False]])
    np.testing.assert_array_equal(tf.linalg.diag_part(c([[True, False], [True, True]])).numpy(),
                                  [True, True])
    np.testing.assert_array_equal(tf.linalg.diag(c([True, False]), padding_value=True).numpy(),
                                  [[True, True], [True, False]])
    raises(TypeError, lambda: tf.linalg.diag(c([1, 2]), padding_value=1.5))


def test_non_finite_inputs_of_decompositions():
    nan = np.array([[np.nan, 0.0], [0.0, 1.0]])
    inf = np.array([[np.inf, 0.0], [0.0, 1.0]])
    for x in (nan, inf):  # every output NaN, as TensorFlow's kernel gives
        s, u, v = tf.linalg.svd(c(x))
        assert np.isnan(s.numpy()).all() and np.isnan(u.numpy()).all() and np.isnan(v.numpy()).all()
        assert np.isnan(tf.linalg.pinv(c(x)).numpy()).all()
    assert int(tf.linalg.matrix_rank(c(nan))) == 0
    sign, logabs = tf.linalg.slogdet(c(nan))
    assert np.isnan(sign.numpy()) and np.isnan(logabs.numpy())
    raises(tf.errors.InvalidArgumentError, lambda: tf.linalg.eigh(c(nan.T)), "not successful")
    e, _ = tf.linalg.eigh(c([[1.0, np.nan], [0.0, 1.0]]))  # only the lower triangle is read
    np.testing.assert_allclose(e.numpy(), [1.0, 1.0])


def test_lstsq_without_fast_ignores_the_regularizer_and_needs_equal_batches():
    got = tf.linalg.lstsq(tf.eye(2, dtype=tf.float64), tf.ones([2, 1], tf.float64),
                          l2_regularizer=0.5, fast=False)
    np.testing.assert_allclose(got.numpy(), [[1.0], [1.0]])
    raises(tf.errors.InvalidArgumentError,
           lambda: tf.linalg.lstsq(c(BATCH_SQ), c(np.ones((3, 2))), fast=False), "same rank")
