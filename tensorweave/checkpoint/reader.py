"""tf.train.load_checkpoint, list_variables and load_variable: a checkpoint's values by key."""
from __future__ import annotations

import os

from tensorweave.checkpoint import format as fmt
from tensorweave.checkpoint import state
from tensorweave.framework import dtypes
from tensorweave.framework.errors import NotFoundError


def _prefix(ckpt_dir_or_file) -> str:
    """A checkpoint prefix, or a directory's latest checkpoint."""
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path) and not fmt.checkpoint_exists(path):
        found = state.latest_checkpoint(path)
        if found is None:
            raise ValueError(f"Couldn't find 'checkpoint' file or checkpoints in given directory "
                             f"{path}")
        return found
    return path


class CheckpointReader:
    """The values of one checkpoint: `get_tensor(key)` and the maps of shapes and dtypes. The key
    `_CHECKPOINTABLE_OBJECT_GRAPH` holds the object graph (JSON bytes)."""

    def __init__(self, prefix: str):
        self._file = fmt.CheckpointFile(prefix)

    def has_tensor(self, tensor_str: str) -> bool:
        return tensor_str == fmt.OBJECT_GRAPH_KEY or self._file.has(tensor_str)

    def get_tensor(self, tensor_str: str):
        if tensor_str == fmt.OBJECT_GRAPH_KEY:
            return self._file.object_graph_bytes()
        value = self._file.value(tensor_str)
        return value[()] if value.ndim == 0 else value

    def get_variable_to_shape_map(self) -> dict:
        out = {key: list(self._file.shape(key)) for key in self._file.tensors}
        out[fmt.OBJECT_GRAPH_KEY] = []
        return out

    def get_variable_to_dtype_map(self) -> dict:
        out = {key: self._file.dtype(key) for key in self._file.tensors}
        out[fmt.OBJECT_GRAPH_KEY] = dtypes.string
        return out

    def debug_string(self) -> bytes:
        shapes = self.get_variable_to_shape_map()
        kinds = self.get_variable_to_dtype_map()
        return "".join(f"{key} ({kinds[key].name}) {shapes[key]}\n"
                       for key in sorted(shapes)).encode("utf-8")


def load_checkpoint(ckpt_dir_or_file) -> CheckpointReader:
    """A reader of the checkpoint (or of the latest checkpoint of a directory)."""
    return CheckpointReader(_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file) -> list:
    """[(key, shape)] of every value in the checkpoint, sorted by key."""
    reader = load_checkpoint(ckpt_dir_or_file)
    shapes = reader.get_variable_to_shape_map()
    return [(key, shapes[key]) for key in sorted(shapes)]


def load_variable(ckpt_dir_or_file, name: str):
    """The value (a NumPy array or scalar) stored under `name`."""
    if name.endswith(":0"):
        name = name[:-2]
    reader = load_checkpoint(ckpt_dir_or_file)
    if not reader.has_tensor(name):
        raise NotFoundError(None, None, f"Key {name} not found in checkpoint")
    return reader.get_tensor(name)

