"""Convolution, pooling and spatial layers against Keras 3 itself (the one of TensorFlow 2.21):
the same layer (same arguments, same weights set with set_weights) on the same inputs gives the
same outputs (rtol 1e-4) and gradients, the same weight names and shapes, the same configs and
the same output shapes on keras.Input (with unknown dims too); the seed models build with the
same shapes and parameter counts.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import json
import warnings

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import keras
    import tensorflow as tf
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(7)

# channels_first cases keep the last output dim different from the number of channels: where
# they are equal, Keras 3 on TensorFlow 2.21's CPU adds the bias along the last axis instead of
# the channels (a TensorFlow fault; tensorweave adds it to the channels)
CF = dict(data_format="channels_first")

# name -> (function of a layers module `l` making the layer, input shape)
CASES = {
    # convolutions
    "conv1d": (lambda l: l.Conv1D(4, 3, activation="relu"), (2, 9, 3)),
    "conv1d_same_strided": (lambda l: l.Conv1D(3, 4, strides=2, padding="same"), (2, 9, 2)),
    "conv1d_causal_dilated": (lambda l: l.Conv1D(3, 3, padding="causal", dilation_rate=2),
                              (2, 8, 2)),
    "conv1d_groups": (lambda l: l.Conv1D(6, 3, groups=3), (2, 7, 6)),
    "conv1d_channels_first": (lambda l: l.Conv1D(3, 2, strides=2, **CF), (2, 3, 8)),
    "conv2d": (lambda l: l.Conv2D(4, 3, activation="tanh"), (2, 7, 6, 3)),
    "conv2d_same_strided": (lambda l: l.Conv2D(3, (3, 4), strides=(2, 3), padding="same"),
                            (2, 9, 10, 2)),
    "conv2d_dilated_same": (lambda l: l.Conv2D(3, 3, dilation_rate=(2, 1), padding="same"),
                            (1, 7, 6, 2)),
    "conv2d_groups": (lambda l: l.Conv2D(4, 3, groups=2, use_bias=False), (2, 6, 6, 4)),
    "conv2d_channels_first": (lambda l: l.Conv2D(4, 3, strides=2, padding="same", **CF),
                              (2, 2, 7, 6)),
    "conv2d_1x1": (lambda l: l.Conv2D(5, 1), (2, 4, 4, 3)),
    "conv3d": (lambda l: l.Conv3D(3, 2, strides=(1, 2, 1)), (1, 4, 5, 3, 2)),
    "conv3d_same_dilated": (lambda l: l.Conv3D(2, 3, padding="same", dilation_rate=2),
                            (1, 5, 4, 4, 2)),
    "conv3d_channels_first": (lambda l: l.Conv3D(3, 2, **CF), (1, 2, 3, 4, 3)),
    # transposed convolutions
    "conv1d_transpose": (lambda l: l.Conv1DTranspose(3, 3, strides=2), (2, 5, 2)),
    "conv1d_transpose_same_output_padding": (
        lambda l: l.Conv1DTranspose(2, 4, strides=3, padding="same", output_padding=1),
        (2, 4, 3)),
    "conv2d_transpose": (lambda l: l.Conv2DTranspose(3, 3), (2, 4, 5, 2)),
    "conv2d_transpose_strided_same": (
        lambda l: l.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu"),
        (2, 4, 3, 2)),
    "conv2d_transpose_valid_small_kernel": (lambda l: l.Conv2DTranspose(2, 2, strides=3),
                                            (1, 3, 3, 2)),
    "conv2d_transpose_output_padding": (
        lambda l: l.Conv2DTranspose(2, 3, strides=(2, 3), output_padding=(1, 2)), (1, 3, 3, 2)),
    "conv2d_transpose_dilated": (lambda l: l.Conv2DTranspose(2, 3, dilation_rate=2),
                                 (1, 4, 4, 2)),
    "conv2d_transpose_channels_first": (
        lambda l: l.Conv2DTranspose(3, 2, strides=2, padding="same", **CF), (2, 2, 3, 4)),
    "conv3d_transpose": (lambda l: l.Conv3DTranspose(2, 2, strides=(2, 1, 2)), (1, 2, 3, 2, 2)),
    "conv3d_transpose_same": (lambda l: l.Conv3DTranspose(2, 3, strides=2, padding="same"),
                              (1, 2, 2, 3, 2)),
    # depthwise and separable
    "depthwise_conv1d": (lambda l: l.DepthwiseConv1D(3, depth_multiplier=2), (2, 8, 3)),
    "depthwise_conv1d_strided_dilated_same": (
        lambda l: l.DepthwiseConv1D(3, strides=2, dilation_rate=2, padding="same"), (2, 9, 2)),
    "depthwise_conv1d_channels_first": (lambda l: l.DepthwiseConv1D(2, strides=2, **CF),
                                        (2, 3, 9)),
    "depthwise_conv2d": (lambda l: l.DepthwiseConv2D(3, activation="relu"), (2, 6, 5, 3)),
    "depthwise_conv2d_multiplier_same_strided": (
        lambda l: l.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=3),
        (2, 7, 6, 2)),
    "depthwise_conv2d_dilated": (lambda l: l.DepthwiseConv2D(2, dilation_rate=(1, 2)),
                                 (1, 5, 6, 2)),
    "depthwise_conv2d_strided_dilated": (
        lambda l: l.DepthwiseConv2D(3, strides=2, dilation_rate=2, padding="same"),
        (1, 8, 7, 2)),
    "depthwise_conv2d_channels_first": (lambda l: l.DepthwiseConv2D(2, depth_multiplier=2, **CF),
                                        (2, 3, 5, 4)),
    "separable_conv1d": (lambda l: l.SeparableConv1D(4, 3, depth_multiplier=2), (2, 8, 3)),
    "separable_conv1d_channels_first_same": (
        lambda l: l.SeparableConv1D(3, 3, strides=2, padding="same", **CF), (2, 2, 9)),
    "separable_conv2d": (lambda l: l.SeparableConv2D(4, 3), (2, 6, 5, 3)),
    "separable_conv2d_strided_same": (
        lambda l: l.SeparableConv2D(3, 3, strides=2, padding="same", depth_multiplier=2),
        (2, 7, 6, 2)),
    "separable_conv2d_strided_dilated": (
        lambda l: l.SeparableConv2D(3, 2, strides=2, dilation_rate=2), (1, 8, 8, 2)),
    "separable_conv2d_channels_first": (lambda l: l.SeparableConv2D(4, 2, **CF), (1, 2, 5, 4)),
    # pooling
    "max_pooling1d": (lambda l: l.MaxPooling1D(), (2, 7, 3)),
    "max_pooling1d_same": (lambda l: l.MaxPooling1D(3, strides=2, padding="same"), (2, 8, 3)),
    "max_pooling2d": (lambda l: l.MaxPooling2D(), (2, 6, 7, 3)),
    "max_pooling2d_same": (lambda l: l.MaxPool2D(3, strides=2, padding="same"), (2, 6, 7, 3)),
    "max_pooling2d_channels_first": (lambda l: l.MaxPooling2D((2, 3), strides=1, **CF),
                                     (2, 3, 5, 6)),
    "max_pooling3d": (lambda l: l.MaxPooling3D(), (1, 4, 5, 4, 2)),
    "max_pooling3d_same": (lambda l: l.MaxPooling3D(3, strides=2, padding="same"),
                           (1, 5, 4, 3, 2)),
    "average_pooling1d": (lambda l: l.AveragePooling1D(3), (2, 7, 3)),
    "average_pooling1d_same": (lambda l: l.AveragePooling1D(4, strides=3, padding="same"),
                               (2, 8, 3)),
    "average_pooling2d": (lambda l: l.AveragePooling2D(2), (2, 6, 7, 3)),
    "average_pooling2d_same": (lambda l: l.AvgPool2D(3, strides=2, padding="same"),
                               (2, 6, 7, 3)),
    "average_pooling2d_channels_first": (lambda l: l.AveragePooling2D(2, strides=1, **CF),
                                         (2, 3, 4, 5)),
    "average_pooling3d": (lambda l: l.AveragePooling3D(2, padding="same"), (1, 3, 4, 5, 2)),
    "global_max_pooling1d": (lambda l: l.GlobalMaxPooling1D(), (2, 5, 3)),
    "global_max_pooling2d": (lambda l: l.GlobalMaxPool2D(keepdims=True), (2, 4, 5, 3)),
    "global_max_pooling3d": (lambda l: l.GlobalMaxPooling3D(**CF), (2, 3, 2, 3, 4)),
    "global_average_pooling1d": (lambda l: l.GlobalAveragePooling1D(keepdims=True), (2, 5, 3)),
    "global_average_pooling2d": (lambda l: l.GlobalAveragePooling2D(), (2, 4, 5, 3)),
    "global_average_pooling2d_channels_first": (lambda l: l.GlobalAvgPool2D(**CF),
                                                (2, 3, 4, 5)),
    "global_average_pooling3d": (lambda l: l.GlobalAveragePooling3D(), (2, 3, 2, 3, 4)),
    # spatial
    "up_sampling1d": (lambda l: l.UpSampling1D(3), (2, 4, 3)),
    "up_sampling2d": (lambda l: l.UpSampling2D((2, 3)), (2, 3, 4, 2)),
    "up_sampling2d_bilinear": (lambda l: l.UpSampling2D((2, 3), interpolation="bilinear"),
                               (2, 3, 4, 2)),
    "up_sampling2d_bilinear_channels_first": (
        lambda l: l.UpSampling2D(2, interpolation="bilinear", **CF), (2, 2, 3, 4)),
    "up_sampling3d": (lambda l: l.UpSampling3D((1, 2, 3)), (1, 2, 3, 2, 2)),
    "zero_padding1d": (lambda l: l.ZeroPadding1D((1, 3)), (2, 4, 3)),
    "zero_padding2d": (lambda l: l.ZeroPadding2D(((1, 2), (0, 3))), (2, 3, 4, 2)),
    "zero_padding2d_channels_first": (lambda l: l.ZeroPadding2D(2, **CF), (2, 2, 3, 4)),
    "zero_padding3d": (lambda l: l.ZeroPadding3D((1, 0, 2)), (1, 2, 3, 2, 2)),
    "cropping1d": (lambda l: l.Cropping1D((1, 2)), (2, 6, 3)),
    "cropping2d": (lambda l: l.Cropping2D(((1, 0), (2, 1))), (2, 4, 5, 2)),
    "cropping2d_channels_first": (lambda l: l.Cropping2D(1, **CF), (2, 2, 4, 5)),
    "cropping3d": (lambda l: l.Cropping3D(((1, 0), (0, 1), (1, 1))), (1, 3, 3, 4, 2)),
}

GRADIENTS = ["conv1d_causal_dilated", "conv2d_same_strided", "conv2d_groups",
             "conv2d_transpose_strided_same", "conv2d_transpose_output_padding",
             "conv3d_same_dilated", "depthwise_conv2d_multiplier_same_strided",
             "depthwise_conv2d_strided_dilated", "separable_conv2d_strided_same",
             "max_pooling2d_same", "average_pooling2d_same", "up_sampling2d_bilinear",
             "conv1d_transpose_same_output_padding", "global_average_pooling2d",
             "cropping2d", "zero_padding2d"]


def _both(make):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make(keras.layers), make(tw.keras.layers)


def _plain(config):
    config = json.loads(json.dumps(config))
    config.pop("name", None)
    return config


def _input(shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _same_weights(theirs, ours, x):
    theirs(x)
    ours(x)
    weights = [RNG.uniform(-1, 1, size=w.shape).astype(np.float32)
               for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)


@needs_tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras(name):
    make, shape = CASES[name]
    theirs, ours = _both(make)
    x = _input(shape)
    _same_weights(theirs, ours, x)
    expected = np.asarray(theirs(x))
    got = ours(x).numpy()
    assert got.shape == expected.shape
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert [(w.name, tuple(w.shape)) for w in ours.weights] == \
        [(w.name, tuple(w.shape)) for w in theirs.weights]
    assert _plain(ours.get_config()) == _plain(theirs.get_config())
    assert ours.built == theirs.built
    # output shapes: from compute_output_shape and on keras.Input, with the batch and (where
    # the layer allows it) the spatial dims unknown
    rank = len(shape) - 2
    unknown = shape[1:2] + (None,) * rank if "channels_first" in name \
        else (None,) * rank + shape[-1:]
    for known in (shape[1:], unknown):
        fresh_theirs, fresh_ours = _both(make)
        try:
            want = fresh_theirs(keras.Input(known)).shape
        except Exception:  # noqa: BLE001 - a layer Keras cannot build on unknown dims
            continue
        assert tuple(fresh_ours(tw.keras.Input(known)).shape) == tuple(want)
        assert tuple(fresh_ours.compute_output_shape((None,) + tuple(known))) == \
            tuple(fresh_theirs.compute_output_shape((None,) + tuple(known)))


@needs_tf
@pytest.mark.parametrize("name", GRADIENTS)
def test_gradients_match_keras(name):
    make, shape = CASES[name]
    theirs, ours = _both(make)
    x = _input(shape)
    _same_weights(theirs, ours, x)
    w_out = RNG.uniform(0.5, 1.5, size=np.asarray(theirs(x)).shape).astype(np.float32)
    results = []
    for module, layer in ((tf, theirs), (tw, ours)):
        inputs = module.constant(x)
        with module.GradientTape() as tape:
            tape.watch(inputs)
            loss = module.reduce_sum(layer(inputs) * w_out)
        grads = tape.gradient(loss, [inputs] + list(layer.trainable_weights))
        results.append([np.asarray(module.convert_to_tensor(g)) for g in grads])
    for expected, got in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


@needs_tf
def test_int_inputs_keep_their_dtype_like_keras():
    ids = RNG.integers(0, 9, size=(2, 4, 4, 2)).astype(np.int32) * 3
    for make in (lambda l: l.UpSampling2D(), lambda l: l.ZeroPadding2D(),
                 lambda l: l.Cropping2D(1), lambda l: l.UpSampling2D(interpolation="bilinear"),
                 lambda l: l.UpSampling2D((3, 2), interpolation="bilinear")):
        theirs, ours = _both(make)
        expected = np.asarray(theirs(ids))
        got = ours(ids).numpy()
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


@needs_tf
def test_errors_match_keras():
    cases = [
        lambda l: l.Conv2D(4, 3, groups=3),
        lambda l: l.Conv2D(0, 3),
        lambda l: l.Conv2D(2, (3, 3, 3)),
        lambda l: l.Conv2D(2, 3, strides=2, dilation_rate=2),
        lambda l: l.Conv2DTranspose(2, 3, strides=2, output_padding=2),
        lambda l: l.DepthwiseConv2D(3, depth_multiplier=0),
        lambda l: l.MaxPooling2D((2, 2, 2)),
        lambda l: l.UpSampling1D(0),
        lambda l: l.ZeroPadding2D((1, 2, 3)),
        lambda l: l.Cropping2D(-1),
        lambda l: l.Cropping3D((1, 2)),
    ]
    for make in cases:
        messages = []
        for module in (keras, tw.keras):
            with pytest.raises(ValueError) as info:
                make(module.layers)
            messages.append(str(info.value).split("\n")[0])
        assert messages[0] == messages[1]
    # errors found when the layer is built or called on keras.Input (the first words agree;
    # the rest names the layer)
    calls = [
        (lambda l: l.Conv2D(4, 3, groups=2), (1, 5, 5, 3)),
        (lambda l: l.Conv2D(4, 3), (1, 2, 5, 3)),
        (lambda l: l.MaxPooling2D(3), (1, 2, 5, 1)),
        (lambda l: l.Cropping1D((2, 3)), (1, 5, 1)),
        (lambda l: l.Cropping2D(2), (1, 4, 6, 1)),
    ]
    for make, shape in calls:
        messages = []
        for module in (keras, tw.keras):
            with pytest.raises(ValueError) as info:
                make(module.layers)(module.Input(batch_shape=shape))
            text = str(info.value).replace("\x1b[1m", "").replace("\x1b[0m", "")
            if text.startswith("Exception encountered"):      # Keras's wrapping of call errors
                text = text.split("\n\n")[1]
            messages.append(text)
        assert messages[0].split("Received")[0] in messages[1], messages


def _seed_models(k):
    layers = k.layers
    models = {}
    inputs = k.Input(shape=(32, 32, 3), name="img")
    h1 = layers.Conv2D(32, 3, activation="relu")(inputs)
    h1 = layers.Conv2D(64, 3, activation="relu")(h1)
    block1_out = layers.MaxPooling2D(3)(h1)
    h2 = layers.Conv2D(64, 3, activation="relu", padding="same")(block1_out)
    h2 = layers.Conv2D(64, 3, activation="relu", padding="same")(h2)
    block2_out = layers.add([h2, block1_out])
    h3 = layers.Conv2D(64, 3, activation="relu", padding="same")(block2_out)
    h3 = layers.Conv2D(64, 3, activation="relu", padding="same")(h3)
    block3_out = layers.add([h3, block2_out])
    h4 = layers.Conv2D(64, 3, activation="relu")(block3_out)
    h4 = layers.GlobalMaxPool2D()(h4)
    h4 = layers.Dense(256, activation="relu")(h4)
    h4 = layers.Dropout(0.5)(h4)
    outputs = layers.Dense(10, activation="softmax")(h4)
    models["small_resnet"] = k.Model(inputs, outputs, name="small_resnet")

    encoder_input = k.Input(shape=(28, 28, 1), name="img")
    h = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    h = layers.Conv2D(32, 3, activation="relu")(h)
    h = layers.MaxPooling2D(3)(h)
    h = layers.Conv2D(32, 3, activation="relu")(h)
    h = layers.Conv2D(16, 3, activation="relu")(h)
    encoder_output = layers.GlobalMaxPooling2D()(h)
    h = layers.Reshape((4, 4, 1))(encoder_output)
    h = layers.Conv2DTranspose(16, 3, activation="relu")(h)
    h = layers.Conv2DTranspose(32, 3, activation="relu")(h)
    h = layers.UpSampling2D(3)(h)
    h = layers.Conv2DTranspose(16, 3, activation="relu")(h)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(h)
    models["autoencoder"] = k.Model(encoder_input, decoder_output, name="autoencoder")

    models["vgg_block"] = k.Sequential([
        k.Input((32, 32, 3)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(2, strides=2),
        layers.Conv2D(32, 1, activation="relu"),
        layers.SeparableConv2D(32, 3, padding="same"),
        layers.DepthwiseConv2D(3, strides=2),
        layers.GlobalAveragePooling2D(),
        layers.Dense(10)])
    return models


@needs_tf
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")  # Keras's own
def test_seed_models_match_keras(tmp_path):
    """Same layer output shapes and parameter counts; Keras's weights file loads, and the
    predictions agree."""
    theirs, ours = _seed_models(keras), _seed_models(tw.keras)
    input_shapes = {"small_resnet": (32, 32, 3), "autoencoder": (28, 28, 1),
                    "vgg_block": (32, 32, 3)}
    for name in theirs:
        a, b = theirs[name], ours[name]
        assert [tuple(l.output.shape) for l in b.layers] == \
            [tuple(l.output.shape) for l in a.layers], name
        assert b.count_params() == a.count_params(), name
        a.save_weights(tmp_path / f"{name}.weights.h5")
        b.load_weights(tmp_path / f"{name}.weights.h5")
        x = RNG.uniform(size=(2,) + input_shapes[name]).astype(np.float32)
        np.testing.assert_allclose(b.predict(x, verbose=0), a.predict(x, verbose=0),
                                   rtol=1e-4, atol=1e-5)
    assert ours["autoencoder"].output_shape == (None, 28, 28, 1)
