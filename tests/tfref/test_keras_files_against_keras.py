"""`.keras` files written by tensorweave load in Keras 3 itself (the one of TensorFlow 2.21) with
identical predictions, and with the optimizer state: Keras continues training where we stopped,
and its next `train_on_batch` gives the loss and the weights ours gives.

The models are the architectures of the Keras-written fixtures (tests/fixtures/keras3/
make_fixtures.py builds them from either library), built, compiled and trained one step here;
Keras loads all the files in one subprocess (its own registered classes, from make_fixtures).

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py):
    PYTHONPATH=/work/main TF_CPP_MIN_LOG_LEVEL=3 /tmp/tfref/bin/python -m pytest -q \\
        -p no:cacheprovider tests/tfref/test_keras_files_against_keras.py
"""
import importlib.util
import json
import os
import subprocess
import sys
import warnings
import zipfile

import numpy as np
import pytest

from tensorweave import keras as tw_keras

pytestmark = pytest.mark.tfref
HAVE_TF = importlib.util.find_spec("tensorflow") is not None \
    and importlib.util.find_spec("keras") is not None
needs_tf = pytest.mark.skipif(not HAVE_TF, reason="TensorFlow is not installed beside tensorweave")

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(TESTS, "fixtures", "keras3")


def _load_module(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fixture_test_module():
    """tests/keras/test_keras3_fixtures.py, which defines our registered ResidualMLP and
    ScaledDense: the module pytest imported already when it collects both (importing it twice
    would register a second copy of the classes over the first)."""
    path = os.path.join(TESTS, "keras", "test_keras3_fixtures.py")
    for module in list(sys.modules.values()):
        if os.path.abspath(getattr(module, "__file__", None) or "") == path:
            return module
    return _load_module("keras3_fixture_classes", path)


make_fixtures = _load_module("keras3_make_fixtures", os.path.join(FIXTURES, "make_fixtures.py"))
ours = _fixture_test_module()
CUSTOM = {"ResidualMLP": ours.ResidualMLP, "ScaledDense": ours.ScaledDense}
NAMES = tuple(make_fixtures.BUILDERS)

# Keras, in a subprocess: load each file, predict, read the optimizer, take one more step
KERAS_SIDE = r"""
import importlib.util, os, sys, warnings
import numpy as np
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras
spec = importlib.util.spec_from_file_location("make_fixtures", sys.argv[1])
make_fixtures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_fixtures)
make_fixtures.keras_custom_objects(keras)
directory = sys.argv[2]
for stem in sys.argv[3:]:
    name = stem.split("-")[-1]  # "resaved-rnn": the fixture rnn, loaded and saved by us
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = keras.models.load_model(os.path.join(directory, stem + ".keras"),
                                            safe_mode=(name != "lambda"))
    except Exception as error:  # reported by the tests of this model only
        np.savez(os.path.join(directory, stem + ".keras_side.npz"),
                 error=np.array(f"{type(error).__name__}: {error}"))
        continue
    x, y, _ = make_fixtures.data(name)
    inputs = x[0] if len(x) == 1 else x
    out = {"prediction": np.asarray(model.predict(inputs, verbose=0)),
           "optimizer_class": np.array(type(model.optimizer).__name__),
           "loss": np.array(str(model.loss)),
           "iterations": np.asarray(model.optimizer.iterations.numpy())}
    out.update({f"optimizer_{i}": np.asarray(v.numpy())
                for i, v in enumerate(model.optimizer.variables)})
    out.update({f"weight_{i}": np.asarray(v.numpy()) for i, v in enumerate(model.weights)})
    logs = model.train_on_batch(inputs, y, return_dict=True)
    out["next_loss"] = np.float32(logs["loss"])
    out["next_prediction"] = np.asarray(model.predict(inputs, verbose=0))
    np.savez(os.path.join(directory, stem + ".keras_side.npz"), **out)
"""
# Keras-written fixtures loaded here and saved again (op nodes, a nested model called twice)
RESAVED = ("resaved-functional", "resaved-rnn")


def _ours(name):
    """Our model `name`, compiled and trained one step (make_fixtures's data)."""
    tw_keras.backend.clear_session()
    model = make_fixtures.BUILDERS[name](tw_keras, CUSTOM)
    x, y, compile_args = make_fixtures.data(name)
    model.compile(**compile_args)
    inputs = x[0] if len(x) == 1 else x
    model.fit(inputs, y, batch_size=len(y), epochs=1, verbose=0)
    return model, inputs, y


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """name -> (our model, inputs, targets, what Keras made of our file)."""
    if not HAVE_TF:
        pytest.skip("TensorFlow is not installed beside tensorweave")
    directory = tmp_path_factory.mktemp("keras_files")
    models = {}
    for name in NAMES:
        model, inputs, y = _ours(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the lambda's warning
            model.save(str(directory / f"{name}.keras"))
        models[name] = (model, inputs, y)
    for stem in RESAVED:
        name = stem.split("-")[-1]
        model = tw_keras.models.load_model(os.path.join(FIXTURES, name + ".keras"))
        model.save(str(directory / f"{stem}.keras"))
        x, y, _ = make_fixtures.data(name)
        models[stem] = (model, x[0] if len(x) == 1 else x, y)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    done = subprocess.run([sys.executable, "-c", KERAS_SIDE,
                           os.path.join(FIXTURES, "make_fixtures.py"), str(directory), *NAMES,
                           *RESAVED],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-4000:]
    out = {}
    for name in NAMES + RESAVED:
        side = np.load(directory / f"{name}.keras_side.npz", allow_pickle=False)
        out[name] = models[name] + ({k: side[k] for k in side.files}, directory / f"{name}.keras")
    return out


def loaded_by_keras(saved, name):
    """(our model, inputs, targets, Keras's results, path); fails if Keras could not load it."""
    entry = saved[name]
    if "error" in entry[3]:
        pytest.fail(f"Keras could not load our {name}.keras: {entry[3]['error']}")
    return entry


@needs_tf
@pytest.mark.parametrize("name", NAMES + RESAVED)
def test_keras_loads_our_file_with_identical_predictions(saved, name):
    model, inputs, _, keras_side, _ = loaded_by_keras(saved, name)
    np.testing.assert_allclose(keras_side["prediction"], model.predict(inputs, verbose=0),
                               atol=1e-5, rtol=0)
    # every weight Keras read is ours, in Keras's order (ours is the same)
    weights = [keras_side[f"weight_{i}"] for i in range(len(model.weights))]
    assert f"weight_{len(model.weights)}" not in keras_side
    for theirs, mine in zip(weights, model.weights):
        np.testing.assert_array_equal(theirs, mine.numpy())


@needs_tf
@pytest.mark.parametrize("name", NAMES + RESAVED)
def test_keras_restores_our_compile_state_and_optimizer(saved, name):
    model, _, _, keras_side, _ = loaded_by_keras(saved, name)
    assert str(keras_side["optimizer_class"]) == type(model.optimizer).__name__
    assert str(keras_side["loss"]) == str(model.loss)
    assert int(keras_side["iterations"]) == 1 == int(model.optimizer.iterations.numpy())
    variables = model.optimizer.variables
    assert f"optimizer_{len(variables)}" not in keras_side
    for i, variable in enumerate(variables):
        np.testing.assert_array_equal(keras_side[f"optimizer_{i}"], variable.numpy(),
                                      err_msg=variable.path)


@needs_tf
@pytest.mark.parametrize("name", [n for n in NAMES if n != "functional"])
def test_keras_continues_training_where_we_stopped(saved, name):
    """One more step on both sides from the saved state: same loss, same new weights (the
    functional model is left out: its Dropout draws different random numbers in each)."""
    model, inputs, y, keras_side, _ = loaded_by_keras(saved, name)
    model.reset_metrics()  # the loss tracker still holds our first step; Keras's is fresh
    logs = model.train_on_batch(inputs, y, return_dict=True)
    np.testing.assert_allclose(logs["loss"], keras_side["next_loss"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict(inputs, verbose=0), keras_side["next_prediction"],
                               atol=1e-5, rtol=0)


@needs_tf
@pytest.mark.parametrize("name", NAMES)
def test_our_file_has_keras_layout(saved, name):
    *_, path = loaded_by_keras(saved, name)
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
    assert metadata["keras_version"].startswith("3.")
    assert {"module", "class_name", "config", "registered_name"} <= set(config)
    assert config["compile_config"]["loss"] == make_fixtures.data(name)[2]["loss"]
