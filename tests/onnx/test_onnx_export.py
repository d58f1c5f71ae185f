"""ONNX export: onnxruntime's outputs equal model.predict (atol 1e-5, float32) at two batch sizes
for every layer type, through model.export / tensorweave.onnx.export; functions; errors."""
import os

import numpy as np
import pytest

ort = pytest.importorskip("onnxruntime")

import tensorweave as tf  # noqa: E402
import tensorweave.onnx  # noqa: E402
from tensorweave import keras  # noqa: E402
from tensorweave.keras import layers as L  # noqa: E402
from tensorweave.keras.export import export_model  # noqa: E402

ATOL = 1e-5
BATCHES = (1, 3)


def _randomize(model, rng):
    """Random weights everywhere (variances positive), so biases and statistics matter."""
    weights = []
    for w in model.weights:
        value = rng.uniform(-0.6, 0.6, size=tuple(w.shape)).astype(w.dtype.name)
        if "variance" in w.name:
            value = np.abs(value) + 0.5
        if "embeddings" in w.name or w.dtype.name.startswith("int"):
            value = w.numpy()
        weights.append(value)
    model.set_weights(weights)


def _export(model, path, **kwargs):
    """Through model.export once the lead has added it, else the function it calls."""
    if hasattr(type(model), "export"):
        model.export(path, format="onnx", verbose=False, **kwargs)
    else:
        export_model(model, path, format="onnx", verbose=False, **kwargs)


def _inputs(specs, batch, rng):
    out = []
    for shape, dtype in specs:
        full = (batch,) + tuple(shape)
        if dtype.startswith("int"):
            out.append(rng.integers(0, 10, size=full).astype(dtype))
        else:
            out.append(rng.normal(size=full).astype(dtype))
    return out


def check(model, specs, tmp_path, randomize=True, name="model.onnx", **kwargs):
    """Exports `model`, runs onnxruntime at two batch sizes, compares with model.predict."""
    rng = np.random.default_rng(0)
    if randomize:
        _randomize(model, rng)
    path = os.path.join(tmp_path, name)
    _export(model, path, **kwargs)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = session.get_inputs()
    assert len(feeds) == len(specs)
    for feed in feeds:
        assert feed.shape[0] == "batch"
    for batch in BATCHES:
        xs = _inputs(specs, batch, rng)
        got = session.run(None, {f.name: x for f, x in zip(feeds, xs)})
        want = model.predict(xs if len(xs) > 1 else xs[0], verbose=0)
        want = want if isinstance(want, (list, tuple)) else [want]
        assert len(got) == len(want)
        for g, w in zip(got, want):
            w = np.asarray(w)
            assert g.shape == w.shape
            assert g.dtype == w.dtype
            np.testing.assert_allclose(g, w, rtol=0, atol=ATOL)
    return path


def seq(input_shape, *layers, dtype="float32"):
    return keras.Sequential([keras.Input(input_shape, dtype=dtype)] + list(layers))


# -- activations ------------------------------------------------------------------------------
ACTIVATIONS = ["celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid",
               "hard_silu", "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid",
               "log_softmax", "mish", "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink",
               "softmax", "softplus", "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax",
               "squareplus", "swish", "tanh", "tanh_shrink"]


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_dense_with_activation(activation, tmp_path):
    model = seq((5,), L.Dense(6, activation=activation))
    check(model, [((5,), "float32")], tmp_path)


def test_gelu_approximate_and_activation_layers(tmp_path):
    model = seq((6,), L.Dense(8), L.Activation(lambda x: keras.activations.gelu(x, True)),
                L.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.2), L.LeakyReLU(0.3),
                L.ELU(0.7), L.PReLU(), L.Softmax(), L.Dense(3, activation="relu6"))
    check(model, [((6,), "float32")], tmp_path)


# -- convolutions -----------------------------------------------------------------------------
def test_conv1d_same_strided(tmp_path):
    check(seq((11, 3), L.Conv1D(4, 3, strides=2, padding="same", activation="relu"),
              L.Conv1D(2, 2, dilation_rate=2)), [((11, 3), "float32")], tmp_path)


def test_conv2d(tmp_path):
    check(seq((9, 8, 3), L.Conv2D(4, 3, padding="same", strides=2),
              L.Conv2D(5, (2, 3), dilation_rate=(2, 1), activation="elu")),
          [((9, 8, 3), "float32")], tmp_path)


def test_conv2d_groups(tmp_path):
    check(seq((6, 6, 4), L.Conv2D(6, 3, groups=2)), [((6, 6, 4), "float32")], tmp_path)


def test_conv3d(tmp_path):
    check(seq((5, 6, 4, 2), L.Conv3D(3, 2, padding="same"), L.Conv3D(2, (2, 3, 1))),
          [((5, 6, 4, 2), "float32")], tmp_path)


def test_conv2d_transpose(tmp_path):
    check(seq((5, 4, 3), L.Conv2DTranspose(4, 3, strides=2, padding="same"),
              L.Conv2DTranspose(2, (2, 3), strides=(1, 2), padding="valid"),
              L.Conv2DTranspose(2, 3, strides=2, output_padding=1)),
          [((5, 4, 3), "float32")], tmp_path)


def test_depthwise_and_separable(tmp_path):
    check(seq((8, 7, 3), L.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
              L.SeparableConv2D(4, 3, strides=2, depth_multiplier=2, activation="relu")),
          [((8, 7, 3), "float32")], tmp_path)


# -- pooling ----------------------------------------------------------------------------------
def test_pooling_2d(tmp_path):
    check(seq((9, 8, 3), L.MaxPooling2D(2, padding="same"), L.AveragePooling2D(3, strides=1,
                                                                               padding="same"),
              L.AveragePooling2D(2), L.MaxPooling2D((2, 1))), [((9, 8, 3), "float32")],
          tmp_path)


def test_pooling_1d(tmp_path):
    check(seq((9, 3), L.MaxPooling1D(2), L.AveragePooling1D(2, padding="same"),
              L.MaxPooling1D(3, strides=1, padding="same")), [((9, 3), "float32")], tmp_path)


def test_global_pooling(tmp_path):
    inp = keras.Input((6, 5, 3))
    x1 = L.GlobalAveragePooling2D()(inp)
    x2 = L.GlobalMaxPooling2D()(inp)
    seq_in = L.Reshape((30, 3))(inp)
    x3 = L.GlobalAveragePooling1D()(seq_in)
    x4 = L.GlobalMaxPooling1D(keepdims=True)(seq_in)
    model = keras.Model(inp, [x1, x2, x3, x4])
    check(model, [((6, 5, 3), "float32")], tmp_path)


# -- normalization, dropout -------------------------------------------------------------------
def test_normalization_and_dropout(tmp_path):
    check(seq((4, 6), L.BatchNormalization(), L.Dropout(0.5), L.LayerNormalization(),
              L.LayerNormalization(axis=(1, 2), center=False), L.SpatialDropout1D(0.3),
              L.BatchNormalization(axis=1, scale=False)),
          [((4, 6), "float32")], tmp_path)


def test_group_normalization(tmp_path):
    check(seq((3, 3, 6), L.GroupNormalization(groups=3)), [((3, 3, 6), "float32")], tmp_path)


# -- reshaping --------------------------------------------------------------------------------
def test_reshaping(tmp_path):
    check(seq((2, 3, 4), L.Permute((3, 1, 2)), L.Flatten(), L.RepeatVector(2),
              L.Reshape((4, -1)), L.Reshape((2, 4, 6))), [((2, 3, 4), "float32")], tmp_path)


def test_padding_cropping_upsampling(tmp_path):
    check(seq((5, 4, 2), L.ZeroPadding2D(((1, 2), (0, 1))), L.Cropping2D(((1, 0), (2, 1))),
              L.UpSampling2D((2, 3)), L.ZeroPadding2D(1)), [((5, 4, 2), "float32")], tmp_path)


def test_upsampling_bilinear_and_1d(tmp_path):
    check(seq((4, 5, 2), L.UpSampling2D(2, interpolation="bilinear")),
          [((4, 5, 2), "float32")], tmp_path, name="a.onnx")
    check(seq((5, 3), L.UpSampling1D(3), L.ZeroPadding1D((1, 2)), L.Cropping1D((2, 1))),
          [((5, 3), "float32")], tmp_path, name="b.onnx")


# -- merging ----------------------------------------------------------------------------------
def test_merging(tmp_path):
    a, c = keras.Input((4,), name="a"), keras.Input((4,), name="c")
    outs = [L.Concatenate()([a, c]), L.Add()([a, c]), L.Subtract()([a, c]),
            L.Multiply()([a, c]), L.Average()([a, c]), L.Maximum()([a, c]), L.Minimum()([a, c]),
            L.Dot(axes=1)([a, c]), L.Dot(axes=1, normalize=True)([a, c])]
    model = keras.Model([a, c], outs)
    check(model, [((4,), "float32"), ((4,), "float32")], tmp_path)


def test_dot_on_sequences(tmp_path):
    a, c = keras.Input((3, 4)), keras.Input((5, 4))
    model = keras.Model([a, c], L.Dot(axes=(2, 2))([a, c]))
    check(model, [((3, 4), "float32"), ((5, 4), "float32")], tmp_path)


def test_transposed_and_depthwise_1d_3d(tmp_path):
    check(seq((5, 3), L.Conv1DTranspose(4, 3, strides=2, padding="same"),
              L.DepthwiseConv1D(3, depth_multiplier=2), L.SeparableConv1D(4, 2, padding="same")),
          [((5, 3), "float32")], tmp_path, name="a.onnx")
    check(seq((3, 4, 3, 2), L.Conv3DTranspose(3, 2, strides=2)),
          [((3, 4, 3, 2), "float32")], tmp_path, name="b.onnx")


def test_3d_pooling_padding_upsampling(tmp_path):
    inp = keras.Input((4, 4, 4, 2))
    x = L.UpSampling3D(2)(L.Cropping3D(1)(L.ZeroPadding3D(1)(inp)))
    x = L.AveragePooling3D(2, padding="same")(L.MaxPooling3D(2)(x))
    model = keras.Model(inp, [L.GlobalAveragePooling3D()(x), L.GlobalMaxPooling3D()(inp)])
    check(model, [((4, 4, 4, 2), "float32")], tmp_path)


def test_attention_einsum_time_distributed(tmp_path):
    inp = keras.Input((4, 6))
    outs = [L.MultiHeadAttention(2, 3)(inp, inp), L.Attention()([inp, inp]),
            L.AdditiveAttention()([inp, inp]),
            L.EinsumDense("abc,cd->abd", output_shape=(None, 3), bias_axes="d")(inp),
            L.TimeDistributed(L.Dense(2))(inp), L.UnitNormalization()(inp)]
    check(keras.Model(inp, outs), [((4, 6), "float32")], tmp_path)


def test_inference_identities(tmp_path):
    check(seq((4, 6), L.GaussianNoise(0.3), L.GaussianDropout(0.3), L.AlphaDropout(0.3),
              L.ActivityRegularization(0.1), L.Identity(), L.Masking(0.0), L.Dense(3)),
          [((4, 6), "float32")], tmp_path)


# -- embedding, recurrent ---------------------------------------------------------------------
def test_embedding(tmp_path):
    check(seq((6,), L.Embedding(10, 4), L.Flatten(), L.Dense(2), dtype="int32"),
          [((6,), "int32")], tmp_path, name="a.onnx")
    # a mask nothing consumes is no obstacle
    check(seq((6,), L.Embedding(10, 4, mask_zero=True), L.Dense(2), dtype="int32"),
          [((6,), "int32")], tmp_path, name="b.onnx")


@pytest.mark.parametrize("go_backwards", [False, True])
def test_lstm(go_backwards, tmp_path):
    check(seq((5, 3), L.LSTM(4, return_sequences=True, go_backwards=go_backwards),
              L.LSTM(3, go_backwards=go_backwards)), [((5, 3), "float32")], tmp_path)


@pytest.mark.parametrize("reset_after", [True, False])
def test_gru(reset_after, tmp_path):
    check(seq((5, 3), L.GRU(4, return_sequences=True, reset_after=reset_after),
              L.GRU(3, reset_after=reset_after, go_backwards=True)),
          [((5, 3), "float32")], tmp_path)


def test_simple_rnn_and_bidirectional(tmp_path):
    check(seq((6, 3), L.SimpleRNN(4, return_sequences=True),
              L.Bidirectional(L.LSTM(3, return_sequences=True)),
              L.Bidirectional(L.GRU(2), merge_mode="sum"), L.Dense(2)),
          [((6, 3), "float32")], tmp_path)


def test_recurrent_state_outputs(tmp_path):
    inp = keras.Input((4, 3))
    seq_out, h, c = L.LSTM(5, return_sequences=True, return_state=True)(inp)
    model = keras.Model(inp, [seq_out, h, c])
    check(model, [((4, 3), "float32")], tmp_path)


def _run_shapes(model, shapes, tmp_path):
    _randomize(model, np.random.default_rng(4))
    path = os.path.join(tmp_path, "dyn.onnx")
    _export(model, path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    rng = np.random.default_rng(5)
    for shape in shapes:
        x = rng.normal(size=shape).astype("float32")
        got, want = session.run(None, {name: x})[0], model.predict(x, verbose=0)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=0, atol=ATOL)


def test_unknown_time_size(tmp_path):
    _run_shapes(seq((None, 3), L.LSTM(4, return_sequences=True, go_backwards=True),
                    L.GRU(3, return_sequences=True), L.SimpleRNN(2)),
                [(2, 5, 3), (3, 8, 3)], tmp_path)


def test_unknown_spatial_sizes(tmp_path):
    _run_shapes(seq((None, None, 3), L.Conv2D(4, 3, padding="same", strides=2),
                    L.MaxPooling2D(padding="same"), L.AveragePooling2D(3, 1, padding="same"),
                    L.Conv2DTranspose(3, 3, strides=2, padding="same"),
                    L.Conv2DTranspose(2, 3, strides=2, output_padding=1),
                    L.Conv2DTranspose(2, 1, strides=3)),
                [(2, 8, 8, 3), (1, 7, 9, 3)], tmp_path)


# -- models of other kinds --------------------------------------------------------------------
def test_functional_model_with_shared_layer(tmp_path):
    inp = keras.Input((8,), name="features")
    dense = L.Dense(8, activation="tanh")
    x = dense(L.Dense(8)(inp))
    x = dense(x)
    out = L.Dense(2, activation="softmax", name="probs")(L.Add()([x, inp]))
    check(keras.Model(inp, out), [((8,), "float32")], tmp_path)


class Residual(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.conv = L.Conv2D(3, 3, padding="same")
        self.norm = L.BatchNormalization()
        self.head = L.Dense(2)

    def call(self, x, training=False):
        y = tf.nn.relu(self.norm(self.conv(x), training=training)) + x
        y = tf.reduce_mean(y, axis=[1, 2])
        return self.head(y * 2.0 - tf.reduce_max(y, axis=-1, keepdims=True))


def test_subclassed_model(tmp_path):
    model = Residual()
    model(np.zeros((2, 5, 5, 3), "float32"))
    check(model, [((5, 5, 3), "float32")], tmp_path)


def test_explicit_input_signature_and_opsets(tmp_path):
    model = seq((4, 3), L.Conv1D(2, 2), L.GlobalAveragePooling1D(), L.Dense(2))
    _randomize(model, np.random.default_rng(1))
    x = np.random.default_rng(2).normal(size=(2, 4, 3)).astype("float32")
    for opset in (13, 18):
        path = os.path.join(tmp_path, f"m{opset}.onnx")
        _export(model, path, input_signature=[tf.TensorSpec([None, 4, 3], tf.float32, "x")],
                opset_version=opset)
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == ["x"]
        np.testing.assert_allclose(session.run(None, {"x": x})[0], model.predict(x, verbose=0),
                                   rtol=0, atol=ATOL)


def test_dict_inputs_and_outputs_keep_their_names(tmp_path):
    a, c = keras.Input((3,), name="a"), keras.Input((2,), name="c")
    out = L.Dense(2)(L.Concatenate()([a, c]))
    model = keras.Model({"a": a, "c": c}, {"y": out, "z": L.Dense(1)(out)})
    _randomize(model, np.random.default_rng(3))
    path = os.path.join(tmp_path, "d.onnx")
    _export(model, path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["a", "c"]
    assert [o.name for o in session.get_outputs()] == ["y", "z"]
    feeds = {"a": np.ones((2, 3), "float32"), "c": np.arange(4, dtype="float32").reshape(2, 2)}
    want = model.predict(feeds, verbose=0)
    got = session.run(None, feeds)
    np.testing.assert_allclose(got[0], want["y"], rtol=0, atol=ATOL)
    np.testing.assert_allclose(got[1], want["z"], rtol=0, atol=ATOL)


def test_weights_are_named_initializers_and_verbose_message(tmp_path, capsys):
    import onnx
    model = seq((3,), L.Dense(2, name="d1"), L.BatchNormalization(name="bn"))
    path = os.path.join(tmp_path, "m.onnx")
    export_model(model, path, format="onnx")
    assert capsys.readouterr().out == f"Saved artifact at '{path}'.\n"
    loaded = onnx.load(path)
    names = {init.name for init in loaded.graph.initializer}
    assert {f"{model.name}/d1/kernel", f"{model.name}/d1/bias"} <= names
    kernel = next(i for i in loaded.graph.initializer if i.name.endswith("d1/kernel"))
    np.testing.assert_array_equal(onnx.numpy_helper.to_array(kernel), model.layers[0].kernel)
    dim = loaded.graph.input[0].type.tensor_type.shape.dim
    assert dim[0].dim_param == "batch" and dim[1].dim_value == 3


def test_onnx_export_of_a_keras_model(tmp_path):
    model = seq((3,), L.Dense(2))
    path = os.path.join(tmp_path, "m.onnx")
    assert tensorweave.onnx.export(model, path) == path
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    x = np.ones((2, 3), "float32")
    assert session.get_inputs()[0].name == model.inputs[0].name
    np.testing.assert_allclose(session.run(None, {session.get_inputs()[0].name: x})[0],
                               model.predict(x, verbose=0), rtol=0, atol=ATOL)


# -- functions --------------------------------------------------------------------------------
def test_function_export(tmp_path):
    w = tf.Variable(np.arange(12, dtype="float32").reshape(4, 3) / 10)

    def fn(x):
        y = tf.matmul(x, w) + tf.constant([0.5, -1.0, 2.0])
        z = tf.concat([tf.nn.softmax(y), tf.math.cumsum(y, axis=1), x[:, 1:3] ** 2], axis=-1)
        return tf.reduce_sum(z, axis=1, keepdims=True), tf.argmax(y, axis=1)

    path = os.path.join(tmp_path, "fn.onnx")
    tensorweave.onnx.export(fn, path, input_signature=[tf.TensorSpec([None, 4])])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["x"]
    for n in BATCHES:
        x = np.random.default_rng(n).normal(size=(n, 4)).astype("float32")
        got = session.run(None, {"x": x})
        y = x @ w.numpy() + np.array([0.5, -1.0, 2.0], "float32")
        soft = np.exp(y - y.max(1, keepdims=True))
        soft /= soft.sum(1, keepdims=True)
        z = np.concatenate([soft, np.cumsum(y, 1), x[:, 1:3] ** 2], -1)
        np.testing.assert_allclose(got[0], z.sum(1, keepdims=True), rtol=0, atol=ATOL)
        np.testing.assert_array_equal(got[1], y.argmax(1))
        assert got[1].dtype == np.int64


def _many_ops(x, i):
    """Ops beyond the layers' (one output each), on a float (n, 6) and an int32 (n, 6) input."""
    pos = tf.abs(x) + 0.5
    n = tf.shape(x)[0]
    outs = [
        tf.math.floordiv(x, 0.7), tf.math.floormod(x, 0.7), i // 3, i % 4, (-i) // 3,
        tf.math.divide_no_nan(x, tf.round(x)), tf.sign(x) * tf.math.rsqrt(pos),
        tf.math.log1p(pos), tf.math.expm1(x), tf.math.erfc(x), tf.math.squared_difference(x, 1.0),
        tf.cast(tf.math.is_finite(x / tf.round(x)), tf.float32), tf.add_n([x, x, pos]),
        tf.reduce_prod(pos, axis=1), tf.reduce_min(x, axis=0, keepdims=True),
        tf.reduce_logsumexp(x * 3.0, axis=1), tf.norm(x, axis=1),
        tf.cast(tf.reduce_any(x > 1.0, axis=1), tf.int32),
        tf.cast(tf.reduce_all(x > -1.0, axis=1), tf.int32),
        tf.argmin(x, axis=1, output_type=tf.int32), tf.math.cumsum(x, axis=1, exclusive=True,
                                                                   reverse=True),
        tf.sort(x, axis=1), tf.math.top_k(x, 3).values, tf.math.top_k(x, 2).indices,
        tf.reverse(x, [1]), tf.tile(x[:, :2], [1, 3]),
        tf.pad(x, [[0, 1], [2, 1]], constant_values=0.5),
        tf.reshape(tf.transpose(tf.reshape(x, [-1, 2, 3]), [0, 2, 1]), [-1, 6]),
        tf.squeeze(tf.expand_dims(x, 1), 1), tf.concat(tf.unstack(tf.reshape(x, [-1, 3, 2]),
                                                                  axis=1), axis=1),
        tf.concat(tf.split(x, [1, 2, 3], axis=1)[::-1], axis=1),
        tf.matmul(x[:, None, :], x[:, None, :], transpose_a=True),
        tf.matmul(tf.reshape(x, [-1, 2, 3]), tf.reshape(x, [-1, 2, 3]), transpose_b=True),
        tf.einsum("bi,bj->bij", x, x), tf.zeros_like(x) + tf.ones_like(x),
        tf.fill(tf.stack([n, 2]), 3.0), tf.range(n) * 2, tf.size(x), tf.rank(x),
        tf.where(x > 0, x, tf.zeros_like(x)), tf.cast(tf.where(x > 0.5), tf.int32),
        tf.broadcast_to(x[:1, :1], [4, 5]), x[::-1, ::2], x[:, -1], x[..., None, 1:-1:2],
        tf.nn.log_softmax(x, axis=0), tf.clip_by_value(x, -0.5, 0.5), tf.pow(pos, x),
        tf.maximum(i, 3) - tf.minimum(i, 5), tf.cast(tf.not_equal(i, 2), tf.int32),
        tf.gather(x, [2, 0], axis=1), tf.math.asinh(x), tf.math.atan(x), tf.math.sinh(x),
    ]
    return outs


def test_many_ops_in_a_function(tmp_path):
    path = os.path.join(tmp_path, "ops.onnx")
    tensorweave.onnx.export(_many_ops, path, input_signature=[
        tf.TensorSpec([None, 6], tf.float32), tf.TensorSpec([None, 6], tf.int32)])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(7)
    for n in (3, 4):
        x = rng.normal(size=(n, 6)).astype("float32")
        x[0, 0] = 0.1  # rounds to 0: divide_no_nan's zero divisor, is_finite's infinity
        i = rng.integers(-9, 9, size=(n, 6)).astype("int32")
        want = _many_ops(tf.constant(x), tf.constant(i))
        got = session.run(None, {"x": x, "i": i})
        assert len(got) == len(want)
        for k, (g, w) in enumerate(zip(got, want)):
            w = w.numpy()
            assert g.dtype == w.dtype and g.shape == w.shape, k
            np.testing.assert_allclose(g, w, rtol=0, atol=ATOL, err_msg=f"output {k}")


def test_static_shapes_and_reflect_padding(tmp_path):
    path = os.path.join(tmp_path, "p.onnx")
    tensorweave.onnx.export(lambda y: tf.pad(y, [[1, 0], [2, 1]], "REFLECT"), path,
                            input_signature=[tf.TensorSpec([3, 4])])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = np.arange(12, dtype="float32").reshape(3, 4)
    np.testing.assert_array_equal(session.run(None, {"y": y})[0],
                                  np.pad(y, [[1, 0], [2, 1]], mode="reflect"))


def test_tf_function_uses_its_signature(tmp_path):
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="a"),
                                  tf.TensorSpec([None], tf.int32, name="k")])
    def fn(a, k):
        return tf.gather(a, k) * 2.0, tf.shape(a)[0] + k

    path = os.path.join(tmp_path, "f.onnx")
    tensorweave.onnx.export(fn, path)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    a = np.arange(12, dtype="float32").reshape(4, 3)
    k = np.array([3, 0, 0], "int32")
    got = session.run(None, {"a": a, "k": k})
    np.testing.assert_array_equal(got[0], a[k] * 2)
    np.testing.assert_array_equal(got[1], 4 + k)
    assert got[1].dtype == np.int32


@pytest.mark.parametrize("method", ["nearest", "bilinear"])
def test_image_resize_function(method, tmp_path):
    path = os.path.join(tmp_path, "r.onnx")
    for size in ((7, 10), (3, 2)):
        tensorweave.onnx.export(lambda images: tf.image.resize(images, size, method=method),
                                path, input_signature=[tf.TensorSpec([None, 5, 4, 2])])
        session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
        x = np.random.default_rng(6).normal(size=(2, 5, 4, 2)).astype("float32")
        np.testing.assert_allclose(session.run(None, {"images": x})[0],
                                   tf.image.resize(x, size, method=method).numpy(),
                                   rtol=0, atol=ATOL)


# -- errors -----------------------------------------------------------------------------------
def test_unsupported_op_names_op_and_layer(tmp_path):
    model = seq((3,), L.Dense(3), L.Lambda(lambda x: tf.math.lgamma(tf.abs(x) + 1.0),
                                           name="gamma_layer"))
    path = os.path.join(tmp_path, "bad.onnx")
    with pytest.raises(NotImplementedError, match=r"Lgamma.*lgamma.*gamma_layer"):
        _export(model, path)
    assert not os.path.exists(path)


def test_unsupported_function_op(tmp_path):
    path = os.path.join(tmp_path, "bad.onnx")
    with pytest.raises(NotImplementedError, match="Atan2"):
        tensorweave.onnx.export(lambda x: tf.math.atan2(x, x + 1.0), path,
                                input_signature=[tf.TensorSpec([None, 2])])


def test_control_flow_is_refused_clearly(tmp_path):
    model = seq((4, 3), L.LSTM(2, activation="relu"))
    with pytest.raises(NotImplementedError, match=r"TensorList.*lstm.*control flow"):
        _export(model, os.path.join(tmp_path, "m.onnx"))


def test_state_changed_by_the_function_is_refused(tmp_path):
    counter = tf.Variable(1.0)

    def step(x):
        counter.assign_add(1.0)
        return x * counter

    with pytest.raises(NotImplementedError, match="read after the function changed it"):
        tensorweave.onnx.export(step, os.path.join(tmp_path, "m.onnx"),
                                input_signature=[tf.TensorSpec([None])])
    # a write nothing reads afterwards is no obstacle: the value at export time is used
    counter.assign(3.0)
    path = os.path.join(tmp_path, "ok.onnx")
    tensorweave.onnx.export(lambda x: (x * counter, counter.assign_add(1.0))[0], path,
                            input_signature=[tf.TensorSpec([None])])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run(None, {"x": np.ones(2, "float32")})[0], 3.0)


def test_masked_recurrent_layer_is_refused(tmp_path):
    model = seq((4,), L.Embedding(5, 3, mask_zero=True), L.LSTM(2), dtype="int32")
    with pytest.raises(NotImplementedError, match="LSTMSequence.*mask"):
        _export(model, os.path.join(tmp_path, "m.onnx"))


def test_argument_errors(tmp_path):
    model = seq((3,), L.Dense(2))
    path = os.path.join(tmp_path, "m.onnx")
    with pytest.raises(ValueError, match="Unrecognized format=bad"):
        export_model(model, path, format="bad")
    with pytest.raises(NotImplementedError, match="only format='onnx'"):
        export_model(model, path)
    with pytest.raises(ValueError, match="has not yet been built"):
        export_model(keras.Sequential([L.Dense(2)]), path, format="onnx")
    sub = Residual()
    sub.build((None, 4, 4, 3))
    sub._called = False
    with pytest.raises(ValueError, match="never called"):
        export_model(sub, path, format="onnx")
    with pytest.raises(ValueError, match="input_signature is needed"):
        tensorweave.onnx.export(lambda x: x, path)
    with pytest.raises(ValueError, match="opset must be at least 13"):
        tensorweave.onnx.export(model, path, opset=9)
    assert not os.path.exists(path)


def test_missing_onnx_package_is_explained(tmp_path, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "onnx", None)
    with pytest.raises(ImportError, match=r"pip install onnx.*tensorweave\[onnx\]"):
        tensorweave.onnx.export(lambda x: x, os.path.join(tmp_path, "m.onnx"),
                                input_signature=[tf.TensorSpec([None])])
    assert os.listdir(tmp_path) == []


def test_existing_file_is_replaced_atomically(tmp_path):
    path = os.path.join(tmp_path, "m.onnx")
    with open(path, "wb") as f:
        f.write(b"old")
    with pytest.raises(NotImplementedError):
        tensorweave.onnx.export(lambda x: tf.math.lgamma(x), path,
                                input_signature=[tf.TensorSpec([None])])
    with open(path, "rb") as f:
        assert f.read() == b"old"
    assert os.listdir(tmp_path) == ["m.onnx"]
    tensorweave.onnx.export(lambda x: x * 2.0, path, input_signature=[tf.TensorSpec([None])])
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run(None, {"x": np.ones(3, "float32")})[0], 2.0)
