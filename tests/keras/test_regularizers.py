"""keras.regularizers: penalties against NumPy, Keras 3's configs and quirks, get/serialize."""
import numpy as np
import pytest

import tensorweave as tf
from harness import check_grad
from tensorweave.keras import regularizers as R

RNG = np.random.default_rng(5)
W = RNG.normal(size=(4, 3))


def F32(v):
    return float(np.float32(v))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_penalties_match_numpy(dtype):
    w = tf.constant(W.astype(dtype))
    tol = 1e-6 if dtype == np.float32 else 1e-12
    # Keras casts the factors to x's dtype, a Python float going through float32
    np.testing.assert_allclose(R.L1(0.3)(w).numpy(), F32(0.3) * np.abs(W).sum(), rtol=tol)
    np.testing.assert_allclose(R.L2(0.3)(w).numpy(), F32(0.3) * (W ** 2).sum(), rtol=tol)
    np.testing.assert_allclose(R.L1L2(l1=0.1, l2=0.2)(w).numpy(),
                               F32(0.1) * np.abs(W).sum() + F32(0.2) * (W ** 2).sum(), rtol=tol)
    for reg in [R.L1(0.3), R.L2(0.3), R.L1L2(0.1, 0.2)]:
        assert reg(w).dtype == tf.as_dtype(dtype) and reg(w).shape == ()
    zero = R.L1L2()(w)
    assert zero.numpy() == 0.0 and zero.dtype == tf.as_dtype(dtype)


def test_defaults_and_aliases():
    assert R.L1().get_config() == {"l1": F32(0.01)}
    assert R.L2().get_config() == {"l2": 0.01}
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.L1(None).get_config() == {"l1": F32(0.01)}
    assert R.L1L2(l1=None, l2=0.5).get_config() == {"l1": 0.0, "l2": 0.5}
    assert R.l1 is R.L1 and R.l2 is R.L2 and R.l1_l2 is R.L1L2
    assert R.orthogonal_regularizer is R.OrthogonalRegularizer


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer(mode):
    value = R.OrthogonalRegularizer(factor=0.5, mode=mode)(tf.constant(W))
    m = W if mode == "rows" else W.T
    unit = m / np.linalg.norm(m, axis=1, keepdims=True)
    n = m.shape[0]
    pairs = [abs(unit[i] @ unit[j]) for i in range(n) for j in range(i + 1, n)]
    # Keras: factor * 0.5 * sum over i != j (each pair twice) / number of pairs
    expected = F32(0.5) * 0.5 * 2 * sum(pairs) / len(pairs)
    np.testing.assert_allclose(value.numpy(), expected, rtol=1e-12)
    # orthogonal rows cost nothing
    assert R.OrthogonalRegularizer(mode=mode)(tf.eye(3)).numpy() == 0.0
    check_grad(lambda w: R.OrthogonalRegularizer(factor=0.5, mode=mode)(w), W)


def test_orthogonal_regularizer_checks():
    with pytest.raises(ValueError, match="Inputs to OrthogonalRegularizer must have rank 2. "
                                         r"Received: inputs.shape=\(2, 2, 2\)"):
        R.OrthogonalRegularizer()(tf.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="Invalid value for argument `mode`"):
        R.OrthogonalRegularizer(mode="diagonal")


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), "0.1"])
def test_factors_must_be_non_negative_floats(bad):
    with pytest.raises(ValueError, match="Invalid value for argument l2: expected a "
                                         "non-negative float.Received: l2="):
        R.L2(bad)


def test_gradients():
    check_grad(lambda w: R.L1L2(l1=0.1, l2=0.2)(w), W)


def test_user_subclass_without_super_init():
    class MyL1Regularizer(R.Regularizer):
        def __init__(self, factor):
            self.factor = factor

        def __call__(self, weights):
            return tf.reduce_sum(tf.abs(self.factor * weights))

        def get_config(self):
            return {"factor": self.factor}
    reg = MyL1Regularizer(0.01)
    np.testing.assert_allclose(reg(tf.constant(W)).numpy(), 0.01 * np.abs(W).sum(), rtol=1e-12)
    assert R.get(reg) is reg
    config = R.serialize(reg)
    assert config["class_name"] == "MyL1Regularizer" and config["config"] == {"factor": 0.01}
    again = R.deserialize(config, custom_objects={"MyL1Regularizer": MyL1Regularizer})
    assert type(again) is MyL1Regularizer and again.factor == 0.01


def test_base_regularizer():
    assert R.Regularizer()(tf.ones(3)) == 0.0
    with pytest.raises(NotImplementedError, match="does not implement get_config()"):
        R.Regularizer().get_config()


KERAS_DICTS = [
    (R.L1(), {"module": "keras.regularizers", "class_name": "L1",
              "config": {"l1": 0.009999999776482582}, "registered_name": None}),
    (R.L2(0.1), {"module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.1},
                 "registered_name": None}),
    (R.L1L2(), {"module": "keras.regularizers", "class_name": "L1L2",
                "config": {"l1": 0.0, "l2": 0.0}, "registered_name": None}),
    (R.OrthogonalRegularizer(), {"module": "keras.regularizers",
                                 "class_name": "OrthogonalRegularizer",
                                 "config": {"factor": 0.009999999776482582, "mode": "rows"},
                                 "registered_name": None}),
]


@pytest.mark.parametrize("reg, expected", KERAS_DICTS,
                         ids=[type(r).__name__ for r, _ in KERAS_DICTS])
def test_serialize_gives_keras_dicts_and_round_trips(reg, expected):
    assert R.serialize(reg) == expected
    again = R.deserialize(expected)
    assert type(again) is type(reg) and again.get_config() == reg.get_config()
    assert R.get(expected).get_config() == reg.get_config()
    assert type(reg).from_config(reg.get_config()).get_config() == reg.get_config()


def test_get():
    assert R.get(None) is None
    for name, cls in {"l1": R.L1, "l2": R.L2, "l1l2": R.L1L2, "L1L2": R.L1L2,
                      "orthogonal_regularizer": R.OrthogonalRegularizer,
                      "OrthogonalRegularizer": R.OrthogonalRegularizer}.items():
        assert type(R.get(name)) is cls
    assert type(R.get(R.L2)) is R.L2

    def my_l1_regularizer(weights):
        return tf.reduce_sum(tf.abs(0.01 * weights))
    assert R.get(my_l1_regularizer) is my_l1_regularizer
    # Keras 3 computes the snake_case of "L1L2" as "l1l2": "l1_l2" is not a known name
    for bad in ["l1_l2", "foo", 3, {"class_name": "Foo", "config": {}}]:
        with pytest.raises(ValueError, match="^Could not interpret regularizer identifier: "):
            R.get(bad)
