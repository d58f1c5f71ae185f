"""Recurrent layers: the layer harness for each (SimpleRNN, LSTM, GRU, their cells in RNN,
stacked cells, a user cell, Bidirectional, ConvLSTM1D/2D/3D), outputs against NumPy recurrences,
the fused kernels against the step-by-step loop (values and gradients, eagerly and in graphs),
masks from Embedding / Masking, stateful layers, return_state, go_backwards, dropout, configs."""
import json

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tests.keras_harness import check_layer
from tests.test_rnn_ops import gru_cell, lstm_cell, reference, simple_cell

L = keras.layers
RNG = np.random.default_rng(3)


@keras.saving.register_keras_serializable(package="rnn_test")
class MinimalRNNCell(L.Layer):
    """The user cell of Keras's RNN documentation: one state, no activation."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = tf.matmul(inputs, self.kernel) + tf.matmul(states[0], self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


# name -> (make, input shape, trainable weights)
HARNESS = {
    "simple_rnn": (lambda **kw: L.SimpleRNN(3, **kw), (2, 4, 3), 3),
    "simple_rnn_relu_sequences": (lambda **kw: L.SimpleRNN(2, activation="relu",
                                                           return_sequences=True, **kw),
                                  (2, 3, 2), 3),
    "lstm": (lambda **kw: L.LSTM(3, **kw), (2, 4, 3), 3),
    "lstm_sequences_backwards": (lambda **kw: L.LSTM(2, return_sequences=True,
                                                     go_backwards=True, **kw), (2, 3, 3), 3),
    "lstm_no_bias_unrolled": (lambda **kw: L.LSTM(2, use_bias=False, unroll=True, **kw),
                              (2, 3, 2), 2),
    "lstm_hard_sigmoid": (lambda **kw: L.LSTM(2, recurrent_activation="hard_sigmoid", **kw),
                          (2, 3, 2), 3),
    "gru": (lambda **kw: L.GRU(2, **kw), (2, 3, 3), 3),
    "gru_reset_before": (lambda **kw: L.GRU(2, reset_after=False, return_sequences=True, **kw),
                         (2, 3, 3), 3),
    "rnn_lstm_cell": (lambda **kw: L.RNN(L.LSTMCell(2, **kw), **kw), (2, 3, 3), 3),
    "rnn_gru_cell_backwards": (lambda **kw: L.RNN(L.GRUCell(2, **kw), go_backwards=True,
                                                  return_sequences=True, **kw), (2, 3, 2), 3),
    "rnn_stacked_cells": (lambda **kw: L.RNN(L.StackedRNNCells(
        [L.GRUCell(2, **kw), L.SimpleRNNCell(3, **kw)], **kw), return_sequences=True, **kw),
        (2, 3, 2), 6),
    "rnn_user_cell": (lambda **kw: L.RNN(MinimalRNNCell(3, **kw), **kw), (2, 3, 2), 2),
    "bidirectional_lstm": (lambda **kw: L.Bidirectional(L.LSTM(2, **kw), **kw), (2, 3, 2), 6),
    "bidirectional_gru_sum": (lambda **kw: L.Bidirectional(
        L.GRU(2, return_sequences=True, **kw), merge_mode="sum", **kw), (2, 3, 2), 6),
    "bidirectional_backward_layer": (lambda **kw: L.Bidirectional(
        L.SimpleRNN(2, **kw), backward_layer=L.SimpleRNN(3, go_backwards=True, **kw),
        merge_mode="concat", **kw), (2, 3, 2), 6),
    "conv_lstm1d": (lambda **kw: L.ConvLSTM1D(2, 2, **kw), (2, 3, 4, 2), 3),
    "conv_lstm2d_same_sequences": (lambda **kw: L.ConvLSTM2D(
        2, 2, padding="same", return_sequences=True, **kw), (1, 2, 3, 3, 1), 3),
    "conv_lstm3d": (lambda **kw: L.ConvLSTM3D(1, 2, **kw), (1, 2, 3, 2, 2, 1), 3),
}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    make, shape, trainable = HARNESS[name]
    check_layer(make, shape, trainable_weights=trainable)


def _x(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def _weights(layer):
    return [w.numpy().astype(np.float64) for w in layer.weights]


# -- outputs against NumPy -------------------------------------------------------------------------
@pytest.mark.parametrize("backwards", [False, True])
def test_layers_match_numpy_recurrences(backwards):
    x = _x(3, 5, 4, dtype=np.float64)
    h0, c0 = _x(3, 2, dtype=np.float64), _x(3, 2, dtype=np.float64)
    kw = dict(return_sequences=True, return_state=True, go_backwards=backwards, dtype="float64")
    cases = [
        (L.SimpleRNN(2, **kw), [h0], lambda w: simple_cell(*w)),
        (L.LSTM(2, **kw), [h0, c0], lambda w: lstm_cell(*w)),
        (L.GRU(2, **kw), [h0], lambda w: gru_cell(*w, True)),
        (L.GRU(2, reset_after=False, **kw), [h0], lambda w: gru_cell(*w, False)),
    ]
    for layer, states, cell in cases:
        layer(x)
        layer.set_weights([w + RNG.uniform(-0.3, 0.3, w.shape) for w in layer.get_weights()])
        out = layer(x, initial_state=states)
        ry, rstates = reference(cell(_weights(layer)), x, states, go_backwards=backwards)
        np.testing.assert_allclose(out[0].numpy(), ry, rtol=1e-10, atol=1e-12)
        for got, expected in zip(out[1:], rstates):
            np.testing.assert_allclose(got.numpy(), expected, rtol=1e-10, atol=1e-12)
        last = type(layer).from_config({**layer.get_config(), "return_sequences": False,
                                        "return_state": False})
        last(x)
        last.set_weights(layer.get_weights())
        np.testing.assert_allclose(last(x, initial_state=states).numpy(), ry[:, -1], rtol=1e-10)


def test_weight_layouts_and_initial_values():
    lstm = L.LSTM(3)
    lstm.build((None, 5, 4))
    assert [(w.path, tuple(w.shape)) for w in lstm.weights] == [
        (f"{lstm.name}/lstm_cell/kernel", (4, 12)),
        (f"{lstm.name}/lstm_cell/recurrent_kernel", (3, 12)),
        (f"{lstm.name}/lstm_cell/bias", (12,))]
    np.testing.assert_array_equal(lstm.weights[2].numpy(), [0] * 3 + [1] * 3 + [0] * 6)
    rk = lstm.weights[1].numpy()  # orthogonal
    np.testing.assert_allclose(rk @ rk.T, np.eye(3), atol=1e-5)
    no_forget = L.LSTM(2, unit_forget_bias=False, bias_initializer="ones")
    no_forget.build((None, 3, 2))
    np.testing.assert_array_equal(no_forget.weights[2].numpy(), np.ones(8))
    gru, gru_before = L.GRU(2), L.GRU(2, reset_after=False)
    gru.build((None, 3, 5))
    gru_before.build((None, 3, 5))
    assert [tuple(w.shape) for w in gru.weights] == [(5, 6), (2, 6), (2, 6)]
    assert [tuple(w.shape) for w in gru_before.weights] == [(5, 6), (2, 6), (6,)]
    simple = L.SimpleRNN(4)
    simple.build((None, 3, 2))
    assert [tuple(w.shape) for w in simple.weights] == [(2, 4), (4, 4), (4,)]


# -- fused kernels against the step-by-step loop --------------------------------------------------
FUSED = {
    "simple_rnn": lambda fused: L.SimpleRNN(3, return_sequences=True, return_state=True),
    "lstm": lambda fused: L.LSTM(3, return_sequences=True, return_state=True),
    "gru": lambda fused: L.GRU(3, return_sequences=True, return_state=True),
    "gru_reset_before": lambda fused: L.GRU(3, reset_after=False, return_sequences=True,
                                            return_state=True),
}


def _pair(name, **overrides):
    fused = FUSED[name](True)
    fused = type(fused).from_config({**fused.get_config(), **overrides})
    loop = type(fused).from_config(fused.get_config())
    loop._fused_kernel = False
    x = _x(3, 5, 4)
    fused(x)
    loop(x)
    fused.set_weights([w + RNG.uniform(-0.3, 0.3, w.shape).astype(np.float32)
                       for w in fused.get_weights()])
    loop.set_weights(fused.get_weights())
    return fused, loop, x


def _loss_and_grads(layer, x, mask, h0):
    xt = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch([xt, h0])
        states = [h0] * len(layer.state_size)
        outs = layer(xt, mask=mask, initial_state=states)
        loss = sum(tf.reduce_sum(o * (i + 1.5)) for i, o in enumerate(outs))
    return outs, tape.gradient(loss, [xt, h0] + layer.trainable_weights)


@pytest.mark.parametrize("graph", [False, True], ids=["eager", "tf.function"])
@pytest.mark.parametrize("name", sorted(FUSED))
def test_fused_kernel_matches_step_loop(name, graph):
    mask = tf.constant(np.array([[True, True, False, True, True], [False, True, True, True, False],
                                 [True] * 5]))
    for backwards in (False, True):
        fused, loop, x = _pair(name, go_backwards=backwards)
        h0 = tf.constant(_x(3, 3))
        run = (lambda layer: tf.function(lambda t, h: _loss_and_grads(layer, t, mask, h))(
            tf.constant(x), h0)) if graph else (lambda layer: _loss_and_grads(layer, x, mask, h0))
        (outs_f, grads_f), (outs_l, grads_l) = run(fused), run(loop)
        for a, b in zip(outs_f, outs_l):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)
        for a, b in zip(grads_f, grads_l):
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)


def test_fused_kernel_is_used_only_with_default_activations_and_no_recurrent_dropout():
    def primitive_names(layer, training=False):
        from tests.harness import _Recorder
        from tensorweave.framework.context import state
        recorder = _Recorder()
        state.tapes = state.tapes + [recorder]
        try:
            layer(_x(2, 3, 4), training=training)
        finally:
            state.tapes = [t for t in state.tapes if t is not recorder]
        return {r.prim.name for r in recorder.records}
    assert "LSTMSequence" in primitive_names(L.LSTM(2))
    assert "LSTMSequence" not in primitive_names(L.LSTM(2, activation="relu"))
    assert "LSTMSequence" not in primitive_names(L.LSTM(2, use_cudnn=False))
    assert "GRUSequence" in primitive_names(L.GRU(2, recurrent_dropout=0.5))  # inference
    assert "GRUSequence" not in primitive_names(L.GRU(2, recurrent_dropout=0.5), training=True)
    assert "GRUSequence" in primitive_names(L.GRU(2, dropout=0.5), training=True)
    assert "SimpleRNNSequence" in primitive_names(L.SimpleRNN(2))
    with pytest.raises(ValueError, match="use_cudnn=True"):
        L.LSTM(2, activation="relu", use_cudnn=True)(_x(2, 3, 4))


# -- masks -----------------------------------------------------------------------------------------
def test_embedding_mask_zero_feeds_the_mask_and_masked_steps_keep_the_state():
    ids = np.array([[3, 0, 4, 0, 0], [0, 0, 0, 0, 0], [1, 2, 3, 4, 5]], np.int32)
    inputs = keras.Input((5,), dtype="int32")
    embedded = L.Embedding(10, 4, mask_zero=True)(inputs)
    lstm = L.LSTM(3, return_sequences=True)
    model = keras.Model(inputs, lstm(embedded))
    out = model(ids)
    emb = model.layers[1].embeddings.numpy().astype(np.float64)
    ry, _ = reference(lstm_cell(*_weights(lstm)), emb[ids], [np.zeros((3, 3))] * 2,
                      mask=ids != 0)
    np.testing.assert_allclose(out.numpy(), ry, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out._keras_mask.numpy(), ids != 0)
    assert np.all(out.numpy()[1] == 0)  # every step masked: zeros
    np.testing.assert_array_equal(out.numpy()[0, 1], out.numpy()[0, 0])  # previous output kept
    seq = keras.Sequential([keras.Input((5,), dtype="int32"), L.Embedding(10, 4, mask_zero=True),
                            L.GRU(2)])
    last = seq(ids).numpy()
    gru = seq.layers[-1]
    emb = seq.layers[0].embeddings.numpy().astype(np.float64)
    ry, _ = reference(gru_cell(*_weights(gru), True), emb[ids], [np.zeros((3, 2))],
                      mask=ids != 0)
    np.testing.assert_allclose(last, ry[:, -1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("layer", [L.SimpleRNN, L.LSTM, L.GRU])
def test_masking_layer_and_zero_output_for_mask(layer):
    x = _x(2, 4, 3)
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    mask = np.any(x != 0, axis=-1)
    masked = L.Masking()(x)
    rnn = layer(2, return_sequences=True, zero_output_for_mask=True)
    out = rnn(masked)
    plain = layer(2, return_sequences=True)
    plain(x)
    plain.set_weights(rnn.get_weights())
    unmasked_prefix = plain(x[:, :1]).numpy()
    np.testing.assert_allclose(out.numpy()[:, 0], unmasked_prefix[:, 0], rtol=1e-6)
    assert np.all(out.numpy()[~mask] == 0)
    np.testing.assert_array_equal(out._keras_mask.numpy(), mask)
    assert rnn.compute_mask(x, tf.constant(mask)) is not None
    assert layer(2).compute_mask(x, tf.constant(mask)) is None


def test_custom_cell_with_mask_in_graph_and_eager():
    cell = MinimalRNNCell(2)
    layer = L.RNN(cell, return_sequences=True)
    x = _x(2, 4, 3)
    mask = np.array([[True, False, True, True], [False, False, True, False]])
    eager = layer(x, mask=mask).numpy()
    graph = tf.function(lambda t: layer(t, mask=tf.constant(mask)))(tf.constant(x)).numpy()
    np.testing.assert_allclose(graph, eager, rtol=1e-6, atol=1e-7)
    w, r = cell.kernel.numpy().astype(np.float64), cell.recurrent_kernel.numpy().astype(np.float64)

    def ref_cell(xt, states):
        out = xt @ w + states[0] @ r
        return out, [out]
    ry, _ = reference(ref_cell, x.astype(np.float64), [np.zeros((2, 2))], mask=mask)
    np.testing.assert_allclose(eager, ry, rtol=1e-5, atol=1e-6)


# -- states ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [L.SimpleRNN, L.LSTM, L.GRU])
def test_stateful_layer_continues_and_resets(layer):
    x = _x(2, 6, 3)
    stateful = layer(3, stateful=True)
    keras.Sequential([keras.Input(batch_shape=(2, 3, 3)), stateful])
    whole = layer(3)
    whole(x)
    whole.set_weights(stateful.get_weights())
    stateful(x[:, :3])
    np.testing.assert_allclose(stateful(x[:, 3:]).numpy(), whole(x).numpy(), rtol=1e-5,
                               atol=1e-6)
    assert len(stateful.states) == len(stateful.state_size)
    assert stateful.weights == stateful.trainable_weights  # the states are no weights
    stateful.reset_states()
    assert all(np.all(s.numpy() == 0) for s in stateful.states)
    np.testing.assert_allclose(stateful(x[:, :3]).numpy(), whole(x[:, :3]).numpy(), rtol=1e-5,
                               atol=1e-6)
    step = tf.function(lambda t: stateful(t))
    stateful.reset_states()
    step(tf.constant(x[:, :3]))
    np.testing.assert_allclose(step(tf.constant(x[:, 3:])).numpy(), whole(x).numpy(),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="batch size"):
        stateful(x[:1, :3])
    with pytest.raises(ValueError, match="batch size must be static"):
        layer(2, stateful=True)(keras.Input((3, 3)))


def test_return_state_shapes_and_symbolic_outputs():
    inputs = keras.Input((5, 4))
    out, h, c = L.LSTM(3, return_state=True)(inputs)
    assert [tuple(t.shape) for t in (out, h, c)] == [(None, 3), (None, 3), (None, 3)]
    seq, h = L.GRU(2, return_sequences=True, return_state=True)(inputs)
    assert tuple(seq.shape) == (None, 5, 2) and tuple(h.shape) == (None, 2)
    enc_out, state_h, state_c = L.LSTM(4, return_state=True)(inputs)
    dec = L.LSTM(4, return_sequences=True)(inputs, initial_state=[state_h, state_c])
    seq2seq = keras.Model(inputs, dec)
    assert seq2seq(_x(2, 5, 4)).shape == (2, 5, 4)
    assert L.SimpleRNN(2, return_state=True).compute_output_shape((None, 7, 3)) == \
        ((None, 2), (None, 2))


def _graph_of_unknown_batch_and_time(channels):
    """A graph being traced with a (None, None, channels) placeholder (tf.function falls back
    to concrete shapes when a trace with unknown ones fails: this sees the failure)."""
    from tensorweave.framework.context import graph_scope
    from tensorweave.framework.tensor_spec import TensorSpec
    from tensorweave.function.graph import FuncGraph
    graph = FuncGraph("unknown_time")
    return graph, graph_scope(graph), lambda: graph.placeholder(
        TensorSpec([None, None, channels], tf.float32))


def test_unroll_needs_a_known_time_dimension():
    _, scope, placeholder = _graph_of_unknown_batch_and_time(3)
    with scope:
        with pytest.raises(ValueError, match="Cannot unroll"):
            L.RNN(L.SimpleRNNCell(2), unroll=True)(placeholder())


def test_loops_trace_with_unknown_batch_and_time():
    _, scope, placeholder = _graph_of_unknown_batch_and_time(3)
    with scope:
        t = placeholder()
        for layer in (L.RNN(L.LSTMCell(2), return_sequences=True), L.LSTM(2),
                      L.GRU(2, return_sequences=True, use_cudnn=False)):
            with tf.GradientTape() as tape:
                tape.watch(t)
                y = layer(t, mask=tf.reduce_any(t > 0.2, -1))
                loss = tf.reduce_sum(y * y)
            grads = tape.gradient(loss, [t] + layer.trainable_weights)
            assert y.shape.as_list() == [None, None, 2] if layer.return_sequences else [None, 2]
            assert [g.shape.as_list() for g in grads[1:]] == \
                [w.shape.as_list() for w in layer.trainable_weights]


def test_unroll_gives_the_same_values():
    x = _x(2, 3, 2)
    unrolled = L.GRU(2, unroll=True, return_sequences=True)
    rolled = L.GRU(2, return_sequences=True)
    rolled(x)
    unrolled(x)
    unrolled.set_weights(rolled.get_weights())
    np.testing.assert_allclose(unrolled(x).numpy(), rolled(x).numpy(), rtol=1e-6)


# -- dropout ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("layer", [L.SimpleRNN, L.LSTM, L.GRU])
def test_dropout_only_in_training(layer):
    x = _x(4, 5, 3)
    drop = layer(3, dropout=0.5, recurrent_dropout=0.3, seed=1)
    plain = layer(3)
    drop(x)
    plain(x)
    plain.set_weights(drop.get_weights())
    np.testing.assert_allclose(drop(x).numpy(), plain(x).numpy(), rtol=1e-6)
    np.testing.assert_allclose(drop(x, training=False).numpy(), plain(x).numpy(), rtol=1e-6)
    first, second = drop(x, training=True).numpy(), drop(x, training=True).numpy()
    assert not np.allclose(first, plain(x).numpy())
    assert not np.allclose(first, second)  # new masks on every call


@pytest.mark.parametrize("layer", [L.SimpleRNN, L.LSTM, L.GRU])
def test_input_dropout_fused_equals_loop(layer):
    """With only `dropout`, the fused kernel multiplies the inputs by the same per-sequence mask
    the cell would: the same seed gives the same training outputs in both paths."""
    x = _x(3, 4, 5)
    fused, loop = layer(2, dropout=0.4, seed=5), layer(2, dropout=0.4, seed=5)
    loop._fused_kernel = False
    fused(x)
    loop(x)
    loop.set_weights(fused.get_weights())
    np.testing.assert_allclose(fused(x, training=True).numpy(), loop(x, training=True).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_dropout_masks_are_the_same_at_every_step():
    cell = L.SimpleRNNCell(3, dropout=0.5, seed=3, kernel_initializer="identity",
                           recurrent_initializer="zeros", activation=None)
    layer = L.RNN(cell, return_sequences=True)
    x = np.ones((2, 4, 3), np.float32)
    out = layer(x, training=True).numpy()
    assert np.all(out == out[:, :1])  # each step: x * the one mask of the sequence
    assert set(np.unique(out)) <= {0.0, 2.0}


# -- Bidirectional ---------------------------------------------------------------------------------
@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul", None])
def test_bidirectional_merges_forward_and_reversed_backward(merge_mode):
    x = _x(2, 4, 3)
    bi = L.Bidirectional(L.LSTM(2, return_sequences=True), merge_mode=merge_mode)
    out = bi(x)
    assert bi.forward_layer.name.startswith("forward_")
    assert bi.backward_layer.name.startswith("backward_") and bi.backward_layer.go_backwards
    fwd = bi.forward_layer(x).numpy()
    bwd = bi.backward_layer(x).numpy()[:, ::-1]
    expected = {"concat": lambda: np.concatenate([fwd, bwd], -1), "sum": lambda: fwd + bwd,
                "ave": lambda: (fwd + bwd) / 2, "mul": lambda: fwd * bwd,
                None: lambda: [fwd, bwd]}[merge_mode]()
    if merge_mode is None:
        for o, e in zip(out, expected):
            np.testing.assert_allclose(o.numpy(), e, rtol=1e-6)
    else:
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    assert len(bi.weights) == 6


def test_bidirectional_states_masks_and_config():
    x = _x(2, 4, 3)
    bi = L.Bidirectional(L.GRU(2, return_state=True))
    out, h_forward, h_backward = bi(x)
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.numpy(), np.concatenate([h_forward, h_backward], -1))
    assert bi.compute_output_shape((None, 4, 3)) == ((None, 4), (None, 2), (None, 2))
    bi_seq = L.Bidirectional(L.LSTM(2, return_sequences=True))
    assert bi_seq.forward_layer.zero_output_for_mask  # forced for return_sequences
    mask = np.array([[True, True, False, False], [True, True, True, True]])
    y = bi_seq(x, mask=mask)
    assert np.all(y.numpy()[0, 2:] == 0)
    config = json.loads(json.dumps(bi_seq.get_config()))
    clone = L.Bidirectional.from_config(config)
    clone(x)
    clone.set_weights(bi_seq.get_weights())
    np.testing.assert_allclose(clone(x, mask=mask).numpy(), y.numpy(), rtol=1e-6)
    with pytest.raises(ValueError, match="merge mode"):
        L.Bidirectional(L.LSTM(2), merge_mode="max")
    with pytest.raises(ValueError, match="go_backwards"):
        L.Bidirectional(L.LSTM(2), backward_layer=L.LSTM(2))


def test_bidirectional_trains_in_a_model():
    model = keras.Sequential([keras.Input((6,), dtype="int32"), L.Embedding(20, 4,
                                                                          mask_zero=True),
                              L.Bidirectional(L.LSTM(3)), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    ids = RNG.integers(0, 20, size=(32, 6)).astype(np.int32)
    y = (ids[:, 0] > 9).astype(np.float32)[:, None]
    losses = model.fit(ids, y, epochs=8, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


# -- ConvLSTM --------------------------------------------------------------------------------------
def _conv2d_same(x, w):
    """NumPy 'same' 2-D convolution, stride 1 (channels last)."""
    kh, kw = w.shape[:2]
    ph, pw = (kh - 1) // 2, (kw - 1) // 2
    xp = np.pad(x, ((0, 0), (ph, kh - 1 - ph), (pw, kw - 1 - pw), (0, 0)))
    out = np.zeros(x.shape[:3] + (w.shape[3],))
    for i in range(x.shape[1]):
        for j in range(x.shape[2]):
            out[:, i, j] = np.tensordot(xp[:, i:i + kh, j:j + kw], w, axes=3)
    return out


def test_conv_lstm2d_matches_numpy():
    x = _x(2, 3, 4, 4, 2)
    layer = L.ConvLSTM2D(3, 3, padding="same", return_sequences=True)
    out = layer(x).numpy()
    kernel, recurrent, bias = _weights(layer)

    def cell(xt, states):
        h, c = states
        z = _conv2d_same(xt, kernel) + _conv2d_same(h, recurrent) + bias
        i, f, g, o = np.split(z, 4, axis=-1)
        sig = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        return h, [h, c]
    zeros = np.zeros((2, 4, 4, 3))
    ry, _ = reference(cell, x.astype(np.float64), [zeros, zeros])
    np.testing.assert_allclose(out, ry, rtol=1e-4, atol=1e-5)
    assert layer.compute_output_shape((None, 3, 4, 4, 2)) == (None, 3, 4, 4, 3)
    valid = L.ConvLSTM2D(2, (2, 3), strides=(2, 1), return_state=True)
    y, h, c = valid(x)
    assert y.shape == h.shape == c.shape == (2, 2, 2, 2)
    assert valid.compute_output_shape((None, 3, 4, 4, 2)) == \
        ((None, 2, 2, 2), (None, 2, 2, 2), (None, 2, 2, 2))
    dropped = L.ConvLSTM1D(2, 2, dropout=0.5, recurrent_dropout=0.5, seed=2)
    x1 = _x(2, 3, 5, 2)
    np.testing.assert_allclose(dropped(x1).numpy(), dropped(x1, training=False).numpy())
    assert not np.allclose(dropped(x1, training=True).numpy(), dropped(x1).numpy())


# -- configs and errors ----------------------------------------------------------------------------
def test_configs_round_trip_through_json():
    for layer in [L.LSTM(3, dropout=0.1, seed=4, return_sequences=True, unroll=True,
                         kernel_regularizer="l2"),
                  L.GRU(2, reset_after=False, go_backwards=True, stateful=False),
                  L.SimpleRNN(2, activation="relu", zero_output_for_mask=True),
                  L.RNN([L.LSTMCell(2), L.GRUCell(3)], return_state=True),
                  L.RNN(MinimalRNNCell(2)),
                  L.ConvLSTM2D(2, (3, 1), padding="same", data_format="channels_last"),
                  L.Bidirectional(L.GRU(2), merge_mode="ave")]:
        config = json.loads(json.dumps(keras.saving.serialize_keras_object(layer)))
        clone = keras.saving.deserialize_keras_object(config)
        assert type(clone) is type(layer)
        assert json.loads(json.dumps(clone.get_config())) == config["config"]


def test_argument_errors():
    with pytest.raises(ValueError, match="units"):
        L.LSTM(0)
    with pytest.raises(ValueError, match="use_cudnn"):
        L.GRU(2, use_cudnn="yes")
    with pytest.raises(ValueError, match="state_size"):
        L.RNN(L.Dense(2))
    with pytest.raises(ValueError, match="expected ndim=3"):
        L.LSTM(2)(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="strides"):
        L.ConvLSTM2D(2, 3, strides=2, dilation_rate=2)


def test_custom_objects_reach_a_custom_cell_nested_in_a_serialized_rnn():
    class UnregisteredCell(keras.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units))

        def call(self, inputs, states):
            h = tf.matmul(inputs, self.w) + states[0]
            return h, [h]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    config = keras.saving.serialize_keras_object(keras.layers.RNN(UnregisteredCell(3)))
    with pytest.raises(TypeError, match="Could not locate class 'UnregisteredCell'"):
        keras.saving.deserialize_keras_object(config)
    restored = keras.saving.deserialize_keras_object(
        config, custom_objects={"UnregisteredCell": UnregisteredCell})
    assert isinstance(restored.cell, UnregisteredCell) and restored.cell.units == 3


def test_second_derivatives_refused_by_the_fused_kernel_and_given_by_the_loop():
    x = tf.constant(np.random.default_rng(3).random((2, 4, 2)).astype("float32"))

    def second_order(layer):
        layer(x)
        kernel = layer.trainable_weights[0]
        with tf.GradientTape() as outer:
            with tf.GradientTape() as inner:
                y = tf.reduce_sum(layer(x))
            g = inner.gradient(y, kernel)
            s = tf.reduce_sum(g * g)
        return outer.gradient(s, kernel)

    with pytest.raises(LookupError, match="use_cudnn=False"):
        second_order(keras.layers.LSTM(3))
    assert second_order(keras.layers.LSTM(3, use_cudnn=False)).shape == (2, 12)
