"""Core, reshaping and activation layers against Keras 3 in TensorFlow: the same layer (same
arguments, same weights) gives the same outputs, output masks, gradients and configs.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import json
import warnings

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import tensorflow as tf
    import keras
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(11)
X2 = RNG.normal(size=(4, 5)).astype(np.float32)
X3 = RNG.normal(size=(2, 3, 4)).astype(np.float32)
X4 = RNG.normal(size=(2, 3, 4, 2)).astype(np.float32)
IDS = np.array([[1, 0, 7, -2], [0, 0, 3, 9]], np.int32)
ROWS = np.array([[[1., 2.], [0., 0.], [3., 0.]], [[0., 0.], [5., 5.], [-1., 5.]]], np.float32)

# name -> (function of a keras module `k` making the layer, input)
CASES = {
    "dense": (lambda k: k.layers.Dense(3, activation="relu"), X2),
    "dense_rank3": (lambda k: k.layers.Dense(2, activation="tanh"), X3),
    "dense_rank4_no_bias": (lambda k: k.layers.Dense(3, use_bias=False), X4),
    "activation_gelu": (lambda k: k.layers.Activation("gelu"), X3),
    "activation_softmax": (lambda k: k.layers.Activation("softmax"), X3),
    "identity": (lambda k: k.layers.Identity(), X2),
    "embedding": (lambda k: k.layers.Embedding(10, 3), IDS),
    "embedding_mask_zero": (lambda k: k.layers.Embedding(10, 2, mask_zero=True), IDS),
    "embedding_float_ids": (lambda k: k.layers.Embedding(10, 2), IDS.astype(np.float32) + 0.6),
    "masking": (lambda k: k.layers.Masking(), ROWS),
    "masking_value": (lambda k: k.layers.Masking(mask_value=5.0), ROWS),
    "flatten": (lambda k: k.layers.Flatten(), X4),
    "flatten_channels_first": (lambda k: k.layers.Flatten(data_format="channels_first"), X4),
    "reshape": (lambda k: k.layers.Reshape((-1, 2)), X3),
    "permute": (lambda k: k.layers.Permute((3, 1, 2)), X4),
    "repeat_vector": (lambda k: k.layers.RepeatVector(3), X2),
    "relu": (lambda k: k.layers.ReLU(), X3),
    "relu_all_arguments": (lambda k: k.layers.ReLU(max_value=1.0, negative_slope=0.2,
                                                   threshold=0.3), X3),
    "relu6": (lambda k: k.layers.ReLU(max_value=6.0), X3 * 5),
    "leaky_relu": (lambda k: k.layers.LeakyReLU(), X3),
    "leaky_relu_slope": (lambda k: k.layers.LeakyReLU(negative_slope=0.05), X3),
    "prelu": (lambda k: k.layers.PReLU(), X3),
    "prelu_shared": (lambda k: k.layers.PReLU(shared_axes=[1, 2]), X4),
    "elu": (lambda k: k.layers.ELU(alpha=0.7), X3),
    "softmax": (lambda k: k.layers.Softmax(), X3),
    "softmax_axis1": (lambda k: k.layers.Softmax(axis=1), X3),
    "softmax_two_axes": (lambda k: k.layers.Softmax(axis=(1, 2)), X3),
}


def _random_weights(layer):
    return [RNG.uniform(-1, 1, size=w.shape).astype(np.float32) for w in layer.get_weights()]


def _plain_config(config):
    config = json.loads(json.dumps(config))
    config.pop("name", None)
    return config


@needs_tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras(name):
    make, x = CASES[name]
    theirs, ours = make(keras), make(tw.keras)
    expected = theirs(x)
    out = ours(x)
    weights = _random_weights(theirs)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    expected, out = theirs(x), ours(x)
    assert out.shape.as_list() == list(expected.shape)
    assert out.dtype.name == expected.dtype.name
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-6)
    their_mask = getattr(expected, "_keras_mask", None)
    our_mask = getattr(out, "_keras_mask", None)
    assert (their_mask is None) == (our_mask is None)
    if their_mask is not None:
        np.testing.assert_array_equal(our_mask.numpy(), their_mask.numpy())
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert ours.built == theirs.built
    assert _plain_config(ours.get_config()) == _plain_config(theirs.get_config())
    if hasattr(theirs, "compute_output_shape"):
        shape = (None,) + x.shape[1:]
        assert tuple(ours.compute_output_shape(shape)) == tuple(theirs.compute_output_shape(shape))


@needs_tf
@pytest.mark.parametrize("name", ["dense_rank3", "prelu", "softmax_two_axes", "elu",
                                  "relu_all_arguments", "masking", "embedding"])
def test_gradients_match_keras(name):
    make, x = CASES[name]
    theirs, ours = make(keras), make(tw.keras)
    theirs(x), ours(x)
    weights = _random_weights(theirs)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    w_out = RNG.uniform(0.5, 1.5, size=theirs(x).shape).astype(np.float32)
    results = []
    for module, layer in ((tf, theirs), (tw, ours)):
        inputs = module.constant(x)
        with module.GradientTape() as tape:
            tape.watch(inputs)
            loss = module.reduce_sum(layer(inputs) * w_out)
        grads = tape.gradient(loss, [inputs] + list(layer.trainable_weights))
        results.append([None if g is None else np.asarray(module.convert_to_tensor(g))
                        for g in grads])
    for expected, got in zip(*results):
        if expected is None or not np.issubdtype(x.dtype, np.floating):
            continue
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    for expected, got in zip(results[0][1:], results[1][1:]):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


@needs_tf
def test_softmax_with_mask_matches_keras():
    mask = np.array([[[True, False, True, True]], [[False, False, False, False]]])
    expected = keras.layers.Softmax()(X3, mask=mask)
    np.testing.assert_allclose(tw.keras.layers.Softmax()(X3, mask=mask).numpy(),
                               expected.numpy(), rtol=1e-6, atol=1e-7)
    floats = mask.astype(np.float32) * 0.7
    np.testing.assert_allclose(tw.keras.layers.Softmax()(X3, mask=floats).numpy(),
                               keras.layers.Softmax()(X3, mask=floats).numpy(), rtol=1e-6)


@needs_tf
def test_lambda_configs_load_both_ways():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        their_config = keras.layers.Lambda(lambda t, c=2.0: t * c + 1.0, output_shape=(5,),
                                           arguments={"c": 3.0}).get_config()
        our_config = tw.keras.layers.Lambda(lambda t, c=2.0: t * c + 1.0, output_shape=(5,),
                                            arguments={"c": 3.0}).get_config()
    assert _plain_config(our_config).keys() == _plain_config(their_config).keys()
    assert our_config["function"]["config"]["defaults"] == \
        their_config["function"]["config"]["defaults"]
    with pytest.raises(ValueError, match="safe_mode=False"):
        tw.keras.layers.Lambda.from_config(json.loads(json.dumps(their_config)))
    ours = tw.keras.layers.Lambda.from_config(json.loads(json.dumps(their_config)),
                                              safe_mode=False)
    # (Keras itself cannot load its own lambda defaults once JSON made them a list)
    theirs = keras.layers.Lambda.from_config(dict(our_config), safe_mode=False)
    np.testing.assert_allclose(ours(X2).numpy(), X2 * 3.0 + 1.0, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(theirs(X2)), X2 * 3.0 + 1.0, rtol=1e-6)


@needs_tf
def test_symbolic_shapes_and_dtypes_match_keras():
    for make, shape, dtype in [
            (lambda k: k.layers.Flatten(), (3, 4), "int32"),
            (lambda k: k.layers.Reshape((-1,)), (3, 4), "int32"),
            (lambda k: k.layers.Permute((2, 1)), (3, 4), "int32"),
            (lambda k: k.layers.RepeatVector(2), (4,), "int32"),
            (lambda k: k.layers.Identity(), (3, 4), "int32"),
            (lambda k: k.layers.Masking(), (3, 4), "float32"),
            (lambda k: k.layers.Embedding(5, 2), (None,), "int32"),
            (lambda k: k.layers.Dense(3), (None, 4), "float32"),
            (lambda k: k.layers.Lambda(lambda t: t[:, :2]), (3, 4), "float32"),
            (lambda k: k.layers.Flatten(), (None, 4), "float32")]:
        expected = make(keras)(keras.Input(shape, dtype=dtype))
        got = make(tw.keras)(tw.keras.Input(shape, dtype=dtype))
        assert tuple(got.shape) == tuple(expected.shape)
        assert got.dtype == expected.dtype
