"""Every object's get_config against Keras 3 itself (the one of TensorFlow 2.21): the public
classes of keras.layers, losses, metrics, optimizers, optimizers.schedules, initializers,
regularizers and constraints present in both libraries, built from the shared tables of
tests/keras/test_config_round_trip.py (representative non-default arguments, and the
defaults), give the same config (keys, values, nesting: JSON-equal), for layers before and
after they are built; each library's from_config reads the other's config back to the same
config, and objects rebuilt from the same config behave the same (loss values, metric
results, schedule rates). Activations serialize to the same names and deserialize back.

Runs only where TensorFlow is importable beside tensorweave (see test_against_tensorflow.py).
"""
import copy
import functools
import importlib.util
import inspect
import json
import re
from pathlib import Path

import numpy as np
import pytest

import tensorweave as tw

pytestmark = pytest.mark.tfref
try:
    import keras
    import tensorflow as tf
except ImportError:
    tf = keras = None

needs_tf = pytest.mark.skipif(tf is None, reason="TensorFlow is not installed beside tensorweave")

_spec = importlib.util.spec_from_file_location(
    "config_round_trip_tables", Path(__file__).parent.parent / "keras" /
    "test_config_round_trip.py")
T = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(T)

CUSTOM = {"named_double": T.named_double}


def fresh(config):
    """A copy to hand to a from_config (Keras's optimizers, Lambda and wrappers change the dict
    they are given)."""
    return copy.deepcopy(config)


def plain(config):
    """The config as JSON gives it back (tuples become lists); Keras's tensors as lists."""
    return json.loads(json.dumps(config, default=lambda t: np.asarray(t).tolist()))


def strip_nested_build(config, top=True):
    """The config without the `build_config` of nested serialized layers."""
    if isinstance(config, dict):
        return {k: strip_nested_build(v, False) for k, v in config.items()
                if top or k != "build_config"}
    if isinstance(config, list):
        return [strip_nested_build(v, False) for v in config]
    return config


def without_name(config):
    """The config with every generated name ("dense_3", "forward_lstm_1") as its stem: the
    counters depend on how many objects each library made before."""
    if isinstance(config, dict):
        return {k: re.sub(r"_\d+$", "", v) if k == "name" and isinstance(v, str)
                else without_name(v) for k, v in config.items()}
    if isinstance(config, list):
        return [without_name(v) for v in config]
    return config


def _make_keras(make):
    """`make(keras)`; Keras's STFT initializer needs scipy to check its window name, so
    without scipy the same object is made around that check."""
    try:
        return make(keras)
    except ImportError:
        theirs = object.__new__(keras.initializers.STFT)
        theirs.__dict__.update(make(tw.keras).get_config())
        return theirs


def _feed_keras(x):
    return x


def _feed_ours(x):
    return [tw.constant(a) for a in x] if isinstance(x, list) else tw.constant(x)


def _build(case, layer, feed):
    if case.inputs is not None:
        x = feed(T.make_inputs(case.inputs))
        (case.call or (lambda lay, t: lay(t)))(layer, x)
    elif case.build is not None:
        layer.build(case.build)


@functools.lru_cache(maxsize=None)
def _layer_pair(name, built):
    """(Keras's layer, ours) for a case, built on its inputs when `built`; made once per test
    session (the tests only read them)."""
    case = T.LAYERS[name]
    theirs, ours = case.make(keras), case.make(tw.keras)
    if built:
        _build(case, theirs, _feed_keras)
        _build(case, ours, _feed_ours)
    return theirs, ours


# -- coverage ----------------------------------------------------------------------------------

@needs_tf
@pytest.mark.parametrize("ns", T.NAMESPACES)
def test_every_class_in_both_has_a_case(ns):
    theirs, ours = T.namespace(keras, ns), T.namespace(tw.keras, ns)
    covered = {T.case_class(tw.keras, ns, name) for name in T.TABLES[ns]}
    missing = []
    for name in dir(theirs):
        value = getattr(theirs, name)
        if name.startswith("_") or not inspect.isclass(value) or not hasattr(ours, name):
            continue
        if getattr(ours, name) in covered or name in T.BASES.get(ns, ()) or \
                value.__name__ in T.BASES.get(ns, ()):
            continue
        missing.append(name)
    assert not missing, missing


# -- layers ------------------------------------------------------------------------------------

@needs_tf
@pytest.mark.parametrize("built", [False, True], ids=["unbuilt", "built"])
@pytest.mark.parametrize("name", sorted(T.LAYERS))
def test_layer_config_matches_keras(name, built):
    theirs, ours = _layer_pair(name, built)
    their_config = strip_nested_build(plain(theirs.get_config()))
    our_config = strip_nested_build(plain(ours.get_config()))
    assert without_name(our_config) == without_name(their_config)
    assert our_config["dtype"] == their_config["dtype"]
    assert plain(tw.keras.layers.serialize(ours))["config"] == plain(ours.get_config())
    their_serialized = plain(keras.layers.serialize(theirs))
    our_serialized = plain(tw.keras.layers.serialize(ours))
    assert_same_outer(type(ours).__name__, our_serialized, their_serialized)


# Keras writes module "keras" for its bare base classes (exported as keras.Layer, keras.Metric,
# keras.Loss, keras.Optimizer, keras.Initializer); here they keep their family's module (which
# both libraries read back), as tensorweave.keras does not export those names at top level
BASE_MODULES = {"Layer": "keras.layers", "Metric": "keras.metrics", "Loss": "keras.losses",
                "Optimizer": "keras.optimizers", "Initializer": "keras.initializers"}


def assert_same_outer(class_name, ours, theirs):
    """The same module, class_name and registered_name (bare base classes: see BASE_MODULES)."""
    assert (ours["class_name"], ours["registered_name"]) == \
        (theirs["class_name"], theirs["registered_name"])
    if class_name in BASE_MODULES:
        assert (ours["module"], theirs["module"]) == (BASE_MODULES[class_name], "keras")
    else:
        assert ours["module"] == theirs["module"]


@needs_tf
@pytest.mark.parametrize("name", sorted(n for n, c in T.LAYERS.items()
                                        if c.inputs is not None or c.build is not None))
def test_build_config_matches_keras(name):
    """The shapes a built layer records for `build_from_config`: Keras records whatever its
    `build` received, also when another layer (a wrapper, an RNN) called `build` itself."""
    theirs, ours = _layer_pair(name, True)
    assert plain(ours.get_build_config()) == plain(theirs.get_build_config())


@needs_tf
@pytest.mark.parametrize("name", ["Bidirectional", "RNN", "RNN_stacked", "StackedRNNCells",
                                  "TimeDistributed"])
def test_nested_layers_carry_their_build_config(name):
    """Keras writes a `build_config` for each built layer nested in a config (the shapes its
    `build` received, from whatever called it)."""
    theirs, ours = _layer_pair(name, True)
    assert plain(ours.get_config()) == plain(theirs.get_config()) | \
        {"name": plain(ours.get_config())["name"]}


@needs_tf
@pytest.mark.parametrize("name", sorted(T.LAYERS))
def test_layer_configs_load_across(name):
    """Each library's from_config reads the other's (built) config, giving the same config;
    with the same weights the two layers compute the same output."""
    case = T.LAYERS[name]
    theirs, ours = _layer_pair(name, True)
    their_config, our_config = plain(theirs.get_config()), plain(ours.get_config())
    with tw.keras.saving.custom_object_scope(CUSTOM):
        from_theirs = type(ours).from_config(fresh(their_config))
    with keras.saving.custom_object_scope(CUSTOM):
        from_ours = type(theirs).from_config(fresh(our_config))
    assert strip_nested_build(plain(from_theirs.get_config())) == \
        strip_nested_build(their_config)
    assert strip_nested_build(plain(from_ours.get_config())) == strip_nested_build(our_config)
    if case.inputs is None:
        return
    x = T.make_inputs(case.inputs)
    call = case.call or (lambda lay, t: lay(t))
    call(from_theirs, _feed_ours(x))
    from_theirs.set_weights([np.asarray(w) for w in theirs.get_weights()])
    np.testing.assert_allclose(np.asarray(call(from_theirs, _feed_ours(x))),
                               np.asarray(call(theirs, x)), rtol=2e-5, atol=2e-5)


# -- losses, metrics, optimizers, schedules, initializers, regularizers, constraints ----------

def _objects(table):
    return [(table, name) for name in sorted(getattr(T, table))]


OBJECT_CASES = [case for table in ("LOSSES", "METRICS", "OPTIMIZERS", "SCHEDULES",
                                   "INITIALIZERS", "REGULARIZERS", "CONSTRAINTS")
                for case in _objects(table)]
NAMESPACE_OF = {"LOSSES": "losses", "METRICS": "metrics", "OPTIMIZERS": "optimizers",
                "SCHEDULES": "optimizers.schedules", "INITIALIZERS": "initializers",
                "REGULARIZERS": "regularizers", "CONSTRAINTS": "constraints"}


def _make(table, name):
    entry = getattr(T, table)[name]
    return entry[0] if isinstance(entry, tuple) else entry


@needs_tf
@pytest.mark.parametrize("table,name", OBJECT_CASES)
def test_object_config_matches_keras(table, name):
    make = _make(table, name)
    theirs, ours = _make_keras(make), make(tw.keras)
    ns = NAMESPACE_OF[table]
    kept = T.KEPT_BEYOND_KERAS.get((ns, name.split("_")[0]), ())
    our_config, their_config = plain(ours.get_config()), plain(theirs.get_config())
    assert without_name({k: v for k, v in our_config.items() if k not in kept}) == \
        without_name(their_config)
    serialized = plain(T.namespace(tw.keras, ns).serialize(ours))
    their_serialized = plain(keras.saving.serialize_keras_object(theirs))
    assert_same_outer(type(ours).__name__, serialized, their_serialized)
    if name == "AUC_multi":
        # Keras writes label_weights as a `__tensor__` its own AUC cannot read back; here
        # they are a list of numbers (what Keras's get_config holds), which both read
        assert serialized["config"] == our_config
    else:
        assert without_name({k: v for k, v in serialized["config"].items()
                             if k not in kept}) == without_name(their_serialized["config"])
    # each library reads the other's config back to the same config
    ours_from_theirs = plain(type(ours).from_config(fresh(their_config)).get_config())
    assert {k: v for k, v in ours_from_theirs.items() if k not in kept} == their_config
    if not name.startswith("STFT"):
        assert plain(type(theirs).from_config(fresh(our_config)).get_config()) == their_config


@needs_tf
@pytest.mark.parametrize("name", sorted(T.LOSSES))
def test_losses_rebuilt_from_config_compute_as_keras(name):
    make, true_spec, pred_spec = T.LOSSES[name]
    config = plain(make(keras).get_config())
    theirs = type(make(keras)).from_config(config)
    ours = type(make(tw.keras)).from_config(config)
    y_true, y_pred = T.make_inputs(true_spec, 1), T.make_inputs(pred_spec, 2)
    np.testing.assert_allclose(np.asarray(ours(y_true, y_pred)),
                               np.asarray(theirs(y_true, y_pred)), rtol=2e-5, atol=1e-6)


@needs_tf
@pytest.mark.parametrize("name", sorted(n for n, c in T.METRICS.items() if c[2] is not None))
def test_metrics_rebuilt_from_config_compute_as_keras(name):
    make, true_spec, pred_spec = T.METRICS[name]
    config = plain(make(tw.keras).get_config())
    results = []
    for k in (keras, tw.keras):
        metric = type(make(k)).from_config(config)
        y_pred = T.make_inputs(pred_spec, 2)
        if true_spec is None:
            metric.update_state(y_pred)
        else:
            metric.update_state(T.make_inputs(true_spec, 1), y_pred)
        results.append(np.asarray(metric.result()))
    np.testing.assert_allclose(results[1], results[0], rtol=2e-5, atol=1e-6)


@needs_tf
@pytest.mark.parametrize("name", sorted(T.SCHEDULES))
def test_schedules_rebuilt_from_config_compute_as_keras(name):
    make = T.SCHEDULES[name]
    config = plain(make(keras).get_config())
    theirs = type(make(keras)).from_config(config)
    ours = type(make(tw.keras)).from_config(config)
    for step in range(0, 14, 3):
        np.testing.assert_allclose(np.asarray(ours(step)), np.asarray(theirs(step)),
                                   rtol=1e-6)


@needs_tf
@pytest.mark.parametrize("ns,name,args", T.minimal_cases(tw.keras),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_minimal_arguments_config_matches_keras(ns, name, args):
    if not hasattr(T.namespace(keras, ns), name):
        pytest.fail(f"{ns}.{name} is not in Keras 3")
    if name == "STFT":
        theirs = object.__new__(keras.initializers.STFT)
        theirs.__dict__.update(side="real", window="hann", scaling="density", periodic=False)
    else:
        theirs = getattr(T.namespace(keras, ns), name)(*args)
    ours = getattr(T.namespace(tw.keras, ns), name)(*args)
    their_config, our_config = plain(theirs.get_config()), plain(ours.get_config())
    kept = T.KEPT_BEYOND_KERAS.get((ns, name), ())
    their_config = without_name(their_config)
    our_config = {k: v for k, v in without_name(our_config).items() if k not in kept}
    assert our_config == their_config


@needs_tf
def test_abstract_bases_match_keras():
    for k in (keras, tw.keras):
        assert k.initializers.Initializer().get_config() == {}
        assert k.constraints.Constraint().get_config() == {}
        with pytest.raises(NotImplementedError):
            k.regularizers.Regularizer().get_config()
        with pytest.raises(NotImplementedError):
            k.optimizers.schedules.LearningRateSchedule().get_config()
    assert tw.keras.losses.Loss(name="x", reduction="sum").get_config() == \
        keras.losses.Loss(name="x", reduction="sum").get_config()
    assert tw.keras.metrics.Metric(name="m", dtype="float64").get_config() == \
        keras.metrics.Metric(name="m", dtype="float64").get_config()
    assert plain(tw.keras.optimizers.Optimizer(learning_rate=0.5, name="o", clipnorm=1.0)
                 .get_config()) == \
        plain(keras.optimizers.Optimizer(learning_rate=0.5, name="o", clipnorm=1.0).get_config())


@needs_tf
def test_input_spec_config_matches_keras():
    for kwargs in ({"ndim": 2, "axes": {-1: 3}}, {"shape": (None, 4), "dtype": "float32"},
                   {"min_ndim": 3, "max_ndim": 5, "allow_last_axis_squeeze": True}):
        assert plain(tw.keras.layers.InputSpec(**kwargs).get_config()) == \
            plain(keras.layers.InputSpec(**kwargs).get_config()), kwargs


# -- activations -------------------------------------------------------------------------------

KERAS_ACTIVATIONS = sorted(T.ACTIVATIONS)


@needs_tf
@pytest.mark.parametrize("name", KERAS_ACTIVATIONS)
def test_activation_serialize_matches_keras(name):
    theirs, ours = getattr(keras.activations, name), getattr(tw.keras.activations, name)
    serialized = keras.activations.serialize(theirs)
    assert tw.keras.activations.serialize(ours) == serialized
    assert tw.keras.activations.deserialize(serialized).__name__ == \
        keras.activations.deserialize(serialized).__name__
    assert tw.keras.layers.Dense(2, activation=name).get_config()["activation"] == \
        keras.layers.Dense(2, activation=name).get_config()["activation"]
    their_function = keras.saving.serialize_keras_object(theirs)
    assert tw.keras.saving.serialize_keras_object(ours) == their_function
    assert tw.keras.activations.get(their_function).__name__ == \
        keras.activations.get(their_function).__name__


@needs_tf
def test_activation_names_match_keras():
    theirs = sorted(n for n in dir(keras.activations) if not n.startswith("_")
                    and callable(getattr(keras.activations, n)))
    ours = sorted(n for n in dir(tw.keras.activations) if not n.startswith("_")
                  and callable(getattr(tw.keras.activations, n)))
    assert ours == theirs
