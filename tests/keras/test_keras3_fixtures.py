"""`.keras` files written by Keras 3.15 itself (tests/fixtures/keras3/, see make_fixtures.py
there) load here with Keras's predictions, their compile state (loss, metrics, optimizer class,
iteration count and variables), and continue training where Keras stopped: one more step here
gives the loss and the predictions one more Keras step gave. No TensorFlow needed.

The registered classes of the fixtures (ResidualMLP, ScaledDense) come from make_fixtures.py,
whose code runs under both libraries, registered here as a user loading the file would."""
import importlib.util
import json
import os
import warnings
import zipfile

import numpy as np
import pytest

import tensorweave as tf
from tensorweave import keras

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "keras3")
NAMES = ("mlp", "functional", "conv", "rnn", "attention", "subclassed", "custom_layer",
         "lambda", "operators")


def _make_fixtures():
    spec = importlib.util.spec_from_file_location("keras3_make_fixtures",
                                                  os.path.join(FIXTURES, "make_fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the classes the fixtures were written with, registered here as a user loading them would
_custom = _make_fixtures().keras_custom_objects(keras)
ScaledDense, ResidualMLP = _custom["ScaledDense"], _custom["ResidualMLP"]


# what each fixture was compiled with (make_fixtures.data): loss, metrics, optimizer class
COMPILED = {
    "mlp": ("sparse_categorical_crossentropy", ["accuracy"], "Adam"),
    "functional": ("mse", ["mae"], "SGD"),
    "conv": ("sparse_categorical_crossentropy", ["accuracy"], "SGD"),
    "rnn": ("mae", None, "SGD"),
    "attention": ("huber", ["mse"], "AdamW"),
    "subclassed": ("mse", None, "Adam"),
    "custom_layer": ("mse", ["mae"], "Adagrad"),
    "lambda": ("mse", None, "RMSprop"),
    "operators": ("mse", None, "RMSprop"),
}
# Keras's variable count per optimizer: iteration, learning rate, then its slots per variable
SLOTS = {"Adam": 2, "AdamW": 2, "SGD": 0, "RMSprop": 1, "Adagrad": 1}
MOMENTUM_SGD = {"conv", "rnn"}  # SGD with momentum: one slot per variable


def setup_function():
    keras.backend.clear_session()


def path(name):
    return os.path.join(FIXTURES, name + ".keras")


def fixture_data(name):
    data = np.load(os.path.join(FIXTURES, name + ".npz"), allow_pickle=False)
    xs = [data[k] for k in sorted(k for k in data.files if k[0] == "x" and k[1:].isdigit())]
    return (xs[0] if len(xs) == 1 else xs), data


def load(name, **kwargs):
    kwargs.setdefault("safe_mode", name != "lambda")
    return keras.models.load_model(path(name), **kwargs)


# -- independent oracles of the losses and metrics (NumPy) -------------------------------------
def np_loss(name, y, p):
    p = p.astype(np.float64)
    if name == "sparse_categorical_crossentropy":
        p = np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
        return -np.mean(np.log(p[np.arange(len(y)), y.astype(int)]))
    if name in ("mse",):
        return np.mean((p - y) ** 2)
    if name == "mae":
        return np.mean(np.abs(p - y))
    if name == "huber":
        err = np.abs(p - y)
        return np.mean(np.where(err <= 1.0, 0.5 * err ** 2, err - 0.5))
    raise AssertionError(name)


def np_metric(metric, loss, y, p):
    if metric == "accuracy":
        assert loss == "sparse_categorical_crossentropy"
        return np.mean(np.argmax(p, -1) == y)
    return np_loss(metric, y, p)


# -- the fixtures themselves -------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_fixture_is_a_small_keras_3_15_file(name):
    assert os.path.getsize(path(name)) < 60_000
    with zipfile.ZipFile(path(name)) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        assert b'"keras_version": "3.15' in archive.read("metadata.json")


# -- loading ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_loads_with_the_predictions_keras_gave(name):
    model = load(name)
    x, data = fixture_data(name)
    np.testing.assert_allclose(model.predict(x, verbose=0), data["prediction"], atol=1e-5, rtol=0)
    # the same in eager calls
    inputs = [tf.constant(v) for v in x] if isinstance(x, list) else tf.constant(x)
    np.testing.assert_allclose(model(inputs, training=False).numpy(), data["prediction"],
                               atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_compile_state_is_restored(name):
    model = load(name)
    x, data = fixture_data(name)
    loss, metrics, optimizer = COMPILED[name]
    assert model.compiled
    assert model.loss == loss
    config = model.get_compile_config()
    assert config["loss"] == loss and config["metrics"] == metrics
    # the loss and metrics compute what their names say, on Keras's own predictions
    results = model.evaluate(x, data["y"], batch_size=len(data["y"]), verbose=0, return_dict=True)
    assert sorted(results) == sorted(["loss"] + (metrics or []))
    pred = data["prediction"]
    np.testing.assert_allclose(results["loss"], np_loss(loss, data["y"], pred), rtol=1e-5,
                               atol=1e-6)
    for metric in metrics or []:
        np.testing.assert_allclose(results[metric], np_metric(metric, loss, data["y"], pred),
                                   rtol=1e-5, atol=1e-6)
    # the optimizer: its class, one step taken, every variable as Keras saved it
    opt = model.optimizer
    assert type(opt).__name__ == optimizer
    assert int(opt.iterations.numpy()) == 1
    slots = 1 if name in MOMENTUM_SGD else SLOTS[optimizer]
    assert len(opt.variables) == 2 + slots * len(model.trainable_variables)
    saved = [data[f"optimizer_{i}"] for i in range(len(data["optimizer_paths"]))]
    assert len(opt.variables) == len(saved)
    for variable, value, keras_path in zip(opt.variables, saved, data["optimizer_paths"]):
        assert tuple(variable.shape.as_list()) == value.shape, keras_path
        np.testing.assert_array_equal(variable.numpy(), value, err_msg=str(keras_path))
    # slots carry state: after one step of Adam/RMSprop/Adagrad/momentum they are not all zero
    if slots:
        assert any(np.any(v.numpy() != 0) for v in opt.variables[2:])


@pytest.mark.parametrize("name", NAMES)
def test_fit_continues_where_keras_stopped(name):
    model = load(name)
    x, data = fixture_data(name)
    history = model.fit(x, data["y"], batch_size=len(data["y"]), epochs=1, shuffle=False,
                        verbose=0)
    assert int(model.optimizer.iterations.numpy()) == 2
    loss = history.history["loss"][0]
    assert np.isfinite(loss)
    if name == "functional":  # its Dropout draws other random numbers here than in Keras
        return
    # the same step Keras took from the same state: same loss, same new weights
    np.testing.assert_allclose(loss, data["next_loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), data["next_prediction"], atol=1e-5,
                               rtol=0)


# -- model-specific checks -----------------------------------------------------------------------
def test_registered_subclassed_model_is_rebuilt_from_its_config():
    model = load("subclassed")
    assert type(model) is ResidualMLP
    assert (model.units, model.depth, model.name) == (6, 2, "residual_mlp")
    assert len(model.blocks) == 2 and all(b.built for b in model.blocks)
    # the list's members got the weights Keras wrote for them, not fresh ones: a model
    # without them (blocks zeroed) no longer gives Keras's predictions
    x, data = fixture_data("subclassed")
    for block in model.blocks:
        for w in block.weights:
            w.assign(np.zeros(w.shape.as_list(), "float32"))
    assert np.abs(model.predict(x, verbose=0) - data["prediction"]).max() > 1e-3


def test_custom_layer_keeps_its_config_and_non_trainable_weight():
    model = load("custom_layer")
    layer = model.get_layer("scaled")
    assert type(layer) is ScaledDense
    assert (layer.units, layer.scale) == (4, 1.5)
    assert [w.name for w in layer.trainable_weights] == ["kernel", "bias"]
    assert [float(w.numpy()) for w in layer.non_trainable_weights] == [1.5]


def test_custom_classes_are_found_through_custom_objects_too():
    from tensorweave.keras.saving import serialization
    saved = dict(serialization._registered)
    serialization._registered.pop("fixtures>ScaledDense")
    try:
        with pytest.raises(TypeError, match="ScaledDense"):
            load("custom_layer")
        model = load("custom_layer", custom_objects={"fixtures>ScaledDense": ScaledDense})
    finally:
        serialization._registered.clear()
        serialization._registered.update(saved)
    x, data = fixture_data("custom_layer")
    np.testing.assert_allclose(model.predict(x, verbose=0), data["prediction"], atol=1e-5, rtol=0)


def test_lambda_layer_loads_only_outside_safe_mode():
    with pytest.raises(ValueError, match="safe_mode=False"):
        keras.models.load_model(path("lambda"))
    model = load("lambda")  # safe_mode=False
    x, data = fixture_data("lambda")
    dense = model.get_layer("dense")
    # the lambda Keras wrote is v * 2 + 1 of the layer before it
    before = dense(tf.constant(x)).numpy()
    np.testing.assert_allclose(model.get_layer("affine")(tf.constant(before)).numpy(),
                               before * 2.0 + 1.0, rtol=1e-6)


def test_rnn_mask_from_embedding_is_honoured():
    """Keras records the Embedding's mask as a `NotEqual` op node feeding the recurrent layers'
    `mask` argument; the rebuilt node computes it, and it matters for these inputs."""
    model = load("rnn")
    x, data = fixture_data("rnn")
    assert np.any(x == 0)  # padded rows
    not_equal = model.get_layer("not_equal")
    assert type(not_equal).__name__ == "NotEqual"
    assert not_equal.get_config() == {"name": "not_equal"}
    np.testing.assert_array_equal(not_equal(tf.constant(x), 0).numpy(), x != 0)
    # the LSTM's outputs at the valid steps differ with and without the mask
    lstm = model.get_layer("lstm")
    seq = tf.constant(model.get_layer("embed")(tf.constant(x)).numpy())  # no mask attached
    masked = lstm(seq, mask=tf.constant(x != 0)).numpy()
    plain = lstm(seq).numpy()
    assert np.abs(masked - plain).max() > 1e-4


def test_functional_nested_models_and_shared_layer():
    model = load("functional")
    assert [type(layer).__name__ for layer in model.layers] == [
        "InputLayer", "InputLayer", "Dense", "Add", "Concatenate", "BatchNormalization",
        "Dropout", "Sequential", "Functional", "Dense"]
    shared = model.get_layer("shared")
    assert len(shared._inbound_nodes) == 2
    inner_seq = model.get_layer("inner_seq")
    assert [layer.name for layer in inner_seq.layers] == ["inner_dense", "inner_bn"]
    inner_fn = model.get_layer("inner_fn")
    assert {layer.name for layer in inner_fn.layers} == {"inner_in", "inner_hidden",
                                                         "inner_add"}
    # called twice, the second time on its own output (Keras numbers these calls 0 and 1)
    assert len(inner_fn._inbound_nodes) == 2
    assert inner_fn._inbound_nodes[1].input_tensors[0] is inner_fn._inbound_nodes[0].outputs[0]
    # BatchNormalization's moving statistics are the ones Keras's training step left
    bn = model.get_layer("norm")
    assert not np.allclose(bn.moving_mean.numpy(), 0)


def test_load_without_compiling():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load("mlp", compile=False)
    assert not model.compiled and model.optimizer is None
    x, data = fixture_data("mlp")
    np.testing.assert_allclose(model.predict(x, verbose=0), data["prediction"], atol=1e-5, rtol=0)


def test_round_trip_through_our_writer_keeps_everything(tmp_path):
    """A loaded Keras file saved again here loads back the same (op nodes, nested models,
    optimizer state included)."""
    for name in ("rnn", "functional", "subclassed"):
        model = load(name)
        target = str(tmp_path / f"{name}.keras")
        model.save(target)
        again = keras.models.load_model(target)
        x, data = fixture_data(name)
        np.testing.assert_allclose(again.predict(x, verbose=0), data["prediction"], atol=1e-5,
                                   rtol=0)
        assert [v.numpy().tolist() for v in again.optimizer.variables] == \
            [v.numpy().tolist() for v in model.optimizer.variables]


def _histories(config):
    """Each layer's name and the (layer, node, tensor) numbers of every KerasTensor it is
    called on, and the model's input and output numbers."""
    def found(value, out):
        if isinstance(value, dict):
            if value.get("class_name") == "__keras_tensor__":
                out.append(list(value["config"]["keras_history"]))
            else:
                for v in value.values():
                    found(v, out)
        elif isinstance(value, list):
            for v in value:
                found(v, out)
        return out
    layers = [(layer["name"], [found(node, []) for node in layer["inbound_nodes"]])
              for layer in config["layers"]]
    return layers, config["input_layers"], config["output_layers"]


@pytest.mark.parametrize("name", ["functional", "conv", "rnn", "attention", "custom_layer"])
def test_our_config_numbers_nodes_as_keras_does(name):
    """The functional config we write for a loaded model links its layers as Keras's own
    config.json does (nested models, shared layers, op nodes and masks included)."""
    with zipfile.ZipFile(path(name)) as archive:
        theirs = json.loads(archive.read("config.json"))["config"]
    ours = json.loads(json.dumps(load(name).get_config()))
    assert _histories(ours) == _histories(theirs)


def _keras_tensor(shape, dtype, history):
    return {"class_name": "__keras_tensor__",
            "config": {"shape": shape, "dtype": dtype, "keras_history": history}}


def _op_node(family, class_name, config, args):
    return {"module": f"keras.src.ops.{family}", "class_name": class_name, "config": config,
            "registered_name": class_name, "name": config["name"],
            "inbound_nodes": [{"args": args, "kwargs": {}}]}


def test_keras_op_nodes_are_rebuilt():
    """What Keras 3 writes for `keras.ops` calls on KerasTensors (a Masking layer's mask is
    NotEqual then Any; `ops.cast`, `ops.sum`, `x + 1.0`), in a config written as Keras does."""
    x = _keras_tensor([None, 3, 4], "float32", ["x", 0, 0])
    config = {
        "name": "ops", "trainable": True,
        "layers": [
            {"module": "keras.layers", "class_name": "InputLayer",
             "config": {"batch_shape": [None, 3, 4], "dtype": "float32", "sparse": False,
                        "ragged": False, "name": "x", "optional": False},
             "registered_name": None, "name": "x", "inbound_nodes": []},
            _op_node("numpy", "NotEqual", {"name": "not_equal"}, [x, 0.5]),
            _op_node("numpy", "Any", {"name": "any", "axis": -1, "keepdims": False},
                     [_keras_tensor([None, 3, 4], "bool", ["not_equal", 0, 0])]),
            _op_node("core", "Cast", {"name": "cast", "dtype": "float32"},
                     [_keras_tensor([None, 3], "bool", ["any", 0, 0])]),
            _op_node("numpy", "Sum", {"name": "sum", "axis": 1, "keepdims": False}, [x]),
            _op_node("numpy", "Add", {"name": "add"},
                     [_keras_tensor([None, 4], "float32", ["sum", 0, 0]), 1.0]),
        ],
        "input_layers": [["x", 0, 0]],
        "output_layers": [["cast", 0, 0], ["add", 0, 0]]}
    model = keras.Model.from_config(config)
    data = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    data[0, 1] = 0.5  # a masked step
    mask, total = model.predict(data, verbose=0)
    np.testing.assert_array_equal(mask, np.any(data != 0.5, axis=-1).astype("float32"))
    np.testing.assert_allclose(total, data.sum(1) + 1.0, rtol=1e-6)
    assert sorted(type(layer).__name__ for layer in model.layers[1:]) == [
        "Add", "Any", "Cast", "NotEqual", "Sum"]
    # written back as Keras writes them
    written = {layer["name"]: layer for layer in model.get_config()["layers"]}
    assert written["any"]["module"] == "keras.src.ops.numpy"
    assert written["any"]["config"] == {"name": "any", "axis": -1, "keepdims": False}
    assert written["cast"]["module"] == "keras.src.ops.core"


def test_unknown_keras_op_node_is_a_clear_error():
    x = _keras_tensor([None, 4], "float32", ["x", 0, 0])
    config = {"name": "ops", "trainable": True, "layers": [
        {"module": "keras.layers", "class_name": "InputLayer",
         "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "x"},
         "registered_name": None, "name": "x", "inbound_nodes": []},
        _op_node("numpy", "Einsum", {"name": "einsum"}, ["ij->i", x])],
        "input_layers": [["x", 0, 0]], "output_layers": [["einsum", 0, 0]]}
    with pytest.raises(TypeError, match="Could not locate class 'Einsum'"):
        keras.Model.from_config(config)
