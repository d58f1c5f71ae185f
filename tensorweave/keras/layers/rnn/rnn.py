"""keras.layers.RNN: a recurrent layer looping a cell over the time axis.

The generic loop calls the cell once per step (Keras 3's `backend.rnn`): eagerly, or with
`unroll=True`, a Python loop; while a graph is traced, one `tf.while_loop` over time reading the
steps from a TensorArray. Masked steps keep the previous states, and output the previous output
(zeros before the first kept step), or zeros with `zero_output_for_mask`. With `go_backwards` the
steps run from the end and the outputs come in that (reversed) order.

SimpleRNN, LSTM and GRU replace this loop by a fused kernel (tensorweave.ops.rnn_ops: the whole
sequence in one primitive) when their activations are the defaults and no recurrent dropout
applies; every other configuration, and every custom cell, uses the loop.
"""
from __future__ import annotations

from tensorweave.framework import dtypes
from tensorweave.framework.context import init_scope, state
from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable as _TFVariable
from tensorweave.function.graph import StaticValueError
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.rnn.dropout_rnn_cell import DropoutRNNCell
from tensorweave.keras.layers.rnn.stacked_rnn_cells import StackedRNNCells, call_cell
from tensorweave.keras.saving import serialization
from tensorweave.ops import array_ops, control_flow_ops, math_ops, tensor_array_ops
from tensorweave.util import nest


# -- the generic loop over time ------------------------------------------------------------------
def _time_major(x):
    perm = [1, 0] + list(range(2, x.shape.rank))
    return array_ops.transpose(x, perm)


def _broadcastable(mask_t, like):
    """A (batch,) bool mask reshaped to broadcast against `like` (batch, ...)."""
    rank = like.shape.rank
    return array_ops.reshape(mask_t, [-1] + [1] * (rank - 1)) if rank > 1 else mask_t


def _masked(mask_t, new, old):
    return array_ops.where(_broadcastable(mask_t, new), new, old)


def _apply_step_mask(mask_t, output, prev_output, states, new_states, zero_output):
    if zero_output or prev_output is None:
        prev_output = array_ops.zeros_like(output)
    output = _masked(mask_t, output, prev_output)
    flat = [_masked(mask_t, n, s) for n, s in zip(nest.flatten(new_states), nest.flatten(states))]
    return output, nest.pack_sequence_as(new_states, flat)


def rnn(step_function, inputs, initial_states, go_backwards=False, mask=None, unroll=False,
        zero_output_for_mask=False, return_all_outputs=True):
    """Runs `step_function(input_t, states) -> (output_t, new_states)` over the time axis (1)
    of `inputs`; returns (last output, outputs (batch, time, ...), final states)."""
    x = _time_major(inputs)
    if mask is not None:
        if mask.dtype != dtypes.bool:
            mask = math_ops.cast(mask, dtypes.bool)
        mask = array_ops.transpose(mask, [1, 0])
        if go_backwards:
            mask = array_ops.reverse(mask, [0])
    if go_backwards:
        x = array_ops.reverse(x, [0])
    states = tuple(initial_states)
    if state.graph is None or unroll:
        return _python_loop(step_function, x, states, mask, zero_output_for_mask,
                            return_all_outputs)
    return _while_loop(step_function, x, states, mask, zero_output_for_mask, return_all_outputs)


def _python_loop(step_function, x, states, mask, zero_output, return_all_outputs):
    steps = array_ops.unstack(x)
    masks = array_ops.unstack(mask) if mask is not None else None
    outputs = []
    prev_output = None
    for t, input_t in enumerate(steps):
        output, new_states = step_function(input_t, states)
        if masks is not None:
            output, new_states = _apply_step_mask(masks[t], output, prev_output, states,
                                                  new_states, zero_output)
        states = tuple(new_states) if isinstance(new_states, list) else new_states
        prev_output = output
        if return_all_outputs or not outputs:
            outputs.append(output)
        else:
            outputs[0] = output
    last_output = prev_output
    stacked = array_ops.stack(outputs, axis=1)
    return last_output, stacked, list(states)


def _while_loop(step_function, x, states, mask, zero_output, return_all_outputs):
    steps = array_ops.shape(x)[0] if x.shape[0] is None else x.shape[0]
    input_ta = tensor_array_ops.TensorArray(x.dtype, size=steps, element_shape=x.shape[1:])
    input_ta = input_ta.unstack(x)
    mask_ta = None
    if mask is not None:
        mask_ta = tensor_array_ops.TensorArray(dtypes.bool, size=steps,
                                               element_shape=mask.shape[1:]).unstack(mask)
    # one step on the first input gives the output's shape and dtype (for the TensorArray and
    # the zeros a masked first step outputs)
    output_zero, _ = step_function(x[0], states)
    output_ta = tensor_array_ops.TensorArray(output_zero.dtype,
                                             size=steps if return_all_outputs else 1,
                                             element_shape=output_zero.shape)
    flat_states = nest.flatten(states)
    time = convert_to_tensor(0, dtype=dtypes.int32)

    def body(t, out_ta, prev_output, *flat):
        step_states = nest.pack_sequence_as(states, list(flat))
        output, new_states = step_function(input_ta.read(t), step_states)
        if mask_ta is not None:
            output, new_states = _apply_step_mask(mask_ta.read(t), output, prev_output,
                                                  step_states, new_states, zero_output)
        index = t if return_all_outputs else 0
        out_ta = out_ta.write(index, output)
        new_flat = [convert_to_tensor(s) for s in nest.flatten(new_states)]
        new_flat = [math_ops.cast(n, s.dtype) if n.dtype != s.dtype else n
                    for n, s in zip(new_flat, flat)]
        return (t + 1, out_ta, output) + tuple(new_flat)

    final = control_flow_ops.while_loop(
        lambda t, *_: math_ops.less(t, steps), body,
        (time, output_ta, array_ops.zeros_like(output_zero)) + tuple(flat_states),
        maximum_iterations=steps)
    outputs = final[1].stack()
    last_output = final[2]
    new_states = nest.pack_sequence_as(states, list(final[3:]))
    return last_output, _time_major(outputs), list(new_states)


# -- the layer -----------------------------------------------------------------------------------
class RNN(Layer):
    """A recurrent layer: `cell` (an object with `call(inputs, states)` and `state_size`, or a
    list of them, stacked) applied to each step of `(batch, time, ...)` inputs."""

    _fused_kernel = False  # SimpleRNN, LSTM and GRU run a fused kernel when they can

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if "call" not in dir(cell):
            raise ValueError(f"Argument `cell` should have a `call` method. Received: cell={cell}")
        if "state_size" not in dir(cell):
            raise ValueError("The RNN cell should have a `state_size` attribute (single integer "
                             "or list of integers, one integer per RNN state). "
                             f"Received: cell={cell}")
        super().__init__(**kwargs)
        self.zero_output_for_mask = zero_output_for_mask
        self.cell = cell
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.supports_masking = True
        self.input_spec = None
        object.__setattr__(self, "states", None)  # not tracked: no weights of the layer
        self._expected_batch_size = None
        state_size = getattr(self.cell, "state_size", None)
        if state_size is None:
            raise ValueError("state_size must be specified as property on the RNN cell.")
        if not isinstance(state_size, (list, tuple, int)):
            raise ValueError("state_size must be an integer, or a list/tuple of integers (one "
                             "for each state tensor).")
        if isinstance(state_size, int):
            self.state_size = [state_size]
            self.single_state = True
        else:
            self.state_size = list(state_size)
            self.single_state = False

    # -- shapes and masks --------------------------------------------------------------------
    def compute_output_shape(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        batch_size = sequences_shape[0]
        length = sequences_shape[1]
        states_shape = []
        for size in self.state_size:
            if isinstance(size, int):
                states_shape.append((batch_size, size))
            elif isinstance(size, (list, tuple)):
                states_shape.append([(batch_size, s) for s in size])
        output_size = getattr(self.cell, "output_size", None)
        if output_size is None:
            output_size = self.state_size[0]
        if not isinstance(output_size, int):
            raise ValueError("output_size must be an integer.")
        if self.return_sequences:
            output_shape = (batch_size, length, output_size)
        else:
            output_shape = (batch_size, output_size)
        if self.return_state:
            return (output_shape, *states_shape)
        return output_shape

    def compute_mask(self, _, mask):
        mask = nest.flatten(mask)[0] if mask is not None else None
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.state_size]
        return output_mask

    # -- weights and states ------------------------------------------------------------------
    def build(self, sequences_shape, initial_state_shape=None):
        sequences_shape = tuple(sequences_shape)
        step_input_shape = (sequences_shape[0],) + tuple(sequences_shape[2:])
        if isinstance(self.cell, Layer) and not self.cell.built:
            with self._path_scope(), self.cell._path_scope():
                self.cell.build(step_input_shape)
            self.cell.built = True
        if self.stateful:
            if self.states is not None:
                self.reset_state()
            else:
                if sequences_shape[0] is None:
                    raise ValueError("When using `stateful=True` in a RNN, the batch size must "
                                     "be static. Found dynamic batch size: "
                                     f"sequence.shape={sequences_shape}")
                self._create_state_variables(sequences_shape[0])
                self._expected_batch_size = sequences_shape[0]
        self.built = True

    def _create_state_variables(self, batch_size):
        with init_scope():
            initial = self.get_initial_state(batch_size)
            variables = nest.map_structure(
                lambda value: _TFVariable(value, trainable=False, name="rnn_state",
                                          dtype=self.variable_dtype), initial)
        object.__setattr__(self, "states", variables)

    def get_initial_state(self, batch_size):
        get_initial_state = getattr(self.cell, "get_initial_state", None)
        if get_initial_state is None:
            dtype = getattr(self.cell, "compute_dtype", self.compute_dtype)
            return [array_ops.zeros([batch_size, d], dtype=dtype) for d in self.state_size]
        init_state = get_initial_state(batch_size=batch_size)
        if not nest.is_nested(init_state):
            init_state = [init_state]
        return list(init_state)

    def reset_states(self):
        """Zeroes the states of a stateful layer (a compatibility alias of `reset_state`)."""
        self.reset_state()

    def reset_state(self):
        if self.states is not None:
            for v in nest.flatten(self.states):
                v.assign(array_ops.zeros_like(v))

    # -- the loop ----------------------------------------------------------------------------
    def inner_loop(self, sequences, initial_state, mask, training=False):
        """(last output, outputs (batch, time, ...), final states) of the generic loop."""
        cell = self.cell

        def step(inputs, states):
            output, new_states = call_cell(cell, inputs, states, training)
            if not nest.is_nested(new_states):
                new_states = [new_states]
            return output, new_states

        if nest.is_nested(mask):
            mask = nest.flatten(mask)[0]
        return rnn(step, sequences, initial_state, go_backwards=self.go_backwards, mask=mask,
                   unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask,
                   return_all_outputs=self.return_sequences)

    def call(self, sequences, initial_state=None, mask=None, training=False):
        timesteps = sequences.shape[1]
        if self.unroll and timesteps is None:
            raise ValueError("Cannot unroll a RNN if the time dimension is undefined. \n- If "
                             "using a Sequential model, specify the time dimension by passing "
                             "an `Input()` as your first layer.\n- If using the functional API, "
                             "specify the time dimension by passing a `shape` or `batch_shape` "
                             "argument to your `Input()`.")
        if initial_state is None:
            if self.stateful:
                initial_state = nest.map_structure(convert_to_tensor, self.states)
            else:
                initial_state = self.get_initial_state(
                    batch_size=array_ops.shape(sequences)[0])
        if self.stateful:
            actual = sequences.shape[0]
            if self._expected_batch_size is not None and actual is not None \
                    and actual != self._expected_batch_size:
                raise ValueError("If an RNN is stateful, the batch size of the input sequences "
                                 "must be the same as the batch size of the initial state. \n"
                                 f"- Expected batch size: {self._expected_batch_size}\n"
                                 f"- Received batch size: {actual}")
        if not nest.is_nested(initial_state):
            initial_state = [initial_state]
        initial_state = list(initial_state)
        cell_dtype = getattr(self.cell, "compute_dtype", self.compute_dtype)
        initial_state = nest.map_structure(
            lambda s: _as_dtype(s, cell_dtype), initial_state)
        # the masks are drawn only when they can apply (no random op in an inference graph, which
        # may then have an unknown batch size, or be exported)
        if _may_be_training(training):
            self._maybe_config_dropout_masks(self.cell, sequences[:, 0], initial_state, training)
        try:
            last_output, outputs, states = self.inner_loop(
                sequences=sequences, initial_state=initial_state, mask=mask, training=training)
        finally:
            self._maybe_reset_dropout_masks(self.cell)
        last_output = _as_dtype(last_output, self.compute_dtype)
        outputs = _as_dtype(outputs, self.compute_dtype)
        states = nest.map_structure(lambda s: _as_dtype(s, self.compute_dtype), states)
        if self.stateful:
            for variable, value in zip(nest.flatten(self.states), nest.flatten(states)):
                variable.assign(value)
        output = outputs if self.return_sequences else last_output
        if self.return_state:
            return (output, *states)
        return output

    def _maybe_config_dropout_masks(self, cell, input_sequence, input_state, training):
        """Draws the dropout masks of the cells before the loop (every step then uses them)."""
        first = input_state[0] if isinstance(input_state, (list, tuple)) else input_state
        if isinstance(cell, DropoutRNNCell):
            cell.get_dropout_mask(input_sequence)
            cell.get_recurrent_dropout_mask(first)
        if isinstance(cell, StackedRNNCells) and any(
                isinstance(c, DropoutRNNCell) and (c.dropout or c.recurrent_dropout)
                for c in cell.cells):
            for c, s in zip(cell.cells, input_state):
                self._maybe_config_dropout_masks(c, input_sequence, s, training)
                s = list(s) if nest.is_nested(s) else [s]
                input_sequence, _ = call_cell(c, input_sequence, s, training)

    def _maybe_reset_dropout_masks(self, cell):
        if isinstance(cell, DropoutRNNCell):
            cell.reset_dropout_mask()
            cell.reset_recurrent_dropout_mask()
        if isinstance(cell, StackedRNNCells):
            for c in cell.cells:
                self._maybe_reset_dropout_masks(c)

    # -- config ------------------------------------------------------------------------------
    def get_config(self):
        config = {"return_sequences": self.return_sequences,
                  "return_state": self.return_state,
                  "go_backwards": self.go_backwards,
                  "stateful": self.stateful,
                  "unroll": self.unroll,
                  "zero_output_for_mask": self.zero_output_for_mask,
                  "cell": serialization.serialize_keras_object(self.cell)}
        return {**super().get_config(), **config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if "cell" not in config:  # SimpleRNN, LSTM, GRU...: their config has the cell's arguments
            return super().from_config(config)
        config = dict(config)
        cell = serialization.deserialize_keras_object(config.pop("cell"),
                                                      custom_objects=custom_objects)
        if isinstance(config.get("dtype"), dict):
            from tensorweave.keras.engine import dtype_policy
            config["dtype"] = dtype_policy.get(config["dtype"])
        return cls(cell, **config)


def _may_be_training(training) -> bool:
    """False when `training` is surely false (None, False, a false eager tensor); True when it
    is true or only known when a graph runs."""
    if isinstance(training, Tensor):
        try:
            return bool(training.numpy())
        except StaticValueError:  # a symbolic value: it may be true when the graph runs
            return True
    return bool(training)


def _as_dtype(x, dtype):
    if isinstance(x, (Tensor, _TFVariable)) or hasattr(x, "dtype"):
        x = convert_to_tensor(x)
        if x.dtype.name != dtypes.as_dtype(dtype).name:
            return math_ops.cast(x, dtype)
        return x
    return convert_to_tensor(x, dtype=dtype)

