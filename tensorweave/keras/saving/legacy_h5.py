"""Whole models in the legacy HDF5 format (`model.save("x.h5")`), as tf.keras 2 wrote them and
as Keras 3 still reads and writes them.

The file's root attributes are `backend`, `keras_version`, `model_config` (JSON:
`{"class_name": <model class>, "config": model.get_config()}`, the model's layers written in the
legacy `{"class_name", "config"}` form without a module) and, for a compiled model,
`training_config` (JSON: the compile arguments, with `optimizer_config`). The group
`model_weights` holds the weights (see legacy_h5_weights.py) and `optimizer_weights` the
optimizer's variables (`weight_names` + datasets).

Reading accepts files of tf.keras 2 (Keras 2 layer configs, functional nodes as nested lists,
`batch_input_shape`, tf.keras 2 optimizer, loss and metric configs) and of Keras 3.
"""
from __future__ import annotations

import copy
import inspect
import json
import os
import warnings

import numpy as np

from tensorweave.keras.saving import legacy_h5_weights as weights_format
from tensorweave.keras.saving import saving_lib

BACKEND_NAME = "tensorflow"  # what the files say, so Keras reads them as its own
LEGACY_FORMAT_WARNING = (
    "You are saving your model as an HDF5 file via `model.save()` or "
    "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend "
    "using instead the native Keras format, e.g. `model.save('my_model.keras')` or "
    "`keras.saving.save_model(model, 'my_model.keras')`. ")


# -- the legacy JSON forms ----------------------------------------------------------------------
def _json_default(obj):
    """What json.dumps cannot write by itself: NumPy values, shapes, dtypes, Keras objects."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if hasattr(obj, "as_list") and hasattr(obj, "rank"):  # a TensorShape
        return obj.as_list() if obj.rank is not None else None
    if hasattr(obj, "is_floating") and hasattr(obj, "as_numpy_dtype"):  # a DType
        return obj.name
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    if hasattr(obj, "get_config"):
        return legacy_serialize(obj)
    if callable(obj) and hasattr(obj, "__name__"):
        return _registered_name(obj)
    raise TypeError(f"Not JSON Serializable: {obj!r}")


def _registered_name(obj) -> str:
    from tensorweave.keras.saving import serialization
    return serialization.get_registered_name(obj)


def legacy_serialize(obj):
    """The legacy form Keras writes into `.h5` files: `{"class_name": <registered name>,
    "config": get_config()}` (no module) for an object with a config, the (registered) name
    for a function."""
    if obj is None:
        return None
    if hasattr(obj, "get_config") and not inspect.isclass(obj):
        config = {}
        for key, item in obj.get_config().items():
            if isinstance(item, str):
                config[key] = item
                continue
            try:
                serialized = legacy_serialize(item)
            except ValueError:
                config[key] = item
                continue
            if isinstance(serialized, dict) and not isinstance(item, dict):
                serialized["__passive_serialization__"] = True
            config[key] = serialized
        return {"class_name": _registered_name(type(obj)), "config": config}
    if hasattr(obj, "__name__"):
        return _registered_name(obj)
    raise ValueError(f"Cannot serialize {obj} because it doesn't implement `get_config()`.")


def _is_layer_entry(entry) -> bool:
    return isinstance(entry, dict) and "class_name" in entry and "config" in entry


def _legacy_layer_entry(entry: dict) -> dict:
    """One entry of a model config's `layers` list, from Keras 3's form (module,
    registered_name, build_config...) to the legacy one (nested models converted too)."""
    if "module" not in entry and "registered_name" not in entry:
        return entry
    out = {"class_name": entry.get("registered_name") or entry["class_name"],
           "config": legacy_model_config_body(entry["config"])}
    for key in ("name", "inbound_nodes"):  # a functional model's node data
        if key in entry:
            out[key] = entry[key]
    return out


def legacy_model_config_body(config):
    """A model's `get_config()` with its `layers` in the legacy form (what Keras writes with its
    legacy option on); any other config is returned unchanged."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        return config
    if not all(_is_layer_entry(e) for e in config["layers"]):
        return config
    out = dict(config)
    out["layers"] = [_legacy_layer_entry(e) for e in config["layers"]]
    return out


def model_metadata(model, include_optimizer: bool = True) -> dict:
    """The root attributes of a legacy `.h5` file, as Python values."""
    metadata = {
        "keras_version": saving_lib.KERAS_FORMAT_VERSION,
        "backend": BACKEND_NAME,
        "model_config": {"class_name": type(model).__name__,
                         "config": legacy_model_config_body(model.get_config())},
    }
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and include_optimizer and getattr(model, "compiled", False):
        training = dict(getattr(model, "_compile_config", None) or {})
        training.pop("optimizer", None)
        if training.get("jit_compile") == "auto":
            training["jit_compile"] = bool(getattr(model, "jit_compile", False))
        training = _serialize_nested(training)
        training["optimizer_config"] = {"class_name": _registered_name(type(optimizer)),
                                        "config": optimizer.get_config()}
        metadata["training_config"] = training
    return metadata


def _serialize_nested(value):
    """Every callable in a nested structure of lists and dicts in its legacy form."""
    if isinstance(value, dict):
        return {k: _serialize_nested(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_serialize_nested(v) for v in value]
    if callable(value):
        return legacy_serialize(value)
    return value


# -- saving -------------------------------------------------------------------------------------
def _encoded_metadata(model, include_optimizer: bool) -> dict:
    """The root attributes, JSON made (so a model that cannot be described fails here)."""
    out = {}
    for key, value in model_metadata(model, include_optimizer).items():
        if isinstance(value, (dict, list, tuple)):
            value = json.dumps(value, default=_json_default).encode("utf8")
        out[key] = value
    return out


def _write_model(h5file, model, include_optimizer: bool, metadata: dict) -> None:
    for key, value in metadata.items():
        h5file.attrs[key] = value
    weights_format.save_weights_to_hdf5_group(h5file.create_group("model_weights"), model,
                                              BACKEND_NAME, saving_lib.KERAS_FORMAT_VERSION)
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None:
        weights_format.save_optimizer_weights_to_hdf5_group(h5file, optimizer)


def save_model_to_hdf5(model, filepath, overwrite: bool = True,
                       include_optimizer: bool = True) -> None:
    """Writes `model` (config, weights, compile arguments and optimizer state) as a legacy `.h5`
    file, atomically: an error midway leaves any previous file as it was. `filepath` may also
    be an open, writable `h5py.File`."""
    h5py = saving_lib.h5py_module("save")
    if isinstance(filepath, h5py.File):
        _write_model(filepath, model, include_optimizer,
                     _encoded_metadata(model, include_optimizer))
        filepath.flush()
        return
    if not overwrite and os.path.isfile(filepath):
        from tensorweave.keras.saving.saving_api import ask_to_proceed_with_overwrite
        if not ask_to_proceed_with_overwrite(filepath):
            return
    directory = os.path.dirname(os.fspath(filepath))
    if directory:
        os.makedirs(directory, exist_ok=True)
    # the metadata first: a model that cannot be described fails before any file is touched
    metadata = _encoded_metadata(model, include_optimizer)
    with saving_lib.atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w") as h5file:
            _write_model(h5file, model, include_optimizer, metadata)


# -- loading: the model -------------------------------------------------------------------------
def _module_objects() -> dict:
    """The names a legacy config's `class_name` may use without a module: every layer, and the
    model classes."""
    from tensorweave.keras import layers
    from tensorweave.keras.engine.functional import Functional
    from tensorweave.keras.engine.input_layer import InputLayer
    from tensorweave.keras.engine.model import Model
    from tensorweave.keras.engine.sequential import Sequential
    found = {k: v for k, v in vars(layers).items() if inspect.isclass(v)}
    found.update(InputLayer=InputLayer, Functional=Functional, Model=Model, Sequential=Sequential)
    return found


_RNN_LAYERS = ("RNN", "SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")


def _upgrade_layer_config(class_name: str, config: dict) -> None:
    """Keras 2 arguments Keras 3's layers do not take, in place: `time_major` of the recurrent
    layers (always False in a file Keras 3 can use), BatchNormalization's one-element `axis`
    list, a Lambda's function as a `[code, defaults, closure]` list and its `function_type`,
    `module`, `output_shape_type` and `output_shape_module` (Keras does this for a top-level
    Lambda only; here it holds at any depth)."""
    if class_name in _RNN_LAYERS and "time_major" in config:
        if config.pop("time_major"):
            raise ValueError(f"Layer '{config.get('name')}' ({class_name}) was saved with "
                             "`time_major=True`, which Keras 3 layers do not support.")
    if class_name == "BatchNormalization":
        axis = config.get("axis")
        if isinstance(axis, (list, tuple)) and len(axis) == 1:
            config["axis"] = int(axis[0])
    if class_name == "Lambda":
        for key in ("module", "function_type", "output_shape_type", "output_shape_module"):
            config.pop(key, None)
        function = config.get("function")
        if isinstance(function, list):  # Keras 2's [code, defaults, closure]
            config["function"] = {"class_name": "__lambda__",
                                  "config": {"code": function[0], "defaults": function[1],
                                             "closure": function[2]}}


def upgrade_keras2_config(config):
    """A copy of a serialized model or layer (any nesting: a model's `layers`, a wrapper's
    `layer`, an RNN's `cell`) with every Keras 2-only layer argument turned into Keras 3's
    (see `_upgrade_layer_config`); Keras 3 configs come back unchanged."""
    if isinstance(config, list):
        return [upgrade_keras2_config(item) for item in config]
    if not isinstance(config, dict):
        return config
    out = {key: upgrade_keras2_config(value) for key, value in config.items()}
    if isinstance(out.get("class_name"), str) and isinstance(out.get("config"), dict):
        _upgrade_layer_config(out["class_name"], out["config"])
    return out


def model_from_config(config, custom_objects=None, safe_mode: bool = True):
    """The (uncompiled) model a legacy `model_config` describes: Keras 2's layer arguments
    upgraded (`upgrade_keras2_config`), Keras's top-level fixes (`batch_input_shape`, a
    one-element `axis` list), then the one deserializer, which finds classes named without a
    module among the layers and models."""
    from tensorweave.keras.saving import serialization
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Received: "
                        f"config={config}. Did you meant to use "
                        "`Sequential.from_config(config)`?")
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError("The provided configuration is not a valid Keras configuration. "
                         "Expected a dictionary containing a 'config' key. Received: "
                         f"config={config}")
    config = upgrade_keras2_config(config)
    inner = config["config"]
    batch_input_shape = inner.pop("batch_input_shape", None)
    if batch_input_shape is not None:
        key = "batch_shape" if config["class_name"] == "InputLayer" else "input_shape"
        inner[key] = batch_input_shape
    axis = inner.pop("axis", None)
    if isinstance(axis, list) and len(axis) == 1:
        inner["axis"] = int(axis[0])
    elif isinstance(axis, (int, float)):
        inner["axis"] = int(axis)
    elif axis is not None:
        inner["axis"] = axis
    return serialization.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=_module_objects(),
        printable_module_name="layer", safe_mode=safe_mode)


def _read_json_attr(h5file, name: str):
    value = h5file.attrs.get(name)
    if value is None:
        return None
    if hasattr(value, "decode"):
        value = value.decode("utf-8")
    return json.loads(value)


# -- loading: the compile arguments -------------------------------------------------------------
_KERAS2_OPTIMIZER_KEYS = ("is_legacy_optimizer", "jit_compile")


def _optimizer_from_config(optimizer_config: dict, custom_objects):
    """The optimizer of a training config. tf.keras 2 registered its optimizers as
    `Custom>Adam` and wrote keys Keras 3 has not (`is_legacy_optimizer`, `jit_compile`, the
    old `lr` and `decay`): those become Keras 3's built-in optimizer and arguments."""
    from tensorweave.keras import optimizers
    from tensorweave.keras.optimizers import identifiers
    from tensorweave.keras.saving import serialization
    config = copy.deepcopy(optimizer_config)
    class_name = config.get("class_name", "")
    if (serialization.get_registered_object(class_name, custom_objects) is None
            and class_name.startswith("Custom>")
            and class_name.split(">", 1)[1].lower() in identifiers.ALL_OBJECTS_DICT):
        class_name = config["class_name"] = class_name.split(">", 1)[1]
    if class_name.lower() in identifiers.ALL_OBJECTS_DICT:
        inner = config.setdefault("config", {})
        for key in _KERAS2_OPTIMIZER_KEYS:
            inner.pop(key, None)
        if "lr" in inner:
            inner.setdefault("learning_rate", inner.pop("lr"))
        decay = inner.pop("decay", None)
        if decay:
            warnings.warn(f"The saved optimizer's `decay={decay}` (a tf.keras 2 argument) is "
                          "ignored: Keras 3 optimizers use a learning rate schedule instead.",
                          stacklevel=4)
    return optimizers.deserialize(config, custom_objects=custom_objects)


def _lookup_function(name: str, custom_objects):
    """A loss or metric function by (registered) name."""
    from tensorweave.keras import losses, metrics
    from tensorweave.keras.saving import serialization
    found = serialization.get_registered_object(name, custom_objects)
    if found is None:
        found = getattr(metrics, name, None) or getattr(losses, name, None)
    if found is None or inspect.isclass(found) or not callable(found):
        raise ValueError(f"Unknown function in the saved training config: '{name}'. Pass it in "
                         "`custom_objects`.")
    return found


def _is_single_object(config) -> bool:
    return isinstance(config, str) or (isinstance(config, dict) and "class_name" in config)


def _deserialize_nested(fn, config):
    if config is None:
        return None
    if _is_single_object(config):
        return fn(config)
    if isinstance(config, dict):
        return {k: _deserialize_nested(fn, v) for k, v in config.items()}
    if isinstance(config, (list, tuple)):
        return [_deserialize_nested(fn, v) for v in config]
    raise ValueError("Saved configuration not understood. Configuration should be a dictionary, "
                     f"string, tuple or list. Received: config={config}.")


def _loss_from_config(config, custom_objects):
    """A loss of a training config: names stay names (compile resolves them); a dict is
    deserialized (tf.keras 2's `reduction="auto"` is Keras 3's default)."""
    from tensorweave.keras import losses
    if isinstance(config, str):
        return config
    config = copy.deepcopy(config)
    inner = config.get("config")
    if isinstance(inner, dict) and inner.get("reduction") == "auto":
        inner["reduction"] = "sum_over_batch_size"
    return losses.deserialize(config, custom_objects=custom_objects)


def _metric_from_config(config, custom_objects):
    """A metric of a training config: names stay names (compile resolves "accuracy" from the
    loss); tf.keras 2's `MeanMetricWrapper` naming its function becomes that wrapper again."""
    from tensorweave.keras import metrics
    if isinstance(config, str):
        return config
    inner = config.get("config") or {}
    if config.get("class_name") == "MeanMetricWrapper" and isinstance(inner.get("fn"), str):
        return metrics.MeanMetricWrapper(fn=_lookup_function(inner["fn"], custom_objects),
                                         name=inner.get("name"), dtype=inner.get("dtype"))
    return metrics.deserialize(copy.deepcopy(config), custom_objects=custom_objects)


def _unwrap_single_output(value, model):
    """tf.keras 2 wrote the metrics of a one-output model as `[[...]]`: one list per output."""
    outputs = getattr(model, "outputs", None) or []
    if (len(outputs) == 1 and isinstance(value, list) and len(value) == 1
            and isinstance(value[0], list)):
        return value[0]
    return value


def compile_args_from_training_config(training_config: dict, custom_objects=None,
                                      model=None) -> dict:
    """The `compile()` arguments a saved training config describes."""
    from tensorweave.keras.saving import serialization
    with serialization.custom_object_scope(custom_objects or {}):
        optimizer = _optimizer_from_config(training_config["optimizer_config"], custom_objects)
        loss = _deserialize_nested(lambda c: _loss_from_config(c, custom_objects),
                                   training_config.get("loss"))
        metrics = _deserialize_nested(lambda c: _metric_from_config(c, custom_objects),
                                      training_config.get("metrics"))
        weighted = _deserialize_nested(lambda c: _metric_from_config(c, custom_objects),
                                       training_config.get("weighted_metrics"))
    if model is not None:
        metrics = _unwrap_single_output(metrics, model)
        weighted = _unwrap_single_output(weighted, model)
    return dict(optimizer=optimizer, loss=loss, metrics=metrics, weighted_metrics=weighted,
                loss_weights=training_config.get("loss_weights"))


def _restore_optimizer(h5file, model) -> None:
    """Builds the optimizer and loads the saved variables if they match it one for one (count
    and shapes); otherwise warns and keeps the fresh optimizer, as Keras does."""
    optimizer = model.optimizer
    try:
        optimizer.build(model.trainable_variables)
    except (NotImplementedError, AttributeError):
        warnings.warn(f"Error when creating the weights of optimizer {optimizer.name}, making it "
                      "impossible to restore the saved optimizer state. As a result, your model "
                      "is starting with a freshly initialized optimizer.", stacklevel=3)
        return
    values = weights_format.load_optimizer_weights_from_hdf5_group(h5file)
    variables = list(optimizer.variables)
    if len(values) != len(variables) or any(
            tuple(v.shape.as_list()) != tuple(np.shape(x)) for v, x in zip(variables, values)):
        warnings.warn("Error in loading the saved optimizer state. As a result, your model is "
                      "starting with a freshly initialized optimizer.", stacklevel=3)
        return
    plan = weights_format._Plan()
    for variable, value in zip(variables, values):
        plan.add(variable, value)
    plan.apply()


# -- loading: the whole file --------------------------------------------------------------------
def load_model_from_hdf5(filepath, custom_objects=None, compile: bool = True,
                         safe_mode: bool = True):
    """The model saved in a legacy `.h5` file (a path or an open `h5py.File`): rebuilt from its
    config, with its weights, and compiled from the training config (restoring the optimizer's
    variables when they match) unless `compile=False`."""
    h5py = saving_lib.h5py_module("load")
    if isinstance(filepath, h5py.File):
        return _load(filepath, filepath, custom_objects, compile, safe_mode)
    with h5py.File(filepath, "r") as h5file:
        return _load(h5file, filepath, custom_objects, compile, safe_mode)


def _load(h5file, filepath, custom_objects, compile, safe_mode):
    model_config = _read_json_attr(h5file, "model_config")
    if model_config is None:
        raise ValueError(f"No model config found in the file at {filepath}.")
    model = model_from_config(model_config, custom_objects=custom_objects, safe_mode=safe_mode)
    weights_format.load_weights_from_hdf5_group(
        weights_format.get_group(h5file, "model_weights"), model)
    if not compile:
        return model
    training_config = _read_json_attr(h5file, "training_config")
    if training_config is None:
        warnings.warn("No training configuration found in the save file, so the model was *not* "
                      "compiled. Compile it manually.", stacklevel=3)
        return model
    model.compile(**compile_args_from_training_config(training_config, custom_objects, model))
    if "optimizer_weights" in h5file:
        _restore_optimizer(h5file, model)
    return model
