"""ConvLSTM1D / 2D / 3D: LSTMs whose input and recurrent transformations are convolutions.

Weights as Keras 3: kernel `kernel_size + (channels, 4 * filters)`, recurrent kernel
`kernel_size + (filters, 4 * filters)` (gates i, f, c, o along the last axis), bias
`(4 * filters,)`. The recurrent convolution has stride 1 and "same" padding. Without dropout a
step is two convolutions (all four gates at once); with dropout masks, one per gate as Keras.
"""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras import activations, constraints, initializers, regularizers
from tensorweave.keras.engine import backend_config
from tensorweave.keras.engine.input_spec import InputSpec
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.rnn.cell_base import delegate, read
from tensorweave.keras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from tensorweave.keras.layers.rnn.lstm import _ForgetBiasInitializer
from tensorweave.keras.layers.rnn.rnn import RNN
from tensorweave.keras.layers.weight_options import set_weight_options
from tensorweave.util import nest


def _conv_utils():
    from tensorweave.keras.layers import conv_utils
    return conv_utils


def _data_format(value) -> str:
    if value is None:
        return backend_config.image_data_format()
    value = str(value).lower()
    if value not in ("channels_first", "channels_last"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={value}")
    return value


class ConvLSTMCell(Layer, DropoutRNNCell):
    """The cell of the ConvLSTM layers (states [h, c], feature maps of `filters` channels)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        from tensorweave.keras.layers.regularization import _SeedGenerator
        super().__init__(**kwargs)
        utils = _conv_utils()
        self.seed = seed
        self.seed_generator = _SeedGenerator(seed)
        self.rank = rank
        if self.rank > 3:
            raise ValueError(f"Rank {rank} convolutions are not currently implemented. "
                             f"Received: rank={rank}")
        self.filters = filters
        self.kernel_size = utils.standardize_tuple(kernel_size, self.rank, "kernel_size")
        self.strides = utils.standardize_tuple(strides, self.rank, "strides", allow_zero=True)
        self.padding = utils.standardize_padding(padding)
        self.data_format = _data_format(data_format)
        self.dilation_rate = utils.standardize_tuple(dilation_rate, self.rank, "dilation_rate")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("Specifying `strides > 1` is not compatible with `dilation_rate > "
                             "1`. Please provide `strides=1` or `dilation_rate=1`. Received: "
                             f"strides={self.strides} and dilation_rate={self.dilation_rate}")
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = use_bias
        self.unit_forget_bias = unit_forget_bias
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.dropout_mask_count = 4
        self.input_spec = InputSpec(ndim=rank + 2)
        self.state_size = -1  # defined by the input's spatial shape

    def build(self, inputs_shape, states_shape=None):
        inputs_shape = tuple(inputs_shape)
        if self.data_format == "channels_first":
            channel_axis = 1
            self.spatial_dims = inputs_shape[2:]
        else:
            channel_axis = -1
            self.spatial_dims = inputs_shape[1:-1]
        if None in self.spatial_dims:
            raise ValueError("ConvLSTM layers only support static input shapes for the spatial "
                             f"dimension. Received invalid input shape: input_shape={inputs_shape}")
        if inputs_shape[channel_axis] is None:
            raise ValueError("The channel dimension of the inputs (last axis) should be defined. "
                             f"Found None. Full input shape received: input_shape={inputs_shape}")
        self.input_spec = InputSpec(ndim=self.rank + 2, shape=(None,) + inputs_shape[1:])
        input_dim = inputs_shape[channel_axis]
        self.input_dim = input_dim
        self.kernel_shape = self.kernel_size + (input_dim, self.filters * 4)
        self.kernel = self.add_weight(shape=self.kernel_shape, name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=self.kernel_size + (self.filters, self.filters * 4), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)
        if self.use_bias:
            initializer = _ForgetBiasInitializer(self.bias_initializer, self.filters) \
                if self.unit_forget_bias else self.bias_initializer
            self.bias = self.add_weight(shape=(self.filters * 4,), name="bias",
                                        initializer=initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self.built = True

    def _conv(self, x, w, strides, padding, dilations):
        from tensorweave.ops import conv_ops
        return conv_ops.convolution(
            x, w, strides=list(strides), padding=padding.upper(),
            data_format=_conv_utils().tf_data_format(self.data_format, self.rank),
            dilations=list(dilations))

    def input_conv(self, x, w, b=None, padding="valid"):
        out = self._conv(x, w, self.strides, padding, self.dilation_rate)
        if b is not None:
            if self.data_format == "channels_last":
                shape = (1,) * (self.rank + 1) + (-1,)
            else:
                shape = (1, -1) + (1,) * self.rank
            out = out + tf.reshape(b, shape)
        return out

    def recurrent_conv(self, x, w):
        return self._conv(x, w, (1,) * self.rank, "same", (1,) * self.rank)

    def call(self, inputs, states, training=False):
        h_tm1, c_tm1 = states[0], states[1]
        kernel = read(self, self.kernel)
        recurrent_kernel = read(self, self.recurrent_kernel)
        bias = read(self, self.bias)
        channel_axis = self.rank + 1 if self.data_format == "channels_last" else 1
        use_dropout = training and 0.0 < self.dropout < 1.0
        use_recurrent_dropout = training and 0.0 < self.recurrent_dropout < 1.0
        if not use_dropout and not use_recurrent_dropout:
            x = self.input_conv(inputs, kernel, bias, padding=self.padding)
            h = self.recurrent_conv(h_tm1, recurrent_kernel)
            z = tf.split(x + h, 4, axis=channel_axis)
        else:
            if use_dropout:
                xs = [inputs * m for m in self.get_dropout_mask(inputs)]
            else:
                xs = [inputs] * 4
            if use_recurrent_dropout:
                hs = [h_tm1 * m for m in self.get_recurrent_dropout_mask(h_tm1)]
            else:
                hs = [h_tm1] * 4
            kernels = tf.split(kernel, 4, axis=self.rank + 1)
            recurrent_kernels = tf.split(recurrent_kernel, 4, axis=self.rank + 1)
            biases = tf.split(bias, 4) if bias is not None else [None] * 4
            z = [self.input_conv(xs[k], kernels[k], biases[k], padding=self.padding) +
                 self.recurrent_conv(hs[k], recurrent_kernels[k]) for k in range(4)]
        i = self.recurrent_activation(z[0])
        f = self.recurrent_activation(z[1])
        c = f * c_tm1 + i * self.activation(z[2])
        o = self.recurrent_activation(z[3])
        h = o * self.activation(c)
        return h, [h, c]

    def compute_output_shape(self, inputs_shape, states_shape=None):
        shape = _conv_utils().conv_output_shape(
            inputs_shape, self.filters, self.kernel_size, self.strides, self.padding,
            self.data_format, self.dilation_rate)
        return shape, [shape, shape]

    def get_initial_state(self, batch_size=None):
        if self.data_format == "channels_last":
            input_shape = (None,) + tuple(self.spatial_dims) + (self.input_dim,)
        else:
            input_shape = (None, self.input_dim) + tuple(self.spatial_dims)
        state_shape = self.compute_output_shape(input_shape)[0]
        shape = [batch_size] + list(state_shape[1:])
        return [tf.zeros(shape, dtype=self.compute_dtype),
                tf.zeros(shape, dtype=self.compute_dtype)]

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": activations.serialize(self.activation),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "unit_forget_bias": self.unit_forget_bias,
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


_CELL_ARGS = ("filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
              "activation", "recurrent_activation", "use_bias", "kernel_initializer",
              "recurrent_initializer", "bias_initializer", "unit_forget_bias",
              "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
              "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout")


@delegate(*_CELL_ARGS)
class ConvLSTM(RNN):
    """The N-D convolutional LSTM (the base of ConvLSTM1D / 2D / 3D)."""

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 **kwargs):
        cell = ConvLSTMCell(
            rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            kernel_constraint=kernel_constraint, recurrent_constraint=recurrent_constraint,
            bias_constraint=bias_constraint, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, name="conv_lstm_cell",
            dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, **kwargs)
        self.input_spec = InputSpec(ndim=rank + 3)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        return super().call(sequences, initial_state=initial_state, mask=mask,
                            training=training)

    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        batch_size, steps = sequences_shape[0], sequences_shape[1]
        step_shape = (batch_size,) + sequences_shape[2:]
        state_shape = tuple(self.cell.compute_output_shape(step_shape)[0][1:])
        if self.return_sequences:
            output_shape = (batch_size, steps) + state_shape
        else:
            output_shape = (batch_size,) + state_shape
        if self.return_state:
            batched = (batch_size,) + state_shape
            return output_shape, batched, batched
        return output_shape

    def compute_mask(self, _, mask):
        mask = nest.flatten(mask)[0] if mask is not None else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask, None, None]
        return output_mask

    def get_config(self):
        config = super().get_config()
        del config["cell"]
        cell_config = self.cell.get_config()
        return {**config, **{k: cell_config[k] for k in _CELL_ARGS},
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "seed": self.cell.seed}


def _subclass(rank: int, name: str, doc: str):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, **kwargs):
        ConvLSTM.__init__(
            self, rank=rank, filters=filters, kernel_size=kernel_size, strides=strides,
            padding=padding, data_format=data_format, dilation_rate=dilation_rate,
            activation=activation, recurrent_activation=recurrent_activation,
            use_bias=use_bias, kernel_initializer=kernel_initializer,
            recurrent_initializer=recurrent_initializer, bias_initializer=bias_initializer,
            unit_forget_bias=unit_forget_bias, kernel_regularizer=kernel_regularizer,
            recurrent_regularizer=recurrent_regularizer, bias_regularizer=bias_regularizer,
            activity_regularizer=activity_regularizer, kernel_constraint=kernel_constraint,
            recurrent_constraint=recurrent_constraint, bias_constraint=bias_constraint,
            return_sequences=return_sequences, return_state=return_state,
            go_backwards=go_backwards, stateful=stateful, dropout=dropout,
            recurrent_dropout=recurrent_dropout, seed=seed, **kwargs)
    return type(name, (ConvLSTM,), {"__init__": __init__, "__doc__": doc,
                                    "__module__": __name__, "__qualname__": name})


ConvLSTM1D = _subclass(1, "ConvLSTM1D", "1-D convolutional LSTM: inputs (batch, time, steps, "
                                        "channels) with channels_last.")
ConvLSTM2D = _subclass(2, "ConvLSTM2D", "2-D convolutional LSTM: inputs (batch, time, rows, "
                                        "cols, channels) with channels_last.")
ConvLSTM3D = _subclass(3, "ConvLSTM3D", "3-D convolutional LSTM: inputs (batch, time, depth, "
                                        "rows, cols, channels) with channels_last.")
