"""Keras building blocks against Keras 3 itself (the one of TensorFlow 2.21): activation values
on the same inputs, and the serialized configs of initializers, regularizers and constraints.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import numpy as np
import pytest

import tensorweave as tw
from tensorweave.keras import activations as tw_activations
from tensorweave.keras import constraints as tw_constraints
from tensorweave.keras import initializers as tw_initializers
from tensorweave.keras import regularizers as tw_regularizers

pytestmark = pytest.mark.tfref
try:
    import keras
    import tensorflow as tf
except ImportError:
    tf = keras = None

OURS = {"initializers": tw_initializers, "regularizers": tw_regularizers,
        "constraints": tw_constraints}
needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(21)
X = RNG.normal(scale=2.5, size=(3, 8))

# name -> (call of a module `a` of activations, input)
ACTIVATIONS = {
    "relu": (lambda a, x: a.relu(x), X),
    "relu_all": (lambda a, x: a.relu(x, negative_slope=0.2, max_value=3.1, threshold=-0.4), X),
    "relu_max6": (lambda a, x: a.relu(x, max_value=6), X * 3),
    "relu_threshold": (lambda a, x: a.relu(x, threshold=0.7), X),
    "relu_slope": (lambda a, x: a.relu(x, negative_slope=0.1), X),
    "leaky_relu": (lambda a, x: a.leaky_relu(x, negative_slope=0.3), X),
    "relu6": (lambda a, x: a.relu6(x), X * 3),
    "softmax": (lambda a, x: a.softmax(x), X),
    "softmax_axis0": (lambda a, x: a.softmax(x, axis=0), X),
    "softmax_tuple": (lambda a, x: a.softmax(x, axis=(0, 1)), X),
    "elu": (lambda a, x: a.elu(x, alpha=0.4), X),
    "selu": (lambda a, x: a.selu(x), X),
    "celu": (lambda a, x: a.celu(x, alpha=0.7), X),
    "softplus": (lambda a, x: a.softplus(x), X),
    "softsign": (lambda a, x: a.softsign(x), X),
    "squareplus": (lambda a, x: a.squareplus(x, b=2), X),
    "soft_shrink": (lambda a, x: a.soft_shrink(x, threshold=0.8), X),
    "sparse_plus": (lambda a, x: a.sparse_plus(x), X / 2),
    "silu": (lambda a, x: a.silu(x), X),
    "swish": (lambda a, x: a.swish(x), X),
    "gelu": (lambda a, x: a.gelu(x), X),
    "gelu_tanh": (lambda a, x: a.gelu(x, approximate=True), X),
    "glu": (lambda a, x: a.glu(x), X),
    "tanh": (lambda a, x: a.tanh(x), X),
    "tanh_shrink": (lambda a, x: a.tanh_shrink(x), X),
    "hard_tanh": (lambda a, x: a.hard_tanh(x), X),
    "hard_shrink": (lambda a, x: a.hard_shrink(x, threshold=1.1), X),
    "threshold": (lambda a, x: a.threshold(x, 0.3, -1.5), X),
    "sigmoid": (lambda a, x: a.sigmoid(x), X),
    "sparse_sigmoid": (lambda a, x: a.sparse_sigmoid(x), X / 2),
    "exponential": (lambda a, x: a.exponential(x), X),
    "hard_sigmoid": (lambda a, x: a.hard_sigmoid(x), X * 2),
    "hard_silu": (lambda a, x: a.hard_silu(x), X * 2),
    "hard_swish": (lambda a, x: a.hard_swish(x), X * 2),
    "log_sigmoid": (lambda a, x: a.log_sigmoid(x), X),
    "linear": (lambda a, x: a.linear(x), X),
    "mish": (lambda a, x: a.mish(x), X),
    "log_softmax": (lambda a, x: a.log_softmax(x), X),
    "log_softmax_none": (lambda a, x: a.log_softmax(x, axis=None), X),
    # Keras 3.15's sparsemax is wrong when the support has several elements
    # (keras-team/keras#23425); they agree on inputs whose supports have one element
    "sparsemax": (lambda a, x: a.sparsemax(x), X * 10),
}


@needs_tf
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_matches_keras(name, dtype):
    fn, x = ACTIVATIONS[name]
    x = x.astype(dtype)
    theirs = np.asarray(fn(keras.activations, tf.constant(x)))
    ours = np.asarray(fn(tw_activations, tw.constant(x)))
    assert ours.dtype == theirs.dtype
    tol = 1e-6 if dtype == np.float32 else 1e-13
    if name in FLOAT32_CONSTANTS and dtype == np.float64:
        # TensorFlow's float64 gelu rounds its constants to float32 (about 4e-7 relative off
        # the exact value); tensorweave is exact: checked against NumPy, and near TensorFlow
        np.testing.assert_allclose(ours, FLOAT32_CONSTANTS[name](x), rtol=tol, atol=tol)
        tol = 1e-6
    np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol)


def _gelu_exact(x):
    from math import erfc, sqrt
    return np.array([0.5 * v * erfc(-v / sqrt(2.0)) for v in x.ravel()]).reshape(x.shape)


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))


FLOAT32_CONSTANTS = {"gelu": _gelu_exact, "gelu_tanh": _gelu_tanh}


@needs_tf
def test_same_activation_names_and_serialized_names():
    public = {n for n in dir(keras.activations) if not n.startswith("_")}
    assert public == {n for n in dir(tw_activations) if not n.startswith("_")} - {"activations"}
    for name in sorted(public - {"get", "serialize", "deserialize"}):
        assert tw_activations.serialize(getattr(tw_activations, name)) == \
            keras.activations.serialize(getattr(keras.activations, name)), name

    def custom(x):
        return x
    assert tw_activations.serialize(custom) == keras.activations.serialize(custom)


@needs_tf
@pytest.mark.parametrize("module", ["initializers", "regularizers", "constraints"])
def test_same_public_names(module):
    theirs = {n for n in dir(getattr(keras, module)) if not n.startswith("_")}
    ours = {n for n in dir(OURS[module]) if not n.startswith("_")}
    assert ours - {module} == theirs


# name -> (builder of an object from a module `m` of the family, family)
OBJECTS = {
    "Zeros": (lambda m: m.Zeros(), "initializers"),
    "Ones": (lambda m: m.Ones(), "initializers"),
    "Constant": (lambda m: m.Constant(2.5), "initializers"),
    "RandomNormal": (lambda m: m.RandomNormal(mean=1.0, seed=3), "initializers"),
    "RandomUniform": (lambda m: m.RandomUniform(), "initializers"),
    "TruncatedNormal": (lambda m: m.TruncatedNormal(stddev=0.2), "initializers"),
    "VarianceScaling": (lambda m: m.VarianceScaling(scale=2.0, mode="fan_avg",
                                                    distribution="normal", seed=1),
                        "initializers"),
    "GlorotUniform": (lambda m: m.GlorotUniform(), "initializers"),
    "GlorotNormal": (lambda m: m.GlorotNormal(seed=4), "initializers"),
    "HeNormal": (lambda m: m.HeNormal(), "initializers"),
    "HeUniform": (lambda m: m.HeUniform(), "initializers"),
    "LecunNormal": (lambda m: m.LecunNormal(), "initializers"),
    "LecunUniform": (lambda m: m.LecunUniform(), "initializers"),
    "Orthogonal": (lambda m: m.Orthogonal(gain=2.0), "initializers"),
    "Identity": (lambda m: m.Identity(gain=3.0), "initializers"),
    "L1": (lambda m: m.L1(0.3), "regularizers"),
    "L2": (lambda m: m.L2(), "regularizers"),
    "L1L2": (lambda m: m.L1L2(l1=0.1, l2=0.2), "regularizers"),
    "OrthogonalRegularizer": (lambda m: m.OrthogonalRegularizer(0.2, mode="columns"),
                              "regularizers"),
    "MaxNorm": (lambda m: m.MaxNorm(3), "constraints"),
    "MinMaxNorm": (lambda m: m.MinMaxNorm(0.5, 2.0, rate=0.5, axis=1), "constraints"),
    "NonNeg": (lambda m: m.NonNeg(), "constraints"),
    "UnitNorm": (lambda m: m.UnitNorm(axis=[0, 1]), "constraints"),
}


@needs_tf
@pytest.mark.parametrize("name", sorted(OBJECTS))
def test_serialized_dicts_match_keras(name):
    build, family = OBJECTS[name]
    theirs = getattr(keras, family).serialize(build(getattr(keras, family)))
    ours = OURS[family].serialize(build(OURS[family]))
    assert ours == theirs


@needs_tf
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_regularizer_and_constraint_values_match_keras(dtype):
    w = RNG.normal(size=(5, 4)).astype(dtype)
    tol = 1e-6 if dtype == np.float32 else 1e-13
    for name, (build, family) in OBJECTS.items():
        if family == "initializers":
            continue
        if name == "OrthogonalRegularizer" and dtype == np.float64:
            continue  # Keras 3.15 multiplies its float32 factor by the float64 sum and fails
        theirs = np.asarray(build(getattr(keras, family))(tf.constant(w)))
        ours = np.asarray(build(OURS[family])(tw.constant(w)))
        np.testing.assert_allclose(ours, theirs, rtol=tol, atol=tol, err_msg=name)


@needs_tf
@pytest.mark.parametrize("identifier", ["l1", "l2", "l1l2", "l1_l2", "orthogonal_regularizer"])
def test_regularizer_names_accepted_as_keras_accepts_them(identifier):
    try:
        keras.regularizers.get(identifier)
        accepted = True
    except ValueError:
        accepted = False
    if accepted:
        assert type(tw_regularizers.get(identifier)).__name__ == \
            type(keras.regularizers.get(identifier)).__name__
    else:
        with pytest.raises(ValueError):
            tw_regularizers.get(identifier)


@needs_tf
@pytest.mark.parametrize("name", ["random_normal_initializer", "random_uniform_initializer",
                                  "zeros_initializer", "ones_initializer",
                                  "constant_initializer"])
def test_tensorflow_initializers_configs(name):
    args = {"constant_initializer": (2.0,), "random_normal_initializer": (1.0, 2.0, 3)}.get(
        name, ())
    assert getattr(tw, name)(*args).get_config() == getattr(tf, name)(*args).get_config()
    assert type(getattr(tw, name)()).__name__ == type(getattr(tf, name)()).__name__
