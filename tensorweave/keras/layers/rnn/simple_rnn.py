"""SimpleRNNCell and SimpleRNN: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + b)."""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras import activations
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.layers.rnn.cell_base import RecurrentCell, delegate, read
from tensorweave.keras.layers.rnn.fused_rnn import FusedRNN
from tensorweave.ops import rnn_ops


class SimpleRNNCell(RecurrentCell):
    """The cell of a fully connected recurrent layer (one state, `units` wide)."""

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._init_cell(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                        bias_initializer, kernel_regularizer, recurrent_regularizer,
                        bias_regularizer, kernel_constraint, recurrent_constraint,
                        bias_constraint, dropout, recurrent_dropout, seed)
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape[-1], 1)
        if self.use_bias:
            self._add_bias((self.units,))
        else:
            self.bias = None
        self.built = True

    def call(self, sequence, states, training=False):
        prev_output = states[0] if isinstance(states, (list, tuple)) else states
        # the masks are drawn only in training (none in an inference graph)
        dp_mask = self.get_dropout_mask(sequence) if training else None
        rec_dp_mask = self.get_recurrent_dropout_mask(prev_output) if training else None
        if training and dp_mask is not None:
            sequence = sequence * dp_mask
        h = tf.matmul(sequence, read(self, self.kernel))
        if self.bias is not None:
            h = h + read(self, self.bias)
        if training and rec_dp_mask is not None:
            prev_output = prev_output * rec_dp_mask
        output = h + tf.matmul(prev_output, read(self, self.recurrent_kernel))
        if self.activation is not None:
            output = self.activation(output)
        new_state = [output] if isinstance(states, (list, tuple)) else output
        return output, new_state

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **self._weight_config(), "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


@delegate("units", "activation", "use_bias", "kernel_initializer", "recurrent_initializer",
          "bias_initializer", "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
          "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
          "recurrent_dropout")
class SimpleRNN(FusedRNN):
    """A fully connected recurrent layer; with tanh (the default) and no recurrent dropout in
    training, the whole sequence runs in one fused kernel."""

    _gated = False

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None, **kwargs):
        cell = SimpleRNNCell(
            units, activation=activation, use_bias=use_bias,
            kernel_initializer=kernel_initializer, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, dtype=kwargs.get("dtype", None),
            trainable=kwargs.get("trainable", True), name="simple_rnn_cell")
        # (Keras 3 takes `activity_regularizer` here and does not use it.)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll, **kwargs)
        self.input_spec = [InputSpec(ndim=3)]

    def _input_dropout_applies(self, cell) -> bool:
        return cell.dropout > 0

    def _run_fused(self, sequences, initial_state, mask):
        cell = self.cell
        outputs, h = rnn_ops.simple_rnn_sequence(
            sequences, initial_state[0], read(cell, cell.kernel),
            read(cell, cell.recurrent_kernel), read(cell, cell.bias), mask=mask,
            go_backwards=self.go_backwards, zero_output_for_mask=self.zero_output_for_mask)
        return outputs, h, [h]

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        return {**config, "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **self.cell._weight_config(), "activity_regularizer": None,
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout}
