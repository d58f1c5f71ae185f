"""The built-in callbacks: driven by hand with chosen logs (a small loop calling the hooks as fit
does) and inside real `fit` runs; their effects checked against hand-derived sequences, NumPy
formulas and files read back."""
import csv
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import tensorweave as tf  # noqa: F401
from tensorweave import keras
from tensorweave.keras import callbacks as cbs
from tensorweave.keras import layers
from tensorweave.keras.callbacks import CallbackList


def setup_function():
    keras.backend.clear_session()


def _model(units=1, inputs=2, compile_with=None, **compile_kwargs):
    model = keras.Sequential([keras.Input((inputs,)), layers.Dense(units)])
    if compile_with is not None:
        model.compile(compile_with, "mse", **compile_kwargs)
    return model


def drive(callbacks, model, epoch_logs, weights=None):
    """Calls the hooks as fit does for epochs whose logs are `epoch_logs`; `weights[e]` (if
    given) are set during epoch e. Returns the epochs run."""
    callback_list = CallbackList(callbacks, model=model, epochs=len(epoch_logs), steps=1,
                                 verbose=0)
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


def _distinct_weights(model, n):
    rng = np.random.default_rng(0)
    return [[rng.normal(size=w.shape).astype(w.dtype) for w in model.get_weights()]
            for _ in range(n)]


def _expected_stop(values, patience, better):
    """Independent statement of early stopping (no min_delta, no baseline): stop at the first
    epoch > 0 lying `patience` epochs after the best one so far."""
    best, best_epoch = None, 0
    for epoch, value in enumerate(values):
        if best is None or better(value, best):
            best, best_epoch = value, epoch
        elif epoch - best_epoch >= patience and epoch > 0:
            return epoch
    return None


# -- EarlyStopping --------------------------------------------------------------------------------
def test_early_stopping_stops_after_patience_epochs_without_improvement(capsys):
    values = [1.0, 0.8, 0.9, 0.85, 0.7, 0.6]
    stopper = cbs.EarlyStopping(patience=2, verbose=1)
    ran = drive([stopper], _model(), [{"val_loss": v} for v in values])
    assert ran == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3 == _expected_stop(values, 2, lambda a, b: a < b)
    assert stopper.best == 0.8
    assert capsys.readouterr().out == "Epoch 4: early stopping\n"


def test_early_stopping_min_delta_mode_max_baseline_and_start_epoch():
    # an improvement must exceed min_delta
    assert drive([cbs.EarlyStopping(monitor="loss", min_delta=0.1, patience=1)], _model(),
                 [{"loss": v} for v in [1.0, 0.95, 0.92, 0.9]]) == [0, 1]
    # mode="max"
    values = [0.5, 0.6, 0.55, 0.58, 0.9]
    ran = drive([cbs.EarlyStopping(monitor="val_acc", mode="max", patience=2)], _model(),
                [{"val_acc": v} for v in values])
    assert ran[-1] == 3 == _expected_stop(values, 2, lambda a, b: a > b)
    # a baseline not beaten keeps the patience counter running: stops one epoch earlier
    values = [0.9, 0.95, 0.97, 0.99]
    assert drive([cbs.EarlyStopping(monitor="loss", patience=2)], _model(),
                 [{"loss": v} for v in values]) == [0, 1, 2]
    assert drive([cbs.EarlyStopping(monitor="loss", patience=2, baseline=0.5)], _model(),
                 [{"loss": v} for v in values]) == [0, 1]
    # nothing is watched before start_from_epoch
    assert drive([cbs.EarlyStopping(monitor="loss", patience=1, start_from_epoch=2)], _model(),
                 [{"loss": v} for v in [1, 2, 3, 4, 5]]) == [0, 1, 2, 3]


def test_early_stopping_restores_the_best_weights(capsys):
    model = _model()
    weights = _distinct_weights(model, 4)
    stopper = cbs.EarlyStopping(patience=2, restore_best_weights=True, verbose=1)
    drive([stopper], model, [{"val_loss": v} for v in [1.0, 0.5, 0.7, 0.8]], weights)
    for got, want in zip(model.get_weights(), weights[1]):
        np.testing.assert_array_equal(got, want)
    assert capsys.readouterr().out == ("Epoch 4: early stopping\nRestoring model weights from the "
                                       "end of the best epoch: 2.\n")


def test_early_stopping_missing_monitor_warns_and_never_stops():
    with pytest.warns(UserWarning, match="Early stopping conditioned on metric `val_loss` which "
                                         "is not available. Available metrics are: loss,mae"):
        ran = drive([cbs.EarlyStopping(patience=0)], _model(),
                    [{"loss": 1.0, "mae": 1.0}] * 3)
    assert ran == [0, 1, 2]


def test_auto_mode_needs_a_known_direction():
    with pytest.raises(ValueError, match="EarlyStopping callback received monitor=val_accuracy, "
                                         "but Keras isn't able to automatically determine"):
        drive([cbs.EarlyStopping(monitor="val_accuracy")], _model(), [{"val_accuracy": 0.5}])
    with pytest.warns(UserWarning, match="EarlyStopping mode 'bigger' is unknown, fallback to "
                                         "auto mode."):
        assert cbs.EarlyStopping(mode="bigger").mode == "auto"


def test_auto_mode_maximizes_a_compiled_accuracy_metric():
    model = keras.Sequential([keras.Input((2,)), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    # the compiled metrics exist once fit has run a step (fit calls this hook after its steps)
    model.fit(np.ones((2, 2), "float32"), np.zeros(2), verbose=0)
    # rising accuracy is an improvement: no stop
    stopper = cbs.EarlyStopping(monitor="val_accuracy", patience=1)
    assert drive([stopper], model, [{"val_accuracy": v} for v in [0.5, 0.6, 0.7, 0.8]]) == \
        [0, 1, 2, 3]
    assert stopper.monitor_op is np.greater


def test_early_stopping_is_reusable_across_fits():
    stopper = cbs.EarlyStopping(monitor="loss", patience=1)
    model = _model()
    assert drive([stopper], model, [{"loss": v} for v in [1.0, 2.0, 3.0]]) == [0, 1]
    assert drive([stopper], model, [{"loss": v} for v in [5.0, 4.0, 3.0]]) == [0, 1, 2]


def test_early_stopping_in_fit_keras_doc_example():
    # Keras's documented example: the loss grows from the first epoch, so 4 epochs run
    model = keras.Sequential([layers.Dense(10)])
    model.compile(keras.optimizers.SGD(), loss="mse")
    history = model.fit(np.arange(100).reshape(5, 20).astype("float32"), np.zeros(5),
                        epochs=10, batch_size=1, verbose=0,
                        callbacks=[cbs.EarlyStopping(monitor="loss", patience=3)])
    losses = history.history["loss"]
    assert len(losses) == 4
    assert _expected_stop(losses, 3, lambda a, b: a < b) == 3


def test_early_stopping_in_fit_restores_best_epoch_weights():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 2)).astype("float32")
    y = x @ np.array([[1.0], [-2.0]], "float32")
    model = _model(compile_with=keras.optimizers.SGD(0.05))
    per_epoch = []
    recorder = cbs.LambdaCallback(on_epoch_end=lambda e, logs: per_epoch.append(
        model.get_weights()))
    # with mode="max" on a falling loss the first epoch stays the best
    history = model.fit(x, y, epochs=10, batch_size=8, verbose=0, callbacks=[
        recorder, cbs.EarlyStopping(monitor="loss", mode="max", patience=2,
                                    restore_best_weights=True)])
    assert len(history.history["loss"]) == 3
    for got, want in zip(model.get_weights(), per_epoch[0]):
        np.testing.assert_array_equal(got, want)
    assert not np.array_equal(per_epoch[2][0], per_epoch[0][0])


# -- ModelCheckpoint ------------------------------------------------------------------------------
def test_checkpoint_filename_formatting(tmp_path):
    model = _model()
    checkpoint = cbs.ModelCheckpoint(str(tmp_path / "w.{epoch:02d}-{val_loss:.2f}.weights.h5"),
                                     save_weights_only=True)
    drive([checkpoint], model, [{"val_loss": 0.5}, {"val_loss": 0.256}])
    assert sorted(os.listdir(tmp_path)) == ["w.01-0.50.weights.h5", "w.02-0.26.weights.h5"]
    bad = cbs.ModelCheckpoint(str(tmp_path / "{epoch}-{val_mae}.weights.h5"),
                              save_weights_only=True)
    with pytest.raises(KeyError, match='Failed to format this callback filepath: ".*'
                                       r'\{epoch\}-\{val_mae\}.weights.h5". Reason:'):
        drive([bad], model, [{"val_loss": 0.5}])


def test_checkpoint_save_best_only_keeps_the_best(tmp_path, capsys):
    model = _model()
    weights = _distinct_weights(model, 4)
    path = str(tmp_path / "best.weights.h5")
    checkpoint = cbs.ModelCheckpoint(path, save_best_only=True, save_weights_only=True,
                                     verbose=1)
    drive([checkpoint], model, [{"val_loss": v} for v in [0.5, 0.7, 0.3, 0.4]], weights)
    fresh = _model()
    fresh.load_weights(path)
    for got, want in zip(fresh.get_weights(), weights[2]):
        np.testing.assert_array_equal(got, want)
    out = capsys.readouterr().out
    assert f"\nEpoch 1: val_loss improved from None to 0.50000, saving model to {path}\n" in out
    assert "\nEpoch 2: val_loss did not improve from 0.50000\n" in out
    assert f"\nEpoch 3: val_loss improved from 0.50000 to 0.30000, saving model to {path}\n" in out
    assert "\nEpoch 4: val_loss did not improve from 0.30000\n" in out
    assert out.count("finished saving model") == 2


def test_checkpoint_initial_value_threshold(tmp_path):
    path = tmp_path / "t.weights.h5"
    checkpoint = cbs.ModelCheckpoint(str(path), save_best_only=True, save_weights_only=True,
                                     initial_value_threshold=0.4)
    model = _model()
    drive([checkpoint], model, [{"val_loss": 0.5}, {"val_loss": 0.45}])
    assert not path.exists()
    drive([checkpoint], model, [{"val_loss": 0.3}])
    assert path.exists()


def test_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"When using `save_weights_only=True` in "
                                         r"`ModelCheckpoint`, the filepath provided must end in "
                                         r"`.weights.h5` \(Keras weights format\)"):
        cbs.ModelCheckpoint("x.keras", save_weights_only=True)
    with pytest.raises(ValueError, match=r"The filepath provided must end in `.keras` \(Keras "
                                         r"model format\). Received: filepath=x.weights"):
        cbs.ModelCheckpoint("x.weights")
    with pytest.raises(ValueError, match="Unrecognized save_freq: batch. Expected save_freq are "
                                         "'epoch' or integer values"):
        cbs.ModelCheckpoint("x.keras", save_freq="batch")
    os.mkdir(tmp_path / "d.keras")
    with pytest.raises(OSError, match="Please specify a non-directory filepath for "
                                      "ModelCheckpoint"):
        drive([cbs.ModelCheckpoint(str(tmp_path / "d.keras"))], _model(), [{"val_loss": 1.0}])


def test_checkpoint_every_n_batches_in_fit(tmp_path):
    model = _model(compile_with="sgd")
    checkpoint = cbs.ModelCheckpoint(str(tmp_path / "{epoch}-{batch}.weights.h5"),
                                     save_weights_only=True, save_freq=4)
    model.fit(np.ones((6, 2), "float32"), np.ones((6, 1), "float32"), batch_size=2, epochs=3,
              verbose=0, callbacks=[checkpoint])
    # 3 batches an epoch: the 4th, 8th batches seen are epoch 2 batch 1 and epoch 3 batch 2
    assert sorted(os.listdir(tmp_path)) == ["2-1.weights.h5", "3-2.weights.h5"]


def test_checkpoint_creates_the_directory_and_saves_whole_models(tmp_path):
    model = _model()
    drive([cbs.ModelCheckpoint(str(tmp_path / "sub" / "m-{epoch}.keras"))], model,
          [{"val_loss": 1.0}])
    with zipfile.ZipFile(tmp_path / "sub" / "m-1.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]


# -- learning rates -------------------------------------------------------------------------------
def _sgd_problem(learning_rate=0.5):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 2)).astype("float32")
    y = rng.normal(size=(4, 1)).astype("float32")
    model = keras.Sequential([keras.Input((2,)), layers.Dense(1, use_bias=False,
                                                              kernel_initializer="zeros")])
    model.compile(keras.optimizers.SGD(learning_rate), "mse")
    return model, x, y


def test_scheduler_sets_the_rate_the_optimizer_uses():
    model, x, y = _sgd_problem()
    rates = [0.1, 0.05, 0.01]
    history = model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[
        cbs.LearningRateScheduler(lambda epoch, lr: rates[epoch])])
    w = np.zeros((2, 1))
    for lr in rates:  # one full-batch gradient step of the mean squared error per epoch
        w = w - lr * 2.0 / len(x) * x.T @ (x @ w - y)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5)
    np.testing.assert_allclose(history.history["learning_rate"], rates, rtol=1e-7)
    np.testing.assert_allclose(float(model.optimizer.learning_rate.numpy()), 0.01, rtol=1e-7)


def test_scheduler_one_argument_schedule_verbose_and_errors(capsys):
    model = _model(compile_with=keras.optimizers.SGD(0.5))
    seen = []
    drive([cbs.LearningRateScheduler(lambda epoch: 0.25 / (epoch + 1), verbose=1),
           cbs.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(logs["learning_rate"]))],
          model, [{}, {}])
    np.testing.assert_allclose(seen, [0.25, 0.125])
    assert capsys.readouterr().out == ("\nEpoch 1: LearningRateScheduler setting learning rate "
                                       "to 0.25.\n\nEpoch 2: LearningRateScheduler setting "
                                       "learning rate to 0.125.\n")
    with pytest.raises(ValueError, match="The output of the `schedule` function should be a "
                                         "float. Got: 1"):
        drive([cbs.LearningRateScheduler(lambda epoch, lr: 1)], model, [{}])


def test_reduce_lr_on_plateau_sequence():
    model = _model(compile_with=keras.optimizers.SGD(1.0))
    after = []
    logged = []
    reducer = cbs.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=1, min_lr=0.2)
    drive([reducer, cbs.LambdaCallback(on_epoch_end=lambda e, logs: (
        after.append(float(model.optimizer.learning_rate.numpy())),
        logged.append(logs["learning_rate"])))], model, [{"val_loss": 1.0}] * 9)
    # worked out by hand: reduce after 2 flat epochs, 1 epoch of cooldown, floor at 0.2
    np.testing.assert_allclose(after, [1, 1, .5, .5, .25, .25, .2, .2, .2], rtol=1e-6)
    np.testing.assert_allclose(logged, [1, 1, 1, .5, .5, .25, .25, .2, .2], rtol=1e-6)


def test_reduce_lr_on_plateau_improvements_reset_and_errors(capsys):
    model = _model(compile_with=keras.optimizers.SGD(1.0))
    drive([cbs.ReduceLROnPlateau(monitor="loss", factor=0.1, patience=1, verbose=1)], model,
          [{"loss": v} for v in [1.0, 0.9, 0.8, 0.8]])
    np.testing.assert_allclose(float(model.optimizer.learning_rate.numpy()), 0.1, rtol=1e-6)
    assert capsys.readouterr().out.startswith("\nEpoch 4: ReduceLROnPlateau reducing learning "
                                              "rate to 0.1")
    with pytest.raises(ValueError, match="ReduceLROnPlateau does not support a factor >= 1.0. "
                                         "Received factor=1.5"):
        cbs.ReduceLROnPlateau(factor=1.5)
    with pytest.warns(UserWarning, match="Learning rate reduction is conditioned on metric "
                                         "`val_loss` which is not available"):
        drive([cbs.ReduceLROnPlateau()], model, [{"loss": 1.0}])


def test_reduce_lr_on_plateau_in_fit_logs_the_rate():
    model, x, y = _sgd_problem(0.04)
    history = model.fit(x, y, epochs=4, verbose=0, callbacks=[
        cbs.ReduceLROnPlateau(monitor="loss", mode="max", patience=1, factor=0.5)])
    losses = history.history["loss"]
    assert all(b < a for a, b in zip(losses, losses[1:]))
    # with mode="max" a falling loss never improves: halved every epoch after the first (the
    # rate logged is the one the epoch used)
    np.testing.assert_allclose(history.history["learning_rate"], [0.04, 0.04, 0.02, 0.01],
                               rtol=1e-6)


# -- CSVLogger ------------------------------------------------------------------------------------
def test_csv_logger_content_separator_and_append(tmp_path):
    path = tmp_path / "log.csv"
    model = _model()
    drive([cbs.CSVLogger(str(path))], model, [{"loss": 0.5, "acc": 0.25}, {"loss": 0.25}])
    assert path.read_bytes() == (b"epoch,acc,loss,val_acc,val_loss\r\n0,0.25,0.5,NA,NA\r\n"
                                 b"1,NA,0.25,NA,NA\r\n")
    drive([cbs.CSVLogger(str(path), append=True)], model, [{"loss": 0.125, "acc": 1.0}])
    assert path.read_bytes().endswith(b"1,NA,0.25,NA,NA\r\n0,1.0,0.125,NA,NA\r\n")
    assert path.read_bytes().count(b"epoch") == 1
    drive([cbs.CSVLogger(str(path), separator=";")], model,
          [{"loss": 1.5, "val_loss": 2.0, "v": np.array([1, 2])}])
    assert path.read_bytes() == b'epoch;loss;v;val_loss\r\n0;1.5;"""[1, 2]""";2.0\r\n'
    with open(path, newline="") as f:
        assert list(csv.reader(f, delimiter=";"))[1] == ["0", "1.5", '"[1, 2]"', "2.0"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    drive([cbs.CSVLogger(str(empty), append=True)], model, [{"loss": 1.0}])
    assert empty.read_bytes() == b"epoch,loss,val_loss\r\n0,1.0,NA\r\n"


def test_csv_logger_in_fit_matches_history(tmp_path):
    model, x, y = _sgd_problem()
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
                        callbacks=[cbs.CSVLogger(str(tmp_path / "fit.csv"))])
    with open(tmp_path / "fit.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "val_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [float(r["loss"]) for r in rows] == history.history["loss"]
    assert [float(r["val_loss"]) for r in rows] == history.history["val_loss"]


# -- TerminateOnNaN -------------------------------------------------------------------------------
def test_terminate_on_nan_stops_at_the_bad_batch(capsys):
    model = _model(compile_with="sgd")
    x = np.ones((8, 2), "float32")
    x[3, 0] = np.nan  # in the second batch of 2
    batches = []
    history = model.fit(x, np.ones((8, 1), "float32"), batch_size=2, epochs=3, verbose=0,
                        shuffle=False, callbacks=[
                            cbs.TerminateOnNaN(),
                            cbs.LambdaCallback(
                                on_train_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1]
    assert len(history.history["loss"]) == 1 and np.isnan(history.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_terminate_on_nan_raise_error_skips_train_end():
    model = _model(compile_with="sgd")
    ended = []
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 0. Loss value: "
                                           "inf. Terminating training immediately."):
        drive_batches([cbs.TerminateOnNaN(raise_error=True),
                       cbs.LambdaCallback(on_train_end=lambda logs: ended.append(1))], model,
                      [{"loss": float("inf")}])
    assert ended == []


def drive_batches(callbacks, model, batch_logs):
    callback_list = CallbackList(callbacks, model=model, epochs=1, steps=len(batch_logs))
    callback_list.on_train_begin()
    callback_list.on_epoch_begin(0)
    for batch, logs in enumerate(batch_logs):
        callback_list.on_train_batch_end(batch, logs)
    callback_list.on_train_end()


# -- LambdaCallback -------------------------------------------------------------------------------
def test_lambda_callback_hooks_in_fit():
    model = _model(compile_with="sgd")
    calls = []
    callback = cbs.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(f"epoch_begin {epoch}"),
        on_train_batch_begin=lambda batch, logs: calls.append(f"batch_begin {batch}"),
        on_train_batch_end=lambda batch, logs: calls.append(f"batch_end {batch} "
                                                           f"{sorted(logs)}"),
        on_epoch_end=lambda epoch, logs: calls.append(f"epoch_end {epoch} {sorted(logs)}"),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append("test_end"))
    x = np.ones((4, 2), "float32")
    model.fit(x, np.ones((4, 1), "float32"), batch_size=2, epochs=2, verbose=0,
              validation_data=(x, np.ones((4, 1), "float32")), callbacks=[callback])
    epoch = ["batch_begin 0", "batch_end 0 ['loss']", "batch_begin 1", "batch_end 1 ['loss']",
             "test_end"]
    assert calls == (["train_begin", "epoch_begin 0"] + epoch +
                     ["epoch_end 0 ['loss', 'val_loss']", "epoch_begin 1"] + epoch +
                     ["epoch_end 1 ['loss', 'val_loss']", "train_end"])


# -- BackupAndRestore -----------------------------------------------------------------------------
class _Crash(keras.callbacks.Callback):
    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise RuntimeError("Interrupting!")


def _resumable(seed=0):
    keras.backend.clear_session()
    rng = np.random.default_rng(seed)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="tanh"),
                              layers.Dense(1)])
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    model.compile(keras.optimizers.Adam(0.05), "mse")
    return model


def _data():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(12, 3)).astype("float32")
    return x, np.sin(x.sum(axis=1, keepdims=True))


def test_backup_and_restore_resumes_to_the_uninterrupted_result(tmp_path):
    x, y = _data()
    reference = _resumable()
    reference.fit(x, y, epochs=6, batch_size=4, shuffle=False, verbose=0)

    model = _resumable()
    backup = str(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="Interrupting!"):
        model.fit(x, y, epochs=6, batch_size=4, shuffle=False, verbose=0,
                  callbacks=[cbs.BackupAndRestore(backup), _Crash(3)])
    with open(os.path.join(backup, "training_metadata.json")) as f:
        assert json.load(f) == {"epoch": 3, "batch": 0}
    # a new process would build a new model: resume from the backup only
    resumed = _resumable(seed=99)
    history = resumed.fit(x, y, epochs=6, batch_size=4, shuffle=False, verbose=0,
                          callbacks=[cbs.BackupAndRestore(backup)])
    assert history.epoch == [3, 4, 5]
    for got, want in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(got, want)
    for got, want in zip(resumed.optimizer.variables, reference.optimizer.variables):
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert not os.path.exists(backup)  # removed once training ends


def test_resuming_without_the_optimizer_state_would_differ(tmp_path):
    # the check above is sensitive: restoring only the layer weights gives other results
    x, y = _data()
    reference = _resumable()
    reference.fit(x, y, epochs=6, batch_size=4, shuffle=False, verbose=0)
    model = _resumable()
    model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    fresh = _resumable(seed=99)
    fresh.set_weights(model.get_weights())
    fresh.fit(x, y, epochs=6, initial_epoch=3, batch_size=4, shuffle=False, verbose=0)
    assert not np.array_equal(fresh.get_weights()[0], reference.get_weights()[0])


def test_backup_keep_checkpoint_batches_and_double_checkpoint(tmp_path):
    x, y = _data()
    backup = str(tmp_path / "b")
    model = _resumable()
    model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False,
              callbacks=[cbs.BackupAndRestore(backup, save_freq=2, delete_checkpoint=False,
                                              double_checkpoint=True)])
    assert sorted(os.listdir(backup)) == ["latest.weights.h5", "latest.weights.h5.bkp",
                                          "training_metadata.json", "training_metadata.json.bkp"]
    with open(os.path.join(backup, "training_metadata.json")) as f:
        # 3 batches an epoch, saved every 2 batches: after (epoch 0, batch 1), (1, 0), (1, 2)
        assert json.load(f) == {"epoch": 1, "batch": 2}
    with open(os.path.join(backup, "training_metadata.json.bkp")) as f:
        assert json.load(f) == {"epoch": 1, "batch": 0}
    with h5py.File(os.path.join(backup, "latest.weights.h5"), "r") as f:
        np.testing.assert_array_equal(f["layers/dense/vars/0"][()], model.get_weights()[0])
    # a corrupt latest backup: the previous one is used
    with open(os.path.join(backup, "latest.weights.h5"), "wb") as f:
        f.write(b"not an h5 file")
    other = _resumable(seed=3)
    callback = cbs.BackupAndRestore(backup, double_checkpoint=True, delete_checkpoint=False)
    callback.set_model(other)
    callback.on_train_begin()
    with h5py.File(os.path.join(backup, "latest.weights.h5.bkp"), "r") as f:
        np.testing.assert_array_equal(other.get_weights()[0], f["layers/dense/vars/0"][()])
    assert other._initial_epoch == 1


def test_backup_and_restore_errors(tmp_path):
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        cbs.BackupAndRestore("")
    with pytest.raises(ValueError, match="Invalid value for argument `save_freq`. Received: "
                                         "save_freq=often."):
        cbs.BackupAndRestore(str(tmp_path), save_freq="often")
    callback = cbs.BackupAndRestore(str(tmp_path))
    callback.set_model(keras.Sequential([layers.Dense(1)]))
    with pytest.raises(ValueError, match="To use the BackupAndRestore callback, you model must "
                                         "be built before you call `fit\\(\\)`"):
        callback.on_train_begin()


# -- the seed notes: EarlyStopping + ModelCheckpoint, a custom LossHistory -----------------------
def _get_mnist_model():
    inputs = keras.Input(shape=(28 * 28,))
    features = layers.Dense(512, activation="relu")(inputs)
    features = layers.Dropout(0.5)(features)
    outputs = layers.Dense(10, activation="softmax")(features)
    return keras.Model(inputs, outputs)


def _mnist_like(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n)
    images = rng.random((n, 28 * 28)).astype("float32") * 0.3
    images[np.arange(n), labels * 70] += 1.0  # learnable: one bright pixel per class
    return images, labels


def test_seed_early_stopping_and_best_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train_images, train_labels = _mnist_like(96, 0)
    val_images, val_labels = _mnist_like(48, 1)
    callbacks_list = [
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2),
        keras.callbacks.ModelCheckpoint(filepath="checkpoint_path.keras", monitor="val_loss",
                                        save_best_only=True),
    ]
    model = _get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    per_epoch = []
    callbacks_list.append(keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: per_epoch.append(model.get_weights())))
    history = model.fit(train_images, train_labels, epochs=10, callbacks=callbacks_list,
                        validation_data=(val_images, val_labels), verbose=0)
    accuracy = history.history["val_accuracy"]
    stop = _expected_stop(accuracy, 2, lambda a, b: a > b)
    assert len(accuracy) == (10 if stop is None else stop + 1)
    with zipfile.ZipFile("checkpoint_path.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
    best = int(np.argmin(history.history["val_loss"]))
    restored = _get_mnist_model()
    restored.load_weights("checkpoint_path.keras")
    for got, want in zip(restored.get_weights(), per_epoch[best]):
        np.testing.assert_array_equal(got, want)


def test_seed_loss_history_plots(tmp_path, monkeypatch):
    matplotlib = pytest.importorskip("matplotlib", reason="matplotlib (optional) not installed")
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    monkeypatch.chdir(tmp_path)

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

        def on_epoch_end(self, epoch, logs):
            plt.clf()
            plt.plot(range(len(self.per_batch_losses)), self.per_batch_losses,
                     label="Training loss for each batch")
            plt.xlabel(f"Batch (epoch {epoch})")
            plt.ylabel("Loss")
            plt.legend()
            plt.savefig(f"plot_at_epoch_{epoch}")
            self.per_batch_losses = []

    model = _model(compile_with="sgd")
    model.fit(np.ones((8, 2), "float32"), np.ones((8, 1), "float32"), epochs=2, verbose=0,
              callbacks=[LossHistory()])
    assert sorted(os.listdir(tmp_path)) == ["plot_at_epoch_0.png", "plot_at_epoch_1.png"]
