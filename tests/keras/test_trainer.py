"""compile / fit / evaluate / predict: what they compute (checked against NumPy recomputations
from the model's own predictions), the data they accept, their logs and output, and their errors."""
import io
import contextlib

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import layers
from seeds.seed002_components import ReconstructingRegressor


@pytest.fixture(autouse=True)
def fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(7)


def regression_data(n=256, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32")
    y = (x @ rng.normal(size=(d, 1)) + 0.5).astype("float32")
    return x, y


def mlp(d=4, out=1, activation=None):
    return keras.Sequential([keras.Input((d,)), layers.Dense(8, activation="relu"),
                             layers.Dense(out, activation=activation)])


def weights_of(model):
    return [w.copy() for w in model.get_weights()]


def test_fit_lowers_the_loss_and_history_holds_every_epoch():
    x, y = regression_data()
    model = mlp()
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=4, batch_size=32, verbose=0)
    assert history is model.history
    assert set(history.history) == {"loss", "mae"}
    assert len(history.history["loss"]) == 4 and history.epoch == [0, 1, 2, 3]
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert all(isinstance(v, float) for v in history.history["loss"])


def test_evaluate_matches_numpy_on_the_models_own_predictions():
    x, y = regression_data()
    model = mlp()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    model.fit(x, y, epochs=1, verbose=0)
    pred = model.predict(x, batch_size=50, verbose=0)
    assert pred.shape == (256, 1) and pred.dtype == np.float32
    np.testing.assert_allclose(pred, model(x).numpy(), rtol=1e-6, atol=1e-6)
    loss, mae, mse = model.evaluate(x, y, batch_size=50, verbose=0)
    np.testing.assert_allclose(mae, np.mean(np.abs(pred - y)), rtol=1e-5)
    np.testing.assert_allclose(mse, np.mean((pred - y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(loss, mse, rtol=1e-5)  # batches of 50, 50, ..., 6: batch-weighted
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae", "mse"]
    assert model.metrics_names == ["loss", "compile_metrics"]


def test_a_training_epoch_follows_minibatch_sgd_computed_with_numpy():
    # one Dense unit, MSE, SGD(lr), no shuffle: the weights after fit equal a NumPy loop
    x, y = regression_data(n=40, d=3)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    w0, b0 = weights_of(model)
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    w, b = w0.astype(np.float64), b0.astype(np.float64)
    for _ in range(2):
        for start in range(0, 40, 16):
            xb, yb = x[start:start + 16], y[start:start + 16]
            err = xb @ w + b - yb
            w -= 0.1 * 2 * xb.T @ err / len(xb)
            b -= 0.1 * 2 * err.mean(axis=0)
    got_w, got_b = model.get_weights()
    np.testing.assert_allclose(got_w, w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(got_b, b, rtol=1e-4, atol=1e-5)


def test_sample_weight_and_class_weight_weight_the_loss():
    x = np.array([[1.0], [2.0], [3.0], [4.0]], "float32")
    y = np.array([[0.0], [1.0], [1.0], [0.0]], "float32")
    model = keras.Sequential([keras.Input((1,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    p = model.predict(x, verbose=0)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    sw = np.array([1.0, 0.0, 2.0, 0.5], "float32")
    np.testing.assert_allclose(model.test_on_batch(x, y, sample_weight=sw),
                               np.sum(bce[:, 0] * sw) / 4, rtol=1e-5)
    loss = model.evaluate(x, y, sample_weight=sw, verbose=0)
    np.testing.assert_allclose(loss, np.sum(bce[:, 0] * sw) / 4, rtol=1e-5)
    before = weights_of(model)
    model.reset_metrics()  # Keras 3's *_on_batch keep the running metrics
    logs = model.train_on_batch(x, y, class_weight={0: 0.25, 1: 3.0}, return_dict=True)
    cw = np.where(y[:, 0] == 1, 3.0, 0.25)
    np.testing.assert_allclose(logs["loss"], np.sum(bce[:, 0] * cw) / 4, rtol=1e-5)
    assert not np.allclose(before[0], model.get_weights()[0])


def test_validation_split_holds_out_the_last_fraction():
    x, y = regression_data(n=100)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(x, y, epochs=1, validation_split=0.2, verbose=0, shuffle=False)
    pred = model.predict(x[80:], verbose=0)
    np.testing.assert_allclose(history.history["val_mae"][0], np.mean(np.abs(pred - y[80:])),
                               rtol=1e-5)
    assert list(history.history) == ["loss", "mae", "val_loss", "val_mae"]


def test_validation_data_and_validation_freq():
    x, y = regression_data(n=64)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    seen = []
    record = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: seen.append(set(logs))) \
        if hasattr(keras.callbacks, "LambdaCallback") else None
    history = model.fit(x, y, epochs=4, validation_data=(x[:16], y[:16]), validation_freq=2,
                        verbose=0, callbacks=[record] if record else None)
    assert len(history.history["val_loss"]) == 2
    if record:
        assert seen == [{"loss"}, {"loss", "val_loss"}, {"loss"}, {"loss", "val_loss"}]


def test_multi_input_multi_output_functional_model_from_seed_000():
    vocabulary_size, num_tags, num_departments, n = 30, 6, 4, 64
    title = keras.Input(shape=(vocabulary_size,), name="title")
    text_body = keras.Input(shape=(vocabulary_size,), name="text_body")
    tags = keras.Input(shape=(num_tags,), name="tags")
    features = layers.Concatenate()([title, text_body, tags])
    features = layers.Dense(16, activation="relu")(features)
    priority = layers.Dense(1, activation="sigmoid", name="priority")(features)
    department = layers.Dense(num_departments, activation="softmax", name="department")(features)
    model = keras.Model(inputs=[title, text_body, tags], outputs=[priority, department])
    rng = np.random.default_rng(1)
    title_data = rng.integers(0, 2, size=(n, vocabulary_size))
    text_body_data = rng.integers(0, 2, size=(n, vocabulary_size))
    tags_data = rng.integers(0, 2, size=(n, num_tags))
    priority_data = rng.random(size=(n, 1))
    department_data = rng.integers(0, 2, size=(n, num_departments))
    model.compile(optimizer="adam", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    history = model.fit([title_data, text_body_data, tags_data], [priority_data, department_data],
                        epochs=1, verbose=0)
    assert set(history.history) == {"loss", "priority_loss", "department_loss",
                                    "priority_mean_absolute_error", "department_accuracy"}
    results = model.evaluate([title_data, text_body_data, tags_data],
                             [priority_data, department_data], verbose=0, return_dict=True)
    priority_preds, department_preds = model.predict([title_data, text_body_data, tags_data],
                                                     verbose=0)
    assert priority_preds.shape == (n, 1) and department_preds.shape == (n, num_departments)
    np.testing.assert_allclose(results["priority_mean_absolute_error"],
                               np.mean(np.abs(priority_preds - priority_data)), rtol=1e-5)
    # categorical accuracy: argmax of the labels' rows against the predictions'
    acc = np.mean(np.argmax(department_data, -1) == np.argmax(department_preds, -1))
    np.testing.assert_allclose(results["department_accuracy"], acc, rtol=1e-6)
    np.testing.assert_allclose(results["loss"],
                               results["priority_loss"] + results["department_loss"], rtol=1e-5)
    # the same by dicts keyed by output and input names, with loss weights
    model.compile(optimizer="adam",
                  loss={"priority": "mse", "department": "categorical_crossentropy"},
                  loss_weights={"priority": 2.0, "department": 0.5})
    logs = model.evaluate({"title": title_data, "text_body": text_body_data, "tags": tags_data},
                          {"priority": priority_data, "department": department_data},
                          verbose=0, return_dict=True)
    # each output's loss is logged unweighted; the total weighs them
    np.testing.assert_allclose(logs["loss"],
                               2.0 * logs["priority_loss"] + 0.5 * logs["department_loss"],
                               rtol=1e-5)
    np.testing.assert_allclose(logs["priority_loss"], results["priority_loss"], rtol=1e-4)


def test_subclassed_model_with_dict_inputs_from_seed_000():
    class CustomerTicketModel(keras.Model):
        def __init__(self, num_departments):
            super().__init__()
            self.concat_layer = layers.Concatenate()
            self.mixing_layer = layers.Dense(16, activation="relu")
            self.priority_scorer = layers.Dense(1, activation="sigmoid")
            self.department_classifier = layers.Dense(num_departments, activation="softmax")

        def call(self, inputs):
            features = self.concat_layer([inputs["title"], inputs["text_body"], inputs["tags"]])
            features = self.mixing_layer(features)
            return self.priority_scorer(features), self.department_classifier(features)

    rng = np.random.default_rng(2)
    n = 40
    data = {"title": rng.integers(0, 2, (n, 20)), "text_body": rng.integers(0, 2, (n, 20)),
            "tags": rng.integers(0, 2, (n, 5))}
    targets = [rng.random((n, 1)), rng.integers(0, 2, (n, 3))]
    model = CustomerTicketModel(num_departments=3)
    model.compile(optimizer="rmsprop" if hasattr(keras.optimizers, "RMSprop") else "sgd",
                  loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]])
    history = model.fit(data, targets, epochs=1, verbose=0)
    assert {"loss", "mean_absolute_error", "accuracy"} <= set(history.history)
    model.evaluate(data, targets, verbose=0)
    priority_preds, department_preds = model.predict(data, verbose=0)
    assert priority_preds.shape == (n, 1) and department_preds.shape == (n, 3)


def test_dataset_and_generator_inputs():
    x, y = regression_data(n=96)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(32)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    history = model.fit(dataset, epochs=2, validation_data=dataset, verbose=0)
    assert len(history.history["val_mae"]) == 2
    pred = model.predict(dataset, verbose=0)
    np.testing.assert_allclose(pred, model.predict(x, verbose=0), rtol=1e-6)
    mse = model.evaluate(dataset.take(2), verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(mse, np.mean((pred[:64] - y[:64]) ** 2), rtol=1e-5)
    weighted = tf.data.Dataset.from_tensor_slices((x, y, np.ones(96, "float32") * 2)).batch(32)
    np.testing.assert_allclose(model.evaluate(weighted, verbose=0)[0],
                               2 * model.evaluate(dataset, verbose=0)[0], rtol=1e-5)

    def batches():
        for start in range(0, 96, 32):
            yield x[start:start + 32], y[start:start + 32]
    history = model.fit(batches(), epochs=1, verbose=0)
    assert len(history.history["loss"]) == 1
    np.testing.assert_allclose(model.evaluate(batches(), verbose=0)[0],
                               model.evaluate(x, y, verbose=0)[0], rtol=1e-5)


def test_steps_per_epoch_continues_one_iterator_across_epochs():
    x, y = regression_data(n=64)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16).repeat()
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
    model.fit(dataset, epochs=3, steps_per_epoch=5, verbose=0, callbacks=[Count()])
    assert seen == [0, 1, 2, 3, 4] * 3
    assert int(model.optimizer.iterations.numpy()) == 15
    with pytest.warns(UserWarning, match="ran out of data"):
        model.fit(x, y, batch_size=16, epochs=1, steps_per_epoch=6, verbose=0)


def test_regularization_and_add_loss_join_the_training_loss():
    x, y = regression_data(n=32)

    class Penalized(layers.Layer):
        def call(self, inputs):
            self.add_loss(0.5 * tf.reduce_mean(tf.square(inputs)))
            return inputs

    model = keras.Sequential([keras.Input((4,)),
                              layers.Dense(3, kernel_regularizer=keras.regularizers.l2(0.1)),
                              Penalized(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(x, y, batch_size=32, verbose=0)
    kernel = model.layers[0].kernel.numpy()
    hidden = x @ kernel + model.layers[0].bias.numpy()
    pred = model.predict(x, verbose=0)
    expected = np.mean((pred - y) ** 2) + 0.1 * np.sum(kernel ** 2) + \
        0.5 * np.mean(hidden ** 2)
    np.testing.assert_allclose(loss, expected, rtol=1e-5)


def test_constraints_are_applied_after_each_update():
    x, y = regression_data(n=32)
    model = keras.Sequential([keras.Input((4,)),
                              layers.Dense(1, kernel_constraint=keras.constraints.NonNeg())])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="mse")
    model.fit(x, -np.abs(y) * 10, epochs=2, verbose=0)
    assert (model.layers[0].kernel.numpy() >= 0).all()


def test_metrics_held_by_a_subclassed_model_are_logged_seed_002_reconstructing_regressor():
    x, y = regression_data(n=128, d=8)
    model = ReconstructingRegressor(1)
    model.compile(loss="mse", optimizer="adam")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert list(history.history) == ["loss", "reconstruction_error"]
    assert history.history["reconstruction_error"][-1] < history.history["reconstruction_error"][0]
    assert model.predict(x[:4], verbose=0).shape == (4, 1)


def test_overridden_train_step_is_used_and_compiled():
    traced = []

    class CustomModel(keras.Model):
        def train_step(self, data):
            traced.append(tf.executing_eagerly())
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.tracker.update_state(loss)
            return {"my_loss": self.tracker.result()}

    inputs = keras.Input((4,))
    model = CustomModel(inputs, layers.Dense(1)(inputs))
    model.tracker = keras.metrics.Mean(name="my_loss")
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    x, y = regression_data(n=64)
    history = model.fit(x, y, epochs=3, verbose=0)
    assert list(history.history) == ["my_loss"]
    assert traced == [False]  # traced once into a graph, then run compiled
    assert history.history["my_loss"][-1] < history.history["my_loss"][0]


def test_run_eagerly_gives_the_same_training_as_the_compiled_step():
    x, y = regression_data(n=64)
    results = []
    for eager in (False, True):
        keras.utils.set_random_seed(3)
        model = mlp()
        model.compile(optimizer="adam", loss="mse", metrics=["mae"], run_eagerly=eager)
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0)
        results.append((history.history, model.get_weights()))
    assert results[0][0].keys() == results[1][0].keys()
    for key in results[0][0]:
        np.testing.assert_allclose(results[0][0][key], results[1][0][key], rtol=1e-5)
    for a, b in zip(results[0][1], results[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_set_random_seed_makes_fit_reproducible_end_to_end():
    x, y = regression_data(n=64)

    def run():
        keras.utils.set_random_seed(42)
        model = keras.Sequential([keras.Input((4,)), layers.Dense(16, activation="relu"),
                                  layers.Dropout(0.3), layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        return model.fit(x, y, epochs=2, batch_size=8, verbose=0).history["loss"]
    assert run() == run()


def test_stop_training_set_by_a_callback_ends_fit_after_the_epoch():
    x, y = regression_data(n=64)

    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(x, y, epochs=10, verbose=0, callbacks=[StopAfterTwo()])
    assert history.epoch == [0, 1]


def test_callback_hooks_order_params_and_logs():
    x, y = regression_data(n=48)
    calls = []

    def hook(name):
        def record(self, *args):
            calls.append((name,) + tuple(a if not isinstance(a, dict) else tuple(sorted(a))
                                         for a in args))
        return record

    hooks = [n for n in dir(keras.callbacks.Callback) if n.startswith("on_")
             and n not in ("on_batch_begin", "on_batch_end")]
    Recorder = type("Recorder", (keras.callbacks.Callback,), {n: hook(n) for n in hooks})
    recorder = Recorder()
    model = mlp()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    model.fit(x, y, batch_size=24, epochs=1, validation_data=(x[:24], y[:24]), verbose=0,
              callbacks=[recorder])
    assert recorder.params == {"verbose": 0, "epochs": 1, "steps": 2}
    assert recorder.model is model
    assert calls == [
        ("on_train_begin", ()), ("on_epoch_begin", 0, ()),
        ("on_train_batch_begin", 0, ()), ("on_train_batch_end", 0, ("loss", "mae")),
        ("on_train_batch_begin", 1, ()), ("on_train_batch_end", 1, ("loss", "mae")),
        ("on_test_begin", ()), ("on_test_batch_begin", 0, ()),
        ("on_test_batch_end", 0, ("loss", "mae")), ("on_test_end", ("loss", "mae")),
        ("on_epoch_end", 0, ("loss", "mae", "val_loss", "val_mae")),
        ("on_train_end", ("loss", "mae", "val_loss", "val_mae"))]


def run_quietly(fn):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        fn()
    return out.getvalue()


def test_progress_output_for_each_verbosity_in_a_log_file():
    x, y = regression_data(n=64)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert run_quietly(lambda: model.fit(x, y, epochs=2, verbose=0)) == ""
    text = run_quietly(lambda: model.fit(x, y, epochs=2, batch_size=32, verbose=1))
    lines = text.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    import re
    pattern = r"2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}$"
    assert re.match(pattern, lines[1]) and re.match(pattern, lines[3])
    assert "\x1b" not in text and "\r" not in text and "\b" not in text
    text = run_quietly(lambda: model.fit(x, y, epochs=1, batch_size=32, verbose=2))
    assert re.match(r"2/2 - \d+s - \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}$",
                    text.strip())
    text = run_quietly(lambda: model.evaluate(x, y, verbose=1))
    assert re.match(r"2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: \d\.\d{4} - mae: \d\.\d{4}$",
                    text.strip())


def test_progress_bar_redraws_in_place_on_a_terminal(monkeypatch):
    from tensorweave.keras.utils import progbar as progbar_module
    monkeypatch.setattr(progbar_module, "_interactive", lambda: True)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        bar = progbar_module.Progbar(4, interval=0)
        for step in range(1, 5):
            bar.update(step, [("loss", 1.0 / step)])
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n") and text.count("\n") == 1
    assert "\x1b[32m━━━━━━━━━━━━━━━━━━━━\x1b[0m" in text  # the full bar, in green
    assert "loss: 0.2500" in text


def test_errors_come_before_any_training_step_and_change_nothing():
    x, y = regression_data(n=32)
    model = mlp()
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, verbose=0)
    before = weights_of(model)
    with pytest.raises(ValueError, match="Data cardinality is ambiguous"):
        model.fit(x, y[:31], verbose=0)
    with pytest.raises(ValueError, match="Could not interpret loss"):
        model.compile(optimizer="sgd", loss="no_such_loss")
        model.fit(x, y, verbose=0)
    inputs = keras.Input((4,))
    two = keras.Model(inputs, [layers.Dense(1, name="a")(inputs), layers.Dense(1, name="b")(inputs)])
    two.compile(optimizer="sgd", loss=["mse", "mse", "mse"])
    two_before = weights_of(two)
    with pytest.raises(ValueError, match="2 outputs"):
        two.fit(x, [y, y], verbose=0)
    two.compile(optimizer="sgd", loss={"a": "mse", "c": "mse"})
    with pytest.raises(ValueError, match="not output names"):
        two.fit(x, [y, y], verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(two_before, two.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="validation_freq"):
        model.fit(x, y, validation_freq="2", verbose=0)


def test_predict_and_predict_on_batch_of_a_multi_output_model_return_its_structure():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, {"u": layers.Dense(2)(inputs), "v": layers.Dense(3)(inputs)})
    x, _ = regression_data(n=10)
    out = model.predict(x, batch_size=4, verbose=0)
    assert set(out) == {"u", "v"} and out["u"].shape == (10, 2) and out["v"].shape == (10, 3)
    single = model.predict_on_batch(x)
    np.testing.assert_allclose(single["v"], out["v"], rtol=1e-6)


def test_tf2_style_train_step_with_the_deprecated_compiled_loss_and_metrics():
    class TF2Style(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            gradients = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input((4,))
    model = TF2Style(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse", metrics=["mae"])
    x, y = regression_data(n=64)
    with pytest.warns(UserWarning, match="deprecated"):
        history = model.fit(x, y, epochs=2, verbose=0)
    assert set(history.history) == {"mae", "loss"}  # compile_metrics' dict is flattened
    assert history.history["mae"][-1] < history.history["mae"][0]


def test_steps_per_execution_calls_batch_callbacks_every_n_steps_and_initial_epoch():
    x, y = regression_data(n=64)
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)
    model = mlp()
    model.compile(optimizer="sgd", loss="mse", steps_per_execution=2)
    history = model.fit(x, y, batch_size=8, epochs=3, initial_epoch=1, verbose=0,
                        callbacks=[Count()])
    assert seen == [1, 3, 5, 7] * 2 and history.epoch == [1, 2]
    assert int(model.optimizer.iterations.numpy()) == 16


def test_summary_of_a_trained_model_counts_the_optimizer_params_as_keras_does(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    x, y = regression_data(n=32)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(8), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    # Keras 3.15's last lines for the same model (the iteration count is int64: 8 bytes)
    assert lines[0].splitlines()[-4:] == [
        " Total params: 149 (600.00 B)", " Trainable params: 49 (196.00 B)",
        " Non-trainable params: 0 (0.00 B)", " Optimizer params: 100 (404.00 B)"]


def test_a_generator_that_runs_out_ends_training_with_a_warning():
    x, y = regression_data(n=64)

    def batches():
        for start in range(0, 64, 32):
            yield x[start:start + 32], y[start:start + 32]
    model = mlp()
    model.compile(optimizer="sgd", loss="mse")
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(batches(), epochs=3, verbose=0)
    assert history.epoch == [0]  # the second epoch found no data
    assert int(model.optimizer.iterations.numpy()) == 2
