"""GRUCell and GRU (Cho et al. 2014), Keras 3's weight layout: kernel (input, 3*units) and
recurrent kernel (units, 3*units) with the gates in the order z, r, h. With `reset_after` (the
default) the reset gate multiplies the recurrent candidate after its matmul and the bias is
(2, 3*units): input bias, recurrent bias; otherwise it multiplies h before, bias (3*units,)."""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras import activations
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.layers.rnn.cell_base import RecurrentCell, delegate, read
from tensorweave.keras.layers.rnn.fused_rnn import FusedRNN
from tensorweave.ops import rnn_ops
from tensorweave.util import nest


class GRUCell(RecurrentCell):
    """The cell of a GRU layer: one state, `units` wide."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        implementation = kwargs.pop("implementation", 2)
        super().__init__(**kwargs)
        self._init_cell(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                        bias_initializer, kernel_regularizer, recurrent_regularizer,
                        bias_regularizer, kernel_constraint, recurrent_constraint,
                        bias_constraint, dropout, recurrent_dropout, seed)
        self.implementation = implementation
        self.recurrent_activation = activations.get(recurrent_activation)
        if self.recurrent_dropout != 0.0:
            self.implementation = 1
        if self.implementation == 1:
            self.dropout_mask_count = 3
        self.reset_after = reset_after
        self.state_size = self.units
        self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape[-1], 3)
        if self.use_bias:
            self._add_bias((2, 3 * self.units) if self.reset_after else (3 * self.units,))
        else:
            self.bias = None
        self.built = True

    def call(self, inputs, states, training=False):
        h_tm1 = states[0] if nest.is_nested(states) else states
        kernel = read(self, self.kernel)
        recurrent_kernel = read(self, self.recurrent_kernel)
        bias = read(self, self.bias)
        u = self.units
        input_bias = recurrent_bias = None
        if bias is not None:
            if self.reset_after:
                input_bias, recurrent_bias = bias[0], bias[1]
            else:
                input_bias = bias
        act, rec_act = self.activation, self.recurrent_activation
        if self.implementation == 1:
            if training and 0.0 < self.dropout < 1.0:
                xs = [inputs * m for m in self.get_dropout_mask(inputs)]
            else:
                xs = [inputs] * 3
            if training and 0.0 < self.recurrent_dropout < 1.0:
                hs = [h_tm1 * m for m in self.get_recurrent_dropout_mask(h_tm1)]
            else:
                hs = [h_tm1] * 3
            x = [tf.matmul(xs[k], kernel[:, k * u:(k + 1) * u]) for k in range(3)]
            if input_bias is not None:
                x = [x[k] + input_bias[k * u:(k + 1) * u] for k in range(3)]
            rec_z = tf.matmul(hs[0], recurrent_kernel[:, :u])
            rec_r = tf.matmul(hs[1], recurrent_kernel[:, u:2 * u])
            if self.reset_after and recurrent_bias is not None:
                rec_z = rec_z + recurrent_bias[:u]
                rec_r = rec_r + recurrent_bias[u:2 * u]
            z = rec_act(x[0] + rec_z)
            r = rec_act(x[1] + rec_r)
            if self.reset_after:
                rec_h = tf.matmul(hs[2], recurrent_kernel[:, 2 * u:])
                if recurrent_bias is not None:
                    rec_h = rec_h + recurrent_bias[2 * u:]
                rec_h = r * rec_h
            else:
                rec_h = tf.matmul(r * hs[2], recurrent_kernel[:, 2 * u:])
            hh = act(x[2] + rec_h)
        else:
            if training and 0.0 < self.dropout < 1.0:
                inputs = inputs * self.get_dropout_mask(inputs)
            matrix_x = tf.matmul(inputs, kernel)
            if input_bias is not None:
                matrix_x = matrix_x + input_bias
            x_z, x_r, x_h = tf.split(matrix_x, 3, axis=-1)
            if self.reset_after:
                matrix_inner = tf.matmul(h_tm1, recurrent_kernel)
                if recurrent_bias is not None:
                    matrix_inner = matrix_inner + recurrent_bias
            else:
                matrix_inner = tf.matmul(h_tm1, recurrent_kernel[:, :2 * u])
            z = rec_act(x_z + matrix_inner[:, :u])
            r = rec_act(x_r + matrix_inner[:, u:2 * u])
            if self.reset_after:
                rec_h = r * matrix_inner[:, 2 * u:]
            else:
                rec_h = tf.matmul(r * h_tm1, recurrent_kernel[:, 2 * u:])
            hh = act(x_h + rec_h)
        h = z * h_tm1 + (1 - z) * hh
        new_state = [h] if nest.is_nested(states) else h
        return h, new_state

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, **self._weight_config(), "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "reset_after": self.reset_after,
                "seed": self.seed}

    def get_initial_state(self, batch_size=None):
        return [tf.zeros([batch_size, self.state_size], dtype=self.compute_dtype)]


@delegate("units", "activation", "recurrent_activation", "use_bias", "kernel_initializer",
          "recurrent_initializer", "bias_initializer", "kernel_regularizer",
          "recurrent_regularizer", "bias_regularizer", "kernel_constraint",
          "recurrent_constraint", "bias_constraint", "dropout", "recurrent_dropout",
          "reset_after")
class GRU(FusedRNN):
    """Gated Recurrent Unit layer. With tanh / sigmoid (the defaults) and no recurrent dropout
    in training, the whole sequence runs in one fused kernel (both `reset_after` variants);
    `use_cudnn=False` keeps the step-by-step loop."""


    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", **kwargs):
        cell = GRUCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            kernel_regularizer=kernel_regularizer, recurrent_regularizer=recurrent_regularizer,
            bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            dropout=dropout, recurrent_dropout=recurrent_dropout, reset_after=reset_after,
            dtype=kwargs.get("dtype", None), trainable=kwargs.get("trainable", True),
            name="gru_cell", seed=seed, implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        self._set_use_cudnn(use_cudnn)

    def _run_fused(self, sequences, initial_state, mask):
        cell = self.cell
        h0 = initial_state[0] if nest.is_nested(initial_state) else initial_state
        outputs, h = rnn_ops.gru_sequence(
            sequences, h0, read(cell, cell.kernel), read(cell, cell.recurrent_kernel),
            read(cell, cell.bias), mask=mask, go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask, reset_after=cell.reset_after)
        return outputs, h, [h]

    def get_config(self):
        from tensorweave.keras import regularizers
        config = super().get_config()
        del config["cell"]
        return {**config, "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, **self.cell._weight_config(),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "reset_after": self.reset_after, "seed": self.cell.seed}
