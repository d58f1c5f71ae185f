"""Regularization, merging and normalization layers against Keras 3 itself (the one of
TensorFlow 2.21): the same layers, weights and inputs give the same outputs, moving statistics,
masks, losses, output shapes on keras.Input, configs and error messages. Random layers are
compared where their result does not depend on the random numbers (inference, rate 0) and on
Keras's own formula for the values they produce.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import warnings

import numpy as np
import pytest

import tensorweave as tw
from tensorweave import keras as tw_keras

pytestmark = pytest.mark.tfref
try:
    import keras
    import tensorflow as tf
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(5)


def _arr(*shape, scale=1.0, shift=0.0):
    return (RNG.standard_normal(shape) * scale + shift).astype(np.float32)


def _both(make):
    """The layer `make(layers)` builds, once with Keras's layers and once with ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return make(keras.layers), make(tw_keras.layers)


def _np(x):
    return np.asarray(x.numpy() if hasattr(x, "numpy") else x)


# -- normalization: same weights, same inputs ----------------------------------------------------
NORMALIZATION = {
    "bn": (lambda l: l.BatchNormalization(momentum=0.8), (6, 3)),
    "bn_axis1": (lambda l: l.BatchNormalization(axis=1, epsilon=1e-2), (4, 3, 5)),
    "bn_plain": (lambda l: l.BatchNormalization(center=False, scale=False), (5, 2, 3)),
    "bn_sync": (lambda l: l.BatchNormalization(synchronized=True, momentum=0.5), (6, 3)),
    "bn_renorm": (lambda l: l.BatchNormalization(
        renorm=True, momentum=0.7, renorm_momentum=0.6,
        renorm_clipping={"rmax": 1.5, "rmin": 0.8, "dmax": 0.3}), (6, 3)),
    "ln": (lambda l: l.LayerNormalization(), (4, 6)),
    "ln_axes": (lambda l: l.LayerNormalization(axis=[2, 1], epsilon=1e-4), (2, 3, 4)),
    "ln_axis1": (lambda l: l.LayerNormalization(axis=1), (2, 3, 4)),
    "ln_no_center": (lambda l: l.LayerNormalization(center=False), (4, 6)),
    "ln_rms": (lambda l: l.LayerNormalization(rms_scaling=True), (4, 6)),
    "unit": (lambda l: l.UnitNormalization(), (4, 6)),
    "unit_axes": (lambda l: l.UnitNormalization(axis=(1, 2)), (2, 3, 4)),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(NORMALIZATION))
def test_normalization_same_outputs_and_statistics(name):
    make, shape = NORMALIZATION[name]
    theirs, ours = _both(make)
    batches = [_arr(*shape, scale=2.0, shift=i) for i in range(4)]
    theirs(batches[0])
    ours(batches[0])
    weights = [RNG.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in theirs.get_weights()]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    for x in batches:  # several training calls: the moving statistics move the same way
        np.testing.assert_allclose(_np(ours(x, training=True)), _np(theirs(x, training=True)),
                                   rtol=1e-4, atol=1e-5)
    for mine, keras_weight in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(mine, keras_weight, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(ours(batches[0])), _np(theirs(batches[0])), rtol=1e-4,
                               atol=1e-5)
    assert [w.path.split("/")[-1] for w in ours.weights] == \
        [w.path.split("/")[-1] for w in theirs.weights]
    assert [w.trainable for w in ours.weights] == [w.trainable for w in theirs.weights]


@needs_tf
def test_bn_moving_statistics_after_training_calls_in_a_model():
    theirs, ours = _both(lambda l: l.BatchNormalization())
    x = _arr(32, 4, scale=3.0, shift=2.0)
    for _ in range(5):
        theirs(x, training=True)
        ours(x, training=True)
    np.testing.assert_allclose(_np(ours.moving_mean), _np(theirs.moving_mean), rtol=1e-5)
    np.testing.assert_allclose(_np(ours.moving_variance), _np(theirs.moving_variance),
                               rtol=1e-5)
    # NumPy: after n identical batches, moving = init * m^n + stat * (1 - m^n)
    decay = 0.99 ** 5
    np.testing.assert_allclose(_np(ours.moving_mean), x.mean(0) * (1 - decay), rtol=1e-4)
    np.testing.assert_allclose(_np(ours.moving_variance), decay + x.var(0) * (1 - decay),
                               rtol=1e-4)


@needs_tf
def test_bn_frozen_and_masked_like_keras():
    x = _arr(2, 5, 3, scale=2.0)
    mask = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1]], bool)
    theirs, ours = _both(lambda l: l.BatchNormalization(momentum=0.5))
    np.testing.assert_allclose(_np(ours(x, training=True, mask=tw.constant(mask))),
                               _np(theirs(x, training=True, mask=tf.constant(mask))),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(ours.moving_variance), _np(theirs.moving_variance),
                               rtol=1e-5)
    theirs.trainable = ours.trainable = False
    np.testing.assert_allclose(_np(ours(x, training=True)), _np(theirs(x, training=True)),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(ours.moving_mean), _np(theirs.moving_mean), rtol=1e-5)


# -- merging -------------------------------------------------------------------------------------
MERGING = {
    "add": (lambda l: l.Add(), [(3, 4), (3, 4), (3, 4)]),
    "add_broadcast": (lambda l: l.Add(), [(3, 4), (3, 1)]),
    "add_ranks": (lambda l: l.Add(), [(3, 4), (3, 2, 4)]),
    "subtract": (lambda l: l.Subtract(), [(3, 4), (3, 4)]),
    "multiply": (lambda l: l.Multiply(), [(3, 4), (3, 4)]),
    "average": (lambda l: l.Average(), [(3, 4), (3, 4), (3, 4)]),
    "maximum": (lambda l: l.Maximum(), [(3, 4), (3, 4), (3, 4)]),
    "minimum": (lambda l: l.Minimum(), [(3, 4), (3, 4)]),
    "concatenate": (lambda l: l.Concatenate(axis=1), [(2, 3, 4), (2, 2, 4)]),
    "dot": (lambda l: l.Dot(axes=1), [(3, 4), (3, 4)]),
    "dot_normalize": (lambda l: l.Dot(axes=-1, normalize=True), [(2, 3, 4), (2, 5, 4)]),
    "dot_axes": (lambda l: l.Dot(axes=(1, 2)), [(2, 3, 4), (2, 5, 3)]),
    "dot_2d_3d": (lambda l: l.Dot(axes=(1, 1)), [(2, 4), (2, 4, 5)]),
    "dot_4d": (lambda l: l.Dot(axes=(2, 1)), [(2, 3, 4, 2), (2, 4, 3)]),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(MERGING))
def test_merging_same_values_and_symbolic_shapes(name):
    make, shapes = MERGING[name]
    arrays = [_arr(*s) for s in shapes]
    theirs, ours = _both(make)
    np.testing.assert_allclose(_np(ours(arrays)), _np(theirs(arrays)), rtol=1e-5, atol=1e-6)
    theirs_sym, ours_sym = _both(make)
    keras_inputs = [keras.Input(s[1:]) for s in shapes]
    our_inputs = [tw_keras.Input(s[1:]) for s in shapes]
    assert ours_sym(our_inputs).shape == theirs_sym(keras_inputs).shape
    assert ours.get_config() | {"name": None} == theirs.get_config() | {"name": None}


MASKED = {
    "add": lambda l: l.Add(), "multiply": lambda l: l.Multiply(),
    "maximum": lambda l: l.Maximum(), "minimum": lambda l: l.Minimum(),
    "average": lambda l: l.Average(), "concatenate": lambda l: l.Concatenate(),
    "concatenate_axis1": lambda l: l.Concatenate(axis=1),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(MASKED))
@pytest.mark.parametrize("masks", ["both", "first"])
def test_merging_masks_like_keras(name, masks):
    a, b = _arr(2, 3, 4), _arr(2, 3, 4)
    m1 = np.array([[True, False, True], [False, False, True]])
    m2 = np.array([[True, True, False], [False, True, True]])
    theirs, ours = _both(MASKED[name])

    def call(layer, module):
        x, y = module.constant(a), module.constant(b)
        x._keras_mask = module.constant(m1)
        if masks == "both":
            y._keras_mask = module.constant(m2)
        return layer([x, y])

    mine, keras_out = call(ours, tw), call(theirs, tf)
    np.testing.assert_allclose(_np(mine), _np(keras_out), rtol=1e-6)
    keras_mask = getattr(keras_out, "_keras_mask", None)
    my_mask = getattr(mine, "_keras_mask", None)
    assert (keras_mask is None) == (my_mask is None)
    if keras_mask is not None:
        np.testing.assert_array_equal(_np(my_mask), _np(keras_mask))


def _message(fn):
    with pytest.raises(Exception) as info:
        fn()
    return type(info.value), str(info.value).split("\n")[0]


ERRORS = {
    "incompatible": lambda l, k: l.Add()([k.Input((3,)), k.Input((2,))]),
    "batch_sizes": lambda l, k: l.Add()([np.ones((4, 3), "float32"), np.ones((5, 3), "float32")]),
    "not_a_list": lambda l, k: l.Add()(np.ones((4, 3), "float32")),
    "subtract_three": lambda l, k: l.Subtract()([k.Input((3,))] * 3),
    "concatenate": lambda l, k: l.Concatenate()([k.Input((3, 4)), k.Input((2, 5))]),
    "dot_axes": lambda l, k: l.Dot(1)([k.Input((3,)), k.Input((4,))]),
    "dot_three": lambda l, k: l.Dot(1)([k.Input((3,))] * 3),
    "dot_type": lambda l, k: l.Dot("1"),
    "dropout_rate": lambda l, k: l.Dropout(1.5),
    "noise_shape": lambda l, k: l.Dropout(0.5, noise_shape=(None, 0)),
    "stddev": lambda l, k: l.GaussianNoise(2.0),
    "spatial_rank": lambda l, k: l.SpatialDropout1D(0.5)(np.ones((2, 3), "float32")),
    "ln_axis": lambda l, k: l.LayerNormalization(axis="x"),
    "renorm_keys": lambda l, k: l.BatchNormalization(renorm=True, renorm_clipping={"r": 1}),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_same_errors_as_keras(name):
    kind, message = _message(lambda: ERRORS[name](keras.layers, keras))
    my_kind, my_message = _message(lambda: ERRORS[name](tw_keras.layers, tw_keras))
    assert my_kind is kind
    normalize = lambda text: text.replace('"', "'")  # noqa: E731
    if name != "spatial_rank":  # Keras names its own layer there
        assert normalize(my_message) == normalize(message)


# -- regularization --------------------------------------------------------------------------
REGULARIZATION = {
    "dropout": lambda l: l.Dropout(0.4, noise_shape=(None, 1), seed=3),
    "spatial1d": lambda l: l.SpatialDropout1D(0.2, seed=1),
    "spatial2d": lambda l: l.SpatialDropout2D(0.2, data_format="channels_first"),
    "spatial3d": lambda l: l.SpatialDropout3D(0.2),
    "gaussian_noise": lambda l: l.GaussianNoise(0.1, seed=2),
    "gaussian_dropout": lambda l: l.GaussianDropout(0.1),
    "alpha_dropout": lambda l: l.AlphaDropout(0.1, noise_shape=[None, 1]),
    "activity_regularization": lambda l: l.ActivityRegularization(l1=0.1, l2=0.3),
}
SHAPES = {"spatial2d": (2, 3, 4, 2), "spatial3d": (2, 3, 2, 2, 2), "spatial1d": (2, 3, 4)}


@needs_tf
@pytest.mark.parametrize("name", sorted(REGULARIZATION))
def test_regularization_configs_inference_and_losses(name):
    theirs, ours = _both(REGULARIZATION[name])
    config = ours.get_config()
    keras_config = theirs.get_config()
    config["name"] = keras_config["name"] = None
    assert config == keras_config
    x = _arr(*SHAPES.get(name, (3, 4)))
    np.testing.assert_array_equal(_np(ours(x)), _np(theirs(x)))
    np.testing.assert_array_equal(_np(ours(x, training=False)), _np(theirs(x, training=False)))
    assert len(ours.losses) == len(theirs.losses)
    for mine, keras_loss in zip(ours.losses, theirs.losses):
        np.testing.assert_allclose(_np(mine), _np(keras_loss), rtol=1e-6)
    assert ours.built == theirs.built and ours.weights == [] and theirs.weights == []


@needs_tf
def test_dropout_training_values_follow_keras_formulas():
    x = _arr(200, 50)
    rate = 0.3
    fits = []
    for layers in (keras.layers, tw_keras.layers):
        y = _np(layers.Dropout(rate, seed=1)(x, training=True))
        kept = y != 0
        np.testing.assert_allclose(y[kept], x[kept] / np.float32(1 - rate), rtol=1e-6)
        assert abs(kept.mean() - (1 - rate)) < 0.02
        # AlphaDropout: dropped units all take one value (the most frequent), kept ones a*x + b
        alpha = _np(layers.AlphaDropout(rate, seed=1)(x, training=True)).astype(np.float64)
        values, counts = np.unique(alpha, return_counts=True)
        dropped_value = values[np.argmax(counts)]
        kept = alpha != dropped_value
        assert abs(kept.mean() - (1 - rate)) < 0.02
        a, b = np.polyfit(x[kept].astype(np.float64), alpha[kept], 1)
        fits.append((dropped_value, a, b))
    np.testing.assert_allclose(fits[1], fits[0], rtol=1e-5)
