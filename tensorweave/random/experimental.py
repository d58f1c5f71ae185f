"""tf.random.experimental: re-exports only."""
from tensorweave.ops.random_ops import (
    Algorithm, Generator, create_rng_state, get_global_generator, set_global_generator,
    stateless_shuffle)
from tensorweave.ops.random_ops import fold_in as stateless_fold_in
from tensorweave.ops.random_ops import split as stateless_split
