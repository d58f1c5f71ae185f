"""tf.math: re-exports only; implementations live in tensorweave/ops/."""
# -- math (ops/math_ops.py) --
from tensorweave.ops.math_ops import (
    abs, acos, acosh, add, add_n, asin, asinh, atan, atan2, atanh, ceil, conj, cos, cosh, digamma,
    divide, divide_no_nan, equal, erf, erfc, exp, expm1, floor, floordiv, floormod, greater,
    greater_equal, imag, is_finite, is_inf, is_nan, less, less_equal, lgamma, log, log1p,
    logical_and, logical_not, logical_or, logical_xor, maximum, minimum, mod, multiply, negative,
    not_equal, polygamma, pow, real, reciprocal, round, rsqrt, scalar_mul, sigmoid, sign, sin,
    sinh, sqrt, square, squared_difference, subtract, tan, tanh, truediv, zeta)
# -- end math --

# -- reductions (ops/reduction_ops.py) --
from tensorweave.ops.reduction_ops import (
    argmax, argmin, bincount, count_nonzero, cumprod, cumsum, reduce_all, reduce_any,
    reduce_euclidean_norm, reduce_logsumexp, reduce_max, reduce_mean, reduce_min, reduce_prod,
    reduce_std, reduce_sum, reduce_variance, segment_max, segment_mean, segment_min, segment_prod,
    segment_sum, top_k, unsorted_segment_max, unsorted_segment_mean, unsorted_segment_min,
    unsorted_segment_prod, unsorted_segment_sqrt_n, unsorted_segment_sum)
# -- end reductions --

# -- linear algebra and nn names that tf.math also has --
from tensorweave.ops.linalg_ops import l2_normalize
from tensorweave.ops.nn_ops import in_top_k, log_softmax, softmax, softplus, softsign
# -- end linear algebra and nn --
