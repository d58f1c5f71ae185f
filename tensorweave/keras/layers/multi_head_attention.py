"""keras.layers.MultiHeadAttention (Keras 3): "Attention is all you need" multi-head attention.

The query, key and value are projected by EinsumDense sub-layers named `query`, `key`, `value`
(kernels (dim, num_heads, key_dim or value_dim), biases (num_heads, key_dim or value_dim)); the
heads attend over `attention_axes`; `attention_output` projects them back. Attribute names and
weight shapes are Keras 3's, so weight files move between the two.

Two numerical paths, as in Keras 3 with the TensorFlow backend:
- the fused dot-product path (rank-3 inputs, no dropout, scores not returned): logits =
  (q * scale) . k (Keras: (q . k) * scale, equal up to rounding), masked positions replaced
  by -0.7 * 3.38953e38, softmax; a fully masked row gets a uniform distribution;
- the explicit path (dropout, returned scores, other ranks): q * scale, logits, Keras's masked
  Softmax layer (masked logits -> -1e9, and masked weights set to 0 afterwards), Dropout.
Both run as batched BLAS matrix products (transposes + matmul) for the default attention axes,
and as `tf.einsum` with Keras's equations for other `attention_axes`.

Masks: `query_mask` is the query's `_keras_mask` (as Keras 3, an explicit `query_mask` argument
is not used), `value_mask` / `key_mask` default to the value's / key's `_keras_mask`; they are
merged with `attention_mask`, `use_causal_mask` and `sliding_window`. The output keeps the
query's mask. Unlike Keras 3, the masks are not deleted from the caller's input tensors.
"""
from __future__ import annotations

import math
import string

import numpy as np

import tensorweave as tf
from tensorweave.keras import constraints, initializers, regularizers
from tensorweave.keras.engine.keras_tensor import KerasTensor, shape_tuple
from tensorweave.keras.engine.layer import Layer
from tensorweave.keras.layers.einsum_dense import EinsumDense


def _letter(i: int) -> str:
    return string.ascii_lowercase[i]


def build_projection_equation(free_dims: int, bound_dims: int, output_dims: int):
    """(equation, bias_axes, output rank) of a projection: `free_dims` kept axes, `bound_dims`
    contracted axes and `output_dims` new axes made by the kernel."""
    free = "".join(_letter(i) for i in range(free_dims))
    bound = "".join(_letter(free_dims + i) for i in range(bound_dims))
    new = "".join(_letter(free_dims + bound_dims + i) for i in range(output_dims))
    return f"{free}{bound},{bound}{new}->{free}{new}", new, free_dims + output_dims


def build_attention_equations(rank: int, attention_axes: tuple):
    """(dot-product equation key,query->scores, combine equation scores,value->output, rank of
    the scores) for projected tensors of `rank` (batch, ..., heads, channels)."""
    target = "".join(_letter(i) for i in range(rank))
    batch_dims = [i for i in range(rank) if i not in attention_axes and i != rank - 1]
    source, offset = [], rank
    for i in range(rank):
        if i in batch_dims or i == rank - 1:
            source.append(target[i])
        else:
            source.append(_letter(offset))
            offset += 1
    source = "".join(source)
    product = "".join([target[i] for i in batch_dims] + [target[i] for i in attention_axes]
                      + [source[i] for i in attention_axes])
    return (f"{source},{target}->{product}", f"{product},{source}->{target}", len(product))


def _output_shape_of(rank: int, known: list) -> list:
    return [None] * (rank - len(known)) + list(known)


def _shape_of(x):
    if x is None:
        return None
    if hasattr(x, "shape"):
        return shape_tuple(x)
    return tuple(np.shape(x))


def _large_negative_for_fused(dtype) -> float:
    return (65500.0 if dtype == tf.float16 else 3.38953e38) * -0.7


class MultiHeadAttention(Layer):
    """Multi-head attention: `layer(query, value, key=None, ...)`."""

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, sliding_window=None,
                 flash_attention=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 use_gate=False, seed=None, **kwargs):
        if not isinstance(num_heads, int) or num_heads <= 0:
            raise ValueError("Received an invalid value for argument `num_heads`, expected a "
                             f"positive integer. Received: num_heads={num_heads}")
        if not isinstance(key_dim, int) or key_dim <= 0:
            raise ValueError("Received an invalid value for argument `key_dim`, expected a "
                             f"positive integer. Received: key_dim={key_dim}")
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim <= 0):
            raise ValueError("Received an invalid value for argument `value_dim`, expected a "
                             f"positive integer or `None`. Received: value_dim={value_dim}")
        super().__init__(**kwargs)
        self.supports_masking = True
        self._num_heads = num_heads
        self._key_dim = key_dim
        self._value_dim = value_dim if value_dim else key_dim
        self._dropout = dropout
        self._use_bias = use_bias
        self._use_gate = use_gate
        if output_shape:
            if isinstance(output_shape, int):
                output_shape = (output_shape,)
            try:
                output_shape = tuple(output_shape)
            except TypeError:
                raise ValueError(f"Invalid `output_shape`: {output_shape}. When specified, the "
                                 "`output_shape` should be of type tuple, list, or int.") from None
        self._output_shape = output_shape
        self._flash_attention = bool(flash_attention)
        self._kernel_initializer = initializers.get(kernel_initializer)
        self._bias_initializer = initializers.get(bias_initializer)
        self._kernel_regularizer = regularizers.get(kernel_regularizer)
        self._bias_regularizer = regularizers.get(bias_regularizer)
        self._activity_regularizer = regularizers.get(activity_regularizer)
        self._kernel_constraint = constraints.get(kernel_constraint)
        self._bias_constraint = constraints.get(bias_constraint)
        if isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        elif attention_axes and not isinstance(attention_axes, (list, tuple)):
            raise ValueError("`attention_axes` must be an int, list, or tuple."
                             f"Received: attention_axes={attention_axes}")
        self._attention_axes = attention_axes
        if sliding_window is not None and (not isinstance(sliding_window, int)
                                           or sliding_window <= 0):
            raise ValueError("`sliding_window` must be `None` or a positive integer. "
                             f"Received: sliding_window={sliding_window}")
        self._sliding_window = sliding_window
        self.seed = seed
        self._inverse_sqrt_key_dim = 1.0 / math.sqrt(float(self._key_dim))
        if self._flash_attention and self._dropout > 0.0:
            raise ValueError("Dropout is not supported when flash attention is enabled. Please "
                             "set dropout to 0.0 to use flash attention.")
        self._default_layout = False

    num_heads = property(lambda self: self._num_heads)
    key_dim = property(lambda self: self._key_dim)
    value_dim = property(lambda self: self._value_dim)
    dropout = property(lambda self: self._dropout)
    use_bias = property(lambda self: self._use_bias)
    attention_axes = property(lambda self: self._attention_axes)
    query_dense = property(lambda self: self._query_dense)
    key_dense = property(lambda self: self._key_dense)
    value_dense = property(lambda self: self._value_dense)
    output_dense = property(lambda self: self._output_dense)

    def get_config(self) -> dict:
        return {**super().get_config(),
                "num_heads": self._num_heads, "key_dim": self._key_dim,
                "value_dim": self._value_dim, "dropout": self._dropout,
                "use_bias": self._use_bias, "use_gate": self._use_gate,
                "output_shape": self._output_shape, "attention_axes": self._attention_axes,
                "sliding_window": self._sliding_window,
                "kernel_initializer": initializers.serialize(self._kernel_initializer),
                "bias_initializer": initializers.serialize(self._bias_initializer),
                "kernel_regularizer": regularizers.serialize(self._kernel_regularizer),
                "bias_regularizer": regularizers.serialize(self._bias_regularizer),
                "activity_regularizer": regularizers.serialize(self._activity_regularizer),
                "kernel_constraint": constraints.serialize(self._kernel_constraint),
                "bias_constraint": constraints.serialize(self._bias_constraint),
                "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        if isinstance(config.get("attention_axes"), list):
            config["attention_axes"] = tuple(config["attention_axes"])
        return super().from_config(config)

    # -- building: the engine passes query_shape, value_shape and key_shape by name -----------
    def build(self, query_shape, value_shape=None, key_shape=None):
        """Builds the projections for inputs of these shapes."""
        if value_shape is None:
            value_shape = query_shape
        query_shape, value_shape = tuple(query_shape), tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        common = self._sublayer_kwargs
        equation, bias_axes, output_rank = build_projection_equation(len(query_shape) - 1, 1, 2)
        self._query_dense = EinsumDense(
            equation, output_shape=_output_shape_of(output_rank - 1,
                                                    [self._num_heads, self._key_dim]),
            bias_axes=bias_axes if self._use_bias else None, name="query", **common())
        self._query_dense.build(query_shape)
        self._query_dense._build_shapes = query_shape
        equation, bias_axes, output_rank = build_projection_equation(len(key_shape) - 1, 1, 2)
        self._key_dense = EinsumDense(
            equation, output_shape=_output_shape_of(output_rank - 1,
                                                    [self._num_heads, self._key_dim]),
            bias_axes=bias_axes if self._use_bias else None, name="key", **common())
        self._key_dense.build(key_shape)
        self._key_dense._build_shapes = key_shape
        if self._use_gate:
            equation, bias_axes, output_rank = build_projection_equation(
                len(query_shape) - 1, 1, 2)
            self._gate_dense = EinsumDense(
                equation, output_shape=_output_shape_of(output_rank - 1,
                                                        [self._num_heads, self._value_dim]),
                bias_axes=bias_axes if self._use_bias else None, activation="sigmoid",
                name="gate", **common())
            self._gate_dense.build(query_shape)
            self._gate_dense._build_shapes = query_shape
        equation, bias_axes, output_rank = build_projection_equation(len(value_shape) - 1, 1, 2)
        self._value_dense = EinsumDense(
            equation, output_shape=_output_shape_of(output_rank - 1,
                                                    [self._num_heads, self._value_dim]),
            bias_axes=bias_axes if self._use_bias else None, name="value", **common())
        self._value_dense.build(value_shape)
        self._value_dense._build_shapes = value_shape
        self._build_attention(output_rank)
        output_shape = self._output_shape if self._output_shape else [query_shape[-1]]
        equation, bias_axes, output_rank = build_projection_equation(
            len(query_shape) - 1, 2, len(output_shape))
        self._output_dense = EinsumDense(
            equation, output_shape=_output_shape_of(output_rank - 1, output_shape),
            bias_axes=bias_axes if self._use_bias else None, name="attention_output",
            **common())
        dense_input = list(self._query_dense.compute_output_shape(query_shape))
        dense_input[-1] = self._value_dim
        self._output_dense.build(tuple(dense_input))
        self._output_dense._build_shapes = tuple(dense_input)
        self.built = True

    def _sublayer_kwargs(self) -> dict:
        # Fresh initializer objects per sub-layer: an unseeded one then draws different values.
        kernel = type(self._kernel_initializer).from_config(self._kernel_initializer.get_config())
        bias = type(self._bias_initializer).from_config(self._bias_initializer.get_config())
        return dict(kernel_regularizer=self._kernel_regularizer,
                    bias_regularizer=self._bias_regularizer,
                    activity_regularizer=self._activity_regularizer,
                    kernel_constraint=self._kernel_constraint,
                    bias_constraint=self._bias_constraint, dtype=self.dtype_policy,
                    kernel_initializer=kernel, bias_initializer=bias)

    def _build_attention(self, rank: int) -> None:
        from tensorweave.keras.layers.activation_layers import Softmax
        from tensorweave.keras.layers.regularization import Dropout
        if self._attention_axes is None:
            self._attention_axes = tuple(range(1, rank - 2))
        else:
            self._attention_axes = tuple(a if a >= 0 else (rank - 1) + a
                                         for a in self._attention_axes)
        self._dot_product_equation, self._combine_equation, scores_rank = \
            build_attention_equations(rank, self._attention_axes)
        norm_axes = tuple(range(scores_rank - len(self._attention_axes), scores_rank))
        self._default_layout = rank == 4 and self._attention_axes == (1,)
        self._softmax = Softmax(axis=norm_axes, dtype=self.dtype_policy)
        self._dropout_layer = Dropout(rate=self._dropout, dtype=self.dtype_policy, seed=self.seed)

    # -- the attention itself -------------------------------------------------------------------
    def _scores(self, key, query):
        """(B, N, T, S) logits of the projected (B, T, N, H) query and (B, S, N, H) key; Keras's
        dot-product einsum for other layouts."""
        if self._default_layout:
            return tf.matmul(tf.transpose(query, [0, 2, 1, 3]), tf.transpose(key, [0, 2, 3, 1]))
        return tf.einsum(self._dot_product_equation, key, query)

    def _combine(self, weights, value):
        if self._default_layout:
            out = tf.matmul(weights, tf.transpose(value, [0, 2, 1, 3]))
            return tf.transpose(out, [0, 2, 1, 3])
        return tf.einsum(self._combine_equation, weights, value)

    def _expand_mask(self, mask, rank: int):
        axis = -len(self._attention_axes) * 2 - 1
        for _ in range(rank - mask.shape.rank):
            mask = tf.expand_dims(mask, axis=axis)
        return mask

    def _masked_softmax(self, attention_scores, attention_mask=None):
        if attention_mask is not None:
            attention_mask = self._expand_mask(attention_mask, attention_scores.shape.rank)
        return self._softmax(attention_scores, mask=attention_mask)

    def _fused_attention(self, query, key, value, mask, is_causal: bool):
        """Keras's `ops.dot_product_attention` on (B, T, N, H) tensors."""
        if self._flash_attention:
            raise ValueError("Flash attention is not supported in tensorflow backend.")
        dtype = query.dtype
        wide = dtype in (tf.float16, tf.bfloat16)
        if not wide:
            # (q * scale) . k: the same logits up to rounding as Keras's (q . k) * scale, with
            # the scaling pass over the (B, T, N, H) query instead of the (B, N, T, S) logits
            query = tf.multiply(query, tf.cast(self._inverse_sqrt_key_dim, dtype))
        logits = tf.matmul(tf.transpose(query, [0, 2, 1, 3]), tf.transpose(key, [0, 2, 3, 1]))
        if wide:
            logits = tf.cast(logits, tf.float32)
            logits = tf.multiply(logits, tf.cast(self._inverse_sqrt_key_dim, logits.dtype))
        if is_causal:
            causal = self._compute_causal_mask(query, key)[None]
            mask = causal if mask is None else tf.logical_and(mask, causal)
        if mask is not None:
            logits = tf.where(mask, logits,
                              tf.cast(_large_negative_for_fused(logits.dtype), logits.dtype))
        probs = tf.nn.softmax(logits, axis=-1)
        if wide:
            probs = tf.cast(probs, dtype)
        out = tf.matmul(probs, tf.transpose(value, [0, 2, 1, 3]))
        return tf.transpose(out, [0, 2, 1, 3])

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        """Dot-product attention of the projected query, key and value; returns (output,
        scores), the scores None on the fused path."""
        if self._flash_attention and return_attention_scores:
            raise ValueError("Returning attention scores is not supported when flash attention "
                             "is enabled. Please disable flash attention to access attention "
                             "scores.")
        fused = not (self._dropout > 0.0 or return_attention_scores or query.shape.rank != 4)
        if fused:
            mask = None
            if attention_mask is not None:
                mask = tf.cast(self._expand_mask(attention_mask, 4), tf.bool)
            is_causal = bool(use_causal_mask) and attention_mask is None
            return self._fused_attention(query, key, value, mask, is_causal), None
        if use_causal_mask:
            causal = self._compute_causal_mask(query, value)
            attention_mask = causal if attention_mask is None else \
                tf.logical_and(tf.cast(attention_mask, tf.bool), causal)
        query = tf.multiply(query, tf.cast(self._inverse_sqrt_key_dim, query.dtype))
        attention_scores = self._scores(key, query)
        attention_scores = self._masked_softmax(attention_scores, attention_mask)
        if self._dropout > 0.0:
            final_scores = self._dropout_layer(attention_scores, training=training)
        else:
            final_scores = attention_scores
        return self._combine(final_scores, value), attention_scores

    def call(self, query, value, key=None, query_mask=None, value_mask=None, key_mask=None,
             attention_mask=None, return_attention_scores=False, training=None,
             use_causal_mask=False):
        if key is None:
            key = value
        query_mask = getattr(query, "_keras_mask", None)
        causal_only = (use_causal_mask and query_mask is None and value_mask is None
                       and key_mask is None and attention_mask is None
                       and self._sliding_window is None
                       and type(self)._compute_attention is MultiHeadAttention._compute_attention)
        if causal_only:
            attention_mask = None
        else:
            attention_mask = self._compute_attention_mask(
                query, value, query_mask=query_mask, value_mask=value_mask, key_mask=key_mask,
                attention_mask=attention_mask, use_causal_mask=use_causal_mask)
        gate = self._gate_dense(query) if self._use_gate else None
        query = self._query_dense(query)
        key = self._key_dense(key)
        value = self._value_dense(value)
        extra = {"use_causal_mask": True} if causal_only else {}
        attention_output, attention_scores = self._compute_attention(
            query, key, value, attention_mask, training, return_attention_scores, **extra)
        if gate is not None:
            attention_output = tf.multiply(attention_output, gate)
        attention_output = self._output_dense(attention_output)
        if query_mask is not None:
            attention_output._keras_mask = query_mask
        if return_attention_scores:
            return attention_output, attention_scores
        return attention_output

    # -- masks ----------------------------------------------------------------------------------
    def _compute_attention_mask(self, query, value, query_mask=None, value_mask=None,
                                key_mask=None, attention_mask=None, use_causal_mask=False):
        """The (B, T, S) boolean mask merging the inputs' masks, the causal and sliding-window
        masks and `attention_mask` (None when there is none)."""
        auto_mask = None
        if query_mask is not None:
            auto_mask = tf.expand_dims(tf.cast(query_mask, tf.bool), -1)
        for mask in (value_mask, key_mask):
            if mask is not None:
                mask = tf.expand_dims(tf.cast(mask, tf.bool), -2)
                auto_mask = mask if auto_mask is None else tf.logical_and(auto_mask, mask)
        if use_causal_mask:
            mask = self._compute_causal_mask(query, value)
            auto_mask = mask if auto_mask is None else tf.logical_and(auto_mask, mask)
        if self._sliding_window is not None:
            mask = self._compute_sliding_window_mask(query, value)
            auto_mask = mask if auto_mask is None else tf.logical_and(auto_mask, mask)
        if attention_mask is not None:
            attention_mask = tf.cast(attention_mask, tf.bool)
        if auto_mask is not None:
            attention_mask = auto_mask if attention_mask is None else \
                tf.logical_and(attention_mask, auto_mask)
        return attention_mask

    @staticmethod
    def _positions(query, value):
        t = tf.shape(query)[1]
        s = t if value is None else tf.shape(value)[1]
        return tf.range(t)[:, None], tf.range(s)[None, :]

    def _compute_causal_mask(self, query, value=None):
        """(1, T, S) boolean: query position i sees key positions j <= i."""
        rows, cols = self._positions(query, value)
        return tf.greater_equal(rows, cols)[None]

    def _compute_sliding_window_mask(self, query, value=None):
        """(1, T, S) boolean: |i - j| < sliding_window."""
        rows, cols = self._positions(query, value)
        return tf.less(tf.abs(rows - cols), self._sliding_window)[None]

    # -- shapes ---------------------------------------------------------------------------------
    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        # (value_shape is required in Keras 3; omitted here it means self-attention)
        query_shape = tuple(query_shape)
        value_shape = query_shape if value_shape is None else tuple(value_shape)
        key_shape = value_shape if key_shape is None else tuple(key_shape)
        if value_shape[1:-1] != key_shape[1:-1]:
            raise ValueError("All dimensions of `value` and `key`, except the last one, must be "
                             f"equal. Received: value_shape={value_shape} and "
                             f"key_shape={key_shape}")
        if self._output_shape:
            return query_shape[:-1] + tuple(self._output_shape)
        return query_shape

    def compute_output_spec(self, query, value, key=None, query_mask=None, value_mask=None,
                            key_mask=None, attention_mask=None, return_attention_scores=False,
                            training=None, use_causal_mask=False):
        query_shape, value_shape = _shape_of(query), _shape_of(value)
        key_shape = _shape_of(key)
        output = KerasTensor(self.compute_output_shape(query_shape, value_shape, key_shape),
                             self.compute_dtype)
        if not return_attention_scores:
            return output
        # The scores: (batch dims, heads, query attention dims, key attention dims) of the
        # projected tensors (Keras 3 claims (batch, heads, T, T) here, wrong when S != T).
        key_shape = value_shape if key_shape is None else key_shape
        projected_query = query_shape[:-1] + (self._num_heads, self._key_dim)
        projected_key = key_shape[:-1] + (self._num_heads, self._key_dim)
        rank = len(projected_query)
        axes = self._attention_axes
        batch_dims = [i for i in range(rank) if i not in axes and i != rank - 1]
        shape = [projected_query[i] for i in batch_dims] + [projected_query[i] for i in axes] + \
            [projected_key[i] for i in axes]
        return output, KerasTensor(tuple(shape), self.compute_dtype)
