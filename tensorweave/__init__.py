"""tensorweave: TensorFlow 2 and Keras on NumPy. Use it as `import tensorweave as tf`."""
from tensorweave.framework.dtypes import (
    DType, as_dtype, bfloat16, bool, complex64, complex128, double, float16, float32, float64,
    half, int8, int16, int32, int64, resource, string, uint8, uint16, uint32, uint64, variant)
from tensorweave.framework.convert import constant, convert_to_tensor
from tensorweave.framework.context import executing_eagerly
from tensorweave.framework.tensor import Tensor, is_tensor
from tensorweave.framework.tensor_shape import TensorShape
from tensorweave.framework.tensor_spec import TensorSpec
from tensorweave.framework.variables import (
    Variable, VariableAggregation, VariableSynchronization)
from tensorweave.ops import operators as _operators  # noqa: F401 - installs Tensor operators
from tensorweave.autodiff.tape import GradientTape, UnconnectedGradients

newaxis = None

# -- math (ops/math_ops.py) --
from tensorweave.ops.math_ops import add, cast, divide, exp, multiply, negative, realdiv, subtract, truediv
# -- end math --

# -- reductions (ops/reduction_ops.py) --
from tensorweave.ops.reduction_ops import reduce_sum
# -- end reductions --

# -- arrays (ops/array_ops.py) --
from tensorweave.ops.array_ops import (
    broadcast_to, identity, one_hot, ones, ones_like, reshape, stack, unstack, zeros, zeros_like)
# -- end arrays --

# -- linear algebra (ops/linalg_ops.py) --
# -- end linear algebra --

# -- nn (ops/nn_ops.py) --
# -- end nn --

# -- random and config (ops/random_ops.py, framework/device.py) --
# -- end random and config --

__version__ = "0.1.0"
