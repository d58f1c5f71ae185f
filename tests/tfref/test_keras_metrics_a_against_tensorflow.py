"""keras.metrics part A (accuracy, regression, probabilistic, hinge metrics and keras.metrics.get)
against Keras 3 in TensorFlow: the same metric streamed over the same batches gives the same
result after every batch, and the same config.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import json

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

RNG = np.random.default_rng(23)
SIZES = (4, 3, 5)
WEIGHTS = [RNG.uniform(0.1, 2.0, size=n).astype(np.float32) for n in SIZES]


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).astype(np.float32)


def regression(n):
    return (RNG.uniform(-1, 3, size=(n, 3)).astype(np.float32),
            RNG.uniform(-1, 3, size=(n, 3)).astype(np.float32))


def binary(n):
    return ((RNG.uniform(size=(n, 2)) > 0.5).astype(np.float32),
            RNG.uniform(0, 1, size=(n, 2)).astype(np.float32))


def one_hot(n):
    return np.eye(4, dtype=np.float32)[RNG.integers(0, 4, size=n)], \
        _softmax(RNG.normal(size=(n, 4)))


def logits(n):
    return np.eye(4, dtype=np.float32)[RNG.integers(0, 4, size=n)], \
        RNG.normal(size=(n, 4)).astype(np.float32)


def sparse(n):
    return RNG.integers(0, 4, size=n).astype(np.int32), RNG.normal(size=(n, 4)).astype(np.float32)


def sparse_column_float(n):
    labels, pred = sparse(n)
    return labels[:, None].astype(np.float32), _softmax(pred)


def tied(n):
    """Scores with many ties (rounded), to check in_top_k's boundary rule."""
    labels, pred = sparse(n)
    return labels, np.round(pred).astype(np.float32)


def sorted_ids(n):
    return RNG.integers(0, 5, size=n).astype(np.int32), \
        np.stack([RNG.permutation(5) for _ in range(n)]).astype(np.float32)


def sequence(n):
    return RNG.integers(0, 3, size=(n, 2)).astype(np.int32), \
        RNG.normal(size=(n, 2, 3)).astype(np.float32)


def equal(n):
    t = RNG.integers(0, 3, size=(n, 2)).astype(np.float32)
    return t, np.where(RNG.uniform(size=(n, 2)) > 0.5, t, 2 - t).astype(np.float32)


def probabilities(n):
    return _softmax(RNG.normal(size=(n, 4))), _softmax(RNG.normal(size=(n, 4)))


def counts(n):
    return RNG.poisson(2.0, size=(n, 3)).astype(np.float32), \
        RNG.uniform(0.5, 3, size=(n, 3)).astype(np.float32)


def signed(n):
    return RNG.choice([-1.0, 1.0], size=(n, 3)).astype(np.float32), \
        RNG.normal(size=(n, 3)).astype(np.float32)


# name -> (function of a keras module `k` making the metric, batch maker)
CASES = {
    "accuracy": (lambda k: k.metrics.Accuracy(), equal),
    "binary_accuracy": (lambda k: k.metrics.BinaryAccuracy(), binary),
    "binary_accuracy_threshold": (lambda k: k.metrics.BinaryAccuracy(threshold=0.8), binary),
    "categorical_accuracy": (lambda k: k.metrics.CategoricalAccuracy(), one_hot),
    "sparse_categorical_accuracy": (lambda k: k.metrics.SparseCategoricalAccuracy(), sparse),
    "sparse_categorical_accuracy_column": (lambda k: k.metrics.SparseCategoricalAccuracy(),
                                           sparse_column_float),
    "sparse_categorical_accuracy_sequence": (lambda k: k.metrics.SparseCategoricalAccuracy(),
                                             sequence),
    "top_k": (lambda k: k.metrics.TopKCategoricalAccuracy(k=2), one_hot),
    "sparse_top_k": (lambda k: k.metrics.SparseTopKCategoricalAccuracy(k=2), sparse),
    "sparse_top_k_ties": (lambda k: k.metrics.SparseTopKCategoricalAccuracy(k=1), tied),
    "sparse_top_k_sequence": (lambda k: k.metrics.SparseTopKCategoricalAccuracy(k=2), sequence),
    "sparse_top_k_sorted_ids": (
        lambda k: k.metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True), sorted_ids),
    "mse": (lambda k: k.metrics.MeanSquaredError(), regression),
    "mae": (lambda k: k.metrics.MeanAbsoluteError(), regression),
    "mape": (lambda k: k.metrics.MeanAbsolutePercentageError(), regression),
    "msle": (lambda k: k.metrics.MeanSquaredLogarithmicError(), regression),
    "rmse": (lambda k: k.metrics.RootMeanSquaredError(), regression),
    "cosine": (lambda k: k.metrics.CosineSimilarity(), regression),
    "cosine_axis0": (lambda k: k.metrics.CosineSimilarity(axis=0), regression),
    "logcosh": (lambda k: k.metrics.LogCoshError(), regression),
    "bce": (lambda k: k.metrics.BinaryCrossentropy(), binary),
    "bce_logits_smoothing": (
        lambda k: k.metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), signed),
    "cce": (lambda k: k.metrics.CategoricalCrossentropy(), one_hot),
    "cce_logits_smoothing": (
        lambda k: k.metrics.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        logits),
    "scce": (lambda k: k.metrics.SparseCategoricalCrossentropy(), sparse_column_float),
    "scce_logits": (lambda k: k.metrics.SparseCategoricalCrossentropy(from_logits=True), sparse),
    "scce_ignore_class": (
        lambda k: k.metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=1),
        sparse),
    "kld": (lambda k: k.metrics.KLDivergence(), probabilities),
    "poisson": (lambda k: k.metrics.Poisson(), counts),
    "hinge": (lambda k: k.metrics.Hinge(), signed),
    "hinge_binary_labels": (lambda k: k.metrics.Hinge(), binary),
    "squared_hinge": (lambda k: k.metrics.SquaredHinge(), signed),
    "categorical_hinge": (lambda k: k.metrics.CategoricalHinge(), one_hot),
    "float64_mse": (lambda k: k.metrics.MeanSquaredError(dtype="float64"), regression),
}
BATCHES = {name: [case[1](n) for n in SIZES] for name, case in CASES.items()}


# per-sample weights do not fit values reduced over the batch axis (an error in both)
UNWEIGHTED_ONLY = {"cosine_axis0"}


@needs_tf
@pytest.mark.parametrize("name,weighted", [(name, weighted) for name in sorted(CASES)
                                           for weighted in (False, True)
                                           if not (weighted and name in UNWEIGHTED_ONLY)])
def test_metric_matches_keras(name, weighted):
    make = CASES[name][0]
    theirs, ours = make(keras), make(tw.keras)
    for i, (t, p) in enumerate(BATCHES[name]):
        w = WEIGHTS[i] if weighted else None
        expected, out = theirs(t, p, sample_weight=w), ours(t, p, sample_weight=w)
        assert out.dtype.name == expected.dtype.name
        np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-5, atol=1e-7)
    assert [v.path for v in ours.variables] == [v.path for v in theirs.variables]
    theirs.reset_state()
    ours.reset_state()
    np.testing.assert_allclose(ours.result().numpy(), theirs.result().numpy())
    assert json.loads(json.dumps(ours.get_config())) == json.loads(json.dumps(theirs.get_config()))
    assert tw.keras.metrics.serialize(ours) == keras.metrics.serialize(theirs)


FUNCTIONS = {
    "binary_accuracy": ({"threshold": 0.3}, binary),
    "categorical_accuracy": ({}, one_hot),
    "sparse_categorical_accuracy": ({}, sparse_column_float),
    "top_k_categorical_accuracy": ({"k": 3}, one_hot),
    "sparse_top_k_categorical_accuracy": ({"k": 1}, tied),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_matches_keras(name):
    kwargs, make = FUNCTIONS[name]
    t, p = make(5)
    expected = getattr(keras.metrics, name)(t, p, **kwargs)
    out = getattr(tw.keras.metrics, name)(t, p, **kwargs)
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())
    assert tw.keras.metrics.serialize(getattr(tw.keras.metrics, name)) == \
        keras.metrics.serialize(getattr(keras.metrics, name))


IDENTIFIERS = ["mae", "MAE", "mse", "MSE", "mape", "MAPE", "msle", "MSLE", "bce", "BCE",
               "accuracy", "acc", "auc", "AUC", "binary_accuracy", "BinaryAccuracy",
               "categorical_crossentropy", "CategoricalCrossentropy", "log_cosh_error", "logcosh",
               "kl_divergence", "kld", "r2_score", "f1_score", "precision", "Recall",
               "root_mean_squared_error", "mean", "sum", "nope",
               {"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}},
               {"class_name": "SparseTopKCategoricalAccuracy", "config": {"k": 2}},
               {"class_name": "Nope", "config": {}}]


def _outcome(module, identifier):
    try:
        found = module.metrics.get(identifier)
    except ValueError as error:
        return "ValueError", str(error)
    return type(found).__name__, json.loads(json.dumps(found.get_config()))


@needs_tf
@pytest.mark.parametrize("identifier", IDENTIFIERS, ids=str)
def test_get_matches_keras(identifier):
    theirs, ours = _outcome(keras, identifier), _outcome(tw.keras, identifier)
    if isinstance(theirs[1], dict):  # default names get a numeric suffix when used twice
        theirs[1].pop("name"), ours[1].pop("name")
    assert ours == theirs


@needs_tf
def test_seed_mean_based_huber_metric_matches_keras():
    def build(module, ops):
        def create_huber(threshold=1.0):
            def huber_fn(y_true, y_pred):
                error = y_true - y_pred
                return ops.where(ops.abs(error) < threshold, ops.square(error) / 2,
                                 threshold * ops.abs(error) - threshold ** 2 / 2)
            return huber_fn

        class HuberMetric(module.metrics.Mean):
            def __init__(self, threshold=1.0, name="HuberMetric", dtype=None):
                self.threshold = threshold
                self.huber_fn = create_huber(threshold)
                super().__init__(name=name, dtype=dtype)

            def update_state(self, y_true, y_pred, sample_weight=None):
                super().update_state(self.huber_fn(y_true, y_pred), sample_weight)

            def get_config(self):
                return {**super().get_config(), "threshold": self.threshold}
        return HuberMetric(2.0)

    theirs, ours = build(keras, tf), build(tw.keras, tw)
    t, p = regression(6)
    for metric in (theirs, ours):
        metric.update_state(t[:, :1] * 4, p[:, :1] * 4, sample_weight=WEIGHTS[2][:1].repeat(6))
        metric.update_state(t * 3, p, sample_weight=WEIGHTS[0][:2].repeat(3))
    np.testing.assert_allclose(ours.result().numpy(), theirs.result().numpy(), rtol=1e-5)
    assert ours.get_config() == theirs.get_config()
