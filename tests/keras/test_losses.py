"""keras.losses: every loss function and class against a NumPy formula (float32 and float64,
eagerly and in tf.function), Keras's weighting, masking and reductions, gradients against finite
differences, get/serialize/deserialize, errors, and the custom losses of the seed notes."""
import warnings

import numpy as np
import pytest

import tensorweave as tf
from harness import check_grad
from seeds.seed002_components import HuberLoss, create_huber, huber_fn
from tensorweave.framework.tensor import Tensor
from tensorweave.keras import losses as L

EPS = 1e-7
RNG = np.random.default_rng(60)
N, C = 5, 4
REG_TRUE = RNG.normal(size=(N, C))
REG_PRED = RNG.normal(size=(N, C))
POS_TRUE = RNG.uniform(0.1, 3.0, size=(N, C))
POS_PRED = RNG.uniform(0.1, 3.0, size=(N, C))
BIN_TRUE = RNG.integers(0, 2, size=(N, C)).astype(np.float64)
SIGNS = 2 * BIN_TRUE - 1
PROB = RNG.uniform(0.02, 0.98, size=(N, C))
LOGITS = RNG.normal(scale=3.0, size=(N, C))
ONE_HOT = np.eye(C)[RNG.integers(0, C, size=N)]
SOFT = RNG.dirichlet(np.ones(C), size=N)
DIST = RNG.dirichlet(np.ones(C), size=N)
SPARSE = RNG.integers(0, C, size=N)
SEG_TRUE = RNG.integers(0, 2, size=(2, 3, 3, 1)).astype(np.float64)
SEG_PRED = RNG.uniform(0.05, 0.95, size=(2, 3, 3, 1))


# -- NumPy oracles ------------------------------------------------------------------------------
def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_clip(p):
    """Clipped to [epsilon, 1 - epsilon], both rounded to p's dtype (as the tensors are)."""
    return np.clip(p, p.dtype.type(EPS), p.dtype.type(1 - EPS))


def np_bce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        return np.mean(np.logaddexp(0, -p) + (1 - t) * p, axis=axis)
    p = np_clip(p)
    return np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)), axis=axis)


def np_bfce(t, p, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
            label_smoothing=0.0):
    t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    p = np_sigmoid(p) if from_logits else p
    pc = np_clip(p)
    bce = -(t * np.log(pc) + (1 - t) * np.log(1 - pc))
    p_t = t * p + (1 - t) * (1 - p)
    loss = (1 - p_t) ** gamma * bce
    if apply_class_balancing:
        loss = (t * alpha + (1 - t) * (1 - alpha)) * loss
    return loss.mean(axis=-1)


def np_cce(t, p, from_logits=False, label_smoothing=0.0, axis=-1):
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    if from_logits:
        log_p = p - p.max(axis=axis, keepdims=True)
        log_p = log_p - np.log(np.exp(log_p).sum(axis=axis, keepdims=True))
    else:
        log_p = np.log(np_clip(p / p.sum(axis=axis, keepdims=True)))
    return -(t * log_p).sum(axis=axis)


def np_cfce(t, p, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0):
    t = t * (1 - label_smoothing) + label_smoothing / t.shape[-1]
    p = np_softmax(p) if from_logits else p
    p = np_clip(p / p.sum(axis=-1, keepdims=True))
    return (np.asarray(alpha) * (1 - p) ** gamma * -t * np.log(p)).sum(axis=-1)


def np_scce(t, p, from_logits=False):
    t = np.asarray(t).reshape(p.shape[:-1]).astype(int)
    if from_logits:
        log_p = p - p.max(axis=-1, keepdims=True)
        log_p = log_p - np.log(np.exp(log_p).sum(axis=-1, keepdims=True))
    else:
        q = np_clip(p)
        log_p = np.log(q / q.sum(axis=-1, keepdims=True))
    return -np.take_along_axis(log_p, t[..., None], -1)[..., 0]


def np_hinge_labels(t):
    return 2 * t - 1 if np.all((t == 0) | (t == 1)) else t


def np_log_cosh(x):
    # Keras subtracts log(2) rounded to float32, whatever the dtype
    return np.log(np.cosh(x)) + np.log(2) - np.float64(np.float32(np.log(2)))


def np_l2n(x, axis):
    return x / np.maximum(np.sqrt((x ** 2).sum(axis=axis, keepdims=True)), EPS)


def np_huber(t, p, delta=1.0):
    e = np.abs(p - t)
    return np.where(e <= delta, 0.5 * e ** 2, delta * e - 0.5 * delta ** 2).mean(-1)


def np_dice(t, p, axis=None):
    return 1 - 2 * (t * p).sum(axis=axis) / (t.sum(axis=axis) + p.sum(axis=axis) + EPS)


def np_tversky(t, p, alpha=0.5, beta=0.5, axis=None):
    tp = (t * p).sum(axis=axis)
    fp = ((1 - p) * t).sum(axis=axis)
    fn = (p * (1 - t)).sum(axis=axis)
    return 1 - tp / (tp + alpha * fp + beta * fn + EPS)


# name -> (loss function, kwargs, NumPy oracle, y_true, y_pred)
FUNCTIONS = {
    "mse": (L.mean_squared_error, {}, lambda t, p: ((t - p) ** 2).mean(-1), REG_TRUE, REG_PRED),
    "mae": (L.mean_absolute_error, {}, lambda t, p: np.abs(t - p).mean(-1), REG_TRUE, REG_PRED),
    "mape": (L.mean_absolute_percentage_error, {},
             lambda t, p: 100 * (np.abs(t - p) / np.maximum(np.abs(t), EPS)).mean(-1),
             REG_TRUE, REG_PRED),
    "msle": (L.mean_squared_logarithmic_error, {},
             lambda t, p: ((np.log(np.maximum(p, EPS) + 1) - np.log(np.maximum(t, EPS) + 1))
                           ** 2).mean(-1), REG_TRUE, POS_PRED),
    "cosine": (L.cosine_similarity, {}, lambda t, p: -(np_l2n(t, -1) * np_l2n(p, -1)).sum(-1),
               REG_TRUE, REG_PRED),
    "cosine_axis0": (L.cosine_similarity, {"axis": 0},
                     lambda t, p: -(np_l2n(t, 0) * np_l2n(p, 0)).sum(0), REG_TRUE, REG_PRED),
    "huber": (L.huber, {}, np_huber, REG_TRUE, REG_PRED),
    "huber_delta": (L.huber, {"delta": 0.3}, lambda t, p: np_huber(t, p, 0.3), REG_TRUE,
                    REG_PRED),
    "log_cosh": (L.log_cosh, {}, lambda t, p: np_log_cosh(p - t).mean(-1), REG_TRUE,
                 REG_PRED * 5),
    "hinge": (L.hinge, {},
              lambda t, p: np.maximum(1 - np_hinge_labels(t) * p, 0).mean(-1), BIN_TRUE,
              REG_PRED),
    "hinge_signs": (L.hinge, {}, lambda t, p: np.maximum(1 - t * p, 0).mean(-1), SIGNS,
                    REG_PRED),
    "squared_hinge": (L.squared_hinge, {},
                      lambda t, p: (np.maximum(1 - np_hinge_labels(t) * p, 0) ** 2).mean(-1),
                      BIN_TRUE, REG_PRED),
    "categorical_hinge": (L.categorical_hinge, {},
                          lambda t, p: np.maximum(((1 - t) * p).max(-1) - (t * p).sum(-1) + 1,
                                                  0), ONE_HOT, REG_PRED),
    "kld": (L.kl_divergence, {},
            lambda t, p: (np.clip(t, EPS, 1) * np.log(np.clip(t, EPS, 1) / np.clip(p, EPS, 1))
                          ).sum(-1), ONE_HOT, DIST),
    "poisson": (L.poisson, {}, lambda t, p: (p - t * np.log(p + EPS)).mean(-1), POS_TRUE,
                POS_PRED),
    "bce": (L.binary_crossentropy, {}, np_bce, BIN_TRUE, PROB),
    "bce_clipped": (L.binary_crossentropy, {}, np_bce, BIN_TRUE, np.round(PROB)),
    "bce_logits_smooth": (L.binary_crossentropy, {"from_logits": True, "label_smoothing": 0.2},
                          lambda t, p: np_bce(t, p, True, 0.2), BIN_TRUE, LOGITS * 20),
    "bce_axis0": (L.binary_crossentropy, {"axis": 0}, lambda t, p: np_bce(t, p, axis=0),
                  BIN_TRUE, PROB),
    "bfce": (L.binary_focal_crossentropy, {}, np_bfce, BIN_TRUE, PROB),
    "bfce_all": (L.binary_focal_crossentropy,
                 {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5,
                  "from_logits": True, "label_smoothing": 0.1},
                 lambda t, p: np_bfce(t, p, True, 0.4, 1.5, True, 0.1), BIN_TRUE, LOGITS),
    "cce": (L.categorical_crossentropy, {}, np_cce, ONE_HOT, PROB),
    "cce_soft_smooth": (L.categorical_crossentropy, {"label_smoothing": 0.3},
                        lambda t, p: np_cce(t, p, label_smoothing=0.3), SOFT, PROB),
    "cce_logits": (L.categorical_crossentropy, {"from_logits": True},
                   lambda t, p: np_cce(t, p, True), SOFT, LOGITS * 100),
    "cce_axis0": (L.categorical_crossentropy, {"axis": 0}, lambda t, p: np_cce(t, p, axis=0),
                  ONE_HOT, PROB),
    "cfce": (L.categorical_focal_crossentropy, {}, np_cfce, ONE_HOT, PROB),
    "cfce_all": (L.categorical_focal_crossentropy,
                 {"alpha": [0.1, 0.2, 0.3, 0.4], "gamma": 3.0, "from_logits": True,
                  "label_smoothing": 0.2},
                 lambda t, p: np_cfce(t, p, np.float32([0.1, 0.2, 0.3, 0.4]), 3.0, True, 0.2),
                 ONE_HOT, LOGITS),
    "scce": (L.sparse_categorical_crossentropy, {}, np_scce, SPARSE, PROB),
    "scce_float_column": (L.sparse_categorical_crossentropy, {}, np_scce,
                          SPARSE[:, None].astype(np.float64), PROB),
    "scce_logits": (L.sparse_categorical_crossentropy, {"from_logits": True},
                    lambda t, p: np_scce(t, p, True), SPARSE, LOGITS * 100),
    "dice": (L.dice, {}, np_dice, SEG_TRUE, SEG_PRED),
    "dice_axis": (L.dice, {"axis": (1, 2, 3)}, lambda t, p: np_dice(t, p, (1, 2, 3)), SEG_TRUE,
                  SEG_PRED),
    "tversky": (L.tversky, {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)},
                lambda t, p: np_tversky(t, p, 0.3, 0.7, (1, 2)), SEG_TRUE, SEG_PRED),
    "gce": (L.categorical_generalized_cross_entropy, {"q": 0.3},
            lambda t, p: (1 - p[np.arange(len(t)), t] ** 0.3) / 0.3, SPARSE, DIST),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_matches_numpy(name, dtype):
    fn, kwargs, oracle, y_true, y_pred = FUNCTIONS[name]
    t = y_true.astype(dtype) if y_true.dtype.kind == "f" else y_true
    p = y_pred.astype(dtype)
    out = fn(tf.constant(t), tf.constant(p), **kwargs)
    expected = oracle(t, p)
    assert out.dtype == tf.as_dtype(dtype) and out.shape == np.shape(expected)
    tol = 2e-5 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out.numpy(), expected, rtol=tol, atol=tol)


@pytest.mark.parametrize("name", ["mse", "huber", "cce_logits", "scce", "bfce_all", "cosine",
                                  "hinge", "tversky"])
def test_function_in_tf_function_with_unknown_batch(name):
    fn, kwargs, oracle, y_true, y_pred = FUNCTIONS[name]
    true_dtype = tf.float32 if y_true.dtype.kind == "f" else tf.int32
    t = y_true.astype(true_dtype.as_numpy_dtype)
    p = y_pred.astype(np.float32)
    spec = [tf.TensorSpec((None,) + t.shape[1:], true_dtype),
            tf.TensorSpec((None,) + p.shape[1:], tf.float32)]
    graph_fn = tf.function(lambda a, b: fn(a, b, **kwargs), input_signature=spec)
    np.testing.assert_allclose(graph_fn(t, p).numpy(), fn(t, p, **kwargs).numpy(), rtol=1e-6)
    np.testing.assert_allclose(graph_fn(t, p).numpy(), oracle(y_true, y_pred), rtol=2e-5,
                               atol=2e-5)


def test_functions_take_python_and_numpy_values():
    # Python lists are float32, NumPy float64 stays float64, integer labels take y_pred's dtype
    out = L.mean_squared_error([[0.0, 1.0]], [[1.0, 1.0]])
    assert out.dtype == tf.float32 and out.numpy().tolist() == [0.5]
    assert L.mean_absolute_error(np.array([[1, 2]]), np.array([[1.5, 2.0]])).dtype == tf.float64
    np.testing.assert_allclose(L.sparse_categorical_crossentropy([1, 2], [[0.05, 0.95, 0],
                                                                           [0.1, 0.8, 0.1]]),
                               [-np.log(0.95), -np.log(0.1)], rtol=1e-5)
    # rank-1 targets against (n, 1) predictions are matched, as Keras's functions do
    np.testing.assert_allclose(L.mean_squared_error(np.array([1.0, 2.0]), np.array([[0.0], [0.0]])),
                               [1.0, 4.0])
    # binary labels of hinge losses become -1/1; others stay
    assert L.hinge([[0.0, 1.0]], [[0.5, 0.5]]).numpy().tolist() == [1.0]
    np.testing.assert_allclose(L.hinge([[2.0, 1.0]], [[0.25, 0.5]]).numpy(), [0.5])
    # integer inputs are averaged as float32
    assert L.mean_squared_error(tf.constant([[1, 2]]), tf.constant([[1, 4]])).dtype == tf.float32


# -- classes: weighting, reductions, masks ------------------------------------------------------
# name -> (builder taking keyword arguments, NumPy oracle of the per-sample losses, y_true, y_pred)
CLASSES = {
    "MeanSquaredError": (L.MeanSquaredError, FUNCTIONS["mse"][2], REG_TRUE, REG_PRED),
    "MeanAbsoluteError": (L.MeanAbsoluteError, FUNCTIONS["mae"][2], REG_TRUE, REG_PRED),
    "MeanAbsolutePercentageError": (L.MeanAbsolutePercentageError, FUNCTIONS["mape"][2],
                                    REG_TRUE, REG_PRED),
    "MeanSquaredLogarithmicError": (L.MeanSquaredLogarithmicError, FUNCTIONS["msle"][2],
                                    POS_TRUE, POS_PRED),
    "CosineSimilarity": (L.CosineSimilarity, FUNCTIONS["cosine"][2], REG_TRUE, REG_PRED),
    "Huber": (lambda **k: L.Huber(delta=0.6, **k), lambda t, p: np_huber(t, p, 0.6), REG_TRUE,
              REG_PRED),
    "LogCosh": (L.LogCosh, FUNCTIONS["log_cosh"][2], REG_TRUE, REG_PRED),
    "Hinge": (L.Hinge, FUNCTIONS["hinge"][2], BIN_TRUE, REG_PRED),
    "SquaredHinge": (L.SquaredHinge, FUNCTIONS["squared_hinge"][2], BIN_TRUE, REG_PRED),
    "CategoricalHinge": (L.CategoricalHinge, FUNCTIONS["categorical_hinge"][2], ONE_HOT,
                         REG_PRED),
    "KLDivergence": (L.KLDivergence, FUNCTIONS["kld"][2], SOFT, DIST),
    "Poisson": (L.Poisson, FUNCTIONS["poisson"][2], POS_TRUE, POS_PRED),
    "BinaryCrossentropy": (lambda **k: L.BinaryCrossentropy(label_smoothing=0.1, **k),
                           lambda t, p: np_bce(t, p, label_smoothing=0.1), BIN_TRUE, PROB),
    "BinaryCrossentropy_logits": (lambda **k: L.BinaryCrossentropy(from_logits=True, **k),
                                  lambda t, p: np_bce(t, p, True), BIN_TRUE, LOGITS),
    "BinaryFocalCrossentropy": (lambda **k: L.BinaryFocalCrossentropy(
        apply_class_balancing=True, gamma=3.0, **k),
        lambda t, p: np_bfce(t, p, True, 0.25, 3.0), BIN_TRUE, PROB),
    "CategoricalCrossentropy": (L.CategoricalCrossentropy, np_cce, SOFT, PROB),
    "CategoricalCrossentropy_logits": (lambda **k: L.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.2, **k),
        lambda t, p: np_cce(t, p, True, 0.2), ONE_HOT, LOGITS),
    "CategoricalFocalCrossentropy": (lambda **k: L.CategoricalFocalCrossentropy(
        alpha=0.5, from_logits=True, **k), lambda t, p: np_cfce(t, p, 0.5, 2.0, True), ONE_HOT,
        LOGITS),
    "SparseCategoricalCrossentropy": (L.SparseCategoricalCrossentropy, np_scce,
                                      SPARSE.astype(np.float64), PROB),
    "SparseCategoricalCrossentropy_logits": (lambda **k: L.SparseCategoricalCrossentropy(
        from_logits=True, **k), lambda t, p: np_scce(t, p, True), SPARSE[:, None], LOGITS),
    "Dice": (lambda **k: L.Dice(axis=(1, 2, 3), **k), lambda t, p: np_dice(t, p, (1, 2, 3)),
             SEG_TRUE, SEG_PRED),
    "Tversky": (lambda **k: L.Tversky(alpha=0.2, beta=0.8, axis=(1, 2, 3), **k),
                lambda t, p: np_tversky(t, p, 0.2, 0.8, (1, 2, 3)), SEG_TRUE, SEG_PRED),
}


def np_reduce(values, weight, reduction):
    """Keras's weighting and reduction, in NumPy: (n, 1) weights of rank-1 losses make them
    (n, 1); "mean_with_sample_weight" divides by the sum of the weights."""
    if weight is None:
        weighted = values
    else:
        weight = np.asarray(weight, np.float64)
        if weight.ndim == values.ndim + 1 and weight.shape[-1] == 1:
            if values.ndim == 1:
                values = values[:, None]
            else:
                weight = weight[..., 0]
        weighted = values * weight
    if reduction in (None, "none"):
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction == "mean_with_sample_weight" and weight is not None:
        return weighted.sum() / weight.sum()
    return weighted.sum() / weighted.size


REDUCTIONS = ["sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_matches_numpy_with_weights_and_reductions(name, dtype):
    build, oracle, y_true, y_pred = CLASSES[name]
    per_sample = oracle(y_true, y_pred)
    n = y_true.shape[0]
    weights = [None, RNG.uniform(0.2, 2.0, size=n), RNG.uniform(0.2, 2.0, size=(n, 1))]
    tol = 2e-5 if dtype == "float32" else 1e-10
    for reduction in REDUCTIONS:
        loss = build(reduction=reduction, dtype=dtype)
        assert loss.reduction == reduction and loss.dtype == dtype
        for weight in weights:
            out = loss(y_true, y_pred, sample_weight=weight)
            assert out.dtype == tf.as_dtype(dtype)
            expected = np_reduce(per_sample, weight, reduction)
            assert out.shape == np.shape(expected)
            shape = None if weight is None else weight.shape
            np.testing.assert_allclose(out.numpy(), expected, rtol=tol, atol=tol,
                                       err_msg=f"{reduction} {shape}")


TIME_TRUE = RNG.normal(size=(3, 5, 2))
TIME_PRED = RNG.normal(size=(3, 5, 2))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_per_element_weights_on_sequence_losses(reduction):
    weight = RNG.uniform(0.0, 2.0, size=(3, 5))
    per_step = ((TIME_TRUE - TIME_PRED) ** 2).mean(-1)
    out = L.MeanSquaredError(reduction=reduction, dtype="float64")(TIME_TRUE, TIME_PRED, weight)
    np.testing.assert_allclose(out.numpy(), np_reduce(per_step, weight, reduction), rtol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mask_on_predictions_weights_the_unmasked_samples(reduction):
    mask = np.array([True, False, True, True, False])
    weight = RNG.uniform(0.5, 1.5, size=N)
    per_sample = np_cce(ONE_HOT, PROB)
    for w in (None, weight):
        y_pred = tf.constant(PROB)
        y_pred._keras_mask = tf.constant(mask)
        out = L.CategoricalCrossentropy(reduction=reduction, dtype="float64")(ONE_HOT, y_pred, w)
        values = per_sample * (1.0 if w is None else w)
        if reduction in (None, "none"):
            expected = values * mask
        elif reduction == "sum":
            expected = (values * mask).sum()
        elif reduction == "mean_with_sample_weight":
            expected = (values * mask).sum() / (mask.sum() if w is None else (w * mask).sum())
        else:  # the mean over the unmasked samples
            expected = (values * mask).sum() / mask.sum()
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, err_msg=str(w))


def test_all_masked_gives_zero():
    y_pred = tf.constant(PROB)
    y_pred._keras_mask = tf.zeros((N,), tf.bool)
    assert L.CategoricalCrossentropy(dtype="float64")(ONE_HOT, y_pred).numpy() == 0.0


def test_sparse_categorical_ignore_class_masks_those_labels():
    labels = np.array([1, 2, 2, 0, 3])
    keep = labels != 2
    per_sample = np_scce(labels, LOGITS, True)
    for reduction in REDUCTIONS:
        out = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2,
                                              reduction=reduction, dtype="float64")(labels, LOGITS)
        if reduction in (None, "none"):
            expected = per_sample * keep
        elif reduction == "sum":
            expected = (per_sample * keep).sum()
        else:  # means over the kept labels
            expected = (per_sample * keep).sum() / keep.sum()
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, err_msg=str(reduction))
    # the function gives 0 for ignored labels and says which ones are kept
    res = L.sparse_categorical_crossentropy(labels[:, None], LOGITS, from_logits=True,
                                            ignore_class=2)
    np.testing.assert_allclose(res.numpy(), per_sample * keep, rtol=1e-12)
    assert res._keras_mask.numpy().tolist() == keep.tolist()
    # an ignore class below zero, with probabilities
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    out = L.SparseCategoricalCrossentropy(ignore_class=-1)(np.array([1, -1]), probs)
    np.testing.assert_allclose(out.numpy(), -np.log(0.8), rtol=1e-6)


@pytest.mark.parametrize("labels", [SPARSE, SPARSE[:, None], SPARSE.astype(np.float32),
                                    SPARSE[:, None].astype(np.float64)])
def test_sparse_labels_of_shape_n_or_n1_int_or_float(labels):
    out = L.SparseCategoricalCrossentropy(reduction=None)(labels, PROB.astype(np.float32))
    assert out.shape == (N,)
    np.testing.assert_allclose(out.numpy(), np_scce(SPARSE, PROB), rtol=1e-5)


@pytest.mark.parametrize("name", ["MeanSquaredError", "BinaryCrossentropy",
                                  "CategoricalCrossentropy_logits",
                                  "SparseCategoricalCrossentropy_logits", "Huber", "Dice"])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "none"])
def test_class_in_tf_function_with_unknown_batch(name, reduction):
    build, oracle, y_true, y_pred = CLASSES[name]
    loss = build(reduction=reduction)
    t, p = y_true.astype(np.float32), y_pred.astype(np.float32)
    w = RNG.uniform(0.5, 1.5, size=len(t)).astype(np.float32)
    spec = [tf.TensorSpec((None,) + t.shape[1:], tf.float32),
            tf.TensorSpec((None,) + p.shape[1:], tf.float32), tf.TensorSpec((None,), tf.float32)]
    graph_loss = tf.function(lambda a, b, c: loss(a, b, sample_weight=c), input_signature=spec)
    np.testing.assert_allclose(graph_loss(t, p, w).numpy(), loss(t, p, w).numpy(), rtol=1e-6)
    np.testing.assert_allclose(graph_loss(t, p, w).numpy(),
                               np_reduce(oracle(y_true, y_pred), w, reduction), rtol=2e-5)


# -- gradients ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CLASSES))
def test_class_gradient_matches_finite_differences(name):
    build, _, y_true, y_pred = CLASSES[name]
    weight = RNG.uniform(0.5, 1.5, size=y_true.shape[0])
    loss = build(dtype="float64")
    check_grad(lambda p: loss(y_true, p, sample_weight=weight), y_pred)
    per_sample = build(dtype="float64", reduction="none")
    check_grad(lambda p: per_sample(y_true, p), y_pred)


def test_gradient_inside_tf_function():
    loss = L.CategoricalCrossentropy(from_logits=True, dtype="float64")
    logits = tf.Variable(LOGITS)

    @tf.function
    def grad():
        with tf.GradientTape() as tape:
            value = loss(ONE_HOT, logits)
        return tape.gradient(value, logits)
    # d/dz of mean(-sum(t * log_softmax(z))) is (softmax(z) - t) / n
    np.testing.assert_allclose(grad().numpy(), (np_softmax(LOGITS) - ONE_HOT) / N, rtol=1e-12)


def test_logits_paths_stay_finite_for_huge_logits():
    big = np.array([[1000.0, -1000.0, 0.0]])
    onehot = np.array([[0.0, 1.0, 0.0]])
    logits = tf.constant(big)
    with tf.GradientTape() as tape:
        tape.watch(logits)
        value = L.CategoricalCrossentropy(from_logits=True, dtype="float64")(onehot, logits)
    np.testing.assert_allclose(value.numpy(), 2000.0)
    assert np.all(np.isfinite(tape.gradient(value, logits).numpy()))
    np.testing.assert_allclose(
        L.BinaryCrossentropy(from_logits=True, reduction="none", dtype="float64")(
            [[1.0, 0.0]], [[-800.0, 800.0]]).numpy(), [800.0])


# -- the seed notes' custom losses -----------------------------------------------------------------
def np_elementwise_huber(t, p, delta):
    e = np.abs(t - p)
    return np.where(e < delta, e ** 2 / 2, delta * e - delta ** 2 / 2)


def test_seed_custom_losses():
    y = RNG.normal(size=(8, 1)).astype(np.float32)
    p = (y + RNG.normal(scale=2.0, size=(8, 1))).astype(np.float32)
    z = np.linspace(-4, 4, 9)
    np.testing.assert_allclose(huber_fn(0, z).numpy(), np_elementwise_huber(0, z, 1.0))
    assert huber_fn(0.0, -1.0).numpy() == 0.5
    # a plain function and a closure, as compile() wraps them
    for fn, delta in [(huber_fn, 1.0), (create_huber(2.0), 2.0)]:
        wrapped = L.LossFunctionWrapper(fn)
        np.testing.assert_allclose(wrapped(y, p).numpy(), np_elementwise_huber(y, p, delta).mean(),
                                   rtol=1e-6)
        assert L.get(fn) is fn
    # the Loss subclass: call, weights, config round trip, serialization by custom_objects
    loss = HuberLoss(2.0)
    assert loss.name == "huber_loss" and loss.reduction == "sum_over_batch_size"
    np.testing.assert_allclose(loss(y, p).numpy(), np_elementwise_huber(y, p, 2.0).mean(),
                               rtol=1e-6)
    w = RNG.uniform(size=8).astype(np.float32)
    np.testing.assert_allclose(loss(y, p, sample_weight=w).numpy(),
                               (np_elementwise_huber(y, p, 2.0)[:, 0] * w).mean(), rtol=1e-6)
    assert loss.get_config() == {"name": "huber_loss", "reduction": "sum_over_batch_size",
                                 "threshold": 2.0}
    clone = HuberLoss.from_config(loss.get_config())
    assert clone.threshold == 2.0 and clone.name == "huber_loss"
    config = L.serialize(loss)
    assert config["class_name"] == "HuberLoss" and config["config"]["threshold"] == 2.0
    restored = L.deserialize(config, custom_objects={"HuberLoss": HuberLoss})
    assert isinstance(restored, HuberLoss) and restored.threshold == 2.0
    restored_fn = L.deserialize(L.serialize(huber_fn), custom_objects={"huber_fn": huber_fn})
    assert restored_fn is huber_fn
    check_grad(lambda q: HuberLoss(2.0, dtype="float64")(y, q), p.astype(np.float64))


def test_seed_loss_in_tf_function():
    loss = HuberLoss(1.5)
    y = RNG.normal(size=(6, 1)).astype(np.float32)
    p = RNG.normal(size=(6, 1)).astype(np.float32)
    np.testing.assert_allclose(tf.function(loss)(y, p).numpy(),
                               np_elementwise_huber(y, p, 1.5).mean(), rtol=1e-6)


# -- names, configs, get / serialize / deserialize ------------------------------------------------
def test_default_names_and_configs():
    assert L.MeanSquaredError().get_config() == {"name": "mean_squared_error",
                                                 "reduction": "sum_over_batch_size"}
    assert L.Huber(2.0).name == "huber_loss" and L.LogCosh().name == "log_cosh"
    # Keras 3 leaves Huber's delta and CosineSimilarity's axis out of the config (a loaded loss
    # then computes something else); here they are kept
    assert L.Huber(2.0).get_config() == {"name": "huber_loss", "reduction": "sum_over_batch_size",
                                         "delta": 2.0}
    assert L.CosineSimilarity(axis=1).get_config()["axis"] == 1
    assert L.Huber.from_config(L.Huber(2.0).get_config()).delta == 2.0
    assert L.CosineSimilarity(axis=0).get_config() == {"name": "cosine_similarity",
                                                       "reduction": "sum_over_batch_size",
                                                       "axis": 0}
    assert L.BinaryFocalCrossentropy().get_config() == {
        "name": "binary_focal_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "label_smoothing": 0.0, "axis": -1,
        "apply_class_balancing": False, "alpha": 0.25, "gamma": 2.0}
    assert L.SparseCategoricalCrossentropy(ignore_class=0).get_config() == {
        "name": "sparse_categorical_crossentropy", "reduction": "sum_over_batch_size",
        "from_logits": False, "ignore_class": 0}
    assert L.LossFunctionWrapper(L.mse).name.startswith("loss_function_wrapper")
    assert repr(L.Huber()).startswith("<LossFunctionWrapper(<function huber")


@pytest.mark.parametrize("name", ["mse", "MSE", "mean_squared_error", "mae", "MAE", "mape",
                                  "MAPE", "msle", "MSLE", "kld", "KLD", "bce", "BCE",
                                  "binary_crossentropy", "categorical_crossentropy",
                                  "sparse_categorical_crossentropy", "huber", "log_cosh",
                                  "kl_divergence", "poisson", "hinge", "cosine_similarity"])
def test_get_names_give_the_same_functions(name):
    fn = L.get(name)
    assert fn is L.get(name) and fn is L.ALL_OBJECTS_DICT[name]
    assert fn is getattr(L, fn.__name__)
    assert L.deserialize(L.serialize(fn)) is fn


def test_legacy_aliases():
    assert L.mse is L.MSE is L.mean_squared_error and L.logcosh is L.log_cosh
    assert L.kld is L.KLD is L.kullback_leibler_divergence is L.kl_divergence
    assert L.Reduction.all() == ("auto", "none", "sum", "sum_over_batch_size")
    L.Reduction.validate("sum")
    with pytest.raises(ValueError, match="Invalid Reduction Key: x"):
        L.Reduction.validate("x")


@pytest.mark.parametrize("cls", [L.MeanSquaredError, L.MeanAbsoluteError, L.Huber, L.LogCosh,
                                 L.BinaryCrossentropy, L.BinaryFocalCrossentropy,
                                 L.CategoricalCrossentropy, L.CategoricalFocalCrossentropy,
                                 L.SparseCategoricalCrossentropy, L.KLDivergence, L.Poisson,
                                 L.Hinge, L.SquaredHinge, L.CategoricalHinge, L.CosineSimilarity,
                                 L.MeanAbsolutePercentageError, L.MeanSquaredLogarithmicError,
                                 L.Dice, L.Tversky, L.CategoricalGeneralizedCrossEntropy])
def test_class_get_serialize_round_trip(cls):
    loss = cls(reduction="sum", name="my_loss")
    config = L.serialize(loss)
    assert config == {"module": "keras.losses", "class_name": cls.__name__,
                      "config": loss.get_config(), "registered_name": None}
    for restored in (L.deserialize(config), L.get(config), cls.from_config(loss.get_config())):
        assert type(restored) is cls and restored.get_config() == loss.get_config()
    if cls.__name__ in L.ALL_OBJECTS_DICT:  # as Keras, all but CategoricalGeneralizedCrossEntropy
        assert type(L.get(cls.__name__)) is cls
    assert L.get(loss) is loss


def test_get_accepts_dicts_classes_and_callables():
    loss = L.get({"class_name": "CategoricalCrossentropy", "config": {"from_logits": True}})
    assert isinstance(loss, L.CategoricalCrossentropy) and loss.from_logits
    assert isinstance(L.get(L.Huber), L.Huber)
    assert L.get(None) is None
    assert type(L.get("Loss")) is L.Loss
    assert isinstance(L.get("BinaryCrossentropy"), L.BinaryCrossentropy)


def test_loss_function_wrapper_config_round_trip():
    wrapper = L.LossFunctionWrapper(L.huber, name="w", reduction="sum", delta=0.5)
    config = wrapper.get_config()
    assert config == {"name": "w", "reduction": "sum", "delta": 0.5,
                      "fn": {"module": "builtins", "class_name": "function",
                             "config": "huber", "registered_name": "function"}}
    clone = L.LossFunctionWrapper.from_config(config)
    assert clone.fn is L.huber and clone._fn_kwargs == {"delta": 0.5}
    np.testing.assert_allclose(clone(REG_TRUE, REG_PRED).numpy(),
                               np_huber(REG_TRUE, REG_PRED, 0.5).sum(), rtol=1e-5)
    restored = L.deserialize(L.serialize(wrapper))
    assert type(restored) is L.LossFunctionWrapper and restored.fn is L.huber


def test_errors():
    with pytest.raises(ValueError, match="Could not interpret loss identifier: foo"):
        L.get("foo")
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 3"):
        L.get(3)
    with pytest.raises(ValueError, match=r"Could not interpret loss identifier: \{'class_name'"):
        L.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="Invalid value for argument `reduction`"):
        L.MeanSquaredError(reduction="avg")
    with pytest.raises(ValueError, match="Only axis=-1 is currently supported. Received: axis=0"):
        L.sparse_categorical_crossentropy(SPARSE, PROB, axis=0)
    with pytest.raises(ValueError, match="`axis` must be of type `int`"):
        L.categorical_crossentropy(ONE_HOT, PROB, axis=True)
    with pytest.raises(ValueError, match="must have the same rank"):
        L.binary_crossentropy(BIN_TRUE[:, 0], PROB)
    with pytest.raises(ValueError, match="must have the same shape"):
        L.categorical_crossentropy(ONE_HOT[:, :3], PROB)
    with pytest.raises(ValueError, match=r"must have rank \(ndim\) `target.ndim - 1`"):
        L.sparse_categorical_crossentropy(np.zeros((N, 2, 2)), PROB)
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        L.CategoricalGeneralizedCrossEntropy(q=1.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="outside the valid range"):
        L.sparse_categorical_crossentropy([7, 0, 0, 0, 0], PROB)
    with pytest.warns(SyntaxWarning, match="expected y_pred.shape to be"):
        L.categorical_crossentropy(np.ones((2, 1)), np.ones((2, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        L.categorical_crossentropy(ONE_HOT, PROB)
    with pytest.raises(NotImplementedError):
        L.Loss()(REG_TRUE, REG_PRED)


def test_ignore_class_and_label_smoothing_in_tf_function_with_unknown_shapes():
    labels = np.array([1, 2, 2, 0, 3], np.int32)
    keep = labels != 2
    logits = LOGITS.astype(np.float32)
    scce = L.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    graph_scce = tf.function(scce, input_signature=[tf.TensorSpec((None,), tf.int32),
                                                    tf.TensorSpec((None, None), tf.float32)])
    np.testing.assert_allclose(graph_scce(labels, logits).numpy(),
                               (np_scce(labels, LOGITS, True) * keep).sum() / keep.sum(),
                               rtol=1e-5)
    cce = L.CategoricalCrossentropy(label_smoothing=0.2, reduction="none")
    graph_cce = tf.function(cce, input_signature=[tf.TensorSpec((None, None), tf.float32)] * 2)
    np.testing.assert_allclose(graph_cce(ONE_HOT.astype(np.float32), PROB.astype(np.float32)),
                               np_cce(ONE_HOT, PROB, label_smoothing=0.2), rtol=1e-5)


class _LogitsCarrier(Tensor):
    """A tensor that can carry `_keras_logits` (as Keras's softmax/sigmoid outputs do)."""


def _carrier(probabilities, logits):
    out = _LogitsCarrier(np.asarray(probabilities), tf.as_dtype(probabilities.dtype))
    out._keras_logits = tf.constant(logits)
    return out


def test_probabilities_carrying_their_logits_use_them():
    logits = np.array([[30.0, -30.0, 0.0], [2.0, 1.0, -50.0]])
    onehot = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    probs = np_softmax(logits)
    exact = np_cce(onehot, logits, from_logits=True)
    assert exact[0] == pytest.approx(60.0) and np_cce(onehot, probs)[0] < 17  # clipped
    np.testing.assert_allclose(L.categorical_crossentropy(onehot, _carrier(probs, logits)),
                               exact, rtol=1e-12)
    np.testing.assert_allclose(
        L.sparse_categorical_crossentropy(np.array([1, 2]), _carrier(probs, logits)), exact,
        rtol=1e-12)
    sig = np_sigmoid(logits)
    np.testing.assert_allclose(L.binary_crossentropy(onehot, _carrier(sig, logits)),
                               np_bce(onehot, logits, from_logits=True), rtol=1e-12)
    with pytest.warns(UserWarning, match="received `from_logits=True`, but the `output` argument "
                                         "was produced by a Softmax activation"):
        L.categorical_crossentropy(onehot, _carrier(probs, logits), from_logits=True)


def test_softmax_and_sigmoid_outputs_in_a_graph_use_their_logits():
    logits = np.array([[30.0, -30.0, 0.0], [2.0, 1.0, -50.0]])
    onehot = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])

    @tf.function
    def losses(x):
        return (L.CategoricalCrossentropy(dtype="float64", reduction=None)(onehot,
                                                                            tf.nn.softmax(x)),
                L.sparse_categorical_crossentropy([1, 2], tf.nn.softmax(x)),
                L.binary_crossentropy(onehot, tf.sigmoid(x)),
                # a softmax over another axis is not TensorFlow's Softmax op: clipped
                L.categorical_crossentropy(onehot, tf.nn.softmax(x, axis=0)))
    cce, scce, bce, other_axis = losses(tf.constant(logits))
    np.testing.assert_allclose(cce.numpy(), np_cce(onehot, logits, from_logits=True), rtol=1e-12)
    np.testing.assert_allclose(scce.numpy(), np_cce(onehot, logits, from_logits=True),
                               rtol=1e-12)
    np.testing.assert_allclose(bce.numpy(), np_bce(onehot, logits, from_logits=True), rtol=1e-12)
    np.testing.assert_allclose(other_axis.numpy(), np_cce(onehot, np_softmax(logits, axis=0)),
                               rtol=1e-12)
