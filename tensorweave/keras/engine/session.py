"""Keras-wide helpers: clear_session, is_keras_tensor, get_source_inputs."""
from __future__ import annotations

from tensorweave.keras.engine import naming
from tensorweave.keras.engine.keras_tensor import is_keras_tensor


def clear_session(free_memory: bool = True) -> None:
    """Resets the automatic layer names (`dense`, `dense_1`… start again)."""
    naming.reset_uids()


def get_source_inputs(tensor) -> list:
    """The `keras.Input` tensors `tensor` was computed from."""
    if not is_keras_tensor(tensor):
        return [tensor]
    operation, node_index, _ = tensor._keras_history
    node = operation._inbound_nodes[node_index]
    if node.is_input:
        return node.outputs
    sources = []
    for parent in node.input_tensors:
        for source in get_source_inputs(parent):
            if all(source is not s for s in sources):
                sources.append(source)
    return sources
