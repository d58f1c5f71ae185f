"""tf.bitwise: re-exports only; implementations live in tensorweave/ops/math_ops.py."""
from tensorweave.ops.math_ops import (  # noqa: F401
    bitwise_and, bitwise_or, bitwise_xor, invert, left_shift, right_shift)
