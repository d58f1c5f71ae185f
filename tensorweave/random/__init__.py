"""tf.random: re-exports only; implementations live in tensorweave/ops/random_ops.py."""
from tensorweave.ops.random_ops import (
    Algorithm, Generator, categorical, create_rng_state, fold_in, gamma, get_global_generator,
    normal, poisson, set_global_generator, set_seed, shuffle, split, stateless_binomial,
    stateless_categorical, stateless_gamma, stateless_normal, stateless_poisson,
    stateless_truncated_normal, stateless_uniform, truncated_normal, uniform)
from tensorweave.random import experimental
