"""StackedRNNCells: several recurrent cells acting as one (each step feeds the next cell)."""
from __future__ import annotations

from tensorweave.keras.engine.layer import Layer, _signature_of
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops
from tensorweave.util import nest


def cell_output_size(cell):
    """What a cell outputs per step: `output_size`, else its (first) state size."""
    size = getattr(cell, "output_size", None)
    if size is not None:
        return size
    state_size = cell.state_size
    return state_size[0] if isinstance(state_size, (list, tuple)) else state_size


def call_cell(cell, inputs, states, training, **kwargs):
    """One step of `cell`: a layer through its `__call__` (passing `training` when its `call`
    takes it), any other object through `call`."""
    if isinstance(cell, Layer):
        if _signature_of(cell).has_training:
            kwargs["training"] = training
        return cell(inputs, states, **kwargs)
    return cell.call(inputs, states, **kwargs)


def zero_states(state_size, batch_size, dtype):
    """Zero states for a `state_size` (an int or a list of ints)."""
    if isinstance(state_size, int):
        return array_ops.zeros([batch_size, state_size], dtype=dtype)
    return [array_ops.zeros([batch_size, d], dtype=dtype) for d in state_size]


class StackedRNNCells(Layer):
    """Wraps a list of RNN cells so that they behave as one cell: its state is the list of the
    cells' states, its output the last cell's output."""

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        for cell in cells:
            if "call" not in dir(cell):
                raise ValueError("All cells must have a `call` method. Received cell without a "
                                 f"`call` method: {cell}")
            if "state_size" not in dir(cell):
                raise ValueError("All cells must have a `state_size` attribute. Received cell "
                                 f"without a `state_size`: {cell}")
        self.cells = list(cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return cell_output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        states = []
        for cell in self.cells:
            get_initial_state = getattr(cell, "get_initial_state", None)
            if get_initial_state is not None:
                states.append(get_initial_state(batch_size=batch_size))
            else:
                states.append(zero_states(cell.state_size, batch_size, self.compute_dtype))
        return states

    def call(self, inputs, states, training=False, **kwargs):
        new_states = []
        for cell, cell_states in zip(self.cells, states):
            state_is_list = nest.is_nested(cell_states)
            cell_states = list(cell_states) if state_is_list else [cell_states]
            inputs, cell_states = call_cell(cell, inputs, cell_states, training, **kwargs)
            if not nest.is_nested(cell_states):
                cell_states = [cell_states]
            if len(cell_states) == 1 and not state_is_list:
                cell_states = cell_states[0]
            new_states.append(cell_states)
        if len(new_states) == 1:
            new_states = new_states[0]
        return inputs, new_states

    def build(self, input_shape):
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                with cell._path_scope():
                    cell.build(input_shape)
                cell.built = True
            batch_size = nest.flatten(input_shape)[0]
            input_shape = (batch_size, cell_output_size(cell))
        self.built = True

    def get_config(self):
        cells = [serialization.serialize_keras_object(cell) for cell in self.cells]
        return {**super().get_config(), "cells": cells}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        cells = [serialization.deserialize_keras_object(c, custom_objects=custom_objects)
                 for c in config.pop("cells")]
        return cls(cells, **config)
