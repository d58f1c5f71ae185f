"""DropoutRNNCell: the dropout masks of a recurrent cell, drawn once per sequence.

A mix-in for cells with `dropout`, `recurrent_dropout` and `seed_generator` (Keras 3's class of the
same name): the RNN layer draws the masks before its loop over time (so that every step of one
sequence uses the same masks, and a graph's loop body draws nothing), and clears them after.
With `dropout_mask_count` set (the LSTM / GRU "implementation 1"), each call gives that many
independent masks, one per gate.
"""
from __future__ import annotations

import math

from tensorweave.framework import dtypes
from tensorweave.framework.convert import constant
from tensorweave.ops import array_ops, math_ops, reduction_ops


def _dropout_mask(like, rate, seed_generator):
    """Ones shaped like `like`, with a fraction `rate` zeroed and the rest scaled by
    1 / (1 - rate): what multiplies the dropped tensor."""
    dims = like.shape.as_list() if like.shape.rank is not None else None
    if dims is not None and dims.count(None) == 1:
        return _run_time_dropout_mask(like, dims, rate, seed_generator)
    from tensorweave.keras.layers.regularization import _dropout
    ones = array_ops.ones_like(like)
    return _dropout(ones, rate, array_ops.shape(ones), seed_generator)


def _run_time_dropout_mask(like, dims, rate, seed_generator):
    """The mask of `_dropout_mask` for a tensor with one dimension known only when the graph
    runs (the batch size of a tf.function traced with an unknown batch).

    The uniform random ops take their shape while tracing, so the keep / drop choices are drawn
    with the stateless categorical op instead, whose number of rows comes from a tensor: each
    row of logits `[log(rate), log(1 - rate)]` gives independent draws that are 1 (kept) with
    probability 1 - rate; one row per index of the dimensions up to the unknown one, one draw
    per element of the known dimensions after it."""
    from tensorweave.ops import random_ops
    dtype = like.dtype
    if rate >= 1:
        return array_ops.zeros_like(like)
    unknown = dims.index(None)
    rows = reduction_ops.reduce_prod(array_ops.shape(like)[:unknown + 1])
    per_row = math.prod(dims[unknown + 1:])
    log_drop = math.log(rate) if rate > 0 else -math.inf
    logits = array_ops.broadcast_to(constant([[log_drop, math.log1p(-rate)]], dtypes.float32),
                                    array_ops.stack([rows, 2]))
    draws = random_ops.stateless_categorical(logits, per_row, seed=seed_generator.next(),
                                             dtype=dtypes.int32)
    keep = math_ops.cast(array_ops.reshape(draws, [-1 if d is None else d for d in dims]), dtype)
    return math_ops.multiply(keep, math_ops.cast(1.0 / (1.0 - rate), dtype))


class DropoutRNNCell:
    """Creates and caches the dropout masks of a recurrent cell (a mix-in, not a layer)."""

    def _create_dropout_mask(self, step_input, dropout_rate):
        count = getattr(self, "dropout_mask_count", None)
        if count is None:
            return _dropout_mask(step_input, dropout_rate, self.seed_generator)
        return [_dropout_mask(step_input, dropout_rate, self.seed_generator)
                for _ in range(count)]

    def get_dropout_mask(self, step_input):
        """The mask of the inputs (made on first use, then the same until reset)."""
        if getattr(self, "_dropout_mask", None) is None and self.dropout > 0:
            object.__setattr__(self, "_dropout_mask",
                               self._create_dropout_mask(step_input, self.dropout))
        return getattr(self, "_dropout_mask", None)

    def get_recurrent_dropout_mask(self, step_input):
        """The mask of the recurrent state (made on first use, then the same until reset)."""
        if getattr(self, "_recurrent_dropout_mask", None) is None and self.recurrent_dropout > 0:
            object.__setattr__(self, "_recurrent_dropout_mask",
                               self._create_dropout_mask(step_input, self.recurrent_dropout))
        return getattr(self, "_recurrent_dropout_mask", None)

    def reset_dropout_mask(self):
        """Forgets the input mask: the next sequence draws a new one."""
        object.__setattr__(self, "_dropout_mask", None)

    def reset_recurrent_dropout_mask(self):
        object.__setattr__(self, "_recurrent_dropout_mask", None)
