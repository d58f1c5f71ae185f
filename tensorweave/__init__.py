"""tensorweave: TensorFlow 2 and Keras on NumPy. Use it as `import tensorweave as tf`."""
from tensorweave.framework.dtypes import (
    DType, as_dtype, bfloat16, bool, complex64, complex128, double, float16, float32, float64,
    half, int8, int16, int32, int64, qint8, qint16, qint32, quint8, quint16, resource, string,
    uint8, uint16, uint32, uint64, variant)
from tensorweave.framework.convert import constant, convert_to_tensor
from tensorweave.framework.context import executing_eagerly, init_scope
from tensorweave.framework.indexed_slices import IndexedSlices
from tensorweave.framework.tensor import Tensor, is_tensor
from tensorweave.framework.tensor_shape import TensorShape, broadcast_static_shape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variables import (
    Variable, VariableAggregation, VariableSynchronization)
from tensorweave.ops import operators as _operators  # noqa: F401 - installs Tensor operators
from tensorweave.autodiff.tape import GradientTape, UnconnectedGradients
from tensorweave.autodiff.custom_gradient import custom_gradient, recompute_grad

from tensorweave import dtypes, errors, math  # noqa: E402 - namespaces

newaxis = None

# -- math (ops/math_ops.py) --
from tensorweave.ops.math_ops import (
    abs, acos, acosh, add, add_n, asin, asinh, atan, atan2, atanh, cast, clip_by_value, complex,
    cos, cosh, divide, equal, exp, floor, greater, greater_equal, less, less_equal, logical_and,
    logical_not, logical_or, maximum, minimum, multiply, negative, not_equal, pow, realdiv, round,
    saturate_cast, scalar_mul, sigmoid, sign, sin, sinh, sqrt, square, subtract, tan, tanh,
    truediv, truncatediv, truncatemod)
from tensorweave import bitwise
# -- end math --

# -- reductions (ops/reduction_ops.py) --
from tensorweave.ops.reduction_ops import (
    argmax, argmin, argsort, cumsum, reduce_all, reduce_any, reduce_logsumexp, reduce_max,
    reduce_mean, reduce_min, reduce_prod, reduce_sum, sort, unique, unique_with_counts)
# -- end reductions --

# -- arrays (ops/array_ops.py) --
from tensorweave.ops.array_ops import (
    boolean_mask, broadcast_to, concat, ensure_shape, expand_dims, fill, gather, gather_nd,
    identity, linspace, meshgrid, one_hot, ones, ones_like, pad, range, rank, repeat, reshape,
    reverse, roll, scatter_nd, searchsorted, sequence_mask, shape, size, slice, split, squeeze,
    stack, stop_gradient, strided_slice, tensor_scatter_nd_add, tensor_scatter_nd_max,
    tensor_scatter_nd_min, tensor_scatter_nd_sub, tensor_scatter_nd_update, tile, transpose,
    unstack, where, zeros, zeros_like)
# -- end arrays --

# -- linear algebra (ops/linalg_ops.py) --
from tensorweave.ops.linalg_ops import (
    clip_by_global_norm, clip_by_norm, einsum, eye, matmul, norm, tensordot)
from tensorweave import linalg
# -- end linear algebra --

# -- nn (ops/nn_ops.py) --
from tensorweave import nn
# -- end nn --

# -- random and config (ops/random_ops.py, framework/device.py) --
from tensorweave import config, random
from tensorweave.framework.device import DeviceSpec, device
# -- end random and config --

# -- tensor_array (ops/tensor_array_ops.py) --
from tensorweave.ops.tensor_array_ops import TensorArray, TensorArraySpec
# -- end tensor_array --

# -- function (function/, ops/control_flow_ops.py) --
from tensorweave.function.def_function import function
from tensorweave.ops.control_flow_ops import case, cond, switch_case, while_loop
# -- end function --

# -- script (ops/script_ops.py, ops/logging_ops.py) --
from tensorweave.ops.logging_ops import print
from tensorweave.ops.script_ops import numpy_function, py_function
# -- end script --

# -- autograph (autograph/) --
from tensorweave import autograph
# -- end autograph --

# -- data (data/) --
from tensorweave import data
# -- end data --

# -- io (ops/parsing_ops.py) --
from tensorweave import io
# -- end io --

# -- initializers (ops/init_ops.py) --
from tensorweave.ops.init_ops import (
    constant_initializer, ones_initializer, random_normal_initializer,
    random_uniform_initializer, zeros_initializer)
# -- end initializers --

# -- image --
from tensorweave import image
# -- end image --

# -- keras (keras/) --
from tensorweave import keras
# -- end keras --

# -- train (checkpoint/) --
from tensorweave import train
# -- end train --

__version__ = "0.1.0"
