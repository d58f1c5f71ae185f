"""tf.config.optimizer: re-exports only."""
from tensorweave.framework.device import (
    get_experimental_options, get_jit, set_experimental_options, set_jit)
