"""The files of one checkpoint: `<prefix>.index` (JSON) and `<prefix>.data-00000-of-00001` (bytes).

Writing is atomic per file (a temporary file in the same directory, then `os.replace`), the data
file first and the index last: a checkpoint exists once its index does. Reading checks the
format, the data file's size and every tensor's CRC-32 before a value is returned.
"""
from __future__ import annotations

import json
import os
import sys
import zlib

import numpy as np

from tensorweave.framework import dtypes
from tensorweave.framework.errors import DataLossError, NotFoundError
from tensorweave.util.atomic_file import atomic_path

FORMAT = "tensorweave.checkpoint"
VERSION = 1
DATA_SUFFIX = ".data-00000-of-00001"
INDEX_SUFFIX = ".index"
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"


# -- encoding one value -------------------------------------------------------------------------
def encode(array: np.ndarray, dtype: dtypes.DType) -> bytes:
    """The bytes of a value: little-endian, C order; strings as (uint64 length, bytes) pairs."""
    if dtype == dtypes.string:
        parts = []
        for item in np.asarray(array, dtype=object).reshape(-1):
            item = item.encode("utf-8") if isinstance(item, str) else bytes(item)
            parts.append(np.uint64(len(item)).astype("<u8").tobytes())
            parts.append(item)
        return b"".join(parts)
    array = np.ascontiguousarray(array, dtype=dtype.as_numpy_dtype)
    if array.dtype.kind in "biufc" and array.dtype.byteorder not in "<|" and \
            not (array.dtype.byteorder == "=" and sys.byteorder == "little"):
        array = array.astype(array.dtype.newbyteorder("<"))
    return array.tobytes()


def decode(buffer: bytes, dtype: dtypes.DType, shape) -> np.ndarray:
    shape = tuple(shape)
    if dtype == dtypes.string:
        items = []
        at = 0
        for _ in range(int(np.prod(shape, dtype=np.int64))):
            length = int(np.frombuffer(buffer, dtype="<u8", count=1, offset=at)[0])
            at += 8
            items.append(bytes(buffer[at:at + length]))
            at += length
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out.reshape(shape)
    numpy_dtype = np.dtype(dtype.as_numpy_dtype)
    if numpy_dtype.kind in "biufc":
        numpy_dtype = numpy_dtype.newbyteorder("<")
    array = np.frombuffer(buffer, dtype=numpy_dtype).reshape(shape)
    return array.astype(dtype.as_numpy_dtype)  # native byte order, and a writable copy


# -- writing -------------------------------------------------------------------------------------
def _write_tensor(stream, data: bytes) -> None:
    """Appends one tensor's bytes to the data file being written."""
    stream.write(data)


def write_atomically(path: str, write) -> None:
    """Calls `write(stream)` on a temporary file next to `path`, then renames it to `path`; on
    any error the temporary file is removed and `path` is untouched."""
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as stream:
            write(stream)
            stream.flush()
            os.fsync(stream.fileno())


def write_checkpoint(prefix: str, object_graph: list, values: dict) -> None:
    """Writes the checkpoint `prefix`: `values` maps each key to (array, DType)."""
    directory = os.path.dirname(prefix)
    if directory:
        os.makedirs(directory, exist_ok=True)
    entries = {}
    encoded = []
    offset = 0
    for key, (array, dtype) in values.items():
        data = encode(array, dtype)
        entries[key] = {"dtype": dtype.name, "shape": [int(d) for d in np.shape(array)],
                        "offset": offset, "size": len(data), "crc32": zlib.crc32(data)}
        encoded.append(data)
        offset += len(data)

    def write_data(stream):
        for data in encoded:
            _write_tensor(stream, data)

    index = {"format": FORMAT, "version": VERSION,
             "data_file": os.path.basename(prefix) + DATA_SUFFIX, "data_size": offset,
             "tensors": entries, "object_graph": object_graph}
    text = json.dumps(index, indent=1, ensure_ascii=False).encode("utf-8")
    write_atomically(prefix + DATA_SUFFIX, write_data)
    write_atomically(prefix + INDEX_SUFFIX, lambda stream: stream.write(text))


# -- reading -------------------------------------------------------------------------------------
def not_found_message(prefix: str) -> str:
    return (f"Unsuccessful TensorSliceReader constructor: Failed to find any matching files for "
            f"{prefix}")


def checkpoint_exists(prefix: str) -> bool:
    return os.path.isfile(prefix + INDEX_SUFFIX)


class CheckpointFile:
    """One checkpoint opened for reading: its object graph and its tensors."""

    def __init__(self, prefix: str):
        prefix = os.fspath(prefix)
        if os.path.isdir(prefix) and not checkpoint_exists(prefix):
            raise DataLossError(None, None, f"Unable to open table file {prefix}: "
                                f"FAILED_PRECONDITION: {prefix}; Is a directory: perhaps your "
                                "file is in a different file format and you need to use a "
                                "different restore operator?")
        if not checkpoint_exists(prefix):
            raise NotFoundError(None, None, not_found_message(prefix))
        self.prefix = prefix
        with open(prefix + INDEX_SUFFIX, "rb") as stream:
            raw = stream.read()
        try:
            index = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            index = None
        if not isinstance(index, dict) or index.get("format") != FORMAT:
            raise DataLossError(None, None, f"Unable to read checkpoint {prefix}: "
                                f"{prefix}{INDEX_SUFFIX} is not a tensorweave checkpoint index "
                                "(TensorFlow's own checkpoint format is not read by tensorweave)")
        if index.get("version") != VERSION:
            raise DataLossError(None, None, f"Checkpoint {prefix} has format version "
                                f"{index.get('version')}; this tensorweave reads version "
                                f"{VERSION}.")
        try:
            self.tensors = {key: (dtypes.as_dtype(entry["dtype"]), tuple(entry["shape"]),
                                  int(entry["offset"]), int(entry["size"]), int(entry["crc32"]))
                            for key, entry in index["tensors"].items()}
            self.object_graph = index["object_graph"]
            self._data_path = os.path.join(os.path.dirname(prefix), index["data_file"])
            self._data_size = int(index["data_size"])
            count = len(self.object_graph)
            for node in self.object_graph:
                for name, child in node.get("children", ()):
                    if not isinstance(name, str) or not 0 <= int(child) < count:
                        raise ValueError(f"bad dependency {name!r} -> {child!r}")
                if "key" in node and node["key"] not in self.tensors:
                    raise ValueError(f"no value for key {node['key']!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DataLossError(None, None, f"The index of checkpoint {prefix} is corrupted: "
                                f"{error!r}") from None
        self._data = None

    def _bytes(self) -> bytes:
        if self._data is None:
            try:
                with open(self._data_path, "rb") as stream:
                    data = stream.read()
            except OSError as error:
                raise DataLossError(None, None, f"Unable to read the data file of checkpoint "
                                    f"{self.prefix}: {error}") from None
            if len(data) != self._data_size:
                raise DataLossError(None, None, f"The data file {self._data_path} of checkpoint "
                                    f"{self.prefix} has {len(data)} bytes, its index says "
                                    f"{self._data_size}: the file is truncated or was replaced.")
            self._data = data
        return self._data

    def object_graph_bytes(self) -> bytes:
        return json.dumps(self.object_graph, sort_keys=True).encode("utf-8")

    def has(self, key: str) -> bool:
        return key in self.tensors

    def dtype(self, key: str) -> dtypes.DType:
        return self.tensors[key][0]

    def shape(self, key: str) -> tuple:
        return self.tensors[key][1]

    def value(self, key: str) -> np.ndarray:
        """The stored array of `key` (NotFoundError when absent, DataLossError when damaged)."""
        if key not in self.tensors:
            raise NotFoundError(None, None, f"Key {key} not found in checkpoint")
        dtype, shape, offset, size, crc = self.tensors[key]
        data = self._bytes()[offset:offset + size]
        if len(data) != size or zlib.crc32(data) != crc:
            raise DataLossError(None, None, f"Checksum does not match: stored {crc} vs. "
                                f"calculated on the restored bytes {zlib.crc32(data)} for "
                                f"tensor {key} of checkpoint {self.prefix}")
        try:
            return decode(data, dtype, shape)
        except (ValueError, IndexError) as error:
            raise DataLossError(None, None, f"Tensor {key} of checkpoint {self.prefix} cannot "
                                f"be decoded: {error}") from None
