"""Legacy HDF5 (`.h5`) model and weights files: the fixtures written by tf.keras 2 and by
Keras 3 (tests/fixtures/legacy_h5/, see make_fixtures.py there) load with the predictions those
libraries gave; topological and by-name weight loading, skip_mismatch, mismatches that raise
before any weight changes; and our writer's files (checked against the layout Keras writes, then
loaded back)."""
import copy
import importlib.util
import json
import os
import warnings

import h5py
import numpy as np
import pytest

from tensorweave import keras
from tensorweave.keras import layers
from tensorweave.keras.saving import legacy_h5, legacy_h5_weights

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "legacy_h5")
NAMES = ("sequential", "functional", "conv_lstm", "recurrent", "nested")


def _fixture_builders():
    """The model builders of make_fixtures.py: written against a Keras module `k`, so the same
    functions build our models."""
    spec = importlib.util.spec_from_file_location(
        "legacy_h5_make_fixtures", os.path.join(FIXTURES, "make_fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUILDERS


BUILDERS = _fixture_builders()


def setup_function():
    keras.backend.clear_session()


def fixture(name: str) -> str:
    return os.path.join(FIXTURES, name)


def inputs_and_expected(stem: str):
    data = np.load(fixture(stem + ".npz"), allow_pickle=False)
    xs = [data[f"x{i}"] for i in range(len(data.files) - 1)]
    return (xs[0] if len(xs) == 1 else xs), data["y"]


def build(name: str):
    return BUILDERS[name](keras)


def snapshot(model) -> list:
    return [np.array(w.numpy()) for w in model.weights]


def assert_unchanged(model, before) -> None:
    after = snapshot(model)
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def file_values(path: str, group: str = "") -> dict:
    """{layer name: [arrays in `weight_names` order]} read straight from the file with h5py."""
    out = {}
    with h5py.File(path, "r") as f:
        g = f[group] if group else f
        for layer in g.attrs["layer_names"]:
            layer = layer.decode() if isinstance(layer, bytes) else layer
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in g[layer].attrs["weight_names"]]
            out[layer] = [np.array(g[layer][n]) for n in names]
    return out


# -- the fixtures: weights into models built here -----------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("source", ["tfk2_{}_weights.h5", "tfk2_{}.h5", "k3_{}.h5"])
def test_fixture_weights_load_topologically(name, source):
    """tf.keras 2's save_weights files and the `model_weights` group of whole-model files (both
    libraries): the layer weight order here is the one those files list, for every layer type
    (Dense, Dropout, Concatenate, BatchNormalization, Conv1D/2D, LSTM, Embedding, bidirectional
    GRU, SimpleRNN, LayerNormalization, a Sequential used as a layer)."""
    stem = source.format(name).replace("_weights.h5", "").replace(".h5", "")
    x, expected = inputs_and_expected(stem)
    model = build(name)
    model.load_weights(fixture(source.format(name)))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5, rtol=0)


def test_fixture_weights_match_the_file_values():
    """Every weight of the nested model equals the dataset the file names for it."""
    model = build("nested")
    path = fixture("tfk2_nested_weights.h5")
    model.load_weights(path)
    saved = file_values(path)
    for layer in model.layers:
        ours = [np.array(w.numpy()) for w in legacy_h5_weights.legacy_weights(layer)]
        assert len(ours) == len(saved[layer.name])
        for a, b in zip(ours, saved[layer.name]):
            np.testing.assert_array_equal(a, b)


def test_fixture_weights_by_name_in_another_layer_order():
    """by_name matches layers by name: a model with the same layers built in another order
    (and one extra layer the file does not have) gets every named layer's saved values."""
    inputs = keras.Input((4,), name="left")
    other = keras.Input((4,), name="right")
    extra = layers.Dense(5, name="extra")  # not in the file: left as it is
    shared = layers.Dense(6, activation="tanh", name="shared")
    merged = layers.Concatenate(name="merge")([shared(inputs), shared(other)])
    out = layers.Dense(2, name="out")(layers.BatchNormalization(name="norm")(merged))
    model = keras.Model([inputs, other], [out, extra(inputs)])
    extra_before = [np.array(w.numpy()) for w in extra.weights]
    path = fixture("tfk2_functional_weights.h5")
    model.load_weights(path, by_name=True)
    saved = file_values(path)
    for name in ("shared", "norm", "out"):
        ours = legacy_h5_weights.legacy_weights(model.get_layer(name))
        for w, value in zip(ours, saved[name]):
            np.testing.assert_array_equal(w.numpy(), value)
    for w, value in zip(extra.weights, extra_before):
        np.testing.assert_array_equal(w.numpy(), value)
    x, expected = inputs_and_expected("tfk2_functional")
    np.testing.assert_allclose(model.predict(x, verbose=0)[0], expected, atol=1e-5, rtol=0)


# -- the fixtures: whole models -----------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prefix", ["tfk2", "k3"])
def test_fixture_models_load_with_their_predictions(name, prefix):
    stem = f"{prefix}_{name}"
    x, expected = inputs_and_expected(stem)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.keras 2's optimizer state does not match Keras 3's
        model = keras.models.load_model(fixture(stem + ".h5"))
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5, rtol=0)
    assert model.compiled
    # compiled as saved: the model trains on
    with h5py.File(fixture(stem + ".h5"), "r") as f:
        training = json.loads(f.attrs["training_config"])
    optimizer_name = training["optimizer_config"]["class_name"].split(">")[-1]
    assert type(model.optimizer).__name__.lower() == optimizer_name.lower()
    y = np.asarray(expected) if name != "sequential" else np.zeros(len(expected), "int64")
    history = model.fit(x, y, epochs=1, batch_size=len(y), verbose=0)
    assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("name", NAMES)
def test_keras3_fixture_restores_the_optimizer_state(name):
    """Keras 3's files hold optimizer variables in our order: they are restored (one step done);
    tf.keras 2's do not match Keras 3's optimizers, which start afresh with a warning."""
    model = legacy_h5.load_model_from_hdf5(fixture(f"k3_{name}.h5"))
    assert int(model.optimizer.iterations.numpy()) == 1
    with h5py.File(fixture(f"k3_{name}.h5"), "r") as f:
        values = legacy_h5_weights.load_optimizer_weights_from_hdf5_group(f)
    for variable, value in zip(model.optimizer.variables, values):
        np.testing.assert_array_equal(variable.numpy(), value)
    with pytest.warns(UserWarning, match="Error in loading the saved optimizer state"):
        model = legacy_h5.load_model_from_hdf5(fixture(f"tfk2_{name}.h5"))
    assert int(model.optimizer.iterations.numpy()) == 0


def test_fixture_compile_false_and_no_training_config(tmp_path):
    model = keras.models.load_model(fixture("tfk2_sequential.h5"), compile=False)
    assert not model.compiled
    path = str(tmp_path / "plain.h5")
    with h5py.File(fixture("k3_sequential.h5"), "r") as src, h5py.File(path, "w") as dst:
        for key in ("backend", "keras_version", "model_config"):
            dst.attrs[key] = src.attrs[key]
        src.copy("model_weights", dst)
    with pytest.warns(UserWarning, match="No training configuration found"):
        model = legacy_h5.load_model_from_hdf5(path)
    assert not model.compiled
    x, expected = inputs_and_expected("k3_sequential")
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5, rtol=0)


def _strip_modules(config):
    """A Keras 3-era config as TensorFlow before 2.13 wrote it: no `module`/`registered_name`."""
    if isinstance(config, list):
        return [_strip_modules(c) for c in config]
    if isinstance(config, dict):
        return {k: _strip_modules(v) for k, v in config.items()
                if k not in ("module", "registered_name")}
    return config


@pytest.mark.parametrize("name", ["sequential", "functional", "recurrent"])
def test_old_tf_keras_configs_without_modules(tmp_path, name):
    """Files of TensorFlow < 2.13 name initializers, layers and wrapped layers without a
    module: the same file with every module removed loads with the same predictions."""
    path = str(tmp_path / f"{name}.h5")
    with h5py.File(fixture(f"tfk2_{name}.h5"), "r") as src, h5py.File(path, "w") as dst:
        for key, value in src.attrs.items():
            dst.attrs[key] = value
        config = json.loads(src.attrs["model_config"])
        dst.attrs["model_config"] = json.dumps(_strip_modules(config)).encode("utf8")
        src.copy("model_weights", dst)
    with h5py.File(path, "r") as f:
        assert '"module"' not in f.attrs["model_config"]
    model = legacy_h5.load_model_from_hdf5(path, compile=False)
    x, expected = inputs_and_expected(f"tfk2_{name}")
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, atol=1e-5, rtol=0)


def test_keras2_layer_arguments_are_upgraded():
    config = {"class_name": "Functional", "config": {"layers": [
        {"class_name": "LSTM", "config": {"name": "l", "time_major": False, "units": 2}},
        {"class_name": "Bidirectional", "config": {"layer": {
            "class_name": "GRU", "config": {"name": "g", "time_major": False}}}},
        {"class_name": "BatchNormalization", "config": {"name": "b", "axis": [3]}},
        {"class_name": "LayerNormalization", "config": {"name": "n", "axis": [1, 2]}}]}}
    before = copy.deepcopy(config)
    out = legacy_h5.upgrade_keras2_config(config)
    assert config == before  # a copy
    entries = out["config"]["layers"]
    assert entries[0]["config"] == {"name": "l", "units": 2}
    assert entries[1]["config"]["layer"]["config"] == {"name": "g"}
    assert entries[2]["config"]["axis"] == 3
    assert entries[3]["config"]["axis"] == [1, 2]
    with pytest.raises(ValueError, match="time_major=True"):
        legacy_h5.upgrade_keras2_config({"class_name": "GRU", "config": {"time_major": True}})


def test_no_model_config_is_an_error():
    with pytest.raises(ValueError, match="No model config found in the file"):
        legacy_h5.load_model_from_hdf5(fixture("tfk2_sequential_weights.h5"))


# -- mismatches ---------------------------------------------------------------------------------
def test_shape_mismatch_raises_before_any_weight_changes():
    """The last layer does not fit: nothing changes, not even the layers checked before it."""
    model = keras.Sequential([keras.Input((5,)), layers.Dense(8, activation="relu",
                                                              name="hidden"),
                              layers.Dropout(0.25), layers.Dense(4, name="probs")])
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #1 \(named probs\)") as info:
        model.load_weights(fixture("tfk2_sequential_weights.h5"))
    assert "(8, 4)" in str(info.value) and "(8, 3)" in str(info.value)
    assert_unchanged(model, before)


def test_layer_and_weight_count_mismatches_raise_untouched():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(8, name="hidden")])
    before = snapshot(model)
    with pytest.raises(ValueError, match="Layer count mismatch .* expected 1 layers, found 2"):
        model.load_weights(fixture("tfk2_sequential_weights.h5"))
    assert_unchanged(model, before)
    model = keras.Sequential([keras.Input((5,)), layers.Dense(8, name="hidden"),
                              layers.Dense(3, use_bias=False, name="probs")])
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"Weight count mismatch for layer #1 \(named probs in "
                                         r"the current model, probs in the save file\)"):
        model.load_weights(fixture("tfk2_sequential_weights.h5"))
    assert_unchanged(model, before)


def test_by_name_mismatch_raises_untouched_and_skip_mismatch_skips():
    def model_with(units):
        return keras.Sequential([keras.Input((5,)), layers.Dense(8, name="hidden"),
                                 layers.Dense(units, name="probs")])

    path = fixture("tfk2_sequential_weights.h5")
    saved = file_values(path)
    model = model_with(4)
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"Shape mismatch in layer #2 \(named probs\)"):
        model.load_weights(path, by_name=True)
    assert_unchanged(model, before)
    with pytest.warns(UserWarning, match=r"Skipping loading weights for layer #2 \(named probs\) "
                                         "due to mismatch in shape"):
        model.load_weights(path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(model.get_layer("hidden").kernel.numpy(), saved["hidden"][0])
    np.testing.assert_array_equal(model.get_layer("probs").kernel.numpy(), before[2])
    # a count mismatch: the whole layer is skipped
    model = keras.Sequential([keras.Input((5,)), layers.Dense(8, name="hidden"),
                              layers.Dense(3, use_bias=False, name="probs")])
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"Weight count mismatch for layer #2 \(named probs\)"):
        model.load_weights(path, by_name=True)
    assert_unchanged(model, before)
    with pytest.warns(UserWarning, match="due to mismatch in number of weights"):
        model.load_weights(path, by_name=True, skip_mismatch=True)
    np.testing.assert_array_equal(model.get_layer("hidden").bias.numpy(), saved["hidden"][1])
    np.testing.assert_array_equal(model.get_layer("probs").kernel.numpy(), before[2])


def test_topological_skip_mismatch_skips_the_weights_that_do_not_fit():
    """As Keras 3: with skip_mismatch, a weight whose shape differs is skipped (warning)."""
    model = keras.Sequential([keras.Input((5,)), layers.Dense(8, name="hidden"),
                              layers.Dense(4, name="probs")])
    before = snapshot(model)
    path = fixture("tfk2_sequential_weights.h5")
    with pytest.warns(UserWarning, match="Skipping loading weights"):
        model.load_weights(path, skip_mismatch=True)
    saved = file_values(path)
    np.testing.assert_array_equal(model.get_layer("hidden").kernel.numpy(), saved["hidden"][0])
    np.testing.assert_array_equal(model.get_layer("probs").kernel.numpy(), before[2])


def test_h5_load_weights_argument_errors():
    model = build("sequential")
    with pytest.raises(ValueError, match="`objects_to_skip` only supports loading '.weights.h5'"):
        model.load_weights(fixture("tfk2_sequential_weights.h5"), objects_to_skip=[])


# -- our writer ---------------------------------------------------------------------------------
def trained_sequential():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu", name="d1"),
                              layers.BatchNormalization(name="bn"), layers.Dense(2, name="d2")])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = np.random.default_rng(0)
    model.fit(rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 2)).astype("float32"),
              batch_size=4, epochs=1, verbose=0)
    return model


def test_writer_layout_is_keras3s(tmp_path):
    """The layout of Keras 3's `model.save("x.h5")`, compared with Keras 3's own fixture."""
    model = trained_sequential()
    path = str(tmp_path / "model.h5")
    with pytest.warns(UserWarning, match="This file format is considered legacy"):
        model.save(path)
    with h5py.File(path, "r") as f:
        assert set(f.attrs) == {"backend", "keras_version", "model_config", "training_config"}
        assert f.attrs["backend"] == "tensorflow"
        config = json.loads(f.attrs["model_config"])
        training = json.loads(f.attrs["training_config"])
        group = f["model_weights"]
        assert list(group.attrs["layer_names"]) == ["d1", "bn", "d2"]
        assert list(group["bn"].attrs["weight_names"]) == [
            "sequential/bn/gamma", "sequential/bn/beta", "sequential/bn/moving_mean",
            "sequential/bn/moving_variance"]
        assert group["d1/sequential/d1/kernel"].shape == (4, 3)
        assert len(group["top_level_model_weights"].attrs["weight_names"]) == 0
        names = list(f["optimizer_weights"].attrs["weight_names"])
        assert names[:3] == ["adam/iteration", "adam/learning_rate",
                             "adam/sequential_d1_kernel_momentum"]
    with h5py.File(fixture("k3_sequential.h5"), "r") as f:
        keras_config = json.loads(f.attrs["model_config"])
        keras_training = json.loads(f.attrs["training_config"])
    assert config["class_name"] == "Sequential"
    assert set(config["config"]) == set(keras_config["config"])
    for ours in config["config"]["layers"]:
        assert set(ours) == {"class_name", "config"}  # the legacy form: no module
    assert [e["class_name"] for e in config["config"]["layers"]] == [
        "InputLayer", "Dense", "BatchNormalization", "Dense"]
    assert list(training) == list(keras_training)
    assert training["loss"] == "mse" and training["metrics"] == ["mae"]
    assert training["optimizer_config"]["class_name"] == "Adam"


def test_writer_round_trip_sequential(tmp_path):
    model = trained_sequential()
    path = str(tmp_path / "model.h5")
    legacy_h5.save_model_to_hdf5(model, path)
    loaded = keras.models.load_model(path)
    x = np.random.default_rng(1).normal(size=(5, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6, rtol=0)
    assert len(loaded.optimizer.variables) == len(model.optimizer.variables)
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert loaded.loss == "mse"
    # include_optimizer=False: no compile state at all
    legacy_h5.save_model_to_hdf5(model, path, include_optimizer=False)
    with h5py.File(path, "r") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f


def test_writer_round_trip_functional_with_nested_model(tmp_path):
    inner = keras.Sequential([layers.Dense(4, activation="relu", name="inner_a"),
                              layers.BatchNormalization(name="inner_bn")], name="inner")
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = layers.Dense(5, name="shared")
    merged = layers.Concatenate(name="cat")([shared(a), shared(b)])
    model = keras.Model([a, b], layers.Dense(2, name="out")(inner(merged)), name="f")
    model.compile(optimizer="sgd", loss="mae")
    rng = np.random.default_rng(2)
    x = [rng.normal(size=(6, 3)).astype("float32") for _ in range(2)]
    model.fit(x, rng.normal(size=(6, 2)).astype("float32"), verbose=0)
    path = str(tmp_path / "f.h5")
    model.save(path)
    with h5py.File(path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        assert list(f["model_weights"].attrs["layer_names"]) == ["a", "b", "shared", "cat",
                                                                 "inner", "out"]
        assert len(f["model_weights/inner"].attrs["weight_names"]) == 6
    entry = [e for e in config["config"]["layers"] if e["name"] == "inner"][0]
    assert set(entry) == {"class_name", "config", "name", "inbound_nodes"}
    assert all(set(e) == {"class_name", "config"} for e in entry["config"]["layers"])
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6, rtol=0)


def test_writer_is_atomic(tmp_path, monkeypatch):
    """A save that fails midway (config and weights written, then an error) leaves the previous
    file as it was, and no temporary file behind."""
    model = trained_sequential()
    path = str(tmp_path / "model.h5")
    legacy_h5.save_model_to_hdf5(model, path)
    with open(path, "rb") as f:
        before = f.read()
    model.fit(np.ones((4, 4), "float32"), np.ones((4, 2), "float32"), verbose=0)

    def fail(h5file, optimizer):
        assert "model_weights" in h5file  # the new file is half written
        raise OSError("disk full")

    monkeypatch.setattr(legacy_h5_weights, "save_optimizer_weights_to_hdf5_group", fail)
    with pytest.raises(OSError, match="disk full"):
        legacy_h5.save_model_to_hdf5(model, path)
    with open(path, "rb") as f:
        assert f.read() == before
    assert os.listdir(tmp_path) == ["model.h5"]


def test_chunked_attributes_round_trip(tmp_path):
    names = [f"layer_with_a_rather_long_name_{i:05d}".encode() for i in range(3000)]
    with h5py.File(str(tmp_path / "a.h5"), "w") as f:
        legacy_h5_weights.save_attributes_to_hdf5_group(f, "layer_names", names)
        assert "layer_names" not in f.attrs and "layer_names1" in f.attrs
        assert legacy_h5_weights.load_attributes_from_hdf5_group(f, "layer_names") == [
            n.decode() for n in names]


def test_custom_layers_need_custom_objects(tmp_path):
    class Scale(layers.Layer):
        def __init__(self, factor=1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            return x * self.w * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    model = keras.Sequential([keras.Input((3,)), Scale(2.5, name="scale"), layers.Dense(1)])
    model.get_layer("scale").w.assign(np.array([1.0, -2.0, 0.5], "float32"))
    path = str(tmp_path / "custom.h5")
    legacy_h5.save_model_to_hdf5(model, path)
    with h5py.File(path, "r") as f:
        entry = json.loads(f.attrs["model_config"])["config"]["layers"][1]
    assert entry["class_name"] == "Scale" and entry["config"]["factor"] == 2.5
    with pytest.raises(Exception, match="Scale"):
        legacy_h5.load_model_from_hdf5(path)
    loaded = legacy_h5.load_model_from_hdf5(path, custom_objects={"Scale": Scale})
    x = np.random.default_rng(3).normal(size=(4, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-6, rtol=0)


def test_keras2_lambda_code_is_refused_in_safe_mode(tmp_path):
    """tf.keras 2 stored a Lambda's function as [code, defaults, closure]: it becomes a
    `__lambda__` config, which safe mode refuses to run."""
    path = str(tmp_path / "lambda.h5")
    with h5py.File(fixture("tfk2_sequential.h5"), "r") as src, h5py.File(path, "w") as dst:
        config = json.loads(src.attrs["model_config"])
        config["config"]["layers"].append({"class_name": "Lambda", "config": {
            "name": "lam", "trainable": True, "dtype": "float32",
            "function": ["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMIAAAAfABkARQAUwApAk7pAgAAAKkA"
                         "KQHaAXhyAgAAAHICAAAA+gg8c3RkaW4+2gg8bGFtYmRhPgEAAADzAAAAAA==\n",
                         None, None],
            "function_type": "lambda", "module": "__main__", "output_shape": None,
            "output_shape_type": "raw", "output_shape_module": None, "arguments": {}}})
        dst.attrs["model_config"] = json.dumps(config).encode("utf8")
        src.copy("model_weights", dst)
    with pytest.raises(ValueError, match="safe_mode=False"):
        legacy_h5.load_model_from_hdf5(path, compile=False)
