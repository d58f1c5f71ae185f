"""keras.constraints: projections against NumPy, Keras 3's dicts, get/serialize/deserialize."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave.keras import constraints as C

RNG = np.random.default_rng(11)
W = RNG.normal(scale=2.0, size=(5, 4))
EPS = 1e-7


def norms(w, axis):
    return np.sqrt(np.sum(w * w, axis=axis, keepdims=True))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_constraints_match_numpy(dtype, axis):
    w = W.astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    n = norms(W, tuple(axis) if isinstance(axis, list) else axis)
    cases = {
        C.MaxNorm(max_value=2.5, axis=axis): W * np.clip(n, 0, 2.5) / (EPS + n),
        C.UnitNorm(axis=axis): W / (EPS + n),
        C.MinMaxNorm(min_value=1.5, max_value=3.0, rate=0.7, axis=axis):
            W * (0.7 * np.clip(n, 1.5, 3.0) + 0.3 * n) / (EPS + n),
    }
    for constraint, expected in cases.items():
        out = constraint(tf.constant(w))
        assert out.dtype == tf.as_dtype(dtype)
        np.testing.assert_allclose(out.numpy(), expected, rtol=tol, atol=tol)


def test_max_norm_leaves_small_vectors_and_caps_large_ones():
    out = C.MaxNorm(2.0)(tf.constant(W)).numpy()
    before, after = norms(W, 0).ravel(), norms(out, 0).ravel()
    assert np.all(after <= 2.0 + 1e-12)
    small = before < 2.0
    np.testing.assert_allclose(after[small], before[small] / (1 + EPS / before[small]))


def test_non_neg_and_base():
    w = tf.constant(W)
    np.testing.assert_array_equal(C.NonNeg()(w).numpy(), np.maximum(W, 0))
    assert C.NonNeg()(tf.constant([-1, 2])).numpy().tolist() == [0, 2]
    assert C.Constraint()(w) is w
    assert C.Constraint().get_config() == {}


def test_constraints_accept_variables():
    v = tf.Variable(W)
    np.testing.assert_allclose(C.UnitNorm()(v).numpy(), W / (EPS + norms(W, 0)))


KERAS_DICTS = [
    (C.MaxNorm(), {"module": "keras.constraints", "class_name": "MaxNorm",
                   "config": {"max_value": 2, "axis": 0}, "registered_name": None}),
    (C.NonNeg(), {"module": "keras.constraints", "class_name": "NonNeg", "config": {},
                  "registered_name": None}),
    (C.UnitNorm(), {"module": "keras.constraints", "class_name": "UnitNorm",
                    "config": {"axis": 0}, "registered_name": None}),
    (C.MinMaxNorm(), {"module": "keras.constraints", "class_name": "MinMaxNorm",
                      "config": {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0},
                      "registered_name": None}),
]


@pytest.mark.parametrize("constraint, expected", KERAS_DICTS,
                         ids=[type(c).__name__ for c, _ in KERAS_DICTS])
def test_serialize_gives_keras_dicts_and_round_trips(constraint, expected):
    assert C.serialize(constraint) == expected
    again = C.deserialize(expected)
    assert type(again) is type(constraint) and again.get_config() == constraint.get_config()
    assert C.get(expected).get_config() == constraint.get_config()


def test_get():
    assert C.get(None) is None
    for name, cls in {"max_norm": C.MaxNorm, "MaxNorm": C.MaxNorm, "min_max_norm": C.MinMaxNorm,
                      "non_neg": C.NonNeg, "NonNeg": C.NonNeg, "unit_norm": C.UnitNorm,
                      "constraint": C.Constraint}.items():
        assert type(C.get(name)) is cls
    assert type(C.get(C.UnitNorm)) is C.UnitNorm
    assert C.max_norm is C.MaxNorm and C.non_neg is C.NonNeg
    assert C.min_max_norm is C.MinMaxNorm and C.unit_norm is C.UnitNorm

    def my_positive_weights(weights):
        return tf.where(weights < 0, tf.zeros_like(weights), weights)
    assert C.get(my_positive_weights) is my_positive_weights
    for bad in ["nonneg", "foo", 3, {"class_name": "Foo", "config": {}}]:
        with pytest.raises(ValueError, match="^Could not interpret constraint identifier: "):
            C.get(bad)


def test_user_constraint_round_trip():
    class Clip(C.Constraint):
        def __init__(self, limit):
            self.limit = limit

        def __call__(self, w):
            return tf.clip_by_value(w, -self.limit, self.limit)

        def get_config(self):
            return {"limit": self.limit}
    config = C.serialize(Clip(0.5))
    again = C.deserialize(config, custom_objects={"Clip": Clip})
    assert type(again) is Clip and again.limit == 0.5
    np.testing.assert_array_equal(again(tf.constant(W)).numpy(), np.clip(W, -0.5, 0.5))
