"""tf.image: re-exports only; implementations live in tensorweave/ops/image_ops.py."""
from tensorweave.ops.image_ops import ResizeMethod, resize
