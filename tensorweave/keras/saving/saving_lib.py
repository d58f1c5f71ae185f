"""Keras 3's file formats: the `.weights.h5` layout and the `.keras` zip archive.

The H5 layout is Keras's: walking the model finds every layer (and the optimizer) at a path made
of attribute names (`layers` for the layers of a Sequential or functional model, a subclassed
model's own attribute names), with the members of lists and dicts named after their class
(`dense`, `dense_1`…). Each object's own variables go to `<path>/vars/<i>` (a layer's trainable
variables first, then its non-trainable ones; an optimizer's `variables` in order), and the group
`<path>/vars` carries the object's name. The same walk reads a file back, so files move between
tensorweave and Keras in both directions.

Every file is written to a temporary file in the target's directory and then moved over the
target (`os.replace`): an error or a crash midway leaves the previous file as it was. Loading reads
and checks everything first, then assigns: a failed load changes no variable.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import shutil
import tempfile
import warnings
import zipfile

import numpy as np

from tensorweave.util.atomic_file import atomic_path, current_umask

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
VARS_FILENAME_H5 = "model.weights.h5"
KERAS_FORMAT_VERSION = "3.15.1"  # the Keras release whose `.keras` layout is written


def h5py_module(action: str = "save"):
    """h5py (an optional dependency: `pip install tensorweave[h5]`)."""
    try:
        import h5py
    except ImportError:
        if action == "save":
            raise ImportError("h5py must be installed in order to save a model.") from None
        raise ImportError("Loading HDF5 files requires the h5py package. You can install it via "
                          "`pip install h5py`") from None
    return h5py


# -- atomic writes (tensorweave/util/atomic_file.py) ------------------------------------------
def write_text_atomically(filepath, text: str) -> None:
    with atomic_path(filepath) as tmp:
        with open(tmp, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())


def copy_file_atomically(source, target) -> None:
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)


# -- walking a model ----------------------------------------------------------------------------
def _layer_class():
    from tensorweave.keras.engine.layer import Layer
    return Layer


def is_optimizer(obj) -> bool:
    return (getattr(type(obj), "_keras_module", None) == "keras.optimizers"
            and hasattr(obj, "apply_gradients") and hasattr(obj, "variables"))


def _is_saveable(obj) -> bool:
    return isinstance(obj, _layer_class()) or is_optimizer(obj)


def _kind(obj) -> str:
    from tensorweave.keras.engine.functional import Functional
    from tensorweave.keras.engine.sequential import Sequential
    if isinstance(obj, Sequential):
        return "Sequential"
    if isinstance(obj, Functional):
        return "Functional"
    if isinstance(obj, _layer_class()):
        return "Layer"
    return "Optimizer"


_skipsets: dict = {}
# internal attributes of our Sequential/Functional that hold layers in other arrangements
# (Keras skips its own equivalents: `_functional` of Sequential, `operations` of Functional)
_EXTRA_SKIPS = {"Sequential": {"_functional", "_stack", "_operations", "_built_functional"},
                "Functional": {"operations", "_operations", "_nodes_by_depth"}}


def _skipset(kind: str) -> set:
    """The attributes a bare Layer has: never walked (Keras's rule), plus our internals."""
    found = _skipsets.get(kind)
    if found is None:
        base = _skipsets.get("Layer")
        if base is None:
            probe = _layer_class()(name="saving_walk_probe")  # a name given: no uid is taken
            base = _skipsets["Layer"] = set(dir(probe)) | {"_self_unconditional_dependency_names"}
        found = _skipsets[kind] = base | _EXTRA_SKIPS.get(kind, set())
    return found


def _name_key(name: str) -> str:
    return f"~{name}" if name.startswith("_") else name


def _children(obj):
    """(attribute, value) pairs to walk, in Keras's order: a Sequential's or functional model's
    `layers` first, then attributes sorted by name with private ones last."""
    kind = _kind(obj)
    if kind == "Optimizer":
        return
    if kind in ("Sequential", "Functional"):
        yield "layers", obj.layers
    skip = _skipset(kind)
    for attr in sorted(dir(obj), key=_name_key):
        if attr.startswith("__") or attr in skip:
            continue
        try:
            child = getattr(obj, attr)
        except Exception:  # a property that does not apply to this object
            continue
        yield attr, child


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


def _container_members(container):
    """(name, member) for the saveables and nested containers of a list, tuple or dict."""
    from tensorweave.keras.engine.naming import to_snake_case
    used: dict = {}

    def unique(name):
        if name in used:
            used[name] += 1
            return f"{name}_{used[name]}"
        used[name] = 0
        return name

    values = list(container.values()) if isinstance(container, dict) else container
    for member in values:
        if _is_saveable(member):
            yield unique(to_snake_case(type(member).__name__)), member
        elif isinstance(member, (list, dict, tuple)):
            yield unique("container"), member


def own_variables(obj) -> list:
    """What Keras writes at `<path>/vars`: a layer's own trainable then non-trainable
    variables, or an optimizer's variables."""
    if isinstance(obj, _layer_class()):
        return list(obj._trainable_variables) + list(obj._non_trainable_variables)
    return list(obj.variables)


_DEFAULT_OWNERS = ("tensorweave.keras.engine.", "tensorweave.keras.optimizers.base_optimizer")


def _custom_method(obj, name: str):
    """A `save_own_variables` / `load_own_variables` override (a user's layer or optimizer),
    if the class has one; the base classes' own versions are the default handled here (which
    checks every shape before assigning)."""
    for klass in type(obj).__mro__:
        if name in vars(klass):
            if klass.__module__.startswith(_DEFAULT_OWNERS):
                return None
            return getattr(obj, name)
    return None


# -- writing ------------------------------------------------------------------------------------
class _WriteStore:
    """The store a layer's `save_own_variables(store)` fills: `store["0"] = value`."""

    def __init__(self, h5file, path: str, name):
        group = h5file.create_group(_join(path, "vars")) if path else h5file.create_group("vars")
        if isinstance(name, str):
            group.attrs["name"] = name
        self.group = group

    def __setitem__(self, key, value):
        value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
        self.group[str(key)] = np.asarray(value)

    def __getitem__(self, key):
        return np.array(self.group[str(key)])

    def __contains__(self, key):
        return str(key) in self.group

    def __len__(self):
        return len(self.group)

    def keys(self):
        return self.group.keys()


def _save_state(obj, h5file, path: str, visited: set) -> None:
    if id(obj) in visited:
        return
    store = _WriteStore(h5file, path, getattr(obj, "name", None))
    custom = _custom_method(obj, "save_own_variables")
    if custom is not None:
        custom(store)
    else:
        for i, variable in enumerate(own_variables(obj)):
            store[str(i)] = variable
    visited.add(id(obj))
    for attr, child in _children(obj):
        if _is_saveable(child):
            _save_state(child, h5file, _join(path, attr), visited)
        elif isinstance(child, (list, dict, tuple)):
            _save_container(child, h5file, _join(path, attr), visited, set())


def _save_container(container, h5file, path: str, visited: set, seen_containers: set) -> None:
    if id(container) in seen_containers:
        return
    seen_containers.add(id(container))
    for name, member in _container_members(container):
        if _is_saveable(member):
            _save_state(member, h5file, _join(path, name), visited)
        else:
            _save_container(member, h5file, _join(path, name), visited, seen_containers)


def write_weights(model, target, objects_to_skip=None) -> None:
    """Writes the H5 weights of `model` to `target` (a path or a binary file object)."""
    h5py = h5py_module("save")
    visited = {id(o) for o in objects_to_skip} if objects_to_skip is not None else set()
    with h5py.File(target, "w") as h5file:
        _save_state(model, h5file, "", visited)


def weights_bytes(model) -> bytes:
    buffer = io.BytesIO()
    write_weights(model, buffer)
    return buffer.getvalue()


def _model_config(model) -> dict:
    """serialize_keras_object(model); a model whose config cannot be made yet (no get_config)
    gets the outline Keras writes around one, with a warning: its weights still load."""
    from tensorweave.keras.saving.serialization import serialize_keras_object
    try:
        return serialize_keras_object(model)
    except NotImplementedError as error:
        warnings.warn(f"The config of model '{model.name}' could not be serialized ({error}); "
                      "the `.keras` file holds its weights and a partial config only.",
                      stacklevel=4)
        return {"module": getattr(type(model), "_keras_module", "keras"),
                "class_name": type(model).__name__,
                "config": {"name": model.name, "trainable": model.trainable},
                "registered_name": None}


def config_and_metadata(model) -> tuple:
    config_json = json.dumps(_model_config(model))
    metadata_json = json.dumps({
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    return config_json, metadata_json


def write_keras_archive(model, fileobj) -> None:
    """The `.keras` zip: metadata.json, config.json and model.weights.h5 (stored, as Keras)."""
    config_json, metadata_json = config_and_metadata(model)
    weights = weights_bytes(model)
    with zipfile.ZipFile(fileobj, "w") as archive:
        archive.writestr(METADATA_FILENAME, metadata_json)
        archive.writestr(CONFIG_FILENAME, config_json)
        archive.writestr(VARS_FILENAME_H5, weights)


def write_keras_directory(model, dirpath) -> None:
    """The unzipped form: a directory with the three files, replaced as a whole."""
    config_json, metadata_json = config_and_metadata(model)
    weights = weights_bytes(model)
    dirpath = os.path.abspath(os.fspath(dirpath))
    parent = os.path.dirname(dirpath)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(dirpath)}.", dir=parent)
    try:
        with open(os.path.join(tmp, METADATA_FILENAME), "w") as f:
            f.write(metadata_json)
        with open(os.path.join(tmp, CONFIG_FILENAME), "w") as f:
            f.write(config_json)
        with open(os.path.join(tmp, VARS_FILENAME_H5), "wb") as f:
            f.write(weights)
        os.chmod(tmp, 0o777 & ~current_umask())
        if os.path.isdir(dirpath):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(dirpath)}.old.", dir=parent)
            os.rmdir(old)
            os.replace(dirpath, old)
            os.replace(tmp, dirpath)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, dirpath)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# -- reading ------------------------------------------------------------------------------------
class _Reader:
    """Reads the `<path>/vars` groups of an open H5 file into dicts of arrays."""

    def __init__(self, h5file):
        self.file = h5file

    def get(self, path: str) -> dict:
        group = None
        f = self.file
        if not path:
            group = f["vars"] if "vars" in f else None
        elif path in f and "vars" in f[path]:
            group = f[path]["vars"]
        elif "_layer_checkpoint_dependencies" in f:  # files of Keras 2.13
            legacy = path.replace("layers", "_layer_checkpoint_dependencies")
            if legacy in f and "vars" in f[legacy]:
                group = f[legacy]["vars"]
        if group is None:
            return {}
        out = {}
        for key in group.keys():
            dataset = group[key]
            value = np.array(dataset)
            if dataset.attrs.get("dtype") == "bfloat16":
                import ml_dtypes
                value = value.astype(ml_dtypes.bfloat16)
            out[key] = value
        return out


def _shape_error(variable, value) -> ValueError:
    return ValueError(
        "The shape of the target variable and the shape of the target value in "
        "`variable.assign(value)` must match. "
        f"variable.shape={tuple(variable.shape.as_list())}, Received: value.shape="
        f"{tuple(value.shape)}. Target variable: {variable!r}")


def _layer_count_error(layer, all_vars, store) -> ValueError:
    if not all_vars and not layer.built:
        return ValueError(
            f"Layer '{layer.name}' was never built and thus it doesn't have any variables. "
            f"However the weights file lists {len(store)} variables for this layer.\n"
            "In most cases, this error indicates that either:\n\n"
            "1. The layer is owned by a parent layer that implements a `build()` method, but "
            "calling the parent's `build()` method did NOT create the state of the child layer "
            f"'{layer.name}'. A `build()` method must create ALL state for the layer, including "
            "the state of any children layers.\n\n"
            "2. You need to implement the `def build_from_config(self, config)` method on layer "
            f"'{layer.name}', to specify how to rebuild it during loading. In this case, you "
            "might also want to implement the method that generates the build config at saving "
            "time, `def get_build_config(self)`. The method `build_from_config()` is meant to "
            "create the state of the layer (i.e. its variables) upon deserialization.")
    return ValueError(
        f"Layer '{layer.name}' expected {len(all_vars)} variables, but received {len(store)} "
        f"variables during loading. Expected: {[v.name for v in all_vars]}")


def _plan_own(obj, store: dict):
    """The assignments loading `store` into `obj` makes (checked, not done): a list of
    (variable, array), or a callable for a user's `load_own_variables`."""
    custom = _custom_method(obj, "load_own_variables")
    if custom is not None:
        return lambda: custom(store)
    all_vars = own_variables(obj)
    if not isinstance(obj, _layer_class()):  # an optimizer: Keras skips a mismatch, warning
        if len(store) != len(all_vars):
            message = (f"Skipping variable loading for optimizer '{obj.name}', because it has "
                       f"{len(all_vars)} variables whereas the saved optimizer has {len(store)} "
                       "variables. ")
            if not all_vars:
                message += "This is likely because the optimizer has not been called/built yet."
            warnings.warn(message, stacklevel=4)
            return []
    elif len(store) != len(all_vars):
        raise _layer_count_error(obj, all_vars, store)
    plan = []
    for i, variable in enumerate(all_vars):
        value = store[str(i)]
        if tuple(value.shape) != tuple(variable.shape.as_list()):
            raise _shape_error(variable, value)
        plan.append((variable, value))
    return plan


class _LoadState:
    def __init__(self, reader, skip_mismatch, objects_to_skip):
        self.reader = reader
        self.skip_mismatch = skip_mismatch
        self.visited = {id(o) for o in objects_to_skip} if objects_to_skip is not None else set()
        self.failed: set = set()
        self.errors: dict = {}  # id -> (object, error)
        self.plans: dict = {}  # id -> list of (variable, array) or a callable


def _load_state(obj, state: _LoadState, path: str) -> None:
    if id(obj) in state.visited:
        return
    failure = False
    try:
        state.plans[id(obj)] = _plan_own(obj, state.reader.get(path))
    except Exception as error:  # noqa: BLE001 - collected and reported as Keras does
        state.failed.add(id(obj))
        state.errors[id(obj)] = (obj, error)
        failure = True
    failed_before = len(state.failed)
    for attr, child in _children(obj):
        if _is_saveable(child):
            _load_state(child, state, _join(path, attr))
        elif isinstance(child, (list, dict, tuple)):
            _load_container(child, state, _join(path, attr), set())
    newly_failed = len(state.failed) - failed_before
    if not failure:
        if newly_failed <= 0:
            state.visited.add(id(obj))
        if id(obj) in state.failed:  # failed at another path before, loaded here
            state.failed.discard(id(obj))
            state.errors.pop(id(obj), None)


def _load_container(container, state: _LoadState, path: str, seen_containers: set) -> None:
    if id(container) in seen_containers:
        return
    seen_containers.add(id(container))
    for name, member in _container_members(container):
        if _is_saveable(member):
            _load_state(member, state, _join(path, name))
        else:
            nested = _join(path, name)
            if nested not in state.reader.file:
                # files written before Keras saved nested containers: leave those layers as
                # they are (Keras warns when that loses something)
                probe = _LoadState(state.reader, True, None)
                probe.visited = state.visited
                _load_container(member, probe, nested, seen_containers)
                if probe.failed:
                    warnings.warn(f"Skipping nested container at '{nested}': no matching group "
                                  "found in the saved file. Affected layers will retain their "
                                  "freshly-initialized weights.", stacklevel=2)
                else:
                    state.plans.update(probe.plans)
                continue
            _load_container(member, state, nested, seen_containers)


def _loading_failure_message(errors: dict) -> str:
    objects = [obj for obj, _ in errors.values()]
    first, error = next(iter(errors.values()))
    return (f"A total of {len(errors)} objects could not be loaded. Example error message for "
            f"object {first}:\n\n{error}\n\nList of objects that could not be loaded:\n"
            f"{objects}")


def _all_variables(model) -> list:
    found, seen = [], set()
    for v in list(model.weights) + list(getattr(getattr(model, "optimizer", None),
                                                "variables", None) or []):
        if id(v) not in seen:
            seen.add(id(v))
            found.append(v)
    return found


def read_weights(model, h5file, skip_mismatch: bool = False, objects_to_skip=None) -> None:
    """Loads an open H5 file into `model`: all checks first, then every assignment (undone if
    one of them fails), so a failed load leaves the model as it was."""
    state = _LoadState(_Reader(h5file), skip_mismatch, objects_to_skip)
    _load_state(model, state, "")
    if state.failed:
        errors = {k: v for k, v in state.errors.items() if k in state.failed}
        message = _loading_failure_message(errors)
        if not skip_mismatch:
            raise ValueError(message)
        warnings.warn(message, stacklevel=3)
    plans = [p for k, p in state.plans.items() if k not in state.failed]
    variables = _all_variables(model)
    for plan in plans:
        if not callable(plan):
            variables.extend(v for v, _ in plan)
    snapshot = [(v, np.array(v.numpy())) for v in variables]
    try:
        for plan in plans:
            if callable(plan):
                plan()
            else:
                for variable, value in plan:
                    variable.assign(value)
    except BaseException:
        for variable, value in snapshot:
            variable.assign(value)
        raise


def load_weights_file(model, filepath, skip_mismatch: bool = False, objects_to_skip=None):
    """Reads a `.weights.h5` file, or the weights inside a `.keras` archive."""
    h5py = h5py_module("load")
    filepath_str = os.fspath(filepath) if not isinstance(filepath, io.IOBase) else ""
    if filepath_str.endswith(".keras"):
        with zipfile.ZipFile(filepath, "r") as archive:
            data = archive.read(VARS_FILENAME_H5)
        with h5py.File(io.BytesIO(data), "r") as h5file:
            read_weights(model, h5file, skip_mismatch, objects_to_skip)
        return
    if not isinstance(filepath, io.IOBase) and not os.path.exists(filepath):
        raise FileNotFoundError(f"No such file: '{filepath_str}'")
    with h5py.File(filepath, "r") as h5file:
        read_weights(model, h5file, skip_mismatch, objects_to_skip)


# -- whole models -------------------------------------------------------------------------------
def model_from_config_json(config_json, custom_objects=None, compile: bool = True,
                           safe_mode: bool = True):
    """The model a `config.json` describes (not compiled when `compile` is False)."""
    from tensorweave.keras.saving import serialization
    try:
        config = json.loads(config_json)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"The model config is not valid JSON: {error}") from None
    if not isinstance(config, dict):
        raise ValueError(f"The model config must be a JSON object; found {type(config).__name__}.")
    if not compile:
        config["compile_config"] = None
    with serialization.object_sharing_scope():
        return serialization.deserialize_keras_object(config, custom_objects,
                                                      safe_mode=safe_mode)


def _open_archive(fileobj, filepath) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(fileobj, "r")
    except zipfile.BadZipFile:
        raise ValueError(f"{filepath or 'The file'} is not a valid `.keras` zip archive (it may "
                         "be truncated or corrupted).") from None


def _read_member(archive, name: str, filepath) -> bytes:
    if name not in archive.namelist():
        raise ValueError(f"{filepath or 'The archive'} has no `{name}`: it is not a complete "
                         f"`.keras` file. Expected a {VARS_FILENAME_H5} file."
                         if name == VARS_FILENAME_H5 else
                         f"{filepath or 'The archive'} has no `{name}`: it is not a `.keras` "
                         "file.")
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise ValueError(f"Could not read `{name}` from {filepath or 'the archive'}: {error} "
                         "(the file may be truncated or corrupted).") from None


def _load_weights_bytes(model, data: bytes, filepath) -> None:
    h5py = h5py_module("load")
    try:
        h5file = h5py.File(io.BytesIO(data), "r")
    except OSError as error:
        raise ValueError(f"The weights in {filepath or 'the archive'} are not a readable HDF5 "
                         f"file: {error}") from None
    with h5file:
        read_weights(model, h5file)


def read_keras_archive(fileobj, custom_objects=None, compile: bool = True,
                       safe_mode: bool = True, filepath=None):
    """The model in a `.keras` zip: built from config.json, then given its weights (and its
    optimizer's state) from model.weights.h5."""
    with _open_archive(fileobj, filepath) as archive:
        config_json = _read_member(archive, CONFIG_FILENAME, filepath)
        weights = _read_member(archive, VARS_FILENAME_H5, filepath)
    model = model_from_config_json(config_json, custom_objects, compile, safe_mode)
    _load_weights_bytes(model, weights, filepath)
    return model


def read_keras_directory(dirpath, custom_objects=None, compile: bool = True,
                         safe_mode: bool = True):
    """The model in an unzipped `.keras` directory (`save(..., zipped=False)`)."""
    dirpath = os.fspath(dirpath)
    with open(os.path.join(dirpath, CONFIG_FILENAME)) as f:
        config_json = f.read()
    weights_path = os.path.join(dirpath, VARS_FILENAME_H5)
    if not os.path.exists(weights_path):
        raise ValueError(f"Expected a {VARS_FILENAME_H5} file in {dirpath}.")
    with open(weights_path, "rb") as f:
        weights = f.read()
    model = model_from_config_json(config_json, custom_objects, compile, safe_mode)
    _load_weights_bytes(model, weights, dirpath)
    return model
