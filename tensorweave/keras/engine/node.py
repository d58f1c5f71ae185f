"""Node: one call of a layer on KerasTensors, the edge set of a functional model's graph."""
from __future__ import annotations

from tensorweave.keras.engine.keras_tensor import KerasHistory, is_keras_tensor
from tensorweave.util import nest


def keras_tensors_in(structure) -> list:
    return [x for x in nest.flatten(structure) if is_keras_tensor(x)]


class Node:
    """A layer called on some KerasTensors (in `args`, `kwargs`) giving `outputs`."""

    def __init__(self, operation, call_args=(), call_kwargs=None, outputs=None):
        self.operation = operation
        self.arguments = (tuple(call_args), dict(call_kwargs or {}))
        self.input_tensors = keras_tensors_in(self.arguments)
        self.output_structure = outputs
        self.outputs = keras_tensors_in(outputs)
        self.input_structure = call_args[0] if call_args else None
        self.is_input = not self.input_tensors
        node_index = len(operation._inbound_nodes)
        operation._inbound_nodes.append(self)
        for tensor in self.input_tensors:
            history = tensor._keras_history
            if history is not None:
                history.operation._outbound_nodes.append(self)
        for index, tensor in enumerate(self.outputs):
            tensor._keras_history = KerasHistory((operation, node_index, index))

    output_tensors = property(lambda self: self.outputs)

    @property
    def parent_nodes(self) -> list:
        parents = []
        for tensor in self.input_tensors:
            history = tensor._keras_history
            if history is not None:
                node = history.operation._inbound_nodes[history.node_index]
                if all(node is not p for p in parents):
                    parents.append(node)
        return parents

    def __repr__(self):
        return f"<Node of {self.operation.name}: {len(self.input_tensors)} in, " \
               f"{len(self.outputs)} out>"
