"""Functional models: a graph of layer calls from `keras.Input`s to outputs, run in order."""
from __future__ import annotations

import inspect
from typing import Optional

from tensorweave.framework.convert import convert_to_tensor
from tensorweave.framework.tensor import Tensor
from tensorweave.keras.engine.input_layer import InputLayer
from tensorweave.keras.engine.input_spec import InputSpec, assert_input_compatibility
from tensorweave.keras.engine.keras_tensor import is_keras_tensor
from tensorweave.keras.engine.layer import _signature_of
from tensorweave.keras.engine.model import Model
from tensorweave.ops import array_ops, math_ops
from tensorweave.util import nest


def _check_tensors(structure, what: str, model_name) -> list:
    flat = nest.flatten(structure)
    for x in flat:
        if not is_keras_tensor(x):
            raise ValueError(f"All `{what}` values must be KerasTensors (made from `keras.Input` "
                             f"and layer calls). Received: {what}={structure} including invalid "
                             f"value {x!r} of type {type(x).__name__}")
        if x._keras_history is None:
            raise ValueError(f"The KerasTensor {x!r} in `{what}` was not made by a layer call "
                             "or `keras.Input`.")
    return flat


def map_graph(inputs: list, outputs: list):
    """The nodes, the nodes by depth (0 = outputs) and the layers in Keras's order, after
    checking that every output can be computed from `inputs`."""
    finished, in_progress = set(), set()
    ordered_nodes = []
    layer_index: dict = {}
    input_ids = {id(x) for x in inputs}

    def visit(tensor):
        operation, node_index, _ = tensor._keras_history
        node = operation._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor!r} from operation '{operation.name}' is part of a "
                             "cycle.")
        layer_index.setdefault(id(operation), (len(layer_index), operation))
        in_progress.add(id(node))
        if not node.is_input and id(tensor) not in input_ids:
            for parent_tensor in node.input_tensors:
                visit(parent_tensor)
        in_progress.discard(id(node))
        finished.add(id(node))
        ordered_nodes.append(node)

    for output in outputs:
        visit(output)

    node_depth: dict = {}
    layer_depth: dict = {}
    for node in reversed(ordered_nodes):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.operation), 0))
        layer_depth[id(node.operation)] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    nodes = {id(n): n for n in ordered_nodes}
    for x in inputs:  # inputs that no output uses still belong to the model
        operation = x._keras_history.operation
        if id(operation) not in layer_depth:
            layer_depth[id(operation)] = 0
            layer_index[id(operation)] = (-1, operation)
            node = operation._inbound_nodes[0]
            node_depth[id(node)] = 0
            nodes[id(node)] = node

    nodes_by_depth: dict = {}
    for node_id, depth in node_depth.items():
        if node_id in nodes:
            nodes_by_depth.setdefault(depth, []).append(nodes[node_id])
    layers_by_depth: dict = {}
    for layer_id, depth in layer_depth.items():
        layers_by_depth.setdefault(depth, []).append(layer_index[layer_id][1])
    operations = []
    for depth in sorted(layers_by_depth, reverse=True):
        operations.extend(sorted(layers_by_depth[depth],
                                 key=lambda op: layer_index[id(op)][0]))

    computable = set(input_ids)
    done_layers = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if not node.is_input:
                for x in node.input_tensors:
                    if id(x) not in computable:
                        raise ValueError(
                            f"Graph disconnected: cannot find parent for KerasTensor {x!r} at "
                            f"layer '{node.operation.name}'. The following previous layers were "
                            f"accessed without issue: {done_layers}. Every input of the model "
                            "must be a `keras.Input` passed in `inputs`.")
            if not node.is_input or any(id(x) in input_ids for x in node.outputs):
                computable.update(id(x) for x in node.outputs)
            done_layers.append(node.operation.name)

    names = [op.name for op in operations]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. '
                             "All layer names should be unique.")
    return nodes_by_depth, operations


class Functional(Model):
    """`keras.Model(inputs, outputs)`: a model defined by the graph of its layer calls."""

    # Keras writes this class under its source module (it has no public name)
    _keras_module = "keras.src.models.functional"

    def __init__(self, inputs, outputs, name: Optional[str] = None, **kwargs):
        if isinstance(inputs, dict) and not inputs:
            raise ValueError("`inputs` cannot be empty.")
        accepted = {k: kwargs.pop(k) for k in ("trainable", "dtype") if k in kwargs}
        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments passed to Model: {kwargs}")
        Model.__init__(self, name=name, **accepted)
        flat_inputs = _check_tensors(inputs, "inputs", name)
        flat_outputs = _check_tensors(outputs, "outputs", name)
        for x in flat_inputs:
            operation = x._keras_history.operation
            if not isinstance(operation, InputLayer):
                raise ValueError(
                    "Functional model inputs must come from `keras.Input` (thus holding past "
                    "layer metadata). They cannot be the output of a previous non-Input layer. "
                    f"Here, a tensor specified as input to '{self.name}' was not an Input tensor, "
                    f"it was generated by layer '{operation.name}'. Received inputs={inputs}.")
        nodes_by_depth, operations = map_graph(flat_inputs, flat_outputs)
        set_ = object.__setattr__
        set_(self, "_inputs_struct", nest.map_structure(lambda x: x, inputs))
        set_(self, "_outputs_struct", nest.map_structure(lambda x: x, outputs))
        set_(self, "_inputs", flat_inputs)
        set_(self, "_outputs", flat_outputs)
        set_(self, "_nodes_by_depth", nodes_by_depth)
        set_(self, "_operations", operations)
        for operation in operations:
            self._track_value(operation)
        # checked in `call`, after inputs given by name are put in order
        self._input_specs = [InputSpec(shape=(None,) + tuple(x.shape[1:]),
                                     allow_last_axis_squeeze=True,
                                     name=x._keras_history.operation.name)
                           for x in flat_inputs]
        self.built = True

    # -- structure ------------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        return list(self._operations)

    inputs = property(lambda self: list(self._inputs))
    outputs = property(lambda self: list(self._outputs))

    @property
    def input(self):
        return self._inputs_struct

    @property
    def output(self):
        return self._outputs_struct

    @property
    def input_names(self) -> list:
        return [x._keras_history.operation.name for x in self._inputs]

    @property
    def output_names(self) -> list:
        return [x._keras_history.operation.name for x in self._outputs]

    # -- running --------------------------------------------------------------------------------
    def _flatten_inputs(self, inputs) -> list:
        struct = self._inputs_struct
        names = self.input_names
        if isinstance(inputs, dict) and not isinstance(struct, dict):
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(f"Missing data for input(s) {missing} of model '{self.name}'. "
                                 f"Expected the keys {names}; received the keys "
                                 f"{sorted(inputs)}.")
            return [inputs[n] for n in names]
        if isinstance(struct, dict):
            if not isinstance(inputs, dict):
                raise ValueError(f"Model '{self.name}' expects a dict of inputs with the keys "
                                 f"{sorted(struct)}; received {type(inputs).__name__}.")
            missing = [k for k in struct if k not in inputs]
            if missing:
                raise ValueError(f"Missing data for input(s) {missing} of model '{self.name}'. "
                                 f"Expected the keys {sorted(struct)}.")
            return nest.flatten({k: inputs[k] for k in struct})
        if len(self._inputs) == 1 and isinstance(inputs, (list, tuple)) and len(inputs) == 1 \
                and not isinstance(struct, (list, tuple)):
            inputs = inputs[0]
        flat = nest.flatten(inputs) if len(self._inputs) > 1 or isinstance(
            struct, (list, tuple)) else [inputs]
        if len(flat) != len(self._inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self._inputs)} input(s), but it '
                             f"received {len(flat)} input tensors.")
        return flat

    def _standardize_input(self, x, reference):
        if not isinstance(x, Tensor) and not hasattr(x, "_tf_components"):
            x = convert_to_tensor(x)
        if isinstance(x, Tensor):
            if x.dtype.name != reference.dtype and (x.dtype.is_floating or x.dtype.is_integer) \
                    and reference.dtype not in ("string",):
                x = math_ops.cast(x, reference.dtype)
            rank, expected = x.shape.rank, len(reference.shape)
            if rank is not None and rank == expected + 1 and x.shape[-1] == 1:
                x = array_ops.squeeze(x, axis=-1)
            elif rank is not None and rank == expected - 1 and expected > 1 \
                    and reference.shape[-1] == 1:
                x = array_ops.expand_dims(x, -1)
        return x

    def call(self, inputs, training=None, mask=None):
        flat = self._flatten_inputs(inputs)
        flat = [self._standardize_input(x, ref) for x, ref in zip(flat, self._inputs)]
        assert_input_compatibility(self._input_specs, flat, self.name)
        if mask is not None:
            for x, m in zip(flat, nest.flatten(mask)):
                if m is not None:
                    try:
                        x._keras_mask = m
                    except AttributeError:
                        pass

        def call_node(operation, *args, **kwargs):
            if training is not None and "training" not in kwargs \
                    and _signature_of(operation).has_training:
                kwargs["training"] = training
            return operation(*args, **kwargs)

        values = self._run_through_graph(flat, call_node)
        outputs = nest.pack_sequence_as(self._outputs_struct, values)
        # one output given in a list comes back bare, as Keras 3 returns it
        if isinstance(outputs, (list, tuple)) and len(outputs) == 1:
            return outputs[0]
        return outputs

    def _run_through_graph(self, flat_inputs: list, call_node, operation_fn=None) -> list:
        """The outputs of the graph on `flat_inputs`, each layer call made as
        `call_node(operation_fn(layer), *args, **kwargs)` in depth order."""
        values = {id(ref): x for ref, x in zip(self._inputs, flat_inputs)}

        def value_of(x):
            return values[id(x)] if is_keras_tensor(x) else x

        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input:
                    continue
                operation = node.operation if operation_fn is None \
                    else operation_fn(node.operation)
                args, kwargs = node.arguments
                outputs = call_node(operation, *nest.map_structure(value_of, args),
                                    **nest.map_structure(value_of, kwargs))
                for ref, value in zip(node.outputs, nest.flatten(outputs)):
                    values[id(ref)] = value
        return [values[id(x)] for x in self._outputs]

    # -- config (Keras 3's layout; Keras 2's node lists are read too) ---------------------------
    def get_config(self) -> dict:
        if not functional_like_constructor(type(self)):
            return Model.get_config(self)
        from tensorweave.keras.saving.serialization import serialize_keras_object
        own = {id(node) for nodes in self._nodes_by_depth.values() for node in nodes}

        def kept_index(operation, node_index: int, from_one: bool) -> int:
            # a model's node numbers count only its own nodes; in `input_layers` and
            # `output_layers` Keras 3 numbers a nested functional model's nodes from 1 (as if
            # its node 0 linked its own inputs to outputs), in the layer calls from 0
            kept = sum(1 for node in operation._inbound_nodes[:node_index] if id(node) in own)
            return kept + (1 if from_one and isinstance(operation, Functional) else 0)

        def tensor_config(x, from_one: bool = True):
            operation, node_index, tensor_index = x._keras_history
            return [operation.name, kept_index(operation, node_index, from_one), tensor_index]

        def node_config(node) -> dict:
            def encode(x):
                if not is_keras_tensor(x):
                    return serialize_keras_object(x)
                config = serialize_keras_object(x)
                config["config"]["keras_history"] = tensor_config(x, from_one=False)
                return config
            args, kwargs = node.arguments
            return {"args": [nest.map_structure(encode, a) for a in args],
                    "kwargs": {k: nest.map_structure(encode, v) for k, v in kwargs.items()}}

        layers = []
        for operation in self._operations:
            layer_config = serialize_keras_object(operation)
            layer_config["name"] = operation.name
            layer_config["inbound_nodes"] = [node_config(node) for node in operation._inbound_nodes
                                             if id(node) in own and not node.is_input]
            layers.append(layer_config)
        return {"name": self.name, "trainable": self.trainable, "layers": layers,
                "input_layers": nest.map_structure(tensor_config, self._inputs_struct),
                "output_layers": nest.map_structure(tensor_config, self._outputs_struct)}

    def get_build_config(self) -> None:
        return None  # built from its graph when its config is read

    @classmethod
    def from_config(cls, config: dict, custom_objects=None):
        if not all(key in config for key in ("layers", "input_layers", "output_layers")):
            return Model.from_config.__func__(cls, config, custom_objects)
        return functional_from_config(cls, config, custom_objects)


def functional_like_constructor(cls) -> bool:
    """Whether `cls(inputs=..., outputs=..., name=...)` rebuilds it (Keras's test)."""
    spec = inspect.getfullargspec(cls.__init__)
    if spec.args[1:] == inspect.getfullargspec(Functional.__init__).args[1:]:
        return True
    return spec.varargs is not None and spec.varkw is not None


def _node_arguments(node_data, created: dict):
    """The (args, kwargs) of one saved layer call. IndexError: a layer it reads from has not
    been called that often yet (its turn comes later)."""
    from tensorweave.keras.saving.serialization import deserialize_keras_object

    def output_of(name, node_index, tensor_index, keras2=False):
        if name not in created:
            raise ValueError(f"Invalid Functional model configuration. Missing node: {name}")
        layer = created[name]
        if keras2 and isinstance(layer, Functional):  # Keras 3 numbers calls from 0
            node_index -= 1
        if len(layer._inbound_nodes) <= node_index:
            raise IndexError(f"Layer '{name}' has no node {node_index} yet.")
        return layer._inbound_nodes[node_index].outputs[tensor_index]

    if not node_data:
        return [], {}
    if isinstance(node_data, list):  # Keras 2: [[layer name, node index, tensor index, kwargs]]
        tensors, kwargs = [], {}
        for entry in node_data:
            if len(entry) not in (3, 4):
                raise ValueError("Cannot deserialize the model (invalid config data?)")
            name, node_index, tensor_index = entry[:3]
            if _keras2_counts_own_node(created.get(name)):
                node_index -= 1
            tensors.append(output_of(name, node_index, tensor_index, keras2=True))
            kwargs = entry[3] if len(entry) == 4 else {}
        return [tensors[0] if len(tensors) == 1 else tensors], dict(kwargs)
    args = deserialize_keras_object(node_data["args"])
    kwargs = deserialize_keras_object(node_data["kwargs"])

    def revive(x):
        history = getattr(x, "_pre_serialization_keras_history", None)
        if is_keras_tensor(x) and history is not None:
            return output_of(*history)
        return x

    return nest.map_structure(revive, args), nest.map_structure(revive, kwargs)


def _keras2_counts_own_node(layer) -> bool:
    """tf.keras 2 numbered a nested Sequential that starts with an InputLayer from 1, as a
    functional model (its node 0 links its own input to its output)."""
    from tensorweave.keras.engine.sequential import Sequential
    return isinstance(layer, Sequential) and bool(layer._stack) \
        and isinstance(layer._stack[0], InputLayer)


def functional_from_config(cls, config: dict, custom_objects=None):
    """Makes the layers of a functional model's config, then replays their calls in order;
    a call whose inputs do not exist yet (a layer shared at several depths) waits its turn."""
    from tensorweave.keras.saving.serialization import deserialize_keras_object
    config = dict(config)
    layer_configs = config.pop("layers")
    created, pending = {}, {}
    for layer_data in layer_configs:
        layer = deserialize_keras_object(layer_data, custom_objects=custom_objects)
        if not hasattr(layer, "_inbound_nodes"):
            raise ValueError("Unexpected object from deserialization, expected a layer or "
                             f"operation, got a {type(layer)}")
        created[layer_data["name"]] = layer
        pending[layer_data["name"]] = list(layer_data.get("inbound_nodes") or [])
    while any(pending.values()):
        progress = False
        for layer_data in layer_configs:
            name = layer_data["name"]
            queue = pending[name]
            while queue:
                try:
                    args, kwargs = _node_arguments(queue[0], created)
                except IndexError:
                    break
                created[name](*args, **kwargs)
                queue.pop(0)
                progress = True
        if not progress:
            raise ValueError("Invalid Functional model configuration. The graph of the "
                             "Functional model either has loops or disconnected nodes. The "
                             "following nodes failed to be resolved: "
                             f"{ {k: v for k, v in pending.items() if v} }")

    keras2 = any(isinstance(node, list) for layer_data in layer_configs
                 for node in layer_data.get("inbound_nodes") or [])

    def tensor(entry):
        if isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str):
            name, node_index, tensor_index = entry
            layer = created.get(name)
            if layer is None:
                raise ValueError(f"Invalid Functional model configuration: no layer '{name}'.")
            if isinstance(layer, Functional) or (keras2 and _keras2_counts_own_node(layer)):
                node_index -= 1
            return layer._inbound_nodes[node_index].outputs[tensor_index]
        if isinstance(entry, dict):
            return {k: tensor(v) for k, v in entry.items()}
        if isinstance(entry, tuple):
            return tuple(tensor(v) for v in entry)
        return [tensor(v) for v in entry]

    inputs = tensor(config.pop("input_layers"))
    outputs = tensor(config.pop("output_layers"))
    name = config.pop("name", None)
    trainable = config.pop("trainable", None)
    config.pop("dtype", None)
    model = cls(inputs=inputs, outputs=outputs, name=name, **config)
    if trainable is not None:
        model.trainable = trainable
    return model
