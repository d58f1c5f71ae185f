"""keras.layers activation layers: ReLU, LeakyReLU, PReLU, ELU, Softmax."""
import warnings

import numpy as np
import pytest

import tensorweave as tf
from keras_harness import check_layer
from tensorweave import keras

L = keras.layers

CASES = {
    "relu": dict(make=lambda **kw: L.ReLU(**kw), input_shape=(3, 4)),
    "relu_capped_leaky_threshold": dict(
        make=lambda **kw: L.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.5, **kw),
        input_shape=(3, 5)),
    "leaky_relu": dict(make=lambda **kw: L.LeakyReLU(**kw), input_shape=(2, 3, 4)),
    "leaky_relu_slope": dict(make=lambda **kw: L.LeakyReLU(negative_slope=0.05, **kw),
                             input_shape=(4, 3)),
    "prelu": dict(make=lambda **kw: L.PReLU(alpha_initializer="random_uniform", **kw),
                  input_shape=(2, 3, 4), trainable_weights=1),
    "prelu_shared": dict(make=lambda **kw: L.PReLU(alpha_initializer="random_uniform",
                                                   shared_axes=[1, 2], **kw),
                         input_shape=(2, 3, 4, 2), trainable_weights=1),
    "elu": dict(make=lambda **kw: L.ELU(**kw), input_shape=(3, 4)),
    "elu_alpha": dict(make=lambda **kw: L.ELU(alpha=0.5, **kw), input_shape=(3, 4)),
    "softmax": dict(make=lambda **kw: L.Softmax(**kw), input_shape=(3, 4)),
    "softmax_axis1": dict(make=lambda **kw: L.Softmax(axis=1, **kw), input_shape=(2, 3, 4)),
    "softmax_two_axes": dict(make=lambda **kw: L.Softmax(axis=(1, 2), **kw),
                             input_shape=(2, 3, 4)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness(name):
    check_layer(**CASES[name])


X = np.array([[-3., -0.5, 0., 0.2, 0.7, 2.5]], np.float32)


def _relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    out = np.where(x >= threshold, x, negative_slope * (x - threshold))
    if max_value is not None:
        out = np.minimum(out, max_value)
    return out


@pytest.mark.parametrize("kwargs", [{}, {"max_value": 1.0}, {"negative_slope": 0.2},
                                    {"threshold": 0.5}, {"max_value": 2.0, "threshold": 0.5,
                                                         "negative_slope": 0.1}])
def test_relu_formula(kwargs):
    np.testing.assert_allclose(L.ReLU(**kwargs)(X).numpy(), _relu(X, **kwargs), rtol=1e-6)


def test_relu_config_and_errors():
    layer = L.ReLU(max_value=6.0)
    assert layer.built
    config = layer.get_config()
    assert (config["max_value"], config["negative_slope"], config["threshold"]) == (6.0, 0., 0.)
    with pytest.raises(ValueError, match="max_value of a ReLU layer cannot be a negative"):
        L.ReLU(max_value=-1)
    with pytest.raises(ValueError, match="negative_slope of a ReLU layer cannot be None"):
        L.ReLU(negative_slope=-0.1)
    with pytest.raises(ValueError, match="threshold of a ReLU layer cannot be None"):
        L.ReLU(threshold=None)


def test_leaky_relu_default_and_alpha():
    np.testing.assert_allclose(L.LeakyReLU()(X).numpy(), np.where(X > 0, X, 0.3 * X), rtol=1e-6)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = L.LeakyReLU(alpha=0.1)
    assert any("`alpha` is deprecated" in str(w.message) for w in caught)
    assert layer.negative_slope == 0.1
    assert layer.get_config()["negative_slope"] == 0.1 and "alpha" not in layer.get_config()
    np.testing.assert_allclose(layer(X).numpy(), np.where(X > 0, X, 0.1 * X), rtol=1e-6)
    with pytest.raises(ValueError, match="cannot be None or negative"):
        L.LeakyReLU(-0.2)


def test_prelu_weights_and_formula():
    layer = L.PReLU()
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype(np.float32)
    out = layer(x)
    assert [w.name for w in layer.weights] == ["alpha"]
    assert tuple(layer.alpha.shape) == (3, 4) and not layer.alpha.numpy().any()
    np.testing.assert_array_equal(out.numpy(), np.maximum(x, 0))
    alpha = np.linspace(0.1, 1.2, 12, dtype=np.float32).reshape(3, 4)
    layer.set_weights([alpha])
    np.testing.assert_allclose(layer(x).numpy(), np.where(x > 0, x, alpha * x), rtol=1e-6)
    shared = L.PReLU(shared_axes=2, alpha_initializer=keras.initializers.Constant(0.25))
    shared(x)
    assert tuple(shared.alpha.shape) == (3, 1)
    assert shared.get_config()["shared_axes"] == [2]
    assert shared.input_spec.axes == {1: 3}
    np.testing.assert_allclose(shared(x).numpy(), np.where(x > 0, x, 0.25 * x), rtol=1e-6)
    with pytest.raises(ValueError, match="expected axis 1 of input shape to have value 3"):
        shared(np.zeros((2, 5, 4), np.float32))
    with pytest.raises(ValueError, match="expected ndim=3"):
        shared(np.zeros((2, 3), np.float32))


def test_prelu_config():
    config = L.PReLU(alpha_regularizer="l2", alpha_constraint="non_neg").get_config()
    assert config["alpha_initializer"]["class_name"] == "Zeros"
    assert config["alpha_regularizer"]["class_name"] == "L2"
    assert config["alpha_constraint"]["class_name"] == "NonNeg"
    assert config["shared_axes"] is None


def test_elu_formula_and_config():
    np.testing.assert_allclose(L.ELU()(X).numpy(), np.where(X > 0, X, np.expm1(X)), rtol=1e-6)
    layer = L.ELU(alpha=0.5)
    np.testing.assert_allclose(layer(X).numpy(), np.where(X > 0, X, 0.5 * np.expm1(X)),
                               rtol=1e-6)
    assert layer.get_config()["alpha"] == 0.5
    assert L.ELU().get_config()["alpha"] == 1.0
    assert L.ELU.from_config(layer.get_config()).alpha == 0.5


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def test_softmax_axes():
    x = np.random.default_rng(1).normal(size=(2, 3, 4)).astype(np.float32)
    np.testing.assert_allclose(L.Softmax()(x).numpy(), _softmax(x, -1), rtol=1e-5)
    np.testing.assert_allclose(L.Softmax(axis=1)(x).numpy(), _softmax(x, 1), rtol=1e-5)
    np.testing.assert_allclose(L.Softmax(axis=[1])(x).numpy(), _softmax(x, 1), rtol=1e-5)
    np.testing.assert_allclose(L.Softmax(axis=(1, 2))(x).numpy(), _softmax(x, (1, 2)),
                               rtol=1e-5)
    assert L.Softmax(axis=(1, 2)).get_config()["axis"] == (1, 2)


def test_softmax_mask():
    x = np.array([[1., 2., 3., 4.], [0.5, 0.5, 0.5, 0.5]], np.float32)
    mask = np.array([[True, False, True, False], [False, False, False, False]])
    out = L.Softmax()(x, mask=mask).numpy()
    expected = np.zeros_like(x)
    expected[0, [0, 2]] = _softmax(x[0, [0, 2]], -1)
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)  # all-masked row: zeros
    floats = L.Softmax()(x, mask=mask.astype(np.float32) * 0.9).numpy()
    np.testing.assert_allclose(floats, expected, rtol=1e-6, atol=1e-7)
    broadcast = L.Softmax()(x, mask=np.array([True, True, False, True])).numpy()
    keep = [0, 1, 3]
    np.testing.assert_allclose(broadcast[:, keep], _softmax(x[:, keep], -1), rtol=1e-6)
    assert not broadcast[:, 2].any()
    with pytest.raises(ValueError, match="must not have more dimensions"):
        L.Softmax()(x, mask=np.ones((1, 2, 4), bool))
    with pytest.raises(ValueError, match="Each mask dimension must be 1 or match"):
        L.Softmax()(x, mask=np.ones((2, 3), bool))


def test_softmax_picks_up_keras_mask():
    ids = np.array([[3, 1, 0, 0]])
    embedded = L.Embedding(5, 1, mask_zero=True, embeddings_initializer="ones")(ids)
    scores = L.Softmax()(tf.squeeze(embedded, -1), mask=embedded._keras_mask)
    np.testing.assert_allclose(scores.numpy(), [[0.5, 0.5, 0., 0.]], rtol=1e-6)


def test_activation_layers_built_at_init_and_keep_shapes():
    for layer in (L.ReLU(), L.LeakyReLU(), L.ELU(), L.Softmax()):
        assert layer.built and layer.supports_masking
        assert layer.compute_output_shape((None, 3, 2)) == (None, 3, 2)
    assert not L.PReLU().built
    assert L.PReLU()(keras.Input((3, 2))).shape == (None, 3, 2)


def test_prelu_mixed_precision():
    layer = L.PReLU(alpha_initializer=keras.initializers.Constant(0.5), dtype="mixed_float16")
    out = layer(X)
    assert out.dtype == tf.float16 and layer.alpha.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), np.where(X > 0, X, 0.5 * X), rtol=1e-3)
