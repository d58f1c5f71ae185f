"""tf.math: re-exports only; implementations live in tensorweave/ops/."""
# -- math (ops/math_ops.py) --
from tensorweave.ops.math_ops import add, cast, divide, exp, multiply, negative, realdiv, subtract, truediv
# -- end math --

# -- reductions (ops/reduction_ops.py) --
from tensorweave.ops.reduction_ops import reduce_sum
# -- end reductions --

# -- linear algebra and nn names that tf.math also has --
# -- end linear algebra and nn --
