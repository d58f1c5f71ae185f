"""Legacy `.h5` files written by tensorweave load in Keras 3 itself with identical predictions
(and, where Keras 3 can compile from the file, with the optimizer state restored).

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py):
    PYTHONPATH=/work/main TF_CPP_MIN_LOG_LEVEL=3 /tmp/tfref/bin/python -m pytest -q \\
        -p no:cacheprovider tests/tfref/test_legacy_h5_against_keras.py
"""
import importlib.util
import os
import warnings

import h5py
import numpy as np
import pytest

from tensorweave import keras as tw_keras
from tensorweave.keras.saving import legacy_h5

pytestmark = pytest.mark.tfref
try:
    import keras
except ImportError:
    keras = None
needs_tf = pytest.mark.skipif(keras is None,
                              reason="TensorFlow is not installed beside tensorweave")

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "legacy_h5")
_spec = importlib.util.spec_from_file_location("legacy_h5_make_fixtures",
                                               os.path.join(FIXTURES, "make_fixtures.py"))
make_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_fixtures)
NAMES = tuple(make_fixtures.BUILDERS)


def trained(name):
    """Our model of the fixture `name`, compiled and trained one step on fresh data."""
    tw_keras.backend.clear_session()
    model = make_fixtures.BUILDERS[name](tw_keras)
    x, y, compile_args = make_fixtures.data(name)
    model.compile(**compile_args)
    inputs = x[0] if len(x) == 1 else x
    model.fit(inputs, y, batch_size=len(y), epochs=1, verbose=0)
    return model, inputs


@needs_tf
@pytest.mark.parametrize("name", NAMES)
def test_keras_loads_our_h5_with_identical_predictions(tmp_path, name):
    model, x = trained(name)
    path = str(tmp_path / f"{name}.h5")
    legacy_h5.save_model_to_hdf5(model, path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        loaded = keras.models.load_model(path, compile=False)
    ours = model.predict(x, verbose=0)
    theirs = loaded.predict(x, verbose=0)
    np.testing.assert_allclose(np.asarray(theirs), np.asarray(ours), atol=1e-5, rtol=0)
    # and the weights Keras reads are ours, one for one
    assert len(loaded.weights) == len(model.weights)
    # in layer order (paths differ: Keras names a loaded Bidirectional's weights without it)
    for a, b in zip(loaded.weights, model.weights):
        np.testing.assert_array_equal(np.asarray(a.numpy()), b.numpy())


@needs_tf
def test_keras_compiles_from_our_training_config_and_restores_the_optimizer(tmp_path):
    model, x = trained("sequential")
    path = str(tmp_path / "sequential.h5")
    legacy_h5.save_model_to_hdf5(model, path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = keras.models.load_model(path)
    assert not [w for w in caught if "optimizer" in str(w.message)]
    assert type(loaded.optimizer).__name__ == "Adam"
    # Keras 3.15 builds the loaded optimizer from the model's own variables (none, for a
    # Sequential), so it restores `iteration` and `learning_rate` only: those equal ours, in order
    ours = {v.path: v.numpy() for v in model.optimizer.variables}
    assert [v.path for v in loaded.optimizer.variables] == list(ours)[:2]
    for variable in loaded.optimizer.variables:
        np.testing.assert_array_equal(np.asarray(variable.numpy()), ours[variable.path])
    assert int(loaded.optimizer.iterations.numpy()) == 1
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5, rtol=0)


@needs_tf
@pytest.mark.parametrize("name", NAMES)
def test_our_h5_layout_equals_keras(tmp_path, name):
    """Same layer names, weight names (paths), shapes and attributes as Keras 3's own writer
    for the same model (built in both with the same names)."""
    ours, _ = trained(name)
    ours_path = str(tmp_path / "ours.h5")
    legacy_h5.save_model_to_hdf5(ours, ours_path)
    keras.utils.clear_session()
    theirs = make_fixtures.BUILDERS[name](keras)
    x, y, compile_args = make_fixtures.data(name)
    theirs.compile(**compile_args)
    theirs.fit(x[0] if len(x) == 1 else x, y, batch_size=len(y), epochs=1, verbose=0)
    theirs_path = str(tmp_path / "theirs.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs.save(theirs_path)

    def layout(path):
        out = {}

        def visit(key, obj):
            if isinstance(obj, h5py.Dataset):
                out[key] = obj.shape
            else:
                out[key] = {k: (list(v) if isinstance(v, np.ndarray) else v)
                            for k, v in obj.attrs.items()}

        with h5py.File(path, "r") as f:
            f["model_weights"].visititems(visit)
            if "optimizer_weights" in f:
                f["optimizer_weights"].visititems(visit)
            out["/"] = sorted(f.attrs)
        return out

    assert layout(ours_path) == layout(theirs_path)
