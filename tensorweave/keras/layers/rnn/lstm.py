"""LSTMCell and LSTM (Hochreiter 1997), Keras 3's weight layout: kernel (input, 4*units) and
recurrent kernel (units, 4*units) with the gates in the order i, f, c, o; bias (4*units,)."""
from __future__ import annotations

import numpy as np

import tensorweave as tf
from tensorweave.keras import activations, initializers
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.layers.rnn.cell_base import RecurrentCell, delegate, read
from tensorweave.keras.layers.rnn.fused_rnn import FusedRNN
from tensorweave.ops import rnn_ops


class _ForgetBiasInitializer:
    """The bias initializer with unit_forget_bias: the forget gate's block starts at one."""

    def __init__(self, base, units):
        self.base = base
        self.units = units

    def __call__(self, shape, dtype=None, **kwargs):
        u = self.units
        ones = initializers.get("ones")
        parts = [self.base((u,), dtype=dtype), ones((u,), dtype=dtype),
                 self.base((2 * u,), dtype=dtype)]
        return np.concatenate([np.asarray(p) for p in parts])


class LSTMCell(RecurrentCell):
    """The cell of an LSTM layer: states [h, c], both `units` wide."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
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
            self.dropout_mask_count = 4
        self.unit_forget_bias = unit_forget_bias
        self.state_size = [self.units, self.units]
        self.output_size = self.units

    def build(self, input_shape):
        self._add_kernels(input_shape[-1], 4)
        if self.use_bias:
            initializer = _ForgetBiasInitializer(self.bias_initializer, self.units) \
                if self.unit_forget_bias else None
            self._add_bias((self.units * 4,), initializer)
        else:
            self.bias = None
        self.built = True

    def _carry_and_output(self, z, c_tm1):
        z0, z1, z2, z3 = z
        i = self.recurrent_activation(z0)
        f = self.recurrent_activation(z1)
        c = f * c_tm1 + i * self.activation(z2)
        o = self.recurrent_activation(z3)
        return c, o

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        kernel = read(self, self.kernel)
        recurrent_kernel = read(self, self.recurrent_kernel)
        bias = read(self, self.bias)
        u = self.units
        if self.implementation == 1:
            if training and 0.0 < self.dropout < 1.0:
                dp_mask = self.get_dropout_mask(inputs)
                xs = [inputs * m for m in dp_mask]
            else:
                xs = [inputs] * 4
            if training and 0.0 < self.recurrent_dropout < 1.0:
                rec_mask = self.get_recurrent_dropout_mask(h_tm1)
                hs = [h_tm1 * m for m in rec_mask]
            else:
                hs = [h_tm1] * 4
            z = []
            for k in range(4):
                zk = tf.matmul(xs[k], kernel[:, k * u:(k + 1) * u])
                if bias is not None:
                    zk = zk + bias[k * u:(k + 1) * u]
                z.append(zk + tf.matmul(hs[k], recurrent_kernel[:, k * u:(k + 1) * u]))
        else:
            if training and 0.0 < self.dropout < 1.0:
                inputs = inputs * self.get_dropout_mask(inputs)
            zz = tf.matmul(inputs, kernel) + tf.matmul(h_tm1, recurrent_kernel)
            if bias is not None:
                zz = zz + bias
            z = tf.split(zz, 4, axis=1)
        c, o = self._carry_and_output(z, c_tm1)
        h = o * self.activation(c)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, "unit_forget_bias": self.unit_forget_bias,
                **self._weight_config(), "dropout": self.dropout,
                "recurrent_dropout": self.recurrent_dropout, "seed": self.seed}


@delegate("units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
          "kernel_initializer", "recurrent_initializer", "bias_initializer",
          "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
          "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
          "recurrent_dropout")
class LSTM(FusedRNN):
    """Long Short-Term Memory layer. With tanh / sigmoid (the defaults) and no recurrent
    dropout in training, the whole sequence runs in one fused kernel (forward and backward),
    as TensorFlow dispatches to cuDNN on a GPU; `use_cudnn=False` keeps the step-by-step loop."""

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", **kwargs):
        cell = LSTMCell(
            units, activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            unit_forget_bias=unit_forget_bias, recurrent_initializer=recurrent_initializer,
            bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, dtype=kwargs.get("dtype", None),
            trainable=kwargs.get("trainable", True), name="lstm_cell", seed=seed,
            implementation=kwargs.pop("implementation", 2))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.input_spec = InputSpec(ndim=3)
        self._set_use_cudnn(use_cudnn)

    def _run_fused(self, sequences, initial_state, mask):
        cell = self.cell
        outputs, h, c = rnn_ops.lstm_sequence(
            sequences, initial_state[0], initial_state[1], read(cell, cell.kernel),
            read(cell, cell.recurrent_kernel), read(cell, cell.bias), mask=mask,
            go_backwards=self.go_backwards, zero_output_for_mask=self.zero_output_for_mask)
        return outputs, h, [h, c]

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        return {**config, "units": self.units,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias, "unit_forget_bias": self.unit_forget_bias,
                **self.cell._weight_config(),
                "activity_regularizer": _serialize_regularizer(self.activity_regularizer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.cell.seed}


def _serialize_regularizer(regularizer):
    from tensorweave.keras import regularizers
    return regularizers.serialize(regularizer)
