"""keras.losses against Keras 3 itself (the one of TensorFlow 2.21): every loss function and
class on the same inputs (float32 and float64, sample weights, reductions, masks), the configs
and serialized dicts, and the names get() accepts.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import json

import numpy as np
import pytest

import tensorweave as tw
from tensorweave.keras import losses as tw_losses

pytestmark = pytest.mark.tfref
try:
    import keras
    import tensorflow as tf
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(6)
N, C = 6, 4
REG_TRUE = RNG.normal(size=(N, C))
REG_PRED = RNG.normal(size=(N, C))
POS_TRUE = RNG.uniform(0.1, 3.0, size=(N, C))
POS_PRED = RNG.uniform(0.1, 3.0, size=(N, C))
BIN_TRUE = RNG.integers(0, 2, size=(N, C)).astype(np.float64)
PROB = RNG.uniform(0.02, 0.98, size=(N, C))
LOGITS = RNG.normal(scale=3.0, size=(N, C))
ONE_HOT = np.eye(C)[RNG.integers(0, C, size=N)]
SOFT = RNG.dirichlet(np.ones(C), size=N)
SPARSE = RNG.integers(0, C, size=N).astype(np.float64)
SIGNS = np.where(BIN_TRUE > 0, 1.0, -1.0)
SEG_TRUE = RNG.integers(0, 2, size=(2, 3, 3, 1)).astype(np.float64)
SEG_PRED = RNG.uniform(size=(2, 3, 3, 1))

# name -> (call of a module `m` of losses, y_true, y_pred)
FUNCTIONS = {
    "mse": (lambda m, t, p: m.mean_squared_error(t, p), REG_TRUE, REG_PRED),
    "mse_rank1": (lambda m, t, p: m.mean_squared_error(t[:, 0], p[:, :1]), REG_TRUE, REG_PRED),
    "mae": (lambda m, t, p: m.mean_absolute_error(t, p), REG_TRUE, REG_PRED),
    "mape": (lambda m, t, p: m.mean_absolute_percentage_error(t, p), REG_TRUE, REG_PRED),
    "msle": (lambda m, t, p: m.mean_squared_logarithmic_error(t, p), POS_TRUE, POS_PRED),
    "msle_negative": (lambda m, t, p: m.mean_squared_logarithmic_error(t, p), REG_TRUE,
                      REG_PRED),
    "cosine": (lambda m, t, p: m.cosine_similarity(t, p), REG_TRUE, REG_PRED),
    "cosine_axis0": (lambda m, t, p: m.cosine_similarity(t, p, axis=0), REG_TRUE, REG_PRED),
    "cosine_zero": (lambda m, t, p: m.cosine_similarity(t * 0, p), REG_TRUE, REG_PRED),
    "huber": (lambda m, t, p: m.huber(t, p), REG_TRUE, REG_PRED),
    "huber_delta": (lambda m, t, p: m.huber(t, p, delta=0.4), REG_TRUE, REG_PRED),
    "log_cosh": (lambda m, t, p: m.log_cosh(t, p), REG_TRUE, REG_PRED),
    "log_cosh_big": (lambda m, t, p: m.log_cosh(t, p * 200), REG_TRUE, REG_PRED),
    "hinge_binary": (lambda m, t, p: m.hinge(t, p), BIN_TRUE, REG_PRED),
    "hinge_signs": (lambda m, t, p: m.hinge(t, p), SIGNS, REG_PRED),
    "squared_hinge": (lambda m, t, p: m.squared_hinge(t, p), BIN_TRUE, REG_PRED),
    "squared_hinge_signs": (lambda m, t, p: m.squared_hinge(t, p), SIGNS, REG_PRED),
    "categorical_hinge": (lambda m, t, p: m.categorical_hinge(t, p), ONE_HOT, REG_PRED),
    "kld": (lambda m, t, p: m.kl_divergence(t, p), SOFT, PROB),
    "kld_onehot": (lambda m, t, p: m.kl_divergence(t, p), ONE_HOT, PROB),
    "poisson": (lambda m, t, p: m.poisson(t, p), POS_TRUE, POS_PRED),
    "bce": (lambda m, t, p: m.binary_crossentropy(t, p), BIN_TRUE, PROB),
    "bce_saturated": (lambda m, t, p: m.binary_crossentropy(t, np.round(p)), BIN_TRUE, PROB),
    "bce_logits": (lambda m, t, p: m.binary_crossentropy(t, p, from_logits=True), BIN_TRUE,
                   LOGITS),
    "bce_smooth_axis0": (lambda m, t, p: m.binary_crossentropy(t, p, label_smoothing=0.2,
                                                               axis=0), BIN_TRUE, PROB),
    "bfce": (lambda m, t, p: m.binary_focal_crossentropy(t, p), BIN_TRUE, PROB),
    "bfce_all": (lambda m, t, p: m.binary_focal_crossentropy(
        t, p, apply_class_balancing=True, alpha=0.4, gamma=1.5, from_logits=True,
        label_smoothing=0.1), BIN_TRUE, LOGITS),
    "cce": (lambda m, t, p: m.categorical_crossentropy(t, p), ONE_HOT, PROB),
    "cce_soft": (lambda m, t, p: m.categorical_crossentropy(t, p), SOFT, PROB),
    "cce_logits_smooth": (lambda m, t, p: m.categorical_crossentropy(
        t, p, from_logits=True, label_smoothing=0.1), ONE_HOT, LOGITS),
    "cce_axis0": (lambda m, t, p: m.categorical_crossentropy(t, p, axis=0), ONE_HOT, PROB),
    "cce_logits_axis0": (lambda m, t, p: m.categorical_crossentropy(t, p, from_logits=True,
                                                                    axis=0), SOFT, LOGITS),
    "cfce": (lambda m, t, p: m.categorical_focal_crossentropy(t, p), ONE_HOT, PROB),
    "cfce_all": (lambda m, t, p: m.categorical_focal_crossentropy(
        t, p, alpha=[0.1, 0.2, 0.3, 0.4], gamma=3.0, from_logits=True, label_smoothing=0.2),
        ONE_HOT, LOGITS),
    "scce": (lambda m, t, p: m.sparse_categorical_crossentropy(t, p), SPARSE, PROB),
    "scce_col": (lambda m, t, p: m.sparse_categorical_crossentropy(t[:, None], p), SPARSE, PROB),
    "scce_int": (lambda m, t, p: m.sparse_categorical_crossentropy(t, p), SPARSE.astype(np.int32),
                 PROB),
    "scce_logits": (lambda m, t, p: m.sparse_categorical_crossentropy(t, p, from_logits=True),
                    SPARSE, LOGITS),
    "scce_ignore": (lambda m, t, p: m.sparse_categorical_crossentropy(t, p, from_logits=True,
                                                                      ignore_class=1),
                    SPARSE, LOGITS),
    "dice": (lambda m, t, p: m.dice(t, p), SEG_TRUE, SEG_PRED),
    "dice_axis": (lambda m, t, p: m.dice(t, p, axis=(1, 2, 3)), SEG_TRUE, SEG_PRED),
    "tversky": (lambda m, t, p: m.tversky(t, p, alpha=0.3, beta=0.7), SEG_TRUE, SEG_PRED),
    "tversky_axis": (lambda m, t, p: m.tversky(t, p, axis=(1, 2)), SEG_TRUE, SEG_PRED),
    "gce": (lambda m, t, p: m.categorical_generalized_cross_entropy(t, p, q=0.3), SPARSE, SOFT),
}


def _tol(dtype):
    return dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


@needs_tf
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_matches_keras(name, dtype):
    fn, y_true, y_pred = FUNCTIONS[name]
    if y_true.dtype.kind == "f":
        y_true = y_true.astype(dtype)
    y_pred = y_pred.astype(dtype)
    theirs = np.asarray(fn(keras.losses, tf.constant(y_true), tf.constant(y_pred)))
    ours = fn(tw_losses, tw.constant(y_true), tw.constant(y_pred))
    assert ours.dtype.name == np.dtype(dtype).name
    tol = _tol(dtype)
    if name in ("msle", "msle_negative", "log_cosh", "log_cosh_big") and dtype == np.float64:
        tol = dict(rtol=1e-8, atol=1e-8)  # float32 constants (epsilon, log 2) cast to float64
    np.testing.assert_allclose(ours.numpy(), theirs, **tol)


# name -> (builder of a loss from a module `m`, y_true, y_pred)
CLASSES = {
    "MeanSquaredError": (lambda m, **k: m.MeanSquaredError(**k), REG_TRUE, REG_PRED),
    "MeanAbsoluteError": (lambda m, **k: m.MeanAbsoluteError(**k), REG_TRUE, REG_PRED),
    "MeanAbsolutePercentageError": (lambda m, **k: m.MeanAbsolutePercentageError(**k),
                                    REG_TRUE, REG_PRED),
    "MeanSquaredLogarithmicError": (lambda m, **k: m.MeanSquaredLogarithmicError(**k),
                                    POS_TRUE, POS_PRED),
    "CosineSimilarity": (lambda m, **k: m.CosineSimilarity(axis=-1, **k), REG_TRUE, REG_PRED),
    "Huber": (lambda m, **k: m.Huber(delta=0.7, **k), REG_TRUE, REG_PRED),
    "LogCosh": (lambda m, **k: m.LogCosh(**k), REG_TRUE, REG_PRED),
    "Hinge": (lambda m, **k: m.Hinge(**k), BIN_TRUE, REG_PRED),
    "SquaredHinge": (lambda m, **k: m.SquaredHinge(**k), SIGNS, REG_PRED),
    "CategoricalHinge": (lambda m, **k: m.CategoricalHinge(**k), ONE_HOT, REG_PRED),
    "KLDivergence": (lambda m, **k: m.KLDivergence(**k), SOFT, PROB),
    "Poisson": (lambda m, **k: m.Poisson(**k), POS_TRUE, POS_PRED),
    "BinaryCrossentropy": (lambda m, **k: m.BinaryCrossentropy(label_smoothing=0.1, **k),
                           BIN_TRUE, PROB),
    "BinaryCrossentropy_logits": (lambda m, **k: m.BinaryCrossentropy(from_logits=True, **k),
                                  BIN_TRUE, LOGITS),
    "BinaryFocalCrossentropy": (lambda m, **k: m.BinaryFocalCrossentropy(
        apply_class_balancing=True, gamma=3.0, **k), BIN_TRUE, PROB),
    "CategoricalCrossentropy": (lambda m, **k: m.CategoricalCrossentropy(**k), ONE_HOT, PROB),
    "CategoricalCrossentropy_logits": (lambda m, **k: m.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.2, **k), ONE_HOT, LOGITS),
    "CategoricalFocalCrossentropy": (lambda m, **k: m.CategoricalFocalCrossentropy(
        alpha=0.5, from_logits=True, **k), ONE_HOT, LOGITS),
    "SparseCategoricalCrossentropy": (lambda m, **k: m.SparseCategoricalCrossentropy(**k),
                                      SPARSE, PROB),
    "SparseCategoricalCrossentropy_ignore": (lambda m, **k: m.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=2, **k), SPARSE, LOGITS),
    "Dice": (lambda m, **k: m.Dice(axis=(1, 2, 3), **k), SEG_TRUE, SEG_PRED),
    "Tversky": (lambda m, **k: m.Tversky(alpha=0.2, beta=0.8, axis=(1, 2, 3), **k), SEG_TRUE,
                SEG_PRED),
}
WEIGHTS = {
    "none": None,
    "per_sample": RNG.uniform(0.2, 2.0, size=N),
    "column": RNG.uniform(0.2, 2.0, size=(N, 1)),
}


@needs_tf
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", None, "mean",
                                       "mean_with_sample_weight"])
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_matches_keras(name, reduction, dtype):
    build, y_true, y_pred = CLASSES[name]
    theirs_loss = build(keras.losses, reduction=reduction, dtype=dtype)
    ours_loss = build(tw_losses, reduction=reduction, dtype=dtype)
    tol = _tol(np.dtype(dtype))
    if dtype == "float64" and name in ("MeanSquaredLogarithmicError", "LogCosh"):
        tol = dict(rtol=1e-8, atol=1e-8)
    for weight_name, weight in WEIGHTS.items():
        if weight is not None and y_true.shape[0] != N:
            weight = weight[:y_true.shape[0]]
        theirs = np.asarray(theirs_loss(y_true, y_pred, sample_weight=weight))
        ours = ours_loss(y_true, y_pred, sample_weight=weight)
        assert ours.dtype.name == dtype
        np.testing.assert_allclose(ours.numpy(), theirs, err_msg=weight_name, **tol)


@needs_tf
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none"])
def test_masked_predictions_match_keras(reduction):
    mask = np.array([True, False, True, True, False, True])
    weight = RNG.uniform(0.5, 1.5, size=N)
    for name in ["MeanSquaredError", "CategoricalCrossentropy", "Huber"]:
        build, y_true, y_pred = CLASSES[name]
        theirs_pred = tf.constant(y_pred.astype(np.float32))
        theirs_pred._keras_mask = tf.constant(mask)
        ours_pred = tw.constant(y_pred.astype(np.float32))
        ours_pred._keras_mask = tw.constant(mask)
        for w in (None, weight):
            theirs = np.asarray(build(keras.losses, reduction=reduction)(y_true, theirs_pred, w))
            ours = build(tw_losses, reduction=reduction)(y_true, ours_pred, w).numpy()
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=name)


# Keras 3 drops these arguments from the config (a loaded loss then computes something else);
# tensorweave keeps them
KEPT = {"Huber": "delta", "CosineSimilarity": "axis"}


def config_as_keras_writes(loss) -> dict:
    config = loss.get_config()
    kept = KEPT.get(type(loss).__name__)
    if kept is not None:
        assert config.pop(kept) == getattr(loss, kept)
    return config


# name -> builder with non-default arguments
CONFIGS = {
    "MeanSquaredError": lambda m: m.MeanSquaredError(reduction="sum", name="m"),
    "MeanAbsoluteError": lambda m: m.MeanAbsoluteError(),
    "MeanAbsolutePercentageError": lambda m: m.MeanAbsolutePercentageError(reduction=None),
    "MeanSquaredLogarithmicError": lambda m: m.MeanSquaredLogarithmicError(),
    "CosineSimilarity": lambda m: m.CosineSimilarity(axis=0),
    "Huber": lambda m: m.Huber(delta=2.5),
    "LogCosh": lambda m: m.LogCosh(),
    "Hinge": lambda m: m.Hinge(),
    "SquaredHinge": lambda m: m.SquaredHinge(),
    "CategoricalHinge": lambda m: m.CategoricalHinge(),
    "KLDivergence": lambda m: m.KLDivergence(),
    "Poisson": lambda m: m.Poisson(reduction="mean_with_sample_weight"),
    "BinaryCrossentropy": lambda m: m.BinaryCrossentropy(from_logits=True, label_smoothing=0.1,
                                                         axis=0),
    "BinaryFocalCrossentropy": lambda m: m.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.3, gamma=1.0, label_smoothing=0.2),
    "CategoricalCrossentropy": lambda m: m.CategoricalCrossentropy(label_smoothing=0.3),
    "CategoricalFocalCrossentropy": lambda m: m.CategoricalFocalCrossentropy(alpha=0.5,
                                                                             gamma=4.0),
    "SparseCategoricalCrossentropy": lambda m: m.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=255, axis=-1),
    "Dice": lambda m: m.Dice(axis=(1, 2)),
    "Tversky": lambda m: m.Tversky(alpha=0.1, beta=0.9),
    "CategoricalGeneralizedCrossEntropy": lambda m: m.CategoricalGeneralizedCrossEntropy(q=0.2),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_configs_and_serialized_dicts_match_keras(name):
    theirs, ours = CONFIGS[name](keras.losses), CONFIGS[name](tw_losses)
    assert config_as_keras_writes(ours) == theirs.get_config()
    if name in KEPT:  # Keras reads the kept argument back
        assert type(theirs).from_config(ours.get_config()).get_config() == theirs.get_config()
        return
    # as JSON (Keras keeps a tuple axis a tuple in the dict; JSON makes it a list either way)
    assert json.loads(json.dumps(tw_losses.serialize(ours))) == \
        json.loads(json.dumps(keras.losses.serialize(theirs)))
    assert ours.name == theirs.name and ours.reduction == theirs.reduction


@needs_tf
def test_default_configs_match_keras():
    for name in CONFIGS:
        theirs, ours = getattr(keras.losses, name)(), getattr(tw_losses, name)()
        assert config_as_keras_writes(ours) == theirs.get_config(), name


@needs_tf
def test_serialized_functions_match_keras():
    for name in dir(keras.losses):
        obj = getattr(keras.losses, name)
        if name.startswith("_") or isinstance(obj, type) or not callable(obj) \
                or name in ("get", "serialize", "deserialize", "ctc", "circle"):
            continue
        assert tw_losses.serialize(getattr(tw_losses, name)) == keras.losses.serialize(obj)


@needs_tf
def test_same_public_names_as_keras_and_tf_keras():
    # tf.keras.losses has legacy aliases (mse, logcosh...) in place of some of keras.losses's names
    theirs = {n for n in dir(tf.keras.losses) + dir(keras.losses) if not n.startswith("_")}
    ours = {n for n in dir(tw_losses) if not n.startswith("_")}
    not_built = {"CTC", "ctc", "Circle", "circle"}
    assert theirs - ours == not_built
    assert ours - theirs == {"ALL_OBJECTS", "ALL_OBJECTS_DICT", "LossFunctionWrapper", "loss",
                             "losses", "probabilistic"}
    for alias in ["mse", "MSE", "mae", "MAE", "mape", "MAPE", "msle", "MSLE", "kld", "KLD",
                  "kullback_leibler_divergence", "logcosh"]:
        assert getattr(tw_losses, alias).__name__ == getattr(tf.keras.losses, alias).__name__
    assert tw_losses.Reduction.all() == tf.keras.losses.Reduction.all()


@needs_tf
def test_get_accepts_the_names_keras_accepts():
    from keras.src.losses import ALL_OBJECTS_DICT
    for name in sorted(ALL_OBJECTS_DICT):
        if name in ("CTC", "ctc", "Circle", "circle"):
            continue
        if name == "LossFunctionWrapper":  # needs its function
            with pytest.raises(TypeError):
                keras.losses.get(name)
            with pytest.raises(TypeError):
                tw_losses.get(name)
            continue
        keras.backend.clear_session()  # automatic names ("loss", "loss_1"...) start again
        tw.keras.backend.clear_session()
        theirs, ours = keras.losses.get(name), tw_losses.get(name)
        if isinstance(theirs, keras.losses.Loss):
            assert type(ours).__name__ == type(theirs).__name__, name
            assert config_as_keras_writes(ours) == theirs.get_config(), name
        else:
            assert ours.__name__ == theirs.__name__, name
    for bad in ["foo", "Mse", 3, {"class_name": "Foo", "config": {}}]:
        with pytest.raises(ValueError) as theirs_error:
            keras.losses.get(bad)
        with pytest.raises(ValueError) as ours_error:
            tw_losses.get(bad)
        assert str(ours_error.value) == str(theirs_error.value)


@needs_tf
def test_keras_reads_our_serialized_losses():
    for name, build in CONFIGS.items():
        if name == "CategoricalGeneralizedCrossEntropy":
            continue  # Keras 3.15's deserialize does not know this class
        ours = tw_losses.serialize(build(tw_losses))
        theirs = keras.losses.deserialize(ours)
        assert json.dumps(theirs.get_config()) == json.dumps(build(keras.losses).get_config())


@needs_tf
@pytest.mark.parametrize("name", ["MeanSquaredError", "BinaryCrossentropy", "Hinge", "Huber",
                                  "Poisson", "SparseCategoricalCrossentropy"])
def test_rank_mismatch_by_a_trailing_one_matches_keras(name):
    build = getattr(keras.losses, name)
    ours_build = getattr(tw_losses, name)
    column = RNG.uniform(0.1, 0.9, size=(N, 1))
    flat = RNG.integers(0, 2, size=N).astype(np.float64)
    pairs = [(flat, column), (flat[:, None], column[:, 0]), (flat[:, None], column)]
    if name == "SparseCategoricalCrossentropy":
        pairs = [(flat, PROB), (flat[:, None], PROB)]
    for y_true, y_pred in pairs:
        for reduction in ("sum_over_batch_size", None):
            theirs = np.asarray(build(reduction=reduction)(y_true, y_pred))
            ours = ours_build(reduction=reduction)(y_true, y_pred).numpy()
            assert ours.shape == theirs.shape
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


@needs_tf
def test_softmax_and_sigmoid_outputs_in_a_graph_use_their_logits_as_keras():
    # Keras's TensorFlow backend reads the logits back from a graph's Softmax/Sigmoid op, so
    # saturated probabilities are not clipped (a loss of 60, not 16.1)
    logits = np.array([[30.0, -30.0, 0.0], [2.0, 1.0, -50.0]], np.float32)
    onehot = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    labels = np.array([1, 2], np.int32)

    def losses(m, nn, x):
        return (m.categorical_crossentropy(onehot, nn.softmax(x)),
                m.sparse_categorical_crossentropy(labels, nn.softmax(x)),
                m.binary_crossentropy(onehot, nn.sigmoid(x)),
                m.binary_focal_crossentropy(onehot, nn.sigmoid(x)),
                m.binary_focal_crossentropy(onehot, x, from_logits=True),
                m.categorical_crossentropy(onehot, nn.softmax(x, axis=0)),
                m.CategoricalCrossentropy()(onehot, nn.softmax(x)))
    theirs = tf.function(lambda x: losses(keras.losses, tf.nn, x))(tf.constant(logits))
    ours = tw.function(lambda x: losses(tw_losses, tw.nn, x))(tw.constant(logits))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5)
    assert ours[0].numpy()[0] > 59
