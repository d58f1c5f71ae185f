"""Functional models: graphs of layer calls on keras.Input tensors."""
import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import layers


def setup_function():
    keras.backend.clear_session()


def _two_input_model():
    a = keras.Input((4,), name="a")
    b = keras.Input((3,), name="b")
    h = layers.Dense(5, name="ha")(a)
    g = layers.Dense(5, name="hb")(b)
    s = h + g
    out1 = layers.Dense(1, name="out1")(s)
    out2 = layers.Dense(2, name="out2")(s * 2.0)
    return keras.Model(inputs=[a, b], outputs=[out1, out2], name="two")


def test_multiple_inputs_and_outputs_as_lists_and_dicts_by_input_name():
    model = _two_input_model()
    xa, xb = np.random.rand(6, 4), np.random.rand(6, 3)
    y1, y2 = model([xa, xb])
    assert y1.shape == (6, 1) and y2.shape == (6, 2)
    z1, z2 = model({"a": xa, "b": xb})
    np.testing.assert_allclose(z1.numpy(), y1.numpy())
    np.testing.assert_allclose(z2.numpy(), y2.numpy())
    assert [l.name for l in model.layers] == ["a", "b", "ha", "hb", "add", "multiply", "out1",
                                              "out2"] or len(model.layers) == 8
    assert model.input_names == ["a", "b"] and len(model.inputs) == 2
    assert model.output is model._outputs_struct and len(model.outputs) == 2
    with pytest.raises(ValueError, match=r"Missing data for input\(s\) \['b'\]"):
        model({"a": xa})


def test_dict_inputs_and_outputs():
    inputs = {"x": keras.Input((2,), name="x"), "y": keras.Input((2,), name="y")}
    total = layers.Dense(1, kernel_initializer="ones", use_bias=False)(inputs["x"] + inputs["y"])
    model = keras.Model(inputs, {"total": total, "x": inputs["x"]})
    out = model({"y": np.ones((1, 2)), "x": np.full((1, 2), 2.0)})
    assert set(out) == {"total", "x"}
    np.testing.assert_allclose(out["total"].numpy(), [[6.0]])


def test_shared_layers_record_several_nodes_and_share_weights():
    shared = layers.Dense(3, name="shared")
    a, b = keras.Input((2,)), keras.Input((2,))
    model = keras.Model([a, b], [shared(a), shared(b)])
    assert len(shared._inbound_nodes) == 2 and len(model.weights) == 2
    x = np.random.rand(2, 2)
    ya, yb = model([x, x])
    np.testing.assert_allclose(ya.numpy(), yb.numpy())
    with pytest.raises(AttributeError, match="multiple inbound nodes"):
        shared.output


def test_nested_models_and_ensembles_average_their_members():
    def get_model():
        inputs = keras.Input(shape=(8,))
        outputs = layers.Dense(1, activation="sigmoid")(inputs)
        return keras.Model(inputs, outputs)

    members = [get_model() for _ in range(3)]
    inputs = keras.Input(shape=(8,))
    outputs = (members[0](inputs) + members[1](inputs) + members[2](inputs)) / 3.0
    ensemble = keras.Model(inputs, outputs)
    x = np.random.rand(5, 8).astype("float32")
    expected = sum(m(x).numpy() for m in members) / 3
    np.testing.assert_allclose(ensemble(x).numpy(), expected, rtol=1e-6)
    assert len(ensemble.weights) == 6


def test_feature_extraction_from_intermediate_outputs():
    inputs = keras.Input((4,))
    hidden = layers.Dense(3, name="hidden")(inputs)
    outputs = layers.Dense(1)(hidden)
    model = keras.Model(inputs, outputs)
    features = keras.Model(model.input, model.get_layer("hidden").output)
    x = np.random.rand(2, 4)
    np.testing.assert_allclose(features(x).numpy(), model.get_layer("hidden")(x).numpy())
    assert model.get_layer(index=1) is model.get_layer("hidden")
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="only has 3 layers"):
        model.get_layer(index=7)
    layer = model.get_layer("hidden")
    assert layer.input_shape == (None, 4) and layer.output_shape == (None, 3)
    assert layer.input is inputs


def test_graph_errors_are_raised_where_the_model_is_made():
    a, b = keras.Input((2,), name="ina"), keras.Input((2,), name="inb")
    out = layers.Dense(1)(a + b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)
    hidden = layers.Dense(2)(a)
    with pytest.raises(ValueError, match="must come from `keras.Input`"):
        keras.Model(hidden, layers.Dense(1)(hidden))
    x = layers.Dense(2, name="same")(a)
    y = layers.Dense(2, name="same")(x)
    with pytest.raises(ValueError, match='The name "same" is used 2 times'):
        keras.Model(a, y)
    with pytest.raises(ValueError, match="must be KerasTensors"):
        keras.Model(a, np.ones(2))


def test_keras_tensors_refuse_tensorflow_functions_with_a_clear_error():
    x = keras.Input((3,))
    with pytest.raises(ValueError, match="A KerasTensor cannot be used as input to a TensorFlow "
                                         "function"):
        tf.exp(x)
    y = x[:, 1:] * 2 - 1
    assert y.shape == (None, 2)
    model = keras.Model(x, y)
    np.testing.assert_allclose(model(np.array([[1.0, 2.0, 3.0]])).numpy(), [[3.0, 5.0]])


def test_training_reaches_layers_and_the_model_runs_in_tf_function():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    inputs = keras.Input((2,))
    model = keras.Model(inputs, layers.Dense(1)(Probe()(inputs)))
    seen.clear()
    model(np.ones((1, 2)), training=True)
    model(np.ones((1, 2)))
    assert seen == [True, None]
    compiled = tf.function(lambda x: model(x, training=False))
    np.testing.assert_allclose(compiled(tf.ones((2, 2))).numpy(), model(np.ones((2, 2))).numpy())


def test_subclass_passing_inputs_and_outputs_to_super_is_functional():
    class Wrapped(keras.Model):
        def __init__(self):
            inputs = keras.Input((3,))
            super().__init__(inputs=inputs, outputs=layers.Dense(2)(inputs))
            self.tag = "wrapped"

    model = Wrapped()
    assert isinstance(model, keras.Model) and isinstance(model, keras.models.Functional)
    assert model(np.ones((1, 3))).shape == (1, 2) and model.tag == "wrapped"
    assert type(model).__name__ == "Wrapped"


def test_functional_model_called_on_wrong_shape_names_it():
    inputs = keras.Input((3,), name="x")
    model = keras.Model(inputs, layers.Dense(1)(inputs), name="m")
    with pytest.raises(ValueError, match='layer "m" is incompatible'):
        model(np.ones((2, 5)))
