"""Whole-model files and configs: `.keras` round trips (zip, directory, file object), JSON,
functional configs with shared and nested layers, clone_model, safe mode, and bad files giving
clear errors while the model in memory and the file on disk stay as they were."""
import io
import json
import os
import zipfile

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras
from tensorweave.keras import layers
from tensorweave.keras.saving import serialization


@pytest.fixture(autouse=True)
def fresh():
    keras.backend.clear_session()
    keras.utils.set_random_seed(1)


def x_data(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def shared_and_nested_model():
    """Two inputs; a Dense shared by both branches; a layer shared at two depths (A(B(A(x)))); a
    nested Sequential and a nested functional model used as layers."""
    a = keras.Input((4,), name="a")
    b = keras.Input((4,), name="b")
    shared = layers.Dense(4, activation="tanh", name="shared")
    twice = layers.Dense(4, name="twice")
    middle = layers.Dense(4, activation="relu", name="middle")
    branch = twice(middle(twice(shared(a))))
    inner_in = keras.Input((4,), name="inner_in")
    inner = keras.Model(inner_in, layers.Dense(3, name="inner_dense")(inner_in), name="inner")
    stack = keras.Sequential([layers.Dense(5, activation="relu"), layers.Dense(3)],
                             name="stack")
    merged = layers.Concatenate(name="cat")([inner(branch), stack(shared(b))])
    out = layers.Dense(2, name="out")(layers.BatchNormalization(name="bn")(merged))
    return keras.Model([a, b], out, name="shared_and_nested")


def assert_same_predictions(model, other, inputs):
    np.testing.assert_array_equal(model.predict(inputs, verbose=0),
                                  other.predict(inputs, verbose=0))


def test_functional_config_round_trip_keeps_shared_layers_and_nested_models():
    model = shared_and_nested_model()
    config = model.get_config()
    text = json.dumps(config)
    assert [layer["name"] for layer in config["layers"]] == [l.name for l in model.layers]
    twice = next(layer for layer in config["layers"] if layer["name"] == "twice")
    assert len(twice["inbound_nodes"]) == 2
    # in layer calls Keras 3 numbers a nested functional model's nodes from 0 as a
    # Sequential's (from 1 only in input_layers/output_layers)
    inner = next(layer for layer in config["layers"] if layer["name"] == "inner")
    assert inner["module"] == "keras.src.models.functional"
    cat = next(layer for layer in config["layers"] if layer["name"] == "cat")
    histories = [t["config"]["keras_history"] for t in cat["inbound_nodes"][0]["args"][0]]
    assert histories == [["inner", 0, 0], ["stack", 0, 0]]
    assert config["input_layers"] == [["a", 0, 0], ["b", 0, 0]]
    assert config["output_layers"] == ["out", 0, 0]

    rebuilt = keras.Model.from_config(json.loads(text))
    assert [l.name for l in rebuilt.layers] == [l.name for l in model.layers]
    assert len(rebuilt.get_layer("twice")._inbound_nodes) == 2
    assert len(rebuilt.weights) == len(model.weights)
    rebuilt.set_weights(model.get_weights())
    inputs = [x_data(3, 4), x_data(3, 4, seed=1)]
    assert_same_predictions(model, rebuilt, inputs)
    assert json.loads(json.dumps(rebuilt.get_config())) == json.loads(text)


def test_keras2_node_lists_are_read():
    config = {
        "name": "legacy", "layers": [
            {"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
             "config": {"batch_input_shape": [None, 3], "dtype": "float32", "name": "x"}},
            {"class_name": "Dense", "name": "d", "inbound_nodes": [[["x", 0, 0, {}]]],
             "config": {"name": "d", "units": 2, "activation": "relu",
                        "kernel_initializer": {"class_name": "GlorotUniform",
                                               "config": {"seed": None}}}},
            {"class_name": "Add", "name": "add", "inbound_nodes": [[["d", 0, 0, {}],
                                                                    ["d", 0, 0, {}]]],
             "config": {"name": "add"}}],
        "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0]]}
    model = keras.Model.from_config(config)
    x = x_data(2, 3)
    kernel, bias = model.get_layer("d").get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               2 * np.maximum(x @ kernel + bias, 0), rtol=1e-6)


def test_to_json_and_model_from_json():
    model = shared_and_nested_model()
    text = model.to_json()
    restored = keras.models.model_from_json(text)
    assert json.loads(restored.to_json())["config"] == json.loads(text)["config"]
    sequential = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    assert keras.models.model_from_json(sequential.to_json()).layers[0].units == 2


def test_keras_file_round_trip_zip_directory_and_file_object(tmp_path):
    model = shared_and_nested_model()
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    inputs = [x_data(8, 4), x_data(8, 4, seed=1)]
    model.fit(inputs, x_data(8, 2, seed=2), epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        metadata = json.loads(archive.read("metadata.json"))
        assert metadata["keras_version"].startswith("3.")
    model.save(tmp_path / "m_dir", zipped=False)
    buffer = io.BytesIO()
    model.save(buffer)
    buffer.seek(0)
    for source in (tmp_path / "m.keras", str(tmp_path / "m_dir"), buffer):
        loaded = keras.models.load_model(source)
        assert_same_predictions(model, loaded, inputs)
        assert loaded.compiled and isinstance(loaded.optimizer, keras.optimizers.Adam)
        assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations)
    uncompiled = keras.models.load_model(tmp_path / "m.keras", compile=False)
    assert not uncompiled.compiled
    assert_same_predictions(model, uncompiled, inputs)


def test_clone_model_makes_new_layers_with_the_same_architecture():
    model = shared_and_nested_model()
    model.compile(optimizer="sgd", loss="mse")
    clone = keras.models.clone_model(model)
    assert [l.name for l in clone.layers] == [l.name for l in model.layers]
    assert all(a is not b for a, b in zip(clone.layers[1:], model.layers[1:]))
    assert clone.get_layer("twice") is not model.get_layer("twice")
    assert len(clone.get_layer("twice")._inbound_nodes) == 2  # still shared inside the clone
    assert clone.compiled and type(clone.optimizer) is type(model.optimizer)
    assert clone.optimizer is not model.optimizer
    inputs = [x_data(3, 4), x_data(3, 4, seed=1)]
    assert not np.allclose(clone.predict(inputs, verbose=0), model.predict(inputs, verbose=0))
    clone.set_weights(model.get_weights())
    assert_same_predictions(model, clone, inputs)
    # nested models are layers to clone_function unless recursive
    assert clone.get_layer("stack") is not model.get_layer("stack")


def test_clone_model_with_clone_function_call_function_and_recursive():
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu"),
                              keras.Sequential([layers.Dense(2)], name="head")])
    seen = []

    def rename(layer):
        seen.append(layer.name)
        config = layer.get_config()
        config["name"] = "new_" + layer.name
        return type(layer).from_config(config)

    clone = keras.models.clone_model(model, clone_function=rename)
    assert [l.name for l in clone.layers] == ["new_dense", "new_head"]
    assert seen == ["dense", "head"]
    seen.clear()
    deep = keras.models.clone_model(model, clone_function=rename, recursive=True)
    assert seen == ["dense", "dense_1"]
    assert deep.layers[1].name == "head" and deep.layers[1].layers[0].name == "new_dense_1"
    # call_function replaces each call of a functional model's layers
    x = keras.Input((3,))
    functional = keras.Model(x, layers.Dense(2, name="d")(x))
    calls = []

    def call_function(layer, *args, **kwargs):
        calls.append(layer.name)
        return layers.Activation("relu")(layer(*args, **kwargs))

    relu_clone = keras.models.clone_model(functional, call_function=call_function)
    relu_clone.get_layer("d").set_weights(functional.get_layer("d").get_weights())
    data = x_data(4, 3)
    assert calls == ["d"]
    np.testing.assert_allclose(relu_clone.predict(data, verbose=0),
                               np.maximum(functional.predict(data, verbose=0), 0))
    with pytest.raises(ValueError, match="call_function"):
        keras.models.clone_model(model, call_function=call_function)


def test_clone_model_of_a_subclassed_model_goes_through_its_config():
    @keras.saving.register_keras_serializable(package="test_saving")
    class Scaled(keras.Model):
        def __init__(self, units=2, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.dense = layers.Dense(units)

        def call(self, x):
            return 2.0 * self.dense(x)

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    model = Scaled(units=3)
    model(x_data(1, 4))
    clone = keras.models.clone_model(model)
    assert type(clone) is Scaled and clone.units == 3
    with pytest.raises(ValueError, match="only supported for Sequential models or Functional"):
        keras.models.clone_model(model, clone_function=lambda layer: layer)


def test_safe_mode_refuses_lambdas_until_allowed(tmp_path, monkeypatch):
    model = keras.Sequential([keras.Input((2,)), layers.Lambda(lambda t: t * 3.0)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(tmp_path / "lambda.keras")
    loaded = keras.models.load_model(tmp_path / "lambda.keras", safe_mode=False)
    np.testing.assert_allclose(loaded.predict(np.ones((1, 2)), verbose=0), [[3.0, 3.0]])
    monkeypatch.setattr(serialization, "_unsafe_deserialization", False)
    keras.config.enable_unsafe_deserialization()
    assert keras.models.load_model(tmp_path / "lambda.keras").layers[0].function(2.0) == 6.0
    # a bare lambda in a config is refused too
    with pytest.warns(UserWarning, match="lambda"):
        config = serialization.serialize_keras_object(lambda t: t)
    monkeypatch.setattr(serialization, "_unsafe_deserialization", False)
    with pytest.raises(ValueError, match="arbitrary code execution"):
        serialization.deserialize_keras_object(config)
    assert serialization.deserialize_keras_object(config, safe_mode=False)(5) == 5


def test_values_json_cannot_hold_round_trip():
    values = {"array": np.arange(6, dtype="int16").reshape(2, 3), "bytes": b"ab",
              "slice": slice(1, None, 2), "ellipsis": Ellipsis, "scalar": np.float32(1.5),
              "tensor": tf.constant([[1.0, 2.0]])}
    config = json.loads(json.dumps(serialization.serialize_keras_object(values)))
    assert config["array"]["class_name"] == "__numpy__" and config["scalar"] == 1.5
    back = serialization.deserialize_keras_object(config)
    np.testing.assert_array_equal(back["array"], values["array"])
    assert back["array"].dtype == np.int16
    assert back["bytes"] == b"ab" and back["slice"] == slice(1, None, 2)
    assert back["ellipsis"] is Ellipsis
    np.testing.assert_array_equal(back["tensor"].numpy(), [[1.0, 2.0]])


# -- bad files ----------------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="d")])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x_data(4, 3), x_data(4, 2), verbose=0)
    path = tmp_path / "good.keras"
    model.save(path)
    return model, path


def rewrite_archive(source, target, drop=(), replace=None):
    with zipfile.ZipFile(source) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members.update(replace or {})
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in members.items():
            if name not in drop:
                archive.writestr(name, data)


def test_an_archive_without_weights_is_refused(saved, tmp_path):
    _, path = saved
    rewrite_archive(path, tmp_path / "no_weights.keras", drop=("model.weights.h5",))
    with pytest.raises(ValueError, match="model.weights.h5"):
        keras.models.load_model(tmp_path / "no_weights.keras")


def test_a_truncated_archive_is_refused(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    (tmp_path / "truncated.keras").write_bytes(data[:len(data) // 2])
    with pytest.raises(ValueError, match="not a valid `.keras` zip archive"):
        keras.models.load_model(tmp_path / "truncated.keras")
    (tmp_path / "text.keras").write_text("not a zip")
    with pytest.raises(ValueError, match="truncated or corrupted"):
        keras.models.load_model(tmp_path / "text.keras")
    with pytest.raises(ValueError, match="File not found"):
        keras.models.load_model(tmp_path / "missing.keras")


def test_a_config_naming_an_unknown_class_is_refused(saved, tmp_path):
    _, path = saved
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    config["config"]["layers"][1]["class_name"] = "NoSuchLayer"
    rewrite_archive(path, tmp_path / "unknown.keras",
                    replace={"config.json": json.dumps(config)})
    with pytest.raises(TypeError, match="Could not locate class 'NoSuchLayer'"):
        keras.models.load_model(tmp_path / "unknown.keras")
    rewrite_archive(path, tmp_path / "bad_json.keras", replace={"config.json": "{not json"})
    with pytest.raises(ValueError, match="not valid JSON"):
        keras.models.load_model(tmp_path / "bad_json.keras")
    # a module outside Keras is never imported
    config["config"]["layers"][1].update(class_name="system", module="os")
    rewrite_archive(path, tmp_path / "os.keras", replace={"config.json": json.dumps(config)})
    with pytest.raises(TypeError, match="Could not locate class 'system'"):
        keras.models.load_model(tmp_path / "os.keras")


def test_weights_of_the_wrong_shape_change_nothing(saved, tmp_path):
    model, path = saved
    wider = keras.Sequential([keras.Input((3,)), layers.Dense(5, name="d")])
    wider.compile(optimizer="adam", loss="mse")
    wider.save(tmp_path / "wider.keras")
    before = [w.numpy().copy() for w in model.weights]
    optimizer_before = [v.numpy().copy() for v in model.optimizer.variables]
    with pytest.raises(ValueError, match="shape"):
        model.load_weights(tmp_path / "wider.keras")
    for w, value in zip(model.weights, before):
        np.testing.assert_array_equal(w.numpy(), value)
    for v, value in zip(model.optimizer.variables, optimizer_before):
        np.testing.assert_array_equal(v.numpy(), value)
    # a config and weights that disagree: the load fails with the layer named
    with zipfile.ZipFile(tmp_path / "wider.keras") as archive:
        wide_weights = archive.read("model.weights.h5")
    rewrite_archive(path, tmp_path / "mixed.keras", replace={"model.weights.h5": wide_weights})
    with pytest.raises(ValueError, match="could not be loaded"):
        keras.models.load_model(tmp_path / "mixed.keras")


def test_a_failed_save_leaves_the_previous_file(saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    from tensorweave.keras.saving import saving_lib

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(saving_lib, "weights_bytes", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save(path)
    assert path.read_bytes() == before
    assert [p for p in os.listdir(path.parent) if p.endswith(".tmp")] == []
    assert keras.models.load_model(path).get_layer("d").units == 2


def test_operators_on_symbolic_tensors_save_as_keras_ops(tmp_path):
    x = keras.Input((3,), name="x")
    h = layers.Dense(4)(x)
    out = -abs((h + 1.0) * x[:, :1]) / 2.0 + 3.0 ** h[..., 1:2] - h @ tf.ones((4, 4)) // 2.0
    model = keras.Model(x, out)
    config = model.get_config()
    ops = [(l["module"], l["class_name"]) for l in config["layers"][2:]]
    assert all(module == "keras.src.ops.numpy" for module, _ in ops)
    assert {name for _, name in ops} >= {"Add", "Multiply", "GetItem", "Absolute", "Negative",
                                         "TrueDivide", "Power", "Matmul", "FloorDivide",
                                         "Subtract"}
    model.save(tmp_path / "ops.keras")
    assert_same_predictions(model, keras.models.load_model(tmp_path / "ops.keras"),
                            x_data(5, 3))
