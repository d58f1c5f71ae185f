"""What SimpleRNNCell, LSTMCell, GRUCell (and their layers) share: arguments, weights, configs,
and the test for the fused kernels."""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras import activations, constraints, initializers, regularizers
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from tensorweave.keras.layers.weight_options import set_weight_options

def check_units(units) -> int:
    if hasattr(units, "__index__") and not isinstance(units, bool):
        units = int(units)
    if not isinstance(units, int) or units <= 0:
        raise ValueError("Received an invalid value for argument `units`, expected a positive "
                         f"integer, got {units}.")
    return units


def read(layer, variable):
    """A weight read in the layer's compute dtype (None stays None)."""
    if variable is None:
        return None
    if variable.dtype.name != layer.compute_dtype:
        return tf.cast(variable, layer.compute_dtype)
    return tf.convert_to_tensor(variable)


class RecurrentCell(Layer, DropoutRNNCell):
    """A cell with `units`, a kernel, a recurrent kernel, an optional bias and dropout."""

    def _init_cell(self, units, activation, use_bias, kernel_initializer, recurrent_initializer,
                   bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
                   kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                   recurrent_dropout, seed):
        from tensorweave.keras.layers.regularization import _SeedGenerator
        self.units = check_units(units)
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        set_weight_options(
            self, kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            recurrent=(recurrent_initializer, recurrent_regularizer, recurrent_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint))
        self.dropout = min(1.0, max(0.0, dropout))
        self.recurrent_dropout = min(1.0, max(0.0, recurrent_dropout))
        self.seed = seed
        self.seed_generator = _SeedGenerator(seed)

    def _add_kernels(self, input_dim, gates: int):
        self.kernel = self.add_weight(shape=(input_dim, self.units * gates), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units * gates), name="recurrent_kernel",
            initializer=self.recurrent_initializer, regularizer=self.recurrent_regularizer,
            constraint=self.recurrent_constraint)

    def _add_bias(self, shape, initializer=None):
        self.bias = self.add_weight(shape=shape, name="bias",
                                    initializer=initializer or self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint)

    def _weight_config(self) -> dict:
        return {"kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
                "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
                "bias_regularizer": regularizers.serialize(self.bias_regularizer),
                "kernel_constraint": constraints.serialize(self.kernel_constraint),
                "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
                "bias_constraint": constraints.serialize(self.bias_constraint)}

    def get_initial_state(self, batch_size=None):
        sizes = self.state_size if isinstance(self.state_size, (list, tuple)) \
            else [self.state_size]
        return [tf.zeros([batch_size, d], dtype=self.compute_dtype) for d in sizes]


def default_activations(cell, gated: bool) -> bool:
    """Whether the cell's activations are those the fused kernels compute (tanh, sigmoid)."""
    if cell.activation is not activations.tanh:
        return False
    return not gated or cell.recurrent_activation is activations.sigmoid


def delegate(*names):
    """Read-only properties of a recurrent layer that return its cell's attribute."""
    def decorate(cls):
        for name in names:
            setattr(cls, name, property(lambda self, _n=name: getattr(self.cell, _n)))
        return cls
    return decorate

