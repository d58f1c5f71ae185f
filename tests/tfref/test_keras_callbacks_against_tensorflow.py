"""Callbacks and weight files against Keras 3 in TensorFlow: Keras reads the files tensorweave
writes and tensorweave reads Keras's (`.weights.h5` and `.keras`), the same callbacks fed the
same logs act the same, and the errors are Keras's.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import os
import warnings

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
X = RNG.normal(size=(5, 3)).astype(np.float32)


def _sequential(k):
    return k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="relu"),
                         k.layers.BatchNormalization(), k.layers.Dropout(0.2),
                         k.layers.Dense(2)])


def _functional(k):
    inputs = k.Input((3,))
    h = k.layers.Dense(4, activation="tanh")(inputs)
    inner = k.Sequential([k.layers.Dense(3), k.layers.LayerNormalization()])
    outputs = k.layers.Dense(2)(k.layers.Concatenate()([inner(h), h]))
    return k.Model(inputs, outputs, name="net")


def _subclassed(k):
    class Block(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.parts = [k.layers.Dense(3), k.layers.Dense(3)]
            self.out = k.layers.Dense(2)

        def build(self, shape):
            self.scale = self.add_weight(shape=(3,), initializer="ones", name="scale")
            for part in self.parts:
                part.build(shape)
            self.out.build((None, 3))

        def call(self, x):
            return self.out(self.parts[0](x) * self.scale + self.parts[1](x))

    class Net(k.Model):
        def __init__(self):
            super().__init__()
            self.zed = k.layers.Dense(3)
            self.block = Block()
            self._last = k.layers.Dense(2)

        def call(self, x):
            return self._last(self.block(self.zed(x)))

    model = Net()
    model(X)
    return model


def _randomize(model):
    model.set_weights([RNG.normal(size=w.shape).astype(np.float32)
                       for w in model.get_weights()])


BUILDERS = {"sequential": _sequential, "functional": _functional, "subclassed": _subclassed}


@needs_tf
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_keras_loads_our_weights_file(tmp_path, name):
    ours, theirs = BUILDERS[name](tw.keras), BUILDERS[name](keras)
    _randomize(ours)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(theirs(X, training=False).numpy(),
                               ours(X, training=False).numpy(), rtol=1e-5, atol=1e-6)


@needs_tf
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_we_load_keras_weights_file(tmp_path, name):
    ours, theirs = BUILDERS[name](tw.keras), BUILDERS[name](keras)
    _randomize(theirs)
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.load_weights(tmp_path / "theirs.weights.h5")
    np.testing.assert_allclose(ours(X, training=False).numpy(),
                               theirs(X, training=False).numpy(), rtol=1e-5, atol=1e-6)


def _tree(path):
    import h5py
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(
            n, o.shape if isinstance(o, h5py.Dataset) else dict(o.attrs)))
    return out


@needs_tf
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_file_layout_is_keras_layout(tmp_path, name):
    keras.backend.clear_session()
    tw.keras.backend.clear_session()
    ours, theirs = BUILDERS[name](tw.keras), BUILDERS[name](keras)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    assert _tree(tmp_path / "ours.weights.h5") == _tree(tmp_path / "theirs.weights.h5")


def _fit(k, model, optimizer):
    model.compile(optimizer, "mse")
    x = RNG.normal(size=(8, 3)).astype(np.float32)
    model.fit(x, RNG.normal(size=(8, 2)).astype(np.float32), batch_size=4, epochs=2,
              verbose=0, shuffle=False)


@needs_tf
@pytest.mark.parametrize("optimizer", ["adam", "sgd_momentum", "rmsprop"])
def test_optimizer_state_moves_both_ways(tmp_path, optimizer):
    make = {"adam": lambda k: k.optimizers.Adam(0.01),
            "sgd_momentum": lambda k: k.optimizers.SGD(0.01, momentum=0.9),
            "rmsprop": lambda k: k.optimizers.RMSprop(0.01)}[optimizer]
    keras.backend.clear_session()
    tw.keras.backend.clear_session()
    ours, theirs = _sequential(tw.keras), _sequential(keras)
    _fit(keras, theirs, make(keras))
    _fit(tw.keras, ours, make(tw.keras))
    theirs.save_weights(tmp_path / "theirs.weights.h5")
    ours.save_weights(tmp_path / "ours.weights.h5")
    assert _tree(tmp_path / "ours.weights.h5") == _tree(tmp_path / "theirs.weights.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "Skipping variable loading for optimizer"
        ours.load_weights(tmp_path / "theirs.weights.h5")
    assert len(ours.optimizer.variables) == len(theirs.optimizer.variables)
    for a, b in zip(ours.optimizer.variables, theirs.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    _randomize(ours)
    ours.save_weights(tmp_path / "ours.weights.h5")
    theirs.load_weights(tmp_path / "ours.weights.h5")
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)


@needs_tf
def test_keras_loads_our_keras_archive(tmp_path):
    ours = _sequential(tw.keras)
    _randomize(ours)
    ours.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(theirs(X, training=False).numpy(),
                               ours(X, training=False).numpy(), rtol=1e-5, atol=1e-6)
    # and we read the weights of Keras's archive
    theirs = _functional(keras)
    _randomize(theirs)
    theirs.save(tmp_path / "theirs.keras")
    again = _functional(tw.keras)
    again.load_weights(tmp_path / "theirs.keras")
    np.testing.assert_allclose(again(X).numpy(), theirs(X).numpy(), rtol=1e-5, atol=1e-6)


def _errors(k, tmp_path):
    model = _sequential(k)
    unbuilt = k.Sequential([k.layers.Dense(1)])
    cases = [
        lambda: model.save_weights(str(tmp_path / "w.h5")),
        lambda: model.load_weights(str(tmp_path / "w.txt")),
        lambda: model.save(str(tmp_path / "m.txt")),
        lambda: model.save(str(tmp_path / "m.keras"), zipped=False),
        lambda: unbuilt.save_weights(str(tmp_path / "u.weights.h5")),
        lambda: k.callbacks.ModelCheckpoint("x.keras", save_weights_only=True),
        lambda: k.callbacks.ModelCheckpoint("x.weights"),
        lambda: k.callbacks.ModelCheckpoint("x.keras", save_freq="batch"),
        lambda: k.callbacks.ReduceLROnPlateau(factor=2.0),
        lambda: k.callbacks.BackupAndRestore(""),
        lambda: k.callbacks.BackupAndRestore("d", save_freq="often"),
    ]
    out = []
    for case in cases:
        try:
            case()
            out.append(None)
        except Exception as error:  # noqa: BLE001
            out.append((type(error).__name__, str(error)))
    return out


@needs_tf
def test_errors_match_keras(tmp_path):
    assert _errors(tw.keras, tmp_path) == _errors(keras, tmp_path)


def _drive(k, model, callbacks, epoch_logs, weights=None):
    callback_list = k.callbacks.CallbackList(callbacks, model=model)
    model.stop_training = False
    callback_list.on_train_begin()
    ran = []
    for epoch, logs in enumerate(epoch_logs):
        callback_list.on_epoch_begin(epoch)
        if weights is not None:
            model.set_weights(weights[epoch])
        callback_list.on_epoch_end(epoch, dict(logs))
        ran.append(epoch)
        if model.stop_training:
            break
    callback_list.on_train_end()
    return ran


LOSSES = [1.0, 0.8, 0.85, 0.79, 0.9, 0.95, 0.7, 0.71, 0.72, 0.73, 0.74]


@needs_tf
@pytest.mark.parametrize("kwargs", [
    {"monitor": "loss", "patience": 2},
    {"monitor": "loss", "patience": 1, "min_delta": 0.05},
    {"monitor": "loss", "patience": 2, "baseline": 0.75},
    {"monitor": "loss", "patience": 1, "start_from_epoch": 4},
    {"monitor": "loss", "patience": 3, "mode": "max"},
    {"monitor": "loss", "patience": 2, "restore_best_weights": True},
])
def test_early_stopping_matches_keras(kwargs):
    results = []
    for k in (keras, tw.keras):
        model = _sequential(k)
        rng = np.random.default_rng(0)
        weights = [[rng.normal(size=w.shape).astype(np.float32) for w in model.get_weights()]
                   for _ in LOSSES]
        stopper = k.callbacks.EarlyStopping(**kwargs)
        ran = _drive(k, model, [stopper], [{"loss": v} for v in LOSSES], weights)
        results.append((ran, stopper.stopped_epoch, stopper.best, stopper.wait,
                        [w.tolist() for w in model.get_weights()]))
    assert results[1] == results[0]


@needs_tf
@pytest.mark.parametrize("kwargs", [
    {"monitor": "loss", "patience": 1, "factor": 0.5},
    {"monitor": "loss", "patience": 2, "factor": 0.2, "cooldown": 2, "min_lr": 0.01},
    {"monitor": "loss", "patience": 1, "mode": "max", "min_delta": 0.02},
])
def test_reduce_lr_on_plateau_matches_keras(kwargs):
    results = []
    for k in (keras, tw.keras):
        model = _sequential(k)
        model.compile(k.optimizers.SGD(0.1), "mse")
        rates = []
        recorder = k.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: rates.append(
            (logs["learning_rate"], float(np.asarray(model.optimizer.learning_rate)))))
        _drive(k, model, [k.callbacks.ReduceLROnPlateau(**kwargs), recorder],
               [{"loss": v} for v in LOSSES])
        results.append(rates)
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


@needs_tf
def test_checkpoint_files_match_keras(tmp_path):
    names = []
    for k in (keras, tw.keras):
        directory = tmp_path / k.__name__
        directory.mkdir()
        model = _sequential(k)
        callbacks = [
            k.callbacks.ModelCheckpoint(str(directory / "e{epoch:02d}-{loss:.3f}.weights.h5"),
                                        save_weights_only=True, save_best_only=True,
                                        monitor="loss"),
            k.callbacks.CSVLogger(str(directory / "log.csv"), separator=";"),
        ]
        _drive(k, model, callbacks, [{"loss": v, "mae": v / 2} for v in LOSSES[:6]])
        names.append(sorted(os.listdir(directory)))
        names.append((directory / "log.csv").read_bytes())
    assert names[2:] == names[:2]


@needs_tf
def test_fit_with_callbacks_matches_keras_epochs():
    # Keras's EarlyStopping example and a scheduler: the same epochs run, the same rates
    histories = []
    for k in (keras, tw.keras):
        model = k.Sequential([k.layers.Dense(10)])
        model.compile(k.optimizers.SGD(), loss="mse")
        history = model.fit(np.arange(100).reshape(5, 20).astype(np.float32), np.zeros(5),
                            epochs=10, batch_size=1, verbose=0,
                            callbacks=[k.callbacks.EarlyStopping(monitor="loss", patience=3),
                                       k.callbacks.LearningRateScheduler(
                                           lambda epoch, lr: lr * 0.5)])
        histories.append((history.epoch, history.history["learning_rate"]))
    assert histories[1][0] == histories[0][0]
    np.testing.assert_allclose(histories[1][1], histories[0][1], rtol=1e-6)
