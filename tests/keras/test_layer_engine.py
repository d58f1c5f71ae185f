"""keras.layers.Layer: build, weights and their tracking, losses, training, masks, names."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras


class Affine(keras.layers.Layer):
    """A Dense-like layer written as a user would, with weights made in build."""

    def __init__(self, units=3, regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.regularizer = regularizer
        self.build_shapes = []

    def build(self, input_shape):
        self.build_shapes.append(input_shape)
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones",
                                 regularizer=self.regularizer, name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, x):
        return tf.matmul(x, self.w) + self.b


class Counter(keras.layers.Layer):
    def build(self, input_shape):
        self.count = self.add_weight(shape=(), initializer="zeros", trainable=False, name="n")
        self.scale = self.add_weight(shape=(), initializer="ones", name="scale")

    def call(self, x):
        self.count.assign_add(1.0)
        return x * self.scale


def setup_function():
    keras.backend.clear_session()


def test_build_is_called_once_with_the_input_shape_and_sets_built():
    layer = Affine(2)
    assert not layer.built and layer.weights == []
    layer(np.ones((4, 5)))
    layer(np.ones((7, 5)))
    assert layer.built and layer.build_shapes == [(4, 5)]
    assert [w.shape.as_list() for w in layer.weights] == [[5, 2], [2]]
    assert [w.name for w in layer.weights] == ["w", "b"]
    assert [w.path for w in layer.weights] == ["affine/w", "affine/b"]


def test_numpy_inputs_are_converted_to_the_layer_dtype():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x):
            seen.append(x.dtype)
            return x

    Probe()(np.ones((2, 2)))  # float64 NumPy -> float32
    Probe()(np.ones((2, 2), np.int64))
    Probe(dtype="float64")(tf.ones((2, 2)))
    assert seen == [tf.float32, tf.int64, tf.float64]


def test_weights_are_trainable_first_then_non_trainable_and_sub_layers_after():
    outer = Counter()

    class Outer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Affine(2)
            self.own = tf.Variable(1.0, trainable=False)

        def call(self, x):
            return self.inner(x) * self.own

    outer = Outer()
    outer(np.ones((1, 3)))
    assert [w.name for w in outer.weights] == ["Variable:0", "w", "b"]
    assert outer.trainable_weights == [outer.inner.w, outer.inner.b]
    assert outer.non_trainable_weights == [outer.own]
    counter = Counter()
    counter(np.ones(2))
    assert [w.name for w in counter.weights] == ["scale", "n"]
    assert counter.variables == counter.weights
    assert counter.trainable_variables == [counter.scale]


def test_layers_and_variables_in_lists_dicts_and_tuples_are_tracked_even_when_added_later():
    class Holder(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.blocks = [Affine(2), Affine(2)]
            self.by_name = {"a": Affine(2)}
            self.pair = (tf.Variable(1.0), Affine(2))
            self.numbers = [1, 2, 3]

        def call(self, x):
            return x

    holder = Holder()
    holder.blocks.append(Affine(2))
    holder.by_name["b"] = Affine(2)
    assert len(holder._layers) == 6
    assert holder.numbers == [1, 2, 3] and type(holder.numbers) is list
    for layer in holder._layers:
        layer(np.ones((1, 2)))
    assert len(holder.weights) == 1 + 6 * 2
    holder.blocks = []  # reassigning forgets what the old value held
    assert len(holder._layers) == 3


def test_freezing_moves_weights_to_non_trainable_recursively():
    class Outer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.inner = Affine(2)

        def call(self, x):
            return self.inner(x)

    outer = Outer()
    outer(np.ones((1, 2)))
    outer.trainable = False
    assert outer.trainable_weights == [] and len(outer.non_trainable_weights) == 2
    assert not outer.inner.trainable and not outer.inner.w.trainable
    with tf.GradientTape() as tape:
        y = tf.reduce_sum(outer(np.ones((1, 2))))
    assert tape.watched_variables() == ()
    outer.trainable = True
    assert len(outer.trainable_weights) == 2


def test_set_weights_checks_every_shape_before_changing_anything():
    layer = Affine(2)
    layer(np.ones((1, 3)))
    before = layer.get_weights()
    with pytest.raises(ValueError, match="weight shape"):
        layer.set_weights([np.zeros((3, 2)), np.zeros((5,))])
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="expecting 2 weights"):
        layer.set_weights([np.zeros((3, 2))])
    layer.set_weights([np.full((3, 2), 2.0), np.ones(2)])
    np.testing.assert_array_equal(layer(np.ones((1, 3))).numpy(), [[7.0, 7.0]])


def test_losses_reset_on_every_call_and_include_weight_regularizers():
    class ActivityLoss(keras.layers.Layer):
        def call(self, x):
            self.add_loss(tf.reduce_sum(x))
            return x

    class Net(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.act = ActivityLoss()
            self.affine = Affine(2, regularizer=lambda w: tf.reduce_sum(w) * 0.5)

        def call(self, x):
            return self.affine(self.act(x))

    net = Net()
    net(np.ones((2, 3)))
    assert len(net.losses) == 2
    net(np.ones((2, 3)))
    assert len(net.losses) == 2
    np.testing.assert_allclose([float(l) for l in net.losses], [6.0, 3.0])
    assert len(net.act.losses) == 1


def test_activity_regularizer_loss_is_divided_by_the_batch_size():
    layer = Affine(2, activity_regularizer=lambda y: tf.reduce_sum(tf.abs(y)))
    layer(np.ones((4, 3)))
    np.testing.assert_allclose(float(layer.losses[0]), 4 * 2 * 3 / 4)


def test_training_flows_from_the_outer_call_to_nested_layers():
    seen = []

    class Leaf(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class DefaultTrue(keras.layers.Layer):
        def call(self, x, training=True):
            seen.append(training)
            return x

    class Branch(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.leaf = Leaf()
            self.fixed = Leaf()

        def call(self, x):  # no training argument: the value still reaches the leaves
            return self.fixed(self.leaf(x), training=False)

    branch = Branch()
    branch(np.ones(1), training=True)
    branch(np.ones(1))
    DefaultTrue()(np.ones(1))
    assert seen == [True, False, None, False, True]


def test_masks_flow_to_layers_that_accept_them():
    class MakeMask(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.supports_masking = True

        def call(self, x):
            return x

        def compute_mask(self, x, mask=None):
            return tf.not_equal(x, 0)

    got = []

    class UseMask(keras.layers.Layer):
        def call(self, x, mask=None):
            got.append(None if mask is None else mask.numpy().tolist())
            return x

    y = MakeMask()(np.array([1.0, 0.0, 2.0]))
    assert y._keras_mask.numpy().tolist() == [True, False, True]
    UseMask()(y)
    UseMask()(np.ones(2))
    assert got == [[True, False, True], None]


def test_names_are_unique_per_class_and_reset_by_clear_session():
    assert [Affine().name, Affine().name, Counter().name] == ["affine", "affine_1", "counter"]
    keras.backend.clear_session()
    assert Affine().name == "affine"
    with pytest.raises(ValueError, match="cannot contain character `/`"):
        Affine(name="a/b")
    with pytest.raises(ValueError, match="Unrecognized keyword arguments passed to Affine"):
        Affine(foo=1)


def test_input_spec_rejects_incompatible_inputs_with_the_layer_named():
    class Strict(Affine):
        def build(self, input_shape):
            super().build(input_shape)
            self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    layer = Strict(2, name="strict")
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match='layer "strict" is incompatible.*axis -1 of input shape '
                                         r'to have value 3.*\(2, 4\)'):
        layer(np.ones((2, 4)))
    with pytest.raises(ValueError, match="expected min_ndim=2, found ndim=1"):
        layer(np.ones(3))


def test_call_runs_through_autograph_inside_tf_function():
    class Halve(keras.layers.Layer):
        def call(self, x):
            while tf.norm(x) > 1:
                x /= 2
            if tf.norm(x) < 0.8:
                x *= 10
            return x

    layer = Halve()
    eager = layer(tf.constant([3.0, 4.0]))
    compiled = tf.function(lambda x: layer(x))(tf.constant([3.0, 4.0]))
    np.testing.assert_allclose(compiled.numpy(), eager.numpy())
    np.testing.assert_allclose(eager.numpy(), [3.75, 5.0])


def test_count_params_and_get_config_round_trip():
    layer = Affine(4, name="aff")
    with pytest.raises(ValueError, match="isn't built"):
        layer.count_params()
    layer(np.ones((1, 2)))
    assert layer.count_params() == 12
    config = layer.get_config()
    assert config["units"] == 4 and config["name"] == "aff" and config["trainable"] is True
    clone = Affine.from_config(config)
    assert clone.units == 4 and clone.name == "aff"


def test_add_weight_arguments_and_errors():
    layer = keras.layers.Layer()
    w = layer.add_weight(shape=(2,), initializer=keras.initializers.Constant(3.0),
                         constraint=lambda v: v, dtype="float64", trainable=False, name="c")
    assert w.dtype == tf.float64 and not w.trainable and w.constraint is not None
    np.testing.assert_array_equal(w.numpy(), [3.0, 3.0])
    with pytest.raises(ValueError, match="unknown dimension"):
        layer.add_weight(shape=(None, 2))


def test_several_inputs_and_outputs_symbolic_and_concrete():
    class MyMultiLayer(keras.layers.Layer):
        def call(self, X):
            X1, X2 = X
            return X1 + X2, X1 * X2, X1 / X2

    a, b = keras.Input(shape=[2]), keras.Input(shape=[2])
    outs = MyMultiLayer()((a, b))
    assert [o.shape for o in outs] == [(None, 2)] * 3
    X1, X2 = np.array([[3., 6.], [2., 7.]]), np.array([[6., 12.], [4., 3.]])
    s, p, q = MyMultiLayer()((X1, X2))
    np.testing.assert_allclose(s.numpy(), X1 + X2)
    np.testing.assert_allclose(q.numpy(), X1 / X2, rtol=1e-6)
    assert s.dtype == tf.float32


def test_build_and_compute_output_shape_with_several_arguments_get_each_inputs_shape():
    seen = []

    class Pair(keras.layers.Layer):
        def build(self, query_shape, value_shape):
            seen.append((query_shape, value_shape))
            self.w = self.add_weight(shape=(value_shape[-1], query_shape[-1]))

        def call(self, query, value):
            return query + tf.reduce_mean(tf.matmul(value, self.w), axis=1, keepdims=True)

        def compute_output_shape(self, query_shape, value_shape):
            return query_shape

    out = Pair()(np.ones((2, 3, 4), "float32"), np.ones((2, 5, 6), "float32"))
    assert seen == [((2, 3, 4), (2, 5, 6))] and out.shape == (2, 3, 4)
    symbolic = Pair()(keras.Input((3, 4)), value=keras.Input((5, 6)))
    assert seen[-1] == ((None, 3, 4), (None, 5, 6)) and symbolic.shape == (None, 3, 4)

    class Misnamed(keras.layers.Layer):
        def build(self, input_shape, extra):
            pass

        def call(self, inputs):
            return inputs
    with pytest.raises(ValueError, match="should have a `_shape` suffix"):
        Misnamed()(np.ones((1, 2), "float32"))


def test_masks_of_several_tensor_arguments_go_to_their_argument_mask_parameters():
    seen = {}

    class TwoInputs(keras.layers.Layer):
        def call(self, query, value, query_mask=None, value_mask=None, mask=None):
            seen.update(query_mask=query_mask, value_mask=value_mask, mask=mask)
            return query

    embed = keras.layers.Embedding(10, 3, mask_zero=True)
    query, value = embed(np.array([[1, 0, 2]])), embed(np.array([[0, 4]]))
    TwoInputs()(query, value)
    np.testing.assert_array_equal(seen["query_mask"].numpy(), [[True, False, True]])
    np.testing.assert_array_equal(seen["value_mask"].numpy(), [[False, True]])
    assert seen["mask"] is None  # `mask` is filled only for a single tensor argument, as Keras 3


def test_unnamed_weights_are_numbered_as_keras_names_them():
    keras.backend.clear_session()

    class Unnamed(keras.layers.Layer):
        def build(self, input_shape):
            self.a = self.add_weight(shape=(2,))
            self.b = self.add_weight(shape=(2,))

    layer = Unnamed()
    layer.build((1,))
    assert [w.name for w in layer.weights] == ["variable", "variable_1"]
    assert [w.path for w in layer.weights] == ["unnamed/variable", "unnamed/variable_1"]
    assert keras.Variable(1.0).name == "variable_2"
