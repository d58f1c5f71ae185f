"""get_config / from_config round trips for every public class of keras.layers, losses, metrics,
optimizers, optimizers.schedules, initializers, regularizers and constraints, and the
activations' serialize / deserialize.

The tables below (one entry per class, with representative non-default arguments, and the
defaults where a class has them) are shared with tests/tfref/test_configs_against_keras.py,
which compares each config with Keras 3's. A `make(k)` builds the object from a Keras-like
namespace `k` (`tensorweave.keras` here, `keras` there). Each round trip checks that
`cls.from_config(obj.get_config())` has an equal, JSON-serializable config and behaves the same:
a layer given the same weights computes the same output, a loss the same value, a metric the
same result, an optimizer the same update, a schedule the same rates, an initializer the same
values (seeded), a regularizer the same penalty, a constraint the same projection.
"""
import inspect
import json

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import activations

NAMESPACES = ("layers", "losses", "metrics", "optimizers", "optimizers.schedules",
              "initializers", "regularizers", "constraints")


# ---------------------------------------------------------------------------------------------
# inputs: ("f", shape) float32 normal, ("i", shape, high) int32 in [0, high), ("p", shape)
# float32 in (0, 1), ("b", shape) float32 0/1, ("onehot", n, c) float32 one-hot rows.

def F(*shape):
    return ("f", shape)


def I(high, *shape):  # noqa: E743
    return ("i", shape, high)


def P(*shape):
    return ("p", shape)


def B(*shape):
    return ("b", shape)


def ONEHOT(n, c):
    return ("onehot", (n, c))


def make_array(spec, rng):
    kind, shape = spec[0], spec[1]
    if kind == "f":
        return rng.standard_normal(shape).astype(np.float32)
    if kind == "i":
        return rng.integers(0, spec[2], size=shape).astype(np.int32)
    if kind == "p":
        return rng.uniform(0.05, 0.95, size=shape).astype(np.float32)
    if kind == "b":
        return rng.integers(0, 2, size=shape).astype(np.float32)
    if kind == "onehot":
        n, c = shape
        return np.eye(c, dtype=np.float32)[rng.integers(0, c, size=n)]
    raise ValueError(kind)


def make_inputs(spec, seed=0):
    rng = np.random.default_rng(seed)
    if isinstance(spec, list):
        return [make_array(s, rng) for s in spec]
    return make_array(spec, rng)


class L:
    """A layer case: `make(k)`, its input spec (None: config only, built with `build`), and
    an optional `call(layer, inputs)` (cells take states)."""

    def __init__(self, make, inputs=None, build=None, call=None):
        self.make, self.inputs, self.build, self.call = make, inputs, build, call


def _cell_call(n_states):
    def call(layer, x):
        out, _ = layer(x[0], list(x[1:1 + n_states]))
        return out
    return call


def _first(layer, x):
    out = layer(x)
    return out[0] if isinstance(out, (list, tuple)) else out


def _query_value(layer, x):
    return layer(x[0], x[1])


def named_double(x):
    """A plain named function for Lambda (serialized by name)."""
    return x * 2.0


# name -> case; names start with the class name so the coverage test finds every class
LAYERS = {
    "Activation": L(lambda k: k.layers.Activation("relu", name="act"), F(2, 3)),
    "Activation_fn": L(lambda k: k.layers.Activation(k.activations.softmax), F(2, 3)),
    "ActivityRegularization": L(lambda k: k.layers.ActivityRegularization(l1=0.1, l2=0.2),
                                F(2, 3)),
    "Add": L(lambda k: k.layers.Add(), [F(2, 3), F(2, 3)]),
    "AdditiveAttention": L(lambda k: k.layers.AdditiveAttention(use_scale=False, dropout=0.1),
                           [F(2, 3, 4), F(2, 5, 4)]),
    "AdditiveAttention_defaults": L(lambda k: k.layers.AdditiveAttention(),
                                    [F(2, 3, 4), F(2, 5, 4), F(2, 5, 4)]),
    "AlphaDropout": L(lambda k: k.layers.AlphaDropout(0.3, noise_shape=(2, 1), seed=2),
                      F(2, 3)),
    "Attention": L(lambda k: k.layers.Attention(use_scale=True, score_mode="concat",
                                                dropout=0.2, seed=3),
                   [F(2, 3, 4), F(2, 5, 4)]),
    "Attention_defaults": L(lambda k: k.layers.Attention(), [F(2, 3, 4), F(2, 5, 4)]),
    "Average": L(lambda k: k.layers.Average(name="avg"), [F(2, 3), F(2, 3), F(2, 3)]),
    "AveragePooling1D": L(lambda k: k.layers.AveragePooling1D(3, strides=2, padding="same"),
                          F(2, 7, 2)),
    "AveragePooling1D_first": L(lambda k: k.layers.AveragePooling1D(
        2, data_format="channels_first"), F(2, 3, 6)),
    "AveragePooling2D": L(lambda k: k.layers.AveragePooling2D((2, 3), strides=(1, 2),
                                                              padding="valid"), F(2, 5, 6, 2)),
    "AveragePooling3D": L(lambda k: k.layers.AveragePooling3D(2, padding="same"),
                          F(1, 3, 4, 4, 2)),
    "BatchNormalization": L(lambda k: k.layers.BatchNormalization(
        axis=1, momentum=0.9, epsilon=0.01, center=False, gamma_initializer="random_normal",
        moving_variance_initializer=k.initializers.Constant(2.0),
        gamma_regularizer=k.regularizers.L2(0.1), gamma_constraint="non_neg"), F(3, 2, 4)),
    "BatchNormalization_defaults": L(lambda k: k.layers.BatchNormalization(), F(3, 4)),
    "BatchNormalization_renorm": L(lambda k: k.layers.BatchNormalization(
        renorm=True, renorm_clipping={"rmax": 2.0, "rmin": 0.5, "dmax": 1.0},
        renorm_momentum=0.9, synchronized=True, scale=False), F(3, 4)),
    "Bidirectional": L(lambda k: k.layers.Bidirectional(
        k.layers.LSTM(3, return_sequences=True), merge_mode="sum",
        backward_layer=k.layers.LSTM(3, return_sequences=True, go_backwards=True)),
        F(2, 4, 3)),
    "Bidirectional_defaults": L(lambda k: k.layers.Bidirectional(k.layers.GRU(2)),
                                F(2, 3, 2)),
    "Concatenate": L(lambda k: k.layers.Concatenate(axis=1), [F(2, 3), F(2, 2)]),
    "Conv1D": L(lambda k: k.layers.Conv1D(
        4, 3, strides=2, padding="same", activation="relu", use_bias=False,
        kernel_initializer="he_normal", kernel_regularizer="l2",
        activity_regularizer=k.regularizers.L1(0.01), kernel_constraint="max_norm"),
        F(2, 7, 2)),
    "Conv1D_causal_dilated": L(lambda k: k.layers.Conv1D(
        4, 2, padding="causal", dilation_rate=2, groups=2, bias_initializer="ones",
        bias_constraint=k.constraints.NonNeg()), F(2, 6, 4)),
    "Conv1DTranspose": L(lambda k: k.layers.Conv1DTranspose(
        3, 3, strides=2, padding="same", output_padding=1, activation="tanh",
        bias_regularizer="l1"), F(2, 4, 2)),
    "Conv2D": L(lambda k: k.layers.Conv2D(
        3, (2, 3), strides=(2, 1), padding="same", data_format="channels_last",
        dilation_rate=1, activation="sigmoid", kernel_initializer=k.initializers.Orthogonal(
            gain=0.5, seed=3)), F(2, 5, 6, 2)),
    "Conv2D_first": L(lambda k: k.layers.Conv2D(2, 2, data_format="channels_first",
                                                dilation_rate=(1, 2), groups=1),
                      F(1, 2, 4, 5)),
    "Conv2DTranspose": L(lambda k: k.layers.Conv2DTranspose(
        2, 3, strides=2, padding="valid", dilation_rate=1, use_bias=False), F(1, 3, 3, 2)),
    "Conv3D": L(lambda k: k.layers.Conv3D(2, 2, strides=1, padding="valid",
                                          activation="elu"), F(1, 3, 3, 3, 2)),
    "Conv3DTranspose": L(lambda k: k.layers.Conv3DTranspose(2, 2, strides=(1, 2, 1),
                                                            padding="same"),
                         F(1, 2, 2, 2, 1)),
    "ConvLSTM1D": L(lambda k: k.layers.ConvLSTM1D(
        2, 2, padding="same", return_sequences=True, recurrent_activation="hard_sigmoid",
        unit_forget_bias=False, dropout=0.1, recurrent_dropout=0.2, seed=4), F(2, 3, 4, 2)),
    "ConvLSTM2D": L(lambda k: k.layers.ConvLSTM2D(
        2, (2, 2), strides=1, go_backwards=True, use_bias=False,
        kernel_regularizer="l2"), F(1, 2, 3, 3, 1)),
    "ConvLSTM3D": L(lambda k: k.layers.ConvLSTM3D(1, 2, return_state=False),
                    F(1, 2, 3, 2, 2, 1)),
    "Cropping1D": L(lambda k: k.layers.Cropping1D((1, 2)), F(2, 6, 2)),
    "Cropping2D": L(lambda k: k.layers.Cropping2D(((1, 0), (0, 2))), F(2, 4, 5, 1)),
    "Cropping2D_first": L(lambda k: k.layers.Cropping2D(1, data_format="channels_first"),
                          F(2, 1, 4, 5)),
    "Cropping3D": L(lambda k: k.layers.Cropping3D(((1, 0), (0, 1), (1, 1))),
                    F(1, 3, 3, 4, 1)),
    "Dense": L(lambda k: k.layers.Dense(
        4, activation="relu", use_bias=False,
        kernel_initializer=k.initializers.RandomNormal(stddev=0.1, seed=1),
        kernel_regularizer=k.regularizers.L2(0.1), kernel_constraint=k.constraints.MaxNorm(2.0),
        activity_regularizer="l1", name="d", trainable=False), F(2, 3)),
    "Dense_float64": L(lambda k: k.layers.Dense(3, dtype="float64", bias_initializer="ones",
                                                bias_regularizer=k.regularizers.L1L2(0.1, 0.2),
                                                bias_constraint="unit_norm"), F(2, 4, 2)),
    "Dense_defaults": L(lambda k: k.layers.Dense(2), F(2, 3)),
    "Dense_mixed": L(lambda k: k.layers.Dense(2, dtype="mixed_float16", activation="gelu"),
                     F(2, 3)),
    "DepthwiseConv1D": L(lambda k: k.layers.DepthwiseConv1D(
        3, depth_multiplier=2, padding="same", depthwise_initializer="he_uniform",
        depthwise_regularizer="l2", depthwise_constraint="non_neg"), F(2, 5, 2)),
    "DepthwiseConv2D": L(lambda k: k.layers.DepthwiseConv2D(
        (2, 2), strides=2, activation="relu", use_bias=False), F(1, 4, 4, 2)),
    "Dot": L(lambda k: k.layers.Dot(axes=(1, 2), normalize=True), [F(2, 3, 4), F(2, 4, 3)]),
    "Dot_int": L(lambda k: k.layers.Dot(axes=1), [F(2, 3), F(2, 3)]),
    "Dropout": L(lambda k: k.layers.Dropout(0.3, noise_shape=(None, 1), seed=5), F(2, 3)),
    "ELU": L(lambda k: k.layers.ELU(alpha=0.5), F(2, 3)),
    "EinsumDense": L(lambda k: k.layers.EinsumDense(
        "abc,cd->abd", output_shape=(None, 4), bias_axes="d", activation="relu",
        kernel_initializer="lecun_normal", kernel_regularizer="l2"), F(2, 3, 2)),
    "EinsumDense_int": L(lambda k: k.layers.EinsumDense("ab,bc->ac", 3), F(2, 4)),
    "Embedding": L(lambda k: k.layers.Embedding(
        10, 3, embeddings_initializer="random_normal", embeddings_regularizer="l2",
        embeddings_constraint="unit_norm", mask_zero=True), I(10, 2, 4)),
    "Flatten": L(lambda k: k.layers.Flatten(data_format="channels_first"), F(2, 3, 2)),
    "GRU": L(lambda k: k.layers.GRU(
        3, activation="relu", recurrent_activation="hard_sigmoid", reset_after=False,
        return_sequences=True, go_backwards=True, dropout=0.1, recurrent_dropout=0.2, seed=3,
        kernel_regularizer="l2", recurrent_constraint="max_norm"), F(2, 4, 2)),
    "GRU_defaults": L(lambda k: k.layers.GRU(2), F(2, 3, 2)),
    "GRUCell": L(lambda k: k.layers.GRUCell(3, reset_after=False, dropout=0.1, seed=2,
                                            use_bias=False), [F(2, 2), F(2, 3)],
                 call=_cell_call(1)),
    "GaussianDropout": L(lambda k: k.layers.GaussianDropout(0.2, seed=1), F(2, 3)),
    "GaussianNoise": L(lambda k: k.layers.GaussianNoise(0.1, seed=1), F(2, 3)),
    "GlobalAveragePooling1D": L(lambda k: k.layers.GlobalAveragePooling1D(
        data_format="channels_first", keepdims=True), F(2, 3, 4)),
    "GlobalAveragePooling2D": L(lambda k: k.layers.GlobalAveragePooling2D(keepdims=True),
                                F(2, 3, 4, 2)),
    "GlobalAveragePooling3D": L(lambda k: k.layers.GlobalAveragePooling3D(),
                                F(1, 2, 3, 2, 2)),
    "GlobalMaxPooling1D": L(lambda k: k.layers.GlobalMaxPooling1D(keepdims=True), F(2, 3, 4)),
    "GlobalMaxPooling2D": L(lambda k: k.layers.GlobalMaxPooling2D(
        data_format="channels_first"), F(2, 3, 4, 2)),
    "GlobalMaxPooling3D": L(lambda k: k.layers.GlobalMaxPooling3D(keepdims=True),
                            F(1, 2, 3, 2, 2)),
    "GroupNormalization": L(lambda k: k.layers.GroupNormalization(
        groups=2, epsilon=0.01, center=False, gamma_initializer="random_uniform",
        gamma_regularizer="l2", gamma_constraint="non_neg"), F(2, 3, 4)),
    "GroupNormalization_defaults": L(lambda k: k.layers.GroupNormalization(groups=2),
                                     F(2, 4)),
    "Identity": L(lambda k: k.layers.Identity(name="same"), F(2, 3)),
    "InputLayer": L(lambda k: k.layers.InputLayer(shape=(3, 2), batch_size=4, name="inp")),
    "InputLayer_batch_shape": L(lambda k: k.layers.InputLayer(batch_shape=(None, 5),
                                                              dtype="int32")),
    "LSTM": L(lambda k: k.layers.LSTM(
        3, activation="tanh", recurrent_activation="sigmoid", unit_forget_bias=False,
        return_sequences=True, unroll=True, use_bias=True, bias_initializer="ones",
        recurrent_initializer="glorot_uniform", dropout=0.1, seed=4,
        activity_regularizer="l2"), F(2, 3, 2)),
    "LSTM_defaults": L(lambda k: k.layers.LSTM(2), F(2, 3, 2)),
    "LSTMCell": L(lambda k: k.layers.LSTMCell(2, unit_forget_bias=False,
                                              recurrent_dropout=0.1, seed=1),
                  [F(2, 3), F(2, 2), F(2, 2)], call=_cell_call(2)),
    "Lambda": L(lambda k: k.layers.Lambda(named_double, output_shape=(3,)), F(2, 3)),
    "Lambda_activation": L(lambda k: k.layers.Lambda(k.activations.relu), F(2, 3)),
    "Layer": L(lambda k: k.layers.Layer(name="base", dtype="float64",
                                        activity_regularizer="l2"), build=(None, 3)),
    "LayerNormalization": L(lambda k: k.layers.LayerNormalization(
        axis=[1, 2], epsilon=0.01, center=False, beta_initializer="ones",
        gamma_regularizer="l2"), F(2, 3, 2)),
    "LayerNormalization_defaults": L(lambda k: k.layers.LayerNormalization(), F(2, 3)),
    "LeakyReLU": L(lambda k: k.layers.LeakyReLU(negative_slope=0.1), F(2, 3)),
    "Masking": L(lambda k: k.layers.Masking(mask_value=1.0), F(2, 3, 2)),
    "MaxPooling1D": L(lambda k: k.layers.MaxPooling1D(3, strides=1, padding="same"),
                      F(2, 5, 2)),
    "MaxPooling2D": L(lambda k: k.layers.MaxPooling2D(pool_size=2, strides=(2, 1),
                                                      data_format="channels_first"),
                      F(1, 2, 4, 4)),
    "MaxPooling2D_defaults": L(lambda k: k.layers.MaxPooling2D(), F(1, 4, 4, 2)),
    "MaxPooling3D": L(lambda k: k.layers.MaxPooling3D((1, 2, 2)), F(1, 2, 4, 4, 1)),
    "Maximum": L(lambda k: k.layers.Maximum(), [F(2, 3), F(2, 3)]),
    "Minimum": L(lambda k: k.layers.Minimum(), [F(2, 3), F(2, 3)]),
    "MultiHeadAttention": L(lambda k: k.layers.MultiHeadAttention(
        num_heads=2, key_dim=3, value_dim=4, dropout=0.1, use_bias=False, output_shape=5,
        kernel_initializer="he_normal", kernel_regularizer="l2", bias_constraint="non_neg"),
        [F(2, 3, 4), F(2, 5, 6)], call=_query_value),
    "MultiHeadAttention_defaults": L(lambda k: k.layers.MultiHeadAttention(2, 2),
                                     [F(2, 3, 4), F(2, 3, 4)], call=_query_value),
    "Multiply": L(lambda k: k.layers.Multiply(), [F(2, 3), F(2, 3)]),
    "PReLU": L(lambda k: k.layers.PReLU(alpha_initializer="ones", alpha_regularizer="l2",
                                        alpha_constraint="non_neg", shared_axes=[1]),
               F(2, 3, 4)),
    "PReLU_defaults": L(lambda k: k.layers.PReLU(), F(2, 3)),
    "Permute": L(lambda k: k.layers.Permute((2, 1)), F(2, 3, 4)),
    "RNN": L(lambda k: k.layers.RNN(k.layers.SimpleRNNCell(3, activation="relu"),
                                    return_sequences=True, go_backwards=True, unroll=True),
             F(2, 4, 2)),
    "RNN_stacked": L(lambda k: k.layers.RNN(k.layers.StackedRNNCells(
        [k.layers.GRUCell(2), k.layers.LSTMCell(3)])), F(2, 3, 2)),
    "RNN_state": L(lambda k: k.layers.RNN(k.layers.LSTMCell(2), return_state=True,
                                          zero_output_for_mask=True), F(2, 3, 2),
                   call=_first),
    "ReLU": L(lambda k: k.layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.5),
              F(2, 3)),
    "RepeatVector": L(lambda k: k.layers.RepeatVector(3), F(2, 2)),
    "Reshape": L(lambda k: k.layers.Reshape((3, 2)), F(2, 6)),
    "Reshape_unknown": L(lambda k: k.layers.Reshape((-1, 2)), F(2, 3, 4)),
    "SeparableConv1D": L(lambda k: k.layers.SeparableConv1D(
        3, 2, depth_multiplier=2, padding="same", pointwise_initializer="he_normal",
        depthwise_regularizer="l2", pointwise_constraint="non_neg"), F(2, 5, 2)),
    "SeparableConv2D": L(lambda k: k.layers.SeparableConv2D(
        2, (2, 2), strides=2, activation="relu", use_bias=False), F(1, 4, 4, 2)),
    "SimpleRNN": L(lambda k: k.layers.SimpleRNN(
        3, activation="relu", use_bias=False, return_sequences=True, go_backwards=True,
        stateful=False, recurrent_initializer="identity", recurrent_regularizer="l2"),
        F(2, 3, 2)),
    "SimpleRNN_defaults": L(lambda k: k.layers.SimpleRNN(2), F(2, 3, 2)),
    "SimpleRNNCell": L(lambda k: k.layers.SimpleRNNCell(3, activation="sigmoid",
                                                        dropout=0.2, seed=7),
                       [F(2, 2), F(2, 3)], call=_cell_call(1)),
    "Softmax": L(lambda k: k.layers.Softmax(axis=1), F(2, 3, 2)),
    "SpatialDropout1D": L(lambda k: k.layers.SpatialDropout1D(0.2, seed=1), F(2, 3, 2)),
    "SpatialDropout2D": L(lambda k: k.layers.SpatialDropout2D(
        0.2, data_format="channels_first", seed=1), F(1, 2, 3, 3)),
    "SpatialDropout3D": L(lambda k: k.layers.SpatialDropout3D(0.3), F(1, 2, 2, 2, 2)),
    "StackedRNNCells": L(lambda k: k.layers.StackedRNNCells(
        [k.layers.SimpleRNNCell(2), k.layers.SimpleRNNCell(3, use_bias=False)]),
        build=(None, 4)),
    "Subtract": L(lambda k: k.layers.Subtract(), [F(2, 3), F(2, 3)]),
    "TimeDistributed": L(lambda k: k.layers.TimeDistributed(
        k.layers.Dense(2, activation="relu")), F(2, 3, 4)),
    "UnitNormalization": L(lambda k: k.layers.UnitNormalization(axis=[1, 2]), F(2, 3, 2)),
    "UpSampling1D": L(lambda k: k.layers.UpSampling1D(3), F(2, 2, 2)),
    "UpSampling2D": L(lambda k: k.layers.UpSampling2D((2, 3), interpolation="bilinear"),
                      F(1, 2, 2, 1)),
    "UpSampling2D_first": L(lambda k: k.layers.UpSampling2D(data_format="channels_first"),
                            F(1, 1, 2, 2)),
    "UpSampling3D": L(lambda k: k.layers.UpSampling3D((1, 2, 2)), F(1, 2, 2, 2, 1)),
    "Wrapper": L(lambda k: k.layers.Wrapper(k.layers.Dense(2))),
    "ZeroPadding1D": L(lambda k: k.layers.ZeroPadding1D((1, 2)), F(2, 3, 2)),
    "ZeroPadding2D": L(lambda k: k.layers.ZeroPadding2D(((1, 0), (2, 1))), F(1, 2, 2, 1)),
    "ZeroPadding2D_first": L(lambda k: k.layers.ZeroPadding2D(2, data_format="channels_first"),
                             F(1, 1, 2, 2)),
    "ZeroPadding3D": L(lambda k: k.layers.ZeroPadding3D(1), F(1, 2, 2, 2, 1)),
}

REG_TRUE, REG_PRED = F(4, 3), F(4, 3)
POS_TRUE, POS_PRED = P(4, 3), P(4, 3)

# name -> (make(k), y_true spec, y_pred spec)
LOSSES = {
    "BinaryCrossentropy": (lambda k: k.losses.BinaryCrossentropy(
        from_logits=True, label_smoothing=0.1, axis=0, reduction="sum", name="bce"),
        B(4, 3), REG_PRED),
    "BinaryCrossentropy_defaults": (lambda k: k.losses.BinaryCrossentropy(), B(4, 3), P(4, 3)),
    "BinaryFocalCrossentropy": (lambda k: k.losses.BinaryFocalCrossentropy(
        apply_class_balancing=True, alpha=0.4, gamma=1.5, label_smoothing=0.1,
        reduction="mean"), B(4, 3), P(4, 3)),
    "CategoricalCrossentropy": (lambda k: k.losses.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.2, reduction=None), ONEHOT(4, 3), REG_PRED),
    "CategoricalFocalCrossentropy": (lambda k: k.losses.CategoricalFocalCrossentropy(
        alpha=0.3, gamma=1.0, reduction="sum_over_batch_size", name="cfc"),
        ONEHOT(4, 3), P(4, 3)),
    "CategoricalGeneralizedCrossEntropy": (lambda k: k.losses.CategoricalGeneralizedCrossEntropy(
        q=0.7, reduction="sum"), I(3, 4), P(4, 3)),
    "CategoricalHinge": (lambda k: k.losses.CategoricalHinge(reduction="sum"),
                         ONEHOT(4, 3), REG_PRED),
    "CosineSimilarity": (lambda k: k.losses.CosineSimilarity(axis=0, name="cos"),
                         REG_TRUE, REG_PRED),
    "Dice": (lambda k: k.losses.Dice(axis=(1,), reduction="sum"), B(4, 3), P(4, 3)),
    "Hinge": (lambda k: k.losses.Hinge(), B(4, 3), REG_PRED),
    "Huber": (lambda k: k.losses.Huber(delta=0.5, reduction="sum", name="hub"),
              REG_TRUE, REG_PRED),
    "KLDivergence": (lambda k: k.losses.KLDivergence(), P(4, 3), P(4, 3)),
    "LogCosh": (lambda k: k.losses.LogCosh(reduction="mean"), REG_TRUE, REG_PRED),
    "MeanAbsoluteError": (lambda k: k.losses.MeanAbsoluteError(name="m", dtype="float64"),
                          REG_TRUE, REG_PRED),
    "MeanAbsolutePercentageError": (lambda k: k.losses.MeanAbsolutePercentageError(),
                                    REG_TRUE, REG_PRED),
    "MeanSquaredError": (lambda k: k.losses.MeanSquaredError(reduction="sum"),
                         REG_TRUE, REG_PRED),
    "MeanSquaredLogarithmicError": (lambda k: k.losses.MeanSquaredLogarithmicError(),
                                    POS_TRUE, POS_PRED),
    "Poisson": (lambda k: k.losses.Poisson(), POS_TRUE, POS_PRED),
    "SparseCategoricalCrossentropy": (lambda k: k.losses.SparseCategoricalCrossentropy(
        from_logits=True, ignore_class=1, reduction="sum"), I(3, 4), REG_PRED),
    "SquaredHinge": (lambda k: k.losses.SquaredHinge(), B(4, 3), REG_PRED),
    "Tversky": (lambda k: k.losses.Tversky(alpha=0.3, beta=0.7, axis=(1,)), B(4, 3), P(4, 3)),
}

# name -> (make(k), y_true spec, y_pred spec)
METRICS = {
    "AUC": (lambda k: k.metrics.AUC(num_thresholds=50, curve="PR",
                                    summation_method="minoring", name="auc_pr"),
            B(6, 1), P(6, 1)),
    "AUC_multi": (lambda k: k.metrics.AUC(thresholds=[0.2, 0.5, 0.7], multi_label=True,
                                          num_labels=2, label_weights=[0.3, 0.7],
                                          from_logits=True), B(6, 2), F(6, 2)),
    "Accuracy": (lambda k: k.metrics.Accuracy(name="acc", dtype="float64"), I(3, 6), I(3, 6)),
    "BinaryAccuracy": (lambda k: k.metrics.BinaryAccuracy(threshold=0.3), B(6, 1), P(6, 1)),
    "BinaryCrossentropy": (lambda k: k.metrics.BinaryCrossentropy(from_logits=True,
                                                                  label_smoothing=0.1),
                           B(6, 2), F(6, 2)),
    "BinaryIoU": (lambda k: k.metrics.BinaryIoU(target_class_ids=[1], threshold=0.3),
                  B(6, 1), P(6, 1)),
    "CategoricalAccuracy": (lambda k: k.metrics.CategoricalAccuracy(), ONEHOT(6, 3), P(6, 3)),
    "CategoricalCrossentropy": (lambda k: k.metrics.CategoricalCrossentropy(
        from_logits=True, label_smoothing=0.1, axis=-1), ONEHOT(6, 3), F(6, 3)),
    "CategoricalHinge": (lambda k: k.metrics.CategoricalHinge(), ONEHOT(6, 3), F(6, 3)),
    "ConcordanceCorrelation": (lambda k: k.metrics.ConcordanceCorrelation(axis=0),
                               F(6, 2), F(6, 2)),
    "CosineSimilarity": (lambda k: k.metrics.CosineSimilarity(axis=0), F(6, 2), F(6, 2)),
    "F1Score": (lambda k: k.metrics.F1Score(average="macro", threshold=0.4), B(6, 3), P(6, 3)),
    "FBetaScore": (lambda k: k.metrics.FBetaScore(average="weighted", beta=2.0),
                   B(6, 3), P(6, 3)),
    "FalseNegatives": (lambda k: k.metrics.FalseNegatives(thresholds=[0.3, 0.6]),
                       B(6, 1), P(6, 1)),
    "FalsePositives": (lambda k: k.metrics.FalsePositives(thresholds=0.4), B(6, 1), P(6, 1)),
    "Hinge": (lambda k: k.metrics.Hinge(), B(6, 2), F(6, 2)),
    "IoU": (lambda k: k.metrics.IoU(num_classes=3, target_class_ids=[0, 2], ignore_class=1,
                                    sparse_y_pred=False), I(3, 6), P(6, 3)),
    "KLDivergence": (lambda k: k.metrics.KLDivergence(), P(6, 3), P(6, 3)),
    "LogCoshError": (lambda k: k.metrics.LogCoshError(), F(6, 2), F(6, 2)),
    "Mean": (lambda k: k.metrics.Mean(name="m"), None, F(6)),
    "MeanAbsoluteError": (lambda k: k.metrics.MeanAbsoluteError(), F(6, 2), F(6, 2)),
    "MeanAbsolutePercentageError": (lambda k: k.metrics.MeanAbsolutePercentageError(),
                                    F(6, 2), F(6, 2)),
    "MeanIoU": (lambda k: k.metrics.MeanIoU(num_classes=3, axis=-1), I(3, 6), I(3, 6)),
    "MeanMetricWrapper": (lambda k: k.metrics.MeanMetricWrapper(
        k.metrics.mean_squared_error, name="wrapped_mse"), F(6, 2), F(6, 2)),
    "MeanSquaredError": (lambda k: k.metrics.MeanSquaredError(), F(6, 2), F(6, 2)),
    "MeanSquaredLogarithmicError": (lambda k: k.metrics.MeanSquaredLogarithmicError(),
                                    P(6, 2), P(6, 2)),
    "Metric": (lambda k: k.metrics.Metric(name="base", dtype="float64"), None, None),
    "OneHotIoU": (lambda k: k.metrics.OneHotIoU(num_classes=3, target_class_ids=[1]),
                  ONEHOT(6, 3), P(6, 3)),
    "OneHotMeanIoU": (lambda k: k.metrics.OneHotMeanIoU(num_classes=3, ignore_class=0),
                      ONEHOT(6, 3), P(6, 3)),
    "PearsonCorrelation": (lambda k: k.metrics.PearsonCorrelation(), F(6, 2), F(6, 2)),
    "Poisson": (lambda k: k.metrics.Poisson(), P(6, 2), P(6, 2)),
    "Precision": (lambda k: k.metrics.Precision(thresholds=0.3, class_id=1),
                  B(6, 3), P(6, 3)),
    "Precision_top_k": (lambda k: k.metrics.Precision(top_k=2), B(6, 3), P(6, 3)),
    "PrecisionAtRecall": (lambda k: k.metrics.PrecisionAtRecall(0.6, num_thresholds=20),
                          B(6, 1), P(6, 1)),
    "R2Score": (lambda k: k.metrics.R2Score(class_aggregation="variance_weighted_average",
                                            num_regressors=1), F(6, 2), F(6, 2)),
    "Recall": (lambda k: k.metrics.Recall(thresholds=[0.2, 0.8]), B(6, 1), P(6, 1)),
    "RecallAtPrecision": (lambda k: k.metrics.RecallAtPrecision(0.5, num_thresholds=30,
                                                                class_id=0),
                          B(6, 2), P(6, 2)),
    "RootMeanSquaredError": (lambda k: k.metrics.RootMeanSquaredError(), F(6, 2), F(6, 2)),
    "SensitivityAtSpecificity": (lambda k: k.metrics.SensitivityAtSpecificity(
        0.4, num_thresholds=10), B(6, 1), P(6, 1)),
    "SparseCategoricalAccuracy": (lambda k: k.metrics.SparseCategoricalAccuracy(),
                                  I(3, 6, 1), P(6, 3)),
    "SparseCategoricalCrossentropy": (lambda k: k.metrics.SparseCategoricalCrossentropy(
        from_logits=True, axis=-1), I(3, 6), F(6, 3)),
    "SparseTopKCategoricalAccuracy": (lambda k: k.metrics.SparseTopKCategoricalAccuracy(
        k=2, name="top2"), I(4, 6), P(6, 4)),
    "SpecificityAtSensitivity": (lambda k: k.metrics.SpecificityAtSensitivity(
        0.7, num_thresholds=15, class_id=1), B(6, 2), P(6, 2)),
    "SquaredHinge": (lambda k: k.metrics.SquaredHinge(), B(6, 2), F(6, 2)),
    "Sum": (lambda k: k.metrics.Sum(dtype="float64"), None, F(6)),
    "TopKCategoricalAccuracy": (lambda k: k.metrics.TopKCategoricalAccuracy(k=2),
                                ONEHOT(6, 4), P(6, 4)),
    "TrueNegatives": (lambda k: k.metrics.TrueNegatives(thresholds=[0.5]), B(6, 1), P(6, 1)),
    "TruePositives": (lambda k: k.metrics.TruePositives(name="tp"), B(6, 1), P(6, 1)),
}

SCHEDULES = {
    "CosineDecay": lambda k: k.optimizers.schedules.CosineDecay(
        0.1, 10, alpha=0.1, name="cos", warmup_target=0.2, warmup_steps=3),
    "CosineDecay_defaults": lambda k: k.optimizers.schedules.CosineDecay(0.1, 10),
    "CosineDecayRestarts": lambda k: k.optimizers.schedules.CosineDecayRestarts(
        0.1, 4, t_mul=1.5, m_mul=0.8, alpha=0.05),
    "ExponentialDecay": lambda k: k.optimizers.schedules.ExponentialDecay(
        0.1, 5, 0.9, staircase=True, name="exp"),
    "InverseTimeDecay": lambda k: k.optimizers.schedules.InverseTimeDecay(0.2, 3, 0.5),
    "PiecewiseConstantDecay": lambda k: k.optimizers.schedules.PiecewiseConstantDecay(
        [3, 6], [0.3, 0.2, 0.1]),
    "PolynomialDecay": lambda k: k.optimizers.schedules.PolynomialDecay(
        0.1, 8, end_learning_rate=0.01, power=2.0, cycle=True),
}

OPTIMIZERS = {
    "Adadelta": lambda k: k.optimizers.Adadelta(learning_rate=0.5, rho=0.9, epsilon=1e-6,
                                                weight_decay=0.01, clipnorm=1.0),
    "Adafactor": lambda k: k.optimizers.Adafactor(learning_rate=0.01, beta_2_decay=-0.7,
                                                  epsilon_1=1e-29, epsilon_2=0.01,
                                                  clip_threshold=0.9, relative_step=False),
    "Adagrad": lambda k: k.optimizers.Adagrad(learning_rate=0.1,
                                              initial_accumulator_value=0.2, epsilon=1e-5,
                                              clipvalue=0.5),
    "Adam": lambda k: k.optimizers.Adam(learning_rate=0.01, beta_1=0.8, beta_2=0.99,
                                        epsilon=1e-6, amsgrad=True, global_clipnorm=2.0,
                                        name="my_adam"),
    "Adam_schedule": lambda k: k.optimizers.Adam(
        learning_rate=k.optimizers.schedules.ExponentialDecay(0.1, 2, 0.5)),
    "Adam_ema": lambda k: k.optimizers.Adam(use_ema=True, ema_momentum=0.9,
                                            ema_overwrite_frequency=3, loss_scale_factor=2.0,
                                            gradient_accumulation_steps=2),
    "AdamW": lambda k: k.optimizers.AdamW(learning_rate=0.02, weight_decay=0.1, beta_1=0.7,
                                          amsgrad=True),
    "Adamax": lambda k: k.optimizers.Adamax(learning_rate=0.05, beta_1=0.8, beta_2=0.95),
    "Ftrl": lambda k: k.optimizers.Ftrl(learning_rate=0.1, learning_rate_power=-0.4,
                                        initial_accumulator_value=0.2,
                                        l1_regularization_strength=0.01,
                                        l2_regularization_strength=0.02,
                                        l2_shrinkage_regularization_strength=0.03, beta=0.1),
    "Lamb": lambda k: k.optimizers.Lamb(learning_rate=0.01, beta_1=0.8, epsilon=1e-6),
    "Lion": lambda k: k.optimizers.Lion(learning_rate=0.01, beta_1=0.8, beta_2=0.9,
                                        weight_decay=0.1),
    "Nadam": lambda k: k.optimizers.Nadam(learning_rate=0.02, beta_2=0.9),
    "RMSprop": lambda k: k.optimizers.RMSprop(learning_rate=0.01, rho=0.8, momentum=0.5,
                                              epsilon=1e-6, centered=True),
    "SGD": lambda k: k.optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True,
                                      weight_decay=0.01),
    "SGD_schedule": lambda k: k.optimizers.SGD(
        learning_rate=k.optimizers.schedules.PiecewiseConstantDecay([1], [0.1, 0.01])),
    "SGD_defaults": lambda k: k.optimizers.SGD(),
}

INITIALIZERS = {
    "Constant": lambda k: k.initializers.Constant(0.5),
    "GlorotNormal": lambda k: k.initializers.GlorotNormal(seed=1),
    "GlorotUniform": lambda k: k.initializers.GlorotUniform(seed=2),
    "HeNormal": lambda k: k.initializers.HeNormal(seed=3),
    "HeUniform": lambda k: k.initializers.HeUniform(seed=4),
    "Identity": lambda k: k.initializers.Identity(gain=2.0),
    "LecunNormal": lambda k: k.initializers.LecunNormal(seed=5),
    "LecunUniform": lambda k: k.initializers.LecunUniform(seed=6),
    "Ones": lambda k: k.initializers.Ones(),
    "Orthogonal": lambda k: k.initializers.Orthogonal(gain=0.5, seed=7),
    "RandomNormal": lambda k: k.initializers.RandomNormal(mean=1.0, stddev=0.2, seed=8),
    "RandomUniform": lambda k: k.initializers.RandomUniform(minval=-1.0, maxval=2.0, seed=9),
    "STFT": lambda k: k.initializers.STFT(side="imag", window="hamming", scaling="spectrum",
                                          periodic=True),
    "STFT_defaults": lambda k: k.initializers.STFT(),
    "TruncatedNormal": lambda k: k.initializers.TruncatedNormal(mean=0.5, stddev=0.1, seed=10),
    "VarianceScaling": lambda k: k.initializers.VarianceScaling(
        scale=2.0, mode="fan_avg", distribution="uniform", seed=11),
    "VarianceScaling_normal": lambda k: k.initializers.VarianceScaling(
        mode="fan_out", distribution="untruncated_normal", seed=12),
    "Zeros": lambda k: k.initializers.Zeros(),
}

REGULARIZERS = {
    "L1": lambda k: k.regularizers.L1(0.3),
    "L1L2": lambda k: k.regularizers.L1L2(l1=0.1, l2=0.2),
    "L2": lambda k: k.regularizers.L2(0.05),
    "OrthogonalRegularizer": lambda k: k.regularizers.OrthogonalRegularizer(factor=0.2,
                                                                            mode="columns"),
}

CONSTRAINTS = {
    "MaxNorm": lambda k: k.constraints.MaxNorm(max_value=1.5, axis=1),
    "MinMaxNorm": lambda k: k.constraints.MinMaxNorm(min_value=0.5, max_value=1.2, rate=0.5,
                                                     axis=[0, 1]),
    "NonNeg": lambda k: k.constraints.NonNeg(),
    "UnitNorm": lambda k: k.constraints.UnitNorm(axis=1),
}

# classes that take required arguments: the fewest arguments Keras accepts (their defaults)
MINIMAL = {
    "layers": {"Activation": ("relu",), "AlphaDropout": (0.1,), "AveragePooling1D": (2,),
               "AveragePooling2D": (2,), "AveragePooling3D": (2,), "Conv1D": (2, 3),
               "Conv1DTranspose": (2, 3), "Conv2D": (2, 3), "Conv2DTranspose": (2, 3),
               "Conv3D": (2, 3), "Conv3DTranspose": (2, 3), "ConvLSTM1D": (2, 3),
               "ConvLSTM2D": (2, 3), "ConvLSTM3D": (2, 3), "Dense": (2,),
               "DepthwiseConv1D": (3,), "DepthwiseConv2D": (3,), "Dot": (1,),
               "Dropout": (0.5,), "EinsumDense": ("ab,bc->ac", 3), "Embedding": (5, 2),
               "GRU": (2,), "GRUCell": (2,), "GaussianDropout": (0.5,), "GaussianNoise": (0.5,),
               "LSTM": (2,), "LSTMCell": (2,), "MultiHeadAttention": (2, 3),
               "Permute": ((2, 1),), "RepeatVector": (2,), "Reshape": ((2, 3),),
               "SeparableConv1D": (2, 3), "SeparableConv2D": (2, 3), "SimpleRNN": (2,),
               "SimpleRNNCell": (2,), "SpatialDropout1D": (0.5,), "SpatialDropout2D": (0.5,),
               "SpatialDropout3D": (0.5,), "InputLayer": ((3,),)},
    "metrics": {"IoU": (3, [1]), "MeanIoU": (3,), "OneHotIoU": (3, [1]), "OneHotMeanIoU": (3,),
                "PrecisionAtRecall": (0.5,), "RecallAtPrecision": (0.5,),
                "SensitivityAtSpecificity": (0.5,), "SpecificityAtSensitivity": (0.5,)},
    "optimizers.schedules": {"CosineDecay": (0.1, 10), "CosineDecayRestarts": (0.1, 10),
                             "ExponentialDecay": (0.1, 10, 0.9),
                             "InverseTimeDecay": (0.1, 10, 0.9),
                             "PiecewiseConstantDecay": ([2], [0.1, 0.01]),
                             "PolynomialDecay": (0.1, 10)},
}

# abstract bases (or holders of other objects) with no behaviour of their own to round trip;
# their configs are checked separately below
BASES = {"layers": {"InputSpec"}, "losses": {"Loss"}, "optimizers": {"Optimizer"},
         "optimizers.schedules": {"LearningRateSchedule"}, "initializers": {"Initializer"},
         "regularizers": {"Regularizer"}, "constraints": {"Constraint"},
         "metrics": {"Metric"}}

# classes made around another object (a layer, a cell, a function) or with no config: their
# table cases only, not the minimal-arguments round trip
NEEDS_OBJECT = {"Bidirectional", "RNN", "StackedRNNCells", "TimeDistributed", "Wrapper",
                "Lambda", "MeanMetricWrapper", "LossFunctionWrapper", "Reduction"}

# keys written here that Keras 3.15 leaves out of these configs (a Keras-loaded object falls
# back to the default); Keras's from_config reads them back: (namespace, class) -> keys
KEPT_BEYOND_KERAS = {("losses", "Huber"): ("delta",), ("losses", "CosineSimilarity"): ("axis",)}

# arguments Keras 3.15's get_config leaves out and that are left out here too (its from_config
# then uses the default), so a clone behaves as the object built without that argument, in
# both libraries: (namespace, case) -> the case's object without that argument
KERAS_DROPS = {
    ("metrics", "CosineSimilarity"): lambda k: k.metrics.CosineSimilarity(),  # axis
    ("initializers", "Identity"): lambda k: k.initializers.Identity(),  # gain
}


def without_dropped(ns, name, make):
    """What `make`'s object becomes through its config: itself, or for a case in KERAS_DROPS
    the object built without the argument Keras does not write."""
    return KERAS_DROPS.get((ns, name), make)(keras)


TABLES = {"layers": LAYERS, "losses": LOSSES, "metrics": METRICS, "optimizers": OPTIMIZERS,
          "optimizers.schedules": SCHEDULES, "initializers": INITIALIZERS,
          "regularizers": REGULARIZERS, "constraints": CONSTRAINTS}


def namespace(k, name):
    for part in name.split("."):
        k = getattr(k, part)
    return k


def public_classes(module):
    """{class: [public names]} of a namespace module (aliases share one class)."""
    found = {}
    for name in sorted(dir(module)):
        value = getattr(module, name)
        if inspect.isclass(value) and not name.startswith("_"):
            found.setdefault(value, []).append(name)
    return found


def case_class(k, ns, case_name):
    return getattr(namespace(k, ns), case_name.split("_")[0])


def minimal_cases(k):
    """(namespace, class name, args) for every public class of `k`'s namespaces, made from
    its MINIMAL arguments (none for most), other than BASES and NEEDS_OBJECT."""
    cases = []
    for ns in NAMESPACES:
        for cls, names in public_classes(namespace(k, ns)).items():
            name = cls.__name__ if cls.__name__ in names else names[0]
            if name in BASES.get(ns, ()) or name in NEEDS_OBJECT:
                continue
            args = MINIMAL.get(ns, {}).get(name, ())
            cases.append((ns, name, args))
    return cases


def plain(config):
    return json.loads(json.dumps(config))


def as_tensors(x):
    return [tf.constant(a) for a in x] if isinstance(x, list) else tf.constant(x)


def run_layer(case, layer, x):
    call = case.call or (lambda lay, t: lay(t))
    out = call(layer, as_tensors(x))
    return np.asarray(out)


CUSTOM = {"named_double": named_double}


# -- the tables cover every public class -------------------------------------------------------

@pytest.mark.parametrize("ns", NAMESPACES)
def test_every_public_class_has_a_case(ns):
    ours = namespace(keras, ns)
    covered = {case_class(keras, ns, name) for name in TABLES[ns]}
    missing = []
    for cls, names in public_classes(ours).items():
        if cls in covered or set(names) & BASES.get(ns, set()):
            continue
        if ns == "losses" and cls.__name__ in ("LossFunctionWrapper", "Reduction"):
            continue  # tf.keras 2 names kept here (the wrapper is checked below)
        missing.append(names)
    assert not missing, missing


# -- layers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_round_trip(name):
    case = LAYERS[name]
    layer = case.make(keras)
    unbuilt = layer.get_config()
    json.dumps(unbuilt)
    x = None
    if case.inputs is not None:
        x = make_inputs(case.inputs)
        expected = run_layer(case, layer, x)
    elif case.build is not None:
        layer.build(case.build)
    config = layer.get_config()
    written = json.dumps(config)
    with keras.saving.custom_object_scope(CUSTOM):
        clone = type(layer).from_config(config)
        clone_from_json = type(layer).from_config(json.loads(json.dumps(config)))
        deserialized = keras.layers.deserialize(keras.layers.serialize(layer))
        from_unbuilt = type(layer).from_config(unbuilt)
    assert json.dumps(config) == written  # from_config leaves its argument alone
    for other in (clone, clone_from_json, deserialized):
        assert type(other) is type(layer)
        assert plain(other.get_config()) == plain(config)
    assert plain(from_unbuilt.get_config()) == plain(unbuilt)
    if x is not None:
        for other in (clone, clone_from_json):
            run_layer(case, other, x)
            other.set_weights(layer.get_weights())
            assert [w.name for w in other.weights] == [w.name for w in layer.weights]
            assert [w.trainable for w in other.weights] == [w.trainable for w in layer.weights]
            np.testing.assert_allclose(run_layer(case, other, x), expected, rtol=1e-6,
                                       atol=1e-6)


def test_lambda_round_trip_unbuilt():
    layer = keras.layers.Lambda(named_double, output_shape=(3,), arguments={})
    with keras.saving.custom_object_scope(CUSTOM):
        clone = keras.layers.Lambda.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    np.testing.assert_allclose(clone(tf.constant([[1.0, 2.0, 3.0]])).numpy(), [[2.0, 4.0, 6.0]])


def test_layers_serialize_deserialize():
    layer = keras.layers.Dense(3, activation="relu", name="dd")
    serialized = keras.layers.serialize(layer)
    assert serialized["module"] == "keras.layers" and serialized["class_name"] == "Dense"
    assert serialized["registered_name"] is None
    assert serialized["config"]["name"] == "dd"
    assert keras.layers.deserialize(serialized).get_config() == layer.get_config()
    for not_a_layer in ("relu", None, keras.initializers.serialize(keras.initializers.Zeros())):
        with pytest.raises(ValueError, match="not a `keras.layers.Layer`"):
            keras.layers.deserialize(not_a_layer)


# -- losses ------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_round_trip(name):
    make, true_spec, pred_spec = LOSSES[name]
    loss = make(keras)
    config = loss.get_config()
    clone = type(loss).from_config(json.loads(json.dumps(config)))
    assert plain(clone.get_config()) == plain(config)
    assert plain(keras.losses.deserialize(keras.losses.serialize(loss)).get_config()) == \
        plain(config)
    y_true, y_pred = make_inputs(true_spec, 1), make_inputs(pred_spec, 2)
    expected = without_dropped("losses", name, make)
    np.testing.assert_allclose(np.asarray(clone(y_true, y_pred)),
                               np.asarray(expected(y_true, y_pred)), rtol=1e-6)


def test_loss_function_wrapper_and_base_loss():
    wrapper = keras.losses.LossFunctionWrapper(keras.losses.huber, name="w", reduction="sum",
                                               delta=0.3)
    config = wrapper.get_config()
    json.dumps(config)
    clone = keras.losses.LossFunctionWrapper.from_config(config)
    assert clone.get_config() == config
    y_true, y_pred = make_inputs(REG_TRUE, 1), make_inputs(REG_PRED, 2)
    np.testing.assert_allclose(np.asarray(clone(y_true, y_pred)),
                               np.asarray(wrapper(y_true, y_pred)), rtol=1e-6)
    base = keras.losses.Loss(name="x", reduction="sum")
    assert base.get_config() == {"name": "x", "reduction": "sum"}
    assert keras.losses.Loss.from_config(base.get_config()).get_config() == base.get_config()


# -- metrics -----------------------------------------------------------------------------------

def _update(metric, true_spec, pred_spec):
    y_pred = make_inputs(pred_spec, 2)
    if true_spec is None:
        metric.update_state(y_pred)
    else:
        metric.update_state(make_inputs(true_spec, 1), y_pred)
    return np.asarray(metric.result())


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metric_round_trip(name):
    make, true_spec, pred_spec = METRICS[name]
    metric = make(keras)
    config = metric.get_config()
    json.dumps(config)
    clone = type(metric).from_config(json.loads(json.dumps(config)))
    assert plain(clone.get_config()) == plain(config)
    assert clone.name == metric.name and clone.dtype == metric.dtype
    for attribute in ("thresholds", "threshold", "num_thresholds", "class_id", "top_k"):
        if hasattr(metric, attribute):
            np.testing.assert_array_equal(np.asarray(getattr(clone, attribute), dtype=object),
                                          np.asarray(getattr(metric, attribute), dtype=object))
    assert plain(keras.metrics.deserialize(keras.metrics.serialize(metric)).get_config()) == \
        plain(config)
    if pred_spec is not None:
        expected = without_dropped("metrics", name, make)
        np.testing.assert_allclose(_update(clone, true_spec, pred_spec),
                                   _update(expected, true_spec, pred_spec), rtol=1e-6)
        _update(metric, true_spec, pred_spec)
        assert metric.get_config() == config  # updating the state leaves the config alone


# -- optimizers and schedules ------------------------------------------------------------------

def _train(optimizer, steps=3):
    variable = tf.Variable(np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(2, 3))
    for step in range(steps):
        gradient = tf.constant(np.cos(np.arange(6, dtype=np.float32) + step).reshape(2, 3))
        optimizer.apply_gradients([(gradient, variable)])
    return variable.numpy()


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_round_trip(name):
    optimizer = OPTIMIZERS[name](keras)
    config = optimizer.get_config()
    read = json.loads(json.dumps(config))
    clone = type(optimizer).from_config(read)
    assert read == json.loads(json.dumps(config))  # from_config leaves its argument alone
    assert clone.get_config() == config
    assert keras.optimizers.deserialize(keras.optimizers.serialize(optimizer)).get_config() \
        == config
    schedule = optimizer._learning_rate
    if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
        assert type(clone._learning_rate) is type(schedule)
        assert clone._learning_rate.get_config() == schedule.get_config()
    else:
        assert float(clone.learning_rate.numpy()) == float(optimizer.learning_rate.numpy())
    np.testing.assert_allclose(_train(clone), _train(optimizer), rtol=1e-6)
    assert optimizer.get_config() == config  # training leaves the hyperparameters alone


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_round_trip(name):
    schedule = SCHEDULES[name](keras)
    config = schedule.get_config()
    json.dumps(config)
    clone = type(schedule).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(schedule))
    assert again.get_config() == config
    for step in range(0, 14, 3):
        np.testing.assert_allclose(np.asarray(clone(step)), np.asarray(schedule(step)),
                                   rtol=1e-7)


def test_abstract_bases():
    assert keras.initializers.Initializer().get_config() == {}
    assert keras.constraints.Constraint().get_config() == {}
    with pytest.raises(NotImplementedError):
        keras.regularizers.Regularizer().get_config()
    with pytest.raises(NotImplementedError):
        keras.optimizers.schedules.LearningRateSchedule().get_config()
    metric = keras.metrics.Metric(name="base", dtype="float64")
    assert metric.get_config() == {"name": "base", "dtype": "float64"}
    optimizer = keras.optimizers.Optimizer(learning_rate=0.5, name="o", clipnorm=1.0)
    config = optimizer.get_config()
    assert config["name"] == "o" and config["learning_rate"] == 0.5 and \
        config["clipnorm"] == 1.0


# -- initializers, regularizers, constraints ---------------------------------------------------

@pytest.mark.parametrize("name", sorted(INITIALIZERS))
def test_initializer_round_trip(name):
    initializer = INITIALIZERS[name](keras)
    config = initializer.get_config()
    clone = type(initializer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert keras.initializers.deserialize(keras.initializers.serialize(initializer)) \
        .get_config() == config
    assert keras.initializers.get(keras.initializers.serialize(initializer)).get_config() \
        == config
    shape = (8, 1, 5) if name.startswith("STFT") else (4, 3)
    expected = without_dropped("initializers", name, INITIALIZERS[name])
    np.testing.assert_array_equal(np.asarray(clone(shape)), np.asarray(expected(shape)))


W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)


@pytest.mark.parametrize("name", sorted(REGULARIZERS))
def test_regularizer_round_trip(name):
    regularizer = REGULARIZERS[name](keras)
    config = regularizer.get_config()
    clone = type(regularizer).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert keras.regularizers.get(keras.regularizers.serialize(regularizer)).get_config() \
        == config
    np.testing.assert_allclose(np.asarray(clone(tf.constant(W))),
                               np.asarray(regularizer(tf.constant(W))), rtol=1e-7)


@pytest.mark.parametrize("name", sorted(CONSTRAINTS))
def test_constraint_round_trip(name):
    constraint = CONSTRAINTS[name](keras)
    config = constraint.get_config()
    clone = type(constraint).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config
    assert keras.constraints.get(keras.constraints.serialize(constraint)).get_config() == config
    np.testing.assert_allclose(np.asarray(clone(tf.constant(W))),
                               np.asarray(constraint(tf.constant(W))), rtol=1e-7)


# -- every class from its minimal (default) arguments -----------------------------------------

@pytest.mark.parametrize("ns,name,args", minimal_cases(keras),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_minimal_arguments_round_trip(ns, name, args):
    obj = getattr(namespace(keras, ns), name)(*args)
    config = obj.get_config()
    json.dumps(config)
    clone = type(obj).from_config(json.loads(json.dumps(config)))
    assert clone.get_config() == config


# -- activations -------------------------------------------------------------------------------

ACTIVATIONS = sorted(n for n in dir(activations) if not n.startswith("_")
                     and inspect.isfunction(getattr(activations, n))
                     and n not in ("serialize", "deserialize", "get"))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_serialize_round_trip(name):
    fn = getattr(activations, name)
    serialized = activations.serialize(fn)
    assert isinstance(serialized, str)
    found = activations.deserialize(serialized)
    assert activations.get(serialized) is found
    # Keras 3's dict for a built-in function deserializes too
    assert activations.deserialize({"module": "builtins", "class_name": "function",
                                    "config": serialized, "registered_name": "function"}) \
        is found
    x = tf.constant(np.linspace(-3.0, 3.0, 12, dtype=np.float32).reshape(3, 4))
    args = (0.5, -1.0) if name == "threshold" else ()
    np.testing.assert_allclose(np.asarray(found(x, *args)), np.asarray(fn(x, *args)),
                               rtol=1e-7)
    layer = keras.layers.Dense(2, activation=name)
    assert layer.get_config()["activation"] == serialized
    assert keras.layers.Dense.from_config(layer.get_config()).activation is found
