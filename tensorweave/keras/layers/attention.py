"""Keras 3's Attention (Luong, dot-product) and AdditiveAttention (Bahdanau) layers.

Called on `[query, value]` or `[query, value, key]` ((batch, Tq, dim), (batch, Tv, dim)):
scores (batch, Tq, Tv) -> softmax over Tv -> weighted sum of the values. The value mask (and
the causal mask) subtract 1e9 (65504 in float16) from the masked scores before the softmax, as
Keras 3 does; positions where the query mask is False give 0. The output keeps the query mask.
"""
from __future__ import annotations

import tensorweave as tf
from tensorweave.keras.engine.keras_tensor import KerasTensor, shape_tuple
from tensorweave.keras.engine.layer import Layer


class Attention(Layer):
    """Dot-product attention: `scores = query . key^T` (times a learned `scale` if `use_scale`),
    or with `score_mode="concat"` `scores = concat_score_weight * sum(tanh(query + key))`."""

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.use_scale = use_scale
        self.score_mode = score_mode
        self.dropout = dropout
        self.seed = seed
        if self.dropout > 0:
            from tensorweave.keras.layers.regularization import _SeedGenerator
            self.seed_generator = _SeedGenerator(seed)
        if self.score_mode not in ["dot", "concat"]:
            raise ValueError("Invalid value for argument score_mode. Expected one of "
                             f"{{'dot', 'concat'}}. Received: score_mode={score_mode}")
        self.supports_masking = True
        self.scale = None
        self.concat_score_weight = None

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=(), initializer="ones",
                                         dtype=self.dtype, trainable=True)
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(name="concat_score_weight", shape=(),
                                                       initializer="ones", dtype=self.dtype,
                                                       trainable=True)
        self.built = True

    def _weight(self, variable):
        if variable.dtype.name != self.compute_dtype:
            return tf.cast(variable, self.compute_dtype)
        return variable

    def _calculate_scores(self, query, key):
        """(batch, Tq, Tv) scores of query (batch, Tq, dim) and key (batch, Tv, dim)."""
        if self.score_mode == "dot":
            scores = tf.matmul(query, key, transpose_b=True)
            if self.scale is not None:
                scores = tf.multiply(scores, self._weight(self.scale))
            return scores
        q = tf.expand_dims(query, axis=-2)  # (batch, Tq, 1, dim)
        k = tf.expand_dims(key, axis=-3)    # (batch, 1, Tv, dim)
        total = tf.add(q, k)
        if self.scale is not None:
            total = tf.multiply(self._weight(self.scale), total)
        return tf.multiply(self._weight(self.concat_score_weight),
                           tf.reduce_sum(tf.tanh(total), axis=-1))

    def _apply_scores(self, scores, value, scores_mask=None, training=False):
        """softmax(scores, masked) @ value and the softmax weights."""
        if scores_mask is not None:
            padding = tf.logical_not(scores_mask)
            max_value = 65504.0 if scores.dtype == tf.float16 else 1.0e9
            if padding.shape.rank == 2:
                padding = tf.expand_dims(padding, axis=-2)
            scores = tf.where(padding, tf.subtract(scores, tf.cast(max_value, scores.dtype)),
                              scores)
        weights = tf.nn.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            from tensorweave.keras.layers.regularization import _dropout
            weights = _dropout(weights, self.dropout, tf.shape(weights), self.seed_generator)
        return tf.matmul(weights, value), weights

    def _calculate_score_mask(self, scores, v_mask, use_causal_mask):
        if not use_causal_mask:
            return v_mask
        shape = tf.shape(scores)
        rows = tf.range(shape[-2])[:, None]
        cols = tf.range(shape[-1])[None, :]
        causal = tf.greater_equal(rows, cols)[None]  # (1, Tq, Tv): i sees j <= i
        if v_mask is not None:
            return tf.logical_and(tf.expand_dims(v_mask, axis=-2), causal)
        return causal

    def call(self, inputs, mask=None, training=False, return_attention_scores=False,
             use_causal_mask=False):
        self._validate_inputs(inputs=inputs, mask=mask)
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        if v_mask is not None:
            v_mask = tf.cast(v_mask, tf.bool)
        scores = self._calculate_scores(query=q, key=k)
        scores_mask = self._calculate_score_mask(scores, v_mask, use_causal_mask)
        output, attention_scores = self._apply_scores(scores=scores, value=v,
                                                      scores_mask=scores_mask, training=training)
        if q_mask is not None:
            q_mask = tf.expand_dims(tf.cast(q_mask, tf.bool), axis=-1)
            output = tf.where(q_mask, output, tf.zeros_like(output))
        if return_attention_scores:
            if mask and mask[0] is not None:
                output._keras_mask = tf.convert_to_tensor(mask[0])
            return output, attention_scores
        return output

    def compute_mask(self, inputs, mask=None):
        self._validate_inputs(inputs=inputs, mask=mask)
        if mask is None or mask[0] is None:
            return None
        return tf.convert_to_tensor(mask[0])

    def compute_output_shape(self, input_shape):
        query_shape, value_shape = tuple(input_shape[0]), tuple(input_shape[1])
        return (*query_shape[:-1], value_shape[-1])

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False,
                            training=None, use_causal_mask=False):
        self._validate_inputs(inputs, mask)
        query, value = shape_tuple(inputs[0]), shape_tuple(inputs[1])
        key = shape_tuple(inputs[2]) if len(inputs) > 2 else value
        output = KerasTensor(self.compute_output_shape([query, value, key]), self.compute_dtype)
        if return_attention_scores:
            return output, KerasTensor((*query[:-1], key[-2]), self.compute_dtype)
        return output

    def _validate_inputs(self, inputs, mask=None):
        name = type(self).__name__
        if not isinstance(inputs, list):
            raise ValueError(f"{name} layer must be called on a list of inputs, namely "
                             f"[query, value] or [query, value, key]. Received: inputs={inputs}.")
        if len(inputs) < 2 or len(inputs) > 3:
            raise ValueError(f"{name} layer accepts inputs list of length 2 or 3, namely "
                             "[query, value] or [query, value, key]. Received length: "
                             f"{len(inputs)}.")
        if mask is not None:
            if not isinstance(mask, list):
                raise ValueError(f"{name} layer mask must be a list, namely [query_mask, "
                                 f"value_mask]. Received: mask={mask}.")
            if len(mask) < 2 or len(mask) > 3:
                raise ValueError(f"{name} layer accepts mask list of length 2 or 3. Received: "
                                 f"inputs={inputs}, mask={mask}.")

    def get_config(self) -> dict:
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode, "dropout": self.dropout, "seed": self.seed}


class AdditiveAttention(Attention):
    """Additive attention: `scores = sum(scale * tanh(query + key))` over the features, `scale`
    a learned vector of the feature size when `use_scale`."""

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        self._validate_inputs(input_shape)
        dim = input_shape[0][-1]
        self.scale = None
        if self.use_scale:
            self.scale = self.add_weight(name="scale", shape=[dim],
                                         initializer="glorot_uniform", dtype=self.dtype,
                                         trainable=True)
        self.built = True

    def _calculate_scores(self, query, key):
        q = tf.expand_dims(query, axis=-2)
        k = tf.expand_dims(key, axis=-3)
        activated = tf.tanh(tf.add(q, k))
        if self.use_scale:
            activated = tf.multiply(self._weight(self.scale), activated)
        return tf.reduce_sum(activated, axis=-1)

    def get_config(self) -> dict:
        config = super().get_config()
        del config["score_mode"]
        return config
