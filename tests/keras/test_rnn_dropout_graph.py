"""Recurrent layers with `dropout` / `recurrent_dropout` traced in a tf.function whose batch size
is unknown (input_signature [None, T, F]): one trace for every batch size, inference equal to the
layer without dropout, training masks drawn with the run-time batch size, and `fit`."""
import numpy as np
import pytest

import tensorweave as tf

L = tf.keras.layers
SPEC = [tf.TensorSpec([None, 5, 3], tf.float32)]
RANDOM_OPS = {"StatelessRandomUniform", "StatelessMultinomial", "RandomUniform"}


def _x(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _graph_op_types(fn):
    return {node.type for node in fn.get_concrete_function().graph.get_operations()}


def _pair(cls, **kwargs):
    """A layer with dropout and the same layer without, sharing the weights."""
    dropped = cls(4, dropout=0.5, recurrent_dropout=0.3, seed=7, **kwargs)
    plain = cls(4, **kwargs)
    x = _x(2, 5, 3)
    dropped(x)
    plain(x)
    plain.set_weights(dropped.get_weights())
    return dropped, plain


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU, L.SimpleRNN])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_inference_graph_with_unknown_batch_equals_the_layer_without_dropout(cls,
                                                                            return_sequences):
    dropped, plain = _pair(cls, return_sequences=return_sequences)

    @tf.function(input_signature=SPEC)
    def infer(x):
        return dropped(x, training=False)

    assert not _graph_op_types(infer) & RANDOM_OPS  # no mask drawn for inference
    for batch in (2, 3, 1):
        x = _x(batch, 5, 3, seed=batch)
        np.testing.assert_allclose(infer(x).numpy(), plain(x).numpy(), rtol=1e-5, atol=1e-6)
    assert infer.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU, L.SimpleRNN])
def test_training_graph_with_unknown_batch_draws_masks(cls):
    dropped, plain = _pair(cls)

    @tf.function(input_signature=SPEC)
    def train(x):
        return dropped(x, training=True)

    x = _x(6, 5, 3)
    first, second = train(x).numpy(), train(x).numpy()
    assert first.shape == (6, 4) and np.all(np.isfinite(first))
    assert not np.allclose(first, plain(x).numpy(), atol=1e-4)  # the masks apply
    assert not np.allclose(first, second, atol=1e-6)  # each call draws new masks
    assert train(_x(3, 5, 3)).shape == (3, 4)
    assert train.experimental_get_tracing_count() == 1


def test_input_mask_is_drawn_per_batch_entry_and_the_same_at_every_step():
    """A linear cell x -> x * mask: each step outputs the one input mask of the sequence, whose
    entries are 0 (a fraction `rate`) or 1 / (1 - rate), independent across the batch."""
    cell = L.SimpleRNNCell(3, dropout=0.25, seed=3, kernel_initializer="identity",
                           recurrent_initializer="zeros", use_bias=False, activation=None)
    layer = L.RNN(cell, return_sequences=True)

    @tf.function(input_signature=SPEC)
    def train(x):
        return layer(x, training=True)

    out = train(np.ones((400, 5, 3), np.float32)).numpy()
    assert np.all(out == out[:, :1])
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    dropped = np.mean(out[:, 0] == 0)
    assert abs(dropped - 0.25) < 0.05  # 1200 draws: the standard deviation is 0.0125
    assert len({tuple(row) for row in out[:, 0]}) > 4  # not one mask for the whole batch


def test_recurrent_mask_is_the_same_at_every_step():
    """h_t = 1 + m * h_{t-1} with one recurrent mask m (0 or 2 per element): each element of the
    outputs is 1 at every step, or 1, 3, 7, 15, 31."""
    cell = L.SimpleRNNCell(3, recurrent_dropout=0.5, seed=11, kernel_initializer="identity",
                           recurrent_initializer="identity", use_bias=False, activation=None)
    layer = L.RNN(cell, return_sequences=True)

    @tf.function(input_signature=SPEC)
    def train(x):
        return layer(x, training=True)

    out = train(np.ones((50, 5, 3), np.float32)).numpy()
    growing = np.array([1.0, 3.0, 7.0, 15.0, 31.0], np.float32)
    per_element = out.transpose(0, 2, 1).reshape(-1, 5)
    kept = np.all(per_element == growing, axis=1)
    assert np.all(kept | np.all(per_element == 1.0, axis=1))
    assert 0.3 < kept.mean() < 0.7


def test_lstm_with_one_mask_per_gate_and_a_stacked_cell():
    """implementation=1 (four input and four recurrent masks) and StackedRNNCells in a graph with
    an unknown batch; inference equals the cells without dropout."""
    layers = [L.LSTM(4, dropout=0.4, recurrent_dropout=0.4, implementation=1, seed=2),
              L.RNN([L.GRUCell(3, dropout=0.3, recurrent_dropout=0.2, seed=1),
                     L.LSTMCell(2, dropout=0.2, seed=5)])]
    plains = [L.LSTM(4, implementation=1), L.RNN([L.GRUCell(3), L.LSTMCell(2)])]
    x = _x(4, 5, 3)
    for layer, plain in zip(layers, plains):
        layer(x)
        plain(x)
        plain.set_weights(layer.get_weights())

        @tf.function(input_signature=SPEC + [tf.TensorSpec([], tf.bool)])
        def run(x, training):
            return tf.cond(training, lambda: layer(x, training=True),
                           lambda: layer(x, training=False))

        np.testing.assert_allclose(run(x, False).numpy(), plain(x).numpy(), rtol=1e-5,
                                   atol=1e-6)
        trained = run(_x(7, 5, 3), True).numpy()
        assert np.all(np.isfinite(trained))
        assert not np.allclose(trained, plain(_x(7, 5, 3)).numpy(), atol=1e-4)
        assert run.experimental_get_tracing_count() == 1


def test_conv_lstm_dropout_with_unknown_batch():
    layer = L.ConvLSTM1D(2, 3, padding="same", dropout=0.5, recurrent_dropout=0.5, seed=4)

    @tf.function(input_signature=[tf.TensorSpec([None, 4, 6, 2], tf.float32)])
    def run(x):
        return layer(x, training=True), layer(x, training=False)

    x = _x(3, 4, 6, 2)
    trained, inferred = run(x)
    assert trained.shape == inferred.shape == (3, 6, 2)
    assert not np.allclose(trained.numpy(), inferred.numpy(), atol=1e-5)
    np.testing.assert_allclose(inferred.numpy(), layer(x).numpy(), rtol=1e-5, atol=1e-6)
    assert run(_x(5, 4, 6, 2))[0].shape == (5, 6, 2)
    assert run.experimental_get_tracing_count() == 1


@pytest.mark.parametrize("cls", [L.LSTM, L.GRU, L.SimpleRNN])
def test_fit_with_an_unknown_batch(cls):
    """Batches of 4, 4, 2 then 4, 4, 3: the relaxed trace (batch None) serves the last ones."""
    x, y = _x(11, 5, 3), _x(11, 2, seed=1)
    model = tf.keras.Sequential([tf.keras.Input((5, 3)),
                                 cls(4, dropout=0.5, recurrent_dropout=0.3, seed=1),
                                 L.Dense(2)])
    model.compile("adam", "mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x[:10], y[:10], batch_size=4, epochs=2, verbose=0)
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    assert model.train_function.experimental_get_tracing_count() == 2
    np.testing.assert_allclose(model.predict(x, batch_size=4, verbose=0),
                               model(x, training=False).numpy(), rtol=1e-5, atol=1e-6)
