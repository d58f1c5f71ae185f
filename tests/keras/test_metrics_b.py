"""keras.metrics part B: confusion-matrix metrics (TruePositives…, Precision, Recall, AUC, the
"X at Y" metrics), IoU metrics, F-scores, R2Score and the correlation metrics, each streamed over
batches against NumPy formulas written here, with sample weights, reset, configs and tf.function.
"""
import json

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras.saving import serialization

metrics = keras.metrics
RNG = np.random.default_rng(3)
EPS = 1e-7


# --- data --------------------------------------------------------------------------------------

def binary_batches(n=30, count=3, weighted=True):
    out = []
    for i in range(count):
        y_true = RNG.integers(0, 2, size=n).astype(np.float32)
        y_pred = RNG.uniform(size=n).astype(np.float32)
        y_pred[:5] = np.float32([0.0, 1.0, 0.5, 0.25, 0.75])[(np.arange(5) + i) % 5]
        weight = RNG.uniform(0.2, 2.0, size=n).astype(np.float32) if weighted else None
        out.append((y_true, y_pred, weight))
    return out


def multi_batches(n=12, classes=4, count=3, weighted=True):
    out = []
    for _ in range(count):
        y_true = (RNG.uniform(size=(n, classes)) < 0.4).astype(np.float32)
        y_pred = RNG.uniform(size=(n, classes)).astype(np.float32)
        weight = RNG.uniform(0.2, 2.0, size=n).astype(np.float32) if weighted else None
        out.append((y_true, y_pred, weight))
    return out


def stream(metric, batches):
    """Feeds the batches; returns the result after each one."""
    results = []
    for y_true, y_pred, weight in batches:
        metric.update_state(y_true, y_pred, sample_weight=weight)
        results.append(metric.result().numpy())
    return results


def concat(batches):
    y_true = np.concatenate([b[0] for b in batches])
    y_pred = np.concatenate([b[1] for b in batches])
    weights = [np.ones(len(b[0]), np.float32) if b[2] is None else b[2] for b in batches]
    return y_true, y_pred, np.concatenate(weights)


# --- NumPy oracles -----------------------------------------------------------------------------

def np_counts(y_true, y_pred, thresholds, weight=None):
    """tp, fp, tn, fn per threshold: positive prediction when strictly above the threshold."""
    y = np.asarray(y_true).reshape(-1) != 0
    p = np.asarray(y_pred, np.float32).reshape(-1)
    w = np.ones_like(p, np.float64) if weight is None else np.broadcast_to(
        np.asarray(weight, np.float64).reshape(-1, *([1] * (np.ndim(y_pred) - 1))),
        np.shape(y_pred)).reshape(-1)
    above = p[None, :] > np.asarray(thresholds, np.float32)[:, None]
    tp = (above & y) @ w
    fp = (above & ~y) @ w
    fn = (~above & y) @ w
    tn = (~above & ~y) @ w
    return tp, fp, tn, fn


def safe_div(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.where(b == 0, 0.0, a / np.where(b == 0, 1, b))


def auc_thresholds(num):
    inner = [(i + 1) / (num - 1) for i in range(num - 2)]
    return np.array([-EPS] + inner + [1 + EPS])


def np_riemann_auc(tp, fp, tn, fn, curve="ROC", method="interpolation"):
    recall = safe_div(tp, tp + fn)
    if curve == "ROC":
        x, y = safe_div(fp, fp + tn), recall
    else:
        x, y = recall, safe_div(tp, tp + fp)
    if method == "interpolation":
        heights = (y[:-1] + y[1:]) / 2
    elif method == "minoring":
        heights = np.minimum(y[:-1], y[1:])
    else:
        heights = np.maximum(y[:-1], y[1:])
    return np.sum((x[:-1] - x[1:]) * heights, axis=0)


def np_interpolated_pr_auc(tp, fp, fn):
    """Davis & Goadrich: between two thresholds tp grows linearly with the predicted positives
    p; the area is integral of precision(p) d recall(p), integrated numerically here."""
    positives = tp[0] + fn[0]
    area = 0.0
    for i in range(len(tp) - 1):
        p_hi, p_lo = tp[i] + fp[i], tp[i + 1] + fp[i + 1]
        if p_hi <= p_lo or positives == 0:
            continue
        slope = (tp[i] - tp[i + 1]) / (p_hi - p_lo)
        grid = np.linspace(max(p_lo, 1e-12), p_hi, 20001)
        tps = tp[i + 1] + slope * (grid - p_lo)
        precision = tps / grid
        area += np.trapezoid(precision, grid) * slope / positives
    return area


def exact_roc_auc(y_true, y_pred, weight):
    pos, neg = y_true != 0, y_true == 0
    wins = (y_pred[pos][:, None] > y_pred[neg][None, :]).astype(np.float64)
    pair_weights = weight[pos][:, None] * weight[neg][None, :]
    return np.sum(wins * pair_weights) / np.sum(pair_weights)


# --- the seed example --------------------------------------------------------------------------

def test_seed_002_streaming_precision():
    precision = tf.keras.metrics.Precision()
    first = precision([0, 1, 1, 1, 0, 1, 0, 1], [1, 1, 0, 1, 0, 1, 0, 1])
    second = precision([0, 1, 0, 0, 1, 0, 1, 1], [1, 0, 1, 1, 0, 0, 0, 0])
    assert float(first) == pytest.approx(0.8)
    assert float(second) == pytest.approx(0.5)
    assert float(precision.result()) == pytest.approx(0.5)
    assert len(precision.variables) == 2
    assert [v.name for v in precision.variables] == ["true_positives", "false_positives"]
    np.testing.assert_array_equal(precision.variables[0].numpy(), [4.0])
    np.testing.assert_array_equal(precision.variables[1].numpy(), [4.0])
    precision.reset_state()
    assert all(np.all(v.numpy() == 0) for v in precision.variables)
    assert float(precision.result()) == 0.0
    precision.reset_states()


# --- counts, precision, recall -----------------------------------------------------------------

@pytest.mark.parametrize("thresholds", [None, 0.3, [0.1, 0.5, 0.9],
                                        [0.0, 0.25, 0.5, 0.75, 1.0]])
def test_condition_counts_match_numpy(thresholds):
    batches = binary_batches()
    ts = [0.5] if thresholds is None else np.atleast_1d(thresholds)
    classes = [metrics.TruePositives, metrics.FalsePositives, metrics.TrueNegatives,
               metrics.FalseNegatives]
    ours = [cls(thresholds=thresholds) for cls in classes]
    for k in range(1, len(batches) + 1):
        for m in ours:
            m.update_state(*batches[k - 1][:2], sample_weight=batches[k - 1][2])
        expected = np_counts(*concat(batches[:k])[:2], ts, concat(batches[:k])[2])
        for m, exp in zip(ours, expected):
            got = m.result().numpy()
            assert got.shape == (() if len(ts) == 1 else (len(ts),))
            np.testing.assert_allclose(got, exp if len(ts) > 1 else exp[0], rtol=1e-5)


def test_unweighted_counts_are_integers():
    m = metrics.TruePositives(thresholds=[0.0, 0.5, 1.0])
    m.update_state([1, 1, 0, 1], [0.0, 0.6, 0.9, 1.0])
    np.testing.assert_array_equal(m.result().numpy(), [2.0, 2.0, 0.0])  # 0.0 > 0.0 is false


@pytest.mark.parametrize("cls", ["Precision", "Recall"])
@pytest.mark.parametrize("thresholds", [None, [0.2, 0.5, 0.8], [0.0, 0.5, 1.0]])
def test_precision_recall_match_numpy(cls, thresholds):
    batches = binary_batches()
    m = getattr(metrics, cls)(thresholds=thresholds)
    results = stream(m, batches)
    ts = [0.5] if thresholds is None else thresholds
    for k, got in enumerate(results, 1):
        tp, fp, _, fn = np_counts(*concat(batches[:k])[:2], ts, concat(batches[:k])[2])
        exp = safe_div(tp, tp + fp) if cls == "Precision" else safe_div(tp, tp + fn)
        np.testing.assert_allclose(got, exp[0] if thresholds is None else exp, rtol=1e-5)


def _top_k_mask(y_pred, k):
    order = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    mask = np.zeros_like(y_pred, bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return mask


@pytest.mark.parametrize("cls", ["Precision", "Recall"])
@pytest.mark.parametrize("top_k,class_id,thresholds", [(2, None, None), (None, 1, None),
                                                       (1, 3, None), (3, None, [0.3, 0.6]),
                                                       (None, 2, 0.7)])
def test_top_k_and_class_id_match_numpy(cls, top_k, class_id, thresholds):
    batches = multi_batches()
    m = getattr(metrics, cls)(thresholds=thresholds, top_k=top_k, class_id=class_id)
    results = stream(m, batches)
    y_true, y_pred, weight = concat(batches)
    scores = y_pred.copy()
    if top_k is not None:
        scores = np.where(_top_k_mask(y_pred, top_k), y_pred, -np.inf)
    if class_id is not None:
        y_true, scores = y_true[:, class_id], scores[:, class_id]
    ts = [-1e10] if thresholds is None and top_k is not None else (
        [0.5] if thresholds is None else np.atleast_1d(thresholds))
    tp, fp, _, fn = np_counts(y_true, scores, ts, weight)
    exp = safe_div(tp, tp + fp) if cls == "Precision" else safe_div(tp, tp + fn)
    np.testing.assert_allclose(results[-1], exp if len(ts) > 1 else exp[0], rtol=1e-5)


def test_precision_with_per_entry_weights_and_rank2_labels():
    y_true = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    y_pred = np.array([[0.9, 0.8], [0.2, 0.7], [0.6, 0.1]], np.float32)
    weight = np.array([[1.0, 2.0], [3.0, 0.5], [0.0, 4.0]], np.float32)
    m = metrics.Precision()
    m.update_state(y_true, y_pred, sample_weight=weight)
    # positives: (0,0) w1 true, (0,1) w2 false, (1,1) w0.5 true, (2,0) w0 true
    assert float(m.result()) == pytest.approx(1.5 / 3.5, rel=1e-6)


def test_class_id_needs_two_dimensions():
    with pytest.raises(ValueError, match="class_id is provided"):
        metrics.Precision(class_id=0).update_state([1, 0], [0.3, 0.6])


def test_thresholds_must_lie_in_unit_interval():
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="Threshold values"):
        metrics.TruePositives(thresholds=-0.1)


# --- AUC ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
def test_auc_matches_numpy_riemann_sums(curve, method):
    batches = binary_batches()
    m = metrics.AUC(num_thresholds=50, curve=curve, summation_method=method)
    results = stream(m, batches)
    ts = auc_thresholds(50)
    for k, got in enumerate(results, 1):
        y_true, y_pred, weight = concat(batches[:k])
        tp, fp, tn, fn = np_counts(y_true, y_pred, ts, weight)
        if curve == "PR" and method == "interpolation":
            exp = np_interpolated_pr_auc(tp, fp, fn)
            np.testing.assert_allclose(got, exp, rtol=1e-4)
        else:
            np.testing.assert_allclose(got, np_riemann_auc(tp, fp, tn, fn, curve, method),
                                       rtol=1e-5)


def test_auc_variables_match_numpy_counts():
    batches = binary_batches()
    m = metrics.AUC(num_thresholds=11)
    stream(m, batches)
    expected = np_counts(*concat(batches)[:2], auc_thresholds(11), concat(batches)[2])
    got = [m.true_positives, m.false_positives, m.true_negatives, m.false_negatives]
    for variable, exp in zip(got, expected):
        # negatives are (float32 total) - (positives), as Keras computes them: abs error ~ulp
        np.testing.assert_allclose(variable.numpy(), exp, rtol=1e-5, atol=1e-5)
    assert [v.name for v in m.variables] == ["true_positives", "false_positives",
                                             "true_negatives", "false_negatives"]


def test_auc_with_many_thresholds_approaches_exact_roc_auc():
    batches = binary_batches(n=200, count=2)
    m = metrics.AUC(num_thresholds=20001)
    stream(m, batches)
    y_true, y_pred, weight = concat(batches)
    assert float(m.result()) == pytest.approx(exact_roc_auc(y_true, y_pred, weight), abs=2e-3)
    unweighted = metrics.AUC(num_thresholds=20001)
    unweighted.update_state(y_true, y_pred)
    assert float(unweighted.result()) == pytest.approx(
        exact_roc_auc(y_true, y_pred, np.ones_like(weight)), abs=2e-3)


def test_auc_perfect_and_inverted_rankings():
    y_true = [0, 0, 1, 1]
    assert float(metrics.AUC()(y_true, [0.1, 0.2, 0.8, 0.9])) == pytest.approx(1.0)
    assert float(metrics.AUC()(y_true, [0.9, 0.8, 0.2, 0.1])) == pytest.approx(0.0)
    assert float(metrics.AUC().result()) == 0.0  # nothing seen


def test_auc_given_thresholds():
    batches = binary_batches()
    m = metrics.AUC(thresholds=[0.7, 0.2, 0.5])
    assert m.num_thresholds == 5
    assert m.thresholds == pytest.approx([-EPS, 0.2, 0.5, 0.7, 1 + EPS])
    stream(m, batches)
    tp, fp, tn, fn = np_counts(*concat(batches)[:2], m.thresholds, concat(batches)[2])
    np.testing.assert_allclose(m.result().numpy(), np_riemann_auc(tp, fp, tn, fn), rtol=1e-5)
    assert m.get_config()["thresholds"] == pytest.approx([0.2, 0.5, 0.7])


def test_auc_from_logits():
    y_true, y_pred, weight = binary_batches(count=1)[0]
    logits = np.log(np.clip(y_pred, 1e-4, 1 - 1e-4) / (1 - np.clip(y_pred, 1e-4, 1 - 1e-4)))
    a, b = metrics.AUC(from_logits=True), metrics.AUC()
    a.update_state(y_true, logits.astype(np.float32), sample_weight=weight)
    b.update_state(y_true, 1 / (1 + np.exp(-logits.astype(np.float32))), sample_weight=weight)
    np.testing.assert_allclose(a.result().numpy(), b.result().numpy(), rtol=1e-6)


@pytest.mark.parametrize("label_weights", [None, [1.0, 2.0, 0.5, 0.0]])
@pytest.mark.parametrize("thresholds", [None, [0.3, 0.6]])
def test_multi_label_auc_is_the_mean_of_per_label_aucs(label_weights, thresholds):
    batches = multi_batches()
    m = metrics.AUC(multi_label=True, label_weights=label_weights, thresholds=thresholds,
                    num_thresholds=40)
    stream(m, batches)
    y_true, y_pred, weight = concat(batches)
    ts = m.thresholds
    per_label = []
    for c in range(4):
        tp, fp, tn, fn = np_counts(y_true[:, c], y_pred[:, c], ts, weight)
        per_label.append(np_riemann_auc(tp, fp, tn, fn))
    per_label = np.array(per_label)
    lw = np.ones(4) if label_weights is None else np.array(label_weights)
    np.testing.assert_allclose(m.result().numpy(), np.sum(per_label * lw) / np.sum(lw),
                               rtol=1e-5)
    assert tuple(m.true_positives.shape) == (len(ts), 4)


def test_multi_label_pr_auc_per_label():
    batches = multi_batches()
    m = metrics.AUC(multi_label=True, num_labels=4, curve="PR", num_thresholds=30)
    assert len(m.variables) == 4  # built from num_labels
    stream(m, batches)
    y_true, y_pred, weight = concat(batches)
    expected = np.mean([np_interpolated_pr_auc(*np.array(np_counts(
        y_true[:, c], y_pred[:, c], m.thresholds, weight))[[0, 1, 3]]) for c in range(4)])
    np.testing.assert_allclose(m.result().numpy(), expected, rtol=1e-4)


def test_flat_auc_with_label_weights_weights_each_column():
    batches = multi_batches(weighted=False)
    m = metrics.AUC(num_thresholds=25, label_weights=[1.0, 2.0, 0.0, 3.0])
    stream(m, batches)
    y_true, y_pred, _ = concat(batches)
    weight = np.broadcast_to(np.array([1.0, 2.0, 0.0, 3.0]), y_pred.shape)
    tp, fp, tn, fn = np_counts(y_true, y_pred, m.thresholds, None)
    y = y_true.reshape(-1) != 0
    above = y_pred.reshape(-1)[None] > np.float32(m.thresholds)[:, None]
    w = weight.reshape(-1)
    tp, fp = (above & y) @ w, (above & ~y) @ w
    fn, tn = (~above & y) @ w, (~above & ~y) @ w
    np.testing.assert_allclose(m.result().numpy(), np_riemann_auc(tp, fp, tn, fn), rtol=1e-5)


def test_auc_argument_errors():
    with pytest.raises(ValueError, match="num_thresholds` must be an integer > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match='Invalid AUC curve value: "XY"'):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="Invalid AUC summation method"):
        metrics.AUC(summation_method="middle")
    with pytest.raises(ValueError, match="only when `multi_label` is True"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="must have rank 2 when `multi_label=True`"):
        metrics.AUC(multi_label=True).update_state([1, 0], [0.4, 0.3])


# --- sensitivity / specificity family ----------------------------------------------------------

def _rates(tp, fp, tn, fn):
    return {"sensitivity": safe_div(tp, tp + fn), "specificity": safe_div(tn, tn + fp),
            "precision": safe_div(tp, tp + fp), "recall": safe_div(tp, tp + fn)}


@pytest.mark.parametrize("cls,arg,constrained,dependent", [
    ("SensitivityAtSpecificity", 0.6, "specificity", "sensitivity"),
    ("SpecificityAtSensitivity", 0.7, "sensitivity", "specificity"),
    ("PrecisionAtRecall", 0.5, "recall", "precision"),
    ("RecallAtPrecision", 0.55, "precision", "recall")])
@pytest.mark.parametrize("num_thresholds", [1, 21, 200])
def test_x_at_y_match_numpy(cls, arg, constrained, dependent, num_thresholds):
    batches = binary_batches()
    m = getattr(metrics, cls)(arg, num_thresholds=num_thresholds)
    results = stream(m, batches)
    if num_thresholds == 1:
        ts = [0.5]
    else:
        ts = [0.0] + [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0]
    for k, got in enumerate(results, 1):
        rates = _rates(*np_counts(*concat(batches[:k])[:2], ts, concat(batches[:k])[2]))
        feasible = rates[constrained] >= np.float32(arg)
        exp = max(0.0, np.max(np.where(feasible, rates[dependent], 0.0)))
        np.testing.assert_allclose(got, exp, rtol=1e-5)


def test_x_at_y_class_id_and_errors():
    batches = multi_batches()
    m = metrics.PrecisionAtRecall(0.4, num_thresholds=30, class_id=2)
    stream(m, batches)
    y_true, y_pred, weight = concat(batches)
    ts = [0.0] + [(i + 1) / 29 for i in range(28)] + [1.0]
    rates = _rates(*np_counts(y_true[:, 2], y_pred[:, 2], ts, weight))
    exp = np.max(np.where(rates["recall"] >= np.float32(0.4), rates["precision"], 0.0))
    np.testing.assert_allclose(m.result().numpy(), exp, rtol=1e-5)
    with pytest.raises(ValueError, match=r"`recall` must be in the range \[0, 1\]"):
        metrics.PrecisionAtRecall(1.5)
    with pytest.raises(ValueError, match="num_thresholds` must be an integer > 0"):
        metrics.SensitivityAtSpecificity(0.5, num_thresholds=0)


# --- IoU family --------------------------------------------------------------------------------

def np_iou(y_true, y_pred, num_classes, targets, weight=None, ignore_class=None):
    y_true, y_pred = np.asarray(y_true).reshape(-1), np.asarray(y_pred).reshape(-1)
    w = np.ones(len(y_true)) if weight is None else np.asarray(weight, np.float64).reshape(-1)
    keep = (y_true >= 0) & (y_true < num_classes) & (y_pred >= 0) & (y_pred < num_classes)
    if ignore_class is not None:
        keep &= y_true != ignore_class
    cm = np.zeros((num_classes, num_classes))
    np.add.at(cm, (y_true[keep].astype(int), y_pred[keep].astype(int)), w[keep])
    tp = np.diag(cm)
    denominator = cm.sum(0) + cm.sum(1) - tp
    values = [tp[c] / denominator[c] for c in targets if denominator[c] > 0]
    return np.mean(values) if values else 0.0, cm


def sparse_batches(n=25, classes=4, count=3, weighted=False):
    out = []
    for _ in range(count):
        y_true = RNG.integers(0, classes, size=n)
        y_pred = np.where(RNG.uniform(size=n) < 0.5, y_true, RNG.integers(0, classes, size=n))
        y_pred[:2] = [classes, -1]
        weight = RNG.integers(0, 3, size=n).astype(np.int64) if weighted else None
        out.append((y_true.astype(np.int32), y_pred.astype(np.int32), weight))
    return out


@pytest.mark.parametrize("make,targets,ignore,weighted", [
    (lambda: metrics.IoU(4, target_class_ids=[0, 2]), [0, 2], None, True),
    (lambda: metrics.IoU(4, [1, 3], ignore_class=1), [1, 3], 1, False),
    (lambda: metrics.MeanIoU(4), [0, 1, 2, 3], None, True),
    (lambda: metrics.MeanIoU(4, ignore_class=0, dtype="float32"), [0, 1, 2, 3], 0, False)])
def test_iou_matches_numpy(make, targets, ignore, weighted):
    batches = sparse_batches(weighted=weighted)
    m = make()
    results = stream(m, batches)
    for k, got in enumerate(results, 1):
        y_true = np.concatenate([b[0] for b in batches[:k]])
        y_pred = np.concatenate([b[1] for b in batches[:k]])
        w = np.concatenate([b[2] for b in batches[:k]]) if weighted else None
        exp, cm = np_iou(y_true, y_pred, 4, targets, w, ignore)
        np.testing.assert_allclose(got, exp, rtol=1e-5)
    np.testing.assert_allclose(m.total_cm.numpy(), cm)  # the last batch's running total
    assert got.dtype == np.float32


def test_iou_dtype_and_variables():
    m = metrics.MeanIoU(3)
    assert m.dtype == "int64"
    assert [v.name for v in m.variables] == ["total_confusion_matrix"]
    assert m.variables[0].dtype == tf.int64 and tuple(m.variables[0].shape) == (3, 3)
    assert float(m.result()) == 0.0
    m.update_state([0, 1, 2, 2], [0, 1, 1, 2])
    assert float(m.result()) == pytest.approx((1 + 0.5 + 0.5) / 3, rel=1e-6)
    m.reset_state()
    assert np.all(m.total_cm.numpy() == 0)
    with pytest.raises(ValueError, match=r"Target class id 3 is out of range, which is \[0, 3\)"):
        metrics.IoU(3, [0, 3])


def test_binary_and_one_hot_iou_match_numpy():
    y_true = np.array([0, 1, 1, 0, 1, 0], np.float32)
    y_pred = np.array([0.2, 0.5, 0.4, 0.6, 0.9, 0.49], np.float32)
    m = metrics.BinaryIoU(target_class_ids=[0, 1], threshold=0.5)
    m.update_state(y_true, y_pred)
    exp, _ = np_iou(y_true.astype(int), (y_pred >= 0.5).astype(int), 2, [0, 1])
    assert float(m.result()) == pytest.approx(exp, rel=1e-6)
    one = metrics.BinaryIoU(target_class_ids=[1], threshold=0.3)
    one.update_state(y_true, y_pred, sample_weight=[1, 2, 3, 1, 1, 2])
    exp, _ = np_iou(y_true.astype(int), (y_pred >= 0.3).astype(int), 2, [1], [1, 2, 3, 1, 1, 2])
    assert float(one.result()) == pytest.approx(exp, rel=1e-6)

    labels = RNG.integers(0, 3, size=15)
    scores = RNG.uniform(size=(15, 3)).astype(np.float32)
    onehot = np.eye(3, dtype=np.float32)[labels]
    a, b = metrics.OneHotIoU(3, [0, 2]), metrics.OneHotMeanIoU(3)
    a.update_state(onehot, scores)
    b.update_state(onehot, scores)
    assert float(a.result()) == pytest.approx(np_iou(labels, scores.argmax(-1), 3, [0, 2])[0])
    assert float(b.result()) == pytest.approx(np_iou(labels, scores.argmax(-1), 3, [0, 1, 2])[0])
    c = metrics.OneHotMeanIoU(3, sparse_y_pred=True)
    c.update_state(onehot, scores.argmax(-1))
    assert float(c.result()) == pytest.approx(float(b.result()))


# --- F-scores ----------------------------------------------------------------------------------

def np_fbeta(y_true, y_pred, weight, beta, threshold, average):
    if threshold is None:
        pred = (y_pred >= y_pred.max(-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
    else:
        pred = y_pred > threshold
    pred = pred.astype(np.float64)
    w = weight[:, None]
    axis = None if average == "micro" else 0
    tp = np.sum(pred * y_true * w, axis=axis)
    fp = np.sum(pred * (1 - y_true) * w, axis=axis)
    fn = np.sum((1 - pred) * y_true * w, axis=axis)
    support = np.sum(y_true * w, axis=axis)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    score = (1 + beta ** 2) * precision * recall / (beta ** 2 * precision + recall)
    if average == "weighted":
        return np.sum(score * support / support.sum())
    return np.mean(score) if average else score


@pytest.mark.parametrize("average", [None, "micro", "macro", "weighted"])
@pytest.mark.parametrize("beta,threshold", [(1.0, None), (2.0, 0.5), (0.5, 0.3)])
def test_fbeta_matches_numpy(average, beta, threshold):
    batches = multi_batches(n=40)
    m = metrics.FBetaScore(average=average, beta=beta, threshold=threshold)
    results = stream(m, batches)
    for k, got in enumerate(results, 1):
        exp = np_fbeta(*concat(batches[:k]), beta, threshold, average)
        np.testing.assert_allclose(got, exp, rtol=1e-5)
    f1 = metrics.F1Score(average=average, threshold=threshold)
    if beta == 1.0:
        np.testing.assert_allclose(stream(f1, batches)[-1], results[-1], rtol=1e-6)
    assert [v.name for v in m.variables] == ["true_positives", "false_positives",
                                             "false_negatives", "intermediate_weights"]


def test_fbeta_errors():
    with pytest.raises(ValueError, match="Invalid `average` argument value"):
        metrics.FBetaScore(average="samples")
    with pytest.raises(ValueError, match="It should be a Python float"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="It should verify 0 < threshold <= 1"):
        metrics.F1Score(threshold=1.5)
    with pytest.raises(ValueError, match="FBetaScore expects 2D inputs"):
        metrics.F1Score().update_state([1.0, 0.0], [0.3, 0.6])


# --- R2 and correlations -----------------------------------------------------------------------

def regression_batches(n=20, columns=3, count=3, weighted=True):
    out = []
    for _ in range(count):
        y_true = RNG.normal(size=(n, columns)).astype(np.float32)
        y_pred = (y_true + RNG.normal(scale=0.6, size=(n, columns))).astype(np.float32)
        weight = RNG.uniform(0.2, 2.0, size=n).astype(np.float32) if weighted else None
        out.append((y_true, y_pred, weight))
    return out


def np_r2(y_true, y_pred, weight, aggregation, num_regressors):
    w = weight[:, None]
    mean = np.sum(w * y_true, 0) / np.sum(w * np.ones_like(y_true), 0)
    total = np.sum(w * (y_true - mean) ** 2, 0)
    residual = np.sum(w * (y_true - y_pred) ** 2, 0)
    raw = 1 - residual / total
    if aggregation == "uniform_average":
        score = raw.mean()
    elif aggregation == "variance_weighted_average":
        score = np.sum(total * raw) / np.sum(total)
    else:
        score = raw
    n = y_true.size
    if num_regressors and num_regressors < n - 1:
        score = 1 - (1 - score) * (n - 1) / (n - num_regressors - 1)
    return score


@pytest.mark.parametrize("aggregation", ["uniform_average", "variance_weighted_average", None])
@pytest.mark.parametrize("num_regressors,weighted", [(0, True), (4, True), (0, False)])
def test_r2_score_matches_numpy(aggregation, num_regressors, weighted):
    batches = regression_batches(weighted=weighted)
    m = metrics.R2Score(class_aggregation=aggregation, num_regressors=num_regressors)
    results = stream(m, batches)
    for k, got in enumerate(results, 1):
        exp = np_r2(*concat(batches[:k]), aggregation, num_regressors)
        np.testing.assert_allclose(got, exp, rtol=2e-5)
    assert [v.name for v in m.variables] == ["num_samples", "squared_sum", "sum", "residual",
                                             "count"]


def test_r2_score_adjusted_falls_back_with_too_few_points():
    m = metrics.R2Score(num_regressors=10)
    y_true = np.array([[1.0], [2.0], [4.0]], np.float32)
    y_pred = np.array([[1.5], [2.0], [3.0]], np.float32)
    with pytest.warns(UserWarning, match="More independent predictors than datapoints"):
        value = float(m(y_true, y_pred))
    plain = metrics.R2Score()
    assert value == pytest.approx(float(plain(y_true, y_pred)))
    with pytest.raises(ValueError, match="Invalid value for argument `class_aggregation`"):
        metrics.R2Score(class_aggregation="mean")
    with pytest.raises(ValueError, match="Expected a value >= 0"):
        metrics.R2Score(num_regressors=-1)
    with pytest.raises(ValueError, match="R2Score expects 2D inputs"):
        metrics.R2Score().update_state(np.ones((2, 2, 2)), np.ones((2, 2, 2)))


def test_correlation_metrics_match_numpy():
    batches = regression_batches(columns=5)
    pearson, concordance = metrics.PearsonCorrelation(), metrics.ConcordanceCorrelation()
    stream(pearson, batches)
    stream(concordance, batches)
    y_true, y_pred, weight = concat(batches)
    rows_pearson = np.array([np.corrcoef(t, p)[0, 1] for t, p in zip(y_true, y_pred)])
    mt, mp = y_true.mean(-1), y_pred.mean(-1)
    cov = np.mean((y_true - mt[:, None]) * (y_pred - mp[:, None]), -1)
    rows_lin = 2 * cov / (y_true.var(-1) + y_pred.var(-1) + (mt - mp) ** 2)
    np.testing.assert_allclose(pearson.result().numpy(),
                               np.sum(rows_pearson * weight) / np.sum(weight), rtol=1e-5)
    np.testing.assert_allclose(concordance.result().numpy(),
                               np.sum(rows_lin * weight) / np.sum(weight), rtol=1e-5)
    np.testing.assert_allclose(metrics.pearson_correlation(y_true, y_pred).numpy(),
                               rows_pearson, rtol=1e-5)
    np.testing.assert_allclose(metrics.concordance_correlation(y_true, y_pred).numpy(),
                               rows_lin, rtol=1e-4)


# --- configs, reset, graphs --------------------------------------------------------------------

CONFIG_CASES = [
    (lambda: metrics.TruePositives(thresholds=[0.2, 0.6], name="tp"),
     {"name": "tp", "dtype": "float32", "thresholds": [0.2, 0.6]}),
    (lambda: metrics.Precision(top_k=2, class_id=1),
     {"dtype": "float32", "thresholds": None, "top_k": 2, "class_id": 1}),
    (lambda: metrics.Recall(thresholds=0.4), {"dtype": "float32", "thresholds": 0.4,
                                              "top_k": None, "class_id": None}),
    (lambda: metrics.AUC(num_thresholds=30, curve="PR", summation_method="minoring",
                         multi_label=True, num_labels=3, label_weights=[1, 2, 3]),
     {"dtype": "float32", "num_thresholds": 30, "curve": "PR", "summation_method": "minoring",
      "multi_label": True, "num_labels": 3, "label_weights": [1.0, 2.0, 3.0],
      "from_logits": False}),
    (lambda: metrics.SensitivityAtSpecificity(0.3, num_thresholds=9, class_id=2),
     {"dtype": "float32", "class_id": 2, "num_thresholds": 9, "specificity": 0.3}),
    (lambda: metrics.RecallAtPrecision(0.8), {"dtype": "float32", "class_id": None,
                                              "num_thresholds": 200, "precision": 0.8}),
    (lambda: metrics.IoU(3, [0, 1], ignore_class=2),
     {"dtype": "int64", "num_classes": 3, "target_class_ids": [0, 1], "ignore_class": 2,
      "sparse_y_true": True, "sparse_y_pred": True, "axis": -1}),
    (lambda: metrics.BinaryIoU(threshold=0.3),
     {"target_class_ids": [0, 1], "threshold": 0.3, "dtype": "int64"}),
    (lambda: metrics.OneHotMeanIoU(4), {"num_classes": 4, "dtype": "int64",
                                        "ignore_class": None, "sparse_y_pred": False,
                                        "axis": -1}),
    (lambda: metrics.F1Score(average="macro", threshold=0.5),
     {"name": "f1_score", "dtype": "float32", "average": "macro", "threshold": 0.5}),
    (lambda: metrics.FBetaScore(beta=2.0), {"name": "fbeta_score", "dtype": "float32",
                                            "average": None, "beta": 2.0, "threshold": None}),
    (lambda: metrics.R2Score(num_regressors=2),
     {"name": "r2_score", "dtype": "float32", "class_aggregation": "uniform_average",
      "num_regressors": 2}),
    (lambda: metrics.PearsonCorrelation(axis=0),
     {"name": "pearson_correlation", "dtype": "float32", "axis": 0}),
]


@pytest.mark.parametrize("index", range(len(CONFIG_CASES)))
def test_config_round_trip(index):
    make, expected = CONFIG_CASES[index]
    metric = make()
    config = metric.get_config()
    for key, value in expected.items():
        assert config[key] == value, key
    restored = type(metric).from_config(json.loads(json.dumps(config)))
    assert restored.get_config() == config
    serialized = serialization.serialize_keras_object(metric)
    assert serialized["module"] == "keras.metrics"
    assert serialized["class_name"] == type(metric).__name__
    again = serialization.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(again) is type(metric) and again.get_config() == config


def test_auc_thresholds_config_round_trip_gives_same_results():
    m = metrics.AUC(thresholds=[0.1, 0.4, 0.8])
    again = metrics.AUC.from_config(m.get_config())
    assert again.thresholds == m.thresholds
    for metric in (m, again):
        stream(metric, binary_batches(count=1))
    assert again.get_config() == m.get_config()


def test_reset_state_zeroes_every_variable():
    cases = [(metrics.AUC(multi_label=True), multi_batches(count=1)),
             (metrics.SpecificityAtSensitivity(0.5), binary_batches(count=1)),
             (metrics.F1Score(), multi_batches(count=1)),
             (metrics.R2Score(), regression_batches(count=1)),
             (metrics.MeanIoU(4), sparse_batches(count=1)),
             (metrics.Recall(thresholds=[0.2, 0.4]), binary_batches(count=1))]
    for metric, batches in cases:
        first = stream(metric, batches)[-1]
        assert any(np.any(v.numpy() != 0) for v in metric.variables)
        metric.reset_state()
        assert all(np.all(v.numpy() == 0) for v in metric.variables), metric.name
        np.testing.assert_allclose(stream(metric, batches)[-1], first, rtol=1e-6)


def test_variable_dtypes_follow_keras():
    # Keras creates these counts as floatx whatever the metric's dtype
    p = metrics.Precision(dtype="float64")
    p.update_state([0, 1, 1], [0.2, 0.7, 0.9])
    assert p.variables[0].dtype == tf.float32 and p.result().dtype == tf.float32
    f = metrics.F1Score(dtype="float64")
    f.update_state(np.eye(2), np.eye(2) * 0.8)
    assert f.variables[0].dtype == tf.float64 and f.result().dtype == tf.float64


GRAPH_CASES = [
    (lambda: metrics.Precision(), lambda: binary_batches(n=20), [None]),
    (lambda: metrics.Recall(top_k=2, class_id=1), lambda: multi_batches(n=9), [None, 4]),
    (lambda: metrics.AUC(), lambda: binary_batches(n=20), [None]),
    (lambda: metrics.AUC(curve="PR", thresholds=[0.3, 0.5]), lambda: binary_batches(n=20),
     [None]),
    (lambda: metrics.AUC(multi_label=True), lambda: multi_batches(n=9), [None, 4]),
    (lambda: metrics.FalseNegatives([0.2, 0.7]), lambda: binary_batches(n=20), [None]),
    (lambda: metrics.SensitivityAtSpecificity(0.5), lambda: binary_batches(n=20), [None]),
    (lambda: metrics.F1Score(average="weighted"), lambda: multi_batches(n=9), [None, 4]),
    (lambda: metrics.R2Score(), lambda: regression_batches(n=8), [None, 3]),
    (lambda: metrics.PearsonCorrelation(), lambda: regression_batches(n=8), [None, 3]),
]


@pytest.mark.parametrize("index", range(len(GRAPH_CASES)))
def test_update_and_result_inside_tf_function(index):
    make, data, spec = GRAPH_CASES[index]
    batches = data()
    # batches of different sizes, through one trace with an unknown batch size
    batches = [(t[: len(t) - i], p[: len(p) - i], w[: len(w) - i])
               for i, (t, p, w) in enumerate(batches)]
    eager, traced = make(), make()
    expected = stream(eager, batches)
    signature = [tf.TensorSpec(spec, tf.float32), tf.TensorSpec(spec, tf.float32),
                 tf.TensorSpec([None], tf.float32)]

    @tf.function(input_signature=signature)
    def step(y_true, y_pred, weight):
        traced.update_state(y_true, y_pred, sample_weight=weight)
        return traced.result()

    for (y_true, y_pred, weight), exp in zip(batches, expected):
        np.testing.assert_allclose(step(y_true, y_pred, weight).numpy(), exp, rtol=1e-5)
    traced.reset_state()
    np.testing.assert_allclose(step(*batches[0]).numpy(), expected[0], rtol=1e-5)


def test_update_state_graph_is_small():
    """One comparison (or one bucketing) per update, a handful of ops per count."""
    for metric, spec in [(metrics.Precision(thresholds=[0.1, 0.2, 0.7]), [None]),
                         (metrics.AUC(num_thresholds=500), [None]),
                         (metrics.AUC(multi_label=True, num_labels=5), [None, 5])]:
        fn = tf.function(lambda y, p, w, m=metric: m.update_state(y, p, sample_weight=w))
        graph = fn.get_concrete_function(tf.TensorSpec(spec, tf.float32),
                                         tf.TensorSpec(spec, tf.float32),
                                         tf.TensorSpec([None], tf.float32)).graph
        ops = [op for op in graph.get_operations() if op.type not in ("Const", "Placeholder")]
        assert len(ops) <= 40, (metric.name, len(ops))
        types = [op.type for op in ops]
        assert types.count("Greater") + types.count("UnsortedSegmentSum") == 1
