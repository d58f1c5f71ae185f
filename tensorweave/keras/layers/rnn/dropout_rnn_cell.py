"""DropoutRNNCell: the dropout masks of a recurrent cell, drawn once per sequence.

A mix-in for cells with `dropout`, `recurrent_dropout` and `seed_generator` (Keras 3's class of the
same name): the RNN layer draws the masks before its loop over time (so that every step of one
sequence uses the same masks, and a graph's loop body draws nothing), and clears them after.
With `dropout_mask_count` set (the LSTM / GRU "implementation 1"), each call gives that many
independent masks, one per gate.
"""
from __future__ import annotations

from tensorweave.ops import array_ops


def _dropout_mask(like, rate, seed_generator):
    """Ones shaped like `like`, with a fraction `rate` zeroed and the rest scaled by
    1 / (1 - rate): what multiplies the dropped tensor."""
    from tensorweave.keras.layers.regularization import _dropout
    ones = array_ops.ones_like(like)
    return _dropout(ones, rate, array_ops.shape(ones), seed_generator)


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
