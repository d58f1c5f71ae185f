"""Keras 3's serialization of objects to JSON-ready configs, and back (one registry for all).

A serialized object is `{"module", "class_name", "config", "registered_name"}`. Built-in objects
name their public module (`keras.layers`, `keras.initializers`...), which maps to the tensorweave
namespace module holding them; a user's class is found through `custom_objects`, a
`custom_object_scope`, or `register_keras_serializable`.
"""
from __future__ import annotations

import contextlib
import importlib
import inspect
import threading
import types
import warnings
from typing import Any, Optional

_registered: dict = {}  # "package>name" -> object
_registered_names: dict = {}  # object -> "package>name"


class _Scope(threading.local):
    def __init__(self):
        self.custom_objects: list = []


_scope = _Scope()


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
    for scope in reversed(_scope.custom_objects):
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
    _scope.custom_objects.append(merged)
    try:
        yield merged
    finally:
        _scope.custom_objects.pop()


def _public_module(obj_type) -> Optional[str]:
    module = getattr(obj_type, "__module__", "") or ""
    if module.startswith("tensorweave.keras"):
        return getattr(obj_type, "_keras_module", "keras")
    return None


def serialize_keras_object(obj) -> Any:
    """`obj` as Keras 3's JSON-ready structure."""
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if hasattr(obj, "as_list") and hasattr(obj, "rank"):  # a TensorShape
        return obj.as_list() if obj.rank is not None else None
    if hasattr(obj, "is_floating") and hasattr(obj, "as_numpy_dtype"):  # a DType
        return obj.name
    if isinstance(obj, (types.FunctionType, types.BuiltinFunctionType, types.MethodType)):
        if obj.__name__ == "<lambda>":
            warnings.warn("The object being serialized includes a `lambda`. This is unsafe. In "
                          "order to reload the object, you will have to pass `safe_mode=False` "
                          "to the loading function.", stacklevel=2)
            return {"module": "builtins", "class_name": "__lambda__",
                    "config": {"code": None}, "registered_name": "__lambda__"}
        return {"module": "builtins", "class_name": "function",
                "config": get_registered_name(obj), "registered_name": "function"}
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r}: it has no get_config() method.")
    cls = type(obj)
    public = _public_module(cls)
    config = {k: serialize_keras_object(v) for k, v in obj.get_config().items()}
    return {"module": public, "class_name": cls.__name__, "config": config,
            "registered_name": None if public is not None else get_registered_name(cls)}


def _from_public_module(module: Optional[str], class_name: str):
    if not module or not module.startswith("keras"):
        return None
    try:
        namespace = importlib.import_module("tensorweave." + module)
    except ImportError:
        return None
    return getattr(namespace, class_name, None)


def deserialize_keras_object(config, custom_objects: Optional[dict] = None,
                             module_objects: Optional[dict] = None,
                             printable_module_name: str = "object", safe_mode: bool = True):
    """The object `config` describes: a name, a Keras 3 dict or a legacy `{class_name, config}`."""
    if config is None or isinstance(config, (int, float, bool)):
        return config
    if isinstance(config, str):
        found = get_registered_object(config, custom_objects, module_objects)
        if found is None:
            raise ValueError(f"Could not interpret {printable_module_name} identifier: {config}")
        return found() if inspect.isclass(found) else found
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret {printable_module_name} identifier: {config}")
    class_name = config["class_name"]
    inner = config.get("config", {})
    if class_name == "__lambda__":
        raise ValueError("Requested the deserialization of a `lambda` object. This carries a "
                         "potential risk of arbitrary code execution and thus it is disallowed by "
                         "default. If you trust the source of the saved model, you can pass "
                         "`safe_mode=False` to the loading function in order to allow `lambda` "
                         "loading, or call `keras.config.enable_unsafe_deserialization()`.")
    if class_name == "function":
        found = get_registered_object(inner, custom_objects, module_objects)
        if found is None:
            raise ValueError(f"Could not interpret {printable_module_name} identifier: {inner}")
        return found
    cls = get_registered_object(config.get("registered_name") or class_name, custom_objects,
                                module_objects)
    if cls is None:
        cls = get_registered_object(class_name, custom_objects, module_objects)
    if cls is None:
        cls = _from_public_module(config.get("module"), class_name)
    if cls is None:
        raise TypeError(f"Could not locate class '{class_name}'. Make sure custom classes are "
                        f"decorated with `@keras.saving.register_keras_serializable()`, or pass "
                        f"them in `custom_objects`. Full object config: {config}")
    if not inspect.isclass(cls):
        return cls
    # nested objects in the config (a custom cell in an RNN...) find the same custom_objects
    with custom_object_scope(custom_objects or {}):
        return cls.from_config(inner) if hasattr(cls, "from_config") else cls(**inner)


def get_object(identifier, kind: str, module_objects: dict, custom_objects=None):
    """The `get()` of constraints, regularizers and initializers: None stays None; a name or
    a serialized dict gives that object (a class is instantiated); a callable (an instance, a
    plain function) is returned as it is; anything else is a ValueError of that `kind`."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        try:
            found = deserialize_keras_object(identifier, custom_objects=custom_objects,
                                             module_objects=module_objects,
                                             printable_module_name=kind)
        except TypeError as error:
            if not str(error).startswith("Could not locate"):
                raise
            found = None
    elif isinstance(identifier, str):
        found = get_registered_object(identifier, custom_objects, module_objects)
    else:
        found = identifier
    if callable(found):
        return found() if inspect.isclass(found) else found
    raise ValueError(f"Could not interpret {kind} identifier: {identifier}")
