"""Whole training runs against Keras 3 itself: the same model, starting weights, data and
settings (no shuffling, no dropout) give the same history, evaluate results, predictions and
final weights.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import numpy as np
import pytest

from tensorweave import keras as tw_keras

pytestmark = pytest.mark.tfref
try:
    import keras
except ImportError:
    keras = None
needs_tf = pytest.mark.skipif(keras is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(11)
X = RNG.normal(size=(96, 6)).astype("float32")
Y_REG = (X @ RNG.normal(size=(6, 1)) + 0.3).astype("float32")
Y_CLS = RNG.integers(0, 3, size=96)
SAMPLE_WEIGHT = RNG.random(96).astype("float32")


def single_output(k, out, activation):
    return k.Sequential([k.Input((6,)), k.layers.Dense(12, activation="relu"),
                         k.layers.Dense(out, activation=activation)])


def two_outputs(k):
    inputs = k.Input((6,), name="features")
    hidden = k.layers.Dense(10, activation="tanh", name="hidden")(inputs)
    value = k.layers.Dense(1, name="value")(hidden)
    label = k.layers.Dense(3, activation="softmax", name="label")(hidden)
    return k.Model(inputs, [value, label])


CASES = {
    "regression_adam_mae": dict(
        make=lambda k: single_output(k, 1, None), y=Y_REG,
        compile=lambda k: dict(optimizer=k.optimizers.Adam(0.01), loss="mse", metrics=["mae"]),
        fit=dict(batch_size=16, epochs=3, validation_split=0.25)),
    "classification_rmsprop_accuracy_weighted": dict(
        make=lambda k: single_output(k, 3, "softmax"), y=Y_CLS,
        compile=lambda k: dict(optimizer=k.optimizers.RMSprop(0.01),
                               loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                               weighted_metrics=["sparse_categorical_crossentropy"]),
        fit=dict(batch_size=20, epochs=2, sample_weight=SAMPLE_WEIGHT)),
    "two_outputs_sgd_momentum": dict(
        make=two_outputs, y=[Y_REG, np.eye(3, dtype="float32")[Y_CLS]],
        compile=lambda k: dict(optimizer=k.optimizers.SGD(0.05, momentum=0.9),
                               loss=["mse", "categorical_crossentropy"],
                               loss_weights=[0.5, 2.0], metrics=[["mae"], ["accuracy"]]),
        fit=dict(batch_size=32, epochs=2, validation_data=(X[:32], None))),
    "adamw_schedule_clipnorm_l2": dict(
        make=lambda k: k.Sequential([
            k.Input((6,)), k.layers.Dense(12, activation="relu",
                                          kernel_regularizer=k.regularizers.l2(0.01)),
            k.layers.Dense(1)]), y=Y_REG,
        compile=lambda k: dict(optimizer=k.optimizers.AdamW(
            k.optimizers.schedules.ExponentialDecay(0.02, decay_steps=3, decay_rate=0.5),
            weight_decay=0.01, clipnorm=1.0), loss="huber", metrics=["mse"]),
        fit=dict(batch_size=16, epochs=3)),
    "class_weight_nadam": dict(
        make=lambda k: single_output(k, 3, "softmax"), y=Y_CLS,
        compile=lambda k: dict(optimizer=k.optimizers.Nadam(0.01),
                               loss="sparse_categorical_crossentropy", metrics=["accuracy"]),
        fit=dict(batch_size=24, epochs=2, class_weight={0: 1.0, 1: 3.0, 2: 0.5})),
}


def run(k, case, weights=None):
    k.utils.set_random_seed(0)
    model = case["make"](k)
    if weights is not None:
        model.set_weights(weights)
    model.compile(**case["compile"](k))
    fit = dict(case["fit"])
    if "validation_data" in fit:
        fit["validation_data"] = (X[:32], [y[:32] for y in case["y"]])
    history = model.fit(X, case["y"], shuffle=False, verbose=0, **fit)
    results = model.evaluate(X, case["y"], verbose=0, return_dict=True)
    return history.history, results, model.predict(X, verbose=0), model.get_weights()


@needs_tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_training_runs_match_keras(name):
    case = CASES[name]
    start = case["make"](keras).get_weights()
    theirs = run(keras, case, start)
    ours = run(tw_keras, case, start)
    assert list(ours[0]) == list(theirs[0])  # the same log keys, in Keras's order
    for key in theirs[0]:
        np.testing.assert_allclose(ours[0][key], theirs[0][key], rtol=2e-4, atol=1e-6,
                                   err_msg=key)
    assert ours[1].keys() == theirs[1].keys()
    for key in theirs[1]:
        np.testing.assert_allclose(ours[1][key], theirs[1][key], rtol=2e-4, atol=1e-6,
                                   err_msg=key)
    for a, b in zip(np.atleast_1d(ours[2]) if not isinstance(ours[2], list) else ours[2],
                    np.atleast_1d(theirs[2]) if not isinstance(theirs[2], list) else theirs[2]):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5)
    for a, b in zip(ours[3], theirs[3]):
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-5)
