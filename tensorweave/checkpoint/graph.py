"""The object graph: which objects a checkpoint holds, under which names.

Every object is a node; its dependencies are named edges:
- a `Checkpoint`: its keyword arguments and the trackable attributes set on it later, the
  dependencies of its `root`, and `save_counter` once that exists;
- a Keras layer or model: its tracked attributes (sub-layers, variables, lists and dicts of
  them), then its weights not held by an attribute (by weight name), then its sub-layers not
  held by an attribute as `layer-<i>` (i counts the sub-layers, input layers aside: a Sequential
  model's stack), then `optimizer` for a compiled model;
- a Keras optimizer: its variables held by attributes (`_iterations`, `_learning_rate`...) and
  any other non-slot variable as `variable-<i>`; its slot variables are not edges: each is
  recorded as (model variable, slot name) (see `optimizer_slots`), as TensorFlow does;
- a list or tuple: its items by index; a dict: its values by (string) key;
- any other object: its attributes that hold state.
A variable is a leaf holding a value.
"""
from __future__ import annotations

import types
from collections import deque

import numpy as np

from tensorweave.framework.tensor import Tensor
from tensorweave.framework.variables import Variable

_PLAIN = (str, bytes, bytearray, int, float, complex, bool, type(None), np.ndarray, np.generic,
          Tensor, type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
          types.MethodType, types.BuiltinMethodType)
_CONTAINERS = (list, tuple, dict)

_KERAS = None


def keras_classes():
    """(Layer, InputLayer, Optimizer, Metric), imported on first use (Keras imports us)."""
    global _KERAS
    if _KERAS is None:
        from tensorweave.keras.engine.input_layer import InputLayer
        from tensorweave.keras.engine.layer import Layer
        from tensorweave.keras.metrics.metric import Metric
        from tensorweave.keras.optimizers.base_optimizer import Optimizer
        _KERAS = (Layer, InputLayer, Optimizer, Metric)
    return _KERAS


def is_variable(value) -> bool:
    return isinstance(value, Variable)


def is_optimizer(value) -> bool:
    return isinstance(value, keras_classes()[2])


def _known(value) -> bool:
    """An object that is a node whatever it holds."""
    if hasattr(type(value), "_checkpoint_children"):
        return True
    layer, input_layer, optimizer, metric = keras_classes()
    return isinstance(value, (layer, optimizer, metric)) and not isinstance(value, input_layer)


def has_state(value, skip_metrics: bool = False, _depth: int = 0, _seen=None) -> bool:
    """Whether `value` is, or holds, something a checkpoint saves."""
    if isinstance(value, Variable):
        return True
    if isinstance(value, _PLAIN):
        return False
    if isinstance(value, dict):
        return any(has_state(v, skip_metrics, _depth, _seen) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_state(v, skip_metrics, _depth, _seen) for v in value)
    layer, input_layer, optimizer, metric = keras_classes()
    if isinstance(value, input_layer) or (skip_metrics and isinstance(value, metric)):
        return False
    if _known(value):
        return True
    attributes = getattr(value, "__dict__", None)
    if not isinstance(attributes, dict) or _depth >= 4:
        return False
    _seen = set() if _seen is None else _seen
    if id(value) in _seen:
        return False
    _seen.add(id(value))
    return any(has_state(v, skip_metrics, _depth + 1, _seen)
               for k, v in list(attributes.items()) if not k.startswith("__"))


def is_trackable_value(value) -> bool:
    """What `Checkpoint(name=value)` accepts: a variable, a trackable object, a structure."""
    if isinstance(value, (Variable,) + _CONTAINERS):
        return True
    if isinstance(value, _PLAIN):
        return False
    return _known(value) or isinstance(getattr(value, "__dict__", None), dict)


# -- dependencies --------------------------------------------------------------------------------
class _Names:
    def __init__(self):
        self.items: list = []
        self._used: set = set()

    def add(self, name: str, value) -> None:
        if name not in self._used:
            self._used.add(name)
            self.items.append((name, value))

    def unique(self, name: str) -> str:
        candidate, i = name, 1
        while candidate in self._used:
            candidate, i = f"{name}_{i}", i + 1
        return candidate


def _reached(value, out: set) -> None:
    """The ids of `value` and what its containers hold (not what objects hold)."""
    out.add(id(value))
    if isinstance(value, dict):
        for v in value.values():
            _reached(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _reached(v, out)


def variable_short_name(variable) -> str:
    name = getattr(variable, "_name", None) or str(variable.name)
    return name[:-2] if name.endswith(":0") else name


def _layer_children(layer) -> list:
    layer_class, input_layer, optimizer_class, metric = keras_classes()
    names = _Names()
    reached: set = set()
    for name, value in layer.__dict__.get("_tracked_attrs", {}).items():
        if value is layer or not has_state(value, skip_metrics=True):
            continue
        names.add(name, value)
        _reached(value, reached)
    for variable in layer._trainable_variables + layer._non_trainable_variables:
        if id(variable) not in reached:
            reached.add(id(variable))
            names.add(names.unique(variable_short_name(variable)), variable)
    index = 0
    for sub in layer._layers:
        if isinstance(sub, input_layer) or sub is layer:
            continue
        if id(sub) not in reached:
            names.add(f"layer-{index}", sub)
        index += 1
    optimizer = layer.__dict__.get("optimizer")
    if isinstance(optimizer, optimizer_class):
        names.add("optimizer", optimizer)
    return names.items


def reference_prefix(variable) -> str:
    """The start of the names Keras gives the slots of `variable` (add_variable_from_reference)."""
    if hasattr(variable, "path"):
        return variable.path.replace("/", "_")
    return str(variable.name).replace("/", "_").replace(":", "_")


def optimizer_slots(optimizer) -> list:
    """(model variable, slot name, slot variable, named) of a built optimizer: a slot is an item
    of a list attribute parallel to the optimizer's trainable variables. Its slot name is the
    end of its variable name after the model variable's (`momentum`, `velocity`: named=True),
    else the list attribute's name."""
    trainable = optimizer.__dict__.get("_trainable_variables") or []
    if not trainable:
        return []
    own = {id(v) for v in optimizer.__dict__.get("_variables", ())}
    out = []
    seen: set = set()
    for attribute, value in list(vars(optimizer).items()):
        if attribute in ("_trainable_variables", "_variables") or \
                not isinstance(value, (list, tuple)) or len(value) != len(trainable):
            continue
        if not any(v is not None for v in value) or not all(
                v is None or (isinstance(v, Variable) and id(v) in own) for v in value):
            continue
        for reference, slot in zip(trainable, value):
            if slot is None or id(slot) in seen:
                continue
            seen.add(id(slot))
            prefix = reference_prefix(reference) + "_"
            name = variable_short_name(slot)
            if name.startswith(prefix) and len(name) > len(prefix):
                out.append((reference, name[len(prefix):], slot, True))
            else:
                out.append((reference, attribute, slot, False))
    return out


def _optimizer_children(optimizer) -> list:
    names = _Names()
    own = optimizer.__dict__.get("_variables", [])
    own_ids = {id(v) for v in own}
    slots = {id(s) for _, _, s, _ in optimizer_slots(optimizer)}
    reached: set = set()
    for name, value in list(vars(optimizer).items()):
        if isinstance(value, Variable) and id(value) in own_ids and id(value) not in slots:
            names.add(name, value)
            reached.add(id(value))
    for i, variable in enumerate(own):
        if id(variable) not in reached and id(variable) not in slots:
            reached.add(id(variable))
            names.add(f"variable-{i}", variable)
    return names.items


def children(obj) -> list:
    """The named dependencies of `obj`, in order: [(name, object)]."""
    if isinstance(obj, Variable):
        return []
    if hasattr(type(obj), "_checkpoint_children"):
        return obj._checkpoint_children()
    if isinstance(obj, dict):
        out = []
        for key, value in obj.items():
            if not has_state(value):
                continue
            if not isinstance(key, str):
                raise ValueError(f"Unable to save the object {obj!r} (a dictionary tracked by a "
                                 "checkpoint): it has a non-string key which maps to a trackable "
                                 "object. Use string keys, or keep the dictionary out of the "
                                 "checkpoint.")
            out.append((key, value))
        return out
    if isinstance(obj, (list, tuple)):
        return [(str(i), v) for i, v in enumerate(obj) if has_state(v)]
    layer_class, input_layer, optimizer_class, metric = keras_classes()
    if isinstance(obj, layer_class):
        return _layer_children(obj)
    if isinstance(obj, optimizer_class):
        return _optimizer_children(obj)
    attributes = getattr(obj, "__dict__", None)
    if not isinstance(attributes, dict):
        return []
    return [(k, v) for k, v in list(attributes.items())
            if not k.startswith("__") and v is not obj and has_state(v)]


def kind(obj) -> str:
    if isinstance(obj, Variable):
        return "variable"
    if isinstance(obj, dict):
        return "dict"
    if isinstance(obj, (list, tuple)):
        return "list"
    layer_class, input_layer, optimizer_class, metric = keras_classes()
    if isinstance(obj, layer_class):
        return "layer"
    if isinstance(obj, optimizer_class):
        return "optimizer"
    if hasattr(type(obj), "_checkpoint_children"):
        return "checkpoint"
    return "object"


# -- keys ----------------------------------------------------------------------------------------
def escape(name: str) -> str:
    """A dependency name inside a key: `.` doubled, `/` as `.S` (TensorFlow's escaping)."""
    return name.replace(".", "..").replace("/", ".S")


def path_key(path) -> str:
    return "/".join(escape(p) for p in path)


def value_key(path) -> str:
    prefix = path_key(path)
    return f"{prefix}/.ATTRIBUTES/VARIABLE_VALUE" if prefix else ".ATTRIBUTES/VARIABLE_VALUE"


def slot_key(reference_path, optimizer_path, slot_name: str) -> str:
    return (f"{path_key(reference_path)}/.OPTIMIZER_SLOT/{path_key(optimizer_path)}/"
            f"{escape(slot_name)}/.ATTRIBUTES/VARIABLE_VALUE")


def dotted(path) -> str:
    return "(root)" + "".join("." + p for p in path)


# -- the graph of a save -------------------------------------------------------------------------
def live_objects(root, skip_slots: bool = False):
    """Breadth first from `root`: (objects, paths, children per object, slots per optimizer)."""
    objects = [root]
    ids = {id(root): 0}
    paths = [[]]
    edges = []
    queue = deque([0])
    while queue:
        node = queue.popleft()
        obj = objects[node]
        out = []
        for name, child in children(obj):
            found = ids.get(id(child))
            if found is None:
                found = ids[id(child)] = len(objects)
                objects.append(child)
                paths.append(paths[node] + [name])
                queue.append(found)
            out.append([name, found])
        edges.append(out)
    slots = {}
    if not skip_slots:
        for node in range(len(objects)):
            if not is_optimizer(objects[node]):
                continue
            entries = []
            for reference, slot_name, slot, named in optimizer_slots(objects[node]):
                original = ids.get(id(reference))
                if original is None:  # a slot is saved with its model variable only
                    continue
                found = ids.get(id(slot))
                if found is None:
                    found = ids[id(slot)] = len(objects)
                    objects.append(slot)
                    paths.append(None)
                    edges.append([])
                entries.append((original, slot_name, found, named))
            slots[node] = entries
    return objects, ids, paths, edges, slots


def snapshot(root, skip_slots: bool = False):
    """The object graph of `root` as saved, and the values to write: {key: (array, DType)}."""
    objects, ids, paths, edges, slots = live_objects(root, skip_slots)
    keys = {}
    for node, obj in enumerate(objects):
        if isinstance(obj, Variable) and paths[node] is not None:
            keys[node] = value_key(paths[node])
    for node, entries in slots.items():
        for original, slot_name, found, named in entries:
            if found not in keys:
                keys[found] = slot_key(paths[original], paths[node], slot_name)
    nodes = []
    values = {}
    for node, obj in enumerate(objects):
        record = {"kind": kind(obj), "class": type(obj).__name__, "children": edges[node]}
        if isinstance(obj, Variable):
            key = keys[node]
            record["key"] = key
            values[key] = (np.array(obj._value, copy=True), obj.dtype)
        if node in slots:
            record["slots"] = [[o, n, s, named] for o, n, s, named in slots[node]]
            record["variables"] = [ids.get(id(v)) for v in obj.__dict__.get("_variables", ())]
        nodes.append(record)
    return nodes, values
