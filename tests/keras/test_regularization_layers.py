"""Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout and
ActivityRegularization: the layer harness for each, then training-mode behaviour against NumPy
formulas and statistics (zero fractions within binomial bounds, means preserved), seeds,
tf.function, masks and errors."""
import math

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tests.keras_harness import check_layer

L = keras.layers

HARNESS = {
    "dropout": (lambda **kw: L.Dropout(0.5, seed=1, **kw), (3, 4)),
    "dropout_zero": (lambda **kw: L.Dropout(0.0, **kw), (3, 4)),
    "dropout_noise_shape": (lambda **kw: L.Dropout(0.3, noise_shape=(None, 1, 5), **kw),
                            (2, 3, 5)),
    "spatial1d": (lambda **kw: L.SpatialDropout1D(0.4, seed=2, **kw), (2, 3, 4)),
    "spatial2d": (lambda **kw: L.SpatialDropout2D(0.4, **kw), (2, 3, 3, 2)),
    "spatial2d_first": (lambda **kw: L.SpatialDropout2D(0.4, data_format="channels_first", **kw),
                        (2, 2, 3, 3)),
    "spatial3d": (lambda **kw: L.SpatialDropout3D(0.2, seed=4, **kw), (1, 2, 2, 2, 3)),
    "gaussian_noise": (lambda **kw: L.GaussianNoise(0.2, seed=3, **kw), (3, 4)),
    "gaussian_dropout": (lambda **kw: L.GaussianDropout(0.3, **kw), (3, 4)),
    "alpha_dropout": (lambda **kw: L.AlphaDropout(0.3, seed=5, **kw), (3, 4)),
    "activity_regularization": (lambda **kw: L.ActivityRegularization(0.1, 0.01, **kw), (3, 4)),
}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    make, shape = HARNESS[name]
    out = check_layer(make, shape, expected_output_shape=shape)
    assert tuple(out.shape) == shape


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# -- Dropout --------------------------------------------------------------------------------
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_zero_fraction_scale_and_mean(rate):
    n = 200_000
    x = np.ones((n // 100, 100), np.float32)
    y = L.Dropout(rate, seed=11)(x, training=True).numpy()
    dropped = np.mean(y == 0)
    sigma = math.sqrt(rate * (1 - rate) / n)
    assert abs(dropped - rate) < 6 * sigma, (dropped, rate)
    kept = y[y != 0]
    np.testing.assert_allclose(kept, np.float32(1) * np.float32(1 / (1 - rate)), rtol=1e-6)
    # E[y] = x: the mean of n draws of a value with variance rate / (1 - rate)
    assert abs(y.mean() - 1) < 6 * math.sqrt(rate / (1 - rate) / n)


def test_dropout_keeps_values_exactly_scaled():
    x = _x((50, 40))
    y = L.Dropout(0.25, seed=3)(x, training=True).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / np.float32(0.75), rtol=1e-6)
    assert 0.15 < 1 - kept.mean() < 0.35


def test_dropout_inference_and_rate_zero_are_identity():
    x = tf.constant(_x((4, 5)))
    d = L.Dropout(0.5)
    assert d(x) is x
    assert d(x, training=False) is x
    assert L.Dropout(0.0)(x, training=True) is x
    np.testing.assert_array_equal(L.Dropout(1.0)(x, training=True).numpy(), np.zeros((4, 5)))


def test_dropout_noise_shape_none_entries_take_the_input_size():
    x = np.ones((64, 3, 6), np.float32)
    layer = L.Dropout(0.5, noise_shape=(None, 1, None), seed=7)
    y = layer(x, training=True).numpy()
    # one draw per (batch, feature): equal along axis 1
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1, :], y.shape))
    assert 0 < np.mean(y == 0) < 1
    # the batch size may change between calls
    assert layer(np.ones((5, 3, 6), np.float32), training=True).shape == (5, 3, 6)


def test_dropout_seed_reproducible_and_each_call_different():
    x = np.ones((20, 30), np.float32)
    a, b = L.Dropout(0.5, seed=42), L.Dropout(0.5, seed=42)
    first_a, second_a = a(x, training=True).numpy(), a(x, training=True).numpy()
    first_b = b(x, training=True).numpy()
    np.testing.assert_array_equal(first_a, first_b)
    assert not np.array_equal(first_a, second_a)
    unseeded = [L.Dropout(0.5)(x, training=True).numpy() for _ in range(2)]
    assert not np.array_equal(*unseeded)


def test_dropout_in_tf_function_advances_like_eager():
    x = np.ones((10, 10), np.float32)
    eager = L.Dropout(0.5, seed=9)
    compiled_layer = L.Dropout(0.5, seed=9)
    step = tf.function(lambda t: compiled_layer(t, training=True))
    for _ in range(3):
        np.testing.assert_array_equal(step(tf.constant(x)).numpy(),
                                      eager(x, training=True).numpy())


def test_dropout_gradient_is_the_scaled_mask():
    x = tf.constant(_x((6, 7)))
    layer = L.Dropout(0.4, seed=1)
    w = _x((6, 7), seed=2)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * w)
    grad = tape.gradient(loss, x).numpy()
    kept = y.numpy() != 0
    np.testing.assert_allclose(grad, np.where(kept, w / np.float32(0.6), 0), rtol=1e-6)


def test_dropout_passes_masks_and_symbolic_shapes():
    x = tf.constant(_x((2, 3, 4)))
    mask = tf.constant([[True, False, True], [True, True, False]])
    x._keras_mask = mask
    out = L.Dropout(0.5)(x, training=True)
    np.testing.assert_array_equal(out._keras_mask.numpy(), mask.numpy())
    inputs = keras.Input((3, 4))
    assert L.Dropout(0.5)(inputs).shape == (None, 3, 4)
    model = keras.Sequential([keras.Input((4,)), L.Dense(3), L.Dropout(0.5)])
    assert model(np.ones((2, 4), np.float32)).shape == (2, 3)
    assert len(model.weights) == 2


def test_dropout_config_and_errors():
    layer = L.Dropout(0.3, noise_shape=[None, 1], seed=5)
    config = layer.get_config()
    assert (config["rate"], config["seed"], config["noise_shape"]) == (0.3, 5, (None, 1))
    assert layer.built and layer.weights == []
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
            L.Dropout(bad)
    with pytest.raises(ValueError, match="Expected a tuple or list of integers"):
        L.Dropout(0.5, noise_shape="abc")
    with pytest.raises(ValueError, match="integers or None"):
        L.Dropout(0.5, noise_shape=(None, 1.5))
    with pytest.raises(ValueError, match="positive integers"):
        L.Dropout(0.5, noise_shape=(None, 0))
    with pytest.raises(ValueError, match="must be an integer"):
        L.Dropout(0.5, seed="x")


# -- SpatialDropout --------------------------------------------------------------------------
@pytest.mark.parametrize("layer_fn,shape,shared_axes", [
    (lambda: L.SpatialDropout1D(0.5, seed=1), (16, 5, 8), (1,)),
    (lambda: L.SpatialDropout2D(0.5, seed=1), (16, 3, 4, 8), (1, 2)),
    (lambda: L.SpatialDropout2D(0.5, data_format="channels_first", seed=1), (16, 8, 3, 4),
     (2, 3)),
    (lambda: L.SpatialDropout3D(0.5, seed=1), (8, 2, 3, 2, 8), (1, 2, 3)),
    (lambda: L.SpatialDropout3D(0.5, data_format="channels_first", seed=1), (8, 8, 2, 3, 2),
     (2, 3, 4)),
])
def test_spatial_dropout_drops_whole_feature_maps(layer_fn, shape, shared_axes):
    x = np.ones(shape, np.float32)
    y = layer_fn()(x, training=True).numpy()
    first = y[tuple(slice(0, 1) if a in shared_axes else slice(None) for a in range(len(shape)))]
    np.testing.assert_array_equal(y, np.broadcast_to(first, shape))
    assert set(np.unique(y)) == {0.0, 2.0}


def test_spatial_dropout_config_and_input_rank():
    layer = L.SpatialDropout2D(0.2, seed=3, name="sd")
    assert layer.get_config() == {"rate": 0.2, "seed": 3, "name": "sd", "dtype": "float32",
                                  "data_format": "channels_last"}
    assert L.SpatialDropout1D(0.1).get_config().keys() == {"rate", "seed", "name", "dtype"}
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        L.SpatialDropout1D(0.5)(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError):
        L.SpatialDropout1D(0.5, input_shape=(3, 4))  # no **kwargs in Keras 3 either
    with pytest.raises(ValueError, match="data_format"):
        L.SpatialDropout2D(0.5, data_format="channels_middle")


# -- noise layers -----------------------------------------------------------------------------
def test_gaussian_noise_statistics():
    x = _x((400, 500))
    layer = L.GaussianNoise(0.3, seed=4)
    noise = layer(x, training=True).numpy() - x
    assert abs(noise.mean()) < 0.005
    assert abs(noise.std() - 0.3) < 0.005
    assert layer(x, training=False).numpy() is not None
    np.testing.assert_array_equal(layer(x).numpy(), x)
    with pytest.raises(ValueError, match="`stddev`"):
        L.GaussianNoise(1.5)


def test_gaussian_dropout_statistics():
    rate = 0.3
    x = np.full((400, 500), 2.0, np.float32)
    factor = L.GaussianDropout(rate, seed=8)(x, training=True).numpy() / 2.0
    assert abs(factor.mean() - 1) < 0.01
    assert abs(factor.std() - math.sqrt(rate / (1 - rate))) < 0.01
    np.testing.assert_array_equal(L.GaussianDropout(rate)(x).numpy(), x)


def test_alpha_dropout_affine_formula():
    rate = 0.2
    x = _x((300, 400))
    y = L.AlphaDropout(rate, seed=6)(x, training=True).numpy().astype(np.float64)
    alpha_p = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * rate
    dropped_value = a * alpha_p + b
    dropped = np.isclose(y, dropped_value, rtol=0, atol=1e-6)
    np.testing.assert_allclose(y[~dropped], a * x[~dropped] + b, rtol=1e-5, atol=1e-6)
    n = x.size
    assert abs(dropped.mean() - rate) < 6 * math.sqrt(rate * (1 - rate) / n)
    # the point of alpha dropout: zero mean / unit variance inputs keep those moments
    assert abs(y.mean()) < 0.02 and abs(y.var() - 1) < 0.03
    np.testing.assert_array_equal(L.AlphaDropout(rate)(x).numpy(), x)


def test_alpha_dropout_noise_shape():
    y = L.AlphaDropout(0.5, noise_shape=(None, 1), seed=1)(np.zeros((40, 6), np.float32),
                                                          training=True).numpy()
    np.testing.assert_array_equal(y, np.broadcast_to(y[:, :1], y.shape))
    assert len(np.unique(y)) == 2


# -- ActivityRegularization ------------------------------------------------------------------
def test_activity_regularization_loss_is_divided_by_the_batch_size():
    x = _x((5, 4))
    layer = L.ActivityRegularization(l1=0.1, l2=0.02)
    y = layer(x)
    np.testing.assert_array_equal(y.numpy(), x)
    expected = (0.1 * np.abs(x).sum() + 0.02 * np.square(x).sum()) / 5
    assert len(layer.losses) == 1
    np.testing.assert_allclose(layer.losses[0].numpy(), expected, rtol=1e-6)
    layer(x[:2])
    assert len(layer.losses) == 1  # reset on each call
    np.testing.assert_allclose(layer.losses[0].numpy(),
                               (0.1 * np.abs(x[:2]).sum() + 0.02 * np.square(x[:2]).sum()) / 2,
                               rtol=1e-6)


def test_activity_regularization_in_a_model_and_config():
    model = keras.Sequential([keras.Input((3,)), L.Dense(2, kernel_initializer="ones"),
                              L.ActivityRegularization(l2=0.5)])
    x = np.ones((4, 3), np.float32)
    out = model(x).numpy()
    np.testing.assert_allclose(model.losses[0].numpy(), 0.5 * np.square(out).sum() / 4,
                               rtol=1e-6)
    layer = L.ActivityRegularization(l1=0.25)
    config = layer.get_config()
    assert "activity_regularizer" not in config
    assert (config["l1"], config["l2"]) == (0.25, 0.0)
    clone = L.ActivityRegularization.from_config(config)
    assert (clone.l1, clone.l2) == (0.25, 0.0)
    assert clone.activity_regularizer.get_config() == {"l1": 0.25, "l2": 0.0}
