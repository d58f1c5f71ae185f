"""Confusion-matrix, IoU, F-score and correlation metrics against Keras 3 in TensorFlow: the same
metric fed the same batches gives the same result after every batch, the same variables, and
the same config.

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

RNG = np.random.default_rng(7)
EDGES = np.array([0.0, 1.0, 0.5, 0.25, 0.3, 0.7, 0.005, 0.995], np.float32)  # on thresholds


def _binary_batches(n=24, count=3, weighted=False):
    batches = []
    for i in range(count):
        y_true = RNG.integers(0, 2, size=n).astype(np.float32)
        y_pred = RNG.uniform(size=n).astype(np.float32)
        y_pred[: len(EDGES)] = EDGES[(np.arange(len(EDGES)) + i) % len(EDGES)]
        weight = RNG.uniform(0.1, 2.0, size=n).astype(np.float32) if weighted else None
        batches.append((y_true, y_pred, weight))
    return batches


def _multi_batches(n=10, classes=4, count=3, weighted=False, sample_rank=1):
    batches = []
    for _ in range(count):
        y_true = (RNG.uniform(size=(n, classes)) < 0.4).astype(np.float32)
        y_pred = RNG.uniform(size=(n, classes)).astype(np.float32)
        y_pred[0, :2] = [0.5, 1.0]
        shape = (n,) if sample_rank == 1 else (n, classes)
        weight = RNG.uniform(0.1, 2.0, size=shape).astype(np.float32) if weighted else None
        batches.append((y_true, y_pred, weight))
    return batches


def _sparse_batches(n=20, classes=4, count=3, weighted=False):
    batches = []
    for _ in range(count):
        y_true = RNG.integers(0, classes, size=n).astype(np.int32)
        y_pred = RNG.integers(0, classes, size=n).astype(np.int32)
        y_pred[:2] = [classes, -1]  # out of range: left out
        weight = RNG.integers(0, 3, size=n).astype(np.int32) if weighted else None
        batches.append((y_true, y_pred, weight))
    return batches


def _onehot_batches(n=12, classes=3, count=2):
    batches = []
    for _ in range(count):
        y_true = np.eye(classes, dtype=np.float32)[RNG.integers(0, classes, size=n)]
        y_pred = RNG.uniform(size=(n, classes)).astype(np.float32)
        batches.append((y_true, y_pred, None))
    return batches


def _regression_batches(n=16, columns=3, count=3, weighted=False):
    batches = []
    for _ in range(count):
        y_true = RNG.normal(size=(n, columns)).astype(np.float32)
        y_pred = (y_true + RNG.normal(scale=0.5, size=(n, columns))).astype(np.float32)
        weight = RNG.uniform(0.1, 2.0, size=n).astype(np.float32) if weighted else None
        batches.append((y_true, y_pred, weight))
    return batches


B, BW = _binary_batches(), _binary_batches(weighted=True)
M, MW, MW2 = _multi_batches(), _multi_batches(weighted=True), _multi_batches(weighted=True,
                                                                            sample_rank=2)
S, SW = _sparse_batches(), _sparse_batches(weighted=True)
OH = _onehot_batches()
R, RW = _regression_batches(), _regression_batches(weighted=True)
GRID = [(RNG.integers(0, 2, size=400).astype(np.float32),  # predictions on the thresholds
         (RNG.integers(0, 200, size=400) / 199).astype(np.float32), None) for _ in range(2)]
LOGITS = [(t, np.log(p / (1 - p + 1e-6) + 1e-6).astype(np.float32), w) for t, p, w in B]

# name -> (function of a keras module `k` making the metric, batches)
CASES = {
    "true_positives": (lambda k: k.metrics.TruePositives(), BW),
    "false_positives_thresholds": (lambda k: k.metrics.FalsePositives([0.1, 0.5, 0.75]), B),
    "true_negatives_even": (lambda k: k.metrics.TrueNegatives([0.0, 0.25, 0.5, 0.75, 1.0]), BW),
    "false_negatives": (lambda k: k.metrics.FalseNegatives(0.3), B),
    "precision": (lambda k: k.metrics.Precision(), BW),
    "precision_thresholds": (lambda k: k.metrics.Precision(thresholds=[0.2, 0.5, 0.8]), B),
    "precision_even": (lambda k: k.metrics.Precision(thresholds=[0.0, 0.5, 1.0]), BW),
    "precision_top_k": (lambda k: k.metrics.Precision(top_k=2), MW),
    "precision_class_id": (lambda k: k.metrics.Precision(class_id=1), MW),
    "precision_top_k_class_id": (lambda k: k.metrics.Precision(top_k=1, class_id=2), M),
    "precision_multi": (lambda k: k.metrics.Precision(), MW2),
    "recall": (lambda k: k.metrics.Recall(), BW),
    "recall_top_k_thresholds": (lambda k: k.metrics.Recall(thresholds=[0.3, 0.6], top_k=3), M),
    "recall_class_id": (lambda k: k.metrics.Recall(class_id=0, thresholds=0.4), MW),
    "auc": (lambda k: k.metrics.AUC(), BW),
    "auc_pr": (lambda k: k.metrics.AUC(curve="PR"), BW),
    "auc_on_thresholds": (lambda k: k.metrics.AUC(), GRID),
    "auc_pr_on_thresholds": (lambda k: k.metrics.AUC(curve="PR", num_thresholds=67), GRID),
    "sensitivity_on_thresholds": (lambda k: k.metrics.SensitivityAtSpecificity(0.5), GRID),
    "precision_float64": (lambda k: k.metrics.Precision(dtype="float64"), BW),
    "auc_pr_majoring": (lambda k: k.metrics.AUC(curve="PR", summation_method="majoring"), B),
    "auc_roc_minoring": (lambda k: k.metrics.AUC(num_thresholds=7,
                                                 summation_method="minoring"), B),
    "auc_prgain": (lambda k: k.metrics.AUC(curve="PRGAIN", num_thresholds=50), BW),
    "auc_thresholds": (lambda k: k.metrics.AUC(thresholds=[0.7, 0.2, 0.5]), BW),
    "auc_even_thresholds": (lambda k: k.metrics.AUC(thresholds=[0.25, 0.5, 0.75]), B),
    "auc_multi_label": (lambda k: k.metrics.AUC(multi_label=True), MW),
    "auc_multi_label_pr": (lambda k: k.metrics.AUC(multi_label=True, curve="PR",
                                                   num_labels=4), M),
    "auc_multi_label_weights": (lambda k: k.metrics.AUC(multi_label=True,
                                                        label_weights=[1., 2., 0.5, 0.]), MW2),
    "auc_multi_label_thresholds": (lambda k: k.metrics.AUC(multi_label=True,
                                                           thresholds=[0.3, 0.6]), MW2),
    "auc_label_weights_flat": (lambda k: k.metrics.AUC(label_weights=[1., 2., 0.5, 3.]), MW),
    "auc_logits": (lambda k: k.metrics.AUC(from_logits=True, num_thresholds=33), LOGITS),
    "precision_at_recall": (lambda k: k.metrics.PrecisionAtRecall(0.6), BW),
    "recall_at_precision": (lambda k: k.metrics.RecallAtPrecision(0.5, num_thresholds=20), B),
    "sensitivity_at_specificity": (lambda k: k.metrics.SensitivityAtSpecificity(0.4), BW),
    "specificity_at_sensitivity": (lambda k: k.metrics.SpecificityAtSensitivity(
        0.4, num_thresholds=1), B),
    "specificity_at_sensitivity_class": (lambda k: k.metrics.SpecificityAtSensitivity(
        0.5, class_id=3), MW),
    "iou": (lambda k: k.metrics.IoU(4, target_class_ids=[0, 2]), SW),
    "iou_ignore": (lambda k: k.metrics.IoU(4, [1, 3], ignore_class=1), S),
    "mean_iou": (lambda k: k.metrics.MeanIoU(4), SW),
    "mean_iou_float": (lambda k: k.metrics.MeanIoU(4, dtype="float32"), S),
    "binary_iou": (lambda k: k.metrics.BinaryIoU(), B),
    "binary_iou_one_class": (lambda k: k.metrics.BinaryIoU(target_class_ids=[1],
                                                           threshold=0.3), B),
    "one_hot_iou": (lambda k: k.metrics.OneHotIoU(3, [0, 2]), OH),
    "one_hot_mean_iou": (lambda k: k.metrics.OneHotMeanIoU(3), OH),
    "f1": (lambda k: k.metrics.F1Score(), M),
    "f1_micro": (lambda k: k.metrics.F1Score(average="micro", threshold=0.5), MW),
    "f1_macro": (lambda k: k.metrics.F1Score(average="macro"), MW),
    "fbeta_weighted": (lambda k: k.metrics.FBetaScore(average="weighted", beta=2.0,
                                                      threshold=0.4), MW),
    "r2": (lambda k: k.metrics.R2Score(), R),
    "r2_weighted_variance": (lambda k: k.metrics.R2Score(
        class_aggregation="variance_weighted_average"), RW),
    "r2_per_class_adjusted": (lambda k: k.metrics.R2Score(class_aggregation=None,
                                                          num_regressors=3), RW),
    "pearson": (lambda k: k.metrics.PearsonCorrelation(), RW),
    "concordance": (lambda k: k.metrics.ConcordanceCorrelation(), R),
}


def _plain(value):
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _plain_config(config):
    config = json.loads(json.dumps(_plain(config)))
    config.pop("name", None)
    return config


@needs_tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_metric_matches_keras(name):
    make, batches = CASES[name]
    theirs, ours = make(keras), make(tw.keras)
    for y_true, y_pred, weight in batches:
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        ours.update_state(y_true, y_pred, sample_weight=weight)
        expected, got = np.asarray(theirs.result()), ours.result().numpy()
        assert got.shape == expected.shape
        assert got.dtype == expected.dtype
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert [(v.name, tuple(v.shape), v.dtype.name) for v in ours.variables] == \
        [(v.name, tuple(v.shape), str(v.dtype)) for v in theirs.variables]
    for mine, their in zip(ours.variables, theirs.variables):
        np.testing.assert_allclose(mine.numpy(), np.asarray(their), rtol=1e-5, atol=1e-5)
    assert _plain_config(ours.get_config()) == _plain_config(theirs.get_config())
    theirs.reset_state()
    ours.reset_state()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the adjusted R2 of nothing warns (in both)
        np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()), atol=0)


@needs_tf
@pytest.mark.parametrize("name", ["auc_multi_label", "precision_top_k", "iou", "f1_macro",
                                  "r2_per_class_adjusted", "sensitivity_at_specificity"])
def test_from_their_config(name):
    make, batches = CASES[name]
    theirs = make(keras)
    config = json.loads(json.dumps(_plain(theirs.get_config())))
    ours = type(make(tw.keras)).from_config(config)
    for y_true, y_pred, weight in batches:
        theirs.update_state(y_true, y_pred, sample_weight=weight)
        ours.update_state(y_true, y_pred, sample_weight=weight)
    np.testing.assert_allclose(ours.result().numpy(), np.asarray(theirs.result()), rtol=1e-5,
                               atol=1e-6)


@needs_tf
def test_functions_match_keras():
    y_true, y_pred, _ = R[0]
    for fn in ("pearson_correlation", "concordance_correlation"):
        np.testing.assert_allclose(getattr(tw.keras.metrics, fn)(y_true, y_pred).numpy(),
                                   np.asarray(getattr(keras.metrics, fn)(y_true, y_pred)),
                                   rtol=1e-5, atol=1e-6)


@needs_tf
def test_default_names_match_keras():
    for cls in ("TruePositives", "Precision", "Recall", "AUC", "IoU", "MeanIoU", "BinaryIoU",
                "OneHotMeanIoU", "PrecisionAtRecall", "F1Score", "FBetaScore", "R2Score"):
        args = {"IoU": (3, [0]), "MeanIoU": (3,), "OneHotMeanIoU": (3,),
                "PrecisionAtRecall": (0.5,)}.get(cls, ())
        theirs = getattr(keras.metrics, cls)(*args).name.rstrip("_0123456789")
        ours = getattr(tw.keras.metrics, cls)(*args).name.rstrip("_0123456789")
        assert ours == theirs
