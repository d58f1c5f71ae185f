"""BatchNormalization, LayerNormalization and UnitNormalization: the layer harness for each, then
NumPy formulas for training and inference, the moving statistics after several training calls
(eagerly and in a tf.function), frozen layers, masks, dtypes, configs and errors."""
import warnings

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tests.keras_harness import check_gradients, check_layer

L = keras.layers


def _ln_rms(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return L.LayerNormalization(rms_scaling=True, **kw)


# name -> (make, input shape, trainable weights, non-trainable weights)
HARNESS = {
    "bn": (lambda **kw: L.BatchNormalization(**kw), (4, 3), 2, 2),
    "bn_axis1": (lambda **kw: L.BatchNormalization(axis=1, momentum=0.9, **kw), (2, 3, 4), 2, 2),
    "bn_no_center_scale": (lambda **kw: L.BatchNormalization(center=False, scale=False, **kw),
                           (4, 3), 0, 2),
    "bn_renorm": (lambda **kw: L.BatchNormalization(renorm=True, **kw), (4, 3), 2, 5),
    "bn_synchronized": (lambda **kw: L.BatchNormalization(synchronized=True, **kw), (4, 2, 3),
                        2, 2),
    "ln": (lambda **kw: L.LayerNormalization(**kw), (3, 5), 2, 0),
    "ln_axes": (lambda **kw: L.LayerNormalization(axis=[1, 2], **kw), (2, 3, 4), 2, 0),
    "ln_axis1": (lambda **kw: L.LayerNormalization(axis=1, epsilon=1e-5, **kw), (2, 3, 4), 2, 0),
    "ln_no_center": (lambda **kw: L.LayerNormalization(center=False, **kw), (3, 5), 1, 0),
    "ln_rms": (_ln_rms, (3, 5), 1, 0),
    "unit": (lambda **kw: L.UnitNormalization(**kw), (3, 5), 0, 0),
    "unit_axes": (lambda **kw: L.UnitNormalization(axis=[1, 2], **kw), (2, 3, 4), 0, 0),
}


@pytest.mark.filterwarnings("ignore:You passed `rms_scaling=True`:UserWarning")
@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    make, shape, trainable, non_trainable = HARNESS[name]
    check_layer(make, shape, expected_output_shape=shape, trainable_weights=trainable,
                non_trainable_weights=non_trainable)


def _x(shape, seed=0, scale=1.0, shift=0.0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal(shape) * scale + shift).astype(np.float32)


# -- BatchNormalization ----------------------------------------------------------------------
def test_bn_weights_in_keras_order():
    layer = L.BatchNormalization()
    layer.build((None, 3))
    assert [w.path for w in layer.weights] == [
        f"{layer.name}/gamma", f"{layer.name}/beta", f"{layer.name}/moving_mean",
        f"{layer.name}/moving_variance"]
    assert [w.trainable for w in layer.weights] == [True, True, False, False]
    np.testing.assert_array_equal(layer.get_weights()[0], np.ones(3))
    np.testing.assert_array_equal(layer.get_weights()[3], np.ones(3))


def test_bn_training_uses_batch_statistics_inference_moving_ones():
    x = _x((16, 3), scale=3.0, shift=2.0)
    layer = L.BatchNormalization(epsilon=1e-3)
    layer.build(x.shape)
    gamma, beta = np.array([1.5, 0.5, 2.0], np.float32), np.array([0.1, -0.2, 0.3], np.float32)
    layer.set_weights([gamma, beta, np.zeros(3), np.ones(3)])
    y = layer(x, training=True).numpy()
    mean, var = x.mean(0), x.var(0)
    np.testing.assert_allclose(y, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta,
                               rtol=1e-5, atol=1e-5)
    mm, mv = layer.moving_mean.numpy(), layer.moving_variance.numpy()
    y = layer(x, training=False).numpy()
    np.testing.assert_allclose(y, (x - mm) / np.sqrt(mv + 1e-3) * gamma + beta,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(layer(x).numpy(), y)  # inference is the default
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)


@pytest.mark.parametrize("compiled", [False, True])
def test_bn_moving_statistics_after_n_training_calls(compiled):
    momentum, calls = 0.9, 5
    layer = L.BatchNormalization(axis=1, momentum=momentum)
    run = tf.function(lambda t: layer(t, training=True)) if compiled else \
        (lambda t: layer(t, training=True))
    mm, mv = np.zeros(3), np.ones(3)
    for i in range(calls):
        x = _x((6, 3, 2), seed=i, scale=2.0, shift=i)
        run(tf.constant(x))
        mean, var = x.mean(axis=(0, 2)), x.var(axis=(0, 2))
        mm = mm * momentum + mean * (1 - momentum)
        mv = mv * momentum + var * (1 - momentum)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), mv, rtol=1e-5, atol=1e-6)


def test_bn_frozen_layer_runs_in_inference_mode():
    x = _x((8, 3), shift=5.0)
    layer = L.BatchNormalization()
    layer(x, training=True)
    mm = layer.moving_mean.numpy().copy()
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    np.testing.assert_array_equal(layer(x, training=True).numpy(), layer(x, training=False).numpy())
    np.testing.assert_array_equal(layer.moving_mean.numpy(), mm)


def test_bn_training_gradient_against_finite_differences():
    check_gradients(lambda **kw: L.BatchNormalization(**kw), _x((5, 3), shift=1.0),
                    {"training": True})
    check_gradients(lambda **kw: L.BatchNormalization(axis=1, **kw), _x((3, 2, 4)),
                    {"training": True})


def test_bn_masked_moments():
    x = _x((2, 4, 3), scale=2.0)
    mask = np.array([[True, True, False, True], [False, True, True, False]])
    t = tf.constant(x)
    t._keras_mask = tf.constant(mask)
    layer = L.BatchNormalization(momentum=0.0)
    y = layer(t, training=True)
    np.testing.assert_array_equal(y._keras_mask.numpy(), mask)
    selected = x[mask]
    mean = selected.sum(0) / (mask.sum() + 1e-7)
    var = np.square(selected - mean).sum(0) / (mask.sum() + 1e-7)
    np.testing.assert_allclose(layer.moving_mean.numpy(), mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), var, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(y.numpy(), (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="one dimension less than the inputs"):
        L.BatchNormalization()(x, mask=tf.constant(np.ones((2, 4, 3), bool)))


def test_bn_dtypes():
    x = _x((6, 3))
    layer = L.BatchNormalization(dtype="mixed_float16")
    y = layer(x, training=True)
    assert y.dtype == tf.float16
    assert all(w.dtype == tf.float32 for w in layer.weights)
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(y.numpy().astype(np.float32), ref, rtol=2e-3, atol=2e-3)
    layer64 = L.BatchNormalization(dtype="float64")
    assert layer64(x.astype(np.float64), training=True).dtype == tf.float64


def test_bn_renorm_statistics():
    x = _x((10, 2), scale=2.0, shift=1.0)
    layer = L.BatchNormalization(renorm=True, momentum=0.5, renorm_momentum=0.8,
                                 renorm_clipping={"rmax": 3.0, "rmin": 0.5, "dmax": 1.0})
    y = layer(x, training=True).numpy()
    names = [w.name for w in layer.weights]
    assert names == ["gamma", "beta", "moving_mean", "moving_variance", "moving_stddev",
                     "renorm_mean", "renorm_stddev"]
    mean, std = x.mean(0), np.sqrt(x.var(0) + 1e-3)
    r = np.clip(std / 1.0, 0.5, 3.0)
    d = np.clip((mean - 0.0) / 1.0, -1.0, 1.0)
    np.testing.assert_allclose(y, (x - mean) / std * r + d, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(layer.renorm_mean.numpy(), 0.2 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer.moving_stddev.numpy(), 0.5 + 0.5 * std, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), (0.5 + 0.5 * std) ** 2 - 1e-3,
                               rtol=1e-5)
    with pytest.raises(ValueError, match="invalid keys"):
        L.BatchNormalization(renorm=True, renorm_clipping={"rmid": 1.0})


def test_bn_config_symbolic_and_errors():
    layer = L.BatchNormalization(axis=1, momentum=0.8, gamma_regularizer="l2",
                                 beta_constraint="non_neg", synchronized=True)
    config = layer.get_config()
    assert list(config)[3:] == [
        "axis", "momentum", "epsilon", "center", "scale", "beta_initializer",
        "gamma_initializer", "moving_mean_initializer", "moving_variance_initializer",
        "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
        "synchronized", "renorm", "renorm_clipping", "renorm_momentum"]
    assert config["gamma_initializer"]["class_name"] == "Ones"
    assert config["gamma_regularizer"]["class_name"] == "L2"
    assert config["beta_constraint"]["class_name"] == "NonNeg"
    assert config["synchronized"] is True
    out = L.BatchNormalization()(keras.Input((5, 4)))
    assert out.shape == (None, 5, 4)
    layer = L.BatchNormalization()
    layer(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="out of bounds"):
        L.BatchNormalization(axis=3).compute_output_shape((None, 3))
    bn = L.BatchNormalization(gamma_regularizer=keras.regularizers.L2(0.5))
    bn(np.ones((2, 3), np.float32))
    np.testing.assert_allclose(bn.losses[0].numpy(), 0.5 * 3)


# -- LayerNormalization ----------------------------------------------------------------------
def _layer_norm(x, axes, gamma=None, beta=None, eps=1e-3):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps)
    if gamma is not None:
        y = y * gamma
    if beta is not None:
        y = y + beta
    return y


def test_ln_values():
    x = _x((3, 4, 5), scale=2.0, shift=1.0)
    layer = L.LayerNormalization()
    layer.build(x.shape)
    gamma, beta = _x((5,), seed=1), _x((5,), seed=2)
    layer.set_weights([gamma, beta])
    np.testing.assert_allclose(layer(x).numpy(), _layer_norm(x, -1, gamma, beta), rtol=1e-5,
                               atol=1e-5)
    layer = L.LayerNormalization(axis=[2, 1], epsilon=1e-5)
    layer.build(x.shape)
    assert layer.axis == [1, 2]
    gamma, beta = _x((4, 5), seed=3), _x((4, 5), seed=4)
    layer.set_weights([gamma, beta])
    np.testing.assert_allclose(layer(x).numpy(), _layer_norm(x, (1, 2), gamma, beta, 1e-5),
                               rtol=1e-5, atol=1e-5)
    layer = L.LayerNormalization(axis=1)
    layer.build(x.shape)
    gamma = _x((4,), seed=5)
    layer.set_weights([gamma, np.zeros(4)])
    np.testing.assert_allclose(layer(x).numpy(), _layer_norm(x, 1, gamma[:, None]), rtol=1e-5,
                               atol=1e-5)


def test_ln_rms_scaling_and_dtypes():
    x = _x((3, 6), shift=1.0)
    with pytest.warns(UserWarning, match="rms_scaling"):
        layer = L.LayerNormalization(rms_scaling=True)
    np.testing.assert_allclose(layer(x).numpy(), x / np.sqrt(x.var(-1, keepdims=True) + 1e-3),
                               rtol=1e-5)
    assert [w.name for w in layer.weights] == ["gamma"]
    assert layer.get_config()["rms_scaling"] is True
    half = L.LayerNormalization(dtype="mixed_float16")
    y = half(x.astype(np.float16))
    assert y.dtype == tf.float16
    np.testing.assert_allclose(y.numpy().astype(np.float32), _layer_norm(x, -1), atol=5e-3)


def test_ln_config_and_errors():
    layer = L.LayerNormalization(axis=(1, 2))
    assert layer.get_config()["axis"] == [1, 2]
    layer = L.LayerNormalization()
    assert layer.get_config()["axis"] == -1
    layer(np.ones((2, 3), np.float32))
    assert layer.get_config()["axis"] == [-1]
    assert list(layer.get_config())[3:] == [
        "axis", "epsilon", "center", "scale", "rms_scaling", "beta_initializer",
        "gamma_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint",
        "gamma_constraint"]
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints"):
        L.LayerNormalization(axis="x")
    with pytest.raises(ValueError, match="out of bounds"):
        L.LayerNormalization(axis=2).compute_output_shape((None, 3))
    assert L.LayerNormalization()(keras.Input((4, 7))).shape == (None, 4, 7)


# -- UnitNormalization -----------------------------------------------------------------------
def test_unit_normalization():
    x = _x((4, 3, 5))
    y = L.UnitNormalization()(x).numpy()
    np.testing.assert_allclose(y, x / np.linalg.norm(x, axis=-1, keepdims=True), rtol=1e-5)
    y = L.UnitNormalization(axis=(1, 2))(x).numpy()
    np.testing.assert_allclose(np.sqrt(np.square(y).sum(axis=(1, 2))), np.ones(4), rtol=1e-5)
    zeros = L.UnitNormalization()(np.zeros((2, 3), np.float32)).numpy()
    np.testing.assert_array_equal(zeros, np.zeros((2, 3)))
    assert L.UnitNormalization(axis=(1, 2)).get_config()["axis"] == [1, 2]
    assert L.UnitNormalization().built
    with pytest.raises(TypeError, match="expected an int or a list/tuple of ints"):
        L.UnitNormalization(axis=None)
    with pytest.raises(ValueError, match="out of bounds"):
        L.UnitNormalization(axis=3).compute_output_shape((None, 3))
