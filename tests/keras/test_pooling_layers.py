"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D, GlobalMax/AveragePooling1D/2D/3D
and their aliases: the layer harness for each, outputs against NumPy loops written here (SAME
padding: max over the real values, mean over the real values), keepdims, masks, shapes with
unknown dims, configs and Keras's errors."""
import itertools

import numpy as np
import pytest

import tensorweave as tf
from keras_harness import check_layer
from tensorweave import keras

L = keras.layers


def ref_pool(x, pool, strides, padding, mode):
    """x (N, *spatial, C) channels last; windows clipped to the input (SAME padding adds no
    values: max ignores the padding, mean divides by the number of real values)."""
    rank = x.ndim - 2
    spatial = x.shape[1:-1]
    if padding == "valid":
        out_dims = [(n - k) // s + 1 for n, k, s in zip(spatial, pool, strides)]
        before = [0] * rank
    else:
        out_dims = [-(-n // s) for n, s in zip(spatial, strides)]
        before = [max((o - 1) * s + k - n, 0) // 2
                  for o, n, k, s in zip(out_dims, spatial, pool, strides)]
    out = np.zeros((x.shape[0], *out_dims, x.shape[-1]), np.float64)
    for pos in itertools.product(*[range(o) for o in out_dims]):
        index = [slice(None)]
        for p, s, k, b, n in zip(pos, strides, pool, before, spatial):
            start = p * s - b
            index.append(slice(max(start, 0), min(start + k, n)))
        window = x[tuple(index)].reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None), *pos)] = window.max(axis=1) if mode == "max" else window.mean(axis=1)
    return out


def _x(shape, seed=0):
    # distinct values: no ties for the max-pooling gradients
    rng = np.random.default_rng(seed)
    return rng.permutation(np.prod(shape)).reshape(shape).astype(np.float32) / 10.0 - 3.0


def _case(make, shape, out):
    return dict(make=make, input_shape=shape, expected_output_shape=out,
                input_data=_x(shape))


HARNESS = {
    "max_pooling1d": _case(lambda **kw: L.MaxPooling1D(**kw), (2, 6, 3), (2, 3, 3)),
    "max_pooling1d_same_strided": _case(
        lambda **kw: L.MaxPooling1D(3, strides=2, padding="same", **kw), (2, 6, 2), (2, 3, 2)),
    "max_pooling2d": _case(lambda **kw: L.MaxPooling2D(**kw), (2, 4, 5, 2), (2, 2, 2, 2)),
    "max_pooling2d_channels_first": _case(
        lambda **kw: L.MaxPooling2D((2, 3), strides=1, data_format="channels_first", **kw),
        (2, 2, 4, 4), (2, 2, 3, 2)),
    "max_pooling3d": _case(lambda **kw: L.MaxPooling3D(**kw), (1, 4, 4, 2, 2), (1, 2, 2, 1, 2)),
    "max_pool2d_alias_same": _case(lambda **kw: L.MaxPool2D(3, 2, "same", **kw), (1, 5, 5, 2),
                                   (1, 3, 3, 2)),
    "average_pooling1d": _case(lambda **kw: L.AveragePooling1D(2, **kw), (2, 5, 3), (2, 2, 3)),
    "average_pooling1d_same_channels_first": _case(
        lambda **kw: L.AveragePooling1D(3, strides=2, padding="same",
                                        data_format="channels_first", **kw),
        (2, 3, 6), (2, 3, 3)),
    "average_pooling2d": _case(lambda **kw: L.AveragePooling2D(2, **kw), (2, 4, 4, 3),
                               (2, 2, 2, 3)),
    "average_pooling2d_same": _case(lambda **kw: L.AvgPool2D(3, strides=2, padding="same",
                                                             **kw),
                                    (2, 5, 4, 2), (2, 3, 2, 2)),
    "average_pooling3d": _case(lambda **kw: L.AveragePooling3D((2, 1, 2), **kw),
                               (1, 2, 3, 4, 2), (1, 1, 3, 2, 2)),
    "global_max_pooling1d": _case(lambda **kw: L.GlobalMaxPooling1D(**kw), (2, 4, 3), (2, 3)),
    "global_max_pooling2d_keepdims": _case(lambda **kw: L.GlobalMaxPooling2D(keepdims=True, **kw),
                                           (2, 3, 4, 2), (2, 1, 1, 2)),
    "global_max_pooling3d_channels_first": _case(
        lambda **kw: L.GlobalMaxPool3D(data_format="channels_first", **kw), (2, 3, 2, 2, 2),
        (2, 3)),
    "global_average_pooling1d": _case(lambda **kw: L.GlobalAveragePooling1D(**kw), (2, 4, 3),
                                      (2, 3)),
    "global_average_pooling2d": _case(lambda **kw: L.GlobalAveragePooling2D(**kw), (2, 3, 4, 2),
                                      (2, 2)),
    "global_average_pooling2d_channels_first_keepdims": _case(
        lambda **kw: L.GlobalAvgPool2D(data_format="channels_first", keepdims=True, **kw),
        (2, 3, 2, 2), (2, 3, 1, 1)),
    "global_average_pooling3d": _case(lambda **kw: L.GlobalAveragePooling3D(**kw),
                                      (2, 2, 3, 2, 2), (2, 2)),
}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    check_layer(**HARNESS[name])


POOL_CASES = [
    (L.MaxPooling1D, dict(), (2, 7, 3)),
    (L.MaxPooling1D, dict(pool_size=3, strides=1, padding="same"), (2, 5, 2)),
    (L.MaxPooling2D, dict(pool_size=(2, 3)), (2, 6, 7, 2)),
    (L.MaxPooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 6, 5, 3)),
    (L.MaxPooling2D, dict(pool_size=(2, 2), strides=(1, 2), padding="same"), (1, 4, 5, 2)),
    (L.MaxPooling3D, dict(pool_size=(2, 2, 1), padding="same"), (1, 3, 4, 3, 2)),
    (L.AveragePooling1D, dict(pool_size=3, strides=2), (2, 8, 2)),
    (L.AveragePooling1D, dict(pool_size=4, strides=3, padding="same"), (2, 8, 2)),
    (L.AveragePooling2D, dict(pool_size=2), (2, 5, 6, 3)),
    (L.AveragePooling2D, dict(pool_size=3, strides=2, padding="same"), (2, 6, 5, 2)),
    (L.AveragePooling3D, dict(pool_size=2, strides=(1, 2, 2), padding="same"), (1, 3, 5, 4, 2)),
]


@pytest.mark.parametrize("channels_first", [False, True])
@pytest.mark.parametrize("index", range(len(POOL_CASES)))
def test_pooling_matches_numpy(index, channels_first):
    cls, kwargs, shape = POOL_CASES[index]
    x = _x(shape)
    fmt = "channels_first" if channels_first else "channels_last"
    layer = cls(data_format=fmt, **kwargs)
    out = layer(np.moveaxis(x, -1, 1) if channels_first else x).numpy()
    mode = "max" if "Max" in cls.__name__ else "average"
    expected = ref_pool(x.astype(np.float64), layer.pool_size, layer.strides, layer.padding,
                        mode)
    if channels_first:
        expected = np.moveaxis(expected, -1, 1)
    assert out.dtype == np.float32 and out.shape == expected.shape
    assert layer.compute_output_shape(out.shape[:1] + (
        np.moveaxis(x, -1, 1) if channels_first else x).shape[1:]) == out.shape
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-6)


def test_global_pooling_values_and_keepdims():
    x = _x((2, 3, 4, 5))
    np.testing.assert_allclose(L.GlobalMaxPooling2D()(x).numpy(), x.max(axis=(1, 2)))
    np.testing.assert_allclose(L.GlobalAveragePooling2D(keepdims=True)(x).numpy(),
                               x.mean(axis=(1, 2), keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(L.GlobalAveragePooling2D(data_format="channels_first")(x).numpy(),
                               x.mean(axis=(2, 3)), rtol=1e-6)
    np.testing.assert_allclose(L.GlobalMaxPooling1D(data_format="channels_first")(x[0]).numpy(),
                               x[0].max(axis=2))
    assert L.GlobalAveragePooling3D(keepdims=True).compute_output_shape(
        (None, 2, None, 4, 3)) == (None, 1, 1, 1, 3)
    assert L.GlobalMaxPooling1D(data_format="channels_first").compute_output_shape(
        (None, 7, None)) == (None, 7)


def test_global_average_pooling1d_with_a_mask():
    ids = np.array([[3, 5, 0, 0], [1, 0, 2, 0]])
    x = _x((2, 4, 3))
    mask = ids != 0
    layer = L.GlobalAveragePooling1D()
    out = layer(x, mask=tf.constant(mask)).numpy()
    expected = np.stack([x[i][mask[i]].mean(axis=0) for i in range(2)])
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    keep = L.GlobalAveragePooling1D(keepdims=True)(x, mask=tf.constant(mask)).numpy()
    np.testing.assert_allclose(keep, expected[:, None, :], rtol=1e-6)
    first = L.GlobalAveragePooling1D(data_format="channels_first")(
        np.moveaxis(x, -1, 1), mask=tf.constant(mask)).numpy()
    np.testing.assert_allclose(first, expected, rtol=1e-6)
    # the mask comes from an Embedding with mask_zero=True, and stops at the pooling
    inputs = keras.Input((4,), dtype="int32")
    embedded = L.Embedding(10, 3, mask_zero=True)(inputs)
    pooled = L.GlobalAveragePooling1D()(embedded)
    model = keras.Model(inputs, pooled)
    table = model.layers[1].get_weights()[0]
    np.testing.assert_allclose(model(ids).numpy(), np.stack(
        [table[row[row != 0]].mean(axis=0) for row in ids]), rtol=1e-6)
    assert getattr(model(ids), "_keras_mask", None) is None


def test_built_at_creation_and_configs():
    layer = L.MaxPooling2D(padding="SAME")
    assert layer.built and layer.weights == []
    config = layer.get_config()
    assert list(config)[3:] == ["pool_size", "padding", "strides", "data_format"]
    assert config["pool_size"] == (2, 2) and config["strides"] == (2, 2)
    assert config["padding"] == "SAME"                         # kept as given, as Keras does
    assert L.MaxPooling2D.from_config(config).get_config() == config
    assert L.AveragePooling1D(3, strides=1).get_config()["strides"] == (1,)
    assert L.MaxPooling1D().get_config()["pool_size"] == (2,)
    assert L.MaxPooling3D().pool_size == (2, 2, 2)
    config = L.GlobalAveragePooling2D(keepdims=True).get_config()
    assert list(config)[3:] == ["data_format", "keepdims"] and config["keepdims"] is True
    assert L.MaxPool1D is L.MaxPooling1D and L.AvgPool3D is L.AveragePooling3D
    assert L.GlobalAvgPool1D is L.GlobalAveragePooling1D
    assert L.GlobalMaxPool2D is L.GlobalMaxPooling2D
    x = _x((1, 5, 5, 2))
    np.testing.assert_allclose(layer(x).numpy(), ref_pool(x, (2, 2), (2, 2), "same", "max"))


def test_shapes_and_errors():
    assert L.MaxPooling2D(3).compute_output_shape((None, None, 7, 2)) == (None, None, 2, 2)
    assert L.AveragePooling1D(2, padding="same").compute_output_shape((4, 5, 3)) == (4, 3, 3)
    assert L.MaxPooling2D()(keras.Input((None, 9, 3))).shape == (None, None, 4, 3)
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        L.MaxPooling2D(3)(keras.Input((2, 5, 1)))
    with pytest.raises(ValueError, match="must be either 'valid' or 'same'"):
        L.MaxPooling2D(padding="SAME").compute_output_shape((None, 4, 4, 1))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        L.MaxPooling2D()(np.zeros((4, 4, 1), np.float32))
    with pytest.raises(ValueError, match="`pool_size` argument must be a tuple of 2"):
        L.MaxPooling2D((2, 2, 2))
    with pytest.raises(TypeError):
        L.AveragePooling2D()
    with pytest.raises(ValueError, match="data_format"):
        L.GlobalMaxPooling2D(data_format="NCHW")


def test_pooling_inside_a_tf_function_with_unknown_dims():
    pool = L.MaxPooling2D(3, strides=2, padding="same")
    avg = L.AveragePooling2D(2)
    f = tf.function(lambda t: (pool(t), avg(t)),
                    input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32)])
    x = _x((2, 7, 6, 2))
    got = f(tf.constant(x))
    np.testing.assert_allclose(got[0].numpy(), ref_pool(x, (3, 3), (2, 2), "same", "max"))
    np.testing.assert_allclose(got[1].numpy(), ref_pool(x, (2, 2), (2, 2), "valid", "average"),
                               rtol=1e-6)


def test_seed_004_small_resnet():
    """Seed 004 "ResNet模型": builds, has Keras's output shapes and parameter count, trains."""
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    h1 = L.Conv2D(32, 3, activation="relu")(inputs)
    h1 = L.Conv2D(64, 3, activation="relu")(h1)
    block1_out = L.MaxPooling2D(3)(h1)
    h2 = L.Conv2D(64, 3, activation="relu", padding="same")(block1_out)
    h2 = L.Conv2D(64, 3, activation="relu", padding="same")(h2)
    block2_out = L.add([h2, block1_out])
    h3 = L.Conv2D(64, 3, activation="relu", padding="same")(block2_out)
    h3 = L.Conv2D(64, 3, activation="relu", padding="same")(h3)
    block3_out = L.add([h3, block2_out])
    h4 = L.Conv2D(64, 3, activation="relu")(block3_out)
    h4 = L.GlobalMaxPool2D()(h4)
    h4 = L.Dense(256, activation="relu")(h4)
    h4 = L.Dropout(0.5)(h4)
    outputs = L.Dense(10, activation="softmax")(h4)
    model = keras.Model(inputs, outputs, name="small_resnet")
    assert block1_out.shape == (None, 9, 9, 64)
    assert h4.shape == (None, 10) or outputs.shape == (None, 10)
    assert model.count_params() == 223242            # Keras's summary: Total params: 223,242
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(8, 32, 32, 3)).astype(np.float32)
    y = rng.integers(0, 10, size=(8,))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
