"""GroupNormalization and TimeDistributed: the layer harness for each, then NumPy formulas
(group statistics on every axis layout, per-time-step application), masks passed to the
wrapped layer and through, training-mode batch statistics per time step, symbolic shapes,
weight paths, configs and errors."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tests.keras_harness import check_layer

L = keras.layers
RNG = np.random.default_rng(5)


class _MaskEcho(L.Layer):
    """Test layer: multiplies each sample by its mask (to see which mask it was given)."""

    def call(self, inputs, mask=None):
        if mask is None:
            return inputs
        return inputs * tf.cast(mask, inputs.dtype)[:, None]


# (the wrapped layer gets the dtype too: the harness checks gradients in float64)
HARNESS = {
    "gn": (lambda **kw: L.GroupNormalization(groups=2, **kw), (2, 3, 4), 2, 0),
    "gn_instance": (lambda **kw: L.GroupNormalization(groups=-1, **kw), (2, 3, 4), 2, 0),
    "gn_axis1": (lambda **kw: L.GroupNormalization(groups=3, axis=1, epsilon=1e-2, **kw),
                 (2, 3, 2, 2), 2, 0),
    "gn_plain": (lambda **kw: L.GroupNormalization(groups=1, center=False, scale=False, **kw),
                 (2, 3, 4), 0, 0),
    "td_dense": (lambda **kw: L.TimeDistributed(L.Dense(3, **kw), **kw), (2, 4, 5), 2, 0),
    "td_rank4": (lambda **kw: L.TimeDistributed(L.Dense(2, activation="tanh", **kw), **kw),
                 (2, 3, 2, 4), 2, 0),
    "td_flatten": (lambda **kw: L.TimeDistributed(L.Flatten(**kw), **kw), (2, 3, 2, 2), 0, 0),
    "td_layer_norm": (lambda **kw: L.TimeDistributed(L.LayerNormalization(**kw), **kw),
                      (2, 3, 4), 2, 0),
    "td_batch_norm": (lambda **kw: L.TimeDistributed(L.BatchNormalization(**kw), **kw),
                      (2, 3, 4), 2, 2),
}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    make, shape, trainable, non_trainable = HARNESS[name]
    check_layer(make, shape, trainable_weights=trainable, non_trainable_weights=non_trainable)


# -- GroupNormalization ----------------------------------------------------------------------
def np_group_norm(x, groups, axis, gamma=None, beta=None, epsilon=1e-3):
    x = np.moveaxis(x.astype(np.float64), axis, -1)
    shape = x.shape
    g = x.reshape(shape[0], -1, groups, shape[-1] // groups)
    mean = g.mean(axis=(1, 3), keepdims=True)
    var = g.var(axis=(1, 3), keepdims=True)
    out = ((g - mean) / np.sqrt(var + epsilon)).reshape(shape)
    if gamma is not None:
        out = out * gamma
    if beta is not None:
        out = out + beta
    return np.moveaxis(out, -1, axis)


@pytest.mark.parametrize("shape,groups,axis", [((2, 5, 6), 3, -1), ((2, 3, 4, 6), 2, -1),
                                               ((2, 6, 3, 2), 3, 1), ((3, 4, 6), -1, -1),
                                               ((2, 4, 6, 3), 1, 2)])
def test_group_norm_matches_numpy(shape, groups, axis):
    x = (RNG.normal(size=shape) * 3 + 2).astype(np.float32)
    layer = L.GroupNormalization(groups=groups, axis=axis)
    layer(x)
    channels = shape[axis]
    gamma = RNG.normal(size=channels).astype(np.float32)
    beta = RNG.normal(size=channels).astype(np.float32)
    layer.set_weights([gamma, beta])
    groups = channels if groups == -1 else groups
    np.testing.assert_allclose(layer(x).numpy(), np_group_norm(x, groups, axis, gamma, beta),
                               rtol=1e-4, atol=1e-5)


def test_group_norm_unknown_dims_in_a_function_and_symbolic():
    layer = L.GroupNormalization(groups=2)
    fn = tf.function(lambda t: layer(t),
                     input_signature=[tf.TensorSpec([None, None, 4], tf.float32)])
    x = RNG.normal(size=(3, 5, 4)).astype(np.float32)
    np.testing.assert_allclose(fn(tf.constant(x)).numpy(), np_group_norm(x, 2, -1),
                               rtol=1e-4, atol=1e-5)
    out = L.GroupNormalization(groups=4)(keras.Input((None, 8)))
    assert tuple(out.shape) == (None, None, 8)


def test_group_norm_float16_and_config():
    layer = L.GroupNormalization(groups=2, dtype="mixed_float16")
    x = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    out = layer(x)
    assert out.dtype == tf.float16 and layer.gamma.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), np_group_norm(x, 2, -1), rtol=1e-2, atol=1e-2)
    config = L.GroupNormalization(groups=4, axis=1, epsilon=1e-5, center=False,
                                  gamma_regularizer="l2").get_config()
    assert {k: config[k] for k in ("groups", "axis", "epsilon", "center", "scale")} == \
        {"groups": 4, "axis": 1, "epsilon": 1e-5, "center": False, "scale": True}
    assert L.GroupNormalization.from_config(config).get_config() == config


def test_group_norm_errors():
    with pytest.raises(ValueError, match="cannot be more than the number of channels"):
        L.GroupNormalization(groups=8)(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="must be a multiple"):
        L.GroupNormalization(groups=3)(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match="should have a defined dimension"):
        L.GroupNormalization(groups=2)(keras.Input((None,)))
    layer = L.GroupNormalization(groups=2)
    layer(np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError):
        layer(np.zeros((2, 6), np.float32))


# -- TimeDistributed -------------------------------------------------------------------------
def test_time_distributed_dense_equals_per_step_dense():
    x = RNG.normal(size=(3, 5, 4)).astype(np.float32)
    dense = L.Dense(2, activation="relu")
    td = L.TimeDistributed(dense, name="td")
    out = td(x)
    steps = np.stack([dense(x[:, i]).numpy() for i in range(5)], axis=1)
    np.testing.assert_allclose(out.numpy(), steps, rtol=1e-6, atol=1e-7)
    kernel, bias = dense.get_weights()
    np.testing.assert_allclose(out.numpy(), np.maximum(x @ kernel + bias, 0), rtol=1e-5,
                               atol=1e-6)
    assert [w.path for w in td.weights] == ["td/dense/kernel", "td/dense/bias"] or \
        [w.path for w in td.weights] == [f"td/{dense.name}/kernel", f"td/{dense.name}/bias"]
    assert td.compute_output_shape((None, 5, 4)) == (None, 5, 2)


def test_time_distributed_unknown_time_and_symbolic():
    td = L.TimeDistributed(L.Dense(3))
    inputs = keras.Input((None, 4))
    out = td(inputs)
    assert tuple(out.shape) == (None, None, 3)
    model = keras.Model(inputs, out)
    x = RNG.normal(size=(2, 7, 4)).astype(np.float32)
    kernel, bias = td.layer.get_weights()
    np.testing.assert_allclose(model(x).numpy(), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    fn = tf.function(lambda t: td(t),
                     input_signature=[tf.TensorSpec([None, None, 4], tf.float32)])
    np.testing.assert_allclose(fn(tf.constant(x)).numpy(), x @ kernel + bias, rtol=1e-5,
                               atol=1e-6)
    conv_like = L.TimeDistributed(L.Flatten())(keras.Input((3, 2, 5)))
    assert tuple(conv_like.shape) == (None, 3, 10)


def test_time_distributed_masks():
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    mask = np.array([[1, 1, 0, 0], [1, 0, 1, 1]], bool)
    out = L.TimeDistributed(_MaskEcho())(x, mask=mask)
    np.testing.assert_allclose(out.numpy(), x * mask[..., None])
    # a Masking layer's mask reaches the wrapped layer and passes through to the output
    masked = L.Masking(mask_value=0.0)(np.where(mask[..., None], x, 0.0).astype(np.float32))
    td = L.TimeDistributed(L.Dense(2))
    out = td(masked)
    np.testing.assert_array_equal(out._keras_mask.numpy(), mask)
    inputs = keras.Input((4, 3))
    model = keras.Model(inputs, L.TimeDistributed(_MaskEcho())(L.Masking()(inputs)))
    np.testing.assert_allclose(model(np.where(mask[..., None], x, 0.0)).numpy(),
                               np.where(mask[..., None], x, 0.0), rtol=1e-6)
    with pytest.raises(ValueError, match="must be at least 2D"):
        L.TimeDistributed(L.Dense(2))(x, mask=np.ones((2,), bool))
    with pytest.raises(ValueError, match="incompatible with the input shape"):
        L.TimeDistributed(L.Dense(2))(x, mask=np.ones((2, 5), bool))


def test_time_distributed_batch_norm_uses_per_step_statistics_in_training():
    x = (RNG.normal(size=(4, 3, 2)) * np.array([1.0, 3.0, 5.0])[None, :, None]).astype(
        np.float32)
    bn = L.BatchNormalization(momentum=0.5, epsilon=1e-3)
    td = L.TimeDistributed(bn)
    out = td(x, training=True).numpy()
    mean, var = x.mean(axis=0), x.var(axis=0)  # per time step
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    moving_mean = np.zeros(2)
    moving_var = np.ones(2)
    for i in range(3):  # one moving-average update per step, as Keras 3
        moving_mean = moving_mean * 0.5 + mean[i] * 0.5
        moving_var = moving_var * 0.5 + var[i] * 0.5
    np.testing.assert_allclose(bn.moving_mean.numpy(), moving_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), moving_var, rtol=1e-5, atol=1e-6)
    inference = td(x, training=False).numpy()
    np.testing.assert_allclose(inference, (x - moving_mean) / np.sqrt(moving_var + 1e-3),
                               rtol=1e-4, atol=1e-5)


def test_time_distributed_dropout_and_training_flag():
    td = L.TimeDistributed(L.Dropout(0.5, seed=1))
    x = np.ones((2, 3, 8), np.float32)
    np.testing.assert_array_equal(td(x).numpy(), x)
    dropped = td(x, training=True).numpy()
    assert set(np.unique(dropped)) <= {0.0, 2.0} and np.any(dropped == 0)


def test_time_distributed_in_a_trained_model_and_config():
    inputs = keras.Input((5, 4))
    x = L.TimeDistributed(L.Dense(3, activation="relu"))(inputs)
    outputs = L.TimeDistributed(L.Dense(1))(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    data = RNG.normal(size=(16, 5, 4)).astype(np.float32)
    target = data.sum(axis=-1, keepdims=True)
    losses = model.fit(data, target, epochs=3, batch_size=8, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    td = L.TimeDistributed(L.Dense(3, name="inner"), name="td")
    config = td.get_config()
    assert config["layer"]["class_name"] == "Dense" and config["layer"]["config"]["units"] == 3
    clone = L.TimeDistributed.from_config(config)
    assert isinstance(clone.layer, L.Dense) and clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(td))
    assert isinstance(restored, L.TimeDistributed) and restored.layer.units == 3


def test_time_distributed_errors():
    with pytest.raises(ValueError, match="keras.layers.Layer"):
        L.TimeDistributed("dense")
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        L.TimeDistributed(L.Dense(2))(np.zeros((2, 3), np.float32))
