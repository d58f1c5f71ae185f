"""tf.nn: re-exports only; implementations live in tensorweave/ops/ (mostly ops/nn_ops.py)."""
from tensorweave.ops.linalg_ops import l2_normalize
from tensorweave.ops.math_ops import sigmoid, tanh
from tensorweave.ops.nn_ops import (
    batch_normalization, bias_add, compute_average_loss, crelu, dropout, elu, embedding_lookup,
    gelu, l2_loss, leaky_relu, log_poisson_loss, log_softmax, moments, normalize_moments, relu,
    relu6, scale_regularization_loss, selu, sigmoid_cross_entropy_with_logits, silu, softmax,
    softmax_cross_entropy_with_logits, softplus, softsign, sparse_softmax_cross_entropy_with_logits,
    sufficient_statistics, swish, weighted_cross_entropy_with_logits, weighted_moments,
    zero_fraction)
from tensorweave.ops.reduction_ops import top_k
