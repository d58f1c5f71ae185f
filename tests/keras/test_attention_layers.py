"""Attention, AdditiveAttention, MultiHeadAttention and EinsumDense: the layer harness for each,
then NumPy formulas for the outputs and attention scores, masks (explicit, from `_keras_mask`,
causal, sliding window, attention_mask), dropout in training vs inference, symbolic shapes,
functional models, weight layouts, configs and errors."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tests.keras_harness import check_layer

L = keras.layers
RNG = np.random.default_rng(3)
Q = RNG.normal(size=(2, 4, 5)).astype(np.float32)
V = RNG.normal(size=(2, 6, 5)).astype(np.float32)
K = RNG.normal(size=(2, 6, 5)).astype(np.float32)
V7 = RNG.normal(size=(2, 6, 7)).astype(np.float32)
Q_MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool)

# name -> (make, input shape(s), trainable weights, call kwargs)
HARNESS = {
    "attention": (lambda **kw: L.Attention(**kw), [(2, 3, 4), (2, 5, 4)], 0, {}),
    "attention_key": (lambda **kw: L.Attention(**kw), [(2, 3, 4), (2, 5, 4), (2, 5, 4)], 0, {}),
    "attention_scale": (lambda **kw: L.Attention(use_scale=True, **kw),
                        [(2, 3, 4), (2, 5, 4)], 1, {}),
    "attention_concat": (lambda **kw: L.Attention(use_scale=True, score_mode="concat", **kw),
                         [(2, 3, 4), (2, 5, 4)], 2, {}),
    "attention_causal": (lambda **kw: L.Attention(**kw), [(2, 3, 4), (2, 3, 4)], 0,
                         {"use_causal_mask": True}),
    "additive": (lambda **kw: L.AdditiveAttention(**kw), [(2, 3, 4), (2, 5, 4)], 1, {}),
    "additive_no_scale": (lambda **kw: L.AdditiveAttention(use_scale=False, **kw),
                          [(2, 3, 4), (2, 5, 4), (2, 5, 4)], 0, {}),
    "mha_self": (lambda **kw: L.MultiHeadAttention(2, 3, **kw), (2, 4, 5), 8,
                 {"value": Q[:, :, :5]}),
    "mha_cross": (lambda **kw: L.MultiHeadAttention(2, 3, value_dim=2, output_shape=4, **kw),
                  (2, 4, 5), 8, {"value": V7}),
    "mha_no_bias_causal": (lambda **kw: L.MultiHeadAttention(2, 2, use_bias=False, **kw),
                           (2, 4, 5), 4, {"value": Q, "use_causal_mask": True}),
    "mha_gate": (lambda **kw: L.MultiHeadAttention(1, 2, use_gate=True, **kw), (2, 3, 4), 10,
                 {"value": Q[:, :3, :4]}),
    "mha_axes": (lambda **kw: L.MultiHeadAttention(2, 2, attention_axes=(1, 2), **kw),
                 (2, 2, 3, 4), 8, {"value": RNG.normal(size=(2, 2, 3, 4))}),
    "einsum_matrix": (lambda **kw: L.EinsumDense("ab,bc->ac", 3, bias_axes="c", **kw),
                      (4, 5), 2, {}),
    "einsum_heads": (lambda **kw: L.EinsumDense("abc,cde->abde", (4, 2, 3), bias_axes="de",
                                                **kw), (2, 4, 5), 2, {}),
    "einsum_ellipsis": (lambda **kw: L.EinsumDense("...b,bc->...c", 3, activation="tanh",
                                                   **kw), (2, 3, 4), 1, {}),
    "einsum_general": (lambda **kw: L.EinsumDense("abc,cd->adb", (3, 4), bias_axes="d", **kw),
                       (2, 4, 5), 2, {}),
}


# The harness's finite differences cannot move 0-d weights (it perturbs `v.numpy().copy()`,
# a NumPy scalar, through a reshaped copy): the scalar `scale` / `concat_score_weight`
# gradients are checked in test_scalar_weight_gradients instead.
SCALAR_WEIGHTS = {"attention_scale", "attention_concat"}


@pytest.mark.parametrize("name", sorted(HARNESS))
def test_layer_harness(name):
    make, shape, trainable, call_kwargs = HARNESS[name]
    check_layer(make, shape, trainable_weights=trainable, call_kwargs=call_kwargs,
                grad=name not in SCALAR_WEIGHTS)


@pytest.mark.parametrize("score_mode", ["dot", "concat"])
def test_scalar_weight_gradients(score_mode):
    layer = L.Attention(use_scale=True, score_mode=score_mode, dtype="float64")
    q, v = Q.astype(np.float64), V.astype(np.float64)
    layer([q, v])
    layer.set_weights([np.float64(0.8)] * len(layer.weights))
    w_out = RNG.uniform(0.5, 1.5, size=(2, 4, 5))
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer([q, v]) * w_out)
    grads = tape.gradient(loss, layer.trainable_weights)
    for i, variable in enumerate(layer.trainable_weights):
        values = []
        for step in (1e-6, -1e-6):
            weights = [np.float64(0.8)] * len(layer.weights)
            weights[i] = np.float64(0.8 + step)
            layer.set_weights(weights)
            values.append(float(tf.reduce_sum(layer([q, v]) * w_out).numpy()))
        np.testing.assert_allclose(grads[i].numpy(), (values[0] - values[1]) / 2e-6, rtol=1e-5)


# -- NumPy references ------------------------------------------------------------------------
def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_attention(q, v, k=None, scores_fn=None, q_mask=None, v_mask=None, causal=False):
    k = v if k is None else k
    scores = np.einsum("bqd,bvd->bqv", q, k) if scores_fn is None else scores_fn(q, k)
    allowed = np.ones(scores.shape, bool)
    if v_mask is not None:
        allowed &= v_mask[:, None, :]
    if causal:
        allowed &= np.tril(np.ones(scores.shape[1:], bool))[None]
    weights = _softmax(np.where(allowed, scores, scores - 1e9))
    out = weights @ v
    if q_mask is not None:
        out = np.where(q_mask[..., None], out, 0.0)
    return out, weights


def np_mha(layer, q, v, k=None, mask=None, fused=True):
    """Multi-head attention of rank-3 inputs; `mask` (B, T, S) boolean."""
    k = v if k is None else k
    w = {p.path.split("/", 1)[1]: p.numpy() for p in layer.weights}
    qp = np.einsum("btd,dnh->btnh", q, w["query/kernel"]) + w.get("query/bias", 0)
    kp = np.einsum("bsd,dnh->bsnh", k, w["key/kernel"]) + w.get("key/bias", 0)
    vp = np.einsum("bsd,dnh->bsnh", v, w["value/kernel"]) + w.get("value/bias", 0)
    logits = np.einsum("btnh,bsnh->bnts", qp, kp) / np.sqrt(layer.key_dim)
    if mask is None:
        weights = _softmax(logits)
    elif fused:  # fully masked rows: uniform
        weights = _softmax(np.where(mask[:, None], logits, -0.7 * 3.38953e38))
    else:        # fully masked rows: zeros
        weights = np.where(mask[:, None], _softmax(np.where(mask[:, None], logits, -1e9)), 0)
    heads = np.einsum("bnts,bsnh->btnh", weights, vp)
    out = np.einsum("btnh,nhe->bte", heads, w["attention_output/kernel"])
    return out + w.get("attention_output/bias", 0), weights


# -- Attention / AdditiveAttention -----------------------------------------------------------
def test_attention_dot_matches_numpy():
    out, scores = L.Attention()([Q, V, K], return_attention_scores=True)
    ref_out, ref_scores = np_attention(Q, V, K)
    np.testing.assert_allclose(out.numpy(), ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.numpy(), ref_scores, rtol=1e-5, atol=1e-6)


def test_attention_scale_and_concat_match_numpy():
    layer = L.Attention(use_scale=True)
    layer([Q, V])
    layer.set_weights([np.float32(0.7)])
    ref, _ = np_attention(Q, V, scores_fn=lambda q, k: 0.7 * np.einsum("bqd,bvd->bqv", q, k))
    np.testing.assert_allclose(layer([Q, V]).numpy(), ref, rtol=1e-5, atol=1e-6)

    layer = L.Attention(use_scale=True, score_mode="concat")
    layer([Q, V])
    layer.set_weights([np.float32(0.5), np.float32(1.5)])
    concat = lambda q, k: 1.5 * np.tanh(0.5 * (q[:, :, None] + k[:, None])).sum(-1)  # noqa: E731
    ref, _ = np_attention(Q, V, scores_fn=concat)
    np.testing.assert_allclose(layer([Q, V]).numpy(), ref, rtol=1e-5, atol=1e-6)


def test_additive_attention_matches_numpy():
    layer = L.AdditiveAttention()
    layer([Q, V])
    scale = RNG.normal(size=5).astype(np.float32)
    layer.set_weights([scale])
    additive = lambda q, k: (scale * np.tanh(q[:, :, None] + k[:, None])).sum(-1)  # noqa: E731
    ref, ref_w = np_attention(Q, V, K, scores_fn=additive, q_mask=Q_MASK, v_mask=V_MASK)
    out, weights = layer([Q, V, K], mask=[Q_MASK, V_MASK], return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(weights.numpy(), ref_w, rtol=1e-5, atol=1e-6)
    assert [w.shape.as_list() for w in layer.weights] == [[5]]


def test_attention_masks_and_causal_match_numpy():
    out, scores = L.Attention()([Q, V], mask=[Q_MASK, V_MASK], use_causal_mask=True,
                                return_attention_scores=True)
    ref, ref_w = np_attention(Q, V, q_mask=Q_MASK, v_mask=V_MASK, causal=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(scores.numpy(), ref_w, rtol=1e-5, atol=1e-6)
    assert np.all(scores.numpy()[~np.broadcast_to(V_MASK[:, None], (2, 4, 6))] == 0)
    assert np.all(out.numpy()[0, 2:] == 0)  # masked query rows give zeros
    np.testing.assert_array_equal(out._keras_mask.numpy(), Q_MASK)


def test_attention_masks_from_embedding_flow_through_a_model():
    ids = keras.Input((None,), dtype="int32")
    x = L.Embedding(10, 4, mask_zero=True)(ids)
    att = L.Attention()([x, x])
    model = keras.Model(ids, att)
    data = np.array([[3, 1, 0, 0], [2, 5, 7, 0]], np.int32)
    out = model(data)
    emb = model.layers[1].get_weights()[0][data]
    ref, _ = np_attention(emb, emb, q_mask=data != 0, v_mask=data != 0)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(out._keras_mask.numpy(), data != 0)


def test_attention_dropout_only_in_training():
    layer = L.Attention(dropout=0.5, seed=1)
    inference = layer([Q, V]).numpy()
    np.testing.assert_allclose(inference, np_attention(Q, V)[0], rtol=1e-5, atol=1e-6)
    _, weights = layer([Q, V], training=True, return_attention_scores=True)
    weights = weights.numpy()
    assert np.any(weights == 0)
    kept = weights[weights != 0]
    reference = np_attention(Q, V)[1][weights != 0]
    np.testing.assert_allclose(kept, reference * 2.0, rtol=1e-5)  # kept ones scaled by 1/(1-p)


def test_attention_symbolic_and_compiled():
    q, v = keras.Input((4, 5)), keras.Input((None, 5))
    out, scores = L.Attention()([q, v], return_attention_scores=True)
    assert tuple(out.shape) == (None, 4, 5) and tuple(scores.shape) == (None, 4, None)
    layer = L.Attention(use_scale=True)
    fn = tf.function(lambda a, b: layer([a, b], use_causal_mask=True))
    np.testing.assert_allclose(fn(tf.constant(Q), tf.constant(Q)).numpy(),
                               np_attention(Q, Q, causal=True)[0], rtol=1e-5, atol=1e-6)


def test_attention_errors():
    with pytest.raises(ValueError, match="score_mode"):
        L.Attention(score_mode="bad")
    with pytest.raises(ValueError, match="must be called on a list of inputs"):
        L.Attention()(Q)
    with pytest.raises(ValueError, match="length 2 or 3"):
        L.Attention()([Q])
    with pytest.raises(ValueError, match="mask must be a list"):
        L.Attention()([Q, V], mask=Q_MASK)


def test_attention_configs():
    config = L.AdditiveAttention(dropout=0.1, name="a").get_config()
    assert "score_mode" not in config and config["use_scale"] is True
    assert config["dropout"] == 0.1 and config["seed"] is None
    clone = L.Attention.from_config(L.Attention(use_scale=True, score_mode="concat",
                                                seed=3).get_config())
    assert (clone.use_scale, clone.score_mode, clone.seed) == (True, "concat", 3)


# -- MultiHeadAttention ----------------------------------------------------------------------
def _masked(array, mask):
    t = tf.constant(array)
    t._keras_mask = tf.constant(mask)
    return t


def test_mha_weights_have_keras_layout():
    layer = L.MultiHeadAttention(2, 3, value_dim=4, output_shape=6, name="mha")
    layer(Q, V7)
    assert [(w.path, w.shape.as_list()) for w in layer.weights] == [
        ("mha/query/kernel", [5, 2, 3]), ("mha/query/bias", [2, 3]),
        ("mha/key/kernel", [7, 2, 3]), ("mha/key/bias", [2, 3]),
        ("mha/value/kernel", [7, 2, 4]), ("mha/value/bias", [2, 4]),
        ("mha/attention_output/kernel", [2, 4, 6]), ("mha/attention_output/bias", [6])]
    assert layer.query_dense.name == "query" and layer.output_dense.name == "attention_output"
    assert layer.get_config()["attention_axes"] == (1,)


def test_mha_matches_numpy_both_paths():
    layer = L.MultiHeadAttention(2, 3)
    out = layer(Q, V7)
    ref, ref_w = np_mha(layer, Q, V7)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    out, scores = layer(Q, V7, return_attention_scores=True)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), ref_w, rtol=1e-5, atol=1e-6)


def test_mha_masks_from_keras_mask_and_fully_masked_rows():
    layer = L.MultiHeadAttention(2, 3)
    layer(Q, V7)
    mask = Q_MASK[:, :, None] & V_MASK[:, None, :]
    out = layer(_masked(Q, Q_MASK), _masked(V7, V_MASK))
    np.testing.assert_allclose(out.numpy(), np_mha(layer, Q, V7, mask=mask)[0],
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(out._keras_mask.numpy(), Q_MASK)
    # the explicit path (scores returned): masked rows get zero weights, as Keras 3
    out, scores = layer(_masked(Q, Q_MASK), _masked(V7, V_MASK), return_attention_scores=True)
    ref, ref_w = np_mha(layer, Q, V7, mask=mask, fused=False)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), ref_w, rtol=1e-5, atol=1e-6)
    assert np.all(scores.numpy()[0, :, 2:] == 0)
    np.testing.assert_array_equal(out._keras_mask.numpy(), Q_MASK)
    # explicit value_mask / key_mask arguments
    key_mask = np.array([[1, 0, 1, 1, 1, 1], [1, 1, 1, 1, 1, 1]], bool)
    out = layer(Q, V7, V7, value_mask=V_MASK, key_mask=key_mask)
    np.testing.assert_allclose(out.numpy(), np_mha(layer, Q, V7, mask=np.broadcast_to(
        (V_MASK & key_mask)[:, None], (2, 4, 6)))[0], rtol=1e-5, atol=1e-5)


def test_mha_causal_sliding_window_and_attention_mask():
    layer = L.MultiHeadAttention(2, 3, sliding_window=2)
    out, scores = layer(Q, Q, use_causal_mask=True, return_attention_scores=True)
    i, j = np.indices((4, 4))
    band = (i >= j) & (np.abs(i - j) < 2)
    ref, ref_w = np_mha(layer, Q, Q, mask=np.broadcast_to(band, (2, 4, 4)), fused=False)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores.numpy(), ref_w, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(layer(Q, Q, use_causal_mask=True).numpy(), ref,
                               rtol=1e-5, atol=1e-5)
    plain = L.MultiHeadAttention(2, 3)
    causal = plain(Q, V7, use_causal_mask=True)  # the causal-only fused path, T != S
    np.testing.assert_allclose(causal.numpy(), np_mha(plain, Q, V7, mask=np.broadcast_to(
        np.tril(np.ones((4, 6), bool)), (2, 4, 6)))[0], rtol=1e-5, atol=1e-5)
    attention_mask = RNG.uniform(size=(2, 4, 6)) > 0.4
    out = plain(Q, V7, attention_mask=attention_mask, use_causal_mask=True)
    both = attention_mask & np.tril(np.ones((4, 6), bool))
    np.testing.assert_allclose(out.numpy(), np_mha(plain, Q, V7, mask=both)[0],
                               rtol=1e-5, atol=1e-5)


def test_mha_dropout_training_only_and_seeded():
    layer = L.MultiHeadAttention(2, 3, dropout=0.5, seed=2)
    inference = layer(Q, V7)
    np.testing.assert_allclose(inference.numpy(), np_mha(layer, Q, V7)[0], rtol=1e-5, atol=1e-5)
    _, scores = layer(Q, V7, training=True, return_attention_scores=True)
    np.testing.assert_allclose(scores.numpy(), np_mha(layer, Q, V7)[1], rtol=1e-5, atol=1e-6)
    first, second = layer(Q, V7, training=True), layer(Q, V7, training=True)
    assert not np.allclose(first.numpy(), second.numpy())
    assert not np.allclose(first.numpy(), inference.numpy())


def test_mha_keyword_call_symbolic_model_and_fit():
    q, v = keras.Input((4, 5)), keras.Input((6, 7))
    layer = L.MultiHeadAttention(2, 3, name="mha")
    out, scores = layer(query=q, value=v, return_attention_scores=True)
    assert tuple(out.shape) == (None, 4, 5) and tuple(scores.shape) == (None, 2, 4, 6)
    model = keras.Model([q, v], L.GlobalAveragePooling1D()(out)
                        if hasattr(L, "GlobalAveragePooling1D") else L.Flatten()(out))
    model.compile(optimizer="adam", loss="mse")
    x = [RNG.normal(size=(8, 4, 5)).astype(np.float32),
         RNG.normal(size=(8, 6, 7)).astype(np.float32)]
    y = np.zeros((8,) + tuple(model.output.shape[1:]), np.float32)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    assert any(not np.allclose(a, b) for a, b in zip(before, model.get_weights()))
    np.testing.assert_allclose(model.predict(x, verbose=0)[:2],
                               model([x[0][:2], x[1][:2]]).numpy(), rtol=1e-5, atol=1e-6)


def test_mha_other_attention_axes_match_numpy():
    x = RNG.normal(size=(2, 3, 4, 6)).astype(np.float32)
    layer = L.MultiHeadAttention(2, 3, attention_axes=2)
    out, scores = layer(x, x, return_attention_scores=True)
    assert scores.shape.as_list() == [2, 3, 2, 4, 4]
    w = {p.path.split("/", 1)[1]: p.numpy() for p in layer.weights}
    qp = np.einsum("abcd,dnh->abcnh", x, w["query/kernel"]) + w["query/bias"]
    kp = np.einsum("abcd,dnh->abcnh", x, w["key/kernel"]) + w["key/bias"]
    vp = np.einsum("abcd,dnh->abcnh", x, w["value/kernel"]) + w["value/bias"]
    weights = _softmax(np.einsum("abtnh,absnh->abnts", qp, kp) / np.sqrt(3))
    heads = np.einsum("abnts,absnh->abtnh", weights, vp)
    ref = np.einsum("abtnh,nhe->abte", heads, w["attention_output/kernel"]) + \
        w["attention_output/bias"]
    np.testing.assert_allclose(scores.numpy(), weights, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-5)


def test_mha_errors_and_config_round_trip():
    with pytest.raises(ValueError, match="num_heads"):
        L.MultiHeadAttention(0, 2)
    with pytest.raises(ValueError, match="key_dim"):
        L.MultiHeadAttention(2, "x")
    with pytest.raises(ValueError, match="sliding_window"):
        L.MultiHeadAttention(2, 2, sliding_window=0)
    with pytest.raises(ValueError, match="except the last one"):
        L.MultiHeadAttention(2, 2)(Q, V, Q)
    layer = L.MultiHeadAttention(2, 3, value_dim=4, output_shape=(2, 3), attention_axes=1,
                                 kernel_regularizer="l2", seed=5)
    config = layer.get_config()
    assert config["output_shape"] == (2, 3) and config["attention_axes"] == (1,)
    clone = L.MultiHeadAttention.from_config(config)
    assert clone.get_config() == config
    out = clone(Q, V)
    assert out.shape.as_list() == [2, 4, 2, 3]
    assert len(clone.losses) == 4  # the kernel regularizer of each projection


# -- EinsumDense -----------------------------------------------------------------------------
@pytest.mark.parametrize("equation,output_shape,bias_axes,x_shape,kernel_shape,bias_shape", [
    ("ab,bc->ac", 4, "c", (2, 3), (3, 4), (4,)),
    ("abc,cde->abde", (None, 2, 3), "de", (2, 5, 4), (4, 2, 3), (2, 3)),
    ("abcd,cde->abe", (None, 6), "e", (2, 5, 2, 3), (2, 3, 6), (6,)),
    ("...b,bc->...c", 3, "c", (2, 3, 4), (4, 3), (3,)),
    ("abc,cd->adb", (3, 5), "d", (2, 5, 4), (4, 3), (3, 1)),
    ("ab...,bc->ac...", (3, 4), "c", (2, 5, 4), (5, 3), (3, 1)),
])
def test_einsum_dense_shapes_and_values(equation, output_shape, bias_axes, x_shape,
                                        kernel_shape, bias_shape):
    layer = L.EinsumDense(equation, output_shape, bias_axes=bias_axes)
    x = RNG.normal(size=x_shape).astype(np.float32)
    out = layer(x)
    assert layer.kernel.shape.as_list() == list(kernel_shape)
    assert layer.bias.shape.as_list() == list(bias_shape)
    ref = np.einsum(equation, x, layer.kernel.numpy()) + layer.bias.numpy()
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-5, atol=1e-6)


def test_einsum_dense_kernel_fans_and_errors():
    layer = L.EinsumDense("abc,cde->abde", (None, 8, 16), kernel_initializer="glorot_uniform")
    layer.build((None, 5, 32))
    limit = np.sqrt(6.0 / (32 + 8 * 16))  # fans: the input axes and the output axes
    kernel = layer.kernel.numpy()
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0.8 * limit
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        L.EinsumDense("ab->b", 3).build((2, 3))
    with pytest.raises(ValueError, match="did not have a match"):
        L.EinsumDense("ab,bzc->ac", 3).build((2, 3))
    with pytest.raises(ValueError, match="Bias dimension"):
        L.EinsumDense("ab,bc->ac", 3, bias_axes="x").build((2, 3))
