"""Recurrent layers against Keras 3 in TensorFlow: the same layer (same arguments, same weights)
on the same inputs (and masks, initial states) gives the same outputs and gradients, the same
weight names and shapes, and the same config.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import copy
import json

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import tensorflow as tf
    import keras
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(21)
X = RNG.normal(size=(3, 5, 4)).astype(np.float32)
MASK = np.array([[True, True, False, True, False], [False, True, True, True, True],
                 [True] * 5])
X1D = RNG.normal(size=(2, 3, 6, 2)).astype(np.float32)
X2D = RNG.normal(size=(2, 3, 5, 4, 2)).astype(np.float32)
X3D = RNG.normal(size=(1, 2, 3, 4, 3, 1)).astype(np.float32)

# name -> (function of a keras module `k` making the layer, input, call keyword arguments)
CASES = {
    "simple_rnn": (lambda k: k.layers.SimpleRNN(3), X, {}),
    "simple_rnn_relu_sequences_backwards": (lambda k: k.layers.SimpleRNN(
        2, activation="relu", return_sequences=True, go_backwards=True), X, {}),
    "simple_rnn_state_mask": (lambda k: k.layers.SimpleRNN(
        3, return_sequences=True, return_state=True), X, {"mask": MASK}),
    "lstm": (lambda k: k.layers.LSTM(3), X, {}),
    "lstm_sequences_state": (lambda k: k.layers.LSTM(3, return_sequences=True,
                                                     return_state=True), X, {}),
    "lstm_backwards_mask": (lambda k: k.layers.LSTM(2, go_backwards=True,
                                                    return_sequences=True), X, {"mask": MASK}),
    "lstm_mask_last_output": (lambda k: k.layers.LSTM(2), X, {"mask": MASK}),
    "lstm_zero_output_for_mask": (lambda k: k.layers.LSTM(
        2, return_sequences=True, zero_output_for_mask=True), X, {"mask": MASK}),
    "lstm_no_bias_no_forget_bias": (lambda k: k.layers.LSTM(
        2, use_bias=False, unit_forget_bias=False), X, {}),
    "lstm_hard_sigmoid_relu": (lambda k: k.layers.LSTM(
        2, activation="relu", recurrent_activation="hard_sigmoid", return_sequences=True),
        X, {}),
    "lstm_unroll": (lambda k: k.layers.LSTM(2, unroll=True, return_sequences=True), X, {}),
    "gru": (lambda k: k.layers.GRU(3), X, {}),
    "gru_reset_before_sequences": (lambda k: k.layers.GRU(3, reset_after=False,
                                                          return_sequences=True), X, {}),
    "gru_state_mask_backwards": (lambda k: k.layers.GRU(
        2, return_state=True, go_backwards=True), X, {"mask": MASK}),
    "gru_no_bias": (lambda k: k.layers.GRU(2, use_bias=False, return_sequences=True), X, {}),
    "rnn_lstm_cell": (lambda k: k.layers.RNN(k.layers.LSTMCell(3), return_sequences=True),
                      X, {"mask": MASK}),
    "rnn_gru_cell_reset_before": (lambda k: k.layers.RNN(k.layers.GRUCell(2, reset_after=False)),
                                  X, {}),
    "rnn_stacked_cells": (lambda k: k.layers.RNN(
        [k.layers.SimpleRNNCell(3), k.layers.GRUCell(2), k.layers.LSTMCell(2)],
        return_sequences=True, return_state=True), X, {}),
    "bidirectional_lstm": (lambda k: k.layers.Bidirectional(k.layers.LSTM(2)), X, {}),
    "bidirectional_gru_sum_sequences": (lambda k: k.layers.Bidirectional(
        k.layers.GRU(2, return_sequences=True), merge_mode="sum"), X, {}),
    "bidirectional_mask_ave": (lambda k: k.layers.Bidirectional(
        k.layers.LSTM(2, return_sequences=True), merge_mode="ave"), X, {"mask": MASK}),
    "bidirectional_state_mul": (lambda k: k.layers.Bidirectional(
        k.layers.SimpleRNN(2, return_state=True), merge_mode="mul"), X, {}),
    "conv_lstm1d": (lambda k: k.layers.ConvLSTM1D(2, 3), X1D, {}),
    "conv_lstm2d_same_sequences": (lambda k: k.layers.ConvLSTM2D(
        3, (3, 2), padding="same", return_sequences=True), X2D, {}),
    "conv_lstm2d_strides_state": (lambda k: k.layers.ConvLSTM2D(
        2, 2, strides=(2, 1), return_state=True), X2D, {}),
    "conv_lstm3d": (lambda k: k.layers.ConvLSTM3D(2, 2, padding="same"), X3D, {}),
}


def _list(out):
    """The output tensors, flat (a stacked RNN's states come nested)."""
    if isinstance(out, (list, tuple)):
        return [t for o in out for t in _list(o)]
    return [out]


def _random_weights(layer):
    return [RNG.uniform(-0.8, 0.8, size=w.shape).astype(np.float32) for w in layer.get_weights()]


def _without_names(value):
    # (also without "build_config": Keras's serialize_keras_object adds one to a built nested
    # layer, tensorweave's serialization does not write it yet)
    if isinstance(value, dict):
        return {k: _without_names(v) for k, v in value.items()
                if k not in ("name", "build_config")}
    if isinstance(value, list):
        return [_without_names(v) for v in value]
    return value


def _plain_config(config):
    """JSON-normalized, without the (session-counter) names of the layer and its cells."""
    return _without_names(json.loads(json.dumps(config)))


def _pair(name):
    make, x, kwargs = CASES[name]
    theirs, ours = make(keras), make(tw.keras)
    theirs(x, **kwargs)
    ours(x, **kwargs)
    weights = _random_weights(theirs)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    return theirs, ours, x, kwargs


@needs_tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras(name):
    theirs, ours, x, kwargs = _pair(name)
    expected, got = _list(theirs(x, **kwargs)), _list(ours(x, **kwargs))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_allclose(g.numpy(), np.asarray(e), rtol=1e-4, atol=1e-5)
    assert [(w.path, tuple(w.shape)) for w in ours.weights] == \
        [(w.path.replace(theirs.name, ours.name, 1), tuple(w.shape)) for w in theirs.weights]
    assert _plain_config(ours.get_config()) == _plain_config(theirs.get_config())
    shape = (None,) + x.shape[1:]
    their_shape = theirs.compute_output_shape(shape)
    assert json.loads(json.dumps(ours.compute_output_shape(shape))) == \
        json.loads(json.dumps(their_shape))


@needs_tf
@pytest.mark.parametrize("name", ["lstm_sequences_state", "gru_state_mask_backwards",
                                  "gru_reset_before_sequences", "simple_rnn_state_mask",
                                  "lstm_backwards_mask", "rnn_stacked_cells",
                                  "bidirectional_mask_ave", "conv_lstm1d"])
def test_gradients_match_keras(name):
    theirs, ours, x, kwargs = _pair(name)
    results = []
    for module, layer in ((tf, theirs), (tw, ours)):
        inputs = module.constant(x)
        with module.GradientTape() as tape:
            tape.watch(inputs)
            outs = _list(layer(inputs, **{k: module.constant(v) for k, v in kwargs.items()}))
            loss = sum(module.reduce_sum(o * (1.0 + 0.5 * i)) for i, o in enumerate(outs))
        grads = tape.gradient(loss, [inputs] + list(layer.trainable_weights))
        results.append([np.asarray(module.convert_to_tensor(g)) for g in grads])
    for expected, got in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@needs_tf
def test_initial_states_and_masks_from_embedding_match_keras():
    ids = np.array([[4, 2, 0, 0], [1, 0, 3, 0], [0, 0, 0, 0]], np.int32)
    h0 = RNG.normal(size=(3, 2)).astype(np.float32)
    c0 = RNG.normal(size=(3, 2)).astype(np.float32)
    outputs = []
    for k in (keras, tw.keras):
        emb = k.layers.Embedding(6, 4, mask_zero=True)
        lstm = k.layers.LSTM(2, return_sequences=True, return_state=True)
        emb(ids)
        lstm(emb(ids))
        if not outputs:
            weights = [_random_weights(emb), _random_weights(lstm)]
        emb.set_weights(weights[0])
        lstm.set_weights(weights[1])
        # (Keras fills `mask` from the input only when it is the one tensor argument: with an
        # initial state, the mask is passed)
        outputs.append([np.asarray(o) for o in lstm(emb(ids))])
        outputs[-1] += [np.asarray(o) for o in lstm(emb(ids), mask=ids != 0,
                                                    initial_state=[h0, c0])]
    for expected, got in zip(*outputs):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@needs_tf
def test_configs_load_both_ways():
    for name in ("lstm_sequences_state", "gru_reset_before_sequences", "rnn_stacked_cells",
                 "bidirectional_gru_sum_sequences", "conv_lstm2d_same_sequences"):
        make, x, kwargs = CASES[name]
        their_config = json.loads(json.dumps(keras.saving.serialize_keras_object(make(keras))))
        ours = tw.keras.saving.deserialize_keras_object(copy.deepcopy(their_config))
        assert _plain_config(ours.get_config()) == _plain_config(their_config["config"])
        our_config = json.loads(json.dumps(tw.keras.saving.serialize_keras_object(
            make(tw.keras))))
        theirs = keras.saving.deserialize_keras_object(copy.deepcopy(our_config))
        assert _plain_config(theirs.get_config()) == _plain_config(our_config["config"])


@needs_tf
def test_stateful_layer_matches_keras():
    x = RNG.normal(size=(2, 6, 3)).astype(np.float32)
    outputs = []
    for k in (keras, tw.keras):
        layer = k.layers.GRU(3, stateful=True, return_sequences=True)
        model = k.Sequential([k.Input(batch_shape=(2, 3, 3)), layer])
        if not outputs:
            weights = _random_weights(layer)
        layer.set_weights(weights)
        first, second = model(x[:, :3]), model(x[:, 3:])
        layer.reset_states()
        outputs.append([np.asarray(first), np.asarray(second), np.asarray(model(x[:, 3:]))])
    for expected, got in zip(*outputs):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
