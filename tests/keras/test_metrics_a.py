"""keras.metrics part A: accuracy, regression, probabilistic and hinge metrics, keras.metrics.get /
serialize / deserialize, and the custom metrics of the seed notes.

Every metric streams over three batches (with and without sample weights, eagerly and inside
tf.function) and is checked against the weighted mean of a per-sample NumPy formula written here.
"""
import math

import numpy as np
import pytest

import tensorweave as tf
from seeds.seed002_components import HuberMetric, huber_mean_metric_class

M = tf.keras.metrics
EPS = 1e-7
RNG = np.random.default_rng(5)
SIZES = (4, 3, 5)
WEIGHTS = [RNG.uniform(0.1, 2.0, size=n).astype(np.float32) for n in SIZES]


# -- per-sample NumPy formulas -------------------------------------------------------------------
def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _rank_of_target(pred, target):
    """How many predictions of each row are strictly above the target's."""
    value = pred[np.arange(len(pred)), target]
    return (pred > value[:, None]).sum(-1)


def np_binary_xent(t, p, from_logits=False, smoothing=0.0):
    t = t * (1 - smoothing) + 0.5 * smoothing
    if from_logits:
        return np.mean(np.maximum(p, 0) - p * t + np.log1p(np.exp(-np.abs(p))), -1)
    p = np.clip(p, EPS, 1 - EPS)
    return -np.mean(t * np.log(p) + (1 - t) * np.log(1 - p), -1)


def np_categorical_xent(t, p, from_logits=False, smoothing=0.0):
    t = t * (1 - smoothing) + smoothing / t.shape[-1]
    if from_logits:
        p = _softmax(p)
    else:
        p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -np.sum(t * np.log(p), -1)


def np_cosine(t, p):
    def unit(x):
        return x * np.minimum(1 / np.sqrt((x * x).sum(-1, keepdims=True)), 1 / EPS)
    return (unit(t) * unit(p)).sum(-1)


def np_hinge_labels(t):
    return np.where(t == 0, -1.0, t) if set(np.unique(t)) <= {0.0, 1.0} else t


# -- batches --------------------------------------------------------------------------------------
def _regression(n):
    return (RNG.uniform(0.1, 3, size=(n, 3)).astype(np.float32),
            RNG.uniform(0.1, 3, size=(n, 3)).astype(np.float32))


def _binary(n):
    return ((RNG.uniform(size=(n, 2)) > 0.5).astype(np.float32),
            RNG.uniform(0.02, 0.98, size=(n, 2)).astype(np.float32))


def _one_hot(n, classes=4):
    return (np.eye(classes, dtype=np.float32)[RNG.integers(0, classes, size=n)],
            _softmax(RNG.normal(size=(n, classes))).astype(np.float32))


def _sparse(n, classes=5):
    return RNG.integers(0, classes, size=n), RNG.normal(size=(n, classes)).astype(np.float32)


def _sparse_column(n):
    labels, pred = _sparse(n)
    return labels.astype(np.float32)[:, None], pred


def _logits(n):
    return (RNG.uniform(size=(n, 3)) > 0.5).astype(np.float32), \
        RNG.normal(size=(n, 3)).astype(np.float32)


def _categorical_logits(n):
    return _one_hot(n)[0], RNG.normal(size=(n, 4)).astype(np.float32)


def _equal(n):
    t = RNG.integers(0, 3, size=(n, 1)).astype(np.float32)
    p = np.where(RNG.uniform(size=(n, 1)) > 0.5, t, t + 1)
    return t, p


def _sorted_ids(n):
    labels = RNG.integers(0, 6, size=n)
    ids = np.stack([RNG.permutation(6) for _ in range(n)]).astype(np.float32)
    return labels, ids


def _probabilities(n):
    return (_softmax(RNG.normal(size=(n, 4))).astype(np.float32),
            _softmax(RNG.normal(size=(n, 4))).astype(np.float32))


def _counts(n):
    return RNG.poisson(2.0, size=(n, 3)).astype(np.float32), \
        RNG.uniform(0.5, 3, size=(n, 3)).astype(np.float32)


def _signed(n):
    return RNG.choice([-1.0, 1.0], size=(n, 3)).astype(np.float32), \
        RNG.normal(size=(n, 3)).astype(np.float32)


# name -> (make the metric, make a batch of n, per-sample NumPy values, is root-mean-square)
CASES = {
    "accuracy": (M.Accuracy, _equal, lambda t, p: (t == p).astype(float).mean(-1)),
    "binary_accuracy": (M.BinaryAccuracy, _binary,
                        lambda t, p: (t == (p > 0.5)).mean(-1)),
    "binary_accuracy_threshold": (lambda: M.BinaryAccuracy(threshold=0.3), _binary,
                                  lambda t, p: (t == (p > 0.3)).mean(-1)),
    "categorical_accuracy": (M.CategoricalAccuracy, _one_hot,
                             lambda t, p: (t.argmax(-1) == p.argmax(-1)).astype(float)),
    "sparse_categorical_accuracy": (M.SparseCategoricalAccuracy, _sparse,
                                    lambda t, p: (t == p.argmax(-1)).astype(float)),
    "sparse_categorical_accuracy_column": (
        M.SparseCategoricalAccuracy, _sparse_column,
        lambda t, p: (t[:, 0] == p.argmax(-1)).astype(float)),
    "top_k_categorical_accuracy": (
        lambda: M.TopKCategoricalAccuracy(k=2), _one_hot,
        lambda t, p: (_rank_of_target(p, t.argmax(-1)) < 2).astype(float)),
    "sparse_top_k_categorical_accuracy": (
        lambda: M.SparseTopKCategoricalAccuracy(k=3), _sparse,
        lambda t, p: (_rank_of_target(p, t) < 3).astype(float)),
    "sparse_top_k_from_sorted_ids": (
        lambda: M.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True), _sorted_ids,
        lambda t, p: (p[:, :2] == t[:, None]).any(-1).astype(float)),
    "mean_squared_error": (M.MeanSquaredError, _regression, lambda t, p: ((t - p) ** 2).mean(-1)),
    "mean_absolute_error": (M.MeanAbsoluteError, _regression, lambda t, p: abs(t - p).mean(-1)),
    "mean_absolute_percentage_error": (
        M.MeanAbsolutePercentageError, _regression,
        lambda t, p: 100 * (abs(t - p) / np.maximum(abs(t), EPS)).mean(-1)),
    "mean_squared_logarithmic_error": (
        M.MeanSquaredLogarithmicError, _regression,
        lambda t, p: ((np.log1p(np.maximum(p, EPS)) - np.log1p(np.maximum(t, EPS))) ** 2).mean(-1)),
    "root_mean_squared_error": (M.RootMeanSquaredError, _regression,
                                lambda t, p: ((t - p) ** 2).mean(-1)),
    "cosine_similarity": (M.CosineSimilarity, _regression, np_cosine),
    "logcosh": (M.LogCoshError, _regression, lambda t, p: np.log(np.cosh(p - t)).mean(-1)),
    "binary_crossentropy": (M.BinaryCrossentropy, _binary, np_binary_xent),
    "binary_crossentropy_logits_smoothing": (
        lambda: M.BinaryCrossentropy(from_logits=True, label_smoothing=0.2), _logits,
        lambda t, p: np_binary_xent(t, p, from_logits=True, smoothing=0.2)),
    "categorical_crossentropy": (M.CategoricalCrossentropy, _one_hot, np_categorical_xent),
    "categorical_crossentropy_logits_smoothing": (
        lambda: M.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1),
        _categorical_logits,
        lambda t, p: np_categorical_xent(t, p, from_logits=True, smoothing=0.1)),
    "sparse_categorical_crossentropy_logits": (
        lambda: M.SparseCategoricalCrossentropy(from_logits=True), _sparse,
        lambda t, p: -np.log(_softmax(p)[np.arange(len(t)), t])),
    "sparse_categorical_crossentropy_probabilities": (
        M.SparseCategoricalCrossentropy, lambda n: (_sparse(n)[0] % 4, _one_hot(n)[1]),
        lambda t, p: -np.log(np.clip(p, EPS, 1 - EPS)[np.arange(len(t)), t])),
    "kl_divergence": (M.KLDivergence, _probabilities,
                      lambda t, p: (t * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))).sum(-1)),
    "poisson": (M.Poisson, _counts, lambda t, p: (p - t * np.log(p + EPS)).mean(-1)),
    "hinge": (M.Hinge, _signed, lambda t, p: np.maximum(1 - t * p, 0).mean(-1)),
    "hinge_binary_labels": (M.Hinge, _binary,
                            lambda t, p: np.maximum(1 - np_hinge_labels(t) * p, 0).mean(-1)),
    "squared_hinge": (M.SquaredHinge, _signed,
                      lambda t, p: (np.maximum(1 - t * p, 0) ** 2).mean(-1)),
    "categorical_hinge": (
        M.CategoricalHinge, _one_hot,
        lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1, 0)),
}
BATCHES = {name: [case[1](n) for n in SIZES] for name, case in CASES.items()}


def _f64(x):
    return x.astype(np.float64) if x.dtype.kind == "f" else x


def _expected(name, weights):
    _, _, formula = CASES[name]
    values = np.concatenate([formula(_f64(t), _f64(p)) for t, p in BATCHES[name]])
    weights = np.ones_like(values) if weights is None else np.concatenate(weights)
    mean = (values * weights).sum() / weights.sum()
    return math.sqrt(mean) if name == "root_mean_squared_error" else mean


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_streams_over_batches_as_the_numpy_formula(name, weighted):
    metric = CASES[name][0]()
    assert float(metric.result()) == 0.0  # empty state
    for i, (t, p) in enumerate(BATCHES[name]):
        out = metric(t, p, sample_weight=WEIGHTS[i] if weighted else None)
    expected = _expected(name, WEIGHTS if weighted else None)
    np.testing.assert_allclose(float(out), expected, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(float(metric.result()), expected, rtol=2e-5, atol=1e-6)
    assert out.dtype == tf.float32
    metric.reset_state()
    assert float(metric.result()) == 0.0
    assert all(float(v.numpy()) == 0.0 for v in metric.variables)


@pytest.mark.parametrize("name", sorted(CASES))
def test_inside_tf_function(name):
    metric = CASES[name][0]()

    @tf.function
    def step(t, p, w):
        metric.update_state(t, p, sample_weight=w)
        return metric.result()

    for i, (t, p) in enumerate(BATCHES[name]):
        out = step(t, p, WEIGHTS[i])
    np.testing.assert_allclose(float(out), _expected(name, WEIGHTS), rtol=2e-5, atol=1e-6)
    metric.reset_state()  # eager reset between epochs, then the traced step again
    out = step(*BATCHES[name][0], WEIGHTS[0])
    t, p = BATCHES[name][0]
    values = CASES[name][2](_f64(t), _f64(p))
    expected = (values * WEIGHTS[0]).sum() / WEIGHTS[0].sum()
    if name == "root_mean_squared_error":
        expected = math.sqrt(expected)
    np.testing.assert_allclose(float(out), expected, rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(CASES))
def test_config_round_trip(name):
    metric = CASES[name][0]()
    config = metric.get_config()
    clone = type(metric).from_config(config)
    assert clone.get_config() == config
    restored = M.deserialize(M.serialize(metric))
    assert type(restored) is type(metric) and restored.get_config() == config
    t, p = BATCHES[name][0]
    np.testing.assert_allclose(float(clone(t, p)), float(metric(t, p)), rtol=1e-6)


CONFIGS = [
    (M.Accuracy(), {"name": "accuracy", "dtype": "float32"}),
    (M.BinaryAccuracy(threshold=0.7), {"name": "binary_accuracy", "dtype": "float32",
                                       "threshold": 0.7}),
    (M.TopKCategoricalAccuracy(k=3), {"name": "top_k_categorical_accuracy", "dtype": "float32",
                                      "k": 3}),
    (M.SparseTopKCategoricalAccuracy(), {"name": "sparse_top_k_categorical_accuracy",
                                         "dtype": "float32", "k": 5}),
    (M.SparseTopKCategoricalAccuracy(from_sorted_ids=True),
     {"name": "sparse_top_k_categorical_accuracy", "dtype": "float32", "k": 5,
      "from_sorted_ids": True}),
    (M.CosineSimilarity(axis=0), {"name": "cosine_similarity", "dtype": "float32"}),
    (M.LogCoshError(), {"name": "logcosh", "dtype": "float32"}),
    (M.RootMeanSquaredError(dtype="float64"), {"name": "root_mean_squared_error",
                                               "dtype": "float64"}),
    (M.BinaryCrossentropy(label_smoothing=0.1), {"name": "binary_crossentropy", "dtype": "float32",
                                                 "from_logits": False, "label_smoothing": 0.1}),
    (M.CategoricalCrossentropy(axis=1), {"name": "categorical_crossentropy", "dtype": "float32",
                                         "from_logits": False, "label_smoothing": 0, "axis": 1}),
    (M.SparseCategoricalCrossentropy(ignore_class=0),
     {"name": "sparse_categorical_crossentropy", "dtype": "float32", "from_logits": False,
      "ignore_class": 0, "axis": -1}),
    (M.KLDivergence(name="kl"), {"name": "kl", "dtype": "float32"}),
]


@pytest.mark.parametrize("metric,config", CONFIGS, ids=lambda x: getattr(x, "name", ""))
def test_get_config_has_the_keras_keys(metric, config):
    assert metric.get_config() == config
    assert [v.path for v in metric.variables] == [f"{metric.name}/total", f"{metric.name}/count"]


def test_float64_metric():
    metric = M.MeanSquaredError(dtype="float64")
    t, p = BATCHES["mean_squared_error"][0]
    out = metric(t.astype(np.float64), p.astype(np.float64))
    assert out.dtype == tf.float64 and metric.variables[0].dtype == tf.float64
    np.testing.assert_allclose(float(out), ((t - p).astype(np.float64) ** 2).mean(), rtol=1e-6)
    rmse = M.RootMeanSquaredError(dtype="float64")
    out = rmse(t, p)
    assert out.dtype == tf.float64
    np.testing.assert_allclose(float(out), math.sqrt(((t - p).astype(np.float64) ** 2).mean()),
                               rtol=1e-6)


# -- the accuracy functions -----------------------------------------------------------------------
def test_accuracy_functions_per_sample():
    labels = np.array([1, 2, 0, 3])
    pred = np.array([[.1, .6, .2, .1], [.3, .3, .2, .2], [.5, .1, .1, .3], [.1, .2, .3, .4]],
                    np.float32)
    expected = np.array([1., 0., 1., 1.])
    for y in (labels, labels[:, None], labels.astype(np.float32), labels[:, None].astype(float)):
        out = M.sparse_categorical_accuracy(y, pred)
        assert out.shape == (4,) and out.dtype == tf.float32
        np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_array_equal(M.categorical_accuracy(np.eye(4)[labels], pred).numpy(),
                                  expected)
    # ties at the boundary count as in the top k (TensorFlow's in_top_k)
    np.testing.assert_array_equal(M.sparse_top_k_categorical_accuracy(labels, pred, k=1).numpy(),
                                  [1, 0, 1, 1])
    np.testing.assert_array_equal(
        M.sparse_top_k_categorical_accuracy([1, 0, 0, 3], pred, k=1).numpy(), [1, 1, 1, 1])
    np.testing.assert_array_equal(
        M.top_k_categorical_accuracy(np.eye(4)[[1, 0, 3, 0]], pred, k=2).numpy(), [1, 1, 1, 0])
    out = M.binary_accuracy([[1], [0], [1]], [[0.6], [0.4], [0.2]])
    np.testing.assert_array_equal(out.numpy(), [[1.], [1.], [0.]])
    np.testing.assert_array_equal(M.binary_accuracy([1, 0], [0.9, 0.9], threshold=0.95).numpy(),
                                  [0., 1.])


def test_top_k_out_of_range_targets_and_non_finite_rows_are_misses():
    pred = np.array([[0.1, 0.5, np.nan], [0.2, 0.1, 0.0], [np.inf, 1.0, 0.0]], np.float32)
    out = M.sparse_top_k_categorical_accuracy(np.array([2, 7, 0]), pred, k=2)
    np.testing.assert_array_equal(out.numpy(), [0., 0., 0.])
    # a row holding a non-finite prediction is a miss whatever its target (TensorFlow's
    # in_top_k; Keras 3.15 gives [0, 1, 0] for both)
    out = M.sparse_top_k_categorical_accuracy(np.array([0, 0, 1]), pred, k=2)
    np.testing.assert_array_equal(out.numpy(), [0., 1., 0.])
    np.testing.assert_array_equal(
        M.sparse_top_k_categorical_accuracy(np.array([0, 2, 1]), pred, k=5).numpy(), [0, 1, 0])


def test_sequence_accuracy_keeps_the_label_shape():
    labels = RNG.integers(0, 3, size=(2, 4))
    pred = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    out = M.sparse_top_k_categorical_accuracy(labels, pred, k=2)
    assert out.shape == (2, 4)
    ranks = _rank_of_target(pred.reshape(-1, 3), labels.reshape(-1)).reshape(2, 4)
    np.testing.assert_array_equal(out.numpy(), (ranks < 2).astype(float))
    out = M.sparse_categorical_accuracy(labels[..., None], pred)
    assert out.shape == (2, 4)
    np.testing.assert_array_equal(out.numpy(), (labels == pred.argmax(-1)).astype(float))
    metric = M.SparseCategoricalAccuracy()
    metric.update_state(labels, pred, sample_weight=[1.0, 3.0])
    per_sample = (labels == pred.argmax(-1)).mean(-1)
    np.testing.assert_allclose(float(metric.result()), (per_sample * [1, 3]).sum() / 4, rtol=1e-6)


def test_sparse_accuracy_in_a_graph_with_unknown_batch():
    metric = M.SparseCategoricalAccuracy()

    @tf.function(input_signature=[tf.TensorSpec([None, 1], tf.int32),
                                  tf.TensorSpec([None, 3], tf.float32)])
    def step(t, p):
        metric.update_state(t, p)
        return metric.result()

    pred = np.array([[.1, .8, .1], [.7, .2, .1], [.2, .2, .6]], np.float32)
    np.testing.assert_allclose(float(step(np.array([[1], [1], [2]], np.int32), pred)), 2 / 3,
                               rtol=1e-6)
    np.testing.assert_allclose(float(step(np.array([[0]], np.int32), pred[:1])), 2 / 4, rtol=1e-6)


def test_sample_weights_of_rank_two():
    t, p = _regression(4)
    metric = M.MeanAbsoluteError()
    out = metric(t, p, sample_weight=WEIGHTS[0][:, None])  # (n, 1) weights: one per sample
    values = abs(t - p).mean(-1)
    np.testing.assert_allclose(float(out), (values * WEIGHTS[0]).sum() / WEIGHTS[0].sum(),
                               rtol=1e-5)
    # as in Keras, per-element weights cannot weight per-sample values
    with pytest.raises(tf.errors.InvalidArgumentError):
        M.MeanAbsoluteError()(t, p, sample_weight=np.ones((4, 3), np.float32))


def test_ignore_class_leaves_entries_out():
    labels = np.array([0, 2, 1, 2])
    logits = RNG.normal(size=(4, 3)).astype(np.float32)
    metric = M.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    out = metric(labels, logits)
    per_sample = -np.log(_softmax(logits.astype(np.float64))[np.arange(4), labels])
    # as in Keras 3, the masked entries count as zeros of the mean (the loss's mask only takes
    # effect together with sample weights)
    np.testing.assert_allclose(float(out), per_sample[[0, 2]].sum() / 4, rtol=1e-5)
    metric.reset_state()
    out = metric(labels, logits, sample_weight=[1.0, 1.0, 3.0, 1.0])
    np.testing.assert_allclose(float(out), (per_sample[0] + 3 * per_sample[2]) / 4, rtol=1e-5)


def test_cosine_similarity_axis():
    t, p = _regression(3)
    out = M.CosineSimilarity(axis=0)(t, p)
    np.testing.assert_allclose(float(out), np_cosine(t.T, p.T).mean(), rtol=1e-5)


# -- get / serialize / deserialize ----------------------------------------------------------------
@pytest.mark.parametrize("identifier,cls", [
    ("mae", "MeanAbsoluteError"), ("MAE", "MeanAbsoluteError"),
    ("mean_absolute_error", "MeanAbsoluteError"), ("MeanAbsoluteError", "MeanAbsoluteError"),
    ("mse", "MeanSquaredError"), ("MSE", "MeanSquaredError"),
    ("mape", "MeanAbsolutePercentageError"),
    ("msle", "MeanSquaredLogarithmicError"), ("bce", "BinaryCrossentropy"),
    ("BCE", "BinaryCrossentropy"), ("accuracy", "Accuracy"), ("binary_accuracy", "BinaryAccuracy"),
    ("categorical_crossentropy", "CategoricalCrossentropy"),
    ("sparse_top_k_categorical_accuracy", "SparseTopKCategoricalAccuracy"),
    ("log_cosh_error", "LogCoshError"), ("kl_divergence", "KLDivergence"),
    ("root_mean_squared_error", "RootMeanSquaredError"), ("mean", "Mean"),
    ("AUC", "AUC"), ("auc", "AUC"), ("Precision", "Precision"), ("recall", "Recall"),
    ("f1_score", "F1Score"), ("r2_score", "R2Score"),
])
def test_get_by_name_gives_a_new_instance(identifier, cls):
    first, second = M.get(identifier), M.get(identifier)
    assert type(first) is getattr(M, cls) and first is not second


@pytest.mark.parametrize("identifier", ["acc", "logcosh", "nope", 5, {"class_name": "Nope",
                                                                       "config": {}}])
def test_get_unknown_is_a_value_error(identifier):
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        M.get(identifier)


def test_get_passes_objects_through():
    assert M.get(None) is None
    metric = M.Accuracy(name="x")
    assert M.get(metric) is metric
    assert M.get(M.binary_accuracy) is M.binary_accuracy
    assert isinstance(M.get(M.Hinge), M.Hinge)
    made = M.get({"class_name": "BinaryAccuracy", "config": {"threshold": 0.7}})
    assert isinstance(made, M.BinaryAccuracy) and made.threshold == 0.7
    made = M.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert made.from_logits is True


def test_serialize_and_deserialize():
    config = M.serialize(M.BinaryAccuracy(threshold=0.3))
    assert config == {"module": "keras.metrics", "class_name": "BinaryAccuracy",
                      "config": {"name": "binary_accuracy", "dtype": "float32", "threshold": 0.3},
                      "registered_name": None}
    assert M.deserialize(config).threshold == 0.3
    assert M.serialize(M.binary_accuracy) == {"module": "builtins", "class_name": "function",
                                              "config": "binary_accuracy",
                                              "registered_name": "function"}
    for fn in (M.binary_accuracy, M.sparse_top_k_categorical_accuracy):
        assert M.deserialize(M.serialize(fn)) is fn
    assert isinstance(M.deserialize("mae"), M.MeanAbsoluteError)

    class Custom(M.Mean):
        pass

    restored = M.deserialize(M.serialize(Custom(name="c")), custom_objects={"Custom": Custom})
    assert type(restored) is Custom and restored.name == "c"


# -- the seed notes (002): custom streaming metrics -----------------------------------------------
class MyPrecision(tf.keras.metrics.Metric):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.true_positives = self.add_weight(name="true_positives", initializer="zeros")
        self.false_positives = self.add_weight(name="false_positives", initializer="zeros")

    def update_state(self, y_true, y_pred):
        total_pred_positives = tf.cast(tf.reduce_sum(y_pred), tf.float32)
        true_positives = tf.reduce_sum(tf.multiply(tf.cast(y_true, tf.float32),
                                                   tf.cast(y_pred, tf.float32)))
        self.true_positives.assign_add(true_positives)
        self.false_positives.assign_add(total_pred_positives - true_positives)

    def result(self):
        if tf.equal(self.true_positives + self.false_positives, 0):
            return self.true_positives
        return self.true_positives / (self.true_positives + self.false_positives)


MeanHuberMetric = huber_mean_metric_class()


@pytest.mark.parametrize("cls", [HuberMetric, MeanHuberMetric])
def test_seed_huber_metric(cls):
    m = cls(2.)
    # total = 2 * |10 - 2| - 2**2 / 2 = 14, count = 1
    assert float(m(tf.constant([[2.]]), tf.constant([[10.]]))) == 14.0
    # total = 14 + 1**2 / 2 + (2 * |9.25 - 5| - 2) = 21, count = 3
    assert float(m(tf.constant([[0.], [5.]]), tf.constant([[1.], [9.25]]))) == 7.0
    assert float(m.result()) == 7.0
    assert [float(v.numpy()) for v in m.variables] == [21.0, 3.0]
    m.reset_state()
    assert [float(v.numpy()) for v in m.variables] == [0.0, 0.0]
    config = m.get_config()
    assert config["threshold"] == 2.0
    clone = cls.from_config(config)
    assert clone.threshold == 2.0 and clone.name == m.name

    @tf.function
    def step(y_true, y_pred):
        clone.update_state(y_true, y_pred)
        return clone.result()

    assert float(step(tf.constant([[2.]]), tf.constant([[10.]]))) == 14.0
    assert float(step(tf.constant([[0.], [5.]]), tf.constant([[1.], [9.25]]))) == 7.0


def test_seed_mean_huber_metric_with_sample_weights():
    m = MeanHuberMetric(2.)
    m(tf.constant([[2.]]), tf.constant([[10.]]), sample_weight=[0.5])
    out = m(tf.constant([[0.], [5.]]), tf.constant([[1.], [9.25]]), sample_weight=[2., 1.])
    # (0.5 * 14 + 2 * 0.5 + 1 * 6.5) / (0.5 + 2 + 1)
    np.testing.assert_allclose(float(out), 14.5 / 3.5, rtol=1e-6)
    assert m.name == "HuberMetric"


def test_seed_my_precision():
    m = MyPrecision()
    assert float(m(tf.constant([0, 1, 1, 1, 0, 1, 0, 1]), tf.constant([1, 1, 0, 1, 0, 1, 0, 1]))) \
        == pytest.approx(0.8)
    assert float(m([0, 1, 0, 0, 1, 0, 1, 1], [1, 0, 1, 1, 0, 0, 0, 0])) == pytest.approx(0.5)
    assert len(m.variables) == 2
    m.reset_state()
    assert float(m.result()) == 0.0


def test_namespace_reexports_the_loss_functions():
    losses = tf.keras.losses
    for name in ("binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy",
                 "binary_focal_crossentropy", "categorical_focal_crossentropy", "hinge",
                 "squared_hinge", "categorical_hinge", "huber", "kl_divergence", "log_cosh",
                 "poisson", "mean_squared_error", "mean_absolute_error",
                 "mean_absolute_percentage_error", "mean_squared_logarithmic_error"):
        assert getattr(M, name) is getattr(losses, name)
    assert M.mse is M.MSE is losses.mean_squared_error
    assert M.mae is M.MAE is losses.mean_absolute_error
    assert M.mape is M.MAPE and M.msle is M.MSLE and M.logcosh is losses.log_cosh
    assert M.kld is M.KLD is M.kullback_leibler_divergence is losses.kl_divergence
