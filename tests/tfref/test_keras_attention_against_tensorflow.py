"""Attention, AdditiveAttention, MultiHeadAttention, EinsumDense, GroupNormalization and
TimeDistributed against Keras 3 in TensorFlow: the same layer (same arguments, same weights) on
the same inputs and masks gives the same outputs, attention scores, output masks, gradients,
weight names / paths / shapes and configs.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import json

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import tensorflow as tf
    import keras
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

RNG = np.random.default_rng(7)
Q = RNG.normal(size=(2, 4, 5)).astype(np.float32)
V = RNG.normal(size=(2, 6, 5)).astype(np.float32)
K = RNG.normal(size=(2, 6, 5)).astype(np.float32)
V7 = RNG.normal(size=(2, 6, 7)).astype(np.float32)
X4 = RNG.normal(size=(2, 3, 4, 6)).astype(np.float32)
Q_MASK = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
V_MASK = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool)
V_MASK_EMPTY = np.array([[0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 0]], bool)
ATT_MASK = RNG.uniform(size=(2, 4, 6)) > 0.3


def _ops(k):
    """The tensor module beside a keras module: tensorflow for keras, tensorweave for ours."""
    return tw if k is tw.keras else tf


def _masked(module, array, mask):
    module = _ops(module)
    t = module.constant(array)
    if mask is not None:
        t._keras_mask = module.constant(mask)
    return t


# name -> (make(k), call(module, layer)) ; `call` builds fresh inputs (masks attached) each time
def _list_call(arrays, masks=None, **kwargs):
    def call(module, layer):
        ops = _ops(module)
        inputs = [ops.constant(a) for a in arrays]
        extra = dict(kwargs)
        if masks is not None:
            extra["mask"] = [None if m is None else ops.constant(m) for m in masks]
        return layer(inputs, **extra)
    return call


def _mha_call(query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
              **kwargs):
    def call(module, layer):
        args = [_masked(module, query, query_mask), _masked(module, value, value_mask)]
        if key is not None:
            args.append(_masked(module, key, key_mask))
        extra = {k: _ops(module).constant(v) if isinstance(v, np.ndarray) else v
                 for k, v in kwargs.items()}
        return layer(*args, **extra)
    return call


def _single(x, mask=None, **kwargs):
    def call(module, layer):
        ops = _ops(module)
        extra = dict(kwargs)
        if mask is not None:
            extra["mask"] = ops.constant(mask)
        return layer(ops.constant(x), **extra)
    return call


CASES = {
    # Attention / AdditiveAttention
    "attention_dot": (lambda k: k.layers.Attention(), _list_call([Q, V])),
    "attention_key": (lambda k: k.layers.Attention(), _list_call([Q, V, K])),
    "attention_scale": (lambda k: k.layers.Attention(use_scale=True), _list_call([Q, V])),
    "attention_concat": (lambda k: k.layers.Attention(score_mode="concat"),
                         _list_call([Q, V, K])),
    "attention_concat_scale": (lambda k: k.layers.Attention(use_scale=True, score_mode="concat"),
                               _list_call([Q, V])),
    "attention_masks": (lambda k: k.layers.Attention(),
                        _list_call([Q, V], masks=[Q_MASK, V_MASK])),
    "attention_empty_value_row": (lambda k: k.layers.Attention(),
                                  _list_call([Q, V], masks=[None, V_MASK_EMPTY])),
    "attention_causal": (lambda k: k.layers.Attention(use_scale=True),
                         _list_call([Q, Q], use_causal_mask=True)),
    "attention_causal_masks_scores": (
        lambda k: k.layers.Attention(),
        _list_call([Q, V], masks=[Q_MASK, V_MASK], use_causal_mask=True,
                   return_attention_scores=True)),
    "attention_scores": (lambda k: k.layers.Attention(),
                         _list_call([Q, V], return_attention_scores=True)),
    "additive": (lambda k: k.layers.AdditiveAttention(), _list_call([Q, V])),
    "additive_no_scale_key": (lambda k: k.layers.AdditiveAttention(use_scale=False),
                              _list_call([Q, V, K])),
    "additive_masks_scores": (lambda k: k.layers.AdditiveAttention(),
                              _list_call([Q, V], masks=[Q_MASK, V_MASK],
                                         return_attention_scores=True)),
    "additive_causal": (lambda k: k.layers.AdditiveAttention(),
                        _list_call([Q, Q], use_causal_mask=True)),
    # MultiHeadAttention: the fused path ...
    "mha": (lambda k: k.layers.MultiHeadAttention(2, 3), _mha_call(Q, V7)),
    "mha_self": (lambda k: k.layers.MultiHeadAttention(3, 2), _mha_call(Q, Q)),
    "mha_key": (lambda k: k.layers.MultiHeadAttention(2, 3), _mha_call(Q, V7, K)),
    "mha_value_dim_output_shape": (
        lambda k: k.layers.MultiHeadAttention(2, 3, value_dim=4, output_shape=8),
        _mha_call(Q, V7)),
    "mha_output_shape_2d": (
        lambda k: k.layers.MultiHeadAttention(2, 3, output_shape=(2, 3)), _mha_call(Q, V7)),
    "mha_no_bias": (lambda k: k.layers.MultiHeadAttention(2, 3, use_bias=False),
                    _mha_call(Q, V7)),
    "mha_causal": (lambda k: k.layers.MultiHeadAttention(2, 3),
                   _mha_call(Q, Q, use_causal_mask=True)),
    "mha_causal_cross": (lambda k: k.layers.MultiHeadAttention(2, 3),
                         _mha_call(Q, V7, use_causal_mask=True)),
    "mha_attention_mask": (lambda k: k.layers.MultiHeadAttention(2, 3),
                           _mha_call(Q, V7, attention_mask=ATT_MASK)),
    "mha_keras_masks": (lambda k: k.layers.MultiHeadAttention(2, 3),
                        _mha_call(Q, V7, query_mask=Q_MASK, value_mask=V_MASK)),
    "mha_key_mask": (lambda k: k.layers.MultiHeadAttention(2, 3),
                     _mha_call(Q, V7, K, value_mask=V_MASK, key_mask=V_MASK_EMPTY)),
    "mha_masks_and_causal": (lambda k: k.layers.MultiHeadAttention(2, 3),
                             _mha_call(Q, Q, query_mask=Q_MASK, value_mask=Q_MASK,
                                       use_causal_mask=True)),
    "mha_sliding_window": (lambda k: k.layers.MultiHeadAttention(2, 3, sliding_window=2),
                           _mha_call(Q, Q, use_causal_mask=True)),
    "mha_gate": (lambda k: k.layers.MultiHeadAttention(2, 3, use_gate=True), _mha_call(Q, V7)),
    # ... and the explicit path (scores returned, other attention axes)
    "mha_scores": (lambda k: k.layers.MultiHeadAttention(2, 3),
                   _mha_call(Q, V7, return_attention_scores=True)),
    "mha_scores_masks": (lambda k: k.layers.MultiHeadAttention(2, 3),
                         _mha_call(Q, V7, query_mask=Q_MASK, value_mask=V_MASK,
                                   return_attention_scores=True)),
    "mha_scores_causal": (lambda k: k.layers.MultiHeadAttention(2, 3),
                          _mha_call(Q, Q, use_causal_mask=True, return_attention_scores=True)),
    "mha_scores_attention_mask": (lambda k: k.layers.MultiHeadAttention(2, 3),
                                  _mha_call(Q, V7, attention_mask=ATT_MASK,
                                            return_attention_scores=True)),
    "mha_rank4_default_axes": (lambda k: k.layers.MultiHeadAttention(2, 3), _mha_call(X4, X4)),
    "mha_rank4_axis2": (lambda k: k.layers.MultiHeadAttention(2, 3, attention_axes=2),
                        _mha_call(X4, X4, return_attention_scores=True)),
    "mha_rank4_axes_12": (lambda k: k.layers.MultiHeadAttention(2, 3, attention_axes=(1, 2)),
                          _mha_call(X4, X4, return_attention_scores=True)),
    # EinsumDense
    "einsum_dense_matrix": (lambda k: k.layers.EinsumDense("ab,bc->ac", 4, bias_axes="c"),
                            _single(Q[:, 0])),
    "einsum_dense_heads": (lambda k: k.layers.EinsumDense("abc,cde->abde", (4, 2, 3),
                                                          bias_axes="de"), _single(Q)),
    "einsum_dense_ellipsis": (lambda k: k.layers.EinsumDense("...b,bc->...c", 3,
                                                             activation="relu"), _single(X4)),
    "einsum_dense_transposed": (lambda k: k.layers.EinsumDense("abc,cd->adb", (3, 4),
                                                               bias_axes="d"), _single(Q)),
    "einsum_dense_right_ellipsis": (lambda k: k.layers.EinsumDense("ab...,bc->ac...", (2, 6),
                                                                   bias_axes="c"),
                                    _single(X4[:, :, 0])),
    # GroupNormalization
    "group_norm": (lambda k: k.layers.GroupNormalization(groups=5), _single(Q * 3 + 1)),
    "group_norm_one_group": (lambda k: k.layers.GroupNormalization(groups=1), _single(X4)),
    "group_norm_instance": (lambda k: k.layers.GroupNormalization(groups=-1), _single(X4)),
    "group_norm_rank4_groups3": (lambda k: k.layers.GroupNormalization(groups=3), _single(X4)),
    "group_norm_axis1": (lambda k: k.layers.GroupNormalization(groups=3, axis=1, epsilon=0.1),
                         _single(X4)),
    "group_norm_plain": (lambda k: k.layers.GroupNormalization(groups=2, center=False,
                                                               scale=False), _single(X4)),
    # TimeDistributed
    "time_distributed_dense": (lambda k: k.layers.TimeDistributed(k.layers.Dense(3)),
                               _single(Q)),
    "time_distributed_rank4": (lambda k: k.layers.TimeDistributed(
        k.layers.Dense(2, activation="tanh")), _single(X4)),
    "time_distributed_flatten": (lambda k: k.layers.TimeDistributed(k.layers.Flatten()),
                                 _single(X4)),
    "time_distributed_layer_norm": (lambda k: k.layers.TimeDistributed(
        k.layers.LayerNormalization()), _single(X4)),
    "time_distributed_mask": (lambda k: k.layers.TimeDistributed(k.layers.Dense(3)),
                              _single(V, mask=V_MASK)),
    "time_distributed_batch_norm_training": (
        lambda k: k.layers.TimeDistributed(k.layers.BatchNormalization()),
        _single(X4, training=True)),
}


def _random_weights(layer):
    return [RNG.uniform(-1, 1, size=w.shape).astype(np.float32) for w in layer.get_weights()]


def _plain_config(config):
    def strip(value):
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k not in ("name", "build_config")}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return value
    return strip(json.loads(json.dumps(config)))


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


@needs_tf
@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_matches_keras(name):
    make, call = CASES[name]
    theirs, ours = make(keras), make(tw.keras)
    call(keras, theirs)
    call(tw.keras, ours)
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    weights = _random_weights(theirs)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    expected, got = _outputs(call(keras, theirs)), _outputs(call(tw.keras, ours))
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        assert g.shape.as_list() == list(e.shape)
        assert g.dtype.name == e.dtype.name
        np.testing.assert_allclose(g.numpy(), np.asarray(e), rtol=1e-4, atol=1e-5)
    their_mask = getattr(expected[0], "_keras_mask", None)
    our_mask = getattr(got[0], "_keras_mask", None)
    assert (their_mask is None) == (our_mask is None)
    if their_mask is not None:
        np.testing.assert_array_equal(our_mask.numpy(), np.asarray(their_mask))
    assert _plain_config(ours.get_config()) == _plain_config(theirs.get_config())


@needs_tf
@pytest.mark.parametrize("name", ["attention_masks", "attention_concat_scale", "additive",
                                  "mha_keras_masks", "mha_scores_masks", "mha_rank4_axes_12",
                                  "mha_gate", "einsum_dense_transposed", "group_norm_axis1",
                                  "time_distributed_rank4"])
def test_gradients_match_keras(name):
    make, call = CASES[name]
    theirs, ours = make(keras), make(tw.keras)
    call(keras, theirs)
    call(tw.keras, ours)
    weights = _random_weights(theirs)
    theirs.set_weights(weights)
    ours.set_weights(weights)
    results = []
    for module, k, layer in ((tf, keras, theirs), (tw, tw.keras, ours)):
        with module.GradientTape() as tape:
            out = _outputs(call(k, layer))[0]
            w_out = np.linspace(0.5, 1.5, int(np.prod(out.shape))).reshape(out.shape)
            loss = module.reduce_sum(out * w_out.astype(np.float32))
        grads = tape.gradient(loss, list(layer.trainable_weights))
        results.append([np.asarray(module.convert_to_tensor(g)) for g in grads])
    for expected, got in zip(*results):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


@needs_tf
@pytest.mark.parametrize("name", ["attention_scale", "additive_masks_scores", "mha",
                                  "mha_scores", "mha_value_dim_output_shape",
                                  "einsum_dense_heads", "group_norm", "time_distributed_dense"])
def test_configs_load_in_keras_and_back(name):
    make, call = CASES[name]
    theirs, ours = make(keras), make(tw.keras)
    their_config = json.loads(json.dumps(theirs.get_config()))
    our_config = json.loads(json.dumps(ours.get_config()))
    from_ours = type(theirs).from_config(our_config)
    from_theirs = type(ours).from_config(their_config)
    assert _plain_config(from_ours.get_config()) == _plain_config(from_theirs.get_config())


@needs_tf
def test_symbolic_shapes_match_keras():
    for make, shapes, kwargs in [
            (lambda k: k.layers.Attention(), [(4, 5), (6, 5)], {}),
            (lambda k: k.layers.AdditiveAttention(), [(4, 5), (6, 5)], {}),
            (lambda k: k.layers.MultiHeadAttention(2, 3, output_shape=(2, 4)),
             [(4, 5), (6, 7)], {}),
            (lambda k: k.layers.MultiHeadAttention(2, 3), [(4, 5), (4, 7)],
             {"return_attention_scores": True}),
            (lambda k: k.layers.GroupNormalization(groups=5), [(4, 5)], {}),
            (lambda k: k.layers.TimeDistributed(k.layers.Dense(3)), [(None, 5)], {}),
            (lambda k: k.layers.EinsumDense("abc,cd->abd", (4, 3)), [(4, 5)], {})]:
        results = []
        for k in (keras, tw.keras):
            layer = make(k)
            inputs = [k.Input(s) for s in shapes]
            if isinstance(layer, k.layers.MultiHeadAttention):
                out = layer(*inputs, **kwargs)
            elif len(inputs) > 1:
                out = layer(inputs, **kwargs)
            else:
                out = layer(inputs[0], **kwargs)
            results.append([tuple(t.shape) for t in _outputs(out)])
        assert results[1] == results[0]


@needs_tf
def test_weights_file_loads_both_ways(tmp_path):
    def build(k):
        q = k.Input((4, 5))
        v = k.Input((6, 7))
        x = k.layers.MultiHeadAttention(2, 3, dropout=0.1, name="mha")(q, v)
        x = k.layers.TimeDistributed(k.layers.Dense(3), name="td")(x)
        x = k.layers.Attention(use_scale=True, name="att")([x, x])
        x = k.layers.AdditiveAttention(name="add_att")([x, x])
        x = k.layers.GroupNormalization(groups=1, name="gn")(x)
        return k.Model([q, v], x)

    theirs, ours = build(keras), build(tw.keras)
    theirs.set_weights(_random_weights(theirs))
    path = str(tmp_path / "theirs.weights.h5")
    theirs.save_weights(path)
    ours.load_weights(path)
    inputs = [Q, V7]
    np.testing.assert_allclose(ours(inputs).numpy(), np.asarray(theirs(inputs)), rtol=1e-4,
                               atol=1e-5)
    ours.set_weights(_random_weights(ours))
    path = str(tmp_path / "ours.weights.h5")
    ours.save_weights(path)
    theirs.load_weights(path)
    np.testing.assert_allclose(ours(inputs).numpy(), np.asarray(theirs(inputs)), rtol=1e-4,
                               atol=1e-5)
