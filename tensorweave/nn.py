"""tf.nn: re-exports only; implementations live in tensorweave/ops/ (mostly ops/nn_ops.py)."""
from tensorweave.ops.linalg_ops import l2_normalize
from tensorweave.ops.math_ops import sigmoid, tanh
from tensorweave.ops.nn_ops import (
    batch_normalization, bias_add, compute_average_loss, crelu, dropout, elu, embedding_lookup,
    gelu, in_top_k, l2_loss, leaky_relu, log_poisson_loss, log_softmax, moments,
    normalize_moments, relu, relu6, scale_regularization_loss, selu,
    sigmoid_cross_entropy_with_logits, silu, softmax,
    softmax_cross_entropy_with_logits, softplus, softsign, sparse_softmax_cross_entropy_with_logits,
    sufficient_statistics, swish, weighted_cross_entropy_with_logits, weighted_moments,
    zero_fraction)
from tensorweave.ops.reduction_ops import top_k
# -- convolutions (ops/conv_ops.py) --
from tensorweave.ops.conv_grad_ops import (
    depthwise_conv2d_backprop_filter, depthwise_conv2d_backprop_input)
from tensorweave.ops.conv_ops import (
    atrous_conv2d, atrous_conv2d_transpose, conv1d, conv1d_transpose, conv2d, conv2d_transpose,
    conv3d, conv3d_transpose, conv_transpose, convolution, depthwise_conv2d, separable_conv2d)
# -- end convolutions --

# -- pooling (ops/pooling_ops.py) --
from tensorweave.ops.pooling_ops import (
    avg_pool, avg_pool1d, avg_pool2d, avg_pool3d, local_response_normalization, lrn, max_pool,
    max_pool1d, max_pool2d, max_pool3d, pool)
# -- end pooling --
