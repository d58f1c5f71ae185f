"""FusedRNN: the base of SimpleRNN, LSTM and GRU. With Keras's default activations and no
recurrent dropout in training, the whole sequence runs as one fused kernel of ops/rnn_ops.py
(forward and backward), as TensorFlow dispatches to cuDNN on a GPU; otherwise, and with
`use_cudnn=False`, the cell runs step by step as in any RNN."""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras.layers.rnn.cell_base import default_activations
from tensorweave.keras.layers.rnn.rnn import RNN


class FusedRNN(RNN):
    _fused_kernel = True
    _gated = True  # LSTM and GRU: a sigmoid recurrent activation as well as tanh
    use_cudnn = "auto"

    def _set_use_cudnn(self, use_cudnn) -> None:
        if use_cudnn not in ("auto", True, False):
            raise ValueError("Invalid valid received for argument `use_cudnn`. Expected one of "
                             f"{{'auto', True, False}}. Received: use_cudnn={use_cudnn}")
        self.use_cudnn = use_cudnn

    def _can_fuse(self, training) -> bool:
        cell = self.cell
        return self._fused_kernel and self.use_cudnn in ("auto", True) and \
            default_activations(cell, gated=self._gated) and \
            not (training and (cell.recurrent_dropout > 0 or
                               getattr(cell, "implementation", 2) == 1))

    def _input_dropout_applies(self, cell) -> bool:
        return 0.0 < cell.dropout < 1.0

    def _run_fused(self, sequences, initial_state, mask):
        """(outputs of every step, the last output, the final states) from ops/rnn_ops.py."""
        raise NotImplementedError

    def inner_loop(self, sequences, initial_state, mask, training=False):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if not self._can_fuse(training):
            if self.use_cudnn is True:
                raise ValueError("use_cudnn=True was specified, but cuDNN is not supported for "
                                 "this layer configuration with this backend. Pass "
                                 "use_cudnn='auto' to fallback to a non-cuDNN implementation.")
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell
        if training and self._input_dropout_applies(cell):
            # the same per-sequence mask the step-by-step path draws
            dp_mask = cell.get_dropout_mask(sequences[:, 0])
            sequences = sequences * tf.expand_dims(dp_mask, 1)
        outputs, last, states = self._run_fused(sequences, initial_state, mask)
        return (last if mask is None else outputs[:, -1]), outputs, states

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, mask=mask, training=training,
                            initial_state=initial_state)
