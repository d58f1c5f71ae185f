"""UpSampling1D/2D/3D (nearest and bilinear), ZeroPadding1D/2D/3D, Cropping1D/2D/3D: the layer
harness for each, values against NumPy (np.repeat, np.pad, slicing, a half-pixel bilinear
formula written here), shapes with unknown dims, dtypes, configs and Keras's errors."""
import numpy as np
import pytest

import tensorweave as tf
from keras_harness import check_layer
from tensorweave import keras

L = keras.layers


def _case(make, shape, out):
    return dict(make=make, input_shape=shape, expected_output_shape=out)


HARNESS = {
    "up_sampling1d": _case(lambda **kw: L.UpSampling1D(3, **kw), (2, 3, 2), (2, 9, 2)),
    "up_sampling2d": _case(lambda **kw: L.UpSampling2D(**kw), (2, 2, 3, 2), (2, 4, 6, 2)),
    "up_sampling2d_channels_first": _case(
        lambda **kw: L.UpSampling2D((1, 3), data_format="channels_first", **kw), (1, 2, 2, 3),
        (1, 2, 2, 9)),
    # tf.image.resize interpolates in float32 whatever the input dtype (as TensorFlow does), so
    # float64 finite differences cannot check it: test_up_sampling_bilinear_gradient does
    "up_sampling2d_bilinear": dict(grad=False, **_case(
        lambda **kw: L.UpSampling2D((2, 3), interpolation="bilinear", **kw), (2, 3, 2, 2),
        (2, 6, 6, 2))),
    "up_sampling2d_bilinear_channels_first": dict(grad=False, **_case(
        lambda **kw: L.UpSampling2D(2, data_format="channels_first", interpolation="bilinear",
                                    **kw), (1, 2, 2, 3), (1, 2, 4, 6))),
    "up_sampling3d": _case(lambda **kw: L.UpSampling3D((1, 2, 3), **kw), (1, 2, 2, 1, 2),
                           (1, 2, 4, 3, 2)),
    "up_sampling3d_channels_first": _case(
        lambda **kw: L.UpSampling3D(2, data_format="channels_first", **kw), (1, 2, 1, 2, 1),
        (1, 2, 2, 4, 2)),
    "zero_padding1d": _case(lambda **kw: L.ZeroPadding1D((1, 2), **kw), (2, 3, 2), (2, 6, 2)),
    "zero_padding1d_channels_first": _case(
        lambda **kw: L.ZeroPadding1D(2, data_format="channels_first", **kw), (2, 3, 2),
        (2, 3, 6)),
    "zero_padding2d": _case(lambda **kw: L.ZeroPadding2D(((1, 0), (2, 3)), **kw), (2, 2, 2, 3),
                            (2, 3, 7, 3)),
    "zero_padding2d_channels_first": _case(
        lambda **kw: L.ZeroPadding2D((1, 2), data_format="channels_first", **kw), (1, 2, 2, 2),
        (1, 2, 4, 6)),
    "zero_padding3d": _case(lambda **kw: L.ZeroPadding3D(**kw), (1, 2, 1, 2, 2),
                            (1, 4, 3, 4, 2)),
    "zero_padding3d_channels_first": _case(
        lambda **kw: L.ZeroPadding3D((0, 1, (2, 0)), data_format="channels_first", **kw),
        (1, 2, 2, 1, 2), (1, 2, 2, 3, 4)),
    "cropping1d": _case(lambda **kw: L.Cropping1D(**kw), (2, 5, 3), (2, 3, 3)),
    "cropping1d_end_zero": _case(lambda **kw: L.Cropping1D((2, 0), **kw), (2, 5, 2),
                                 (2, 3, 2)),
    "cropping2d": _case(lambda **kw: L.Cropping2D(((1, 0), (1, 2)), **kw), (2, 4, 5, 2),
                        (2, 3, 2, 2)),
    "cropping2d_channels_first": _case(
        lambda **kw: L.Cropping2D(1, data_format="channels_first", **kw), (1, 2, 4, 3),
        (1, 2, 2, 1)),
    "cropping3d": _case(lambda **kw: L.Cropping3D(**kw), (1, 3, 4, 3, 2), (1, 1, 2, 1, 2)),
    "cropping3d_channels_first": _case(
        lambda **kw: L.Cropping3D(((0, 1), 0, (1, 0)), data_format="channels_first", **kw),
        (1, 2, 3, 2, 3), (1, 2, 2, 2, 2)),
}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    check_layer(**HARNESS[name])


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def ref_bilinear(x, out_h, out_w):
    """Half-pixel-centred bilinear resize of NHWC `x` (TensorFlow 2's tf.image.resize)."""
    def axis(n_in, n_out):
        src = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
        src = np.clip(src, 0, None)
        low = np.minimum(np.floor(src).astype(int), n_in - 1)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, src - low

    hl, hh, hf = axis(x.shape[1], out_h)
    wl, wh, wf = axis(x.shape[2], out_w)
    top = x[:, hl][:, :, wl] * (1 - wf)[None, None, :, None] + \
        x[:, hl][:, :, wh] * wf[None, None, :, None]
    bottom = x[:, hh][:, :, wl] * (1 - wf)[None, None, :, None] + \
        x[:, hh][:, :, wh] * wf[None, None, :, None]
    return top * (1 - hf)[None, :, None, None] + bottom * hf[None, :, None, None]


def test_up_sampling_values():
    x = _x((2, 3, 4))
    np.testing.assert_array_equal(L.UpSampling1D(2)(x).numpy(), np.repeat(x, 2, axis=1))
    images = _x((2, 3, 2, 4))
    np.testing.assert_array_equal(L.UpSampling2D((2, 3))(images).numpy(),
                                  np.repeat(np.repeat(images, 2, axis=1), 3, axis=2))
    np.testing.assert_array_equal(
        L.UpSampling2D((2, 3), data_format="channels_first")(images).numpy(),
        np.repeat(np.repeat(images, 2, axis=2), 3, axis=3))
    volumes = _x((1, 2, 3, 2, 2))
    np.testing.assert_array_equal(
        L.UpSampling3D((3, 1, 2))(volumes).numpy(),
        np.repeat(np.repeat(np.repeat(volumes, 3, axis=1), 1, axis=2), 2, axis=3))
    np.testing.assert_array_equal(
        L.UpSampling3D(2, data_format="channels_first")(volumes).numpy(),
        np.repeat(np.repeat(np.repeat(volumes, 2, axis=2), 2, axis=3), 2, axis=4))
    ints = np.arange(8, dtype=np.int32).reshape(1, 2, 2, 2)
    out = L.UpSampling2D()(ints)
    assert out.dtype == tf.int32
    np.testing.assert_array_equal(out.numpy(), np.repeat(np.repeat(ints, 2, 1), 2, 2))


def test_up_sampling_bilinear_values():
    images = _x((2, 3, 4, 2))
    out = L.UpSampling2D((2, 3), interpolation="bilinear")(images).numpy()
    np.testing.assert_allclose(out, ref_bilinear(images.astype(np.float64), 6, 12), rtol=1e-5,
                               atol=1e-6)
    first = L.UpSampling2D(2, data_format="channels_first", interpolation="BILINEAR")(
        np.moveaxis(images, -1, 1)).numpy()
    np.testing.assert_allclose(first, np.moveaxis(ref_bilinear(images, 6, 8), -1, 1),
                               rtol=1e-5, atol=1e-6)
    layer = L.UpSampling2D(2, interpolation="bilinear")
    f = tf.function(lambda t: layer(t),
                    input_signature=[tf.TensorSpec([None, None, None, 2], tf.float32)])
    np.testing.assert_allclose(f(tf.constant(images)).numpy(), ref_bilinear(images, 6, 8),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Invalid value for argument `interpolation`"):
        L.UpSampling2D(interpolation="cubic")(images)


def test_up_sampling_bilinear_gradient():
    """Bilinear up-sampling is linear, out = A x: the gradient of sum(out * w) is A^T w, with A
    built column by column from the NumPy formula."""
    shape, out_h, out_w = (1, 3, 2, 2), 6, 6
    size = int(np.prod(shape))
    columns = [ref_bilinear(np.eye(size)[i].reshape(shape), out_h, out_w).reshape(-1)
               for i in range(size)]
    a = np.stack(columns, axis=1)
    w = np.random.default_rng(3).uniform(0.5, 1.5, size=(1, out_h, out_w, 2))
    x = tf.constant(_x(shape))
    layer = L.UpSampling2D((2, 3), interpolation="bilinear")
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = tf.reduce_sum(layer(x) * w.astype(np.float32))
    np.testing.assert_allclose(tape.gradient(loss, x).numpy().reshape(-1),
                               a.T @ w.reshape(-1), rtol=1e-5, atol=1e-6)


def test_zero_padding_and_cropping_values():
    x = _x((2, 4, 3))
    np.testing.assert_array_equal(L.ZeroPadding1D((2, 1))(x).numpy(),
                                  np.pad(x, [(0, 0), (2, 1), (0, 0)]))
    images = _x((2, 4, 5, 3))
    np.testing.assert_array_equal(L.ZeroPadding2D(((1, 2), (0, 3)))(images).numpy(),
                                  np.pad(images, [(0, 0), (1, 2), (0, 3), (0, 0)]))
    np.testing.assert_array_equal(
        L.ZeroPadding2D(2, data_format="channels_first")(images).numpy(),
        np.pad(images, [(0, 0), (0, 0), (2, 2), (2, 2)]))
    volumes = _x((1, 2, 3, 4, 2))
    np.testing.assert_array_equal(L.ZeroPadding3D((1, (0, 2), 3))(volumes).numpy(),
                                  np.pad(volumes, [(0, 0), (1, 1), (0, 2), (3, 3), (0, 0)]))
    np.testing.assert_array_equal(L.Cropping1D((1, 2))(x).numpy(), x[:, 1:2])
    np.testing.assert_array_equal(L.Cropping2D(((1, 0), (2, 1)))(images).numpy(),
                                  images[:, 1:, 2:4])
    np.testing.assert_array_equal(
        L.Cropping2D(((2, 1), (0, 1)), data_format="channels_first")(images).numpy(),
        images[:, :, 2:4, 0:2])
    np.testing.assert_array_equal(L.Cropping3D(((0, 1), (1, 1), (0, 0)))(volumes).numpy(),
                                  volumes[:, 0:1, 1:2, :])
    np.testing.assert_array_equal(
        L.Cropping3D(((0, 0), (1, 0), (0, 1)), data_format="channels_first")(volumes).numpy(),
        volumes[:, :, :, 1:, :1])
    ints = np.arange(6, dtype=np.int64).reshape(1, 3, 2)
    assert L.ZeroPadding1D()(ints).dtype == tf.int64
    assert L.Cropping1D((1, 0))(ints).dtype == tf.int64


def test_shapes_with_unknown_dims():
    assert L.UpSampling1D(2).compute_output_shape((None, None, 3)) == (None, None, 3)
    assert L.UpSampling2D((2, 3)).compute_output_shape((None, 4, None, 2)) == (None, 8, None, 2)
    assert L.UpSampling3D(2, data_format="channels_first").compute_output_shape(
        (None, 3, 1, None, 2)) == (None, 3, 2, None, 4)
    assert L.ZeroPadding2D(1).compute_output_shape((None, None, 3, 2)) == (None, None, 5, 2)
    assert L.ZeroPadding1D(2, data_format="channels_first").compute_output_shape(
        (None, 3, 4)) == (None, 3, 8)
    assert L.Cropping2D(1).compute_output_shape((None, None, 4, 2)) == (None, None, 2, 2)
    assert L.Cropping3D().compute_output_shape((None, 3, None, 4, 1)) == (None, 1, None, 2, 1)
    assert L.Cropping1D().compute_output_shape((2, None, 3)) == (2, None, 3)
    layer = L.Cropping2D(((1, 1), (0, 2)))
    pad = L.ZeroPadding2D(((0, 1), (2, 0)))
    f = tf.function(lambda t: pad(layer(t)),
                    input_signature=[tf.TensorSpec([None, None, None, 1], tf.float32)])
    images = _x((2, 4, 5, 1))
    np.testing.assert_array_equal(f(tf.constant(images)).numpy(),
                                  np.pad(images[:, 1:3, :3], [(0, 0), (0, 1), (2, 0), (0, 0)]))


def test_configs():
    assert L.UpSampling1D().get_config()["size"] == 2
    config = L.UpSampling2D(3, interpolation="Bilinear").get_config()
    assert list(config)[3:] == ["size", "data_format", "interpolation"]
    assert config["size"] == (3, 3) and config["interpolation"] == "bilinear"
    assert L.UpSampling3D().get_config()["size"] == (2, 2, 2)
    assert L.ZeroPadding1D().get_config()["padding"] == (1, 1)
    assert L.ZeroPadding2D().get_config()["padding"] == ((1, 1), (1, 1))
    assert L.ZeroPadding2D((1, 2)).padding == ((1, 1), (2, 2))
    assert L.ZeroPadding3D(2).get_config()["padding"] == ((2, 2),) * 3
    assert "data_format" not in L.Cropping1D().get_config()
    assert L.Cropping1D(2).get_config()["cropping"] == (2, 2)
    assert L.Cropping2D().get_config()["cropping"] == ((0, 0), (0, 0))
    assert L.Cropping3D(((1, 2), 0, 1)).cropping == ((1, 2), (0, 0), (1, 1))
    for layer in [L.ZeroPadding3D(((1, 0), (0, 2), (3, 3))), L.Cropping2D(((1, 2), (3, 4))),
                  L.UpSampling2D((1, 2), data_format="channels_first")]:
        assert type(layer).from_config(layer.get_config()).get_config() == layer.get_config()
    assert not L.ZeroPadding2D().built and not L.UpSampling2D().built


def test_errors():
    with pytest.raises(TypeError, match="Expected an integer value for `size`"):
        L.UpSampling1D((2,))
    with pytest.raises(ValueError, match="should be a positive integer"):
        L.UpSampling1D(0)
    with pytest.raises(ValueError, match="`size` argument must be a tuple of 2"):
        L.UpSampling2D((1, 2, 3))
    with pytest.raises(ValueError, match="`padding` should have two elements"):
        L.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="`padding` should have 3 elements"):
        L.ZeroPadding3D((1, 2))
    with pytest.raises(ValueError, match="1st entry of padding"):
        L.ZeroPadding2D(((1, 2, 3), 1))
    with pytest.raises(ValueError, match="`cropping` cannot be negative"):
        L.Cropping2D(-1)
    with pytest.raises(ValueError, match="that do not satisfy `value >= 0`"):
        L.Cropping1D((-1, 0))
    with pytest.raises(ValueError, match="must be smaller than the input length"):
        L.Cropping1D((2, 3))(np.zeros((1, 5, 1), np.float32))
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial"):
        L.Cropping2D(2)(keras.Input((4, 6, 1)))
    with pytest.raises(ValueError, match="should be smaller than the corresponding spatial"):
        L.Cropping3D(1)(np.zeros((1, 3, 2, 3, 1), np.float32))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        L.ZeroPadding2D()(np.zeros((1, 3, 3), np.float32))
