"""Keras 3's serialization of objects to JSON-ready configs, and back (one registry for all).

A serialized object is `{"module", "class_name", "config", "registered_name"}`, plus
`build_config` (the shapes a layer was built with) and `compile_config` (a model's `compile`
arguments). Built-in objects name their public module (`keras.layers`, `keras.initializers`...),
which maps to the tensorweave namespace module holding them; a user's class is found through
`custom_objects`, a `custom_object_scope`, or `register_keras_serializable`. Functions are written
by name. Values JSON has no type for are written as Keras writes them (`__numpy__`, `__tensor__`,
`__keras_tensor__`, `__bytes__`, `__slice__`, `__ellipsis__`, `__lambda__`).

Loading never imports a module a file names, except tensorweave's own Keras namespaces, and a
Python lambda (code in the file) loads only with `safe_mode=False`.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import threading
import types
import warnings
from typing import Any, Optional

import numpy as np

from tensorweave.keras.saving import function_code

_registered: dict = {}  # "package>name" -> object
_registered_names: dict = {}  # object -> "package>name"

# The namespaces a file may name, and the order a legacy config without "module" is searched.
_NAMESPACES = ("keras.layers", "keras", "keras.losses", "keras.metrics", "keras.optimizers",
               "keras.optimizers.schedules", "keras.initializers", "keras.regularizers",
               "keras.constraints", "keras.activations", "keras.models")
# Where Keras 3 looks up a function written with module "builtins" (`relu`, `mse`...).
_FUNCTION_NAMESPACES = ("keras.activations", "keras.losses", "keras.metrics")
# Keras writes these classes under their source module, not a public one.
_PRIVATE_MODULES = {"keras.src.models.functional": "keras.Functional"}
_PLAIN_TYPES = (str, int, float, bool)


class _State(threading.local):
    def __init__(self):
        self.custom_objects: list = []
        self.safe_mode: Optional[bool] = None
        self.shared: Optional[dict] = None  # shared_object_id -> object, while loading a file


_state = _State()
_unsafe_deserialization = False


# -- registry and scopes ------------------------------------------------------------------------
def register_keras_serializable(package: str = "Custom", name: Optional[str] = None):
    """Registers a class or function under `package>name` for deserialization."""
    def decorator(obj):
        registered_name = f"{package}>{name or obj.__name__}"
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _registered[registered_name] = obj
        _registered_names[obj] = registered_name
        return obj
    return decorator


def get_registered_name(obj) -> str:
    """The name `obj` is registered under, or its own name."""
    found = _registered_names.get(obj)
    return found if found is not None else obj.__name__


def get_registered_object(name: str, custom_objects: Optional[dict] = None,
                          module_objects: Optional[dict] = None):
    """The object registered (or given in a scope or `custom_objects`) under `name`, or None."""
    if not isinstance(name, str):
        return None
    for scope in reversed(_state.custom_objects):
        if name in scope:
            return scope[name]
    if name in _registered:
        return _registered[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None


@contextlib.contextmanager
def custom_object_scope(*scopes: dict):
    """Makes the objects of `scopes` findable by name inside the block."""
    merged: dict = {}
    for scope in scopes:
        merged.update(scope or {})
    _state.custom_objects.append(merged)
    try:
        yield merged
    finally:
        _state.custom_objects.pop()


CustomObjectScope = custom_object_scope


def scoped_custom_objects() -> dict:
    """The objects of every enclosing `custom_object_scope`, inner ones winning."""
    merged: dict = {}
    for scope in _state.custom_objects:
        merged.update(scope)
    return merged


@contextlib.contextmanager
def safe_mode_scope(safe_mode: Optional[bool] = True):
    """Sets whether code from a file (a Python lambda) may be loaded inside the block."""
    saved = _state.safe_mode
    _state.safe_mode = safe_mode
    try:
        yield
    finally:
        _state.safe_mode = saved


def in_safe_mode() -> Optional[bool]:
    """False once unsafe deserialization is enabled, else the innermost `safe_mode_scope`'s
    setting (None outside any: callers treat that as safe)."""
    if _unsafe_deserialization:
        return False
    return _state.safe_mode


def enable_unsafe_deserialization() -> None:
    """Allows loading Python lambdas from files everywhere (`keras.config`)."""
    global _unsafe_deserialization
    _unsafe_deserialization = True


@contextlib.contextmanager
def object_sharing_scope():
    """While loading one file, objects written with the same `shared_object_id` are made once."""
    saved = _state.shared
    _state.shared = {}
    try:
        yield
    finally:
        _state.shared = saved


# -- serializing --------------------------------------------------------------------------------
def _public_module(cls) -> Optional[str]:
    if (getattr(cls, "__module__", "") or "").startswith("tensorweave.keras"):
        return getattr(cls, "_keras_module", "keras")
    return None


def _is_keras_tensor(obj) -> bool:
    return getattr(obj, "_is_keras_tensor", False)


def _serialize_special(obj):
    """Keras's encodings for values that are not plain JSON; None when `obj` is not one."""
    from tensorweave.framework.tensor import Tensor
    if isinstance(obj, bytes):
        return {"class_name": "__bytes__", "config": {"value": obj.decode("utf-8")}}
    if isinstance(obj, slice):
        return {"class_name": "__slice__", "config": {
            "start": serialize_keras_object(obj.start), "stop": serialize_keras_object(obj.stop),
            "step": serialize_keras_object(obj.step)}}
    if obj is Ellipsis:
        return {"class_name": "__ellipsis__", "config": {}}
    if _is_keras_tensor(obj):
        history = obj._keras_history
        if history is not None:
            history = [history[0].name, history[1], history[2]]
        return {"class_name": "__keras_tensor__", "config": {
            "shape": list(obj.shape), "dtype": obj.dtype, "keras_history": history}}
    if isinstance(obj, Tensor) and isinstance(getattr(obj, "_value", None), np.ndarray):
        return {"class_name": "__tensor__", "config": {"value": obj.numpy().tolist(),
                                                       "dtype": obj.dtype.name}}
    if isinstance(obj, np.ndarray) and obj.ndim > 0:
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": obj.dtype.name}}
    return None


def serialize_keras_object(obj) -> Any:
    """`obj` as Keras 3's JSON-ready structure."""
    if obj is None or isinstance(obj, _PLAIN_TYPES):
        return obj
    if isinstance(obj, list):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, tuple):
        return tuple(serialize_keras_object(x) for x in obj)
    if isinstance(obj, dict):
        return serialize_dict(obj)
    special = _serialize_special(obj)
    if special is not None:
        return special
    if isinstance(obj, (np.generic, np.ndarray)):
        return obj.item()
    if hasattr(obj, "as_list") and hasattr(obj, "rank"):  # a TensorShape
        return obj.as_list() if obj.rank is not None else None
    if hasattr(obj, "is_floating") and hasattr(obj, "as_numpy_dtype"):  # a DType
        return obj.name
    if isinstance(obj, types.FunctionType) and obj.__name__ == "<lambda>":
        warnings.warn("The object being serialized includes a `lambda`. This is unsafe. In "
                      "order to reload the object, you will have to pass `safe_mode=False` "
                      "to the loading function. Please avoid using `lambda` in the future, "
                      "and use named Python functions instead.", stacklevel=2)
        return {"class_name": "__lambda__",
                "config": {"value": list(function_code.dump_function(obj))}}
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        return {"module": "builtins", "class_name": "function",
                "config": get_registered_name(obj), "registered_name": "function"}
    if not hasattr(obj, "get_config") or inspect.isclass(obj):
        raise TypeError(f"Cannot serialize object {obj} of type {type(obj)}. To be "
                        "serializable, a class must implement the `get_config()` method.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The `get_config()` method of {obj} should return a dict. It "
                        f"returned: {config}")
    cls = type(obj)
    public = _public_module(cls)
    if public is not None:
        out = {"module": public, "class_name": cls.__name__, "config": serialize_dict(config),
               "registered_name": None}
    else:
        module = cls.__module__
        out = {"module": None if module == "__main__" else module, "class_name": cls.__name__,
               "config": serialize_dict(config), "registered_name": get_registered_name(cls)}
    _add_build_and_compile_config(obj, out)
    return out


def serialize_dict(obj: dict) -> dict:
    return {key: serialize_keras_object(value) for key, value in obj.items()}


def _add_build_and_compile_config(obj, out: dict) -> None:
    if hasattr(obj, "get_build_config"):
        build_config = obj.get_build_config()
        if build_config is not None:
            out["build_config"] = serialize_dict(build_config)
    if hasattr(obj, "get_compile_config"):
        compile_config = obj.get_compile_config()
        if compile_config is not None:
            out["compile_config"] = serialize_dict(compile_config)


# -- deserializing ------------------------------------------------------------------------------
def _namespace(module: str):
    if module not in _NAMESPACES:
        return None
    try:
        return importlib.import_module("tensorweave." + module)
    except ImportError:
        return None


def _from_namespace(module: Optional[str], name: str):
    """`name` from the tensorweave namespace of a Keras module the file names (a private
    `keras.src...` module is searched by name); None for any other module."""
    if not module or not (module == "keras" or module.startswith("keras.")):
        return None
    if module in _PRIVATE_MODULES:
        module, name = _PRIVATE_MODULES[module].rsplit(".", 1)
    if module.startswith("keras.src.ops."):  # a `keras.ops` call in a functional graph
        from tensorweave.keras.engine.op_layer import keras_operation_class
        return keras_operation_class(module, name)
    if module.startswith("keras.src."):
        return _search_namespaces(name)
    namespace = _namespace(module)
    return getattr(namespace, name, None) if namespace is not None else None


def _search_namespaces(name: str, namespaces=_NAMESPACES):
    for module in namespaces:
        namespace = _namespace(module)
        found = getattr(namespace, name, None) if namespace is not None else None
        if found is not None and not inspect.ismodule(found):
            return found
    return None


def _lambda_refused() -> ValueError:
    return ValueError("Requested the deserialization of a Python lambda. This carries a "
                      "potential risk of arbitrary code execution and thus it is disallowed by "
                      "default. If you trust the source of the artifact, you can override this "
                      "error by passing `safe_mode=False` to the loading function, or calling "
                      "`keras.config.enable_unsafe_deserialization()`.")


def _deserialize_special(class_name: str, inner, custom_objects, safe_mode):
    from tensorweave.framework.convert import convert_to_tensor
    from tensorweave.keras.engine.keras_tensor import KerasTensor
    if class_name == "__keras_tensor__":
        tensor = KerasTensor(inner["shape"], dtype=inner["dtype"])
        tensor._pre_serialization_keras_history = inner["keras_history"]
        return tensor
    if class_name == "__tensor__":
        return convert_to_tensor(np.array(inner["value"], dtype=inner["dtype"]))
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__bytes__":
        return inner["value"].encode("utf-8")
    if class_name == "__ellipsis__":
        return Ellipsis
    if class_name == "__slice__":
        return slice(*(deserialize_keras_object(inner[k], custom_objects, safe_mode)
                       for k in ("start", "stop", "step")))
    if safe_mode:
        raise _lambda_refused()
    value = inner.get("value", inner)
    return function_code.load_function(value, {**scoped_custom_objects(),
                                               **(custom_objects or {})})


_SPECIAL = {"__keras_tensor__", "__tensor__", "__numpy__", "__bytes__", "__ellipsis__",
            "__slice__", "__lambda__"}


def _locate_function(name: str, module, custom_objects, full_config):
    found = get_registered_object(name, custom_objects)
    if found is None:
        found = _from_namespace(module, name)
    if found is None and module == "builtins":
        found = _search_namespaces(name, _FUNCTION_NAMESPACES)
        if found is None and ">" not in name:  # Keras <= 3.6 wrote registered functions by name
            for scope in [custom_objects or {}, _registered] + _state.custom_objects:
                for key, value in scope.items():
                    if key.endswith(f">{name}"):
                        return value
    if found is None:
        raise TypeError(f"Could not locate function '{name}'. Make sure custom classes and "
                        "functions are decorated with "
                        "`@keras.saving.register_keras_serializable()`, or pass them in "
                        f"`custom_objects`. Full object config: {full_config}")
    return found


def _locate_class(class_name: str, registered_name, module, custom_objects, full_config):
    found = get_registered_object(registered_name or class_name, custom_objects)
    if found is None and registered_name:
        found = get_registered_object(class_name, custom_objects)
    if found is None:
        found = _from_namespace(module, class_name)
    if found is None and "module" not in full_config:  # a tf.keras 2 config
        found = _search_namespaces(class_name)
    if found is None:
        raise TypeError(f"Could not locate class '{class_name}'. Make sure custom classes are "
                        "decorated with `@keras.saving.register_keras_serializable()`, or pass "
                        f"them in `custom_objects`. Full object config: {full_config}")
    return found


def _from_module_objects(config, custom_objects, module_objects, safe_mode):
    """The `deserialize()` of a family (activations, initializers...): names resolve in that
    family's `module_objects`. Keras hands back the name it looked up when nothing matches."""
    inner, name, found = None, config, None
    if isinstance(config, dict):
        if "class_name" not in config:
            raise ValueError(f"Unknown `config` as a `dict`, config={config}")
        if config["class_name"] in _SPECIAL:
            return deserialize_keras_object(config, custom_objects, safe_mode)
        inner = config.get("config")
        for candidate in (config["class_name"], config.get("registered_name"),
                          inner if isinstance(inner, str) else None):
            found = get_registered_object(candidate, custom_objects)
            if found is not None:
                break
        if found is None:
            if config["class_name"] == "function":
                name = inner if config.get("module") == "builtins" \
                    else config.get("registered_name")
            elif "module" in config and config["module"] is None:
                raise TypeError(f"Cannot deserialize object of type `{config['class_name']}`. "
                                f"If `{config['class_name']}` is a custom class, please "
                                "register it using the "
                                "`@keras.saving.register_keras_serializable()` decorator.")
            else:
                name = config["class_name"]
    if found is None:
        found = get_registered_object(name, custom_objects, module_objects)
    if found is None and isinstance(config, dict):  # a class of the family's public module
        found = _from_namespace(config.get("module"), name)
    if found is None:
        return name
    if inspect.isclass(found):
        with custom_object_scope(custom_objects or {}):
            return found.from_config(inner or {}) if hasattr(found, "from_config") \
                else found(**(inner or {}))
    return found


def deserialize_keras_object(config, custom_objects: Optional[dict] = None,
                             safe_mode: bool = True, **kwargs):
    """The object `config` describes: a Keras 3 dict, a legacy `{class_name, config}`, a name
    (with `module_objects`), or a list or dict of those."""
    module_objects = kwargs.pop("module_objects", None)
    kwargs.pop("printable_module_name", None)
    if kwargs:
        raise TypeError(f"deserialize_keras_object() got unexpected arguments: {sorted(kwargs)}")
    scoped = in_safe_mode()
    if scoped is not None:
        safe_mode = scoped
    if config is None:
        return None
    if isinstance(config, str) and get_registered_object(config, custom_objects) is not None:
        return get_registered_object(config, custom_objects)
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(x, custom_objects, safe_mode) for x in config]
    if module_objects is not None:
        return _from_module_objects(config, custom_objects, module_objects, safe_mode)
    if isinstance(config, _PLAIN_TYPES):
        return config
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config}")
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom_objects, safe_mode)
                for key, value in config.items()}
    class_name = config["class_name"]
    inner = config["config"] if config["config"] is not None else {}
    if class_name in _SPECIAL:
        return _deserialize_special(class_name, inner, custom_objects, safe_mode)
    module = config.get("module")
    if class_name == "function":
        if not isinstance(inner, str):
            raise TypeError("Expected 'config' to be a non-null str for a function class name, "
                            f"instead got {type(inner)}.\nFull config: {config}")
        return _locate_function(inner, module, custom_objects, config)
    if not isinstance(inner, dict):
        raise TypeError(f"Expected 'config' to be a dict for {class_name}, instead got "
                        f"{type(inner)}.\nFull config: {config}")
    shared_id = config.get("shared_object_id")
    if shared_id is not None and _state.shared is not None and shared_id in _state.shared:
        return _state.shared[shared_id]
    cls = _locate_class(class_name, config.get("registered_name"), module, custom_objects,
                        config)
    if not inspect.isclass(cls):
        return cls
    if not hasattr(cls, "from_config"):
        raise TypeError(f"Unable to reconstruct an instance of '{class_name}' because the class "
                        f"is missing a `from_config()` method. Full object config: {config}")
    # nested objects in the config (a custom cell in an RNN...) find the same custom_objects
    with custom_object_scope(custom_objects or {}), safe_mode_scope(safe_mode):
        try:
            instance = cls.from_config(inner)
        except TypeError as error:
            raise TypeError(f"{cls} could not be deserialized properly. Please ensure that "
                            "components that are Python object instances (layers, models, "
                            "etc.) returned by `get_config()` are explicitly deserialized in "
                            f"the model's `from_config()` method.\n\nconfig={config}.\n\n"
                            f"Exception encountered: {error}") from error
        build_config = config.get("build_config")
        if build_config and not getattr(instance, "built", True):
            instance.build_from_config(build_config)
            instance.built = True
        compile_config = config.get("compile_config")
        if compile_config and hasattr(instance, "compile_from_config"):
            instance.compile_from_config(compile_config)
    if shared_id is not None and _state.shared is not None:
        _state.shared[shared_id] = instance
    return instance


def get_object(identifier, kind: str, module_objects: dict, custom_objects=None):
    """The `get()` of constraints, regularizers and initializers: None stays None; a name or
    a serialized dict gives that object (a class is instantiated); a callable (an instance, a
    plain function) is returned as it is; anything else is a ValueError of that `kind`."""
    if identifier is None:
        return None
    found = None
    if isinstance(identifier, (dict, str)):
        try:
            found = deserialize_keras_object(identifier, custom_objects=custom_objects,
                                             module_objects=module_objects)
        except TypeError as error:
            if not str(error).startswith(("Could not locate", "Cannot deserialize")):
                raise
        if isinstance(found, (dict, str)):
            found = None
    elif callable(identifier):
        found = identifier
    if inspect.isclass(found):
        return found()
    if found is not None:
        return found
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
