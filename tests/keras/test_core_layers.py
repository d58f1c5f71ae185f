"""keras.layers core: Dense, Activation, Identity, Lambda, Embedding, Masking."""
import json
import warnings

import numpy as np
import pytest

import tensorweave as tf
from keras_harness import check_layer
from tensorweave import keras

L = keras.layers


@keras.saving.register_keras_serializable(package="TestCore")
def scaled_sum(x, scale=1.0):
    return tf.reduce_sum(x, axis=-1, keepdims=True) * scale


ZERO_ROWS = np.array([[[1., 2.], [0., 0.], [3., 0.]], [[0., 0.], [0., 0.], [-1., 5.]]],
                     np.float32)

CASES = {
    "dense": dict(make=lambda **kw: L.Dense(3, **kw), input_shape=(4, 5),
                  expected_output_shape=(4, 3), trainable_weights=2),
    "dense_rank3_tanh": dict(make=lambda **kw: L.Dense(2, activation="tanh", **kw),
                             input_shape=(2, 3, 4), expected_output_shape=(2, 3, 2),
                             trainable_weights=2),
    "dense_rank4_no_bias": dict(make=lambda **kw: L.Dense(3, use_bias=False, **kw),
                                input_shape=(2, 2, 3, 4), expected_output_shape=(2, 2, 3, 3),
                                trainable_weights=1),
    "dense_regularized": dict(make=lambda **kw: L.Dense(
        2, kernel_regularizer="l2", bias_regularizer=keras.regularizers.L1(0.1),
        activity_regularizer="l1", kernel_constraint="non_neg", bias_initializer="ones", **kw),
        input_shape=(3, 4), trainable_weights=2),
    "activation_relu": dict(make=lambda **kw: L.Activation("sigmoid", **kw), input_shape=(3, 4)),
    "activation_softmax": dict(make=lambda **kw: L.Activation("softmax", **kw),
                               input_shape=(2, 3, 4)),
    "identity": dict(make=lambda **kw: L.Identity(**kw), input_shape=(2, 5)),
    "lambda_registered": dict(make=lambda **kw: L.Lambda(scaled_sum, arguments={"scale": 2.0},
                                                         **kw),
                              input_shape=(3, 4), expected_output_shape=(3, 1)),
    "lambda_output_shape": dict(make=lambda **kw: L.Lambda(scaled_sum, output_shape=(1,), **kw),
                                input_shape=(2, 6), expected_output_shape=(2, 1)),
    "embedding": dict(make=lambda **kw: L.Embedding(10, 3, **kw), input_shape=(4, 5),
                      input_dtype="int32", expected_output_shape=(4, 5, 3), trainable_weights=1),
    "embedding_int64_mask": dict(make=lambda **kw: L.Embedding(10, 2, mask_zero=True, **kw),
                                 input_shape=(3, 4), input_dtype="int64", trainable_weights=1),
    # at a masked row the output jumps when an input moves off mask_value: no finite difference
    "masking": dict(make=lambda **kw: L.Masking(**kw), input_shape=(2, 3, 2),
                    input_data=ZERO_ROWS, grad=False),
    "masking_nothing_masked": dict(make=lambda **kw: L.Masking(**kw), input_shape=(2, 3, 2)),
    "masking_value": dict(make=lambda **kw: L.Masking(mask_value=3.0, **kw),
                          input_shape=(2, 3, 2), input_data=np.where(ZERO_ROWS == 0, 3.0,
                                                                     ZERO_ROWS), grad=False),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_harness(name):
    check_layer(**CASES[name])


# -- Dense -----------------------------------------------------------------------------------

def test_dense_weights_attributes_and_formula():
    layer = L.Dense(3, activation="relu")
    assert not layer.built
    x = np.random.default_rng(0).normal(size=(2, 5, 4)).astype(np.float32)
    out = layer(x)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.kernel is layer.weights[0] and layer.bias is layer.weights[1]
    assert layer.kernel.path == f"{layer.name}/kernel"
    assert tuple(layer.kernel.shape) == (4, 3) and tuple(layer.bias.shape) == (3,)
    layer.bias.assign([0.5, -0.5, 0.0])
    out = layer(x)
    expected = np.maximum(np.einsum("bti,iu->btu", x, layer.kernel.numpy()) + [0.5, -0.5, 0.], 0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert out.dtype == tf.float32


def test_dense_input_spec_errors():
    layer = L.Dense(2)
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        layer(np.zeros((3,), np.float32))
    layer(np.zeros((3, 4), np.float32))
    assert layer.input_spec.axes == {-1: 4}
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        layer(np.zeros((3, 5), np.float32))


@pytest.mark.parametrize("units", [0, -2, 2.5, "3", None])
def test_dense_rejects_bad_units(units):
    with pytest.raises(ValueError, match="expected a positive integer"):
        L.Dense(units)


def test_dense_initializers_as_seed_001_writes_them():
    layer = L.Dense(64, kernel_initializer=tf.random_normal_initializer(mean=0, stddev=0.01),
                    bias_initializer=tf.zeros_initializer())
    layer(np.ones((2, 200), np.float32))
    kernel = layer.kernel.numpy()
    assert abs(kernel.std() - 0.01) < 0.001 and abs(kernel.mean()) < 0.001
    assert not layer.bias.numpy().any()
    ones = L.Dense(4, kernel_initializer=keras.initializers.Ones())
    np.testing.assert_array_equal(ones(np.ones((1, 3), np.float32)).numpy(), [[3.] * 4])


def test_dense_losses_and_int_inputs():
    layer = L.Dense(2, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.1),
                    activity_regularizer=keras.regularizers.L1(0.5))
    out = layer(np.array([[1, 2], [3, 4]], np.int32))
    assert out.dtype == tf.float32
    np.testing.assert_array_equal(out.numpy(), [[3., 3.], [7., 7.]])
    losses = sorted(float(l.numpy()) for l in layer.losses)
    # activity: 0.5 * sum|out| / batch = 0.5 * 20 / 2; kernel: 0.1 * sum(1^2) over 4 entries
    np.testing.assert_allclose(losses, [0.4, 5.0], rtol=1e-6)


def test_dense_symbolic_and_in_sequential():
    model = keras.Sequential([L.Flatten(input_shape=(28, 28)), L.Dense(16, activation="relu"),
                              L.Dense(10, activation=tf.nn.softmax)])
    out = model(np.random.default_rng(1).normal(size=(3, 28, 28)).astype(np.float32))
    assert tuple(out.shape) == (3, 10)
    np.testing.assert_allclose(out.numpy().sum(axis=1), np.ones(3), rtol=1e-5)
    assert model.count_params() == 784 * 16 + 16 + 16 * 10 + 10


def test_dense_in_tf_function_with_unknown_batch():
    layer = L.Dense(3)
    f = tf.function(lambda x: layer(x),
                    input_signature=[tf.TensorSpec([None, None, 4], tf.float32)])
    x = np.ones((2, 5, 4), np.float32)
    np.testing.assert_allclose(f(tf.constant(x)).numpy(), layer(x).numpy(), rtol=1e-6)


def test_dense_lora_is_refused_clearly():
    with pytest.raises(NotImplementedError, match="LoRA"):
        L.Dense(2, lora_rank=2)


# -- Activation, Identity ----------------------------------------------------------------------

def test_activation_and_identity():
    x = np.array([[-2., 0.5, 3.]], np.float32)
    np.testing.assert_allclose(L.Activation("relu")(x).numpy(), [[0., 0.5, 3.]])
    np.testing.assert_allclose(L.Activation(tf.exp)(x).numpy(), np.exp(x), rtol=1e-6)
    np.testing.assert_array_equal(L.Activation(None)(x).numpy(), x)
    assert L.Activation("relu").built and L.Identity().built
    assert L.Activation("tanh").get_config()["activation"] == "tanh"
    ints = keras.Input((3,), dtype="int32")
    assert L.Identity()(ints).dtype == "int32"
    t = tf.constant(x)
    np.testing.assert_array_equal(L.Identity()(t).numpy(), x)
    assert set(L.Identity().get_config()) == {"name", "trainable", "dtype"}


# -- Lambda ------------------------------------------------------------------------------------

def test_lambda_seed_002_exponential_layer():
    exponential_layer = tf.keras.layers.Lambda(lambda x: tf.exp(x))
    out = exponential_layer(tf.constant([-1., 0., 1.]))
    np.testing.assert_allclose(out.numpy(), np.exp([-1., 0., 1.]), rtol=1e-6)
    model = tf.keras.Sequential([tf.keras.layers.Dense(30, activation="relu", input_shape=[8]),
                                 tf.keras.layers.Dense(1), exponential_layer])
    pred = model(np.ones((4, 8), np.float32))
    assert tuple(pred.shape) == (4, 1) and (pred.numpy() > 0).all()


def test_lambda_arguments_mask_training():
    seen = {}

    def fn(x, mask=None, training=None, offset=0.0):
        seen["mask"], seen["training"] = mask, training
        return x + offset

    layer = L.Lambda(fn, arguments={"offset": 2.0}, mask=lambda inputs, mask: inputs > 1.0)
    assert layer.supports_masking
    x = tf.constant([[0.5, 1.5]])
    out = layer(x, training=True)
    np.testing.assert_array_equal(out.numpy(), [[2.5, 3.5]])
    assert seen["training"] is True and seen["mask"] is None
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[False, True]])
    fixed = L.Lambda(lambda x: x, mask=tf.constant([True, False]))
    np.testing.assert_array_equal(fixed(x)._keras_mask.numpy(), [True, False])
    assert not L.Lambda(lambda x: x).supports_masking


def test_lambda_output_shapes():
    x = keras.Input((5, 4))
    assert L.Lambda(lambda t: t[:, :2])(x).shape == (None, 2, 4)
    assert L.Lambda(lambda t: t, output_shape=(7,)).compute_output_shape((3, 7)) == (3, 7)
    assert L.Lambda(lambda t: t, output_shape=lambda s: (s[0], 1)).compute_output_shape(
        (None, 9)) == (None, 1)
    assert L.Lambda(lambda t: t, output_shape=[(2,), (3,)]).compute_output_shape(
        (4, 1)) == [(4, 2), (4, 3)]
    with pytest.raises(NotImplementedError, match="specify the `output_shape`"):
        L.Lambda(lambda t: t.no_such_attribute).compute_output_shape((None, 3))


def test_lambda_config_dumps_python_lambdas_and_refuses_them_by_default():
    k = 3.0
    layer = L.Lambda(lambda x, power=2: x ** power * k, output_shape=(4,),
                     mask=lambda inputs, mask: mask, arguments={"power": 3})
    config = layer.get_config()
    function = config["function"]
    assert function["class_name"] == "__lambda__"
    assert set(function["config"]) == {"code", "defaults", "closure"}
    assert function["config"]["defaults"] == (2,) and function["config"]["closure"] == (3.0,)
    assert config["output_shape"] == (4,) and config["arguments"] == {"power": 3}
    assert config["mask"]["class_name"] == "__lambda__"
    text = json.loads(json.dumps(config))
    with pytest.raises(ValueError, match="safe_mode=False"):
        L.Lambda.from_config(text)
    clone = L.Lambda.from_config(text, safe_mode=False)
    x = tf.constant([[1., 2., 3., 4.]])
    np.testing.assert_allclose(clone(x).numpy(), layer(x).numpy())
    np.testing.assert_allclose(clone(x).numpy(), [[3., 24., 81., 192.]])
    assert clone.compute_output_shape((None, 4)) == (None, 4)
    assert clone.get_config()["output_shape"] == (4,)
    with pytest.raises(ValueError, match="safe_mode=False"):
        L.Lambda.from_config(L.Lambda(lambda x: x).get_config())


def test_lambda_named_function_config():
    config = L.Lambda(scaled_sum).get_config()
    assert config["function"] == {"module": "builtins", "class_name": "function",
                                  "config": "TestCore>scaled_sum",
                                  "registered_name": "function"}
    clone = L.Lambda.from_config(json.loads(json.dumps(config)))
    assert clone.function is scaled_sum
    assert L.Lambda(tf.exp).get_config()["function"]["config"] == "exp"


# -- Embedding -----------------------------------------------------------------------------------

def test_embedding_lookup_values_and_dtypes():
    layer = L.Embedding(5, 2)
    layer.build()
    table = np.arange(10, dtype=np.float32).reshape(5, 2)
    layer.set_weights([table])
    ids = np.array([[0, 4], [-1, 2]])
    expected = table[ids]
    for dtype in ("int32", "int64", "int16", "uint8"):
        data = np.where(ids < 0, 4, ids) if dtype == "uint8" else ids
        out = layer(tf.constant(data.astype(dtype)))
        np.testing.assert_array_equal(out.numpy(), table[data])
        assert out.dtype == tf.float32
    np.testing.assert_array_equal(layer(ids).numpy(), expected)
    floats = layer(np.array([[0.9, 3.7]], np.float32))  # truncated to 0, 3
    np.testing.assert_array_equal(floats.numpy(), table[[[0, 3]]])
    with pytest.raises(tf.errors.InvalidArgumentError, match="not in"):
        layer(np.array([[5]]))


def test_embedding_defaults_mask_and_config():
    layer = L.Embedding(1000, 8)
    out = layer(np.array([[1, 2, 0]]))
    assert tuple(out.shape) == (1, 3, 8) and getattr(out, "_keras_mask", None) is None
    values = layer.embeddings.numpy()
    assert layer.weights[0].name == "embeddings"
    assert values.min() >= -0.05 and values.max() <= 0.05 and values.std() > 0.02
    masked = L.Embedding(10, 4, mask_zero=True)
    out = masked(np.array([[3, 0, 1], [0, 0, 2]]))
    np.testing.assert_array_equal(out._keras_mask.numpy(), [[True, False, True],
                                                            [False, False, True]])
    assert masked.compute_mask(np.array([[0, 1]])) is not None
    assert layer.compute_mask(np.array([[0, 1]])) is None
    config = masked.get_config()
    assert config["mask_zero"] is True and config["activity_regularizer"] is None
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["quantization_config"] is None
    assert masked.compute_output_shape((None, 7)) == (None, 7, 4)
    assert L.Embedding(10, 4)(keras.Input((7,), dtype="int32")).shape == (None, 7, 4)


def test_embedding_arguments():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layer = L.Embedding(5, 2, input_length=3)
    assert any("input_length" in str(w.message) for w in caught)
    assert "input_length" not in layer.get_config()
    table = np.ones((5, 2), np.float32)
    built = L.Embedding(5, 2, weights=[table])
    assert built.built
    np.testing.assert_array_equal(built.embeddings.numpy(), table)
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="`input_dim` must be a positive integer"):
            L.Embedding(bad, 2)
        with pytest.raises(ValueError, match="`output_dim` must be a positive integer"):
            L.Embedding(3, bad)


def test_embedding_gradient_accumulates_repeated_ids():
    layer = L.Embedding(4, 2, dtype="float64")
    ids = tf.constant([[1, 1, 3]])
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(ids))
    grad = tf.convert_to_tensor(tape.gradient(loss, layer.embeddings)).numpy()
    np.testing.assert_array_equal(grad, [[0, 0], [2, 2], [0, 0], [1, 1]])


# -- Masking ------------------------------------------------------------------------------------

def test_masking_zeroes_and_masks():
    x = ZERO_ROWS.copy()
    x[0, 1] = [np.nan, 0.]  # NaN != 0: kept
    out = L.Masking()(x)
    keep = np.any(x != 0, axis=-1)
    np.testing.assert_array_equal(out._keras_mask.numpy(), keep)
    np.testing.assert_array_equal(out.numpy(), np.where(keep[..., None], x, 0.))
    masked = L.Masking(mask_value=1.0)(np.array([[[1., 1.], [1., 2.]]], np.float32))
    np.testing.assert_array_equal(masked.numpy(), [[[0., 0.], [1., 2.]]])
    np.testing.assert_array_equal(masked._keras_mask.numpy(), [[False, True]])
    assert L.Masking().built
    assert L.Masking(mask_value=-1.0).get_config()["mask_value"] == -1.0


def test_masking_gradient_is_zero_on_masked_rows():
    x = tf.constant(ZERO_ROWS.astype(np.float64))
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(L.Masking(dtype="float64")(x) * 2.0)
    keep = np.any(ZERO_ROWS != 0, axis=-1)
    np.testing.assert_array_equal(tape.gradient(y, x).numpy(),
                                  np.where(keep[..., None], 2.0, 0.0) * np.ones_like(ZERO_ROWS))


def test_masking_mask_flows_to_next_layer():
    seen = {}

    def fn(x, mask=None):
        seen["mask"] = mask
        return x

    model = keras.Sequential([L.Masking(input_shape=(3, 2)), L.Lambda(fn)])
    model(ZERO_ROWS)
    np.testing.assert_array_equal(np.asarray(seen["mask"]), np.any(ZERO_ROWS != 0, axis=-1))


def test_mixed_precision_weights_stay_float32():
    x = np.random.default_rng(3).normal(size=(2, 3)).astype(np.float32)
    dense = L.Dense(2, dtype="mixed_float16")
    out = dense(x)
    assert out.dtype == tf.float16 and dense.kernel.dtype == tf.float32
    np.testing.assert_allclose(out.numpy(), x @ dense.kernel.numpy() + dense.bias.numpy(),
                               rtol=2e-3, atol=2e-3)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.cast(dense(x), tf.float32))
    grads = tape.gradient(loss, dense.trainable_weights)
    assert [g.dtype for g in grads] == [tf.float32, tf.float32]
    np.testing.assert_allclose(grads[1].numpy(), [2., 2.])
    embedding = L.Embedding(4, 2, dtype="mixed_float16")
    assert embedding(np.array([[1, 3]])).dtype == tf.float16
    assert embedding.embeddings.dtype == tf.float32
