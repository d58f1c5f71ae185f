"""Seed 002 "保存和加载包含自定义组件的模型" and every save/load of its custom components, as written
(California housing replaced by synthetic data of its shape: 8 features, one target). Each
model is saved to a `.keras` file, loaded with the `custom_objects` the notes pass, and checked
to predict exactly as before and to keep training where it stopped."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from seeds.seed002_components import (
    HuberLoss, HuberMetric, MyDense, ReconstructingRegressor, ResidualBlock, ResidualRegressor,
    create_huber, huber_fn, huber_mean_metric_class)


@pytest.fixture(autouse=True)
def fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(42)


@pytest.fixture
def housing():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) + 0.1 * rng.normal(size=(300, 1))).astype("float32")
    return x[:200], y[:200], x[200:], y[200:]


def housing_model(dense=tf.keras.layers.Dense, **first):
    return tf.keras.Sequential([
        dense(30, activation="relu", input_shape=(8,), **first),
        dense(1),
    ])


def assert_same_model(model, loaded, x):
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def assert_training_continues(model, loaded, x, y, **fit):
    """The loaded optimizer holds the saved state: one more epoch on both gives the same
    weights (a fresh optimizer would not)."""
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) > 0
    for a, b in zip(model.optimizer.variables, loaded.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    model.fit(x, y, epochs=1, shuffle=False, verbose=0, **fit)
    loaded.fit(x, y, epochs=1, shuffle=False, verbose=0, **fit)
    for a, b in zip(model.weights, loaded.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-6)


def test_custom_loss_function_needs_custom_objects_or_registration(tmp_path, housing):
    x, y, x_valid, y_valid = housing
    model = housing_model(kernel_initializer="he_normal")
    model.compile(loss=huber_fn, optimizer="nadam", metrics=["mae"])
    model.fit(x, y, epochs=2, validation_data=(x_valid, y_valid), verbose=0)
    path = tmp_path / "my_model_with_a_custom_loss.keras"
    model.save(path)
    with pytest.raises(TypeError, match="Could not locate function 'huber_fn'"):
        tf.keras.models.load_model(path)
    loaded = tf.keras.models.load_model(path, custom_objects={"huber_fn": huber_fn})
    assert loaded.loss is huber_fn
    assert_same_model(model, loaded, x_valid)
    assert_training_continues(model, loaded, x, y)
    # registered under "Custom>huber_fn", it loads without custom_objects
    registered = keras.saving.register_keras_serializable()(huber_fn)
    try:
        model.compile(loss=registered, optimizer="nadam")
        model.fit(x, y, epochs=1, verbose=0)
        model.save(path)
        assert tf.keras.models.load_model(path).loss is registered
    finally:
        keras.saving.serialization._registered.pop("Custom>huber_fn")
        keras.saving.serialization._registered_names.pop(huber_fn)


def test_create_huber_threshold_is_not_saved_but_huber_loss_threshold_is(tmp_path, housing):
    x, y, x_valid, y_valid = housing
    model = housing_model(kernel_initializer="he_normal")
    model.compile(loss=create_huber(2.0), optimizer="nadam")
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "my_model_with_a_custom_loss_threshold_2.keras"
    model.save(path)
    # the file only names the function: the caller supplies one made with the threshold again
    huber_2 = create_huber(2.0)
    loaded = tf.keras.models.load_model(path, custom_objects={"huber_fn": huber_2})
    assert loaded.loss is huber_2

    model.compile(loss=HuberLoss(2.), optimizer="nadam")
    model.fit(x, y, epochs=2, validation_data=(x_valid, y_valid), verbose=0)
    path = tmp_path / "my_model_with_a_custom_class.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path, custom_objects={"HuberLoss": HuberLoss})
    assert isinstance(loaded.loss, HuberLoss) and loaded.loss.threshold == 2.0
    assert_same_model(model, loaded, x_valid)
    assert_training_continues(model, loaded, x, y)


def test_custom_metrics_are_saved_with_their_threshold(tmp_path, housing):
    x, y, _, _ = housing
    model = housing_model(kernel_initializer="he_normal")
    model.compile(loss=create_huber(2.0), optimizer="nadam", metrics=[HuberMetric(2.0)])
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "my_model_with_a_custom_metric.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(
        path, custom_objects={"huber_fn": create_huber(2.0), "HuberMetric": HuberMetric})
    history = loaded.fit(x, y, epochs=2, verbose=0)
    assert list(history.history) == ["huber_metric", "loss"]
    metric = loaded.metrics[1].metrics[0]
    assert isinstance(metric, HuberMetric) and metric.threshold == 2.0

    # the Mean-based HuberMetric as a weighted metric
    model = housing_model(kernel_initializer="he_normal")
    HuberMeanMetric = huber_mean_metric_class()
    model.compile(loss=tf.keras.losses.Huber(2.0), optimizer="nadam",
                  weighted_metrics=[HuberMeanMetric(2.0)])
    sample_weight = np.random.default_rng(1).random(len(y))
    model.fit(x, y, epochs=2, sample_weight=sample_weight, verbose=0)
    path = tmp_path / "my_model_with_a_custom_metric_v2.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path, custom_objects={"HuberMetric": HuberMeanMetric})
    assert loaded.loss.get_config()["delta"] == 2.0
    assert_same_model(model, loaded, x)
    history = loaded.fit(x, y, epochs=2, verbose=0)
    assert "HuberMetric" in history.history


def test_custom_layer_with_an_activation(tmp_path, housing):
    x, y, x_valid, y_valid = housing
    model = housing_model(dense=MyDense)
    model.compile(loss="mse", optimizer="nadam")
    model.fit(x, y, epochs=2, validation_data=(x_valid, y_valid), verbose=0)
    path = tmp_path / "my_model_with_a_custom_layer.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path, custom_objects={"MyDense": MyDense})
    assert loaded.layers[0].activation is tf.keras.activations.relu
    assert_same_model(model, loaded, x_valid)
    assert_training_continues(model, loaded, x, y)


def test_residual_regressor_subclassed_model(tmp_path, housing):
    x, y, x_test, _ = housing
    model = ResidualRegressor(1)
    model.compile(loss="mse", optimizer="nadam")
    model.fit(x, y, epochs=2, verbose=0)
    path = tmp_path / "my_custom_model.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(
        path, custom_objects={"ResidualRegressor": ResidualRegressor,
                              "ResidualBlock": ResidualBlock})
    assert type(loaded) is ResidualRegressor and loaded.output_dim == 1
    assert_same_model(model, loaded, x_test[:3])
    assert_training_continues(model, loaded, x, y)
    # save_weights / load_weights into a new instance
    weights_path = tmp_path / "my_custom_model.weights.h5"
    model.save_weights(weights_path)
    other = ResidualRegressor(1)
    other(x[:1])
    other.load_weights(weights_path)
    np.testing.assert_array_equal(other.predict(x_test, verbose=0),
                                  model.predict(x_test, verbose=0))


def test_reconstructing_regressor(tmp_path, housing):
    x, y, _, _ = housing
    model = ReconstructingRegressor(1)
    model.compile(loss="mse", optimizer="nadam")
    history = model.fit(x, y, epochs=2, verbose=0)
    assert "reconstruction_error" in history.history
    path = tmp_path / "reconstructing.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(
        path, custom_objects={"ReconstructingRegressor": ReconstructingRegressor})
    assert_same_model(model, loaded, x)
    assert_training_continues(model, loaded, x, y)


def test_lambda_layer_needs_safe_mode_off(tmp_path, housing):
    x, y, _, _ = housing
    exponential_layer = tf.keras.layers.Lambda(lambda x: tf.exp(x))
    model = tf.keras.Sequential([
        tf.keras.layers.Dense(30, activation="relu", input_shape=(8,)),
        tf.keras.layers.Dense(1),
        exponential_layer
    ])
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, np.exp(y / 4), epochs=1, verbose=0)
    path = tmp_path / "exponential.keras"
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode=False"):
        tf.keras.models.load_model(path)
    # the lambda's global names come from the script (`__main__`) or from custom_objects
    loaded = tf.keras.models.load_model(path, safe_mode=False, custom_objects={"tf": tf})
    assert_same_model(model, loaded, x)
