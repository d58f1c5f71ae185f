"""keras.Sequential: add, pop, build, deferred build, nesting, errors."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import layers


def setup_function():
    keras.backend.clear_session()


def test_build_from_input_shape_creates_the_weights():
    model = keras.Sequential([layers.Dense(64, activation="relu"),
                              layers.Dense(10, activation="softmax")])
    assert not model.built and model.weights == []
    model.build(input_shape=(None, 3))
    assert [w.shape.as_list() for w in model.weights] == [[3, 64], [64], [64, 10], [10]]
    assert [w.path for w in model.weights][0] == "sequential/dense/kernel"
    assert model.count_params() == 906


def test_input_shape_on_the_first_layer_or_an_input_builds_at_once():
    model = keras.Sequential([layers.Dense(4, input_shape=(3,)), layers.Dense(2)])
    assert model.built and len(model.weights) == 4
    assert model.layers[0].output.shape == (None, 4)
    model2 = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert model2.built and len(model2.layers) == 1
    assert isinstance(model2.layers[0], layers.Dense)


def test_add_pop_and_deferred_build_on_first_call():
    model = keras.Sequential(name="stack")
    model.add(layers.Dense(4))
    model.add(layers.Dense(2))
    assert not model.built
    y = model(np.ones((5, 3)))
    assert y.shape == (5, 2) and model.built
    popped = model.pop()
    assert popped.name == "dense_1" and len(model.layers) == 1
    assert model(np.ones((5, 3))).shape == (5, 4)
    with pytest.raises(TypeError, match="no layers"):
        keras.Sequential().pop()


def test_nested_sequentials_and_subclassed_models_inside_a_sequential():
    class FancyMLP(keras.Model):
        def __init__(self):
            super().__init__()
            self.flatten = layers.Flatten()
            self.rand_weight = tf.constant(tf.random.uniform((20, 20)))
            self.dense = layers.Dense(units=20, activation=tf.nn.relu)

        def call(self, inputs):
            x = self.flatten(inputs)
            x = tf.nn.relu(tf.matmul(x, self.rand_weight) + 1)
            x = self.dense(x)
            while tf.norm(x) > 1:
                x /= 2
            if tf.norm(x) < 0.8:
                x *= 10
            return tf.reduce_sum(x)

    inner = keras.Sequential([layers.Dense(8), layers.Dense(20)])
    net = keras.Sequential([inner, FancyMLP()])
    value = net(tf.random.uniform((2, 20)))
    assert value.shape == ()
    assert 0.8 <= abs(float(value)) * 1.0 or float(value) == 0
    assert len(net.weights) == 6


def test_layer_with_two_inputs_is_refused_when_added():
    class TwoInputs(keras.layers.Layer):
        def call(self, a, b):
            return a + b

    with pytest.raises(ValueError, match="single positional argument"):
        keras.Sequential([layers.Dense(2), TwoInputs()])
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`"):
        keras.Sequential([lambda x: x])
    with pytest.raises(ValueError, match="unique names"):
        keras.Sequential([layers.Dense(2, name="d"), layers.Dense(2, name="d")])


def test_building_on_a_layer_that_takes_a_tuple_names_the_problem():
    class Split(keras.layers.Layer):
        def call(self, x):
            a, b = x
            return a + b

    model = keras.Sequential([layers.Dense(2), Split()])
    with pytest.raises(Exception) as caught:
        model.build((None, 3))
    assert "Sequential model" in "".join(getattr(caught.value, "__notes__", []))


def test_input_layer_first_and_config_round_trip():
    model = keras.Sequential([layers.InputLayer(input_shape=(3,)), layers.Dense(2)])
    assert model.built and model.input_shape == (None, 3) and model.output_shape == (None, 2)
    clone = keras.Sequential.from_config(model.get_config())
    assert clone.built and clone.count_params() == 8
    assert [type(l).__name__ for l in clone.layers] == ["Dense"]


def test_build_of_a_subclassed_model_creates_its_weights_once_named():
    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(3)

        def call(self, x):
            return self.d(x)

    model = Sub()
    model.build((None, 5))
    assert model.built and model.count_params() == 18
    assert model.weights[0].path == "sub/dense/kernel"
    assert model(np.ones((2, 5))).shape == (2, 3)
