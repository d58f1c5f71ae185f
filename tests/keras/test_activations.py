"""keras.activations: every Keras 3 activation against its NumPy formula (float32 and float64),
gradients of the composite ones against finite differences, get/serialize/deserialize."""
import math
import warnings

import numpy as np
import pytest

import tensorweave as tf
from harness import check_grad
from tensorweave.keras import activations as A
from tensorweave.keras.saving import serialization

RNG = np.random.default_rng(3)
X = RNG.normal(scale=2.5, size=(4, 6))
# points away from every kink (0, +-0.5, +-1, +-3, 1.5) for finite differences
SMOOTH = np.array([[-3.7, -2.2, -1.3, -0.8, -0.3, 0.2], [0.7, 1.3, 2.6, 3.3, -0.1, 0.35]])
SELU_SCALE, SELU_ALPHA = 1.0507009873554805, 1.6732632423543772


def F32(v):
    return float(np.float32(v))


def np_softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


def np_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def np_softmax(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def np_log_softmax(x, axis=-1):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


def np_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    out = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        out = np.minimum(out, max_value)
    return out - negative_slope * np.maximum(threshold - x, 0.0)


def np_sparsemax_row(z):
    """The projection onto the simplex by bisection on tau: sum(max(z - tau, 0)) = 1."""
    lo, hi = np.min(z) - 1.0, np.max(z)
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.sum(np.maximum(z - mid, 0)) > 1:
            lo = mid
        else:
            hi = mid
    return np.maximum(z - (lo + hi) / 2, 0)


def np_sparsemax(x, axis=-1):
    return np.apply_along_axis(np_sparsemax_row, axis, x)


erf = np.vectorize(math.erf)

# name -> (call on tensorweave, NumPy oracle)
FORMULAS = {
    "relu": (A.relu, lambda x: np.maximum(x, 0)),
    "relu_slope": (lambda x: A.relu(x, negative_slope=0.1), lambda x: np_relu(x, F32(0.1))),
    "relu_max": (lambda x: A.relu(x, max_value=2.5), lambda x: np_relu(x, max_value=2.5)),
    "relu_max6": (lambda x: A.relu(x, max_value=6), lambda x: np.clip(x, 0, 6)),
    "relu_threshold": (lambda x: A.relu(x, threshold=0.5), lambda x: np_relu(x, threshold=0.5)),
    # the threshold is cast through float32 where it selects (as in Keras), not where it shifts
    "relu_all": (lambda x: A.relu(x, negative_slope=0.2, max_value=3.1, threshold=-0.4),
                 lambda x: np.minimum(np.where(x > F32(-0.4), x, 0.0), F32(3.1))
                 - 0.2 * np.maximum(-0.4 - x, 0.0)),
    # tf.nn.leaky_relu's alpha is a float32 attribute, also for float64 features
    "leaky_relu": (A.leaky_relu, lambda x: np.where(x >= 0, x, F32(0.2) * x)),
    "leaky_relu_slope": (lambda x: A.leaky_relu(x, negative_slope=0.05),
                         lambda x: np.where(x >= 0, x, F32(0.05) * x)),
    "relu6": (A.relu6, lambda x: np.clip(x, 0, 6)),
    "softmax": (A.softmax, np_softmax),
    "softmax_axis0": (lambda x: A.softmax(x, axis=0), lambda x: np_softmax(x, 0)),
    "softmax_none": (lambda x: A.softmax(x, axis=None),
                     lambda x: np_softmax(x.reshape(-1)).reshape(x.shape)),
    "elu": (A.elu, lambda x: np.where(x > 0, x, np.expm1(x))),
    "elu_alpha": (lambda x: A.elu(x, alpha=0.3), lambda x: np.where(x > 0, x, 0.3 * np.expm1(x))),
    "selu": (A.selu, lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))),
    "celu": (lambda x: A.celu(x, alpha=0.7),
             lambda x: np.maximum(x, 0) + 0.7 * np.expm1(np.minimum(x, 0) / 0.7)),
    "softplus": (A.softplus, np_softplus),
    "softsign": (A.softsign, lambda x: x / (1 + np.abs(x))),
    "squareplus": (A.squareplus, lambda x: (x + np.sqrt(x * x + 4)) / 2),
    "squareplus_b": (lambda x: A.squareplus(x, b=1.5), lambda x: (x + np.sqrt(x * x + 1.5)) / 2),
    "sparse_plus": (A.sparse_plus,
                    lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x))),
    "silu": (A.silu, lambda x: x * np_sigmoid(x)),
    "gelu": (A.gelu, lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2)))),
    "gelu_tanh": (lambda x: A.gelu(x, approximate=True),
                  lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))),
    "glu": (A.glu, lambda x: x[..., :3] * np_sigmoid(x[..., 3:])),
    "glu_axis0": (lambda x: A.glu(x, axis=0), lambda x: x[:2] * np_sigmoid(x[2:])),
    "tanh": (A.tanh, np.tanh),
    "tanh_shrink": (A.tanh_shrink, lambda x: x - np.tanh(x)),
    "hard_tanh": (A.hard_tanh, lambda x: np.clip(x, -1, 1)),
    "soft_shrink": (A.soft_shrink,
                    lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0))),
    "hard_shrink": (lambda x: A.hard_shrink(x, threshold=1.2),
                    lambda x: np.where(np.abs(x) > 1.2, x, 0)),
    "threshold": (lambda x: A.threshold(x, 0.4, -2.0), lambda x: np.where(x > 0.4, x, -2.0)),
    "sigmoid": (A.sigmoid, np_sigmoid),
    "sparse_sigmoid": (A.sparse_sigmoid, lambda x: np.clip((x + 1) / 2, 0, 1)),
    "hard_sigmoid": (A.hard_sigmoid, lambda x: np.clip((x + 3) / 6, 0, 1)),
    "hard_silu": (A.hard_silu, lambda x: x * np.clip((x + 3) / 6, 0, 1)),
    "log_sigmoid": (A.log_sigmoid, lambda x: -np_softplus(-x)),
    "exponential": (A.exponential, np.exp),
    "mish": (A.mish, lambda x: x * np.tanh(np_softplus(x))),
    "log_softmax": (A.log_softmax, np_log_softmax),
    "log_softmax_axes": (lambda x: A.log_softmax(x, axis=(0, 1)),
                         lambda x: np_log_softmax(x.reshape(-1)).reshape(x.shape)),
    "sparsemax": (A.sparsemax, np_sparsemax),
    "sparsemax_axis0": (lambda x: A.sparsemax(x, axis=0), lambda x: np_sparsemax(x, 0)),
    "sparsemax_wide_support": (lambda x: A.sparsemax(x / 8), lambda x: np_sparsemax(x / 8)),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(FORMULAS))
def test_activation_matches_formula(name, dtype):
    fn, oracle = FORMULAS[name]
    x = X.astype(dtype)
    out = fn(tf.constant(x))
    assert out.dtype == tf.as_dtype(dtype)
    tol = 2e-6 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(out.numpy(), oracle(x.astype(np.float64)), rtol=tol, atol=tol)


def test_every_keras_activation_is_tested_and_exported():
    names = {"celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid",
             "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid",
             "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink",
             "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax",
             "squareplus", "swish", "tanh", "tanh_shrink", "threshold"}
    public = {n for n in dir(A) if not n.startswith("_") and n != "activations"}
    assert public == names | {"get", "serialize", "deserialize"}
    assert set(A.activations.ALL_OBJECTS_DICT) == names
    assert A.swish is A.silu and A.hard_swish is A.hard_silu
    untested = [n for n in names - {"linear", "swish", "hard_swish"} if n not in FORMULAS]
    assert untested == []


# composite activations (not a single tf.nn op): tape gradients against finite differences
GRADIENTS = ["relu_slope", "relu_max", "relu_threshold", "relu_all", "elu_alpha", "celu",
             "squareplus", "sparse_plus", "glu", "glu_axis0", "tanh_shrink", "hard_tanh",
             "soft_shrink", "hard_shrink", "threshold", "sparse_sigmoid", "hard_sigmoid",
             "hard_silu", "log_sigmoid", "mish", "softmax_none", "log_softmax_axes", "sparsemax",
             "sparsemax_axis0", "gelu", "gelu_tanh"]


@pytest.mark.parametrize("name", GRADIENTS)
def test_activation_gradient(name):
    fn, _ = FORMULAS[name]
    points = SMOOTH.reshape(4, 3) if name == "glu_axis0" else SMOOTH
    check_grad(fn, points)


def test_sparsemax_gives_exact_zeros_and_sums_to_one():
    out = A.sparsemax(tf.constant(X / 8)).numpy()
    np.testing.assert_allclose(out.sum(axis=-1), 1.0, rtol=1e-6)
    assert (out == 0).any() and (out >= 0).all()
    assert ((out > 0).sum(axis=-1) > 1).all()  # supports of several elements
    # closely spaced logits: all in the support (Keras 3.15 gives zeros here)
    np.testing.assert_allclose(A.sparsemax([[1.0, 0.9, 0.8]]).numpy(),
                               [[1.3 / 3, 1 / 3, 0.7 / 3]], rtol=1e-6)


def test_inputs_convert_and_keep_dtype():
    assert A.relu([-1.0, 2.0]).dtype == tf.float32
    assert A.relu(np.array([-1.0, 2.0])).dtype == tf.float64
    ints = A.relu(tf.constant([-2, 3, 7]))
    assert ints.dtype == tf.int32 and ints.numpy().tolist() == [0, 3, 7]
    np.testing.assert_allclose(A.exponential([0.0, 1.0]).numpy(), [1.0, np.e], rtol=1e-6)
    value = [1, 2]
    assert A.linear(value) is value


def test_activations_trace_in_a_graph():
    x = tf.constant(X.astype(np.float32))
    for name in ["sparsemax", "softmax_none", "relu_all", "gelu", "glu"]:
        fn = FORMULAS[name][0]
        traced = tf.function(lambda t, fn=fn: fn(t))
        np.testing.assert_allclose(traced(x).numpy(), fn(x).numpy(), rtol=1e-6)


def test_glu_needs_an_even_axis():
    with pytest.raises(ValueError, match=r"axis size must be divisible by 2. Received: "
                                         r"x.shape=\(2, 3\) with axis=-1"):
        A.glu(tf.ones((2, 3)))


def test_softmax_over_a_size_one_axis_warns():
    with pytest.warns(UserWarning, match="This axis has size 1"):
        out = A.softmax(tf.ones((2, 1)))
    assert out.numpy().tolist() == [[1.0], [1.0]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        A.softmax(tf.ones((2, 3)))


# -- get / serialize / deserialize ----------------------------------------------------------------
def test_get():
    assert A.get(None) is A.linear
    assert A.get("relu") is A.relu
    assert A.get("swish") is A.silu and A.get("hard_swish") is A.hard_silu
    assert A.get(tf.nn.relu) is tf.nn.relu

    def my_softplus(z):
        return tf.math.log(1.0 + tf.exp(z))
    assert A.get(my_softplus) is my_softplus
    assert A.get({"module": "builtins", "class_name": "function", "config": "tanh",
                  "registered_name": "function"}) is A.tanh
    for bad in ["foo", 3, "Relu"]:
        with pytest.raises(ValueError,
                           match=f"^Could not interpret activation function identifier: {bad}$"):
            A.get(bad)


def test_serialize_gives_names_for_builtins():
    assert A.serialize(A.relu) == "relu"
    assert A.serialize(A.swish) == "silu"
    assert A.serialize(A.hard_swish) == "hard_silu"
    assert A.serialize(A.linear) == "linear"
    assert A.serialize(tf.nn.relu) == "relu"  # a function named like a built-in
    for name in A.activations.ALL_OBJECTS_DICT:
        fn = A.get(name)
        assert A.deserialize(A.serialize(fn)) is fn


def test_serialize_of_user_functions():
    def my_act(x):
        return x
    assert A.serialize(my_act) == {"module": "builtins", "class_name": "function",
                                   "config": "my_act", "registered_name": "function"}
    # Keras 3: `deserialize` hands back the unknown name, `get` says it cannot find it
    assert A.deserialize(A.serialize(my_act)) == "my_act"
    with pytest.raises(TypeError, match="Could not locate function 'my_act'"):
        A.get(A.serialize(my_act))
    assert A.deserialize(A.serialize(my_act), custom_objects={"my_act": my_act}) is my_act

    @serialization.register_keras_serializable(package="TestPkg")
    def doubler(x):
        return x * 2
    config = A.serialize(doubler)
    assert config == {"module": "builtins", "class_name": "function",
                      "config": "TestPkg>doubler", "registered_name": "function"}
    assert A.deserialize(config) is doubler

    class NotSerializable:
        def __call__(self, x):
            return x
    with pytest.raises(TypeError):
        A.serialize(NotSerializable())
    with pytest.raises(ValueError, match="cannot be serialized due to invalid function name"):
        A.serialize("relu")


def test_activations_accept_keras_tensors():
    from tensorweave import keras
    inputs = keras.Input((6,))
    outputs = [A.relu(inputs, negative_slope=0.1, max_value=2.0), A.glu(inputs),
               A.softmax(inputs), A.sparsemax(inputs)]
    assert [o.shape for o in outputs] == [(None, 6), (None, 3), (None, 6), (None, 6)]
    model = keras.Model(inputs, outputs)
    x = X[:2].astype(np.float32)
    for got, expected in zip(model(x), [A.relu(x, negative_slope=0.1, max_value=2.0), A.glu(x),
                                        A.softmax(x), A.sparsemax(x)]):
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-6)
