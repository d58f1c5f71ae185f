"""Weight files: Keras 3's `.weights.h5` layout (paths from walking the model), loading that
checks everything before changing anything, the `.keras` archive, Keras's extension errors,
and atomic writes (a failed save leaves the previous file as it was)."""
import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import tensorweave as tf  # noqa: F401
from tensorweave import keras
from tensorweave.keras import layers
from tensorweave.keras.saving import saving_api, saving_lib
from tensorweave.keras.saving.serialization import serialize_keras_object


def setup_function():
    keras.backend.clear_session()


def _tree(path_or_file) -> dict:
    """{h5 path: shape (datasets) or attrs dict (groups)} of a weights file."""
    out = {}

    def visit(name, obj):
        out[name] = obj.shape if isinstance(obj, h5py.Dataset) else dict(obj.attrs)

    with h5py.File(path_or_file, "r") as f:
        f.visititems(visit)
    return out


def _values(path) -> dict:
    out = {}
    with h5py.File(path, "r") as f:
        f.visititems(lambda n, o: out.__setitem__(n, np.array(o))
                     if isinstance(o, h5py.Dataset) else None)
    return out


def _seq():
    return keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.BatchNormalization(),
                             layers.Dense(1)])


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype(w.dtype) for w in model.get_weights()])


# -- layout -------------------------------------------------------------------------------------
def test_sequential_layout_is_keras_walk(tmp_path):
    model = _seq()
    _randomize(model)
    path = tmp_path / "a.weights.h5"
    model.save_weights(path)
    assert _tree(path) == {
        "layers": {},
        "layers/dense": {}, "layers/dense/vars": {"name": "dense"},
        "layers/dense/vars/0": (3, 4), "layers/dense/vars/1": (4,),
        "layers/batch_normalization": {},
        "layers/batch_normalization/vars": {"name": "batch_normalization"},
        **{f"layers/batch_normalization/vars/{i}": (4,) for i in range(4)},
        "layers/dense_1": {}, "layers/dense_1/vars": {"name": "dense_1"},
        "layers/dense_1/vars/0": (4, 1), "layers/dense_1/vars/1": (1,),
        "vars": {"name": "sequential"}}
    values = _values(path)
    bn = model.layers[1]
    np.testing.assert_array_equal(values["layers/dense/vars/0"], model.layers[0].kernel.numpy())
    # trainable first (gamma, beta), then non-trainable (moving mean, variance)
    for i, v in enumerate([bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance]):
        np.testing.assert_array_equal(values[f"layers/batch_normalization/vars/{i}"], v.numpy())


def test_functional_layout_lists_input_layer_and_nested_model(tmp_path):
    inputs = keras.Input((3,))
    h = layers.Dropout(0.1)(layers.Dense(4)(inputs))
    outputs = keras.Sequential([layers.Dense(2)])(h)
    model = keras.Model(inputs, outputs)
    path = tmp_path / "f.weights.h5"
    model.save_weights(path)
    tree = _tree(path)
    assert tree["layers/input_layer/vars"] == {"name": "input_layer"}
    assert tree["layers/dropout/vars"] == {"name": "dropout"}
    assert tree["layers/dense/vars/0"] == (3, 4)
    assert tree["layers/sequential/layers/dense/vars/0"] == (4, 2)
    assert tree["layers/sequential/vars"] == {"name": "sequential"}
    assert tree["vars"] == {"name": "functional"}
    assert len([k for k, v in tree.items() if isinstance(v, tuple)]) == 4


class _Block(layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.d = [layers.Dense(2), layers.Dense(2)]
        self.w2 = layers.Dense(3)

    def build(self, shape):
        self.v = self.add_weight(shape=(2,), name="v")
        for d in self.d:
            d.build(shape)
        self.w2.build(shape)

    def call(self, x):
        return self.w2(x) + self.v[0]


class _Sub(keras.Model):
    def __init__(self):
        super().__init__()
        self.zed = layers.Dense(3)
        self.block = _Block()
        self._priv = layers.Dense(3)

    def call(self, x):
        return self._priv(self.block(self.zed(x)))


def test_subclassed_layout_follows_sorted_attributes_then_layers(tmp_path):
    # attributes sorted by name, private ones last: `block` comes before `layers`, which holds
    # `zed` and `_priv` (named by class inside the list), exactly as Keras walks it
    model = _Sub()
    model(np.ones((2, 3), np.float32))
    path = tmp_path / "s.weights.h5"
    model.save_weights(path)
    shapes = {k: v for k, v in _tree(path).items() if isinstance(v, tuple)}
    assert shapes == {
        "block/d/dense/vars/0": (3, 2), "block/d/dense/vars/1": (2,),
        "block/d/dense_1/vars/0": (3, 2), "block/d/dense_1/vars/1": (2,),
        "block/vars/0": (2,),
        "block/w2/vars/0": (3, 3), "block/w2/vars/1": (3,),
        "layers/dense/vars/0": (3, 3), "layers/dense/vars/1": (3,),
        "layers/dense_1/vars/0": (3, 3), "layers/dense_1/vars/1": (3,)}
    values = _values(path)
    np.testing.assert_array_equal(values["layers/dense/vars/0"], model.zed.kernel.numpy())
    np.testing.assert_array_equal(values["layers/dense_1/vars/0"], model._priv.kernel.numpy())


# -- round trips --------------------------------------------------------------------------------
def test_round_trip_restores_every_weight(tmp_path):
    model, other = _seq(), _seq()
    _randomize(model, 1)
    _randomize(other, 2)
    model.save_weights(tmp_path / "w.weights.h5")
    other.load_weights(tmp_path / "w.weights.h5")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_subclassed_round_trip(tmp_path):
    a, b = _Sub(), _Sub()
    x = np.random.default_rng(3).normal(size=(2, 3)).astype(np.float32)
    a(x)
    b(x)
    _randomize(a, 4)
    a.save_weights(tmp_path / "s.weights.h5")
    b.load_weights(tmp_path / "s.weights.h5")
    np.testing.assert_allclose(b(x).numpy(), a(x).numpy(), rtol=0, atol=0)


def test_optimizer_state_is_saved_and_restored(tmp_path):
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    y = x.sum(axis=1, keepdims=True)
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(x, y, epochs=2, batch_size=4, verbose=0)
    path = tmp_path / "c.weights.h5"
    model.save_weights(path)
    tree = _tree(path)
    assert tree["optimizer/vars"] == {"name": model.optimizer.name}
    assert len([k for k in tree if k.startswith("optimizer/vars/")]) == \
        len(model.optimizer.variables)
    assert _values(path)["optimizer/vars/0"] == 4  # iterations: 2 epochs of 2 batches

    fresh = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    fresh.compile(keras.optimizers.Adam(0.01), "mse")
    fresh.optimizer.build(fresh.trainable_variables)
    fresh.load_weights(path)
    for a, b in zip(model.optimizer.variables, fresh.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_loading_into_an_unbuilt_optimizer_warns_and_loads_the_layers(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.01), "mse")
    model.fit(np.ones((4, 3), np.float32), np.ones((4, 1), np.float32), verbose=0)
    model.save_weights(tmp_path / "c.weights.h5")
    fresh = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    fresh.compile(keras.optimizers.Adam(0.01), "mse")
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer"):
        fresh.load_weights(tmp_path / "c.weights.h5")
    for a, b in zip(model.get_weights(), fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


class _Custom(layers.Layer):
    """Saves its one weight doubled, as a user's save_own_variables may."""

    def build(self, shape):
        self.w = self.add_weight(shape=(2,), initializer="ones", name="w")

    def call(self, x):
        return x * self.w

    def save_own_variables(self, store):
        store["doubled"] = self.w.numpy() * 2

    def load_own_variables(self, store):
        self.w.assign(store["doubled"] / 2)


def test_layer_save_and_load_own_variables_overrides_are_used(tmp_path):
    model = keras.Sequential([keras.Input((2,)), _Custom()])
    model.layers[0].w.assign([3.0, 5.0])
    model.save_weights(tmp_path / "c.weights.h5")
    # a list member is named after its class, snake-cased as Keras does ("_Custom" -> "__custom")
    values = _values(tmp_path / "c.weights.h5")
    np.testing.assert_array_equal(values["layers/__custom/vars/doubled"], [6.0, 10.0])
    other = keras.Sequential([keras.Input((2,)), _Custom()])
    other.load_weights(tmp_path / "c.weights.h5")
    np.testing.assert_array_equal(other.layers[0].w.numpy(), [3.0, 5.0])


# -- failed loads change nothing ------------------------------------------------------------------
def test_shape_mismatch_raises_and_changes_nothing(tmp_path):
    source = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(2)])
    _randomize(source, 5)
    source.save_weights(tmp_path / "s.weights.h5")
    target = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(5)])
    before = target.get_weights()
    with pytest.raises(ValueError, match=r"A total of 1 objects could not be loaded") as info:
        target.load_weights(tmp_path / "s.weights.h5")
    assert "must match" in str(info.value) and "(4, 5)" in str(info.value)
    # the first Dense matched but was not loaded either: nothing changed
    for a, b in zip(before, target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_skip_mismatch_loads_the_rest_and_warns(tmp_path):
    source = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(2)])
    _randomize(source, 6)
    source.save_weights(tmp_path / "s.weights.h5")
    target = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(5)])
    before = target.get_weights()
    with pytest.warns(UserWarning, match="could not be loaded"):
        target.load_weights(tmp_path / "s.weights.h5", skip_mismatch=True)
    after = target.get_weights()
    np.testing.assert_array_equal(after[0], source.get_weights()[0])
    np.testing.assert_array_equal(after[2], before[2])


def test_variable_count_mismatch_message(tmp_path):
    keras.Sequential([keras.Input((3,)), layers.Dense(2, use_bias=False)]).save_weights(
        tmp_path / "n.weights.h5")
    target = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    with pytest.raises(ValueError, match=r"Layer 'dense_1' expected 2 variables, but received "
                                         r"1 variables during loading. Expected: "
                                         r"\['kernel', 'bias'\]"):
        target.load_weights(tmp_path / "n.weights.h5")


def test_an_assignment_failing_midway_is_undone(tmp_path, monkeypatch):
    source, target = _seq(), _seq()
    _randomize(source, 7)
    source.save_weights(tmp_path / "s.weights.h5")
    before = target.get_weights()
    bn = target.layers[1]
    original = type(bn.moving_mean).assign
    calls = []

    def failing(self, value, *args, **kwargs):
        if self is bn.moving_mean and not calls:
            calls.append(1)
            raise RuntimeError("disk gone")
        return original(self, value, *args, **kwargs)

    monkeypatch.setattr(type(bn.moving_mean), "assign", failing)
    with pytest.raises(RuntimeError, match="disk gone"):
        target.load_weights(tmp_path / "s.weights.h5")
    monkeypatch.undo()
    for a, b in zip(before, target.get_weights()):
        np.testing.assert_array_equal(a, b)


# -- errors ---------------------------------------------------------------------------------------
def test_extension_and_argument_errors(tmp_path):
    model = _seq()
    with pytest.raises(ValueError, match=r"The filename must end in `.weights.h5`. Received: "
                                         r"filepath=.*w\.h5"):
        model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match="File format not supported"):
        model.load_weights(tmp_path / "w.txt")
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match="When using `zipped=False`"):
        model.save(tmp_path / "m.keras", zipped=False)
    with pytest.raises(ValueError, match=r"not supported: \['bogus'\]"):
        model.save(tmp_path / "m.keras", bogus=1)
    with pytest.raises(ValueError, match="Invalid keyword arguments"):
        model.load_weights(tmp_path / "m.weights.h5", bogus=1)
    with pytest.raises(FileNotFoundError):
        model.load_weights(tmp_path / "missing.weights.h5")
    assert sorted(os.listdir(tmp_path)) == []


def test_unbuilt_model_cannot_save_or_load_weights(tmp_path):
    model = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="has not yet been built"):
        model.save_weights(tmp_path / "u.weights.h5")
    with pytest.raises(ValueError, match="has not yet been built"):
        model.load_weights(tmp_path / "u.weights.h5")


def test_overwrite_false_asks(tmp_path, monkeypatch):
    model = _seq()
    path = tmp_path / "o.weights.h5"
    model.save_weights(path)
    old = path.read_bytes()
    _randomize(model, 9)
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    model.save_weights(path, overwrite=False)
    assert path.read_bytes() == old
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    model.save_weights(path, overwrite=False)
    np.testing.assert_array_equal(_values(path)["layers/dense/vars/0"], model.get_weights()[0])


# -- the .keras archive ---------------------------------------------------------------------------
def test_keras_archive_members_config_and_weights(tmp_path):
    model = _seq()
    _randomize(model, 10)
    model.compile(keras.optimizers.SGD(momentum=0.9), "mse")
    model.fit(np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32), verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        metadata = json.loads(archive.read("metadata.json"))
        config = json.loads(archive.read("config.json"))
        weights = archive.read("model.weights.h5")
    assert set(metadata) == {"keras_version", "date_saved"}
    assert metadata["keras_version"].startswith("3.")
    assert config == json.loads(json.dumps(serialize_keras_object(model)))
    assert config["class_name"] == "Sequential"
    tree = _tree(io.BytesIO(weights))
    assert tree["layers/dense/vars/0"] == (3, 4)
    assert tree["optimizer/vars"] == {"name": model.optimizer.name}
    # load_weights reads the weights inside a .keras file too
    other = _seq()
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_unzipped_directory_and_file_object(tmp_path):
    model = _seq()
    model.save(tmp_path / "dir_model", zipped=False)
    assert sorted(os.listdir(tmp_path / "dir_model")) == ["config.json", "metadata.json",
                                                          "model.weights.h5"]
    model.save(tmp_path / "dir_model", zipped=False)  # replaced as a whole
    assert sorted(os.listdir(tmp_path)) == ["dir_model"]
    buffer = io.BytesIO()
    model.save(buffer)
    assert zipfile.ZipFile(io.BytesIO(buffer.getvalue())).namelist()[-1] == "model.weights.h5"


# -- atomic writes --------------------------------------------------------------------------------
def _fail_on_second_dataset(monkeypatch):
    original = saving_lib._WriteStore.__setitem__
    count = []

    def failing(self, key, value):
        count.append(key)
        if len(count) == 2:
            raise OSError("simulated crash while writing")
        original(self, key, value)

    monkeypatch.setattr(saving_lib._WriteStore, "__setitem__", failing)


@pytest.mark.parametrize("name", ["w.weights.h5", "m.keras"])
def test_failed_save_leaves_previous_file_intact(tmp_path, monkeypatch, name):
    model = _seq()
    _randomize(model, 11)
    path = tmp_path / name
    save = model.save_weights if name.endswith(".h5") else model.save
    save(path)
    old = path.read_bytes()
    _randomize(model, 12)
    _fail_on_second_dataset(monkeypatch)
    with pytest.raises(OSError, match="simulated crash"):
        save(path)
    assert path.read_bytes() == old
    assert os.listdir(tmp_path) == [name]  # no temporary file left behind
    monkeypatch.undo()
    save(path)
    assert path.read_bytes() != old


def test_failed_first_save_leaves_no_file(tmp_path, monkeypatch):
    _fail_on_second_dataset(monkeypatch)
    with pytest.raises(OSError):
        _seq().save_weights(tmp_path / "new.weights.h5")
    assert os.listdir(tmp_path) == []


def test_saved_file_has_the_usual_permissions(tmp_path):
    mask = os.umask(0o022)
    os.umask(mask)
    _seq().save_weights(tmp_path / "p.weights.h5")
    assert os.stat(tmp_path / "p.weights.h5").st_mode & 0o777 == 0o666 & ~mask


def test_save_api_functions_match_model_methods(tmp_path):
    model = _seq()
    _randomize(model, 13)
    saving_api.save_weights(model, tmp_path / "a.weights.h5")
    other = _seq()
    saving_api.load_weights(other, tmp_path / "a.weights.h5")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


_KILLED_SAVE = """
import os, sys
from tensorweave import keras
from tensorweave.keras.saving import saving_lib
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
original = saving_lib._WriteStore.__setitem__
count = []
def dying(self, key, value):
    count.append(key)
    if len(count) == 3:
        os._exit(3)  # the process dies midway through writing the file
    original(self, key, value)
saving_lib._WriteStore.__setitem__ = dying
model.save_weights(sys.argv[1]) if sys.argv[1].endswith(".h5") else model.save(sys.argv[1])
"""


@pytest.mark.parametrize("name", ["k.weights.h5", "k.keras"])
def test_a_process_killed_while_saving_leaves_the_previous_file(tmp_path, name):
    import subprocess
    import sys
    from pathlib import Path
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(1)])
    path = tmp_path / name
    (model.save_weights if name.endswith(".h5") else model.save)(path)
    old = path.read_bytes()
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(path)], env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 3, done.stderr.decode()
    assert path.read_bytes() == old
    # what the dead process left is a hidden temporary file, never the target
    assert [f for f in os.listdir(tmp_path) if f != name] == \
        [f for f in os.listdir(tmp_path) if f.startswith(f".{name}.") and f.endswith(".tmp")]
    other = keras.Sequential([keras.Input((3,)), layers.Dense(4), layers.Dense(1)])
    other.load_weights(path)
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
