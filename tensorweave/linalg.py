"""tf.linalg: re-exports only; implementations live in tensorweave/ops/linalg_ops.py."""
from tensorweave.ops.linalg_ops import (
    adjoint, band_part, cholesky, cholesky_solve, cross, det, diag, diag_part, eigh, eigvalsh,
    einsum, eye, global_norm, inv, l2_normalize, logdet, lstsq, matmul, matrix_rank,
    matrix_transpose, matvec, norm, normalize, pinv, qr, set_diag, slogdet, solve, svd, tensordot,
    trace, triangular_solve)
