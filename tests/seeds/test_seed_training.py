"""Every training workflow of the notes, as written, with synthetic data of the same shapes in
place of downloads (IMDB, Boston housing, MNIST, California housing): seed 000 chapters 3-7 and its
code collection, seed 002's custom losses, metrics, internal losses and training loops, seed 003's
loops and seed 004's custom loss, validation and callbacks. Each asserts what the notes rely on:
the loss falls, and the reported metrics equal a NumPy recomputation."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import layers
from seeds.seed002_components import (
    HuberLoss, HuberMetric, ReconstructingRegressor, create_huber, huber_fn,
    huber_mean_metric_class)


@pytest.fixture(autouse=True)
def fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(42)


def falls(values) -> bool:
    return values[-1] < values[0]


# -- seed 000 -----------------------------------------------------------------------------------
def test_seed000_imdb_binary_classification():
    rng = np.random.default_rng(0)
    n, dim = 600, 500
    # multi-hot "reviews" whose label depends on a few words, like vectorize_sequences' output
    x_train = (rng.random((n, dim)) < 0.05).astype("float64")
    y_train = (x_train[:, :20].sum(axis=1) > x_train[:, 20:40].sum(axis=1)).astype("float32")
    model = keras.Sequential([
        layers.Dense(16, activation="relu"),
        layers.Dense(16, activation="relu"),
        layers.Dense(1, activation="sigmoid")
    ])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    x_val, partial_x_train = x_train[:200], x_train[200:]
    y_val, partial_y_train = y_train[:200], y_train[200:]
    history = model.fit(partial_x_train, partial_y_train, epochs=8, batch_size=64,
                        validation_data=(x_val, y_val), verbose=0)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert falls(history.history["loss"]) and falls(history.history["val_loss"])
    predictions = model.predict(x_val, verbose=0)
    assert predictions.shape == (200, 1) and predictions.dtype == np.float32
    assert ((predictions > 0) & (predictions < 1)).all()
    # the reported validation accuracy is the share of thresholded predictions that match
    accuracy = np.mean((predictions[:, 0] > 0.5) == (y_val == 1))
    np.testing.assert_allclose(history.history["val_accuracy"][-1], accuracy, rtol=1e-6)


def build_boston_model():
    model = keras.Sequential([
        layers.Dense(64, activation="relu"),
        layers.Dense(64, activation="relu"),
        layers.Dense(1)
    ])
    model.compile(optimizer="rmsprop", loss="mse", metrics=["mae"])
    return model


def test_seed000_boston_housing_k_fold_validation():
    rng = np.random.default_rng(1)
    coefficients = rng.normal(size=13)
    train_data = rng.normal(5, 3, size=(120, 13))
    train_targets = train_data @ coefficients + 20 + rng.normal(size=120)
    test_data = rng.normal(5, 3, size=(30, 13))
    test_targets = test_data @ coefficients + 20
    mean = train_data.mean(axis=0)
    train_data -= mean
    std = train_data.std(axis=0)
    train_data /= std
    test_data -= mean
    test_data /= std
    k = 4
    num_val_samples = len(train_data) // k
    num_epochs = 8
    all_scores, all_mae_histories = [], []
    for i in range(k):
        val_data = train_data[i * num_val_samples: (i + 1) * num_val_samples]
        val_targets = train_targets[i * num_val_samples: (i + 1) * num_val_samples]
        partial_train_data = np.concatenate(
            [train_data[:i * num_val_samples], train_data[(i + 1) * num_val_samples:]], axis=0)
        partial_train_targets = np.concatenate(
            [train_targets[:i * num_val_samples], train_targets[(i + 1) * num_val_samples:]],
            axis=0)
        model = build_boston_model()
        history = model.fit(partial_train_data, partial_train_targets,
                            validation_data=(val_data, val_targets),
                            epochs=num_epochs, batch_size=16, verbose=0)
        all_mae_histories.append(history.history["val_mae"])
        val_mse, val_mae = model.evaluate(val_data, val_targets, verbose=0)
        all_scores.append(val_mae)
        pred = model.predict(val_data, verbose=0)[:, 0]
        np.testing.assert_allclose(val_mae, np.mean(np.abs(pred - val_targets)), rtol=1e-4)
        np.testing.assert_allclose(val_mse, np.mean((pred - val_targets) ** 2), rtol=1e-4)
        assert history.history["val_mae"][-1] == pytest.approx(val_mae, rel=1e-5)
    average_mae_history = [np.mean([x[i] for x in all_mae_histories]) for i in range(num_epochs)]
    assert falls(average_mae_history)
    model = build_boston_model()
    model.fit(train_data, train_targets, epochs=130, batch_size=16, verbose=0)
    test_mse_score, test_mae_score = model.evaluate(test_data, test_targets, verbose=0)
    predictions = model.predict(test_data, verbose=0)
    assert predictions[0].shape == (1,) and predictions.dtype == np.float32
    assert test_mae_score < np.mean(np.abs(test_targets - test_targets.mean()))


def get_mnist_model():
    inputs = keras.Input(shape=(28 * 28,))
    features = layers.Dense(64, activation="relu")(inputs)
    features = layers.Dropout(0.5)(features)
    outputs = layers.Dense(10, activation="softmax")(features)
    return keras.Model(inputs, outputs)


def mnist_like(n, seed=2):
    """Images whose class shows as a bright band, labels 0..9 (uint8, as mnist.load_data)."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, size=n).astype("uint8")
    images = rng.integers(0, 60, size=(n, 28, 28)).astype("uint8")
    for i, label in enumerate(labels):
        images[i, 2 * label:2 * label + 3, :] = 255
    return images, labels


def test_seed000_mnist_fit_evaluate_predict():
    images, labels = mnist_like(1200)
    test_images, test_labels = mnist_like(200, seed=3)
    images = images.reshape((1200, 28 * 28)).astype("float32") / 255
    test_images = test_images.reshape((200, 28 * 28)).astype("float32") / 255
    train_images, val_images = images[200:], images[:200]
    train_labels, val_labels = labels[200:], labels[:200]
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=3,
                        validation_data=(val_images, val_labels), verbose=0)
    test_metrics = model.evaluate(test_images, test_labels, verbose=0)
    predictions = model.predict(test_images, verbose=0)
    assert predictions.shape == (200, 10)
    np.testing.assert_allclose(predictions.sum(axis=1), 1, rtol=1e-5)
    accuracy = np.mean(np.argmax(predictions, axis=1) == test_labels)
    np.testing.assert_allclose(test_metrics[1], accuracy, rtol=1e-6)
    assert accuracy > 0.9 and falls(history.history["loss"])


def test_seed000_callbacks_early_stopping_and_checkpoint(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    images, labels = mnist_like(600)
    images = images.reshape((600, 28 * 28)).astype("float32") / 255
    train_images, val_images = images[100:], images[:100]
    train_labels, val_labels = labels[100:], labels[:100]
    callbacks_list = [
        keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=2),
        keras.callbacks.ModelCheckpoint(filepath="checkpoint_path.keras", monitor="val_loss",
                                        save_best_only=True),
    ]
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train_images, train_labels, epochs=10, callbacks=callbacks_list,
                        validation_data=(val_images, val_labels), verbose=0)
    val_accuracy = history.history["val_accuracy"]
    best = int(np.argmax(val_accuracy))
    # EarlyStopping stops `patience` epochs after the best val_accuracy (or runs to the end)
    assert len(val_accuracy) == min(10, best + 3)
    # the checkpoint holds the epoch of lowest val_loss: loading it gives that loss back
    restored = keras.models.load_model("checkpoint_path.keras")
    assert isinstance(restored, keras.Model) and restored.compiled
    val_loss = restored.evaluate(val_images, val_labels, verbose=0)[0]
    np.testing.assert_allclose(val_loss, min(history.history["val_loss"]), rtol=1e-5)


def test_seed000_custom_callback_loss_history(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plt = None
    try:
        import matplotlib
        matplotlib.use("Agg")
        from matplotlib import pyplot as plt
    except ImportError:
        pass

    class LossHistory(keras.callbacks.Callback):
        def on_train_begin(self, logs):
            self.per_batch_losses = []
            self.epochs_seen = []

        def on_batch_end(self, batch, logs):
            self.per_batch_losses.append(logs.get("loss"))

        def on_epoch_end(self, epoch, logs):
            self.epochs_seen.append(len(self.per_batch_losses))
            if plt is not None:
                plt.clf()
                plt.plot(range(len(self.per_batch_losses)), self.per_batch_losses,
                         label="Training loss for each batch")
                plt.xlabel(f"Batch (epoch {epoch})")
                plt.ylabel("Loss")
                plt.legend()
                plt.savefig(f"plot_at_epoch_{epoch}")
            self.per_batch_losses = []

    images, labels = mnist_like(320)
    images = images.reshape((320, 28 * 28)).astype("float32") / 255
    model = get_mnist_model()
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    loss_history = LossHistory()
    model.fit(images, labels, epochs=2, callbacks=[loss_history], verbose=0)
    assert loss_history.epochs_seen == [10, 10]  # 320 / 32 batches, reset each epoch
    if plt is not None:
        assert (tmp_path / "plot_at_epoch_1.png").is_file()


def test_seed000_predict_with_batch_size_on_a_keras_layer_subclass():
    class SimpleDense(keras.layers.Layer):
        def __init__(self, units, activation=None):
            super().__init__()
            self.units = units
            self.activation = activation

        def build(self, input_shape):
            input_dim = input_shape[-1]
            self.W = self.add_weight(shape=(input_dim, self.units), initializer="random_normal")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros")

        def call(self, inputs):
            y = tf.matmul(inputs, self.W) + self.b
            if self.activation is not None:
                y = self.activation(y)
            return y

    model = keras.Sequential([SimpleDense(32, activation=tf.nn.relu), SimpleDense(10)])
    model.compile(optimizer="rmsprop", loss="mse")
    new_inputs = np.random.default_rng(0).random((300, 7)).astype("float32")
    predictions = model.predict(new_inputs, batch_size=128, verbose=0)
    np.testing.assert_allclose(predictions, model(new_inputs).numpy(), rtol=1e-5, atol=1e-6)


# -- seed 002 -----------------------------------------------------------------------------------
def housing_like(n=600, seed=4):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8))
    y = (np.abs(x @ rng.normal(size=8)) + rng.standard_t(2, size=n) * 0.3).reshape(-1, 1)
    return x.astype("float64"), y


def split_housing():
    x, y = housing_like()
    mean, std = x[:400].mean(axis=0), x[:400].std(axis=0)
    scaled = (x - mean) / std
    return (scaled[:400], y[:400]), (scaled[400:500], y[400:500]), (scaled[500:], y[500:])


def np_huber(y, p, threshold=1.0):
    error = np.abs(y - p)
    return np.where(error < threshold, error ** 2 / 2, threshold * error - threshold ** 2 / 2)


def housing_model(input_shape):
    return tf.keras.Sequential([
        tf.keras.layers.Dense(30, activation="relu", kernel_initializer="he_normal",
                              input_shape=input_shape),
        tf.keras.layers.Dense(1),
    ])


def test_seed002_custom_loss_function_and_loss_class():
    (X_train_scaled, y_train), (X_valid_scaled, y_valid), _ = split_housing()
    input_shape = X_train_scaled.shape[1:]
    tf.keras.utils.set_random_seed(42)
    model = housing_model(input_shape)
    model.compile(loss=huber_fn, optimizer="nadam", metrics=["mae"])
    history = model.fit(X_train_scaled, y_train, epochs=4,
                        validation_data=(X_valid_scaled, y_valid), verbose=0)
    assert falls(history.history["loss"])
    pred = model.predict(X_valid_scaled, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               np.mean(np_huber(y_valid, pred)), rtol=1e-4)
    np.testing.assert_allclose(history.history["val_mae"][-1],
                               np.mean(np.abs(y_valid - pred)), rtol=1e-4)

    model.compile(loss=HuberLoss(2.), optimizer="nadam")
    history = model.fit(X_train_scaled, y_train, epochs=2,
                        validation_data=(X_valid_scaled, y_valid), verbose=0)
    pred = model.predict(X_valid_scaled, verbose=0)
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               np.mean(np_huber(y_valid, pred, 2.0)), rtol=1e-4)
    assert model.loss.threshold == 2.0
    assert model.loss.get_config() == {"name": "huber_loss", "reduction": "sum_over_batch_size",
                                       "threshold": 2.0}


def test_seed002_custom_activation_initializer_regularizer_constraint_in_training():
    (X_train_scaled, y_train), (X_valid_scaled, y_valid), _ = split_housing()

    def my_l2_regularizer(weights):
        return tf.reduce_sum(0.01 * tf.square(weights))

    def my_relu(z):
        return tf.nn.relu(z)

    def my_he_normal(shape, dtype=tf.float32):
        stddev = tf.sqrt(2. / shape[0])
        return tf.random.normal(shape, stddev=stddev, dtype=dtype)

    def my_positive_weights(weights):
        return tf.where(weights < 0, tf.zeros_like(weights), weights)

    layer = tf.keras.layers.Dense(1, kernel_constraint=my_positive_weights)
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(30, activation=my_relu, kernel_initializer=my_he_normal,
                              kernel_regularizer=my_l2_regularizer,
                              input_shape=X_train_scaled.shape[1:]),
        layer
    ])
    model.compile(loss=huber_fn, optimizer="nadam", metrics=["mae"])
    history = model.fit(X_train_scaled, y_train, epochs=3,
                        validation_data=(X_valid_scaled, y_valid), verbose=0)
    assert falls(history.history["loss"])
    assert (layer.kernel.numpy() >= 0).all()
    # the training loss includes the penalty: evaluate = huber + 0.01 * sum(W^2)
    pred = model.predict(X_train_scaled, verbose=0)
    kernel = model.layers[0].kernel.numpy()
    expected = np.mean(np_huber(y_train, pred)) + 0.01 * np.sum(kernel.astype(np.float64) ** 2)
    np.testing.assert_allclose(model.evaluate(X_train_scaled, y_train, verbose=0)[0], expected,
                               rtol=1e-4)


def test_seed002_metrics_in_fit_custom_streaming_metric_and_weighted_metrics():
    (X_train_scaled, y_train), _, _ = split_housing()
    input_shape = X_train_scaled.shape[1:]
    model = housing_model(input_shape)
    model.compile(loss="mse", optimizer="nadam", metrics=[create_huber(2.0)])
    history = model.fit(X_train_scaled, y_train, epochs=2, verbose=0)
    assert list(history.history) == ["huber_fn", "loss"]

    model = housing_model(input_shape)
    model.compile(loss=create_huber(2.0), optimizer="nadam", metrics=[HuberMetric(2.0)])
    history = model.fit(X_train_scaled, y_train, epochs=2, verbose=0)
    assert falls(history.history["loss"])
    pred = model.predict(X_train_scaled, verbose=0)
    logs = model.evaluate(X_train_scaled, y_train, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["huber_metric"], np.mean(np_huber(y_train, pred, 2.0)),
                               rtol=1e-4)
    np.testing.assert_allclose(logs["loss"], logs["huber_metric"], rtol=1e-4)

    MeanHuberMetric = huber_mean_metric_class()

    model = housing_model(input_shape)
    model.compile(loss=tf.keras.losses.Huber(2.0), optimizer="nadam",
                  weighted_metrics=[MeanHuberMetric(2.0)])
    sample_weight = np.random.default_rng(5).random(len(y_train))
    history = model.fit(X_train_scaled, y_train, epochs=2, sample_weight=sample_weight,
                        verbose=0)
    # the loss divides the weighted sum by the sample count, the weighted metric by the weights'
    # sum: the notes' "why are these close" is this factor, the mean weight
    assert history.history["loss"][0] == pytest.approx(
        history.history["HuberMetric"][0] * sample_weight.mean(), rel=0.05)
    logs = model.evaluate(X_train_scaled, y_train, sample_weight=sample_weight, verbose=0,
                          return_dict=True, batch_size=400)
    pred = model.predict(X_train_scaled, verbose=0)
    per_sample = np_huber(y_train, pred, 2.0)[:, 0]
    np.testing.assert_allclose(logs["HuberMetric"],
                               np.sum(per_sample * sample_weight) / sample_weight.sum(),
                               rtol=1e-4)
    np.testing.assert_allclose(logs["loss"], np.sum(per_sample * sample_weight) / 400, rtol=1e-4)


def test_seed002_reconstructing_regressor_reports_reconstruction_error():
    (X_train_scaled, y_train), _, (X_test_scaled, _) = split_housing()

    model = ReconstructingRegressor(1)
    model.compile(loss="mse", optimizer="nadam")
    history = model.fit(X_train_scaled, y_train, epochs=5, verbose=0)
    y_pred = model.predict(X_test_scaled, verbose=0)
    assert y_pred.shape == (100, 1)
    assert falls(history.history["loss"]) and falls(history.history["reconstruction_error"])


def random_batch(X, y, batch_size=32):
    idx = np.random.randint(len(X), size=batch_size)
    return X[idx], y[idx]


def print_status_bar(step, total, loss, metrics=None):
    metrics = " - ".join([f"{m.name}: {m.result():.4f}" for m in [loss] + (metrics or [])])
    end = "" if step < total else "\n"
    print(f"\r{step}/{total} - " + metrics, end=end)


def test_seed002_custom_training_loop(capsys):
    (X_train, y_train), _, _ = split_housing()
    X_train_scaled = X_train
    l2_reg = tf.keras.regularizers.l2(0.05)
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(30, activation="relu", kernel_initializer="he_normal",
                              kernel_regularizer=l2_reg),
        tf.keras.layers.Dense(1, kernel_regularizer=l2_reg),
    ])
    X_batch, y_batch = random_batch(X_train_scaled, y_train)
    y_pred = model(X_batch, training=True)
    loss_fn = tf.keras.losses.MeanSquaredError()
    np.testing.assert_allclose(loss_fn(y_batch, y_pred),
                               np.mean((y_batch - y_pred.numpy()) ** 2), rtol=1e-5)
    n_epochs = 3
    batch_size = 32
    n_steps = len(X_train) // batch_size
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)
    mean_loss = tf.keras.metrics.Mean(name="mean_loss")
    metrics = [tf.keras.metrics.MeanAbsoluteError()]
    epoch_losses = []
    for epoch in range(1, n_epochs + 1):
        print(f"Epoch {epoch}/{n_epochs}")
        for step in range(1, n_steps + 1):
            X_batch, y_batch = random_batch(X_train_scaled, y_train)
            with tf.GradientTape() as tape:
                y_pred = model(X_batch, training=True)
                main_loss = tf.reduce_mean(loss_fn(y_batch, y_pred))
                loss = tf.add_n([main_loss] + model.losses)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            for variable in model.variables:
                if variable.constraint is not None:
                    variable.assign(variable.constraint(variable))
            mean_loss(loss)
            for metric in metrics:
                metric(y_batch, y_pred)
            print_status_bar(step, n_steps, mean_loss, metrics)
        epoch_losses.append(float(mean_loss.result()))
        for metric in [mean_loss] + metrics:
            metric.reset_states()
    assert falls(epoch_losses)
    out = capsys.readouterr().out
    assert f"\r{n_steps}/{n_steps} - mean_loss: " in out and " - mean_absolute_error: " in out
    assert int(optimizer.iterations.numpy()) == n_epochs * n_steps


def test_seed002_wide_and_deep_model_with_two_optimizers():
    (X_train_scaled, y_train), (X_valid_scaled, y_valid), (X_test_scaled, y_test) = \
        split_housing()

    class WideDeepModel(tf.keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.wideLayer = tf.keras.layers.Dense(1)
            self.deepLayer = [tf.keras.layers.Dense(30, activation="relu",
                                                    kernel_initializer="he_normal")
                              for _ in range(2)]

        def call(self, inputs, **kwargs):
            wide_output = self.wideLayer(inputs)
            Z = inputs
            for l in self.deepLayer:
                Z = l(Z)
            return wide_output + Z

    model = WideDeepModel()
    model.compile(loss="mse", optimizer="nadam")
    history = model.fit(X_train_scaled, y_train, epochs=3,
                        validation_data=(X_valid_scaled, y_valid), verbose=0)
    assert falls(history.history["loss"])
    model.evaluate(X_test_scaled, y_test, verbose=0)

    model = WideDeepModel()
    n_epochs = 3
    n_steps = len(X_train_scaled) // 32
    optimizer_wide = tf.keras.optimizers.SGD(learning_rate=0.01)
    optimizer_deep = tf.keras.optimizers.Adam(learning_rate=0.01)
    loss_fn = tf.keras.losses.MeanSquaredError()
    mean_loss = tf.keras.metrics.Mean(name="mean_loss")
    epoch_losses = []
    for epoch in range(1, n_epochs + 1):
        for step in range(1, n_steps + 1):
            X_batch, y_batch = random_batch(X_train_scaled, y_train)
            with tf.GradientTape(persistent=True) as tape:
                y_pred = model(X_batch, training=True)
                main_loss = tf.reduce_mean(loss_fn(y_batch, y_pred))
                loss = tf.add_n([main_loss] + model.losses)
            gradients_wide = tape.gradient(loss, model.wideLayer.trainable_variables)
            gradients_deep = tape.gradient(loss, model.deepLayer.trainable_variables)
            del tape
            optimizer_wide.apply_gradients(zip(gradients_wide,
                                               model.wideLayer.trainable_variables))
            optimizer_deep.apply_gradients(zip(gradients_deep,
                                               model.deepLayer.trainable_variables))
            mean_loss(loss)
        epoch_losses.append(float(mean_loss.result()))
        mean_loss.reset_states()
    assert falls(epoch_losses)
    # each optimizer made its slots for its own group only
    assert len(optimizer_deep.variables) == 2 + 2 * 4  # iterations, lr, m and v of 4 weights
    assert int(optimizer_wide.iterations.numpy()) == n_epochs * n_steps


def test_seed002_fit_evaluate_predict_and_custom_loops_on_datasets():
    (X_train_scaled, y_train), (X_valid_scaled, y_valid), (X_test, y_test) = split_housing()

    def as_set(x, y):
        return tf.data.Dataset.from_tensor_slices((x.astype("float32"), y.astype("float32"))) \
            .shuffle(100, seed=1).batch(32).prefetch(1)

    train_set, valid_set = as_set(X_train_scaled, y_train), as_set(X_valid_scaled, y_valid)
    test_set = as_set(X_test, y_test)
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(30, activation="relu", kernel_initializer="he_normal",
                              input_shape=X_train_scaled.shape[1:]),
        tf.keras.layers.Dense(1),
    ])
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit(train_set, validation_data=valid_set, epochs=3, verbose=0)
    assert falls(history.history["loss"])
    test_mse = model.evaluate(test_set, verbose=0)
    new_set = test_set.take(3)
    y_pred = model.predict(new_set, verbose=0)
    assert y_pred.shape == (96, 1)
    pred_all = model.predict(X_test, verbose=0)
    np.testing.assert_allclose(test_mse, np.mean((pred_all - y_test) ** 2), rtol=1e-4)

    optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)
    loss_fn = tf.keras.losses.MeanSquaredError()
    for epoch in range(2):
        for X_batch, y_batch in train_set:
            with tf.GradientTape() as tape:
                y_pred = model(X_batch)
                main_loss = tf.reduce_mean(loss_fn(y_batch, y_pred))
                loss = tf.add_n([main_loss] + model.losses)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    assert int(optimizer.iterations.numpy()) == 2 * 13

    @tf.function
    def train_one_epoch(model, optimizer, loss_fn, train_set):
        for X_batch, y_batch in train_set:
            with tf.GradientTape() as tape:
                y_pred = model(X_batch)
                main_loss = tf.reduce_mean(loss_fn(y_batch, y_pred))
                loss = tf.add_n([main_loss] + model.losses)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))

    optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)
    before = model.evaluate(train_set, verbose=0)
    for epoch in range(3):
        train_one_epoch(model, optimizer, loss_fn, train_set)
    assert int(optimizer.iterations.numpy()) == 3 * 13
    assert model.evaluate(train_set, verbose=0) < before


# -- seed 003 -----------------------------------------------------------------------------------
class Linear(keras.layers.Layer):
    def __init__(self, units=32):
        super(Linear, self).__init__()
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                 trainable=True)

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


def mnist_dataset(n=640):
    images, labels = mnist_like(n)
    x_train = images.reshape(n, 784).astype("float32") / 255
    return tf.data.Dataset.from_tensor_slices((x_train, labels)).shuffle(buffer_size=1024) \
        .batch(64)


def test_seed003_training_loops_layer_sparse_mlp_and_compiled_step():
    dataset = mnist_dataset()
    linear_layer = Linear(10)
    loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = tf.keras.optimizers.SGD(learning_rate=1e-1)
    losses = []
    for epoch in range(3):
        for step, (x, y) in enumerate(dataset):
            with tf.GradientTape() as tape:
                logits = linear_layer(x)
                loss = loss_fn(y, logits)
            gradients = tape.gradient(loss, linear_layer.trainable_weights)
            optimizer.apply_gradients(zip(gradients, linear_layer.trainable_weights))
            losses.append(float(loss))
    assert np.mean(losses[-10:]) < np.mean(losses[:10])

    class ActivityRegularization(keras.layers.Layer):
        def __init__(self, rate=1e-2):
            super(ActivityRegularization, self).__init__()
            self.rate = rate

        def call(self, inputs):
            self.add_loss(self.rate * tf.reduce_sum(inputs))
            return inputs

    class SparseMLP(keras.layers.Layer):
        def __init__(self):
            super(SparseMLP, self).__init__()
            self.linear_1 = Linear(32)
            self.regularization = ActivityRegularization(1e-2)
            self.linear_3 = Linear(10)

        def call(self, inputs):
            x = self.linear_1(inputs)
            x = tf.nn.relu(x)
            x = self.regularization(x)
            return self.linear_3(x)

    mlp = SparseMLP()
    optimizer = tf.keras.optimizers.SGD(learning_rate=1e-2)
    losses = []
    for epoch in range(2):
        for step, (x, y) in enumerate(dataset):
            with tf.GradientTape() as tape:
                logits = mlp(x)
                loss = loss_fn(y, logits)
                assert len(mlp.losses) == 1
                loss += sum(mlp.losses)
                gradients = tape.gradient(loss, mlp.trainable_weights)
            optimizer.apply_gradients(zip(gradients, mlp.trainable_weights))
            losses.append(float(loss))
    assert np.mean(losses[-5:]) < np.mean(losses[:5])

    model = keras.Sequential([keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(10)])
    optimizer = tf.keras.optimizers.Adam(learning_rate=1e-3)

    @tf.function
    def train_on_batch(x, y):
        with tf.GradientTape() as tape:
            logits = model(x)
            loss = loss_fn(y, logits)
            gradients = tape.gradient(loss, model.trainable_weights)
        optimizer.apply_gradients(zip(gradients, model.trainable_weights))
        return loss

    losses = [float(train_on_batch(x, y)) for _ in range(3) for x, y in dataset]
    assert np.mean(losses[-5:]) < np.mean(losses[:5])

    x = np.random.random((1024, 10))
    y = np.random.randint(2, size=(1024, 1))
    x = tf.cast(x, tf.float32)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(buffer_size=1024).batch(32)
    model = keras.Sequential([keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(dataset, epochs=1, verbose=0)
    assert set(history.history) == {"accuracy", "loss"}


# -- seed 004 -----------------------------------------------------------------------------------
def get_uncompiled_model():
    inputs = keras.Input(shape=(784,), name='digits')
    x = layers.Dense(64, activation='relu', name='dense_1')(inputs)
    x = layers.Dense(64, activation='relu', name='dense_2')(x)
    outputs = layers.Dense(10, activation='softmax', name='predictions')(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def test_seed004_custom_loss_validation_and_callbacks(tmp_path):
    images, labels = mnist_like(640)
    x_train = images.reshape(640, 784).astype("float32") / 255
    y_train = keras.utils.to_categorical(labels, 10)

    def basic_loss_function(y_true, y_pred):
        return tf.math.reduce_mean(y_true - y_pred)

    model = get_uncompiled_model()
    model.compile(optimizer=keras.optimizers.Adam(), loss=basic_loss_function)
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, verbose=0)
    assert falls(history.history["loss"])

    model = get_uncompiled_model()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    val_dataset = tf.data.Dataset.from_tensor_slices((x_train[:128], y_train[:128])).batch(64)
    history = model.fit(x_train, y_train, batch_size=64, epochs=2, validation_split=0.2,
                        verbose=0)
    assert len(history.history["val_accuracy"]) == 2
    history = model.fit(tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(64).repeat(),
                        epochs=2, steps_per_epoch=3, validation_data=val_dataset,
                        validation_steps=1, verbose=0,
                        callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss",
                                                                 min_delta=1e-2, patience=2),
                                   keras.callbacks.CSVLogger(str(tmp_path / "log.csv"))])
    assert (tmp_path / "log.csv").read_text().splitlines()[0].split(",") == \
        ["epoch", "accuracy", "loss", "val_accuracy", "val_loss"]

    # metrics in a custom loop: update_state, result, reset_states
    train_acc_metric = keras.metrics.CategoricalAccuracy()
    optimizer = keras.optimizers.SGD(learning_rate=1e-2)
    loss_fn = keras.losses.CategoricalCrossentropy()
    dataset = tf.data.Dataset.from_tensor_slices((x_train, y_train)).batch(64)
    for epoch in range(2):
        for x_batch, y_batch in dataset:
            with tf.GradientTape() as tape:
                probs = model(x_batch, training=True)
                loss = loss_fn(y_batch, probs)
            grads = tape.gradient(loss, model.trainable_weights)
            optimizer.apply_gradients(zip(grads, model.trainable_weights))
            train_acc_metric.update_state(y_batch, probs)
        accuracy = float(train_acc_metric.result())
        assert 0 <= accuracy <= 1
        train_acc_metric.reset_states()
    assert float(train_acc_metric.result()) == 0.0
